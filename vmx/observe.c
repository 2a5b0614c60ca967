/* observe.c - the transition record of vmx/observe.h. Each hook also writes
 * the trace event (vmx/exit_trace.c), so vmx/entry.c and vmx/exit.c make one
 * call per transition. */
#include "vmx/observe.h"

#include <string.h>

#include "emu/cpumodel.h"
#include "vmx/entry_checks.h"
#include "vmx/exit_trace.h"
#include "vmx/vmx.h"

bool vmx_observe_snapshots;

static void snapshot(cpu_t *c, struct vmx_observe *o, enum vmx_transition t)
{
    struct vmx_cpu *v = vmx_state(c);
    o->last = t;
    if (!vmx_observe_snapshots)
        return;
    o->have_snap = true;
    o->snap_ptr = v->vmcs_ptr;
    o->snap_cycle = c->cycles;
    memcpy(o->snap, v->vmcs, sizeof o->snap);
}

void vmx_observe_entry(cpu_t *c, const char *insn)
{
    struct vmx_observe *o = &vmx_state(c)->obs;
    o->entries++;
    snapshot(c, o, VMX_T_ENTRY);
    vmx_trace_entry(c, insn);
}

void vmx_observe_exit(cpu_t *c, uint32_t reason, uint64_t qual)
{
    struct vmx_observe *o = &vmx_state(c)->obs;
    o->ring[o->exits % VMX_EXIT_RING] = (struct vmx_exit_rec){
        .cycle = c->cycles,
        .rip = c->rip,
        .qual = qual,
        .reason = reason,
        .insn_len = (uint32_t)vmcs_get(c, VMCS_VM_EXIT_INSTRUCTION_LEN),
        .intr_info = (uint32_t)vmcs_get(c, VMCS_VM_EXIT_INTR_INFO),
        .msr = (uint32_t)c->gpr[R_RCX],
    };
    o->exits++;
    snapshot(c, o, VMX_T_EXIT);
    vmx_trace_exit(c, reason, qual);
}

/* The segment register a failed guest segment check was about: the checks
 * are pure functions of the VMCS and the vCPU, which have not changed since
 * they ran, so running the guest pass again finds the same row and segment. */
static int failed_segment(cpu_t *c, struct vmx_cpu *v, int check)
{
    if (entry_check_info((enum entry_check)check)->kind != CHK_KIND_GUEST)
        return -1;
    struct entry_ctx x = { .f = v->vmcs, .vm = vmx_model_of(c), .c = c, .vmcs_ptr = v->vmcs_ptr, .seg = -1 };
    return vmx_check_guest(&x) == check ? x.seg : -1;
}

/* Record a failed entry (the fields common to both kinds). */
static struct vmx_failed_entry *record_failure(cpu_t *c, struct vmx_cpu *v, const char *insn, uint64_t rip)
{
    struct vmx_observe *o = &v->obs;
    struct vmx_failed_entry *f = &o->fail;
    f->cycle = c->cycles;
    f->rip = rip;
    f->insn = insn;
    f->vmcs_ptr = v->vmcs_ptr;
    memcpy(f->vmcs, v->vmcs, sizeof f->vmcs);
    o->have_failed = true;
    o->failed++;
    snapshot(c, o, VMX_T_FAILED_ENTRY);
    return f;
}

void vmx_observe_failed_entry(cpu_t *c, uint32_t reason, uint64_t qual, int check)
{
    struct vmx_cpu *v = vmx_state(c);
    const struct entry_check_info *ci = entry_check_info((enum entry_check)check);
    /* an MSR-load failure comes after the guest state is loaded: RIP is the guest's by then;
     * the launch state is still the one the instruction required */
    struct vmx_failed_entry *f = record_failure(c, v, v->launch_state ? "VMRESUME" : "VMLAUNCH",
                                                ci->kind == CHK_KIND_MSR ? VMX_RIP_UNKNOWN : c->insn_rip);
    f->reason = reason;
    f->qual = qual;
    f->check = check;
    f->error = reason ? 0 : ci->kind == CHK_KIND_CTL ? VMERR_ENTRY_INVALID_CONTROL : VMERR_ENTRY_INVALID_HOST_STATE;
    f->seg = failed_segment(c, v, check);
    v->obs.fail_vmfail_due = !reason; /* VMfailValid follows (vmx/entry.c) */
    vmx_trace_entry_failure(c, reason, qual, check);
}

