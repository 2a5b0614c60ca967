/* intercept.c - VMX non-root operation: which instructions and events cause
 * VM exits (SDM Vol. 3C chapter 26 "VMX Non-Root Operation"), with their exit
 * qualifications and instruction information (28.2.1 "Basic VM-Exit
 * Information", 28.2.5 "Information for VM Exits Due to Instruction
 * Execution"), and the instructions whose behaviour changes (26.3: CR0/CR4
 * read shadows and guest/host masks, TSC offsetting).
 *
 * vmx/exit_class.def gives each form that may exit a class; the decoded-block
 * cache binds the class's wrapper in non-root blocks (vmx_nonroot_handler).
 * A wrapper first raises the faults that have priority over the exit (26.1.1
 * "Relative Priority of Faults and VM Exits": #UD, privilege, I/O permission,
 * memory-operand segment checks), then consults the controls, then exits or
 * runs the plain handler. Events come through vmx_event (emu/except.c). */
#include "emu/cpumodel.h"
#include "emu/dcache.h"
#include "emu/fault.h"
#include "emu/machine.h"
#include "emu/paging.h"
#include "emu/seg.h"
#include "emu/virt.h"
#include "vmx/apicv.h"
#include "vmx/exit.h"
#include "vmx/vmx.h"
#include "vmx/vpid.h"

#define G(name) vmcs_get(c, VMCS_##name)
#define PROC(ident) ((G(CPU_BASED_VM_EXEC_CONTROL) & VMX_CTL(PROC, ident)) != 0)
#define PIN(ident) ((G(PIN_BASED_VM_EXEC_CONTROL) & VMX_CTL(PIN, ident)) != 0)

#define PROC2(ident) vmx_proc2(c, VMX_CTL(PROC2, ident))

enum { IO_IN = 1, IO_STR = 2, IO_IMM = 4, IO_BYTE = 8 };

static const uint8_t form_reason[XI_COUNT] = {
#define E(form, cls, reason, arg) [XI_##form] = EXIT_REASON_##reason,
#include "vmx/exit_class.def"
#undef E
};
static const uint8_t form_arg[XI_COUNT] = {
#define E(form, cls, reason, arg) [XI_##form] = (arg),
#include "vmx/exit_class.def"
#undef E
};

/* ---- helpers ---- */

static _Noreturn void gp0(cpu_t *c) { cpu_fault_err(c, EXC_GP, 0); }
static void need_cpl0(cpu_t *c)
{
    if (c->cpl)
        gp0(c);
}

/* The plain handler of the form, as a root-mode block would bind it. */
static void run_plain(cpu_t *c, const dinsn_t *d)
{
    dinsn_t p;
    dinsn_bind(&p, &d->i);
    p.fn(c, &p);
}

/* Exit for the instruction d: the guest RIP saved is the instruction's own. */
static _Noreturn void exit_insn(cpu_t *c, const dinsn_t *d, uint64_t qual, uint32_t info)
{
    c->rip = c->insn_rip;
    vmx_exit_insn(c, d->i.len, info);
    vmx_vmexit(c, form_reason[d->i.id], qual);
    cpu_abort_insn(c);
}

/* Instruction information of a memory or register operand (28.2.5, the
 * tables for descriptor-table and VMX instructions): scaling [1:0], reg1
 * [6:3], address size [9:7], register operand [10], segment [17:15], index
 * [21:18] and its invalid bit [22], base [26:23] and its invalid bit [27]. */
static uint32_t operand_info(const x86_insn *i)
{
    uint32_t asz = i->asize == 2 ? 0 : i->asize == 4 ? 1 : 2;
    if (i->mod == 3)
        return (uint32_t)i->rm << 3 | asz << 7 | 1u << 10;
    uint32_t info = i->scale | asz << 7 | (uint32_t)i->seg << 15;
    info |= i->index == X86_NOREG ? 1u << 22 : (uint32_t)(i->index & 15) << 18;
    info |= (i->base == X86_NOREG || i->base == X86_RIP) ? 1u << 27 : (uint32_t)(i->base & 15) << 23;
    return info;
}

