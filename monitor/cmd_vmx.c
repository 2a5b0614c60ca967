/* cmd_vmx.c - the VMX rows of monitor/commands.def about the VMCS and the
 * trace (vmcs, trace). `vmcs` shows and edits the current VMCS through the
 * vmx/ cache (vmx/vmx.h), `vmcs diff` is monitor/cmd_vmtrans.c's, `trace`
 * turns the JSON Lines writer (vmx/trace.h) on and off. On a CPU model without
 * VMX every row answers MON_NO_VMX. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/repl.h"
#include "emu/msr.h" /* before vmx/: caps.h names MSR_IA32_VMX_BASIC as a macro */
#include "vmx/trace.h"
#include "vmx/vmx.h"

bool cmd_vmcs(mon_t *mon, const mon_args_t *a);
bool cmd_trace(mon_t *mon, const mon_args_t *a);
bool mon_vmcs_diff(mon_t *mon); /* monitor/cmd_vmtrans.c */

/* The trace file `trace on` opened (NULL: none of ours; --trace's file belongs to main.c). */
static FILE *mon_trace;

static uint64_t width_mask(enum vmcs_field f)
{
    switch (vmcs_enc_width(vmcs_field_encoding(f))) {
    case VMCS_W16: return 0xffffull;
    case VMCS_W32: return 0xffffffffull;
    default: return ~0ull;
    }
}

/* One field: identifier, encoding, SDM name, value; columns padded to the
 * longest identifier and name so the listing lines up (and stays the same). */
static void print_field(mon_t *mon, cpu_t *c, enum vmcs_field f)
{
    static int iw, nw;
    if (!iw)
        for (int k = 0; k < VMCS_FIELD_COUNT; k++) {
            int li = (int)strlen(vmcs_field_ident(k)), ln = (int)strlen(vmcs_field_name(k));
            iw = li > iw ? li : iw;
            nw = ln > nw ? ln : nw;
        }
    fprintf(mon->out, "%-*s 0x%04x  %-*s  0x%016llx\n", iw, vmcs_field_ident(f), vmcs_field_encoding(f), nw,
            vmcs_field_name(f), (unsigned long long)vmcs_get(c, f));
    mon_vmcs_decode(mon->out, f, vmcs_get(c, f), vmcs_get(c, VMCS_VM_EXIT_REASON));
}

/* A field by identifier (any case) or encoding number; -1 after an error line. */
static int find_field(mon_t *mon, const struct vmx_model *vm, const char *s)
{
    int f = vmcs_field_by_ident(s);
    if (f < 0) {
        char *end;
        errno = 0;
        unsigned long long enc = strtoull(s, &end, 0);
        int high;
        if (s[0] >= '0' && s[0] <= '9' && !*end && !errno && enc <= 0xffffffffull)
            f = vmcs_field_by_encoding((uint32_t)enc, &high);
    }
    if (f < 0) {
        mon_err(mon, "vmcs: unknown VMCS field '%s'", s);
        return -1;
    }
    if (!vmcs_field_exists(vm, f)) {
        mon_err(mon, "vmcs: field %s does not exist on this CPU model", vmcs_field_ident(f));
        return -1;
    }
    return f;
}

bool cmd_vmcs(mon_t *mon, const mon_args_t *a)
{
    cpu_t *c = mon_cpu(mon);
    const struct vmx_model *vm = vmx_model_of(c);
    if (!vm)
        return mon_err(mon, "vmcs: %s", MON_NO_VMX);
    if (a->argc > 2)
        return mon_err(mon, "usage: vmcs [diff | FIELD[=VALUE]]");
    if (a->argc == 2 && strcmp(a->argv[1], "diff") == 0)
        return mon_vmcs_diff(mon);
    struct vmx_cpu *v = vmx_state(c);
    if (a->argc == 1) {
        if (v->vmcs_ptr == VMCS_NONE) {
            fprintf(mon->out, "no current VMCS\n");
            return true;
        }
        fprintf(mon->out, "current VMCS 0x%llx, launch state %s\n", (unsigned long long)v->vmcs_ptr,
                v->launch_state ? "launched" : "clear");
        for (int f = 0; f < VMCS_FIELD_COUNT; f++)
            if (vmcs_field_exists(vm, f))
                print_field(mon, c, f);
        return true;
    }
    char name[128];
    const char *arg = a->argv[1], *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
    if (n == 0 || n >= sizeof name)
        return mon_err(mon, "usage: vmcs [diff | FIELD[=VALUE]]");
    memcpy(name, arg, n);
    name[n] = 0;
    int f = find_field(mon, vm, name);
    if (f < 0)
        return false;
    if (v->vmcs_ptr == VMCS_NONE)
        return mon_err(mon, "vmcs %s: no current VMCS", vmcs_field_ident(f));
    if (eq) {
        uint64_t val;
        if (!mon_parse_u64(mon, eq + 1, &val))
            return false;
        if (val & ~width_mask(f))
            return mon_err(mon, "vmcs: %#llx does not fit the %d-bit field %s", (unsigned long long)val,
                           width_mask(f) == 0xffff ? 16 : 32, vmcs_field_ident(f));
        vmcs_set(c, f, val);
    }
    print_field(mon, c, f);
    return true;
}

bool cmd_trace(mon_t *mon, const mon_args_t *a)
{
    if (!vmx_model_of(mon_cpu(mon)))
        return mon_err(mon, "trace: %s", MON_NO_VMX);
    if (a->argc == 3 && strcmp(a->argv[1], "on") == 0) {
        FILE *fp = fopen(a->argv[2], "w");
        if (!fp)
            return mon_err(mon, "trace: cannot open %s: %s", a->argv[2], strerror(errno));
        vmx_trace_open(fp);
        if (mon_trace)
            fclose(mon_trace);
        mon_trace = fp;
        fprintf(mon->out, "tracing VM entries and exits to %s\n", a->argv[2]);
        return true;
    }
    if (a->argc == 2 && strcmp(a->argv[1], "off") == 0) {
        bool was = vmx_tracing();
        vmx_trace_open(NULL);
        if (mon_trace) {
            fclose(mon_trace);
            mon_trace = NULL;
        }
        fprintf(mon->out, was ? "trace off\n" : "trace was off\n");
        return true;
    }
    return mon_err(mon, "usage: trace on FILE | off");
}
