/* test_except.c - event delivery (emu/except.c) and the privilege-changing
 * instructions around it: real-mode IVT, protected-mode gates at the same and
 * a more privileged level, IRET back out, IA-32e gates with IST and RSP0,
 * #DF escalation and triple fault, SYSCALL/SYSRET.
 */
#include "seg_test.h"

static void op_gp18(cpu_t *cc, const dinsn_t *d) { cpu_fault_err(cc, EXC_GP, 0x18); }
static void op_np40(cpu_t *cc, const dinsn_t *d) { cpu_fault_err(cc, EXC_NP, 0x40); }
static void op_pf(cpu_t *cc, const dinsn_t *d) { cpu_fault_pf(cc, 0x123456, PF_W); }

static dinsn_t mk_int(int vec)
{
    dinsn_t d = mk(4);
    d.i.imm = (uint64_t)vec;
    return d;
}

/* ---- real mode ---- */

static void test_real_mode_int(void **state)
{
    mode_real();
    wr(0x21 * 4, 4, 0x12345678);
    c->gpr[R_RSP] = 0x8000;
    cpu_set_rflags(c, 0x2 | F_IF | F_TF | F_CF);
    dinsn_t d = mk_int(0x21);
    exec_deliver(op_int_ib, &d);
    assert_int_equal(c->seg[S_CS].sel, 0x1234);
    assert_int_equal(c->seg[S_CS].base, 0x12340);
    assert_int_equal(c->rip, 0x5678);
    assert_int_equal(c->gpr[R_RSP], 0x7ffa);
    assert_int_equal(rd(0x7ffa, 2), RIP0 + 2);         /* return IP: past INT */
    assert_int_equal(rd(0x7ffc, 2), 0);                /* old CS */
    assert_int_equal(rd(0x7ffe, 2), 0x2 | F_IF | F_TF | F_CF);
    assert_int_equal(cpu_get_rflags(c) & (F_IF | F_TF), 0);
    assert_int_equal(cpu_get_rflags(c) & F_CF, F_CF);
}

static void test_real_mode_fault_returns_to_insn(void **state)
{
    mode_real();
    wr(EXC_GP * 4, 4, 0x00002000);
    c->gpr[R_RSP] = 0x8000;
    dinsn_t d = mk(2);
    exec_deliver(op_gp18, &d);
    assert_int_equal(c->rip, 0x2000);
    assert_int_equal(c->gpr[R_RSP], 0x7ffa); /* no error code in real mode */
    assert_int_equal(rd(0x7ffa, 2), RIP0);
}

static void test_real_mode_ivt_limit_triple_faults(void **state)
{
    mode_real();
    c->idtr.limit = 0x1f; /* vectors 0-7 only: INT 21h -> #GP -> #DF -> shutdown */
    c->gpr[R_RSP] = 0x8000;
    dinsn_t d = mk_int(0x21);
    exec_deliver(op_int_ib, &d);
    assert_true(c->shutdown);
    assert_int_equal(m->exit_reason, MEXIT_SHUTDOWN);
}

/* ---- protected mode ---- */

static void test_pm_fault_same_privilege(void **state)
{
    mode_pm32(0);
    idt32_set(EXC_GP, mkgate(SEL_CODE0, 0x6000, 0x8e, 0)); /* 32-bit interrupt gate */
    cpu_set_rflags(c, 0x2 | F_IF);
    dinsn_t d = mk(4);
    exec_deliver(op_gp18, &d);
    assert_int_equal(c->rip, 0x6000);
    assert_int_equal(c->seg[S_CS].sel, SEL_CODE0);
    assert_int_equal(c->gpr[R_RSP], KSTACK - 16);
    assert_int_equal(rd(KSTACK - 16, 4), 0x18);        /* error code */
    assert_int_equal(rd(KSTACK - 12, 4), RIP0);        /* faults restart the instruction */
    assert_int_equal(rd(KSTACK - 8, 4), SEL_CODE0);
    assert_int_equal(rd(KSTACK - 4, 4), 0x2 | F_IF | F_RF); /* RF set in the image of a fault */
    assert_int_equal(cpu_get_rflags(c) & (F_IF | F_RF), 0);
    assert_int_equal(c->exc_depth, 0);
}

