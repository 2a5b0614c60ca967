/* bochs_rom.S - a Multiboot loader for Bochs, as a PC option ROM, so that
 * `make bench` can time Bochs on the very kernels vmxemu and QEMU run (Bochs
 * has no -kernel option). bochs.sh places the kernel's flat image (the a.out
 * kludge variant) at 1 MiB and the command line at CMDLINE with Bochs'
 * optramimage directives, and this ROM at ROM_BASE with optromimage. The BIOS
 * calls the ROM during POST; the ROM never returns: it enters 32-bit protected
 * mode with flat segments, finds the Multiboot header in the image's first
 * 8 KiB, builds a Multiboot information structure (memory sizes, command
 * line) and jumps to the header's entry address with EAX = 0x2BADB002, as a
 * Multiboot loader does (Multiboot Specification 0.6.96, "Machine state").
 * The checksum byte is set after assembly (guest.mk). */
#define ROM_BASE 0xd0000
#define KERNEL 0x100000
#define CMDLINE 0x4000000   /* bochs.sh loads the command line here */
#define MBI 0x3fff000       /* the Multiboot information, below it */
#define MEGS 128            /* bochs.sh's `megs:` */
#define LIN(x) (ROM_BASE + (x) - rom_start)

    .code16
    .text
rom_start:
    .byte 0x55, 0xaa
    .byte 1                         /* size in 512-byte blocks */
    jmp init                        /* the BIOS far-calls offset 3 */

init:
    cli
    cs lgdtl gdt_desc - rom_start
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl $0x08, $LIN(pm32)

    .code32
pm32:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %ax, %fs
    mov %ax, %gs
    mov $0x7000, %esp
    /* the Multiboot header: magic, flags, checksum summing to 0, 4-aligned */
    mov $KERNEL, %esi
1:  cmpl $0x1BADB002, (%esi)
    jne 2f
    mov (%esi), %eax
    add 4(%esi), %eax
    add 8(%esi), %eax
    jz 3f
2:  add $4, %esi
    cmp $KERNEL + 8192, %esi
    jb 1b
4:  hlt                             /* no header: nothing to run */
    jmp 4b
3:  testl $0x10000, 4(%esi)         /* entry_addr is valid with the a.out kludge only */
    jz 4b
    mov $MBI, %ebx
    movl $0x5, (%ebx)               /* flags: mem_lower/mem_upper, cmdline */
    movl $639, 4(%ebx)
    movl $(MEGS - 1) * 1024, 8(%ebx)
    movl $CMDLINE, 16(%ebx)
    mov $0x2BADB002, %eax
    jmp *28(%esi)

    .align 8
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff        /* 0x08: flat 32-bit code */
    .quad 0x00cf92000000ffff        /* 0x10: flat data */
gdt_desc:
    .word gdt_desc - gdt - 1
    .long LIN(gdt)

    .org 511
    .byte 0                         /* checksum, set after assembly */
