/* apic_smp_asm.S - the application processors' way from the SIPI vector page
 * to apic_smp.c: ap_tramp is copied to AP_TRAMP (0x8000, SIPI vector 08H) and
 * runs there in real mode; it loads the kernel's GDT (the BSP fills in
 * ap_tramp_gdtr), turns on PAE, long mode and paging with the BSP's page
 * tables, and far-jumps to 64-bit code, which takes a stack and the BSP's IDT
 * and calls ap_main(index). */
#include "guest_asm.h"

#define AP_TRAMP 0x8000
#define AP_STACK 8192
#define REL(x) ((x) - ap_tramp + AP_TRAMP)

    .section .text
    .code16
    .globl ap_tramp, ap_tramp_end, ap_tramp_gdtr
ap_tramp:
    cli
    xor %ax, %ax
    mov %ax, %ds
    lgdtl REL(ap_tramp_gdtr)
    movl $pml4, %eax
    movl %eax, %cr3
    movl %cr4, %eax
    orl $CR4_PAE, %eax
    movl %eax, %cr4
    movl $MSR_EFER, %ecx
    rdmsr
    orl $EFER_LME, %eax
    wrmsr
    movl %cr0, %eax
    orl $CR0_PE + CR0_PG + CR0_WP, %eax
    movl %eax, %cr0
    ljmpl $SEL_KCODE, $ap_entry64
    .align 4
ap_tramp_gdtr:
    .word 0
    .long 0
ap_tramp_end:

    .code64
ap_entry64:
    LOAD_KDATA_SEGS
    mov $1, %edi
    lock xaddl %edi, ap_next(%rip)  /* this AP's index: 0, 1, 2, ... */
    mov %edi, %eax
    inc %eax
    imul $AP_STACK, %eax
    lea ap_stacks(%rip), %rsp
    add %rax, %rsp
    lidt ap_idtr(%rip)
    call ap_main
1:  hlt
    jmp 1b

    .bss
    .align 16
ap_stacks:
    .skip AP_STACK * 8
