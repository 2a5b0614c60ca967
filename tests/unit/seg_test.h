/* seg_test.h - fixtures shared by test_seg.c and test_except.c: a machine with
 * a GDT, IDT, TSSs and identity page tables in guest RAM, mode setters that
 * load segment caches from that GDT, and helpers that run a handler or an
 * event delivery and catch the fault it raises.
 *
 * Guest physical layout: GDT 0x1000, IDT 0x2000, 32-bit TSS 0x3000, second
 * TSS 0x3400, 64-bit TSS 0x3800, LDT 0x4000, stacks below 0x9000 (user),
 * 0xa000 (kernel), 0xb000 (IST), page tables 0x70000 mapping 1 GiB 1:1 with
 * 2 MiB pages except [UNMAPPED, UNMAPPED + 2 MiB).
 */
#ifndef SEG_TEST_H
#define SEG_TEST_H

#include "emu/seg.h"
#include "fixture.h"

#define GDT 0x1000
#define IDT 0x2000
#define TSS32 0x3000
#define TSS32B 0x3400
#define TSS64 0x3800
#define LDT 0x4000
#define USTACK 0x9000
#define KSTACK 0xa000
#define ISTACK 0xb000
#define PML4 0x70000
#define UNMAPPED 0x600000

/* GDT selectors. */
enum {
    SEL_CODE0 = 0x08, SEL_DATA0 = 0x10, SEL_CODE3 = 0x1b, SEL_DATA3 = 0x23, SEL_CODE64 = 0x28,
    SEL_CODE64_3 = 0x33, SEL_TSS = 0x38, SEL_NP = 0x40, SEL_RO = 0x48, SEL_XO = 0x50, SEL_RX = 0x58,
    SEL_EXPDN = 0x60, SEL_CALLGATE = 0x68, SEL_TSSB = 0x70, SEL_TSS64 = 0x78, SEL_LDT = 0x88,
    SEL_DATA16 = 0x90, SEL_CALLGATE64 = 0x98, GDT_LIMIT = 0xa7,
};

static machine_t *m;
static cpu_t *c;

static inline uint64_t rd(uint64_t pa, int size) { return phys_read(m, pa, size); }
static inline void wr(uint64_t pa, int size, uint64_t v) { phys_write(m, pa, size, v); }

