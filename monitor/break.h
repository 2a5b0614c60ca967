/* break.h - breakpoints, watchpoints and run control for the monitor and the
 * gdbstub: the debug_hook_t the run loop asks before every instruction.
 *
 * Everything is checked from before_insn() without touching the CPU core:
 * addresses against RIP, exceptions as "RIP is the IDT handler of the vector
 * the CPU last raised", I/O ports and MSRs by decoding the next instruction
 * (IN/OUT/INS/OUTS port, RDMSR/WRMSR ECX), watchpoints by comparing the
 * watched bytes before each instruction with their last value, read and
 * access watchpoints by the next instruction's memory operands (capstone,
 * monitor/disasm.h). So a watchpoint stops after the instruction that changed
 * (read, accessed) the memory, every other kind before the instruction that
 * would trigger it.
 */
#ifndef VMXEMU_MON_BREAK_H
#define VMXEMU_MON_BREAK_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "emu/machine.h"

/* K(kind, name shown by `info break`) */
#define BP_KINDS(K)                 \
    K(LIN, "linear")                \
    K(PHYS, "physical")             \
    K(EXC, "exception")             \
    K(IO, "io")                     \
    K(MSR, "msr")                   \
    K(CYCLE, "cycle")               \
    K(WATCH, "watch-linear")        \
    K(WATCHP, "watch-physical")     \
    K(RWATCH, "watch-read")         \
    K(AWATCH, "watch-access")       \
    K(VMENTRY, "vm-entry")          \
    K(VMEXIT, "vm-exit")            \
    K(VMFAIL, "failed-entry")

enum bp_kind {
#define K(kind, name) BPK_##kind,
    BP_KINDS(K)
#undef K
    BPK_COUNT
};
extern const char *const bp_kind_names[BPK_COUNT];

/* A vm-exit breakpoint's lo when it stops at every exit reason. */
#define BP_ANY_REASON UINT64_MAX

/* Who set a breakpoint: gdb's z packets remove only what its Z packets set. */
enum bp_origin { BPO_USER, BPO_GDB_SW, BPO_GDB_HW, BPO_GDB_WATCH };

#define MAX_BP 64

typedef struct bp {
    int id;               /* 0: free slot */
    enum bp_kind kind;
    enum bp_origin origin;
    uint64_t lo, hi;      /* address, vector, port or MSR range (inclusive); the cycle in lo */
    int len;              /* watchpoints (all three kinds): bytes watched, 1 to 8 */
    uint64_t old;         /* watchpoints: the value last seen, if old_valid */
    bool old_valid;
    uint64_t hits;
} bp_t;

typedef struct dbg {
    machine_t *m;
    debug_hook_t hook;
    bp_t bp[MAX_BP];
    int next_id;

    /* run control, set by dbg_run() */
    int step_cpu;            /* the vCPU whose instructions step/next count */
    bool stepping;
    uint64_t step_left;
    bool next_active;        /* `next` over a call: stop when it returns */
    uint64_t next_pc, next_rsp;
    bool asked[MAX_CPUS];    /* before_insn saw this vCPU since the run started */
    uint64_t last_icount[MAX_CPUS], last_pc[MAX_CPUS];

    volatile sig_atomic_t interrupt; /* Ctrl-C: set from a signal handler */
    /* The gdbstub's check for a Ctrl-C byte, asked every few thousand instructions. */
    bool (*poll)(void *opaque);
    void *poll_opaque;
    unsigned poll_count;

    /* a read/access watchpoint the instruction a vCPU is running touches: it
     * stops at that vCPU's next instruction boundary (0: none) */
    int access_hit[MAX_CPUS];
    uint64_t access_addr[MAX_CPUS];

    /* VM transitions (vmx/observe.h) each vCPU had when the run started or
     * before_insn last looked: a change means one happened in between */
    bool vm_watch;           /* a VM breakpoint or `until` is set: look */
    uint64_t seen_entries[MAX_CPUS], seen_exits[MAX_CPUS], seen_failed[MAX_CPUS];
    /* `until entry` (BPK_VMENTRY) / `until exit [REASON]` (BPK_VMEXIT, until_reason
     * or BP_ANY_REASON) for the next run only; BPK_COUNT: none */
    enum bp_kind until;
    uint64_t until_reason;

    /* why the machine last stopped for the debugger */
    int stop_cpu;
    int stop_bp;             /* breakpoint id, or 0 (step, interrupt) */
    enum bp_kind stop_kind;
    uint64_t stop_addr;      /* watchpoints: the watched address */
    char why[160];
} dbg_t;

void dbg_init(dbg_t *d, machine_t *m);

/* Add a breakpoint; returns its id, or -1 when the table is full. For the
 * watch kinds, len is 1 to 8 and the current value is taken as the old one. */
int dbg_add(dbg_t *d, enum bp_kind kind, uint64_t lo, uint64_t hi, int len, enum bp_origin origin);
/* Delete breakpoint id; false if there is none. */
bool dbg_delete(dbg_t *d, int id);
/* The id of the breakpoint of this kind, address, length and origin, or 0. */
int dbg_find(const dbg_t *d, enum bp_kind kind, uint64_t lo, int len, enum bp_origin origin);
const bp_t *dbg_get(const dbg_t *d, int id);

/* Run the machine from where it stopped: steps > 0 runs that many
 * instructions of vCPU cpu, next steps over a call there, both 0 runs until a
 * breakpoint, Ctrl-C or the end of the guest. The hook is installed only when
 * something needs it, so a plain continue runs at full speed. */
enum machine_exit dbg_run(dbg_t *d, int cpu, uint64_t steps, bool next);

/* "vm-exit CPUID(10)", "linear 0x1000-0x1fff": a breakpoint's kind and what it
 * matches, as `info break` and the confirmation of `break` show it. */
void dbg_describe(const bp_t *b, char *buf, size_t len);

/* Read a watchpoint's current value (false if unreadable). */
bool dbg_watch_value(dbg_t *d, cpu_t *c, const bp_t *b, uint64_t *v);

#endif
