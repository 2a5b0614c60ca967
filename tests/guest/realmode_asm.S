/* realmode_asm.S - code for realmode.c: leave long mode the way the SDM
 * describes it (Vol. 3A "Initializing IA-32e Mode" for leaving IA-32e mode,
 * "Switching Back to Real-Address Mode" for the rest), run 16-bit protected
 * mode, real mode and unreal mode, and come back to long mode.
 *
 * The route: 64-bit -> compatibility mode (SEL_KCODE32) -> CR0.PG = 0
 * (legacy protected mode), CR3 = 0, EFER.LME = 0 -> a 16-bit code segment
 * (D = 0, base 0x8000, limit 0xffff: pm16_entry) -> 64 KiB data segments,
 * LIDT of the real-mode IVT, CR0.PE = 0 -> far JMP 0x0800:rm_entry (real
 * mode) -> ... -> CR0.PE = 1 -> far JMP to 32-bit code -> CR3, PAE, LME,
 * PG -> far JMP to 64-bit code.
 *
 * Everything between pm16_entry and the far JMP back to 32-bit code runs in
 * the blob rm_blob..rm_blob_end, which realmode.c copies to physical BLOB_BASE
 * (below 1 MiB, where real mode can reach it); inside it, addresses are
 * offsets from the blob start (OFF). Results go to the slots at physical
 * RES + 4 * n (always through FS, whose base is 0 in every mode used here);
 * realmode.c reads them after the return. The slot numbers are mirrored in
 * realmode.c: keep the two lists in step.
 *
 * Physical memory below 1 MiB used: IVT 0-0x3ff, stack below 0x7000, blob
 * 0x8000-0x8fff, results 0x9000-0x92ff, inputs 0x9300-0x93ff, data at
 * 0x10000 (DS = 0x1000) and 0x20000 (ES = 0x2000). */
#include "guest_asm.h"

#define SEL_CODE16  (SEL_FREE + 0x00)   /* 16-bit code, base BLOB_BASE, limit 0xffff, D = 0 */
#define SEL_DATA16  (SEL_FREE + 0x08)   /* 16-bit data, base 0, limit 0xffff (real-mode-like) */
#define SEL_DATA4G  (SEL_FREE + 0x10)   /* data, base 0, limit 4 GiB: the unreal-mode segment */
#define BLOB_BASE   0x8000
#define BLOB_SEG    (BLOB_BASE >> 4)
#define RM_SP       0x7000
#define RES         0x9000
#define INPUT       0x9300
#define R(n)        (RES + 4 * (n))
#define OFF(x)      ((x) - rm_blob)

/* result slots (realmode.c has the same list) */
#define PM16_PUSHDELTA 0
#define PM16_POPL 1
#define PM16_POPW 2
#define PM16_ADD32 3
#define PM16_ADD32_CF 4
#define PM16_ADD16 5
#define PM16_HIGHREAD 6
#define PM16_WRAPREAD 7
#define PM16_LEA 8
#define PM16_LOOP16_ECX 9
#define PM16_LOOP16_TAKEN 10
#define PM16_LOOP32_ECX 11
#define PM16_LOOP32_TAKEN 12
#define PM16_NEAR_DELTA 13
#define PM16_FAR_DELTA 14
#define PM16_FAR_RETIP 15
#define PM16_FAR_RETCS 16
#define PM16_FAR_CS32 17
#define PM16_CR0 18
#define PM16_EFER 19
#define PM16_CS 20
#define RM_CR0 32
#define RM_EFER 33
#define RM_CS 34
#define RM_DSREAD 35
#define RM_WRAP 36
#define RM_ADD_AX 37
#define RM_ADD_FLAGS 38
#define RM_MUL 39
#define RM_DIV 40
#define RM_INC_AX 41
#define RM_INC_FLAGS 42
#define RM_ADD32 43
#define RM_SHL 44
#define RM_MOVS_SI 45
#define RM_MOVS_DI 46
#define RM_MOVS_CX 47
#define RM_MOVSW_SI 48
#define RM_MOVSW_DI 49
#define RM_MOVSW_CX 50
#define RM_NEAR_SP0 51
#define RM_NEAR_SP_IN 52
#define RM_NEAR_RET 53
#define RM_NEAR_SP1 54
#define RM_NEAR_CX 55
#define RM_FAR_CS 56
#define RM_FAR_RETIP 57
#define RM_FAR_RETCS 58
#define RM_FAR_SP_IN 59
#define RM_FAR_SP0 60
#define RM_FAR_SP1 61
#define RM_INT_FLAGS_IN 62
#define RM_INT_IP 63
#define RM_INT_CS 64
#define RM_INT_FLAGS_PUSHED 65
#define RM_INT_SP 66
#define RM_INT_MARK 67
#define RM_INT_SP0 68
#define RM_FLAGS_AFTER 69
#define RM_FLAGS_CLI 70
#define RM_FLT_COUNT 71
#define RM_FLT_RESUME 72
#define RM_FLT_SP0 73
#define RM_LSR 74
#define RM_UNREAL_READ 75
#define RM_UNREAL_DONE 76
#define RM_DONE 77
#define RM_UNREAL_CS 78
#define RM_FLT 80                       /* 4 records of 4 slots: vector, IP, SP at entry, FLAGS */
/* inputs (realmode.c writes them) */
#define IN_HIGHADDR (INPUT + 0x10)      /* linear address of a buffer above 1 MiB */

