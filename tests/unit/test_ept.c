/* test_ept.c - the pure EPT walk of vmx/ept.c (SDM Vol. 3C "EPT Translation
 * Mechanism", "EPT Misconfigurations", "EPT and Memory Typing") over a small
 * fake host memory, and the EPTP checks of VM entry (27.2.1.1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmx/entry_checks.h"
#include "vmx/ept.h"

/* Host memory: 16 pages at 0x10000. */
#define BASE 0x10000ull
static uint64_t mem[16][512];
static int reads;

static uint64_t rd(void *opaque, uint64_t pa)
{
    reads++;
    assert_true(pa >= BASE && pa < BASE + sizeof mem);
    return mem[(pa - BASE) >> 12][(pa & 0xfff) >> 3];
}
static uint64_t page(int k) { return BASE + 0x1000ull * k; }

static const uint64_t all_caps = EPTCAP_EXEC_ONLY | EPTCAP_PWL4 | EPTCAP_UC | EPTCAP_WB | EPTCAP_2M | EPTCAP_1G |
                                 EPTCAP_INVEPT | EPTCAP_AD;
static struct ept_caps caps;
static const uint64_t eptp = BASE | 6 | 3 << 3; /* PML4 in page 0, WB, 4 levels */

/* PML4 (page 0) -> PDPT (1) -> PD (2) -> PT (3); gpa 0x40201000 uses index 0, 1, 1, 1. */
#define GPA 0x40201123ull
static int setup(void **state)
{
    memset(mem, 0, sizeof mem);
    caps = (struct ept_caps){ .cap = all_caps, .maxphyaddr = 39 };
    mem[0][0] = page(1) | 7;
    mem[1][1] = page(2) | 7;
    mem[2][1] = page(3) | 7;
    mem[3][1] = 0x5000000 | 7 | 6 << 3;
    return 0;
}

static void walk(uint64_t gpa, struct ept_walk *w)
{
    reads = 0;
    ept_walk(&caps, eptp, gpa, rd, NULL, w);
}

static void test_4k_translation(void **state)
{
    struct ept_walk w;
    walk(GPA, &w);
    assert_int_equal(w.outcome, EPT_OK);
    assert_int_equal(w.hpa, 0x5000123);
    assert_int_equal(w.page_shift, 12);
    assert_int_equal(w.n, 4);
    assert_int_equal(reads, 4);
    assert_int_equal(w.ent_pa[0], page(0));
    assert_int_equal(w.ent_pa[1], page(1) + 8);
    assert_int_equal(w.ent_pa[3], page(3) + 8);
    assert_int_equal(w.rights, 7);
    assert_int_equal(w.memtype, 6);
    assert_false(w.ipat);
}

static void test_rights_are_anded(void **state)
{
    struct ept_walk w;
    mem[1][1] = page(2) | 3; /* PDPTE: read/write */
    mem[3][1] = 0x5000000 | 5 | 6 << 3 | EPT_IPAT; /* PTE: read/execute, ignore PAT */
    walk(GPA, &w);
    assert_int_equal(w.outcome, EPT_OK);
    assert_int_equal(w.rights, 1);
    assert_true(w.ipat);
}

static void test_not_present_stops(void **state)
{
    struct ept_walk w;
    mem[2][1] = 0; /* PDE */
    walk(GPA, &w);
    assert_int_equal(w.outcome, EPT_NOT_PRESENT);
    assert_int_equal(w.n, 3);
    assert_int_equal(w.rights, 0);
}

