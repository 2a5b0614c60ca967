/* test_alu.c - integer handlers in the cases test_flags.c's register-only host
 * comparison cannot reach: memory operands (read-modify-write, bit strings,
 * moffs, XLAT, MOVBE, CMPXCHG8B/16B), #DE and #GP, the high byte registers,
 * and the BCD instructions (invalid in 64-bit mode, so checked against the SDM's
 * worked examples and its Operation sections).
 */
#include "tests/unit/alu_test.h"

#define MEM(off) (tmem + (off))
#define LA(off) (TEST_LA + (off))

static uint64_t rd64(size_t off) { uint64_t v; memcpy(&v, MEM(off), 8); return v; }
static uint32_t rd32(size_t off) { uint32_t v; memcpy(&v, MEM(off), 4); return v; }
static void wr64(size_t off, uint64_t v) { memcpy(MEM(off), &v, 8); }
static void wr32(size_t off, uint32_t v) { memcpy(MEM(off), &v, 4); }

/* ADD [mem], reg and friends: the memory result equals the register form's. */
static void test_rmw_memory_forms(void **state)
{
    cpu_t *c = test_cpu();
    struct { insn_fn fn; int osize; } ops[] = {
        { op_add_EvGv, 8 }, { op_sub_EvGv, 4 }, { op_adc_EvGv, 2 }, { op_xor_EbGb, 1 },
        { op_shl_EvCL, 4 }, { op_rcr_EvCL, 8 }, { op_neg_Ev, 8 }, { op_inc_Eb, 1 },
        { op_bts_EvGv, 4 }, { op_xadd_EvGv, 8 }, { op_shld_EvGvCL, 2 },
    };
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        for (int it = 0; it < 200; it++) {
            uint64_t a = rnd(), b = rnd(), cl = rnd() & 0xff, fl = 2 | (rnd() & F_ARITH);
            int size = ops[k].osize;
            if (ops[k].fn == op_bts_EvGv) /* an offset within the operand: same bit both ways */
                b &= 8 * size - 1;
            /* register form: r/m = RDX */
            c->gpr[R_RDX] = a;
            c->gpr[R_RBX] = b;
            c->gpr[R_RCX] = cl;
            cpu_set_rflags(c, fl);
            x86_insn ir = insn_rr(size, R_RBX, R_RDX, 0);
            assert_int_equal(run_handler(c, ops[k].fn, &ir), -1);
            uint64_t want = c->gpr[R_RDX], want_b = c->gpr[R_RBX], want_fl = cpu_get_rflags(c);
            /* memory form: [RSI + 0x10] */
            wr64(0x10, a);
            c->gpr[R_RSI] = LA(0);
            c->gpr[R_RBX] = b;
            c->gpr[R_RCX] = cl;
            cpu_set_rflags(c, fl);
            x86_insn im = insn_mem(size, R_RBX, R_RSI, 0x10, 0);
            assert_int_equal(run_handler(c, ops[k].fn, &im), -1);
            uint64_t m = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
            assert_int_equal(rd64(0x10) & m, want & m);
            assert_int_equal(rd64(0x10) & ~m, a & ~m); /* bytes past the operand untouched */
            assert_int_equal(c->gpr[R_RBX], want_b);
            assert_int_equal(cpu_get_rflags(c), want_fl);
        }
    }
}

/* CMP and TEST with a memory operand read it and do not write it. */
static void test_cmp_memory_no_write(void **state)
{
    cpu_t *c = test_cpu();
    wr64(0x20, 0x1234);
    c->gpr[R_RSI] = LA(0x20);
    c->gpr[R_RAX] = 0x1234;
    x86_insn i = insn_mem(8, R_RAX, R_RSI, 0, 0);
    assert_int_equal(run_handler(c, op_cmp_EvGv, &i), -1);
    assert_true(flag_zf(c));
    assert_int_equal(rd64(0x20), 0x1234);
    i.imm = 0x1000;
    assert_int_equal(run_handler(c, op_test_EvI, &i), -1);
    assert_false(flag_zf(c));
}

/* Bit strings (SDM Vol. 1 "Bit Field and Bit String Addressing", Vol. 2 "BT"): a
 * register offset reaches any bit around the operand, negative offsets included;
 * an immediate offset is taken modulo the operand size. */
