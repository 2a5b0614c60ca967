/* test_acpi.c - the ACPI tables as an OS finds them: the RSDP in the BIOS
 * area with both checksums, RSDT and XSDT listing the same tables, every
 * checksum valid, the FADT's fixed hardware (PM timer, PM1 blocks, reset
 * register, FACS, DSDT), the MADT for 1 and 16 vCPUs, the HPET table; every
 * table in memory the E820 map reserves; the PM1 blocks' registers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "devices/acpi.h"
#include "devices/acpi_pm.h"
#include "devices/memmap.h"
#include "emu/cpumodel.h"

static const uint8_t *at(machine_t *m, uint64_t pa) { return phys_ram_ptr(m, pa); }
static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* A table at pa: its signature matches, its checksum sums to 0, and it lies
 * in reserved memory. Returns it. */
static const uint8_t *table(machine_t *m, uint64_t pa, const char *sig)
{
    const uint8_t *t = at(m, pa);
    assert_non_null(t);
    assert_memory_equal(t, sig, 4);
    uint32_t len = (uint32_t)le(t + 4, 4);
    if (strcmp(sig, "FACS") != 0)
        assert_int_equal(acpi_sum(t, len), 0);
    memmap_entry_t e[MEMMAP_MAX];
    int n = memmap_build(m, e), in = 0;
    for (int i = 0; i < n; i++)
        if (pa >= e[i].base && pa + len <= e[i].base + e[i].len && e[i].type == E820_RESERVED)
            in = 1;
    assert_true(in);
    return t;
}

/* The table the XSDT lists with signature sig, or NULL. */
static const uint8_t *find(machine_t *m, const char *sig, uint64_t *pa)
{
    const uint8_t *x = at(m, le(at(m, ACPI_RSDP_ADDR) + 24, 8));
    for (uint32_t off = 36; off < le(x + 4, 4); off += 8) {
        uint64_t a = le(x + off, 8);
        if (memcmp(at(m, a), sig, 4) == 0) {
            if (pa)
                *pa = a;
            return table(m, a, sig);
        }
    }
    return NULL;
}

static machine_t *built(int ncpus)
{
    machine_t *m = machine_new(64 << 20, cpu_model_default(), ncpus);
    assert_non_null(m);
    assert_true(acpi_build(m));
    return m;
}

static void rsdp_and_roots(void **state)
{
    machine_t *m = built(1);
    const uint8_t *r = at(m, ACPI_RSDP_ADDR);
    assert_int_equal(ACPI_RSDP_ADDR & 15, 0);
    assert_true(ACPI_RSDP_ADDR >= 0xe0000 && ACPI_RSDP_ADDR < 0x100000);
    assert_memory_equal(r, "RSD PTR ", 8);
    assert_int_equal(r[15], 2);
    assert_int_equal(acpi_sum(r, 20), 0);
    assert_int_equal(le(r + 20, 4), 36);
    assert_int_equal(acpi_sum(r, 36), 0);
    const uint8_t *rsdt = table(m, le(r + 16, 4), "RSDT");
    const uint8_t *xsdt = table(m, le(r + 24, 8), "XSDT");
    uint32_t n = (uint32_t)(le(rsdt + 4, 4) - 36) / 4;
    assert_int_equal(n, 3);
    assert_int_equal((le(xsdt + 4, 4) - 36) / 8, n);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(le(rsdt + 36 + 4 * i, 4), le(xsdt + 36 + 8 * i, 8));
    assert_non_null(find(m, "FACP", NULL));
    assert_non_null(find(m, "APIC", NULL));
    assert_non_null(find(m, "HPET", NULL));
    machine_free(m);
}

static void fadt(void **state)
{
    machine_t *m = built(1);
    const uint8_t *f = find(m, "FACP", NULL);
    assert_int_equal(le(f + 4, 4), 276);
    assert_int_equal(f[8], 6);
    /* FACS: 64-byte aligned, both forms of the address agree */
    uint64_t facs = le(f + 36, 4);
    assert_int_equal(le(f + 132, 8), facs);
    assert_int_equal(facs & 63, 0);
    const uint8_t *fc = table(m, facs, "FACS");
    assert_int_equal(le(fc + 4, 4), 64);
    /* DSDT: header only, an empty DefinitionBlock */
    uint64_t dsdt = le(f + 40, 4);
    assert_int_equal(le(f + 140, 8), dsdt);
    assert_int_equal(le(table(m, dsdt, "DSDT") + 4, 4), 36);
    assert_int_equal(le(f + 46, 2), ACPI_SCI_IRQ);
    assert_int_equal(le(f + 48, 4), 0); /* no SMI_CMD: always in ACPI mode */
    /* PM1a event/control, PM timer: 32-bit and X_ forms */
    assert_int_equal(le(f + 56, 4), 0x600);
    assert_int_equal(le(f + 64, 4), 0x604);
    assert_int_equal(le(f + 76, 4), 0x608);
    assert_int_equal(f[88], 4);
    assert_int_equal(f[89], 2);
    assert_int_equal(f[91], 4);
    const uint8_t x_pm_tmr[12] = { 1, 32, 0, 3, 0x08, 0x06 };
    assert_memory_equal(f + 208, x_pm_tmr, 12);
    assert_int_equal(f[148], 1);
    assert_int_equal(le(f + 148 + 4, 8), 0x600);
    assert_int_equal(le(f + 172 + 4, 8), 0x604);
    uint32_t flags = (uint32_t)le(f + 112, 4);
    assert_int_equal(flags & (1u << 8), 0);       /* TMR_VAL_EXT: 24-bit timer */
    assert_int_equal(flags & (1u << 10), 1u << 10); /* RESET_REG_SUP */
    const uint8_t reset_reg[12] = { 1, 8, 0, 1, 0xf9, 0x0c };
    assert_memory_equal(f + 116, reset_reg, 12);
    assert_int_equal(f[128], 6);
    assert_int_equal(f[108], 0x32); /* RTC century register */
    machine_free(m);
}

