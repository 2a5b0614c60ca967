/* test_lapic.c - the local APICs of a 4-vCPU machine: register semantics,
 * priorities, IRR -> ISR on acknowledge, EOI, the error status register, the
 * timer in one-shot, periodic and TSC-deadline modes at the exact cycle, IPIs
 * with every destination form, INIT/SIPI, the x2APIC MSRs and the mode
 * transitions, ExtINT through LINT0 and relocation of the MMIO page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "devices/lapic.h"
#include "emu/cpumodel.h"

static struct cpu_model model;
static machine_t *m;
static pic_t *pic;
static lapic_system_t *s;

enum { ID = 0x20, VER = 0x30, TPR = 0x80, APR = 0x90, PPR = 0xa0, EOI = 0xb0, LDR = 0xd0, DFR = 0xe0,
       SVR = 0xf0, ISR = 0x100, TMR = 0x180, IRR = 0x200, ESR = 0x280, ICR = 0x300, ICR_HI = 0x310,
       LVT_T = 0x320, LINT0 = 0x350, LINT1 = 0x360, LVT_ERR = 0x370, TMICT = 0x380, TMCCT = 0x390,
       TDCR = 0x3e0 };

static uint32_t rd_at(int cpu, uint64_t base, uint32_t off)
{
    m->cur = m->cpu[cpu];
    return (uint32_t)phys_read(m, base + off, 4);
}
static uint32_t rd(int cpu, uint32_t off) { return rd_at(cpu, LAPIC_DEFAULT_BASE, off); }
static void wr(int cpu, uint32_t off, uint32_t v)
{
    m->cur = m->cpu[cpu];
    phys_write(m, LAPIC_DEFAULT_BASE + off, 4, v);
}
/* RDMSR/WRMSR through the LAPIC; returns whether the access raised #GP. */
static bool rdmsr_gp(int cpu, uint32_t msr, uint64_t *v)
{
    bool gp;
    m->cur = m->cpu[cpu];
    assert_true(lapic_msr_read(m->cpu[cpu], msr, v, &gp));
    return gp;
}
static bool wrmsr_gp(int cpu, uint32_t msr, uint64_t v)
{
    bool gp;
    m->cur = m->cpu[cpu];
    assert_true(lapic_msr_write(m->cpu[cpu], msr, v, &gp));
    return gp;
}
static bool irr_has(int cpu, int vec) { return (rd(cpu, IRR + (vec / 32) * 16) >> (vec % 32)) & 1; }
static bool isr_has(int cpu, int vec) { return (rd(cpu, ISR + (vec / 32) * 16) >> (vec % 32)) & 1; }
static bool intr(int cpu) { return m->cpu[cpu]->intr_line; }
static int ack(int cpu) { return m->intr_ack(m->intr_opaque, cpu); }
static void enable(int cpu) { wr(cpu, SVR, 0x1ff); }
static void self_ipi(int cpu, int vec) { wr(cpu, ICR, 0x40000u | (uint32_t)vec); }
/* Advance every vCPU to cycle c, firing device events on the way. */
static void run_to(uint64_t c)
{
    while (m->next_event <= c) {
        for (int i = 0; i < m->ncpus; i++)
            m->cpu[i]->cycles = m->next_event;
        events_fire(m, m->next_event);
    }
    for (int i = 0; i < m->ncpus; i++)
        m->cpu[i]->cycles = c;
}
/* First cycle at which APIC timer tick t has happened (crystal clock). */
static uint64_t cyc(uint64_t t)
{
    uint64_t hz = (uint64_t)model.core_mhz * 1000000u;
    return (t * hz + model.crystal_hz - 1) / model.crystal_hz;
}

static int setup(void **state)
{
    model = *cpu_model_default();
    model.feat[FW_1_ECX] |= CPUID_X2APIC | CPUID_TSC_DEADLINE;
    m = machine_new(16 << 20, &model, 4);
    pic = pic_new();
    s = lapics_attach(m, pic);
    pic_attach(m, pic, lapics_pic_notify, s);
    return 0;
}
static int teardown(void **state)
{
    lapics_free(s);
    pic_free(pic);
    machine_free(m);
    return 0;
}

