/* stack.c - the stack: push()/pop() of exec.h and the instructions whose job is
 * the stack (PUSH, POP, PUSHA, POPA, PUSHF, POPF, ENTER, LEAVE).
 *
 * Every access is SS-relative at the stack pointer wrapped to stack_size()
 * (SDM Vol. 1 "Stack" / Vol. 3A "Stack-Address-Size Attribute"); segment and
 * canonical checks (#SS) come from seg_lin. Instructions that touch several
 * slots work on a private copy of the stack pointer and commit it last, so a
 * fault part-way leaves RSP as it was and the instruction restarts cleanly.
 */
#include "emu/exec.h"
#include "emu/flags.h"

/* Read/write size bytes at stack offset sp (already wrapped). */
static inline uint64_t stack_read(cpu_t *c, uint64_t sp, int size)
{
    return lin_read(c, seg_lin(c, S_SS, sp, size, ACC_READ), size);
}
static inline void stack_write(cpu_t *c, uint64_t sp, int size, uint64_t v)
{
    lin_write(c, seg_lin(c, S_SS, sp, size, ACC_WRITE), size, v);
}

/* Store a new stack pointer: SP alone with a 16-bit stack, else ESP/RSP. */
static inline void sp_set(cpu_t *c, int ssize, uint64_t sp)
{
    if (ssize == 2)
        c->gpr[R_RSP] = (c->gpr[R_RSP] & ~0xffffull) | (sp & 0xffff);
    else
        c->gpr[R_RSP] = sp & size_mask(ssize);
}

void push(cpu_t *c, int size, uint64_t v)
{
    if (likely(c->mode == MODE_LONG64 && size == 8)) {
        /* the common case, with the TLB fast path inlined */
        uint64_t sp = c->gpr[R_RSP] - 8;
        lin_write64(c, seg_lin(c, S_SS, sp, 8, ACC_WRITE), v);
        c->gpr[R_RSP] = sp;
        return;
    }
    int ss = stack_size(c);
    uint64_t sp = (c->gpr[R_RSP] - size) & size_mask(ss);
    stack_write(c, sp, size, v);
    sp_set(c, ss, sp);
}

uint64_t pop(cpu_t *c, int size)
{
    if (likely(c->mode == MODE_LONG64 && size == 8)) {
        uint64_t sp = c->gpr[R_RSP];
        uint64_t v = lin_read64(c, seg_lin(c, S_SS, sp, 8, ACC_READ));
        c->gpr[R_RSP] = sp + 8;
        return v;
    }
    int ss = stack_size(c);
    uint64_t sp = c->gpr[R_RSP] & size_mask(ss);
    uint64_t v = stack_read(c, sp, size);
    sp_set(c, ss, sp + size);
    return v;
}

/* ---- PUSH / POP ---- */

/* 50+r. PUSH rSP pushes the value it had before the instruction. */
void op_push_r(cpu_t *c, const dinsn_t *d)
{
    push(c, d->i.osize, c->gpr[d->i.reg]);
}

/* 58+r. POP rSP: the stack pointer is incremented first, then the popped value
 * overwrites it (SDM POP: "POP ESP"). */
void op_pop_r(cpu_t *c, const dinsn_t *d)
{
    uint64_t v = pop(c, d->i.osize);
    reg_set(c, &d->i, d->i.reg, d->i.osize, v);
}

/* 68 / 6A: the decoder already sign-extended the immediate; the write truncates
 * it to the operand size. */
void op_push_imm(cpu_t *c, const dinsn_t *d)
{
    push(c, d->i.osize, d->i.imm);
}

/* FF /6. The operand (possibly rSP-based) is read before rSP moves. */
void op_push_ev(cpu_t *c, const dinsn_t *d)
{
    push(c, d->i.osize, rm_read(c, &d->i, d->i.osize));
}

/* 8F /0. With an rSP-based memory destination the address is computed after the
 * increment (SDM POP: "If the ESP register is used as a base register..."), but
 * rSP is committed only once the store has succeeded. */
