/* devices.c - attach the minimal device set (devices/devices.h) to a machine. */
#include <stdlib.h>

#include "devices/devices.h"

devices_t *devices_attach(machine_t *m, FILE *out)
{
    devices_t *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->out = out;
    d->com1 = uart_new(out);
    if (!d->com1) {
        free(d);
        return NULL;
    }
    uart_attach(m, d->com1, COM1_BASE);
    debugcon_attach(m, &d->dbg, out);
    return d;
}

void devices_free(devices_t *d)
{
    if (!d)
        return;
    if (d->out)
        fflush(d->out);
    uart_free(d->com1);
    free(d);
}
