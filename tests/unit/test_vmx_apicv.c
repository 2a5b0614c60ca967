/* test_vmx_apicv.c - APIC virtualization (SDM Vol. 3C chapter 30 "APIC
 * Virtualization and Virtual Interrupts", vmx/apicv.c): the VM-entry checks on
 * its controls (27.2.1.1), one row each; MOV CR8 with "use TPR shadow" and the
 * TPR-below-threshold exit; the x2APIC MSRs with "virtualize x2APIC mode" and
 * APIC-register virtualization; EOI and self-IPI virtualization, the EOI-exit
 * bitmap and evaluation/delivery of virtual interrupts; posted-interrupt
 * processing. */
#include "vmx_guest_test.h"

#include "emu/fault.h"
#include "vmx/entry_checks.h"

#define VAPIC 0xb000ull
#define MSR_BITMAP_PA 0xc000ull
#define PI_DESC 0xd000ull
#define APIC_PAGE 0xe000ull /* the APIC-access page */
#define NV 0xf2

#define PROC_TPR VMX_CTL(PROC, USE_TPR_SHADOW)
#define PROC_SEC VMX_CTL(PROC, SECONDARY_CONTROLS)
#define P2_X2APIC VMX_CTL(PROC2, VIRTUALIZE_X2APIC)
#define P2_ARV VMX_CTL(PROC2, APIC_REGISTER_VIRT)
#define P2_VID VMX_CTL(PROC2, VIRTUAL_INTR_DELIVERY)
#define P2_VAA VMX_CTL(PROC2, VIRTUALIZE_APIC_ACCESSES)

static uint32_t vapic(unsigned off) { return (uint32_t)phys_read(m, VAPIC + off, 4); }
static void set_vapic(unsigned off, uint32_t v) { phys_write(m, VAPIC + off, 4, v); }

/* TPR shadow on, VTPR vtpr, TPR threshold thr; optionally the secondary controls p2. */
static void tpr_shadow(uint32_t vtpr, uint32_t thr, uint32_t p2)
{
    W(CPU_BASED_VM_EXEC_CONTROL, vg_allowed0(VMX_PROC) | PROC_TPR | VMX_CTL(PROC, USE_MSR_BITMAPS) |
                                     (p2 ? PROC_SEC : 0));
    W(SECONDARY_VM_EXEC_CONTROL, p2);
    W(MSR_BITMAP, MSR_BITMAP_PA);
    W(VIRTUAL_APIC_PAGE_ADDR, VAPIC);
    W(TPR_THRESHOLD, thr);
    set_vapic(0x80, vtpr);
}

/* Virtual-interrupt delivery: needs external-interrupt exiting. */
static void vid(uint32_t vtpr, uint32_t extra_p2)
{
    tpr_shadow(vtpr, 0, P2_X2APIC | P2_VID | extra_p2);
    W(PIN_BASED_VM_EXEC_CONTROL, vg_allowed0(VMX_PIN) | VMX_CTL(PIN, EXT_INTR_EXITING));
}

static int check_controls(void)
{
    struct entry_ctx x = { .f = vmx_state(c)->vmcs, .vm = vmx_model_of(c), .c = c, .vmcs_ptr = VMCS_A };
    return vmx_check_controls(&x);
}

