/* test_vmx_exit.c - VM exits (SDM Vol. 3C chapter 28 "VM Exits") and the
 * intercepts of non-root operation (chapter 26): the saved guest state and
 * loaded host state, the MSR-store and MSR-load lists, each conditional exit
 * with and without its control (so each control's implementation is needed),
 * qualifications and instruction information, CR0/CR4 shadows, TSC
 * offsetting, the exception bitmap with the #PF mask/match, NMI and
 * external-interrupt exiting, the interrupt window, and a golden trace. */
#include "vmx_guest_test.h"

#include <stdio.h>
#include <stdlib.h>

#include "emu/fault.h"

static void set_proc(uint32_t ctl) { W(CPU_BASED_VM_EXEC_CONTROL, vg_allowed0(VMX_PROC) | ctl); }
static void set_proc2(uint32_t ctl)
{
    set_proc(VMX_CTL(PROC, SECONDARY_CONTROLS));
    W(SECONDARY_VM_EXEC_CONTROL, ctl);
}

/* A guest instruction that exits with `reason`; the guest RIP is saved at the instruction. */
static void expect_exit(int r, uint32_t reason)
{
    uint64_t rip = c->insn_rip;
    if (r != EXITED || c->nonroot)
        print_error("expected exit %u, got %d (nonroot %d)\n", reason, r, c->nonroot);
    assert_int_equal(r, EXITED);
    assert_false(c->nonroot);
    assert_int_equal(R(VM_EXIT_REASON), reason);
    assert_int_equal(R(GUEST_RIP), rip);
    assert_int_equal(c->rip, HOST_RIP);
}

static void test_cpuid_exit_and_host_state(void **state)
{
    vg_launch();
    c->gpr[R_RSP] = 0x5f00;
    expect_exit(RUN(0x0f, 0xa2), EXIT_REASON_CPUID);
    assert_int_equal(R(VM_EXIT_INSTRUCTION_LEN), 2);
    assert_int_equal(R(GUEST_RSP), 0x5f00);
    assert_int_equal(R(GUEST_CS_AR_BYTES), 0xa09b);
    assert_true(R(VM_ENTRY_CONTROLS) & VMX_CTL(ENTRY, IA32E_MODE_GUEST));
    /* host state as 28.5 gives it */
    assert_int_equal(c->gpr[R_RSP], 0x7800);
    assert_int_equal(cpu_get_rflags(c), 2);
    assert_int_equal(c->dr[7], 0x400);
    assert_int_equal(c->seg[S_CS].sel, 0x08);
    assert_int_equal(c->seg[S_CS].ar, 11 | AR_S | AR_P | AR_L | AR_G);
    assert_int_equal(c->seg[S_SS].ar, 3 | AR_S | AR_P | AR_DB | AR_G);
    assert_int_equal(c->seg[S_FS].ar & AR_UNUSABLE, AR_UNUSABLE); /* null selector */
    assert_int_equal(c->seg[S_TR].ar, 11 | AR_P);
    assert_int_equal(c->seg[S_TR].limit, 0x67);
    assert_true(c->seg[S_LDTR].ar & AR_UNUSABLE);
    assert_int_equal(c->gdtr.limit, 0xffff);
    assert_int_equal(c->idtr.limit, 0xffff);
    assert_int_equal(c->mode, MODE_LONG64);
    assert_int_equal(c->cpl, 0);
}

static void test_hlt_exiting(void **state)
{
    vg_launch();
    assert_int_equal(RUN(0xf4), NOFAULT);
    assert_true(c->halted && c->nonroot);
    c->halted = false;
    assert_int_equal(RUN(0x0f, 0xa2), EXITED);
    set_proc(VMX_CTL(PROC, HLT_EXITING));
    assert_int_equal(vmresume(), EXITED);
    expect_exit(RUN(0xf4), EXIT_REASON_HLT);
    assert_int_equal(R(GUEST_ACTIVITY_STATE), 0);
}

