/* exec_branch.c - near control transfers: JMP, Jcc, CALL, RET, LOOPcc, JrCXZ.
 *
 * Targets are checked before anything is committed, so a bad target faults on
 * the branch itself with RIP, RSP and rCX unchanged (SDM Vol. 2 "JMP", "CALL",
 * "RET", "Jcc", "LOOP/LOOPcc": #GP(0) when the target is outside the CS limit
 * or, in 64-bit mode, non-canonical). Outside 64-bit mode the target is first
 * truncated to the operand size (a 16-bit operand size wraps EIP to 16 bits).
 * In 64-bit mode Intel processors ignore 66H on near branches and use a 64-bit
 * operand size (SDM Vol. 2 Appendix A, superscript "f64"), whatever the row's
 * decoded osize says.
 */
#include "emu/exec.h"
#include "emu/flags.h"
#include "emu/seg.h"

/* The branch target, or #GP(0): in 64-bit mode it must be canonical; otherwise
 * it is truncated to the operand size and must lie within the CS limit. */
static inline uint64_t branch_target(cpu_t *c, const dinsn_t *d, uint64_t t)
{
    if (likely(c->mode == MODE_LONG64)) {
        if (unlikely(!seg_canonical(c, t)))
            cpu_fault_err(c, EXC_GP, 0);
        return t;
    }
    t &= d->i.osize == 2 ? 0xffffull : 0xffffffffull;
    if (unlikely(t > c->seg[S_CS].limit))
        cpu_fault_err(c, EXC_GP, 0);
    return t;
}

/* Operand size of a near return or indirect branch: 8 in 64-bit mode. */
static inline int near_osize(const cpu_t *c, const dinsn_t *d)
{
    return c->mode == MODE_LONG64 ? 8 : d->i.osize;
}

/* EB, E9: relative jump; the decoder sign-extended the displacement. */
void op_jmp_rel(cpu_t *c, const dinsn_t *d)
{
    c->rip = branch_target(c, d, c->rip + d->i.imm);
}

/* FF /4: absolute indirect jump. */
void op_jmp_ev(cpu_t *c, const dinsn_t *d)
{
    c->rip = branch_target(c, d, rm_read(c, &d->i, near_osize(c, d)));
}

/* E8: the target is checked before the return address is pushed. */
void op_call_rel(cpu_t *c, const dinsn_t *d)
{
    uint64_t t = branch_target(c, d, c->rip + d->i.imm);
    push(c, near_osize(c, d), c->rip);
    c->rip = t;
}

/* FF /2: the operand is read (rSP-based addressing sees the old rSP) before the push. */
void op_call_ev(cpu_t *c, const dinsn_t *d)
{
    int os = near_osize(c, d);
    uint64_t t = branch_target(c, d, rm_read(c, &d->i, os));
    push(c, os, c->rip);
    c->rip = t;
}

/* C3 / C2 iw: pop the target, check it, then release the slot and imm16 bytes
 * (rSP arithmetic wraps to the stack size). */
static inline void ret_near(cpu_t *c, const dinsn_t *d, uint64_t extra)
{
    if (likely(c->mode == MODE_LONG64)) {
        /* 64-bit stack and operand size: the TLB fast path inlined */
        uint64_t sp = c->gpr[R_RSP];
        c->rip = branch_target(c, d, lin_read64(c, seg_lin(c, S_SS, sp, 8, ACC_READ)));
        c->gpr[R_RSP] = sp + 8 + extra;
        return;
    }
    int os = d->i.osize, ss = stack_size(c);
    uint64_t mask = size_mask(ss);
    uint64_t sp = c->gpr[R_RSP] & mask;
    uint64_t t = lin_read(c, seg_lin(c, S_SS, sp, os, ACC_READ), os);
    c->rip = branch_target(c, d, t);
    sp = (sp + os + extra) & mask;
    if (ss == 2)
        c->gpr[R_RSP] = (c->gpr[R_RSP] & ~0xffffull) | sp;
    else
        c->gpr[R_RSP] = sp;
}
void op_ret(cpu_t *c, const dinsn_t *d) { ret_near(c, d, 0); }
void op_ret_iw(cpu_t *c, const dinsn_t *d) { ret_near(c, d, d->i.imm & 0xffff); }

/* A taken conditional branch: decoded blocks go on past conditional branches,
 * so the run loop must leave the block here (STOP_BRANCH). */
static inline void take_branch(cpu_t *c, const dinsn_t *d)
{
    c->rip = branch_target(c, d, c->rip + d->i.imm);
    c->stop |= STOP_BRANCH;
}

/* Jcc: one handler per condition so cpu_cond() folds to a few shifts.
 * The rows of 70+cc (Jb) and 0F 80+cc (Jz) share them. */
#define JCC(cc, name)                                                      \
    void op_j##name(cpu_t *c, const dinsn_t *d)                            \
    {                                                                      \
        if (cpu_cond(c, cc))                                               \
            take_branch(c, d);                                             \
    }
JCC(0x0, o)
JCC(0x1, no)
JCC(0x2, b)
JCC(0x3, ae)
JCC(0x4, e)
JCC(0x5, ne)
JCC(0x6, be)
JCC(0x7, a)
JCC(0x8, s)
JCC(0x9, ns)
JCC(0xa, p)
JCC(0xb, np)
JCC(0xc, l)
JCC(0xd, ge)
JCC(0xe, le)
JCC(0xf, g)
#undef JCC

/* ---- LOOP / LOOPE / LOOPNE / JrCXZ: the count register is CX, ECX or RCX by
 * address size; LOOPcc decrements it without touching the flags. ---- */

/* Store a count of the instruction's address size (16 bits merge, 32 zero-extend). */
static inline void count_set(cpu_t *c, int asize, uint64_t v)
{
    if (asize == 2)
        c->gpr[R_RCX] = (c->gpr[R_RCX] & ~0xffffull) | (v & 0xffff);
    else
        c->gpr[R_RCX] = v & size_mask(asize);
}

/* cond: 0 LOOP, 1 LOOPE (ZF=1), 2 LOOPNE (ZF=0). */
static inline void loop_common(cpu_t *c, const dinsn_t *d, int cond)
{
    int as = d->i.asize;
    uint64_t n = (c->gpr[R_RCX] - 1) & size_mask(as);
    bool take = n != 0 && (cond == 0 || (cond == 1 ? flag_zf(c) : !flag_zf(c)));
    if (take)
        take_branch(c, d);
    count_set(c, as, n);
}
void op_loop(cpu_t *c, const dinsn_t *d) { loop_common(c, d, 0); }
void op_loope(cpu_t *c, const dinsn_t *d) { loop_common(c, d, 1); }
void op_loopne(cpu_t *c, const dinsn_t *d) { loop_common(c, d, 2); }

void op_jrcxz(cpu_t *c, const dinsn_t *d)
{
    if ((c->gpr[R_RCX] & size_mask(d->i.asize)) == 0)
        take_branch(c, d);
}
