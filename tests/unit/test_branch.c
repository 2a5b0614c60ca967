/* test_branch.c - near branches (JMP, Jcc, CALL, RET, LOOPcc, JrCXZ) and the
 * stack instructions (PUSH, POP, PUSHA, POPA, PUSHF, POPF, ENTER, LEAVE).
 *
 * Handlers run on a real machine_t; the first 4 MiB of linear addresses are
 * mapped 1:1 onto guest RAM by filling the TLB directly, so no page walk is
 * involved. Instructions are hand-built x86_insn values, and faults are caught
 * with the CPU's own fault_jmp.
 */
#include "emu/flags.h"
#include "fixture.h"

static machine_t *m;
static cpu_t *c;

#define RIP0 0x1000

static void mode64(void)
{
    fx_mode64(c, CR0_PE | CR0_PG | CR0_ET, CR4_PAE);
    assert_int_equal(c->mode, MODE_LONG64);
}

/* Protected mode, flat 4 GiB segments; ss16 makes SS a 16-bit (B=0) stack. */
static void mode32(bool ss16)
{
    fx_set_mode(c, CR0_PE | CR0_ET, 0, 0, FX_AR_CODE32, FX_AR_DATA32, 0xffffffff);
    if (ss16)
        c->seg[S_SS].ar &= ~AR_DB;
    assert_int_equal(c->mode, MODE_PROT32);
}

static void mode_real(void)
{
    fx_set_mode(c, CR0_ET, 0, 0, AR_P | AR_S | 0xb, AR_P | AR_S | 3, 0xffff);
    c->seg[S_CS].sel = 0;
    assert_int_equal(c->mode, MODE_REAL);
}

static int setup(void **state)
{
    if (fx_setup_flat(&m, &c))
        return -1;
    c->deadline = UINT64_MAX;
    return 0;
}

static int teardown(void **state)
{
    machine_free(m);
    return 0;
}

static dinsn_t mk(int osize, int len)
{
    dinsn_t d = fx_insn(osize, 8, len);
    d.lat = 1;
    return d;
}

/* Run one handler for an instruction at rip; returns the fault vector or -1. */
static int exec_at(insn_fn fn, const dinsn_t *d, uint64_t rip) { return fx_exec_at(c, fn, d, rip); }
static int exec(insn_fn fn, const dinsn_t *d) { return exec_at(fn, d, RIP0); }

static uint64_t rd(uint64_t pa, int size) { return phys_read(m, pa, size); }
static void wr(uint64_t pa, int size, uint64_t v) { phys_write(m, pa, size, v); }

/* ---------------- JMP / Jcc ---------------- */

static void test_jmp_rel_64(void **state)
{
    mode64();
    dinsn_t d = mk(8, 2);
    d.i.imm = (uint64_t)-0x20;
    assert_int_equal(exec(op_jmp_rel, &d), -1);
    assert_int_equal(c->rip, RIP0 + 2 - 0x20);
}

/* 66 EB: a 16-bit operand size wraps the target to 16 bits outside 64-bit mode. */
static void test_jmp_rel_o16_wraps(void **state)
{
    mode32(false);
    dinsn_t d = mk(2, 3);
    d.i.imm = 0x20;
    assert_int_equal(exec_at(op_jmp_rel, &d, 0x1fff0), -1);
    assert_int_equal(c->rip, (0x1fff3 + 0x20) & 0xffff);
}

static void test_jmp_beyond_cs_limit_faults(void **state)
{
    mode32(false);
    c->seg[S_CS].limit = 0xffff;
    dinsn_t d = mk(4, 5);
    d.i.imm = 0x10000;
    assert_int_equal(exec(op_jmp_rel, &d), EXC_GP);
    assert_int_equal(c->ev_err, 0);
    assert_int_equal(c->rip, RIP0 + 5); /* the branch did not move RIP */
    /* exactly at the limit is fine */
    d.i.imm = 0xffff - (RIP0 + 5);
    assert_int_equal(exec(op_jmp_rel, &d), -1);
    assert_int_equal(c->rip, 0xffff);
}

static void test_jmp_ev_noncanonical_faults(void **state)
{
    mode64();
    dinsn_t d = mk(8, 2);
    d.i.rm = R_RAX;
    c->gpr[R_RAX] = 0x0000800000000000ull;
    assert_int_equal(exec(op_jmp_ev, &d), EXC_GP);
    assert_int_equal(c->rip, RIP0 + 2);
    c->gpr[R_RAX] = 0xffff800000000000ull;
    assert_int_equal(exec(op_jmp_ev, &d), -1);
    assert_int_equal(c->rip, 0xffff800000000000ull);
}

/* JMP [rbx+8]: memory operand, 64-bit even with a (ignored) 66 prefix. */
static void test_jmp_ev_memory_o16_in_64(void **state)
{
    mode64();
    dinsn_t d = mk(2, 4);
    d.i.mod = 1;
    d.i.base = R_RBX;
    d.i.disp = 8;
    c->gpr[R_RBX] = 0x3000;
    wr(0x3008, 8, 0x123456789abcull);
    assert_int_equal(exec(op_jmp_ev, &d), -1);
    assert_int_equal(c->rip, 0x123456789abcull);
}

/* The SDM's condition table (Vol. 2 "Jcc"), evaluated from an RFLAGS image. */
static bool cond_ref(int cc, uint64_t f)
{
    bool cf = f & F_CF, zf = f & F_ZF, sf = f & F_SF, of = f & F_OF, pf = f & F_PF, r;
    switch (cc >> 1) {
    case 0: r = of; break;
    case 1: r = cf; break;
    case 2: r = zf; break;
    case 3: r = cf || zf; break;
    case 4: r = sf; break;
    case 5: r = pf; break;
    case 6: r = sf != of; break;
    default: r = zf || sf != of; break;
    }
    return (cc & 1) ? !r : r;
}

static void test_jcc_all_conditions(void **state)
{
    static const insn_fn jcc[16] = { op_jo, op_jno, op_jb, op_jae, op_je, op_jne, op_jbe, op_ja,
                                     op_js, op_jns, op_jp, op_jnp, op_jl, op_jge, op_jle, op_jg };
    mode64();
    dinsn_t d = mk(8, 2);
    d.i.imm = 0x40;
    /* every combination of CF PF ZF SF OF */
    for (unsigned bits = 0; bits < 32; bits++) {
        uint64_t f = 2 | ((bits & 1) ? F_CF : 0) | ((bits & 2) ? F_PF : 0) | ((bits & 4) ? F_ZF : 0) |
                     ((bits & 8) ? F_SF : 0) | ((bits & 16) ? F_OF : 0);
        for (int cc = 0; cc < 16; cc++) {
            cpu_set_rflags(c, f);
            assert_int_equal(exec(jcc[cc], &d), -1);
            assert_int_equal(c->rip, RIP0 + 2 + (cond_ref(cc, f) ? 0x40 : 0));
        }
    }
}

/* In 64-bit mode 66 does not truncate a Jcc target (Intel: f64). */
static void test_jcc_o16_ignored_in_64(void **state)
{
    mode64();
    cpu_set_rflags(c, 2 | F_ZF);
    dinsn_t d = mk(2, 3);
    d.i.imm = 0x100;
    assert_int_equal(exec_at(op_je, &d, 0x7fff12340000ull), -1);
    assert_int_equal(c->rip, 0x7fff12340103ull);
}

static void test_jcc_not_taken_never_faults(void **state)
{
    mode32(false);
    c->seg[S_CS].limit = 0xfff;
    cpu_set_rflags(c, 2); /* ZF = 0 */
    dinsn_t d = mk(4, 2);
    d.i.imm = 0x100000;
    assert_int_equal(exec_at(op_je, &d, 0x100), -1);
    assert_int_equal(c->rip, 0x102);
    assert_int_equal(exec_at(op_jne, &d, 0x100), EXC_GP);
}

/* ---------------- CALL / RET ---------------- */

static void test_call_ret_64(void **state)
{
    mode64();
    c->gpr[R_RSP] = 0x8000;
    dinsn_t d = mk(8, 5);
    d.i.imm = 0x500;
    assert_int_equal(exec(op_call_rel, &d), -1);
    assert_int_equal(c->rip, RIP0 + 5 + 0x500);
    assert_int_equal(c->gpr[R_RSP], 0x7ff8);
    assert_int_equal(rd(0x7ff8, 8), RIP0 + 5);

    dinsn_t r = mk(8, 1);
    assert_int_equal(exec_at(op_ret, &r, 0x2000), -1);
    assert_int_equal(c->rip, RIP0 + 5);
    assert_int_equal(c->gpr[R_RSP], 0x8000);
}

static void test_ret_iw_releases_bytes(void **state)
{
    mode64();
    c->gpr[R_RSP] = 0x7ff8;
    wr(0x7ff8, 8, 0x4444);
    dinsn_t r = mk(2, 4); /* 66 C2 iw: 66 is ignored in 64-bit mode, 8 bytes popped */
    r.i.imm = 0x18;
    assert_int_equal(exec(op_ret_iw, &r), -1);
    assert_int_equal(c->rip, 0x4444);
    assert_int_equal(c->gpr[R_RSP], 0x7ff8 + 8 + 0x18);
}

static void test_call_bad_target_pushes_nothing(void **state)
{
    mode32(false);
    c->seg[S_CS].limit = 0x1fff;
    c->gpr[R_RSP] = 0x8000;
    wr(0x7ffc, 4, 0xdeadbeef);
    dinsn_t d = mk(4, 5);
    d.i.imm = 0x1000;
    assert_int_equal(exec(op_call_rel, &d), EXC_GP);
    assert_int_equal(c->gpr[R_RSP], 0x8000);
    assert_int_equal(rd(0x7ffc, 4), 0xdeadbeef);
}

static void test_ret_bad_target_keeps_rsp(void **state)
{
    mode32(false);
    c->seg[S_CS].limit = 0x1fff;
    c->gpr[R_RSP] = 0x8000;
    wr(0x8000, 4, 0x5000);
    dinsn_t r = mk(4, 1);
    assert_int_equal(exec(op_ret, &r), EXC_GP);
    assert_int_equal(c->gpr[R_RSP], 0x8000);
    assert_int_equal(c->rip, RIP0 + 1);
}

/* CALL [rsp]: the operand is read with the old RSP. */
static void test_call_ev_rsp_operand(void **state)
{
    mode64();
    c->gpr[R_RSP] = 0x8000;
    wr(0x8000, 8, 0x2468);
    dinsn_t d = mk(8, 3);
    d.i.mod = 0;
    d.i.base = R_RSP;
    d.i.seg = X86_SS;
    assert_int_equal(exec(op_call_ev, &d), -1);
    assert_int_equal(c->rip, 0x2468);
    assert_int_equal(c->gpr[R_RSP], 0x7ff8);
    assert_int_equal(rd(0x7ff8, 8), RIP0 + 3);
}

/* Real mode, SP = 0: CALL pushes the 16-bit IP at SS:FFFE. */
static void test_call_real_mode_sp_wraps(void **state)
{
    mode_real();
    c->seg[S_SS].base = 0x20000;
    c->gpr[R_RSP] = 0xabcd0000ull;
    dinsn_t d = mk(2, 3);
    d.i.imm = 0x10;
    assert_int_equal(exec_at(op_call_rel, &d, 0x100), -1);
    assert_int_equal(c->rip, 0x113);
    assert_int_equal(c->gpr[R_RSP], 0xabcdfffeull);
    assert_int_equal(rd(0x2fffe, 2), 0x103);
}

/* ---------------- LOOP / JrCXZ ---------------- */

static void test_loop_counts_by_address_size(void **state)
{
    mode64();
    dinsn_t d = mk(8, 2);
    d.i.imm = (uint64_t)-2;
    c->gpr[R_RCX] = 2;
    assert_int_equal(exec(op_loop, &d), -1);
    assert_int_equal(c->rip, RIP0);
    assert_int_equal(c->gpr[R_RCX], 1);
    assert_int_equal(exec(op_loop, &d), -1);
    assert_int_equal(c->rip, RIP0 + 2);
    assert_int_equal(c->gpr[R_RCX], 0);

    /* 67 E2 in 64-bit mode: ECX counts, the write zero-extends */
    d.i.asize = 4;
    c->gpr[R_RCX] = 0x500000000ull;
    assert_int_equal(exec(op_loop, &d), -1);
    assert_int_equal(c->gpr[R_RCX], 0xffffffffull);
    assert_int_equal(c->rip, RIP0);

    /* CX in 16-bit addressing: the upper bits stay */
    mode32(false);
    d.i.asize = 2;
    d.i.osize = 4;
    c->gpr[R_RCX] = 0x10000;
    assert_int_equal(exec(op_loop, &d), -1);
    assert_int_equal(c->gpr[R_RCX], 0x1ffff);
    assert_int_equal(c->rip, RIP0);
}

