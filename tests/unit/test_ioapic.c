/* test_ioapic.c - the IOAPIC in front of the LAPICs of a 4-vCPU machine:
 * the indirect register window, version and ID, redirection-entry bits,
 * edge and level inputs, polarity, masking, remote IRR and its clearing by
 * the LAPIC's EOI broadcast and by the EOI register, physical, logical and
 * lowest-priority destinations, ExtINT, and the ISA IRQ router. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "devices/ioapic.h"
#include "emu/cpumodel.h"

static machine_t *m;
static pic_t *pic;
static lapic_system_t *s;
static ioapic_t *io;

enum { TPR = 0x80, EOI = 0xb0, LDR = 0xd0, SVR = 0xf0, IRR = 0x200, TMR = 0x180 };

static uint32_t io_rd(uint8_t reg)
{
    phys_write(m, IOAPIC_BASE, 4, reg);
    return (uint32_t)phys_read(m, IOAPIC_BASE + 0x10, 4);
}
static void io_wr(uint8_t reg, uint32_t v)
{
    phys_write(m, IOAPIC_BASE, 4, reg);
    phys_write(m, IOAPIC_BASE + 0x10, 4, v);
}
static void set_entry(int pin, uint32_t lo, uint8_t dest)
{
    io_wr(0x11 + 2 * pin, (uint32_t)dest << 24);
    io_wr(0x10 + 2 * pin, lo);
}
static uint32_t apic_rd(int cpu, uint32_t off)
{
    m->cur = m->cpu[cpu];
    return (uint32_t)phys_read(m, LAPIC_DEFAULT_BASE + off, 4);
}
static void apic_wr(int cpu, uint32_t off, uint32_t v)
{
    m->cur = m->cpu[cpu];
    phys_write(m, LAPIC_DEFAULT_BASE + off, 4, v);
}
static bool irr_has(int cpu, int vec) { return (apic_rd(cpu, IRR + (vec / 32) * 16) >> (vec % 32)) & 1; }
static int ack(int cpu) { return m->intr_ack(m->intr_opaque, cpu); }

static int setup(void **state)
{
    m = machine_new(16 << 20, cpu_model_default(), 4);
    pic = pic_new();
    s = lapics_attach(m, pic);
    pic_attach(m, pic, lapics_pic_notify, s);
    io = ioapic_attach(m, s);
    for (int i = 0; i < 4; i++)
        apic_wr(i, SVR, 0x1ff);
    return 0;
}
static int teardown(void **state)
{
    ioapic_free(io);
    lapics_free(s);
    pic_free(pic);
    machine_free(m);
    return 0;
}

static void test_registers(void **state)
{
    assert_int_equal(io_rd(0x01), 0x00170020); /* version 20H, 24 entries */
    assert_int_equal(io_rd(0x00), 0);
    io_wr(0x00, 0xff000000u);
    assert_int_equal(io_rd(0x00), 0x0f000000); /* 4-bit ID */
    assert_int_equal(io_rd(0x02), 0x0f000000);
    io_wr(0x01, 0);
    assert_int_equal(io_rd(0x01), 0x00170020); /* read-only */
    for (int pin = 0; pin < IOAPIC_PINS; pin++) {
        assert_int_equal(io_rd(0x10 + 2 * pin), 0x10000); /* masked */
        assert_int_equal(io_rd(0x11 + 2 * pin), 0);
    }
    io_wr(0x10, 0xffffffffu);
    assert_int_equal(io_rd(0x10), 0x1afff); /* delivery status and remote IRR are read-only */
    io_wr(0x11, 0xffffffffu);
    assert_int_equal(io_rd(0x11), 0xff000000u);
    phys_write(m, IOAPIC_BASE, 4, 0x23);
    assert_int_equal(phys_read(m, IOAPIC_BASE, 4), 0x23); /* IOREGSEL reads back */
    assert_int_equal(io_rd(0x40), 0); /* beyond the table */
}

static void test_edge(void **state)
{
    set_entry(1, 0x31, 1); /* fixed, physical, edge, active high, to APIC 1 */
    ioapic_set_irq(io, 1, true);
    assert_true(irr_has(1, 0x31));
    assert_false(irr_has(0, 0x31));
    assert_int_equal((apic_rd(1, TMR + 0x10) >> 17) & 1, 0); /* edge: TMR clear */
    assert_int_equal(ack(1), 0x31);
    apic_wr(1, EOI, 0);
    ioapic_set_irq(io, 1, true); /* no new edge */
    assert_false(irr_has(1, 0x31));
    ioapic_set_irq(io, 1, false);
    ioapic_set_irq(io, 1, true);
    assert_true(irr_has(1, 0x31));
    assert_int_equal(ack(1), 0x31);
    apic_wr(1, EOI, 0);
    /* an edge on a masked entry is lost */
    ioapic_set_irq(io, 1, false);
    set_entry(1, 0x10031, 1);
    ioapic_set_irq(io, 1, true);
    set_entry(1, 0x31, 1);
    assert_false(irr_has(1, 0x31));
    /* active low: the falling edge asserts */
    set_entry(4, 0x2000 | 0x34, 2);
    ioapic_set_irq(io, 4, true);
    assert_false(irr_has(2, 0x34));
    ioapic_set_irq(io, 4, false);
    assert_true(irr_has(2, 0x34));
}

