/* lapic.c - the local APICs (SDM Vol. 3A chapter "Advanced Programmable
 * Interrupt Controller (APIC)"): registers in xAPIC mode (a 4 KiB MMIO page at
 * IA32_APIC_BASE) and x2APIC mode (MSRs 0x800-0x8FF), task and processor
 * priority, IRR/ISR/TMR, EOI with the broadcast to the IOAPIC, the error
 * status register, the local vector table, IPIs, and the timer.
 *
 * Choices the SDM leaves to the implementation (all deterministic):
 *  - Version register 0x00050015: version 15H as Skylake reports, max LVT
 *    entry 5 (no CMCI), bit 24 clear (EOI-broadcast suppression is not
 *    offered, so SVR bit 12 is reserved). A real Skylake reads 0x01060015.
 *  - Timer clock: the core crystal clock when the model enumerates it in CPUID
 *    leaf 15H (SDM "APIC Timer": bus clock or core crystal clock), else a
 *    100 MHz bus clock; ticks are exact functions of the cycle counter. The
 *    default model (2 GHz, 25 MHz crystal) ticks once every 80 cycles.
 *  - Lowest-priority delivery: the lowest TPR wins (Pentium 4 and later
 *    arbitrate on the task priority in the chipset; there is no focus
 *    processor), ties go to the lowest APIC ID.
 *  - IPIs are delivered when ICR is written, so the delivery status bit always
 *    reads idle. SMI messages are dropped (no SMM). An IPI to an absent APIC
 *    is lost without an error: the send/receive accept and checksum errors
 *    exist only on P6 and Pentium processors (SDM "Error Handling").
 *  - Fixed and lowest-priority messages to a software-disabled APIC are not
 *    accepted; NMI, INIT and start-up are.
 *  - The xAPIC ID (bits 31:24) is writable, as the SDM allows on some models;
 *    the x2APIC ID is the vCPU index and read-only. Changing the TSC (WRMSR
 *    IA32_TIME_STAMP_COUNTER) re-checks an armed TSC deadline only at its old
 *    cycle: a forward jump makes it fire late.
 *  - Leaving the enabled state through IA32_APIC_BASE resets the APIC's
 *    registers (the SDM says the state "may be lost"); the IDs are kept.
 *  - Changing the divide configuration or the periodic/one-shot mode of a
 *    running timer continues from the current count with the new setting.
 *  - An illegal vector (0-15) in an ICR write sets "send illegal vector" and
 *    the IPI is not sent; in a self IPI, an LVT entry or a received message it
 *    sets "receive illegal vector"; no IRR bit below 16 is ever set.
 */
#include "devices/lapic.h"

#include <stdlib.h>
#include <string.h>

#include "devices/ioapic.h"
#include "emu/cpumodel.h"

#define LAPIC_VERSION 0x00050015u
#define BUS_HZ        100000000ull /* APIC timer clock when CPUID.15H gives no crystal */

/* SVR, LVT, ICR and ESR bits. */
#define SVR_ENABLE      (1u << 8)
#define LVT_STATUS      (1u << 12)
#define LVT_POLARITY    (1u << 13) /* LINT: active low */
#define LVT_REMOTE_IRR  (1u << 14)
#define LVT_LEVEL       (1u << 15)
#define LVT_MASK        (1u << 16)
#define TIMER_MODE(v)   (((v) >> 17) & 3)
enum { TM_ONESHOT, TM_PERIODIC, TM_DEADLINE };
#define ICR_LOGICAL     (1u << 11)
#define ICR_ASSERT      (1u << 14)
#define ICR_LEVEL       (1u << 15)
#define ESR_SEND_ILLEGAL (1u << 5)
#define ESR_RECV_ILLEGAL (1u << 6)
#define ESR_ILLEGAL_REG  (1u << 7)

/* Bits that exist in each LVT entry (the rest are reserved). */
static const uint32_t lvt_valid[LVT_COUNT] = {
    [LVT_TIMER] = 0x710ff, [LVT_THERMAL] = 0x117ff, [LVT_PERF] = 0x117ff,
    [LVT_LINT0] = 0x1f7ff, [LVT_LINT1] = 0x1f7ff, [LVT_ERROR] = 0x110ff,
};

static bool x2apic_mode(const lapic_t *l) { return (l->cpu->msr_apic_base & APIC_BASE_EXTD) != 0; }
static bool hw_enabled(const lapic_t *l) { return (l->cpu->msr_apic_base & APIC_BASE_EN) != 0; }
static bool sw_enabled(const lapic_t *l) { return (l->svr & SVR_ENABLE) != 0; }
static uint32_t apic_id(const lapic_t *l) { return x2apic_mode(l) ? l->x2id : l->id8; }
static uint64_t apic_page(const lapic_t *l) { return l->cpu->msr_apic_base & ~0xfffull; }

static void bit_set(uint32_t r[8], int v) { r[v >> 5] |= 1u << (v & 31); }
static void bit_clear(uint32_t r[8], int v) { r[v >> 5] &= ~(1u << (v & 31)); }
static bool bit_test(const uint32_t r[8], int v) { return (r[v >> 5] >> (v & 31)) & 1; }

/* The highest vector set in a 256-bit register, or -1. */
static int highest(const uint32_t r[8])
{
    for (int i = 7; i >= 0; i--)
        if (r[i])
            return i * 32 + 31 - __builtin_clz(r[i]);
    return -1;
}

lapic_t *lapic_of(cpu_t *c)
{
    machine_t *m = c->m;
    if (m->intr_ack != lapic_intr_ack)
        return NULL;
    return &((lapic_system_t *)m->intr_opaque)->apic[c->index];
}

