/* multiboot.c - the Multiboot 1 loader (see multiboot.h): header search, the
 * load plan for ELF32/ELF64/a.out-kludge images, placement of modules and the
 * boot information in guest RAM, and the entry CPU state.
 *
 * Layout in RAM: the kernel where its segments ask; from the first page above
 * both the kernel and 1 MiB, each module on its own page boundary (always,
 * whether or not the header asks); then one page-aligned block with the
 * information structure, the memory map, the module list and the strings.
 */
#include "devices/multiboot.h"

#include "devices/memmap.h"

#include "emu/flags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096ull
#define MB_1M 0x100000ull
#define MB_4G 0x100000000ull

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

static uint64_t page_up(uint64_t a)
{
    return (a + PAGE - 1) & ~(PAGE - 1);
}

int mb_find_header(const uint8_t *buf, size_t len, mb_header_t *h)
{
    size_t lim = len < MB_SEARCH_LEN ? len : MB_SEARCH_LEN;
    for (size_t off = 0; off + 12 <= lim; off += 4) {
        uint32_t magic = rd32(buf + off), flags = rd32(buf + off + 4), sum = rd32(buf + off + 8);
        if (magic != MB_HEADER_MAGIC || (uint32_t)(magic + flags + sum) != 0)
            continue;
        memset(h, 0, sizeof *h);
        h->file_offset = (uint32_t)off;
        h->flags = flags;
        /* the address fields are read only when the kludge bit says they exist */
        if ((flags & MB_HF_AOUT) && off + 32 <= len) {
            h->header_addr = rd32(buf + off + 12);
            h->load_addr = rd32(buf + off + 16);
            h->load_end_addr = rd32(buf + off + 20);
            h->bss_end_addr = rd32(buf + off + 24);
            h->entry_addr = rd32(buf + off + 28);
        }
        return 0;
    }
    return -1;
}

/* The a.out kludge: one segment described by the header's address fields
 * (Multiboot 2's address tag has the same four fields and meaning). */
static int plan_aout(const mb_header_t *h, size_t len, mb_kernel_t *k, char *err, size_t errlen)
{
    if (h->file_offset + 32 > len) {
        snprintf(err, errlen, "truncated: multiboot header address fields past the end of the file");
        return -1;
    }
    if (h->header_addr < h->load_addr || h->header_addr - h->load_addr > h->file_offset) {
        snprintf(err, errlen, "multiboot header: load_addr 0x%x does not fit header_addr 0x%x at file offset 0x%x",
                 h->load_addr, h->header_addr, h->file_offset);
        return -1;
    }
    uint64_t off = h->file_offset - (h->header_addr - h->load_addr);
    uint64_t filesz = h->load_end_addr ? (uint64_t)h->load_end_addr - h->load_addr : len - off;
    if (h->load_end_addr && h->load_end_addr <= h->load_addr) {
        snprintf(err, errlen, "multiboot header: load_end_addr 0x%x below load_addr 0x%x", h->load_end_addr,
                 h->load_addr);
        return -1;
    }
    if (off + filesz > len) {
        snprintf(err, errlen, "truncated: image needs file bytes 0x%llx-0x%llx, file has 0x%zx",
                 (unsigned long long)off, (unsigned long long)(off + filesz), len);
        return -1;
    }
    uint64_t memsz = filesz;
    if (h->bss_end_addr) {
        if ((uint64_t)h->bss_end_addr < h->load_addr + filesz) {
            snprintf(err, errlen, "multiboot header: bss_end_addr 0x%x below the end of the loaded image",
                     h->bss_end_addr);
            return -1;
        }
        memsz = (uint64_t)h->bss_end_addr - h->load_addr;
    }
    k->format = 0;
    k->entry = h->entry_addr;
    k->nseg = 1;
    k->seg[0] = (elf_seg_t){ .paddr = h->load_addr, .vaddr = h->load_addr, .offset = off, .filesz = filesz,
                             .memsz = memsz };
    return 0;
}

/* ELF: segments at p_paddr. The entry is translated to its physical address
 * when it lies in a segment's virtual range (a kernel linked higher-half),
 * else taken as is, truncated to 32 bits (a 64-bit ELF with 32-bit entry). */
static int plan_elf(const uint8_t *buf, size_t len, mb_kernel_t *k, char *err, size_t errlen)
{
    elf_image_t img;
    if (elf_parse(buf, len, &img, err, errlen))
        return -1;
    k->format = img.bits;
    k->nseg = img.nseg;
    memcpy(k->seg, img.seg, sizeof img.seg[0] * (size_t)img.nseg);
    uint64_t entry = img.entry;
    for (int i = 0; i < img.nseg; i++)
        if (img.entry - img.seg[i].vaddr < img.seg[i].memsz) {
            entry = img.entry - img.seg[i].vaddr + img.seg[i].paddr;
            break;
        }
    k->entry = (uint32_t)entry;
    return 0;
}

