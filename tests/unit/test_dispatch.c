/* test_dispatch.c - every decoder form has a handler row in emu/handlers.def.
 * Forms that must raise #UD on this CPU (features the model does not advertise)
 * are bound to op_ud explicitly there, with the reason, so nothing executes as
 * #UD by omission. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "emu/exec.h"

extern const insn_fn insn_handlers[XI_COUNT];
extern const uint8_t lat_cycles[LAT_COUNT];

static void test_every_form_is_bound(void **state)
{
    int missing = 0;
    for (unsigned id = 0; id < XI_COUNT; id++)
        if (!insn_handlers[id]) {
            fprintf(stderr, "no handler row for %s (id %u)\n", x86_insn_name(id), id);
            missing++;
        }
    assert_int_equal(missing, 0);
}

static void test_latencies_are_positive(void **state)
{
    for (int l = 0; l < LAT_COUNT; l++)
        assert_true(lat_cycles[l] > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_form_is_bound),
        cmocka_unit_test(test_latencies_are_positive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
