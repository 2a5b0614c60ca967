/* devices.c - build the PC around a machine's vCPUs (devices/devices.h,
 * docs/platform.md). The wiring, as on a PC with its firmware done:
 *  - the 8259 pair's INT output reaches LINT0 of every local APIC; the BSP's
 *    LINT0 is ExtINT and LINT1 NMI (virtual wire mode), so a guest that never
 *    touches the APICs gets 8259 interrupts as on an old PC;
 *  - every ISA IRQ goes to both the 8259s and the IOAPIC (IRQ 0 on input 2),
 *    with the HPET's LegacyReplacement override (devices/platform_irq.c);
 *  - the UART's IRQ 4 is sampled after each access to its ports, the only
 *    moments its INTR output can change (transmission is instant, there is
 *    no serial input);
 *  - the firmware tables (ACPI, BIOS data area) describe exactly what is
 *    attached here, from the same constants.
 */
#include <stdlib.h>

#include "devices/acpi.h"
#include "devices/bda.h"
#include "devices/devices.h"
#include "devices/memmap.h"

static uint64_t com1_read(void *opaque, uint16_t port, int size)
{
    devices_t *d = opaque;
    uint64_t v = d->com1_port.rd(d->com1_port.opaque, port, size);
    platform_irq_set(&d->irq, IRQ_COM1, uart_irq_line(d->com1));
    return v;
}

static void com1_write(void *opaque, uint16_t port, int size, uint64_t val)
{
    devices_t *d = opaque;
    d->com1_port.wr(d->com1_port.opaque, port, size, val);
    platform_irq_set(&d->irq, IRQ_COM1, uart_irq_line(d->com1));
}

/* fw_cfg: what QEMU publishes that test kernels read (fw_cfg.c has the fixed
 * items; the command line and the E820 map come from here). */
static bool fw_cfg_publish(machine_t *m, fw_cfg_t *f, const char *cmdline)
{
    uint8_t e820[MEMMAP_MAX * E820_ENTRY_SIZE];
    int len = memmap_e820(m, e820);
    return fw_cfg_set_cmdline(f, cmdline ? cmdline : "") && fw_cfg_add_file(f, "etc/e820", e820, (size_t)len);
}

devices_t *devices_attach(machine_t *m, FILE *out, const platform_config_t *cfg)
{
    int64_t rtc_base = 0;
    if (!cfg)
        rtc_parse_time(RTC_DEFAULT_BASE, &rtc_base);
    devices_t *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->out = out;
    d->com1 = uart_new(out);
    d->pic = pic_new();
    d->pit = pit_new();
    d->rtc = rtc_new(cfg ? cfg->rtc_base : rtc_base);
    d->pci = pci_new();
    if (!d->com1 || !d->pic || !d->pit || !d->rtc || !d->pci)
        goto fail;

    d->lapics = lapics_attach(m, d->pic);
    if (!d->lapics)
        goto fail;
    pic_attach(m, d->pic, lapics_pic_notify, d->lapics);
    lapics_virtual_wire(d->lapics);
    d->ioapic = ioapic_attach(m, d->lapics);
    if (!d->ioapic)
        goto fail;
    platform_irq_init(&d->irq, d->pic, d->ioapic);

    uart_attach(m, d->com1, COM1_BASE);
    d->com1_port = m->io[COM1_BASE];
    io_register(m, COM1_BASE, 8, com1_read, com1_write, d);
    debugcon_attach(m, &d->dbg, out);
    pit_attach(m, d->pit, platform_irq_line, &d->irq.line[IRQ_PIT]);
    rtc_attach(m, d->rtc, platform_irq_line, &d->irq.line[IRQ_RTC]);
    rtc_set_memory(d->rtc, m->lowmem_top, m->ram_size - m->lowmem_top);
    d->hpet = hpet_attach(m, HPET_BASE, platform_irq_hpet, &d->irq);
    d->pmtimer = pmtimer_attach(m, PMTIMER_PORT);
    if (!d->hpet || !d->pmtimer)
        goto fail;
    platform_irq_set_hpet(&d->irq, d->hpet);
    acpi_pm_attach(m, &d->pm1, ACPI_PM1_EVT_BLK, ACPI_PM1_CNT_BLK);
    pci_attach(m, d->pci);
    reset_attach(m, &d->reset);
    d->fw_cfg = fw_cfg_attach(m);
    if (!d->fw_cfg || !fw_cfg_publish(m, d->fw_cfg, cfg ? cfg->cmdline : NULL))
        goto fail;

    if (!acpi_build(m))
        goto fail;
    bda_build(m);
    return d;
fail:
    devices_free(d);
    return NULL;
}

void devices_free(devices_t *d)
{
    if (!d)
        return;
    if (d->out)
        fflush(d->out);
    uart_free(d->com1);
    fw_cfg_free(d->fw_cfg);
    pmtimer_free(d->pmtimer);
    hpet_free(d->hpet);
    rtc_free(d->rtc);
    pit_free(d->pit);
    ioapic_free(d->ioapic);
    lapics_free(d->lapics);
    pic_free(d->pic);
    pci_free(d->pci);
    free(d);
}
