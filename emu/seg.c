/* seg.c - segment limit and type checks on memory accesses, descriptor-table
 * access, and segment-register loads with the protection checks of SDM Vol. 3A
 * "Protection" (ch. 5) and Vol. 2 "MOV", "POP", "LDS/LES/LFS/LGS/LSS".
 */
#include "emu/seg.h"

#include "emu/exec.h"
#include "emu/fault.h"
#include "emu/flags.h"
#include "emu/machine.h"
#include "emu/mmu.h"
#include "emu/paging.h"
#include "emu/virt.h"

/* Limit check of [off, off+size) against a cache (SDM Vol. 3A 5.3 "Limit
 * Checking"): expand-up segments allow offsets up to the limit, expand-down
 * data segments allow offsets above it up to 64 KiB or 4 GiB (the B bit). */
static inline bool seg_limit_ok(const seg_t *s, uint64_t off, int size)
{
    uint64_t last = off + (uint64_t)size - 1;
    if ((s->ar & (AR_S | SEG_CODE | SEG_EXPDN)) == (AR_S | SEG_EXPDN))
        return off > s->limit && last <= ((s->ar & AR_DB) ? 0xffffffffull : 0xffffull);
    return last <= s->limit;
}

uint64_t seg_lin_slow(cpu_t *c, int seg, uint64_t off, int size, enum mmu_access acc)
{
    const seg_t *s = &c->seg[seg];
    int vec = seg == S_SS ? EXC_SS : EXC_GP;

    if (c->mode == MODE_LONG64) {
        /* Segmentation is off except for the FS/GS bases (SDM Vol. 3A
         * 3.2.4 "Segmentation in IA-32e Mode"); only canonicality is checked. */
        uint64_t la = off + (seg >= S_FS ? s->base : 0);
        if (!seg_canonical(c, la) || !seg_canonical(c, la + (uint64_t)size - 1))
            cpu_fault_err(c, vec, 0);
        return la;
    }
    /* The common flat case: a writable expand-up data segment of 4 GiB. Any
     * access that fits needs no further check (in real mode neither). */
    if (likely((s->ar & (AR_UNUSABLE | AR_S | SEG_CODE | SEG_EXPDN | SEG_WRITE)) == (AR_S | SEG_WRITE) &&
               s->limit == 0xffffffffu && off <= 0x100000000ull - (uint64_t)size))
        return (uint32_t)(s->base + off);

    if (c->mode != MODE_REAL && c->mode != MODE_V86) {
        /* Real and V86 mode have no type checks (CS is writable there), but
         * protected and compatibility mode do (SDM Vol. 3A 5.4 "Type Checking"). */
        uint32_t ar = s->ar;
        if (ar & AR_UNUSABLE)
            cpu_fault_err(c, vec, 0);
        if (ar & SEG_CODE) {
            if (acc == ACC_WRITE || (acc == ACC_READ && !(ar & SEG_READ)))
                cpu_fault_err(c, vec, 0);
        } else if (acc == ACC_WRITE && !(ar & SEG_WRITE)) {
            cpu_fault_err(c, vec, 0);
        }
    }
    if (!seg_limit_ok(s, off, size))
        cpu_fault_err(c, vec, 0);
    return (uint32_t)(s->base + off);
}

uint64_t seg_lin_cache(cpu_t *c, const seg_t *s, bool is64, uint64_t off, int size, int vec, uint32_t err)
{
    if (is64) {
        /* 64-bit stacks (interrupts and far transfers to 64-bit code) only
         * have to be canonical. */
        if (!seg_canonical(c, off) || !seg_canonical(c, off + (uint64_t)size - 1))
            cpu_fault_err(c, vec, err);
        return off;
    }
    if (!seg_limit_ok(s, off, size))
        cpu_fault_err(c, vec, err);
    return (uint32_t)(s->base + off);
}

/* ---- descriptor tables ---- */

/* Linear address of sel's descriptor, or false if [off, off+len) is beyond the
 * table limit (SDM Vol. 3A 3.4.2 "Segment Selectors": TI picks GDT or LDT). */