static void test_power_on_state(void **state)
{
    for (int i = 0; i < 4; i++) {
        assert_int_equal(rd(i, ID), (uint32_t)i << 24);
        assert_int_equal(rd(i, VER), 0x00050015);
        assert_int_equal(rd(i, SVR), 0xff);
        assert_int_equal(rd(i, DFR), 0xffffffffu);
        assert_int_equal(rd(i, TPR), 0);
        assert_int_equal(rd(i, PPR), 0);
        for (uint32_t o = LVT_T; o <= LVT_ERR; o += 0x10)
            assert_int_equal(rd(i, o), 0x10000);
    }
}

static void test_software_disable_masks_lvt(void **state)
{
    wr(0, LINT0, 0x700); /* cannot unmask while software-disabled */
    assert_int_equal(rd(0, LINT0), 0x10700);
    enable(0);
    wr(0, LINT0, 0x700);
    wr(0, LVT_T, 0x40);
    assert_int_equal(rd(0, LINT0), 0x700);
    wr(0, SVR, 0x0ff);
    assert_int_equal(rd(0, LINT0), 0x10700);
    assert_int_equal(rd(0, LVT_T), 0x10040);
    /* reserved bits of LVT entries read as zero */
    enable(0);
    wr(0, LVT_ERR, 0xffffffffu);
    assert_int_equal(rd(0, LVT_ERR), 0x100ff);
}

static void test_priority_ack_and_eoi(void **state)
{
    enable(0);
    self_ipi(0, 0x31);
    self_ipi(0, 0x52);
    assert_true(irr_has(0, 0x31) && irr_has(0, 0x52));
    assert_true(intr(0));
    assert_int_equal(ack(0), 0x52);
    assert_false(irr_has(0, 0x52));
    assert_true(isr_has(0, 0x52));
    assert_int_equal(rd(0, PPR), 0x50);
    assert_false(intr(0)); /* 0x31's class 3 is below PPR's class 5 */
    self_ipi(0, 0x5f); /* same class as the one in service: waits */
    assert_false(intr(0));
    self_ipi(0, 0x60);
    assert_true(intr(0));
    assert_int_equal(ack(0), 0x60); /* nests */
    wr(0, EOI, 0);
    assert_false(isr_has(0, 0x60));
    assert_true(isr_has(0, 0x52));
    wr(0, EOI, 0);
    assert_int_equal(rd(0, PPR), 0);
    assert_int_equal(ack(0), 0x5f);
    wr(0, EOI, 0);
    /* TPR masks classes at or below its own */
    wr(0, TPR, 0x35);
    assert_int_equal(rd(0, PPR), 0x35);
    assert_false(intr(0));
    assert_int_equal(m->cpu[0]->cr8, 3);
    wr(0, TPR, 0x20);
    assert_true(intr(0));
    assert_int_equal(ack(0), 0x31);
    assert_int_equal(rd(0, PPR), 0x30);
    wr(0, EOI, 0);
    /* nothing deliverable at the acknowledge: the spurious vector, no ISR bit */
    assert_int_equal(ack(0), 0xff);
    assert_int_equal(rd(0, ISR + 0x70), 0);
}

static void test_cr8_is_tpr(void **state)
{
    enable(1);
    self_ipi(1, 0x45);
    assert_true(intr(1));
    m->cpu[1]->cr8 = 5; /* MOV to CR8 */
    lapic_cr8_written(m->cpu[1]);
    assert_false(intr(1));
    assert_int_equal(rd(1, TPR), 0x50);
    m->cpu[1]->cr8 = 0;
    lapic_cr8_written(m->cpu[1]);
    assert_true(intr(1));
}

static void test_apr(void **state)
{
    enable(0);
    wr(0, TPR, 0x47);
    assert_int_equal(rd(0, APR), 0x47); /* TPR above IRR and ISR */
    self_ipi(0, 0x81);
    assert_int_equal(rd(0, APR), 0x80);
}

