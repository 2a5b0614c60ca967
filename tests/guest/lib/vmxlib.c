/* vmxlib.c - the guest tests' VMX helpers (see vmxlib.h). Each instruction
 * wrapper runs the instruction with a caught #UD/#GP/#PF resuming after it and
 * returns what happened: the exception, or CF/ZF as the SDM's conventions set
 * them (CF: VMfailInvalid, ZF: VMfailValid). */
#include "vmxlib.h"

static uint8_t pool[16][4096] __attribute__((aligned(4096)));
static int pool_used;

void vmx_lib_init(void)
{
    catch_trap(EXC_UD);
    catch_trap(EXC_GP);
    catch_trap(EXC_PF);
}

bool vmx_cpuid(void)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    return (r[2] >> 5) & 1;
}

uint32_t vmx_revision(void)
{
    return (uint32_t)rdmsr(MSR_IA32_VMX_BASIC) & 0x7fffffff;
}

void *vmx_page(void)
{
    if (pool_used == 16) {
        printf("vmxlib: out of pages\n");
        guest_exit(99);
    }
    uint8_t *p = pool[pool_used++];
    memset(p, 0, 4096);
    return p;
}

void *vmx_region(void)
{
    uint32_t *p = vmx_page();
    p[0] = vmx_revision();
    return p;
}

void vmx_prepare_cpu(void)
{
    WRITE_CR(0, READ_CR(0) | rdmsr(MSR_IA32_VMX_CR0_FIXED0));
    WRITE_CR(4, READ_CR(4) | rdmsr(MSR_IA32_VMX_CR4_FIXED0));
    if (!(rdmsr(MSR_IA32_FEATURE_CONTROL) & 1))
        wrmsr(MSR_IA32_FEATURE_CONTROL, 1 | 4); /* lock, VMX outside SMX */
}

/* After an instruction that may trap: the exception it raised, or its outcome. */
static int outcome(uint64_t traps_before, uint64_t rflags)
{
    if (last_trap.count != traps_before)
        return VMX_EXC((int)last_trap.vec);
    return (rflags & 1) ? VMX_FAIL_INVALID : (rflags & 0x40) ? VMX_FAIL_VALID : VMX_OK;
}

/* asm: the instruction, then RFLAGS into %0; a caught trap resumes at 1: */
#define VMX_INSN(text, ...)                                                                      \
    uint64_t n_ = last_trap.count, fl_ = 0;                                                      \
    __asm__ volatile(RESUME_AT_1F text "\n\tpushfq\n\tpopq %0\n1:" : "+r"(fl_) __VA_ARGS__);     \
    return outcome(n_, fl_)

int vmx_on(uint64_t pa) { VMX_INSN("vmxon %1", : "m"(pa) : "r11", "cc", "memory"); }
int vmx_off(void) { VMX_INSN("vmxoff", : : "r11", "cc", "memory"); }
int vmx_clear(uint64_t pa) { VMX_INSN("vmclear %1", : "m"(pa) : "r11", "cc", "memory"); }
int vmx_ptrld(uint64_t pa) { VMX_INSN("vmptrld %1", : "m"(pa) : "r11", "cc", "memory"); }
int vmx_ptrst(uint64_t *pa) { VMX_INSN("vmptrst %1", : "m"(*pa) : "r11", "cc", "memory"); }
int vmx_write(uint64_t enc, uint64_t val) { VMX_INSN("vmwrite %2, %1", : "r"(enc), "rm"(val) : "r11", "cc", "memory"); }
int vmx_call(void) { VMX_INSN("vmcall", : : "r11", "cc", "memory"); }

int vmx_read(uint64_t enc, uint64_t *val)
{
    uint64_t n = last_trap.count, fl = 0, v = 0; /* what *val gets if VMREAD does not write */
    __asm__ volatile(RESUME_AT_1F "vmread %2, %1\n\tpushfq\n\tpopq %0\n1:"
                     : "+r"(fl), "+rm"(v)
                     : "r"(enc)
                     : "r11", "cc", "memory");
    *val = v;
    return outcome(n, fl);
}

uint64_t vmx_error(void)
{
    uint64_t v = ~0ull;
    vmx_read(VMCS_VM_INSTRUCTION_ERROR, &v);
    return v;
}

const char *vmx_outcome_name(int r)
{
    switch (r) {
    case VMX_OK: return "VMsucceed";
    case VMX_FAIL_INVALID: return "VMfailInvalid";
    case VMX_FAIL_VALID: return "VMfailValid";
    case VMX_EXC(EXC_UD): return "#UD";
    case VMX_EXC(EXC_GP): return "#GP";
    case VMX_EXC(EXC_PF): return "#PF";
    default: return "another exception";
    }
}

uint32_t vmx_adjust(uint32_t cap_msr, uint32_t want)
{
    uint64_t cap = rdmsr(cap_msr);
    return (want | (uint32_t)cap) & (uint32_t)(cap >> 32);
}

