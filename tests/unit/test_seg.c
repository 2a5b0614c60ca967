/* test_seg.c - segmentation (emu/seg.c) and the segment/system instructions
 * (emu/exec_seg.c, emu/exec_sys.c): limit and type checks per mode, segment
 * loads with their error codes, far transfers through call gates, RET to an
 * outer level, LAR/LSL/VERR/VERW, descriptor-table registers, CLI/STI.
 */
#include "seg_test.h"

/* ---- seg_lin_slow: limits and types ---- */

static void test_real_mode_limits(void **state)
{
    mode_real();
    c->seg[S_DS].base = 0x1230;
    volatile uint64_t la = 0;
    EXPECT_OK(la = seg_lin_slow(c, S_DS, 0xfffe, 2, ACC_READ));
    assert_int_equal(la, 0x1230 + 0xfffe);
    EXPECT_FAULT(EXC_GP, 0, seg_lin_slow(c, S_DS, 0xffff, 2, ACC_READ));
    EXPECT_FAULT(EXC_SS, 0, seg_lin_slow(c, S_SS, 0xffff, 2, ACC_WRITE));
    /* CS is writable in real mode */
    EXPECT_OK(seg_lin_slow(c, S_CS, 0x10, 4, ACC_WRITE));
    /* unreal mode: the cached limit rules */
    c->seg[S_DS].limit = 0xffffffff;
    EXPECT_OK(la = seg_lin_slow(c, S_DS, 0x100000, 4, ACC_WRITE));
    assert_int_equal(la, 0x1230 + 0x100000);
}

static void test_pm_type_checks(void **state)
{
    mode_pm32(0);
    load_cache(S_DS, SEL_RO);
    EXPECT_OK(seg_lin_slow(c, S_DS, 0x100, 4, ACC_READ));
    EXPECT_FAULT(EXC_GP, 0, seg_lin_slow(c, S_DS, 0x100, 4, ACC_WRITE));
    load_cache(S_ES, SEL_XO);
    EXPECT_FAULT(EXC_GP, 0, seg_lin_slow(c, S_ES, 0x100, 4, ACC_READ));
    load_cache(S_ES, SEL_RX);
    EXPECT_OK(seg_lin_slow(c, S_ES, 0x100, 4, ACC_READ));
    EXPECT_FAULT(EXC_GP, 0, seg_lin_slow(c, S_ES, 0x100, 4, ACC_WRITE));
    seg_cache_null(&c->seg[S_FS], 0);
    EXPECT_FAULT(EXC_GP, 0, seg_lin_slow(c, S_FS, 0, 1, ACC_READ));
    /* flat: an access may not wrap past 4 GiB */
    EXPECT_FAULT(EXC_GP, 0, seg_lin_slow(c, S_GS, 0xfffffffe, 4, ACC_READ));
    volatile uint64_t la = 0;
    EXPECT_OK(la = seg_lin_slow(c, S_GS, 0xfffffffc, 4, ACC_WRITE));
    assert_int_equal(la, 0xfffffffc);
}

static void test_pm_expand_down_and_stack(void **state)
{
    mode_pm32(0);
    load_cache(S_DS, SEL_EXPDN); /* base 1 MiB, limit 0xfff, B = 0 */
    volatile uint64_t la = 0;
    EXPECT_FAULT(EXC_GP, 0, seg_lin_slow(c, S_DS, 0xfff, 1, ACC_READ));
    EXPECT_OK(la = seg_lin_slow(c, S_DS, 0x1000, 4, ACC_WRITE));
    assert_int_equal(la, 0x101000);
    EXPECT_OK(seg_lin_slow(c, S_DS, 0xffff, 1, ACC_READ));
    EXPECT_FAULT(EXC_GP, 0, seg_lin_slow(c, S_DS, 0xfffe, 4, ACC_READ));
    c->seg[S_DS].ar |= AR_DB; /* upper bound 4 GiB */
    EXPECT_OK(seg_lin_slow(c, S_DS, 0x10000, 4, ACC_READ));
    /* SS-relative: #SS(0) */
    load_cache(S_SS, SEL_DATA16);
    EXPECT_FAULT(EXC_SS, 0, seg_lin_slow(c, S_SS, 0x10000, 2, ACC_READ));
    load_cache(S_SS, SEL_EXPDN);
    EXPECT_FAULT(EXC_SS, 0, seg_lin_slow(c, S_SS, 0x800, 2, ACC_WRITE));
}

static void test_long_mode_canonical(void **state)
{
    mode_long(0);
    c->seg[S_FS].base = 0x7000;
    c->seg[S_DS].base = 0x5000; /* ignored in 64-bit mode */
    volatile uint64_t la = 0;
    EXPECT_OK(la = seg_lin_slow(c, S_FS, 0x10, 8, ACC_READ));
    assert_int_equal(la, 0x7010);
    EXPECT_OK(la = seg_lin_slow(c, S_DS, 0x10, 8, ACC_READ));
    assert_int_equal(la, 0x10);
    EXPECT_FAULT(EXC_GP, 0, seg_lin_slow(c, S_DS, 0x0000800000000000ull, 8, ACC_READ));
    EXPECT_FAULT(EXC_SS, 0, seg_lin_slow(c, S_SS, 0x8000000000000000ull, 8, ACC_WRITE));
    EXPECT_FAULT(EXC_GP, 0, seg_lin_slow(c, S_DS, 0x00007ffffffffffcull, 8, ACC_READ)); /* runs off the end */
}

/* ---- segment loads ---- */

static void test_load_data_segments(void **state)
{
    mode_pm32(3);
    EXPECT_OK(seg_load(c, S_DS, 0));
    assert_true(c->seg[S_DS].ar & AR_UNUSABLE);
    EXPECT_FAULT(EXC_GP, 0x1f8, seg_load(c, S_DS, 0x1fb)); /* beyond the GDT */
    EXPECT_FAULT(EXC_GP, SEL_DATA0, seg_load(c, S_DS, SEL_DATA0)); /* DPL 0 < CPL 3 */
    EXPECT_FAULT(EXC_GP, SEL_TSS, seg_load(c, S_DS, SEL_TSS | 3)); /* system segment */
    EXPECT_OK(seg_load(c, S_ES, SEL_DATA3));
    assert_int_equal(c->seg[S_ES].sel, SEL_DATA3);
    assert_int_equal(c->seg[S_ES].limit, 0xffffffff);

    mode_pm32(0);
    EXPECT_FAULT(EXC_NP, SEL_NP, seg_load(c, S_DS, SEL_NP));
    EXPECT_FAULT(EXC_GP, SEL_XO, seg_load(c, S_DS, SEL_XO)); /* execute-only code */
    EXPECT_OK(seg_load(c, S_DS, SEL_RX));
    EXPECT_FAULT(EXC_GP, SEL_DATA0, seg_load(c, S_DS, SEL_DATA0 | 3)); /* RPL 3 > DPL 0 */
}

static void test_load_ss(void **state)
{
    mode_pm32(0);
    EXPECT_FAULT(EXC_GP, 0, seg_load(c, S_SS, 0));
    EXPECT_FAULT(EXC_GP, 0x20, seg_load(c, S_SS, SEL_DATA3));     /* RPL 3 != CPL 0 */
    EXPECT_FAULT(EXC_GP, SEL_RO, seg_load(c, S_SS, SEL_RO));      /* not writable */
    EXPECT_FAULT(EXC_SS, SEL_NP, seg_load(c, S_SS, SEL_NP));      /* not present: #SS */
    EXPECT_FAULT(EXC_GP, SEL_CODE0, seg_load(c, S_SS, SEL_CODE0));
    /* the accessed bit is set in memory */
    gdt_set(SEL_DATA16, mkdesc(0, 0xffff, 0x92, 0));
    EXPECT_OK(seg_load(c, S_SS, SEL_DATA16));
    assert_int_equal((rd(GDT + SEL_DATA16, 8) >> 40) & 0xff, 0x93);
    assert_int_equal(c->seg[S_SS].ar & AR_DB, 0);

    mode_long(0);
    EXPECT_OK(seg_load(c, S_SS, 0)); /* null SS at CPL 0 in 64-bit mode */
    assert_true(c->seg[S_SS].ar & AR_UNUSABLE);
    mode_long(3);
    EXPECT_FAULT(EXC_GP, 0, seg_load(c, S_SS, 3));
}

static void test_load_through_ldt(void **state)
{
    mode_pm32(0);
    uint16_t lsel = 0x0c; /* LDT index 1 */
    EXPECT_FAULT(EXC_GP, 0x0c, seg_load(c, S_DS, lsel)); /* LDTR not loaded */
    wr(LDT + 8, 8, mkdesc(0x20000, 0xfff, 0x93, 0));
    dinsn_t d = mk(2);
    d.i.rm = R_RAX;
    c->gpr[R_RAX] = SEL_LDT;
    assert_int_equal(exec(op_lldt, &d), -1);
    assert_int_equal(c->seg[S_LDTR].base, LDT);
    EXPECT_OK(seg_load(c, S_DS, lsel));
    assert_int_equal(c->seg[S_DS].base, 0x20000);
    /* beyond the LDT limit; TI stays in the error code */
    EXPECT_FAULT(EXC_GP, 0x24, seg_load(c, S_DS, 0x24));
    c->gpr[R_RAX] = SEL_DATA0;
    assert_int_equal(exec(op_lldt, &d), EXC_GP); /* not an LDT descriptor */
    assert_int_equal(c->ev_err, SEL_DATA0);
}

static void test_mov_sreg(void **state)
{
    mode_real();
    c->seg[S_DS].limit = 0xffffffff; /* unreal mode survives a real-mode load */
    dinsn_t d = mk(2);
    d.i.reg = S_DS;
    d.i.rm = R_RBX;
    c->gpr[R_RBX] = 0xb800;
    assert_int_equal(exec(op_mov_sw_ew, &d), -1);
    assert_int_equal(c->seg[S_DS].sel, 0xb800);
    assert_int_equal(c->seg[S_DS].base, 0xb8000);
    assert_int_equal(c->seg[S_DS].limit, 0xffffffff);
    d.i.reg = S_CS;
    assert_int_equal(exec(op_mov_sw_ew, &d), EXC_UD);
    d.i.reg = S_SS;
    c->intr_shadow = 0;
    assert_int_equal(exec(op_mov_sw_ew, &d), -1);
    assert_int_equal(c->intr_shadow, 2);

    /* MOV r32, Sreg zero-extends */
    mode_pm32(0);
    dinsn_t s = mk(4);
    s.i.reg = S_SS;
    s.i.rm = R_RCX;
    c->gpr[R_RCX] = ~0ull;
    assert_int_equal(exec(op_mov_ev_sw, &s), -1);
    assert_int_equal(c->gpr[R_RCX], SEL_DATA0);
}

static void test_pop_sreg(void **state)
{
    mode_pm32(0);
    c->gpr[R_RSP] = KSTACK - 4;
    wr(KSTACK - 4, 4, SEL_DATA0);
    dinsn_t d = mk(4);
    d.i.opcode = 0x17; /* POP SS */
    assert_int_equal(exec(op_pop_sreg, &d), -1);
    assert_int_equal(c->gpr[R_RSP], KSTACK);
    assert_int_equal(c->intr_shadow, 2);
    /* a faulting load leaves ESP alone */
    c->gpr[R_RSP] = KSTACK - 4;
    wr(KSTACK - 4, 4, SEL_NP);
    d.i.opcode = 0xa1; /* POP FS */
    d.i.map = X86_MAP_0F;
    assert_int_equal(exec(op_pop_sreg, &d), EXC_NP);
    assert_int_equal(c->gpr[R_RSP], KSTACK - 4);
}

/* ---- far transfers ---- */

static void test_far_jmp_checks(void **state)
{
    mode_pm32(0);
    dinsn_t d = mk(4);
    d.i.sel = SEL_RX;
    d.i.imm = 0x10000; /* beyond the 64 KiB limit */
    assert_int_equal(exec(op_jmpf_ap, &d), EXC_GP);
    assert_int_equal(c->ev_err, 0);
    d.i.imm = 0x1234;
    assert_int_equal(exec(op_jmpf_ap, &d), -1);
    assert_int_equal(c->seg[S_CS].sel, SEL_RX);
    assert_int_equal(c->rip, 0x1234);
    assert_int_equal(c->mode, MODE_PROT32);
    assert_true(c->stop & STOP_MODE);

    /* JMP cannot change privilege through a call gate */
    mode_pm32(3);
    d.i.sel = SEL_CALLGATE | 3;
    assert_int_equal(exec(op_jmpf_ap, &d), EXC_GP);
    assert_int_equal(c->ev_err, SEL_CODE0);
    /* nor go straight to a DPL 0 segment */
    d.i.sel = SEL_CODE0;
    assert_int_equal(exec(op_jmpf_ap, &d), EXC_GP);
    assert_int_equal(c->ev_err, SEL_CODE0);

    mode_real();
    d = mk(2);
    d.i.sel = 0xf000;
    d.i.imm = 0xfff0;
    assert_int_equal(exec(op_jmpf_ap, &d), -1);
    assert_int_equal(c->seg[S_CS].base, 0xf0000);
    assert_int_equal(c->rip, 0xfff0);
}

