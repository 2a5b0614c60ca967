/* test_multiboot2.c - the Multiboot 2 loader: header search (8-byte
 * alignment, the 32 KiB window, checksum), header tags (information request,
 * address, entry, module alignment, relocatable; EFI, framebuffer and console
 * tags refused when required, ignored when optional; malformed tags), the
 * boot information (cmdline, loader name, modules, basic meminfo, the memory
 * map that memmap_build reports, ACPI old/new RSDP copies, end tag) and the
 * entry state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "devices/acpi.h"
#include "devices/memmap.h"
#include "devices/multiboot2.h"
#include "emu/cpumodel.h"

#define LOAD 0x100000u
#define ENTRY 0x100080u

static uint8_t img[40960];
static size_t hdr_at, tags_end;
static char err[256];

static void w32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static uint32_t r32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t r64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Start a header at offset off; tags are appended with tag(). */
static void begin(size_t off)
{
    memset(img, 0x90, sizeof img);
    hdr_at = off;
    tags_end = off + 16;
}
static void tag(uint16_t type, uint16_t flags, const uint32_t *body, int nwords)
{
    uint8_t *p = img + tags_end;
    uint32_t size = 8 + 4 * (uint32_t)nwords;
    p[0] = (uint8_t)type, p[1] = (uint8_t)(type >> 8), p[2] = (uint8_t)flags, p[3] = (uint8_t)(flags >> 8);
    w32(p + 4, size);
    for (int i = 0; i < nwords; i++)
        w32(p + 8 + 4 * i, body[i]);
    tags_end += (size + 7) & ~7u;
}
/* The address and entry tags of a flat image loaded at LOAD, the end tag, the checksum. */
static size_t finish_flat(bool with_end)
{
    const uint32_t addr[4] = { LOAD + (uint32_t)hdr_at, LOAD, 0, LOAD + 0x3000 };
    const uint32_t entry[1] = { ENTRY };
    tag(MB2_HT_ADDRESS, 0, addr, 4);
    tag(MB2_HT_ENTRY, 0, entry, 1);
    if (with_end)
        tag(MB2_HT_END, 0, NULL, 0);
    uint32_t len = (uint32_t)(tags_end - hdr_at);
    w32(img + hdr_at, MB2_HEADER_MAGIC);
    w32(img + hdr_at + 4, MB2_ARCH_I386);
    w32(img + hdr_at + 8, len);
    w32(img + hdr_at + 12, -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + len));
    return tags_end + 0x100;
}

static int parse(size_t n)
{
    mb2_kernel_t k;
    return mb2_parse(img, n, &k, err, sizeof err);
}

static void header_search(void **state)
{
    begin(0x7ff0); /* the last slot where the fixed part lies within the 32 KiB */
    size_t n = finish_flat(true);
    assert_int_equal(mb2_find_header(img, n), 0x7ff0);
    begin(0x7ff8); /* straddles the end */
    n = finish_flat(true);
    assert_int_equal(mb2_find_header(img, n), -1);
    begin(0x8000); /* just past it */
    n = finish_flat(true);
    assert_int_equal(mb2_find_header(img, n), -1);
    assert_int_equal(parse(n), -1);
    assert_non_null(strstr(err, "no multiboot2 header"));
    begin(0x104); /* 4-byte aligned only */
    n = finish_flat(true);
    assert_int_equal(mb2_find_header(img, n), -1);
    begin(0x100);
    n = finish_flat(true);
    img[0x10c] ^= 1; /* checksum */
    assert_int_equal(mb2_find_header(img, n), -1);
}

