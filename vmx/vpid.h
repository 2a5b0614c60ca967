/* vpid.h - the TLB side of VMX transitions and INVVPID (vmx/vpid.c). */
#ifndef VMXEMU_VMX_VPID_H
#define VMXEMU_VMX_VPID_H

#include "emu/cpu.h"

/* After a VM entry loaded the guest's control registers: invalidate as the
 * entry must, then run in the guest's TLB context. */
void vmx_tlb_entry(cpu_t *c);
/* After a VM exit (or a failed VM entry) loaded the host's: the same, back
 * to root operation's context. */
void vmx_tlb_exit(cpu_t *c);

#endif