/* ---- unconditional exits (26.1.2) ---- */

static void X_UNCOND(cpu_t *c, const dinsn_t *d) { exit_insn(c, d, 0, 0); }

static void X_PRIV_UNCOND(cpu_t *c, const dinsn_t *d)
{
    need_cpl0(c);
    exit_insn(c, d, 0, 0);
}

static void X_XSETBV(cpu_t *c, const dinsn_t *d)
{
    if (!(c->cr4 & CR4_OSXSAVE))
        cpu_fault(c, EXC_UD);
    need_cpl0(c);
    exit_insn(c, d, 0, 0);
}

/* VMX instructions: their #UD check precedes the exit, CPL checks follow it.
 * Memory operands: qualification = displacement; reg2 [31:28] is the register
 * operand of VMREAD/VMWRITE/INVEPT/INVVPID. */
static void X_VMX(cpu_t *c, const dinsn_t *d)
{
    if (d->i.id == XI_INVEPT_GyMdq)
        vmx_invept_check_ud(c); /* also #UD without EPT or INVEPT support */
    else if (d->i.id == XI_INVVPID_GyMdq)
        vmx_invvpid_check_ud(c); /* also #UD without VPID or INVVPID support */
    else
        vmx_check_ud(c);
    const x86_insn *i = &d->i;
    bool has_mem = i->id != XI_VMLAUNCH && i->id != XI_VMRESUME && i->id != XI_VMXOFF;
    bool reg2 = i->id == XI_VMREAD_EyGy || i->id == XI_VMWRITE_GyEy || i->id == XI_INVEPT_GyMdq ||
                i->id == XI_INVVPID_GyMdq;
    uint32_t info = has_mem ? operand_info(i) | (reg2 ? (uint32_t)(i->reg & 15) << 28 : 0) : 0;
    exit_insn(c, d, has_mem && i->mod != 3 ? (uint64_t)i->disp : 0, info);
}

/* ---- conditional exits (26.1.3) ---- */

static void X_HLT(cpu_t *c, const dinsn_t *d)
{
    need_cpl0(c);
    if (PROC(HLT_EXITING))
        exit_insn(c, d, 0, 0);
    run_plain(c, d);
}

static void X_INVLPG(cpu_t *c, const dinsn_t *d)
{
    need_cpl0(c);
    if (PROC(INVLPG_EXITING))
        exit_insn(c, d, insn_lin(c, &d->i, 1, ACC_READ), 0); /* qualification: the linear address */
    run_plain(c, d);
}

/* INVPCID: #UD unless "enable INVPCID" is 1 (26.3 "Changes to Instruction
 * Behavior in VMX Non-Root Operation"); with it, "INVLPG exiting" decides
 * (26.1.3). #UD, CPL and the memory operand's segment checks precede the exit;
 * the type (#GP if > 3) and the descriptor are the VMM's to check.
 * Qualification: the displacement; instruction information as for INVEPT,
 * reg2 [31:28] the type register (28.2.5). */
static void X_INVPCID(cpu_t *c, const dinsn_t *d)
{
    if (!cpu_has(c, FEAT_INVPCID) || !PROC2(ENABLE_INVPCID) || c->mode == MODE_V86)
        cpu_fault(c, EXC_UD);
    need_cpl0(c);
    if (PROC(INVLPG_EXITING)) {
        insn_lin(c, &d->i, 16, ACC_READ);
        exit_insn(c, d, (uint64_t)d->i.disp, operand_info(&d->i) | (uint32_t)(d->i.reg & 15) << 28);
    }
    run_plain(c, d);
}

static void X_RDPMC(cpu_t *c, const dinsn_t *d)
{
    if (c->cpl && !(c->cr4 & CR4_PCE))
        gp0(c);
    if (PROC(RDPMC_EXITING))
        exit_insn(c, d, 0, 0);
    run_plain(c, d);
}