static void test_pm_int_to_ring0_and_iret_back(void **state)
{
    mode_pm32(3);
    wr(TSS32 + 4, 4, KSTACK);
    wr(TSS32 + 8, 2, SEL_DATA0);
    idt32_set(0x80, mkgate(SEL_CODE0, 0x7000, 0xef, 0)); /* DPL 3 trap gate */
    cpu_set_rflags(c, 0x2 | F_IF | F_TF);
    dinsn_t d = mk_int(0x80);
    exec_deliver(op_int_ib, &d);
    assert_int_equal(c->cpl, 0);
    assert_int_equal(c->rip, 0x7000);
    assert_int_equal(c->seg[S_CS].sel, SEL_CODE0);
    assert_int_equal(c->seg[S_SS].sel, SEL_DATA0);
    assert_int_equal(c->gpr[R_RSP], KSTACK - 20);
    assert_int_equal(rd(KSTACK - 20, 4), RIP0 + 2);
    assert_int_equal(rd(KSTACK - 16, 4), SEL_CODE3);
    assert_int_equal(rd(KSTACK - 12, 4), 0x2 | F_IF | F_TF);
    assert_int_equal(rd(KSTACK - 8, 4), USTACK);
    assert_int_equal(rd(KSTACK - 4, 4), SEL_DATA3);
    assert_int_equal(cpu_get_rflags(c) & (F_IF | F_TF), F_IF); /* a trap gate keeps IF */
    assert_int_equal(c->tlb, c->tlb_sup);

    /* The kernel loads a DPL-0 DS; IRET to CPL 3 must null it, not ES. */
    EXPECT_OK(seg_load(c, S_DS, SEL_DATA0));
    dinsn_t ir = mk(4);
    assert_int_equal(exec(op_iret, &ir), -1);
    assert_int_equal(c->cpl, 3);
    assert_int_equal(c->rip, RIP0 + 2);
    assert_int_equal(c->seg[S_CS].sel, SEL_CODE3);
    assert_int_equal(c->seg[S_SS].sel, SEL_DATA3);
    assert_int_equal(c->gpr[R_RSP], USTACK);
    assert_true(c->seg[S_DS].ar & AR_UNUSABLE);
    assert_int_equal(c->seg[S_DS].sel, 0);
    assert_int_equal(c->seg[S_ES].sel, SEL_DATA3);
    assert_int_equal(cpu_get_rflags(c) & (F_IF | F_TF), F_IF | F_TF);
    assert_int_equal(c->tlb, c->tlb_user);
}

static void test_pm_int_gate_dpl_check(void **state)
{
    mode_pm32(3);
    wr(TSS32 + 4, 4, KSTACK);
    wr(TSS32 + 8, 2, SEL_DATA0);
    idt32_set(0x81, mkgate(SEL_CODE0, 0x7000, 0x8e, 0)); /* DPL 0 */
    idt32_set(EXC_GP, mkgate(SEL_CODE0, 0x6000, 0x8e, 0));
    dinsn_t d = mk_int(0x81);
    exec_deliver(op_int_ib, &d);
    assert_int_equal(c->rip, 0x6000);
    assert_int_equal(c->cpl, 0);
    assert_int_equal(rd(KSTACK - 24, 4), 0x81 * 8 + 2); /* IDT bit, no EXT for INT n */
    assert_int_equal(rd(KSTACK - 20, 4), RIP0);        /* #GP points at the INT */
}

static void test_pm_extint_not_present_is_np_with_ext(void **state)
{
    mode_pm32(0);
    idt32_set(0x30, mkgate(SEL_CODE0, 0x7000, 0x0e, 0)); /* P = 0 */
    idt32_set(EXC_NP, mkgate(SEL_CODE0, 0x6400, 0x8e, 0));
    c->rip = 0x4444;
    deliver(EV_EXTINT, 0x30, 0, 0);
    assert_int_equal(c->rip, 0x6400); /* benign then contributory: serial, no #DF */
    assert_int_equal(rd(KSTACK - 16, 4), 0x30 * 8 + 2 + 1);
    assert_int_equal(rd(KSTACK - 12, 4), 0x4444);
}

