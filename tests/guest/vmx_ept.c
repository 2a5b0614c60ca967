/* vmx_ept.c - a hypervisor kernel, booted with --cpu skylake-server-vmx, runs a
 * 64-bit guest (its own page tables, guest-physical through EPT) and checks
 * EPT (SDM Vol. 3C "VMX Support for Address Translation"): the capability MSR,
 * translations through 4-KByte, 2-MByte and 1-GByte EPT pages, every
 * permission (read, write, execute, execute-only), EPT violations with their
 * exit qualification (access, EPT rights, guest-linear address valid, final
 * translation vs paging-structure access, the advanced U/S, R/W, XD bits, NMI
 * unblocking by IRET), the guest-physical and guest-linear address fields, an
 * EPT violation during event delivery (IDT-vectoring information), EPT
 * misconfigurations, the accessed and dirty flags for EPT (guest
 * paging-structure accesses count as writes), the EPTP checks of VM entry and
 * INVEPT with its failures and its VM exit. Every EPT change is followed by an
 * INVEPT, as the architecture requires. */
#include "guest.h"
#include "vmxlib.h"
#include "vmx_run.h"

#define R_VMCALL 18
#define R_EPT_VIOLATION 48
#define R_EPT_MISCONFIG 49
#define R_INVEPT 50
/* exit qualification: access R/W/X 2:0, EPT rights 5:3, linear address valid 7, final 8, U/S 9, R/W 10 */
#define Q_R 1
#define Q_W 2
#define Q_X 4
#define Q_RIGHTS(r) ((uint64_t)(r) << 3)
#define Q_GLA 0x80
#define Q_FINAL 0x100
#define Q_USER_RW 0x600 /* the guest's identity map has U/S = 1 and R/W = 1 everywhere */
#define Q_NMI_UNBLOCKED 0x1000

extern char guest_read[], guest_read_insn[], guest_write[], guest_write_insn[], guest_exec[], guest_exec_call[],
    guest_ud[], guest_int[], guest_iret[], guest_invept[];
__asm__(".text\n"
        "guest_read:\n"
        "    mov probe_addr(%rip), %rax\n"
        "guest_read_insn:\n"
        "    mov (%rax), %rbx\n"
        "    vmcall\n"
        "guest_write:\n"
        "    mov probe_addr(%rip), %rax\n"
        "guest_write_insn:\n"
        "    movq $0x5a5a, (%rax)\n"
        "    vmcall\n"
        "guest_exec:\n"
        "    mov probe_addr(%rip), %rax\n"
        "guest_exec_call:\n"
        "    call *%rax\n"
        "    vmcall\n"
        "guest_ud:\n"
        "    ud2\n"
        "guest_int:\n"
        "    int $0x30\n"
        "guest_iret:\n"
        "    iretq\n"
        "guest_invept:\n"
        "    invept invept_desc+16(%rip), %rcx\n"
        "    vmcall\n");

uint64_t probe_addr;
struct { uint64_t pad[2], eptp, rsvd; } invept_desc;
static uint8_t guest_stack[8192] __attribute__((aligned(4096)));
static uint8_t tpages[4][4096] __attribute__((aligned(4096)));
static uint64_t *ept, eptp;
static int launched;

static void invept_all(void)
{
    CHECK_EQ(vmx_invept(2, 0), VMX_OK);
}

/* Run the guest from rip with probe_addr = addr; expect exit `reason`. Guest
 * registers are not kept across exits: each run starts a snippet afresh. */
static void run(void *rip, uint64_t addr, uint32_t reason)
{
    probe_addr = addr;
    w(VMCS_GUEST_RIP, (uint64_t)rip);
    w(VMCS_GUEST_RSP, (uint64_t)guest_stack + sizeof guest_stack);
    CHECK_EQ(vm_enter(!launched), VMX_OK);
    launched = 1;
    CHECK_EQ(rd(VMCS_VM_EXIT_REASON), reason);
}

/* The last exit was an EPT violation of the final translation of addr at guest RIP rip. */
static void check_violation(uint64_t addr, void *rip, uint64_t qual)
{
    CHECK_EQ(rd(VMCS_VM_EXIT_REASON), R_EPT_VIOLATION);
    CHECK_EQ(rd(VMCS_EXIT_QUALIFICATION), qual);
    CHECK_EQ(rd(VMCS_GUEST_PHYSICAL_ADDRESS), addr);
    CHECK_EQ(rd(VMCS_GUEST_LINEAR_ADDRESS), addr);
    CHECK_EQ(rd(VMCS_GUEST_RIP), (uint64_t)rip);
}

