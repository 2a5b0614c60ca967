/* modes_asm.S - code for modes.c: a 32-bit compatibility-mode routine
 * reached by a far call from 64-bit mode, and one that leaves long mode for
 * legacy protected mode (paging off) and comes back. */
#include "guest_asm.h"

    .text
/* uint32_t compat_probe(void): far call into the 32-bit segment. Returns
 * 6 | (bytes one PUSH took) << 8: 0x40 must be INC EAX there, and PUSH 4 bytes. */
    .globl compat_probe
compat_probe:
    push %rbx
    lcall *compat_probe_ptr(%rip)
    pop %rbx
    ret

/* uint32_t compat_segbase(uint32_t off): read DS:off in compatibility mode
 * with DS = SEL_FREE (a data segment with base 0x1000, set up by modes.c). */
    .globl compat_segbase
compat_segbase:
    push %rbx
    mov %edi, %ebx
    lcall *compat_segbase_ptr(%rip)
    pop %rbx
    ret

/* uint32_t leave_long_mode(void): in compatibility mode turn paging off
 * (EFER.LMA clears: legacy 32-bit protected mode), read EFER, turn paging on
 * again (LMA sets) and return to 64-bit mode. Returns EFER[31:0] as read
 * while paging was off. */
    .globl leave_long_mode
leave_long_mode:
    push %rbx
    lcall *leave_ptr(%rip)
    pop %rbx
    ret

    .code32
compat_probe_32:
    mov $5, %eax
    .byte 0x40                      /* INC EAX (a REX prefix in 64-bit mode) */
    mov %esp, %ecx
    push %eax
    sub %esp, %ecx
    pop %edx
    shl $8, %ecx
    or %ecx, %eax
    lret

compat_segbase_32:
    mov $SEL_FREE, %ax
    mov %ax, %ds
    mov (%ebx), %eax
    mov $SEL_KDATA, %cx
    mov %cx, %ds
    lret

leave_32:
    mov %cr0, %eax
    and $~CR0_PG, %eax
    mov %eax, %cr0                  /* long mode off: identity-mapped code keeps running */
    mov $MSR_EFER, %ecx
    rdmsr
    mov %eax, %ebx
    mov %cr0, %eax
    or $CR0_PG, %eax
    mov %eax, %cr0                  /* EFER.LME still set: back to IA-32e (compatibility) mode */
    mov %ebx, %eax
    lret

    .data
compat_probe_ptr:   .long compat_probe_32
                    .word SEL_KCODE32
compat_segbase_ptr: .long compat_segbase_32
                    .word SEL_KCODE32
leave_ptr:          .long leave_32
                    .word SEL_KCODE32
