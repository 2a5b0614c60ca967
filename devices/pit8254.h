/* pit8254.h - the 8254 programmable interval timer at ports 0x40-0x43 and the
 * port 0x61 gate/output bits of channel 2 (devices/pit8254.c). */
#ifndef VMXEMU_PIT8254_H
#define VMXEMU_PIT8254_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/machine.h"

#define PIT_HZ 1193182u /* the PIT's input clock: 14.31818 MHz / 12 */

typedef struct pit_channel {
    uint8_t mode;        /* 0-5 */
    uint8_t rw;          /* 1 LSB, 2 MSB, 3 LSB then MSB */
    bool bcd;
    bool gate;
    uint32_t reload;     /* ticks per period: 1..65536 (binary) or 1..10000 (BCD) */
    bool counting;       /* a count has been loaded and (for modes 1 and 5) triggered */
    bool armed;          /* count loaded, waiting for the gate trigger (modes 1, 5) */
    uint64_t start;      /* PIT tick at which the current count started */
    uint64_t paused_at;  /* modes 0, 4: tick at which gate went low (counting suspended), or UINT64_MAX */
    uint64_t switch_at;  /* modes 2, 3: tick at which next_reload replaces reload, or UINT64_MAX */
    uint32_t next_reload;
    bool write_msb;      /* rw 3: the next write is the MSB */
    uint8_t lsb_written;
    bool read_msb;       /* rw 3: the next read is the MSB */
    bool latched;        /* a counter latch is pending */
    uint16_t latch;
    bool latched_msb;    /* rw 3 latch: the MSB is next */
    bool status_latched;
    uint8_t status;
    bool null_count;     /* a count was written but not yet loaded into the counting element */
} pit_channel_t;

typedef struct pit {
    pit_channel_t ch[3];
    machine_t *m;
    event_t *irq_event;
    uint8_t port61;      /* bits 0-3 as last written */
    void (*irq)(void *opaque, bool level); /* channel 0 output to IRQ 0 */
    void *irq_opaque;
} pit_t;

pit_t *pit_new(void);
void pit_free(pit_t *pit);
/* Claim ports 0x40-0x43 and 0x61; irq(opaque, level) is driven by channel 0's OUT. */
void pit_attach(machine_t *m, pit_t *pit, void (*irq)(void *, bool), void *opaque);
/* PIT ticks elapsed by machine cycle `cycle` (the PIT runs off the cycle counter). */
uint64_t pit_ticks_at(const machine_t *m, uint64_t cycle);
/* The current OUT level of channel ch. */
bool pit_out(pit_t *pit, int ch);

#endif
