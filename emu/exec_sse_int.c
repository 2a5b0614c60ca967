/* exec_sse_int.c - MMX and SSE2..SSE4.1 packed-integer arithmetic: add/sub
 * (wrapping and saturating), multiplies, averages, min/max, compares, logic,
 * sign/abs, horizontal add/sub, packs and unpacks, shuffles, byte align and
 * shifts (register and immediate forms).
 *
 * One kernel per operation works on n bytes, so the MMX (n = 8) and the XMM
 * (n = 16) form share it (emu/exec_sse.h). Semantics: the SDM Vol. 2 pages
 * of each instruction; saturation as in SDM Vol. 1 "Saturation and
 * Wraparound Modes".
 */
#include <string.h>

#include "emu/exec_sse.h"
#include "emu/flags.h"

static inline int32_t sat_s8(int32_t v) { return v < -128 ? -128 : v > 127 ? 127 : v; }
static inline int32_t sat_u8(int32_t v) { return v < 0 ? 0 : v > 255 ? 255 : v; }
static inline int32_t sat_s16(int32_t v) { return v < -32768 ? -32768 : v > 32767 ? 32767 : v; }
static inline int32_t sat_u16(int32_t v) { return v < 0 ? 0 : v > 65535 ? 65535 : v; }

/* d.fld[i] = expr(a = d.fld[i], b = s.fld[i]) for every lane of n bytes. */
#define K_MAP(name, fld, T, expr)                                               \
    static void name(xmm_t *d, const xmm_t *s, int n, unsigned imm)             \
    {                                                                           \
        for (int i = 0; i < n / (int)sizeof d->fld[0]; i++) {                   \
            T a = d->fld[i], b = s->fld[i];                                     \
            (void)a;                                                            \
            d->fld[i] = (expr);                                                 \
        }                                                                       \
    }

K_MAP(k_paddb, b, uint32_t, a + b)
K_MAP(k_paddw, w, uint32_t, a + b)
K_MAP(k_paddd, d, uint32_t, a + b)
K_MAP(k_paddq, q, uint64_t, a + b)
K_MAP(k_psubb, b, uint32_t, a - b)
K_MAP(k_psubw, w, uint32_t, a - b)
K_MAP(k_psubd, d, uint32_t, a - b)
K_MAP(k_psubq, q, uint64_t, a - b)
K_MAP(k_paddsb, sb, int32_t, sat_s8(a + b))
K_MAP(k_paddsw, sw, int32_t, sat_s16(a + b))
K_MAP(k_paddusb, b, int32_t, sat_u8(a + b))
K_MAP(k_paddusw, w, int32_t, sat_u16(a + b))
K_MAP(k_psubsb, sb, int32_t, sat_s8(a - b))
K_MAP(k_psubsw, sw, int32_t, sat_s16(a - b))
K_MAP(k_psubusb, b, int32_t, sat_u8(a - b))
K_MAP(k_psubusw, w, int32_t, sat_u16(a - b))
K_MAP(k_pmullw, w, uint32_t, a * b)
K_MAP(k_pmulhw, sw, int32_t, (a * b) >> 16)
K_MAP(k_pmulhuw, w, uint32_t, (a * b) >> 16)
K_MAP(k_pmulhrsw, sw, int32_t, (((a * b) >> 14) + 1) >> 1)
K_MAP(k_pmulld, d, uint32_t, a * b)
K_MAP(k_pmuludq, q, uint64_t, (uint64_t)(uint32_t)a * (uint32_t)b)
K_MAP(k_pmuldq, q, uint64_t, (uint64_t)((int64_t)(int32_t)a * (int32_t)b))
K_MAP(k_pavgb, b, uint32_t, (a + b + 1) >> 1)
K_MAP(k_pavgw, w, uint32_t, (a + b + 1) >> 1)
K_MAP(k_pminub, b, uint32_t, a < b ? a : b)
K_MAP(k_pmaxub, b, uint32_t, a > b ? a : b)
K_MAP(k_pminuw, w, uint32_t, a < b ? a : b)
K_MAP(k_pmaxuw, w, uint32_t, a > b ? a : b)
K_MAP(k_pminud, d, uint32_t, a < b ? a : b)
K_MAP(k_pmaxud, d, uint32_t, a > b ? a : b)
K_MAP(k_pminsb, sb, int32_t, a < b ? a : b)
K_MAP(k_pmaxsb, sb, int32_t, a > b ? a : b)
K_MAP(k_pminsw, sw, int32_t, a < b ? a : b)
K_MAP(k_pmaxsw, sw, int32_t, a > b ? a : b)
K_MAP(k_pminsd, sd, int32_t, a < b ? a : b)
K_MAP(k_pmaxsd, sd, int32_t, a > b ? a : b)
K_MAP(k_pcmpeqb, b, uint32_t, a == b ? 0xff : 0)
K_MAP(k_pcmpeqw, w, uint32_t, a == b ? 0xffff : 0)
K_MAP(k_pcmpeqd, d, uint32_t, a == b ? 0xffffffffu : 0)
K_MAP(k_pcmpeqq, q, uint64_t, a == b ? ~0ull : 0)
K_MAP(k_pcmpgtb, sb, int32_t, a > b ? -1 : 0)
K_MAP(k_pcmpgtw, sw, int32_t, a > b ? -1 : 0)
K_MAP(k_pcmpgtd, sd, int32_t, a > b ? -1 : 0)
K_MAP(k_pcmpgtq, sq, int64_t, a > b ? -1 : 0)
K_MAP(k_pand, q, uint64_t, a & b)
K_MAP(k_pandn, q, uint64_t, ~a & b)
K_MAP(k_por, q, uint64_t, a | b)
K_MAP(k_pxor, q, uint64_t, a ^ b)
K_MAP(k_psignb, sb, int32_t, b < 0 ? -a : b == 0 ? 0 : a)
K_MAP(k_psignw, sw, int32_t, b < 0 ? -a : b == 0 ? 0 : a)
K_MAP(k_psignd, sd, int64_t, b < 0 ? -a : b == 0 ? 0 : a)
K_MAP(k_pabsb, sb, int32_t, b < 0 ? -b : b)
K_MAP(k_pabsw, sw, int32_t, b < 0 ? -b : b)
K_MAP(k_pabsd, sd, int64_t, b < 0 ? -b : b)
#undef K_MAP

