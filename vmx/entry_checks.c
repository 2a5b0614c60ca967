/* entry_checks.c - the conditions of the VM-entry checks (rows of
 * vmx/entry_checks.def), in the order the SDM lists them: controls (27.2.1),
 * host state (27.2.2-27.2.4), guest state (27.3.1) and the guest PDPTEs
 * (27.3.2.4). Each condition is CC(row, failure condition): the first one that
 * holds is returned, so the caller can report and trace the row by name. */
#include "vmx/entry_checks.h"

#include "emu/cpumodel.h"
#include "emu/fault.h"
#include "emu/paging.h"
#include "emu/machine.h"
#include "emu/seg.h"
#include "vmx/ept.h"

#define CC(ident, failed)               \
    do {                                \
        if (failed)                     \
            return CHK_##ident;         \
    } while (0)

static const struct { const char *num, *title; } sections[] = {
#define SEC(sid, num, title) { num, title },
#define K(ident, kind, sid, qual, desc)
#include "vmx/entry_checks.def"
#undef K
#undef SEC
};
enum {
#define SEC(sid, num, title) SEC_##sid,
#define K(ident, kind, sid, qual, desc)
#include "vmx/entry_checks.def"
#undef K
#undef SEC
};
static const struct entry_check_info infos[CHK_COUNT] = {
#define SEC(sid, num, title)
#define K(ident, kind, sid, q, d) [CHK_##ident] = { #ident, CHK_KIND_##kind, NULL, NULL, q, d },
#include "vmx/entry_checks.def"
#undef K
#undef SEC
};
static const uint8_t row_sec[CHK_COUNT] = {
#define SEC(sid, num, title)
#define K(ident, kind, sid, q, d) [CHK_##ident] = SEC_##sid,
#include "vmx/entry_checks.def"
#undef K
#undef SEC
};

const struct entry_check_info *entry_check_info(enum entry_check k)
{
    static struct entry_check_info full[CHK_COUNT];
    if (!full[k].ident) { /* join the row with its section once */
        full[k] = infos[k];
        full[k].section = sections[row_sec[k]].num;
        full[k].title = sections[row_sec[k]].title;
    }
    return &full[k];
}

/* ---- helpers ---- */

#define F(name) (x->f[VMCS_##name])
#define CTL(word, field, ident) ((F(field) & VMX_CTL(word, ident)) != 0)

static bool beyond_width(const struct entry_ctx *x, uint64_t pa)
{
    return (pa >> x->c->model->maxphyaddr) != 0;
}

/* Canonical for the model's linear-address width (CPUID.80000008H:EAX[15:8]). */
static bool canonical(const struct entry_ctx *x, uint64_t v)
{
    int sh = x->c->model->linaddr - 1;
    return (uint64_t)(((int64_t)v >> sh) + 1) <= 1;
}

/* A control word against the allowed 0- and 1-settings (Appendix A.3-A.5). */
static bool ctl_bad(const struct entry_ctx *x, enum vmx_ctl_word w, uint64_t v)
{
    uint32_t a0, a1;
    vmx_allowed(x->vm, w, &a0, &a1);
    return (v >> 32) || ((uint32_t)v & a0) != a0 || ((uint32_t)v & ~a1);
}

/* An MSR list of count 16-byte entries: 16-byte aligned, last byte within the
 * physical-address width (27.2.1.2, 27.2.1.3). */
static bool msr_list_bad(const struct entry_ctx *x, uint64_t addr, uint64_t count)
{
    return (addr & 0xf) || beyond_width(x, addr) || (count && beyond_width(x, addr + count * 16 - 1));
}

static bool bitmap_bad(const struct entry_ctx *x, uint64_t addr)
{
    return (addr & 0xfff) || beyond_width(x, addr);
}

bool vmx_pat_valid(uint64_t pat)
{
    for (int k = 0; k < 8; k++) {
        unsigned t = (pat >> (8 * k)) & 0xff;
        if (t == 2 || t == 3 || t > 7)
            return false;
    }
    return true;
}

static uint64_t efer_valid(const cpu_t *c)
{
    return EFER_LMA | (cpu_has(c, FEAT_SYSCALL) ? EFER_SCE : 0) | (cpu_has(c, FEAT_LM) ? EFER_LME : 0) |
           (cpu_has(c, FEAT_NX) ? EFER_NXE : 0);
}

