/* paging.c - the page walker (SDM Vol. 3A chapter 4 "Paging"): 32-bit paging
 * (4 KiB and 4 MiB pages, PSE-36), PAE paging (PDPTE registers, 4 KiB and
 * 2 MiB pages) and 4-level paging (4 KiB, 2 MiB, 1 GiB pages), with reserved-bit
 * checks against MAXPHYADDR, access rights (U/S, R/W, WP, XD, SMEP, SMAP) and
 * the page-fault error code. Pure: all entry reads go through ctx->read.
 *
 * Accessed and dirty flags are set only for a translation that succeeds (as
 * KVM does). Hardware may also set A in the upper levels of a walk that faults
 * (SDM 4.10.3.1 "Caches for Paging Structures" lets it cache, and so mark
 * accessed, entries no translation used yet); guests cannot rely on either.
 */
#include "emu/paging.h"

#include "emu/cpumodel.h"
#include "emu/machine.h"
#include "emu/virt.h"

#define PTE_P    (1ull << 0)
#define PTE_RW   (1ull << 1)
#define PTE_US   (1ull << 2)
#define PTE_A    (1ull << 5)
#define PTE_D    (1ull << 6)
#define PTE_PS   (1ull << 7)
#define PTE_G    (1ull << 8)
#define PTE_XD   (1ull << 63)

/* Bits lo..hi inclusive. */
static inline uint64_t bits(int hi, int lo)
{
    return (~0ull >> (63 - hi)) & ~((1ull << lo) - 1);
}

enum pg_mode pg_mode(const pg_ctx_t *ctx)
{
    if (!(ctx->cr0 & CR0_PG))
        return PG_OFF;
    if (!(ctx->cr4 & CR4_PAE))
        return PG_32;
    return (ctx->efer & EFER_LMA) ? PG_4LEVEL : PG_PAE;
}

/* The part of the error code that depends only on the access (SDM 4.7 "Page-Fault Exceptions"):
 * W/R, U/S, and I/D when SMEP is on or PAE-type paging runs with EFER.NXE = 1. */
static uint32_t access_err(const pg_ctx_t *ctx, enum mmu_access acc, unsigned flags)
{
    uint32_t err = 0;
    if (acc == ACC_WRITE)
        err |= PF_W;
    if (flags & PGA_USER)
        err |= PF_U;
    if (acc == ACC_EXEC &&
        ((ctx->cr4 & CR4_SMEP) || ((ctx->cr4 & CR4_PAE) && (ctx->efer & EFER_NXE))))
        err |= PF_I;
    return err;
}

uint32_t pg_check(const pg_ctx_t *ctx, const pg_walk_t *w, enum mmu_access acc, unsigned flags)
{
    /* SDM 4.6.1 "Determination of Access Rights" */
    bool ok;
    if (acc == ACC_EXEC) {
        if (w->nx)
            ok = false;
        else if (flags & PGA_USER)
            ok = w->user;
        else
            ok = !(w->user && (ctx->cr4 & CR4_SMEP));
    } else if (flags & PGA_USER) {
        ok = w->user && (acc == ACC_READ || w->writable);
    } else {
        /* SMAP: no data access to user-mode addresses by implicit accesses, nor by
         * explicit ones with EFLAGS.AC = 0 */
        if (w->user && (ctx->cr4 & CR4_SMAP) && ((flags & PGA_IMPLICIT) || !(flags & PGA_AC)))
            ok = false;
        else
            ok = acc == ACC_READ || w->writable || !(ctx->cr0 & CR0_WP);
    }
    return ok ? 0 : PF_P | access_err(ctx, acc, flags);
}

/* Record one entry of the walk and fold its rights in. */
static void use_entry(pg_walk_t *w, uint64_t pa, uint64_t e, bool rights, bool nxe)
{
    w->ent_pa[w->nent++] = pa;
    if (rights) {
        w->user &= (e & PTE_US) != 0;
        w->writable &= (e & PTE_RW) != 0;
    }
    if (nxe && (e & PTE_XD))
        w->nx = true;
}

static bool fail(const pg_ctx_t *ctx, pg_walk_t *w, uint32_t why, enum mmu_access acc, unsigned flags)
{
    w->fault = true;
    w->err = why | access_err(ctx, acc, flags);
    return false;
}

/* Finish a walk at a leaf: physical address, page size, G and D. */
static bool leaf(const pg_ctx_t *ctx, pg_walk_t *w, uint64_t la, uint64_t frame, int shift, uint64_t e,
                 enum mmu_access acc, unsigned flags)
{
    w->pa = frame | (la & ((1ull << shift) - 1));
    w->page_shift = (uint8_t)shift;
    w->global = (e & PTE_G) && (ctx->cr4 & CR4_PGE);
    w->dirty = (e & PTE_D) != 0;
    /* PAT is bit 7 of a 4-KByte PTE, bit 12 of an entry that maps a larger page */
    bool pat = shift == 12 ? (e & PTE_PS) != 0 : (e >> 12) & 1;
    w->pat = (uint8_t)((pat ? 4 : 0) | ((e >> 3) & 3));
    uint32_t err = pg_check(ctx, w, acc, flags);
    if (err)
        return fail(ctx, w, PF_P, acc, flags);
    return true;
}