/* PMADDWD: pairs of signed word products summed into dwords (0x8000^2 * 2
 * wraps to 0x80000000, as on hardware). */
static void k_pmaddwd(xmm_t *d, const xmm_t *s, int n, unsigned imm)
{
    for (int i = 0; i < n / 4; i++) {
        int64_t v = (int64_t)d->sw[2 * i] * s->sw[2 * i] + (int64_t)d->sw[2 * i + 1] * s->sw[2 * i + 1];
        d->d[i] = (uint32_t)v;
    }
}

/* PMADDUBSW: unsigned bytes of d times signed bytes of s, pairs summed with
 * signed saturation. */
static void k_pmaddubsw(xmm_t *d, const xmm_t *s, int n, unsigned imm)
{
    for (int i = 0; i < n / 2; i++)
        d->sw[i] = (int16_t)sat_s16(d->b[2 * i] * s->sb[2 * i] + d->b[2 * i + 1] * s->sb[2 * i + 1]);
}

/* PSADBW: per 8-byte group, the sum of absolute differences in the low word. */
static void k_psadbw(xmm_t *d, const xmm_t *s, int n, unsigned imm)
{
    for (int g = 0; g < n / 8; g++) {
        uint32_t sum = 0;
        for (int i = 0; i < 8; i++) {
            int v = d->b[8 * g + i] - s->b[8 * g + i];
            sum += (uint32_t)(v < 0 ? -v : v);
        }
        d->q[g] = sum;
    }
}

/* ---- packs: d's lanes narrowed into the low half, s's into the high half ---- */
#define K_PACK(name, wide, narrow, sat)                                          \
    static void name(xmm_t *d, const xmm_t *s, int n, unsigned imm)              \
    {                                                                            \
        xmm_t r;                                                                 \
        int m = n / (int)sizeof d->wide[0];                                      \
        for (int i = 0; i < m; i++) {                                            \
            r.narrow[i] = sat(d->wide[i]);                                       \
            r.narrow[m + i] = sat(s->wide[i]);                                   \
        }                                                                        \
        memcpy(d, &r, (size_t)n);                                                \
    }
