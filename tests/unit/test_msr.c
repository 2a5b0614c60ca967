/* test_msr.c - the MSRs of emu/msr.def through msr_read/msr_write and the
 * RDMSR/WRMSR instructions: round trips, #GP for unknown MSRs, reserved bits,
 * non-canonical addresses and invalid memory types, EFER rules, the TSC and
 * IA32_TSC_ADJUST, model-dependent existence, and msr_name(). */
#include "emu/msr.h"
#include "fixture.h"

#define NOFAULT (-1)

static machine_t *m;
static cpu_t *c;

static void new_machine(const struct cpu_model *model)
{
    m = machine_new(16 << 20, model, 2);
    assert_non_null(m);
    for (int k = 0; k < m->ncpus; k++)
        msr_reset(m->cpu[k]);
    c = m->cpu[0];
    /* 64-bit mode, CPL 0 */
    c->cr0 = CR0_PE | CR0_ET;
    c->cr4 = CR4_PAE;
    c->efer = EFER_LME | EFER_LMA;
    c->seg[S_CS].ar = AR_P | AR_S | AR_L | 0xb;
    cpu_update_mode(c);
}

static int setup_default(void **state)
{
    new_machine(cpu_model_default());
    return 0;
}

static int teardown(void **state)
{
    machine_free(m);
    m = NULL;
    return 0;
}

static int exec(const uint8_t *bytes, int n)
{
    static dinsn_t d;
    return fx_exec_bytes(c, &d, bytes, (size_t)n);
}

static int rdmsr(uint32_t n, uint64_t *v)
{
    c->gpr[R_RCX] = n;
    c->gpr[R_RAX] = c->gpr[R_RDX] = ~0ull;
    int r = exec((const uint8_t[]){ 0x0f, 0x32 }, 2);
    *v = (uint32_t)c->gpr[R_RAX] | c->gpr[R_RDX] << 32;
    return r;
}

static int wrmsr(uint32_t n, uint64_t v)
{
    c->gpr[R_RCX] = n;
    c->gpr[R_RAX] = (uint32_t)v | 0xdead000000000000ull; /* upper halves are ignored */
    c->gpr[R_RDX] = v >> 32 | 0xbeef000000000000ull;
    return exec((const uint8_t[]){ 0x0f, 0x30 }, 2);
}

/* write then read back */
static void round_trip(uint32_t n, uint64_t v)
{
    uint64_t r;
    assert_int_equal(wrmsr(n, v), NOFAULT);
    assert_int_equal(rdmsr(n, &r), NOFAULT);
    assert_int_equal(r, v);
}

static void test_names(void **state)
{
    assert_string_equal(msr_name(0xc0000080), "IA32_EFER");
    assert_string_equal(msr_name(0x277), "IA32_PAT");
    assert_string_equal(msr_name(0x20f), "IA32_MTRR_PHYSMASK7");
    assert_null(msr_name(0x12345));
}

static void test_unknown_and_privilege(void **state)
{
    uint64_t v;
    assert_int_equal(rdmsr(0x12345, &v), EXC_GP);
    assert_int_equal(wrmsr(0x12345, 0), EXC_GP);
    assert_int_equal(rdmsr(MSR_IA32_STAR, &v), NOFAULT);
    assert_int_equal(c->gpr[R_RAX] >> 32, 0); /* RDMSR clears the upper halves */
    c->cpl = 3;
    assert_int_equal(rdmsr(MSR_IA32_STAR, &v), EXC_GP);
    assert_int_equal(wrmsr(MSR_IA32_STAR, 0), EXC_GP);
}

static void test_syscall_msrs(void **state)
{
    round_trip(MSR_IA32_STAR, 0x0023001000000000ull);
    round_trip(MSR_IA32_LSTAR, 0xffffffff81000000ull);
    round_trip(MSR_IA32_CSTAR, 0x00007fffffffffffull);
    round_trip(MSR_IA32_FMASK, 0x47700);
    round_trip(MSR_IA32_SYSENTER_CS, 0x10);
    round_trip(MSR_IA32_SYSENTER_EIP, 0xffff800000001000ull);
    assert_int_equal(wrmsr(MSR_IA32_LSTAR, 0x0000800000000000ull), EXC_GP);
    assert_int_equal(wrmsr(MSR_IA32_SYSENTER_ESP, 0x8000000000000000ull), EXC_GP);
    assert_int_equal(wrmsr(MSR_IA32_FMASK, 1ull << 32), EXC_GP);
    assert_int_equal(c->msr_lstar, 0xffffffff81000000ull);
}

