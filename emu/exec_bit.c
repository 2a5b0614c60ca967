/* exec_bit.c - shifts and rotates (ROL ROR RCL RCR SHL SHR SAR, SHLD SHRD), bit
 * tests (BT BTS BTR BTC), bit scans and counts (BSF BSR TZCNT LZCNT POPCNT),
 * BSWAP and CRC32.
 */
#include "emu/alu_ops.h"

/* ---- shifts and rotates (SDM Vol. 2 "SAL/SAR/SHL/SHR", "RCL/RCR/ROL/ROR") ----
 * n is the count already masked to 5 bits (6 for 64-bit operands). A masked
 * count of 0 changes no flag. OF is defined for a count of 1 only; for other
 * counts it is computed as for a count of 1 from the original operand, which is
 * what Intel processors do (test_flags.c checks it on Intel hosts). AF is
 * undefined for shifts: 0 here, as on Intel processors. */
#define TOP2(N, a) ((unsigned)(((a) >> (N - 1)) ^ ((a) >> (N - 2))) & 1) /* OF of a 1-bit left shift */
#define SHIFT_FNS(N)                                                                     \
    static inline uint##N##_t shl##N(cpu_t *c, uint##N##_t a, unsigned n)                \
    {                                                                                    \
        if (!n)                                                                          \
            return a;                                                                    \
        uint##N##_t r = (uint##N##_t)((uint64_t)a << n);                                 \
        /* last bit out is bit N-n of a; counts above N (8/16-bit) shift out zeros */    \
        unsigned cf = ((uint64_t)a >> ((N - n) & 63)) & 1;                               \
        flags_res##N(c, r, cf, TOP2(N, a), 0);                                           \
        return r;                                                                        \
    }                                                                                    \
    static inline uint##N##_t shr##N(cpu_t *c, uint##N##_t a, unsigned n)                \
    {                                                                                    \
        if (!n)                                                                          \
            return a;                                                                    \
        uint##N##_t r = (uint##N##_t)((uint64_t)a >> n);                                 \
        unsigned cf = ((uint64_t)a >> (n - 1)) & 1;                                      \
        flags_res##N(c, r, cf, (unsigned)(a >> (N - 1)), 0);                             \
        return r;                                                                        \
    }                                                                                    \
    static inline uint##N##_t sar##N(cpu_t *c, uint##N##_t a, unsigned n)                \
    {                                                                                    \
        if (!n)                                                                          \
            return a;                                                                    \
        int64_t sa = (int##N##_t)a;                                                      \
        uint##N##_t r = (uint##N##_t)(sa >> n);                                          \
        flags_res##N(c, r, (unsigned)(sa >> (n - 1)) & 1, 0, 0);                         \
        return r;                                                                        \
    }                                                                                    \
    /* ROL/ROR rotate by n mod N but set CF whenever the masked count is non-zero */     \
    static inline uint##N##_t rol##N(cpu_t *c, uint##N##_t a, unsigned n)                \
    {                                                                                    \
        if (!n)                                                                          \
            return a;                                                                    \
        unsigned t = n & (N - 1);                                                        \
        uint##N##_t r = (uint##N##_t)(a << t | a >> ((N - t) & (N - 1)));                \
        flag_set_cf_of(c, r & 1, TOP2(N, a));                                            \
        return r;                                                                        \
    }                                                                                    \
    static inline uint##N##_t ror##N(cpu_t *c, uint##N##_t a, unsigned n)                \
    {                                                                                    \
        if (!n)                                                                          \
            return a;                                                                    \
        unsigned t = n & (N - 1);                                                        \
        uint##N##_t r = (uint##N##_t)(a >> t | a << ((N - t) & (N - 1)));                \
        flag_set_cf_of(c, (unsigned)(r >> (N - 1)), (unsigned)((a ^ (a >> (N - 1))) & 1)); \
        return r;                                                                        \
    }
SHIFT_FNS(8)
SHIFT_FNS(16)
SHIFT_FNS(32)
SHIFT_FNS(64)

/* SAL (the /6 alias) is SHL. */
#define sal8 shl8
#define sal16 shl16
#define sal32 shl32
#define sal64 shl64

/* RCL/RCR rotate the N+1-bit value CF:a by n mod (N+1) (for 8 and 16 bits; the
 * 5-bit masked count never reaches 33 or 65). If that is 0, nothing changes. */
#define RC_NARROW(N)                                                                     \
    static inline uint##N##_t rcl##N(cpu_t *c, uint##N##_t a, unsigned n)                \
    {                                                                                    \
        unsigned t = n % (N + 1);                                                        \
        if (!t)                                                                          \
            return a;                                                                    \
        uint64_t v = (uint64_t)flag_cf(c) << N | a, m = (2ull << N) - 1;                 \
        uint64_t rv = (v << t | v >> (N + 1 - t)) & m;                                   \
        uint##N##_t r = (uint##N##_t)rv;                                                 \
        flag_set_cf_of(c, (unsigned)(rv >> N), TOP2(N, a));                              \
        return r;                                                                        \
    }                                                                                    \
    static inline uint##N##_t rcr##N(cpu_t *c, uint##N##_t a, unsigned n)                \
    {                                                                                    \
        unsigned t = n % (N + 1);                                                        \
        if (!t)                                                                          \
            return a;                                                                    \
        uint64_t v = (uint64_t)flag_cf(c) << N | a, m = (2ull << N) - 1;                 \
        uint64_t rv = (v >> t | v << (N + 1 - t)) & m;                                   \
        uint##N##_t r = (uint##N##_t)rv;                                                 \
        flag_set_cf_of(c, (unsigned)(rv >> N), (unsigned)(a >> (N - 1)) ^ (unsigned)(v >> N)); \
        return r;                                                                        \
    }
RC_NARROW(8)
RC_NARROW(16)
RC_NARROW(32)

static inline uint64_t rcl64(cpu_t *c, uint64_t a, unsigned n)
{
    if (!n)
        return a;
    /* a's bit 64-n moves into CF, CF into bit n-1, bits above 64-n wrap to the bottom */
    uint64_t r = a << n | (uint64_t)flag_cf(c) << (n - 1) | (n > 1 ? a >> (65 - n) : 0);
    flag_set_cf_of(c, (a >> (64 - n)) & 1, TOP2(64, a));
    return r;
}
static inline uint64_t rcr64(cpu_t *c, uint64_t a, unsigned n)
{
    if (!n)
        return a;
    unsigned cf = flag_cf(c);
    uint64_t r = a >> n | (uint64_t)cf << (64 - n) | (n > 1 ? a << (65 - n) : 0);
    flag_set_cf_of(c, (a >> (n - 1)) & 1, (unsigned)(a >> 63) ^ cf);
    return r;
}

/* Handlers: 8 operations x {Eb, Ev} x {Ib, 1, CL}. */
#define SH_COUNT_I(d) ((unsigned)(d)->i.imm)
#define SH_COUNT_1(d) 1u
#define SH_COUNT_CL(d) ((unsigned)c->gpr[R_RCX])
#define SH_MASK(N) ((N) == 64 ? 63u : 31u)
#define SH_RM(N, op, cnt) RMW_RM(N, op, 1, c, &d->i, (cnt) & SH_MASK(N))
#define SHIFT_HANDLERS(op)                                                               \
    void op_##op##_EbIb(cpu_t *c, const dinsn_t *d) { SH_RM(8, op, SH_COUNT_I(d)); }     \
    void op_##op##_Eb1(cpu_t *c, const dinsn_t *d) { SH_RM(8, op, SH_COUNT_1(d)); }      \
    void op_##op##_EbCL(cpu_t *c, const dinsn_t *d) { SH_RM(8, op, SH_COUNT_CL(d)); }    \
    void op_##op##_EvIb(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, SH_RM, op, SH_COUNT_I(d)); } \
    void op_##op##_Ev1(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, SH_RM, op, SH_COUNT_1(d)); } \
    void op_##op##_EvCL(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, SH_RM, op, SH_COUNT_CL(d)); }
SHIFT_HANDLERS(rol)
SHIFT_HANDLERS(ror)
SHIFT_HANDLERS(rcl)
SHIFT_HANDLERS(rcr)
SHIFT_HANDLERS(shl)
SHIFT_HANDLERS(shr)
SHIFT_HANDLERS(sal)
SHIFT_HANDLERS(sar)

/* ---- SHLD / SHRD (SDM Vol. 2 "SHLD", "SHRD"): dest a, source b. A masked count
 * of 0 changes nothing; OF is that of a 1-bit shift whatever the count, as for
 * the shifts above. For 16-bit operands a count above 16 is undefined; this
 * shifts the 48-bit a:b:a, as P6-family processors do. ---- */
static inline uint16_t shld_16(cpu_t *c, uint16_t a, uint16_t b, unsigned n)
{
    uint64_t w = (uint64_t)a << 48 | (uint64_t)b << 32 | (uint64_t)a << 16;
    uint16_t r = (uint16_t)((w << n) >> 48);
    unsigned cf = (unsigned)((w << (n - 1)) >> 63);
    flags_res16(c, r, cf, TOP2(16, a), 0);
    return r;
}
static inline uint16_t shrd_16(cpu_t *c, uint16_t a, uint16_t b, unsigned n)
{
    uint64_t w = (uint64_t)a << 32 | (uint64_t)b << 16 | a;
    uint16_t r = (uint16_t)(w >> n);
    flags_res16(c, r, (unsigned)(w >> (n - 1)) & 1, (unsigned)((a >> 15) ^ (b & 1)), 0);
    return r;
}
#define SHD_WIDE(N)                                                                      \
    static inline uint##N##_t shld_##N(cpu_t *c, uint##N##_t a, uint##N##_t b, unsigned n) \
    {                                                                                    \
        uint##N##_t r = a << n | b >> (N - n);                                           \
        flags_res##N(c, r, (unsigned)(a >> (N - n)) & 1, TOP2(N, a), 0);                 \
        return r;                                                                        \
    }                                                                                    \
    static inline uint##N##_t shrd_##N(cpu_t *c, uint##N##_t a, uint##N##_t b, unsigned n) \
    {                                                                                    \
        uint##N##_t r = a >> n | b << (N - n);                                           \
        flags_res##N(c, r, (unsigned)(a >> (n - 1)) & 1, (unsigned)((a >> (N - 1)) ^ (b & 1)), 0); \
        return r;                                                                        \
    }
SHD_WIDE(32)
SHD_WIDE(64)

#define SHD(N, op, cnt)                                                                  \
    do {                                                                                 \
        unsigned n_ = (cnt) & SH_MASK(N);                                                \
        if (!n_) { /* still an access: a memory destination must be writable */          \
            if (d->i.mod != 3)                                                           \
                rmw_lin(c, &d->i, N / 8);                                                \
            else if (N == 32)                                                            \
                reg_set(c, &d->i, d->i.rm, 4, (uint32_t)c->gpr[d->i.rm]);                \
            break;                                                                       \
        }                                                                                \
        uint##N##_t b_ = REG_GET(N, c, &d->i, d->i.reg);                                 \
        if (d->i.mod == 3) {                                                             \
            reg_set(c, &d->i, d->i.rm, N / 8, op##_##N(c, REG_GET(N, c, &d->i, d->i.rm), b_, n_)); \
        } else {                                                                         \
            uint64_t la_ = rmw_lin(c, &d->i, N / 8);                                     \
            lin_write##N(c, la_, op##_##N(c, lin_read##N(c, la_), b_, n_));              \
        }                                                                                \
    } while (0)
void op_shld_EvGvIb(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, SHD, shld, SH_COUNT_I(d)); }
void op_shld_EvGvCL(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, SHD, shld, SH_COUNT_CL(d)); }
void op_shrd_EvGvIb(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, SHD, shrd, SH_COUNT_I(d)); }
void op_shrd_EvGvCL(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, SHD, shrd, SH_COUNT_CL(d)); }

