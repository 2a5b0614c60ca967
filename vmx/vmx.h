/* vmx.h - VMX state of a vCPU and the interfaces between the parts of vmx/.
 *
 *   vmx/vmx.c        vmx_attach(): installs the virt_ops hooks (emu/virt.h); per-vCPU state
 *   vmx/vmxon.c      VMXON, VMXOFF; IA32_FEATURE_CONTROL and CR4.VMXE rules
 *   vmx/vmcs.c       the VMCS region in guest memory (our layout, docs/vmcs-layout.md), the
 *                    current-VMCS cache, VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE
 *   vmx/vmfail.c     VMsucceed / VMfailInvalid / VMfailValid (SDM "Conventions" of the VMX
 *                    instruction reference), each failure also a trace event
 *   vmx/entry_checks.def, entry_checks.c   every VM-entry check, one named row each
 *   vmx/entry.c      VMLAUNCH, VMRESUME: checks, guest-state and MSR loading, event injection
 *   vmx/exit.c       VM exits: exit information, guest-state saving, MSR store, host-state and
 *                    MSR loading
 *   vmx/intercept.c  non-root operation: which instructions and events exit, with their
 *                    qualifications and instruction information
 *   vmx/boundary.c   instruction boundaries in non-root operation: MTF, pending debug
 *                    exceptions, the preemption timer, NMI and interrupt windows, virtual NMIs
 *   vmx/trace.c      --trace FILE: one JSON object per VM entry, exit, failed entry and VMfail
 *   vmx/observe.c    the hook of every VM entry, exit and failed entry: trace event, exit ring,
 *                    last failed check, VMCS snapshots for the monitor
 *   vmx/apicv.c      APIC virtualization: virtual-APIC page, TPR shadow, x2APIC MSRs, virtual
 *                    interrupts, posted interrupts (vmx/apicv.h)
 * Names follow the SDM (Vol. 3C, VMX chapters) and vmx/vmx_tables.h.
 */
#ifndef VMXEMU_VMX_H
#define VMXEMU_VMX_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/cpu.h"
#include "emu/exec.h"
#include "emu/machine.h"
#include "vmx/caps.h"
#include "vmx/gpa_cache.h"
#include "vmx/observe.h"
#include "vmx/vmx_tables.h"

#define VMCS_NONE UINT64_MAX /* the current-VMCS pointer when there is none */

/* Our VMCS region layout (docs/vmcs-layout.md; SDM Vol. 3C "Format of the VMCS
 * Region" leaves all but the first 8 bytes to the implementation). */
#define VMCS_OFF_REVISION 0   /* bits 30:0 revision identifier, bit 31 shadow-VMCS indicator */
#define VMCS_OFF_ABORT 4      /* VMX-abort indicator */
#define VMCS_OFF_LAUNCH 8     /* launch state: 0 clear, 1 launched */
#define VMCS_OFF_FIELDS 16    /* one 8-byte slot per row of vmx/vmcs_fields.def, in row order */
static inline uint32_t vmcs_field_offset(enum vmcs_field f) { return VMCS_OFF_FIELDS + 8u * (uint32_t)f; }

struct vmx_cpu {
    bool in_vmx;                       /* in VMX operation (after VMXON) */
    uint64_t vmxon_ptr;                /* physical address of the VMXON region */
    uint64_t vmcs_ptr;                 /* current-VMCS pointer, or VMCS_NONE */
    uint64_t vmcs[VMCS_FIELD_COUNT];   /* the current VMCS's fields while it is current */
    uint32_t launch_state;             /* of the current VMCS: 0 clear, 1 launched */
    /* VM entry and exit (vmx/entry.c, exit.c, intercept.c) */
    bool injecting;                    /* VM entry is delivering its injected event: no VM exit for it */
    uint32_t vectoring_info;           /* the event being delivered in non-root operation, in the */
    uint32_t vectoring_err;            /* IDT-vectoring format (bit 31 valid), and its error code */
    struct vmx_observe obs;            /* transitions, for the monitor (vmx/observe.h) */
    /* the IRET being executed in non-root operation unblocked NMIs (EPT-violation qualification bit 12) */
    bool iret_nmi;
    uint64_t iret_cycle, iret_rip;
    bool virq;                         /* a virtual interrupt is recognized (vmx/apicv.c) */
    /* instruction-boundary events (vmx/boundary.c) */
    uint64_t timer_tsc;                /* VMX-preemption timer: the TSC at which it reaches 0 */
    uint64_t timer_cycle;              /* the first cycle at that TSC; UINT64_MAX: not counting */
    uint64_t mtf_deadline;             /* the next boundary the monitor trap flag must see, or UINT64_MAX */
    uint64_t mtf_insns;                /* insn_count at the first boundary after VM entry (UINT64_MAX: not yet) */
    bool mtf_pending;                  /* an MTF VM exit is pending before the next instruction */
    bool delivered;                    /* an event went through the guest IDT since mtf_insns */
    bool vnmi_blocked;                 /* virtual-NMI blocking ("virtual NMIs" = 1) */
    bool iret_unblocked;               /* the IRET being run removed NMI blocking (exit information bit 12) */
    /* PAUSE-loop exiting (vmx/intercept.c): a PAUSE at CPL 0 since the VM entry, the TSC of the
     * last one and of the first of the current loop */
    bool ple_seen;
    uint64_t ple_last, ple_first;
    unsigned apic_write;               /* 1 + offset of a virtualized APIC-access page write to emulate, or 0 */
    struct gpa_cache gpa;              /* guest-physical mappings, --tlb=strict (vmx/gpa_cache.h) */
};

