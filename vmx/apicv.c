/* apicv.c - APIC virtualization (SDM Vol. 3C chapter 30 "APIC Virtualization and
 * Virtual Interrupts"): the virtual-APIC page (30.1 "Virtual APIC State"), TPR,
 * PPR, EOI and self-IPI virtualization (30.1.2-30.1.5), evaluation and delivery
 * of virtual interrupts (30.2), CR8 accesses with "use TPR shadow" (30.3), the
 * APIC-access page (30.4, reached from emu/mmu.c through virt_ops.apic_access),
 * the x2APIC MSRs with "virtualize x2APIC mode" (30.5) and posted-interrupt
 * processing (30.6).
 *
 * The virtual APIC's registers live in guest memory, in the virtual-APIC page,
 * where the VMM sees them; RVI and SVI live in the guest interrupt status field
 * of the current VMCS (saved there at every VM exit, as 28.3.3 asks). Whether a
 * virtual interrupt is recognized is struct vmx_cpu.virq; only the operations the
 * SDM names evaluate it (30.2.1). VM exits caused by virtualization (TPR below
 * threshold, virtualized EOI, APIC write) are trap-like: the instruction
 * completes and the guest RIP saved is the next instruction's. */
#include "vmx/apicv.h"

#include "emu/exec.h"
#include "emu/fault.h"
#include "emu/flags.h"
#include "emu/machine.h"
#include "emu/virt.h"
#include "vmx/exit.h"
#include "vmx/vmx.h"

#define G(name) vmcs_get(c, VMCS_##name)
#define PROC(ident) ((G(CPU_BASED_VM_EXEC_CONTROL) & VMX_CTL(PROC, ident)) != 0)
#define PIN(ident) ((G(PIN_BASED_VM_EXEC_CONTROL) & VMX_CTL(PIN, ident)) != 0)

#define PROC2(ident) vmx_proc2(c, VMX_CTL(PROC2, ident))

/* Offsets in the virtual-APIC page (30.1.1 "Virtualized APIC Registers"). */
enum { V_TPR = 0x80, V_PPR = 0xa0, V_EOI = 0xb0, V_ISR = 0x100, V_IRR = 0x200, V_SELF_IPI = 0x3f0 };

static uint32_t vapic_read(cpu_t *c, unsigned off)
{
    return (uint32_t)phys_read(c->m, G(VIRTUAL_APIC_PAGE_ADDR) + off, 4);
}
static void vapic_write(cpu_t *c, unsigned off, uint32_t v)
{
    phys_write(c->m, G(VIRTUAL_APIC_PAGE_ADDR) + off, 4, v);
}

/* VISR and VIRR: 256 bits, 32 of them in each of eight 16-byte-spaced words. */
static void vec_set(cpu_t *c, unsigned base, int vec, bool on)
{
    unsigned off = base + 16u * ((unsigned)vec >> 5);
    uint32_t w = vapic_read(c, off), bit = 1u << (vec & 31);
    vapic_write(c, off, on ? w | bit : w & ~bit);
}
static int vec_highest(cpu_t *c, unsigned base)
{
    for (int k = 7; k >= 0; k--) {
        uint32_t w = vapic_read(c, base + 16u * (unsigned)k);
        if (w)
            return k * 32 + 31 - __builtin_clz(w);
    }
    return 0; /* none set: RVI and SVI are then 0 */
}

/* RVI is bits 7:0 of the guest interrupt status, SVI bits 15:8 (25.4.2). */
static unsigned rvi(cpu_t *c) { return G(GUEST_INTR_STATUS) & 0xff; }
static unsigned svi(cpu_t *c) { return (G(GUEST_INTR_STATUS) >> 8) & 0xff; }
static void set_status(cpu_t *c, unsigned rvi_, unsigned svi_)
{
    vmcs_set(c, VMCS_GUEST_INTR_STATUS, (uint64_t)(svi_ << 8 | rvi_));
}

/* A trap-like VM exit: the instruction completed, so the STI/MOV SS blocking it
 * ran under has ended; RIP already points past it. Returns true: inside an
 * instruction handler the caller then leaves through cpu_abort_insn (done()). */
static bool trap_exit(cpu_t *c, uint32_t reason, uint64_t qual)
{
    c->intr_shadow = 0;
    vmx_exit_insn(c, 0, 0);
    vmcs_set(c, VMCS_VM_EXIT_INTR_INFO, 0);
    vmx_vmexit(c, reason, qual);
    return true;
}
static void done(cpu_t *c, bool exited)
{
    if (exited)
        cpu_abort_insn(c);
}

