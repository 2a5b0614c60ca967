/* exit.c - VM exits (SDM Vol. 3C chapter 28 "VM Exits"): record the exit
 * information (28.2), save the guest state (28.3), store the guest MSRs
 * (28.4), load the host state (28.5) and the host MSRs (28.6); a failure in
 * the MSR lists or the host PDPTEs is a VMX abort (28.7). VM-entry failures
 * after the guest-state checks (27.8) share the host-state half. */
#include "vmx/exit.h"

#include "emu/flags.h"
#include "emu/fault.h"
#include "emu/machine.h"
#include "emu/mmu.h"
#include "emu/msr.h"
#include "emu/paging.h"
#include "vmx/entry_checks.h"
#include "vmx/exit_trace.h"
#include "vmx/vmx.h"
#include "vmx/vpid.h"

#define G(name) vmcs_get(c, VMCS_##name)
#define S(name, v) vmcs_set(c, VMCS_##name, (v))

void vmx_exit_insn(cpu_t *c, uint32_t len, uint32_t info)
{
    S(VM_EXIT_INSTRUCTION_LEN, len);
    S(VMX_INSTRUCTION_INFO, info);
}

/* 28.7 "VMX Aborts": the indicator goes into the VMCS region (offset 4) and
 * the logical processor shuts down. */
enum { ABORT_SAVE_MSR = 1, ABORT_HOST_PDPTE = 2, ABORT_LOAD_MSR = 4 };
static void vmx_abort(cpu_t *c, uint32_t indicator)
{
    struct vmx_cpu *v = vmx_state(c);
    phys_write(c->m, v->vmcs_ptr + VMCS_OFF_ABORT, 4, indicator);
    if (vmx_tracing()) {
        vmx_trace_begin(c, "vmx_abort");
        vmx_trace_u64("indicator", indicator);
        vmx_trace_end();
    }
    c->nonroot = c->ept = false;
    cpu_triple_fault(c);
}

/* ---- 28.3 saving guest state ---- */

static void save_guest(cpu_t *c)
{
    uint32_t exit_ctl = (uint32_t)G(VM_EXIT_CONTROLS);
    S(GUEST_CR0, c->cr0);
    S(GUEST_CR3, c->cr3);
    S(GUEST_CR4, c->cr4);
    if (exit_ctl & VMX_CTL(EXIT, SAVE_DEBUG_CONTROLS)) {
        S(GUEST_DR7, c->dr[7]);
        S(GUEST_IA32_DEBUGCTL, c->msr_debugctl);
    }
    S(GUEST_SYSENTER_CS, c->msr_sysenter_cs);
    S(GUEST_SYSENTER_ESP, c->msr_sysenter_esp);
    S(GUEST_SYSENTER_EIP, c->msr_sysenter_eip);
    if (exit_ctl & VMX_CTL(EXIT, SAVE_PAT))
        S(GUEST_IA32_PAT, c->msr_pat);
    if (exit_ctl & VMX_CTL(EXIT, SAVE_EFER))
        S(GUEST_IA32_EFER, c->efer);
    /* IA32_EFER.LMA goes into the "IA-32e mode guest" entry control (IA32_VMX_MISC[5]) */
    uint64_t ent = G(VM_ENTRY_CONTROLS) & ~(uint64_t)VMX_CTL(ENTRY, IA32E_MODE_GUEST);
    S(VM_ENTRY_CONTROLS, ent | ((c->efer & EFER_LMA) ? VMX_CTL(ENTRY, IA32E_MODE_GUEST) : 0));
    for (int r = 0; r < S_COUNT; r++) {
        const seg_t *s = &c->seg[r];
        vmcs_set(c, VMCS_GUEST_ES_SELECTOR + r, s->sel);
        vmcs_set(c, VMCS_GUEST_ES_BASE + r, s->base);
        vmcs_set(c, VMCS_GUEST_ES_LIMIT + r, s->limit);
        vmcs_set(c, VMCS_GUEST_ES_AR_BYTES + r, s->ar);
    }
    S(GUEST_GDTR_BASE, c->gdtr.base);
    S(GUEST_GDTR_LIMIT, c->gdtr.limit);
    S(GUEST_IDTR_BASE, c->idtr.base);
    S(GUEST_IDTR_LIMIT, c->idtr.limit);
    S(GUEST_RIP, c->rip);
    S(GUEST_RSP, c->gpr[R_RSP]);
    S(GUEST_RFLAGS, cpu_get_rflags(c));
    S(GUEST_ACTIVITY_STATE, c->wait_for_sipi ? 3 : c->halted ? 1 : 0);
    S(GUEST_INTERRUPTIBILITY_INFO, (c->intr_shadow == 1 ? 1u : 0) | (c->intr_shadow == 2 ? 2u : 0) |
                                       (c->nmi_blocked ? 8u : 0));
    /* 28.3.4 "Saving Non-Register State": the PDPTEs with EPT and PAE paging (undefined otherwise) */
    if ((c->cr0 & CR0_PG) && (c->cr4 & CR4_PAE) && !(c->efer & EFER_LMA))
        for (int k = 0; k < 4; k++)
            vmcs_set(c, VMCS_GUEST_PDPTE0 + k, c->pdpte[k]);
}