static void test_io_exits(void **state)
{
    vg_launch();
    assert_int_equal(RUN(0xe6, 0x80), NOFAULT); /* OUT 80H, AL: no I/O exiting */
    assert_int_equal(RUN(0x0f, 0xa2), EXITED);
    set_proc(VMX_CTL(PROC, UNCOND_IO_EXITING));
    assert_int_equal(vmresume(), EXITED);
    expect_exit(RUN(0xe6, 0x80), EXIT_REASON_IO_INSTRUCTION);
    assert_int_equal(R(EXIT_QUALIFICATION), 0 | 1 << 6 | 0x80 << 16);
    assert_int_equal(vmresume(), EXITED);
    c->gpr[R_RDX] = 0x3f8;
    expect_exit(RUN(0x66, 0xed), EXIT_REASON_IO_INSTRUCTION); /* IN AX, DX */
    assert_int_equal(R(EXIT_QUALIFICATION), 1 | 1 << 3 | 0x3f8ull << 16);
    assert_int_equal(vmresume(), EXITED);
    c->gpr[R_RSI] = 0x8000;
    expect_exit(RUN(0xf3, 0x6e), EXIT_REASON_IO_INSTRUCTION); /* REP OUTSB */
    assert_int_equal(R(EXIT_QUALIFICATION), 1 << 4 | 1 << 5 | 0x3f8ull << 16);
    assert_int_equal(R(GUEST_LINEAR_ADDRESS), 0x8000);
    assert_int_equal(R(VMX_INSTRUCTION_INFO), 2 << 7 | S_DS << 15);
    /* I/O bitmaps: only port 3F9H (bitmap A) and 8000H (bitmap B) exit */
    set_proc(VMX_CTL(PROC, USE_IO_BITMAPS));
    W(IO_BITMAP_A, 0x11000);
    W(IO_BITMAP_B, 0x12000);
    phys_write(m, 0x11000 + 0x3f9 / 8, 1, 1 << (0x3f9 & 7));
    phys_write(m, 0x12000, 1, 1);
    assert_int_equal(vmresume(), EXITED);
    c->gpr[R_RDX] = 0x3f8;
    assert_int_equal(RUN(0xec), NOFAULT);                               /* IN AL, DX: 3F8H only */
    expect_exit(RUN(0x66, 0xed), EXIT_REASON_IO_INSTRUCTION);           /* IN AX, DX touches 3F9H */
    assert_int_equal(vmresume(), EXITED);
    c->gpr[R_RDX] = 0x8000;
    expect_exit(RUN(0xee), EXIT_REASON_IO_INSTRUCTION);
}

static void test_msr_exits(void **state)
{
    vg_launch();
    c->gpr[R_RCX] = 0x174;
    expect_exit(RUN(0x0f, 0x32), EXIT_REASON_MSR_READ); /* no bitmaps: every RDMSR exits */
    set_proc(VMX_CTL(PROC, USE_MSR_BITMAPS));
    W(MSR_BITMAP, 0x16000);
    phys_write(m, 0x16000 + 0x175 / 8, 1, 1 << (0x175 & 7));        /* read-low: 175H */
    phys_write(m, 0x16c00 + 0x80 / 8, 1, 1 << (0x80 & 7));          /* write-high: C0000080H */
    assert_int_equal(vmresume(), EXITED);
    c->msr_sysenter_cs = 0x10;
    c->gpr[R_RCX] = 0x174;
    assert_int_equal(RUN(0x0f, 0x32), NOFAULT);
    assert_int_equal(c->gpr[R_RAX], 0x10);
    c->gpr[R_RCX] = 0x175;
    expect_exit(RUN(0x0f, 0x32), EXIT_REASON_MSR_READ);
    assert_int_equal(vmresume(), EXITED);
    c->gpr[R_RCX] = 0xc0000080;
    assert_int_equal(RUN(0x0f, 0x32), NOFAULT); /* reading EFER does not exit */
    expect_exit(RUN(0x0f, 0x30), EXIT_REASON_MSR_WRITE);
    assert_int_equal(vmresume(), EXITED);
    c->gpr[R_RCX] = 0x40000000; /* outside both ranges */
    expect_exit(RUN(0x0f, 0x32), EXIT_REASON_MSR_READ);
}

