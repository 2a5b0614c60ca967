/* mb2_asm.S - a Multiboot 2 header for the mb2 test kernel, next to the
 * library's Multiboot 1 header; vmxemu prefers Multiboot 2. Its entry address
 * tag points at mb2_entry, which keeps the loader's magic and information
 * address for test_main and joins the library's 32-bit entry as if booted by
 * Multiboot 1 (with no Multiboot 1 information). */
#include "guest_asm.h"

#define MB2_MAGIC 0xE85250D6

    .section .multiboot, "a"
    .align 8
mb2_header:
    .long MB2_MAGIC
    .long 0                                     /* i386 */
    .long mb2_header_end - mb2_header
    .long -(MB2_MAGIC + (mb2_header_end - mb2_header))
    .align 8
    .word 1, 0                                  /* information request, required */
    .long 8 + 4 * 7
    .long 1, 2, 3, 4, 6, 14, 15
    .align 8
    .word 3, 0                                  /* entry address */
    .long 12
    .long mb2_entry
    .align 8
    .word 7, 1                                  /* EFI boot services, optional: ignored */
    .long 8
    .align 8
    .word 6, 0                                  /* module alignment */
    .long 8
    .align 8
    .word 0, 0                                  /* end */
    .long 8
mb2_header_end:

    .text
    .code32
    .globl mb2_magic, mb2_info
mb2_entry:
    mov %eax, mb2_magic
    mov %ebx, mb2_info
    mov $0x2BADB002, %eax
    xor %ebx, %ebx
    jmp _start

    .bss
    .align 4
mb2_magic:
    .long 0
mb2_info:
    .long 0
