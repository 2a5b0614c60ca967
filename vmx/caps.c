/* caps.c - VMX capability MSRs (SDM Vol. 3D Appendix A "VMX Capability
 * Reporting Facility") generated from vmx/controls.def and a CPU model. We
 * report TRUE controls (IA32_VMX_BASIC[55] = 1): the default1 controls that
 * the SDM defines may then be 0, the reserved ones stay 1. */
#include "vmx/caps.h"

#include <stddef.h>

#include "emu/cpumodel.h"
#include "vmx/vmx_tables.h"

static const uint32_t impl_bits[] = {
#define C(w, bit, ident, name, impl) (impl ? 1u << bit : 0),
#include "vmx/controls.def"
#undef C
};
static const uint8_t row_word[] = {
#define C(w, bit, ident, name, impl) VMX_##w,
#include "vmx/controls.def"
#undef C
};
static const uint8_t row_bit[] = {
#define C(w, bit, ident, name, impl) bit,
#include "vmx/controls.def"
#undef C
};
static const char *const row_name[] = {
#define C(w, bit, ident, name, impl) name,
#include "vmx/controls.def"
#undef C
};
#define NROWS (sizeof row_bit / sizeof row_bit[0])

/* Default1 classes (Appendix A.2). */
static const uint32_t default1[VMX_NWORDS] = {
    [VMX_PIN] = 0x00000016,   /* bits 1, 2, 4 */
    [VMX_PROC] = 0x0401e172,  /* bits 1, 4-6, 8, 13-16, 26 */
    [VMX_PROC2] = 0,
    [VMX_EXIT] = 0x00036dff,  /* bits 0-8, 10, 11, 13, 14, 16, 17 */
    [VMX_ENTRY] = 0x000011ff, /* bits 0-8, 12 */
};

uint32_t vmx_implemented(enum vmx_ctl_word w)
{
    uint32_t m = 0;
    for (unsigned r = 0; r < NROWS; r++)
        if (row_word[r] == w)
            m |= impl_bits[r];
    return m;
}

uint32_t vmx_default1(enum vmx_ctl_word w)
{
    return default1[w];
}

static uint32_t defined(enum vmx_ctl_word w)
{
    uint32_t m = 0;
    for (unsigned r = 0; r < NROWS; r++)
        if (row_word[r] == w)
            m |= 1u << row_bit[r];
    return m;
}

void vmx_allowed(const struct vmx_model *vm, enum vmx_ctl_word w, uint32_t *allowed0, uint32_t *allowed1)
{
    uint32_t offered = vm->ctls[w] & vmx_implemented(w);
    /* reserved default1 bits must be 1; defined ones may be 0 (TRUE controls) */
    *allowed0 = default1[w] & ~defined(w);
    *allowed1 = (default1[w] & ~defined(w)) | offered;
}

const char *vmx_control_name(enum vmx_ctl_word w, int bit)
{
    for (unsigned r = 0; r < NROWS; r++)
        if (row_word[r] == w && row_bit[r] == bit)
            return row_name[r];
    return NULL;
}

static bool offers(const struct vmx_model *vm, enum vmx_ctl_word w, uint32_t mask)
{
    uint32_t a0, a1;
    if (w == VMX_PROC2 && !offers(vm, VMX_PROC, VMX_CTL(PROC, SECONDARY_CONTROLS)))
        return false;
    vmx_allowed(vm, w, &a0, &a1);
    return (a1 & mask) != 0;
}

