/* test_monitor.c - the monitor's command layer (monitor/repl.c, cmd_*.c,
 * break.c): number and register parsing, command lookup, stepping and
 * breakpoints (linear, physical, I/O) and next over a call in real-mode code, memory and page-walk
 * output, the VMX rows' message without VMX, vmcs and trace on skylake-server-vmx, garbage input, the gdbstub's register
 * layout, disassembly, and the monitor's command-line options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "emu/cpumodel.h"
#include "emu/machine.h"
#include "monitor/disasm.h"
#include "monitor/gdbstub.h"
#include "monitor/options.h"
#include "monitor/repl.h"
#include "vmx_test.h" /* the skylake-server-vmx machine with VMXON/VMPTRLD (m, c) */

/* At 0x1000 in real mode (CS base 0, SS:SP 0:0): mov ax, 1; inc ax; out 0x80, al; nop; call 0x100d;
 * hlt; nop; nop; then at 0x100d the callee: inc ax; ret. */
static const uint8_t code[] = { 0xb8, 0x01, 0x00, 0x40, 0xe6, 0x80, 0x90, 0xe8, 0x03, 0x00,
                                0xf4, 0x90, 0x90, 0x40, 0xc3 };

typedef struct fixture {
    machine_t *m;
    mon_t mon;
    char *text;
    size_t len;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->m = machine_new(16ull << 20, cpu_model_find("skylake-server-novmx") /* the VMX rows answer MON_NO_VMX */, 1);
    assert_non_null(f->m);
    assert_true(phys_copy_in(f->m, 0x1000, code, sizeof code));
    cpu_t *c = f->m->cpu[0];
    c->seg[S_CS].base = 0;
    c->seg[S_CS].sel = 0;
    c->rip = 0x1000;
    FILE *out = open_memstream(&f->text, &f->len);
    mon_init(&f->mon, f->m, out);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    fclose(f->mon.out);
    free(f->text);
    machine_free(f->m);
    free(f);
    return 0;
}

/* Run one command; returns its output (valid until the next call). */
static const char *run(fixture_t *f, const char *cmd, bool expect_ok)
{
    fflush(f->mon.out);
    size_t start = f->len;
    bool ok = mon_exec(&f->mon, cmd);
    fflush(f->mon.out);
    if (ok != expect_ok)
        fail_msg("'%s' returned %d: %s", cmd, ok, f->text + start);
    return f->text + start;
}

static void test_numbers_and_registers(void **state)
{
    fixture_t *f = *state;
    uint64_t v;
    assert_true(mon_parse_u64(&f->mon, "0x10", &v));
    assert_int_equal(v, 16);
    assert_true(mon_parse_u64(&f->mon, "16", &v));
    assert_int_equal(v, 16);
    assert_true(mon_parse_u64(&f->mon, "$rip", &v));
    assert_int_equal(v, 0x1000);
    assert_true(mon_parse_u64(&f->mon, "rip+0x10", &v));
    assert_int_equal(v, 0x1010);
    assert_true(mon_parse_u64(&f->mon, "RIP-1", &v));
    assert_int_equal(v, 0xfff);
    assert_true(mon_parse_u64(&f->mon, "cs", &v));
    assert_int_equal(v, 0);
    assert_false(mon_parse_u64(&f->mon, "zz", &v));
    assert_false(mon_parse_u64(&f->mon, "0x1g", &v));
    assert_false(mon_parse_u64(&f->mon, "rip+", &v));
    assert_false(mon_parse_u64(&f->mon, "99999999999999999999999", &v));
    fflush(f->mon.out);
    assert_non_null(strstr(f->text, "error: bad number or register 'zz'"));
}

static void test_command_lookup(void **state)
{
    fixture_t *f = *state;
    assert_non_null(strstr(run(f, "frob", false), "error: unknown command 'frob'"));
    assert_non_null(strstr(run(f, "e", false), "error: ambiguous command 'e'"));
    assert_non_null(strstr(run(f, "cy", true), "cpu0 cycles=0 instructions=0"));
    assert_non_null(strstr(run(f, "help step", true), "step [N]"));
    assert_non_null(strstr(run(f, "regs/4", false), "error: regs takes no /format"));
    assert_string_equal(run(f, "   # a comment", true), "");
    /* every row of the table has help, and `help NAME` finds it */
    for (int k = 0; k < mon_ncmds; k++) {
        char cmd[64];
        assert_true(mon_cmds[k].help[0]);
        snprintf(cmd, sizeof cmd, "help %s", mon_cmds[k].name);
        assert_non_null(strstr(run(f, cmd, true), mon_cmds[k].name));
    }
}

