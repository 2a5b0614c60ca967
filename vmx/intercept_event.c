/* intercept_event.c - events in VMX non-root operation (SDM Vol. 3C 26.2
 * "Other Causes of VM Exits"): exceptions through the exception bitmap (with
 * the page-fault error-code mask and match), triple faults, INIT and SIPI, NMI exiting, external-interrupt
 * exiting with "acknowledge interrupt on exit", task switches (the windows and
 * the other instruction-boundary events are vmx/boundary.c's). The event being delivered is remembered, so an
 * exit caused by a fault during its delivery reports it as IDT-vectoring
 * information (28.2.4 "Information for VM Exits During Event Delivery"). */
#include "emu/fault.h"
#include "emu/flags.h"
#include "emu/machine.h"
#include "emu/seg.h"
#include "emu/virt.h"
#include "vmx/apicv.h"
#include "vmx/exit.h"
#include "vmx/vmx.h"

#define G(name) vmcs_get(c, VMCS_##name)
#define VALID (1u << 31)

static uint32_t intr_info(int type, int vec, int has_err)
{
    return (uint32_t)vec | (uint32_t)type << 8 | (has_err ? 1u << 11 : 0) | VALID;
}

/* Exception bitmap (25.6.3 "Exception Bitmap"): a #PF exits when bit 14 is
 * set and the error code matches, or bit 14 is clear and it does not. */
static bool exception_exits(cpu_t *c, int vec, uint32_t err)
{
    bool bit = (G(EXCEPTION_BITMAP) >> vec) & 1;
    if (vec != EXC_PF)
        return bit;
    bool match = (err & G(PAGE_FAULT_ERROR_CODE_MASK)) == G(PAGE_FAULT_ERROR_CODE_MATCH);
    return match ? bit : !bit;
}

/* An exit caused by an event; only software exceptions have an instruction
 * length (set by the caller), the others record 0. */
static bool exit_event(cpu_t *c, uint32_t reason, uint32_t info, uint32_t err, uint64_t qual)
{
    uint32_t type = (info >> 8) & 7;
    if (!(info >> 31) || (type != EV_SWEXC && type != EV_PRIVSW))
        vmx_exit_insn(c, 0, 0);
    vmcs_set(c, VMCS_VM_EXIT_INTR_INFO, info);
    vmcs_set(c, VMCS_VM_EXIT_INTR_ERROR_CODE, err);
    vmx_vmexit(c, reason, qual);
    return true;
}

