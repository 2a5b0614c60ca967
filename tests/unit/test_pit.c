/* test_pit.c - the 8254 against guest time: counter values, OUT levels, IRQ 0
 * edges at the exact cycle, latches, read-back, gating through port 0x61, BCD. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "devices/pit8254.h"
#include "emu/cpumodel.h"

static machine_t *m;
static pit_t *pit;
static int irqs;
static uint64_t irq_cycle[16];

static void irq(void *o, bool level)
{
    if (level && irqs < 16)
        irq_cycle[irqs] = machine_now(m);
    irqs += level;
}
static void outb(uint16_t port, uint8_t v) { io_write(m, port, 1, v); }
static uint8_t inb(uint16_t port) { return (uint8_t)io_read(m, port, 1); }
/* Advance guest time to cycle c, firing device events on the way. */
static void run_to(uint64_t c)
{
    while (m->next_event <= c) {
        m->cpu[0]->cycles = m->next_event;
        events_fire(m, m->next_event);
    }
    m->cpu[0]->cycles = c;
}
/* First cycle at which PIT tick t has happened. */
static uint64_t cyc(uint64_t t)
{
    uint64_t hz = (uint64_t)m->cpu[0]->model->core_mhz * 1000000u;
    return (uint64_t)(((unsigned __int128)t * hz + PIT_HZ - 1) / PIT_HZ);
}

static int setup(void **state)
{
    m = machine_new(16 << 20, cpu_model_default(), 1);
    pit = pit_new();
    pit_attach(m, pit, irq, NULL);
    irqs = 0;
    return 0;
}
static int teardown(void **state)
{
    pit_free(pit);
    machine_free(m);
    return 0;
}

static void test_mode2_irq_at_exact_cycles(void **state)
{
    outb(0x43, 0x34); /* channel 0, LSB/MSB, mode 2 */
    outb(0x40, 1193 & 0xff);
    outb(0x40, 1193 >> 8); /* loaded at tick 0: counting starts at tick 1 */
    run_to(cyc(1 + 3 * 1193) + 10);
    assert_int_equal(irqs, 3);
    assert_int_equal(irq_cycle[0], cyc(1 + 1193));
    assert_int_equal(irq_cycle[2], cyc(1 + 3 * 1193));
}

static void test_counter_latch_reads_the_count(void **state)
{
    outb(0x43, 0x30); /* channel 0, LSB/MSB, mode 0 */
    outb(0x40, 0x00);
    outb(0x40, 0x10); /* 4096 */
    run_to(cyc(1 + 100));
    outb(0x43, 0x00); /* latch channel 0 */
    run_to(cyc(1 + 200)); /* the latch holds while time passes */
    uint16_t v = inb(0x40);
    v |= inb(0x40) << 8;
    assert_int_equal(v, 4096 - 100);
    assert_int_equal(irqs, 0);
    run_to(cyc(1 + 4096));
    assert_int_equal(irqs, 1); /* mode 0: one interrupt at terminal count */
    run_to(cyc(1 + 3 * 4096));
    assert_int_equal(irqs, 1);
}

static void test_channel2_gate_and_out_through_port61(void **state)
{
    outb(0x61, 0x00);       /* gate low */
    outb(0x43, 0xb0);       /* channel 2, LSB/MSB, mode 0 */
    outb(0x42, 0xe8);
    outb(0x42, 0x03);       /* 1000 ticks */
    run_to(cyc(5000));
    assert_int_equal(inb(0x61) & 0x20, 0); /* gate low: not counting, OUT low */
    outb(0x61, 0x01);       /* gate high at tick 5000 */
    run_to(cyc(5000 + 999));
    assert_int_equal(inb(0x61) & 0x20, 0);
    run_to(cyc(5000 + 1000));
    assert_int_equal(inb(0x61) & 0x20, 0x20);
}

static void test_readback_status_and_count(void **state)
{
    outb(0x43, 0x76); /* channel 1, LSB/MSB, mode 3 */
    outb(0x41, 0x00);
    outb(0x41, 0x01); /* 256 */
    run_to(cyc(1 + 10));
    outb(0x43, 0xc4); /* read-back count and status of channel 1 */
    uint8_t status = inb(0x41);
    assert_int_equal(status & 0x3f, 0x36); /* rw 3, mode 3, binary */
    assert_int_equal(status & 0x80, 0x80); /* first half of the square wave: OUT high */
    assert_int_equal(status & 0x40, 0);    /* count loaded */
    uint16_t v = inb(0x41);
    v |= inb(0x41) << 8;
    assert_int_equal(v, 256 - 20); /* mode 3 counts down by two */
}

static void test_bcd_counting(void **state)
{
    outb(0x43, 0x31); /* channel 0, LSB/MSB, mode 0, BCD */
    outb(0x40, 0x00);
    outb(0x40, 0x10); /* BCD 1000 */
    run_to(cyc(1 + 1));
    outb(0x43, 0x00);
    uint16_t v = inb(0x40);
    v |= inb(0x40) << 8;
    assert_int_equal(v, 0x0999);
}

static void test_control_register_reads_float(void **state)
{
    assert_int_equal(inb(0x43), 0xff);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mode2_irq_at_exact_cycles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counter_latch_reads_the_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_channel2_gate_and_out_through_port61, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readback_status_and_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bcd_counting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_control_register_reads_float, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
