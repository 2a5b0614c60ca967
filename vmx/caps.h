/* caps.h - VMX capabilities: the control bits (vmx/controls.def), what a CPU
 * model offers, and the capability MSRs 0x480-0x491 generated from both, so
 * what the guest reads and what VM entry checks come from one source. */
#ifndef VMXEMU_VMX_CAPS_H
#define VMXEMU_VMX_CAPS_H

#include <stdbool.h>
#include <stdint.h>

enum vmx_ctl_word { VMX_PIN, VMX_PROC, VMX_PROC2, VMX_EXIT, VMX_ENTRY, VMX_NWORDS };

/* Bit numbers: VMXB_<word>_<ident>; masks through VMX_CTL(word, ident). */
enum {
#define C(w, bit, ident, name, impl) VMXB_##w##_##ident = bit,
#include "vmx/controls.def"
#undef C
};
#define VMX_CTL(w, ident) (1u << VMXB_##w##_##ident)

/* The VMX capabilities of a CPU model (a row of emu/cpumodel.def points here). */
struct vmx_model {
    uint32_t revision;            /* VMCS revision identifier (IA32_VMX_BASIC[30:0]) */
    uint32_t ctls[VMX_NWORDS];    /* controls the model offers; only implemented ones take effect */
    uint8_t preemption_rate;      /* IA32_VMX_MISC[4:0]: the timer counts every 2^rate TSC ticks */
    uint8_t activity_states;      /* IA32_VMX_MISC[8:6]: HLT, shutdown, wait-for-SIPI */
    uint8_t cr3_targets;          /* IA32_VMX_MISC[24:16] */
    uint8_t msr_list_factor;      /* IA32_VMX_MISC[27:25]: lists of up to 512 * (N + 1) entries */
    bool vmwrite_any_field;       /* IA32_VMX_MISC[29] */
    bool inject_len0;             /* IA32_VMX_MISC[30] */
    uint64_t ept_vpid_cap;        /* IA32_VMX_EPT_VPID_CAP */
    uint64_t vmfunc;              /* IA32_VMX_VMFUNC */
};

/* The controls vmxemu implements, and the default1 class of each word (SDM
 * Appendix A.2 "Reserved Controls and Default Settings"). */
uint32_t vmx_implemented(enum vmx_ctl_word w);
uint32_t vmx_default1(enum vmx_ctl_word w);
/* Allowed 0- and 1-settings of a word as the TRUE capability MSRs report them:
 * a control must be 1 where allowed0 has a 1, may be 1 where allowed1 has one. */
void vmx_allowed(const struct vmx_model *vm, enum vmx_ctl_word w, uint32_t *allowed0, uint32_t *allowed1);
/* The SDM name of control bit `bit` of word w, or NULL for a reserved bit. */
const char *vmx_control_name(enum vmx_ctl_word w, int bit);

/* Whether VMCS field f (enum vmcs_field) exists on this model, and the VMCS_ENUM value. */
bool vmcs_field_exists(const struct vmx_model *vm, int f);
uint64_t vmx_vmcs_enum(const struct vmx_model *vm);

/* Capability MSR `msr` (IA32_VMX_BASIC .. IA32_VMX_VMFUNC) for the model; cr4_supported
 * is the CR4 bits the CPU model supports (CR4_FIXED1). False if the MSR does not exist
 * on this model (RDMSR then raises #GP). */
bool vmx_cap_msr(const struct vmx_model *vm, uint64_t cr4_supported, uint32_t msr, uint64_t *val);

/* The CPU model m with IA32_VMX_MISC[4:0] (the VMX-preemption timer rate) set
 * to rate, for --preemption-timer-rate: a copy that lives as long as the
 * program. NULL when m has no VMX capabilities. */
const struct cpu_model *vmx_model_with_timer_rate(const struct cpu_model *m, unsigned rate);


#endif
