/* test_dcache.c - decoded-block cache: block boundaries, keys, and
 * self-modifying-code invalidation at 128-byte-line granularity. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "emu/cpumodel.h"
#include "emu/dcache.h"

static machine_t *m;

static int setup(void **state)
{
    m = machine_new(16 << 20, cpu_model_default(), 1);
    return m ? 0 : -1;
}
static int teardown(void **state)
{
    machine_free(m);
    return 0;
}

/* nop; nop; inc eax; ret; nop */
static const uint8_t code[] = { 0x90, 0x90, 0xff, 0xc0, 0xc3, 0x90 };

static dblock_t *fill_at(uint64_t pa)
{
    phys_copy_in(m, pa, code, sizeof code);
    return dcache_fill(m->dcache, m, pa, X86_M64, phys_ram_ptr(m, pa), 4096 - (pa & 0xfff));
}

static void test_block_ends_at_control_transfer(void **state)
{
    dblock_t *b = fill_at(0x10000);
    assert_int_equal(b->n, 4); /* stops after RET */
    assert_int_equal(b->insns[2].i.len, 2);
    assert_ptr_equal(dcache_lookup(m->dcache, 0x10000, X86_M64), b);
    /* the same bytes in another fetch mode are another block */
    assert_null(dcache_lookup(m->dcache, 0x10000, X86_M32));
    assert_int_equal(m->code_pages[0x10], 1);
}

static void test_store_into_code_line_invalidates(void **state)
{
    fill_at(0x20000);
    phys_write(m, 0x20002, 1, 0x90);
    assert_null(dcache_lookup(m->dcache, 0x20000, X86_M64));
    assert_int_equal(m->code_pages[0x20], 0);
}

static void test_store_into_other_line_keeps_block(void **state)
{
    dblock_t *b = fill_at(0x30000);
    phys_write(m, 0x30000 + 0x400, 8, 0); /* same page, another 128-byte line */
    assert_ptr_equal(dcache_lookup(m->dcache, 0x30000, X86_M64), b);
    phys_write(m, 0x30000 - 4, 8, 0); /* straddles into the code's first line */
    assert_null(dcache_lookup(m->dcache, 0x30000, X86_M64));
}

static void test_block_stops_before_page_crossing(void **state)
{
    /* inc eax straddles the page end: the block holds only the two NOPs */
    dblock_t *b = fill_at(0x40ffe);
    assert_int_equal(b->n, 2);
}

static void test_invalid_opcode_becomes_fault_entry(void **state)
{
    static const uint8_t bad64[] = { 0x90, 0x06 };          /* push es: #UD in 64-bit mode */
    phys_copy_in(m, 0x50000, bad64, sizeof bad64);
    dblock_t *b = dcache_fill(m->dcache, m, 0x50000, X86_M64, phys_ram_ptr(m, 0x50000), 2);
    assert_int_equal(b->n, 2);
    assert_int_equal(b->insns[1].i.len, 0); /* RIP stays on the faulting instruction */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_ends_at_control_transfer),
        cmocka_unit_test(test_store_into_code_line_invalidates),
        cmocka_unit_test(test_store_into_other_line_keeps_block),
        cmocka_unit_test(test_block_stops_before_page_crossing),
        cmocka_unit_test(test_invalid_opcode_becomes_fault_entry),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
