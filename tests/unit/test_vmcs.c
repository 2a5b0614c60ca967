/* test_vmcs.c - the VMCS region layout and the current-VMCS cache
 * (docs/vmcs-layout.md): a zeroed region reads as zero fields, VMCLEAR writes
 * the fields and a clear launch state back, a copied region loads elsewhere,
 * VMPTRLD of another VMCS writes the old one back, VMXOFF too; VMREAD/VMWRITE
 * widths and access types (SDM Vol. 3C "VMREAD, VMWRITE, and Encodings of
 * VMCS Fields"), in 64-bit mode and outside it, register and memory forms. */
#include "vmx_test.h"

static uint64_t slot(uint64_t region, enum vmcs_field f)
{
    return phys_read(m, region + vmcs_field_offset(f), 8);
}

static void test_zeroed_region_reads_zero(void **state)
{
    vt_enter_with_vmcs(VMCS_A);
    for (int f = 0; f < VMCS_FIELD_COUNT; f++) {
        if (!vmcs_field_exists(c->model->vmx, f))
            continue;
        uint64_t v;
        assert_int_equal(vmread(vmcs_field_encoding(f), &v), NOFAULT);
        assert_int_equal(vt_outcome(), 0);
        assert_int_equal(v, 0);
    }
}

static void test_layout_offsets(void **state)
{
    assert_int_equal(vmcs_field_offset(0), 16);
    assert_int_equal(vmcs_field_offset(VMCS_GUEST_RIP), 16 + 8 * VMCS_GUEST_RIP);
    assert_true(vmcs_field_offset(VMCS_FIELD_COUNT - 1) + 8 <= 4096); /* one 4-KByte region */
}

static void test_vmclear_writes_back(void **state)
{
    vt_enter_with_vmcs(VMCS_A);
    assert_int_equal(vmwrite(0x681e, 0x1234567890ull), NOFAULT); /* Guest RIP */
    assert_int_equal(vmwrite(0x0802, 0x10), NOFAULT);            /* Guest CS selector */
    assert_int_equal(slot(VMCS_A, VMCS_GUEST_RIP), 0);             /* cached while current */
    vmx_state(c)->launch_state = 1;                                /* as VMLAUNCH leaves it */
    assert_int_equal(vmclear(VMCS_A), NOFAULT);
    assert_int_equal(vt_outcome(), 0);
    assert_int_equal(slot(VMCS_A, VMCS_GUEST_RIP), 0x1234567890ull);
    assert_int_equal(slot(VMCS_A, VMCS_GUEST_CS_SELECTOR), 0x10);
    assert_int_equal(phys_read(m, VMCS_A + VMCS_OFF_LAUNCH, 4), 0);
    assert_int_equal(phys_read(m, VMCS_A + VMCS_OFF_REVISION, 4), VMX_REV);
    assert_int_equal(vmptrst(), VMCS_NONE);
}

static void test_vmclear_of_other_vmcs_clears_launch_state(void **state)
{
    vt_enter_with_vmcs(VMCS_A);
    phys_write(m, VMCS_B + VMCS_OFF_LAUNCH, 4, 1);
    assert_int_equal(vmclear(VMCS_B), NOFAULT);
    assert_int_equal(phys_read(m, VMCS_B + VMCS_OFF_LAUNCH, 4), 0);
    assert_int_equal(vmptrst(), VMCS_A);
}

static void test_copied_region_loads_elsewhere(void **state)
{
    vt_enter_with_vmcs(VMCS_A);
    assert_int_equal(vmwrite(0x6c16, 0xffffffff81000000ull), NOFAULT); /* Host RIP */
    assert_int_equal(vmwrite(0x4002, 0x84006172), NOFAULT);            /* primary controls */
    assert_int_equal(vmclear(VMCS_A), NOFAULT);
    uint8_t region[4096];
    assert_true(phys_copy_out(m, region, VMCS_A, sizeof region));
    assert_true(phys_copy_in(m, 0x40000, region, sizeof region));
    assert_int_equal(vmptrld(0x40000), NOFAULT);
    assert_int_equal(vt_outcome(), 0);
    uint64_t v;
    assert_int_equal(vmread(0x6c16, &v), NOFAULT);
    assert_int_equal(v, 0xffffffff81000000ull);
    assert_int_equal(vmread(0x4002, &v), NOFAULT);
    assert_int_equal(v, 0x84006172);
    assert_int_equal(vmx_state(c)->launch_state, 0);
}

