/* test_tlb.c - the TLB's contexts (emu/tlb.c): switching keeps each
 * (VPID, EPT root)'s entries, the current VPID's invalidations reach all of its
 * roots and nothing else, INVVPID's and INVEPT's invalidations, LRU
 * replacement, entries made under other paging bits or another PCID, new code
 * pages in contexts that are not current, and the fetch epoch. */
#include "emu/mmu.h"
#include "emu/paging.h"
#include "emu/tlb.h"
#include "fixture.h"

static machine_t *m;
static cpu_t *c;

#define EPT_A 0x1000001eull /* EPTP: root 0x10000000, WB, 4-level */
#define EPT_B 0x2000001eull

static int setup(void **state)
{
    m = machine_new(16 << 20, cpu_model_default(), 1);
    assert_non_null(m);
    c = m->cpu[0];
    return 0;
}

static int teardown(void **state)
{
    machine_free(m);
    return 0;
}

/* A 4 KiB supervisor entry for la in the current context (PCID pcid, global or not). */
static void put(uint64_t la, uint16_t pcid, bool global)
{
    tlb_note_fill(c, &c->tlb_sup[(la >> 12) & (TLB_SIZE - 1)]); /* as emu/mmu.c's fill does */
    tlb_entry_t *e = fx_tlb_set(c->tlb_sup, la, m->ram + (la & 0xfffff000));
    e->tag_x = la & ~0xfffull;
    e->paddr = la & 0xfffff000;
    e->pcid_g = pcid | 12ull << 56 | (global ? TLB_GLOBAL : 0);
}

/* Does the current context translate la? */
static bool has(uint64_t la)
{
    return c->tlb_sup[(la >> 12) & (TLB_SIZE - 1)].tag_r == (la & ~0xfffull);
}

/* Does context (vpid, eptp) translate la? Switches there and back. */
static bool has_in(uint16_t vpid, uint64_t eptp, uint64_t la)
{
    uint16_t v0 = tlb_cur_vpid(c);
    uint64_t e0 = tlb_cur_ept(c);
    tlb_switch(c, vpid, eptp);
    bool r = has(la);
    tlb_switch(c, v0, e0);
    return r;
}

static void test_contexts_survive_switches(void **state)
{
    tlb_entry_t *root = c->tlb_sup;
    put(0x1000, 0, false);
    tlb_switch(c, 5, TLB_NO_EPT);
    assert_ptr_not_equal(c->tlb_sup, root);
    assert_ptr_equal(c->tlb, c->tlb_sup);
    assert_false(has(0x1000)); /* VPID 5 does not see VPID 0's mappings */
    put(0x2000, 0, false);
    tlb_switch(c, 0, TLB_NO_EPT);
    assert_ptr_equal(c->tlb_sup, root); /* a pointer swap back to the same arrays */
    assert_true(has(0x1000));
    assert_false(has(0x2000));
    assert_true(has_in(5, TLB_NO_EPT, 0x2000));
    /* one VPID with and without EPT, and two EPT roots: four contexts */
    tlb_switch(c, 5, EPT_A);
    assert_false(has(0x2000));
    put(0x3000, 0, false);
    tlb_switch(c, 5, EPT_B);
    assert_false(has(0x3000));
    tlb_switch(c, 5, EPT_A | 0x1000000000000000ull); /* bits 63:52 are not the root */
    assert_true(has(0x3000));
}

static void test_fetch_epoch(void **state)
{
    uint64_t e = c->fetch_epoch;
    tlb_switch(c, 3, TLB_NO_EPT);
    assert_true(c->fetch_epoch != e);
    e = c->fetch_epoch;
    tlb_inv_vpid(c, 7, false);
    assert_true(c->fetch_epoch != e);
}

/* INVLPG and friends reach the current VPID in every EPT root, and no other VPID. */
static void test_current_vpid_invalidations(void **state)
{
    tlb_switch(c, 5, EPT_A);
    put(0x4000, 0, false);
    tlb_switch(c, 6, EPT_A);
    put(0x4000, 0, false);
    tlb_switch(c, 5, EPT_B);
    put(0x4000, 0, false);
    put(0x5000, 0, false);
    tlb_flush_page(c, 0x4000);
    assert_false(has(0x4000));
    assert_true(has(0x5000));
    assert_false(has_in(5, EPT_A, 0x4000));
    assert_true(has_in(6, EPT_A, 0x4000));
    tlb_flush_all(c);
    assert_false(has(0x5000));
    assert_true(has_in(6, EPT_A, 0x4000));
}

static void test_invvpid(void **state)
{
    for (uint16_t v = 1; v <= 3; v++) {
        tlb_switch(c, v, TLB_NO_EPT);
        put(0x1000, 0, false);
        put(0x2000, 0, true);
        put(0x3000, 0, false);
    }
    tlb_switch(c, 0, TLB_NO_EPT);
    put(0x1000, 0, false);
    /* individual address: globals too, that VPID only */
    tlb_inv_vpid_addr(c, 1, 0x2000);
    assert_false(has_in(1, TLB_NO_EPT, 0x2000));
    assert_true(has_in(1, TLB_NO_EPT, 0x1000));
    assert_true(has_in(2, TLB_NO_EPT, 0x2000));
    /* single context retaining globals */
    tlb_inv_vpid(c, 2, true);
    assert_false(has_in(2, TLB_NO_EPT, 0x1000));
    assert_true(has_in(2, TLB_NO_EPT, 0x2000));
    /* single context */
    tlb_inv_vpid(c, 3, false);
    assert_false(has_in(3, TLB_NO_EPT, 0x2000));
    assert_true(has_in(1, TLB_NO_EPT, 0x1000));
    /* all contexts but VPID 0 */
    tlb_inv_nonzero_vpids(c);
    assert_false(has_in(1, TLB_NO_EPT, 0x1000));
    assert_false(has_in(2, TLB_NO_EPT, 0x2000));
    assert_true(has(0x1000));
}

