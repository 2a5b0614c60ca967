/* exec_alu.c - integer arithmetic: ADD OR ADC SBB AND SUB XOR CMP TEST, INC DEC
 * NOT NEG, MUL IMUL DIV IDIV, ADCX ADOX, the BCD adjustments (DAA DAS AAA AAS AAM
 * AAD), the flag instructions (CLC STC CMC CLD STD LAHF SAHF SALC) and BOUND.
 * Arithmetic flags go through emu/flags.h (SDM Vol. 1 "EFLAGS Register").
 */
#include "emu/alu_ops.h"

/* ---- the eight binary operations, per size: r = op(a, b), flags set ---- */
#define BIN_FNS(N)                                                                       \
    static inline uint##N##_t add##N(cpu_t *c, uint##N##_t a, uint##N##_t b)             \
    {                                                                                    \
        uint##N##_t r = (uint##N##_t)(a + b);                                            \
        flags_add##N(c, a, b, r);                                                        \
        return r;                                                                        \
    }                                                                                    \
    static inline uint##N##_t adc##N(cpu_t *c, uint##N##_t a, uint##N##_t b)             \
    {                                                                                    \
        uint##N##_t r = (uint##N##_t)(a + b + flag_cf(c));                               \
        flags_add##N(c, a, b, r);                                                        \
        return r;                                                                        \
    }                                                                                    \
    static inline uint##N##_t sub##N(cpu_t *c, uint##N##_t a, uint##N##_t b)             \
    {                                                                                    \
        uint##N##_t r = (uint##N##_t)(a - b);                                            \
        flags_sub##N(c, a, b, r);                                                        \
        return r;                                                                        \
    }                                                                                    \
    static inline uint##N##_t sbb##N(cpu_t *c, uint##N##_t a, uint##N##_t b)             \
    {                                                                                    \
        uint##N##_t r = (uint##N##_t)(a - b - flag_cf(c));                               \
        flags_sub##N(c, a, b, r);                                                        \
        return r;                                                                        \
    }                                                                                    \
    static inline uint##N##_t and##N(cpu_t *c, uint##N##_t a, uint##N##_t b)             \
    {                                                                                    \
        uint##N##_t r = a & b;                                                           \
        flags_logic##N(c, r);                                                            \
        return r;                                                                        \
    }                                                                                    \
    static inline uint##N##_t or##N(cpu_t *c, uint##N##_t a, uint##N##_t b)              \
    {                                                                                    \
        uint##N##_t r = a | b;                                                           \
        flags_logic##N(c, r);                                                            \
        return r;                                                                        \
    }                                                                                    \
    static inline uint##N##_t xor##N(cpu_t *c, uint##N##_t a, uint##N##_t b)             \
    {                                                                                    \
        uint##N##_t r = a ^ b;                                                           \
        flags_logic##N(c, r);                                                            \
        return r;                                                                        \
    }                                                                                    \
    /* CMP and TEST are SUB and AND without the store (WB = 0 at the call). */           \
    static inline uint##N##_t cmp##N(cpu_t *c, uint##N##_t a, uint##N##_t b) { return sub##N(c, a, b); } \
    static inline uint##N##_t test##N(cpu_t *c, uint##N##_t a, uint##N##_t b) { return and##N(c, a, b); } \
    /* Unary operations take a dummy second operand to fit RMW_RM. */                    \
    static inline uint##N##_t inc##N(cpu_t *c, uint##N##_t a, uint##N##_t u)             \
    {                                                                                    \
        uint##N##_t r = (uint##N##_t)(a + 1);                                            \
        flags_inc##N(c, a, r);                                                           \
        return r;                                                                        \
    }                                                                                    \
    static inline uint##N##_t dec##N(cpu_t *c, uint##N##_t a, uint##N##_t u)             \
    {                                                                                    \
        uint##N##_t r = (uint##N##_t)(a - 1);                                            \
        flags_dec##N(c, a, r);                                                           \
        return r;                                                                        \
    }                                                                                    \
    static inline uint##N##_t neg##N(cpu_t *c, uint##N##_t a, uint##N##_t u)             \
    {                                                                                    \
        uint##N##_t r = (uint##N##_t)(0 - a);                                            \
        flags_sub##N(c, 0, a, r);                                                        \
        return r;                                                                        \
    }                                                                                    \
    static inline uint##N##_t not##N(cpu_t *c, uint##N##_t a, uint##N##_t u) { return (uint##N##_t)~a; }
