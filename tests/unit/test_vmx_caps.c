/* test_vmx_caps.c - capability MSRs generated from vmx/controls.def follow
 * SDM Vol. 3D Appendix A: default1 classes, TRUE controls, VMCS_ENUM, fixed bits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vmx/caps.h"

/* A model that offers every control: only the implemented ones take effect. */
static const struct vmx_model everything = {
    .revision = 0x12345,
    .ctls = { 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff },
    .preemption_rate = 5,
    .activity_states = 7,
    .cr3_targets = 4,
};

static uint64_t msr(uint32_t n)
{
    uint64_t v = 0;
    assert_true(vmx_cap_msr(&everything, 0x3727ff, n, &v));
    return v;
}

static void test_basic(void **state)
{
    uint64_t b = msr(0x480);
    assert_int_equal(b & 0x7fffffff, 0x12345);
    assert_int_equal((b >> 32) & 0x1fff, 4096);
    assert_int_equal((b >> 50) & 0xf, 6);     /* write-back */
    assert_true(b & (1ull << 55));            /* TRUE controls */
    assert_false(b & (1ull << 48));           /* 64-bit physical addresses */
}

static void test_default1_classes(void **state)
{
    /* non-TRUE MSRs: the whole default1 class reads as must-be-1 */
    assert_int_equal((uint32_t)msr(0x481) & 0x16, 0x16);
    assert_int_equal((uint32_t)msr(0x482) & 0x0401e172, 0x0401e172);
    assert_int_equal((uint32_t)msr(0x483) & 0x00036dff, 0x00036dff);
    assert_int_equal((uint32_t)msr(0x484) & 0x000011ff, 0x000011ff);
    /* TRUE MSRs: defined default1 controls (CR3-load/store exiting, save/load
     * debug controls) may be 0; reserved default1 bits stay 1 */
    assert_int_equal((uint32_t)msr(0x48d) & 0x16, 0x16);
    assert_int_equal((uint32_t)msr(0x48e) & 0x0401e172, 0x0401e172 & ~0x18000u);
    assert_int_equal((uint32_t)msr(0x48f) & 0x00036dff, 0x00036dff & ~4u);
    assert_int_equal((uint32_t)msr(0x490) & 0x000011ff, 0x000011ff & ~4u);
    /* whatever is allowed to be 0 ... is also allowed to be 1 (allowed1 is a superset) */
    for (uint32_t n = 0x481; n <= 0x490; n++) {
        uint64_t v;
        if (n >= 0x485 && n <= 0x48c)
            continue;
        assert_true(vmx_cap_msr(&everything, 0, n, &v));
        assert_int_equal((uint32_t)v & ~(uint32_t)(v >> 32), 0);
    }
}

static void test_allowed1_only_implemented_controls(void **state)
{
    for (int w = 0; w < VMX_NWORDS; w++) {
        uint32_t a0, a1;
        vmx_allowed(&everything, w, &a0, &a1);
        assert_int_equal(a1 & ~a0 & ~vmx_implemented(w), 0);
    }
}

static void test_misc_and_fixed(void **state)
{
    uint64_t misc = msr(0x485);
    assert_int_equal(misc & 0x1f, 5);
    assert_int_equal((misc >> 6) & 7, 7);
    assert_int_equal((misc >> 16) & 0x1ff, 4);
    assert_int_equal(msr(0x486), 0x80000021);
    assert_int_equal(msr(0x488), 0x2000);
    assert_int_equal(msr(0x489), 0x3727ff);
}

static void test_vmcs_enum_is_highest_existing_index(void **state)
{
    /* with no optional feature in effect the highest index is Guest
     * IA32_SYSENTER_CS (0x482a, index 21); the optional fields with higher
     * indexes are the VMX-preemption timer value (0x482e, 23) and the TSC
     * multiplier (0x2032, 25) */
    uint32_t a0, a1, p0, p1;
    vmx_allowed(&everything, VMX_PIN, &a0, &a1);
    vmx_allowed(&everything, VMX_PROC2, &p0, &p1);
    if (p1 & VMX_CTL(PROC2, USE_TSC_SCALING))
        assert_int_equal(msr(0x48a), 0x32);
    else if (a1 & VMX_CTL(PIN, PREEMPTION_TIMER))
        assert_int_equal(msr(0x48a), 0x2e);
    else
        assert_int_equal(msr(0x48a), 0x2a);
}

static void test_optional_msrs_absent_without_their_controls(void **state)
{
    uint64_t v;
    uint32_t a0, a1;
    vmx_allowed(&everything, VMX_PROC, &a0, &a1);
    if (!(a1 & VMX_CTL(PROC, SECONDARY_CONTROLS)))
        assert_false(vmx_cap_msr(&everything, 0, 0x48b, &v));
    assert_false(vmx_cap_msr(&everything, 0, 0x492, &v));
    assert_false(vmx_cap_msr(&everything, 0, 0x47f, &v));
}

static void test_control_names(void **state)
{
    assert_string_equal(vmx_control_name(VMX_PROC, 7), "HLT exiting");
    assert_string_equal(vmx_control_name(VMX_PROC2, 7), "Unrestricted guest");
    assert_string_equal(vmx_control_name(VMX_ENTRY, 9), "IA-32e mode guest");
    assert_null(vmx_control_name(VMX_PIN, 1)); /* reserved default1 bit */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_default1_classes),
        cmocka_unit_test(test_allowed1_only_implemented_controls),
        cmocka_unit_test(test_misc_and_fixed),
        cmocka_unit_test(test_vmcs_enum_is_highest_existing_index),
        cmocka_unit_test(test_optional_msrs_absent_without_their_controls),
        cmocka_unit_test(test_control_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
