/* paging.h - the page walker: linear to physical translation for every paging
 * mode (none, 32-bit, PAE, 4-level) with the SDM's access rights and #PF
 * error codes (SDM Vol. 3A chapter "Paging").
 *
 * The walker is pure: it reads paging-structure entries through the context's
 * one accessor (a physical address in, an entry out), so a nested walk (EPT)
 * can substitute its own. A/D updates are a separate step (pg_update_ad), done
 * only for translations that succeed. The TLB (emu/mmu.c) sits on top.
 *
 * In VMX non-root operation with EPT (cpu_t.ept) the addresses in the guest's
 * paging structures and CR3 are guest-physical: the accessors of pg_ctx_cpu()
 * translate them through virt_ops.gpa (emu/virt.h), purely (an EPT failure
 * reads as a not-present entry), and those of pg_ctx_access() as the CPU's own
 * accesses do (an EPT violation or misconfiguration is a VM exit).
 */
#ifndef VMXEMU_PAGING_H
#define VMXEMU_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/cpu.h"
#include "emu/mmu.h"

typedef struct pg_ctx pg_ctx_t;
/* Read or write one paging-structure entry of size bytes (4 or 8) at physical address pa. */
typedef uint64_t (*pg_read_fn)(const pg_ctx_t *ctx, uint64_t pa, int size);
typedef void (*pg_write_fn)(const pg_ctx_t *ctx, uint64_t pa, int size, uint64_t val);

/* Everything a walk depends on. */
struct pg_ctx {
    uint64_t cr0, cr3, cr4, efer;
    const uint64_t *pdpte;  /* PAE paging: the four PDPTE registers */
    uint8_t maxphyaddr;
    bool page1gb;           /* 1-GByte pages supported (CPUID.80000001H:EDX[26]) */
    bool pse36;             /* PSE-36 supported (CPUID.01H:EDX[17]) */
    pg_read_fn read;
    pg_write_fn write;
    void *opaque;           /* the accessor's state (machine_t * for pg_ctx_cpu) */
    /* guest-physical accessors (cpu_t.ept): the vCPU, the linear address the walk
     * translates (EPT-violation information), whether a failure exits, and
     * whether reads are PDPTE loads by MOV to CR */
    cpu_t *cpu;
    uint64_t la;
    bool exits, pdpte_load;
};

/* Who makes the access (flags of pg_walk). */
enum {
    PGA_USER = 1,     /* user-mode access: CPL 3 and not an implicit supervisor access */
    PGA_IMPLICIT = 2, /* implicit supervisor-mode access (descriptor tables, TSS, ...) */
    PGA_AC = 4,       /* EFLAGS.AC was 1 (SMAP lets explicit supervisor accesses through) */
};

enum pg_mode { PG_OFF, PG_32, PG_PAE, PG_4LEVEL };

typedef struct pg_walk {
    uint64_t pa;          /* physical address of the linear address */
    uint8_t page_shift;   /* log2 of the page size: 12, 21, 22 or 30 */
    bool fault;
    uint32_t err;         /* #PF error code when fault */
    /* access rights of the translation (SDM "Access Rights") */
    bool user;            /* U/S = 1 in every entry: a user-mode address */
    bool writable;        /* R/W = 1 in every entry */
    bool nx;              /* XD = 1 in some entry (EFER.NXE = 1) */
    bool global;          /* G = 1 in the leaf and CR4.PGE = 1 */
    bool dirty;           /* D = 1 in the leaf */
    uint8_t pat;          /* the leaf's PAT index: PAT*4 + PCD*2 + PWT (0 without paging) */
    int nent;             /* paging-structure entries used, root first */
    uint8_t ent_size;     /* 4 (32-bit paging) or 8 */
    uint64_t ent_pa[4];
} pg_walk_t;

enum pg_mode pg_mode(const pg_ctx_t *ctx);

/* Walk for an access of kind acc by flags (PGA_*). Returns true and fills *w on
 * success; false with w->fault and w->err set on a page fault. No side effects. */
bool pg_walk(const pg_ctx_t *ctx, uint64_t la, enum mmu_access acc, unsigned flags, pg_walk_t *w);

/* 0 if the rights of a completed walk allow the access, else the #PF error code. */
uint32_t pg_check(const pg_ctx_t *ctx, const pg_walk_t *w, enum mmu_access acc, unsigned flags);

/* Set the accessed flags of the walk's entries, and the leaf's dirty flag for a write. */
void pg_update_ad(const pg_ctx_t *ctx, pg_walk_t *w, bool write);

/* Read the four PDPTEs at CR3 (PAE paging). False if a present one has a reserved bit set. */
bool pg_read_pdptes(const pg_ctx_t *ctx, uint64_t cr3, uint64_t out[4]);

/* A context for vCPU c's current paging state, reading entries from guest
 * physical memory without side effects (the monitor's walks, VM-entry checks). */
void pg_ctx_cpu(pg_ctx_t *ctx, cpu_t *c);
/* The context of the CPU's own walk for linear address la: with EPT, an access
 * to a guest paging-structure entry that EPT does not allow is a VM exit. */
void pg_ctx_access(pg_ctx_t *ctx, cpu_t *c, uint64_t la);

/* Load c->pdpte[] from the table at cr3 if PAE paging would be in use with these
 * control registers (CR0.PG, CR4.PAE, !EFER.LME).
 * False (nothing loaded) if a present PDPTE has reserved bits: the caller raises #GP(0). */
bool cpu_load_pdptes(cpu_t *c, uint64_t cr0, uint64_t cr3, uint64_t cr4);

/* MOV to CR0/CR3/CR4 with every check and side effect (EFER.LMA, PDPTE loads,
 * TLB flushes, mode update) except privilege; false means #GP(0), nothing changed. */
bool cpu_write_cr0(cpu_t *c, uint64_t v);
bool cpu_write_cr3(cpu_t *c, uint64_t v);
bool cpu_write_cr4(cpu_t *c, uint64_t v);

/* Translate la for an access of kind acc by the current CPL (through the TLB,
 * raising #PF on failure) without accessing the data: CLFLUSH, INVLPG-free probes. */
uint64_t mmu_translate(cpu_t *c, uint64_t la, enum mmu_access acc);

/* INVPCID individual-address: drop the non-global translations of la for PCID pcid. */
void tlb_flush_page_pcid(cpu_t *c, uint64_t la, uint16_t pcid);

/* After a MOV to CR3: drop the TLB entries a load of PCID pcid must not see
 * (non-global ones; with keep_pcid, those of other PCIDs only). */
void tlb_flush_cr3(cpu_t *c, uint16_t pcid, bool keep_pcid);

#endif
