/* exec_sys.c - system instructions around segmentation and privilege:
 * LGDT/LIDT/SGDT/SIDT, LLDT/LTR/SLDT/STR, CLI/STI, HLT, SYSCALL/SYSRET,
 * SYSENTER/SYSEXIT, SWAPGS, RD/WR FS/GS BASE and UD0/UD1/UD2 (SDM Vol. 2, one
 * section per instruction).
 */
#include "emu/exec.h"
#include "emu/flags.h"
#include "emu/seg.h"

static inline bool pmode(const cpu_t *c) { return c->mode != MODE_REAL && c->mode != MODE_V86; }

/* #GP(0) unless CPL 0 (V86 mode is CPL 3). */
static inline void need_cpl0(cpu_t *c)
{
    if (c->cpl != 0)
        cpu_fault_err(c, EXC_GP, 0);
}

/* SGDT/SIDT/SLDT/STR/SMSW with CR4.UMIP are CPL-0 only. */
static inline void umip_check(cpu_t *c)
{
    if ((c->cr4 & CR4_UMIP) && c->cpl > 0)
        cpu_fault_err(c, EXC_GP, 0);
}

/* ---- descriptor-table registers ---- */

/* LGDT/LIDT: limit (2 bytes) then base: 8 bytes in 64-bit mode, else 4 of
 * which a 16-bit operand size keeps 24 bits. */
static void load_dtr(cpu_t *c, const dinsn_t *d, dtr_t *r)
{
    need_cpl0(c);
    const x86_insn *i = &d->i;
    uint64_t ea = insn_ea(c, i);
    int bsize = c->mode == MODE_LONG64 ? 8 : 4;
    uint16_t limit = lin_read16(c, seg_lin(c, i->seg, ea, 2, ACC_READ));
    uint64_t base = lin_read(c, seg_lin(c, i->seg, (ea + 2) & size_mask(i->asize), bsize, ACC_READ), bsize);
    if (bsize == 8 && !seg_canonical(c, base))
        cpu_fault_err(c, EXC_GP, 0);
    if (i->osize == 2 && bsize == 4)
        base &= 0xffffff;
    r->limit = limit;
    r->base = base;
}

/* SGDT/SIDT: the full 32-bit base outside 64-bit mode whatever the operand size. */
static void store_dtr(cpu_t *c, const dinsn_t *d, const dtr_t *r)
{
    umip_check(c);
    const x86_insn *i = &d->i;
    uint64_t ea = insn_ea(c, i);
    int bsize = c->mode == MODE_LONG64 ? 8 : 4;
    uint64_t la_lim = seg_lin(c, i->seg, ea, 2, ACC_WRITE);
    uint64_t la_base = seg_lin(c, i->seg, (ea + 2) & size_mask(i->asize), bsize, ACC_WRITE);
    lin_write16(c, la_lim, r->limit);
    lin_write(c, la_base, bsize, r->base);
}

void op_lgdt(cpu_t *c, const dinsn_t *d) { load_dtr(c, d, &c->gdtr); }
void op_lidt(cpu_t *c, const dinsn_t *d) { load_dtr(c, d, &c->idtr); }
void op_sgdt(cpu_t *c, const dinsn_t *d) { store_dtr(c, d, &c->gdtr); }
void op_sidt(cpu_t *c, const dinsn_t *d) { store_dtr(c, d, &c->idtr); }

/* LDT and TSS descriptors are 16 bytes in IA-32e mode: base[63:32] in the
 * upper half, whose type field must be 0; the base must be canonical. */
static void system_desc_base(cpu_t *c, uint16_t sel, seg_t *s)
{
    if (!(c->efer & EFER_LMA))
        return;
    uint64_t hi;
    if (!seg_desc_read_hi(c, sel, &hi) || ((hi >> 40) & 0x1f) != 0)
        cpu_fault_err(c, EXC_GP, sel & 0xfffcu);
    s->base |= hi << 32;
    if (!seg_canonical(c, s->base))
        cpu_fault_err(c, EXC_GP, sel & 0xfffcu);
}

void op_lldt(cpu_t *c, const dinsn_t *d)
{
    if (!pmode(c))
        cpu_fault(c, EXC_UD);
    need_cpl0(c);
    uint16_t sel = (uint16_t)rm_read(c, &d->i, 2);
    uint32_t err = sel & 0xfffcu;
    if (!(sel & ~3u)) {
        seg_cache_null(&c->seg[S_LDTR], sel);
        return;
    }
    uint64_t desc;
    if ((sel & 4) || !seg_desc_read(c, sel, &desc) || (desc & DESC_S) || desc_type(desc) != SYS_LDT)
        cpu_fault_err(c, EXC_GP, err);
    if (!(desc & DESC_P))
        cpu_fault_err(c, EXC_NP, err);
    seg_t s;
    seg_cache_from_desc(&s, sel, desc);
    system_desc_base(c, sel, &s);
    c->seg[S_LDTR] = s;
}