/* ---- 27.2.1.1: each row, then VMfailValid(7) through VMLAUNCH ---- */
static void test_entry_checks(void **state)
{
    tpr_shadow(0x50, 5, 0);
    assert_int_equal(check_controls(), CHK_PASS);
    W(VIRTUAL_APIC_PAGE_ADDR, VAPIC + 0x80);
    assert_int_equal(check_controls(), CHK_VIRTUAL_APIC_ADDR);
    W(VIRTUAL_APIC_PAGE_ADDR, 1ull << 46);
    assert_int_equal(check_controls(), CHK_VIRTUAL_APIC_ADDR);
    W(VIRTUAL_APIC_PAGE_ADDR, VAPIC);
    W(TPR_THRESHOLD, 0x10);
    assert_int_equal(check_controls(), CHK_TPR_THRESHOLD_RESERVED);
    W(TPR_THRESHOLD, 6); /* above VTPR[7:4] = 5 */
    assert_int_equal(check_controls(), CHK_TPR_THRESHOLD_VTPR);
    assert_int_equal(vmlaunch(), NOFAULT);
    assert_int_equal(vm_error(), VMERR_ENTRY_INVALID_CONTROL);
    assert_false(c->nonroot);

    /* virtual-interrupt delivery: the threshold is not checked, external-interrupt exiting is needed */
    vid(0, 0);
    W(TPR_THRESHOLD, 0xff);
    assert_int_equal(check_controls(), CHK_PASS);
    W(PIN_BASED_VM_EXEC_CONTROL, vg_allowed0(VMX_PIN));
    assert_int_equal(check_controls(), CHK_VID_WITHOUT_EXT_INTR_EXITING);

    /* without the TPR shadow, none of x2APIC virtualization, register virtualization, VID */
    uint32_t bits[] = { P2_X2APIC, P2_ARV, P2_VID };
    for (int k = 0; k < 3; k++) {
        W(PIN_BASED_VM_EXEC_CONTROL, vg_allowed0(VMX_PIN) | VMX_CTL(PIN, EXT_INTR_EXITING));
        W(CPU_BASED_VM_EXEC_CONTROL, vg_allowed0(VMX_PROC) | PROC_SEC);
        W(SECONDARY_VM_EXEC_CONTROL, bits[k]);
        assert_int_equal(check_controls(), CHK_APICV_WITHOUT_TPR_SHADOW);
    }
    /* ... and they count as 0 while "activate secondary controls" is 0 */
    W(CPU_BASED_VM_EXEC_CONTROL, vg_allowed0(VMX_PROC));
    assert_int_equal(check_controls(), CHK_PASS);

    /* posted interrupts: VID, acknowledge interrupt on exit, vector, descriptor */
    vid(0, 0);
    W(PIN_BASED_VM_EXEC_CONTROL, vg_allowed0(VMX_PIN) | VMX_CTL(PIN, EXT_INTR_EXITING) | VMX_CTL(PIN, POSTED_INTR));
    W(POSTED_INTR_NV, NV);
    W(POSTED_INTR_DESC_ADDR, PI_DESC + 0x40);
    assert_int_equal(check_controls(), CHK_POSTED_WITHOUT_ACK);
    W(VM_EXIT_CONTROLS, R(VM_EXIT_CONTROLS) | VMX_CTL(EXIT, ACK_INTR_ON_EXIT));
    assert_int_equal(check_controls(), CHK_PASS);
    W(POSTED_INTR_NV, 0x1f2);
    assert_int_equal(check_controls(), CHK_POSTED_NV_RESERVED);
    W(POSTED_INTR_NV, NV);
    W(POSTED_INTR_DESC_ADDR, PI_DESC + 0x20);
    assert_int_equal(check_controls(), CHK_POSTED_DESC_ADDR);
    W(POSTED_INTR_DESC_ADDR, 1ull << 46);
    assert_int_equal(check_controls(), CHK_POSTED_DESC_ADDR);
    W(POSTED_INTR_DESC_ADDR, PI_DESC);
    W(SECONDARY_VM_EXEC_CONTROL, P2_X2APIC);
    assert_int_equal(check_controls(), CHK_POSTED_WITHOUT_VID);
}

