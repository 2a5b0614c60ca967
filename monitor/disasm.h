/* disasm.h - instruction text through capstone (Intel syntax). Pure: bytes in,
 * text out; callers fetch the bytes (monitor/guestmem.h). Kept apart from the
 * emulator's headers because capstone's x86.h also defines `x86_insn`. */
#ifndef VMXEMU_MON_DISASM_H
#define VMXEMU_MON_DISASM_H

#include <stddef.h>
#include <stdint.h>

/* Disassemble the instruction at buf (n bytes available) located at addr, in
 * 16-, 32- or 64-bit code. Writes "mnemonic operands" to out and returns the
 * length, or 0 (and "(bad)") if the bytes do not decode. */
int disasm_one(const uint8_t *buf, size_t n, uint64_t addr, int bits, char *out, size_t outlen);

/* One explicit memory operand of an instruction, as capstone decodes it:
 * address = segment base + disp + base register + index register * scale,
 * truncated to addr_bits. Registers are numbered as the encoding (0 rAX ..
 * 15 r15), -1 for none; seg is 0 ES .. 5 GS in encoding order, or -1 for the
 * default (SS with an rSP/rBP base, else DS). A RIP-relative operand has its
 * target in disp and no base. */
struct disasm_mem {
    int seg, base, index, scale;
    int64_t disp;
    int addr_bits;        /* 16, 32 or 64 */
    int size;             /* operand bytes */
    int read, write;      /* how the instruction accesses it (capstone's operand access) */
};

/* The explicit memory operands (at most max) of the instruction at buf, or 0
 * for none or bytes that do not decode. Implicit accesses (the stack of
 * PUSH/POP/CALL/RET, descriptor tables) are not operands and not reported. */
int disasm_mem_operands(const uint8_t *buf, size_t n, uint64_t addr, int bits, struct disasm_mem *out, int max);

#endif