/* CR0/CR4 against the FIXED0/FIXED1 capability MSRs (Appendix A.7, A.8). */
static uint64_t cap(const struct entry_ctx *x, uint32_t msr)
{
    uint64_t v = 0;
    vmx_cap_msr(x->vm, cpu_cr4_valid(x->c), msr, &v);
    return v;
}
static bool fixed_bad(uint64_t v, uint64_t fixed0, uint64_t fixed1)
{
    return (v & fixed0) != fixed0 || (v & ~fixed1);
}

/* ---- 27.2.1 controls ---- */

/* The controls of APIC virtualization (27.2.1.1, the items on "use TPR shadow",
 * the APIC-access address, "virtualize x2APIC mode", "virtual-interrupt delivery"
 * and "process posted interrupts"); secondary controls count as 0 unless activated. */
static int vmx_check_apicv(struct entry_ctx *x)
{
    bool secondary = CTL(PROC, CPU_BASED_VM_EXEC_CONTROL, SECONDARY_CONTROLS);
    uint64_t p2 = secondary ? F(SECONDARY_VM_EXEC_CONTROL) : 0;
    bool tpr = CTL(PROC, CPU_BASED_VM_EXEC_CONTROL, USE_TPR_SHADOW);
    bool vaa = (p2 & VMX_CTL(PROC2, VIRTUALIZE_APIC_ACCESSES)) != 0;
    bool x2 = (p2 & VMX_CTL(PROC2, VIRTUALIZE_X2APIC)) != 0;
    bool vid = (p2 & VMX_CTL(PROC2, VIRTUAL_INTR_DELIVERY)) != 0;
    bool posted = CTL(PIN, PIN_BASED_VM_EXEC_CONTROL, POSTED_INTR);

    if (tpr) {
        CC(VIRTUAL_APIC_ADDR, bitmap_bad(x, F(VIRTUAL_APIC_PAGE_ADDR)));
        CC(TPR_THRESHOLD_RESERVED, !vid && (F(TPR_THRESHOLD) >> 4));
        /* VTPR is byte 80H of the virtual-APIC page, read from guest memory */
        CC(TPR_THRESHOLD_VTPR, !vaa && !vid &&
                                   (F(TPR_THRESHOLD) & 0xf) > (phys_read(x->c->m, F(VIRTUAL_APIC_PAGE_ADDR) + 0x80, 1) >> 4));
    }
    CC(APIC_ACCESS_ADDR, vaa && bitmap_bad(x, F(APIC_ACCESS_ADDR)));
    CC(X2APIC_AND_APIC_ACCESS, x2 && vaa);
    CC(APICV_WITHOUT_TPR_SHADOW, !tpr && (p2 & (VMX_CTL(PROC2, VIRTUALIZE_X2APIC) | VMX_CTL(PROC2, APIC_REGISTER_VIRT) |
                                                VMX_CTL(PROC2, VIRTUAL_INTR_DELIVERY))));
    CC(VID_WITHOUT_EXT_INTR_EXITING, vid && !CTL(PIN, PIN_BASED_VM_EXEC_CONTROL, EXT_INTR_EXITING));
    if (posted) {
        CC(POSTED_WITHOUT_VID, !vid);
        CC(POSTED_WITHOUT_ACK, !CTL(EXIT, VM_EXIT_CONTROLS, ACK_INTR_ON_EXIT));
        CC(POSTED_NV_RESERVED, F(POSTED_INTR_NV) & 0xff00);
        CC(POSTED_DESC_ADDR, (F(POSTED_INTR_DESC_ADDR) & 0x3f) || beyond_width(x, F(POSTED_INTR_DESC_ADDR)));
    }
    return CHK_PASS;
}

int vmx_check_eptp(const struct vmx_model *vm, uint8_t maxphyaddr, uint64_t eptp)
{
    uint64_t cap = vm->ept_vpid_cap, mt = eptp & 7, walk = (eptp >> 3) & 7;
    CC(EPTP_MEMORY_TYPE, !(mt == 0 && (cap & EPTCAP_UC)) && !(mt == 6 && (cap & EPTCAP_WB)));
    CC(EPTP_WALK_LENGTH, !(walk == 3 && (cap & EPTCAP_PWL4)) && !(walk == 4 && (cap & EPTCAP_PWL5)));
    CC(EPTP_AD, (eptp & EPTP_AD) && !(cap & EPTCAP_AD));
    CC(EPTP_RESERVED, (eptp & 0xf80) || (eptp >> maxphyaddr));
    return CHK_PASS;
}