static void test_esr_write_before_read(void **state)
{
    enable(0);
    wr(0, LVT_ERR, 0xe0);
    self_ipi(0, 5); /* illegal vector */
    assert_int_equal(rd(0, ESR), 0); /* not visible before a write */
    assert_true(irr_has(0, 0xe0)); /* the error interrupt */
    wr(0, ESR, 0);
    assert_int_equal(rd(0, ESR), 0x20);
    assert_false(irr_has(0, 5));
    wr(0, ESR, 0);
    assert_int_equal(rd(0, ESR), 0);
    /* a reserved register offset: illegal register address */
    rd(0, 0x3f0);
    wr(0, ESR, 0);
    assert_int_equal(rd(0, ESR), 0x80);
    /* an LVT entry with an illegal vector: receive illegal vector */
    wr(0, ESR, 0);
    wr(0, LVT_T, 0x03);
    wr(0, TMICT, 1);
    run_to(cyc(2) + 1);
    wr(0, ESR, 0);
    assert_int_equal(rd(0, ESR), 0x40);
}

static void test_timer_one_shot(void **state)
{
    enable(0);
    wr(0, TDCR, 0x0); /* divide by 2 */
    wr(0, LVT_T, 0x40);
    wr(0, TMICT, 1000); /* at tick 0: expires at tick 2000 */
    run_to(cyc(600));
    assert_int_equal(rd(0, TMCCT), 700);
    run_to(cyc(2000) - 1);
    assert_false(irr_has(0, 0x40));
    assert_int_equal(rd(0, TMCCT), 1);
    run_to(cyc(2000));
    assert_true(irr_has(0, 0x40));
    assert_int_equal(rd(0, TMCCT), 0);
    assert_int_equal(ack(0), 0x40);
    wr(0, EOI, 0);
    run_to(cyc(10000));
    assert_false(irr_has(0, 0x40)); /* one shot */
    assert_int_equal(rd(0, TMICT), 1000);
    /* masked: counts, but no interrupt */
    wr(0, LVT_T, 0x10040);
    wr(0, TMICT, 10);
    run_to(cyc(10000 + 40));
    assert_false(irr_has(0, 0x40));
    /* writing 0 stops the count */
    wr(0, LVT_T, 0x40);
    wr(0, TMICT, 100);
    wr(0, TMICT, 0);
    run_to(cyc(20000));
    assert_false(irr_has(0, 0x40));
}

static void test_timer_periodic_and_divide(void **state)
{
    enable(2);
    wr(2, TDCR, 0xb); /* divide by 1 */
    wr(2, LVT_T, 0x20000 | 0x50);
    wr(2, TMICT, 100);
    for (int k = 1; k <= 5; k++) {
        run_to(cyc(100 * k) - 1);
        assert_false(irr_has(2, 0x50));
        run_to(cyc(100 * k));
        assert_true(irr_has(2, 0x50));
        assert_int_equal(rd(2, TMCCT), 100); /* reloaded */
        assert_int_equal(ack(2), 0x50);
        wr(2, EOI, 0);
    }
    run_to(cyc(530));
    assert_int_equal(rd(2, TMCCT), 70);
    wr(2, TDCR, 0x3); /* divide by 16: 70 counts left take 1120 ticks */
    run_to(cyc(530 + 1120) - 1);
    assert_false(irr_has(2, 0x50));
    run_to(cyc(530 + 1120));
    assert_true(irr_has(2, 0x50));
    assert_int_equal(rd(2, TMCCT), 100);
    /* every divide encoding */
    static const struct { uint32_t dcr, div; } d[] = { { 0, 2 }, { 1, 4 }, { 2, 8 }, { 3, 16 },
                                                      { 8, 32 }, { 9, 64 }, { 10, 128 }, { 11, 1 } };
    for (size_t k = 0; k < sizeof d / sizeof d[0]; k++) {
        wr(3, TDCR, d[k].dcr);
        wr(3, TMICT, 1000);
        uint64_t t0 = (uint64_t)m->cpu[3]->cycles * model.crystal_hz / ((uint64_t)model.core_mhz * 1000000u);
        run_to(cyc(t0 + 10 * d[k].div));
        assert_int_equal(rd(3, TMCCT), 990);
    }
}

