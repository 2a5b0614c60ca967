/* platform.c - the PC as a kernel discovers it: the RSDP found by scanning
 * the BIOS area (both checksums), every table the XSDT lists with a valid
 * checksum, the MADT's local APICs (one per -smp vCPU), IOAPIC and IRQ 0
 * override, the FADT's PM timer (which counts at 3.579545 MHz against the
 * TSC), the HPET table against the HPET's own capabilities, fw_cfg's RAM size
 * and CPU count (what -m and -smp set: -append mem=MiB,cpus=N), its etc/e820
 * file against the Multiboot memory map, and the BIOS data area. */
#include "guest.h"

struct __attribute__((packed)) mb_mmap { uint32_t size; uint64_t base, len; uint32_t type; };
struct __attribute__((packed)) e820 { uint64_t base, len; uint32_t type; };

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}
static uint8_t sum(const void *p, uint32_t n)
{
    uint8_t s = 0;
    for (uint32_t i = 0; i < n; i++)
        s += ((const uint8_t *)p)[i];
    return s;
}
/* A read of low memory (the BDA) the compiler cannot see as a null-based array. */
static uint16_t peek16(uint64_t a)
{
    const volatile uint16_t *p;
    __asm__("" : "=r"(p) : "0"(a));
    return *p;
}
static uint32_t le32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

/* The number after "key=" on the command line, or 0. */
static uint64_t arg(const char *cmd, const char *key)
{
    const char *p = strstr(cmd, key);
    uint64_t v = 0;
    if (p)
        for (p += strlen(key); *p >= '0' && *p <= '9'; p++)
            v = v * 10 + (uint64_t)(*p - '0');
    return v;
}

static void fw_sel(uint16_t key) { __asm__ volatile("outw %0, %1" ::"a"(key), "Nd"((uint16_t)0x510)); }
static void fw_read(void *dst, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        ((uint8_t *)dst)[i] = inb(0x511);
}
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

static const uint8_t *find_rsdp(void)
{
    for (uint64_t a = 0xe0000; a < 0x100000; a += 16)
        if (memcmp((const void *)a, "RSD PTR ", 8) == 0 && sum((const void *)a, 20) == 0)
            return (const uint8_t *)a;
    return 0;
}

static void check_madt(const uint8_t *t, uint64_t cpus)
{
    uint32_t lapics = 0, len = le32(t + 4);
    bool ioapic = false, irq0 = false;
    printf("MADT: local APIC at 0x%x, flags %u\n", le32(t + 36), le32(t + 40));
    for (uint32_t off = 44; off + 2 <= len && t[off + 1] >= 2; off += t[off + 1]) {
        const uint8_t *e = t + off;
        if (e[0] == 0 && (le32(e + 4) & 1)) {
            printf("  processor %u: APIC ID %u\n", e[2], e[3]);
            CHECK_EQ(e[3], lapics);
            lapics++;
        } else if (e[0] == 1) {
            printf("  IOAPIC %u at 0x%x, GSI base %u\n", e[2], le32(e + 4), le32(e + 8));
            ioapic = le32(e + 4) == 0xfec00000u && le32(e + 8) == 0;
        } else if (e[0] == 2) {
            printf("  override: IRQ %u -> GSI %u, flags 0x%x\n", e[3], le32(e + 4), e[8] | e[9] << 8);
            irq0 |= e[3] == 0 && le32(e + 4) == 2;
        }
    }
    CHECK_EQ(lapics, cpus);
    CHECK(ioapic);
    CHECK(irq0);
}

/* The PM timer counts 3579545 Hz: measure the TSC over 35795 of its ticks (10 ms). */
static void check_pm_timer(uint16_t port)
{
    uint32_t r[4];
    cpuid(0x15, 0, r);
    uint64_t tsc_hz = (uint64_t)r[2] * r[1] / (r[0] ? r[0] : 1);
    uint32_t p0 = 0, p1 = 0;
    __asm__ volatile("inl %1, %0" : "=a"(p0) : "Nd"(port));
    uint64_t t0 = rdtsc(), t1;
    do {
        __asm__ volatile("inl %1, %0" : "=a"(p1) : "Nd"(port));
        t1 = rdtsc();
    } while (((p1 - p0) & 0xffffff) < 35795);
    uint64_t measured = (t1 - t0) * 3579545ull / ((p1 - p0) & 0xffffff);
    printf("PM timer at 0x%x: TSC %lu Hz measured, %lu Hz modelled\n", port, measured, tsc_hz);
    CHECK(measured * 1000 > tsc_hz * 999 && measured * 1000 < tsc_hz * 1001);
}

