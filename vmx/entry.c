/* entry.c - VMLAUNCH and VMRESUME (SDM Vol. 3C "VMLAUNCH/VMRESUME-Launch/Resume
 * Virtual Machine" and chapter 27 "VM Entries"): the instruction's own checks,
 * then the checks of vmx/entry_checks.c (controls and host state fail with
 * VMfailValid, guest state with a VM-entry-failure exit), loading the guest
 * state (27.3.2), the VM-entry MSR-load list (27.4) and event injection (27.6).
 * A successful entry replaces the instruction: the vCPU is in non-root
 * operation at the guest RIP (cpu_abort_insn). */
#include "emu/fault.h"
#include "emu/flags.h"
#include "emu/mmu.h"
#include "emu/virt.h"
#include "vmx/apicv.h"
#include "vmx/entry_checks.h"
#include "vmx/exit.h"
#include "vmx/observe.h"
#include "vmx/vmx.h"
#include "vmx/vpid.h"

#define G(name) vmcs_get(c, VMCS_##name)

/* 27.3.2 "Loading Guest State". The checks passed, so every value is one the
 * vCPU can hold; pdpte[] are the PDPTEs the checks read for PAE paging (from
 * guest CR3, or with EPT from the VMCS guest PDPTE fields, 27.3.2.4). */
static void load_guest(cpu_t *c, const uint64_t pdpte[4])
{
    uint32_t ent = (uint32_t)G(VM_ENTRY_CONTROLS);
    bool ia32e = (ent & VMX_CTL(ENTRY, IA32E_MODE_GUEST)) != 0;

    c->cr0 = G(GUEST_CR0);
    c->cr3 = G(GUEST_CR3);
    c->cr4 = G(GUEST_CR4);
    if (ent & VMX_CTL(ENTRY, LOAD_DEBUG_CONTROLS)) {
        c->dr[7] = G(GUEST_DR7);
        c->msr_debugctl = G(GUEST_IA32_DEBUGCTL);
    }
    c->msr_sysenter_cs = G(GUEST_SYSENTER_CS);
    c->msr_sysenter_esp = G(GUEST_SYSENTER_ESP);
    c->msr_sysenter_eip = G(GUEST_SYSENTER_EIP);
    if (ent & VMX_CTL(ENTRY, LOAD_PAT))
        c->msr_pat = G(GUEST_IA32_PAT);
    if (ent & VMX_CTL(ENTRY, LOAD_EFER)) {
        c->efer = G(GUEST_IA32_EFER);
    } else {
        /* 27.3.2.1: LMA follows "IA-32e mode guest", and LME too when CR0.PG = 1 */
        c->efer = (c->efer & ~EFER_LMA) | (ia32e ? EFER_LMA : 0);
        if (c->cr0 & CR0_PG)
            c->efer = (c->efer & ~EFER_LME) | (ia32e ? EFER_LME : 0);
    }
    /* 27.3.2.2: the access rights are already in cpu_t's layout (emu/cpu.h) */
    for (int r = 0; r < S_COUNT; r++) {
        seg_t *s = &c->seg[r];
        s->sel = (uint16_t)vmcs_get(c, VMCS_GUEST_ES_SELECTOR + r);
        s->base = vmcs_get(c, VMCS_GUEST_ES_BASE + r);
        s->limit = (uint32_t)vmcs_get(c, VMCS_GUEST_ES_LIMIT + r);
        s->ar = (uint32_t)vmcs_get(c, VMCS_GUEST_ES_AR_BYTES + r);
    }
    c->gdtr = (dtr_t){ G(GUEST_GDTR_BASE), (uint16_t)G(GUEST_GDTR_LIMIT) };
    c->idtr = (dtr_t){ G(GUEST_IDTR_BASE), (uint16_t)G(GUEST_IDTR_LIMIT) };
    c->gpr[R_RSP] = G(GUEST_RSP);
    c->rip = c->insn_rip = G(GUEST_RIP);
    cpu_set_rflags(c, G(GUEST_RFLAGS));
    if ((c->cr0 & CR0_PG) && (c->cr4 & CR4_PAE) && !ia32e)
        for (int k = 0; k < 4; k++)
            c->pdpte[k] = pdpte[k];

    /* 27.3.2.5 "Updating Non-Register State": activity and interruptibility */
    uint64_t istate = G(GUEST_INTERRUPTIBILITY_INFO);
    c->intr_shadow = (istate & 1) ? 1 : (istate & 2) ? 2 : 0;
    c->nmi_blocked = (istate & 8) != 0;
    c->halted = G(GUEST_ACTIVITY_STATE) == 1;
    c->wait_for_sipi = G(GUEST_ACTIVITY_STATE) == 3;
    if (c->halted || c->wait_for_sipi)
        c->stop |= STOP_HALT;

    c->nonroot = true;
    vmx_state(c)->ple_seen = false; /* the first PAUSE after VM entry starts a loop (26.1.3) */
    /* "enable EPT": guest-physical accesses go through EPT (vmx/ept_access.c) */
    c->ept = (G(CPU_BASED_VM_EXEC_CONTROL) & VMX_CTL(PROC, SECONDARY_CONTROLS)) &&
             (G(SECONDARY_VM_EXEC_CONTROL) & VMX_CTL(PROC2, ENABLE_EPT));
    c->cpl = (uint8_t)AR_DPL(c->seg[S_SS].ar); /* CPL is SS.DPL (27.3.2.2) */
    cpu_update_mode(c);
    vmx_tlb_entry(c); /* 27.3.2.5: the TLB context of the guest's VPID and EPT root */
    c->stop |= STOP_MODE;
}

