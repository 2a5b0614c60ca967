/* vmx_exit_bitmaps.c - a hypervisor kernel, booted with --cpu skylake-server-vmx,
 * runs a 64-bit guest through the bitmaps of VMX non-root operation (SDM Vol.
 * 3C 25.6 "VM-Execution Control Fields", 26.1.3 "Instructions That Cause VM
 * Exits Conditionally", 26.2 "Other Causes of VM Exits"): RDMSR/WRMSR exit
 * only where the MSR bitmaps say so, I/O only where the I/O bitmaps do, INT3
 * and a write #PF exit through the exception bitmap and the #PF error-code
 * mask/match (a read #PF goes to the guest), MOV to CR3 of a CR3-target value
 * does not exit while MOV from CR3 does, and RDTSC reads the TSC plus the TSC
 * offset. Each exit is checked and the guest resumed after the instruction. */
#include "guest.h"
#include "vmxlib.h"
#include "vmx_run.h"

#define BAD_ADDR 0x7f0000000000ull /* not mapped by the kernel's page tables */

extern char guest_main[], guest_pf_read[], guest_pf_write[], guest_after_pf[];
__asm__(".text\n"
        "guest_main:\n"
        "    mov $0x174, %ecx\n rdmsr\n"           /* bitmap clear: no exit */
        "    mov $0x175, %ecx\n rdmsr\n"           /* exit 31 */
        "    mov $0xc0000080, %ecx\n rdmsr\n wrmsr\n" /* read: no exit; write: exit 32 */
        "    out %al, $0x80\n"                     /* no exit */
        "    mov $0x3f9, %dx\n in %dx, %al\n"      /* exit 30 */
        "    int3\n"                               /* exit 0, software exception */
        "guest_pf_read:\n"
        "    movabs 0x7f0000000000, %al\n"        /* #PF to the guest's handler */
        "guest_pf_write:\n"
        "    movabs %al, 0x7f0000000000\n"        /* exit 0, #PF */
        "guest_after_pf:\n"
        "    mov guest_cr3(%rip), %rax\n"
        "    mov %rax, %cr3\n"                     /* a CR3-target value: no exit */
        "    mov %cr3, %rax\n"                     /* exit 28, CR3-store exiting */
        "    rdtsc\n"
        "    vmcall\n");

static uint8_t guest_stack[8192] __attribute__((aligned(16)));
uint64_t guest_cr3; /* the kernel's CR3, which the guest shares: the CR3-target value */

/* Resume (or launch) and expect exit `reason` at an instruction of length len, then skip it. */
static void next_exit(int launch, uint32_t reason, uint32_t len)
{
    CHECK_EQ(vm_enter(launch), VMX_OK);
    CHECK_EQ(rd(VMCS_VM_EXIT_REASON), reason);
    if (len) {
        CHECK_EQ(rd(VMCS_VM_EXIT_INSTRUCTION_LEN), len);
        w(VMCS_GUEST_RIP, rd(VMCS_GUEST_RIP) + len);
    }
}

/* The guest's #PF handler: the read fault lands here; it skips the faulting
 * MOVABS (its address is the guest_pf_read label) by returning to the next one. */
static volatile uint64_t guest_pf_err, guest_pf_addr;
static void guest_pf(struct trap_frame *f)
{
    guest_pf_err = f->err;
    guest_pf_addr = READ_CR(2);
    f->rip = (uint64_t)guest_pf_write;
}

