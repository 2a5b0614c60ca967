/* test_cpuid.c - the CPU models and CPUID (emu/cpumodel.c), and the instructions
 * of emu/exec_misc.c: CPUID, RDTSC/RDTSCP, RDPMC, RDRAND/RDSEED, MONITOR/MWAIT,
 * XGETBV/XSETBV, CLAC/STAC, CLFLUSH. Also checks that every instruction-set
 * feature the default model advertises has its instructions bound to handlers. */
#include <stdio.h>

#include "emu/flags.h"
#include "emu/msr.h"
#include "fixture.h"

#define NOFAULT (-1)

static machine_t *m;
static cpu_t *c;

static void new_machine(const struct cpu_model *model, int ncpus)
{
    m = machine_new(16 << 20, model, ncpus);
    assert_non_null(m);
    for (int k = 0; k < ncpus; k++)
        msr_reset(m->cpu[k]);
    c = m->cpu[0];
}

static int teardown(void **state)
{
    machine_free(m);
    m = NULL;
    return 0;
}

/* 64-bit mode at CPL cpl, paging off is not possible there, so identity-map nothing:
 * the instructions under test here do not touch memory unless stated. */
static void long_mode(int cpl)
{
    c->cr0 = CR0_PE | CR0_ET;
    c->efer = EFER_LME | EFER_LMA;
    c->cr4 = CR4_PAE;
    c->seg[S_CS].ar = AR_P | AR_S | AR_L | 0xb;
    c->cpl = (uint8_t)cpl;
    cpu_update_mode(c);
}

/* Decode and run one instruction; NOFAULT or the vector raised. */
static int exec(const uint8_t *bytes, int n)
{
    static dinsn_t d;
    return fx_exec_bytes(c, &d, bytes, (size_t)n);
}
#define EXEC(...) exec(FX_BYTES(__VA_ARGS__))

static void q(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    cpuid_query(c, leaf, sub, r);
}

static void test_model_lookup(void **state)
{
    assert_ptr_equal(cpu_model_default(), &cpu_models[0]);
    assert_string_equal(cpu_model_default()->name, "skylake-server");
    assert_non_null(cpu_model_find("core2"));
    assert_null(cpu_model_find("pentium-9000"));
    assert_true(cpu_model_count >= 2);
    for (int k = 0; k < cpu_model_count; k++)
        assert_true(strlen(cpu_models[k].brand) <= 47);
}

static void test_vendor_signature_and_brand(void **state)
{
    new_machine(cpu_model_default(), 1);
    uint32_t r[4];
    q(0, 0, r);
    assert_int_equal(r[0], 0x16);
    char vendor[13] = { 0 };
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    assert_string_equal(vendor, "GenuineIntel");
    q(1, 0, r);
    assert_int_equal(r[0], 0x00050654); /* family 6, model 55H, stepping 4 */
    assert_int_equal(model_signature(c->model), 0x00050654);
    assert_int_equal((r[1] >> 8) & 0xff, 8); /* CLFLUSH line: 64 bytes */
    char brand[49] = { 0 };
    for (uint32_t l = 0; l < 3; l++) {
        q(0x80000002 + l, 0, r);
        memcpy(brand + 16 * l, r, 16);
    }
    assert_string_equal(brand, c->model->brand);
    q(0x80000000, 0, r);
    assert_int_equal(r[0], 0x80000008);
    q(0x80000008, 0, r);
    assert_int_equal(r[0] & 0xff, 46);
    assert_int_equal((r[0] >> 8) & 0xff, 48);
}

static void test_core2_identity(void **state)
{
    new_machine(cpu_model_find("core2"), 1);
    uint32_t r[4];
    q(1, 0, r);
    assert_int_equal(r[0], 0x000006f6);
    assert_false(r[2] & CPUID_PCID);
    assert_false(r[2] & CPUID_XSAVE);
    assert_true(r[2] & CPUID_MONITOR);
    q(0x80000001, 0, r);
    assert_false(r[3] & CPUID_PAGE1GB);
    assert_false(r[3] & CPUID_RDTSCP);
    assert_true(r[3] & CPUID_LM);
    q(0x80000008, 0, r);
    assert_int_equal(r[0] & 0xff, 36);
    q(7, 0, r);
    assert_int_equal(r[1], 0);
}

