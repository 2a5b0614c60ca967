/* guestmem.c - side-effect-free guest memory access for the monitor (guestmem.h). */
#include "monitor/guestmem.h"

#include <string.h>

#include "emu/mmu.h"
#include "vmx/vmx.h"

/* Outside 64-bit mode linear addresses are 32 bits wide. */
static uint64_t lin_wrap(const cpu_t *c, uint64_t la)
{
    return c->mode == MODE_LONG64 ? la : (uint32_t)la;
}

bool gm_translate(cpu_t *c, uint64_t la, int acc, uint64_t *pa, uint32_t *err)
{
    uint64_t r = mmu_probe(c, lin_wrap(c, la), (enum mmu_access)acc, 0, pa);
    if (err)
        *err = (uint32_t)r & 0x7fffffff;
    return r == 0;
}

size_t gm_read_phys(machine_t *m, uint64_t pa, void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        const uint8_t *p = phys_ram_ptr(m, pa + done);
        if (!p)
            break;
        /* RAM is contiguous within a page (the low/high split is page aligned) */
        size_t chunk = 4096 - ((pa + done) & 0xfff);
        if (chunk > n - done)
            chunk = n - done;
        memcpy((uint8_t *)buf + done, p, chunk);
        done += chunk;
    }
    return done;
}

/* Read n bytes at address a of a space that translates page by page (4 KiB
 * at a time: larger pages translate the same way at each 4 KiB step). */
static size_t read_paged(cpu_t *c, bool (*xlate)(cpu_t *c, uint64_t a, uint64_t *pa), uint64_t a, void *buf,
                         size_t n)
{
    size_t done = 0;
    while (done < n) {
        uint64_t pa;
        if (!xlate(c, a + done, &pa))
            break;
        size_t chunk = 4096 - ((a + done) & 0xfff);
        if (chunk > n - done)
            chunk = n - done;
        size_t got = gm_read_phys(c->m, pa, (uint8_t *)buf + done, chunk);
        done += got;
        if (got < chunk)
            break;
    }
    return done;
}

static bool lin_xlate(cpu_t *c, uint64_t la, uint64_t *pa)
{
    return gm_translate(c, la, ACC_READ, pa, NULL);
}

size_t gm_read_lin(cpu_t *c, uint64_t la, void *buf, size_t n)
{
    return read_paged(c, lin_xlate, la, buf, n);
}

uint64_t gm_ept_read(void *opaque, uint64_t pa)
{
    uint64_t v = 0;
    return gm_read_phys(opaque, pa, &v, 8) == 8 ? v : 0;
}

bool gm_translate_gpa(cpu_t *c, uint64_t gpa, uint64_t *pa, struct ept_walk *w)
{
    struct vmx_cpu *v = c->vmx;
    bool ept = v && v->vmcs_ptr != VMCS_NONE &&
               (vmcs_get(c, VMCS_CPU_BASED_VM_EXEC_CONTROL) & VMX_CTL(PROC, SECONDARY_CONTROLS)) &&
               (vmcs_get(c, VMCS_SECONDARY_VM_EXEC_CONTROL) & VMX_CTL(PROC2, ENABLE_EPT));
    if (!ept) {
        *pa = gpa;
        return true;
    }
    struct ept_caps caps;
    vmx_ept_caps(c, &caps);
    ept_walk(&caps, vmcs_get(c, VMCS_EPT_POINTER), gpa, gm_ept_read, c->m, w);
    *pa = w->hpa;
    return w->outcome == EPT_OK;
}

static bool gpa_xlate(cpu_t *c, uint64_t gpa, uint64_t *pa)
{
    struct ept_walk w;
    return gm_translate_gpa(c, gpa, pa, &w);
}

size_t gm_read_gpa(cpu_t *c, uint64_t gpa, void *buf, size_t n)
{
    return read_paged(c, gpa_xlate, gpa, buf, n);
}

bool gm_write_phys(machine_t *m, uint64_t pa, const void *buf, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (!phys_ram_ptr(m, pa + k))
            return false;
    for (size_t k = 0; k < n; k++) {
        *phys_ram_ptr(m, pa + k) = ((const uint8_t *)buf)[k];
        phys_code_write(m, pa + k, 1);
    }
    return true;
}

bool gm_write_lin(cpu_t *c, uint64_t la, const void *buf, size_t n)
{
    /* translate every byte first: all or nothing */
    for (size_t k = 0; k < n; k++) {
        uint64_t pa;
        if (!gm_translate(c, la + k, ACC_READ, &pa, NULL) || !phys_ram_ptr(c->m, pa))
            return false;
    }
    for (size_t k = 0; k < n; k++) {
        uint64_t pa;
        gm_translate(c, la + k, ACC_READ, &pa, NULL);
        gm_write_phys(c->m, pa, (const uint8_t *)buf + k, 1);
    }
    return true;
}

uint64_t gm_pc(const cpu_t *c)
{
    return c->mode == MODE_LONG64 ? c->rip : (uint32_t)(c->seg[S_CS].base + c->rip);
}
