/* paging.c - 4-level paging with 4 KiB pages under a test PD entry: reads
 * and writes through a mapping, accessed and dirty bits, INVLPG, and the
 * page-fault error code bits with CR2: not present (read, write, fetch),
 * write to read-only with CR0.WP, user access to a supervisor page, user
 * write to a read-only user page, a reserved bit set, an NX fetch. */
#include "guest.h"

#define VA_BASE 0x40000000ull /* PDPT[1], PD entry 0: replaced by pt[] */
#define NX (1ull << 63)
#define PF_P 1
#define PF_W 2
#define PF_U 4
#define PF_RSVD 8
#define PF_I 16

void user_read_probe(void), user_write_probe(void);
extern uint64_t user_probe_va;

/* volatile: the CPU reads and writes these behind the compiler's back */
__attribute__((aligned(4096))) static volatile uint64_t pt[512];
__attribute__((aligned(4096))) static volatile uint8_t frames[8][4096];

static volatile uint8_t *va(int page) { return (volatile uint8_t *)(VA_BASE + page * 4096ull); }

static void map(int page, int frame, uint64_t flags)
{
    pt[page] = flags ? ((uint64_t)frames[frame] | flags) : 0;
    invlpg(va(page));
}

static void pf_user(struct trap_frame *f)
{
    last_trap.count++;
    last_trap.vec = f->vec;
    last_trap.err = f->err;
    last_trap.rip = f->rip;
    last_trap.cr2 = READ_CR(2);
    user_return(0xdead);
}

static void back(struct trap_frame *f) { user_return(f->rax); }

static void expect_pf(const char *what, uint64_t n, uint64_t err, uint64_t cr2)
{
    printf("%s: #PF error 0x%lx CR2 0x%lx\n", what, last_trap.err, last_trap.cr2);
    CHECK_EQ(last_trap.count, n + 1);
    CHECK_EQ(last_trap.vec, 14);
    CHECK_EQ(last_trap.err, err);
    CHECK_EQ(last_trap.cr2, cr2);
}

static void read_va(volatile uint8_t *p)
{
    __asm__ volatile(RESUME_AT_1F "movb (%0), %%al\n1:" ::"r"(p) : "rax", "r11", "memory");
}

static void write_va(volatile uint8_t *p)
{
    __asm__ volatile(RESUME_AT_1F "movb $1, (%0)\n1:" ::"r"(p) : "r11", "memory");
}

static void fetch_va(volatile void *p)
{
    __asm__ volatile(RESUME_AT_1F "jmp *%0\n1:" ::"r"(p) : "r11", "memory");
}

int test_main(const struct mb_info *mbi)
{
    uint64_t n;
    uint32_t r[4];
    cpuid(0x80000008, 0, r);
    int maxphy = r[0] & 0xff;
    printf("MAXPHYADDR %d\n", maxphy);

    pd[512] = (uint64_t)pt | PTE_P | PTE_W | PTE_U;
    WRITE_CR(3, READ_CR(3));
    catch_trap(14);

    /* a plain mapping: data goes to the frame; A then D get set */
    map(0, 0, PTE_P | PTE_W);
    frames[0][8] = 0x5a;
    CHECK_EQ(*(volatile uint8_t *)(va(0) + 8), 0x5a);
    CHECK(pt[0] & PTE_A);
    CHECK(!(pt[0] & PTE_D));
    *(volatile uint8_t *)(va(0) + 9) = 0xa5;
    CHECK_EQ(frames[0][9], 0xa5);
    CHECK(pt[0] & PTE_D);

    /* INVLPG makes a remapping visible */
    frames[1][8] = 0x77;
    map(0, 1, PTE_P | PTE_W);
    CHECK_EQ(*(volatile uint8_t *)(va(0) + 8), 0x77);

    n = last_trap.count;
    read_va(va(1) + 0x10);
    expect_pf("not-present read", n, 0, (uint64_t)va(1) + 0x10);

    n = last_trap.count;
    write_va(va(1) + 0x20);
    expect_pf("not-present write", n, PF_W, (uint64_t)va(1) + 0x20);

    map(2, 2, PTE_P);
    n = last_trap.count;
    write_va(va(2) + 0x30);
    expect_pf("write to read-only (CR0.WP)", n, PF_P | PF_W, (uint64_t)va(2) + 0x30);

    if (maxphy < 52) {
        map(3, 3, PTE_P | PTE_W | (1ull << 51));
        n = last_trap.count;
        read_va(va(3));
        expect_pf("reserved bit 51", n, PF_P | PF_RSVD, (uint64_t)va(3));
        map(3, 3, 0);
    }

    /* NX: a fetch from an XD page, and a not-present fetch, with EFER.NXE */
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
    frames[4][0] = 0xc3; /* RET, never reached */
    map(4, 4, PTE_P | PTE_W | NX);
    n = last_trap.count;
    fetch_va(va(4));
    expect_pf("NX fetch", n, PF_P | PF_I, (uint64_t)va(4));
    n = last_trap.count;
    fetch_va(va(5));
    expect_pf("not-present fetch", n, PF_I, (uint64_t)va(5));

    /* from ring 3 */
    idt_set_gate(0x80, 0xe, 3, 0, true);
    set_trap_handler(0x80, back);
    set_trap_handler(14, pf_user);
    map(6, 6, PTE_P | PTE_W); /* supervisor page */
    user_probe_va = (uint64_t)va(6) + 0x40;
    n = last_trap.count;
    CHECK_EQ(user_call(user_read_probe, (uint64_t)stack_top(3)), 0xdead);
    expect_pf("user read of a supervisor page", n, PF_P | PF_U, user_probe_va);

    map(7, 7, PTE_P | PTE_U); /* user, read-only */
    user_probe_va = (uint64_t)va(7) + 0x48;
    CHECK_EQ(user_call(user_read_probe, (uint64_t)stack_top(3)), 0);
    n = last_trap.count;
    CHECK_EQ(user_call(user_write_probe, (uint64_t)stack_top(3)), 0xdead);
    expect_pf("user write to a read-only user page", n, PF_P | PF_W | PF_U, user_probe_va);
    return check_result();
}