static void test_cr_shadows_and_exits(void **state)
{
    W(CR0_GUEST_HOST_MASK, CR0_NE | CR0_TS);
    W(CR0_READ_SHADOW, CR0_TS);
    W(CR4_GUEST_HOST_MASK, CR4_VMXE);
    W(CR4_READ_SHADOW, 0);
    vg_launch();
    assert_int_equal(RUN(0x0f, 0x20, 0xc0), NOFAULT); /* MOV RAX, CR0: NE reads 0, TS 1 from the shadow */
    assert_int_equal(c->gpr[R_RAX], CR0_PE | CR0_ET | CR0_TS | CR0_PG);
    assert_int_equal(RUN(0x0f, 0x20, 0xe3), NOFAULT); /* MOV RBX, CR4 */
    assert_int_equal(c->gpr[R_RBX], CR4_PAE);
    c->gpr[R_RAX] = CR0_PE | CR0_ET | CR0_TS | CR0_PG | CR0_MP; /* agrees with the shadow: no exit */
    assert_int_equal(RUN(0x0f, 0x22, 0xc0), NOFAULT);
    assert_int_equal(c->cr0, CR0_PE | CR0_ET | CR0_NE | CR0_PG | CR0_MP); /* TS and NE stay the host's */
    c->gpr[R_RCX] = CR0_PE | CR0_ET | CR0_PG; /* clears the shadowed TS */
    expect_exit(RUN(0x0f, 0x22, 0xc1), EXIT_REASON_CR_ACCESS);
    assert_int_equal(R(EXIT_QUALIFICATION), 0 | 0 << 4 | R_RCX << 8);
    assert_int_equal(vmresume(), EXITED);
    expect_exit(RUN(0x0f, 0x06), EXIT_REASON_CR_ACCESS); /* CLTS with TS shadowed as 1 */
    assert_int_equal(R(EXIT_QUALIFICATION), 2 << 4);
    /* CR3: load exiting with one target, store exiting */
    set_proc(VMX_CTL(PROC, CR3_LOAD_EXITING) | VMX_CTL(PROC, CR3_STORE_EXITING));
    W(CR3_TARGET_COUNT, 1);
    W(CR3_TARGET_VALUE0, 0x1000);
    assert_int_equal(vmresume(), EXITED);
    c->gpr[R_RDX] = 0x1000;
    assert_int_equal(RUN(0x0f, 0x22, 0xda), NOFAULT); /* MOV CR3, RDX: a target */
    c->gpr[R_RDX] = 0x2000;
    expect_exit(RUN(0x0f, 0x22, 0xda), EXIT_REASON_CR_ACCESS);
    assert_int_equal(R(EXIT_QUALIFICATION), 3 | R_RDX << 8);
    assert_int_equal(vmresume(), EXITED);
    expect_exit(RUN(0x0f, 0x20, 0xd8), EXIT_REASON_CR_ACCESS); /* MOV RAX, CR3 */
    assert_int_equal(R(EXIT_QUALIFICATION), 3 | 1 << 4);
    set_proc(VMX_CTL(PROC, CR8_LOAD_EXITING));
    assert_int_equal(vmresume(), EXITED);
    expect_exit(RUN(0x44, 0x0f, 0x22, 0xc0), EXIT_REASON_CR_ACCESS); /* MOV CR8, RAX */
    assert_int_equal(R(EXIT_QUALIFICATION), 8);
}

static void test_tsc(void **state)
{
    set_proc(VMX_CTL(PROC, USE_TSC_OFFSETTING));
    W(TSC_OFFSET, 1000000);
    vg_launch();
    uint64_t before = cpu_tsc(c);
    assert_int_equal(RUN(0x0f, 0x31), NOFAULT);
    uint64_t t = (uint32_t)c->gpr[R_RAX] | c->gpr[R_RDX] << 32;
    assert_true(t >= before + 1000000 && t < cpu_tsc(c) + 1000000 + 1);
    assert_int_equal(RUN(0x0f, 0xa2), EXITED);
    set_proc(VMX_CTL(PROC, RDTSC_EXITING));
    assert_int_equal(vmresume(), EXITED);
    expect_exit(RUN(0x0f, 0x31), EXIT_REASON_RDTSC);
}