BIN_FNS(8)
BIN_FNS(16)
BIN_FNS(32)
BIN_FNS(64)

/* ---- handlers for the binary rows: op, whether the result is stored ---- */
#define BIN_OPS(X) X(add, 1) X(or, 1) X(adc, 1) X(sbb, 1) X(and, 1) X(sub, 1) X(xor, 1) X(cmp, 0)

#define BIN_HANDLERS(op, wb)                                                             \
    void op_##op##_EbGb(cpu_t *c, const dinsn_t *d)                                      \
    {                                                                                    \
        RMW_RM(8, op, wb, c, &d->i, reg8_get(c, &d->i, d->i.reg));                       \
    }                                                                                    \
    HANDLER_VARIANTS(op_##op##_EvGv, RMW_RM, op, wb, c, &d->i, c->gpr[d->i.reg])         \
    void op_##op##_GbEb(cpu_t *c, const dinsn_t *d)                                      \
    {                                                                                    \
        RMW_REG(8, op, wb, c, &d->i, d->i.reg, RM_GET(8, c, &d->i));                     \
    }                                                                                    \
    HANDLER_VARIANTS(op_##op##_GvEv, RMW_REG_RM, op, wb, c, &d->i, d->i.reg)             \
    /* AL,Ib and rAX,Iz */                                                               \
    void op_##op##_ALIb(cpu_t *c, const dinsn_t *d)                                      \
    {                                                                                    \
        RMW_REG(8, op, wb, c, &d->i, R_RAX, d->i.imm);                                   \
    }                                                                                    \
    void op_##op##_rAXIz(cpu_t *c, const dinsn_t *d)                                     \
    {                                                                                    \
        BY_OSIZE(d, RMW_REG, op, wb, c, &d->i, R_RAX, d->i.imm);                         \
    }                                                                                    \
    /* Eb,Ib (80, 82) and Ev,Iz / Ev,Ibs (81, 83): the decoder sign-extends Ibs */       \
    void op_##op##_EbIb(cpu_t *c, const dinsn_t *d) { RMW_RM(8, op, wb, c, &d->i, d->i.imm); } \
    HANDLER_VARIANTS(op_##op##_EvI, RMW_RM, op, wb, c, &d->i, d->i.imm)
BIN_OPS(BIN_HANDLERS)

/* TEST: AND without the store. */
void op_test_EbGb(cpu_t *c, const dinsn_t *d) { RMW_RM(8, test, 0, c, &d->i, reg8_get(c, &d->i, d->i.reg)); }
HANDLER_VARIANTS(op_test_EvGv, RMW_RM, test, 0, c, &d->i, c->gpr[d->i.reg])
void op_test_ALIb(cpu_t *c, const dinsn_t *d) { RMW_REG(8, test, 0, c, &d->i, R_RAX, d->i.imm); }
void op_test_rAXIz(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, RMW_REG, test, 0, c, &d->i, R_RAX, d->i.imm); }
void op_test_EbIb(cpu_t *c, const dinsn_t *d) { RMW_RM(8, test, 0, c, &d->i, d->i.imm); }
HANDLER_VARIANTS(op_test_EvI, RMW_RM, test, 0, c, &d->i, d->i.imm)

/* INC DEC NOT NEG: r/m forms, and 40+r / 48+r (register in ModRM.reg's place). */
#define UNARY_HANDLERS(op)                                                               \
    void op_##op##_Eb(cpu_t *c, const dinsn_t *d) { RMW_RM(8, op, 1, c, &d->i, 0); }     \
    void op_##op##_Ev(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, RMW_RM, op, 1, c, &d->i, 0); }
UNARY_HANDLERS(inc)
UNARY_HANDLERS(dec)
UNARY_HANDLERS(not)
UNARY_HANDLERS(neg)
void op_inc_Zv(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, RMW_REG, inc, 1, c, &d->i, d->i.reg, 0); }
void op_dec_Zv(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, RMW_REG, dec, 1, c, &d->i, d->i.reg, 0); }

