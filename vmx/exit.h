/* exit.h - what VM entry and the intercepts share with vmx/exit.c: the VM-entry
 * failure path (SDM Vol. 3C 27.8 "VM-Entry Failures During or After Loading
 * Guest State"), the MSR lists, and the trace of exits. */
#ifndef VMXEMU_VMX_EXIT_H
#define VMXEMU_VMX_EXIT_H

#include <stdint.h>

#include "emu/cpu.h"

/* A VM entry failed after its host-state checks passed: record basic reason
 * 33 or 34 with bit 31 set and the qualification, then load the host state and
 * the VM-exit MSR-load list as a VM exit does; no guest state is saved. `check`
 * is the failed row of vmx/entry_checks.def (for the trace). */
void vmx_entry_failure(cpu_t *c, uint32_t reason, uint64_t qual, int check);

/* Load count entries of the MSR list at physical address addr (SDM 27.4
 * "Loading MSRs", 28.6 "Loading Host MSRs"): 0 when all loaded, else the
 * 1-based index of the entry that failed; *check the row that failed. */
uint32_t vmx_msr_load_list(cpu_t *c, uint64_t addr, uint64_t count, int *check);

/* Record the instruction length and instruction information of an exit. */
void vmx_exit_insn(cpu_t *c, uint32_t len, uint32_t info);

#endif
