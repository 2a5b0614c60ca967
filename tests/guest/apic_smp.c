/* apic_smp.c - SMP start-up and IPIs through the local APICs (run with four
 * vCPUs): the BSP sends INIT then SIPI (vector 08H) to all others, each AP
 * starts in real mode at 0x8000, reaches long mode, reads its own APIC ID
 * through the same MMIO page and reports with an IPI to the BSP; the BSP then
 * sends fixed IPIs by physical destination, by logical (flat) destination
 * and to all but itself, and checks that exactly the addressed APs took them. */
#include "guest.h"

#define APIC ((volatile uint32_t *)0xfee00000ull)
#define REG(off) APIC[(off) / 4]
enum { ID = 0x20, EOI = 0xb0, LDR = 0xd0, SVR = 0xf0, ICR = 0x300, ICR_HI = 0x310 };
#define AP_TRAMP 0x8000
#define NCPU 4
#define SPIN 20000000ull

extern char ap_tramp[], ap_tramp_end[], ap_tramp_gdtr[];
struct __attribute__((packed)) dtr { uint16_t limit; uint64_t base; };
struct dtr ap_idtr;
volatile uint32_t ap_next;
static volatile uint32_t ap_ids[NCPU], arrived, reports, seen[NCPU];

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* Each AP reports with vector 0x70 + its APIC ID: one vector each, because
 * requests for the same vector would merge in the BSP's IRR. */
static void report_handler(struct trap_frame *f)
{
    reports |= 1u << (f->vec - 0x70);
    REG(EOI) = 0;
}

static void ap_ipi_handler(struct trap_frame *f)
{
    seen[REG(ID) >> 24]++;
    REG(EOI) = 0;
}

void ap_main(int idx);
void ap_main(int idx)
{
    REG(SVR) = 0x1ff;
    uint32_t id = REG(ID) >> 24;
    REG(LDR) = (1u << id) << 24; /* flat model: one bit per APIC */
    ap_ids[idx] = id;
    __atomic_fetch_add(&arrived, 1, __ATOMIC_SEQ_CST);
    REG(ICR_HI) = 0;
    REG(ICR) = 0x70 + id; /* report to the BSP */
    for (;;)
        __asm__ volatile("sti; hlt" ::: "memory");
}

/* Wait with interrupts on until *v reaches n or time runs out. */
static void wait_for(volatile uint32_t *v, uint32_t n)
{
    uint64_t t0 = rdtsc();
    while (*v < n && rdtsc() - t0 < SPIN)
        __asm__ volatile("sti; pause; cli" ::: "memory");
}

static void ipi(uint32_t dest, uint32_t lo)
{
    REG(ICR_HI) = dest << 24;
    REG(ICR) = lo;
}

int test_main(const struct mb_info *mbi)
{
    for (int id = 1; id < NCPU; id++)
        set_trap_handler(0x70 + id, report_handler);
    set_trap_handler(0x61, ap_ipi_handler);
    memcpy((void *)AP_TRAMP, ap_tramp, (size_t)(ap_tramp_end - ap_tramp));
    struct __attribute__((packed)) { uint16_t limit; uint32_t base; } g;
    struct dtr cur;
    __asm__ volatile("sgdt %0" : "=m"(cur));
    g.limit = cur.limit;
    g.base = (uint32_t)cur.base;
    memcpy((void *)(AP_TRAMP + (ap_tramp_gdtr - ap_tramp)), &g, sizeof g);
    __asm__ volatile("sidt %0" : "=m"(ap_idtr));

    REG(SVR) = 0x1ff;
    REG(LDR) = 1u << 24;
    ipi(0, 0xc0000 | 0x4000 | 0x500); /* INIT to all but self */
    for (volatile int k = 0; k < 1000; k++)
        ;
    ipi(0, 0xc0000 | 0x4000 | 0x600 | (AP_TRAMP >> 12)); /* SIPI */
    ipi(0, 0xc0000 | 0x4000 | 0x600 | (AP_TRAMP >> 12)); /* the customary second SIPI: ignored */
    wait_for(&arrived, NCPU - 1);
    wait_for(&reports, 0xe);
    CHECK_EQ(arrived, NCPU - 1);
    CHECK_EQ(reports, 0xe);
    uint32_t mask = 0;
    for (int i = 0; i < NCPU - 1; i++)
        mask |= 1u << ap_ids[i];
    CHECK_EQ(mask, 0xe); /* APIC IDs 1, 2, 3 */
    for (uint32_t id = 1; id < NCPU; id++)
        printf("AP with APIC ID %u started\n", id);

    for (uint32_t id = 1; id < NCPU; id++) { /* physical */
        ipi(id, 0x61);
        wait_for(&seen[id], 1);
    }
    ipi(0x0a, 0x800 | 0x61); /* logical: APICs 1 and 3 */
    wait_for(&seen[1], 2);
    wait_for(&seen[3], 2);
    ipi(0, 0xc0000 | 0x61); /* all excluding self */
    wait_for(&seen[2], 2);
    wait_for(&seen[1], 3);
    wait_for(&seen[3], 3);
    printf("IPIs seen: APIC 1 %u, APIC 2 %u, APIC 3 %u, BSP %u\n", seen[1], seen[2], seen[3], seen[0]);
    CHECK_EQ(seen[0], 0);
    CHECK_EQ(seen[1], 3);
    CHECK_EQ(seen[2], 2);
    CHECK_EQ(seen[3], 3);
    return check_result();
}