static void test_dr_invlpg_pause_desc(void **state)
{
    set_proc(VMX_CTL(PROC, MOV_DR_EXITING) | VMX_CTL(PROC, INVLPG_EXITING) | VMX_CTL(PROC, PAUSE_EXITING));
    vg_launch();
    expect_exit(RUN(0x0f, 0x21, 0xfb), EXIT_REASON_DR_ACCESS); /* MOV RBX, DR7 */
    assert_int_equal(R(EXIT_QUALIFICATION), 7 | 1 << 4 | R_RBX << 8);
    assert_int_equal(vmresume(), EXITED);
    c->gpr[R_RAX] = 0x123456;
    expect_exit(RUN(0x0f, 0x01, 0x38), EXIT_REASON_INVLPG); /* INVLPG [RAX] */
    assert_int_equal(R(EXIT_QUALIFICATION), 0x123456);
    assert_int_equal(vmresume(), EXITED);
    expect_exit(RUN(0xf3, 0x90), EXIT_REASON_PAUSE_INSTRUCTION);
    set_proc2(VMX_CTL(PROC2, DESC_TABLE_EXITING));
    assert_int_equal(vmresume(), EXITED);
    c->gpr[R_RBX] = 0x8000;
    expect_exit(RUN(0x0f, 0x01, 0x43, 0x10), EXIT_REASON_GDTR_IDTR); /* SGDT [RBX+10H] */
    assert_int_equal(R(EXIT_QUALIFICATION), 0x10);
    assert_int_equal(R(VMX_INSTRUCTION_INFO), 2 << 7 | 1 << 11 | S_DS << 15 | 1 << 22 | R_RBX << 23 | 0 << 28);
    assert_int_equal(vmresume(), EXITED);
    expect_exit(RUN(0x0f, 0x00, 0xd8), EXIT_REASON_LDTR_TR); /* LTR AX */
    assert_int_equal(R(VMX_INSTRUCTION_INFO) >> 28, 3);
    assert_true(R(VMX_INSTRUCTION_INFO) & 1 << 10);
}

static void test_vmx_instructions_exit(void **state)
{
    vg_launch();
    expect_exit(RUN(0x0f, 0x01, 0xc1), EXIT_REASON_VMCALL);
    assert_int_equal(R(VM_EXIT_INSTRUCTION_LEN), 3);
    assert_int_equal(vmresume(), EXITED);
    expect_exit(RUN(0x0f, 0x01, 0xc2), EXIT_REASON_VMLAUNCH);
    assert_int_equal(vmresume(), EXITED);
    c->gpr[R_RCX] = 0x8000;
    expect_exit(RUN(0x0f, 0xc7, 0x39), EXIT_REASON_VMPTRST); /* VMPTRST [RCX] */
    assert_int_equal(R(VMX_INSTRUCTION_INFO), 2 << 7 | S_DS << 15 | 1 << 22 | R_RCX << 23);
}

static void test_more_conditional_exits(void **state)
{
    vg_launch();
    /* without their controls these run in the guest */
    c->gpr[R_RCX] = 0;
    assert_int_equal(RUN(0x0f, 0x09), NOFAULT);             /* WBINVD */
    assert_int_equal(RUN(0x48, 0x0f, 0xc7, 0xf0), NOFAULT); /* RDRAND RAX */
    assert_int_equal(RUN(0x44, 0x0f, 0x20, 0xc0), NOFAULT); /* MOV RAX, CR8 */
    assert_int_equal(RUN(0x0f, 0x01, 0xf9), EXC_UD);         /* RDTSCP: "enable RDTSCP" is 0 */
    assert_true(c->nonroot);
    c->rip = GUEST_RIP;
    assert_int_equal(RUN(0x0f, 0xa2), EXITED);
    set_proc(VMX_CTL(PROC, RDPMC_EXITING) | VMX_CTL(PROC, CR8_STORE_EXITING) | VMX_CTL(PROC, SECONDARY_CONTROLS));
    W(SECONDARY_VM_EXEC_CONTROL, VMX_CTL(PROC2, WBINVD_EXITING) | VMX_CTL(PROC2, RDRAND_EXITING) |
                                     VMX_CTL(PROC2, RDSEED_EXITING) | VMX_CTL(PROC2, ENABLE_RDTSCP));
    static const struct { uint8_t b[4]; int n; uint32_t reason; } t[] = {
        { { 0x0f, 0x33 }, 2, EXIT_REASON_RDPMC },
        { { 0x0f, 0x09 }, 2, EXIT_REASON_WBINVD },
        { { 0x48, 0x0f, 0xc7, 0xf3 }, 4, EXIT_REASON_RDRAND },
        { { 0x0f, 0xc7, 0xf9 }, 3, EXIT_REASON_RDSEED },
        { { 0x44, 0x0f, 0x20, 0xc0 }, 4, EXIT_REASON_CR_ACCESS },
    };
    for (unsigned k = 0; k < sizeof t / sizeof t[0]; k++) {
        assert_int_equal(vmresume(), EXITED);
        expect_exit(vg_run(t[k].b, t[k].n), t[k].reason);
        assert_int_equal(R(VM_EXIT_INSTRUCTION_LEN), t[k].n);
    }
    assert_int_equal(R(EXIT_QUALIFICATION), 8 | 1 << 4); /* MOV from CR8 into RAX */
    assert_int_equal(vmresume(), EXITED);
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_CR_ACCESS); /* unchanged by the entry */
    expect_exit(RUN(0x48, 0x0f, 0xc7, 0xf3), EXIT_REASON_RDRAND);
    assert_int_equal(R(VMX_INSTRUCTION_INFO), R_RBX << 3 | 2 << 11);
    assert_int_equal(vmresume(), EXITED);
    c->msr_tsc_aux = 7;
    assert_int_equal(RUN(0x0f, 0x01, 0xf9), NOFAULT); /* RDTSCP enabled */
    assert_int_equal(c->gpr[R_RCX], 7);
}

