/* hello.c - the smallest test kernel: boot through Multiboot into long mode
 * and print over COM1, with what the loader handed over. Also the demo of
 * `make run`. */
#include "lib/guest.h"

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
    return check_result();
}