static void test_timer_masked_and_catch_up(void **state)
{
    enable(0);
    wr(0, TDCR, 0xb);
    wr(0, LVT_T, 0x30000 | 0x44); /* periodic, masked */
    wr(0, TMICT, 100);
    assert_int_equal(m->next_event, UINT64_MAX); /* a masked timer needs no event */
    run_to(cyc(250));
    assert_int_equal(rd(0, TMCCT), 50);
    wr(0, LVT_T, 0x20000 | 0x44); /* unmasked: the next expiry is at tick 300 */
    run_to(cyc(300) - 1);
    assert_false(irr_has(0, 0x44));
    run_to(cyc(300));
    assert_true(irr_has(0, 0x44));
    assert_int_equal(ack(0), 0x44);
    wr(0, EOI, 0);
    /* a one-shot that ran out while masked stays silent when unmasked */
    wr(0, LVT_T, 0x10044);
    wr(0, TMICT, 10);
    run_to(cyc(400));
    wr(0, LVT_T, 0x44);
    run_to(cyc(1000));
    assert_false(irr_has(0, 0x44));
    /* the vCPU ran past an expiry whose event has not fired yet: a new count
     * delivers the old expiry first */
    wr(0, TMICT, 10);
    m->cpu[0]->cycles = cyc(1000 + 20);
    wr(0, TMICT, 1000);
    assert_true(irr_has(0, 0x44));
}

static void test_timer_tsc_deadline(void **state)
{
    uint64_t v;
    enable(1);
    wr(1, LVT_T, 0x40000 | 0x61);
    assert_int_equal(rd(1, LVT_T), 0x40061);
    run_to(1000);
    uint64_t tsc = cpu_tsc(m->cpu[1]);
    assert_false(wrmsr_gp(1, MSR_IA32_TSC_DEADLINE, tsc + 12345));
    assert_false(rdmsr_gp(1, MSR_IA32_TSC_DEADLINE, &v));
    assert_int_equal(v, tsc + 12345);
    wr(1, TMICT, 5); /* ignored in TSC-deadline mode */
    assert_int_equal(rd(1, TMICT), 0);
    run_to(1000 + 12344);
    assert_false(irr_has(1, 0x61));
    run_to(1000 + 12345);
    assert_true(irr_has(1, 0x61));
    rdmsr_gp(1, MSR_IA32_TSC_DEADLINE, &v);
    assert_int_equal(v, 0); /* disarmed */
    assert_int_equal(ack(1), 0x61);
    wr(1, EOI, 0);
    /* a deadline already passed fires at once */
    wrmsr_gp(1, MSR_IA32_TSC_DEADLINE, 1);
    assert_true(irr_has(1, 0x61));
    assert_int_equal(ack(1), 0x61);
    wr(1, EOI, 0);
    /* leaving TSC-deadline mode disarms the timer */
    wrmsr_gp(1, MSR_IA32_TSC_DEADLINE, cpu_tsc(m->cpu[1]) + 100);
    wr(1, LVT_T, 0x61);
    run_to(m->cpu[1]->cycles + 1000);
    assert_false(irr_has(1, 0x61));
    /* outside TSC-deadline mode the MSR reads 0 and ignores writes */
    assert_false(wrmsr_gp(1, MSR_IA32_TSC_DEADLINE, 5));
    rdmsr_gp(1, MSR_IA32_TSC_DEADLINE, &v);
    assert_int_equal(v, 0);
}

static void test_tsc_deadline_absent_gp(void **state)
{
    static struct cpu_model plain;
    plain = *cpu_model_default();
    plain.feat[FW_1_ECX] &= ~(uint32_t)(CPUID_TSC_DEADLINE | CPUID_X2APIC);
    for (int i = 0; i < 4; i++)
        m->cpu[i]->model = &plain;
    uint64_t v;
    assert_true(rdmsr_gp(0, MSR_IA32_TSC_DEADLINE, &v));
    assert_true(wrmsr_gp(0, MSR_IA32_TSC_DEADLINE, 1));
    /* without x2APIC, EXTD is a reserved bit */
    assert_true(wrmsr_gp(0, MSR_IA32_APIC_BASE, 0xfee00000 | APIC_BASE_EN | APIC_BASE_EXTD | APIC_BASE_BSP));
    /* bit 18 of the timer LVT does not exist either */
    enable(0);
    wr(0, LVT_T, 0x40040);
    assert_int_equal(rd(0, LVT_T), 0x40);
}