/* The recommended maximum length of an MSR list (Appendix A.6 "Miscellaneous
 * Data"): longer lists are undefined, and would let a guest stall the emulator. */
static uint64_t msr_list_max(cpu_t *c)
{
    return 512ull * (vmx_model_of(c)->msr_list_factor + 1u);
}

/* 28.4 "Saving MSRs": false if an entry cannot be stored (VMX abort). */
static bool store_msrs(cpu_t *c)
{
    uint64_t addr = G(VM_EXIT_MSR_STORE_ADDR), n = G(VM_EXIT_MSR_STORE_COUNT);
    if (n > msr_list_max(c))
        return false;
    for (uint64_t k = 0; k < n; k++) {
        uint64_t e = phys_read(c->m, addr + 16 * k, 8), val;
        uint32_t idx = (uint32_t)e;
        /* x2APIC MSRs, IA32_SMBASE and reserved bits make the store fail */
        if ((e >> 32) || (idx >> 8) == 8 || idx == 0x9e || !msr_read(c, idx, &val))
            return false;
        phys_write(c->m, addr + 16 * k + 8, 8, val);
    }
    return true;
}

uint32_t vmx_msr_load_list(cpu_t *c, uint64_t addr, uint64_t count, int *check)
{
    if (count > msr_list_max(c)) {
        *check = CHK_MSR_LOAD_COUNT;
        return (uint32_t)msr_list_max(c) + 1;
    }
    for (uint64_t k = 0; k < count; k++) {
        uint64_t e = phys_read(c->m, addr + 16 * k, 8), val = phys_read(c->m, addr + 16 * k + 8, 8);
        *check = vmx_check_msr_entry((uint32_t)e, (uint32_t)(e >> 32));
        if (*check == CHK_PASS && !msr_write(c, (uint32_t)e, val))
            *check = CHK_MSR_LOAD_WRMSR_FAULT;
        if (*check != CHK_PASS)
            return (uint32_t)k + 1;
    }
    return 0;
}

/* ---- 28.5 loading host state ---- */

/* 28.5.2 "Loading Host Segment and Descriptor-Table Registers". */
static void host_seg(seg_t *s, uint64_t sel, uint64_t base, uint32_t ar)
{
    s->sel = (uint16_t)sel;
    s->base = base;
    s->limit = 0xffffffff;
    s->ar = ar | AR_S | AR_P | AR_G;
    if (sel == 0)
        s->ar |= AR_UNUSABLE;
}

