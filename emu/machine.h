/* machine.h - the emulated PC: RAM, the port and MMIO buses, the vCPUs, and the
 * cycle-keyed event queue. Devices plug in through io_register()/mmio_register()
 * and schedule work with event_schedule(); nothing here knows any device.
 */
#ifndef VMXEMU_MACHINE_H
#define VMXEMU_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "emu/cpu.h"

#define MAX_CPUS 16

/* Guest RAM is one lazily committed host mapping. Physical addresses below
 * lowmem_top map to RAM directly; the rest of RAM appears from 4 GiB up, as on
 * a PC, leaving the 32-bit MMIO hole free. */
#define LOWMEM_MAX 0xC0000000ull
#define HIMEM_BASE 0x100000000ull

typedef uint64_t (*io_read_fn)(void *opaque, uint16_t port, int size);
typedef void (*io_write_fn)(void *opaque, uint16_t port, int size, uint64_t val);
typedef uint64_t (*mmio_read_fn)(void *opaque, uint64_t addr, int size);
typedef void (*mmio_write_fn)(void *opaque, uint64_t addr, int size, uint64_t val);
typedef void (*event_fn)(struct machine *m, void *opaque);

typedef struct io_port { io_read_fn rd; io_write_fn wr; void *opaque; } io_port_t;

typedef struct mmio_region {
    uint64_t base, size;
    mmio_read_fn rd;
    mmio_write_fn wr;
    void *opaque;
} mmio_region_t;

#define MAX_MMIO 64 /* 16 relocatable local APIC windows, IOAPIC, HPET, and room */
#define MAX_EVENTS 64

/* CPU-side registers that belong to a device (the local APIC: its MSRs,
 * IA32_TSC_DEADLINE, CR8 as the TPR, and its EOI register). The MSR hooks return false when the
 * MSR is not theirs; *gp set means the access raises #GP(0). */
typedef struct cpu_dev_hooks {
    bool (*msr_read)(cpu_t *c, uint32_t msr, uint64_t *val, bool *gp);
    bool (*msr_write)(cpu_t *c, uint32_t msr, uint64_t val, bool *gp);
    void (*cr8_written)(cpu_t *c);
    /* A write of 0 to the EOI register by the CPU itself (VMX posted-interrupt processing). */
    void (*eoi)(cpu_t *c);
    /* An INIT took effect on c (not blocked in VMX root operation, not a VM exit): reset its local APIC. */
    void (*init_reset)(cpu_t *c);
} cpu_dev_hooks_t;

typedef struct event {
    uint64_t when; /* cycle */
    event_fn fn;
    void *opaque;
    bool armed;
} event_t;

/* Why the machine stopped; main() turns this into the exit status (docs/cli.md). */
enum machine_exit {
    MEXIT_NONE = 0,
    MEXIT_DEBUG_EXIT,  /* guest wrote port 0xf4: status (v << 1) | 1 */
    MEXIT_HALTED,      /* HLT with interrupts disabled and nothing that can wake it */
    MEXIT_SHUTDOWN,    /* triple fault */
    MEXIT_CYCLES,      /* --max-cycles reached */
    MEXIT_RESET,       /* guest requested a reset (handled as the end of the run) */
    MEXIT_INTERNAL,    /* emulator limitation hit (message printed) */
    MEXIT_DEBUG,       /* stopped for the monitor (breakpoint, step, Ctrl-C); machine_resume() continues */
};

/* The monitor's hook into the run loop. While one is set, every vCPU runs one
 * instruction at a time and before_insn() is asked first: returning true stops
 * the machine (MEXIT_DEBUG) before that instruction. NULL costs nothing. */
typedef struct debug_hook {
    bool (*before_insn)(void *opaque, cpu_t *c);
    void *opaque;
} debug_hook_t;

