/* alu_test.h - harness shared by test_flags.c and test_alu.c: a CPU in 64-bit
 * mode, hand-built decoded instructions, a register snapshot to run a handler
 * on, and RAM pages mapped straight into the software TLB so memory forms run
 * on the inline fast path without the MMU.
 */
#ifndef VMXEMU_ALU_TEST_H
#define VMXEMU_ALU_TEST_H

#include <stdlib.h>

#include "emu/tlb.h"
#include "tests/unit/fixture.h"

/* The registers a test case uses, plus RFLAGS. */
struct regs {
    uint64_t rax, rbx, rcx, rdx, flags;
};

static cpu_t *tcpu;

/* Pages of host memory mapped at linear TEST_LA .. TEST_LA + TEST_PAGES*4K. */
#define TEST_LA 0x100000ull
#define TEST_PAGES 4
static uint8_t *tmem;

static inline cpu_t *test_cpu(void)
{
    if (!tcpu) {
        tcpu = calloc(1, sizeof *tcpu);
        tmem = aligned_alloc(4096, TEST_PAGES * 4096);
        assert_non_null(tcpu);
        assert_non_null(tmem);
        assert_true(tlb_bank_new(tcpu));
        tlb_reset(tcpu);
    }
    cpu_t *c = tcpu;
    memset(c->gpr, 0, sizeof c->gpr);
    memset(c->tlb_sup, 0xff, TLB_SIZE * sizeof *c->tlb_sup); /* tags that match no address */
    c->tlb = c->tlb_sup;
    c->mode = MODE_LONG64;
    c->model = cpu_model_default();
    c->cpl = 0;
    for (int p = 0; p < TEST_PAGES; p++)
        fx_tlb_set(c->tlb, TEST_LA + p * 4096ull, tmem + p * 4096);
    memset(tmem, 0, TEST_PAGES * 4096);
    cpu_set_rflags(c, 0x2);
    return c;
}

/* A decoded instruction with register operands (mod == 3) unless set otherwise. */
static inline x86_insn insn_rr(int osize, int reg, int rm, uint64_t imm)
{
    x86_insn i = fx_insn(osize, 8, 0).i;
    i.reg = (uint8_t)reg;
    i.rm = (uint8_t)rm;
    i.imm = imm;
    return i;
}
/* Memory operand [base + disp] (64-bit addressing). */
static inline x86_insn insn_mem(int osize, int reg, int base, int64_t disp, uint64_t imm)
{
    x86_insn i = insn_rr(osize, reg, 0, imm);
    i.mod = 0;
    i.base = (uint8_t)base;
    i.disp = disp;
    return i;
}

/* Run one handler; returns the exception vector it raised, or -1. */
static inline int run_handler(cpu_t *c, insn_fn fn, const x86_insn *i)
{
    dinsn_t d;
    memset(&d, 0, sizeof d);
    d.fn = fn;
    d.i = *i;
    return fx_run(c, fn, &d);
}

/* Load the snapshot, run, store it back. */
static inline int run_regs(insn_fn fn, const x86_insn *i, struct regs *r)
{
    cpu_t *c = tcpu;
    c->gpr[R_RAX] = r->rax;
    c->gpr[R_RBX] = r->rbx;
    c->gpr[R_RCX] = r->rcx;
    c->gpr[R_RDX] = r->rdx;
    cpu_set_rflags(c, r->flags);
    int v = run_handler(c, fn, i);
    r->rax = c->gpr[R_RAX];
    r->rbx = c->gpr[R_RBX];
    r->rcx = c->gpr[R_RCX];
    r->rdx = c->gpr[R_RDX];
    r->flags = cpu_get_rflags(c);
    return v;
}

/* Deterministic xorshift64*. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static inline uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}
/* Operands biased towards the edges where flags change. */
static inline uint64_t rnd_operand(void)
{
    static const uint64_t edge[] = { 0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
                                     0x7fffffff, 0x80000000, 0xffffffff, 0x7fffffffffffffffull,
                                     0x8000000000000000ull, ~0ull, 0xf, 0x10, 0x99, 0x100 };
    uint64_t r = rnd();
    switch (r & 3) {
    case 0: return edge[(r >> 8) % (sizeof edge / sizeof edge[0])];
    case 1: return (r >> 8) & 0xff;
    default: return rnd();
    }
}

#endif
