/* test_multiboot.c - the Multiboot 1 loader: header search, ELF32/ELF64 and
 * a.out-kludge plans, rejection of bad images, the boot information and
 * memory map written to RAM, and the entry CPU state. Images are built here
 * byte by byte so every field under test is explicit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devices/multiboot.h"
#include "emu/flags.h"

#define MiB (1ull << 20)

static void put(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(machine_t *m, uint64_t pa)
{
    return (uint32_t)phys_read(m, pa, 4);
}

static uint64_t get64(machine_t *m, uint64_t pa)
{
    return phys_read(m, pa, 8);
}

/* A multiboot header at off with the given flags (and address fields if given). */
static void put_header(uint8_t *img, size_t off, uint32_t flags, const uint32_t *addr5)
{
    put(img + off, MB_HEADER_MAGIC, 4);
    put(img + off + 4, flags, 4);
    put(img + off + 8, (uint32_t)-(MB_HEADER_MAGIC + flags), 4);
    for (int i = 0; addr5 && i < 5; i++)
        put(img + off + 12 + 4 * i, addr5[i], 4);
}

/* An ELF executable of class bits with one PT_LOAD of the payload at file
 * offset 0x1000 (vaddr/paddr given, memsz >= filesz), header at 0x1000. */
static size_t make_elf(uint8_t *img, int bits, uint64_t entry, uint64_t vaddr, uint64_t paddr, uint64_t filesz,
                       uint64_t memsz)
{
    memset(img, 0, 0x1000 + filesz);
    memcpy(img, "\177ELF", 4);
    img[4] = bits == 64 ? 2 : 1;
    img[5] = 1;
    img[6] = 1;
    put(img + 16, 2, 2);                  /* ET_EXEC */
    put(img + 18, bits == 64 ? 62 : 3, 2);
    int w = bits / 8;
    put(img + 24, entry, w);
    put(img + 24 + w, bits == 64 ? 64 : 52, w); /* e_phoff: right after the header */
    put(img + (bits == 64 ? 54 : 42), bits == 64 ? 56 : 32, 2);
    put(img + (bits == 64 ? 56 : 44), 1, 2);
    uint8_t *ph = img + (bits == 64 ? 64 : 52);
    put(ph, 1, 4); /* PT_LOAD */
    if (bits == 64) {
        put(ph + 8, 0x1000, 8);
        put(ph + 16, vaddr, 8);
        put(ph + 24, paddr, 8);
        put(ph + 32, filesz, 8);
        put(ph + 40, memsz, 8);
    } else {
        put(ph + 4, 0x1000, 4);
        put(ph + 8, vaddr, 4);
        put(ph + 12, paddr, 4);
        put(ph + 16, filesz, 4);
        put(ph + 20, memsz, 4);
    }
    for (uint64_t i = 0; i < filesz; i++)
        img[0x1000 + i] = (uint8_t)(0xa0 + i);
    put_header(img, 0x1000, MB_HF_PAGE_ALIGN | MB_HF_MEMINFO, NULL);
    return 0x1000 + filesz;
}

static uint8_t img[0x3000];
static char err[256];

static void finds_header_aligned_with_checksum(void **state)
{
    (void)state;
    mb_header_t h;
    memset(img, 0, sizeof img);
    put_header(img, 0x1002, 0, NULL); /* misaligned: not a header */
    assert_int_equal(mb_find_header(img, sizeof img, &h), -1);
    put_header(img, 0x100, 3, NULL);
    put(img + 0x108, 0, 4); /* bad checksum */
    assert_int_equal(mb_find_header(img, sizeof img, &h), -1);
    put_header(img, 0x1ff4, 3, NULL); /* the last slot of the first 8 KiB */
    assert_int_equal(mb_find_header(img, sizeof img, &h), 0);
    assert_int_equal(h.file_offset, 0x1ff4);
    assert_int_equal(h.flags, 3);
    memset(img, 0, sizeof img);
    put_header(img, 0x2000, 3, NULL); /* beyond 8 KiB */
    assert_int_equal(mb_find_header(img, sizeof img, &h), -1);
}