static void test_pm_gp_while_delivering_np_is_df(void **state)
{
    mode_pm32(0);
    idt32_set(EXC_NP, mkgate(0x1f8, 0x6400, 0x8e, 0)); /* selector beyond the GDT */
    idt32_set(EXC_DF, mkgate(SEL_CODE0, 0x6800, 0x8e, 0));
    dinsn_t d = mk(4);
    exec_deliver(op_np40, &d);
    assert_int_equal(c->rip, 0x6800);
    assert_int_equal(rd(KSTACK - 16, 4), 0); /* #DF error code */
    assert_int_equal(rd(KSTACK - 12, 4), RIP0);
    assert_false(c->shutdown);
}

static void test_pm_task_gate_interrupt(void **state)
{
    mode_pm32(0);
    /* New task: flat ring 0, EIP 0x5555, ESP 0x8800, EAX 0xabc. */
    wr(TSS32B + 0x20, 4, 0x5555);
    wr(TSS32B + 0x24, 4, 0x2);
    wr(TSS32B + 0x28, 4, 0xabc);
    wr(TSS32B + 0x38, 4, 0x8800);
    for (int s = 0; s < 6; s++)
        wr(TSS32B + 0x48 + 4 * (unsigned)s, 2, s == S_CS ? SEL_CODE0 : SEL_DATA0);
    idt32_set(EXC_GP, mkgate(SEL_TSSB, 0, 0x85, 0)); /* task gate */
    c->gpr[R_RAX] = 0x1111;
    dinsn_t d = mk(4);
    exec_deliver(op_gp18, &d);
    assert_int_equal(c->seg[S_TR].sel, SEL_TSSB);
    assert_int_equal(c->rip, 0x5555);
    assert_int_equal(c->gpr[R_RAX], 0xabc);
    assert_int_equal(c->gpr[R_RSP], 0x8800 - 4);
    assert_int_equal(rd(0x8800 - 4, 4), 0x18);          /* error code on the new task's stack */
    assert_int_equal(rd(TSS32B, 2), SEL_TSS);           /* previous-task link */
    assert_int_equal(rd(TSS32 + 0x20, 4), RIP0);        /* old EIP saved */
    assert_int_equal(rd(TSS32 + 0x28, 4), 0x1111);
    assert_true(cpu_get_rflags(c) & F_NT);
    assert_true(c->cr0 & CR0_TS);
    assert_int_equal(desc_type(rd(GDT + SEL_TSSB, 8)), SYS_TSS32_BUSY);

    /* IRET with NT returns to the old task and frees the new one. */
    dinsn_t ir = mk(4);
    c->rip = 0x5600;
    assert_int_equal(exec(op_iret, &ir), -1);
    assert_int_equal(c->seg[S_TR].sel, SEL_TSS);
    assert_int_equal(c->rip, RIP0);
    assert_int_equal(c->gpr[R_RAX], 0x1111);
    assert_int_equal(desc_type(rd(GDT + SEL_TSSB, 8)), SYS_TSS32);
    assert_false(cpu_get_rflags(c) & F_NT);
}

/* Faults raised by delivery itself, with their EXT and IDT bits, before any
 * register changes. */