int mb_plan_image(const uint8_t *buf, size_t len, mb_kernel_t *k, char *err, size_t errlen)
{
    bool elf = elf_is_elf(buf, len);
    int rc;
    if (k->hdr.flags & MB_HF_AOUT) /* the kludge wins over the executable's own header */
        rc = plan_aout(&k->hdr, len, k, err, errlen);
    else if (elf)
        rc = plan_elf(buf, len, k, err, errlen);
    else {
        snprintf(err, errlen, "not an ELF file, and the multiboot header has no load addresses");
        return -1;
    }
    if (rc)
        return rc;
    k->end = 0;
    for (int i = 0; i < k->nseg; i++) {
        const elf_seg_t *s = &k->seg[i];
        if (s->paddr >= MB_4G || s->memsz > MB_4G - s->paddr) {
            snprintf(err, errlen, "segment at 0x%llx (0x%llx bytes) lies beyond 4 GiB",
                     (unsigned long long)s->paddr, (unsigned long long)s->memsz);
            return -1;
        }
        if (s->paddr + s->memsz > k->end)
            k->end = s->paddr + s->memsz;
    }
    return 0;
}

int mb_parse(const uint8_t *buf, size_t len, mb_kernel_t *k, char *err, size_t errlen)
{
    memset(k, 0, sizeof *k);
    bool elf = elf_is_elf(buf, len);
    if (mb_find_header(buf, len, &k->hdr)) {
        elf_image_t img;
        /* a damaged ELF file explains itself better than "no header" */
        if (elf && elf_parse(buf, len, &img, err, errlen))
            return -1;
        snprintf(err, errlen, "%s", elf ? "no multiboot header in the first 8 KiB"
                                         : "not an ELF file and no multiboot header in the first 8 KiB");
        return -1;
    }
    uint32_t unknown = k->hdr.flags & 0xffff & ~(MB_HF_PAGE_ALIGN | MB_HF_MEMINFO | MB_HF_VIDEO);
    if (unknown) {
        snprintf(err, errlen, "multiboot header requires features this loader lacks (flags 0x%x)", unknown);
        return -1;
    }
    return mb_plan_image(buf, len, k, err, errlen);
}

/* The memory map in Multiboot's format: each entry a size word (20, not
 * counting itself), base, length and type; the types are E820's. */
static int build_mmap(const machine_t *m, uint8_t *out)
{
    memmap_entry_t e[MEMMAP_MAX];
    int n = memmap_build(m, e);
    for (int i = 0; i < n; i++) {
        uint8_t *p = out + i * MB_MMAP_ENTRY;
        wr32(p, MB_MMAP_ENTRY - 4);
        wr64(p + 4, e[i].base);
        wr64(p + 12, e[i].len);
        wr32(p + 20, e[i].type);
    }
    return n;
}

static bool zero_fill(machine_t *m, uint64_t pa, uint64_t n)
{
    static const uint8_t zeros[4096];
    for (uint64_t done = 0; done < n;) {
        uint64_t chunk = n - done < sizeof zeros ? n - done : sizeof zeros;
        if (!phys_copy_in(m, pa + done, zeros, chunk))
            return false;
        done += chunk;
    }
    return true;
}

uint32_t mb_place(machine_t *m, const mb_kernel_t *k, const uint8_t *buf, const mb_boot_t *b, uint64_t info_size,
                  uint64_t *mod_at, char *err, size_t errlen)
{
    /* Everything the kernel gets must be low RAM: Multiboot addresses are 32-bit. */
    for (int i = 0; i < k->nseg; i++) {
        const elf_seg_t *s = &k->seg[i];
        if (s->paddr + s->memsz > m->lowmem_top) {
            snprintf(err, errlen, "kernel segment 0x%llx-0x%llx does not fit in RAM (low RAM ends at 0x%llx)",
                     (unsigned long long)s->paddr, (unsigned long long)(s->paddr + s->memsz),
                     (unsigned long long)m->lowmem_top);
            return 0;
        }
    }
    /* Plan the modules and the information block before writing anything. */
    if (b->nmods > MB_MAX_MODS) {
        snprintf(err, errlen, "too many modules (%d, at most %d)", b->nmods, MB_MAX_MODS);
        return 0;
    }
    uint64_t at = page_up(k->end > MB_1M ? k->end : MB_1M);
    for (int i = 0; i < b->nmods; i++) {
        mod_at[i] = at;
        at = page_up(at + b->mods[i].len);
    }
    if (at + info_size > m->lowmem_top) {
        snprintf(err, errlen, "kernel, modules and boot information need 0x%llx bytes of RAM, have 0x%llx",
                 (unsigned long long)(at + info_size), (unsigned long long)m->lowmem_top);
        return 0;
    }
    for (int i = 0; i < k->nseg; i++) {
        const elf_seg_t *s = &k->seg[i];
        phys_copy_in(m, s->paddr, buf + s->offset, s->filesz);
        zero_fill(m, s->paddr + s->filesz, s->memsz - s->filesz);
    }
    for (int i = 0; i < b->nmods; i++)
        phys_copy_in(m, mod_at[i], b->mods[i].data, b->mods[i].len);
    return (uint32_t)at;
}

