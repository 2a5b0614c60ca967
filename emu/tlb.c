/* tlb.c - the software TLB's contexts (one per VPID and EPT root, emu/tlb.h)
 * and every invalidation: the instructions of the current VPID (INVLPG,
 * INVPCID, MOV to CR0/CR3/CR4, EFER), VMX's INVVPID and INVEPT, and new code
 * pages (stores to them must take the slow path in every context).
 *
 * Emptying a context invalidates the entries filled since it was last emptied
 * (its fill log; a memset of its 96 KiB when the log overflowed); contexts that
 * have not been current since they were last emptied are known empty and
 * skipped, so a VM entry or exit without VPID costs about as many entries as
 * the guest touched.
 */
#include "emu/tlb.h"

#include <stdlib.h>
#include <string.h>

#include "emu/machine.h"
#include "emu/mmu.h"
#include "emu/paging.h"

#define CR0_TLB_BITS (CR0_PE | CR0_WP | CR0_PG)

/* The control-register bits the entries' access decisions depend on (emu/mmu.c fill). */
static uint64_t rights_of(const cpu_t *c)
{
    return (c->cr0 & CR0_TLB_BITS) | (c->cr4 & CR4_TLB_BITS) << 32 | (c->efer & (EFER_NXE | EFER_LMA));
}

static uint16_t pcid_of(const cpu_t *c)
{
    return (c->cr4 & CR4_PCIDE) ? (uint16_t)(c->cr3 & 0xfff) : 0;
}

bool tlb_bank_new(cpu_t *c)
{
    /* calloc: the contexts a run never uses cost no memory */
    c->tlb_bank = calloc(1, sizeof *c->tlb_bank);
    return c->tlb_bank != NULL;
}

void tlb_bank_free(cpu_t *c)
{
    free(c->tlb_bank);
    c->tlb_bank = NULL;
}

static inline void inval(tlb_entry_t *e)
{
    memset(e, 0xff, sizeof *e); /* tags with TLB_INVALID set never match */
}

static void empty(tlb_ctx_t *x)
{
    if (x->log_ok) {
        for (unsigned k = 0; k < x->nlog; k++) {
            unsigned i = x->log[k];
            inval(i < TLB_SIZE ? &x->sup[i] : &x->user[i - TLB_SIZE]);
        }
    } else {
        memset(x->sup, 0xff, sizeof x->sup);
        memset(x->user, 0xff, sizeof x->user);
    }
    x->nlog = 0;
    x->log_ok = true;
    x->filled = false;
}

/* Does x hold entries that an invalidation must look at? The current context
 * always may: every access can fill it. */
static inline bool may_hold(const cpu_t *c, const tlb_ctx_t *x)
{
    return x->live && (x->filled || x == c->tlb_ctx);
}

/* Every context x (a tlb_ctx_t *) that may hold entries and satisfies cond. */
#define FOR_CTX(c, x, cond)                                                              \
    for (tlb_ctx_t *x = (c)->tlb_bank->ctx; x < (c)->tlb_bank->ctx + TLB_CONTEXTS; x++)  \
        if (may_hold((c), x) && (cond))

/* Invalidate, in both arrays of context x, every entry e for which cond holds. */
#define TLB_SCAN(x, cond)                                                 \
    for (int arr = 0; arr < 2; arr++) {                                   \
        tlb_entry_t *t = arr ? (x)->user : (x)->sup;                      \
        for (int k = 0; k < TLB_SIZE; k++) {                              \
            tlb_entry_t *e = &t[k];                                       \
            if (cond)                                                     \
                inval(e);                                                 \
        }                                                                 \
    }

/* Does entry e (of any page size) translate la? */
static inline bool covers(const tlb_entry_t *e, uint64_t la)
{
    return ((e->tag_r ^ la) >> TLB_PG_SHIFT(e)) == 0;
}

static void make_current(cpu_t *c, tlb_ctx_t *x)
{
    if (c->tlb_ctx)
        c->tlb_ctx->filled = true; /* it was current: it may hold entries */
    c->tlb_ctx = x;
    x->last_use = ++c->tlb_bank->clock;
    c->tlb_sup = x->sup;
    c->tlb_user = x->user;
    c->tlb = c->cpl == 3 ? c->tlb_user : c->tlb_sup;
    c->fetch_epoch++; /* RIP -> physical may change: chained blocks (emu/run.c) look up again */
}

void tlb_reset(cpu_t *c)
{
    for (int k = 0; k < TLB_CONTEXTS; k++)
        c->tlb_bank->ctx[k].live = false; /* emptied when taken again (tlb_switch) */
    c->tlb_ctx = NULL;
    tlb_ctx_t *x = &c->tlb_bank->ctx[0];
    *x = (tlb_ctx_t){ .ept = TLB_NO_EPT, .live = true, .rights = rights_of(c), .pcid = pcid_of(c) };
    empty(x);
    make_current(c, x);
}