/* 30.2.1 "Evaluation of Pending Virtual Interrupts". */
static void evaluate(cpu_t *c)
{
    struct vmx_cpu *v = vmx_state(c);
    uint32_t vppr = vapic_read(c, V_PPR);
    v->virq = !PROC(INTR_WINDOW_EXITING) && (rvi(c) >> 4) > ((vppr >> 4) & 0xf);
    if (v->virq)
        c->stop |= STOP_VMX; /* delivered at the next boundary that allows it */
}

/* 30.1.3 "PPR Virtualization". */
static void ppr_virtualization(cpu_t *c)
{
    uint32_t vtpr = vapic_read(c, V_TPR);
    unsigned s = svi(c);
    vapic_write(c, V_PPR, ((vtpr >> 4) & 0xf) >= (s >> 4) ? vtpr & 0xff : s & 0xf0);
}

/* 30.1.2 "TPR Virtualization"; true if it caused a VM exit. */
static bool tpr_virtualization(cpu_t *c)
{
    if (PROC2(VIRTUAL_INTR_DELIVERY)) {
        ppr_virtualization(c);
        evaluate(c);
        return false;
    }
    if (((vapic_read(c, V_TPR) >> 4) & 0xf) < (G(TPR_THRESHOLD) & 0xf))
        return trap_exit(c, EXIT_REASON_TPR_BELOW_THRESHOLD, 0);
    return false;
}

/* 30.1.4 "EOI Virtualization"; true if it caused a VM exit. */
static bool eoi_virtualization(cpu_t *c)
{
    unsigned vec = svi(c);
    vec_set(c, V_ISR, (int)vec, false);
    set_status(c, rvi(c), (unsigned)vec_highest(c, V_ISR));
    ppr_virtualization(c);
    uint64_t bitmap = vmcs_get(c, VMCS_EOI_EXIT_BITMAP0 + (int)(vec >> 6));
    if ((bitmap >> (vec & 63)) & 1)
        return trap_exit(c, EXIT_REASON_EOI_INDUCED, vec);
    evaluate(c);
    return false;
}

/* 30.1.5 "Self-IPI Virtualization". */
static void self_ipi_virtualization(cpu_t *c, unsigned vec)
{
    vec_set(c, V_IRR, (int)vec, true);
    set_status(c, vec > rvi(c) ? vec : rvi(c), svi(c));
    evaluate(c);
}

/* ---- 30.4 "Virtualizing Memory-Mapped APIC Accesses" ---- */

enum { V_ICR_LO = 0x300, V_ICR_HI = 0x310 };

/* 30.4.2: the registers a read is virtualized for (the 16-byte-aligned offset reg);
 * without APIC-register virtualization only VTPR. */
static bool read_virtualized(cpu_t *c, unsigned reg)
{
    if (!PROC2(APIC_REGISTER_VIRT))
        return reg == V_TPR;
    return !(reg & 0xf) && (reg == 0x20 || reg == 0x30 || reg == V_TPR || reg == V_EOI || (reg >= 0xd0 && reg <= 0xf0) ||
                            (reg >= V_ISR && reg <= 0x280) || (reg >= V_ICR_LO && reg <= 0x380) || reg == 0x3e0);
}

/* 30.4.3.1: the registers a write is virtualized for. */
static bool write_virtualized(cpu_t *c, unsigned reg)
{
    bool arv = PROC2(APIC_REGISTER_VIRT);
    if (reg == V_TPR)
        return true;
    if (reg == V_EOI || reg == V_ICR_LO)
        return arv || PROC2(VIRTUAL_INTR_DELIVERY);
    return arv && !(reg & 0xf) && (reg == 0x20 || (reg >= 0xd0 && reg <= 0xf0) || reg == 0x280 ||
                                   (reg >= V_ICR_HI && reg <= 0x380) || reg == 0x3e0);
}

/* 30.4.3.3 "APIC-Write Emulation", after the writing instruction completed;
 * true if it caused a VM exit. */
