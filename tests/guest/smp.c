/* smp.c - start every application processor as a PC kernel does and route an
 * interrupt to each: the BSP copies a real-mode trampoline below 1 MiB, sends
 * INIT, SIPI, SIPI to one APIC ID after the other (fw_cfg says how many CPUs
 * there are) and waits for each AP to reach long mode, print its APIC ID and
 * enable its local APIC; then PIT IRQ 0, routed through IOAPIC input 2 with a
 * physical destination, must interrupt exactly the AP it names, for every AP.
 * vCPUs take turns in fixed quanta, so the output is the same on every run
 * (run.sh runs it twice and compares). */
#include "guest.h"

#define APIC ((volatile uint32_t *)0xfee00000ull)
#define AREG(off) APIC[(off) / 4]
#define IOREGSEL (*(volatile uint32_t *)0xfec00000ull)
#define IOWIN (*(volatile uint32_t *)0xfec00010ull)
#define TRAMP_BASE 0x8000
#define VEC 0x61

extern const uint8_t ap_tramp[], ap_tramp_end[], ap_tramp_gdtr[];

static struct __attribute__((packed)) { uint16_t limit; uint64_t base; } bsp_idtr;
static volatile uint32_t print_lock, started, irq_count, irq_apic;
static uint64_t tsc_hz;

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}
static void udelay(uint64_t us)
{
    uint64_t t0 = rdtsc();
    while (rdtsc() - t0 < us * tsc_hz / 1000000)
        __asm__ volatile("pause");
}
static void lock(void)
{
    while (__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE))
        __asm__ volatile("pause");
}
static void unlock(void) { __atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE); }
static uint32_t apic_id(void) { return AREG(0x20) >> 24; }

static void on_irq(struct trap_frame *f)
{
    irq_apic = apic_id();
    __atomic_add_fetch(&irq_count, 1, __ATOMIC_SEQ_CST);
    AREG(0xb0) = 0;
}

void ap_main(void);
void ap_main(void)
{
    __asm__ volatile("lidt %0" ::"m"(bsp_idtr));
    AREG(0xf0) = 0x1ff; /* software-enable this AP's local APIC */
    lock();
    printf("AP started: APIC ID %u\n", apic_id());
    unlock();
    __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
    for (;;)
        __asm__ volatile("sti; hlt; cli" ::: "memory");
}

static void ipi(uint32_t dest, uint32_t lo)
{
    AREG(0x310) = dest << 24;
    AREG(0x300) = lo;
    while (AREG(0x300) & (1u << 12)) /* delivery status */
        ;
}

static void ioapic_route(int pin, uint32_t lo, uint32_t dest)
{
    IOREGSEL = 0x11 + 2 * pin;
    IOWIN = dest << 24;
    IOREGSEL = 0x10 + 2 * pin;
    IOWIN = lo;
}

static uint16_t fw_cfg_cpus(void)
{
    uint16_t n = 0;
    __asm__ volatile("outw %0, %1" ::"a"((uint16_t)5), "Nd"((uint16_t)0x510));
    n = inb(0x511);
    return (uint16_t)(n | inb(0x511) << 8);
}

int test_main(const struct mb_info *mbi)
{
    uint32_t r[4];
    cpuid(0x15, 0, r);
    tsc_hz = (uint64_t)r[2] * r[1] / (r[0] ? r[0] : 1);
    uint32_t ncpus = fw_cfg_cpus();
    printf("BSP: APIC ID %u, %u CPUs\n", apic_id(), ncpus);
    CHECK_EQ(apic_id(), 0);
    CHECK(ncpus >= 2 && ncpus <= 16);

    memcpy((void *)TRAMP_BASE, ap_tramp, (size_t)(ap_tramp_end - ap_tramp));
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gdtr;
    __asm__ volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(bsp_idtr));
    uint8_t *slot = (uint8_t *)TRAMP_BASE + (ap_tramp_gdtr - ap_tramp);
    memcpy(slot, &gdtr.limit, 2);
    memcpy(slot + 2, &gdtr.base, 4);
    set_trap_handler(VEC, on_irq);
    AREG(0xf0) = 0x1ff;

    for (uint32_t id = 1; id < ncpus; id++) {
        ipi(id, 0x4500); /* INIT, level assert */
        udelay(10000);
        for (int k = 0; k < 2; k++) { /* SIPI twice, as the MP specification says */
            ipi(id, 0x4600 | (TRAMP_BASE >> 12));
            udelay(200);
        }
        uint64_t t0 = rdtsc();
        while (started < id && rdtsc() - t0 < tsc_hz)
            __asm__ volatile("pause");
        CHECK_EQ(started, id);
    }

    /* PIT IRQ 0 -> IOAPIC input 2 -> the AP the entry names, edge, physical */
    for (uint32_t id = 1; id < ncpus; id++) {
        uint32_t before = irq_count;
        ioapic_route(2, VEC, id);
        outb(0x43, 0x30); /* channel 0, mode 0: one edge after 1000 ticks */
        outb(0x40, 1000 & 0xff);
        outb(0x40, 1000 >> 8);
        uint64_t t0 = rdtsc();
        while (irq_count == before && rdtsc() - t0 < tsc_hz / 10)
            __asm__ volatile("pause");
        lock();
        printf("IOAPIC pin 2 -> APIC ID %u: taken by APIC ID %u\n", id, irq_apic);
        unlock();
        CHECK_EQ(irq_count, before + 1);
        CHECK_EQ(irq_apic, id);
    }
    ioapic_route(2, 0x10000, 0);
    lock();
    int rc = check_result();
    unlock();
    return rc;
}