static void test_bit_string_offsets(void **state)
{
    cpu_t *c = test_cpu();
    const size_t base = 0x1000;
    c->gpr[R_RSI] = LA(base);
    struct { int osize; int64_t off; size_t byte; int bit; } t[] = {
        { 4, -1, base - 1, 7 },      /* dword at base-4, bit 31 */
        { 4, 100, base + 12, 4 },    /* dword at base+12, bit 4 */
        { 2, 0x7fff, base + 0xfff, 7 },
        { 2, -0x8000, base - 0x1000, 0 },
        { 8, -65, base - 9, 7 },     /* qword at base-16, bit 63 */
        { 8, 1000, base + 125, 0 },
    };
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
        memset(tmem, 0, TEST_PAGES * 4096);
        c->gpr[R_RAX] = (uint64_t)t[k].off;
        x86_insn i = insn_mem(t[k].osize, R_RAX, R_RSI, 0, 0);
        flag_set_cf(c, 1);
        assert_int_equal(run_handler(c, op_bts_EvGv, &i), -1);
        assert_false(flag_cf(c));
        assert_int_equal(*MEM(t[k].byte), 1u << t[k].bit);
        assert_int_equal(run_handler(c, op_bt_EvGv, &i), -1);
        assert_true(flag_cf(c));
        assert_int_equal(run_handler(c, op_btc_EvGv, &i), -1);
        assert_true(flag_cf(c));
        assert_int_equal(*MEM(t[k].byte), 0);
    }
    /* immediate: 33 on a dword is bit 1 of the dword itself */
    memset(tmem, 0, TEST_PAGES * 4096);
    x86_insn i = insn_mem(4, 0, R_RSI, 0, 33);
    assert_int_equal(run_handler(c, op_bts_EvIb, &i), -1);
    assert_int_equal(rd32(base), 2);
    assert_int_equal(run_handler(c, op_btr_EvIb, &i), -1);
    assert_true(flag_cf(c));
    assert_int_equal(rd32(base), 0);
    /* register destination: the offset wraps modulo the size */
    c->gpr[R_RDX] = 0;
    c->gpr[R_RAX] = 64 + 5;
    x86_insn r = insn_rr(8, R_RAX, R_RDX, 0);
    assert_int_equal(run_handler(c, op_bts_EvGv, &r), -1);
    assert_int_equal(c->gpr[R_RDX], 1u << 5);
}

/* #DE: zero divisors and quotients that do not fit; nothing changes. */
static void test_divide_errors(void **state)
{
    cpu_t *c = test_cpu();
    struct { insn_fn fn; int osize; uint64_t rax, rdx, src; } t[] = {
        { op_div_Eb, 1, 0x1234, 0, 0 },
        { op_div_Eb, 1, 0x1000, 0, 0x10 },                 /* 0x100 does not fit AL */
        { op_idiv_Eb, 1, 0xff80, 0, 0xff },                /* -128 / -1 = 128 */
        { op_div_Ev, 2, 0, 0x10, 0x10 },
        { op_idiv_Ev, 4, 0x80000000, 0xffffffff, ~0ull },  /* INT32_MIN / -1 */
        { op_idiv_Ev, 8, 0, 0x8000000000000000ull, ~0ull },/* -2^127 / -1 */
        { op_idiv_Ev, 8, 0x8000000000000000ull, ~0ull, ~0ull }, /* INT64_MIN / -1 */
        { op_div_Ev, 8, 5, 7, 7 },
        { op_div_Ev, 8, 5, 7, 0 },
    };
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
        c->gpr[R_RAX] = t[k].rax;
        c->gpr[R_RDX] = t[k].rdx;
        c->gpr[R_RBX] = t[k].src;
        x86_insn i = insn_rr(t[k].osize, 0, R_RBX, 0);
        assert_int_equal(run_handler(c, t[k].fn, &i), EXC_DE);
        assert_int_equal(c->gpr[R_RAX], t[k].rax);
        assert_int_equal(c->gpr[R_RDX], t[k].rdx);
    }
    /* the largest quotients that fit */
    c->gpr[R_RAX] = 0x8000000000000000ull;
    c->gpr[R_RDX] = ~0ull;
    c->gpr[R_RBX] = 1;
    x86_insn i = insn_rr(8, 0, R_RBX, 0);
    assert_int_equal(run_handler(c, op_idiv_Ev, &i), -1);
    assert_int_equal(c->gpr[R_RAX], 0x8000000000000000ull);
    assert_int_equal(c->gpr[R_RDX], 0);
    c->gpr[R_RAX] = 0xff81; /* -127 / -1 = 127 fits */
    c->gpr[R_RBX] = 0xff;
    i = insn_rr(1, 0, R_RBX, 0);
    assert_int_equal(run_handler(c, op_idiv_Eb, &i), -1);
    assert_int_equal(c->gpr[R_RAX] & 0xffff, 0x007f);
    /* AAM 0 */
    x86_insn aam = insn_rr(4, 0, 0, 0);
    assert_int_equal(run_handler(c, op_aam_Ib, &aam), EXC_DE);
}

