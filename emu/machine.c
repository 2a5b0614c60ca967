/* machine.c - guest RAM, the port and MMIO buses, vCPU creation and the
 * cycle-keyed event queue. The run loop itself is in emu/run.c. */
#include "emu/machine.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "emu/cpumodel.h"
#include "emu/dcache.h"
#include "emu/tlb.h"

/* What a read of size bytes from nothing returns: the bus floats high. */
static uint64_t all_ones(int size)
{
    return size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

/* Highest physical page number that can be RAM, plus one. */
static uint64_t ram_pages(const machine_t *m)
{
    if (m->ram_size <= m->lowmem_top)
        return m->lowmem_top >> 12;
    return (HIMEM_BASE + (m->ram_size - m->lowmem_top)) >> 12;
}

machine_t *machine_new(uint64_t ram_size, const struct cpu_model *model, int ncpus)
{
    if (ram_size < (1u << 20) || ncpus < 1 || ncpus > MAX_CPUS)
        return NULL;
    if (!model)
        model = cpu_model_default();
    machine_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->ram_size = ram_size;
    m->lowmem_top = ram_size < LOWMEM_MAX ? ram_size : LOWMEM_MAX;
    /* MAP_NORESERVE: untouched guest RAM costs the host nothing. */
    m->ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    m->code_pages = calloc(ram_pages(m), 1);
    m->next_event = UINT64_MAX;
    m->dcache = dcache_new();
    if (m->ram == MAP_FAILED || !m->code_pages || !m->dcache) {
        if (m->ram == MAP_FAILED)
            m->ram = NULL;
        machine_free(m);
        return NULL;
    }
    for (int i = 0; i < ncpus; i++) {
        cpu_t *c = calloc(1, sizeof *c);
        if (!c || !tlb_bank_new(c)) {
            free(c);
            machine_free(m);
            return NULL;
        }
        c->index = i;
        c->m = m;
        c->model = model;
        cpu_reset(c);
        /* Application processors start as firmware leaves them: waiting for
         * INIT-SIPI-SIPI. STOP_HALT keeps the run loop on its slow path, where
         * it sees wait_for_sipi, until a SIPI starts the vCPU. */
        if (i > 0) {
            c->wait_for_sipi = true;
            c->stop |= STOP_HALT;
        }
        m->cpu[m->ncpus++] = c;
    }
    return m;
}

void machine_free(machine_t *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->ncpus; i++) {
        free(m->cpu[i]->vmx); /* vmx/'s per-vCPU state (plain heap memory) */
        tlb_bank_free(m->cpu[i]);
        free(m->cpu[i]);
    }
    if (m->ram)
        munmap(m->ram, m->ram_size);
    free(m->code_pages);
    dcache_free(m->dcache);
    free(m);
}

void machine_stop(machine_t *m, enum machine_exit why, int value)
{
    if (m->exit_reason == MEXIT_NONE) {
        m->exit_reason = why;
        m->exit_value = value;
    }
    for (int i = 0; i < m->ncpus; i++)
        m->cpu[i]->stop |= STOP_EXIT;
}

void machine_set_debug(machine_t *m, const debug_hook_t *h)
{
    m->debug = h;
    for (int i = 0; i < m->ncpus; i++) {
        if (h)
            m->cpu[i]->stop |= STOP_MONITOR;
        else
            m->cpu[i]->stop &= ~STOP_MONITOR;
    }
}

void machine_interrupt(machine_t *m)
{
    for (int i = 0; i < m->ncpus; i++)
        m->cpu[i]->stop |= STOP_MONITOR;
}

void machine_resume(machine_t *m)
{
    if (m->exit_reason != MEXIT_DEBUG)
        return;
    m->exit_reason = MEXIT_NONE;
    m->exit_value = 0;
    for (int i = 0; i < m->ncpus; i++) {
        m->cpu[i]->stop &= ~STOP_EXIT;
        if (m->debug)
            m->cpu[i]->stop |= STOP_MONITOR;
    }
}

/* ---- physical memory ---- */

uint64_t phys_read(machine_t *m, uint64_t pa, int size)
{
    uint8_t *p = phys_ram_ptr(m, pa);
    if (p && phys_ram_ptr(m, pa + size - 1)) {
        uint64_t v = 0;
        memcpy(&v, p, size);
        return v;
    }
    mmio_region_t *r = mmio_find(m, pa);
    if (r)
        return r->rd ? r->rd(r->opaque, pa - r->base, size) : 0;
    return all_ones(size);
}

void phys_write(machine_t *m, uint64_t pa, int size, uint64_t val)
{
    uint8_t *p = phys_ram_ptr(m, pa);
    if (p && phys_ram_ptr(m, pa + size - 1)) {
        memcpy(p, &val, size);
        if (m->code_pages[pa >> 12] | m->code_pages[(pa + size - 1) >> 12])
            phys_code_write(m, pa, size);
        return;
    }
    mmio_region_t *r = mmio_find(m, pa);
    if (r && r->wr)
        r->wr(r->opaque, pa - r->base, size, val);
    /* writes to nothing are dropped, as on a PC bus */
}