static bool apic_write_emulation(cpu_t *c, unsigned off)
{
    bool vid = PROC2(VIRTUAL_INTR_DELIVERY);
    switch (off & ~3u) {
    case V_TPR:
        vapic_write(c, V_TPR, vapic_read(c, V_TPR) & 0xff); /* bytes 83H:81H cleared */
        return tpr_virtualization(c);
    case V_EOI:
        if (vid)
            return eoi_virtualization(c);
        break;
    case V_ICR_LO: {
        /* a self IPI: fixed, edge, shorthand self, reserved bits clear, vector 16-255 */
        uint32_t icr = vapic_read(c, V_ICR_LO);
        if (vid && !(icr & 0xfff3b700u) && ((icr >> 18) & 3) == 1 && (icr & 0xf0)) {
            self_ipi_virtualization(c, icr & 0xff);
            return false;
        }
        break;
    }
    case V_ICR_HI:
        vapic_write(c, V_ICR_HI, vapic_read(c, V_ICR_HI) & 0xff000000u); /* bits 23:0 cleared */
        return false;
    }
    return trap_exit(c, EXIT_REASON_APIC_WRITE, off);
}

uint64_t vmx_apicv_access(cpu_t *c, unsigned off, int size, enum mmu_access acc)
{
    /* virtualized: an access entirely within one 32-bit register (30.4.2, 30.4.3.1),
     * and only with "use TPR shadow" */
    if (acc != ACC_EXEC && PROC(USE_TPR_SHADOW) && (off & 3) + (unsigned)size <= 4) {
        unsigned reg = off & ~3u;
        if (acc == ACC_READ && read_virtualized(c, reg))
            return G(VIRTUAL_APIC_PAGE_ADDR) + off;
        if (acc == ACC_WRITE && write_virtualized(c, reg)) {
            vmx_state(c)->apic_write = off + 1; /* emulated once the instruction completes */
            c->stop |= STOP_VMX;
            return G(VIRTUAL_APIC_PAGE_ADDR) + off;
        }
    }
    /* APIC-access VM exit (fault-like): qualification offset [11:0], access type
     * [15:12] 0 linear read, 1 linear write, 2 linear instruction fetch (28.2.1) */
    uint64_t type = acc == ACC_READ ? 0 : acc == ACC_WRITE ? 1 : 2;
    vmx_exit_insn(c, (uint32_t)(c->rip - c->insn_rip), 0);
    c->rip = c->insn_rip;
    vmcs_set(c, VMCS_VM_EXIT_INTR_INFO, 0);
    vmx_vmexit(c, EXIT_REASON_APIC_ACCESS, off | type << 12);
    cpu_abort_insn(c);
}

void vmx_apicv_mov_to_cr8(cpu_t *c, uint64_t src)
{
    vapic_write(c, V_TPR, (uint32_t)(src & 0xf) << 4);
    done(c, tpr_virtualization(c));
}

uint64_t vmx_apicv_mov_from_cr8(cpu_t *c)
{
    return (vapic_read(c, V_TPR) >> 4) & 0xf;
}

/* The x2APIC MSRs RDMSR reads from the virtual-APIC page with "APIC-register
 * virtualization" (30.5): ID, version, TPR, PPR, LDR, SVR, ISR, TMR, IRR, ESR,
 * ICR, the LVT entries, the timer's initial count and divide configuration. */
static bool reg_virtualized(uint32_t msr)
{
    unsigned r = msr & 0xff;
    return r == 0x02 || r == 0x03 || r == 0x08 || r == 0x0a || r == 0x0d || r == 0x0f ||
           (r >= 0x10 && r <= 0x28) || r == 0x30 || (r >= 0x32 && r <= 0x38) || r == 0x3e;
}

bool vmx_apicv_msr(cpu_t *c, uint32_t msr, bool write)
{
    unsigned off = (msr & 0xff) << 4;
    if (!write) {
        bool virt = PROC2(APIC_REGISTER_VIRT) ? reg_virtualized(msr) : msr == 0x808;
        if (!virt)
            return false;
        c->gpr[R_RAX] = vapic_read(c, off);
        c->gpr[R_RDX] = vapic_read(c, off + 4);
        return true;
    }
    uint64_t val = (uint32_t)c->gpr[R_RAX] | c->gpr[R_RDX] << 32;
    bool vid = PROC2(VIRTUAL_INTR_DELIVERY);
    if (msr != 0x808 && !(vid && (msr == 0x80b || msr == 0x83f)))
        return false;
    if (msr == 0x80b ? val != 0 : (val >> 8) != 0)
        cpu_fault_err(c, EXC_GP, 0);
    vapic_write(c, off, (uint32_t)val);
    vapic_write(c, off + 4, 0);
    if (msr == 0x808)
        done(c, tpr_virtualization(c));
    else if (msr == 0x80b)
        done(c, eoi_virtualization(c));
    else if (val < 16) /* vectors 0-15 are illegal: the VMM emulates the write (APIC-write VM exit) */
        done(c, trap_exit(c, EXIT_REASON_APIC_WRITE, V_SELF_IPI));
    else
        self_ipi_virtualization(c, (unsigned)val);
    return true;
}