/* "load debug controls", "load IA32_PAT", "load IA32_EFER" on entry; the save and load controls on exit. */
static void test_save_and_load_controls(void **state)
{
    W(VM_ENTRY_CONTROLS, R(VM_ENTRY_CONTROLS) | VMX_CTL(ENTRY, LOAD_DEBUG_CONTROLS) | VMX_CTL(ENTRY, LOAD_PAT) |
                             VMX_CTL(ENTRY, LOAD_EFER));
    W(VM_EXIT_CONTROLS, R(VM_EXIT_CONTROLS) | VMX_CTL(EXIT, SAVE_DEBUG_CONTROLS) | VMX_CTL(EXIT, SAVE_PAT) |
                            VMX_CTL(EXIT, SAVE_EFER) | VMX_CTL(EXIT, LOAD_PAT));
    W(GUEST_DR7, 0x401);
    W(GUEST_IA32_PAT, 0x0606060606060606ull);
    W(GUEST_IA32_EFER, EFER_LME | EFER_LMA | EFER_NXE);
    W(HOST_IA32_PAT, 0x0404040404040404ull);
    vg_launch();
    assert_int_equal(c->dr[7], 0x401);
    assert_int_equal(c->msr_pat, 0x0606060606060606ull);
    assert_int_equal(c->efer, EFER_LME | EFER_LMA | EFER_NXE);
    c->dr[7] = 0x403;
    c->msr_pat = 0x0505050505050505ull;
    c->efer &= ~EFER_NXE;
    assert_int_equal(RUN(0x0f, 0xa2), EXITED);
    assert_int_equal(R(GUEST_DR7), 0x403);
    assert_int_equal(R(GUEST_IA32_PAT), 0x0505050505050505ull);
    assert_int_equal(R(GUEST_IA32_EFER), EFER_LME | EFER_LMA);
    assert_int_equal(c->msr_pat, 0x0404040404040404ull);
    assert_int_equal(c->dr[7], 0x400);
    /* a guest EFER.LMA that disagrees with "IA-32e mode guest" fails the entry */
    W(GUEST_IA32_EFER, EFER_LME);
    assert_int_equal(vmresume(), EXITED);
    assert_int_equal(R(VM_EXIT_REASON), 1u << 31 | EXIT_REASON_INVALID_GUEST_STATE);
}

/* ---- events ---- */

static void test_exception_bitmap(void **state)
{
    W(EXCEPTION_BITMAP, 1u << EXC_UD | 1u << EXC_BP);
    vg_launch();
    expect_exit(RUN(0x0f, 0x0b), EXIT_REASON_EXCEPTION_NMI); /* UD2 */
    assert_int_equal(R(VM_EXIT_INTR_INFO), 1u << 31 | 3 << 8 | EXC_UD);
    assert_int_equal(vmresume(), EXITED);
    expect_exit(RUN(0xcc), EXIT_REASON_EXCEPTION_NMI); /* INT3: a software exception */
    assert_int_equal(R(VM_EXIT_INTR_INFO), 1u << 31 | 6 << 8 | EXC_BP);
    assert_int_equal(R(VM_EXIT_INSTRUCTION_LEN), 1);
    W(EXCEPTION_BITMAP, 0);
    assert_int_equal(vmresume(), EXITED);
    assert_int_equal(RUN(0x0f, 0x0b), EXC_UD); /* delivered to the guest */
    assert_true(c->nonroot);
    assert_int_equal(c->rip, 0x9000 + EXC_UD);
    /* a later exit is not during that delivery: no IDT-vectoring information */
    expect_exit(RUN(0x0f, 0xa2), EXIT_REASON_CPUID);
    assert_int_equal(R(IDT_VECTORING_INFO_FIELD), 0);
}