void op_ltr(cpu_t *c, const dinsn_t *d)
{
    if (!pmode(c))
        cpu_fault(c, EXC_UD);
    need_cpl0(c);
    uint16_t sel = (uint16_t)rm_read(c, &d->i, 2);
    uint32_t err = sel & 0xfffcu;
    if (!(sel & ~3u))
        cpu_fault_err(c, EXC_GP, 0);
    uint64_t desc;
    int t;
    if ((sel & 4) || !seg_desc_read(c, sel, &desc) || (desc & DESC_S))
        cpu_fault_err(c, EXC_GP, err);
    t = desc_type(desc);
    /* An available TSS: 32/64-bit, or 16-bit outside IA-32e mode. */
    if (t != SYS_TSS32 && (t != SYS_TSS16 || (c->efer & EFER_LMA)))
        cpu_fault_err(c, EXC_GP, err);
    if (!(desc & DESC_P))
        cpu_fault_err(c, EXC_NP, err);
    seg_t s;
    seg_cache_from_desc(&s, sel, desc | DESC_BUSY);
    system_desc_base(c, sel, &s);
    seg_desc_write(c, sel, desc | DESC_BUSY);
    c->seg[S_TR] = s;
}

/* SLDT/STR: a register destination takes the operand size (zero-extended). */
static void store_sel(cpu_t *c, const dinsn_t *d, uint16_t sel)
{
    if (!pmode(c))
        cpu_fault(c, EXC_UD);
    umip_check(c);
    rm_write(c, &d->i, d->i.mod == 3 ? d->i.osize : 2, sel);
}

void op_sldt(cpu_t *c, const dinsn_t *d) { store_sel(c, d, c->seg[S_LDTR].sel); }
void op_str(cpu_t *c, const dinsn_t *d) { store_sel(c, d, c->seg[S_TR].sel); }

/* ---- interrupt flag ---- */

/* Which flag CLI/STI may change (SDM Vol. 2 "CLI", "STI" decision tables):
 * IF when IOPL allows; VIF with CR4.VME in V86 mode or CR4.PVI at CPL 3;
 * otherwise #GP(0). */
static uint64_t if_target(cpu_t *c)
{
    if (c->mode == MODE_REAL)
        return F_IF;
    unsigned iopl = (unsigned)(c->rflags & F_IOPL) >> 12;
    if (c->mode == MODE_V86) {
        if (iopl == 3)
            return F_IF;
        if (c->cr4 & CR4_VME)
            return F_VIF;
    } else {
        if (iopl >= c->cpl)
            return F_IF;
        if (c->cpl == 3 && (c->cr4 & CR4_PVI))
            return F_VIF;
    }
    cpu_fault_err(c, EXC_GP, 0);
}

void op_cli(cpu_t *c, const dinsn_t *d) { c->rflags &= ~if_target(c); }

void op_sti(cpu_t *c, const dinsn_t *d)
{
    uint64_t f = if_target(c);
    if (f == F_VIF) {
        if (c->rflags & F_VIP)
            cpu_fault_err(c, EXC_GP, 0);
        c->rflags |= F_VIF;
        return;
    }
    if (!(c->rflags & F_IF)) {
        /* Interrupts stay blocked until the next instruction completes. */
        c->intr_shadow = 1;
        c->rflags |= F_IF;
        c->stop |= STOP_IRQ;
    }
}

void op_hlt(cpu_t *c, const dinsn_t *d)
{
    need_cpl0(c);
    c->halted = true;
    c->stop |= STOP_HALT;
}

/* UD0, UD1, UD2: the architecturally undefined opcodes. */
void op_ud2(cpu_t *c, const dinsn_t *d) { cpu_fault(c, EXC_UD); }

/* ---- fast system calls ---- */

/* The flat segments SYSCALL/SYSRET/SYSENTER/SYSEXIT load: fixed caches, not
 * read from the GDT (SDM Vol. 2 "SYSCALL": "the descriptors are not loaded"). */
static void flat_cs(cpu_t *c, uint16_t sel, int dpl, bool l64)
{
    seg_t *s = &c->seg[S_CS];
    s->sel = sel;
    s->base = 0;
    s->limit = 0xffffffff;
    s->ar = 0xb | AR_S | AR_P | (uint32_t)dpl << 5 | AR_G | (l64 ? AR_L : AR_DB);
}

static void flat_ss(cpu_t *c, uint16_t sel, int dpl)
{
    seg_t *s = &c->seg[S_SS];
    s->sel = sel;
    s->base = 0;
    s->limit = 0xffffffff;
    s->ar = 0x3 | AR_S | AR_P | (uint32_t)dpl << 5 | AR_G | AR_DB;
}

void op_syscall(cpu_t *c, const dinsn_t *d)
{
    /* Only in 64-bit mode on Intel processors (compatibility mode: #UD). */
    if (c->mode != MODE_LONG64 || !(c->efer & EFER_SCE))
        cpu_fault(c, EXC_UD);
    uint16_t sel = (uint16_t)(c->msr_star >> 32);
    uint64_t fl = cpu_get_rflags(c);
    c->gpr[R_RCX] = c->rip;
    c->gpr[R_R11] = fl;
    /* RF ends with the instruction; FMASK clears the rest. */
    cpu_set_rflags(c, (fl & ~c->msr_fmask & ~(uint64_t)F_RF) | 2);
    flat_cs(c, sel & 0xfffc, 0, true);
    flat_ss(c, (uint16_t)(sel + 8), 0);
    c->rip = c->msr_lstar;
    seg_set_cpl(c, 0);
}

