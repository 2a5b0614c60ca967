/* ioapic.c - the I/O APIC (Intel 82093AA data sheet; the version 20H register
 * set of later chipsets, which adds the directed EOI register at offset 40H).
 *
 * IOREGSEL (offset 00H) selects a register that IOWIN (10H) reads and writes:
 * 00H ID, 01H version (20H, 24 entries), 02H arbitration ID, 10H-3FH the
 * redirection table, two dwords per pin. Each entry turns its pin into an
 * interrupt message to the local APICs: vector, delivery mode, physical or
 * logical destination, polarity, edge or level trigger, mask. A level entry
 * sets its remote IRR when a LAPIC accepts the message and clears it on the
 * EOI for its vector; while the line stays asserted it is then sent again.
 * Messages are delivered at once, so the delivery status bit reads idle.
 * Edges on a masked entry are lost, as on the 82093AA.
 */
#include "devices/ioapic.h"

#include <stdlib.h>

#define IOAPIC_VERSION 0x20u
#define IOREGSEL 0x00
#define IOWIN    0x10
#define IOEOI    0x40

/* Redirection entry bits. */
#define RE_VECTOR     0xffull
#define RE_MODE(e)    (((e) >> 8) & 7)
#define RE_LOGICAL    (1ull << 11)
#define RE_STATUS     (1ull << 12)
#define RE_POLARITY   (1ull << 13) /* active low */
#define RE_REMOTE_IRR (1ull << 14)
#define RE_LEVEL      (1ull << 15)
#define RE_MASK       (1ull << 16)
#define RE_DEST(e)    ((uint32_t)((e) >> 56))
/* What software may write: everything but the status and remote IRR bits. */
#define RE_WRITABLE   (0xff00000000000000ull | RE_MASK | RE_LEVEL | RE_POLARITY | RE_LOGICAL | 0x7ffull)

static bool asserted(const ioapic_t *io, int pin)
{
    return (((io->line >> pin) & 1) != 0) ^ ((io->redir[pin] & RE_POLARITY) != 0);
}

/* Only fixed and lowest-priority messages can be level-triggered; NMI, SMI,
 * INIT and ExtINT are always edges. */
static bool is_level(uint64_t e)
{
    return (e & RE_LEVEL) && (RE_MODE(e) == DM_FIXED || RE_MODE(e) == DM_LOWEST);
}

/* Send pin's message if the entry allows it now. */
static void service(ioapic_t *io, int pin)
{
    uint64_t e = io->redir[pin];
    if ((e & RE_MASK) || (is_level(e) && (e & RE_REMOTE_IRR)))
        return;
    apic_msg_t msg = {
        .vector = (uint8_t)(e & RE_VECTOR), .mode = (uint8_t)RE_MODE(e), .shorthand = SH_NONE,
        .logical = (e & RE_LOGICAL) != 0, .level = is_level(e), .dest = RE_DEST(e), .dest8 = true, .src = -1,
    };
    int accepted = lapic_deliver(io->lapics, &msg);
    if (is_level(e) && accepted)
        io->redir[pin] |= RE_REMOTE_IRR;
}

void ioapic_set_irq(ioapic_t *io, int pin, bool level)
{
    if (pin < 0 || pin >= IOAPIC_PINS)
        return;
    bool was = asserted(io, pin);
    if (level)
        io->line |= 1u << pin;
    else
        io->line &= ~(1u << pin);
    bool now = asserted(io, pin);
    if (now && (is_level(io->redir[pin]) || !was))
        service(io, pin);
}

void ioapic_eoi(ioapic_t *io, uint8_t vector)
{
    for (int pin = 0; pin < IOAPIC_PINS; pin++) {
        uint64_t *e = &io->redir[pin];
        if ((*e & RE_REMOTE_IRR) && (*e & RE_VECTOR) == vector) {
            *e &= ~RE_REMOTE_IRR;
            if (asserted(io, pin))
                service(io, pin);
        }
    }
}

