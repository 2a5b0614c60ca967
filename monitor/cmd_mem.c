/* cmd_mem.c - memory commands: x, xp and xg (dumps of linear, physical and
 * guest-physical memory, the last through EPT when the current VMCS enables
 * it), walk (every level of the page walk for a linear address) and
 * disas (capstone). Nothing here changes the guest: reads go through
 * monitor/guestmem.h and the page walker reads entries without setting A/D. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "emu/paging.h"
#include "monitor/disasm.h"
#include "monitor/guestmem.h"
#include "monitor/repl.h"
#include "vmx/vmx.h"

#define MAX_UNITS 4096

/* "/N[b|h|w|g]" -> count and unit size (default 16 bytes). */
static bool parse_fmt(mon_t *mon, const char *fmt, uint64_t *count, int *size)
{
    static const struct { char letter; int size; } units[] = { { 'b', 1 }, { 'h', 2 }, { 'w', 4 }, { 'g', 8 } };
    *count = 16;
    *size = 1;
    if (!fmt)
        return true;
    const char *p = fmt;
    if (isdigit((unsigned char)*p))
        *count = strtoull(p, (char **)&p, 10);
    if (*p) {
        bool ok = false;
        for (size_t k = 0; k < sizeof units / sizeof units[0]; k++)
            if (p[0] == units[k].letter && !p[1]) {
                *size = units[k].size;
                ok = true;
            }
        if (!ok)
            return mon_err(mon, "bad format '/%s' (/N followed by b, h, w or g)", fmt);
    }
    if (*count == 0 || *count > MAX_UNITS)
        return mon_err(mon, "bad count in '/%s' (1 to %d)", fmt, MAX_UNITS);
    return true;
}

/* The address spaces of the dumps. */
enum space { SP_LIN, SP_PHYS, SP_GPA };

/* Why guest-physical gpa could not be read: the failed EPT walk, or not RAM. */
static bool gpa_error(mon_t *mon, cpu_t *c, uint64_t gpa)
{
    uint64_t pa;
    struct ept_walk w;
    if (gm_translate_gpa(c, gpa, &pa, &w))
        return mon_err(mon, "guest-physical %#llx is physical %#llx, which is not RAM", (unsigned long long)gpa,
                       (unsigned long long)pa);
    int level = w.levels - w.n + 1, k = w.n - 1; /* levels count down to 1 at the leaf */
    if (w.outcome == EPT_MISCONFIG)
        return mon_err(mon, "guest-physical %#llx: EPT misconfiguration at level %d (entry %#llx at %#llx): %s",
                       (unsigned long long)gpa, level, (unsigned long long)w.ent[k], (unsigned long long)w.ent_pa[k],
                       w.why ? w.why : "reserved bits");
    return mon_err(mon, "guest-physical %#llx: EPT entry not present at level %d (entry %#llx at %#llx)",
                   (unsigned long long)gpa, level, (unsigned long long)w.ent[k], (unsigned long long)w.ent_pa[k]);
}

static bool dump(mon_t *mon, const mon_args_t *a, enum space sp)
{
    uint64_t count, addr;
    int size;
    if (a->argc != 2)
        return mon_err(mon, "usage: %s[/N[b|h|w|g]] ADDR", a->argv[0]);
    if (!parse_fmt(mon, a->fmt, &count, &size) || !mon_parse_u64(mon, a->argv[1], &addr))
        return false;
    size_t n = (size_t)(count * (uint64_t)size);
    uint8_t *buf = malloc(n);
    if (!buf)
        return mon_err(mon, "out of memory");
    cpu_t *c = mon_cpu(mon);
    size_t got = sp == SP_PHYS ? gm_read_phys(mon->m, addr, buf, n)
                 : sp == SP_GPA ? gm_read_gpa(c, addr, buf, n)
                                : gm_read_lin(c, addr, buf, n);
    got -= got % (size_t)size;
    for (size_t off = 0; off < got; off += 16) {
        fprintf(mon->out, "%#018llx:", (unsigned long long)(addr + off));
        for (size_t k = off; k < off + 16 && k < got; k += (size_t)size) {
            uint64_t v = 0;
            memcpy(&v, buf + k, (size_t)size);
            fprintf(mon->out, " %0*llx", size * 2, (unsigned long long)v);
        }
        fputc('\n', mon->out);
    }
    free(buf);
    if (got == n)
        return true;
    uint64_t bad = addr + got, pa;
    uint32_t err;
    if (sp == SP_PHYS)
        return mon_err(mon, "physical %#llx is not RAM", (unsigned long long)bad);
    if (sp == SP_GPA)
        return gpa_error(mon, c, bad);
    if (!gm_translate(c, bad, ACC_READ, &pa, &err))
        return mon_err(mon, "linear %#llx is not mapped (#PF error code %#x)", (unsigned long long)bad, err);
    return mon_err(mon, "linear %#llx maps to physical %#llx, which is not RAM", (unsigned long long)bad,
                   (unsigned long long)pa);
}

bool cmd_x(mon_t *mon, const mon_args_t *a)
{
    return dump(mon, a, SP_LIN);
}

bool cmd_xp(mon_t *mon, const mon_args_t *a)
{
    return dump(mon, a, SP_PHYS);
}

bool cmd_xg(mon_t *mon, const mon_args_t *a)
{
    cpu_t *c = mon_cpu(mon);
    if (!vmx_model_of(c))
        return mon_err(mon, "xg: %s", MON_NO_VMX);
    if (!c->vmx || c->vmx->vmcs_ptr == VMCS_NONE)
        return mon_err(mon, "xg: no current VMCS (guest-physical addresses are those of its guest)");
    return dump(mon, a, SP_GPA);
}

