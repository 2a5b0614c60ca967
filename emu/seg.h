/* seg.h - segment descriptors, segment-register loads and privilege state.
 *
 * Descriptors are handled as raw 64-bit values (the 8 bytes as the table holds
 * them, little-endian) and decoded by the inline helpers below; the cache
 * attributes use the VMX access-rights layout of emu/cpu.h, which is exactly
 * descriptor bits 40-55 shifted down by 40 (SDM Vol. 3A 3.4.5 "Segment Descriptors").
 * The loads (seg_load and friends) implement the checks of MOV/POP Sreg and
 * LDS/LES/LFS/LGS/LSS (SDM Vol. 2 "MOV - Move", "LDS/LES/LFS/LGS/LSS").
 */
#ifndef VMXEMU_SEG_H
#define VMXEMU_SEG_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/cpu.h"

/* ---- descriptor fields ---- */
#define DESC_S   (1ull << 44)  /* code/data (1) or system (0) */
#define DESC_P   (1ull << 47)
#define DESC_ACC (1ull << 40)  /* accessed bit of code/data descriptors */
#define DESC_BUSY (1ull << 41) /* busy bit of TSS descriptors (type 1 -> 3, 9 -> 11) */

static inline uint32_t desc_base(uint64_t d)
{
    return (uint32_t)(((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000));
}
/* Byte-granular limit: G scales the 20-bit field by 4 KiB, filling low bits with ones. */
static inline uint32_t desc_limit(uint64_t d)
{
    uint32_t l = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));
    return (d & (1ull << 55)) ? (l << 12) | 0xfff : l;
}
static inline uint32_t desc_ar(uint64_t d) { return (uint32_t)(d >> 40) & 0xf0ff; }
static inline int desc_type(uint64_t d) { return (int)(d >> 40) & 0xf; }
static inline int desc_dpl(uint64_t d) { return (int)(d >> 45) & 3; }

/* Gate fields (call, interrupt, trap, task gates). */
static inline uint16_t gate_sel(uint64_t d) { return (uint16_t)(d >> 16); }
static inline uint32_t gate_off(uint64_t d) { return (uint32_t)((d & 0xffff) | ((d >> 32) & 0xffff0000)); }

/* System-descriptor types (S = 0), SDM Vol. 3A 3.5 "System Descriptor Types". In
 * IA-32e mode types 9, 11, 12, 14 and 15 are the 64-bit TSS and gates and the
 * 16-bit types are invalid. */
enum {
    SYS_TSS16 = 1, SYS_LDT = 2, SYS_TSS16_BUSY = 3, SYS_CALL16 = 4, SYS_TASK = 5,
    SYS_INT16 = 6, SYS_TRAP16 = 7, SYS_TSS32 = 9, SYS_TSS32_BUSY = 11, SYS_CALL32 = 12,
    SYS_INT32 = 14, SYS_TRAP32 = 15,
};

/* Code/data type bits (S = 1). */
#define SEG_CODE  0x8  /* code when set, else data */
#define SEG_CONF  0x4  /* code: conforming */
#define SEG_EXPDN 0x4  /* data: expand-down */
#define SEG_READ  0x2  /* code: readable */
#define SEG_WRITE 0x2  /* data: writable */

/* ---- descriptor tables ---- */
/* Read the 8-byte descriptor sel names in the GDT or LDT (TI bit). Returns false
 * if it lies outside the table's limit (or TI=1 with an unusable LDTR). */
bool seg_desc_read(cpu_t *c, uint16_t sel, uint64_t *d);
/* The upper 8 bytes of a 16-byte system descriptor (IA-32e mode LDT, TSS, call
 * gate): false if they lie outside the table. */
bool seg_desc_read_hi(cpu_t *c, uint16_t sel, uint64_t *hi);
/* Write a descriptor back (accessed and busy bits). */
void seg_desc_write(cpu_t *c, uint16_t sel, uint64_t d);
/* Set the accessed bit in memory if *d lacks it (and in *d). */
void seg_desc_set_accessed(cpu_t *c, uint16_t sel, uint64_t *d);

/* ---- segment caches ---- */
/* Fill a cache from a descriptor (base, expanded limit, access rights). */
void seg_cache_from_desc(seg_t *s, uint16_t sel, uint64_t d);
/* A null selector: the register becomes unusable. For SS the DPL keeps the
 * selector's RPL so that SS.DPL still names the CPL (IA-32e mode null SS). */
void seg_cache_null(seg_t *s, uint16_t sel);

/* Make CS the given code segment at privilege cpl (CS.RPL := cpl), update
 * c->cpl and the mode, and set STOP_MODE. */
