/* msr.h - model-specific registers: RDMSR/WRMSR semantics for every MSR of
 * emu/msr.def, their names, and their power-on values (emu/msr.c). */
#ifndef VMXEMU_MSR_H
#define VMXEMU_MSR_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/cpu.h"

/* MSR_<NAME> = number, for every row of emu/msr.def. */
enum {
#define MSR(num, name, gate, rd, wr, field) MSR_##name = (num),
#include "emu/msr.def"
#undef MSR
};

/* IA32_MISC_ENABLE bits with an effect (SDM Vol. 4 "Architectural MSRs"). */
#define MISC_ENABLE_FAST_STRINGS (1ull << 0)
#define MISC_ENABLE_MONITOR      (1ull << 18) /* MONITOR FSM: CPUID.1:ECX.MONITOR follows it */
#define MISC_ENABLE_LIMIT_CPUID  (1ull << 22) /* CPUID.0:EAX reports at most 2 */
#define MISC_ENABLE_XD_DISABLE   (1ull << 34) /* CPUID.80000001H:EDX.NX reads 0, EFER.NXE reserved */

/* The SDM's name of MSR number n ("IA32_EFER"), or NULL if the emulator does not know it. */
const char *msr_name(uint32_t n);

/* RDMSR/WRMSR of MSR n as vCPU c at CPL 0: false means #GP(0) (unknown MSR,
 * reserved bits, non-canonical address, invalid memory type, ...). */
bool msr_read(cpu_t *c, uint32_t n, uint64_t *val);
bool msr_write(cpu_t *c, uint32_t n, uint64_t val);

/* Power-on values of the model-dependent MSRs (call after cpu_reset()). */
void msr_reset(cpu_t *c);

#endif
