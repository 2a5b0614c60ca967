/* pit8254.c - 8254 programmable interval timer (Intel 8254 data sheet).
 *
 * The PIT's 1.193182 MHz clock is derived from the cycle counter, so the
 * counters and channel 0's interrupts are exact functions of guest time:
 * a counter is represented by the PIT tick at which its count started, and its
 * value and OUT level are computed from the ticks elapsed since. Channel 0's
 * OUT drives IRQ 0 through an event scheduled at its next rising edge.
 * Port 0x61 carries channel 2's gate (bit 0), the speaker enable (bit 1), the
 * refresh-request toggle (bit 4, every 15.09 us) and channel 2's OUT (bit 5).
 */
#include "devices/pit8254.h"

#include <stdlib.h>

#include "emu/cpumodel.h"

static uint64_t core_hz(const machine_t *m)
{
    return (uint64_t)m->cpu[0]->model->core_mhz * 1000000u;
}

uint64_t pit_ticks_at(const machine_t *m, uint64_t cycle)
{
    return (uint64_t)((unsigned __int128)cycle * PIT_HZ / core_hz(m));
}

/* The first cycle at which tick t has happened. */
static uint64_t cycle_of_tick(const machine_t *m, uint64_t t)
{
    unsigned __int128 num = (unsigned __int128)t * core_hz(m);
    return (uint64_t)((num + PIT_HZ - 1) / PIT_HZ);
}

static uint64_t now_tick(pit_t *pit)
{
    return pit_ticks_at(pit->m, machine_now(pit->m));
}

static void sync(pit_channel_t *c, uint64_t now);

/* Ticks the channel has counted in its current count. */
static uint64_t elapsed(const pit_channel_t *c, uint64_t now)
{
    uint64_t t = c->paused_at != UINT64_MAX ? c->paused_at : now;
    return t > c->start ? t - c->start : 0;
}

static bool out_at(const pit_channel_t *c, uint64_t d)
{
    uint64_t n = c->reload;
    switch (c->mode) {
    case 0: /* interrupt on terminal count: low until the count reaches 0 */
        return c->counting && d >= n;
    case 1: /* one-shot: low from the trigger until terminal count */
        return !c->counting || d >= n;
    case 2: /* rate generator: low for the one tick when the count is 1 */
        return !c->counting || !c->gate || (d % n) != n - 1;
    case 3: /* square wave: high for the first half (rounded up) of each period */
        return !c->counting || !c->gate || (d % n) < (n + 1) / 2;
    case 4: /* software strobe: low for one tick at terminal count */
    case 5: /* hardware strobe */
        return !c->counting || d != n;
    }
    return true;
}

/* The value the counting element holds after d ticks. */
static uint32_t count_at(const pit_channel_t *c, uint64_t d)
{
    uint64_t n = c->reload;
    uint64_t wrap = c->bcd ? 10000 : 65536;
    if (!c->counting)
        return (uint32_t)(n % wrap);
    switch (c->mode) {
    case 2:
        return (uint32_t)((n - d % n) % wrap);
    case 3: /* decrements by two, twice per period */
        return (uint32_t)((n - (2 * d) % n) % wrap) & ~1u;
    default: /* modes 0, 1, 4, 5 keep counting down through zero */
        return (uint32_t)((n + wrap - d % wrap) % wrap);
    }
}

static uint16_t to_bcd(uint32_t v)
{
    return (uint16_t)((v % 10) | (v / 10 % 10) << 4 | (v / 100 % 10) << 8 | (v / 1000 % 10) << 12);
}

static uint32_t from_bcd(uint16_t v)
{
    return (v & 0xf) + ((v >> 4) & 0xf) * 10 + ((v >> 8) & 0xf) * 100 + ((v >> 12) & 0xf) * 1000;
}

static uint16_t read_value(pit_channel_t *c, uint64_t now)
{
    sync(c, now);
    uint32_t v = count_at(c, elapsed(c, now));
    return c->bcd ? to_bcd(v) : (uint16_t)v;
}

/* Next rising edge of channel 0's OUT strictly after tick `after`, or UINT64_MAX. */
static uint64_t next_rise(const pit_channel_t *c, uint64_t after)
{
    if (!c->counting || c->paused_at != UINT64_MAX)
        return UINT64_MAX;
    uint64_t n = c->reload, d = after >= c->start ? after - c->start : 0;
    switch (c->mode) {
    case 0:
    case 1:
        return d < n ? c->start + n : UINT64_MAX;
    case 2:
    case 3:
        if (!c->gate)
            return UINT64_MAX;
        return c->start + (d / n + 1) * n;
    default: /* modes 4, 5: back up one tick after the strobe */
        return d < n + 1 ? c->start + n + 1 : UINT64_MAX;
    }
}

