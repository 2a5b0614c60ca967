/* test_observe.c - the transition record vmx/ keeps for the monitor
 * (vmx/observe.h): counters, the exit ring and its wrap-around, the last
 * failed VM entry with its check, segment and values, VMCS snapshots only
 * when asked for, and a row of vmx/entry_check_values.def for every check. */
#include "vmx_guest_test.h"

#include "vmx/entry_checks.h"
#include "vmx/exit_trace.h"

static void test_every_check_has_values(void **state)
{
    for (int k = 0; k < CHK_COUNT; k++) {
        if (!vmx_check_has_values(k))
            print_error("check %s has no row in vmx/entry_check_values.def\n", entry_check_info(k)->ident);
        assert_true(vmx_check_has_values(k));
    }
}

static void test_entry_exit_counted_and_ring(void **state)
{
    assert_int_equal(vmx_observed(c)->entries, 0);
    vg_launch();
    const struct vmx_observe *o = vmx_observed(c);
    assert_int_equal(o->entries, 1);
    assert_int_equal(o->last, VMX_T_ENTRY);
    assert_false(o->have_snap); /* snapshots are off unless a debugger asks */
    uint64_t rip = c->rip;
    c->gpr[R_RCX] = 0x10;
    assert_int_equal(RUN(0x0f, 0xa2), EXITED); /* CPUID */
    assert_int_equal(o->exits, 1);
    assert_int_equal(o->last, VMX_T_EXIT);
    const struct vmx_exit_rec *e = vmx_observed_exit(c, 0);
    assert_non_null(e);
    assert_int_equal(e->reason, EXIT_REASON_CPUID);
    assert_int_equal(e->rip, rip);
    assert_int_equal(e->insn_len, 2);
    assert_null(vmx_observed_exit(c, 1));
    /* the ring keeps the last VMX_EXIT_RING exits */
    for (int k = 1; k < VMX_EXIT_RING + 5; k++) {
        assert_int_equal(vmresume(), EXITED);
        assert_int_equal(RUN(0x0f, 0xa2), EXITED);
    }
    assert_int_equal(o->exits, VMX_EXIT_RING + 5);
    assert_int_equal(o->entries, VMX_EXIT_RING + 5);
    assert_null(vmx_observed_exit(c, 4));
    assert_non_null(vmx_observed_exit(c, 5));
    assert_int_equal(vmx_observed_exit(c, VMX_EXIT_RING + 4)->reason, EXIT_REASON_CPUID);
}

static void test_snapshot_when_asked(void **state)
{
    vmx_observe_snapshots = true;
    vg_launch();
    assert_int_equal(RUN(0x0f, 0xa2), EXITED);
    const struct vmx_observe *o = vmx_observed(c);
    vmx_observe_snapshots = false;
    assert_true(o->have_snap);
    assert_int_equal(o->snap_ptr, VMCS_A);
    assert_int_equal(o->snap[VMCS_VM_EXIT_REASON], EXIT_REASON_CPUID);
    assert_memory_equal(o->snap, vmx_state(c)->vmcs, sizeof o->snap);
}

static void value_has(const struct vmx_check_value *v, int n, int field, uint64_t val)
{
    for (int k = 0; k < n; k++)
        if (v[k].field == field) {
            assert_int_equal(v[k].value, val);
            return;
        }
    fail_msg("field %s not among the values", vmcs_field_ident(field));
}

static void test_failed_entry_guest_segment(void **state)
{
    W(GUEST_DS_AR_BYTES, 0x93 & ~1); /* DS not accessed: GUEST_DATA_TYPE on DS */
    assert_int_equal(vmlaunch(), EXITED);
    assert_false(c->nonroot);
    const struct vmx_observe *o = vmx_observed(c);
    assert_true(o->have_failed);
    assert_int_equal(o->failed, 1);
    assert_int_equal(o->entries, 0);
    assert_int_equal(o->last, VMX_T_FAILED_ENTRY);
    assert_int_equal(o->fail.check, CHK_GUEST_DATA_TYPE);
    assert_int_equal(o->fail.seg, S_DS);
    assert_int_equal(o->fail.reason, EXIT_REASON_INVALID_GUEST_STATE);
    assert_string_equal(o->fail.insn, "VMLAUNCH");
    struct vmx_check_value v[8];
    int n = vmx_failed_entry_values(c, &o->fail, v, 8);
    assert_int_equal(n, 1);
    value_has(v, n, VMCS_GUEST_DS_AR_BYTES, 0x92);
}