/* MOV to CR8 writes c->cr8 without telling us: adopt it when it differs from TPR[7:4]. */
static void sync_cr8(lapic_t *l)
{
    if (l->cpu->cr8 != l->tpr >> 4)
        l->tpr = (uint32_t)(l->cpu->cr8 & 0xf) << 4;
}

/* ---- priority and the INTR output (SDM "Task and Processor Priorities") ---- */

static uint32_t ppr(const lapic_t *l)
{
    int isrv = highest(l->isr);
    uint32_t isrc = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
    return (l->tpr & 0xf0) >= isrc ? l->tpr : isrc;
}

/* P6-style arbitration priority, still readable in xAPIC mode. */
static uint32_t apr(const lapic_t *l)
{
    int irrv = highest(l->irr), isrv = highest(l->isr);
    uint32_t irrc = irrv < 0 ? 0 : (uint32_t)irrv >> 4, isrc = isrv < 0 ? 0 : (uint32_t)isrv >> 4;
    uint32_t tprc = l->tpr >> 4;
    if (tprc >= irrc && tprc > isrc)
        return l->tpr;
    uint32_t a = tprc & isrc;
    return (a > irrc ? a : irrc) << 4;
}

/* The IRR vector the processor would take now, or -1: its priority class
 * must be above the processor-priority class. */
static int deliverable(const lapic_t *l)
{
    int v = highest(l->irr);
    return v >= 0 && ((uint32_t)v >> 4) > (ppr(l) >> 4) ? v : -1;
}

static bool lint_active(const lapic_t *l, int pin)
{
    return l->lint[pin] ^ ((l->lvt[LVT_LINT0 + pin] & LVT_POLARITY) != 0);
}

/* An ExtINT waits: a message, or LINT0 in ExtINT mode with its input active. */
static bool extint_pending(const lapic_t *l)
{
    uint32_t v = l->lvt[LVT_LINT0];
    return l->extint_msg || (!(v & LVT_MASK) && ((v >> 8) & 7) == DM_EXTINT && lint_active(l, 0));
}

/* Recompute the vCPU's INTR input. A globally disabled APIC passes LINT0 through
 * as INTR (SDM "Enabling or Disabling the Local APIC"). */
static void update_intr(lapic_t *l)
{
    bool level = hw_enabled(l) ? deliverable(l) >= 0 || extint_pending(l) : l->lint[0];
    if (level != l->cpu->intr_line || level)
        machine_set_intr(l->sys->m, l->cpu->index, level);
}

/* ---- errors (SDM "Error Handling") ---- */

static void accept_fixed(lapic_t *l, int vec, bool level);

/* Record an error; a newly set bit raises the LVT error interrupt. */
static void apic_error(lapic_t *l, uint32_t bit)
{
    if (l->esr_pending & bit)
        return;
    l->esr_pending |= bit;
    if (!(l->lvt[LVT_ERROR] & LVT_MASK))
        accept_fixed(l, l->lvt[LVT_ERROR] & 0xff, false);
}

/* ---- accepting interrupts ---- */

static void accept_fixed(lapic_t *l, int vec, bool level)
{
    if (vec < 16) {
        apic_error(l, ESR_RECV_ILLEGAL);
        return;
    }
    bit_set(l->irr, vec);
    if (level)
        bit_set(l->tmr, vec);
    else
        bit_clear(l->tmr, vec);
    update_intr(l);
}

static void timer_reset(lapic_t *l);

/* Registers as after power-up; the IDs and the mode (IA32_APIC_BASE) are
 * untouched, as INIT leaves them (SDM "Local APIC State After Power-Up or
 * Reset", "Local APIC State After an INIT Reset"). */
static void lapic_reset(lapic_t *l)
{
    l->tpr = l->ldr = 0;
    l->cpu->cr8 = 0;
    l->dfr = 0xffffffffu;
    l->svr = 0xff;
    l->esr = l->esr_pending = 0;
    l->icr_lo = l->icr_hi = 0;
    for (int i = 0; i < LVT_COUNT; i++)
        l->lvt[i] = LVT_MASK;
    memset(l->irr, 0, sizeof l->irr);
    memset(l->isr, 0, sizeof l->isr);
    memset(l->tmr, 0, sizeof l->tmr);
    l->timer_dcr = 0;
    timer_reset(l);
    l->extint_msg = false;
    if (x2apic_mode(l))
        l->ldr = (l->x2id >> 4) << 16 | 1u << (l->x2id & 15);
}

/* An INIT that took effect (cpu_dev_hooks.init_reset, from cpu_init_signal):
 * the processor waits for a SIPI, the APIC is reset except its IDs and its
 * mode (SDM "x2APIC State Transitions"). An INIT blocked in VMX root operation
 * or turned into a VM exit in non-root operation changes neither. */
static void lapic_init_reset(cpu_t *c)
{
    lapic_t *l = lapic_of(c);
    if (!l)
        return;
    lapic_reset(l);
    update_intr(l);
}

typedef void (*deliver_fn)(lapic_t *l, const apic_msg_t *msg);

static void dl_fixed(lapic_t *l, const apic_msg_t *msg)
{
    if (sw_enabled(l))
        accept_fixed(l, msg->vector, msg->level);
}
static void dl_ignore(lapic_t *l, const apic_msg_t *msg) {}
static void dl_nmi(lapic_t *l, const apic_msg_t *msg) { machine_nmi(l->sys->m, l->cpu->index); }
static void dl_init(lapic_t *l, const apic_msg_t *msg) { cpu_init_signal(l->cpu); }
static void dl_startup(lapic_t *l, const apic_msg_t *msg) { cpu_sipi(l->cpu, msg->vector); }
static void dl_extint(lapic_t *l, const apic_msg_t *msg)
{
    l->extint_msg = true;
    update_intr(l);
}

