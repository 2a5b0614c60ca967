/* fpu.h - helpers shared by the x87, MMX, SSE and XSAVE handlers: control and
 * status bits, the #NM/#UD/#MF entry checks, MMX register aliasing, SSE operand
 * access, and the host-FPU bridge that makes arithmetic bit-exact.
 *
 * Arithmetic runs on the host's own x87/SSE unit (this emulator targets x86-64
 * hosts): each operation loads the guest's rounding/precision/DAZ/FTZ controls
 * with every exception masked, executes the same instruction, and reads back
 * the exception flags. That gives hardware results, NaN propagation and flag
 * behaviour by construction; the guest-visible exception logic (masks, #MF,
 * #XM, not writing the destination) is then applied here.
 */
#ifndef VMXEMU_FPU_H
#define VMXEMU_FPU_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/cpumodel.h"
#include "emu/exec.h"

#if !defined(__x86_64__)
#error "the FPU/SSE handlers execute arithmetic on the host's x87/SSE unit: x86-64 hosts only"
#endif

/* x87 status word (SDM Vol. 1 "x87 FPU Status Register"). */
#define FSW_IE 0x0001
#define FSW_DE 0x0002
#define FSW_ZE 0x0004
#define FSW_OE 0x0008
#define FSW_UE 0x0010
#define FSW_PE 0x0020
#define FSW_SF 0x0040
#define FSW_ES 0x0080
#define FSW_C0 0x0100
#define FSW_C1 0x0200
#define FSW_C2 0x0400
#define FSW_TOP 0x3800
#define FSW_C3 0x4000
#define FSW_B 0x8000
#define FSW_EXC 0x003f
#define FSW_CC (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)

/* x87 control word. */
#define FCW_EXC 0x003f   /* exception masks, same bit order as FSW_EXC */
#define FCW_PC 0x0300
#define FCW_RC 0x0c00
#define FCW_INIT 0x037f  /* FNINIT value */

/* MXCSR (SDM Vol. 1 "MXCSR Control/Status Register"). */
#define MXCSR_IE 0x0001
#define MXCSR_DE 0x0002
#define MXCSR_ZE 0x0004
#define MXCSR_OE 0x0008
#define MXCSR_UE 0x0010
#define MXCSR_PE 0x0020
#define MXCSR_FLAGS 0x003f
#define MXCSR_DAZ 0x0040
#define MXCSR_MASKS 0x1f80
#define MXCSR_RC 0x6000
#define MXCSR_FZ 0x8000
#define MXCSR_INIT 0x1f80
/* MXCSR_MASK as FXSAVE reports it: DAZ is supported, bits 31:16 are reserved. */
#define MXCSR_MASK_VALUE 0x0000ffffu

/* The 80-bit default NaN ("real indefinite"). */
#define FP_INDEF_SIG 0xc000000000000000ull
#define FP_INDEF_SE 0xffff

/* Power-up state of the x87/SSE unit (SDM Vol. 3A "Initialization Overview",
 * the table of processor states following power-up, reset or INIT). */
void fpu_reset(fpu_state_t *f);
/* FNINIT's state (also what FNSAVE leaves and XRSTOR's init of component 0). */
void fpu_x87_init(fpu_state_t *f);

/* Status word with the live TOP folded in. */
static inline uint16_t fpu_get_fsw(const fpu_state_t *f)
{
    return (uint16_t)((f->fsw & ~FSW_TOP) | (f->top << 11));
}
/* Recompute ES and B from the flags against the masks: loading a control
 * word or an environment can make a pending exception appear or vanish. */
static inline void fpu_update_es(fpu_state_t *f)
{
    if (f->fsw & ~f->fcw & FSW_EXC)
        f->fsw |= FSW_ES | FSW_B;
    else
        f->fsw &= (uint16_t)~(FSW_ES | FSW_B);
}
static inline void fpu_set_fsw(fpu_state_t *f, uint16_t v)
{
    f->fsw = v;
    f->top = (v >> 11) & 7;
    fpu_update_es(f);
}