/* The "requires" column of vmcs_fields.def (SDM Appendix B notes). */
static bool requirement_met(const struct vmx_model *vm, int req)
{
    enum { ALWAYS, VPID, POSTED_INTR, EPT_VE, VIRTUAL_INTR_DELIVERY, PML, MSR_BITMAPS, TPR_SHADOW, APIC_ACCESS,
           VMFUNC, EPT, EPTP_SWITCHING, SHADOW_VMCS, XSAVES, ENCLS, TSC_SCALING, PAT, EFER, PERF_GLOBAL_CTRL,
           BNDCFGS, HOST_PAT, HOST_EFER, HOST_PERF_GLOBAL_CTRL, PREEMPTION_TIMER, SECONDARY_CONTROLS,
           PAUSE_LOOP_EXITING };
    switch (req) {
    case ALWAYS: return true;
    case VPID: return offers(vm, VMX_PROC2, VMX_CTL(PROC2, ENABLE_VPID));
    case POSTED_INTR: return offers(vm, VMX_PIN, VMX_CTL(PIN, POSTED_INTR));
    case EPT_VE: return offers(vm, VMX_PROC2, VMX_CTL(PROC2, EPT_VE));
    case VIRTUAL_INTR_DELIVERY: return offers(vm, VMX_PROC2, VMX_CTL(PROC2, VIRTUAL_INTR_DELIVERY));
    case PML: return offers(vm, VMX_PROC2, VMX_CTL(PROC2, ENABLE_PML));
    case MSR_BITMAPS: return offers(vm, VMX_PROC, VMX_CTL(PROC, USE_MSR_BITMAPS));
    case TPR_SHADOW: return offers(vm, VMX_PROC, VMX_CTL(PROC, USE_TPR_SHADOW));
    case APIC_ACCESS: return offers(vm, VMX_PROC2, VMX_CTL(PROC2, VIRTUALIZE_APIC_ACCESSES));
    case VMFUNC: return offers(vm, VMX_PROC2, VMX_CTL(PROC2, ENABLE_VMFUNC));
    case EPT: return offers(vm, VMX_PROC2, VMX_CTL(PROC2, ENABLE_EPT));
    case EPTP_SWITCHING: return offers(vm, VMX_PROC2, VMX_CTL(PROC2, ENABLE_VMFUNC)) && (vm->vmfunc & 1);
    case SHADOW_VMCS: return offers(vm, VMX_PROC2, VMX_CTL(PROC2, VMCS_SHADOWING));
    case XSAVES: return offers(vm, VMX_PROC2, VMX_CTL(PROC2, ENABLE_XSAVES));
    case ENCLS: return offers(vm, VMX_PROC2, VMX_CTL(PROC2, ENCLS_EXITING));
    case TSC_SCALING: return offers(vm, VMX_PROC2, VMX_CTL(PROC2, USE_TSC_SCALING));
    case PAT: return offers(vm, VMX_ENTRY, VMX_CTL(ENTRY, LOAD_PAT)) || offers(vm, VMX_EXIT, VMX_CTL(EXIT, SAVE_PAT));
    case EFER: return offers(vm, VMX_ENTRY, VMX_CTL(ENTRY, LOAD_EFER)) || offers(vm, VMX_EXIT, VMX_CTL(EXIT, SAVE_EFER));
    case PERF_GLOBAL_CTRL: return offers(vm, VMX_ENTRY, VMX_CTL(ENTRY, LOAD_PERF_GLOBAL_CTRL));
    case BNDCFGS:
        return offers(vm, VMX_ENTRY, VMX_CTL(ENTRY, LOAD_BNDCFGS)) || offers(vm, VMX_EXIT, VMX_CTL(EXIT, CLEAR_BNDCFGS));
    case HOST_PAT: return offers(vm, VMX_EXIT, VMX_CTL(EXIT, LOAD_PAT));
    case HOST_EFER: return offers(vm, VMX_EXIT, VMX_CTL(EXIT, LOAD_EFER));
    case HOST_PERF_GLOBAL_CTRL: return offers(vm, VMX_EXIT, VMX_CTL(EXIT, LOAD_PERF_GLOBAL_CTRL));
    case PREEMPTION_TIMER: return offers(vm, VMX_PIN, VMX_CTL(PIN, PREEMPTION_TIMER));
    case SECONDARY_CONTROLS: return offers(vm, VMX_PROC, VMX_CTL(PROC, SECONDARY_CONTROLS));
    case PAUSE_LOOP_EXITING: return offers(vm, VMX_PROC2, VMX_CTL(PROC2, PAUSE_LOOP_EXITING));
    }
    return false;
}

bool vmcs_field_exists(const struct vmx_model *vm, int f)
{
    enum { ALWAYS, VPID, POSTED_INTR, EPT_VE, VIRTUAL_INTR_DELIVERY, PML, MSR_BITMAPS, TPR_SHADOW, APIC_ACCESS,
           VMFUNC, EPT, EPTP_SWITCHING, SHADOW_VMCS, XSAVES, ENCLS, TSC_SCALING, PAT, EFER, PERF_GLOBAL_CTRL,
           BNDCFGS, HOST_PAT, HOST_EFER, HOST_PERF_GLOBAL_CTRL, PREEMPTION_TIMER, SECONDARY_CONTROLS,
           PAUSE_LOOP_EXITING };
    static const uint8_t req[VMCS_FIELD_COUNT] = {
#define F(ident, enc, name, r) r,
#include "vmx/vmcs_fields.def"
#undef F
    };
    return requirement_met(vm, req[f]);
}

