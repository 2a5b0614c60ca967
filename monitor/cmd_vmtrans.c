/* cmd_vmtrans.c - the monitor's view of VM transitions, from what vmx/ keeps
 * (vmx/observe.h): `explain` (the last failed VM entry: its check, the values
 * it looked at and the SDM section; or the last VM exit decoded), `exits [N]`
 * (the exit ring), `until entry | exit [REASON]`, and `vmcs diff` (the current
 * VMCS against its copy after the last transition). Exit qualifications are
 * decoded by vmx/exit_trace.c's table, the same the trace uses. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "monitor/repl.h"
#include "emu/msr.h" /* before vmx/: caps.h names MSR_IA32_VMX_BASIC as a macro */
#include "vmx/entry_checks.h"
#include "vmx/exit_trace.h"
#include "vmx/vmx.h"

bool cmd_explain(mon_t *mon, const mon_args_t *a);
bool cmd_exits(mon_t *mon, const mon_args_t *a);
bool cmd_until(mon_t *mon, const mon_args_t *a);
bool mon_vmcs_diff(mon_t *mon);

#define EXITS_DEFAULT 10

bool mon_parse_exit_reason(mon_t *mon, const char *s, uint64_t *reason)
{
    for (unsigned r = 0; r <= 0xffff; r++) {
        const char *id = vmx_exit_reason_ident(r);
        if (id && strcasecmp(id, s) == 0) {
            *reason = r;
            return true;
        }
        if (!id && r > 255)
            break; /* basic exit reasons are small numbers */
    }
    char *end;
    unsigned long long n = (s[0] >= '0' && s[0] <= '9') ? strtoull(s, &end, 0) : 0;
    if (s[0] >= '0' && s[0] <= '9' && !*end && n <= 0xffff && vmx_exit_reason_ident((unsigned)n)) {
        *reason = n;
        return true;
    }
    return mon_err(mon, "unknown VM-exit reason '%s' (a name such as CPUID or IO_INSTRUCTION, or its number)", s);
}

/* The VMX rows need a model with VMX; false after the error line. */
static bool have_vmx(mon_t *mon, const char *cmd)
{
    if (vmx_model_of(mon_cpu(mon)))
        return true;
    return mon_err(mon, "%s: %s", cmd, MON_NO_VMX);
}

static void print_qual_field(void *arg, const char *name, uint64_t v)
{
    fprintf((FILE *)arg, " %s=%llu", name, (unsigned long long)v);
}

/* One exit on one line: number, cycle, vCPU, reason, guest RIP, length,
 * qualification (raw, then its named fields), and the MSR or event if any. */
static void print_exit(mon_t *mon, const cpu_t *c, uint64_t k, const struct vmx_exit_rec *e)
{
    unsigned basic = e->reason & 0xffff;
    const char *id = vmx_exit_reason_ident(basic);
    fprintf(mon->out, "exit %llu: cycle=%llu cpu=%d reason=%s(%u) rip=%#llx len=%u qual=%#llx",
            (unsigned long long)k, (unsigned long long)e->cycle, c->index, id ? id : "?", basic,
            (unsigned long long)e->rip, e->insn_len, (unsigned long long)e->qual);
    vmx_qual_fields(basic, e->qual, print_qual_field, mon->out);
    if (basic == EXIT_REASON_MSR_READ || basic == EXIT_REASON_MSR_WRITE) {
        const char *n = msr_name(e->msr);
        fprintf(mon->out, " msr=%#x(%s)", e->msr, n ? n : "?");
    }
    if (e->intr_info >> 31)
        fprintf(mon->out, " vector=%u type=%u", e->intr_info & 0xff, (e->intr_info >> 8) & 7);
    fputc('\n', mon->out);
}

bool cmd_exits(mon_t *mon, const mon_args_t *a)
{
    if (!have_vmx(mon, "exits"))
        return false;
    uint64_t n = EXITS_DEFAULT;
    if (a->argc > 2)
        return mon_err(mon, "usage: exits [N]");
    if (a->argc == 2 && !mon_parse_u64(mon, a->argv[1], &n))
        return false;
    if (n == 0 || n > VMX_EXIT_RING)
        return mon_err(mon, "exits: N is 1 to %d (the exits kept)", VMX_EXIT_RING);
    cpu_t *c = mon_cpu(mon);
    const struct vmx_observe *o = vmx_observed(c);
    uint64_t total = o ? o->exits : 0;
    if (!total) {
        fprintf(mon->out, "no VM exits on cpu%d\n", c->index);
        return true;
    }
    uint64_t kept = total < VMX_EXIT_RING ? total : VMX_EXIT_RING, show = n < kept ? n : kept;
    fprintf(mon->out, "last %llu of %llu VM exits on cpu%d:\n", (unsigned long long)show,
            (unsigned long long)total, c->index);
    for (uint64_t k = total - show; k < total; k++)
        print_exit(mon, c, k, vmx_observed_exit(c, k));
    return true;
}