static void test_features_not_implemented_stay_off(void **state)
{
    new_machine(cpu_model_default(), 1);
    uint32_t r[4];
    q(1, 0, r);
    assert_false(r[2] & (CPUID_SMX | CPUID_AVX | CPUID_FMA | CPUID_F16C | (1u << 31) /* hypervisor */));
    assert_true(r[2] & CPUID_VMX); /* VMX (vmx/) is implemented and the default model offers it */
    assert_false(r[3] & CPUID_MCA);
    /* the local APIC is implemented (devices/lapic.c) and advertised */
    assert_true(r[3] & CPUID_APIC);
    assert_true(r[2] & (CPUID_X2APIC | CPUID_TSC_DEADLINE));
    assert_true(r[2] & (CPUID_PCID));
    q(7, 0, r);
    assert_false(r[1] & (CPUID_AVX2 | CPUID_HLE | CPUID_RTM | CPUID_MPX | CPUID_AVX512F | CPUID_BMI1 |
                         CPUID_BMI2 | CPUID_SGX));
    assert_false(r[2] & (CPUID_PKU | CPUID_LA57));
    assert_true(r[1] & (CPUID_SMEP | CPUID_SMAP | CPUID_INVPCID));
    /* XSAVE: x87 and SSE only */
    q(0xd, 0, r);
    assert_int_equal(r[0], 3);
    assert_int_equal(r[2], 576);
    assert_int_equal(r[3], 0);
    q(0xd, 2, r);
    assert_int_equal(r[0], 0);
}

static void test_osxsave_and_apic_id_follow_state(void **state)
{
    new_machine(cpu_model_default(), 3);
    uint32_t r[4];
    q(1, 0, r);
    assert_false(r[2] & CPUID_OSXSAVE);
    assert_true(r[3] & CPUID_HTT);
    assert_int_equal((r[1] >> 16) & 0xff, 4); /* logical processor IDs per package */
    c->cr4 |= CR4_OSXSAVE;
    q(1, 0, r);
    assert_true(r[2] & CPUID_OSXSAVE);
    c = m->cpu[2];
    q(1, 0, r);
    assert_int_equal(r[1] >> 24, 2);
    q(0xb, 0, r);
    assert_int_equal(r[3], 2);
    assert_int_equal(r[1], 1);
    assert_int_equal((r[2] >> 8) & 0xff, 1); /* SMT level */
    q(0xb, 1, r);
    assert_int_equal(r[0], 2);
    assert_int_equal(r[1], 3);
    assert_int_equal((r[2] >> 8) & 0xff, 2); /* core level */
    q(0xb, 2, r);
    assert_int_equal((r[2] >> 8) & 0xff, 0); /* invalid level */
}

static void test_tsc_leaves_and_rdtsc(void **state)
{
    new_machine(cpu_model_default(), 1);
    uint32_t r[4];
    q(0x15, 0, r);
    assert_true(r[0] && r[2]);
    assert_int_equal((uint64_t)r[2] * r[1] / r[0], (uint64_t)c->model->core_mhz * 1000000 * c->model->tsc_per_cycle);
    q(0x16, 0, r);
    assert_int_equal(r[0], c->model->core_mhz);
    q(0x80000007, 0, r);
    assert_true(r[3] & CPUID_INVARIANT_TSC);
    long_mode(3);
    c->cycles = 1000;
    c->tsc_offset = 5;
    c->gpr[R_RAX] = ~0ull;
    assert_int_equal(EXEC(0x0f, 0x31), NOFAULT);
    assert_int_equal(c->gpr[R_RAX], 1000 * c->model->tsc_per_cycle + 5);
    assert_int_equal(c->gpr[R_RDX], 0);
    c->cr4 |= CR4_TSD;
    assert_int_equal(EXEC(0x0f, 0x31), EXC_GP);
    assert_int_equal(EXEC(0x0f, 0x01, 0xf9), EXC_GP); /* RDTSCP */
    c->cpl = 0;
    c->msr_tsc_aux = 0x1234;
    assert_int_equal(EXEC(0x0f, 0x01, 0xf9), NOFAULT);
    assert_int_equal(c->gpr[R_RCX], 0x1234);
}

