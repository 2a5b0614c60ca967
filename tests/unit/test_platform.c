/* test_platform.c - the PC as devices_attach() wires it: the PIT's IRQ 0
 * through the 8259 and the BSP's LINT0 (virtual wire) and through IOAPIC
 * input 2; the HPET's LegacyReplacement override of IRQ 0; the RTC's IRQ 8
 * and its --rtc-base time; the UART's IRQ 4; fw_cfg's RAM size, CPU count,
 * command line and etc/e820; the BIOS data area; APs waiting for INIT-SIPI
 * and started by the BSP's IPIs; and garbage written to every device port
 * and register page never crashing the emulator; the -smp and --rtc-base
 * options that configure it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "devices/acpi.h"
#include "devices/bda.h"
#include "devices/devices.h"
#include "devices/memmap.h"
#include "emu/cpumodel.h"
#include "monitor/options.h"

static machine_t *m;
static devices_t *d;
static int64_t base_time;

enum { SVR = 0xf0, IRR = 0x200, ICR_LO = 0x300, ICR_HI = 0x310, ESR = 0x280 };

static int setup_n(int ncpus)
{
    m = machine_new(64 << 20, cpu_model_default(), ncpus);
    assert_true(rtc_parse_time("2021-03-04T05:06:07", &base_time));
    const platform_config_t cfg = { base_time, "console=ttyS0 smp" };
    d = devices_attach(m, NULL, &cfg);
    return m && d ? 0 : -1;
}
static int setup1(void **state) { return setup_n(1); }
static int setup4(void **state) { return setup_n(4); }
static int teardown(void **state)
{
    devices_free(d);
    machine_free(m);
    return 0;
}

static void apic_wr(int cpu, uint32_t off, uint32_t v)
{
    m->cur = m->cpu[cpu];
    phys_write(m, LAPIC_DEFAULT_BASE + off, 4, v);
    m->cur = NULL;
}
static uint32_t apic_rd(int cpu, uint32_t off)
{
    m->cur = m->cpu[cpu];
    uint32_t v = (uint32_t)phys_read(m, LAPIC_DEFAULT_BASE + off, 4);
    m->cur = NULL;
    return v;
}
static bool irr_has(int cpu, int vec) { return (apic_rd(cpu, IRR + (vec / 32) * 16) >> (vec % 32)) & 1; }
static void redirect(int pin, uint8_t vec, uint8_t dest)
{
    phys_write(m, IOAPIC_BASE, 4, 0x11 + 2 * pin);
    phys_write(m, IOAPIC_BASE + 0x10, 4, (uint32_t)dest << 24);
    phys_write(m, IOAPIC_BASE, 4, 0x10 + 2 * pin);
    phys_write(m, IOAPIC_BASE + 0x10, 4, vec);
}
/* Let guest time run to cycle t on every vCPU, firing device events. */
static void run_to(uint64_t t)
{
    for (int i = 0; i < m->ncpus; i++)
        m->cpu[i]->cycles = t;
    events_fire(m, t);
}
static uint64_t hz(void) { return (uint64_t)m->cpu[0]->model->core_mhz * 1000000u; }
static uint64_t pit_cycles(uint64_t ticks) { return ticks * hz() / PIT_HZ + 1; }

/* PIT channel 0 in mode 2 with the given count. */
static void pit_rate(uint16_t count)
{
    io_write(m, 0x43, 1, 0x34);
    io_write(m, 0x40, 1, count & 0xff);
    io_write(m, 0x40, 1, count >> 8);
}

static void pit_through_8259_and_virtual_wire(void **state)
{
    io_write(m, 0x20, 1, 0x11); /* ICW1: edge, cascade, ICW4 */
    io_write(m, 0x21, 1, 0x30); /* ICW2: vectors 0x30-0x37 */
    io_write(m, 0x21, 1, 0x04);
    io_write(m, 0x21, 1, 0x01);
    io_write(m, 0x21, 1, 0xfe); /* only IRQ 0 */
    pit_rate(1000);
    assert_false(m->cpu[0]->intr_line);
    run_to(pit_cycles(1002));
    assert_true(m->cpu[0]->intr_line);
    assert_int_equal(m->intr_ack(m->intr_opaque, 0), 0x30);
}

static void pit_through_ioapic_pin2(void **state)
{
    apic_wr(0, SVR, 0x1ff);
    redirect(2, 0x40, 0);
    redirect(0, 0x41, 0); /* the MADT says IRQ 0 is not on input 0 */
    pit_rate(1000);
    run_to(pit_cycles(1002));
    assert_true(irr_has(0, 0x40));
    assert_false(irr_has(0, 0x41));
    assert_int_equal(m->intr_ack(m->intr_opaque, 0), 0x40);
}