static void test_pm_delivery_fault_codes(void **state)
{
    mode_pm32(3);
    wr(TSS32 + 4, 4, 0x1008);
    wr(TSS32 + 8, 2, SEL_EXPDN); /* expand-down: offsets above 0xfff only */
    idt32_set(0x80, mkgate(SEL_CODE0, 0x7000, 0xef, 0));
    c->gpr[R_RSP] = USTACK;
    /* the third push falls below the expand-down limit: #SS(new SS), EXT per source */
    EXPECT_FAULT(EXC_SS, SEL_EXPDN, cpu_deliver(c, EV_SWINT, 0x80, 0, 0));
    EXPECT_FAULT(EXC_SS, SEL_EXPDN | 1, cpu_deliver(c, EV_EXTINT, 0x80, 0, 0));
    assert_int_equal(c->cpl, 3);
    assert_int_equal(c->gpr[R_RSP], USTACK);
    assert_int_equal(c->seg[S_SS].sel, SEL_DATA3);
    /* a TSS too short for the ring-0 stack: #TS(TR) */
    c->seg[S_TR].limit = 8;
    EXPECT_FAULT(EXC_TS, SEL_TSS | 1, cpu_deliver(c, EV_EXTINT, 0x80, 0, 0));
    /* beyond the IDT limit; not a gate; a null target selector */
    c->idtr.limit = 0x80 * 8 - 1;
    EXPECT_FAULT(EXC_GP, 0x80 * 8 + 2, cpu_deliver(c, EV_SWINT, 0x80, 0, 0));
    c->idtr.limit = 0xfff;
    idt32_set(0x81, mkdesc(0, 0xfffff, 0xf3, 0xc));
    EXPECT_FAULT(EXC_GP, 0x81 * 8 + 2 + 1, cpu_deliver(c, EV_EXTINT, 0x81, 0, 0));
    idt32_set(0x82, mkgate(0, 0x7000, 0xee, 0));
    EXPECT_FAULT(EXC_GP, 1, cpu_deliver(c, EV_EXTINT, 0x82, 0, 0));
    c->exc_depth = 0;
}

static void test_pm_16bit_gate(void **state)
{
    mode_pm32(0);
    idt32_set(0x50, mkgate(SEL_CODE0, 0x12345678, 0x86, 0)); /* 16-bit interrupt gate: IP = 0x5678 */
    cpu_set_rflags(c, 0x2 | F_IF);
    c->rip = 0x4321;
    deliver(EV_EXTINT, 0x50, 0, 0);
    assert_int_equal(c->rip, 0x5678);
    assert_int_equal(c->gpr[R_RSP], KSTACK - 6);
    assert_int_equal(rd(KSTACK - 6, 2), 0x4321);
    assert_int_equal(rd(KSTACK - 4, 2), SEL_CODE0);
    assert_int_equal(rd(KSTACK - 2, 2), 0x2 | F_IF);
    assert_int_equal(cpu_get_rflags(c) & F_IF, 0);
}

/* ---- virtual-8086 mode ---- */

/* From CPL 0, IRET with VM=1 in the image enters V86 mode (32-bit frame with
 * ESP, SS, ES, DS, FS, GS). */
static void enter_v86(uint32_t eflags)
{
    mode_pm32(0);
    wr(TSS32 + 4, 4, KSTACK);
    wr(TSS32 + 8, 2, SEL_DATA0);
    uint64_t sp = KSTACK - 36;
    uint32_t frame[9] = { 0x100, 0x2000, eflags | F_VM | 2, 0x800, 0x3000, 0x4000, 0x5000, 0x6000, 0x7000 };
    for (int k = 0; k < 9; k++)
        wr(sp + 4 * (unsigned)k, 4, frame[k]);
    c->gpr[R_RSP] = sp;
    dinsn_t ir = mk(4);
    assert_int_equal(exec(op_iret, &ir), -1);
    assert_int_equal(c->mode, MODE_V86);
}

