/* dispatch.c - the tables the decoded-block cache binds instructions with:
 * handler and latency class per decoder form (emu/handlers.def) and cycles per
 * latency class (emu/latency.def). */
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
