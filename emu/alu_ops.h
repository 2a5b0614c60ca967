/* alu_ops.h - helpers shared by the integer handler files (exec_alu.c,
 * exec_bit.c, exec_move.c): operand-size dispatch, typed r/m access and the
 * read-modify-write address of a memory destination. Private to those files.
 */
#ifndef VMXEMU_ALU_OPS_H
#define VMXEMU_ALU_OPS_H

#include "emu/cpumodel.h"
#include "emu/exec.h"
#include "emu/flags.h"

/* Run M(N, ...) with N = the operand size in bits (16, 32 or 64). */
#define BY_OSIZE(d, M, ...)                                                              \
    do {                                                                                 \
        switch ((d)->i.osize) {                                                          \
        case 2: M(16, __VA_ARGS__); break;                                               \
        case 4: M(32, __VA_ARGS__); break;                                               \
        default: M(64, __VA_ARGS__); break;                                              \
        }                                                                                \
    } while (0)

/* Linear address of a read-modify-write memory destination. The write
 * permission is checked before the read so that a fault on it reports a write
 * access (a locked read-modify-write is a write for paging and segment checks). */
static inline void rmw_probe(cpu_t *c, uint64_t la, int size)
{
    const tlb_entry_t *e = &c->tlb[(la >> 12) & (TLB_SIZE - 1)];
    if (unlikely(e->tag_w != ((la + size - 1) & ~0xfffull)))
        lin_probe_write(c, la, size);
}
static inline uint64_t rmw_lin(cpu_t *c, const x86_insn *i, int size)
{
    uint64_t la = insn_lin(c, i, size, ACC_WRITE);
    rmw_probe(c, la, size);
    return la;
}

/* #UD unless the CPU model advertises feature f (SDM Vol. 2: "#UD If CPUID.xx:yy.F[bit] = 0"). */
static inline void need_feature(cpu_t *c, enum cpu_feature f)
{
    if (unlikely(!cpu_has(c, f)))
        cpu_fault(c, EXC_UD);
}

/* Typed register and r/m access for an N-bit operand. */
#define REG_GET(N, c, i, n) ((uint##N##_t)reg_get((c), (i), (n), (N) / 8))
#define RM_GET(N, c, i) ((uint##N##_t)rm_read((c), (i), (N) / 8))

/* dst = r/m operand: r = OP##N(c, dst, src); stored back when WB.
 * Memory destinations take the read-modify-write path. */
#define RMW_RM(N, OP, WB, c, i, SRC)                                                     \
    do {                                                                                 \
        uint##N##_t src_ = (uint##N##_t)(SRC);                                           \
        if ((i)->mod == 3) {                                                             \
            uint##N##_t r_ = OP##N((c), REG_GET(N, c, i, (i)->rm), src_);                \
            if (WB)                                                                      \
                reg_set((c), (i), (i)->rm, (N) / 8, r_);                                 \
        } else if (WB) {                                                                 \
            uint64_t la_ = rmw_lin((c), (i), (N) / 8);                                   \
            lin_write##N((c), la_, OP##N((c), lin_read##N((c), la_), src_));             \
        } else {                                                                         \
            OP##N((c), lin_read##N((c), insn_lin((c), (i), (N) / 8, ACC_READ)), src_);   \
        }                                                                                \
    } while (0)

/* dst = register n: r = OP##N(c, dst, src); stored back when WB. */
#define RMW_REG(N, OP, WB, c, i, n, SRC)                                                 \
    do {                                                                                 \
        uint##N##_t src_ = (uint##N##_t)(SRC);                                           \
        uint##N##_t r_ = OP##N((c), REG_GET(N, c, i, (n)), src_);                        \
        if (WB)                                                                          \
            reg_set((c), (i), (n), (N) / 8, r_);                                         \
    } while (0)

/* dst = register n, src = the N-bit r/m operand (read at its own size, so the
 * access inlines to one TLB probe). */
#define RMW_REG_RM(N, OP, WB, c, i, n) RMW_REG(N, OP, WB, c, i, n, RM_GET(N, c, i))

#endif
