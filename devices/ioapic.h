/* ioapic.h - the I/O APIC at 0xFEC00000 (devices/ioapic.c) and the routing of
 * ISA IRQs to both the 8259 pair and the IOAPIC. */
#ifndef VMXEMU_IOAPIC_H
#define VMXEMU_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/lapic.h"
#include "devices/pic8259.h"
#include "emu/machine.h"

#define IOAPIC_BASE 0xfec00000ull
#define IOAPIC_PINS 24

typedef struct ioapic {
    lapic_system_t *lapics;
    uint8_t id;                   /* IOAPICID bits 27:24 */
    uint8_t sel;                  /* IOREGSEL */
    uint64_t redir[IOAPIC_PINS];  /* redirection table */
    uint32_t line;                /* input pin levels */
} ioapic_t;

/* An IOAPIC with ID 0 (the MADT must say the same),
 * every entry masked, decoded at IOAPIC_BASE; delivers to the LAPICs of l and
 * receives their EOI broadcasts. */
ioapic_t *ioapic_attach(machine_t *m, lapic_system_t *l);
void ioapic_free(ioapic_t *io);

/* Drive input pin (0-23) to level (the line as wired, before the entry's polarity). */
void ioapic_set_irq(ioapic_t *io, int pin, bool level);
/* An EOI for vector: clears the remote IRR of level-triggered entries with that vector. */
void ioapic_eoi(ioapic_t *io, uint8_t vector);

/* ISA IRQ n's IOAPIC pin: IRQ 0 (the PIT) is on pin 2, as the MADT's interrupt
 * source override says; the others are identity-mapped. */
int ioapic_isa_pin(int irq);

/* Routes each ISA IRQ to the 8259 pair and to the IOAPIC at once, so a guest
 * may use either. A device that takes an irq(opaque, level) callback gets
 * isa_irq_line as the callback and &router->line[n] as opaque. */
typedef struct isa_irq_router isa_irq_router_t;
typedef struct isa_irq_line {
    isa_irq_router_t *r;
    int irq;
} isa_irq_line_t;
struct isa_irq_router {
    pic_t *pic;
    ioapic_t *io;
    isa_irq_line_t line[16];
};
void isa_irq_router_init(isa_irq_router_t *r, pic_t *pic, ioapic_t *io);
void isa_irq_set(isa_irq_router_t *r, int irq, bool level);
void isa_irq_line(void *opaque, bool level);

#endif
