/* apic_ioapic.c - an interrupt routed through the IOAPIC: the PIT's IRQ 0
 * arrives on IOAPIC pin 2 (the MADT's interrupt source override), and the
 * redirection entry sends it to the local APIC by physical and then by
 * logical destination, as the vector the entry names, at the TSC the PIT
 * count predicts; a masked entry sends nothing. The 8259s stay masked. */
#include "guest.h"

#define APIC ((volatile uint32_t *)0xfee00000ull)
#define AREG(off) APIC[(off) / 4]
#define IOREGSEL (*(volatile uint32_t *)0xfec00000ull)
#define IOWIN (*(volatile uint32_t *)0xfec00010ull)
#define PIT_HZ 1193182u
#define SLACK 600 /* TSC cycles from the PIT edge to the handler's RDTSC */

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}
static uint32_t io_rd(uint32_t reg)
{
    IOREGSEL = reg;
    return IOWIN;
}
static void io_wr(uint32_t reg, uint32_t v)
{
    IOREGSEL = reg;
    IOWIN = v;
}

static volatile uint64_t fired, fire_tsc, fire_vec;

static void handler(struct trap_frame *f)
{
    fire_tsc = rdtsc();
    fire_vec = f->vec;
    fired++;
    AREG(0xb0) = 0; /* EOI */
}

/* PIT channel 0, mode 0 (interrupt on terminal count) with count n; returns the TSC at the write. */
static uint64_t pit_one_shot(uint16_t n)
{
    outb(0x43, 0x30);
    outb(0x40, (uint8_t)n);
    uint64_t t = rdtsc();
    outb(0x40, (uint8_t)(n >> 8));
    return t;
}

static void wait_fired(uint64_t n)
{
    uint64_t t0 = rdtsc();
    while (fired < n && rdtsc() - t0 < 100000000ull)
        __asm__ volatile("sti; hlt; cli" ::: "memory");
}

int test_main(const struct mb_info *mbi)
{
    uint32_t r[4];
    cpuid(0x15, 0, r);
    uint64_t tsc_hz = (uint64_t)r[2] * r[1] / (r[0] ? r[0] : 1);
    CHECK(tsc_hz != 0);
    uint64_t pit_tick = tsc_hz / PIT_HZ + 1;
    uint32_t ver = io_rd(0x01);
    printf("IOAPIC version 0x%x, ID 0x%x\n", ver, io_rd(0x00));
    CHECK_EQ(ver & 0xff, 0x20);
    CHECK_EQ((ver >> 16) & 0xff, 23);
    CHECK_EQ(io_rd(0x10 + 2 * 2) & (1u << 16), 1u << 16); /* masked after reset */

    set_trap_handler(0x50, handler);
    set_trap_handler(0x51, handler);
    AREG(0xf0) = 0x1ff; /* APIC software enable */

    /* physical destination APIC 0, fixed, edge, active high */
    io_wr(0x10 + 2 * 2 + 1, 0u << 24);
    io_wr(0x10 + 2 * 2, 0x50);
    uint64_t t0 = pit_one_shot(10000);
    uint64_t expect = t0 + 10001ull * tsc_hz / PIT_HZ; /* counting starts on the next PIT clock */
    wait_fired(1);
    printf("pin 2 -> vector 0x%lx at %ld of the expected TSC\n", fire_vec, (long)(fire_tsc - expect));
    CHECK_EQ(fired, 1);
    CHECK_EQ(fire_vec, 0x50);
    /* the write lands somewhere within a PIT clock: up to one PIT tick early */
    CHECK(fire_tsc + pit_tick >= expect && fire_tsc < expect + SLACK);

    /* masked: the edge is lost */
    io_wr(0x10 + 2 * 2, 0x10050);
    pit_one_shot(100);
    for (volatile int k = 0; k < 20000; k++)
        ;
    __asm__ volatile("sti; nop; nop; cli" ::: "memory");
    CHECK_EQ(fired, 1);

    /* logical destination (flat model): the APIC whose LDR has bit 0 */
    AREG(0xe0) = 0xffffffffu;
    AREG(0xd0) = 0x01000000;
    io_wr(0x10 + 2 * 2 + 1, 0x01u << 24);
    io_wr(0x10 + 2 * 2, 0x800 | 0x51);
    t0 = pit_one_shot(5000);
    expect = t0 + 5001ull * tsc_hz / PIT_HZ;
    wait_fired(2);
    printf("logical -> vector 0x%lx at %ld of the expected TSC\n", fire_vec, (long)(fire_tsc - expect));
    CHECK_EQ(fired, 2);
    CHECK_EQ(fire_vec, 0x51);
    CHECK(fire_tsc + pit_tick >= expect && fire_tsc < expect + SLACK);
    io_wr(0x10 + 2 * 2, 0x10000);
    return check_result();
}