static void test_ipi_physical_and_shorthands(void **state)
{
    for (int i = 0; i < 4; i++)
        enable(i);
    wr(0, ICR_HI, 2u << 24);
    wr(0, ICR, 0x41);
    assert_int_equal(rd(0, ICR), 0x41); /* delivery status idle */
    for (int i = 0; i < 4; i++)
        assert_int_equal(irr_has(i, 0x41), i == 2);
    assert_true(intr(2));
    /* all including self */
    wr(1, ICR, 0x80000 | 0x42);
    for (int i = 0; i < 4; i++)
        assert_true(irr_has(i, 0x42));
    /* all excluding self */
    wr(3, ICR, 0xc0000 | 0x43);
    for (int i = 0; i < 4; i++)
        assert_int_equal(irr_has(i, 0x43), i != 3);
    /* physical broadcast */
    wr(3, ICR_HI, 0xffu << 24);
    wr(3, ICR, 0x44);
    for (int i = 0; i < 4; i++)
        assert_true(irr_has(i, 0x44));
    /* an absent APIC: lost, no error on this model */
    wr(0, ICR_HI, 9u << 24);
    wr(0, ICR, 0x45);
    for (int i = 0; i < 4; i++)
        assert_false(irr_has(i, 0x45));
    wr(0, ESR, 0);
    assert_int_equal(rd(0, ESR), 0);
    /* a software-disabled target does not accept fixed interrupts */
    wr(2, SVR, 0xff);
    wr(0, ICR_HI, 2u << 24);
    wr(0, ICR, 0x46);
    assert_false(irr_has(2, 0x46));
    /* level-triggered fixed IPI sets the TMR bit */
    wr(0, ICR_HI, 1u << 24);
    wr(0, ICR, 0xc000 | 0x47);
    assert_true((rd(1, TMR + 0x20) >> 7) & 1);
}

static void test_ipi_logical(void **state)
{
    for (int i = 0; i < 4; i++) {
        enable(i);
        wr(i, LDR, (1u << i) << 24); /* flat: one bit each */
    }
    wr(0, ICR_HI, 0x0au << 24);
    wr(0, ICR, 0x800 | 0x51);
    for (int i = 0; i < 4; i++)
        assert_int_equal(irr_has(i, 0x51), i == 1 || i == 3);
    /* cluster model: cluster 2 members 1 and 2 are cpus 0 and 1; cluster 3 member 1 is cpu 2 */
    static const uint32_t ldr[4] = { 0x21, 0x22, 0x31, 0x32 };
    for (int i = 0; i < 4; i++) {
        wr(i, DFR, 0x0fffffff);
        wr(i, LDR, ldr[i] << 24);
    }
    assert_int_equal(rd(0, DFR), 0x0fffffff);
    wr(0, ICR_HI, 0x23u << 24);
    wr(0, ICR, 0x800 | 0x52);
    for (int i = 0; i < 4; i++)
        assert_int_equal(irr_has(i, 0x52), i < 2);
    wr(0, ICR_HI, 0x31u << 24);
    wr(0, ICR, 0x800 | 0x53);
    for (int i = 0; i < 4; i++)
        assert_int_equal(irr_has(i, 0x53), i == 2);
}

static void test_ipi_lowest_priority(void **state)
{
    for (int i = 0; i < 4; i++) {
        enable(i);
        wr(i, LDR, 0x01000000); /* all in one flat group */
    }
    wr(0, TPR, 0x30);
    wr(1, TPR, 0x20);
    wr(2, TPR, 0x40);
    wr(3, TPR, 0x20);
    wr(0, ICR_HI, 0x01u << 24);
    wr(0, ICR, 0x800 | 0x100 | 0x61);
    for (int i = 0; i < 4; i++)
        assert_int_equal(irr_has(i, 0x61), i == 1); /* lowest TPR, lowest ID of the tie */
    wr(1, TPR, 0x50);
    wr(0, ICR, 0x800 | 0x100 | 0x62);
    for (int i = 0; i < 4; i++)
        assert_int_equal(irr_has(i, 0x62), i == 3);
}

