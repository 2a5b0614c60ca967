/* rtc.c - MC146818-compatible RTC and CMOS RAM (ports 0x70/0x71, IRQ 8).
 *
 * The clock is a function of guest time: it reads `epoch` seconds at cycle
 * `epoch_cycle` and advances one second every core_mhz * 10^6 cycles. The
 * guest may set it (register B SET bit), which restarts the second divider.
 * Status: UIP (register A bit 7) is high for the 244 us before each update;
 * register C holds the periodic (PF), alarm (AF) and update-ended (UF) flags,
 * which are computed from the boundaries passed since C was last read, and
 * IRQF drives IRQ 8 while any enabled flag is set. Port 0x70 bit 7 masks NMI.
 */
#include "devices/rtc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/cpumodel.h"

enum { REG_SEC = 0, REG_SEC_ALARM = 1, REG_MIN = 2, REG_MIN_ALARM = 3, REG_HOUR = 4, REG_HOUR_ALARM = 5,
       REG_WDAY = 6, REG_MDAY = 7, REG_MONTH = 8, REG_YEAR = 9, REG_A = 0x0a, REG_B = 0x0b, REG_C = 0x0c,
       REG_D = 0x0d, REG_CENTURY = 0x32 };
enum { B_SET = 0x80, B_PIE = 0x40, B_AIE = 0x20, B_UIE = 0x10, B_DM_BINARY = 0x04, B_24H = 0x02 };
enum { C_IRQF = 0x80, C_PF = 0x40, C_AF = 0x20, C_UF = 0x10 };
#define A_UIP 0x80

static uint64_t hz(const rtc_t *r) { return (uint64_t)r->m->cpu[0]->model->core_mhz * 1000000u; }

/* ---- calendar (proleptic Gregorian, UTC) ---- */

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

struct tm_fields { int year, month, mday, wday, hour, min, sec; };

static struct tm_fields civil_from_unix(int64_t t)
{
    struct tm_fields f;
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400, secs = t - days * 86400;
    f.hour = (int)(secs / 3600);
    f.min = (int)(secs / 60 % 60);
    f.sec = (int)(secs % 60);
    f.wday = (int)((days % 7 + 11) % 7) + 1; /* RTC day of week: 1 = Sunday; 1970-01-01 was a Thursday */
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    f.mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    f.month = (int)(mp < 10 ? mp + 3 : mp - 9);
    f.year = (int)(yoe + era * 400 + (f.month <= 2));
    return f;
}

bool rtc_parse_time(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, se;
    char tail;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &se, &tail) != 6)
        return false;
    static const uint8_t mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 59 || y < 1970 || y > 9999)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return false;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    return true;
}

/* ---- encoding of register values ---- */

static uint8_t enc(const rtc_t *r, int v)
{
    if (r->cmos[REG_B] & B_DM_BINARY)
        return (uint8_t)v;
    return (uint8_t)((v / 10) << 4 | (v % 10));
}

static int dec(const rtc_t *r, uint8_t v)
{
    if (r->cmos[REG_B] & B_DM_BINARY)
        return v;
    return (v >> 4) * 10 + (v & 0xf);
}

static uint8_t enc_hour(const rtc_t *r, int h)
{
    if (r->cmos[REG_B] & B_24H)
        return enc(r, h);
    int h12 = h % 12 ? h % 12 : 12;
    return (uint8_t)(enc(r, h12) | (h >= 12 ? 0x80 : 0));
}

static int dec_hour(const rtc_t *r, uint8_t v)
{
    if (r->cmos[REG_B] & B_24H)
        return dec(r, v);
    int h = dec(r, v & 0x7f) % 12;
    return h + ((v & 0x80) ? 12 : 0);
}

/* ---- the clock ---- */

static int64_t now_seconds(const rtc_t *r, uint64_t cycle)
{
    return r->base_time + r->set_offset + (int64_t)((cycle - r->set_cycle) / hz(r));
}

/* Write the current time into the time registers (they are what the guest reads). */
static void latch_time(rtc_t *r, uint64_t cycle)
{
    if (r->cmos[REG_B] & B_SET)
        return; /* while SET, the registers hold what the guest wrote */
    struct tm_fields f = civil_from_unix(now_seconds(r, cycle));
    r->cmos[REG_SEC] = enc(r, f.sec);
    r->cmos[REG_MIN] = enc(r, f.min);
    r->cmos[REG_HOUR] = enc_hour(r, f.hour);
    r->cmos[REG_WDAY] = enc(r, f.wday);
    r->cmos[REG_MDAY] = enc(r, f.mday);
    r->cmos[REG_MONTH] = enc(r, f.month);
    r->cmos[REG_YEAR] = enc(r, f.year % 100);
    r->cmos[REG_CENTURY] = enc(r, f.year / 100);
}