static void check_tables(uint64_t cpus)
{
    const uint8_t *rsdp = find_rsdp();
    CHECK(rsdp != 0);
    if (!rsdp)
        return;
    printf("RSDP at 0x%lx, revision %u\n", (uint64_t)rsdp, rsdp[15]);
    CHECK_EQ(rsdp[15], 2);
    CHECK_EQ(sum(rsdp, le32(rsdp + 20)), 0);
    const uint8_t *xsdt = (const uint8_t *)le64(rsdp + 24), *rsdt = (const uint8_t *)(uint64_t)le32(rsdp + 16);
    CHECK_EQ(sum(xsdt, le32(xsdt + 4)), 0);
    CHECK_EQ(sum(rsdt, le32(rsdt + 4)), 0);
    int found = 0;
    for (uint32_t off = 36; off < le32(xsdt + 4); off += 8) {
        const uint8_t *t = (const uint8_t *)le64(xsdt + off);
        printf("table %c%c%c%c at 0x%lx, %u bytes, revision %u\n", t[0], t[1], t[2], t[3], (uint64_t)t,
               le32(t + 4), t[8]);
        CHECK_EQ(sum(t, le32(t + 4)), 0);
        if (memcmp(t, "APIC", 4) == 0) {
            check_madt(t, cpus);
            found |= 1;
        } else if (memcmp(t, "FACP", 4) == 0) {
            const uint8_t *dsdt = (const uint8_t *)le64(t + 140);
            CHECK_EQ(sum(dsdt, le32(dsdt + 4)), 0);
            CHECK_EQ(memcmp(dsdt, "DSDT", 4), 0);
            CHECK_EQ(le32(t + 76), 0x608);
            check_pm_timer((uint16_t)le32(t + 76));
            found |= 2;
        } else if (memcmp(t, "HPET", 4) == 0) {
            uint64_t base = le64(t + 44);
            uint32_t cap = *(volatile uint32_t *)base;
            printf("HPET at 0x%lx: block ID 0x%x, GCAP_ID 0x%x\n", base, le32(t + 36), cap);
            CHECK_EQ(le32(t + 36), cap);
            found |= 4;
        }
    }
    CHECK_EQ(found, 7);
}

static void check_fw_cfg(const struct mb_info *mbi, uint64_t mem_mib, uint64_t cpus)
{
    char sig[5] = { 0 };
    fw_sel(0x0000);
    fw_read(sig, 4);
    CHECK_EQ(memcmp(sig, "QEMU", 4), 0);
    uint64_t ram = 0;
    uint16_t ncpu = 0;
    fw_sel(0x0003);
    fw_read(&ram, 8);
    fw_sel(0x0005);
    fw_read(&ncpu, 2);
    printf("fw_cfg: RAM %lu MiB, %u CPUs\n", ram >> 20, ncpu);
    CHECK_EQ(ram, mem_mib << 20);
    CHECK_EQ(ncpu, cpus);

    uint8_t cnt[4], ent[64];
    fw_sel(0x0019);
    fw_read(cnt, 4);
    uint16_t e820_key = 0;
    uint32_t e820_len = 0;
    for (uint32_t i = 0; i < be32(cnt); i++) {
        fw_read(ent, 64);
        if (strncmp((const char *)ent + 8, "etc/e820", 56) == 0) {
            e820_len = be32(ent);
            e820_key = (uint16_t)(ent[4] << 8 | ent[5]);
        }
    }
    CHECK(e820_key != 0);
    struct e820 map[8];
    CHECK(e820_len <= sizeof map);
    fw_sel(e820_key);
    fw_read(map, e820_len);
    uint32_t n = 0;
    for (uint32_t off = 0; off < mbi->mmap_length && n < 8; n++) {
        const struct mb_mmap *e = (const struct mb_mmap *)(uint64_t)(mbi->mmap_addr + off);
        printf("e820 0x%lx-0x%lx type %u; multiboot 0x%lx-0x%lx type %u\n", map[n].base, map[n].base + map[n].len,
               map[n].type, e->base, e->base + e->len, e->type);
        CHECK_EQ(map[n].base, e->base);
        CHECK_EQ(map[n].len, e->len);
        CHECK_EQ(map[n].type, e->type);
        off += e->size + 4;
    }
    CHECK_EQ(n * sizeof map[0], e820_len);
}

int test_main(const struct mb_info *mbi)
{
    const char *cmd = (const char *)(uint64_t)mbi->cmdline;
    uint64_t mem = arg(cmd, "mem="), cpus = arg(cmd, "cpus=");
    CHECK(mem && cpus);
    check_tables(cpus);
    check_fw_cfg(mbi, mem, cpus);
    printf("BDA: COM1 0x%x, EBDA segment 0x%x, %u KiB base memory\n", peek16(0x400), peek16(0x40e), peek16(0x413));
    CHECK_EQ(peek16(0x400), 0x3f8);
    CHECK_EQ(peek16(0x40e), 0x9fc0);
    CHECK_EQ(peek16(0x413), mbi->mem_lower);
    return check_result();
}
