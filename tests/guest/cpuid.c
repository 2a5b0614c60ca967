/* cpuid.c - what the CPU model tells the guest: CPUID identity and the
 * x86-64 baseline feature bits, leaves past the maximum, the brand string,
 * address widths; with "expect=FAMILY:MODEL:STEPPING:MAXLEAF:MAXPHYADDR" (hex)
 * on the command line, that those match the model run.sh asked for (--cpu,
 * values from emu/cpumodel.def); and MSRs: APIC base, PAT reset value, EFER (with #GP on a
 * reserved bit), STAR/LSTAR round trips and a non-canonical LSTAR (#GP),
 * KERNEL_GS_BASE with SWAPGS, the TSC, and #GP for an MSR that does not exist. */
#include "guest.h"

#define MSR_TSC 0x10
#define MSR_APIC_BASE 0x1b
#define MSR_PAT 0x277
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102

/* The hex numbers after "expect=" separated by ':'; returns how many. */
static int parse_expect(const struct mb_info *mbi, uint32_t *v, int max)
{
    const char *p = (mbi->flags & 4) ? strstr((const char *)(uint64_t)mbi->cmdline, "expect=") : NULL;
    int n = 0;
    for (p = p ? p + 7 : NULL; p && n < max; n++) {
        uint32_t x = 0;
        for (;; p++) {
            int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
            if (d < 0)
                break;
            x = x * 16 + (uint32_t)d;
        }
        v[n] = x;
        if (*p != ':') {
            n++;
            break;
        }
        p++;
    }
    return n;
}

static int wrmsr_faults(uint32_t msr, uint64_t v)
{
    uint64_t n = last_trap.count;
    __asm__ volatile(RESUME_AT_1F "wrmsr\n1:" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
                     : "r11", "memory");
    return last_trap.count == n + 1 && last_trap.vec == 13 && last_trap.err == 0;
}

static int rdmsr_faults(uint32_t msr)
{
    uint64_t n = last_trap.count;
    uint32_t lo, hi;
    __asm__ volatile(RESUME_AT_1F "rdmsr\n1:" : "=a"(lo), "=d"(hi) : "c"(msr) : "r11", "memory");
    return last_trap.count == n + 1 && last_trap.vec == 13 && last_trap.err == 0;
}

int test_main(const struct mb_info *mbi)
{
    uint32_t r[4], r2[4];
    char vendor[13], brand[49];
    catch_trap(13);

    cpuid(0, 0, r);
    uint32_t max = r[0];
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    vendor[12] = 0;
    cpuid(1, 0, r);
    printf("CPUID: %s, max leaf 0x%x, signature 0x%x\n", vendor, max, r[0]);
    uint32_t family = ((r[0] >> 8) & 0xf) + ((r[0] >> 20) & 0xff);
    uint32_t model = ((r[0] >> 4) & 0xf) | ((r[0] >> 12) & 0xf0);
    uint32_t want[5];
    cpuid(0x80000008, 0, r2);
    if (parse_expect(mbi, want, 5) == 5) {
        CHECK_EQ(family, want[0]);
        CHECK_EQ(model, want[1]);
        CHECK_EQ(r[0] & 0xf, want[2]);
        CHECK_EQ(max, want[3]);
        CHECK_EQ(r2[0] & 0xff, want[4]);
    }
    CHECK(!memcmp(vendor, "GenuineIntel", 12));
    /* x86-64 baseline: FPU TSC MSR PAE CX8 CMOV FXSR SSE SSE2 in EDX */
    uint32_t need = 1u << 0 | 1u << 4 | 1u << 5 | 1u << 6 | 1u << 8 | 1u << 15 | 1u << 24 | 1u << 25 | 1u << 26;
    CHECK_EQ(r[3] & need, need);
    CHECK_EQ(r[1] >> 24, 0); /* initial APIC ID of CPU 0 */
    printf("CPUID.1: ECX 0x%x EDX 0x%x (VMX %u)\n", r[2], r[3], (r[2] >> 5) & 1);

    /* a leaf above the maximum returns the highest basic leaf */
    cpuid(max, 0, r);
    cpuid(max + 1, 0, r2);
    CHECK(!memcmp(r, r2, sizeof r));

    cpuid(0x80000000, 0, r);
    CHECK(r[0] >= 0x80000008);
    cpuid(0x80000001, 0, r);
    CHECK_EQ(r[3] & (1u << 29 | 1u << 20 | 1u << 11), 1u << 29 | 1u << 20 | 1u << 11); /* LM NX SYSCALL */
    CHECK(r[2] & 1);                                                                  /* LAHF/SAHF */
    for (uint32_t i = 0; i < 3; i++)
        cpuid(0x80000002 + i, 0, (uint32_t *)(brand + 16 * i));
    brand[48] = 0;
    printf("brand: %s\n", brand);
    int printable = 1;
    for (int i = 0; i < 48 && brand[i]; i++)
        printable &= brand[i] >= 0x20 && brand[i] < 0x7f;
    CHECK(printable && brand[0]);
    cpuid(0x80000008, 0, r);
    printf("address widths: %u physical, %u linear\n", r[0] & 0xff, (r[0] >> 8) & 0xff);
    CHECK((r[0] & 0xff) >= 36 && (r[0] & 0xff) <= 52);
    CHECK((r[0] >> 8 & 0xff) >= 48);

    uint64_t apic = rdmsr(MSR_APIC_BASE);
    CHECK_EQ(apic & ~0xfffull, 0xfee00000);
    CHECK(apic & (1 << 8)); /* BSP */
    CHECK_EQ(rdmsr(MSR_PAT), 0x0007040600070406ull);

    uint64_t efer = rdmsr(MSR_EFER);
    CHECK_EQ(efer & (EFER_LME | EFER_LMA), EFER_LME | EFER_LMA);
    CHECK(wrmsr_faults(MSR_EFER, efer | 2)); /* bit 1 is reserved */
    CHECK_EQ(rdmsr(MSR_EFER), efer);

    wrmsr(MSR_STAR, 0x0023001000000000ull);
    CHECK_EQ(rdmsr(MSR_STAR), 0x0023001000000000ull);
    wrmsr(MSR_LSTAR, 0xffffffff81000000ull);
    CHECK_EQ(rdmsr(MSR_LSTAR), 0xffffffff81000000ull);
    CHECK(wrmsr_faults(MSR_LSTAR, 0x0000800000000000ull));
    CHECK_EQ(rdmsr(MSR_LSTAR), 0xffffffff81000000ull);

    wrmsr(MSR_KERNEL_GS_BASE, 0x123456789000ull);
    wrmsr(MSR_GS_BASE, 0x1000);
    __asm__ volatile("swapgs" ::: "memory");
    CHECK_EQ(rdmsr(MSR_GS_BASE), 0x123456789000ull);
    CHECK_EQ(rdmsr(MSR_KERNEL_GS_BASE), 0x1000);
    __asm__ volatile("swapgs" ::: "memory");
    CHECK_EQ(rdmsr(MSR_GS_BASE), 0x1000);

    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    uint64_t t0 = (uint64_t)hi << 32 | lo, t1;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    t1 = (uint64_t)hi << 32 | lo;
    CHECK(t1 > t0);
    wrmsr(MSR_TSC, 1ull << 40);
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    t1 = (uint64_t)hi << 32 | lo;
    CHECK(t1 >= 1ull << 40 && t1 < (1ull << 40) + 100000000);

    CHECK(rdmsr_faults(0x4b564dff)); /* nothing there */
    return check_result();
}