/* Two-bit tag of one physical register computed from its contents: 0 valid,
 * 1 zero, 2 special (NaN, infinity, denormal, unsupported), 3 empty. */
static inline unsigned fpu_tag_of(const fpreg_t *r)
{
    unsigned e = r->se & 0x7fff;
    if (e == 0x7fff)
        return 2;
    if (e == 0)
        return r->sig ? 2 : 1;
    return (r->sig >> 63) ? 0 : 2; /* integer bit clear: unnormal */
}
uint16_t fpu_full_tag(const fpu_state_t *f);
/* Abridged tag from a full tag word (11 means empty). */
static inline uint8_t fpu_abridge_tag(uint16_t full)
{
    uint8_t t = 0;
    for (int i = 0; i < 8; i++)
        if (((full >> (2 * i)) & 3) != 3)
            t |= (uint8_t)(1u << i);
    return t;
}

/* ---- entry checks ---- */

/* #MF for a pending unmasked x87 exception before a waiting instruction. With
 * CR0.NE clear the SDM routes the error to the FERR# pin (IRQ 13 through the
 * PIC); this machine leaves FERR# unconnected, which behaves as if IGNNE# were
 * asserted: the instruction executes and the exception stays pending in FSW. */
static inline void fpu_check_pending(cpu_t *c)
{
    if (unlikely(c->fpu.fsw & FSW_ES) && (c->cr0 & CR0_NE))
        cpu_fault(c, EXC_MF);
}
/* x87 instruction: #NM if CR0.EM or CR0.TS (SDM Vol. 3A "Interrupt 7"). */
static inline void x87_check_nowait(cpu_t *c)
{
    if (unlikely(c->cr0 & (CR0_EM | CR0_TS)))
        cpu_fault(c, EXC_NM);
}
static inline void x87_check(cpu_t *c)
{
    x87_check_nowait(c);
    fpu_check_pending(c);
}
/* CPUID feature (+ 1) each form needs beyond the baseline, 0 for none
 * (emu/sse_features.def). A form the model lacks is #UD. */
extern const uint16_t sse_insn_feature[XI_COUNT];
static inline void insn_feature_check(cpu_t *c, const x86_insn *i)
{
    uint16_t f = sse_insn_feature[i->id];
    if (unlikely(f) && !cpu_has(c, (enum cpu_feature)(f - 1)))
        cpu_fault(c, EXC_UD);
}

/* MMX instruction: #UD if the model lacks the form's feature or CR0.EM is
 * set, #NM if CR0.TS, #MF if an x87 exception is pending (SDM Vol. 2, the
 * MMX instruction pages). */
static inline void mmx_check(cpu_t *c, const x86_insn *i)
{
    insn_feature_check(c, i);
    if (unlikely(c->cr0 & (CR0_EM | CR0_TS)))
        cpu_fault(c, (c->cr0 & CR0_EM) ? EXC_UD : EXC_NM);
    fpu_check_pending(c);
}
/* An MMX instruction switches the x87 unit to MMX mode: TOP = 0, every tag
 * valid (SDM Vol. 1 "Transitions Between x87 FPU and MMX Code"). Done once
 * the instruction can no longer fault. */
static inline void mmx_commit(cpu_t *c)
{
    c->fpu.top = 0;
    c->fpu.ftw = 0xff;
}
/* SSE instruction: #UD if the model lacks the form's feature, CR0.EM is set
 * or CR4.OSFXSR clear, #NM if CR0.TS. VEX forms share their legacy row's id;
 * AVX is not implemented, so they are #UD. */
static inline void sse_check(cpu_t *c, const x86_insn *i)
{
    insn_feature_check(c, i);
    if (unlikely((c->cr0 & CR0_EM) || !(c->cr4 & CR4_OSFXSR) || (i->pfx & X86_PFX_VEX)))
        cpu_fault(c, EXC_UD);
    if (unlikely(c->cr0 & CR0_TS))
        cpu_fault(c, EXC_NM);
}

