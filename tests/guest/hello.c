/* hello.c - the smallest test kernel: boot through Multiboot into long mode
 * and print over COM1 what the loader handed over (command line, memory,
 * memory map, modules), then a line through the 0xe9 debug console. run.sh
 * checks its output for the CLI tests (`make run` boots demo_vmx.c instead). */
#include "lib/guest.h"

struct mb_mod { uint32_t start, end, string, reserved; };
struct __attribute__((packed)) mb_mmap { uint32_t size; uint64_t base, len; uint32_t type; };

int test_main(const struct mb_info *mbi)
{
    printf("Hello from vmxemu: long mode, CS=0x%x, CR0=0x%lx CR4=0x%lx EFER=0x%lx\n", read_cs(), READ_CR(0),
           READ_CR(4), rdmsr(MSR_EFER));
    CHECK_EQ(rdmsr(MSR_EFER) & (EFER_LME | EFER_LMA), EFER_LME | EFER_LMA);
    CHECK(mbi->flags & 0x4); /* cmdline */
    if (mbi->flags & 0x4)
        printf("command line: %s\n", (const char *)(uint64_t)mbi->cmdline);
    if (mbi->flags & 0x1)
        printf("memory: %u KiB low, %u KiB above 1 MiB\n", mbi->mem_lower, mbi->mem_upper);
    for (uint32_t off = 0; (mbi->flags & 0x40) && off < mbi->mmap_length;) {
        const struct mb_mmap *e = (const struct mb_mmap *)(uint64_t)(mbi->mmap_addr + off);
        printf("mmap: 0x%lx-0x%lx type %u\n", e->base, e->base + e->len, e->type);
        off += e->size + 4;
    }
    const struct mb_mod *mods = (const struct mb_mod *)(uint64_t)mbi->mods_addr;
    for (uint32_t i = 0; (mbi->flags & 0x8) && i < mbi->mods_count; i++) {
        CHECK_EQ(mods[i].start & 0xfff, 0);
        printf("module %u: '%s' %u bytes, first byte 0x%x\n", i, (const char *)(uint64_t)mods[i].string,
               mods[i].end - mods[i].start, *(const uint8_t *)(uint64_t)mods[i].start);
    }
    CHECK_EQ(inb(0xe9), 0xe9);
    for (const char *p = "debug console: ok\n"; *p; p++)
        outb(0xe9, (uint8_t)*p);
    return check_result();
}
