/* vmx_task_switch.c - a hypervisor kernel, booted with --cpu skylake-server-vmx,
 * runs a 32-bit protected-mode guest (paging with 4-MByte pages, its own GDT,
 * IDT and TSSs) and checks that every task switch the guest attempts is a VM
 * exit (SDM Vol. 3C 26.4.2 "Treatment of Task Switches") with the exit
 * qualification of 28.2.1 "Exit Qualification for Task Switch" (TSS selector,
 * source 0 CALL / 1 IRET / 2 JMP / 3 task gate in the IDT): JMP to a TSS, CALL
 * through a task gate, IRET with NT = 1, INT n, #UD and #GP(selector) through
 * task gates in the IDT, the last three with their IDT-vectoring information.
 * The guest's RIP is the instruction's, and nothing of the switch happened: TR
 * is unchanged and the new TSS is not marked busy. */
#include "guest.h"
#include "vmxlib.h"
#include "vmx_run.h"

/* The guest, 32-bit code; the host moves its RIP to the next label after each exit. */
extern char ts_jmp[], ts_call[], ts_iret[], ts_iret_insn[], ts_int[], ts_ud[], ts_gp[], ts_gp_insn[];
__asm__(".text\n.code32\n"
        "ts_jmp:      ljmp $0x20, $0\n"            /* the available TSS directly */
        "ts_call:     lcall $0x28, $0\n"           /* the task gate in the GDT, to TSS 20H */
        "ts_iret:     pushf\n orl $0x4000, (%esp)\n popf\n" /* NT = 1 */
        "ts_iret_insn: iret\n"                     /* back to the previous-task link, 30H */
        "ts_int:      int $0x40\n"                 /* a task gate in the IDT */
        "ts_ud:       ud2\n"                       /* #UD through a task gate */
        "ts_gp:       mov $0x1234, %ax\n"
        "ts_gp_insn:  mov %ax, %ds\n"              /* #GP(1234H): beyond the GDT limit */
        "             hlt\n"
        ".code64\n");

enum { SEL_CODE = 0x08, SEL_DATA = 0x10, SEL_TSS1 = 0x18, SEL_TSS2 = 0x20, SEL_GATE = 0x28, SEL_TSS3 = 0x30 };

static uint64_t ggdt[7] __attribute__((aligned(8)));
static uint64_t gidt[0x41] __attribute__((aligned(8)));
static uint8_t tss[3][104] __attribute__((aligned(128)));
static uint32_t gpd[1024] __attribute__((aligned(4096)));
static uint8_t guest_stack[4096] __attribute__((aligned(16)));

/* A 32-bit TSS descriptor (type 9 available, 11 busy), limit 67H. */
static uint64_t tss_desc(const void *base, int type)
{
    uint64_t b = (uint64_t)base;
    return 0x67 | (b & 0xffffff) << 16 | (uint64_t)(0x80 | type) << 40 | (b >> 24) << 56;
}
/* A task gate naming TSS selector sel (type 5, present, DPL 0). */
static uint64_t task_gate(uint16_t sel) { return (uint64_t)sel << 16 | 0x85ull << 40; }

