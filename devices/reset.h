/* reset.h - the ways a PC guest asks for a reset (devices/reset.c): the 8042
 * keyboard controller's pulse-reset command, port 0x92 (fast reset) and the
 * reset control register at 0xcf9. vmxemu ends the run with MEXIT_RESET. */
#ifndef VMXEMU_RESET_H
#define VMXEMU_RESET_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/machine.h"

typedef struct reset_ctl {
    machine_t *m;
    uint8_t pending_cmd; /* an 8042 command waiting for its data byte on port 0x60 */
    uint8_t port92;
    uint8_t outbuf;      /* a byte the 8042 returns on port 0x60 */
    bool outbuf_full;
} reset_ctl_t;

/* Claim ports 0x60, 0x64, 0x92 and 0xcf9 for r (owned by the caller). */
void reset_attach(machine_t *m, reset_ctl_t *r);

#endif
