/* memmap.h - the physical memory map of the emulated PC, built once from the
 * machine's RAM configuration (devices/memmap.c). It is the one source of
 * truth: the Multiboot 1 and 2 memory maps, fw_cfg's "etc/e820" file and the
 * BIOS data area's base-memory size are all derived from it, so no two
 * reports can disagree. */
#ifndef VMXEMU_MEMMAP_H
#define VMXEMU_MEMMAP_H

#include <stdint.h>

#include "emu/machine.h"

/* E820 types (ACPI "System Address Map Interfaces"). */
#define E820_RAM      1
#define E820_RESERVED 2

/* The extended BIOS data area: the top KiB of base memory, as PC firmware
 * leaves it (the BDA's word at 0x40E holds its segment). */
#define EBDA_BASE 0x9fc00ull
#define EBDA_SIZE 0x400ull
/* The BIOS area below 1 MiB; the ACPI tables live in it (devices/acpi.c). */
#define BIOS_AREA_BASE 0xe0000ull
#define BIOS_AREA_END  0x100000ull
/* The platform devices at the top of the 32-bit space (IOAPIC 0xFEC00000,
 * HPET 0xFED00000, local APICs 0xFEE00000) up to 4 GiB, reserved as real
 * firmware reports them. The rest of the MMIO hole is simply absent. */
#define PLATFORM_MMIO_BASE 0xfec00000ull

#define MEMMAP_MAX 6

typedef struct memmap_entry {
    uint64_t base, len;
    uint32_t type; /* E820_* */
} memmap_entry_t;

/* Fill e[0..MEMMAP_MAX) in ascending address order; returns the count. */
int memmap_build(const machine_t *m, memmap_entry_t e[MEMMAP_MAX]);

/* The E820 table in the 20-byte packed format (u64 address, u64 length, u32
 * type) that fw_cfg's "etc/e820" carries; out holds MEMMAP_MAX * 20 bytes.
 * Returns the byte count. */
#define E820_ENTRY_SIZE 20
int memmap_e820(const machine_t *m, uint8_t *out);

#endif