int vmx_check_controls(struct entry_ctx *x)
{
    bool secondary = CTL(PROC, CPU_BASED_VM_EXEC_CONTROL, SECONDARY_CONTROLS);
    uint64_t intr = F(VM_ENTRY_INTR_INFO_FIELD);

    CC(PIN_CTLS_RESERVED, ctl_bad(x, VMX_PIN, F(PIN_BASED_VM_EXEC_CONTROL)));
    CC(PROC_CTLS_RESERVED, ctl_bad(x, VMX_PROC, F(CPU_BASED_VM_EXEC_CONTROL)));
    /* with "activate secondary controls" 0 the secondary controls count as 0 */
    CC(PROC2_CTLS_RESERVED, secondary && ctl_bad(x, VMX_PROC2, F(SECONDARY_VM_EXEC_CONTROL)));
    CC(CR3_TARGET_COUNT, F(CR3_TARGET_COUNT) > x->vm->cr3_targets);
    if (CTL(PROC, CPU_BASED_VM_EXEC_CONTROL, USE_IO_BITMAPS)) {
        CC(IO_BITMAP_A_ADDR, bitmap_bad(x, F(IO_BITMAP_A)));
        CC(IO_BITMAP_B_ADDR, bitmap_bad(x, F(IO_BITMAP_B)));
    }
    CC(MSR_BITMAP_ADDR, CTL(PROC, CPU_BASED_VM_EXEC_CONTROL, USE_MSR_BITMAPS) && bitmap_bad(x, F(MSR_BITMAP)));
    int apicv = vmx_check_apicv(x);
    if (apicv != CHK_PASS)
        return apicv;
    CC(VPID_ZERO, secondary && CTL(PROC2, SECONDARY_VM_EXEC_CONTROL, ENABLE_VPID) && F(VIRTUAL_PROCESSOR_ID) == 0);
    if (secondary && CTL(PROC2, SECONDARY_VM_EXEC_CONTROL, ENABLE_EPT)) {
        int k = vmx_check_eptp(x->vm, x->c->model->maxphyaddr, F(EPT_POINTER));
        if (k != CHK_PASS)
            return k;
    }
    CC(UNRESTRICTED_WITHOUT_EPT, secondary && CTL(PROC2, SECONDARY_VM_EXEC_CONTROL, UNRESTRICTED_GUEST) &&
                                     !CTL(PROC2, SECONDARY_VM_EXEC_CONTROL, ENABLE_EPT));
    CC(VIRTUAL_NMIS_NMI_EXITING,
       CTL(PIN, PIN_BASED_VM_EXEC_CONTROL, VIRTUAL_NMIS) && !CTL(PIN, PIN_BASED_VM_EXEC_CONTROL, NMI_EXITING));
    CC(NMI_WINDOW_VIRTUAL_NMIS, CTL(PROC, CPU_BASED_VM_EXEC_CONTROL, NMI_WINDOW_EXITING) &&
                                    !CTL(PIN, PIN_BASED_VM_EXEC_CONTROL, VIRTUAL_NMIS));

    CC(EXIT_CTLS_RESERVED, ctl_bad(x, VMX_EXIT, F(VM_EXIT_CONTROLS)));
    CC(SAVE_TIMER_WITHOUT_TIMER, CTL(EXIT, VM_EXIT_CONTROLS, SAVE_PREEMPTION_TIMER) &&
                                     !CTL(PIN, PIN_BASED_VM_EXEC_CONTROL, PREEMPTION_TIMER));
    CC(EXIT_MSR_STORE_ADDR, msr_list_bad(x, F(VM_EXIT_MSR_STORE_ADDR), F(VM_EXIT_MSR_STORE_COUNT)));
    CC(EXIT_MSR_LOAD_ADDR, msr_list_bad(x, F(VM_EXIT_MSR_LOAD_ADDR), F(VM_EXIT_MSR_LOAD_COUNT)));

    CC(ENTRY_CTLS_RESERVED, ctl_bad(x, VMX_ENTRY, F(VM_ENTRY_CONTROLS)));
    if (intr & (1u << 31)) {
        unsigned type = (intr >> 8) & 7, vec = intr & 0xff;
        bool pe = (F(GUEST_CR0) & CR0_PE) != 0;
        bool errcode_exc = vec == EXC_DF || vec == EXC_TS || vec == EXC_NP || vec == EXC_SS || vec == EXC_GP ||
                           vec == EXC_PF || vec == EXC_AC;
        bool mtf = (x->vm->ctls[VMX_PROC] & vmx_implemented(VMX_PROC) & VMX_CTL(PROC, MONITOR_TRAP_FLAG)) != 0;
        CC(EVENT_RESERVED_BITS, intr & 0x7ffff000u);
        CC(EVENT_TYPE_RESERVED, type == 1 || (type == 7 && !mtf));
        CC(EVENT_NMI_VECTOR, type == EV_NMI && vec != EXC_NMI);
        CC(EVENT_HWEXC_VECTOR, type == EV_HWEXC && vec > 31);
        CC(EVENT_OTHER_VECTOR, type == 7 && vec != 0);
        /* IA32_VMX_BASIC[56] is 0: the error code follows the exception exactly */
        CC(EVENT_ERRCODE_NEEDED, !!(intr & (1u << 11)) != (type == EV_HWEXC && pe && errcode_exc));
        CC(EVENT_ERRCODE_RESERVED, (intr & (1u << 11)) && (F(VM_ENTRY_EXCEPTION_ERROR_CODE) & 0xffff0000u));
        CC(EVENT_INSN_LENGTH, (type == EV_SWINT || type == EV_PRIVSW || type == EV_SWEXC) &&
                                  (F(VM_ENTRY_INSTRUCTION_LEN) > 15 ||
                                   (F(VM_ENTRY_INSTRUCTION_LEN) == 0 && !x->vm->inject_len0)));
    }
    CC(ENTRY_MSR_LOAD_ADDR, msr_list_bad(x, F(VM_ENTRY_MSR_LOAD_ADDR), F(VM_ENTRY_MSR_LOAD_COUNT)));
    return CHK_PASS;
}

