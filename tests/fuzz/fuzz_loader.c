/* fuzz_loader.c - libFuzzer target for the kernel loader: every input is a
 * kernel image. mb_parse() and mb2_parse() (Multiboot 1 and 2) must each
 * either refuse it with a one-line message or return a plan whose every
 * segment lies inside the input and below 4 GiB; a Multiboot 1 plan is then
 * loaded into a small machine, which must either fit or be refused.
 * Build and run: make fuzz (needs clang). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/multiboot.h"
#include "devices/multiboot2.h"
#include "emu/cpumodel.h"

static machine_t *m;

/* A plan's segments lie inside the input and below 4 GiB, up to its end. */
static void check_plan(const mb_kernel_t *k, size_t size)
{
    for (int i = 0; i < k->nseg; i++) {
        const elf_seg_t *s = &k->seg[i];
        if (s->offset > size || s->filesz > size - s->offset || s->filesz > s->memsz ||
            s->paddr + s->memsz > 0x100000000ull || s->paddr + s->memsz > k->end)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256] = "";
    mb2_kernel_t k2;
    if (mb2_parse(data, size, &k2, err, sizeof err)) {
        if (!err[0] || strchr(err, '\n'))
            abort();
    } else {
        check_plan(&k2.k, size);
    }
    err[0] = 0;
    mb_kernel_t k;
    if (!m)
        m = machine_new(8 << 20, cpu_model_default(), 1);
    if (mb_parse(data, size, &k, err, sizeof err)) {
        if (!err[0] || strchr(err, '\n'))
            abort(); /* a refusal must say why, on one line */
        return 0;
    }
    check_plan(&k, size);
    static const uint8_t mod[100];
    const mb_module_t mods[1] = { { mod, sizeof mod, "module args" } };
    const mb_boot_t b = { "kernel cmdline", mods, 1 };
    uint32_t info = mb_load(m, &k, data, &b, err, sizeof err);
    if (!info && !err[0])
        abort();
    if (info && (info & 0xfff || info >= m->lowmem_top))
        abort();
    return 0;
}
