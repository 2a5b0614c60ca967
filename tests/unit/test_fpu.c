/* test_fpu.c - the x87 FPU (stack, tags, exceptions, #NM/#MF, loads/stores,
 * arithmetic against the host's long double, compares, environment and state
 * images) and the FXSAVE/FXRSTOR and XSAVE/XRSTOR images and fault rules.
 *
 * Handlers run on a real machine_t in 64-bit mode; the first 4 MiB of linear
 * addresses are mapped 1:1 by filling the TLB.
 */
#include <fenv.h>
#include <float.h>
#include <math.h>

#include "emu/flags.h"
#include "emu/fpu.h"
#include "fixture.h"

static machine_t *m;
static cpu_t *c;

#define RIP0 0x1000
#define BUF 0x20000

static void mode64(void)
{
    c->xcr0 = 3;
    fx_mode64(c, CR0_PE | CR0_PG | CR0_MP | CR0_NE | CR0_ET,
              CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE);
    fpu_reset(&c->fpu);
}

static int setup(void **state)
{
    return fx_setup_flat(&m, &c);
}

static int teardown(void **state)
{
    machine_free(m);
    return 0;
}

static int per_test(void **state)
{
    mode64();
    memset(m->ram + BUF, 0xcc, 0x2000);
    return 0;
}

/* Forms: register (ModRM.rm = i for ST(i)) and absolute memory. */
static dinsn_t sti(int i)
{
    dinsn_t d = fx_insn(4, 8, 2);
    d.i.rm = (uint8_t)i;
    d.i.modrm = (uint8_t)(0xc0 | i);
    d.i.opcode = 0xd8;
    return d;
}
static dinsn_t mem(uint64_t addr)
{
    dinsn_t d = sti(0);
    d.i.mod = 0;
    d.i.modrm = 0x04;
    d.i.disp = (int64_t)addr;
    d.i.len = 6;
    return d;
}

static int exec1(insn_fn fn, const dinsn_t *d) { return fx_exec_at(c, fn, d, RIP0); }
#define OK(fn, d) assert_int_equal(exec1(fn, d), -1)

/* ST(i) as a host long double. */
static long double st_ld(int i)
{
    long double v = 0;
    memcpy(&v, &c->fpu.st[(c->fpu.top + i) & 7], 10);
    return v;
}
static bool st_empty(int i)
{
    return !((c->fpu.ftw >> ((c->fpu.top + i) & 7)) & 1);
}
/* Push a long double through FLD m80. */
static void push_ld(long double v)
{
    memcpy(m->ram + BUF + 0x1000, &v, 10);
    dinsn_t d = mem(BUF + 0x1000);
    OK(op_fld_m80, &d);
}
static uint16_t fsw(void)
{
    return fpu_get_fsw(&c->fpu);
}

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static long double rnd_ld(void)
{
    long double v = (long double)(int64_t)rnd() / (long double)(rnd() | 1);
    return (rnd() & 1) ? v * 1e300L : v;
}

static void init(void)
{
    dinsn_t d = sti(0);
    OK(op_fninit, &d);
}

static void test_fninit_and_stack(void **state)
{
    init();
    assert_int_equal(c->fpu.fcw, 0x037f);
    assert_int_equal(fsw(), 0);
    assert_int_equal(c->fpu.ftw, 0);
    dinsn_t d = sti(0);
    OK(op_fld1, &d);
    OK(op_fldpi, &d);
    assert_int_equal(c->fpu.top, 6);
    assert_int_equal(c->fpu.ftw, 0xc0);
    assert_true(st_ld(0) == 3.14159265358979323846264338327950288L);
    assert_true(st_ld(1) == 1.0L);
    OK(op_fxch, (d = sti(1), &d));
    assert_true(st_ld(0) == 1.0L);
    OK(op_fchs, &d);
    assert_true(st_ld(0) == -1.0L);
    OK(op_fabs, &d);
    assert_true(st_ld(0) == 1.0L);
    OK(op_fincstp, &d);
    assert_int_equal(c->fpu.top, 7);
    assert_int_equal(c->fpu.ftw, 0xc0); /* FINCSTP does not change tags */
    OK(op_fdecstp, &d);
    OK(op_ffree, (d = sti(1), &d));
    assert_true(st_empty(1));
    assert_int_equal(fsw() >> 11 & 7, 6);
}

static void test_stack_overflow_underflow(void **state)
{
    init();
    dinsn_t d = sti(0);
    for (int i = 0; i < 8; i++)
        OK(op_fldz, &d);
    assert_int_equal(c->fpu.ftw, 0xff);
    OK(op_fld1, &d); /* overflow, masked: the indefinite is pushed */
    assert_int_equal(fsw() & (FSW_IE | FSW_SF | FSW_C1), FSW_IE | FSW_SF | FSW_C1);
    assert_int_equal(c->fpu.st[c->fpu.top].se, 0xffff);
    assert_int_equal(c->fpu.st[c->fpu.top].sig, 0xc000000000000000ull);
    /* underflow: arithmetic on an empty register, C1 = 0 */
    init();
    OK(op_fld1, &d);
    OK(op_fadd_st0sti, (d = sti(3), &d));
    assert_int_equal(fsw() & (FSW_IE | FSW_SF | FSW_C1), FSW_IE | FSW_SF);
    assert_int_equal(c->fpu.st[c->fpu.top].sig, 0xc000000000000000ull);
}