/* ---- 30.3: MOV CR8 with "use TPR shadow" ---- */
static void test_cr8_tpr_shadow(void **state)
{
    tpr_shadow(0x5a, 3, 0);
    vg_launch();
    c->gpr[R_RAX] = 0xffff;
    assert_int_equal(RUN(0x44, 0x0f, 0x20, 0xc0), NOFAULT); /* MOV RAX, CR8 */
    assert_int_equal(c->gpr[R_RAX], 5);
    c->gpr[R_RAX] = 4;
    assert_int_equal(RUN(0x44, 0x0f, 0x22, 0xc0), NOFAULT); /* MOV CR8, RAX: 4 >= threshold 3 */
    assert_int_equal(vapic(0x80), 0x40);                      /* bits 3:0 and 31:8 of VTPR cleared */
    assert_int_equal(c->cr8, 0);                              /* the real TPR is untouched */
    c->gpr[R_RAX] = 0x10;                                     /* bits 63:4 reserved */
    assert_int_equal(RUN(0x44, 0x0f, 0x22, 0xc0), EXC_GP);
    c->gpr[R_RAX] = 2;
    uint64_t rip = c->rip;
    assert_int_equal(RUN(0x44, 0x0f, 0x22, 0xc0), EXITED); /* below the threshold: trap-like exit */
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_TPR_BELOW_THRESHOLD);
    assert_int_equal(R(EXIT_QUALIFICATION), 0);
    assert_int_equal(R(GUEST_RIP), rip + 4); /* the instruction completed */
    assert_int_equal(vapic(0x80), 0x20);
}

static void test_cr8_exiting_first(void **state)
{
    tpr_shadow(0x50, 0, 0);
    W(CPU_BASED_VM_EXEC_CONTROL, R(CPU_BASED_VM_EXEC_CONTROL) | VMX_CTL(PROC, CR8_STORE_EXITING));
    vg_launch();
    assert_int_equal(RUN(0x44, 0x0f, 0x20, 0xc0), EXITED);
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_CR_ACCESS);
    assert_int_equal(R(EXIT_QUALIFICATION), 8 | 1 << 4);
}

/* ---- 30.5: x2APIC MSRs ---- */
static void test_x2apic_msrs(void **state)
{
    tpr_shadow(0x30, 2, P2_X2APIC);
    set_vapic(0x84, 0x77);
    set_vapic(0x30, 0x50014); /* version */
    vg_launch();
    c->gpr[R_RCX] = 0x808;
    assert_int_equal(RUN(0x0f, 0x32), NOFAULT); /* RDMSR TPR: bytes 87H:80H */
    assert_int_equal(c->gpr[R_RAX], 0x30);
    assert_int_equal(c->gpr[R_RDX], 0x77);
    c->gpr[R_RCX] = 0x803; /* without register virtualization: the local APIC (none here: #GP) */
    assert_int_equal(RUN(0x0f, 0x32), EXC_GP);
    c->gpr[R_RCX] = 0x808;
    c->gpr[R_RAX] = 0x100, c->gpr[R_RDX] = 0;
    assert_int_equal(RUN(0x0f, 0x30), EXC_GP); /* WRMSR TPR: bits 63:8 reserved */
    c->gpr[R_RAX] = 0x25;
    assert_int_equal(RUN(0x0f, 0x30), NOFAULT);
    assert_int_equal(vapic(0x80), 0x25);
    assert_int_equal(vapic(0x84), 0);
    c->gpr[R_RAX] = 0x10;
    assert_int_equal(RUN(0x0f, 0x30), EXITED);
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_TPR_BELOW_THRESHOLD);
    /* the MSR bitmap comes first */
    phys_write(m, MSR_BITMAP_PA + 0x800 + 0x808 / 8, 1, 1 << (0x808 & 7));
    W(TPR_THRESHOLD, 0); /* else VTPR 10H below it fails the entry */
    assert_int_equal(vmresume(), EXITED);
    assert_int_equal(RUN(0x0f, 0x30), EXITED);
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_MSR_WRITE);
}

static void test_x2apic_register_virt(void **state)
{
    tpr_shadow(0, 0, P2_X2APIC | P2_ARV);
    set_vapic(0x30, 0x50014);
    set_vapic(0x380, 0x1234); /* initial count: 838H */
    vg_launch();
    c->gpr[R_RCX] = 0x803;
    assert_int_equal(RUN(0x0f, 0x32), NOFAULT);
    assert_int_equal(c->gpr[R_RAX], 0x50014);
    c->gpr[R_RCX] = 0x838;
    assert_int_equal(RUN(0x0f, 0x32), NOFAULT);
    assert_int_equal(c->gpr[R_RAX], 0x1234);
    c->gpr[R_RCX] = 0x839; /* current count is not virtualized */
    assert_int_equal(RUN(0x0f, 0x32), EXC_GP);
    c->gpr[R_RCX] = 0x80b; /* EOI without VID: the local APIC */
    c->gpr[R_RAX] = 0;
    assert_int_equal(RUN(0x0f, 0x30), EXC_GP);
}

