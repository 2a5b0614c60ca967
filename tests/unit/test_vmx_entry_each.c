/* test_vmx_entry_each.c - every row of vmx/entry_checks.def broken on its own
 * (SDM Vol. 3C chapter 27 "VM Entries", 27.2-27.4): one table row per check, a
 * small change to the valid VMCS of vg_vmcs64 (plus the controls the check
 * needs so that it is the first to fail in the SDM's order), and one loop that
 * asserts the VM entry failed, vmx/observe.c recorded exactly that check, and
 * the outcome is the row's: VMfailValid(7) for CTL, VMfailValid(8) for HOST,
 * exit reason 33 with the row's qualification for GUEST, 34 with the failing
 * entry's index for MSR. Rows no VM entry can fail first on
 * skylake-server-vmx are in `skipped` with the reason. */
#include "vmx_guest_test.h"

#include <stdio.h>

#include "vmx/entry_checks.h"
#include "vmx/observe.h"

#define PIN0 vg_allowed0(VMX_PIN)
#define PROC0 vg_allowed0(VMX_PROC)
#define EXIT64 (vg_allowed0(VMX_EXIT) | VMX_CTL(EXIT, HOST_ADDR_SPACE_SIZE))
#define ENTRY64 (vg_allowed0(VMX_ENTRY) | VMX_CTL(ENTRY, IA32E_MODE_GUEST))
#define EPTP_OK (0x20000ull | 6 | 3 << 3) /* WB, 4-level walk */

static void proc(uint32_t extra) { W(CPU_BASED_VM_EXEC_CONTROL, PROC0 | extra); }
/* Activate the secondary controls p2 on top of the primary extra. */
static void proc2(uint32_t extra, uint32_t p2)
{
    proc(extra | VMX_CTL(PROC, SECONDARY_CONTROLS));
    W(SECONDARY_VM_EXEC_CONTROL, p2);
}
static void tpr_shadow(uint32_t p2)
{
    proc2(VMX_CTL(PROC, USE_TPR_SHADOW), p2);
    W(VIRTUAL_APIC_PAGE_ADDR, 0x11000);
}
/* Posted interrupts with their prerequisites (27.2.1.1). */
static void posted(void)
{
    tpr_shadow(VMX_CTL(PROC2, VIRTUAL_INTR_DELIVERY));
    W(PIN_BASED_VM_EXEC_CONTROL, PIN0 | VMX_CTL(PIN, POSTED_INTR) | VMX_CTL(PIN, EXT_INTR_EXITING));
    W(VM_EXIT_CONTROLS, EXIT64 | VMX_CTL(EXIT, ACK_INTR_ON_EXIT));
    W(POSTED_INTR_NV, 0xf2);
    W(POSTED_INTR_DESC_ADDR, 0x12000);
}
static void inject(uint32_t info) { W(VM_ENTRY_INTR_INFO_FIELD, 1u << 31 | info); }
static void seg(int r, uint64_t sel, uint64_t ar)
{
    vmcs_set(c, VMCS_GUEST_ES_SELECTOR + r, sel);
    vmcs_set(c, VMCS_GUEST_ES_AR_BYTES + r, ar);
}
/* A virtual-8086 guest (RFLAGS.VM) outside IA-32e mode with the segments set
 * up to stage: 1 bases, 2 limits, 3 access rights (27.3.1.2). */
static void v86(int stage)
{
    W(GUEST_RFLAGS, 2 | F_VM);
    W(VM_ENTRY_CONTROLS, vg_allowed0(VMX_ENTRY));
    for (int r = S_ES; r <= S_GS; r++) {
        uint64_t sel = vmcs_get(c, VMCS_GUEST_ES_SELECTOR + r);
        if (stage >= 1)
            vmcs_set(c, VMCS_GUEST_ES_BASE + r, sel << 4);
        if (stage >= 2)
            vmcs_set(c, VMCS_GUEST_ES_LIMIT + r, 0xffff);
        if (stage >= 3)
            vmcs_set(c, VMCS_GUEST_ES_AR_BYTES + r, 0xf3);
    }
}
/* A VM-entry MSR-load list of one entry (index, with bits 63:32 of the first quadword hi). */
static void msr_list(uint64_t first, uint32_t count)
{
    phys_write(m, 0x13000, 8, first);
    phys_write(m, 0x13008, 8, 0);
    W(VM_ENTRY_MSR_LOAD_ADDR, 0x13000);
    W(VM_ENTRY_MSR_LOAD_COUNT, count);
}
/* A 32-bit PAE guest (IA-32e mode guest 0, 32-bit CS). */
static void pae32(void)
{
    W(VM_ENTRY_CONTROLS, vg_allowed0(VMX_ENTRY));
    W(GUEST_CS_AR_BYTES, 0xc09b);
}

