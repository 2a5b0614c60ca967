/* cmd_break.c - break, watch, delete and `info break`: the monitor's view of
 * the breakpoint table in monitor/break.c. */
#include <string.h>

#include "monitor/repl.h"
#include "vmx/vmx.h"

/* `break KIND ...` forms with a keyword: B(word, kind, what the argument is). */
#define BREAK_FORMS(B)                       \
    B("phys", BPK_PHYS, "physical address")  \
    B("exc", BPK_EXC, "vector (0-255)")      \
    B("io", BPK_IO, "port (0-0xffff)")       \
    B("msr", BPK_MSR, "MSR number")          \
    B("cycle", BPK_CYCLE, "cycle")

/* VMX forms: B(word, kind); they stop at the first instruction after the
 * transition (monitor/break.c). */
#define VMX_FORMS(B)                 \
    B("entry", BPK_VMENTRY)          \
    B("exit", BPK_VMEXIT)            \
    B("failed-entry", BPK_VMFAIL)

/* "N" or "N-M" (inclusive); limit is the largest value allowed. */
static bool parse_range(mon_t *mon, const char *s, uint64_t limit, uint64_t *lo, uint64_t *hi)
{
    char buf[64];
    const char *dash = strchr(s, '-');
    if (strlen(s) >= sizeof buf)
        return mon_err(mon, "bad range '%s'", s);
    strcpy(buf, s);
    if (dash)
        buf[dash - s] = 0;
    if (!mon_parse_u64(mon, buf, lo))
        return false;
    *hi = *lo;
    if (dash && !mon_parse_u64(mon, dash + 1, hi))
        return false;
    if (*lo > limit || *hi > limit || *hi < *lo)
        return mon_err(mon, "bad range '%s' (at most %#llx, low end first)", s, (unsigned long long)limit);
    return true;
}

static bool added(mon_t *mon, int id)
{
    if (id < 0)
        return mon_err(mon, "too many breakpoints (at most %d)", MAX_BP);
    char what[80];
    dbg_describe(dbg_get(&mon->dbg, id), what, sizeof what);
    fprintf(mon->out, "breakpoint %d: %s\n", id, what);
    return true;
}

/* break entry | exit [REASON] | failed-entry */
static bool break_vmx(mon_t *mon, const mon_args_t *a, enum bp_kind kind)
{
    const char *w = a->argv[1];
    if (!vmx_model_of(mon_cpu(mon)))
        return mon_err(mon, "break %s: %s", w, MON_NO_VMX);
    uint64_t reason = BP_ANY_REASON;
    if (a->argc > (kind == BPK_VMEXIT ? 3 : 2))
        return mon_err(mon, "usage: break %s%s", w, kind == BPK_VMEXIT ? " [REASON]" : "");
    if (a->argc == 3 && !mon_parse_exit_reason(mon, a->argv[2], &reason))
        return false;
    return added(mon, dbg_add(&mon->dbg, kind, reason, reason, 0, BPO_USER));
}

bool cmd_break(mon_t *mon, const mon_args_t *a)
{
    if (a->argc < 2)
        return mon_err(mon, "usage: break ADDR | phys PADDR | exc VEC | io PORT[-END] | msr MSR[-END] | cycle N | "
                            "entry | exit [REASON] | failed-entry");
    const char *w = a->argv[1];
#define B(word, k)          \
    if (strcmp(w, word) == 0) \
        return break_vmx(mon, a, k);
    VMX_FORMS(B)
#undef B
    enum bp_kind kind = BPK_LIN;
    const char *what = "linear address", *arg = w;
#define B(word, k, desc)                 \
    if (strcmp(w, word) == 0) {          \
        kind = k;                        \
        what = desc;                     \
        arg = a->argc == 3 ? a->argv[2] : NULL; \
    }
    BREAK_FORMS(B)
#undef B
    if (!arg || (kind == BPK_LIN && a->argc != 2))
        return mon_err(mon, "usage: break %s%s", kind == BPK_LIN ? "" : w, kind == BPK_LIN ? "ADDR" : " ARG");
    uint64_t lo, hi;
    static const uint64_t limits[BPK_COUNT] = { [BPK_LIN] = ~0ull, [BPK_PHYS] = ~0ull, [BPK_EXC] = 255,
                                                [BPK_IO] = 0xffff, [BPK_MSR] = 0xffffffff, [BPK_CYCLE] = ~0ull };
    uint32_t msrnum;
    bool by_name = kind == BPK_MSR && mon_msr_by_name(arg, &msrnum);
    if (by_name)
        lo = hi = msrnum;
    if (!by_name && !parse_range(mon, arg, limits[kind], &lo, &hi))
        return false;
    if ((kind == BPK_LIN || kind == BPK_PHYS || kind == BPK_CYCLE || kind == BPK_EXC) && hi != lo)
        return mon_err(mon, "%s breakpoints take one %s, not a range", bp_kind_names[kind], what);
    return added(mon, dbg_add(&mon->dbg, kind, lo, hi, 0, BPO_USER));
}

