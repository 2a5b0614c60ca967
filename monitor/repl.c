/* repl.c - the monitor's command dispatcher and its front ends (repl.h):
 * parsing a line against monitor/commands.def, the readline REPL with history
 * and completion, scripts, Ctrl-C while the guest runs, and reporting why the
 * machine stopped. */
#include "monitor/repl.h"

#include <ctype.h>
#include <signal.h>
#include <sys/time.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "monitor/disasm.h"
#include "monitor/guestmem.h"
#include "vmx/observe.h"
#include "vmx/vmx_tables.h"

#define CMD(name, args, help, fn) bool fn(mon_t *mon, const mon_args_t *a);
#include "monitor/commands.def"
#undef CMD

const mon_cmd_t mon_cmds[] = {
#define CMD(name, args, help, fn) { #name, args, help, fn },
#include "monitor/commands.def"
#undef CMD
};
const int mon_ncmds = sizeof mon_cmds / sizeof mon_cmds[0];

/* One-letter spellings gdb users type; any unique prefix works too. */
static const struct { const char *alias, *name; } aliases[] = {
    { "s", "step" }, { "n", "next" }, { "c", "continue" }, { "b", "break" }, { "q", "quit" },
    { "si", "step" }, { "ni", "next" }, { "d", "delete" },
};

void mon_init(mon_t *mon, machine_t *m, FILE *out)
{
    memset(mon, 0, sizeof *mon);
    mon->m = m;
    mon->out = out;
    dbg_init(&mon->dbg, m);
    vmx_observe_snapshots = true; /* for `vmcs diff` */
}

bool mon_err(mon_t *mon, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(mon->out, "error: ");
    vfprintf(mon->out, fmt, ap);
    fputc('\n', mon->out);
    va_end(ap);
    return false;
}

/* The row for a command name: exact, alias, or unique prefix. */
static const mon_cmd_t *find_cmd(const char *name, bool *ambiguous)
{
    *ambiguous = false;
    for (size_t k = 0; k < sizeof aliases / sizeof aliases[0]; k++)
        if (strcmp(name, aliases[k].alias) == 0)
            name = aliases[k].name;
    const mon_cmd_t *found = NULL;
    size_t len = strlen(name);
    for (int k = 0; k < mon_ncmds; k++) {
        if (strcmp(mon_cmds[k].name, name) == 0)
            return &mon_cmds[k];
        if (len && strncmp(mon_cmds[k].name, name, len) == 0) {
            *ambiguous = found != NULL;
            found = &mon_cmds[k];
        }
    }
    return *ambiguous ? NULL : found;
}

bool mon_exec(mon_t *mon, const char *line)
{
    char buf[1024];
    if (strlen(line) >= sizeof buf)
        return mon_err(mon, "line too long (at most %zu characters)", sizeof buf - 1);
    strcpy(buf, line);
    mon_args_t a = { 0 };
    for (char *p = buf; *p;) {
        while (isspace((unsigned char)*p))
            *p++ = 0;
        if (!*p || *p == '#')
            break;
        if (a.argc == MON_MAX_ARGS)
            return mon_err(mon, "too many arguments (at most %d)", MON_MAX_ARGS - 1);
        a.argv[a.argc++] = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
    }
    if (a.argc == 0)
        return true;
    char *slash = strchr(a.argv[0], '/');
    if (slash) {
        *slash = 0;
        a.fmt = slash + 1;
    }
    bool ambiguous;
    const mon_cmd_t *cmd = find_cmd(a.argv[0], &ambiguous);
    if (!cmd)
        return mon_err(mon, "%s command '%s' (help lists them)", ambiguous ? "ambiguous" : "unknown", a.argv[0]);
    if (a.fmt && strcmp(cmd->name, "x") && strcmp(cmd->name, "xp") && strcmp(cmd->name, "xg"))
        return mon_err(mon, "%s takes no /format", cmd->name);
    bool ok = cmd->fn(mon, &a);
    fflush(mon->out);
    return ok;
}