/* The guest cleared SET: the clock continues from what it wrote, and the
 * divider chain restarts (the next update comes one second later). */
static void clock_from_registers(rtc_t *r, uint64_t cycle)
{
    int year = dec(r, r->cmos[REG_CENTURY]) * 100 + dec(r, r->cmos[REG_YEAR]);
    int month = dec(r, r->cmos[REG_MONTH]), mday = dec(r, r->cmos[REG_MDAY]);
    if (month < 1 || month > 12)
        month = 1;
    if (mday < 1 || mday > 31)
        mday = 1;
    int64_t t = days_from_civil(year, month, mday) * 86400 + dec_hour(r, r->cmos[REG_HOUR]) * 3600 +
                dec(r, r->cmos[REG_MIN]) * 60 + dec(r, r->cmos[REG_SEC]);
    r->set_cycle = cycle;
    r->set_offset = t - r->base_time;
}

/* Periodic interrupt divider: in 32.768 kHz ticks, 0 when off (register A RS). */
static uint64_t periodic_div(const rtc_t *r)
{
    int rs = r->cmos[REG_A] & 0x0f;
    if (!rs)
        return 0;
    if (rs <= 2)
        return 1u << (rs + 6); /* rates 1 and 2 are 256 and 128 Hz on a 32.768 kHz base */
    return 1u << (rs - 1);
}

static uint64_t ticks32k(const rtc_t *r, uint64_t cycle)
{
    return (uint64_t)((unsigned __int128)cycle * 32768 / hz(r));
}

static uint64_t cycle_of_tick32k(const rtc_t *r, uint64_t t)
{
    return (uint64_t)(((unsigned __int128)t * hz(r) + 32767) / 32768);
}

static bool alarm_matches(const rtc_t *r)
{
    static const int pairs[3][2] = { { REG_SEC_ALARM, REG_SEC }, { REG_MIN_ALARM, REG_MIN },
                                     { REG_HOUR_ALARM, REG_HOUR } };
    for (int i = 0; i < 3; i++) {
        uint8_t a = r->cmos[pairs[i][0]];
        if ((a & 0xc0) != 0xc0 && a != r->cmos[pairs[i][1]]) /* 11xxxxxx is "don't care" */
            return false;
    }
    return true;
}

static void update_irq(rtc_t *r)
{
    uint8_t c = r->cmos[REG_C] & (C_PF | C_AF | C_UF);
    uint8_t en = r->cmos[REG_B] & (B_PIE | B_AIE | B_UIE); /* same bit positions as the flags */
    bool irqf = (c & en) != 0;
    r->cmos[REG_C] = (uint8_t)(c | (irqf ? C_IRQF : 0));
    if (r->irq)
        r->irq(r->irq_opaque, irqf);
}

/* Raise the flags for every boundary in (since, now]. */
static void collect_flags(rtc_t *r, uint64_t since, uint64_t now)
{
    uint64_t div = periodic_div(r);
    if (div && ticks32k(r, now) / div > ticks32k(r, since) / div)
        r->cmos[REG_C] |= C_PF;
    if (!(r->cmos[REG_B] & B_SET) && now >= r->set_cycle) {
        uint64_t s0 = since > r->set_cycle ? (since - r->set_cycle) / hz(r) : 0;
        uint64_t s1 = (now - r->set_cycle) / hz(r);
        if (s1 > s0) {
            r->cmos[REG_C] |= C_UF;
            latch_time(r, now);
            if (alarm_matches(r))
                r->cmos[REG_C] |= C_AF;
        }
    }
}

static void schedule(rtc_t *r, uint64_t now);

static void rtc_event(machine_t *m, void *opaque)
{
    rtc_t *r = opaque;
    uint64_t now = machine_now(m);
    collect_flags(r, r->flags_at, now);
    r->flags_at = now;
    update_irq(r);
    schedule(r, now);
}

/* Arm the event for the next boundary an enabled interrupt needs. */
static void schedule(rtc_t *r, uint64_t now)
{
    uint64_t next = UINT64_MAX;
    uint64_t div = periodic_div(r);
    if ((r->cmos[REG_B] & B_PIE) && div)
        next = cycle_of_tick32k(r, (ticks32k(r, now) / div + 1) * div);
    if ((r->cmos[REG_B] & (B_UIE | B_AIE)) && !(r->cmos[REG_B] & B_SET)) {
        uint64_t s = (now - r->set_cycle) / hz(r) + 1;
        uint64_t upd = r->set_cycle + s * hz(r);
        if (upd < next)
            next = upd;
    }
    if (next == UINT64_MAX)
        event_cancel(r->m, r->event);
    else
        event_schedule(r->m, r->event, next);
}

