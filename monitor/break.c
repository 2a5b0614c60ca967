/* break.c - the monitor's debug hook: breakpoints, watchpoints, step/next,
 * VM transitions and Ctrl-C, decided before each instruction (see break.h).
 * A VM entry, exit or failed entry is noticed at the first instruction after
 * it, from the counters vmx/ keeps (vmx/observe.h): the guest's first
 * instruction after an entry, the host's (HOST_RIP) after an exit. */
#include "monitor/break.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "emu/mmu.h"
#include "monitor/disasm.h"
#include "monitor/guestmem.h"
#include "vmx/entry_checks.h"
#include "vmx/vmx.h"

const char *const bp_kind_names[BPK_COUNT] = {
#define K(kind, name) [BPK_##kind] = name,
    BP_KINDS(K)
#undef K
};

static bool before_insn(void *opaque, cpu_t *c);

void dbg_init(dbg_t *d, machine_t *m)
{
    memset(d, 0, sizeof *d);
    d->m = m;
    d->next_id = 1;
    d->until = BPK_COUNT;
    d->hook.before_insn = before_insn;
    d->hook.opaque = d;
}

static bool is_watch(enum bp_kind k)
{
    return k == BPK_WATCH || k == BPK_WATCHP;
}

static bool has_len(enum bp_kind k)
{
    return is_watch(k) || k == BPK_RWATCH || k == BPK_AWATCH;
}

bool dbg_watch_value(dbg_t *d, cpu_t *c, const bp_t *b, uint64_t *v)
{
    uint64_t val = 0;
    size_t got = b->kind == BPK_WATCH ? gm_read_lin(c, b->lo, &val, (size_t)b->len)
                                      : gm_read_phys(d->m, b->lo, &val, (size_t)b->len);
    *v = val;
    return got == (size_t)b->len;
}

int dbg_add(dbg_t *d, enum bp_kind kind, uint64_t lo, uint64_t hi, int len, enum bp_origin origin)
{
    for (int i = 0; i < MAX_BP; i++) {
        bp_t *b = &d->bp[i];
        if (b->id)
            continue;
        *b = (bp_t){ .id = d->next_id++, .kind = kind, .origin = origin, .lo = lo, .hi = hi, .len = len };
        if (is_watch(kind))
            b->old_valid = dbg_watch_value(d, d->m->cpu[d->step_cpu], b, &b->old);
        return b->id;
    }
    return -1;
}

bool dbg_delete(dbg_t *d, int id)
{
    for (int i = 0; i < MAX_BP; i++)
        if (id > 0 && d->bp[i].id == id) {
            d->bp[i].id = 0;
            return true;
        }
    return false;
}

int dbg_find(const dbg_t *d, enum bp_kind kind, uint64_t lo, int len, enum bp_origin origin)
{
    for (int i = 0; i < MAX_BP; i++) {
        const bp_t *b = &d->bp[i];
        if (b->id && b->kind == kind && b->lo == lo && b->origin == origin && (!has_len(kind) || b->len == len))
            return b->id;
    }
    return 0;
}

const bp_t *dbg_get(const dbg_t *d, int id)
{
    for (int i = 0; i < MAX_BP; i++)
        if (id > 0 && d->bp[i].id == id)
            return &d->bp[i];
    return NULL;
}

static bool is_vm(enum bp_kind k)
{
    return k == BPK_VMENTRY || k == BPK_VMEXIT || k == BPK_VMFAIL;
}

/* "CPUID(10)", or "any reason" */
static void reason_text(uint64_t r, char *buf, size_t len)
{
    const char *id = r == BP_ANY_REASON ? NULL : vmx_exit_reason_ident((unsigned)r);
    if (r == BP_ANY_REASON)
        snprintf(buf, len, "any reason");
    else
        snprintf(buf, len, "%s(%llu)", id ? id : "?", (unsigned long long)r);
}

