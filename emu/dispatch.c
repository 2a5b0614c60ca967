/* dispatch.c - the tables the decoded-block cache binds instructions with:
 * handler and latency class per decoder form (emu/handlers.def), whether a form
 * ends a block (the END flag of decoder/opcodes.def), and cycles per latency
 * class (emu/latency.def). */
#include "emu/exec.h"

const uint8_t lat_cycles[LAT_COUNT] = {
#define L(name, cycles) [LAT_##name] = cycles,
#include "emu/latency.def"
#undef L
};

const insn_fn insn_handlers[XI_COUNT] = {
#define H(id, fn, lat) [XI_##id] = fn,
#include "emu/handlers.def"
#undef H
};

const uint8_t insn_lat[XI_COUNT] = {
#define H(id, fn, lat) [XI_##id] = LAT_##lat,
#include "emu/handlers.def"
#undef H
};

/* Only END matters here; the other row flags are the decoder's business. */
enum { I64 = 0, O64 = 0, D64 = 0, F64 = 0, LOCK = 0, BYTE = 0, NF = 0, VNDS = 0, VNV = 0, VL0 = 0,
       VL1 = 0, VW0 = 0, VW1 = 0, END = 1 };
const uint8_t insn_ends_block[XI_COUNT] = {
#define X(id, map, opc, sel, pfx, o1, o2, o3, flags) [XI_##id] = (flags) & END,
#include "decoder/opcodes.def"
#undef X
};

void op_ud(cpu_t *c, const dinsn_t *d)
{
    cpu_fault(c, EXC_UD);
}

/* A byte sequence the decoder rejected: #UD, or #GP(0) for more than 15 bytes
 * (SDM Vol. 2 "Instruction Format": the 15-byte limit). */
void op_decode_fault(cpu_t *c, const dinsn_t *d)
{
    if ((int64_t)d->i.imm == X86_ERR_LONG)
        cpu_fault_err(c, EXC_GP, 0);
    cpu_fault(c, EXC_UD);
}
