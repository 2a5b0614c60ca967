/* vmx_entry_exit.c - a hypervisor kernel, booted with --cpu skylake-server-vmx,
 * launches a 64-bit guest that shares its segments and page tables (SDM Vol.
 * 3C chapters 26-28): the guest's CPUID, HLT, OUT and VMCALL exit with their
 * reasons, lengths and qualifications and are resumed; CR0/CR4 reads see the
 * read shadows; VMLAUNCH of a launched VMCS fails with error 4; one broken
 * check per class gives VMfailValid 7 (controls), 8 (host state), exit 33
 * with qualification 0 (guest state) and 4 (VMCS link pointer), exit 34 with
 * the index of the bad MSR-load entry; then events of each type are injected
 * and the guest's handlers see them with the right frame. */
#include "guest.h"
#include "vmxlib.h"
#include "vmx_run.h"

/* The guest: each instruction is one exit the host expects in this order. */
extern char guest_main[], guest_idle[];
__asm__(".text\n"
        "guest_main:\n"
        "    cpuid\n"
        "    hlt\n"
        "    out %al, $0x80\n"
        "    mov %cr0, %rax\n"
        "    mov %cr4, %rbx\n"
        "    vmcall\n"
        "guest_idle:\n"
        "    vmcall\n"
        "    jmp guest_idle\n");

static uint8_t guest_stack[8192] __attribute__((aligned(16)));
#define GUEST_RSP ((uint64_t)guest_stack + sizeof guest_stack)

/* The exit the guest's next instruction must cause; then RIP past it. */
static void expect_exit(uint32_t reason, uint32_t len, uint64_t qual)
{
    CHECK_EQ(rd(VMCS_VM_EXIT_REASON), reason);
    CHECK_EQ(rd(VMCS_VM_EXIT_INSTRUCTION_LEN), len);
    CHECK_EQ(rd(VMCS_EXIT_QUALIFICATION), qual);
    w(VMCS_GUEST_RIP, rd(VMCS_GUEST_RIP) + len);
}

static void exits(void)
{
    CHECK_EQ(vm_enter(1), VMX_OK);
    CHECK_EQ(rd(VMCS_GUEST_RIP), (uint64_t)guest_main);
    expect_exit(10, 2, 0); /* CPUID */
    CHECK_EQ(vm_enter(0), VMX_OK);
    expect_exit(12, 1, 0); /* HLT */
    CHECK_EQ(vm_enter(0), VMX_OK);
    expect_exit(30, 2, 0x80u << 16 | 1 << 6); /* OUT 80H, AL: 1 byte, immediate port */
    CHECK_EQ(vm_enter(0), VMX_OK);
    expect_exit(18, 3, 0); /* VMCALL after MOV from CR0/CR4 */
    CHECK_EQ(gregs.rax & (CR0_NE | 1), 1);   /* NE is the host's and reads 0 from the shadow */
    CHECK_EQ(gregs.rbx & CR4_VMXE, 0);       /* VMXE likewise */
    CHECK_EQ(READ_CR(0) & CR0_NE, CR0_NE);
    CHECK_EQ(vm_enter(1), VMX_FAIL_VALID);    /* VMLAUNCH of a launched VMCS */
    CHECK_EQ(vmx_error(), 4);
}

/* One broken check per class; each is repaired before the next. */
static void entry_failures(uint64_t msr_page, uint64_t other_region)
{
    uint64_t v = rd(VMCS_PIN_BASED_VM_EXEC_CONTROL);
    w(VMCS_PIN_BASED_VM_EXEC_CONTROL, v | 1u << 31); /* a reserved control */
    CHECK_EQ(vm_enter(0), VMX_FAIL_VALID);
    CHECK_EQ(vmx_error(), 7);
    w(VMCS_PIN_BASED_VM_EXEC_CONTROL, v);

    v = rd(VMCS_HOST_TR_SELECTOR);
    w(VMCS_HOST_TR_SELECTOR, 0);
    CHECK_EQ(vm_enter(0), VMX_FAIL_VALID);
    CHECK_EQ(vmx_error(), 8);
    w(VMCS_HOST_TR_SELECTOR, v);

    w(VMCS_GUEST_RFLAGS, 0); /* bit 1 must be 1 */
    CHECK_EQ(vm_enter(0), VMX_OK);
    CHECK_EQ(rd(VMCS_VM_EXIT_REASON), 1u << 31 | 33);
    CHECK_EQ(rd(VMCS_EXIT_QUALIFICATION), 0);
    w(VMCS_GUEST_RFLAGS, 2);

    w(VMCS_VMCS_LINK_POINTER, other_region + 8); /* not 4-KByte aligned */
    CHECK_EQ(vm_enter(0), VMX_OK);
    CHECK_EQ(rd(VMCS_VM_EXIT_REASON), 1u << 31 | 33);
    CHECK_EQ(rd(VMCS_EXIT_QUALIFICATION), 4);
    w(VMCS_VMCS_LINK_POINTER, ~0ull);

    uint64_t *e = (uint64_t *)msr_page;
    e[0] = 0x175, e[1] = 0x1234;           /* IA32_SYSENTER_ESP */
    e[2] = 0xc0000100, e[3] = 0;           /* IA32_FS_BASE may not be loaded */
    w(VMCS_VM_ENTRY_MSR_LOAD_ADDR, msr_page);
    w(VMCS_VM_ENTRY_MSR_LOAD_COUNT, 2);
    CHECK_EQ(vm_enter(0), VMX_OK);
    CHECK_EQ(rd(VMCS_VM_EXIT_REASON), 1u << 31 | 34);
    CHECK_EQ(rd(VMCS_EXIT_QUALIFICATION), 2);
    w(VMCS_VM_ENTRY_MSR_LOAD_COUNT, 1);
    CHECK_EQ(vm_enter(0), VMX_OK); /* now it loads, and the guest's VMCALL exits */
    CHECK_EQ(rd(VMCS_VM_EXIT_REASON), 18);
    w(VMCS_VM_ENTRY_MSR_LOAD_COUNT, 0);
}

