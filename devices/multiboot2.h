/* multiboot2.h - boot a Multiboot 2 kernel (Multiboot Specification version
 * 2.0): the header search, the header tags, the boot information and the
 * entry state. The image itself (ELF32, ELF64, or the address tag's flat
 * layout) is planned and placed by the Multiboot 1 code (devices/multiboot.h),
 * so both protocols load the same way and report the same memory map.
 *
 * Like Multiboot 1, two layers: mb2_parse() is pure; mb2_load()/mb2_enter()
 * write guest RAM and CPU state.
 */
#ifndef VMXEMU_MULTIBOOT2_H
#define VMXEMU_MULTIBOOT2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/multiboot.h"

#define MB2_HEADER_MAGIC 0xE85250D6u /* in the kernel's header */
#define MB2_BOOT_MAGIC   0x36D76289u /* in EAX at entry */
#define MB2_SEARCH_LEN   32768       /* the header lies 8-byte aligned in the first 32 KiB */
#define MB2_ARCH_I386    0           /* 32-bit protected mode: the only architecture for x86 */
#define MB2_TAG_OPTIONAL 1u          /* header tag flags bit 0: the kernel can do without it */

/* H(name, type, minimum size): the header tags (spec "Header tags"). */
#define MB2_HEADER_TAGS(H)          \
    H(END, 0, 8)                    \
    H(INFO_REQUEST, 1, 8)           \
    H(ADDRESS, 2, 24)               \
    H(ENTRY, 3, 12)                 \
    H(CONSOLE_FLAGS, 4, 12)         \
    H(FRAMEBUFFER, 5, 20)           \
    H(MODULE_ALIGN, 6, 8)           \
    H(EFI_BS, 7, 8)                 \
    H(ENTRY_EFI32, 8, 12)           \
    H(ENTRY_EFI64, 9, 12)           \
    H(RELOCATABLE, 10, 24)

enum mb2_header_tag {
#define H(name, type, size) MB2_HT_##name = type,
    MB2_HEADER_TAGS(H)
#undef H
};

/* I(name, type): the boot information tags this loader provides (spec "Boot
 * information format"); an information request for any other type fails the
 * load unless the request tag is optional. */
#define MB2_INFO_TAGS(I)    \
    I(END, 0)               \
    I(CMDLINE, 1)           \
    I(LOADER_NAME, 2)       \
    I(MODULE, 3)            \
    I(BASIC_MEMINFO, 4)     \
    I(MMAP, 6)              \
    I(ACPI_OLD, 14)         \
    I(ACPI_NEW, 15)

enum mb2_info_tag {
#define I(name, type) MB2_IT_##name = type,
    MB2_INFO_TAGS(I)
#undef I
};

#define MB2_MMAP_ENTRY 24 /* u64 base, u64 length, u32 type, u32 reserved */

typedef struct mb2_kernel {
    mb_kernel_t k;          /* the load plan; k.hdr.file_offset is the header's offset */
    bool has_entry;         /* an entry address tag overrides the ELF entry */
} mb2_kernel_t;

/* Find the header: 8-byte aligned in the first 32 KiB, with a valid checksum.
 * Returns its offset, or -1. */
long mb2_find_header(const uint8_t *buf, size_t len);

/* Parse a kernel image with a Multiboot 2 header into a load plan. Returns
 * 0, or -1 with a one-line reason in err. Pure. */
int mb2_parse(const uint8_t *buf, size_t len, mb2_kernel_t *k, char *err, size_t errlen);

/* Copy the kernel, the modules and the boot information into m's RAM. The
 * ACPI tags copy the RSDP at ACPI_RSDP_ADDR (devices/acpi.h), which must have
 * been built. Returns the information's address (> 0), or 0 with err. */
uint32_t mb2_load(machine_t *m, const mb2_kernel_t *k, const uint8_t *buf, const mb_boot_t *b, char *err,
                  size_t errlen);

/* The Multiboot 1 entry state with EAX = MB2_BOOT_MAGIC. */
void mb2_enter(cpu_t *c, uint32_t info, uint32_t entry);

#endif