/* The CPU model's VMX capabilities, or NULL when the model has no VMX. */
const struct vmx_model *vmx_model_of(const cpu_t *c);

/* Install VMX's hooks on the machine (call once after machine_new). */
void vmx_attach(machine_t *m);
/* Free the vCPUs' VMX state (call before machine_free, which does not know it). */
void vmx_detach(machine_t *m);

/* The vCPU's VMX state, created on first use. */
struct vmx_cpu *vmx_state(cpu_t *c);

/* Current-VMCS field access (the cache; VMCLEAR writes it back to the region). */
uint64_t vmcs_get(cpu_t *c, enum vmcs_field f);
void vmcs_set(cpu_t *c, enum vmcs_field f, uint64_t v);

/* VMX instruction outcomes (SDM Vol. 3C "Conventions"): RFLAGS and, for
 * VMfailValid, the VM-instruction error field; every failure is traced. */
void vmx_succeed(cpu_t *c);
void vmx_fail_invalid(cpu_t *c, const char *insn);
void vmx_fail_valid(cpu_t *c, const char *insn, enum vm_instruction_error err);
/* VMfail(err): VMfailValid if there is a current VMCS, else VMfailInvalid. */
void vmx_fail(cpu_t *c, const char *insn, enum vm_instruction_error err);
/* VMfailInvalid for a condition the SDM gives no error number (VMXON's pointer
 * checks, no current VMCS): `why` says which, for the trace. */
void vmx_fail_invalid_why(cpu_t *c, const char *insn, const char *why);

/* The check VMX instructions other than VMXON and VMCALL start with (SDM Vol. 3C
 * "VMX Instruction Reference", each Operation section): #UD unless in VMX
 * operation with CR0.PE = 1, RFLAGS.VM = 0 and not in compatibility mode. It
 * precedes the VM exit those instructions cause in non-root operation, so the
 * non-root wrapper calls it first; the root-mode handlers (vmxon.c, vmcs.c) too. */
void vmx_check_ud(cpu_t *c);

/* Whether the current VMCS sets a secondary processor-based control of mask: they
 * count only while "activate secondary controls" is 1 (SDM Vol. 3C 25.6.2). */
static inline bool vmx_proc2(cpu_t *c, uint32_t mask)
{
    return (vmcs_get(c, VMCS_CPU_BASED_VM_EXEC_CONTROL) & VMX_CTL(PROC, SECONDARY_CONTROLS)) &&
           (vmcs_get(c, VMCS_SECONDARY_VM_EXEC_CONTROL) & mask);
}

/* The current VMCS region: its fields go back into guest memory (docs/vmcs-layout.md);
 * the launch state is written as struct vmx_cpu holds it. No-op without a current VMCS. */
void vmcs_flush(cpu_t *c);

/* A VM exit from non-root operation with basic exit reason `reason` and exit
 * qualification `qual`; the caller has set the other exit-information fields
 * it knows (instruction length and information, guest-linear and
 * guest-physical address, IDT-vectoring information). Inside an instruction
 * handler follow it with cpu_abort_insn(). */
void vmx_vmexit(cpu_t *c, uint32_t reason, uint64_t qual);

/* The virt_ops hooks of non-root operation (vmx/intercept.c), for vmx_attach():
 * nonroot_handler: the wrapper bound to a form that may cause a VM exit
 * (vmx/exit_class.def), or NULL to keep the plain handler;
 * event: the exception bitmap, NMI and external-interrupt exiting (true: the
 * event caused a VM exit instead of being delivered);
 * boundary: the instruction-boundary events, in priority order (vmx/boundary.c). */
insn_fn vmx_nonroot_handler(const x86_insn *i);
bool vmx_event(cpu_t *c, enum event_type type, int vec, int has_err, uint32_t err);
bool vmx_boundary(cpu_t *c);
/* vmx/boundary.c: arm the boundary events after a VM entry has loaded the guest
 * and injected its event (preemption timer, MTF, pending debug exceptions,
 * virtual-NMI blocking); save them into the VMCS at a VM exit (after the guest
 * state) and disarm; IRET's effect on (virtual-)NMI blocking. */
void vmx_boundary_entry(cpu_t *c);
void vmx_boundary_exit(cpu_t *c, uint32_t reason);
void vmx_iret_begin(cpu_t *c);
/* For the vmentry trace line with the timer active: its value, rate and the
 * cycle it expires at (the timer exit comes at the first boundary from there). */
void vmx_boundary_trace_entry(cpu_t *c);
/* virt_ops.init_signal: INIT in non-root operation is a VM exit (vmx/intercept_event.c). */
void vmx_init_signal(cpu_t *c);
/* virt_ops.task_switch: every task switch in non-root operation is a VM exit (vmx/intercept_event.c). */
void vmx_task_switch(cpu_t *c, uint16_t sel, int why);
/* INVEPT's #UD conditions (vmx/invept.c), which precede its VM exit in non-root operation. */
void vmx_invept_check_ud(cpu_t *c);
/* virt_ops.gpa: a guest-physical access through EPT (vmx/ept_access.c). */
struct gpa_access;
struct gpa_result;
bool vmx_gpa(cpu_t *c, const struct gpa_access *a, struct gpa_result *r);
/* The model's EPT capabilities, for vmx/ept.c's walk. */
struct ept_caps;
void vmx_ept_caps(const cpu_t *c, struct ept_caps *caps);
/* VMLAUNCH and VMRESUME are op_vmlaunch and op_vmresume (emu/handlers.def rows, vmx/entry.c). */

#endif
