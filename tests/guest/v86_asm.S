/* v86_asm.S - code for v86.c: leave long mode for legacy 32-bit protected
 * mode (paging off), load a 32-bit IDT and a 32-bit TSS (v86.c builds
 * both), enter virtual-8086 mode through IRET with EFLAGS.VM = 1, and come
 * back to long mode when the V86 code leaves through INT 41h.
 *
 * Ring-0 side (SDM Vol. 3B "8086 Emulation"): the #GP handler is the
 * virtual-8086 monitor; it emulates the three IOPL- or bitmap-sensitive
 * instructions the V86 code uses while IOPL = 0 (IN from a port the I/O
 * bitmap denies, CLI, INT n) and, at the INT, raises IOPL to 3 in the
 * EFLAGS image so that the next INT 40h goes straight through the IDT
 * (method 1: VME = 0, IOPL = 3) to a DPL-3 interrupt gate. The handlers
 * record their stack frames (EFLAGS.VM, the saved V86 segment registers)
 * and the segment registers the processor left them (null) in the result
 * slots at physical RES + 4 * n; the V86 code records its own through FS
 * (= RES >> 4). v86.c mirrors the slot numbers: keep both lists in step.
 *
 * The V86 code is the blob v86_blob..v86_blob_end, which v86.c copies to
 * physical BLOB_BASE; inside it, addresses are offsets from the blob start. */
#include "guest_asm.h"

#define SEL_TSS32   (SEL_FREE + 0x00)
#define BLOB_BASE   0x8000
#define BLOB_SEG    (BLOB_BASE >> 4)
#define V86_SP      0x7000
#define RES         0x9000
#define R(n)        (RES + 4 * (n))     /* flat, from ring 0 */
#define V(n)        (4 * (n))           /* FS-relative, from V86 mode */
#define OFF(x)      ((x) - v86_blob)
#define V86_DS      0x1000
#define V86_ES      0x2000
#define V86_FS      (RES >> 4)
#define V86_GS      0x3000
#define F_VM        0x00020000
#define F_IOPL3     0x00003000

/* slots written in V86 mode */
#define V_CS 0
#define V_IN_AL 1
#define V_INT_AX 2
#define V_PUSHFD 3
#define V_PUSHFD_CLI 4
#define V_DONE 5
/* the monitor (#GP): GP_COUNT, then 3 records of 8 slots */
#define GP_COUNT 31
#define GP_REC 32
#define GP_ERR 0
#define GP_EIP 1
#define GP_CS 2
#define GP_EFLAGS 3
#define GP_OPCODE 4
#define GP_DS_IN 5
#define GP_ESP_IN 6
/* INT 40h through the DPL-3 gate */
#define I40_EIP 64
#define I40_CS 65
#define I40_EFLAGS 66
#define I40_ESP 67
#define I40_SS 68
#define I40_ES 69
#define I40_DS 70
#define I40_FS 71
#define I40_GS 72
#define I40_SEGS_IN 73                  /* DS | ES << 16 at entry */
#define I40_SEGS2_IN 74                 /* FS | GS << 16 at entry */
#define I40_OWN_CS 75
#define I40_OWN_SS 76
#define I40_OWN_ESP 77
#define I40_OWN_EFLAGS 78
#define I40_COUNT 79
/* INT 41h: the way out */
#define I41_EIP 96
#define I41_EFLAGS 97
#define I41_COUNT 98
#define UNEXPECTED 99

/* ------------------------------------------------------------------ */
    .text
    .code64
/* void v86_run(void): the whole trip; results in the RES slots. */
    .globl v86_run
v86_run:
    PUSH_CALLEE_SAVED
    mov %rsp, saved_rsp(%rip)
    sidt saved_idtr(%rip)
    cli
    ljmpl *to_compat(%rip)

    .code32
compat32:
    /* leave IA-32e mode: paging off (LMA clears), then EFER.LME */
    LEAVE_IA32E
    /* legacy protected mode: the 32-bit IDT and TSS of v86.c */
    lidt idt32_ptr
    mov $SEL_TSS32, %ax
    ltr %ax
    /* IRET to V86 mode (CPL 0, VM = 1 in the image): EIP, CS, EFLAGS,
     * ESP, SS, then ES, DS, FS, GS are popped */
    mov %esp, mon_esp
    pushl $V86_GS
    pushl $V86_FS
    pushl $V86_DS
    pushl $V86_ES
    pushl $0                        /* SS */
    pushl $V86_SP                   /* ESP */
    pushl $F_VM + 2                 /* EFLAGS: VM, IOPL 0, IF 0 */
    pushl $BLOB_SEG                 /* CS */
    pushl $OFF(v86_entry)           /* EIP */
    iret

/* #GP: the virtual-8086 monitor. Frame: error code, EIP, CS, EFLAGS, ESP,
 * SS, ES, DS, FS, GS; DS-GS are null here, SS is the TSS's SS0. */