/* ---- MMX registers ---- */
static inline uint64_t mm_get(cpu_t *c, int n)
{
    return c->fpu.st[n & 7].sig;
}
static inline void mm_set(cpu_t *c, int n, uint64_t v)
{
    c->fpu.st[n & 7].sig = v;
    c->fpu.st[n & 7].se = 0xffff;
}
/* Q operand: MMX register (ModRM.rm without REX.B) or m64. */
static inline uint64_t mmx_read_q(cpu_t *c, const x86_insn *i)
{
    if (i->mod == 3)
        return mm_get(c, i->rm);
    return lin_read64(c, insn_lin(c, i, 8, ACC_READ));
}

/* ---- XMM operands ---- */
static inline xmm_t *xmm_reg(cpu_t *c, int n)
{
    return &c->fpu.xmm[n];
}
/* Linear address of a 16-byte memory operand; aligned forms raise #GP(0) when
 * it is not 16-byte aligned (SDM Vol. 1 "Alignment of 128-Bit Memory Operands"). */
static inline uint64_t sse_lin16(cpu_t *c, const x86_insn *i, enum mmu_access acc, bool aligned)
{
    uint64_t la = insn_lin(c, i, 16, acc);
    if (aligned && unlikely(la & 15))
        cpu_fault_err(c, EXC_GP, 0);
    return la;
}
static inline void mem_read128(cpu_t *c, uint64_t la, xmm_t *v)
{
    if (likely((la & 0xfff) <= 0xff0)) {
        v->q[0] = lin_read64(c, la);
        v->q[1] = lin_read64(c, la + 8);
    } else {
        lin_read_bytes(c, la, v, 16);
    }
}
static inline void mem_write128(cpu_t *c, uint64_t la, const xmm_t *v)
{
    /* Within one page the first store faults before anything is written;
     * across pages lin_write_bytes checks both first. */
    if (likely((la & 0xfff) <= 0xff0)) {
        lin_write64(c, la, v->q[0]);
        lin_write64(c, la + 8, v->q[1]);
    } else {
        lin_write_bytes(c, la, v, 16);
    }
}
/* W operand, 128 bits. */
static inline void sse_read_w(cpu_t *c, const x86_insn *i, xmm_t *v, bool aligned)
{
    if (i->mod == 3)
        *v = c->fpu.xmm[i->rm];
    else
        mem_read128(c, sse_lin16(c, i, ACC_READ, aligned), v);
}
/* W operand, low `size` bytes (4 or 8; scalar and half forms); the rest zero. */
static inline void sse_read_w_low(cpu_t *c, const x86_insn *i, xmm_t *v, int size)
{
    if (i->mod == 3) {
        *v = c->fpu.xmm[i->rm];
        return;
    }
    v->q[1] = 0;
    v->q[0] = lin_read(c, insn_lin(c, i, size, ACC_READ), size);
}

/* ---- host bridge ---- */
/* Host MXCSR for an operation: the guest's controls, every exception masked,
 * no flags. */
static inline uint32_t sse_host_cfg(uint32_t guest_mxcsr)
{
    return (guest_mxcsr & (MXCSR_RC | MXCSR_FZ | MXCSR_DAZ)) | MXCSR_MASKS;
}
/* Apply exception flags `fl` an SSE operation raised. Returns normally when
 * every raised exception is masked (flags accumulated in MXCSR); otherwise the
 * caller must not have written its destination: sets the flags the SDM says
 * an unmasked fault reports and raises #XM (CR4.OSXMMEXCPT) or #UD. */
void sse_raise_slow(cpu_t *c, uint32_t fl);
static inline void sse_raise(cpu_t *c, uint32_t fl)
{
    if (likely(!(fl & ~(c->fpu.mxcsr >> 7) & MXCSR_FLAGS))) {
        c->fpu.mxcsr |= fl;
        return;
    }
    sse_raise_slow(c, fl);
}

#endif
