/* cpumodel.h - the CPU models vmxemu can present (--cpu NAME): identity, the
 * CPUID feature bits per leaf, address widths, the TSC clock and the values of
 * model-specific MSRs. The models themselves are rows of emu/cpumodel.def;
 * cpuid_query() (emu/cpumodel.c) turns a model plus the vCPU's state into
 * CPUID results (SDM Vol. 2A "CPUID-CPU Identification").
 *
 * A feature bit is advertised only once the emulator implements it.
 */
#ifndef VMXEMU_CPUMODEL_H
#define VMXEMU_CPUMODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/cpu.h"

/* Feature words: the CPUID output registers that hold feature flags. */
enum cpuid_word {
    FW_1_ECX,  /* CPUID.01H:ECX */
    FW_1_EDX,  /* CPUID.01H:EDX */
    FW_6_EAX,  /* CPUID.06H:EAX (thermal and power management) */
    FW_7_EBX,  /* CPUID.(EAX=07H,ECX=0):EBX */
    FW_7_ECX,  /* CPUID.(EAX=07H,ECX=0):ECX */
    FW_7_EDX,  /* CPUID.(EAX=07H,ECX=0):EDX */
    FW_D1_EAX, /* CPUID.(EAX=0DH,ECX=1):EAX (XSAVE extensions) */
    FW_E1_ECX, /* CPUID.80000001H:ECX */
    FW_E1_EDX, /* CPUID.80000001H:EDX */
    FW_E7_EDX, /* CPUID.80000007H:EDX */
    FW_COUNT
};

/* F(name, word, bit): feature flags named as in the SDM's CPUID tables. */
#define CPU_FEATURES(F)                                                                         \
    F(SSE3, FW_1_ECX, 0) F(PCLMULQDQ, FW_1_ECX, 1) F(DTES64, FW_1_ECX, 2)                       \
    F(MONITOR, FW_1_ECX, 3) F(DS_CPL, FW_1_ECX, 4) F(VMX, FW_1_ECX, 5) F(SMX, FW_1_ECX, 6)      \
    F(EIST, FW_1_ECX, 7) F(TM2, FW_1_ECX, 8) F(SSSE3, FW_1_ECX, 9) F(CNXT_ID, FW_1_ECX, 10)     \
    F(SDBG, FW_1_ECX, 11) F(FMA, FW_1_ECX, 12) F(CMPXCHG16B, FW_1_ECX, 13)                      \
    F(XTPR, FW_1_ECX, 14) F(PDCM, FW_1_ECX, 15) F(PCID, FW_1_ECX, 17) F(DCA, FW_1_ECX, 18)      \
    F(SSE4_1, FW_1_ECX, 19) F(SSE4_2, FW_1_ECX, 20) F(X2APIC, FW_1_ECX, 21)                     \
    F(MOVBE, FW_1_ECX, 22) F(POPCNT, FW_1_ECX, 23) F(TSC_DEADLINE, FW_1_ECX, 24)                \
    F(AESNI, FW_1_ECX, 25) F(XSAVE, FW_1_ECX, 26) F(OSXSAVE, FW_1_ECX, 27)                      \
    F(AVX, FW_1_ECX, 28) F(F16C, FW_1_ECX, 29) F(RDRAND, FW_1_ECX, 30)                          \
    F(FPU, FW_1_EDX, 0) F(VME, FW_1_EDX, 1) F(DE, FW_1_EDX, 2) F(PSE, FW_1_EDX, 3)              \
    F(TSC, FW_1_EDX, 4) F(MSR, FW_1_EDX, 5) F(PAE, FW_1_EDX, 6) F(MCE, FW_1_EDX, 7)             \
    F(CX8, FW_1_EDX, 8) F(APIC, FW_1_EDX, 9) F(SEP, FW_1_EDX, 11) F(MTRR, FW_1_EDX, 12)         \
    F(PGE, FW_1_EDX, 13) F(MCA, FW_1_EDX, 14) F(CMOV, FW_1_EDX, 15) F(PAT, FW_1_EDX, 16)        \
    F(PSE36, FW_1_EDX, 17) F(PSN, FW_1_EDX, 18) F(CLFSH, FW_1_EDX, 19) F(DS, FW_1_EDX, 21)      \
    F(ACPI, FW_1_EDX, 22) F(MMX, FW_1_EDX, 23) F(FXSR, FW_1_EDX, 24) F(SSE, FW_1_EDX, 25)       \
    F(SSE2, FW_1_EDX, 26) F(SS, FW_1_EDX, 27) F(HTT, FW_1_EDX, 28) F(TM, FW_1_EDX, 29)          \
    F(PBE, FW_1_EDX, 31)                                                                        \
    F(DTS, FW_6_EAX, 0) F(TURBO, FW_6_EAX, 1) F(ARAT, FW_6_EAX, 2)                              \
    F(FSGSBASE, FW_7_EBX, 0) F(TSC_ADJUST, FW_7_EBX, 1) F(SGX, FW_7_EBX, 2)                     \
    F(BMI1, FW_7_EBX, 3) F(HLE, FW_7_EBX, 4) F(AVX2, FW_7_EBX, 5)                               \
    F(FDP_EXCPTN_ONLY, FW_7_EBX, 6) F(SMEP, FW_7_EBX, 7) F(BMI2, FW_7_EBX, 8)                   \
    F(ERMS, FW_7_EBX, 9) F(INVPCID, FW_7_EBX, 10) F(RTM, FW_7_EBX, 11)                          \
    F(FPU_CSDS_DEPRECATED, FW_7_EBX, 13) F(MPX, FW_7_EBX, 14) F(AVX512F, FW_7_EBX, 16)          \
    F(RDSEED, FW_7_EBX, 18) F(ADX, FW_7_EBX, 19) F(SMAP, FW_7_EBX, 20)                          \
    F(CLFLUSHOPT, FW_7_EBX, 23) F(CLWB, FW_7_EBX, 24) F(SHA, FW_7_EBX, 29)                      \
    F(UMIP, FW_7_ECX, 2) F(PKU, FW_7_ECX, 3) F(LA57, FW_7_ECX, 16) F(RDPID, FW_7_ECX, 22)       \
    F(MD_CLEAR, FW_7_EDX, 10) F(IBRS_IBPB, FW_7_EDX, 26) F(STIBP, FW_7_EDX, 27)                 \
    F(L1D_FLUSH, FW_7_EDX, 28) F(ARCH_CAPABILITIES, FW_7_EDX, 29) F(SSBD, FW_7_EDX, 31)         \
    F(XSAVEOPT, FW_D1_EAX, 0) F(XSAVEC, FW_D1_EAX, 1) F(XGETBV_ECX1, FW_D1_EAX, 2)              \
    F(XSAVES, FW_D1_EAX, 3)                                                                     \
    F(LAHF_LM, FW_E1_ECX, 0) F(LZCNT, FW_E1_ECX, 5) F(PREFETCHW, FW_E1_ECX, 8)                  \
    F(SYSCALL, FW_E1_EDX, 11) F(NX, FW_E1_EDX, 20) F(PAGE1GB, FW_E1_EDX, 26)                    \
    F(RDTSCP, FW_E1_EDX, 27) F(LM, FW_E1_EDX, 29)                                               \
    F(INVARIANT_TSC, FW_E7_EDX, 8)

