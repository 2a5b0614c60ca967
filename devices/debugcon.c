/* debugcon.c - the two one-port debug devices every test kernel uses:
 * port 0xe9, the Bochs/QEMU debug console (a write prints its byte to the
 * serial output stream; a read returns 0xe9 so a guest can detect it), and
 * port 0xf4, QEMU's isa-debug-exit (a write of v ends the run; the process
 * exit status becomes (v << 1) | 1, see docs/cli.md).
 */
#include "devices/devices.h"

static uint64_t con_read(void *opaque, uint16_t port, int size)
{
    (void)opaque;
    (void)port;
    (void)size;
    return DEBUGCON_PORT;
}

static void con_write(void *opaque, uint16_t port, int size, uint64_t val)
{
    debugcon_t *dc = opaque;
    (void)port;
    (void)size;
    if (dc->out)
        fputc((int)(val & 0xff), dc->out);
}

static void exit_write(void *opaque, uint16_t port, int size, uint64_t val)
{
    debugcon_t *dc = opaque;
    (void)port;
    /* whatever the guest printed must be out before the process ends */
    if (dc->out)
        fflush(dc->out);
    uint64_t mask = size >= 4 ? 0xffffffffull : (1ull << (8 * size)) - 1;
    machine_stop(dc->m, MEXIT_DEBUG_EXIT, (int)(val & mask));
}

void debugcon_attach(machine_t *m, debugcon_t *dc, FILE *out)
{
    dc->m = m;
    dc->out = out;
    io_register(m, DEBUGCON_PORT, 1, con_read, con_write, dc);
    /* write-only: reads of 0xf4 float high like any unclaimed port */
    io_register(m, DEBUGEXIT_PORT, 1, NULL, exit_write, dc);
}
