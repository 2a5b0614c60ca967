/* vmx_apicv.c - a hypervisor kernel, booted with --cpu skylake-server-vmx, runs a
 * 64-bit guest through APIC virtualization (SDM Vol. 3C chapter 30 "APIC
 * Virtualization and Virtual Interrupts"); the guest shares the kernel's
 * memory, page tables and IDT, so its virtual interrupts land in handlers here.
 *  - TPR shadow (30.3): MOV from/to CR8 use VTPR in the virtual-APIC page, not
 *    the local APIC; a MOV to CR8 below the TPR threshold is a trap-like exit 43,
 *    after which VM entry fails until the threshold is lowered (27.2.1.1).
 *  - x2APIC virtualization with register virtualization and virtual-interrupt
 *    delivery (30.5, 30.1, 30.2): RDMSR of TPR/version/IRR from the page, a
 *    virtual interrupt pending from VM entry (RVI) delivered once the guest
 *    executes STI, TPR writes masking and unmasking a self IPI, EOI
 *    virtualization, and the EOI-exit bitmap's virtualized-EOI exit 45.
 *  - Posted interrupts (30.6): a physical self IPI with the notification vector
 *    pending at VM entry moves the descriptor's PIR into VIRR and is delivered
 *    as a virtual interrupt without a VM exit; another vector exits (reason 1).
 *  - The APIC-access page (30.4): the guest's loads and stores there reach the
 *    virtual-APIC page (VTPR, version, a self IPI through ICR, EOI), a store
 *    to another register is an APIC-write exit (56) after the instruction, a
 *    load of a register that is not virtualized an APIC-access exit (44) before
 *    it; the page itself is never touched. With "virtualize APIC accesses" a
 *    TPR threshold above VTPR makes VM entry exit at once (43) instead of failing.
 *  - The VM-entry checks on these controls, each one VMfailValid(7). */
#include "guest.h"
#include "vmxlib.h"
#include "vmx_run.h"

#define APIC ((volatile uint32_t *)0xfee00000ull)
#define PIN_EXTINT (1u << 0)
#define PIN_POSTED (1u << 7)
#define PROC_TPR (1u << 21)
#define PROC_MSR_BITMAPS (1u << 28)
#define PROC_SEC (1u << 31)
#define P2_VAA (1u << 0)
#define P2_X2APIC (1u << 4)
#define P2_ARV (1u << 8)
#define P2_VID (1u << 9)
#define EXIT_HOST64 (1u << 9)
#define EXIT_ACK (1u << 15)
#define ENTRY_IA32E (1u << 9)
#define NV 0xe0

static uint8_t guest_stack[8192] __attribute__((aligned(16)));
static uint8_t *vapic, *msr_bitmap, *pi_desc;
static volatile uint32_t *volatile apage; /* the APIC-access page (reloaded: exits keep no registers) */
static uint32_t *vreg(unsigned off) { return (uint32_t *)(vapic + off); }

/* ---- the guest's code (non-root operation) ---- */

extern char guest_tpr[], guest_tpr_after[];
__asm__(".text\n"
        "guest_tpr:\n"
        "    mov %cr8, %rbx\n mov %rbx, guest_cr8_first(%rip)\n" /* VTPR[7:4]: 5 (kept in memory: */
        "    mov $4, %eax\n mov %rax, %cr8\n" /* an exit keeps no registers); 4 >= threshold 3: no exit */
        "    mov $2, %eax\n mov %rax, %cr8\n" /* 2 < 3: exit 43 after the instruction */
        "guest_tpr_after:\n"
        "    mov %cr8, %rcx\n"
        "    vmcall\n");

uint64_t guest_cr8_first;
static volatile struct {
    int n;            /* virtual interrupts taken */
    uint64_t vec[8];
    uint64_t isr1, ppr; /* VISR[63:32] and VPPR inside the handler of 31H */
    uint64_t tpr, ver, irr1, n_before_sti, n_after_sti, n_masked, n_unmasked;
} g;

static void vhandler(struct trap_frame *f)
{
    g.vec[g.n++ & 7] = f->vec;
    if (f->vec == 0x31) {
        g.isr1 = rdmsr(0x811);
        g.ppr = rdmsr(0x80a);
    }
    wrmsr(0x80b, 0); /* EOI: virtualized */
}

static void guest_vid(void)
{
    g.tpr = rdmsr(0x808);
    g.ver = rdmsr(0x803);
    g.irr1 = rdmsr(0x821);
    g.n_before_sti = g.n; /* RVI 31H is pending since VM entry, RFLAGS.IF = 0 */
    __asm__ volatile("sti; nop" ::: "memory");
    g.n_after_sti = g.n;
    wrmsr(0x808, 0x70); /* TPR 70H masks ... */
    wrmsr(0x83f, 0x52); /* ... the self IPI 52H */
    g.n_masked = g.n;
    wrmsr(0x808, 0); /* TPR virtualization evaluates again: 52H is delivered */
    g.n_unmasked = g.n;
    __asm__ volatile("vmcall");
    for (;;)
        ;
}

static void mhandler(struct trap_frame *f)
{
    g.vec[g.n++ & 7] = f->vec;
    apage[0xb0 / 4] = 0; /* EOI through the APIC-access page */
}

static void guest_mmio(void)
{
    g.tpr = apage[0x80 / 4];
    g.ver = apage[0x30 / 4];
    apage[0x80 / 4] = 0;
    apage[0x300 / 4] = 1u << 18 | 0x61; /* self IPI: taken right after this store */
    g.n_after_sti = g.n;
    apage[0x380 / 4] = 1234;           /* timer initial count: APIC-write exit */
    g.irr1 = apage[0x390 / 4];         /* current count: APIC-access exit, skipped by the host */
    __asm__ volatile("vmcall");
    for (;;)
        ;
}

static void guest_posted(void)
{
    __asm__ volatile("vmcall"); /* the posted interrupt was delivered before this */
    for (;;)
        ;
}

/* ---- the host ---- */

static void resume_expect(int launch, uint32_t reason)
{
    CHECK_EQ(vm_enter(launch), VMX_OK);
    CHECK_EQ(rd(VMCS_VM_EXIT_REASON), reason);
}

static void start_guest(void (*rip)(void))
{
    w(VMCS_GUEST_RIP, (uint64_t)rip);
    w(VMCS_GUEST_RSP, (uint64_t)guest_stack + sizeof guest_stack - 8);
    w(VMCS_GUEST_RFLAGS, 2);
}

/* VMRESUME must fail with VMfailValid(7), "VM entry with invalid control field(s)". */
static void expect_bad_control(int line)
{
    int r = vm_enter(0);
    if (r != VMX_FAIL_VALID || vmx_error() != 7)
        printf("line %d: entry outcome %d error %lu\n", line, r, vmx_error());
    CHECK_EQ(r, VMX_FAIL_VALID);
    CHECK_EQ(vmx_error(), 7);
}
#define BAD_CONTROL() expect_bad_control(__LINE__)

