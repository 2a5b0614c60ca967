/* exec_sse_fp.c - SSE..SSE4.1 floating point: packed and scalar arithmetic,
 * min/max, square root and reciprocal estimates, compares (CMPxx, COMISx,
 * UCOMISx), conversions (incl. the truncating and MMX forms), ROUNDxx,
 * horizontal and alternating add/sub, DPPS/DPPD; and the SIMD floating-point
 * exception logic.
 *
 * Every operation executes on the host's SSE unit with the guest's MXCSR
 * controls (rounding, DAZ, FTZ) and all exceptions masked (emu/fpu.h), so
 * results, NaN propagation and flags are those of hardware. RCPPS/RSQRTPS are
 * approximations whose exact bits are model-specific: they are the host
 * CPU's, which may differ from other hosts (documented deviation).
 */
#include <string.h>

#include "emu/exec_sse.h"
#include "emu/flags.h"

typedef double v2df __attribute__((vector_size(16)));
static const uint32_t mxcsr_default = MXCSR_INIT;

/* After an operation the host MXCSR keeps the guest's controls only when they
 * are the defaults (the common case, which saves a reload); otherwise the
 * defaults are put back so the emulator's own floating point is unaffected.
 * Sticky host flags left behind are harmless: every host exception is masked. */
static inline void host_mxcsr_restore(uint32_t cfg)
{
    if (unlikely(cfg != MXCSR_INIT))
        __asm__ volatile("ldmxcsr %0" : : "m"(mxcsr_default));
}

/* SIMD floating-point exception with at least one unmasked flag (SDM Vol. 1
 * "Generating SIMD Floating-Point Exceptions"): if an unmasked
 * pre-computation exception (invalid, denormal, divide-by-zero) occurred, the
 * post-computation ones are not evaluated, so only the pre-computation flags
 * are reported. The destination is not written (callers raise before they
 * write). #XM when CR4.OSXMMEXCPT is set, else #UD. */
void sse_raise_slow(cpu_t *c, uint32_t fl)
{
    const uint32_t pre = MXCSR_IE | MXCSR_DE | MXCSR_ZE;
    uint32_t unmasked = fl & ~(c->fpu.mxcsr >> 7) & MXCSR_FLAGS;
    if (unmasked & pre)
        fl &= pre;
    c->fpu.mxcsr |= fl;
    cpu_fault(c, (c->cr4 & CR4_OSXMMEXCPT) ? EXC_XM : EXC_UD);
}

/* ---- host operations: a = insn(a, b); returns the exception flags ---- */
typedef uint32_t (*sse_host_fn)(xmm_t *a, const xmm_t *b, uint32_t cfg);

#define HOST_OP(name, text)                                                              \
    static uint32_t name(xmm_t *a, const xmm_t *b, uint32_t cfg)                         \
    {                                                                                    \
        v2df va, vb;                                                                     \
        uint32_t st;                                                                     \
        memcpy(&va, a, 16);                                                              \
        memcpy(&vb, b, 16);                                                              \
        __asm__ volatile("ldmxcsr %[cfg]\n\t" text "\n\tstmxcsr %[st]"                   \
                         : [a] "+x"(va), [st] "=m"(st)                                   \
                         : [b] "x"(vb), [cfg] "m"(cfg));                                 \
        memcpy(a, &va, 16);                                                              \
        host_mxcsr_restore(cfg);                                                         \
        return st & MXCSR_FLAGS;                                                         \
    }
#define HOST2(name, insn) HOST_OP(name, insn " %[b], %[a]")
#define HOST2I(name, insn, imm) HOST_OP(name, insn " $" #imm ", %[b], %[a]")

