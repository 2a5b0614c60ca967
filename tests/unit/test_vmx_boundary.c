/* test_vmx_boundary.c - instruction-boundary events of VMX non-root operation
 * (vmx/boundary.c) run through the real run loop (machine_run): the
 * VMX-preemption timer exact to the cycle for several rates and values, in
 * HLT too, with and without saving its value; the monitor trap flag after
 * each instruction and after injection; NMI-window exiting with virtual NMIs
 * and IRET; pending debug exceptions loaded, delivered, saved, and reported by
 * a #DB exit's qualification without touching DR6.
 *
 * The guest code is at GUEST_RIP (vmx_guest_test.h); the host, at HOST_RIP,
 * runs RDTSC then HLT with interrupts off, so machine_run ends there and host
 * EAX holds the TSC at the VM exit (a boundary exit costs no cycles). */
#include "vmx_guest_test.h"

#include "emu/fault.h"

#define NOPS 0x900 /* NOP sled length at GUEST_RIP */

static void set_pin(uint32_t ctl) { W(PIN_BASED_VM_EXEC_CONTROL, vg_allowed0(VMX_PIN) | ctl); }
static void set_proc(uint32_t ctl) { W(CPU_BASED_VM_EXEC_CONTROL, vg_allowed0(VMX_PROC) | ctl); }

static void guest_code(const uint8_t *bytes, int n)
{
    for (int k = 0; k < n; k++)
        phys_write(m, GUEST_RIP + (uint64_t)k, 1, bytes[k]);
}
#define GUEST(...) guest_code((const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))

static void nop_sled(void)
{
    for (uint64_t k = 0; k < NOPS; k++)
        phys_write(m, GUEST_RIP + k, 1, 0x90);
}

/* Run the machine from wherever the vCPU is until the host's HLT; returns the
 * host's RDTSC value (EAX). */
static uint32_t run_to_host(void)
{
    phys_write(m, HOST_RIP, 1, 0x0f);
    phys_write(m, HOST_RIP + 1, 1, 0x31);
    phys_write(m, HOST_RIP + 2, 1, 0xf4);
    m->exit_reason = 0;
    c->stop &= ~STOP_EXIT;
    assert_int_equal(machine_run(m), MEXIT_HALTED);
    assert_false(c->nonroot);
    assert_int_equal(c->rip, HOST_RIP + 3);
    return (uint32_t)c->gpr[R_RAX];
}

/* Back to the instruction fetch of the test harness after a host HLT. */
static void reenter(void)
{
    c->halted = false;
    c->stop = 0;
    c->rip = 0x100000;
    assert_int_equal(vmresume(), EXITED);
    assert_true(c->nonroot);
}

/* The timer's expiry cycle as the SDM defines it (tsc_per_cycle 1, no TSC
 * offset): the V-th change of TSC bit X after VM entry, which VMLAUNCH at cycle
 * c0 completes LAT_SYS cycles later (the harness runs the guest from c0, so it
 * has run that many more NOPs by then). */
static uint64_t predicted(uint64_t c0, unsigned x, uint64_t v)
{
    uint64_t start = c0 + lat_cycles[LAT_SYS], d = ((start >> x) + v) << x;
    return d > start ? d : start;
}

static void test_timer_exact(void **state)
{
    static const unsigned rates[] = { 0, 1, 5, 9 };
    static const uint64_t values[] = { 0, 1, 3, 4 };
    nop_sled();
    bool launched = false;
    for (unsigned i = 0; i < 4; i++) {
        c->model = vmx_model_with_timer_rate(c->model, rates[i]);
        uint64_t misc;
        assert_true(vmx_cap_msr(c->model->vmx, cpu_cr4_valid(c), 0x485, &misc));
        assert_int_equal(misc & 0x1f, rates[i]);
        for (unsigned j = 0; j < 4; j++) {
            set_pin(VMX_CTL(PIN, PREEMPTION_TIMER));
            W(VMX_PREEMPTION_TIMER_VALUE, values[j]);
            W(GUEST_RIP, GUEST_RIP);
            c->cycles = 100003 + 77 * (i * 4 + j); /* not aligned to 2^X */
            uint64_t c0 = c->cycles, d = predicted(c0, rates[i], values[j]);
            if (launched)
                reenter();
            else
                vg_launch();
            launched = true;
            uint32_t tsc = run_to_host();
            assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_PREEMPTION_TIMER);
            /* NOPs take one cycle each: the exit is exactly at the deadline */
            assert_int_equal(R(GUEST_RIP), GUEST_RIP + (d - c0));
            assert_int_equal(tsc, (uint32_t)d);
            assert_int_equal(R(VMX_PREEMPTION_TIMER_VALUE), values[j]); /* not saved */
        }
    }
}