static void test_step_break_continue(void **state)
{
    fixture_t *f = *state;
    cpu_t *c = f->m->cpu[0];
    assert_non_null(strstr(run(f, "step 2", true), "stopped: step (cpu0"));
    assert_int_equal(c->rip, 0x1004);
    assert_int_equal(c->gpr[R_RAX] & 0xffff, 2);
    assert_non_null(strstr(run(f, "step", true), "cpu0 0x0000000000001006: 90"));
    /* a breakpoint at the current instruction does not stop the run at once */
    run(f, "break 0x1006", true);
    assert_non_null(strstr(run(f, "break 0x1007", true), "breakpoint 2: linear 0x1007"));
    assert_non_null(strstr(run(f, "continue", true), "stopped: breakpoint 2, linear 0x1007"));
    assert_int_equal(c->rip, 0x1007);
    assert_non_null(strstr(run(f, "info break", true), "hits=1"));
    run(f, "delete all", true);
    assert_non_null(strstr(run(f, "info break", true), "no breakpoints"));
    assert_non_null(strstr(run(f, "continue", true), "guest ended: the CPU halted"));
    assert_non_null(strstr(run(f, "step", false), "error: the guest has ended"));
    assert_non_null(strstr(run(f, "regs", true), "RIP=000000000000100b"));
}

static void test_io_breakpoint_and_next(void **state)
{
    fixture_t *f = *state;
    assert_non_null(strstr(run(f, "break io 0x80", true), "breakpoint 1: io 0x80"));
    assert_non_null(strstr(run(f, "continue", true), "I/O port 0x80 accessed"));
    assert_int_equal(f->m->cpu[0]->rip, 0x1004);
    run(f, "delete 1", true);
    /* next over a non-call is a step */
    assert_non_null(strstr(run(f, "next", true), "stopped: step"));
    assert_int_equal(f->m->cpu[0]->rip, 0x1006);
    run(f, "step", true);
    /* over a call: the callee runs (AX 2 -> 3) and the stop is after the call */
    assert_non_null(strstr(run(f, "next", true), "stopped: next"));
    assert_int_equal(f->m->cpu[0]->rip, 0x100a);
    assert_int_equal(f->m->cpu[0]->gpr[R_RAX] & 0xffff, 3);
}

static void test_physical_breakpoint_and_step_into_call(void **state)
{
    fixture_t *f = *state;
    assert_non_null(strstr(run(f, "break phys 0x100d", true), "breakpoint 1: physical 0x100d"));
    assert_non_null(strstr(run(f, "continue", true), "stopped: breakpoint 1, physical 0x100d"));
    assert_int_equal(f->m->cpu[0]->rip, 0x100d);
    /* the return address is on the stack at SS:SP = 0:0xfffe */
    assert_non_null(strstr(run(f, "x/1h $rsp", true), "0x000000000000fffe: 100a"));
}

static void test_memory_and_walk(void **state)
{
    fixture_t *f = *state;
    assert_non_null(strstr(run(f, "x/4b 0x1000", true), "0x0000000000001000: b8 01 00 40"));
    assert_non_null(strstr(run(f, "xp/2h 0x1000", true), "0x0000000000001000: 01b8 4000"));
    assert_non_null(strstr(run(f, "xp/1g 0x2000000", false), "error: physical 0x2000000 is not RAM"));
    assert_non_null(strstr(run(f, "x/9999b 0", false), "error: bad count"));
    const char *w = run(f, "walk 0x1234", true);
    assert_non_null(strstr(w, "paging off"));
    assert_non_null(strstr(w, "-> physical 0x1234"));
    assert_non_null(strstr(run(f, "disas 0x1000 2", true), "inc ax"));
    assert_non_null(strstr(run(f, "watch 0x1000 2", true), "now 0x1b8"));
}

