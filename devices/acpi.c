/* acpi.c - build the ACPI tables (ACPI Specification 6.0) from the machine
 * configuration: one row of ACPI_TABLES per table, in placement order, each
 * with a builder for its body; the generic code fills the standard header
 * (signature, length, revision, OEM fields) and the checksum, and lays the
 * tables out after the RSDP in the BIOS area (see acpi.h).
 *
 * What the tables say, and why:
 *  - MADT: one Processor Local APIC per vCPU (ACPI processor UID = APIC ID =
 *    vCPU index, as lapics_attach numbers them), the IOAPIC (ID 0, GSI base 0),
 *    the ISA overrides every PC firmware publishes (IRQ 0 -> GSI 2 edge, IRQ 9
 *    -> GSI 9 level active high, the SCI, as QEMU), LINT1 as NMI on every
 *    processor, and PCAT_COMPAT because the 8259 pair is present.
 *  - FADT revision 6: SCI on IRQ 9, no SMI command port (the machine is always
 *    in ACPI mode, so PM1_CNT.SCI_EN reads 1), the PM1a event and control
 *    blocks of devices/acpi_pm.c, the PM timer at 0x608 (24 bits:
 *    TMR_VAL_EXT clear), the RTC century register, the reset register 0xCF9
 *    with value 6, no C2/C3 states, legacy devices but no VGA; both the 32-bit
 *    and X_ forms of every address, equal.
 *  - DSDT: a header with an empty AML body, a valid empty DefinitionBlock.
 *  - HPET: the block at 0xFED00000, its event timer block ID read from the
 *    model's capabilities (3 comparators, 64-bit, legacy capable, Intel).
 */
#include "devices/acpi.h"

#include <string.h>

#include "devices/acpi_pm.h"
#include "devices/hpet.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "devices/memmap.h"
#include "devices/pmtimer.h"

#define HDR_LEN 36
#define OEM_ID "VMXEMU"
#define OEM_TABLE_ID "VMXEMUPC"
#define CREATOR_ID "VMXE"
#define TABLE_ROOM 512 /* the most any one table needs (MADT with MAX_CPUS entries: 210 bytes) */

struct acpi_ctx;
typedef uint32_t (*build_fn)(struct acpi_ctx *a, uint8_t *t);

static uint32_t build_facs(struct acpi_ctx *a, uint8_t *t);
static uint32_t build_dsdt(struct acpi_ctx *a, uint8_t *t);
static uint32_t build_fadt(struct acpi_ctx *a, uint8_t *t);
static uint32_t build_madt(struct acpi_ctx *a, uint8_t *t);
static uint32_t build_hpet(struct acpi_ctx *a, uint8_t *t);
static uint32_t build_rsdt(struct acpi_ctx *a, uint8_t *t);
static uint32_t build_xsdt(struct acpi_ctx *a, uint8_t *t);

/* T(id, signature, revision, alignment, listed in RSDT/XSDT, standard header, builder).
 * A builder may use the address of any table placed before it. */
#define ACPI_TABLES(T)                                      \
    T(FACS, "FACS", 2, 64, false, false, build_facs)        \
    T(DSDT, "DSDT", 2, 16, false, true, build_dsdt)         \
    T(FADT, "FACP", 6, 16, true, true, build_fadt)          \
    T(MADT, "APIC", 4, 16, true, true, build_madt)          \
    T(HPET, "HPET", 1, 16, true, true, build_hpet)          \
    T(RSDT, "RSDT", 1, 16, false, true, build_rsdt)         \
    T(XSDT, "XSDT", 1, 16, false, true, build_xsdt)

enum acpi_table {
#define T(id, sig, rev, align, listed, hdr, fn) TBL_##id,
    ACPI_TABLES(T)
#undef T
    TBL_COUNT
};

static const struct {
    char sig[5];
    uint8_t rev;
    uint32_t align;
    bool listed, hdr;
    build_fn build;
} tables[TBL_COUNT] = {
#define T(id, sig, rev, align, listed, hdr, fn) [TBL_##id] = { sig, rev, align, listed, hdr, fn },
    ACPI_TABLES(T)
#undef T
};

struct acpi_ctx {
    const machine_t *m;
    uint64_t addr[TBL_COUNT]; /* guest physical address of each table placed so far */
};

static void put(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> 8 * i);
}

