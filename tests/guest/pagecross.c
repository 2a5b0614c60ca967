/* pagecross.c - instructions that straddle a 4 KiB page boundary: executed
 * repeatedly (the decoded-block cache must not replay a stale block for
 * them), rewritten between runs, and fetched when the second page is not
 * present: #PF with CR2 at the first byte of the missing page and the saved
 * RIP at the instruction's first byte. */
#include "guest.h"

#define ALIAS 0x40000000ull /* PDPT[1], PD entry 0: replaced by pt[] */

__attribute__((aligned(4096))) static uint8_t code[2 * 4096];
__attribute__((aligned(4096))) static volatile uint64_t pt[512];

typedef uint32_t (*fn_t)(void);

/* mov $imm, %eax (5 bytes) starting 3 bytes before the boundary, then ret */
static fn_t emit(uint8_t *page0, uint32_t imm)
{
    uint8_t *p = page0 + 4096 - 3;
    p[0] = 0xb8;
    memcpy(p + 1, &imm, 4);
    p[5] = 0xc3;
    return (fn_t)p;
}

int test_main(const struct mb_info *mbi)
{
    fn_t f = emit(code, 0x12345678);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(f(), 0x12345678);
    emit(code, 0x9abcdef0);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(f(), 0x9abcdef0);
    /* a loop whose body crosses the boundary, run many times */
    uint32_t sum = 0;
    for (uint32_t i = 0; i < 50; i++) {
        emit(code, i);
        sum += f();
    }
    CHECK_EQ(sum, 49 * 50 / 2);

    /* the same page through an alias whose next page is not present */
    pd[512] = (uint64_t)pt | PTE_P | PTE_W;
    pt[0] = (uint64_t)code | PTE_P | PTE_W;
    pt[1] = 0;
    WRITE_CR(3, READ_CR(3));
    catch_trap(14);
    uint64_t target = ALIAS + 4096 - 3, n = last_trap.count;
    __asm__ volatile(RESUME_AT_1F "jmp *%0\n1:" ::"r"(target) : "r11", "rax", "memory");
    printf("fetch across into a missing page: #PF error 0x%lx CR2 0x%lx RIP 0x%lx\n", last_trap.err, last_trap.cr2,
           last_trap.rip);
    CHECK_EQ(last_trap.count, n + 1);
    CHECK_EQ(last_trap.vec, 14);
    CHECK_EQ(last_trap.err & ~0x10ull, 0); /* not present, read, supervisor (I/D only with NXE/SMEP) */
    CHECK_EQ(last_trap.cr2, ALIAS + 4096);
    CHECK_EQ(last_trap.rip, target);
    /* with the second page mapped, the alias runs */
    pt[1] = (uint64_t)(code + 4096) | PTE_P | PTE_W;
    __asm__ volatile("invlpg (%0)" ::"r"(ALIAS + 4096) : "memory");
    CHECK_EQ(((fn_t)target)(), 49);
    return check_result();
}