/* BOUND: signed bounds, inclusive; #BR outside (a fault: nothing changes). */
static void test_bound(void **state)
{
    cpu_t *c = test_cpu();
    wr32(0x60, (uint32_t)-5);
    wr32(0x64, 10);
    c->gpr[R_RSI] = LA(0x60);
    x86_insn i = insn_mem(4, R_RAX, R_RSI, 0, 0);
    const struct { int64_t idx; int vec; } t[] = { { -5, -1 }, { 10, -1 }, { 0, -1 },
                                                   { -6, EXC_BR }, { 11, EXC_BR } };
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
        c->gpr[R_RAX] = (uint64_t)t[k].idx;
        assert_int_equal(run_handler(c, op_bound_GvMa, &i), t[k].vec);
    }
    /* 16-bit: the bounds are the words at 0x60 and 0x62: -5 and -1 */
    i.osize = 2;
    c->gpr[R_RAX] = 0x10000; /* AX = 0 > -1 */
    assert_int_equal(run_handler(c, op_bound_GvMa, &i), EXC_BR);
    c->gpr[R_RAX] = 0xfffe;
    assert_int_equal(run_handler(c, op_bound_GvMa, &i), -1);
}

/* Byte registers 4-7 are AH CH DH BH without REX, SPL BPL SIL DIL with it. */
static void test_high_byte_registers(void **state)
{
    cpu_t *c = test_cpu();
    c->gpr[R_RAX] = 0x1122;
    c->gpr[R_RSP] = 0x3344;
    c->gpr[R_RBX] = 0x01;
    x86_insn i = insn_rr(1, R_RBX, 4, 0);
    assert_int_equal(run_handler(c, op_add_EbGb, &i), -1);
    assert_int_equal(c->gpr[R_RAX], 0x1222); /* AH += 1 */
    assert_int_equal(c->gpr[R_RSP], 0x3344);
    i.pfx = X86_PFX_REX;
    assert_int_equal(run_handler(c, op_add_EbGb, &i), -1);
    assert_int_equal(c->gpr[R_RSP], 0x3345); /* SPL += 1 */
    /* MOV DH, imm (B6 without REX) */
    x86_insn m = insn_rr(1, 6, 0, 0xab);
    c->gpr[R_RDX] = 0;
    assert_int_equal(run_handler(c, op_mov_ZbIb, &m), -1);
    assert_int_equal(c->gpr[R_RDX], 0xab00);
}

/* The SDM's examples in "DAA" and "DAS" (Vol. 2), via ADD/SUB AL, BL. The DAA page
 * has a second example (AL = 2EH) whose CF = 1 contradicts its own Operation
 * section; the Operation section is followed (CF = 0). */
