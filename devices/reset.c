/* reset.c - reset requests. A guest reboots a PC through one of:
 *  - the 8042 keyboard controller: command 0xfe to port 0x64 pulses the reset
 *    line (and writing an output-port value with bit 0 clear via command 0xd1
 *    does the same); the controller reads as idle (no input or output pending,
 *    system flag set), which is what reboot code polls for;
 *  - port 0x92 (System Control Port A): writing bit 0 = 1 resets; bit 1 is the
 *    fast A20 gate, which reads as enabled (A20 is always on here);
 *  - port 0xcf9 (reset control register): writing bit 2 = 1 resets.
 * A reset ends the run with MEXIT_RESET (docs/cli.md). */
#include "devices/reset.h"

static void request_reset(machine_t *m)
{
    machine_stop(m, MEXIT_RESET, 0);
}

static uint64_t kbc_read(void *opaque, uint16_t port, int size)
{
    reset_ctl_t *k = opaque;
    switch (port) {
    case 0x60:
        k->outbuf_full = false;
        return k->outbuf;
    case 0x64:
        /* bit 0: output buffer full; bit 1: input buffer full (never); bit 2: system flag */
        return 0x14 | (k->outbuf_full ? 1 : 0);
    case 0x92:
        return k->port92 | 0x02;
    default: /* 0xcf9 */
        return 0;
    }
}

static void kbc_write(void *opaque, uint16_t port, int size, uint64_t val)
{
    reset_ctl_t *k = opaque;
    uint8_t v = (uint8_t)val;
    switch (port) {
    case 0x64:
        if (v == 0xfe) {
            request_reset(k->m);
        } else if (v == 0xd1) {
            k->pending_cmd = v;
        } else if (v == 0xaa) { /* controller self-test passes */
            k->outbuf = 0x55;
            k->outbuf_full = true;
        }
        break;
    case 0x60:
        if (k->pending_cmd == 0xd1 && !(v & 1)) /* output port bit 0 is the reset line (active low) */
            request_reset(k->m);
        k->pending_cmd = 0;
        break;
    case 0x92:
        k->port92 = v & ~1;
        if (v & 1)
            request_reset(k->m);
        break;
    default: /* 0xcf9, byte accesses only: a dword at 0xcf8 is PCI CONFIG_ADDRESS */
        if (size == 1 && (v & 0x04))
            request_reset(k->m);
        break;
    }
}

void reset_attach(machine_t *m, reset_ctl_t *k)
{
    *k = (reset_ctl_t){ .m = m };
    io_register(m, 0x60, 1, kbc_read, kbc_write, k);
    io_register(m, 0x64, 1, kbc_read, kbc_write, k);
    io_register(m, 0x92, 1, kbc_read, kbc_write, k);
    io_register(m, 0xcf9, 1, kbc_read, kbc_write, k);
}