/* VMLAUNCH from a 32-bit protected-mode host outside IA-32e mode, both
 * address-space controls 0 (27.2.4). */
static void host32(void)
{
    c->efer = 0;
    c->seg[S_CS].ar = AR_P | AR_S | AR_DB | 0xb;
    cpu_update_mode(c);
    W(VM_EXIT_CONTROLS, vg_allowed0(VMX_EXIT));
    W(VM_ENTRY_CONTROLS, vg_allowed0(VMX_ENTRY));
}

/* ROW(check, msr index of a reason-34 failure, mutation) */
#define ROWS(X)                                                                                               \
    X(PIN_CTLS_RESERVED, 0, W(PIN_BASED_VM_EXEC_CONTROL, PIN0 | 1u << 31))                                     \
    X(PROC_CTLS_RESERVED, 0, proc(VMX_CTL(PROC, TERTIARY_CONTROLS)))                                           \
    X(PROC2_CTLS_RESERVED, 0, proc2(0, VMX_CTL(PROC2, VMCS_SHADOWING)))                                        \
    X(CR3_TARGET_COUNT, 0, W(CR3_TARGET_COUNT, 5))                                                             \
    X(IO_BITMAP_A_ADDR, 0, proc(VMX_CTL(PROC, USE_IO_BITMAPS)); W(IO_BITMAP_A, 0x10800); W(IO_BITMAP_B, 0x11000)) \
    X(IO_BITMAP_B_ADDR, 0, proc(VMX_CTL(PROC, USE_IO_BITMAPS)); W(IO_BITMAP_A, 0x10000); W(IO_BITMAP_B, 1ull << 52)) \
    X(MSR_BITMAP_ADDR, 0, proc(VMX_CTL(PROC, USE_MSR_BITMAPS)); W(MSR_BITMAP, 0x10008))                        \
    X(VIRTUAL_APIC_ADDR, 0, tpr_shadow(0); W(VIRTUAL_APIC_PAGE_ADDR, 0x11080))                                 \
    X(TPR_THRESHOLD_RESERVED, 0, tpr_shadow(0); W(TPR_THRESHOLD, 0x10))                                        \
    X(TPR_THRESHOLD_VTPR, 0, tpr_shadow(0); W(TPR_THRESHOLD, 2); phys_write(m, 0x11080, 1, 0x10))              \
    X(APIC_ACCESS_ADDR, 0, proc2(0, VMX_CTL(PROC2, VIRTUALIZE_APIC_ACCESSES)); W(APIC_ACCESS_ADDR, 0x12800))   \
    X(X2APIC_AND_APIC_ACCESS, 0,                                                                              \
      tpr_shadow(VMX_CTL(PROC2, VIRTUALIZE_APIC_ACCESSES) | VMX_CTL(PROC2, VIRTUALIZE_X2APIC));                \
      W(APIC_ACCESS_ADDR, 0x12000))                                                                           \
    X(APICV_WITHOUT_TPR_SHADOW, 0, proc2(0, VMX_CTL(PROC2, APIC_REGISTER_VIRT)))                               \
    X(VID_WITHOUT_EXT_INTR_EXITING, 0, tpr_shadow(VMX_CTL(PROC2, VIRTUAL_INTR_DELIVERY)))                      \
    X(POSTED_WITHOUT_VID, 0, W(PIN_BASED_VM_EXEC_CONTROL, PIN0 | VMX_CTL(PIN, POSTED_INTR)))                   \
    X(POSTED_WITHOUT_ACK, 0, posted(); W(VM_EXIT_CONTROLS, EXIT64))                                            \
    X(POSTED_NV_RESERVED, 0, posted(); W(POSTED_INTR_NV, 0x1f2))                                               \
    X(POSTED_DESC_ADDR, 0, posted(); W(POSTED_INTR_DESC_ADDR, 0x12020))                                        \
    X(EPTP_MEMORY_TYPE, 0, proc2(0, VMX_CTL(PROC2, ENABLE_EPT)); W(EPT_POINTER, EPTP_OK - 6 + 1))              \
    X(EPTP_WALK_LENGTH, 0, proc2(0, VMX_CTL(PROC2, ENABLE_EPT)); W(EPT_POINTER, EPTP_OK - (1 << 3)))           \
    X(VPID_ZERO, 0, proc2(0, VMX_CTL(PROC2, ENABLE_VPID)); W(VIRTUAL_PROCESSOR_ID, 0))                         \
    X(EPTP_RESERVED, 0, proc2(0, VMX_CTL(PROC2, ENABLE_EPT)); W(EPT_POINTER, EPTP_OK | 1 << 7))                \
    X(UNRESTRICTED_WITHOUT_EPT, 0, proc2(0, VMX_CTL(PROC2, UNRESTRICTED_GUEST)))                               \
    X(VIRTUAL_NMIS_NMI_EXITING, 0, W(PIN_BASED_VM_EXEC_CONTROL, PIN0 | VMX_CTL(PIN, VIRTUAL_NMIS)))            \
    X(NMI_WINDOW_VIRTUAL_NMIS, 0, proc(VMX_CTL(PROC, NMI_WINDOW_EXITING)))                                     \
    X(EXIT_CTLS_RESERVED, 0, W(VM_EXIT_CONTROLS, EXIT64 | VMX_CTL(EXIT, LOAD_PERF_GLOBAL_CTRL)))               \
    X(SAVE_TIMER_WITHOUT_TIMER, 0, W(VM_EXIT_CONTROLS, EXIT64 | VMX_CTL(EXIT, SAVE_PREEMPTION_TIMER)))         \
    X(EXIT_MSR_STORE_ADDR, 0, W(VM_EXIT_MSR_STORE_ADDR, 0x13008); W(VM_EXIT_MSR_STORE_COUNT, 1))               \
    X(EXIT_MSR_LOAD_ADDR, 0, W(VM_EXIT_MSR_LOAD_ADDR, 1ull << 52); W(VM_EXIT_MSR_LOAD_COUNT, 1))               \
    X(ENTRY_CTLS_RESERVED, 0, W(VM_ENTRY_CONTROLS, ENTRY64 | VMX_CTL(ENTRY, ENTRY_TO_SMM)))                    \
    X(EVENT_RESERVED_BITS, 0, inject(1u << 12 | 3 << 8 | EXC_UD))                                             \
    X(EVENT_TYPE_RESERVED, 0, inject(1 << 8 | 0x20))                                                          \
    X(EVENT_NMI_VECTOR, 0, inject(2 << 8 | 3))                                                                \
    X(EVENT_HWEXC_VECTOR, 0, inject(3 << 8 | 32))                                                             \
    X(EVENT_OTHER_VECTOR, 0, inject(7 << 8 | 1))                                                              \
    X(EVENT_ERRCODE_NEEDED, 0, inject(3 << 8 | EXC_GP))                                                       \
    X(EVENT_ERRCODE_RESERVED, 0, inject(3 << 8 | 1 << 11 | EXC_GP); W(VM_ENTRY_EXCEPTION_ERROR_CODE, 0x10000)) \
    X(EVENT_INSN_LENGTH, 0, inject(4 << 8 | 0x80); W(VM_ENTRY_INSTRUCTION_LEN, 16))                           \
    X(ENTRY_MSR_LOAD_ADDR, 0, W(VM_ENTRY_MSR_LOAD_ADDR, 0x13004); W(VM_ENTRY_MSR_LOAD_COUNT, 1))               \
    X(HOST_CR0_FIXED, 0, W(HOST_CR0, c->cr0 & ~CR0_NE))                                                       \
    X(HOST_CR4_FIXED, 0, W(HOST_CR4, c->cr4 & ~CR4_VMXE))                                                     \
    X(HOST_CR3_WIDTH, 0, W(HOST_CR3, c->cr3 | 1ull << 52))                                                    \
    X(HOST_SYSENTER_ESP_CANONICAL, 0, W(HOST_IA32_SYSENTER_ESP, 1ull << 47))                                  \
    X(HOST_SYSENTER_EIP_CANONICAL, 0, W(HOST_IA32_SYSENTER_EIP, 1ull << 47))                                  \
    X(HOST_PAT_TYPES, 0, W(VM_EXIT_CONTROLS, EXIT64 | VMX_CTL(EXIT, LOAD_PAT)); W(HOST_IA32_PAT, 0x0606060606060602ull)) \
    X(HOST_EFER_RESERVED, 0, W(VM_EXIT_CONTROLS, EXIT64 | VMX_CTL(EXIT, LOAD_EFER));                          \
      W(HOST_IA32_EFER, EFER_LME | EFER_LMA | 1u << 2))                                                       \
    X(HOST_EFER_LMA_LME, 0, W(VM_EXIT_CONTROLS, EXIT64 | VMX_CTL(EXIT, LOAD_EFER)); W(HOST_IA32_EFER, EFER_LMA)) \
    X(HOST_SEL_RPL_TI, 0, W(HOST_DS_SELECTOR, 0x14))                                                          \
    X(HOST_CS_NULL, 0, W(HOST_CS_SELECTOR, 0))                                                                \
    X(HOST_TR_NULL, 0, W(HOST_TR_SELECTOR, 0))                                                                \
    X(HOST_SS_NULL, 0, W(VM_EXIT_CONTROLS, vg_allowed0(VMX_EXIT)); W(HOST_SS_SELECTOR, 0))                    \
    X(HOST_BASE_CANONICAL, 0, W(HOST_IDTR_BASE, 1ull << 47))                                                  \
    X(HOST_ADDR_SPACE_OUTSIDE_IA32E, 0, host32(); W(VM_EXIT_CONTROLS, EXIT64))                               \
    X(HOST_32_PCIDE, 0, host32(); W(HOST_CR4, c->cr4 | CR4_PCIDE))                                            \
    X(HOST_32_RIP, 0, host32(); W(HOST_RIP, 1ull << 32))                                                      \
    X(HOST_ADDR_SPACE_IN_IA32E, 0, W(VM_EXIT_CONTROLS, vg_allowed0(VMX_EXIT)))                                \
    X(HOST_64_PAE, 0, W(HOST_CR4, c->cr4 & ~CR4_PAE))                                                         \
    X(HOST_64_RIP_CANONICAL, 0, W(HOST_RIP, 1ull << 47))                                                      \
    X(GUEST_CR0_FIXED, 0, W(GUEST_CR0, CR0_PE | CR0_ET | CR0_PG))                                             \
    X(GUEST_CR0_PG_WITHOUT_PE, 0,                                                                             \
      proc2(0, VMX_CTL(PROC2, ENABLE_EPT) | VMX_CTL(PROC2, UNRESTRICTED_GUEST)); W(EPT_POINTER, EPTP_OK);      \
      W(GUEST_CR0, CR0_ET | CR0_NE | CR0_PG))                                                                 \
    X(GUEST_CR4_FIXED, 0, W(GUEST_CR4, CR4_PAE))                                                              \
    X(GUEST_IA32E_PAGING, 0, W(GUEST_CR4, CR4_VMXE))                                                          \
    X(GUEST_PCIDE_OUTSIDE_IA32E, 0, pae32(); W(GUEST_CR4, CR4_PAE | CR4_VMXE | CR4_PCIDE))                    \
    X(GUEST_CR3_WIDTH, 0, W(GUEST_CR3, 1ull << 52 | 0x1000))                                                  \
    X(GUEST_DEBUGCTL_RESERVED, 0, W(VM_ENTRY_CONTROLS, ENTRY64 | VMX_CTL(ENTRY, LOAD_DEBUG_CONTROLS));         \
      W(GUEST_DR7, 0x400); W(GUEST_IA32_DEBUGCTL, 1))                                                         \
    X(GUEST_DR7_HIGH, 0, W(VM_ENTRY_CONTROLS, ENTRY64 | VMX_CTL(ENTRY, LOAD_DEBUG_CONTROLS));                  \
      W(GUEST_DR7, 1ull << 32 | 0x400))                                                                       \
    X(GUEST_SYSENTER_ESP_CANONICAL, 0, W(GUEST_SYSENTER_ESP, 1ull << 47))                                     \
    X(GUEST_SYSENTER_EIP_CANONICAL, 0, W(GUEST_SYSENTER_EIP, 1ull << 47))                                     \
    X(GUEST_PAT_TYPES, 0, W(VM_ENTRY_CONTROLS, ENTRY64 | VMX_CTL(ENTRY, LOAD_PAT)); W(GUEST_IA32_PAT, 0x0606060606060603ull)) \
    X(GUEST_EFER_RESERVED, 0, W(VM_ENTRY_CONTROLS, ENTRY64 | VMX_CTL(ENTRY, LOAD_EFER));                       \
      W(GUEST_IA32_EFER, EFER_LME | EFER_LMA | 1u << 2))                                                      \
    X(GUEST_EFER_LMA, 0, W(VM_ENTRY_CONTROLS, ENTRY64 | VMX_CTL(ENTRY, LOAD_EFER)); W(GUEST_IA32_EFER, EFER_LME)) \
    X(GUEST_EFER_LME, 0, W(VM_ENTRY_CONTROLS, ENTRY64 | VMX_CTL(ENTRY, LOAD_EFER)); W(GUEST_IA32_EFER, EFER_LMA)) \
    X(GUEST_TR_TI, 0, W(GUEST_TR_SELECTOR, 0x1c))                                                             \
    X(GUEST_LDTR_TI, 0, seg(S_LDTR, 0x24, 0x82))                                                              \
    X(GUEST_SS_RPL_CS_RPL, 0, W(GUEST_SS_SELECTOR, 0x13))                                                     \
    X(GUEST_V86_BASE, 0, v86(0))                                                                              \
    X(GUEST_V86_LIMIT, 0, v86(1))                                                                             \
    X(GUEST_V86_AR, 0, v86(2))                                                                                \
    X(GUEST_BASE_CANONICAL, 0, W(GUEST_FS_BASE, 1ull << 47))                                                  \
    X(GUEST_BASE_HIGH, 0, W(GUEST_DS_BASE, 1ull << 32))                                                       \
    X(GUEST_CS_TYPE, 0, W(GUEST_CS_AR_BYTES, 0xa093))                                                         \
    X(GUEST_SS_TYPE, 0, W(GUEST_SS_AR_BYTES, 0xc09b))                                                         \
    X(GUEST_DATA_TYPE, 0, W(GUEST_DS_AR_BYTES, 0xc092))                                                       \
    X(GUEST_SEG_S, 0, W(GUEST_DS_AR_BYTES, 0xc083))                                                           \
    X(GUEST_CS_DPL, 0, W(GUEST_CS_AR_BYTES, 0xa0bb))                                                          \
    X(GUEST_SS_DPL, 0, W(GUEST_CS_AR_BYTES, 0xa09f); W(GUEST_SS_AR_BYTES, 0xc0b3))                            \
    X(GUEST_DATA_DPL, 0, W(GUEST_DS_SELECTOR, 0x13))                                                          \
    X(GUEST_SEG_PRESENT, 0, W(GUEST_DS_AR_BYTES, 0xc013))                                                     \
    X(GUEST_SEG_AR_RESERVED, 0, W(GUEST_DS_AR_BYTES, 0xc193))                                                 \
    X(GUEST_SEG_GRANULARITY, 0, W(GUEST_DS_LIMIT, 0xffffe))                                                   \
    X(GUEST_CS_L_AND_D, 0, W(GUEST_CS_AR_BYTES, 0xe09b))                                                      \
    X(GUEST_TR_TYPE, 0, W(GUEST_TR_AR_BYTES, 0x89))                                                           \
    X(GUEST_TR_AR, 0, W(GUEST_TR_AR_BYTES, 0x0b))                                                             \
    X(GUEST_LDTR_AR, 0, seg(S_LDTR, 0x20, 0x83))                                                              \
    X(GUEST_DTR_BASE_CANONICAL, 0, W(GUEST_GDTR_BASE, 1ull << 47))                                            \
    X(GUEST_DTR_LIMIT, 0, W(GUEST_IDTR_LIMIT, 0x10000))                                                       \
    X(GUEST_RIP_HIGH, 0, W(GUEST_CS_AR_BYTES, 0xc09b); W(GUEST_RIP, 1ull << 32))                              \
    X(GUEST_RIP_CANONICAL, 0, W(GUEST_RIP, 1ull << 47))                                                       \
    X(GUEST_RFLAGS_RESERVED, 0, W(GUEST_RFLAGS, 2 | 1u << 15))                                                \
    X(GUEST_RFLAGS_VM, 0, v86(3); W(VM_ENTRY_CONTROLS, ENTRY64))                                              \
    X(GUEST_RFLAGS_IF_INJECT, 0, inject(0 << 8 | 0x20))                                                       \
    X(GUEST_ACTIVITY_STATE, 0, W(GUEST_ACTIVITY_STATE, 4))                                                    \
    X(GUEST_ACTIVITY_HLT_DPL, 0, seg(S_CS, 0x0b, 0xa0fb); seg(S_SS, 0x13, 0xc0f3); W(GUEST_ACTIVITY_STATE, 1)) \
    X(GUEST_ACTIVITY_BLOCKING, 0, W(GUEST_ACTIVITY_STATE, 1); W(GUEST_INTERRUPTIBILITY_INFO, 2))               \
    X(GUEST_ACTIVITY_INJECT, 0, W(GUEST_ACTIVITY_STATE, 1); inject(3 << 8 | EXC_UD))                          \
    X(GUEST_INTR_RESERVED, 0, W(GUEST_INTERRUPTIBILITY_INFO, 1u << 4))                                        \
    X(GUEST_INTR_STI_MOVSS, 0, W(GUEST_RFLAGS, 2 | F_IF); W(GUEST_INTERRUPTIBILITY_INFO, 3))                   \
    X(GUEST_INTR_STI_IF, 0, W(GUEST_INTERRUPTIBILITY_INFO, 1))                                                \
    X(GUEST_INTR_EXTINT_INJECT, 0, W(GUEST_RFLAGS, 2 | F_IF); W(GUEST_INTERRUPTIBILITY_INFO, 2); inject(0x20)) \
    X(GUEST_INTR_NMI_INJECT, 0, W(GUEST_INTERRUPTIBILITY_INFO, 2); inject(2 << 8 | EXC_NMI))                  \
    X(GUEST_INTR_VNMI_INJECT, 0,                                                                              \
      W(PIN_BASED_VM_EXEC_CONTROL, PIN0 | VMX_CTL(PIN, NMI_EXITING) | VMX_CTL(PIN, VIRTUAL_NMIS));             \
      W(GUEST_INTERRUPTIBILITY_INFO, 8); inject(2 << 8 | EXC_NMI))                                            \
    X(GUEST_PENDING_DBG_RESERVED, 0, W(GUEST_PENDING_DBG_EXCEPTIONS, 1u << 4))                                \
    X(GUEST_PENDING_DBG_BS, 0, W(GUEST_RFLAGS, 2 | F_TF); W(GUEST_INTERRUPTIBILITY_INFO, 2))                   \
    X(GUEST_LINK_POINTER, 0, W(VMCS_LINK_POINTER, VMCS_A))                                                    \
    X(GUEST_PDPTE_EPT_RESERVED, 0, pae32(); proc2(0, VMX_CTL(PROC2, ENABLE_EPT)); W(EPT_POINTER, EPTP_OK);     \
      W(GUEST_PDPTE2, 0x15000 | 1 | 1u << 5))                                                                 \
    X(GUEST_PDPTE_RESERVED, 0, pae32(); W(GUEST_CR3, 0x14000); phys_write(m, 0x14008, 8, 0x15000 | 1 | 1u << 7)) \
    X(MSR_LOAD_COUNT, 513, msr_list(0x175, 0xffffffff))                                                       \
    X(MSR_LOAD_ENTRY_RESERVED, 1, msr_list(0x175 | 1ull << 32, 1))                                            \
    X(MSR_LOAD_FORBIDDEN, 1, msr_list(0xc0000101, 1))                                                         \
    X(MSR_LOAD_WRMSR_FAULT, 1, msr_list(0x12345678, 1))