void vmx_observe_vmfail(cpu_t *c, const char *insn, int err)
{
    if (strcmp(insn, "VMLAUNCH") != 0 && strcmp(insn, "VMRESUME") != 0)
        return;
    struct vmx_cpu *v = vmx_state(c);
    if (v->obs.fail_vmfail_due) {
        v->obs.fail_vmfail_due = false;
        return;
    }
    struct vmx_failed_entry *f = record_failure(c, v, insn, c->insn_rip);
    f->reason = 0;
    f->qual = 0;
    f->check = -1;
    f->error = err;
    f->seg = -1;
}

const struct vmx_observe *vmx_observed(const cpu_t *c)
{
    return c->vmx ? &c->vmx->obs : NULL;
}

const struct vmx_exit_rec *vmx_observed_exit(const cpu_t *c, uint64_t k)
{
    const struct vmx_observe *o = vmx_observed(c);
    if (!o || k >= o->exits || o->exits - k > VMX_EXIT_RING)
        return NULL;
    return &o->ring[k % VMX_EXIT_RING];
}

/* ---- the values of vmx/entry_check_values.def ---- */

enum { VAL_FIELD, VAL_SEG, VAL_MSR };
struct val_item {
    uint8_t kind;
    uint32_t id; /* enum vmcs_field; the GUEST_ES_* field of the part; the MSR */
};
#define F(name) { VAL_FIELD, VMCS_##name },
#define S(part) { VAL_SEG, VMCS_GUEST_ES_##part },
#define M(msr) { VAL_MSR, msr },
#define V(check, ...) static const struct val_item vals_##check[] = { __VA_ARGS__ };
#include "vmx/entry_check_values.def"
#undef V
static const struct {
    const struct val_item *items;
    int n;
} check_vals[CHK_COUNT] = {
#define V(check, ...) [CHK_##check] = { vals_##check, sizeof vals_##check / sizeof vals_##check[0] },
#include "vmx/entry_check_values.def"
#undef V
};
#undef F
#undef S
#undef M

bool vmx_check_has_values(int check)
{
    return check >= 0 && check < CHK_COUNT && check_vals[check].items != NULL;
}

int vmx_failed_entry_values(const cpu_t *c, const struct vmx_failed_entry *f, struct vmx_check_value *out,
                            int max)
{
    int n = 0;
    if (f->check < 0 || !vmx_check_has_values(f->check))
        return 0;
    const struct vmx_model *vm = vmx_model_of(c);
    for (int k = 0; k < check_vals[f->check].n && n < max; k++) {
        const struct val_item *it = &check_vals[f->check].items[k];
        struct vmx_check_value *o = &out[n];
        switch (it->kind) {
        case VAL_FIELD:
            *o = (struct vmx_check_value){ (int)it->id, 0, f->vmcs[it->id] };
            break;
        case VAL_SEG:
            if (f->seg < 0)
                continue;
            /* the guest segment fields are in S_* order in each group of vmcs_fields.def */
            *o = (struct vmx_check_value){ (int)it->id + f->seg, 0, f->vmcs[it->id + (uint32_t)f->seg] };
            break;
        default:
            *o = (struct vmx_check_value){ -1, it->id, 0 };
            if (!vm || !vmx_cap_msr(vm, cpu_cr4_valid(c), it->id, &o->value))
                continue;
            break;
        }
        n++;
    }
    return n;
}
