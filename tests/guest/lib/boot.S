/* boot.S - Multiboot 1 header and the 32-bit entry of every test kernel:
 * identity-map the first 4 GiB with 2 MiB pages (PML4 -> PDPT -> 4 PDs),
 * enable PAE, EFER.LME and paging (with CR0.WP), load the GDT, far-jump to
 * 64-bit code, turn on SSE (CR0.EM=0, MP=1, CR4.OSFXSR/OSXMMEXCPT), and call
 * guest_start(multiboot info) in lib.c. The GDT layout is in guest.h. */
#include "guest_asm.h"

/* Page-aligned modules and memory info; built with -DMB_AOUT (boot_aout.o)
 * the header also carries its load addresses (flag 16, the "a.out kludge"),
 * so the kernel can be loaded as a flat binary. */
#ifdef MB_AOUT
#define MB_FLAGS 0x00010003
#else
#define MB_FLAGS 0x00000003
#endif
    .section .multiboot, "a"
    .align 4
mb_header:
    .long 0x1BADB002
    .long MB_FLAGS
    .long -(0x1BADB002 + MB_FLAGS)
#ifdef MB_AOUT
    .long mb_header                 /* header_addr */
    .long _load_start               /* load_addr */
    .long _edata                    /* load_end_addr */
    .long _end                      /* bss_end_addr */
    .long _start                    /* entry_addr */
#endif

    .section .text.boot, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    mov $boot_stack_top, %esp
    cmp $0x2BADB002, %eax
    jne bad_magic
    mov %ebx, mb_info_addr

    /* PML4[0] -> PDPT; PDPT[0..3] -> PD 0..3; PD entries map 2 MiB each.
     * U/S is set at every level so ring-3 tests can run on the identity map. */
    mov $pdpt + PTE_P + PTE_W + PTE_U, %eax
    mov %eax, pml4
    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $12, %eax
    add $pd + PTE_P + PTE_W + PTE_U, %eax
    mov %eax, pdpt(,%ecx,8)
    inc %ecx
    cmp $4, %ecx
    jne 1b
    xor %ecx, %ecx
2:  mov %ecx, %eax
    shl $21, %eax
    or $PTE_P + PTE_W + PTE_U + PTE_PS, %eax
    mov %eax, pd(,%ecx,8)
    mov %ecx, %eax
    shr $11, %eax                   /* bits 32+ of the 2 MiB frame: i >> 11 */
    mov %eax, pd+4(,%ecx,8)
    inc %ecx
    cmp $2048, %ecx
    jne 2b

    ENTER_IA32E CR0_WP              /* now in compatibility mode: EFER.LMA = 1 */
    lgdt gdt_ptr
    ljmp $SEL_KCODE, $long_entry

bad_magic:
    mov $0x7f, %al                  /* exit status 0xff: not booted by a Multiboot loader */
    out %al, $0xf4
3:  hlt
    jmp 3b

    .code64
long_entry:
    LOAD_KDATA_SEGS
    mov $boot_stack_top, %rsp
    mov %cr0, %rax
    and $~CR0_EM, %rax
    or $CR0_MP, %rax
    mov %rax, %cr0
    mov %cr4, %rax
    or $CR4_OSFXSR + CR4_OSXMMEXCPT, %rax
    mov %rax, %cr4
    mov mb_info_addr(%rip), %edi
    call guest_start
4:  hlt
    jmp 4b

    .data
    .align 16
    .globl gdt
gdt:
    .quad 0                         /* 0x00 null */
    .quad 0x00af9a000000ffff        /* 0x08 kernel code, 64-bit */
    .quad 0x00cf92000000ffff        /* 0x10 kernel data */
    .quad 0x00cffa000000ffff        /* 0x18 user code, 32-bit (SYSRET base) */
    .quad 0x00cff2000000ffff        /* 0x20 user data */
    .quad 0x00affa000000ffff        /* 0x28 user code, 64-bit */
    .quad 0x00cf9a000000ffff        /* 0x30 kernel code, 32-bit (compatibility mode) */
    .quad 0                         /* 0x38 TSS, low half (lib.c fills it) */
    .quad 0                         /* 0x40 TSS, high half */
    .quad 0, 0, 0, 0                /* 0x48-0x60 free for tests */
gdt_end:
    .globl gdt_ptr
gdt_ptr:
    .word gdt_end - gdt - 1
    .quad gdt

    .globl mb_info_addr
mb_info_addr:
    .long 0

    .bss
    .align 4096
    .globl pml4, pdpt, pd
pml4: .skip 4096
pdpt: .skip 4096
pd:   .skip 4 * 4096
    .align 16
boot_stack: .skip 16384
    .globl boot_stack_top
boot_stack_top:
