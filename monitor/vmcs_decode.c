/* vmcs_decode.c - what a VMCS field's value means, for `vmcs`: control words
 * by control name (vmx/controls.def), CR0/CR4/RFLAGS/EFER/DR7 images by bit
 * name (as cregs shows them), access rights, interruption information, the
 * exit reason and qualification (vmx/exit_trace.c's table), the VM-instruction
 * error, the activity and interruptibility states. One line, or nothing for a
 * field whose value is just a number (addresses, selectors, limits, counts). */
#include <stdio.h>
#include <string.h>

#include "monitor/repl.h"
#include "vmx/exit_trace.h"
#include "vmx/vmx.h"

enum dec { D_CTL, D_BITS, D_INTR, D_REASON, D_ERROR, D_ACTIVITY, D_INTERRUPTIBILITY };

static const struct {
    int field;
    enum dec kind;
    int word;          /* D_CTL: enum vmx_ctl_word */
    const char *reg;   /* D_BITS: the register whose bits the value holds (mon_print_reg_bits) */
} decoders[] = {
    { VMCS_PIN_BASED_VM_EXEC_CONTROL, D_CTL, VMX_PIN, NULL },
    { VMCS_CPU_BASED_VM_EXEC_CONTROL, D_CTL, VMX_PROC, NULL },
    { VMCS_SECONDARY_VM_EXEC_CONTROL, D_CTL, VMX_PROC2, NULL },
    { VMCS_VM_EXIT_CONTROLS, D_CTL, VMX_EXIT, NULL },
    { VMCS_VM_ENTRY_CONTROLS, D_CTL, VMX_ENTRY, NULL },
    { VMCS_GUEST_CR0, D_BITS, 0, "cr0" },
    { VMCS_HOST_CR0, D_BITS, 0, "cr0" },
    { VMCS_CR0_GUEST_HOST_MASK, D_BITS, 0, "cr0" },
    { VMCS_CR0_READ_SHADOW, D_BITS, 0, "cr0" },
    { VMCS_GUEST_CR4, D_BITS, 0, "cr4" },
    { VMCS_HOST_CR4, D_BITS, 0, "cr4" },
    { VMCS_CR4_GUEST_HOST_MASK, D_BITS, 0, "cr4" },
    { VMCS_CR4_READ_SHADOW, D_BITS, 0, "cr4" },
    { VMCS_GUEST_RFLAGS, D_BITS, 0, "rflags" },
    { VMCS_GUEST_IA32_EFER, D_BITS, 0, "efer" },
    { VMCS_HOST_IA32_EFER, D_BITS, 0, "efer" },
    { VMCS_GUEST_DR7, D_BITS, 0, "dr7" },
    { VMCS_VM_ENTRY_INTR_INFO_FIELD, D_INTR, 0, NULL },
    { VMCS_VM_EXIT_INTR_INFO, D_INTR, 0, NULL },
    { VMCS_IDT_VECTORING_INFO_FIELD, D_INTR, 0, NULL },
    { VMCS_VM_EXIT_REASON, D_REASON, 0, NULL },
    { VMCS_VM_INSTRUCTION_ERROR, D_ERROR, 0, NULL },
    { VMCS_GUEST_ACTIVITY_STATE, D_ACTIVITY, 0, NULL },
    { VMCS_GUEST_INTERRUPTIBILITY_INFO, D_INTERRUPTIBILITY, 0, NULL },
};

/* The qualification's named fields, appended to a buffer. */
struct words {
    char buf[256];
    size_t len;
};
static void add_word(void *arg, const char *name, uint64_t v)
{
    struct words *w = arg;
    if (w->len < sizeof w->buf)
        w->len += (size_t)snprintf(w->buf + w->len, sizeof w->buf - w->len, " %s=%llu", name, (unsigned long long)v);
}

/* SDM Vol. 3C "Format of the VM-Entry Interruption-Information Field" (the
 * exit and IDT-vectoring forms share the layout). */
static void intr_info(FILE *f, uint64_t v)
{
    static const char *const types[8] = { "external-interrupt", "reserved", "NMI", "hardware-exception",
                                           "software-interrupt", "privileged-software-exception",
                                           "software-exception", "other-event" };
    if (!(v >> 31)) {
        fprintf(f, " [not valid]\n");
        return;
    }
    fprintf(f, " [valid vector=%llu type=%s%s%s]\n", (unsigned long long)(v & 0xff), types[(v >> 8) & 7],
            (v & (1u << 11)) ? " error-code" : "", (v & (1u << 12)) ? " nmi-unblocking" : "");
}

/* Guest segment access rights in the VMCS format (SDM "Guest Register State"). */
static void access_rights(FILE *f, uint64_t v)
{
    if (v & AR_UNUSABLE) {
        fprintf(f, " [unusable]\n");
        return;
    }
    fprintf(f, " [type=%llu%s DPL=%llu%s%s%s%s%s]\n", (unsigned long long)AR_TYPE(v), (v & AR_S) ? " S" : "",
            (unsigned long long)AR_DPL(v), (v & AR_P) ? " P" : "", (v & AR_AVL) ? " AVL" : "", (v & AR_L) ? " L" : "",
            (v & AR_DB) ? " D/B" : "", (v & AR_G) ? " G" : "");
}

void mon_vmcs_decode(FILE *f, int field, uint64_t v, uint64_t exit_reason)
{
    static const char *const activity[4] = { "active", "HLT", "shutdown", "wait-for-SIPI" };
    if (field >= VMCS_GUEST_ES_AR_BYTES && field <= VMCS_GUEST_TR_AR_BYTES) {
        fprintf(f, "   ");
        access_rights(f, v);
        return;
    }
    if (field == VMCS_EXIT_QUALIFICATION) { /* named fields only for the reasons that have them */
        struct words w = { "", 0 };
        const char *id = vmx_exit_reason_ident(exit_reason & 0xffff);
        vmx_qual_fields((uint32_t)(exit_reason & 0xffff), v, add_word, &w);
        if (w.len)
            fprintf(f, "    [%s:%s]\n", id ? id : "?", w.buf);
        return;
    }
    for (size_t k = 0; k < sizeof decoders / sizeof decoders[0]; k++) {
        if (decoders[k].field != field)
            continue;
        fprintf(f, "   ");
        switch (decoders[k].kind) {
        case D_CTL: {
            const char *sep = "";
            fputs(" [", f);
            for (int bit = 0; bit < 32; bit++) {
                const char *n = vmx_control_name((enum vmx_ctl_word)decoders[k].word, bit);
                if (((v >> bit) & 1) && n) {
                    fprintf(f, "%s%s", sep, n);
                    sep = ", ";
                }
            }
            fputs("]\n", f);
            break;
        }
        case D_BITS:
            mon_print_reg_bits(f, decoders[k].reg, v);
            break;
        case D_INTR:
            intr_info(f, v);
            break;
        case D_REASON: {
            const char *id = vmx_exit_reason_ident(v & 0xffff);
            fprintf(f, " [%s(%llu)%s]\n", id ? id : "?", (unsigned long long)(v & 0xffff),
                    (v >> 31) ? " VM-entry failure" : "");
            break;
        }
        case D_ERROR: {
            const char *t = vm_instruction_error_text((unsigned)v);
            fprintf(f, " [%s]\n", v == 0 ? "none" : t ? t : "not defined by the SDM");
            break;
        }
        case D_ACTIVITY:
            fprintf(f, " [%s]\n", v < 4 ? activity[v] : "reserved");
            break;
        case D_INTERRUPTIBILITY: {
            static const char *const blocking[4] = { "blocking-by-STI", "blocking-by-MOV-SS", "blocking-by-SMI",
                                                     "blocking-by-NMI" };
            const char *sep = "";
            fputs(" [", f);
            for (int b = 0; b < 4; b++)
                if ((v >> b) & 1) {
                    fprintf(f, "%s%s", sep, blocking[b]);
                    sep = " ";
                }
            fprintf(f, "%s]\n", (v & 0xf) ? "" : "none");
            break;
        }
        }
        return;
    }
}
