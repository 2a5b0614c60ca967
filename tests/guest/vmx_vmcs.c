/* vmx_vmcs.c - the VMCS instructions in VMX root operation, booted with --cpu
 * skylake-server-vmx (SDM Vol. 3C "VMX Instruction Reference"): VMREAD/VMWRITE
 * without a current VMCS (VMfailInvalid); VMPTRLD with an invalid address (9),
 * the VMXON pointer (10), a wrong revision or the shadow-VMCS bit (11); VMCLEAR
 * with an invalid address (2) or the VMXON pointer (3); VMREAD/VMWRITE of an
 * unsupported component (12); a zeroed region reads as zero fields; VMCLEAR
 * writes the VMCS back so a copy of the region loads at another address with
 * the same contents; field widths and the high access type; and
 * IA32_VMX_VMCS_ENUM against every encoding VMREAD accepts. */
#include "guest.h"
#include "vmxlib.h"

#define EXPECT(call, want)                                                                    \
    do {                                                                                      \
        int r_ = (call);                                                                      \
        if (r_ != (want))                                                                     \
            printf("%s: %s\n", #call, vmx_outcome_name(r_));                                  \
        CHECK_EQ(r_, want);                                                                   \
    } while (0)
#define EXPECT_ERR(call, err)                                                                 \
    do {                                                                                      \
        EXPECT(call, VMX_FAIL_VALID);                                                         \
        CHECK_EQ(vmx_error(), err);                                                           \
    } while (0)

static void failure_paths(uint64_t vmxon_region, uint64_t a, uint64_t b)
{
    uint64_t v = 0;
    EXPECT(vmx_read(VMCS_GUEST_RIP, &v), VMX_FAIL_INVALID); /* no current VMCS */
    EXPECT(vmx_write(VMCS_GUEST_RIP, 1), VMX_FAIL_INVALID);
    EXPECT(vmx_ptrld(a + 8), VMX_FAIL_INVALID);              /* VMfail(9), no VMCS yet */
    EXPECT(vmx_ptrld(a), VMX_OK);
    EXPECT_ERR(vmx_ptrld(a + 0x100), 9);
    EXPECT_ERR(vmx_ptrld(1ull << 52), 9);                    /* beyond MAXPHYADDR */
    EXPECT_ERR(vmx_ptrld(vmxon_region), 10);
    *(volatile uint32_t *)b = vmx_revision() ^ 0x40;
    EXPECT_ERR(vmx_ptrld(b), 11);
    *(volatile uint32_t *)b = vmx_revision() | 1u << 31;     /* shadow VMCS, shadowing not offered */
    EXPECT_ERR(vmx_ptrld(b), 11);
    *(volatile uint32_t *)b = vmx_revision();
    EXPECT_ERR(vmx_clear(a + 0x10), 2);
    EXPECT_ERR(vmx_clear(1ull << 52), 2);
    EXPECT_ERR(vmx_clear(vmxon_region), 3);
    EXPECT_ERR(vmx_read(0x7777, &v), 12);                    /* no such field */
    EXPECT_ERR(vmx_write(0x4401, 0), 12);                    /* high access of a 32-bit field */
    EXPECT_ERR(vmx_read(1ull << 32 | VMCS_GUEST_RIP, &v), 12);
    uint64_t p = 0;
    EXPECT(vmx_ptrst(&p), VMX_OK);
    CHECK_EQ(p, a); /* the failures left the current VMCS alone */
}

static void zeroed_region_reads_zero(uint64_t b)
{
    EXPECT(vmx_ptrld(b), VMX_OK);
    /* the VM-instruction error field first: the failing VMREADs below write it */
    CHECK_EQ(vmx_error(), 0);
    int fields = 0, nonzero = 0;
    for (uint32_t enc = 0; enc < 0x8000; enc++) {
        uint64_t v = 0x5a5a;
        if (enc == VMCS_VM_INSTRUCTION_ERROR || vmx_read(enc, &v) != VMX_OK)
            continue;
        fields++;
        nonzero += v != 0;
    }
    printf("zeroed VMCS: %d fields, %d non-zero\n", fields, nonzero);
    CHECK(fields > 100);
    CHECK_EQ(nonzero, 0);
}

static void copy_loads_elsewhere(uint64_t a, uint64_t copy)
{
    uint64_t v = 0;
    EXPECT(vmx_ptrld(a), VMX_OK);
    EXPECT(vmx_write(VMCS_GUEST_RIP, 0xffffffff80001234ull), VMX_OK);
    EXPECT(vmx_write(VMCS_GUEST_CS_SELECTOR, 0x12345), VMX_OK); /* 16-bit: 0x2345 */
    EXPECT(vmx_write(VMCS_EXCEPTION_BITMAP, 0xffffffff00004000ull), VMX_OK);
    EXPECT(vmx_write(VMCS_VMCS_LINK_POINTER, ~0ull), VMX_OK);
    EXPECT(vmx_write(VMCS_TSC_OFFSET + 1, 0x77), VMX_OK);         /* high half only */
    EXPECT(vmx_clear(a), VMX_OK);
    EXPECT(vmx_read(VMCS_GUEST_RIP, &v), VMX_FAIL_INVALID);      /* no longer current */
    memcpy((void *)copy, (const void *)a, 4096);
    EXPECT(vmx_ptrld(copy), VMX_OK);
    EXPECT(vmx_read(VMCS_GUEST_RIP, &v), VMX_OK);
    CHECK_EQ(v, 0xffffffff80001234ull);
    EXPECT(vmx_read(VMCS_GUEST_CS_SELECTOR, &v), VMX_OK);
    CHECK_EQ(v, 0x2345);
    EXPECT(vmx_read(VMCS_EXCEPTION_BITMAP, &v), VMX_OK);
    CHECK_EQ(v, 0x4000);
    EXPECT(vmx_read(VMCS_VMCS_LINK_POINTER + 1, &v), VMX_OK);
    CHECK_EQ(v, 0xffffffff);
    EXPECT(vmx_read(VMCS_TSC_OFFSET, &v), VMX_OK);
    CHECK_EQ(v, 0x7700000000ull);
    EXPECT(vmx_clear(copy), VMX_OK);
}

/* IA32_VMX_VMCS_ENUM[9:1]: the highest index of any field VMREAD accepts. */
static void vmcs_enum(uint64_t a)
{
    EXPECT(vmx_ptrld(a), VMX_OK);
    unsigned highest = 0;
    for (uint32_t enc = 0; enc < 0x8000; enc++) {
        uint64_t v;
        if (vmx_read(enc, &v) == VMX_OK && ((enc >> 1) & 0x1ff) > highest)
            highest = (enc >> 1) & 0x1ff;
    }
    uint64_t msr = rdmsr(MSR_IA32_VMX_VMCS_ENUM);
    printf("IA32_VMX_VMCS_ENUM %lx, highest index VMREAD accepts %u\n", msr, highest);
    CHECK_EQ((msr >> 1) & 0x1ff, highest);
}

int test_main(const struct mb_info *mbi)
{
    vmx_lib_init();
    CHECK(vmx_cpuid());
    vmx_prepare_cpu();
    uint64_t vmxon_region = (uint64_t)vmx_region(), a = (uint64_t)vmx_region(), b = (uint64_t)vmx_region();
    uint64_t copy = (uint64_t)vmx_page();
    EXPECT(vmx_on(vmxon_region), VMX_OK);
    failure_paths(vmxon_region, a, b);
    zeroed_region_reads_zero(b);
    copy_loads_elsewhere(a, copy);
    vmcs_enum(b);
    EXPECT(vmx_off(), VMX_OK);
    return check_result();
}