/* ---- 30.1.4, 30.1.5, 30.2: EOI, self IPI, evaluation and delivery ---- */
static void test_vid_entry_and_delivery(void **state)
{
    vid(0x20, 0);
    set_vapic(0x200 + 0x10, 1u << (0x31 & 31)); /* VIRR: 31H */
    W(GUEST_INTR_STATUS, 0x31);                   /* RVI 31H, SVI 0 */
    W(GUEST_RFLAGS, 2 | F_IF);
    vg_launch();
    assert_int_equal(vapic(0xa0), 0x20); /* VPPR from VTPR at entry */
    assert_true(c->stop & STOP_VMX);     /* 3 > 2: recognized */
    vmx_boundary(c);
    assert_int_equal(c->rip, 0x9031);
    assert_int_equal(R(GUEST_INTR_STATUS), 0x3100); /* SVI 31H, RVI 0 */
    assert_int_equal(vapic(0x110), 1u << 17);        /* VISR */
    assert_int_equal(vapic(0x210), 0);               /* VIRR */
    assert_int_equal(vapic(0xa0), 0x30);
    assert_false(c->rflags & F_IF);
}

static void test_vid_blocked_by_tpr_then_eoi(void **state)
{
    vid(0x40, 0);
    set_vapic(0x200 + 0x10, 1u << (0x35 & 31));
    W(GUEST_INTR_STATUS, 0x35);
    W(GUEST_RFLAGS, 2 | F_IF);
    vg_launch();
    vmx_boundary(c); /* 3 <= 4: not recognized */
    assert_int_equal(c->rip, GUEST_RIP);
    c->gpr[R_RCX] = 0x808, c->gpr[R_RAX] = 0, c->gpr[R_RDX] = 0;
    assert_int_equal(RUN(0x0f, 0x30), NOFAULT); /* TPR 0: PPR virtualization and evaluation */
    assert_int_equal(vapic(0xa0), 0);
    vmx_boundary(c);
    assert_int_equal(c->rip, 0x9035);
    /* self IPI 50H while 35H is in service: recognized (5 > 3), delivered once IF is 1 */
    c->gpr[R_RCX] = 0x83f, c->gpr[R_RAX] = 0x50;
    assert_int_equal(RUN(0x0f, 0x30), NOFAULT);
    assert_int_equal(R(GUEST_INTR_STATUS), 0x3550);
    assert_int_equal(vapic(0x3f0), 0x50);
    vmx_boundary(c);
    assert_int_equal(c->rip, 0x9035 + 2); /* IF = 0 in the handler: not delivered */
    c->rflags |= F_IF;
    vmx_boundary(c);
    assert_int_equal(c->rip, 0x9050);
    assert_int_equal(R(GUEST_INTR_STATUS), 0x5000);
    /* EOI of 50H: SVI back to 35H, no exit (EOI-exit bitmap clear) */
    c->gpr[R_RCX] = 0x80b, c->gpr[R_RAX] = 0;
    assert_int_equal(RUN(0x0f, 0x30), NOFAULT);
    assert_int_equal(R(GUEST_INTR_STATUS), 0x3500);
    assert_int_equal(vapic(0xa0), 0x30);
    c->gpr[R_RAX] = 1;
    assert_int_equal(RUN(0x0f, 0x30), EXC_GP); /* EOI takes only 0 */
    /* EOI of 35H with its EOI-exit bit set: trap-like exit 45, qualification the vector */
    W(EOI_EXIT_BITMAP0, 1ull << 0x35);
    c->gpr[R_RAX] = 0;
    uint64_t rip = c->rip;
    assert_int_equal(RUN(0x0f, 0x30), EXITED);
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_EOI_INDUCED);
    assert_int_equal(R(EXIT_QUALIFICATION), 0x35);
    assert_int_equal(R(GUEST_RIP), rip + 2);
    assert_int_equal(R(GUEST_INTR_STATUS), 0);
}