/* Instructions of several cycles: the exit comes at the first boundary at or
 * after the deadline, not at the end of the decoded block. */
static void test_timer_first_boundary(void **state)
{
    /* 40 x "imul eax, eax" (3 cycles each), then a NOP sled */
    for (int k = 0; k < 40; k++) {
        phys_write(m, GUEST_RIP + 3 * (uint64_t)k, 1, 0x0f);
        phys_write(m, GUEST_RIP + 3 * (uint64_t)k + 1, 1, 0xaf);
        phys_write(m, GUEST_RIP + 3 * (uint64_t)k + 2, 1, 0xc0);
    }
    c->model = vmx_model_with_timer_rate(c->model, 0);
    set_pin(VMX_CTL(PIN, PREEMPTION_TIMER));
    W(VMX_PREEMPTION_TIMER_VALUE, 10); /* expires 10 cycles into the guest: inside the 4th IMUL */
    c->cycles = 5000 - lat_cycles[LAT_SYS];
    vg_launch();
    c->cycles = 5000; /* where the run loop would have the guest start */
    uint32_t tsc = run_to_host();
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_PREEMPTION_TIMER);
    assert_int_equal(R(GUEST_RIP), GUEST_RIP + 4 * 3);
    assert_int_equal(tsc, 5012);
}

/* VM entry at cycle c0 with the timer at rate x and value v, saved at exits. */
static void launch_with_saving_timer(unsigned x, uint32_t v, uint64_t c0)
{
    c->model = vmx_model_with_timer_rate(c->model, x);
    set_pin(VMX_CTL(PIN, PREEMPTION_TIMER));
    W(VM_EXIT_CONTROLS, R(VM_EXIT_CONTROLS) | VMX_CTL(EXIT, SAVE_PREEMPTION_TIMER));
    W(VMX_PREEMPTION_TIMER_VALUE, v);
    c->cycles = c0;
    vg_launch();
}

/* The timer counts in HLT and ends it exactly at its deadline; the saved
 * activity state is HLT and the saved value 0. */
static void test_timer_in_hlt(void **state)
{
    GUEST(0xf4);
    launch_with_saving_timer(5, 1000, 123456);
    uint32_t tsc = run_to_host();
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_PREEMPTION_TIMER);
    assert_int_equal(tsc, (uint32_t)predicted(123456, 5, 1000));
    assert_int_equal(R(GUEST_ACTIVITY_STATE), 1);
    assert_int_equal(R(GUEST_RIP), GUEST_RIP + 1);
    assert_int_equal(R(VMX_PREEMPTION_TIMER_VALUE), 0);
}

/* "Save VMX-preemption timer value": another exit stores the count left. */
static void test_timer_save_value(void **state)
{
    nop_sled();
    phys_write(m, GUEST_RIP + 100, 1, 0x0f); /* CPUID after 100 NOPs */
    phys_write(m, GUEST_RIP + 101, 1, 0xa2);
    launch_with_saving_timer(3, 200, 7001);
    uint32_t tsc = run_to_host();
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_CPUID);
    assert_int_equal(tsc, 7101 + lat_cycles[LAT_SYS]); /* the exit was at 7101, and costs LAT_SYS */
    uint64_t deadline = (((7001 + lat_cycles[LAT_SYS]) >> 3) + 200) << 3;
    assert_int_equal(R(VMX_PREEMPTION_TIMER_VALUE), (deadline >> 3) - (7101 >> 3));
    /* resumed with the saved value, the timer ends where it would have */
    W(GUEST_RIP, GUEST_RIP);
    phys_write(m, GUEST_RIP + 100, 2, 0x9090);
    c->cycles = 7101 - lat_cycles[LAT_SYS]; /* the guest starts at 7101 */
    reenter();
    tsc = run_to_host();
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_PREEMPTION_TIMER);
    assert_int_equal(tsc, (uint32_t)deadline);
}

static void test_timer_checks(void **state)
{
    W(VM_EXIT_CONTROLS, R(VM_EXIT_CONTROLS) | VMX_CTL(EXIT, SAVE_PREEMPTION_TIMER));
    assert_int_equal(vmlaunch(), NOFAULT); /* VMfailValid(7): saving without the timer */
    assert_int_equal(R(VM_INSTRUCTION_ERROR), 7);
    assert_false(c->nonroot);
}