bool cmd_help(mon_t *mon, const mon_args_t *a)
{
    if (a->argc > 1) {
        bool ambiguous;
        const mon_cmd_t *c = find_cmd(a->argv[1], &ambiguous);
        if (!c)
            return mon_err(mon, "%s command '%s'", ambiguous ? "ambiguous" : "unknown", a->argv[1]);
        fprintf(mon->out, "%s %s\n  %s\n", c->name, c->args, c->help);
        return true;
    }
    for (int k = 0; k < mon_ncmds; k++) {
        const char *nl = strchr(mon_cmds[k].help, '\n');
        int len = nl ? (int)(nl - mon_cmds[k].help) : (int)strlen(mon_cmds[k].help);
        fprintf(mon->out, "  %-10s %.*s\n", mon_cmds[k].name, len, mon_cmds[k].help);
    }
    fprintf(mon->out, "help COMMAND shows its arguments. Numbers are C style (0x10, 16); registers ($rip, rsp+8) work too.\n");
    return true;
}

bool cmd_quit(mon_t *mon, const mon_args_t *a)
{
    mon->quit = true;
    return true;
}

/* ---- modes, prompt, locations ---- */

const char *mon_mode_name(const cpu_t *c)
{
    static const char *const names[] = {
        [MODE_REAL] = "real", [MODE_V86] = "v8086", [MODE_PROT16] = "protected", [MODE_PROT32] = "protected",
        [MODE_COMPAT16] = "compat", [MODE_COMPAT32] = "compat", [MODE_LONG64] = "long",
    };
    return c->mode < sizeof names / sizeof names[0] ? names[c->mode] : "?";
}

void mon_prompt(const mon_t *mon, char *buf, size_t len)
{
    const cpu_t *c = mon_cpu(mon);
    snprintf(buf, len, "cpu%d %s%s %llu> ", c->index, mon_mode_name(c), !c->vmx_operation ? "" : c->nonroot ? " non-root" : " root", (unsigned long long)c->cycles);
}

void mon_print_location(mon_t *mon, cpu_t *c)
{
    static const int bits[] = { [X86_M16] = 16, [X86_M32] = 32, [X86_M64] = 64 };
    uint8_t b[15];
    uint64_t pc = gm_pc(c);
    size_t n = gm_read_lin(c, pc, b, sizeof b);
    char text[160], hex[48] = "";
    int len = n ? disasm_one(b, n, pc, bits[c->dmode], text, sizeof text) : 0;
    if (!n)
        snprintf(text, sizeof text, "(not mapped or not RAM)");
    for (int k = 0; k < len && k < 10; k++)
        snprintf(hex + 3 * k, sizeof hex - 3 * (size_t)k, "%02x ", b[k]);
    fprintf(mon->out, "cpu%d %#018llx: %-30s %s\n", c->index, (unsigned long long)pc, hex, text);
}

/* ---- running ---- */

static mon_t *running; /* for the SIGINT handler while the guest runs */
static volatile sig_atomic_t in_run; /* inside dbg_run: the retry timer may run */

/* The handler's stop bit can be lost: the run loop clears other bits of the
 * same word (cpu_t.stop) with a read-modify-write, and a signal that lands
 * between the read and the write is overwritten. So while the request stands
 * (dbg.interrupt, cleared when the stop is taken), a 50 ms timer sets the bit
 * again; mon_run stops the timer when the run returns. */
static void on_interrupt_retry(int sig)
{
    (void)sig;
    if (running && running->dbg.interrupt)
        machine_interrupt(running->m);
}

static void on_sigint(int sig)
{
    (void)sig;
    running->dbg.interrupt = 1;
    machine_interrupt(running->m);
    if (in_run) {
        struct itimerval retry = { { 0, 50000 }, { 0, 50000 } };
        setitimer(ITIMER_REAL, &retry, NULL);
    }
}

