/* vpid.c - what VMX transitions do to the TLB (SDM Vol. 3C "VMX Support for
 * Address Translation": "Virtual-Processor Identifiers (VPIDs)" and
 * "Invalidating Cached Translation Information"; "Updating Non-Register State"
 * in the VM-entry and VM-exit chapters).
 *
 * Non-root operation runs in the TLB context of (VPID, EPT root), root
 * operation in that of VPID 0 without EPT (emu/tlb.h). With "enable VPID" 0
 * the guest's VPID is 0 too, and every VM entry and VM exit invalidates the
 * linear and combined mappings of VPID 0 (every EPT root); with it 1, neither
 * does, so both sides' translations survive until an INVVPID, INVEPT or an
 * invalidation by the guest. The --tlb=permissive option (docs/vmx-tlb.md)
 * empties every context at every transition instead.
 */
#include "emu/machine.h"
#include "emu/tlb.h"
#include "vmx/vmx.h"
#include "vmx/vpid.h"

#define G(name) vmcs_get(c, VMCS_##name)

static uint32_t proc2(cpu_t *c)
{
    if (!(G(CPU_BASED_VM_EXEC_CONTROL) & VMX_CTL(PROC, SECONDARY_CONTROLS)))
        return 0;
    return (uint32_t)G(SECONDARY_VM_EXEC_CONTROL);
}

/* The invalidations every VM entry and VM exit makes under the current VMCS's controls. */
static void transition_invalidate(cpu_t *c)
{
    if (c->m->tlb_permissive)
        tlb_inv_everything(c);
    else if (!(proc2(c) & VMX_CTL(PROC2, ENABLE_VPID)))
        tlb_inv_vpid(c, 0, false);
}

void vmx_tlb_entry(cpu_t *c)
{
    uint32_t p2 = proc2(c);
    transition_invalidate(c);
    tlb_switch(c, (p2 & VMX_CTL(PROC2, ENABLE_VPID)) ? (uint16_t)G(VIRTUAL_PROCESSOR_ID) : 0,
               (p2 & VMX_CTL(PROC2, ENABLE_EPT)) ? G(EPT_POINTER) : TLB_NO_EPT);
}

void vmx_tlb_exit(cpu_t *c)
{
    transition_invalidate(c);
    tlb_switch(c, 0, TLB_NO_EPT);
}
