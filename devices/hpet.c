/* hpet.c - IA-PC HPET (IA-PC HPET Specification 1.0a), one timer block.
 *
 * The main counter is a function of guest time: while ENABLE_CNF is set it
 * reads tick + offset, where tick = cycles * HPET_HZ / core clock, so reads and
 * interrupts are exact and deterministic; while halted it holds halted_cnt and
 * only then accepts writes. Comparator matches are the counter stepping onto a
 * comparator's value; they are processed lazily (on every register access and
 * from one event scheduled at the earliest pending match), all ticks in
 * (done, now] at once, so a late or skipped-over match is never lost and never
 * costs a loop per period.
 *
 * Choices the specification leaves to the implementation:
 *  - Timer 0 is periodic-capable, timers 1 and 2 are one-shot only (the
 *    minimum the spec requires, as on Intel chipsets); all three are 64-bit
 *    capable and can be forced to 32 bits with Tn_32MODE_CNF.
 *  - Route capabilities: IOAPIC inputs 20-23 for every timer, plus 11 for
 *    timer 2 (as on Intel chipsets). A route outside the capability is not
 *    taken, so it does not read back (spec: Tn_INT_ROUTE_CNF); at reset each
 *    timer is routed to its lowest capable input, never to input 0.
 *  - Comparators reset to all ones, so nothing matches before software
 *    writes one (short of 2^64 ticks).
 *  - No FSB delivery: Tn_FSB_INT_DEL_CAP is 0, Tn_FSB_EN_CNF reads 0 and the
 *    Tn_FSB_INT_ROUTE registers read 0 and ignore writes.
 *  - Writing a periodic comparator without Tn_VAL_SET_CNF sets only the
 *    period; with it (or in one-shot mode) it sets the comparator as well.
 *    Tn_VAL_SET_CNF clears itself after each comparator write, so a 64-bit
 *    value written as two halves needs it set before each half, as Intel's
 *    chipset documentation prescribes.
 *  - A one-shot timer in 32-bit mode also fires when the counter's low 32
 *    bits wrap to 0 (spec, non-periodic mode with a 32-bit comparator).
 *  - Level-triggered timers set Tn_INT_STS on every match, even with
 *    Tn_INT_ENB_CNF clear (spec: "the timer will still operate and generate
 *    appropriate status bits"); the line is high while the status bit, the
 *    timer's enable and ENABLE_CNF are all set. Edge-triggered timers pulse
 *    their line and leave the status bit alone.
 */
#include "devices/hpet.h"

#include <stdlib.h>

#include "emu/cpumodel.h"

enum { GEN_ENABLE = 1u << 0, GEN_LEG_RT = 1u << 1 };
enum {
    TN_INT_TYPE = 1u << 1,  /* 1: level-triggered */
    TN_INT_ENB = 1u << 2,
    TN_TYPE = 1u << 3,      /* 1: periodic */
    TN_PER_INT_CAP = 1u << 4,
    TN_SIZE_CAP = 1u << 5,  /* 1: 64-bit comparator */
    TN_VAL_SET = 1u << 6,
    TN_32MODE = 1u << 8,
    TN_ROUTE_SHIFT = 9,
    TN_ROUTE = 0x1fu << TN_ROUTE_SHIFT,
};

/* GCAP_ID: REV_ID 1, NUM_TIM_CAP (timers - 1), COUNT_SIZE_CAP (64-bit),
 * LEG_RT_CAP, vendor Intel, COUNTER_CLK_PERIOD in femtoseconds. */
#define GCAP_ID (1ull | (uint64_t)(HPET_TIMERS - 1) << 8 | 1ull << 13 | 1ull << 15 | 0x8086ull << 16 | \
                 (uint64_t)HPET_PERIOD_FS << 32)

static const struct timer_caps {
    bool periodic;
    uint32_t routes; /* Tn_INT_ROUTE_CAP: bit n = IOAPIC input n */
} caps[HPET_TIMERS] = {
    { true, 0x00f00000u },
    { false, 0x00f00000u },
    { false, 0x00f00800u },
};