static void test_invept(void **state)
{
    tlb_switch(c, 1, EPT_A);
    put(0x1000, 0, true);
    tlb_switch(c, 2, EPT_A);
    put(0x1000, 0, false);
    tlb_switch(c, 2, EPT_B);
    put(0x1000, 0, false);
    tlb_switch(c, 2, TLB_NO_EPT);
    put(0x1000, 0, false);
    /* single context: that root, every VPID */
    tlb_inv_ept(c, EPT_A);
    assert_false(has_in(1, EPT_A, 0x1000));
    assert_false(has_in(2, EPT_A, 0x1000));
    assert_true(has_in(2, EPT_B, 0x1000));
    assert_true(has(0x1000));
    /* all contexts: every root, never linear mappings */
    tlb_inv_ept_all(c);
    assert_false(has_in(2, EPT_B, 0x1000));
    assert_true(has(0x1000));
    tlb_inv_everything(c);
    assert_false(has(0x1000));
}

static void test_lru_replacement(void **state)
{
    put(0x1000, 0, false); /* root */
    for (uint16_t v = 1; v < TLB_CONTEXTS; v++) {
        tlb_switch(c, v, TLB_NO_EPT);
        put(0x1000, 0, false);
    }
    tlb_switch(c, 0, TLB_NO_EPT); /* root is now the most recently used, VPID 1 the least */
    tlb_switch(c, 100, TLB_NO_EPT);
    assert_false(has(0x1000)); /* a new context starts empty */
    tlb_switch(c, 0, TLB_NO_EPT);
    assert_true(has(0x1000));
    tlb_switch(c, 2, TLB_NO_EPT);
    assert_true(has(0x1000));
    tlb_switch(c, 1, TLB_NO_EPT); /* VPID 1 was dropped for VPID 100; VPID 3 goes now */
    assert_false(has(0x1000));
    tlb_switch(c, 3, TLB_NO_EPT);
    assert_false(has(0x1000));
}

/* Entries hold access decisions: made under other paging bits they go; made
 * under another PCID, the non-global ones go. */
static void test_switch_rules(void **state)
{
    c->cr0 = CR0_PE | CR0_PG;
    c->cr4 = CR4_PAE | CR4_PCIDE;
    c->cr3 = 0x5000 | 7;
    tlb_switch(c, 4, TLB_NO_EPT);
    put(0x1000, 7, false);
    put(0x2000, 7, true);
    tlb_switch(c, 0, TLB_NO_EPT);
    c->cr3 = 0x5000 | 8;
    tlb_switch(c, 4, TLB_NO_EPT);
    assert_false(has(0x1000));
    assert_true(has(0x2000));
    tlb_switch(c, 0, TLB_NO_EPT);
    c->cr0 |= CR0_WP;
    tlb_switch(c, 4, TLB_NO_EPT);
    assert_false(has(0x2000));
    /* EPTP attributes (A/D enable here) count as well */
    tlb_switch(c, 4, EPT_A);
    put(0x3000, 8, false);
    tlb_switch(c, 4, EPT_A | 0x40);
    assert_false(has(0x3000));
}

static void test_code_page_in_other_context(void **state)
{
    tlb_switch(c, 9, TLB_NO_EPT);
    put(0x7000, 0, false);
    tlb_switch(c, 0, TLB_NO_EPT);
    tlb_code_page_added(m, 0x7000);
    tlb_switch(c, 9, TLB_NO_EPT);
    assert_true(c->tlb_sup[7].tag_w & TLB_SLOW_CODE);
    assert_true(has(0x7000)); /* reads stay fast */
}

static void test_reset_drops_everything(void **state)
{
    tlb_switch(c, 9, TLB_NO_EPT);
    put(0x7000, 0, false);
    cpu_reset(c);
    assert_int_equal(tlb_cur_vpid(c), 0);
    assert_true(tlb_cur_ept(c) == TLB_NO_EPT);
    tlb_switch(c, 9, TLB_NO_EPT);
    assert_false(has(0x7000));
}

/* Emptying a context invalidates what its fill log lists, or everything once
 * the log overflowed: either way nothing that was filled survives. */
static void test_empty_through_the_fill_log(void **state)
{
    for (int n = 0; n <= TLB_SIZE; n += TLB_SIZE) { /* a few fills, then more than TLB_LOG */
        for (int k = 0; k < (n ? n : 3); k++)
            put(0x100000 + 0x1000ull * k, 0, false);
        assert_true(has(0x100000));
        tlb_flush_all(c);
        for (int k = 0; k < TLB_SIZE; k++)
            assert_false(has(0x100000 + 0x1000ull * k));
        put(0x100000, 0, false); /* and the emptied context still works */
        assert_true(has(0x100000));
        tlb_flush_all(c);
    }
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_contexts_survive_switches), T(test_fetch_epoch), T(test_current_vpid_invalidations),
        T(test_invvpid), T(test_invept), T(test_lru_replacement), T(test_switch_rules),
        T(test_code_page_in_other_context), T(test_reset_drops_everything), T(test_empty_through_the_fill_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