/* ---- 27.2.2-27.2.4 host state ---- */

int vmx_check_host(struct entry_ctx *x)
{
    bool host64 = CTL(EXIT, VM_EXIT_CONTROLS, HOST_ADDR_SPACE_SIZE);
    bool guest64 = CTL(ENTRY, VM_ENTRY_CONTROLS, IA32E_MODE_GUEST);

    CC(HOST_CR0_FIXED, fixed_bad(F(HOST_CR0), cap(x, 0x486), cap(x, 0x487)));
    CC(HOST_CR4_FIXED, fixed_bad(F(HOST_CR4), cap(x, 0x488), cap(x, 0x489)));
    CC(HOST_CR3_WIDTH, beyond_width(x, F(HOST_CR3)));
    CC(HOST_SYSENTER_ESP_CANONICAL, !canonical(x, F(HOST_IA32_SYSENTER_ESP)));
    CC(HOST_SYSENTER_EIP_CANONICAL, !canonical(x, F(HOST_IA32_SYSENTER_EIP)));
    CC(HOST_PAT_TYPES, CTL(EXIT, VM_EXIT_CONTROLS, LOAD_PAT) && !vmx_pat_valid(F(HOST_IA32_PAT)));
    if (CTL(EXIT, VM_EXIT_CONTROLS, LOAD_EFER)) {
        uint64_t efer = F(HOST_IA32_EFER);
        CC(HOST_EFER_RESERVED, efer & ~efer_valid(x->c));
        CC(HOST_EFER_LMA_LME, !!(efer & EFER_LMA) != host64 || !!(efer & EFER_LME) != host64);
    }

    static const enum vmcs_field sels[] = { VMCS_HOST_ES_SELECTOR, VMCS_HOST_CS_SELECTOR, VMCS_HOST_SS_SELECTOR,
                                            VMCS_HOST_DS_SELECTOR, VMCS_HOST_FS_SELECTOR, VMCS_HOST_GS_SELECTOR,
                                            VMCS_HOST_TR_SELECTOR };
    for (unsigned k = 0; k < sizeof sels / sizeof sels[0]; k++)
        CC(HOST_SEL_RPL_TI, x->f[sels[k]] & 7);
    CC(HOST_CS_NULL, F(HOST_CS_SELECTOR) == 0);
    CC(HOST_TR_NULL, F(HOST_TR_SELECTOR) == 0);
    CC(HOST_SS_NULL, F(HOST_SS_SELECTOR) == 0 && !host64);
    CC(HOST_BASE_CANONICAL, !canonical(x, F(HOST_FS_BASE)) || !canonical(x, F(HOST_GS_BASE)) ||
                                !canonical(x, F(HOST_TR_BASE)) || !canonical(x, F(HOST_GDTR_BASE)) ||
                                !canonical(x, F(HOST_IDTR_BASE)));

    if (!(x->c->efer & EFER_LMA))
        CC(HOST_ADDR_SPACE_OUTSIDE_IA32E, guest64 || host64);
    else
        CC(HOST_ADDR_SPACE_IN_IA32E, !host64);
    if (!host64) {
        CC(HOST_32_IA32E_GUEST, guest64);
        CC(HOST_32_PCIDE, F(HOST_CR4) & CR4_PCIDE);
        CC(HOST_32_RIP, F(HOST_RIP) >> 32);
    } else {
        CC(HOST_64_PAE, !(F(HOST_CR4) & CR4_PAE));
        CC(HOST_64_RIP_CANONICAL, !canonical(x, F(HOST_RIP)));
    }
    return CHK_PASS;
}

