/* multiboot2.c - the Multiboot 2 loader (see multiboot2.h). Header tags are
 * handled by one function each, found through MB2_HEADER_TAGS; the boot
 * information is a sequence of tags, each 8-byte aligned, laid out after the
 * modules exactly as Multiboot 1 places its information block.
 *
 * Decisions where the specification leaves room:
 *  - Tags the machine cannot honour (a framebuffer, a text console, EFI boot
 *    services or EFI entry points) refuse the image when required and are
 *    ignored when optional; so is an unknown tag type.
 *  - Modules are always page-aligned, so the module-alignment tag is met.
 *  - A relocatable kernel is loaded at its link address (a valid choice: the
 *    tag permits, it does not require, relocation).
 *  - An entry address tag overrides the ELF entry point; without an ELF file
 *    the address tag needs one.
 */
#include "devices/multiboot2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/acpi.h"
#include "devices/memmap.h"

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t align8(uint64_t n)
{
    return (n + 7) & ~7ull;
}

long mb2_find_header(const uint8_t *buf, size_t len)
{
    size_t lim = len < MB2_SEARCH_LEN ? len : MB2_SEARCH_LEN;
    for (size_t off = 0; off + 16 <= lim; off += 8) {
        uint32_t magic = rd32(buf + off), arch = rd32(buf + off + 4), hlen = rd32(buf + off + 8);
        if (magic == MB2_HEADER_MAGIC && (uint32_t)(magic + arch + hlen + rd32(buf + off + 12)) == 0)
            return (long)off;
    }
    return -1;
}

/* ---- header tags ---- */

/* One header tag: its type, flags, size and body (size - 8 bytes). */
typedef struct tag {
    uint16_t type, flags;
    uint32_t size;
    const uint8_t *body;
} tag_t;

typedef int (*tag_fn)(mb2_kernel_t *k, const tag_t *t, char *err, size_t errlen);

static bool optional(const tag_t *t) { return t->flags & MB2_TAG_OPTIONAL; }

static bool provided(uint32_t info_type)
{
#define I(name, type) if (info_type == (type) && (type) != MB2_IT_END) return true;
    MB2_INFO_TAGS(I)
#undef I
    return false;
}

static int ht_END(mb2_kernel_t *k, const tag_t *t, char *err, size_t errlen) { return 0; }

static int ht_INFO_REQUEST(mb2_kernel_t *k, const tag_t *t, char *err, size_t errlen)
{
    for (uint32_t i = 0; i + 4 <= t->size - 8; i += 4) {
        uint32_t want = rd32(t->body + i);
        if (!provided(want) && !optional(t)) {
            snprintf(err, errlen, "multiboot2 header requests boot information tag %u, which this loader "
                     "does not provide", want);
            return -1;
        }
    }
    return 0;
}

static int ht_ADDRESS(mb2_kernel_t *k, const tag_t *t, char *err, size_t errlen)
{
    k->k.hdr.flags |= MB_HF_AOUT;
    k->k.hdr.header_addr = rd32(t->body);
    k->k.hdr.load_addr = rd32(t->body + 4);
    k->k.hdr.load_end_addr = rd32(t->body + 8);
    k->k.hdr.bss_end_addr = rd32(t->body + 12);
    return 0;
}

static int ht_ENTRY(mb2_kernel_t *k, const tag_t *t, char *err, size_t errlen)
{
    k->has_entry = true;
    k->k.hdr.entry_addr = rd32(t->body);
    return 0;
}

static int refuse(const tag_t *t, const char *what, char *err, size_t errlen)
{
    if (optional(t))
        return 0;
    snprintf(err, errlen, "multiboot2 header requires %s (header tag %u), which vmxemu cannot provide", what,
             t->type);
    return -1;
}

static int ht_CONSOLE_FLAGS(mb2_kernel_t *k, const tag_t *t, char *err, size_t errlen)
{
    /* bit 0: a console must be present; vmxemu has only the serial port */
    return rd32(t->body) & 1 ? refuse(t, "a text console", err, errlen) : 0;
}

