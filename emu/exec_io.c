/* exec_io.c - port I/O: IN and OUT (immediate and DX port forms), and the I/O
 * protection check INS/OUTS share (SDM Vol. 1 "I/O Privilege Level" and
 * "I/O Permission Bit Map"). The ports themselves are the machine's buses
 * (io_read/io_write of emu/machine.h).
 */
#include "emu/exec.h"
#include "emu/machine.h"
#include "emu/seg.h"

/* In protected mode with CPL > IOPL, and always in virtual-8086 mode, every
 * port of the access must have its bit clear in the TSS I/O permission bit map.
 * The processor reads the map two bytes at a time, so both bytes must lie
 * within the TSS limit; a map base beyond the limit denies every port. Only a
 * 32-bit TSS (the 64-bit one has the same layout there) has a map. */
bool io_allowed(cpu_t *c, uint16_t port, int size)
{
    if (!(c->cr0 & CR0_PE))
        return true;
    if (!(c->rflags & F_VM) && c->cpl <= ((c->rflags & F_IOPL) >> 12))
        return true;
    const seg_t *tr = &c->seg[S_TR];
    int type = AR_TYPE(tr->ar);
    if ((tr->ar & AR_UNUSABLE) || (type != SYS_TSS32 && type != SYS_TSS32_BUSY) || tr->limit < 0x67)
        return false;
    uint64_t wrap = c->mode == MODE_LONG64 ? ~0ull : 0xffffffffull;
    uint32_t map = (uint32_t)lin_read_sys(c, (tr->base + 0x66) & wrap, 2);
    uint32_t off = map + port / 8;
    if ((uint64_t)off + 1 > tr->limit)
        return false;
    uint32_t bits = (uint32_t)lin_read_sys(c, (tr->base + off) & wrap, 2);
    uint32_t want = ((1u << size) - 1) << (port & 7);
    return (bits & want) == 0;
}

/* IN/OUT move AL, AX or EAX: a REX.W operand size still means 32 bits. */
static inline int io_size(const dinsn_t *d)
{
    return d->i.osize == 2 ? 2 : 4;
}

static inline void do_in(cpu_t *c, const dinsn_t *d, uint16_t port, int size)
{
    if (!io_allowed(c, port, size))
        cpu_fault_err(c, EXC_GP, 0);
    reg_set(c, &d->i, R_RAX, size, io_read(c->m, port, size));
}

static inline void do_out(cpu_t *c, const dinsn_t *d, uint16_t port, int size)
{
    if (!io_allowed(c, port, size))
        cpu_fault_err(c, EXC_GP, 0);
    io_write(c->m, port, size, c->gpr[R_RAX] & size_mask(size));
}

void op_in_al_ib(cpu_t *c, const dinsn_t *d) { do_in(c, d, (uint8_t)d->i.imm, 1); }
void op_in_eax_ib(cpu_t *c, const dinsn_t *d) { do_in(c, d, (uint8_t)d->i.imm, io_size(d)); }
void op_in_al_dx(cpu_t *c, const dinsn_t *d) { do_in(c, d, (uint16_t)c->gpr[R_RDX], 1); }
void op_in_eax_dx(cpu_t *c, const dinsn_t *d) { do_in(c, d, (uint16_t)c->gpr[R_RDX], io_size(d)); }
void op_out_ib_al(cpu_t *c, const dinsn_t *d) { do_out(c, d, (uint8_t)d->i.imm, 1); }
void op_out_ib_eax(cpu_t *c, const dinsn_t *d) { do_out(c, d, (uint8_t)d->i.imm, io_size(d)); }
void op_out_dx_al(cpu_t *c, const dinsn_t *d) { do_out(c, d, (uint16_t)c->gpr[R_RDX], 1); }
void op_out_dx_eax(cpu_t *c, const dinsn_t *d) { do_out(c, d, (uint16_t)c->gpr[R_RDX], io_size(d)); }