static void test_call_gate_inner_and_retf_outer(void **state)
{
    mode_pm32(3);
    wr(TSS32 + 4, 4, KSTACK);
    wr(TSS32 + 8, 2, SEL_DATA0);
    c->gpr[R_RSP] = USTACK - 8;
    wr(USTACK - 8, 4, 0x1111);
    wr(USTACK - 4, 4, 0x2222);
    dinsn_t d = mk(4);
    d.i.len = 7;
    d.i.sel = SEL_CALLGATE | 3;
    assert_int_equal(exec(op_callf_ap, &d), -1);
    assert_int_equal(c->cpl, 0);
    assert_int_equal(c->seg[S_CS].sel, SEL_CODE0);
    assert_int_equal(c->rip, 0x5000);
    assert_int_equal(c->seg[S_SS].sel, SEL_DATA0);
    assert_int_equal(c->gpr[R_RSP], KSTACK - 24);
    assert_int_equal(rd(KSTACK - 4, 4), SEL_DATA3);
    assert_int_equal(rd(KSTACK - 8, 4), USTACK - 8);
    assert_int_equal(rd(KSTACK - 12, 4), 0x2222); /* parameters keep their order */
    assert_int_equal(rd(KSTACK - 16, 4), 0x1111);
    assert_int_equal(rd(KSTACK - 20, 4), SEL_CODE3);
    assert_int_equal(rd(KSTACK - 24, 4), RIP0 + 7);

    EXPECT_OK(seg_load(c, S_DS, SEL_DATA0));
    dinsn_t r = mk(4);
    r.i.imm = 8; /* RET 8 releases the two parameters on both stacks */
    assert_int_equal(exec(op_retf_iw, &r), -1);
    assert_int_equal(c->cpl, 3);
    assert_int_equal(c->rip, RIP0 + 7);
    assert_int_equal(c->seg[S_CS].sel, SEL_CODE3);
    assert_int_equal(c->seg[S_SS].sel, SEL_DATA3);
    assert_int_equal(c->gpr[R_RSP], USTACK);
    assert_true(c->seg[S_DS].ar & AR_UNUSABLE); /* DPL 0 data nulled at CPL 3 */
    assert_int_equal(c->seg[S_ES].sel, SEL_DATA3);
}

static void test_retf_checks(void **state)
{
    mode_pm32(3);
    c->gpr[R_RSP] = USTACK - 8;
    wr(USTACK - 8, 4, 0x4000);
    wr(USTACK - 4, 4, SEL_CODE0); /* RPL 0 < CPL 3 */
    dinsn_t r = mk(4);
    assert_int_equal(exec(op_retf, &r), EXC_GP);
    assert_int_equal(c->ev_err, SEL_CODE0);
    assert_int_equal(c->gpr[R_RSP], USTACK - 8);
    wr(USTACK - 4, 4, SEL_CODE3);
    assert_int_equal(exec(op_retf, &r), -1);
    assert_int_equal(c->rip, 0x4000);
    assert_int_equal(c->gpr[R_RSP], USTACK);
}

