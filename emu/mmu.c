/* mmu.c - the software TLB and the slow paths of linear memory access: TLB
 * fill from the page walker (emu/paging.c), A/D updates, MMIO, stores to pages
 * holding decoded code, page-crossing accesses, implicit supervisor accesses.
 * The TLB's storage by context and its invalidations are emu/tlb.c's.
 *
 * A TLB entry caches the walk's *decision* for the privilege of its array
 * (tlb_user for CPL 3, tlb_sup otherwise): a tag without low bits means the
 * access may take the inline fast path; TLB_INVALID means "walk again" (the
 * walk then produces the exact #PF). So anything that changes how rights are
 * decided (CR0.WP, CR4.SMEP/SMAP/PGE/PAE/PSE, EFER.NXE) must flush the TLB, and
 * supervisor data accesses to user pages under SMAP are never cached, because
 * they depend on EFLAGS.AC (which changes without a flush).
 *
 * In VMX non-root operation with EPT (cpu_t.ept) a miss translates twice: the
 * guest walk (its entries guest-physical, emu/paging.c), then the final
 * guest-physical address through virt_ops.gpa (emu/virt.h). The entry caches
 * the combined translation, linear to host-physical, with the rights of both
 * (SDM Vol. 3C "Guest-Physical and Combined Mappings" in "VMX Support for
 * Address Translation"). A write to a page whose EPT dirty flag is not set yet
 * takes the slow path (TLB_SLOW_DIRTY) so it sets the flag.
 */
#include "emu/mmu.h"

#include "emu/fault.h"
#include "emu/machine.h"
#include "emu/paging.h"
#include "emu/tlb.h"
#include "emu/virt.h"

#define PAGE_MASK (~0xfffull)

/* Privilege of an explicit access by the current CPL. */
static inline unsigned cur_flags(const cpu_t *c)
{
    if (c->cpl == 3)
        return PGA_USER;
    return (c->rflags & F_AC) ? PGA_AC : 0;
}

static inline tlb_entry_t *tlb_slot(cpu_t *c, unsigned flags, uint64_t la)
{
    return &((flags & PGA_USER) ? c->tlb_user : c->tlb_sup)[(la >> 12) & (TLB_SIZE - 1)];
}

/* Linear addresses wrap at 4 GiB outside 64-bit mode. */
static inline uint64_t lin_mask(const cpu_t *c)
{
    return c->mode == MODE_LONG64 ? ~0ull : 0xffffffffull;
}

static inline bool canonical(uint64_t la)
{
    return (uint64_t)(((int64_t)la >> 47) + 1) <= 1;
}

/* Fill e for the walk w; ept is the EPT translation of w->pa (cpu_t.ept), else NULL. */
static void fill(cpu_t *c, tlb_entry_t *e, uint64_t page, const pg_ctx_t *ctx, const pg_walk_t *w,
                 unsigned flags, const struct gpa_result *ept)
{
    machine_t *m = c->m;
    uint64_t pa = (ept ? ept->hpa : w->pa) & PAGE_MASK;
    uint8_t *host = phys_ram_ptr(m, pa);
    uint64_t slow = host ? 0 : TLB_SLOW_MMIO;
    unsigned priv = flags & PGA_USER;
    /* without paging there are no access rights (and no SMEP/SMAP) */
    bool paging = (ctx->cr0 & CR0_PG) != 0;
    /* SMAP decisions depend on EFLAGS.AC: walk every time */
    bool smap = paging && !priv && w->user && (ctx->cr4 & CR4_SMAP);
    bool r_ok = !paging || !pg_check(ctx, w, ACC_READ, priv | PGA_AC);
    bool w_ok = !paging || !pg_check(ctx, w, ACC_WRITE, priv | PGA_AC);
    bool x_ok = !paging || !pg_check(ctx, w, ACC_EXEC, priv);
    bool dirty = w->dirty;
    if (ept) { /* the combined rights: both translations must allow the access */
        r_ok &= ept->r;
        w_ok &= ept->w;
        x_ok &= ept->x;
        dirty &= ept->dirty;
    }
    tlb_note_fill(c, e);
    e->tag_r = page | (smap || !r_ok ? TLB_INVALID : slow);
    e->tag_w = page | (smap || !w_ok ? TLB_INVALID
                                     : slow | (dirty ? 0 : TLB_SLOW_DIRTY) |
                                           (host && m->code_pages[pa >> 12] ? TLB_SLOW_CODE : 0));
    e->tag_x = page | (x_ok ? 0 : TLB_INVALID);
    e->addend = host ? (uintptr_t)host - (uintptr_t)page : 0;
    e->paddr = pa;
    uint64_t pcid = (ctx->cr4 & CR4_PCIDE) ? (ctx->cr3 & 0xfff) : 0;
    e->pcid_g = pcid | (uint64_t)w->page_shift << 56 | (w->global ? TLB_GLOBAL : 0);
}

