/* acpi_pm.c - PM1a event and control blocks (ACPI 6.0 "PM1 Event Grouping",
 * "PM1 Control Grouping"), minimal: no fixed-feature event is modelled (no
 * power or sleep button, the PM timer's overflow does not raise TMR_STS), so
 * PM1_STS bits only ever clear and no SCI is raised; PM1_EN keeps its defined
 * enable bits; PM1_CNT reads SCI_EN = 1 (there is no SMI command port: the
 * machine is always in ACPI mode) and keeps BM_RLD and SLP_TYP. SLP_EN and
 * GBL_RLS are write-only and do nothing: the DSDT defines no sleep states.
 * Accesses of any width are split into bytes; bytes outside a block float high.
 */
#include "devices/acpi_pm.h"

#define EN_MASK 0x4721u  /* TMR_EN, GBL_EN, PWRBTN_EN, SLPBTN_EN, RTC_EN, PCIEXP_WAKE_DIS */
#define CNT_SCI_EN 0x0001u
#define CNT_MASK 0x1c02u /* BM_RLD, SLP_TYP */

static uint8_t evt_byte(acpi_pm_t *pm, int off)
{
    uint16_t r = off < 2 ? pm->sts : pm->en;
    return (uint8_t)(r >> 8 * (off & 1));
}

static void evt_byte_write(acpi_pm_t *pm, int off, uint8_t b)
{
    int sh = 8 * (off & 1);
    if (off < 2)
        pm->sts &= (uint16_t)~(b << sh); /* write 1 to clear */
    else
        pm->en = (uint16_t)((pm->en & ~(0xff << sh)) | ((b << sh) & EN_MASK));
}

static uint64_t evt_read(void *opaque, uint16_t port, int size)
{
    acpi_pm_t *pm = opaque;
    uint64_t v = 0;
    for (int i = 0; i < size; i++) {
        int off = (port & 3) + i;
        v |= (uint64_t)(off < ACPI_PM1_EVT_LEN ? evt_byte(pm, off) : 0xff) << 8 * i;
    }
    return v;
}

static void evt_write(void *opaque, uint16_t port, int size, uint64_t val)
{
    acpi_pm_t *pm = opaque;
    for (int i = 0; i < size; i++) {
        int off = (port & 3) + i;
        if (off < ACPI_PM1_EVT_LEN)
            evt_byte_write(pm, off, (uint8_t)(val >> 8 * i));
    }
}

static uint64_t cnt_read(void *opaque, uint16_t port, int size)
{
    acpi_pm_t *pm = opaque;
    uint16_t r = pm->cnt | CNT_SCI_EN;
    uint64_t v = 0;
    for (int i = 0; i < size; i++) {
        int off = (port & 1) + i;
        v |= (uint64_t)(off < ACPI_PM1_CNT_LEN ? (uint8_t)(r >> 8 * off) : 0xff) << 8 * i;
    }
    return v;
}

static void cnt_write(void *opaque, uint16_t port, int size, uint64_t val)
{
    acpi_pm_t *pm = opaque;
    for (int i = 0; i < size; i++) {
        int off = (port & 1) + i;
        if (off < ACPI_PM1_CNT_LEN) {
            int sh = 8 * off;
            uint16_t b = (uint16_t)((val >> 8 * i) & 0xff);
            pm->cnt = (uint16_t)((pm->cnt & ~(0xff << sh)) | ((b << sh) & CNT_MASK));
        }
    }
}

void acpi_pm_attach(machine_t *m, acpi_pm_t *pm, uint16_t evt, uint16_t cnt)
{
    *pm = (acpi_pm_t){ 0 };
    io_register(m, evt, ACPI_PM1_EVT_LEN, evt_read, evt_write, pm);
    io_register(m, cnt, ACPI_PM1_CNT_LEN, cnt_read, cnt_write, pm);
}