static void hpet_legacy_replaces_pit(void **state)
{
    apic_wr(0, SVR, 0x1ff);
    redirect(2, 0x40, 0);
    pit_rate(100);
    phys_write(m, HPET_BASE + 0x100, 8, 1u << 2);          /* timer 0: interrupts enabled, edge */
    phys_write(m, HPET_BASE + 0x108, 8, 1000000);          /* 10 ms at 100 MHz */
    phys_write(m, HPET_BASE + 0x10, 8, 3);                 /* ENABLE_CNF | LEG_RT_CNF */
    run_to(hz() / 200);                                    /* 5 ms: many PIT periods, no HPET match */
    assert_false(irr_has(0, 0x40));
    run_to(hz() / 100 + 1);
    assert_true(irr_has(0, 0x40));
    assert_int_equal(m->intr_ack(m->intr_opaque, 0), 0x40);
    apic_wr(0, 0xb0, 0);                                   /* EOI */
    phys_write(m, HPET_BASE + 0x10, 8, 1);                 /* legacy off: the PIT is back */
    run_to(hz() / 100 + pit_cycles(202));
    assert_true(irr_has(0, 0x40));
}

static void rtc_irq8_and_time(void **state)
{
    static const struct { uint8_t reg, bcd; } want[] = {
        { 0x00, 0x07 }, { 0x02, 0x06 }, { 0x04, 0x05 }, { 0x07, 0x04 }, { 0x08, 0x03 }, { 0x09, 0x21 }, { 0x32, 0x20 },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        io_write(m, 0x70, 1, want[i].reg);
        assert_int_equal(io_read(m, 0x71, 1), want[i].bcd);
    }
    apic_wr(0, SVR, 0x1ff);
    redirect(8, 0x48, 0);
    io_write(m, 0x70, 1, 0x0b);
    io_write(m, 0x71, 1, 0x42); /* PIE, 24-hour */
    run_to(hz() / 1000);        /* 1024 Hz: one period has passed */
    assert_true(irr_has(0, 0x48));
    /* CMOS memory size: extended memory above 1 MiB in KiB (63 MiB) */
    io_write(m, 0x70, 1, 0x17);
    uint32_t lo = (uint32_t)io_read(m, 0x71, 1);
    io_write(m, 0x70, 1, 0x18);
    assert_int_equal(lo | (uint32_t)io_read(m, 0x71, 1) << 8, 63 * 1024);
}

static void uart_irq4(void **state)
{
    apic_wr(0, SVR, 0x1ff);
    redirect(4, 0x44, 0);
    io_write(m, COM1_BASE + UART_IER, 1, 0x02); /* THR empty */
    assert_false(irr_has(0, 0x44));             /* OUT2 gates the line */
    io_write(m, COM1_BASE + UART_MCR, 1, 0x08);
    assert_true(irr_has(0, 0x44));
}

static void fw_cfg_and_bda(void **state)
{
    io_write(m, FW_CFG_PORT_SEL, 2, FW_CFG_RAM_SIZE);
    uint64_t ram = 0;
    for (int i = 0; i < 8; i++)
        ram |= io_read(m, FW_CFG_PORT_DATA, 1) << 8 * i;
    assert_int_equal(ram, 64 << 20);
    io_write(m, FW_CFG_PORT_SEL, 2, FW_CFG_NB_CPUS);
    assert_int_equal(io_read(m, FW_CFG_PORT_DATA, 1), 4);
    io_write(m, FW_CFG_PORT_SEL, 2, FW_CFG_CMDLINE_DATA);
    char cmd[32] = { 0 };
    for (int i = 0; i < 31; i++)
        cmd[i] = (char)io_read(m, FW_CFG_PORT_DATA, 1);
    assert_string_equal(cmd, "console=ttyS0 smp");
    /* etc/e820 is the one memory map */
    uint8_t want[MEMMAP_MAX * E820_ENTRY_SIZE];
    int len = memmap_e820(m, want);
    fw_cfg_file_t *f = NULL;
    for (int i = 0; i < d->fw_cfg->nfiles; i++)
        if (strcmp(d->fw_cfg->files[i].name, "etc/e820") == 0)
            f = &d->fw_cfg->files[i];
    assert_non_null(f);
    assert_int_equal(f->item.len, len);
    assert_memory_equal(f->item.data, want, (size_t)len);

    assert_int_equal(phys_read(m, BDA_COM_PORTS, 2), 0x3f8);
    assert_int_equal(phys_read(m, BDA_EBDA_SEG, 2), 0x9fc0);
    assert_int_equal(phys_read(m, BDA_BASE_MEM, 2), 639);
    assert_memory_equal(phys_ram_ptr(m, ACPI_RSDP_ADDR), "RSD PTR ", 8);
}

