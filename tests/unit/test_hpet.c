/* test_hpet.c - the HPET against guest time, through the MMIO bus: capability
 * bits, counter rate and halted-counter writes, one-shot and periodic
 * comparator interrupts at the exact cycle, 32-bit mode and its wraps, level
 * interrupts and the write-1-to-clear status, LegacyReplacement routing and
 * route capabilities. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "devices/hpet.h"
#include "emu/cpumodel.h"

enum { GCAP = 0x000, GCONF = 0x010, GSTA = 0x020, COUNT = 0x0f0 };
#define TCONF(n) (0x100 + 0x20 * (n))
#define TCMP(n) (0x108 + 0x20 * (n))
enum { ENABLE = 1, LEG_RT = 2 };
enum { LEVEL = 1 << 1, INT_ENB = 1 << 2, PERIODIC = 1 << 3, VAL_SET = 1 << 6, MODE32 = 1 << 8 };
#define ROUTE(r) ((uint64_t)(r) << 9)

static machine_t *m;
static hpet_t *h;
static int nirq;
static struct irq_event { int line; bool level; uint64_t cycle; } ev[64];
static bool line_level[32];

static void irq(void *o, int line, bool level)
{
    if (nirq < 64)
        ev[nirq] = (struct irq_event){ line, level, machine_now(m) };
    nirq++;
    line_level[line] = level;
}
static uint64_t rd(uint64_t off) { return phys_read(m, HPET_BASE + off, 8); }
static uint32_t rd32(uint64_t off) { return (uint32_t)phys_read(m, HPET_BASE + off, 4); }
static void wr(uint64_t off, uint64_t v) { phys_write(m, HPET_BASE + off, 8, v); }
static void wr32(uint64_t off, uint32_t v) { phys_write(m, HPET_BASE + off, 4, v); }
static void run_to(uint64_t c)
{
    while (m->next_event <= c) {
        m->cpu[0]->cycles = m->next_event;
        events_fire(m, m->next_event);
    }
    m->cpu[0]->cycles = c;
}
/* Core cycles per HPET tick (the default model: 2000 MHz / 100 MHz). */
#define CPT 20u
/* Rising edges on `line` so far. */
static int rises(int line)
{
    int n = 0;
    for (int i = 0; i < nirq && i < 64; i++)
        n += ev[i].line == line && ev[i].level;
    return n;
}
/* Cycle of the k-th (0-based) rising edge on `line`. */
static uint64_t rise_cycle(int line, int k)
{
    for (int i = 0; i < nirq && i < 64; i++)
        if (ev[i].line == line && ev[i].level && k-- == 0)
            return ev[i].cycle;
    return UINT64_MAX;
}

static int setup(void **state)
{
    m = machine_new(16 << 20, cpu_model_default(), 1);
    assert_int_equal(m->cpu[0]->model->core_mhz, 2000);
    h = hpet_attach(m, HPET_BASE, irq, NULL);
    nirq = 0;
    for (int i = 0; i < 32; i++)
        line_level[i] = false;
    return 0;
}
static int teardown(void **state)
{
    hpet_free(h);
    machine_free(m);
    return 0;
}

static void test_capabilities(void **state)
{
    uint64_t cap = rd(GCAP);
    assert_int_not_equal(cap & 0xff, 0);            /* REV_ID must not be 0 */
    assert_int_equal((cap >> 8) & 0x1f, 2);         /* NUM_TIM_CAP: 3 timers */
    assert_int_equal((cap >> 13) & 1, 1);           /* COUNT_SIZE_CAP: 64-bit */
    assert_int_equal((cap >> 15) & 1, 1);           /* LEG_RT_CAP */
    assert_int_equal((cap >> 16) & 0xffff, 0x8086); /* vendor */
    assert_int_equal(cap >> 32, 10000000);          /* 10 ns: 100 MHz */
    assert_int_equal(rd32(GCAP + 4), 10000000);     /* 32-bit access to the upper half */
    assert_int_equal(1000000000000000ull / (cap >> 32) * CPT, 2000000000ull);
    for (int i = 0; i < cpu_model_count; i++) /* the period divides every model's clock */
        assert_int_equal((uint64_t)cpu_models[i].core_mhz * 1000000u % HPET_HZ, 0);
    wr(GCAP, 0);                                    /* read-only */
    assert_int_equal(rd(GCAP), cap);
    assert_int_equal(rd(GCONF), 0);
    /* Timer 0: periodic and 64-bit capable, routes 20-23, no FSB delivery */
    uint64_t t0 = rd(TCONF(0));
    assert_int_equal(t0 & (1 << 4), 1 << 4);
    assert_int_equal(t0 & (1 << 5), 1 << 5);
    assert_int_equal(t0 & (3 << 14), 0);
    assert_int_equal(t0 >> 32, 0x00f00000);
    assert_int_equal(rd(TCONF(2)) >> 32, 0x00f00800);
    /* timer 1 is one-shot only: Tn_TYPE_CNF does not stick */
    assert_int_equal(rd(TCONF(1)) & (1 << 4), 0);
    wr(TCONF(1), PERIODIC | (1 << 14));
    assert_int_equal(rd(TCONF(1)) & (PERIODIC | (1 << 14)), 0);
    /* timers beyond the third and reserved space read 0 */
    assert_int_equal(rd(TCONF(3)), 0);
    assert_int_equal(rd(0x110), 0); /* Tn_FSB_INT_ROUTE */
}

