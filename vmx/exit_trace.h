/* exit_trace.h - trace events of VM entries, VM exits and failed VM entries
 * (vmx/trace.h writes them): reasons by name and number, the exit
 * qualification decoded into the SDM's named fields, MSRs by name, and for a
 * failed entry the check of vmx/entry_checks.def with its SDM section. */
#ifndef VMXEMU_VMX_EXIT_TRACE_H
#define VMXEMU_VMX_EXIT_TRACE_H

#include <stdint.h>

#include "emu/cpu.h"
#include "vmx/trace.h"

/* The named fields of the qualification of an exit with basic reason `reason`
 * (the tables of 28.2.1): fn(arg, name, value) for each, in table order. The
 * trace and the monitor's `explain` and `exits` decode through this. */
void vmx_qual_fields(uint32_t reason, uint64_t qual, void (*fn)(void *arg, const char *name, uint64_t v),
                     void *arg);
/* After the exit information and the guest state are saved. */
void vmx_trace_exit(cpu_t *c, uint32_t reason, uint64_t qual);
/* A VM entry that succeeded (guest state loaded). */
void vmx_trace_entry(cpu_t *c, const char *insn);
/* A VM entry that failed: VMfailValid 7/8 (reason 0) or an exit with reason 33/34. */
void vmx_trace_entry_failure(cpu_t *c, uint32_t reason, uint64_t qual, int check);

#endif
