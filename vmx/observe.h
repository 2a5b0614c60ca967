/* observe.h - what vmx/ keeps about VM transitions for the monitor (monitor/cmd_vmx.c,
 * monitor/break.c): one hook per transition - VM entry, VM exit, failed VM entry - called
 * by vmx/entry.c and vmx/exit.c where the trace event is written (the hook writes it, so
 * the trace and the monitor see the same transitions). Kept per vCPU in struct vmx_cpu:
 *  - counters of each kind of transition, so a debugger can tell one happened between
 *    two instructions (break entry / exit / failed-entry, until);
 *  - an always-on ring of the last VMX_EXIT_RING exits (reason, qualification, guest RIP,
 *    cycle), a few stores per exit;
 *  - the last failed VM entry: the check of vmx/entry_checks.def, the segment it was about,
 *    and a copy of the VMCS it read (failures are rare, so the copy is free); or, for a
 *    VMLAUNCH/VMRESUME that failed before the checks (no current VMCS, blocking by MOV SS,
 *    the launch state), its VMfail outcome - vmx/vmfail.c reports every VMfail here;
 *  - when vmx_observe_snapshots is on (the monitor and gdbstub turn it on), a copy of
 *    the current VMCS after each transition, for `vmcs diff`. Off, nothing is copied.
 */
#ifndef VMXEMU_VMX_OBSERVE_H
#define VMXEMU_VMX_OBSERVE_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/cpu.h"
#include "vmx/caps.h"
#include "vmx/vmx_tables.h"

#define VMX_EXIT_RING 128
#define VMX_RIP_UNKNOWN UINT64_MAX

/* One VM exit as the ring keeps it (the exit-information fields at the exit). */
struct vmx_exit_rec {
    uint64_t cycle;
    uint64_t rip;         /* guest RIP saved by the exit (28.3.3) */
    uint64_t qual;        /* exit qualification */
    uint32_t reason;      /* exit reason as stored (basic reason in bits 15:0) */
    uint32_t insn_len;    /* VM-exit instruction length */
    uint32_t intr_info;   /* VM-exit interruption information */
    uint32_t msr;         /* ECX for RDMSR/WRMSR exits */
};

/* The last VM entry that failed a check of vmx/entry_checks.def. */
struct vmx_failed_entry {
    uint64_t cycle, rip;       /* rip: the VMLAUNCH/VMRESUME, or VMX_RIP_UNKNOWN */
    const char *insn;          /* "VMLAUNCH" or "VMRESUME" */
    uint32_t reason;           /* 0: VMfailValid; else the basic exit reason (33, 34) */
    uint64_t qual;             /* exit qualification of a failure exit */
    int check;                 /* enum entry_check, or -1: failed before the checks */
    int error;                 /* VMfailValid's VM-instruction error, -1 for VMfailInvalid, 0 for an exit */
    int seg;                   /* S_* the check was about, or -1 */
    uint64_t vmcs_ptr;
    uint64_t vmcs[VMCS_FIELD_COUNT]; /* the VMCS fields the entry read */
};

enum vmx_transition { VMX_T_NONE, VMX_T_ENTRY, VMX_T_EXIT, VMX_T_FAILED_ENTRY };

struct vmx_observe {
    uint64_t entries, exits, failed;   /* transitions so far */
    enum vmx_transition last;          /* the kind of the latest one */
    struct vmx_exit_rec ring[VMX_EXIT_RING]; /* exit k (0-based) in ring[k % VMX_EXIT_RING] */
    bool have_failed;
    bool fail_vmfail_due;              /* a failed check's VMfail is still to come (vmx_observe_vmfail) */
    struct vmx_failed_entry fail;
    /* vmx_observe_snapshots: the current VMCS after the latest transition */
    bool have_snap;
    uint64_t snap_ptr;                 /* the VMCS it was taken of */
    uint64_t snap_cycle;
    uint64_t snap[VMCS_FIELD_COUNT];
};

/* Take VMCS snapshots at transitions (for `vmcs diff`); off by default. */
extern bool vmx_observe_snapshots;

/* The hooks, called once per transition by vmx/entry.c and vmx/exit.c. */
/* A VM entry that loaded the guest state (before event injection). */
void vmx_observe_entry(cpu_t *c, const char *insn);
/* A VM exit, after the exit information and the guest state are saved. */
void vmx_observe_exit(cpu_t *c, uint32_t reason, uint64_t qual);
/* A VM entry that failed check `check`: VMfailValid (reason 0, before the error
 * is stored) or, before the host state is loaded, a VM-entry-failure exit with
 * basic reason 33 or 34 and qualification qual. */
void vmx_observe_failed_entry(cpu_t *c, uint32_t reason, uint64_t qual, int check);

/* A VMX instruction failed with VMfailValid(err), or VMfailInvalid (err -1): for
 * VMLAUNCH/VMRESUME the failed entry, unless a failed check recorded it already. */
void vmx_observe_vmfail(cpu_t *c, const char *insn, int err);

/* The vCPU's record, or NULL before it used VMX. */
const struct vmx_observe *vmx_observed(const cpu_t *c);
/* Exit number k (0 = the first of the run) if the ring still holds it. */
const struct vmx_exit_rec *vmx_observed_exit(const cpu_t *c, uint64_t k);

/* The values a failed check looked at (vmx/entry_check_values.def), from the
 * VMCS copy of f: up to max, each a VMCS field or capability MSR. */
struct vmx_check_value {
    int field;          /* enum vmcs_field, or -1 for an MSR */
    uint32_t msr;       /* the capability MSR when field < 0 */
    uint64_t value;
};
int vmx_failed_entry_values(const cpu_t *c, const struct vmx_failed_entry *f, struct vmx_check_value *out,
                            int max);
/* Whether a check has a row in vmx/entry_check_values.def (for the unit test). */
bool vmx_check_has_values(int check);

#endif