void vmx_apicv_entry(cpu_t *c)
{
    struct vmx_cpu *v = vmx_state(c);
    v->virq = false;
    v->apic_write = 0;
    /* emu/mmu.c hands accesses to this page to vmx_apicv_access */
    c->apic_access = PROC2(VIRTUALIZE_APIC_ACCESSES) ? G(APIC_ACCESS_ADDR) : UINT64_MAX;
    if (PROC2(VIRTUAL_INTR_DELIVERY)) {
        ppr_virtualization(c);
        evaluate(c);
    }
}

void vmx_apicv_entry_tpr(cpu_t *c)
{
    /* with "virtualize APIC accesses" 0 the same condition failed the entry
     * (27.2.1.1); the exit is not blocked by RFLAGS.IF or interruptibility */
    if (PROC(USE_TPR_SHADOW) && PROC2(VIRTUALIZE_APIC_ACCESSES) && !PROC2(VIRTUAL_INTR_DELIVERY) &&
        (G(TPR_THRESHOLD) & 0xf) > ((vapic_read(c, V_TPR) >> 4) & 0xf)) {
        vmx_exit_insn(c, 0, 0);
        vmcs_set(c, VMCS_VM_EXIT_INTR_INFO, 0);
        vmx_vmexit(c, EXIT_REASON_TPR_BELOW_THRESHOLD, 0);
    }
}

bool vmx_apicv_pending(cpu_t *c)
{
    return vmx_state(c)->virq;
}

/* 30.2.2: delivered with the priority of interrupt-window exiting (above
 * external interrupts), waking the vCPU from HLT; the IDT delivery is that of an
 * external interrupt (a fault during it reports one as IDT-vectoring information). */
bool vmx_apicv_complete(cpu_t *c)
{
    struct vmx_cpu *v = vmx_state(c);
    if (!v->apic_write)
        return false;
    unsigned off = v->apic_write - 1;
    v->apic_write = 0;
    return apic_write_emulation(c, off);
}

void vmx_apicv_boundary(cpu_t *c)
{
    struct vmx_cpu *v = vmx_state(c);
    if (!v->virq || !(c->rflags & F_IF) || c->intr_shadow)
        return; /* STI, POPF and IRET ask again (STOP_VMX) once IF may be 1 */
    unsigned vec = rvi(c);
    vec_set(c, V_ISR, (int)vec, true);
    vapic_write(c, V_PPR, vec & 0xf0);
    vec_set(c, V_IRR, (int)vec, false);
    set_status(c, (unsigned)vec_highest(c, V_IRR), vec);
    v->virq = false;
    cpu_deliver(c, EV_EXTINT, (int)vec, 0, 0);
    c->cycles += lat_cycles[LAT_SYS];
}

/* 30.6 "Posted-Interrupt Processing". The descriptor: PIR (bits 255:0) and the
 * outstanding-notification bit ON (bit 256). */
bool vmx_apicv_posted(cpu_t *c, int vec)
{
    if (!PIN(POSTED_INTR) || vec != (int)(G(POSTED_INTR_NV) & 0xff))
        return false;
    uint64_t desc = G(POSTED_INTR_DESC_ADDR);
    phys_write(c->m, desc + 32, 1, phys_read(c->m, desc + 32, 1) & ~1u);
    if (c->m->cpu_dev && c->m->cpu_dev->eoi) /* writes 0 to the local APIC's EOI register */
        c->m->cpu_dev->eoi(c);
    int highest = -1;
    for (int k = 0; k < 8; k++) {
        uint32_t pir = (uint32_t)phys_read(c->m, desc + 4u * (unsigned)k, 4);
        if (!pir)
            continue;
        phys_write(c->m, desc + 4u * (unsigned)k, 4, 0);
        vapic_write(c, V_IRR + 16u * (unsigned)k, vapic_read(c, V_IRR + 16u * (unsigned)k) | pir);
        highest = k * 32 + 31 - __builtin_clz(pir);
    }
    if (highest > (int)rvi(c))
        set_status(c, (unsigned)highest, svi(c));
    evaluate(c);
    return true;
}