static const char *const seg_names[] = { "ES", "CS", "SS", "DS", "FS", "GS", "LDTR", "TR" };

static void explain_failure(mon_t *mon, cpu_t *c, const struct vmx_failed_entry *f)
{
    char at[40] = " (after loading the guest state)";
    if (f->rip != VMX_RIP_UNKNOWN)
        snprintf(at, sizeof at, " at rip=%#llx", (unsigned long long)f->rip);
    fprintf(mon->out, "failed VM entry: %s%s cycle=%llu cpu=%d VMCS %#llx\n", f->insn, at,
            (unsigned long long)f->cycle, c->index, (unsigned long long)f->vmcs_ptr);
    if (f->reason) {
        const char *rn = vmx_exit_reason_name(f->reason);
        fprintf(mon->out, "outcome: VM exit, reason %u with bit 31 set (%s), qualification %llu\n", f->reason,
                rn ? rn : "?", (unsigned long long)f->qual);
    } else if (f->error < 0) {
        fprintf(mon->out, "outcome: VMfailInvalid (no current VMCS)\n");
    } else {
        fprintf(mon->out, "outcome: VMfailValid, VM-instruction error %d (%s)\n", f->error,
                vm_instruction_error_text((unsigned)f->error));
    }
    if (f->check < 0) {
        /* the instruction's own conditions, before the checks of chapter 27 */
        fprintf(mon->out, "check: none (before the VM-entry checks)\n");
        fprintf(mon->out, "sdm: Vol. 3C VMLAUNCH/VMRESUME-Launch/Resume Virtual Machine, Operation\n");
        return;
    }
    const struct entry_check_info *ci = entry_check_info((enum entry_check)f->check);
    fprintf(mon->out, "check: %s\n", ci->ident);
    fprintf(mon->out, "rule: %s\n", ci->desc);
    fprintf(mon->out, "sdm: %s %s\n", ci->section, ci->title);
    if (f->seg >= 0 && f->seg < (int)(sizeof seg_names / sizeof seg_names[0]))
        fprintf(mon->out, "segment: %s\n", seg_names[f->seg]);
    struct vmx_check_value v[16];
    int n = vmx_failed_entry_values(c, f, v, 16);
    for (int k = 0; k < n; k++) {
        if (v[k].field >= 0)
            fprintf(mon->out, "value: %s = %#llx (%s)\n", vmcs_field_ident(v[k].field),
                    (unsigned long long)v[k].value, vmcs_field_name(v[k].field));
        else
            fprintf(mon->out, "value: %s = %#llx (capability MSR %#x)\n", msr_name(v[k].msr),
                    (unsigned long long)v[k].value, v[k].msr);
    }
}

static void explain_exit(mon_t *mon, cpu_t *c, uint64_t k, const struct vmx_exit_rec *e)
{
    unsigned basic = e->reason & 0xffff;
    const char *id = vmx_exit_reason_ident(basic), *name = vmx_exit_reason_name(basic);
    fprintf(mon->out, "VM exit %llu: %s(%u) at rip=%#llx cycle=%llu cpu=%d\n", (unsigned long long)k,
            id ? id : "?", basic, (unsigned long long)e->rip, (unsigned long long)e->cycle, c->index);
    fprintf(mon->out, "reason: %s\n", name ? name : "(not defined by the SDM)");
    fprintf(mon->out, "qualification: %#llx", (unsigned long long)e->qual);
    vmx_qual_fields(basic, e->qual, print_qual_field, mon->out);
    fputc('\n', mon->out);
    fprintf(mon->out, "instruction length: %u\n", e->insn_len);
    if (basic == EXIT_REASON_MSR_READ || basic == EXIT_REASON_MSR_WRITE) {
        const char *n = msr_name(e->msr);
        fprintf(mon->out, "msr: %#x %s\n", e->msr, n ? n : "(unknown)");
    }
    if (e->intr_info >> 31)
        fprintf(mon->out, "interruption: vector %u type %u%s\n", e->intr_info & 0xff, (e->intr_info >> 8) & 7,
                (e->intr_info & (1u << 11)) ? " with error code" : "");
}