static bool desc_addr(cpu_t *c, uint16_t sel, unsigned off, unsigned len, uint64_t *la)
{
    uint64_t base;
    uint32_t limit;
    if (sel & 4) {
        const seg_t *ldt = &c->seg[S_LDTR];
        if (ldt->ar & AR_UNUSABLE)
            return false;
        base = ldt->base;
        limit = ldt->limit;
    } else {
        base = c->gdtr.base;
        limit = c->gdtr.limit;
    }
    uint32_t idx = (sel & ~7u) + off;
    if (idx + len - 1 > limit)
        return false;
    *la = base + idx;
    if (!(c->efer & EFER_LMA))
        *la = (uint32_t)*la;
    return true;
}

bool seg_desc_read(cpu_t *c, uint16_t sel, uint64_t *d)
{
    uint64_t la;
    if (!desc_addr(c, sel, 0, 8, &la))
        return false;
    *d = lin_read_sys(c, la, 8);
    return true;
}

bool seg_desc_read_hi(cpu_t *c, uint16_t sel, uint64_t *hi)
{
    uint64_t la;
    if (!desc_addr(c, sel, 8, 8, &la))
        return false;
    *hi = lin_read_sys(c, la, 8);
    return true;
}

void seg_desc_write(cpu_t *c, uint16_t sel, uint64_t d)
{
    uint64_t la;
    if (desc_addr(c, sel, 0, 8, &la))
        lin_write_sys(c, la + 5, 1, (uint8_t)(d >> 40)); /* only the type/access byte ever changes */
}

void seg_desc_set_accessed(cpu_t *c, uint16_t sel, uint64_t *d)
{
    if (*d & DESC_ACC)
        return;
    *d |= DESC_ACC;
    seg_desc_write(c, sel, *d);
}

/* ---- caches ---- */

void seg_cache_from_desc(seg_t *s, uint16_t sel, uint64_t d)
{
    s->sel = sel;
    s->base = desc_base(d);
    s->limit = desc_limit(d);
    s->ar = desc_ar(d);
}

void seg_cache_null(seg_t *s, uint16_t sel)
{
    /* Intel clears base and limit on a null load; the DPL field keeps the RPL
     * so that a null SS in IA-32e mode still says which CPL owns the stack. */
    s->sel = sel;
    s->base = 0;
    s->limit = 0;
    s->ar = AR_UNUSABLE | ((uint32_t)(sel & 3) << 5);
}

void seg_set_cpl(cpu_t *c, int cpl)
{
    c->cpl = (uint8_t)cpl;
    cpu_update_mode(c);
    c->stop |= STOP_MODE;
}

void seg_set_cs(cpu_t *c, uint16_t sel, uint64_t d, int cpl)
{
    seg_cache_from_desc(&c->seg[S_CS], (uint16_t)((sel & ~3u) | (unsigned)cpl), d);
    seg_set_cpl(c, cpl);
}

/* ---- loads ---- */

void seg_load_real(cpu_t *c, int seg, uint16_t sel)
{
    seg_t *s = &c->seg[seg];
    s->sel = sel;
    s->base = (uint32_t)sel << 4;
    if (c->mode == MODE_V86) {
        /* V86 segments are always 64 KiB read/write at DPL 3 (SDM Vol. 3A
         * "Virtual-8086 Mode"; also what VM entry checks for). */
        s->limit = 0xffff;
        s->ar = AR_P | AR_S | (3u << 5) | 3;
    } else if (s->ar & AR_UNUSABLE) {
        /* A register nulled in protected mode becomes an ordinary data
         * segment again; the limit stays whatever the cache holds. */
        s->ar = AR_P | AR_S | 3;
    }
}