#define FN(id, idx, ...) static void break_##id(void) { __VA_ARGS__; }
ROWS(FN)
#undef FN

static const struct row {
    int check;
    uint32_t msr_index; /* qualification of a reason-34 failure */
    void (*breaks)(void);
    const char *name;
} rows[] = {
#define ROW(id, idx, ...) { CHK_##id, idx, break_##id, #id },
    ROWS(ROW)
#undef ROW
};

/* Rows no VMLAUNCH can fail first on skylake-server-vmx. */
static const struct skip {
    int check;
    const char *why;
} skipped[] = {
    /* IA32_VMX_EPT_VPID_CAP[21] is 1 on the model: the A/D flag is always allowed */
    { CHK_EPTP_AD, "model offers EPT A/D flags" },
    /* 27.2.4 lists "IA-32e mode guest" 0 for a host address-space size of 0, but
     * the two checks before it already cover every case: outside IA-32e mode
     * HOST_ADDR_SPACE_OUTSIDE_IA32E rejects "IA-32e mode guest" 1, inside it
     * HOST_ADDR_SPACE_IN_IA32E rejects host address-space size 0 */
    { CHK_HOST_32_IA32E_GUEST, "implied by the two address-space checks before it" },
};

/* Break one row on a fresh machine; returns whether it behaved as the row says. */
static bool run_row(const struct row *r)
{
    const struct entry_check_info *e = entry_check_info((enum entry_check)r->check);
    void *st = NULL;
    vg_setup(&st);
    r->breaks();
    uint64_t rip = c->rip;
    int ret = vmlaunch();
    const struct vmx_observe *o = vmx_observed(c);
    bool ok = !c->nonroot && o && o->have_failed;
    int got = ok ? o->fail.check : -2;
    if (!ok || got != r->check) {
        print_error("%s: VMLAUNCH %d nonroot %d, recorded check %s\n", r->name, ret, c->nonroot,
                    got >= 0 ? entry_check_info((enum entry_check)got)->ident : "none");
        ok = false;
    } else if (e->kind == CHK_KIND_CTL || e->kind == CHK_KIND_HOST) {
        uint64_t want = e->kind == CHK_KIND_CTL ? VMERR_ENTRY_INVALID_CONTROL : VMERR_ENTRY_INVALID_HOST_STATE;
        ok = ret == NOFAULT && vt_outcome() == 'Z' && vm_error() == want && c->rip == rip + 3 &&
             o->fail.reason == 0 && o->fail.error == (int)want;
        if (!ok)
            print_error("%s: outcome %c error %d, want VMfailValid(%d)\n", r->name, vt_outcome(), (int)vm_error(),
                        (int)want);
    } else {
        uint32_t reason = e->kind == CHK_KIND_GUEST ? EXIT_REASON_INVALID_GUEST_STATE : EXIT_REASON_MSR_LOAD_FAIL;
        uint64_t qual = e->kind == CHK_KIND_GUEST ? e->qual : r->msr_index;
        ok = ret == EXITED && R(VM_EXIT_REASON) == (reason | 1u << 31) && R(EXIT_QUALIFICATION) == qual &&
             c->rip == HOST_RIP && o->fail.reason == reason && o->fail.qual == qual;
        if (!ok)
            print_error("%s: exit reason %#llx qualification %llu, want %u/%llu\n", r->name,
                        (unsigned long long)R(VM_EXIT_REASON), (unsigned long long)R(EXIT_QUALIFICATION), reason,
                        (unsigned long long)qual);
    }
    vt_teardown(&st);
    return ok;
}

static void test_each_check(void **state)
{
    int bad = 0;
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++)
        bad += !run_row(&rows[k]);
    assert_int_equal(bad, 0);
}

/* Every row of entry_checks.def is tested or skipped with a reason, once. */
static void test_every_row_covered(void **state)
{
    int seen[CHK_COUNT] = { 0 };
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++)
        seen[rows[k].check]++;
    for (size_t k = 0; k < sizeof skipped / sizeof skipped[0]; k++)
        seen[skipped[k].check]++;
    int missing = 0;
    for (int k = 0; k < CHK_COUNT; k++) {
        if (seen[k] != 1)
            print_error("%s: %d rows in the table and skip list\n", entry_check_info((enum entry_check)k)->ident,
                        seen[k]);
        missing += seen[k] != 1;
    }
    assert_int_equal(missing, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_check),
        cmocka_unit_test(test_every_row_covered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