/* FEAT_<name>: word * 32 + bit, for cpu_has(). */
enum cpu_feature {
#define F(name, word, bit) FEAT_##name = (word) * 32 + (bit),
    CPU_FEATURES(F)
#undef F
};

/* CPUID_<name>: the flag's mask within its register, for the model rows. */
#define F(name, word, bit) CPUID_##name = 1u << (bit),
enum { CPU_FEATURES(F) };
#undef F

/* XSAVE state components (XCR0 bits). */
#define XSTATE_X87 (1ull << 0)
#define XSTATE_SSE (1ull << 1)
#define XSTATE_AVX (1ull << 2)

struct cpu_model {
    const char *name;         /* the --cpu name */
    const char *desc;         /* one line for --cpu help */
    const char *vendor;       /* 12 characters: CPUID.0:EBX,EDX,ECX */
    const char *brand;        /* CPUID.80000002H-80000004H, up to 47 characters */
    uint8_t family, model, stepping; /* display values; cpuid_query() encodes them */
    uint32_t max_leaf;        /* CPUID.0:EAX */
    uint32_t max_ext_leaf;    /* CPUID.80000000H:EAX */
    uint8_t maxphyaddr;       /* CPUID.80000008H:EAX[7:0] */
    uint8_t linaddr;          /* CPUID.80000008H:EAX[15:8] */
    uint32_t feat[FW_COUNT];  /* feature words; OSXSAVE and HTT are set at query time */
    uint64_t xcr0_mask;       /* CPUID.(EAX=0DH,ECX=0):EDX:EAX, the XCR0 bits supported */
    uint32_t l2_cache;        /* CPUID.80000006H:ECX */
    /* Time. The core clock is the emulated cycle counter: core_mhz cycles per
     * microsecond of guest time; the TSC counts tsc_per_cycle per cycle. */
    uint32_t core_mhz;
    uint32_t tsc_per_cycle;
    uint32_t crystal_hz;      /* CPUID.15H:ECX; 0 when leaf 15H is not reported */
    /* MSR values the model reports (emu/msr.def) */
    uint64_t platform_id;     /* IA32_PLATFORM_ID */
    uint32_t ucode_rev;       /* IA32_BIOS_SIGN_ID[63:32] */
    uint64_t misc_enable;     /* IA32_MISC_ENABLE after reset */
    uint64_t arch_capabilities; /* IA32_ARCH_CAPABILITIES, when CPUID.7:EDX[29] */
    uint8_t mtrr_vcnt;        /* IA32_MTRRCAP.VCNT: variable-range MTRR pairs (at most 10) */
    const struct vmx_model *vmx; /* VMX capabilities (vmx/caps.h), NULL without VMX */
};

/* CPUID.1:EAX (family, model, stepping; also EDX after reset). */
uint32_t model_signature(const struct cpu_model *m);

/* The models, in the order of emu/cpumodel.def; the first is the default. */
extern const struct cpu_model cpu_models[];
extern const int cpu_model_count;

const struct cpu_model *cpu_model_default(void);
/* The model called name, or NULL. */
const struct cpu_model *cpu_model_find(const char *name);

static inline bool model_has(const struct cpu_model *m, enum cpu_feature f)
{
    return (m->feat[f >> 5] >> (f & 31)) & 1;
}
/* Whether the vCPU's model has feature f. */
static inline bool cpu_has(const cpu_t *c, enum cpu_feature f)
{
    return model_has(c->model, f);
}

/* CPUID with EAX=leaf, ECX=subleaf, as vCPU c sees it: out[] = EAX, EBX, ECX, EDX. */
void cpuid_query(const cpu_t *c, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

/* The time-stamp counter: the only clock (DEVELOPERS.md "Deterministic, cycle-level time"). */
static inline uint64_t cpu_tsc(const cpu_t *c)
{
    return c->cycles * c->model->tsc_per_cycle + c->tsc_offset;
}

/* CR4 bits the model supports (MOV to CR4 raises #GP(0) for others). */
uint64_t cpu_cr4_valid(const cpu_t *c);

#endif