K_PACK(k_packsswb, sw, sb, (int8_t)sat_s8)
K_PACK(k_packuswb, sw, b, (uint8_t)sat_u8)
K_PACK(k_packssdw, sd, sw, (int16_t)sat_s16)
#undef K_PACK
static void k_packusdw(xmm_t *d, const xmm_t *s, int n, unsigned imm)
{
    xmm_t r;
    for (int i = 0; i < 4; i++) {
        int32_t a = d->sd[i], b = s->sd[i];
        r.w[i] = (uint16_t)(a < 0 ? 0 : a > 65535 ? 65535 : a);
        r.w[4 + i] = (uint16_t)(b < 0 ? 0 : b > 65535 ? 65535 : b);
    }
    *d = r;
}

/* ---- unpacks: interleave the low (or high) halves of d and s ---- */
#define K_UNPACK(name, fld, high)                                                \
    static void name(xmm_t *d, const xmm_t *s, int n, unsigned imm)              \
    {                                                                            \
        xmm_t r;                                                                 \
        int m = n / (int)sizeof d->fld[0] / 2;                                   \
        for (int i = 0; i < m; i++) {                                            \
            r.fld[2 * i] = d->fld[(high) * m + i];                               \
            r.fld[2 * i + 1] = s->fld[(high) * m + i];                           \
        }                                                                        \
        memcpy(d, &r, (size_t)n);                                                \
    }
K_UNPACK(k_punpcklbw, b, 0)
K_UNPACK(k_punpcklwd, w, 0)
K_UNPACK(k_punpckldq, d, 0)
K_UNPACK(k_punpcklqdq, q, 0)
K_UNPACK(k_punpckhbw, b, 1)
K_UNPACK(k_punpckhwd, w, 1)
K_UNPACK(k_punpckhdq, d, 1)
K_UNPACK(k_punpckhqdq, q, 1)
#undef K_UNPACK

/* ---- horizontal add/subtract: pair results of d, then of s ---- */
#define K_HORIZ(name, fld, T, expr)                                              \
    static void name(xmm_t *d, const xmm_t *s, int n, unsigned imm)              \
    {                                                                            \
        xmm_t r;                                                                 \
        int m = n / (int)sizeof d->fld[0] / 2;                                   \
        for (int i = 0; i < m; i++) {                                            \
            T a = d->fld[2 * i], b = d->fld[2 * i + 1];                          \
            r.fld[i] = (expr);                                                   \
            a = s->fld[2 * i], b = s->fld[2 * i + 1];                            \
            r.fld[m + i] = (expr);                                               \
        }                                                                        \
        memcpy(d, &r, (size_t)n);                                                \
    }
K_HORIZ(k_phaddw, w, uint32_t, (uint16_t)(a + b))
K_HORIZ(k_phaddd, d, uint32_t, a + b)
K_HORIZ(k_phaddsw, sw, int32_t, (int16_t)sat_s16(a + b))
K_HORIZ(k_phsubw, w, uint32_t, (uint16_t)(a - b))
K_HORIZ(k_phsubd, d, uint32_t, a - b)
K_HORIZ(k_phsubsw, sw, int32_t, (int16_t)sat_s16(a - b))
#undef K_HORIZ

/* PSHUFB: each byte of s selects a byte of d (bit 7: zero). */
static void k_pshufb(xmm_t *d, const xmm_t *s, int n, unsigned imm)
{
    xmm_t r;
    for (int i = 0; i < n; i++)
        r.b[i] = (s->b[i] & 0x80) ? 0 : d->b[s->b[i] & (n - 1)];
    memcpy(d, &r, (size_t)n);
}

/* PALIGNR: the 2n-byte concatenation d:s shifted right by imm bytes. */
static void k_palignr(xmm_t *d, const xmm_t *s, int n, unsigned imm)
{
    uint8_t t[32];
    xmm_t r;
    memcpy(t, s->b, (size_t)n);
    memcpy(t + n, d->b, (size_t)n);
    imm &= 0xff;
    for (int i = 0; i < n; i++)
        r.b[i] = (unsigned)i + imm < 2u * (unsigned)n ? t[i + imm] : 0;
    memcpy(d, &r, (size_t)n);
}

/* ---- shifts: the count is the low quadword of s (or the immediate) ---- */
#define K_SHIFT(name, fld, T, expr)                                        \
    static void name(xmm_t *d, const xmm_t *s, int n, unsigned imm)              \
    {                                                                            \
        uint64_t cnt = s->q[0];                                                  \
        for (int i = 0; i < n / (int)sizeof d->fld[0]; i++) {                    \
            T a = d->fld[i];                                                     \
            d->fld[i] = (expr);                                                  \
        }                                                                        \
    }