/* What each delivery mode does at an accepting APIC. SMI and the reserved
 * encodings do nothing: there is no SMM. */
static const deliver_fn deliver_mode[8] = {
    [DM_FIXED] = dl_fixed, [DM_LOWEST] = dl_fixed, [DM_SMI] = dl_ignore, [DM_RSVD3] = dl_ignore,
    [DM_NMI] = dl_nmi, [DM_INIT] = dl_init, [DM_STARTUP] = dl_startup, [DM_EXTINT] = dl_extint,
};

/* ---- destinations (SDM "Determining IPI Destination", "x2APIC Logical Destination Mode") ---- */

static bool match_dest(const lapic_t *l, const apic_msg_t *msg)
{
    bool x2 = x2apic_mode(l);
    uint32_t bcast = x2 && !msg->dest8 ? 0xffffffffu : 0xffu;
    uint32_t dest = msg->dest8 ? msg->dest & 0xff : msg->dest;
    if (dest == bcast)
        return true;
    if (!msg->logical)
        return dest == apic_id(l);
    if (x2) /* cluster ID in bits 31:16, one bit per member in 15:0 */
        return (dest >> 16) == (l->ldr >> 16) && (dest & l->ldr & 0xffff);
    uint8_t ldr = (uint8_t)(l->ldr >> 24);
    if ((l->dfr >> 28) == 0xf) /* flat model: the logical ID is a bit mask */
        return (ldr & dest) != 0;
    /* cluster model: cluster in bits 7:4, members in 3:0 */
    return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf);
}

static bool addressed(const lapic_t *l, const apic_msg_t *msg)
{
    switch (msg->shorthand) {
    case SH_SELF: return l->cpu->index == msg->src;
    case SH_ALL: return true;
    case SH_ALL_BUT_SELF: return l->cpu->index != msg->src;
    default: return match_dest(l, msg);
    }
}

int lapic_deliver(lapic_system_t *s, const apic_msg_t *msg)
{
    lapic_t *set[MAX_CPUS];
    int n = 0;
    for (int i = 0; i < s->n; i++) {
        lapic_t *l = &s->apic[i];
        if (hw_enabled(l) && addressed(l, msg))
            set[n++] = l;
    }
    if (msg->mode == DM_LOWEST && n > 1) {
        lapic_t *best = NULL;
        for (int i = 0; i < n; i++) {
            sync_cr8(set[i]);
            if (!best || set[i]->tpr < best->tpr ||
                (set[i]->tpr == best->tpr && apic_id(set[i]) < apic_id(best)))
                best = set[i];
        }
        set[0] = best;
        n = 1;
    }
    for (int i = 0; i < n; i++)
        deliver_mode[msg->mode & 7](set[i], msg);
    return n;
}

/* ---- local interrupts: the LVT ---- */

/* LVT entry i signals. Timer and error entries have no delivery mode field. */
static void lvt_fire(lapic_t *l, int i)
{
    uint32_t v = l->lvt[i];
    if (v & LVT_MASK)
        return;
    int mode = (i == LVT_TIMER || i == LVT_ERROR) ? DM_FIXED : (v >> 8) & 7;
    bool level = (i == LVT_LINT0 || i == LVT_LINT1) && mode == DM_FIXED && (v & LVT_LEVEL);
    if (mode == DM_FIXED) {
        if (level)
            l->lvt[i] |= LVT_REMOTE_IRR;
        accept_fixed(l, v & 0xff, level);
        return;
    }
    apic_msg_t msg = { .vector = (uint8_t)v, .mode = (uint8_t)mode, .level = level };
    deliver_mode[mode](l, &msg);
}

/* Re-evaluate LINT pin after its input or its LVT entry changed; was: the
 * pin's active state before. */
static void lint_eval(lapic_t *l, int pin, bool was)
{
    uint32_t v = l->lvt[LVT_LINT0 + pin];
    int mode = (v >> 8) & 7;
    bool act = lint_active(l, pin);
    if (mode == DM_EXTINT) {
        update_intr(l);
    } else if (mode == DM_FIXED && (v & LVT_LEVEL)) {
        if (act && !(v & LVT_REMOTE_IRR))
            lvt_fire(l, LVT_LINT0 + pin);
    } else if (act && !was) { /* NMI, SMI and INIT are edge-triggered */
        lvt_fire(l, LVT_LINT0 + pin);
    }
}

void lapic_set_lint(lapic_system_t *s, int cpu, int pin, bool level)
{
    if (cpu < 0 || cpu >= s->n || pin < 0 || pin > 1)
        return;
    lapic_t *l = &s->apic[cpu];
    bool old = l->lint[pin], was = lint_active(l, pin);
    l->lint[pin] = level;
    if (!hw_enabled(l)) { /* no APIC: LINT0 is INTR, LINT1 is NMI */
        if (pin == 0)
            update_intr(l);
        else if (level && !old)
            machine_nmi(s->m, cpu);
        return;
    }
    lint_eval(l, pin, was);
}

void lapics_pic_notify(void *opaque, bool level)
{
    lapic_system_t *s = opaque;
    for (int i = 0; i < s->n; i++)
        lapic_set_lint(s, i, 0, level);
}

/* ---- the timer (SDM "APIC Timer") ---- */