static uint64_t *pte_of(const void *p)
{
    return ept_entry(ept, (uint64_t)p, 1);
}

/* Set the rights/type bits of the EPT PTE of page p (keeping its address) and invalidate. */
static void set_pte(const void *p, uint64_t bits)
{
    uint64_t *e = pte_of(p);
    *e = (*e & 0xffffffffff000ull) | bits;
    invept_all();
}

static void test_caps(void)
{
    uint64_t cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
    /* execute-only, 4-level walk, UC and WB, 2M and 1G pages, INVEPT, A/D, advanced exit information,
     * single-context and all-context INVEPT */
    uint64_t want = 1 | 1 << 6 | 1 << 8 | 1 << 14 | 1 << 16 | 1 << 17 | 1 << 20 | 1 << 21 | 1 << 22 | 1 << 25 |
                    1 << 26;
    CHECK_EQ(cap & want, want);
    CHECK_EQ(cap & (1 << 7), 0); /* no 5-level EPT on this model */
    CHECK_EQ((rdmsr(0x48b) >> 33) & 1, 1); /* "enable EPT" may be 1 */
}

/* 4-KByte, 2-MByte and 1-GByte EPT pages translate to the host page they name. */
static void test_page_sizes(void)
{
    *(uint64_t *)&tpages[0][8] = 0x1111;
    *(uint64_t *)&tpages[2][0] = 0x2222;
    uint64_t *pte1 = pte_of(tpages[1]), old = *pte1;
    *pte1 = (uint64_t)tpages[2] | EPT_RWX | EPT_WB;                /* 4K: tpages[1] -> tpages[2] */
    ept_map(ept, 0x20000000, 0, EPT_2M, EPT_RWX | EPT_WB);         /* 2M: 512M -> 0 */
    ept_map(ept, 0xc0000000, 0, EPT_1G, EPT_RWX | EPT_WB);         /* 1G: 3G -> 0 */
    invept_all();
    run(guest_read, (uint64_t)tpages[1], R_VMCALL);
    CHECK_EQ(gregs.rbx, 0x2222);
    run(guest_read, 0x20000000 + (uint64_t)&tpages[0][8], R_VMCALL);
    CHECK_EQ(gregs.rbx, 0x1111);
    run(guest_read, 0xc0000000 + (uint64_t)&tpages[0][8], R_VMCALL);
    CHECK_EQ(gregs.rbx, 0x1111);
    *pte1 = old;
    invept_all();
    run(guest_read, (uint64_t)tpages[1], R_VMCALL);
    CHECK_EQ(gregs.rbx, 0);
}

/* Each permission of a 4-KByte page, and the qualification of each violation. */
static void test_permissions(void)
{
    uint64_t a = (uint64_t)&tpages[0][16];
    *(uint64_t *)a = 0x77;
    uint64_t final = Q_GLA | Q_FINAL | Q_USER_RW;

    set_pte(tpages[0], EPT_R | EPT_WB); /* read-only: reads work, a write violates */
    run(guest_read, a, R_VMCALL);
    CHECK_EQ(gregs.rbx, 0x77);
    run(guest_write, a, R_EPT_VIOLATION);
    check_violation(a, guest_write_insn, Q_W | Q_RIGHTS(EPT_R) | final);
    CHECK_EQ(*(uint64_t *)a, 0x77);
    set_pte(tpages[0], EPT_R | EPT_W | EPT_WB); /* now the write completes (vm_enter keeps no guest
                                                  * registers, so the snippet starts over) */
    run(guest_write, a, R_VMCALL);
    CHECK_EQ(*(uint64_t *)a, 0x5a5a);

    set_pte(tpages[0], 0); /* not present */
    run(guest_read, a, R_EPT_VIOLATION);
    check_violation(a, guest_read_insn, Q_R | final);

    tpages[0][0] = 0xc3; /* RET */
    set_pte(tpages[0], EPT_X | EPT_WB); /* execute-only */
    run(guest_read, a, R_EPT_VIOLATION);
    check_violation(a, guest_read_insn, Q_R | Q_RIGHTS(EPT_X) | final);
    run(guest_exec, (uint64_t)tpages[0], R_VMCALL);

    set_pte(tpages[0], EPT_R | EPT_W | EPT_WB); /* not executable */
    run(guest_exec, (uint64_t)tpages[0], R_EPT_VIOLATION);
    check_violation((uint64_t)tpages[0], tpages[0], Q_X | Q_RIGHTS(EPT_R | EPT_W) | final);

    set_pte(tpages[0], EPT_R | EPT_X | EPT_WB); /* read and execute, a write violates */
    run(guest_exec, (uint64_t)tpages[0], R_VMCALL);
    run(guest_write, a, R_EPT_VIOLATION);
    check_violation(a, guest_write_insn, Q_W | Q_RIGHTS(EPT_R | EPT_X) | final);
    set_pte(tpages[0], EPT_RWX | EPT_WB);

    /* 2M and 1G leaves: their rights are checked too */
    uint64_t *e2 = ept_entry(ept, 0x20000000, 2), *e1 = ept_entry(ept, 0xc0000000, 3);
    *e2 = EPT_PS | EPT_R | EPT_WB;
    *e1 = EPT_PS | EPT_X | EPT_WB;
    invept_all();
    run(guest_write, 0x20000000 + a, R_EPT_VIOLATION);
    check_violation(0x20000000 + a, guest_write_insn, Q_W | Q_RIGHTS(EPT_R) | final);
    run(guest_read, 0xc0000000 + a, R_EPT_VIOLATION);
    check_violation(0xc0000000 + a, guest_read_insn, Q_R | Q_RIGHTS(EPT_X) | final);
    /* a PDE that is not present: the rights are 0 */
    *e2 = 0;
    invept_all();
    run(guest_read, 0x20000000 + a, R_EPT_VIOLATION);
    check_violation(0x20000000 + a, guest_read_insn, Q_R | final);
    *e2 = EPT_PS | EPT_RWX | EPT_WB;
    *e1 = EPT_PS | EPT_RWX | EPT_WB;
    invept_all();
}

