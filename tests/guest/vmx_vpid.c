/* vmx_vpid.c - a hypervisor kernel, booted with --cpu skylake-server-vmx, checks
 * VPIDs and INVVPID (SDM Vol. 3C "Virtual-Processor Identifiers (VPIDs)",
 * "Invalidating Cached Translation Information", "INVVPID"). Its guest shares
 * the kernel's page tables and reads linear page TEST_LA; the host then points
 * that page at another frame and, as a buggy hypervisor would, does not tell
 * the guest's VPID. With --tlb=strict (the default) the guest still reads the
 * old frame, exactly as long as the architecture lets the translation live;
 * with --tlb=permissive (-append tlb=permissive) it reads the new one at once.
 * Each INVVPID type then removes what it must and keeps what it may (a global
 * translation survives single-context-retaining-globals); root operation's own
 * translations survive VM entries and exits with VPID on; with "enable VPID" 0
 * every entry and exit invalidates. With EPT, a missing INVEPT leaves the guest
 * a stale combined translation the same way, and a stale guest-physical mapping
 * of the page holding its page table, which INVVPID does not remove but INVEPT
 * does (SDM Vol. 3C "Caching Translation Information"). Then every failure: VPID 0 at VM entry,
 * unsupported type, descriptor bits 63:16, VPID 0, a non-canonical address,
 * the VM exit in non-root operation (reason 53) and #UD outside VMX operation. */
#include "guest.h"
#include "vmxlib.h"
#include "vmx_run.h"

#define TEST_LA 0x40000000ull /* PDPT[1], PD entry 0: replaced by pt[] */
#define PTE_G 0x100
#define R_VMCALL 18
#define R_INVVPID 53
#define PROC_SECONDARY (1u << 31)
#define PROC2_ENABLE_EPT (1u << 1)
#define PROC2_ENABLE_VPID (1u << 5)
#define CR4_PGE 0x80
#define ERR_INVALID_CONTROL 7
#define ERR_INVALID_OPERAND 28

extern char guest_read[], guest_invvpid[];
__asm__(".text\n"
        "guest_read:\n"
        "    mov 0x40000000, %rax\n"
        "    vmcall\n"
        "guest_invvpid:\n"
        "    invvpid 0x40000000, %rcx\n"
        "    vmcall\n");

__attribute__((aligned(4096))) static volatile uint64_t pt[512];
__attribute__((aligned(4096))) static volatile uint64_t frames[2][512];
__attribute__((aligned(4096))) static volatile uint64_t pt_other[512]; /* pt, but TEST_LA -> frames[1] */
static uint8_t guest_stack[8192] __attribute__((aligned(16)));
static bool permissive;
static int launched;

/* Point TEST_LA at frame f (and make it global or not), telling only root operation's TLB. */
static void remap(int f, uint64_t global)
{
    pt[0] = (uint64_t)frames[f] | PTE_P | PTE_W | global;
    invlpg((void *)TEST_LA);
}

/* Run the guest's read of TEST_LA: the value it saw (the frame's first word). */
static uint64_t guest_reads(void)
{
    w(VMCS_GUEST_RIP, (uint64_t)guest_read);
    w(VMCS_GUEST_RSP, (uint64_t)guest_stack + sizeof guest_stack);
    CHECK_EQ(vm_enter(!launched), VMX_OK);
    launched = 1;
    CHECK_EQ(rd(VMCS_VM_EXIT_REASON), R_VMCALL);
    return gregs.rax;
}

/* What the guest must see after frame `fresh` replaced frame `stale` without an
 * invalidation: the stale one in strict mode, the fresh one in permissive mode. */
static uint64_t expect(int stale, int fresh)
{
    return frames[permissive ? fresh : stale][0];
}

static void vpid_controls(uint32_t proc2, uint16_t vpid)
{
    vmcs_setup_controls(0, PROC_SECONDARY, proc2, 1u << 9, 1u << 9);
    w(VMCS_VIRTUAL_PROCESSOR_ID, vpid);
}