typedef long double (*ld_op)(long double, long double);
static long double l_add(long double a, long double b) { return a + b; }
static long double l_sub(long double a, long double b) { return a - b; }
static long double l_subr(long double a, long double b) { return b - a; }
static long double l_mul(long double a, long double b) { return a * b; }
static long double l_div(long double a, long double b) { return a / b; }
static long double l_divr(long double a, long double b) { return b / a; }

/* Register, pop and memory forms against the host's long double arithmetic
 * (the host runs with the FNINIT control word: 64-bit precision, nearest). */
static void test_arith_vs_host(void **state)
{
    struct { insn_fn st0sti, stist0, pop, m64; ld_op f; } ops[] = {
        { op_fadd_st0sti, op_fadd_stist0, op_faddp_stist0, op_fadd_m64, l_add },
        { op_fsub_st0sti, op_fsub_stist0, op_fsubp_stist0, op_fsub_m64, l_sub },
        { op_fsubr_st0sti, op_fsubr_stist0, op_fsubrp_stist0, op_fsubr_m64, l_subr },
        { op_fmul_st0sti, op_fmul_stist0, op_fmulp_stist0, op_fmul_m64, l_mul },
        { op_fdiv_st0sti, op_fdiv_stist0, op_fdivp_stist0, op_fdiv_m64, l_div },
        { op_fdivr_st0sti, op_fdivr_stist0, op_fdivrp_stist0, op_fdivr_m64, l_divr },
    };
    for (unsigned k = 0; k < sizeof ops / sizeof ops[0]; k++)
        for (int it = 0; it < 300; it++) {
            long double a = rnd_ld(), b = rnd_ld();
            dinsn_t d1 = sti(1);
            /* ST(0) = ST(0) op ST(1) */
            init();
            push_ld(b);
            push_ld(a);
            OK(ops[k].st0sti, &d1);
            assert_true(st_ld(0) == ops[k].f(a, b));
            /* ST(1) = ST(1) op ST(0) */
            init();
            push_ld(a);
            push_ld(b);
            OK(ops[k].stist0, &d1);
            assert_true(st_ld(1) == ops[k].f(a, b));
            /* ... and pop */
            init();
            push_ld(a);
            push_ld(b);
            OK(ops[k].pop, &d1);
            assert_int_equal(c->fpu.top, 7);
            assert_true(st_ld(0) == ops[k].f(a, b));
            /* ST(0) = ST(0) op m64fp */
            init();
            double bm = (double)b;
            memcpy(m->ram + BUF, &bm, 8);
            push_ld(a);
            dinsn_t dm = mem(BUF);
            OK(ops[k].m64, &dm);
            assert_true(st_ld(0) == ops[k].f(a, (long double)bm));
        }
}

static void test_unary_vs_host(void **state)
{
    dinsn_t d = sti(0);
    for (int it = 0; it < 300; it++) {
        long double a = fabsl(rnd_ld()), b = rnd_ld();
        init();
        push_ld(a);
        OK(op_fsqrt, &d);
        assert_true(st_ld(0) == sqrtl(a));
        init();
        push_ld(b);
        OK(op_frndint, &d);
        assert_true(st_ld(0) == nearbyintl(b));
        init();
        long double y = (long double)(int)(rnd() % 64) - 32;
        push_ld(y);
        push_ld(b);
        OK(op_fscale, &d); /* ST(0) * 2^trunc(ST(1)) */
        assert_true(st_ld(0) == ldexpl(b, (int)y));
        init();
        long double md = rnd_ld() / 1e300L + 1;
        push_ld(md);
        push_ld(b);
        do
            OK(op_fprem, &d);
        while (fsw() & FSW_C2); /* partial remainder: repeat */
        assert_true(st_ld(0) == fmodl(b, md));
    }
}

/* Unmasked zero-divide: flag and ES set, destination unchanged, #MF on the
 * next waiting instruction when CR0.NE is set, nothing when it is clear. */
static void test_unmasked_exception_mf(void **state)
{
    init();
    uint16_t cw = 0x037b; /* ZM clear */
    memcpy(m->ram + BUF, &cw, 2);
    dinsn_t dm = mem(BUF), d = sti(1);
    OK(op_fldcw, &dm);
    OK(op_fldz, &d);
    OK(op_fld1, &d);
    OK(op_fdiv_st0sti, &d); /* 1 / 0 */
    assert_int_equal(fsw() & (FSW_ZE | FSW_ES | FSW_B), FSW_ZE | FSW_ES | FSW_B);
    assert_true(st_ld(0) == 1.0L);
    assert_int_equal(exec1(op_fwait, &d), EXC_MF);
    assert_int_equal(exec1(op_fadd_st0sti, &d), EXC_MF);
    dinsn_t dst = mem(BUF + 8);
    OK(op_fnstsw_m, &dst); /* non-waiting */
    c->cr0 &= ~CR0_NE;
    OK(op_fwait, &d); /* FERR# is not connected: no fault */
    c->cr0 |= CR0_NE;
    OK(op_fnclex, &d);
    OK(op_fwait, &d);
    /* masking the flag again through FLDCW clears ES */
    c->fpu.fsw |= FSW_ZE;
    fpu_update_es(&c->fpu);
    assert_true(c->fpu.fsw & FSW_ES);
    cw = 0x037f;
    memcpy(m->ram + BUF, &cw, 2);
    OK(op_fldcw, &dm);
    assert_false(c->fpu.fsw & FSW_ES);
    /* masked zero-divide: infinity */
    OK(op_fdiv_st0sti, &d);
    assert_true(isinf(st_ld(0)));
}

