/* fw_cfg.h - QEMU's firmware configuration interface (selector port 0x510,
 * data port 0x511), the way test kernels written for QEMU find the RAM size,
 * CPU count, command line and named blobs (devices/fw_cfg.c). */
#ifndef VMXEMU_FW_CFG_H
#define VMXEMU_FW_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu/machine.h"

#define FW_CFG_PORT_SEL 0x510  /* 16-bit selector, write-only */
#define FW_CFG_PORT_DATA 0x511 /* 8-bit data */
#define FW_CFG_NAME_MAX 56     /* a file name, NUL included */

/* K(name, key): the items this device provides (QEMU's FW_CFG_* keys). */
#define FW_CFG_KEYS(K)            \
    K(SIGNATURE, 0x0000)          \
    K(ID, 0x0001)                 \
    K(UUID, 0x0002)               \
    K(RAM_SIZE, 0x0003)           \
    K(NOGRAPHIC, 0x0004)          \
    K(NB_CPUS, 0x0005)            \
    K(MAX_CPUS, 0x000f)           \
    K(CMDLINE_SIZE, 0x0014)       \
    K(CMDLINE_DATA, 0x0015)       \
    K(FILE_DIR, 0x0019)           \
    K(FILE_FIRST, 0x0020) /* the first file's key; files follow in name order */

enum fw_cfg_key {
#define K(name, key) FW_CFG_##name = key,
    FW_CFG_KEYS(K)
#undef K
};

typedef struct fw_cfg_item {
    uint8_t *data;
    uint32_t len;
} fw_cfg_item_t;

typedef struct fw_cfg_file {
    char name[FW_CFG_NAME_MAX];
    fw_cfg_item_t item;
} fw_cfg_file_t;

typedef struct fw_cfg {
    fw_cfg_item_t fixed[FW_CFG_FILE_FIRST]; /* keys below FW_CFG_FILE_FIRST; data NULL if absent */
    fw_cfg_file_t *files;                   /* sorted by name: file k has key FW_CFG_FILE_FIRST + k */
    int nfiles;
    uint16_t selector;
    uint32_t offset;                        /* next byte of the selected item */
} fw_cfg_t;

/* Claim ports 0x510-0x511 and publish the signature, ID, UUID (zero), RAM size,
 * CPU counts and an empty file directory from the machine. */
fw_cfg_t *fw_cfg_attach(machine_t *m);
void fw_cfg_free(fw_cfg_t *f);
/* Publish the kernel command line (CMDLINE_SIZE / CMDLINE_DATA). */
bool fw_cfg_set_cmdline(fw_cfg_t *f, const char *cmdline);
/* Publish a copy of data[0..len) as file `name` (e.g. "etc/e820"). False if
 * the name is empty, too long (55 characters at most) or taken, or if memory
 * or keys run out. */
bool fw_cfg_add_file(fw_cfg_t *f, const char *name, const void *data, size_t len);

#endif
