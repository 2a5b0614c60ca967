/* options.c - parse the vmxemu command line (see options.h). Every option is
 * one row of OPTIONS below: the row gives its name, its argument and its
 * help line, so the parser and --help cannot disagree. Options take one or
 * two leading dashes (QEMU spells -m, -kernel; GNU style spells --stats) and
 * a value either as the next word or after '='. */
#include "monitor/options.h"

#include "devices/devices.h"
#include "devices/rtc.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* O(id, dashes, name, arg, help): arg NULL means a flag; dashes is how --help
 * spells it (QEMU's options with one, ours with two; both forms parse). */
#define OPTIONS(O)                                                                                      \
    O(KERNEL, "-", "kernel", "FILE", "the Multiboot kernel to boot (ELF32, ELF64 or a.out kludge)")           \
    O(MEM, "-", "m", "SIZE", "guest RAM: 512 (MiB), 512M, 4G... (default 128M, at most 64G)")                 \
    O(APPEND, "-", "append", "CMDLINE", "kernel command line, after the kernel's file name")                  \
    O(INITRD, "-", "initrd", "FILE[ ARGS][,FILE2...]", "module(s), QEMU syntax; repeatable")                  \
    O(MODULE, "--", "module", "FILE[,ARGS]", "a Multiboot module with its argument string; repeatable")        \
    O(SMP, "-", "smp", "N", "N vCPUs, 1 to 16 (default 1); the others wait for INIT-SIPI")                      \
    O(CPU, "--", "cpu", "MODEL", "CPU model to present (--cpu help lists them)")                               \
    O(RTCBASE, "--", "rtc-base", "YYYY-MM-DDTHH:MM:SS", "the RTC's time (UTC) at start (default " RTC_DEFAULT_BASE ")") \
    O(SERIAL, "--", "serial", "stdio|file:PATH|none", "where COM1 and port 0xe9 output goes (default stdio)") \
    O(MAXCYC, "--", "max-cycles", "N", "stop after N guest cycles (0: no limit)")                              \
    O(FEATCTL, "--", "feature-control", "unlocked|locked|locked-novmx",                                        \
      "IA32_FEATURE_CONTROL at start: as after reset (default), locked with VMX enabled, locked without")      \
    O(TIMERRATE, "--", "preemption-timer-rate", "X",                                                       \
      "VMX-preemption timer rate: IA32_VMX_MISC[4:0] = X (0-31), it counts every 2^X TSC ticks")            \
    O(TLB, "--", "tlb", "strict|permissive",                                                                 \
      "VMX TLB: translations live as long as the SDM allows (default), or die at every VM entry/exit/INV*") \
    O(TRACE, "--", "trace", "FILE", "write every VM entry, VM exit and VMfail to FILE, one JSON object a line") \
    O(MONITOR, "--", "monitor", NULL, "start stopped in the monitor (REPL; docs/monitor.md)")                   \
    O(MONSCRIPT, "--", "monitor-script", "FILE", "run monitor commands from FILE instead of the terminal")       \
    O(GDBDEF, "-", "s", NULL, "gdb server on tcp::1234 (-gdb tcp::1234)")                                      \
    O(GDB, "-", "gdb", "tcp::PORT", "gdb server on 127.0.0.1:PORT")                                            \
    O(GDBWAIT, "-", "S", NULL, "with -s/-gdb: wait for gdb before the first instruction")                      \
    O(STATS, "--", "stats", NULL, "print instructions, cycles and host MIPS on stderr at the end")             \
    O(VERSION, "--", "version", NULL, "print the version and exit")                                            \
    O(HELP, "--", "help", NULL, "print this help and exit")

enum opt_id {
#define O(id, dashes, name, arg, help) OPT_##id,
    OPTIONS(O)
#undef O
    OPT_COUNT
};

static const struct {
    const char *dashes, *name, *arg, *help;
} opts[OPT_COUNT] = {
#define O(id, dashes, name, arg, help) [OPT_##id] = { dashes, name, arg, help },
    OPTIONS(O)
#undef O
};

int parse_size(const char *s, uint64_t *bytes)
{
    if (!isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    static const char units[] = "KMGT";
    int shift = 20; /* no suffix: MiB, as QEMU */
    const char *u = *end ? strchr(units, toupper((unsigned char)*end)) : NULL;
    if (*end) {
        if (!u)
            return -1;
        shift = 10 * (int)(u - units + 1);
        end++;
        if (*end == 'i' && (end[1] == 'B' || end[1] == 'b'))
            end += 2;
        else if (*end == 'B' || *end == 'b')
            end++;
        if (*end)
            return -1;
    }
    if (v > (~0ull >> shift))
        return -1;
    *bytes = (uint64_t)v << shift;
    return 0;
}

static char *join(const char *path, const char *args)
{
    size_t n = strlen(path) + (args ? strlen(args) + 1 : 0) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, args ? "%s %s" : "%s", path, args);
    return s;
}

static int add_module(options_t *o, const char *path, size_t plen, const char *args, char *err, size_t errlen)
{
    if (o->nmods == OPT_MAX_MODS) {
        snprintf(err, errlen, "too many modules (at most %d)", OPT_MAX_MODS);
        return -1;
    }
    if (plen == 0) {
        snprintf(err, errlen, "empty module file name");
        return -1;
    }
    opt_module_t *m = &o->mods[o->nmods];
    m->path = strndup(path, plen);
    char *a = args && *args ? strdup(args) : NULL;
    m->string = m->path ? join(m->path, a) : NULL;
    free(a);
    if (!m->path || !m->string) {
        free(m->path);
        free(m->string);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    o->nmods++;
    return 0;
}

/* --module FILE[,ARGS]: the first comma separates the file from its args. */
static int opt_module(options_t *o, const char *v, char *err, size_t errlen)
{
    const char *comma = strchr(v, ',');
    return add_module(o, v, comma ? (size_t)(comma - v) : strlen(v), comma ? comma + 1 : NULL, err, errlen);
}

/* -initrd as QEMU reads it for Multiboot: modules separated by ',' (",,"
 * stands for a literal comma), each "FILE ARGS" split at the first space. */
static int opt_initrd(options_t *o, const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);
    char *item = malloc(n + 1);
    if (!item) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i <= n;) {
        size_t k = 0;
        for (; i < n; i++) {
            if (v[i] == ',' && v[i + 1] == ',')
                item[k++] = v[i++];
            else if (v[i] == ',')
                break;
            else
                item[k++] = v[i];
        }
        item[k] = 0;
        i++;
        char *sp = strchr(item, ' ');
        rc = add_module(o, item, sp ? (size_t)(sp - item) : k, sp ? sp + 1 : NULL, err, errlen);
    }
    free(item);
    return rc;
}

