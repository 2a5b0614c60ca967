/* acpi.h - the ACPI tables vmxemu publishes (devices/acpi.c), built at
 * start-up from the machine configuration and placed in the BIOS area that
 * the memory map reserves (devices/memmap.h): RSDP (revision 2) at
 * ACPI_RSDP_ADDR, where the 0xE0000-0xFFFFF scan finds it, then FACS, DSDT,
 * FADT, MADT, HPET, RSDT and XSDT. Multiboot 2 copies the RSDP into its ACPI
 * tags. ACPI Specification 6.0, chapter "ACPI Software Programming Model". */
#ifndef VMXEMU_ACPI_H
#define VMXEMU_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/machine.h"

#define ACPI_RSDP_ADDR 0xe0000ull /* the start of the BIOS area: 16-byte aligned */
#define ACPI_RSDP_V1_LEN 20       /* the ACPI 1.0 part: the first checksum covers it */
#define ACPI_RSDP_LEN 36

/* The fixed-hardware I/O ports the FADT describes (QEMU's q35 layout). */
#define ACPI_PM_BASE 0x600
#define ACPI_PM1_EVT_BLK ACPI_PM_BASE       /* PM1_STS, PM1_EN: 4 bytes */
#define ACPI_PM1_CNT_BLK (ACPI_PM_BASE + 4) /* PM1_CNT: 2 bytes */
#define ACPI_SCI_IRQ 9                      /* level, active high (the MADT's override) */
#define ACPI_RESET_PORT 0xcf9
#define ACPI_RESET_VALUE 0x06               /* 0xCF9: full reset (SYS_RST | RST_CPU) */

/* Build every table into guest RAM at ACPI_RSDP_ADDR. False if the tables do
 * not fit in the BIOS area (they always do for MAX_CPUS vCPUs). */
bool acpi_build(machine_t *m);

/* The 8-bit sum of n bytes: a table is valid when the sum over it is 0. */
uint8_t acpi_sum(const uint8_t *p, uint64_t n);

#endif