/* RDTSC(P): RDTSC exiting, else the TSC plus the TSC offset (26.3 "Changes to
 * Instruction Behavior in VMX Non-Root Operation"). With "use TSC scaling" as
 * well, the TSC is first multiplied by the TSC multiplier (a 128-bit product)
 * and shifted right by 48; scaling alone does nothing. */
static uint64_t guest_tsc(cpu_t *c)
{
    uint64_t tsc = cpu_tsc(c);
    if (!PROC(USE_TSC_OFFSETTING))
        return tsc;
    if (PROC(SECONDARY_CONTROLS) && PROC2(USE_TSC_SCALING))
        tsc = (uint64_t)(((unsigned __int128)tsc * G(TSC_MULTIPLIER)) >> 48);
    return tsc + G(TSC_OFFSET);
}
static void tsc_insn(cpu_t *c, const dinsn_t *d)
{
    if ((c->cr4 & CR4_TSD) && c->cpl)
        gp0(c);
    if (PROC(RDTSC_EXITING))
        exit_insn(c, d, 0, 0);
    uint64_t t = guest_tsc(c);
    c->gpr[R_RAX] = (uint32_t)t;
    c->gpr[R_RDX] = t >> 32;
}
static void X_RDTSC(cpu_t *c, const dinsn_t *d) { tsc_insn(c, d); }
static void X_RDTSCP(cpu_t *c, const dinsn_t *d)
{
    if (!cpu_has(c, FEAT_RDTSCP) || !PROC2(ENABLE_RDTSCP)) /* "enable RDTSCP" 0: #UD */
        cpu_fault(c, EXC_UD);
    tsc_insn(c, d);
    c->gpr[R_RCX] = (uint32_t)c->msr_tsc_aux;
}

/* ---- control registers (26.1.3, 26.3) ---- */

/* MOV CR/DR name their general register in ModRM.rm whatever mod says. */
static int cr_gpr(const x86_insn *i) { return (i->modrm & 7) | ((i->rex & 1) << 3); }
static int cr_size(const cpu_t *c) { return c->mode == MODE_LONG64 ? 8 : 4; }

/* CR-access qualification: CR [3:0], access type [5:4], LMSW operand [6], GPR [11:8], LMSW data [31:16]. */
static uint64_t cr_qual(int cr, int type, int gpr) { return (uint64_t)cr | (uint64_t)type << 4 | (uint64_t)gpr << 8; }

/* The VMX fixed bits (IA32_VMX_CR0/CR4_FIXED0/1) a MOV to CR0/CR4 must keep;
 * an unrestricted guest may clear CR0.PE and CR0.PG (26.6 "Unrestricted Guests"). */
static bool fixed_ok(cpu_t *c, uint32_t fixed0_msr, uint64_t v)
{
    uint64_t f0 = 0, f1 = ~0ull;
    vmx_cap_msr(vmx_model_of(c), cpu_cr4_valid(c), fixed0_msr, &f0);
    vmx_cap_msr(vmx_model_of(c), cpu_cr4_valid(c), fixed0_msr + 1, &f1);
    if (fixed0_msr == 0x486 && PROC2(UNRESTRICTED_GUEST))
        f0 &= ~(uint64_t)(CR0_PE | CR0_PG);
    return (v & f0) == f0 && !(v & ~f1);
}