/* ---- MUL / IMUL (SDM Vol. 2 "MUL", "IMUL"): CF = OF = the high half is
 * significant; SF ZF AF PF are undefined: as on Intel processors, SF and PF
 * follow the low half, ZF and AF are 0. ---- */
void op_mul_Eb(cpu_t *c, const dinsn_t *d)
{
    uint16_t r = (uint16_t)((uint8_t)c->gpr[R_RAX] * RM_GET(8, c, &d->i));
    unsigned hi = (r >> 8) != 0;
    c->gpr[R_RAX] = (c->gpr[R_RAX] & ~0xffffull) | r;
    flags_res8(c, (uint8_t)r, hi, hi, 0);
    flag_clear_zf(c);
}
void op_imul_Eb(cpu_t *c, const dinsn_t *d)
{
    int16_t r = (int16_t)((int8_t)c->gpr[R_RAX] * (int8_t)RM_GET(8, c, &d->i));
    unsigned hi = r != (int8_t)r;
    c->gpr[R_RAX] = (c->gpr[R_RAX] & ~0xffffull) | (uint16_t)r;
    flags_res8(c, (uint8_t)r, hi, hi, 0);
    flag_clear_zf(c);
}

/* Widening multiplies: N-bit operands, 2N-bit product into rDX:rAX. W is the
 * product type (the next size up, unsigned __int128 for 64). */
#define MUL_N(N, W, SW)                                                                  \
    static void mul##N(cpu_t *c, const dinsn_t *d)                                       \
    {                                                                                    \
        W p = (W)REG_GET(N, c, &d->i, R_RAX) * RM_GET(N, c, &d->i);                      \
        uint##N##_t lo = (uint##N##_t)p, hi = (uint##N##_t)(p >> N);                     \
        reg_set(c, &d->i, R_RAX, N / 8, lo);                                             \
        reg_set(c, &d->i, R_RDX, N / 8, hi);                                             \
        flags_res##N(c, lo, hi != 0, hi != 0, 0);                                        \
        flag_clear_zf(c);                                                                \
    }                                                                                    \
    static void imul##N(cpu_t *c, const dinsn_t *d)                                      \
    {                                                                                    \
        SW p = (SW)(int##N##_t)REG_GET(N, c, &d->i, R_RAX) * (int##N##_t)RM_GET(N, c, &d->i); \
        uint##N##_t lo = (uint##N##_t)p, hi = (uint##N##_t)((W)p >> N);                  \
        unsigned ovf = p != (int##N##_t)lo;                                              \
        reg_set(c, &d->i, R_RAX, N / 8, lo);                                             \
        reg_set(c, &d->i, R_RDX, N / 8, hi);                                             \
        flags_res##N(c, lo, ovf, ovf, 0);                                                \
        flag_clear_zf(c);                                                                \
    }                                                                                    \
    /* IMUL r, r/m(, imm): truncated product */                                          \
    static void imul2_##N(cpu_t *c, const dinsn_t *d, uint##N##_t a, uint##N##_t b)      \
    {                                                                                    \
        SW p = (SW)(int##N##_t)a * (int##N##_t)b;                                        \
        uint##N##_t lo = (uint##N##_t)p;                                                 \
        unsigned ovf = p != (int##N##_t)lo;                                              \
        reg_set(c, &d->i, d->i.reg, N / 8, lo);                                          \
        flags_res##N(c, lo, ovf, ovf, 0);                                                \
        flag_clear_zf(c);                                                                \
    }
MUL_N(16, uint32_t, int32_t)
MUL_N(32, uint64_t, int64_t)
MUL_N(64, unsigned __int128, __int128)

#define CALL_MUL(N, fn) fn##N(c, d)
#define CALL_IMUL2(N, ...) imul2_##N(c, d, REG_GET(N, c, &d->i, d->i.reg), RM_GET(N, c, &d->i))
#define CALL_IMUL3(N, b) imul2_##N(c, d, RM_GET(N, c, &d->i), (uint##N##_t)(b))
void op_mul_Ev(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, CALL_MUL, mul); }
void op_imul_Ev(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, CALL_MUL, imul); }
void op_imul_GvEv(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, CALL_IMUL2, _); }
void op_imul_GvEvI(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, CALL_IMUL3, d->i.imm); }

