/* devices.h - the PC vmxemu builds around its vCPUs (docs/platform.md): a
 * 16550 UART on COM1 (0x3f8, IRQ 4), the 0xe9 debug console and the 0xf4
 * debug-exit port, the 8259 pair, the local APICs and the IOAPIC, the PIT,
 * the RTC/CMOS, the HPET, the ACPI PM timer and PM1 blocks, PCI configuration
 * mechanism #1, the reset ports, fw_cfg, and the firmware tables (ACPI, BIOS
 * data area); devices_attach() wires them all (devices/devices.c).
 *
 * All character output (the UART's transmitter and port 0xe9) goes to one
 * host stream chosen by --serial; NULL means "none" (output discarded).
 */
#ifndef VMXEMU_DEVICES_H
#define VMXEMU_DEVICES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/acpi_pm.h"
#include "devices/fw_cfg.h"
#include "devices/hpet.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "devices/pci.h"
#include "devices/pic8259.h"
#include "devices/pit8254.h"
#include "devices/platform_irq.h"
#include "devices/pmtimer.h"
#include "devices/reset.h"
#include "devices/rtc.h"
#include "emu/machine.h"

#define COM1_BASE      0x3f8
#define DEBUGCON_PORT  0xe9
#define DEBUGEXIT_PORT 0xf4

/* ---- 16550 UART (devices/uart16550.c) ---- */
/* Register offsets from the base port. With LCR.DLAB set, offsets 0 and 1
 * are the divisor latch (DLL, DLM) instead of RBR/THR and IER. */
enum { UART_RBR_THR = 0, UART_IER = 1, UART_IIR_FCR = 2, UART_LCR = 3, UART_MCR = 4,
       UART_LSR = 5, UART_MSR = 6, UART_SCR = 7 };

typedef struct uart uart_t;

/* A UART whose transmitter writes to out (NULL: discard). */
uart_t *uart_new(FILE *out);
void uart_free(uart_t *u);
/* One byte-wide register access at offset reg (0..7), as the CPU's IN/OUT make it. */
uint8_t uart_read(uart_t *u, int reg);
void uart_write(uart_t *u, int reg, uint8_t val);
/* The state of the INTR output as a PC wires it (gated by MCR.OUT2); the
 * platform samples it after every access to the UART's ports (IRQ 4). */
bool uart_irq_line(const uart_t *u);
/* The divisor latch value (DLM:DLL) the guest programmed. */
uint16_t uart_divisor(const uart_t *u);
/* Claim ports base..base+7 on m. */
void uart_attach(machine_t *m, uart_t *u, uint16_t base);

/* ---- debug console and debug exit (devices/debugcon.c) ---- */
/* Port 0xe9: a write prints its low byte to out; a read returns 0xe9 (Bochs).
 * Port 0xf4: a write of v flushes out and stops the machine with
 * machine_stop(m, MEXIT_DEBUG_EXIT, v); the process exits (v << 1) | 1. */
typedef struct debugcon {
    machine_t *m;
    FILE *out;
} debugcon_t;
void debugcon_attach(machine_t *m, debugcon_t *dc, FILE *out);

/* ---- all of the above ---- */
/* What the command line decides about the platform. */
typedef struct platform_config {
    int64_t rtc_base;    /* Unix time the RTC reads at cycle 0 */
    const char *cmdline; /* the kernel command line fw_cfg publishes, or NULL */
} platform_config_t;

/* The RTC's time when nothing else is said (--rtc-base, docs/cli.md). */
#define RTC_DEFAULT_BASE "2025-01-01T00:00:00"

typedef struct devices {
    FILE *out;
    uart_t *com1;
    io_port_t com1_port;   /* the UART's own port handlers, wrapped to sample IRQ 4 */
    debugcon_t dbg;
    pic_t *pic;
    lapic_system_t *lapics;
    ioapic_t *ioapic;
    platform_irq_t irq;
    pit_t *pit;
    rtc_t *rtc;
    hpet_t *hpet;
    pmtimer_t *pmtimer;
    acpi_pm_t pm1;
    pci_t *pci;
    reset_ctl_t reset;
    fw_cfg_t *fw_cfg;
} devices_t;

/* Attach the whole PC to m (cfg NULL: the RTC at RTC_DEFAULT_BASE, no command
 * line), write the ACPI tables and the BIOS data area into its RAM, and leave
 * every vCPU but the first waiting for INIT-SIPI. Character output goes to
 * out. NULL if memory runs out (then m, partly wired, must be freed unrun). */
devices_t *devices_attach(machine_t *m, FILE *out, const platform_config_t *cfg);
/* Flush buffered output (before exit) and free the devices (not out). */
void devices_free(devices_t *d);

#endif
