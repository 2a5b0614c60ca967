/* boundary.c - what happens at instruction boundaries in VMX non-root
 * operation, in the SDM's priority order (Vol. 3C 26.2 "Other Causes of VM
 * Exits", 26.5 "Features for Monitoring Guest Software: ... VMX-Preemption
 * Timer, Monitor Trap Flag", 27.7 "Special Features of VM Entry"):
 *
 *   0. completing an instruction that wrote the APIC-access page (vmx/apicv.c)
 *   1. a monitor-trap-flag (MTF) VM exit (reason 37)
 *   2. pending debug exceptions: the #DB trap (single step, or pending from VM entry)
 *   3. the VMX-preemption timer at 0 (reason 52)
 *   4. the NMI window (reason 8)
 *      - NMIs: the run loop delivers them next (or "NMI exiting" exits)
 *   5. the interrupt window (reason 7), or a virtual interrupt (vmx/apicv.c)
 *      - external interrupts: the run loop (or "external-interrupt exiting")
 * (INIT and SIPI, above all of these, exit when they arrive: vmx_init_signal,
 * vmx_event.)
 *
 * The run loop calls vmx_boundary with STOP_VMX in the stop word or once the
 * cycle counter reaches cpu_t.virt_deadline, which is kept here at the earlier
 * of the timer's expiry cycle and the next boundary MTF must see; the loop
 * stops exactly there (emu/run.c). VM entry arms everything
 * (vmx_boundary_entry), VM exit saves and disarms it (vmx_boundary_exit). */
#include "emu/cpumodel.h"
#include "emu/fault.h"
#include "emu/flags.h"
#include "vmx/apicv.h"
#include "vmx/exit.h"
#include "vmx/trace.h"
#include "vmx/vmx.h"

#define G(name) vmcs_get(c, VMCS_##name)
#define S(name, v) vmcs_set(c, VMCS_##name, (v))
#define PIN(ident) ((G(PIN_BASED_VM_EXEC_CONTROL) & VMX_CTL(PIN, ident)) != 0)
#define PROC(ident) ((G(CPU_BASED_VM_EXEC_CONTROL) & VMX_CTL(PROC, ident)) != 0)

#define NONE UINT64_MAX
#define INTR_TYPE_OTHER 7            /* VM-entry interruption type "other event": a pending MTF VM exit */
#define PENDING_DBG_ENABLED_BP (1u << 12)
#define PENDING_DBG_TRAPS (0xfu | DR6_BS) /* B3-B0 and BS: what a #DB trap reports */

/* ---- the VMX-preemption timer (26.5.1) ---- */

/* IA32_VMX_MISC[4:0]: the timer counts down by 1 each time bit X of the TSC changes. */
static unsigned timer_rate(cpu_t *c)
{
    return vmx_model_of(c)->preemption_rate & 0x1f;
}

/* Started at VM entry with value V, the timer reaches 0 at the V-th change of
 * TSC bit X: when the TSC reaches ((TSC at entry >> X) + V) << X. A value of 0
 * has expired already, so the exit comes before the first guest instruction
 * (27.7.4 "VMX-Preemption Timer"). The TSC is the vCPU's own, without the
 * VMCS TSC offset (it counts cycles * tsc_per_cycle, emu/cpumodel.h). */
/* The timer starts when VM entry is done and the guest begins: after the
 * cycles the run loop charges for VMLAUNCH/VMRESUME (LAT_SYS, emu/run.c). */
static uint64_t start_cycle(cpu_t *c)
{
    return c->cycles + lat_cycles[LAT_SYS];
}

static uint64_t timer_expiry_tsc(cpu_t *c)
{
    unsigned x = timer_rate(c);
    uint64_t start_tsc = cpu_tsc(c) + (start_cycle(c) - c->cycles) * c->model->tsc_per_cycle;
    return ((start_tsc >> x) + (uint32_t)G(VMX_PREEMPTION_TIMER_VALUE)) << x;
}

/* The first cycle, not before the guest starts, at which the TSC has reached tsc. */
static uint64_t tsc_cycle(cpu_t *c, uint64_t tsc)
{
    uint64_t now = cpu_tsc(c), ratio = c->model->tsc_per_cycle;
    uint64_t cyc = tsc <= now ? c->cycles : c->cycles + (tsc - now + ratio - 1) / ratio;
    return cyc > start_cycle(c) ? cyc : start_cycle(c);
}

static void timer_arm(cpu_t *c, struct vmx_cpu *v)
{
    v->timer_tsc = timer_expiry_tsc(c);
    v->timer_cycle = tsc_cycle(c, v->timer_tsc);
}

