/* exit_trace.c - the trace events of vmx/exit_trace.h. Exit qualifications
 * are decoded by a table of bit fields per basic exit reason (SDM Vol. 3C
 * 28.2.1 "Basic VM-Exit Information", the tables "Exit Qualification for
 * Control-Register Accesses", "... for MOV DR", "... for I/O Instructions",
 * "... for Task Switch", "... for EPT Violations"). */
#include "vmx/exit_trace.h"

#include "emu/msr.h"
#include "vmx/entry_checks.h"
#include "vmx/vmx.h"

/* One named field of an exit qualification: bits [lo, lo+width). */
static const struct qual_field {
    uint8_t reason, lo, width;
    const char *name;
} qual_fields[] = {
    { EXIT_REASON_CR_ACCESS, 0, 4, "cr" },
    { EXIT_REASON_CR_ACCESS, 4, 2, "access_type" }, /* 0 MOV to CR, 1 MOV from CR, 2 CLTS, 3 LMSW */
    { EXIT_REASON_CR_ACCESS, 6, 1, "lmsw_operand_memory" },
    { EXIT_REASON_CR_ACCESS, 8, 4, "gpr" },
    { EXIT_REASON_CR_ACCESS, 16, 16, "lmsw_source" },
    { EXIT_REASON_DR_ACCESS, 0, 3, "dr" },
    { EXIT_REASON_DR_ACCESS, 4, 1, "from_dr" },
    { EXIT_REASON_DR_ACCESS, 8, 4, "gpr" },
    { EXIT_REASON_IO_INSTRUCTION, 0, 3, "size_minus_1" },
    { EXIT_REASON_IO_INSTRUCTION, 3, 1, "in" },
    { EXIT_REASON_IO_INSTRUCTION, 4, 1, "string" },
    { EXIT_REASON_IO_INSTRUCTION, 5, 1, "rep" },
    { EXIT_REASON_IO_INSTRUCTION, 6, 1, "immediate_port" },
    { EXIT_REASON_IO_INSTRUCTION, 16, 16, "port" },
    { EXIT_REASON_TASK_SWITCH, 0, 16, "tss_selector" },
    { EXIT_REASON_TASK_SWITCH, 30, 2, "source" }, /* 0 CALL, 1 IRET, 2 JMP, 3 task gate in the IDT */
    { EXIT_REASON_EPT_VIOLATION, 0, 1, "read" },
    { EXIT_REASON_EPT_VIOLATION, 1, 1, "write" },
    { EXIT_REASON_EPT_VIOLATION, 2, 1, "fetch" },
    { EXIT_REASON_EPT_VIOLATION, 3, 3, "ept_rwx" },  /* the rights of the translation, bit 0 R, 1 W, 2 X */
    { EXIT_REASON_EPT_VIOLATION, 7, 1, "gla_valid" },
    { EXIT_REASON_EPT_VIOLATION, 8, 1, "final" },    /* 1 the translation of the linear address, 0 a paging-structure access */
    { EXIT_REASON_EPT_VIOLATION, 9, 1, "user" },     /* bits 9-11: the guest paging's rights of the linear address */
    { EXIT_REASON_EPT_VIOLATION, 10, 1, "writable" },
    { EXIT_REASON_EPT_VIOLATION, 11, 1, "nx" },
    { EXIT_REASON_EPT_VIOLATION, 12, 1, "nmi_unblocked" },
    { EXIT_REASON_MWAIT_INSTRUCTION, 0, 1, "monitor_armed" },
};

static void trace_reason(uint32_t reason)
{
    vmx_trace_u64("reason", reason & 0xffff);
    vmx_trace_str("reason_name", vmx_exit_reason_ident(reason & 0xffff));
    if (reason >> 31)
        vmx_trace_bool("entry_failure", true);
}

