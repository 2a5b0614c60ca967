/* vmx_timer.c - a hypervisor kernel, booted with --cpu skylake-server-vmx (and
 * --preemption-timer-rate X -append rate=X for other rates), checks what
 * happens at instruction boundaries in VMX non-root operation (SDM Vol. 3C
 * 26.5 "Features for Monitoring Guest Software", 26.2, 27.7):
 * - the VMX-preemption timer (exit 52) at rate X = IA32_VMX_MISC[4:0]: value
 *   0 exits before the first guest instruction; other values exit within the
 *   window the entry's TSC allows; it counts in HLT (the exit saves activity
 *   state HLT); "save VMX-preemption timer value" stores the count left at
 *   another exit, and resuming with it ends where the first run would have;
 * - the monitor trap flag (exit 37) after each guest instruction;
 * - NMI-window exiting (exit 8) with virtual NMIs: blocked by virtual-NMI
 *   blocking until IRET removes it, open at once otherwise, and the VM-entry
 *   checks that tie NMI exiting, virtual NMIs and NMI-window exiting;
 * - pending debug exceptions: under MTF a single-step trap is saved as BS; the
 *   next VM entry delivers it and the #DB exits through the exception bitmap
 *   with BS as the qualification, DR6 untouched.
 * The trace of this kernel is a golden file (timer-golden.sh), which also
 * checks every timer exit against the expiry cycle of its VM entry. */
#include "guest.h"
#include "vmxlib.h"
#include "vmx_run.h"

extern char guest_nops[], guest_hlt[], guest_cpuid[], mtf_1[], mtf_2[], mtf_3[], mtf_4[], guest_iret[],
    after_iret[];
__asm__(".text\n"
        "guest_nops:\n" /* one-cycle instructions only: a timer exit is exactly at its expiry */
        "    .rept 64\n nop\n .endr\n"
        "    jmp guest_nops\n"
        "guest_hlt:\n"
        "    hlt\n"
        "    jmp guest_hlt\n"
        "guest_cpuid:\n"
        "    nop\n"
        "    nop\n"
        "    cpuid\n"
        "    jmp guest_nops\n"
        "mtf_1: xor %eax, %eax\n"
        "mtf_2: inc %eax\n"
        "mtf_3: lea 5(%rax), %ebx\n"
        "mtf_4: cpuid\n"
        "guest_iret:\n"
        "    iretq\n"
        "after_iret:\n"
        "    jmp guest_nops\n");
static uint8_t guest_stack[8192] __attribute__((aligned(16)));

#define PIN_NMI_EXITING (1u << 3)
#define PIN_VIRTUAL_NMIS (1u << 5)
#define PIN_TIMER (1u << 6)
#define PROC_NMI_WINDOW (1u << 22)
#define PROC_MTF (1u << 27)
#define EXIT_SAVE_TIMER (1u << 22)
#define EXIT_HOST64 (1u << 9)
#define ENTRY_IA32E (1u << 9)
#define SLACK 1000 /* TSC ticks a VM entry or exit may take here, at most */

static unsigned rate;

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

static void controls(uint32_t pin, uint32_t proc, uint32_t exit)
{
    vmcs_setup_controls(pin, proc, 0, EXIT_HOST64 | exit, ENTRY_IA32E);
}

/* Enter at rip (VMRESUME after the first time); returns the exit reason. */
static int launched;
static uint64_t enter_at(const char *rip)
{
    w(VMCS_GUEST_RIP, (uint64_t)rip);
    CHECK_EQ(vm_enter(!launched), VMX_OK);
    launched = 1;
    return rd(VMCS_VM_EXIT_REASON);
}

/* The timer with value v: the exit comes after the timer's TSC, which lies
 * between what the TSC before the entry and the TSC at the entry give. */
