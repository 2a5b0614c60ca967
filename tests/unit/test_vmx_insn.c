/* test_vmx_insn.c - VMXON, VMXOFF, VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE
 * and VMCALL in VMX root operation (SDM Vol. 3C "VMX Instruction Reference"):
 * every #UD, #GP, VMfailInvalid and VMfailValid condition in the SDM's order,
 * the error numbers, IA32_FEATURE_CONTROL and the capability MSRs, the CR0/CR4
 * fixed bits in VMX operation, VMCS_ENUM against every encoding VMREAD
 * accepts, and the golden trace of VMfail events. */
#include "vmx_test.h"

#include <stdio.h>
#include <stdlib.h>

#define MSR_FC 0x3a

static int rdmsr_gp(uint32_t n, uint64_t *v)
{
    c->gpr[R_RCX] = n;
    int r = EXEC(0x0f, 0x32);
    *v = (uint32_t)c->gpr[R_RAX] | c->gpr[R_RDX] << 32;
    return r;
}
static int wrmsr_gp(uint32_t n, uint64_t v)
{
    c->gpr[R_RCX] = n;
    c->gpr[R_RAX] = (uint32_t)v;
    c->gpr[R_RDX] = v >> 32;
    return EXEC(0x0f, 0x30);
}
static int mov_cr(int cr, uint64_t v)
{
    c->gpr[R_RAX] = v;
    return EXEC(0x0f, 0x22, (uint8_t)(0xc0 | cr << 3));
}

/* ---- no VMX on the model: everything is #UD, the MSRs #GP ---- */
static void test_model_without_vmx(void **state)
{
    vt_teardown(state);
    vt_new_machine(cpu_model_find("skylake-server-novmx"));
    uint64_t v;
    assert_int_equal(rdmsr_gp(0x480, &v), EXC_GP);
    assert_int_equal(wrmsr_gp(MSR_FC, 1 | 4), EXC_GP); /* no VMX to enable */
    assert_int_equal(mov_cr(4, CR4_PAE | CR4_VMXE), EXC_GP);
    c->cr4 = CR4_PAE; /* what the guest can have */
    assert_int_equal(vmxon(VMXON_PA), EXC_UD);
    assert_int_equal(vmcall(), EXC_UD);
    assert_int_equal(vmxoff(), EXC_UD);
    assert_int_equal(vmptrld(VMCS_A), EXC_UD);
}

static void test_capability_msrs(void **state)
{
    uint64_t v;
    assert_int_equal(rdmsr_gp(0x480, &v), NOFAULT);
    assert_int_equal(v & 0x7fffffff, VMX_REV);
    assert_int_equal(rdmsr_gp(0x486, &v), NOFAULT);
    assert_int_equal(v, CR0_PE | CR0_NE | CR0_PG);
    assert_int_equal(rdmsr_gp(0x488, &v), NOFAULT);
    assert_int_equal(v, CR4_VMXE);
    assert_int_equal(rdmsr_gp(0x489, &v), NOFAULT);
    assert_int_equal(v, cpu_cr4_valid(c));
    assert_true(v & CR4_VMXE);
    assert_int_equal(rdmsr_gp(0x48a, &v), NOFAULT);
    assert_int_equal(v, vmx_vmcs_enum(c->model->vmx));
    assert_int_equal(wrmsr_gp(0x480, v), EXC_GP); /* read-only */
    assert_int_equal(rdmsr_gp(0x492, &v), EXC_GP);
}

static void test_feature_control(void **state)
{
    uint64_t v;
    msr_reset(c);
    assert_int_equal(rdmsr_gp(MSR_FC, &v), NOFAULT);
    assert_int_equal(v, 0);
    assert_int_equal(wrmsr_gp(MSR_FC, 2), EXC_GP); /* VMX inside SMX: no SMX */
    assert_int_equal(wrmsr_gp(MSR_FC, 8), EXC_GP);
    assert_int_equal(wrmsr_gp(MSR_FC, 4), NOFAULT); /* unlocked: VMXON still #GP */
    assert_int_equal(vmxon(VMXON_PA), EXC_GP);
    assert_int_equal(wrmsr_gp(MSR_FC, 5), NOFAULT);
    assert_int_equal(wrmsr_gp(MSR_FC, 5), EXC_GP); /* locked */
    assert_int_equal(vmxon(VMXON_PA), NOFAULT);
    assert_int_equal(vt_outcome(), 0);
}

