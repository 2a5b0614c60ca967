/* pmtimer.h - the ACPI power-management timer: a read-only 24-bit counter at
 * 3.579545 MHz in the PM_TMR_BLK I/O port (devices/pmtimer.c). */
#ifndef VMXEMU_PMTIMER_H
#define VMXEMU_PMTIMER_H

#include <stdint.h>

#include "emu/machine.h"

#define PMTIMER_HZ 3579545u     /* ACPI spec: 3.579545 MHz (14.31818 MHz / 4) */
#define PMTIMER_PORT 0x608      /* PM_TMR_BLK: ACPI PM base 0x600 + 8, as on QEMU's q35 */
#define PMTIMER_MASK 0xffffffu  /* 24 bits: the FADT must leave TMR_VAL_EXT clear */

typedef struct pmtimer {
    machine_t *m;
    uint16_t port;
} pmtimer_t;

/* Claim the 4 ports of PM_TMR_BLK at `port` (PMTIMER_PORT). */
pmtimer_t *pmtimer_attach(machine_t *m, uint16_t port);
void pmtimer_free(pmtimer_t *p);

#endif