static void test_nm_rules(void **state)
{
    init();
    dinsn_t d = sti(0);
    c->cr0 |= CR0_EM;
    assert_int_equal(exec1(op_fld1, &d), EXC_NM);
    assert_int_equal(exec1(op_fninit, &d), EXC_NM);
    OK(op_fwait, &d); /* WAIT ignores EM */
    c->cr0 &= ~(CR0_EM | CR0_MP);
    c->cr0 |= CR0_TS;
    assert_int_equal(exec1(op_fld1, &d), EXC_NM);
    OK(op_fwait, &d); /* TS without MP */
    c->cr0 |= CR0_MP;
    assert_int_equal(exec1(op_fwait, &d), EXC_NM);
    dinsn_t dm = mem(BUF);
    assert_int_equal(exec1(op_fxsave, &dm), EXC_NM);
}

static void test_compares(void **state)
{
    struct { long double a, b; uint64_t fl; uint16_t cc; } cases[] = {
        { 1, 2, F_CF, FSW_C0 }, { 2, 1, 0, 0 }, { 3, 3, F_ZF, FSW_C3 },
        { NAN, 1, F_ZF | F_PF | F_CF, FSW_C3 | FSW_C2 | FSW_C0 },
    };
    dinsn_t d = sti(1);
    for (unsigned k = 0; k < 4; k++) {
        init();
        push_ld(cases[k].b);
        push_ld(cases[k].a);
        cpu_set_rflags(c, 2 | F_OF | F_SF | F_AF);
        OK(op_fucomi, &d);
        assert_int_equal(cpu_get_rflags(c), 2 | cases[k].fl);
        assert_int_equal(fsw() & FSW_IE, 0); /* QNaN: no #I for the unordered form */
        OK(op_fcom_sti, &d);
        assert_int_equal(fsw() & FSW_CC, cases[k].cc);
        assert_int_equal(fsw() & FSW_IE, k == 3 ? FSW_IE : 0);
        OK(op_fucompp, &d);
        assert_int_equal(c->fpu.ftw, 0);
    }
    /* FCMOVE copies when ZF is set */
    init();
    push_ld(5);
    push_ld(7);
    cpu_set_rflags(c, 2);
    OK(op_fcmove, &d);
    assert_true(st_ld(0) == 7);
    cpu_set_rflags(c, 2 | F_ZF);
    OK(op_fcmove, &d);
    assert_true(st_ld(0) == 5);
}

static void test_int_stores(void **state)
{
    dinsn_t dm = mem(BUF), d = sti(0);
    uint16_t cw;
    int32_t v32;
    init();
    push_ld(2.5L);
    OK(op_fist_m32, &dm);
    memcpy(&v32, m->ram + BUF, 4);
    assert_int_equal(v32, 2); /* nearest even */
    cw = 0x037f | 0x0800; /* round up */
    memcpy(m->ram + BUF + 8, &cw, 2);
    dinsn_t dcw = mem(BUF + 8);
    OK(op_fldcw, &dcw);
    OK(op_fist_m32, &dm);
    memcpy(&v32, m->ram + BUF, 4);
    assert_int_equal(v32, 3);
    OK(op_fchs, &d);
    OK(op_fisttp_m32, &dm); /* truncates whatever RC says, pops */
    memcpy(&v32, m->ram + BUF, 4);
    assert_int_equal(v32, -2);
    assert_int_equal(c->fpu.ftw, 0);
    /* out of range: integer indefinite with IE */
    init();
    push_ld(1e20L);
    OK(op_fistp_m32, &dm);
    memcpy(&v32, m->ram + BUF, 4);
    assert_int_equal((uint32_t)v32, 0x80000000u);
    assert_true(fsw() & FSW_IE);
    /* FILD/FISTP m64 round trip */
    init();
    int64_t q = -1234567890123456789ll, q2;
    memcpy(m->ram + BUF, &q, 8);
    OK(op_fild_m64, &dm);
    dinsn_t dm2 = mem(BUF + 16);
    OK(op_fistp_m64, &dm2);
    memcpy(&q2, m->ram + BUF + 16, 8);
    assert_int_equal(q2, q);
    /* FBSTP/FBLD */
    push_ld(-9876543210.0L);
    OK(op_fbstp, &dm2);
    assert_int_equal(m->ram[BUF + 16], 0x10);
    assert_int_equal(m->ram[BUF + 25], 0x80);
    OK(op_fbld, &dm2);
    assert_true(st_ld(0) == -9876543210.0L);
}