static void timer_run(uint32_t v, bool save)
{
    controls(PIN_TIMER, 0, save ? EXIT_SAVE_TIMER : 0);
    w(VMCS_VMX_PREEMPTION_TIMER_VALUE, v);
    uint64_t t0 = rdtsc();
    uint64_t reason = enter_at(guest_nops);
    uint64_t t1 = rdtsc();
    CHECK_EQ(reason, 52);
    uint64_t earliest = ((t0 >> rate) + v) << rate, latest = (((t0 + SLACK) >> rate) + v) << rate;
    CHECK(t1 >= earliest);
    CHECK(t1 <= latest + SLACK);
    CHECK_EQ(rd(VMCS_VMX_PREEMPTION_TIMER_VALUE), save ? 0 : v);
    uint64_t rip = rd(VMCS_GUEST_RIP);
    CHECK(rip >= (uint64_t)guest_nops && rip <= (uint64_t)guest_nops + 64);
    if (v == 0) /* before the first guest instruction */
        CHECK_EQ(rip, (uint64_t)guest_nops);
}

static void test_timer(void)
{
    static const uint32_t values[] = { 0, 1, 2, 37, 1000 };
    for (unsigned k = 0; k < sizeof values / sizeof values[0]; k++)
        timer_run(values[k], k & 1);

    /* in HLT (RFLAGS.IF = 0: only the timer can end it) */
    controls(PIN_TIMER, 0, EXIT_SAVE_TIMER);
    w(VMCS_VMX_PREEMPTION_TIMER_VALUE, 300);
    uint64_t t0 = rdtsc();
    CHECK_EQ(enter_at(guest_hlt), 52);
    CHECK(rdtsc() >= ((t0 >> rate) + 300) << rate);
    CHECK_EQ(rd(VMCS_GUEST_ACTIVITY_STATE), 1);
    CHECK_EQ(rd(VMCS_GUEST_RIP), (uint64_t)guest_hlt + 1);
    CHECK_EQ(rd(VMCS_VMX_PREEMPTION_TIMER_VALUE), 0);
    w(VMCS_GUEST_ACTIVITY_STATE, 0);

    /* the count left at another exit, and resuming with it */
    const uint32_t v = 5000;
    w(VMCS_VMX_PREEMPTION_TIMER_VALUE, v);
    t0 = rdtsc();
    CHECK_EQ(enter_at(guest_cpuid), 10);
    uint64_t t1 = rdtsc();
    uint64_t left = rd(VMCS_VMX_PREEMPTION_TIMER_VALUE);
    CHECK(left <= v && left + ((t1 - t0) >> rate) + 1 >= v);
    CHECK_EQ(enter_at(guest_cpuid + 4), 52); /* past the CPUID */
    CHECK(rdtsc() >= ((t0 >> rate) + v) << rate);

    /* not saved: the field keeps what the host wrote */
    controls(PIN_TIMER, 0, 0);
    w(VMCS_VMX_PREEMPTION_TIMER_VALUE, v);
    CHECK_EQ(enter_at(guest_cpuid), 10);
    CHECK_EQ(rd(VMCS_VMX_PREEMPTION_TIMER_VALUE), v);

    /* saving needs the timer (27.2.1.2) */
    controls(0, 0, EXIT_SAVE_TIMER);
    w(VMCS_GUEST_RIP, (uint64_t)guest_nops);
    CHECK_EQ(vm_enter(0), VMX_FAIL_VALID);
    CHECK_EQ(vmx_error(), 7);
}

static void test_mtf(void)
{
    static char *const steps[] = { mtf_2, mtf_3, mtf_4 };
    controls(0, PROC_MTF, 0);
    CHECK_EQ(enter_at(mtf_1), 37);
    CHECK_EQ(rd(VMCS_GUEST_RIP), (uint64_t)mtf_2);
    for (unsigned k = 1; k < 3; k++) {
        CHECK_EQ(enter_at(steps[k - 1]), 37);
        CHECK_EQ(rd(VMCS_GUEST_RIP), (uint64_t)steps[k]);
    }
    CHECK_EQ(enter_at(mtf_4), 10); /* CPUID exits itself: no MTF exit after it */
}