static void X_MOV_TO_CR(cpu_t *c, const dinsn_t *d)
{
    int n = d->i.reg, r = cr_gpr(&d->i);
    if (n != 0 && n != 2 && n != 3 && n != 4 && n != 8)
        cpu_fault(c, EXC_UD);
    need_cpl0(c);
    uint64_t v = reg_get(c, &d->i, r, cr_size(c)), q = cr_qual(n, 0, r);
    if (n == 0 || n == 4) {
        uint64_t mask = n == 0 ? G(CR0_GUEST_HOST_MASK) : G(CR4_GUEST_HOST_MASK);
        uint64_t shadow = n == 0 ? G(CR0_READ_SHADOW) : G(CR4_READ_SHADOW);
        if ((v ^ shadow) & mask)
            exit_insn(c, d, q, 0);
        /* bits the host owns keep their value; the others obey the VMX fixed bits */
        uint64_t cur = n == 0 ? c->cr0 : c->cr4;
        v = (v & ~mask) | (cur & mask);
        if (!fixed_ok(c, n == 0 ? 0x486 : 0x488, v) || !(n == 0 ? cpu_write_cr0(c, v) : cpu_write_cr4(c, v)))
            gp0(c);
        return;
    }
    if (n == 3 && PROC(CR3_LOAD_EXITING)) {
        bool target = false;
        for (uint64_t k = 0; k < G(CR3_TARGET_COUNT) && k < 4; k++)
            target |= vmcs_get(c, VMCS_CR3_TARGET_VALUE0 + (int)k) == v;
        if (!target)
            exit_insn(c, d, q, 0);
    }
    if (n == 8 && PROC(CR8_LOAD_EXITING))
        exit_insn(c, d, q, 0);
    if (n == 8 && PROC(USE_TPR_SHADOW)) { /* the virtual-APIC page's VTPR (vmx/apicv.c) */
        if (v >> 4)
            gp0(c);
        vmx_apicv_mov_to_cr8(c, v);
        return;
    }
    run_plain(c, d);
}

static void X_MOV_FROM_CR(cpu_t *c, const dinsn_t *d)
{
    int n = d->i.reg, r = cr_gpr(&d->i);
    if (n != 0 && n != 2 && n != 3 && n != 4 && n != 8)
        cpu_fault(c, EXC_UD);
    need_cpl0(c);
    if ((n == 3 && PROC(CR3_STORE_EXITING)) || (n == 8 && PROC(CR8_STORE_EXITING)))
        exit_insn(c, d, cr_qual(n, 1, r), 0);
    if (n == 0 || n == 4) {
        /* reads of host-owned bits return the read shadow (26.3) */
        uint64_t mask = n == 0 ? G(CR0_GUEST_HOST_MASK) : G(CR4_GUEST_HOST_MASK);
        uint64_t shadow = n == 0 ? G(CR0_READ_SHADOW) : G(CR4_READ_SHADOW);
        uint64_t cur = n == 0 ? c->cr0 : c->cr4;
        reg_set(c, &d->i, r, cr_size(c), (cur & ~mask) | (shadow & mask));
        return;
    }
    if (n == 8 && PROC(USE_TPR_SHADOW)) {
        reg_set(c, &d->i, r, cr_size(c), vmx_apicv_mov_from_cr8(c));
        return;
    }
    run_plain(c, d);
}

static void X_CLTS(cpu_t *c, const dinsn_t *d)
{
    need_cpl0(c);
    if (G(CR0_GUEST_HOST_MASK) & CR0_TS) {
        if (G(CR0_READ_SHADOW) & CR0_TS)
            exit_insn(c, d, cr_qual(0, 2, 0), 0);
        return; /* CR0.TS is the host's: unchanged */
    }
    run_plain(c, d);
}

static void X_LMSW(cpu_t *c, const dinsn_t *d)
{
    need_cpl0(c);
    uint64_t src = rm_read(c, &d->i, 2);
    uint64_t mask = G(CR0_GUEST_HOST_MASK) & 0xf, shadow = G(CR0_READ_SHADOW);
    /* exit if it would set a host-owned PE the shadow has clear, or change a host-owned MP/EM/TS */
    bool pe = (mask & CR0_PE) && !(shadow & CR0_PE) && (src & CR0_PE);
    if (pe || ((src ^ shadow) & mask & 0xe)) {
        uint64_t q = cr_qual(0, 3, 0) | (uint64_t)(d->i.mod != 3) << 6 | (src & 0xffff) << 16;
        if (d->i.mod != 3)
            vmcs_set(c, VMCS_GUEST_LINEAR_ADDRESS, insn_lin(c, &d->i, 2, ACC_READ));
        exit_insn(c, d, q, 0);
    }
    /* LMSW sets PE but never clears it; host-owned bits keep their value */
    uint64_t v = (c->cr0 & ~0xeull) | (src & 0xe) | ((c->cr0 | src) & CR0_PE);
    v = (v & ~mask) | (c->cr0 & mask);
    if ((v ^ c->cr0) & CR0_PE)
        c->stop |= STOP_MODE;
    c->cr0 = v;
    cpu_update_mode(c);
}