static void test_segment_base_msrs(void **state)
{
    round_trip(MSR_IA32_FS_BASE, 0x00007f0000001000ull);
    assert_int_equal(c->seg[S_FS].base, 0x00007f0000001000ull);
    round_trip(MSR_IA32_GS_BASE, 0xffff888000000000ull);
    assert_int_equal(c->seg[S_GS].base, 0xffff888000000000ull);
    round_trip(MSR_IA32_KERNEL_GS_BASE, 0x1000);
    assert_int_equal(wrmsr(MSR_IA32_GS_BASE, 0x0001000000000000ull), EXC_GP);
    assert_int_equal(c->seg[S_GS].base, 0xffff888000000000ull);
    round_trip(MSR_IA32_TSC_AUX, 0xabcd);
    assert_int_equal(wrmsr(MSR_IA32_TSC_AUX, 1ull << 32), EXC_GP);
}

static void test_efer(void **state)
{
    uint64_t v;
    assert_int_equal(rdmsr(MSR_IA32_EFER, &v), NOFAULT);
    assert_int_equal(v, EFER_LME | EFER_LMA);
    round_trip(MSR_IA32_EFER, EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE);
    assert_int_equal(wrmsr(MSR_IA32_EFER, EFER_LME | (1ull << 1)), EXC_GP);
    /* LMA is the processor's: a write of 0 there is ignored */
    assert_int_equal(wrmsr(MSR_IA32_EFER, EFER_LME), NOFAULT);
    assert_true(c->efer & EFER_LMA);
    /* LME cannot change while paging is on */
    c->cr0 |= CR0_PG;
    assert_int_equal(wrmsr(MSR_IA32_EFER, EFER_LMA), EXC_GP);
    /* NXE changes flush the TLB (it caches execute rights) */
    tlb_note_fill(c, &c->tlb_sup[3]); /* an entry made as emu/mmu.c makes them */
    c->tlb_sup[3].tag_r = 0x3000;
    assert_int_equal(wrmsr(MSR_IA32_EFER, EFER_LME | EFER_NXE), NOFAULT);
    assert_int_not_equal(c->tlb_sup[3].tag_r, 0x3000);
    /* XD disable in IA32_MISC_ENABLE makes NXE reserved */
    assert_int_equal(wrmsr(MSR_IA32_EFER, EFER_LME), NOFAULT);
    c->msr_misc_enable |= MISC_ENABLE_XD_DISABLE;
    assert_int_equal(wrmsr(MSR_IA32_EFER, EFER_LME | EFER_NXE), EXC_GP);
}

static void test_efer_enables_long_mode_through_cr0(void **state)
{
    /* from the MSR side: LME set while paging is off does not activate IA-32e mode */
    c->efer = 0;
    c->cr0 = CR0_PE | CR0_ET;
    c->seg[S_CS].ar = AR_P | AR_S | AR_DB | 0xb;
    cpu_update_mode(c);
    assert_int_equal(wrmsr(MSR_IA32_EFER, EFER_LME), NOFAULT);
    assert_false(c->efer & EFER_LMA);
    assert_int_equal(c->mode, MODE_PROT32);
    assert_true(c->stop & STOP_MODE);
}

static void test_tsc_and_adjust(void **state)
{
    uint64_t v;
    c->cycles = 1000;
    assert_int_equal(rdmsr(MSR_IA32_TIME_STAMP_COUNTER, &v), NOFAULT);
    assert_int_equal(v, 1000 * c->model->tsc_per_cycle);
    assert_int_equal(wrmsr(MSR_IA32_TIME_STAMP_COUNTER, 50000), NOFAULT);
    assert_int_equal(cpu_tsc(c), 50000);
    c->cycles += 10;
    assert_int_equal(cpu_tsc(c), 50000 + 10 * c->model->tsc_per_cycle);
    /* the write moved IA32_TSC_ADJUST by the same amount */
    assert_int_equal(rdmsr(MSR_IA32_TSC_ADJUST, &v), NOFAULT);
    assert_int_equal(v, 50000 - 1000 * c->model->tsc_per_cycle);
    uint64_t before = cpu_tsc(c);
    assert_int_equal(wrmsr(MSR_IA32_TSC_ADJUST, v + 7), NOFAULT);
    assert_int_equal(cpu_tsc(c), before + 7);
}

