/* vmx_ept_pae.c - a hypervisor kernel, booted with --cpu skylake-server-vmx,
 * runs a 32-bit PAE-paging guest with EPT and checks the PDPTE rules of EPT
 * (SDM Vol. 3C "Checks on Guest Page-Directory-Pointer-Table Entries",
 * "Loading Page-Directory-Pointer-Table Entries", "Saving Non-Register
 * State", "EPT Violations"): VM entry takes the PDPTEs from the VMCS guest
 * PDPTE fields (not from guest CR3), checks their reserved bits (a VM-entry
 * failure, reason 33), VM exit saves them; a MOV to CR3 loads them from
 * guest-physical memory through EPT, where an EPT violation has no valid
 * guest-linear address (bit 7 clear), and, with EPT accessed and dirty flags,
 * they are still reads (a read-only page suffices). */
#include "guest.h"
#include "vmxlib.h"
#include "vmx_run.h"

extern char pae_read[], pae_cr3[], pae_cr3_insn[];
__asm__(".text\n.code32\n"
        "pae_read:     mov pae_probe, %eax\n"
        "              mov (%eax), %ebx\n"
        "              vmcall\n"
        "pae_cr3:      mov %cr3, %eax\n"
        "pae_cr3_insn: mov %eax, %cr3\n"
        "              mov pae_probe, %eax\n"
        "              mov (%eax), %ebx\n"
        "              vmcall\n"
        ".code64\n");

enum { SEL_CODE = 0x08, SEL_DATA = 0x10, SEL_GTSS = 0x18 };
uint32_t pae_probe;
static uint64_t ggdt[4] __attribute__((aligned(8)));
static uint8_t tss[104] __attribute__((aligned(128)));
static uint64_t gpdpt[512] __attribute__((aligned(4096))); /* the PDPT at guest CR3, on a page of its own */
static uint64_t gpd[2][512] __attribute__((aligned(4096)));
static uint8_t guest_stack[4096] __attribute__((aligned(16)));
static uint32_t magic __attribute__((aligned(64))) = 0x12345678;
static uint64_t *ept;

static void setup_guest_pae(void)
{
    ggdt[1] = 0x00cf9b000000ffffull; /* 32-bit code, 4 GiB */
    ggdt[2] = 0x00cf93000000ffffull; /* data, 4 GiB */
    uint64_t b = (uint64_t)tss;
    ggdt[3] = 0x67 | (b & 0xffffff) << 16 | 0x8bull << 40 | (b >> 24) << 56; /* busy 32-bit TSS */
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 512; i++)
            gpd[k][i] = (uint64_t)i << 21 | 0x83; /* 0-1G: present, writable, 2-MByte pages */

    vmcs_setup_guest64((uint64_t)pae_read, (uint64_t)guest_stack + sizeof guest_stack);
    static const uint32_t segs[] = { VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_SS_SELECTOR,
                                     VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_GS_SELECTOR };
    for (int k = 0; k < 6; k++) {
        bool cs = segs[k] == VMCS_GUEST_CS_SELECTOR;
        w(segs[k], cs ? SEL_CODE : SEL_DATA);
        w(segs[k] - VMCS_GUEST_ES_SELECTOR + VMCS_GUEST_ES_BASE, 0);
        w(segs[k] - VMCS_GUEST_ES_SELECTOR + VMCS_GUEST_ES_AR_BYTES, cs ? 0xc09b : 0xc093);
    }
    w(VMCS_GUEST_TR_SELECTOR, SEL_GTSS);
    w(VMCS_GUEST_TR_BASE, (uint64_t)tss);
    w(VMCS_GUEST_TR_AR_BYTES, 0x8b);
    w(VMCS_GUEST_GDTR_BASE, (uint64_t)ggdt);
    w(VMCS_GUEST_GDTR_LIMIT, sizeof ggdt - 1);
    w(VMCS_GUEST_CR3, (uint64_t)gpdpt);
    w(VMCS_GUEST_CR4, rdmsr(MSR_IA32_VMX_CR4_FIXED0) | 0x20); /* PAE */
    w(VMCS_GUEST_IA32_EFER, 0);
    /* secondary controls with "enable EPT"; 64-bit host, 32-bit guest */
    vmcs_setup_controls(0, 1u << 31, 1u << 1, 1u << 9, 0);
}