static void setup_guest32(void)
{
    ggdt[1] = 0x00cf9b000000ffffull; /* 32-bit code, 4 GiB */
    ggdt[2] = 0x00cf93000000ffffull; /* data, 4 GiB */
    ggdt[3] = tss_desc(tss[0], 11);  /* the running task */
    ggdt[4] = tss_desc(tss[1], 9);
    ggdt[5] = task_gate(SEL_TSS2);
    ggdt[6] = tss_desc(tss[2], 11);  /* the previous task of the running one */
    *(uint16_t *)tss[0] = SEL_TSS3;  /* previous-task link */
    gidt[6] = gidt[13] = gidt[0x40] = task_gate(SEL_TSS2);
    gpd[0] = 0x83;                   /* 0-4 MiB: present, writable, 4-MByte page */
    gpd[1] = 0x400083;

    vmcs_setup_guest64((uint64_t)ts_jmp, (uint64_t)guest_stack + sizeof guest_stack);
    static const uint32_t segs[] = { VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_SS_SELECTOR,
                                     VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_GS_SELECTOR };
    for (int k = 0; k < 6; k++) {
        bool cs = segs[k] == VMCS_GUEST_CS_SELECTOR;
        w(segs[k], cs ? SEL_CODE : SEL_DATA);
        w(segs[k] - VMCS_GUEST_ES_SELECTOR + VMCS_GUEST_ES_AR_BYTES, cs ? 0xc09b : 0xc093);
    }
    w(VMCS_GUEST_TR_SELECTOR, SEL_TSS1);
    w(VMCS_GUEST_TR_BASE, (uint64_t)tss[0]);
    w(VMCS_GUEST_TR_AR_BYTES, 0x8b);
    w(VMCS_GUEST_GDTR_BASE, (uint64_t)ggdt);
    w(VMCS_GUEST_GDTR_LIMIT, sizeof ggdt - 1);
    w(VMCS_GUEST_IDTR_BASE, (uint64_t)gidt);
    w(VMCS_GUEST_IDTR_LIMIT, sizeof gidt - 1);
    w(VMCS_GUEST_CR3, (uint64_t)gpd);
    w(VMCS_GUEST_CR4, rdmsr(MSR_IA32_VMX_CR4_FIXED0) | 0x10); /* PSE */
    w(VMCS_GUEST_IA32_EFER, 0);
    vmcs_setup_controls(0, 0, 0, 1u << 9, 0); /* 64-bit host, 32-bit guest */
}

/* Enter the guest at rip; expect a task-switch exit there with this
 * qualification, instruction length and IDT-vectoring information. */
static void expect_switch(const char *rip_at, uint64_t next, uint64_t qual, uint32_t len, uint32_t vectoring)
{
    static int launched;
    CHECK_EQ(vm_enter(!launched++), VMX_OK);
    CHECK_EQ(rd(VMCS_VM_EXIT_REASON), 9);
    CHECK_EQ(rd(VMCS_EXIT_QUALIFICATION), qual);
    CHECK_EQ(rd(VMCS_GUEST_RIP), (uint64_t)rip_at);
    if (len)
        CHECK_EQ(rd(VMCS_VM_EXIT_INSTRUCTION_LEN), len);
    CHECK_EQ(rd(VMCS_IDT_VECTORING_INFO_FIELD) & 0x80000fffu, vectoring);
    CHECK_EQ(rd(VMCS_VM_EXIT_INTR_INFO) >> 31, 0);
    /* nothing of the switch happened */
    CHECK_EQ(rd(VMCS_GUEST_TR_SELECTOR), SEL_TSS1);
    CHECK_EQ((ggdt[4] >> 40) & 0xf, 9);
    CHECK_EQ(rd(VMCS_GUEST_CR0) & 8, 0); /* CR0.TS */
    w(VMCS_GUEST_RIP, next);
}

int test_main(const struct mb_info *mbi)
{
    vmx_start();
    setup_guest32();
    w(VMCS_GUEST_CR0, rd(VMCS_GUEST_CR0) & ~8ull);

    expect_switch(ts_jmp, (uint64_t)ts_call, SEL_TSS2 | 2u << 30, 7, 0);
    expect_switch(ts_call, (uint64_t)ts_iret, SEL_TSS2 | 0u << 30, 7, 0);
    expect_switch(ts_iret_insn, (uint64_t)ts_int, SEL_TSS3 | 1u << 30, 1, 0);
    CHECK(rd(VMCS_GUEST_RFLAGS) & 0x4000); /* NT still set */
    w(VMCS_GUEST_RFLAGS, 2);
    /* INT 40H: software interrupt (type 4), the INT instruction's RIP and length */
    expect_switch(ts_int, (uint64_t)ts_ud, SEL_TSS2 | 3u << 30, 2, 1u << 31 | 4 << 8 | 0x40);
    /* #UD: hardware exception (type 3), no error code */
    expect_switch(ts_ud, (uint64_t)ts_gp, SEL_TSS2 | 3u << 30, 0, 1u << 31 | 3 << 8 | 6);
    /* #GP(1234H): with its error code */
    expect_switch(ts_gp_insn, (uint64_t)ts_gp, SEL_TSS2 | 3u << 30, 0, 1u << 31 | 1 << 11 | 3 << 8 | 13);
    CHECK_EQ(rd(VMCS_IDT_VECTORING_ERROR_CODE), 0x1234);
    CHECK_EQ(vmx_off(), VMX_OK);
    return check_result();
}