/* Code/data or system descriptor: access byte P|DPL|S|type, flags nibble G|D|L|AVL. */
static inline uint64_t mkdesc(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
    return (limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 | (uint64_t)access << 40 |
           (uint64_t)((limit >> 16) & 0xf) << 48 | (uint64_t)(flags & 0xf) << 52 |
           (uint64_t)(base >> 24) << 56;
}
/* Gate descriptor (call, interrupt, trap, task): access byte, parameter count or IST. */
static inline uint64_t mkgate(uint16_t sel, uint32_t off, unsigned access, unsigned params)
{
    return (off & 0xffff) | (uint64_t)sel << 16 | (uint64_t)(params & 0x1f) << 32 | (uint64_t)access << 40 |
           (uint64_t)(off >> 16) << 48;
}

static inline void gdt_set(uint16_t sel, uint64_t d) { wr(GDT + (sel & ~7u), 8, d); }
static inline void idt32_set(int vec, uint64_t g) { wr(IDT + 8 * (unsigned)vec, 8, g); }
static inline void idt64_set(int vec, uint16_t sel, uint64_t off, unsigned access, unsigned ist)
{
    wr(IDT + 16 * (unsigned)vec, 8, mkgate(sel, (uint32_t)off, access, ist & 7));
    wr(IDT + 16 * (unsigned)vec + 8, 8, off >> 32);
}

static inline void load_cache(int s, uint16_t sel)
{
    seg_cache_from_desc(&c->seg[s], sel, rd(GDT + (sel & ~7u), 8));
}

static inline void build_tables(void)
{
    memset(m->ram, 0, 0x100000);
    gdt_set(SEL_CODE0, mkdesc(0, 0xfffff, 0x9b, 0xc));
    gdt_set(SEL_DATA0, mkdesc(0, 0xfffff, 0x93, 0xc));
    gdt_set(SEL_CODE3, mkdesc(0, 0xfffff, 0xfb, 0xc));
    gdt_set(SEL_DATA3, mkdesc(0, 0xfffff, 0xf3, 0xc));
    gdt_set(SEL_CODE64, mkdesc(0, 0xfffff, 0x9b, 0xa));
    gdt_set(SEL_CODE64_3, mkdesc(0, 0xfffff, 0xfb, 0xa));
    gdt_set(SEL_TSS, mkdesc(TSS32, 0x67, 0x89, 0));
    gdt_set(SEL_NP, mkdesc(0, 0xfffff, 0x13, 0xc));
    gdt_set(SEL_RO, mkdesc(0, 0xffff, 0x91, 0x4));
    gdt_set(SEL_XO, mkdesc(0, 0xffff, 0x99, 0x4));
    gdt_set(SEL_RX, mkdesc(0, 0xffff, 0x9b, 0x4));
    gdt_set(SEL_EXPDN, mkdesc(0x100000, 0xfff, 0x97, 0));
    gdt_set(SEL_CALLGATE, mkgate(SEL_CODE0, 0x5000, 0xec, 2));
    gdt_set(SEL_TSSB, mkdesc(TSS32B, 0x67, 0x89, 0));
    gdt_set(SEL_TSS64, mkdesc(TSS64, 0x67, 0x89, 0));
    wr(GDT + SEL_TSS64 + 8, 8, 0);
    gdt_set(SEL_LDT, mkdesc(LDT, 0x1f, 0x82, 0));
    gdt_set(SEL_DATA16, mkdesc(0, 0xffff, 0x93, 0));
    gdt_set(SEL_CALLGATE64, mkgate(SEL_CODE64, 0x5000, 0xec, 0)); /* 16 bytes in IA-32e mode */
    wr(GDT + SEL_CALLGATE64 + 8, 8, 0);
    c->gdtr = (dtr_t){ GDT, GDT_LIMIT };
    c->idtr = (dtr_t){ IDT, 0xfff };
    /* identity page tables for IA-32e mode */
    wr(PML4, 8, (PML4 + 0x1000) | 7);
    wr(PML4 + 0x1000, 8, (PML4 + 0x2000) | 7);
    for (uint64_t k = 0; k < 512; k++)
        if (k * 0x200000 != UNMAPPED)
            wr(PML4 + 0x2000 + 8 * k, 8, (k * 0x200000) | 0x87); /* P RW US PS */
}

static inline void set_tr(uint16_t sel)
{
    uint64_t d = rd(GDT + (sel & ~7u), 8) | DESC_BUSY;
    wr(GDT + (sel & ~7u), 8, d);
    seg_cache_from_desc(&c->seg[S_TR], sel, d);
}

/* With the control registers set: flush the TLB, load CS (code_sel) and the
 * data segments of CPL cpl from the GDT, TR (tss_sel) and the stack of that
 * level. */
static inline void enter_cpl(int cpl, uint16_t code_sel, uint16_t tss_sel)
{
    tlb_flush_all(c);
    load_cache(S_CS, code_sel);
    for (int s = S_ES; s <= S_GS; s++)
        if (s != S_CS)
            load_cache(s, cpl ? SEL_DATA3 : SEL_DATA0);
    cpu_set_rflags(c, 2);
    c->cpl = (uint8_t)cpl;
    cpu_update_mode(c);
    set_tr(tss_sel);
    c->gpr[R_RSP] = cpl ? USTACK : KSTACK;
}

/* Protected mode with paging off at the given CPL: flat 32-bit segments. */
static inline void mode_pm32(int cpl)
{
    c->cr0 = CR0_PE | CR0_ET;
    c->cr4 = 0;
    c->efer = 0;
    enter_cpl(cpl, cpl ? SEL_CODE3 : SEL_CODE0, SEL_TSS);
}

/* IA-32e 64-bit mode at the given CPL, identity paging. */
static inline void mode_long(int cpl)
{
    c->cr0 = CR0_PE | CR0_PG | CR0_ET;
    c->cr4 = CR4_PAE;
    c->cr3 = PML4;
    c->efer = EFER_LME | EFER_LMA | EFER_SCE;
    enter_cpl(cpl, cpl ? SEL_CODE64_3 : SEL_CODE64, SEL_TSS64);
}

static inline void mode_real(void)
{
    c->cr0 = CR0_ET;
    c->cr4 = 0;
    c->efer = 0;
    tlb_flush_all(c);
    for (int s = S_ES; s <= S_GS; s++)
        c->seg[s] = (seg_t){ .base = 0, .limit = 0xffff, .ar = AR_P | AR_S | 3, .sel = 0 };
    c->seg[S_CS].ar = AR_P | AR_S | 0xb;
    c->idtr = (dtr_t){ 0, 0x3ff };
    cpu_set_rflags(c, 2);
    cpu_update_mode(c);
}

static inline int setup(void **state)
{
    m = machine_new(16 << 20, cpu_model_default(), 1);
    if (!m)
        return -1;
    c = m->cpu[0];
    c->deadline = UINT64_MAX;
    build_tables();
    return 0;
}

static inline int teardown(void **state)
{
    machine_free(m);
    return 0;
}

/* A hand-built instruction: register operands, 32-bit addresses, DS. */
static inline dinsn_t mk(int osize)
{
    return fx_insn(osize, 4, 2);
}

#define RIP0 0x1000

/* Run a handler as the instruction at RIP0; returns the vector of the fault
 * it raised (recorded, not delivered) or -1. */
static inline int exec(insn_fn fn, const dinsn_t *d) { return fx_exec_at(c, fn, d, RIP0); }

/* Run a handler as the run loop does: a fault is delivered (nested faults
 * included) through cpu_deliver_pending(). */
static inline void exec_deliver(insn_fn fn, const dinsn_t *d)
{
    c->insn_rip = RIP0;
    c->rip = RIP0 + d->i.len;
    if (setjmp(c->fault_jmp)) {
        cpu_deliver_pending(c);
        return;
    }
    fn(c, d);
}

/* Deliver an event as the run loop does for interrupts. */
static inline void deliver(enum event_type type, int vec, int has_err, uint32_t err)
{
    if (setjmp(c->fault_jmp)) {
        cpu_deliver_pending(c);
        return;
    }
    cpu_deliver(c, type, vec, has_err, err);
}

/* Expect stmt to fault with vec(err). */
#define EXPECT_FAULT(vec, err, stmt)                                                     \
    do {                                                                                 \
        if (setjmp(c->fault_jmp) == 0) {                                                 \
            stmt;                                                                        \
            fail_msg("no fault, expected %d", vec);                                      \
        } else {                                                                         \
            assert_int_equal(c->ev_vec, vec);                                            \
            assert_int_equal(c->ev_err, err);                                            \
        }                                                                                \
    } while (0)
#define EXPECT_OK(stmt)                                                                  \
    do {                                                                                 \
        if (setjmp(c->fault_jmp) == 0) {                                                 \
            stmt;                                                                        \
        } else {                                                                         \
            fail_msg("fault %d (err %#x)", c->ev_vec, c->ev_err);                        \
        }                                                                                \
    } while (0)

#endif