static void test_counter_rate_and_halted_writes(void **state)
{
    assert_int_equal(rd(COUNT), 0);
    run_to(1000 * CPT);
    assert_int_equal(rd(COUNT), 0); /* halted at reset */
    wr(COUNT, 0x123456789ull);      /* halted: writable */
    assert_int_equal(rd(COUNT), 0x123456789ull);
    wr32(COUNT + 4, 0x2);           /* 32-bit write to the upper half */
    assert_int_equal(rd(COUNT), 0x223456789ull);
    run_to(1000 * CPT + 7);
    wr(GCONF, ENABLE);
    run_to(1000 * CPT + 19);
    assert_int_equal(rd(COUNT), 0x223456789ull); /* tick 1000 still */
    run_to(1001 * CPT);
    assert_int_equal(rd(COUNT), 0x22345678aull);
    run_to(1000 * CPT + 2000000 * CPT); /* 20 ms: 2,000,000 ticks */
    assert_int_equal(rd(COUNT), 0x223456789ull + 2000000);
    assert_int_equal(rd32(COUNT), (uint32_t)(0x223456789ull + 2000000));
    wr(COUNT, 5); /* running: the write is dropped */
    assert_int_equal(rd(COUNT), 0x223456789ull + 2000000);
    wr(GCONF, 0); /* halt: the count freezes */
    run_to(1000 * CPT + 3000000 * CPT);
    assert_int_equal(rd(COUNT), 0x223456789ull + 2000000);
    wr(COUNT, 0);
    wr(GCONF, ENABLE); /* counting resumes from the written value */
    run_to(1000 * CPT + 3000100 * CPT);
    assert_int_equal(rd(COUNT), 100);
}

static void test_one_shot_edge_at_exact_cycle(void **state)
{
    wr(TCONF(1), INT_ENB | ROUTE(21));
    wr(TCMP(1), 1000);
    assert_int_equal(rd(TCMP(1)), 1000);
    run_to(10 * CPT + 3);
    wr(GCONF, ENABLE); /* at tick 10: the counter reaches 1000 at tick 1010 */
    run_to(1010 * CPT - 1);
    assert_int_equal(nirq, 0);
    run_to(1010 * CPT);
    assert_int_equal(nirq, 2); /* one pulse */
    assert_int_equal(ev[0].line, 21);
    assert_true(ev[0].level);
    assert_false(ev[1].level);
    assert_int_equal(ev[0].cycle, 1010 * CPT);
    assert_int_equal(rd(TCMP(1)), 1000); /* one-shot: the comparator stays */
    assert_int_equal(rd(GSTA), 0);       /* edge mode leaves the status alone */
    run_to(100000 * CPT);
    assert_int_equal(nirq, 2);
    /* a comparator behind the counter waits for the wrap, it does not fire at once */
    wr(TCMP(1), 5);
    run_to(200000 * CPT);
    assert_int_equal(nirq, 2);
}

