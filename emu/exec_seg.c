/* exec_seg.c - segment-register instructions and far control transfers:
 * MOV/POP Sreg, LDS/LES/LFS/LGS/LSS, far JMP/CALL (code segments, call gates,
 * task gates, TSSs), far RET, IRET, INT n/INT3/INTO/INT1, ARPL and
 * LAR/LSL/VERR/VERW (SDM Vol. 2 for each instruction, Vol. 3A ch. 5
 * "Protection" for the privilege rules).
 *
 * Far transfers read everything and check it before changing any register,
 * so that a fault leaves the state at the instruction's start.
 */
#include "emu/exec.h"
#include "emu/flags.h"
#include "emu/seg.h"

#define DESC_L (1ull << 53)
#define DESC_D (1ull << 54)

static inline bool pmode(const cpu_t *c) { return c->mode != MODE_REAL && c->mode != MODE_V86; }
static inline bool lma(const cpu_t *c) { return (c->efer & EFER_LMA) != 0; }
static inline bool is_conforming(uint64_t d)
{
    return (desc_type(d) & (SEG_CODE | SEG_CONF)) == (SEG_CODE | SEG_CONF);
}
/* The target is 64-bit code (IA-32e mode, L = 1). */
static inline bool is64code(const cpu_t *c, uint64_t d) { return lma(c) && (d & DESC_L); }

/* ---- MOV / POP Sreg, LxS ---- */

void op_mov_sw_ew(cpu_t *c, const dinsn_t *d)
{
    int s = d->i.reg & 7;
    if (s == S_CS || s > S_GS)
        cpu_fault(c, EXC_UD);
    seg_load(c, s, (uint16_t)rm_read(c, &d->i, 2));
    if (s == S_SS)
        c->intr_shadow = 2; /* blocks interrupts and #DB until the next instruction completes */
}

void op_mov_ev_sw(cpu_t *c, const dinsn_t *d)
{
    int s = d->i.reg & 7;
    if (s > S_GS)
        cpu_fault(c, EXC_UD);
    /* A register destination is zero-extended to the operand size; memory gets 16 bits. */
    rm_write(c, &d->i, d->i.mod == 3 ? d->i.osize : 2, c->seg[s].sel);
}

/* POP ES/SS/DS (07/17/1F) and POP FS/GS (0F A1/A9): the register is opcode bits 5:3. */
void op_pop_sreg(cpu_t *c, const dinsn_t *d)
{
    int s = (d->i.opcode >> 3) & 7;
    seg_stack_t st = seg_stack_cur(c);
    uint16_t sel = (uint16_t)seg_stack_read(c, &st, 0, d->i.osize);
    seg_load(c, s, sel);
    seg_set_sp(c, st.sp + (uint64_t)d->i.osize, st.mask);
    if (s == S_SS)
        c->intr_shadow = 2;
}

/* The offset:selector of an Mp operand (offset of osize bytes, then the selector). */
static uint64_t far_mem_operand(cpu_t *c, const dinsn_t *d, uint16_t *sel)
{
    const x86_insn *i = &d->i;
    uint64_t ea = insn_ea(c, i);
    uint64_t off = lin_read(c, seg_lin(c, i->seg, ea, i->osize, ACC_READ), i->osize);
    *sel = lin_read16(c, seg_lin(c, i->seg, (ea + i->osize) & size_mask(i->asize), 2, ACC_READ));
    return off;
}

static void load_far_pointer(cpu_t *c, const dinsn_t *d, int s)
{
    if (d->i.mod == 3)
        cpu_fault(c, EXC_UD);
    uint16_t sel;
    uint64_t off = far_mem_operand(c, d, &sel);
    seg_load(c, s, sel);
    reg_set(c, &d->i, d->i.reg, d->i.osize, off);
}

void op_les(cpu_t *c, const dinsn_t *d) { load_far_pointer(c, d, S_ES); }
void op_lds(cpu_t *c, const dinsn_t *d) { load_far_pointer(c, d, S_DS); }
void op_lss(cpu_t *c, const dinsn_t *d) { load_far_pointer(c, d, S_SS); }
void op_lfs(cpu_t *c, const dinsn_t *d) { load_far_pointer(c, d, S_FS); }
void op_lgs(cpu_t *c, const dinsn_t *d) { load_far_pointer(c, d, S_GS); }

/* ---- far JMP / CALL ---- */

/* The descriptor a far transfer names: a null selector is #GP(0), one beyond
 * its descriptor table #GP(selector). */
static uint64_t far_desc_read(cpu_t *c, uint16_t sel)
{
    uint64_t d;
    if (!(sel & ~3u))
        cpu_fault_err(c, EXC_GP, 0);
    if (!seg_desc_read(c, sel, &d))
        cpu_fault_err(c, EXC_GP, sel & 0xfffcu);
    return d;
}

/* A new RIP must be canonical for 64-bit code, else within the CS limit. */
static void check_target_ip(cpu_t *c, uint64_t d, uint64_t ip)
{
    if (is64code(c, d) ? !seg_canonical(c, ip) : ip > desc_limit(d))
        cpu_fault_err(c, EXC_GP, 0);
}

/* JMP/CALL straight to a segment: it must be code; conforming needs DPL <= CPL,
 * otherwise RPL <= CPL and DPL = CPL. */
static void check_code_direct(cpu_t *c, uint16_t sel, uint64_t d)
{
    uint32_t err = sel & 0xfffcu;
    int dpl = desc_dpl(d);
    if (!(desc_type(d) & SEG_CODE))
        cpu_fault_err(c, EXC_GP, err);
    if (is_conforming(d) ? dpl > c->cpl : ((sel & 3) > c->cpl || dpl != c->cpl))
        cpu_fault_err(c, EXC_GP, err);
    if (lma(c) && (d & DESC_L) && (d & DESC_D))
        cpu_fault_err(c, EXC_GP, err);
    if (!(d & DESC_P))
        cpu_fault_err(c, EXC_NP, err);
}

/* A call gate (SDM Vol. 3A 5.8.3 "Call Gates", 5.8.4 "Accessing a Code
 * Segment Through a Call Gate"): privilege of the gate, then the target code
 * segment. Returns the target's descriptor with its selector, offset and the
 * gate's push size. */
static uint64_t call_gate_target(cpu_t *c, uint16_t gsel, uint64_t g, uint16_t *csel, uint64_t *off,
                                 int *gsize)
{
    uint32_t gerr = gsel & 0xfffcu;
    if (desc_dpl(g) < c->cpl || desc_dpl(g) < (gsel & 3))
        cpu_fault_err(c, EXC_GP, gerr);
    if (!(g & DESC_P))
        cpu_fault_err(c, EXC_NP, gerr);
    if (lma(c)) {
        /* 16-byte gate: the upper half's type field must be 0. */
        uint64_t hi;
        if (!seg_desc_read_hi(c, gsel, &hi) || ((hi >> 40) & 0x1f) != 0)
            cpu_fault_err(c, EXC_GP, gerr);
        *off = gate_off(g) | hi << 32;
        *gsize = 8;
    } else {
        *gsize = (desc_type(g) & 8) ? 4 : 2;
        *off = *gsize == 4 ? gate_off(g) : (g & 0xffff);
    }
    *csel = gate_sel(g);
    uint32_t cerr = *csel & 0xfffcu;
    uint64_t d = far_desc_read(c, *csel);
    if (!(d & DESC_S) || !(desc_type(d) & SEG_CODE) || desc_dpl(d) > c->cpl)
        cpu_fault_err(c, EXC_GP, cerr);
    if (lma(c) && (!(d & DESC_L) || (d & DESC_D)))
        cpu_fault_err(c, EXC_GP, cerr);
    if (!(d & DESC_P))
        cpu_fault_err(c, EXC_NP, cerr);
    return d;
}

/* Task gate or TSS named by a far JMP/CALL: DPL >= CPL and >= RPL. */
static void far_task(cpu_t *c, uint16_t sel, uint64_t d, enum task_reason why)
{
    uint32_t err = sel & 0xfffcu;
    if (lma(c) || desc_dpl(d) < c->cpl || desc_dpl(d) < (sel & 3))
        cpu_fault_err(c, EXC_GP, err);
    if (desc_type(d) == SYS_TASK) {
        if (!(d & DESC_P))
            cpu_fault_err(c, EXC_NP, err);
        task_switch(c, gate_sel(d), why, 0);
    } else {
        task_switch(c, sel, why, 0);
    }
}

static bool is_call_gate(const cpu_t *c, int t) { return t == SYS_CALL32 || (t == SYS_CALL16 && !lma(c)); }
static bool is_task_target(int t) { return t == SYS_TASK || t == SYS_TSS16 || t == SYS_TSS32; }

static void far_real(cpu_t *c, uint16_t sel, uint64_t off)
{
    if (off > c->seg[S_CS].limit)
        cpu_fault_err(c, EXC_GP, 0);
    seg_load_real(c, S_CS, sel);
    c->rip = off;
    c->stop |= STOP_MODE;
}

/* JMP to code at the current privilege level (code selector csel, descriptor cd). */
static void jmp_same_level(cpu_t *c, uint16_t csel, uint64_t cd, uint64_t off)
{
    check_target_ip(c, cd, off);
    seg_desc_set_accessed(c, csel, &cd);
    seg_set_cs(c, csel, cd, c->cpl);
    c->rip = off;
}

static void far_jmp(cpu_t *c, uint16_t sel, uint64_t off)
{
    if (!pmode(c)) {
        far_real(c, sel, off);
        return;
    }
    uint64_t d = far_desc_read(c, sel);
    int t = desc_type(d);
    if (d & DESC_S) {
        check_code_direct(c, sel, d);
        jmp_same_level(c, sel, d, off);
    } else if (is_call_gate(c, t)) {
        uint16_t csel;
        uint64_t goff;
        int gsize;
        uint64_t cd = call_gate_target(c, sel, d, &csel, &goff, &gsize);
        if (!is_conforming(cd) && desc_dpl(cd) != c->cpl)
            cpu_fault_err(c, EXC_GP, csel & 0xfffcu);
        jmp_same_level(c, csel, cd, goff);
    } else if (is_task_target(t)) {
        far_task(c, sel, d, TS_JMP);
    } else {
        cpu_fault_err(c, EXC_GP, sel & 0xfffcu);
    }
}

/* CALL through a call gate to a more privileged non-conforming segment: the
 * stack switch with parameter copy (SDM Vol. 3A 5.8.5 "Stack Switching"). */
static void call_gate_inner(cpu_t *c, uint64_t g, uint16_t csel, uint64_t cd, uint64_t goff, int gsize)
{
    int dpl = desc_dpl(cd);
    seg_stack_t old = seg_stack_cur(c);
    seg_stack_t ns = { .sys = true };
    uint64_t ssd = 0;
    uint16_t nss;
    if (lma(c)) {
        /* 64-bit TSS: RSPn at 4 + 8n; SS becomes null with RPL = new CPL. */
        const seg_t *tr = &c->seg[S_TR];
        unsigned toff = 4 + 8 * (unsigned)dpl;
        if (toff + 7 > tr->limit)
            cpu_fault_err(c, EXC_TS, tr->sel & 0xfffcu);
        ns.sp = lin_read_sys(c, tr->base + toff, 8);
        if (!seg_canonical(c, ns.sp))
            cpu_fault_err(c, EXC_SS, 0);
        nss = (uint16_t)dpl;
        seg_cache_null(&ns.ss, nss);
        ns.mask = ~0ull;
        ns.is64 = true;
    } else {
        uint64_t sp;
        seg_tss_stack(c, dpl, 0, &nss, &sp);
        seg_check_new_ss(c, nss, dpl, 0, &ssd);
        seg_cache_from_desc(&ns.ss, nss, ssd);
        ns.mask = seg_sp_mask(&ns.ss);
        ns.sp = sp & ns.mask;
        ns.err = nss & 0xfffcu;
    }
    check_target_ip(c, cd, goff);
    seg_stack_push(c, &ns, gsize, c->seg[S_SS].sel);
    seg_stack_push(c, &ns, gsize, c->gpr[R_RSP]);
    if (!lma(c)) {
        /* Copy the parameters, keeping their order: the deepest one first. */
        int count = (int)(g >> 32) & 0x1f;
        for (int k = count - 1; k >= 0; k--)
            seg_stack_push(c, &ns, gsize, seg_stack_read(c, &old, (uint64_t)k * (unsigned)gsize, gsize));
        seg_desc_set_accessed(c, nss, &ssd);
        ns.ss.ar = desc_ar(ssd);
    }
    seg_stack_push(c, &ns, gsize, c->seg[S_CS].sel);
    seg_stack_push(c, &ns, gsize, c->rip);
    seg_desc_set_accessed(c, csel, &cd);

    c->seg[S_SS] = ns.ss;
    seg_set_sp(c, ns.sp, ns.mask);
    seg_set_cs(c, csel, cd, dpl);
    c->rip = goff;
}

/* CALL to code at the current privilege level: CS and the return address
 * (size bytes each) go on the current stack st. */
static void call_same_level(cpu_t *c, seg_stack_t *st, int size, uint16_t csel, uint64_t cd, uint64_t off)
{
    check_target_ip(c, cd, off);
    seg_stack_push(c, st, size, c->seg[S_CS].sel);
    seg_stack_push(c, st, size, c->rip);
    seg_desc_set_accessed(c, csel, &cd);
    seg_set_sp(c, st->sp, st->mask);
    seg_set_cs(c, csel, cd, c->cpl);
    c->rip = off;
}

static void far_call(cpu_t *c, uint16_t sel, uint64_t off, int os)
{
    seg_stack_t st = seg_stack_cur(c);
    if (!pmode(c)) {
        if (off > c->seg[S_CS].limit)
            cpu_fault_err(c, EXC_GP, 0);
        seg_stack_push(c, &st, os, c->seg[S_CS].sel);
        seg_stack_push(c, &st, os, c->rip);
        seg_set_sp(c, st.sp, st.mask);
        far_real(c, sel, off);
        return;
    }
    uint64_t d = far_desc_read(c, sel);
    int t = desc_type(d);
    if (d & DESC_S) {
        check_code_direct(c, sel, d);
        call_same_level(c, &st, os, sel, d, off);
    } else if (is_call_gate(c, t)) {
        uint16_t csel;
        uint64_t goff;
        int gsize;
        uint64_t cd = call_gate_target(c, sel, d, &csel, &goff, &gsize);
        if (!is_conforming(cd) && desc_dpl(cd) < c->cpl) {
            call_gate_inner(c, d, csel, cd, goff, gsize);
            return;
        }
        call_same_level(c, &st, gsize, csel, cd, goff);
    } else if (is_task_target(t)) {
        far_task(c, sel, d, TS_CALL);
    } else {
        cpu_fault_err(c, EXC_GP, sel & 0xfffcu);
    }
}

void op_jmpf_ap(cpu_t *c, const dinsn_t *d) { far_jmp(c, d->i.sel, d->i.imm & size_mask(d->i.osize)); }
void op_callf_ap(cpu_t *c, const dinsn_t *d)
{
    far_call(c, d->i.sel, d->i.imm & size_mask(d->i.osize), d->i.osize);
}

void op_jmpf_mp(cpu_t *c, const dinsn_t *d)
{
    uint16_t sel;
    uint64_t off = far_mem_operand(c, d, &sel);
    far_jmp(c, sel, off);
}

void op_callf_mp(cpu_t *c, const dinsn_t *d)
{
    uint16_t sel;
    uint64_t off = far_mem_operand(c, d, &sel);
    far_call(c, sel, off, d->i.osize);
}

/* ---- far returns ---- */

/* The code segment a RET far or IRET returns to (SDM Vol. 2 "RET", "IRET"):
 * RPL >= CPL; conforming needs DPL <= RPL, non-conforming DPL = RPL. */
static uint64_t check_return_cs(cpu_t *c, uint16_t sel)
{
    uint32_t err = sel & 0xfffcu;
    int rpl = sel & 3;
    uint64_t d = far_desc_read(c, sel);
    if (!(d & DESC_S) || !(desc_type(d) & SEG_CODE) || rpl < c->cpl)
        cpu_fault_err(c, EXC_GP, err);
    if (is_conforming(d) ? desc_dpl(d) > rpl : desc_dpl(d) != rpl)
        cpu_fault_err(c, EXC_GP, err);
    if (!(d & DESC_P))
        cpu_fault_err(c, EXC_NP, err);
    if (lma(c) && (d & DESC_L) && (d & DESC_D))
        cpu_fault_err(c, EXC_GP, err);
    return d;
}

/* The SS of a return to an outer level (or of any 64-bit-mode IRET): RPL and
 * DPL equal the new CPL, writable data, present. A null SS is allowed only
 * for a return to 64-bit code below CPL 3. Returns its descriptor (0: null). */
static uint64_t check_return_ss(cpu_t *c, uint16_t ss, int rpl, bool t64)
{
    uint32_t err = ss & 0xfffcu;
    uint64_t d;
    if (!(ss & ~3u)) {
        if (!t64 || rpl == 3)
            cpu_fault_err(c, EXC_GP, 0);
        return 0;
    }
    if (!seg_desc_read(c, ss, &d))
        cpu_fault_err(c, EXC_GP, err);
    if ((ss & 3) != rpl || !(d & DESC_S) || (desc_type(d) & (SEG_CODE | SEG_WRITE)) != SEG_WRITE ||
        desc_dpl(d) != rpl)
        cpu_fault_err(c, EXC_GP, err);
    if (!(d & DESC_P))
        cpu_fault_err(c, EXC_SS, err);
    return d;
}

/* Commit a return that pops SS:RSP: SS (ssd = 0: null), CS at CPL = its RPL,
 * and the new stack pointer. */
static void return_with_ss(cpu_t *c, uint16_t sel, uint64_t d, uint16_t ss, uint64_t ssd, uint64_t sp, bool t64)
{
    if (ssd) {
        seg_desc_set_accessed(c, ss, &ssd);
        seg_cache_from_desc(&c->seg[S_SS], ss, ssd);
    } else {
        seg_cache_null(&c->seg[S_SS], ss);
    }
    seg_set_cs(c, sel, d, sel & 3);
    seg_set_sp(c, sp, t64 ? ~0ull : seg_sp_mask(&c->seg[S_SS]));
}

/* Commit a return to an outer privilege level: CS at CPL rpl, the new SS:RSP,
 * and data segments the new CPL may not use become null. */
static void return_outer(cpu_t *c, uint16_t sel, uint64_t d, uint16_t ss, uint64_t ssd, uint64_t sp, bool t64)
{
    return_with_ss(c, sel, d, ss, ssd, sp, t64);
    seg_null_if_inaccessible(c, S_ES);
    seg_null_if_inaccessible(c, S_DS);
    seg_null_if_inaccessible(c, S_FS);
    seg_null_if_inaccessible(c, S_GS);
}

static void far_ret(cpu_t *c, int os, uint64_t imm)
{
    seg_stack_t st = seg_stack_cur(c);
    uint64_t ip = seg_stack_read(c, &st, 0, os);
    uint16_t sel = (uint16_t)seg_stack_read(c, &st, (uint64_t)os, os);
    if (!pmode(c)) {
        if (ip > c->seg[S_CS].limit)
            cpu_fault_err(c, EXC_GP, 0);
        seg_set_sp(c, st.sp + 2 * (uint64_t)os + imm, st.mask);
        far_real(c, sel, ip);
        return;
    }
    uint64_t d = check_return_cs(c, sel);
    int rpl = sel & 3;
    if (rpl == c->cpl) {
        check_target_ip(c, d, ip);
        seg_desc_set_accessed(c, sel, &d);
        seg_set_sp(c, st.sp + 2 * (uint64_t)os + imm, st.mask);
        seg_set_cs(c, sel, d, c->cpl);
        c->rip = ip;
        return;
    }
    bool t64 = is64code(c, d);
    uint64_t sp = seg_stack_read(c, &st, 2 * (uint64_t)os + imm, os);
    uint16_t ss = (uint16_t)seg_stack_read(c, &st, 3 * (uint64_t)os + imm, os);
    uint64_t ssd = check_return_ss(c, ss, rpl, t64);
    check_target_ip(c, d, ip);
    seg_desc_set_accessed(c, sel, &d);
    /* The immediate releases the parameters from the outer stack too. */
    return_outer(c, sel, d, ss, ssd, sp + imm, t64);
    c->rip = ip;
}

void op_retf(cpu_t *c, const dinsn_t *d) { far_ret(c, d->i.osize, 0); }
void op_retf_iw(cpu_t *c, const dinsn_t *d) { far_ret(c, d->i.osize, d->i.imm & 0xffff); }

/* ---- IRET ---- */

/* RFLAGS bits every IRET may load; the rest depend on CPL and IOPL. */
#define IRET_FLAGS (F_ARITH | F_TF | F_DF | F_NT | F_RF | F_AC | F_ID)
#define EFLAGS_VALID 0x3f7fd5u /* bits that exist */

/* The IP, CS and FLAGS of an IRET frame on the current stack st, read but
 * not popped. */
typedef struct {
    seg_stack_t st;
    uint64_t ip, fl;
    uint16_t sel;
} iret_frame_t;