void dbg_describe(const bp_t *b, char *buf, size_t len)
{
    char r[48];
    switch (b->kind) {
    case BPK_VMENTRY:
    case BPK_VMFAIL:
        snprintf(buf, len, "%s", bp_kind_names[b->kind]);
        break;
    case BPK_VMEXIT:
        reason_text(b->lo, r, sizeof r);
        snprintf(buf, len, "%s %s", bp_kind_names[b->kind], r);
        break;
    default:
        if (b->hi != b->lo)
            snprintf(buf, len, "%s %#llx-%#llx", bp_kind_names[b->kind], (unsigned long long)b->lo,
                     (unsigned long long)b->hi);
        else
            snprintf(buf, len, "%s %#llx", bp_kind_names[b->kind], (unsigned long long)b->lo);
    }
}

__attribute__((format(printf, 4, 5))) static bool stop(dbg_t *d, cpu_t *c, bp_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->why, sizeof d->why, fmt, ap);
    va_end(ap);
    d->stop_cpu = c->index;
    d->stop_bp = b ? b->id : 0;
    d->stop_kind = b ? b->kind : BPK_COUNT;
    d->stop_addr = b ? b->lo : 0;
    if (b)
        b->hits++;
    return true;
}

/* Where the IDT sends vector vec: the handler's CS selector (RPL dropped) and
 * offset; false if the gate cannot be read or is not an interrupt/trap gate. */
static bool idt_target(cpu_t *c, unsigned vec, uint16_t *sel, uint64_t *off)
{
    uint8_t g[16];
    if (c->mode == MODE_REAL) {
        if (gm_read_lin(c, c->idtr.base + vec * 4, g, 4) != 4)
            return false;
        *off = (uint64_t)g[0] | (uint64_t)g[1] << 8;
        *sel = (uint16_t)(g[2] | g[3] << 8);
        return true;
    }
    unsigned size = c->mode == MODE_LONG64 || c->mode == MODE_COMPAT16 || c->mode == MODE_COMPAT32 ? 16 : 8;
    if (gm_read_lin(c, c->idtr.base + vec * size, g, size) != size || !(g[5] & 0x80) || (g[5] & 0xf) == 5)
        return false;
    *off = (uint64_t)g[0] | (uint64_t)g[1] << 8 | (uint64_t)g[6] << 16 | (uint64_t)g[7] << 24;
    if (size == 16)
        *off |= (uint64_t)(g[8] | g[9] << 8 | g[10] << 16 | (uint32_t)g[11] << 24) << 32;
    *sel = (uint16_t)((g[2] | g[3] << 8) & ~3);
    return true;
}

static bool at_handler(cpu_t *c, unsigned vec)
{
    uint16_t sel;
    uint64_t off;
    if (c->ev_vec != vec || !idt_target(c, vec, &sel, &off))
        return false;
    if (c->mode == MODE_REAL)
        return c->rip == off && c->seg[S_CS].sel == sel;
    return c->rip == off && (c->seg[S_CS].sel & ~3) == sel;
}

/* The I/O port or MSR the next instruction accesses: 'i' (port in *num), 'm'
 * (MSR in *num) or 0. */
static int next_access(cpu_t *c, uint64_t pc, uint64_t *num)
{
    uint8_t buf[15];
    size_t n = gm_read_lin(c, pc, buf, sizeof buf);
    x86_insn i;
    if (n == 0 || x86_decode(&i, buf, n, (enum x86_mode)c->dmode) <= 0)
        return 0;
    switch (i.id) {
    case XI_IN_ALIb: case XI_IN_eAXIb: case XI_OUT_IbAL: case XI_OUT_IbeAX:
        *num = i.imm & 0xff;
        return 'i';
    case XI_IN_ALDX: case XI_IN_eAXDX: case XI_OUT_DXAL: case XI_OUT_DXeAX:
    case XI_INSB: case XI_INS: case XI_OUTSB: case XI_OUTS:
        *num = c->gpr[R_RDX] & 0xffff;
        return 'i';
    case XI_RDMSR: case XI_WRMSR:
        *num = (uint32_t)c->gpr[R_RCX];
        return 'm';
    default:
        return 0;
    }
}