static void madt(int ncpus)
{
    machine_t *m = built(ncpus);
    const uint8_t *t = find(m, "APIC", NULL);
    assert_int_equal(le(t + 36, 4), 0xfee00000u);
    assert_int_equal(le(t + 40, 4), 1); /* PCAT_COMPAT */
    int lapics = 0, ioapics = 0, nmis = 0;
    bool irq0 = false, irq9 = false;
    for (uint32_t off = 44; off < le(t + 4, 4);) {
        const uint8_t *e = t + off;
        assert_true(e[1] >= 2);
        switch (e[0]) {
        case 0:
            assert_int_equal(e[1], 8);
            assert_int_equal(e[2], lapics); /* processor UID */
            assert_int_equal(e[3], lapics); /* APIC ID */
            assert_int_equal(le(e + 4, 4), 1);
            lapics++;
            break;
        case 1:
            assert_int_equal(e[1], 12);
            assert_int_equal(e[2], 0);
            assert_int_equal(le(e + 4, 4), 0xfec00000u);
            assert_int_equal(le(e + 8, 4), 0);
            ioapics++;
            break;
        case 2:
            assert_int_equal(e[1], 10);
            assert_int_equal(e[2], 0);
            if (e[3] == 0) {
                assert_int_equal(le(e + 4, 4), 2);
                assert_int_equal(le(e + 8, 2), 0x5); /* edge, active high */
                irq0 = true;
            } else {
                assert_int_equal(e[3], 9);
                assert_int_equal(le(e + 4, 4), 9);
                assert_int_equal(le(e + 8, 2), 0xd); /* level, active high */
                irq9 = true;
            }
            break;
        case 4:
            assert_int_equal(e[1], 6);
            assert_int_equal(e[2], 0xff);
            assert_int_equal(e[5], 1); /* LINT1 */
            nmis++;
            break;
        default:
            fail_msg("unexpected MADT entry type %d", e[0]);
        }
        off += e[1];
    }
    assert_int_equal(lapics, ncpus);
    assert_int_equal(ioapics, 1);
    assert_int_equal(nmis, 1);
    assert_true(irq0 && irq9);
    machine_free(m);
}
static void madt_one_cpu(void **state) { madt(1); }
static void madt_sixteen_cpus(void **state) { madt(MAX_CPUS); }

static void hpet_table(void **state)
{
    machine_t *m = built(2);
    const uint8_t *h = find(m, "HPET", NULL);
    assert_int_equal(le(h + 4, 4), 56);
    assert_int_equal(le(h + 36, 4), 0x8086a201u);
    assert_int_equal(h[40], 0); /* system memory */
    assert_int_equal(le(h + 44, 8), 0xfed00000u);
    machine_free(m);
}

static void pm1_blocks(void **state)
{
    machine_t *m = machine_new(16 << 20, NULL, 1);
    acpi_pm_t pm;
    acpi_pm_attach(m, &pm, ACPI_PM1_EVT_BLK, ACPI_PM1_CNT_BLK);
    assert_int_equal(io_read(m, 0x604, 2) & 1, 1); /* SCI_EN: ACPI mode */
    io_write(m, 0x604, 2, 0);
    assert_int_equal(io_read(m, 0x604, 2) & 1, 1);
    io_write(m, 0x604, 2, 5u << 10 | 1u << 13); /* SLP_TYP kept, SLP_EN write-only */
    assert_int_equal(io_read(m, 0x604, 2), 5u << 10 | 1);
    io_write(m, 0x602, 2, 0xffff); /* PM1_EN: defined bits only */
    assert_int_equal(io_read(m, 0x602, 2), 0x4721);
    assert_int_equal(io_read(m, 0x600, 4), 0x4721u << 16);
    pm.sts = 0x8001;
    io_write(m, 0x600, 2, 0x0001); /* write 1 to clear */
    assert_int_equal(io_read(m, 0x600, 2), 0x8000);
    machine_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rsdp_and_roots), cmocka_unit_test(fadt),       cmocka_unit_test(madt_one_cpu),
        cmocka_unit_test(madt_sixteen_cpus), cmocka_unit_test(hpet_table), cmocka_unit_test(pm1_blocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