static bool walk_32(const pg_ctx_t *ctx, uint64_t la, enum mmu_access acc, unsigned flags, pg_walk_t *w)
{
    w->ent_size = 4;
    uint64_t pde_pa = (ctx->cr3 & 0xfffff000u) | ((la >> 20) & 0xffc);
    uint64_t pde = ctx->read(ctx, pde_pa, 4);
    if (!(pde & PTE_P))
        return fail(ctx, w, 0, acc, flags);
    use_entry(w, pde_pa, pde, true, false);
    if ((pde & PTE_PS) && (ctx->cr4 & CR4_PSE)) {
        /* 4 MiB page; with PSE-36, PDE bits (M-20):13 hold physical address bits (M-1):32 (M <= 40) */
        int m = ctx->pse36 ? (ctx->maxphyaddr < 40 ? ctx->maxphyaddr : 40) : 32;
        if (pde & bits(21, 13 + (m - 32)))
            return fail(ctx, w, PF_P | PF_RSVD, acc, flags);
        uint64_t frame = (pde & 0xffc00000u) | ((pde >> 13) & ((1ull << (m - 32)) - 1)) << 32;
        return leaf(ctx, w, la, frame, 22, pde, acc, flags);
    }
    uint64_t pte_pa = (pde & 0xfffff000u) | ((la >> 10) & 0xffc);
    uint64_t pte = ctx->read(ctx, pte_pa, 4);
    if (!(pte & PTE_P))
        return fail(ctx, w, 0, acc, flags);
    use_entry(w, pte_pa, pte, true, false);
    return leaf(ctx, w, la, pte & 0xfffff000u, 12, pte, acc, flags);
}

/* PAE and 4-level paging share the lower levels. */
static bool walk_64(const pg_ctx_t *ctx, uint64_t la, enum mmu_access acc, unsigned flags, pg_walk_t *w,
                    bool four_level)
{
    bool nxe = (ctx->efer & EFER_NXE) != 0;
    uint64_t addr = bits(ctx->maxphyaddr - 1, 12);
    /* reserved above the address: 51:M (4-level, 62:52 ignored) or 62:M (PAE); XD when NXE = 0 */
    uint64_t rsv = four_level ? bits(51, ctx->maxphyaddr) : bits(62, ctx->maxphyaddr);
    if (!nxe)
        rsv |= PTE_XD;
    w->ent_size = 8;

    uint64_t table, e;
    int level; /* 3: PDPT, 2: PD, 1: PT (the level of the entry about to be read) */
    if (four_level) {
        uint64_t pa = (ctx->cr3 & addr) | ((la >> 36) & 0xff8);
        e = ctx->read(ctx, pa, 8);
        if (!(e & PTE_P))
            return fail(ctx, w, 0, acc, flags);
        if (e & (rsv | PTE_PS)) /* PS is reserved in a PML4E */
            return fail(ctx, w, PF_P | PF_RSVD, acc, flags);
        use_entry(w, pa, e, true, nxe);
        table = e & addr;
        level = 3;
    } else {
        /* the PDPTE registers: rights are not controlled there, reserved bits were checked at load */
        e = ctx->pdpte[(la >> 30) & 3];
        if (!(e & PTE_P))
            return fail(ctx, w, 0, acc, flags);
        table = e & addr;
        level = 2;
    }
    for (;; level--) {
        int shift = 12 + 9 * (level - 1);
        uint64_t pa = table | ((la >> (shift - 3)) & 0xff8);
        e = ctx->read(ctx, pa, 8);
        if (!(e & PTE_P))
            return fail(ctx, w, 0, acc, flags);
        if (e & rsv)
            return fail(ctx, w, PF_P | PF_RSVD, acc, flags);
        bool large = level > 1 && (e & PTE_PS);
        if (large && level == 3 && !ctx->page1gb) /* PS in a PDPTE without 1-GByte page support */
            return fail(ctx, w, PF_P | PF_RSVD, acc, flags);
        if (large && (e & bits(shift - 1, 13))) /* between PAT (bit 12) and the frame */
            return fail(ctx, w, PF_P | PF_RSVD, acc, flags);
        use_entry(w, pa, e, true, nxe);
        if (level == 1 || large)
            return leaf(ctx, w, la, e & addr & ~((1ull << shift) - 1), shift, e, acc, flags);
        table = e & addr;
    }
}

bool pg_walk(const pg_ctx_t *ctx, uint64_t la, enum mmu_access acc, unsigned flags, pg_walk_t *w)
{
    w->fault = false;
    w->err = 0;
    w->user = w->writable = true;
    w->nx = w->global = false;
    w->dirty = true;
    w->pat = 0;
    w->nent = 0;
    switch (pg_mode(ctx)) {
    case PG_OFF:
        w->pa = la;
        w->page_shift = 12;
        return true;
    case PG_32:
        return walk_32(ctx, (uint32_t)la, acc, flags, w);
    case PG_PAE:
        return walk_64(ctx, (uint32_t)la, acc, flags, w, false);
    default:
        return walk_64(ctx, la, acc, flags, w, true);
    }
}