/* ---- VMCS set-up from the running kernel ---- */

static uint64_t gdt_base(void)
{
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } g;
    __asm__ volatile("sgdt %0" : "=m"(g));
    return g.base;
}

/* Access rights (VMX layout) of GDT selector sel: descriptor bits 47:40 and 55:52. */
static uint32_t seg_ar(uint16_t sel)
{
    uint64_t d = ((uint64_t *)gdt_base())[sel >> 3];
    return (uint32_t)(d >> 40) & 0xf0ff;
}

/* The 64-bit TSS's base from its 16-byte descriptor. */
static uint64_t tss_base(uint16_t sel)
{
    uint64_t *d = &((uint64_t *)gdt_base())[sel >> 3];
    return ((d[0] >> 16) & 0xffffff) | ((d[0] >> 56) << 24) | (d[1] << 32);
}

static uint16_t read_tr(void)
{
    uint16_t s;
    __asm__ volatile("str %0" : "=r"(s));
    return s;
}

void w(uint32_t enc, uint64_t v)
{
    int r = vmx_write(enc, v);
    if (r != VMX_OK) {
        printf("vmxlib: VMWRITE %x failed: %s, error %lu\n", enc, vmx_outcome_name(r), vmx_error());
        guest_exit(98);
    }
}

void vmcs_setup_host(uint64_t rip, uint64_t rsp)
{
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    w(VMCS_HOST_CR0, READ_CR(0));
    w(VMCS_HOST_CR3, READ_CR(3));
    w(VMCS_HOST_CR4, READ_CR(4));
    w(VMCS_HOST_ES_SELECTOR, SEL_KDATA);
    w(VMCS_HOST_CS_SELECTOR, SEL_KCODE);
    w(VMCS_HOST_SS_SELECTOR, SEL_KDATA);
    w(VMCS_HOST_DS_SELECTOR, SEL_KDATA);
    w(VMCS_HOST_FS_SELECTOR, SEL_KDATA);
    w(VMCS_HOST_GS_SELECTOR, SEL_KDATA);
    w(VMCS_HOST_TR_SELECTOR, read_tr());
    w(VMCS_HOST_FS_BASE, rdmsr(0xc0000100));
    w(VMCS_HOST_GS_BASE, rdmsr(0xc0000101));
    w(VMCS_HOST_TR_BASE, tss_base(read_tr()));
    w(VMCS_HOST_GDTR_BASE, gdt_base());
    w(VMCS_HOST_IDTR_BASE, idtr.base);
    w(VMCS_HOST_IA32_SYSENTER_CS, rdmsr(0x174));
    w(VMCS_HOST_IA32_SYSENTER_ESP, rdmsr(0x175));
    w(VMCS_HOST_IA32_SYSENTER_EIP, rdmsr(0x176));
    w(VMCS_HOST_RSP, rsp);
    w(VMCS_HOST_RIP, rip);
}