static void schedule_irq(pit_t *pit)
{
    uint64_t now = now_tick(pit);
    sync(&pit->ch[0], now);
    uint64_t t = next_rise(&pit->ch[0], now);
    if (t == UINT64_MAX)
        event_cancel(pit->m, pit->irq_event);
    else
        event_schedule(pit->m, pit->irq_event, cycle_of_tick(pit->m, t));
}

/* A rising edge on channel 0's OUT: an edge on IRQ 0. */
static void irq_event(machine_t *m, void *opaque)
{
    pit_t *pit = opaque;
    if (pit->irq) {
        pit->irq(pit->irq_opaque, true);
        pit->irq(pit->irq_opaque, false);
    }
    schedule_irq(pit);
}

bool pit_out(pit_t *pit, int ch)
{
    pit_channel_t *c = &pit->ch[ch];
    uint64_t now = now_tick(pit);
    sync(c, now);
    return out_at(c, elapsed(c, now));
}

/* A new count written while a mode 2 or 3 count runs takes effect at the end
 * of the current period (data sheet, modes 2 and 3). */
static void sync(pit_channel_t *c, uint64_t now)
{
    if (c->switch_at != UINT64_MAX && now >= c->switch_at) {
        c->start = c->switch_at;
        c->reload = c->next_reload;
        c->switch_at = UINT64_MAX;
    }
}

/* A complete count was written: load it. Modes 1 and 5 wait for a gate trigger. */
static void load_count(pit_t *pit, pit_channel_t *c, uint16_t v)
{
    uint64_t now = now_tick(pit);
    sync(c, now);
    uint32_t n = c->bcd ? from_bcd(v) : v;
    if (n == 0)
        n = c->bcd ? 10000 : 65536;
    /* A count of 1 is illegal in modes 2 and 3; run it as 2 so OUT cannot stick low. */
    if ((c->mode == 2 || c->mode == 3) && n == 1)
        n = 2;
    c->null_count = false;
    if (c->mode == 1 || c->mode == 5) {
        c->reload = n;
        c->armed = true;
        return;
    }
    if ((c->mode == 2 || c->mode == 3) && c->counting && c->paused_at == UINT64_MAX) {
        uint64_t d = elapsed(c, now);
        c->switch_at = c->start + (d / c->reload + 1) * c->reload;
        c->next_reload = n;
        return;
    }
    c->reload = n;
    c->start = now + 1; /* counting starts with the next clock pulse */
    c->counting = true;
    c->paused_at = c->gate ? UINT64_MAX : c->start;
}

static void write_counter(pit_t *pit, int ch, uint8_t v)
{
    pit_channel_t *c = &pit->ch[ch];
    c->null_count = true;
    switch (c->rw) {
    case 1:
        load_count(pit, c, v);
        break;
    case 2:
        load_count(pit, c, (uint16_t)v << 8);
        break;
    default:
        if (!c->write_msb) {
            c->lsb_written = v;
            c->write_msb = true;
            if (c->mode == 0) /* writing the first byte stops a mode-0 count */
                c->counting = false;
        } else {
            c->write_msb = false;
            load_count(pit, c, (uint16_t)(c->lsb_written | v << 8));
        }
        break;
    }
    if (ch == 0)
        schedule_irq(pit);
}

static uint8_t read_counter(pit_t *pit, int ch)
{
    pit_channel_t *c = &pit->ch[ch];
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    uint16_t v;
    bool msb;
    if (c->latched) {
        v = c->latch;
        if (c->rw == 3) {
            msb = c->latched_msb;
            c->latched_msb = !msb;
            if (msb)
                c->latched = false;
        } else {
            msb = c->rw == 2;
            c->latched = false;
        }
    } else {
        v = read_value(c, now_tick(pit));
        if (c->rw == 3) {
            msb = c->read_msb;
            c->read_msb = !msb;
        } else {
            msb = c->rw == 2;
        }
    }
    return msb ? (uint8_t)(v >> 8) : (uint8_t)v;
}

static void latch_count(pit_t *pit, pit_channel_t *c)
{
    if (c->latched)
        return; /* a second latch before the first is read is ignored */
    c->latch = read_value(c, now_tick(pit));
    c->latched = true;
    c->latched_msb = false;
}