/* Run from rip; expect VM exit `reason` (VMCALL 18, EPT violation 48, or a failed entry). */
static void run(void *rip, uint32_t reason)
{
    static int launched;
    pae_probe = (uint32_t)(uint64_t)&magic;
    w(VMCS_GUEST_RIP, (uint64_t)rip);
    CHECK_EQ(vm_enter(!launched), VMX_OK);
    CHECK_EQ(rd(VMCS_VM_EXIT_REASON), reason);
    if (!(reason >> 31))
        launched = 1;
}

static void set_pte(const void *p, uint64_t bits)
{
    uint64_t *e = ept_entry(ept, (uint64_t)p, 1);
    *e = (*e & 0xffffffffff000ull) | bits;
    CHECK_EQ(vmx_invept(2, 0), VMX_OK);
}

int test_main(const struct mb_info *mbi)
{
    vmx_start();
    ept = ept_identity();
    setup_guest_pae();
    CHECK_EQ(rd(VMCS_SECONDARY_VM_EXEC_CONTROL) & 2, 2);
    w(VMCS_EPT_POINTER, ept_pointer(ept, false));

    /* the PDPT at CR3 is empty: only the VMCS's PDPTEs can make the guest run */
    w(VMCS_GUEST_PDPTE0, (uint64_t)gpd[0] | 1);
    w(VMCS_GUEST_PDPTE1, 0);
    w(VMCS_GUEST_PDPTE2, 0);
    w(VMCS_GUEST_PDPTE3, 0);
    run(pae_read, 18);
    CHECK_EQ(gregs.rbx, 0x12345678);
    CHECK_EQ(rd(VMCS_GUEST_PDPTE0), (uint64_t)gpd[0] | 1); /* saved at the exit */

    /* a present PDPTE field with a reserved bit: VM-entry failure, invalid guest state, qualification 0 */
    w(VMCS_GUEST_PDPTE1, (uint64_t)gpd[1] | 1 | 2);
    run(pae_read, 1u << 31 | 33);
    CHECK_EQ(rd(VMCS_EXIT_QUALIFICATION), 0);
    w(VMCS_GUEST_PDPTE1, (uint64_t)gpd[1] | 4); /* not present: its other bits are not checked */
    run(pae_read, 18);

    /* MOV to CR3 loads the PDPTEs from guest memory through EPT; an EPT violation there has no linear address */
    gpdpt[0] = (uint64_t)gpd[1] | 1;
    set_pte(gpdpt, EPT_X | EPT_WB);
    run(pae_cr3, 48);
    CHECK_EQ(rd(VMCS_EXIT_QUALIFICATION), 1 | EPT_X << 3); /* data read, execute-only, bits 7 and 8 clear */
    CHECK_EQ(rd(VMCS_GUEST_PHYSICAL_ADDRESS), (uint64_t)gpdpt);
    CHECK_EQ(rd(VMCS_GUEST_RIP), (uint64_t)pae_cr3_insn);
    CHECK_EQ(rd(VMCS_GUEST_PDPTE0), (uint64_t)gpd[0] | 1); /* not loaded */

    /* readable: the load succeeds and the exit saves the new PDPTEs; with EPT A/D flags on, PDPTE loads are
     * reads, so a read-only page suffices (guest paging-structure accesses would need write permission) */
    set_pte(gpdpt, EPT_R | EPT_WB);
    uint64_t eptp_ad = ept_pointer(ept, true);
    w(VMCS_EPT_POINTER, eptp_ad);
    CHECK_EQ(vmx_invept(1, eptp_ad), VMX_OK);
    run(pae_cr3, 18);
    CHECK_EQ(gregs.rbx, 0x12345678);
    CHECK_EQ(rd(VMCS_GUEST_PDPTE0), (uint64_t)gpd[1] | 1);
    CHECK_EQ(rd(VMCS_GUEST_PDPTE1), 0);
    uint64_t *pte_pdpt = ept_entry(ept, (uint64_t)gpdpt, 1), *pte_pd = ept_entry(ept, (uint64_t)gpd[1], 1);
    CHECK_EQ(*pte_pdpt & (EPT_A | EPT_D), EPT_A);          /* read: accessed, not dirty */
    CHECK_EQ(*pte_pd & (EPT_A | EPT_D), EPT_A | EPT_D);    /* the walk's PDE reads count as writes */
    CHECK_EQ(vmx_off(), VMX_OK);
    return check_result();
}