static void bcd_run(insn_fn arith, uint8_t al, uint8_t bl, uint8_t want_al1, uint64_t want_fl1,
                    insn_fn adj, uint8_t want_al2, uint64_t want_fl2, uint64_t mask2)
{
    cpu_t *c = tcpu;
    c->gpr[R_RAX] = al;
    c->gpr[R_RBX] = bl;
    cpu_set_rflags(c, 2);
    x86_insn i = insn_rr(1, R_RBX, R_RAX, 0);
    assert_int_equal(run_handler(c, arith, &i), -1);
    assert_int_equal(c->gpr[R_RAX], want_al1);
    assert_int_equal(cpu_get_arith(c), want_fl1);
    x86_insn z = insn_rr(4, 0, 0, 0);
    assert_int_equal(run_handler(c, adj, &z), -1);
    assert_int_equal(c->gpr[R_RAX], want_al2);
    assert_int_equal(cpu_get_arith(c) & mask2, want_fl2);
}
static void test_bcd_sdm_examples(void **state)
{
    test_cpu();
    const uint64_t not_of = F_ARITH & ~(uint64_t)F_OF;
    /* ADD AL,BL 79H+35H = AEH, OSZAPC 110000; DAA -> 14H, SZAPC 00111 */
    bcd_run(op_add_EbGb, 0x79, 0x35, 0xae, F_OF | F_SF, op_daa, 0x14, F_AF | F_PF | F_CF, not_of);
    /* SUB AL,BL 35H-47H = EEH, OSZAPC 010111; DAS -> 88H, SZAPC 10111 */
    bcd_run(op_sub_EbGb, 0x35, 0x47, 0xee, F_SF | F_AF | F_PF | F_CF, op_das, 0x88,
            F_SF | F_AF | F_PF | F_CF, not_of);
    /* DAA on 2EH with AF = CF = 0: 34H, AF = 1, CF = 0 (Operation section) */
    cpu_t *c = tcpu;
    c->gpr[R_RAX] = 0x2e;
    cpu_set_rflags(c, 2);
    x86_insn z = insn_rr(4, 0, 0, 0);
    run_handler(c, op_daa, &z);
    assert_int_equal(c->gpr[R_RAX], 0x34);
    assert_int_equal(cpu_get_arith(c) & not_of, F_AF);
}

/* AAA AAS AAM AAD SALC, from their Operation sections. */
static void test_ascii_adjust(void **state)
{
    cpu_t *c = test_cpu();
    x86_insn z = insn_rr(4, 0, 0, 10);
    /* 5 + 6 = 0BH: AAA -> AX = 0101H, AF = CF = 1 */
    c->gpr[R_RAX] = 0x000b;
    cpu_set_rflags(c, 2);
    run_handler(c, op_aaa, &z);
    assert_int_equal(c->gpr[R_RAX], 0x0101);
    assert_true(flag_cf(c) && flag_af(c));
    /* AX + 106H carries into AH: AL = FAH -> AX = 0200H | (0100H & FF0FH) */
    c->gpr[R_RAX] = 0x00fa;
    run_handler(c, op_aaa, &z);
    assert_int_equal(c->gpr[R_RAX], 0x0200);
    /* no adjustment: high nibble cleared, AF = CF = 0 */
    c->gpr[R_RAX] = 0x0135;
    cpu_set_rflags(c, 2 | F_CF);
    run_handler(c, op_aaa, &z);
    assert_int_equal(c->gpr[R_RAX], 0x0105);
    assert_false(flag_cf(c) || flag_af(c));
    /* 3 - 4 = FFH with AF: AAS -> AX = (0200H - 6 - 100H) & FF0FH = 0109H */
    c->gpr[R_RAX] = 0x02ff;
    cpu_set_rflags(c, 2 | F_AF);
    run_handler(c, op_aas, &z);
    assert_int_equal(c->gpr[R_RAX], 0x0109);
    assert_true(flag_cf(c) && flag_af(c));
    /* AAM 10: 63 -> AH = 6, AL = 3; AAD 10 back to 63 */
    c->gpr[R_RAX] = 63;
    run_handler(c, op_aam_Ib, &z);
    assert_int_equal(c->gpr[R_RAX], 0x0603);
    run_handler(c, op_aad_Ib, &z);
    assert_int_equal(c->gpr[R_RAX], 63);
    assert_false(flag_zf(c));
    /* AAD with base 16 (D5 10): AH*16 + AL */
    z.imm = 16;
    c->gpr[R_RAX] = 0x0304;
    run_handler(c, op_aad_Ib, &z);
    assert_int_equal(c->gpr[R_RAX], 0x34);
    /* SALC */
    c->gpr[R_RAX] = 0x1234;
    flag_set_cf(c, 1);
    run_handler(c, op_salc, &z);
    assert_int_equal(c->gpr[R_RAX], 0x12ff);
    flag_set_cf(c, 0);
    run_handler(c, op_salc, &z);
    assert_int_equal(c->gpr[R_RAX], 0x1200);
}