static uint64_t core_hz(const hpet_t *h)
{
    return (uint64_t)h->m->cpu[0]->model->core_mhz * 1000000u;
}

static uint64_t now_tick(const hpet_t *h)
{
    return (uint64_t)((unsigned __int128)machine_now(h->m) * HPET_HZ / core_hz(h));
}

/* The first cycle at which tick t has happened, or UINT64_MAX if beyond. */
static uint64_t cycle_of_tick(const hpet_t *h, uint64_t t)
{
    unsigned __int128 c = ((unsigned __int128)t * core_hz(h) + HPET_HZ - 1) / HPET_HZ;
    return c > UINT64_MAX ? UINT64_MAX : (uint64_t)c;
}

static bool enabled(const hpet_t *h) { return h->config & GEN_ENABLE; }
static bool periodic(const hpet_timer_t *t) { return t->config & TN_TYPE; }
static uint64_t width(const hpet_timer_t *t) { return t->config & TN_32MODE ? 0xffffffffu : UINT64_MAX; }
static uint64_t merge(uint64_t old, uint64_t v, uint64_t wmask) { return (old & ~wmask) | (v & wmask); }

static int line_of(const hpet_t *h, int i)
{
    if ((h->config & GEN_LEG_RT) && i < 2)
        return i == 0 ? HPET_LEGACY_LINE_T0 : HPET_LEGACY_LINE_T1;
    return (int)((h->t[i].config & TN_ROUTE) >> TN_ROUTE_SHIFT);
}

/* Ticks after tick `from` until the counter's bits under `mask` next step onto
 * v: at most mask + 1; 0 when that is 2^64 ticks away (never, in practice). */
static uint64_t ticks_to(const hpet_t *h, uint64_t from, uint64_t v, uint64_t mask)
{
    uint64_t d = (v - (from + h->offset)) & mask;
    return d ? d : mask + 1;
}

/* Ticks after `from` until timer i's next match (0: none). */
static uint64_t next_match(const hpet_t *h, int i, uint64_t from)
{
    const hpet_timer_t *t = &h->t[i];
    uint64_t d = ticks_to(h, from, t->cmp, width(t));
    if (!periodic(t) && (t->config & TN_32MODE)) {
        uint64_t wrap = ticks_to(h, from, 0, 0xffffffffu);
        if (!d || wrap < d)
            d = wrap;
    }
    return d;
}

static void drive(hpet_t *h, int line, bool level)
{
    if (h->irq)
        h->irq(h->irq_opaque, line, level);
}

/* Drive every line to its level: high while a level-triggered, enabled timer
 * routed there has its status bit set. */
static void update_lines(hpet_t *h)
{
    uint32_t want = 0;
    for (int i = 0; enabled(h) && i < HPET_TIMERS; i++) {
        uint64_t c = h->t[i].config;
        if ((c & TN_INT_TYPE) && (c & TN_INT_ENB) && (h->isr >> i & 1))
            want |= 1u << line_of(h, i);
    }
    uint32_t diff = want ^ h->lines;
    h->lines = want;
    for (int l = 0; l < 32; l++)
        if (diff >> l & 1)
            drive(h, l, want >> l & 1);
}

static void timer_fired(hpet_t *h, int i)
{
    hpet_timer_t *t = &h->t[i];
    if (t->config & TN_INT_TYPE) {
        h->isr |= 1ull << i;
    } else if (t->config & TN_INT_ENB) {
        int l = line_of(h, i);
        if (!(h->lines >> l & 1)) { /* a line held high shows no edge */
            drive(h, l, true);
            drive(h, l, false);
        }
    }
}

/* Process the matches of ticks (done, now]: one interrupt per timer however
 * many periods passed, the periodic accumulators advanced past now. Returns
 * whether any timer matched (the pending event is then stale). */
