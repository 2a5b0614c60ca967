/* exec_move.c - data movement: MOV (all forms incl. moffs), MOVZX MOVSX MOVSXD,
 * LEA, XCHG, CMPXCHG, XADD, CMPXCHG8B/16B, CBW/CWDE/CDQE, CWD/CDQ/CQO, CMOVcc,
 * SETcc, XLAT, MOVBE, MOVNTI, and the NOP forms (90, PAUSE, 0F 1F, the hint
 * space 0F 0D / 0F 18-1F, ENDBR32/64).
 */
#include "emu/alu_ops.h"

/* ---- MOV ---- */
#define MOV_RM_REG(N, ...) rm_write(c, &d->i, N / 8, c->gpr[d->i.reg])
#define MOV_REG_RM(N, ...) reg_set(c, &d->i, d->i.reg, N / 8, RM_GET(N, c, &d->i))
#define MOV_RM_IMM(N, ...) rm_write(c, &d->i, N / 8, d->i.imm)
#define MOV_REG_IMM(N, ...) reg_set(c, &d->i, d->i.reg, N / 8, d->i.imm)
void op_mov_EbGb(cpu_t *c, const dinsn_t *d) { rm_write(c, &d->i, 1, reg8_get(c, &d->i, d->i.reg)); }
HANDLER_VARIANTS(op_mov_EvGv, MOV_RM_REG, _)
void op_mov_GbEb(cpu_t *c, const dinsn_t *d) { reg8_set(c, &d->i, d->i.reg, RM_GET(8, c, &d->i)); }
HANDLER_VARIANTS(op_mov_GvEv, MOV_REG_RM, _)
void op_mov_EbIb(cpu_t *c, const dinsn_t *d) { rm_write(c, &d->i, 1, d->i.imm); }
HANDLER_VARIANTS(op_mov_EvIz, MOV_RM_IMM, _)
/* B0+r / B8+r: the register is in the reg field (with REX.B); Iv is 64 bits with REX.W */
void op_mov_ZbIb(cpu_t *c, const dinsn_t *d) { reg8_set(c, &d->i, d->i.reg, (uint8_t)d->i.imm); }
void op_mov_ZvIv(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, MOV_REG_IMM, _); }

/* A0-A3: the offset (disp) has the address size; the segment is DS unless overridden. */
static inline uint64_t moffs_lin(cpu_t *c, const x86_insn *i, int size, enum mmu_access acc)
{
    return seg_lin(c, i->seg, (uint64_t)i->disp & size_mask(i->asize), size, acc);
}
void op_mov_ALOb(cpu_t *c, const dinsn_t *d)
{
    uint8_t v = lin_read8(c, moffs_lin(c, &d->i, 1, ACC_READ));
    c->gpr[R_RAX] = (c->gpr[R_RAX] & ~0xffull) | v;
}
void op_mov_ObAL(cpu_t *c, const dinsn_t *d)
{
    lin_write8(c, moffs_lin(c, &d->i, 1, ACC_WRITE), (uint8_t)c->gpr[R_RAX]);
}
#define MOV_AX_MOFFS(N, ...) reg_set(c, &d->i, R_RAX, N / 8, lin_read##N(c, moffs_lin(c, &d->i, N / 8, ACC_READ)))
#define MOV_MOFFS_AX(N, ...) lin_write##N(c, moffs_lin(c, &d->i, N / 8, ACC_WRITE), (uint##N##_t)c->gpr[R_RAX])
void op_mov_rAXOv(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, MOV_AX_MOFFS, _); }
void op_mov_OvrAX(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, MOV_MOFFS_AX, _); }