static void X_SMSW(cpu_t *c, const dinsn_t *d)
{
    uint64_t mask = G(CR0_GUEST_HOST_MASK);
    uint64_t v = (c->cr0 & ~mask) | (G(CR0_READ_SHADOW) & mask);
    if (d->i.mod == 3)
        reg_set(c, &d->i, d->i.rm, d->i.osize, v);
    else
        rm_write(c, &d->i, 2, v & 0xffff);
}

/* MOV DR: #UD for DR4/DR5 with CR4.DE and #GP at CPL > 0 come first; the exit
 * precedes the general-detect #DB. Qualification: DR [2:0], from DR [4], GPR [11:8]. */
static void X_MOV_DR(cpu_t *c, const dinsn_t *d)
{
    int n = d->i.reg;
    if (n > 7 || ((n == 4 || n == 5) && (c->cr4 & CR4_DE)))
        cpu_fault(c, EXC_UD);
    need_cpl0(c);
    if (PROC(MOV_DR_EXITING))
        exit_insn(c, d, (uint64_t)n | (uint64_t)form_arg[d->i.id] << 4 | (uint64_t)cr_gpr(&d->i) << 8, 0);
    run_plain(c, d);
}

/* ---- I/O (26.1.3; qualification: 28.2.1 "Exit Qualification for I/O Instructions") ---- */

/* Whether any port of the access has its bit set in the I/O bitmaps (A: 0-7FFFH, B: 8000H-FFFFH);
 * an access that wraps past FFFFH exits. */
static bool io_bitmap_hit(cpu_t *c, uint32_t port, int size)
{
    if (port + (uint32_t)size > 0x10000)
        return true;
    for (uint32_t p = port; p < port + (uint32_t)size; p++) {
        uint64_t base = p < 0x8000 ? G(IO_BITMAP_A) : G(IO_BITMAP_B);
        if ((phys_read(c->m, base + ((p & 0x7fff) >> 3), 1) >> (p & 7)) & 1)
            return true;
    }
    return false;
}

static void X_IO(cpu_t *c, const dinsn_t *d)
{
    const x86_insn *i = &d->i;
    unsigned arg = form_arg[i->id];
    int size = (arg & IO_BYTE) ? 1 : i->osize == 2 ? 2 : 4;
    uint16_t port = (arg & IO_IMM) ? (uint16_t)(uint8_t)i->imm : (uint16_t)c->gpr[R_RDX];
    if (!io_allowed(c, port, size)) /* the I/O permission check precedes the exit */
        gp0(c);
    bool exits = PROC(USE_IO_BITMAPS) ? io_bitmap_hit(c, port, size) : PROC(UNCOND_IO_EXITING);
    if (!exits)
        run_plain(c, d);
    else {
        bool rep = (arg & IO_STR) && (i->pfx & (X86_PFX_REP | X86_PFX_REPNE));
        uint64_t q = (uint64_t)(size - 1) | (uint64_t)!!(arg & IO_IN) << 3 | (uint64_t)!!(arg & IO_STR) << 4 |
                     (uint64_t)rep << 5 | (uint64_t)!!(arg & IO_IMM) << 6 | (uint64_t)port << 16;
        uint32_t info = 0;
        if (arg & IO_STR) {
            /* INS/OUTS: address size [9:7], segment [17:15] (ES for INS), guest-linear address */
            uint32_t asz = i->asize == 2 ? 0 : i->asize == 4 ? 1 : 2;
            int seg = (arg & IO_IN) ? S_ES : i->seg;
            uint64_t off = c->gpr[(arg & IO_IN) ? R_RDI : R_RSI] & size_mask(i->asize);
            info = asz << 7 | (uint32_t)seg << 15;
            vmcs_set(c, VMCS_GUEST_LINEAR_ADDRESS, c->seg[seg].base + off);
        }
        exit_insn(c, d, q, info);
    }
}