static uint64_t core_hz(const lapic_t *l) { return (uint64_t)l->cpu->model->core_mhz * 1000000u; }
static uint64_t timer_hz(const lapic_t *l)
{
    return l->cpu->model->crystal_hz ? l->cpu->model->crystal_hz : BUS_HZ;
}
static uint64_t tick_at(const lapic_t *l, uint64_t cycle)
{
    return (uint64_t)((unsigned __int128)cycle * timer_hz(l) / core_hz(l));
}
/* The first cycle at which APIC clock tick t has happened. */
static uint64_t cycle_of_tick(const lapic_t *l, uint64_t t)
{
    unsigned __int128 num = (unsigned __int128)t * core_hz(l);
    return (uint64_t)((num + timer_hz(l) - 1) / timer_hz(l));
}
static uint64_t now_tick(const lapic_t *l) { return tick_at(l, l->cpu->cycles); }

/* DCR bits 3,1:0: 000 = 2, 001 = 4, ... 110 = 128, 111 = 1. */
static uint32_t timer_divide(const lapic_t *l)
{
    uint32_t d = ((l->timer_dcr >> 1) & 4) | (l->timer_dcr & 3);
    return d == 7 ? 1 : 2u << d;
}

static int timer_mode(const lapic_t *l)
{
    return TIMER_MODE(l->lvt[LVT_TIMER]);
}

/* The current-count register at APIC tick t. */
static uint32_t timer_count(const lapic_t *l, uint64_t t)
{
    if (!l->timer_running)
        return 0;
    uint64_t k = (t > l->timer_start ? t - l->timer_start : 0) / timer_divide(l);
    if (k < l->timer_count0)
        return (uint32_t)(l->timer_count0 - k);
    if (timer_mode(l) != TM_PERIODIC)
        return 0;
    return l->timer_icr - (uint32_t)((k - l->timer_count0) % l->timer_icr);
}

static void timer_reset(lapic_t *l)
{
    l->timer_icr = 0;
    l->timer_running = false;
    l->tsc_deadline = 0;
    if (l->timer_ev)
        event_cancel(l->sys->m, l->timer_ev);
}

/* The first expiry at or after APIC tick t (a one-shot count has only one). */
static uint64_t expiry_from(const lapic_t *l, uint64_t t)
{
    uint64_t div = timer_divide(l), first = l->timer_start + (uint64_t)l->timer_count0 * div;
    if (t <= first || timer_mode(l) != TM_PERIODIC)
        return first;
    uint64_t period = (uint64_t)l->timer_icr * div;
    return first + (t - first + period - 1) / period * period;
}

/* Arm the event for the next expiry after the current tick. A masked timer
 * counts without an event (its expiries deliver nothing); a one-shot count
 * that ran out meanwhile is over. */
static void timer_schedule(lapic_t *l)
{
    uint64_t now = now_tick(l), next = l->timer_running ? expiry_from(l, now + 1) : 0;
    if (l->timer_running && next <= now)
        l->timer_running = false;
    if (l->timer_running && !(l->lvt[LVT_TIMER] & LVT_MASK))
        event_schedule(l->sys->m, l->timer_ev, cycle_of_tick(l, next));
    else
        event_cancel(l->sys->m, l->timer_ev);
}

/* Count from `count` at the current tick (a load, or a change of divide or mode). */
static void timer_start(lapic_t *l, uint32_t count)
{
    l->timer_running = count != 0;
    l->timer_start = now_tick(l);
    l->timer_count0 = count;
    timer_schedule(l);
}

/* The TSC-deadline timer fires once the vCPU's TSC reaches the deadline. */
static void deadline_arm(lapic_t *l)
{
    const cpu_t *c = l->cpu;
    if (!l->tsc_deadline) {
        event_cancel(l->sys->m, l->timer_ev);
        return;
    }
    if (cpu_tsc(c) >= l->tsc_deadline) {
        l->tsc_deadline = 0;
        event_cancel(l->sys->m, l->timer_ev);
        lvt_fire(l, LVT_TIMER);
        return;
    }
    uint64_t ratio = c->model->tsc_per_cycle;
    uint64_t when = (l->tsc_deadline - c->tsc_offset + ratio - 1) / ratio;
    event_schedule(l->sys->m, l->timer_ev, when > c->cycles ? when : c->cycles);
}

static void timer_event(machine_t *m, void *opaque)
{
    lapic_t *l = opaque;
    if (timer_mode(l) == TM_DEADLINE) {
        deadline_arm(l); /* fires if due; re-arms if the TSC was moved back */
        return;
    }
    if (!l->timer_running)
        return;
    lvt_fire(l, LVT_TIMER);
    if (timer_mode(l) != TM_PERIODIC)
        l->timer_running = false;
    /* Expiries the vCPU has already passed merge into this one: IRR holds one bit. */
    timer_schedule(l);
}

/* The vCPU may have run past an expiry whose event has not fired yet (events
 * fire between blocks): deliver it before the timer's programming changes. */
static void timer_catch_up(lapic_t *l)
{
    if (l->timer_ev->armed && l->timer_ev->when <= l->cpu->cycles) {
        event_cancel(l->sys->m, l->timer_ev);
        timer_event(l->sys->m, l);
    }
}

/* ---- registers ---- */

/* Access flags: readable/writable in xAPIC (1) and x2APIC (2) mode. A register
 * without flags for a mode does not exist in it. */
enum { R1 = 1, W1 = 2, R2 = 4, W2 = 8 };

typedef uint64_t (*reg_rd_fn)(lapic_t *l, int i);
typedef void (*reg_wr_fn)(lapic_t *l, int i, uint64_t v);

