/* pci.h - PCI configuration mechanism #1 (ports 0xcf8/0xcfc-0xcff) with a
 * host bridge at 00:00.0 and nothing else on bus 0 (devices/pci.c). */
#ifndef VMXEMU_PCI_H
#define VMXEMU_PCI_H

#include <stdint.h>

#include "emu/machine.h"

typedef struct pci {
    uint32_t addr;          /* CONFIG_ADDRESS as last written */
    uint8_t bridge[256];    /* the host bridge's configuration space */
} pci_t;

pci_t *pci_new(void);
void pci_free(pci_t *p);
void pci_attach(machine_t *m, pci_t *p);
/* Configuration read of `size` bytes at (bus, dev, fn, reg), as mechanism #1 performs it. */
uint32_t pci_config_read(pci_t *p, int bus, int dev, int fn, int reg, int size);

#endif
