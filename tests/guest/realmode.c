/* realmode.c - leave long mode for 16-bit protected mode, real mode and
 * unreal mode, and come back (realmode_asm.S does the trip; this file sets
 * up the descriptors and memory, then checks what the 16-bit code recorded).
 *
 * 16-bit protected mode (CS.D = 0): default 16-bit operands and addresses,
 * 66/67 prefixes for 32-bit ones (PUSH, ADD, addressing above 1 MiB, 64 KiB
 * wrap of 16-bit effective addresses, LOOP on CX vs. ECX, near CALL, far
 * CALL with 66 into a 32-bit segment). Real mode (SDM Vol. 3A "Real-Address
 * Mode Operation"): CR0/EFER as seen there, segment base = selector * 16,
 * 16-bit arithmetic and flags, REP MOVSB with 16-bit SI/DI (wrapping), near
 * and far CALL/RET, INT n through an IVT entry (FLAGS image, IF cleared in
 * the handler, restored by IRET), #GP (IVT 13) for a word at DS:0xffff and
 * for a 32-bit offset beyond the limit, #SS (IVT 12) at SS:0xffff, both
 * without an error code, port I/O on COM1; unreal mode: a 4 GiB limit loaded
 * in protected mode survives the return to real mode and a real-mode segment
 * load.
 * Under QEMU (TCG) the three limit faults do not happen: TCG does not check
 * segment limits in real mode; everything else agrees. */
#include "guest.h"

#define SEL_CODE16 (SEL_FREE + 0x00)
#define SEL_DATA16 (SEL_FREE + 0x08)
#define SEL_DATA4G (SEL_FREE + 0x10)
#define BLOB_BASE 0x8000
#define BLOB_SEG (BLOB_BASE >> 4)
#define RM_SP 0x7000
#define RES_BASE 0x9000
#define INPUT 0x9300
#define IN_HIGHADDR (INPUT + 0x10)

/* result slots: the same numbers as in realmode_asm.S */
enum {
    PM16_PUSHDELTA = 0, PM16_POPL, PM16_POPW, PM16_ADD32, PM16_ADD32_CF, PM16_ADD16, PM16_HIGHREAD,
    PM16_WRAPREAD, PM16_LEA, PM16_LOOP16_ECX, PM16_LOOP16_TAKEN, PM16_LOOP32_ECX, PM16_LOOP32_TAKEN,
    PM16_NEAR_DELTA, PM16_FAR_DELTA, PM16_FAR_RETIP, PM16_FAR_RETCS, PM16_FAR_CS32, PM16_CR0, PM16_EFER,
    PM16_CS,
    RM_CR0 = 32, RM_EFER, RM_CS, RM_DSREAD, RM_WRAP, RM_ADD_AX, RM_ADD_FLAGS, RM_MUL, RM_DIV, RM_INC_AX,
    RM_INC_FLAGS, RM_ADD32, RM_SHL, RM_MOVS_SI, RM_MOVS_DI, RM_MOVS_CX, RM_MOVSW_SI, RM_MOVSW_DI,
    RM_MOVSW_CX, RM_NEAR_SP0, RM_NEAR_SP_IN, RM_NEAR_RET, RM_NEAR_SP1, RM_NEAR_CX, RM_FAR_CS, RM_FAR_RETIP,
    RM_FAR_RETCS, RM_FAR_SP_IN, RM_FAR_SP0, RM_FAR_SP1, RM_INT_FLAGS_IN, RM_INT_IP, RM_INT_CS,
    RM_INT_FLAGS_PUSHED, RM_INT_SP, RM_INT_MARK, RM_INT_SP0, RM_FLAGS_AFTER, RM_FLAGS_CLI, RM_FLT_COUNT,
    RM_FLT_RESUME, RM_FLT_SP0, RM_LSR, RM_UNREAL_READ, RM_UNREAL_DONE, RM_DONE, RM_UNREAL_CS,
    RM_FLT = 80, /* 4 records: vector, IP, SP at entry, FLAGS */
};
_Static_assert(RM_UNREAL_CS == 78, "slot numbers out of step with realmode_asm.S");
_Static_assert(PM16_CS == 20, "slot numbers out of step with realmode_asm.S");

#define F_CF 0x0001u
#define F_ZF 0x0040u
#define F_SF 0x0080u
#define F_IF 0x0200u
#define F_OF 0x0800u

void realmode_run(void);
extern const char rm_blob[], rm_blob_end[], rm_pm16_far_ret[], rm_near_ret[], rm_far_ret[], rm_int_ret[],
    rm_flt1[], rm_flt2[], rm_flt3[];

static volatile uint32_t high_buf[4] __attribute__((aligned(16)));

