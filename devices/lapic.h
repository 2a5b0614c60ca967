/* lapic.h - one local APIC per vCPU, in xAPIC (MMIO) and x2APIC (MSR) modes
 * (devices/lapic.c; SDM Vol. 3A chapter "Advanced Programmable Interrupt
 * Controller (APIC)").
 *
 * The LAPICs sit in front of the vCPUs' INTR inputs: lapics_attach() installs
 * the machine's intr_ack hook, and the APIC drives each vCPU's INTR with
 * machine_set_intr(). The 8259's INT output reaches LINT0 of every LAPIC
 * (lapics_pic_notify), which passes it on in ExtINT mode (virtual wire).
 */
#ifndef VMXEMU_LAPIC_H
#define VMXEMU_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/pic8259.h"
#include "emu/machine.h"

#define LAPIC_DEFAULT_BASE 0xfee00000ull

/* IA32_APIC_BASE bits (SDM Vol. 3A "Local APIC Status and Location"). */
#define APIC_BASE_BSP  (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10) /* x2APIC mode */
#define APIC_BASE_EN   (1ull << 11) /* APIC global enable */

#define MSR_IA32_APIC_BASE    0x1b
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define MSR_X2APIC_FIRST      0x800
#define MSR_X2APIC_LAST       0x8ff

/* The local vector table, in register order (offsets 0x320-0x370). CMCI is
 * absent: the models do not advertise it (IA32_MCG_CAP[10]). */
enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_COUNT };

/* Delivery modes of ICR, LVT and IOAPIC entries (SDM "Interrupt Command Register"). */
enum { DM_FIXED, DM_LOWEST, DM_SMI, DM_RSVD3, DM_NMI, DM_INIT, DM_STARTUP, DM_EXTINT };

/* Destination shorthands (ICR bits 19:18). */
enum { SH_NONE, SH_SELF, SH_ALL, SH_ALL_BUT_SELF };

/* One interrupt message on the (virtual) system bus: an IPI or an IOAPIC message. */
typedef struct apic_msg {
    uint8_t vector;
    uint8_t mode;      /* DM_* */
    uint8_t shorthand; /* SH_* */
    bool logical;      /* destination mode */
    bool level;        /* trigger mode: level */
    uint32_t dest;     /* destination field */
    bool dest8;        /* dest is the 8-bit xAPIC-format field (IOAPIC, xAPIC ICR) */
    int src;           /* sending vCPU, or -1 (IOAPIC) */
} apic_msg_t;

typedef struct lapic {
    struct lapic_system *sys;
    cpu_t *cpu;
    uint8_t id8;           /* xAPIC ID (APIC ID register bits 31:24) */
    uint32_t x2id;         /* x2APIC ID: set by hardware to the vCPU index */
    uint32_t tpr, ldr, dfr, svr;
    uint32_t esr;          /* what ESR reads: the errors latched by the last ESR write */
    uint32_t esr_pending;  /* errors detected since that write */
    uint32_t icr_lo, icr_hi;
    uint32_t lvt[LVT_COUNT];
    uint32_t irr[8], isr[8], tmr[8];
    /* timer: counts down once every `divide` APIC clocks */
    uint32_t timer_icr, timer_dcr;
    bool timer_running;
    uint64_t timer_start;  /* APIC clock tick at which timer_count0 was the count */
    uint32_t timer_count0;
    uint64_t tsc_deadline; /* IA32_TSC_DEADLINE, 0 = disarmed */
    event_t *timer_ev;
    bool lint[2];          /* LINT0/LINT1 input levels */
    bool extint_msg;       /* an ExtINT message waits for the acknowledge cycle */
} lapic_t;

typedef struct lapic_window {
    struct lapic_system *sys;
    uint64_t base;         /* the 4 KiB page this MMIO region decodes */
    mmio_region_t *region;
} lapic_window_t;

typedef struct lapic_system {
    machine_t *m;
    pic_t *pic;            /* the 8259 that answers ExtINT acknowledges (may be NULL) */
    struct ioapic *ioapic; /* receives EOI broadcasts (set by ioapic_attach) */
    lapic_window_t win[MAX_CPUS]; /* one MMIO region per distinct APIC base in use */
    int nwin;
    lapic_t apic[MAX_CPUS];
    int n;
} lapic_system_t;

/* One LAPIC per vCPU of m, in the power-on state (xAPIC mode, software
 * disabled, LVTs masked), decoded at each vCPU's IA32_APIC_BASE; takes over
 * m->intr_ack. ExtINT acknowledges go to pic (which may be NULL). */
lapic_system_t *lapics_attach(machine_t *m, pic_t *pic);
void lapics_free(lapic_system_t *s);

/* What PC firmware leaves behind (MP specification "Virtual Wire Mode"; we
 * have no BIOS): the BSP's APIC software-enabled with spurious vector 0xFF,
 * LINT0 ExtINT (the 8259 reaches the BSP) and LINT1 NMI. APs stay masked. */
void lapics_virtual_wire(lapic_system_t *s);

/* The 8259's INT output, wired to LINT0 of every LAPIC: pass as pic_attach()'s notify. */
void lapics_pic_notify(void *opaque, bool level);
/* Drive input pin (0 = LINT0, 1 = LINT1) of vCPU cpu's LAPIC. */
void lapic_set_lint(lapic_system_t *s, int cpu, int pin, bool level);

/* Deliver a message to every LAPIC it addresses; returns how many accepted it. */
int lapic_deliver(lapic_system_t *s, const apic_msg_t *msg);

/* The machine's intr_ack hook: the vector of the highest-priority deliverable
 * interrupt, moved from IRR to ISR; an ExtINT asks the 8259. */
int lapic_intr_ack(void *opaque, int cpu);

/* RDMSR/WRMSR of IA32_APIC_BASE, IA32_TSC_DEADLINE and the x2APIC range
 * 0x800-0x8FF. Return false if msr is not one of them (or no LAPIC is
 * attached); otherwise *gp says whether the access raises #GP(0). */
bool lapic_msr_read(cpu_t *c, uint32_t msr, uint64_t *val, bool *gp);
bool lapic_msr_write(cpu_t *c, uint32_t msr, uint64_t val, bool *gp);

/* MOV to CR8 has just written c->cr8: TPR[7:4] = CR8[3:0], TPR[3:0] = 0
 * (SDM Vol. 3A "Interaction of Task Priorities between CR8 and APIC"). */
void lapic_cr8_written(cpu_t *c);

/* The LAPIC of vCPU c, or NULL when the machine has none. */
lapic_t *lapic_of(cpu_t *c);

#endif