static int opt_serial(options_t *o, const char *v, char *err, size_t errlen)
{
    if (strcmp(v, "stdio") == 0)
        o->serial = SERIAL_STDIO;
    else if (strcmp(v, "none") == 0 || strcmp(v, "null") == 0)
        o->serial = SERIAL_NONE;
    else if (strncmp(v, "file:", 5) == 0 && v[5]) {
        o->serial = SERIAL_FILE;
        o->serial_path = v + 5;
    } else {
        snprintf(err, errlen, "bad --serial '%s' (stdio, file:PATH or none)", v);
        return -1;
    }
    return 0;
}

/* -gdb tcp::PORT (QEMU's syntax; the host part may name the loopback address). */
static int opt_gdb(options_t *o, const char *v, char *err, size_t errlen)
{
    static const char *const prefixes[] = { "tcp::", "tcp:127.0.0.1:", "tcp:localhost:" };
    for (size_t k = 0; k < sizeof prefixes / sizeof prefixes[0]; k++) {
        size_t n = strlen(prefixes[k]);
        if (strncmp(v, prefixes[k], n))
            continue;
        char *end;
        errno = 0;
        long port = strtol(v + n, &end, 10);
        if (!errno && isdigit((unsigned char)v[n]) && !*end && port >= 1 && port <= 65535) {
            o->gdb_port = (int)port;
            return 0;
        }
    }
    snprintf(err, errlen, "bad -gdb '%s' (tcp::PORT, PORT 1 to 65535; only 127.0.0.1 is served)", v);
    return -1;
}