static void test_cmpxchg8b_16b(void **state)
{
    cpu_t *c = test_cpu();
    c->gpr[R_RSI] = LA(0x40);
    x86_insn i8 = insn_mem(4, 0, R_RSI, 0, 0);
    /* 8B equal: ECX:EBX stored, ZF = 1 */
    wr64(0x40, 0x1111111122222222ull);
    c->gpr[R_RDX] = 0xdead000011111111ull;
    c->gpr[R_RAX] = 0xdead000022222222ull;
    c->gpr[R_RCX] = 0x33333333;
    c->gpr[R_RBX] = 0x44444444;
    cpu_set_rflags(c, 2 | F_CF);
    assert_int_equal(run_handler(c, op_cmpxchg8b_Mq, &i8), -1);
    assert_int_equal(rd64(0x40), 0x3333333344444444ull);
    assert_int_equal(cpu_get_arith(c), F_ZF | F_CF); /* only ZF changes */
    assert_int_equal(c->gpr[R_RAX], 0xdead000022222222ull);
    /* 8B not equal: EDX:EAX loaded (32-bit writes zero-extend), ZF = 0 */
    assert_int_equal(run_handler(c, op_cmpxchg8b_Mq, &i8), -1);
    assert_false(flag_zf(c));
    assert_int_equal(c->gpr[R_RDX], 0x33333333);
    assert_int_equal(c->gpr[R_RAX], 0x44444444);
    assert_int_equal(rd64(0x40), 0x3333333344444444ull);
    /* 16B */
    x86_insn i16 = insn_mem(8, 0, R_RSI, 0, 0);
    wr64(0x40, 1);
    wr64(0x48, 2);
    c->gpr[R_RAX] = 1;
    c->gpr[R_RDX] = 2;
    c->gpr[R_RBX] = 3;
    c->gpr[R_RCX] = 4;
    assert_int_equal(run_handler(c, op_cmpxchg8b_Mq, &i16), -1);
    assert_true(flag_zf(c));
    assert_int_equal(rd64(0x40), 3);
    assert_int_equal(rd64(0x48), 4);
    assert_int_equal(run_handler(c, op_cmpxchg8b_Mq, &i16), -1);
    assert_false(flag_zf(c));
    assert_int_equal(c->gpr[R_RAX], 3);
    assert_int_equal(c->gpr[R_RDX], 4);
    /* 16B misaligned: #GP(0), memory and registers untouched */
    c->gpr[R_RSI] = LA(0x48);
    assert_int_equal(run_handler(c, op_cmpxchg8b_Mq, &i16), EXC_GP);
    assert_int_equal(c->ev_err, 0);
    assert_int_equal(rd64(0x48), 4);
}