/* ------------------------------------------------------------------ */
    .text
    .code64
/* void realmode_run(void): the whole trip; results in the RES slots. */
    .globl realmode_run
realmode_run:
    PUSH_CALLEE_SAVED
    mov %rsp, saved_rsp(%rip)
    sidt saved_idtr(%rip)
    cli
    ljmpl *to_compat(%rip)

    .code32
compat32:
    /* Compatibility mode. Leaving IA-32e mode: paging off first (EFER.LMA
     * clears; this code is identity mapped), then EFER.LME may change. */
    LEAVE_IA32E
    /* Legacy 32-bit protected mode without paging. On to the 16-bit code
     * segment: its limit (64 KiB) is the one real mode needs for CS. */
    ljmp $SEL_CODE16, $OFF(pm16_entry)

/* Far-called from 16-bit protected mode with a 32-bit operand size: the
 * return frame is EIP and CS as two dwords. EDI holds ESP before the call. */
pm32_func:
    mov %edi, %eax
    sub %esp, %eax
    mov %eax, %fs:R(PM16_FAR_DELTA)
    mov (%esp), %eax
    mov %eax, %fs:R(PM16_FAR_RETIP)
    movzwl 4(%esp), %eax            /* only the low word: a CPU may write just 16 bits of CS */
    mov %eax, %fs:R(PM16_FAR_RETCS)
    xor %eax, %eax
    mov %cs, %ax
    mov %eax, %fs:R(PM16_FAR_CS32)
    lret

/* Back from real mode (CR0.PE = 1, CS = SEL_KCODE32): IA-32e mode again. */
back32:
    LOAD_KDATA_SEGS
    mov saved_rsp, %esp
    ENTER_IA32E                     /* EFER.LMA = 1: compatibility mode */
    ljmp $SEL_KCODE, $back64

    .code64
back64:
    LOAD_KDATA_SEGS
    mov saved_rsp(%rip), %rsp
    lidt saved_idtr(%rip)
    POP_CALLEE_SAVED
    ret

/* ------------------------------------------------------------------ */
/* The blob: position-independent 16-bit code, run at BLOB_BASE. */
    .code16
    .align 16
    .globl rm_blob
rm_blob:

/* 16-bit protected mode: CS = SEL_CODE16 (D = 0), DS/ES/SS = SEL_KDATA
 * (flat, SS.B = 1 so the stack pointer is ESP). */