bool cmd_watch(mon_t *mon, const mon_args_t *a)
{
    static const struct { const char *word; enum bp_kind kind; } forms[] = {
        { "phys", BPK_WATCHP }, { "read", BPK_RWATCH }, { "access", BPK_AWATCH } };
    int i = 1;
    enum bp_kind kind = BPK_WATCH;
    for (size_t k = 0; k < sizeof forms / sizeof forms[0]; k++)
        if (a->argc > 1 && strcmp(a->argv[1], forms[k].word) == 0) {
            kind = forms[k].kind;
            i++;
        }
    uint64_t addr, len = 8;
    if (a->argc < i + 1 || a->argc > i + 2)
        return mon_err(mon, "usage: watch [phys | read | access] ADDR [LEN]");
    if (!mon_parse_u64(mon, a->argv[i], &addr) || (a->argc == i + 2 && !mon_parse_u64(mon, a->argv[i + 1], &len)))
        return false;
    if (len < 1 || len > 8)
        return mon_err(mon, "a watchpoint covers 1 to 8 bytes");
    int id = dbg_add(&mon->dbg, kind, addr, addr + len - 1, (int)len, BPO_USER);
    if (id < 0)
        return mon_err(mon, "too many breakpoints (at most %d)", MAX_BP);
    const bp_t *b = dbg_get(&mon->dbg, id);
    fprintf(mon->out, "watchpoint %d: %s %#llx, %d bytes", id, bp_kind_names[kind], (unsigned long long)addr,
            (int)len);
    if (kind == BPK_RWATCH || kind == BPK_AWATCH) {
        fputc('\n', mon->out);
        return true;
    }
    fprintf(mon->out, ", now ");
    if (b->old_valid)
        fprintf(mon->out, "%#llx\n", (unsigned long long)b->old);
    else
        fprintf(mon->out, "unreadable (not mapped or not RAM)\n");
    return true;
}

bool cmd_delete(mon_t *mon, const mon_args_t *a)
{
    if (a->argc != 2)
        return mon_err(mon, "usage: delete ID | all");
    if (strcmp(a->argv[1], "all") == 0) {
        for (int k = 0; k < MAX_BP; k++)
            if (mon->dbg.bp[k].origin == BPO_USER)
                mon->dbg.bp[k].id = 0;
        return true;
    }
    uint64_t id;
    if (!mon_parse_u64(mon, a->argv[1], &id))
        return false;
    if (id > 0x7fffffff || !dbg_delete(&mon->dbg, (int)id))
        return mon_err(mon, "no breakpoint %llu", (unsigned long long)id);
    return true;
}

void mon_info_break(mon_t *mon)
{
    int n = 0;
    for (int k = 0; k < MAX_BP; k++) {
        const bp_t *b = &mon->dbg.bp[k];
        if (!b->id)
            continue;
        char what[80], *sp;
        dbg_describe(b, what, sizeof what);
        sp = strchr(what, ' ');
        if (sp)
            *sp++ = 0;
        fprintf(mon->out, "%-3d %-14s%s%s hits=%llu%s\n", b->id, what, sp ? " " : "", sp ? sp : "",
                (unsigned long long)b->hits, b->origin == BPO_USER ? "" : " (gdb)");
        n++;
    }
    if (!n)
        fprintf(mon->out, "no breakpoints\n");
}