static void test_vmxon_feature_control_locked_without_vmx(void **state)
{
    c->msr_feature_control = 1;
    assert_int_equal(vmxon(VMXON_PA), EXC_GP);
    assert_false(c->vmx_operation);
}

/* #UD first: CR4.VMXE, compatibility mode, virtual-8086 and real mode */
static void test_vmxon_ud(void **state)
{
    c->cr4 &= ~CR4_VMXE;
    assert_int_equal(vmxon(VMXON_PA), EXC_UD);
    c->cr4 |= CR4_VMXE;
    c->seg[S_CS].ar = AR_P | AR_S | AR_DB | 0xb; /* CS.L = 0 with EFER.LMA = 1 */
    cpu_update_mode(c);
    assert_int_equal(vmxon(VMXON_PA), EXC_UD);
    c->cpl = 3; /* #UD comes before the CPL check */
    assert_int_equal(vmxon(VMXON_PA), EXC_UD);
    assert_false(c->vmx_operation);
}

/* then #GP(0): CPL, CR0/CR4 fixed bits; before the operand is even read */
static void test_vmxon_gp(void **state)
{
    c->cpl = 3;
    assert_int_equal(vmxon(VMXON_PA), EXC_GP);
    c->cpl = 0;
    c->cr0 &= ~CR0_NE;
    assert_int_equal(vmxon(VMXON_PA), EXC_GP);
    c->cr0 |= CR0_NE;
    c->gpr[R_RAX] = 0x8000000000000000ull; /* non-canonical operand: #GP(0) as a memory fault */
    assert_int_equal(vt_exec((const uint8_t[]){ 0xf3, 0x0f, 0xc7, 0x30 }, 4), EXC_GP);
    assert_false(c->vmx_operation);
}

/* then VMfailInvalid for the VMXON pointer and region */
static void test_vmxon_fail_invalid(void **state)
{
    assert_int_equal(vmxon(VMXON_PA + 8), NOFAULT);
    assert_int_equal(vt_outcome(), 'C');
    assert_int_equal(vmxon(1ull << 46), NOFAULT); /* beyond MAXPHYADDR = 46 */
    assert_int_equal(vt_outcome(), 'C');
    phys_write(m, VMXON_PA, 4, VMX_REV + 1);
    assert_int_equal(vmxon(VMXON_PA), NOFAULT);
    assert_int_equal(vt_outcome(), 'C');
    phys_write(m, VMXON_PA, 4, VMX_REV | 1u << 31);
    assert_int_equal(vmxon(VMXON_PA), NOFAULT);
    assert_int_equal(vt_outcome(), 'C');
    assert_false(c->vmx_operation);
    phys_write(m, VMXON_PA, 4, VMX_REV);
    assert_int_equal(vmxon(VMXON_PA), NOFAULT);
    assert_int_equal(vt_outcome(), 0);
    assert_true(c->vmx_operation);
    assert_int_equal(vmptrst(), VMCS_NONE);
}

static void test_vmxon_in_root(void **state)
{
    assert_int_equal(vmxon(VMXON_PA), NOFAULT);
    assert_int_equal(vmxon(VMXON_PA), NOFAULT);
    assert_int_equal(vt_outcome(), 'C'); /* VMfail(15) without a current VMCS */
    assert_int_equal(vmptrld(VMCS_A), NOFAULT);
    assert_int_equal(vmxon(VMXON_PA + 0x1000), NOFAULT);
    assert_int_equal(vt_outcome(), 'Z');
    assert_int_equal(vm_error(), 15);
    c->cpl = 3;
    assert_int_equal(vmxon(VMXON_PA), EXC_GP);
}

static void test_vmxoff(void **state)
{
    assert_int_equal(vmxoff(), EXC_UD);
    assert_int_equal(vmxon(VMXON_PA), NOFAULT);
    c->cpl = 3;
    assert_int_equal(vmxoff(), EXC_GP);
    c->cpl = 0;
    assert_int_equal(vmxoff(), NOFAULT);
    assert_int_equal(vt_outcome(), 0);
    assert_false(c->vmx_operation);
    uint64_t v;
    assert_int_equal(vmread(0x4400, &v), EXC_UD);
    assert_int_equal(vmxoff(), EXC_UD);
    assert_int_equal(mov_cr(4, CR4_PAE), NOFAULT); /* VMXE may go again */
}

