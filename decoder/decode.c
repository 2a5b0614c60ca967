/* decode.c - the x86-64 instruction decoder: x86_decode() and x86_insn_name().
 *
 * Driven entirely by decoder/opcodes.def. At start-up (a constructor) the rows are
 * sorted into per-opcode candidate lists, most specific first; decoding is then
 * prefixes -> opcode map -> ModRM/SIB/displacement -> the first candidate row
 * whose selectors match -> immediates. References are to the Intel SDM Vol. 2,
 * Chapter 2 "Instruction Format" and Appendix A "Opcode Map".
 */
#include "decoder/decode.h"

#include <stdlib.h>
#include <string.h>

/* ---- row vocabulary: the tokens opcodes.def uses ---- */

/* Operand kinds (a row's three operands are OR-ed together). */
enum {
    K_MODRM = 1 << 0,  /* needs a ModRM byte */
    K_MEM = 1 << 1,    /* memory only: mod == 3 does not match */
    K_REG = 1 << 2,    /* register only: mod != 3 does not match */
    K_MODIGN = 1 << 3, /* MOV CRn/DRn: mod is ignored, the r/m is always a register */
    K_VSIB = 1 << 4,   /* VSIB memory: needs a SIB byte */
    K_IB = 1 << 5,     /* imm8, zero-extended */
    K_IBS = 1 << 6,    /* imm8, sign-extended */
    K_IW = 1 << 7,     /* imm16 */
    K_IZ = 1 << 8,     /* imm16/32 by operand size, sign-extended to 64 with osize 8 */
    K_IV = 1 << 9,     /* imm16/32/64 by operand size */
    K_JB = 1 << 10,    /* rel8 */
    K_JZ = 1 << 11,    /* rel16/32 */
    K_MOFFS = 1 << 12, /* address-sized absolute offset */
    K_AP = 1 << 13,    /* far pointer ptr16:16/32 */
};
#define E_ K_MODRM
#define M_ (K_MODRM | K_MEM)
#define R_ (K_MODRM | K_REG)
#define OPK___ 0
#define OPK_1 0
#define OPK_AL 0
#define OPK_AX 0
#define OPK_CL 0
#define OPK_DX 0
#define OPK_eAX 0
#define OPK_rAX 0
#define OPK_ES 0
#define OPK_CS 0
#define OPK_SS 0
#define OPK_DS 0
#define OPK_FS 0
#define OPK_GS 0
#define OPK_Zb 0
#define OPK_Zv 0
#define OPK_ST0 0
#define OPK_XMM0 0
#define OPK_Hx 0
#define OPK_Hqq 0
#define OPK_By 0
#define OPK_Eb E_
#define OPK_Ew E_
#define OPK_Ed E_
#define OPK_Ev E_
#define OPK_Ey E_
#define OPK_Gb E_
#define OPK_Gw E_
#define OPK_Gd E_
#define OPK_Gv E_
#define OPK_Gy E_
#define OPK_Gz E_
#define OPK_Sw E_
#define OPK_Cd (E_ | K_MODIGN)
#define OPK_Dd (E_ | K_MODIGN)
#define OPK_Pq E_
#define OPK_Ppi E_
#define OPK_Qd E_
#define OPK_Qq E_
#define OPK_Qpi E_
#define OPK_Vx E_
#define OPK_Vq E_
#define OPK_Vy E_
#define OPK_Vdq E_
#define OPK_Vqq E_
#define OPK_Vps E_
#define OPK_Vpd E_
#define OPK_Vss E_
#define OPK_Vsd E_
#define OPK_Wb E_
#define OPK_Ww E_
#define OPK_Wd E_
#define OPK_Wq E_
#define OPK_Wx E_
#define OPK_Wdq E_
#define OPK_Wqq E_
#define OPK_Wps E_
#define OPK_Wpd E_
#define OPK_Wss E_
#define OPK_Wsd E_
#define OPK_M M_
#define OPK_Ma M_
#define OPK_Mb M_
#define OPK_Mw M_
#define OPK_Md M_
#define OPK_Mq M_
#define OPK_Mt M_
#define OPK_Mv M_
#define OPK_My M_
#define OPK_Mp M_
#define OPK_Ms M_
#define OPK_Mx M_
#define OPK_Mdq M_
#define OPK_Mps M_
#define OPK_Mpd M_
#define OPK_Mvsib (M_ | K_VSIB)
#define OPK_Rv R_
#define OPK_Ry R_
#define OPK_Nq R_
#define OPK_Uq R_
#define OPK_Ux R_
#define OPK_Udq R_
#define OPK_Ups R_
#define OPK_Upd R_
#define OPK_Uss R_
#define OPK_Usd R_
#define OPK_STi R_
#define OPK_Ib K_IB
#define OPK_Ibs K_IBS
#define OPK_Iw K_IW
#define OPK_Iz K_IZ
#define OPK_Iv K_IV
#define OPK_Jb K_JB
#define OPK_Jz K_JZ
#define OPK_Ob K_MOFFS
#define OPK_Ov K_MOFFS
#define OPK_Ap K_AP