/* ---- MOVZX MOVSX MOVSXD ---- */
#define MOVX(N, T) reg_set(c, &d->i, d->i.reg, N / 8, (uint##N##_t)(T)rm_read(c, &d->i, sizeof(T)))
HANDLER_VARIANTS(op_movzx_GvEb, MOVX, uint8_t)
HANDLER_VARIANTS(op_movzx_GvEw, MOVX, uint16_t)
HANDLER_VARIANTS(op_movsx_GvEb, MOVX, int8_t)
HANDLER_VARIANTS(op_movsx_GvEw, MOVX, int16_t)
/* 63 /r in 64-bit mode: sign-extends with REX.W; otherwise a plain 32- or 16-bit move. */
#define MOVSXD_SRC16 uint16_t
#define MOVSXD_SRC32 uint32_t
#define MOVSXD_SRC64 int32_t
#define MOVSXD(N, ...) MOVX(N, MOVSXD_SRC##N)
HANDLER_VARIANTS(op_movsxd_GvEd, MOVSXD, _)

/* ---- LEA: the effective address (wrapped to the address size), truncated to the
 * operand size; no memory access. ---- */
#define LEA(N, ...) reg_set(c, &d->i, d->i.reg, N / 8, insn_ea(c, &d->i))
HANDLER_VARIANTS(op_lea_GvM, LEA, _)

/* ---- XCHG (a memory form is an implicitly locked read-modify-write) ---- */
#define XCHG(N, ...)                                                                     \
    do {                                                                                 \
        uint##N##_t g_ = REG_GET(N, c, &d->i, d->i.reg), e_;                             \
        if (d->i.mod == 3) {                                                             \
            e_ = REG_GET(N, c, &d->i, d->i.rm);                                          \
            reg_set(c, &d->i, d->i.rm, N / 8, g_);                                       \
        } else {                                                                         \
            uint64_t la_ = rmw_lin(c, &d->i, N / 8);                                     \
            e_ = lin_read##N(c, la_);                                                    \
            lin_write##N(c, la_, g_);                                                    \
        }                                                                                \
        reg_set(c, &d->i, d->i.reg, N / 8, e_);                                          \
    } while (0)
void op_xchg_EbGb(cpu_t *c, const dinsn_t *d) { XCHG(8, _); }
void op_xchg_EvGv(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, XCHG, _); }
/* 91-97 (and 90 with REX.B): register reg with rAX. */
#define XCHG_AX(N, ...)                                                                  \
    do {                                                                                 \
        uint##N##_t a_ = REG_GET(N, c, &d->i, R_RAX);                                    \
        reg_set(c, &d->i, R_RAX, N / 8, REG_GET(N, c, &d->i, d->i.reg));                 \
        reg_set(c, &d->i, d->i.reg, N / 8, a_);                                          \
    } while (0)
void op_xchg_ZvrAX(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, XCHG_AX, _); }

/* ---- CMPXCHG (SDM Vol. 2 "CMPXCHG"): flags as CMP accumulator, destination. If
 * equal the destination receives the source, else the accumulator is loaded.
 * A memory destination receives a write cycle either way (its own value back);
 * a register destination that is not written keeps its upper 32 bits, as on
 * Intel processors (checked against the host in test_flags.c). ---- */
#define CMPXCHG(N, ...)                                                                  \
    do {                                                                                 \
        uint##N##_t acc_ = REG_GET(N, c, &d->i, R_RAX), src_ = REG_GET(N, c, &d->i, d->i.reg), dst_; \
        uint64_t la_ = 0;                                                                \
        if (d->i.mod == 3) {                                                             \
            dst_ = REG_GET(N, c, &d->i, d->i.rm);                                        \
        } else {                                                                         \
            la_ = rmw_lin(c, &d->i, N / 8);                                              \
            dst_ = lin_read##N(c, la_);                                                  \
        }                                                                                \
        flags_sub##N(c, acc_, dst_, (uint##N##_t)(acc_ - dst_));                         \
        if (d->i.mod != 3)                                                               \
            lin_write##N(c, la_, acc_ == dst_ ? src_ : dst_);                            \
        else if (acc_ == dst_)                                                           \
            reg_set(c, &d->i, d->i.rm, N / 8, src_);                                     \
        if (acc_ != dst_)                                                                \
            reg_set(c, &d->i, R_RAX, N / 8, dst_);                                       \
    } while (0)