pm16_entry:
    mov $SEL_DATA16, %ax
    mov %ax, %fs
    mov %cs, %ax
    mov %ax, %fs:R(PM16_CS)
    mov %cr0, %eax
    mov %eax, %fs:R(PM16_CR0)
    mov $MSR_EFER, %ecx
    rdmsr
    mov %eax, %fs:R(PM16_EFER)

    /* PUSH imm defaults to 16 bits; the 66 prefix makes it 32 */
    mov %esp, %ecx
    pushw $0x1234
    pushl $0x12345678
    sub %esp, %ecx
    mov %ecx, %fs:R(PM16_PUSHDELTA)
    popl %eax
    mov %eax, %fs:R(PM16_POPL)
    pop %bx
    movzwl %bx, %ebx
    mov %ebx, %fs:R(PM16_POPW)

    /* 32-bit arithmetic with 66; a 16-bit ADD keeps EAX[31:16] */
    mov $0xfffffff0, %eax
    add $0x20, %eax
    pushf
    pop %dx
    and $1, %edx
    mov %eax, %fs:R(PM16_ADD32)
    mov %edx, %fs:R(PM16_ADD32_CF)
    mov $0xaaaafff0, %eax
    add $0x20, %ax
    mov %eax, %fs:R(PM16_ADD16)

    /* 67: a 32-bit address through the flat DS reaches above 1 MiB */
    mov %fs:IN_HIGHADDR, %ebx
    mov (%ebx), %eax
    mov %eax, %fs:R(PM16_HIGHREAD)
    /* without 67 the effective address wraps at 64 KiB: 0xffff + 2 + 0x92ff = 0x19300 -> 0x9300 */
    mov $0xffff, %bx
    mov $2, %si
    movzwl 0x92ff(%bx,%si), %eax
    mov %eax, %fs:R(PM16_WRAPREAD)
    mov $0x100000, %ebx
    mov $3, %esi
    lea 0x10(%ebx,%esi,4), %eax
    mov %eax, %fs:R(PM16_LEA)

    /* LOOP counts CX with a 16-bit address size, ECX with 67 */
    mov $0x10001, %ecx
    xor %dx, %dx
    loop 1f
    jmp 2f
1:  inc %dx
2:  mov %ecx, %fs:R(PM16_LOOP16_ECX)
    mov %dx, %fs:R(PM16_LOOP16_TAKEN)
    mov $0x10001, %ecx
    xor %dx, %dx
    addr32 loop 1f
    jmp 2f
1:  inc %dx
2:  mov %ecx, %fs:R(PM16_LOOP32_ECX)
    mov %dx, %fs:R(PM16_LOOP32_TAKEN)

    /* a near CALL pushes a 16-bit IP */
    mov %esp, %edi
    call pm16_near
    /* a far CALL with 66 to the 32-bit code segment pushes EIP and CS as dwords */
    mov %esp, %edi
    lcalll $SEL_KCODE32, $pm32_func
    .globl rm_pm16_far_ret
rm_pm16_far_ret:

    /* Back to real mode (SDM "Switching Back to Real-Address Mode"):
     * 64 KiB segments in every data register, a real-mode IVT, PE = 0,
     * a far JMP. */
    mov $SEL_DATA16, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %fs
    mov %ax, %gs
    mov %ax, %ss
    mov $RM_SP, %esp
    lidt %cs:OFF(rm_idtr)
    mov %cr0, %eax
    and $~CR0_PE, %eax
    mov %eax, %cr0
    ljmp $BLOB_SEG, $OFF(rm_entry)

pm16_near:
    mov %edi, %eax
    sub %esp, %eax
    mov %eax, %fs:R(PM16_NEAR_DELTA)
    ret

rm_idtr:
    .word 0x3ff
    .long 0

