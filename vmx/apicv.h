/* apicv.h - APIC virtualization in VMX non-root operation (vmx/apicv.c; SDM Vol. 3C
 * chapter 30 "APIC Virtualization and Virtual Interrupts"): what the intercepts,
 * VM entry and the instruction boundary call. Every function here is called only
 * when the control it serves is 1, so ordinary non-root code pays nothing. */
#ifndef VMXEMU_VMX_APICV_H
#define VMXEMU_VMX_APICV_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/cpu.h"
#include "emu/exec.h"

/* MOV to CR8 with "use TPR shadow" (30.3): VTPR = src[3:0] << 4, then TPR
 * virtualization, which may end the instruction with a trap-like VM exit. */
void vmx_apicv_mov_to_cr8(cpu_t *c, uint64_t src);
/* MOV from CR8 with "use TPR shadow" (30.3): VTPR[7:4]. */
uint64_t vmx_apicv_mov_from_cr8(cpu_t *c);

/* RDMSR/WRMSR of ECX = msr in 800H-8FFH with "virtualize x2APIC mode" (30.5), after
 * the MSR bitmap let it through: true when the access was virtualized (done, or a
 * #GP/VM exit raised), false when it goes to the local APIC as usual. */
bool vmx_apicv_msr(cpu_t *c, uint32_t msr, bool write);

/* VM entry (27.3.2.5 "Updating Non-Register State"): with "virtual-interrupt
 * delivery", PPR virtualization and evaluation of pending virtual interrupts from
 * the guest interrupt status; call before event injection. */
void vmx_apicv_entry(cpu_t *c);
/* After event injection (27.7.7 "VM Exits Induced by the TPR Threshold"): the
 * TPR-below-threshold VM exit of an entry whose VTPR is below the threshold. */
void vmx_apicv_entry_tpr(cpu_t *c);

/* At the boundary after an instruction that wrote the APIC-access page: the
 * APIC-write emulation it left pending (30.4.3.3), first of all boundary events
 * as it completes that instruction; true if it caused a VM exit. */
bool vmx_apicv_complete(cpu_t *c);
/* At an instruction boundary: deliver a recognized virtual interrupt when
 * RFLAGS.IF = 1 and nothing blocks it (30.2.2 "Virtual-Interrupt Delivery"). */
void vmx_apicv_boundary(cpu_t *c);
/* Whether a virtual interrupt is recognized (an open interrupt window delivers it). */
bool vmx_apicv_pending(cpu_t *c);

/* virt_ops.apic_access: an access of size bytes at offset off of the APIC-access
 * page with "virtualize APIC accesses" (30.4): the virtual-APIC page address to
 * access instead (a write is emulated at the next instruction boundary), or an
 * APIC-access VM exit (does not return). */
uint64_t vmx_apicv_access(cpu_t *c, unsigned off, int size, enum mmu_access acc);

/* An external interrupt with vector vec was acknowledged in non-root operation:
 * true when it was the posted-interrupt notification vector and "process posted
 * interrupts" is 1, so it was processed (30.6) instead of causing a VM exit. */
bool vmx_apicv_posted(cpu_t *c, int vec);

#endif