/* ---- MSRs (26.1.3; bitmaps: 25.6.9 "MSR-Bitmap Address") ---- */

static bool msr_bitmap_hit(cpu_t *c, uint32_t msr, bool write)
{
    if (!PROC(USE_MSR_BITMAPS))
        return true;
    uint64_t off;
    if (msr <= 0x1fff)
        off = 0;
    else if (msr >= 0xc0000000u && msr <= 0xc0001fffu)
        off = 0x400;
    else
        return true; /* outside both ranges every access exits */
    off += write ? 0x800 : 0;
    return (phys_read(c->m, G(MSR_BITMAP) + off + ((msr & 0x1fff) >> 3), 1) >> (msr & 7)) & 1;
}

static void X_MSR(cpu_t *c, const dinsn_t *d)
{
    need_cpl0(c);
    uint32_t msr = (uint32_t)c->gpr[R_RCX];
    bool write = form_arg[d->i.id];
    if (msr_bitmap_hit(c, msr, write))
        exit_insn(c, d, 0, 0);
    if (msr >= 0x800 && msr <= 0x8ff && PROC2(VIRTUALIZE_X2APIC) && vmx_apicv_msr(c, msr, write))
        return;
    run_plain(c, d);
    if (!write && msr == 0x10 && PROC(USE_TSC_OFFSETTING)) {
        /* IA32_TIME_STAMP_COUNTER reads are scaled and offset as RDTSC (26.3) */
        uint64_t t = guest_tsc(c);
        c->gpr[R_RAX] = (uint32_t)t;
        c->gpr[R_RDX] = t >> 32;
    }
}

/* ---- PAUSE, MONITOR, MWAIT, RDRAND, RDSEED, WBINVD ---- */

/* PAUSE-loop exiting (26.1.3, PAUSE; 25.6.13 "Controls for PAUSE-Loop
 * Exiting"), at CPL 0 only: a PAUSE more than PLE_Gap TSC ticks after the
 * previous one (or the first after VM entry) starts a loop; one more than
 * PLE_Window ticks after the first of its loop exits. Time is the TSC
 * without offset, which runs with the cycle counter. */
static bool pause_loop_exits(cpu_t *c)
{
    struct vmx_cpu *v = vmx_state(c);
    uint64_t now = cpu_tsc(c);
    if (!v->ple_seen || now - v->ple_last > (uint32_t)G(PLE_GAP))
        v->ple_first = now;
    v->ple_seen = true;
    v->ple_last = now;
    return now - v->ple_first > (uint32_t)G(PLE_WINDOW);
}

/* "PAUSE exiting" exits at any CPL and then PAUSE-loop exiting is ignored. */
static void X_PAUSE(cpu_t *c, const dinsn_t *d)
{
    if (PROC(PAUSE_EXITING) || (!c->cpl && PROC2(PAUSE_LOOP_EXITING) && pause_loop_exits(c)))
        exit_insn(c, d, 0, 0);
    run_plain(c, d);
}

/* MONITOR and MWAIT: their #UD (not offered, CPL > 0) precedes the exit; the
 * ECX checks follow it. The MWAIT qualification's bit 0 says whether the
 * monitor was armed (28.2.1 "Basic VM-Exit Information"). */
static void X_MONITOR(cpu_t *c, const dinsn_t *d)
{
    monitor_check_ud(c);
    if (PROC(MONITOR_EXITING))
        exit_insn(c, d, 0, 0);
    run_plain(c, d);
}