static void test_v86_enter_fault_to_ring0_and_back(void **state)
{
    enter_v86(F_IF); /* IOPL 0 */
    assert_int_equal(c->cpl, 3);
    assert_int_equal(c->rip, 0x100);
    assert_int_equal(c->seg[S_CS].base, 0x20000);
    assert_int_equal(c->seg[S_SS].base, 0x30000);
    assert_int_equal(c->seg[S_GS].base, 0x70000);
    assert_int_equal(c->seg[S_DS].limit, 0xffff);
    assert_int_equal(AR_DPL(c->seg[S_DS].ar), 3);
    assert_int_equal(c->gpr[R_RSP], 0x800);

    /* INT n with IOPL < 3 and no VME: #GP(0) to the ring-0 monitor */
    idt32_set(EXC_GP, mkgate(SEL_CODE0, 0x6000, 0x8e, 0));
    dinsn_t d = mk_int(0x21);
    exec_deliver(op_int_ib, &d);
    assert_int_equal(c->mode, MODE_PROT32);
    assert_int_equal(c->cpl, 0);
    assert_int_equal(c->rip, 0x6000);
    assert_int_equal(c->gpr[R_RSP], KSTACK - 40);
    uint32_t want[10] = { 0, RIP0, 0x2000, 0, 0x800, 0x3000, 0x4000, 0x5000, 0x6000, 0x7000 };
    for (int k = 0; k < 10; k++)
        if (k != 3)
            assert_int_equal(rd(KSTACK - 40 + 4 * (unsigned)k, 4), want[k]);
    assert_int_equal(rd(KSTACK - 28, 4) & (F_VM | F_IF), F_VM | F_IF);
    for (int s = S_ES; s <= S_GS; s++)
        if (s != S_CS && s != S_SS)
            assert_true(c->seg[s].ar & AR_UNUSABLE);
    assert_false(c->rflags & F_VM);

    /* the monitor drops the error code and IRETs back */
    c->gpr[R_RSP] += 4;
    dinsn_t ir = mk(4);
    assert_int_equal(exec(op_iret, &ir), -1);
    assert_int_equal(c->mode, MODE_V86);
    assert_int_equal(c->rip, RIP0);
    assert_int_equal(c->seg[S_DS].base, 0x50000);
}

static void test_v86_int3_ignores_iopl(void **state)
{
    enter_v86(0);
    idt32_set(EXC_BP, mkgate(SEL_CODE0, 0x6100, 0xee, 0)); /* DPL 3 */
    dinsn_t d = mk(4);
    d.i.len = 1;
    exec_deliver(op_int3, &d);
    assert_int_equal(c->rip, 0x6100);
    assert_int_equal(rd(KSTACK - 36, 4), RIP0 + 1); /* trap: past INT3 */
}

static void test_v86_vme_redirect_and_iret(void **state)
{
    enter_v86(F_IF | F_VIF);
    c->cr4 |= CR4_VME;
    /* a TSS with an interrupt redirection bitmap: I/O map base 0x88, bitmap at 0x68 */
    gdt_set(SEL_TSS, mkdesc(TSS32, 0xff, 0x8b, 0));
    c->seg[S_TR].limit = 0xff;
    wr(TSS32 + 0x66, 2, 0x88);
    for (unsigned k = 0; k < 32; k++)
        wr(TSS32 + 0x68 + k, 1, 0xff);
    wr(TSS32 + 0x68 + 0x21 / 8, 1, 0xff & ~(1u << (0x21 & 7))); /* INT 21h redirected */
    wr(0x21 * 4, 4, 0x10000200);
    dinsn_t d = mk_int(0x21);
    exec_deliver(op_int_ib, &d);
    assert_int_equal(c->mode, MODE_V86);
    assert_int_equal(c->seg[S_CS].base, 0x10000);
    assert_int_equal(c->rip, 0x200);
    assert_int_equal(c->gpr[R_RSP], 0x800 - 6);
    assert_int_equal(rd(0x30000 + 0x7fa, 2), RIP0 + 2);
    assert_int_equal(rd(0x30000 + 0x7fc, 2), 0x2000);
    uint16_t img = (uint16_t)rd(0x30000 + 0x7fe, 2);
    assert_int_equal(img & (F_IF | F_IOPL), F_IF | F_IOPL); /* VIF as IF, IOPL as 3 */
    assert_int_equal(cpu_get_rflags(c) & (F_IF | F_VIF), F_IF); /* VIF cleared, IF kept */

    /* IRET (16-bit) with VME and IOPL 0: IF of the image goes to VIF */
    dinsn_t ir = mk(2);
    assert_int_equal(exec(op_iret, &ir), -1);
    assert_int_equal(c->rip, RIP0 + 2);
    assert_int_equal(c->seg[S_CS].sel, 0x2000);
    assert_int_equal(cpu_get_rflags(c) & (F_IF | F_VIF | F_IOPL), F_IF | F_VIF);

    /* a set bit with IOPL < 3: #GP(0) */
    idt32_set(EXC_GP, mkgate(SEL_CODE0, 0x6000, 0x8e, 0));
    dinsn_t d2 = mk_int(0x22);
    exec_deliver(op_int_ib, &d2);
    assert_int_equal(c->rip, 0x6000);
    assert_int_equal(c->mode, MODE_PROT32);
}

