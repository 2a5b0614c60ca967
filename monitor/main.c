/* main.c - the vmxemu program: parse the command line, build the machine,
 * attach the devices, load the Multiboot 2 or Multiboot 1 kernel and its
 * modules, run, and
 * turn the reason the machine stopped into the exit status of docs/cli.md. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/devices.h"
#include "devices/multiboot.h"
#include "devices/multiboot2.h"
#include "emu/cpumodel.h"
#include "emu/flags.h"
#include "emu/machine.h"
#include "monitor/gdbstub.h"
#include "monitor/options.h"
#include "monitor/repl.h"
#include "vmx/trace.h"
#include "vmx/vmx.h"

/* How each machine exit ends the process: R(reason, status, message or NULL). */
#define EXIT_MAP(R)                                                                 \
    R(MEXIT_HALTED, ES_HALTED, "CPU halted with interrupts disabled")               \
    R(MEXIT_SHUTDOWN, ES_TRIPLE_FAULT, "triple fault: CPU shut down")               \
    R(MEXIT_CYCLES, ES_CYCLE_LIMIT, "cycle limit reached")                          \
    R(MEXIT_RESET, ES_RESET, "guest requested a reset")                             \
    R(MEXIT_INTERNAL, ES_INTERNAL, "stopped on an emulator limitation")             \
    R(MEXIT_DEBUG, ES_QUIT, "quit while the guest was stopped")                     \
    R(MEXIT_NONE, ES_INTERNAL, "run loop returned without a reason")

/* One line on stderr, then exit with status. */
__attribute__((format(printf, 2, 3))) static _Noreturn void die(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vmxemu: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(status);
}

/* The whole file, or NULL with errno set. */
static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                errno = ENOMEM;
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    *len = n;
    return buf;
}

static void list_models(void)
{
    printf("CPU models (--cpu NAME):\n");
    for (int i = 0; i < cpu_model_count; i++)
        printf("  %-20s %s\n", cpu_models[i].name, cpu_models[i].desc);
}

/* One screen of state for a post-mortem: what a triple fault left behind. */
static void dump_cpu(FILE *f, const cpu_t *c)
{
    static const char *const gpr[16] = { "RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
                                         "R8",  "R9",  "R10", "R11", "R12", "R13", "R14", "R15" };
    static const char *const seg[S_COUNT] = { "ES", "CS", "SS", "DS", "FS", "GS", "LDTR", "TR" };
    fprintf(f, "CPU %d state at cycle %llu (%llu instructions):\n", c->index, (unsigned long long)c->cycles,
            (unsigned long long)c->insn_count);
    for (int i = 0; i < 16; i++)
        fprintf(f, "%-3s=%016llx%s", gpr[i], (unsigned long long)c->gpr[i], i % 4 == 3 ? "\n" : "  ");
    fprintf(f, "RIP=%016llx  RFLAGS=%016llx  CPL=%u  mode=%u\n", (unsigned long long)c->rip,
            (unsigned long long)cpu_get_rflags(c), c->cpl, c->mode);
    for (int s = 0; s < S_COUNT; s++)
        fprintf(f, "%-4s sel=%04x base=%016llx limit=%08x ar=%05x\n", seg[s], c->seg[s].sel,
                (unsigned long long)c->seg[s].base, c->seg[s].limit, c->seg[s].ar);
    fprintf(f, "GDTR base=%016llx limit=%04x   IDTR base=%016llx limit=%04x\n", (unsigned long long)c->gdtr.base,
            c->gdtr.limit, (unsigned long long)c->idtr.base, c->idtr.limit);
    fprintf(f, "CR0=%016llx CR2=%016llx CR3=%016llx\nCR4=%016llx CR8=%016llx EFER=%016llx\n",
            (unsigned long long)c->cr0, (unsigned long long)c->cr2, (unsigned long long)c->cr3,
            (unsigned long long)c->cr4, (unsigned long long)c->cr8, (unsigned long long)c->efer);
}

