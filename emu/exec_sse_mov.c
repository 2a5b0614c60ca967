/* exec_sse_mov.c - MMX/SSE data movement and lane selection: full and partial
 * register moves, MOVD/MOVQ, non-temporal and masked stores, mask extraction
 * (MOVMSKPS/PD, PMOVMSKB), shuffles and blends of whole lanes, element
 * insert/extract (PINSR*, PEXTR*, INSERTPS, EXTRACTPS), zero/sign extension
 * (PMOVZX/PMOVSX), EMMS.
 *
 * Alignment: the legacy-SSE 16-byte memory forms raise #GP(0) when misaligned
 * except the ones the SDM names unaligned (MOVUPS/MOVUPD/MOVDQU/LDDQU) and
 * the narrower operands (SDM Vol. 1 "Alignment of 128-Bit Memory Operands").
 */
#include <string.h>

#include "emu/exec_sse.h"
#include "emu/flags.h"

static inline int gpr_size(const x86_insn *i)
{
    return (i->rex & 0x08) ? 8 : 4; /* the Ey/Gy operand: REX.W selects 64 bits */
}

/* XMM register n = the quadword v, its upper quadword zeroed (MOVD/MOVQ to
 * XMM, MOVQ2DQ, scalar loads from memory). */
static void xmm_set_q(cpu_t *c, int n, uint64_t v)
{
    xmm_t *x = xmm_reg(c, n);
    x->q[0] = v;
    x->q[1] = 0;
}

/* ---- 128-bit moves ---- */

static void movx_load(cpu_t *c, const dinsn_t *d, bool aligned)
{
    sse_check(c, &d->i);
    xmm_t v;
    sse_read_w(c, &d->i, &v, aligned);
    *xmm_reg(c, d->i.reg) = v;
}
static void movx_store(cpu_t *c, const dinsn_t *d, bool aligned)
{
    sse_check(c, &d->i);
    if (d->i.mod == 3)
        *xmm_reg(c, d->i.rm) = *xmm_reg(c, d->i.reg);
    else
        mem_write128(c, sse_lin16(c, &d->i, ACC_WRITE, aligned), xmm_reg(c, d->i.reg));
}
void op_movu_load(cpu_t *c, const dinsn_t *d) { movx_load(c, d, false); }
void op_mova_load(cpu_t *c, const dinsn_t *d) { movx_load(c, d, true); }
void op_movu_store(cpu_t *c, const dinsn_t *d) { movx_store(c, d, false); }
void op_mova_store(cpu_t *c, const dinsn_t *d) { movx_store(c, d, true); }

/* ---- scalar moves: register forms merge, loads from memory zero the rest ---- */

static void movs_load(cpu_t *c, const dinsn_t *d, int size)
{
    sse_check(c, &d->i);
    xmm_t *x = xmm_reg(c, d->i.reg);
    if (d->i.mod == 3) {
        memcpy(x, xmm_reg(c, d->i.rm), (size_t)size);
        return;
    }
    xmm_set_q(c, d->i.reg, lin_read(c, insn_lin(c, &d->i, size, ACC_READ), size));
}
static void movs_store(cpu_t *c, const dinsn_t *d, int size)
{
    sse_check(c, &d->i);
    xmm_t *x = xmm_reg(c, d->i.reg);
    if (d->i.mod == 3)
        memcpy(xmm_reg(c, d->i.rm), x, (size_t)size);
    else
        lin_write(c, insn_lin(c, &d->i, size, ACC_WRITE), size, size == 4 ? x->d[0] : x->q[0]);
}
void op_movss_load(cpu_t *c, const dinsn_t *d) { movs_load(c, d, 4); }
void op_movsd_load(cpu_t *c, const dinsn_t *d) { movs_load(c, d, 8); }
void op_movss_store(cpu_t *c, const dinsn_t *d) { movs_store(c, d, 4); }
void op_movsd_store(cpu_t *c, const dinsn_t *d) { movs_store(c, d, 8); }

/* ---- half moves ---- */

