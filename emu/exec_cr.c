/* exec_cr.c - control and debug registers and TLB instructions: MOV to/from
 * CR0/CR2/CR3/CR4/CR8 and DR0-DR7, CLTS, LMSW, SMSW, INVLPG, INVPCID.
 * SDM Vol. 2 "MOV-Move to/from Control Registers", "MOV-Move to/from Debug
 * Registers", Vol. 3A 2.5 "Control Registers", 4.4.1 "PDPTE Registers" and
 * 4.10.4 "Invalidation of TLBs and Paging-Structure Caches".
 *
 * The software TLB caches access-rights decisions, so every change to a bit
 * those decisions depend on (CR0.WP/PG, CR4.PGE/PAE/PSE/PCIDE/SMEP/SMAP) flushes
 * it, beyond what the SDM requires of hardware TLBs.
 */
#include "emu/cpumodel.h"
#include "emu/exec.h"
#include "emu/machine.h"
#include "emu/msr.h"
#include "emu/paging.h"
#include "emu/tlb.h"
#include "emu/virt.h"

#define CR0_VALID (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD | CR0_PG)

static _Noreturn void gp0(cpu_t *c)
{
    cpu_fault_err(c, EXC_GP, 0);
}

static inline void need_cpl0(cpu_t *c)
{
    if (c->cpl != 0)
        gp0(c);
}

/* MOV CR/DR operate on 64 bits in 64-bit mode, else on 32 (operand-size prefixes are ignored). */
static inline int cr_size(const cpu_t *c)
{
    return c->mode == MODE_LONG64 ? 8 : 4;
}

/* The general register of MOV CR/DR: ModRM.rm (+ REX.B) whatever ModRM.mod says. */
static inline int cr_gpr(const x86_insn *i)
{
    return (i->modrm & 7) | ((i->rex & 1) << 3);
}

bool cpu_write_cr0(cpu_t *c, uint64_t v)
{
    if (v >> 32)
        return false;
    v = (v & CR0_VALID) | CR0_ET; /* reserved bits stay clear, ET is hardwired to 1 */
    uint64_t old = c->cr0;
    if ((v & CR0_PG) && !(v & CR0_PE))
        return false;
    if ((v & CR0_NW) && !(v & CR0_CD))
        return false;
    if ((v & CR0_PG) && !(old & CR0_PG) && (c->efer & EFER_LME) && !(c->cr4 & CR4_PAE))
        return false;
    /* paging stays on in 64-bit mode and with PCIDs enabled */
    if (!(v & CR0_PG) && (old & CR0_PG) && (c->mode == MODE_LONG64 || (c->cr4 & CR4_PCIDE)))
        return false;
    if (((v ^ old) & (CR0_PG | CR0_CD | CR0_NW)) && !cpu_load_pdptes(c, v, c->cr3, c->cr4))
        return false;
    c->cr0 = v;
    if ((v ^ old) & CR0_PG) {
        /* IA32_EFER.LMA = CR0.PG && IA32_EFER.LME */
        if ((v & CR0_PG) && (c->efer & EFER_LME))
            c->efer |= EFER_LMA;
        else
            c->efer &= ~EFER_LMA;
    }
    if ((v ^ old) & (CR0_PG | CR0_WP | CR0_PE))
        tlb_flush_all(c);
    cpu_update_mode(c);
    c->stop |= STOP_MODE;
    return true;
}

bool cpu_write_cr3(cpu_t *c, uint64_t v)
{
    bool pcide = (c->cr4 & CR4_PCIDE) != 0;
    bool noflush = false;
    if (c->efer & EFER_LMA) {
        if (pcide) {
            noflush = v >> 63; /* not stored: CR3 bit 63 reads 0 */
            v &= ~(1ull << 63);
        }
        if (v >> c->model->maxphyaddr) /* bits 63:MAXPHYADDR are reserved */
            return false;
    } else {
        v = (uint32_t)v;
    }
    if (!cpu_load_pdptes(c, c->cr0, v, c->cr4))
        return false;
    c->cr3 = v;
    if (pcide)
        tlb_flush_cr3(c, v & 0xfff, noflush);
    else
        tlb_flush_nonglobal(c);
    return true;
}