/* Before event delivery and VM exits of lower priority: with a timer of 0 and
 * an interrupt window open, the timer exit comes first (26.2). */
static void test_timer_priority(void **state)
{
    nop_sled();
    set_pin(VMX_CTL(PIN, PREEMPTION_TIMER));
    set_proc(VMX_CTL(PROC, INTR_WINDOW_EXITING));
    W(GUEST_RFLAGS, 2 | F_IF);
    W(VMX_PREEMPTION_TIMER_VALUE, 0);
    vg_launch();
    c->cycles += lat_cycles[LAT_SYS]; /* as the run loop charges VMLAUNCH: the guest starts */
    run_to_host();
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_PREEMPTION_TIMER);
    assert_int_equal(R(GUEST_RIP), GUEST_RIP);
    /* without the timer the window exits */
    set_pin(0);
    reenter();
    run_to_host();
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_INTERRUPT_WINDOW);
}

/* MTF: an exit after each instruction, at the next instruction. */
static void test_mtf_steps(void **state)
{
    GUEST(0x90, 0x0f, 0xaf, 0xc0, 0x48, 0x31, 0xc0, 0x90); /* NOP; IMUL EAX,EAX; XOR RAX,RAX; NOP */
    set_proc(VMX_CTL(PROC, MONITOR_TRAP_FLAG));
    c->cycles = 1000;
    vg_launch();
    static const uint64_t next[] = { 1, 4, 7, 8 };
    for (int k = 0; k < 4; k++) {
        if (k)
            reenter();
        run_to_host();
        assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_MONITOR_TRAP_FLAG);
        assert_int_equal(R(GUEST_RIP), GUEST_RIP + next[k]);
    }
}

/* MTF with injection: the exit is pending before the first instruction, after
 * the event's delivery (at the handler); type 7 injects a pending MTF exit. */
static void test_mtf_injection(void **state)
{
    nop_sled();
    set_proc(VMX_CTL(PROC, MONITOR_TRAP_FLAG));
    W(VM_ENTRY_INTR_INFO_FIELD, 1u << 31 | EV_HWEXC << 8 | EXC_UD);
    phys_write(m, 0x9000 + EXC_UD, 1, 0x90);
    assert_int_equal(vmlaunch(), EXITED);
    assert_true(c->nonroot);
    run_to_host();
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_MONITOR_TRAP_FLAG);
    assert_int_equal(R(GUEST_RIP), 0x9000 + EXC_UD);
    /* pending MTF VM exit (type 7) without the control */
    set_proc(0);
    W(GUEST_RIP, GUEST_RIP);
    W(VM_ENTRY_INTR_INFO_FIELD, 1u << 31 | 7 << 8);
    reenter();
    run_to_host();
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_MONITOR_TRAP_FLAG);
    assert_int_equal(R(GUEST_RIP), GUEST_RIP);
}

/* MTF after HLT: the exit wakes it, activity state HLT saved. */
static void test_mtf_hlt(void **state)
{
    GUEST(0xf4);
    set_proc(VMX_CTL(PROC, MONITOR_TRAP_FLAG));
    vg_launch();
    run_to_host();
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_MONITOR_TRAP_FLAG);
    assert_int_equal(R(GUEST_RIP), GUEST_RIP + 1);
    assert_int_equal(R(GUEST_ACTIVITY_STATE), 1);
}

/* Single step under MTF: MTF outranks the #DB trap, which is saved as a pending
 * debug exception (BS); the next entry delivers it, and with the exception
 * bitmap it exits with BS as qualification and DR6 unchanged. */
static void test_mtf_and_single_step(void **state)
{
    nop_sled();
    set_proc(VMX_CTL(PROC, MONITOR_TRAP_FLAG));
    W(GUEST_RFLAGS, 2 | F_TF);
    vg_launch();
    run_to_host();
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_MONITOR_TRAP_FLAG);
    assert_int_equal(R(GUEST_RIP), GUEST_RIP + 1);
    assert_int_equal(R(GUEST_PENDING_DBG_EXCEPTIONS), DR6_BS);
    set_proc(0);
    W(EXCEPTION_BITMAP, 1u << EXC_DB);
    uint64_t dr6 = c->dr[6];
    reenter();
    run_to_host();
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_EXCEPTION_NMI);
    assert_int_equal(R(VM_EXIT_INTR_INFO), 1u << 31 | EV_HWEXC << 8 | EXC_DB);
    assert_int_equal(R(EXIT_QUALIFICATION), DR6_BS);
    assert_int_equal(R(GUEST_RIP), GUEST_RIP + 1);
    assert_int_equal(c->dr[6], dr6);
    assert_int_equal(R(GUEST_PENDING_DBG_EXCEPTIONS), 0);
}

