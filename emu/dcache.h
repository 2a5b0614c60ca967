/* dcache.h - the decoded-block cache: blocks of decoded instructions keyed by
 * the physical address of their first byte and the fetch mode, with
 * self-modifying-code invalidation at 128-byte-line granularity. */
#ifndef VMXEMU_DCACHE_H
#define VMXEMU_DCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/exec.h"
#include "emu/machine.h"

#define DBLOCK_MAX 32 /* instructions per block at most; DBLOCK_LAT_MAX (emu/exec.h) cycles */

typedef struct dblock {
    uint64_t pa;     /* physical address of the first instruction */
    uint32_t key;    /* fetch mode: enum x86_mode, bit 2 = VMX non-root */
    uint32_t gen;    /* the page's code generation when the block was decoded */
    dinsn_t *insns;  /* NULL: slot empty */
    uint32_t n;      /* instructions in the block */
    uint32_t lat;    /* their summed latency: a block that could cross the deadline runs singly */
    uint32_t serial; /* distinguishes successive occupants of the slot */
    /* Chaining: the block that ran after this one on vCPU succ_cpu, valid for
     * that vCPU while RIP matches, its fetch epoch is unchanged and the
     * successor is still the same, unmodified block (emu/run.c). Epochs are
     * per vCPU, and vCPUs may map the same RIP differently: hence succ_cpu. */
    struct dblock *succ;
    uint64_t succ_rip, succ_epoch;
    uint32_t succ_serial;
    int succ_cpu;
} dblock_t;

#define DCACHE_NBLOCKS (1u << 15)

struct dcache {
    dblock_t blocks[DCACHE_NBLOCKS]; /* direct-mapped by dcache_slot() */
    dinsn_t *pool;                   /* instructions of all blocks, bump-allocated */
    uint32_t pool_used;
    uint32_t *page_gen;              /* per physical page: code generation */
    uint32_t *line_mask;             /* per physical page: 128-byte lines holding decoded code */
    uint32_t serial;                 /* last block serial handed out */
};

struct dcache *dcache_new(void);
void dcache_free(struct dcache *dc);

static inline uint32_t dcache_slot(uint64_t pa, uint32_t key)
{
    return (uint32_t)((pa ^ (pa >> 13) ^ ((uint64_t)key << 11)) & (DCACHE_NBLOCKS - 1));
}

/* The valid block for (pa, key), or NULL. Inline: it runs once per block. */
static inline dblock_t *dcache_lookup(struct dcache *dc, uint64_t pa, uint32_t key)
{
    dblock_t *b = &dc->blocks[dcache_slot(pa, key)];
    if (b->pa == pa && b->key == key && b->insns && b->gen == dc->page_gen[pa >> 12])
        return b;
    return NULL;
}

/* Decode a block starting at pa from host bytes `code` (avail bytes to the end
 * of the page / CS limit) and cache it. Instructions that continue past avail
 * are left out; a block can therefore be empty (n == 0): the caller then runs
 * the single instruction uncached. */
dblock_t *dcache_fill(struct dcache *dc, machine_t *m, uint64_t pa, uint32_t key, const uint8_t *code,
                      unsigned avail);

/* A store hit [pa, pa+size) on a page with code: drop the page's blocks if the
 * store touched a line holding decoded code. Returns true if it did. */
bool dcache_invalidate_range(struct dcache *dc, machine_t *m, uint64_t pa, int size);

/* Drop everything (CPU model change, monitor request, tests). */
void dcache_flush(struct dcache *dc);

/* Build a dinsn for one decoded instruction: handler and latency. */
void dinsn_bind(dinsn_t *d, const x86_insn *i);

#endif
