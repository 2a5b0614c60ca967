/* test_pmtimer.c - the ACPI PM timer against guest time: its 3.579545 MHz
 * rate to the cycle, the 24-bit wrap, 1/2/4-byte reads and the port base
 * given at attach time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "devices/pmtimer.h"
#include "emu/cpumodel.h"

static machine_t *m;
static pmtimer_t *pm;
static uint64_t HZ;

static void at(uint64_t c) { m->cpu[0]->cycles = c; }
static uint32_t rd(int size) { return (uint32_t)io_read(m, PMTIMER_PORT, size); }
/* The first cycle at which PM tick t has happened, computed independently. */
static uint64_t cyc(uint64_t t) { return (uint64_t)(((unsigned __int128)t * HZ + 3579545 - 1) / 3579545); }

static int setup(void **state)
{
    m = machine_new(16 << 20, cpu_model_default(), 1);
    HZ = (uint64_t)m->cpu[0]->model->core_mhz * 1000000u;
    pm = pmtimer_attach(m, PMTIMER_PORT);
    return 0;
}
static int teardown(void **state)
{
    pmtimer_free(pm);
    machine_free(m);
    return 0;
}

static void test_rate_exact_to_the_cycle(void **state)
{
    assert_int_equal(rd(4), 0);
    at(cyc(1) - 1);
    assert_int_equal(rd(4), 0);
    at(cyc(1));
    assert_int_equal(rd(4), 1);
    at(cyc(1000000) - 1);
    assert_int_equal(rd(4), 999999);
    at(cyc(1000000));
    assert_int_equal(rd(4), 1000000);
    at(HZ); /* one second of guest time: 3,579,545 ticks */
    assert_int_equal(rd(4), 3579545);
}

static void test_24bit_wrap(void **state)
{
    at(cyc(0xffffff));
    assert_int_equal(rd(4), 0xffffff);
    at(cyc(0x1000000));
    assert_int_equal(rd(4), 0); /* bits 31:24 stay 0: TMR_VAL_EXT = 0 */
    at(cyc(0x1000005));
    assert_int_equal(rd(4), 5);
    at(100 * HZ); /* 357,954,500 ticks = 21 * 2^24 + 5,626,004 */
    assert_int_equal(rd(4), 357954500u % (1u << 24));
}

static void test_narrow_reads_and_writes(void **state)
{
    at(cyc(0xabcdef));
    assert_int_equal(rd(1), 0xef);
    assert_int_equal(rd(2), 0xcdef);
    assert_int_equal(io_read(m, PMTIMER_PORT + 1, 1), 0xcd);
    assert_int_equal(io_read(m, PMTIMER_PORT + 2, 1), 0xab);
    assert_int_equal(io_read(m, PMTIMER_PORT + 3, 1), 0x00);
    io_write(m, PMTIMER_PORT, 4, 0); /* read-only */
    assert_int_equal(rd(4), 0xabcdef);
}

static void test_port_base_from_attach(void **state)
{
    pmtimer_t *piix = pmtimer_attach(m, 0xb008);
    at(cyc(42));
    assert_int_equal(io_read(m, 0xb008, 4), 42);
    assert_int_equal(io_read(m, 0xb00c, 1), 0xff); /* past the block: nothing there */
    pmtimer_free(piix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rate_exact_to_the_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_24bit_wrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_narrow_reads_and_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_base_from_attach, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
