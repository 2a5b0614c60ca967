/* pic8259.c - the PC's pair of 8259A programmable interrupt controllers
 * (master at 0x20/0x21, slave at 0xa0/0xa1 cascaded on master IRQ 2) and the
 * ELCR edge/level registers at 0x4d0/0x4d1.
 *
 * Follows the Intel 8259A data sheet: ICW1-ICW4 initialisation, OCW1 mask,
 * OCW2 EOI and rotation commands, OCW3 register select, poll and special mask
 * mode; fully nested priority with rotation; auto-EOI; spurious IRQ 7 (and 15)
 * when a request goes away before INTA.
 */
#include "devices/pic8259.h"

#include <stdlib.h>
#include <string.h>

/* Priority order starts at `lowest + 1` (after rotation) and wraps. Returns the
 * IRQ with the highest priority in mask, or -1. */
static int highest_prio(const pic_chip_t *p, uint8_t mask)
{
    if (!mask)
        return -1;
    for (int k = 0; k < 8; k++) {
        int irq = (p->prio_base + k) & 7;
        if (mask & (1u << irq))
            return irq;
    }
    return -1;
}

/* The IRQ this chip would present on INTA, or -1. In fully nested mode a
 * request must have strictly higher priority than the highest in-service IRQ
 * (on the master in special fully nested mode, the cascade's own in-service
 * bit does not block it); in special mask mode only the in-service levels
 * themselves are blocked. */
static int chip_pending(const pic_chip_t *p)
{
    uint8_t req = p->irr & ~p->imr;
    if (p->special_mask)
        return highest_prio(p, req & ~p->isr);
    int irq = highest_prio(p, req);
    if (irq < 0)
        return -1;
    uint8_t isr = p->isr;
    if (p->sfnm && p->is_master)
        isr &= ~(1u << 2);
    int in_service = highest_prio(p, isr);
    if (in_service < 0 || ((irq - p->prio_base) & 7) < ((in_service - p->prio_base) & 7))
        return irq;
    return -1;
}

static void pic_update(pic_t *pic)
{
    /* the slave's INT output drives master IR2 */
    pic_chip_t *s = &pic->chip[1];
    bool slave_int = chip_pending(s) >= 0;
    pic_chip_t *mc = &pic->chip[0];
    if (slave_int)
        mc->irr |= 1u << 2;
    else
        mc->irr &= ~(1u << 2);
    bool out = chip_pending(mc) >= 0;
    if (out != pic->int_out) {
        pic->int_out = out;
        if (pic->notify)
            pic->notify(pic->notify_opaque, out);
    }
}

/* Drive the input line of IRQ n (0-15) to level. Edge-triggered inputs latch
 * a request on a rising edge; level-triggered ones (ELCR) follow the line. */
void pic_set_irq(pic_t *pic, int irq, bool level)
{
    pic_chip_t *p = &pic->chip[irq >> 3];
    uint8_t bit = 1u << (irq & 7);
    bool was = (p->line & bit) != 0;
    if (level)
        p->line |= bit;
    else
        p->line &= ~bit;
    if (p->elcr & bit) {
        if (level)
            p->irr |= bit;
        else
            p->irr &= ~bit;
    } else if (level && !was) {
        p->irr |= bit;
    }
    pic_update(pic);
}

static void eoi_bit(pic_chip_t *p, int irq, bool rotate)
{
    p->isr &= ~(1u << irq);
    if (rotate)
        p->prio_base = (irq + 1) & 7;
}

/* INTA cycle of one chip: the IRQ acknowledged (7 if spurious). */
static int chip_ack(pic_chip_t *p, bool *spurious)
{
    int irq = chip_pending(p);
    if (irq < 0) {
        *spurious = true;
        return 7;
    }
    *spurious = false;
    uint8_t bit = 1u << irq;
    if (p->auto_eoi) {
        if (p->rotate_aeoi)
            p->prio_base = (irq + 1) & 7;
    } else {
        p->isr |= bit;
    }
    /* edge-triggered requests are consumed; level ones stay while the line does */
    if (!(p->elcr & bit) || !(p->line & bit))
        p->irr &= ~bit;
    return irq;
}

int pic_ack(pic_t *pic)
{
    pic_chip_t *m = &pic->chip[0];
    bool spurious;
    int irq = chip_ack(m, &spurious);
    int vec;
    if (!spurious && irq == 2) {
        bool s_spur;
        int sirq = chip_ack(&pic->chip[1], &s_spur);
        vec = pic->chip[1].vector_base + sirq;
    } else {
        vec = m->vector_base + irq;
    }
    pic_update(pic);
    return vec;
}

bool pic_int_output(const pic_t *pic)
{
    return pic->int_out;
}