typedef struct machine {
    uint8_t *ram;          /* host mapping of all guest RAM */
    uint64_t ram_size;
    uint64_t lowmem_top;   /* RAM below 4 GiB ends here */
    uint8_t *code_pages;   /* per 4K RAM page: non-zero if decoded code lives there */

    io_port_t io[65536];
    mmio_region_t mmio[MAX_MMIO];
    int nmmio;

    event_t events[MAX_EVENTS];
    uint64_t next_event;   /* min(when) over armed events, or UINT64_MAX */

    cpu_t *cpu[MAX_CPUS];
    int ncpus;
    cpu_t *cur;            /* the vCPU whose turn it is (devices read time from it) */

    uint64_t max_cycles;   /* 0: unlimited */
    enum machine_exit exit_reason;
    int exit_value;        /* the byte written to the debug-exit port */

    struct dcache *dcache; /* decoded-block cache (emu/dcache.c) */

    /* The interrupt controller in front of the vCPUs' INTR inputs (the PIC now,
     * the local APICs later): the acknowledge cycle returns the vector. */
    int (*intr_ack)(void *opaque, int cpu);
    void *intr_opaque;

    const debug_hook_t *debug; /* the monitor's hook, or NULL */
    const cpu_dev_hooks_t *cpu_dev; /* device registers seen through MSRs and CR8, or NULL */
    const struct virt_ops *virt; /* hardware virtualisation's hooks (emu/virt.h), or NULL */
    bool tlb_permissive;   /* --tlb=permissive: VMX transitions, INVEPT and INVVPID empty every TLB context */
} machine_t;

/* A machine with ram_size bytes of RAM and ncpus vCPUs of the given model
 * (NULL: the default model), or NULL if the request is impossible. */
machine_t *machine_new(uint64_t ram_size, const struct cpu_model *model, int ncpus);
void machine_free(machine_t *m);

/* Run until the machine stops; returns why. */
enum machine_exit machine_run(machine_t *m);

/* Stop the machine (from a device or a handler). */
void machine_stop(machine_t *m, enum machine_exit why, int value);
/* Install or remove (NULL) the monitor's hook. */
void machine_set_debug(machine_t *m, const debug_hook_t *h);
/* Ask the running machine to stop for the monitor at the next instruction
 * boundary (async-signal-safe: Ctrl-C calls it). */
void machine_interrupt(machine_t *m);
/* After MEXIT_DEBUG: clear the stop so machine_run() continues. */
void machine_resume(machine_t *m);

/* --- physical memory --- */
/* Host pointer for a RAM address, or NULL if pa is not RAM (MMIO, hole, beyond RAM). */
static inline uint8_t *phys_ram_ptr(machine_t *m, uint64_t pa)
{
    if (pa < m->lowmem_top)
        return m->ram + pa;
    if (pa >= HIMEM_BASE && pa - HIMEM_BASE < m->ram_size - m->lowmem_top)
        return m->ram + m->lowmem_top + (pa - HIMEM_BASE);
    return NULL;
}
/* Physical accesses of 1, 2, 4 or 8 bytes; RAM, then MMIO, else reads return all ones. */
uint64_t phys_read(machine_t *m, uint64_t pa, int size);
void phys_write(machine_t *m, uint64_t pa, int size, uint64_t val);
/* Bulk copies for loaders and DMA-like users; false if any byte is not RAM. */
bool phys_copy_in(machine_t *m, uint64_t pa, const void *src, size_t n);
bool phys_copy_out(machine_t *m, void *dst, uint64_t pa, size_t n);
/* A store to a page with decoded code: invalidate it (called by the write slow path). */
void phys_code_write(machine_t *m, uint64_t pa, int size);

/* --- buses --- */
void io_register(machine_t *m, uint16_t port, uint16_t count, io_read_fn rd, io_write_fn wr, void *opaque);
uint64_t io_read(machine_t *m, uint16_t port, int size);
void io_write(machine_t *m, uint16_t port, int size, uint64_t val);
void mmio_register(machine_t *m, uint64_t base, uint64_t size, mmio_read_fn rd, mmio_write_fn wr, void *opaque);
mmio_region_t *mmio_find(machine_t *m, uint64_t pa);

/* --- interrupts --- */
/* Drive vCPU cpu's INTR input (the controller calls this when its output changes). */
void machine_set_intr(machine_t *m, int cpu, bool level);
/* Raise an NMI on vCPU cpu (edge: it stays pending until delivered). */
void machine_nmi(machine_t *m, int cpu);

/* --- time --- */
/* The current cycle, as the running vCPU sees it (devices read time here). */
static inline uint64_t machine_now(const machine_t *m)
{
    return (m->cur ? m->cur : m->cpu[0])->cycles;
}
/* Arm ev to fire at cycle `when` (re-arming moves it). */
void event_schedule(machine_t *m, event_t *ev, uint64_t when);
void event_cancel(machine_t *m, event_t *ev);
/* Allocate an event slot owned by a device. */
event_t *event_new(machine_t *m, event_fn fn, void *opaque);
/* Fire every event due at or before cycle now (the run loop calls this). */
void events_fire(machine_t *m, uint64_t now);

#endif