static uint64_t rd_id(lapic_t *l, int i) { return x2apic_mode(l) ? l->x2id : (uint32_t)l->id8 << 24; }
static uint64_t rd_ver(lapic_t *l, int i) { return LAPIC_VERSION; }
static uint64_t rd_tpr(lapic_t *l, int i) { return l->tpr; }
static uint64_t rd_apr(lapic_t *l, int i) { return apr(l); }
static uint64_t rd_ppr(lapic_t *l, int i) { return ppr(l); }
static uint64_t rd_zero(lapic_t *l, int i) { return 0; }
static uint64_t rd_ldr(lapic_t *l, int i) { return l->ldr; }
static uint64_t rd_dfr(lapic_t *l, int i) { return l->dfr; }
static uint64_t rd_svr(lapic_t *l, int i) { return l->svr; }
static uint64_t rd_isr(lapic_t *l, int i) { return l->isr[i]; }
static uint64_t rd_tmr(lapic_t *l, int i) { return l->tmr[i]; }
static uint64_t rd_irr(lapic_t *l, int i) { return l->irr[i]; }
static uint64_t rd_esr(lapic_t *l, int i) { return l->esr; }
static uint64_t rd_icr(lapic_t *l, int i)
{
    return x2apic_mode(l) ? (uint64_t)l->icr_hi << 32 | l->icr_lo : l->icr_lo;
}
static uint64_t rd_icr_hi(lapic_t *l, int i) { return l->icr_hi; }
static uint64_t rd_lvt(lapic_t *l, int i) { return l->lvt[i]; }
static uint64_t rd_tmict(lapic_t *l, int i) { return l->timer_icr; }
static uint64_t rd_tmcct(lapic_t *l, int i)
{
    return timer_mode(l) == TM_DEADLINE ? 0 : timer_count(l, now_tick(l));
}
static uint64_t rd_tdcr(lapic_t *l, int i) { return l->timer_dcr; }

static void wr_id(lapic_t *l, int i, uint64_t v) { l->id8 = (uint8_t)(v >> 24); }
static void wr_tpr(lapic_t *l, int i, uint64_t v)
{
    l->tpr = (uint32_t)v & 0xff;
    l->cpu->cr8 = l->tpr >> 4;
    update_intr(l);
}

static void eoi(lapic_t *l)
{
    int v = highest(l->isr);
    if (v < 0)
        return;
    bit_clear(l->isr, v);
    if (bit_test(l->tmr, v)) {
        /* level-triggered: the EOI message to the IOAPICs, and the remote IRR of a level LINT entry */
        if (l->sys->ioapic)
            ioapic_eoi(l->sys->ioapic, (uint8_t)v);
        for (int pin = 0; pin < 2; pin++) {
            uint32_t *e = &l->lvt[LVT_LINT0 + pin];
            if ((*e & LVT_REMOTE_IRR) && (*e & 0xff) == (uint32_t)v) {
                *e &= ~LVT_REMOTE_IRR;
                lint_eval(l, pin, false);
            }
        }
    }
    update_intr(l);
}
static void wr_eoi(lapic_t *l, int i, uint64_t v) { eoi(l); }
static void wr_ldr(lapic_t *l, int i, uint64_t v) { l->ldr = (uint32_t)v & 0xff000000u; }
static void wr_dfr(lapic_t *l, int i, uint64_t v) { l->dfr = (uint32_t)v | 0x0fffffffu; }
static void wr_svr(lapic_t *l, int i, uint64_t v)
{
    l->svr = (uint32_t)v & 0x3ff;
    if (!sw_enabled(l)) { /* software disable masks every LVT entry (SDM "Spurious-Interrupt Vector Register") */
        timer_catch_up(l);
        for (int k = 0; k < LVT_COUNT; k++)
            l->lvt[k] |= LVT_MASK;
        if (timer_mode(l) != TM_DEADLINE)
            timer_schedule(l);
    }
    update_intr(l);
}
static void wr_esr(lapic_t *l, int i, uint64_t v)
{
    l->esr = l->esr_pending;
    l->esr_pending = 0;
}

static void send_ipi(lapic_t *l)
{
    uint32_t lo = l->icr_lo;
    apic_msg_t msg = {
        .vector = (uint8_t)lo, .mode = (lo >> 8) & 7, .shorthand = (lo >> 18) & 3,
        .logical = (lo & ICR_LOGICAL) != 0, .level = (lo & ICR_LEVEL) != 0,
        .dest = x2apic_mode(l) ? l->icr_hi : l->icr_hi >> 24, .dest8 = !x2apic_mode(l),
        .src = l->cpu->index,
    };
    if (msg.mode == DM_RSVD3 || msg.mode == DM_EXTINT) /* reserved encodings in the ICR */
        return;
    if ((msg.mode == DM_FIXED || msg.mode == DM_LOWEST) && msg.vector < 16) {
        apic_error(l, ESR_SEND_ILLEGAL);
        return;
    }
    /* INIT level de-assert only synchronised arbitration IDs on older parts:
     * no effect on Pentium 4 and later. */
    if (msg.mode == DM_INIT && msg.level && !(lo & ICR_ASSERT))
        return;
    lapic_deliver(l->sys, &msg);
}
static void wr_icr(lapic_t *l, int i, uint64_t v)
{
    l->icr_lo = (uint32_t)v & 0xccfff & ~LVT_STATUS;
    if (x2apic_mode(l))
        l->icr_hi = (uint32_t)(v >> 32);
    send_ipi(l);
}
static void wr_icr_hi(lapic_t *l, int i, uint64_t v) { l->icr_hi = (uint32_t)v & 0xff000000u; }

