/* test_vmx_tables.c - the VMX tables agree with the SDM's encoding rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmx/vmx_tables.h"

static void test_encodings_are_well_formed_and_unique(void **state)
{
    for (int f = 0; f < VMCS_FIELD_COUNT; f++) {
        uint32_t enc = vmcs_field_encoding(f);
        assert_int_equal(enc & 1, 0);         /* rows hold the full encoding */
        assert_int_equal(enc & 0xffff9000u, 0);
        for (int g = f + 1; g < VMCS_FIELD_COUNT; g++)
            assert_int_not_equal(enc, vmcs_field_encoding(g));
    }
}

static void test_lookup_by_encoding(void **state)
{
    int high = -1;
    assert_int_equal(vmcs_field_by_encoding(0x681e, &high), VMCS_GUEST_RIP);
    assert_int_equal(high, 0);
    assert_int_equal(vmcs_field_by_encoding(0x201b, &high), VMCS_EPT_POINTER); /* EPTP high */
    assert_int_equal(high, 1);
    assert_int_equal(vmcs_field_by_encoding(0x681f, &high), -1); /* natural width has no high part */
    assert_int_equal(vmcs_field_by_encoding(0x1681e, &high), -1); /* reserved bits */
    assert_int_equal(vmcs_field_by_encoding(0x482c, &high), -1); /* index the SDM leaves unused */
    assert_int_equal(vmcs_enc_width(0x4402), VMCS_W32);
    assert_int_equal(vmcs_enc_type(0x4402), VMCS_T_RODATA);
    assert_string_equal(vmcs_field_name(VMCS_GUEST_CS_SELECTOR), "Guest CS selector");
    assert_int_equal(vmcs_field_by_ident("guest_rip"), VMCS_GUEST_RIP);
}

static void test_exit_reasons_and_errors(void **state)
{
    assert_string_equal(vmx_exit_reason_ident(10), "CPUID");
    assert_string_equal(vmx_exit_reason_ident(48), "EPT_VIOLATION");
    assert_string_equal(vmx_exit_reason_name(33), "VM-entry failure due to invalid guest state");
    assert_null(vmx_exit_reason_name(35));
    assert_null(vmx_exit_reason_name(1000));
    assert_string_equal(vm_instruction_error_text(VMERR_VMPTRLD_BAD_REVISION),
                        "VMPTRLD with incorrect VMCS revision identifier");
    assert_null(vm_instruction_error_text(14));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encodings_are_well_formed_and_unique),
        cmocka_unit_test(test_lookup_by_encoding),
        cmocka_unit_test(test_exit_reasons_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