static void test_level_remote_irr_and_eoi(void **state)
{
    set_entry(9, 0x8000 | 0x39, 0); /* level, active high, to APIC 0 */
    ioapic_set_irq(io, 9, true);
    assert_true(irr_has(0, 0x39));
    assert_true(io_rd(0x10 + 18) & 0x4000); /* remote IRR */
    assert_int_equal((apic_rd(0, TMR + 0x10) >> 25) & 1, 1); /* level: TMR set */
    assert_int_equal(ack(0), 0x39);
    /* the LAPIC's EOI clears remote IRR; the line is still high: sent again */
    apic_wr(0, EOI, 0);
    assert_true(irr_has(0, 0x39));
    assert_true(io_rd(0x10 + 18) & 0x4000);
    assert_int_equal(ack(0), 0x39);
    ioapic_set_irq(io, 9, false);
    apic_wr(0, EOI, 0);
    assert_false(irr_has(0, 0x39));
    assert_false(io_rd(0x10 + 18) & 0x4000);
    /* the EOI register (version 20H) does the same */
    ioapic_set_irq(io, 9, true);
    assert_int_equal(ack(0), 0x39);
    ioapic_set_irq(io, 9, false);
    phys_write(m, IOAPIC_BASE + 0x40, 4, 0x39);
    assert_false(io_rd(0x10 + 18) & 0x4000);
    apic_wr(0, EOI, 0);
    /* a masked level entry is sent when unmasked while its line is high */
    set_entry(10, 0x18000 | 0x3a, 0);
    ioapic_set_irq(io, 10, true);
    assert_false(irr_has(0, 0x3a));
    set_entry(10, 0x8000 | 0x3a, 0);
    assert_true(irr_has(0, 0x3a));
    /* no APIC accepted it: remote IRR stays clear */
    set_entry(11, 0x8000 | 0x3b, 7);
    ioapic_set_irq(io, 11, true);
    assert_false(io_rd(0x10 + 22) & 0x4000);
}

static void test_destinations(void **state)
{
    for (int i = 0; i < 4; i++)
        apic_wr(i, LDR, (1u << i) << 24);
    set_entry(5, 0x800 | 0x45, 0x0c); /* logical: APICs 2 and 3 */
    ioapic_set_irq(io, 5, true);
    for (int i = 0; i < 4; i++)
        assert_int_equal(irr_has(i, 0x45), i >= 2);
    set_entry(6, 0x46, 0xff); /* physical broadcast */
    ioapic_set_irq(io, 6, true);
    for (int i = 0; i < 4; i++)
        assert_true(irr_has(i, 0x46));
    /* lowest priority among APICs 0, 1, 3 */
    apic_wr(0, TPR, 0x40);
    apic_wr(1, TPR, 0x30);
    apic_wr(3, TPR, 0x10);
    set_entry(7, 0x800 | 0x100 | 0x47, 0x0b);
    ioapic_set_irq(io, 7, true);
    for (int i = 0; i < 4; i++)
        assert_int_equal(irr_has(i, 0x47), i == 3);
    /* NMI delivery */
    set_entry(8, 0x400, 2);
    ioapic_set_irq(io, 8, true);
    assert_true(m->cpu[2]->nmi_pending);
    /* ExtINT: the acknowledge goes to the 8259 */
    io_write(m, 0x20, 1, 0x11);
    io_write(m, 0x21, 1, 0x30);
    io_write(m, 0x21, 1, 0x04);
    io_write(m, 0x21, 1, 0x01);
    io_write(m, 0x21, 1, 0x00);
    pic_set_irq(pic, 4, true);
    set_entry(0, 0x700, 1);
    ioapic_set_irq(io, 0, true);
    assert_true(m->cpu[1]->intr_line);
    apic_wr(1, TPR, 0xf0); /* ExtINT ignores the task priority */
    assert_int_equal(ack(1), 0x34);
}

static void test_isa_router(void **state)
{
    isa_irq_router_t r;
    isa_irq_router_init(&r, pic, io);
    assert_int_equal(ioapic_isa_pin(0), 2);
    assert_int_equal(ioapic_isa_pin(4), 4);
    set_entry(2, 0x30, 0);
    set_entry(0, 0x3f, 0);
    isa_irq_line(&r.line[0], true); /* the PIT's IRQ 0 */
    assert_true(irr_has(0, 0x30));
    assert_false(irr_has(0, 0x3f));
    assert_true(pic->chip[0].irr & 1); /* and the 8259 saw it too */
    isa_irq_set(&r, 16, true);          /* out of range: ignored */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_registers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_remote_irr_and_eoi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destinations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_isa_router, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
