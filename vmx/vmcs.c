/* vmcs.c - the VMCS: its region in guest memory (our layout, docs/vmcs-layout.md),
 * the current-VMCS cache (struct vmx_cpu.vmcs[]), and the instructions that
 * manage it: VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE (SDM Vol. 3C "VMX
 * Instruction Reference"; field widths and access types from "VMREAD, VMWRITE,
 * and Encodings of VMCS Fields", 24.11.2 in older editions, 25.11.2 in newer).
 *
 * The cache: VMPTRLD copies the region into vmx_cpu.vmcs[] and VMREAD/VMWRITE
 * work on the copy, so the region in memory is stale while the VMCS is current,
 * as the SDM allows ("Software Use of the VMCS and Related Structures"). The
 * copy goes back into memory when the VMCS stops being current (VMCLEAR, a
 * VMPTRLD of another VMCS, VMXOFF), so a region can then be copied and loaded
 * at another address.
 *
 * In VMX non-root operation these instructions exit unconditionally (VMCS
 * shadowing is not implemented); the non-root wrapper of vmx/intercept.c does
 * that after vmx_check_ud(), so the handlers here run in root operation only. */
#include "emu/cpumodel.h"
#include "emu/exec.h"
#include "vmx/vmx.h"

/* Field values are kept at their width (16, 32 or 64 bits). */
static uint64_t width_mask(enum vmcs_field f)
{
    switch (vmcs_enc_width(vmcs_field_encoding(f))) {
    case VMCS_W16: return 0xffff;
    case VMCS_W32: return 0xffffffff;
    default: return ~0ull;
    }
}

uint64_t vmcs_get(cpu_t *c, enum vmcs_field f)
{
    return vmx_state(c)->vmcs[f];
}

void vmcs_set(cpu_t *c, enum vmcs_field f, uint64_t v)
{
    vmx_state(c)->vmcs[f] = v & width_mask(f);
}

static void vmcs_load(cpu_t *c, uint64_t pa)
{
    struct vmx_cpu *v = vmx_state(c);
    for (int f = 0; f < VMCS_FIELD_COUNT; f++)
        v->vmcs[f] = phys_read(c->m, pa + vmcs_field_offset(f), 8) & width_mask(f);
    v->launch_state = (uint32_t)phys_read(c->m, pa + VMCS_OFF_LAUNCH, 4);
    v->vmcs_ptr = pa;
}

void vmcs_flush(cpu_t *c)
{
    struct vmx_cpu *v = vmx_state(c);
    if (v->vmcs_ptr == VMCS_NONE)
        return;
    for (int f = 0; f < VMCS_FIELD_COUNT; f++)
        phys_write(c->m, v->vmcs_ptr + vmcs_field_offset(f), 8, v->vmcs[f]);
    phys_write(c->m, v->vmcs_ptr + VMCS_OFF_LAUNCH, 4, v->launch_state);
}

/* ---- the instructions ---- */

static _Noreturn void gp0(cpu_t *c)
{
    cpu_fault_err(c, EXC_GP, 0);
}

/* After vmx_check_ud(): in root operation, CPL > 0 is #GP(0). */
static void root_checks(cpu_t *c)
{
    vmx_check_ud(c);
    if (c->cpl != 0)
        gp0(c);
}

/* The 64-bit memory operand of VMCLEAR, VMPTRLD (and VMXON, vmxon.c). */
static uint64_t read_m64(cpu_t *c, const dinsn_t *d)
{
    return lin_read64(c, insn_lin(c, &d->i, 8, ACC_READ));
}

/* "addr is not 4KB-aligned or sets any bits beyond the physical-address width"
 * (IA32_VMX_BASIC[48] = 0: the width is MAXPHYADDR). */
static bool bad_vmcs_address(const cpu_t *c, uint64_t pa)
{
    return (pa & 0xfff) || (pa >> c->model->maxphyaddr);
}

/* Whether the 1-setting of "VMCS shadowing" is offered: only then may a
 * region's shadow-VMCS indicator be 1 (VMPTRLD). */
static bool shadowing_offered(const struct vmx_model *vm)
{
    uint32_t a0, a1, b0, b1;
    vmx_allowed(vm, VMX_PROC, &a0, &a1);
    vmx_allowed(vm, VMX_PROC2, &b0, &b1);
    return (a1 & VMX_CTL(PROC, SECONDARY_CONTROLS)) && (b1 & VMX_CTL(PROC2, VMCS_SHADOWING));
}

/* VMCLEAR - Clear Virtual-Machine Control Structure. */
void op_vmclear(cpu_t *c, const dinsn_t *d)
{
    root_checks(c);
    struct vmx_cpu *v = vmx_state(c);
    uint64_t pa = read_m64(c, d);
    if (bad_vmcs_address(c, pa)) {
        vmx_fail(c, "VMCLEAR", VMERR_VMCLEAR_INVALID_ADDR);
    } else if (pa == v->vmxon_ptr) {
        vmx_fail(c, "VMCLEAR", VMERR_VMCLEAR_VMXON_PTR);
    } else {
        /* "ensure that data for VMCS referenced by the operand is in memory;
         * launch state := clear; if it is current, current-VMCS pointer := none" */
        if (pa == v->vmcs_ptr) {
            v->launch_state = 0;
            vmcs_flush(c);
            v->vmcs_ptr = VMCS_NONE;
        } else {
            phys_write(c->m, pa + VMCS_OFF_LAUNCH, 4, 0);
        }
        vmx_succeed(c);
    }
}