/* Breakpoints other than watchpoints, for vCPU c about to run the instruction at pc. */
static bool check_breaks(dbg_t *d, cpu_t *c, uint64_t pc)
{
    uint64_t num = 0;
    int acc = -1; /* next_access(), decoded at most once */
    for (int k = 0; k < MAX_BP; k++) {
        bp_t *b = &d->bp[k];
        if (!b->id)
            continue;
        uint64_t pa;
        switch (b->kind) {
        case BPK_LIN:
            if (pc == b->lo)
                return stop(d, c, b, "breakpoint %d, linear %#llx", b->id, (unsigned long long)pc);
            break;
        case BPK_PHYS:
            if (gm_translate(c, pc, ACC_EXEC, &pa, NULL) && pa == b->lo)
                return stop(d, c, b, "breakpoint %d, physical %#llx", b->id, (unsigned long long)pa);
            break;
        case BPK_EXC:
            if (at_handler(c, (unsigned)b->lo))
                return stop(d, c, b, "breakpoint %d, exception %llu delivered", b->id, (unsigned long long)b->lo);
            break;
        case BPK_CYCLE:
            if (c->cycles >= b->lo) {
                /* one-shot: the cycle has passed for good */
                stop(d, c, b, "breakpoint %d, cycle %llu reached", b->id, (unsigned long long)b->lo);
                b->id = 0;
                return true;
            }
            break;
        case BPK_IO:
        case BPK_MSR:
            if (acc < 0)
                acc = next_access(c, pc, &num);
            if (acc == (b->kind == BPK_IO ? 'i' : 'm') && num >= b->lo && num <= b->hi)
                return stop(d, c, b, "breakpoint %d, %s %#llx accessed by the next instruction", b->id,
                            b->kind == BPK_IO ? "I/O port" : "MSR", (unsigned long long)num);
            break;
        default:
            break;
        }
    }
    return false;
}

static bool check_watches(dbg_t *d, cpu_t *c)
{
    for (int k = 0; k < MAX_BP; k++) {
        bp_t *b = &d->bp[k];
        uint64_t v;
        if (!b->id || !is_watch(b->kind) || !dbg_watch_value(d, c, b, &v))
            continue;
        if (b->old_valid && v != b->old) {
            uint64_t old = b->old;
            b->old = v;
            return stop(d, c, b, "watchpoint %d, %s %#llx: %#llx -> %#llx", b->id,
                        b->kind == BPK_WATCH ? "linear" : "physical", (unsigned long long)b->lo,
                        (unsigned long long)old, (unsigned long long)v);
        }
        b->old = v;
        b->old_valid = true;
    }
    return false;
}

/* The first exit since exit number `from` (of vCPU c) with basic reason r
 * (BP_ANY_REASON: any), or NULL; exits the ring no longer holds are skipped. */
static const struct vmx_exit_rec *exit_since(const cpu_t *c, uint64_t from, uint64_t to, uint64_t r)
{
    for (uint64_t k = from; k < to; k++) {
        const struct vmx_exit_rec *e = vmx_observed_exit(c, k);
        if (e && (r == BP_ANY_REASON || (e->reason & 0xffff) == r))
            return e;
    }
    return NULL;
}

static bool exit_stop(dbg_t *d, cpu_t *c, bp_t *b, const struct vmx_exit_rec *e)
{
    char r[48], head[32] = "";
    reason_text(e->reason & 0xffff, r, sizeof r);
    if (b)
        snprintf(head, sizeof head, "breakpoint %d, ", b->id);
    return stop(d, c, b, "%sVM exit %s at guest RIP %#llx", head, r, (unsigned long long)e->rip);
}

