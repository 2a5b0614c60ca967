/* elf.h - a pure ELF32/ELF64 program-header reader for the kernel loader.
 *
 * It only reads a byte buffer: no I/O, no guest memory, so it can be fuzzed
 * (tests/fuzz/fuzz_loader.c). It accepts little-endian x86 executables
 * (ELFCLASS32 with EM_386, ELFCLASS64 with EM_X86_64, type ET_EXEC) and
 * reports their PT_LOAD segments with every offset checked against the buffer.
 */
#ifndef VMXEMU_ELF_H
#define VMXEMU_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGS 64

typedef struct elf_seg {
    uint64_t paddr, vaddr;  /* load (physical) and link (virtual) address */
    uint64_t offset;        /* file offset of the first byte */
    uint64_t filesz, memsz; /* bytes from the file; the rest up to memsz is zero */
} elf_seg_t;

typedef struct elf_image {
    int bits;               /* 32 or 64 */
    uint64_t entry;         /* e_entry as written */
    int nseg;
    elf_seg_t seg[ELF_MAX_SEGS]; /* PT_LOAD segments with memsz > 0, in file order */
} elf_image_t;

/* Does buf start with the ELF magic? */
bool elf_is_elf(const uint8_t *buf, size_t len);

/* Parse buf into img. Returns 0, or -1 with a one-line reason in err. */
int elf_parse(const uint8_t *buf, size_t len, elf_image_t *img, char *err, size_t errlen);

#endif
