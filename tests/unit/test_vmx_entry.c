/* test_vmx_entry.c - VMLAUNCH/VMRESUME (SDM Vol. 3C chapter 27 "VM Entries"):
 * the instruction's own failures, one broken check per class with the exact
 * VMfailValid error or VM-entry-failure exit (reason 33/34, qualification),
 * the loaded guest state, the MSR-load list, event injection of each type, and
 * the check table itself. */
#include "vmx_guest_test.h"

#include <stdio.h>

#include "vmx/entry_checks.h"

/* A VMLAUNCH that fails with VMfailValid(err) and stays in root operation. */
#define expect_vmfail(err) expect_vmfail_at(err, __LINE__)
static void expect_vmfail_at(int err, int line)
{
    uint64_t rip = c->rip;
    int r = vmlaunch();
    if (r != NOFAULT)
        print_error("VMLAUNCH at line %d: %d\n", line, r);
    assert_int_equal(r, NOFAULT);
    assert_false(c->nonroot);
    assert_int_equal(vt_outcome(), 'Z');
    assert_int_equal(vm_error(), err);
    assert_int_equal(c->rip, rip + 3);
}

/* A VMLAUNCH that ends in a VM-entry-failure exit to the host. */
#define expect_entry_failure(reason, qual) expect_entry_failure_at(reason, qual, __LINE__)
static void expect_entry_failure_at(uint32_t reason, uint64_t qual, int line)
{
    int r = vmlaunch();
    if (r != EXITED || c->nonroot)
        print_error("VMLAUNCH at line %d: %d nonroot %d\n", line, r, c->nonroot);
    assert_int_equal(r, EXITED);
    assert_false(c->nonroot);
    assert_int_equal(R(VM_EXIT_REASON), reason | 1u << 31);
    assert_int_equal(R(EXIT_QUALIFICATION), qual);
    assert_int_equal(c->rip, HOST_RIP);
    assert_int_equal(vmx_state(c)->launch_state, 0);
}

static void test_launch_state_and_guest_load(void **state)
{
    W(GUEST_RFLAGS, 2 | F_IF | F_CF);
    W(GUEST_SYSENTER_ESP, 0x1234);
    vg_launch();
    assert_int_equal(c->cpl, 0);
    assert_int_equal(c->mode, MODE_LONG64);
    assert_true(c->efer & EFER_LMA);
    assert_int_equal(c->gpr[R_RSP], 0x6000);
    assert_int_equal(cpu_get_rflags(c), 2 | F_IF | F_CF);
    assert_int_equal(c->seg[S_TR].base, 0x4800);
    assert_int_equal(c->seg[S_CS].ar, 0xa09b);
    assert_int_equal(c->gdtr.limit, 0x27);
    assert_int_equal(c->msr_sysenter_esp, 0x1234);
    assert_int_equal(vmx_state(c)->launch_state, 1);
    /* back to the host through CPUID, then launch again: error 4; resume works */
    assert_int_equal(RUN(0x0f, 0xa2), EXITED);
    assert_false(c->nonroot);
    expect_vmfail(VMERR_VMLAUNCH_NONCLEAR);
    assert_int_equal(vmresume(), EXITED);
    assert_true(c->nonroot);
}

static void test_vmresume_nonlaunched(void **state)
{
    assert_int_equal(vmresume(), NOFAULT);
    assert_int_equal(vt_outcome(), 'Z');
    assert_int_equal(vm_error(), VMERR_VMRESUME_NONLAUNCHED);
}

static void test_no_current_vmcs_and_mov_ss(void **state)
{
    c->intr_shadow = 2; /* blocking by MOV SS */
    expect_vmfail(VMERR_ENTRY_MOV_SS_BLOCKING);
    c->intr_shadow = 0;
    vmclear(VMCS_A);
    assert_int_equal(vmlaunch(), NOFAULT);
    assert_int_equal(vt_outcome(), 'C');
}

static void test_cpl3_gp(void **state)
{
    c->cpl = 3;
    assert_int_equal(vmlaunch(), EXC_GP);
}

/* ---- checks on the controls: VMfailValid(7) ---- */
static void test_control_checks(void **state)
{
    W(PIN_BASED_VM_EXEC_CONTROL, vg_allowed0(VMX_PIN) | 1u << 31); /* reserved */
    expect_vmfail(VMERR_ENTRY_INVALID_CONTROL);
    W(PIN_BASED_VM_EXEC_CONTROL, 0); /* default1 bits cleared */
    expect_vmfail(VMERR_ENTRY_INVALID_CONTROL);
    W(PIN_BASED_VM_EXEC_CONTROL, vg_allowed0(VMX_PIN));
    W(CR3_TARGET_COUNT, 5);
    expect_vmfail(VMERR_ENTRY_INVALID_CONTROL);
    W(CR3_TARGET_COUNT, 4);
    W(CPU_BASED_VM_EXEC_CONTROL, vg_allowed0(VMX_PROC) | VMX_CTL(PROC, USE_IO_BITMAPS));
    W(IO_BITMAP_A, 0x10800);
    expect_vmfail(VMERR_ENTRY_INVALID_CONTROL);
    W(IO_BITMAP_A, 0x11000);
    W(IO_BITMAP_B, 1ull << 46);
    expect_vmfail(VMERR_ENTRY_INVALID_CONTROL);
    W(IO_BITMAP_B, 0x12000);
    W(VM_ENTRY_MSR_LOAD_ADDR, 0x13008);
    W(VM_ENTRY_MSR_LOAD_COUNT, 1);
    expect_vmfail(VMERR_ENTRY_INVALID_CONTROL);
    W(VM_ENTRY_MSR_LOAD_ADDR, 0x13000);
    W(VM_ENTRY_MSR_LOAD_COUNT, 0);
    /* #GP injection without its error code */
    W(VM_ENTRY_INTR_INFO_FIELD, 1u << 31 | 3 << 8 | EXC_GP);
    expect_vmfail(VMERR_ENTRY_INVALID_CONTROL);
    W(VM_ENTRY_INTR_INFO_FIELD, 1u << 31 | 3 << 8 | 1 << 11 | EXC_GP);
    W(VM_ENTRY_EXCEPTION_ERROR_CODE, 0x10000);
    expect_vmfail(VMERR_ENTRY_INVALID_CONTROL);
    W(VM_ENTRY_INTR_INFO_FIELD, 1u << 31 | 2 << 8 | 3); /* NMI with vector 3 */
    expect_vmfail(VMERR_ENTRY_INVALID_CONTROL);
    W(VM_ENTRY_INTR_INFO_FIELD, 1u << 31 | 4 << 8 | 0x80); /* INT n 16 bytes long */
    W(VM_ENTRY_INSTRUCTION_LEN, 16);
    expect_vmfail(VMERR_ENTRY_INVALID_CONTROL);
}