/* Selectors: ModRM reg in bits 5:3 and rm in 2:0, compared under the kind's mask. */
enum {
    S_R = 1 << 6,     /* ModRM.reg must match */
    S_RM = 1 << 7,    /* ModRM.reg and ModRM.rm must match */
    S_MEM = 1 << 8,   /* mod != 3 */
    S_REG = 1 << 9,   /* mod == 3 */
    S_PLUSR = 1 << 10 /* the row covers opc..opc+7 */
};
#define SEL_ANY 0
#define SEL_PLUSR S_PLUSR
#define SEL_R(n) (S_R | ((n) << 3))
#define SEL_M(n) (S_R | S_MEM | ((n) << 3))
#define SEL_R3(n) (S_R | S_REG | ((n) << 3))
#define SEL_RM(n, m) (S_RM | S_REG | ((n) << 3) | (m))

/* Mandatory-prefix classes; VEX-only rows add P_VEX. */
enum { P_ANY = 0, P_NP = 1, P_66 = 2, P_F3 = 3, P_F2 = 4, P_VEX = 8 };
#define PFX_ANYP P_ANY
#define PFX_NP P_NP
#define PFX_P66 P_66
#define PFX_PF3 P_F3
#define PFX_PF2 P_F2
#define PFX_VNP (P_NP | P_VEX)
#define PFX_V66 (P_66 | P_VEX)
#define PFX_VF3 (P_F3 | P_VEX)
#define PFX_VF2 (P_F2 | P_VEX)

#define MAP_1B X86_MAP_1B
#define MAP_0F X86_MAP_0F
#define MAP_0F38 X86_MAP_0F38
#define MAP_0F3A X86_MAP_0F3A

/* Row flags (decode.h). */
enum {
    F_I64 = X86_F_I64, F_O64 = X86_F_O64, F_D64 = X86_F_D64, F_F64 = X86_F_F64, F_LOCK = X86_F_LOCK,
    F_BYTE = X86_F_BYTE, F_END = X86_F_END, F_VNDS = X86_F_VNDS, F_VNV = X86_F_VNV, F_VL0 = X86_F_VL0,
    F_VL1 = X86_F_VL1, F_VW0 = X86_F_VW0, F_VW1 = X86_F_VW1, F_COND = X86_F_COND,
};

struct row {
    uint16_t opk;   /* OR of the operands' K_* */
    uint16_t flags; /* F_* */
    uint16_t sel;   /* SEL_* */
    uint8_t map, opc, pfx;
};