/* MOVLPS/MOVLPD/MOVHPS/MOVHPD load: one quadword from memory into half h. */
static void movh_load(cpu_t *c, const dinsn_t *d, int h)
{
    sse_check(c, &d->i);
    xmm_reg(c, d->i.reg)->q[h] = lin_read64(c, insn_lin(c, &d->i, 8, ACC_READ));
}
static void movh_store(cpu_t *c, const dinsn_t *d, int h)
{
    sse_check(c, &d->i);
    lin_write64(c, insn_lin(c, &d->i, 8, ACC_WRITE), xmm_reg(c, d->i.reg)->q[h]);
}
void op_movlps_load(cpu_t *c, const dinsn_t *d) { movh_load(c, d, 0); }
void op_movhps_load(cpu_t *c, const dinsn_t *d) { movh_load(c, d, 1); }
void op_movlps_store(cpu_t *c, const dinsn_t *d) { movh_store(c, d, 0); }
void op_movhps_store(cpu_t *c, const dinsn_t *d) { movh_store(c, d, 1); }

void op_movhlps(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    xmm_reg(c, d->i.reg)->q[0] = xmm_reg(c, d->i.rm)->q[1];
}
void op_movlhps(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    xmm_reg(c, d->i.reg)->q[1] = xmm_reg(c, d->i.rm)->q[0];
}

/* MOVSLDUP / MOVSHDUP: duplicate the even / odd dwords. */
static void movdup_ps(cpu_t *c, const dinsn_t *d, int odd)
{
    sse_check(c, &d->i);
    xmm_t s, r;
    sse_read_w(c, &d->i, &s, true);
    r.d[0] = r.d[1] = s.d[odd];
    r.d[2] = r.d[3] = s.d[2 + odd];
    *xmm_reg(c, d->i.reg) = r;
}
void op_movsldup(cpu_t *c, const dinsn_t *d) { movdup_ps(c, d, 0); }
void op_movshdup(cpu_t *c, const dinsn_t *d) { movdup_ps(c, d, 1); }
void op_movddup(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    xmm_t s;
    sse_read_w_low(c, &d->i, &s, 8);
    xmm_t *x = xmm_reg(c, d->i.reg);
    x->q[0] = x->q[1] = s.q[0];
}

/* ---- MOVD/MOVQ ---- */

static uint64_t ey_read(cpu_t *c, const x86_insn *i)
{
    int sz = gpr_size(i);
    if (i->mod == 3)
        return sz == 8 ? c->gpr[i->rm] : (uint32_t)c->gpr[i->rm];
    return lin_read(c, insn_lin(c, i, sz, ACC_READ), sz);
}
static void ey_write(cpu_t *c, const x86_insn *i, uint64_t v)
{
    int sz = gpr_size(i);
    if (i->mod == 3)
        c->gpr[i->rm] = sz == 8 ? v : (uint32_t)v;
    else
        lin_write(c, insn_lin(c, i, sz, ACC_WRITE), sz, v);
}

void op_movd_pq_ey(cpu_t *c, const dinsn_t *d)
{
    mmx_check(c, &d->i);
    uint64_t v = ey_read(c, &d->i);
    mmx_commit(c);
    mm_set(c, d->i.reg, v);
}
void op_movd_ey_pq(cpu_t *c, const dinsn_t *d)
{
    mmx_check(c, &d->i);
    ey_write(c, &d->i, mm_get(c, d->i.reg));
    mmx_commit(c);
}
void op_movd_vy_ey(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    xmm_set_q(c, d->i.reg, ey_read(c, &d->i));
}
void op_movd_ey_vy(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    ey_write(c, &d->i, xmm_reg(c, d->i.reg)->q[0]);
}

