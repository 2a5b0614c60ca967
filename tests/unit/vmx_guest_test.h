/* vmx_guest_test.h - fixtures for test_vmx_entry.c and test_vmx_exit.c on top
 * of vmx_test.h: a valid 64-bit guest and host in the current VMCS, VMLAUNCH
 * and VMRESUME, and running single instructions in non-root operation with
 * the wrappers vmx/intercept.c binds, so a VM exit is observed as the return
 * value EXITED.
 *
 * Guest layout (identity-mapped): GDT 0x4000 (CS 08H 64-bit code, SS/DS 10H
 * data, TR 18H), IDT 0x3000 whose gate v points at 0x9000 + v, guest code at
 * GUEST_RIP, guest stack below 0x6000; host RIP 0x7000, RSP 0x7800.
 */
#ifndef VMX_GUEST_TEST_H
#define VMX_GUEST_TEST_H

#include "vmx_test.h"

#define EXITED 1000
#define GUEST_RIP 0x5000ull
#define HOST_RIP 0x7000ull

#define W(field, v) vmcs_set(c, VMCS_##field, (v))
#define R(field) vmcs_get(c, VMCS_##field)

static inline uint32_t vg_allowed0(enum vmx_ctl_word w)
{
    uint32_t a0, a1;
    vmx_allowed(c->model->vmx, w, &a0, &a1);
    return a0;
}

/* A 64-bit guest at CPL 0 and a 64-bit host, every check satisfied. */
static inline void vg_vmcs64(void)
{
    W(PIN_BASED_VM_EXEC_CONTROL, vg_allowed0(VMX_PIN));
    W(CPU_BASED_VM_EXEC_CONTROL, vg_allowed0(VMX_PROC));
    W(VM_EXIT_CONTROLS, vg_allowed0(VMX_EXIT) | VMX_CTL(EXIT, HOST_ADDR_SPACE_SIZE));
    W(VM_ENTRY_CONTROLS, vg_allowed0(VMX_ENTRY) | VMX_CTL(ENTRY, IA32E_MODE_GUEST));
    W(HOST_CR0, c->cr0);
    W(HOST_CR3, c->cr3);
    W(HOST_CR4, c->cr4);
    W(HOST_CS_SELECTOR, 0x08);
    W(HOST_SS_SELECTOR, 0x10);
    W(HOST_DS_SELECTOR, 0x10);
    W(HOST_ES_SELECTOR, 0x10);
    W(HOST_TR_SELECTOR, 0x18);
    W(HOST_TR_BASE, 0x4800);
    W(HOST_GDTR_BASE, 0x4000);
    W(HOST_IDTR_BASE, 0x3000);
    W(HOST_RIP, HOST_RIP);
    W(HOST_RSP, 0x7800);

    W(GUEST_CR0, CR0_PE | CR0_ET | CR0_NE | CR0_PG);
    W(GUEST_CR3, 0x1000);
    W(GUEST_CR4, CR4_PAE | CR4_VMXE);
    for (int r = 0; r < S_COUNT; r++) {
        uint64_t sel = 0x10, ar = 0xc093, limit = 0xffffffff;
        if (r == S_CS)
            sel = 0x08, ar = 0xa09b;
        else if (r == S_TR)
            sel = 0x18, ar = 0x8b, limit = 0x67;
        else if (r == S_LDTR)
            sel = 0, ar = AR_UNUSABLE, limit = 0;
        vmcs_set(c, VMCS_GUEST_ES_SELECTOR + r, sel);
        vmcs_set(c, VMCS_GUEST_ES_AR_BYTES + r, ar);
        vmcs_set(c, VMCS_GUEST_ES_LIMIT + r, limit);
        vmcs_set(c, VMCS_GUEST_ES_BASE + r, r == S_TR ? 0x4800 : 0);
    }
    W(GUEST_GDTR_BASE, 0x4000);
    W(GUEST_GDTR_LIMIT, 0x27);
    W(GUEST_IDTR_BASE, 0x3000);
    W(GUEST_IDTR_LIMIT, 0xfff);
    W(GUEST_RIP, GUEST_RIP);
    W(GUEST_RSP, 0x6000);
    W(GUEST_RFLAGS, 2);
    W(VMCS_LINK_POINTER, ~0ull);
    /* guest GDT and IDT */
    phys_write(m, 0x4008, 8, 0x00af9b000000ffffull);
    phys_write(m, 0x4010, 8, 0x00cf93000000ffffull);
    for (uint64_t v = 0; v < 256; v++) {
        uint64_t off = 0x9000 + v;
        phys_write(m, 0x3000 + 16 * v, 8, (off & 0xffff) | 0x08ull << 16 | 0x8eull << 40 | (off >> 16) << 48);
        phys_write(m, 0x3008 + 16 * v, 8, 0);
    }
}

/* Run one instruction at c->rip (written there first) as the vCPU would, with
 * the non-root wrapper when in non-root operation. A fault raised by it is
 * delivered (through the exception bitmap in non-root operation). Returns
 * NOFAULT, EXITED (a VM exit or VM entry replaced the instruction), or the
 * vector delivered. */
static inline int vg_run(const uint8_t *bytes, int n)
{
    for (int k = 0; k < n; k++)
        phys_write(m, c->rip + (uint64_t)k, 1, bytes[k]);
    x86_insn i;
    int len = x86_decode(&i, bytes, (size_t)n, (enum x86_mode)c->dmode);
    assert_true(len > 0);
    static dinsn_t d;
    dinsn_bind(&d, &i);
    if (c->nonroot && vmx_nonroot_handler(&i))
        d.fn = vmx_nonroot_handler(&i);
    c->insn_rip = c->rip;
    c->rip += (uint64_t)len;
    switch (setjmp(c->fault_jmp)) {
    case 0:
        d.fn(c, &d);
        return NOFAULT;
    case 2:
        return EXITED;
    default:
        if (!c->nonroot) /* a root-mode fault: reported, not delivered */
            return c->ev_vec;
        {
            int vec = c->ev_vec;
            cpu_deliver_pending(c);
            return c->nonroot ? vec : EXITED;
        }
    }
}
#define RUN(...) vg_run((const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))

static inline int vmlaunch(void) { return RUN(0x0f, 0x01, 0xc2); }
static inline int vmresume(void) { return RUN(0x0f, 0x01, 0xc3); }

static inline int vg_setup(void **state)
{
    vt_setup(state); /* vmx_attach installs the non-root hooks */
    vt_enter_with_vmcs(VMCS_A);
    vg_vmcs64();
    c->rip = 0x100000;
    return 0;
}

/* VMLAUNCH into the guest of vg_vmcs64 (after the test's changes). */
static inline void vg_launch(void)
{
    assert_int_equal(vmlaunch(), EXITED);
    assert_true(c->nonroot);
    assert_int_equal(c->rip, R(GUEST_RIP));
}

#endif
