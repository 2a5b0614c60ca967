/* bda.h - the BIOS data area and EBDA a PC's firmware leaves in low memory
 * (devices/bda.c), for kernels that look there instead of asking ACPI or
 * multiboot: the COM1 base at 0x400, the EBDA segment at 0x40E (where an MP
 * or RSDP scan starts), the base-memory size in KiB at 0x413. */
#ifndef VMXEMU_BDA_H
#define VMXEMU_BDA_H

#include "emu/machine.h"

#define BDA_COM_PORTS 0x400 /* four words: COM1-COM4 base ports */
#define BDA_EQUIPMENT 0x410 /* equipment word: bits 11:9 the serial port count */
#define BDA_EBDA_SEG  0x40e
#define BDA_BASE_MEM  0x413 /* KiB of base memory below the EBDA */

/* Write the BDA and the EBDA's size byte into m's RAM, from the memory map. */
void bda_build(machine_t *m);

#endif
