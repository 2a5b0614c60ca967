/* disasm.c - capstone wrapper for the monitor (disasm.h). One handle per code
 * size, opened on first use and kept: opening capstone costs more than
 * disassembling a screenful. */
#include "monitor/disasm.h"

#include <capstone/capstone.h>
#include <stdbool.h>
#include <stdio.h>

static csh handles[3];
static bool opened[3];

static const cs_mode modes[3] = { CS_MODE_16, CS_MODE_32, CS_MODE_64 };

int disasm_one(const uint8_t *buf, size_t n, uint64_t addr, int bits, char *out, size_t outlen)
{
    int k = bits == 16 ? 0 : bits == 32 ? 1 : 2;
    if (!opened[k]) {
        if (cs_open(CS_ARCH_X86, modes[k], &handles[k]) != CS_ERR_OK) {
            snprintf(out, outlen, "(capstone unavailable)");
            return 0;
        }
        opened[k] = true;
    }
    cs_insn *insn;
    size_t count = cs_disasm(handles[k], buf, n, addr, 1, &insn);
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
