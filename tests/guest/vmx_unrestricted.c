/* vmx_unrestricted.c - a hypervisor kernel, booted with --cpu skylake-server-vmx,
 * runs an unrestricted guest (SDM Vol. 3C 26.6 "Unrestricted Guests"): with
 * "unrestricted guest" and "enable EPT" the guest starts in real-address mode
 * (guest CR0.PE = PG = 0, which the CR0 fixed bits otherwise forbid), its CPUID
 * and OUT exit with real-mode RIPs, then it loads a GDT, sets CR0.PE with MOV
 * to CR0 (no #GP: the fixed bits relax for PE and PG in non-root operation too),
 * far-jumps to 32-bit code and its HLT exits from unpaged protected mode, all
 * through an identity EPT. VM entry fails with VMfailValid(7) for "unrestricted
 * guest" without "enable EPT" (27.2.1.1), and a real-mode guest state without
 * "unrestricted guest" is invalid (exit 33, 27.3.1.1). */
#include "guest.h"
#include "vmxlib.h"
#include "vmx_run.h"

extern char g16[], g16_out[], g16_pm[], g32[], g32_hlt[];
__asm__(".text\n.code16\n"
        "g16:     cpuid\n"                       /* exit 10 from real mode, RIP 0 */
        "g16_out: out %al, $0x80\n"              /* exit 30 */
        "g16_pm:  lgdtl gdt_desc - g16\n"        /* DS.base = CS.base = g16 */
        "         mov %cr0, %eax\n"
        "         or $1, %al\n"
        "         mov %eax, %cr0\n"              /* CR0.PE = 1, paging still off */
        "         ljmpl $0x08, $g32\n"
        ".code32\n"
        "g32:     mov $0x10, %ax\n"
        "         mov %ax, %ds\n"
        "g32_hlt: hlt\n"                          /* exit 12 from unpaged protected mode */
        ".code64\n"
        "gdt_desc: .word 23\n .long ggdt\n");     /* LGDT's operand, within reach of DS = g16 */

uint64_t ggdt[3] __attribute__((aligned(8))) = { 0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull };

#define PROC_HLT (1u << 7)
#define PROC_UNCOND_IO (1u << 24)
#define PROC_SECONDARY (1u << 31)
#define PROC2_EPT (1u << 1)
#define PROC2_UNRESTRICTED (1u << 7)
#define ENTRY_LOAD_EFER (1u << 15)

/* The guest in real-address mode at CS:IP = g16:0 (unrestricted guests may have any base). */
static void setup_real_mode(uint64_t eptp)
{
    vmcs_setup_guest64(0, 0);
    static const uint32_t segs[] = { VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_SS_SELECTOR,
                                     VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_GS_SELECTOR };
    for (int k = 0; k < 6; k++) {
        uint32_t off = segs[k] - VMCS_GUEST_ES_SELECTOR; /* the encodings of ES..GS step by 2 */
        bool cs = segs[k] == VMCS_GUEST_CS_SELECTOR;
        w(segs[k], 0x1234);
        w(VMCS_GUEST_ES_BASE + off, (uint64_t)g16);
        w(VMCS_GUEST_ES_LIMIT + off, 0xffff);
        w(VMCS_GUEST_ES_AR_BYTES + off, cs ? 0x9b : 0x93);
    }
    w(VMCS_GUEST_TR_BASE, 0);
    w(VMCS_GUEST_GDTR_BASE, 0);
    w(VMCS_GUEST_GDTR_LIMIT, 0xffff);
    w(VMCS_GUEST_IDTR_BASE, 0);
    w(VMCS_GUEST_IDTR_LIMIT, 0x3ff);
    w(VMCS_GUEST_CR0, 0x30);                              /* NE, ET: real mode */
    w(VMCS_GUEST_CR3, 0);
    w(VMCS_GUEST_CR4, rdmsr(MSR_IA32_VMX_CR4_FIXED0));
    w(VMCS_GUEST_IA32_EFER, 0);
    w(VMCS_GUEST_RIP, 0);
    w(VMCS_GUEST_RSP, 0);
    w(VMCS_EPT_POINTER, eptp);
    w(VMCS_EXCEPTION_BITMAP, 1u << 6 | 1u << 13);          /* a #UD or #GP would exit, not vanish */
}

