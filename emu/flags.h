/* flags.h - lazy arithmetic flags: how an ALU operation records CF/PF/AF/ZF/SF/OF
 * in two stores, and how anyone reads, writes or tests them.
 *
 * Scheme (after Bochs' "result + carry-out vector"):
 *   lf_res  the result, sign-extended from its operand size to 64 bits, so
 *           ZF = (lf_res == 0) and the sign is bit 63 whatever the size.
 *   lf_aux  bit 63  CF  carry (borrow) out of the operand's top bit
 *           bit 62  PO  CF ^ OF, i.e. the carry into the top bit for add/sub
 *           bit 16  SD  sign delta: SF = bit 63 of lf_res ^ SD
 *           bits 8-15 PDB parity delta: PF = even parity of (low byte of lf_res ^ PDB)
 *           bit 3   AF  carry out of bit 3
 *   The deltas are zero after an ALU operation; they exist so that flags can
 *   be set explicitly (POPF, SAHF, ...) in the same representation.
 * Every getter is a few shifts, no switch. c->rflags holds every other RFLAGS
 * bit; its arithmetic bits are kept 0 and must not be read directly: use
 * cpu_get_rflags() / cpu_set_rflags().
 *
 * NOTE: all-zero lf_res/lf_aux mean ZF=1 PF=1. Code that creates a CPU state
 * must call cpu_set_rflags() (e.g. cpu_set_rflags(c, 0x2) at reset).
 */
#ifndef VMXEMU_FLAGS_H
#define VMXEMU_FLAGS_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/cpu.h"

#define LF_CF_BIT 63
#define LF_PO_BIT 62
#define LF_SD_BIT 16
#define LF_PDB_BIT 8
#define LF_AF_BIT 3
#define LF_AF (1ull << LF_AF_BIT)

/* ---- getters: each returns 0 or 1 ---- */
static inline unsigned flag_cf(const cpu_t *c) { return (unsigned)(c->lf_aux >> LF_CF_BIT); }
static inline unsigned flag_of(const cpu_t *c)
{
    return (unsigned)(((c->lf_aux >> LF_CF_BIT) ^ (c->lf_aux >> LF_PO_BIT)) & 1);
}
static inline unsigned flag_af(const cpu_t *c) { return (unsigned)(c->lf_aux >> LF_AF_BIT) & 1; }
static inline unsigned flag_zf(const cpu_t *c) { return c->lf_res == 0; }
static inline unsigned flag_sf(const cpu_t *c)
{
    return (unsigned)(((c->lf_res >> 63) ^ (c->lf_aux >> LF_SD_BIT)) & 1);
}
static inline unsigned flag_pf(const cpu_t *c)
{
    return !__builtin_parity((unsigned)((c->lf_res ^ (c->lf_aux >> LF_PDB_BIT)) & 0xff));
}

/* The six arithmetic flags in their RFLAGS positions. */
static inline uint64_t cpu_get_arith(const cpu_t *c)
{
    return flag_cf(c) | flag_pf(c) << 2 | flag_af(c) << 4 | flag_zf(c) << 6 | flag_sf(c) << 7 |
           flag_of(c) << 11;
}

/* Set the six arithmetic flags from their RFLAGS positions in f (other bits ignored). */
static inline void cpu_set_arith(cpu_t *c, uint64_t f)
{
    uint64_t cf = f & 1, pf = (f >> 2) & 1, af = (f >> 4) & 1, zf = (f >> 6) & 1,
             sf = (f >> 7) & 1, of = (f >> 11) & 1;
    c->lf_res = (zf ^ 1) << 8;  /* 0 or 0x100: the sign bit and low byte are 0 */
    c->lf_aux = cf << LF_CF_BIT | (cf ^ of) << LF_PO_BIT | sf << LF_SD_BIT |
                (pf ^ 1) << LF_PDB_BIT | af << LF_AF_BIT;
}

/* Whole RFLAGS. cpu_set_rflags stores v as given: privilege filtering is the caller's. */
static inline uint64_t cpu_get_rflags(const cpu_t *c) { return c->rflags | cpu_get_arith(c); }
static inline void cpu_set_rflags(cpu_t *c, uint64_t v)
{
    c->rflags = v & ~(uint64_t)F_ARITH;
    cpu_set_arith(c, v);
}

/* ---- single-flag setters (the others keep their values) ---- */
static inline void flag_set_cf(cpu_t *c, unsigned cf)
{
    uint64_t of = flag_of(c);
    c->lf_aux = (c->lf_aux & ~(3ull << LF_PO_BIT)) | (uint64_t)cf << LF_CF_BIT |
                ((uint64_t)cf ^ of) << LF_PO_BIT;
}
static inline void flag_set_of(cpu_t *c, unsigned of)
{
    c->lf_aux = (c->lf_aux & ~(1ull << LF_PO_BIT)) | ((uint64_t)(flag_cf(c) ^ of) << LF_PO_BIT);
}
/* CF and OF together (rotates, ADCX/ADOX); SF ZF AF PF unchanged. */
static inline void flag_set_cf_of(cpu_t *c, unsigned cf, unsigned of)
{
    c->lf_aux = (c->lf_aux & ~(3ull << LF_PO_BIT)) | (uint64_t)cf << LF_CF_BIT |
                (uint64_t)(cf ^ of) << LF_PO_BIT;
}
/* ZF alone (CMPXCHG8B/16B): goes through the explicit form, as ZF lives in lf_res. */
static inline void flag_set_zf(cpu_t *c, unsigned zf)
{
    cpu_set_arith(c, (cpu_get_arith(c) & ~(uint64_t)F_ZF) | (uint64_t)zf << 6);
}

