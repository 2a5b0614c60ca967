/* fault.h - raising exceptions from inside an instruction, and delivering events.
 *
 * A handler that faults calls one of the cpu_fault*() functions; they never
 * return: they record the exception and longjmp to the run loop, which restores
 * RIP to the faulting instruction and delivers the event through the IDT with
 * the SDM's #DF and triple-fault rules (emu/except.c).
 */
#ifndef VMXEMU_FAULT_H
#define VMXEMU_FAULT_H

#include <stdint.h>

#include "emu/cpu.h"

/* Kinds of event, numbered as the VMX interruption-information type field
 * (SDM Vol. 3C "VM-Entry Controls for Event Injection"). */
enum event_type {
    EV_EXTINT = 0,   /* external interrupt */
    EV_NMI = 2,
    EV_HWEXC = 3,    /* hardware exception */
    EV_SWINT = 4,    /* INT n */
    EV_PRIVSW = 5,   /* INT1 (F1) */
    EV_SWEXC = 6,    /* INT3, INTO */
    /* not SDM types: signals offered to virt_ops.event in VMX non-root operation */
    EV_TRIPLE = 8,   /* a triple fault */
    EV_SIPI = 9,     /* a start-up IPI (the vector is its vector) */
};

/* Fault with no error code (#DE, #UD, #NM, ...). */
_Noreturn void cpu_fault(cpu_t *c, int vec);
/* Fault with an error code (#TS, #NP, #SS, #GP, #AC, #DF). */
_Noreturn void cpu_fault_err(cpu_t *c, int vec, uint32_t err);
/* Page fault: sets CR2 to la. */
_Noreturn void cpu_fault_pf(cpu_t *c, uint64_t la, uint32_t err);
/* Trap-like event raised by an instruction after it completed (INT n, INT3,
 * INTO, INT1): RIP already points past it. */
_Noreturn void cpu_raise_soft(cpu_t *c, enum event_type type, int vec);

/* Deliver an event now through the IDT (used by the run loop for faults and
 * external interrupts, and later by VM entry's event injection). For software
 * events, RIP is the return address. Escalates to #DF and shutdown as the SDM
 * says; may longjmp again if delivery itself faults. */
void cpu_deliver(cpu_t *c, enum event_type type, int vec, int has_err, uint32_t err);

/* Deliver the event a cpu_fault*() recorded (the run loop calls this after the
 * longjmp): faults restart at insn_rip, traps and software events continue at rip. */
void cpu_deliver_pending(cpu_t *c);

/* Triple fault: the CPU enters shutdown. */
void cpu_triple_fault(cpu_t *c);

#endif
