/* test_pic.c - the 8259A pair: initialisation, masking, priority, EOI forms,
 * cascade, auto-EOI, level triggering, spurious IRQ 7, poll and register reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "devices/pic8259.h"
#include "emu/cpumodel.h"

static machine_t *m;
static pic_t *pic;
static int int_changes;
static void notify(void *o, bool level) { int_changes++; }

static void outb(uint16_t port, uint8_t v) { io_write(m, port, 1, v); }
static uint8_t inb(uint16_t port) { return (uint8_t)io_read(m, port, 1); }

/* The classic BIOS initialisation: vectors 0x20 and 0x28, cascade on IR2. */
static void init_pics(uint8_t icw4)
{
    outb(0x20, 0x11); outb(0xa0, 0x11);
    outb(0x21, 0x20); outb(0xa1, 0x28);
    outb(0x21, 0x04); outb(0xa1, 0x02);
    outb(0x21, icw4); outb(0xa1, icw4);
    outb(0x21, 0x00); outb(0xa1, 0x00);
}

static int setup(void **state)
{
    m = machine_new(16 << 20, cpu_model_default(), 1);
    pic = pic_new();
    pic_attach(m, pic, notify, NULL);
    init_pics(0x01);
    int_changes = 0;
    return 0;
}
static int teardown(void **state)
{
    pic_free(pic);
    machine_free(m);
    return 0;
}

static void test_edge_request_ack_and_eoi(void **state)
{
    pic_set_irq(pic, 1, true);
    assert_true(pic_int_output(pic));
    assert_int_equal(int_changes, 1);
    assert_int_equal(pic_ack(pic), 0x21);
    assert_false(pic_int_output(pic));
    outb(0x20, 0x0b); /* OCW3: read ISR */
    assert_int_equal(inb(0x20), 0x02);
    outb(0x20, 0x20); /* non-specific EOI */
    assert_int_equal(inb(0x20), 0x00);
    /* the line is still high: an edge-triggered input needs a new edge */
    assert_false(pic_int_output(pic));
    pic_set_irq(pic, 1, false);
    pic_set_irq(pic, 1, true);
    assert_true(pic_int_output(pic));
}

static void test_priority_and_nesting(void **state)
{
    pic_set_irq(pic, 4, true);
    assert_int_equal(pic_ack(pic), 0x24);
    pic_set_irq(pic, 6, true); /* lower priority than IRQ 4 in service */
    assert_false(pic_int_output(pic));
    pic_set_irq(pic, 3, true); /* higher priority: nests */
    assert_true(pic_int_output(pic));
    assert_int_equal(pic_ack(pic), 0x23);
    outb(0x20, 0x20);          /* EOI ends IRQ 3 (highest in service) */
    outb(0x20, 0x64);          /* specific EOI for IRQ 4 */
    assert_true(pic_int_output(pic));
    assert_int_equal(pic_ack(pic), 0x26);
}

static void test_mask(void **state)
{
    outb(0x21, 0x01);
    assert_int_equal(inb(0x21), 0x01);
    pic_set_irq(pic, 0, true);
    assert_false(pic_int_output(pic));
    outb(0x21, 0x00);
    assert_true(pic_int_output(pic));
    assert_int_equal(pic_ack(pic), 0x20);
}

static void test_cascade_slave_vector(void **state)
{
    pic_set_irq(pic, 12, true);
    assert_true(pic_int_output(pic));
    assert_int_equal(pic_ack(pic), 0x2c);
    outb(0xa0, 0x0b);
    assert_int_equal(inb(0xa0), 0x10);
    outb(0x20, 0x0b);
    assert_int_equal(inb(0x20), 0x04); /* the master's cascade input is in service */
}

static void test_spurious_irq7(void **state)
{
    pic_set_irq(pic, 5, true);
    outb(0x21, 0x20); /* masked between the request and INTA */
    assert_int_equal(pic_ack(pic), 0x27);
    outb(0x20, 0x0b);
    assert_int_equal(inb(0x20), 0x00); /* a spurious IRQ 7 sets no ISR bit */
}

static void test_auto_eoi(void **state)
{
    init_pics(0x03);
    pic_set_irq(pic, 3, true);
    assert_int_equal(pic_ack(pic), 0x23);
    outb(0x20, 0x0b);
    assert_int_equal(inb(0x20), 0x00);
}

static void test_level_triggered_via_elcr(void **state)
{
    outb(0x4d1, 0x02); /* IRQ 9 level-triggered (bit 1 of the slave's ELCR) */
    assert_int_equal(inb(0x4d1), 0x02);
    outb(0x4d0, 0x07); /* IRQ 0-2 cannot be level-triggered */
    assert_int_equal(inb(0x4d0), 0x00);
    pic_set_irq(pic, 9, true);
    assert_int_equal(pic_ack(pic), 0x29);
    outb(0xa0, 0x20);
    outb(0x20, 0x20);
    assert_true(pic_int_output(pic)); /* still asserted: requests again */
    pic_set_irq(pic, 9, false);
    assert_false(pic_int_output(pic));
}

static void test_rotation_and_poll(void **state)
{
    outb(0x20, 0xc7); /* set priority: IRQ 7 lowest (the default) */
    outb(0x20, 0xc2); /* IRQ 2 lowest: IRQ 3 now has the highest priority */
    pic_set_irq(pic, 1, true);
    pic_set_irq(pic, 5, true);
    assert_int_equal(pic_ack(pic), 0x25);
    outb(0x20, 0x20);
    outb(0x20, 0x0c); /* poll */
    assert_int_equal(inb(0x20), 0x81);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_edge_request_ack_and_eoi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_priority_and_nesting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mask, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cascade_slave_vector, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spurious_irq7, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auto_eoi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_triggered_via_elcr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation_and_poll, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
