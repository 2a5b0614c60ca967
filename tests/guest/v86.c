/* v86.c - virtual-8086 mode (SDM Vol. 3B "8086 Emulation"), entered from
 * legacy 32-bit protected mode after leaving long mode (v86_asm.S does the
 * trip). This file builds the 32-bit IDT and the 32-bit TSS (SS0:ESP0 for
 * the way back to ring 0, and an I/O permission bitmap that allows COM1
 * only), then checks what the V86 code and the ring-0 handlers recorded:
 *
 * - IRET with EFLAGS.VM = 1 from CPL 0 enters V86 mode; segment bases are
 *   selector * 16; CS reads back as the real-mode paragraph;
 * - IN/OUT in V86 mode obey the I/O bitmap, not IOPL: COM1 works at IOPL 0,
 *   a denied port raises #GP(0);
 * - CLI and INT n at IOPL < 3 (CR4.VME = 0) raise #GP(0) to the monitor, a
 *   fault: the frame's EIP is the instruction's, EFLAGS.VM = 1 in the image;
 * - INT n at IOPL 3 goes through the IDT to a DPL-3 gate on the TSS's ring-0
 *   stack: the frame holds EIP, CS, EFLAGS (VM = 1), ESP, SS and the V86
 *   ES, DS, FS, GS; the handler starts with DS, ES, FS, GS null and VM = 0;
 *   IRET returns to V86 mode with the V86 segment registers back;
 * - PUSHFD at IOPL 3 shows IOPL but not VM;
 * - RF: a fault's EFLAGS image has RF = 1, IRET loads it, and the processor
 *   clears it at the start of the next instruction, so a later INT n pushes
 *   RF = 0 (SDM Vol. 3A 2.3 "RF", Vol. 3B 17.3.1.1);
 * - INT 41h leaves V86 mode for good and the code returns to long mode.
 * QEMU (TCG) agrees except that it omits RF in fault images. */
#include "guest.h"

#define SEL_TSS32 (SEL_FREE + 0x00)
#define BLOB_BASE 0x8000
#define BLOB_SEG (BLOB_BASE >> 4)
#define V86_SP 0x7000
#define RES_BASE 0x9000
#define V86_DS 0x1000
#define V86_ES 0x2000
#define V86_FS (RES_BASE >> 4)
#define V86_GS 0x3000
#define F_IF 0x00000200u
#define F_IOPL 0x00003000u
#define F_VM 0x00020000u
#define F_RF 0x00010000u

/* result slots: the same numbers as in v86_asm.S */
enum {
    V_CS = 0, V_IN_AL, V_INT_AX, V_PUSHFD, V_PUSHFD_CLI, V_DONE,
    GP_COUNT = 31, GP_REC = 32, /* 3 records of 8: */
    GP_ERR = 0, GP_EIP, GP_CS, GP_EFLAGS, GP_OPCODE, GP_DS_IN, GP_ESP_IN,
    I40_EIP = 64, I40_CS, I40_EFLAGS, I40_ESP, I40_SS, I40_ES, I40_DS, I40_FS, I40_GS, I40_SEGS_IN,
    I40_SEGS2_IN, I40_OWN_CS, I40_OWN_SS, I40_OWN_ESP, I40_OWN_EFLAGS, I40_COUNT,
    I41_EIP = 96, I41_EFLAGS, I41_COUNT,
};
_Static_assert(I40_COUNT == 79, "slot numbers out of step with v86_asm.S");

void v86_run(void);
extern const char v86_blob[], v86_blob_end[], v86_stubs[], v86_gp_entry[], v86_int40_entry[], v86_int41_entry[],
    v86_gp_in[], v86_gp_cli[], v86_gp_int[], v86_int40_ret[], v86_int41_ret[];
extern struct __attribute__((packed)) { uint16_t limit; uint32_t base; } idt32_ptr;

/* The 32-bit TSS (SDM Vol. 3A "32-Bit Task-State Segment"), then the I/O
 * permission bitmap for all 65536 ports and the 0xff byte that must follow it. */
struct __attribute__((packed)) tss32 {
    uint16_t link, r0;
    uint32_t esp0;
    uint16_t ss0, r1;
    uint32_t esp1;
    uint16_t ss1, r2;
    uint32_t esp2;
    uint16_t ss2, r3;
    uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint16_t es, r4, cs, r5, ss, r6, ds, r7, fs, r8, gs, r9, ldt, r10, trap, iomap_base;
    uint8_t iomap[65536 / 8 + 1];
};
_Static_assert(__builtin_offsetof(struct tss32, iomap) == 104, "TSS layout");
static struct tss32 tss32 __attribute__((aligned(16)));
static uint64_t idt32[256] __attribute__((aligned(16)));
__attribute__((aligned(16))) static uint8_t ring0_stack[8192];