void tlb_switch(cpu_t *c, uint16_t vpid, uint64_t eptp)
{
    uint64_t ept = eptp == TLB_NO_EPT ? TLB_NO_EPT : eptp & TLB_EPTRTA_MASK;
    uint64_t attr = eptp == TLB_NO_EPT ? 0 : eptp & 0xfff;
    tlb_bank_t *b = c->tlb_bank;
    tlb_ctx_t *x = NULL, *victim = NULL;
    for (int k = 0; k < TLB_CONTEXTS && !x; k++) {
        tlb_ctx_t *y = &b->ctx[k];
        if (y->live && y->vpid == vpid && y->ept == ept)
            x = y;
        else if (y != c->tlb_ctx && (!victim || !y->live || (victim->live && y->last_use < victim->last_use)))
            victim = y; /* a free slot, else the least recently used, never the current one */
    }
    if (!x) {
        x = victim;
        *x = (tlb_ctx_t){ .vpid = vpid, .ept = ept, .ept_attr = attr, .live = true, .rights = rights_of(c),
                          .pcid = pcid_of(c) };
        empty(x); /* whatever it held, or never written (calloc's zeros would match address 0) */
    }
    /* Entries cache access decisions, not just translations: made under other
     * paging bits or EPTP attributes they must go (dropping is always allowed). */
    if (x->rights != rights_of(c) || x->ept_attr != attr) {
        if (may_hold(c, x))
            empty(x);
        x->rights = rights_of(c);
        x->ept_attr = attr;
    } else if (x->pcid != pcid_of(c)) {
        /* the arrays hold one PCID's non-global entries (tags carry no PCID) */
        uint16_t p = pcid_of(c);
        TLB_SCAN(x, !(e->pcid_g & TLB_GLOBAL) && (e->pcid_g & 0xfff) != p);
    }
    x->pcid = pcid_of(c);
    make_current(c, x);
}

uint16_t tlb_cur_vpid(const cpu_t *c)
{
    return c->tlb_ctx->vpid;
}

uint64_t tlb_cur_ept(const cpu_t *c)
{
    return c->tlb_ctx->ept;
}

/* ---- the current VPID's invalidations (all of its EPT roots) ---- */

#define CUR_VPID(c, x) FOR_CTX(c, x, x->vpid == (c)->tlb_ctx->vpid)

void tlb_flush_all(cpu_t *c)
{
    c->fetch_epoch++; /* RIP -> physical may change: chained blocks (emu/run.c) look up again */
    CUR_VPID(c, x) {
        empty(x);
        x->rights = rights_of(c); /* callers flush because these changed */
        x->pcid = pcid_of(c);
    }
}

void tlb_flush_nonglobal(cpu_t *c)
{
    c->fetch_epoch++;
    CUR_VPID(c, x) {
        TLB_SCAN(x, !(e->pcid_g & TLB_GLOBAL));
        x->pcid = pcid_of(c);
    }
}

void tlb_flush_page(cpu_t *c, uint64_t la)
{
    c->fetch_epoch++;
    /* a large page sits in the TLB as several 4 KiB entries: find them all */
    CUR_VPID(c, x) TLB_SCAN(x, covers(e, la));
}

void tlb_flush_pcid(cpu_t *c, uint16_t pcid, int keep_global)
{
    c->fetch_epoch++;
    CUR_VPID(c, x) TLB_SCAN(x, (e->pcid_g & 0xfff) == pcid && !(keep_global && (e->pcid_g & TLB_GLOBAL)));
}

void tlb_flush_page_pcid(cpu_t *c, uint64_t la, uint16_t pcid)
{
    c->fetch_epoch++;
    CUR_VPID(c, x) TLB_SCAN(x, covers(e, la) && (e->pcid_g & 0xfff) == pcid && !(e->pcid_g & TLB_GLOBAL));
}

void tlb_flush_cr3(cpu_t *c, uint16_t pcid, bool keep_pcid)
{
    c->fetch_epoch++;
    /* the TLB holds one PCID's non-global entries at a time (tags carry no PCID) */
    CUR_VPID(c, x) {
        TLB_SCAN(x, !(e->pcid_g & TLB_GLOBAL) && !(keep_pcid && (e->pcid_g & 0xfff) == pcid));
        x->pcid = pcid;
    }
}

/* ---- VMX: INVVPID, INVEPT, permissive mode ---- */

void tlb_inv_vpid_addr(cpu_t *c, uint16_t vpid, uint64_t la)
{
    c->fetch_epoch++;
    FOR_CTX(c, x, x->vpid == vpid) TLB_SCAN(x, covers(e, la));
}

void tlb_inv_vpid(cpu_t *c, uint16_t vpid, bool keep_global)
{
    c->fetch_epoch++;
    FOR_CTX(c, x, x->vpid == vpid) {
        if (keep_global) {
            TLB_SCAN(x, !(e->pcid_g & TLB_GLOBAL));
        } else {
            empty(x);
        }
    }
}

void tlb_inv_nonzero_vpids(cpu_t *c)
{
    c->fetch_epoch++;
    FOR_CTX(c, x, x->vpid != 0) empty(x);
}

void tlb_inv_ept(cpu_t *c, uint64_t eptp)
{
    c->fetch_epoch++;
    FOR_CTX(c, x, x->ept == (eptp & TLB_EPTRTA_MASK)) empty(x);
}

void tlb_inv_ept_all(cpu_t *c)
{
    c->fetch_epoch++;
    FOR_CTX(c, x, x->ept != TLB_NO_EPT) empty(x);
}

void tlb_inv_everything(cpu_t *c)
{
    c->fetch_epoch++;
    FOR_CTX(c, x, true) empty(x);
}

/* ---- decoded code ---- */

void tlb_code_page_added(machine_t *m, uint64_t pa)
{
    pa &= ~0xfffull;
    for (int i = 0; i < m->ncpus; i++) {
        cpu_t *c = m->cpu[i];
        FOR_CTX(c, x, true)
            for (int arr = 0; arr < 2; arr++) {
                tlb_entry_t *t = arr ? x->user : x->sup;
                for (int k = 0; k < TLB_SIZE; k++)
                    if (t[k].paddr == pa && !(t[k].tag_w & TLB_INVALID))
                        t[k].tag_w |= TLB_SLOW_CODE;
            }
    }
}