static void test_loope_loopne(void **state)
{
    mode64();
    dinsn_t d = mk(8, 2);
    d.i.imm = 0x30;
    c->gpr[R_RCX] = 5;
    cpu_set_rflags(c, 2); /* ZF = 0 */
    assert_int_equal(exec(op_loope, &d), -1);
    assert_int_equal(c->rip, RIP0 + 2);
    assert_int_equal(c->gpr[R_RCX], 4);
    assert_int_equal(exec(op_loopne, &d), -1);
    assert_int_equal(c->rip, RIP0 + 2 + 0x30);
    assert_int_equal(c->gpr[R_RCX], 3);
    cpu_set_rflags(c, 2 | F_ZF);
    assert_int_equal(exec(op_loope, &d), -1);
    assert_int_equal(c->rip, RIP0 + 2 + 0x30);
    assert_int_equal(exec(op_loopne, &d), -1);
    assert_int_equal(c->rip, RIP0 + 2);
    assert_int_equal(c->gpr[R_RCX], 1);
    /* LOOPcc leaves the flags alone */
    assert_true(cpu_get_rflags(c) & F_ZF);
}

static void test_loop_bad_target_keeps_count(void **state)
{
    mode32(false);
    c->seg[S_CS].limit = 0x1fff;
    dinsn_t d = mk(4, 2);
    d.i.asize = 4;
    d.i.imm = 0x1000;
    c->gpr[R_RCX] = 7;
    assert_int_equal(exec(op_loop, &d), EXC_GP);
    assert_int_equal(c->gpr[R_RCX], 7);
}

static void test_jrcxz(void **state)
{
    mode64();
    dinsn_t d = mk(8, 2);
    d.i.imm = 0x10;
    c->gpr[R_RCX] = 0x100000000ull;
    assert_int_equal(exec(op_jrcxz, &d), -1);
    assert_int_equal(c->rip, RIP0 + 2); /* RCX != 0 */
    d.i.asize = 4;                      /* JECXZ */
    assert_int_equal(exec(op_jrcxz, &d), -1);
    assert_int_equal(c->rip, RIP0 + 0x12);
    assert_int_equal(c->gpr[R_RCX], 0x100000000ull);
}

/* ---------------- PUSH / POP ---------------- */

static void test_push_pop_sizes_64(void **state)
{
    mode64();
    c->gpr[R_RSP] = 0x8000;
    c->gpr[R_RBX] = 0x1122334455667788ull;
    dinsn_t d = mk(8, 1);
    d.i.reg = R_RBX;
    assert_int_equal(exec(op_push_r, &d), -1);
    assert_int_equal(c->gpr[R_RSP], 0x7ff8);
    assert_int_equal(rd(0x7ff8, 8), 0x1122334455667788ull);
    /* 66 push imm16 */
    dinsn_t p = mk(2, 4);
    p.i.imm = (uint64_t)-2;
    assert_int_equal(exec(op_push_imm, &p), -1);
    assert_int_equal(c->gpr[R_RSP], 0x7ff6);
    assert_int_equal(rd(0x7ff6, 2), 0xfffe);
    /* 66 pop cx: merges into CX */
    c->gpr[R_RCX] = 0xaaaaaaaaaaaa0000ull;
    dinsn_t q = mk(2, 2);
    q.i.reg = R_RCX;
    assert_int_equal(exec(op_pop_r, &q), -1);
    assert_int_equal(c->gpr[R_RCX], 0xaaaaaaaaaaaafffeull);
    assert_int_equal(c->gpr[R_RSP], 0x7ff8);
    /* push imm8 sign-extended to 64 bits */
    p = mk(8, 2);
    p.i.imm = (uint64_t)-5;
    assert_int_equal(exec(op_push_imm, &p), -1);
    assert_int_equal(rd(0x7ff0, 8), (uint64_t)-5);
}

static void test_push_pop_rsp(void **state)
{
    mode64();
    c->gpr[R_RSP] = 0x8000;
    dinsn_t d = mk(8, 1);
    d.i.reg = R_RSP;
    assert_int_equal(exec(op_push_r, &d), -1);
    assert_int_equal(rd(0x7ff8, 8), 0x8000); /* the value before the push */
    wr(0x7ff8, 8, 0x6000);
    assert_int_equal(exec(op_pop_r, &d), -1);
    assert_int_equal(c->gpr[R_RSP], 0x6000); /* the popped value wins over the increment */
}