bool phys_copy_in(machine_t *m, uint64_t pa, const void *src, size_t n)
{
    for (size_t done = 0; done < n;) {
        uint8_t *p = phys_ram_ptr(m, pa + done);
        if (!p)
            return false;
        size_t chunk = 4096 - ((pa + done) & 0xfff);
        if (chunk > n - done)
            chunk = n - done;
        memcpy(p, (const uint8_t *)src + done, chunk);
        if (m->code_pages[(pa + done) >> 12])
            phys_code_write(m, pa + done, (int)chunk);
        done += chunk;
    }
    return true;
}

bool phys_copy_out(machine_t *m, void *dst, uint64_t pa, size_t n)
{
    for (size_t done = 0; done < n;) {
        uint8_t *p = phys_ram_ptr(m, pa + done);
        if (!p)
            return false;
        size_t chunk = 4096 - ((pa + done) & 0xfff);
        if (chunk > n - done)
            chunk = n - done;
        memcpy((uint8_t *)dst + done, p, chunk);
        done += chunk;
    }
    return true;
}

void phys_code_write(machine_t *m, uint64_t pa, int size)
{
    if (dcache_invalidate_range(m->dcache, m, pa, size))
        for (int i = 0; i < m->ncpus; i++)
            m->cpu[i]->stop |= STOP_SMC;
}

/* ---- buses ---- */

void io_register(machine_t *m, uint16_t port, uint16_t count, io_read_fn rd, io_write_fn wr, void *opaque)
{
    for (uint32_t p = port; p < (uint32_t)port + count && p < 65536; p++)
        m->io[p] = (io_port_t){ rd, wr, opaque };
}

uint64_t io_read(machine_t *m, uint16_t port, int size)
{
    io_port_t *p = &m->io[port];
    if (p->rd)
        return p->rd(p->opaque, port, size);
    return all_ones(size);
}

void io_write(machine_t *m, uint16_t port, int size, uint64_t val)
{
    io_port_t *p = &m->io[port];
    if (p->wr)
        p->wr(p->opaque, port, size, val);
}

void mmio_register(machine_t *m, uint64_t base, uint64_t size, mmio_read_fn rd, mmio_write_fn wr, void *opaque)
{
    if (m->nmmio < MAX_MMIO)
        m->mmio[m->nmmio++] = (mmio_region_t){ base, size, rd, wr, opaque };
}

mmio_region_t *mmio_find(machine_t *m, uint64_t pa)
{
    for (int i = 0; i < m->nmmio; i++)
        if (pa - m->mmio[i].base < m->mmio[i].size)
            return &m->mmio[i];
    return NULL;
}

/* ---- interrupts ---- */

void machine_set_intr(machine_t *m, int cpu, bool level)
{
    cpu_t *c = m->cpu[cpu];
    c->intr_line = level;
    if (level)
        c->stop |= STOP_IRQ; /* leave the block: the interrupt may be deliverable now */
}

void machine_nmi(machine_t *m, int cpu)
{
    cpu_t *c = m->cpu[cpu];
    c->nmi_pending = true;
    c->stop |= STOP_IRQ;
}

/* ---- events ---- */

static void events_recompute(machine_t *m)
{
    uint64_t next = UINT64_MAX;
    for (int i = 0; i < MAX_EVENTS; i++)
        if (m->events[i].armed && m->events[i].when < next)
            next = m->events[i].when;
    m->next_event = next;
    for (int i = 0; i < m->ncpus; i++)
        if (m->cpu[i]->deadline > next)
            m->cpu[i]->deadline = next;
}

event_t *event_new(machine_t *m, event_fn fn, void *opaque)
{
    for (int i = 0; i < MAX_EVENTS; i++)
        if (!m->events[i].fn) {
            m->events[i] = (event_t){ 0, fn, opaque, false };
            return &m->events[i];
        }
    return NULL;
}

void event_schedule(machine_t *m, event_t *ev, uint64_t when)
{
    ev->when = when;
    ev->armed = true;
    events_recompute(m);
}

void event_cancel(machine_t *m, event_t *ev)
{
    ev->armed = false;
    events_recompute(m);
}

/* Fire every event due at or before `now`, in order of time then slot. */
void events_fire(machine_t *m, uint64_t now)
{
    while (m->next_event <= now) {
        event_t *first = NULL;
        for (int i = 0; i < MAX_EVENTS; i++)
            if (m->events[i].armed && (!first || m->events[i].when < first->when))
                first = &m->events[i];
        first->armed = false;
        events_recompute(m);
        first->fn(m, first->opaque);
    }
}