static void test_large_pages(void **state)
{
    struct ept_walk w;
    mem[2][1] = 0x7e00000 | 7 | EPT_PS | 6 << 3; /* 2M */
    walk(GPA, &w);
    assert_int_equal(w.outcome, EPT_OK);
    assert_int_equal(w.hpa, 0x7e00000 | (GPA & 0x1fffff));
    assert_int_equal(w.page_shift, 21);
    assert_int_equal(w.n, 3);
    mem[1][1] = 0x40000000ull * 5 | 7 | EPT_PS | 6 << 3; /* 1G */
    walk(GPA, &w);
    assert_int_equal(w.outcome, EPT_OK);
    assert_int_equal(w.hpa, 0x40000000ull * 5 | (GPA & 0x3fffffff));
    assert_int_equal(w.page_shift, 30);
    /* without the capability a large page is a misconfiguration */
    caps.cap &= ~EPTCAP_1G;
    walk(GPA, &w);
    assert_int_equal(w.outcome, EPT_MISCONFIG);
    mem[1][1] = page(2) | 7;
    caps.cap &= ~EPTCAP_2M;
    walk(GPA, &w);
    assert_int_equal(w.outcome, EPT_MISCONFIG);
}

/* One misconfigured value in entry (page p, index i): the walk reports it. */
static void expect_misconfig(int p, int i, uint64_t val)
{
    struct ept_walk w;
    uint64_t old = mem[p][i];
    mem[p][i] = val;
    walk(GPA, &w);
    assert_int_equal(w.outcome, EPT_MISCONFIG);
    assert_non_null(w.why);
    mem[p][i] = old;
    walk(GPA, &w);
    assert_int_equal(w.outcome, EPT_OK);
}

static void test_misconfigurations(void **state)
{
    uint64_t leaf = 0x5000000 | 6 << 3;
    expect_misconfig(3, 1, leaf | 2);                /* write without read */
    expect_misconfig(3, 1, leaf | 6);                /* write, execute, no read */
    expect_misconfig(3, 1, 0x5000000 | 7 | 2 << 3);  /* memory type 2 */
    expect_misconfig(3, 1, 0x5000000 | 7 | 3 << 3);  /* memory type 3 */
    expect_misconfig(3, 1, 0x5000000 | 7 | 7 << 3);  /* memory type 7 */
    expect_misconfig(3, 1, leaf | 7 | 1ull << 39);   /* beyond MAXPHYADDR */
    expect_misconfig(3, 1, leaf | 7 | 1ull << 51);
    expect_misconfig(0, 0, page(1) | 7 | 1 << 3);    /* PML4E bits 7:3 */
    expect_misconfig(0, 0, page(1) | 7 | EPT_PS);
    expect_misconfig(1, 1, page(2) | 7 | 1 << 5);    /* PDPTE to a table, bits 7:3 */
    expect_misconfig(2, 1, page(3) | 7 | 1 << 6);    /* PDE to a table, bits 6:3 */
    expect_misconfig(2, 1, 0x7e00000 | 7 | EPT_PS | 6 << 3 | 1 << 12);          /* 2M frame bits 20:12 */
    expect_misconfig(1, 1, 0x40000000 | 7 | EPT_PS | 6 << 3 | 1 << 20);         /* 1G frame bits 29:12 */
    /* a not-present entry is a violation even with reserved bits set */
    struct ept_walk w;
    mem[2][1] = 0xfff8;
    walk(GPA, &w);
    assert_int_equal(w.outcome, EPT_NOT_PRESENT);
    mem[2][1] = page(3) | 7;
    /* ignored bits: 11:8 of tables, 63:52 everywhere, bit 7 of a PTE */
    mem[2][1] = page(3) | 7 | 0xf00 | 0x7ffull << 52;
    mem[3][1] = leaf | 7 | EPT_PS | EPT_A | EPT_D | 1ull << 63;
    walk(GPA, &w);
    assert_int_equal(w.outcome, EPT_OK);
    assert_int_equal(w.hpa, 0x5000123);
}

static void test_execute_only(void **state)
{
    struct ept_walk w;
    mem[3][1] = 0x5000000 | 4 | 6 << 3;
    walk(GPA, &w);
    assert_int_equal(w.outcome, EPT_OK);
    assert_int_equal(w.rights, 4);
    caps.cap &= ~EPTCAP_EXEC_ONLY;
    walk(GPA, &w);
    assert_int_equal(w.outcome, EPT_MISCONFIG);
}