void op_movq_pq_qq(cpu_t *c, const dinsn_t *d)
{
    mmx_check(c, &d->i);
    uint64_t v = mmx_read_q(c, &d->i);
    mmx_commit(c);
    mm_set(c, d->i.reg, v);
}
void op_movq_qq_pq(cpu_t *c, const dinsn_t *d)
{
    mmx_check(c, &d->i);
    uint64_t v = mm_get(c, d->i.reg);
    if (d->i.mod == 3)
        mm_set(c, d->i.rm, v);
    else
        lin_write64(c, insn_lin(c, &d->i, 8, ACC_WRITE), v);
    mmx_commit(c);
}
/* F3 0F 7E MOVQ xmm, xmm/m64: the upper quadword is zeroed. */
void op_movq_vq_wq(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    xmm_t s;
    sse_read_w_low(c, &d->i, &s, 8);
    xmm_set_q(c, d->i.reg, s.q[0]);
}
/* 66 0F D6 MOVQ xmm/m64, xmm: a register destination gets its upper half zeroed. */
void op_movq_wq_vq(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    uint64_t v = xmm_reg(c, d->i.reg)->q[0];
    if (d->i.mod == 3)
        xmm_set_q(c, d->i.rm, v);
    else
        lin_write64(c, insn_lin(c, &d->i, 8, ACC_WRITE), v);
}
void op_movq2dq(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    mmx_check(c, &d->i);
    xmm_set_q(c, d->i.reg, mm_get(c, d->i.rm));
    mmx_commit(c);
}
void op_movdq2q(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    mmx_check(c, &d->i);
    mmx_commit(c);
    mm_set(c, d->i.reg, xmm_reg(c, d->i.rm)->q[0]);
}

/* ---- non-temporal and masked stores ---- */

void op_movntq(cpu_t *c, const dinsn_t *d)
{
    mmx_check(c, &d->i);
    lin_write64(c, insn_lin(c, &d->i, 8, ACC_WRITE), mm_get(c, d->i.reg));
    mmx_commit(c);
}

/* MASKMOVQ/MASKMOVDQU: bytes whose mask byte has bit 7 set go to DS:rDI
 * (segment overridable). Stored byte by byte in ascending order. */
static void maskmov(cpu_t *c, const dinsn_t *d, const uint8_t *src, const uint8_t *mask, int n)
{
    int seg = (d->i.pfx & X86_PFX_SEGOVR) ? d->i.seg : S_DS;
    uint64_t ea = c->gpr[R_RDI] & size_mask(d->i.asize);
    for (int i = 0; i < n; i++)
        if (mask[i] & 0x80)
            lin_write8(c, seg_lin(c, seg, (ea + (uint64_t)i) & size_mask(d->i.asize), 1, ACC_WRITE), src[i]);
}
void op_maskmovq(cpu_t *c, const dinsn_t *d)
{
    mmx_check(c, &d->i);
    uint64_t v = mm_get(c, d->i.reg), m = mm_get(c, d->i.rm);
    maskmov(c, d, (const uint8_t *)&v, (const uint8_t *)&m, 8);
    mmx_commit(c);
}
void op_maskmovdqu(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    xmm_t v = *xmm_reg(c, d->i.reg), m = *xmm_reg(c, d->i.rm);
    maskmov(c, d, v.b, m.b, 16);
}

/* ---- sign-bit masks into a general register ---- */

void op_movmskps(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    const xmm_t *x = xmm_reg(c, d->i.rm);
    uint32_t m = 0;
    for (int i = 0; i < 4; i++)
        m |= (x->d[i] >> 31) << i;
    c->gpr[d->i.reg] = m;
}
void op_movmskpd(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    const xmm_t *x = xmm_reg(c, d->i.rm);
    c->gpr[d->i.reg] = (x->q[0] >> 63) | ((x->q[1] >> 63) << 1);
}
static uint32_t byte_signs(const uint8_t *b, int n)
{
    uint32_t m = 0;
    for (int i = 0; i < n; i++)
        m |= (uint32_t)(b[i] >> 7) << i;
    return m;
}
void op_pmovmskb_nq(cpu_t *c, const dinsn_t *d)
{
    mmx_check(c, &d->i);
    uint64_t v = mm_get(c, d->i.rm);
    c->gpr[d->i.reg] = byte_signs((const uint8_t *)&v, 8);
    mmx_commit(c);
}
void op_pmovmskb_ux(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    c->gpr[d->i.reg] = byte_signs(xmm_reg(c, d->i.rm)->b, 16);
}

/* ---- lane shuffles and blends ---- */