uint8_t acpi_sum(const uint8_t *p, uint64_t n)
{
    uint8_t s = 0;
    for (uint64_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

/* A Generic Address Structure: address space (0 memory, 1 I/O), register
 * width in bits, access size (1 byte .. 4 qword). */
enum { GAS_MEM = 0, GAS_IO = 1 };
static void gas(uint8_t *p, int space, int bits, int access, uint64_t addr)
{
    p[0] = (uint8_t)space;
    p[1] = (uint8_t)bits;
    p[2] = 0;
    p[3] = (uint8_t)access;
    put(p + 4, addr, 8);
}

static uint32_t build_facs(struct acpi_ctx *a, uint8_t *t)
{
    memcpy(t, "FACS", 4);
    put(t + 4, 64, 4);
    t[32] = tables[TBL_FACS].rev; /* everything else (waking vectors, global lock) starts 0 */
    return 64;
}

static uint32_t build_dsdt(struct acpi_ctx *a, uint8_t *t)
{
    return HDR_LEN;
}

/* FADT field offsets (ACPI 6.0 "Fixed ACPI Description Table"). */
enum {
    FADT_FIRMWARE_CTRL = 36, FADT_DSDT = 40, FADT_SCI_INT = 46, FADT_PM1A_EVT = 56, FADT_PM1A_CNT = 64,
    FADT_PM_TMR = 76, FADT_PM1_EVT_LEN = 88, FADT_PM1_CNT_LEN = 89, FADT_PM_TMR_LEN = 91, FADT_P_LVL2_LAT = 96,
    FADT_P_LVL3_LAT = 98, FADT_CENTURY = 108, FADT_BOOT_ARCH = 109, FADT_FLAGS = 112, FADT_RESET_REG = 116,
    FADT_RESET_VALUE = 128, FADT_X_FIRMWARE_CTRL = 132, FADT_X_DSDT = 140, FADT_X_PM1A_EVT = 148,
    FADT_X_PM1A_CNT = 172, FADT_X_PM_TMR = 208, FADT_LEN = 276,
};
enum {
    FF_WBINVD = 1u << 0, FF_PROC_C1 = 1u << 2, FF_PWR_BUTTON = 1u << 4, FF_SLP_BUTTON = 1u << 5,
    FF_RESET_REG_SUP = 1u << 10,
};
enum { BOOT_LEGACY_DEVICES = 1u << 0, BOOT_VGA_NOT_PRESENT = 1u << 2 };
#define RTC_CENTURY_REG 0x32

static uint32_t build_fadt(struct acpi_ctx *a, uint8_t *t)
{
    put(t + FADT_FIRMWARE_CTRL, a->addr[TBL_FACS], 4);
    put(t + FADT_X_FIRMWARE_CTRL, a->addr[TBL_FACS], 8);
    put(t + FADT_DSDT, a->addr[TBL_DSDT], 4);
    put(t + FADT_X_DSDT, a->addr[TBL_DSDT], 8);
    put(t + FADT_SCI_INT, ACPI_SCI_IRQ, 2);
    put(t + FADT_PM1A_EVT, ACPI_PM1_EVT_BLK, 4);
    put(t + FADT_PM1A_CNT, ACPI_PM1_CNT_BLK, 4);
    put(t + FADT_PM_TMR, PMTIMER_PORT, 4);
    t[FADT_PM1_EVT_LEN] = ACPI_PM1_EVT_LEN;
    t[FADT_PM1_CNT_LEN] = ACPI_PM1_CNT_LEN;
    t[FADT_PM_TMR_LEN] = 4;
    put(t + FADT_P_LVL2_LAT, 101, 2);  /* > 100: C2 not supported */
    put(t + FADT_P_LVL3_LAT, 1001, 2); /* > 1000: C3 not supported */
    t[FADT_CENTURY] = RTC_CENTURY_REG;
    put(t + FADT_BOOT_ARCH, BOOT_LEGACY_DEVICES | BOOT_VGA_NOT_PRESENT, 2);
    put(t + FADT_FLAGS, FF_WBINVD | FF_PROC_C1 | FF_PWR_BUTTON | FF_SLP_BUTTON | FF_RESET_REG_SUP, 4);
    gas(t + FADT_RESET_REG, GAS_IO, 8, 1, ACPI_RESET_PORT);
    t[FADT_RESET_VALUE] = ACPI_RESET_VALUE;
    gas(t + FADT_X_PM1A_EVT, GAS_IO, 8 * ACPI_PM1_EVT_LEN, 2, ACPI_PM1_EVT_BLK);
    gas(t + FADT_X_PM1A_CNT, GAS_IO, 8 * ACPI_PM1_CNT_LEN, 2, ACPI_PM1_CNT_BLK);
    gas(t + FADT_X_PM_TMR, GAS_IO, 32, 3, PMTIMER_PORT);
    return FADT_LEN;
}

/* MADT interrupt controller structures (ACPI 6.0 "Multiple APIC Description Table"). */
enum { MADT_LAPIC = 0, MADT_IOAPIC = 1, MADT_OVERRIDE = 2, MADT_LAPIC_NMI = 4 };
enum { MPS_HIGH_EDGE = 0x5, MPS_HIGH_LEVEL = 0xd }; /* polarity bits 1:0, trigger bits 3:2 */
#define MADT_PCAT_COMPAT 1u

static const struct { uint8_t irq; uint32_t gsi; uint16_t flags; } overrides[] = {
    { 0, 2, MPS_HIGH_EDGE },               /* the PIT on IOAPIC input 2 */
    { ACPI_SCI_IRQ, ACPI_SCI_IRQ, MPS_HIGH_LEVEL }, /* the SCI */
};

static uint32_t build_madt(struct acpi_ctx *a, uint8_t *t)
{
    put(t + 36, LAPIC_DEFAULT_BASE, 4);
    put(t + 40, MADT_PCAT_COMPAT, 4);
    uint8_t *p = t + 44;
    for (int i = 0; i < a->m->ncpus; i++, p += 8) {
        p[0] = MADT_LAPIC, p[1] = 8, p[2] = (uint8_t)i, p[3] = (uint8_t)i;
        put(p + 4, 1, 4); /* enabled */
    }
    p[0] = MADT_IOAPIC, p[1] = 12, p[2] = 0, p[3] = 0; /* ID 0, as ioapic_attach sets it */
    put(p + 4, IOAPIC_BASE, 4);
    put(p + 8, 0, 4);
    p += 12;
    for (size_t i = 0; i < sizeof overrides / sizeof overrides[0]; i++, p += 10) {
        p[0] = MADT_OVERRIDE, p[1] = 10, p[2] = 0 /* ISA */, p[3] = overrides[i].irq;
        put(p + 4, overrides[i].gsi, 4);
        put(p + 8, overrides[i].flags, 2);
    }
    p[0] = MADT_LAPIC_NMI, p[1] = 6, p[2] = 0xff; /* every processor */
    put(p + 3, MPS_HIGH_EDGE, 2);
    p[5] = 1; /* LINT1 */
    p += 6;
    return (uint32_t)(p - t);
}

/* Event Timer Block ID: the low 32 bits of the HPET's GCAP_ID register. */
#define HPET_BLOCK_ID (0x8086u << 16 | 1u << 15 | 1u << 13 | (HPET_TIMERS - 1u) << 8 | 1u)

static uint32_t build_hpet(struct acpi_ctx *a, uint8_t *t)
{
    put(t + 36, HPET_BLOCK_ID, 4);
    gas(t + 40, GAS_MEM, 64, 0, HPET_BASE);
    t[52] = 0;               /* HPET number */
    put(t + 53, 0x80, 2);    /* minimum periodic tick without lost interrupts, as QEMU */
    t[55] = 0;               /* no page protection */
    return 56;
}

static uint32_t build_root(struct acpi_ctx *a, uint8_t *t, int width)
{
    uint32_t len = HDR_LEN;
    for (int i = 0; i < TBL_COUNT; i++)
        if (tables[i].listed) {
            put(t + len, a->addr[i], width);
            len += (uint32_t)width;
        }
    return len;
}

static uint32_t build_rsdt(struct acpi_ctx *a, uint8_t *t) { return build_root(a, t, 4); }
static uint32_t build_xsdt(struct acpi_ctx *a, uint8_t *t) { return build_root(a, t, 8); }

static void header(uint8_t *t, int id, uint32_t len)
{
    memcpy(t, tables[id].sig, 4);
    put(t + 4, len, 4);
    t[8] = tables[id].rev;
    memcpy(t + 10, OEM_ID, 6);
    memcpy(t + 16, OEM_TABLE_ID, 8);
    put(t + 24, 1, 4); /* OEM revision */
    memcpy(t + 28, CREATOR_ID, 4);
    put(t + 32, 1, 4); /* creator revision */
    t[9] = (uint8_t)-acpi_sum(t, len);
}

static void build_rsdp(const struct acpi_ctx *a, uint8_t *r)
{
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, OEM_ID, 6);
    r[15] = 2; /* revision 2: ACPI 2.0+ with the XSDT */
    put(r + 16, a->addr[TBL_RSDT], 4);
    put(r + 20, ACPI_RSDP_LEN, 4);
    put(r + 24, a->addr[TBL_XSDT], 8);
    r[8] = (uint8_t)-acpi_sum(r, ACPI_RSDP_V1_LEN);
    r[32] = (uint8_t)-acpi_sum(r, ACPI_RSDP_LEN);
}

bool acpi_build(machine_t *m)
{
    static const uint64_t room = BIOS_AREA_END - ACPI_RSDP_ADDR;
    uint8_t buf[TBL_COUNT * (TABLE_ROOM + 64) + 64];
    memset(buf, 0, sizeof buf);
    struct acpi_ctx a = { .m = m };
    uint64_t off = ACPI_RSDP_LEN;
    for (int i = 0; i < TBL_COUNT; i++) {
        off = (off + tables[i].align - 1) & ~(uint64_t)(tables[i].align - 1);
        uint8_t *t = buf + off;
        a.addr[i] = ACPI_RSDP_ADDR + off;
        uint32_t len = tables[i].build(&a, t);
        if (tables[i].hdr)
            header(t, i, len);
        off += len;
    }
    build_rsdp(&a, buf);
    return off <= room && phys_copy_in(m, ACPI_RSDP_ADDR, buf, off);
}