static bool sync(hpet_t *h)
{
    uint64_t now = now_tick(h);
    if (!enabled(h) || now <= h->done)
        return false;
    uint64_t span = now - h->done;
    bool fired = false;
    for (int i = 0; i < HPET_TIMERS; i++) {
        hpet_timer_t *t = &h->t[i];
        uint64_t d = next_match(h, i, h->done);
        if (!d || d > span)
            continue;
        /* periodic: the accumulator advances by the period once per match
         * (a zero period leaves it, so the next match is a counter wrap away) */
        uint64_t step = t->period & width(t);
        if (periodic(t) && step)
            t->cmp = (t->cmp + (1 + (span - d) / step) * step) & width(t);
        timer_fired(h, i);
        fired = true;
    }
    h->done = now;
    update_lines(h);
    return fired;
}

static void schedule(hpet_t *h)
{
    uint64_t best = 0;
    for (int i = 0; enabled(h) && i < HPET_TIMERS; i++) {
        uint64_t d = next_match(h, i, h->done);
        if (d && (!best || d < best))
            best = d;
    }
    if (!best || h->done + best < h->done)
        event_cancel(h->m, h->event);
    else
        event_schedule(h->m, h->event, cycle_of_tick(h, h->done + best));
}

static void hpet_event(machine_t *m, void *opaque)
{
    hpet_t *h = opaque;
    sync(h);
    schedule(h);
}

/* ---- registers (the caller has synced; writers reschedule afterwards) ---- */

static uint64_t rd_gcap(hpet_t *h, int i) { return GCAP_ID; }
static uint64_t rd_gconf(hpet_t *h, int i) { return h->config; }
static uint64_t rd_isr(hpet_t *h, int i) { return h->isr; }

static uint64_t rd_count(hpet_t *h, int i)
{
    return enabled(h) ? now_tick(h) + h->offset : h->halted_cnt;
}

static uint64_t rd_tconf(hpet_t *h, int i)
{
    return h->t[i].config | (caps[i].periodic ? TN_PER_INT_CAP : 0) | TN_SIZE_CAP |
           (uint64_t)caps[i].routes << 32;
}

static uint64_t rd_tcmp(hpet_t *h, int i) { return h->t[i].cmp; }

static void wr_gconf(hpet_t *h, int i, uint64_t v, uint64_t wmask)
{
    bool was = enabled(h);
    h->config = merge(h->config, v, wmask) & (GEN_ENABLE | GEN_LEG_RT);
    uint64_t now = now_tick(h);
    if (!was && enabled(h)) {
        h->offset = h->halted_cnt - now;
        h->done = now;
    } else if (was && !enabled(h)) {
        h->halted_cnt = now + h->offset;
    }
    update_lines(h);
}

static void wr_isr(hpet_t *h, int i, uint64_t v, uint64_t wmask)
{
    h->isr &= ~(v & wmask); /* write 1 to clear */
    update_lines(h);
}

static void wr_count(hpet_t *h, int i, uint64_t v, uint64_t wmask)
{
    if (!enabled(h)) /* the spec allows writes only while halted; others are dropped */
        h->halted_cnt = merge(h->halted_cnt, v, wmask);
}

static void wr_tconf(hpet_t *h, int i, uint64_t v, uint64_t wmask)
{
    hpet_timer_t *t = &h->t[i];
    uint64_t writable = TN_INT_TYPE | TN_INT_ENB | TN_VAL_SET | TN_32MODE | TN_ROUTE;
    if (caps[i].periodic)
        writable |= TN_TYPE;
    uint64_t c = merge(t->config, v, wmask & writable);
    if (!(caps[i].routes >> ((c & TN_ROUTE) >> TN_ROUTE_SHIFT) & 1))
        c = (c & ~(uint64_t)TN_ROUTE) | (t->config & TN_ROUTE);
    t->config = c;
    t->cmp &= width(t); /* entering 32-bit mode drops the comparator's upper half */
    t->period &= width(t);
    update_lines(h);
}

static void wr_tcmp(hpet_t *h, int i, uint64_t v, uint64_t wmask)
{
    hpet_timer_t *t = &h->t[i];
    if (!(wmask & width(t)))
        return; /* the upper half of a 32-bit comparator does not exist */
    if (!periodic(t) || (t->config & TN_VAL_SET))
        t->cmp = merge(t->cmp, v, wmask) & width(t);
    t->period = merge(t->period, v, wmask) & width(t);
    t->config &= ~(uint64_t)TN_VAL_SET;
}

