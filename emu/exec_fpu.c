/* exec_fpu.c - the x87 FPU: register stack and tags, control/status words,
 * loads and stores, arithmetic, compares, transcendental ops, environment and
 * state save/restore (FNSTENV/FLDENV/FNSAVE/FRSTOR), FWAIT.
 *
 * SDM Vol. 1 chapter "Programming with the x87 FPU" and the Vol. 2 pages.
 * Arithmetic executes on the host x87 (emu/exec_fpu_host.h) under the guest's
 * precision and rounding control; this file owns the stack discipline (stack
 * faults, tags, pops), the exception masks and what reaches the destination:
 *  - a masked exception sets its flag and the instruction completes with the
 *    hardware's masked response;
 *  - an unmasked invalid-operation, zero-divide or denormal exception sets the
 *    flag and ES/B and leaves the destination, TOP and memory unchanged; the
 *    #MF is raised by the next waiting x87 instruction (fpu_check_pending);
 *  - an unmasked overflow or underflow of FADD/FSUB/FMUL/FDIV and their forms
 *    stores the SDM's exponent-biased result (x87_unbounded); for the other
 *    instructions (FSCALE, FPREM, the transcendental ones) it stores the
 *    masked response instead (known deviation; the flag, ES and the later #MF
 *    are as on hardware).
 */
#include <string.h>

#include "emu/cpumodel.h"
#include "emu/exec_fpu_host.h"
#include "emu/flags.h"

static const fpreg_t fp_indefinite = { FP_INDEF_SIG, FP_INDEF_SE, { 0, 0, 0 } };

/* ---- state helpers ---- */

static inline int st_phys(const cpu_t *c, int i)
{
    return (c->fpu.top + i) & 7;
}
static inline bool st_valid(const cpu_t *c, int i)
{
    return (c->fpu.ftw >> st_phys(c, i)) & 1;
}
static inline fpreg_t *st_reg(cpu_t *c, int i)
{
    return &c->fpu.st[st_phys(c, i)];
}
static inline void st_set(cpu_t *c, int i, const fpreg_t *v)
{
    int p = st_phys(c, i);
    c->fpu.st[p].sig = v->sig;
    c->fpu.st[p].se = v->se;
    c->fpu.ftw |= (uint8_t)(1u << p);
}
static inline void fpu_pop(cpu_t *c)
{
    c->fpu.ftw &= (uint8_t)~(1u << c->fpu.top);
    c->fpu.top = (c->fpu.top + 1) & 7;
}
static inline void fpu_push(cpu_t *c, const fpreg_t *v)
{
    c->fpu.top = (c->fpu.top - 1) & 7;
    st_set(c, 0, v);
}
static inline uint16_t host_cw(const cpu_t *c)
{
    return x87_host_cw(c->fpu.fcw);
}
static inline void set_cc(cpu_t *c, uint16_t mask, uint16_t val)
{
    c->fpu.fsw = (uint16_t)((c->fpu.fsw & ~mask) | (val & mask));
}

/* Record exceptions `ex` (FSW_EXC bits, and SF). Returns true if the
 * destination may be written: no unmasked invalid, zero-divide or denormal.
 * A model with CPUID.7:EBX.FDP_EXCPTN_ONLY updates FDP only here, when a
 * memory-operand instruction raises an unmasked exception. */
static bool fpu_exc(cpu_t *c, uint16_t ex)
{
    uint16_t unmasked = ex & ~c->fpu.fcw & FSW_EXC;
    c->fpu.fsw |= ex & (FSW_EXC | FSW_SF);
    if (unmasked) {
        c->fpu.fsw |= FSW_ES | FSW_B;
        if (c->fpu.dp_cur_valid) {
            c->fpu.fdp = c->fpu.dp_cur;
            c->fpu.fds = c->fpu.ds_cur;
        }
    }
    return !(unmasked & (FSW_IE | FSW_DE | FSW_ZE));
}
/* Exceptions of a host operation, plus the condition codes in `ccmask`. */
static bool fpu_result(cpu_t *c, uint16_t sw, uint16_t ccmask)
{
    if (!fpu_exc(c, sw & FSW_EXC))
        return false;
    set_cc(c, ccmask, sw);
    return true;
}
/* Stack underflow (SDM Vol. 1 "Stack Overflow or Underflow Exception (#IS)"):
 * IE and SF, C1 = 0. True when masked: the caller uses the QNaN indefinite. */
static bool fpu_underflow(cpu_t *c)
{
    c->fpu.fsw &= (uint16_t)~FSW_C1;
    return fpu_exc(c, FSW_IE | FSW_SF);
}
/* Push with the overflow check: a non-empty ST(7) is stack overflow (C1 = 1);
 * masked, the indefinite is pushed; unmasked, nothing changes. Returns true
 * if the caller should push its value itself. */
static bool fpu_push_ok(cpu_t *c)
{
    if (!((c->fpu.ftw >> st_phys(c, 7)) & 1)) {
        c->fpu.fsw &= (uint16_t)~FSW_C1;
        return true;
    }
    c->fpu.fsw |= FSW_C1;
    if (fpu_exc(c, FSW_IE | FSW_SF))
        fpu_push(c, &fp_indefinite);
    return false;
}

/* Waiting instruction entry: #NM, #MF, and the last-instruction pointers
 * (FIP/FCS/FOP; FDP/FDS for memory forms) that FNSTENV and FXSAVE report.
 * Models with CPUID.7:EBX.FPU_CSDS_DEPRECATED store FCS and FDS as zero. */