/* --feature-control: IA32_FEATURE_CONTROL as firmware leaves it. Bit 0 is the
 * lock, bit 2 enables VMXON outside SMX (SDM Vol. 3C "Enabling and Entering
 * VMX Operation"); main() drops bit 2 on a model without VMX. */
static int opt_feature_control(options_t *o, const char *v, char *err, size_t errlen)
{
    static const struct { const char *name; uint64_t val; } fc[] = {
        { "unlocked", 0 }, { "locked", 1 | 4 }, { "locked-novmx", 1 },
    };
    for (size_t k = 0; k < sizeof fc / sizeof fc[0]; k++)
        if (strcmp(v, fc[k].name) == 0) {
            o->feature_control = fc[k].val;
            return 0;
        }
    snprintf(err, errlen, "bad --feature-control '%s' (unlocked, locked or locked-novmx)", v);
    return -1;
}

static int opt_value(options_t *o, enum opt_id id, const char *v, char *err, size_t errlen)
{
    switch (id) {
    case OPT_KERNEL: o->kernel = v; return 0;
    case OPT_APPEND: o->append = v; return 0;
    case OPT_CPU: o->cpu = v; return 0;
    case OPT_INITRD: return opt_initrd(o, v, err, errlen);
    case OPT_MODULE: return opt_module(o, v, err, errlen);
    case OPT_SERIAL: return opt_serial(o, v, err, errlen);
    case OPT_MEM:
        if (parse_size(v, &o->ram) || o->ram < OPT_MIN_RAM || o->ram > OPT_MAX_RAM || (o->ram & 0xfff)) {
            snprintf(err, errlen, "bad -m '%s' (2M to 64G, a multiple of 4K; e.g. 512M, 4G)", v);
            return -1;
        }
        return 0;
    case OPT_MAXCYC: {
        char *end;
        errno = 0;
        o->max_cycles = strtoull(v, &end, 0);
        if (errno || !isdigit((unsigned char)*v) || *end) {
            snprintf(err, errlen, "bad --max-cycles '%s' (a number)", v);
            return -1;
        }
        return 0;
    }
    case OPT_SMP: {
        char *end;
        errno = 0;
        long n = strtol(v, &end, 10);
        if (errno || !isdigit((unsigned char)*v) || *end || n < 1 || n > OPT_MAX_SMP) {
            snprintf(err, errlen, "bad -smp '%s' (1 to %d)", v, OPT_MAX_SMP);
            return -1;
        }
        o->smp = (int)n;
        return 0;
    }
    case OPT_RTCBASE:
        if (!rtc_parse_time(v, &o->rtc_base)) {
            snprintf(err, errlen, "bad --rtc-base '%s' (YYYY-MM-DDTHH:MM:SS, UTC)", v);
            return -1;
        }
        return 0;
    case OPT_MONITOR: o->monitor = true; return 0;
    case OPT_MONSCRIPT: o->monitor_script = v; return 0;
    case OPT_GDBDEF: o->gdb_port = OPT_GDB_DEFAULT_PORT; return 0;
    case OPT_GDB: return opt_gdb(o, v, err, errlen);
    case OPT_GDBWAIT: o->gdb_wait = true; return 0;
    case OPT_FEATCTL: return opt_feature_control(o, v, err, errlen);
    case OPT_TRACE: o->trace = v; return 0;
    case OPT_TLB:
        if (strcmp(v, "strict") && strcmp(v, "permissive")) {
            snprintf(err, errlen, "bad --tlb '%s' (strict or permissive)", v);
            return -1;
        }
        o->tlb_permissive = v[0] == 'p';
        return 0;
    case OPT_TIMERRATE: {
        char *end;
        errno = 0;
        long x = strtol(v, &end, 10);
        if (errno || !isdigit((unsigned char)*v) || *end || x > 31) {
            snprintf(err, errlen, "bad --preemption-timer-rate '%s' (0 to 31)", v);
            return -1;
        }
        o->preemption_rate = (int)x;
        return 0;
    }
    case OPT_STATS: o->stats = true; return 0;
    case OPT_VERSION: o->version = true; return 0;
    case OPT_HELP: o->help = true; return 0;
    case OPT_COUNT: break;
    }
    return -1;
}

