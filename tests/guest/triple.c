/* triple.c - a triple fault on purpose: with an empty IDT (limit 0) the #UD
 * cannot be delivered (#GP), nor can that #GP (#DF), nor the #DF: the CPU
 * shuts down and vmxemu exits with status 6 and a register dump. */
#include "guest.h"

int test_main(const struct mb_info *mbi)
{
    printf("loading an empty IDT and executing UD2\n");
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr = { 0, 0 };
    __asm__ volatile("lidt %0; ud2" ::"m"(idtr));
    printf("FAIL: still running after a triple fault\n");
    return 1;
}