void seg_load(cpu_t *c, int seg, uint16_t sel)
{
    if (c->mode == MODE_REAL || c->mode == MODE_V86) {
        seg_load_real(c, seg, sel);
        return;
    }
    uint32_t err = sel & 0xfffc;
    int cpl = c->cpl, rpl = sel & 3;
    uint64_t d;

    if (seg == S_SS) {
        if (!(sel & ~3u)) {
            /* 64-bit mode allows a null SS below CPL 3 when RPL = CPL. */
            if (c->mode != MODE_LONG64 || cpl == 3 || rpl != cpl)
                cpu_fault_err(c, EXC_GP, 0);
            seg_cache_null(&c->seg[S_SS], sel);
            seg_set_cpl(c, cpl);
            return;
        }
        if (!seg_desc_read(c, sel, &d))
            cpu_fault_err(c, EXC_GP, err);
        if (rpl != cpl || !(d & DESC_S) || (desc_type(d) & (SEG_CODE | SEG_WRITE)) != SEG_WRITE ||
            desc_dpl(d) != cpl)
            cpu_fault_err(c, EXC_GP, err);
        if (!(d & DESC_P))
            cpu_fault_err(c, EXC_SS, err);
        seg_desc_set_accessed(c, sel, &d);
        seg_cache_from_desc(&c->seg[S_SS], sel, d);
        seg_set_cpl(c, cpl); /* the stack size may have changed: refetch */
        return;
    }

    if (!(sel & ~3u)) {
        seg_cache_null(&c->seg[seg], sel);
        return;
    }
    if (!seg_desc_read(c, sel, &d))
        cpu_fault_err(c, EXC_GP, err);
    int type = desc_type(d);
    /* Data, or readable code; privilege applies unless conforming code. */
    if (!(d & DESC_S) || (type & (SEG_CODE | SEG_READ)) == SEG_CODE)
        cpu_fault_err(c, EXC_GP, err);
    if ((type & (SEG_CODE | SEG_CONF)) != (SEG_CODE | SEG_CONF) && (rpl > desc_dpl(d) || cpl > desc_dpl(d)))
        cpu_fault_err(c, EXC_GP, err);
    if (!(d & DESC_P))
        cpu_fault_err(c, EXC_NP, err);
    seg_desc_set_accessed(c, sel, &d);
    seg_cache_from_desc(&c->seg[seg], sel, d);
}

void seg_null_if_inaccessible(cpu_t *c, int seg)
{
    seg_t *s = &c->seg[seg];
    if (s->ar & AR_UNUSABLE)
        return;
    bool conforming = (s->ar & (SEG_CODE | SEG_CONF)) == (SEG_CODE | SEG_CONF);
    if (!conforming && AR_DPL(s->ar) < c->cpl)
        seg_cache_null(s, 0);
}

/* ---- privilege-level changes ---- */

void seg_tss_stack(cpu_t *c, int dpl, uint32_t ext, uint16_t *ss, uint64_t *sp)
{
    const seg_t *tr = &c->seg[S_TR];
    uint32_t terr = (tr->sel & 0xfffcu) | ext;
    if (AR_TYPE(tr->ar) & 8) { /* 32-bit TSS: ESPn at 4 + 8n, SSn at 8 + 8n */
        unsigned off = 4 + 8 * (unsigned)dpl;
        if (off + 5 > tr->limit)
            cpu_fault_err(c, EXC_TS, terr);
        *sp = lin_read_sys(c, (uint32_t)(tr->base + off), 4);
        *ss = (uint16_t)lin_read_sys(c, (uint32_t)(tr->base + off + 4), 2);
    } else { /* 16-bit TSS: SPn at 2 + 4n, SSn at 4 + 4n */
        unsigned off = 2 + 4 * (unsigned)dpl;
        if (off + 3 > tr->limit)
            cpu_fault_err(c, EXC_TS, terr);
        *sp = lin_read_sys(c, (uint32_t)(tr->base + off), 2);
        *ss = (uint16_t)lin_read_sys(c, (uint32_t)(tr->base + off + 2), 2);
    }
}