static void test_leaves_beyond_the_maximum(void **state)
{
    new_machine(cpu_model_default(), 1);
    uint32_t hi[4], r[4];
    q(0x16, 0, hi);
    q(0x17, 0, r);
    assert_memory_equal(r, hi, sizeof r);
    q(0x40000000, 0, r);
    assert_memory_equal(r, hi, sizeof r);
    q(0x80000009, 0, r);
    assert_memory_equal(r, hi, sizeof r);
    /* IA32_MISC_ENABLE.LIMIT_CPUID: leaf 0 reports 2, higher leaves give leaf 2 */
    c->msr_misc_enable |= MISC_ENABLE_LIMIT_CPUID;
    q(0, 0, r);
    assert_int_equal(r[0], 2);
    q(2, 0, hi);
    q(7, 0, r);
    assert_memory_equal(r, hi, sizeof r);
}

static void test_misc_enable_hides_nx_and_monitor(void **state)
{
    new_machine(cpu_model_find("core2"), 1);
    uint32_t r[4];
    q(0x80000001, 0, r);
    assert_true(r[3] & CPUID_NX);
    c->msr_misc_enable |= MISC_ENABLE_XD_DISABLE;
    q(0x80000001, 0, r);
    assert_false(r[3] & CPUID_NX);
    c->msr_misc_enable &= ~MISC_ENABLE_MONITOR;
    q(1, 0, r);
    assert_false(r[2] & CPUID_MONITOR);
}

static void test_cpuid_instruction(void **state)
{
    new_machine(cpu_model_default(), 1);
    long_mode(3); /* CPUID is not privileged */
    c->gpr[R_RAX] = 0xffffffff00000001ull;
    c->gpr[R_RBX] = c->gpr[R_RCX] = c->gpr[R_RDX] = ~0ull;
    assert_int_equal(EXEC(0x0f, 0xa2), NOFAULT);
    assert_int_equal(c->gpr[R_RAX], 0x00050654);
    uint32_t r[4];
    q(1, 0, r);
    assert_int_equal(c->gpr[R_RBX], r[1]);
    assert_int_equal(c->gpr[R_RCX], r[2]);
    assert_int_equal(c->gpr[R_RDX], r[3]);
}

static void test_rdrand_is_deterministic_and_sets_cf(void **state)
{
    new_machine(cpu_model_default(), 1);
    long_mode(3);
    cpu_set_rflags(c, 0x2 | F_ZF | F_OF | F_SF);
    assert_int_equal(EXEC(0x48, 0x0f, 0xc7, 0xf0), NOFAULT); /* rdrand rax */
    uint64_t a = c->gpr[R_RAX];
    assert_int_equal(cpu_get_rflags(c) & F_ARITH, F_CF);
    assert_int_equal(EXEC(0x48, 0x0f, 0xc7, 0xf8), NOFAULT); /* rdseed rax */
    uint64_t b = c->gpr[R_RAX];
    assert_true(a != b);
    assert_int_equal(EXEC(0x66, 0x0f, 0xc7, 0xf1), NOFAULT); /* rdrand cx: 16 bits */
    machine_t *m1 = m;
    new_machine(cpu_model_default(), 1);
    long_mode(3);
    assert_int_equal(EXEC(0x48, 0x0f, 0xc7, 0xf0), NOFAULT);
    assert_int_equal(c->gpr[R_RAX], a); /* same sequence on an identical machine */
    machine_free(m1);
    /* core2 has neither */
    machine_free(m);
    new_machine(cpu_model_find("core2"), 1);
    long_mode(0);
    assert_int_equal(EXEC(0x48, 0x0f, 0xc7, 0xf0), EXC_UD);
}