/* The EPT translation of a completed guest walk for an access of kind acc (SDM
 * Vol. 3C "EPT Translation Mechanism"): after the guest's own #PF decision and
 * A/D updates, the final guest-physical address; an EPT violation exits here. */
static void ept_final(cpu_t *c, uint64_t la, const pg_walk_t *w, enum mmu_access acc, struct gpa_result *r)
{
    static const enum gpa_kind kinds[] = { [ACC_READ] = GPA_READ, [ACC_WRITE] = GPA_WRITE, [ACC_EXEC] = GPA_FETCH };
    bool paging = (c->cr0 & CR0_PG) != 0;
    struct gpa_access a = { .gpa = w->pa, .la = la, .kind = kinds[acc],
                            /* without paging every linear address is a writable, executable user address */
                            .user = !paging || w->user, .writable = !paging || w->writable, .nx = paging && w->nx,
                            .pat_type = paging ? (uint8_t)(c->msr_pat >> (8 * w->pat)) : 6 /* WB */ };
    c->m->virt->gpa(c, &a, r);
}

/* Translate la for one access of size bytes (within a page), through the TLB; #PF on failure. */
static uint64_t xlate(cpu_t *c, uint64_t la, int size, enum mmu_access acc, unsigned flags)
{
    tlb_entry_t *e = tlb_slot(c, flags, la);
    uint64_t page = la & PAGE_MASK;
    uint64_t tag = acc == ACC_READ ? e->tag_r : acc == ACC_WRITE ? e->tag_w : e->tag_x;
    /* slow-path reasons that still mean "allowed"; a write must walk to set D */
    uint64_t ok_bits = TLB_SLOW_MMIO | TLB_SLOW_CODE | (acc == ACC_WRITE ? 0 : TLB_SLOW_DIRTY);
    if ((tag & ~ok_bits) == page)
        return e->paddr | (la & 0xfff);
    pg_ctx_t ctx;
    pg_walk_t w;
    pg_ctx_access(&ctx, c, la);
    if (!pg_walk(&ctx, la, acc, flags, &w))
        cpu_fault_pf(c, la, w.err);
    pg_update_ad(&ctx, &w, acc == ACC_WRITE);
    struct gpa_result r, *ept = NULL;
    if (unlikely(c->ept)) {
        ept_final(c, la, &w, acc, &r);
        ept = &r;
    }
    /* the APIC-access page (after #PF and EPT violations, SDM Vol. 3C 30.4.1):
     * never cached, so each access asks VMX again */
    if (unlikely(c->nonroot) && (w.pa & PAGE_MASK) == c->apic_access) {
        e->tag_r = e->tag_w = e->tag_x = TLB_INVALID;
        return c->m->virt->apic_access(c, (unsigned)(w.pa & 0xfff), size, acc);
    }
    fill(c, e, page, &ctx, &w, flags, ept);
    return ept ? r.hpa : w.pa;
}

/* Bytes [pa, pa+n) within one page: RAM directly, else byte by byte over the bus. */
static void phys_bytes(machine_t *m, uint64_t pa, uint8_t *buf, int n, bool write)
{
    uint8_t *p = phys_ram_ptr(m, pa);
    if (p) {
        if (write) {
            memcpy(p, buf, n);
            if (m->code_pages[pa >> 12])
                phys_code_write(m, pa, n);
        } else {
            memcpy(buf, p, n);
        }
        return;
    }
    for (int k = 0; k < n; k++) {
        if (write)
            phys_write(m, pa + k, 1, buf[k]);
        else
            buf[k] = (uint8_t)phys_read(m, pa + k, 1);
    }
}

/* The linear address `done` bytes into an access at la: it wraps at 4 GiB
 * outside 64-bit mode, and running off the canonical range is #GP(0). */
static uint64_t lin_at(cpu_t *c, uint64_t la, int done)
{
    uint64_t a = (la + (uint64_t)done) & lin_mask(c);
    if (done && !canonical(a))
        cpu_fault_err(c, EXC_GP, 0);
    return a;
}

/* Bytes from a to the end of its page, at most left. */
static inline int page_chunk(uint64_t a, int left)
{
    int chunk = 0x1000 - (int)(a & 0xfff);
    return chunk < left ? chunk : left;
}

/* Translate (and so check) every page of a write of n bytes at la. */
static void check_write(cpu_t *c, uint64_t la, int n, unsigned flags)
{
    for (int done = 0, chunk; done < n; done += chunk) {
        uint64_t a = lin_at(c, la, done);
        chunk = page_chunk(a, n - done);
        xlate(c, a, chunk, ACC_WRITE, flags);
    }
}