static void test_moves_with_memory(void **state)
{
    cpu_t *c = test_cpu();
    /* moffs: MOV EAX, [disp] and MOV [disp], AL */
    wr32(0x80, 0xcafef00d);
    x86_insn mo = insn_rr(4, 0, 0, 0);
    mo.mod = 0;
    mo.disp = (int64_t)LA(0x80);
    c->gpr[R_RAX] = ~0ull;
    assert_int_equal(run_handler(c, op_mov_rAXOv, &mo), -1);
    assert_int_equal(c->gpr[R_RAX], 0xcafef00d);
    mo.disp = (int64_t)LA(0x90);
    assert_int_equal(run_handler(c, op_mov_ObAL, &mo), -1);
    assert_int_equal(*MEM(0x90), 0x0d);
    /* XLAT: AL = [RBX + AL] */
    *MEM(0x1ff) = 0x5a;
    c->gpr[R_RBX] = LA(0x100);
    c->gpr[R_RAX] = 0x77ff;
    assert_int_equal(run_handler(c, op_xlat, &mo), -1);
    assert_int_equal(c->gpr[R_RAX], 0x775a);
    /* MOVBE load and store */
    wr32(0xa0, 0x11223344);
    c->gpr[R_RSI] = LA(0xa0);
    x86_insn mb = insn_mem(4, R_RCX, R_RSI, 0, 0);
    c->gpr[R_RCX] = ~0ull;
    assert_int_equal(run_handler(c, op_movbe_GvMv, &mb), -1);
    assert_int_equal(c->gpr[R_RCX], 0x44332211);
    mb.osize = 2;
    assert_int_equal(run_handler(c, op_movbe_MvGv, &mb), -1);
    assert_int_equal(rd32(0xa0), 0x11221122);
    /* XCHG with memory */
    wr64(0xb0, 7);
    c->gpr[R_RDX] = 9;
    x86_insn xc = insn_mem(8, R_RDX, R_RSI, 0x10, 0);
    assert_int_equal(run_handler(c, op_xchg_EvGv, &xc), -1);
    assert_int_equal(rd64(0xb0), 9);
    assert_int_equal(c->gpr[R_RDX], 7);
    /* CMPXCHG with memory, not equal: memory keeps its value, RAX loaded */
    c->gpr[R_RAX] = 1;
    assert_int_equal(run_handler(c, op_cmpxchg_EvGv, &xc), -1);
    assert_int_equal(c->gpr[R_RAX], 9);
    assert_int_equal(rd64(0xb0), 9);
    assert_false(flag_zf(c));
    /* SETcc to memory, CMOVcc from memory */
    cpu_set_rflags(c, 2 | F_ZF);
    x86_insn st = insn_mem(1, 0, R_RSI, 0x20, 0);
    assert_int_equal(run_handler(c, op_set4, &st), -1);
    assert_int_equal(*MEM(0xc0), 1);
    x86_insn cm = insn_mem(4, R_RDI, R_RSI, 0x10, 0);
    c->gpr[R_RDI] = ~0ull;
    assert_int_equal(run_handler(c, op_cmov5, &cm), -1); /* NE is false: zero-extend only */
    assert_int_equal(c->gpr[R_RDI], 0xffffffffull);
    assert_int_equal(run_handler(c, op_cmov4, &cm), -1);
    assert_int_equal(c->gpr[R_RDI], 9);
}

/* LEA: effective address wrapped to the address size, truncated to the operand size. */
static void test_lea(void **state)
{
    cpu_t *c = test_cpu();
    x86_insn i = insn_mem(8, R_RAX, R_RBX, -8, 0);
    i.index = R_RCX;
    i.scale = 3;
    c->gpr[R_RBX] = 0x1000;
    c->gpr[R_RCX] = 2;
    assert_int_equal(run_handler(c, op_lea_GvM, &i), -1);
    assert_int_equal(c->gpr[R_RAX], 0x1008);
    i.asize = 4; /* 32-bit addressing wraps */
    c->gpr[R_RBX] = 0xfffffffcull;
    c->gpr[R_RCX] = 2;
    assert_int_equal(run_handler(c, op_lea_GvM, &i), -1);
    assert_int_equal(c->gpr[R_RAX], 4);
    i.osize = 2;
    i.asize = 8;
    c->gpr[R_RAX] = 0xffffffffffffffffull;
    c->gpr[R_RBX] = 0x123456789ull;
    c->gpr[R_RCX] = 0;
    assert_int_equal(run_handler(c, op_lea_GvM, &i), -1);
    assert_int_equal(c->gpr[R_RAX], 0xffffffffffff6781ull);
}

/* MOV r64, imm64; MOVSXD; NOP with a memory operand touches nothing. */
static void test_misc_moves(void **state)
{
    cpu_t *c = test_cpu();
    x86_insn i = insn_rr(8, R_R9, 0, 0x8877665544332211ull);
    assert_int_equal(run_handler(c, op_mov_ZvIv, &i), -1);
    assert_int_equal(c->gpr[R_R9], 0x8877665544332211ull);
    x86_insn sx = insn_rr(8, R_RAX, R_RBX, 0);
    c->gpr[R_RBX] = 0x80000000;
    assert_int_equal(run_handler(c, op_movsxd_GvEd, &sx), -1);
    assert_int_equal(c->gpr[R_RAX], 0xffffffff80000000ull);
    x86_insn nop = insn_mem(4, 0, R_RSI, 0, 0);
    c->gpr[R_RSI] = 0xdead0000000ull; /* unmapped: an access would leave the fast path */
    assert_int_equal(run_handler(c, op_nop, &nop), -1);
}

