/* vmx_pause_loop.c - a hypervisor kernel, booted with --cpu skylake-server-vmx,
 * checks PAUSE-loop exiting (SDM Vol. 3C 26.1.3 "Instructions That Cause VM
 * Exits Conditionally", PAUSE; 25.6.13 "Controls for PAUSE-Loop Exiting"):
 * at CPL 0 a PAUSE more than PLE_Gap TSC ticks after the previous one starts
 * a new loop, and a PAUSE more than PLE_Window ticks after the first of its
 * loop exits (reason 40). A spin loop exits once the window has passed; PAUSEs
 * spaced wider than the gap never exit; with PLE_Window 0 the second PAUSE of a
 * loop exits, and the first PAUSE after a VM entry always starts a loop. */
#include "guest.h"
#include "vmxlib.h"
#include "vmx_run.h"

extern char guest_spin[], spin_pause[], guest_spaced[], spaced_call[], guest_w0[], w0_second[], w0_third[];
__asm__(".text\n"
        "guest_spin:\n"
        "    rdtsc\n"                   /* EDX:EAX: the loop's start, read by the host at the exit */
        "spin_pause: pause\n"
        "    jmp spin_pause\n"
        "guest_spaced:\n"
        "    mov $40, %esi\n"
        "1:  pause\n"
        "    mov $300, %ecx\n"          /* several hundred cycles between two PAUSEs */
        "2:  dec %ecx\n"
        "    jnz 2b\n"
        "    dec %esi\n"
        "    jnz 1b\n"
        "spaced_call: vmcall\n"
        "guest_w0:\n"
        "    pause\n"                   /* first of a loop: no exit */
        "w0_second: pause\n"            /* later than the first: more than 0 ticks, exits */
        "w0_third: pause\n"
        "    hlt\n");

static uint8_t guest_stack[4096] __attribute__((aligned(16)));

#define PROC2_PAUSE_LOOP_EXITING (1u << 10)

static uint64_t rdtsc64(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* Enter at rip (or where the guest is when rip is NULL) and expect exit `reason` at `at`. */
static void expect(int launch, const char *rip, uint32_t reason, const char *at)
{
    if (rip)
        w(VMCS_GUEST_RIP, (uint64_t)rip);
    CHECK_EQ(vm_enter(launch), VMX_OK);
    CHECK_EQ(rd(VMCS_VM_EXIT_REASON), reason);
    CHECK_EQ(rd(VMCS_GUEST_RIP), (uint64_t)at);
}

int test_main(const struct mb_info *mbi)
{
    /* the capability: IA32_VMX_PROCBASED_CTLS2[42] */
    CHECK_EQ((rdmsr(0x48b) >> 32) & PROC2_PAUSE_LOOP_EXITING, PROC2_PAUSE_LOOP_EXITING);
    vmx_start();
    vmcs_setup_guest64((uint64_t)guest_spin, (uint64_t)guest_stack + sizeof guest_stack);
    vmcs_setup_controls(0, 1u << 31, PROC2_PAUSE_LOOP_EXITING, 1u << 9, 1u << 9);
    w(VMCS_PLE_GAP, 128);
    w(VMCS_PLE_WINDOW, 4096);

    /* a spin loop: exits at its PAUSE once more than 4096 ticks passed since the first */
    expect(1, NULL, 40, spin_pause);
    uint64_t elapsed = rdtsc64() - ((uint32_t)gregs.rax | gregs.rdx << 32);
    CHECK(elapsed > 4096);
    CHECK(elapsed < 4096 + 2000);
    CHECK_EQ(rd(VMCS_VM_EXIT_INSTRUCTION_LEN), 2);
    CHECK_EQ(rd(VMCS_EXIT_QUALIFICATION), 0);
    /* PAUSEs further apart than PLE_Gap are each the first of a new loop: the VMCALL exits */
    expect(0, guest_spaced, 18, spaced_call);
    /* PLE_Window 0: the second PAUSE of a loop exits ... */
    w(VMCS_PLE_WINDOW, 0);
    expect(0, guest_w0, 40, w0_second);
    /* ... and after the VM entry it is the first of a new loop, so the next one exits */
    expect(0, NULL, 40, w0_third);
    CHECK_EQ(vmx_off(), VMX_OK);
    return check_result();
}
