/* options.h - the vmxemu command line: parsing into a struct, usage text,
 * and the process exit statuses (docs/cli.md). Pure: no files are opened
 * here, so every rule is unit-testable (tests/unit/test_options.c). */
#ifndef VMXEMU_OPTIONS_H
#define VMXEMU_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VMXEMU_VERSION "0.1.0"

#define OPT_DEFAULT_RAM (128ull << 20)
#define OPT_MIN_RAM     (2ull << 20)
#define OPT_MAX_RAM     (64ull << 30)
#define OPT_MAX_MODS    64
#define OPT_GDB_DEFAULT_PORT 1234 /* -s, as QEMU */
#define OPT_MAX_SMP     16 /* MAX_CPUS (emu/machine.h) */

/* Exit statuses besides the debug-exit port's (v << 1) | 1, which is always
 * odd: these are even so the two can never be confused.
 * X(name, status, meaning) */
#define EXIT_STATUSES(X)                                                              \
    X(OK, 0, "--help, --version or --cpu help")                                       \
    X(BAD_INPUT, 2, "bad option, unreadable or unbootable kernel or module")          \
    X(HALTED, 4, "the CPU halted with interrupts disabled (nothing can wake it)")     \
    X(TRIPLE_FAULT, 6, "triple fault (shutdown); registers dumped on stderr")         \
    X(CYCLE_LIMIT, 8, "--max-cycles reached")                                         \
    X(RESET, 10, "the guest requested a reset")                                       \
    X(INTERNAL, 12, "emulator limitation hit (message on stderr)")                   \
    X(QUIT, 14, "quit from the monitor or gdb while the guest was stopped")

enum exit_status {
#define X(name, status, meaning) ES_##name = status,
    EXIT_STATUSES(X)
#undef X
};

enum serial_mode { SERIAL_STDIO, SERIAL_FILE, SERIAL_NONE };

typedef struct opt_module {
    char *path;    /* the file to load */
    char *string;  /* what the kernel sees: path, then a space and the args if any */
} opt_module_t;

typedef struct options {
    const char *kernel;
    uint64_t ram;              /* bytes */
    const char *append;        /* NULL: none */
    opt_module_t mods[OPT_MAX_MODS]; /* -initrd and --module, in command-line order */
    int nmods;
    const char *cpu;           /* NULL: the default model; "help": list */
    enum serial_mode serial;
    const char *serial_path;   /* SERIAL_FILE */
    uint64_t max_cycles;       /* 0: unlimited */
    int smp;                   /* vCPUs, 1..OPT_MAX_SMP */
    int64_t rtc_base;          /* Unix time the RTC reads at start (default RTC_DEFAULT_BASE) */
    uint64_t feature_control;  /* IA32_FEATURE_CONTROL at start (--feature-control; 0 as after reset) */
    const char *trace;         /* --trace FILE: VMX events as JSON Lines; NULL: off */
    bool tlb_permissive;       /* --tlb=permissive (docs/vmx-tlb.md); default strict */
    int preemption_rate;       /* --preemption-timer-rate: IA32_VMX_MISC[4:0]; -1: the model's */
    bool monitor;              /* --monitor: start stopped in the REPL */
    const char *monitor_script;/* --monitor-script FILE (implies the monitor) */
    int gdb_port;              /* -s / -gdb tcp::PORT; 0: no gdb server */
    bool gdb_wait;             /* -S */
    bool stats, help, version;
} options_t;

/* Parse argv into o (zeroed and defaulted first). Returns 0, or -1 with a
 * one-line reason in err. --help and --version parse as flags; no KERNEL is
 * required with them or with --cpu help. */
int options_parse(int argc, char **argv, options_t *o, char *err, size_t errlen);
/* Free what options_parse allocated (the module strings). */
void options_free(options_t *o);

/* QEMU's -m syntax: a number with an optional K, M, G or T suffix (binary
 * units, optional trailing B); no suffix means MiB. Returns 0 or -1. */
int parse_size(const char *s, uint64_t *bytes);

void options_usage(FILE *f);

#endif