static void test_tpr_shadow(void)
{
    vmcs_setup_controls(0, PROC_TPR, 0, EXIT_HOST64, ENTRY_IA32E);
    w(VMCS_VIRTUAL_APIC_PAGE_ADDR, (uint64_t)vapic);
    w(VMCS_TPR_THRESHOLD, 3);
    *vreg(0x80) = 0x5a;
    start_guest((void (*)(void))guest_tpr);
    resume_expect(1, 43);
    CHECK_EQ(rd(VMCS_EXIT_QUALIFICATION), 0);
    CHECK_EQ(rd(VMCS_GUEST_RIP), (uint64_t)guest_tpr_after); /* trap-like */
    CHECK_EQ(*vreg(0x80), 0x20);
    CHECK_EQ(READ_CR(8), 0);   /* the real TPR stayed */
    CHECK_EQ(APIC[0x80 / 4], 0);
    /* as the threshold stands the entry fails (below); a VMM lowers it first */
    w(VMCS_TPR_THRESHOLD, 2);
    resume_expect(0, 18);
    CHECK_EQ(guest_cr8_first, 5);
    CHECK_EQ(gregs.rcx, 2);
    /* the threshold above VTPR[7:4] = 2 fails the entry (no "virtualize APIC accesses") */
    w(VMCS_GUEST_RIP, rd(VMCS_GUEST_RIP) + 3);
    w(VMCS_TPR_THRESHOLD, 3);
    BAD_CONTROL();
    w(VMCS_TPR_THRESHOLD, 0x12); /* bits 31:4 */
    BAD_CONTROL();
    w(VMCS_TPR_THRESHOLD, 2);
    w(VMCS_VIRTUAL_APIC_PAGE_ADDR, (uint64_t)vapic + 0x800);
    BAD_CONTROL();
    w(VMCS_VIRTUAL_APIC_PAGE_ADDR, (uint64_t)vapic);
}

static void test_vid(void)
{
    vmcs_setup_controls(PIN_EXTINT, PROC_TPR | PROC_MSR_BITMAPS | PROC_SEC, P2_X2APIC | P2_ARV | P2_VID, EXIT_HOST64,
                        ENTRY_IA32E);
    w(VMCS_MSR_BITMAP, (uint64_t)msr_bitmap); /* all clear: no x2APIC MSR exits */
    w(VMCS_TPR_THRESHOLD, 0);
    for (int k = 0; k < 4; k++)
        w(VMCS_EOI_EXIT_BITMAP0 + 2 * k, 0);
    w(VMCS_EOI_EXIT_BITMAP1, 1ull << (0x52 - 64));
    *vreg(0x80) = 0;
    *vreg(0x30) = 0x60015;              /* version, read through register virtualization */
    *vreg(0x210) = 1u << (0x31 - 32);   /* VIRR: 31H */
    w(VMCS_GUEST_INTR_STATUS, 0x31);    /* RVI 31H, SVI 0 */
    for (int v = 0x31; v <= 0x52; v++)
        set_trap_handler(v, vhandler);
    start_guest(guest_vid);
    resume_expect(0, 45); /* EOI of 52H, inside its handler */
    CHECK_EQ(rd(VMCS_EXIT_QUALIFICATION), 0x52);
    CHECK_EQ(rd(VMCS_GUEST_INTR_STATUS), 0); /* SVI and RVI both 0 again */
    CHECK_EQ(*vreg(0x120), 0);               /* VISR[95:64] */
    resume_expect(0, 18);
    CHECK_EQ(g.tpr, 0);
    CHECK_EQ(g.ver, 0x60015);
    CHECK_EQ(g.irr1, 1u << (0x31 - 32));
    CHECK_EQ(g.n_before_sti, 0);
    CHECK_EQ(g.n_after_sti, 1);
    CHECK_EQ(g.vec[0], 0x31);
    CHECK_EQ(g.isr1, 1u << (0x31 - 32));
    CHECK_EQ(g.ppr, 0x30);
    CHECK_EQ(g.n_masked, 1);
    CHECK_EQ(g.n_unmasked, 2);
    CHECK_EQ(g.vec[1], 0x52);
    CHECK_EQ(*vreg(0x80), 0);
    CHECK_EQ(*vreg(0x3f0), 0x52); /* the self-IPI register as written */

    /* the entry checks of these controls */
    w(VMCS_GUEST_RIP, rd(VMCS_GUEST_RIP) + 3);
    w(VMCS_PIN_BASED_VM_EXEC_CONTROL, rd(VMCS_PIN_BASED_VM_EXEC_CONTROL) & ~PIN_EXTINT);
    BAD_CONTROL(); /* VID without external-interrupt exiting */
    w(VMCS_PIN_BASED_VM_EXEC_CONTROL, rd(VMCS_PIN_BASED_VM_EXEC_CONTROL) | PIN_EXTINT);
    uint64_t proc = rd(VMCS_CPU_BASED_VM_EXEC_CONTROL);
    w(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc & ~PROC_TPR);
    BAD_CONTROL(); /* x2APIC virtualization and VID without the TPR shadow */
    w(VMCS_SECONDARY_VM_EXEC_CONTROL, P2_ARV);
    BAD_CONTROL(); /* register virtualization alone, too */
    w(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc);
    w(VMCS_SECONDARY_VM_EXEC_CONTROL, P2_X2APIC | P2_ARV | P2_VID);
}