static void test_vmptrld_switch_writes_back(void **state)
{
    vt_enter_with_vmcs(VMCS_A);
    assert_int_equal(vmwrite(0x6820, 0x202), NOFAULT); /* Guest RFLAGS in A */
    assert_int_equal(vmptrld(VMCS_B), NOFAULT);
    uint64_t v;
    assert_int_equal(vmread(0x6820, &v), NOFAULT);
    assert_int_equal(v, 0);                            /* B's own value */
    assert_int_equal(slot(VMCS_A, VMCS_GUEST_RFLAGS), 0x202);
    assert_int_equal(vmptrld(VMCS_A), NOFAULT);
    assert_int_equal(vmread(0x6820, &v), NOFAULT);
    assert_int_equal(v, 0x202);
    /* VMPTRLD of the current VMCS keeps the cache */
    assert_int_equal(vmwrite(0x6820, 0x2), NOFAULT);
    assert_int_equal(vmptrld(VMCS_A), NOFAULT);
    assert_int_equal(vmread(0x6820, &v), NOFAULT);
    assert_int_equal(v, 0x2);
}

static void test_launch_state_follows_the_region(void **state)
{
    phys_write(m, VMCS_B + VMCS_OFF_LAUNCH, 4, 1);
    vt_enter_with_vmcs(VMCS_B);
    assert_int_equal(vmx_state(c)->launch_state, 1);
    assert_int_equal(vmptrld(VMCS_A), NOFAULT);
    assert_int_equal(vmx_state(c)->launch_state, 0);
}

static void test_vmxoff_writes_back(void **state)
{
    vt_enter_with_vmcs(VMCS_A);
    assert_int_equal(vmwrite(0x6800, 0x80000031), NOFAULT); /* Guest CR0 */
    assert_int_equal(vmxoff(), NOFAULT);
    assert_int_equal(slot(VMCS_A, VMCS_GUEST_CR0), 0x80000031);
    assert_int_equal(vmxon(VMXON_PA), NOFAULT);
    assert_int_equal(vmptrst(), VMCS_NONE);
}

/* 64-bit mode: 16- and 32-bit fields take the low bits, read zero-extended;
 * the high access type of a 64-bit field reads and writes bits 63:32. */
static void test_widths_64bit_mode(void **state)
{
    vt_enter_with_vmcs(VMCS_A);
    uint64_t v;
    assert_int_equal(vmwrite(0x0800, 0xffffffffffff1234ull), NOFAULT); /* 16-bit */
    assert_int_equal(vmread(0x0800, &v), NOFAULT);
    assert_int_equal(v, 0x1234);
    assert_int_equal(vmwrite(0x4004, 0xffffffff00045678ull), NOFAULT); /* 32-bit */
    assert_int_equal(vmread(0x4004, &v), NOFAULT);
    assert_int_equal(v, 0x45678);
    assert_int_equal(vmwrite(0x2800, 0x1122334455667788ull), NOFAULT); /* 64-bit, full */
    assert_int_equal(vmread(0x2801, &v), NOFAULT);                     /* high */
    assert_int_equal(v, 0x11223344);
    assert_int_equal(vmwrite(0x2801, 0xaaaaaaaa99999999ull), NOFAULT); /* high: bits 63:32 only */
    assert_int_equal(vmread(0x2800, &v), NOFAULT);
    assert_int_equal(v, 0x9999999955667788ull);
    assert_int_equal(vmwrite(0x6c14, 0xfedcba9876543210ull), NOFAULT); /* natural width */
    assert_int_equal(vmread(0x6c14, &v), NOFAULT);
    assert_int_equal(v, 0xfedcba9876543210ull);
}

/* Outside 64-bit mode the operands are 32 bits: 64-bit and natural-width
 * fields read their low half and a write clears the high half. */