/* VM breakpoints and `until`, for the transitions of vCPU c since it was last looked at. */
static bool check_transitions(dbg_t *d, cpu_t *c)
{
    const struct vmx_observe *o = vmx_observed(c);
    int i = c->index;
    if (!o)
        return false;
    uint64_t e0 = d->seen_entries[i], x0 = d->seen_exits[i], f0 = d->seen_failed[i];
    if (o->entries == e0 && o->exits == x0 && o->failed == f0)
        return false;
    d->seen_entries[i] = o->entries;
    d->seen_exits[i] = o->exits;
    d->seen_failed[i] = o->failed;
    const struct vmx_exit_rec *e;
    for (int k = 0; k < MAX_BP; k++) {
        bp_t *b = &d->bp[k];
        if (!b->id || !is_vm(b->kind))
            continue;
        if (b->kind == BPK_VMFAIL && o->failed != f0) {
            if (o->fail.check < 0 && o->fail.error < 0)
                return stop(d, c, b, "breakpoint %d, failed VM entry (%s): VMfailInvalid", b->id, o->fail.insn);
            if (o->fail.check < 0)
                return stop(d, c, b, "breakpoint %d, failed VM entry (%s): VMfailValid %d", b->id, o->fail.insn,
                            o->fail.error);
            const struct entry_check_info *ci = entry_check_info((enum entry_check)o->fail.check);
            return stop(d, c, b, "breakpoint %d, failed VM entry (%s): check %s, SDM %s", b->id, o->fail.insn,
                        ci->ident, ci->section);
        }
        if (b->kind == BPK_VMENTRY && o->entries != e0)
            return stop(d, c, b, "breakpoint %d, VM entry", b->id);
        if (b->kind == BPK_VMEXIT && (e = exit_since(c, x0, o->exits, b->lo)))
            return exit_stop(d, c, b, e);
    }
    if (i != d->step_cpu)
        return false;
    if (d->until == BPK_VMENTRY && o->entries != e0)
        return stop(d, c, NULL, "VM entry");
    if (d->until == BPK_VMEXIT && (e = exit_since(c, x0, o->exits, d->until_reason)))
        return exit_stop(d, c, NULL, e);
    return false;
}

/* The linear address of memory operand m of vCPU c's next instruction. */
static uint64_t operand_address(const cpu_t *c, const struct disasm_mem *m)
{
    uint64_t a = (uint64_t)m->disp;
    if (m->base >= 0)
        a += c->gpr[m->base];
    if (m->index >= 0)
        a += c->gpr[m->index] * (uint64_t)m->scale;
    if (m->addr_bits < 64)
        a &= (1ull << m->addr_bits) - 1;
    int seg = m->seg >= 0 ? m->seg : (m->base == R_RSP || m->base == R_RBP) ? S_SS : S_DS;
    /* in 64-bit mode only FS and GS have a base (SDM Vol. 3A 3.2.4 "Segmentation in IA-32e Mode") */
    if (c->mode != MODE_LONG64 || seg == S_FS || seg == S_GS)
        a += c->seg[seg].base;
    return c->mode == MODE_LONG64 ? a : (uint32_t)a;
}

/* Read and access watchpoints: whether the instruction at pc reads (or, for
 * access ones, reads or writes) watched bytes; the hit is reported at the
 * next instruction boundary, after the access, as a data breakpoint traps. */
static void check_accesses(dbg_t *d, cpu_t *c, uint64_t pc)
{
    static const int bits[] = { [X86_M16] = 16, [X86_M32] = 32, [X86_M64] = 64 };
    bool any = false;
    for (int k = 0; k < MAX_BP && !any; k++)
        any = d->bp[k].id && (d->bp[k].kind == BPK_RWATCH || d->bp[k].kind == BPK_AWATCH);
    if (!any)
        return;
    uint8_t buf[15];
    size_t n = gm_read_lin(c, pc, buf, sizeof buf);
    struct disasm_mem ops[4];
    int nops = n ? disasm_mem_operands(buf, n, pc, bits[c->dmode], ops, 4) : 0;
    for (int o = 0; o < nops; o++) {
        uint64_t a = operand_address(c, &ops[o]);
        /* capstone leaves the access of a few forms unset: count them as reads */
        bool read = ops[o].read || !ops[o].write;
        for (int k = 0; k < MAX_BP; k++) {
            bp_t *b = &d->bp[k];
            if (!b->id || (b->kind != BPK_AWATCH && (b->kind != BPK_RWATCH || !read)))
                continue;
            if (a <= b->hi && a + (uint64_t)(ops[o].size ? ops[o].size : 1) - 1 >= b->lo) {
                d->access_hit[c->index] = b->id;
                d->access_addr[c->index] = a;
                return;
            }
        }
    }
}

/* The read/access watchpoint hit by the instruction vCPU c just ran, if any. */
static bool access_stop(dbg_t *d, cpu_t *c)
{
    int id = d->access_hit[c->index];
    d->access_hit[c->index] = 0;
    bp_t *b = NULL;
    for (int k = 0; k < MAX_BP; k++)
        if (id && d->bp[k].id == id)
            b = &d->bp[k];
    if (!b)
        return false;
    return stop(d, c, b, "watchpoint %d, %s linear %#llx by the previous instruction", b->id,
                b->kind == BPK_RWATCH ? "read of" : "access to", (unsigned long long)d->access_addr[c->index]);
}