static void elf32_plan(void **state)
{
    (void)state;
    mb_kernel_t k;
    size_t n = make_elf(img, 32, 0x100010, 0x100000, 0x100000, 0x40, 0x2000);
    assert_int_equal(mb_parse(img, n, &k, err, sizeof err), 0);
    assert_int_equal(k.format, 32);
    assert_int_equal(k.entry, 0x100010);
    assert_int_equal(k.nseg, 1);
    assert_int_equal(k.seg[0].paddr, 0x100000);
    assert_int_equal(k.seg[0].offset, 0x1000);
    assert_int_equal(k.end, 0x102000);
}

static void elf64_higher_half_entry_translated(void **state)
{
    (void)state;
    mb_kernel_t k;
    size_t n = make_elf(img, 64, 0xffffffff80100020ull, 0xffffffff80100000ull, 0x200000, 0x40, 0x40);
    assert_int_equal(mb_parse(img, n, &k, err, sizeof err), 0);
    assert_int_equal(k.format, 64);
    assert_int_equal(k.entry, 0x200020);
}

static void elf64_entry_outside_segments_truncated(void **state)
{
    (void)state;
    mb_kernel_t k;
    size_t n = make_elf(img, 64, 0x100000400030ull, 0x100000, 0x100000, 0x40, 0x40);
    assert_int_equal(mb_parse(img, n, &k, err, sizeof err), 0);
    assert_int_equal(k.entry, 0x400030);
}

static void aout_kludge_overrides_elf(void **state)
{
    (void)state;
    mb_kernel_t k;
    size_t n = make_elf(img, 64, 0xdead, 0x100000, 0x100000, 0x100, 0x100);
    /* header at file 0x1000 = address 0x300000 -> image starts at file 0x800 */
    const uint32_t a[5] = { 0x300000, 0x2ff800, 0x300100, 0x304000, 0x300040 };
    put_header(img, 0x1000, MB_HF_AOUT, a);
    assert_int_equal(mb_parse(img, n, &k, err, sizeof err), 0);
    assert_int_equal(k.format, 0);
    assert_int_equal(k.entry, 0x300040);
    assert_int_equal(k.seg[0].paddr, 0x2ff800);
    assert_int_equal(k.seg[0].offset, 0x800);
    assert_int_equal(k.seg[0].filesz, 0x900);
    assert_int_equal(k.seg[0].memsz, 0x4800);
}

static void aout_kludge_raw_binary_to_end_of_file(void **state)
{
    (void)state;
    mb_kernel_t k;
    memset(img, 0x90, 0x200);
    const uint32_t a[5] = { 0x100000, 0x100000, 0, 0, 0x100020 };
    put_header(img, 0, MB_HF_AOUT, a);
    assert_int_equal(mb_parse(img, 0x200, &k, err, sizeof err), 0);
    assert_int_equal(k.seg[0].filesz, 0x200);
    assert_int_equal(k.seg[0].memsz, 0x200);
    assert_int_equal(k.entry, 0x100020);
}

static void rejects_bad_images(void **state)
{
    (void)state;
    mb_kernel_t k;
    size_t n = make_elf(img, 32, 0x100000, 0x100000, 0x100000, 0x40, 0x40);
    /* truncated segment data */
    assert_int_equal(mb_parse(img, n - 1, &k, err, sizeof err), -1);
    assert_non_null(strstr(err, "truncated"));
    /* truncated ELF header */
    assert_int_equal(mb_parse(img, 20, &k, err, sizeof err), -1);
    assert_non_null(strstr(err, "truncated"));
    /* no header */
    memset(img + 0x1000, 0, 12);
    assert_int_equal(mb_parse(img, n, &k, err, sizeof err), -1);
    assert_non_null(strstr(err, "no multiboot header"));
    /* not ELF, no kludge */
    memset(img, 0, sizeof img);
    put_header(img, 0, 0, NULL);
    assert_int_equal(mb_parse(img, 64, &k, err, sizeof err), -1);
    assert_non_null(strstr(err, "not an ELF"));
    /* neither ELF nor header */
    memset(img, 0x55, 64);
    assert_int_equal(mb_parse(img, 64, &k, err, sizeof err), -1);
    assert_non_null(strstr(err, "not an ELF file and no multiboot header"));
    /* an unknown requirement bit */
    n = make_elf(img, 32, 0x100000, 0x100000, 0x100000, 0x40, 0x40);
    put_header(img, 0x1000, 0x8, NULL);
    assert_int_equal(mb_parse(img, n, &k, err, sizeof err), -1);
    assert_non_null(strstr(err, "0x8"));
    /* filesz > memsz */
    n = make_elf(img, 32, 0x100000, 0x100000, 0x100000, 0x40, 0x20);
    assert_int_equal(mb_parse(img, n, &k, err, sizeof err), -1);
    /* wrong machine for the class */
    n = make_elf(img, 64, 0x100000, 0x100000, 0x100000, 0x40, 0x40);
    put(img + 18, 3, 2);
    assert_int_equal(mb_parse(img, n, &k, err, sizeof err), -1);
    /* segment beyond 4 GiB */
    n = make_elf(img, 64, 0x100000, 0x100000, 0xfffff000ull, 0x40, 0x2000);
    assert_int_equal(mb_parse(img, n, &k, err, sizeof err), -1);
    assert_non_null(strstr(err, "4 GiB"));
}