static uint32_t res(int n) { return ((volatile uint32_t *)RES_BASE)[n]; }
static uint16_t off(const char *label) { return (uint16_t)(label - rm_blob); }
static volatile uint8_t *phys8(uint32_t a) { return (volatile uint8_t *)(uintptr_t)a; }

/* A legacy segment descriptor: base, 20-bit limit, access byte, flags nibble (G, D/B, L, AVL). */
static uint64_t desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    return (limit & 0xffffull) | (uint64_t)(base & 0xffffff) << 16 | (uint64_t)access << 40 |
           (uint64_t)((limit >> 16) & 0xf) << 48 | (uint64_t)(flags & 0xf) << 52 | (uint64_t)(base >> 24) << 56;
}

int test_main(const struct mb_info *mbi)
{
    size_t size = (size_t)(rm_blob_end - rm_blob);
    printf("realmode: 16-bit blob of %u bytes at 0x%x\n", (unsigned)size, BLOB_BASE);
    CHECK(size <= 0x1000);
    memcpy((void *)(uintptr_t)BLOB_BASE, rm_blob, size);
    memset((void *)(uintptr_t)RES_BASE, 0, 0x400);

    /* 16-bit code (D = 0) and data with 64 KiB limits, and a 4 GiB data segment */
    gdt[SEL_CODE16 / 8] = desc(BLOB_BASE, 0xffff, 0x9a, 0x0);
    gdt[SEL_DATA16 / 8] = desc(0, 0xffff, 0x92, 0x0);
    gdt[SEL_DATA4G / 8] = desc(0, 0xfffff, 0x92, 0x8);

    /* inputs */
    *(volatile uint32_t *)(uintptr_t)INPUT = 0x5a5a1234;          /* 16-bit wrap target */
    *(volatile uint32_t *)(uintptr_t)(INPUT + 0x10000) = 0xdeaddead; /* where no wrap would read */
    *(volatile uint32_t *)(uintptr_t)IN_HIGHADDR = (uint32_t)(uintptr_t)high_buf;
    high_buf[0] = 0x1badf00d;
    high_buf[1] = 0;
    *(volatile uint16_t *)(uintptr_t)0x10002 = 0x4321;
    for (int i = 0; i < 16; i++)
        phys8(0x10200)[i] = (uint8_t)(0x40 + i);
    phys8(0x1fffe)[0] = 0xa1;
    phys8(0x1ffff)[0] = 0xa2;
    memset((void *)(uintptr_t)0x20000, 0, 0x200);

    realmode_run();

    printf("back in long mode: CS 0x%x, EFER 0x%lx\n", read_cs(), rdmsr(MSR_EFER));
    CHECK_EQ(read_cs(), SEL_KCODE);
    CHECK_EQ(rdmsr(MSR_EFER) & (EFER_LME | EFER_LMA), EFER_LME | EFER_LMA);
    CHECK_EQ(res(RM_DONE), 1);

    /* ---- 16-bit protected mode ---- */
    printf("pm16: CS 0x%x CR0 0x%x EFER 0x%x\n", res(PM16_CS), res(PM16_CR0), res(PM16_EFER));
    CHECK_EQ(res(PM16_CS), SEL_CODE16);
    CHECK_EQ(res(PM16_CR0) & (CR0_PE | CR0_PG), CR0_PE);
    CHECK_EQ(res(PM16_EFER) & (EFER_LME | EFER_LMA), 0);
    printf("pm16: PUSHW + PUSHL took %u bytes, popped 0x%x 0x%x\n", res(PM16_PUSHDELTA), res(PM16_POPL),
           res(PM16_POPW));
    CHECK_EQ(res(PM16_PUSHDELTA), 6);
    CHECK_EQ(res(PM16_POPL), 0x12345678);
    CHECK_EQ(res(PM16_POPW), 0x1234);
    printf("pm16: ADD EAX 0x%x CF %u; ADD AX -> EAX 0x%x\n", res(PM16_ADD32), res(PM16_ADD32_CF),
           res(PM16_ADD16));
    CHECK_EQ(res(PM16_ADD32), 0x10);
    CHECK_EQ(res(PM16_ADD32_CF), 1);
    CHECK_EQ(res(PM16_ADD16), 0xaaaa0010);
    printf("pm16: addr32 read above 1 MiB 0x%x, 16-bit EA wrap read 0x%x, LEA 0x%x\n", res(PM16_HIGHREAD),
           res(PM16_WRAPREAD), res(PM16_LEA));
    CHECK_EQ(res(PM16_HIGHREAD), 0x1badf00d);
    CHECK_EQ(res(PM16_WRAPREAD), 0x1234);
    CHECK_EQ(res(PM16_LEA), 0x10001c);
    printf("pm16: LOOP ECX 0x%x taken %u; addr32 LOOP ECX 0x%x taken %u\n", res(PM16_LOOP16_ECX),
           res(PM16_LOOP16_TAKEN), res(PM16_LOOP32_ECX), res(PM16_LOOP32_TAKEN));
    CHECK_EQ(res(PM16_LOOP16_ECX), 0x10000);
    CHECK_EQ(res(PM16_LOOP16_TAKEN), 0);
    CHECK_EQ(res(PM16_LOOP32_ECX), 0x10000);
    CHECK_EQ(res(PM16_LOOP32_TAKEN), 1);
    printf("pm16: near CALL pushed %u bytes; far CALL (66) pushed %u: EIP 0x%x CS 0x%x, callee CS 0x%x\n",
           res(PM16_NEAR_DELTA), res(PM16_FAR_DELTA), res(PM16_FAR_RETIP), res(PM16_FAR_RETCS),
           res(PM16_FAR_CS32));
    CHECK_EQ(res(PM16_NEAR_DELTA), 2);
    CHECK_EQ(res(PM16_FAR_DELTA), 8);
    CHECK_EQ(res(PM16_FAR_RETIP), off(rm_pm16_far_ret));
    CHECK_EQ(res(PM16_FAR_RETCS), SEL_CODE16);
    CHECK_EQ(res(PM16_FAR_CS32), SEL_KCODE32);

    /* ---- real mode ---- */
    printf("real mode: CS 0x%x CR0 0x%x EFER 0x%x\n", res(RM_CS), res(RM_CR0), res(RM_EFER));
    CHECK_EQ(res(RM_CS), BLOB_SEG);
    CHECK_EQ(res(RM_CR0) & (CR0_PE | CR0_PG), 0);
    CHECK_EQ(res(RM_EFER) & (EFER_LME | EFER_LMA), 0);
    printf("real mode: DS=0x1000 wrote 0x%x at 0x10000, read 0x%x; [BX+SI] wrap read 0x%x\n",
           *(volatile uint16_t *)(uintptr_t)0x10000, res(RM_DSREAD), res(RM_WRAP));
    CHECK_EQ(*(volatile uint16_t *)(uintptr_t)0x10000, 0xbeef);
    CHECK_EQ(res(RM_DSREAD), 0x4321);
    CHECK_EQ(res(RM_WRAP), 0xbe);
    printf("real mode: 0xffff+1 = 0x%x flags 0x%x; MUL 0x%x DIV 0x%x; INC 0x7fff = 0x%x flags 0x%x\n",
           res(RM_ADD_AX), res(RM_ADD_FLAGS), res(RM_MUL), res(RM_DIV), res(RM_INC_AX), res(RM_INC_FLAGS));
    CHECK_EQ(res(RM_ADD_AX), 0);
    CHECK_EQ(res(RM_ADD_FLAGS) & (F_CF | F_ZF | F_SF | F_OF), F_CF | F_ZF);
    CHECK_EQ(res(RM_MUL), 0x00012340);
    CHECK_EQ(res(RM_DIV), 0x00450123);
    CHECK_EQ(res(RM_INC_AX), 0x8000);
    CHECK_EQ(res(RM_INC_FLAGS) & (F_ZF | F_SF | F_OF), F_SF | F_OF);
    CHECK_EQ(res(RM_ADD32), 0x23456789);
    CHECK_EQ(res(RM_SHL), 0xffff0002);
    printf("real mode: REP MOVSB SI 0x%x DI 0x%x CX %u; wrapping SI 0x%x DI 0x%x CX %u\n", res(RM_MOVS_SI),
           res(RM_MOVS_DI), res(RM_MOVS_CX), res(RM_MOVSW_SI), res(RM_MOVSW_DI), res(RM_MOVSW_CX));
    CHECK_EQ(res(RM_MOVS_SI), 0x210);
    CHECK_EQ(res(RM_MOVS_DI), 0x10);
    CHECK_EQ(res(RM_MOVS_CX), 0);
    for (int i = 0; i < 16; i++)
        CHECK_EQ(phys8(0x20000)[i], 0x40 + i);
    CHECK_EQ(res(RM_MOVSW_SI), 2);
    CHECK_EQ(res(RM_MOVSW_DI), 0x104);
    CHECK_EQ(res(RM_MOVSW_CX), 0);
    CHECK_EQ(*(volatile uint32_t *)(uintptr_t)0x20100, 0xbeefa2a1); /* 0x1fffe, 0x1ffff, then 0x10000 */
    printf("real mode: near CALL SP 0x%x -> 0x%x ret 0x%x; far CALL CS 0x%x ret 0x%x:0x%x SP 0x%x -> 0x%x\n",
           res(RM_NEAR_SP0), res(RM_NEAR_SP_IN), res(RM_NEAR_RET), res(RM_FAR_CS), res(RM_FAR_RETCS),
           res(RM_FAR_RETIP), res(RM_FAR_SP0), res(RM_FAR_SP_IN));
    CHECK_EQ(res(RM_NEAR_SP0), RM_SP);
    CHECK_EQ(res(RM_NEAR_SP_IN), RM_SP - 2);
    CHECK_EQ(res(RM_NEAR_RET), off(rm_near_ret));
    CHECK_EQ(res(RM_NEAR_SP1), RM_SP);
    CHECK_EQ(res(RM_NEAR_CX), 0x1111);
    CHECK_EQ(res(RM_FAR_CS), BLOB_SEG - 0x100);
    CHECK_EQ(res(RM_FAR_RETIP), off(rm_far_ret));
    CHECK_EQ(res(RM_FAR_RETCS), BLOB_SEG);
    CHECK_EQ(res(RM_FAR_SP_IN), res(RM_FAR_SP0) - 4);
    CHECK_EQ(res(RM_FAR_SP1), res(RM_FAR_SP0));
    printf("real mode: INT 40h: handler FLAGS 0x%x, frame 0x%x:0x%x FLAGS 0x%x, SP 0x%x -> 0x%x; after IRET "
           "0x%x, after CLI 0x%x\n",
           res(RM_INT_FLAGS_IN), res(RM_INT_CS), res(RM_INT_IP), res(RM_INT_FLAGS_PUSHED), res(RM_INT_SP0),
           res(RM_INT_SP), res(RM_FLAGS_AFTER), res(RM_FLAGS_CLI));
    CHECK_EQ(res(RM_INT_MARK), 0x4040);
    CHECK_EQ(res(RM_INT_FLAGS_IN) & F_IF, 0);      /* INT clears IF (and TF, AC) */
    CHECK_EQ(res(RM_INT_FLAGS_PUSHED) & F_IF, F_IF); /* the image has the IF of before */
    CHECK_EQ(res(RM_INT_CS), BLOB_SEG);
    CHECK_EQ(res(RM_INT_IP), off(rm_int_ret));
    CHECK_EQ(res(RM_INT_SP), res(RM_INT_SP0) - 6);
    CHECK_EQ(res(RM_FLAGS_AFTER) & F_IF, F_IF); /* IRET restored it */
    CHECK_EQ(res(RM_FLAGS_CLI) & F_IF, 0);

    /* #GP / #SS: faults (IP of the faulting instruction), no error code: SP drops by 6 */
    printf("real mode: %u faults through the IVT\n", res(RM_FLT_COUNT));
    CHECK_EQ(res(RM_FLT_COUNT), 3);
    static const struct { int vec; const char *ip; const char *what; } flt[3] = {
        { 13, rm_flt1, "word write at DS:0xffff" },
        { 13, rm_flt2, "read at DS:0x10000 (67 prefix)" },
        { 12, rm_flt3, "word read at SS:0xffff" },
    };
    for (int i = 0; i < 3; i++) {
        uint32_t v = res(RM_FLT + 4 * i), ip = res(RM_FLT + 4 * i + 1), sp = res(RM_FLT + 4 * i + 2);
        printf("  %s: vector %u at IP 0x%x, SP at entry 0x%x\n", flt[i].what, v, ip, sp);
        CHECK_EQ(v, flt[i].vec);
        CHECK_EQ(ip, off(flt[i].ip));
        CHECK_EQ(sp, res(RM_FLT_SP0) - 6);
    }
    CHECK_EQ(phys8(0x1ffff)[0], 0xa2); /* the faulting write changed nothing */
    CHECK_EQ(phys8(0x20000)[0], 0x40);
    printf("real mode: COM1 LSR 0x%x\n", res(RM_LSR));
    CHECK_EQ(res(RM_LSR) & 0x20, 0x20);

    /* ---- unreal mode ---- */
    printf("unreal mode: CS 0x%x, GS:0x%x read 0x%x, wrote 0x%x\n", res(RM_UNREAL_CS),
           (uint32_t)(uintptr_t)high_buf, res(RM_UNREAL_READ), high_buf[1]);
    CHECK_EQ(res(RM_UNREAL_DONE), 1);
    CHECK_EQ(res(RM_UNREAL_CS), BLOB_SEG);
    CHECK_EQ(res(RM_UNREAL_READ), 0x1badf00d);
    CHECK_EQ(high_buf[1], 0x600dcafe);
    return check_result();
}