static void test_rdpmc_has_no_counters(void **state)
{
    new_machine(cpu_model_default(), 1);
    long_mode(0);
    c->gpr[R_RCX] = 0;
    assert_int_equal(EXEC(0x0f, 0x33), EXC_GP);
    uint32_t r[4];
    q(0xa, 0, r);
    assert_int_equal(r[0], 0); /* architectural PMU version 0 */
}

static void test_xgetbv_xsetbv(void **state)
{
    new_machine(cpu_model_default(), 1);
    long_mode(0);
    assert_int_equal(EXEC(0x0f, 0x01, 0xd0), EXC_UD); /* CR4.OSXSAVE = 0 */
    c->cr4 |= CR4_OSXSAVE;
    c->gpr[R_RCX] = 0;
    assert_int_equal(EXEC(0x0f, 0x01, 0xd0), NOFAULT);
    assert_int_equal(c->gpr[R_RAX], 1);
    c->gpr[R_RAX] = 3;
    c->gpr[R_RDX] = 0;
    assert_int_equal(EXEC(0x0f, 0x01, 0xd1), NOFAULT);
    assert_int_equal(c->xcr0, 3);
    c->gpr[R_RAX] = 2; /* x87 must stay */
    assert_int_equal(EXEC(0x0f, 0x01, 0xd1), EXC_GP);
    c->gpr[R_RAX] = 7; /* AVX is not supported */
    assert_int_equal(EXEC(0x0f, 0x01, 0xd1), EXC_GP);
    c->gpr[R_RAX] = 1;
    c->gpr[R_RCX] = 1; /* only XCR0 exists */
    assert_int_equal(EXEC(0x0f, 0x01, 0xd1), EXC_GP);
    assert_int_equal(EXEC(0x0f, 0x01, 0xd0), EXC_GP);
    c->gpr[R_RCX] = 0;
    c->cpl = 3;
    assert_int_equal(EXEC(0x0f, 0x01, 0xd1), EXC_GP);
    assert_int_equal(EXEC(0x0f, 0x01, 0xd0), NOFAULT); /* XGETBV is not privileged */
    assert_int_equal(c->xcr0, 3);
}

static void test_clac_stac(void **state)
{
    new_machine(cpu_model_default(), 1);
    long_mode(0);
    assert_int_equal(EXEC(0x0f, 0x01, 0xcb), NOFAULT); /* stac */
    assert_true(c->rflags & F_AC);
    assert_int_equal(EXEC(0x0f, 0x01, 0xca), NOFAULT); /* clac */
    assert_false(c->rflags & F_AC);
    c->cpl = 3;
    assert_int_equal(EXEC(0x0f, 0x01, 0xcb), EXC_UD);
}

static void test_monitor_mwait_follow_the_model(void **state)
{
    new_machine(cpu_model_default(), 1); /* MONITOR not offered */
    long_mode(0);
    assert_int_equal(EXEC(0x0f, 0x01, 0xc8), EXC_UD);
    assert_int_equal(EXEC(0x0f, 0x01, 0xc9), EXC_UD);
    machine_free(m);
    new_machine(cpu_model_find("core2"), 1);
    /* real mode, paging off: MONITOR DS:EAX */
    c->gpr[R_RAX] = 0x1000;
    c->gpr[R_RCX] = 0;
    assert_int_equal(EXEC(0x0f, 0x01, 0xc8), NOFAULT);
    assert_int_equal(EXEC(0x0f, 0x01, 0xc9), NOFAULT);
    c->gpr[R_RCX] = 1; /* interrupt break-event extension not offered */
    assert_int_equal(EXEC(0x0f, 0x01, 0xc9), EXC_GP);
}