/* In VMX operation CR0.PE/NE/PG and CR4.VMXE are fixed to 1 (SDM "Restrictions on VMX Operation"). */
static void test_fixed_bits_in_vmx_operation(void **state)
{
    assert_int_equal(vmxon(VMXON_PA), NOFAULT);
    assert_int_equal(mov_cr(4, CR4_PAE), EXC_GP);
    assert_int_equal(mov_cr(0, c->cr0 & ~CR0_NE), EXC_GP);
    assert_int_equal(mov_cr(0, c->cr0 | CR0_WP), NOFAULT);
    assert_int_equal(mov_cr(4, c->cr4 | CR4_PGE), NOFAULT);
    assert_true(c->cr4 & CR4_VMXE);
}

static void test_vmcall(void **state)
{
    assert_int_equal(vmcall(), EXC_UD); /* outside VMX operation */
    assert_int_equal(vmxon(VMXON_PA), NOFAULT);
    assert_int_equal(vmcall(), NOFAULT);
    assert_int_equal(vt_outcome(), 'C');
    assert_int_equal(vmptrld(VMCS_A), NOFAULT);
    assert_int_equal(vmcall(), NOFAULT);
    assert_int_equal(vt_outcome(), 'Z');
    assert_int_equal(vm_error(), 1);
    c->cpl = 3;
    assert_int_equal(vmcall(), EXC_GP);
    c->cpl = 0;
    c->seg[S_CS].ar = AR_P | AR_S | AR_DB | 0xb; /* compatibility mode */
    cpu_update_mode(c);
    assert_int_equal(vmcall(), EXC_UD);
}

/* The #UD/#GP prologue of the VMCS instructions. */
static void test_vmcs_insns_ud_gp(void **state)
{
    uint64_t v;
    assert_int_equal(vmptrld(VMCS_A), EXC_UD);
    assert_int_equal(vmclear(VMCS_A), EXC_UD);
    assert_int_equal(vmread(0x4400, &v), EXC_UD);
    assert_int_equal(vmwrite(0x4000, 0), EXC_UD);
    c->gpr[R_RAX] = OPND;
    assert_int_equal(EXEC(0x0f, 0xc7, 0x38), EXC_UD); /* VMPTRST */
    assert_int_equal(vmxon(VMXON_PA), NOFAULT);
    c->cpl = 3;
    assert_int_equal(vmptrld(VMCS_A), EXC_GP);
    assert_int_equal(vmclear(VMCS_A), EXC_GP);
    assert_int_equal(vmread(0x4400, &v), EXC_GP);
    assert_int_equal(vmwrite(0x4000, 0), EXC_GP);
    assert_int_equal(EXEC(0x0f, 0xc7, 0x38), EXC_GP);
    c->cpl = 0;
    c->seg[S_CS].ar = AR_P | AR_S | AR_DB | 0xb;
    cpu_update_mode(c);
    assert_int_equal(vmptrld(VMCS_A), EXC_UD);
}