/* ---- 27.3.1 guest state ---- */

/* Guest segment register r: selector, base, limit, access rights. */
struct gseg {
    uint64_t sel, base, limit, ar;
};
static struct gseg gseg(const struct entry_ctx *x, int r)
{
    /* the guest segment fields are in S_* order in each group of vmcs_fields.def */
    return (struct gseg){ x->f[VMCS_GUEST_ES_SELECTOR + r], x->f[VMCS_GUEST_ES_BASE + r],
                          x->f[VMCS_GUEST_ES_LIMIT + r], x->f[VMCS_GUEST_ES_AR_BYTES + r] };
}
static bool usable(const struct gseg *s) { return !(s->ar & AR_UNUSABLE); }
/* The G bit against the limit: G = 1 needs limit bits 11:0 all 1; G = 0 needs bits 31:20 clear. */
static bool granularity_bad(const struct gseg *s)
{
    return (s->ar & AR_G) ? (s->limit & 0xfff) != 0xfff : (s->limit >> 20) != 0;
}
static bool ar_reserved(const struct gseg *s) { return (s->ar & 0xf00) || (s->ar >> 17); }

/* The rules for CS, SS, DS, ES, FS, GS outside virtual-8086 mode. */
static int check_code_data(struct entry_ctx *x, bool unrestricted, bool ia32e)
{
    struct gseg cs = gseg(x, S_CS), ss = gseg(x, S_SS);
    unsigned cst = AR_TYPE(cs.ar);

    x->seg = S_CS;
    CC(GUEST_CS_TYPE, !(cst == 9 || cst == 11 || cst == 13 || cst == 15 || (unrestricted && cst == 3)));
    x->seg = S_SS;
    CC(GUEST_SS_TYPE, usable(&ss) && AR_TYPE(ss.ar) != 3 && AR_TYPE(ss.ar) != 7);
    for (int r = S_ES; r <= S_GS; r++) {
        struct gseg s = gseg(x, r);
        x->seg = r;
        if (r == S_CS || r == S_SS || !usable(&s))
            continue;
        CC(GUEST_DATA_TYPE, !(s.ar & 1) || ((s.ar & SEG_CODE) && !(s.ar & 2)));
    }
    for (int r = S_ES; r <= S_GS; r++) {
        struct gseg s = gseg(x, r);
        x->seg = r;
        CC(GUEST_SEG_S, (r == S_CS || usable(&s)) && !(s.ar & AR_S));
    }
    x->seg = S_CS;
    CC(GUEST_CS_DPL, (cst == 3 && AR_DPL(cs.ar) != 0) ||
                         ((cst == 9 || cst == 11) && AR_DPL(cs.ar) != AR_DPL(ss.ar)) ||
                         ((cst == 13 || cst == 15) && AR_DPL(cs.ar) > AR_DPL(ss.ar)));
    x->seg = S_SS;
    CC(GUEST_SS_DPL, (!unrestricted && AR_DPL(ss.ar) != (ss.sel & 3)) ||
                         ((cst == 3 || !(F(GUEST_CR0) & CR0_PE)) && AR_DPL(ss.ar) != 0));
    for (int r = S_ES; r <= S_GS; r++) {
        struct gseg s = gseg(x, r);
        x->seg = r;
        if (r == S_CS || r == S_SS || !usable(&s) || unrestricted)
            continue;
        CC(GUEST_DATA_DPL, AR_TYPE(s.ar) <= 11 && AR_DPL(s.ar) < (s.sel & 3));
    }
    for (int r = S_ES; r <= S_GS; r++) {
        struct gseg s = gseg(x, r);
        x->seg = r;
        if (r != S_CS && !usable(&s))
            continue;
        CC(GUEST_SEG_PRESENT, !(s.ar & AR_P));
        CC(GUEST_SEG_AR_RESERVED, ar_reserved(&s));
        CC(GUEST_SEG_GRANULARITY, granularity_bad(&s));
    }
    x->seg = S_CS;
    CC(GUEST_CS_L_AND_D, ia32e && (cs.ar & AR_L) && (cs.ar & AR_DB));
    return CHK_PASS;
}

