/* test_platform_ports.c - PCI configuration mechanism #1 with the host bridge,
 * and every reset path (8042 0xfe, 8042 output port, port 0x92, 0xcf9). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "devices/pci.h"
#include "devices/reset.h"
#include "emu/cpumodel.h"

static machine_t *m;
static pci_t *pci;
static reset_ctl_t rst;

static int setup(void **state)
{
    m = machine_new(16 << 20, cpu_model_default(), 1);
    pci = pci_new();
    pci_attach(m, pci);
    reset_attach(m, &rst);
    return 0;
}
static int teardown(void **state)
{
    pci_free(pci);
    machine_free(m);
    return 0;
}

static uint32_t cfg_read(int bus, int dev, int fn, int reg, int size)
{
    io_write(m, 0xcf8, 4, 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc));
    return (uint32_t)io_read(m, 0xcfc + (reg & 3), size);
}

static void test_host_bridge_and_empty_bus(void **state)
{
    assert_int_equal(cfg_read(0, 0, 0, 0, 4), 0x12378086);
    assert_int_equal(cfg_read(0, 0, 0, 0x0a, 2), 0x0600); /* class: host bridge */
    assert_int_equal(cfg_read(0, 0, 0, 0x0e, 1), 0x00);
    assert_int_equal(cfg_read(0, 1, 0, 0, 4), 0xffffffffu);
    assert_int_equal(cfg_read(0, 31, 7, 0, 2), 0xffff);
    assert_int_equal(cfg_read(1, 0, 0, 0, 4), 0xffffffffu);
    /* CONFIG_ADDRESS reads back without its reserved bits */
    io_write(m, 0xcf8, 4, 0xffffffffu);
    assert_int_equal(io_read(m, 0xcf8, 4), 0x80fffffcu);
    /* the vendor ID is read-only */
    io_write(m, 0xcf8, 4, 0x80000000u);
    io_write(m, 0xcfc, 2, 0x1234);
    assert_int_equal(cfg_read(0, 0, 0, 0, 2), 0x8086);
}

static void test_byte_write_to_cf9_is_not_pci(void **state)
{
    io_write(m, 0xcf9, 1, 0x02); /* system reset bit without RST_CPU: nothing */
    assert_int_equal(m->exit_reason, MEXIT_NONE);
    io_write(m, 0xcf9, 1, 0x06);
    assert_int_equal(m->exit_reason, MEXIT_RESET);
}

static void test_8042_pulse_reset(void **state)
{
    assert_int_equal(io_read(m, 0x64, 1) & 0x02, 0); /* input buffer empty: ready for a command */
    io_write(m, 0x64, 1, 0xfe);
    assert_int_equal(m->exit_reason, MEXIT_RESET);
}

static void test_8042_output_port_reset_line(void **state)
{
    io_write(m, 0x64, 1, 0xd1);
    io_write(m, 0x60, 1, 0x03); /* reset line high: nothing */
    assert_int_equal(m->exit_reason, MEXIT_NONE);
    io_write(m, 0x64, 1, 0xd1);
    io_write(m, 0x60, 1, 0x02);
    assert_int_equal(m->exit_reason, MEXIT_RESET);
}

static void test_port92(void **state)
{
    assert_int_equal(io_read(m, 0x92, 1) & 0x02, 0x02); /* A20 reads enabled */
    io_write(m, 0x92, 1, 0x02);
    assert_int_equal(m->exit_reason, MEXIT_NONE);
    io_write(m, 0x92, 1, 0x03);
    assert_int_equal(m->exit_reason, MEXIT_RESET);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_host_bridge_and_empty_bus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_byte_write_to_cf9_is_not_pci, setup, teardown),
        cmocka_unit_test_setup_teardown(test_8042_pulse_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_8042_output_port_reset_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port92, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