bool cpu_write_cr4(cpu_t *c, uint64_t v)
{
    uint64_t old = c->cr4;
    if (v & ~cpu_cr4_valid(c)) /* includes bits 63:32 */
        return false;
    if ((c->efer & EFER_LMA) && !(v & CR4_PAE))
        return false;
    if ((v & CR4_PCIDE) && !(old & CR4_PCIDE) && (!(c->efer & EFER_LMA) || (c->cr3 & 0xfff)))
        return false;
    if ((c->efer & EFER_LMA) && ((v ^ old) & CR4_LA57))
        return false;
    if (((v ^ old) & (CR4_PAE | CR4_PGE | CR4_PSE | CR4_SMEP)) && !cpu_load_pdptes(c, c->cr0, c->cr3, v))
        return false;
    c->cr4 = v;
    if ((v ^ old) & CR4_TLB_BITS)
        tlb_flush_all(c);
    c->stop |= STOP_MODE;
    return true;
}

/* In VMX operation, CR0 and CR4 bits are fixed as IA32_VMX_CR0/CR4_FIXED0 (must
 * be 1) and FIXED1 (may be 1) report (SDM Vol. 3C "Restrictions on VMX
 * Operation"); MOV to CR0/CR4 that breaks them is #GP(0). So CR4.VMXE cannot be
 * cleared before VMXOFF. Outside VMX operation CR4.VMXE is writable only when
 * the model has VMX (cpu_cr4_valid). In non-root operation the guest/host masks
 * decide first, so the check there belongs to vmx/intercept.c. */
static bool vmx_fixed_bits_ok(cpu_t *c, int cr, uint64_t v)
{
    uint32_t msr = cr == 0 ? MSR_IA32_VMX_CR0_FIXED0 : MSR_IA32_VMX_CR4_FIXED0;
    uint64_t fixed0, fixed1;
    if (!c->m->virt || !c->m->virt->rdmsr(c, msr, &fixed0) || !c->m->virt->rdmsr(c, msr + 1, &fixed1))
        return true;
    return (v & fixed0) == fixed0 && !(v & ~fixed1);
}

void op_mov_to_cr(cpu_t *c, const dinsn_t *d)
{
    int n = d->i.reg;
    if (n != 0 && n != 2 && n != 3 && n != 4 && n != 8)
        cpu_fault(c, EXC_UD);
    need_cpl0(c);
    uint64_t v = reg_get(c, &d->i, cr_gpr(&d->i), cr_size(c));
    if (unlikely(c->vmx_operation) && !c->nonroot && (n == 0 || n == 4) && !vmx_fixed_bits_ok(c, n, v))
        gp0(c);
    bool ok = true;
    switch (n) {
    case 0: ok = cpu_write_cr0(c, v); break;
    case 2: c->cr2 = v; break;
    case 3: ok = cpu_write_cr3(c, v); break;
    case 4: ok = cpu_write_cr4(c, v); break;
    default: /* CR8: the task-priority class; bits 63:4 are reserved */
        ok = v <= 0xf;
        if (ok) {
            c->cr8 = v;
            if (c->m->cpu_dev) /* CR8 is the local APIC's TPR[7:4] */
                c->m->cpu_dev->cr8_written(c);
        }
        break;
    }
    if (!ok)
        gp0(c);
}

void op_mov_from_cr(cpu_t *c, const dinsn_t *d)
{
    int n = d->i.reg;
    uint64_t v;
    switch (n) {
    case 0: v = c->cr0; break;
    case 2: v = c->cr2; break;
    case 3: v = c->cr3; break;
    case 4: v = c->cr4; break;
    case 8: v = c->cr8; break;
    default: cpu_fault(c, EXC_UD);
    }
    need_cpl0(c);
    reg_set(c, &d->i, cr_gpr(&d->i), cr_size(c), v);
}

/* DR4/DR5 alias DR6/DR7 unless CR4.DE makes them #UD; DR7.GD makes any access a #DB fault. */
static int dr_index(cpu_t *c, int n)
{
    if (n > 7)
        cpu_fault(c, EXC_UD);
    if (n == 4 || n == 5) {
        if (c->cr4 & CR4_DE)
            cpu_fault(c, EXC_UD);
        n += 2;
    }
    need_cpl0(c);
    if (c->dr[7] & DR7_GD) {
        /* general detect: DR6.BD reports it when the #DB is delivered (emu/except.c) */
        c->db_pending = DR6_BD;
        cpu_fault(c, EXC_DB);
    }
    return n;
}