static void test_vmptrld_failures(void **state)
{
    assert_int_equal(vmxon(VMXON_PA), NOFAULT);
    /* without a current VMCS each is VMfailInvalid */
    assert_int_equal(vmptrld(VMCS_A + 0x10), NOFAULT);
    assert_int_equal(vt_outcome(), 'C');
    assert_int_equal(vmptrld(VMCS_B), NOFAULT);
    struct { uint64_t pa; unsigned err; } cases[] = {
        { VMCS_A + 0x800, 9 }, { 1ull << 46, 9 }, { 1ull << 63, 9 }, { VMXON_PA, 10 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        assert_int_equal(vmptrld(cases[k].pa), NOFAULT);
        assert_int_equal(vt_outcome(), 'Z');
        assert_int_equal(vm_error(), cases[k].err);
        assert_int_equal(vmptrst(), VMCS_B); /* still the current VMCS */
    }
    phys_write(m, VMCS_A, 4, VMX_REV + 1);
    assert_int_equal(vmptrld(VMCS_A), NOFAULT);
    assert_int_equal(vm_error(), 11);
    phys_write(m, VMCS_A, 4, VMX_REV | 1u << 31); /* shadow VMCS: shadowing is not offered */
    assert_int_equal(vmptrld(VMCS_A), NOFAULT);
    assert_int_equal(vt_outcome(), 'Z');
    assert_int_equal(vm_error(), 11);
    phys_write(m, VMCS_A, 4, VMX_REV);
    assert_int_equal(vmptrld(VMCS_A), NOFAULT);
    assert_int_equal(vt_outcome(), 0);
    assert_int_equal(vmptrst(), VMCS_A);
}

static void test_vmclear_failures(void **state)
{
    vt_enter_with_vmcs(VMCS_A);
    assert_int_equal(vmclear(VMCS_B + 4), NOFAULT);
    assert_int_equal(vt_outcome(), 'Z');
    assert_int_equal(vm_error(), 2);
    assert_int_equal(vmclear(1ull << 46), NOFAULT);
    assert_int_equal(vm_error(), 2);
    assert_int_equal(vmclear(VMXON_PA), NOFAULT);
    assert_int_equal(vm_error(), 3);
    /* VMCLEAR does not check the revision */
    phys_write(m, VMCS_B, 4, 0x7fff);
    assert_int_equal(vmclear(VMCS_B), NOFAULT);
    assert_int_equal(vt_outcome(), 0);
    assert_int_equal(vmclear(VMCS_A), NOFAULT);
    assert_int_equal(vmclear(VMXON_PA), NOFAULT);
    assert_int_equal(vt_outcome(), 'C'); /* no current VMCS any more */
}

static void test_vmread_vmwrite_failures(void **state)
{
    uint64_t v;
    assert_int_equal(vmxon(VMXON_PA), NOFAULT);
    assert_int_equal(vmread(0x4400, &v), NOFAULT);
    assert_int_equal(vt_outcome(), 'C');
    assert_int_equal(v, 0xdeadbeefdeadbeefull); /* destination untouched */
    assert_int_equal(vmwrite(0x4000, 0), NOFAULT);
    assert_int_equal(vt_outcome(), 'C');
    assert_int_equal(vmptrld(VMCS_A), NOFAULT);
    uint64_t bad[] = {
        0x7777,                    /* no such index */
        1ull << 32 | 0x4400,       /* bits 63:32 of the encoding */
        0x4401,                    /* high access of a 32-bit field */
        0x0004,                    /* EPTP index: "EPT-violation #VE" is not offered */
        0x200e,                    /* PML address: no PML */
        0x1000 | 0x4400,           /* bit 12 */
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        assert_int_equal(vmread(bad[k], &v), NOFAULT);
        assert_int_equal(vt_outcome(), 'Z');
        assert_int_equal(vm_error(), 12);
        assert_int_equal(vmwrite(bad[k], 1), NOFAULT);
        assert_int_equal(vt_outcome(), 'Z');
        assert_int_equal(vm_error(), 12);
    }
    /* IA32_VMX_MISC[29]: skylake-server-vmx lets VMWRITE write exit-information fields */
    assert_int_equal(vmwrite(0x4402, 33), NOFAULT);
    assert_int_equal(vt_outcome(), 0);
    assert_int_equal(vmread(0x4402, &v), NOFAULT);
    assert_int_equal(v, 33);
}

/* A model without IA32_VMX_MISC[29]: VMWRITE to a read-only field is VMfail(13). */
static void test_vmwrite_read_only(void **state)
{
    static struct cpu_model mdl;
    static struct vmx_model vm;
    vt_teardown(state);
    mdl = *cpu_model_find("skylake-server-vmx");
    vm = *mdl.vmx;
    vm.vmwrite_any_field = false;
    mdl.vmx = &vm;
    vt_new_machine(&mdl);
    uint64_t v, misc;
    assert_int_equal(rdmsr_gp(0x485, &misc), NOFAULT);
    assert_false(misc & 1u << 29);
    vt_enter_with_vmcs(VMCS_A);
    uint32_t ro[] = { 0x4400, 0x4402, 0x440e, 0x6400, 0x640a };
    for (size_t k = 0; k < sizeof ro / sizeof ro[0]; k++) {
        assert_int_equal(vmwrite(ro[k], 5), NOFAULT);
        assert_int_equal(vt_outcome(), 'Z');
        assert_int_equal(vm_error(), 13);
        assert_int_equal(vmread(ro[k], &v), NOFAULT);
        assert_int_equal(vt_outcome(), 0);
        assert_int_equal(v, ro[k] == 0x4400 ? 13 : 0);
    }
}

/* IA32_VMX_VMCS_ENUM[9:1] is the highest index VMREAD accepts; every encoding
 * VMREAD accepts is a field of the table that exists on the model. */
static void test_vmcs_enum_matches_vmread(void **state)
{
    vt_enter_with_vmcs(VMCS_A);
    uint64_t msr, v;
    assert_int_equal(rdmsr_gp(0x48a, &msr), NOFAULT);
    unsigned highest = 0, accepted = 0;
    for (uint32_t enc = 0; enc < 0x10000; enc++) {
        assert_int_equal(vmread(enc, &v), NOFAULT);
        int high = 0, f = vmcs_field_by_encoding(enc, &high);
        bool exists = f >= 0 && vmcs_field_exists(c->model->vmx, f);
        assert_int_equal(vt_outcome(), exists ? 0 : 'Z');
        if (exists) {
            accepted++;
            if (vmcs_enc_index(enc) > highest)
                highest = vmcs_enc_index(enc);
        }
    }
    assert_true(accepted > 100);
    assert_int_equal((msr >> 1) & 0x1ff, highest);
}

/* The VMfail events of a scripted sequence, byte for byte against the golden file. */
static void test_golden_vmfail_trace(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    vmx_trace_open(f);
    uint64_t v;
    c->rip = 0x100000;
    c->cycles = 1000;
    vmxon(VMXON_PA + 1);                   /* VMfailInvalid: alignment */
    vmxon(VMXON_PA);
    vmxon(VMXON_PA);                       /* VMfail(15) without a VMCS: invalid */
    vmread(0x4400, &v);                    /* no current VMCS */
    vmptrld(VMXON_PA);                     /* VMfail(10), invalid */
    c->cycles = 2000;
    vmptrld(VMCS_A);
    vmptrld(VMCS_A + 0x10);                /* 9 */
    vmclear(VMXON_PA);                     /* 3 */
    vmwrite(0x7777, 0);                    /* 12 */
    vmcall();                              /* 1 */
    vmxon(VMXON_PA);                       /* 15 */
    vmxoff();
    vmx_trace_open(NULL);
    fclose(f);
    FILE *g = fopen("tests/unit/golden/vmfail.jsonl", "r");
    assert_non_null(g);
    char want[4096];
    size_t n = fread(want, 1, sizeof want - 1, g);
    fclose(g);
    want[n] = 0;
    if (strcmp(buf, want))
        fprintf(stderr, "trace differs from tests/unit/golden/vmfail.jsonl:\n%s", buf);
    assert_string_equal(buf, want);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_model_without_vmx, vt_setup, vt_teardown),
        cmocka_unit_test_setup_teardown(test_capability_msrs, vt_setup, vt_teardown),
        cmocka_unit_test_setup_teardown(test_feature_control, vt_setup, vt_teardown),
        cmocka_unit_test_setup_teardown(test_vmxon_feature_control_locked_without_vmx, vt_setup, vt_teardown),
        cmocka_unit_test_setup_teardown(test_vmxon_ud, vt_setup, vt_teardown),
        cmocka_unit_test_setup_teardown(test_vmxon_gp, vt_setup, vt_teardown),
        cmocka_unit_test_setup_teardown(test_vmxon_fail_invalid, vt_setup, vt_teardown),
        cmocka_unit_test_setup_teardown(test_vmxon_in_root, vt_setup, vt_teardown),
        cmocka_unit_test_setup_teardown(test_vmxoff, vt_setup, vt_teardown),
        cmocka_unit_test_setup_teardown(test_fixed_bits_in_vmx_operation, vt_setup, vt_teardown),
        cmocka_unit_test_setup_teardown(test_vmcall, vt_setup, vt_teardown),
        cmocka_unit_test_setup_teardown(test_vmcs_insns_ud_gp, vt_setup, vt_teardown),
        cmocka_unit_test_setup_teardown(test_vmptrld_failures, vt_setup, vt_teardown),
        cmocka_unit_test_setup_teardown(test_vmclear_failures, vt_setup, vt_teardown),
        cmocka_unit_test_setup_teardown(test_vmread_vmwrite_failures, vt_setup, vt_teardown),
        cmocka_unit_test_setup_teardown(test_vmwrite_read_only, vt_setup, vt_teardown),
        cmocka_unit_test_setup_teardown(test_vmcs_enum_matches_vmread, vt_setup, vt_teardown),
        cmocka_unit_test_setup_teardown(test_golden_vmfail_trace, vt_setup, vt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