/* The walk's entries as it read them, the failing one included (pg_walk
 * records only the entries it used). */
typedef struct walk_log {
    pg_ctx_t inner;
    int n;
    uint64_t pa[5], val[5];
} walk_log_t;

static uint64_t logged_read(const pg_ctx_t *ctx, uint64_t pa, int size)
{
    walk_log_t *log = ctx->opaque;
    uint64_t v = log->inner.read(&log->inner, pa, size);
    if (log->n < 5) {
        log->pa[log->n] = pa;
        log->val[log->n++] = v;
    }
    return v;
}

static const struct { uint64_t mask; const char *name; } pte_bits[] = {
    { 1ull << 0, "P" }, { 1ull << 1, "RW" }, { 1ull << 2, "US" }, { 1ull << 3, "PWT" }, { 1ull << 4, "PCD" },
    { 1ull << 5, "A" }, { 1ull << 6, "D" }, { 1ull << 7, "PS" }, { 1ull << 8, "G" }, { 1ull << 63, "XD" },
};

static void print_entry(mon_t *mon, const char *name, uint64_t pa, int size, uint64_t v)
{
    fprintf(mon->out, "  %-6s[%3llu] @%#014llx = %0*llx [", name, (unsigned long long)((pa & 0xfff) / (uint64_t)size),
            (unsigned long long)pa, size * 2, (unsigned long long)v);
    const char *sep = "";
    for (size_t k = 0; k < sizeof pte_bits / sizeof pte_bits[0]; k++)
        if ((v & pte_bits[k].mask) && (size == 8 || pte_bits[k].mask < (1ull << 32))) {
            fprintf(mon->out, "%s%s", sep, pte_bits[k].name);
            sep = " ";
        }
    fputs("]\n", mon->out);
}

bool cmd_walk(mon_t *mon, const mon_args_t *a)
{
    uint64_t la;
    if (a->argc != 2)
        return mon_err(mon, "usage: walk ADDR");
    if (!mon_parse_u64(mon, a->argv[1], &la))
        return false;
    cpu_t *c = mon_cpu(mon);
    walk_log_t log = { .n = 0 };
    pg_ctx_cpu(&log.inner, c);
    pg_ctx_t ctx = log.inner;
    ctx.read = logged_read;
    ctx.opaque = &log;
    static const char *const mode_names[] = { [PG_OFF] = "paging off", [PG_32] = "32-bit paging",
                                              [PG_PAE] = "PAE paging", [PG_4LEVEL] = "4-level paging" };
    static const char *const names4[] = { "PML4E", "PDPTE", "PDE", "PTE" }, *const names2[] = { "PDE", "PTE" };
    enum pg_mode mode = pg_mode(&ctx);
    if (mode != PG_4LEVEL)
        la = (uint32_t)la;
    fprintf(mon->out, "linear %#llx, %s, CR3=%#llx\n", (unsigned long long)la, mode_names[mode],
            (unsigned long long)c->cr3);
    pg_walk_t w;
    bool ok = pg_walk(&ctx, la, ACC_READ, 0, &w);
    if (mode == PG_PAE)
        fprintf(mon->out, "  PDPTE%d (register) = %016llx\n", (int)((la >> 30) & 3),
                (unsigned long long)c->pdpte[(la >> 30) & 3]);
    for (int k = 0; k < log.n; k++)
        print_entry(mon, mode == PG_4LEVEL ? names4[k < 4 ? k : 3] : names2[k < 2 ? k : 1], log.pa[k],
                    mode == PG_32 ? 4 : 8, log.val[k]);
    if (!ok) {
        fprintf(mon->out, "fault: #PF error code %#x (%s)\n", w.err, w.err & PF_RSVD ? "reserved bit set" : "not present");
        return true;
    }
    fprintf(mon->out, "-> physical %#llx, %llu KiB page, %s, %s, %s%s%s\n", (unsigned long long)w.pa,
            (unsigned long long)((1ull << w.page_shift) >> 10), w.writable ? "writable" : "read-only",
            w.user ? "user" : "supervisor", w.nx ? "no-execute" : "executable", w.global ? ", global" : "",
            mode != PG_OFF && w.dirty ? ", dirty" : "");
    return true;
}

bool cmd_disas(mon_t *mon, const mon_args_t *a)
{
    static const int bits[] = { [X86_M16] = 16, [X86_M32] = 32, [X86_M64] = 64 };
    cpu_t *c = mon_cpu(mon);
    uint64_t addr = gm_pc(c), count = 8;
    if (a->argc > 3)
        return mon_err(mon, "usage: disas [ADDR] [N]");
    if (a->argc > 1 && !mon_parse_u64(mon, a->argv[1], &addr))
        return false;
    if (a->argc > 2 && !mon_parse_u64(mon, a->argv[2], &count))
        return false;
    if (count == 0 || count > 1000)
        return mon_err(mon, "count must be 1 to 1000");
    uint64_t pc = gm_pc(c);
    for (uint64_t i = 0; i < count; i++) {
        uint8_t b[15];
        size_t n = gm_read_lin(c, addr, b, sizeof b);
        if (n == 0)
            return mon_err(mon, "linear %#llx is not mapped or not RAM", (unsigned long long)addr);
        char text[160], hex[48] = "";
        int len = disasm_one(b, n, addr, bits[c->dmode], text, sizeof text);
        for (int k = 0; k < (len ? len : 1) && k < 10; k++)
            snprintf(hex + 3 * k, sizeof hex - 3 * (size_t)k, "%02x ", b[k]);
        fprintf(mon->out, "%s%#018llx: %-30s %s\n", addr == pc ? "=> " : "   ", (unsigned long long)addr, hex, text);
        addr += (uint64_t)(len ? len : 1);
    }
    return true;
}