void vmx_boundary_trace_entry(cpu_t *c)
{
    if (!PIN(PREEMPTION_TIMER))
        return;
    vmx_trace_u64("preemption_timer", (uint32_t)G(VMX_PREEMPTION_TIMER_VALUE));
    vmx_trace_u64("timer_rate", timer_rate(c));
    vmx_trace_u64("timer_expiry_cycle", tsc_cycle(c, timer_expiry_tsc(c)));
}

/* The count left: changes of TSC bit X still to come before the timer's TSC. */
static uint32_t timer_left(cpu_t *c, const struct vmx_cpu *v)
{
    unsigned x = timer_rate(c);
    uint64_t now = cpu_tsc(c);
    return now >= v->timer_tsc ? 0 : (uint32_t)((v->timer_tsc >> x) - (now >> x));
}

/* The run loop's deadline for this file: the timer or MTF, whichever is first. */
static void sync_deadline(cpu_t *c, const struct vmx_cpu *v)
{
    c->virt_deadline = v->timer_cycle < v->mtf_deadline ? v->timer_cycle : v->mtf_deadline;
    if (c->virt_deadline < c->deadline)
        c->deadline = c->virt_deadline;
}

static bool boundary_exit(cpu_t *c, uint32_t reason)
{
    vmx_exit_insn(c, 0, 0);
    S(VM_EXIT_INTR_INFO, 0);
    vmx_vmexit(c, reason, 0);
    return true;
}

/* ---- the monitor trap flag (26.5.2) ---- */

/* An MTF VM exit is pending after the first instruction that completes, and
 * after the delivery of an event (a fault of the instruction, an interrupt
 * that ends HLT...) when nothing was injected; before the first instruction
 * when VM entry injected a vectored event or a pending MTF VM exit (type 7).
 * Progress is counted from the first boundary after VM entry (mtf_insns), so
 * the instructions the VM entry's own block retired do not count. */
static bool mtf_due(cpu_t *c, struct vmx_cpu *v)
{
    v->mtf_deadline = NONE;
    if (v->mtf_pending)
        return true;
    if (!PROC(MONITOR_TRAP_FLAG))
        return false;
    if (v->mtf_insns == NONE) {
        v->mtf_insns = c->insn_count;
        v->delivered = false;
    }
    if (c->insn_count != v->mtf_insns || v->delivered)
        return true;
    /* The next instruction ends at least a cycle later; a halted vCPU runs none
     * (the event that wakes it marks itself in vmx_event). */
    if (!c->halted)
        v->mtf_deadline = c->cycles + 1;
    return false;
}

/* ---- the boundary ---- */

bool vmx_boundary(cpu_t *c)
{
    if (!c->nonroot)
        return false;
    struct vmx_cpu *v = vmx_state(c);

    if (vmx_apicv_complete(c)) /* the previous instruction's APIC-access page write */
        return true;
    if (mtf_due(c, v))
        return boundary_exit(c, EXIT_REASON_MONITOR_TRAP_FLAG);
    /* Debug traps wait while MOV SS blocks events (27.7.3 "Delivery of Pending
     * Debug Exceptions after VM Entry"); the boundary after the next instruction
     * delivers them. Through the exception bitmap the #DB may exit instead. */
    if (c->db_pending && c->intr_shadow != 2) {
        cpu_deliver(c, EV_HWEXC, EXC_DB, 0, 0);
        c->cycles += lat_cycles[LAT_SYS];
        return true;
    }
    if (v->timer_cycle != NONE && c->cycles >= v->timer_cycle) {
        if (!c->wait_for_sipi)
            return boundary_exit(c, EXIT_REASON_PREEMPTION_TIMER);
        v->timer_cycle = NONE; /* at 0 in wait-for-SIPI: no exit, and it stops (26.5.1) */
    }
    sync_deadline(c, v);
    /* NMI-window exiting (26.2): no virtual-NMI blocking, no blocking by MOV SS */
    if (PROC(NMI_WINDOW_EXITING) && !v->vnmi_blocked && c->intr_shadow != 2)
        return boundary_exit(c, EXIT_REASON_NMI_WINDOW);
    if (c->nmi_pending && !c->nmi_blocked && c->intr_shadow != 2) {
        c->stop |= STOP_VMX; /* the NMI first (the run loop), then look at the window again */
        return false;
    }
    /* A recognized virtual interrupt (vmx/apicv.c) is delivered with the
     * priority of the interrupt window (never both: 30.2.2) */
    bool virq = v->virq;
    vmx_apicv_boundary(c);
    if (!c->nonroot || (virq && !v->virq))
        return true;
    /* Interrupt-window exiting (26.2): RFLAGS.IF = 1, no blocking by STI or MOV SS */
    if (PROC(INTR_WINDOW_EXITING) && (c->rflags & F_IF) && !c->intr_shadow)
        return boundary_exit(c, EXIT_REASON_INTERRUPT_WINDOW);
    return false;
}

