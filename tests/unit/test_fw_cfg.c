/* test_fw_cfg.c - fw_cfg through ports 0x510/0x511 as a guest uses it: the
 * signature, the feature bitmap without DMA, the little-endian numeric items,
 * the command line, the big-endian file directory and file reads, selector
 * and offset behaviour, reads past the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "devices/fw_cfg.h"
#include "emu/cpumodel.h"

static machine_t *m;
static fw_cfg_t *f;

static void sel(uint16_t key) { io_write(m, 0x510, 2, key); }
static uint8_t rd8(void) { return (uint8_t)io_read(m, 0x511, 1); }
static void rd(void *dst, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ((uint8_t *)dst)[i] = rd8();
}
/* Read a little-endian number of n bytes from the selected item. */
static uint64_t rd_le(int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)rd8() << 8 * i;
    return v;
}
static uint64_t rd_be(int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | rd8();
    return v;
}

static int setup(void **state)
{
    m = machine_new(64 << 20, cpu_model_default(), 2);
    f = fw_cfg_attach(m);
    return 0;
}
static int teardown(void **state)
{
    fw_cfg_free(f);
    machine_free(m);
    return 0;
}

static void test_signature_and_id(void **state)
{
    char sig[5] = { 0 };
    rd(sig, 4); /* the signature is selected at reset */
    assert_string_equal(sig, "QEMU");
    sel(0x0000);
    rd(sig, 4);
    assert_string_equal(sig, "QEMU");
    assert_int_equal(rd8(), 0); /* past the end: 0 */
    assert_int_equal(rd8(), 0);
    sel(0x0001);
    assert_int_equal(rd_le(4), 1); /* traditional interface only: no DMA */
    assert_int_equal(io_read(m, 0x514, 1), 0xff); /* no DMA address register */
}

static void test_numeric_items_little_endian(void **state)
{
    sel(0x0003);
    assert_int_equal(rd_le(8), 64 << 20);
    sel(0x0005);
    assert_int_equal(rd_le(2), 2);
    sel(0x000f);
    assert_int_equal(rd_le(2), 2);
    sel(0x0004);
    assert_int_equal(rd_le(2), 1);
    sel(0x0002);
    uint8_t uuid[16], zero[16] = { 0 };
    rd(uuid, 16);
    assert_memory_equal(uuid, zero, 16);
}

static void test_selector_resets_the_offset(void **state)
{
    sel(0x0003);
    assert_int_equal(rd8(), 0x00);
    assert_int_equal(rd8(), 0x00);
    assert_int_equal(rd8(), 0x00); /* 64 MiB = 0x04000000 */
    sel(0x0003);                   /* reselecting rewinds */
    assert_int_equal(rd_le(4), 64 << 20);
    sel(0x4000); /* bit 14 (write channel) is ignored: still the signature */
    assert_int_equal(rd8(), 'Q');
    sel(0x8000); /* no architecture-specific items */
    assert_int_equal(rd8(), 0);
    sel(0x0006); /* an absent item reads 0 */
    assert_int_equal(rd8(), 0);
    sel(0x1234);
    assert_int_equal(rd8(), 0);
    sel(0x0000);
    io_write(m, 0x511, 1, 0x55); /* data writes are ignored */
    io_write(m, 0x510, 1, 0x05); /* a byte write does not select */
    assert_int_equal(rd8(), 'Q');
    assert_int_equal(io_read(m, 0x511, 2), 0); /* wider reads: 0, no progress */
    assert_int_equal(rd8(), 'E');
    io_write(m, 0x511, 2, 0x0005); /* the ports decode as one: a word write selects */
    assert_int_equal(rd_le(2), 2);
}

static void test_cmdline(void **state)
{
    sel(0x0014);
    assert_int_equal(rd_le(4), 0); /* none set */
    assert_true(fw_cfg_set_cmdline(f, "console=ttyS0 quiet"));
    sel(0x0014);
    assert_int_equal(rd_le(4), 20); /* the NUL counts */
    sel(0x0015);
    char s[21];
    rd(s, 21);
    assert_string_equal(s, "console=ttyS0 quiet");
    assert_int_equal(s[20], 0);
}

/* Find `name` in the directory: its key and size, or false. */
static bool dir_lookup(const char *name, uint16_t *key, uint32_t *size)
{
    sel(0x0019);
    uint32_t n = (uint32_t)rd_be(4);
    for (uint32_t i = 0; i < n; i++) {
        char nm[56];
        uint32_t sz = (uint32_t)rd_be(4);
        uint16_t k = (uint16_t)rd_be(2);
        assert_int_equal(rd_be(2), 0); /* reserved */
        rd(nm, 56);
        assert_int_equal(nm[55], 0);
        if (strcmp(nm, name) == 0) {
            *key = k;
            *size = sz;
            return true;
        }
    }
    return false;
}

static void test_directory_and_files(void **state)
{
    sel(0x0019);
    assert_int_equal(rd_be(4), 0); /* an empty directory is a zero count */
    assert_int_equal(rd8(), 0);
    static const uint8_t e820[40] = { 1, 2, 3, 4, [39] = 0x99 };
    assert_true(fw_cfg_add_file(f, "etc/e820", e820, sizeof e820));
    assert_true(fw_cfg_add_file(f, "etc/acpi/tables", "ACPI", 4));
    assert_true(fw_cfg_add_file(f, "opt/empty", NULL, 0));
    assert_false(fw_cfg_add_file(f, "etc/e820", "x", 1)); /* taken */
    assert_false(fw_cfg_add_file(f, "", "x", 1));
    char longname[57];
    memset(longname, 'a', 56);
    longname[56] = 0;
    assert_false(fw_cfg_add_file(f, longname, "x", 1)); /* 55 characters at most */
    longname[55] = 0;
    assert_true(fw_cfg_add_file(f, longname, "x", 1));

    sel(0x0019);
    assert_int_equal(rd_be(4), 4);
    /* entries in name order, keys from 0x20 */
    uint32_t size = (uint32_t)rd_be(4);
    assert_int_equal(size, 1);
    assert_int_equal(rd_be(2), 0x20); /* "aaa..." sorts first */

    uint16_t key;
    assert_true(dir_lookup("etc/acpi/tables", &key, &size));
    assert_int_equal(key, 0x21);
    assert_int_equal(size, 4);
    assert_true(dir_lookup("etc/e820", &key, &size));
    assert_int_equal(key, 0x22);
    assert_int_equal(size, 40);
    sel(key);
    uint8_t buf[41];
    rd(buf, 41);
    assert_memory_equal(buf, e820, 40);
    assert_int_equal(buf[40], 0); /* past the end */
    assert_true(dir_lookup("opt/empty", &key, &size));
    assert_int_equal(size, 0);
    sel(key);
    assert_int_equal(rd8(), 0);
    assert_false(dir_lookup("etc/absent", &key, &size));
    sel(0x24); /* beyond the last file */
    assert_int_equal(rd8(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_signature_and_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numeric_items_little_endian, setup, teardown),
        cmocka_unit_test_setup_teardown(test_selector_resets_the_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cmdline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directory_and_files, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
