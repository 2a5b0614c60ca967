/* dispatch.c - the tables the decoded-block cache binds instructions with:
 * handler and latency class per decoder form (emu/handlers.def) and cycles per
 * latency class (emu/latency.def). */
#include "emu/exec.h"

const uint8_t lat_cycles[LAT_COUNT] = {
#define L(name, cycles) [LAT_##name] = cycles,
#include "emu/latency.def"
#undef L
};

/* The handler of each form; for HV rows the run-time dispatching one (dinsn_bind
 * picks the right variant from insn_variants instead). */
const insn_fn insn_handlers[XI_COUNT] = {
#define H(id, fn, lat) [XI_##id] = fn,
#define HV(id, p, lat) [XI_##id] = p,
#include "emu/handlers.def"
#undef H
#undef HV
};

/* HV rows: [form][size] with form 0 = register, 1 = memory; size 0/1/2 = 16/32/64 bits. */
const insn_fn insn_variants[XI_COUNT][2][3] = {
#define H(id, fn, lat)
#define HV(id, p, lat) [XI_##id] = { { p##_r16, p##_r32, p##_r64 }, { p##_m16, p##_m32, p##_m64 } },
#include "emu/handlers.def"
#undef H
#undef HV
};

const uint8_t insn_lat[XI_COUNT] = {
#define H(id, fn, lat) [XI_##id] = LAT_##lat,
#define HV(id, p, lat) [XI_##id] = LAT_##lat,
#include "emu/handlers.def"
#undef H
#undef HV
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
