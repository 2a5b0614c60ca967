/* fixture.h - the fixture shared by the unit tests that run instruction
 * handlers directly: software-TLB entries that map memory without a page walk,
 * flat-segment mode setters, running one handler while catching the fault's
 * longjmp, and decoding real encodings bound as the decoded-block cache binds
 * them. Header-only (static inline): every tests/unit/test_*.c is its own
 * binary, linked against the library alone.
 */
#ifndef VMXEMU_FIXTURE_H
#define VMXEMU_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "emu/cpumodel.h"
#include "emu/dcache.h"
#include "emu/exec.h"
#include "emu/flags.h"
#include "emu/machine.h"
#include "emu/tlb.h"

/* ---- software-TLB mappings ---- */

/* Point tlb's read and write tags for the page of la at host memory: accesses
 * to that page take the inline fast path. Returns the entry. */
static inline tlb_entry_t *fx_tlb_set(tlb_entry_t *tlb, uint64_t la, void *host)
{
    uint64_t page = la & ~0xfffull;
    tlb_entry_t *e = &tlb[(la >> 12) & (TLB_SIZE - 1)];
    e->tag_r = e->tag_w = page;
    e->addend = (uintptr_t)host - page;
    return e;
}

/* Map the linear page of la onto guest-physical pa of m, in both of c's TLBs
 * (CPL 0-2 and CPL 3). */
static inline void fx_map_page(machine_t *m, cpu_t *c, uint64_t la, uint64_t pa)
{
    uint64_t ppage = pa & ~0xfffull;
    /* entries made here, not by emu/mmu.c's fill, must be in the fill log too */
    tlb_note_fill(c, &c->tlb_sup[(la >> 12) & (TLB_SIZE - 1)]);
    tlb_note_fill(c, &c->tlb_user[(la >> 12) & (TLB_SIZE - 1)]);
    fx_tlb_set(c->tlb_sup, la, m->ram + ppage)->paddr = ppage;
    fx_tlb_set(c->tlb_user, la, m->ram + ppage)->paddr = ppage;
}

/* A machine with 16 MiB of RAM and one vCPU whose first 4 MiB of linear
 * addresses map 1:1 onto RAM through the TLB; NULL if it cannot be made. */
static inline machine_t *fx_machine_flat(void)
{
    machine_t *m = machine_new(16 << 20, cpu_model_default(), 1);
    if (m)
        for (uint64_t la = 0; la < (4u << 20); la += 4096)
            fx_map_page(m, m->cpu[0], la, la);
    return m;
}

/* A group set-up: *mp = fx_machine_flat(), *cp = its vCPU; -1 if it cannot be
 * made. */
static inline int fx_setup_flat(machine_t **mp, cpu_t **cp)
{
    *mp = fx_machine_flat();
    if (!*mp)
        return -1;
    *cp = (*mp)->cpu[0];
    return 0;
}

/* ---- modes with flat segments ---- */

#define FX_AR_CODE64 (AR_P | AR_S | AR_L | AR_G | 0xb)
#define FX_AR_CODE32 (AR_P | AR_S | AR_DB | AR_G | 0xb)
#define FX_AR_DATA32 (AR_P | AR_S | AR_DB | AR_G | 3)

/* ES..GS base 0 with the given limit and attributes, selector 0x10; then CS
 * (selector 8) with the same limit. */
static inline void fx_flat_segs(cpu_t *c, uint32_t cs_ar, uint32_t data_ar, uint32_t limit)
{
    for (int s = S_ES; s <= S_GS; s++)
        c->seg[s] = (seg_t){ .base = 0, .limit = limit, .ar = data_ar, .sel = 0x10 };
    c->seg[S_CS] = (seg_t){ .base = 0, .limit = limit, .ar = cs_ar, .sel = 8 };
}

/* CR0, CR4, EFER and flat segments at CPL 0 with RFLAGS = 2; the CPU then
 * recomputes its mode from them. */
