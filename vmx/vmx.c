/* vmx.c - VMX's place in the machine: vmx_attach() installs the virt_ops hooks
 * (emu/virt.h), vmx_state() gives each vCPU its VMX state, vmx_model_of() the
 * model's VMX capabilities, and the capability MSRs are read here for emu/msr.c.
 * Also the #UD check the VMX instructions share.
 *
 * The non-root hooks (nonroot_handler, event, boundary) are vmx/intercept.c's,
 * vmx/intercept_event.c's and vmx/boundary.c's; emu/ calls them only while a vCPU is in
 * non-root operation or has STOP_VMX set. */
#include <stdio.h>
#include <stdlib.h>

#include "emu/cpumodel.h"
#include "emu/virt.h"
#include "vmx/apicv.h"
#include "vmx/vmx.h"

const struct vmx_model *vmx_model_of(const cpu_t *c)
{
    /* VMX exists on the vCPU only when CPUID.1:ECX.VMX says so (SDM Vol. 3C
     * "Discovering Support for VMX"); a model may carry capabilities it does
     * not advertise yet (emu/cpumodel.def). */
    return cpu_has(c, FEAT_VMX) ? c->model->vmx : NULL;
}

struct vmx_cpu *vmx_state(cpu_t *c)
{
    if (!c->vmx) {
        c->vmx = calloc(1, sizeof *c->vmx);
        if (!c->vmx) {
            fprintf(stderr, "vmxemu: out of memory for VMX state\n");
            abort();
        }
        c->vmx->vmcs_ptr = c->vmx->vmxon_ptr = VMCS_NONE;
    }
    return c->vmx;
}

/* RDMSR of IA32_VMX_BASIC..IA32_VMX_VMFUNC (SDM Vol. 3D Appendix A "VMX
 * Capability Reporting Facility"), generated from the model by vmx/caps.c. */
static bool vmx_rdmsr(cpu_t *c, uint32_t msr, uint64_t *val)
{
    const struct vmx_model *vm = vmx_model_of(c);
    return vm && vmx_cap_msr(vm, cpu_cr4_valid(c), msr, val);
}

static const virt_ops_t vmx_ops = {
    .nonroot_handler = vmx_nonroot_handler,
    .event = vmx_event,
    .boundary = vmx_boundary,
    .rdmsr = vmx_rdmsr,
    .init_signal = vmx_init_signal,
    .task_switch = vmx_task_switch,
    .gpa = vmx_gpa,
    .apic_access = vmx_apicv_access,
};

void vmx_attach(machine_t *m)
{
    m->virt = &vmx_ops; /* the per-vCPU state comes with the first VMX instruction (vmx_state) */
}

void vmx_detach(machine_t *m)
{
    for (int i = 0; i < m->ncpus; i++) {
        free(m->cpu[i]->vmx);
        m->cpu[i]->vmx = NULL;
    }
    m->virt = NULL;
}

void vmx_check_ud(cpu_t *c)
{
    /* CR0.PE = 0 is real mode, RFLAGS.VM = 1 virtual-8086 mode, and
     * IA32_EFER.LMA = 1 with CS.L = 0 compatibility mode */
    if (!c->vmx_operation || c->mode == MODE_REAL || c->mode == MODE_V86 || c->mode == MODE_COMPAT16 ||
        c->mode == MODE_COMPAT32)
        cpu_fault(c, EXC_UD);
}