#define HOST_FP4(op)                                                                     \
    HOST2(h_##op##ps, #op "ps")                                                          \
    HOST2(h_##op##pd, #op "pd")                                                          \
    HOST2(h_##op##ss, #op "ss")                                                          \
    HOST2(h_##op##sd, #op "sd")
HOST_FP4(add)
HOST_FP4(sub)
HOST_FP4(mul)
HOST_FP4(div)
HOST_FP4(min)
HOST_FP4(max)
HOST_FP4(sqrt)
#undef HOST_FP4
HOST2(h_rcpps, "rcpps")
HOST2(h_rcpss, "rcpss")
HOST2(h_rsqrtps, "rsqrtps")
HOST2(h_rsqrtss, "rsqrtss")
HOST2(h_addsubps, "addsubps")
HOST2(h_addsubpd, "addsubpd")
HOST2(h_haddps, "haddps")
HOST2(h_haddpd, "haddpd")
HOST2(h_hsubps, "hsubps")
HOST2(h_hsubpd, "hsubpd")
HOST2(h_cvtps2pd, "cvtps2pd")
HOST2(h_cvtpd2ps, "cvtpd2ps")
HOST2(h_cvtss2sd, "cvtss2sd")
HOST2(h_cvtsd2ss, "cvtsd2ss")
HOST2(h_cvtdq2ps, "cvtdq2ps")
HOST2(h_cvtps2dq, "cvtps2dq")
HOST2(h_cvttps2dq, "cvttps2dq")
HOST2(h_cvtdq2pd, "cvtdq2pd")
HOST2(h_cvtpd2dq, "cvtpd2dq")
HOST2(h_cvttpd2dq, "cvttpd2dq")

/* Compare predicates 0-7 (legacy SSE uses imm8[2:0]). */
#define HOST_CMP(sfx)                                                                    \
    HOST2I(h_cmp##sfx##_0, "cmp" #sfx, 0) HOST2I(h_cmp##sfx##_1, "cmp" #sfx, 1)          \
    HOST2I(h_cmp##sfx##_2, "cmp" #sfx, 2) HOST2I(h_cmp##sfx##_3, "cmp" #sfx, 3)          \
    HOST2I(h_cmp##sfx##_4, "cmp" #sfx, 4) HOST2I(h_cmp##sfx##_5, "cmp" #sfx, 5)          \
    HOST2I(h_cmp##sfx##_6, "cmp" #sfx, 6) HOST2I(h_cmp##sfx##_7, "cmp" #sfx, 7)          \
    static const sse_host_fn h_cmp##sfx[8] = {                                           \
        h_cmp##sfx##_0, h_cmp##sfx##_1, h_cmp##sfx##_2, h_cmp##sfx##_3,                  \
        h_cmp##sfx##_4, h_cmp##sfx##_5, h_cmp##sfx##_6, h_cmp##sfx##_7,                  \
    };
HOST_CMP(ps)
HOST_CMP(pd)
HOST_CMP(ss)
HOST_CMP(sd)
#undef HOST_CMP

/* ROUNDxx immediates 0-15: rounding mode, MXCSR.RC select, precision mask. */
#define HOST_ROUND(sfx)                                                                  \
    HOST2I(h_round##sfx##_0, "round" #sfx, 0) HOST2I(h_round##sfx##_1, "round" #sfx, 1)  \
    HOST2I(h_round##sfx##_2, "round" #sfx, 2) HOST2I(h_round##sfx##_3, "round" #sfx, 3)  \
    HOST2I(h_round##sfx##_4, "round" #sfx, 4) HOST2I(h_round##sfx##_5, "round" #sfx, 5)  \
    HOST2I(h_round##sfx##_6, "round" #sfx, 6) HOST2I(h_round##sfx##_7, "round" #sfx, 7)  \
    HOST2I(h_round##sfx##_8, "round" #sfx, 8) HOST2I(h_round##sfx##_9, "round" #sfx, 9)  \
    HOST2I(h_round##sfx##_10, "round" #sfx, 10) HOST2I(h_round##sfx##_11, "round" #sfx, 11) \
    HOST2I(h_round##sfx##_12, "round" #sfx, 12) HOST2I(h_round##sfx##_13, "round" #sfx, 13) \
    HOST2I(h_round##sfx##_14, "round" #sfx, 14) HOST2I(h_round##sfx##_15, "round" #sfx, 15) \
    static const sse_host_fn h_round##sfx[16] = {                                        \
        h_round##sfx##_0, h_round##sfx##_1, h_round##sfx##_2, h_round##sfx##_3,          \
        h_round##sfx##_4, h_round##sfx##_5, h_round##sfx##_6, h_round##sfx##_7,          \
        h_round##sfx##_8, h_round##sfx##_9, h_round##sfx##_10, h_round##sfx##_11,        \
        h_round##sfx##_12, h_round##sfx##_13, h_round##sfx##_14, h_round##sfx##_15,      \
    };
HOST_ROUND(ps)
HOST_ROUND(pd)
HOST_ROUND(ss)
HOST_ROUND(sd)
#undef HOST_ROUND
#undef HOST2I
#undef HOST2
#undef HOST_OP

static inline uint32_t host_cfg(const cpu_t *c)
{
    return sse_host_cfg(c->fpu.mxcsr);
}

/* Which lanes of the destination hold a floating-point result, for the
 * unmasked-underflow check: with #U unmasked a tiny result raises it even
 * when exact (SDM Vol. 1 "Numeric Underflow Exception (#U)" in "SIMD
 * Floating-Point Exception Conditions"), which the host, running masked,
 * does not report. FMT_NONE: no floating-point result (compares, integers). */
enum fp_fmt { FMT_NONE, FMT_PS, FMT_PD, FMT_SS, FMT_SD, FMT_PS2 };
static uint32_t tiny_lanes(const xmm_t *r, enum fp_fmt f)
{
    static const uint8_t nlanes[] = { [FMT_PS] = 4, [FMT_PD] = 2, [FMT_SS] = 1, [FMT_SD] = 1, [FMT_PS2] = 2 };
    bool dbl = f == FMT_PD || f == FMT_SD;
    for (int i = 0; i < nlanes[f]; i++) {
        bool tiny = dbl ? !(r->q[i] & 0x7ff0000000000000ull) && (r->q[i] & 0x000fffffffffffffull)
                        : !(r->d[i] & 0x7f800000u) && (r->d[i] & 0x007fffffu);
        if (tiny)
            return MXCSR_UE;
    }
    return 0;
}

/* Vx = fn(Vx, W): W is 16 bytes (aligned) or, for scalar and half-width
 * sources, msize bytes from memory. */
SSE_INLINE void fp_run(cpu_t *c, const dinsn_t *d, sse_host_fn fn, int msize, enum fp_fmt fmt)
{
    sse_check(c, &d->i);
    xmm_t b;
    if (msize == 16)
        sse_read_w(c, &d->i, &b, true);
    else
        sse_read_w_low(c, &d->i, &b, msize);
    xmm_t a = *xmm_reg(c, d->i.reg);
    uint32_t fl = fn(&a, &b, host_cfg(c));
    if (unlikely(!(c->fpu.mxcsr & (MXCSR_UE << 7))) && fmt != FMT_NONE)
        fl |= tiny_lanes(&a, fmt);
    sse_raise(c, fl);
    *xmm_reg(c, d->i.reg) = a;
}

#define FP4(op)                                                                          \
    void op_##op##ps(cpu_t *c, const dinsn_t *d) { fp_run(c, d, h_##op##ps, 16, FMT_PS); } \
    void op_##op##pd(cpu_t *c, const dinsn_t *d) { fp_run(c, d, h_##op##pd, 16, FMT_PD); } \
    void op_##op##ss(cpu_t *c, const dinsn_t *d) { fp_run(c, d, h_##op##ss, 4, FMT_SS); }  \
    void op_##op##sd(cpu_t *c, const dinsn_t *d) { fp_run(c, d, h_##op##sd, 8, FMT_SD); }
FP4(add)
FP4(sub)
FP4(mul)
FP4(div)
FP4(min)
FP4(max)
FP4(sqrt)
#undef FP4

#define FPOP(name, fn, msize, fmt)                                                       \
    void name(cpu_t *c, const dinsn_t *d) { fp_run(c, d, fn, msize, fmt); }
FPOP(op_rcpps, h_rcpps, 16, FMT_PS)
FPOP(op_rcpss, h_rcpss, 4, FMT_SS)
FPOP(op_rsqrtps, h_rsqrtps, 16, FMT_PS)
FPOP(op_rsqrtss, h_rsqrtss, 4, FMT_SS)
FPOP(op_addsubps, h_addsubps, 16, FMT_PS)
FPOP(op_addsubpd, h_addsubpd, 16, FMT_PD)
FPOP(op_haddps, h_haddps, 16, FMT_PS)
FPOP(op_haddpd, h_haddpd, 16, FMT_PD)
FPOP(op_hsubps, h_hsubps, 16, FMT_PS)
FPOP(op_hsubpd, h_hsubpd, 16, FMT_PD)
FPOP(op_cvtps2pd, h_cvtps2pd, 8, FMT_NONE)
FPOP(op_cvtpd2ps, h_cvtpd2ps, 16, FMT_PS2)
FPOP(op_cvtss2sd, h_cvtss2sd, 4, FMT_NONE)
FPOP(op_cvtsd2ss, h_cvtsd2ss, 8, FMT_SS)
FPOP(op_cvtdq2ps, h_cvtdq2ps, 16, FMT_NONE)
FPOP(op_cvtps2dq, h_cvtps2dq, 16, FMT_NONE)
FPOP(op_cvttps2dq, h_cvttps2dq, 16, FMT_NONE)
FPOP(op_cvtdq2pd, h_cvtdq2pd, 8, FMT_NONE)
FPOP(op_cvtpd2dq, h_cvtpd2dq, 16, FMT_NONE)
FPOP(op_cvttpd2dq, h_cvttpd2dq, 16, FMT_NONE)
#undef FPOP

/* CMPxx and ROUNDxx: the immediate selects the host function. */
#define FP_IMM(name, tab, mask, msize)                                                   \
    void name(cpu_t *c, const dinsn_t *d) { fp_run(c, d, tab[d->i.imm & (mask)], msize, FMT_NONE); }
FP_IMM(op_cmpps, h_cmpps, 7, 16)
FP_IMM(op_cmppd, h_cmppd, 7, 16)
FP_IMM(op_cmpss, h_cmpss, 7, 4)
FP_IMM(op_cmpsd, h_cmpsd, 7, 8)
FP_IMM(op_roundps, h_roundps, 15, 16)
FP_IMM(op_roundpd, h_roundpd, 15, 16)
FP_IMM(op_roundss, h_roundss, 15, 4)
FP_IMM(op_roundsd, h_roundsd, 15, 8)
#undef FP_IMM

/* ---- COMISS/UCOMISS/COMISD/UCOMISD: ZF, PF, CF; OF, SF, AF cleared ---- */
#define HOST_COMI(name, insn)                                                            \
    static uint32_t name(const xmm_t *a, const xmm_t *b, uint32_t cfg, uint64_t *fl)     \
    {                                                                                    \
        v2df va, vb;                                                                     \
        uint32_t st;                                                                     \
        unsigned char z, p, cf;                                                          \
        memcpy(&va, a, 16);                                                              \
        memcpy(&vb, b, 16);                                                              \
        __asm__ volatile("ldmxcsr %[cfg]\n\t" insn " %[b], %[a]\n\t"                     \
                         "stmxcsr %[st]"                                                 \
                         : [st] "=m"(st), "=@ccz"(z), "=@ccp"(p), "=@ccc"(cf)            \
                         : [a] "x"(va), [b] "x"(vb), [cfg] "m"(cfg));                    \
        *fl = (z ? F_ZF : 0) | (p ? F_PF : 0) | (cf ? F_CF : 0);                         \
        host_mxcsr_restore(cfg);                                                         \
        return st & MXCSR_FLAGS;                                                         \
    }
HOST_COMI(h_comiss, "comiss")
HOST_COMI(h_ucomiss, "ucomiss")
HOST_COMI(h_comisd, "comisd")
HOST_COMI(h_ucomisd, "ucomisd")
#undef HOST_COMI

static void comi(cpu_t *c, const dinsn_t *d,
                 uint32_t (*fn)(const xmm_t *, const xmm_t *, uint32_t, uint64_t *), int msize)
{
    sse_check(c, &d->i);
    xmm_t b;
    sse_read_w_low(c, &d->i, &b, msize);
    uint64_t fl;
    sse_raise(c, fn(xmm_reg(c, d->i.reg), &b, host_cfg(c), &fl));
    cpu_set_arith(c, fl);
}
void op_comiss(cpu_t *c, const dinsn_t *d) { comi(c, d, h_comiss, 4); }
void op_ucomiss(cpu_t *c, const dinsn_t *d) { comi(c, d, h_ucomiss, 4); }
void op_comisd(cpu_t *c, const dinsn_t *d) { comi(c, d, h_comisd, 8); }
void op_ucomisd(cpu_t *c, const dinsn_t *d) { comi(c, d, h_ucomisd, 8); }

/* ---- conversions with a general register ---- */
#define HOST_CVT_FROM_INT(name, insn, T)                                                 \
    static uint32_t name(xmm_t *a, T v, uint32_t cfg)                                    \
    {                                                                                    \
        v2df va;                                                                         \
        uint32_t st;                                                                     \
        memcpy(&va, a, 16);                                                              \
        __asm__ volatile("ldmxcsr %[cfg]\n\t" insn " %[v], %[a]\n\t"                     \
                         "stmxcsr %[st]"                                                 \
                         : [a] "+x"(va), [st] "=m"(st)                                   \
                         : [v] "r"(v), [cfg] "m"(cfg));                                  \
        memcpy(a, &va, 16);                                                              \
        host_mxcsr_restore(cfg);                                                         \
        return st & MXCSR_FLAGS;                                                         \
    }
HOST_CVT_FROM_INT(h_cvtsi2ss_32, "cvtsi2ssl", int32_t)
HOST_CVT_FROM_INT(h_cvtsi2ss_64, "cvtsi2ssq", int64_t)
HOST_CVT_FROM_INT(h_cvtsi2sd_32, "cvtsi2sdl", int32_t)
HOST_CVT_FROM_INT(h_cvtsi2sd_64, "cvtsi2sdq", int64_t)
#undef HOST_CVT_FROM_INT

static void cvtsi2f(cpu_t *c, const dinsn_t *d, bool dbl)
{
    sse_check(c, &d->i);
    bool w = (d->i.rex & 0x08) != 0;
    int sz = w ? 8 : 4;
    uint64_t v = d->i.mod == 3 ? c->gpr[d->i.rm] : lin_read(c, insn_lin(c, &d->i, sz, ACC_READ), sz);
    xmm_t a = *xmm_reg(c, d->i.reg);
    uint32_t fl;
    if (dbl)
        fl = w ? h_cvtsi2sd_64(&a, (int64_t)v, host_cfg(c)) : h_cvtsi2sd_32(&a, (int32_t)v, host_cfg(c));
    else
        fl = w ? h_cvtsi2ss_64(&a, (int64_t)v, host_cfg(c)) : h_cvtsi2ss_32(&a, (int32_t)v, host_cfg(c));
    sse_raise(c, fl);
    *xmm_reg(c, d->i.reg) = a;
}
void op_cvtsi2ss(cpu_t *c, const dinsn_t *d) { cvtsi2f(c, d, false); }
void op_cvtsi2sd(cpu_t *c, const dinsn_t *d) { cvtsi2f(c, d, true); }

#define HOST_CVT_TO_INT(name, insn, T)                                                   \
    static uint32_t name(const xmm_t *b, uint64_t *out, uint32_t cfg)                    \
    {                                                                                    \
        v2df vb;                                                                         \
        uint32_t st;                                                                     \
        T r;                                                                             \
        memcpy(&vb, b, 16);                                                              \
        __asm__ volatile("ldmxcsr %[cfg]\n\t" insn " %[b], %[r]\n\t"                     \
                         "stmxcsr %[st]"                                                 \
                         : [r] "=r"(r), [st] "=m"(st)                                    \
                         : [b] "x"(vb), [cfg] "m"(cfg));                                 \
        *out = (uint64_t)(uint32_t)r;                                                    \
        if (sizeof r == 8)                                                               \
            *out = (uint64_t)r;                                                          \
        host_mxcsr_restore(cfg);                                                         \
        return st & MXCSR_FLAGS;                                                         \
    }
HOST_CVT_TO_INT(h_cvtss2si_32, "cvtss2si", int32_t)
HOST_CVT_TO_INT(h_cvtss2si_64, "cvtss2si", int64_t)
HOST_CVT_TO_INT(h_cvttss2si_32, "cvttss2si", int32_t)
HOST_CVT_TO_INT(h_cvttss2si_64, "cvttss2si", int64_t)
HOST_CVT_TO_INT(h_cvtsd2si_32, "cvtsd2si", int32_t)
HOST_CVT_TO_INT(h_cvtsd2si_64, "cvtsd2si", int64_t)
HOST_CVT_TO_INT(h_cvttsd2si_32, "cvttsd2si", int32_t)
HOST_CVT_TO_INT(h_cvttsd2si_64, "cvttsd2si", int64_t)
#undef HOST_CVT_TO_INT

typedef uint32_t (*cvt_to_int_fn)(const xmm_t *, uint64_t *, uint32_t);
static void cvtf2si(cpu_t *c, const dinsn_t *d, cvt_to_int_fn f32, cvt_to_int_fn f64, int msize)
{
    sse_check(c, &d->i);
    xmm_t b;
    sse_read_w_low(c, &d->i, &b, msize);
    uint64_t r;
    bool w = (d->i.rex & 0x08) != 0;
    sse_raise(c, (w ? f64 : f32)(&b, &r, host_cfg(c)));
    c->gpr[d->i.reg] = r; /* a 32-bit result is zero-extended */
}
void op_cvtss2si(cpu_t *c, const dinsn_t *d) { cvtf2si(c, d, h_cvtss2si_32, h_cvtss2si_64, 4); }
void op_cvttss2si(cpu_t *c, const dinsn_t *d) { cvtf2si(c, d, h_cvttss2si_32, h_cvttss2si_64, 4); }
void op_cvtsd2si(cpu_t *c, const dinsn_t *d) { cvtf2si(c, d, h_cvtsd2si_32, h_cvtsd2si_64, 8); }
void op_cvttsd2si(cpu_t *c, const dinsn_t *d) { cvtf2si(c, d, h_cvttsd2si_32, h_cvttsd2si_64, 8); }

/* ---- conversions with MMX operands: computed with the XMM forms on a copy
 * whose unused lanes are zero (zero converts exactly, raising nothing) ---- */

/* CVTPI2PS/CVTPI2PD xmm, mm/m64: a register source switches to MMX mode. */
static void cvtpi2f(cpu_t *c, const dinsn_t *d, bool dbl)
{
    sse_check(c, &d->i);
    xmm_t b = { .q = { 0, 0 } };
    if (d->i.mod == 3) {
        mmx_check(c, &d->i);
        b.q[0] = mm_get(c, d->i.rm);
    } else {
        b.q[0] = lin_read64(c, insn_lin(c, &d->i, 8, ACC_READ));
    }
    xmm_t r = { .q = { 0, 0 } };
    sse_raise(c, (dbl ? h_cvtdq2pd : h_cvtdq2ps)(&r, &b, host_cfg(c)));
    if (d->i.mod == 3)
        mmx_commit(c);
    xmm_t *x = xmm_reg(c, d->i.reg);
    if (dbl)
        *x = r;
    else
        x->q[0] = r.q[0];
}
void op_cvtpi2ps(cpu_t *c, const dinsn_t *d) { cvtpi2f(c, d, false); }
void op_cvtpi2pd(cpu_t *c, const dinsn_t *d) { cvtpi2f(c, d, true); }

/* CVT(T)PS2PI mm, xmm/m64 and CVT(T)PD2PI mm, xmm/m128. */
static void cvtf2pi(cpu_t *c, const dinsn_t *d, sse_host_fn fn, bool dbl)
{
    sse_check(c, &d->i);
    mmx_check(c, &d->i);
    xmm_t b;
    if (dbl) {
        sse_read_w(c, &d->i, &b, true);
    } else {
        sse_read_w_low(c, &d->i, &b, 8);
        b.q[1] = 0;
    }
    xmm_t r = { .q = { 0, 0 } };
    sse_raise(c, fn(&r, &b, host_cfg(c)));
    mmx_commit(c);
    mm_set(c, d->i.reg, r.q[0]);
}
void op_cvtps2pi(cpu_t *c, const dinsn_t *d) { cvtf2pi(c, d, h_cvtps2dq, false); }
void op_cvttps2pi(cpu_t *c, const dinsn_t *d) { cvtf2pi(c, d, h_cvttps2dq, false); }
void op_cvtpd2pi(cpu_t *c, const dinsn_t *d) { cvtf2pi(c, d, h_cvtpd2dq, true); }
void op_cvttpd2pi(cpu_t *c, const dinsn_t *d) { cvtf2pi(c, d, h_cvttpd2dq, true); }

/* ---- DPPS/DPPD (SDM Vol. 2 "DPPS"): products of the lanes imm[7:4] selects
 * (others +0.0), summed pairwise with a rounding per step, broadcast to the
 * lanes imm[3:0] selects (others +0.0) ---- */
void op_dpps(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    xmm_t b, a = *xmm_reg(c, d->i.reg);
    sse_read_w(c, &d->i, &b, true);
    unsigned imm = (unsigned)d->i.imm;
    uint32_t cfg = host_cfg(c), fl;
    for (int i = 0; i < 4; i++)
        if (!((imm >> (4 + i)) & 1))
            a.d[i] = b.d[i] = 0;
    fl = h_mulps(&a, &b, cfg);
    xmm_t t2 = { .d = { a.d[0] } }, t1 = { .d = { a.d[1] } };
    xmm_t t3 = { .d = { a.d[2] } }, t4 = { .d = { a.d[3] } };
    fl |= h_addss(&t2, &t1, cfg);
    fl |= h_addss(&t3, &t4, cfg);
    fl |= h_addss(&t2, &t3, cfg);
    if (unlikely(!(c->fpu.mxcsr & (MXCSR_UE << 7))))
        fl |= tiny_lanes(&a, FMT_PS) | tiny_lanes(&t2, FMT_SS);
    sse_raise(c, fl);
    xmm_t *x = xmm_reg(c, d->i.reg);
    for (int i = 0; i < 4; i++)
        x->d[i] = ((imm >> i) & 1) ? t2.d[0] : 0;
}
void op_dppd(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    xmm_t b, a = *xmm_reg(c, d->i.reg);
    sse_read_w(c, &d->i, &b, true);
    unsigned imm = (unsigned)d->i.imm;
    uint32_t cfg = host_cfg(c), fl;
    for (int i = 0; i < 2; i++)
        if (!((imm >> (4 + i)) & 1))
            a.q[i] = b.q[i] = 0;
    fl = h_mulpd(&a, &b, cfg);
    xmm_t t0 = { .q = { a.q[0] } }, t1 = { .q = { a.q[1] } };
    fl |= h_addsd(&t0, &t1, cfg);
    if (unlikely(!(c->fpu.mxcsr & (MXCSR_UE << 7))))
        fl |= tiny_lanes(&a, FMT_PD) | tiny_lanes(&t0, FMT_SD);
    sse_raise(c, fl);
    xmm_t *x = xmm_reg(c, d->i.reg);
    for (int i = 0; i < 2; i++)
        x->q[i] = ((imm >> i) & 1) ? t0.q[0] : 0;
}