/* 16-bit stack in protected mode: SP wraps, the upper half of ESP stays. */
static void test_push_16bit_stack_wraps(void **state)
{
    mode32(true);
    c->seg[S_SS].limit = 0xffff;
    c->seg[S_SS].base = 0x40000;
    c->gpr[R_RSP] = 0x12340000;
    c->gpr[R_RAX] = 0xcafef00d;
    dinsn_t d = mk(4, 1);
    d.i.reg = R_RAX;
    assert_int_equal(exec(op_push_r, &d), -1);
    assert_int_equal(c->gpr[R_RSP], 0x1234fffc);
    assert_int_equal(rd(0x4fffc, 4), 0xcafef00d);
    /* at SP = 2 the dword would straddle the 64 KiB limit: #SS, SP unchanged */
    c->gpr[R_RSP] = 0x12340002;
    assert_int_equal(exec(op_push_r, &d), EXC_SS);
    assert_int_equal(c->gpr[R_RSP], 0x12340002);
}

static void test_push_beyond_ss_limit_faults(void **state)
{
    mode32(false);
    /* expand-up SS with limit 0x7fff: a push at ESP = 0x8002 writes 0x7ffe..0x8001 */
    c->seg[S_SS].limit = 0x7fff;
    c->gpr[R_RSP] = 0x8002;
    c->gpr[R_RAX] = 1;
    dinsn_t d = mk(4, 1);
    d.i.reg = R_RAX;
    assert_int_equal(exec(op_push_r, &d), EXC_SS);
    assert_int_equal(c->gpr[R_RSP], 0x8002);
    c->gpr[R_RSP] = 0x8000;
    assert_int_equal(exec(op_push_r, &d), -1);
    assert_int_equal(c->gpr[R_RSP], 0x7ffc);
}

/* POP [rsp+8]: the address uses RSP after the increment. */
static void test_pop_ev_rsp_based(void **state)
{
    mode64();
    c->gpr[R_RSP] = 0x8000;
    wr(0x8000, 8, 0x77);
    wr(0x8010, 8, 0);
    dinsn_t d = mk(8, 4);
    d.i.mod = 1;
    d.i.base = R_RSP;
    d.i.disp = 8;
    d.i.seg = X86_SS;
    assert_int_equal(exec(op_pop_ev, &d), -1);
    assert_int_equal(c->gpr[R_RSP], 0x8008);
    assert_int_equal(rd(0x8010, 8), 0x77);
}

static void test_pop_ev_fault_keeps_rsp(void **state)
{
    mode32(false);
    c->seg[S_DS].limit = 0xfff;
    c->gpr[R_RSP] = 0x8000;
    c->gpr[R_RBX] = 0x2000;
    wr(0x8000, 4, 0x99);
    dinsn_t d = mk(4, 2);
    d.i.mod = 0;
    d.i.base = R_RBX;
    assert_int_equal(exec(op_pop_ev, &d), EXC_GP);
    assert_int_equal(c->gpr[R_RSP], 0x8000);
}

/* PUSH FS with a 32-bit operand size writes only the 16-bit selector. */
static void test_push_sreg_writes_16_bits(void **state)
{
    mode32(false);
    c->seg[S_FS].sel = 0x1234;
    c->gpr[R_RSP] = 0x8000;
    wr(0x7ffc, 4, 0xaaaaaaaa);
    dinsn_t d = mk(4, 2);
    d.i.map = X86_MAP_0F;
    d.i.opcode = 0xa0;
    assert_int_equal(exec(op_push_sreg, &d), -1);
    assert_int_equal(c->gpr[R_RSP], 0x7ffc);
    assert_int_equal(rd(0x7ffc, 4), 0xaaaa1234);
    /* PUSH SS (16), one-byte map */
    c->seg[S_SS].sel = 0x18;
    d = mk(2, 1);
    d.i.opcode = 0x16;
    assert_int_equal(exec(op_push_sreg, &d), -1);
    assert_int_equal(rd(0x7ffa, 2), 0x18);
    assert_int_equal(c->gpr[R_RSP], 0x7ffa);
}

static void test_pusha_popa(void **state)
{
    mode32(false);
    uint64_t regs[8] = { 0x11, 0x22, 0x33, 0x44, 0x8000, 0x66, 0x77, 0x88 };
    memcpy(c->gpr, regs, sizeof regs);
    dinsn_t d = mk(4, 1);
    assert_int_equal(exec(op_pusha, &d), -1);
    assert_int_equal(c->gpr[R_RSP], 0x8000 - 32);
    for (int r = 0; r < 8; r++)
        assert_int_equal(rd(0x8000 - 4 * (r + 1), 4), regs[r]); /* EAX first, EDI last */
    wr(0x8000 - 20, 4, 0x5555); /* the saved ESP slot is skipped by POPA */
    memset(c->gpr, 0, 8 * sizeof c->gpr[0]);
    c->gpr[R_RSP] = 0x8000 - 32;
    assert_int_equal(exec(op_popa, &d), -1);
    for (int r = 0; r < 8; r++)
        assert_int_equal(c->gpr[r], regs[r]);
}

