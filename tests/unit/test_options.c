/* test_options.c - the command-line parser: -m sizes, modules, serial
 * targets, errors, and that every documented option parses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "monitor/options.h"

static options_t o;
static char err[256];

static int parse(int argc, const char **argv)
{
    options_free(&o);
    return options_parse(argc, (char **)argv, &o, err, sizeof err);
}
#define PARSE(...) parse(sizeof((const char *[]){ "vmxemu", __VA_ARGS__ }) / sizeof(char *), \
                         (const char *[]){ "vmxemu", __VA_ARGS__ })

static void sizes_in_qemu_syntax(void **state)
{
    (void)state;
    uint64_t b;
    assert_int_equal(parse_size("512", &b), 0);
    assert_int_equal(b, 512ull << 20);
    assert_int_equal(parse_size("512M", &b), 0);
    assert_int_equal(b, 512ull << 20);
    assert_int_equal(parse_size("4G", &b), 0);
    assert_int_equal(b, 4ull << 30);
    assert_int_equal(parse_size("8g", &b), 0);
    assert_int_equal(b, 8ull << 30);
    assert_int_equal(parse_size("65536K", &b), 0);
    assert_int_equal(b, 64ull << 20);
    assert_int_equal(parse_size("1T", &b), 0);
    assert_int_equal(b, 1ull << 40);
    assert_int_equal(parse_size("2GiB", &b), 0);
    assert_int_equal(b, 2ull << 30);
    assert_int_equal(parse_size("16MB", &b), 0);
    assert_int_equal(b, 16ull << 20);
    assert_int_equal(parse_size("", &b), -1);
    assert_int_equal(parse_size("M", &b), -1);
    assert_int_equal(parse_size("-5M", &b), -1);
    assert_int_equal(parse_size("12X", &b), -1);
    assert_int_equal(parse_size("12MX", &b), -1);
    assert_int_equal(parse_size("99999999999999999999", &b), -1);
    assert_int_equal(parse_size("20000000T", &b), -1); /* overflows 64 bits */
}

static void defaults_and_kernel_forms(void **state)
{
    (void)state;
    assert_int_equal(PARSE("k.elf"), 0);
    assert_string_equal(o.kernel, "k.elf");
    assert_int_equal(o.ram, OPT_DEFAULT_RAM);
    assert_int_equal(o.serial, SERIAL_STDIO);
    assert_null(o.append);
    assert_null(o.cpu);
    assert_int_equal(o.max_cycles, 0);
    assert_false(o.stats);
    assert_int_equal(PARSE("-kernel", "a.elf"), 0);
    assert_string_equal(o.kernel, "a.elf");
    assert_int_equal(PARSE("--kernel=b.elf"), 0);
    assert_string_equal(o.kernel, "b.elf");
    assert_int_equal(PARSE("-kernel", "a.elf", "b.elf"), -1);
    assert_non_null(strstr(err, "more than one kernel"));
}

static void every_option(void **state)
{
    (void)state;
    assert_int_equal(PARSE("-m", "8G", "-append", "-v console=ttyS0", "--cpu", "skylake-server", "--serial",
                           "file:/tmp/out.txt", "--max-cycles", "1000000", "--stats", "k.elf"),
                     0);
    assert_int_equal(o.ram, 8ull << 30);
    assert_string_equal(o.append, "-v console=ttyS0");
    assert_string_equal(o.cpu, "skylake-server");
    assert_int_equal(o.serial, SERIAL_FILE);
    assert_string_equal(o.serial_path, "/tmp/out.txt");
    assert_int_equal(o.max_cycles, 1000000);
    assert_true(o.stats);
    assert_int_equal(PARSE("--m=1G", "--serial=none", "k"), 0);
    assert_int_equal(o.ram, 1ull << 30);
    assert_int_equal(o.serial, SERIAL_NONE);
    assert_int_equal(PARSE("--max-cycles", "0x10", "k"), 0);
    assert_int_equal(o.max_cycles, 16);
}

static void modules_in_order_with_strings(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--module", "a.bin,x=1 y", "-initrd", "b.img", "--module", "c", "k"), 0);
    assert_int_equal(o.nmods, 3);
    assert_string_equal(o.mods[0].path, "a.bin");
    assert_string_equal(o.mods[0].string, "a.bin x=1 y");
    assert_string_equal(o.mods[1].path, "b.img");
    assert_string_equal(o.mods[1].string, "b.img");
    assert_string_equal(o.mods[2].string, "c");
    /* QEMU's -initrd list: comma-separated, ",," escapes, first space splits */
    assert_int_equal(PARSE("-initrd", "r.elf arg1 arg2,m2,,x,m3", "k"), 0);
    assert_int_equal(o.nmods, 3);
    assert_string_equal(o.mods[0].path, "r.elf");
    assert_string_equal(o.mods[0].string, "r.elf arg1 arg2");
    assert_string_equal(o.mods[1].path, "m2,x");
    assert_string_equal(o.mods[2].path, "m3");
    assert_int_equal(PARSE("--module", ",args", "k"), -1);
}

static void help_version_and_cpu_help_need_no_kernel(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--help"), 0);
    assert_true(o.help);
    assert_int_equal(PARSE("-h"), 0);
    assert_true(o.help);
    assert_int_equal(PARSE("--version"), 0);
    assert_true(o.version);
    assert_int_equal(PARSE("--cpu", "help"), 0);
    assert_string_equal(o.cpu, "help");
    assert_int_equal(PARSE("--stats"), -1);
    assert_non_null(strstr(err, "no kernel"));
}

static void errors_are_one_clear_line(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--frobnicate", "k"), -1);
    assert_non_null(strstr(err, "unknown option '--frobnicate'"));
    assert_int_equal(PARSE("k", "-m"), -1);
    assert_non_null(strstr(err, "needs an argument"));
    assert_int_equal(PARSE("-m", "1M", "k"), -1); /* below the minimum */
    assert_int_equal(PARSE("-m", "65G", "k"), -1);
    assert_int_equal(PARSE("-m", "4097K", "k"), -1); /* not a page multiple */
    assert_int_equal(PARSE("-m", "lots", "k"), -1);
    assert_non_null(strstr(err, "bad -m 'lots'"));
    assert_int_equal(PARSE("--serial", "tcp:1234", "k"), -1);
    assert_int_equal(PARSE("--serial", "file:", "k"), -1);
    assert_int_equal(PARSE("--max-cycles", "10x", "k"), -1);
    assert_int_equal(PARSE("--max-cycles", "-1", "k"), -1);
    assert_int_equal(PARSE("--stats=1", "k"), -1);
    assert_null(strchr(err, '\n'));
}

static void usage_lists_options_and_statuses(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    options_usage(f);
    fclose(f);
    static const char *const must[] = { "-m SIZE", "-append", "-initrd", "--module", "--cpu", "--serial",
                                        "--max-cycles", "--stats", "--version", "--help", "-kernel",
                                        "(v << 1) | 1", "  2 ", "  6 ", "  8 " };
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        assert_non_null(strstr(buf, must[i]));
    free(buf);
}

static int teardown(void **state)
{
    (void)state;
    options_free(&o);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sizes_in_qemu_syntax),
        cmocka_unit_test(defaults_and_kernel_forms),
        cmocka_unit_test(every_option),
        cmocka_unit_test(modules_in_order_with_strings),
        cmocka_unit_test(help_version_and_cpu_help_need_no_kernel),
        cmocka_unit_test(errors_are_one_clear_line),
        cmocka_unit_test(usage_lists_options_and_statuses),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