static void test_fp_loads_stores(void **state)
{
    dinsn_t dm = mem(BUF);
    init();
    uint32_t snan = 0x7f800001, f;
    memcpy(m->ram + BUF, &snan, 4);
    OK(op_fld_m32, &dm); /* SNaN: #IA masked, loaded quiet */
    assert_true(fsw() & FSW_IE);
    assert_int_equal(c->fpu.st[c->fpu.top].sig, 0xc000010000000000ull);
    init();
    push_ld(1.0L / 3);
    OK(op_fst_m32, &dm);
    memcpy(&f, m->ram + BUF, 4);
    assert_int_equal(f, 0x3eaaaaab); /* rounded up: PE and C1 */
    assert_int_equal(fsw() & (FSW_PE | FSW_C1), FSW_PE | FSW_C1);
    OK(op_fstp_m64, &dm);
    double g;
    memcpy(&g, m->ram + BUF, 8);
    assert_true(g == (double)(1.0L / 3));
    assert_int_equal(c->fpu.ftw, 0);
    /* m80 is an exact copy */
    push_ld(-0.1L);
    OK(op_fstp_m80, &dm);
    long double x = 0;
    memcpy(&x, m->ram + BUF, 10);
    assert_true(x == -0.1L);
}

static void test_fxam(void **state)
{
    struct { uint64_t sig; uint16_t se; uint16_t cc; } cases[] = {
        { 0x8000000000000000ull, 0x3fff, FSW_C2 },                   /* normal */
        { 0, 0, FSW_C3 },                                            /* zero */
        { 0x8000000000000000ull, 0x7fff, FSW_C2 | FSW_C0 },          /* infinity */
        { 0xc000000000000000ull, 0xffff, FSW_C0 | FSW_C1 },          /* NaN, negative */
        { 1, 0, FSW_C3 | FSW_C2 },                                   /* denormal */
        { 0x4000000000000000ull, 0x3fff, 0 },                        /* unnormal: unsupported */
    };
    dinsn_t d = sti(0);
    for (unsigned k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        init();
        OK(op_fldz, &d);
        c->fpu.st[c->fpu.top].sig = cases[k].sig;
        c->fpu.st[c->fpu.top].se = cases[k].se;
        OK(op_fxam, &d);
        assert_int_equal(fsw() & FSW_CC, cases[k].cc);
    }
    init();
    OK(op_fxam, &d); /* empty */
    assert_int_equal(fsw() & FSW_CC & ~FSW_C1, FSW_C3 | FSW_C0);
}

/* Known state for the image tests: ST0 = 1, ST1 = pi, TOP = 6, an XMM pattern. */
static void known_state(void)
{
    init();
    dinsn_t d = sti(0);
    OK(op_fldpi, &d);
    d.i.opcode = 0xd9; /* FLD1 is D9 E8: FOP = 1E8H */
    d.i.modrm = 0xe8;
    OK(op_fld1, &d);
    c->fpu.fsw |= FSW_PE;
    c->fpu.mxcsr = 0x1f80 | MXCSR_PE;
    for (int i = 0; i < 16; i++)
        for (int b = 0; b < 16; b++)
            c->fpu.xmm[i].b[b] = (uint8_t)(16 * i + b);
}