static void test_nmi_window(void)
{
    /* an IRET frame back to after_iret on the guest stack */
    uint64_t *sp = (uint64_t *)(guest_stack + sizeof guest_stack) - 5;
    sp[0] = (uint64_t)after_iret;
    sp[1] = read_cs();
    sp[2] = 2;
    sp[3] = (uint64_t)(guest_stack + sizeof guest_stack);
    uint16_t ss;
    __asm__ volatile("mov %%ss, %0" : "=r"(ss));
    sp[4] = ss;
    w(VMCS_GUEST_RSP, (uint64_t)sp);
    controls(PIN_NMI_EXITING | PIN_VIRTUAL_NMIS, PROC_NMI_WINDOW, 0);
    w(VMCS_GUEST_INTERRUPTIBILITY_INFO, 8); /* virtual-NMI blocking */
    CHECK_EQ(enter_at(guest_iret), 8);
    CHECK_EQ(rd(VMCS_GUEST_RIP), (uint64_t)after_iret);
    CHECK_EQ(rd(VMCS_GUEST_INTERRUPTIBILITY_INFO) & 8, 0);
    CHECK_EQ(enter_at(guest_nops), 8); /* open: before the first instruction */
    CHECK_EQ(rd(VMCS_GUEST_RIP), (uint64_t)guest_nops);
    w(VMCS_GUEST_RSP, (uint64_t)(guest_stack + sizeof guest_stack));

    /* virtual NMIs need NMI exiting; NMI-window exiting needs virtual NMIs (27.2.1.1) */
    controls(PIN_VIRTUAL_NMIS, 0, 0);
    w(VMCS_GUEST_RIP, (uint64_t)guest_nops);
    CHECK_EQ(vm_enter(0), VMX_FAIL_VALID);
    CHECK_EQ(vmx_error(), 7);
    controls(PIN_NMI_EXITING, PROC_NMI_WINDOW, 0);
    CHECK_EQ(vm_enter(0), VMX_FAIL_VALID);
    CHECK_EQ(vmx_error(), 7);
}

static void test_pending_debug(void)
{
    controls(0, PROC_MTF, 0);
    w(VMCS_GUEST_RFLAGS, 2 | 1u << 8); /* TF */
    CHECK_EQ(enter_at(guest_nops), 37);
    CHECK_EQ(rd(VMCS_GUEST_PENDING_DBG_EXCEPTIONS), 1u << 14); /* BS, waiting behind MTF */
    uint64_t dr6;
    __asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
    controls(0, 0, 0);
    w(VMCS_EXCEPTION_BITMAP, 1u << 1);
    CHECK_EQ(enter_at(guest_nops + 1), 0);
    CHECK_EQ(rd(VMCS_VM_EXIT_INTR_INFO), 1u << 31 | 3 << 8 | 1);
    CHECK_EQ(rd(VMCS_EXIT_QUALIFICATION), 1u << 14);
    CHECK_EQ(rd(VMCS_GUEST_RIP), (uint64_t)guest_nops + 1);
    uint64_t dr6_after;
    __asm__ volatile("mov %%dr6, %0" : "=r"(dr6_after));
    CHECK_EQ(dr6_after, dr6);
    w(VMCS_GUEST_RFLAGS, 2);
    w(VMCS_EXCEPTION_BITMAP, 0);
    w(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
}

int test_main(const struct mb_info *mbi)
{
    vmx_start();
    /* IA32_VMX_MISC[4:0]: 5 on the model, or what --preemption-timer-rate set (rate=X) */
    rate = (unsigned)(rdmsr(0x485) & 0x1f);
    const char *p = (mbi->flags & 4) ? strstr((const char *)(uint64_t)mbi->cmdline, "rate=") : NULL;
    unsigned want = p ? 0 : 5;
    for (p = p ? p + 5 : ""; *p >= '0' && *p <= '9'; p++)
        want = want * 10 + (unsigned)(*p - '0');
    CHECK_EQ(rate, want);
    /* the controls are offered (allowed-1 halves of the TRUE capability MSRs) */
    CHECK_EQ((rdmsr(0x48d) >> 32) & (PIN_TIMER | PIN_VIRTUAL_NMIS), PIN_TIMER | PIN_VIRTUAL_NMIS);
    CHECK_EQ((rdmsr(0x48e) >> 32) & (PROC_MTF | PROC_NMI_WINDOW), PROC_MTF | PROC_NMI_WINDOW);
    CHECK_EQ((rdmsr(0x48f) >> 32) & EXIT_SAVE_TIMER, EXIT_SAVE_TIMER);
    vmcs_setup_guest64((uint64_t)guest_nops, (uint64_t)guest_stack + sizeof guest_stack);
    printf("VMX-preemption timer rate %u\n", rate);
    test_timer();
    test_mtf();
    test_nmi_window();
    test_pending_debug();
    CHECK_EQ(vmx_off(), VMX_OK);
    return check_result();
}