gp32:
    push %eax                       /* frame + 8 after the three pushes: err at 12(%esp) */
    push %ebx
    push %ecx
    mov %ss:R(GP_COUNT), %ebx
    cmp $3, %ebx
    jae unexpected_gp
    shl $5, %ebx                    /* 8 slots of 4 bytes per record */
    xor %eax, %eax
    mov %ds, %ax
    mov %eax, %ss:R(GP_REC + GP_DS_IN)(%ebx)
    mov $SEL_KDATA, %ax
    mov %ax, %ds
    mov %ax, %es
    lea 12(%esp), %eax
    mov %eax, R(GP_REC + GP_ESP_IN)(%ebx)
    mov 12(%esp), %eax
    mov %eax, R(GP_REC + GP_ERR)(%ebx)
    mov 16(%esp), %eax
    mov %eax, R(GP_REC + GP_EIP)(%ebx)
    mov 20(%esp), %eax
    mov %eax, R(GP_REC + GP_CS)(%ebx)
    mov 24(%esp), %eax
    mov %eax, R(GP_REC + GP_EFLAGS)(%ebx)
    testl $F_VM, 24(%esp)
    jz unexpected_gp                /* a #GP outside V86 mode is a bug */
    /* the opcode at CS * 16 + IP */
    movzwl 20(%esp), %ecx
    shl $4, %ecx
    movzwl 16(%esp), %eax
    add %eax, %ecx
    movzbl (%ecx), %eax
    mov %eax, R(GP_REC + GP_OPCODE)(%ebx)
    incl R(GP_COUNT)
    cmp $0xec, %al                  /* IN AL, DX: the port is denied, pretend it reads 0x5a */
    je 1f
    cmp $0xfa, %al                  /* CLI */
    je 2f
    cmp $0xcd, %al                  /* INT n: skip it and let V86 code run at IOPL 3 from now */
    jne unexpected_gp
    orl $F_IOPL3, 24(%esp)
    incl 16(%esp)
    jmp 2f
1:  movb $0x5a, 8(%esp)             /* the saved EAX's AL */
2:  incl 16(%esp)
    pop %ecx
    pop %ebx
    pop %eax
    add $4, %esp                    /* error code */
    iret
unexpected_gp:
    movl $13, %ss:unexpected_vec
    jmp unexpected32

/* INT 40h from V86 mode at IOPL 3 (DPL-3 interrupt gate): no error code;
 * frame EIP, CS, EFLAGS, ESP, SS, ES, DS, FS, GS. Returns AX = 0x4040. */
int40_32:
    push %eax                       /* frame at 4(%esp) */
    xor %eax, %eax
    mov %es, %ax
    shl $16, %eax
    mov %ds, %ax
    mov %eax, %ss:R(I40_SEGS_IN)
    mov %gs, %ax
    shl $16, %eax
    mov %fs, %ax
    mov %eax, %ss:R(I40_SEGS2_IN)
    mov $SEL_KDATA, %ax
    mov %ax, %ds
    mov %ax, %es
    lea 4(%esp), %eax
    mov %eax, R(I40_OWN_ESP)
    xor %eax, %eax
    mov %cs, %ax
    mov %eax, R(I40_OWN_CS)
    mov %ss, %ax
    mov %eax, R(I40_OWN_SS)
    pushf
    pop %eax
    mov %eax, R(I40_OWN_EFLAGS)
    mov 4(%esp), %eax
    mov %eax, R(I40_EIP)
    mov 8(%esp), %eax
    mov %eax, R(I40_CS)
    mov 12(%esp), %eax
    mov %eax, R(I40_EFLAGS)
    mov 16(%esp), %eax
    mov %eax, R(I40_ESP)
    mov 20(%esp), %eax
    mov %eax, R(I40_SS)
    mov 24(%esp), %eax
    mov %eax, R(I40_ES)
    mov 28(%esp), %eax
    mov %eax, R(I40_DS)
    mov 32(%esp), %eax
    mov %eax, R(I40_FS)
    mov 36(%esp), %eax
    mov %eax, R(I40_GS)
    incl R(I40_COUNT)
    pop %eax
    mov $0x4040, %ax                /* the V86 caller sees it after IRET */
    iret                            /* VM = 1 in the image: back to V86, ES-GS reloaded */

/* INT 41h from V86 mode: record, then drop the frame and go home. */
int41_32:
    mov $SEL_KDATA, %ax
    mov %ax, %ds
    mov %ax, %es
    mov (%esp), %eax
    mov %eax, R(I41_EIP)
    mov 8(%esp), %eax
    mov %eax, R(I41_EFLAGS)
    incl R(I41_COUNT)
    mov $SEL_KDATA, %ax
    mov %ax, %fs
    mov %ax, %gs
    mov mon_esp, %esp
    /* IA-32e mode again: CR3, PAE, LME, PG, then a 64-bit code segment */
    ENTER_IA32E
    ljmp $SEL_KCODE, $back64