void vmcs_setup_guest64(uint64_t rip, uint64_t rsp)
{
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gdtr, idtr;
    __asm__ volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
    static const struct { uint32_t sel, base, limit, ar; uint16_t value; } segs[] = {
        { VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_ES_BASE, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_ES_AR_BYTES, SEL_KDATA },
        { VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_CS_BASE, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_CS_AR_BYTES, SEL_KCODE },
        { VMCS_GUEST_SS_SELECTOR, VMCS_GUEST_SS_BASE, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_AR_BYTES, SEL_KDATA },
        { VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_DS_BASE, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_DS_AR_BYTES, SEL_KDATA },
        { VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_FS_BASE, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_FS_AR_BYTES, SEL_KDATA },
        { VMCS_GUEST_GS_SELECTOR, VMCS_GUEST_GS_BASE, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_GS_AR_BYTES, SEL_KDATA },
    };
    for (unsigned k = 0; k < sizeof segs / sizeof segs[0]; k++) {
        w(segs[k].sel, segs[k].value);
        w(segs[k].base, 0);
        w(segs[k].limit, 0xffffffff);
        w(segs[k].ar, seg_ar(segs[k].value));
    }
    w(VMCS_GUEST_LDTR_SELECTOR, 0);
    w(VMCS_GUEST_LDTR_AR_BYTES, 0x10000); /* unusable */
    w(VMCS_GUEST_TR_SELECTOR, read_tr());
    w(VMCS_GUEST_TR_BASE, tss_base(read_tr()));
    w(VMCS_GUEST_TR_LIMIT, 0x67);
    w(VMCS_GUEST_TR_AR_BYTES, 0x8b); /* busy 64-bit TSS, present */
    w(VMCS_GUEST_GDTR_BASE, gdtr.base);
    w(VMCS_GUEST_GDTR_LIMIT, gdtr.limit);
    w(VMCS_GUEST_IDTR_BASE, idtr.base);
    w(VMCS_GUEST_IDTR_LIMIT, idtr.limit);
    w(VMCS_GUEST_CR0, READ_CR(0));
    w(VMCS_GUEST_CR3, READ_CR(3));
    w(VMCS_GUEST_CR4, READ_CR(4));
    w(VMCS_GUEST_DR7, 0x400);
    w(VMCS_GUEST_RSP, rsp);
    w(VMCS_GUEST_RIP, rip);
    w(VMCS_GUEST_RFLAGS, 0x2);
    w(VMCS_GUEST_SYSENTER_CS, rdmsr(0x174));
    w(VMCS_GUEST_SYSENTER_ESP, rdmsr(0x175));
    w(VMCS_GUEST_SYSENTER_EIP, rdmsr(0x176));
    w(VMCS_VMCS_LINK_POINTER, ~0ull);
    w(VMCS_GUEST_ACTIVITY_STATE, 0);
    w(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
}

uint64_t vmx_start(void)
{
    vmx_lib_init();
    vmx_prepare_cpu();
    uint64_t vmxon_region = (uint64_t)vmx_region(), vmcs = (uint64_t)vmx_region();
    CHECK_EQ(vmx_on(vmxon_region), VMX_OK);
    CHECK_EQ(vmx_clear(vmcs), VMX_OK);
    CHECK_EQ(vmx_ptrld(vmcs), VMX_OK);
    vmcs_setup_host(0, 0);
    return vmcs;
}

void vmcs_setup_controls(uint32_t pin, uint32_t proc, uint32_t proc2, uint32_t exit, uint32_t entry)
{
    uint32_t p = vmx_adjust(0x48e, proc);
    w(VMCS_PIN_BASED_VM_EXEC_CONTROL, vmx_adjust(0x48d, pin));
    w(VMCS_CPU_BASED_VM_EXEC_CONTROL, p);
    if (p & (1u << 31))
        w(VMCS_SECONDARY_VM_EXEC_CONTROL, vmx_adjust(0x48b, proc2));
    w(VMCS_VM_EXIT_CONTROLS, vmx_adjust(0x48f, exit));
    w(VMCS_VM_ENTRY_CONTROLS, vmx_adjust(0x490, entry));
}

/* ---- EPT ---- */

uint64_t *ept_new(void)
{
    return vmx_page();
}

uint64_t *ept_entry(uint64_t *pml4, uint64_t gpa, int level)
{
    uint64_t *table = pml4;
    for (int l = 4;; l--) {
        uint64_t *e = &table[(gpa >> (12 + 9 * (l - 1))) & 511];
        if (l == level)
            return e;
        if (!(*e & EPT_RWX) || (*e & EPT_PS))
            return 0;
        table = (uint64_t *)(*e & 0xffffffffff000ull);
    }
}

uint64_t *ept_map(uint64_t *pml4, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t leaf)
{
    int level = size == EPT_1G ? 3 : size == EPT_2M ? 2 : 1;
    uint64_t *table = pml4;
    for (int l = 4; l > level; l--) {
        uint64_t *e = &table[(gpa >> (12 + 9 * (l - 1))) & 511];
        if (!(*e & EPT_RWX) || (*e & EPT_PS))
            *e = (uint64_t)vmx_page() | EPT_RWX;
        table = (uint64_t *)(*e & 0xffffffffff000ull);
    }
    uint64_t *e = &table[(gpa >> (12 + 9 * (level - 1))) & 511];
    *e = hpa | leaf | (level > 1 ? EPT_PS : 0);
    return e;
}

uint64_t *ept_identity(void)
{
    uint64_t *pml4 = ept_new();
    for (uint64_t a = 0; a < EPT_2M; a += EPT_4K)
        ept_map(pml4, a, a, EPT_4K, EPT_RWX | EPT_WB);
    for (uint64_t a = EPT_2M; a < EPT_1G; a += EPT_2M)
        ept_map(pml4, a, a, EPT_2M, EPT_RWX | EPT_WB);
    for (uint64_t a = EPT_1G; a < 4 * EPT_1G; a += EPT_1G)
        ept_map(pml4, a, a, EPT_1G, EPT_RWX | EPT_WB);
    return pml4;
}

uint64_t ept_pointer(uint64_t *pml4, bool ad)
{
    return (uint64_t)pml4 | 6 | 3 << 3 | (ad ? 1u << 6 : 0);
}

int vmx_invvpid(uint64_t type, uint64_t desc_lo, uint64_t la)
{
    struct { uint64_t lo, la; } desc = { desc_lo, la };
    VMX_INSN("invvpid %2, %1", : "r"(type), "m"(desc) : "r11", "cc", "memory");
}

int vmx_invept(uint64_t type, uint64_t eptp)
{
    struct { uint64_t eptp, rsvd; } desc = { eptp, 0 };
    VMX_INSN("invept %2, %1", : "r"(type), "m"(desc) : "r11", "cc", "memory");
}