/* ZF := 0 keeping SF and PF: bit 8 of lf_res is neither the sign nor in the low byte. */
static inline void flag_clear_zf(cpu_t *c) { c->lf_res |= 0x100; }
/* PF := 0 keeping the rest: flip the parity delta when PF reads 1. */
static inline void flag_clear_pf(cpu_t *c) { c->lf_aux ^= (uint64_t)flag_pf(c) << LF_PDB_BIT; }

/* ---- the 16 conditions of Jcc/SETcc/CMOVcc (cc = low nibble of the opcode) ----
 * Pairs 2n and 2n+1 are negations of each other; the switch folds away when cc is
 * a constant, which it is in the per-condition handlers. */
static inline bool cpu_cond(const cpu_t *c, int cc)
{
    unsigned v;
    switch ((cc >> 1) & 7) {
    case 0: v = flag_of(c); break;                            /* O */
    case 1: v = flag_cf(c); break;                            /* B / C */
    case 2: v = flag_zf(c); break;                            /* E / Z */
    case 3: v = flag_cf(c) | flag_zf(c); break;               /* BE */
    case 4: v = flag_sf(c); break;                            /* S */
    case 5: v = flag_pf(c); break;                            /* P */
    case 6: v = flag_sf(c) ^ flag_of(c); break;               /* L */
    default: v = flag_zf(c) | (flag_sf(c) ^ flag_of(c)); break; /* LE */
    }
    return v ^ (cc & 1);
}

/* ---- lazy results of add/sub/logic/inc/dec, per operand size N ----
 * Carry-out vectors, bit i = carry (borrow) out of bit i:
 *   add: (a & b) | ((a | b) & ~r)      sub: (~a & b) | (~(a ^ b) & r)
 * They hold for any carry-in, so ADC/SBB use them too. Operands are widened
 * zero-extended, so the vector has no bits above N-1. */
#define LF_STORE(c, N, r, co)                                                            \
    do {                                                                                 \
        (c)->lf_res = (uint64_t)(int64_t)(int##N##_t)(r);                                \
        (c)->lf_aux = ((co) & LF_AF) | (((co) >> (N - 2)) << LF_PO_BIT);                 \
    } while (0)

#define LF_SIZE(N)                                                                       \
    static inline void flags_add##N(cpu_t *c, uint##N##_t a, uint##N##_t b, uint##N##_t r) \
    {                                                                                    \
        uint64_t co = ((uint64_t)a & b) | (((uint64_t)a | b) & ~(uint64_t)r);            \
        LF_STORE(c, N, r, co);                                                           \
    }                                                                                    \
    static inline void flags_sub##N(cpu_t *c, uint##N##_t a, uint##N##_t b, uint##N##_t r) \
    {                                                                                    \
        uint64_t co = (~(uint64_t)a & b) | (~((uint64_t)a ^ b) & (uint64_t)r);           \
        LF_STORE(c, N, r, co);                                                           \
    }                                                                                    \
    /* AND/OR/XOR/TEST: CF = OF = 0, AF 0 (the SDM leaves it undefined). */              \
    static inline void flags_logic##N(cpu_t *c, uint##N##_t r)                           \
    {                                                                                    \
        c->lf_res = (uint64_t)(int64_t)(int##N##_t)r;                                    \
        c->lf_aux = 0;                                                                   \
    }                                                                                    \
    /* INC/DEC: as add/sub of 1, but CF keeps its value. */                              \
    static inline void flags_inc##N(cpu_t *c, uint##N##_t a, uint##N##_t r)              \
    {                                                                                    \
        uint64_t co = (uint64_t)a & ~(uint64_t)r; /* the add vector with b = 1 */        \
        uint64_t cf = c->lf_aux >> LF_CF_BIT;                                            \
        uint64_t of = ((co >> (N - 1)) ^ (co >> (N - 2))) & 1;                           \
        c->lf_res = (uint64_t)(int64_t)(int##N##_t)r;                                    \
        c->lf_aux = (co & LF_AF) | cf << LF_CF_BIT | (cf ^ of) << LF_PO_BIT;             \
    }                                                                                    \
    static inline void flags_dec##N(cpu_t *c, uint##N##_t a, uint##N##_t r)              \
    {                                                                                    \
        uint64_t co = ~(uint64_t)a & (uint64_t)r; /* the sub vector with b = 1 */        \
        uint64_t cf = c->lf_aux >> LF_CF_BIT;                                            \
        uint64_t of = ((co >> (N - 1)) ^ (co >> (N - 2))) & 1;                           \
        c->lf_res = (uint64_t)(int64_t)(int##N##_t)r;                                    \
        c->lf_aux = (co & LF_AF) | cf << LF_CF_BIT | (cf ^ of) << LF_PO_BIT;             \
    }                                                                                    \
    /* Explicit form: SF ZF PF from r, CF OF AF as given (shifts, MUL, BSF, ...). */     \
    static inline void flags_res##N(cpu_t *c, uint##N##_t r, unsigned cf, unsigned of, unsigned af) \
    {                                                                                    \
        c->lf_res = (uint64_t)(int64_t)(int##N##_t)r;                                    \
        c->lf_aux = (uint64_t)cf << LF_CF_BIT | (uint64_t)(cf ^ of) << LF_PO_BIT |       \
                    (uint64_t)af << LF_AF_BIT;                                           \
    }
LF_SIZE(8)
LF_SIZE(16)
LF_SIZE(32)
LF_SIZE(64)
#undef LF_SIZE

#endif