void op_cmpxchg_EbGb(cpu_t *c, const dinsn_t *d) { CMPXCHG(8, _); }
void op_cmpxchg_EvGv(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, CMPXCHG, _); }

/* ---- XADD: source := destination, destination := sum (in that order, so with
 * the same register for both the sum wins). ---- */
#define XADD(N, ...)                                                                     \
    do {                                                                                 \
        uint##N##_t src_ = REG_GET(N, c, &d->i, d->i.reg), dst_, sum_;                   \
        if (d->i.mod == 3) {                                                             \
            dst_ = REG_GET(N, c, &d->i, d->i.rm);                                        \
            sum_ = (uint##N##_t)(dst_ + src_);                                           \
            reg_set(c, &d->i, d->i.reg, N / 8, dst_);                                    \
            reg_set(c, &d->i, d->i.rm, N / 8, sum_);                                     \
        } else {                                                                         \
            uint64_t la_ = rmw_lin(c, &d->i, N / 8);                                     \
            dst_ = lin_read##N(c, la_);                                                  \
            sum_ = (uint##N##_t)(dst_ + src_);                                           \
            lin_write##N(c, la_, sum_);                                                  \
            reg_set(c, &d->i, d->i.reg, N / 8, dst_);                                    \
        }                                                                                \
        flags_add##N(c, dst_, src_, sum_);                                               \
    } while (0)
void op_xadd_EbGb(cpu_t *c, const dinsn_t *d) { XADD(8, _); }
void op_xadd_EvGv(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, XADD, _); }

/* ---- CMPXCHG8B / CMPXCHG16B (REX.W) (SDM Vol. 2 "CMPXCHG8B/CMPXCHG16B"): only
 * ZF changes. CMPXCHG16B needs a 16-byte aligned operand (#GP(0)). As for
 * CMPXCHG, the memory is written either way. ---- */
void op_cmpxchg8b_Mq(cpu_t *c, const dinsn_t *d)
{
    if (d->i.osize == 8) {
        need_feature(c, FEAT_CMPXCHG16B);
        uint64_t la = insn_lin(c, &d->i, 16, ACC_WRITE);
        if (la & 15)
            cpu_fault_err(c, EXC_GP, 0);
        rmw_probe(c, la, 16);
        uint64_t lo = lin_read64(c, la), hi = lin_read64(c, la + 8);
        bool eq = lo == c->gpr[R_RAX] && hi == c->gpr[R_RDX];
        lin_write64(c, la, eq ? c->gpr[R_RBX] : lo);
        lin_write64(c, la + 8, eq ? c->gpr[R_RCX] : hi);
        if (!eq) {
            c->gpr[R_RAX] = lo;
            c->gpr[R_RDX] = hi;
        }
        flag_set_zf(c, eq);
    } else {
        need_feature(c, FEAT_CX8);
        uint64_t la = rmw_lin(c, &d->i, 8);
        uint64_t m = lin_read64(c, la);
        uint64_t dxax = (uint64_t)(uint32_t)c->gpr[R_RDX] << 32 | (uint32_t)c->gpr[R_RAX];
        bool eq = m == dxax;
        lin_write64(c, la, eq ? (uint64_t)(uint32_t)c->gpr[R_RCX] << 32 | (uint32_t)c->gpr[R_RBX] : m);
        if (!eq) { /* 32-bit register writes: zero-extended */
            c->gpr[R_RAX] = (uint32_t)m;
            c->gpr[R_RDX] = m >> 32;
        }
        flag_set_zf(c, eq);
    }
}

/* ---- CBW/CWDE/CDQE and CWD/CDQ/CQO ---- */
void op_cbw(cpu_t *c, const dinsn_t *d)
{
    switch (d->i.osize) {
    case 2: reg_set(c, &d->i, R_RAX, 2, (uint64_t)(int8_t)c->gpr[R_RAX]); break;
    case 4: c->gpr[R_RAX] = (uint32_t)(int16_t)c->gpr[R_RAX]; break;
    default: c->gpr[R_RAX] = (uint64_t)(int32_t)c->gpr[R_RAX]; break;
    }
}
#define CWD(N, ...) reg_set(c, &d->i, R_RDX, N / 8, (uint64_t)((int##N##_t)c->gpr[R_RAX] >> (N - 1)))
void op_cwd(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, CWD, _); }

