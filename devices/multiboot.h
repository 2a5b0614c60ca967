/* multiboot.h - boot a Multiboot 1 kernel (ELF32, ELF64 or a.out-kludge
 * image) the way GRUB and QEMU's -kernel do: load it, place the modules and
 * the boot information, and put the CPU in the Multiboot entry state.
 *
 * Two layers: mb_parse() is pure (bytes in, load plan out; fuzzable), and
 * mb_load()/mb_enter() write guest RAM and CPU state from that plan.
 * Reference: the Multiboot Specification version 0.6.96.
 */
#ifndef VMXEMU_MULTIBOOT_H
#define VMXEMU_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>

#include "devices/elf.h"
#include "emu/machine.h"

#define MB_HEADER_MAGIC 0x1BADB002u  /* in the kernel's header */
#define MB_BOOT_MAGIC   0x2BADB002u  /* in EAX at entry */
#define MB_SEARCH_LEN   8192         /* the header lies 32-bit aligned in the first 8 KiB */

/* Header flags: bits 0-15 are requirements (an unknown one must fail the load). */
#define MB_HF_PAGE_ALIGN 0x00000001u /* modules on 4 KiB boundaries */
#define MB_HF_MEMINFO    0x00000002u /* mem_* (and the memory map) required */
#define MB_HF_VIDEO      0x00000004u /* video mode table wanted */
#define MB_HF_AOUT       0x00010000u /* the address fields below are valid: the a.out kludge */

/* Boot information flags (which info fields are valid). */
#define MB_IF_MEM      0x001u
#define MB_IF_CMDLINE  0x004u
#define MB_IF_MODS     0x008u
#define MB_IF_MMAP     0x040u
#define MB_IF_LOADER   0x200u

/* Memory map entry types: E820's (devices/memmap.h builds the map). */
#define MB_MEM_AVAILABLE 1
#define MB_MEM_RESERVED  2

/* The boot information structure's size and field offsets we fill. */
#define MB_INFO_SIZE      116
#define MB_INFO_FLAGS     0
#define MB_INFO_MEM_LOWER 4
#define MB_INFO_MEM_UPPER 8
#define MB_INFO_CMDLINE   16
#define MB_INFO_MODS_CNT  20
#define MB_INFO_MODS_ADDR 24
#define MB_INFO_MMAP_LEN  44
#define MB_INFO_MMAP_ADDR 48
#define MB_INFO_LOADER    64
#define MB_MOD_SIZE       16 /* mod_start, mod_end, string, reserved */
#define MB_MMAP_ENTRY     24 /* size (= 20, not counting itself), base_addr, length, type */

#define MB_MAX_MODS       64

#define MB_LOADER_NAME "vmxemu"

typedef struct mb_header {
    uint32_t file_offset;  /* where the header was found */
    uint32_t flags;
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr; /* MB_HF_AOUT only */
} mb_header_t;

/* A kernel image as the loader will place it. */
typedef struct mb_kernel {
    mb_header_t hdr;
    int format;          /* 32 or 64 for ELF, 0 for the a.out kludge */
    uint32_t entry;      /* physical entry point (32-bit code) */
    uint64_t end;        /* first byte above every loaded segment (bss included) */
    int nseg;
    elf_seg_t seg[ELF_MAX_SEGS];
} mb_kernel_t;

/* A module: its bytes and the string the kernel sees (file name plus args). */
typedef struct mb_module {
    const uint8_t *data;
    size_t len;
    const char *string;
} mb_module_t;

/* What the boot information reports besides memory. */
typedef struct mb_boot {
    const char *cmdline;      /* the whole command line (kernel file name first) */
    const mb_module_t *mods;
    int nmods;
} mb_boot_t;

/* Find the header in the first 8 KiB. Returns 0, or -1 if there is none. */
int mb_find_header(const uint8_t *buf, size_t len, mb_header_t *h);

/* Parse a kernel image into a load plan. Returns 0, or -1 with a one-line
 * reason in err. Pure: touches nothing but *k and err. */
int mb_parse(const uint8_t *buf, size_t len, mb_kernel_t *k, char *err, size_t errlen);

/* The image part of parsing, shared with Multiboot 2 (devices/multiboot2.c):
 * with MB_HF_AOUT in k->hdr.flags, one segment from k->hdr's address fields;
 * otherwise the ELF file's segments. Sets k->format, entry, nseg, seg and end
 * (every segment must lie below 4 GiB). Returns 0, or -1 with err. */
int mb_plan_image(const uint8_t *buf, size_t len, mb_kernel_t *k, char *err, size_t errlen);

/* The placement part of loading, shared with Multiboot 2: check that the
 * kernel lies in low RAM and that it, the modules (each on a page boundary
 * from the first page above the kernel and 1 MiB, addresses in mod_at) and
 * info_size bytes of boot information fit; then copy the kernel and the
 * modules in. Returns the page-aligned address reserved for the boot
 * information, or 0 with err (nothing written). */
uint32_t mb_place(machine_t *m, const mb_kernel_t *k, const uint8_t *buf, const mb_boot_t *b, uint64_t info_size,
                  uint64_t *mod_at, char *err, size_t errlen);

/* Copy the kernel (buf is the image k was parsed from), the modules and the
 * boot information into m's RAM. Returns the information structure's address
 * (> 0), or 0 with a one-line reason in err (nothing fits, beyond RAM). */
uint32_t mb_load(machine_t *m, const mb_kernel_t *k, const uint8_t *buf, const mb_boot_t *b, char *err,
                 size_t errlen);

/* Put c in the Multiboot entry state: EAX magic, EBX info, flat 32-bit
 * protected mode without paging, interrupts off, EIP the entry point. */
void mb_enter(cpu_t *c, uint32_t info, uint32_t entry);

#endif