static void print_stats(const machine_t *m, double secs)
{
    uint64_t insns = 0, cycles = 0;
    for (int i = 0; i < m->ncpus; i++) {
        insns += m->cpu[i]->insn_count;
        if (m->cpu[i]->cycles > cycles)
            cycles = m->cpu[i]->cycles;
    }
    fprintf(stderr, "instructions: %llu\ncycles: %llu\nhost seconds: %.3f\nhost MIPS: %.2f\n",
            (unsigned long long)insns, (unsigned long long)cycles, secs, secs > 0 ? insns / secs / 1e6 : 0.0);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    options_t o;
    char err[512];
    if (options_parse(argc, argv, &o, err, sizeof err))
        die(ES_BAD_INPUT, "%s", err);
    if (o.help) {
        options_usage(stdout);
        return ES_OK;
    }
    if (o.version) {
        printf("vmxemu %s\n", VMXEMU_VERSION);
        return ES_OK;
    }
    if (o.cpu && strcmp(o.cpu, "help") == 0) {
        list_models();
        return ES_OK;
    }
    const struct cpu_model *model = o.cpu ? cpu_model_find(o.cpu) : cpu_model_default();
    if (!model)
        die(ES_BAD_INPUT, "unknown CPU model '%s' (--cpu help lists them)", o.cpu);
    if (o.preemption_rate >= 0 && !(model = vmx_model_with_timer_rate(model, (unsigned)o.preemption_rate)))
        die(ES_BAD_INPUT, "--preemption-timer-rate needs a CPU model with VMX (e.g. --cpu skylake-server-vmx)");

    FILE *script = NULL;
    if (o.monitor_script && !(script = fopen(o.monitor_script, "r")))
        die(ES_BAD_INPUT, "cannot read monitor script %s: %s", o.monitor_script, strerror(errno));

    size_t klen;
    uint8_t *kernel = read_file(o.kernel, &klen);
    if (!kernel)
        die(ES_BAD_INPUT, "cannot read kernel %s: %s", o.kernel, strerror(errno));
    /* A Multiboot 2 header wins: it is the richer protocol (ACPI tags). */
    bool mb2 = mb2_find_header(kernel, klen) >= 0;
    mb2_kernel_t k2;
    mb_kernel_t k;
    if (mb2 ? mb2_parse(kernel, klen, &k2, err, sizeof err) : mb_parse(kernel, klen, &k, err, sizeof err))
        die(ES_BAD_INPUT, "%s: %s", o.kernel, err);
    mb_module_t mods[OPT_MAX_MODS];
    for (int i = 0; i < o.nmods; i++) {
        mods[i].string = o.mods[i].string;
        mods[i].data = read_file(o.mods[i].path, &mods[i].len);
        if (!mods[i].data)
            die(ES_BAD_INPUT, "cannot read module %s: %s", o.mods[i].path, strerror(errno));
    }

    FILE *out = NULL;
    if (o.serial == SERIAL_STDIO) {
        out = stdout;
        setvbuf(stdout, NULL, _IOLBF, 0); /* a line appears when the guest finishes it */
    } else if (o.serial == SERIAL_FILE && !(out = fopen(o.serial_path, "w")))
        die(ES_BAD_INPUT, "cannot open serial output %s: %s", o.serial_path, strerror(errno));

    FILE *trace = NULL;
    if (o.trace && !(trace = fopen(o.trace, "w")))
        die(ES_BAD_INPUT, "cannot open trace file %s: %s", o.trace, strerror(errno));
    vmx_trace_open(trace);

    machine_t *m = machine_new(o.ram, model, o.smp);
    if (!m)
        die(ES_BAD_INPUT, "cannot create a machine with %llu MiB of RAM", (unsigned long long)(o.ram >> 20));
    vmx_attach(m);
    m->tlb_permissive = o.tlb_permissive;
    /* IA32_FEATURE_CONTROL as firmware left it; its VMX-enable bit exists only with VMX */
    for (int i = 0; i < m->ncpus; i++)
        m->cpu[i]->msr_feature_control = o.feature_control & (model_has(model, FEAT_VMX) ? ~0ull : 1);
    /* fw_cfg carries -append alone, as QEMU's does */
    const platform_config_t pc = { o.rtc_base, o.append };
    devices_t *dev = devices_attach(m, out, &pc);
    if (!dev)
        die(ES_INTERNAL, "out of memory");

    /* As QEMU: the kernel sees its own file name first, then -append. */
    size_t clen = strlen(o.kernel) + (o.append ? strlen(o.append) + 1 : 0) + 1;
    char *cmdline = malloc(clen);
    if (!cmdline)
        die(ES_INTERNAL, "out of memory");
    snprintf(cmdline, clen, o.append ? "%s %s" : "%s", o.kernel, o.append);
    const mb_boot_t boot = { cmdline, mods, o.nmods };
    uint32_t info = mb2 ? mb2_load(m, &k2, kernel, &boot, err, sizeof err)
                        : mb_load(m, &k, kernel, &boot, err, sizeof err);
    if (!info)
        die(ES_BAD_INPUT, "%s: %s", o.kernel, err);
    if (mb2)
        mb2_enter(m->cpu[0], info, k2.k.entry);
    else
        mb_enter(m->cpu[0], info, k.entry);
    free(kernel);
    free(cmdline);
    for (int i = 0; i < o.nmods; i++)
        free((void *)mods[i].data);

    m->max_cycles = o.max_cycles;
    double t0 = now();
    enum machine_exit why;
    if (o.gdb_port)
        why = gdb_serve(m, o.gdb_port, o.gdb_wait);
    else if (o.monitor || o.monitor_script)
        why = mon_main(m, script);
    else
        why = machine_run(m);
    if (script)
        fclose(script);
    double secs = now() - t0;
    devices_free(dev); /* flushes the guest's output before anything else is said */
    if (out && out != stdout)
        fclose(out);
    if (trace) {
        vmx_trace_open(NULL);
        fclose(trace);
    }

    /* The vCPU to report: the one that shut down (with -smp it may be an AP), else the BSP. */
    const cpu_t *who = m->cpu[0];
    for (int i = m->ncpus - 1; i >= 0; i--)
        if (m->cpu[i]->shutdown)
            who = m->cpu[i];
    int status = ES_INTERNAL;
    if (why == MEXIT_DEBUG_EXIT)
        status = ((m->exit_value << 1) | 1) & 0xff;
#define R(reason, st, msg)                                                                               \
    else if (why == reason) {                                                                            \
        status = st;                                                                                     \
        fprintf(stderr, "vmxemu: %s at RIP=%#llx after %llu cycles\n", msg,                              \
                (unsigned long long)who->rip, (unsigned long long)who->cycles);                          \
    }
    EXIT_MAP(R)
#undef R
    if (why == MEXIT_SHUTDOWN || why == MEXIT_INTERNAL)
        dump_cpu(stderr, who);
    if (o.stats)
        print_stats(m, secs);
    vmx_detach(m);
    machine_free(m);
    options_free(&o);
    return status;
}