static int ht_FRAMEBUFFER(mb2_kernel_t *k, const tag_t *t, char *err, size_t errlen)
{
    return refuse(t, "a framebuffer", err, errlen);
}

static int ht_MODULE_ALIGN(mb2_kernel_t *k, const tag_t *t, char *err, size_t errlen) { return 0; }

static int ht_EFI_BS(mb2_kernel_t *k, const tag_t *t, char *err, size_t errlen)
{
    return refuse(t, "EFI boot services", err, errlen);
}

static int ht_ENTRY_EFI32(mb2_kernel_t *k, const tag_t *t, char *err, size_t errlen)
{
    return refuse(t, "an EFI i386 entry", err, errlen);
}

static int ht_ENTRY_EFI64(mb2_kernel_t *k, const tag_t *t, char *err, size_t errlen)
{
    return refuse(t, "an EFI amd64 entry", err, errlen);
}

static int ht_RELOCATABLE(mb2_kernel_t *k, const tag_t *t, char *err, size_t errlen) { return 0; }

static const struct {
    uint32_t min_size;
    tag_fn fn;
} header_tags[] = {
#define H(name, type, size) [type] = { size, ht_##name },
    MB2_HEADER_TAGS(H)
#undef H
};
#define N_HEADER_TAGS (sizeof header_tags / sizeof header_tags[0])

int mb2_parse(const uint8_t *buf, size_t len, mb2_kernel_t *k, char *err, size_t errlen)
{
    memset(k, 0, sizeof *k);
    long off = mb2_find_header(buf, len);
    if (off < 0) {
        snprintf(err, errlen, "no multiboot2 header in the first 32 KiB");
        return -1;
    }
    uint32_t arch = rd32(buf + off + 4), hlen = rd32(buf + off + 8);
    if (arch != MB2_ARCH_I386) {
        snprintf(err, errlen, "multiboot2 header: architecture %u is not i386 (0)", arch);
        return -1;
    }
    if (hlen < 24 || hlen > len - (size_t)off) {
        snprintf(err, errlen, "multiboot2 header: length %u does not fit the file", hlen);
        return -1;
    }
    k->k.hdr.file_offset = (uint32_t)off;
    const uint8_t *end = buf + off + hlen;
    bool ended = false;
    for (const uint8_t *p = buf + off + 16; !ended && p + 8 <= end;) {
        tag_t t = { (uint16_t)(p[0] | p[1] << 8), (uint16_t)(p[2] | p[3] << 8), rd32(p + 4), p + 8 };
        if (t.size < 8 || t.size > (size_t)(end - p)) {
            snprintf(err, errlen, "multiboot2 header: tag %u of size %u runs past the header", t.type, t.size);
            return -1;
        }
        if (t.type >= N_HEADER_TAGS || !header_tags[t.type].fn) {
            if (!optional(&t)) {
                snprintf(err, errlen, "multiboot2 header: unknown required tag type %u", t.type);
                return -1;
            }
        } else if (t.size < header_tags[t.type].min_size) {
            snprintf(err, errlen, "multiboot2 header: tag %u is %u bytes, needs %u", t.type, t.size,
                     header_tags[t.type].min_size);
            return -1;
        } else if (header_tags[t.type].fn(k, &t, err, errlen)) {
            return -1;
        }
        ended = t.type == MB2_HT_END;
        p += align8(t.size);
    }
    if (!ended) {
        snprintf(err, errlen, "multiboot2 header: no end tag");
        return -1;
    }
    if ((k->k.hdr.flags & MB_HF_AOUT) && !k->has_entry) {
        snprintf(err, errlen, "multiboot2 header: an address tag needs an entry address tag");
        return -1;
    }
    if (mb_plan_image(buf, len, &k->k, err, errlen))
        return -1;
    if (k->has_entry)
        k->k.entry = k->k.hdr.entry_addr;
    return 0;
}

/* ---- boot information ---- */

/* Start a tag of `size` bytes (header included) at p; returns the next tag's offset step. */
static uint64_t tag_start(uint8_t *p, uint32_t type, uint32_t size)
{
    wr32(p, type);
    wr32(p + 4, size);
    return align8(size);
}