K_SHIFT(k_psrlw, w, uint32_t, cnt > 15 ? 0 : a >> cnt)
K_SHIFT(k_psrld, d, uint32_t, cnt > 31 ? 0 : a >> cnt)
K_SHIFT(k_psrlq, q, uint64_t, cnt > 63 ? 0 : a >> cnt)
K_SHIFT(k_psllw, w, uint32_t, cnt > 15 ? 0 : a << cnt)
K_SHIFT(k_pslld, d, uint32_t, cnt > 31 ? 0 : a << cnt)
K_SHIFT(k_psllq, q, uint64_t, cnt > 63 ? 0 : a << cnt)
K_SHIFT(k_psraw, sw, int32_t, a >> (cnt > 15 ? 15 : cnt))
K_SHIFT(k_psrad, sd, int32_t, a >> (cnt > 31 ? 31 : cnt))
#undef K_SHIFT

SSE_PAIR(paddb, k_paddb)
SSE_PAIR(paddw, k_paddw)
SSE_PAIR(paddd, k_paddd)
SSE_PAIR(paddq, k_paddq)
SSE_PAIR(psubb, k_psubb)
SSE_PAIR(psubw, k_psubw)
SSE_PAIR(psubd, k_psubd)
SSE_PAIR(psubq, k_psubq)
SSE_PAIR(paddsb, k_paddsb)
SSE_PAIR(paddsw, k_paddsw)
SSE_PAIR(paddusb, k_paddusb)
SSE_PAIR(paddusw, k_paddusw)
SSE_PAIR(psubsb, k_psubsb)
SSE_PAIR(psubsw, k_psubsw)
SSE_PAIR(psubusb, k_psubusb)
SSE_PAIR(psubusw, k_psubusw)
SSE_PAIR(pmullw, k_pmullw)
SSE_PAIR(pmulhw, k_pmulhw)
SSE_PAIR(pmulhuw, k_pmulhuw)
SSE_PAIR(pmulhrsw, k_pmulhrsw)
SSE_PAIR(pmuludq, k_pmuludq)
SSE_PAIR(pmaddwd, k_pmaddwd)
SSE_PAIR(pmaddubsw, k_pmaddubsw)
SSE_PAIR(psadbw, k_psadbw)
SSE_PAIR(pavgb, k_pavgb)
SSE_PAIR(pavgw, k_pavgw)
SSE_PAIR(pminub, k_pminub)
SSE_PAIR(pmaxub, k_pmaxub)
SSE_PAIR(pminsw, k_pminsw)
SSE_PAIR(pmaxsw, k_pmaxsw)
SSE_PAIR(pcmpeqb, k_pcmpeqb)
SSE_PAIR(pcmpeqw, k_pcmpeqw)
SSE_PAIR(pcmpeqd, k_pcmpeqd)
SSE_PAIR(pcmpgtb, k_pcmpgtb)
SSE_PAIR(pcmpgtw, k_pcmpgtw)
SSE_PAIR(pcmpgtd, k_pcmpgtd)
SSE_PAIR(pand, k_pand)
SSE_PAIR(pandn, k_pandn)
SSE_PAIR(por, k_por)
SSE_PAIR(pxor, k_pxor)
SSE_PAIR(psignb, k_psignb)
SSE_PAIR(psignw, k_psignw)
SSE_PAIR(psignd, k_psignd)
SSE_PAIR(pabsb, k_pabsb)
SSE_PAIR(pabsw, k_pabsw)
SSE_PAIR(pabsd, k_pabsd)
SSE_PAIR(packsswb, k_packsswb)
SSE_PAIR(packuswb, k_packuswb)
SSE_PAIR(packssdw, k_packssdw)
SSE_PAIR(punpckhbw, k_punpckhbw)
SSE_PAIR(punpckhwd, k_punpckhwd)
SSE_PAIR(punpckhdq, k_punpckhdq)
SSE_PAIR(phaddw, k_phaddw)
SSE_PAIR(phaddd, k_phaddd)
SSE_PAIR(phaddsw, k_phaddsw)
SSE_PAIR(phsubw, k_phsubw)
SSE_PAIR(phsubd, k_phsubd)
SSE_PAIR(phsubsw, k_phsubsw)
SSE_PAIR(pshufb, k_pshufb)
SSE_PAIR(palignr, k_palignr)
SSE_PAIR(psrlw, k_psrlw)
SSE_PAIR(psrld, k_psrld)
SSE_PAIR(psrlq, k_psrlq)
SSE_PAIR(psllw, k_psllw)
SSE_PAIR(pslld, k_pslld)
SSE_PAIR(psllq, k_psllq)
SSE_PAIR(psraw, k_psraw)
SSE_PAIR(psrad, k_psrad)
SSE_ONLY(punpcklbw, k_punpcklbw)
SSE_ONLY(punpcklwd, k_punpcklwd)
SSE_ONLY(punpckldq, k_punpckldq)
SSE_ONLY(punpcklqdq, k_punpcklqdq)
SSE_ONLY(punpckhqdq, k_punpckhqdq)
SSE_ONLY(pmulld, k_pmulld)
SSE_ONLY(pmuldq, k_pmuldq)
SSE_ONLY(packusdw, k_packusdw)
SSE_ONLY(pminuw, k_pminuw)
SSE_ONLY(pmaxuw, k_pmaxuw)
SSE_ONLY(pminud, k_pminud)
SSE_ONLY(pmaxud, k_pmaxud)
SSE_ONLY(pminsb, k_pminsb)
SSE_ONLY(pmaxsb, k_pmaxsb)
SSE_ONLY(pminsd, k_pminsd)
SSE_ONLY(pmaxsd, k_pmaxsd)
SSE_ONLY(pcmpeqq, k_pcmpeqq)
SSE_ONLY(pcmpgtq, k_pcmpgtq)