uint64_t vmx_vmcs_enum(const struct vmx_model *vm)
{
    unsigned highest = 0;
    for (int f = 0; f < VMCS_FIELD_COUNT; f++)
        if (vmcs_field_exists(vm, f) && vmcs_enc_index(vmcs_field_encoding(f)) > highest)
            highest = vmcs_enc_index(vmcs_field_encoding(f));
    return (uint64_t)highest << 1;
}

static uint64_t ctl_msr(const struct vmx_model *vm, enum vmx_ctl_word w, bool true_msr)
{
    uint32_t a0, a1;
    vmx_allowed(vm, w, &a0, &a1);
    if (!true_msr) /* the non-TRUE MSRs report the whole default1 class as must-be-1 */
        a0 |= default1[w], a1 |= default1[w];
    return (uint64_t)a1 << 32 | a0;
}

bool vmx_cap_msr(const struct vmx_model *vm, uint64_t cr4_supported, uint32_t msr, uint64_t *val)
{
    switch (msr) {
    case 0x480: /* IA32_VMX_BASIC: revision, 4 KiB region, WB (6), INS/OUTS info, TRUE controls */
        *val = vm->revision | (uint64_t)4096 << 32 | 6ull << 50 | 1ull << 54 | 1ull << 55;
        return true;
    case 0x481: *val = ctl_msr(vm, VMX_PIN, false); return true;
    case 0x482: *val = ctl_msr(vm, VMX_PROC, false); return true;
    case 0x483: *val = ctl_msr(vm, VMX_EXIT, false); return true;
    case 0x484: *val = ctl_msr(vm, VMX_ENTRY, false); return true;
    case 0x485: /* IA32_VMX_MISC */
        *val = (vm->preemption_rate & 0x1f) | 1u << 5 /* LMA stored on exit */ |
               (uint64_t)(vm->activity_states & 7) << 6 | (uint64_t)vm->cr3_targets << 16 |
               (uint64_t)(vm->msr_list_factor & 7) << 25 | (uint64_t)vm->vmwrite_any_field << 29 |
               (uint64_t)vm->inject_len0 << 30;
        return true;
    case 0x486: *val = 0x80000021; return true; /* CR0 fixed to 1: PE, NE, PG */
    case 0x487: *val = 0xffffffff; return true;
    case 0x488: *val = 0x2000; return true;     /* CR4 fixed to 1: VMXE */
    case 0x489: *val = cr4_supported; return true;
    case 0x48a: *val = vmx_vmcs_enum(vm); return true;
    case 0x48b:
        if (!offers(vm, VMX_PROC, VMX_CTL(PROC, SECONDARY_CONTROLS)))
            return false;
        *val = ctl_msr(vm, VMX_PROC2, true);
        return true;
    case 0x48c:
        if (!offers(vm, VMX_PROC2, VMX_CTL(PROC2, ENABLE_EPT) | VMX_CTL(PROC2, ENABLE_VPID)))
            return false;
        /* bits 31:0 report EPT, bits 63:32 VPID (INVVPID): each only with its control */
        *val = vm->ept_vpid_cap & ((offers(vm, VMX_PROC2, VMX_CTL(PROC2, ENABLE_EPT)) ? 0xffffffffull : 0) |
                                   (offers(vm, VMX_PROC2, VMX_CTL(PROC2, ENABLE_VPID)) ? ~0xffffffffull : 0));
        return true;
    case 0x48d: *val = ctl_msr(vm, VMX_PIN, true); return true;
    case 0x48e: *val = ctl_msr(vm, VMX_PROC, true); return true;
    case 0x48f: *val = ctl_msr(vm, VMX_EXIT, true); return true;
    case 0x490: *val = ctl_msr(vm, VMX_ENTRY, true); return true;
    case 0x491:
        if (!offers(vm, VMX_PROC2, VMX_CTL(PROC2, ENABLE_VMFUNC)))
            return false;
        *val = vm->vmfunc;
        return true;
    }
    return false;
}

const struct cpu_model *vmx_model_with_timer_rate(const struct cpu_model *m, unsigned rate)
{
    static struct cpu_model model;
    static struct vmx_model vm;
    if (!m->vmx)
        return NULL;
    vm = *m->vmx;
    vm.preemption_rate = (uint8_t)(rate & 0x1f);
    model = *m;
    model.vmx = &vm;
    return &model;
}
