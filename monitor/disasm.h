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

#endif