static void X_MWAIT(cpu_t *c, const dinsn_t *d)
{
    monitor_check_ud(c);
    if (PROC(MWAIT_EXITING))
        exit_insn(c, d, monitor_armed(c), 0);
    run_plain(c, d);
}

/* RDRAND/RDSEED: instruction information gives the destination register [6:3] and operand size [12:11]. */
static void rand_insn(cpu_t *c, const dinsn_t *d, bool exiting)
{
    if (exiting) {
        uint32_t osz = d->i.osize == 2 ? 0 : d->i.osize == 4 ? 1 : 2;
        exit_insn(c, d, 0, (uint32_t)(d->i.rm & 15) << 3 | osz << 11);
    }
    run_plain(c, d);
}
static void X_RDRAND(cpu_t *c, const dinsn_t *d) { rand_insn(c, d, PROC2(RDRAND_EXITING)); }
static void X_RDSEED(cpu_t *c, const dinsn_t *d) { rand_insn(c, d, PROC2(RDSEED_EXITING)); }

static void X_WBINVD(cpu_t *c, const dinsn_t *d)
{
    need_cpl0(c);
    if (PROC2(WBINVD_EXITING))
        exit_insn(c, d, 0, 0);
    run_plain(c, d);
}

/* ---- descriptor-table exiting (reasons 46, 47) ---- */

static void X_DESC(cpu_t *c, const dinsn_t *d)
{
    const x86_insn *i = &d->i;
    unsigned ident = form_arg[i->id];
    bool sys = form_reason[i->id] == EXIT_REASON_LDTR_TR, load = ident >= 2;
    if (sys && (c->mode == MODE_REAL || c->mode == MODE_V86))
        cpu_fault(c, EXC_UD);
    /* loads need CPL 0; stores too when CR4.UMIP is 1 */
    if (c->cpl && (load || (c->cr4 & CR4_UMIP)))
        gp0(c);
    if (!PROC2(DESC_TABLE_EXITING))
        run_plain(c, d);
    else {
        if (i->mod != 3)
            insn_lin(c, i, 2, load ? ACC_READ : ACC_WRITE); /* segment checks precede the exit */
        uint32_t info = operand_info(i) | ident << 28;
        if (!sys)
            info = (info & ~(0xfu << 3)) | (uint32_t)(i->osize != 2) << 11;
        exit_insn(c, d, i->mod != 3 ? (uint64_t)i->disp : 0, info);
    }
}

/* ---- interrupt window ---- */

/* POPF (and IRET, below) can set RFLAGS.IF: with interrupt-window exiting or a
 * recognized virtual interrupt the window may be open after them, which
 * vmx_boundary decides (STI opens it after the next instruction; the run loop
 * asks then, emu/run.c). */
static void X_WINDOW(cpu_t *c, const dinsn_t *d)
{
    run_plain(c, d);
    if (PROC(INTR_WINDOW_EXITING) || vmx_apicv_pending(c))
        c->stop |= STOP_VMX;
}

/* IRET also ends (virtual-)NMI blocking (vmx_iret_begin), which may open the
 * NMI window; an EPT violation during it reports the unblocking
 * (vmx/ept_access.c). */
static void X_IRET(cpu_t *c, const dinsn_t *d)
{
    struct vmx_cpu *v = vmx_state(c);
    vmx_iret_begin(c);
    v->iret_nmi = v->iret_unblocked;
    v->iret_cycle = c->cycles;
    v->iret_rip = c->insn_rip;
    run_plain(c, d);
    v->iret_unblocked = false;
    if (PROC(INTR_WINDOW_EXITING) || PROC(NMI_WINDOW_EXITING) || vmx_apicv_pending(c))
        c->stop |= STOP_VMX;
}

/* ---- binding ---- */

static const insn_fn form_wrapper[XI_COUNT] = {
#define E(form, cls, reason, arg) [XI_##form] = X_##cls,
#include "vmx/exit_class.def"
#undef E
};

insn_fn vmx_nonroot_handler(const x86_insn *i)
{
    return form_wrapper[i->id];
}