static bool before_insn(void *opaque, cpu_t *c)
{
    dbg_t *d = opaque;
    int i = c->index;
    uint64_t pc = gm_pc(c);
    if (d->interrupt) {
        d->interrupt = 0;
        return stop(d, c, NULL, "interrupted");
    }
    if (d->poll && (++d->poll_count & 4095) == 0 && d->poll(d->poll_opaque))
        return stop(d, c, NULL, "interrupted by the debugger");
    if (d->vm_watch && check_transitions(d, c))
        return true;
    /* The run loop asks again about an instruction it did not run (deadline,
     * HLT): the answer was given already. */
    bool first = !d->asked[i];
    if (!first && d->last_icount[i] == c->insn_count && d->last_pc[i] == pc)
        return false;
    d->asked[i] = true;
    d->last_icount[i] = c->insn_count;
    d->last_pc[i] = pc;
    if (access_stop(d, c) || check_watches(d, c))
        return true;
    check_accesses(d, c, pc);
    /* The instruction a vCPU stopped at runs when it resumes: not again. */
    if (!first && check_breaks(d, c, pc))
        return true;
    if (i != d->step_cpu)
        return false;
    if (d->next_active && pc == d->next_pc && c->gpr[R_RSP] >= d->next_rsp)
        return stop(d, c, NULL, "next");
    if (d->stepping) {
        if (d->step_left == 0)
            return stop(d, c, NULL, "step");
        d->step_left--;
    }
    return false;
}

/* A call at vCPU c's RIP: its length, else 0. */
static int call_len(cpu_t *c)
{
    uint8_t buf[15];
    size_t n = gm_read_lin(c, gm_pc(c), buf, sizeof buf);
    x86_insn i;
    if (n == 0 || x86_decode(&i, buf, n, (enum x86_mode)c->dmode) <= 0)
        return 0;
    bool call = i.id == XI_CALL_Jz || i.id == XI_CALL_Ev || i.id == XI_CALLF_Mp || i.id == XI_CALLF_Ap;
    return call ? i.len : 0;
}

enum machine_exit dbg_run(dbg_t *d, int cpu, uint64_t steps, bool next)
{
    machine_t *m = d->m;
    cpu_t *c = m->cpu[cpu];
    d->step_cpu = cpu;
    d->stepping = steps > 0;
    d->step_left = steps;
    d->next_active = false;
    if (next) {
        int len = call_len(c);
        if (len) {
            d->next_active = true;
            d->next_pc = c->rip + (uint64_t)len;
            d->next_rsp = c->gpr[R_RSP];
        } else {
            d->stepping = true;
            d->step_left = 1;
        }
    }
    memset(d->asked, 0, sizeof d->asked);
    memset(d->access_hit, 0, sizeof d->access_hit);
    d->why[0] = 0;
    d->stop_bp = 0;
    d->stop_cpu = cpu;
    d->vm_watch = d->until != BPK_COUNT;
    for (int k = 0; k < MAX_BP; k++)
        d->vm_watch |= d->bp[k].id && is_vm(d->bp[k].kind);
    for (int k = 0; k < m->ncpus; k++) {
        const struct vmx_observe *o = vmx_observed(m->cpu[k]);
        d->seen_entries[k] = o ? o->entries : 0;
        d->seen_exits[k] = o ? o->exits : 0;
        d->seen_failed[k] = o ? o->failed : 0;
    }
    bool any = d->stepping || d->next_active || d->poll || d->vm_watch;
    for (int k = 0; k < MAX_BP && !any; k++)
        any = d->bp[k].id != 0;
    machine_set_debug(m, any ? &d->hook : NULL);
    if (d->interrupt) /* a Ctrl-C that came before the run: it stops at once */
        machine_interrupt(m);
    machine_resume(m);
    enum machine_exit why = machine_run(m);
    if (why == MEXIT_DEBUG && !d->why[0]) {
        d->interrupt = 0;
        snprintf(d->why, sizeof d->why, "interrupted");
    }
    return why;
}