/* Any other vector: say which, and end the run with status 0xe1. */
unexpected32:
    mov $SEL_KDATA, %ax
    mov %ax, %ds
    mov %ax, %ss
    mov $v86_stack_spare, %esp
    mov unexpected_vec, %ebx
    mov $unexpected_msg, %esi
1:  movb (%esi), %cl
    test %cl, %cl
    jz 2f
    call putc32
    inc %esi
    jmp 1b
2:  mov %ebx, %ecx
    shr $4, %ecx
    movb hexdigits(%ecx), %cl
    call putc32
    mov %ebx, %ecx
    and $15, %ecx
    movb hexdigits(%ecx), %cl
    call putc32
    mov $'\n', %cl
    call putc32
    mov $0x70, %al
    out %al, $0xf4
3:  hlt
    jmp 3b

/* putc32: CL to COM1 once the transmitter is empty; clobbers AL, DX */
putc32:
    mov $0x3fd, %dx
1:  in %dx, %al
    test $0x20, %al
    jz 1b
    mov $0x3f8, %dx
    mov %cl, %al
    out %al, %dx
    ret

    .code64
back64:
    LOAD_KDATA_SEGS
    mov saved_rsp(%rip), %rsp
    lidt saved_idtr(%rip)
    POP_CALLEE_SAVED
    ret

/* The 32-bit IDT's entry points: stub n at v86_stubs + 16 * n records n
 * and reports it; v86.c points the gates of 13, 40h and 41h elsewhere. */
    .code32
    .align 16
    .globl v86_stubs
v86_stubs:
    .set vec, 0
    .rept 256
    .align 16
    movl $vec, %ss:unexpected_vec
    jmp unexpected32
    .set vec, vec + 1
    .endr

    .globl v86_gp_entry, v86_int40_entry, v86_int41_entry
    .set v86_gp_entry, gp32
    .set v86_int40_entry, int40_32
    .set v86_int41_entry, int41_32

/* ------------------------------------------------------------------ */
/* The V86 blob, run at BLOB_SEG:0 with DS 0x1000, ES 0x2000, FS = RES >> 4,
 * GS 0x3000, SS:SP 0:0x7000. */
    .code16
    .align 16
    .globl v86_blob
v86_blob:
v86_entry:
    mov %cs, %ax
    mov %ax, %fs:V(V_CS)
    movw $0x8686, 0                 /* DS:0 = 0x10000 */
    movw $0x2086, %es:0             /* ES:0 = 0x20000 */
    movw $0x3086, %gs:0             /* GS:0 = 0x30000 */

    /* OUT/IN on COM1: the I/O bitmap allows 0x3f8-0x3ff even at IOPL 0 */
    mov $OFF(v86_msg), %si
1:  mov %cs:(%si), %bl
    test %bl, %bl
    jz 3f
    mov $0x3fd, %dx
2:  in %dx, %al
    test $0x20, %al
    jz 2b
    mov $0x3f8, %dx
    mov %bl, %al
    out %al, %dx
    inc %si
    jmp 1b
3:
    /* a port the bitmap denies: #GP, the monitor supplies AL */
    mov $0x80, %dx
    xor %al, %al
    .globl v86_gp_in
v86_gp_in:
    in %dx, %al
    movzbl %al, %eax
    mov %eax, %fs:V(V_IN_AL)
    /* CLI and INT n at IOPL 0: #GP */
    .globl v86_gp_cli
v86_gp_cli:
    cli
    .globl v86_gp_int
v86_gp_int:
    int $0x40
    /* the monitor made IOPL 3: INT 40h now reaches the ring-0 handler through the IDT */
    mov $0x1111, %ax
    int $0x40
    .globl v86_int40_ret
v86_int40_ret:
    mov %ax, %fs:V(V_INT_AX)
    /* at IOPL 3 PUSHFD is allowed; the image has VM (and RF) clear */
    sti
    pushfl
    popl %eax
    mov %eax, %fs:V(V_PUSHFD)
    cli
    pushfl
    popl %eax
    mov %eax, %fs:V(V_PUSHFD_CLI)
    movw $1, %fs:V(V_DONE)
    int $0x41                       /* leave V86 mode for good */
    .globl v86_int41_ret
v86_int41_ret:
    hlt                             /* not reached */

v86_msg:
    .asciz "v86: hello through the I/O permission bitmap\n"
    .globl v86_blob_end
v86_blob_end:

/* ------------------------------------------------------------------ */
    .data
    .align 8
to_compat:
    .long compat32
    .word SEL_KCODE32
saved_rsp:
    .quad 0
saved_idtr:
    .word 0
    .quad 0
mon_esp:
    .long 0
unexpected_vec:
    .long 0
unexpected_msg:
    .asciz "v86: UNEXPECTED vector 0x"
hexdigits:
    .ascii "0123456789abcdef"
    .globl idt32_ptr
idt32_ptr:
    .word 0
    .long 0

    .bss
    .align 16
    .skip 4096
v86_stack_spare:
