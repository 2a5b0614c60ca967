/* except.c - raising exceptions and delivering events (exceptions, interrupts,
 * software interrupts) through the IVT or IDT, with the #DF and triple-fault
 * rules (SDM Vol. 3A ch. 6 "Interrupt and Exception Handling", Vol. 2 "INT n").
 *
 * Raising records the event in cpu_t and longjmps to the run loop, which calls
 * cpu_deliver_pending(). Delivery reads and writes memory (IDT, GDT, TSS, the
 * new stack) before it changes any register, so a fault during delivery leaves
 * the state of the interrupted instruction intact: the nested fault longjmps to
 * the same landing pad and cpu_deliver() sees c->exc_depth != 0, which is how
 * the "Conditions for Generating a Double Fault" table is applied without
 * recursion on the host stack.
 */
#include "emu/exec.h"
#include "emu/fault.h"
#include "emu/flags.h"
#include "emu/machine.h"
#include "emu/seg.h"
#include "emu/virt.h"

/* Per-vector properties (SDM Vol. 3A Table 6-1 "Protected-Mode Exceptions and
 * Interrupts" and Table 6-4 "Interrupt and Exception Classes"): the #DF class and
 * whether it is a fault (restartable; RF is set in the pushed RFLAGS). */
enum { CL_BENIGN, CL_CONTRIB, CL_PAGE };
static const struct { uint8_t cls, fault; } exc_info[32] = {
    [EXC_DE] = { CL_CONTRIB, 1 }, [EXC_BR] = { CL_BENIGN, 1 }, [EXC_UD] = { CL_BENIGN, 1 },
    [EXC_NM] = { CL_BENIGN, 1 }, [EXC_TS] = { CL_CONTRIB, 1 }, [EXC_NP] = { CL_CONTRIB, 1 },
    [EXC_SS] = { CL_CONTRIB, 1 }, [EXC_GP] = { CL_CONTRIB, 1 }, [EXC_PF] = { CL_PAGE, 1 },
    [EXC_MF] = { CL_BENIGN, 1 }, [EXC_AC] = { CL_BENIGN, 1 }, [EXC_XM] = { CL_BENIGN, 1 },
    [EXC_VE] = { CL_PAGE, 1 }, [EXC_CP] = { CL_CONTRIB, 1 },
};
#define EXC_NONE 0xff /* exc_first when the event being delivered is not a hardware exception */

/* ---- raising ---- */

static _Noreturn void raise_event(cpu_t *c, int type, int vec, bool has_err, uint32_t err)
{
    c->ev_type = (uint8_t)type;
    c->ev_vec = (uint8_t)vec;
    c->ev_has_err = has_err;
    c->ev_err = err;
    longjmp(c->fault_jmp, 1);
}

void cpu_fault(cpu_t *c, int vec) { raise_event(c, EV_HWEXC, vec, false, 0); }
void cpu_fault_err(cpu_t *c, int vec, uint32_t err) { raise_event(c, EV_HWEXC, vec, true, err); }

void cpu_fault_pf(cpu_t *c, uint64_t la, uint32_t err)
{
    c->pf_addr = la; /* CR2 is written when the #PF is delivered (cpu_deliver) */
    c->pf_addr_pending = true;
    raise_event(c, EV_HWEXC, EXC_PF, true, err);
}

void cpu_raise_soft(cpu_t *c, enum event_type type, int vec) { raise_event(c, type, vec, false, 0); }

void cpu_deliver_pending(cpu_t *c)
{
    if (c->ev_type == EV_HWEXC)
        c->rip = c->insn_rip; /* faults restart the instruction */
    cpu_deliver(c, (enum event_type)c->ev_type, c->ev_vec, c->ev_has_err, c->ev_err);
}

void cpu_triple_fault(cpu_t *c)
{
    c->exc_depth = 0;
    /* in VMX non-root operation a triple fault is a VM exit (emu/virt.h) */
    if (c->nonroot && c->m->virt && c->m->virt->event(c, EV_TRIPLE, 0, 0, 0))
        return;
    c->shutdown = true;
    machine_stop(c->m, MEXIT_SHUTDOWN, 0);
}

/* ---- delivery helpers ---- */

static inline bool is_soft(int type) { return type == EV_SWINT || type == EV_SWEXC; }

/* Real-address mode: the IVT holds 4-byte far pointers (SDM Vol. 3B 20.1.4 "Interrupt
 * and Exception Handling in Real-Address Mode"). No error codes are pushed. */
static void deliver_real(cpu_t *c, int vec, uint64_t fl)
{
    if ((unsigned)vec * 4 + 3 > c->idtr.limit)
        cpu_fault_err(c, EXC_GP, 0);
    uint32_t ivt = (uint32_t)lin_read_sys(c, (uint32_t)(c->idtr.base + (unsigned)vec * 4), 4);
    seg_stack_t s = { .ss = c->seg[S_SS], .sp = c->gpr[R_RSP], .mask = seg_sp_mask(&c->seg[S_SS]) };
    s.sp &= s.mask;
    seg_stack_push(c, &s, 2, fl);
    seg_stack_push(c, &s, 2, c->seg[S_CS].sel);
    seg_stack_push(c, &s, 2, c->rip);
    seg_set_sp(c, s.sp, s.mask);
    c->rflags &= ~(uint64_t)(F_IF | F_TF | F_AC);
    seg_load_real(c, S_CS, (uint16_t)(ivt >> 16));
    c->rip = ivt & 0xffff;
    c->stop |= STOP_MODE;
}

/* V86-mode software interrupt redirected to the V86 task's own IVT (CR4.VME,
 * SDM Vol. 3B 20.3 "Interrupt and Exception Handling in Virtual-8086 Mode", method 5):
 * with IOPL < 3 the pushed FLAGS carry VIF as IF and IOPL as 3. */
static void deliver_v86_redirect(cpu_t *c, int vec, uint64_t fl)
{
    uint32_t ivt = (uint32_t)lin_read(c, (unsigned)vec * 4, 4);
    bool iopl3 = (fl & F_IOPL) == F_IOPL;
    uint16_t img = (uint16_t)fl;
    if (!iopl3)
        img = (uint16_t)((img & ~F_IF) | ((fl & F_VIF) ? F_IF : 0) | F_IOPL);
    seg_stack_t s = { .ss = c->seg[S_SS], .sp = c->gpr[R_RSP] & 0xffff, .mask = 0xffff };
    seg_stack_push(c, &s, 2, img);
    seg_stack_push(c, &s, 2, c->seg[S_CS].sel);
    seg_stack_push(c, &s, 2, c->rip);
    seg_set_sp(c, s.sp, s.mask);
    c->rflags &= ~(uint64_t)(F_TF | (iopl3 ? F_IF : F_VIF));
    seg_load_real(c, S_CS, (uint16_t)(ivt >> 16));
    c->rip = ivt & 0xffff;
    c->stop |= STOP_MODE;
}

/* INT n in V86 mode (SDM Vol. 3B Table 20-2 "Software Interrupt Handling Methods
 * While in Virtual-8086 Mode"): returns true if the interrupt was redirected to
 * the V86 IVT; raises #GP(0) where IOPL forbids it; false: protected-mode IDT. */
static bool v86_softint(cpu_t *c, int vec, uint64_t fl)
{
    bool iopl3 = (fl & F_IOPL) == F_IOPL;
    if (c->cr4 & CR4_VME) {
        /* The redirection bitmap is the 32 bytes below the I/O map base. */
        const seg_t *tr = &c->seg[S_TR];
        if (tr->limit < 0x67)
            cpu_fault_err(c, EXC_GP, 0);
        uint32_t iomap = (uint32_t)lin_read_sys(c, tr->base + 0x66, 2);
        uint32_t off = iomap - 32 + (unsigned)vec / 8;
        if (iomap < 32 || off > tr->limit)
            cpu_fault_err(c, EXC_GP, 0);
        uint8_t bits = (uint8_t)lin_read_sys(c, tr->base + off, 1);
        if (!(bits & (1u << (vec & 7)))) {
            deliver_v86_redirect(c, vec, fl);
            return true;
        }
    }
    if (!iopl3)
        cpu_fault_err(c, EXC_GP, 0);
    return false;
}

/* Check the code segment an IDT gate names (SDM Vol. 2 "INT n" PROTECTED-MODE).
 * Returns its descriptor. */
static uint64_t gate_target(cpu_t *c, uint16_t sel, uint32_t ext, bool lm)
{
    uint32_t serr = (sel & 0xfffcu) | ext;
    uint64_t d;
    if (!(sel & ~3u))
        cpu_fault_err(c, EXC_GP, ext);
    if (!seg_desc_read(c, sel, &d))
        cpu_fault_err(c, EXC_GP, serr);
    if (!(d & DESC_S) || !(desc_type(d) & SEG_CODE) || desc_dpl(d) > c->cpl)
        cpu_fault_err(c, EXC_GP, serr);
    if (lm && (!(d & (1ull << 53)) || (d & (1ull << 54)))) /* must be 64-bit code: L=1, D=0 */
        cpu_fault_err(c, EXC_GP, serr);
    if (!(d & DESC_P))
        cpu_fault_err(c, EXC_NP, serr);
    return d;
}

/* Protected mode outside IA-32e: 8-byte gates, 16- and 32-bit frames, V86 exits. */
static void deliver_prot(cpu_t *c, int type, int vec, bool has_err, uint32_t err, uint64_t fl)
{
    uint32_t ext = is_soft(type) ? 0 : 1;
    uint32_t ierr = (unsigned)vec * 8 + 2 + ext;
    bool v86 = (fl & F_VM) != 0;

    if (v86 && type == EV_SWINT && v86_softint(c, vec, fl))
        return;
    if ((unsigned)vec * 8 + 7 > c->idtr.limit)
        cpu_fault_err(c, EXC_GP, ierr);
    uint64_t g = lin_read_sys(c, (uint32_t)(c->idtr.base + (unsigned)vec * 8), 8);
    int gt = desc_type(g);
    if ((g & DESC_S) || !(gt == SYS_TASK || gt == SYS_INT16 || gt == SYS_TRAP16 || gt == SYS_INT32 ||
                          gt == SYS_TRAP32))
        cpu_fault_err(c, EXC_GP, ierr);
    if (is_soft(type) && desc_dpl(g) < c->cpl)
        cpu_fault_err(c, EXC_GP, ierr);
    if (!(g & DESC_P))
        cpu_fault_err(c, EXC_NP, ierr);
    if (gt == SYS_TASK) {
        task_switch(c, gate_sel(g), TS_INT, ext);
        if (has_err) {
            /* The error code goes on the new task's stack (SDM Vol. 3A 6.13 "Error Code"). */
            seg_stack_t s = { .ss = c->seg[S_SS], .mask = seg_sp_mask(&c->seg[S_SS]), .sys = c->cpl < 3,
                        .err = ext };
            s.sp = c->gpr[R_RSP] & s.mask;
            seg_stack_push(c, &s, (AR_TYPE(c->seg[S_TR].ar) & 8) ? 4 : 2, err);
            seg_set_sp(c, s.sp, s.mask);
        }
        return;
    }

    uint16_t sel = gate_sel(g);
    uint64_t d = gate_target(c, sel, ext, false);
    int dpl = desc_dpl(d);
    bool conforming = desc_type(d) & SEG_CONF;
    int psz = (gt & 8) ? 4 : 2;
    uint32_t off = psz == 4 ? gate_off(g) : (uint32_t)(g & 0xffff);
    int new_cpl = c->cpl;
    seg_stack_t s;

    if (!conforming && dpl < c->cpl) {
        /* Inter-privilege: the stack for DPL comes from the TSS. From V86
         * mode the handler must run at CPL 0. */
        if (v86 && dpl != 0)
            cpu_fault_err(c, EXC_GP, (sel & 0xfffcu) | ext);
        uint16_t nss;
        uint64_t nsp;
        uint64_t ssd;
        seg_tss_stack(c, dpl, ext, &nss, &nsp);
        seg_check_new_ss(c, nss, dpl, ext, &ssd);
        new_cpl = dpl;
        s = (seg_stack_t){ .sys = true, .err = (nss & 0xfffcu) | ext };
        seg_cache_from_desc(&s.ss, nss, ssd);
        s.mask = seg_sp_mask(&s.ss);
        s.sp = nsp & s.mask;
        if (off > desc_limit(d))
            cpu_fault_err(c, EXC_GP, ext);
        if (v86) {
            seg_stack_push(c, &s, psz, c->seg[S_GS].sel);
            seg_stack_push(c, &s, psz, c->seg[S_FS].sel);
            seg_stack_push(c, &s, psz, c->seg[S_DS].sel);
            seg_stack_push(c, &s, psz, c->seg[S_ES].sel);
        }
        seg_stack_push(c, &s, psz, c->seg[S_SS].sel);
        seg_stack_push(c, &s, psz, c->gpr[R_RSP]);
        seg_desc_set_accessed(c, nss, &ssd);
        s.ss.ar = desc_ar(ssd);
    } else {
        if (v86)
            cpu_fault_err(c, EXC_GP, (sel & 0xfffcu) | ext);
        s = (seg_stack_t){ .ss = c->seg[S_SS], .sys = c->cpl < 3, .err = ext };
        s.mask = seg_sp_mask(&s.ss);
        s.sp = c->gpr[R_RSP] & s.mask;
        if (off > desc_limit(d))
            cpu_fault_err(c, EXC_GP, ext);
    }
    seg_stack_push(c, &s, psz, fl);
    seg_stack_push(c, &s, psz, c->seg[S_CS].sel);
    seg_stack_push(c, &s, psz, c->rip);
    if (has_err)
        seg_stack_push(c, &s, psz, err);
    seg_desc_set_accessed(c, sel, &d);

    /* Commit: nothing below can fault. */
    if (new_cpl != c->cpl) {
        c->seg[S_SS] = s.ss;
        if (v86)
            for (int r = S_ES; r <= S_GS; r++)
                if (r != S_CS && r != S_SS)
                    seg_cache_null(&c->seg[r], 0);
    }
    seg_set_sp(c, s.sp, s.mask);
    c->rflags &= ~(uint64_t)(F_TF | F_NT | F_RF | F_VM | ((gt & 1) ? 0 : F_IF));
    seg_set_cs(c, sel, d, new_cpl);
    c->rip = off;
}

/* IA-32e mode: 16-byte gates, 64-bit frames always including SS:RSP, IST, and
 * a null SS on a privilege change (SDM Vol. 3A 6.14.2 "64-Bit Mode Stack Frame"). */
static void deliver_long(cpu_t *c, int type, int vec, bool has_err, uint32_t err, uint64_t fl)
{
    uint32_t ext = is_soft(type) ? 0 : 1;
    uint32_t ierr = (unsigned)vec * 8 + 2 + ext;

    if ((unsigned)vec * 16 + 15 > c->idtr.limit)
        cpu_fault_err(c, EXC_GP, ierr);
    uint64_t g = lin_read_sys(c, c->idtr.base + (unsigned)vec * 16, 8);
    uint64_t ghi = lin_read_sys(c, c->idtr.base + (unsigned)vec * 16 + 8, 8);
    int gt = desc_type(g);
    if ((g & DESC_S) || (gt != SYS_INT32 && gt != SYS_TRAP32))
        cpu_fault_err(c, EXC_GP, ierr);
    if (is_soft(type) && desc_dpl(g) < c->cpl)
        cpu_fault_err(c, EXC_GP, ierr);
    if (!(g & DESC_P))
        cpu_fault_err(c, EXC_NP, ierr);

    uint16_t sel = gate_sel(g);
    uint64_t d = gate_target(c, sel, ext, true);
    uint64_t off = gate_off(g) | (ghi << 32);
    if (!seg_canonical(c, off))
        cpu_fault_err(c, EXC_GP, ext);
    int dpl = desc_dpl(d);
    int new_cpl = (desc_type(d) & SEG_CONF) ? c->cpl : dpl;
    int ist = (int)(g >> 32) & 7;
    uint64_t rsp = c->gpr[R_RSP];
    if (ist || new_cpl < c->cpl) {
        /* IST n is at 0x24 + 8(n-1), RSPn at 4 + 8n in the 64-bit TSS. */
        unsigned toff = ist ? 0x24 + 8 * (unsigned)(ist - 1) : 4 + 8 * (unsigned)new_cpl;
        const seg_t *tr = &c->seg[S_TR];
        if (toff + 7 > tr->limit)
            cpu_fault_err(c, EXC_TS, (tr->sel & 0xfffcu) | ext);
        rsp = lin_read_sys(c, tr->base + toff, 8);
        if (!seg_canonical(c, rsp))
            cpu_fault_err(c, EXC_SS, ext);
    }
    seg_stack_t s = { .ss = c->seg[S_SS], .sp = rsp & ~15ull, .mask = ~0ull, .is64 = true,
                .sys = new_cpl < 3, .err = ext };
    seg_stack_push(c, &s, 8, c->seg[S_SS].sel);
    seg_stack_push(c, &s, 8, c->gpr[R_RSP]);
    seg_stack_push(c, &s, 8, fl);
    seg_stack_push(c, &s, 8, c->seg[S_CS].sel);
    seg_stack_push(c, &s, 8, c->rip);
    if (has_err)
        seg_stack_push(c, &s, 8, err);
    seg_desc_set_accessed(c, sel, &d);

    if (new_cpl != c->cpl)
        seg_cache_null(&c->seg[S_SS], (uint16_t)new_cpl);
    c->gpr[R_RSP] = s.sp;
    c->rflags &= ~(uint64_t)(F_TF | F_NT | F_RF | F_VM | ((gt & 1) ? 0 : F_IF));
    seg_set_cs(c, sel, d, new_cpl);
    c->rip = off;
}

