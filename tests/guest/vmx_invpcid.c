/* vmx_invpcid.c - a hypervisor kernel, booted with --cpu skylake-server-vmx,
 * checks INVPCID in VMX non-root operation (SDM Vol. 3C 26.3 "Changes to
 * Instruction Behavior in VMX Non-Root Operation", 26.1.3 "Instructions That
 * Cause VM Exits Conditionally"): with "enable INVPCID" 0 it is #UD (seen
 * through the exception bitmap); with it 1 and "INVLPG exiting" 0 it runs in
 * the guest; with both 1 it exits (reason 58) with the displacement as the
 * qualification and the instruction information of 28.2.5 (scaling, address
 * size, segment, index, base and the type register); an invalid type still
 * exits (its #GP is the VMM's to raise). */
#include "guest.h"
#include "vmxlib.h"
#include "vmx_run.h"

extern char guest_main[], inv1[], call1[], inv2[];
__asm__(".text\n"
        "guest_main:\n"
        "    lea invpcid_desc(%rip), %rbx\n"
        "    xor %ecx, %ecx\n"
        "    mov $2, %r9d\n"
        "inv1: invpcid 0x10(%rbx,%rcx,4), %r9\n"  /* #UD, then runs, then exits */
        "call1: vmcall\n"
        "    mov $7, %r9d\n"
        "inv2: invpcid %fs:-8(%rbx), %r9\n"       /* invalid type: exits all the same */
        "    vmcall\n");

uint64_t invpcid_desc[4] __attribute__((aligned(16)));
static uint8_t guest_stack[8192] __attribute__((aligned(16)));

#define PROC_INVLPG_EXITING (1u << 9)
#define PROC_SECONDARY (1u << 31)
#define PROC2_ENABLE_INVPCID (1u << 12)

/* Restart the guest from the top with these controls; expect exit `reason` at rip. */
static void run(uint32_t proc, uint32_t proc2, int launch, uint32_t reason, const char *rip)
{
    vmcs_setup_controls(0, proc, proc2, 1u << 9, 1u << 9);
    w(VMCS_GUEST_RIP, (uint64_t)guest_main);
    CHECK_EQ(vm_enter(launch), VMX_OK);
    CHECK_EQ(rd(VMCS_VM_EXIT_REASON), reason);
    CHECK_EQ(rd(VMCS_GUEST_RIP), (uint64_t)rip);
}

int test_main(const struct mb_info *mbi)
{
    vmx_start();
    /* the capability: "enable INVPCID" may be 1 (IA32_VMX_PROCBASED_CTLS2[44]) */
    CHECK_EQ((rdmsr(0x48b) >> 32) & PROC2_ENABLE_INVPCID, PROC2_ENABLE_INVPCID);
    vmcs_setup_guest64((uint64_t)guest_main, (uint64_t)guest_stack + sizeof guest_stack);
    w(VMCS_EXCEPTION_BITMAP, 1u << 6);

    /* enable INVPCID = 0: #UD (exception 6, hardware exception, at the INVPCID) */
    run(PROC_INVLPG_EXITING | PROC_SECONDARY, 0, 1, 0, inv1);
    CHECK_EQ(rd(VMCS_VM_EXIT_INTR_INFO), 1u << 31 | 3 << 8 | 6);
    /* enable INVPCID = 1, INVLPG exiting = 0: it runs; the VMCALL after it exits */
    run(PROC_SECONDARY, PROC2_ENABLE_INVPCID, 0, 18, call1);
    /* both: exit 58 at the INVPCID */
    run(PROC_INVLPG_EXITING | PROC_SECONDARY, PROC2_ENABLE_INVPCID, 0, 58, inv1);
    CHECK_EQ(rd(VMCS_VM_EXIT_INSTRUCTION_LEN), 8);
    CHECK_EQ(rd(VMCS_EXIT_QUALIFICATION), 0x10);
    /* scaling 2 (x4), address size 2 (64-bit), segment 3 (DS), index 1 (RCX), base 3 (RBX), reg2 9 (R9) */
    CHECK_EQ(rd(VMCS_VMX_INSTRUCTION_INFO), 2 | 2u << 7 | 3u << 15 | 1u << 18 | 3u << 23 | 9u << 28);
    /* the second INVPCID: type 7, FS override, no index, displacement -8 */
    w(VMCS_GUEST_RIP, (uint64_t)call1 + 3);
    CHECK_EQ(vm_enter(0), VMX_OK);
    CHECK_EQ(rd(VMCS_VM_EXIT_REASON), 58);
    CHECK_EQ(rd(VMCS_GUEST_RIP), (uint64_t)inv2);
    CHECK_EQ(rd(VMCS_VM_EXIT_INSTRUCTION_LEN), 8);
    CHECK_EQ(rd(VMCS_EXIT_QUALIFICATION), (uint64_t)-8);
    CHECK_EQ(rd(VMCS_VMX_INSTRUCTION_INFO), 2u << 7 | 4u << 15 | 1u << 22 | 3u << 23 | 9u << 28);
    CHECK_EQ(vmx_off(), VMX_OK);
    return check_result();
}