static void aps_wait_for_init_sipi(void **state)
{
    assert_false(m->cpu[0]->wait_for_sipi);
    for (int i = 1; i < 4; i++)
        assert_true(m->cpu[i]->wait_for_sipi);
    apic_wr(0, SVR, 0x1ff);
    apic_wr(0, ICR_HI, 2u << 24);
    apic_wr(0, ICR_LO, 0x4500); /* INIT to APIC 2 */
    apic_wr(0, ICR_LO, 0x4608); /* SIPI, vector 8: start at 0x8000 */
    const cpu_t *c = m->cpu[2];
    assert_false(c->wait_for_sipi);
    assert_int_equal(c->seg[S_CS].sel, 0x0800);
    assert_int_equal(c->seg[S_CS].base, 0x8000);
    assert_int_equal(c->rip, 0);
    assert_int_equal(c->mode, MODE_REAL);
    assert_true(m->cpu[1]->wait_for_sipi);
    assert_true(m->cpu[3]->wait_for_sipi);
}

/* Deterministic garbage into every port and register page a device claims. */
static void garbage_never_crashes(void **state)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    apic_wr(0, SVR, 0x1ff);
    apic_wr(0, ICR_HI, 0x55u << 24);
    apic_wr(0, ICR_LO, 0x4030); /* a fixed IPI to an APIC that does not exist */
    for (int i = 0; i < 4; i++)
        assert_false(irr_has(i, 0x30));
    io_write(m, 0x43, 1, 0x3e); /* PIT mode 7 (an alias of mode 3) */
    io_write(m, 0x40, 1, 0);
    io_write(m, 0x40, 1, 0);
    static const uint16_t ports[] = { 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x40, 0x41, 0x42, 0x43, 0x61, 0x70, 0x71,
                                      0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff, 0x510, 0x511, 0x600,
                                      0x602, 0x604, 0x608, 0xcf8, 0xcfc, 0xcfe };
    static const uint64_t pages[] = { IOAPIC_BASE, HPET_BASE, LAPIC_DEFAULT_BASE };
    for (int round = 0; round < 20000; round++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int size = 1 << (x >> 62);
        if (size == 8)
            size = 4;
        if (x & 1) {
            uint16_t p = ports[(x >> 8) % (sizeof ports / sizeof ports[0])];
            if (x & 2)
                io_write(m, p, size, x >> 16);
            else
                io_read(m, p, size);
        } else {
            uint64_t pa = pages[(x >> 8) % 3] + ((x >> 20) & 0x3fc);
            m->cur = m->cpu[(x >> 40) % 4];
            if (x & 2)
                phys_write(m, pa, 4, x >> 32);
            else
                phys_read(m, pa, 4);
            m->cur = NULL;
        }
        if ((round & 255) == 0)
            run_to(m->cpu[0]->cycles + 5000);
    }
    for (int i = 0; i < 4; i++)
        if (m->cpu[i]->intr_line)
            m->intr_ack(m->intr_opaque, i);
}

static int parse(options_t *o, int argc, char **argv)
{
    char err[256];
    int rc = options_parse(argc, argv, o, err, sizeof err);
    options_free(o);
    return rc;
}

static void options_smp_and_rtc_base(void **state)
{
    options_t o;
    int64_t t;
    char *dflt[] = { "vmxemu", "k" };
    assert_int_equal(parse(&o, 2, dflt), 0);
    assert_int_equal(o.smp, 1);
    assert_true(rtc_parse_time(RTC_DEFAULT_BASE, &t));
    assert_int_equal(o.rtc_base, t);
    char *good[] = { "vmxemu", "-smp", "16", "--rtc-base=2021-03-04T05:06:07", "k" };
    assert_int_equal(parse(&o, 5, good), 0);
    assert_int_equal(o.smp, 16);
    assert_true(rtc_parse_time("2021-03-04T05:06:07", &t));
    assert_int_equal(o.rtc_base, t);
    static const char *const bad[][2] = {
        { "-smp", "0" }, { "-smp", "17" }, { "-smp", "4x" }, { "-smp", "-1" }, { "-smp", "" },
        { "--rtc-base", "2021-03-04" }, { "--rtc-base", "2021-13-01T00:00:00" }, { "--rtc-base", "yesterday" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *argv[] = { "vmxemu", (char *)bad[i][0], (char *)bad[i][1], "k" };
        assert_int_equal(parse(&o, 4, argv), -1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(pit_through_8259_and_virtual_wire, setup1, teardown),
        cmocka_unit_test_setup_teardown(pit_through_ioapic_pin2, setup1, teardown),
        cmocka_unit_test_setup_teardown(hpet_legacy_replaces_pit, setup1, teardown),
        cmocka_unit_test_setup_teardown(rtc_irq8_and_time, setup1, teardown),
        cmocka_unit_test_setup_teardown(uart_irq4, setup1, teardown),
        cmocka_unit_test_setup_teardown(fw_cfg_and_bda, setup4, teardown),
        cmocka_unit_test_setup_teardown(aps_wait_for_init_sipi, setup4, teardown),
        cmocka_unit_test_setup_teardown(garbage_never_crashes, setup4, teardown),
        cmocka_unit_test(options_smp_and_rtc_base),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