static void x87_begin(cpu_t *c, const dinsn_t *d)
{
    insn_feature_check(c, &d->i); /* FISTTP needs SSE3 */
    x87_check(c);
    c->fpu.fip = c->insn_rip;
    c->fpu.fcs = cpu_has(c, FEAT_FPU_CSDS_DEPRECATED) ? 0 : c->seg[S_CS].sel;
    c->fpu.fop = (uint16_t)(((d->i.opcode & 7) << 8) | d->i.modrm);
    c->fpu.dp_cur_valid = false;
}
/* Memory form: also the operand's address. */
static uint64_t x87_begin_mem(cpu_t *c, const dinsn_t *d, int size, enum mmu_access acc)
{
    x87_begin(c, d);
    uint64_t ea = insn_ea(c, &d->i);
    uint16_t ds = cpu_has(c, FEAT_FPU_CSDS_DEPRECATED) ? 0 : c->seg[d->i.seg].sel;
    if (cpu_has(c, FEAT_FDP_EXCPTN_ONLY)) {
        c->fpu.dp_cur = ea;
        c->fpu.ds_cur = ds;
        c->fpu.dp_cur_valid = true;
    } else {
        c->fpu.fdp = ea;
        c->fpu.fds = ds;
    }
    return insn_lin(c, &d->i, size, acc);
}

uint16_t fpu_full_tag(const fpu_state_t *f)
{
    uint16_t t = 0;
    for (int p = 0; p < 8; p++) {
        unsigned tag = ((f->ftw >> p) & 1) ? fpu_tag_of(&f->st[p]) : 3;
        t |= (uint16_t)(tag << (2 * p));
    }
    return t;
}

void fpu_x87_init(fpu_state_t *f)
{
    f->fcw = FCW_INIT;
    f->fsw = 0;
    f->top = 0;
    f->ftw = 0;
    f->fop = 0;
    f->fip = f->fdp = 0;
    f->fcs = f->fds = 0;
}

void fpu_reset(fpu_state_t *f)
{
    memset(f, 0, sizeof *f);
    f->fcw = 0x0040;
    f->ftw = 0xff;  /* full tag word 5555H: every register holds +0.0 */
    f->mxcsr = MXCSR_INIT;
}

/* ---- control instructions (no FIP/FOP update) ---- */

void op_fninit(cpu_t *c, const dinsn_t *d)
{
    x87_check_nowait(c);
    fpu_x87_init(&c->fpu);
}

void op_fnclex(cpu_t *c, const dinsn_t *d)
{
    x87_check_nowait(c);
    c->fpu.fsw &= (uint16_t)~(FSW_EXC | FSW_SF | FSW_ES | FSW_B);
}

/* FLDCW, FLDENV and FRSTOR do not deliver a pending exception themselves
 * (their SDM pages list no #MF): one they unmask is raised by the next
 * waiting instruction. */
void op_fldcw(cpu_t *c, const dinsn_t *d)
{
    x87_check_nowait(c);
    c->fpu.fcw = lin_read16(c, insn_lin(c, &d->i, 2, ACC_READ));
    fpu_update_es(&c->fpu);
}

void op_fnstcw(cpu_t *c, const dinsn_t *d)
{
    x87_check_nowait(c);
    lin_write16(c, insn_lin(c, &d->i, 2, ACC_WRITE), c->fpu.fcw);
}

void op_fnstsw_m(cpu_t *c, const dinsn_t *d)
{
    x87_check_nowait(c);
    lin_write16(c, insn_lin(c, &d->i, 2, ACC_WRITE), fpu_get_fsw(&c->fpu));
}

void op_fnstsw_ax(cpu_t *c, const dinsn_t *d)
{
    x87_check_nowait(c);
    c->gpr[R_RAX] = (c->gpr[R_RAX] & ~0xffffull) | fpu_get_fsw(&c->fpu);
}

/* WAIT/FWAIT: #NM only when both CR0.MP and CR0.TS are set (SDM Vol. 3A
 * "Interrupt 7—Device Not Available Exception (#NM)"). */
