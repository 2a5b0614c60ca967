/* bda.c - fill the BIOS data area (IBM PC/AT BIOS conventions, as Ralf Brown's
 * "BIOS Data Area" lists them) and the EBDA's first byte (its size in KiB).
 * Everything else in the BDA stays zero: no LPT ports, no floppy, no video. */
#include "devices/bda.h"

#include "devices/devices.h"
#include "devices/memmap.h"

static void put16(machine_t *m, uint64_t pa, uint16_t v)
{
    phys_write(m, pa, 2, v);
}

void bda_build(machine_t *m)
{
    put16(m, BDA_COM_PORTS, COM1_BASE);
    put16(m, BDA_EQUIPMENT, 1u << 9); /* one serial port */
    put16(m, BDA_EBDA_SEG, (uint16_t)(EBDA_BASE >> 4));
    put16(m, BDA_BASE_MEM, (uint16_t)(EBDA_BASE >> 10));
    phys_write(m, EBDA_BASE, 1, EBDA_SIZE >> 10);
}
