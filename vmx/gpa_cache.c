/* gpa_cache.c - storage and invalidation of the guest-physical mappings
 * (vmx/gpa_cache.h); vmx/ept_access.c fills and consults it in --tlb=strict. */
#include <string.h>

#include "emu/tlb.h"
#include "vmx/gpa_cache.h"

static unsigned slot(uint64_t gpn)
{
    return (unsigned)(gpn % GPA_CACHE_SIZE);
}

const struct gpa_map *gpa_cache_find(const struct gpa_cache *gc, uint64_t eptp, uint64_t gpa)
{
    uint64_t gpn = gpa >> 12;
    const struct gpa_map *m = &gc->e[slot(gpn)];
    return m->eptp && m->eptp == eptp && m->gpn == gpn ? m : 0;
}

void gpa_cache_fill(struct gpa_cache *gc, const struct gpa_map *m)
{
    gc->e[slot(m->gpn)] = *m;
}

void gpa_cache_drop(struct gpa_cache *gc, uint64_t eptp, uint64_t gpa)
{
    struct gpa_map *m = (struct gpa_map *)gpa_cache_find(gc, eptp, gpa);
    if (m)
        m->eptp = 0;
}

void gpa_cache_inv_root(struct gpa_cache *gc, uint64_t eptp)
{
    for (unsigned k = 0; k < GPA_CACHE_SIZE; k++)
        if (gc->e[k].eptp && ((gc->e[k].eptp ^ eptp) & TLB_EPTRTA_MASK) == 0)
            gc->e[k].eptp = 0;
}

void gpa_cache_inv_all(struct gpa_cache *gc)
{
    memset(gc, 0, sizeof *gc);
}
