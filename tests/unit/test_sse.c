/* test_sse.c - MMX/SSE..SSE4.2 handlers against the host CPU, plus the
 * architectural checks (#UD, #NM, #GP alignment, #XM/#UD on unmasked SIMD
 * exceptions, MXCSR reserved bits) and MMX/x87 aliasing.
 *
 * Handlers run on a real machine_t in 64-bit mode with the first 4 MiB of
 * linear addresses mapped 1:1 by filling the TLB. Each "vs host" test runs the
 * guest handler and the same instruction natively (inline asm) on random and
 * special inputs under the same MXCSR, and compares results and flags.
 */
#include "emu/flags.h"
#include "emu/fpu.h"
#include "fixture.h"

static machine_t *m;
static cpu_t *c;

#define RIP0 0x1000
#define BUF 0x20000 /* scratch memory (linear = physical) */

static void mode64(void)
{
    fx_mode64(c, CR0_PE | CR0_PG | CR0_MP | CR0_NE | CR0_ET, CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT);
    fpu_reset(&c->fpu);
    c->fpu.fcw = FCW_INIT;
    c->fpu.ftw = 0;
}

static int setup(void **state)
{
    if (fx_setup_flat(&m, &c))
        return -1;
    mode64();
    return 0;
}

static int teardown(void **state)
{
    machine_free(m);
    return 0;
}

static int per_test(void **state)
{
    mode64();
    return 0;
}

/* Register-register form: ModRM.reg = r, ModRM.rm = rm. */
static dinsn_t rr(int r, int rm, uint64_t imm)
{
    dinsn_t d = fx_insn(4, 8, 4);
    d.i.reg = (uint8_t)r;
    d.i.rm = (uint8_t)rm;
    d.i.imm = imm;
    return d;
}
/* Memory form: [disp] absolute. */
static dinsn_t rm_mem(int r, uint64_t addr, uint64_t imm)
{
    dinsn_t d = rr(r, 0, imm);
    d.i.mod = 0;
    d.i.disp = (int64_t)addr;
    return d;
}

/* One handler call; returns the fault vector or -1. */
static int exec1(insn_fn fn, const dinsn_t *d) { return fx_exec_at(c, fn, d, RIP0); }

/* ---- random and special inputs ---- */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static const uint32_t f32_special[] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001,
    0x7f800001, 0x7fa00000, 0x00000001, 0x807fffff, 0x00800000, 0x7f7fffff, 0x4b000000, 0x3effffff,
};
static const uint64_t f64_special[] = {
    0, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull, 0x7ff0000000000000ull,
    0xfff0000000000000ull, 0x7ff8000000000000ull, 0xfff8000000000001ull, 0x7ff0000000000001ull,
    0x7ff4000000000000ull, 1, 0x800fffffffffffffull, 0x0010000000000000ull, 0x7fefffffffffffffull,
    0x4330000000000000ull, 0x41e0000000000000ull,
};
/* Random float lanes: a mix of specials, small integers and raw bits. */
static void rnd_ps(xmm_t *x)
{
    for (int i = 0; i < 4; i++) {
        uint64_t r = rnd();
        switch (r & 3) {
        case 0: x->d[i] = f32_special[(r >> 8) & 15]; break;
        case 1: x->f[i] = (float)(int)((r >> 8) % 200 - 100) / 4; break;
        default: x->d[i] = (uint32_t)(r >> 16); break;
        }
    }
}
static void rnd_pd(xmm_t *x)
{
    for (int i = 0; i < 2; i++) {
        uint64_t r = rnd();
        switch (r & 3) {
        case 0: x->q[i] = f64_special[(r >> 8) & 15]; break;
        case 1: x->g[i] = (double)(int)((r >> 8) % 200 - 100) / 4; break;
        default: x->q[i] = rnd(); break;
        }
    }
}
static void rnd_int(xmm_t *x)
{
    x->q[0] = rnd();
    x->q[1] = rnd();
    /* sprinkle extremes so saturation paths run */
    if (rnd() & 1)
        x->w[rnd() & 7] = 0x8000;
    if (rnd() & 1)
        x->w[rnd() & 7] = 0x7fff;
}
/* Random MXCSR controls: rounding, DAZ, FTZ; exceptions masked. */
static uint32_t rnd_mxcsr(void)
{
    uint64_t r = rnd();
    return MXCSR_MASKS | (uint32_t)(r & 3) << 13 | ((r & 4) ? MXCSR_DAZ : 0) | ((r & 8) ? MXCSR_FZ : 0);
}

/* ---- native execution ---- */
typedef double v2df __attribute__((vector_size(16)));
typedef uint32_t (*native_fn)(xmm_t *a, const xmm_t *b, uint32_t mxcsr);
#define NATIVE(name, text)                                                                  \
    static uint32_t name(xmm_t *a, const xmm_t *b, uint32_t mx)                             \
    {                                                                                       \
        v2df va, vb;                                                                        \
        uint32_t st, dfl = MXCSR_INIT;                                                      \
        memcpy(&va, a, 16);                                                                 \
        memcpy(&vb, b, 16);                                                                 \
        __asm__ volatile("ldmxcsr %[mx]\n\t" text "\n\tstmxcsr %[st]\n\tldmxcsr %[dfl]"     \
                         : [a] "+x"(va), [st] "=m"(st)                                      \
                         : [b] "x"(vb), [mx] "m"(mx), [dfl] "m"(dfl));                      \
        memcpy(a, &va, 16);                                                                 \
        return st;                                                                          \
    }