static void test_periodic_accumulator(void **state)
{
    wr(TCONF(0), INT_ENB | PERIODIC | VAL_SET | ROUTE(20));
    wr(TCMP(0), 500); /* accumulator and period */
    assert_int_equal(rd(TCONF(0)) & VAL_SET, 0); /* clears itself */
    wr(GCONF, ENABLE);
    run_to(1499 * CPT);
    assert_int_equal(rises(20), 2);
    assert_int_equal(rise_cycle(20, 0), 500 * CPT);
    assert_int_equal(rise_cycle(20, 1), 1000 * CPT);
    assert_int_equal(rd(TCMP(0)), 1500); /* the next match */
    /* a write without Tn_VAL_SET_CNF changes only the period */
    wr(TCMP(0), 100);
    assert_int_equal(rd(TCMP(0)), 1500);
    run_to(1700 * CPT);
    assert_int_equal(rises(20), 5); /* 1500, 1600, 1700 */
    assert_int_equal(rise_cycle(20, 2), 1500 * CPT);
    assert_int_equal(rise_cycle(20, 4), 1700 * CPT);
    /* with it the accumulator moves too: Intel's two-halves sequence */
    wr(TCONF(0), INT_ENB | PERIODIC | VAL_SET | ROUTE(20));
    wr32(TCMP(0), 2000);
    wr(TCONF(0), INT_ENB | PERIODIC | VAL_SET | ROUTE(20));
    wr32(TCMP(0) + 4, 0);
    assert_int_equal(rd(TCMP(0)), 2000);
    run_to(2000 * CPT);
    assert_int_equal(rises(20), 6);
    assert_int_equal(rise_cycle(20, 5), 2000 * CPT);
    assert_int_equal(rd(TCMP(0)), 4000);
}

static void test_late_access_catches_up_once(void **state)
{
    wr(TCONF(0), INT_ENB | PERIODIC | VAL_SET | ROUTE(22));
    wr(TCMP(0), 10);
    wr(GCONF, ENABLE);
    /* jump past 100 periods without firing events: the next register access
     * processes them at once: one interrupt, the accumulator past the counter */
    m->cpu[0]->cycles = 1005 * CPT;
    assert_int_equal(rd(TCMP(0)), 1010);
    assert_int_equal(rises(22), 1);
    run_to(1010 * CPT);
    assert_int_equal(rises(22), 2);
    assert_int_equal(rise_cycle(22, 1), 1010 * CPT);
}

static void test_32bit_one_shot_fires_at_match_and_wrap(void **state)
{
    wr(TCONF(2), INT_ENB | MODE32 | ROUTE(11));
    wr(TCMP(2), 0xabcd00000100ull); /* 32-bit mode: the upper half is dropped */
    assert_int_equal(rd(TCMP(2)), 0x100);
    wr(COUNT, 0x7ffffff00ull);
    wr(GCONF, ENABLE);
    run_to(0x1000 * CPT);
    assert_int_equal(rises(11), 2);
    assert_int_equal(rise_cycle(11, 0), 0x100 * CPT); /* low 32 bits wrap to 0 */
    assert_int_equal(rise_cycle(11, 1), 0x200 * CPT); /* low 32 bits match 0x100 */
    assert_int_equal(rd(COUNT), 0x800000f00ull);
    /* back to 64-bit mode: the comparator is compared with all 64 bits */
    wr(TCONF(2), INT_ENB | ROUTE(11));
    wr(TCMP(2), 0x800001000ull);
    run_to(0x2000 * CPT);
    assert_int_equal(rises(11), 3);
    assert_int_equal(rise_cycle(11, 2), 0x1100 * CPT);
}

static void test_32bit_periodic_wraps_the_accumulator(void **state)
{
    wr(COUNT, 0xffffff00u);
    wr(TCONF(0), INT_ENB | PERIODIC | VAL_SET | MODE32 | ROUTE(23));
    wr(TCMP(0), 0xffffff80u);
    wr(TCMP(0), 0x100); /* period 0x100, accumulator stays */
    wr(GCONF, ENABLE);
    run_to(0x80 * CPT);
    assert_int_equal(rises(23), 1);
    assert_int_equal(rd(TCMP(0)), 0x80); /* 0xffffff80 + 0x100, wrapped */
    run_to(0x180 * CPT);
    assert_int_equal(rises(23), 2); /* no extra interrupt for the wrap itself */
    assert_int_equal(rise_cycle(23, 1), 0x180 * CPT);
    assert_int_equal(rd(TCMP(0)), 0x180);
}

static void test_level_status_write_one_to_clear(void **state)
{
    wr(TCONF(1), LEVEL | INT_ENB | ROUTE(21));
    wr(TCMP(1), 100);
    wr(TCONF(2), LEVEL | ROUTE(22)); /* status without an interrupt */
    wr(TCMP(2), 200);
    wr(GCONF, ENABLE);
    run_to(100 * CPT);
    assert_true(line_level[21]);
    assert_int_equal(rd(GSTA), 1 << 1);
    run_to(300 * CPT);
    assert_int_equal(rd(GSTA), (1 << 1) | (1 << 2));
    assert_false(line_level[22]);
    assert_true(line_level[21]); /* held */
    wr(GSTA, 0);                 /* writing 0 does nothing */
    assert_int_equal(rd(GSTA), 6);
    wr32(GSTA, 1 << 1);
    assert_false(line_level[21]);
    assert_int_equal(rd(GSTA), 1 << 2);
    wr(TCONF(2), LEVEL | INT_ENB | ROUTE(22)); /* enabling with the status set raises the line */
    assert_true(line_level[22]);
    wr(GCONF, 0); /* halting masks every interrupt */
    assert_false(line_level[22]);
    wr(GCONF, ENABLE);
    assert_true(line_level[22]);
    wr(GSTA, 1 << 2);
    assert_false(line_level[22]);
    assert_int_equal(rises(21), 1);
    assert_int_equal(rises(22), 2);
}

