/* paging_asm.S - ring-3 probes for paging.c: a read and a write of the
 * address in user_probe_va, then INT 0x80 back to the kernel. */
    .text
    .globl user_read_probe
user_read_probe:
    mov user_probe_va(%rip), %rax
    mov (%rax), %rax
    xor %eax, %eax
    int $0x80

    .globl user_write_probe
user_write_probe:
    mov user_probe_va(%rip), %rax
    movq $1, (%rax)
    xor %eax, %eax
    int $0x80

    .data
    .globl user_probe_va
user_probe_va: .quad 0