static void latch_status(pit_t *pit, pit_channel_t *c)
{
    if (c->status_latched)
        return;
    uint64_t now = now_tick(pit);
    sync(c, now);
    bool out = out_at(c, elapsed(c, now));
    c->status = (uint8_t)(out << 7 | c->null_count << 6 | c->rw << 4 | c->mode << 1 | c->bcd);
    c->status_latched = true;
}

static void write_control(pit_t *pit, uint8_t v)
{
    int sc = v >> 6;
    if (sc == 3) { /* read-back: bit 5 = don't latch count, bit 4 = don't latch status */
        for (int ch = 0; ch < 3; ch++) {
            if (!(v & (2u << ch)))
                continue;
            if (!(v & 0x20))
                latch_count(pit, &pit->ch[ch]);
            if (!(v & 0x10))
                latch_status(pit, &pit->ch[ch]);
        }
        return;
    }
    pit_channel_t *c = &pit->ch[sc];
    int rw = (v >> 4) & 3;
    if (rw == 0) {
        latch_count(pit, c);
        return;
    }
    c->rw = (uint8_t)rw;
    c->mode = (v >> 1) & 7;
    if (c->mode > 5)
        c->mode -= 4; /* 6 and 7 are 2 and 3 */
    c->bcd = v & 1;
    c->counting = false;
    c->armed = false;
    c->switch_at = UINT64_MAX;
    c->null_count = true;
    c->write_msb = c->read_msb = false;
    c->latched = false;
    if (sc == 0)
        schedule_irq(pit);
}

static void set_gate(pit_t *pit, int ch, bool gate)
{
    pit_channel_t *c = &pit->ch[ch];
    uint64_t now = now_tick(pit);
    sync(c, now);
    bool rising = gate && !c->gate;
    if (c->mode == 0 || c->mode == 4) {
        /* gate low suspends counting; high resumes where it stopped */
        if (!gate && c->gate && c->counting)
            c->paused_at = now;
        if (rising && c->paused_at != UINT64_MAX) {
            c->start += now - c->paused_at;
            c->paused_at = UINT64_MAX;
        }
    } else if (rising && (c->armed || c->counting)) {
        /* modes 1, 5: trigger; modes 2, 3: reload and restart */
        c->armed = false;
        c->counting = true;
        c->start = now + 1;
        c->paused_at = UINT64_MAX;
    }
    c->gate = gate;
    if (ch == 0)
        schedule_irq(pit);
}

static uint64_t pit_io_read(void *opaque, uint16_t port, int size)
{
    pit_t *pit = opaque;
    if (port == 0x61) {
        uint64_t t = now_tick(pit);
        /* refresh request toggles every 18 PIT ticks (15.09 us) */
        bool refresh = (t / 18) & 1;
        return (uint8_t)((pit->port61 & 0x0f) | refresh << 4 | pit_out(pit, 2) << 5);
    }
    if (port == 0x43)
        return 0xff; /* the control register cannot be read */
    return read_counter(pit, port - 0x40);
}

static void pit_io_write(void *opaque, uint16_t port, int size, uint64_t val)
{
    pit_t *pit = opaque;
    uint8_t v = (uint8_t)val;
    if (port == 0x61) {
        pit->port61 = v & 0x0f;
        set_gate(pit, 2, v & 1);
    } else if (port == 0x43) {
        write_control(pit, v);
    } else {
        write_counter(pit, port - 0x40, v);
    }
}

pit_t *pit_new(void)
{
    pit_t *pit = calloc(1, sizeof *pit);
    if (!pit)
        return NULL;
    for (int i = 0; i < 3; i++) {
        pit->ch[i].gate = i != 2; /* channels 0 and 1 are gated on; channel 2 by port 0x61 */
        pit->ch[i].rw = 3;
        pit->ch[i].reload = 65536;
        pit->ch[i].paused_at = UINT64_MAX;
        pit->ch[i].switch_at = UINT64_MAX;
    }
    return pit;
}

void pit_attach(machine_t *m, pit_t *pit, void (*irq)(void *, bool), void *opaque)
{
    pit->m = m;
    pit->irq = irq;
    pit->irq_opaque = opaque;
    pit->irq_event = event_new(m, irq_event, pit);
    io_register(m, 0x40, 4, pit_io_read, pit_io_write, pit);
    io_register(m, 0x61, 1, pit_io_read, pit_io_write, pit);
}

void pit_free(pit_t *pit)
{
    free(pit);
}