/* The monitor's armed state (what VMX's MWAIT exit reports): MONITOR arms the
 * 64-byte line, a change of the line or an MWAIT disarms it; a store of the
 * same bytes goes unnoticed (docs/deviations.md). */
static void test_monitor_armed_state(void **state)
{
    new_machine(cpu_model_find("core2"), 1);
    c->gpr[R_RAX] = 0x1010; /* real mode, DS base 0: the line 1000H-103FH */
    c->gpr[R_RCX] = 0;
    assert_false(monitor_armed(c));
    assert_int_equal(EXEC(0x0f, 0x01, 0xc8), NOFAULT);
    assert_true(monitor_armed(c));
    phys_write(m, 0x1038, 1, 0); /* the byte it holds */
    phys_write(m, 0x1040, 1, 5); /* the next line */
    assert_true(monitor_armed(c));
    phys_write(m, 0x103f, 1, 5);
    assert_false(monitor_armed(c));
    assert_int_equal(EXEC(0x0f, 0x01, 0xc8), NOFAULT);
    assert_true(monitor_armed(c));
    assert_int_equal(EXEC(0x0f, 0x01, 0xc9), NOFAULT); /* MWAIT */
    assert_false(monitor_armed(c));
}

static void test_wbinvd_and_clflush(void **state)
{
    new_machine(cpu_model_default(), 1);
    long_mode(3);
    assert_int_equal(EXEC(0x0f, 0x09), EXC_GP);
    assert_int_equal(EXEC(0x0f, 0x08), EXC_GP);
    c->cpl = 0;
    assert_int_equal(EXEC(0x0f, 0x09), NOFAULT);
    /* CLFLUSH [rax] on an unmapped page (4-level paging, empty PML4) faults like a read */
    c->cr0 |= CR0_PG;
    c->cr3 = 0x10000;
    cpu_update_mode(c);
    c->gpr[R_RAX] = 0x5000;
    assert_int_equal(EXEC(0x0f, 0xae, 0x38), EXC_PF);
    assert_int_equal(c->ev_err, 0);
    assert_int_equal(EXEC(0x66, 0x0f, 0xae, 0x38), EXC_PF); /* CLFLUSHOPT */
}

/* ---- advertised instruction sets have handlers ---- */

extern const insn_fn insn_handlers[XI_COUNT];