static void test_vmx_rows_say_not_available(void **state)
{
    fixture_t *f = *state;
    static const char *const cmds[] = { "vmcs", "vmcs diff", "vmcs GUEST_RIP=1", "explain", "exits 3", "until entry", "xg 0",
                                        "until exit CPUID", "ept 0", "trace on x", "break exit CPUID",
                                        "break entry", "break failed-entry" };
    for (size_t k = 0; k < sizeof cmds / sizeof cmds[0]; k++)
        assert_non_null(strstr(run(f, cmds[k], false), MON_NO_VMX));
}

/* On skylake-server-vmx: the prompt names root operation, `vmcs` lists and
 * edits the current VMCS, `trace` writes the JSON Lines file, the transition
 * rows answer before any transition, VM breakpoints are listed, and `ept`
 * refuses an EPTP VM entry would refuse. */
static int vmx_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    vt_setup(NULL);
    f->m = m;
    FILE *out = open_memstream(&f->text, &f->len);
    mon_init(&f->mon, f->m, out);
    *state = f;
    return 0;
}

static int vmx_teardown(void **state)
{
    fixture_t *f = *state;
    fclose(f->mon.out);
    free(f->text);
    free(f);
    return vt_teardown(NULL);
}

static void test_vmx_vmcs_and_trace(void **state)
{
    fixture_t *f = *state;
    char prompt[96];
    mon_prompt(&f->mon, prompt, sizeof prompt);
    assert_string_equal(prompt, "cpu0 long 0> ");
    assert_non_null(strstr(run(f, "vmcs GUEST_RIP", false), "error: vmcs GUEST_RIP: no current VMCS"));
    assert_string_equal(run(f, "vmcs", true), "no current VMCS\n");
    assert_non_null(strstr(run(f, "xg 0", false), "error: xg: no current VMCS"));

    vt_enter_with_vmcs(VMCS_A);
    mon_prompt(&f->mon, prompt, sizeof prompt);
    assert_non_null(strstr(prompt, "cpu0 long root "));
    c->nonroot = true;
    mon_prompt(&f->mon, prompt, sizeof prompt);
    assert_non_null(strstr(prompt, "cpu0 long non-root "));
    c->nonroot = false;

    /* write by identifier (any case), read by identifier and by encoding */
    assert_int_equal(vmwrite(VMCS_ENC_GUEST_RIP, 0x1234), NOFAULT);
    assert_non_null(strstr(run(f, "vmcs guest_rip", true), "GUEST_RIP"));
    assert_non_null(strstr(run(f, "vmcs 0x681e", true), "0x681e  Guest RIP"));
    assert_non_null(strstr(run(f, "vmcs GUEST_RIP", true), "0x0000000000001234\n"));
    assert_non_null(strstr(run(f, "vmcs Guest_Rip=0xabc", true), "0x0000000000000abc\n"));
    uint64_t v;
    assert_int_equal(vmread(VMCS_ENC_GUEST_RIP, &v), NOFAULT);
    assert_int_equal(v, 0xabc);
    assert_non_null(strstr(run(f, "vmcs 0x800=0x10", true), "GUEST_ES_SELECTOR"));
    /* values with a meaning are decoded on the next line */
    assert_non_null(strstr(run(f, "vmcs guest_cr0=0x80000031", true), "\n    [PE ET NE PG]\n"));
    assert_non_null(strstr(run(f, "vmcs vm_entry_intr_info_field=0x80000b0e", true),
                           "\n    [valid vector=14 type=hardware-exception error-code]\n"));
    assert_non_null(strstr(run(f, "vmcs guest_cs_ar_bytes=0xa09b", true), "\n    [type=11 S DPL=0 P L G]\n"));
    assert_non_null(strstr(run(f, "vmcs guest_ldtr_ar_bytes=0x10000", true), "\n    [unusable]\n"));
    assert_non_null(strstr(run(f, "vmcs cpu_based_vm_exec_control=0x80", true), "\n    [HLT exiting]\n"));
    assert_non_null(strstr(run(f, "vmcs vm_exit_reason=0x80000021", true), "\n    [INVALID_GUEST_STATE(33) VM-entry failure]\n"));
    assert_non_null(strstr(run(f, "vmcs vm_exit_reason=30", true), "\n    [IO_INSTRUCTION(30)]\n"));
    assert_non_null(strstr(run(f, "vmcs exit_qualification=0x3f80008", true),
                           "\n    [IO_INSTRUCTION: size_minus_1=0 in=1 string=0 rep=0 immediate_port=0 port=1016]\n"));
    assert_non_null(strstr(run(f, "vmcs guest_interruptibility_info=9", true), "\n    [blocking-by-STI blocking-by-NMI]\n"));
    assert_non_null(strstr(run(f, "vmcs vm_instruction_error=4", true), "\n    [VMLAUNCH with non-clear VMCS]\n"));
    assert_int_equal(strchr(run(f, "vmcs guest_rip", true), '\n')[1], 0); /* a plain number: one line */
    assert_int_equal(vmcs_get(c, VMCS_GUEST_ES_SELECTOR), 0x10);
    /* the error lines */
    assert_non_null(strstr(run(f, "vmcs NO_SUCH_FIELD", false), "error: vmcs: unknown VMCS field 'NO_SUCH_FIELD'"));
    assert_non_null(strstr(run(f, "vmcs 0x7777", false), "error: vmcs: unknown VMCS field '0x7777'"));
    assert_non_null(strstr(run(f, "vmcs GUEST_ES_SELECTOR=0x10000", false), "does not fit the 16-bit field"));
    assert_non_null(strstr(run(f, "vmcs GUEST_RIP=zz", false), "error: bad number or register 'zz'"));
    assert_non_null(strstr(run(f, "vmcs =1", false), "usage: vmcs"));
    assert_non_null(strstr(run(f, "vmcs a b", false), "usage: vmcs"));

    /* the listing: a header, then every field the model has, in table order, one per line */
    const char *all = run(f, "vmcs", true);
    assert_non_null(strstr(all, "current VMCS 0x20000, launch state clear\n"));
    int lines = 0, last = -1;
    for (const char *p = strchr(all, '\n') + 1; *p; p = strchr(p, '\n') + 1) {
        char ident[64];
        if (p[0] == ' ') { /* the decoding of the field above */
            assert_true(strncmp(p, "    [", 5) == 0);
            continue;
        }
        unsigned enc;
        assert_int_equal(sscanf(p, "%63s 0x%x", ident, &enc), 2);
        int fld = vmcs_field_by_ident(ident);
        assert_true(fld > last);
        assert_true(vmcs_field_exists(vmx_model_of(c), fld));
        assert_int_equal(enc, vmcs_field_encoding(fld));
        last = fld;
        lines++;
    }
    int expect = 0;
    for (int k = 0; k < VMCS_FIELD_COUNT; k++)
        expect += vmcs_field_exists(vmx_model_of(c), k);
    assert_int_equal(lines, expect);

    /* trace on FILE: the file gets the VMfail event of a failing VMPTRLD; off closes it */
    char path[] = "/tmp/vmxemu-montrace-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "trace on %s", path);
    assert_non_null(strstr(run(f, cmd, true), "tracing VM entries and exits to"));
    assert_true(vmx_tracing());
    assert_int_equal(vmptrld(VMXON_PA), NOFAULT); /* the VMXON pointer: VMfailValid */
    assert_non_null(strstr(run(f, "trace off", true), "trace off"));
    assert_false(vmx_tracing());
    assert_non_null(strstr(run(f, "trace off", true), "trace was off"));
    FILE *t = fopen(path, "r");
    char line[512] = "";
    assert_non_null(fgets(line, sizeof line, t));
    fclose(t);
    unlink(path);
    assert_non_null(strstr(line, "\"event\":\"vmfail\""));
    assert_non_null(strstr(run(f, "trace on /nonexistent-dir/x", false), "error: trace: cannot open /nonexistent-dir/x"));
    assert_non_null(strstr(run(f, "trace", false), "usage: trace on FILE | off"));

    /* the transition rows before any transition; their mistakes */
    assert_string_equal(run(f, "vmcs diff", true), "no VM entry or exit on cpu0 since the monitor started\n");
    assert_string_equal(run(f, "exits", true), "no VM exits on cpu0\n");
    assert_string_equal(run(f, "explain", true), "no VM exit or failed VM entry on cpu0\n");
    assert_string_equal(run(f, "explain failed-entry", true), "no failed VM entry on cpu0\n");
    assert_non_null(strstr(run(f, "exits 129", false), "error: exits: N is 1 to 128"));
    assert_non_null(strstr(run(f, "until exit 9999", false), "error: unknown VM-exit reason '9999'"));
    assert_non_null(strstr(run(f, "until", false), "error: usage: until entry | exit [REASON]"));
    assert_non_null(strstr(run(f, "break exit cpuid x", false), "error: usage: break exit [REASON]"));
    assert_non_null(strstr(run(f, "break entry 1", false), "error: usage: break entry"));
    /* VM breakpoints: by reason name or number, listed and deleted with the others */
    assert_string_equal(run(f, "break exit cpuid", true), "breakpoint 1: vm-exit CPUID(10)\n");
    assert_string_equal(run(f, "break exit 48", true), "breakpoint 2: vm-exit EPT_VIOLATION(48)\n");
    assert_string_equal(run(f, "break exit", true), "breakpoint 3: vm-exit any reason\n");
    assert_string_equal(run(f, "break entry", true), "breakpoint 4: vm-entry\n");
    assert_string_equal(run(f, "break failed-entry", true), "breakpoint 5: failed-entry\n");
    const char *list = run(f, "info break", true);
    assert_non_null(strstr(list, "1   vm-exit        CPUID(10) hits=0\n"));
    assert_non_null(strstr(list, "3   vm-exit        any reason hits=0\n"));
    assert_non_null(strstr(list, "5   failed-entry   hits=0\n"));
    assert_string_equal(run(f, "watch read 0x1000 4", true), "watchpoint 6: watch-read 0x1000, 4 bytes\n");
    assert_string_equal(run(f, "watch access 0x2000", true), "watchpoint 7: watch-access 0x2000, 8 bytes\n");
    assert_non_null(strstr(run(f, "info break", true), "6   watch-read     0x1000-0x1003 hits=0\n"));
    assert_non_null(strstr(run(f, "watch read", false), "usage: watch [phys | read | access] ADDR [LEN]"));
    run(f, "delete 3", true);
    assert_null(strstr(run(f, "info break", true), "any reason"));

    /* xg: guest-physical = physical without EPT; through the EPT of the current VMCS with it */
    phys_write(m, 0x9000, 8, 0x1122334455667788ull);
    assert_string_equal(run(f, "xg/1g 0x9000", true), "0x0000000000009000: 1122334455667788\n");
    vmcs_set(c, VMCS_CPU_BASED_VM_EXEC_CONTROL, VMX_CTL(PROC, SECONDARY_CONTROLS));
    vmcs_set(c, VMCS_SECONDARY_VM_EXEC_CONTROL, VMX_CTL(PROC2, ENABLE_EPT));
    vmcs_set(c, VMCS_EPT_POINTER, 0x40000 | 3 << 3 | 6); /* 4 levels, write-back */
    phys_write(m, 0x40000, 8, 0x41000 | 7);
    phys_write(m, 0x41000, 8, 0x42000 | 7);
    phys_write(m, 0x42000, 8, 0x43000 | 7);
    phys_write(m, 0x43000 + 5 * 8, 8, 0x9000 | 6 << 3 | 7); /* GPA 0x5000 -> 0x9000, WB */
    assert_string_equal(run(f, "xg/1g 0x5000", true), "0x0000000000005000: 1122334455667788\n");
    assert_non_null(strstr(run(f, "xg/2g 0x5ff8", false),
                           "error: guest-physical 0x6000: EPT entry not present at level 1 (entry 0 at 0x43030)"));
    phys_write(m, 0x43000 + 7 * 8, 8, 0x9000 | 2 << 3 | 7); /* memory type 2 is reserved */
    assert_non_null(strstr(run(f, "xg 0x7000", false), "error: guest-physical 0x7000: EPT misconfiguration at level 1"));
    vmcs_set(c, VMCS_SECONDARY_VM_EXEC_CONTROL, 0);

    /* ept: every level of the walk through the current VMCS's EPTP, which must be one VM entry accepts */
    const char *walk = run(f, "ept 0x5123", true);
    assert_non_null(strstr(walk, "\"enable EPT\" is 0 in the current VMCS"));
    assert_non_null(strstr(walk, "  PTE   [  5] @0x000000043028 = 0000000000009037 [RWX WB]\n"));
    assert_non_null(strstr(walk, "-> host-physical 0x9123, 4 KiB page, RWX, memory type WB\n"));
    assert_non_null(strstr(run(f, "ept 0x6000", true), "EPT violation: PTE not present\n"));
    assert_non_null(strstr(run(f, "ept 0x7000", true), "EPT misconfiguration: PTE: reserved EPT memory type"));
    vmcs_set(c, VMCS_EPT_POINTER, 0);
    assert_non_null(strstr(run(f, "ept 0", false), "is not valid (EPTP_WALK_LENGTH"));
    assert_non_null(strstr(run(f, "ept walk 0", false), "usage: ept GPA"));
}

