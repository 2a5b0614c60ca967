/* exec.h - what every instruction handler sees: the decoded instruction, the
 * handler signature, and inline helpers for registers, effective addresses and
 * r/m operands.
 *
 * Convention: when a handler runs, c->rip already points past the instruction
 * and c->insn_rip at its first byte. A handler that faults calls cpu_fault*()
 * (emu/fault.h) and the run loop restarts the instruction's delivery from
 * insn_rip. Handlers that change the fetch mode or write code set the matching
 * STOP_* bit so the run loop refetches.
 */
#ifndef VMXEMU_EXEC_H
#define VMXEMU_EXEC_H

#include <stdint.h>

#include "emu/cpu.h"
#include "emu/fault.h"
#include "emu/mmu.h"

struct dinsn;
typedef void (*insn_fn)(cpu_t *c, const struct dinsn *d);

/* A decoded instruction as the run loop caches it. */
typedef struct dinsn {
    insn_fn fn;
    x86_insn i;
    uint8_t lat; /* cycles charged for this instruction */
} dinsn_t;

/* Latency classes: emu/latency.def. */
enum lat_class {
#define L(name, cycles) LAT_##name,
#include "emu/latency.def"
#undef L
    LAT_COUNT
};
extern const uint8_t lat_cycles[LAT_COUNT];

/* Handler binding: emu/handlers.def rows H(id, fn, latclass), and HV(id,
 * prefix, latclass) for rows with size- and form-specialised handlers
 * prefix_r16 .. prefix_m64 (see HANDLER_VARIANTS). */
#define H(id, fn, lat) void fn(cpu_t *c, const dinsn_t *d);
#define HV(id, p, lat)                                                                   \
    void p(cpu_t *c, const dinsn_t *d);                                                  \
    void p##_r16(cpu_t *c, const dinsn_t *d); void p##_r32(cpu_t *c, const dinsn_t *d);  \
    void p##_r64(cpu_t *c, const dinsn_t *d); void p##_m16(cpu_t *c, const dinsn_t *d);  \
    void p##_m32(cpu_t *c, const dinsn_t *d); void p##_m64(cpu_t *c, const dinsn_t *d);
#include "emu/handlers.def"
#undef H
#undef HV

/* Define the six variants of an HV row: BODY(N, ...) runs with the operand size
 * N a constant and the ModRM form (register or memory) known to the compiler,
 * which then drops the size switch and the dead arm of rm_read()/rm_write().
 * dinsn_bind() picks the variant when the instruction is decoded; p itself
 * dispatches at run time, for callers that hold no decoded block (tests). */
#define HV_ONE_(p, sfx, N, MEM, BODY, ...)                                               \
    void p##_##sfx(cpu_t *c, const dinsn_t *d)                                           \
    {                                                                                    \
        if ((d->i.mod != 3) != (MEM))                                                    \
            __builtin_unreachable();                                                     \
        BODY(N, __VA_ARGS__);                                                            \
    }