static void test_fxsave_layout(void **state)
{
    known_state();
    dinsn_t dm = mem(BUF);
    dm.i.rex = 0x48; /* FXSAVE64 */
    OK(op_fxsave, &dm);
    uint8_t *p = m->ram + BUF;
    uint16_t w;
    uint32_t dd;
    uint64_t q;
    memcpy(&w, p, 2);
    assert_int_equal(w, 0x037f);
    memcpy(&w, p + 2, 2);
    assert_int_equal(w, (6 << 11) | FSW_PE);
    assert_int_equal(p[4], 0xc0); /* abridged tag: physical R6, R7 */
    memcpy(&w, p + 6, 2);
    assert_int_equal(w, 0x1e8); /* FOP of the FLD1 (D9 E8) */
    memcpy(&q, p + 8, 8);
    assert_int_equal(q, RIP0); /* FIP, 64-bit */
    memcpy(&dd, p + 24, 4);
    assert_int_equal(dd, 0x1f80 | MXCSR_PE);
    memcpy(&dd, p + 28, 4);
    assert_int_equal(dd, MXCSR_MASK_VALUE);
    long double st0 = 0, st1 = 0;
    memcpy(&st0, p + 32, 10);
    memcpy(&st1, p + 48, 10);
    assert_true(st0 == 1.0L);
    assert_true(st1 == 3.14159265358979323846264338327950288L);
    assert_memory_equal(p + 160, &c->fpu.xmm[0], 16);
    assert_memory_equal(p + 400, &c->fpu.xmm[15], 16);
    assert_int_equal(p[416], 0xcc); /* reserved area untouched */
    /* 32-bit format: FIP dword then FCS */
    dm.i.rex = 0;
    OK(op_fxsave, &dm);
    memcpy(&dd, p + 8, 4);
    assert_int_equal(dd, RIP0);
    memcpy(&w, p + 12, 2);
    assert_int_equal(w, 0); /* FCS: the default model deprecates FCS/FDS (stored as 0) */
    /* restore into a scrambled state */
    fpu_state_t saved = c->fpu;
    init();
    memset(c->fpu.xmm, 0, sizeof c->fpu.xmm);
    c->fpu.mxcsr = 0x1f80;
    OK(op_fxrstor, &dm);
    assert_int_equal(c->fpu.top, 6);
    assert_int_equal(c->fpu.ftw, 0xc0);
    assert_int_equal(fpu_get_fsw(&c->fpu), fpu_get_fsw(&saved));
    assert_memory_equal(c->fpu.xmm, saved.xmm, sizeof saved.xmm);
    assert_memory_equal(c->fpu.st, saved.st, sizeof saved.st);
    assert_int_equal(c->fpu.mxcsr, saved.mxcsr);
    /* without CR4.OSFXSR: MXCSR is saved, the XMM registers are not */
    memset(p, 0xcc, 512);
    c->cr4 &= ~CR4_OSFXSR;
    OK(op_fxsave, &dm);
    memcpy(&dd, p + 24, 4);
    assert_int_equal(dd, saved.mxcsr);
    assert_int_equal(p[160], 0xcc);
    c->cr4 |= CR4_OSFXSR;
    /* faults: alignment, reserved MXCSR bits */
    dinsn_t bad = mem(BUF + 8);
    assert_int_equal(exec1(op_fxsave, &bad), EXC_GP);
    assert_int_equal(exec1(op_fxrstor, &bad), EXC_GP);
    dd = 0x00010000;
    memcpy(p + 24, &dd, 4);
    c->fpu.fcw = 0x1234;
    assert_int_equal(exec1(op_fxrstor, &dm), EXC_GP);
    assert_int_equal(c->fpu.fcw, 0x1234); /* nothing loaded */
}

static void test_xsave(void **state)
{
    known_state();
    dinsn_t dm = mem(BUF);
    memset(m->ram + BUF + 512, 0, 64);
    m->ram[BUF + 512 + 7] = 0x40; /* an XSTATE_BV bit outside RFBM is preserved */
    c->gpr[R_RAX] = ~0ull;
    c->gpr[R_RDX] = ~0ull;
    OK(op_xsave, &dm);
    uint64_t bv;
    memcpy(&bv, m->ram + BUF + 512, 8);
    assert_int_equal(bv, 0x4000000000000003ull);
    assert_memory_equal(m->ram + BUF + 160, &c->fpu.xmm[0], 16);
    /* only x87 requested: the SSE area and MXCSR are not written */
    memset(m->ram + BUF, 0xcc, 512);
    c->gpr[R_RAX] = 1;
    OK(op_xsave, &dm);
    assert_int_equal(m->ram[BUF + 24], 0xcc);
    assert_int_equal(m->ram[BUF + 160], 0xcc);
    assert_int_equal(m->ram[BUF + 0], 0x7f);
    /* XRSTOR with XSTATE_BV[1] = 0 initialises the XMM registers, but
     * still loads MXCSR (standard form) */
    c->gpr[R_RAX] = 3;
    OK(op_xsave, &dm);
    bv = 1;
    memcpy(m->ram + BUF + 512, &bv, 8);
    uint32_t mx = 0x1f80 | MXCSR_DAZ;
    memcpy(m->ram + BUF + 24, &mx, 4);
    OK(op_xrstor, &dm);
    assert_int_equal(c->fpu.xmm[5].q[0], 0);
    assert_int_equal(c->fpu.mxcsr, 0x1f80 | MXCSR_DAZ);
    assert_int_equal(c->fpu.top, 6);
    /* XSTATE_BV[0] = 0: x87 to its initial configuration */
    bv = 0;
    memcpy(m->ram + BUF + 512, &bv, 8);
    OK(op_xrstor, &dm);
    assert_int_equal(c->fpu.fcw, 0x037f);
    assert_int_equal(c->fpu.ftw, 0);
    assert_int_equal(c->fpu.st[7].sig, 0);
    /* faults */
    uint64_t comp = 1ull << 63;
    memcpy(m->ram + BUF + 520, &comp, 8);
    assert_int_equal(exec1(op_xrstor, &dm), EXC_GP); /* compacted form unsupported */
    comp = 0;
    memcpy(m->ram + BUF + 520, &comp, 8);
    bv = 4;
    memcpy(m->ram + BUF + 512, &bv, 8);
    assert_int_equal(exec1(op_xrstor, &dm), EXC_GP); /* XSTATE_BV beyond XCR0 */
    bv = 3;
    memcpy(m->ram + BUF + 512, &bv, 8);
    m->ram[BUF + 512 + 20] = 1;
    assert_int_equal(exec1(op_xrstor, &dm), EXC_GP); /* header bytes 23:16 */
    m->ram[BUF + 512 + 20] = 0;
    OK(op_xrstor, &dm);
    dinsn_t bad = mem(BUF + 32);
    assert_int_equal(exec1(op_xsave, &bad), EXC_GP); /* 64-byte alignment */
    const struct cpu_model *saved = c->model;
    c->model = cpu_model_find("core2"); /* no XSAVE, no XSAVEOPT */
    dm.i.id = XI_XSAVEOPT_M;
    assert_int_equal(exec1(op_xsaveopt, &dm), EXC_UD);
    c->model = saved;
    assert_int_equal(exec1(op_xsaveopt, &dm), -1);
    dm.i.id = 0;
    c->cr4 &= ~CR4_OSXSAVE;
    assert_int_equal(exec1(op_xsave, &dm), EXC_UD);
    c->cr4 |= CR4_OSXSAVE;
    c->cr0 |= CR0_TS;
    assert_int_equal(exec1(op_xrstor, &dm), EXC_NM);
}