/* R(name, offset, per-timer, read, write): the registers of the block; per-timer
 * offsets are those of timer 0 (timer n adds 0x20 * n). Anything else (reserved
 * space, Tn_FSB_INT_ROUTE) reads 0 and ignores writes. */
#define HPET_REGS(R)                                   \
    R(GCAP_ID, 0x000, false, rd_gcap, NULL)            \
    R(GEN_CONF, 0x010, false, rd_gconf, wr_gconf)      \
    R(GINTR_STA, 0x020, false, rd_isr, wr_isr)         \
    R(MAIN_CNT, 0x0f0, false, rd_count, wr_count)      \
    R(TN_CONF_CAP, 0x100, true, rd_tconf, wr_tconf)    \
    R(TN_COMPARATOR, 0x108, true, rd_tcmp, wr_tcmp)

static const struct hpet_reg {
    uint16_t off;
    bool per_timer;
    uint64_t (*rd)(hpet_t *h, int timer);
    void (*wr)(hpet_t *h, int timer, uint64_t v, uint64_t wmask);
} regs[] = {
#define R(name, off, per_timer, rd, wr) { off, per_timer, rd, wr },
    HPET_REGS(R)
#undef R
};

/* The register holding 64-bit aligned offset `off`, and its timer. */
static const struct hpet_reg *find_reg(uint64_t off, int *timer)
{
    *timer = 0;
    if (off >= 0x100) {
        *timer = (int)((off - 0x100) / 0x20);
        off = 0x100 + (off - 0x100) % 0x20;
        if (*timer >= HPET_TIMERS)
            return NULL;
    }
    for (size_t k = 0; k < sizeof regs / sizeof regs[0]; k++)
        if (regs[k].off == off && regs[k].per_timer == (off >= 0x100))
            return &regs[k];
    return NULL;
}

static uint64_t size_mask(int size) { return size >= 8 ? UINT64_MAX : (1ull << (8 * size)) - 1; }

/* The spec defines 32- and 64-bit accesses; narrower ones act on their bytes. */
static uint64_t hpet_read(void *opaque, uint64_t addr, int size)
{
    hpet_t *h = opaque;
    int timer;
    const struct hpet_reg *r = find_reg(addr & ~7ull, &timer);
    if (!r)
        return 0;
    if (sync(h))
        schedule(h);
    return (r->rd(h, timer) >> 8 * (addr & 7)) & size_mask(size);
}

static void hpet_write(void *opaque, uint64_t addr, int size, uint64_t val)
{
    hpet_t *h = opaque;
    int timer;
    const struct hpet_reg *r = find_reg(addr & ~7ull, &timer);
    if (!r || !r->wr)
        return;
    int shift = 8 * (addr & 7);
    sync(h);
    r->wr(h, timer, (val & size_mask(size)) << shift, size_mask(size) << shift);
    schedule(h);
}

bool hpet_legacy_mode(const hpet_t *h)
{
    return h->config & GEN_LEG_RT;
}

hpet_t *hpet_attach(machine_t *m, uint64_t base, hpet_irq_fn irq, void *opaque)
{
    hpet_t *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->event = event_new(m, hpet_event, h);
    if (!h->event) {
        free(h);
        return NULL;
    }
    h->m = m;
    h->irq = irq;
    h->irq_opaque = opaque;
    for (int i = 0; i < HPET_TIMERS; i++) {
        /* reset: comparators all ones, so nothing matches before software writes one */
        h->t[i].cmp = UINT64_MAX;
        h->t[i].config = (uint64_t)__builtin_ctz(caps[i].routes) << TN_ROUTE_SHIFT;
    }
    mmio_register(m, base, HPET_SIZE, hpet_read, hpet_write, h);
    return h;
}

void hpet_free(hpet_t *h)
{
    free(h);
}