/* Nothing typed can crash the monitor: random lines from command words,
 * numbers, registers and junk (run under ASan by make check-asan). */
static void test_garbage_input(void **state)
{
    fixture_t *f = *state;
    static const char *const words[] = { "x", "xp", "x/3g", "xp/0", "x/99999999999999999999b", "break", "watch",
                                         "delete", "info", "msr", "walk", "disas", "cpu", "help", "phys", "exc", "io",
                                         "cycle", "all", "0", "-1", "0xffffffffffffffff", "rip", "$rsp+8", "rsp-",
                                         "+", "-", "/", "//", "$", "abc", "1-2-3", "0x10-0x1", "9999999999999999999999",
                                         "ia32_efer", "\t", "cpu", "devices", "=", "x/", "%s%n", "regs", "sregs",
                                         "explain", "exits", "until", "entry", "exit", "failed-entry", "CPUID",
                                         "vmcs", "diff" };
    srand(1);
    for (int i = 0; i < 3000; i++) {
        char line[256] = "";
        int n = 1 + rand() % 4;
        for (int k = 0; k < n; k++) {
            strcat(line, words[rand() % (sizeof words / sizeof words[0])]);
            strcat(line, " ");
        }
        mon_exec(&f->mon, line);
    }
    char big[2000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    assert_non_null(strstr(run(f, big, false), "error: line too long"));
    assert_non_null(strstr(run(f, "x x x x x x x x x x x x x x x x x x x", false), "error: too many arguments"));
}

/* The memory operands read and access watchpoints check (capstone). */
static void test_memory_operands(void **state)
{
    struct disasm_mem m[4];
    static const uint8_t load[] = { 0x48, 0x8b, 0x43, 0x08 };        /* mov rax, [rbx+8] */
    assert_int_equal(disasm_mem_operands(load, sizeof load, 0x1000, 64, m, 4), 1);
    assert_int_equal(m[0].base, 3);
    assert_int_equal(m[0].index, -1);
    assert_int_equal(m[0].disp, 8);
    assert_int_equal(m[0].size, 8);
    assert_true(m[0].read && !m[0].write);
    static const uint8_t store[] = { 0x89, 0x05, 0x10, 0x00, 0x00, 0x00 }; /* mov [rip+0x10], eax */
    assert_int_equal(disasm_mem_operands(store, sizeof store, 0x1000, 64, m, 4), 1);
    assert_int_equal(m[0].base, -1);
    assert_int_equal(m[0].disp, 0x1016);
    assert_int_equal(m[0].size, 4);
    assert_true(m[0].write && !m[0].read);
    static const uint8_t rmw[] = { 0x67, 0x83, 0x04, 0x8e, 0x01 };     /* add dword [esi+ecx*4], 1 */
    assert_int_equal(disasm_mem_operands(rmw, sizeof rmw, 0x1000, 64, m, 4), 1);
    assert_int_equal(m[0].base, 6);
    assert_int_equal(m[0].index, 1);
    assert_int_equal(m[0].scale, 4);
    assert_int_equal(m[0].addr_bits, 32);
    assert_true(m[0].read && m[0].write);
    static const uint8_t reg[] = { 0x48, 0x01, 0xd8 };                 /* add rax, rbx */
    assert_int_equal(disasm_mem_operands(reg, sizeof reg, 0x1000, 64, m, 4), 0);
}

static void test_gdb_register_layout(void **state)
{
    /* the order gdb's amd64 target expects: core, SSE, segment bases, then ours */
    static const struct { int n; const char *name; int bytes; } expect[] = {
        { 0, "rax", 8 },  { 1, "rbx", 8 },     { 7, "rsp", 8 },    { 15, "r15", 8 },  { 16, "rip", 8 },
        { 17, "eflags", 4 }, { 18, "cs", 4 },  { 23, "gs", 4 },    { 24, "st0", 10 }, { 32, "fctrl", 4 },
        { 39, "fop", 4 }, { 40, "xmm0", 16 },  { 56, "mxcsr", 4 }, { 57, "fs_base", 8 }, { 58, "gs_base", 8 },
        { 59, "cr0", 8 }, { 64, "efer", 8 },
    };
    assert_int_equal(gdb_reg_count(), 65);
    for (size_t k = 0; k < sizeof expect / sizeof expect[0]; k++) {
        int bytes = 0;
        assert_string_equal(gdb_reg_name(expect[k].n, &bytes), expect[k].name);
        assert_int_equal(bytes, expect[k].bytes);
    }
    int b;
    assert_null(gdb_reg_name(65, &b));
}

static void test_disasm(void **state)
{
    char text[64];
    static const uint8_t b[] = { 0x48, 0x89, 0xe5 };
    assert_int_equal(disasm_one(b, sizeof b, 0x1000, 64, text, sizeof text), 3);
    assert_string_equal(text, "mov rbp, rsp");
    assert_int_equal(disasm_one(b, 1, 0x1000, 64, text, sizeof text), 0);
    assert_string_equal(text, "(bad)");
}

static void test_monitor_options(void **state)
{
    options_t o;
    char err[256];
    char *a1[] = { "vmxemu", "-s", "-S", "k.elf" };
    assert_int_equal(options_parse(4, a1, &o, err, sizeof err), 0);
    assert_int_equal(o.gdb_port, 1234);
    assert_true(o.gdb_wait);
    char *a2[] = { "vmxemu", "-gdb", "tcp::4321", "k.elf" };
    assert_int_equal(options_parse(4, a2, &o, err, sizeof err), 0);
    assert_int_equal(o.gdb_port, 4321);
    char *a3[] = { "vmxemu", "-gdb", "tcp:10.0.0.1:1", "k.elf" };
    assert_int_equal(options_parse(4, a3, &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "bad -gdb"));
    char *a4[] = { "vmxemu", "-S", "k.elf" };
    assert_int_equal(options_parse(3, a4, &o, err, sizeof err), -1);
    char *a5[] = { "vmxemu", "--monitor", "-s", "k.elf" };
    assert_int_equal(options_parse(4, a5, &o, err, sizeof err), -1);
    char *a6[] = { "vmxemu", "--monitor-script", "cmds", "k.elf" };
    assert_int_equal(options_parse(4, a6, &o, err, sizeof err), 0);
    assert_string_equal(o.monitor_script, "cmds");
    char *a7[] = { "vmxemu", "-gdb", "tcp::70000", "k.elf" };
    assert_int_equal(options_parse(4, a7, &o, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_numbers_and_registers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_step_break_continue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_io_breakpoint_and_next, setup, teardown),
        cmocka_unit_test_setup_teardown(test_physical_breakpoint_and_step_into_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_and_walk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vmx_rows_say_not_available, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vmx_vmcs_and_trace, vmx_setup, vmx_teardown),
        cmocka_unit_test_setup_teardown(test_garbage_input, setup, teardown),
        cmocka_unit_test(test_gdb_register_layout),
        cmocka_unit_test(test_memory_operands),
        cmocka_unit_test(test_disasm),
        cmocka_unit_test(test_monitor_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