/* Program headers may be larger than the struct (phentsize), non-LOAD and
 * empty LOAD entries are skipped, several segments keep file order and the
 * plan's end covers the highest one. */
static void elf_segments_and_entry_sizes(void **state)
{
    (void)state;
    elf_image_t e;
    mb_kernel_t k;
    memset(img, 0, sizeof img);
    memcpy(img, "\177ELF", 4);
    img[4] = 1;
    img[5] = 1;
    put(img + 16, 2, 2);
    put(img + 18, 3, 2);
    put(img + 24, 0x200000, 4);
    put(img + 28, 0x40, 4); /* e_phoff */
    put(img + 42, 40, 2);   /* e_phentsize: 8 bytes more than an Elf32_Phdr */
    put(img + 44, 4, 2);
    static const uint32_t ph[4][6] = {
        /* type, offset, vaddr, paddr, filesz, memsz */
        { 6, 0x40, 0, 0, 0xa0, 0xa0 },                 /* PT_PHDR: skipped */
        { 1, 0x1000, 0x300000, 0x300000, 0x10, 0x20 },
        { 1, 0x1000, 0x400000, 0x400000, 0, 0 },       /* empty: skipped */
        { 1, 0x1010, 0x200000, 0x200000, 0x10, 0x10 },
    };
    for (int i = 0; i < 4; i++)
        for (int f = 0; f < 6; f++)
            put(img + 0x40 + 40 * i + 4 * f, ph[i][f], 4);
    put_header(img, 0x1000, 0, NULL);
    assert_int_equal(elf_parse(img, 0x1020, &e, err, sizeof err), 0);
    assert_int_equal(e.bits, 32);
    assert_int_equal(e.nseg, 2);
    assert_int_equal(e.seg[0].paddr, 0x300000);
    assert_int_equal(e.seg[1].paddr, 0x200000);
    assert_int_equal(mb_parse(img, 0x1020, &k, err, sizeof err), 0);
    assert_int_equal(k.end, 0x300020);
    assert_int_equal(k.entry, 0x200000);
    /* program headers past the end of the file */
    put(img + 44, 400, 2);
    assert_int_equal(elf_parse(img, 0x1020, &e, err, sizeof err), -1);
    assert_non_null(strstr(err, "truncated"));
    /* big-endian and wrong type are refused */
    put(img + 44, 4, 2);
    img[5] = 2;
    assert_int_equal(elf_parse(img, 0x1020, &e, err, sizeof err), -1);
    img[5] = 1;
    put(img + 16, 3, 2); /* ET_DYN */
    assert_int_equal(elf_parse(img, 0x1020, &e, err, sizeof err), -1);
    assert_non_null(strstr(err, "not an executable"));
}

/* ---- loading into a machine ---- */

