/* entry_checks.h - the VM-entry checks of vmx/entry_checks.def: their ids,
 * names, SDM sections and outcomes, and the three passes VM entry makes (SDM
 * Vol. 3C 27.2 "Checks on VMX Controls and Host-State Area", 27.3.1 "Checks on
 * the Guest State Area"), plus the per-entry MSR-list rules shared by VM entry
 * (27.4 "Loading MSRs") and VM exit (28.6 "Loading Host MSRs").
 * The checks read the VMCS fields as an array (struct vmx_cpu.vmcs), so unit
 * tests drive them without a machine run. */
#ifndef VMXEMU_ENTRY_CHECKS_H
#define VMXEMU_ENTRY_CHECKS_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/cpu.h"
#include "vmx/caps.h"
#include "vmx/vmx_tables.h"

enum entry_check {
#define SEC(sid, num, title)
#define K(ident, kind, sid, qual, desc) CHK_##ident,
#include "vmx/entry_checks.def"
#undef K
#undef SEC
    CHK_COUNT
};
#define CHK_PASS (-1)

/* What a failed check makes of the VM entry (the kind column). */
enum entry_check_kind { CHK_KIND_CTL, CHK_KIND_HOST, CHK_KIND_GUEST, CHK_KIND_MSR };

struct entry_check_info {
    const char *ident;         /* "GUEST_CS_TYPE" */
    enum entry_check_kind kind;
    const char *section;       /* "27.3.1.2" */
    const char *title;         /* "Checks on Guest Segment Registers" */
    uint32_t qual;             /* exit qualification of a GUEST failure */
    const char *desc;
};
const struct entry_check_info *entry_check_info(enum entry_check k);

/* Everything the checks look at. */
struct entry_ctx {
    const uint64_t *f;              /* the VMCS fields, indexed by enum vmcs_field */
    const struct vmx_model *vm;
    cpu_t *c;                       /* the vCPU: its mode, model (widths, CR4 bits), memory */
    uint64_t vmcs_ptr;              /* the current-VMCS pointer */
    int seg;                        /* out: the segment register (S_*) a failed segment check is about, or -1 */
    uint64_t pdpte[4];              /* out: the PDPTEs guest PAE paging loads (27.3.2.4) */
};

/* Each pass returns the first failing check, or CHK_PASS. */
int vmx_check_controls(struct entry_ctx *x);
int vmx_check_host(struct entry_ctx *x);
int vmx_check_guest(struct entry_ctx *x);

/* The rules for one MSR-list entry written by VM entry or VM exit (index, the
 * reserved upper half of its first quadword): CHK_PASS or the MSR_LOAD_* check
 * that fails before WRMSR is tried. */
int vmx_check_msr_entry(uint32_t index, uint32_t reserved);

/* The EPTP rows (27.2.1.1) for an EPTP value on this model: CHK_PASS or the
 * failing row (VM entry with "enable EPT", INVEPT single-context). */
int vmx_check_eptp(const struct vmx_model *vm, uint8_t maxphyaddr, uint64_t eptp);

/* Whether every byte of a PAT value is a valid memory type (0, 1, 4, 5, 6, 7). */
bool vmx_pat_valid(uint64_t pat);

#endif
