/* cpumodel.c - the model table (emu/cpumodel.def), model lookup, and CPUID as a
 * vCPU sees it: the model's static values plus the state-dependent bits
 * (OSXSAVE, initial APIC ID, topology, IA32_MISC_ENABLE effects).
 * SDM Vol. 2A "CPUID-CPU Identification".
 */
#include "emu/cpumodel.h"

#include <string.h>

#include "emu/machine.h"
#include "emu/msr.h"
#include "vmx/caps.h" /* struct vmx_model, for the VMXCAPS rows: data only, no code of vmx/ */

/* The VMX capability rows first (the models point at them), then the models. */
#define VMXCAPS(id, ...) static const struct vmx_model vmxcaps_##id = { __VA_ARGS__ };
#define MODEL(id, ...)
#include "emu/cpumodel.def"
#undef VMXCAPS
#undef MODEL

const struct cpu_model cpu_models[] = {
#define VMXCAPS(id, ...)
#define MODEL(id, ...) { __VA_ARGS__ },
#include "emu/cpumodel.def"
#undef VMXCAPS
#undef MODEL
};
const int cpu_model_count = sizeof cpu_models / sizeof cpu_models[0];

const struct cpu_model *cpu_model_default(void)
{
    return &cpu_models[0];
}

const struct cpu_model *cpu_model_find(const char *name)
{
    for (int i = 0; i < cpu_model_count; i++)
        if (!strcmp(cpu_models[i].name, name))
            return &cpu_models[i];
    return NULL;
}

/* CPUID.1:EAX: stepping[3:0] model[7:4] family[11:8] ext.model[19:16] ext.family[27:20]. */
uint32_t model_signature(const struct cpu_model *m)
{
    uint32_t fam = m->family < 0xf ? m->family : 0xf, extfam = m->family < 0xf ? 0 : m->family - 0xfu;
    uint32_t extmodel = (m->family == 6 || m->family == 0xf) ? m->model >> 4 : 0;
    return (m->stepping & 0xfu) | (m->model & 0xfu) << 4 | fam << 8 | extmodel << 16 | extfam << 20;
}

/* 4 characters of s from offset off, little-endian, NUL-padded. */
static uint32_t str4(const char *s, size_t off)
{
    size_t n = strlen(s);
    uint32_t v = 0;
    for (int k = 3; k >= 0; k--)
        v = v << 8 | (off + k < n ? (uint8_t)s[off + k] : 0);
    return v;
}

