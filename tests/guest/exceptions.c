/* exceptions.c - exceptions with their vectors, error codes and saved RIP
 * (faults point at the instruction, traps after it): #DE, #UD (UD2, an
 * opcode invalid in 64-bit mode, LOCK on a non-locking instruction), #GP
 * (non-canonical address, bad selector), #SS, #NM, #BP, and #DF raised by a
 * #GP whose delivery faults (its gate not present), taken on IST1. */
#include "guest.h"

/* Run one faulting instruction: "2:" marks it, "1:" is where to resume. */
#define FAULT(insn, ...)                                                              \
    ({                                                                                \
        uint64_t at_;                                                                 \
        __asm__ volatile(RESUME_AT_1F "leaq 2f(%%rip), %0\n\t" insn "\n1:"            \
                         : "=&r"(at_)__VA_ARGS__);                                    \
        at_;                                                                          \
    })

static void expect(const char *what, uint64_t count0, int vec, uint64_t err, uint64_t rip)
{
    printf("%s: vector %lu error 0x%lx at 0x%lx\n", what, last_trap.vec, last_trap.err, last_trap.rip);
    CHECK_EQ(last_trap.count, count0 + 1);
    CHECK_EQ(last_trap.vec, vec);
    CHECK_EQ(last_trap.err, err);
    CHECK_EQ(last_trap.rip, rip);
    CHECK_EQ(last_trap.cs, SEL_KCODE);
}

int test_main(const struct mb_info *mbi)
{
    static const int caught[] = { 0, 3, 6, 7, 8, 12, 13 };
    for (unsigned i = 0; i < sizeof caught / sizeof caught[0]; i++)
        catch_trap(caught[i]);
    uint64_t n, at;

    n = last_trap.count;
    at = FAULT("xor %%edx, %%edx; mov $1, %%eax; xor %%ecx, %%ecx\n2: divl %%ecx", :: "rax", "rcx", "rdx", "r11", "memory");
    expect("#DE", n, 0, 0, at);

    n = last_trap.count;
    at = FAULT("2: ud2", :: "r11", "memory");
    expect("#UD ud2", n, 6, 0, at);

    n = last_trap.count;
    at = FAULT("2: .byte 0x06", :: "r11", "memory"); /* PUSH ES: invalid in 64-bit mode */
    expect("#UD push es", n, 6, 0, at);

    n = last_trap.count;
    at = FAULT("2: .byte 0xf0, 0x90", :: "r11", "memory"); /* LOCK NOP */
    expect("#UD lock nop", n, 6, 0, at);

    n = last_trap.count;
    at = FAULT("movabs $0x8000000000000000, %%rax\n2: movq (%%rax), %%rax", :: "rax", "r11", "memory");
    expect("#GP non-canonical", n, 13, 0, at);

    n = last_trap.count;
    at = FAULT("mov $0x1238, %%eax\n2: mov %%eax, %%fs", :: "rax", "r11", "memory");
    expect("#GP selector past the GDT limit", n, 13, 0x1238, at);

    n = last_trap.count;
    at = FAULT("mov %%rbp, %%rcx; movabs $0x8000000000000000, %%rbp\n2: movq (%%rbp), %%rax\n1: mov %%rcx, %%rbp",
               :: "rax", "rcx", "r11", "memory");
    expect("#SS non-canonical stack reference", n, 12, 0, at);

    n = last_trap.count;
    WRITE_CR(0, READ_CR(0) | 8); /* CR0.TS */
    at = FAULT("2: movaps %%xmm0, %%xmm1", :: "r11", "memory");
    __asm__ volatile("clts");
    expect("#NM (CR0.TS)", n, 7, 0, at);

    /* #BP is a trap: the saved RIP is after INT3 */
    n = last_trap.count;
    __asm__ volatile("int3\n1: leaq 1b(%%rip), %0" : "=r"(at)::"memory");
    expect("#BP", n, 3, 0, at);

    /* #GP whose gate is not present: #NP while delivering a contributory
     * exception is a double fault (error code 0), on IST1 */
    n = last_trap.count;
    idt_set_gate(13, 0xe, 0, 0, false);
    __asm__ volatile(RESUME_AT_1F "movabs $0x8000000000000000, %%rax\n\tmovq (%%rax), %%rax\n1:" ::: "rax", "r11",
                     "memory");
    idt_set_gate(13, 0xe, 0, 0, true);
    printf("#DF: vector %lu error 0x%lx, frame at 0x%lx\n", last_trap.vec, last_trap.err, last_trap.rsp);
    CHECK_EQ(last_trap.count, n + 1);
    CHECK_EQ(last_trap.vec, 8);
    CHECK_EQ(last_trap.err, 0);
    CHECK(last_trap.rsp < (uint64_t)stack_top(1) && last_trap.rsp > (uint64_t)stack_top(1) - 8192);

    /* still healthy afterwards */
    n = last_trap.count;
    at = FAULT("2: ud2", :: "r11", "memory");
    expect("#UD after #DF", n, 6, 0, at);
    return check_result();
}