static void test_posted(void)
{
    vmcs_setup_controls(PIN_EXTINT | PIN_POSTED, PROC_TPR | PROC_MSR_BITMAPS | PROC_SEC, P2_X2APIC | P2_VID,
                        EXIT_HOST64 | EXIT_ACK, ENTRY_IA32E);
    w(VMCS_POSTED_INTR_NV, NV);
    w(VMCS_POSTED_INTR_DESC_ADDR, (uint64_t)pi_desc);
    w(VMCS_GUEST_INTR_STATUS, 0);
    *(uint32_t *)(pi_desc + 8) = 1u << (0x45 - 64); /* PIR: 45H */
    pi_desc[32] = 1;                                /* ON */
    set_trap_handler(0x45, vhandler);
    g.n = 0;
    __asm__ volatile("cli");
    APIC[0x300 / 4] = 1u << 18 | NV; /* self IPI with the notification vector: pending, IF = 0 */
    start_guest(guest_posted);
    w(VMCS_GUEST_RFLAGS, 2 | 1u << 9);
    resume_expect(0, 18);
    CHECK_EQ(g.n, 1);
    CHECK_EQ(g.vec[0], 0x45);
    CHECK_EQ(*(uint32_t *)(pi_desc + 8), 0); /* PIR moved into VIRR ... */
    CHECK_EQ(pi_desc[32] & 1, 0);            /* ... and ON cleared */
    CHECK_EQ(APIC[0x170 / 4] & 1, 0);        /* the notification was dismissed: ISR bit E0H clear */
    CHECK_EQ(APIC[0x270 / 4] & 1, 0);        /* and not requested again */
    CHECK_EQ(rd(VMCS_GUEST_INTR_STATUS), 0); /* the guest's EOI ended it */
    /* any other vector is an external-interrupt exit, acknowledged */
    APIC[0x300 / 4] = 1u << 18 | 0xd1;
    w(VMCS_GUEST_RIP, rd(VMCS_GUEST_RIP) + 3);
    resume_expect(0, 1);
    CHECK_EQ(rd(VMCS_VM_EXIT_INTR_INFO), 1u << 31 | 0xd1);
    CHECK_EQ(APIC[0x160 / 4] >> 17 & 1, 1); /* D1H in service at the local APIC */
    APIC[0xb0 / 4] = 0;

    /* the entry checks of posted interrupts */
    w(VMCS_POSTED_INTR_NV, 0x1e0);
    BAD_CONTROL();
    w(VMCS_POSTED_INTR_NV, NV);
    w(VMCS_POSTED_INTR_DESC_ADDR, (uint64_t)pi_desc + 0x20);
    BAD_CONTROL();
    w(VMCS_POSTED_INTR_DESC_ADDR, (uint64_t)pi_desc);
    w(VMCS_VM_EXIT_CONTROLS, rd(VMCS_VM_EXIT_CONTROLS) & ~EXIT_ACK);
    BAD_CONTROL();
    w(VMCS_VM_EXIT_CONTROLS, rd(VMCS_VM_EXIT_CONTROLS) | EXIT_ACK);
    w(VMCS_SECONDARY_VM_EXEC_CONTROL, P2_X2APIC);
    BAD_CONTROL();
}

