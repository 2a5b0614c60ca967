/* virt.h - how hardware virtualisation (vmx/) plugs into the CPU without emu/
 * depending on it: the machine holds a table of hooks that vmx/ installs.
 *
 * - Decoding: in VMX non-root operation the decoded-block cache uses its own
 *   blocks (the fetch key carries the non-root bit) and asks nonroot_handler()
 *   which handler to bind for each form; vmx/ returns a wrapper for forms that
 *   may cause a VM exit (it checks the controls at run time, then exits or runs
 *   the plain handler). Root mode and ordinary runs pay nothing.
 * - Events: cpu_deliver() offers every event to event() first while the vCPU
 *   is in non-root operation; true means it caused a VM exit instead.
 * - Boundaries: with STOP_VMX in the stop word, or once the cycle counter
 *   reaches cpu_t.virt_deadline, the run loop calls boundary() between
 *   instructions, before it looks at NMIs and interrupts (monitor trap flag,
 *   pending debug exceptions, preemption timer, NMI/interrupt windows). It
 *   returns true when it caused a VM exit or delivered an event; false leaves
 *   virt_deadline beyond the current cycle.
 * - MSRs: the VMX capability MSRs are read through rdmsr().
 * - INIT: blocked in VMX root operation (emu/ latches it in cpu_t.init_pending
 *   until VMXOFF), a VM exit in non-root operation (init_signal()).
 * - Task switches: in non-root operation emu/seg.c's task_switch() hands every
 *   one to task_switch() once the new TSS descriptor passed its checks.
 * - Guest-physical accesses: while cpu_t.ept is set (non-root operation with
 *   "enable EPT" 1) the TLB fill path and the paging-structure accessors of
 *   emu/paging.c hand every guest-physical address to gpa(), which translates
 *   it through EPT or causes the VM exit. Root mode and EPT-off pay nothing:
 *   cpu_t.ept is tested only on TLB misses.
 * - APIC accesses: in non-root operation a TLB miss whose (guest-)physical page
 *   is cpu_t.apic_access hands the access to apic_access(), which redirects it
 *   to the virtual-APIC page or causes the VM exit; the TLB keeps that page
 *   invalid so every access misses. Root mode pays one test per TLB miss.
 * - A VM exit (or VM entry) inside a handler replaces the instruction: the code
 *   switches the vCPU's state and leaves through cpu_abort_insn().
 */
#ifndef VMXEMU_VIRT_H
#define VMXEMU_VIRT_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/exec.h"

/* What a guest-physical access is (SDM Vol. 3C "EPT Violations": the exit
 * qualification describes it). */
enum gpa_kind {
    GPA_READ,        /* data read of the translation of a linear address */
    GPA_WRITE,       /* data write of the translation of a linear address */
    GPA_FETCH,       /* instruction fetch */
    GPA_PT_READ,     /* read of a guest paging-structure entry during a walk */
    GPA_PT_WRITE,    /* the walk's update of a guest accessed or dirty flag */
    GPA_PDPTE,       /* PAE PDPTE load by MOV to CR0/CR3/CR4 (no linear address) */
};

struct gpa_access {
    uint64_t gpa;
    uint64_t la;            /* the linear address being translated (not for GPA_PDPTE) */
    enum gpa_kind kind;
    bool probe;             /* translate only: no rights check, no A/D update, no VM exit */
    /* for READ/WRITE/FETCH: the guest paging's rights of la (advanced EPT-violation information) */
    bool user, writable, nx;
    uint8_t pat_type;       /* the memory type guest paging selects (WB without paging) */
};

struct gpa_result {
    uint64_t hpa;           /* the host-physical address */
    bool r, w, x;           /* what EPT allows on the page */
    bool dirty;             /* a write needs no EPT dirty-flag update (set, or A/D flags off) */
    uint8_t memtype;        /* the effective memory type (recorded; vmxemu does not model caches) */
};

typedef struct virt_ops {
    insn_fn (*nonroot_handler)(const x86_insn *i);
    bool (*event)(cpu_t *c, enum event_type type, int vec, int has_err, uint32_t err);
    bool (*boundary)(cpu_t *c);
    /* RDMSR of an MSR that belongs to VMX (the capability MSRs 0x480-0x491):
     * true with *val set, or false if the MSR does not exist (#GP). */
    bool (*rdmsr)(cpu_t *c, uint32_t msr, uint64_t *val);
    /* An INIT signal in VMX non-root operation (it causes a VM exit). */
    void (*init_signal)(cpu_t *c);
    /* A task switch in non-root operation to the TSS sel, why an enum task_reason
     * (emu/seg.h): a VM exit; does not return (cpu_abort_insn). */
    void (*task_switch)(cpu_t *c, uint16_t sel, int why);
    /* Translate a guest-physical access through EPT (only while cpu_t.ept):
     * true with *r set, setting the EPT accessed/dirty flags; on an EPT
     * violation or misconfiguration the VM exit happens and it does not return
     * (cpu_abort_insn). With a->probe: false if EPT maps nothing there (not
     * present, misconfigured), else true with *r, and no side effects. */
    bool (*gpa)(cpu_t *c, const struct gpa_access *a, struct gpa_result *r);
    /* An access of size bytes at offset off of the APIC-access page (non-root
     * operation, cpu_t.apic_access): the physical address to access instead (in
     * the virtual-APIC page), or the VM exit it causes (does not return). */
    uint64_t (*apic_access)(cpu_t *c, unsigned off, int size, enum mmu_access acc);
} virt_ops_t;

/* Leave the current handler: the instruction was replaced by a transfer that
 * already set the whole vCPU state (a VM exit, VM entry). Nothing is delivered;
 * the run loop refetches at the new RIP. */
_Noreturn void cpu_abort_insn(cpu_t *c);

#endif
