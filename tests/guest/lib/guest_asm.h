/* guest_asm.h - constants shared by the test kernels' assembly and C. */
#ifndef GUEST_ASM_H
#define GUEST_ASM_H

#define SEL_KCODE   0x08
#define SEL_KDATA   0x10
#define SEL_UCODE32 0x18
#define SEL_UDATA   0x20
#define SEL_UCODE   0x28
#define SEL_KCODE32 0x30
#define SEL_TSS     0x38
#define SEL_FREE    0x48 /* first GDT slot tests may use (4 slots) */

#define PTE_P   0x001
#define PTE_W   0x002
#define PTE_U   0x004
#define PTE_A   0x020
#define PTE_D   0x040
#define PTE_PS  0x080

#define CR0_PE  0x00000001
#define CR0_MP  0x00000002
#define CR0_EM  0x00000004
#define CR0_WP  0x00010000
#define CR0_PG  0x80000000
#define CR4_PAE 0x00000020
#define CR4_OSFXSR 0x00000200
#define CR4_OSXMMEXCPT 0x00000400
#define MSR_EFER 0xc0000080
#define EFER_SCE 0x00000001
#define EFER_LME 0x00000100
#define EFER_LMA 0x00000400
#define EFER_NXE 0x00000800

#ifdef __ASSEMBLER__
/* Sequences several kernels repeat in their assembly. */

/* All data segment registers (DS, ES, SS, FS, GS) = SEL_KDATA, through AX. */
.macro LOAD_KDATA_SEGS
    mov $SEL_KDATA, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %ax, %fs
    mov %ax, %gs
.endm

/* 32-bit code, paging off: IA-32e mode with the library's page tables (pml4).
 * CR3, CR4.PAE, EFER.LME, then CR0.PG (plus cr0_extra) sets EFER.LMA: the CPU is
 * in compatibility mode until the far jump to a 64-bit segment that follows.
 * Clobbers EAX, ECX, EDX. */
.macro ENTER_IA32E cr0_extra=0
    mov $pml4, %eax
    mov %eax, %cr3
    mov %cr4, %eax
    or $CR4_PAE, %eax
    mov %eax, %cr4
    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    wrmsr
    mov %cr0, %eax
    or $CR0_PG + \cr0_extra, %eax
    mov %eax, %cr0
.endm

/* Compatibility mode (identity-mapped code) to legacy protected mode without
 * paging: CR0.PG off first (EFER.LMA clears), CR3 = 0 flushes the TLB, then
 * EFER.LME may change (SDM Vol. 3A "Switching Out of IA-32e Mode Operation").
 * Clobbers EAX, ECX, EDX. */
.macro LEAVE_IA32E
    mov %cr0, %eax
    and $~CR0_PG, %eax
    mov %eax, %cr0
    xor %eax, %eax
    mov %eax, %cr3
    mov $MSR_EFER, %ecx
    rdmsr
    and $~EFER_LME, %eax
    wrmsr
.endm

/* The SysV callee-saved registers, for assembly entered from C that leaves
 * and comes back to long mode. */
.macro PUSH_CALLEE_SAVED
    push %rbx
    push %rbp
    push %r12
    push %r13
    push %r14
    push %r15
.endm
.macro POP_CALLEE_SAVED
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbp
    pop %rbx
.endm
#endif

#endif
