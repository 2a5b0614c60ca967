/* legacy_irq.c - ISA interrupts the old ways, as devices_attach wires them:
 *  - the PIT's IRQ 0 and the UART's IRQ 4 through the 8259 pair, reaching the
 *    CPU through the BSP's local APIC in virtual-wire mode (LINT0 ExtINT);
 *  - HPET LegacyReplacement: timer 0 (periodic) takes IRQ 0 / IOAPIC input 2
 *    from the PIT, timer 1 IRQ 8 / input 8; with legacy mode off the PIT's
 *    interrupts are back on input 2.
 * Interrupt counts over a TSC-timed window must match the programmed rates. */
#include "guest.h"

#define APIC ((volatile uint32_t *)0xfee00000ull)
#define IOREGSEL (*(volatile uint32_t *)0xfec00000ull)
#define IOWIN (*(volatile uint32_t *)0xfec00010ull)
#define HPET(off) (*(volatile uint64_t *)(0xfed00000ull + (off)))

static uint64_t tsc_hz;
static volatile uint64_t count[256];

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}
/* Interrupts on for ms milliseconds of guest time (spinning: HLT would sleep
 * past the window's end when no interrupt comes). */
static void window(uint64_t ms)
{
    uint64_t t0 = rdtsc();
    __asm__ volatile("sti" ::: "memory");
    while (rdtsc() - t0 < ms * tsc_hz / 1000)
        __asm__ volatile("pause" ::: "memory");
    __asm__ volatile("cli" ::: "memory");
}

static void pic_irq(struct trap_frame *f)
{
    count[f->vec]++;
    if (f->vec == 0x24)
        inb(0x3fa); /* IIR: reading it clears the THR-empty interrupt */
    outb(0x20, 0x20); /* non-specific EOI */
}
static void apic_irq(struct trap_frame *f)
{
    count[f->vec]++;
    APIC[0xb0 / 4] = 0;
}

static void route(int pin, uint32_t lo)
{
    IOREGSEL = 0x11 + 2 * pin;
    IOWIN = 0;
    IOREGSEL = 0x10 + 2 * pin;
    IOWIN = lo;
}

int test_main(const struct mb_info *mbi)
{
    uint32_t r[4];
    cpuid(0x15, 0, r);
    tsc_hz = (uint64_t)r[2] * r[1] / (r[0] ? r[0] : 1);
    CHECK(tsc_hz != 0);
    if (!tsc_hz)
        return check_result();
    for (int v = 0x20; v < 0x30; v++)
        set_trap_handler(v, pic_irq);
    set_trap_handler(0x40, apic_irq);
    set_trap_handler(0x48, apic_irq);

    /* the 8259s: vectors 0x20-0x2f, only IRQ 0 unmasked; the PIT at 1 kHz */
    static const uint8_t icw[2][4] = { { 0x11, 0x20, 0x04, 0x01 }, { 0x11, 0x28, 0x02, 0x01 } };
    for (int c = 0; c < 2; c++) {
        outb(c ? 0xa0 : 0x20, icw[c][0]);
        for (int k = 1; k < 4; k++)
            outb(c ? 0xa1 : 0x21, icw[c][k]);
    }
    outb(0xa1, 0xff);
    outb(0x21, 0xfe);
    outb(0x43, 0x34);
    outb(0x40, 1193 & 0xff);
    outb(0x40, 1193 >> 8);
    window(20);
    printf("8259 IRQ 0 in 20 ms at 1 kHz: %lu\n", count[0x20]);
    CHECK(count[0x20] >= 19 && count[0x20] <= 21);

    /* the UART's transmitter-empty interrupt on IRQ 4 */
    outb(0x21, 0xef);
    outb(0x3f9, 0x02);
    outb(0x3fc, 0x0b); /* DTR, RTS, OUT2 */
    window(1);
    outb(0x3f9, 0);
    printf("8259 IRQ 4 (UART THR empty): %lu\n", count[0x24]);
    CHECK_EQ(count[0x24], 1);
    outb(0x21, 0xff);

    /* HPET legacy replacement: timer 0 every 2 ms replaces the 1 kHz PIT on input 2 */
    APIC[0xf0 / 4] = 0x1ff;
    route(2, 0x40);
    route(8, 0x48);
    uint32_t period = (uint32_t)(HPET(0) >> 32); /* femtoseconds per tick */
    uint64_t ticks_ms = 1000000000000ull / period;
    HPET(0x100) = (1u << 2) | (1u << 3) | (1u << 6); /* enabled, periodic, set the accumulator */
    HPET(0x108) = 2 * ticks_ms;
    HPET(0x108) = 2 * ticks_ms;                       /* the period */
    HPET(0x120) = 1u << 2;                            /* timer 1: one-shot, enabled */
    HPET(0x128) = 5 * ticks_ms;
    HPET(0x10) = 3;                                   /* ENABLE_CNF | LEG_RT_CNF */
    window(20);
    printf("HPET legacy: input 2 %lu in 20 ms (timer 0 every 2 ms), input 8 %lu\n", count[0x40], count[0x48]);
    CHECK(count[0x40] >= 9 && count[0x40] <= 11);
    CHECK_EQ(count[0x48], 1);

    /* legacy off: the PIT is back on input 2, the HPET's timers route elsewhere */
    HPET(0x10) = 1;
    uint64_t before = count[0x40];
    window(10);
    printf("legacy off: input 2 %lu in 10 ms (PIT at 1 kHz)\n", count[0x40] - before);
    CHECK(count[0x40] - before >= 9 && count[0x40] - before <= 11);
    HPET(0x10) = 0;
    route(2, 0x10000);
    route(8, 0x10000);
    return check_result();
}
