/* test_gpa_cache.c - the guest-physical mapping cache of vmx/gpa_cache.c: a
 * mapping is found only under the EPTP and page it was made for, a slot holds
 * one page, INVEPT single-context drops one EPT root's mappings whatever EPTP
 * bits 11:0, all-context every one (SDM Vol. 3C "Caching Translation
 * Information", "Invalidating Cached Translation Information"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmx/ept.h"
#include "vmx/gpa_cache.h"

static const uint64_t root_a = 0x10000ull | 6 | 3 << 3, root_b = 0x20000ull | 6 | 3 << 3;

static struct gpa_map map(uint64_t eptp, uint64_t gpa, uint64_t hpa)
{
    return (struct gpa_map){.eptp = eptp, .gpn = gpa >> 12, .hpa = hpa, .rights = EPT_R | EPT_W, .memtype = 6};
}

static void test_find_fill(void **state)
{
    static struct gpa_cache gc;
    gpa_cache_inv_all(&gc);
    assert_null(gpa_cache_find(&gc, root_a, 0x5000));
    struct gpa_map m = map(root_a, 0x5000, 0x9000);
    gpa_cache_fill(&gc, &m);
    const struct gpa_map *f = gpa_cache_find(&gc, root_a, 0x5abc);
    assert_non_null(f);
    assert_int_equal(f->hpa, 0x9000);
    assert_int_equal(f->rights, EPT_R | EPT_W);
    assert_null(gpa_cache_find(&gc, root_b, 0x5000));             /* another root */
    assert_null(gpa_cache_find(&gc, root_a | 1u << 6, 0x5000));   /* other EPTP bits 11:0 */
    assert_null(gpa_cache_find(&gc, root_a, 0x6000));             /* another page */
    /* a page of the same slot replaces it */
    struct gpa_map n = map(root_a, 0x5000 + 0x1000ull * GPA_CACHE_SIZE, 0xa000);
    gpa_cache_fill(&gc, &n);
    assert_null(gpa_cache_find(&gc, root_a, 0x5000));
    assert_non_null(gpa_cache_find(&gc, root_a, n.gpn << 12));
    gpa_cache_drop(&gc, root_a, n.gpn << 12);
    assert_null(gpa_cache_find(&gc, root_a, n.gpn << 12));
}

static void test_invalidate(void **state)
{
    static struct gpa_cache gc;
    gpa_cache_inv_all(&gc);
    struct gpa_map a = map(root_a, 0x5000, 0x9000), b = map(root_b, 0x6000, 0xa000);
    gpa_cache_fill(&gc, &a);
    gpa_cache_fill(&gc, &b);
    /* single-context: by EPTRTA (bits 51:12), whatever bits 11:0 of the descriptor's EPTP */
    gpa_cache_inv_root(&gc, (root_a & ~0xfffull) | 0x5e);
    assert_null(gpa_cache_find(&gc, root_a, 0x5000));
    assert_non_null(gpa_cache_find(&gc, root_b, 0x6000));
    gpa_cache_fill(&gc, &a);
    gpa_cache_inv_all(&gc);
    assert_null(gpa_cache_find(&gc, root_a, 0x5000));
    assert_null(gpa_cache_find(&gc, root_b, 0x6000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_fill),
        cmocka_unit_test(test_invalidate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