void seg_set_cs(cpu_t *c, uint16_t sel, uint64_t d, int cpl);
/* Change CPL alone (e.g. the SS load that accompanies it already happened). */
void seg_set_cpl(cpu_t *c, int cpl);

/* MOV Sreg / POP Sreg / LxS: load data segment or SS from sel with every check
 * of the current mode; faults #GP/#SS/#NP with error code sel & ~3. Real and
 * V86 mode: base = sel << 4. Not for CS (far transfers load CS). */
void seg_load(cpu_t *c, int seg, uint16_t sel);
/* Real and V86 mode load: base = sel << 4; the limit stays (unreal mode) in
 * real mode and is 64 KiB in V86 mode. */
void seg_load_real(cpu_t *c, int seg, uint16_t sel);
/* After a return to an outer privilege level (RET far, IRET): a data or
 * non-conforming code segment in ES/DS/FS/GS with DPL < new CPL becomes null
 * (SDM Vol. 2 "RET", "IRET"). */
void seg_null_if_inaccessible(cpu_t *c, int seg);

/* Whether a linear address is canonical for the current paging mode. */
static inline bool seg_canonical(const cpu_t *c, uint64_t la)
{
    int sh = (c->cr4 & CR4_LA57) ? 56 : 47;
    return (uint64_t)(((int64_t)la >> sh) + 1) <= 1;
}

/* Check an access of size bytes at offset off against a segment cache that is
 * not necessarily loaded yet (new stacks during far calls and interrupts);
 * raises vec(err) when the limit forbids it. is64: the access is made in
 * 64-bit mode (the new code is 64-bit): only canonicality counts. Returns the
 * linear address (truncated to 32 bits otherwise). */
uint64_t seg_lin_cache(cpu_t *c, const seg_t *s, bool is64, uint64_t off, int size, int vec, uint32_t err);

#endif

/* ---- privilege-level changes ---- */
/* The inner stack for privilege level dpl from the current 16- or 32-bit TSS
 * (SDM Vol. 3A 5.8.5 "Stack Switching"); #TS(TR | ext) if the TSS is too short. */
void seg_tss_stack(cpu_t *c, int dpl, uint32_t ext, uint16_t *ss, uint64_t *sp);
/* Checks of a new inner SS for privilege level dpl (interrupts and calls
 * through gates): #TS(sel | ext) for the wrong selector or descriptor, #SS(sel
 * | ext) if not present. Returns the descriptor in *d. */
void seg_check_new_ss(cpu_t *c, uint16_t sel, int dpl, uint32_t ext, uint64_t *d);

/* A stack in the making (far calls, interrupts, returns): pushes and reads are
 * checked against ss (which need not be loaded yet) and raise #SS(err); the
 * stack pointer lives here until seg_set_sp() commits it, so a fault leaves
 * RSP unchanged. */
typedef struct seg_stack {
    seg_t ss;
    uint64_t sp, mask; /* stack pointer and its width: 0xffff, 0xffffffff or ~0 */
    bool is64, sys;    /* 64-bit stack (canonical checks only); implicit supervisor accesses */
    uint32_t err;      /* #SS error code */
} seg_stack_t;
/* The current stack (SS:RSP at CPL, #SS(0)). */
seg_stack_t seg_stack_cur(cpu_t *c);
void seg_stack_push(cpu_t *c, seg_stack_t *s, int size, uint64_t v);
/* Read size bytes at s->sp + off (no pop). */
uint64_t seg_stack_read(cpu_t *c, const seg_stack_t *s, uint64_t off, int size);
/* Stack-pointer width of a stack segment outside 64-bit mode (its B bit). */
static inline uint64_t seg_sp_mask(const seg_t *ss) { return (ss->ar & AR_DB) ? 0xffffffffull : 0xffffull; }
/* Write a stack pointer of width mask into RSP (a 16-bit stack keeps RSP[63:16]). */
static inline void seg_set_sp(cpu_t *c, uint64_t sp, uint64_t mask)
{
    if (mask == 0xffff)
        c->gpr[R_RSP] = (c->gpr[R_RSP] & ~0xffffull) | (sp & 0xffff);
    else
        c->gpr[R_RSP] = sp & mask;
}

/* ---- tasks ---- */
/* Why a task switch happens (SDM Vol. 3A 7.3 "Task Switching"); decides the busy
 * bits, the NT flag and the previous-task link. */
enum task_reason { TS_JMP, TS_CALL, TS_INT, TS_IRET };
/* Switch to the task whose TSS descriptor sel names (a GDT selector). ext is
 * the EXT bit for error codes of the checks made before the switch. Faults
 * while loading the new task's segments are raised in the new task. */
void task_switch(cpu_t *c, uint16_t sel, enum task_reason why, uint32_t ext);