static uint64_t string_tag(uint8_t *p, uint32_t type, const char *s)
{
    size_t n = strlen(s) + 1;
    memcpy(p + 8, s, n);
    return tag_start(p, type, (uint32_t)(8 + n));
}

uint32_t mb2_load(machine_t *m, const mb2_kernel_t *k, const uint8_t *buf, const mb_boot_t *b, char *err,
                  size_t errlen)
{
    memmap_entry_t map[MEMMAP_MAX];
    int nmap = memmap_build(m, map);
    uint64_t size = 8 + align8(8 + strlen(b->cmdline) + 1) + align8(8 + sizeof MB_LOADER_NAME) + 16 +
                    align8(16 + (uint64_t)nmap * MB2_MMAP_ENTRY) + align8(8 + ACPI_RSDP_V1_LEN) +
                    align8(8 + ACPI_RSDP_LEN) + 8;
    for (int i = 0; i < b->nmods && i < MB_MAX_MODS; i++)
        size += align8(16 + strlen(b->mods[i].string) + 1);
    uint64_t mod_at[MB_MAX_MODS];
    uint32_t info = mb_place(m, &k->k, buf, b, size, mod_at, err, errlen);
    if (!info)
        return 0;
    uint8_t *p = calloc(1, size);
    uint8_t rsdp[ACPI_RSDP_LEN];
    if (!p || !phys_copy_out(m, rsdp, ACPI_RSDP_ADDR, sizeof rsdp)) {
        free(p);
        snprintf(err, errlen, "out of host memory");
        return 0;
    }
    uint64_t o = 8;
    o += string_tag(p + o, MB2_IT_CMDLINE, b->cmdline);
    o += string_tag(p + o, MB2_IT_LOADER_NAME, MB_LOADER_NAME);
    for (int i = 0; i < b->nmods; i++) {
        wr32(p + o + 8, (uint32_t)mod_at[i]);
        wr32(p + o + 12, (uint32_t)(mod_at[i] + b->mods[i].len));
        size_t n = strlen(b->mods[i].string) + 1;
        memcpy(p + o + 16, b->mods[i].string, n);
        o += tag_start(p + o, MB2_IT_MODULE, (uint32_t)(16 + n));
    }
    wr32(p + o + 8, (uint32_t)(EBDA_BASE >> 10)); /* mem_lower, as Multiboot 1 */
    wr32(p + o + 12, (uint32_t)((m->lowmem_top - 0x100000) >> 10));
    o += tag_start(p + o, MB2_IT_BASIC_MEMINFO, 16);
    wr32(p + o + 8, MB2_MMAP_ENTRY);
    wr32(p + o + 12, 0); /* entry version */
    for (int i = 0; i < nmap; i++) {
        uint8_t *e = p + o + 16 + i * MB2_MMAP_ENTRY;
        wr64(e, map[i].base);
        wr64(e + 8, map[i].len);
        wr32(e + 16, map[i].type);
    }
    o += tag_start(p + o, MB2_IT_MMAP, (uint32_t)(16 + nmap * MB2_MMAP_ENTRY));
    memcpy(p + o + 8, rsdp, ACPI_RSDP_V1_LEN);
    o += tag_start(p + o, MB2_IT_ACPI_OLD, 8 + ACPI_RSDP_V1_LEN);
    memcpy(p + o + 8, rsdp, ACPI_RSDP_LEN);
    o += tag_start(p + o, MB2_IT_ACPI_NEW, 8 + ACPI_RSDP_LEN);
    o += tag_start(p + o, MB2_IT_END, 8);
    wr32(p, (uint32_t)o); /* total_size; the reserved word stays 0 */
    phys_copy_in(m, info, p, o);
    free(p);
    return info;
}

void mb2_enter(cpu_t *c, uint32_t info, uint32_t entry)
{
    mb_enter(c, info, entry);
    c->gpr[R_RAX] = MB2_BOOT_MAGIC;
}