static void test_widths_32bit_mode(void **state)
{
    vt_enter_with_vmcs(VMCS_A);
    assert_int_equal(vmwrite(0x2800, 0x1122334455667788ull), NOFAULT);
    assert_int_equal(vmwrite(0x6c14, 0xfedcba9876543210ull), NOFAULT);
    /* 32-bit protected mode (paging stays on as the fixed bits require; the
     * register forms touch no memory) */
    c->efer = 0;
    c->seg[S_CS].ar = AR_P | AR_S | AR_DB | 0xb;
    cpu_update_mode(c);
    assert_int_equal(c->mode, MODE_PROT32);
    uint64_t v;
    assert_int_equal(vmread(0x2800, &v), NOFAULT);
    assert_int_equal(vt_outcome(), 0);
    assert_int_equal(v, 0x55667788);
    assert_int_equal(vmread(0x2801, &v), NOFAULT);
    assert_int_equal(v, 0x11223344);
    assert_int_equal(vmread(0x6c14, &v), NOFAULT);
    assert_int_equal(v, 0x76543210);
    assert_int_equal(vmwrite(0x2800, 0xabcdef01), NOFAULT);
    assert_int_equal(vmwrite(0x6c14, 0x13579bdf), NOFAULT);
    assert_int_equal(vmcs_get(c, VMCS_VMCS_LINK_POINTER), 0xabcdef01);
    assert_int_equal(vmcs_get(c, VMCS_HOST_RSP), 0x13579bdf);
    /* the encoding register is 32 bits too: bits 63:32 of RAX do not count */
    assert_int_equal(vmread(0xffffffff00004400ull, &v), NOFAULT);
    assert_int_equal(vt_outcome(), 0);
}

/* Memory forms: VMREAD stores 8 bytes in 64-bit mode, VMWRITE loads them. */
static void test_memory_forms(void **state)
{
    vt_enter_with_vmcs(VMCS_A);
    phys_write(m, 0x9000, 8, 0x0123456789abcdefull);
    c->gpr[R_RAX] = 0x681c; /* Guest RSP */
    c->gpr[R_RBX] = 0x9000;
    assert_int_equal(EXEC(0x0f, 0x79, 0x03), NOFAULT); /* VMWRITE RAX, [RBX] */
    assert_int_equal(vt_outcome(), 0);
    assert_int_equal(vmcs_get(c, VMCS_GUEST_RSP), 0x0123456789abcdefull);
    c->gpr[R_RBX] = 0x9100;
    assert_int_equal(EXEC(0x0f, 0x78, 0x03), NOFAULT); /* VMREAD [RBX], RAX */
    assert_int_equal(phys_read(m, 0x9100, 8), 0x0123456789abcdefull);
    /* a faulting memory source: after the VMCS-pointer check, before the field check */
    c->gpr[R_RAX] = 0x7777;
    c->gpr[R_RBX] = 0x8000000000000000ull;
    assert_int_equal(EXEC(0x0f, 0x79, 0x03), EXC_GP);
    assert_int_equal(vm_error(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_zeroed_region_reads_zero, vt_setup, vt_teardown),
        cmocka_unit_test_setup_teardown(test_layout_offsets, vt_setup, vt_teardown),
        cmocka_unit_test_setup_teardown(test_vmclear_writes_back, vt_setup, vt_teardown),
        cmocka_unit_test_setup_teardown(test_vmclear_of_other_vmcs_clears_launch_state, vt_setup, vt_teardown),
        cmocka_unit_test_setup_teardown(test_copied_region_loads_elsewhere, vt_setup, vt_teardown),
        cmocka_unit_test_setup_teardown(test_vmptrld_switch_writes_back, vt_setup, vt_teardown),
        cmocka_unit_test_setup_teardown(test_launch_state_follows_the_region, vt_setup, vt_teardown),
        cmocka_unit_test_setup_teardown(test_vmxoff_writes_back, vt_setup, vt_teardown),
        cmocka_unit_test_setup_teardown(test_widths_64bit_mode, vt_setup, vt_teardown),
        cmocka_unit_test_setup_teardown(test_widths_32bit_mode, vt_setup, vt_teardown),
        cmocka_unit_test_setup_teardown(test_memory_forms, vt_setup, vt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