/* How a run that ended the guest is reported: R(exit, text). */
#define END_TEXT(R)                                                         \
    R(MEXIT_HALTED, "the CPU halted with interrupts disabled")              \
    R(MEXIT_SHUTDOWN, "triple fault: the CPU shut down")                    \
    R(MEXIT_CYCLES, "cycle limit reached")                                  \
    R(MEXIT_RESET, "the guest requested a reset")                           \
    R(MEXIT_INTERNAL, "stopped on an emulator limitation")                  \
    R(MEXIT_NONE, "the run loop returned without a reason")

static const char *end_text(enum machine_exit why)
{
#define R(e, text) if (why == e) return text;
    END_TEXT(R)
#undef R
    return "stopped";
}

bool mon_run(mon_t *mon, uint64_t steps, bool next)
{
    if (mon->finished)
        return mon_err(mon, "the guest has ended; nothing more can run (inspection commands still work)");
    struct sigaction sa = { .sa_handler = on_sigint }, old, alrm = { .sa_handler = on_interrupt_retry }, old_alrm;
    sigemptyset(&sa.sa_mask);
    sigemptyset(&alrm.sa_mask);
    alrm.sa_flags = SA_RESTART; /* the retry timer must not fail the guest's console writes */
    mon_t *outer = running;
    running = mon;
    sigaction(SIGALRM, &alrm, &old_alrm);
    sigaction(SIGINT, &sa, &old);
    in_run = 1;
    enum machine_exit why = dbg_run(&mon->dbg, mon->cpu, steps, next);
    in_run = 0;
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGINT, &old, NULL);
    sigaction(SIGALRM, &old_alrm, NULL);
    running = outer;
    mon->dbg.interrupt = 0; /* one Ctrl-C stops one run */
    mon->last_exit = why;
    machine_t *m = mon->m;
    if (why == MEXIT_DEBUG) {
        mon->cpu = mon->dbg.stop_cpu;
        cpu_t *c = mon_cpu(mon);
        fprintf(mon->out, "stopped: %s (cpu%d, cycle %llu)\n", mon->dbg.why, c->index, (unsigned long long)c->cycles);
        mon_print_location(mon, c);
        return true;
    }
    mon->finished = true;
    if (why == MEXIT_DEBUG_EXIT)
        fprintf(mon->out, "guest ended: debug exit %d (exit status %d) at cycle %llu\n", m->exit_value,
                ((m->exit_value << 1) | 1) & 0xff, (unsigned long long)mon_cpu(mon)->cycles);
    else
        fprintf(mon->out, "guest ended: %s at RIP=%#llx, cycle %llu\n", end_text(why),
                (unsigned long long)mon_cpu(mon)->rip, (unsigned long long)mon_cpu(mon)->cycles);
    return true;
}

/* ---- readline completion: commands, then per-command words ---- */

static const char *const info_words[] = { "break", "cpu", "devices", NULL };
static const char *const break_words[] = { "phys", "exc", "io", "msr", "cycle", "exit", "entry", "failed-entry", NULL };
static const char *const vmcs_words[] = { "diff", NULL };
static const char *const until_words[] = { "entry", "exit", NULL };
static const char *const watch_words[] = { "phys", "read", "access", NULL };
static const char *const explain_words[] = { "exit", "failed-entry", NULL };

/* What the word being completed may be: W_* */
enum { W_CMD, W_LIST, W_VMCS, W_EXIT };
static int compl_kind;
static const char *const *compl_list;

static char *next_candidate(int *idx)
{
    for (;;) {
        int k = (*idx)++;
        switch (compl_kind) {
        case W_CMD:
            if (k >= mon_ncmds)
                return NULL;
            return (char *)mon_cmds[k].name;
        case W_LIST:
            return (char *)compl_list[k];
        case W_VMCS:
            if (k < 1)
                return (char *)vmcs_words[k];
            if (k - 1 >= VMCS_FIELD_COUNT)
                return NULL;
            return (char *)vmcs_field_ident((enum vmcs_field)(k - 1));
        default: /* W_EXIT: basic exit reasons are numbered 0..~80 */
            if (k > 128)
                return NULL;
            if (vmx_exit_reason_ident((unsigned)k))
                return (char *)vmx_exit_reason_ident((unsigned)k);
        }
    }
}