/* EPT misconfigurations: the guest-physical address, no other information. An
 * entry that also translates the guest's code and page tables fails at the
 * first fetch, on the walk's first access: the guest's PML4E. */
static void misconfig(uint64_t *e, uint64_t val, uint64_t addr, bool at_fetch)
{
    uint64_t old = *e;
    *e = val;
    invept_all();
    run(guest_read, addr, R_EPT_MISCONFIG);
    CHECK_EQ(rd(VMCS_GUEST_PHYSICAL_ADDRESS), at_fetch ? (uint64_t)&pml4[0] : addr);
    CHECK_EQ(rd(VMCS_GUEST_RIP), at_fetch ? (uint64_t)guest_read : (uint64_t)guest_read_insn);
    *e = old;
    invept_all();
}

static void test_misconfigurations(void)
{
    uint32_t r[4];
    cpuid(0x80000008, 0, r);
    int maxphyaddr = r[0] & 0xff;
    uint64_t a = (uint64_t)&tpages[0][24], frame = (uint64_t)tpages[0];
    uint64_t *pte = pte_of(tpages[0]), *pde = ept_entry(ept, a, 2), *pml4e = ept_entry(ept, a, 4);
    misconfig(pte, frame | EPT_W | EPT_WB, a, false);                        /* write without read */
    misconfig(pte, frame | EPT_W | EPT_X | EPT_WB, a, false);                /* write, execute, no read */
    misconfig(pte, frame | EPT_RWX | 2 << 3, a, false);                      /* memory type 2 */
    misconfig(pte, frame | EPT_RWX | 3 << 3, a, false);                      /* memory type 3 */
    misconfig(pte, frame | EPT_RWX | 7 << 3, a, false);                      /* memory type 7 */
    misconfig(pte, frame | EPT_RWX | EPT_WB | 1ull << maxphyaddr, a, false); /* beyond MAXPHYADDR */
    misconfig(pde, *pde | 1 << 3, a, true);                                  /* bit 3 of a PDE to a table */
    misconfig(pml4e, *pml4e | EPT_PS, a, true);                              /* bit 7 of a PML4E */
    uint64_t *e2 = ept_entry(ept, 0x20000000, 2);
    misconfig(e2, EPT_PS | EPT_RWX | EPT_WB | 0x1000, 0x20000000 + a, false); /* bit 12 of a 2M leaf */
    /* memory types 0, 1, 4, 5, 6 are fine; execute-only is allowed (IA32_VMX_EPT_VPID_CAP[0]) */
    for (uint64_t mt = 0; mt < 7; mt++) {
        if (mt == 2 || mt == 3)
            continue;
        *pte = frame | EPT_RWX | mt << 3;
        invept_all();
        run(guest_read, a, R_VMCALL);
    }
    *pte = frame | EPT_RWX | EPT_WB;
    invept_all();
}