#define HANDLER_VARIANTS(p, BODY, ...)                                                   \
    HV_ONE_(p, r16, 16, 0, BODY, __VA_ARGS__) HV_ONE_(p, r32, 32, 0, BODY, __VA_ARGS__)  \
    HV_ONE_(p, r64, 64, 0, BODY, __VA_ARGS__) HV_ONE_(p, m16, 16, 1, BODY, __VA_ARGS__)  \
    HV_ONE_(p, m32, 32, 1, BODY, __VA_ARGS__) HV_ONE_(p, m64, 64, 1, BODY, __VA_ARGS__)  \
    void p(cpu_t *c, const dinsn_t *d)                                                   \
    {                                                                                    \
        static const insn_fn v_[2][3] = { { p##_r16, p##_r32, p##_r64 },                 \
                                          { p##_m16, p##_m32, p##_m64 } };               \
        v_[d->i.mod != 3][d->i.osize >> 2](c, d);                                        \
    }
void op_ud(cpu_t *c, const dinsn_t *d); /* #UD, for ids with no handler */

/* ---- registers ---- */
/* A decoded block charges at most this many cycles of latency (emu/dcache.c):
 * the run loop checks blocks against its deadline only this close to it. */
#define DBLOCK_LAT_MAX 256

/* Charge n cycles beyond the instruction's latency (string iterations). Near
 * the deadline this ends the block, so the run loop checks the rest of it
 * against the deadline (emu/run.c). */
static inline void cpu_charge(cpu_t *c, uint64_t n)
{
    c->cycles += n;
    if (__builtin_expect(c->cycles + DBLOCK_LAT_MAX > c->deadline, 0))
        c->stop |= STOP_BRANCH;
}

static inline uint64_t size_mask(int size)
{
    return size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

/* Byte register n: without REX, 4..7 name AH, CH, DH, BH. */
static inline uint8_t reg8_get(cpu_t *c, const x86_insn *i, int n)
{
    if (n >= 4 && n < 8 && !(i->pfx & X86_PFX_REX))
        return (uint8_t)(c->gpr[n - 4] >> 8);
    return (uint8_t)c->gpr[n];
}
static inline void reg8_set(cpu_t *c, const x86_insn *i, int n, uint8_t v)
{
    if (n >= 4 && n < 8 && !(i->pfx & X86_PFX_REX))
        c->gpr[n - 4] = (c->gpr[n - 4] & ~0xff00ull) | ((uint64_t)v << 8);
    else
        c->gpr[n] = (c->gpr[n] & ~0xffull) | v;
}
/* General register read/write of size 1, 2, 4, 8. A 32-bit write zero-extends to
 * 64 bits; 8- and 16-bit writes merge. */
static inline uint64_t reg_get(cpu_t *c, const x86_insn *i, int n, int size)
{
    switch (size) {
    case 1: return reg8_get(c, i, n);
    case 2: return (uint16_t)c->gpr[n];
    case 4: return (uint32_t)c->gpr[n];
    default: return c->gpr[n];
    }
}
static inline void reg_set(cpu_t *c, const x86_insn *i, int n, int size, uint64_t v)
{
    switch (size) {
    case 1: reg8_set(c, i, n, (uint8_t)v); break;
    case 2: c->gpr[n] = (c->gpr[n] & ~0xffffull) | (uint16_t)v; break;
    case 4: c->gpr[n] = (uint32_t)v; break;
    default: c->gpr[n] = v; break;
    }
}

/* ---- addresses ---- */
/* Effective address (the offset within the segment), wrapped to the address
 * size. Branch-free: a missing base or index reads the zero slot of the
 * register file and a RIP-relative base reads RIP (emu/cpu.h). */
static inline uint64_t insn_ea(cpu_t *c, const x86_insn *i)
{
    uint64_t ea = (uint64_t)i->disp + c->gpr[i->base] + (c->gpr[i->index] << i->scale);
    if (unlikely(i->asize != 8))
        ea &= i->asize == 4 ? 0xffffffffull : 0xffffull;
    return ea;
}

/* Segment checks outside 64-bit mode, and non-canonical addresses in it:
 * returns the linear address or raises #GP/#SS (emu/seg.c). */
uint64_t seg_lin_slow(cpu_t *c, int seg, uint64_t off, int size, enum mmu_access acc);

/* Linear address of a size-byte access at offset off in segment seg. */
static inline uint64_t seg_lin(cpu_t *c, int seg, uint64_t off, int size, enum mmu_access acc)
{
    if (likely(c->mode == MODE_LONG64)) {
        uint64_t la = off + (seg >= S_FS ? c->seg[seg].base : 0);
        /* canonical iff bits 63:47 are all equal (4-level paging) */
        if (likely((uint64_t)(((int64_t)la >> 47) + 1) <= 1))
            return la;
    }
    return seg_lin_slow(c, seg, off, size, acc);
}

/* Linear address of the instruction's memory operand. */
static inline uint64_t insn_lin(cpu_t *c, const x86_insn *i, int size, enum mmu_access acc)
{
    return seg_lin(c, i->seg, insn_ea(c, i), size, acc);
}

/* ---- r/m operands ---- */
static inline uint64_t rm_read(cpu_t *c, const x86_insn *i, int size)
{
    if (i->mod == 3)
        return reg_get(c, i, i->rm, size);
    return lin_read(c, insn_lin(c, i, size, ACC_READ), size);
}
static inline void rm_write(cpu_t *c, const x86_insn *i, int size, uint64_t v)
{
    if (i->mod == 3)
        reg_set(c, i, i->rm, size, v);
    else
        lin_write(c, insn_lin(c, i, size, ACC_WRITE), size, v);
}

/* ---- stack ---- */
/* Stack-pointer width: 8 in 64-bit mode, else SS.B ? 4 : 2. */
static inline int stack_size(cpu_t *c)
{
    if (c->mode == MODE_LONG64)
        return 8;
    return (c->seg[S_SS].ar & AR_DB) ? 4 : 2;
}
void push(cpu_t *c, int size, uint64_t v);  /* emu/stack.c */
uint64_t pop(cpu_t *c, int size);

/* ---- port I/O ---- */
/* Whether CPL/IOPL and, when they do not suffice, the TSS I/O permission bit map
 * allow a size-byte access at port (emu/exec_io.c); #GP(0) is the caller's. */
bool io_allowed(cpu_t *c, uint16_t port, int size);

/* ---- MONITOR/MWAIT (emu/exec_misc.c) ---- */
/* #UD unless the CPU offers MONITOR/MWAIT (CPUID.1:ECX.MONITOR, IA32_MISC_ENABLE[18]) at CPL 0. */
void monitor_check_ud(cpu_t *c);
/* Whether the monitor is armed: MONITOR armed it and neither an MWAIT nor a
 * change of the monitored line has triggered it since. */
bool monitor_armed(cpu_t *c);

#endif