void pg_update_ad(const pg_ctx_t *ctx, pg_walk_t *w, bool write)
{
    for (int k = 0; k < w->nent; k++) {
        uint64_t set = PTE_A | (write && k == w->nent - 1 ? PTE_D : 0);
        uint64_t e = ctx->read(ctx, w->ent_pa[k], w->ent_size);
        if ((e & set) != set)
            ctx->write(ctx, w->ent_pa[k], w->ent_size, e | set);
    }
    if (write)
        w->dirty = true;
}

bool pg_read_pdptes(const pg_ctx_t *ctx, uint64_t cr3, uint64_t out[4])
{
    /* SDM 4.4.1 "PDPTE Registers": reserved are bits 2:1, 8:5 and 63:MAXPHYADDR */
    uint64_t rsv = bits(2, 1) | bits(8, 5) | bits(63, ctx->maxphyaddr);
    uint64_t v[4];
    for (int k = 0; k < 4; k++) {
        v[k] = ctx->read(ctx, (cr3 & 0xffffffe0u) + 8 * k, 8);
        if ((v[k] & PTE_P) && (v[k] & rsv))
            return false;
    }
    for (int k = 0; k < 4; k++)
        out[k] = v[k];
    return true;
}

static uint64_t phys_entry_read(const pg_ctx_t *ctx, uint64_t pa, int size)
{
    return phys_read(ctx->opaque, pa, size);
}

static void phys_entry_write(const pg_ctx_t *ctx, uint64_t pa, int size, uint64_t val)
{
    phys_write(ctx->opaque, pa, size, val); /* also invalidates decoded code on the page */
}

/* Guest-physical entry access through EPT (cpu_t.ept): false when EPT does not
 * allow it and the context is pure (a context that exits does not return). */
static bool gpa_entry(const pg_ctx_t *ctx, uint64_t gpa, enum gpa_kind kind, uint64_t *hpa)
{
    /* the memory type of paging-structure accesses is the EPT type (PAT type WB): nothing depends on it */
    struct gpa_access a = { .gpa = gpa, .la = ctx->la, .kind = kind, .probe = !ctx->exits, .pat_type = 6 };
    struct gpa_result r;
    if (!ctx->cpu->m->virt->gpa(ctx->cpu, &a, &r))
        return false;
    *hpa = r.hpa;
    return true;
}

static uint64_t gpa_entry_read(const pg_ctx_t *ctx, uint64_t gpa, int size)
{
    uint64_t hpa;
    if (!gpa_entry(ctx, gpa, ctx->pdpte_load ? GPA_PDPTE : GPA_PT_READ, &hpa))
        return 0; /* a pure walk sees an entry EPT does not map as not present */
    return phys_read(ctx->cpu->m, hpa, size);
}

static void gpa_entry_write(const pg_ctx_t *ctx, uint64_t gpa, int size, uint64_t val)
{
    uint64_t hpa;
    if (gpa_entry(ctx, gpa, GPA_PT_WRITE, &hpa))
        phys_write(ctx->cpu->m, hpa, size, val);
}

void pg_ctx_cpu(pg_ctx_t *ctx, cpu_t *c)
{
    ctx->cr0 = c->cr0;
    ctx->cr3 = c->cr3;
    ctx->cr4 = c->cr4;
    ctx->efer = c->efer;
    ctx->pdpte = c->pdpte;
    ctx->maxphyaddr = c->model->maxphyaddr;
    ctx->page1gb = cpu_has(c, FEAT_PAGE1GB);
    ctx->pse36 = cpu_has(c, FEAT_PSE36);
    ctx->cpu = c;
    ctx->la = 0;
    ctx->exits = ctx->pdpte_load = false;
    if (unlikely(c->ept)) {
        ctx->read = gpa_entry_read;
        ctx->write = gpa_entry_write;
    } else {
        ctx->read = phys_entry_read;
        ctx->write = phys_entry_write;
    }
    ctx->opaque = c->m;
}

void pg_ctx_access(pg_ctx_t *ctx, cpu_t *c, uint64_t la)
{
    pg_ctx_cpu(ctx, c);
    ctx->la = la;
    ctx->exits = true;
}

bool cpu_load_pdptes(cpu_t *c, uint64_t cr0, uint64_t cr3, uint64_t cr4)
{
    /* with EFER.LME = 1, CR0.PG = 1 means 4-level paging: no PDPTE registers */
    if (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE) || (c->efer & EFER_LME))
        return true;
    pg_ctx_t ctx;
    pg_ctx_access(&ctx, c, 0);
    ctx.pdpte_load = true; /* with EPT: guest-physical reads that are not part of a walk */
    return pg_read_pdptes(&ctx, cr3, c->pdpte);
}