/* ---- delivery ---- */

void cpu_deliver(cpu_t *c, enum event_type type, int vec, int has_err, uint32_t err)
{
    /* a page fault detected by the instruction (not an injected #PF) */
    bool pf_detected = c->pf_addr_pending && type == EV_HWEXC && vec == EXC_PF;
    c->pf_addr_pending = false;
    c->halted = false;
    /* A fault during delivery of a non-software event is reported at the
     * return address of that event; for INT n at the instruction itself. */
    if (type != EV_SWINT && type != EV_SWEXC && type != EV_PRIVSW)
        c->insn_rip = c->rip;

    if (c->exc_depth) {
        /* The previous delivery faulted (SDM Vol. 3A Table 6-5 "Conditions for
         * Generating a Double Fault"). */
        int first = c->exc_first;
        if (first == EXC_DF) {
            cpu_triple_fault(c);
            return;
        }
        int c1 = first < 32 ? exc_info[first].cls : CL_BENIGN;
        int c2 = (type == EV_HWEXC && vec < 32) ? exc_info[vec].cls : CL_BENIGN;
        if ((c1 == CL_CONTRIB && c2 == CL_CONTRIB) || (c1 == CL_PAGE && c2 != CL_BENIGN)) {
            type = EV_HWEXC;
            vec = EXC_DF;
            has_err = 1;
            err = 0;
        }
    }
    /* In VMX non-root operation the event may cause a VM exit instead
     * (exception bitmap, NMI exiting, ...: vmx/ decides, emu/virt.h). */
    if (c->nonroot && c->m->virt && c->m->virt->event(c, type, vec, has_err, err)) {
        /* the #PF itself exited: CR2 unchanged; a #DF it caused exited: CR2 was loaded */
        if (pf_detected && vec != EXC_PF)
            c->cr2 = c->pf_addr;
        c->exc_depth = 0;
        return;
    }
    if (type == EV_HWEXC && vec == EXC_DB) {
        /* DR6 receives the conditions now (general detect also clears B3-B0), and
         * GD is cleared so the handler can use the debug registers (SDM Vol. 3B
         * "Debug Status Register (DR6)", "Debug Control Register (DR7)"). */
        if (c->db_pending & DR6_BD)
            c->dr[6] &= ~0xfull;
        c->dr[6] |= c->db_pending;
        c->dr[7] &= ~DR7_GD;
        c->db_pending = 0;
    }
    if (pf_detected)
        c->cr2 = c->pf_addr;
    c->exc_depth = 1;
    c->exc_first = type == EV_HWEXC ? (uint8_t)vec : EXC_NONE;

    uint64_t fl = cpu_get_rflags(c);
    if (type == EV_HWEXC && vec < 32 && exc_info[vec].fault)
        fl |= F_RF; /* restarting a faulting instruction must not re-trigger its breakpoint */
    if (!(c->cr0 & CR0_PE))
        deliver_real(c, vec, fl);
    else if (c->efer & EFER_LMA)
        deliver_long(c, type, vec, has_err != 0, err, fl);
    else
        deliver_prot(c, type, vec, has_err != 0, err, fl);
    c->exc_depth = 0;
    if (type == EV_NMI)
        c->nmi_blocked = true;
}