bool vmx_event(cpu_t *c, enum event_type type, int vec, int has_err, uint32_t err)
{
    struct vmx_cpu *v = vmx_state(c);
    if (v->injecting) { /* VM entry's own injected event (27.6) is not subject to exiting */
        v->injecting = false;
        return false;
    }
    /* exc_depth != 0: the delivery recorded below faulted, and this is the nested event */
    if (!c->exc_depth)
        v->vectoring_info = 0;
    /* an IRET that removed NMI blocking faulted: an exit reports it (bit 12, 28.2.2) */
    uint32_t iret_bit = v->iret_unblocked && !c->exc_depth ? 1u << 12 : 0;
    v->iret_unblocked = false;
    switch (type) {
    case EV_EXTINT:
        if (vec < 0) { /* offered before the controller is acknowledged */
            if (!(G(PIN_BASED_VM_EXEC_CONTROL) & VMX_CTL(PIN, EXT_INTR_EXITING)))
                return false;
            uint32_t info = 0;
            if (G(VM_EXIT_CONTROLS) & VMX_CTL(EXIT, ACK_INTR_ON_EXIT)) {
                int ack = c->m->intr_ack(c->m->intr_opaque, c->index);
                if (vmx_apicv_posted(c, ack)) /* the notification vector: processed, no exit */
                    return true;
                info = intr_info(EV_EXTINT, ack, 0);
            }
            return exit_event(c, EXIT_REASON_EXTERNAL_INTERRUPT, info, 0, 0);
        }
        break;
    case EV_NMI:
        if (G(PIN_BASED_VM_EXEC_CONTROL) & VMX_CTL(PIN, NMI_EXITING))
            return exit_event(c, EXIT_REASON_EXCEPTION_NMI, intr_info(EV_NMI, EXC_NMI, 0), 0, 0);
        break;
    case EV_HWEXC:
    case EV_PRIVSW:
    case EV_SWEXC:
        if (exception_exits(c, vec, err)) {
            if (type != EV_HWEXC) {
                /* INT1/INT3/INTO: the saved RIP is the instruction's, with its length */
                vmx_exit_insn(c, (uint32_t)(c->rip - c->insn_rip), 0);
                c->rip = c->insn_rip;
            }
            /* #PF: the qualification is the linear address; CR2 is left unchanged
             * (emu/ writes it only when the #PF is delivered). #DB: the DR6-form
             * bits, and DR6 is left unchanged (28.2.1 "Exit Qualification for
             * Debug Exceptions"). */
            uint64_t qual = vec == EXC_PF ? c->pf_addr : vec == EXC_DB ? c->db_pending : 0;
            if (vec == EXC_DB)
                c->db_pending = 0;
            return exit_event(c, EXIT_REASON_EXCEPTION_NMI, intr_info(type, vec, has_err) | iret_bit, err, qual);
        }
        break;
    case EV_SWINT:
        break;
    /* a triple fault always exits; a SIPI does in the wait-for-SIPI state, with its
     * vector as the qualification, and is ignored otherwise (26.2 "Other Causes of VM Exits") */
    case EV_TRIPLE:
        return exit_event(c, EXIT_REASON_TRIPLE_FAULT, 0, 0, 0);
    case EV_SIPI:
        return c->wait_for_sipi && exit_event(c, EXIT_REASON_SIPI, 0, 0, (uint64_t)vec);
    }
    v->vectoring_info = intr_info(type, vec, has_err);
    v->vectoring_err = err;
    /* delivered through the guest IDT: an MTF VM exit follows (vmx/boundary.c),
     * and the windows may have changed */
    v->delivered = true;
    c->stop |= STOP_VMX;
    return false;
}

/* INIT in non-root operation (virt_ops.init_signal; emu/cpu.c latches it in
 * root operation): always a VM exit (26.2 "Other Causes of VM Exits"). */
void vmx_init_signal(cpu_t *c)
{
    exit_event(c, EXIT_REASON_INIT_SIGNAL, 0, 0, 0);
}

/* A task switch in non-root operation (virt_ops.task_switch, from emu/seg.c
 * after the checks of the gate and the new TSS descriptor): always a VM exit
 * (26.4.2 "Treatment of Task Switches"). Qualification (28.2.1, "Exit
 * Qualification for Task Switch"): the TSS selector [15:0], the source [31:30]
 * 0 CALL, 1 IRET, 2 JMP, 3 task gate in the IDT; for the IDT the event being
 * delivered is the IDT-vectoring information (vmx_vmexit). CALL, IRET, JMP and
 * software interrupts through a task gate save the instruction's own RIP and
 * its length (28.2.4). */
void vmx_task_switch(cpu_t *c, uint16_t sel, int why)
{
    static const uint8_t source[] = { [TS_CALL] = 0, [TS_IRET] = 1, [TS_JMP] = 2, [TS_INT] = 3 };
    uint32_t type = (vmx_state(c)->vectoring_info >> 8) & 7;
    uint32_t len = 0;
    if (why != TS_INT || type == EV_SWINT || type == EV_SWEXC || type == EV_PRIVSW) {
        len = (uint32_t)(c->rip - c->insn_rip);
        c->rip = c->insn_rip;
    }
    vmx_exit_insn(c, len, 0);
    vmx_vmexit(c, EXIT_REASON_TASK_SWITCH, sel | (uint64_t)source[why] << 30);
    cpu_abort_insn(c);
}