static void test_apic_access(void)
{
    /* TPR shadow without VID: a threshold above VTPR exits right after VM entry */
    vmcs_setup_controls(PIN_EXTINT, PROC_TPR | PROC_SEC, P2_VAA, EXIT_HOST64, ENTRY_IA32E);
    w(VMCS_APIC_ACCESS_ADDR, (uint64_t)apage);
    w(VMCS_TPR_THRESHOLD, 3);
    *vreg(0x80) = 0x20;
    start_guest(guest_mmio);
    resume_expect(0, 43);
    CHECK_EQ(rd(VMCS_GUEST_RIP), (uint64_t)guest_mmio);

    vmcs_setup_controls(PIN_EXTINT, PROC_TPR | PROC_SEC, P2_VAA | P2_ARV | P2_VID, EXIT_HOST64, ENTRY_IA32E);
    w(VMCS_TPR_THRESHOLD, 0);
    w(VMCS_GUEST_INTR_STATUS, 0);
    *vreg(0x30) = 0x70015;
    set_trap_handler(0x61, mhandler);
    g.n = 0;
    start_guest(guest_mmio);
    w(VMCS_GUEST_RFLAGS, 2 | 1u << 9);
    resume_expect(0, 56);
    CHECK_EQ(rd(VMCS_EXIT_QUALIFICATION), 0x380);
    CHECK_EQ(*vreg(0x380), 1234);
    resume_expect(0, 44);
    CHECK_EQ(rd(VMCS_EXIT_QUALIFICATION), 0x390); /* linear read (type 0) of offset 390H */
    w(VMCS_GUEST_RIP, rd(VMCS_GUEST_RIP) + rd(VMCS_VM_EXIT_INSTRUCTION_LEN));
    resume_expect(0, 18);
    CHECK_EQ(g.tpr, 0x20);
    CHECK_EQ(g.ver, 0x70015);
    CHECK_EQ(g.n_after_sti, 1);
    CHECK_EQ(g.vec[0], 0x61);
    CHECK_EQ(*vreg(0x80), 0);
    CHECK_EQ(*vreg(0x130), 0); /* VISR: the EOI ended 61H */
    CHECK_EQ(rd(VMCS_GUEST_INTR_STATUS), 0);
    uint32_t touched = 0;
    for (int k = 0; k < 1024; k++)
        touched |= apage[k];
    CHECK_EQ(touched, 0);
    /* "virtualize x2APIC mode" excludes it */
    w(VMCS_GUEST_RIP, rd(VMCS_GUEST_RIP) + 3);
    w(VMCS_SECONDARY_VM_EXEC_CONTROL, P2_VAA | P2_X2APIC);
    BAD_CONTROL();
    w(VMCS_SECONDARY_VM_EXEC_CONTROL, P2_VAA);
    w(VMCS_APIC_ACCESS_ADDR, (uint64_t)apage + 0x10);
    BAD_CONTROL();
}

int test_main(const struct mb_info *mbi)
{
    vmx_lib_init();
    vmx_prepare_cpu();
    uint64_t vmxon_region = (uint64_t)vmx_region(), vmcs = (uint64_t)vmx_region();
    vapic = vmx_page();
    msr_bitmap = vmx_page();
    pi_desc = vmx_page();
    apage = vmx_page();
    CHECK_EQ(vmx_on(vmxon_region), VMX_OK);
    CHECK_EQ(vmx_clear(vmcs), VMX_OK);
    CHECK_EQ(vmx_ptrld(vmcs), VMX_OK);
    vmcs_setup_host(0, 0);
    vmcs_setup_guest64((uint64_t)guest_tpr, (uint64_t)guest_stack + sizeof guest_stack);
    test_tpr_shadow();
    test_vid();
    test_apic_access();
    test_posted();
    CHECK_EQ(vmx_off(), VMX_OK);
    return check_result();
}