static inline void fx_set_mode(cpu_t *c, uint64_t cr0, uint64_t cr4, uint64_t efer, uint32_t cs_ar,
                               uint32_t data_ar, uint32_t limit)
{
    c->cr0 = cr0;
    c->cr4 = cr4;
    c->efer = efer;
    fx_flat_segs(c, cs_ar, data_ar, limit);
    cpu_set_rflags(c, 2);
    c->cpl = 0;
    cpu_update_mode(c);
}

/* 64-bit mode (EFER.LME and LMA) with the given CR0 and CR4, flat 4 GiB data
 * segments. */
static inline void fx_mode64(cpu_t *c, uint64_t cr0, uint64_t cr4)
{
    fx_set_mode(c, cr0, cr4, EFER_LME | EFER_LMA, FX_AR_CODE64, FX_AR_DATA32, 0xffffffff);
}

/* ---- running handlers ---- */

/* A hand-built instruction: register operands (mod 3), no base or index
 * register, DS, the given operand and address sizes and length; all else 0. */
static inline dinsn_t fx_insn(int osize, int asize, int len)
{
    dinsn_t d;
    memset(&d, 0, sizeof d);
    d.i.mod = 3;
    d.i.base = d.i.index = X86_NOREG;
    d.i.seg = X86_DS;
    d.i.osize = (uint8_t)osize;
    d.i.asize = (uint8_t)asize;
    d.i.len = (uint8_t)len;
    return d;
}

/* Run fn; returns the vector of the fault it raised (caught from fault_jmp,
 * not delivered) or -1. */
static inline int fx_run(cpu_t *c, insn_fn fn, const dinsn_t *d)
{
    if (setjmp(c->fault_jmp))
        return c->ev_vec;
    fn(c, d);
    return -1;
}

/* Run fn as the instruction at rip, with RIP already past it as the run loop
 * leaves it; returns the fault's vector or -1. */
static inline int fx_exec_at(cpu_t *c, insn_fn fn, const dinsn_t *d, uint64_t rip)
{
    c->insn_rip = rip;
    c->rip = rip + d->i.len;
    return fx_run(c, fn, d);
}

/* ---- real encodings ---- */

/* The bytes given, as the two arguments (pointer, count) of a function. */
#define FX_BYTES(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

/* Decode n bytes in mode into *d and bind them with dinsn_bind() (handler,
 * size variant, latency), as the decoded-block cache does; returns
 * x86_decode()'s result, and binds only when it is a length. */
static inline int fx_bind(dinsn_t *d, const uint8_t *bytes, size_t n, enum x86_mode mode)
{
    x86_insn i;
    int len = x86_decode(&i, bytes, n, mode);
    if (len > 0)
        dinsn_bind(d, &i);
    return len;
}

/* An instruction of exactly n bytes, decoded and bound. */
static inline dinsn_t fx_decode(const uint8_t *bytes, size_t n, enum x86_mode mode)
{
    dinsn_t d;
    assert_int_equal(fx_bind(&d, bytes, n, mode), (int)n);
    return d;
}

/* Decode exactly n bytes in 64-bit mode, bind them and run them as the
 * instruction at rip; the form must have a handler of its own (not op_ud).
 * Returns the fault's vector or -1. */
static inline int fx_run_bytes(cpu_t *c, const uint8_t *bytes, size_t n, uint64_t rip)
{
    dinsn_t d = fx_decode(bytes, n, X86_M64);
    assert_ptr_not_equal(d.fn, op_ud);
    return fx_exec_at(c, d.fn, &d, rip);
}

/* Decode bytes in c's current mode and run them as the instruction at c->rip
 * (RIP advances past it); *d holds the binding. Returns the fault's vector or
 * -1; a decoding error fails the test. */
static inline int fx_exec_bytes(cpu_t *c, dinsn_t *d, const uint8_t *bytes, size_t n)
{
    assert_true(fx_bind(d, bytes, n, (enum x86_mode)c->dmode) > 0);
    return fx_exec_at(c, d->fn, d, c->rip);
}

#endif