/* ---- VM entry and VM exit ---- */

void vmx_boundary_entry(cpu_t *c)
{
    if (!c->nonroot) /* the injected event's delivery exited */
        return;
    struct vmx_cpu *v = vmx_state(c);
    uint64_t ii = G(VM_ENTRY_INTR_INFO_FIELD), istate = G(GUEST_INTERRUPTIBILITY_INFO);
    bool vectoring = (ii >> 31) != 0;
    unsigned type = (ii >> 8) & 7;

    /* 27.3.2.5 "Updating Non-Register State": with virtual NMIs, bit 3 of the
     * interruptibility state is virtual-NMI blocking and NMIs are not blocked;
     * an injected NMI is a virtual NMI and blocks virtual NMIs (27.6.1.2). With
     * "NMI exiting", IRET leaves (physical) NMI blocking alone. */
    c->nmi_iret_keep = PIN(NMI_EXITING);
    v->vnmi_blocked = false;
    if (PIN(VIRTUAL_NMIS)) {
        v->vnmi_blocked = (istate & 8) || (vectoring && type == EV_NMI);
        c->nmi_blocked = false;
    }
    /* 27.7.3: valid pending debug exceptions (BS, or a breakpoint with "enabled
     * breakpoint") are delivered after a VM entry that injects nothing. */
    uint64_t pend = G(GUEST_PENDING_DBG_EXCEPTIONS);
    c->db_pending = 0;
    if (!vectoring && (pend & (DR6_BS | PENDING_DBG_ENABLED_BP)))
        c->db_pending = (uint32_t)(pend & PENDING_DBG_TRAPS);
    /* 27.7.2 "VM-Entry Control of ... Monitor Trap Flag" */
    v->mtf_pending = vectoring && (type == INTR_TYPE_OTHER || PROC(MONITOR_TRAP_FLAG));
    v->mtf_insns = NONE;
    v->mtf_deadline = NONE;
    v->timer_cycle = NONE;
    if (PIN(PREEMPTION_TIMER))
        timer_arm(c, v);
    sync_deadline(c, v);
    c->stop |= STOP_VMX; /* the first boundary comes before any guest instruction */
}

void vmx_boundary_exit(cpu_t *c, uint32_t reason)
{
    struct vmx_cpu *v = vmx_state(c);
    /* 28.3.4 "Saving Non-Register State" */
    if (PIN(PREEMPTION_TIMER) && (G(VM_EXIT_CONTROLS) & VMX_CTL(EXIT, SAVE_PREEMPTION_TIMER)))
        S(VMX_PREEMPTION_TIMER_VALUE, reason == EXIT_REASON_PREEMPTION_TIMER ? 0 : timer_left(c, v));
    uint32_t pend = c->db_pending & PENDING_DBG_TRAPS;
    S(GUEST_PENDING_DBG_EXCEPTIONS, pend | ((pend & 0xf) ? PENDING_DBG_ENABLED_BP : 0));
    if (PIN(VIRTUAL_NMIS))
        S(GUEST_INTERRUPTIBILITY_INFO, (G(GUEST_INTERRUPTIBILITY_INFO) & ~8ull) | (v->vnmi_blocked ? 8 : 0));
    c->db_pending = 0;
    c->nmi_iret_keep = false;
    v->mtf_pending = v->iret_unblocked = false;
    v->timer_cycle = v->mtf_deadline = NONE;
    c->virt_deadline = NONE;
}

/* IRET in non-root operation (26.3 "Changes to Instruction Behavior in VMX
 * Non-Root Operation"): with virtual NMIs it removes virtual-NMI blocking, even
 * if it faults. iret_unblocked remembers that blocking was removed, for bit 12
 * of the exit interruption information if the IRET's fault exits (28.2.2). */
void vmx_iret_begin(cpu_t *c)
{
    struct vmx_cpu *v = vmx_state(c);
    if (PIN(VIRTUAL_NMIS)) {
        v->iret_unblocked = v->vnmi_blocked;
        v->vnmi_blocked = false;
    } else {
        v->iret_unblocked = !PIN(NMI_EXITING) && c->nmi_blocked;
    }
}
