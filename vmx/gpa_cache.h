/* gpa_cache.h - the guest-physical mappings of SDM Vol. 3C "Caching Translation
 * Information": guest-physical page -> host-physical page with the EPT rights,
 * derived from EPT only and tagged by the EPT root (EPTRTA, EPTP bits 51:12).
 * Only INVEPT removes them: single-context those of one EPTRTA, all-context
 * every one ("Invalidating Cached Translation Information"); VM entries, VM
 * exits and INVVPID leave them. Direct-mapped by guest-physical page number. */
#ifndef VMXEMU_GPA_CACHE_H
#define VMXEMU_GPA_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#define GPA_CACHE_SIZE 256

struct gpa_map {
    uint64_t eptp;          /* the full EPTP the walk used (bits 11:0 too), 0: empty slot */
    uint64_t gpn;           /* guest-physical address >> 12 */
    uint64_t hpa;           /* host-physical address of that 4-KByte page */
    uint8_t rights;         /* EPT_R/W/X of the walk */
    uint8_t memtype;        /* the leaf's EPT memory type and "ignore PAT" */
    bool ipat;
    bool dirty;             /* the leaf's EPT dirty flag was set (or A/D flags off) */
};

struct gpa_cache {
    struct gpa_map e[GPA_CACHE_SIZE];
};

/* The mapping of gpa under eptp, or NULL. */
const struct gpa_map *gpa_cache_find(const struct gpa_cache *gc, uint64_t eptp, uint64_t gpa);
/* Remember m (m->eptp, m->gpn set), replacing what its slot held. */
void gpa_cache_fill(struct gpa_cache *gc, const struct gpa_map *m);
/* Forget the mapping of gpa under eptp (an EPT violation walks afresh). */
void gpa_cache_drop(struct gpa_cache *gc, uint64_t eptp, uint64_t gpa);
/* INVEPT single-context: every mapping whose EPTRTA is that of eptp. */
void gpa_cache_inv_root(struct gpa_cache *gc, uint64_t eptp);
/* INVEPT all-context, reset. */
void gpa_cache_inv_all(struct gpa_cache *gc);

#endif
