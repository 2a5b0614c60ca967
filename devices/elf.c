/* elf.c - read the PT_LOAD segments of an x86 ELF32/ELF64 executable from a
 * byte buffer (see elf.h). Every field that indexes the buffer is checked
 * before use, with overflow-safe arithmetic, because the input is untrusted. */
#include "devices/elf.h"

#include <stdio.h>
#include <string.h>

/* ELF constants (System V gABI). */
#define EI_CLASS 4
#define EI_DATA 5
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1

static uint64_t rd(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Field offsets of the ELF header and a program header, per class. */
typedef struct layout {
    int ehsize, e_entry, e_phoff, e_phentsize, e_phnum, word;
    int phsize, p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz;
    int machine;
} layout_t;

static const layout_t layouts[2] = {
    /* ELF32 */ { 52, 24, 28, 42, 44, 4, 32, 0, 4, 8, 12, 16, 20, EM_386 },
    /* ELF64 */ { 64, 24, 32, 54, 56, 8, 56, 0, 8, 16, 24, 32, 40, EM_X86_64 },
};

bool elf_is_elf(const uint8_t *buf, size_t len)
{
    return len >= 4 && memcmp(buf, "\177ELF", 4) == 0;
}

int elf_parse(const uint8_t *buf, size_t len, elf_image_t *img, char *err, size_t errlen)
{
    memset(img, 0, sizeof *img);
    if (!elf_is_elf(buf, len)) {
        snprintf(err, errlen, "not an ELF file");
        return -1;
    }
    if (len < 16 || (buf[EI_CLASS] != ELFCLASS32 && buf[EI_CLASS] != ELFCLASS64)) {
        snprintf(err, errlen, "unsupported ELF class");
        return -1;
    }
    const layout_t *l = &layouts[buf[EI_CLASS] == ELFCLASS64];
    img->bits = l->word * 8;
    if (len < (size_t)l->ehsize) {
        snprintf(err, errlen, "truncated ELF header (%zu bytes)", len);
        return -1;
    }
    if (buf[EI_DATA] != ELFDATA2LSB) {
        snprintf(err, errlen, "big-endian ELF file");
        return -1;
    }
    if (rd(buf + 18, 2) != (uint64_t)l->machine) {
        snprintf(err, errlen, "ELF%d file for machine %u, not %s", img->bits, (unsigned)rd(buf + 18, 2),
                 l->machine == EM_386 ? "i386" : "x86-64");
        return -1;
    }
    if (rd(buf + 16, 2) != ET_EXEC) {
        snprintf(err, errlen, "ELF file is not an executable (e_type %u)", (unsigned)rd(buf + 16, 2));
        return -1;
    }
    img->entry = rd(buf + l->e_entry, l->word);
    uint64_t phoff = rd(buf + l->e_phoff, l->word);
    uint64_t phentsize = rd(buf + l->e_phentsize, 2), phnum = rd(buf + l->e_phnum, 2);
    if (phnum == 0) {
        snprintf(err, errlen, "ELF file has no program headers");
        return -1;
    }
    if (phentsize < (uint64_t)l->phsize) {
        snprintf(err, errlen, "bad ELF program header size %u", (unsigned)phentsize);
        return -1;
    }
    if (phoff > len || phnum * phentsize > len - phoff) {
        snprintf(err, errlen, "truncated: program headers end past the end of the file (%zu bytes)", len);
        return -1;
    }
    for (uint64_t i = 0; i < phnum; i++) {
        const uint8_t *ph = buf + phoff + i * phentsize;
        if (rd(ph + l->p_type, 4) != PT_LOAD)
            continue;
        elf_seg_t s = {
            .offset = rd(ph + l->p_offset, l->word),
            .vaddr = rd(ph + l->p_vaddr, l->word),
            .paddr = rd(ph + l->p_paddr, l->word),
            .filesz = rd(ph + l->p_filesz, l->word),
            .memsz = rd(ph + l->p_memsz, l->word),
        };
        if (s.memsz == 0)
            continue;
        if (s.filesz > s.memsz) {
            snprintf(err, errlen, "segment %u: file size 0x%llx exceeds memory size 0x%llx", (unsigned)i,
                     (unsigned long long)s.filesz, (unsigned long long)s.memsz);
            return -1;
        }
        if (s.offset > len || s.filesz > len - s.offset) {
            snprintf(err, errlen, "truncated: segment %u needs file bytes 0x%llx-0x%llx, file has 0x%zx", (unsigned)i,
                     (unsigned long long)s.offset, (unsigned long long)(s.offset + s.filesz), len);
            return -1;
        }
        if (img->nseg == ELF_MAX_SEGS) {
            snprintf(err, errlen, "more than %d loadable segments", ELF_MAX_SEGS);
            return -1;
        }
        img->seg[img->nseg++] = s;
    }
    if (img->nseg == 0) {
        snprintf(err, errlen, "ELF file has no loadable segment");
        return -1;
    }
    return 0;
}