void seg_check_new_ss(cpu_t *c, uint16_t sel, int dpl, uint32_t ext, uint64_t *d)
{
    uint32_t err = (sel & 0xfffcu) | ext;
    if (!(sel & ~3u))
        cpu_fault_err(c, EXC_TS, ext);
    if (!seg_desc_read(c, sel, d))
        cpu_fault_err(c, EXC_TS, err);
    if ((sel & 3) != dpl || desc_dpl(*d) != dpl || !(*d & DESC_S) ||
        (desc_type(*d) & (SEG_CODE | SEG_WRITE)) != SEG_WRITE)
        cpu_fault_err(c, EXC_TS, err);
    if (!(*d & DESC_P))
        cpu_fault_err(c, EXC_SS, err);
}

/* ---- stacks in the making ---- */

seg_stack_t seg_stack_cur(cpu_t *c)
{
    seg_stack_t s = { .ss = c->seg[S_SS], .is64 = c->mode == MODE_LONG64 };
    s.mask = s.is64 ? ~0ull : seg_sp_mask(&s.ss);
    s.sp = c->gpr[R_RSP] & s.mask;
    return s;
}

void seg_stack_push(cpu_t *c, seg_stack_t *s, int size, uint64_t v)
{
    s->sp = (s->sp - (uint64_t)size) & s->mask;
    uint64_t la = seg_lin_cache(c, &s->ss, s->is64, s->sp, size, EXC_SS, s->err);
    if (s->sys)
        lin_write_sys(c, la, size, v);
    else
        lin_write(c, la, size, v);
}

uint64_t seg_stack_read(cpu_t *c, const seg_stack_t *s, uint64_t off, int size)
{
    uint64_t la = seg_lin_cache(c, &s->ss, s->is64, (s->sp + off) & s->mask, size, EXC_SS, s->err);
    return s->sys ? lin_read_sys(c, la, size) : lin_read(c, la, size);
}

/* ---- task switching (SDM Vol. 3A 7.3 "Task Switching", 7.2.1 "Task-State Segment (TSS)") ---- */

/* Field offsets of the 32-bit and 16-bit TSS. */
enum { TSS32_CR3 = 0x1c, TSS32_EIP = 0x20, TSS32_EFLAGS = 0x24, TSS32_GPR = 0x28, TSS32_SEG = 0x48,
       TSS32_LDT = 0x60, TSS32_SIZE = 0x68 };
enum { TSS16_IP = 0x0e, TSS16_FLAGS = 0x10, TSS16_GPR = 0x12, TSS16_SEG = 0x22, TSS16_LDT = 0x2a,
       TSS16_SIZE = 0x2c };

static uint32_t img_get(const uint8_t *img, unsigned off, int size)
{
    uint32_t v = 0;
    for (int i = size - 1; i >= 0; i--)
        v = v << 8 | img[off + (unsigned)i];
    return v;
}

/* Load one of the new task's segment registers with the checks of the task
 * switch, raising #TS (or #NP/#SS for a segment not present) in the new task. */
static void task_load_seg(cpu_t *c, int seg, uint16_t sel)
{
    uint32_t err = sel & 0xfffcu;
    int rpl = sel & 3;
    uint64_t d;
    if (!(sel & ~3u)) {
        if (seg == S_CS || seg == S_SS)
            cpu_fault_err(c, EXC_TS, err);
        seg_cache_null(&c->seg[seg], sel);
        return;
    }
    if (!seg_desc_read(c, sel, &d) || !(d & DESC_S))
        cpu_fault_err(c, EXC_TS, err);
    int type = desc_type(d), dpl = desc_dpl(d);
    if (seg == S_CS) {
        bool conf = (type & SEG_CONF) != 0;
        if (!(type & SEG_CODE) || (conf ? dpl > rpl : dpl != rpl))
            cpu_fault_err(c, EXC_TS, err);
        if (!(d & DESC_P))
            cpu_fault_err(c, EXC_NP, err);
        seg_desc_set_accessed(c, sel, &d);
        seg_set_cs(c, sel, d, rpl);
        return;
    }
    if (seg == S_SS) {
        if ((type & (SEG_CODE | SEG_WRITE)) != SEG_WRITE || rpl != c->cpl || dpl != c->cpl)
            cpu_fault_err(c, EXC_TS, err);
        if (!(d & DESC_P))
            cpu_fault_err(c, EXC_SS, err);
    } else {
        if ((type & (SEG_CODE | SEG_READ)) == SEG_CODE)
            cpu_fault_err(c, EXC_TS, err);
        if ((type & (SEG_CODE | SEG_CONF)) != (SEG_CODE | SEG_CONF) && (dpl < c->cpl || dpl < rpl))
            cpu_fault_err(c, EXC_TS, err);
        if (!(d & DESC_P))
            cpu_fault_err(c, EXC_NP, err);
    }
    seg_desc_set_accessed(c, sel, &d);
    seg_cache_from_desc(&c->seg[seg], sel, d);
}