/* ---- DIV / IDIV (SDM Vol. 2 "DIV", "IDIV"): #DE on a zero divisor and when the
 * quotient does not fit; flags are undefined and left as they were. ---- */
void op_div_Eb(cpu_t *c, const dinsn_t *d)
{
    uint8_t s = RM_GET(8, c, &d->i);
    uint16_t n = (uint16_t)c->gpr[R_RAX];
    if (s == 0 || n / s > 0xff)
        cpu_fault(c, EXC_DE);
    c->gpr[R_RAX] = (c->gpr[R_RAX] & ~0xffffull) | (uint16_t)((n % s) << 8 | n / s);
}

/* Signed division on magnitudes, so no host overflow is possible: returns false
 * if the quotient does not fit in an N-bit signed value. */
static inline bool sdiv_fit(unsigned __int128 un, bool nneg, uint64_t ud, bool dneg, int N,
                            uint64_t *q, uint64_t *r)
{
    unsigned __int128 uq = un / ud;
    uint64_t ur = (uint64_t)(un % ud);
    bool qneg = nneg != dneg;
    if (uq > ((unsigned __int128)1 << (N - 1)) - !qneg)
        return false;
    *q = qneg ? 0 - (uint64_t)uq : (uint64_t)uq;
    *r = nneg ? 0 - ur : ur;
    return true;
}

void op_idiv_Eb(cpu_t *c, const dinsn_t *d)
{
    int8_t s = (int8_t)RM_GET(8, c, &d->i);
    int16_t n = (int16_t)c->gpr[R_RAX];
    uint64_t q, r;
    if (s == 0 || !sdiv_fit((uint16_t)(n < 0 ? -n : n), n < 0, (uint8_t)(s < 0 ? -s : s), s < 0, 8, &q, &r))
        cpu_fault(c, EXC_DE);
    c->gpr[R_RAX] = (c->gpr[R_RAX] & ~0xffffull) | (uint16_t)((uint8_t)r << 8 | (uint8_t)q);
}

