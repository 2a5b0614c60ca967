/* vmx_monitor.c - a hypervisor kernel, booted with --cpu skylake-server-vmx,
 * checks MONITOR/MWAIT on the VMX model (CPUID.1:ECX.MONITOR, leaf 5's 64-byte
 * line, both usable in root operation) and their exits in VMX non-root
 * operation (SDM Vol. 3C 26.1.3 "Instructions That Cause VM Exits
 * Conditionally"): "MONITOR exiting" gives exit 39 (the monitor stays
 * disarmed), "MWAIT exiting" exit 36 whose qualification bit 0 says whether
 * the monitor was armed (28.2.1): armed by a MONITOR that ran, disarmed by a
 * store to the monitored line and by an MWAIT that ran. */
#include "guest.h"
#include "vmxlib.h"
#include "vmx_run.h"

uint8_t mon_line[64] __attribute__((aligned(64)));

/* The guest: the host expects one exit per label and resumes after it, changing the controls between phases.
 * The host's code runs between exits with the guest's general registers, so each MONITOR and MWAIT
 * loads its own operands (M: MONITOR of mon_line, W: MWAIT with no hints). */
#define M "lea mon_line(%rip), %rax\n xor %ecx, %ecx\n xor %edx, %edx\n"
#define W "xor %ecx, %ecx\n xor %eax, %eax\n"
extern char g_mon1[], g_mwait1[], g_mwait2[], g_mwait3[], g_call4[], g_mwait5[];
__asm__(".text\n"
        "guest_main:\n"
        M "g_mon1: monitor\n"       /* MONITOR exiting: exit 39 */
        W "g_mwait1: mwait\n"       /* exit 36, not armed (that MONITOR exited) */
        M "monitor\n"               /* now only MWAIT exits: this one arms */
        W "g_mwait2: mwait\n"       /* exit 36, armed */
        M "monitor\n"
        "incb mon_line+5(%rip)\n"   /* a store to the line triggers the monitor */
        W "g_mwait3: mwait\n"       /* exit 36, not armed */
        M "monitor\n"               /* no exiting at all: MWAIT runs and disarms */
        W "mwait\n"
        "g_call4: vmcall\n"
        W "g_mwait5: mwait\n"       /* MWAIT exiting again: not armed */
        "hlt\n");
extern char guest_main[];

static uint8_t guest_stack[4096] __attribute__((aligned(16)));

#define PROC_MWAIT_EXITING (1u << 10)
#define PROC_MONITOR_EXITING (1u << 29)

/* Set the primary controls, resume (or launch), expect exit `reason` at rip with qualification qual; skip it. */
static void expect(uint32_t proc, int launch, uint32_t reason, const char *rip, uint64_t qual)
{
    vmcs_setup_controls(0, proc, 0, 1u << 9, 1u << 9);
    CHECK_EQ(vm_enter(launch), VMX_OK);
    CHECK_EQ(rd(VMCS_VM_EXIT_REASON), reason);
    CHECK_EQ(rd(VMCS_GUEST_RIP), (uint64_t)rip);
    CHECK_EQ(rd(VMCS_EXIT_QUALIFICATION), qual);
    CHECK_EQ(rd(VMCS_VM_EXIT_INSTRUCTION_LEN), 3);
    w(VMCS_GUEST_RIP, (uint64_t)rip + 3);
}

int test_main(const struct mb_info *mbi)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    CHECK(r[2] & (1u << 3));       /* CPUID.1:ECX.MONITOR */
    cpuid(5, 0, r);
    CHECK_EQ(r[0], 64);            /* smallest and largest monitor line */
    CHECK_EQ(r[1], 64);
    CHECK(rdmsr(0x1a0) & (1u << 18)); /* IA32_MISC_ENABLE: MONITOR FSM */
    /* the capabilities: both exiting controls may be 1 (IA32_VMX_TRUE_PROCBASED_CTLS[63:32]) */
    CHECK_EQ((rdmsr(0x48e) >> 32) & (PROC_MWAIT_EXITING | PROC_MONITOR_EXITING),
             PROC_MWAIT_EXITING | PROC_MONITOR_EXITING);

    vmx_start();
    /* root operation: both run */
    __asm__ volatile("monitor; mwait" : : "a"(mon_line), "c"(0), "d"(0) : "memory");
    vmcs_setup_guest64((uint64_t)guest_main, (uint64_t)guest_stack + sizeof guest_stack);

    expect(PROC_MONITOR_EXITING | PROC_MWAIT_EXITING, 1, 39, g_mon1, 0);
    expect(PROC_MONITOR_EXITING | PROC_MWAIT_EXITING, 0, 36, g_mwait1, 0);
    expect(PROC_MWAIT_EXITING, 0, 36, g_mwait2, 1);
    expect(PROC_MWAIT_EXITING, 0, 36, g_mwait3, 0);
    CHECK_EQ(mon_line[5], 1);
    expect(0, 0, 18, g_call4, 0);
    expect(PROC_MWAIT_EXITING, 0, 36, g_mwait5, 0);
    CHECK_EQ(vmx_off(), VMX_OK);
    return check_result();
}