/* Instructions the CPU model does not advertise: #UD, or the older meaning of
 * the encoding (F3 0F BC/BD without BMI1/LZCNT are BSF/BSR). */
static void test_feature_gating(void **state)
{
    cpu_t *c = test_cpu();
    c->model = cpu_model_find("core2");
    assert_non_null(c->model);
    x86_insn r = insn_rr(4, R_RAX, R_RBX, 0);
    c->gpr[R_RBX] = 0x00f0;
    assert_int_equal(run_handler(c, op_popcnt_GvEv, &r), EXC_UD);
    assert_int_equal(run_handler(c, op_crc32_GdEv, &r), EXC_UD);
    assert_int_equal(run_handler(c, op_adcx_GyEy, &r), EXC_UD);
    assert_int_equal(run_handler(c, op_lzcnt_GvEv, &r), -1);
    assert_int_equal(c->gpr[R_RAX], 7); /* BSR */
    assert_int_equal(run_handler(c, op_tzcnt_GvEv, &r), -1);
    assert_int_equal(c->gpr[R_RAX], 4); /* BSF */
    x86_insn m = insn_mem(4, R_RAX, R_RSI, 0, 0);
    c->gpr[R_RSI] = LA(0);
    assert_int_equal(run_handler(c, op_movbe_GvMv, &m), EXC_UD);
    c->model = cpu_model_default();
    assert_int_equal(run_handler(c, op_lzcnt_GvEv, &r), -1);
    assert_int_equal(c->gpr[R_RAX], 24); /* LZCNT */
    assert_int_equal(run_handler(c, op_popcnt_GvEv, &r), -1);
    assert_int_equal(c->gpr[R_RAX], 4);
}

/* Bytes through the real decoder and the handler table (emu/handlers.def), so
 * the bindings and the decoder's field conventions are what the handlers expect. */
