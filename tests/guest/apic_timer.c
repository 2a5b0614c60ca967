/* apic_timer.c - the local APIC seen from a guest in xAPIC mode: the timer in
 * one-shot, periodic and TSC-deadline modes interrupts through the IDT at the
 * TSC the programming predicts (the APIC timer runs at the core crystal clock
 * CPUID leaf 15H reports: TSC/crystal = EBX/EAX), the current-count register
 * follows the TSC, a self IPI is taken right after the ICR write (and only
 * after STI when IF is clear), and with x2APIC the SELF IPI MSR does the same. */
#include "guest.h"

#define APIC ((volatile uint32_t *)0xfee00000ull)
#define REG(off) APIC[(off) / 4]
enum { ID = 0x20, VER = 0x30, TPR = 0x80, EOI = 0xb0, SVR = 0xf0, ESR = 0x280, ICR = 0x300, ICR_HI = 0x310,
       LVT_T = 0x320, TMICT = 0x380, TMCCT = 0x390, TDCR = 0x3e0 };
#define MSR_APIC_BASE 0x1b
#define MSR_TSC_DEADLINE 0x6e0
#define SLACK 600 /* TSC cycles from expiry to the handler's RDTSC: delivery plus a few instructions */

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

static volatile uint64_t fired, fire_tsc[8];

static void timer_handler(struct trap_frame *f)
{
    uint64_t t = rdtsc();
    if (fired < 8)
        fire_tsc[fired] = t;
    fired++;
    REG(EOI) = 0;
}

static void ipi_handler(struct trap_frame *f)
{
    fired++;
    REG(EOI) = 0;
}

static void x2_ipi_handler(struct trap_frame *f)
{
    fired++;
    wrmsr(0x80b, 0); /* x2APIC EOI */
}

/* Wait with interrupts enabled until `n` timer interrupts came (or give up). */
static void wait_fired(uint64_t n, uint64_t limit)
{
    uint64_t t0 = rdtsc();
    while (fired < n && rdtsc() - t0 < limit)
        __asm__ volatile("sti; hlt; cli" ::: "memory");
}