void op_fwait(cpu_t *c, const dinsn_t *d)
{
    if ((c->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
        cpu_fault(c, EXC_NM);
    fpu_check_pending(c);
}

/* FNOP and the 387-era FNENI/FNDISI/FNSETPM encodings, which execute as FNOP. */
void op_fnop(cpu_t *c, const dinsn_t *d)
{
    x87_begin(c, d);
}

/* ---- environment and state images (SDM Vol. 1 "Saving the x87 FPU State
 * with FSTENV/FNSTENV and FSAVE/FNSAVE": 14/28-byte real and protected mode
 * layouts) ---- */

static bool env_real(const cpu_t *c)
{
    return c->mode == MODE_REAL || c->mode == MODE_V86;
}

/* Environment image of `osize` (2 or 4) into buf; returns its length. */
static int env_put(const cpu_t *c, uint8_t *buf, int osize)
{
    const fpu_state_t *f = &c->fpu;
    uint32_t w[7];
    uint32_t fip = (uint32_t)f->fip, fdp = (uint32_t)f->fdp;
    w[0] = f->fcw;
    w[1] = fpu_get_fsw(f);
    w[2] = fpu_full_tag(f);
    if (env_real(c)) {
        /* real mode keeps 20/32-bit linear-style pointers split in two */
        w[3] = fip & 0xffff;
        w[4] = ((fip >> 16) << 12) | f->fop;
        w[5] = fdp & 0xffff;
        w[6] = (fdp >> 16) << 12;
    } else {
        w[3] = fip;
        w[4] = f->fcs | ((uint32_t)f->fop << 16);
        w[5] = fdp;
        w[6] = f->fds;
    }
    if (osize == 2) {
        for (int i = 0; i < 7; i++) {
            uint16_t v = (uint16_t)w[i];
            if (i == 4 && !env_real(c))
                v = f->fcs; /* 16-bit protected format has no FOP */
            memcpy(buf + 2 * i, &v, 2);
        }
        return 14;
    }
    /* 32-bit format: the upper halves of the first three words read as 0xffff */
    w[0] |= 0xffff0000u;
    w[1] |= 0xffff0000u;
    w[2] |= 0xffff0000u;
    memcpy(buf, w, 28);
    return 28;
}

static void env_get(cpu_t *c, const uint8_t *buf, int osize)
{
    fpu_state_t *f = &c->fpu;
    uint32_t w[7];
    if (osize == 2) {
        for (int i = 0; i < 7; i++) {
            uint16_t v;
            memcpy(&v, buf + 2 * i, 2);
            w[i] = v;
        }
    } else {
        memcpy(w, buf, 28);
    }
    f->fcw = (uint16_t)w[0];
    f->ftw = fpu_abridge_tag((uint16_t)w[2]);
    if (env_real(c)) {
        f->fip = (w[3] & 0xffff) | ((w[4] >> 12) << 16);
        f->fop = w[4] & 0x7ff;
        f->fdp = (w[5] & 0xffff) | ((w[6] >> 12) << 16);
    } else {
        f->fip = w[3];
        f->fcs = (uint16_t)w[4];
        f->fop = osize == 2 ? 0 : (w[4] >> 16) & 0x7ff;
        f->fdp = w[5];
        f->fds = (uint16_t)w[6];
    }
    fpu_set_fsw(f, (uint16_t)w[1]); /* after fcw: ES follows the new masks */
}

static int env_size(const dinsn_t *d)
{
    return d->i.osize == 2 ? 14 : 28;
}

void op_fnstenv(cpu_t *c, const dinsn_t *d)
{
    x87_check_nowait(c);
    uint8_t buf[28];
    int n = env_size(d);
    uint64_t la = insn_lin(c, &d->i, n, ACC_WRITE);
    env_put(c, buf, d->i.osize == 2 ? 2 : 4);
    lin_write_bytes(c, la, buf, n);
    /* FNSTENV then masks every exception */
    c->fpu.fcw |= FCW_EXC;
    fpu_update_es(&c->fpu);
}

void op_fldenv(cpu_t *c, const dinsn_t *d)
{
    x87_check_nowait(c);
    uint8_t buf[28];
    int n = env_size(d);
    lin_read_bytes(c, insn_lin(c, &d->i, n, ACC_READ), buf, n);
    env_get(c, buf, d->i.osize == 2 ? 2 : 4);
}

void op_fnsave(cpu_t *c, const dinsn_t *d)
{
    x87_check_nowait(c);
    uint8_t buf[28 + 80];
    int n = env_size(d);
    uint64_t la = insn_lin(c, &d->i, n + 80, ACC_WRITE);
    env_put(c, buf, d->i.osize == 2 ? 2 : 4);
    for (int i = 0; i < 8; i++) {
        const fpreg_t *r = st_reg(c, i);
        memcpy(buf + n + 10 * i, &r->sig, 8);
        memcpy(buf + n + 10 * i + 8, &r->se, 2);
    }
    lin_write_bytes(c, la, buf, n + 80);
    fpu_x87_init(&c->fpu);
}

void op_frstor(cpu_t *c, const dinsn_t *d)
{
    x87_check_nowait(c);
    uint8_t buf[28 + 80];
    int n = env_size(d);
    lin_read_bytes(c, insn_lin(c, &d->i, n + 80, ACC_READ), buf, n + 80);
    env_get(c, buf, d->i.osize == 2 ? 2 : 4);
    for (int i = 0; i < 8; i++) {
        fpreg_t *r = st_reg(c, i);
        memcpy(&r->sig, buf + n + 10 * i, 8);
        memcpy(&r->se, buf + n + 10 * i + 8, 2);
    }
}

/* ---- loads ---- */

/* Push a value converted by the host (FLD m32/m64, FILD, FBLD, constants). */
static void x87_load(cpu_t *c, x87_load_fn fn, const uint64_t *m)
{
    if (!fpu_push_ok(c))
        return;
    fpreg_t r;
    uint16_t sw = fn(&r, m, host_cw(c));
    if (fpu_exc(c, sw & FSW_EXC))
        fpu_push(c, &r);
}

#define X87_LOAD_MEM(name, fn, size)                                            \
    void name(cpu_t *c, const dinsn_t *d)                                       \
    {                                                                           \
        uint64_t m[2] = { 0, 0 };                                               \
        uint64_t la = x87_begin_mem(c, d, size, ACC_READ);                      \
        lin_read_bytes(c, la, m, size);                                         \
        x87_load(c, fn, m);                                                     \
    }
X87_LOAD_MEM(op_fld_m32, hx_ld_m32, 4)
X87_LOAD_MEM(op_fld_m64, hx_ld_m64, 8)
X87_LOAD_MEM(op_fild_m16, hx_ild_m16, 2)
X87_LOAD_MEM(op_fild_m32, hx_ild_m32, 4)
X87_LOAD_MEM(op_fild_m64, hx_ild_m64, 8)
X87_LOAD_MEM(op_fbld, hx_bld, 10)
#undef X87_LOAD_MEM

#define X87_LOAD_CONST(name, fn)                                                \
    void name(cpu_t *c, const dinsn_t *d)                                       \
    {                                                                           \
        static const uint64_t none[2];                                          \
        x87_begin(c, d);                                                        \
        x87_load(c, fn, none);                                                  \
    }
X87_LOAD_CONST(op_fld1, hx_ld1)
X87_LOAD_CONST(op_fldl2t, hx_ldl2t)
X87_LOAD_CONST(op_fldl2e, hx_ldl2e)
X87_LOAD_CONST(op_fldpi, hx_ldpi)
X87_LOAD_CONST(op_fldlg2, hx_ldlg2)
X87_LOAD_CONST(op_fldln2, hx_ldln2)
X87_LOAD_CONST(op_fldz, hx_ldz)
#undef X87_LOAD_CONST

/* FLD m80fp: an exact copy, no exceptions but stack overflow. */
void op_fld_m80(cpu_t *c, const dinsn_t *d)
{
    uint8_t b[10];
    uint64_t la = x87_begin_mem(c, d, 10, ACC_READ);
    lin_read_bytes(c, la, b, 10);
    if (!fpu_push_ok(c))
        return;
    fpreg_t r = { 0, 0, { 0, 0, 0 } };
    memcpy(&r.sig, b, 8);
    memcpy(&r.se, b + 8, 2);
    fpu_push(c, &r);
}

void op_fld_sti(cpu_t *c, const dinsn_t *d)
{
    x87_begin(c, d);
    fpreg_t r = st_valid(c, d->i.rm & 7) ? *st_reg(c, d->i.rm & 7) : fp_indefinite;
    bool empty = !st_valid(c, d->i.rm & 7);
    if (!fpu_push_ok(c))
        return;
    if (empty && !fpu_underflow(c))
        return;
    fpu_push(c, &r);
}

/* ---- stores ---- */

/* Exponent masks of the m32fp/m64fp formats: a stored value whose exponent
 * field is zero and significand is not is tiny. */
static const uint64_t fmt_exp_mask[9] = { [4] = 0x7f800000ull, [8] = 0x7ff0000000000000ull };

/* Store ST(0) converted by the host; `pop` for the P forms. Unmasked invalid,
 * overflow or underflow leave memory and the stack unchanged. `fp` marks the
 * floating-point formats, where with #U unmasked a tiny result signals #U
 * even when exact (SDM Vol. 1 "Numeric Underflow Exception (#U)"). */
static void x87_store(cpu_t *c, const dinsn_t *d, x87_store_fn fn, int size, bool pop, bool fp)
{
    uint64_t la = x87_begin_mem(c, d, size, ACC_WRITE);
    uint64_t m[2] = { 0, 0 };
    uint16_t sw;
    if (!st_valid(c, 0)) {
        if (!fpu_underflow(c))
            return;
        sw = fn(m, &fp_indefinite, host_cw(c)); /* the format's indefinite */
    } else {
        sw = fn(m, st_reg(c, 0), host_cw(c));
        if (fp && !(c->fpu.fcw & FSW_UE) && !(m[0] & fmt_exp_mask[size]) &&
            (m[0] & ~fmt_exp_mask[size] & (fmt_exp_mask[size] - 1)))
            sw |= FSW_UE;
        uint16_t unm = sw & ~c->fpu.fcw & (FSW_IE | FSW_OE | FSW_UE);
        fpu_exc(c, sw & FSW_EXC);
        set_cc(c, FSW_C1, sw);
        if (unm)
            return;
    }
    lin_write_bytes(c, la, m, size);
    if (pop)
        fpu_pop(c);
}

#define X87_STORE(name, fn, size, pop, fp)                                      \
    void name(cpu_t *c, const dinsn_t *d) { x87_store(c, d, fn, size, pop, fp); }
X87_STORE(op_fst_m32, hx_st_m32, 4, false, true)
X87_STORE(op_fstp_m32, hx_st_m32, 4, true, true)
X87_STORE(op_fst_m64, hx_st_m64, 8, false, true)
X87_STORE(op_fstp_m64, hx_st_m64, 8, true, true)
X87_STORE(op_fist_m16, hx_ist_m16, 2, false, false)
X87_STORE(op_fistp_m16, hx_ist_m16, 2, true, false)
X87_STORE(op_fist_m32, hx_ist_m32, 4, false, false)
X87_STORE(op_fistp_m32, hx_ist_m32, 4, true, false)
X87_STORE(op_fistp_m64, hx_ist_m64, 8, true, false)
X87_STORE(op_fisttp_m16, hx_istt_m16, 2, true, false)
X87_STORE(op_fisttp_m32, hx_istt_m32, 4, true, false)
X87_STORE(op_fisttp_m64, hx_istt_m64, 8, true, false)
X87_STORE(op_fbstp, hx_bstp, 10, true, false)
#undef X87_STORE

/* FSTP m80fp: exact copy. */
void op_fstp_m80(cpu_t *c, const dinsn_t *d)
{
    uint64_t la = x87_begin_mem(c, d, 10, ACC_WRITE);
    const fpreg_t *r = &fp_indefinite;
    if (!st_valid(c, 0)) {
        if (!fpu_underflow(c))
            return;
    } else {
        r = st_reg(c, 0);
        c->fpu.fsw &= (uint16_t)~FSW_C1;
    }
    uint8_t b[10];
    memcpy(b, &r->sig, 8);
    memcpy(b + 8, &r->se, 2);
    lin_write_bytes(c, la, b, 10);
    fpu_pop(c);
}

/* FST/FSTP ST(i): copy ST(0) to ST(i). */
static void x87_st_sti(cpu_t *c, const dinsn_t *d, bool pop)
{
    x87_begin(c, d);
    const fpreg_t *r = &fp_indefinite;
    if (!st_valid(c, 0)) {
        if (!fpu_underflow(c))
            return;
    } else {
        r = st_reg(c, 0);
        c->fpu.fsw &= (uint16_t)~FSW_C1;
    }
    fpreg_t v = *r;
    st_set(c, d->i.rm & 7, &v);
    if (pop)
        fpu_pop(c);
}
void op_fst_sti(cpu_t *c, const dinsn_t *d) { x87_st_sti(c, d, false); }
void op_fstp_sti(cpu_t *c, const dinsn_t *d) { x87_st_sti(c, d, true); }

/* ---- arithmetic ---- */

/* The two-operand arithmetic operations: the host function (a = destination
 * role, b = source role) and how its result scales with the operands'
 * exponents, which the bias-adjusted path below needs. */
enum x87_scale { SC_ADD, SC_MUL, SC_DIV, SC_DIVR };
typedef struct x87_arith {
    x87_reg_fn fn;
    enum x87_scale scale;
} x87_arith_t;

#define FP_BIAS 0x3fff
#define FP_BIAS_ADJUST 24576 /* 3 * 2^13 */

/* Normalised view of a finite non-zero 80-bit value: value = sig * 2^(e -
 * FP_BIAS - 63) with bit 63 of sig set (denormals get e < 1). */
static void fp_norm(const fpreg_t *x, int *e, uint64_t *sig)
{
    int ex = x->se & 0x7fff;
    uint64_t s = x->sig;
    if (ex == 0)
        ex = 1;
    while (!(s >> 63)) {
        s <<= 1;
        ex--;
    }
    *e = ex;
    *sig = s;
}
static bool fp_finite_nonzero(const fpreg_t *x)
{
    return (x->se & 0x7fff) != 0x7fff && x->sig != 0;
}
static fpreg_t fp_make(uint16_t sign, int e, uint64_t sig)
{
    fpreg_t r = { sig, (uint16_t)(sign | (unsigned)e), { 0, 0, 0 } };
    return r;
}

/* Unmasked numeric overflow or underflow with a register destination (SDM
 * Vol. 1 "Numeric Overflow Exception (#O)", "Numeric Underflow Exception
 * (#U)"): the destination gets the result rounded with an unbounded exponent,
 * the exponent then divided (overflow) or multiplied (underflow) by 2^24576.
 * The host recomputes with the operands' exponents moved to the middle of the
 * range, which changes no significand bit and therefore no rounding, and the
 * exponent is put back by hand. With the underflow exception unmasked a tiny
 * result signals #U even when exact. `sw` is the masked computation's status
 * and *r its result; both are replaced when the adjustment applies. */
static uint16_t x87_unbounded(cpu_t *c, const x87_arith_t *op, const fpreg_t *a, const fpreg_t *b,
                              uint16_t sw, fpreg_t *r)
{
    uint16_t unm = ~c->fpu.fcw & (FSW_OE | FSW_UE);
    if (likely(!unm))
        return sw;
    if ((unm & FSW_UE) && (r->se & 0x7fff) == 0 && r->sig)
        sw |= FSW_UE; /* tiny, possibly exact */
    bool over = sw & unm & FSW_OE;
    if (!(sw & unm & (FSW_OE | FSW_UE)) || (sw & ~c->fpu.fcw & (FSW_IE | FSW_DE | FSW_ZE)))
        return sw;
    if (!fp_finite_nonzero(a) && !(op->scale == SC_ADD && (a->se & 0x7fff) != 0x7fff))
        return sw;
    if (!fp_finite_nonzero(b) && !(op->scale == SC_ADD && (b->se & 0x7fff) != 0x7fff))
        return sw;
    int ea = FP_BIAS, eb = FP_BIAS, delta;
    uint64_t ma = 0, mb = 0;
    if (a->sig)
        fp_norm(a, &ea, &ma);
    if (b->sig)
        fp_norm(b, &eb, &mb);
    fpreg_t sa, sb;
    if (op->scale == SC_ADD) {
        /* a common scale; an operand too small to matter except as a sticky
         * bit is replaced by another such value of the same sign */
        int emax = !a->sig ? eb : !b->sig ? ea : ea > eb ? ea : eb;
        int xa = ea - emax + FP_BIAS, xb = eb - emax + FP_BIAS;
        sa = !a->sig ? *a : fp_make(a->se & 0x8000, xa > 100 ? xa : 100, xa > 100 ? ma : 1ull << 63);
        sb = !b->sig ? *b : fp_make(b->se & 0x8000, xb > 100 ? xb : 100, xb > 100 ? mb : 1ull << 63);
        delta = emax - FP_BIAS;
    } else {
        sa = fp_make(a->se & 0x8000, FP_BIAS, ma);
        sb = fp_make(b->se & 0x8000, FP_BIAS, mb);
        delta = op->scale == SC_MUL ? (ea - FP_BIAS) + (eb - FP_BIAS)
              : op->scale == SC_DIV ? (ea - FP_BIAS) - (eb - FP_BIAS)
                                    : (eb - FP_BIAS) - (ea - FP_BIAS);
    }
    fpreg_t q, junk;
    uint16_t qsw = op->fn(&q, &junk, &sa, &sb, host_cw(c));
    if (!q.sig) /* exact cancellation: zero is neither tiny nor huge */
        return sw & ~FSW_UE;
    int e = (q.se & 0x7fff) + delta + (over ? -FP_BIAS_ADJUST : FP_BIAS_ADJUST);
    if (e < 1 || e > 0x7ffe)
        return sw;
    *r = fp_make(q.se & 0x8000, e, q.sig);
    return (uint16_t)((sw & ~(FSW_C1 | FSW_PE)) | (qsw & (FSW_C1 | FSW_PE)));
}

/* ST(di) = ST(di) op ST(si), optionally popping. */
static void x87_arith_reg(cpu_t *c, const dinsn_t *d, const x87_arith_t *op, int di, int si, bool pop)
{
    x87_begin(c, d);
    fpreg_t r, junk;
    if (!st_valid(c, di) || !st_valid(c, si)) {
        if (!fpu_underflow(c))
            return;
        r = fp_indefinite;
    } else {
        const fpreg_t *a = st_reg(c, di), *b = st_reg(c, si);
        uint16_t sw = op->fn(&r, &junk, a, b, host_cw(c));
        if (!fpu_result(c, x87_unbounded(c, op, a, b, sw, &r), FSW_C1))
            return;
    }
    st_set(c, di, &r);
    if (pop)
        fpu_pop(c);
}

/* ST(0) = ST(0) op m; `load` converts m to 80 bits (exactly) for the
 * unbounded-exponent path. */
static void x87_arith_mem(cpu_t *c, const dinsn_t *d, x87_mem_fn fn, const x87_arith_t *op,
                          x87_load_fn load, int size)
{
    uint64_t la = x87_begin_mem(c, d, size, ACC_READ);
    uint64_t m = lin_read(c, la, size);
    fpreg_t r;
    if (!st_valid(c, 0)) {
        if (!fpu_underflow(c))
            return;
        r = fp_indefinite;
    } else {
        const fpreg_t *a = st_reg(c, 0);
        uint16_t sw = fn(&r, a, &m, host_cw(c));
        if (unlikely(~c->fpu.fcw & (FSW_OE | FSW_UE))) {
            fpreg_t b;
            load(&b, &m, host_cw(c));
            sw = x87_unbounded(c, op, a, &b, sw, &r);
        }
        if (!fpu_result(c, sw, FSW_C1))
            return;
    }
    st_set(c, 0, &r);
}

#define X87_ARITH(op, scale)                                                                   \
    static const x87_arith_t xa_##op = { hx_##op, scale };                                     \
    void op_f##op##_st0sti(cpu_t *c, const dinsn_t *d) { x87_arith_reg(c, d, &xa_##op, 0, d->i.rm & 7, false); } \
    void op_f##op##_stist0(cpu_t *c, const dinsn_t *d) { x87_arith_reg(c, d, &xa_##op, d->i.rm & 7, 0, false); } \
    void op_f##op##p_stist0(cpu_t *c, const dinsn_t *d) { x87_arith_reg(c, d, &xa_##op, d->i.rm & 7, 0, true); } \
    void op_f##op##_m32(cpu_t *c, const dinsn_t *d) { x87_arith_mem(c, d, hx_##op##_m32, &xa_##op, hx_ld_m32, 4); } \
    void op_f##op##_m64(cpu_t *c, const dinsn_t *d) { x87_arith_mem(c, d, hx_##op##_m64, &xa_##op, hx_ld_m64, 8); } \
    void op_fi##op##_m16(cpu_t *c, const dinsn_t *d) { x87_arith_mem(c, d, hx_i##op##_m16, &xa_##op, hx_ild_m16, 2); } \
    void op_fi##op##_m32(cpu_t *c, const dinsn_t *d) { x87_arith_mem(c, d, hx_i##op##_m32, &xa_##op, hx_ild_m32, 4); }
X87_ARITH(add, SC_ADD)
X87_ARITH(mul, SC_MUL)
X87_ARITH(sub, SC_ADD)
X87_ARITH(subr, SC_ADD)
X87_ARITH(div, SC_DIV)
X87_ARITH(divr, SC_DIVR)
#undef X87_ARITH

/* ---- compares ---- */

/* Condition codes C3 C2 C0 of a compare; C1 = 0. `npop` pops after. */
static void x87_cc_result(cpu_t *c, bool ok, uint16_t sw, int npop)
{
    if (!ok)
        return;
    set_cc(c, FSW_CC, sw & (FSW_C0 | FSW_C2 | FSW_C3));
    while (npop--)
        fpu_pop(c);
}

static void x87_com_reg(cpu_t *c, const dinsn_t *d, x87_reg_fn fn, int si, int npop)
{
    x87_begin(c, d);
    fpreg_t j0, j1;
    if (!st_valid(c, 0) || !st_valid(c, si)) {
        x87_cc_result(c, fpu_underflow(c), FSW_C0 | FSW_C2 | FSW_C3, npop);
        return;
    }
    uint16_t sw = fn(&j0, &j1, st_reg(c, 0), st_reg(c, si), host_cw(c));
    x87_cc_result(c, fpu_exc(c, sw & FSW_EXC), sw, npop);
}

static void x87_com_mem(cpu_t *c, const dinsn_t *d, x87_mem_fn fn, int size, int npop)
{
    uint64_t la = x87_begin_mem(c, d, size, ACC_READ);
    uint64_t m = lin_read(c, la, size);
    fpreg_t j;
    if (!st_valid(c, 0)) {
        x87_cc_result(c, fpu_underflow(c), FSW_C0 | FSW_C2 | FSW_C3, npop);
        return;
    }
    uint16_t sw = fn(&j, st_reg(c, 0), &m, host_cw(c));
    x87_cc_result(c, fpu_exc(c, sw & FSW_EXC), sw, npop);
}

void op_fcom_sti(cpu_t *c, const dinsn_t *d) { x87_com_reg(c, d, hx_com, d->i.rm & 7, 0); }
void op_fcomp_sti(cpu_t *c, const dinsn_t *d) { x87_com_reg(c, d, hx_com, d->i.rm & 7, 1); }
void op_fcompp(cpu_t *c, const dinsn_t *d) { x87_com_reg(c, d, hx_com, 1, 2); }
void op_fucom_sti(cpu_t *c, const dinsn_t *d) { x87_com_reg(c, d, hx_ucom, d->i.rm & 7, 0); }
void op_fucomp_sti(cpu_t *c, const dinsn_t *d) { x87_com_reg(c, d, hx_ucom, d->i.rm & 7, 1); }
void op_fucompp(cpu_t *c, const dinsn_t *d) { x87_com_reg(c, d, hx_ucom, 1, 2); }
void op_fcom_m32(cpu_t *c, const dinsn_t *d) { x87_com_mem(c, d, hx_com_m32, 4, 0); }
void op_fcomp_m32(cpu_t *c, const dinsn_t *d) { x87_com_mem(c, d, hx_com_m32, 4, 1); }
void op_fcom_m64(cpu_t *c, const dinsn_t *d) { x87_com_mem(c, d, hx_com_m64, 8, 0); }
void op_fcomp_m64(cpu_t *c, const dinsn_t *d) { x87_com_mem(c, d, hx_com_m64, 8, 1); }
void op_ficom_m16(cpu_t *c, const dinsn_t *d) { x87_com_mem(c, d, hx_icom_m16, 2, 0); }
void op_ficomp_m16(cpu_t *c, const dinsn_t *d) { x87_com_mem(c, d, hx_icom_m16, 2, 1); }
void op_ficom_m32(cpu_t *c, const dinsn_t *d) { x87_com_mem(c, d, hx_icom_m32, 4, 0); }
void op_ficomp_m32(cpu_t *c, const dinsn_t *d) { x87_com_mem(c, d, hx_icom_m32, 4, 1); }

void op_ftst(cpu_t *c, const dinsn_t *d)
{
    x87_begin(c, d);
    fpreg_t j0, j1;
    if (!st_valid(c, 0)) {
        x87_cc_result(c, fpu_underflow(c), FSW_C0 | FSW_C2 | FSW_C3, 0);
        return;
    }
    uint16_t sw = hx_tst(&j0, &j1, st_reg(c, 0), st_reg(c, 0), host_cw(c));
    x87_cc_result(c, fpu_exc(c, sw & FSW_EXC), sw, 0);
}

/* FCOMI/FUCOMI(P): ZF, PF, CF from the compare (C3, C2, C0 map onto them);
 * OF, SF, AF cleared. */
static void x87_comi(cpu_t *c, const dinsn_t *d, x87_reg_fn fn, bool pop)
{
    x87_begin(c, d);
    int si = d->i.rm & 7;
    uint16_t cc;
    fpreg_t j0, j1;
    c->fpu.fsw &= (uint16_t)~FSW_C1;
    if (!st_valid(c, 0) || !st_valid(c, si)) {
        if (!fpu_underflow(c))
            return;
        cc = FSW_C0 | FSW_C2 | FSW_C3;
    } else {
        uint16_t sw = fn(&j0, &j1, st_reg(c, 0), st_reg(c, si), host_cw(c));
        if (!fpu_exc(c, sw & FSW_EXC))
            return;
        cc = sw;
    }
    uint64_t fl = (cc & FSW_C3 ? F_ZF : 0) | (cc & FSW_C2 ? F_PF : 0) | (cc & FSW_C0 ? F_CF : 0);
    cpu_set_arith(c, fl);
    if (pop)
        fpu_pop(c);
}
void op_fcomi(cpu_t *c, const dinsn_t *d) { x87_comi(c, d, hx_com, false); }
void op_fcomip(cpu_t *c, const dinsn_t *d) { x87_comi(c, d, hx_com, true); }
void op_fucomi(cpu_t *c, const dinsn_t *d) { x87_comi(c, d, hx_ucom, false); }
void op_fucomip(cpu_t *c, const dinsn_t *d) { x87_comi(c, d, hx_ucom, true); }

/* FCMOVcc: ST(0) = ST(i) if the EFLAGS condition holds. */
static void x87_fcmov(cpu_t *c, const dinsn_t *d, bool cond)
{
    x87_begin(c, d);
    int si = d->i.rm & 7;
    if (!st_valid(c, 0) || !st_valid(c, si)) {
        if (fpu_underflow(c) && cond)
            st_set(c, 0, &fp_indefinite);
        return;
    }
    c->fpu.fsw &= (uint16_t)~FSW_C1;
    if (cond) {
        fpreg_t v = *st_reg(c, si);
        st_set(c, 0, &v);
    }
}
void op_fcmovb(cpu_t *c, const dinsn_t *d) { x87_fcmov(c, d, flag_cf(c)); }
void op_fcmove(cpu_t *c, const dinsn_t *d) { x87_fcmov(c, d, flag_zf(c)); }
void op_fcmovbe(cpu_t *c, const dinsn_t *d) { x87_fcmov(c, d, flag_cf(c) | flag_zf(c)); }
void op_fcmovu(cpu_t *c, const dinsn_t *d) { x87_fcmov(c, d, flag_pf(c)); }
void op_fcmovnb(cpu_t *c, const dinsn_t *d) { x87_fcmov(c, d, !flag_cf(c)); }
void op_fcmovne(cpu_t *c, const dinsn_t *d) { x87_fcmov(c, d, !flag_zf(c)); }
void op_fcmovnbe(cpu_t *c, const dinsn_t *d) { x87_fcmov(c, d, !(flag_cf(c) | flag_zf(c))); }
void op_fcmovnu(cpu_t *c, const dinsn_t *d) { x87_fcmov(c, d, !flag_pf(c)); }

/* ---- one-operand and special operations ---- */

/* ST(0) = fn(ST(0)); `ccmask` names the condition codes the op defines. */
static void x87_unary(cpu_t *c, const dinsn_t *d, x87_reg_fn fn, uint16_t ccmask)
{
    x87_begin(c, d);
    fpreg_t r, junk;
    if (!st_valid(c, 0)) {
        if (!fpu_underflow(c))
            return;
        r = fp_indefinite;
    } else {
        uint16_t sw = fn(&r, &junk, st_reg(c, 0), st_reg(c, 0), host_cw(c));
        if (!fpu_result(c, sw, ccmask))
            return;
        /* FSIN/FCOS with |x| >= 2^63: C2 = 1 and ST(0) unchanged */
        if (sw & ccmask & FSW_C2)
            return;
    }
    st_set(c, 0, &r);
}
void op_fsqrt(cpu_t *c, const dinsn_t *d) { x87_unary(c, d, hx_sqrt, FSW_C1); }
void op_frndint(cpu_t *c, const dinsn_t *d) { x87_unary(c, d, hx_rndint, FSW_C1); }
void op_f2xm1(cpu_t *c, const dinsn_t *d) { x87_unary(c, d, hx_f2xm1, FSW_C1); }
void op_fsin(cpu_t *c, const dinsn_t *d) { x87_unary(c, d, hx_sin, FSW_C1 | FSW_C2); }
void op_fcos(cpu_t *c, const dinsn_t *d) { x87_unary(c, d, hx_cos, FSW_C1 | FSW_C2); }

/* Two-operand ops on ST(0) and ST(1). FPREM/FPREM1/FSCALE write ST(0);
 * FPATAN/FYL2X/FYL2XP1 write ST(1) and pop. */
static void x87_binary01(cpu_t *c, const dinsn_t *d, x87_reg_fn fn, uint16_t ccmask, bool to_st1)
{
    x87_begin(c, d);
    fpreg_t r, junk;
    if (!st_valid(c, 0) || !st_valid(c, 1)) {
        if (!fpu_underflow(c))
            return;
        r = fp_indefinite;
    } else if (!fpu_result(c, fn(&r, &junk, st_reg(c, 0), st_reg(c, 1), host_cw(c)), ccmask)) {
        return;
    }
    if (to_st1) {
        st_set(c, 1, &r);
        fpu_pop(c);
    } else {
        st_set(c, 0, &r);
    }
}
void op_fprem(cpu_t *c, const dinsn_t *d) { x87_binary01(c, d, hx_prem, FSW_CC, false); }
void op_fprem1(cpu_t *c, const dinsn_t *d) { x87_binary01(c, d, hx_prem1, FSW_CC, false); }
void op_fscale(cpu_t *c, const dinsn_t *d) { x87_binary01(c, d, hx_scale, FSW_C1, false); }
void op_fpatan(cpu_t *c, const dinsn_t *d) { x87_binary01(c, d, hx_patan, FSW_C1, true); }
void op_fyl2x(cpu_t *c, const dinsn_t *d) { x87_binary01(c, d, hx_yl2x, FSW_C1, true); }
void op_fyl2xp1(cpu_t *c, const dinsn_t *d) { x87_binary01(c, d, hx_yl2xp1, FSW_C1, true); }

/* FPTAN, FSINCOS, FXTRACT: ST(0) = r1, then push r0. FPTAN/FSINCOS with an
 * out-of-range operand set C2 and change nothing else. */
static void x87_split(cpu_t *c, const dinsn_t *d, x87_reg_fn fn, uint16_t ccmask)
{
    x87_begin(c, d);
    fpreg_t r0 = fp_indefinite, r1 = fp_indefinite;
    if (!st_valid(c, 0)) {
        if (!fpu_underflow(c))
            return;
    } else if (!fpu_push_ok(c)) {
        return; /* stack overflow (masked: the indefinite was pushed) */
    } else {
        uint16_t sw = fn(&r0, &r1, st_reg(c, 0), st_reg(c, 0), host_cw(c));
        if (!fpu_result(c, sw, ccmask) || (sw & ccmask & FSW_C2))
            return;
    }
    st_set(c, 0, &r1);
    fpu_push(c, &r0);
}
void op_fptan(cpu_t *c, const dinsn_t *d) { x87_split(c, d, hx_ptan, FSW_C1 | FSW_C2); }
void op_fsincos(cpu_t *c, const dinsn_t *d) { x87_split(c, d, hx_sincos, FSW_C1 | FSW_C2); }
void op_fxtract(cpu_t *c, const dinsn_t *d) { x87_split(c, d, hx_xtract, FSW_C1); }

/* FCHS/FABS: sign-bit operations, no exceptions but stack underflow. */
static void x87_sign(cpu_t *c, const dinsn_t *d, uint16_t and_mask, uint16_t xor_mask)
{
    x87_begin(c, d);
    if (!st_valid(c, 0)) {
        if (fpu_underflow(c))
            st_set(c, 0, &fp_indefinite);
        return;
    }
    fpreg_t *r = st_reg(c, 0);
    r->se = (uint16_t)((r->se & and_mask) ^ xor_mask);
    c->fpu.fsw &= (uint16_t)~FSW_C1;
}
void op_fchs(cpu_t *c, const dinsn_t *d) { x87_sign(c, d, 0xffff, 0x8000); }
void op_fabs(cpu_t *c, const dinsn_t *d) { x87_sign(c, d, 0x7fff, 0); }

/* FXAM: class of ST(0) in C3 C2 C0, sign in C1 (SDM Vol. 2 "FXAM"). */
void op_fxam(cpu_t *c, const dinsn_t *d)
{
    x87_begin(c, d);
    const fpreg_t *r = st_reg(c, 0);
    unsigned e = r->se & 0x7fff;
    bool j = r->sig >> 63;
    uint16_t cc;
    if (!st_valid(c, 0))
        cc = FSW_C3 | FSW_C0;                 /* empty */
    else if (e == 0)
        cc = r->sig ? FSW_C3 | FSW_C2 : FSW_C3; /* denormal (incl. pseudo) : zero */
    else if (e == 0x7fff)
        cc = !j ? 0 : (r->sig << 1) ? FSW_C0 : FSW_C2 | FSW_C0; /* unsupported, NaN, infinity */
    else
        cc = j ? FSW_C2 : 0;                  /* normal : unnormal (unsupported) */
    if (r->se & 0x8000)
        cc |= FSW_C1;
    set_cc(c, FSW_CC, cc);
}

void op_fxch(cpu_t *c, const dinsn_t *d)
{
    x87_begin(c, d);
    int si = d->i.rm & 7;
    fpreg_t a = st_valid(c, 0) ? *st_reg(c, 0) : fp_indefinite;
    fpreg_t b = st_valid(c, si) ? *st_reg(c, si) : fp_indefinite;
    if ((!st_valid(c, 0) || !st_valid(c, si)) && !fpu_underflow(c))
        return;
    if (st_valid(c, 0) && st_valid(c, si))
        c->fpu.fsw &= (uint16_t)~FSW_C1;
    st_set(c, 0, &b);
    st_set(c, si, &a);
}

void op_ffree(cpu_t *c, const dinsn_t *d)
{
    x87_begin(c, d);
    c->fpu.ftw &= (uint8_t)~(1u << st_phys(c, d->i.rm & 7));
}

/* FFREEP: the undocumented DF C0+i, free ST(i) then pop. */
void op_ffreep(cpu_t *c, const dinsn_t *d)
{
    op_ffree(c, d);
    fpu_pop(c);
}

void op_fincstp(cpu_t *c, const dinsn_t *d)
{
    x87_begin(c, d);
    c->fpu.top = (c->fpu.top + 1) & 7;
    c->fpu.fsw &= (uint16_t)~FSW_C1;
}

void op_fdecstp(cpu_t *c, const dinsn_t *d)
{
    x87_begin(c, d);
    c->fpu.top = (c->fpu.top - 1) & 7;
    c->fpu.fsw &= (uint16_t)~FSW_C1;
}