void op_mov_to_dr(cpu_t *c, const dinsn_t *d)
{
    int n = dr_index(c, d->i.reg);
    uint64_t v = reg_get(c, &d->i, cr_gpr(&d->i), cr_size(c));
    if (n == 6 || n == 7) {
        if (v >> 32)
            gp0(c);
        if (n == 6) /* bits 4-11 and 16-31 read as 1, bit 12 as 0 (no RTM) */
            v = (v & 0xe00f) | 0xffff0ff0;
        else /* bit 10 reads as 1; bits 11, 12, 14, 15 as 0 */
            v = (v & 0xffff23ff) | 0x400;
    }
    c->dr[n] = v;
    c->stop |= STOP_MODE;
}

void op_mov_from_dr(cpu_t *c, const dinsn_t *d)
{
    int n = dr_index(c, d->i.reg);
    reg_set(c, &d->i, cr_gpr(&d->i), cr_size(c), c->dr[n]);
}

void op_clts(cpu_t *c, const dinsn_t *d)
{
    need_cpl0(c);
    c->cr0 &= ~CR0_TS;
}

/* LMSW loads CR0[3:0] (PE, MP, EM, TS) and can set PE but not clear it. */
void op_lmsw(cpu_t *c, const dinsn_t *d)
{
    need_cpl0(c);
    uint64_t src = rm_read(c, &d->i, 2) & 0xf;
    uint64_t v = (c->cr0 & ~0xeull) | src | (c->cr0 & CR0_PE);
    if ((v ^ c->cr0) & CR0_PE) {
        c->cr0 = v;
        cpu_update_mode(c);
        c->stop |= STOP_MODE;
    } else {
        c->cr0 = v;
    }
}

/* SMSW: not privileged (CR4.UMIP is not offered); a register gets the operand size, memory 16 bits. */
void op_smsw(cpu_t *c, const dinsn_t *d)
{
    if (d->i.mod == 3)
        reg_set(c, &d->i, d->i.rm, d->i.osize, c->cr0);
    else
        rm_write(c, &d->i, 2, c->cr0 & 0xffff);
}

void op_invlpg(cpu_t *c, const dinsn_t *d)
{
    need_cpl0(c);
    /* no segment-limit check: the linear address is only a name for a TLB entry */
    uint64_t ea = insn_ea(c, &d->i);
    uint64_t la;
    if (c->mode == MODE_LONG64) {
        la = ea + (d->i.seg >= S_FS ? c->seg[d->i.seg].base : 0);
        if ((uint64_t)(((int64_t)la >> 47) + 1) > 1)
            return; /* non-canonical: a no-op */
    } else {
        la = (uint32_t)(c->seg[d->i.seg].base + ea);
    }
    tlb_flush_page(c, la);
}

void op_invpcid(cpu_t *c, const dinsn_t *d)
{
    if (!cpu_has(c, FEAT_INVPCID) || c->mode == MODE_V86)
        cpu_fault(c, EXC_UD);
    need_cpl0(c);
    uint64_t type = reg_get(c, &d->i, d->i.reg, c->mode == MODE_LONG64 ? 8 : 4);
    if (type > 3)
        gp0(c);
    uint64_t desc[2];
    lin_read_bytes(c, insn_lin(c, &d->i, 16, ACC_READ), desc, 16);
    uint16_t pcid = desc[0] & 0xfff;
    if (desc[0] >> 12)
        gp0(c);
    if (type <= 1 && pcid && !(c->cr4 & CR4_PCIDE))
        gp0(c);
    switch (type) {
    case 0: /* individual address */
        if ((uint64_t)(((int64_t)desc[1] >> 47) + 1) > 1)
            gp0(c);
        tlb_flush_page_pcid(c, desc[1], pcid);
        break;
    case 1: tlb_flush_pcid(c, pcid, 1); break;   /* single context */
    case 2: tlb_flush_all(c); break;             /* all contexts, globals too */
    default: tlb_flush_nonglobal(c); break;      /* all contexts except globals */
    }
}