/* ---- host state: VMfailValid(8) ---- */
static void test_host_checks(void **state)
{
    W(HOST_CR0, c->cr0 & ~CR0_NE);
    expect_vmfail(VMERR_ENTRY_INVALID_HOST_STATE);
    W(HOST_CR0, c->cr0);
    W(HOST_CR4, c->cr4 & ~CR4_VMXE);
    expect_vmfail(VMERR_ENTRY_INVALID_HOST_STATE);
    W(HOST_CR4, c->cr4);
    W(HOST_SS_SELECTOR, 0x13);
    expect_vmfail(VMERR_ENTRY_INVALID_HOST_STATE);
    W(HOST_SS_SELECTOR, 0x10);
    W(HOST_TR_SELECTOR, 0);
    expect_vmfail(VMERR_ENTRY_INVALID_HOST_STATE);
    W(HOST_TR_SELECTOR, 0x18);
    W(HOST_GS_BASE, 0x0000800000000000ull);
    expect_vmfail(VMERR_ENTRY_INVALID_HOST_STATE);
    W(HOST_GS_BASE, 0);
    /* in IA-32e mode the host must be 64-bit */
    W(VM_EXIT_CONTROLS, vg_allowed0(VMX_EXIT));
    expect_vmfail(VMERR_ENTRY_INVALID_HOST_STATE);
    W(VM_EXIT_CONTROLS, vg_allowed0(VMX_EXIT) | VMX_CTL(EXIT, HOST_ADDR_SPACE_SIZE) | VMX_CTL(EXIT, LOAD_EFER));
    W(HOST_IA32_EFER, EFER_LME); /* LMA differs from host address-space size */
    expect_vmfail(VMERR_ENTRY_INVALID_HOST_STATE);
    W(HOST_IA32_EFER, EFER_LME | EFER_LMA);
    W(VM_EXIT_CONTROLS, vg_allowed0(VMX_EXIT) | VMX_CTL(EXIT, HOST_ADDR_SPACE_SIZE) | VMX_CTL(EXIT, LOAD_PAT));
    W(HOST_IA32_PAT, 0x0007040600070402ull); /* type 2 is reserved */
    expect_vmfail(VMERR_ENTRY_INVALID_HOST_STATE);
}

/* ---- guest state: exit reason 33 with bit 31 and the qualification ---- */
static void test_guest_checks(void **state)
{
    W(GUEST_CR0, CR0_PE | CR0_ET | CR0_PG); /* NE is fixed to 1 */
    expect_entry_failure(EXIT_REASON_INVALID_GUEST_STATE, 0);
    W(GUEST_CR0, CR0_PE | CR0_ET | CR0_NE | CR0_PG);
    W(GUEST_CS_AR_BYTES, 0xa093); /* data type in CS */
    expect_entry_failure(EXIT_REASON_INVALID_GUEST_STATE, 0);
    W(GUEST_CS_AR_BYTES, 0xa09b);
    W(GUEST_SS_SELECTOR, 0x13); /* SS.RPL differs from CS.RPL */
    expect_entry_failure(EXIT_REASON_INVALID_GUEST_STATE, 0);
    W(GUEST_SS_SELECTOR, 0x10);
    W(GUEST_DS_LIMIT, 0xffffe); /* G = 1 with limit bits 11:0 not all 1 */
    expect_entry_failure(EXIT_REASON_INVALID_GUEST_STATE, 0);
    W(GUEST_DS_LIMIT, 0xffffffff);
    W(GUEST_TR_AR_BYTES, 0x89); /* an available TSS */
    expect_entry_failure(EXIT_REASON_INVALID_GUEST_STATE, 0);
    W(GUEST_TR_AR_BYTES, 0x8b);
    W(GUEST_RFLAGS, 0); /* bit 1 must be 1 */
    expect_entry_failure(EXIT_REASON_INVALID_GUEST_STATE, 0);
    W(GUEST_RFLAGS, 2);
    W(GUEST_RIP, 0x0000800000000000ull);
    expect_entry_failure(EXIT_REASON_INVALID_GUEST_STATE, 0);
    W(GUEST_RIP, GUEST_RIP);
    W(GUEST_IDTR_LIMIT, 0x10000);
    expect_entry_failure(EXIT_REASON_INVALID_GUEST_STATE, 0);
    W(GUEST_IDTR_LIMIT, 0xfff);
    W(GUEST_INTERRUPTIBILITY_INFO, 1); /* blocking by STI with IF = 0 */
    expect_entry_failure(EXIT_REASON_INVALID_GUEST_STATE, 0);
    W(GUEST_INTERRUPTIBILITY_INFO, 0);
    W(GUEST_ACTIVITY_STATE, 2); /* shutdown is not offered (IA32_VMX_MISC[7] = 0) */
    expect_entry_failure(EXIT_REASON_INVALID_GUEST_STATE, 0);
    W(GUEST_ACTIVITY_STATE, 0);
    W(GUEST_PENDING_DBG_EXCEPTIONS, 1u << 4);
    expect_entry_failure(EXIT_REASON_INVALID_GUEST_STATE, 0);
    W(GUEST_PENDING_DBG_EXCEPTIONS, 0);
    /* the VMCS link pointer: qualification 4 */
    W(VMCS_LINK_POINTER, VMCS_A);
    expect_entry_failure(EXIT_REASON_INVALID_GUEST_STATE, 4);
    W(VMCS_LINK_POINTER, VMCS_B + 8);
    expect_entry_failure(EXIT_REASON_INVALID_GUEST_STATE, 4);
    W(VMCS_LINK_POINTER, ~0ull);
    vg_launch();
}