/* ---- real mode ---- */
rm_entry:
    xor %ax, %ax
    mov %ax, %ss
    mov $RM_SP, %sp
    mov %ax, %fs                    /* the results stay at FS:RES */
    mov %cr0, %eax
    mov %eax, %fs:R(RM_CR0)
    mov $MSR_EFER, %ecx
    rdmsr
    mov %eax, %fs:R(RM_EFER)
    mov %cs, %ax
    mov %ax, %fs:R(RM_CS)

    /* DS = 0x1000: base 0x10000 */
    mov $0x1000, %ax
    mov %ax, %ds
    movw $0xbeef, 0
    mov 2, %ax
    mov %ax, %fs:R(RM_DSREAD)
    /* 16-bit effective addresses wrap: BX + SI = 0xffff + 2 -> 0x0001 (0xbe of 0xbeef) */
    mov $0xffff, %bx
    mov $2, %si
    mov (%bx,%si), %al
    mov %al, %fs:R(RM_WRAP)

    /* 16-bit arithmetic */
    mov $0xffff, %ax
    add $1, %ax
    pushf
    pop %dx
    mov %ax, %fs:R(RM_ADD_AX)
    mov %dx, %fs:R(RM_ADD_FLAGS)
    mov $0x1234, %ax
    mov $0x10, %cx
    mul %cx
    mov %ax, %fs:R(RM_MUL)
    mov %dx, %fs:R(RM_MUL)+2
    mov $1, %dx
    mov $0x2345, %ax
    mov $0x100, %cx
    div %cx
    mov %ax, %fs:R(RM_DIV)
    mov %dx, %fs:R(RM_DIV)+2
    mov $0x7fff, %ax
    inc %ax
    pushf
    pop %dx
    mov %ax, %fs:R(RM_INC_AX)
    mov %dx, %fs:R(RM_INC_FLAGS)
    mov $0x12345678, %eax           /* 66: 32-bit operands work in real mode too */
    add $0x11111111, %eax
    mov %eax, %fs:R(RM_ADD32)
    mov $0x8001, %ax
    shl $1, %ax
    sbb %dx, %dx                    /* DX = -CF */
    mov %ax, %fs:R(RM_SHL)
    mov %dx, %fs:R(RM_SHL)+2

    /* REP MOVSB, 16-bit addresses: DS:0x200 -> ES:0, 16 bytes */
    mov $0x2000, %ax
    mov %ax, %es
    cld
    mov $0x200, %si
    xor %di, %di
    mov $16, %cx
    rep movsb
    mov %si, %fs:R(RM_MOVS_SI)
    mov %di, %fs:R(RM_MOVS_DI)
    mov %cx, %fs:R(RM_MOVS_CX)
    /* SI wraps from 0xffff to 0 inside DS: DS:0xfffe..0x0001 -> ES:0x100 */
    mov $0xfffe, %si
    mov $0x100, %di
    mov $4, %cx
    rep movsb
    mov %si, %fs:R(RM_MOVSW_SI)
    mov %di, %fs:R(RM_MOVSW_DI)
    mov %cx, %fs:R(RM_MOVSW_CX)

    /* near CALL/RET */
    mov %sp, %fs:R(RM_NEAR_SP0)
    xor %cx, %cx
    call rm_near
    .globl rm_near_ret
rm_near_ret:
    mov %sp, %fs:R(RM_NEAR_SP1)
    mov %cx, %fs:R(RM_NEAR_CX)

    /* far CALL/RET into another segment: 0x0700:OFF+0x1000 is the same byte */
    mov %sp, %fs:R(RM_FAR_SP0)
    lcall $BLOB_SEG - 0x100, $OFF(rm_far) + 0x1000
    .globl rm_far_ret
rm_far_ret:
    mov %sp, %fs:R(RM_FAR_SP1)

    /* INT n through an IVT entry installed here; IF = 1 before the INT */
    xor %ax, %ax
    mov %ax, %es
    movw $OFF(rm_int40), %es:0x40 * 4
    movw $BLOB_SEG, %es:0x40 * 4 + 2
    movw $OFF(rm_gp), %es:13 * 4
    movw $BLOB_SEG, %es:13 * 4 + 2
    movw $OFF(rm_ss), %es:12 * 4
    movw $BLOB_SEG, %es:12 * 4 + 2
    mov %sp, %fs:R(RM_INT_SP0)
    sti
    int $0x40
    .globl rm_int_ret
rm_int_ret:
    pushf
    pop %ax
    mov %ax, %fs:R(RM_FLAGS_AFTER)
    cli
    pushf
    pop %ax
    mov %ax, %fs:R(RM_FLAGS_CLI)

    /* #GP and #SS in real mode go through IVT vectors 13 and 12 */
    mov %sp, %fs:R(RM_FLT_SP0)
    movw $OFF(rm_flt1_resume), %fs:R(RM_FLT_RESUME)
    .globl rm_flt1
rm_flt1:
    movw $0x5555, 0xffff            /* a word at DS:0xffff crosses the 64 KiB limit */
rm_flt1_resume:
    movw $OFF(rm_flt2_resume), %fs:R(RM_FLT_RESUME)
    mov $0x10000, %ebx
    .globl rm_flt2
rm_flt2:
    mov (%ebx), %ax                 /* 67: offset 0x10000 is beyond the limit */
rm_flt2_resume:
    movw $OFF(rm_flt3_resume), %fs:R(RM_FLT_RESUME)
    mov $0xffff, %bp
    .globl rm_flt3
rm_flt3:
    mov 0(%bp), %ax                 /* SS:0xffff, a word: #SS */
rm_flt3_resume:

    /* port I/O: wait for LSR.THRE, then write a line to COM1 */
    mov $0x3fd, %dx