static uint8_t read_reg(rtc_t *r, int idx, uint64_t now)
{
    switch (idx) {
    case REG_A: {
        /* UIP: the 244 us before an update (none while SET stops updates) */
        uint64_t into = (now - r->set_cycle) % hz(r);
        bool uip = !(r->cmos[REG_B] & B_SET) && into >= hz(r) - hz(r) / 1000000u * 244;
        return (uint8_t)((r->cmos[REG_A] & 0x7f) | (uip ? A_UIP : 0));
    }
    case REG_C: {
        collect_flags(r, r->flags_at, now);
        r->flags_at = now;
        update_irq(r);
        uint8_t v = r->cmos[REG_C];
        r->cmos[REG_C] = 0; /* reading C clears the flags and IRQF */
        update_irq(r);
        return v;
    }
    case REG_D:
        return 0x80; /* valid RAM and time */
    case REG_SEC: case REG_MIN: case REG_HOUR: case REG_WDAY: case REG_MDAY: case REG_MONTH:
    case REG_YEAR: case REG_CENTURY:
        latch_time(r, now);
        return r->cmos[idx];
    default:
        return r->cmos[idx];
    }
}

static void write_reg(rtc_t *r, int idx, uint8_t v, uint64_t now)
{
    switch (idx) {
    case REG_A:
        r->cmos[REG_A] = v & 0x7f; /* UIP is read-only */
        break;
    case REG_B: {
        uint8_t old = r->cmos[REG_B];
        if ((v & B_SET) && !(old & B_SET)) {
            latch_time(r, now); /* freeze the registers at the current time */
            v &= ~B_UIE;        /* setting SET clears UIE */
        }
        if ((v & (B_DM_BINARY | B_24H)) != (old & (B_DM_BINARY | B_24H)) && !(old & B_SET)) {
            r->cmos[REG_B] = (uint8_t)((old & ~(B_DM_BINARY | B_24H)) | (v & (B_DM_BINARY | B_24H)));
            latch_time(r, now); /* re-encode the time in the new format */
        }
        r->cmos[REG_B] = v;
        if (!(v & B_SET) && (old & B_SET))
            clock_from_registers(r, now);
        break;
    }
    case REG_C:
    case REG_D:
        break; /* read-only */
    default:
        r->cmos[idx] = v;
        break;
    }
    update_irq(r);
    schedule(r, now);
}

static uint64_t rtc_io_read(void *opaque, uint16_t port, int size)
{
    rtc_t *r = opaque;
    if (port == 0x70)
        return 0xff; /* the index register is write-only on a PC */
    return read_reg(r, r->index, machine_now(r->m));
}

static void rtc_io_write(void *opaque, uint16_t port, int size, uint64_t val)
{
    rtc_t *r = opaque;
    if (port == 0x70) {
        r->index = val & 0x7f;
        r->nmi_masked = (val & 0x80) != 0;
    } else {
        write_reg(r, r->index, (uint8_t)val, machine_now(r->m));
    }
}

rtc_t *rtc_new(int64_t unix_time)
{
    rtc_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->base_time = unix_time;
    r->cmos[REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz periodic rate selected */
    r->cmos[REG_B] = B_24H;
    return r;
}

void rtc_attach(machine_t *m, rtc_t *r, void (*irq)(void *, bool), void *opaque)
{
    r->m = m;
    r->irq = irq;
    r->irq_opaque = opaque;
    r->event = event_new(m, rtc_event, r);
    io_register(m, 0x70, 2, rtc_io_read, rtc_io_write, r);
}

void rtc_set_memory(rtc_t *r, uint64_t lowmem, uint64_t highmem)
{
    uint64_t ext_kb = lowmem > (1u << 20) ? (lowmem - (1u << 20)) >> 10 : 0;
    if (ext_kb > 0xffff)
        ext_kb = 0xffff;
    r->cmos[0x15] = 640 & 0xff;
    r->cmos[0x16] = 640 >> 8;
    r->cmos[0x17] = r->cmos[0x30] = (uint8_t)ext_kb;
    r->cmos[0x18] = r->cmos[0x31] = (uint8_t)(ext_kb >> 8);
    uint64_t above16 = lowmem > (16u << 20) ? (lowmem - (16u << 20)) >> 16 : 0;
    if (above16 > 0xffff)
        above16 = 0xffff;
    r->cmos[0x34] = (uint8_t)above16;
    r->cmos[0x35] = (uint8_t)(above16 >> 8);
    uint64_t above4g = highmem >> 16;
    r->cmos[0x5b] = (uint8_t)above4g;
    r->cmos[0x5c] = (uint8_t)(above4g >> 8);
    r->cmos[0x5d] = (uint8_t)(above4g >> 16);
}

bool rtc_nmi_masked(const rtc_t *r)
{
    return r->nmi_masked;
}

void rtc_free(rtc_t *r)
{
    free(r);
}