static void test_fnstenv_fnsave(void **state)
{
    known_state();
    /* tags: ST0 = 1 (valid), ST1 = pi (valid); make R5 zero and R4 special */
    dinsn_t d = sti(0);
    OK(op_fldz, &d);
    c->fpu.top = 4;
    c->fpu.ftw |= 0x10;
    c->fpu.st[4].se = 0x7fff;
    c->fpu.st[4].sig = 0x8000000000000000ull;
    dinsn_t dm = mem(BUF);
    OK(op_fnstenv, &dm);
    uint32_t w[7];
    memcpy(w, m->ram + BUF, 28);
    assert_int_equal(w[0] & 0xffff, 0x037f);
    assert_int_equal(w[2] & 0xffff, 0x06ff); /* R7 R6 valid (00), R5 zero (01), R4 special (10), rest empty */
    assert_int_equal(w[1] >> 11 & 7, 4);
    assert_int_equal(c->fpu.fcw & FCW_EXC, FCW_EXC); /* FNSTENV masks every exception */
    c->fpu.fcw = 0x0360;
    OK(op_fldenv, &dm);
    assert_int_equal(c->fpu.fcw, 0x037f);
    assert_int_equal(c->fpu.ftw, 0xf0);
    /* FNSAVE stores environment + registers and reinitialises; FRSTOR restores */
    fpu_state_t before = c->fpu;
    OK(op_fnsave, &dm);
    assert_int_equal(c->fpu.ftw, 0);
    assert_int_equal(c->fpu.fcw, 0x037f);
    long double r0 = 0;
    memcpy(&r0, m->ram + BUF + 28, 10);
    assert_true(r0 == (long double)INFINITY); /* ST0 = physical R4 */
    OK(op_frstor, &dm);
    assert_int_equal(c->fpu.top, before.top);
    assert_int_equal(c->fpu.ftw, before.ftw);
    assert_memory_equal(c->fpu.st, before.st, sizeof before.st);
    /* 16-bit operand size: 14-byte environment */
    memset(m->ram + BUF, 0xcc, 32);
    dm.i.osize = 2;
    OK(op_fnstenv, &dm);
    assert_int_equal(m->ram[BUF + 14], 0xcc);
    assert_int_equal(m->ram[BUF + 0], 0x7f);
    assert_int_equal(m->ram[BUF + 4], 0xff); /* 16-bit tag word follows FSW directly */
}

/* The default model has CPUID.7:EBX.FDP_EXCPTN_ONLY: FDP changes only when a
 * memory-operand instruction raises an unmasked exception. */
static void test_fdp_exception_only(void **state)
{
    init();
    c->fpu.fdp = 0x1111;
    double one = 1.0, zero = 0.0;
    memcpy(m->ram + BUF, &one, 8);
    memcpy(m->ram + BUF + 8, &zero, 8);
    dinsn_t d1 = mem(BUF), d0 = mem(BUF + 8);
    OK(op_fld_m64, &d1);
    OK(op_fdiv_m64, &d0); /* masked zero-divide */
    assert_int_equal(c->fpu.fdp, 0x1111);
    uint16_t cw = 0x037b;
    memcpy(m->ram + BUF + 16, &cw, 2);
    dinsn_t dcw = mem(BUF + 16);
    OK(op_fnclex, &d1); /* else the unmasking FLDCW leaves ZE pending: #MF */
    OK(op_fldcw, &dcw);
    OK(op_fld_m64, &d1);
    OK(op_fdiv_m64, &d0); /* unmasked */
    assert_int_equal(c->fpu.fdp, BUF + 8);
    assert_int_equal(c->fpu.fds, 0);
    assert_int_equal(c->fpu.fip, RIP0);
}