static void wr_lvt(lapic_t *l, int i, uint64_t v)
{
    uint32_t keep = LVT_STATUS | LVT_REMOTE_IRR, old = l->lvt[i];
    uint32_t nv = ((uint32_t)v & lvt_valid[i] & ~keep) | (old & keep);
    if (!sw_enabled(l))
        nv |= LVT_MASK;
    if (i == LVT_TIMER) {
        if (!cpu_has(l->cpu, FEAT_TSC_DEADLINE))
            nv &= ~(1u << 18);
        if (TIMER_MODE(nv) == 3) /* reserved mode: keep the current one */
            nv = (nv & ~(3u << 17)) | (old & (3u << 17));
    }
    bool was = i == LVT_LINT0 || i == LVT_LINT1 ? lint_active(l, i - LVT_LINT0) : false;
    if (i == LVT_TIMER)
        timer_catch_up(l);
    uint32_t cur = i == LVT_TIMER ? timer_count(l, now_tick(l)) : 0;
    l->lvt[i] = nv;
    if (i == LVT_TIMER && TIMER_MODE(nv) != TIMER_MODE(old) &&
        (TIMER_MODE(nv) == TM_DEADLINE || TIMER_MODE(old) == TM_DEADLINE)) {
        timer_reset(l); /* switching to or from TSC-deadline mode disarms the timer */
    } else if (i == LVT_TIMER && TIMER_MODE(nv) != TIMER_MODE(old) && l->timer_running) {
        timer_start(l, cur); /* one-shot <-> periodic: go on from the current count */
    } else if (i == LVT_TIMER && TIMER_MODE(nv) != TM_DEADLINE) {
        timer_schedule(l); /* the mask may have changed */
    }
    if (i == LVT_LINT0 || i == LVT_LINT1)
        lint_eval(l, i - LVT_LINT0, was);
}
static void wr_tmict(lapic_t *l, int i, uint64_t v)
{
    if (timer_mode(l) == TM_DEADLINE) /* ignored in TSC-deadline mode */
        return;
    timer_catch_up(l);
    l->timer_icr = (uint32_t)v;
    timer_start(l, l->timer_icr);
}
static void wr_tdcr(lapic_t *l, int i, uint64_t v)
{
    timer_catch_up(l);
    uint32_t cur = timer_count(l, now_tick(l));
    l->timer_dcr = (uint32_t)v & 0xb;
    if (l->timer_running && timer_mode(l) != TM_DEADLINE)
        timer_start(l, cur);
}
static void wr_self(lapic_t *l, int i, uint64_t v)
{
    if (sw_enabled(l)) /* as any fixed interrupt: not accepted while software-disabled */
        accept_fixed(l, (int)(v & 0xff), false);
}

/* REG(name, offset, count, access, x2valid, rd, wr): the register map (SDM
 * "Local APIC Register Address Map", "x2APIC Register Address Space"); the
 * x2APIC MSR is 0x800 + offset / 16. x2valid: the bits a WRMSR may set (the
 * rest are reserved: #GP). */
#define LAPIC_REGS(REG)                                                          \
    REG(ID,     0x020, 1, R1 | W1 | R2,           0,                     id,     id)     \
    REG(VER,    0x030, 1, R1 | R2,                0,                     ver,    none)   \
    REG(TPR,    0x080, 1, R1 | W1 | R2 | W2,      0xff,                  tpr,    tpr)    \
    REG(APR,    0x090, 1, R1,                     0,                     apr,    none)   \
    REG(PPR,    0x0a0, 1, R1 | R2,                0,                     ppr,    none)   \
    REG(EOI,    0x0b0, 1, R1 | W1 | W2,           0,                     zero,   eoi)    \
    REG(RRD,    0x0c0, 1, R1,                     0,                     zero,   none)   \
    REG(LDR,    0x0d0, 1, R1 | W1 | R2,           0,                     ldr,    ldr)    \
    REG(DFR,    0x0e0, 1, R1 | W1,                0,                     dfr,    dfr)    \
    REG(SVR,    0x0f0, 1, R1 | W1 | R2 | W2,      0x3ff,                 svr,    svr)    \
    REG(ISR,    0x100, 8, R1 | R2,                0,                     isr,    none)   \
    REG(TMR,    0x180, 8, R1 | R2,                0,                     tmr,    none)   \
    REG(IRR,    0x200, 8, R1 | R2,                0,                     irr,    none)   \
    REG(ESR,    0x280, 1, R1 | W1 | R2 | W2,      0,                     esr,    esr)    \
    REG(ICR,    0x300, 1, R1 | W1 | R2 | W2,      0xffffffff000ccfffull, icr,    icr)    \
    REG(ICR_HI, 0x310, 1, R1 | W1,                0,                     icr_hi, icr_hi) \
    REG(LVT,    0x320, 6, R1 | W1 | R2 | W2,      0x1f7ff,               lvt,    lvt)    \
    REG(TMICT,  0x380, 1, R1 | W1 | R2 | W2,      0xffffffffu,           tmict,  tmict)  \
    REG(TMCCT,  0x390, 1, R1 | R2,                0,                     tmcct,  none)   \
    REG(TDCR,   0x3e0, 1, R1 | W1 | R2 | W2,      0xb,                   tdcr,   tdcr)   \
    REG(SELF,   0x3f0, 1, W2,                     0xff,                  zero,   self)

#define rd_none NULL
#define wr_none NULL
typedef struct lapic_reg {
    const char *name;
    uint16_t off;
    uint8_t count, access;
    uint64_t x2valid;
    reg_rd_fn rd;
    reg_wr_fn wr;
} lapic_reg_t;

static const lapic_reg_t regs[] = {
#define REG(name, off, count, access, x2valid, rd, wr) { #name, off, count, access, x2valid, rd_##rd, wr_##wr },
    LAPIC_REGS(REG)
#undef REG
};
#undef rd_none
#undef wr_none