/* Bits needed to number n things (ceil(log2 n)). */
static uint32_t id_bits(uint32_t n)
{
    uint32_t b = 0;
    while ((1u << b) < n)
        b++;
    return b;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Size of the XSAVE area for the components in mask: the legacy region and
 * header (512 + 64 bytes), plus AVX's 256 bytes at offset 576. */
static uint32_t xsave_size(uint64_t mask)
{
    return (mask & XSTATE_AVX) ? 576 + 256 : 576;
}

static void basic_leaf(const cpu_t *c, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    const struct cpu_model *m = c->model;
    int ncpus = c->m ? c->m->ncpus : 1;
    switch (leaf) {
    case 0:
        r[0] = (c->msr_misc_enable & MISC_ENABLE_LIMIT_CPUID) && m->max_leaf > 2 ? 2 : m->max_leaf;
        r[1] = str4(m->vendor, 0);
        r[3] = str4(m->vendor, 4);
        r[2] = str4(m->vendor, 8);
        break;
    case 1:
        r[0] = model_signature(m);
        r[1] = (uint32_t)c->index << 24; /* initial APIC ID */
        if (model_has(m, FEAT_CLFSH))
            r[1] |= 8u << 8; /* CLFLUSH line size in 8-byte units */
        r[2] = m->feat[FW_1_ECX];
        if (!(c->msr_misc_enable & MISC_ENABLE_MONITOR))
            r[2] &= ~(uint32_t)CPUID_MONITOR;
        if ((c->cr4 & CR4_OSXSAVE) && model_has(m, FEAT_XSAVE))
            r[2] |= CPUID_OSXSAVE;
        r[3] = m->feat[FW_1_EDX];
        if (ncpus > 1) { /* all vCPUs are cores of one package */
            r[3] |= CPUID_HTT;
            r[1] |= (1u << id_bits((uint32_t)ncpus)) << 16;
        }
        break;
    case 2: /* cache descriptors: none (AL = 1 iteration) */
        r[0] = 1;
        break;
    case 5: /* MONITOR/MWAIT: 64-byte monitor line; extensions enumerated, none supported */
        if (model_has(m, FEAT_MONITOR)) {
            r[0] = r[1] = 64;
            r[2] = 1;
        }
        break;
    case 6:
        r[0] = m->feat[FW_6_EAX];
        break;
    case 7:
        if (sub == 0) {
            r[1] = m->feat[FW_7_EBX];
            r[2] = m->feat[FW_7_ECX];
            r[3] = m->feat[FW_7_EDX];
        }
        break;
    case 0xb: { /* topology: one thread per core, all vCPUs cores of one package */
        uint32_t lvl_shift[2] = { 0, id_bits((uint32_t)ncpus) }, lvl_count[2] = { 1, (uint32_t)ncpus };
        if (sub < 2) {
            r[0] = lvl_shift[sub];
            r[1] = lvl_count[sub];
            r[2] = sub | (sub + 1) << 8; /* level type 1 = SMT, 2 = core */
        } else {
            r[2] = sub;
        }
        r[3] = (uint32_t)c->index; /* x2APIC ID */
        break;
    }
    case 0xd:
        if (!model_has(m, FEAT_XSAVE))
            break;
        if (sub == 0) {
            r[0] = (uint32_t)m->xcr0_mask;
            r[1] = xsave_size(c->xcr0);
            r[2] = xsave_size(m->xcr0_mask);
            r[3] = (uint32_t)(m->xcr0_mask >> 32);
        } else if (sub == 1) {
            r[0] = m->feat[FW_D1_EAX];
        } else if (sub == 2 && (m->xcr0_mask & XSTATE_AVX)) {
            r[0] = 256;
            r[1] = 576;
        }
        break;
    case 0x15: /* TSC Hz = ECX * EBX / EAX */
        if (m->crystal_hz) {
            uint64_t tsc_hz = (uint64_t)m->core_mhz * 1000000u * m->tsc_per_cycle, g = gcd(tsc_hz, m->crystal_hz);
            r[0] = (uint32_t)(m->crystal_hz / g);
            r[1] = (uint32_t)(tsc_hz / g);
            r[2] = m->crystal_hz;
        }
        break;
    case 0x16: /* base and maximum frequency (MHz), bus (reference) frequency */
        r[0] = r[1] = m->core_mhz;
        r[2] = 100;
        break;
    default: /* leaves without content on this model (caches, PMU, ...) */
        break;
    }
}

static void ext_leaf(const cpu_t *c, uint32_t leaf, uint32_t r[4])
{
    const struct cpu_model *m = c->model;
    switch (leaf) {
    case 0x80000000:
        r[0] = m->max_ext_leaf;
        break;
    case 0x80000001:
        r[2] = m->feat[FW_E1_ECX];
        r[3] = m->feat[FW_E1_EDX];
        if (c->msr_misc_enable & MISC_ENABLE_XD_DISABLE)
            r[3] &= ~(uint32_t)CPUID_NX;
        break;
    case 0x80000002:
    case 0x80000003:
    case 0x80000004:
        for (int k = 0; k < 4; k++)
            r[k] = str4(m->brand, (leaf - 0x80000002) * 16 + k * 4);
        break;
    case 0x80000006:
        r[2] = m->l2_cache;
        break;
    case 0x80000007:
        r[3] = m->feat[FW_E7_EDX];
        break;
    case 0x80000008:
        r[0] = m->maxphyaddr | (uint32_t)m->linaddr << 8;
        break;
    default:
        break;
    }
}

void cpuid_query(const cpu_t *c, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    uint32_t max_basic = c->model->max_leaf;
    if ((c->msr_misc_enable & MISC_ENABLE_LIMIT_CPUID) && max_basic > 2)
        max_basic = 2;
    memset(out, 0, 4 * sizeof out[0]);
    if (leaf >= 0x80000000u && leaf <= c->model->max_ext_leaf)
        ext_leaf(c, leaf, out);
    else if (leaf <= max_basic)
        basic_leaf(c, leaf, subleaf, out);
    else /* beyond the maxima: the highest basic leaf's data (CPUID, "IA-32 Architecture Compatibility") */
        basic_leaf(c, max_basic, subleaf, out);
}

/* CR4 bit -> the feature that makes it writable (SDM Vol. 3A "Control Registers"). */
static const struct { uint64_t bit; int feat; } cr4_feat[] = {
    { CR4_VME, FEAT_VME }, { CR4_PVI, FEAT_VME }, { CR4_TSD, FEAT_TSC }, { CR4_DE, FEAT_DE },
    { CR4_PSE, FEAT_PSE }, { CR4_PAE, FEAT_PAE }, { CR4_MCE, FEAT_MCE }, { CR4_PGE, FEAT_PGE },
    { CR4_OSFXSR, FEAT_FXSR }, { CR4_OSXMMEXCPT, FEAT_SSE }, { CR4_UMIP, FEAT_UMIP },
    { CR4_LA57, FEAT_LA57 }, { CR4_VMXE, FEAT_VMX }, { CR4_SMXE, FEAT_SMX },
    { CR4_FSGSBASE, FEAT_FSGSBASE }, { CR4_PCIDE, FEAT_PCID }, { CR4_OSXSAVE, FEAT_XSAVE },
    { CR4_SMEP, FEAT_SMEP }, { CR4_SMAP, FEAT_SMAP }, { CR4_PKE, FEAT_PKU },
};

uint64_t cpu_cr4_valid(const cpu_t *c)
{
    uint64_t v = CR4_PCE; /* RDPMC enable exists on every model */
    for (size_t k = 0; k < sizeof cr4_feat / sizeof cr4_feat[0]; k++)
        if (cpu_has(c, (enum cpu_feature)cr4_feat[k].feat))
            v |= cr4_feat[k].bit;
    return v;
}