/* Accesses to guest paging structures: an EPT violation with bit 8 clear, before
 * the guest's own #PF decision and before the final translation. */
static void test_paging_structures(void)
{
    uint64_t a = (uint64_t)&tpages[0][32];
    void *pd_page = pd; /* the guest's PDEs for linear 0-1G (2M pages) */
    set_pte(pd_page, EPT_X | EPT_WB); /* not readable: the first fetch's walk violates */
    run(guest_read, a, R_EPT_VIOLATION);
    CHECK_EQ(rd(VMCS_EXIT_QUALIFICATION), Q_R | Q_RIGHTS(EPT_X) | Q_GLA);
    CHECK_EQ(rd(VMCS_GUEST_PHYSICAL_ADDRESS), (uint64_t)&pd[(uint64_t)guest_read >> 21]);
    CHECK_EQ(rd(VMCS_GUEST_LINEAR_ADDRESS), (uint64_t)guest_read);
    CHECK_EQ(rd(VMCS_GUEST_RIP), (uint64_t)guest_read);

    /* read-only: the walk reads, but setting an accessed flag is a write */
    uint64_t la = 0x30000000;
    pd[la >> 21] &= ~(1ull << 5);
    set_pte(pd_page, EPT_R | EPT_WB);
    run(guest_read, la, R_EPT_VIOLATION);
    CHECK_EQ(rd(VMCS_EXIT_QUALIFICATION), Q_W | Q_RIGHTS(EPT_R) | Q_GLA);
    CHECK_EQ(rd(VMCS_GUEST_PHYSICAL_ADDRESS), (uint64_t)&pd[la >> 21]);
    CHECK_EQ(rd(VMCS_GUEST_LINEAR_ADDRESS), la);
    CHECK_EQ(pd[la >> 21] & (1ull << 5), 0);

    /* with accessed and dirty flags for EPT every guest paging-structure access is a write */
    w(VMCS_EPT_POINTER, ept_pointer(ept, true));
    CHECK_EQ(vmx_invept(1, ept_pointer(ept, true)), VMX_OK);
    run(guest_read, a, R_EPT_VIOLATION);
    CHECK_EQ(rd(VMCS_EXIT_QUALIFICATION), Q_R | Q_W | Q_RIGHTS(EPT_R) | Q_GLA);
    CHECK_EQ(rd(VMCS_GUEST_PHYSICAL_ADDRESS), (uint64_t)&pd[(uint64_t)guest_read >> 21]);
    w(VMCS_EPT_POINTER, eptp);
    set_pte(pd_page, EPT_RWX | EPT_WB);
}

/* Accessed and dirty flags for EPT (EPTP[6]). */
static void test_accessed_dirty(void)
{
    uint64_t a = (uint64_t)&tpages[3][40];
    uint64_t *pte3 = pte_of(tpages[3]), *pte2 = pte_of(tpages[2]), *pte_pd = pte_of(pd);
    uint64_t *pte_code = pte_of(guest_read);
    uint64_t *upper[3] = { ept_entry(ept, a, 4), ept_entry(ept, a, 3), ept_entry(ept, a, 2) };
    uint64_t ad = EPT_A | EPT_D;

    /* disabled: nothing is set */
    *pte3 &= ~ad;
    invept_all();
    run(guest_read, a, R_VMCALL);
    CHECK_EQ(*pte3 & ad, 0);

    for (int k = 0; k < 3; k++)
        *upper[k] &= ~ad;
    *pte2 &= ~ad;
    *pte_pd &= ~ad;
    *pte_code &= ~ad;
    uint64_t eptp_ad = ept_pointer(ept, true);
    w(VMCS_EPT_POINTER, eptp_ad);
    CHECK_EQ(vmx_invept(1, eptp_ad), VMX_OK);
    run(guest_read, a, R_VMCALL);
    for (int k = 0; k < 3; k++)
        CHECK_EQ(*upper[k] & ad, EPT_A); /* accessed on every entry used; D only in leaves */
    CHECK_EQ(*pte3 & ad, EPT_A);         /* read: accessed, not dirty */
    CHECK_EQ(*pte2 & ad, 0);             /* not used */
    CHECK_EQ(*pte_code & ad, EPT_A);     /* fetched only */
    CHECK_EQ(*pte_pd & ad, ad);          /* the guest's walk counts as a write */
    run(guest_write, a, R_VMCALL);
    CHECK_EQ(*pte3 & ad, ad);
    /* a clear dirty flag is set again by the next write (after INVEPT) */
    *pte3 &= ~EPT_D;
    CHECK_EQ(vmx_invept(1, eptp_ad), VMX_OK);
    run(guest_read, a, R_VMCALL);
    CHECK_EQ(*pte3 & ad, EPT_A);
    run(guest_write, a, R_VMCALL);
    CHECK_EQ(*pte3 & ad, ad);
    /* 2M and 1G leaves */
    uint64_t *e2 = ept_entry(ept, 0x20000000, 2), *e1 = ept_entry(ept, 0xc0000000, 3);
    *e2 &= ~ad;
    *e1 &= ~ad;
    CHECK_EQ(vmx_invept(1, eptp_ad), VMX_OK);
    run(guest_write, 0x20000000 + a, R_VMCALL);
    run(guest_read, 0xc0000000 + a, R_VMCALL);
    CHECK_EQ(*e2 & ad, ad);
    CHECK_EQ(*e1 & ad, EPT_A);
    w(VMCS_EPT_POINTER, eptp);
    invept_all();
}