static iret_frame_t iret_frame(cpu_t *c, int os)
{
    iret_frame_t f = { .st = seg_stack_cur(c) };
    f.ip = seg_stack_read(c, &f.st, 0, os);
    f.sel = (uint16_t)seg_stack_read(c, &f.st, (uint64_t)os, os);
    f.fl = seg_stack_read(c, &f.st, 2 * (uint64_t)os, os);
    return f;
}

/* The frame of an IRET in real or V86 mode: the IP must lie within the CS limit. */
static iret_frame_t iret_frame_real(cpu_t *c, int os)
{
    iret_frame_t f = iret_frame(c, os);
    if (f.ip > c->seg[S_CS].limit)
        cpu_fault_err(c, EXC_GP, 0);
    return f;
}

/* Commit an IRET in real or V86 mode: the new FLAGS nf, the frame popped, CS:IP. */
static void iret_real_commit(cpu_t *c, const iret_frame_t *f, int os, uint64_t nf)
{
    cpu_set_rflags(c, nf | 2);
    seg_set_sp(c, f->st.sp + 3 * (uint64_t)os, f->st.mask);
    far_real(c, f->sel, f->ip);
}

static void iret_real(cpu_t *c, int os)
{
    iret_frame_t f = iret_frame_real(c, os);
    uint64_t old = cpu_get_rflags(c), nf;
    if (os == 2)
        nf = (old & ~0xffffull) | f.fl;
    else
        nf = (f.fl & 0x257fd5) | (old & (F_VM | F_VIF | F_VIP));
    iret_real_commit(c, &f, os, nf);
}

/* IRET in V86 mode: allowed with IOPL = 3 (IOPL itself stays), or with
 * CR4.VME and a 16-bit operand size, where IF goes to VIF (SDM Vol. 3A
 * "Virtual Mode Extensions"). Anything else traps to the monitor with #GP(0). */
static void iret_v86(cpu_t *c, int os)
{
    uint64_t old = cpu_get_rflags(c);
    bool iopl3 = (old & F_IOPL) == F_IOPL;
    if (!iopl3 && !((c->cr4 & CR4_VME) && os == 2))
        cpu_fault_err(c, EXC_GP, 0);
    iret_frame_t f = iret_frame_real(c, os);
    uint64_t fl = f.fl, keep, nf;
    if (iopl3) {
        keep = F_VM | F_IOPL | F_VIP | F_VIF | (os == 2 ? ~0xffffull : 0);
        nf = (old & keep) | (fl & EFLAGS_VALID & ~keep);
    } else {
        if (((fl & F_IF) && (old & F_VIP)) || (fl & F_TF))
            cpu_fault_err(c, EXC_GP, 0);
        keep = ~0xffffull | F_IF | F_IOPL;
        nf = (old & keep) | (fl & ~keep);
        nf = (nf & ~(uint64_t)F_VIF) | ((fl & F_IF) ? F_VIF : 0);
    }
    iret_real_commit(c, &f, os, nf);
}

/* IRET from CPL 0 with VM set in the popped EFLAGS (32-bit operand size):
 * the frame also holds ESP, SS, ES, DS, FS, GS (SDM "RETURN-TO-VIRTUAL-8086-MODE"). */
static void iret_to_v86(cpu_t *c, seg_stack_t *st, uint64_t ip, uint16_t cs, uint64_t fl)
{
    uint64_t sp = seg_stack_read(c, st, 12, 4);
    uint16_t sels[6];
    sels[S_CS] = cs;
    sels[S_SS] = (uint16_t)seg_stack_read(c, st, 16, 4);
    sels[S_ES] = (uint16_t)seg_stack_read(c, st, 20, 4);
    sels[S_DS] = (uint16_t)seg_stack_read(c, st, 24, 4);
    sels[S_FS] = (uint16_t)seg_stack_read(c, st, 28, 4);
    sels[S_GS] = (uint16_t)seg_stack_read(c, st, 32, 4);
    if (ip > 0xffff) /* beyond the 64 KiB limit of the V86 code segment */
        cpu_fault_err(c, EXC_GP, 0);
    cpu_set_rflags(c, (fl & EFLAGS_VALID) | 2);
    seg_set_cpl(c, 3); /* VM = 1: the mode becomes V86 */
    for (int s = 0; s < 6; s++)
        seg_load_real(c, s, sels[s]);
    c->gpr[R_RSP] = (uint32_t)sp;
    c->rip = ip;
}

