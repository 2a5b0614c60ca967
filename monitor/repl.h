/* repl.h - the monitor: one command table (monitor/commands.def) executed on
 * a line of text, shared by the interactive REPL (GNU readline), scripts
 * (--monitor-script, or stdin when it is not a terminal) and gdb's `monitor`
 * command (qRcmd, monitor/gdbstub.c).
 *
 * Every command writes to mon->out and reports a problem as one line starting
 * with "error: "; nothing typed can stop the emulator except `quit`.
 */
#ifndef VMXEMU_MON_REPL_H
#define VMXEMU_MON_REPL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "emu/machine.h"
#include "monitor/break.h"

typedef struct mon {
    machine_t *m;
    dbg_t dbg;
    int cpu;               /* the selected vCPU */
    FILE *out;
    bool quit;             /* `quit` was given */
    bool finished;         /* the guest ended the run (debug exit, halt, shutdown, ...) */
    enum machine_exit last_exit;
} mon_t;

void mon_init(mon_t *mon, machine_t *m, FILE *out);

/* Execute one command line; false if it failed (an "error: " line was written). */
bool mon_exec(mon_t *mon, const char *line);

/* Read commands until `quit` or end of input: from readline with history and
 * completion when interactive, else line by line from in, echoing each
 * command as "> CMD" (lines starting with '#' are comments) so a transcript is self-describing. */
void mon_repl(mon_t *mon, FILE *in, bool interactive);

/* The whole monitor session of `vmxemu --monitor`: commands from script, or
 * from stdin (readline when it is a terminal). The machine starts stopped
 * before its first instruction. Returns why it stopped: the guest's end, or
 * MEXIT_DEBUG when the user quit (or input ended) while it was stopped. */
enum machine_exit mon_main(machine_t *m, FILE *script);

/* The prompt: vCPU, mode, VMX root/non-root when in VMX operation, and cycle
 * ("cpu0 long 12345> ", "cpu0 long non-root 12345> "). */
void mon_prompt(const mon_t *mon, char *buf, size_t len);

/* Print where vCPU c is: "cpu0 0x...: bytes  instruction". */
void mon_print_location(mon_t *mon, cpu_t *c);

/* Run (step/next/continue) and report why the machine stopped; false (and
 * an error line) if the guest has ended already. */
bool mon_run(mon_t *mon, uint64_t steps, bool next);

/* Name of vCPU c's operating mode ("real", "protected", "long", ...). */
const char *mon_mode_name(const cpu_t *c);

/* ---- for the command handlers (monitor/cmd_*.c) ---- */
#define MON_MAX_ARGS 16

/* A parsed command line: argv[0] is the command name, fmt what followed a
 * '/' in it ("x/16b" gives "16b"). */
typedef struct mon_args {
    int argc;
    char *argv[MON_MAX_ARGS];
    const char *fmt;
} mon_args_t;

typedef bool (*mon_cmd_fn)(mon_t *mon, const mon_args_t *a);

/* The table, in commands.def order. */
typedef struct mon_cmd {
    const char *name, *args, *help;
    mon_cmd_fn fn;
} mon_cmd_t;
extern const mon_cmd_t mon_cmds[];
extern const int mon_ncmds;

/* One "error: ..." line; returns false for `return mon_err(...)`. */
__attribute__((format(printf, 2, 3))) bool mon_err(mon_t *mon, const char *fmt, ...);

/* A number (C syntax: 0x.., 0.., decimal) or a register name with an optional
 * '$' (rip, rsp, eax, cr3, ...), optionally followed by +N or -N. */
bool mon_parse_u64(mon_t *mon, const char *s, uint64_t *v);
/* A register's value by name (general, rip, rflags, segment selectors, CRs, DRs, efer). */
bool mon_reg_value(const cpu_t *c, const char *name, uint64_t *v);

/* An MSR by its SDM name, with or without "IA32_" (efer, IA32_EFER). */
bool mon_msr_by_name(const char *s, uint32_t *num);
/* A basic VM-exit reason by name (CPUID, cpuid, EPT_VIOLATION) or number,
 * one the SDM defines; false after an error line. */
bool mon_parse_exit_reason(mon_t *mon, const char *s, uint64_t *reason);
/* " [PE NE PG]\n": the named bits of value v of register reg ("rflags", "cr0",
 * "cr4", "efer", "dr7"), as cregs shows them (monitor/cmd_regs.c). */
void mon_print_reg_bits(FILE *f, const char *reg, uint64_t v);
/* One line "    [...]" that decodes value v of VMCS field `field` (exit_reason:
 * the VMCS's, for the exit qualification), or nothing for a plain number
 * (monitor/vmcs_decode.c). */
void mon_vmcs_decode(FILE *f, int field, uint64_t v, uint64_t exit_reason);

/* The breakpoint list (`info break`). */
void mon_info_break(mon_t *mon);

/* The selected vCPU. */
static inline cpu_t *mon_cpu(const mon_t *mon)
{
    return mon->m->cpu[mon->cpu];
}

/* The message of the VMX rows until vmx/ provides the state they show. */
#define MON_NO_VMX "VMX is not offered by this CPU model (CPUID.01H:ECX.VMX = 0)"

#endif