/* MMX PUNPCKL*: the source is Qd, a 32-bit memory operand. */
static void mmx_run_qd(cpu_t *c, const dinsn_t *d, sse_kern k)
{
    mmx_check(c, &d->i);
    xmm_t a = { .q = { mm_get(c, d->i.reg), 0 } };
    xmm_t b = { .q = { 0, 0 } };
    b.q[0] = d->i.mod == 3 ? mm_get(c, d->i.rm) : lin_read32(c, insn_lin(c, &d->i, 4, ACC_READ));
    k(&a, &b, 8, 0);
    mmx_commit(c);
    mm_set(c, d->i.reg, a.q[0]);
}
void op_punpcklbw_pq(cpu_t *c, const dinsn_t *d) { mmx_run_qd(c, d, k_punpcklbw); }
void op_punpcklwd_pq(cpu_t *c, const dinsn_t *d) { mmx_run_qd(c, d, k_punpcklwd); }
void op_punpckldq_pq(cpu_t *c, const dinsn_t *d) { mmx_run_qd(c, d, k_punpckldq); }

/* ---- shift by immediate (groups 12-14): the destination is ModRM.rm ---- */
static void mmx_shift_imm(cpu_t *c, const dinsn_t *d, sse_kern k)
{
    mmx_check(c, &d->i);
    xmm_t a = { .q = { mm_get(c, d->i.rm), 0 } };
    xmm_t cnt = { .q = { d->i.imm & 0xff, 0 } };
    k(&a, &cnt, 8, 0);
    mmx_commit(c);
    mm_set(c, d->i.rm, a.q[0]);
}
static void xmm_shift_imm(cpu_t *c, const dinsn_t *d, sse_kern k)
{
    sse_check(c, &d->i);
    xmm_t cnt = { .q = { d->i.imm & 0xff, 0 } };
    k(xmm_reg(c, d->i.rm), &cnt, 16, 0);
}
#define SHIFT_IMM(name, kern)                                                                \
    void op_##name##_nq(cpu_t *c, const dinsn_t *d) { mmx_shift_imm(c, d, kern); }           \
    void op_##name##_ux(cpu_t *c, const dinsn_t *d) { xmm_shift_imm(c, d, kern); }
SHIFT_IMM(psrlw, k_psrlw)
SHIFT_IMM(psrld, k_psrld)
SHIFT_IMM(psrlq, k_psrlq)
SHIFT_IMM(psllw, k_psllw)
SHIFT_IMM(pslld, k_pslld)
SHIFT_IMM(psllq, k_psllq)
SHIFT_IMM(psraw, k_psraw)
SHIFT_IMM(psrad, k_psrad)
#undef SHIFT_IMM