static const struct row rows[XI_COUNT] = {
#define I64 F_I64
#define O64 F_O64
#define D64 F_D64
#define F64 F_F64
#define LOCK F_LOCK
#define BYTE F_BYTE
#define END F_END
#define COND F_COND
#define VNDS F_VNDS
#define VNV F_VNV
#define VL0 F_VL0
#define VL1 F_VL1
#define VW0 F_VW0
#define VW1 F_VW1
#define ANY SEL_ANY
#define PLUSR SEL_PLUSR
#define R(n) SEL_R(n)
#define M(n) SEL_M(n)
#define R3(n) SEL_R3(n)
#define RM(n, m) SEL_RM(n, m)
#define X(id, map_, opc_, sel_, pfx_, o1, o2, o3, flags_)                                        \
    [XI_##id] = {.opk = OPK_##o1 | OPK_##o2 | OPK_##o3,                                         \
                 .flags = flags_, .sel = sel_, .map = MAP_##map_, .opc = opc_, .pfx = PFX_##pfx_},
#include "decoder/opcodes.def"
#undef X
#undef I64
#undef O64
#undef D64
#undef F64
#undef LOCK
#undef BYTE
#undef END
#undef COND
#undef VNDS
#undef VNV
#undef VL0
#undef VL1
#undef VW0
#undef VW1
#undef ANY
#undef PLUSR
#undef R
#undef M
#undef R3
#undef RM
};

static const char *const names[XI_COUNT] = {
#define X(id, ...) #id,
#include "decoder/opcodes.def"
#undef X
};

/* ---- lookup tables built at start-up ---- */

/* Per (map, opcode) slot: candidate rows [first, first + count) of cand[], most
 * specific first, and whether the slot has a ModRM byte. */
struct slot {
    uint16_t first;
    uint8_t count;
    uint8_t modrm;
};
static struct slot slots[4 * 256];
static uint16_t cand[XI_COUNT * 8]; /* PLUSR rows occupy 8 slots */
static char lname[XI_COUNT][24];    /* lower-case mnemonics */

/* How specific a row is: a mandatory prefix beats none; then exact ModRM (RM)
 * over reg+mod (R3/M) over reg (R) over mod constraints from operands over nothing. */
static int specificity(const struct row *r)
{
    int s = (r->pfx & 7) != P_ANY ? 16 : 0;
    if (r->sel & S_RM)
        s += 8;
    else if (r->sel & S_R)
        s += (r->sel & (S_MEM | S_REG)) ? 6 : 4;
    else if (r->opk & (K_MEM | K_REG))
        s += 2;
    if (r->flags & (F_VL0 | F_VL1 | F_VW0 | F_VW1))
        s += 1;
    return s;
}

static int by_specificity(const void *a, const void *b)
{
    const struct row *ra = &rows[*(const uint16_t *)a], *rb = &rows[*(const uint16_t *)b];
    int d = specificity(rb) - specificity(ra);
    return d ? d : (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

__attribute__((constructor)) static void decode_init(void)
{
    static uint8_t count[4 * 256];
    for (unsigned i = 0; i < XI_COUNT; i++) {
        const struct row *r = &rows[i];
        unsigned n = (r->sel & S_PLUSR) ? 8 : 1;
        for (unsigned k = 0; k < n; k++)
            count[r->map * 256 + r->opc + k]++;
    }
    unsigned pos = 0;
    for (unsigned s = 0; s < 4 * 256; s++) {
        slots[s].first = (uint16_t)pos;
        pos += count[s];
    }
    for (unsigned i = 0; i < XI_COUNT; i++) {
        const struct row *r = &rows[i];
        unsigned n = (r->sel & S_PLUSR) ? 8 : 1;
        for (unsigned k = 0; k < n; k++) {
            struct slot *sl = &slots[r->map * 256 + r->opc + k];
            cand[sl->first + sl->count++] = (uint16_t)i;
            /* Every VEX-encoded form except VZEROUPPER/VZEROALL has a ModRM byte;
             * the rows' operands say so, and the selectors imply it. */
            if ((r->opk & K_MODRM) || (r->sel & (S_R | S_RM)))
                sl->modrm = 1;
        }
    }
    for (unsigned s = 0; s < 4 * 256; s++)
        qsort(&cand[slots[s].first], slots[s].count, sizeof cand[0], by_specificity);
    for (unsigned i = 0; i < XI_COUNT; i++) {
        size_t k = 0;
        /* the mnemonic is the id up to the first '_' */
        for (const char *p = names[i]; *p && *p != '_' && k + 1 < sizeof lname[i]; p++)
            lname[i][k++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        lname[i][k] = 0;
    }
}

const char *x86_insn_name(unsigned id)
{
    return id < XI_COUNT ? lname[id] : "?";
}

/* ---- the decoder ---- */

/* Prefix classes for the legacy-prefix scan. */
enum { PC_NONE = 0, PC_SEG, PC_66, PC_67, PC_LOCK, PC_REP, PC_REX };
static const uint8_t prefix_class[256] = {
    [0x26] = PC_SEG, [0x2e] = PC_SEG, [0x36] = PC_SEG, [0x3e] = PC_SEG,
    [0x64] = PC_SEG, [0x65] = PC_SEG, [0x66] = PC_66,  [0x67] = PC_67,
    [0xf0] = PC_LOCK, [0xf2] = PC_REP, [0xf3] = PC_REP,
    [0x40] = PC_REX, [0x41] = PC_REX, [0x42] = PC_REX, [0x43] = PC_REX,
    [0x44] = PC_REX, [0x45] = PC_REX, [0x46] = PC_REX, [0x47] = PC_REX,
    [0x48] = PC_REX, [0x49] = PC_REX, [0x4a] = PC_REX, [0x4b] = PC_REX,
    [0x4c] = PC_REX, [0x4d] = PC_REX, [0x4e] = PC_REX, [0x4f] = PC_REX,
};
static const uint8_t seg_of_prefix[8] = {
    /* (b >> 3) & 7 for 26/2E/36/3E; 64/65 handled apart */
    [4] = X86_ES, [5] = X86_CS, [6] = X86_SS, [7] = X86_DS,
};

/* 16-bit ModRM addressing (SDM Vol. 2 Table 2-1 "16-Bit Addressing Forms with the ModR/M Byte"). */
static const uint8_t base16[8] = {3, 3, 5, 5, 6, 7, 5, 3};                      /* BX BX BP BP SI DI BP BX */
static const uint8_t index16[8] = {6, 7, 6, 7, X86_NOREG, X86_NOREG, X86_NOREG, X86_NOREG}; /* SI DI SI DI */

/* Fetch cursor: n more bytes needed at p. */
#define NEED(n)                                                                                   \
    do {                                                                                          \
        if (p + (n) > 15)                                                                         \
            return X86_ERR_LONG;                                                                  \
        if (p + (n) > avail)                                                                      \
            return X86_ERR_SHORT;                                                                 \
    } while (0)

static inline uint64_t rd(const uint8_t *b, int n)
{
    uint64_t v = 0;
    for (int k = n - 1; k >= 0; k--)
        v = (v << 8) | b[k];
    return v;
}

int x86_decode(x86_insn *out, const uint8_t *buf, size_t avail, enum x86_mode mode)
{
    x86_insn d;
    memset(&d, 0, sizeof d);
    size_t p = 0;
    unsigned rex = 0, last_rep = 0, seg = 0xff, vex = 0;
    unsigned vex_w = 0, vex_pp = 0;
    const int m64 = mode == X86_M64;

    /* ---- legacy prefixes and REX (SDM 2.1.1 "Instruction Prefixes", 2.2.1 "REX Prefixes") ---- */
    for (;;) {
        NEED(1);
        uint8_t b = buf[p];
        unsigned pc = prefix_class[b];
        if (pc == PC_NONE || (pc == PC_REX && !m64))
            break;
        p++;
        if (pc == PC_REX) {
            rex = b; /* only counts if the opcode follows directly; a later REX replaces it */
            continue;
        }
        rex = 0; /* a REX followed by a legacy prefix is ignored */
        switch (pc) {
        case PC_SEG: seg = b >= 0x64 ? (unsigned)(X86_FS + (b - 0x64)) : seg_of_prefix[(b >> 3) & 7]; break;
        case PC_66: d.pfx |= X86_PFX_OPSIZE; break;
        case PC_67: d.pfx |= X86_PFX_ADSIZE; break;
        case PC_LOCK: d.pfx |= X86_PFX_LOCK; break;
        default: last_rep = b; break;
        }
    }

    /* ---- opcode map, VEX (SDM 2.3.5 "The VEX Prefix") ---- */
    unsigned map = X86_MAP_1B;
    uint8_t opc = buf[p++];
    if (opc == 0xc4 || opc == 0xc5) {
        NEED(1); /* outside 64-bit mode, C4/C5 are LES/LDS unless ModRM.mod would be 11b */
        vex = m64 || (buf[p] & 0xc0) == 0xc0;
    }
    unsigned vvvv = 0;
    if (vex) {
        /* VEX after 66, F2, F3, LOCK or REX is #UD (SDM 2.3.2-2.3.4 "VEX and the LOCK/66H, F2H, F3H/REX prefix") */
        if (rex || last_rep || (d.pfx & (X86_PFX_OPSIZE | X86_PFX_LOCK)))
            return X86_ERR_UD;
        unsigned b1 = buf[p++], b2;
        if (opc == 0xc5) {
            b2 = b1;
            rex = 0x40 | ((~b1 >> 5) & 4); /* R */
            map = X86_MAP_0F;
        } else {
            NEED(1);
            b2 = buf[p++];
            map = b1 & 0x1f;
            if (map < X86_MAP_0F || map > X86_MAP_0F3A)
                return X86_ERR_UD;
            rex = 0x40 | ((~b1 >> 5) & 7) | ((b2 >> 4) & 8); /* R X B W */
            if (!m64)
                rex &= ~1u; /* VEX.B is ignored outside 64-bit mode */
            vex_w = b2 >> 7;
        }
        vvvv = (~b2 >> 3) & 15;
        d.vex_v = (uint8_t)(m64 ? vvvv : vvvv & 7); /* bit 3 is ignored outside 64-bit mode */
        d.vex_l = (uint8_t)((b2 >> 2) & 1);
        vex_pp = b2 & 3;
        d.pfx |= X86_PFX_VEX;
        if (!m64)
            rex &= ~8u; /* VEX.W acts as REX.W (operand size) only in 64-bit mode */
        NEED(1);
        opc = buf[p++];
    } else if (opc == 0x0f) {
        NEED(1);
        opc = buf[p++];
        map = X86_MAP_0F;
        if (opc == 0x38 || opc == 0x3a) {
            map = opc == 0x38 ? X86_MAP_0F38 : X86_MAP_0F3A;
            NEED(1);
            opc = buf[p++];
        }
    }
    d.map = (uint8_t)map;
    d.opcode = opc;
    d.rex = (uint8_t)rex;
    if (rex && !vex)
        d.pfx |= X86_PFX_REX;

    const struct slot *sl = &slots[map * 256 + opc];
    if (!sl->count)
        return X86_ERR_UD;

    /* ---- address size and ModRM/SIB/displacement (SDM 2.1.5 "Addressing-Mode Encoding") ---- */
    int a67 = (d.pfx & X86_PFX_ADSIZE) != 0;
    d.asize = (uint8_t)(m64 ? (a67 ? 4 : 8) : (mode == X86_M32) != a67 ? 4 : 2);
    d.base = X86_NOREG;
    d.index = X86_NOREG;
    d.seg = X86_DS;
    d.mod = 3;
    if (sl->modrm) {
        NEED(1);
        d.modrm = buf[p++];
        d.mod = d.modrm >> 6;
        d.reg = (uint8_t)(((d.modrm >> 3) & 7) | ((rex & 4) << 1));
        d.rm = (uint8_t)((d.modrm & 7) | ((rex & 1) << 3));
        /* MOV to/from CRn/DRn ignores mod: always a register operand (SDM "MOV-Move to/from Control Registers") */
        if (map == X86_MAP_0F && !vex && opc >= 0x20 && opc <= 0x23)
            d.mod = 3;
        if (d.mod != 3) {
            unsigned rm = d.modrm & 7;
            if (d.asize == 2) {
                if (d.mod == 0 && rm == 6) {
                    NEED(2);
                    d.disp = (int16_t)rd(buf + p, 2);
                    p += 2;
                } else {
                    d.base = base16[rm];
                    d.index = index16[rm];
                    if (d.base == 5)
                        d.seg = X86_SS;
                }
            } else {
                unsigned base = rm;
                if (rm == 4) {
                    NEED(1);
                    uint8_t sib = buf[p++];
                    unsigned idx = ((sib >> 3) & 7) | ((rex & 2) << 2);
                    if (idx != 4)
                        d.index = (uint8_t)idx;
                    d.scale = sib >> 6;
                    base = sib & 7;
                    if (base == 5 && d.mod == 0) {
                        base = X86_NOREG;
                        NEED(4);
                        d.disp = (int32_t)rd(buf + p, 4);
                        p += 4;
                    }
                } else if (rm == 5 && d.mod == 0) {
                    base = m64 ? X86_RIP : X86_NOREG;
                    NEED(4);
                    d.disp = (int32_t)rd(buf + p, 4);
                    p += 4;
                }
                if (base < 8) {
                    base |= (rex & 1) << 3;
                    if (base == 4 || base == 5)
                        d.seg = X86_SS;
                }
                d.base = (uint8_t)base;
            }
            if (d.mod == 1) {
                NEED(1);
                d.disp = (int8_t)buf[p++];
            } else if (d.mod == 2) {
                int n = d.asize == 2 ? 2 : 4;
                NEED(n);
                d.disp = n == 2 ? (int16_t)rd(buf + p, 2) : (int32_t)rd(buf + p, 4);
                p += n;
            }
        }
    }

    /* ---- select the row (SDM Appendix A.2.5 "Superscripts Utilized in Opcode Tables", A.4 "Opcode Extensions") ---- */
    unsigned mp; /* the mandatory-prefix class in effect */
    if (vex)
        mp = vex_pp == 0 ? P_NP : vex_pp == 1 ? P_66 : vex_pp == 2 ? P_F3 : P_F2;
    else
        mp = last_rep == 0xf3 ? P_F3 : last_rep == 0xf2 ? P_F2 : (d.pfx & X86_PFX_OPSIZE) ? P_66 : P_NP;
    const int isreg = d.mod == 3;
    const uint16_t *c = &cand[sl->first], *ce = c + sl->count;
    const struct row *r = NULL;
    unsigned id = 0;
    for (; c < ce; c++) {
        const struct row *t = &rows[*c];
        unsigned tp = t->pfx;
        if (vex) {
            if (!(t->flags & (F_VNDS | F_VNV)) || (tp & 7) != mp)
                continue;
            if ((t->flags & F_VNV) && vvvv != 0) /* all four bits, in every mode */
                continue;
            if ((t->flags & F_VL0) && d.vex_l)
                continue;
            if ((t->flags & F_VL1) && !d.vex_l)
                continue;
            if ((t->flags & F_VW0) && vex_w)
                continue;
            if ((t->flags & F_VW1) && !vex_w)
                continue;
        } else if ((tp & P_VEX) || (tp != P_ANY && tp != mp)) {
            continue;
        }
        if (t->sel & (S_R | S_RM)) {
            unsigned mask = (t->sel & S_RM) ? 0x3f : 0x38;
            if ((d.modrm & mask) != (t->sel & mask))
                continue;
            if ((t->sel & S_MEM) && isreg)
                continue;
            if ((t->sel & S_REG) && !isreg)
                continue;
        }
        if (!(t->opk & K_MODIGN)) {
            if ((t->opk & K_MEM) && isreg)
                continue;
            if ((t->opk & K_REG) && !isreg)
                continue;
        }
        if ((t->flags & F_I64) && m64)
            continue;
        if ((t->flags & F_O64) && !m64)
            continue;
        /* 90 is NOP/PAUSE unless REX.B makes it XCHG r8, rAX */
        if (map == X86_MAP_1B && opc == 0x90 && (rex & 1) != ((t->sel & S_PLUSR) != 0))
            continue;
        r = t;
        id = *c;
        break;
    }
    if (!r)
        return X86_ERR_UD;
    d.id = (uint16_t)id;

    /* VSIB needs a SIB byte: ModRM.rm == 100b with 32/64-bit addressing */
    if ((r->opk & K_VSIB) && ((d.modrm & 7) != 4 || d.asize == 2))
        return X86_ERR_UD;
    /* LOCK only on LOCK forms with a memory destination (SDM "LOCK-Assert LOCK# Signal Prefix") */
    if ((d.pfx & X86_PFX_LOCK) && (!(r->flags & F_LOCK) || isreg))
        return X86_ERR_UD;
    /* Encodings that name no register: segment register 6/7 and MOV to CS (SDM "MOV-Move"),
     * CR1, CR5-CR7, CR9-CR15 and DR8-DR15 (SDM "MOV-Move to/from Control/Debug Registers"). */
    if (map == X86_MAP_1B && (opc == 0x8c || opc == 0x8e)) {
        unsigned sr = d.reg; /* with REX.R: Sreg 8-15 do not exist */
        if (sr > X86_GS || (opc == 0x8e && sr == X86_CS))
            return X86_ERR_UD;
    }
    if (map == X86_MAP_0F && !vex && (opc == 0x20 || opc == 0x22) &&
        !(d.reg == 0 || d.reg == 2 || d.reg == 3 || d.reg == 4 || d.reg == 8))
        return X86_ERR_UD;
    if (map == X86_MAP_0F && !vex && (opc == 0x21 || opc == 0x23) && d.reg > 7)
        return X86_ERR_UD;

    /* consumed mandatory prefixes are not REP/REPNE; ANYP rows keep them as such */
    if ((r->pfx & 7) == P_ANY && last_rep)
        d.pfx |= last_rep == 0xf3 ? X86_PFX_REP : X86_PFX_REPNE;

    /* ---- operand size (SDM 2.2.1.2 "More on REX Prefix Fields", Table 2-4) ---- */
    int o66 = (d.pfx & X86_PFX_OPSIZE) && (r->pfx & 7) != P_66 && !vex;
    if (m64) {
        if (rex & 8)
            d.osize = 8;
        else if (r->flags & F_F64)
            d.osize = 8;
        else if (r->flags & F_D64)
            d.osize = o66 ? 2 : 8;
        else
            d.osize = o66 ? 2 : 4;
    } else {
        d.osize = (uint8_t)((mode == X86_M32) != o66 ? 4 : 2);
    }

    if (r->sel & S_PLUSR)
        d.reg = (uint8_t)((opc & 7) | ((rex & 1) << 3));
    if (seg != 0xff) {
        d.seg = (uint8_t)seg;
        d.pfx |= X86_PFX_SEGOVR;
    }

    /* ---- immediates ---- */
    unsigned k = r->opk;
    if (map == X86_MAP_0F3A)
        k |= K_IB; /* every 0F 3A form has an imm8 */
    if (k & (K_IB | K_IBS | K_IW | K_IZ | K_IV | K_JB | K_JZ | K_MOFFS | K_AP)) {
        if (k & K_IW) {
            NEED(2);
            d.imm = rd(buf + p, 2);
            p += 2;
            if (k & K_IB) { /* ENTER Iw, Ib */
                NEED(1);
                d.imm2 = buf[p++];
            }
        } else if (k & (K_IB | K_JB | K_IBS)) {
            NEED(1);
            d.imm = (k & K_IB) ? buf[p] : (uint64_t)(int64_t)(int8_t)buf[p];
            p++;
        } else if (k & (K_IZ | K_JZ)) {
            int n = d.osize == 2 ? 2 : 4;
            NEED(n);
            uint64_t v = rd(buf + p, n);
            p += n;
            if ((k & K_JZ) || d.osize == 8)
                v = n == 2 ? (uint64_t)(int64_t)(int16_t)v : (uint64_t)(int64_t)(int32_t)v;
            d.imm = v;
        } else if (k & K_IV) {
            NEED(d.osize);
            d.imm = rd(buf + p, d.osize);
            p += d.osize;
        } else if (k & K_MOFFS) {
            NEED(d.asize);
            d.disp = (int64_t)rd(buf + p, d.asize);
            p += d.asize;
            d.mod = 0; /* a memory operand with neither base nor index */
        } else { /* K_AP */
            int n = d.osize == 2 ? 2 : 4;
            NEED(n + 2);
            d.imm = rd(buf + p, n);
            d.sel = (uint16_t)rd(buf + p + n, 2);
            p += n + 2;
        }
    }
    d.len = (uint8_t)p;
    *out = d;
    return (int)p;
}

uint32_t x86_insn_flags(unsigned id)
{
    return id < XI_COUNT ? rows[id].flags : 0;
}