void op_shufps(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    xmm_t s, r, *x = xmm_reg(c, d->i.reg);
    sse_read_w(c, &d->i, &s, true);
    unsigned imm = (unsigned)d->i.imm;
    r.d[0] = x->d[imm & 3];
    r.d[1] = x->d[(imm >> 2) & 3];
    r.d[2] = s.d[(imm >> 4) & 3];
    r.d[3] = s.d[(imm >> 6) & 3];
    *x = r;
}
void op_shufpd(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    xmm_t s, r, *x = xmm_reg(c, d->i.reg);
    sse_read_w(c, &d->i, &s, true);
    unsigned imm = (unsigned)d->i.imm;
    r.q[0] = x->q[imm & 1];
    r.q[1] = s.q[(imm >> 1) & 1];
    *x = r;
}

/* Blend elements of `esize` bytes: element i comes from s when mask bit i is set. */
static void blend(xmm_t *x, const xmm_t *s, int esize, unsigned mask)
{
    for (int i = 0; i < 16 / esize; i++)
        if ((mask >> i) & 1)
            memcpy(x->b + i * esize, s->b + i * esize, (size_t)esize);
}
static void blend_imm(cpu_t *c, const dinsn_t *d, int esize)
{
    sse_check(c, &d->i);
    xmm_t s;
    sse_read_w(c, &d->i, &s, true);
    blend(xmm_reg(c, d->i.reg), &s, esize, (unsigned)d->i.imm);
}
void op_blendps(cpu_t *c, const dinsn_t *d) { blend_imm(c, d, 4); }
void op_blendpd(cpu_t *c, const dinsn_t *d) { blend_imm(c, d, 8); }
void op_pblendw(cpu_t *c, const dinsn_t *d) { blend_imm(c, d, 2); }

/* BLENDVPS/BLENDVPD/PBLENDVB: the mask is the sign bit of each XMM0 element. */
static void blend_var(cpu_t *c, const dinsn_t *d, int esize)
{
    sse_check(c, &d->i);
    xmm_t s;
    sse_read_w(c, &d->i, &s, true);
    const xmm_t *m = xmm_reg(c, 0);
    unsigned mask = 0;
    for (int i = 0; i < 16 / esize; i++)
        mask |= (unsigned)(m->b[i * esize + esize - 1] >> 7) << i;
    blend(xmm_reg(c, d->i.reg), &s, esize, mask);
}
void op_blendvps(cpu_t *c, const dinsn_t *d) { blend_var(c, d, 4); }
void op_blendvpd(cpu_t *c, const dinsn_t *d) { blend_var(c, d, 8); }
void op_pblendvb(cpu_t *c, const dinsn_t *d) { blend_var(c, d, 1); }

/* ---- element insert / extract ---- */

/* INSERTPS: source dword imm[7:6] (register) or m32, to dword imm[5:4], then
 * zero the dwords named in imm[3:0]. */
void op_insertps(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    unsigned imm = (unsigned)d->i.imm;
    uint32_t v = d->i.mod == 3 ? xmm_reg(c, d->i.rm)->d[(imm >> 6) & 3]
                               : lin_read32(c, insn_lin(c, &d->i, 4, ACC_READ));
    xmm_t *x = xmm_reg(c, d->i.reg);
    x->d[(imm >> 4) & 3] = v;
    for (int i = 0; i < 4; i++)
        if ((imm >> i) & 1)
            x->d[i] = 0;
}

/* PEXTRB/PEXTRW (0F 3A 15)/PEXTRD/PEXTRQ/EXTRACTPS: an element to r/m; a
 * register destination is zero-extended (to 64 bits, as a 32-bit write). */
static void pextr(cpu_t *c, const dinsn_t *d, int esize)
{
    sse_check(c, &d->i);
    const xmm_t *x = xmm_reg(c, d->i.reg);
    unsigned idx = (unsigned)d->i.imm & (16 / esize - 1);
    uint64_t v = 0;
    memcpy(&v, x->b + idx * esize, (size_t)esize);
    if (d->i.mod == 3)
        c->gpr[d->i.rm] = v;
    else
        lin_write(c, insn_lin(c, &d->i, esize, ACC_WRITE), esize, v);
}
void op_pextrb(cpu_t *c, const dinsn_t *d) { pextr(c, d, 1); }
void op_pextrw_ew(cpu_t *c, const dinsn_t *d) { pextr(c, d, 2); }
void op_pextrd(cpu_t *c, const dinsn_t *d) { pextr(c, d, gpr_size(&d->i)); }
void op_extractps(cpu_t *c, const dinsn_t *d) { pextr(c, d, 4); }