static void test_v86_cli_sti(void **state)
{
    enter_v86(F_IF);
    dinsn_t d = mk(2);
    assert_int_equal(exec(op_cli, &d), EXC_GP); /* IOPL 0, no VME */
    c->cr4 |= CR4_VME;
    c->rflags |= F_VIF;
    assert_int_equal(exec(op_cli, &d), -1);
    assert_int_equal(cpu_get_rflags(c) & (F_IF | F_VIF), F_IF);
    assert_int_equal(exec(op_sti, &d), -1);
    assert_true(c->rflags & F_VIF);
    dinsn_t h = mk(2);
    assert_int_equal(exec(op_hlt, &h), EXC_GP); /* CPL 3 */
}

/* ---- IA-32e mode ---- */

static void test_long_ist_alignment_and_frame(void **state)
{
    mode_long(0);
    wr(TSS64 + 0x2c, 8, ISTACK + 8); /* IST2, deliberately not 16-byte aligned */
    idt64_set(0x40, SEL_CODE64, 0xffffffff80001000ull, 0x8e, 2);
    c->gpr[R_RSP] = KSTACK - 8;
    c->rip = 0x401234;
    cpu_set_rflags(c, 0x2 | F_IF);
    deliver(EV_EXTINT, 0x40, 0, 0);
    assert_int_equal(c->rip, 0xffffffff80001000ull);
    assert_int_equal(c->gpr[R_RSP], ISTACK - 40);
    assert_int_equal(rd(ISTACK - 40, 8), 0x401234);
    assert_int_equal(rd(ISTACK - 32, 8), SEL_CODE64);
    assert_int_equal(rd(ISTACK - 24, 8), 0x2 | F_IF);
    assert_int_equal(rd(ISTACK - 16, 8), KSTACK - 8);
    assert_int_equal(rd(ISTACK - 8, 8), SEL_DATA0);
    assert_int_equal(c->seg[S_SS].sel, SEL_DATA0); /* same CPL: SS kept */
    assert_int_equal(cpu_get_rflags(c) & F_IF, 0);
    assert_int_equal(c->mode, MODE_LONG64);
}

static void test_long_user_to_kernel_and_iretq(void **state)
{
    mode_long(3);
    wr(TSS64 + 4, 8, KSTACK);
    idt64_set(0x80, SEL_CODE64, 0x7000, 0xef, 0);
    c->gpr[R_RSP] = USTACK - 4;
    cpu_set_rflags(c, 0x2 | F_IF);
    dinsn_t d = mk_int(0x80);
    exec_deliver(op_int_ib, &d);
    assert_int_equal(c->cpl, 0);
    assert_int_equal(c->seg[S_SS].sel, 0);
    assert_true(c->seg[S_SS].ar & AR_UNUSABLE);
    assert_int_equal(c->gpr[R_RSP], KSTACK - 40);
    assert_int_equal(rd(KSTACK - 8, 8), SEL_DATA3);
    assert_int_equal(rd(KSTACK - 16, 8), USTACK - 4);
    assert_int_equal(rd(KSTACK - 32, 8), SEL_CODE64_3);
    assert_int_equal(rd(KSTACK - 40, 8), RIP0 + 2);

    dinsn_t ir = mk(8);
    assert_int_equal(exec(op_iret, &ir), -1);
    assert_int_equal(c->cpl, 3);
    assert_int_equal(c->rip, RIP0 + 2);
    assert_int_equal(c->gpr[R_RSP], USTACK - 4);
    assert_int_equal(c->seg[S_SS].sel, SEL_DATA3);
    assert_int_equal(c->seg[S_CS].sel, SEL_CODE64_3);
    assert_int_equal(c->mode, MODE_LONG64);
}