static void test_legacy_replacement_routing(void **state)
{
    wr(TCONF(0), INT_ENB | ROUTE(20));
    wr(TCMP(0), 100);
    wr(TCONF(1), INT_ENB | ROUTE(21));
    wr(TCMP(1), 200);
    wr(TCONF(2), INT_ENB | ROUTE(22));
    wr(TCMP(2), 300);
    wr(GCONF, ENABLE | LEG_RT);
    assert_true(hpet_legacy_mode(h));
    run_to(400 * CPT);
    assert_int_equal(rises(HPET_LEGACY_LINE_T0), 1);
    assert_int_equal(rises(HPET_LEGACY_LINE_T1), 1);
    assert_int_equal(rises(22), 1); /* timer 2 keeps its own route */
    assert_int_equal(rises(20) + rises(21), 0);
    assert_int_equal(rise_cycle(HPET_LEGACY_LINE_T0, 0), 100 * CPT);
    assert_int_equal(rise_cycle(HPET_LEGACY_LINE_T1, 0), 200 * CPT);
    wr(GCONF, ENABLE); /* back to the routes */
    assert_false(hpet_legacy_mode(h));
    wr(TCMP(0), 500);
    run_to(600 * CPT);
    assert_int_equal(rises(20), 1);
}

static void test_level_line_moves_with_the_route(void **state)
{
    wr(TCONF(0), LEVEL | INT_ENB | ROUTE(20));
    wr(TCMP(0), 10);
    wr(GCONF, ENABLE);
    run_to(10 * CPT);
    assert_true(line_level[20]);
    wr(GCONF, ENABLE | LEG_RT);
    assert_false(line_level[20]);
    assert_true(line_level[HPET_LEGACY_LINE_T0]);
    wr(GCONF, ENABLE);
    wr(TCONF(0), LEVEL | INT_ENB | ROUTE(23));
    assert_false(line_level[HPET_LEGACY_LINE_T0]);
    assert_true(line_level[23]);
}

static void test_route_capability(void **state)
{
    uint64_t r0 = rd(TCONF(0)) & ROUTE(0x1f);
    assert_int_equal(r0, ROUTE(20)); /* reset: the lowest capable input */
    wr(TCONF(0), ROUTE(5)); /* not in the capability: not taken */
    assert_int_equal(rd(TCONF(0)) & ROUTE(0x1f), ROUTE(20));
    wr(TCONF(0), ROUTE(22));
    assert_int_equal(rd(TCONF(0)) & ROUTE(0x1f), ROUTE(22));
    wr(TCONF(0), ROUTE(11)); /* only timer 2 reaches input 11 */
    assert_int_equal(rd(TCONF(0)) & ROUTE(0x1f), ROUTE(22));
    wr(TCONF(2), ROUTE(11));
    assert_int_equal(rd(TCONF(2)) & ROUTE(0x1f), ROUTE(11));
}

static void test_disabled_timer_interrupt(void **state)
{
    wr(TCONF(1), ROUTE(21)); /* edge, Tn_INT_ENB_CNF clear */
    wr(TCMP(1), 50);
    wr(GCONF, ENABLE);
    run_to(100 * CPT);
    assert_int_equal(nirq, 0);
    assert_int_equal(rd(GSTA), 0);
    wr(TCONF(1), INT_ENB | ROUTE(21));
    wr(TCMP(1), 150);
    wr(GCONF, 0); /* halted at 100: the match at 150 waits */
    run_to(1000 * CPT);
    assert_int_equal(nirq, 0);
    wr(GCONF, ENABLE);
    run_to(1050 * CPT);
    assert_int_equal(rises(21), 1);
    assert_int_equal(rise_cycle(21, 0), 1050 * CPT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_capabilities, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counter_rate_and_halted_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_shot_edge_at_exact_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_periodic_accumulator, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_access_catches_up_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_32bit_one_shot_fires_at_match_and_wrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_32bit_periodic_wraps_the_accumulator, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_status_write_one_to_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legacy_replacement_routing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_line_moves_with_the_route, setup, teardown),
        cmocka_unit_test_setup_teardown(test_route_capability, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled_timer_interrupt, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