static void test_page_fault_mask_match(void **state)
{
    /* bit 14 set: #PF exits when (error code & mask) == match: here only writes */
    W(EXCEPTION_BITMAP, 1u << EXC_PF);
    W(PAGE_FAULT_ERROR_CODE_MASK, PF_W);
    W(PAGE_FAULT_ERROR_CODE_MATCH, PF_W);
    vg_launch();
    c->gpr[R_RAX] = 0x100000000ull << 4; /* beyond the 4 GiB the page tables map */
    assert_int_equal(RUN(0x8b, 0x00), EXC_PF); /* a read: delivered */
    assert_true(c->nonroot);
    c->rip = GUEST_RIP;
    c->cr2 = 0x1234;
    expect_exit(RUN(0x89, 0x00), EXIT_REASON_EXCEPTION_NMI); /* a write: exits */
    assert_int_equal(R(EXIT_QUALIFICATION), 0x100000000ull << 4);
    assert_int_equal(c->cr2, 0x1234); /* a #PF that exits does not load CR2 (SDM "VM Exits") */
    assert_int_equal(R(VM_EXIT_INTR_INFO), 1u << 31 | 1 << 11 | 3 << 8 | EXC_PF);
    assert_int_equal(R(VM_EXIT_INTR_ERROR_CODE), PF_W);
    assert_int_equal(R(VM_EXIT_INSTRUCTION_LEN), 0); /* a hardware exception has none */
    /* bit 14 clear: the sense inverts */
    W(EXCEPTION_BITMAP, 0);
    assert_int_equal(vmresume(), EXITED);
    expect_exit(RUN(0x8b, 0x00), EXIT_REASON_EXCEPTION_NMI);
}

static int ack_vector;
static int fake_ack(void *opaque, int cpu) { return ack_vector; }

static void test_nmi_and_external_interrupt_exiting(void **state)
{
    W(PIN_BASED_VM_EXEC_CONTROL, vg_allowed0(VMX_PIN) | VMX_CTL(PIN, NMI_EXITING) |
                                     VMX_CTL(PIN, EXT_INTR_EXITING));
    W(VM_EXIT_CONTROLS, R(VM_EXIT_CONTROLS) | VMX_CTL(EXIT, ACK_INTR_ON_EXIT));
    vg_launch();
    cpu_deliver(c, EV_NMI, EXC_NMI, 0, 0);
    assert_false(c->nonroot);
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_EXCEPTION_NMI);
    assert_int_equal(R(VM_EXIT_INTR_INFO), 1u << 31 | 2 << 8 | EXC_NMI);
    assert_true(c->nmi_blocked);
    c->nmi_blocked = false;
    assert_int_equal(vmresume(), EXITED);
    m->intr_ack = fake_ack;
    ack_vector = 0x41;
    assert_true(vmx_event(c, EV_EXTINT, -1, 0, 0)); /* IF = 0 does not matter */
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_EXTERNAL_INTERRUPT);
    assert_int_equal(R(VM_EXIT_INTR_INFO), 1u << 31 | 0x41);
    assert_int_equal(R(GUEST_RIP), GUEST_RIP);
    /* without the controls the events go to the guest */
    W(PIN_BASED_VM_EXEC_CONTROL, vg_allowed0(VMX_PIN));
    assert_int_equal(vmresume(), EXITED);
    assert_false(vmx_event(c, EV_EXTINT, -1, 0, 0));
    cpu_deliver(c, EV_NMI, EXC_NMI, 0, 0);
    assert_true(c->nonroot);
    assert_int_equal(c->rip, 0x9000 + EXC_NMI);
}

/* A fault while delivering an event is reported with IDT-vectoring information. */
static void test_idt_vectoring(void **state)
{
    W(EXCEPTION_BITMAP, 1u << EXC_GP);
    W(GUEST_IDTR_LIMIT, 0x20f); /* vector 0x30 is beyond the IDT limit */
    W(GUEST_RFLAGS, 2 | F_IF);
    W(VM_ENTRY_INTR_INFO_FIELD, 1u << 31 | 0x30); /* external interrupt 30H */
    int r = vmlaunch();
    assert_int_equal(r, EXITED);
    assert_false(c->nonroot);
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_EXCEPTION_NMI);
    assert_int_equal(R(VM_EXIT_INTR_INFO), 1u << 31 | 1 << 11 | 3 << 8 | EXC_GP);
    assert_int_equal(R(VM_EXIT_INTR_ERROR_CODE), 0x30 * 8 + 2 + 1);
    assert_int_equal(R(IDT_VECTORING_INFO_FIELD), 1u << 31 | 0x30);
}

