/* pci.c - PCI configuration mechanism #1 (PCI Local Bus Specification 3.0,
 * "Configuration Mechanism #1"): CONFIG_ADDRESS at 0xcf8 (dword accesses
 * only; other sizes pass to whatever else decodes the port, here the reset
 * control register at 0xcf9), CONFIG_DATA at 0xcfc-0xcff in any size.
 *
 * Bus 0 holds one function, an Intel 440FX-style host bridge, so probing
 * kernels find a well-formed but otherwise empty bus; absent functions read as
 * all ones, and writes to them vanish. */
#include "devices/pci.h"

#include <stdlib.h>
#include <string.h>

static void put16(uint8_t *b, int off, uint16_t v) { b[off] = (uint8_t)v; b[off + 1] = (uint8_t)(v >> 8); }

pci_t *pci_new(void)
{
    pci_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    put16(p->bridge, 0x00, 0x8086); /* vendor: Intel */
    put16(p->bridge, 0x02, 0x1237); /* device: 440FX host bridge */
    put16(p->bridge, 0x04, 0x0006); /* command: memory space, bus master */
    put16(p->bridge, 0x06, 0x0280); /* status: fast back-to-back, medium DEVSEL */
    p->bridge[0x08] = 0x02;         /* revision */
    p->bridge[0x0b] = 0x06;         /* class: bridge */
    p->bridge[0x0a] = 0x00;         /* subclass: host bridge */
    p->bridge[0x0e] = 0x00;         /* header type 0, single function */
    return p;
}

void pci_free(pci_t *p)
{
    free(p);
}

uint32_t pci_config_read(pci_t *p, int bus, int dev, int fn, int reg, int size)
{
    if (bus != 0 || dev != 0 || fn != 0)
        return size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
    uint32_t v = 0;
    for (int i = 0; i < size; i++)
        v |= (uint32_t)p->bridge[(reg + i) & 0xff] << (i * 8);
    return v;
}

/* Only the command register's memory/bus-master enables are writable on the bridge. */
static void config_write(pci_t *p, int bus, int dev, int fn, int reg, int size, uint32_t v)
{
    if (bus != 0 || dev != 0 || fn != 0)
        return;
    for (int i = 0; i < size; i++) {
        int r = (reg + i) & 0xff;
        if (r == 0x04)
            p->bridge[r] = (uint8_t)((p->bridge[r] & ~0x06) | ((v >> (i * 8)) & 0x06));
    }
}

static uint64_t pci_io_read(void *opaque, uint16_t port, int size)
{
    pci_t *p = opaque;
    if (port == 0xcf8)
        return size == 4 ? p->addr : (size == 2 ? 0xffff : 0xff);
    if (!(p->addr & 0x80000000u))
        return size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
    int reg = (p->addr & 0xfc) + (port & 3);
    return pci_config_read(p, (p->addr >> 16) & 0xff, (p->addr >> 11) & 0x1f, (p->addr >> 8) & 7, reg, size);
}

static void pci_io_write(void *opaque, uint16_t port, int size, uint64_t val)
{
    pci_t *p = opaque;
    if (port == 0xcf8) {
        if (size == 4)
            p->addr = (uint32_t)val & 0x80fffffcu; /* reserved bits 30:24 and 1:0 read back as 0 */
        return;
    }
    if (!(p->addr & 0x80000000u))
        return;
    int reg = (p->addr & 0xfc) + (port & 3);
    config_write(p, (p->addr >> 16) & 0xff, (p->addr >> 11) & 0x1f, (p->addr >> 8) & 7, reg, size, (uint32_t)val);
}

void pci_attach(machine_t *m, pci_t *p)
{
    io_register(m, 0xcf8, 1, pci_io_read, pci_io_write, p);
    io_register(m, 0xcfc, 4, pci_io_read, pci_io_write, p);
}