int test_main(const struct mb_info *mbi)
{
    vmx_lib_init();
    vmx_prepare_cpu();
    uint64_t vmxon_region = (uint64_t)vmx_region(), vmcs = (uint64_t)vmx_region();
    uint8_t *msr_bitmap = vmx_page(), *io_a = vmx_page(), *io_b = vmx_page();
    CHECK_EQ(vmx_on(vmxon_region), VMX_OK);
    CHECK_EQ(vmx_clear(vmcs), VMX_OK);
    CHECK_EQ(vmx_ptrld(vmcs), VMX_OK);
    vmcs_setup_host(0, 0);
    vmcs_setup_guest64((uint64_t)guest_main, (uint64_t)guest_stack + sizeof guest_stack);
    /* TSC offsetting, CR3-load/store exiting, I/O bitmaps, MSR bitmaps; 64-bit host and guest */
    vmcs_setup_controls(0, 1u << 3 | 1u << 15 | 1u << 16 | 1u << 25 | 1u << 28, 0, 1u << 9, 1u << 9);
    msr_bitmap[0x175 / 8] |= 1 << (0x175 & 7);                 /* read-low: IA32_SYSENTER_ESP */
    msr_bitmap[0xc00 + 0x80 / 8] |= 1 << (0x80 & 7);           /* write-high: IA32_EFER */
    io_a[0x3f9 / 8] |= 1 << (0x3f9 & 7);
    w(VMCS_MSR_BITMAP, (uint64_t)msr_bitmap);
    w(VMCS_IO_BITMAP_A, (uint64_t)io_a);
    w(VMCS_IO_BITMAP_B, (uint64_t)io_b);
    w(VMCS_EXCEPTION_BITMAP, 1u << 3 | 1u << 14);
    w(VMCS_PAGE_FAULT_ERROR_CODE_MASK, 2);  /* W */
    w(VMCS_PAGE_FAULT_ERROR_CODE_MATCH, 2); /* only write faults exit */
    w(VMCS_CR3_TARGET_COUNT, 1);
    guest_cr3 = READ_CR(3);
    w(VMCS_CR3_TARGET_VALUE0, guest_cr3);
    w(VMCS_TSC_OFFSET, 1ull << 40);
    set_trap_handler(14, guest_pf);

    next_exit(1, 31, 2); /* RDMSR 175H */
    CHECK_EQ(gregs.rcx, 0x175);
    next_exit(0, 32, 2); /* WRMSR IA32_EFER */
    CHECK_EQ(gregs.rcx, 0xc0000080);
    next_exit(0, 30, 1); /* IN AL, DX: port 3F9H */
    CHECK_EQ(rd(VMCS_EXIT_QUALIFICATION), 0x3f9ull << 16 | 1 << 3);
    next_exit(0, 0, 1);  /* INT3 */
    CHECK_EQ(rd(VMCS_VM_EXIT_INTR_INFO), 1u << 31 | 6 << 8 | 3);
    next_exit(0, 0, 0);  /* the write #PF; the read one went to the guest */
    CHECK_EQ(rd(VMCS_VM_EXIT_INTR_INFO), 1u << 31 | 1 << 11 | 3 << 8 | 14);
    CHECK_EQ(rd(VMCS_VM_EXIT_INTR_ERROR_CODE) & 2, 2);
    CHECK_EQ(rd(VMCS_EXIT_QUALIFICATION), BAD_ADDR);
    CHECK_EQ(rd(VMCS_GUEST_RIP), (uint64_t)guest_pf_write);
    CHECK_EQ(guest_pf_err & 2, 0);
    CHECK_EQ(guest_pf_addr, BAD_ADDR);
    w(VMCS_GUEST_RIP, (uint64_t)guest_after_pf);
    next_exit(0, 28, 3); /* MOV RAX, CR3 after MOV CR3, RAX of a target value */
    CHECK_EQ(rd(VMCS_EXIT_QUALIFICATION), 3 | 1 << 4);
    uint64_t before;
    __asm__ volatile("rdtsc; shl $32, %%rdx; or %%rdx, %%rax" : "=a"(before) : : "rdx");
    next_exit(0, 18, 3); /* VMCALL, after RDTSC ran in the guest */
    uint64_t guest_tsc = (uint32_t)gregs.rax | gregs.rdx << 32;
    CHECK(guest_tsc > before + (1ull << 40));
    CHECK(guest_tsc < before + (1ull << 40) + 10000000);
    CHECK_EQ(vmx_off(), VMX_OK);
    return check_result();
}