static void test_interrupt_window(void **state)
{
    set_proc(VMX_CTL(PROC, INTR_WINDOW_EXITING));
    vg_launch();
    assert_true(c->stop & STOP_VMX);
    c->stop &= ~STOP_VMX;
    vmx_boundary(c); /* IF = 0: closed */
    assert_true(c->nonroot);
    phys_write(m, c->gpr[R_RSP], 8, 2 | F_IF);
    assert_int_equal(RUN(0x9d), NOFAULT); /* POPF with IF = 1 on the stack */
    assert_true(c->stop & STOP_VMX);
    vmx_boundary(c);
    assert_false(c->nonroot);
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_INTERRUPT_WINDOW);
    assert_int_equal(R(GUEST_RIP), GUEST_RIP + 1);
}

/* Through the real run loop: STI opens the window after the next instruction
 * (emu/run.c asks vmx_boundary once the shadow ends); the host then halts. */
static void test_interrupt_window_run_loop(void **state)
{
    set_proc(VMX_CTL(PROC, INTR_WINDOW_EXITING));
    phys_write(m, HOST_RIP, 1, 0xf4);                     /* host: HLT */
    phys_write(m, GUEST_RIP, 1, 0xfb); /* guest: STI; NOP; HLT */
    phys_write(m, GUEST_RIP + 1, 1, 0x90);
    phys_write(m, GUEST_RIP + 2, 1, 0xf4);
    vg_launch();
    m->max_cycles = c->cycles + 100000;
    machine_run(m);
    assert_false(c->nonroot);
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_INTERRUPT_WINDOW);
    assert_int_equal(R(GUEST_RIP), GUEST_RIP + 2);
    assert_int_equal(c->rip, HOST_RIP + 1);
}

/* Through the run loop: a pending interrupt with external-interrupt exiting exits even with IF = 0. */
static void test_external_interrupt_run_loop(void **state)
{
    W(PIN_BASED_VM_EXEC_CONTROL, vg_allowed0(VMX_PIN) | VMX_CTL(PIN, EXT_INTR_EXITING));
    phys_write(m, HOST_RIP, 1, 0xf4);
    phys_write(m, GUEST_RIP, 2, 0xfeeb); /* JMP $ */
    vg_launch();
    c->intr_line = true;
    m->max_cycles = c->cycles + 100000;
    machine_run(m);
    assert_false(c->nonroot);
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_EXTERNAL_INTERRUPT);
    assert_int_equal(R(VM_EXIT_INTR_INFO), 0); /* not acknowledged */
    assert_int_equal(R(GUEST_RIP), GUEST_RIP);
    c->intr_line = false;
}

/* #UD with an IDT too short for it: #GP, #DF, then a triple fault, which exits. */
static void test_triple_fault(void **state)
{
    W(GUEST_IDTR_LIMIT, 0);
    vg_launch();
    expect_exit(RUN(0x0f, 0x0b), EXIT_REASON_TRIPLE_FAULT);
    assert_false(c->shutdown);
    assert_int_equal(m->exit_reason, MEXIT_NONE);
}

/* A SIPI exits in the wait-for-SIPI state (qualification: its vector), INIT always. */
static void test_init_and_sipi(void **state)
{
    W(GUEST_ACTIVITY_STATE, 3);
    vg_launch();
    assert_true(c->wait_for_sipi);
    cpu_sipi(c, 0x12);
    assert_false(c->nonroot);
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_SIPI);
    assert_int_equal(R(EXIT_QUALIFICATION), 0x12);
    assert_int_equal(R(GUEST_ACTIVITY_STATE), 3);
    assert_false(c->wait_for_sipi);
    W(GUEST_ACTIVITY_STATE, 0);
    assert_int_equal(vmresume(), EXITED);
    cpu_sipi(c, 0x12); /* not waiting: ignored */
    assert_true(c->nonroot);
    assert_int_equal(c->rip, GUEST_RIP);
    vmx_init_signal(c); /* virt_ops.init_signal, which emu/cpu.c calls in non-root operation */
    assert_false(c->nonroot);
    assert_int_equal(R(VM_EXIT_REASON), EXIT_REASON_INIT_SIGNAL);
    assert_int_equal(m->exit_reason, MEXIT_NONE);
}