static void test_enter_leave(void **state)
{
    mode32(false);
    c->gpr[R_RSP] = 0x8000;
    c->gpr[R_RBP] = 0x9000;
    /* the old frame's display: two frame pointers below EBP */
    wr(0x9000 - 4, 4, 0xa1);
    wr(0x9000 - 8, 4, 0xa2);
    dinsn_t d = mk(4, 4);
    d.i.imm = 0x20;
    d.i.imm2 = 3;
    assert_int_equal(exec(op_enter, &d), -1);
    assert_int_equal(rd(0x7ffc, 4), 0x9000); /* old EBP */
    assert_int_equal(rd(0x7ff8, 4), 0xa1);   /* copied display */
    assert_int_equal(rd(0x7ff4, 4), 0xa2);
    assert_int_equal(rd(0x7ff0, 4), 0x7ffc); /* the new frame pointer */
    assert_int_equal(c->gpr[R_RBP], 0x7ffc);
    assert_int_equal(c->gpr[R_RSP], 0x7ff0 - 0x20);

    dinsn_t l = mk(4, 1);
    assert_int_equal(exec(op_leave, &l), -1);
    assert_int_equal(c->gpr[R_RSP], 0x8000);
    assert_int_equal(c->gpr[R_RBP], 0x9000);

    /* level 0 in 64-bit mode: push rbp; mov rbp, rsp; sub rsp, n */
    mode64();
    c->gpr[R_RSP] = 0x8000;
    c->gpr[R_RBP] = 0x123;
    d = mk(8, 4);
    d.i.imm = 0x100;
    assert_int_equal(exec(op_enter, &d), -1);
    assert_int_equal(c->gpr[R_RBP], 0x7ff8);
    assert_int_equal(c->gpr[R_RSP], 0x7ff8 - 0x100);
    assert_int_equal(rd(0x7ff8, 8), 0x123);
}

/* ENTER whose frame would end below the SS limit faults with nothing changed. */
static void test_enter_fault_keeps_registers(void **state)
{
    mode32(false);
    c->seg[S_SS].limit = 0x7fff;
    c->gpr[R_RSP] = 0x7100;
    c->gpr[R_RBP] = 0x7200;
    wr(0x7200 - 4, 4, 0xb1);
    /* expand-down SS: valid offsets are above the limit */
    c->seg[S_SS].ar |= 0x4;
    c->seg[S_SS].limit = 0x7000;
    dinsn_t d = mk(4, 4);
    d.i.imm = 0x200;
    d.i.imm2 = 2;
    assert_int_equal(exec(op_enter, &d), EXC_SS);
    assert_int_equal(c->gpr[R_RSP], 0x7100);
    assert_int_equal(c->gpr[R_RBP], 0x7200);
}

/* ---------------- PUSHF / POPF ---------------- */

static void test_pushf_clears_vm_rf(void **state)
{
    mode32(false);
    cpu_set_rflags(c, 2 | F_RF | F_CF | F_ZF | F_IF | F_AC);
    c->gpr[R_RSP] = 0x8000;
    dinsn_t d = mk(4, 1);
    assert_int_equal(exec(op_pushf, &d), -1);
    assert_int_equal(rd(0x7ffc, 4), 2 | F_CF | F_ZF | F_IF | F_AC);
}

static uint64_t popf_with(uint64_t before, uint64_t image, int os)
{
    cpu_set_rflags(c, before);
    c->gpr[R_RSP] = 0x8000;
    wr(0x8000, 8, image);
    dinsn_t d = mk(os, 1);
    int f = exec(op_popf, &d);
    assert_int_equal(f, -1);
    assert_int_equal(c->gpr[R_RSP], 0x8000 + os);
    return cpu_get_rflags(c);
}

