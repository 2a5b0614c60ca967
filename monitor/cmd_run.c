/* cmd_run.c - run control: step, next, continue; and the commands about time
 * and vCPUs (cycles, cpu). */
#include "emu/cpumodel.h"
#include "monitor/repl.h"

/* An optional count argument (default 1). */
static bool count_arg(mon_t *mon, const mon_args_t *a, uint64_t *n)
{
    *n = 1;
    if (a->argc > 2)
        return mon_err(mon, "usage: %s [N]", a->argv[0]);
    if (a->argc == 2 && !mon_parse_u64(mon, a->argv[1], n))
        return false;
    if (*n == 0)
        return mon_err(mon, "the count must be at least 1");
    return true;
}

bool cmd_step(mon_t *mon, const mon_args_t *a)
{
    uint64_t n;
    if (!count_arg(mon, a, &n))
        return false;
    return mon_run(mon, n, false);
}

bool cmd_next(mon_t *mon, const mon_args_t *a)
{
    uint64_t n;
    if (!count_arg(mon, a, &n))
        return false;
    /* each `next` ends at a breakpoint too: stop repeating there */
    for (uint64_t i = 0; i < n; i++) {
        if (!mon_run(mon, 0, true))
            return false;
        if (mon->dbg.stop_bp || mon->finished)
            break;
    }
    return true;
}

bool cmd_continue(mon_t *mon, const mon_args_t *a)
{
    if (a->argc != 1)
        return mon_err(mon, "continue takes no arguments");
    return mon_run(mon, 0, false);
}

bool cmd_cycles(mon_t *mon, const mon_args_t *a)
{
    for (int i = 0; i < mon->m->ncpus; i++) {
        const cpu_t *c = mon->m->cpu[i];
        fprintf(mon->out, "cpu%d cycles=%llu instructions=%llu tsc=%llu\n", i, (unsigned long long)c->cycles,
                (unsigned long long)c->insn_count, (unsigned long long)cpu_tsc(c));
    }
    return true;
}

bool cmd_cpu(mon_t *mon, const mon_args_t *a)
{
    if (a->argc > 2)
        return mon_err(mon, "usage: cpu [N]");
    if (a->argc == 2) {
        uint64_t n;
        if (!mon_parse_u64(mon, a->argv[1], &n))
            return false;
        if (n >= (uint64_t)mon->m->ncpus)
            return mon_err(mon, "no vCPU %llu (the machine has %d)", (unsigned long long)n, mon->m->ncpus);
        mon->cpu = (int)n;
    }
    for (int i = 0; i < mon->m->ncpus; i++) {
        const cpu_t *c = mon->m->cpu[i];
        fprintf(mon->out, "%c cpu%d %s%s%s\n", i == mon->cpu ? '*' : ' ', i, mon_mode_name(c),
                c->halted ? " halted" : "", c->wait_for_sipi ? " waiting-for-SIPI" : "");
    }
    return true;
}