static void test_long_iretq_same_level_pops_ss_rsp(void **state)
{
    mode_long(0);
    uint64_t sp = KSTACK - 40;
    wr(sp, 8, 0x402000);
    wr(sp + 8, 8, SEL_CODE64);
    wr(sp + 16, 8, 0x2);
    wr(sp + 24, 8, 0x7770);
    wr(sp + 32, 8, 0); /* null SS is fine for 64-bit CPL 0 */
    c->gpr[R_RSP] = sp;
    dinsn_t ir = mk(8);
    assert_int_equal(exec(op_iret, &ir), -1);
    assert_int_equal(c->rip, 0x402000);
    assert_int_equal(c->gpr[R_RSP], 0x7770);
    assert_true(c->seg[S_SS].ar & AR_UNUSABLE);
}

static void test_long_pf_during_pf_is_df(void **state)
{
    mode_long(0);
    wr(TSS64 + 0x24, 8, UNMAPPED + 0x1000);  /* IST1: unmapped */
    wr(TSS64 + 0x34, 8, ISTACK);             /* IST3 */
    idt64_set(EXC_PF, SEL_CODE64, 0x6000, 0x8e, 1);
    idt64_set(EXC_DF, SEL_CODE64, 0x6800, 0x8e, 3);
    dinsn_t d = mk(4);
    exec_deliver(op_pf, &d);
    assert_int_equal(c->rip, 0x6800);
    assert_int_equal(c->gpr[R_RSP], ISTACK - 48);
    assert_int_equal(rd(ISTACK - 48, 8), 0);    /* #DF error code */
    assert_int_equal(rd(ISTACK - 40, 8), RIP0);
    assert_int_equal(c->cr2, UNMAPPED + 0x1000 - 8); /* the second fault's address */
    assert_false(c->shutdown);
}

static void test_long_pf_during_df_is_triple_fault(void **state)
{
    mode_long(0);
    wr(TSS64 + 0x34, 8, UNMAPPED + 0x1000);  /* IST3 for #DF: unmapped */
    idt64_set(EXC_GP, SEL_CODE64, 0x6000, 0x0e, 0); /* not present: #NP during #GP -> #DF */
    idt64_set(EXC_NP, SEL_CODE64, 0x6400, 0x8e, 0);
    idt64_set(EXC_DF, SEL_CODE64, 0x6800, 0x8e, 3);
    dinsn_t d = mk(4);
    exec_deliver(op_gp18, &d);
    assert_true(c->shutdown);
    assert_int_equal(m->exit_reason, MEXIT_SHUTDOWN);
}

static void test_long_page_fault_frame(void **state)
{
    mode_long(0);
    idt64_set(EXC_PF, SEL_CODE64, 0x6000, 0x8e, 0);
    dinsn_t d = mk(4);
    exec_deliver(op_pf, &d);
    assert_int_equal(c->cr2, 0x123456);
    assert_int_equal(c->gpr[R_RSP], KSTACK - 48);
    assert_int_equal(rd(KSTACK - 48, 8), PF_W);
}

/* ---- SYSCALL / SYSRET ---- */

static void test_syscall_sysret(void **state)
{
    mode_long(3);
    c->msr_star = (0x20ull << 48) | (0x28ull << 32);
    c->msr_lstar = 0xffffffff81000000ull;
    c->msr_fmask = F_IF | F_DF | F_TF;
    cpu_set_rflags(c, 0x2 | F_IF | F_DF | F_RF | F_CF);
    dinsn_t d = mk(4);
    assert_int_equal(exec(op_syscall, &d), -1);
    assert_int_equal(c->gpr[R_RCX], RIP0 + 2);
    assert_int_equal(c->gpr[R_R11], 0x2 | F_IF | F_DF | F_RF | F_CF);
    assert_int_equal(cpu_get_rflags(c), 0x2 | F_CF);
    assert_int_equal(c->rip, 0xffffffff81000000ull);
    assert_int_equal(c->cpl, 0);
    assert_int_equal(c->seg[S_CS].sel, 0x28);
    assert_int_equal(c->seg[S_SS].sel, 0x30);
    assert_int_equal(AR_DPL(c->seg[S_SS].ar), 0);
    assert_int_equal(c->mode, MODE_LONG64);

    c->gpr[R_RCX] = 0x401000;
    c->gpr[R_R11] = 0x246 | F_RF | F_VM;
    dinsn_t r = mk(8);
    assert_int_equal(exec(op_sysret, &r), -1);
    assert_int_equal(c->rip, 0x401000);
    assert_int_equal(cpu_get_rflags(c), 0x246);
    assert_int_equal(c->seg[S_CS].sel, 0x33);
    assert_int_equal(c->seg[S_SS].sel, 0x2b);
    assert_int_equal(c->cpl, 3);
    assert_int_equal(AR_DPL(c->seg[S_SS].ar), 3);
    assert_int_equal(c->mode, MODE_LONG64);
    assert_int_equal(c->tlb, c->tlb_user);
}