NATIVE(n_paddsw, "paddsw %[b], %[a]")
NATIVE(n_psubusb, "psubusb %[b], %[a]")
NATIVE(n_pmulhrsw, "pmulhrsw %[b], %[a]")
NATIVE(n_pmaddwd, "pmaddwd %[b], %[a]")
NATIVE(n_pmaddubsw, "pmaddubsw %[b], %[a]")
NATIVE(n_psadbw, "psadbw %[b], %[a]")
NATIVE(n_pshufb, "pshufb %[b], %[a]")
NATIVE(n_packsswb, "packsswb %[b], %[a]")
NATIVE(n_packusdw, "packusdw %[b], %[a]")
NATIVE(n_punpckhbw, "punpckhbw %[b], %[a]")
NATIVE(n_phaddsw, "phaddsw %[b], %[a]")
NATIVE(n_phsubd, "phsubd %[b], %[a]")
NATIVE(n_psignw, "psignw %[b], %[a]")
NATIVE(n_pabsd, "pabsd %[b], %[a]")
NATIVE(n_pcmpgtq, "pcmpgtq %[b], %[a]")
NATIVE(n_pminud, "pminud %[b], %[a]")
NATIVE(n_pmaxsb, "pmaxsb %[b], %[a]")
NATIVE(n_pmulld, "pmulld %[b], %[a]")
NATIVE(n_pmuldq, "pmuldq %[b], %[a]")
NATIVE(n_pmuludq, "pmuludq %[b], %[a]")
NATIVE(n_pavgw, "pavgw %[b], %[a]")
NATIVE(n_psraw, "psraw %[b], %[a]")
NATIVE(n_psrlq, "psrlq %[b], %[a]")
NATIVE(n_palignr7, "palignr $7, %[b], %[a]")
NATIVE(n_pshufd1b, "pshufd $0x1b, %[b], %[a]")
NATIVE(n_pshufhw, "pshufhw $0x93, %[b], %[a]")
NATIVE(n_shufps, "shufps $0x4e, %[b], %[a]")
NATIVE(n_pblendw, "pblendw $0xa5, %[b], %[a]")
NATIVE(n_mpsadbw5, "mpsadbw $5, %[b], %[a]")
NATIVE(n_pmovsxbw, "pmovsxbw %[b], %[a]")
NATIVE(n_pmovzxwq, "pmovzxwq %[b], %[a]")
NATIVE(n_phminposuw, "phminposuw %[b], %[a]")
NATIVE(n_insertps, "insertps $0x9a, %[b], %[a]")
NATIVE(n_pclmul11, "pclmulqdq $0x11, %[b], %[a]")
NATIVE(n_pclmul01, "pclmulqdq $0x01, %[b], %[a]")
NATIVE(n_aesenc, "aesenc %[b], %[a]")
NATIVE(n_aesenclast, "aesenclast %[b], %[a]")
NATIVE(n_aesdec, "aesdec %[b], %[a]")
NATIVE(n_aesdeclast, "aesdeclast %[b], %[a]")
NATIVE(n_aesimc, "aesimc %[b], %[a]")
NATIVE(n_aeskga, "aeskeygenassist $0x36, %[b], %[a]")
NATIVE(n_addps, "addps %[b], %[a]")
NATIVE(n_subpd, "subpd %[b], %[a]")
NATIVE(n_mulss, "mulss %[b], %[a]")
NATIVE(n_divsd, "divsd %[b], %[a]")
NATIVE(n_divps, "divps %[b], %[a]")
NATIVE(n_sqrtpd, "sqrtpd %[b], %[a]")
NATIVE(n_sqrtss, "sqrtss %[b], %[a]")
NATIVE(n_minps, "minps %[b], %[a]")
NATIVE(n_maxsd, "maxsd %[b], %[a]")
NATIVE(n_cmpps1, "cmpps $1, %[b], %[a]")
NATIVE(n_cmpsd3, "cmpsd $3, %[b], %[a]")
NATIVE(n_cmppd4, "cmppd $4, %[b], %[a]")
NATIVE(n_cvtps2dq, "cvtps2dq %[b], %[a]")
NATIVE(n_cvttpd2dq, "cvttpd2dq %[b], %[a]")
NATIVE(n_cvtsd2ss, "cvtsd2ss %[b], %[a]")
NATIVE(n_cvtps2pd, "cvtps2pd %[b], %[a]")
NATIVE(n_cvtdq2ps, "cvtdq2ps %[b], %[a]")
NATIVE(n_roundps9, "roundps $9, %[b], %[a]")
NATIVE(n_roundsd4, "roundsd $4, %[b], %[a]")
NATIVE(n_dpps, "dpps $0xf3, %[b], %[a]")
NATIVE(n_dpps2, "dpps $0x5c, %[b], %[a]")
NATIVE(n_dppd, "dppd $0x31, %[b], %[a]")
NATIVE(n_haddps, "haddps %[b], %[a]")
NATIVE(n_addsubpd, "addsubpd %[b], %[a]")
NATIVE(n_andnps, "andnps %[b], %[a]")
NATIVE(n_unpcklps, "unpcklps %[b], %[a]")

/* IN_PS_NUM: floats without NaNs. DPPS is compared on those only: with NaNs in
 * two lanes this host's DPPS picks the propagated NaN differently per
 * destination lane, while the SDM's pseudo-code (which the emulator follows)
 * sums once and broadcasts. */
enum { IN_INT, IN_PS, IN_PD, IN_PS_NUM };

/* Run guest handler `fn` on xmm1 = a, xmm2 = b (register form) and natively;
 * compare the destination and, for FP, the MXCSR flags. */
static void vs_host(insn_fn fn, native_fn nat, uint64_t imm, int kind, int iters)
{
    for (int it = 0; it < iters; it++) {
        xmm_t a, b;
        if (kind == IN_PS || kind == IN_PS_NUM) {
            rnd_ps(&a);
            rnd_ps(&b);
            for (int i = 0; i < 4 && kind == IN_PS_NUM; i++) {
                if ((a.d[i] & 0x7f800000) == 0x7f800000 && (a.d[i] & 0x7fffff))
                    a.f[i] = 1.5f;
                if ((b.d[i] & 0x7f800000) == 0x7f800000 && (b.d[i] & 0x7fffff))
                    b.f[i] = -0.25f;
            }
        } else if (kind == IN_PD) {
            rnd_pd(&a);
            rnd_pd(&b);
        } else {
            rnd_int(&a);
            rnd_int(&b);
        }
        uint32_t mx = kind == IN_INT ? MXCSR_INIT : rnd_mxcsr();
        c->fpu.mxcsr = mx;
        c->fpu.xmm[1] = a;
        c->fpu.xmm[2] = b;
        dinsn_t d = rr(1, 2, imm);
        assert_int_equal(exec1(fn, &d), -1);
        xmm_t want = a;
        uint32_t st = nat(&want, &b, mx);
        if (memcmp(&want, &c->fpu.xmm[1], 16)) {
            print_error("iteration %d mxcsr %x\n a %016llx%016llx\n b %016llx%016llx\n want %016llx%016llx\n got  %016llx%016llx\n",
                        it, mx, (unsigned long long)a.q[1], (unsigned long long)a.q[0],
                        (unsigned long long)b.q[1], (unsigned long long)b.q[0],
                        (unsigned long long)want.q[1], (unsigned long long)want.q[0],
                        (unsigned long long)c->fpu.xmm[1].q[1], (unsigned long long)c->fpu.xmm[1].q[0]);
            fail();
        }
        assert_int_equal(c->fpu.mxcsr, (mx & ~MXCSR_FLAGS) | (st & MXCSR_FLAGS));
        assert_memory_equal(&c->fpu.xmm[2], &b, 16); /* the source is untouched */
    }
}