/* The register at byte offset off (16-byte aligned) and its index within an array. */
static const lapic_reg_t *reg_find(uint32_t off, int *idx)
{
    for (size_t k = 0; k < sizeof regs / sizeof regs[0]; k++)
        if (off >= regs[k].off && off < regs[k].off + 16u * regs[k].count) {
            *idx = (int)(off - regs[k].off) / 16;
            return &regs[k];
        }
    return NULL;
}

/* LVT entries have per-entry valid bits; the table row gives the widest. */
static uint64_t x2_valid(const lapic_reg_t *r, int idx)
{
    return r->wr == wr_lvt ? lvt_valid[idx] : r->x2valid;
}

/* ---- xAPIC: the MMIO page ---- */

/* The APIC that decodes physical address pa for the running vCPU, or NULL:
 * only a globally enabled APIC in xAPIC mode decodes its page. */
static lapic_t *mmio_apic(lapic_window_t *w, uint64_t addr)
{
    machine_t *m = w->sys->m;
    if (!m->cur)
        return NULL;
    lapic_t *l = &w->sys->apic[m->cur->index];
    if (!hw_enabled(l) || x2apic_mode(l) || apic_page(l) != w->base)
        return NULL;
    sync_cr8(l);
    return l;
}

static uint64_t all_ones(int size) { return size == 8 ? ~0ull : (1ull << (size * 8)) - 1; }

static uint64_t lapic_mmio_read(void *opaque, uint64_t addr, int size)
{
    lapic_window_t *w = opaque;
    lapic_t *l = mmio_apic(w, addr);
    if (!l)
        return all_ones(size);
    int idx;
    const lapic_reg_t *r = reg_find((uint32_t)addr & 0xff0, &idx);
    if (!r || !(r->access & (R1 | W1))) {
        apic_error(l, ESR_ILLEGAL_REG);
        return 0;
    }
    /* Each register is the first dword of its 16 bytes; narrower loads see part of it. */
    unsigned byte = addr & 15;
    uint64_t v = byte < 4 && (r->access & R1) ? (uint32_t)r->rd(l, idx) >> (8 * byte) : 0;
    return size >= 8 ? v : v & all_ones(size);
}

static void lapic_mmio_write(void *opaque, uint64_t addr, int size, uint64_t val)
{
    lapic_window_t *w = opaque;
    lapic_t *l = mmio_apic(w, addr);
    if (!l)
        return;
    int idx;
    const lapic_reg_t *r = reg_find((uint32_t)addr & 0xff0, &idx);
    if (!r || !(r->access & (R1 | W1))) {
        apic_error(l, ESR_ILLEGAL_REG);
        return;
    }
    /* Only aligned 32-bit (or wider) stores reach a register: narrower
     * ones are model specific (SDM "Local APIC Register Address Map"); we drop them. */
    if ((addr & 15) || size < 4 || !(r->access & W1))
        return;
    r->wr(l, idx, (uint32_t)val);
}

/* Make sure an MMIO region decodes page base: reuse one no APIC uses any more,
 * or register a new one. The machine's bus has no way to remove a region, so
 * an unused one is moved (its public base field rewritten). */
static void window_for(lapic_system_t *s, uint64_t base)
{
    for (int k = 0; k < s->nwin; k++)
        if (s->win[k].base == base)
            return;
    for (int k = 0; k < s->nwin; k++) {
        bool used = false;
        for (int i = 0; i < s->n; i++)
            used |= hw_enabled(&s->apic[i]) && !x2apic_mode(&s->apic[i]) && apic_page(&s->apic[i]) == s->win[k].base;
        if (!used) {
            s->win[k].base = base;
            s->win[k].region->base = base;
            return;
        }
    }
    machine_t *m = s->m;
    if (s->nwin == MAX_CPUS || m->nmmio == MAX_MMIO)
        return; /* the machine's MMIO table is full: this page stays undecoded */
    lapic_window_t *w = &s->win[s->nwin++];
    w->sys = s;
    w->base = base;
    mmio_register(m, base, 0x1000, lapic_mmio_read, lapic_mmio_write, w);
    w->region = &m->mmio[m->nmmio - 1];
}

/* ---- MSRs ---- */

/* IA32_APIC_BASE (SDM "Local APIC Status and Location", "x2APIC State
 * Transitions"): EN/EXTD 00 disabled, 10 xAPIC, 11 x2APIC, 01 invalid.
 * Allowed: disabled -> xAPIC, xAPIC -> x2APIC, any -> disabled. */
static bool apic_base_write(lapic_t *l, uint64_t v)
{
    cpu_t *c = l->cpu;
    uint64_t ok = APIC_BASE_BSP | APIC_BASE_EN | (cpu_has(c, FEAT_X2APIC) ? APIC_BASE_EXTD : 0) |
                  (((1ull << c->model->maxphyaddr) - 1) & ~0xfffull);
    if (v & ~ok)
        return false;
    uint64_t old = c->msr_apic_base;
    bool en = v & APIC_BASE_EN, extd = v & APIC_BASE_EXTD;
    bool was_en = old & APIC_BASE_EN, was_x2 = old & APIC_BASE_EXTD;
    if (extd && !en)
        return false;
    if (was_x2 && en && !extd) /* x2APIC -> xAPIC must go through disabled */
        return false;
    if (!was_en && extd) /* disabled -> x2APIC must go through xAPIC */
        return false;
    c->msr_apic_base = (v & ~APIC_BASE_BSP) | (old & APIC_BASE_BSP); /* BSP is set by hardware */
    if (was_en && !en) {
        lapic_reset(l);
    } else if (extd && !was_x2) {
        /* x2APIC: the logical ID is derived from the x2APIC ID (SDM "Deriving Logical x2APIC ID from the Local x2APIC ID") */
        l->ldr = (l->x2id >> 4) << 16 | 1u << (l->x2id & 15);
        l->icr_hi = 0;
    }
    if (en && !extd)
        window_for(l->sys, apic_page(l));
    update_intr(l);
    return true;
}