/* VMPTRLD - Load Pointer to Virtual-Machine Control Structure. */
void op_vmptrld(cpu_t *c, const dinsn_t *d)
{
    root_checks(c);
    struct vmx_cpu *v = vmx_state(c);
    uint64_t pa = read_m64(c, d);
    if (bad_vmcs_address(c, pa)) {
        vmx_fail(c, "VMPTRLD", VMERR_VMPTRLD_INVALID_ADDR);
        return;
    }
    if (pa == v->vmxon_ptr) {
        vmx_fail(c, "VMPTRLD", VMERR_VMPTRLD_VMXON_PTR);
        return;
    }
    uint32_t rev = (uint32_t)phys_read(c->m, pa + VMCS_OFF_REVISION, 4);
    const struct vmx_model *vm = vmx_model_of(c);
    if ((rev & 0x7fffffff) != vm->revision || ((rev >> 31) && !shadowing_offered(vm))) {
        vmx_fail(c, "VMPTRLD", VMERR_VMPTRLD_BAD_REVISION);
        return;
    }
    if (pa != v->vmcs_ptr) { /* the one current VMCS so far goes back to memory first */
        vmcs_flush(c);
        vmcs_load(c, pa);
    }
    vmx_succeed(c);
}

/* VMPTRST - Store Pointer to Virtual-Machine Control Structure. */
void op_vmptrst(cpu_t *c, const dinsn_t *d)
{
    root_checks(c);
    lin_write64(c, insn_lin(c, &d->i, 8, ACC_WRITE), vmx_state(c)->vmcs_ptr);
    vmx_succeed(c);
}

/* VMREAD/VMWRITE operate on 64 bits in 64-bit mode and 32 bits elsewhere,
 * whatever CS.D and prefixes say. */
static int vmx_operand_size(const cpu_t *c)
{
    return c->mode == MODE_LONG64 ? 8 : 4;
}

/* The field a VMREAD/VMWRITE encoding names on this model, or -1 for an
 * unsupported component: an unknown encoding, bits 63:32 set (64-bit mode), or
 * a field the model lacks (vmcs_field_exists). */
static int field_of(const cpu_t *c, uint64_t enc, int *high)
{
    if (enc >> 32)
        return -1;
    int f = vmcs_field_by_encoding((uint32_t)enc, high);
    if (f < 0 || !vmcs_field_exists(vmx_model_of(c), f))
        return -1;
    return f;
}

/* VMREAD - Read Field from Virtual-Machine Control Structure. */
void op_vmread(cpu_t *c, const dinsn_t *d)
{
    root_checks(c);
    struct vmx_cpu *v = vmx_state(c);
    if (v->vmcs_ptr == VMCS_NONE) {
        vmx_fail_invalid(c, "VMREAD");
        return;
    }
    int size = vmx_operand_size(c), high = 0;
    int f = field_of(c, reg_get(c, &d->i, d->i.reg, size), &high);
    if (f < 0) {
        vmx_fail_valid(c, "VMREAD", VMERR_UNSUPPORTED_FIELD);
        return;
    }
    /* the field, zero-extended; the high access type gives bits 63:32 of a 64-bit field */
    uint64_t val = high ? v->vmcs[f] >> 32 : v->vmcs[f];
    if (d->i.mod == 3)
        reg_set(c, &d->i, d->i.rm, size, val);
    else
        lin_write(c, insn_lin(c, &d->i, size, ACC_WRITE), size, val);
    vmx_succeed(c);
}

/* VMWRITE - Write Field to Virtual-Machine Control Structure. */
void op_vmwrite(cpu_t *c, const dinsn_t *d)
{
    root_checks(c);
    struct vmx_cpu *v = vmx_state(c);
    if (v->vmcs_ptr == VMCS_NONE) {
        vmx_fail_invalid(c, "VMWRITE");
        return;
    }
    int size = vmx_operand_size(c), high = 0;
    /* a memory source faults after the VMCS-pointer check, before the field check */
    uint64_t val = rm_read(c, &d->i, size);
    uint64_t enc = reg_get(c, &d->i, d->i.reg, size);
    int f = field_of(c, enc, &high);
    if (f < 0) {
        vmx_fail_valid(c, "VMWRITE", VMERR_UNSUPPORTED_FIELD);
        return;
    }
    if (vmcs_enc_type((uint32_t)enc) == VMCS_T_RODATA && !vmx_model_of(c)->vmwrite_any_field) {
        vmx_fail_valid(c, "VMWRITE", VMERR_VMWRITE_READONLY);
        return;
    }
    /* a shorter source is zero-extended (the field's high bits are cleared), a
     * longer one truncated; the high access type writes only bits 63:32 */
    if (high)
        vmcs_set(c, f, (v->vmcs[f] & 0xffffffffull) | (uint64_t)(uint32_t)val << 32);
    else
        vmcs_set(c, f, val);
    vmx_succeed(c);
}