static void test_self_ipi_illegal_vector(void **state)
{
    vid(0, 0);
    vg_launch();
    c->gpr[R_RCX] = 0x83f, c->gpr[R_RAX] = 0x100, c->gpr[R_RDX] = 0;
    assert_int_equal(RUN(0x0f, 0x30), EXC_GP);
    c->gpr[R_RAX] = 0x0f;
    assert_int_equal(RUN(0x0f, 0x30), EXITED);
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_APIC_WRITE);
    assert_int_equal(R(EXIT_QUALIFICATION), 0x3f0);
    assert_int_equal(vapic(0x3f0), 0x0f);
}

static void test_intr_window_exiting_blocks_recognition(void **state)
{
    vid(0, 0);
    W(CPU_BASED_VM_EXEC_CONTROL, R(CPU_BASED_VM_EXEC_CONTROL) | VMX_CTL(PROC, INTR_WINDOW_EXITING));
    set_vapic(0x200 + 0x10, 1u << (0x31 & 31));
    W(GUEST_INTR_STATUS, 0x31);
    vg_launch(); /* RFLAGS.IF = 0: no window, and the virtual interrupt is not recognized */
    assert_false(vmx_state(c)->virq);
}

/* ---- 30.4: the APIC-access page ---- */

/* MOV EAX, [APIC_PAGE + off] and MOV [APIC_PAGE + off], EAX (7 bytes each). */
#define LOAD(off) RUN(0x8b, 0x04, 0x25, (off) & 0xff, 0xe0 | (off) >> 8, 0, 0)
#define STORE(off) RUN(0x89, 0x04, 0x25, (off) & 0xff, 0xe0 | (off) >> 8, 0, 0)

static void apic_access(uint32_t vtpr, uint32_t thr, uint32_t p2)
{
    tpr_shadow(vtpr, thr, P2_VAA | p2);
    W(APIC_ACCESS_ADDR, APIC_PAGE);
}

static void expect_apic_access_exit(uint64_t qual, uint64_t rip)
{
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_APIC_ACCESS);
    assert_int_equal(R(EXIT_QUALIFICATION), qual);
    assert_int_equal(R(GUEST_RIP), rip); /* fault-like */
    assert_int_equal(R(VM_EXIT_INSTRUCTION_LEN), 7);
}

static void test_apic_access_without_tpr_shadow(void **state)
{
    apic_access(0, 0, 0);
    W(CPU_BASED_VM_EXEC_CONTROL, R(CPU_BASED_VM_EXEC_CONTROL) & ~PROC_TPR);
    vg_launch();
    uint64_t rip = c->rip;
    assert_int_equal(LOAD(0x80), EXITED); /* every access exits */
    expect_apic_access_exit(0x080, rip);
    assert_int_equal(vmresume(), EXITED);
    rip = c->rip;
    assert_int_equal(STORE(0x84), EXITED);
    expect_apic_access_exit(0x1084, rip); /* type 1: linear write */
}