/* ---- injection: the guest's handler records the event and exits with VMCALL ---- */
static volatile uint64_t seen_vec, seen_err, seen_rip;
static void guest_handler(struct trap_frame *f)
{
    seen_vec = f->vec;
    seen_err = f->err;
    seen_rip = f->rip;
    __asm__ volatile("vmcall");
}

static void inject(uint32_t info, uint32_t err, uint32_t len, uint64_t rflags)
{
    seen_vec = seen_err = seen_rip = 0xdead;
    w(VMCS_GUEST_RIP, (uint64_t)guest_idle);
    w(VMCS_GUEST_RSP, GUEST_RSP);
    w(VMCS_GUEST_RFLAGS, rflags);
    w(VMCS_VM_ENTRY_INTR_INFO_FIELD, info);
    w(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, err);
    w(VMCS_VM_ENTRY_INSTRUCTION_LEN, len);
    CHECK_EQ(vm_enter(0), VMX_OK);
    CHECK_EQ(rd(VMCS_VM_EXIT_REASON), 18);
    CHECK_EQ(rd(VMCS_VM_ENTRY_INTR_INFO_FIELD) >> 31, 0); /* the exit cleared the valid bit */
}

static void injection(void)
{
    static const int vecs[] = { 2, 3, 12, 0x40, 0x80 };
    for (unsigned k = 0; k < sizeof vecs / sizeof vecs[0]; k++)
        set_trap_handler(vecs[k], guest_handler);
    inject(1u << 31 | 0 << 8 | 0x40, 0, 0, 0x202); /* external interrupt */
    CHECK_EQ(seen_vec, 0x40);
    CHECK_EQ(seen_rip, (uint64_t)guest_idle);
    inject(1u << 31 | 2 << 8 | 2, 0, 0, 2); /* NMI */
    CHECK_EQ(seen_vec, 2);
    inject(1u << 31 | 3 << 8 | 1 << 11 | 12, 0x18, 0, 2); /* #SS with error code */
    CHECK_EQ(seen_vec, 12);
    CHECK_EQ(seen_err, 0x18);
    CHECK_EQ(seen_rip, (uint64_t)guest_idle);
    inject(1u << 31 | 4 << 8 | 0x80, 0, 2, 2); /* INT 80H, 2 bytes */
    CHECK_EQ(seen_vec, 0x80);
    CHECK_EQ(seen_rip, (uint64_t)guest_idle + 2);
    inject(1u << 31 | 6 << 8 | 3, 0, 1, 2); /* INT3 */
    CHECK_EQ(seen_vec, 3);
    CHECK_EQ(seen_rip, (uint64_t)guest_idle + 1);
}

int test_main(const struct mb_info *mbi)
{
    vmx_lib_init();
    CHECK(vmx_cpuid());
    vmx_prepare_cpu();
    uint64_t vmxon_region = (uint64_t)vmx_region(), vmcs = (uint64_t)vmx_region();
    CHECK_EQ(vmx_on(vmxon_region), VMX_OK);
    CHECK_EQ(vmx_clear(vmcs), VMX_OK);
    CHECK_EQ(vmx_ptrld(vmcs), VMX_OK);
    vmcs_setup_host(0, 0); /* RIP and RSP: vm_enter writes them */
    vmcs_setup_guest64((uint64_t)guest_main, GUEST_RSP);
    vmcs_setup_controls(0, 1u << 7 | 1u << 24, 0, 1u << 9, 1u << 9); /* HLT, unconditional I/O; 64-bit */
    w(VMCS_CR0_GUEST_HOST_MASK, CR0_NE);
    w(VMCS_CR0_READ_SHADOW, 0);
    w(VMCS_CR4_GUEST_HOST_MASK, CR4_VMXE);
    w(VMCS_CR4_READ_SHADOW, 0);
    exits();
    entry_failures((uint64_t)vmx_page(), (uint64_t)vmx_region());
    vmcs_setup_controls(0, 0, 0, 1u << 9, 1u << 9); /* the handlers print nothing, but no I/O exits */
    injection();
    CHECK_EQ(vmx_off(), VMX_OK);
    return check_result();
}
