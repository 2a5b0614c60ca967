/* mb2.c - booted by Multiboot 2 (mb2_asm.S): the magic in EAX, and the boot
 * information's tags: 8-byte aligned, the command line, the loader name, the
 * basic memory information, the memory map (the same as fw_cfg's etc/e820),
 * the ACPI old and new RSDP tags (copies of the RSDP a BIOS-area scan finds,
 * checksums valid) and the end tag. */
#include "guest.h"

extern uint32_t mb2_magic, mb2_info;

struct __attribute__((packed)) e820 { uint64_t base, len; uint32_t type; };

static uint32_t le32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }
static uint8_t sum(const uint8_t *p, uint32_t n)
{
    uint8_t s = 0;
    while (n--)
        s += *p++;
    return s;
}

/* fw_cfg's etc/e820 into map; returns the entry count. */
static uint32_t fw_e820(struct e820 *map, uint32_t max)
{
    uint8_t cnt[4], ent[64];
    __asm__ volatile("outw %0, %1" ::"a"((uint16_t)0x19), "Nd"((uint16_t)0x510));
    for (int i = 0; i < 4; i++)
        cnt[i] = inb(0x511);
    uint32_t len = 0;
    uint16_t key = 0;
    for (uint32_t i = 0; i < ((uint32_t)cnt[0] << 24 | cnt[1] << 16 | cnt[2] << 8 | cnt[3]); i++) {
        for (int k = 0; k < 64; k++)
            ent[k] = inb(0x511);
        if (strncmp((const char *)ent + 8, "etc/e820", 56) == 0) {
            len = (uint32_t)ent[0] << 24 | ent[1] << 16 | ent[2] << 8 | ent[3];
            key = (uint16_t)(ent[4] << 8 | ent[5]);
        }
    }
    if (len > max * sizeof *map)
        len = max * sizeof *map;
    __asm__ volatile("outw %0, %1" ::"a"(key), "Nd"((uint16_t)0x510));
    for (uint32_t k = 0; k < len; k++)
        ((uint8_t *)map)[k] = inb(0x511);
    return len / sizeof *map;
}

static const uint8_t *scan_rsdp(void)
{
    for (uint64_t a = 0xe0000; a < 0x100000; a += 16)
        if (memcmp((const void *)a, "RSD PTR ", 8) == 0)
            return (const uint8_t *)a;
    return 0;
}

int test_main(const struct mb_info *unused)
{
    printf("Multiboot 2: magic 0x%x, information at 0x%x\n", mb2_magic, mb2_info);
    CHECK_EQ(mb2_magic, 0x36d76289);
    CHECK_EQ(mb2_info & 7, 0);
    const uint8_t *p = (const uint8_t *)(uint64_t)mb2_info, *rsdp = scan_rsdp();
    uint32_t total = le32(p), seen = 0;
    CHECK(rsdp != 0);
    for (uint32_t off = 8; off + 8 <= total;) {
        const uint8_t *t = p + off;
        uint32_t type = le32(t), size = le32(t + 4);
        seen |= 1u << type;
        switch (type) {
        case 1:
            printf("command line: %s\n", (const char *)t + 8);
            CHECK(strstr((const char *)t + 8, "mb2-test") != 0);
            break;
        case 2:
            printf("boot loader: %s\n", (const char *)t + 8);
            CHECK_EQ(strncmp((const char *)t + 8, "vmxemu", 7), 0);
            break;
        case 4:
            printf("memory: %u KiB low, %u KiB upper\n", le32(t + 8), le32(t + 12));
            CHECK_EQ(le32(t + 8), 639);
            break;
        case 6: {
            struct e820 map[8];
            uint32_t n = fw_e820(map, 8), esz = le32(t + 8), k = 0;
            CHECK_EQ(esz, 24);
            for (uint32_t e = 16; e + esz <= size; e += esz, k++) {
                printf("mmap: 0x%lx-0x%lx type %u\n", le64(t + e), le64(t + e) + le64(t + e + 8), le32(t + e + 16));
                CHECK(k < n);
                if (k < n) {
                    CHECK_EQ(le64(t + e), map[k].base);
                    CHECK_EQ(le64(t + e + 8), map[k].len);
                    CHECK_EQ(le32(t + e + 16), map[k].type);
                }
            }
            CHECK_EQ(k, n);
            break;
        }
        case 14:
            CHECK_EQ(size, 8 + 20);
            CHECK_EQ(sum(t + 8, 20), 0);
            CHECK(rsdp && memcmp(t + 8, rsdp, 20) == 0);
            break;
        case 15:
            printf("ACPI new RSDP: revision %u, XSDT at 0x%lx\n", t[8 + 15], le64(t + 8 + 24));
            CHECK_EQ(size, 8 + 36);
            CHECK_EQ(sum(t + 8, 36), 0);
            CHECK(rsdp && memcmp(t + 8, rsdp, 36) == 0);
            break;
        case 0:
            CHECK_EQ(size, 8);
            CHECK_EQ(off + 8, total);
            break;
        default:
            printf("unexpected tag %u\n", type);
            CHECK(0);
        }
        off += (size + 7) & ~7u;
    }
    CHECK_EQ(seen, 1u << 0 | 1u << 1 | 1u << 2 | 1u << 4 | 1u << 6 | 1u << 14 | 1u << 15);
    return check_result();
}