/* Pending debug exceptions from the VMCS are delivered after VM entry: DR6
 * gets B0 and BS, the handler runs. */
static void test_pending_dbg_delivered(void **state)
{
    nop_sled();
    for (int k = 0; k < 16; k++)
        phys_write(m, 0x9000 + EXC_DB + (uint64_t)k, 1, 0x90);
    phys_write(m, 0x9000 + EXC_DB + 16, 1, 0xf4); /* the handler halts: the timer ends it */
    W(GUEST_PENDING_DBG_EXCEPTIONS, DR6_BS | 1 | 1u << 12);
    set_pin(VMX_CTL(PIN, PREEMPTION_TIMER));
    W(VMX_PREEMPTION_TIMER_VALUE, 2); /* after the #DB: it outranks the timer */
    c->dr[6] = 0xffff0ff0;
    vg_launch();
    run_to_host();
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_PREEMPTION_TIMER);
    assert_true(R(GUEST_RIP) > 0x9000 + EXC_DB);
    assert_int_equal(c->dr[6], 0xffff0ff0 | DR6_BS | 1);
    assert_int_equal(R(GUEST_PENDING_DBG_EXCEPTIONS), 0);
}

/* A 64-bit IRET frame on the guest stack that returns to GUEST_RIP + 2; the guest RSP. */
static uint64_t iret_frame(void)
{
    uint64_t sp = 0x6000 - 40;
    phys_write(m, sp, 8, GUEST_RIP + 2);
    phys_write(m, sp + 8, 8, 0x08);
    phys_write(m, sp + 16, 8, 2);
    phys_write(m, sp + 24, 8, 0x6000);
    phys_write(m, sp + 32, 8, 0x10);
    W(GUEST_RSP, sp);
    return sp;
}

/* NMI-window exiting with virtual NMIs: blocked while virtual-NMI blocking is
 * set, open after IRET removes it. */
static void test_nmi_window_and_iret(void **state)
{
    GUEST(0x48, 0xcf, 0x90); /* IRETQ; NOP */
    iret_frame();
    set_pin(VMX_CTL(PIN, NMI_EXITING) | VMX_CTL(PIN, VIRTUAL_NMIS));
    set_proc(VMX_CTL(PROC, NMI_WINDOW_EXITING));
    W(GUEST_INTERRUPTIBILITY_INFO, 8); /* virtual-NMI blocking */
    vg_launch();
    assert_false(c->nmi_blocked); /* NMIs themselves are not blocked */
    run_to_host();
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_NMI_WINDOW);
    assert_int_equal(R(GUEST_RIP), GUEST_RIP + 2);
    assert_int_equal(R(GUEST_INTERRUPTIBILITY_INFO) & 8, 0);
    /* open at once: an exit before any instruction */
    reenter();
    run_to_host();
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_NMI_WINDOW);
    assert_int_equal(R(GUEST_RIP), GUEST_RIP + 2);
    /* an injected NMI is a virtual NMI: it blocks virtual NMIs */
    set_proc(0);
    W(EXCEPTION_BITMAP, 1u << EXC_UD);
    phys_write(m, 0x9000 + EXC_NMI, 2, 0x0b0f); /* UD2 in the NMI handler */
    W(VM_ENTRY_INTR_INFO_FIELD, 1u << 31 | EV_NMI << 8 | EXC_NMI);
    reenter();
    run_to_host();
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_EXCEPTION_NMI);
    assert_int_equal(R(GUEST_INTERRUPTIBILITY_INFO) & 8, 8);
    /* with virtual-NMI blocking, injecting an NMI fails the guest-state check */
    W(VM_ENTRY_INTR_INFO_FIELD, 1u << 31 | EV_NMI << 8 | EXC_NMI);
    c->halted = false;
    c->stop = 0;
    c->rip = 0x100000;
    assert_int_equal(vmresume(), EXITED);
    assert_false(c->nonroot);
    assert_int_equal(R(VM_EXIT_REASON), (1u << 31) | EXIT_REASON_INVALID_GUEST_STATE);
}

/* A faulting IRET still removes virtual-NMI blocking; its exception exit
 * reports that in bit 12 of the exit interruption information (28.2.2). */