/* Precision and rounding control reach the host operation. */
static void test_precision_rounding_control(void **state)
{
    dinsn_t d = sti(1), dcw = mem(BUF + 16);
    uint16_t cw = 0x007f; /* PC = 00: 24-bit significand */
    memcpy(m->ram + BUF + 16, &cw, 2);
    init();
    OK(op_fldcw, &dcw);
    push_ld(3);
    push_ld(1);
    OK(op_fdiv_st0sti, &d);
    assert_int_equal(c->fpu.st[c->fpu.top].sig & ((1ull << 40) - 1), 0);
    assert_true(st_ld(0) == (long double)(1.0f / 3.0f));
    cw = 0x0f7f; /* RC = truncate toward zero, 64-bit precision */
    memcpy(m->ram + BUF + 16, &cw, 2);
    init();
    OK(op_fldcw, &dcw);
    push_ld(3);
    push_ld(2);
    OK(op_fdiv_st0sti, &d);
    assert_int_equal(c->fpu.st[c->fpu.top].sig, 0xaaaaaaaaaaaaaaaaull); /* 2/3 truncated */
    assert_int_equal(fsw() & (FSW_PE | FSW_C1), FSW_PE); /* inexact, not rounded up */
}

/* The host bridge leaves the host's own x87 unit as the ABI expects: empty
 * stack, default control word, whatever the guest ran (and with a non-default
 * guest control word). */
static void test_host_unit_left_clean(void **state)
{
    dinsn_t d = sti(1), dm = mem(BUF), dcw = mem(BUF + 16);
    uint16_t cw = 0x0c7f; /* truncate, 24-bit precision */
    memcpy(m->ram + BUF + 16, &cw, 2);
    double v = 0.5;
    memcpy(m->ram + BUF, &v, 8);
    init();
    OK(op_fldcw, &dcw);
    OK(op_fldpi, &d);
    OK(op_fld1, &d);
    OK(op_fadd_st0sti, &d);
    OK(op_fpatan, &d);
    OK(op_fld_m64, &dm);
    OK(op_fptan, &d);
    OK(op_fxtract, &d);
    OK(op_fsincos, &d);
    OK(op_fcom_m64, &dm);
    OK(op_fistp_m32, &dm);
    OK(op_fstp_m64, &dm);
    OK(op_fyl2x, &d);
    uint32_t env[7];
    __asm__ volatile("fnstenv %0\n\tfldcw %0" : "=m"(env));
    assert_int_equal(env[0] & 0xffff, 0x037f);
    assert_int_equal(env[2] & 0xffff, 0xffff);
    /* the guest's stack: pushes (FLDPI, FLD1, FLD, FPTAN, FXTRACT, FSINCOS)
     * minus pops (FPATAN, FISTP, FSTP, FYL2X) leave TOP at 6 */
    assert_int_equal(c->fpu.top, 6);
}

/* Unmasked overflow/underflow: the destination gets the result rounded with
 * an unbounded exponent, the exponent adjusted by 2^-+24576; the flag and ES
 * are set and the next waiting instruction takes #MF. The expected values are
 * computed on the host with the operands pre-scaled into range. */
static void bias_case(insn_fn fn, uint16_t cw, long double a, long double b, long double want,
                      uint16_t flag, bool mem64)
{
    dinsn_t d = sti(1), dcw = mem(BUF + 16), dm = mem(BUF);
    memcpy(m->ram + BUF + 16, &cw, 2);
    init();
    OK(op_fldcw, &dcw);
    if (mem64) {
        double bd = (double)b;
        memcpy(m->ram + BUF, &bd, 8);
        push_ld(a);
        OK(fn, &dm);
    } else {
        push_ld(b);
        push_ld(a);
        OK(fn, &d);
    }
    assert_true(fsw() & flag);
    assert_true(fsw() & FSW_ES);
    long double got = st_ld(0);
    if (memcmp(&got, &want, 10)) {
        print_error("got %La want %La\n", got, want);
        fail();
    }
    assert_int_equal(exec1(op_fwait, &d), EXC_MF);
}

static void test_unmasked_overflow_underflow(void **state)
{
    const uint16_t no_om = 0x037f & ~FSW_OE, no_um = 0x037f & ~FSW_UE;
    long double big = 1e4000L, tiny = 1e-4000L, max = LDBL_MAX;
    bias_case(op_fmul_st0sti, no_om, big, big, ldexpl(big, -12288) * ldexpl(big, -12288), FSW_OE, false);
    bias_case(op_fmul_st0sti, no_om, -big, big, ldexpl(-big, -12288) * ldexpl(big, -12288), FSW_OE, false);
    bias_case(op_fdiv_st0sti, no_um, tiny, big, ldexpl(tiny, 12288) / ldexpl(big, -12288), FSW_UE, false);
    bias_case(op_fdivr_st0sti, no_om, tiny, big, ldexpl(big, -12288) / ldexpl(tiny, 12288), FSW_OE, false);
    bias_case(op_fsub_st0sti, no_om, max, -max, ldexpl(max, -24576) * 2, FSW_OE, false);
    bias_case(op_fadd_st0sti, no_om, max, max / 3, ldexpl(max, -24576) + ldexpl(max / 3, -24576), FSW_OE, false);
    bias_case(op_fmul_m64, no_om, 1e4700L, 1e300, ldexpl(1e4700L, -24576) * (long double)1e300, FSW_OE, true);
    /* an exact tiny result still signals an unmasked underflow */
    long double den = ldexpl(1, -16400);
    bias_case(op_fadd_st0sti, no_um, den, 0, ldexpl(den, 24576), FSW_UE, false);
    /* FST m32 of an exactly representable single-precision denormal: #U
     * unmasked means no store and no pop */
    dinsn_t dm = mem(BUF), dcw = mem(BUF + 16);
    memcpy(m->ram + BUF + 16, &no_um, 2);
    init();
    OK(op_fldcw, &dcw);
    push_ld(ldexpl(1, -140));
    memset(m->ram + BUF, 0xcc, 4);
    OK(op_fstp_m32, &dm);
    assert_true(fsw() & FSW_UE);
    assert_int_equal(m->ram[BUF], 0xcc);
    assert_int_equal(c->fpu.ftw, 0x80);
    /* rounding control reaches the significand: a product that rounds up to
     * nearest, here truncated */
    uint16_t trunc = no_om | 0x0c00;
    volatile long double x = ldexpl(big, -12288), y = ldexpl(big / 7, -12288), near = x * y;
    fesetround(FE_TOWARDZERO);
    volatile long double tz = x * y;
    fesetround(FE_TONEAREST);
    assert_false(tz == near); /* the case does distinguish the modes */
    bias_case(op_fmul_st0sti, trunc, big, big / 7, tz, FSW_OE, false);
}