uint32_t mb_load(machine_t *m, const mb_kernel_t *k, const uint8_t *buf, const mb_boot_t *b, char *err,
                 size_t errlen)
{
    size_t cmd_len = strlen(b->cmdline) + 1, name_len = sizeof MB_LOADER_NAME;
    size_t strs = cmd_len + name_len;
    for (int i = 0; i < b->nmods && i < MB_MAX_MODS; i++)
        strs += strlen(b->mods[i].string) + 1;
    const uint64_t mmap_off = 128, mods_off = mmap_off + MEMMAP_MAX * MB_MMAP_ENTRY;
    const uint64_t str_off = mods_off + (uint64_t)b->nmods * MB_MOD_SIZE;
    uint64_t info_size = str_off + strs, mod_at[MB_MAX_MODS];
    uint64_t info = mb_place(m, k, buf, b, info_size, mod_at, err, errlen);
    if (!info)
        return 0;

    /* The information block, built in a zeroed host buffer, then copied in. */
    uint8_t *p = calloc(1, info_size);
    if (!p) {
        snprintf(err, errlen, "out of host memory");
        return 0;
    }
    uint64_t s = str_off;
    uint32_t cmd_at = (uint32_t)(info + s);
    memcpy(p + s, b->cmdline, cmd_len);
    s += cmd_len;
    uint32_t name_at = (uint32_t)(info + s);
    memcpy(p + s, MB_LOADER_NAME, name_len);
    s += name_len;
    for (int i = 0; i < b->nmods; i++) {
        uint8_t *mod = p + mods_off + (uint64_t)i * MB_MOD_SIZE;
        size_t sl = strlen(b->mods[i].string) + 1;
        wr32(mod, (uint32_t)mod_at[i]);
        wr32(mod + 4, (uint32_t)(mod_at[i] + b->mods[i].len));
        wr32(mod + 8, (uint32_t)(info + s));
        memcpy(p + s, b->mods[i].string, sl);
        s += sl;
    }
    int nmap = build_mmap(m, p + mmap_off);
    uint32_t flags = MB_IF_MEM | MB_IF_CMDLINE | MB_IF_MODS | MB_IF_MMAP | MB_IF_LOADER;
    wr32(p + MB_INFO_FLAGS, flags);
    wr32(p + MB_INFO_MEM_LOWER, (uint32_t)(EBDA_BASE >> 10)); /* base memory ends at the EBDA */
    wr32(p + MB_INFO_MEM_UPPER, m->lowmem_top > MB_1M ? (uint32_t)((m->lowmem_top - MB_1M) >> 10) : 0);
    wr32(p + MB_INFO_CMDLINE, cmd_at);
    wr32(p + MB_INFO_MODS_CNT, (uint32_t)b->nmods);
    wr32(p + MB_INFO_MODS_ADDR, (uint32_t)(info + mods_off));
    wr32(p + MB_INFO_MMAP_LEN, (uint32_t)(nmap * MB_MMAP_ENTRY));
    wr32(p + MB_INFO_MMAP_ADDR, (uint32_t)(info + mmap_off));
    wr32(p + MB_INFO_LOADER, name_at);
    phys_copy_in(m, info, p, info_size);
    free(p);
    return (uint32_t)info;
}

/* Flat 4 GiB segment with the given type, 32-bit, page granular, DPL 0. */
static seg_t flat(uint16_t sel, uint32_t type)
{
    return (seg_t){ .base = 0, .limit = 0xffffffffu, .ar = type | AR_S | AR_P | AR_DB | AR_G, .sel = sel };
}

void mb_enter(cpu_t *c, uint32_t info, uint32_t entry)
{
    c->gpr[R_RAX] = MB_BOOT_MAGIC;
    c->gpr[R_RBX] = info;
    c->rip = entry;
    /* Selector values are undefined by the spec; these match a GDT with code at
     * 0x08 and data at 0x10, which is what GRUB and QEMU's option ROM use. */
    c->seg[S_CS] = flat(0x08, 0xb);
    for (int s = 0; s < S_COUNT; s++)
        if (s != S_CS && s != S_LDTR && s != S_TR)
            c->seg[s] = flat(0x10, 0x3);
    c->cr0 = CR0_PE | CR0_ET; /* PG=0; caches on as firmware leaves them */
    c->efer = 0;
    cpu_set_rflags(c, 0x2);   /* IF=0, VM=0, everything else clear */
    c->halted = false;
    c->cpl = 0;               /* CS.RPL = 0 */
    cpu_update_mode(c);
}