static void test_jmp_to_tss_switches_task(void **state)
{
    mode_pm32(0);
    wr(TSS32B + 0x20, 4, 0x7777);
    wr(TSS32B + 0x24, 4, 0x2 | F_IF);
    wr(TSS32B + 0x38, 4, 0x8800);
    for (int s = 0; s < 6; s++)
        wr(TSS32B + 0x48 + 4 * (unsigned)s, 2, s == S_CS ? SEL_CODE3 : SEL_DATA3);
    dinsn_t d = mk(4);
    d.i.sel = SEL_TSSB;
    assert_int_equal(exec(op_jmpf_ap, &d), -1);
    assert_int_equal(c->seg[S_TR].sel, SEL_TSSB);
    assert_int_equal(c->cpl, 3);
    assert_int_equal(c->rip, 0x7777);
    assert_int_equal(c->seg[S_SS].sel, SEL_DATA3);
    assert_false(cpu_get_rflags(c) & F_NT);
    assert_int_equal(desc_type(rd(GDT + SEL_TSS, 8)), SYS_TSS32);      /* old one freed */
    assert_int_equal(desc_type(rd(GDT + SEL_TSSB, 8)), SYS_TSS32_BUSY);
    assert_int_equal(rd(TSS32 + 0x20, 4), RIP0 + 2);
    /* a busy TSS cannot be jumped to */
    mode_pm32(0);
    assert_int_equal(exec(op_jmpf_ap, &d), EXC_GP);
    assert_int_equal(c->ev_err, SEL_TSSB);
}

static void test_long_call_gate_and_retfq(void **state)
{
    mode_long(3);
    wr(TSS64 + 4, 8, KSTACK);
    c->gpr[R_RSP] = USTACK;
    wr(0x5100, 8, 0xdeadbeef); /* the offset is ignored for a gate */
    wr(0x5108, 2, SEL_CALLGATE64 | 3);
    dinsn_t d = mk(8);
    d.i.mod = 0;
    d.i.base = R_RBX;
    d.i.asize = 8;
    d.i.len = 3;
    c->gpr[R_RBX] = 0x5100;
    assert_int_equal(exec(op_callf_mp, &d), -1);
    assert_int_equal(c->cpl, 0);
    assert_int_equal(c->rip, 0x5000);
    assert_int_equal(c->seg[S_CS].sel, SEL_CODE64);
    assert_true(c->seg[S_SS].ar & AR_UNUSABLE); /* null SS, RPL 0 */
    assert_int_equal(c->seg[S_SS].sel, 0);
    assert_int_equal(c->gpr[R_RSP], KSTACK - 32);
    assert_int_equal(rd(KSTACK - 8, 8), SEL_DATA3);
    assert_int_equal(rd(KSTACK - 16, 8), USTACK);
    assert_int_equal(rd(KSTACK - 24, 8), SEL_CODE64_3);
    assert_int_equal(rd(KSTACK - 32, 8), RIP0 + 3);

    dinsn_t r = mk(8);
    assert_int_equal(exec(op_retf, &r), -1);
    assert_int_equal(c->cpl, 3);
    assert_int_equal(c->rip, RIP0 + 3);
    assert_int_equal(c->gpr[R_RSP], USTACK);
    assert_int_equal(c->seg[S_SS].sel, SEL_DATA3);
    assert_int_equal(c->mode, MODE_LONG64);
}

static void test_iretq_to_compat(void **state)
{
    mode_long(0);
    uint64_t sp = KSTACK - 40;
    uint64_t frame[5] = { 0x1234, SEL_CODE3, 0x202, 0x9000, SEL_DATA3 };
    for (int k = 0; k < 5; k++)
        wr(sp + 8 * (unsigned)k, 8, frame[k]);
    c->gpr[R_RSP] = sp;
    dinsn_t ir = mk(8);
    assert_int_equal(exec(op_iret, &ir), -1);
    assert_int_equal(c->mode, MODE_COMPAT32);
    assert_int_equal(c->cpl, 3);
    assert_int_equal(c->rip, 0x1234);
    assert_int_equal(c->gpr[R_RSP], 0x9000);
    /* a null SS is refused for a return to compatibility mode */
    mode_long(0);
    wr(sp + 32, 8, 3);
    c->gpr[R_RSP] = sp;
    assert_int_equal(exec(op_iret, &ir), EXC_GP);
    assert_int_equal(c->ev_err, 0);
}

/* ---- LAR, LSL, VERR, VERW, ARPL ---- */

static uint64_t lar_like(insn_fn fn, uint16_t sel, int *zf)
{
    dinsn_t d = mk(4);
    d.i.rm = R_RBX;
    d.i.reg = R_RAX;
    c->gpr[R_RBX] = sel;
    c->gpr[R_RAX] = 0xdead;
    assert_int_equal(exec(fn, &d), -1);
    *zf = (int)flag_zf(c);
    return c->gpr[R_RAX];
}