void op_sysret(cpu_t *c, const dinsn_t *d)
{
    if (c->mode != MODE_LONG64 || !(c->efer & EFER_SCE))
        cpu_fault(c, EXC_UD);
    need_cpl0(c);
    bool to64 = d->i.osize == 8;
    uint64_t rip = to64 ? c->gpr[R_RCX] : (uint32_t)c->gpr[R_RCX];
    if (!seg_canonical(c, rip))
        cpu_fault_err(c, EXC_GP, 0);
    uint16_t sel = (uint16_t)(c->msr_star >> 48);
    /* RFLAGS from R11 with RF, VM and the reserved bits cleared, bit 1 set. */
    cpu_set_rflags(c, (c->gpr[R_R11] & 0x3c7fd7) | 2);
    flat_cs(c, (uint16_t)((to64 ? sel + 16 : sel) | 3), 3, to64);
    flat_ss(c, (uint16_t)((sel + 8) | 3), 3);
    c->rip = rip;
    seg_set_cpl(c, 3);
}

void op_sysenter(cpu_t *c, const dinsn_t *d)
{
    uint16_t sel = (uint16_t)c->msr_sysenter_cs;
    if (!(c->cr0 & CR0_PE) || !(sel & 0xfffc))
        cpu_fault_err(c, EXC_GP, 0);
    bool lm = (c->efer & EFER_LMA) != 0;
    c->rflags &= ~(uint64_t)(F_VM | F_IF | F_RF);
    flat_cs(c, sel & 0xfffc, 0, lm);
    flat_ss(c, (uint16_t)((sel & 0xfffc) + 8), 0);
    c->gpr[R_RSP] = lm ? c->msr_sysenter_esp : (uint32_t)c->msr_sysenter_esp;
    c->rip = lm ? c->msr_sysenter_eip : (uint32_t)c->msr_sysenter_eip;
    seg_set_cpl(c, 0);
}

void op_sysexit(cpu_t *c, const dinsn_t *d)
{
    uint16_t sel = (uint16_t)c->msr_sysenter_cs;
    if (!(c->cr0 & CR0_PE) || !(sel & 0xfffc) || c->cpl != 0)
        cpu_fault_err(c, EXC_GP, 0);
    bool to64 = d->i.osize == 8;
    uint64_t rip = to64 ? c->gpr[R_RDX] : (uint32_t)c->gpr[R_RDX];
    uint64_t rsp = to64 ? c->gpr[R_RCX] : (uint32_t)c->gpr[R_RCX];
    if (to64 && (!seg_canonical(c, rip) || !seg_canonical(c, rsp)))
        cpu_fault_err(c, EXC_GP, 0);
    uint16_t cs = (uint16_t)((sel + (to64 ? 32 : 16)) | 3);
    flat_cs(c, cs, 3, to64);
    flat_ss(c, (uint16_t)(cs + 8), 3);
    c->gpr[R_RSP] = rsp;
    c->rip = rip;
    seg_set_cpl(c, 3);
}

void op_swapgs(cpu_t *c, const dinsn_t *d)
{
    need_cpl0(c);
    uint64_t t = c->seg[S_GS].base;
    c->seg[S_GS].base = c->msr_kernel_gs_base;
    c->msr_kernel_gs_base = t;
}

/* ---- FS/GS base access (64-bit mode only, by the decoder) ---- */

static uint64_t *fsgs_base(cpu_t *c, const dinsn_t *d, int seg)
{
    if (!(c->cr4 & CR4_FSGSBASE))
        cpu_fault(c, EXC_UD);
    return &c->seg[seg].base;
}

static void rd_base(cpu_t *c, const dinsn_t *d, int seg)
{
    uint64_t v = *fsgs_base(c, d, seg);
    reg_set(c, &d->i, d->i.rm, d->i.osize == 8 ? 8 : 4, v);
}

static void wr_base(cpu_t *c, const dinsn_t *d, int seg)
{
    uint64_t *b = fsgs_base(c, d, seg);
    uint64_t v = d->i.osize == 8 ? c->gpr[d->i.rm] : (uint32_t)c->gpr[d->i.rm];
    if (!seg_canonical(c, v))
        cpu_fault_err(c, EXC_GP, 0);
    *b = v;
}

void op_rdfsbase(cpu_t *c, const dinsn_t *d) { rd_base(c, d, S_FS); }
void op_rdgsbase(cpu_t *c, const dinsn_t *d) { rd_base(c, d, S_GS); }
void op_wrfsbase(cpu_t *c, const dinsn_t *d) { wr_base(c, d, S_FS); }
void op_wrgsbase(cpu_t *c, const dinsn_t *d) { wr_base(c, d, S_GS); }
