/* vmfail.c - the outcomes of VMX instructions (SDM Vol. 3C "VMX Instruction
 * Reference", section "Conventions"): VMsucceed clears CF, PF, AF, ZF, SF and
 * OF; VMfailInvalid sets CF and clears the others; VMfailValid sets ZF, clears
 * the others and stores the error number in the VM-instruction error field of
 * the current VMCS. Every failure is also a "vmfail" trace event: a VMM that
 * ignores a failed VMX instruction is the bug users come to find. */
#include "emu/flags.h"
#include "vmx/observe.h"
#include "vmx/trace.h"
#include "vmx/vmx.h"

void vmx_succeed(cpu_t *c)
{
    cpu_set_arith(c, 0);
}

static void trace_fail(cpu_t *c, const char *insn, const char *kind, int err, const char *why)
{
    vmx_trace_begin(c, "vmfail");
    vmx_trace_str("insn", insn);
    vmx_trace_hex("rip", c->insn_rip);
    vmx_trace_str("kind", kind);
    if (err >= 0) {
        vmx_trace_u64("error", (uint64_t)err);
        vmx_trace_str("error_text", vm_instruction_error_text((unsigned)err));
    }
    if (why)
        vmx_trace_str("why", why);
    vmx_trace_end();
}

void vmx_fail_invalid_why(cpu_t *c, const char *insn, const char *why)
{
    cpu_set_arith(c, F_CF);
    vmx_observe_vmfail(c, insn, -1);
    if (vmx_tracing())
        trace_fail(c, insn, "VMfailInvalid", -1, why);
}

/* VMfail(err) without a current VMCS: there is no field to hold err, but the
 * trace still names the condition. */
static void fail_invalid_err(cpu_t *c, const char *insn, enum vm_instruction_error err)
{
    cpu_set_arith(c, F_CF);
    vmx_observe_vmfail(c, insn, -1);
    if (vmx_tracing())
        trace_fail(c, insn, "VMfailInvalid", (int)err, "no current VMCS");
}

void vmx_fail_invalid(cpu_t *c, const char *insn)
{
    vmx_fail_invalid_why(c, insn, "no current VMCS");
}

void vmx_fail_valid(cpu_t *c, const char *insn, enum vm_instruction_error err)
{
    cpu_set_arith(c, F_ZF);
    vmcs_set(c, VMCS_VM_INSTRUCTION_ERROR, (uint64_t)err);
    vmx_observe_vmfail(c, insn, (int)err);
    if (vmx_tracing())
        trace_fail(c, insn, "VMfailValid", (int)err, NULL);
}

void vmx_fail(cpu_t *c, const char *insn, enum vm_instruction_error err)
{
    if (vmx_state(c)->vmcs_ptr != VMCS_NONE)
        vmx_fail_valid(c, insn, err);
    else
        fail_invalid_err(c, insn, err);
}
