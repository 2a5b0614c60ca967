/* vmx_test.h - fixtures shared by test_vmx_insn.c and test_vmcs.c: a machine
 * with the skylake-server-vmx model (or a variant of it) in 64-bit mode at
 * CPL 0 with paging on, VMX attached, IA32_FEATURE_CONTROL locked with VMX
 * enabled, and helpers that run one VMX instruction through the decoder and
 * the bound handler, returning the fault it raised or NOFAULT and its VMX
 * outcome (CF/ZF).
 *
 * Guest physical layout: PML4 0x1000, PDPT 0x2000 (1 GiB identity pages for
 * the first 4 GiB), the memory operand at OPND (0x8000), the VMXON region at
 * VMXON_PA (0x10000), VMCS regions from VMCS_A (0x20000).
 */
#ifndef VMX_TEST_H
#define VMX_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "emu/cpumodel.h"
#include "emu/dcache.h"
#include "emu/exec.h"
#include "emu/flags.h"
#include "emu/machine.h"
#include "emu/msr.h" /* before vmx/: caps.h names MSR_IA32_VMX_BASIC as a macro */
#include "vmx/trace.h"
#include "vmx/vmx.h"

#define NOFAULT (-1)
#define OPND 0x8000ull
#define VMXON_PA 0x10000ull
#define VMCS_A 0x20000ull
#define VMCS_B 0x21000ull
#define VMX_REV 1u /* emu/cpumodel.def: VMXCAPS(skylake_server) */

static machine_t *m;
static cpu_t *c;

static inline void vt_mode64(void)
{
    c->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
    c->cr4 = CR4_PAE | CR4_VMXE;
    c->cr3 = 0x1000;
    c->efer = EFER_LME | EFER_LMA;
    c->seg[S_CS].ar = AR_P | AR_S | AR_L | 0xb;
    c->cpl = 0;
    cpu_update_mode(c);
}

static inline void vt_new_machine(const struct cpu_model *model)
{
    m = machine_new(16 << 20, model, 1);
    assert_non_null(m);
    c = m->cpu[0];
    msr_reset(c);
    vmx_attach(m);
    c->msr_feature_control = 1 | 4; /* locked, VMX outside SMX */
    phys_write(m, 0x1000, 8, 0x2000 | 3);
    for (uint64_t k = 0; k < 4; k++)
        phys_write(m, 0x2000 + 8 * k, 8, k << 30 | 0x83);
    vt_mode64();
    phys_write(m, VMXON_PA, 4, VMX_REV);
    phys_write(m, VMCS_A, 4, VMX_REV);
    phys_write(m, VMCS_B, 4, VMX_REV);
}

static inline int vt_setup(void **state)
{
    vt_new_machine(cpu_model_find("skylake-server-vmx"));
    return 0;
}

static inline int vt_teardown(void **state)
{
    vmx_trace_open(NULL);
    vmx_detach(m);
    machine_free(m);
    m = NULL;
    return 0;
}

/* Run one instruction; the fault vector it raised, or NOFAULT. */
static inline int vt_exec(const uint8_t *bytes, int n)
{
    x86_insn i;
    int len = x86_decode(&i, bytes, (size_t)n, (enum x86_mode)c->dmode);
    assert_true(len > 0);
    static dinsn_t d;
    dinsn_bind(&d, &i);
    c->insn_rip = c->rip;
    c->rip += (uint64_t)len;
    cpu_set_arith(c, F_CF | F_ZF | F_SF | F_OF | F_PF | F_AF); /* a VMX outcome must clear or set each */
    if (setjmp(c->fault_jmp))
        return c->ev_vec;
    d.fn(c, &d);
    return NOFAULT;
}
#define EXEC(...) vt_exec((const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))

/* The VMX outcome in RFLAGS: 0 VMsucceed, 'C' VMfailInvalid, 'Z' VMfailValid, '?' other. */
static inline int vt_outcome(void)
{
    uint64_t f = cpu_get_rflags(c) & F_ARITH;
    return f == 0 ? 0 : f == F_CF ? 'C' : f == F_ZF ? 'Z' : '?';
}

/* Instructions with their memory operand at [RAX] = OPND. */
static inline int vt_mem_insn(const uint8_t *bytes, int n, uint64_t operand)
{
    phys_write(m, OPND, 8, operand);
    c->gpr[R_RAX] = OPND;
    return vt_exec(bytes, n);
}
static inline int vmxon(uint64_t pa) { return vt_mem_insn((const uint8_t[]){ 0xf3, 0x0f, 0xc7, 0x30 }, 4, pa); }
static inline int vmptrld(uint64_t pa) { return vt_mem_insn((const uint8_t[]){ 0x0f, 0xc7, 0x30 }, 3, pa); }
static inline int vmclear(uint64_t pa) { return vt_mem_insn((const uint8_t[]){ 0x66, 0x0f, 0xc7, 0x30 }, 4, pa); }
static inline int vmxoff(void) { return EXEC(0x0f, 0x01, 0xc4); }
static inline int vmcall(void) { return EXEC(0x0f, 0x01, 0xc1); }
static inline uint64_t vmptrst(void)
{
    c->gpr[R_RAX] = OPND;
    assert_int_equal(EXEC(0x0f, 0xc7, 0x38), NOFAULT);
    return phys_read(m, OPND, 8);
}
/* VMREAD RBX, RAX (register form): RAX = encoding; the value in *val. */
static inline int vmread(uint64_t enc, uint64_t *val)
{
    c->gpr[R_RAX] = enc;
    c->gpr[R_RBX] = 0xdeadbeefdeadbeefull;
    int r = EXEC(0x0f, 0x78, 0xc3);
    *val = c->gpr[R_RBX];
    return r;
}
/* VMWRITE RAX, RBX (register form): RAX = encoding, RBX = value. */
static inline int vmwrite(uint64_t enc, uint64_t val)
{
    c->gpr[R_RAX] = enc;
    c->gpr[R_RBX] = val;
    return EXEC(0x0f, 0x79, 0xc3);
}
/* The VM-instruction error field of the current VMCS. */
static inline uint64_t vm_error(void)
{
    return vmcs_get(c, VMCS_VM_INSTRUCTION_ERROR);
}

/* VMXON at VMXON_PA, then VMPTRLD of pa: a current VMCS. */
static inline void vt_enter_with_vmcs(uint64_t pa)
{
    assert_int_equal(vmxon(VMXON_PA), NOFAULT);
    assert_int_equal(vt_outcome(), 0);
    assert_int_equal(vmptrld(pa), NOFAULT);
    assert_int_equal(vt_outcome(), 0);
}

#endif