static void write_cmd(pic_t *pic, pic_chip_t *p, uint8_t v)
{
    if (v & 0x10) { /* ICW1 */
        p->init_state = 1;
        p->need_icw4 = v & 1;
        p->single = (v & 2) != 0;
        if (v & 8) /* LTIM: all inputs level-triggered */
            p->elcr = 0xff & p->elcr_mask;
        p->imr = 0;
        p->isr = 0;
        p->irr = 0;
        p->prio_base = 0;
        p->special_mask = false;
        p->read_isr = false;
        p->poll = false;
        p->auto_eoi = false;
        p->rotate_aeoi = false;
        p->sfnm = false;
        /* edge detection restarts: a line that is already high needs a new edge */
    } else if ((v & 0x18) == 0x08) { /* OCW3 */
        if (v & 4)
            p->poll = true;
        if (v & 2)
            p->read_isr = v & 1;
        if (v & 0x40)
            p->special_mask = (v & 0x20) != 0;
    } else { /* OCW2 */
        int level = v & 7;
        switch (v >> 5) {
        case 0: p->rotate_aeoi = false; break;             /* rotate in AEOI mode (clear) */
        case 4: p->rotate_aeoi = true; break;              /* rotate in AEOI mode (set) */
        case 1:                                            /* non-specific EOI */
        case 5: {                                          /* rotate on non-specific EOI */
            int irq = highest_prio(p, p->isr);
            if (irq >= 0)
                eoi_bit(p, irq, (v >> 5) == 5);
            break;
        }
        case 3: eoi_bit(p, level, false); break;           /* specific EOI */
        case 7: eoi_bit(p, level, true); break;            /* rotate on specific EOI */
        case 6: p->prio_base = (level + 1) & 7; break;     /* set priority: level is lowest */
        default: break;                                    /* 2: no operation */
        }
    }
    pic_update(pic);
}

static void write_data(pic_t *pic, pic_chip_t *p, uint8_t v)
{
    switch (p->init_state) {
    case 1: /* ICW2 */
        p->vector_base = v & 0xf8;
        p->init_state = p->single ? (p->need_icw4 ? 3 : 0) : 2;
        break;
    case 2: /* ICW3: cascade wiring is fixed on a PC */
        p->init_state = p->need_icw4 ? 3 : 0;
        break;
    case 3: /* ICW4 */
        p->auto_eoi = (v & 2) != 0;
        p->sfnm = (v & 0x10) != 0;
        p->init_state = 0;
        break;
    default: /* OCW1 */
        p->imr = v;
        break;
    }
    pic_update(pic);
}

static uint8_t read_cmd(pic_t *pic, pic_chip_t *p)
{
    if (p->poll) {
        /* poll command: the read acts as INTA; bit 7 says whether there was one */
        p->poll = false;
        int irq = chip_pending(p);
        if (irq < 0)
            return 0;
        bool spurious;
        chip_ack(p, &spurious);
        pic_update(pic);
        return 0x80 | (uint8_t)irq;
    }
    return p->read_isr ? p->isr : p->irr;
}

static uint64_t pic_io_read(void *opaque, uint16_t port, int size)
{
    pic_t *pic = opaque;
    if (port == 0x4d0 || port == 0x4d1)
        return pic->chip[port & 1].elcr;
    pic_chip_t *p = &pic->chip[port >= 0xa0];
    return (port & 1) ? p->imr : read_cmd(pic, p);
}

static void pic_io_write(void *opaque, uint16_t port, int size, uint64_t val)
{
    pic_t *pic = opaque;
    if (port == 0x4d0 || port == 0x4d1) {
        pic_chip_t *p = &pic->chip[port & 1];
        p->elcr = (uint8_t)val & p->elcr_mask;
        pic_update(pic);
        return;
    }
    pic_chip_t *p = &pic->chip[port >= 0xa0];
    if (port & 1)
        write_data(pic, p, (uint8_t)val);
    else
        write_cmd(pic, p, (uint8_t)val);
}

pic_t *pic_new(void)
{
    pic_t *pic = calloc(1, sizeof *pic);
    if (!pic)
        return NULL;
    pic->chip[0].is_master = true;
    /* IRQ 0, 1, 2 (master) and 8, 13 (slave) are always edge-triggered on a PC */
    pic->chip[0].elcr_mask = 0xf8;
    pic->chip[1].elcr_mask = 0xde;
    return pic;
}

void pic_attach(machine_t *m, pic_t *pic, void (*notify)(void *, bool), void *opaque)
{
    pic->notify = notify;
    pic->notify_opaque = opaque;
    io_register(m, 0x20, 2, pic_io_read, pic_io_write, pic);
    io_register(m, 0xa0, 2, pic_io_read, pic_io_write, pic);
    io_register(m, 0x4d0, 2, pic_io_read, pic_io_write, pic);
}

void pic_free(pic_t *pic)
{
    free(pic);
}