void vmx_qual_fields(uint32_t reason, uint64_t qual, void (*fn)(void *arg, const char *name, uint64_t v),
                     void *arg)
{
    for (size_t k = 0; k < sizeof qual_fields / sizeof qual_fields[0]; k++) {
        const struct qual_field *q = &qual_fields[k];
        if (q->reason == reason)
            fn(arg, q->name, (qual >> q->lo) & ((1ull << q->width) - 1));
    }
}

static void trace_field(void *arg, const char *name, uint64_t v)
{
    vmx_trace_u64(name, v);
}

static void trace_qual(uint32_t reason, uint64_t qual)
{
    vmx_trace_obj_begin("qualification");
    vmx_trace_hex("raw", qual);
    vmx_qual_fields(reason, qual, trace_field, NULL);
    vmx_trace_obj_end();
}

void vmx_trace_exit(cpu_t *c, uint32_t reason, uint64_t qual)
{
    if (!vmx_tracing())
        return;
    vmx_trace_begin(c, "vmexit");
    trace_reason(reason);
    trace_qual(reason, qual);
    vmx_trace_hex("rip", c->rip);
    vmx_trace_u64("insn_len", vmcs_get(c, VMCS_VM_EXIT_INSTRUCTION_LEN));
    if (reason == EXIT_REASON_MSR_READ || reason == EXIT_REASON_MSR_WRITE) {
        vmx_trace_hex("msr", (uint32_t)c->gpr[R_RCX]);
        vmx_trace_str("msr_name", msr_name((uint32_t)c->gpr[R_RCX]));
    }
    if (reason == EXIT_REASON_EPT_VIOLATION || reason == EXIT_REASON_EPT_MISCONFIG) {
        vmx_trace_hex("gpa", vmcs_get(c, VMCS_GUEST_PHYSICAL_ADDRESS));
        if (reason == EXIT_REASON_EPT_VIOLATION && (qual & (1u << 7)))
            vmx_trace_hex("gla", vmcs_get(c, VMCS_GUEST_LINEAR_ADDRESS));
    }
    uint64_t ii = vmcs_get(c, VMCS_VM_EXIT_INTR_INFO);
    if (ii >> 31) {
        vmx_trace_obj_begin("interruption");
        vmx_trace_u64("vector", ii & 0xff);
        vmx_trace_u64("type", (ii >> 8) & 7);
        if (ii & (1u << 11))
            vmx_trace_hex("error_code", vmcs_get(c, VMCS_VM_EXIT_INTR_ERROR_CODE));
        vmx_trace_obj_end();
    }
    uint64_t iv = vmcs_get(c, VMCS_IDT_VECTORING_INFO_FIELD);
    if (iv >> 31)
        vmx_trace_hex("idt_vectoring", iv);
    vmx_trace_end();
}

void vmx_trace_entry(cpu_t *c, const char *insn)
{
    if (!vmx_tracing())
        return;
    vmx_trace_begin(c, "vmentry");
    vmx_trace_str("insn", insn);
    vmx_trace_hex("rip", c->rip);
    uint64_t ii = vmcs_get(c, VMCS_VM_ENTRY_INTR_INFO_FIELD);
    if (ii >> 31)
        vmx_trace_hex("inject", ii);
    vmx_boundary_trace_entry(c);
    vmx_trace_end();
}

void vmx_trace_entry_failure(cpu_t *c, uint32_t reason, uint64_t qual, int check)
{
    if (!vmx_tracing())
        return;
    const struct entry_check_info *k = entry_check_info((enum entry_check)check);
    vmx_trace_begin(c, "vmentry_failed");
    if (reason) {
        trace_reason(reason | 1u << 31);
        vmx_trace_u64("qualification", qual);
    } else {
        vmx_trace_u64("vm_instruction_error", k->kind == CHK_KIND_CTL ? VMERR_ENTRY_INVALID_CONTROL
                                                                       : VMERR_ENTRY_INVALID_HOST_STATE);
    }
    vmx_trace_str("check", k->ident);
    vmx_trace_str("sdm_section", k->section);
    vmx_trace_str("sdm_title", k->title);
    vmx_trace_str("description", k->desc);
    vmx_trace_end();
}
