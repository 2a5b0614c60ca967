/* rtc.c - the RTC reads the time --rtc-base set (-append rtc=YYYY-MM-DDTHH:MM:SS),
 * in BCD and in binary mode, after waiting out update-in-progress as
 * drivers do; its periodic interrupt (1024 Hz) arrives through IOAPIC input 8
 * at the BSP's local APIC, once per period while register C is read. */
#include "guest.h"

#define APIC ((volatile uint32_t *)0xfee00000ull)
#define IOREGSEL (*(volatile uint32_t *)0xfec00000ull)
#define IOWIN (*(volatile uint32_t *)0xfec00010ull)

static uint8_t cmos(uint8_t reg)
{
    outb(0x70, reg);
    return inb(0x71);
}
static void cmos_wr(uint8_t reg, uint8_t v)
{
    outb(0x70, reg);
    outb(0x71, v);
}
static int bcd(uint8_t v) { return (v >> 4) * 10 + (v & 15); }
static int num(const char *p, int n)
{
    int v = 0;
    while (n--)
        v = v * 10 + (*p++ - '0');
    return v;
}
static uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* year, month, day, hour, minute, second */
static void read_time(int t[6], bool binary)
{
    static const uint8_t regs[6] = { 0x09, 0x08, 0x07, 0x04, 0x02, 0x00 };
    while (cmos(0x0a) & 0x80) /* update in progress */
        ;
    for (int i = 0; i < 6; i++)
        t[i] = binary ? cmos(regs[i]) : bcd(cmos(regs[i]));
    t[0] += 100 * (binary ? cmos(0x32) : bcd(cmos(0x32)));
}

static volatile uint64_t ticks;
static void rtc_irq(struct trap_frame *f)
{
    cmos(0x0c); /* reading C acknowledges: IRQF drops, the next period can interrupt */
    ticks++;
    APIC[0xb0 / 4] = 0;
}

int test_main(const struct mb_info *mbi)
{
    const char *p = strstr((const char *)(uint64_t)mbi->cmdline, "rtc=");
    CHECK(p != 0);
    if (!p)
        return check_result();
    p += 4;
    const int want[6] = { num(p, 4), num(p + 5, 2), num(p + 8, 2), num(p + 11, 2), num(p + 14, 2), num(p + 17, 2) };
    int t[6];
    read_time(t, false);
    printf("RTC (BCD): %d-%d-%d %d:%d:%d\n", t[0], t[1], t[2], t[3], t[4], t[5]);
    for (int i = 0; i < 6; i++)
        CHECK_EQ(t[i], want[i]);
    cmos_wr(0x0b, cmos(0x0b) | 0x04); /* binary mode */
    read_time(t, true);
    printf("RTC (binary): %d-%d-%d %d:%d:%d\n", t[0], t[1], t[2], t[3], t[4], t[5]);
    for (int i = 0; i < 5; i++)
        CHECK_EQ(t[i], want[i]);
    CHECK(t[5] - want[5] <= 1); /* a second may have begun */

    /* periodic interrupt: IOAPIC input 8 -> vector 0x58 on APIC 0, edge */
    uint32_t r[4];
    cpuid(0x15, 0, r);
    uint64_t tsc_hz = (uint64_t)r[2] * r[1] / (r[0] ? r[0] : 1);
    set_trap_handler(0x58, rtc_irq);
    APIC[0xf0 / 4] = 0x1ff;
    IOREGSEL = 0x11 + 2 * 8;
    IOWIN = 0;
    IOREGSEL = 0x10 + 2 * 8;
    IOWIN = 0x58;
    cmos(0x0c);
    cmos_wr(0x0b, cmos(0x0b) | 0x40); /* PIE at the reset rate, 1024 Hz */
    uint64_t t0 = rdtsc();
    __asm__ volatile("sti");
    while (rdtsc() - t0 < tsc_hz / 10) /* 100 ms */
        __asm__ volatile("hlt");
    __asm__ volatile("cli");
    cmos_wr(0x0b, cmos(0x0b) & ~0x40);
    printf("periodic interrupts in 100 ms: %lu\n", ticks);
    CHECK(ticks >= 101 && ticks <= 103);
    return check_result();
}