/* ---- BT BTS BTR BTC (SDM Vol. 2 "BT"): CF = the selected bit; ZF unchanged;
 * OF SF AF PF undefined (unchanged here). Register destinations and immediate
 * offsets take the offset modulo the operand size; a memory destination with a
 * register offset addresses the bit string around the operand, the offset being
 * signed (Vol. 1 "Bit Field and Bit String Addressing"). ---- */
#define BT_OPS(X) X(bt, v, 0) X(bts, v | m, 1) X(btr, v & ~m, 1) X(btc, v ^ m, 1)

#define BT_APPLY(N, NEWV, WB, la, off)                                                   \
    do {                                                                                 \
        uint##N##_t m = (uint##N##_t)((uint##N##_t)1 << ((off) & (N - 1)));              \
        if (d->i.mod == 3) {                                                             \
            uint##N##_t v = REG_GET(N, c, &d->i, d->i.rm);                               \
            flag_set_cf(c, (v & m) != 0);                                                \
            if (WB)                                                                      \
                reg_set(c, &d->i, d->i.rm, N / 8, (uint##N##_t)(NEWV));                  \
        } else if (WB) {                                                                 \
            uint64_t la_ = (la);                                                         \
            uint##N##_t v = lin_read##N(c, la_);                                         \
            flag_set_cf(c, (v & m) != 0);                                                \
            lin_write##N(c, la_, (uint##N##_t)(NEWV));                                   \
        } else {                                                                         \
            uint##N##_t v = lin_read##N(c, (la));                                        \
            flag_set_cf(c, (v & m) != 0);                                                \
        }                                                                                \
    } while (0)

/* Memory address of the N-bit unit holding bit off (signed) of the string at the operand. */
static inline uint64_t bt_lin(cpu_t *c, const x86_insn *i, int64_t off, int N, int wb)
{
    int shift = N == 16 ? 4 : N == 32 ? 5 : 6;
    uint64_t ea = (insn_ea(c, i) + (uint64_t)((off >> shift) * (N / 8))) & size_mask(i->asize);
    uint64_t la = seg_lin(c, i->seg, ea, N / 8, wb ? ACC_WRITE : ACC_READ);
    if (wb)
        rmw_probe(c, la, N / 8);
    return la;
}

#define BT_REG_OFF(N, NEWV, WB)                                                          \
    do {                                                                                 \
        int64_t off_ = (int##N##_t)REG_GET(N, c, &d->i, d->i.reg);                       \
        BT_APPLY(N, NEWV, WB, bt_lin(c, &d->i, off_, N, WB), off_);                      \
    } while (0)
#define BT_IMM_OFF(N, NEWV, WB)                                                          \
    do {                                                                                 \
        unsigned off_ = (unsigned)d->i.imm & (N - 1);                                    \
        BT_APPLY(N, NEWV, WB, WB ? rmw_lin(c, &d->i, N / 8) : insn_lin(c, &d->i, N / 8, ACC_READ), off_); \
    } while (0)

#define BT_HANDLERS(op, NEWV, WB)                                                        \
    void op_##op##_EvGv(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, BT_REG_OFF, NEWV, WB); } \
    void op_##op##_EvIb(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, BT_IMM_OFF, NEWV, WB); }
BT_OPS(BT_HANDLERS)

/* ---- BSF BSR (zero source: ZF = 1, destination unchanged), TZCNT LZCNT (CF =
 * zero source, ZF = zero result), POPCNT (ZF = zero source, the rest cleared).
 * Flags the SDM leaves undefined take the values Intel processors give them:
 * BSF/BSR set PF from the index (ZF|PF for a zero source) and clear the rest;
 * TZCNT/LZCNT clear them. ---- */
#define SCAN_FNS(N)                                                                      \
    static inline void bsf##N(cpu_t *c, const dinsn_t *d, uint##N##_t s)                 \
    {                                                                                    \
        if (!s) {                                                                        \
            cpu_set_arith(c, F_ZF | F_PF);                                               \
            return;                                                                      \
        }                                                                                \
        uint##N##_t r = (uint##N##_t)__builtin_ctzll(s);                                 \
        reg_set(c, &d->i, d->i.reg, N / 8, r);                                           \
        flags_res##N(c, r, 0, 0, 0);                                                     \
        flag_clear_zf(c);                                                                \
    }                                                                                    \
    static inline void bsr##N(cpu_t *c, const dinsn_t *d, uint##N##_t s)                 \
    {                                                                                    \
        if (!s) {                                                                        \
            cpu_set_arith(c, F_ZF | F_PF);                                               \
            return;                                                                      \
        }                                                                                \
        uint##N##_t r = (uint##N##_t)(63 - __builtin_clzll(s));                          \
        reg_set(c, &d->i, d->i.reg, N / 8, r);                                           \
        flags_res##N(c, r, 0, 0, 0);                                                     \
        flag_clear_zf(c);                                                                \
    }                                                                                    \
    static inline void tzcnt##N(cpu_t *c, const dinsn_t *d, uint##N##_t s)               \
    {                                                                                    \
        uint##N##_t r = (uint##N##_t)(s ? __builtin_ctzll(s) : N);                       \
        reg_set(c, &d->i, d->i.reg, N / 8, r);                                           \
        cpu_set_arith(c, (s == 0 ? F_CF : 0) | (r == 0 ? F_ZF : 0));                     \
    }                                                                                    \
    static inline void lzcnt##N(cpu_t *c, const dinsn_t *d, uint##N##_t s)               \
    {                                                                                    \
        uint##N##_t r = (uint##N##_t)(s ? __builtin_clzll(s) - (64 - N) : N);            \
        reg_set(c, &d->i, d->i.reg, N / 8, r);                                           \
        cpu_set_arith(c, (s == 0 ? F_CF : 0) | (r == 0 ? F_ZF : 0));                     \
    }                                                                                    \
    static inline void popcnt##N(cpu_t *c, const dinsn_t *d, uint##N##_t s)              \
    {                                                                                    \
        reg_set(c, &d->i, d->i.reg, N / 8, (uint64_t)__builtin_popcountll(s));           \
        cpu_set_arith(c, s ? 0 : F_ZF);                                                  \
    }
SCAN_FNS(16)
SCAN_FNS(32)
SCAN_FNS(64)

#define CALL_SCAN(N, fn) fn##N(c, d, RM_GET(N, c, &d->i))
void op_bsf_GvEv(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, CALL_SCAN, bsf); }
void op_bsr_GvEv(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, CALL_SCAN, bsr); }
/* Without BMI1 / LZCNT the F3 prefix is ignored and F3 0F BC / BD are BSF / BSR,
 * as on processors that predate them. */
void op_tzcnt_GvEv(cpu_t *c, const dinsn_t *d)
{
    if (cpu_has(c, FEAT_BMI1))
        BY_OSIZE(d, CALL_SCAN, tzcnt);
    else
        BY_OSIZE(d, CALL_SCAN, bsf);
}
void op_lzcnt_GvEv(cpu_t *c, const dinsn_t *d)
{
    if (cpu_has(c, FEAT_LZCNT))
        BY_OSIZE(d, CALL_SCAN, lzcnt);
    else
        BY_OSIZE(d, CALL_SCAN, bsr);
}
void op_popcnt_GvEv(cpu_t *c, const dinsn_t *d)
{
    need_feature(c, FEAT_POPCNT);
    BY_OSIZE(d, CALL_SCAN, popcnt);
}

/* ---- BSWAP (SDM Vol. 2 "BSWAP"): with a 16-bit operand the result is
 * undefined; processors clear the register's low word, and so does this. ---- */
void op_bswap_Zv(cpu_t *c, const dinsn_t *d)
{
    int n = d->i.reg;
    switch (d->i.osize) {
    case 2: c->gpr[n] &= ~0xffffull; break;
    case 4: c->gpr[n] = __builtin_bswap32((uint32_t)c->gpr[n]); break;
    default: c->gpr[n] = __builtin_bswap64(c->gpr[n]); break;
    }
}

/* ---- CRC32 (SDM Vol. 2 "CRC32"): CRC-32C (polynomial 11EDC6F41H), bit-reflected,
 * no inversion; the 32-bit result zero-extends into the destination. Flags
 * unchanged. Source bytes are consumed least significant first. ---- */
static uint32_t crc32c(uint32_t crc, uint64_t data, int bytes)
{
    for (int b = 0; b < bytes; b++) {
        crc ^= (uint8_t)(data >> (8 * b));
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
    }
    return crc;
}
void op_crc32_GdEb(cpu_t *c, const dinsn_t *d)
{
    need_feature(c, FEAT_SSE4_2);
    c->gpr[d->i.reg] = crc32c((uint32_t)c->gpr[d->i.reg], RM_GET(8, c, &d->i), 1);
}
void op_crc32_GdEv(cpu_t *c, const dinsn_t *d)
{
    need_feature(c, FEAT_SSE4_2);
    c->gpr[d->i.reg] = crc32c((uint32_t)c->gpr[d->i.reg], rm_read(c, &d->i, d->i.osize), d->i.osize);
}

/* ---- BMI1 / BMI2 (VEX-encoded; SDM Vol. 2 "ANDN", "BEXTR", "BLSI", "BLSMSK",
 * "BLSR", "BZHI", "MULX", "PDEP", "PEXT", "RORX", "SARX/SHLX/SHRX"). Operands:
 * G = ModRM.reg, E = r/m, B = VEX.vvvv; 64-bit with VEX.W in 64-bit mode, else
 * 32-bit (the decoder's osize). Flags the SDM leaves undefined (AF PF, and SF
 * for BEXTR) are 0, as on Intel processors. ---- */
#define VEX_B(N) ((uint##N##_t)c->gpr[d->i.vex_v])
#define BY_VSIZE(d, M)                                                                   \
    do {                                                                                 \
        if ((d)->i.osize == 8)                                                           \
            M(64);                                                                       \
        else                                                                             \
            M(32);                                                                       \
    } while (0)

#define ANDN(N)                                                                          \
    do {                                                                                 \
        uint##N##_t r_ = (uint##N##_t)(~VEX_B(N) & RM_GET(N, c, &d->i));                 \
        reg_set(c, &d->i, d->i.reg, N / 8, r_);                                          \
        flags_res##N(c, r_, 0, 0, 0);                                                    \
        flag_clear_pf(c);                                                                \
    } while (0)
/* BLSI: lowest set bit, CF = source != 0; BLSMSK: mask up to it, BLSR: clear it,
 * CF = source == 0 for both. The destination is VEX.vvvv. */
#define BLS(N, EXPR, CF)                                                                 \
    do {                                                                                 \
        uint##N##_t s = RM_GET(N, c, &d->i), r_ = (uint##N##_t)(EXPR);                   \
        reg_set(c, &d->i, d->i.vex_v, N / 8, r_);                                        \
        flags_res##N(c, r_, (CF), 0, 0);                                                 \
        flag_clear_pf(c);                                                                \
    } while (0)
#define BLSI(N) BLS(N, (0 - s) & s, s != 0)
#define BLSMSK(N) BLS(N, (s - 1) ^ s, s == 0)
#define BLSR(N) BLS(N, (s - 1) & s, s == 0)
/* BEXTR: start = B[7:0], length = B[15:8]; bits past the operand read as 0. ZF from
 * the result, CF = OF = 0. */
#define BEXTR(N)                                                                         \
    do {                                                                                 \
        uint##N##_t s_ = RM_GET(N, c, &d->i), ctl_ = VEX_B(N);                           \
        unsigned start_ = ctl_ & 0xff, len_ = (ctl_ >> 8) & 0xff;                        \
        uint64_t r_ = start_ < N ? (uint64_t)(s_ >> start_) : 0;                         \
        if (len_ < 64)                                                                   \
            r_ &= (1ull << len_) - 1;                                                    \
        reg_set(c, &d->i, d->i.reg, N / 8, r_);                                          \
        cpu_set_arith(c, r_ == 0 ? F_ZF : 0);                                            \
    } while (0)
/* BZHI: clear the bits from index n = B[7:0] up; CF = n > N - 1. */
#define BZHI(N)                                                                          \
    do {                                                                                 \
        uint##N##_t r_ = RM_GET(N, c, &d->i);                                            \
        unsigned n_ = (unsigned)VEX_B(N) & 0xff;                                         \
        if (n_ < N)                                                                      \
            r_ &= (uint##N##_t)(((uint64_t)1 << n_) - 1);                                \
        reg_set(c, &d->i, d->i.reg, N / 8, r_);                                          \
        flags_res##N(c, r_, n_ > N - 1, 0, 0);                                           \
        flag_clear_pf(c);                                                                \
    } while (0)
/* PDEP: deposit the low bits of B at the set bits of the mask E; PEXT: gather the
 * bits of B selected by E into the low bits. No flags. */
#define PDEP(N)                                                                          \
    do {                                                                                 \
        uint64_t src_ = VEX_B(N), m_ = RM_GET(N, c, &d->i), r_ = 0;                      \
        for (uint64_t k_ = 1; m_; m_ &= m_ - 1, k_ <<= 1)                                \
            if (src_ & k_)                                                               \
                r_ |= m_ & (0 - m_);                                                     \
        reg_set(c, &d->i, d->i.reg, N / 8, r_);                                          \
    } while (0)
#define PEXT(N)                                                                          \
    do {                                                                                 \
        uint64_t src_ = VEX_B(N), m_ = RM_GET(N, c, &d->i), r_ = 0;                      \
        for (uint64_t k_ = 1; m_; m_ &= m_ - 1, k_ <<= 1)                                \
            if (src_ & m_ & (0 - m_))                                                    \
                r_ |= k_;                                                                \
        reg_set(c, &d->i, d->i.reg, N / 8, r_);                                          \
    } while (0)
/* MULX: rDX * E unsigned; low half to B, then high half to G (so G wins when they
 * name the same register). No flags. */
#define MULX(N)                                                                          \
    do {                                                                                 \
        unsigned __int128 p_ =                                                           \
            (unsigned __int128)REG_GET(N, c, &d->i, R_RDX) * RM_GET(N, c, &d->i);        \
        reg_set(c, &d->i, d->i.vex_v, N / 8, (uint##N##_t)p_);                           \
        reg_set(c, &d->i, d->i.reg, N / 8, (uint##N##_t)(p_ >> N));                      \
    } while (0)
/* RORX by an immediate, SARX/SHLX/SHRX by B: counts masked as for the shifts; no flags. */
#define RORX(N)                                                                          \
    do {                                                                                 \
        uint##N##_t s_ = RM_GET(N, c, &d->i);                                            \
        unsigned n_ = (unsigned)d->i.imm & (N - 1);                                      \
        reg_set(c, &d->i, d->i.reg, N / 8, (uint##N##_t)(s_ >> n_ | s_ << ((N - n_) & (N - 1)))); \
    } while (0)
#define SHX(N, EXPR)                                                                     \
    do {                                                                                 \
        uint##N##_t s = RM_GET(N, c, &d->i);                                             \
        unsigned n = (unsigned)VEX_B(N) & (N - 1);                                       \
        reg_set(c, &d->i, d->i.reg, N / 8, (uint##N##_t)(EXPR));                         \
    } while (0)
#define SARX(N) SHX(N, (int##N##_t)s >> n)
#define SHLX(N) SHX(N, s << n)
#define SHRX(N) SHX(N, s >> n)

#define BMI_HANDLER(name, feat, M)                                                       \
    void op_##name(cpu_t *c, const dinsn_t *d)                                           \
    {                                                                                    \
        need_feature(c, FEAT_##feat);                                                    \
        BY_VSIZE(d, M);                                                                  \
    }
BMI_HANDLER(andn_GyByEy, BMI1, ANDN)
BMI_HANDLER(blsi_ByEy, BMI1, BLSI)
BMI_HANDLER(blsmsk_ByEy, BMI1, BLSMSK)
BMI_HANDLER(blsr_ByEy, BMI1, BLSR)
BMI_HANDLER(bextr_GyEyBy, BMI1, BEXTR)
BMI_HANDLER(bzhi_GyEyBy, BMI2, BZHI)
BMI_HANDLER(pdep_GyByEy, BMI2, PDEP)
BMI_HANDLER(pext_GyByEy, BMI2, PEXT)
BMI_HANDLER(mulx_GyByEy, BMI2, MULX)
BMI_HANDLER(rorx_GyEyIb, BMI2, RORX)
BMI_HANDLER(sarx_GyEyBy, BMI2, SARX)
BMI_HANDLER(shlx_GyEyBy, BMI2, SHLX)
BMI_HANDLER(shrx_GyEyBy, BMI2, SHRX)