/* N-bit divisor, 2N-bit dividend rDX:rAX; W is the 2N-bit unsigned type. */
#define DIV_N(N, W)                                                                      \
    static void div##N(cpu_t *c, const dinsn_t *d)                                       \
    {                                                                                    \
        uint##N##_t s = RM_GET(N, c, &d->i);                                             \
        uint##N##_t hi = REG_GET(N, c, &d->i, R_RDX), lo = REG_GET(N, c, &d->i, R_RAX);  \
        if (s == 0 || hi >= s) /* hi >= s: the quotient needs more than N bits */        \
            cpu_fault(c, EXC_DE);                                                        \
        W n = (W)hi << N | lo;                                                           \
        reg_set(c, &d->i, R_RAX, N / 8, (uint##N##_t)(n / s));                           \
        reg_set(c, &d->i, R_RDX, N / 8, (uint##N##_t)(n % s));                           \
    }                                                                                    \
    static void idiv##N(cpu_t *c, const dinsn_t *d)                                      \
    {                                                                                    \
        int##N##_t s = (int##N##_t)RM_GET(N, c, &d->i);                                  \
        W n = (W)REG_GET(N, c, &d->i, R_RDX) << N | REG_GET(N, c, &d->i, R_RAX);         \
        bool nneg = (n >> (2 * N - 1)) & 1;                                              \
        W un = nneg ? (W)0 - n : n; /* 2N-bit magnitude; -2^(2N-1) stays itself */       \
        uint64_t ud = s < 0 ? 0 - (uint64_t)(int64_t)s : (uint64_t)s, q, r;              \
        if (s == 0 || !sdiv_fit(un, nneg, ud, s < 0, N, &q, &r))                         \
            cpu_fault(c, EXC_DE);                                                        \
        reg_set(c, &d->i, R_RAX, N / 8, (uint##N##_t)q);                                 \
        reg_set(c, &d->i, R_RDX, N / 8, (uint##N##_t)r);                                 \
    }
DIV_N(16, uint32_t)
DIV_N(32, uint64_t)
DIV_N(64, unsigned __int128)

void op_div_Ev(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, CALL_MUL, div); }
void op_idiv_Ev(cpu_t *c, const dinsn_t *d) { BY_OSIZE(d, CALL_MUL, idiv); }

/* ---- ADCX / ADOX (SDM Vol. 2 "ADCX", "ADOX"): unsigned add with carry through
 * CF (ADCX) or OF (ADOX) alone; the other flags keep their values. ---- */
#define ADX_N(N)                                                                         \
    static inline uint##N##_t adx##N(uint##N##_t a, uint##N##_t b, unsigned cin, unsigned *cout) \
    {                                                                                    \
        uint##N##_t r = (uint##N##_t)(a + b + cin);                                      \
        *cout = (r < a) | ((r == a) & cin);                                              \
        return r;                                                                        \
    }
ADX_N(32)
ADX_N(64)
void op_adcx_GyEy(cpu_t *c, const dinsn_t *d)
{
    unsigned co;
    need_feature(c, FEAT_ADX);
    if (d->i.osize == 8) {
        uint64_t r = adx64(c->gpr[d->i.reg], RM_GET(64, c, &d->i), flag_cf(c), &co);
        c->gpr[d->i.reg] = r;
    } else {
        uint32_t r = adx32((uint32_t)c->gpr[d->i.reg], RM_GET(32, c, &d->i), flag_cf(c), &co);
        c->gpr[d->i.reg] = r;
    }
    flag_set_cf(c, co);
}
void op_adox_GyEy(cpu_t *c, const dinsn_t *d)
{
    unsigned co;
    need_feature(c, FEAT_ADX);
    if (d->i.osize == 8) {
        uint64_t r = adx64(c->gpr[d->i.reg], RM_GET(64, c, &d->i), flag_of(c), &co);
        c->gpr[d->i.reg] = r;
    } else {
        uint32_t r = adx32((uint32_t)c->gpr[d->i.reg], RM_GET(32, c, &d->i), flag_of(c), &co);
        c->gpr[d->i.reg] = r;
    }
    flag_set_of(c, co);
}

/* ---- BCD adjustments (SDM Vol. 2 "DAA", "DAS", "AAA", "AAS", "AAM", "AAD"),
 * invalid in 64-bit mode (the decoder's I64). Where the SDM leaves a flag
 * undefined: OF = 0 and SF ZF PF from AL. ---- */
static inline void set_al(cpu_t *c, uint8_t al) { c->gpr[R_RAX] = (c->gpr[R_RAX] & ~0xffull) | al; }
static inline void set_ax(cpu_t *c, uint16_t ax) { c->gpr[R_RAX] = (c->gpr[R_RAX] & ~0xffffull) | ax; }

void op_daa(cpu_t *c, const dinsn_t *d)
{
    uint8_t old_al = (uint8_t)c->gpr[R_RAX], al = old_al;
    unsigned old_cf = flag_cf(c), cf, af = (al & 0xf) > 9 || flag_af(c);
    if (af)
        al += 6;
    cf = old_al > 0x99 || old_cf;
    if (cf)
        al += 0x60;
    set_al(c, al);
    flags_res8(c, al, cf, 0, af);
}
void op_das(cpu_t *c, const dinsn_t *d)
{
    uint8_t old_al = (uint8_t)c->gpr[R_RAX], al = old_al;
    unsigned old_cf = flag_cf(c), cf = 0, af = (al & 0xf) > 9 || flag_af(c);
    if (af) {
        cf = old_cf || al < 6; /* borrow from AL - 6 */
        al -= 6;
    }
    if (old_al > 0x99 || old_cf) {
        al -= 0x60;
        cf = 1;
    }
    set_al(c, al);
    flags_res8(c, al, cf, 0, af);
}
void op_aaa(cpu_t *c, const dinsn_t *d)
{
    uint16_t ax = (uint16_t)c->gpr[R_RAX];
    unsigned adj = (ax & 0xf) > 9 || flag_af(c);
    if (adj)
        ax += 0x106;
    ax &= 0xff0f;
    set_ax(c, ax);
    flags_res8(c, (uint8_t)ax, adj, 0, adj);
}
void op_aas(cpu_t *c, const dinsn_t *d)
{
    uint16_t ax = (uint16_t)c->gpr[R_RAX];
    unsigned adj = (ax & 0xf) > 9 || flag_af(c);
    if (adj)
        ax = (uint16_t)(ax - 6 - 0x100);
    ax &= 0xff0f;
    set_ax(c, ax);
    flags_res8(c, (uint8_t)ax, adj, 0, adj);
}
void op_aam_Ib(cpu_t *c, const dinsn_t *d)
{
    uint8_t base = (uint8_t)d->i.imm, al = (uint8_t)c->gpr[R_RAX];
    if (base == 0)
        cpu_fault(c, EXC_DE);
    set_ax(c, (uint16_t)((al / base) << 8 | (al % base)));
    flags_res8(c, al % base, 0, 0, 0);
}
void op_aad_Ib(cpu_t *c, const dinsn_t *d)
{
    uint16_t ax = (uint16_t)c->gpr[R_RAX];
    uint8_t al = (uint8_t)((ax & 0xff) + (ax >> 8) * (uint8_t)d->i.imm);
    set_ax(c, al);
    flags_res8(c, al, 0, 0, 0);
}
/* SALC (D6, undocumented): AL = CF ? FF : 00, flags unchanged. */
void op_salc(cpu_t *c, const dinsn_t *d) { set_al(c, (uint8_t)(0 - flag_cf(c))); }

/* ---- flag instructions ---- */
void op_clc(cpu_t *c, const dinsn_t *d) { flag_set_cf(c, 0); }
void op_stc(cpu_t *c, const dinsn_t *d) { flag_set_cf(c, 1); }
void op_cmc(cpu_t *c, const dinsn_t *d) { flag_set_cf(c, flag_cf(c) ^ 1); }
void op_cld(cpu_t *c, const dinsn_t *d) { c->rflags &= ~(uint64_t)F_DF; }
void op_std(cpu_t *c, const dinsn_t *d) { c->rflags |= F_DF; }
/* LAHF/SAHF: AH <-> SF:ZF:0:AF:0:PF:1:CF; SAHF leaves OF alone. In 64-bit mode
 * they need CPUID.80000001H:ECX.LAHF-SAHF[bit 0]. */
static inline void lahf_ok(cpu_t *c)
{
    if (c->mode == MODE_LONG64)
        need_feature(c, FEAT_LAHF_LM);
}
void op_lahf(cpu_t *c, const dinsn_t *d)
{
    lahf_ok(c);
    uint64_t ah = (cpu_get_arith(c) & 0xd5) | 2;
    c->gpr[R_RAX] = (c->gpr[R_RAX] & ~0xff00ull) | ah << 8;
}
void op_sahf(cpu_t *c, const dinsn_t *d)
{
    lahf_ok(c);
    uint64_t ah = (c->gpr[R_RAX] >> 8) & 0xd5;
    cpu_set_arith(c, (cpu_get_arith(c) & F_OF) | ah);
}

/* ---- BOUND (SDM Vol. 2 "BOUND"): #BR (a fault) unless lower <= index <= upper,
 * signed, the two bounds being operand-size words at the memory operand. Invalid
 * in 64-bit mode (the decoder's I64). ---- */
void op_bound_GvMa(cpu_t *c, const dinsn_t *d)
{
    int n = d->i.osize == 2 ? 2 : 4;
    uint64_t la = insn_lin(c, &d->i, 2 * n, ACC_READ);
    int64_t lo, hi, idx;
    if (n == 2) {
        lo = (int16_t)lin_read16(c, la);
        hi = (int16_t)lin_read16(c, la + 2);
        idx = (int16_t)c->gpr[d->i.reg];
    } else {
        lo = (int32_t)lin_read32(c, la);
        hi = (int32_t)lin_read32(c, la + 4);
        idx = (int32_t)c->gpr[d->i.reg];
    }
    if (idx < lo || idx > hi)
        cpu_fault(c, EXC_BR);
}
