/* halt.c - HLT with interrupts disabled: nothing can wake the CPU, so the
 * run must end with the "halted" status (4, docs/cli.md), not hang. */
#include "guest.h"

int test_main(const struct mb_info *mbi)
{
    printf("halting with IF=0\n");
    __asm__ volatile("cli; hlt");
    printf("FAIL: execution continued after HLT\n");
    return 1;
}