static void load_and_boot_information(void **state)
{
    begin(0x40);
    const uint32_t want[] = { MB2_IT_CMDLINE, MB2_IT_LOADER_NAME, MB2_IT_MODULE, MB2_IT_BASIC_MEMINFO,
                              MB2_IT_MMAP, MB2_IT_ACPI_OLD, MB2_IT_ACPI_NEW };
    tag(MB2_HT_INFO_REQUEST, 0, want, 7);
    tag(MB2_HT_MODULE_ALIGN, 0, NULL, 0);
    const uint32_t reloc[4] = { LOAD, 0x1000000, 0x1000, 0 };
    tag(MB2_HT_RELOCATABLE, 0, reloc, 4);
    size_t n = finish_flat(true);
    mb2_kernel_t k;
    assert_int_equal(mb2_parse(img, n, &k, err, sizeof err), 0);
    assert_int_equal(k.k.entry, ENTRY);
    assert_int_equal(k.k.end, LOAD + 0x3000);

    machine_t *m = machine_new(64 << 20, NULL, 2);
    assert_true(acpi_build(m));
    static const uint8_t mod0[5000] = { 7 };
    const mb_module_t mods[1] = { { mod0, sizeof mod0, "mod0 arg=1" } };
    const mb_boot_t b = { "kernel console=ttyS0", mods, 1 };
    uint32_t info = mb2_load(m, &k, img, &b, err, sizeof err);
    assert_true(info != 0);
    assert_int_equal(info & 7, 0);
    assert_memory_equal(phys_ram_ptr(m, LOAD), img, n);
    assert_int_equal(*phys_ram_ptr(m, LOAD + 0x2fff), 0); /* bss */

    const uint8_t *p = phys_ram_ptr(m, info);
    uint32_t total = r32(p), seen = 0;
    assert_int_equal(r32(p + 4), 0);
    const uint8_t *rsdp = phys_ram_ptr(m, ACPI_RSDP_ADDR);
    for (uint32_t off = 8; off < total;) {
        const uint8_t *t = p + off;
        uint32_t type = r32(t), size = r32(t + 4);
        assert_int_equal(off & 7, 0);
        seen |= 1u << type;
        switch (type) {
        case MB2_IT_CMDLINE: assert_string_equal((const char *)t + 8, "kernel console=ttyS0"); break;
        case MB2_IT_LOADER_NAME: assert_string_equal((const char *)t + 8, "vmxemu"); break;
        case MB2_IT_MODULE:
            assert_int_equal(r32(t + 8) & 0xfff, 0);
            assert_true(r32(t + 8) >= LOAD + 0x3000);
            assert_int_equal(r32(t + 12) - r32(t + 8), sizeof mod0);
            assert_memory_equal(phys_ram_ptr(m, r32(t + 8)), mod0, sizeof mod0);
            assert_string_equal((const char *)t + 16, "mod0 arg=1");
            break;
        case MB2_IT_BASIC_MEMINFO:
            assert_int_equal(size, 16);
            assert_int_equal(r32(t + 8), 639);
            assert_int_equal(r32(t + 12), 63 * 1024);
            break;
        case MB2_IT_MMAP: {
            memmap_entry_t e[MEMMAP_MAX];
            int ne = memmap_build(m, e);
            assert_int_equal(r32(t + 8), MB2_MMAP_ENTRY);
            assert_int_equal(r32(t + 12), 0);
            assert_int_equal(size, 16 + ne * MB2_MMAP_ENTRY);
            for (int i = 0; i < ne; i++) {
                const uint8_t *x = t + 16 + i * MB2_MMAP_ENTRY;
                assert_int_equal(r64(x), e[i].base);
                assert_int_equal(r64(x + 8), e[i].len);
                assert_int_equal(r32(x + 16), e[i].type);
            }
            break;
        }
        case MB2_IT_ACPI_OLD:
            assert_int_equal(size, 8 + ACPI_RSDP_V1_LEN);
            assert_memory_equal(t + 8, rsdp, ACPI_RSDP_V1_LEN);
            break;
        case MB2_IT_ACPI_NEW:
            assert_int_equal(size, 8 + ACPI_RSDP_LEN);
            assert_memory_equal(t + 8, rsdp, ACPI_RSDP_LEN);
            break;
        case MB2_IT_END:
            assert_int_equal(size, 8);
            assert_int_equal(off + 8, total);
            break;
        default: fail_msg("unexpected tag %u", type);
        }
        off += (size + 7) & ~7u;
    }
    assert_int_equal(seen, 1u << 0 | 1u << 1 | 1u << 2 | 1u << 3 | 1u << 4 | 1u << 6 | 1u << 14 | 1u << 15);

    cpu_t *c = m->cpu[0];
    mb2_enter(c, info, k.k.entry);
    assert_int_equal(c->gpr[R_RAX], MB2_BOOT_MAGIC);
    assert_int_equal(c->gpr[R_RBX], info);
    assert_int_equal(c->rip, ENTRY);
    assert_int_equal(c->cr0 & (CR0_PE | CR0_PG), CR0_PE);
    assert_int_equal(c->mode, MODE_PROT32);
    machine_free(m);
}