/* PAE paging without EPT: a PDPTE with a reserved bit, qualification 2. */
static void test_guest_pdpte(void **state)
{
    W(VM_ENTRY_CONTROLS, vg_allowed0(VMX_ENTRY));
    W(GUEST_CS_AR_BYTES, 0xc09b); /* 32-bit code */
    W(GUEST_CR3, 0x14000);
    phys_write(m, 0x14000, 8, 0x15000 | 1 | 1u << 5); /* bit 5 is reserved in a PDPTE */
    expect_entry_failure(EXIT_REASON_INVALID_GUEST_STATE, 2);
    phys_write(m, 0x14000, 8, 0x15000 | 1);
    vg_launch();
    assert_int_equal(c->pdpte[0], 0x15001);
    assert_false(c->efer & EFER_LMA);
    assert_int_equal(c->mode, MODE_PROT32);
}

/* ---- the VM-entry MSR-load list: loaded in order; a bad entry is reason 34 with its index ---- */
static void test_msr_load_list(void **state)
{
    phys_write(m, 0x13000, 8, 0x175);  /* IA32_SYSENTER_ESP */
    phys_write(m, 0x13008, 8, 0xabc);
    phys_write(m, 0x13010, 8, 0xc0000100); /* IA32_FS_BASE may not be loaded */
    phys_write(m, 0x13018, 8, 0);
    W(VM_ENTRY_MSR_LOAD_ADDR, 0x13000);
    W(VM_ENTRY_MSR_LOAD_COUNT, 2);
    expect_entry_failure(EXIT_REASON_MSR_LOAD_FAIL, 2);
    phys_write(m, 0x13010, 8, 0x12345678); /* no such MSR: WRMSR would #GP */
    expect_entry_failure(EXIT_REASON_MSR_LOAD_FAIL, 2);
    phys_write(m, 0x13010, 8, 0x174 | 1ull << 32); /* reserved bits 63:32 */
    expect_entry_failure(EXIT_REASON_MSR_LOAD_FAIL, 2);
    W(VM_ENTRY_MSR_LOAD_COUNT, 0xffffffff); /* past 512 entries: fails at entry 513 */
    expect_entry_failure(EXIT_REASON_MSR_LOAD_FAIL, 513);
    W(VM_ENTRY_MSR_LOAD_COUNT, 1);
    vg_launch();
    assert_int_equal(c->msr_sysenter_esp, 0xabc);
}

/* ---- event injection (27.6) ---- */
static void inject(uint32_t info, uint32_t err, uint32_t len)
{
    W(VM_ENTRY_INTR_INFO_FIELD, info);
    W(VM_ENTRY_EXCEPTION_ERROR_CODE, err);
    W(VM_ENTRY_INSTRUCTION_LEN, len);
}

static void launch_injected(uint64_t handler)
{
    assert_int_equal(vmlaunch(), EXITED);
    assert_true(c->nonroot);
    assert_int_equal(c->rip, handler);
}

static void test_inject_hw_exception(void **state)
{
    inject(1u << 31 | 3 << 8 | 1 << 11 | EXC_GP, 0x18, 0);
    launch_injected(0x9000 + EXC_GP);
    /* frame: error code, RIP, CS, RFLAGS, RSP, SS */
    assert_int_equal(phys_read(m, c->gpr[R_RSP], 8), 0x18);
    assert_int_equal(phys_read(m, c->gpr[R_RSP] + 8, 8), GUEST_RIP);
    /* the next VM exit clears the valid bit */
    assert_int_equal(RUN(0x0f, 0xa2), EXITED);
    assert_false(R(VM_ENTRY_INTR_INFO_FIELD) >> 31);
}

