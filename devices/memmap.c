/* memmap.c - the PC memory map (see memmap.h): base memory below the EBDA,
 * the EBDA and the BIOS area reserved, RAM from 1 MiB to the low-RAM top, the
 * platform MMIO page range reserved, and the rest of RAM from 4 GiB. */
#include "devices/memmap.h"

int memmap_build(const machine_t *m, memmap_entry_t e[MEMMAP_MAX])
{
    int n = 0;
    /* machine_new() guarantees at least 1 MiB of RAM below lowmem_top */
    e[n++] = (memmap_entry_t){ 0, EBDA_BASE, E820_RAM };
    e[n++] = (memmap_entry_t){ EBDA_BASE, EBDA_SIZE, E820_RESERVED };
    e[n++] = (memmap_entry_t){ BIOS_AREA_BASE, BIOS_AREA_END - BIOS_AREA_BASE, E820_RESERVED };
    if (m->lowmem_top > BIOS_AREA_END)
        e[n++] = (memmap_entry_t){ BIOS_AREA_END, m->lowmem_top - BIOS_AREA_END, E820_RAM };
    e[n++] = (memmap_entry_t){ PLATFORM_MMIO_BASE, HIMEM_BASE - PLATFORM_MMIO_BASE, E820_RESERVED };
    if (m->ram_size > m->lowmem_top)
        e[n++] = (memmap_entry_t){ HIMEM_BASE, m->ram_size - m->lowmem_top, E820_RAM };
    return n;
}

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> 8 * i);
}

int memmap_e820(const machine_t *m, uint8_t *out)
{
    memmap_entry_t e[MEMMAP_MAX];
    int n = memmap_build(m, e);
    for (int i = 0; i < n; i++) {
        uint8_t *p = out + i * E820_ENTRY_SIZE;
        put_le(p, e[i].base, 8);
        put_le(p + 8, e[i].len, 8);
        put_le(p + 16, e[i].type, 4);
    }
    return n * E820_ENTRY_SIZE;
}
