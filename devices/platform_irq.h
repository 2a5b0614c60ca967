/* platform_irq.h - the PC's interrupt wiring in front of the 8259 pair and the
 * IOAPIC (devices/platform_irq.c): each ISA device drives its IRQ line, which
 * reaches both controllers through the IOAPIC's ISA router (IRQ 0 on IOAPIC
 * input 2); the HPET's LegacyReplacement mode takes IRQ 0 and IRQ 8 away from
 * the PIT and the RTC; the HPET's other routes are IOAPIC inputs. */
#ifndef VMXEMU_PLATFORM_IRQ_H
#define VMXEMU_PLATFORM_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/hpet.h"
#include "devices/ioapic.h"

#define ISA_IRQS 16
enum { IRQ_PIT = 0, IRQ_COM1 = 4, IRQ_RTC = 8 };

typedef struct platform_irq platform_irq_t;
typedef struct platform_irq_line {
    platform_irq_t *p;
    int irq;
} platform_irq_line_t;

struct platform_irq {
    isa_irq_router_t router;
    const hpet_t *hpet;        /* NULL: no HPET, nothing overrides the ISA devices */
    uint16_t dev;              /* per IRQ: the level its ISA device drives */
    uint16_t hpet_legacy;      /* IRQ 0 and 8: the level HPET timers 0 and 1 drive */
    uint16_t out;              /* per IRQ: the level the controllers see */
    platform_irq_line_t line[ISA_IRQS];
};

/* Wire to pic and io (either may be NULL); the HPET is set with platform_irq_set_hpet. */
void platform_irq_init(platform_irq_t *p, pic_t *pic, ioapic_t *io);
void platform_irq_set_hpet(platform_irq_t *p, const hpet_t *h);
/* An ISA device drives IRQ irq (0-15; others are ignored). */
void platform_irq_set(platform_irq_t *p, int irq, bool level);
/* The same as a device callback: opaque is &p->line[irq]. */
void platform_irq_line(void *opaque, bool level);
/* The HPET's hpet_irq_fn: opaque is p. */
void platform_irq_hpet(void *opaque, int line, bool level);

#endif