/* An access of n bytes that may span pages; a write checks every page before
 * any byte moves, so a fault leaves memory untouched. */
static void access_pages(cpu_t *c, uint64_t la, uint8_t *buf, int n, enum mmu_access acc, unsigned flags)
{
    if (acc == ACC_WRITE)
        check_write(c, la, n, flags);
    for (int done = 0, chunk; done < n; done += chunk) {
        uint64_t a = lin_at(c, la, done);
        chunk = page_chunk(a, n - done);
        phys_bytes(c->m, xlate(c, a, chunk, acc, flags), buf + done, chunk, acc == ACC_WRITE);
    }
}

static uint64_t rd(cpu_t *c, uint64_t la, int size, unsigned flags)
{
    if (likely((la & 0xfff) + (unsigned)size <= 0x1000))
        return phys_read(c->m, xlate(c, la, size, ACC_READ, flags), size);
    uint64_t v = 0;
    access_pages(c, la, (uint8_t *)&v, size, ACC_READ, flags);
    return v;
}

static void wr(cpu_t *c, uint64_t la, int size, uint64_t val, unsigned flags)
{
    if (likely((la & 0xfff) + (unsigned)size <= 0x1000)) {
        uint64_t pa = xlate(c, la, size, ACC_WRITE, flags);
        phys_write(c->m, pa, size, val); /* invalidates decoded code on the page */
        /* a page that no longer holds decoded code gets its fast write tag back; an
         * MMIO write may have flushed the TLB (an INIT to this vCPU, a VM exit), so the
         * entry may not be this RAM page's any more */
        tlb_entry_t *e = tlb_slot(c, flags, la);
        if ((e->tag_w & TLB_SLOW_CODE) && phys_ram_ptr(c->m, pa) && !c->m->code_pages[pa >> 12])
            e->tag_w &= ~(uint64_t)TLB_SLOW_CODE;
        return;
    }
    access_pages(c, la, (uint8_t *)&val, size, ACC_WRITE, flags);
}

uint64_t lin_read_slow(cpu_t *c, uint64_t la, int size)
{
    return rd(c, la, size, cur_flags(c));
}

void lin_write_slow(cpu_t *c, uint64_t la, int size, uint64_t val)
{
    wr(c, la, size, val, cur_flags(c));
}

uint64_t lin_read_sys(cpu_t *c, uint64_t la, int size)
{
    return rd(c, la, size, PGA_IMPLICIT);
}

void lin_write_sys(cpu_t *c, uint64_t la, int size, uint64_t val)
{
    wr(c, la, size, val, PGA_IMPLICIT);
}

void lin_read_bytes(cpu_t *c, uint64_t la, void *dst, int n)
{
    access_pages(c, la, dst, n, ACC_READ, cur_flags(c));
}

void lin_write_bytes(cpu_t *c, uint64_t la, const void *src, int n)
{
    access_pages(c, la, (uint8_t *)src, n, ACC_WRITE, cur_flags(c));
}

void lin_probe_write(cpu_t *c, uint64_t la, int n)
{
    check_write(c, la, n, cur_flags(c));
}

uint64_t mmu_translate_fetch(cpu_t *c, uint64_t la)
{
    return xlate(c, la, 1, ACC_EXEC, c->cpl == 3 ? PGA_USER : 0);
}

uint64_t mmu_translate(cpu_t *c, uint64_t la, enum mmu_access acc)
{
    return xlate(c, la, 1, acc, acc == ACC_EXEC ? (c->cpl == 3 ? PGA_USER : 0) : cur_flags(c));
}

uint64_t mmu_probe(cpu_t *c, uint64_t la, enum mmu_access acc, int user, uint64_t *pa)
{
    pg_ctx_t ctx;
    pg_walk_t w;
    pg_ctx_cpu(&ctx, c);
    unsigned flags = user ? PGA_USER : ((c->rflags & F_AC) ? PGA_AC : 0);
    if (!pg_walk(&ctx, la, acc, flags, &w))
        return w.err | (1ull << 31);
    *pa = w.pa;
    if (c->ept) { /* the host-physical address; a page EPT does not map reads as not present */
        struct gpa_access a = { .gpa = w.pa, .la = la, .kind = GPA_READ, .probe = true };
        struct gpa_result r;
        if (!c->m->virt->gpa(c, &a, &r))
            return (acc == ACC_WRITE ? PF_W : 0) | (user ? PF_U : 0) | (1ull << 31);
        *pa = r.hpa;
    }
    return 0;
}