/* ---- CMOVcc and SETcc: one handler per condition, so cpu_cond folds. The
 * source is read whatever the condition (a memory source may fault), and a
 * 32-bit destination is zero-extended even when the condition is false.
 * CPUID.1:EDX.CMOV is not checked: every model has it, and CMOVcc is too hot to
 * pay for the test. ---- */
#define CMOV(N, cc)                                                                      \
    do {                                                                                 \
        uint##N##_t s_ = RM_GET(N, c, &d->i);                                            \
        if (cpu_cond(c, cc))                                                             \
            reg_set(c, &d->i, d->i.reg, N / 8, s_);                                      \
        else if (N == 32)                                                                \
            c->gpr[d->i.reg] = (uint32_t)c->gpr[d->i.reg];                               \
    } while (0)
#define CC_HANDLERS(cc)                                                                  \
    void op_cmov##cc(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, CMOV, 0x##cc); }          \
    void op_set##cc(cpu_t *c, const dinsn_t *d) { rm_write(c, &d->i, 1, cpu_cond(c, 0x##cc)); }
CC_HANDLERS(0) CC_HANDLERS(1) CC_HANDLERS(2) CC_HANDLERS(3)
CC_HANDLERS(4) CC_HANDLERS(5) CC_HANDLERS(6) CC_HANDLERS(7)
CC_HANDLERS(8) CC_HANDLERS(9) CC_HANDLERS(A) CC_HANDLERS(B)
CC_HANDLERS(C) CC_HANDLERS(D) CC_HANDLERS(E) CC_HANDLERS(F)

/* ---- XLAT: AL := [seg:rBX + AL], the sum wrapped to the address size ---- */
void op_xlat(cpu_t *c, const dinsn_t *d)
{
    uint64_t ea = (c->gpr[R_RBX] + (uint8_t)c->gpr[R_RAX]) & size_mask(d->i.asize);
    uint8_t v = lin_read8(c, seg_lin(c, d->i.seg, ea, 1, ACC_READ));
    c->gpr[R_RAX] = (c->gpr[R_RAX] & ~0xffull) | v;
}

/* ---- MOVBE (memory operand only, by the decoder's Mv) and MOVNTI ---- */
#define BSWAP_16(x) __builtin_bswap16(x)
#define BSWAP_32(x) __builtin_bswap32(x)
#define BSWAP_64(x) __builtin_bswap64(x)
#define MOVBE_LOAD(N, ...) reg_set(c, &d->i, d->i.reg, N / 8, BSWAP_##N(RM_GET(N, c, &d->i)))
#define MOVBE_STORE(N, ...) rm_write(c, &d->i, N / 8, BSWAP_##N((uint##N##_t)c->gpr[d->i.reg]))
void op_movbe_GvMv(cpu_t *c, const dinsn_t *d)
{
    need_feature(c, FEAT_MOVBE);
    BY_OSIZE(d, MOVBE_LOAD, _);
}
void op_movbe_MvGv(cpu_t *c, const dinsn_t *d)
{
    need_feature(c, FEAT_MOVBE);
    BY_OSIZE(d, MOVBE_STORE, _);
}
void op_movnti_MyGy(cpu_t *c, const dinsn_t *d)
{
    need_feature(c, FEAT_SSE2);
    rm_write(c, &d->i, d->i.osize == 8 ? 8 : 4, c->gpr[d->i.reg]);
}

/* ---- NOP forms: no operand is accessed, so a memory operand cannot fault
 * (prefetches and the reserved-NOP hint space are hints). ---- */
void op_nop(cpu_t *c, const dinsn_t *d) {}