/* ---- MSR lists on exit ---- */
static void test_exit_msr_lists(void **state)
{
    W(VM_EXIT_MSR_STORE_ADDR, 0x17000);
    W(VM_EXIT_MSR_STORE_COUNT, 1);
    phys_write(m, 0x17000, 8, 0x175);
    W(VM_EXIT_MSR_LOAD_ADDR, 0x17100);
    W(VM_EXIT_MSR_LOAD_COUNT, 1);
    phys_write(m, 0x17100, 8, 0x175);
    phys_write(m, 0x17108, 8, 0x7700);
    vg_launch();
    c->msr_sysenter_esp = 0x5500;
    assert_int_equal(RUN(0x0f, 0xa2), EXITED);
    assert_int_equal(phys_read(m, 0x17008, 8), 0x5500);
    assert_int_equal(c->msr_sysenter_esp, 0x7700);
    /* a host MSR that cannot be loaded is a VMX abort (indicator 4) and shutdown */
    phys_write(m, 0x17100, 8, 0x12345678);
    assert_int_equal(vmresume(), EXITED);
    assert_int_equal(RUN(0x0f, 0xa2), EXITED);
    assert_int_equal(phys_read(m, VMCS_A + VMCS_OFF_ABORT, 4), 4);
    assert_true(c->shutdown);
}

/* ---- the trace of a scenario, byte for byte ---- */
static void test_golden_trace(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    vmx_trace_open(f);
    c->cycles = 5000;
    W(GUEST_CR0, CR0_PE | CR0_ET | CR0_PG);
    vmlaunch();                                    /* reason 33: CR0.NE */
    W(GUEST_CR0, CR0_PE | CR0_ET | CR0_NE | CR0_PG);
    W(HOST_TR_SELECTOR, 0);
    vmlaunch();                                    /* VMfailValid(8) */
    W(HOST_TR_SELECTOR, 0x18);
    set_proc(VMX_CTL(PROC, USE_MSR_BITMAPS) | VMX_CTL(PROC, UNCOND_IO_EXITING));
    W(MSR_BITMAP, 0x16000);
    phys_write(m, 0x16000 + 0x10 / 8, 1, 1 << (0x10 & 7));
    c->cycles = 6000;
    vmlaunch();
    RUN(0x0f, 0xa2);                               /* CPUID */
    vmresume();
    c->gpr[R_RCX] = 0x10;
    RUN(0x0f, 0x32);                               /* RDMSR IA32_TIME_STAMP_COUNTER */
    vmresume();
    c->gpr[R_RDX] = 0x3f8;
    RUN(0xee);                                     /* OUT DX, AL */
    vmx_trace_open(NULL);
    fclose(f);
    FILE *g = fopen("tests/unit/golden/vmx_entry_exit.jsonl", "r");
    assert_non_null(g);
    char want[8192];
    size_t n = fread(want, 1, sizeof want - 1, g);
    fclose(g);
    want[n] = 0;
    if (len != n || memcmp(buf, want, n)) {
        /* the trace this run wrote, for comparing by eye or replacing the golden file */
        FILE *o = fopen("vmx_entry_exit.jsonl.out", "w");
        if (o) {
            fwrite(buf, 1, len, o);
            fclose(o);
        }
        print_error("trace differs from tests/unit/golden/vmx_entry_exit.jsonl: see vmx_entry_exit.jsonl.out\n");
    }
    assert_int_equal(len, n);
    assert_memory_equal(buf, want, n);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, vg_setup, vt_teardown)
        T(test_cpuid_exit_and_host_state),
        T(test_hlt_exiting),
        T(test_io_exits),
        T(test_msr_exits),
        T(test_cr_shadows_and_exits),
        T(test_tsc),
        T(test_dr_invlpg_pause_desc),
        T(test_vmx_instructions_exit),
        T(test_more_conditional_exits),
        T(test_save_and_load_controls),
        T(test_exception_bitmap),
        T(test_page_fault_mask_match),
        T(test_nmi_and_external_interrupt_exiting),
        T(test_idt_vectoring),
        T(test_interrupt_window),
        T(test_interrupt_window_run_loop),
        T(test_external_interrupt_run_loop),
        T(test_triple_fault),
        T(test_init_and_sipi),
        T(test_exit_msr_lists),
        T(test_golden_trace),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