static int check_segments(struct entry_ctx *x, bool unrestricted, bool ia32e, bool v86)
{
    struct gseg tr = gseg(x, S_TR), ldtr = gseg(x, S_LDTR), cs = gseg(x, S_CS), ss = gseg(x, S_SS);

    x->seg = S_TR;
    CC(GUEST_TR_TI, tr.sel & 4);
    x->seg = S_LDTR;
    CC(GUEST_LDTR_TI, usable(&ldtr) && (ldtr.sel & 4));
    x->seg = S_SS;
    CC(GUEST_SS_RPL_CS_RPL, !v86 && !unrestricted && (ss.sel & 3) != (cs.sel & 3));
    for (int r = S_ES; r <= S_GS && v86; r++) {
        struct gseg s = gseg(x, r);
        x->seg = r;
        CC(GUEST_V86_BASE, s.base != (s.sel & 0xffff) << 4);
        CC(GUEST_V86_LIMIT, s.limit != 0xffff);
        CC(GUEST_V86_AR, s.ar != 0xf3);
    }
    for (int r = S_FS; r <= S_TR; r++) {
        struct gseg s = gseg(x, r);
        x->seg = r;
        CC(GUEST_BASE_CANONICAL, (r != S_LDTR || usable(&s)) && !canonical(x, s.base));
    }
    for (int r = S_ES; r <= S_DS; r++) {
        struct gseg s = gseg(x, r);
        x->seg = r;
        CC(GUEST_BASE_HIGH, (r == S_CS || usable(&s)) && (s.base >> 32));
    }
    if (!v86) {
        int k = check_code_data(x, unrestricted, ia32e);
        if (k != CHK_PASS)
            return k;
    }
    x->seg = S_TR;
    CC(GUEST_TR_TYPE, !(AR_TYPE(tr.ar) == 11 || (!ia32e && AR_TYPE(tr.ar) == 3)));
    CC(GUEST_TR_AR, (tr.ar & AR_S) || !(tr.ar & AR_P) || !usable(&tr) || ar_reserved(&tr) ||
                        granularity_bad(&tr));
    x->seg = S_LDTR;
    CC(GUEST_LDTR_AR, usable(&ldtr) && (AR_TYPE(ldtr.ar) != 2 || (ldtr.ar & AR_S) || !(ldtr.ar & AR_P) ||
                                        ar_reserved(&ldtr) || granularity_bad(&ldtr)));
    x->seg = -1;
    return CHK_PASS;
}

/* Pending debug exceptions: B3-B0 [3:0], enabled breakpoint [12], BS [14], RTM [16]. */
#define PENDING_DBG_VALID 0x1500full

