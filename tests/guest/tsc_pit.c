/* tsc_pit.c - calibrate the TSC against the PIT the three ways kernels do,
 * and get the model's TSC frequency (CPUID 0x15) each time, within 100 ppm
 * (one PIT tick in the 10 ms measured is 84 ppm):
 *  - channel 2 with the gate on port 0x61 in mode 0, polling OUT (bit 5 of
 *    port 0x61), as Linux's pit_calibrate_tsc;
 *  - channel 0 in mode 0, polling OUT through the read-back status latch;
 *  - channel 0 in mode 2, the counter latched twice over 10 ms.
 * The 8259s and the IOAPIC stay masked: IRQ 0 goes nowhere. */
#include "guest.h"

#define PIT_HZ 1193182ull
#define TICKS 11932 /* 10 ms */

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

static uint64_t model_hz(void)
{
    uint32_t r[4];
    cpuid(0x15, 0, r);
    return (uint64_t)r[2] * r[1] / (r[0] ? r[0] : 1);
}

static void check_close(const char *how, uint64_t measured, uint64_t want)
{
    int64_t ppm = ((int64_t)measured - (int64_t)want) * 1000000 / (int64_t)want;
    printf("%s: %lu Hz (%ld ppm)\n", how, measured, (long)ppm);
    CHECK(ppm > -100 && ppm < 100);
}

/* Mode 0 sets OUT high N + 1 clocks after the count is written (it loads on
 * the first clock, then counts N down to 0). */
static uint64_t channel2_gate(void)
{
    outb(0x61, (inb(0x61) & ~0x02) | 0x01); /* gate high, speaker off */
    outb(0x43, 0xb0);                       /* channel 2, LSB then MSB, mode 0 */
    outb(0x42, TICKS & 0xff);
    uint64_t t0 = rdtsc();
    outb(0x42, TICKS >> 8);
    CHECK_EQ(inb(0x61) & 0x20, 0);
    while (!(inb(0x61) & 0x20))
        ;
    return (rdtsc() - t0) * PIT_HZ / (TICKS + 1);
}

static uint64_t channel0_readback(void)
{
    outb(0x43, 0x30); /* channel 0, LSB then MSB, mode 0 */
    outb(0x40, TICKS & 0xff);
    uint64_t t0 = rdtsc();
    outb(0x40, TICKS >> 8);
    uint8_t status;
    do {
        outb(0x43, 0xe2); /* read-back: status of channel 0 only */
        status = inb(0x40);
    } while (!(status & 0x80));
    uint64_t t1 = rdtsc();
    CHECK_EQ(status & 0x3f, 0x30); /* access LSB/MSB, mode 0, binary */
    return (t1 - t0) * PIT_HZ / (TICKS + 1);
}

static uint16_t latch0(void)
{
    outb(0x43, 0x00);
    uint16_t lo = inb(0x40);
    return (uint16_t)(lo | inb(0x40) << 8);
}

static uint64_t channel0_latch(void)
{
    outb(0x43, 0x34); /* channel 0, mode 2, full 16-bit period */
    outb(0x40, 0);
    outb(0x40, 0);
    uint16_t c0 = latch0();
    uint64_t t0 = rdtsc(), t1;
    uint32_t elapsed;
    do {
        uint16_t c = latch0();
        t1 = rdtsc();
        elapsed = (uint16_t)(c0 - c); /* counts down, 65536 per period */
    } while (elapsed < TICKS);
    return (t1 - t0) * PIT_HZ / elapsed;
}

int test_main(const struct mb_info *mbi)
{
    uint64_t want = model_hz();
    printf("model TSC: %lu Hz\n", want);
    CHECK(want != 0); /* the model must enumerate CPUID leaf 0x15 */
    if (!want)
        return check_result();
    check_close("PIT channel 2 gate, mode 0", channel2_gate(), want);
    check_close("PIT channel 0 read-back, mode 0", channel0_readback(), want);
    check_close("PIT channel 0 latch, mode 2", channel0_latch(), want);
    return check_result();
}
