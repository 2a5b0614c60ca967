/* smp_asm.S - the application processors' way into long mode.
 *
 * ap_tramp..ap_tramp_end is real-mode code that smp.c copies to TRAMP_BASE
 * (below 1 MiB, on the page the SIPI vector names): it loads the kernel's GDT
 * through the descriptor smp.c patches into ap_tramp_gdtr, enters protected
 * mode and far-jumps to ap_entry32 in the kernel image, which turns on PAE,
 * loads the BSP's page tables, sets EFER.LME and paging, and jumps to 64-bit
 * code; there each AP takes a stack by atomically counting itself in and
 * calls ap_main(). */
#include "guest_asm.h"

#define TRAMP_BASE 0x8000
#define AP_STACK 8192
#define MAX_APS 16

    .text
    .code16
    .globl ap_tramp, ap_tramp_end, ap_tramp_gdtr
ap_tramp:
    cli
    cld
    xorw %ax, %ax
    movw %ax, %ds
    lgdtl TRAMP_BASE + (ap_tramp_gdtr - ap_tramp)
    movl %cr0, %eax
    orl $CR0_PE, %eax
    movl %eax, %cr0
    ljmpl $SEL_KCODE32, $ap_entry32
    .align 8
ap_tramp_gdtr:
    .word 0  /* limit and 32-bit base: smp.c copies the BSP's GDTR here */
    .long 0
ap_tramp_end:

    .code32
ap_entry32:
    mov $SEL_KDATA, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %cr4, %eax
    or $CR4_PAE, %eax
    mov %eax, %cr4
    mov $pml4, %eax
    mov %eax, %cr3
    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    wrmsr
    mov %cr0, %eax
    and $0x9fffffff, %eax           /* INIT left caching disabled (CD, NW): enable it */
    or $CR0_PG + CR0_WP, %eax
    mov %eax, %cr0
    ljmp $SEL_KCODE, $ap_entry64

    .code64
ap_entry64:
    LOAD_KDATA_SEGS
    mov $1, %eax
    lock xadd %eax, ap_slots(%rip)  /* this AP's stack slot */
    cmp $MAX_APS, %eax
    jae 2f
    inc %eax
    shl $13, %eax                   /* * AP_STACK */
    lea ap_stacks(%rip), %rsp
    add %rax, %rsp
    call ap_main
2:  cli
    hlt
    jmp 2b

    .bss
    .align 16
ap_slots:
    .long 0
    .align 16
ap_stacks:
    .skip AP_STACK * MAX_APS
