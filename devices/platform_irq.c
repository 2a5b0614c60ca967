/* platform_irq.c - ISA IRQ lines with the HPET LegacyReplacement override
 * (IA-PC HPET Specification 1.0a, "Legacy Replacement Option": timer 0 takes
 * the PIT's IRQ 0 / IOAPIC input 2, timer 1 the RTC's IRQ 8). The controllers
 * are level inputs, so only changes are passed on. Whether legacy mode is on
 * is read from the HPET each time a line changes; the HPET itself drops its
 * legacy lines when the mode is turned off, and a PIT or RTC line that moved
 * while overridden is seen again at its next change. */
#include "devices/platform_irq.h"

static bool overridden(const platform_irq_t *p, int irq)
{
    return (irq == IRQ_PIT || irq == IRQ_RTC) && p->hpet && hpet_legacy_mode(p->hpet);
}

static void update(platform_irq_t *p, int irq)
{
    uint16_t bit = (uint16_t)(1u << irq);
    bool level = (overridden(p, irq) ? p->hpet_legacy : p->dev) & bit;
    if (level == !!(p->out & bit))
        return;
    p->out ^= bit;
    isa_irq_set(&p->router, irq, level);
}

static void update_overridable(platform_irq_t *p)
{
    update(p, IRQ_PIT);
    update(p, IRQ_RTC);
}

void platform_irq_init(platform_irq_t *p, pic_t *pic, ioapic_t *io)
{
    *p = (platform_irq_t){ 0 };
    isa_irq_router_init(&p->router, pic, io);
    for (int i = 0; i < ISA_IRQS; i++)
        p->line[i] = (platform_irq_line_t){ p, i };
}

void platform_irq_set_hpet(platform_irq_t *p, const hpet_t *h)
{
    p->hpet = h;
}

void platform_irq_set(platform_irq_t *p, int irq, bool level)
{
    if (irq < 0 || irq >= ISA_IRQS)
        return;
    uint16_t bit = (uint16_t)(1u << irq);
    p->dev = level ? p->dev | bit : p->dev & ~bit;
    update(p, irq);
    update_overridable(p);
}

void platform_irq_line(void *opaque, bool level)
{
    platform_irq_line_t *l = opaque;
    platform_irq_set(l->p, l->irq, level);
}

void platform_irq_hpet(void *opaque, int line, bool level)
{
    platform_irq_t *p = opaque;
    if (line == HPET_LEGACY_LINE_T0 || line == HPET_LEGACY_LINE_T1) {
        int irq = line == HPET_LEGACY_LINE_T0 ? IRQ_PIT : IRQ_RTC;
        uint16_t bit = (uint16_t)(1u << irq);
        p->hpet_legacy = level ? p->hpet_legacy | bit : p->hpet_legacy & ~bit;
        update_overridable(p);
    } else if (p->router.io) {
        ioapic_set_irq(p->router.io, line, level); /* Tn_INT_ROUTE_CNF names an IOAPIC input */
    }
}