/* Load the host state; false means a VMX abort was taken. */
static bool load_host(cpu_t *c)
{
    uint32_t exit_ctl = (uint32_t)G(VM_EXIT_CONTROLS);
    bool host64 = (exit_ctl & VMX_CTL(EXIT, HOST_ADDR_SPACE_SIZE)) != 0;

    /* 28.5.1: CR0.ET, CD, NW and the reserved bits 15:6, 17, 28:19 keep their values */
    const uint64_t cr0_keep = 0x7ffaffd0ull;
    c->cr0 = (c->cr0 & cr0_keep) | (G(HOST_CR0) & ~cr0_keep & 0xffffffffull);
    c->cr3 = G(HOST_CR3);
    c->cr4 = G(HOST_CR4);
    if (host64)
        c->cr4 |= CR4_PAE;
    else
        c->cr4 &= ~CR4_PCIDE;
    c->dr[7] = 0x400;
    c->msr_debugctl = 0;
    c->msr_sysenter_cs = G(HOST_IA32_SYSENTER_CS);
    c->msr_sysenter_esp = G(HOST_IA32_SYSENTER_ESP);
    c->msr_sysenter_eip = G(HOST_IA32_SYSENTER_EIP);
    if (exit_ctl & VMX_CTL(EXIT, LOAD_PAT))
        c->msr_pat = G(HOST_IA32_PAT);
    if (exit_ctl & VMX_CTL(EXIT, LOAD_EFER))
        c->efer = G(HOST_IA32_EFER);
    else
        c->efer = (c->efer & ~(EFER_LMA | EFER_LME)) | (host64 ? EFER_LMA | EFER_LME : 0);

    const uint32_t data = 3 | AR_DB, code = 11 | (host64 ? AR_L : AR_DB);
    host_seg(&c->seg[S_CS], G(HOST_CS_SELECTOR), 0, code);
    c->seg[S_CS].ar &= ~AR_UNUSABLE; /* CS is never null (27.2.3) */
    host_seg(&c->seg[S_SS], G(HOST_SS_SELECTOR), 0, data);
    host_seg(&c->seg[S_DS], G(HOST_DS_SELECTOR), 0, data);
    host_seg(&c->seg[S_ES], G(HOST_ES_SELECTOR), 0, data);
    host_seg(&c->seg[S_FS], G(HOST_FS_SELECTOR), G(HOST_FS_BASE), data);
    host_seg(&c->seg[S_GS], G(HOST_GS_SELECTOR), G(HOST_GS_BASE), data);
    /* TR: busy 32/64-bit TSS, limit 67H, byte granular */
    c->seg[S_TR] = (seg_t){ .sel = (uint16_t)G(HOST_TR_SELECTOR), .base = G(HOST_TR_BASE), .limit = 0x67,
                            .ar = 11 | AR_P };
    c->seg[S_LDTR] = (seg_t){ .ar = AR_UNUSABLE };
    c->gdtr = (dtr_t){ G(HOST_GDTR_BASE), 0xffff };
    c->idtr = (dtr_t){ G(HOST_IDTR_BASE), 0xffff };
    c->rip = G(HOST_RIP);
    c->gpr[R_RSP] = G(HOST_RSP);
    cpu_set_rflags(c, 2);
    c->intr_shadow = 0;
    c->halted = c->wait_for_sipi = false;
    c->nonroot = false;
    c->ept = false;
    c->cpl = 0;
    cpu_update_mode(c);
    vmx_tlb_exit(c); /* 28.5.5: back to VPID 0's TLB context */
    c->stop |= STOP_MODE;
    /* 28.5.4 "Checking and Loading Host Page-Directory-Pointer-Table Entries" */
    if (!cpu_load_pdptes(c, c->cr0, c->cr3, c->cr4)) {
        vmx_abort(c, ABORT_HOST_PDPTE);
        return false;
    }
    int check;
    if (vmx_msr_load_list(c, G(VM_EXIT_MSR_LOAD_ADDR), G(VM_EXIT_MSR_LOAD_COUNT), &check)) {
        vmx_abort(c, ABORT_LOAD_MSR);
        return false;
    }
    return true;
}

void vmx_vmexit(cpu_t *c, uint32_t reason, uint64_t qual)
{
    struct vmx_cpu *v = vmx_state(c);
    S(VM_EXIT_REASON, reason);
    S(EXIT_QUALIFICATION, qual);
    /* the interruption information is valid only for exits caused by an exception, NMI or
     * external interrupt (28.2.2 "Information for VM Exits Due to Vectored Events") */
    if (reason != EXIT_REASON_EXCEPTION_NMI && reason != EXIT_REASON_EXTERNAL_INTERRUPT)
        S(VM_EXIT_INTR_INFO, 0);
    /* exc_depth != 0: the exit interrupted the delivery of the event vmx_event recorded */
    S(IDT_VECTORING_INFO_FIELD, c->exc_depth ? v->vectoring_info : 0);
    S(IDT_VECTORING_ERROR_CODE, v->vectoring_err);
    v->vectoring_info = 0;
    /* every VM exit clears the valid bit of the VM-entry interruption information (28.2
     * "Recording VM-Exit Information and Updating VM-Entry Control Fields") */
    S(VM_ENTRY_INTR_INFO_FIELD, G(VM_ENTRY_INTR_INFO_FIELD) & ~(1ull << 31));
    c->exc_depth = 0;
    save_guest(c);
    vmx_boundary_exit(c, reason); /* preemption timer, pending debug exceptions, virtual-NMI blocking */
    vmx_observe_exit(c, reason, qual);
    if (!store_msrs(c)) {
        vmx_abort(c, ABORT_SAVE_MSR);
        return;
    }
    if (load_host(c) && reason == EXIT_REASON_EXCEPTION_NMI &&
        ((G(VM_EXIT_INTR_INFO) >> 8) & 7) == EV_NMI)
        c->nmi_blocked = true; /* an exit caused by an NMI leaves NMIs blocked (28.5 "Loading Host State") */
}

void vmx_entry_failure(cpu_t *c, uint32_t reason, uint64_t qual, int check)
{
    S(VM_EXIT_REASON, reason | 1u << 31);
    S(EXIT_QUALIFICATION, qual);
    S(VM_EXIT_INTR_INFO, 0);
    S(IDT_VECTORING_INFO_FIELD, 0);
    vmx_observe_failed_entry(c, reason, qual, check);
    load_host(c);
}