/* Tags the machine cannot honour: refused when required, ignored when optional. */
static void unsupported_tags(void **state)
{
    static const struct { uint16_t type; int nwords; uint32_t word; const char *why; } rows[] = {
        { MB2_HT_EFI_BS, 0, 0, "EFI boot services" },
        { MB2_HT_ENTRY_EFI32, 1, 0x100000, "EFI i386" },
        { MB2_HT_ENTRY_EFI64, 1, 0x100000, "EFI amd64" },
        { MB2_HT_FRAMEBUFFER, 3, 0, "framebuffer" },
        { MB2_HT_CONSOLE_FLAGS, 1, 1, "console" },
        { MB2_HT_INFO_REQUEST, 1, 8 /* framebuffer info */, "tag 8" },
        { 42, 0, 0, "unknown required tag type 42" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const uint32_t body[3] = { rows[i].word, rows[i].word, rows[i].word };
        for (uint16_t opt = 0; opt < 2; opt++) {
            begin(0);
            tag(rows[i].type, opt, body, rows[i].type == MB2_HT_FRAMEBUFFER ? 3 : rows[i].nwords);
            size_t n = finish_flat(true);
            if (opt) {
                assert_int_equal(parse(n), 0);
            } else {
                assert_int_equal(parse(n), -1);
                assert_non_null(strstr(err, rows[i].why));
            }
        }
    }
}

static void malformed(void **state)
{
    begin(0);
    size_t n = finish_flat(false);
    assert_int_equal(parse(n), -1);
    assert_non_null(strstr(err, "no end tag"));

    begin(0);
    n = finish_flat(true);
    w32(img + 4, 4); /* architecture MIPS */
    w32(img + 12, -(MB2_HEADER_MAGIC + 4 + r32(img + 8)));
    assert_int_equal(parse(n), -1);
    assert_non_null(strstr(err, "architecture"));

    begin(0);
    const uint32_t body[1] = { 0 };
    tag(MB2_HT_ENTRY, 0, body, 1);
    w32(img + 16 + 4, 0x1000); /* a tag larger than the header */
    n = finish_flat(true);
    assert_int_equal(parse(n), -1);
    assert_non_null(strstr(err, "runs past"));

    begin(0);
    tag(MB2_HT_ADDRESS, 0, body, 1); /* too short */
    n = finish_flat(true);
    assert_int_equal(parse(n), -1);

    /* an address tag alone: no entry point */
    begin(0);
    const uint32_t addr[4] = { LOAD, LOAD, 0, 0 };
    tag(MB2_HT_ADDRESS, 0, addr, 4);
    tag(MB2_HT_END, 0, NULL, 0);
    uint32_t len = (uint32_t)tags_end;
    w32(img, MB2_HEADER_MAGIC), w32(img + 4, 0), w32(img + 8, len), w32(img + 12, -(MB2_HEADER_MAGIC + len));
    assert_int_equal(parse(tags_end + 64), -1);
    assert_non_null(strstr(err, "entry address"));

    /* header length past the end of the file */
    begin(0);
    n = finish_flat(true);
    assert_int_equal(parse(tags_end - 8), -1);
}

static void too_big_for_ram(void **state)
{
    begin(0);
    size_t n = finish_flat(true);
    mb2_kernel_t k;
    assert_int_equal(mb2_parse(img, n, &k, err, sizeof err), 0);
    machine_t *m = machine_new(2 << 20, NULL, 1);
    assert_true(acpi_build(m));
    static uint8_t big[2 << 20];
    const mb_module_t mods[1] = { { big, sizeof big, "big" } };
    const mb_boot_t b = { "k", mods, 1 };
    assert_int_equal(mb2_load(m, &k, img, &b, err, sizeof err), 0);
    assert_non_null(strstr(err, "need"));
    machine_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_search), cmocka_unit_test(load_and_boot_information),
        cmocka_unit_test(unsupported_tags), cmocka_unit_test(malformed), cmocka_unit_test(too_big_for_ram),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