bool lapic_msr_read(cpu_t *c, uint32_t msr, uint64_t *val, bool *gp)
{
    lapic_t *l = lapic_of(c);
    if (!l)
        return false;
    *gp = false;
    *val = 0;
    sync_cr8(l);
    if (msr == MSR_IA32_APIC_BASE) {
        *val = c->msr_apic_base;
    } else if (msr == MSR_IA32_TSC_DEADLINE) {
        *gp = !cpu_has(c, FEAT_TSC_DEADLINE);
        /* reads zero outside TSC-deadline mode */
        *val = timer_mode(l) == TM_DEADLINE ? l->tsc_deadline : 0;
    } else if (msr >= MSR_X2APIC_FIRST && msr <= MSR_X2APIC_LAST) {
        int idx;
        const lapic_reg_t *r = reg_find((msr & 0xff) << 4, &idx);
        if (!hw_enabled(l) || !x2apic_mode(l) || !r || !(r->access & R2))
            *gp = true;
        else
            *val = r->rd(l, idx);
    } else {
        return false;
    }
    return true;
}

bool lapic_msr_write(cpu_t *c, uint32_t msr, uint64_t val, bool *gp)
{
    lapic_t *l = lapic_of(c);
    if (!l)
        return false;
    *gp = false;
    sync_cr8(l);
    if (msr == MSR_IA32_APIC_BASE) {
        *gp = !apic_base_write(l, val);
    } else if (msr == MSR_IA32_TSC_DEADLINE) {
        if (!cpu_has(c, FEAT_TSC_DEADLINE)) {
            *gp = true;
        } else if (timer_mode(l) == TM_DEADLINE) { /* ignored in the other modes */
            timer_catch_up(l);
            l->tsc_deadline = val;
            deadline_arm(l);
        }
    } else if (msr >= MSR_X2APIC_FIRST && msr <= MSR_X2APIC_LAST) {
        int idx;
        const lapic_reg_t *r = reg_find((msr & 0xff) << 4, &idx);
        if (!hw_enabled(l) || !x2apic_mode(l) || !r || !(r->access & W2) || (val & ~x2_valid(r, idx)))
            *gp = true;
        else
            r->wr(l, idx, val);
    } else {
        return false;
    }
    return true;
}

void lapic_cr8_written(cpu_t *c)
{
    lapic_t *l = lapic_of(c);
    if (!l)
        return;
    sync_cr8(l);
    update_intr(l);
}

/* cpu_dev_hooks_t.eoi: the CPU writes 0 to EOI (VMX posted-interrupt processing) */
static void lapic_cpu_eoi(cpu_t *c)
{
    lapic_t *l = lapic_of(c);
    if (l)
        eoi(l);
}

/* ---- the acknowledge cycle ---- */

int lapic_intr_ack(void *opaque, int cpu)
{
    lapic_system_t *s = opaque;
    lapic_t *l = &s->apic[cpu];
    int vec;
    sync_cr8(l);
    if (!hw_enabled(l)) {
        vec = s->pic ? pic_ack(s->pic) : 0xff;
    } else if ((vec = deliverable(l)) >= 0) {
        bit_clear(l->irr, vec);
        bit_set(l->isr, vec);
    } else if (extint_pending(l)) {
        l->extint_msg = false;
        vec = s->pic ? pic_ack(s->pic) : (int)(l->svr & 0xff);
    } else {
        /* the request went away (TPR raised) before the acknowledge: spurious vector */
        vec = l->svr & 0xff;
    }
    update_intr(l);
    return vec;
}

/* ---- attach ---- */

static const cpu_dev_hooks_t lapic_cpu_hooks = {
    .msr_read = lapic_msr_read,
    .msr_write = lapic_msr_write,
    .cr8_written = lapic_cr8_written,
    .init_reset = lapic_init_reset,
    .eoi = lapic_cpu_eoi,
};

lapic_system_t *lapics_attach(machine_t *m, pic_t *pic)
{
    lapic_system_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->m = m;
    s->pic = pic;
    s->n = m->ncpus;
    for (int i = 0; i < s->n; i++) {
        lapic_t *l = &s->apic[i];
        l->sys = s;
        l->cpu = m->cpu[i];
        l->id8 = (uint8_t)i;
        l->x2id = (uint32_t)i;
        l->timer_ev = event_new(m, timer_event, l);
        lapic_reset(l);
    }
    m->intr_ack = lapic_intr_ack;
    m->intr_opaque = s;
    m->cpu_dev = &lapic_cpu_hooks;
    window_for(s, LAPIC_DEFAULT_BASE);
    for (int i = 0; i < s->n; i++)
        if (hw_enabled(&s->apic[i]) && !x2apic_mode(&s->apic[i]))
            window_for(s, apic_page(&s->apic[i]));
    return s;
}

void lapics_virtual_wire(lapic_system_t *s)
{
    lapic_t *l = &s->apic[0];
    wr_svr(l, 0, SVR_ENABLE | 0xff);
    wr_lvt(l, LVT_LINT0, (uint32_t)DM_EXTINT << 8);
    wr_lvt(l, LVT_LINT1, (uint32_t)DM_NMI << 8);
}

void lapics_free(lapic_system_t *s)
{
    free(s);
}
