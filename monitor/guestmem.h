/* guestmem.h - guest memory as the monitor and the gdbstub see it: linear
 * addresses translated by a pure page walk (mmu_probe: no A/D updates, no
 * faults, no TLB fills) and only RAM touched, so looking at the guest never
 * changes it and never reaches a device register with side effects. */
#ifndef VMXEMU_MON_GUESTMEM_H
#define VMXEMU_MON_GUESTMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu/machine.h"
#include "vmx/ept.h"

/* Linear to physical for vCPU c (supervisor access of kind acc); false with
 * the #PF error code in *err (may be NULL) if the address is not mapped. */
bool gm_translate(cpu_t *c, uint64_t la, int acc, uint64_t *pa, uint32_t *err);

/* Copy up to n bytes; returns how many were read before the first byte that
 * is not RAM (physical) or not mapped (linear). */
size_t gm_read_phys(machine_t *m, uint64_t pa, void *buf, size_t n);
size_t gm_read_lin(cpu_t *c, uint64_t la, void *buf, size_t n);

/* An EPT entry for vmx/ept.h's walk (opaque: the machine_t): 0 (not present)
 * outside RAM, so a walk never reads a device register. */
uint64_t gm_ept_read(void *opaque, uint64_t pa);
/* Guest-physical to physical for the current VMCS of vCPU c: through EPT
 * when that VMCS enables it (vmx/ept.h's pure walk, entries read from RAM
 * only), else the same address. False with the walk that failed in *w. */
bool gm_translate_gpa(cpu_t *c, uint64_t gpa, uint64_t *pa, struct ept_walk *w);
/* Copy up to n bytes from guest-physical gpa; how many were read before the
 * first that does not translate or is not RAM. */
size_t gm_read_gpa(cpu_t *c, uint64_t gpa, void *buf, size_t n);

/* Write n bytes (all or nothing), dropping decoded code the bytes overlap. */
bool gm_write_phys(machine_t *m, uint64_t pa, const void *buf, size_t n);
bool gm_write_lin(cpu_t *c, uint64_t la, const void *buf, size_t n);

/* The linear address of the next instruction (CS base applied outside 64-bit mode). */
uint64_t gm_pc(const cpu_t *c);

#endif
