/* devices.h - the minimal PC devices vmxemu attaches to a machine: a 16550
 * UART on COM1 (0x3f8), the 0xe9 debug console and the 0xf4 debug-exit port.
 *
 * All character output (the UART's transmitter and port 0xe9) goes to one
 * host stream chosen by --serial; NULL means "none" (output discarded).
 */
#ifndef VMXEMU_DEVICES_H
#define VMXEMU_DEVICES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

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
/* The state of the INTR output as a PC wires it (gated by MCR.OUT2). No
 * interrupt controller is emulated yet, so nothing consumes it but tests. */
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
typedef struct devices {
    uart_t *com1;
    debugcon_t dbg;
    FILE *out;
} devices_t;

/* Attach every minimal device to m, writing character output to out. */
devices_t *devices_attach(machine_t *m, FILE *out);
/* Flush buffered output (before exit) and free the devices (not out). */
void devices_free(devices_t *d);

#endif