static void test_nmi_init_sipi(void **state)
{
    /* application processors start waiting for INIT-SIPI-SIPI (machine_new) */
    assert_true(m->cpu[2]->wait_for_sipi);
    cpu_sipi(m->cpu[2], 0x10);
    assert_false(m->cpu[2]->wait_for_sipi);
    enable(2);
    wr(2, TPR, 0x20);
    wr(0, ICR_HI, 2u << 24);
    wr(0, ICR, 0x400); /* NMI */
    assert_true(m->cpu[2]->nmi_pending);
    assert_false(m->cpu[1]->nmi_pending);
    wr(0, ICR, 0x8000 | 0x500); /* INIT level de-assert: no effect */
    assert_false(m->cpu[2]->wait_for_sipi);
    wr(0, ICR, 0x4000 | 0x500); /* INIT */
    assert_true(m->cpu[2]->wait_for_sipi);
    assert_int_equal(rd(2, SVR), 0xff); /* APIC reset ... */
    assert_int_equal(rd(2, TPR), 0);
    assert_int_equal(rd(2, ID), 2u << 24); /* ... but not its ID */
    wr(0, ICR, 0x4000 | 0x600 | 0x12); /* SIPI */
    assert_false(m->cpu[2]->wait_for_sipi);
    assert_int_equal(m->cpu[2]->seg[S_CS].sel, 0x1200);
    assert_int_equal(m->cpu[2]->seg[S_CS].base, 0x12000);
    assert_int_equal(m->cpu[2]->rip, 0);
    wr(0, ICR, 0x4000 | 0x600 | 0x34); /* a second SIPI is ignored */
    assert_int_equal(m->cpu[2]->seg[S_CS].sel, 0x1200);
    /* INIT to all others from the BSP */
    wr(0, ICR, 0xc0000 | 0x4000 | 0x500);
    for (int i = 1; i < 4; i++)
        assert_true(m->cpu[i]->wait_for_sipi);
    assert_int_equal(m->exit_reason, MEXIT_NONE);
}

static void test_x2apic_transitions(void **state)
{
    uint64_t v, base = 0xfee00000 | APIC_BASE_EN;
    assert_true(rdmsr_gp(1, 0x802, &v)); /* not in x2APIC mode */
    assert_true(wrmsr_gp(1, MSR_IA32_APIC_BASE, 0xfee00000 | APIC_BASE_EXTD)); /* EN=0 EXTD=1 invalid */
    assert_true(wrmsr_gp(1, MSR_IA32_APIC_BASE, base | 0x200)); /* reserved bit 9 */
    assert_true(wrmsr_gp(1, MSR_IA32_APIC_BASE, base | (1ull << 50))); /* above MAXPHYADDR */
    assert_false(wrmsr_gp(1, MSR_IA32_APIC_BASE, base | APIC_BASE_EXTD));
    rdmsr_gp(1, MSR_IA32_APIC_BASE, &v);
    assert_int_equal(v, base | APIC_BASE_EXTD);
    assert_int_equal(rd(1, VER), 0xffffffffu); /* MMIO no longer decodes */
    assert_false(rdmsr_gp(1, 0x802, &v));
    assert_int_equal(v, 1);
    assert_false(rdmsr_gp(1, 0x80d, &v));
    assert_int_equal(v, 0x00000002); /* cluster 0, bit 1 */
    assert_true(wrmsr_gp(1, MSR_IA32_APIC_BASE, base)); /* x2APIC -> xAPIC directly */
    assert_false(wrmsr_gp(1, MSR_IA32_APIC_BASE, 0xfee00000)); /* -> disabled */
    assert_true(wrmsr_gp(1, MSR_IA32_APIC_BASE, base | APIC_BASE_EXTD)); /* disabled -> x2APIC */
    assert_int_equal(rd(1, VER), 0xffffffffu);
    assert_false(wrmsr_gp(1, MSR_IA32_APIC_BASE, base)); /* disabled -> xAPIC */
    assert_int_equal(rd(1, VER), 0x00050015);
    assert_int_equal(rd(1, ID), 1u << 24);
    /* the BSP flag is the hardware's */
    assert_false(wrmsr_gp(0, MSR_IA32_APIC_BASE, base));
    rdmsr_gp(0, MSR_IA32_APIC_BASE, &v);
    assert_int_equal(v, base | APIC_BASE_BSP);
}