static void test_five_levels(void **state)
{
    struct ept_walk w;
    /* PML5 in page 4 -> PML4 (page 0) */
    mem[4][0] = page(0) | 7;
    caps.cap |= EPTCAP_PWL5;
    reads = 0;
    ept_walk(&caps, page(4) | 6 | 4 << 3, GPA, rd, NULL, &w);
    assert_int_equal(w.outcome, EPT_OK);
    assert_int_equal(w.levels, 5);
    assert_int_equal(w.n, 5);
    assert_int_equal(w.hpa, 0x5000123);
}

static void test_effective_type(void **state)
{
    enum { UC = 0, WC = 1, WT = 4, WP = 5, WB = 6, UCM = 7 };
    assert_int_equal(ept_effective_type(WB, true, UC), WB); /* ignore PAT */
    assert_int_equal(ept_effective_type(WB, false, WB), WB);
    assert_int_equal(ept_effective_type(UC, false, WB), UC);
    assert_int_equal(ept_effective_type(WB, false, UC), UC);
    assert_int_equal(ept_effective_type(WC, false, UCM), WC);
    assert_int_equal(ept_effective_type(WB, false, UCM), UC);
    assert_int_equal(ept_effective_type(WB, false, WT), WT);
    assert_int_equal(ept_effective_type(WP, false, WT), UC);
    assert_int_equal(ept_effective_type(WB, false, WP), WP);
    assert_int_equal(ept_effective_type(UC, false, WC), WC);
}

static void test_eptp_checks(void **state)
{
    struct vmx_model vm = { .ept_vpid_cap = all_caps };
    uint64_t ok = 0x123000 | 6 | 3 << 3;
    assert_int_equal(vmx_check_eptp(&vm, 39, ok), CHK_PASS);
    assert_int_equal(vmx_check_eptp(&vm, 39, (ok & ~7ull) | 0), CHK_PASS);
    assert_int_equal(vmx_check_eptp(&vm, 39, ok | EPTP_AD), CHK_PASS);
    assert_int_equal(vmx_check_eptp(&vm, 39, (ok & ~7ull) | 1), CHK_EPTP_MEMORY_TYPE);
    assert_int_equal(vmx_check_eptp(&vm, 39, (ok & ~0x38ull) | 2 << 3), CHK_EPTP_WALK_LENGTH);
    assert_int_equal(vmx_check_eptp(&vm, 39, (ok & ~0x38ull) | 4 << 3), CHK_EPTP_WALK_LENGTH);
    assert_int_equal(vmx_check_eptp(&vm, 39, ok | 1 << 7), CHK_EPTP_RESERVED);
    assert_int_equal(vmx_check_eptp(&vm, 39, ok | 1ull << 39), CHK_EPTP_RESERVED);
    vm.ept_vpid_cap &= ~(EPTCAP_AD | EPTCAP_WB);
    vm.ept_vpid_cap |= EPTCAP_PWL5;
    assert_int_equal(vmx_check_eptp(&vm, 39, ok), CHK_EPTP_MEMORY_TYPE);
    assert_int_equal(vmx_check_eptp(&vm, 39, (ok & ~7ull) | EPTP_AD), CHK_EPTP_AD);
    assert_int_equal(vmx_check_eptp(&vm, 39, (ok & ~0x3full) | 4 << 3), CHK_PASS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_4k_translation, setup),
        cmocka_unit_test_setup(test_rights_are_anded, setup),
        cmocka_unit_test_setup(test_not_present_stops, setup),
        cmocka_unit_test_setup(test_large_pages, setup),
        cmocka_unit_test_setup(test_misconfigurations, setup),
        cmocka_unit_test_setup(test_execute_only, setup),
        cmocka_unit_test_setup(test_five_levels, setup),
        cmocka_unit_test(test_effective_type),
        cmocka_unit_test(test_eptp_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
