/* interrupts.c - software interrupts through the IDT: INT n reaches the
 * gate's handler with the architectural frame (RIP after the instruction,
 * CS, RFLAGS, RSP, SS), an interrupt gate clears IF and a trap gate leaves it,
 * IRETQ restores RFLAGS, the handler's register edits come back, and a gate
 * with IST set switches stacks even without a privilege change. */
#include "guest.h"

static volatile uint64_t seen_rflags_inside, seen_count;
static volatile struct trap_frame seen;

static void handler(struct trap_frame *f)
{
    seen_rflags_inside = read_rflags();
    seen = *f;
    seen_count++;
    f->rax = f->rbx + 1; /* visible to the interrupted code after IRETQ */
}

static void ist_handler(struct trap_frame *f)
{
    seen = *f;
    seen_count++;
    seen.rsp = (uint64_t)f; /* where the frame was built */
}

int test_main(const struct mb_info *mbi)
{
    set_trap_handler(0x40, handler);
    set_trap_handler(0x41, handler);
    idt_set_gate(0x41, 0xf, 0, 0, true); /* trap gate */
    set_trap_handler(0x42, ist_handler);
    idt_set_gate(0x42, 0xe, 0, 2, true); /* interrupt gate on IST2 */

    uint64_t after, rsp_before, rax, rbx = 0x1234;
    __asm__ volatile("sti\n\tmov %%rsp, %1\n\tint $0x40\n1: cli\n\tleaq 1b(%%rip), %0"
                     : "=&r"(after), "=&r"(rsp_before), "=a"(rax)
                     : "b"(rbx)
                     : "memory");
    printf("INT 0x40: RIP 0x%lx CS 0x%lx RFLAGS 0x%lx RSP 0x%lx SS 0x%lx, IF inside %lu\n", seen.rip, seen.cs,
           seen.rflags, seen.rsp, seen.ss, (seen_rflags_inside >> 9) & 1);
    CHECK_EQ(seen_count, 1);
    CHECK_EQ(seen.vec, 0x40);
    CHECK_EQ(seen.rip, after);
    CHECK_EQ(seen.cs, SEL_KCODE);
    CHECK_EQ(seen.rsp, rsp_before);
    CHECK_EQ(seen.ss & ~3ull, SEL_KDATA);
    CHECK(seen.rflags & 0x200);              /* IF was set when INT ran */
    CHECK_EQ(seen_rflags_inside & 0x200, 0); /* interrupt gate cleared it */
    CHECK_EQ(rax, 0x1235);                   /* handler's RAX edit came back */

    uint64_t rf_after;
    __asm__ volatile("sti\n\tint $0x41\n\tpushfq\n\tpopq %0\n\tcli" : "=r"(rf_after), "=a"(rax) : "b"(rbx) : "memory");
    CHECK_EQ(seen_count, 2);
    CHECK(seen_rflags_inside & 0x200); /* trap gate left IF alone */
    CHECK(rf_after & 0x200);           /* IRETQ restored IF */

    __asm__ volatile("int $0x42" ::: "memory");
    printf("INT 0x42 via IST2: frame at 0x%lx\n", seen.rsp);
    CHECK_EQ(seen_count, 3);
    CHECK(seen.rsp < (uint64_t)stack_top(2) && seen.rsp > (uint64_t)stack_top(2) - 8192);
    return check_result();
}