static void test_pat_and_mtrrs(void **state)
{
    uint64_t v;
    assert_int_equal(rdmsr(MSR_IA32_PAT, &v), NOFAULT);
    assert_int_equal(v, 0x0007040600070406ull);
    round_trip(MSR_IA32_PAT, 0x0007010600070106ull);
    assert_int_equal(wrmsr(MSR_IA32_PAT, 0x0007040600070402ull), EXC_GP); /* type 2 */
    assert_int_equal(wrmsr(MSR_IA32_PAT, 0x0007040600070408ull), EXC_GP);
    assert_int_equal(rdmsr(MSR_IA32_MTRRCAP, &v), NOFAULT);
    assert_int_equal(v, 0x50a); /* 10 variable ranges, fixed ranges, WC */
    assert_int_equal(wrmsr(MSR_IA32_MTRRCAP, 0), EXC_GP);
    round_trip(MSR_IA32_MTRR_PHYSBASE0, 0x80000006ull);
    round_trip(MSR_IA32_MTRR_PHYSMASK0, 0x3fff80000800ull);
    round_trip(MSR_IA32_MTRR_PHYSBASE9, 0x0);
    assert_int_equal(wrmsr(MSR_IA32_MTRR_PHYSBASE0, 0x80000002ull), EXC_GP);   /* type 2 */
    assert_int_equal(wrmsr(MSR_IA32_MTRR_PHYSBASE0, 0x80000106ull), EXC_GP);   /* bit 8 */
    assert_int_equal(wrmsr(MSR_IA32_MTRR_PHYSBASE0, 1ull << 46 | 6), EXC_GP); /* above MAXPHYADDR */
    assert_int_equal(wrmsr(MSR_IA32_MTRR_PHYSMASK0, 0x800 | 1), EXC_GP);
    round_trip(MSR_IA32_MTRR_FIX64K_00000, 0x0606060606060606ull);
    assert_int_equal(wrmsr(MSR_IA32_MTRR_FIX4K_F8000, 0x0606060606060603ull), EXC_GP);
    round_trip(MSR_IA32_MTRR_DEF_TYPE, 0xc06);
    assert_int_equal(wrmsr(MSR_IA32_MTRR_DEF_TYPE, 0x106), EXC_GP);
    assert_int_equal(wrmsr(MSR_IA32_MTRR_DEF_TYPE, 0x807), EXC_GP);
}

static void test_misc_enable(void **state)
{
    uint64_t v;
    assert_int_equal(rdmsr(MSR_IA32_MISC_ENABLE, &v), NOFAULT);
    assert_int_equal(v, c->model->misc_enable);
    /* clearing a read-only bit is ignored; writable bits change */
    assert_int_equal(wrmsr(MSR_IA32_MISC_ENABLE, MISC_ENABLE_LIMIT_CPUID), NOFAULT);
    assert_int_equal(rdmsr(MSR_IA32_MISC_ENABLE, &v), NOFAULT);
    assert_int_equal(v, MISC_ENABLE_LIMIT_CPUID | (c->model->misc_enable & ~MISC_ENABLE_FAST_STRINGS));
    assert_int_equal(wrmsr(MSR_IA32_MISC_ENABLE, v | (1ull << 40)), EXC_GP);
    /* MONITOR FSM is writable only where MONITOR exists */
    assert_int_equal(wrmsr(MSR_IA32_MISC_ENABLE, v | MISC_ENABLE_MONITOR), EXC_GP);
}

