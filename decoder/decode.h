/* decode.h - the x86-64 instruction decoder's interface.
 *
 * The decoder is pure: bytes and a fetch mode in, decoded fields out. It knows
 * nothing of CPU state (no registers, no CR bits, no privilege); everything it
 * needs is the code size (16/32/64) the caller derives from CS. The forms it
 * recognises are rows of decoder/opcodes.def; each row's first column is its
 * identifier, which becomes enum x86_insn_id (XI_<id>). The emulator binds
 * handlers to those identifiers in its own tables (emu/), so this directory
 * never sees an emulator type.
 */
#ifndef VMXEMU_DECODE_H
#define VMXEMU_DECODE_H

#include <stddef.h>
#include <stdint.h>

enum x86_mode { X86_M16 = 0, X86_M32 = 1, X86_M64 = 2 };

/* Opcode maps. VEX-encoded instructions use the map their VEX.mmmmm names. */
enum x86_map { X86_MAP_1B = 0, X86_MAP_0F = 1, X86_MAP_0F38 = 2, X86_MAP_0F3A = 3 };

enum x86_insn_id {
#define X(id, ...) XI_##id,
#include "opcodes.def"
#undef X
    XI_COUNT
};

/* Register numbers follow the encoding: 0 = rAX ... 7 = rDI, 8..15 = r8..r15.
 * The two pseudo-registers continue the numbering so that an emulator can keep
 * RIP and a zero at indexes 16 and 17 of its register file and compute any
 * effective address without branches. */
#define X86_RIP   16 /* base of a RIP-relative memory operand */
#define X86_NOREG 17 /* no base / no index */

/* Segment register numbers, in the encoding order of Sreg. */
enum x86_seg { X86_ES = 0, X86_CS, X86_SS, X86_DS, X86_FS, X86_GS };

/* Prefix flags in x86_insn.pfx. */
enum {
    X86_PFX_LOCK   = 1 << 0, /* F0 */
    X86_PFX_REP    = 1 << 1, /* F3 (REP/REPE), when not consumed as a mandatory prefix */
    X86_PFX_REPNE  = 1 << 2, /* F2, when not consumed as a mandatory prefix */
    X86_PFX_OPSIZE = 1 << 3, /* 66 present (even when consumed as mandatory) */
    X86_PFX_ADSIZE = 1 << 4, /* 67 present */
    X86_PFX_REX    = 1 << 5, /* a REX prefix is in effect (makes SPL/BPL/SIL/DIL addressable) */
    X86_PFX_SEGOVR = 1 << 6, /* a segment override was given (seg holds it) */
    X86_PFX_VEX    = 1 << 7, /* VEX-encoded */
};

typedef struct x86_insn {
    uint16_t id;     /* enum x86_insn_id */
    uint8_t len;     /* total length, 1..15 */
    uint8_t map;     /* enum x86_map */
    uint8_t opcode;  /* the opcode byte within its map */
    uint8_t modrm;   /* raw ModRM byte (0 if the form has none) */
    uint8_t mod;     /* ModRM.mod; 3 means the r/m operand is a register */
    uint8_t reg;     /* ModRM.reg + REX.R*8; for +r opcode forms (50+r, B8+r, ...) the register, with REX.B */
    uint8_t rm;      /* ModRM.rm + REX.B*8 when mod == 3 */
    uint8_t base;    /* memory operand base register, X86_NOREG or X86_RIP */
    uint8_t index;   /* memory operand index register or X86_NOREG (never 4 without REX.X) */
    uint8_t scale;   /* index shift, 0..3 */
    uint8_t seg;     /* enum x86_seg: override if any, else the default (SS for rBP/rSP bases) */
    uint8_t osize;   /* effective operand size in bytes: 2, 4 or 8 (byte forms are their own ids) */
    uint8_t asize;   /* effective address size in bytes: 2, 4 or 8 */
    uint8_t pfx;     /* X86_PFX_* */
    uint8_t rex;     /* the REX byte in effect, or 0 */
    uint8_t vex_l;   /* VEX.L */
    uint8_t vex_v;   /* VEX.vvvv, already un-inverted (register number) */
    uint8_t imm2;    /* ENTER's second immediate (Ib) */
    uint16_t sel;    /* far pointer selector (EA/9A ptr16:16/32) */
    int64_t disp;    /* displacement, sign-extended; for moffs forms (A0-A3) the full offset */
    uint64_t imm;    /* immediate: sign-extended to 64 bits where the SDM sign-extends
                      * (Ib of 83/6B/6A, Iz with 64-bit operand size, relative branch
                      * displacements), zero-extended otherwise */
} x86_insn;

/* Decode one instruction from buf (avail bytes readable).
 * Returns the length (> 0) on success, or one of the negative codes below. */
enum {
    X86_ERR_UD    = -1, /* invalid opcode or invalid encoding in this mode (#UD) */
    X86_ERR_LONG  = -2, /* more than 15 bytes (#GP(0)) */
    X86_ERR_SHORT = -3, /* the instruction continues past avail (caller fetches more, or #PF) */
};
int x86_decode(x86_insn *out, const uint8_t *buf, size_t avail, enum x86_mode mode);

/* Row flags: the flags column of opcodes.def. */
enum {
    X86_F_I64 = 1 << 0, X86_F_O64 = 1 << 1, X86_F_D64 = 1 << 2, X86_F_F64 = 1 << 3, X86_F_LOCK = 1 << 4,
    X86_F_BYTE = 1 << 5, X86_F_END = 1 << 6, X86_F_VNDS = 1 << 7, X86_F_VNV = 1 << 8, X86_F_VL0 = 1 << 9,
    X86_F_VL1 = 1 << 10, X86_F_VW0 = 1 << 11, X86_F_VW1 = 1 << 12,
    X86_F_COND = 1 << 13, /* conditional branch: ends a decoded block only when taken */
};
uint32_t x86_insn_flags(unsigned id);

/* The row's mnemonic in lower case as the SDM spells it ("add", "cmpxchg16b"). */
const char *x86_insn_name(unsigned id);

#endif