/* PEXTRW r32, mm/xmm, imm8 (0F C5): register source only. */
void op_pextrw_nq(cpu_t *c, const dinsn_t *d)
{
    mmx_check(c, &d->i);
    uint64_t v = mm_get(c, d->i.rm);
    c->gpr[d->i.reg] = (uint16_t)(v >> (16 * (d->i.imm & 3)));
    mmx_commit(c);
}
void op_pextrw_ux(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    c->gpr[d->i.reg] = xmm_reg(c, d->i.rm)->w[d->i.imm & 7];
}

/* PINSRB/PINSRW/PINSRD/PINSRQ: from a general register's low bits or memory. */
static uint64_t pinsr_src(cpu_t *c, const x86_insn *i, int esize)
{
    if (i->mod == 3)
        return c->gpr[i->rm];
    return lin_read(c, insn_lin(c, i, esize, ACC_READ), esize);
}
static void pinsr(cpu_t *c, const dinsn_t *d, int esize)
{
    sse_check(c, &d->i);
    uint64_t v = pinsr_src(c, &d->i, esize);
    unsigned idx = (unsigned)d->i.imm & (16 / esize - 1);
    memcpy(xmm_reg(c, d->i.reg)->b + idx * esize, &v, (size_t)esize);
}
void op_pinsrb(cpu_t *c, const dinsn_t *d) { pinsr(c, d, 1); }
void op_pinsrw_vdq(cpu_t *c, const dinsn_t *d) { pinsr(c, d, 2); }
void op_pinsrd(cpu_t *c, const dinsn_t *d) { pinsr(c, d, gpr_size(&d->i)); }
void op_pinsrw_pq(cpu_t *c, const dinsn_t *d)
{
    mmx_check(c, &d->i);
    uint64_t v = pinsr_src(c, &d->i, 2) & 0xffff;
    unsigned sh = 16 * ((unsigned)d->i.imm & 3);
    uint64_t m = mm_get(c, d->i.reg);
    mmx_commit(c);
    mm_set(c, d->i.reg, (m & ~(0xffffull << sh)) | (v << sh));
}

/* ---- PMOVZX / PMOVSX (SSE4.1): widen the low elements of the source ---- */
#define PMOVX(name, from, to, srcbytes)                                          \
    void name(cpu_t *c, const dinsn_t *d)                                        \
    {                                                                            \
        sse_check(c, &d->i);                                                     \
        xmm_t s, r;                                                              \
        sse_read_w_low(c, &d->i, &s, srcbytes);                                  \
        for (int i = 0; i < 16 / (int)sizeof r.to[0]; i++)                       \
            r.to[i] = s.from[i];                                                 \
        *xmm_reg(c, d->i.reg) = r;                                               \
    }
PMOVX(op_pmovzxbw, b, w, 8)
PMOVX(op_pmovzxbd, b, d, 4)
PMOVX(op_pmovzxbq, b, q, 2)
PMOVX(op_pmovzxwd, w, d, 8)
PMOVX(op_pmovzxwq, w, q, 4)
PMOVX(op_pmovzxdq, d, q, 8)
PMOVX(op_pmovsxbw, sb, sw, 8)
PMOVX(op_pmovsxbd, sb, sd, 4)
PMOVX(op_pmovsxbq, sb, sq, 2)
PMOVX(op_pmovsxwd, sw, sd, 8)
PMOVX(op_pmovsxwq, sw, sq, 4)
PMOVX(op_pmovsxdq, sd, sq, 8)
#undef PMOVX

/* EMMS: every x87 tag empty (the MMX checks apply: #UD, #NM, #MF). */
void op_emms(cpu_t *c, const dinsn_t *d)
{
    mmx_check(c, &d->i);
    c->fpu.ftw = 0;
}
