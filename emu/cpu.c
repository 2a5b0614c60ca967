/* cpu.c - vCPU reset and the derived mode state (mode, decoder mode, TLB choice). */
#include "emu/cpu.h"

#include <string.h>

#include "emu/cpumodel.h"
#include "emu/flags.h"
#include "emu/fpu.h"
#include "emu/machine.h"
#include "emu/msr.h"
#include "emu/tlb.h"
#include "emu/virt.h"

void cpu_update_mode(cpu_t *c)
{
    const seg_t *cs = &c->seg[S_CS];
    c->fetch_epoch++; /* CS, CPL or the paging mode may have changed: chained blocks are stale */
    if (!(c->cr0 & CR0_PE)) {
        c->mode = MODE_REAL;
        c->dmode = X86_M16;
        c->cpl = 0;
    } else if (c->rflags & F_VM) {
        c->mode = MODE_V86;
        c->dmode = X86_M16;
        c->cpl = 3;
    } else if ((c->efer & EFER_LMA) && (cs->ar & AR_L)) {
        c->mode = MODE_LONG64;
        c->dmode = X86_M64;
    } else if (c->efer & EFER_LMA) {
        c->mode = (cs->ar & AR_DB) ? MODE_COMPAT32 : MODE_COMPAT16;
        c->dmode = (cs->ar & AR_DB) ? X86_M32 : X86_M16;
    } else {
        c->mode = (cs->ar & AR_DB) ? MODE_PROT32 : MODE_PROT16;
        c->dmode = (cs->ar & AR_DB) ? X86_M32 : X86_M16;
    }
    c->tlb = c->cpl == 3 ? c->tlb_user : c->tlb_sup;
}

/* Power-on state: SDM Vol. 3A "Processor State After Reset". */
void cpu_reset(cpu_t *c)
{
    memset(c->gpr, 0, sizeof c->gpr);
    c->gpr[R_RDX] = model_signature(c->model); /* family/model/stepping, as CPUID.1:EAX */
    c->rip = 0xfff0;
    cpu_set_rflags(c, 0x2); /* through the lazy-flags layer: all arithmetic flags clear */
    for (int s = 0; s < S_COUNT; s++)
        c->seg[s] = (seg_t){ .base = 0, .limit = 0xffff, .ar = AR_P | AR_S | 3, .sel = 0 };
    c->seg[S_CS] = (seg_t){ .base = 0xffff0000, .limit = 0xffff, .ar = AR_P | AR_S | 0xb, .sel = 0xf000 };
    c->seg[S_LDTR].ar = AR_P | 2;
    c->seg[S_TR].ar = AR_P | 0xb;
    c->gdtr = (dtr_t){ 0, 0xffff };
    c->idtr = (dtr_t){ 0, 0xffff };
    c->cr0 = CR0_ET | CR0_NW | CR0_CD;
    c->cr2 = c->cr3 = c->cr4 = c->cr8 = c->efer = 0;
    c->xcr0 = 1;
    memset(c->dr, 0, sizeof c->dr);
    c->dr[6] = 0xffff0ff0;
    c->dr[7] = 0x400;
    fpu_reset(&c->fpu);
    c->halted = c->shutdown = false;
    c->intr_shadow = 0;
    c->nmi_pending = c->nmi_blocked = false;
    c->db_pending = 0;
    c->virt_deadline = UINT64_MAX;
    c->monitor_armed = false;
    c->exc_depth = 0;
    c->rdrand_state = 0x853c49e6748fea9bull ^ (uint64_t)c->index;
    tlb_reset(c);
    msr_reset(c);
    cpu_update_mode(c);
}

void cpu_init_signal(cpu_t *c)
{
    /* INIT is blocked in VMX root operation and causes a VM exit in VMX
     * non-root operation (SDM Vol. 3C "VMX Operation": "INIT signals are
     * blocked whenever a logical processor is in VMX root operation"). */
    if (c->vmx_operation) {
        if (c->nonroot && c->m->virt && c->m->virt->init_signal)
            c->m->virt->init_signal(c);
        else
            c->init_pending = true;
        return;
    }
    if (c->index == 0) {
        machine_stop(c->m, MEXIT_RESET, 0);
        return;
    }
    /* INIT leaves MSRs, x87/SSE state, XCR0 and the TLB-independent caches alone */
    cpu_t saved = *c;
    cpu_reset(c);
    memcpy(&c->fpu, &saved.fpu, sizeof c->fpu);
    c->xcr0 = saved.xcr0;
    c->msr_star = saved.msr_star;
    c->msr_lstar = saved.msr_lstar;
    c->msr_cstar = saved.msr_cstar;
    c->msr_fmask = saved.msr_fmask;
    c->msr_kernel_gs_base = saved.msr_kernel_gs_base;
    c->msr_sysenter_cs = saved.msr_sysenter_cs;
    c->msr_sysenter_esp = saved.msr_sysenter_esp;
    c->msr_sysenter_eip = saved.msr_sysenter_eip;
    c->msr_pat = saved.msr_pat;
    c->msr_tsc_aux = saved.msr_tsc_aux;
    c->msr_apic_base = saved.msr_apic_base;
    c->msr_misc_enable = saved.msr_misc_enable;
    c->msr_feature_control = saved.msr_feature_control;
    c->msr_tsc_adjust = saved.msr_tsc_adjust;
    c->msr_mtrr_def_type = saved.msr_mtrr_def_type;
    memcpy(c->msr_mtrr_fixed, saved.msr_mtrr_fixed, sizeof c->msr_mtrr_fixed);
    memcpy(c->msr_mtrr_var, saved.msr_mtrr_var, sizeof c->msr_mtrr_var);
    c->tsc_offset = saved.tsc_offset;
    c->cycles = saved.cycles;
    c->deadline = saved.deadline;
    c->stop = saved.stop | STOP_MODE | STOP_HALT; /* parked until a SIPI (see machine_new) */
    c->insn_count = saved.insn_count;
    c->rdrand_state = saved.rdrand_state;
    c->wait_for_sipi = true;
    if (c->m->cpu_dev && c->m->cpu_dev->init_reset)
        c->m->cpu_dev->init_reset(c);
}

void cpu_sipi(cpu_t *c, uint8_t v)
{
    /* in VMX non-root operation, in the wait-for-SIPI activity state, a SIPI is a VM exit */
    if (c->nonroot && c->m->virt && c->m->virt->event(c, EV_SIPI, v, 0, 0))
        return;
    if (!c->wait_for_sipi)
        return;
    c->wait_for_sipi = false;
    c->halted = false;
    c->seg[S_CS].sel = (uint16_t)(v << 8);
    c->seg[S_CS].base = (uint64_t)v << 12;
    c->rip = 0;
    c->stop |= STOP_MODE;
}