extern const insn_fn insn_handlers[XI_COUNT];
static void test_decoded_bytes(void **state)
{
    static const struct {
        const char *what;
        uint8_t len, bytes[15];
        uint64_t rax, rbx, rcx, rdx;          /* before */
        int reg;                              /* register to check */
        uint64_t want;
    } t[] = {
        { "add rax, -1 (83 /0 ibs)", 4, { 0x48, 0x83, 0xc0, 0xff }, 1, 0, 0, 0, R_RAX, 0 },
        { "add ax, -1 (66 83 /0)", 4, { 0x66, 0x83, 0xc0, 0xff }, 0x10001, 0, 0, 0, R_RAX, 0x10000 },
        { "sub al, 1 (2C)", 2, { 0x2c, 0x01 }, 0x100, 0, 0, 0, R_RAX, 0x1ff },
        { "imul eax, ebx (0F AF)", 3, { 0x0f, 0xaf, 0xc3 }, ~0ull, 3, 0, 0, R_RAX, 0xfffffffd },
        { "imul ecx, ebx, -128 (6B)", 3, { 0x6b, 0xcb, 0x80 }, 0, 2, 0, 0, R_RCX, 0xffffff00 },
        { "mov r9b, 12h (41 B1)", 3, { 0x41, 0xb1, 0x12 }, 0, 0, 0, 0, R_R9, 0x12 },
        { "mov dh, 12h (B6)", 2, { 0xb6, 0x12 }, 0, 0, 0, 0x3456, R_RDX, 0x1256 },
        { "mov r10, imm64", 10, { 0x49, 0xba, 1, 2, 3, 4, 5, 6, 7, 8 }, 0, 0, 0, 0, R_R10,
          0x0807060504030201ull },
        { "nop (90) leaves rax", 1, { 0x90 }, ~0ull, 0, 0, 0, R_RAX, ~0ull },
        { "xchg eax, eax (87 C0) zero-extends", 2, { 0x87, 0xc0 }, ~0ull, 0, 0, 0, R_RAX, 0xffffffff },
        { "xchg ebx, eax (93)", 1, { 0x93 }, 1, 2, 0, 0, R_RBX, 1 },
        { "bswap ebx", 2, { 0x0f, 0xcb }, 0, 0x11223344, 0, 0, R_RBX, 0x44332211 },
        { "test eax, 1 (F7 /1 alias)", 6, { 0xf7, 0xc8, 1, 0, 0, 0 }, 1, 0, 0, 0, R_RAX, 1 },
        { "cmovl eax, ebx (0F 4C)", 3, { 0x0f, 0x4c, 0xc3 }, 5, 7, 0, 0, R_RAX, 5 },
        { "shl eax, cl (D3 E0)", 2, { 0xd3, 0xe0 }, 1, 0, 33, 0, R_RAX, 2 },
        { "sar rax, 63 (48 C1 F8)", 4, { 0x48, 0xc1, 0xf8, 0x3f }, 1ull << 63, 0, 0, 0, R_RAX, ~0ull },
        { "bts rax, rbx (48 0F AB)", 4, { 0x48, 0x0f, 0xab, 0xd8 }, 0, 65, 0, 0, R_RAX, 2 },
        { "cqo (48 99)", 2, { 0x48, 0x99 }, 1ull << 63, 0, 0, 0, R_RDX, ~0ull },
        { "cdqe (48 98)", 2, { 0x48, 0x98 }, 0x80000000, 0, 0, 0, R_RAX, 0xffffffff80000000ull },
        { "movzx ecx, bh (0F B6 CF)", 3, { 0x0f, 0xb6, 0xcf }, 0, 0xab00, ~0ull, 0, R_RCX, 0xab },
        { "movsx rcx, bx (48 0F BF CB)", 4, { 0x48, 0x0f, 0xbf, 0xcb }, 0, 0x8000, 0, 0, R_RCX,
          0xffffffffffff8000ull },
        { "crc32 eax, bl (F2 0F 38 F0 C3)", 5, { 0xf2, 0x0f, 0x38, 0xf0, 0xc3 }, 0, 0x01, 0, 0, R_RAX,
          0xf26b8303 },
        { "adcx eax, ebx (66 0F 38 F6 C3)", 5, { 0x66, 0x0f, 0x38, 0xf6, 0xc3 }, ~0ull, 1, 0, 0,
          R_RAX, 0 },
        { "lea eax, [rbx+rcx*2+1] (8D 44 4B 01)", 4, { 0x8d, 0x44, 0x4b, 0x01 }, 0, 0x100000000ull, 3, 0,
          R_RAX, 7 },
        { "xadd ebx, eax (0F C1 C3)", 3, { 0x0f, 0xc1, 0xc3 }, 2, 5, 0, 0, R_RBX, 7 },
    };
    cpu_t *c = test_cpu();
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
        x86_insn i;
        int n = x86_decode(&i, t[k].bytes, t[k].len, X86_M64);
        if (n != t[k].len || !insn_handlers[i.id])
            fail_msg("%s: decode %d, handler %p", t[k].what, n, (void *)insn_handlers[i.id]);
        memset(c->gpr, 0, sizeof c->gpr);
        c->gpr[R_RAX] = t[k].rax;
        c->gpr[R_RBX] = t[k].rbx;
        c->gpr[R_RCX] = t[k].rcx;
        c->gpr[R_RDX] = t[k].rdx;
        cpu_set_rflags(c, 2);
        assert_int_equal(run_handler(c, insn_handlers[i.id], &i), -1);
        if (c->gpr[t[k].reg] != t[k].want)
            fail_msg("%s: got %#llx want %#llx", t[k].what, (unsigned long long)c->gpr[t[k].reg],
                     (unsigned long long)t[k].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rmw_memory_forms),
        cmocka_unit_test(test_cmp_memory_no_write),
        cmocka_unit_test(test_bit_string_offsets),
        cmocka_unit_test(test_divide_errors),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_high_byte_registers),
        cmocka_unit_test(test_bcd_sdm_examples),
        cmocka_unit_test(test_ascii_adjust),
        cmocka_unit_test(test_cmpxchg8b_16b),
        cmocka_unit_test(test_moves_with_memory),
        cmocka_unit_test(test_lea),
        cmocka_unit_test(test_misc_moves),
        cmocka_unit_test(test_feature_gating),
        cmocka_unit_test(test_decoded_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
