/* pmtimer.c - ACPI PM timer (ACPI specification, "Power Management Timer" and
 * the PM_TMR_BLK/TMR_VAL description in the FADT chapter).
 *
 * TMR_VAL is a pure function of the cycle counter: the number of whole
 * 3.579545 MHz ticks since cycle 0 (integer arithmetic, so runs are exact and
 * deterministic), modulo 2^24. It counts from reset and cannot be written or
 * stopped. The register is 32 bits wide with bits 31:24 reading 0 (24-bit
 * timer, TMR_VAL_EXT = 0); reads of 1, 2 or 4 bytes at any of its four ports
 * return the corresponding bytes.
 *
 * Not here: TMR_STS/TMR_EN (the SCI when bit 23 toggles) live in the PM1
 * event block, which belongs to the ACPI fixed hardware, not to this device.
 */
#include "devices/pmtimer.h"

#include <stdlib.h>

#include "emu/cpumodel.h"

static uint32_t value_at(const machine_t *m, uint64_t cycle)
{
    uint64_t hz = (uint64_t)m->cpu[0]->model->core_mhz * 1000000u;
    return (uint32_t)((unsigned __int128)cycle * PMTIMER_HZ / hz) & PMTIMER_MASK;
}

static uint64_t pmtimer_read(void *opaque, uint16_t port, int size)
{
    pmtimer_t *p = opaque;
    uint64_t v = value_at(p->m, machine_now(p->m)) >> 8 * (port - p->port);
    return size >= 4 ? (uint32_t)v : v & ((1u << 8 * size) - 1);
}

pmtimer_t *pmtimer_attach(machine_t *m, uint16_t port)
{
    pmtimer_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->m = m;
    p->port = port;
    io_register(m, port, 4, pmtimer_read, NULL, p); /* read-only: writes are dropped */
    return p;
}

void pmtimer_free(pmtimer_t *p)
{
    free(p);
}
