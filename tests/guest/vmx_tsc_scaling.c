/* vmx_tsc_scaling.c - a hypervisor kernel, booted with --cpu skylake-server-vmx:
 * what RDTSC, RDTSCP and RDMSR IA32_TIME_STAMP_COUNTER return in VMX non-root
 * operation with "use TSC offsetting" and "use TSC scaling" (SDM Vol. 3C
 * "Changes to Instruction Behavior in VMX Non-Root Operation", RDTSC: the TSC
 * times the TSC multiplier as a 128-bit product, shifted right by 48, plus the
 * TSC offset; "Timestamp-Counter Scaling"). Scaling without offsetting does
 * nothing. Each reading must lie between the scaled host TSC read just before
 * the VM entry and just after the VM exit. */
#include "guest.h"
#include "vmxlib.h"
#include "vmx_run.h"

#define PROC_TSC_OFFSETTING (1u << 3)
#define PROC_MSR_BITMAPS (1u << 28) /* with an empty bitmap: RDMSR does not exit */
#define PROC2_RDTSCP (1u << 3)
#define PROC2_TSC_SCALING (1u << 25)

extern char guest_main[];
__asm__(".text\n"
        "guest_main:\n"
        "    rdtsc\n vmcall\n"                 /* exit 18: RDX:RAX */
        "    rdtscp\n vmcall\n"
        "    mov $0x10, %ecx\n rdmsr\n vmcall\n"
        "    jmp guest_main\n");
static uint8_t guest_stack[4096] __attribute__((aligned(16)));

static uint64_t host_tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* (tsc * mult) >> 48, the low 64 bits of it */
static uint64_t scale(uint64_t tsc, uint64_t mult)
{
    return (uint64_t)(((unsigned __int128)tsc * mult) >> 48);
}

/* Three readings (RDTSC, RDTSCP, RDMSR) with these controls, each checked
 * against the window [f(before), f(after)] of the expected function f. */
static void readings(uint32_t proc, uint32_t proc2, uint64_t mult, uint64_t offset, int scaled, int offsetted)
{
    vmcs_setup_controls(0, proc | PROC_MSR_BITMAPS | 1u << 31, proc2 | PROC2_RDTSCP, 1u << 9, 1u << 9);
    w(VMCS_TSC_MULTIPLIER, mult);
    w(VMCS_TSC_OFFSET, offset);
    w(VMCS_GUEST_RIP, (uint64_t)guest_main);
    static int launched;
    for (int k = 0; k < 3; k++) {
        uint64_t before = host_tsc();
        CHECK_EQ(vm_enter(!launched), VMX_OK);
        uint64_t after = host_tsc();
        launched = 1;
        CHECK_EQ(rd(VMCS_VM_EXIT_REASON), 18);
        w(VMCS_GUEST_RIP, rd(VMCS_GUEST_RIP) + 3);
        uint64_t g = (uint32_t)gregs.rax | gregs.rdx << 32;
        uint64_t lo = scaled ? scale(before, mult) : before, hi = scaled ? scale(after, mult) : after;
        if (offsetted) {
            lo += offset;
            hi += offset;
        }
        printf("reading %d: %lx in [%lx, %lx]\n", k, g, lo, hi);
        CHECK(g >= lo && g <= hi);
    }
}

int test_main(const struct mb_info *mbi)
{
    vmx_start();
    /* the capability: "use TSC scaling" may be 1 (IA32_VMX_PROCBASED_CTLS2[57]) */
    CHECK_EQ((rdmsr(0x48b) >> 32) & PROC2_TSC_SCALING, PROC2_TSC_SCALING);
    vmcs_setup_guest64((uint64_t)guest_main, (uint64_t)guest_stack + sizeof guest_stack);
    w(VMCS_MSR_BITMAP, (uint64_t)vmx_page());
    /* x2.5, minus an offset: the guest's TSC runs faster and starts lower */
    uint64_t mult = 5ull << 47, offset = (uint64_t)-(1ll << 20);
    readings(PROC_TSC_OFFSETTING, PROC2_TSC_SCALING, mult, offset, 1, 1);
    /* x1/4 */
    readings(PROC_TSC_OFFSETTING, PROC2_TSC_SCALING, 1ull << 46, 12345, 1, 1);
    /* offsetting only: the multiplier is ignored */
    readings(PROC_TSC_OFFSETTING, 0, mult, offset, 0, 1);
    /* scaling without offsetting: neither applies */
    readings(0, PROC2_TSC_SCALING, mult, offset, 0, 0);
    CHECK_EQ(vmx_off(), VMX_OK);
    return check_result();
}
