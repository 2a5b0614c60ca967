/* isr.S - interrupt entry stubs, the ring-3 trampoline and the SYSCALL entry.
 *
 * Stub n is at isr_stubs + 16 * n: it pushes a zero error code when the CPU
 * does not push one, then the vector, and joins isr_common, which saves the
 * general registers as a struct trap_frame (guest.h) and calls trap_dispatch.
 * The handler may edit the frame (RIP to resume elsewhere, registers). */
#include "guest_asm.h"

    .text
    .align 16
    .globl isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    .align 16
    .if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    .else
    pushq $0
    .endif
    pushq $vec
    jmp isr_common
    .set vec, vec + 1
    .endr

isr_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    call trap_dispatch
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp                   /* vector and error code */
    iretq

/* uint64_t user_call(void (*fn)(void), uint64_t user_rsp): run fn at CPL 3
 * (IRETQ with the 64-bit user code segment) until it comes back through
 * SYSCALL or a user_return() from an interrupt handler; returns its RAX. */
    .globl user_call
user_call:
    PUSH_CALLEE_SAVED
    mov %rsp, kernel_saved_rsp(%rip)
    pushq $SEL_UDATA + 3            /* SS */
    push %rsi                       /* RSP */
    pushq $0x2                      /* RFLAGS: IF=0, IOPL=0 */
    pushq $SEL_UCODE + 3            /* CS */
    push %rdi                       /* RIP */
    iretq

/* _Noreturn void user_return(uint64_t value): back to user_call's caller. */
    .globl user_return
user_return:
    mov %rdi, %rax
user_return_rax:
    mov kernel_saved_rsp(%rip), %rsp
    mov $SEL_KDATA, %cx
    mov %cx, %ds
    mov %cx, %es
    mov %cx, %ss
    POP_CALLEE_SAVED
    ret

/* SYSCALL lands here at CPL 0 with the user's RSP: record what the CPU
 * left in RCX, R11, RSP, CS and SS, then return RAX to user_call's caller. */
    .globl syscall_entry
syscall_entry:
    mov %rcx, sys_rcx(%rip)
    mov %r11, sys_r11(%rip)
    mov %rsp, sys_rsp(%rip)
    mov %cs, %rcx
    mov %rcx, sys_cs(%rip)
    mov %ss, %rcx
    mov %rcx, sys_ss(%rip)
    pushfq
    pop %rcx
    mov %rcx, sys_rflags(%rip)
    jmp user_return_rax

    .data
    .align 8
kernel_saved_rsp: .quad 0
    .globl sys_rcx, sys_r11, sys_rsp, sys_cs, sys_ss, sys_rflags
sys_rcx: .quad 0
sys_r11: .quad 0
sys_rsp: .quad 0
sys_cs: .quad 0
sys_ss: .quad 0
sys_rflags: .quad 0
