/* test_rtc.c - the RTC against guest time: calendar registers in BCD/binary
 * and 12/24-hour modes, setting the clock, UIP, periodic, update-ended and
 * alarm interrupts on IRQ 8, register C, the NMI mask bit and CMOS memory size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "devices/rtc.h"
#include "emu/cpumodel.h"

static machine_t *m;
static rtc_t *rtc;
static bool irq_level;
static int irq_rises;
static uint64_t HZ;

static void irq(void *o, bool level)
{
    irq_rises += level && !irq_level;
    irq_level = level;
}
static uint8_t rd(int idx) { io_write(m, 0x70, 1, idx); return (uint8_t)io_read(m, 0x71, 1); }
static void wr(int idx, uint8_t v) { io_write(m, 0x70, 1, idx); io_write(m, 0x71, 1, v); }
static void run_to(uint64_t c)
{
    while (m->next_event <= c) {
        m->cpu[0]->cycles = m->next_event;
        events_fire(m, m->next_event);
    }
    m->cpu[0]->cycles = c;
}

static int setup(void **state)
{
    int64_t t;
    assert_true(rtc_parse_time("2026-11-22T13:02:58", &t));
    m = machine_new(16 << 20, cpu_model_default(), 1);
    HZ = (uint64_t)m->cpu[0]->model->core_mhz * 1000000u;
    rtc = rtc_new(t);
    rtc_attach(m, rtc, irq, NULL);
    irq_level = false;
    irq_rises = 0;
    return 0;
}
static int teardown(void **state)
{
    rtc_free(rtc);
    machine_free(m);
    return 0;
}

static void test_calendar_in_bcd_then_binary_12h(void **state)
{
    assert_int_equal(rd(0x00), 0x58);
    assert_int_equal(rd(0x02), 0x02);
    assert_int_equal(rd(0x04), 0x13);
    assert_int_equal(rd(0x07), 0x22);
    assert_int_equal(rd(0x08), 0x11);
    assert_int_equal(rd(0x09), 0x26);
    assert_int_equal(rd(0x32), 0x20);
    assert_int_equal(rd(0x06), 1); /* 2026-11-22 is a Sunday */
    run_to(3 * HZ);                /* three seconds later: 13:03:01 */
    assert_int_equal(rd(0x00), 0x01);
    assert_int_equal(rd(0x02), 0x03);
    wr(0x0b, 0x04); /* binary, 12-hour */
    assert_int_equal(rd(0x04), 0x80 | 1); /* 1 PM */
    assert_int_equal(rd(0x00), 1);
}

static void test_guest_sets_the_clock(void **state)
{
    run_to(HZ / 2);
    wr(0x0b, 0x82); /* SET, 24h, BCD */
    wr(0x00, 0x30);
    wr(0x02, 0x45);
    wr(0x04, 0x23);
    wr(0x07, 0x31);
    wr(0x08, 0x12);
    wr(0x09, 0x99);
    wr(0x32, 0x19);
    run_to(5 * HZ); /* frozen while SET */
    assert_int_equal(rd(0x00), 0x30);
    wr(0x0b, 0x02); /* clear SET at cycle 5 * HZ */
    run_to(6 * HZ - 1);
    assert_int_equal(rd(0x00), 0x30);
    run_to(6 * HZ + 30 * HZ); /* 31 s after the set: 1999-12-31 23:46:01 */
    assert_int_equal(rd(0x00), 0x01);
    assert_int_equal(rd(0x02), 0x46);
    assert_int_equal(rd(0x09), 0x99);
}

static void test_uip_before_each_update(void **state)
{
    run_to(HZ - HZ / 1000000 * 245);
    assert_int_equal(rd(0x0a) & 0x80, 0);
    run_to(HZ - HZ / 1000000 * 243);
    assert_int_equal(rd(0x0a) & 0x80, 0x80);
    run_to(HZ);
    assert_int_equal(rd(0x0a) & 0x80, 0);
}

static void test_periodic_interrupt(void **state)
{
    wr(0x0a, 0x26);         /* 1024 Hz */
    wr(0x0b, 0x42);         /* PIE */
    run_to(HZ / 1024 - 10); /* 32 ticks of 32.768 kHz: the first period */
    assert_false(irq_level);
    run_to(HZ / 1024 + 1);
    assert_true(irq_level);
    uint8_t c = rd(0x0c);
    assert_int_equal(c & 0xc0, 0xc0); /* IRQF and PF */
    assert_false(irq_level);          /* reading C clears IRQF */
    for (uint64_t k = 2; k <= 10; k++) { /* each period raises IRQ 8 once C was read */
        run_to(k * (HZ / 1024) + 1);
        assert_true(irq_level);
        rd(0x0c);
    }
    assert_int_equal(irq_rises, 10);
}

static void test_update_and_alarm_interrupts(void **state)
{
    wr(0x01, 0xc0); /* alarm: any second */
    wr(0x03, 0x03); /* at minute 03 */
    wr(0x05, 0xc0); /* any hour */
    wr(0x0b, 0x22); /* AIE only */
    run_to(2 * HZ - 1); /* 13:02:59: no match */
    assert_false(irq_level);
    run_to(2 * HZ); /* 13:03:00 */
    assert_true(irq_level);
    assert_int_equal(rd(0x0c) & 0x30, 0x30); /* AF and UF (UF is set even when UIE is off) */
    wr(0x0b, 0x12); /* UIE */
    run_to(3 * HZ);
    assert_true(irq_level);
    assert_int_equal(rd(0x0c) & 0x90, 0x90);
}

static void test_nmi_mask_and_index(void **state)
{
    io_write(m, 0x70, 1, 0x8f);
    assert_true(rtc_nmi_masked(rtc));
    io_write(m, 0x70, 1, 0x0f);
    assert_false(rtc_nmi_masked(rtc));
    assert_int_equal(rd(0x0d), 0x80);
}

static void test_memory_size_bytes(void **state)
{
    rtc_set_memory(rtc, 512ull << 20, 1ull << 30);
    assert_int_equal(rd(0x15) | rd(0x16) << 8, 640);
    assert_int_equal(rd(0x34) | rd(0x35) << 8, (512 - 16) * 16);
    assert_int_equal(rd(0x5b) | rd(0x5c) << 8 | rd(0x5d) << 16, 1 << 14);
}

static void test_parse_time_rejects_garbage(void **state)
{
    int64_t t;
    assert_true(rtc_parse_time("1970-01-01T00:00:00", &t));
    assert_int_equal(t, 0);
    assert_false(rtc_parse_time("2026-13-01T00:00:00", &t));
    assert_false(rtc_parse_time("2026-02-31T00:00:00", &t));
    assert_false(rtc_parse_time("2026-04-31T00:00:00", &t));
    assert_false(rtc_parse_time("2100-02-29T00:00:00", &t)); /* not a leap year */
    assert_true(rtc_parse_time("2000-02-29T00:00:00", &t));  /* a leap year */
    assert_false(rtc_parse_time("yesterday", &t));
    assert_false(rtc_parse_time("2026-01-01T00:00:00Z", &t));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_calendar_in_bcd_then_binary_12h, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guest_sets_the_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uip_before_each_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_periodic_interrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_and_alarm_interrupts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nmi_mask_and_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_size_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_time_rejects_garbage, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
