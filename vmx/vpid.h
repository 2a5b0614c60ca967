/* vpid.h - the TLB side of VMX transitions and INVVPID (vmx/vpid.c). */
#ifndef VMXEMU_VMX_VPID_H
#define VMXEMU_VMX_VPID_H

#include "emu/cpu.h"

/* IA32_VMX_EPT_VPID_CAP bits of INVVPID (SDM Vol. 3D Appendix A.10 "VPID and EPT Capabilities"):
 * the instruction, then its types 0-3 (individual-address, single-context, all-context,
 * single-context-retaining-globals) at VPIDCAP_INDIVIDUAL << type. */
#define VPIDCAP_INVVPID (1ull << 32)
#define VPIDCAP_INDIVIDUAL (1ull << 40)

/* After a VM entry loaded the guest's control registers: invalidate as the
 * entry must, then run in the guest's TLB context. */
void vmx_tlb_entry(cpu_t *c);
/* After a VM exit (or a failed VM entry) loaded the host's: the same, back
 * to root operation's context. */
void vmx_tlb_exit(cpu_t *c);

/* INVVPID's #UD conditions (also checked before its VM exit in non-root operation). */
void vmx_invvpid_check_ud(cpu_t *c);

#endif