static void loads_info_modules_and_memory_map(void **state)
{
    (void)state;
    machine_t *m = machine_new(64 * MiB, NULL, 1);
    assert_non_null(m);
    mb_kernel_t k;
    size_t n = make_elf(img, 32, 0x100000, 0x100000, 0x100000, 0x40, 0x1800);
    assert_int_equal(mb_parse(img, n, &k, err, sizeof err), 0);
    memset(m->ram + 0x100000, 0xcc, 0x2000); /* bss must be zeroed by the loader */
    static const uint8_t mod0[5000] = { 1, 2, 3 }, mod1[3] = { 9, 8, 7 };
    const mb_module_t mods[2] = { { mod0, sizeof mod0, "/boot/a.bin" }, { mod1, sizeof mod1, "b.bin x=1 y" } };
    const mb_boot_t b = { "kernel.elf console=ttyS0", mods, 2 };
    uint32_t info = mb_load(m, &k, img, &b, err, sizeof err);
    assert_true(info != 0);
    assert_int_equal(info & 0xfff, 0);
    assert_true(info >= 0x102000);

    assert_int_equal(get32(m, 0x100000), MB_HEADER_MAGIC); /* the header is in the segment */
    assert_int_equal(m->ram[0x10000c], 0xac);
    assert_int_equal(m->ram[0x10003f], 0xdf);
    assert_int_equal(m->ram[0x100040], 0);
    assert_int_equal(m->ram[0x1017ff], 0);
    assert_int_equal(m->ram[0x101800], 0xcc); /* past memsz: untouched */

    uint32_t flags = get32(m, info);
    assert_int_equal(flags, MB_IF_MEM | MB_IF_CMDLINE | MB_IF_MODS | MB_IF_MMAP | MB_IF_LOADER);
    assert_int_equal(get32(m, info + MB_INFO_MEM_LOWER), 639); /* the EBDA takes the top KiB */
    assert_int_equal(get32(m, info + MB_INFO_MEM_UPPER), (64 - 1) * 1024);
    assert_string_equal((char *)m->ram + get32(m, info + MB_INFO_CMDLINE), "kernel.elf console=ttyS0");
    assert_string_equal((char *)m->ram + get32(m, info + MB_INFO_LOADER), MB_LOADER_NAME);

    assert_int_equal(get32(m, info + MB_INFO_MODS_CNT), 2);
    uint32_t ml = get32(m, info + MB_INFO_MODS_ADDR);
    uint32_t s0 = get32(m, ml), e0 = get32(m, ml + 4), s1 = get32(m, ml + 16), e1 = get32(m, ml + 20);
    assert_int_equal(s0 & 0xfff, 0);
    assert_int_equal(s1 & 0xfff, 0);
    assert_true(s0 >= 0x102000);
    assert_int_equal(e0 - s0, sizeof mod0);
    assert_true(s1 >= e0);
    assert_int_equal(e1 - s1, 3);
    assert_true(info >= e1);
    assert_memory_equal(m->ram + s0, mod0, sizeof mod0);
    assert_memory_equal(m->ram + s1, mod1, 3);
    assert_string_equal((char *)m->ram + get32(m, ml + 8), "/boot/a.bin");
    assert_string_equal((char *)m->ram + get32(m, ml + 24), "b.bin x=1 y");

    /* base memory to the EBDA, EBDA and BIOS area reserved, RAM 1M..64M, the
     * platform MMIO range reserved; no RAM above 4G */
    uint32_t mlen = get32(m, info + MB_INFO_MMAP_LEN), ma = get32(m, info + MB_INFO_MMAP_ADDR);
    static const struct { uint64_t base, len; uint32_t type; } want[] = {
        { 0, 0x9fc00, MB_MEM_AVAILABLE },          { 0x9fc00, 0x400, MB_MEM_RESERVED },
        { 0xe0000, 0x20000, MB_MEM_RESERVED },     { MiB, 63 * MiB, MB_MEM_AVAILABLE },
        { 0xfec00000, 0x1400000, MB_MEM_RESERVED },
    };
    assert_int_equal(mlen, 5 * MB_MMAP_ENTRY);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(get32(m, ma + 24 * i), 20);
        assert_int_equal(get64(m, ma + 24 * i + 4), want[i].base);
        assert_int_equal(get64(m, ma + 24 * i + 12), want[i].len);
        assert_int_equal(get32(m, ma + 24 * i + 20), want[i].type);
    }
    machine_free(m);
}