static uint32_t res(int n) { return ((volatile uint32_t *)RES_BASE)[n]; }
static uint32_t gp(int rec, int field) { return res(GP_REC + 8 * rec + field); }
static uint16_t off(const char *label) { return (uint16_t)(label - v86_blob); }

/* A 32-bit interrupt gate (type 0xe) to SEL_KCODE32:handler with the given DPL. */
static uint64_t gate32(const void *handler, int dpl)
{
    uint32_t h = (uint32_t)(uintptr_t)handler;
    return (h & 0xffffull) | (uint64_t)SEL_KCODE32 << 16 | (uint64_t)(0x8e | dpl << 5) << 40 |
           (uint64_t)(h >> 16) << 48;
}

int test_main(const struct mb_info *mbi)
{
    size_t size = (size_t)(v86_blob_end - v86_blob);
    printf("v86: blob of %u bytes at 0x%x\n", (unsigned)size, BLOB_BASE);
    CHECK(size <= 0x1000);
    memcpy((void *)(uintptr_t)BLOB_BASE, v86_blob, size);
    memset((void *)(uintptr_t)RES_BASE, 0, 0x200);

    for (int v = 0; v < 256; v++)
        idt32[v] = gate32(v86_stubs + 16 * v, 0);
    idt32[13] = gate32(v86_gp_entry, 0);
    idt32[0x40] = gate32(v86_int40_entry, 3); /* DPL 3: INT n from V86 (CPL 3) may use it */
    idt32[0x41] = gate32(v86_int41_entry, 3);
    idt32_ptr.limit = sizeof idt32 - 1;
    idt32_ptr.base = (uint32_t)(uintptr_t)idt32;

    memset(&tss32, 0, sizeof tss32);
    tss32.esp0 = (uint32_t)(uintptr_t)(ring0_stack + sizeof ring0_stack);
    tss32.ss0 = SEL_KDATA;
    tss32.iomap_base = 104;
    memset(tss32.iomap, 0xff, sizeof tss32.iomap);
    tss32.iomap[0x3f8 / 8] = 0; /* COM1, ports 0x3f8-0x3ff */
    uint32_t base = (uint32_t)(uintptr_t)&tss32, limit = sizeof tss32 - 1;
    gdt[SEL_TSS32 / 8] = (limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 | 0x89ull << 40 |
                         (uint64_t)((limit >> 16) & 0xf) << 48 | (uint64_t)(base >> 24) << 56;

    v86_run();

    /* The 64-bit TSS is still marked busy from boot: make it available to load it again. */
    gdt[SEL_TSS / 8] &= ~(2ull << 40);
    __asm__ volatile("ltr %w0" ::"r"(SEL_TSS));
    printf("back in long mode: CS 0x%x, EFER 0x%lx\n", read_cs(), rdmsr(MSR_EFER));
    CHECK_EQ(read_cs(), SEL_KCODE);
    CHECK_EQ(rdmsr(MSR_EFER) & (EFER_LME | EFER_LMA), EFER_LME | EFER_LMA);
    uint32_t esp0 = tss32.esp0;

    /* ---- V86 code ---- */
    printf("v86: CS 0x%x; DS:0 -> 0x%x, ES:0 -> 0x%x, GS:0 -> 0x%x\n", res(V_CS),
           *(volatile uint16_t *)0x10000, *(volatile uint16_t *)0x20000, *(volatile uint16_t *)0x30000);
    CHECK_EQ(res(V_DONE), 1);
    CHECK_EQ(res(V_CS), BLOB_SEG);
    CHECK_EQ(*(volatile uint16_t *)0x10000, 0x8686);
    CHECK_EQ(*(volatile uint16_t *)0x20000, 0x2086);
    CHECK_EQ(*(volatile uint16_t *)0x30000, 0x3086);

    /* ---- the monitor: #GP(0) for IN from a denied port, CLI, INT n at IOPL 0 ---- */
    printf("v86: %u #GP exits to the monitor\n", res(GP_COUNT));
    CHECK_EQ(res(GP_COUNT), 3);
    static const struct { const char *what; const char *ip; uint8_t opcode; } g[3] = {
        { "IN from port 0x80 (bitmap)", v86_gp_in, 0xec },
        { "CLI at IOPL 0", v86_gp_cli, 0xfa },
        { "INT 40h at IOPL 0", v86_gp_int, 0xcd },
    };
    for (int i = 0; i < 3; i++) {
        printf("  %s: error 0x%x at 0x%x:0x%x opcode 0x%x EFLAGS 0x%x, DS 0x%x at entry, ESP 0x%x\n", g[i].what,
               gp(i, GP_ERR), gp(i, GP_CS), gp(i, GP_EIP), gp(i, GP_OPCODE), gp(i, GP_EFLAGS), gp(i, GP_DS_IN),
               gp(i, GP_ESP_IN));
        CHECK_EQ(gp(i, GP_ERR), 0);
        CHECK_EQ(gp(i, GP_CS), BLOB_SEG);
        CHECK_EQ(gp(i, GP_EIP), off(g[i].ip));
        CHECK_EQ(gp(i, GP_OPCODE), g[i].opcode);
        CHECK_EQ(gp(i, GP_EFLAGS) & (F_VM | F_IOPL), F_VM);
        CHECK_EQ(gp(i, GP_EFLAGS) & F_RF, F_RF); /* a fault pushes RF = 1 (SDM Vol. 3B 17.3.1.1) */
        CHECK_EQ(gp(i, GP_DS_IN), 0);
        CHECK_EQ(gp(i, GP_ESP_IN), esp0 - 40); /* 9 dwords and the error code */
    }
    printf("v86: IN AL from the monitor 0x%x\n", res(V_IN_AL));
    CHECK_EQ(res(V_IN_AL), 0x5a);

    /* ---- INT 40h at IOPL 3 through the DPL-3 gate ---- */
    printf("v86: INT 40h at IOPL 3: %u entries; frame 0x%x:0x%x EFLAGS 0x%x SS:ESP 0x%x:0x%x ES 0x%x DS 0x%x "
           "FS 0x%x GS 0x%x\n",
           res(I40_COUNT), res(I40_CS), res(I40_EIP), res(I40_EFLAGS), res(I40_SS), res(I40_ESP), res(I40_ES),
           res(I40_DS), res(I40_FS), res(I40_GS));
    CHECK_EQ(res(I40_COUNT), 1);
    CHECK_EQ(res(I40_EIP), off(v86_int40_ret));
    CHECK_EQ(res(I40_CS) & 0xffff, BLOB_SEG);
    CHECK_EQ(res(I40_EFLAGS) & (F_VM | F_IOPL), F_VM | F_IOPL);
    /* RF: the IRET of the #GP monitor loaded RF = 1 from the fault's image; the processor clears it
     * once the next instruction completes (SDM Vol. 3A 2.3, Vol. 3B 17.3.1.1): an INT n pushes RF = 0 */
    CHECK_EQ(res(I40_EFLAGS) & F_RF, 0);
    CHECK_EQ(res(I40_ESP), V86_SP);
    CHECK_EQ(res(I40_SS) & 0xffff, 0);
    CHECK_EQ(res(I40_ES) & 0xffff, V86_ES);
    CHECK_EQ(res(I40_DS) & 0xffff, V86_DS);
    CHECK_EQ(res(I40_FS) & 0xffff, V86_FS);
    CHECK_EQ(res(I40_GS) & 0xffff, V86_GS);
    printf("v86: handler entered with DS|ES<<16 0x%x, FS|GS<<16 0x%x, CS 0x%x SS 0x%x ESP 0x%x EFLAGS 0x%x\n",
           res(I40_SEGS_IN), res(I40_SEGS2_IN), res(I40_OWN_CS), res(I40_OWN_SS), res(I40_OWN_ESP),
           res(I40_OWN_EFLAGS));
    CHECK_EQ(res(I40_SEGS_IN), 0);
    CHECK_EQ(res(I40_SEGS2_IN), 0);
    CHECK_EQ(res(I40_OWN_CS), SEL_KCODE32);
    CHECK_EQ(res(I40_OWN_SS), SEL_KDATA);
    CHECK_EQ(res(I40_OWN_ESP), esp0 - 36);
    CHECK_EQ(res(I40_OWN_EFLAGS) & (F_VM | F_IF), 0);
    printf("v86: AX after IRET 0x%x; PUSHFD after STI 0x%x, after CLI 0x%x\n", res(V_INT_AX), res(V_PUSHFD),
           res(V_PUSHFD_CLI));
    CHECK_EQ(res(V_INT_AX), 0x4040);
    CHECK_EQ(res(V_PUSHFD) & (F_VM | F_RF | F_IOPL | F_IF), F_IOPL | F_IF);
    CHECK_EQ(res(V_PUSHFD_CLI) & (F_VM | F_IF), 0);

    /* ---- the way out ---- */
    printf("v86: INT 41h: EIP 0x%x EFLAGS 0x%x\n", res(I41_EIP), res(I41_EFLAGS));
    CHECK_EQ(res(I41_COUNT), 1);
    CHECK_EQ(res(I41_EIP), off(v86_int41_ret));
    CHECK_EQ(res(I41_EFLAGS) & (F_VM | F_RF), F_VM);
    return check_result();
}