static void iret_prot(cpu_t *c, int os)
{
    iret_frame_t f = iret_frame(c, os);
    uint64_t ip = f.ip, fl = f.fl;
    uint16_t sel = f.sel;
    uint64_t old = cpu_get_rflags(c);
    if ((fl & F_VM) && c->cpl == 0 && os == 4 && !lma(c)) {
        iret_to_v86(c, &f.st, ip, sel, fl);
        return;
    }
    uint64_t d = check_return_cs(c, sel);
    int rpl = sel & 3;
    bool t64 = is64code(c, d);

    /* Flags the old CPL may change: IF if CPL <= IOPL; IOPL, VIF, VIP at CPL 0. */
    uint64_t mask = IRET_FLAGS;
    if (c->cpl <= ((old & F_IOPL) >> 12))
        mask |= F_IF;
    if (c->cpl == 0)
        mask |= F_IOPL | (os > 2 ? F_VIF | F_VIP : 0);
    if (os == 2)
        mask &= 0xffff;
    uint64_t nf = ((old & ~mask) | (fl & mask)) | 2;

    /* 64-bit mode always pops SS:RSP; elsewhere only on a return to an outer level. */
    if (rpl > c->cpl || c->mode == MODE_LONG64) {
        uint64_t sp = seg_stack_read(c, &f.st, 3 * (uint64_t)os, os);
        uint16_t ss = (uint16_t)seg_stack_read(c, &f.st, 4 * (uint64_t)os, os);
        uint64_t ssd = check_return_ss(c, ss, rpl, t64);
        check_target_ip(c, d, ip);
        seg_desc_set_accessed(c, sel, &d);
        cpu_set_rflags(c, nf);
        if (rpl > c->cpl)
            return_outer(c, sel, d, ss, ssd, sp, t64);
        else
            return_with_ss(c, sel, d, ss, ssd, sp, t64);
        c->rip = ip;
        return;
    }
    check_target_ip(c, d, ip);
    seg_desc_set_accessed(c, sel, &d);
    cpu_set_rflags(c, nf);
    seg_set_sp(c, f.st.sp + 3 * (uint64_t)os, f.st.mask);
    seg_set_cs(c, sel, d, rpl);
    c->rip = ip;
}

void op_iret(cpu_t *c, const dinsn_t *d)
{
    /* IRET ends NMI blocking even when it faults (SDM Vol. 3A 6.7.1 "Handling Multiple NMIs");
     * not in VMX non-root operation with "NMI exiting" (SDM Vol. 3C "Changes to Instruction
     * Behavior in VMX Non-Root Operation"). */
    if (!c->nmi_iret_keep)
        c->nmi_blocked = false;
    c->stop |= STOP_IRQ; /* IF may have been set */
    if (c->mode == MODE_REAL)
        iret_real(c, d->i.osize);
    else if (c->mode == MODE_V86)
        iret_v86(c, d->i.osize);
    else if (c->rflags & F_NT) {
        /* Return from a nested task to the previous-task link of the TSS. */
        if (lma(c))
            cpu_fault_err(c, EXC_GP, 0);
        uint16_t link = (uint16_t)lin_read_sys(c, (uint32_t)c->seg[S_TR].base, 2);
        task_switch(c, link, TS_IRET, 0);
    } else {
        iret_prot(c, d->i.osize);
    }
}

/* ---- software interrupts: delivered by emu/except.c past the instruction ---- */

void op_int_ib(cpu_t *c, const dinsn_t *d) { cpu_raise_soft(c, EV_SWINT, (int)(d->i.imm & 0xff)); }
void op_int3(cpu_t *c, const dinsn_t *d) { cpu_raise_soft(c, EV_SWEXC, EXC_BP); }
void op_int1(cpu_t *c, const dinsn_t *d) { cpu_raise_soft(c, EV_PRIVSW, EXC_DB); }

void op_into(cpu_t *c, const dinsn_t *d)
{
    if (flag_of(c))
        cpu_raise_soft(c, EV_SWEXC, EXC_OF);
}

/* ---- ARPL, LAR, LSL, VERR, VERW ---- */

void op_arpl(cpu_t *c, const dinsn_t *d)
{
    if (!pmode(c))
        cpu_fault(c, EXC_UD);
    uint16_t dst = (uint16_t)rm_read(c, &d->i, 2);
    uint16_t src = (uint16_t)c->gpr[d->i.reg];
    if ((dst & 3) < (src & 3)) {
        rm_write(c, &d->i, 2, (dst & ~3u) | (src & 3u));
        flag_set_zf(c, 1);
    } else {
        flag_set_zf(c, 0);
    }
}