static void memory_map_above_4g(void **state)
{
    (void)state;
    uint64_t ram = 5ull << 30;
    machine_t *m = machine_new(ram, NULL, 1);
    assert_non_null(m);
    mb_kernel_t k;
    size_t n = make_elf(img, 32, 0x100000, 0x100000, 0x100000, 0x40, 0x40);
    assert_int_equal(mb_parse(img, n, &k, err, sizeof err), 0);
    const mb_boot_t b = { "k", NULL, 0 };
    uint32_t info = mb_load(m, &k, img, &b, err, sizeof err);
    assert_true(info != 0);
    assert_int_equal(get32(m, info + MB_INFO_MEM_UPPER), (m->lowmem_top - MiB) >> 10);
    uint32_t ma = get32(m, info + MB_INFO_MMAP_ADDR);
    assert_int_equal(get32(m, info + MB_INFO_MMAP_LEN), 6 * MB_MMAP_ENTRY);
    assert_int_equal(get64(m, ma + 72 + 12), m->lowmem_top - MiB);
    assert_int_equal(get64(m, ma + 120 + 4), HIMEM_BASE);
    assert_int_equal(get64(m, ma + 120 + 12), ram - m->lowmem_top);
    /* RAM reported above 4G is RAM the machine really has */
    assert_non_null(phys_ram_ptr(m, HIMEM_BASE + ram - m->lowmem_top - 1));
    assert_null(phys_ram_ptr(m, HIMEM_BASE + ram - m->lowmem_top));
    machine_free(m);
}

static void kernel_too_big_for_ram(void **state)
{
    (void)state;
    machine_t *m = machine_new(2 * MiB, NULL, 1);
    mb_kernel_t k;
    size_t n = make_elf(img, 32, 0x100000, 0x100000, 0x100000, 0x40, 2 * MiB);
    assert_int_equal(mb_parse(img, n, &k, err, sizeof err), 0);
    const mb_boot_t b = { "k", NULL, 0 };
    assert_int_equal(mb_load(m, &k, img, &b, err, sizeof err), 0);
    assert_non_null(strstr(err, "does not fit in RAM"));
    /* the kernel fits but its boot information does not */
    n = make_elf(img, 32, 0x100000, 0x100000, 0x100000, 0x40, MiB);
    assert_int_equal(mb_parse(img, n, &k, err, sizeof err), 0);
    assert_int_equal(mb_load(m, &k, img, &b, err, sizeof err), 0);
    assert_non_null(strstr(err, "need"));
    machine_free(m);
}

static void entry_state(void **state)
{
    (void)state;
    machine_t *m = machine_new(16 * MiB, NULL, 1);
    cpu_t *c = m->cpu[0];
    c->rflags |= F_IF;
    mb_enter(c, 0x123000, 0x100040);
    assert_int_equal(c->gpr[R_RAX], 0x2BADB002);
    assert_int_equal(c->gpr[R_RBX], 0x123000);
    assert_int_equal(c->rip, 0x100040);
    assert_int_equal(c->cr0 & (CR0_PE | CR0_PG), CR0_PE);
    assert_int_equal(cpu_get_rflags(c), 2); /* IF=0, VM=0, arithmetic flags clear */
    assert_int_equal(c->seg[S_CS].base, 0);
    assert_int_equal(c->seg[S_CS].limit, 0xffffffff);
    assert_int_equal(c->seg[S_CS].ar, 0xb | AR_S | AR_P | AR_DB | AR_G);
    for (int s = S_ES; s <= S_GS; s++) {
        if (s == S_CS)
            continue;
        assert_int_equal(c->seg[s].ar, 0x3 | AR_S | AR_P | AR_DB | AR_G);
        assert_int_equal(c->seg[s].limit, 0xffffffff);
        assert_int_equal(c->seg[s].base, 0);
    }
    assert_int_equal(c->mode, MODE_PROT32);
    assert_int_equal(c->cpl, 0);
    machine_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(finds_header_aligned_with_checksum),
        cmocka_unit_test(elf32_plan),
        cmocka_unit_test(elf64_higher_half_entry_translated),
        cmocka_unit_test(elf64_entry_outside_segments_truncated),
        cmocka_unit_test(aout_kludge_overrides_elf),
        cmocka_unit_test(aout_kludge_raw_binary_to_end_of_file),
        cmocka_unit_test(rejects_bad_images),
        cmocka_unit_test(elf_segments_and_entry_sizes),
        cmocka_unit_test(loads_info_modules_and_memory_map),
        cmocka_unit_test(memory_map_above_4g),
        cmocka_unit_test(kernel_too_big_for_ram),
        cmocka_unit_test(entry_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