static uint32_t reg_read(ioapic_t *io, uint8_t r)
{
    if (r == 0x00)
        return (uint32_t)io->id << 24;
    if (r == 0x01)
        return (uint32_t)(IOAPIC_PINS - 1) << 16 | IOAPIC_VERSION;
    if (r == 0x02) /* the arbitration ID follows the ID */
        return (uint32_t)io->id << 24;
    if (r >= 0x10 && r < 0x10 + 2 * IOAPIC_PINS) {
        uint64_t e = io->redir[(r - 0x10) / 2];
        return (r & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
    }
    return 0;
}

static void reg_write(ioapic_t *io, uint8_t r, uint32_t v)
{
    if (r == 0x00) {
        io->id = (v >> 24) & 0xf;
        return;
    }
    if (r < 0x10 || r >= 0x10 + 2 * IOAPIC_PINS)
        return; /* version, arbitration and unimplemented registers are read-only */
    int pin = (r - 0x10) / 2;
    uint64_t *e = &io->redir[pin];
    uint64_t nv = (r & 1) ? ((uint64_t)v << 32) | (uint32_t)*e : (*e & ~0xffffffffull) | v;
    *e = (nv & RE_WRITABLE) | (*e & (RE_STATUS | RE_REMOTE_IRR));
    if (!is_level(*e))
        *e &= ~RE_REMOTE_IRR; /* remote IRR means nothing for an edge entry */
    /* unmasking a level entry whose line is asserted sends it */
    if (asserted(io, pin) && is_level(*e))
        service(io, pin);
}

static uint64_t ioapic_mmio_read(void *opaque, uint64_t addr, int size)
{
    ioapic_t *io = opaque;
    uint32_t v;
    if (addr == IOREGSEL)
        v = io->sel;
    else if (addr >= IOWIN && addr < IOWIN + 4)
        v = reg_read(io, io->sel) >> (8 * (addr - IOWIN));
    else
        v = 0;
    return size >= 4 ? v : v & ((1u << (8 * size)) - 1);
}

static void ioapic_mmio_write(void *opaque, uint64_t addr, int size, uint64_t val)
{
    ioapic_t *io = opaque;
    if (addr == IOREGSEL)
        io->sel = (uint8_t)val;
    else if (addr == IOWIN && size >= 4)
        reg_write(io, io->sel, (uint32_t)val);
    else if (addr == IOEOI && size >= 4)
        ioapic_eoi(io, (uint8_t)val);
}

ioapic_t *ioapic_attach(machine_t *m, lapic_system_t *l)
{
    ioapic_t *io = calloc(1, sizeof *io);
    if (!io)
        return NULL;
    io->lapics = l;
    for (int pin = 0; pin < IOAPIC_PINS; pin++)
        io->redir[pin] = RE_MASK;
    l->ioapic = io;
    mmio_register(m, IOAPIC_BASE, 0x1000, ioapic_mmio_read, ioapic_mmio_write, io);
    return io;
}

void ioapic_free(ioapic_t *io)
{
    free(io);
}

int ioapic_isa_pin(int irq)
{
    return irq == 0 ? 2 : irq;
}

void isa_irq_router_init(isa_irq_router_t *r, pic_t *pic, ioapic_t *io)
{
    r->pic = pic;
    r->io = io;
    for (int i = 0; i < 16; i++)
        r->line[i] = (isa_irq_line_t){ r, i };
}

void isa_irq_set(isa_irq_router_t *r, int irq, bool level)
{
    if (irq < 0 || irq >= 16)
        return;
    if (r->pic)
        pic_set_irq(r->pic, irq, level);
    if (r->io)
        ioapic_set_irq(r->io, ioapic_isa_pin(irq), level);
}

void isa_irq_line(void *opaque, bool level)
{
    isa_irq_line_t *ln = opaque;
    isa_irq_set(ln->r, ln->irq, level);
}