static void test_apic_base_and_feature_control(void **state)
{
    uint64_t v;
    assert_int_equal(rdmsr(MSR_IA32_APIC_BASE, &v), NOFAULT);
    assert_int_equal(v, 0xfee00900ull); /* BSP, enabled */
    round_trip(MSR_IA32_APIC_BASE, 0xfed00900ull);
    assert_int_equal(wrmsr(MSR_IA32_APIC_BASE, 0xfee00d00ull), EXC_GP); /* x2APIC enable */
    assert_int_equal(wrmsr(MSR_IA32_APIC_BASE, 0xfee00800ull), NOFAULT); /* BSP is read-only */
    assert_int_equal(rdmsr(MSR_IA32_APIC_BASE, &v), NOFAULT);
    assert_int_equal(v, 0xfee00900ull);
    c = m->cpu[1];
    assert_int_equal(rdmsr(MSR_IA32_APIC_BASE, &v), NOFAULT);
    assert_int_equal(v, 0xfee00800ull); /* an application processor */
    c = m->cpu[0];
    assert_int_equal(wrmsr(MSR_IA32_FEATURE_CONTROL, 1 | 2), EXC_GP); /* VMX inside SMX: no SMX */
    round_trip(MSR_IA32_FEATURE_CONTROL, 1 | 4);                       /* the default model has VMX */
    assert_int_equal(wrmsr(MSR_IA32_FEATURE_CONTROL, 0), EXC_GP);    /* locked */
}

static void test_speculation_msrs_follow_the_model(void **state)
{
    uint64_t v;
    round_trip(MSR_IA32_SPEC_CTRL, 7);
    assert_int_equal(wrmsr(MSR_IA32_SPEC_CTRL, 8), EXC_GP);
    assert_int_equal(wrmsr(MSR_IA32_PRED_CMD, 1), NOFAULT);
    assert_int_equal(wrmsr(MSR_IA32_PRED_CMD, 2), EXC_GP);
    assert_int_equal(rdmsr(MSR_IA32_PRED_CMD, &v), EXC_GP);
    assert_int_equal(rdmsr(MSR_IA32_ARCH_CAPABILITIES, &v), NOFAULT);
    assert_int_equal(v, c->model->arch_capabilities);
    assert_int_equal(wrmsr(MSR_IA32_ARCH_CAPABILITIES, 0), EXC_GP);
    assert_int_equal(rdmsr(MSR_IA32_BIOS_SIGN_ID, &v), NOFAULT);
    assert_int_equal(v >> 32, c->model->ucode_rev);
    round_trip(MSR_IA32_DEBUGCTL, 0);
    assert_int_equal(wrmsr(MSR_IA32_DEBUGCTL, 1), EXC_GP);
}

static void test_core2_lacks_newer_msrs(void **state)
{
    machine_free(m);
    new_machine(cpu_model_find("core2"));
    uint64_t v;
    assert_int_equal(rdmsr(MSR_IA32_SPEC_CTRL, &v), EXC_GP);
    assert_int_equal(rdmsr(MSR_IA32_ARCH_CAPABILITIES, &v), EXC_GP);
    assert_int_equal(rdmsr(MSR_IA32_TSC_AUX, &v), EXC_GP);     /* no RDTSCP */
    assert_int_equal(rdmsr(MSR_IA32_TSC_ADJUST, &v), EXC_GP);  /* no leaf 7 */
    assert_int_equal(rdmsr(MSR_IA32_MTRR_PHYSBASE8, &v), EXC_GP); /* VCNT = 8 */
    assert_int_equal(rdmsr(MSR_IA32_MTRR_PHYSMASK7, &v), NOFAULT);
    assert_int_equal(rdmsr(MSR_IA32_MTRRCAP, &v), NOFAULT);
    assert_int_equal(v & 0xff, 8);
    assert_int_equal(wrmsr(MSR_IA32_MTRR_PHYSBASE0, 1ull << 36 | 6), EXC_GP); /* MAXPHYADDR 36 */
    round_trip(MSR_IA32_MISC_ENABLE, c->model->misc_enable & ~MISC_ENABLE_MONITOR);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_default, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        T(test_unknown_and_privilege),
        T(test_syscall_msrs),
        T(test_segment_base_msrs),
        T(test_efer),
        T(test_efer_enables_long_mode_through_cr0),
        T(test_tsc_and_adjust),
        T(test_pat_and_mtrrs),
        T(test_misc_enable),
        T(test_apic_base_and_feature_control),
        T(test_speculation_msrs_follow_the_model),
        T(test_core2_lacks_newer_msrs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
