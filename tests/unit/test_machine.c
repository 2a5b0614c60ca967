/* test_machine.c - RAM layout, physical accesses, port bus defaults and the
 * cycle-keyed event queue of emu/machine.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "emu/cpu.h"
#include "emu/cpumodel.h"
#include "emu/machine.h"

static void test_ram_layout_below_and_above_4g(void **state)
{
    machine_t *m = machine_new(5ull << 30, cpu_model_default(), 1);
    assert_non_null(m);
    assert_int_equal(m->lowmem_top, LOWMEM_MAX);
    /* RAM from 0 to 3 GiB, a hole up to 4 GiB, the remaining 2 GiB from 4 GiB up */
    assert_non_null(phys_ram_ptr(m, 0));
    assert_non_null(phys_ram_ptr(m, LOWMEM_MAX - 1));
    assert_null(phys_ram_ptr(m, LOWMEM_MAX));
    assert_null(phys_ram_ptr(m, HIMEM_BASE - 1));
    assert_non_null(phys_ram_ptr(m, HIMEM_BASE));
    assert_non_null(phys_ram_ptr(m, HIMEM_BASE + (2ull << 30) - 1));
    assert_null(phys_ram_ptr(m, HIMEM_BASE + (2ull << 30)));
    phys_write(m, HIMEM_BASE + 0x1234, 8, 0x1122334455667788ull);
    assert_int_equal(phys_read(m, HIMEM_BASE + 0x1234, 4), 0x55667788);
    /* reads from the hole float high, writes vanish */
    phys_write(m, LOWMEM_MAX + 16, 4, 0);
    assert_int_equal(phys_read(m, LOWMEM_MAX + 16, 4), 0xffffffffu);
    machine_free(m);
}

static void test_lazy_ram_is_zero(void **state)
{
    machine_t *m = machine_new(8ull << 30, cpu_model_default(), 1);
    assert_non_null(m);
    assert_int_equal(phys_read(m, HIMEM_BASE + (4ull << 30), 8), 0);
    machine_free(m);
}

static void test_copy_in_out_fails_outside_ram(void **state)
{
    machine_t *m = machine_new(16 << 20, cpu_model_default(), 1);
    uint8_t buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, out[8];
    assert_true(phys_copy_in(m, 0x1ffc, buf, 8)); /* crosses a page */
    assert_true(phys_copy_out(m, out, 0x1ffc, 8));
    assert_memory_equal(buf, out, 8);
    assert_false(phys_copy_in(m, (16 << 20) - 4, buf, 8));
    machine_free(m);
}

static uint64_t port_rd(void *o, uint16_t port, int size) { return port + size; }
static uint64_t last_write;
static void port_wr(void *o, uint16_t port, int size, uint64_t v) { last_write = v ^ port; }

static void test_io_bus(void **state)
{
    machine_t *m = machine_new(16 << 20, cpu_model_default(), 1);
    assert_int_equal(io_read(m, 0x80, 1), 0xff);
    assert_int_equal(io_read(m, 0x80, 2), 0xffff);
    io_register(m, 0x100, 4, port_rd, port_wr, NULL);
    assert_int_equal(io_read(m, 0x102, 2), 0x104);
    io_write(m, 0x103, 1, 0xf0);
    assert_int_equal(last_write, 0xf0 ^ 0x103);
    assert_int_equal(io_read(m, 0x104, 1), 0xff);
    machine_free(m);
}

static int order[8], norder;
static void ev_fn(machine_t *m, void *o) { order[norder++] = (int)(intptr_t)o; }

static void test_events_fire_in_time_order(void **state)
{
    machine_t *m = machine_new(16 << 20, cpu_model_default(), 1);
    event_t *a = event_new(m, ev_fn, (void *)1), *b = event_new(m, ev_fn, (void *)2),
            *c = event_new(m, ev_fn, (void *)3);
    event_schedule(m, a, 300);
    event_schedule(m, b, 100);
    event_schedule(m, c, 200);
    assert_int_equal(m->next_event, 100);
    assert_true(m->cpu[0]->deadline <= 100);
    event_cancel(m, c);
    norder = 0;
    events_fire(m, 250);
    assert_int_equal(norder, 1);
    assert_int_equal(order[0], 2);
    events_fire(m, 1000);
    assert_int_equal(norder, 2);
    assert_int_equal(order[1], 1);
    assert_int_equal(m->next_event, UINT64_MAX);
    machine_free(m);
}

/* The run loop stops at the first instruction boundary at or after a device
 * event's cycle, also inside a decoded block (docs/deviations.md). */
static uint64_t fired_cycles, fired_rip;
static void ev_record(machine_t *m, void *o)
{
    fired_cycles = m->cpu[0]->cycles;
    fired_rip = m->cpu[0]->rip;
}

static void test_events_exact_to_the_instruction(void **state)
{
    static const struct { uint8_t insn[3]; int len, lat; uint64_t when; } cases[] = {
        { { 0x90 }, 1, 1, 37 },             /* NOP */
        { { 0x0f, 0xaf, 0xc0 }, 3, 3, 10 }, /* IMUL AX, AX: the boundary after the deadline */
    };
    for (int k = 0; k < 2; k++) {
        machine_t *m = machine_new(16 << 20, cpu_model_default(), 1);
        cpu_t *c = m->cpu[0];
        c->seg[S_CS].base = 0;
        c->seg[S_CS].sel = 0;
        c->rip = 0x1000;
        for (int i = 0; i < 64; i++)
            for (int b = 0; b < cases[k].len; b++)
                phys_write(m, 0x1000 + (uint64_t)(i * cases[k].len + b), 1, cases[k].insn[b]);
        c->cycles = 0;
        event_schedule(m, event_new(m, ev_record, NULL), cases[k].when);
        m->max_cycles = 60;
        fired_cycles = 0;
        machine_run(m);
        uint64_t n = (cases[k].when + (uint64_t)cases[k].lat - 1) / (uint64_t)cases[k].lat;
        assert_int_equal(fired_cycles, n * (uint64_t)cases[k].lat);
        assert_int_equal(fired_rip, 0x1000 + n * (uint64_t)cases[k].len);
        machine_free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ram_layout_below_and_above_4g),
        cmocka_unit_test(test_lazy_ram_is_zero),
        cmocka_unit_test(test_copy_in_out_fails_outside_ram),
        cmocka_unit_test(test_io_bus),
        cmocka_unit_test(test_events_fire_in_time_order),
        cmocka_unit_test(test_events_exact_to_the_instruction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