static void test_int_vs_host(void **state)
{
    vs_host(op_paddsw_vx, n_paddsw, 0, IN_INT, 500);
    vs_host(op_psubusb_vx, n_psubusb, 0, IN_INT, 500);
    vs_host(op_pmulhrsw_vx, n_pmulhrsw, 0, IN_INT, 500);
    vs_host(op_pmaddwd_vx, n_pmaddwd, 0, IN_INT, 500);
    vs_host(op_pmaddubsw_vx, n_pmaddubsw, 0, IN_INT, 500);
    vs_host(op_psadbw_vx, n_psadbw, 0, IN_INT, 500);
    vs_host(op_pshufb_vx, n_pshufb, 0, IN_INT, 500);
    vs_host(op_packsswb_vx, n_packsswb, 0, IN_INT, 500);
    vs_host(op_packusdw_vx, n_packusdw, 0, IN_INT, 500);
    vs_host(op_punpckhbw_vx, n_punpckhbw, 0, IN_INT, 500);
    vs_host(op_phaddsw_vx, n_phaddsw, 0, IN_INT, 500);
    vs_host(op_phsubd_vx, n_phsubd, 0, IN_INT, 500);
    vs_host(op_psignw_vx, n_psignw, 0, IN_INT, 500);
    vs_host(op_pabsd_vx, n_pabsd, 0, IN_INT, 500);
    vs_host(op_pcmpgtq_vx, n_pcmpgtq, 0, IN_INT, 500);
    vs_host(op_pminud_vx, n_pminud, 0, IN_INT, 500);
    vs_host(op_pmaxsb_vx, n_pmaxsb, 0, IN_INT, 500);
    vs_host(op_pmulld_vx, n_pmulld, 0, IN_INT, 500);
    vs_host(op_pmuldq_vx, n_pmuldq, 0, IN_INT, 500);
    vs_host(op_pmuludq_vx, n_pmuludq, 0, IN_INT, 500);
    vs_host(op_pavgw_vx, n_pavgw, 0, IN_INT, 500);
    vs_host(op_palignr_vx, n_palignr7, 7, IN_INT, 500);
    vs_host(op_pshufd, n_pshufd1b, 0x1b, IN_INT, 100);
    vs_host(op_pshufhw, n_pshufhw, 0x93, IN_INT, 100);
    vs_host(op_shufps, n_shufps, 0x4e, IN_INT, 100);
    vs_host(op_pblendw, n_pblendw, 0xa5, IN_INT, 100);
    vs_host(op_mpsadbw, n_mpsadbw5, 5, IN_INT, 500);
    vs_host(op_pmovsxbw, n_pmovsxbw, 0, IN_INT, 100);
    vs_host(op_pmovzxwq, n_pmovzxwq, 0, IN_INT, 100);
    vs_host(op_phminposuw, n_phminposuw, 0, IN_INT, 500);
    vs_host(op_insertps, n_insertps, 0x9a, IN_INT, 100);
    vs_host(op_pandn_vx, n_andnps, 0, IN_INT, 100);
    vs_host(op_punpckldq_vx, n_unpcklps, 0, IN_INT, 100);
    vs_host(op_pclmulqdq, n_pclmul11, 0x11, IN_INT, 300);
    vs_host(op_pclmulqdq, n_pclmul01, 0x01, IN_INT, 300);
    vs_host(op_aesenc, n_aesenc, 0, IN_INT, 200);
    vs_host(op_aesenclast, n_aesenclast, 0, IN_INT, 200);
    vs_host(op_aesdec, n_aesdec, 0, IN_INT, 200);
    vs_host(op_aesdeclast, n_aesdeclast, 0, IN_INT, 200);
    vs_host(op_aesimc, n_aesimc, 0, IN_INT, 200);
    vs_host(op_aeskeygenassist, n_aeskga, 0x36, IN_INT, 200);
}

/* Shift counts in range and out of range. */
static void test_shifts_vs_host(void **state)
{
    for (int cnt = 0; cnt < 70; cnt += 3) {
        xmm_t a, b = { .q = { (uint64_t)cnt, 0 } }, want;
        rnd_int(&a);
        c->fpu.xmm[1] = a;
        c->fpu.xmm[2] = b;
        dinsn_t d = rr(1, 2, 0);
        assert_int_equal(exec1(op_psraw_vx, &d), -1);
        want = a;
        n_psraw(&want, &b, MXCSR_INIT);
        assert_memory_equal(&want, &c->fpu.xmm[1], 16);
        c->fpu.xmm[1] = a;
        assert_int_equal(exec1(op_psrlq_vx, &d), -1);
        want = a;
        n_psrlq(&want, &b, MXCSR_INIT);
        assert_memory_equal(&want, &c->fpu.xmm[1], 16);
        /* immediate form: the destination is ModRM.rm */
        c->fpu.xmm[3] = a;
        dinsn_t di = rr(6, 3, (uint64_t)cnt);
        assert_int_equal(exec1(op_psllw_ux, &di), -1);
        for (int i = 0; i < 8; i++)
            assert_int_equal(c->fpu.xmm[3].w[i], cnt > 15 ? 0 : (uint16_t)(a.w[i] << cnt));
        c->fpu.xmm[3] = a;
        assert_int_equal(exec1(op_psrldq_ux, &di), -1);
        for (int i = 0; i < 16; i++)
            assert_int_equal(c->fpu.xmm[3].b[i], i + cnt < 16 ? a.b[i + cnt] : 0);
    }
}

static void test_fp_vs_host(void **state)
{
    vs_host(op_addps, n_addps, 0, IN_PS, 2000);
    vs_host(op_subpd, n_subpd, 0, IN_PD, 2000);
    vs_host(op_mulss, n_mulss, 0, IN_PS, 2000);
    vs_host(op_divsd, n_divsd, 0, IN_PD, 2000);
    vs_host(op_divps, n_divps, 0, IN_PS, 2000);
    vs_host(op_sqrtpd, n_sqrtpd, 0, IN_PD, 2000);
    vs_host(op_sqrtss, n_sqrtss, 0, IN_PS, 2000);
    vs_host(op_minps, n_minps, 0, IN_PS, 2000);
    vs_host(op_maxsd, n_maxsd, 0, IN_PD, 2000);
    vs_host(op_cmpps, n_cmpps1, 1, IN_PS, 2000);
    vs_host(op_cmpsd, n_cmpsd3, 3, IN_PD, 2000);
    vs_host(op_cmppd, n_cmppd4, 4, IN_PD, 2000);
    vs_host(op_cvtps2dq, n_cvtps2dq, 0, IN_PS, 2000);
    vs_host(op_cvttpd2dq, n_cvttpd2dq, 0, IN_PD, 2000);
    vs_host(op_cvtsd2ss, n_cvtsd2ss, 0, IN_PD, 2000);
    vs_host(op_cvtps2pd, n_cvtps2pd, 0, IN_PS, 2000);
    vs_host(op_cvtdq2ps, n_cvtdq2ps, 0, IN_INT, 500);
    vs_host(op_roundps, n_roundps9, 9, IN_PS, 2000);
    vs_host(op_roundsd, n_roundsd4, 4, IN_PD, 2000);
    vs_host(op_dpps, n_dpps, 0xf3, IN_PS_NUM, 2000);
    vs_host(op_dpps, n_dpps2, 0x5c, IN_PS_NUM, 2000);
    vs_host(op_dppd, n_dppd, 0x31, IN_PD, 2000);
    vs_host(op_haddps, n_haddps, 0, IN_PS, 2000);
    vs_host(op_addsubpd, n_addsubpd, 0, IN_PD, 2000);
}

