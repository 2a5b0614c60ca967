/* vmxlib.h - the VMX helper library of the guest tests: VMXON and VMCS regions,
 * preparing the CPU for VMXON, wrappers that run one VMX instruction and
 * return its outcome (VMsucceed, VMfailInvalid, VMfailValid, or the exception
 * it raised), and VMCS set-up helpers for a 64-bit guest that mirrors the
 * test kernel. Field encodings come from vmx/vmcs_fields.def (VMCS_<ident>),
 * whose encodings tests/unit/test_vmx_tables.c checks against the SDM.
 *
 * Linking: guest.mk puts lib/vmxlib.a on every kernel's link line; a test
 * includes this header only. */
#ifndef VMXLIB_H
#define VMXLIB_H

#include "guest.h"

enum vmcs_enc {
#define F(ident, enc, name, req) VMCS_##ident = enc,
#include "../../../vmx/vmcs_fields.def"
#undef F
};

/* Outcomes (SDM Vol. 3C "VMX Instruction Reference", "Conventions"). */
enum { VMX_OK = 0, VMX_FAIL_INVALID = 1, VMX_FAIL_VALID = 2 };
#define VMX_EXC(vec) (0x100 | (vec)) /* the instruction raised exception vec instead */
#define EXC_UD 6
#define EXC_GP 13
#define EXC_PF 14

#define MSR_IA32_FEATURE_CONTROL 0x3a
#define MSR_IA32_VMX_BASIC 0x480
#define MSR_IA32_VMX_CR0_FIXED0 0x486
#define MSR_IA32_VMX_CR4_FIXED0 0x488
#define MSR_IA32_VMX_VMCS_ENUM 0x48a
#define CR0_NE 0x20
#define CR4_VMXE 0x2000

/* Catch #UD, #GP and #PF so the wrappers can report them (call first). */
void vmx_lib_init(void);
/* CPUID.1:ECX.VMX[bit 5]. */
bool vmx_cpuid(void);
/* IA32_VMX_BASIC[30:0]. */
uint32_t vmx_revision(void);
/* A zeroed, 4-KByte aligned page (identity-mapped: its address is physical). */
void *vmx_page(void);
/* A zeroed page starting with the VMCS revision identifier: a VMXON or VMCS region. */
void *vmx_region(void);
/* What VMXON needs of the CPU: CR0 and CR4 as IA32_VMX_CR0/CR4_FIXED0 want
 * them (CR4.VMXE among them), IA32_FEATURE_CONTROL locked with VMX enabled
 * unless firmware (--feature-control) locked it already. */
void vmx_prepare_cpu(void);

/* The usual start of a test hypervisor: vmx_lib_init, vmx_prepare_cpu, VMXON,
 * VMCLEAR and VMPTRLD of a fresh VMCS (each checked), the host-state area from
 * the running kernel. Returns the VMCS's address. */
uint64_t vmx_start(void);

/* One instruction each: VMX_OK, VMX_FAIL_INVALID, VMX_FAIL_VALID or VMX_EXC(vec). */
int vmx_on(uint64_t pa);
int vmx_off(void);
int vmx_clear(uint64_t pa);
int vmx_ptrld(uint64_t pa);
int vmx_ptrst(uint64_t *pa);
int vmx_read(uint64_t enc, uint64_t *val);
int vmx_write(uint64_t enc, uint64_t val);
int vmx_call(void);
/* The VM-instruction error field of the current VMCS (VMREAD 4400H). */
uint64_t vmx_error(void);
const char *vmx_outcome_name(int r);
/* VMWRITE that must succeed: a failure ends the test (status 98). */
void w(uint32_t enc, uint64_t v);

/* A control word as the capability MSR allows it (SDM Vol. 3D A.3-A.5): the
 * bits that must be 1 set, the bits that may not be 1 cleared from want. */
uint32_t vmx_adjust(uint32_t cap_msr, uint32_t want);
/* Host-state area from the running kernel: CR0/CR3/CR4, selectors, FS/GS/TR/
 * GDTR/IDTR bases, SYSENTER MSRs; RIP and RSP as given. */
void vmcs_setup_host(uint64_t rip, uint64_t rsp);
/* Guest-state area for a 64-bit guest with the kernel's own segments and
 * page tables, starting at rip with stack rsp; VMCS link pointer all ones. */
void vmcs_setup_guest64(uint64_t rip, uint64_t rsp);
/* The five control words, each adjusted by its TRUE capability MSR (the
 * secondary one by IA32_VMX_PROCBASED_CTLS2 when the CPU has it). */
void vmcs_setup_controls(uint32_t pin, uint32_t proc, uint32_t proc2, uint32_t exit, uint32_t entry);

/* ---- EPT (SDM Vol. 3C "EPT Translation Mechanism"); tables come from vmx_page() ---- */
#define MSR_IA32_VMX_EPT_VPID_CAP 0x48c
#define EPT_R 1ull
#define EPT_W 2ull
#define EPT_X 4ull
#define EPT_RWX 7ull
#define EPT_WB (6ull << 3) /* memory type of a leaf, bits 5:3 */
#define EPT_PS (1ull << 7)
#define EPT_A (1ull << 8)
#define EPT_D (1ull << 9)
#define EPT_4K 0x1000ull
#define EPT_2M 0x200000ull
#define EPT_1G 0x40000000ull
/* A new, empty EPT PML4 table. */
uint64_t *ept_new(void);
/* Map the page of `size` (EPT_4K/2M/1G) at gpa to hpa with leaf bits `leaf` (rights, type,
 * ...), making the tables above it (RWX) as needed; returns the leaf entry. */
uint64_t *ept_map(uint64_t *pml4, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t leaf);
/* An identity EPT for guest-physical 0-4G, RWX and WB: 4-KByte pages for 0-2M
 * (the test kernel's, so a test can change single pages), 2-MByte pages up to
 * 1G, 1-GByte pages above. Returns its PML4. */
uint64_t *ept_identity(void);
/* The entry of `level` (4 PML4E, 3 PDPTE, 2 PDE, 1 PTE) that translates gpa. */
uint64_t *ept_entry(uint64_t *pml4, uint64_t gpa, int level);
/* EPTP for the table: WB, 4-level walk, accessed and dirty flags when ad. */
uint64_t ept_pointer(uint64_t *pml4, bool ad);
/* INVVPID of type with descriptor {desc_lo (VPID in bits 15:0), la}: VMX_OK, VMX_FAIL_* or VMX_EXC(vec). */
int vmx_invvpid(uint64_t type, uint64_t desc_lo, uint64_t la);
/* INVEPT of type with descriptor {eptp, 0}: VMX_OK, VMX_FAIL_* or VMX_EXC(vec). */
int vmx_invept(uint64_t type, uint64_t eptp);

#endif
