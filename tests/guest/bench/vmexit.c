/* vmexit.c - the VM-exit bench (issue 4), a hypervisor kernel booted with
 * --cpu skylake-server-vmx: it launches a minimal 64-bit guest whose code is a
 * loop of CPUID, and each CPUID exits (always, in VMX non-root operation); the
 * host handler moves the guest's RIP past it by the VM-exit instruction length
 * and VMRESUMEs. After N round trips ("rounds=N" on the command line, default
 * 100000) the guest does HLT, which exits too ("HLT exiting" is on); the kernel
 * prints "rounds N" and ends with status 0. bench.sh divides N by the host
 * seconds of --stats. No VPID unless "vpid" is on the command line (then VPID 1:
 * the guest's and the host's TLB contexts survive the round trips). With
 * "timer" on the command line the preemption timer is armed at every entry;
 * with "ept" the guest runs on an identity EPT (guest-physical 0-4G). */
#include "guest.h"
#include "vmxlib.h"
#include "../vmx_run.h"

/* The guest: the round-trip count lives in memory (vm_enter does not carry
 * the guest's general registers over an exit, and this host does not need to),
 * so the loop is five instructions, one of them the exiting CPUID. */
extern char guest_main[], guest_hlt[];
volatile uint64_t guest_left;
__asm__(".text\n"
        "guest_main:\n"
        "    xor %ecx, %ecx\n"
        "    xor %eax, %eax\n"
        "    cpuid\n"                        /* exit 10 */
        "    decq guest_left(%rip)\n"
        "    jnz guest_main\n"
        "guest_hlt:\n"
        "    hlt\n");                        /* exit 12: the end */
static uint8_t guest_stack[4096] __attribute__((aligned(16)));

static unsigned rounds_from(const struct mb_info *mbi)
{
    if (!(mbi->flags & 0x4))
        return 100000;
    const char *p = strstr((const char *)(uint64_t)mbi->cmdline, "rounds=");
    if (!p)
        return 100000;
    unsigned n = 0;
    for (p += 7; *p >= '0' && *p <= '9'; p++)
        n = n * 10 + (unsigned)(*p - '0');
    return n ? n : 1;
}

int test_main(const struct mb_info *mbi)
{
    unsigned rounds = rounds_from(mbi);
    vmx_lib_init();
    if (!vmx_cpuid()) {
        printf("no VMX on this CPU model: run with --cpu skylake-server-vmx\n");
        return 1;
    }
    vmx_prepare_cpu();
    CHECK_EQ(vmx_on((uint64_t)vmx_region()), VMX_OK);
    uint64_t vmcs = (uint64_t)vmx_region();
    CHECK_EQ(vmx_clear(vmcs), VMX_OK);
    CHECK_EQ(vmx_ptrld(vmcs), VMX_OK);
    vmcs_setup_host(0, 0); /* RSP and RIP: vm_enter writes them */
    vmcs_setup_guest64((uint64_t)guest_main, (uint64_t)guest_stack + sizeof guest_stack);
    /* HLT exiting; 64-bit host after exits, IA-32e guest at entry. "timer" on the
     * command line: every entry also arms the VMX-preemption timer (pin-based
     * bit 6) with a value that never expires here, to show what an armed timer
     * costs a round trip. */
    bool timer = (mbi->flags & 0x4) && strstr((const char *)(uint64_t)mbi->cmdline, "timer");
    bool vpid = (mbi->flags & 0x4) && strstr((const char *)(uint64_t)mbi->cmdline, "vpid");
    bool ept = (mbi->flags & 0x4) && strstr((const char *)(uint64_t)mbi->cmdline, "ept");
    uint32_t proc2 = (vpid ? 1u << 5 : 0) | (ept ? 1u << 1 : 0);
    vmcs_setup_controls(timer ? 1u << 6 : 0, 1u << 7 | (proc2 ? 1u << 31 : 0), proc2, 1u << 9, 1u << 9);
    vmx_write(VMCS_VIRTUAL_PROCESSOR_ID, 1);
    if (ept)
        vmx_write(VMCS_EPT_POINTER, ept_pointer(ept_identity(), false));
    vmx_write(VMCS_VMX_PREEMPTION_TIMER_VALUE, 0xffffffffu);
    if (checks_failed)
        return check_result();

    /* The run loop, as a hypervisor's: enter, read the reason, step over the
     * exiting instruction, resume. Plain VMREADs (no CHECK) keep the host's
     * share of a round trip to what a real handler does. */
    guest_left = rounds;
    unsigned cpuid_exits = 0;
    uint64_t reason = 0, rip = 0, len = 0;
    for (int launch = 1;; launch = 0) {
        if (vm_enter(launch) != VMX_OK) {
            printf("%s failed: VM-instruction error %lu\n", launch ? "VMLAUNCH" : "VMRESUME", vmx_error());
            return 2;
        }
        vmx_read(VMCS_VM_EXIT_REASON, &reason);
        if (reason != 10)
            break;
        vmx_read(VMCS_GUEST_RIP, &rip);
        vmx_read(VMCS_VM_EXIT_INSTRUCTION_LEN, &len);
        vmx_write(VMCS_GUEST_RIP, rip + len);
        cpuid_exits++;
    }
    CHECK_EQ(reason, 12);
    CHECK_EQ(rd(VMCS_GUEST_RIP), (uint64_t)guest_hlt);
    CHECK_EQ(cpuid_exits, rounds);
    CHECK_EQ(len, 2); /* CPUID is 0F A2 */
    CHECK_EQ(guest_left, 0);
    CHECK_EQ(vmx_off(), VMX_OK);
    printf("rounds %u\n", cpuid_exits);
    return check_result();
}
