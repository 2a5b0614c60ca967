/* fw_cfg.c - QEMU firmware configuration device, I/O port flavour (QEMU
 * docs/specs/fw_cfg.rst, "Guest-side Hardware Interface").
 *
 * A 16-bit write to the selector picks an item and rewinds the data offset;
 * each byte read from the data port returns the item's next byte, and 0 once
 * past its end (or for an absent item). As in QEMU, bit 14 of the selector
 * (the obsolete write channel) is ignored, bit 15 selects the architecture
 * specific items (there are none here), data-port writes are ignored, and the
 * two ports decode as one: a 16-bit write to either selects, a byte read from
 * either reads data, other access widths read 0 and do nothing.
 *
 * Item encodings follow QEMU: numbers little-endian (ID and CMDLINE_SIZE 32
 * bits; NB_CPUS, MAX_CPUS and NOGRAPHIC 16 bits; RAM_SIZE 64 bits), strings
 * NUL-terminated with their size counting the NUL, the file directory
 * big-endian. The directory holds
 * exactly the files present (QEMU pads it to its slot count; a reader stops
 * at the count either way). No DMA interface: ID bit 1 is clear and port
 * 0x514 is not claimed.
 */
#include "devices/fw_cfg.h"

#include <stdlib.h>
#include <string.h>

#define SEL_ARCH 0x8000u      /* architecture-specific item */
#define SEL_INDEX 0x3fffu     /* the item index (bit 14, the write channel, is ignored) */
#define ID_TRADITIONAL 1u     /* FW_CFG_ID bit 0: the port interface; bit 1 (DMA) clear */
#define DIR_ENTRY 64u         /* FWCfgFile: size, select, reserved, name[56] */
#define MAX_FILES (SEL_INDEX + 1 - FW_CFG_FILE_FIRST)

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> 8 * i);
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> 8 * (n - 1 - i));
}

/* Replace item `it` by a copy of data[0..len). */
static bool set_item(fw_cfg_item_t *it, const void *data, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy || len > UINT32_MAX) {
        free(copy);
        return false;
    }
    if (len)
        memcpy(copy, data, len);
    free(it->data);
    it->data = copy;
    it->len = (uint32_t)len;
    return true;
}

static bool set_number(fw_cfg_t *f, enum fw_cfg_key key, uint64_t v, int width)
{
    uint8_t b[8];
    put_le(b, v, width);
    return set_item(&f->fixed[key], b, (size_t)width);
}

/* FW_CFG_FILE_DIR: a big-endian count, then one entry per file. */
static bool rebuild_dir(fw_cfg_t *f)
{
    size_t len = 4 + (size_t)f->nfiles * DIR_ENTRY;
    uint8_t *d = calloc(1, len);
    if (!d)
        return false;
    put_be(d, (uint64_t)f->nfiles, 4);
    for (int k = 0; k < f->nfiles; k++) {
        uint8_t *e = d + 4 + (size_t)k * DIR_ENTRY;
        put_be(e, f->files[k].item.len, 4);
        put_be(e + 4, FW_CFG_FILE_FIRST + (unsigned)k, 2);
        memcpy(e + 8, f->files[k].name, FW_CFG_NAME_MAX);
    }
    bool ok = set_item(&f->fixed[FW_CFG_FILE_DIR], d, len);
    free(d);
    return ok;
}

bool fw_cfg_set_cmdline(fw_cfg_t *f, const char *cmdline)
{
    size_t len = strlen(cmdline) + 1;
    return set_number(f, FW_CFG_CMDLINE_SIZE, len, 4) && set_item(&f->fixed[FW_CFG_CMDLINE_DATA], cmdline, len);
}

bool fw_cfg_add_file(fw_cfg_t *f, const char *name, const void *data, size_t len)
{
    size_t nlen = strlen(name);
    if (nlen == 0 || nlen >= FW_CFG_NAME_MAX || f->nfiles >= (int)MAX_FILES)
        return false;
    int at = 0;
    while (at < f->nfiles && strcmp(f->files[at].name, name) < 0)
        at++;
    if (at < f->nfiles && strcmp(f->files[at].name, name) == 0)
        return false;
    fw_cfg_file_t *files = realloc(f->files, (size_t)(f->nfiles + 1) * sizeof *files);
    if (!files)
        return false;
    f->files = files;
    fw_cfg_file_t nf = { .item = { NULL, 0 } };
    memcpy(nf.name, name, nlen + 1);
    if (!set_item(&nf.item, data, len))
        return false;
    memmove(&files[at + 1], &files[at], (size_t)(f->nfiles - at) * sizeof *files);
    files[at] = nf;
    f->nfiles++;
    if (rebuild_dir(f))
        return true;
    /* no memory for the new directory: take the file back out */
    free(nf.item.data);
    f->nfiles--;
    memmove(&files[at], &files[at + 1], (size_t)(f->nfiles - at) * sizeof *files);
    return false;
}

static const fw_cfg_item_t *selected(const fw_cfg_t *f)
{
    unsigned idx = f->selector & SEL_INDEX;
    if (f->selector & SEL_ARCH)
        return NULL;
    if (idx < FW_CFG_FILE_FIRST)
        return f->fixed[idx].data ? &f->fixed[idx] : NULL;
    idx -= FW_CFG_FILE_FIRST;
    return idx < (unsigned)f->nfiles ? &f->files[idx].item : NULL;
}

static uint64_t fw_cfg_read(void *opaque, uint16_t port, int size)
{
    fw_cfg_t *f = opaque;
    const fw_cfg_item_t *it = selected(f);
    if (size != 1 || !it || f->offset >= it->len)
        return 0;
    return it->data[f->offset++];
}

static void fw_cfg_write(void *opaque, uint16_t port, int size, uint64_t val)
{
    fw_cfg_t *f = opaque;
    if (size == 2) {
        f->selector = (uint16_t)val;
        f->offset = 0;
    }
}

fw_cfg_t *fw_cfg_attach(machine_t *m)
{
    fw_cfg_t *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    static const uint8_t uuid[16]; /* no UUID configured: QEMU's default is all zeros */
    bool ok = set_item(&f->fixed[FW_CFG_SIGNATURE], "QEMU", 4) &&
              set_number(f, FW_CFG_ID, ID_TRADITIONAL, 4) &&
              set_item(&f->fixed[FW_CFG_UUID], uuid, sizeof uuid) &&
              set_number(f, FW_CFG_RAM_SIZE, m->ram_size, 8) &&
              set_number(f, FW_CFG_NOGRAPHIC, 1, 2) && /* vmxemu has no display */
              set_number(f, FW_CFG_NB_CPUS, (uint64_t)m->ncpus, 2) &&
              set_number(f, FW_CFG_MAX_CPUS, (uint64_t)m->ncpus, 2) && /* no CPU hot-plug */
              rebuild_dir(f);
    if (!ok) {
        fw_cfg_free(f);
        return NULL;
    }
    f->selector = FW_CFG_SIGNATURE; /* QEMU's reset state */
    io_register(m, FW_CFG_PORT_SEL, 2, fw_cfg_read, fw_cfg_write, f);
    return f;
}

void fw_cfg_free(fw_cfg_t *f)
{
    if (!f)
        return;
    for (int k = 0; k < FW_CFG_FILE_FIRST; k++)
        free(f->fixed[k].data);
    for (int k = 0; k < f->nfiles; k++)
        free(f->files[k].item.data);
    free(f->files);
    free(f);
}
