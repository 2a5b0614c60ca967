/* modes.c - mode switches: the boot went 32-bit protected -> long mode;
 * here 64-bit -> compatibility mode (a 32-bit code segment) -> 64-bit by far
 * call and far return, segment bases honoured in compatibility mode and
 * ignored in 64-bit mode, and long mode -> legacy protected mode (paging
 * off) -> long mode again. */
#include "guest.h"

uint32_t compat_probe(void);
uint32_t compat_segbase(uint32_t off);
uint32_t leave_long_mode(void);

static volatile uint32_t words[0x1000 / 4 + 16];

int test_main(const struct mb_info *mbi)
{
    CHECK_EQ(read_cs(), SEL_KCODE);
    CHECK_EQ(rdmsr(MSR_EFER) & (EFER_LME | EFER_LMA), EFER_LME | EFER_LMA);

    uint32_t v = compat_probe();
    printf("compatibility mode: INC EAX and PUSH size -> 0x%x\n", v);
    CHECK_EQ(v, 0x406);
    CHECK_EQ(read_cs(), SEL_KCODE);

    /* data segment with base 0x1000 in the first free GDT slot */
    gdt[SEL_FREE / 8] = 0x00cf92000000ffffull | (0x1000ull << 16);
    uint64_t base = (uint64_t)words;
    words[0] = 0x11111111;
    words[0x1000 / 4] = 0x22222222;
    v = compat_segbase((uint32_t)base);
    printf("compatibility mode DS base 0x1000: read 0x%x\n", v);
    CHECK_EQ(v, 0x22222222);

    /* in 64-bit mode the DS base is ignored */
    uint32_t w;
    __asm__ volatile("mov %w2, %%ds; movl (%1), %0; mov %w3, %%ds"
                     : "=&r"(w)
                     : "r"(base), "r"(SEL_FREE), "r"(SEL_KDATA)
                     : "memory");
    CHECK_EQ(w, 0x11111111);

    uint32_t efer = leave_long_mode();
    printf("EFER with paging off: 0x%x; back in long mode: 0x%lx\n", efer, rdmsr(MSR_EFER));
    CHECK_EQ(efer & (EFER_LME | EFER_LMA), EFER_LME);
    CHECK_EQ(rdmsr(MSR_EFER) & (EFER_LME | EFER_LMA), EFER_LME | EFER_LMA);
    CHECK_EQ(read_cs(), SEL_KCODE);
    return check_result();
}