/* PSRLDQ/PSLLDQ: whole-register byte shifts. */
void op_psrldq_ux(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    xmm_t *x = xmm_reg(c, d->i.rm), r = { .q = { 0, 0 } };
    unsigned k = (unsigned)d->i.imm & 0xff;
    for (unsigned i = 0; i + k < 16; i++)
        r.b[i] = x->b[i + k];
    *x = r;
}
void op_pslldq_ux(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    xmm_t *x = xmm_reg(c, d->i.rm), r = { .q = { 0, 0 } };
    unsigned k = (unsigned)d->i.imm & 0xff;
    for (unsigned i = k; i < 16; i++)
        r.b[i] = x->b[i - k];
    *x = r;
}

/* ---- word/dword shuffles by immediate: the result comes from the source ---- */
void op_pshufw(cpu_t *c, const dinsn_t *d)
{
    mmx_check(c, &d->i);
    xmm_t s = { .q = { mmx_read_q(c, &d->i), 0 } }, r;
    unsigned imm = (unsigned)d->i.imm;
    for (int i = 0; i < 4; i++)
        r.w[i] = s.w[(imm >> (2 * i)) & 3];
    mmx_commit(c);
    mm_set(c, d->i.reg, r.q[0]);
}
void op_pshufd(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    xmm_t s, r;
    sse_read_w(c, &d->i, &s, true);
    unsigned imm = (unsigned)d->i.imm;
    for (int i = 0; i < 4; i++)
        r.d[i] = s.d[(imm >> (2 * i)) & 3];
    *xmm_reg(c, d->i.reg) = r;
}
static void pshuf_half(cpu_t *c, const dinsn_t *d, int half)
{
    sse_check(c, &d->i);
    xmm_t s, r;
    sse_read_w(c, &d->i, &s, true);
    unsigned imm = (unsigned)d->i.imm;
    r = s;
    for (int i = 0; i < 4; i++)
        r.w[4 * half + i] = s.w[4 * half + ((imm >> (2 * i)) & 3)];
    *xmm_reg(c, d->i.reg) = r;
}
void op_pshuflw(cpu_t *c, const dinsn_t *d) { pshuf_half(c, d, 0); }
void op_pshufhw(cpu_t *c, const dinsn_t *d) { pshuf_half(c, d, 1); }

/* ---- SSE4.1 odds and ends ---- */

/* PTEST: ZF = (dst AND src) == 0, CF = (NOT dst AND src) == 0; the other
 * arithmetic flags cleared. */
void op_ptest_vx(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    xmm_t s;
    sse_read_w(c, &d->i, &s, true);
    const xmm_t *x = xmm_reg(c, d->i.reg);
    bool zf = !((x->q[0] & s.q[0]) | (x->q[1] & s.q[1]));
    bool cf = !((~x->q[0] & s.q[0]) | (~x->q[1] & s.q[1]));
    cpu_set_arith(c, (zf ? F_ZF : 0) | (cf ? F_CF : 0));
}

/* PHMINPOSUW: the smallest unsigned word (first on ties) and its index. */
void op_phminposuw(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    xmm_t s, r = { .q = { 0, 0 } };
    sse_read_w(c, &d->i, &s, true);
    unsigned idx = 0;
    for (unsigned i = 1; i < 8; i++)
        if (s.w[i] < s.w[idx])
            idx = i;
    r.w[0] = s.w[idx];
    r.w[1] = (uint16_t)idx;
    *xmm_reg(c, d->i.reg) = r;
}

/* MPSADBW: eight sums of absolute differences between the 4-byte group of
 * the source imm[1:0] selects and sliding 4-byte windows of the destination
 * starting at byte 4 * imm[2]. */
void op_mpsadbw(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    xmm_t s, r, *x = xmm_reg(c, d->i.reg);
    sse_read_w(c, &d->i, &s, true);
    unsigned imm = (unsigned)d->i.imm, so = 4 * (imm & 3), dof = 4 * ((imm >> 2) & 1);
    for (unsigned i = 0; i < 8; i++) {
        unsigned sum = 0;
        for (unsigned k = 0; k < 4; k++) {
            int v = x->b[dof + i + k] - s.b[so + k];
            sum += (unsigned)(v < 0 ? -v : v);
        }
        r.w[i] = (uint16_t)sum;
    }
    *x = r;
}