/* An EPT violation while delivering an exception: IDT-vectoring information. */
static void test_event_delivery(void)
{
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    uint64_t gate = idtr.base + 6 * 16;
    set_pte((void *)gate, EPT_X | EPT_WB);
    run(guest_ud, 0, R_EPT_VIOLATION);
    CHECK_EQ(rd(VMCS_EXIT_QUALIFICATION), Q_R | Q_RIGHTS(EPT_X) | Q_GLA | Q_FINAL | Q_USER_RW);
    CHECK_EQ(rd(VMCS_GUEST_PHYSICAL_ADDRESS), gate);
    CHECK_EQ(rd(VMCS_GUEST_LINEAR_ADDRESS), gate);
    CHECK_EQ(rd(VMCS_IDT_VECTORING_INFO_FIELD), 1u << 31 | 3 << 8 | 6);
    CHECK_EQ(rd(VMCS_GUEST_RIP), (uint64_t)guest_ud);
    set_pte((void *)gate, EPT_RWX | EPT_WB);

    /* a software interrupt: type 4, and the instruction length so the VMM can re-inject it */
    gate = idtr.base + 0x30 * 16;
    set_pte((void *)gate, EPT_X | EPT_WB);
    run(guest_int, 0, R_EPT_VIOLATION);
    CHECK_EQ(rd(VMCS_GUEST_PHYSICAL_ADDRESS), gate);
    CHECK_EQ(rd(VMCS_IDT_VECTORING_INFO_FIELD), 1u << 31 | 4 << 8 | 0x30);
    CHECK_EQ(rd(VMCS_VM_EXIT_INSTRUCTION_LEN), 2);
    CHECK_EQ(rd(VMCS_GUEST_RIP), (uint64_t)guest_int);
    set_pte((void *)gate, EPT_RWX | EPT_WB);
}

/* Bit 12: an IRET that unblocked NMIs faulted on its stack. */
static void test_nmi_unblocking(void)
{
    set_pte(tpages[1], EPT_X | EPT_WB);
    for (int blocked = 1; blocked >= 0; blocked--) {
        w(VMCS_GUEST_INTERRUPTIBILITY_INFO, blocked ? 8 : 0);
        probe_addr = 0;
        w(VMCS_GUEST_RIP, (uint64_t)guest_iret);
        w(VMCS_GUEST_RSP, (uint64_t)tpages[1] + 2048);
        CHECK_EQ(vm_enter(0), VMX_OK);
        check_violation((uint64_t)tpages[1] + 2048, guest_iret,
                        Q_R | Q_RIGHTS(EPT_X) | Q_GLA | Q_FINAL | Q_USER_RW | (blocked ? Q_NMI_UNBLOCKED : 0));
        CHECK_EQ(rd(VMCS_GUEST_INTERRUPTIBILITY_INFO) & 8, 0); /* IRET cleared the blocking */
    }
    set_pte(tpages[1], EPT_RWX | EPT_WB);
}