static void test_popf_privilege_rules(void **state)
{
    uint64_t all = F_ARITH | F_TF | F_IF | F_DF | F_IOPL | F_NT | F_AC | F_ID;
    mode32(false);
    /* CPL 0: everything but VIP VIF VM RF; reserved bits stay as they are */
    uint64_t f = popf_with(2, 0xffffffffull, 4);
    assert_int_equal(f, 2 | all);
    f = popf_with(2 | F_VIP | F_VIF | F_RF, 0, 4);
    assert_int_equal(f, 2 | F_VIP | F_VIF);
    /* CPL 3, IOPL 0: IF and IOPL are silently kept */
    c->cpl = 3;
    f = popf_with(2 | F_IF, F_CF | F_IOPL, 4);
    assert_int_equal(f, 2 | F_IF | F_CF);
    /* CPL 3, IOPL 3: IF may change, IOPL may not */
    f = popf_with(2 | F_IOPL | F_IF, F_ZF, 4);
    assert_int_equal(f, 2 | F_IOPL | F_ZF);
    /* CPL 1 <= IOPL 2 */
    c->cpl = 1;
    f = popf_with(2 | (2u << 12), F_IF, 4);
    assert_int_equal(f, 2 | F_IF | (2u << 12));
    /* 16-bit POPF leaves bits 16 and up */
    c->cpl = 0;
    f = popf_with(2 | F_AC | F_ID, F_CF, 2);
    assert_int_equal(f, 2 | F_AC | F_ID | F_CF);
    /* real mode: IOPL and NT writable */
    mode_real();
    f = popf_with(2, F_IOPL | F_NT | F_IF, 2);
    assert_int_equal(f, 2 | F_IOPL | F_NT | F_IF);
}

static void test_popf_v86(void **state)
{
    mode32(false);
    c->cpl = 3;
    cpu_set_rflags(c, 2 | F_VM);
    cpu_update_mode(c);
    assert_int_equal(c->mode, MODE_V86);
    fx_map_page(m, c, 0x8000, 0x8000);
    /* IOPL < 3 without VME: #GP, nothing popped */
    c->gpr[R_RSP] = 0x8000;
    dinsn_t d = mk(2, 1);
    assert_int_equal(exec(op_popf, &d), EXC_GP);
    assert_int_equal(c->gpr[R_RSP], 0x8000);
    assert_int_equal(exec(op_pushf, &d), EXC_GP);
    /* with VME, 16-bit: IF goes to VIF, IOPL and IF stay */
    c->cr4 |= CR4_VME;
    wr(0x8000, 2, F_IF | F_CF | F_IOPL);
    assert_int_equal(exec(op_popf, &d), -1);
    uint64_t f = cpu_get_rflags(c);
    assert_int_equal(f, 2 | F_VM | F_VIF | F_CF);
    /* PUSHF under VME shows VIF as IF and IOPL as 3 */
    assert_int_equal(exec(op_pushf, &d), -1);
    assert_int_equal(rd(0x8000, 2), 2 | F_IF | F_CF | F_IOPL);
    /* setting IF while VIP is set traps */
    cpu_set_rflags(c, 2 | F_VM | F_VIP);
    wr(0x8000, 2, F_IF);
    assert_int_equal(exec(op_popf, &d), EXC_GP);
    assert_int_equal(c->gpr[R_RSP], 0x8000);
    /* the 32-bit form traps even with VME */
    d = mk(4, 2);
    cpu_set_rflags(c, 2 | F_VM);
    assert_int_equal(exec(op_popf, &d), EXC_GP);
    /* IOPL 3: POPFD changes IF but not IOPL, VIF, VIP */
    cpu_set_rflags(c, 2 | F_VM | F_IOPL);
    wr(0x8000, 4, F_IF | F_VIF);
    assert_int_equal(exec(op_popf, &d), -1);
    assert_int_equal(cpu_get_rflags(c), 2 | F_VM | F_IOPL | F_IF);
    c->cr4 = 0;
}

/* ---------------- decoded end to end ----------------
 * Real encodings through x86_decode() and the handlers.def binding. */

static void test_decoded_branches_64(void **state)
{
    mode64();
    /* 66 74 10: je, 66 ignored in 64-bit mode */
    static const uint8_t je16[] = { 0x66, 0x74, 0x10 };
    dinsn_t d = fx_decode(je16, sizeof je16, X86_M64);
    cpu_set_rflags(c, 2 | F_ZF);
    assert_int_equal(exec_at(d.fn, &d, 0x123450000ull), -1);
    assert_int_equal(c->rip, 0x123450013ull);
    /* E8 rel32: call; 66 C3: ret pops 8 bytes all the same */
    static const uint8_t call[] = { 0xe8, 0x00, 0x01, 0x00, 0x00 };
    static const uint8_t ret16[] = { 0x66, 0xc3 };
    c->gpr[R_RSP] = 0x8000;
    d = fx_decode(call, sizeof call, X86_M64);
    assert_int_equal(exec(d.fn, &d), -1);
    assert_int_equal(c->rip, RIP0 + 5 + 0x100);
    d = fx_decode(ret16, sizeof ret16, X86_M64);
    assert_int_equal(exec_at(d.fn, &d, RIP0 + 0x105), -1);
    assert_int_equal(c->rip, RIP0 + 5);
    assert_int_equal(c->gpr[R_RSP], 0x8000);
    /* 67 E2 FE: loop with ECX */
    static const uint8_t loop32[] = { 0x67, 0xe2, 0xfd };
    d = fx_decode(loop32, sizeof loop32, X86_M64);
    c->gpr[R_RCX] = 0x100000002ull;
    assert_int_equal(exec(d.fn, &d), -1);
    assert_int_equal(c->gpr[R_RCX], 1);
    assert_int_equal(c->rip, RIP0);
}