static void test_iret_fault_unblocks(void **state)
{
    GUEST(0x48, 0xcf); /* IRETQ */
    uint64_t sp = iret_frame();
    phys_write(m, sp + 8, 8, 0x1238); /* CS beyond the GDT limit: #GP(1238H) */
    set_pin(VMX_CTL(PIN, NMI_EXITING) | VMX_CTL(PIN, VIRTUAL_NMIS));
    W(EXCEPTION_BITMAP, 1u << EXC_GP);
    W(GUEST_INTERRUPTIBILITY_INFO, 8);
    vg_launch();
    run_to_host();
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_EXCEPTION_NMI);
    assert_int_equal(R(VM_EXIT_INTR_INFO), 1u << 31 | 1u << 12 | 1 << 11 | EV_HWEXC << 8 | EXC_GP);
    assert_int_equal(R(VM_EXIT_INTR_ERROR_CODE), 0x1238);
    assert_int_equal(R(GUEST_INTERRUPTIBILITY_INFO) & 8, 0);
    /* without blocking before it, bit 12 stays 0 */
    W(GUEST_INTERRUPTIBILITY_INFO, 0);
    W(GUEST_RIP, GUEST_RIP);
    W(GUEST_RSP, sp);
    reenter();
    run_to_host();
    assert_int_equal(R(VM_EXIT_INTR_INFO), 1u << 31 | 1 << 11 | EV_HWEXC << 8 | EXC_GP);
}

/* A #DB fault from general detect (DR7.GD) that exits through the exception
 * bitmap: qualification BD, DR6 and DR7.GD unchanged (28.2.1). */
static void test_general_detect_exit(void **state)
{
    GUEST(0x0f, 0x21, 0xc0); /* MOV RAX, DR0 */
    W(EXCEPTION_BITMAP, 1u << EXC_DB);
    W(VM_ENTRY_CONTROLS, R(VM_ENTRY_CONTROLS) | VMX_CTL(ENTRY, LOAD_DEBUG_CONTROLS));
    W(VM_EXIT_CONTROLS, R(VM_EXIT_CONTROLS) | VMX_CTL(EXIT, SAVE_DEBUG_CONTROLS));
    W(GUEST_DR7, 0x400 | DR7_GD);
    c->dr[6] = 0xffff0ff0;
    vg_launch();
    run_to_host();
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_EXCEPTION_NMI);
    assert_int_equal(R(VM_EXIT_INTR_INFO), 1u << 31 | EV_HWEXC << 8 | EXC_DB);
    assert_int_equal(R(EXIT_QUALIFICATION), DR6_BD);
    assert_int_equal(R(GUEST_RIP), GUEST_RIP);
    assert_int_equal(c->dr[6], 0xffff0ff0);
    assert_int_equal(R(GUEST_DR7), 0x400 | DR7_GD); /* saved with "save debug controls" */
}

static void test_nmi_controls_checks(void **state)
{
    set_pin(VMX_CTL(PIN, VIRTUAL_NMIS));
    assert_int_equal(vmlaunch(), NOFAULT);
    assert_int_equal(R(VM_INSTRUCTION_ERROR), 7);
    set_pin(VMX_CTL(PIN, NMI_EXITING));
    set_proc(VMX_CTL(PROC, NMI_WINDOW_EXITING));
    assert_int_equal(vmlaunch(), NOFAULT);
    assert_int_equal(R(VM_INSTRUCTION_ERROR), 7);
    assert_false(c->nonroot);
}

/* With "NMI exiting" and no virtual NMIs, IRET leaves NMI blocking alone. */
static void test_iret_keeps_nmi_blocking(void **state)
{
    set_pin(VMX_CTL(PIN, NMI_EXITING));
    W(GUEST_INTERRUPTIBILITY_INFO, 8);
    uint64_t sp = iret_frame();
    vg_launch();
    c->gpr[R_RSP] = sp;
    assert_int_equal(RUN(0x48, 0xcf), NOFAULT);
    assert_true(c->nmi_blocked);
    assert_int_equal(RUN(0x0f, 0xa2), EXITED);
    assert_int_equal(R(GUEST_INTERRUPTIBILITY_INFO) & 8, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, vg_setup, vt_teardown)
        T(test_timer_exact),
        T(test_timer_first_boundary),
        T(test_timer_in_hlt),
        T(test_timer_save_value),
        T(test_timer_checks),
        T(test_timer_priority),
        T(test_mtf_steps),
        T(test_mtf_injection),
        T(test_mtf_hlt),
        T(test_mtf_and_single_step),
        T(test_pending_dbg_delivered),
        T(test_nmi_window_and_iret),
        T(test_iret_fault_unblocks),
        T(test_general_detect_exit),
        T(test_nmi_controls_checks),
        T(test_iret_keeps_nmi_blocking),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