static char *generator(const char *text, int state)
{
    static int idx;
    if (!state)
        idx = 0;
    size_t len = strlen(text);
    for (char *s; (s = next_candidate(&idx));)
        if (strncasecmp(s, text, len) == 0)
            return strdup(s);
    return NULL;
}

static char **complete(const char *text, int start, int end)
{
    (void)end;
    char first[32] = "", second[32] = "";
    sscanf(rl_line_buffer, "%31s %31s", first, second);
    int words = 0;
    for (int i = 0, in = 0; i < start; i++) {
        bool sp = isspace((unsigned char)rl_line_buffer[i]);
        words += !sp && !in;
        in = !sp;
    }
    rl_attempted_completion_over = 1; /* never fall back to file names */
    compl_kind = W_LIST;
    if (words == 0)
        compl_kind = W_CMD;
    else if (words == 1 && strcmp(first, "info") == 0)
        compl_list = info_words;
    else if (words == 1 && (strcmp(first, "break") == 0 || strcmp(first, "b") == 0))
        compl_list = break_words;
    else if (words == 1 && strcmp(first, "until") == 0)
        compl_list = until_words;
    else if (words == 1 && strcmp(first, "watch") == 0)
        compl_list = watch_words;
    else if (words == 1 && strcmp(first, "explain") == 0)
        compl_list = explain_words;
    else if (words == 1 && strcmp(first, "vmcs") == 0)
        compl_kind = W_VMCS;
    else if (words == 2 && (strcmp(first, "break") == 0 || strcmp(first, "b") == 0 || strcmp(first, "until") == 0) &&
             strcmp(second, "exit") == 0)
        compl_kind = W_EXIT;
    else
        return NULL;
    return rl_completion_matches(text, generator);
}

/* Ctrl-C at the prompt abandons the line, as in a shell (while the guest
 * runs, mon_run's handler stops the guest instead). */
static void on_sigint_prompt(int sig)
{
    (void)sig;
    rl_crlf();
    rl_on_new_line();
    rl_replace_line("", 0);
    rl_redisplay();
}

void mon_repl(mon_t *mon, FILE *in, bool interactive)
{
    struct sigaction sa = { .sa_handler = on_sigint_prompt }, old;
    if (interactive) {
        rl_readline_name = "vmxemu";
        rl_attempted_completion_function = complete;
        rl_catch_signals = 0; /* SIGINT is ours: see on_sigint_prompt */
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        sigaction(SIGINT, &sa, &old);
    }
    if (!interactive) {
        /* A script's Ctrl-C may come between reading `continue` and the run
         * starting: caught here for the whole session, it stops that run
         * instead of being lost or killing the process. */
        sa.sa_handler = on_sigint;
        sigemptyset(&sa.sa_mask);
        running = mon;
        sigaction(SIGINT, &sa, &old);
    }
    char *line = NULL;
    size_t cap = 0;
    while (!mon->quit) {
        char *l;
        if (interactive) {
            char prompt[96];
            mon_prompt(mon, prompt, sizeof prompt);
            free(line);
            line = readline(prompt);
            if (!line)
                break;
            if (*line)
                add_history(line);
            l = line;
        } else {
            if (getline(&line, &cap, in) < 0)
                break;
            line[strcspn(line, "\r\n")] = 0;
            l = line;
            while (isspace((unsigned char)*l))
                l++;
            if (!*l || *l == '#')
                continue;
            fprintf(mon->out, "> %s\n", l);
            fflush(mon->out); /* the command shows before a long run's result */
        }
        mon_exec(mon, l);
    }
    free(line);
    sigaction(SIGINT, &old, NULL);
    running = NULL;
}

enum machine_exit mon_main(machine_t *m, FILE *script)
{
    static mon_t mon; /* large (the breakpoint table): not on the stack */
    mon_init(&mon, m, stdout);
    mon_repl(&mon, script ? script : stdin, !script && isatty(STDIN_FILENO));
    return mon.finished ? m->exit_reason : MEXIT_DEBUG;
}