/* COMISD/UCOMISS: ZF PF CF as the host sets them, OF SF AF cleared, and #I
 * on QNaN only for the ordered form. */
static void test_comis_flags(void **state)
{
    for (int it = 0; it < 2000; it++) {
        xmm_t a, b;
        rnd_pd(&a);
        rnd_pd(&b);
        c->fpu.mxcsr = MXCSR_INIT;
        c->fpu.xmm[1] = a;
        c->fpu.xmm[2] = b;
        cpu_set_rflags(c, 2 | F_OF | F_SF | F_AF);
        dinsn_t d = rr(1, 2, 0);
        assert_int_equal(exec1(op_comisd, &d), -1);
        unsigned char z, p, cf;
        uint32_t st, mx = MXCSR_INIT, dfl = MXCSR_INIT;
        __asm__ volatile("ldmxcsr %[mx]\n\tcomisd %[b], %[a]\n\tstmxcsr %[st]\n\tldmxcsr %[dfl]"
                         : "=@ccz"(z), "=@ccp"(p), "=@ccc"(cf), [st] "=m"(st)
                         : [a] "x"(a.g[0]), [b] "x"(b.g[0]), [mx] "m"(mx), [dfl] "m"(dfl));
        uint64_t want = 2 | (z ? F_ZF : 0) | (p ? F_PF : 0) | (cf ? F_CF : 0);
        assert_int_equal(cpu_get_rflags(c), want);
        assert_int_equal(c->fpu.mxcsr & MXCSR_FLAGS, st & MXCSR_FLAGS);
    }
    /* QNaN: COMISS raises IE, UCOMISS does not */
    c->fpu.xmm[1].d[0] = 0x7fc00000;
    c->fpu.xmm[2].f[0] = 1.0f;
    c->fpu.mxcsr = MXCSR_INIT;
    dinsn_t d = rr(1, 2, 0);
    assert_int_equal(exec1(op_ucomiss, &d), -1);
    assert_int_equal(c->fpu.mxcsr, MXCSR_INIT);
    assert_int_equal(cpu_get_rflags(c) & F_ARITH, F_ZF | F_PF | F_CF);
    assert_int_equal(exec1(op_comiss, &d), -1);
    assert_int_equal(c->fpu.mxcsr, MXCSR_INIT | MXCSR_IE);
}

/* CVTSI2SD with REX.W (64-bit source) and CVTTSD2SI/CVTSS2SI to 32 and 64 bits. */
static void test_cvt_gpr(void **state)
{
    dinsn_t d = rr(1, R_RAX, 0);
    c->fpu.mxcsr = MXCSR_INIT;
    c->fpu.xmm[1].q[1] = 0x1234;
    c->gpr[R_RAX] = 0x8000000000000001ull; /* not exact in double: PE */
    d.i.rex = 0x48;
    assert_int_equal(exec1(op_cvtsi2sd, &d), -1);
    assert_true(c->fpu.xmm[1].g[0] == -9223372036854775807.0);
    assert_int_equal(c->fpu.xmm[1].q[1], 0x1234); /* upper half kept */
    assert_int_equal(c->fpu.mxcsr, MXCSR_INIT | MXCSR_PE);
    d.i.rex = 0;
    c->fpu.mxcsr = MXCSR_INIT;
    assert_int_equal(exec1(op_cvtsi2sd, &d), -1); /* 32-bit source: EAX = 1 */
    assert_true(c->fpu.xmm[1].g[0] == 1.0);
    assert_int_equal(c->fpu.mxcsr, MXCSR_INIT);

    dinsn_t t = rr(R_RBX, 2, 0);
    c->fpu.xmm[2].g[0] = -2.75;
    c->gpr[R_RBX] = ~0ull;
    assert_int_equal(exec1(op_cvttsd2si, &t), -1);
    assert_int_equal(c->gpr[R_RBX], 0xfffffffeull); /* 32-bit result, zero-extended */
    t.i.rex = 0x48;
    assert_int_equal(exec1(op_cvtsd2si, &t), -1);
    assert_int_equal(c->gpr[R_RBX], (uint64_t)-3); /* round to nearest */
    c->fpu.xmm[2].g[0] = 1e300; /* out of range: integer indefinite, IE */
    c->fpu.mxcsr = MXCSR_INIT;
    t.i.rex = 0;
    assert_int_equal(exec1(op_cvttsd2si, &t), -1);
    assert_int_equal(c->gpr[R_RBX], 0x80000000u);
    assert_int_equal(c->fpu.mxcsr, MXCSR_INIT | MXCSR_IE);
}

/* ---- PCMPxSTRx against the host ---- */
#define NATIVE_STR(name, insn, imm)                                                              \
    static void name(const xmm_t *a, const xmm_t *b, uint32_t la, uint32_t lb, uint32_t *ecx,   \
                     xmm_t *x0, uint64_t *fl)                                                    \
    {                                                                                            \
        v2df va, vb, r0;                                                                         \
        unsigned char cf, zf, sf, of;                                                            \
        uint32_t cx;                                                                             \
        memcpy(&va, a, 16);                                                                      \
        memcpy(&vb, b, 16);                                                                      \
        __asm__ volatile(insn " $" #imm ", %[b], %[a]\n\tmovl %%ecx, %[cx]\n\tmovdqa %%xmm0, %[r0]" \
                         : "=@ccc"(cf), "=@ccz"(zf), "=@ccs"(sf), "=@cco"(of), [cx] "=r"(cx),    \
                           [r0] "=x"(r0)                                                         \
                         : [a] "x"(va), [b] "x"(vb), "a"(la), "d"(lb)                            \
                         : "ecx", "xmm0");                                                       \
        *ecx = cx;                                                                               \
        memcpy(x0, &r0, 16);                                                                     \
        *fl = (cf ? F_CF : 0) | (zf ? F_ZF : 0) | (sf ? F_SF : 0) | (of ? F_OF : 0);            \
    }