int options_parse(int argc, char **argv, options_t *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->ram = OPT_DEFAULT_RAM;
    o->serial = SERIAL_STDIO;
    o->smp = 1;
    o->preemption_rate = -1;
    rtc_parse_time(RTC_DEFAULT_BASE, &o->rtc_base);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == 0) {
            if (o->kernel) {
                snprintf(err, errlen, "more than one kernel given ('%s' and '%s')", o->kernel, a);
                return -1;
            }
            o->kernel = a;
            continue;
        }
        const char *name = a + 1 + (a[1] == '-');
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        int id = -1;
        for (int k = 0; k < OPT_COUNT; k++)
            if (strlen(opts[k].name) == nlen && strncmp(opts[k].name, name, nlen) == 0)
                id = k;
        if (nlen == 1 && name[0] == 'h')
            id = OPT_HELP;
        if (id < 0) {
            snprintf(err, errlen, "unknown option '%s' (--help lists them)", a);
            return -1;
        }
        const char *v = NULL;
        if (opts[id].arg) {
            if (eq)
                v = eq + 1;
            else if (i + 1 < argc)
                v = argv[++i];
            else {
                snprintf(err, errlen, "option '%s' needs an argument %s", a, opts[id].arg);
                return -1;
            }
        } else if (eq) {
            snprintf(err, errlen, "option '%s' takes no argument", a);
            return -1;
        }
        if (opt_value(o, (enum opt_id)id, v, err, errlen))
            return -1;
    }
    if (o->gdb_wait && !o->gdb_port) {
        snprintf(err, errlen, "-S needs -s or -gdb tcp::PORT");
        return -1;
    }
    if (o->gdb_port && (o->monitor || o->monitor_script)) {
        snprintf(err, errlen, "--monitor and -s/-gdb cannot be combined (use gdb's `monitor` command)");
        return -1;
    }
    bool cpu_help = o->cpu && strcmp(o->cpu, "help") == 0;
    if (!o->kernel && !o->help && !o->version && !cpu_help) {
        snprintf(err, errlen, "no kernel given (vmxemu [options] KERNEL; --help for more)");
        return -1;
    }
    return 0;
}

void options_free(options_t *o)
{
    for (int i = 0; i < o->nmods; i++) {
        free(o->mods[i].path);
        free(o->mods[i].string);
    }
    o->nmods = 0;
}

void options_usage(FILE *f)
{
    fprintf(f, "usage: vmxemu [options] KERNEL\n"
               "       vmxemu [options] -kernel KERNEL\n"
               "Boot a Multiboot kernel on an emulated x86-64 PC with VMX.\n\noptions:\n");
    for (int k = 0; k < OPT_COUNT; k++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s%s", opts[k].dashes, opts[k].name, opts[k].arg ? " " : "",
                 opts[k].arg ? opts[k].arg : "");
        fprintf(f, "  %-34s %s\n", left, opts[k].help);
    }
    fprintf(f, "\nexit status:\n  %-5s %s\n", "odd", "(v << 1) | 1 when the guest wrote v to port 0xf4 (debug exit)");
#define X(name, status, meaning) fprintf(f, "  %-5d %s\n", status, meaning);
    EXIT_STATUSES(X)
#undef X
    fprintf(f, "\nSee docs/cli.md.\n");
}
