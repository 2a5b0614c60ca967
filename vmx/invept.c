/* invept.c - INVEPT (SDM Vol. 3C "VMX Instruction Reference": "INVEPT-
 * Invalidate Translations Derived from EPT"): the #UD conditions (with those of
 * every VMX instruction, the model not supporting EPT or INVEPT), #GP(0) at
 * CPL > 0, VMfail "invalid operand to INVEPT/INVVPID" for a type the model
 * does not report or, for single-context, an EPTP VM entry would refuse; then
 * the invalidation. In non-root operation INVEPT exits (vmx/exit_class.def)
 * after the #UD checks. */
#include <string.h>

#include "emu/cpumodel.h"
#include "emu/fault.h"
#include "emu/machine.h"
#include "emu/mmu.h"
#include "emu/tlb.h"
#include "vmx/entry_checks.h"
#include "vmx/ept.h"
#include "vmx/vmx.h"

void vmx_invept_check_ud(cpu_t *c)
{
    vmx_check_ud(c);
    uint32_t a0, a1;
    const struct vmx_model *vm = vmx_model_of(c);
    vmx_allowed(vm, VMX_PROC2, &a0, &a1);
    /* EPT support is IA32_VMX_PROCBASED_CTLS2[33] (the allowed 1-setting of "enable EPT") */
    if (!(a1 & VMX_CTL(PROC2, ENABLE_EPT)) || !(vm->ept_vpid_cap & EPTCAP_INVEPT))
        cpu_fault(c, EXC_UD);
}

void op_invept(cpu_t *c, const dinsn_t *d)
{
    vmx_invept_check_ud(c);
    if (c->cpl)
        cpu_fault_err(c, EXC_GP, 0);
    const struct vmx_model *vm = vmx_model_of(c);
    /* the register operand has 64 bits in 64-bit mode, 32 elsewhere */
    uint64_t type = c->gpr[d->i.reg & 15];
    if (c->mode != MODE_LONG64)
        type = (uint32_t)type;
    if (!(type == 1 && (vm->ept_vpid_cap & EPTCAP_INVEPT_SINGLE)) &&
        !(type == 2 && (vm->ept_vpid_cap & EPTCAP_INVEPT_ALL))) {
        vmx_fail(c, "INVEPT", VMERR_INVALID_INVEPT_INVVPID);
        return;
    }
    uint8_t desc[16];
    lin_read_bytes(c, insn_lin(c, &d->i, 16, ACC_READ), desc, 16);
    uint64_t eptp;
    memcpy(&eptp, desc, 8);
    if (type == 1 && vmx_check_eptp(vm, c->model->maxphyaddr, eptp) != CHK_PASS) {
        vmx_fail(c, "INVEPT", VMERR_INVALID_INVEPT_INVVPID);
        return;
    }
    /* single-context: that root's guest-physical mappings and its combined
     * mappings, for every VPID and PCID; all-context: those of every root
     * (emu/tlb.h, vmx/gpa_cache.h, docs/vmx-tlb.md) */
    struct gpa_cache *gc = &vmx_state(c)->gpa;
    if (c->m->tlb_permissive) {
        tlb_inv_everything(c);
    } else if (type == 1) {
        tlb_inv_ept(c, eptp);
        gpa_cache_inv_root(gc, eptp);
    } else {
        tlb_inv_ept_all(c);
        gpa_cache_inv_all(gc);
    }
    vmx_succeed(c);
}