int test_main(const struct mb_info *mbi)
{
    permissive = (mbi->flags & 4) && strstr((const char *)(uint64_t)mbi->cmdline, "tlb=permissive");
    printf("TLB mode expected: %s\n", permissive ? "permissive" : "strict");
    frames[0][0] = 0x1111;
    frames[1][0] = 0x2222;
    pd[512] = (uint64_t)pt | PTE_P | PTE_W;
    remap(0, 0);
    WRITE_CR(3, READ_CR(3));

    vmx_start();
    /* capabilities: "enable VPID" may be 1; INVVPID and its four types (IA32_VMX_EPT_VPID_CAP 32, 40-43) */
    CHECK_EQ((rdmsr(0x48b) >> 32) & PROC2_ENABLE_VPID, PROC2_ENABLE_VPID);
    CHECK_EQ((rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) >> 32) & 0xf01, 0xf01);
    vmcs_setup_guest64((uint64_t)guest_read, (uint64_t)guest_stack + sizeof guest_stack);
    w(VMCS_GUEST_CR4, rd(VMCS_GUEST_CR4) | CR4_PGE); /* the guest has global pages */

    /* VPID 0 with "enable VPID": VMfailValid(7) */
    vpid_controls(PROC2_ENABLE_VPID, 0);
    CHECK_EQ(vm_enter(1), VMX_FAIL_VALID);
    CHECK_EQ(vmx_error(), ERR_INVALID_CONTROL);

    /* VPID 1: the guest's translation of TEST_LA outlives the host's remapping */
    vpid_controls(PROC2_ENABLE_VPID, 1);
    CHECK_EQ(guest_reads(), 0x1111);
    remap(1, 0);
    CHECK_EQ(*(volatile uint64_t *)TEST_LA, 0x2222); /* root operation's INVLPG is for VPID 0 */
    CHECK_EQ(guest_reads(), expect(0, 1));
    CHECK_EQ(guest_reads(), expect(0, 1)); /* VM exits and entries do not end it either */
    /* individual-address: another address or another VPID changes nothing, then it goes */
    CHECK_EQ(vmx_invvpid(0, 1, TEST_LA + 0x1000), VMX_OK);
    CHECK_EQ(vmx_invvpid(0, 2, TEST_LA), VMX_OK);
    CHECK_EQ(guest_reads(), expect(0, 1));
    CHECK_EQ(vmx_invvpid(0, 1, TEST_LA + 0x123), VMX_OK);
    CHECK_EQ(guest_reads(), 0x2222);

    /* single-context */
    remap(0, 0);
    CHECK_EQ(guest_reads(), expect(1, 0));
    CHECK_EQ(vmx_invvpid(1, 2, 0), VMX_OK);
    CHECK_EQ(guest_reads(), expect(1, 0));
    CHECK_EQ(vmx_invvpid(1, 1, 0), VMX_OK);
    CHECK_EQ(guest_reads(), 0x1111);

    /* all-context (VPID field ignored) */
    remap(1, 0);
    CHECK_EQ(guest_reads(), expect(0, 1));
    CHECK_EQ(vmx_invvpid(2, 0, 0), VMX_OK);
    CHECK_EQ(guest_reads(), 0x2222);

    /* single-context-retaining-globals: a global translation may stay, and here does */
    remap(0, PTE_G);
    CHECK_EQ(vmx_invvpid(1, 1, 0), VMX_OK);
    CHECK_EQ(guest_reads(), 0x1111);
    remap(1, PTE_G);
    CHECK_EQ(vmx_invvpid(3, 1, 0), VMX_OK);
    CHECK_EQ(guest_reads(), expect(0, 1));
    CHECK_EQ(vmx_invvpid(1, 1, 0), VMX_OK); /* single-context takes globals too */
    CHECK_EQ(guest_reads(), 0x2222);
    remap(0, 0);
    CHECK_EQ(guest_reads(), expect(1, 0)); /* the cached translation is still the global one */
    CHECK_EQ(vmx_invvpid(1, 1, 0), VMX_OK);
    CHECK_EQ(guest_reads(), 0x1111);
    remap(1, 0);
    CHECK_EQ(vmx_invvpid(3, 1, 0), VMX_OK); /* retaining globals takes the non-global ones */
    CHECK_EQ(guest_reads(), 0x2222);

    /* root operation's translations survive VM entries and exits with VPID on */
    remap(0, 0);
    CHECK_EQ(*(volatile uint64_t *)TEST_LA, 0x1111);
    pt[0] = (uint64_t)frames[1] | PTE_P | PTE_W; /* no INVLPG */
    CHECK_EQ(vmx_invvpid(2, 0, 0), VMX_OK);       /* all-context leaves VPID 0 alone */
    guest_reads();
    CHECK_EQ(*(volatile uint64_t *)TEST_LA, expect(0, 1));
    invlpg((void *)TEST_LA);
    CHECK_EQ(*(volatile uint64_t *)TEST_LA, 0x2222);

    /* "enable VPID" 0: the guest is VPID 0 too, and every VM entry and exit
     * invalidates VPID 0's translations, so nothing is stale */
    vpid_controls(0, 1);
    CHECK_EQ(*(volatile uint64_t *)TEST_LA, 0x2222);
    pt[0] = (uint64_t)frames[0] | PTE_P | PTE_W; /* no INVLPG: the VM entry invalidates */
    CHECK_EQ(guest_reads(), 0x1111);
    pt[0] = (uint64_t)frames[1] | PTE_P | PTE_W; /* no INVLPG: the VM exit did */
    CHECK_EQ(*(volatile uint64_t *)TEST_LA, 0x2222);

    /* EPT with VPID: the guest's combined translation of TEST_LA outlives a change
     * of the EPT entry until INVEPT (single-context: that EPT root) */
    uint64_t *ept = ept_identity(), eptp = ept_pointer(ept, false);
    uint64_t *leaf = ept_entry(ept, (uint64_t)frames[0], 1);
    remap(0, 0);
    vpid_controls(PROC2_ENABLE_VPID | PROC2_ENABLE_EPT, 1);
    w(VMCS_EPT_POINTER, eptp);
    CHECK_EQ(guest_reads(), 0x1111);
    *leaf = (uint64_t)frames[1] | EPT_RWX | EPT_WB; /* guest-physical frames[0] -> host frames[1] */
    CHECK_EQ(guest_reads(), expect(0, 1));
    /* INVVPID all-context removes the combined mapping, but not the guest-physical
     * mapping of frames[0], through which the guest's next walk goes */
    CHECK_EQ(vmx_invvpid(2, 0, 0), VMX_OK);
    CHECK_EQ(guest_reads(), expect(0, 1));
    CHECK_EQ(vmx_invept(1, ept_pointer(ept_new(), false)), VMX_OK); /* another root: no effect */
    CHECK_EQ(guest_reads(), expect(0, 1));
    CHECK_EQ(vmx_invept(1, eptp), VMX_OK);
    CHECK_EQ(guest_reads(), 0x2222);
    *leaf = (uint64_t)frames[0] | EPT_RWX | EPT_WB;
    CHECK_EQ(guest_reads(), expect(1, 0));
    CHECK_EQ(vmx_invept(2, 0), VMX_OK);
    CHECK_EQ(guest_reads(), 0x1111);

    /* guest-physical mappings: the guest-physical page of pt, the guest's page
     * table for TEST_LA, is pointed at pt_other without INVEPT. INVVPID removes
     * the combined mapping of TEST_LA, so the guest walks its page tables again,
     * and in strict mode reaches pt through the cached guest-physical mapping */
    pt_other[0] = (uint64_t)frames[1] | PTE_P | PTE_W;
    uint64_t *pt_leaf = ept_entry(ept, (uint64_t)pt, 1);
    CHECK_EQ(vmx_invept(2, 0), VMX_OK);
    CHECK_EQ(guest_reads(), 0x1111);
    *pt_leaf = (uint64_t)pt_other | EPT_RWX | EPT_WB;
    CHECK_EQ(vmx_invvpid(2, 0, 0), VMX_OK);
    CHECK_EQ(guest_reads(), expect(0, 1));
    CHECK_EQ(vmx_invvpid(1, 1, 0), VMX_OK);
    CHECK_EQ(guest_reads(), expect(0, 1)); /* VM entries, exits and INVVPID leave it */
    CHECK_EQ(vmx_invept(1, ept_pointer(ept_new(), false)), VMX_OK); /* another root: no effect */
    CHECK_EQ(vmx_invvpid(1, 1, 0), VMX_OK);
    CHECK_EQ(guest_reads(), expect(0, 1));
    CHECK_EQ(vmx_invept(1, eptp), VMX_OK); /* single-context: that root's guest-physical mappings */
    CHECK_EQ(guest_reads(), 0x2222);
    *pt_leaf = (uint64_t)pt | EPT_RWX | EPT_WB;
    CHECK_EQ(vmx_invvpid(2, 0, 0), VMX_OK);
    CHECK_EQ(guest_reads(), expect(1, 0));
    CHECK_EQ(vmx_invept(2, 0), VMX_OK); /* all-context too */
    CHECK_EQ(guest_reads(), 0x1111);
    CHECK_EQ(vmx_invept(2, 0), VMX_OK);
    vpid_controls(PROC2_ENABLE_VPID, 1);

    /* failures: VMfailValid(28) */
    CHECK_EQ(vmx_invvpid(4, 1, 0), VMX_FAIL_VALID);
    CHECK_EQ(vmx_error(), ERR_INVALID_OPERAND);
    CHECK_EQ(vmx_invvpid(1, 1 | 1ull << 16, 0), VMX_FAIL_VALID); /* descriptor bits 63:16 */
    CHECK_EQ(vmx_invvpid(2, 1ull << 40, 0), VMX_FAIL_VALID);     /* for all-context too */
    CHECK_EQ(vmx_invvpid(0, 0, TEST_LA), VMX_FAIL_VALID);        /* VPID 0 */
    CHECK_EQ(vmx_invvpid(1, 0, 0), VMX_FAIL_VALID);
    CHECK_EQ(vmx_invvpid(3, 0, 0), VMX_FAIL_VALID);
    CHECK_EQ(vmx_invvpid(0, 1, 0x0000800000000000ull), VMX_FAIL_VALID); /* not canonical */
    CHECK_EQ(vmx_error(), ERR_INVALID_OPERAND);
    CHECK_EQ(vmx_invvpid(1, 1, 0x0000800000000000ull), VMX_OK); /* the address only matters for type 0 */
    CHECK_EQ(vmx_invvpid(2, 0, 0), VMX_OK);

    /* in non-root operation INVVPID exits: reason 53, the type register in the instruction information */
    w(VMCS_GUEST_RIP, (uint64_t)guest_invvpid);
    CHECK_EQ(vm_enter(0), VMX_OK);
    CHECK_EQ(rd(VMCS_VM_EXIT_REASON), R_INVVPID);
    CHECK_EQ(rd(VMCS_GUEST_RIP), (uint64_t)guest_invvpid);
    CHECK_EQ(rd(VMCS_EXIT_QUALIFICATION), TEST_LA);
    CHECK_EQ(rd(VMCS_VMX_INSTRUCTION_INFO) >> 28, 1); /* RCX */

    CHECK_EQ(vmx_off(), VMX_OK);
    CHECK_EQ(vmx_invvpid(1, 1, 0), VMX_EXC(EXC_UD));
    return check_result();
}