/* 27.6 "Event Injection": delivered through the guest IDT as if it had
 * happened at the guest RIP; the injected event itself is not subject to the
 * exception bitmap, a fault while delivering it is (vmx_event). */
static void inject(cpu_t *c)
{
    uint64_t ii = G(VM_ENTRY_INTR_INFO_FIELD);
    if (!(ii >> 31) || ((ii >> 8) & 7) == 7) /* type 7: a pending MTF VM exit (vmx/boundary.c) */
        return;
    struct vmx_cpu *v = vmx_state(c);
    unsigned type = (ii >> 8) & 7, vec = ii & 0xff;
    bool has_err = (ii >> 11) & 1;
    uint32_t err = (uint32_t)G(VM_ENTRY_EXCEPTION_ERROR_CODE);
    /* the return address follows the instruction; a VM exit during the delivery
     * reports the instruction itself (c->insn_rip) */
    c->insn_rip = c->rip;
    if (type == EV_SWINT || type == EV_PRIVSW || type == EV_SWEXC)
        c->rip += G(VM_ENTRY_INSTRUCTION_LEN);
    /* IDT-vectoring information for an exit during the delivery (28.2.4) */
    v->vectoring_info = (uint32_t)(ii & 0x80000fffu);
    v->vectoring_err = err;
    v->injecting = true;
    cpu_deliver(c, (enum event_type)type, (int)vec, has_err, err);
    v->injecting = false;
    v->vectoring_info = 0;
}

static void vm_entry(cpu_t *c, bool launch)
{
    const char *insn = launch ? "VMLAUNCH" : "VMRESUME";
    struct vmx_cpu *v = vmx_state(c);

    /* #UD, then (non-root operation exits before this handler runs), #GP(0) at CPL > 0 */
    vmx_check_ud(c);
    if (c->cpl > 0)
        cpu_fault_err(c, EXC_GP, 0);
    if (v->vmcs_ptr == VMCS_NONE) {
        vmx_fail_invalid_why(c, insn, "no current VMCS");
        return;
    }
    if (c->intr_shadow == 2) {
        vmx_fail_valid(c, insn, VMERR_ENTRY_MOV_SS_BLOCKING);
        return;
    }
    if (launch && v->launch_state != 0) {
        vmx_fail_valid(c, insn, VMERR_VMLAUNCH_NONCLEAR);
        return;
    }
    if (!launch && v->launch_state != 1) {
        vmx_fail_valid(c, insn, VMERR_VMRESUME_NONLAUNCHED);
        return;
    }

    struct entry_ctx x = { .f = v->vmcs, .vm = vmx_model_of(c), .c = c, .vmcs_ptr = v->vmcs_ptr };
    int k = vmx_check_controls(&x);
    if (k == CHK_PASS)
        k = vmx_check_host(&x);
    if (k != CHK_PASS) {
        vmx_observe_failed_entry(c, 0, 0, k);
        vmx_fail_valid(c, insn, entry_check_info(k)->kind == CHK_KIND_CTL ? VMERR_ENTRY_INVALID_CONTROL
                                                                          : VMERR_ENTRY_INVALID_HOST_STATE);
        return;
    }
    /* From here on the outcome is a VM entry or a VM-entry-failure exit to the
     * host: either way the instruction is replaced. */
    k = vmx_check_guest(&x);
    if (k != CHK_PASS) {
        vmx_entry_failure(c, EXIT_REASON_INVALID_GUEST_STATE, entry_check_info(k)->qual, k);
        cpu_abort_insn(c);
    }
    vmcs_set(c, VMCS_VM_EXIT_INTR_INFO, 0);
    vmcs_set(c, VMCS_IDT_VECTORING_INFO_FIELD, 0);
    load_guest(c, x.pdpte);
    uint32_t bad = vmx_msr_load_list(c, G(VM_ENTRY_MSR_LOAD_ADDR), G(VM_ENTRY_MSR_LOAD_COUNT), &k);
    if (bad) {
        vmx_entry_failure(c, EXIT_REASON_MSR_LOAD_FAIL, bad, k);
        cpu_abort_insn(c);
    }
    v->launch_state = 1;
    vmx_observe_entry(c, insn);
    vmx_apicv_entry(c);
    inject(c);
    if (c->nonroot)
        vmx_apicv_entry_tpr(c);
    vmx_boundary_entry(c); /* timer, MTF, pending debug exceptions, virtual NMIs; the first boundary */
    cpu_abort_insn(c);
}

void op_vmlaunch(cpu_t *c, const dinsn_t *d) { vm_entry(c, true); }
void op_vmresume(cpu_t *c, const dinsn_t *d) { vm_entry(c, false); }
