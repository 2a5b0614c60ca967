/* tlb.h - the software TLB's storage by translation context, and every way of
 * invalidating it (SDM Vol. 3A "Caching Translation Information"; Vol. 3C
 * "VMX Support for Address Translation": "Virtual-Processor Identifiers
 * (VPIDs)" and "Caching Translation Information").
 *
 * A context holds the mappings of one (VPID, EPTRTA) pair: the linear
 * mappings of a VPID when EPT is not in use (ept = TLB_NO_EPT), or its
 * combined mappings for one EPT root (EPTP bits 51:12) when it is. VMX root
 * operation is VPID 0 without EPT. Each vCPU has a small bank of contexts;
 * cpu_t's tlb_sup/tlb_user point at the current one's arrays, so changing
 * context is a pointer swap and the inline fast path (emu/mmu.h) is the same.
 * When the bank is full the least recently used context is dropped: hardware
 * may drop translations at any time, so that is never wrong, only less stale.
 *
 * The instructions that invalidate TLBs outside VMX (MOV to CR0/CR3/CR4,
 * INVLPG, INVPCID, EFER.NXE) act on the current VPID only, and on all of its
 * EPT roots (SDM Vol. 3C "Operations that Invalidate Cached Mappings"). VM
 * entries and exits (vmx/vpid.c) switch context and, with "enable VPID" 0,
 * empty VPID 0's contexts; INVVPID and INVEPT empty contexts by VPID or root.
 */
#ifndef VMXEMU_TLB_H
#define VMXEMU_TLB_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/cpu.h"

#define TLB_CONTEXTS 8
#define TLB_LOG 512 /* fills a context remembers (tlb_note_fill) */
/* tlb_entry_t.pcid_g: bits 56-61 the page size's log2, bit 63 global */
#define TLB_PG_SHIFT(e) ((unsigned)((e)->pcid_g >> 56) & 63)
#define TLB_GLOBAL (1ull << 63)
#define TLB_NO_EPT (~0ull) /* the ept key of linear mappings (EPT not in use) */
#define TLB_EPTRTA_MASK 0x000ffffffffff000ull
/* The CR4 bits the TLB's cached access decisions depend on: changing one
 * empties the current VPID's contexts (emu/exec_cr.c). */
#define CR4_TLB_BITS (CR4_PGE | CR4_PAE | CR4_PSE | CR4_PCIDE | CR4_SMEP | CR4_SMAP | CR4_PKE | CR4_LA57)

typedef struct tlb_ctx {
    tlb_entry_t sup[TLB_SIZE], user[TLB_SIZE]; /* CPL 0-2, CPL 3 (emu/mmu.c) */
    uint64_t ept;       /* EPTRTA of combined mappings, or TLB_NO_EPT */
    uint64_t ept_attr;  /* EPTP bits 11:0 the entries were made under */
    uint64_t rights;    /* CR0/CR4/EFER bits the entries' access decisions were made under */
    uint64_t last_use;  /* bank clock at the last switch to it, for LRU replacement */
    uint16_t vpid;
    uint16_t pcid;      /* the PCID whose non-global entries it holds (one at a time, see mmu.c) */
    bool live;          /* holds a (vpid, ept) key */
    bool filled;        /* may hold valid entries: it was current since it was last emptied */
    /* The entries filled since the context was last emptied (indexes: sup 0..TLB_SIZE-1,
     * user TLB_SIZE..), so emptying it touches those only: a VM entry or exit without
     * VPID empties VPID 0's contexts, and a memset of 96 KiB each time made VM exits
     * slow. log_ok is false when the log overflowed or was never started (a new
     * context's arrays are not yet all-ones): emptying is then a memset. */
    bool log_ok;
    uint16_t nlog;
    uint16_t log[TLB_LOG];
} tlb_ctx_t;

typedef struct tlb_bank {
    tlb_ctx_t ctx[TLB_CONTEXTS];
    uint64_t clock;
} tlb_bank_t;

/* emu/mmu.c filled entry e of the current context: remember it if it was empty
 * (all-ones, which no valid entry's pcid_g is). */
static inline void tlb_note_fill(cpu_t *c, const tlb_entry_t *e)
{
    tlb_ctx_t *x = c->tlb_ctx;
    if (e->pcid_g != ~0ull || !x->log_ok)
        return;
    if (x->nlog == TLB_LOG) {
        x->log_ok = false;
        return;
    }
    x->log[x->nlog++] = (uint16_t)(e >= x->user ? TLB_SIZE + (e - x->user) : e - x->sup);
}

/* The bank of a new vCPU (machine_new); false if out of memory. */
bool tlb_bank_new(cpu_t *c);
void tlb_bank_free(cpu_t *c);
/* Power-up, reset and INIT: every context dropped; the current one is VPID 0
 * without EPT (SDM Vol. 3A Table "Processor State Following Power-up, Reset,
 * or INIT": TLBs invalid). */
void tlb_reset(cpu_t *c);

/* Make (vpid, eptp) current, eptp = the EPTP when EPT is in use, else
 * TLB_NO_EPT; called after a VM entry or exit has loaded CR0/CR3/CR4/EFER.
 * The context keeps its entries unless they were made under other access
 * rules (paging bits, EPTP attributes), and keeps only the current PCID's
 * non-global ones. */
void tlb_switch(cpu_t *c, uint16_t vpid, uint64_t eptp);
/* The current context's key. */
uint16_t tlb_cur_vpid(const cpu_t *c);
uint64_t tlb_cur_ept(const cpu_t *c);

/* INVVPID (SDM Vol. 3C "INVVPID"): individual-address (every mapping of la,
 * globals too), single-context (keep_global: single-context-retaining-globals),
 * all-context (every VPID but 0). Every EPT root and PCID. */
void tlb_inv_vpid_addr(cpu_t *c, uint16_t vpid, uint64_t la);
void tlb_inv_vpid(cpu_t *c, uint16_t vpid, bool keep_global);
void tlb_inv_nonzero_vpids(cpu_t *c);
/* INVEPT (SDM Vol. 3C "INVEPT"): the combined mappings of one EPT root
 * (eptp's bits 51:12), of every VPID; all-context: of every root. */
void tlb_inv_ept(cpu_t *c, uint64_t eptp);
void tlb_inv_ept_all(cpu_t *c);
/* Every context (--tlb=permissive). */
void tlb_inv_everything(cpu_t *c);

#endif
