/* privilege.c - privilege transitions: ring 3 entered with IRETQ; back to
 * ring 0 with SYSCALL (CS/SS from STAR, RCX/R11 saved, RFLAGS masked by
 * FMASK), a SYSCALL/SYSRET round trip, an interrupt gate of DPL 3 that
 * switches to TSS.RSP0 and pushes the user SS:RSP, an IST gate, #GP for a
 * privileged instruction and for INT n through a DPL-0 gate. */
#include "guest.h"

#define MSR_STAR  0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_FMASK 0xc0000084

void user_syscall(void), user_syscall_next(void), user_sysret(void), lstar_sysret(void), user_int80(void);
void user_int81(void), user_hlt(void), user_int40(void), user_read_cs(void);
extern uint64_t sysret_count;

static struct trap_frame last;

/* INT 0x80/0x81 and #GP from ring 3: keep the frame, return a value to user_call's caller. */
static void back_to_kernel(struct trap_frame *f)
{
    last = *f;
    last.r15 = (uint64_t)f; /* where the CPU built the frame */
    user_return(f->vec == 13 ? 0x1000 | f->err : f->rax);
}

static bool on_stack(uint64_t p, int which, uint64_t size)
{
    return p < (uint64_t)stack_top(which) && p >= (uint64_t)stack_top(which) - size;
}

int test_main(const struct mb_info *mbi)
{
    uint64_t ustack = (uint64_t)stack_top(3), r;
    idt_set_gate(0x80, 0xe, 3, 0, true);
    idt_set_gate(0x81, 0xe, 3, 2, true);
    set_trap_handler(0x80, back_to_kernel);
    set_trap_handler(0x81, back_to_kernel);
    set_trap_handler(13, back_to_kernel);

    r = user_call(user_read_cs, ustack);
    printf("ring 3 CS: 0x%lx\n", r);
    CHECK_EQ(r, SEL_UCODE | 3);

    /* INT 0x80: the frame on the RSP0 stack holds the user's CS, SS, RSP */
    r = user_call(user_int80, ustack);
    printf("INT 0x80 from ring 3: RAX %lu CS 0x%lx SS 0x%lx RSP 0x%lx frame 0x%lx\n", r, last.cs, last.ss, last.rsp,
           last.r15);
    CHECK_EQ(r, 7);
    CHECK_EQ(last.cs, SEL_UCODE | 3);
    CHECK_EQ(last.ss, SEL_UDATA | 3);
    CHECK_EQ(last.rsp, ustack);
    CHECK(on_stack(last.r15, 0, 16384));
    CHECK_EQ(read_cs(), SEL_KCODE);

    r = user_call(user_int81, ustack);
    printf("INT 0x81 (IST2) from ring 3: frame 0x%lx, IST2 stack top %p\n", last.r15, stack_top(2));
    CHECK_EQ(last.vec, 0x81);
    CHECK(on_stack(last.r15, 2, 8192)); /* IST2 wins over RSP0 */

    r = user_call(user_hlt, ustack);
    printf("HLT at CPL 3: %s error 0x%lx\n", last.vec == 13 ? "#GP" : "?", last.err);
    CHECK_EQ(r, 0x1000);
    CHECK_EQ(last.vec, 13);
    CHECK_EQ(last.cs, SEL_UCODE | 3);
    CHECK_EQ(last.rip, (uint64_t)user_hlt);

    r = user_call(user_int40, ustack);
    CHECK_EQ(r, 0x1000 | (0x40 * 8 + 2));

    /* SYSCALL */
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    wrmsr(MSR_STAR, (uint64_t)SEL_UCODE32 << 48 | (uint64_t)SEL_KCODE << 32);
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    wrmsr(MSR_FMASK, 0x4700); /* TF, DF, IF, NT */
    r = user_call(user_syscall, ustack);
    printf("SYSCALL: RAX %lu CS 0x%lx SS 0x%lx RCX 0x%lx R11 0x%lx RSP 0x%lx\n", r, sys_cs, sys_ss, sys_rcx, sys_r11,
           sys_rsp);
    CHECK_EQ(r, 42);
    CHECK_EQ(sys_cs, SEL_KCODE);
    CHECK_EQ(sys_ss, SEL_KDATA);
    CHECK_EQ(sys_rcx, (uint64_t)user_syscall_next);
    CHECK_EQ(sys_r11, 0x2); /* the user RFLAGS IRETQ loaded */
    CHECK_EQ(sys_rsp, ustack);
    CHECK_EQ(sys_rflags & 0x4700, 0);

    /* SYSRET: CS = STAR[63:48] + 16, SS = STAR[63:48] + 8, both RPL 3 */
    wrmsr(MSR_LSTAR, (uint64_t)lstar_sysret);
    r = user_call(user_sysret, ustack);
    printf("after SYSRET: CS 0x%lx SS 0x%lx\n", r & 0xffff, r >> 16);
    CHECK_EQ(sysret_count, 1);
    CHECK_EQ(r & 0xffff, SEL_UCODE | 3);
    CHECK_EQ(r >> 16, SEL_UDATA | 3);
    return check_result();
}