static void test_apic_access_tpr(void **state)
{
    apic_access(0x50, 3, 0);
    phys_write(m, APIC_PAGE + 0x80, 4, 0xdead); /* the page itself is never used */
    vg_launch();
    assert_int_equal(LOAD(0x80), NOFAULT);
    assert_int_equal(c->gpr[R_RAX], 0x50);
    c->gpr[R_RAX] = 0x4f;
    assert_int_equal(STORE(0x80), NOFAULT);
    assert_int_equal(vapic(0x80), 0x4f);
    assert_int_equal(phys_read(m, APIC_PAGE + 0x80, 4), 0xdead);
    vmx_boundary(c); /* APIC-write emulation: 4 >= 3, no exit */
    assert_true(c->nonroot);
    uint64_t rip = c->rip;
    assert_int_equal(RUN(0x48, 0x8b, 0x04, 0x25, 0x80, 0xe0, 0, 0), EXITED); /* 8 bytes: exits */
    assert_int_equal(R(EXIT_QUALIFICATION), 0x080);
    assert_int_equal(R(GUEST_RIP), rip);
    assert_int_equal(vmresume(), EXITED);
    rip = c->rip;
    assert_int_equal(LOAD(0x30), EXITED); /* no register virtualization: only VTPR */
    expect_apic_access_exit(0x030, rip);
    assert_int_equal(vmresume(), EXITED);
    c->gpr[R_RAX] = 0x1ff10; /* TPR 10H: below the threshold after the instruction */
    assert_int_equal(STORE(0x80), NOFAULT);
    rip = c->rip;
    vmx_boundary(c);
    assert_false(c->nonroot);
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_TPR_BELOW_THRESHOLD);
    assert_int_equal(R(GUEST_RIP), rip); /* trap-like */
    assert_int_equal(vapic(0x80), 0x10); /* bytes 83H:81H cleared */
    /* with "virtualize APIC accesses" the entry does not fail: it exits at once */
    assert_int_equal(vmresume(), EXITED);
    assert_false(c->nonroot);
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_TPR_BELOW_THRESHOLD);
    assert_int_equal(R(GUEST_RIP), rip);
}

static void test_apic_access_register_virt_and_vid(void **state)
{
    apic_access(0, 0, P2_ARV | P2_VID);
    W(PIN_BASED_VM_EXEC_CONTROL, vg_allowed0(VMX_PIN) | VMX_CTL(PIN, EXT_INTR_EXITING));
    set_vapic(0x30, 0x50014);
    vg_launch();
    assert_int_equal(LOAD(0x30), NOFAULT);
    assert_int_equal(c->gpr[R_RAX], 0x50014);
    uint64_t rip = c->rip;
    assert_int_equal(LOAD(0x390), EXITED); /* current count: not virtualized */
    expect_apic_access_exit(0x390, rip);
    assert_int_equal(vmresume(), EXITED);
    /* a self IPI through ICR low: virtualized, recognized */
    c->gpr[R_RAX] = 1u << 18 | 0x61;
    assert_int_equal(STORE(0x300), NOFAULT);
    vmx_boundary(c); /* emulation, then delivery (IF = 0: not yet) */
    assert_int_equal(R(GUEST_INTR_STATUS), 0x61);
    assert_true(vmx_state(c)->virq);
    /* an IPI to another APIC: APIC-write exit with the offset */
    c->gpr[R_RAX] = 0x62;
    assert_int_equal(STORE(0x300), NOFAULT);
    rip = c->rip;
    vmx_boundary(c);
    assert_false(c->nonroot);
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_APIC_WRITE);
    assert_int_equal(R(EXIT_QUALIFICATION), 0x300);
    assert_int_equal(R(GUEST_RIP), rip);
    assert_int_equal(vapic(0x300), 0x62);
    /* LDR with register virtualization: written, then an APIC-write exit */
    assert_int_equal(vmresume(), EXITED);
    c->gpr[R_RAX] = 0x5000000;
    assert_int_equal(STORE(0xd0), NOFAULT);
    vmx_boundary(c);
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_APIC_WRITE);
    assert_int_equal(R(EXIT_QUALIFICATION), 0xd0);
    assert_int_equal(vapic(0xd0), 0x5000000);
    /* ICR high: bits 23:0 cleared, no exit */
    assert_int_equal(vmresume(), EXITED);
    c->gpr[R_RAX] = 0x3ffffff;
    assert_int_equal(STORE(0x310), NOFAULT);
    vmx_boundary(c);
    assert_true(c->nonroot);
    assert_int_equal(vapic(0x310), 0x3000000);
    /* EOI through the page with VID: EOI virtualization */
    set_vapic(0x110, 1u << 2); /* 22H in service */
    W(GUEST_INTR_STATUS, 0x2200 | R(GUEST_INTR_STATUS));
    W(EOI_EXIT_BITMAP0, 1ull << 0x22);
    c->gpr[R_RAX] = 0;
    assert_int_equal(STORE(0xb0), NOFAULT);
    vmx_boundary(c);
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_EOI_INDUCED);
    assert_int_equal(R(EXIT_QUALIFICATION), 0x22);
}