void op_pop_ev(cpu_t *c, const dinsn_t *d)
{
    int os = d->i.osize, ss = stack_size(c);
    uint64_t old = c->gpr[R_RSP];
    uint64_t v = stack_read(c, old & size_mask(ss), os);
    sp_set(c, ss, old + os);
    if (d->i.mod == 3) {
        reg_set(c, &d->i, d->i.rm, os, v);
        return;
    }
    uint64_t ea = insn_ea(c, &d->i);
    uint64_t newsp = c->gpr[R_RSP];
    c->gpr[R_RSP] = old;
    lin_write(c, seg_lin(c, d->i.seg, ea, os, ACC_WRITE), os, v);
    c->gpr[R_RSP] = newsp;
}

/* PUSH ES/CS/SS/DS (06 0E 16 1E: Sreg in opcode bits 5:3) and PUSH FS/GS
 * (0F A0 / 0F A8). With a 32- or 64-bit operand size recent Intel processors
 * move only the 16-bit selector into the slot and leave its upper bytes
 * unmodified (SDM PUSH, "Description"); the slot still has the operand size. */
void op_push_sreg(cpu_t *c, const dinsn_t *d)
{
    int s = d->i.map == X86_MAP_1B ? d->i.opcode >> 3 : S_FS + ((d->i.opcode >> 3) & 1);
    int os = d->i.osize, ss = stack_size(c);
    uint64_t sp = (c->gpr[R_RSP] - os) & size_mask(ss);
    lin_write16(c, seg_lin(c, S_SS, sp, os, ACC_WRITE), c->seg[s].sel);
    sp_set(c, ss, sp);
}

/* 60: push AX CX DX BX, the original SP, BP SI DI. */
void op_pusha(cpu_t *c, const dinsn_t *d)
{
    int os = d->i.osize, ss = stack_size(c);
    uint64_t mask = size_mask(ss), sp = c->gpr[R_RSP];
    for (int r = R_RAX; r <= R_RDI; r++) {
        sp = (sp - os) & mask;
        stack_write(c, sp, os, c->gpr[r]);
    }
    sp_set(c, ss, sp);
}

/* 61: pop DI SI BP, skip the SP slot, pop BX DX CX AX. All slots are read
 * before any register changes. */
void op_popa(cpu_t *c, const dinsn_t *d)
{
    int os = d->i.osize, ss = stack_size(c);
    uint64_t mask = size_mask(ss), sp = c->gpr[R_RSP];
    uint64_t v[8];
    for (int r = R_RDI; r >= R_RAX; r--) {
        v[r] = stack_read(c, sp & mask, os);
        sp += os;
    }
    for (int r = R_RAX; r <= R_RDI; r++)
        if (r != R_RSP)
            reg_set(c, &d->i, r, os, v[r]);
    sp_set(c, ss, sp);
}

/* ---- ENTER / LEAVE ---- */

/* C8 iw ib (SDM ENTER, "Operation"): push rBP, copy level-1 frame pointers from
 * the old frame, push the new frame pointer, then allocate. Frame pointers and
 * the rBP update have the operand size; rBP/rSP arithmetic wraps to the stack
 * size. */
void op_enter(cpu_t *c, const dinsn_t *d)
{
    int os = d->i.osize, ss = stack_size(c);
    uint64_t mask = size_mask(ss);
    unsigned level = d->i.imm2 & 31;
    uint64_t alloc = d->i.imm & 0xffff;
    uint64_t sp = (c->gpr[R_RSP] - os) & mask;
    uint64_t bp = c->gpr[R_RBP];
    stack_write(c, sp, os, bp);
    uint64_t frame = sp;
    if (level > 0) {
        for (unsigned n = 1; n < level; n++) {
            bp = (bp - os) & mask;
            uint64_t v = stack_read(c, bp, os);
            sp = (sp - os) & mask;
            stack_write(c, sp, os, v);
        }
        sp = (sp - os) & mask;
        stack_write(c, sp, os, frame);
    }
    sp = (sp - alloc) & mask;
    /* #SS if the final stack pointer is outside the stack segment, #PF if a
     * write there would fault (SDM ENTER, "Protected Mode Exceptions"): checked
     * without writing. */
    lin_probe_write(c, seg_lin(c, S_SS, sp, os, ACC_WRITE), os);
    reg_set(c, &d->i, R_RBP, os, frame);
    sp_set(c, ss, sp);
}