static void test_x2apic_registers_and_gp(void **state)
{
    uint64_t v, base = 0xfee00000 | APIC_BASE_EN | APIC_BASE_EXTD;
    for (int i = 0; i < 4; i++) {
        assert_false(wrmsr_gp(i, MSR_IA32_APIC_BASE, base | (i == 0 ? APIC_BASE_BSP : 0)));
        assert_false(wrmsr_gp(i, 0x80f, 0x1ff));
    }
    assert_false(rdmsr_gp(0, 0x803, &v));
    assert_int_equal(v, 0x00050015);
    assert_true(wrmsr_gp(0, 0x802, 5));           /* ID is read-only */
    assert_true(wrmsr_gp(0, 0x803, 0));           /* version */
    assert_true(wrmsr_gp(0, 0x80d, 0));           /* LDR is read-only */
    assert_true(rdmsr_gp(0, 0x80b, &v));          /* EOI is write-only */
    assert_true(wrmsr_gp(0, 0x80b, 1));           /* EOI takes only 0 */
    assert_true(rdmsr_gp(0, 0x809, &v));          /* no APR */
    assert_true(rdmsr_gp(0, 0x80e, &v));          /* no DFR */
    assert_true(rdmsr_gp(0, 0x831, &v));          /* no ICR high half */
    assert_true(rdmsr_gp(0, 0x82f, &v));          /* no CMCI */
    assert_true(rdmsr_gp(0, 0x83f, &v));          /* SELF IPI is write-only */
    assert_true(wrmsr_gp(0, 0x808, 0x100));       /* TPR reserved bits */
    assert_true(wrmsr_gp(0, 0x808, 1ull << 32));  /* upper half reserved */
    assert_true(wrmsr_gp(0, 0x828, 1));           /* ESR takes only 0 */
    assert_true(wrmsr_gp(0, 0x835, 0x20000));     /* LINT0 bit 17 reserved */
    assert_true(wrmsr_gp(0, 0x830, 1u << 13));    /* ICR reserved bit */
    assert_true(wrmsr_gp(0, 0x83f, 0x100));       /* SELF IPI reserved bits */
    bool gp;
    assert_false(lapic_msr_read(m->cpu[0], 0x10, &v, &gp)); /* not an APIC MSR */
    /* 64-bit ICR with a 32-bit destination */
    assert_false(wrmsr_gp(0, 0x830, (3ull << 32) | 0x71));
    rdmsr_gp(3, 0x823, &v); /* IRR bits 127:96 */
    assert_int_equal((v >> (0x71 - 96)) & 1, 1);
    assert_false(rdmsr_gp(0, 0x830, &v));
    assert_int_equal(v, (3ull << 32) | 0x71);
    /* logical: cluster 0, members 1 and 2 */
    assert_false(wrmsr_gp(0, 0x830, (0x6ull << 32) | 0x800 | 0x72));
    for (int i = 0; i < 4; i++) {
        uint64_t irr;
        rdmsr_gp(i, 0x823, &irr);
        assert_int_equal((irr >> (0x72 - 96)) & 1, i == 1 || i == 2);
    }
    /* SELF IPI, TPR, PPR, ISR and EOI through the MSRs */
    assert_false(wrmsr_gp(2, 0x83f, 0x90));
    assert_true(intr(2));
    assert_int_equal(ack(2), 0x90);
    rdmsr_gp(2, 0x814, &v);
    assert_int_equal(v, 1u << (0x90 - 128));
    rdmsr_gp(2, 0x80a, &v);
    assert_int_equal(v, 0x90);
    assert_false(wrmsr_gp(2, 0x80b, 0));
    rdmsr_gp(2, 0x814, &v);
    assert_int_equal(v, 0);
    /* INIT keeps x2APIC mode and the ID */
    assert_false(wrmsr_gp(0, 0x830, (2ull << 32) | 0x4500));
    assert_true(m->cpu[2]->wait_for_sipi);
    rdmsr_gp(2, 0x802, &v);
    assert_int_equal(v, 2);
    rdmsr_gp(2, 0x80f, &v);
    assert_int_equal(v, 0xff);
}

