/* vmxon.c - entering and leaving VMX operation, and VMCALL in VMX root
 * operation (SDM Vol. 3C "VMX Instruction Reference": "VMXON-Enter VMX
 * Operation", "VMXOFF-Leave VMX Operation", "VMCALL-Call to VM Monitor";
 * "Enabling and Entering VMX Operation" and "Restrictions on VMX Operation",
 * 23.7-23.8 in older editions, 24.7-24.8 in newer).
 *
 * vmxemu has no SMX and no SMM, so "in SMX operation", the dual-monitor
 * treatment and A20M never apply; A20 is always on (docs/architecture.md). */
#include "emu/cpumodel.h"
#include "emu/exec.h"
#include "vmx/vmx.h"

/* IA32_FEATURE_CONTROL (MSR 3AH) bits VMXON checks. */
#define FC_LOCK (1ull << 0)
#define FC_VMX_OUTSIDE_SMX (1ull << 2)

static _Noreturn void gp0(cpu_t *c)
{
    cpu_fault_err(c, EXC_GP, 0);
}

/* CR0 and CR4 against IA32_VMX_CR0_FIXED0/1 and IA32_VMX_CR4_FIXED0/1 (SDM
 * Vol. 3D A.7 "VMX-Fixed Bits in CR0", A.8 "VMX-Fixed Bits in CR4"): a bit that
 * is 1 in FIXED0 must be 1, a bit that is 0 in FIXED1 must be 0. */
static bool cr_values_supported(cpu_t *c, const struct vmx_model *vm)
{
    uint64_t cr4_ok = cpu_cr4_valid(c), f[4];
    for (int k = 0; k < 4; k++)
        vmx_cap_msr(vm, cr4_ok, 0x486 + (uint32_t)k, &f[k]);
    return (c->cr0 & f[0]) == f[0] && !(c->cr0 & ~f[1]) && (c->cr4 & f[2]) == f[2] && !(c->cr4 & ~f[3]);
}

void op_vmxon(cpu_t *c, const dinsn_t *d)
{
    const struct vmx_model *vm = vmx_model_of(c);
    /* #UD: (register operand: another form) CR0.PE = 0, CR4.VMXE = 0, RFLAGS.VM = 1,
     * compatibility mode */
    if (!vm || !(c->cr4 & CR4_VMXE) || c->mode == MODE_REAL || c->mode == MODE_V86 ||
        c->mode == MODE_COMPAT16 || c->mode == MODE_COMPAT32)
        cpu_fault(c, EXC_UD);
    struct vmx_cpu *v = vmx_state(c);
    if (c->vmx_operation) {
        /* in non-root operation VMXON exits before reaching this handler (vmx/intercept.c) */
        if (c->cpl != 0)
            gp0(c);
        vmx_fail(c, "VMXON", VMERR_VMXON_IN_ROOT);
        return;
    }
    /* outside VMX operation: CPL, the CR0/CR4 values, and IA32_FEATURE_CONTROL
     * (lock bit set, VMX enabled outside SMX) */
    if (c->cpl != 0 || !cr_values_supported(c, vm) || !(c->msr_feature_control & FC_LOCK) ||
        !(c->msr_feature_control & FC_VMX_OUTSIDE_SMX))
        gp0(c);
    uint64_t pa = lin_read64(c, insn_lin(c, &d->i, 8, ACC_READ));
    if ((pa & 0xfff) || (pa >> c->model->maxphyaddr)) {
        vmx_fail_invalid_why(c, "VMXON", "VMXON pointer not 4-KByte aligned or beyond the physical-address width");
        return;
    }
    uint32_t rev = (uint32_t)phys_read(c->m, pa, 4);
    if ((rev & 0x7fffffff) != vm->revision || (rev >> 31)) {
        vmx_fail_invalid_why(c, "VMXON", "VMXON region revision identifier is not IA32_VMX_BASIC[30:0], or bit 31 is set");
        return;
    }
    /* enter VMX operation: no current VMCS; INIT is blocked while c->vmx_operation
     * && !c->nonroot (the run loop's INIT delivery checks it) */
    v->vmxon_ptr = pa;
    v->vmcs_ptr = VMCS_NONE;
    v->in_vmx = true;
    c->vmx_operation = true;
    vmx_succeed(c);
}

void op_vmxoff(cpu_t *c, const dinsn_t *d)
{
    vmx_check_ud(c);
    if (c->cpl != 0)
        gp0(c);
    struct vmx_cpu *v = vmx_state(c);
    /* The current VMCS's data goes back to its region: a later VMXON starts
     * without a current VMCS, and the SDM leaves the region's contents
     * undefined otherwise; writing them is the deterministic choice. */
    vmcs_flush(c);
    v->vmcs_ptr = VMCS_NONE;
    v->vmxon_ptr = VMCS_NONE;
    v->in_vmx = false;
    c->vmx_operation = false;
    vmx_succeed(c);
    /* VMXOFF unblocks INIT: one that arrived in VMX root operation acts now
     * (it sets STOP_MODE, so the block ends after this instruction). */
    if (c->init_pending) {
        c->init_pending = false;
        cpu_init_signal(c);
    }
}

/* VMCALL in root operation: without the dual-monitor treatment of SMIs and SMM
 * it always fails (error 1). In non-root operation it exits before reaching
 * this handler, and that exit precedes the virtual-8086/compatibility-mode #UD. */
void op_vmcall(cpu_t *c, const dinsn_t *d)
{
    if (!c->vmx_operation || c->mode == MODE_V86 || c->mode == MODE_COMPAT16 || c->mode == MODE_COMPAT32)
        cpu_fault(c, EXC_UD);
    if (c->cpl != 0)
        gp0(c);
    vmx_fail(c, "VMCALL", VMERR_VMCALL_IN_ROOT);
}