/* C9: rSP <- rBP (stack size), then pop rBP (operand size). */
void op_leave(cpu_t *c, const dinsn_t *d)
{
    int os = d->i.osize, ss = stack_size(c);
    uint64_t sp = c->gpr[R_RBP] & size_mask(ss);
    uint64_t v = stack_read(c, sp, os);
    sp_set(c, ss, sp + os);
    reg_set(c, &d->i, R_RBP, os, v);
}

/* ---- PUSHF / POPF (SDM Vol. 2 "PUSHF/PUSHFD/PUSHFQ", "POPF/POPFD/POPFQ") ---- */

/* 9C: the image has VM and RF clear. In virtual-8086 mode with IOPL < 3 only
 * the 16-bit form with CR4.VME works, and it shows VIF as IF and IOPL as 3. */
void op_pushf(cpu_t *c, const dinsn_t *d)
{
    uint64_t f = cpu_get_rflags(c);
    if ((f & F_VM) && (f & F_IOPL) != F_IOPL) {
        if (d->i.osize != 2 || !(c->cr4 & CR4_VME))
            cpu_fault_err(c, EXC_GP, 0);
        f = (f & ~(uint64_t)F_IF) | ((f & F_VIF) ? F_IF : 0) | F_IOPL;
    }
    push(c, d->i.osize, f & ~(uint64_t)(F_VM | F_RF));
}

/* 9D: which bits the popped image may change depends on the mode, CPL and IOPL;
 * the others (and VIP, VIF, VM and the reserved bits) keep their values. RF is
 * always 0 afterwards. Without privilege IF and IOPL are silently kept. */
void op_popf(cpu_t *c, const dinsn_t *d)
{
    int os = d->i.osize, ss = stack_size(c);
    uint64_t old = cpu_get_rflags(c);
    unsigned iopl = (unsigned)(old & F_IOPL) >> 12;
    uint64_t mask = F_ARITH | F_TF | F_DF | F_NT | F_AC | F_ID;
    bool vme = false;

    if (old & F_VM) {
        if (iopl == 3)
            mask |= F_IF;
        else if (os == 2 && (c->cr4 & CR4_VME))
            vme = true; /* IF goes to VIF, after the checks below */
        else
            cpu_fault_err(c, EXC_GP, 0);
    } else {
        bool priv0 = c->cpl == 0 || !(c->cr0 & CR0_PE);
        if (priv0)
            mask |= F_IOPL;
        if (priv0 || c->cpl <= iopl)
            mask |= F_IF;
    }
    if (os == 2)
        mask &= 0xffff;

    uint64_t sp = c->gpr[R_RSP] & size_mask(ss);
    uint64_t v = stack_read(c, sp, os);
    uint64_t nf = (old & ~mask) | (v & mask);
    if (vme) {
        /* Setting IF with an interrupt pending (VIP) or setting TF traps to the monitor. */
        if (((v & F_IF) && (old & F_VIP)) || (v & F_TF))
            cpu_fault_err(c, EXC_GP, 0);
        nf = (nf & ~(uint64_t)F_VIF) | ((v & F_IF) ? F_VIF : 0);
    }
    /* POPF ends its decoded block, so a newly set IF is seen by the run loop's
     * interrupt check before the next instruction; POPF has no STI-like shadow. */
    cpu_set_rflags(c, nf & ~(uint64_t)F_RF);
    sp_set(c, ss, sp + os);
}
