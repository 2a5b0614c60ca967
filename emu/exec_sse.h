/* exec_sse.h - operand plumbing shared by the MMX/SSE handler files
 * (emu/exec_sse_*.c): the generic "kernel" calling conventions so that one
 * lane function serves both the MMX (8-byte) and the XMM (16-byte) form.
 */
#ifndef VMXEMU_EXEC_SSE_H
#define VMXEMU_EXEC_SSE_H

#include "emu/fpu.h"

/* A lane kernel: d = op(d, s) over the first n bytes (8 for MMX, 16 for XMM);
 * imm is the instruction's Ib where it has one. Kernels may assume d != s. */
typedef void (*sse_kern)(xmm_t *d, const xmm_t *s, int n, unsigned imm);

/* The runners are forced inline so each handler gets its kernel inlined with a
 * constant n (and vectorised), instead of an indirect call per instruction. */
#define SSE_INLINE static inline __attribute__((always_inline))

/* MMX form: Pq = op(Pq, Qq). */
SSE_INLINE void mmx_run(cpu_t *c, const dinsn_t *d, sse_kern k)
{
    mmx_check(c, &d->i);
    xmm_t a = { .q = { mm_get(c, d->i.reg), 0 } };
    xmm_t b = { .q = { mmx_read_q(c, &d->i), 0 } };
    k(&a, &b, 8, (unsigned)d->i.imm);
    mmx_commit(c);
    mm_set(c, d->i.reg, a.q[0]);
}

/* XMM form: Vx = op(Vx, Wx), memory operand 16-byte aligned (legacy SSE). */
SSE_INLINE void xmm_run(cpu_t *c, const dinsn_t *d, sse_kern k)
{
    sse_check(c, &d->i);
    xmm_t b;
    sse_read_w(c, &d->i, &b, true);
    k(xmm_reg(c, d->i.reg), &b, 16, (unsigned)d->i.imm);
}

/* Handlers for an MMX/SSE pair sharing a kernel. */
#define SSE_PAIR(name, kern)                                                   \
    void op_##name##_pq(cpu_t *c, const dinsn_t *d) { mmx_run(c, d, kern); }   \
    void op_##name##_vx(cpu_t *c, const dinsn_t *d) { xmm_run(c, d, kern); }
#define SSE_ONLY(name, kern)                                                   \
    void op_##name##_vx(cpu_t *c, const dinsn_t *d) { xmm_run(c, d, kern); }

#endif