typedef void (*native_str_fn)(const xmm_t *, const xmm_t *, uint32_t, uint32_t, uint32_t *, xmm_t *, uint64_t *);
#define STR_IMMS(X) X(0x00) X(0x04) X(0x08) X(0x0c) X(0x18) X(0x34) X(0x4c) X(0x01) X(0x0d) X(0x3a) X(0x42) X(0x73) X(0x2c)
#define NS(imm)                                                                   \
    NATIVE_STR(n_pcmpistri_##imm, "pcmpistri", imm)                               \
    NATIVE_STR(n_pcmpestri_##imm, "pcmpestri", imm)                               \
    NATIVE_STR(n_pcmpistrm_##imm, "pcmpistrm", imm)                               \
    NATIVE_STR(n_pcmpestrm_##imm, "pcmpestrm", imm)
STR_IMMS(NS)
#undef NS

/* Strings with a small alphabet (so matches happen), some zeros. */
static void rnd_str(xmm_t *x)
{
    for (int i = 0; i < 16; i++) {
        uint64_t r = rnd();
        x->b[i] = (r & 15) == 0 ? 0 : (uint8_t)('a' + (r >> 4) % 4);
        if (((r >> 10) & 7) == 0)
            x->b[i] = (uint8_t)(r >> 16);
    }
}

static void str_case(insn_fn fn, native_str_fn nat, unsigned imm, bool mask)
{
    for (int it = 0; it < 400; it++) {
        xmm_t a, b, x0;
        rnd_str(&a);
        rnd_str(&b);
        uint32_t la = (uint32_t)(rnd() % 40) - 20, lb = (uint32_t)(rnd() % 40) - 20, ecx;
        uint64_t fl;
        nat(&a, &b, la, lb, &ecx, &x0, &fl);
        c->fpu.xmm[1] = a;
        c->fpu.xmm[2] = b;
        c->fpu.xmm[0].q[0] = c->fpu.xmm[0].q[1] = 0x5555;
        c->gpr[R_RAX] = la;
        c->gpr[R_RDX] = lb;
        c->gpr[R_RCX] = 0xdeadbeefcafeull;
        dinsn_t d = rr(1, 2, imm);
        assert_int_equal(exec1(fn, &d), -1);
        if (mask)
            assert_memory_equal(&c->fpu.xmm[0], &x0, 16);
        else
            assert_int_equal(c->gpr[R_RCX], ecx);
        if ((cpu_get_rflags(c) & F_ARITH) != fl)
            print_error("imm %x it %d\n", imm, it);
        assert_int_equal(cpu_get_rflags(c) & F_ARITH, fl);
    }
}

static void test_pcmpstr_vs_host(void **state)
{
#define RUN(imm)                                                         \
    str_case(op_pcmpistri, n_pcmpistri_##imm, imm, false);               \
    str_case(op_pcmpestri, n_pcmpestri_##imm, imm, false);               \
    str_case(op_pcmpistrm, n_pcmpistrm_##imm, imm, true);                \
    str_case(op_pcmpestrm, n_pcmpestrm_##imm, imm, true);
    STR_IMMS(RUN)
#undef RUN
}

/* ---- architectural checks ---- */

static void test_ud_nm(void **state)
{
    dinsn_t d = rr(1, 2, 0);
    c->cr0 |= CR0_EM;
    assert_int_equal(exec1(op_addps, &d), EXC_UD);
    c->cr0 &= ~CR0_EM;
    c->cr4 &= ~CR4_OSFXSR;
    assert_int_equal(exec1(op_paddb_vx, &d), EXC_UD);
    c->cr4 |= CR4_OSFXSR;
    c->cr0 |= CR0_TS;
    assert_int_equal(exec1(op_movu_load, &d), EXC_NM);
    assert_int_equal(exec1(op_paddb_pq, &d), EXC_NM);     /* MMX: #NM with TS */
    c->cr0 |= CR0_EM;
    assert_int_equal(exec1(op_paddb_pq, &d), EXC_UD);     /* MMX: EM is #UD */
    c->cr0 &= ~(CR0_EM | CR0_TS);
    d.i.pfx = X86_PFX_VEX;                                 /* AVX is not implemented */
    assert_int_equal(exec1(op_addps, &d), EXC_UD);
    d.i.pfx = 0;
    assert_int_equal(exec1(op_addps, &d), -1);
}

static void test_alignment(void **state)
{
    for (int i = 0; i < 16; i++)
        m->ram[BUF + 8 + i] = (uint8_t)i;
    dinsn_t d = rm_mem(3, BUF + 8, 0);
    assert_int_equal(exec1(op_mova_load, &d), EXC_GP);
    assert_int_equal(c->ev_err, 0);
    assert_int_equal(exec1(op_paddb_vx, &d), EXC_GP);      /* legacy SSE m128 arithmetic */
    assert_int_equal(exec1(op_movu_load, &d), -1);
    for (int i = 0; i < 16; i++)
        assert_int_equal(c->fpu.xmm[3].b[i], i);
    assert_int_equal(exec1(op_pcmpistri, &d), -1);         /* string compares are unaligned */
    assert_int_equal(exec1(op_mova_store, &d), EXC_GP);
    d.i.disp = BUF + 16;
    assert_int_equal(exec1(op_mova_store, &d), -1);
    assert_memory_equal(m->ram + BUF + 16, &c->fpu.xmm[3], 16);
    /* scalar memory operands need no alignment */
    d.i.disp = BUF + 3;
    assert_int_equal(exec1(op_addss, &d), -1);
    /* a 16-byte unaligned store across a page boundary */
    c->fpu.xmm[4].q[0] = 0x0123456789abcdefull;
    c->fpu.xmm[4].q[1] = 0xfedcba9876543210ull;
    d = rm_mem(4, BUF + 0xff8, 0);
    assert_int_equal(exec1(op_movu_store, &d), -1);
    assert_memory_equal(m->ram + BUF + 0xff8, &c->fpu.xmm[4], 16);
}

static void test_mxcsr(void **state)
{
    dinsn_t d = rm_mem(0, BUF, 0);
    uint32_t v = 0x1f80 | MXCSR_DAZ | MXCSR_FZ | (2u << 13);
    memcpy(m->ram + BUF, &v, 4);
    assert_int_equal(exec1(op_ldmxcsr, &d), -1);
    assert_int_equal(c->fpu.mxcsr, v);
    v = 0x10000 | 0x1f80;
    memcpy(m->ram + BUF, &v, 4);
    assert_int_equal(exec1(op_ldmxcsr, &d), EXC_GP); /* reserved bit 16 */
    assert_int_equal(c->fpu.mxcsr, 0x1f80 | MXCSR_DAZ | MXCSR_FZ | (2u << 13));
    d.i.disp = BUF + 4;
    assert_int_equal(exec1(op_stmxcsr, &d), -1);
    uint32_t got;
    memcpy(&got, m->ram + BUF + 4, 4);
    assert_int_equal(got, c->fpu.mxcsr);
    /* a guest operation under non-default controls leaves the host's own
     * controls at their defaults */
    dinsn_t a = rr(1, 2, 0);
    assert_int_equal(exec1(op_addps, &a), -1);
    uint32_t host;
    __asm__ volatile("stmxcsr %0" : "=m"(host));
    assert_int_equal(host & ~MXCSR_FLAGS, MXCSR_INIT);
}

/* An unmasked exception: flags set, destination unchanged, #XM with
 * CR4.OSXMMEXCPT, #UD without. Pre-computation exceptions suppress the
 * post-computation flags. */
static void test_unmasked_simd_exception(void **state)
{
    dinsn_t d = rr(1, 2, 0);
    xmm_t a = { .f = { 1.0f, 1.0f, 3.0f, 1e38f } }, b = { .f = { 0.0f, 3.0f, 1.0f, 2e-38f } };
    c->fpu.xmm[1] = a;
    c->fpu.xmm[2] = b;
    c->fpu.mxcsr = MXCSR_MASKS & ~(MXCSR_ZE << 7);
    assert_int_equal(exec1(op_divps, &d), EXC_XM);
    assert_memory_equal(&c->fpu.xmm[1], &a, 16);
    assert_int_equal(c->fpu.mxcsr & MXCSR_FLAGS, MXCSR_ZE); /* not OE/PE of the other lanes */
    c->cr4 &= ~CR4_OSXMMEXCPT;
    assert_int_equal(exec1(op_divps, &d), EXC_UD);
    c->cr4 |= CR4_OSXMMEXCPT;
    /* masked: completes with the flags accumulated */
    c->fpu.mxcsr = MXCSR_INIT;
    assert_int_equal(exec1(op_divps, &d), -1);
    assert_int_equal(c->fpu.mxcsr & MXCSR_FLAGS, MXCSR_ZE | MXCSR_OE | MXCSR_PE);
    assert_true(c->fpu.xmm[1].d[0] == 0x7f800000);
    /* an unmasked precision exception (post-computation) reports every flag */
    c->fpu.xmm[1] = a;
    c->fpu.mxcsr = MXCSR_MASKS & ~(MXCSR_PE << 7);
    assert_int_equal(exec1(op_divps, &d), EXC_XM);
    assert_int_equal(c->fpu.mxcsr & MXCSR_FLAGS, MXCSR_ZE | MXCSR_OE | MXCSR_PE);
    assert_memory_equal(&c->fpu.xmm[1], &a, 16);
    /* an exact tiny result: no flag when #U is masked, #U when unmasked */
    xmm_t t = { .f = { 0x1p-70f, 5.0f, 6.0f, 7.0f } };
    c->fpu.xmm[1] = t;
    c->fpu.xmm[2] = t;
    c->fpu.mxcsr = MXCSR_INIT;
    assert_int_equal(exec1(op_mulss, &d), -1);
    assert_true(c->fpu.xmm[1].f[0] == 0x1p-140f);
    assert_int_equal(c->fpu.mxcsr, MXCSR_INIT);
    c->fpu.xmm[1] = t;
    c->fpu.mxcsr = MXCSR_MASKS & ~(MXCSR_UE << 7);
    assert_int_equal(exec1(op_mulss, &d), EXC_XM);
    assert_int_equal(c->fpu.mxcsr & MXCSR_FLAGS, MXCSR_UE);
    assert_memory_equal(&c->fpu.xmm[1], &t, 16);
    /* only the lanes the instruction writes count: MULSS leaves 0x1p-140 in
     * lane 1 of the destination alone */
    c->fpu.xmm[1].f[1] = 0x1p-140f;
    c->fpu.xmm[2].f[0] = 1.0f;
    c->fpu.mxcsr = MXCSR_MASKS & ~(MXCSR_UE << 7);
    assert_int_equal(exec1(op_mulss, &d), -1);
}

/* MMX instructions alias the x87 registers: TOP = 0, all tags valid, the
 * exponent field set to all ones; EMMS empties the tags. */
static void test_mmx_aliasing(void **state)
{
    c->fpu.top = 5;
    c->fpu.ftw = 0;
    c->fpu.st[3].sig = 0x0102030405060708ull;
    c->fpu.st[4].sig = 0x1010101010101010ull;
    dinsn_t d = rr(3, 4, 0);
    assert_int_equal(exec1(op_paddb_pq, &d), -1);
    assert_int_equal(c->fpu.st[3].sig, 0x1112131415161718ull);
    assert_int_equal(c->fpu.st[3].se, 0xffff);
    assert_int_equal(c->fpu.top, 0);
    assert_int_equal(c->fpu.ftw, 0xff);
    /* MOVD with REX.W moves 64 bits; MOVQ2DQ zero-extends */
    c->gpr[R_RAX] = 0x8877665544332211ull;
    dinsn_t mv = rr(2, R_RAX, 0);
    mv.i.rex = 0x48;
    assert_int_equal(exec1(op_movd_pq_ey, &mv), -1);
    assert_int_equal(c->fpu.st[2].sig, 0x8877665544332211ull);
    mv.i.rex = 0;
    assert_int_equal(exec1(op_movd_pq_ey, &mv), -1);
    assert_int_equal(c->fpu.st[2].sig, 0x44332211ull);
    assert_int_equal(exec1(op_emms, &d), -1);
    assert_int_equal(c->fpu.ftw, 0);
    /* a pending unmasked x87 exception makes the next MMX instruction #MF */
    c->fpu.fsw = FSW_ZE | FSW_ES | FSW_B;
    assert_int_equal(exec1(op_paddb_pq, &d), EXC_MF);
    c->fpu.fsw = 0;
}

/* Scalar moves: register forms merge, memory loads zero the upper part. */
static void test_scalar_moves(void **state)
{
    xmm_t a = { .q = { 0x1111111111111111ull, 0x2222222222222222ull } };
    xmm_t b = { .q = { 0x3333333333333333ull, 0x4444444444444444ull } };
    c->fpu.xmm[1] = a;
    c->fpu.xmm[2] = b;
    dinsn_t d = rr(1, 2, 0);
    assert_int_equal(exec1(op_movss_load, &d), -1);
    assert_int_equal(c->fpu.xmm[1].q[0], 0x1111111133333333ull);
    assert_int_equal(c->fpu.xmm[1].q[1], a.q[1]);
    memcpy(m->ram + BUF, &b, 16);
    dinsn_t dm = rm_mem(1, BUF, 0);
    assert_int_equal(exec1(op_movsd_load, &dm), -1);
    assert_int_equal(c->fpu.xmm[1].q[0], b.q[0]);
    assert_int_equal(c->fpu.xmm[1].q[1], 0);
    c->fpu.xmm[1] = a;
    assert_int_equal(exec1(op_movhps_load, &dm), -1);
    assert_int_equal(c->fpu.xmm[1].q[0], a.q[0]);
    assert_int_equal(c->fpu.xmm[1].q[1], b.q[0]);
    c->fpu.xmm[1] = a;
    assert_int_equal(exec1(op_movq_wq_vq, &d), -1); /* 66 0F D6: register dest zeroes the top */
    assert_int_equal(c->fpu.xmm[2].q[0], a.q[0]);
    assert_int_equal(c->fpu.xmm[2].q[1], 0);
}


/* A form the CPU model does not advertise is #UD: the core2 model has SSSE3
 * but no SSE4.1, SSE4.2 or AES-NI. */
static void test_model_features(void **state)
{
    const struct cpu_model *saved = c->model;
    c->model = cpu_model_find("core2");
    assert_non_null(c->model);
    dinsn_t d = rr(1, 2, 0);
    d.i.id = XI_PCMPISTRI_VdqWdqIb;
    assert_int_equal(exec1(op_pcmpistri, &d), EXC_UD);
    d.i.id = XI_AESENC_VdqWdq;
    assert_int_equal(exec1(op_aesenc, &d), EXC_UD);
    d.i.id = XI_PSHUFB_VxWx;
    assert_int_equal(exec1(op_pshufb_vx, &d), -1);
    d.i.id = XI_PTEST_VxWx;
    assert_int_equal(exec1(op_ptest_vx, &d), EXC_UD);
    d.i.id = XI_PMINUD_VxWx;
    assert_int_equal(exec1(op_pminud_vx, &d), EXC_UD);
    d.i.id = XI_PADDB_VxWx;
    assert_int_equal(exec1(op_paddb_vx, &d), -1);
    c->model = saved;
    d.i.id = XI_PTEST_VxWx;
    assert_int_equal(exec1(op_ptest_vx, &d), -1);
}

/* ---- MMX forms against the host (8-byte lanes, the x87 aliasing) ---- */
typedef int v2si_mmx __attribute__((vector_size(8)));
#define NATIVE_MMX(name, text)                                                          \
    static uint64_t name(uint64_t a, uint64_t b)                                        \
    {                                                                                   \
        v2si_mmx va, vb;                                                                \
        memcpy(&va, &a, 8);                                                             \
        memcpy(&vb, &b, 8);                                                             \
        __asm__ volatile(text "\n\t" : [a] "+y"(va) : [b] "y"(vb));                    \
        __asm__ volatile("emms");                                                       \
        memcpy(&a, &va, 8);                                                             \
        return a;                                                                       \
    }
NATIVE_MMX(m_paddusb, "paddusb %[b], %[a]")
NATIVE_MMX(m_pmulhw, "pmulhw %[b], %[a]")
NATIVE_MMX(m_packsswb, "packsswb %[b], %[a]")
NATIVE_MMX(m_punpckhwd, "punpckhwd %[b], %[a]")
NATIVE_MMX(m_psadbw, "psadbw %[b], %[a]")
NATIVE_MMX(m_pshufb, "pshufb %[b], %[a]")
NATIVE_MMX(m_phaddsw, "phaddsw %[b], %[a]")
NATIVE_MMX(m_palignr3, "palignr $3, %[b], %[a]")
NATIVE_MMX(m_pshufw, "pshufw $0x4b, %[b], %[a]")
NATIVE_MMX(m_psrad, "psrad %[b], %[a]")

static void test_mmx_vs_host(void **state)
{
    struct { insn_fn fn; uint64_t (*nat)(uint64_t, uint64_t); unsigned imm; } t[] = {
        { op_paddusb_pq, m_paddusb, 0 }, { op_pmulhw_pq, m_pmulhw, 0 }, { op_packsswb_pq, m_packsswb, 0 },
        { op_punpckhwd_pq, m_punpckhwd, 0 }, { op_psadbw_pq, m_psadbw, 0 }, { op_pshufb_pq, m_pshufb, 0 },
        { op_phaddsw_pq, m_phaddsw, 0 }, { op_palignr_pq, m_palignr3, 3 }, { op_pshufw, m_pshufw, 0x4b },
    };
    for (unsigned k = 0; k < sizeof t / sizeof t[0]; k++)
        for (int it = 0; it < 300; it++) {
            xmm_t a, b;
            rnd_int(&a);
            rnd_int(&b);
            c->fpu.st[5].sig = a.q[0];
            c->fpu.st[2].sig = b.q[0];
            dinsn_t d = rr(5, 2, t[k].imm);
            assert_int_equal(exec1(t[k].fn, &d), -1);
            assert_int_equal(c->fpu.st[5].sig, t[k].nat(a.q[0], b.q[0]));
            assert_int_equal(c->fpu.st[2].sig, b.q[0]);
        }
    for (uint64_t cnt = 0; cnt < 40; cnt += 3) {
        uint64_t a = rnd();
        c->fpu.st[1].sig = a;
        c->fpu.st[0].sig = cnt;
        dinsn_t d = rr(1, 0, 0);
        assert_int_equal(exec1(op_psrad_pq, &d), -1);
        assert_int_equal(c->fpu.st[1].sig, m_psrad(a, cnt));
    }
}

/* Element insert/extract, variable blends and MASKMOVDQU. */
static void test_insert_extract_blend(void **state)
{
    xmm_t a = { .q = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull } };
    c->fpu.xmm[3] = a;
    dinsn_t d = rr(3, R_RBX, 13);
    c->gpr[R_RBX] = ~0ull;
    assert_int_equal(exec1(op_pextrb, &d), -1); /* PEXTRB ebx, xmm3, 13: zero-extended */
    assert_int_equal(c->gpr[R_RBX], 13);
    d.i.imm = 1;
    d.i.rex = 0x48;
    assert_int_equal(exec1(op_pextrd, &d), -1); /* PEXTRQ rbx, xmm3, 1 */
    assert_int_equal(c->gpr[R_RBX], a.q[1]);
    c->gpr[R_RBX] = 0xaabbccdd11223344ull;
    d.i.imm = 0;
    assert_int_equal(exec1(op_pinsrd, &d), -1); /* PINSRQ xmm3, rbx, 0 */
    assert_int_equal(c->fpu.xmm[3].q[0], 0xaabbccdd11223344ull);
    d.i.rex = 0;
    d.i.imm = 7;
    assert_int_equal(exec1(op_pinsrw_vdq, &d), -1); /* PINSRW xmm3, ebx, 7 */
    assert_int_equal(c->fpu.xmm[3].w[7], 0x3344);
    dinsn_t e = rr(3, R_RCX, 2); /* EXTRACTPS ecx, xmm3, 2: r/m is the destination */
    assert_int_equal(exec1(op_extractps, &e), -1);
    assert_int_equal(c->gpr[R_RCX], c->fpu.xmm[3].d[2]);
    /* BLENDVPS: XMM0's sign bits pick the source lanes */
    xmm_t x = { .d = { 1, 2, 3, 4 } }, y = { .d = { 5, 6, 7, 8 } };
    c->fpu.xmm[0] = (xmm_t){ .d = { 0x80000000u, 0, 0xffffffffu, 0x7fffffffu } };
    c->fpu.xmm[1] = x;
    c->fpu.xmm[2] = y;
    dinsn_t b = rr(1, 2, 0);
    assert_int_equal(exec1(op_blendvps, &b), -1);
    assert_int_equal(c->fpu.xmm[1].d[0], 5);
    assert_int_equal(c->fpu.xmm[1].d[1], 2);
    assert_int_equal(c->fpu.xmm[1].d[2], 7);
    assert_int_equal(c->fpu.xmm[1].d[3], 4);
    /* MASKMOVDQU: only bytes whose mask byte has bit 7 set reach DS:RDI */
    memset(m->ram + BUF, 0x11, 16);
    c->gpr[R_RDI] = BUF;
    c->fpu.xmm[4] = a;
    c->fpu.xmm[5] = (xmm_t){ .q = { 0x80000000000000ffull, 0x0080000000000000ull } };
    dinsn_t mm = rr(4, 5, 0);
    assert_int_equal(exec1(op_maskmovdqu, &mm), -1);
    uint8_t want[16];
    memset(want, 0x11, 16);
    want[0] = 0x00;
    want[7] = 0x07;
    want[14] = 0x0e;
    assert_memory_equal(m->ram + BUF, want, 16);
}

/* ---- decoded encodings: decoder row -> handler binding -> semantics ---- */
/* Decode bytes in 64-bit mode and run the bound handler; returns the fault
 * vector or -1. */
static int run_bytes(const uint8_t *b, size_t n) { return fx_run_bytes(c, b, n, RIP0); }
#define RUN(...) assert_int_equal(run_bytes(FX_BYTES(__VA_ARGS__)), -1)

static void test_decoded_forms(void **state)
{
    for (int i = 0; i < 16; i++)
        for (int k = 0; k < 4; k++)
            c->fpu.xmm[i].d[k] = (uint32_t)(0x01010101u * (unsigned)(i + 1) + (unsigned)k);
    RUN(0x66, 0x45, 0x0f, 0xfe, 0xc1); /* paddd xmm8, xmm9 */
    assert_int_equal(c->fpu.xmm[8].d[0], 0x09090909u + 0x0a0a0a0au);
    c->gpr[R_RAX] = (uint64_t)-5;
    RUN(0xf2, 0x48, 0x0f, 0x2a, 0xc0); /* cvtsi2sd xmm0, rax */
    assert_true(c->fpu.xmm[0].g[0] == -5.0);
    RUN(0xf2, 0x0f, 0x2a, 0xc8); /* cvtsi2sd xmm1, eax: 0xfffffffb as int32 */
    assert_true(c->fpu.xmm[1].g[0] == -5.0);
    c->fpu.xmm[2].q[0] = 0x1122334455667788ull;
    RUN(0x66, 0x48, 0x0f, 0x7e, 0xd3); /* movq rbx, xmm2 */
    assert_int_equal(c->gpr[R_RBX], 0x1122334455667788ull);
    RUN(0x66, 0x0f, 0x7e, 0xd1); /* movd ecx, xmm2 */
    assert_int_equal(c->gpr[R_RCX], 0x55667788u);
    RUN(0x66, 0x41, 0x0f, 0x6e, 0xdc); /* movd xmm3, r12d */
    assert_int_equal(c->fpu.xmm[3].q[1], 0);
    memcpy(c->fpu.xmm[4].b, "hello, world\0\0\0", 16);
    memcpy(c->fpu.xmm[5].b, "wor\0............", 16);
    RUN(0x66, 0x0f, 0x3a, 0x63, 0xec, 0x0c); /* pcmpistri xmm5, xmm4, equal ordered */
    assert_int_equal(c->gpr[R_RCX], 7);
    c->gpr[R_RDI] = BUF;
    RUN(0x66, 0x0f, 0x7f, 0x27); /* movdqa [rdi], xmm4 */
    assert_memory_equal(m->ram + BUF, "hello, world", 12);
    c->gpr[R_RDI] = BUF + 4;
    assert_int_equal(run_bytes((const uint8_t[]){ 0x0f, 0x28, 0x07 }, 3), EXC_GP); /* movaps xmm0, [rdi] */
    RUN(0x0f, 0x10, 0x07); /* movups xmm0, [rdi] */
    assert_memory_equal(c->fpu.xmm[0].b, "o, world", 8);
    RUN(0x0f, 0x57, 0xc0); /* xorps xmm0, xmm0 */
    assert_int_equal(c->fpu.xmm[0].q[0] | c->fpu.xmm[0].q[1], 0);
    RUN(0x66, 0x0f, 0x73, 0xdc, 0x02); /* psrldq xmm4, 2 */
    assert_memory_equal(c->fpu.xmm[4].b, "llo, world", 10);
    RUN(0x0f, 0x6f, 0xc1); /* movq mm0, mm1 (MMX) */
    assert_int_equal(c->fpu.ftw, 0xff);
    RUN(0x0f, 0x77); /* emms */
    assert_int_equal(c->fpu.ftw, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_int_vs_host, per_test),
        cmocka_unit_test_setup(test_shifts_vs_host, per_test),
        cmocka_unit_test_setup(test_fp_vs_host, per_test),
        cmocka_unit_test_setup(test_comis_flags, per_test),
        cmocka_unit_test_setup(test_cvt_gpr, per_test),
        cmocka_unit_test_setup(test_pcmpstr_vs_host, per_test),
        cmocka_unit_test_setup(test_ud_nm, per_test),
        cmocka_unit_test_setup(test_alignment, per_test),
        cmocka_unit_test_setup(test_mxcsr, per_test),
        cmocka_unit_test_setup(test_unmasked_simd_exception, per_test),
        cmocka_unit_test_setup(test_mmx_aliasing, per_test),
        cmocka_unit_test_setup(test_scalar_moves, per_test),
        cmocka_unit_test_setup(test_decoded_forms, per_test),
        cmocka_unit_test_setup(test_model_features, per_test),
        cmocka_unit_test_setup(test_mmx_vs_host, per_test),
        cmocka_unit_test_setup(test_insert_extract_blend, per_test),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
