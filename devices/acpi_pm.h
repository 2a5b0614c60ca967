/* acpi_pm.h - the ACPI PM1a event and control register blocks (devices/
 * acpi_pm.c), the fixed hardware the FADT must describe besides the PM timer.
 * The machine has no SMI command port, so it is always in ACPI mode. */
#ifndef VMXEMU_ACPI_PM_H
#define VMXEMU_ACPI_PM_H

#include <stdint.h>

#include "emu/machine.h"

#define ACPI_PM1_EVT_LEN 4 /* PM1_STS, PM1_EN: 16 bits each */
#define ACPI_PM1_CNT_LEN 2

typedef struct acpi_pm {
    uint16_t sts, en, cnt;
} acpi_pm_t;

/* Claim PM1a_EVT_BLK at evt (4 ports) and PM1a_CNT_BLK at cnt (2 ports). */
void acpi_pm_attach(machine_t *m, acpi_pm_t *pm, uint16_t evt, uint16_t cnt);

#endif