static void test_failed_entry_control_values(void **state)
{
    W(HOST_CR0, R(HOST_CR0) & ~CR0_PE);
    assert_int_equal(vmlaunch(), NOFAULT); /* VMfailValid */
    const struct vmx_observe *o = vmx_observed(c);
    assert_int_equal(o->fail.check, CHK_HOST_CR0_FIXED);
    assert_int_equal(o->failed, 1); /* the VMfailValid that follows is the same failure */
    assert_int_equal(o->fail.error, VMERR_ENTRY_INVALID_HOST_STATE);
    assert_int_equal(o->fail.reason, 0);
    assert_int_equal(o->fail.seg, -1);
    struct vmx_check_value v[8];
    int n = vmx_failed_entry_values(c, &o->fail, v, 8);
    assert_int_equal(n, 3);
    value_has(v, n, VMCS_HOST_CR0, R(HOST_CR0));
    assert_int_equal(v[1].field, -1);
    assert_int_equal(v[1].msr, 0x486);
    uint64_t fixed0;
    assert_true(vmx_cap_msr(vmx_model_of(c), cpu_cr4_valid(c), 0x486, &fixed0));
    assert_int_equal(v[1].value, fixed0);
}

/* VMLAUNCH/VMRESUME failures before the checks are failed entries too, with
 * their VMfail outcome; other VMX instructions' failures are not. */
static void test_failed_entry_before_checks(void **state)
{
    vg_launch();
    assert_int_equal(RUN(0x0f, 0xa2), EXITED);
    const struct vmx_observe *o = vmx_observed(c);
    uint64_t rip = c->rip;
    assert_int_equal(vmlaunch(), NOFAULT); /* launched VMCS: VMfailValid(4) */
    assert_int_equal(o->failed, 1);
    assert_int_equal(o->fail.check, -1);
    assert_int_equal(o->fail.error, VMERR_VMLAUNCH_NONCLEAR);
    assert_string_equal(o->fail.insn, "VMLAUNCH");
    assert_int_equal(o->fail.rip, rip);
    struct vmx_check_value v[4];
    assert_int_equal(vmx_failed_entry_values(c, &o->fail, v, 4), 0);
    assert_int_equal(vmwrite(0x7777, 0), NOFAULT); /* no such field: VMfailValid(12) */
    assert_int_equal(vt_outcome(), 'Z');
    assert_int_equal(o->failed, 1);
    assert_int_equal(vmclear(VMCS_A), NOFAULT);
    assert_int_equal(vmresume(), NOFAULT); /* no current VMCS: VMfailInvalid */
    assert_int_equal(o->failed, 2);
    assert_int_equal(o->fail.error, -1);
    assert_string_equal(o->fail.insn, "VMRESUME");
}

static void collect(void *arg, const char *name, uint64_t v)
{
    char *s = arg;
    sprintf(s + strlen(s), "%s=%llu ", name, (unsigned long long)v);
}

static void test_qualification_fields(void **state)
{
    char s[200] = "";
    vmx_qual_fields(EXIT_REASON_IO_INSTRUCTION, 0x3f80008, collect, s); /* IN AL? port 0x3f8 string */
    assert_string_equal(s, "size_minus_1=0 in=1 string=0 rep=0 immediate_port=0 port=1016 ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, vg_setup, vt_teardown)
        cmocka_unit_test(test_every_check_has_values),
        T(test_entry_exit_counted_and_ring),
        T(test_snapshot_when_asked),
        T(test_failed_entry_guest_segment),
        T(test_failed_entry_control_values),
        T(test_failed_entry_before_checks),
        cmocka_unit_test(test_qualification_fields),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