static void controls(uint32_t proc2)
{
    vmcs_setup_controls(0, PROC_HLT | PROC_UNCOND_IO | PROC_SECONDARY, proc2, 1u << 9, ENTRY_LOAD_EFER);
}

int test_main(const struct mb_info *mbi)
{
    CHECK_EQ((rdmsr(0x48b) >> 32) & (PROC2_EPT | PROC2_UNRESTRICTED), PROC2_EPT | PROC2_UNRESTRICTED);
    CHECK_EQ(rdmsr(0x485) & (1u << 5), 1u << 5); /* IA32_VMX_MISC[5]: LMA saved into "IA-32e mode guest" */
    vmx_start();
    uint64_t *ept = ept_new();
    ept_map(ept, 0, 0, EPT_1G, EPT_RWX | EPT_WB);     /* guest-physical = physical below 1 GiB */
    uint64_t eptp = ept_pointer(ept, false);
    setup_real_mode(eptp);

    /* "unrestricted guest" without "enable EPT": VMfailValid(7) */
    controls(PROC2_UNRESTRICTED);
    CHECK_EQ(vm_enter(1), VMX_FAIL_VALID);
    CHECK_EQ(vmx_error(), 7);
    /* a real-mode guest without "unrestricted guest": invalid guest state (CR0 fixed bits) */
    controls(PROC2_EPT);
    CHECK_EQ(vm_enter(1), VMX_OK);
    CHECK_EQ(rd(VMCS_VM_EXIT_REASON), 1u << 31 | 33);

    controls(PROC2_EPT | PROC2_UNRESTRICTED);
    CHECK_EQ(vm_enter(1), VMX_OK);
    CHECK_EQ(rd(VMCS_VM_EXIT_REASON), 10);               /* CPUID in real mode */
    CHECK_EQ(rd(VMCS_GUEST_RIP), 0);
    CHECK_EQ(rd(VMCS_GUEST_CS_BASE), (uint64_t)g16);
    CHECK_EQ(rd(VMCS_GUEST_CR0) & 0x80000001u, 0);
    w(VMCS_GUEST_RIP, 2);
    CHECK_EQ(vm_enter(0), VMX_OK);
    CHECK_EQ(rd(VMCS_VM_EXIT_REASON), 30);               /* OUT 80H, AL */
    CHECK_EQ(rd(VMCS_GUEST_RIP), (uint64_t)(g16_out - g16));
    CHECK_EQ(rd(VMCS_EXIT_QUALIFICATION), 0x80u << 16 | 1 << 6);
    w(VMCS_GUEST_RIP, (uint64_t)(g16_pm - g16));
    CHECK_EQ(vm_enter(0), VMX_OK);
    CHECK_EQ(rd(VMCS_VM_EXIT_REASON), 12);               /* HLT in 32-bit protected mode, paging off */
    CHECK_EQ(rd(VMCS_GUEST_RIP), (uint64_t)g32_hlt);
    CHECK_EQ(rd(VMCS_GUEST_CR0) & 0x80000001u, 1);
    CHECK_EQ(rd(VMCS_GUEST_CS_SELECTOR), 0x08);
    CHECK_EQ(rd(VMCS_GUEST_CS_AR_BYTES) & 0x4000, 0x4000); /* D: 32-bit code */
    CHECK_EQ(rd(VMCS_GUEST_DS_SELECTOR), 0x10);
    CHECK_EQ(vmx_off(), VMX_OK);
    return check_result();
}