1:  in %dx, %al
    test $0x20, %al
    jz 1b
    movzbl %al, %eax
    mov %eax, %fs:R(RM_LSR)
    mov $OFF(rm_msg), %si
2:  mov %cs:(%si), %bl
    test %bl, %bl
    jz 4f
    mov $0x3fd, %dx
3:  in %dx, %al
    test $0x20, %al
    jz 3b
    mov $0x3f8, %dx
    mov %bl, %al
    out %al, %dx
    inc %si
    jmp 2b
4:

    /* Unreal mode: PE = 1 just long enough to load GS with the 4 GiB data
     * segment, PE = 0 again; a real-mode load of GS then changes only the
     * selector and base, the cached 4 GiB limit stays. */
    mov %cr0, %eax
    or $CR0_PE, %eax
    mov %eax, %cr0
    mov $SEL_DATA4G, %bx
    mov %bx, %gs
    and $~CR0_PE, %eax
    mov %eax, %cr0
    ljmp $BLOB_SEG, $OFF(rm_unreal)
rm_unreal:
    mov %cs, %ax
    mov %ax, %fs:R(RM_UNREAL_CS)
    xor %ax, %ax
    mov %ax, %gs
    mov %fs:IN_HIGHADDR, %ebx
    mov %gs:(%ebx), %eax
    mov %eax, %fs:R(RM_UNREAL_READ)
    movl $0x600dcafe, %gs:4(%ebx)
    movw $1, %fs:R(RM_UNREAL_DONE)
    movw $1, %fs:R(RM_DONE)

    /* Back to protected mode, then IA-32e mode (back32) */
    cli
    mov %cr0, %eax
    or $CR0_PE, %eax
    mov %eax, %cr0
    ljmpl $SEL_KCODE32, $back32

/* real-mode subroutines and handlers */
rm_near:
    mov %sp, %fs:R(RM_NEAR_SP_IN)
    mov %sp, %bp
    mov 0(%bp), %ax
    mov %ax, %fs:R(RM_NEAR_RET)
    mov $0x1111, %cx
    ret

rm_far:                                 /* runs with CS = 0x0700: no absolute jumps here */
    mov %cs, %ax
    mov %ax, %fs:R(RM_FAR_CS)
    mov %sp, %fs:R(RM_FAR_SP_IN)
    mov %sp, %bp
    mov 0(%bp), %ax
    mov %ax, %fs:R(RM_FAR_RETIP)
    mov 2(%bp), %ax
    mov %ax, %fs:R(RM_FAR_RETCS)
    lret

rm_int40:
    pushf
    pop %ax
    mov %ax, %fs:R(RM_INT_FLAGS_IN)
    mov %sp, %fs:R(RM_INT_SP)
    mov %sp, %bp
    mov 0(%bp), %ax
    mov %ax, %fs:R(RM_INT_IP)
    mov 2(%bp), %ax
    mov %ax, %fs:R(RM_INT_CS)
    mov 4(%bp), %ax
    mov %ax, %fs:R(RM_INT_FLAGS_PUSHED)
    movw $0x4040, %fs:R(RM_INT_MARK)
    iret

rm_gp:
    pushw $13
    jmp rm_fault
rm_ss:
    pushw $12
rm_fault:
    /* [bp+2] vector, [bp+4] IP, [bp+6] CS, [bp+8] FLAGS: no error code in real mode */
    push %bp
    mov %sp, %bp
    push %ax
    push %bx
    mov %fs:R(RM_FLT_COUNT), %bx
    and $3, %bx
    shl $4, %bx
    mov 2(%bp), %ax
    mov %ax, %fs:R(RM_FLT)(%bx)
    mov 4(%bp), %ax
    mov %ax, %fs:R(RM_FLT)+4(%bx)
    lea 4(%bp), %ax
    mov %ax, %fs:R(RM_FLT)+8(%bx)
    mov 8(%bp), %ax
    mov %ax, %fs:R(RM_FLT)+12(%bx)
    incw %fs:R(RM_FLT_COUNT)
    mov %fs:R(RM_FLT_RESUME), %ax
    mov %ax, 4(%bp)                 /* resume after the faulting instruction */
    pop %bx
    pop %ax
    pop %bp
    add $2, %sp
    iret

rm_msg:
    .asciz "real mode: hello from IN/OUT on COM1\n"

    .globl rm_blob_end
rm_blob_end:

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
