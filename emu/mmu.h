/* mmu.h - linear-address memory access through the software TLB.
 *
 * The fast path is inline: index the TLB by the page number, compare the tag
 * with the page of the access's last byte (so a page-crossing access or an
 * entry with slow-path bits misses), and add. Everything else (walks, A/D
 * updates, MMIO, code-page stores, page-crossing accesses, #PF) lives in
 * emu/mmu.c and emu/paging.c.
 *
 * All accesses here are made with the current CPL's privilege. Implicit
 * supervisor accesses (descriptor tables, TSS, IDT) use lin_read_sys() /
 * lin_write_sys(), which the SDM treats as CPL 0 accesses even at CPL 3.
 */
#ifndef VMXEMU_MMU_H
#define VMXEMU_MMU_H

#include <stdint.h>
#include <string.h>

#include "emu/cpu.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

enum mmu_access { ACC_READ = 0, ACC_WRITE = 1, ACC_EXEC = 2 };

uint64_t lin_read_slow(cpu_t *c, uint64_t la, int size);
void lin_write_slow(cpu_t *c, uint64_t la, int size, uint64_t val);

#define LIN_RW(bits, type)                                                          \
    static inline type lin_read##bits(cpu_t *c, uint64_t la)                        \
    {                                                                               \
        tlb_entry_t *e = &c->tlb[(la >> 12) & (TLB_SIZE - 1)];                      \
        if (likely(e->tag_r == ((la + sizeof(type) - 1) & ~0xfffull))) {            \
            type v;                                                                 \
            memcpy(&v, (void *)(uintptr_t)(la + e->addend), sizeof v);              \
            return v;                                                               \
        }                                                                           \
        return (type)lin_read_slow(c, la, sizeof(type));                            \
    }                                                                               \
    static inline void lin_write##bits(cpu_t *c, uint64_t la, type v)               \
    {                                                                               \
        tlb_entry_t *e = &c->tlb[(la >> 12) & (TLB_SIZE - 1)];                      \
        if (likely(e->tag_w == ((la + sizeof(type) - 1) & ~0xfffull))) {            \
            memcpy((void *)(uintptr_t)(la + e->addend), &v, sizeof v);              \
            return;                                                                 \
        }                                                                           \
        lin_write_slow(c, la, sizeof(type), v);                                     \
    }
LIN_RW(8, uint8_t)
LIN_RW(16, uint16_t)
LIN_RW(32, uint32_t)
LIN_RW(64, uint64_t)
#undef LIN_RW

/* Size-generic forms (size 1, 2, 4, 8). */
static inline uint64_t lin_read(cpu_t *c, uint64_t la, int size)
{
    switch (size) {
    case 1: return lin_read8(c, la);
    case 2: return lin_read16(c, la);
    case 4: return lin_read32(c, la);
    default: return lin_read64(c, la);
    }
}
static inline void lin_write(cpu_t *c, uint64_t la, int size, uint64_t v)
{
    switch (size) {
    case 1: lin_write8(c, la, (uint8_t)v); break;
    case 2: lin_write16(c, la, (uint16_t)v); break;
    case 4: lin_write32(c, la, (uint32_t)v); break;
    default: lin_write64(c, la, v); break;
    }
}

/* Block accesses (FXSAVE images, 10-byte x87 operands, descriptor pairs):
 * all bytes are checked for faults before any is written. */
void lin_read_bytes(cpu_t *c, uint64_t la, void *dst, int n);
void lin_write_bytes(cpu_t *c, uint64_t la, const void *src, int n);
/* Check that [la, la+n) is writable (faults if not) without writing. */
void lin_probe_write(cpu_t *c, uint64_t la, int n);

/* Implicit supervisor-mode accesses (descriptor tables, TSS, IDT, shadow stack-free). */
uint64_t lin_read_sys(cpu_t *c, uint64_t la, int size);
void lin_write_sys(cpu_t *c, uint64_t la, int size, uint64_t val);

/* Translate for instruction fetch; raises #PF on failure. Returns the physical address. */
uint64_t mmu_translate_fetch(cpu_t *c, uint64_t la);

/* A pure walk with no side effects (no A/D updates, no faults), for the monitor
 * and tests: returns 0 and sets *pa, or the #PF error code that an access of
 * kind acc at privilege user would raise (with bit 31 set to mean "fault").
 * In non-root operation with EPT *pa is host-physical, and a guest-physical
 * address EPT does not map fails with bit 31 and P clear. */
uint64_t mmu_probe(cpu_t *c, uint64_t la, enum mmu_access acc, int user, uint64_t *pa);

/* TLB maintenance. */
void tlb_flush_all(cpu_t *c);        /* everything, globals too */
void tlb_flush_nonglobal(cpu_t *c);  /* MOV CR3 without PCID preservation */
void tlb_flush_page(cpu_t *c, uint64_t la);
void tlb_flush_pcid(cpu_t *c, uint16_t pcid, int keep_global);
/* The decoded-block cache started caching code from the RAM page at pa: every
 * vCPU's TLB must send stores to that page down the slow path (TLB_SLOW_CODE). */
struct machine;
void tlb_code_page_added(struct machine *m, uint64_t pa);

#endif
