/* disasm.c - capstone wrapper for the monitor (disasm.h): instruction text,
 * and the memory operands read and access watchpoints check. One handle per
 * code size (and detail setting), opened on first use and kept: opening
 * capstone costs more than disassembling a screenful. */
#include "monitor/disasm.h"

#include <capstone/capstone.h>
#include <stdbool.h>
#include <stdio.h>

/* [detail][code size]: the handles with operand details (CS_OPT_DETAIL,
 * slower) serve disasm_mem_operands only */
static csh handles[2][3];
static bool opened[2][3];

static const cs_mode modes[3] = { CS_MODE_16, CS_MODE_32, CS_MODE_64 };

static csh *handle(int bits, bool detail)
{
    int k = bits == 16 ? 0 : bits == 32 ? 1 : 2;
    if (!opened[detail][k]) {
        if (cs_open(CS_ARCH_X86, modes[k], &handles[detail][k]) != CS_ERR_OK)
            return NULL;
        if (detail)
            cs_option(handles[detail][k], CS_OPT_DETAIL, CS_OPT_ON);
        opened[detail][k] = true;
    }
    return &handles[detail][k];
}

int disasm_one(const uint8_t *buf, size_t n, uint64_t addr, int bits, char *out, size_t outlen)
{
    csh *h = handle(bits, false);
    if (!h) {
        snprintf(out, outlen, "(capstone unavailable)");
        return 0;
    }
    cs_insn *insn;
    size_t count = cs_disasm(*h, buf, n, addr, 1, &insn);
    if (count == 0) {
        snprintf(out, outlen, "(bad)");
        return 0;
    }
    if (insn[0].op_str[0])
        snprintf(out, outlen, "%s %s", insn[0].mnemonic, insn[0].op_str);
    else
        snprintf(out, outlen, "%s", insn[0].mnemonic);
    int len = insn[0].size;
    cs_free(insn, count);
    return len;
}

/* A general register's number (0 rAX .. 15 r15) and width in bits, or -1. */
static int gpr(x86_reg r, int *bits)
{
    static const struct { x86_reg r64, r32, r16; } regs[16] = {
        { X86_REG_RAX, X86_REG_EAX, X86_REG_AX }, { X86_REG_RCX, X86_REG_ECX, X86_REG_CX },
        { X86_REG_RDX, X86_REG_EDX, X86_REG_DX }, { X86_REG_RBX, X86_REG_EBX, X86_REG_BX },
        { X86_REG_RSP, X86_REG_ESP, X86_REG_SP }, { X86_REG_RBP, X86_REG_EBP, X86_REG_BP },
        { X86_REG_RSI, X86_REG_ESI, X86_REG_SI }, { X86_REG_RDI, X86_REG_EDI, X86_REG_DI },
        { X86_REG_R8, X86_REG_R8D, X86_REG_R8W }, { X86_REG_R9, X86_REG_R9D, X86_REG_R9W },
        { X86_REG_R10, X86_REG_R10D, X86_REG_R10W }, { X86_REG_R11, X86_REG_R11D, X86_REG_R11W },
        { X86_REG_R12, X86_REG_R12D, X86_REG_R12W }, { X86_REG_R13, X86_REG_R13D, X86_REG_R13W },
        { X86_REG_R14, X86_REG_R14D, X86_REG_R14W }, { X86_REG_R15, X86_REG_R15D, X86_REG_R15W },
    };
    for (int k = 0; k < 16; k++) {
        *bits = r == regs[k].r64 ? 64 : r == regs[k].r32 ? 32 : r == regs[k].r16 ? 16 : 0;
        if (*bits)
            return k;
    }
    return -1;
}

int disasm_mem_operands(const uint8_t *buf, size_t n, uint64_t addr, int bits, struct disasm_mem *out, int max)
{
    static const x86_reg segs[6] = { X86_REG_ES, X86_REG_CS, X86_REG_SS, X86_REG_DS, X86_REG_FS, X86_REG_GS };
    csh *h = handle(bits, true);
    cs_insn *insn;
    size_t count = h ? cs_disasm(*h, buf, n, addr, 1, &insn) : 0;
    if (count == 0)
        return 0;
    const cs_x86 *x = &insn[0].detail->x86;
    int got = 0;
    for (int k = 0; k < x->op_count && got < max; k++) {
        const cs_x86_op *op = &x->operands[k];
        if (op->type != X86_OP_MEM)
            continue;
        struct disasm_mem *m = &out[got++];
        int bb = 0, ib = 0;
        m->seg = -1;
        for (int s = 0; s < 6; s++)
            if (op->mem.segment == segs[s])
                m->seg = s;
        m->base = gpr(op->mem.base, &bb);
        m->index = gpr(op->mem.index, &ib);
        m->scale = op->mem.scale;
        m->disp = op->mem.disp;
        m->addr_bits = bb ? bb : ib ? ib : bits;
        if (op->mem.base == X86_REG_RIP || op->mem.base == X86_REG_EIP) {
            m->disp += (int64_t)(addr + insn[0].size);
            m->addr_bits = op->mem.base == X86_REG_EIP ? 32 : 64;
        }
        m->size = op->size;
        m->read = (op->access & CS_AC_READ) != 0;
        m->write = (op->access & CS_AC_WRITE) != 0;
    }
    cs_free(insn, count);
    return got;
}
