/* privilege_asm.S - ring-3 code for privilege.c (runs through user_call). */
#include "guest_asm.h"

    .text
/* SYSCALL with RAX = 42; the kernel (lib syscall_entry) never returns here. */
    .globl user_syscall, user_syscall_next
user_syscall:
    mov $42, %eax
    syscall
user_syscall_next:
    ud2

/* SYSCALL into lstar_sysret, which SYSRETs straight back; report CS and SS
 * after the return through INT 0x80 as RAX = CS | SS << 16. */
    .globl user_sysret
user_sysret:
    syscall
    mov %cs, %rax
    mov %ss, %rbx
    shl $16, %rbx
    or %rbx, %rax
    int $0x80

    .globl lstar_sysret
lstar_sysret:
    incq sysret_count(%rip)
    sysretq

/* INT 0x80 with RAX = 7 (a DPL-3 interrupt gate). */
    .globl user_int80
user_int80:
    mov $7, %eax
    int $0x80

/* INT 0x81: a DPL-3 gate with IST2. */
    .globl user_int81
user_int81:
    int $0x81

/* Privileged from ring 3: HLT must raise #GP(0). */
    .globl user_hlt
user_hlt:
    hlt
    int $0x80

/* INT 0x40 through a DPL-0 gate: #GP(0x40 * 8 + 2). */
    .globl user_int40
user_int40:
    int $0x40
    int $0x80

/* Store CS into user_cs (user-accessible memory) and return via INT 0x80. */
    .globl user_read_cs
user_read_cs:
    mov %cs, %rax
    int $0x80

    .data
    .globl sysret_count
sysret_count: .quad 0