/* ---- decoded encodings: decoder row -> handler binding -> semantics ---- */
/* Decode bytes in 64-bit mode and run the bound handler; returns the fault
 * vector or -1. */
static int run_bytes(const uint8_t *b, size_t n) { return fx_run_bytes(c, b, n, RIP0); }
#define RUN(...) assert_int_equal(run_bytes(FX_BYTES(__VA_ARGS__)), -1)

/* The reversed-operand encodings: DC E8+i is FSUB ST(i), ST(0) and DC E0+i
 * FSUBR ST(i), ST(0) (SDM Vol. 2 "FSUB/FSUBP/FISUB"). */
static void test_decoded_forms(void **state)
{
    RUN(0xdb, 0xe3);             /* fninit */
    RUN(0xd9, 0xe8);             /* fld1 */
    RUN(0xd9, 0xeb);             /* fldpi: ST0 = pi, ST1 = 1 */
    RUN(0xdc, 0xe9);             /* fsub st(1), st(0): ST1 = 1 - pi */
    assert_true(st_ld(1) == 1 - 3.14159265358979323846264338327950288L);
    RUN(0xdc, 0xe1);             /* fsubr st(1), st(0): ST1 = pi - ST1 */
    assert_true(st_ld(1) == 3.14159265358979323846264338327950288L - (1 - 3.14159265358979323846264338327950288L));
    RUN(0xd8, 0xe1);             /* fsub st(0), st(1) */
    RUN(0xde, 0xf9);             /* fdivp st(1), st(0): ST1 = ST1 / ST0, pop */
    assert_int_equal(c->fpu.top, 7);
    RUN(0xd9, 0xee);             /* fldz */
    RUN(0xde, 0xd9);             /* fcompp */
    assert_int_equal(c->fpu.ftw, 0);
    c->gpr[R_RAX] = 0;
    RUN(0xdf, 0xe0);             /* fnstsw ax */
    assert_int_equal(c->gpr[R_RAX], fsw());
    c->gpr[R_RAX] = BUF;
    RUN(0x48, 0x0f, 0xae, 0x00); /* fxsave64 [rax] */
    assert_int_equal(m->ram[BUF], 0x7f);
    RUN(0xd9, 0x38);             /* fnstcw [rax] */
    RUN(0x9b);                   /* fwait */
    c->gpr[R_RAX] = BUF + 8;
    assert_int_equal(run_bytes((const uint8_t[]){ 0x0f, 0xae, 0x08 }, 3), EXC_GP); /* fxrstor [rax]: misaligned */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_fninit_and_stack, per_test),
        cmocka_unit_test_setup(test_stack_overflow_underflow, per_test),
        cmocka_unit_test_setup(test_arith_vs_host, per_test),
        cmocka_unit_test_setup(test_unary_vs_host, per_test),
        cmocka_unit_test_setup(test_unmasked_exception_mf, per_test),
        cmocka_unit_test_setup(test_nm_rules, per_test),
        cmocka_unit_test_setup(test_compares, per_test),
        cmocka_unit_test_setup(test_int_stores, per_test),
        cmocka_unit_test_setup(test_fp_loads_stores, per_test),
        cmocka_unit_test_setup(test_fxam, per_test),
        cmocka_unit_test_setup(test_fxsave_layout, per_test),
        cmocka_unit_test_setup(test_xsave, per_test),
        cmocka_unit_test_setup(test_fnstenv_fnsave, per_test),
        cmocka_unit_test_setup(test_fdp_exception_only, per_test),
        cmocka_unit_test_setup(test_decoded_forms, per_test),
        cmocka_unit_test_setup(test_precision_rounding_control, per_test),
        cmocka_unit_test_setup(test_host_unit_left_clean, per_test),
        cmocka_unit_test_setup(test_unmasked_overflow_underflow, per_test),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