static void test_extint_virtual_wire(void **state)
{
    io_write(m, 0x20, 1, 0x11); /* ICW1 */
    io_write(m, 0x21, 1, 0x20); /* ICW2: vectors 0x20-0x27 */
    io_write(m, 0x21, 1, 0x04); /* ICW3 */
    io_write(m, 0x21, 1, 0x01); /* ICW4 */
    io_write(m, 0x21, 1, 0x00); /* unmask */
    pic_set_irq(pic, 1, true);
    assert_false(intr(0)); /* LINT0 masked at power-on */
    lapics_virtual_wire(s);
    assert_int_equal(rd(0, LINT0), 0x700);
    assert_int_equal(rd(0, LINT1), 0x400);
    assert_true(intr(0));
    assert_false(intr(1)); /* APs' LINT0 stays masked */
    assert_int_equal(ack(0), 0x21);
    assert_false(intr(0));
    /* LINT1 in NMI mode */
    lapic_set_lint(s, 0, 1, true);
    assert_true(m->cpu[0]->nmi_pending);
    /* a globally disabled APIC passes the 8259 straight through */
    assert_false(wrmsr_gp(3, MSR_IA32_APIC_BASE, 0xfee00000));
    pic_set_irq(pic, 1, false);
    io_write(m, 0x20, 1, 0x20); /* 8259 EOI for IRQ 1 */
    pic_set_irq(pic, 3, true);
    assert_true(intr(3));
    assert_int_equal(rd(3, VER), 0xffffffffu);
}

static void test_relocation(void **state)
{
    assert_false(wrmsr_gp(0, MSR_IA32_APIC_BASE, 0xfed00000 | APIC_BASE_EN));
    assert_int_equal(rd_at(0, 0xfed00000, VER), 0x00050015);
    assert_int_equal(rd_at(0, 0xfed00000, ID), 0);
    assert_int_equal(rd(0, VER), 0xffffffffu);          /* the old page is gone for cpu 0 */
    assert_int_equal(rd(1, ID), 1u << 24);               /* but still there for cpu 1 */
    assert_int_equal(rd_at(1, 0xfed00000, VER), 0xffffffffu);
    m->cur = NULL; /* not a vCPU access */
    assert_int_equal(phys_read(m, LAPIC_DEFAULT_BASE + VER, 4), 0xffffffffu);
}

/* Bad programming of every kind: all ones and zeros into every offset of the
 * page and every x2APIC MSR, from every vCPU. Nothing may crash or assert. */
static void test_garbage_never_crashes(void **state)
{
    for (int i = 1; i < 4; i++)
        for (uint32_t off = 0; off < 0x1000; off += 4) {
            wr(i, off, 0xffffffffu);
            rd(i, off);
            m->cur = m->cpu[i];
            phys_write(m, LAPIC_DEFAULT_BASE + off, 1, 0xff);
            phys_read(m, LAPIC_DEFAULT_BASE + off, 8);
        }
    for (int i = 1; i < 4; i++) {
        assert_false(wrmsr_gp(i, MSR_IA32_APIC_BASE, 0xfee00000 | APIC_BASE_EN | APIC_BASE_EXTD));
        for (uint32_t msr = MSR_X2APIC_FIRST; msr <= MSR_X2APIC_LAST; msr++) {
            uint64_t v;
            rdmsr_gp(i, msr, &v);
            wrmsr_gp(i, msr, ~0ull);
            wrmsr_gp(i, msr, 0);
        }
    }
    run_to(10000000);
    for (int i = 0; i < 4; i++)
        ack(i);
    assert_int_equal(m->exit_reason, MEXIT_NONE); /* the BSP never got an INIT */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_power_on_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_software_disable_masks_lvt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_priority_ack_and_eoi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cr8_is_tpr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_esr_write_before_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_one_shot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_periodic_and_divide, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_masked_and_catch_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_tsc_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tsc_deadline_absent_gp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipi_physical_and_shorthands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipi_logical, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipi_lowest_priority, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nmi_init_sipi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_x2apic_transitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_x2apic_registers_and_gp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extint_virtual_wire, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relocation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_never_crashes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