/* FI(feature, ids...): instructions that must execute when the feature is advertised */
#define FI(f, ...) { f, (const uint16_t[]){ __VA_ARGS__ }, sizeof((const uint16_t[]){ __VA_ARGS__ }) / sizeof(uint16_t) }
static const struct { int feat; const uint16_t *ids; size_t n; } feature_insns[] = {
    FI(FEAT_FPU, XI_FLD_Mt, XI_FADD_ST0STi),
    FI(FEAT_CX8, XI_CMPXCHG8B_Mq),
    FI(FEAT_CMPXCHG16B, XI_CMPXCHG8B_Mq),
    FI(FEAT_CMOV, XI_CMOVCC_GvEv),
    FI(FEAT_MMX, XI_EMMS),
    FI(FEAT_FXSR, XI_FXSAVE_M, XI_FXRSTOR_M),
    FI(FEAT_SSE, XI_MOVAPS_VpsWps, XI_LDMXCSR_Md),
    FI(FEAT_SSE2, XI_PSHUFD_VxWxIb),
    FI(FEAT_SSE3, XI_HADDPS_VpsWps, XI_LDDQU_VxMx, XI_MOVDDUP_VxWq),
    FI(FEAT_SSSE3, XI_PALIGNR_VxWxIb, XI_PALIGNR_PqQqIb),
    FI(FEAT_SSE4_1, XI_ROUNDPS_VxWxIb),
    FI(FEAT_SSE4_2, XI_PCMPESTRI_VdqWdqIb, XI_CRC32_GdEb, XI_CRC32_GdEv),
    FI(FEAT_PCLMULQDQ, XI_PCLMULQDQ_VdqWdqIb),
    FI(FEAT_AESNI, XI_AESENC_VdqWdq, XI_AESENCLAST_VdqWdq),
    FI(FEAT_MOVBE, XI_MOVBE_GvMv, XI_MOVBE_MvGv),
    FI(FEAT_POPCNT, XI_POPCNT_GvEv),
    FI(FEAT_LZCNT, XI_LZCNT_GvEv),
    FI(FEAT_XSAVE, XI_XSAVE_M, XI_XRSTOR_M, XI_XGETBV, XI_XSETBV),
    FI(FEAT_XSAVEOPT, XI_XSAVEOPT_M),
    FI(FEAT_FSGSBASE, XI_RDFSBASE_Ry, XI_WRGSBASE_Ry),
    FI(FEAT_ADX, XI_ADCX_GyEy, XI_ADOX_GyEy),
    FI(FEAT_SEP, XI_SYSENTER, XI_SYSEXIT),
    FI(FEAT_SYSCALL, XI_SYSCALL, XI_SYSRET),
    FI(FEAT_LAHF_LM, XI_LAHF, XI_SAHF),
    FI(FEAT_RDRAND, XI_RDRAND_Rv),
    FI(FEAT_RDSEED, XI_RDSEED_Rv),
    FI(FEAT_RDTSCP, XI_RDTSCP),
    FI(FEAT_CLFSH, XI_CLFLUSH_Mb),
    FI(FEAT_CLFLUSHOPT, XI_CLFLUSHOPT_Mb),
    FI(FEAT_SMAP, XI_CLAC, XI_STAC),
    FI(FEAT_INVPCID, XI_INVPCID_GyMdq),
    FI(FEAT_MONITOR, XI_MONITOR, XI_MWAIT),
    FI(FEAT_PREFETCHW, XI_PREFETCHW_Mb),
};

static void test_advertised_instructions_have_handlers(void **state)
{
    int missing = 0;
    for (int k = 0; k < cpu_model_count; k++)
        for (size_t f = 0; f < sizeof feature_insns / sizeof feature_insns[0]; f++) {
            if (!model_has(&cpu_models[k], (enum cpu_feature)feature_insns[f].feat))
                continue;
            for (size_t j = 0; j < feature_insns[f].n; j++) {
                insn_fn fn = insn_handlers[feature_insns[f].ids[j]];
                if (!fn || fn == op_ud) {
                    fprintf(stderr, "%s advertises feature %d but %s has no handler\n", cpu_models[k].name,
                            feature_insns[f].feat, x86_insn_name(feature_insns[f].ids[j]));
                    missing++;
                }
            }
        }
    assert_int_equal(missing, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_lookup),
        cmocka_unit_test_teardown(test_vendor_signature_and_brand, teardown),
        cmocka_unit_test_teardown(test_core2_identity, teardown),
        cmocka_unit_test_teardown(test_features_not_implemented_stay_off, teardown),
        cmocka_unit_test_teardown(test_osxsave_and_apic_id_follow_state, teardown),
        cmocka_unit_test_teardown(test_tsc_leaves_and_rdtsc, teardown),
        cmocka_unit_test_teardown(test_leaves_beyond_the_maximum, teardown),
        cmocka_unit_test_teardown(test_misc_enable_hides_nx_and_monitor, teardown),
        cmocka_unit_test_teardown(test_cpuid_instruction, teardown),
        cmocka_unit_test_teardown(test_rdrand_is_deterministic_and_sets_cf, teardown),
        cmocka_unit_test_teardown(test_rdpmc_has_no_counters, teardown),
        cmocka_unit_test_teardown(test_xgetbv_xsetbv, teardown),
        cmocka_unit_test_teardown(test_clac_stac, teardown),
        cmocka_unit_test_teardown(test_monitor_mwait_follow_the_model, teardown),
        cmocka_unit_test_teardown(test_monitor_armed_state, teardown),
        cmocka_unit_test_teardown(test_wbinvd_and_clflush, teardown),
        cmocka_unit_test(test_advertised_instructions_have_handlers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
