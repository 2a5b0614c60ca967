/* vmx_init_apic.c - a hypervisor kernel, booted with --cpu skylake-server-vmx,
 * launches a guest that sends an INIT IPI to its own local APIC. In VMX
 * non-root operation INIT is a VM exit (SDM Vol. 3C 26.2 "Other Causes of VM
 * Exits", reason 3) and changes nothing else: the host finds its local APIC
 * as it left it (TPR, CR8, spurious-interrupt vector register, LVT timer),
 * not reset as an INIT that took effect would leave it ("Local APIC State
 * After an INIT Reset"). */
#include "guest.h"
#include "vmxlib.h"
#include "vmx_run.h"

#define APIC 0xfee00000ull
static volatile uint32_t *apic(uint32_t off) { return (volatile uint32_t *)(APIC + off); }

extern char guest_init[], init_after[];
__asm__(".text\n"
        "guest_init:\n"
        "    mov $0xfee00300, %eax\n"
        "    movl $0x4500, (%rax)\n"   /* ICR low: INIT, assert; ICR high names this APIC */
        "init_after: hlt\n");

static uint8_t guest_stack[4096] __attribute__((aligned(16)));

int test_main(const struct mb_info *mbi)
{
    vmx_start();
    vmcs_setup_guest64((uint64_t)guest_init, (uint64_t)guest_stack + sizeof guest_stack);
    vmcs_setup_controls(0, 0, 0, 1u << 9, 1u << 9);
    *apic(0xf0) = 0x1ff;                        /* SVR: software-enabled, spurious vector FFH */
    *apic(0x80) = 0x20;                         /* TPR */
    *apic(0x320) = 0x30;                        /* LVT timer: unmasked, vector 30H, one-shot, count 0 */
    *apic(0x310) = *apic(0x20) & 0xff000000u;   /* ICR high: this APIC's ID */

    CHECK_EQ(vm_enter(1), VMX_OK);
    CHECK_EQ(rd(VMCS_VM_EXIT_REASON), 3);
    CHECK_EQ(rd(VMCS_GUEST_RIP), (uint64_t)init_after);
    CHECK_EQ(*apic(0x80), 0x20);
    CHECK_EQ(READ_CR(8), 2);
    CHECK_EQ(*apic(0xf0), 0x1ff);
    CHECK_EQ(*apic(0x320), 0x30);
    CHECK_EQ(vmx_off(), VMX_OK);
    return check_result();
}
