/* hpet.h - IA-PC High Precision Event Timer: a 64-bit main counter and three
 * comparators in a 1 KiB MMIO block, clocked from the cycle counter
 * (devices/hpet.c). */
#ifndef VMXEMU_HPET_H
#define VMXEMU_HPET_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/machine.h"

#define HPET_BASE 0xFED00000ull /* the conventional address, as published in the ACPI HPET table */
#define HPET_SIZE 0x400u
#define HPET_TIMERS 3
/* 100 MHz: the main counter ticks every 10 ns, which divides every model's core
 * clock exactly (core_mhz is a multiple of 100), and is QEMU's HPET rate. */
#define HPET_HZ 100000000u
#define HPET_PERIOD_FS 10000000u /* COUNTER_CLK_PERIOD: 10^15 / HPET_HZ */

/* Lines in LegacyReplacement mode (LEG_RT_CNF): timer 0 replaces the PIT's
 * IRQ 0 (IOAPIC input 2), timer 1 the RTC's IRQ 8 (IOAPIC input 8). Outside
 * legacy mode a line is the IOAPIC input chosen by Tn_INT_ROUTE_CNF, never 0
 * or 8 (see the route capabilities in hpet.c). */
#define HPET_LEGACY_LINE_T0 0
#define HPET_LEGACY_LINE_T1 8

typedef void (*hpet_irq_fn)(void *opaque, int line, bool level);

typedef struct hpet_timer {
    uint64_t config;   /* Tn_CONF_CAP writable bits */
    uint64_t cmp;      /* Tn_COMPARATOR: the next match value (the accumulator in periodic mode) */
    uint64_t period;   /* the last value written to Tn_COMPARATOR (periodic increment) */
} hpet_timer_t;

typedef struct hpet {
    machine_t *m;
    uint64_t config;      /* GEN_CONF: ENABLE_CNF, LEG_RT_CNF */
    uint64_t isr;         /* GINTR_STA: Tn_INT_STS (level-triggered timers) */
    uint64_t halted_cnt;  /* the main counter while ENABLE_CNF is 0 */
    uint64_t offset;      /* while enabled: main counter = tick + offset (mod 2^64) */
    uint64_t done;        /* tick through which comparator matches have been processed */
    uint32_t lines;       /* lines currently driven high */
    hpet_timer_t t[HPET_TIMERS];
    event_t *event;       /* the earliest pending comparator match */
    hpet_irq_fn irq;
    void *irq_opaque;
} hpet_t;

/* Map the HPET at `base` (HPET_BASE) and drive irq(opaque, line, level). */
hpet_t *hpet_attach(machine_t *m, uint64_t base, hpet_irq_fn irq, void *opaque);
void hpet_free(hpet_t *h);
/* LEG_RT_CNF: while set, the PIT and RTC must not drive IRQ 0 / IRQ 8. */
bool hpet_legacy_mode(const hpet_t *h);

#endif