static void test_decoded_stack_64(void **state)
{
    mode64();
    c->gpr[R_RSP] = 0x8000;
    /* 0F A0: push fs, an 8-byte slot holding the selector */
    static const uint8_t pushfs[] = { 0x0f, 0xa0 };
    c->seg[S_FS].sel = 0x2b;
    wr(0x7ff8, 8, ~0ull);
    dinsn_t d = fx_decode(pushfs, sizeof pushfs, X86_M64);
    assert_int_equal(exec(d.fn, &d), -1);
    assert_int_equal(c->gpr[R_RSP], 0x7ff8);
    assert_int_equal(rd(0x7ff8, 8), 0xffffffffffff002bull);
    /* 8F 44 24 08: pop qword [rsp+8], addressed with the incremented RSP */
    static const uint8_t popm[] = { 0x8f, 0x44, 0x24, 0x08 };
    wr(0x7ff8, 8, 0x1234);
    d = fx_decode(popm, sizeof popm, X86_M64);
    assert_int_equal(exec(d.fn, &d), -1);
    assert_int_equal(c->gpr[R_RSP], 0x8000);
    assert_int_equal(rd(0x8008, 8), 0x1234);
    /* 66 6A FF: push word -1 */
    static const uint8_t push16[] = { 0x66, 0x6a, 0xff };
    d = fx_decode(push16, sizeof push16, X86_M64);
    assert_int_equal(exec(d.fn, &d), -1);
    assert_int_equal(c->gpr[R_RSP], 0x7ffe);
    assert_int_equal(rd(0x7ffe, 2), 0xffff);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jmp_rel_64),
        cmocka_unit_test(test_jmp_rel_o16_wraps),
        cmocka_unit_test(test_jmp_beyond_cs_limit_faults),
        cmocka_unit_test(test_jmp_ev_noncanonical_faults),
        cmocka_unit_test(test_jmp_ev_memory_o16_in_64),
        cmocka_unit_test(test_jcc_all_conditions),
        cmocka_unit_test(test_jcc_o16_ignored_in_64),
        cmocka_unit_test(test_jcc_not_taken_never_faults),
        cmocka_unit_test(test_call_ret_64),
        cmocka_unit_test(test_ret_iw_releases_bytes),
        cmocka_unit_test(test_call_bad_target_pushes_nothing),
        cmocka_unit_test(test_ret_bad_target_keeps_rsp),
        cmocka_unit_test(test_call_ev_rsp_operand),
        cmocka_unit_test(test_call_real_mode_sp_wraps),
        cmocka_unit_test(test_loop_counts_by_address_size),
        cmocka_unit_test(test_loope_loopne),
        cmocka_unit_test(test_loop_bad_target_keeps_count),
        cmocka_unit_test(test_jrcxz),
        cmocka_unit_test(test_push_pop_sizes_64),
        cmocka_unit_test(test_push_pop_rsp),
        cmocka_unit_test(test_push_16bit_stack_wraps),
        cmocka_unit_test(test_push_beyond_ss_limit_faults),
        cmocka_unit_test(test_pop_ev_rsp_based),
        cmocka_unit_test(test_pop_ev_fault_keeps_rsp),
        cmocka_unit_test(test_push_sreg_writes_16_bits),
        cmocka_unit_test(test_pusha_popa),
        cmocka_unit_test(test_enter_leave),
        cmocka_unit_test(test_enter_fault_keeps_registers),
        cmocka_unit_test(test_pushf_clears_vm_rf),
        cmocka_unit_test(test_popf_privilege_rules),
        cmocka_unit_test(test_popf_v86),
        cmocka_unit_test(test_decoded_branches_64),
        cmocka_unit_test(test_decoded_stack_64),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