/* Each EPTP check of VM entry: VMfailValid(7), "VM entry with invalid control field(s)". */
static void test_eptp_checks(void)
{
    uint32_t r[4];
    cpuid(0x80000008, 0, r);
    int maxphyaddr = r[0] & 0xff;
    const uint64_t bad[] = {
        (eptp & ~7ull) | 1,               /* memory type WC */
        (eptp & ~7ull) | 7,               /* memory type 7 */
        (eptp & ~0x38ull) | 1 << 3,       /* page-walk length 2 */
        (eptp & ~0x38ull) | 4 << 3,       /* page-walk length 5, which the model lacks */
        eptp | 1 << 7,                    /* reserved bit 7 */
        eptp | 1 << 11,                   /* reserved bit 11 */
        eptp | 1ull << maxphyaddr,        /* beyond the physical-address width */
    };
    w(VMCS_GUEST_RIP, (uint64_t)guest_read);
    for (unsigned k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        w(VMCS_EPT_POINTER, bad[k]);
        CHECK_EQ(vm_enter(0), VMX_FAIL_VALID);
        CHECK_EQ(vmx_error(), 7);
    }
    w(VMCS_EPT_POINTER, (eptp & ~7ull) | 0); /* UC is fine */
    run(guest_read, (uint64_t)tpages[2], R_VMCALL);
    w(VMCS_EPT_POINTER, eptp);
}

/* INVEPT at CPL 3 (the identity map is user-accessible): #GP(0). The outcome
 * goes back to CPL 0 through INT 80H (RAX). */
static void user_invept(void)
{
    uint64_t r = (uint64_t)vmx_invept(2, 0);
    __asm__ volatile("int $0x80" ::"a"(r) : "memory");
}
static void back_from_user(struct trap_frame *f)
{
    user_return(f->rax);
}

/* INVEPT: privilege, types, descriptor checks, the VM exit in non-root operation. */
static void test_invept(void)
{
    idt_set_gate(0x80, 0xe, 3, 0, true);
    set_trap_handler(0x80, back_from_user);
    CHECK_EQ(user_call(user_invept, (uint64_t)stack_top(3)), VMX_EXC(EXC_GP));
    CHECK_EQ(vmx_invept(1, eptp), VMX_OK);
    CHECK_EQ(vmx_invept(2, 0x123), VMX_OK); /* all-context ignores the descriptor */
    for (uint64_t type = 0; type < 5; type += 3) {
        CHECK_EQ(vmx_invept(type, eptp), VMX_FAIL_VALID);
        CHECK_EQ(vmx_error(), 28);
    }
    CHECK_EQ(vmx_invept(1ull << 32 | 1, eptp), VMX_FAIL_VALID); /* 64-bit register operand */
    CHECK_EQ(vmx_invept(1, (eptp & ~7ull) | 1), VMX_FAIL_VALID);  /* an EPTP VM entry refuses */
    CHECK_EQ(vmx_error(), 28);
    CHECK_EQ(vmx_invept(1, eptp | 1 << 8), VMX_FAIL_VALID);
    CHECK_EQ(vmx_invept(1, (eptp & ~0x38ull) | 2 << 3), VMX_FAIL_VALID);
    /* in non-root operation: VM exit 50, qualification the displacement, register in info[31:28] */
    invept_desc.eptp = eptp;
    run(guest_invept, 0, R_INVEPT);
    CHECK_EQ(rd(VMCS_VM_EXIT_INSTRUCTION_LEN), 9);
    CHECK_EQ(rd(VMCS_GUEST_RIP), (uint64_t)guest_invept);
    CHECK_EQ(rd(VMCS_VMX_INSTRUCTION_INFO) >> 28, 1); /* RCX */
}

int test_main(const struct mb_info *mbi)
{
    vmx_start();
    test_caps();

    ept = ept_identity(); /* 4K pages for 0-2M, 2M up to 1G, 1G above */
    eptp = ept_pointer(ept, false);

    vmcs_setup_guest64((uint64_t)guest_read, (uint64_t)guest_stack + sizeof guest_stack);
    /* secondary controls with "enable EPT"; 64-bit host and guest */
    vmcs_setup_controls(0, 1u << 31, 1u << 1, 1u << 9, 1u << 9);
    CHECK_EQ(rd(VMCS_SECONDARY_VM_EXEC_CONTROL) & 2, 2);
    w(VMCS_EPT_POINTER, eptp);

    test_page_sizes();
    test_permissions();
    test_misconfigurations();
    test_paging_structures();
    test_accessed_dirty();
    test_event_delivery();
    test_nmi_unblocking();
    test_eptp_checks();
    test_invept();
    CHECK_EQ(vmx_off(), VMX_OK);
    CHECK_EQ(vmx_invept(2, 0), VMX_EXC(EXC_UD)); /* outside VMX operation */
    return check_result();
}