static void test_lar_lsl_verr_verw(void **state)
{
    int zf;
    mode_pm32(3);
    assert_int_equal(lar_like(op_lar, SEL_DATA3, &zf), 0x00cff300);
    assert_int_equal(zf, 1);
    assert_int_equal(lar_like(op_lar, SEL_DATA0, &zf), 0xdead); /* DPL < CPL */
    assert_int_equal(zf, 0);
    assert_int_equal(lar_like(op_lar, SEL_CALLGATE | 3, &zf) & 0xff00, 0xec00);
    assert_int_equal(zf, 1);
    lar_like(op_lsl, SEL_CALLGATE | 3, &zf); /* gates have no limit */
    assert_int_equal(zf, 0);
    assert_int_equal(lar_like(op_lsl, SEL_CODE3, &zf), 0xffffffff);
    assert_int_equal(zf, 1);
    lar_like(op_lar, 0, &zf);
    assert_int_equal(zf, 0);

    mode_pm32(0);
    assert_int_equal(lar_like(op_lsl, SEL_DATA16, &zf), 0xffff);
    lar_like(op_verr, SEL_XO, &zf);
    assert_int_equal(zf, 0);
    lar_like(op_verr, SEL_RX, &zf);
    assert_int_equal(zf, 1);
    lar_like(op_verw, SEL_RO, &zf);
    assert_int_equal(zf, 0);
    lar_like(op_verw, SEL_DATA0, &zf);
    assert_int_equal(zf, 1);
    lar_like(op_verw, SEL_DATA0 | 3, &zf); /* RPL 3 > DPL 0 */
    assert_int_equal(zf, 0);

    mode_real();
    dinsn_t d = mk(4);
    assert_int_equal(exec(op_lar, &d), EXC_UD);
}

static void test_arpl(void **state)
{
    mode_pm32(3);
    dinsn_t d = mk(2);
    d.i.rm = R_RBX;
    d.i.reg = R_RCX;
    c->gpr[R_RBX] = 0x10;
    c->gpr[R_RCX] = 0x23;
    assert_int_equal(exec(op_arpl, &d), -1);
    assert_int_equal(c->gpr[R_RBX], 0x13);
    assert_int_equal(flag_zf(c), 1);
    assert_int_equal(exec(op_arpl, &d), -1);
    assert_int_equal(flag_zf(c), 0);
}

/* ---- descriptor-table registers, LTR ---- */

static void test_lgdt_sgdt(void **state)
{
    mode_pm32(0);
    wr(0x5000, 2, 0x2ff);
    wr(0x5002, 4, 0x12345678);
    dinsn_t d = mk(4);
    d.i.mod = 0;
    d.i.base = R_RBX;
    c->gpr[R_RBX] = 0x5000;
    assert_int_equal(exec(op_lidt, &d), -1);
    assert_int_equal(c->idtr.limit, 0x2ff);
    assert_int_equal(c->idtr.base, 0x12345678);
    d.i.osize = 2; /* 24-bit base */
    assert_int_equal(exec(op_lidt, &d), -1);
    assert_int_equal(c->idtr.base, 0x345678);
    c->gpr[R_RBX] = 0x5100;
    assert_int_equal(exec(op_sgdt, &d), -1);
    assert_int_equal(rd(0x5100, 2), GDT_LIMIT);
    assert_int_equal(rd(0x5102, 4), GDT);

    mode_long(0);
    d.i.asize = 8;
    c->gpr[R_RBX] = 0x5200;
    c->idtr = (dtr_t){ 0xffff800000001000ull, 0xfff };
    assert_int_equal(exec(op_sidt, &d), -1);
    assert_int_equal(rd(0x5202, 8), 0xffff800000001000ull);
    wr(0x5202, 8, 0x0000800000000000ull);
    assert_int_equal(exec(op_lidt, &d), EXC_GP); /* non-canonical base */

    mode_pm32(3);
    assert_int_equal(exec(op_lgdt, &d), EXC_GP);
    c->cr4 |= CR4_UMIP;
    assert_int_equal(exec(op_sgdt, &d), EXC_GP);
}