static void test_sysret_to_compat_and_checks(void **state)
{
    mode_long(0);
    c->msr_star = (0x20ull << 48) | (0x28ull << 32);
    dinsn_t r = mk(4);
    c->gpr[R_RCX] = 0xffffffff00401000ull;
    assert_int_equal(exec(op_sysret, &r), -1);
    assert_int_equal(c->rip, 0x401000);  /* ECX, zero-extended */
    assert_int_equal(c->seg[S_CS].sel, 0x23);
    assert_int_equal(c->mode, MODE_COMPAT32);

    mode_long(0);
    dinsn_t r64 = mk(8);
    c->gpr[R_RCX] = 0x0000800000000000ull;
    assert_int_equal(exec(op_sysret, &r64), EXC_GP);
    assert_int_equal(c->cpl, 0);
    c->efer &= ~EFER_SCE;
    assert_int_equal(exec(op_syscall, &r64), EXC_UD);
    mode_long(3);
    c->gpr[R_RCX] = 0x401000;
    assert_int_equal(exec(op_sysret, &r64), EXC_GP); /* CPL 3 */
}

static void test_sysenter_sysexit(void **state)
{
    mode_pm32(3);
    c->msr_sysenter_cs = SEL_CODE0;
    c->msr_sysenter_esp = 0x9999;
    c->msr_sysenter_eip = 0x12345;
    cpu_set_rflags(c, 0x2 | F_IF);
    dinsn_t d = mk(4);
    assert_int_equal(exec(op_sysexit, &d), EXC_GP); /* CPL 3 */
    assert_int_equal(exec(op_sysenter, &d), -1);
    assert_int_equal(c->cpl, 0);
    assert_int_equal(c->rip, 0x12345);
    assert_int_equal(c->gpr[R_RSP], 0x9999);
    assert_int_equal(c->seg[S_SS].sel, SEL_DATA0);
    assert_int_equal(cpu_get_rflags(c) & F_IF, 0);
    c->gpr[R_RDX] = 0x4000;
    c->gpr[R_RCX] = 0x8000;
    assert_int_equal(exec(op_sysexit, &d), -1);
    assert_int_equal(c->cpl, 3);
    assert_int_equal(c->seg[S_CS].sel, SEL_CODE0 + 16 + 3);
    assert_int_equal(c->seg[S_SS].sel, SEL_CODE0 + 24 + 3);
    assert_int_equal(c->rip, 0x4000);
    assert_int_equal(c->mode, MODE_PROT32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_real_mode_int, setup, teardown),
        cmocka_unit_test_setup_teardown(test_real_mode_fault_returns_to_insn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_real_mode_ivt_limit_triple_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pm_fault_same_privilege, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pm_int_to_ring0_and_iret_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pm_int_gate_dpl_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pm_extint_not_present_is_np_with_ext, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pm_gp_while_delivering_np_is_df, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pm_task_gate_interrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pm_delivery_fault_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pm_16bit_gate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v86_enter_fault_to_ring0_and_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v86_int3_ignores_iopl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v86_vme_redirect_and_iret, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v86_cli_sti, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_ist_alignment_and_frame, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_user_to_kernel_and_iretq, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_iretq_same_level_pops_ss_rsp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_pf_during_pf_is_df, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_pf_during_df_is_triple_fault, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_page_fault_frame, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syscall_sysret, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sysret_to_compat_and_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sysenter_sysexit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