int test_main(const struct mb_info *mbi)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    CHECK(r[3] & (1u << 9)); /* APIC */
    if (!(r[3] & (1u << 9)))
        return check_result();
    bool tsc_deadline = r[2] & (1u << 24), x2apic = r[2] & (1u << 21);
    cpuid(0x15, 0, r);
    uint64_t num = r[1], den = r[0]; /* TSC ticks per APIC timer tick = num / den */
    CHECK(num && den);
    printf("APIC ID %u, version 0x%x, TSC/crystal %lu/%lu\n", REG(ID) >> 24, REG(VER), num, den);
    CHECK_EQ(REG(VER), 0x00050015);
    CHECK_EQ(rdmsr(MSR_APIC_BASE) & ~0xfffull, 0xfee00000);

    set_trap_handler(0x40, timer_handler);
    REG(SVR) = 0x1ff;
    REG(TDCR) = 0xb; /* divide by 1 */

    /* one-shot: 1000 ticks */
    REG(LVT_T) = 0x40;
    uint64_t t0 = rdtsc();
    REG(TMICT) = 1000;
    uint64_t expect = t0 + 1000 * num / den;
    wait_fired(1, 100 * 1000 * num / den);
    printf("one-shot: fired %lu, at +%ld of the expected TSC\n", fired, (long)(fire_tsc[0] - expect));
    CHECK_EQ(fired, 1);
    CHECK(fire_tsc[0] + num / den >= expect && fire_tsc[0] < expect + SLACK);
    CHECK_EQ(REG(TMCCT), 0);
    for (volatile int k = 0; k < 1000; k++)
        ;
    CHECK_EQ(fired, 1); /* once only */

    /* current count follows the TSC */
    REG(TDCR) = 0x0; /* divide by 2 */
    REG(LVT_T) = 0x10040; /* masked */
    t0 = rdtsc();
    REG(TMICT) = 1000000;
    for (volatile int k = 0; k < 2000; k++)
        ;
    uint64_t t1 = rdtsc();
    uint32_t cur = REG(TMCCT);
    uint64_t ticks = (t1 - t0) * den / num / 2;
    printf("current count %u after %lu TSC cycles (expected about %lu)\n", cur, t1 - t0, 1000000 - ticks);
    CHECK(cur <= 1000000 - ticks + 2 && cur + 20 >= 1000000 - ticks);
    REG(TMICT) = 0;
    CHECK_EQ(REG(TMCCT), 0);

    /* periodic: 500 counts at divide 2 = 1000 ticks per period */
    fired = 0;
    REG(LVT_T) = 0x20040;
    t0 = rdtsc();
    REG(TMICT) = 500;
    uint64_t period = 1000 * num / den;
    wait_fired(5, 100 * period);
    REG(LVT_T) = 0x10040;
    REG(TMICT) = 0;
    printf("periodic: fired %lu, first at +%ld\n", fired, (long)(fire_tsc[0] - (t0 + period)));
    CHECK(fired >= 5);
    CHECK(fire_tsc[0] + num / den >= t0 + period && fire_tsc[0] < t0 + period + SLACK);
    for (int k = 1; k < 5; k++) {
        int64_t d = (int64_t)(fire_tsc[k] - fire_tsc[k - 1]) - (int64_t)period;
        CHECK(d > -SLACK && d < SLACK);
    }

    /* TSC-deadline */
    CHECK(tsc_deadline);
    if (tsc_deadline) {
        fired = 0;
        REG(LVT_T) = 0x40040;
        uint64_t dl = rdtsc() + 50000;
        wrmsr(MSR_TSC_DEADLINE, dl);
        CHECK_EQ(rdmsr(MSR_TSC_DEADLINE), dl);
        wait_fired(1, 1000000);
        printf("TSC-deadline: fired %lu, at +%ld of the deadline\n", fired, (long)(fire_tsc[0] - dl));
        CHECK_EQ(fired, 1);
        CHECK(fire_tsc[0] >= dl && fire_tsc[0] < dl + SLACK);
        CHECK_EQ(rdmsr(MSR_TSC_DEADLINE), 0); /* disarmed when it fired */
        REG(LVT_T) = 0x10040;
    }

    /* self IPI: taken right after the ICR write */
    set_trap_handler(0x41, ipi_handler);
    fired = 0;
    __asm__ volatile("sti" ::: "memory");
    REG(ICR) = 0x40000 | 0x41;
    uint64_t seen = fired;
    __asm__ volatile("cli" ::: "memory");
    CHECK_EQ(seen, 1);
    /* with IF clear it waits in IRR for STI */
    REG(ICR) = 0x40000 | 0x41;
    CHECK_EQ(fired, 1);
    CHECK(REG(0x200 + 0x20) & (1u << 1)); /* IRR bit 0x41 */
    __asm__ volatile("sti; nop; cli" ::: "memory");
    CHECK_EQ(fired, 2);
    /* TPR holds it back */
    REG(TPR) = 0x40;
    REG(ICR) = 0x40000 | 0x41;
    __asm__ volatile("sti; nop; nop; cli" ::: "memory");
    CHECK_EQ(fired, 2);
    REG(TPR) = 0;
    __asm__ volatile("sti; nop; cli" ::: "memory");
    CHECK_EQ(fired, 3);
    /* an illegal vector: ESR after a write */
    REG(ESR) = 0;
    REG(ICR) = 0x40000 | 0x05;
    REG(ESR) = 0;
    CHECK_EQ(REG(ESR), 0x20);

    /* x2APIC: the same self IPI through MSR 0x83F, then back to xAPIC via disabled */
    if (x2apic) {
        set_trap_handler(0x42, x2_ipi_handler);
        uint64_t base = rdmsr(MSR_APIC_BASE);
        wrmsr(MSR_APIC_BASE, base | (1u << 10));
        CHECK_EQ(rdmsr(0x802), 0);        /* the BSP's x2APIC ID */
        CHECK_EQ(REG(VER), 0xffffffffu);  /* the MMIO page no longer decodes */
        fired = 0;
        __asm__ volatile("sti" ::: "memory");
        wrmsr(0x83f, 0x42);
        seen = fired;
        __asm__ volatile("cli" ::: "memory");
        CHECK_EQ(seen, 1);
        wrmsr(MSR_APIC_BASE, base & ~((1ull << 10) | (1ull << 11)));
        wrmsr(MSR_APIC_BASE, base);
        CHECK_EQ(REG(VER), 0x00050015);
    }
    return check_result();
}