/* System-descriptor types LAR and LSL accept, as bit masks over the type
 * (SDM Vol. 2 "LAR" and "LSL" tables; IA-32e mode has only the 64-bit forms). */
#define TBIT(t) (1u << (t))
static const uint16_t lar_types[2] = {
    TBIT(SYS_TSS16) | TBIT(SYS_LDT) | TBIT(SYS_TSS16_BUSY) | TBIT(SYS_CALL16) | TBIT(SYS_TASK) |
        TBIT(SYS_TSS32) | TBIT(SYS_TSS32_BUSY) | TBIT(SYS_CALL32),
    TBIT(SYS_LDT) | TBIT(SYS_TSS32) | TBIT(SYS_TSS32_BUSY) | TBIT(SYS_CALL32),
};
static const uint16_t lsl_types[2] = {
    TBIT(SYS_TSS16) | TBIT(SYS_LDT) | TBIT(SYS_TSS16_BUSY) | TBIT(SYS_TSS32) | TBIT(SYS_TSS32_BUSY),
    TBIT(SYS_LDT) | TBIT(SYS_TSS32) | TBIT(SYS_TSS32_BUSY),
};

/* Whether LAR/LSL may see sel's descriptor from the current CPL: ZF is the answer. */
static bool desc_visible(cpu_t *c, uint16_t sel, const uint16_t *types, uint64_t *d)
{
    if (!(sel & ~3u) || !seg_desc_read(c, sel, d))
        return false;
    int dpl = desc_dpl(*d);
    if (*d & DESC_S) {
        if (is_conforming(*d))
            return true;
    } else {
        if (!(types[lma(c)] & TBIT(desc_type(*d))))
            return false;
        uint64_t hi;
        if (lma(c) && (!seg_desc_read_hi(c, sel, &hi) || ((hi >> 40) & 0x1f) != 0))
            return false;
    }
    return dpl >= c->cpl && dpl >= (sel & 3);
}

void op_lar(cpu_t *c, const dinsn_t *d)
{
    if (!pmode(c))
        cpu_fault(c, EXC_UD);
    uint64_t desc;
    bool ok = desc_visible(c, (uint16_t)rm_read(c, &d->i, 2), lar_types, &desc);
    if (ok) /* bits 23:8 of the descriptor's upper doubleword */
        reg_set(c, &d->i, d->i.reg, d->i.osize, (desc >> 32) & (d->i.osize == 2 ? 0xff00 : 0xffff00));
    flag_set_zf(c, ok);
}

void op_lsl(cpu_t *c, const dinsn_t *d)
{
    if (!pmode(c))
        cpu_fault(c, EXC_UD);
    uint64_t desc;
    bool ok = desc_visible(c, (uint16_t)rm_read(c, &d->i, 2), lsl_types, &desc);
    if (ok)
        reg_set(c, &d->i, d->i.reg, d->i.osize, desc_limit(desc) & size_mask(d->i.osize == 2 ? 2 : 4));
    flag_set_zf(c, ok);
}

/* VERR/VERW: a code or data segment readable (writable) from CPL and RPL. */
static bool verify(cpu_t *c, uint16_t sel, bool write)
{
    uint64_t d;
    if (!(sel & ~3u) || !seg_desc_read(c, sel, &d) || !(d & DESC_S))
        return false;
    int t = desc_type(d);
    if (write ? (t & (SEG_CODE | SEG_WRITE)) != SEG_WRITE : (t & (SEG_CODE | SEG_READ)) == SEG_CODE)
        return false;
    if (!write && is_conforming(d))
        return true;
    return desc_dpl(d) >= c->cpl && desc_dpl(d) >= (sel & 3);
}

void op_verr(cpu_t *c, const dinsn_t *d)
{
    if (!pmode(c))
        cpu_fault(c, EXC_UD);
    flag_set_zf(c, verify(c, (uint16_t)rm_read(c, &d->i, 2), false));
}

void op_verw(cpu_t *c, const dinsn_t *d)
{
    if (!pmode(c))
        cpu_fault(c, EXC_UD);
    flag_set_zf(c, verify(c, (uint16_t)rm_read(c, &d->i, 2), true));
}