static void test_inject_software_interrupt(void **state)
{
    inject(1u << 31 | 4 << 8 | 0x80, 0, 2); /* INT 80H: returns past its 2 bytes */
    launch_injected(0x9080);
    assert_int_equal(phys_read(m, c->gpr[R_RSP], 8), GUEST_RIP + 2);
}

static void test_inject_software_exception(void **state)
{
    inject(1u << 31 | 6 << 8 | EXC_BP, 0, 1); /* INT3 */
    launch_injected(0x9000 + EXC_BP);
    assert_int_equal(phys_read(m, c->gpr[R_RSP], 8), GUEST_RIP + 1);
}

static void test_inject_external_interrupt(void **state)
{
    W(GUEST_RFLAGS, 2 | F_IF);
    inject(1u << 31 | 0 << 8 | 0x20, 0, 0);
    launch_injected(0x9020);
    assert_int_equal(phys_read(m, c->gpr[R_RSP], 8), GUEST_RIP);
    assert_false(c->rflags & F_IF);
}

static void test_inject_ext_interrupt_needs_if(void **state)
{
    inject(1u << 31 | 0 << 8 | 0x20, 0, 0);
    expect_entry_failure(EXIT_REASON_INVALID_GUEST_STATE, 0);
}

static void test_inject_nmi_into_hlt(void **state)
{
    W(GUEST_ACTIVITY_STATE, 1);
    inject(1u << 31 | 2 << 8 | EXC_NMI, 0, 0);
    launch_injected(0x9000 + EXC_NMI);
    assert_false(c->halted);
    assert_true(c->nmi_blocked);
}

static void test_activity_hlt(void **state)
{
    W(GUEST_ACTIVITY_STATE, 1);
    vg_launch();
    assert_true(c->halted);
}

/* ---- the table: every row is complete, every kind has its outcome ---- */
static void test_check_table(void **state)
{
    static char doc[65536];
    FILE *f = fopen("docs/vmx-entry.md", "r");
    assert_non_null(f);
    doc[fread(doc, 1, sizeof doc - 1, f)] = 0;
    fclose(f);
    int kinds[4] = { 0 };
    for (int k = 0; k < CHK_COUNT; k++) {
        const struct entry_check_info *e = entry_check_info((enum entry_check)k);
        char name[80];
        snprintf(name, sizeof name, "`%s`", e->ident);
        if (!strstr(doc, name))
            print_error("docs/vmx-entry.md does not list %s\n", e->ident);
        assert_non_null(strstr(doc, name));
        assert_non_null(e->ident);
        assert_non_null(e->section);
        assert_non_null(e->title);
        assert_true(strlen(e->desc) > 10);
        kinds[e->kind]++;
        assert_true(e->kind == CHK_KIND_GUEST || e->qual == 0);
    }
    for (int k = 0; k < 4; k++)
        assert_true(kinds[k] > 0);
    assert_string_equal(entry_check_info(CHK_GUEST_LINK_POINTER)->section, "27.3.1.5");
    assert_int_equal(entry_check_info(CHK_GUEST_PDPTE_RESERVED)->qual, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, vg_setup, vt_teardown)
        T(test_launch_state_and_guest_load),
        T(test_vmresume_nonlaunched),
        T(test_no_current_vmcs_and_mov_ss),
        T(test_cpl3_gp),
        T(test_control_checks),
        T(test_host_checks),
        T(test_guest_checks),
        T(test_guest_pdpte),
        T(test_msr_load_list),
        T(test_inject_hw_exception),
        T(test_inject_software_interrupt),
        T(test_inject_software_exception),
        T(test_inject_external_interrupt),
        T(test_inject_ext_interrupt_needs_if),
        T(test_inject_nmi_into_hlt),
        T(test_activity_hlt),
        T(test_check_table),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
