/* vmx_vmxon.c - entering and leaving VMX operation (SDM Vol. 3C "VMXON-Enter
 * VMX Operation", "VMXOFF-Leave VMX Operation", "VMCALL-Call to VM Monitor"),
 * booted with --cpu skylake-server-vmx: #UD with CR4.VMXE clear, #GP while
 * IA32_FEATURE_CONTROL is unlocked or locked without VMX, VMfailInvalid for a
 * misaligned VMXON pointer or a wrong revision identifier, VMXON in VMX root
 * operation (VMfailInvalid without a current VMCS, VMfailValid error 15 with
 * one), CR4.VMXE fixed in VMX operation, VMCALL in root operation (error 1),
 * VMXOFF, and #UD for everything after it.
 * The command line says how firmware left IA32_FEATURE_CONTROL (run.sh passes
 * the matching --feature-control): "fc=unlocked" (default), "fc=locked",
 * "fc=novmx"; "novmx-cpu" runs on a model without VMX. */
#include "guest.h"
#include "vmxlib.h"

#define EXPECT(call, want)                                                                    \
    do {                                                                                      \
        int r_ = (call);                                                                      \
        printf("%s: %s\n", #call, vmx_outcome_name(r_));                                    \
        CHECK_EQ(r_, want);                                                                   \
    } while (0)

static bool arg(const struct mb_info *mbi, const char *s)
{
    return (mbi->flags & 4) && strstr((const char *)(uint64_t)mbi->cmdline, s);
}

/* A CPU without VMX: no CPUID bit, CR4.VMXE reserved, VMXON #UD. */
static int without_vmx(void)
{
    CHECK(!vmx_cpuid());
    uint64_t n = last_trap.count;
    __asm__ volatile(RESUME_AT_1F "mov %0, %%cr4\n1:" ::"r"(READ_CR(4) | CR4_VMXE) : "r11", "memory");
    CHECK_EQ(last_trap.count, n + 1);
    CHECK_EQ(last_trap.vec, EXC_GP);
    EXPECT(vmx_on((uint64_t)vmx_page()), VMX_EXC(EXC_UD));
    return check_result();
}

int test_main(const struct mb_info *mbi)
{
    vmx_lib_init();
    if (arg(mbi, "novmx-cpu"))
        return without_vmx();
    CHECK(vmx_cpuid());
    uint64_t vmxon_region = (uint64_t)vmx_region(), vmcs = (uint64_t)vmx_region();
    printf("VMCS revision %u, IA32_FEATURE_CONTROL %lx\n", vmx_revision(), rdmsr(MSR_IA32_FEATURE_CONTROL));

    /* CR4.VMXE = 0: #UD, before any other check */
    CHECK(!(READ_CR(4) & CR4_VMXE));
    EXPECT(vmx_on(vmxon_region), VMX_EXC(EXC_UD));
    WRITE_CR(0, READ_CR(0) | CR0_NE);
    WRITE_CR(4, READ_CR(4) | CR4_VMXE);

    uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
    if (arg(mbi, "fc=novmx")) { /* firmware locked VMX off: VMXON is #GP for good */
        CHECK_EQ(fc, 1);
        EXPECT(vmx_on(vmxon_region), VMX_EXC(EXC_GP));
        return check_result();
    }
    if (arg(mbi, "fc=locked")) {
        CHECK_EQ(fc, 5);
    } else {
        CHECK_EQ(fc, 0);
        EXPECT(vmx_on(vmxon_region), VMX_EXC(EXC_GP)); /* lock bit clear */
        wrmsr(MSR_IA32_FEATURE_CONTROL, 4);
        EXPECT(vmx_on(vmxon_region), VMX_EXC(EXC_GP)); /* still unlocked */
        wrmsr(MSR_IA32_FEATURE_CONTROL, 5);
    }

    /* the VMXON pointer and region: VMfailInvalid */
    EXPECT(vmx_on(vmxon_region + 0x80), VMX_FAIL_INVALID);
    *(volatile uint32_t *)vmxon_region = vmx_revision() + 1;
    EXPECT(vmx_on(vmxon_region), VMX_FAIL_INVALID);
    *(volatile uint32_t *)vmxon_region = vmx_revision() | 1u << 31;
    EXPECT(vmx_on(vmxon_region), VMX_FAIL_INVALID);
    *(volatile uint32_t *)vmxon_region = vmx_revision();

    EXPECT(vmx_on(vmxon_region), VMX_OK);
    uint64_t p = 0;
    EXPECT(vmx_ptrst(&p), VMX_OK);
    CHECK_EQ(p, ~0ull); /* no current VMCS after VMXON */
    EXPECT(vmx_on(vmxon_region), VMX_FAIL_INVALID); /* VMfail(15), no VMCS for the number */
    EXPECT(vmx_ptrld(vmcs), VMX_OK);
    EXPECT(vmx_on(vmxon_region), VMX_FAIL_VALID);
    CHECK_EQ(vmx_error(), 15);
    EXPECT(vmx_call(), VMX_FAIL_VALID);
    CHECK_EQ(vmx_error(), 1);

    /* CR4.VMXE and CR0.NE are fixed to 1 in VMX operation */
    uint64_t n = last_trap.count;
    __asm__ volatile(RESUME_AT_1F "mov %0, %%cr4\n1:" ::"r"(READ_CR(4) & ~CR4_VMXE) : "r11", "memory");
    CHECK_EQ(last_trap.count, n + 1);
    CHECK_EQ(last_trap.vec, EXC_GP);
    __asm__ volatile(RESUME_AT_1F "mov %0, %%cr0\n1:" ::"r"(READ_CR(0) & ~CR0_NE) : "r11", "memory");
    CHECK_EQ(last_trap.count, n + 2);
    CHECK(READ_CR(4) & CR4_VMXE);

    EXPECT(vmx_off(), VMX_OK);
    EXPECT(vmx_off(), VMX_EXC(EXC_UD));
    EXPECT(vmx_call(), VMX_EXC(EXC_UD));
    EXPECT(vmx_ptrld(vmcs), VMX_EXC(EXC_UD));
    WRITE_CR(4, READ_CR(4) & ~CR4_VMXE); /* allowed again */
    CHECK(!(READ_CR(4) & CR4_VMXE));
    return check_result();
}