static void test_apic_access_entry_checks(void **state)
{
    apic_access(0, 0, 0);
    assert_int_equal(check_controls(), CHK_PASS);
    W(APIC_ACCESS_ADDR, APIC_PAGE + 8);
    assert_int_equal(check_controls(), CHK_APIC_ACCESS_ADDR);
    W(APIC_ACCESS_ADDR, APIC_PAGE);
    W(SECONDARY_VM_EXEC_CONTROL, P2_VAA | P2_X2APIC);
    assert_int_equal(check_controls(), CHK_X2APIC_AND_APIC_ACCESS);
    /* the threshold against VTPR is not checked with "virtualize APIC accesses" */
    W(SECONDARY_VM_EXEC_CONTROL, P2_VAA);
    W(TPR_THRESHOLD, 0xf);
    assert_int_equal(check_controls(), CHK_PASS);
}

/* ---- 30.6: posted-interrupt processing ---- */
static int ack_vec;
static int fake_ack(void *opaque, int cpu) { return ack_vec; }

static void test_posted_interrupts(void **state)
{
    vid(0, 0);
    W(PIN_BASED_VM_EXEC_CONTROL, vg_allowed0(VMX_PIN) | VMX_CTL(PIN, EXT_INTR_EXITING) | VMX_CTL(PIN, POSTED_INTR));
    W(VM_EXIT_CONTROLS, R(VM_EXIT_CONTROLS) | VMX_CTL(EXIT, ACK_INTR_ON_EXIT));
    W(POSTED_INTR_NV, NV);
    W(POSTED_INTR_DESC_ADDR, PI_DESC);
    W(GUEST_INTR_STATUS, 0x22);
    set_vapic(0x210, 1u << 2); /* 22H already requested */
    phys_write(m, PI_DESC + 8, 4, 1u << (0x45 & 31) | 1u << (0x41 & 31)); /* PIR: 41H, 45H */
    phys_write(m, PI_DESC + 32, 1, 1); /* ON */
    m->intr_ack = fake_ack;
    vg_launch();
    ack_vec = NV;
    assert_true(vmx_event(c, EV_EXTINT, -1, 0, 0));
    assert_true(c->nonroot); /* processed, no VM exit */
    assert_int_equal(phys_read(m, PI_DESC + 8, 4), 0);
    assert_int_equal(phys_read(m, PI_DESC + 32, 1), 0);
    assert_int_equal(vapic(0x220), 1u << 5 | 1u << 1);
    assert_int_equal(vapic(0x210), 1u << 2);
    assert_int_equal(R(GUEST_INTR_STATUS), 0x45);
    assert_true(vmx_state(c)->virq);
    /* another vector: an ordinary external-interrupt exit with the vector */
    ack_vec = 0x33;
    assert_true(vmx_event(c, EV_EXTINT, -1, 0, 0));
    assert_false(c->nonroot);
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_EXTERNAL_INTERRUPT);
    assert_int_equal(R(VM_EXIT_INTR_INFO), 1u << 31 | 0x33);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, vg_setup, vt_teardown)
        T(test_entry_checks),
        T(test_cr8_tpr_shadow),
        T(test_cr8_exiting_first),
        T(test_x2apic_msrs),
        T(test_x2apic_register_virt),
        T(test_vid_entry_and_delivery),
        T(test_vid_blocked_by_tpr_then_eoi),
        T(test_self_ipi_illegal_vector),
        T(test_intr_window_exiting_blocks_recognition),
        T(test_apic_access_without_tpr_shadow),
        T(test_apic_access_tpr),
        T(test_apic_access_register_virt_and_vid),
        T(test_apic_access_entry_checks),
        T(test_posted_interrupts),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