static void test_ltr(void **state)
{
    mode_pm32(0);
    dinsn_t d = mk(2);
    d.i.rm = R_RAX;
    c->gpr[R_RAX] = SEL_TSSB;
    assert_int_equal(exec(op_ltr, &d), -1);
    assert_int_equal(c->seg[S_TR].sel, SEL_TSSB);
    assert_int_equal(c->seg[S_TR].base, TSS32B);
    assert_int_equal(AR_TYPE(c->seg[S_TR].ar), SYS_TSS32_BUSY);
    assert_int_equal(desc_type(rd(GDT + SEL_TSSB, 8)), SYS_TSS32_BUSY);
    assert_int_equal(exec(op_ltr, &d), EXC_GP); /* now busy */
    assert_int_equal(c->ev_err, SEL_TSSB);
    c->gpr[R_RAX] = 0;
    assert_int_equal(exec(op_ltr, &d), EXC_GP);
    assert_int_equal(c->ev_err, 0);

    /* 64-bit TSS: 16-byte descriptor with base[63:32] */
    mode_long(0);
    wr(GDT + SEL_TSS64, 8, mkdesc(TSS64, 0x67, 0x89, 0));
    wr(GDT + SEL_TSS64 + 8, 8, 0xffff8000);
    c->gpr[R_RAX] = SEL_TSS64;
    assert_int_equal(exec(op_ltr, &d), -1);
    assert_int_equal(c->seg[S_TR].base, 0xffff800000000000ull | TSS64);
}

/* ---- CLI/STI, HLT, SWAPGS, FS/GS base ---- */

static void test_cli_sti(void **state)
{
    mode_pm32(3);
    cpu_set_rflags(c, 0x2 | F_IF); /* IOPL 0 */
    dinsn_t d = mk(4);
    assert_int_equal(exec(op_cli, &d), EXC_GP);
    c->cr4 |= CR4_PVI;
    assert_int_equal(exec(op_cli, &d), -1);
    assert_int_equal(cpu_get_rflags(c) & (F_IF | F_VIF), F_IF); /* VIF cleared, IF kept */
    c->rflags |= F_VIP;
    assert_int_equal(exec(op_sti, &d), EXC_GP);

    mode_pm32(0);
    cpu_set_rflags(c, 0x2);
    c->intr_shadow = 0;
    assert_int_equal(exec(op_sti, &d), -1);
    assert_int_equal(c->intr_shadow, 1);
    assert_true(c->rflags & F_IF);
    c->intr_shadow = 0;
    assert_int_equal(exec(op_sti, &d), -1);
    assert_int_equal(c->intr_shadow, 0); /* IF was already 1 */
}

static void test_hlt_swapgs_fsgsbase(void **state)
{
    mode_long(3);
    dinsn_t d = mk(8);
    assert_int_equal(exec(op_hlt, &d), EXC_GP);
    assert_int_equal(exec(op_swapgs, &d), EXC_GP);
    mode_long(0);
    assert_int_equal(exec(op_hlt, &d), -1);
    assert_true(c->halted);
    c->seg[S_GS].base = 0x1111;
    c->msr_kernel_gs_base = 0x2222;
    assert_int_equal(exec(op_swapgs, &d), -1);
    assert_int_equal(c->seg[S_GS].base, 0x2222);
    assert_int_equal(c->msr_kernel_gs_base, 0x1111);

    d.i.rm = R_RDX;
    assert_int_equal(exec(op_rdfsbase, &d), EXC_UD);
    c->cr4 |= CR4_FSGSBASE;
    c->gpr[R_RDX] = 0xffff800000001234ull;
    assert_int_equal(exec(op_wrfsbase, &d), -1);
    assert_int_equal(c->seg[S_FS].base, 0xffff800000001234ull);
    c->gpr[R_RDX] = 0x0000800000000000ull;
    assert_int_equal(exec(op_wrgsbase, &d), EXC_GP);
    d.i.osize = 4;
    assert_int_equal(exec(op_rdfsbase, &d), -1);
    assert_int_equal(c->gpr[R_RDX], 0x1234);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_real_mode_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pm_type_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pm_expand_down_and_stack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_mode_canonical, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_data_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_ss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_through_ldt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mov_sreg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pop_sreg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_far_jmp_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_gate_inner_and_retf_outer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retf_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jmp_to_tss_switches_task, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_call_gate_and_retfq, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iretq_to_compat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lar_lsl_verr_verw, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arpl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lgdt_sgdt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ltr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli_sti, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hlt_swapgs_fsgsbase, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