int vmx_check_guest(struct entry_ctx *x)
{
    bool unrestricted = CTL(PROC, CPU_BASED_VM_EXEC_CONTROL, SECONDARY_CONTROLS) &&
                        CTL(PROC2, SECONDARY_VM_EXEC_CONTROL, UNRESTRICTED_GUEST);
    bool ia32e = CTL(ENTRY, VM_ENTRY_CONTROLS, IA32E_MODE_GUEST);
    uint64_t cr0 = F(GUEST_CR0), cr4 = F(GUEST_CR4), rfl = F(GUEST_RFLAGS);
    uint64_t intr = F(VM_ENTRY_INTR_INFO_FIELD), istate = F(GUEST_INTERRUPTIBILITY_INFO);
    unsigned itype = (intr & (1u << 31)) ? (intr >> 8) & 7 : 0xff, ivec = intr & 0xff;
    uint64_t act = F(GUEST_ACTIVITY_STATE);
    bool v86 = (rfl & F_VM) != 0;
    uint64_t fixed0 = cap(x, 0x486);

    x->seg = -1;
    if (unrestricted)
        fixed0 &= ~(CR0_PE | CR0_PG);
    CC(GUEST_CR0_FIXED, fixed_bad(cr0, fixed0, cap(x, 0x487)));
    CC(GUEST_CR0_PG_WITHOUT_PE, (cr0 & CR0_PG) && !(cr0 & CR0_PE));
    CC(GUEST_CR4_FIXED, fixed_bad(cr4, cap(x, 0x488), cap(x, 0x489)));
    CC(GUEST_IA32E_PAGING, ia32e && (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE)));
    CC(GUEST_PCIDE_OUTSIDE_IA32E, !ia32e && (cr4 & CR4_PCIDE));
    CC(GUEST_CR3_WIDTH, beyond_width(x, F(GUEST_CR3)));
    if (CTL(ENTRY, VM_ENTRY_CONTROLS, LOAD_DEBUG_CONTROLS)) {
        /* the emulated IA32_DEBUGCTL supports no bit (emu/msr.c) */
        CC(GUEST_DEBUGCTL_RESERVED, F(GUEST_IA32_DEBUGCTL) != 0);
        CC(GUEST_DR7_HIGH, F(GUEST_DR7) >> 32);
    }
    CC(GUEST_SYSENTER_ESP_CANONICAL, !canonical(x, F(GUEST_SYSENTER_ESP)));
    CC(GUEST_SYSENTER_EIP_CANONICAL, !canonical(x, F(GUEST_SYSENTER_EIP)));
    CC(GUEST_PAT_TYPES, CTL(ENTRY, VM_ENTRY_CONTROLS, LOAD_PAT) && !vmx_pat_valid(F(GUEST_IA32_PAT)));
    if (CTL(ENTRY, VM_ENTRY_CONTROLS, LOAD_EFER)) {
        uint64_t efer = F(GUEST_IA32_EFER);
        CC(GUEST_EFER_RESERVED, efer & ~efer_valid(x->c));
        CC(GUEST_EFER_LMA, !!(efer & EFER_LMA) != ia32e);
        CC(GUEST_EFER_LME, (cr0 & CR0_PG) && !!(efer & EFER_LME) != ia32e);
    }

    int k = check_segments(x, unrestricted, ia32e, v86);
    if (k != CHK_PASS)
        return k;

    CC(GUEST_DTR_BASE_CANONICAL, !canonical(x, F(GUEST_GDTR_BASE)) || !canonical(x, F(GUEST_IDTR_BASE)));
    CC(GUEST_DTR_LIMIT, (F(GUEST_GDTR_LIMIT) >> 16) || (F(GUEST_IDTR_LIMIT) >> 16));

    bool cs_l = (F(GUEST_CS_AR_BYTES) & AR_L) != 0;
    CC(GUEST_RIP_HIGH, (!ia32e || !cs_l) && (F(GUEST_RIP) >> 32));
    CC(GUEST_RIP_CANONICAL, ia32e && cs_l && !canonical(x, F(GUEST_RIP)));
    CC(GUEST_RFLAGS_RESERVED, (rfl & ~0x3f7fd7ull) || !(rfl & 2));
    CC(GUEST_RFLAGS_VM, v86 && (ia32e || !(cr0 & CR0_PE)));
    CC(GUEST_RFLAGS_IF_INJECT, itype == EV_EXTINT && !(rfl & F_IF));

    /* activity states: 0 active, 1 HLT, 2 shutdown, 3 wait-for-SIPI (IA32_VMX_MISC[8:6]) */
    CC(GUEST_ACTIVITY_STATE, act > 3 || (act && !((x->vm->activity_states >> (act - 1)) & 1)));
    CC(GUEST_ACTIVITY_HLT_DPL, act == 1 && AR_DPL(F(GUEST_SS_AR_BYTES)) != 0);
    CC(GUEST_ACTIVITY_BLOCKING, act && (istate & 3));
    if (itype != 0xff) {
        bool ok = act == 0 ||
                  (act == 1 && (itype == EV_EXTINT || itype == EV_NMI || itype == 7 ||
                                (itype == EV_HWEXC && (ivec == EXC_DB || ivec == EXC_MC)))) ||
                  (act == 2 && (itype == EV_NMI || (itype == EV_HWEXC && ivec == EXC_MC)));
        CC(GUEST_ACTIVITY_INJECT, !ok);
    }
    /* vmxemu has no SMM and no SGX: blocking by SMI and by enclave interruption are reserved */
    CC(GUEST_INTR_RESERVED, istate & ~0xbull);
    CC(GUEST_INTR_STI_MOVSS, (istate & 3) == 3);
    CC(GUEST_INTR_STI_IF, (istate & 1) && !(rfl & F_IF));
    CC(GUEST_INTR_EXTINT_INJECT, itype == EV_EXTINT && (istate & 3));
    CC(GUEST_INTR_NMI_INJECT, itype == EV_NMI && (istate & 2));
    CC(GUEST_INTR_VNMI_INJECT, CTL(PIN, PIN_BASED_VM_EXEC_CONTROL, VIRTUAL_NMIS) && itype == EV_NMI && (istate & 8));
    uint64_t pend = F(GUEST_PENDING_DBG_EXCEPTIONS);
    CC(GUEST_PENDING_DBG_RESERVED, pend & ~PENDING_DBG_VALID);
    if ((istate & 3) || act == 1) {
        /* IA32_DEBUGCTL.BTF is never set on vmxemu (emu/msr.c), so BS follows TF */
        bool tf = (rfl & F_TF) != 0;
        CC(GUEST_PENDING_DBG_BS, !!(pend & (1u << 14)) != tf);
    }
    uint64_t link = F(VMCS_LINK_POINTER);
    if (link != ~0ull) {
        bool shadowing = CTL(PROC, CPU_BASED_VM_EXEC_CONTROL, SECONDARY_CONTROLS) &&
                         CTL(PROC2, SECONDARY_VM_EXEC_CONTROL, VMCS_SHADOWING);
        bool bad = (link & 0xfff) || beyond_width(x, link) || link == x->vmcs_ptr;
        if (!bad) {
            uint32_t rev = (uint32_t)phys_read(x->c->m, link, 4);
            bad = (rev & 0x7fffffffu) != x->vm->revision || !!(rev >> 31) != shadowing;
        }
        CC(GUEST_LINK_POINTER, bad);
    }
    /* PAE paging with EPT: the PDPTEs come from the VMCS (27.3.1.6); without
     * EPT they are loaded from guest CR3 (27.3.2.4) */
    bool ept = CTL(PROC, CPU_BASED_VM_EXEC_CONTROL, SECONDARY_CONTROLS) &&
               CTL(PROC2, SECONDARY_VM_EXEC_CONTROL, ENABLE_EPT);
    if ((cr0 & CR0_PG) && (cr4 & CR4_PAE) && !ia32e && ept) {
        uint64_t rsv = 0x1e6ull | ~0ull << x->c->model->maxphyaddr; /* bits 2:1, 8:5, 63:MAXPHYADDR */
        for (int k = 0; k < 4; k++) {
            x->pdpte[k] = x->f[VMCS_GUEST_PDPTE0 + k];
            CC(GUEST_PDPTE_EPT_RESERVED, (x->pdpte[k] & 1) && (x->pdpte[k] & rsv));
        }
    } else if ((cr0 & CR0_PG) && (cr4 & CR4_PAE) && !ia32e) {
        pg_ctx_t ctx;
        pg_ctx_cpu(&ctx, x->c);
        CC(GUEST_PDPTE_RESERVED, !pg_read_pdptes(&ctx, F(GUEST_CR3), x->pdpte));
    }
    return CHK_PASS;
}

/* ---- 27.4 MSR-list entries ---- */

int vmx_check_msr_entry(uint32_t index, uint32_t reserved)
{
    CC(MSR_LOAD_ENTRY_RESERVED, reserved != 0);
    /* IA32_FS_BASE, IA32_GS_BASE, IA32_SMM_MONITOR_CTL, IA32_SMBASE, x2APIC MSRs */
    CC(MSR_LOAD_FORBIDDEN, index == 0xc0000100u || index == 0xc0000101u || index == 0x9b || index == 0x9e ||
                               (index >> 8) == 8);
    return CHK_PASS;
}
