/* pic8259.h - the cascaded 8259A pair of a PC (devices/pic8259.c). */
#ifndef VMXEMU_PIC8259_H
#define VMXEMU_PIC8259_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/machine.h"

typedef struct pic_chip {
    uint8_t irr, isr, imr;
    uint8_t line;        /* current level of the 8 input lines */
    uint8_t elcr;        /* 1 = level-triggered */
    uint8_t elcr_mask;   /* ELCR bits that exist */
    uint8_t vector_base; /* ICW2 */
    uint8_t prio_base;   /* IRQ with the highest priority (rotation) */
    uint8_t init_state;  /* 0 ready, 1 expects ICW2, 2 ICW3, 3 ICW4 */
    bool need_icw4, single, auto_eoi, rotate_aeoi, sfnm, special_mask, read_isr, poll;
    bool is_master;
} pic_chip_t;

typedef struct pic {
    pic_chip_t chip[2]; /* master, slave */
    bool int_out;       /* the master's INT output */
    void (*notify)(void *opaque, bool level); /* called when INT changes */
    void *notify_opaque;
} pic_t;

pic_t *pic_new(void);
void pic_free(pic_t *pic);
/* Claim ports 0x20-0x21, 0xa0-0xa1 and 0x4d0-0x4d1; notify(opaque, level)
 * follows the master's INT output. */
void pic_attach(machine_t *m, pic_t *pic, void (*notify)(void *, bool), void *opaque);
/* Drive IRQ line irq (0-15). */
void pic_set_irq(pic_t *pic, int irq, bool level);
/* The interrupt-acknowledge cycle: returns the vector the CPU receives. */
int pic_ack(pic_t *pic);
bool pic_int_output(const pic_t *pic);

#endif
