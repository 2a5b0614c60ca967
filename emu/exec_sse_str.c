/* exec_sse_str.c - SSE4.2 packed string compares: PCMPESTRI, PCMPESTRM,
 * PCMPISTRI, PCMPISTRM.
 *
 * SDM Vol. 2 section "Programming Considerations for SSE4.2 String and Text
 * Instructions" (imm8 control: source format, aggregation, polarity, output
 * selection; the valid/invalid element override table; flag definitions).
 * Operand 1 is the XMM register (ModRM.reg), operand 2 the XMM register or
 * unaligned m128 (ModRM.rm). Lengths come from rAX/rDX (explicit forms, REX.W
 * selects 64 bits) or the first zero element (implicit forms).
 */
#include <string.h>

#include "emu/exec_sse.h"
#include "emu/flags.h"

enum { AGG_EQUAL_ANY = 0, AGG_RANGES = 1, AGG_EQUAL_EACH = 2, AGG_EQUAL_ORDERED = 3 };

/* Element i of v in the format imm[1:0] selects (ub, uw, sb, sw). */
static int32_t elem(const xmm_t *v, unsigned fmt, int i)
{
    switch (fmt) {
    case 0: return v->b[i];
    case 1: return v->w[i];
    case 2: return v->sb[i];
    default: return v->sw[i];
    }
}

/* Implicit length: index of the first zero element, or n. */
static int implicit_len(const xmm_t *v, unsigned fmt, int n)
{
    for (int i = 0; i < n; i++)
        if (elem(v, fmt, i) == 0)
            return i;
    return n;
}

/* Explicit length: |reg| saturated to n. */
static int explicit_len(uint64_t reg, bool w64, int n)
{
    int64_t v = w64 ? (int64_t)reg : (int64_t)(int32_t)reg;
    uint64_t a = v < 0 ? -(uint64_t)v : (uint64_t)v;
    return a > (uint64_t)n ? n : (int)a;
}

/* The comparison with the invalid-element overrides. i indexes operand 1
 * (the register), j operand 2. */
static bool bool_res(const xmm_t *a, const xmm_t *b, unsigned imm, int i, int j, int la, int lb)
{
    unsigned fmt = imm & 3, agg = (imm >> 2) & 3;
    bool va = i < la, vb = j < lb;
    if (!va || !vb) {
        if (agg == AGG_EQUAL_EACH)
            return !va && !vb;
        if (agg == AGG_EQUAL_ORDERED)
            return !va;
        return false;
    }
    int32_t x = elem(a, fmt, i), y = elem(b, fmt, j);
    if (agg == AGG_RANGES)
        return (i & 1) ? y <= x : y >= x; /* even: lower bound, odd: upper bound */
    return x == y;
}

/* IntRes2 (after polarity) for operands a, b with lengths la, lb. */
static unsigned pcmpstr_core(const xmm_t *a, const xmm_t *b, unsigned imm, int la, int lb, int n)
{
    unsigned agg = (imm >> 2) & 3, res = 0;
    switch (agg) {
    case AGG_EQUAL_ANY:
        for (int j = 0; j < n; j++)
            for (int i = 0; i < n; i++)
                if (bool_res(a, b, imm, i, j, la, lb)) {
                    res |= 1u << j;
                    break;
                }
        break;
    case AGG_RANGES:
        for (int j = 0; j < n; j++)
            for (int i = 0; i + 1 < n; i += 2)
                if (bool_res(a, b, imm, i, j, la, lb) && bool_res(a, b, imm, i + 1, j, la, lb)) {
                    res |= 1u << j;
                    break;
                }
        break;
    case AGG_EQUAL_EACH:
        for (int i = 0; i < n; i++)
            if (bool_res(a, b, imm, i, i, la, lb))
                res |= 1u << i;
        break;
    default: /* equal ordered: operand 1 is a substring of operand 2 at j */
        for (int j = 0; j < n; j++) {
            bool m = true;
            for (int i = 0; i < n - j && m; i++)
                m = bool_res(a, b, imm, i, j + i, la, lb);
            if (m)
                res |= 1u << j;
        }
        break;
    }
    unsigned all = (1u << n) - 1;
    switch ((imm >> 4) & 3) {
    case 1: res ^= all; break;                           /* negative polarity */
    case 3: res ^= (1u << lb) - 1; break;                /* masked: only valid elements of op 2 */
    default: break;
    }
    return res & all;
}

static void pcmpstr(cpu_t *c, const dinsn_t *d, bool explicit, bool mask_out)
{
    sse_check(c, &d->i);
    xmm_t b;
    sse_read_w(c, &d->i, &b, false);
    const xmm_t *a = xmm_reg(c, d->i.reg);
    unsigned imm = (unsigned)d->i.imm;
    int n = (imm & 1) ? 8 : 16;
    int la, lb;
    if (explicit) {
        bool w = (d->i.rex & 0x08) != 0;
        la = explicit_len(c->gpr[R_RAX], w, n);
        lb = explicit_len(c->gpr[R_RDX], w, n);
    } else {
        la = implicit_len(a, imm & 3, n);
        lb = implicit_len(&b, imm & 3, n);
    }
    unsigned res = pcmpstr_core(a, &b, imm, la, lb, n);

    if (mask_out) {
        xmm_t m = { .q = { 0, 0 } };
        if (imm & 0x40) {
            for (int i = 0; i < n; i++)
                if ((res >> i) & 1)
                    memset(m.b + i * (16 / n), 0xff, (size_t)(16 / n));
        } else {
            m.w[0] = (uint16_t)res;
        }
        *xmm_reg(c, 0) = m;
    } else {
        uint32_t idx = (uint32_t)n;
        if (res)
            idx = (imm & 0x40) ? 31u - (uint32_t)__builtin_clz(res) : (uint32_t)__builtin_ctz(res);
        c->gpr[R_RCX] = idx;
    }
    uint64_t fl = (res ? F_CF : 0) | (lb < n ? F_ZF : 0) | (la < n ? F_SF : 0) | ((res & 1) ? F_OF : 0);
    cpu_set_arith(c, fl);
}

void op_pcmpestri(cpu_t *c, const dinsn_t *d) { pcmpstr(c, d, true, false); }
void op_pcmpestrm(cpu_t *c, const dinsn_t *d) { pcmpstr(c, d, true, true); }
void op_pcmpistri(cpu_t *c, const dinsn_t *d) { pcmpstr(c, d, false, false); }
void op_pcmpistrm(cpu_t *c, const dinsn_t *d) { pcmpstr(c, d, false, true); }