/* explain [exit | failed-entry]: without an argument, the later of the two. */
bool cmd_explain(mon_t *mon, const mon_args_t *a)
{
    if (!have_vmx(mon, "explain"))
        return false;
    if (a->argc > 2 || (a->argc == 2 && strcmp(a->argv[1], "exit") && strcmp(a->argv[1], "failed-entry")))
        return mon_err(mon, "usage: explain [exit | failed-entry]");
    cpu_t *c = mon_cpu(mon);
    const struct vmx_observe *o = vmx_observed(c);
    bool want_fail = a->argc == 2 ? a->argv[1][0] == 'f'
                                  : o && o->have_failed &&
                                        (!o->exits || o->fail.cycle >= vmx_observed_exit(c, o->exits - 1)->cycle);
    if (want_fail) {
        if (!o || !o->have_failed) {
            fprintf(mon->out, "no failed VM entry on cpu%d\n", c->index);
            return true;
        }
        explain_failure(mon, c, &o->fail);
        return true;
    }
    if (!o || !o->exits) {
        fprintf(mon->out, "no VM exit or failed VM entry on cpu%d\n", c->index);
        return true;
    }
    explain_exit(mon, c, o->exits - 1, vmx_observed_exit(c, o->exits - 1));
    return true;
}

bool cmd_until(mon_t *mon, const mon_args_t *a)
{
    if (!have_vmx(mon, "until"))
        return false;
    dbg_t *d = &mon->dbg;
    if (a->argc == 2 && strcmp(a->argv[1], "entry") == 0) {
        d->until = BPK_VMENTRY;
    } else if ((a->argc == 2 || a->argc == 3) && strcmp(a->argv[1], "exit") == 0) {
        d->until_reason = BP_ANY_REASON;
        if (a->argc == 3 && !mon_parse_exit_reason(mon, a->argv[2], &d->until_reason))
            return false;
        d->until = BPK_VMEXIT;
    } else {
        return mon_err(mon, "usage: until entry | exit [REASON]");
    }
    bool ok = mon_run(mon, 0, false);
    d->until = BPK_COUNT;
    return ok;
}

static const char *const transition_names[] = {
    [VMX_T_NONE] = "none", [VMX_T_ENTRY] = "VM entry", [VMX_T_EXIT] = "VM exit",
    [VMX_T_FAILED_ENTRY] = "failed VM entry",
};

bool mon_vmcs_diff(mon_t *mon)
{
    cpu_t *c = mon_cpu(mon);
    const struct vmx_model *vm = vmx_model_of(c);
    const struct vmx_observe *o = vmx_observed(c);
    if (!o || !o->have_snap) {
        fprintf(mon->out, "no VM entry or exit on cpu%d since the monitor started\n", c->index);
        return true;
    }
    struct vmx_cpu *v = vmx_state(c);
    if (v->vmcs_ptr != o->snap_ptr)
        return mon_err(mon, "vmcs diff: the %s at cycle %llu was on VMCS %#llx, the current VMCS is %#llx",
                       transition_names[o->last], (unsigned long long)o->snap_cycle,
                       (unsigned long long)o->snap_ptr, (unsigned long long)v->vmcs_ptr);
    int n = 0;
    for (int f = 0; f < VMCS_FIELD_COUNT; f++) {
        if (!vmcs_field_exists(vm, f) || v->vmcs[f] == o->snap[f])
            continue;
        if (!n++)
            fprintf(mon->out, "changed since the %s at cycle %llu (VMCS %#llx):\n", transition_names[o->last],
                    (unsigned long long)o->snap_cycle, (unsigned long long)o->snap_ptr);
        fprintf(mon->out, "%s 0x%04x %#llx -> %#llx  %s\n", vmcs_field_ident(f), vmcs_field_encoding(f),
                (unsigned long long)o->snap[f], (unsigned long long)v->vmcs[f], vmcs_field_name(f));
    }
    if (!n)
        fprintf(mon->out, "no field changed since the %s at cycle %llu (VMCS %#llx)\n", transition_names[o->last],
                (unsigned long long)o->snap_cycle, (unsigned long long)o->snap_ptr);
    return true;
}
