/* dcache.h - the decoded-block cache: blocks of decoded instructions keyed by
 * the physical address of their first byte and the fetch mode, with
 * self-modifying-code invalidation at 128-byte-line granularity. */
#ifndef VMXEMU_DCACHE_H
#define VMXEMU_DCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/exec.h"
#include "emu/machine.h"

#define DBLOCK_MAX 32 /* instructions per block at most */

typedef struct dblock {
    uint64_t pa;     /* physical address of the first instruction */
    uint32_t key;    /* fetch mode (enum x86_mode) */
    uint32_t gen;    /* the page's code generation when the block was decoded */
    dinsn_t *insns;  /* NULL: slot empty */
    uint32_t n;      /* instructions in the block */
} dblock_t;

struct dcache;
struct dcache *dcache_new(void);
void dcache_free(struct dcache *dc);

/* The valid block for (pa, key), or NULL. */
dblock_t *dcache_lookup(struct dcache *dc, uint64_t pa, uint32_t key);

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
