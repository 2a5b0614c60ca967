/* dcache.c - decoded-block cache.
 *
 * Blocks live in a direct-mapped table; their instructions in a bump-allocated
 * pool that is flushed whole when full (simple, and cheap because refills are
 * rare). Self-modifying code: each physical page has a generation number and a
 * mask of the 128-byte lines that hold decoded code. A store into a marked line
 * bumps the page's generation, which invalidates every block of the page in
 * O(1): a block is valid only while its recorded generation is current.
 * m->code_pages[] tells the MMU which pages need their stores checked.
 */
#include "emu/dcache.h"

#include <stdlib.h>
#include <string.h>

#include "emu/mmu.h"
#include "emu/virt.h"

#define POOL_SIZE (1u << 19)
/* Physical pages tracked: RAM reaches at most 4 GiB + 1 TiB here (documented limit of -m). */
#define GEN_PAGES ((HIMEM_BASE + (1ull << 40)) >> 12)

/* Page tables of this size are lazily committed by the host (calloc of a large
 * block maps zero pages), so only pages that ever hold code cost memory. */
struct dcache *dcache_new(void)
{
    struct dcache *dc = calloc(1, sizeof *dc);
    if (!dc)
        return NULL;
    dc->pool = calloc(POOL_SIZE, sizeof *dc->pool);
    dc->page_gen = calloc(GEN_PAGES, sizeof *dc->page_gen);
    dc->line_mask = calloc(GEN_PAGES, sizeof *dc->line_mask);
    if (!dc->pool || !dc->page_gen || !dc->line_mask) {
        dcache_free(dc);
        return NULL;
    }
    return dc;
}

void dcache_free(struct dcache *dc)
{
    if (!dc)
        return;
    free(dc->pool);
    free(dc->page_gen);
    free(dc->line_mask);
    free(dc);
}

void dcache_flush(struct dcache *dc)
{
    memset(dc->blocks, 0, sizeof dc->blocks);
    dc->pool_used = 0;
}

/* Does the instruction have a memory operand? (No ModRM: base and index are
 * NOREG and disp is 0, except moffs forms, whose offset is in disp.) */
static bool has_mem_operand(const x86_insn *i)
{
    return i->mod != 3 && (i->base != X86_NOREG || i->index != X86_NOREG || i->disp != 0);
}

void dinsn_bind(dinsn_t *d, const x86_insn *i)
{
    extern const insn_fn insn_handlers[XI_COUNT];
    extern const insn_fn insn_variants[XI_COUNT][2][3];
    extern const uint8_t insn_lat[XI_COUNT];
    d->i = *i;
    d->fn = insn_handlers[i->id] ? insn_handlers[i->id] : op_ud;
    const insn_fn *v = insn_variants[i->id][i->mod != 3];
    if (v[0]) /* a row with specialised variants: by operand size 2, 4, 8 */
        d->fn = v[i->osize >> 2];
    d->lat = lat_cycles[insn_lat[i->id]] + (has_mem_operand(i) ? 1 : 0);
}

void op_decode_fault(cpu_t *c, const dinsn_t *d);

dblock_t *dcache_fill(struct dcache *dc, machine_t *m, uint64_t pa, uint32_t key, const uint8_t *code,
                      unsigned avail)
{
    if (dc->pool_used + DBLOCK_MAX > POOL_SIZE)
        dcache_flush(dc);
    dblock_t *b = &dc->blocks[dcache_slot(pa, key)];
    b->pa = pa;
    b->key = key;
    b->gen = dc->page_gen[pa >> 12];
    b->insns = &dc->pool[dc->pool_used];
    b->n = 0;
    b->lat = 0;
    b->serial = ++dc->serial;
    b->succ = NULL;

    unsigned off = 0;
    while (b->n < DBLOCK_MAX && off < avail) {
        x86_insn i;
        int len = x86_decode(&i, code + off, avail - off, (enum x86_mode)(key & 3));
        dinsn_t *d = &b->insns[b->n];
        if (len == X86_ERR_SHORT)
            break; /* continues on the next page: the caller runs it uncached */
        if (len < 0) {
            /* #UD or #GP(0) is raised when execution reaches it, not before. */
            memset(d, 0, sizeof *d);
            d->fn = op_decode_fault;
            d->i.len = 0;
            d->i.imm = (uint64_t)(int64_t)len;
            b->n++;
            off++;
            break;
        }
        dinsn_bind(d, &i);
        if ((key & 4) && m->virt) { /* VMX non-root: the forms that may exit get VMX's handler */
            insn_fn f = m->virt->nonroot_handler(&i);
            if (f)
                d->fn = f;
        }
        if (b->n && b->lat + d->lat > DBLOCK_LAT_MAX)
            break;
        b->lat += d->lat;
        b->n++;
        off += (unsigned)len;
        /* Control transfers and state changes the next fetch depends on end
         * the block; a conditional branch does only when taken (STOP_BRANCH). */
        if (x86_insn_flags(i.id) & X86_F_END)
            break;
    }
    dc->pool_used += b->n;

    /* Mark the lines that now hold decoded code. */
    if (off) {
        uint64_t pfn = pa >> 12;
        unsigned first = (unsigned)(pa & 0xfff) >> 7, last = (unsigned)((pa & 0xfff) + off - 1) >> 7;
        if (last > 31)
            last = 31;
        for (unsigned l = first; l <= last; l++)
            dc->line_mask[pfn] |= 1u << l;
        if (phys_ram_ptr(m, pa) && !m->code_pages[pfn]) {
            m->code_pages[pfn] = 1;
            tlb_code_page_added(m, pa);
        }
    }
    return b;
}

bool dcache_invalidate_range(struct dcache *dc, machine_t *m, uint64_t pa, int size)
{
    bool hit = false;
    for (uint64_t p = pa & ~0xfffull; p < pa + (uint64_t)size; p += 4096) {
        uint64_t lo = p > pa ? p : pa, hi = (p + 4096 < pa + size) ? p + 4096 : pa + size;
        unsigned first = (unsigned)(lo & 0xfff) >> 7, last = (unsigned)((hi - 1) & 0xfff) >> 7;
        uint32_t lines = (uint32_t)(((2ull << last) - 1) & ~((1ull << first) - 1));
        uint64_t pfn = p >> 12;
        if (dc->line_mask[pfn] & lines) {
            dc->page_gen[pfn]++;
            dc->line_mask[pfn] = 0;
            m->code_pages[pfn] = 0;
            hit = true;
        }
    }
    return hit;
}