void task_switch(cpu_t *c, uint16_t sel, enum task_reason why, uint32_t ext)
{
    uint32_t serr = (sel & 0xfffcu) | ext;
    int fvec = why == TS_IRET ? EXC_TS : EXC_GP;
    uint64_t d;

    /* IA-32e mode has no hardware task switching. */
    if (c->efer & EFER_LMA)
        cpu_fault_err(c, EXC_GP, serr);
    if ((sel & 4) || !seg_desc_read(c, sel, &d))
        cpu_fault_err(c, fvec, serr);
    int t = desc_type(d);
    /* A TSS (types 1, 3, 9, 11), busy exactly when returning to it by IRET. */
    if ((d & DESC_S) || (t & 5) != 1 || ((t & 2) != 0) != (why == TS_IRET))
        cpu_fault_err(c, fvec, serr);
    if (!(d & DESC_P))
        cpu_fault_err(c, EXC_NP, serr);
    bool n32 = (t & 8) != 0;
    unsigned nsize = n32 ? TSS32_SIZE : TSS16_SIZE;
    if (desc_limit(d) < nsize - 1)
        cpu_fault_err(c, EXC_TS, serr);
    /* VMX non-root operation: the switch is a VM exit instead, after the checks
     * of the gate and of the new TSS descriptor (SDM Vol. 3C "Task Switches" in
     * "Other Changes in VMX Non-Root Operation"). */
    if (c->nonroot && c->m->virt)
        c->m->virt->task_switch(c, sel, why);

    /* Read the new TSS before anything changes, so paging faults leave the
     * old task intact. */
    uint32_t nbase = desc_base(d);
    uint8_t img[TSS32_SIZE];
    for (unsigned i = 0; i < nsize; i += 4) {
        uint32_t v = (uint32_t)lin_read_sys(c, (uint32_t)(nbase + i), 4);
        for (int k = 0; k < 4; k++)
            img[i + (unsigned)k] = (uint8_t)(v >> (8 * k));
    }

    /* Save the outgoing task's state in its TSS. */
    seg_t *tr = &c->seg[S_TR];
    uint32_t obase = (uint32_t)tr->base;
    uint64_t fl = cpu_get_rflags(c);
    if (why == TS_IRET)
        fl &= ~(uint64_t)F_NT;
    if (AR_TYPE(tr->ar) & 8) {
        lin_write_sys(c, obase + TSS32_EIP, 4, c->rip);
        lin_write_sys(c, obase + TSS32_EFLAGS, 4, fl);
        for (unsigned r = 0; r < 8; r++)
            lin_write_sys(c, obase + TSS32_GPR + 4 * r, 4, c->gpr[r]);
        for (unsigned s = 0; s < 6; s++)
            lin_write_sys(c, obase + TSS32_SEG + 4 * s, 2, c->seg[s].sel);
    } else {
        lin_write_sys(c, obase + TSS16_IP, 2, c->rip);
        lin_write_sys(c, obase + TSS16_FLAGS, 2, fl);
        for (unsigned r = 0; r < 8; r++)
            lin_write_sys(c, obase + TSS16_GPR + 2 * r, 2, c->gpr[r]);
        for (unsigned s = 0; s < 4; s++)
            lin_write_sys(c, obase + TSS16_SEG + 2 * s, 2, c->seg[s].sel);
    }
    uint64_t od;
    if ((why == TS_JMP || why == TS_IRET) && seg_desc_read(c, tr->sel, &od))
        seg_desc_write(c, tr->sel, od & ~DESC_BUSY);
    if (why == TS_CALL || why == TS_INT)
        lin_write_sys(c, nbase, 2, tr->sel); /* previous-task link */
    if (why != TS_IRET)
        seg_desc_write(c, sel, d | DESC_BUSY);

    /* Commit: the new task's registers. */
    seg_cache_from_desc(tr, sel, d | DESC_BUSY);
    c->cr0 |= CR0_TS;
    uint64_t nfl;
    uint16_t sels[6], ldt;
    bool pdpte_fault = false;
    if (n32) {
        /* CR3 with its PDPTE loads and TLB flush; bad PDPTEs fault in the new task. */
        if ((c->cr0 & CR0_PG) && !cpu_write_cr3(c, img_get(img, TSS32_CR3, 4)))
            pdpte_fault = true;
        c->rip = img_get(img, TSS32_EIP, 4);
        nfl = img_get(img, TSS32_EFLAGS, 4);
        for (unsigned r = 0; r < 8; r++)
            c->gpr[r] = img_get(img, TSS32_GPR + 4 * r, 4);
        for (unsigned s = 0; s < 6; s++)
            sels[s] = (uint16_t)img_get(img, TSS32_SEG + 4 * s, 2);
        ldt = (uint16_t)img_get(img, TSS32_LDT, 2);
    } else {
        c->rip = img_get(img, TSS16_IP, 2);
        nfl = img_get(img, TSS16_FLAGS, 2);
        for (unsigned r = 0; r < 8; r++)
            c->gpr[r] = (c->gpr[r] & ~0xffffull) | img_get(img, TSS16_GPR + 2 * r, 2);
        for (unsigned s = 0; s < 4; s++)
            sels[s] = (uint16_t)img_get(img, TSS16_SEG + 2 * s, 2);
        sels[S_FS] = sels[S_GS] = 0; /* a 16-bit TSS holds no FS/GS */
        ldt = (uint16_t)img_get(img, TSS16_LDT, 2);
    }
    if (why == TS_CALL || why == TS_INT)
        nfl |= F_NT;
    cpu_set_rflags(c, nfl | 2);
    /* Faults from here on belong to the new task and restart at its EIP. */
    c->insn_rip = c->rip;
    c->exc_depth = 0;
    for (int s = 0; s < 6; s++)
        seg_cache_null(&c->seg[s], sels[s]);
    seg_cache_null(&c->seg[S_LDTR], ldt);
    c->cpl = sels[S_CS] & 3;
    cpu_update_mode(c);
    c->stop |= STOP_MODE;
    if (pdpte_fault)
        cpu_fault_err(c, EXC_GP, 0);

    if (ldt & ~3u) {
        uint64_t ld;
        if ((ldt & 4) || !seg_desc_read(c, ldt, &ld) || (ld & DESC_S) || desc_type(ld) != SYS_LDT)
            cpu_fault_err(c, EXC_TS, ldt & 0xfffcu);
        if (!(ld & DESC_P))
            cpu_fault_err(c, EXC_TS, ldt & 0xfffcu);
        seg_cache_from_desc(&c->seg[S_LDTR], ldt, ld);
    }
    if (nfl & F_VM) {
        for (int s = 0; s < 6; s++)
            seg_load_real(c, s, sels[s]);
        return;
    }
    task_load_seg(c, S_CS, sels[S_CS]);
    task_load_seg(c, S_SS, sels[S_SS]);
    for (int s = 0; s < 6; s++)
        if (s != S_CS && s != S_SS)
            task_load_seg(c, s, sels[s]);
    if (c->rip > c->seg[S_CS].limit)
        cpu_fault_err(c, EXC_GP, 0);
}
