/* invvpid.c - INVVPID (SDM Vol. 3C "VMX Instruction Reference": "INVVPID-
 * Invalidate Translations Based on VPID"), in its Operation section's order:
 * #UD (those of every VMX instruction, and a model without VPIDs or without
 * INVVPID), the VM exit in non-root operation (vmx/exit_class.def, after the
 * #UD checks), #GP(0) at CPL > 0; then VMfail "invalid operand to
 * INVEPT/INVVPID" for a type IA32_VMX_EPT_VPID_CAP does not report, descriptor
 * bits 63:16 set, VPID 0 with a type other than all-context, or a
 * non-canonical address for individual-address; then the invalidation
 * (emu/tlb.c), for every EPT root and PCID. */
#include <string.h>

#include "emu/cpumodel.h"
#include "emu/exec.h"
#include "emu/fault.h"
#include "emu/machine.h"
#include "emu/tlb.h"
#include "vmx/vmx.h"
#include "vmx/vpid.h"

void vmx_invvpid_check_ud(cpu_t *c)
{
    vmx_check_ud(c);
    uint32_t a0, a1;
    const struct vmx_model *vm = vmx_model_of(c);
    vmx_allowed(vm, VMX_PROC2, &a0, &a1);
    /* VPID support is IA32_VMX_PROCBASED_CTLS2[37] (the allowed 1-setting of "enable VPID") */
    if (!(a1 & VMX_CTL(PROC2, ENABLE_VPID)) || !(vm->ept_vpid_cap & VPIDCAP_INVVPID))
        cpu_fault(c, EXC_UD);
}

/* Canonical for the widest linear address the model supports (4- or 5-level
 * paging), whatever the current paging mode: the VPID named may use either. */
static bool canonical(const cpu_t *c, uint64_t la)
{
    int bits = cpu_has(c, FEAT_LA57) ? 57 : 48;
    return (uint64_t)(((int64_t)la >> (bits - 1)) + 1) <= 1;
}

void op_invvpid(cpu_t *c, const dinsn_t *d)
{
    vmx_invvpid_check_ud(c);
    if (c->cpl)
        cpu_fault_err(c, EXC_GP, 0);
    /* the register operand has 64 bits in 64-bit mode, 32 elsewhere */
    uint64_t type = c->gpr[d->i.reg & 15];
    if (c->mode != MODE_LONG64)
        type = (uint32_t)type;
    if (type > 3 || !(vmx_model_of(c)->ept_vpid_cap & (VPIDCAP_INDIVIDUAL << type))) {
        vmx_fail(c, "INVVPID", VMERR_INVALID_INVEPT_INVVPID);
        return;
    }
    uint64_t desc[2];
    lin_read_bytes(c, insn_lin(c, &d->i, 16, ACC_READ), desc, 16);
    uint16_t vpid = (uint16_t)desc[0];
    if ((desc[0] >> 16) || (type != 2 && vpid == 0) || (type == 0 && !canonical(c, desc[1]))) {
        vmx_fail(c, "INVVPID", VMERR_INVALID_INVEPT_INVVPID);
        return;
    }
    if (c->m->tlb_permissive)
        tlb_inv_everything(c);
    else if (type == 0)
        tlb_inv_vpid_addr(c, vpid, desc[1]);
    else if (type == 2)
        tlb_inv_nonzero_vpids(c); /* VPID 0 (root operation) keeps its mappings */
    else
        tlb_inv_vpid(c, vpid, type == 3);
    vmx_succeed(c);
}
