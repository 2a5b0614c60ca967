/* test_string.c - string instructions (MOVS CMPS STOS LODS SCAS INS OUTS) with
 * and without REP/REPE/REPNE, and port I/O (IN, OUT, the TSS I/O permission
 * bit map).
 *
 * Handlers run on a real machine_t; the first 4 MiB of linear addresses are
 * mapped 1:1 onto guest RAM by filling the TLB directly. A REP instruction is
 * driven the way the run loop drives it: the handler is called again while it
 * leaves RIP at itself, and d->lat is charged per call as exec_one() does.
 */
#include "emu/flags.h"
#include "fixture.h"

static machine_t *m;
static cpu_t *c;

#define RIP0 0x1000
#define LAT 2

static void mode64(void)
{
    fx_mode64(c, CR0_PE | CR0_PG, 0);
    assert_int_equal(c->mode, MODE_LONG64);
}
static void mode32(void)
{
    fx_set_mode(c, CR0_PE, 0, 0, FX_AR_CODE32, FX_AR_DATA32, 0xffffffff);
    assert_int_equal(c->mode, MODE_PROT32);
}
static void mode_real(void)
{
    fx_set_mode(c, 0, 0, 0, AR_P | AR_S | 0xb, AR_P | AR_S | 3, 0xffff);
    assert_int_equal(c->mode, MODE_REAL);
}

/* A test port: reads return 0x40, 0x41, ... ; writes are recorded. */
#define PORT 0x300
static uint64_t port_next;
static int port_nreads, port_nwrites;
static uint64_t port_written[64];
static int port_wsize[64];

static uint64_t port_rd(void *opaque, uint16_t port, int size)
{
    port_nreads++;
    uint64_t v = 0;
    for (int k = 0; k < size; k++)
        v |= (port_next++ & 0xff) << (8 * k);
    return v;
}
static void port_wr(void *opaque, uint16_t port, int size, uint64_t val)
{
    if (port_nwrites < 64) {
        port_written[port_nwrites] = val;
        port_wsize[port_nwrites] = size;
    }
    port_nwrites++;
}
static void port_reset(void)
{
    port_next = 0x40;
    port_nreads = port_nwrites = 0;
}

static int setup(void **state)
{
    if (fx_setup_flat(&m, &c))
        return -1;
    io_register(m, PORT, 1, port_rd, port_wr, NULL);
    return 0;
}

static int teardown(void **state)
{
    machine_free(m);
    return 0;
}

static void test_reset(void)
{
    c->cycles = 0;
    c->deadline = UINT64_MAX;
    c->stop = 0;
}

/* rep: 0, X86_PFX_REP or X86_PFX_REPNE */
static dinsn_t mk(int osize, int asize, int rep)
{
    dinsn_t d = fx_insn(osize, asize, 2);
    d.i.pfx = (uint8_t)rep;
    d.lat = LAT;
    return d;
}

/* One handler call; returns the fault vector or -1. */
static int exec1(insn_fn fn, const dinsn_t *d)
{
    int v = fx_exec_at(c, fn, d, RIP0);
    if (v < 0)
        c->cycles += d->lat;
    return v;
}

/* Run to completion as the run loop would; returns the fault vector or -1, and
 * the number of handler calls in *calls. */
static int run(insn_fn fn, const dinsn_t *d, int *calls)
{
    int n = 0, f;
    do {
        c->stop = 0;
        f = exec1(fn, d);
        n++;
        if (f >= 0)
            break;
        if (c->rip == RIP0)
            assert_true(c->stop & STOP_YIELD);
    } while (c->rip == RIP0 && n < 100000);
    if (calls)
        *calls = n;
    return f;
}

static uint64_t rd64(uint64_t pa) { return phys_read(m, pa, 8); }

static void fill_pattern(uint64_t pa, size_t n, uint8_t seed)
{
    for (size_t k = 0; k < n; k++)
        m->ram[pa + k] = (uint8_t)(seed + k * 7 + (k >> 8));
}

/* ---------------- MOVS ---------------- */

static void test_movsb_single_both_directions(void **state)
{
    mode64();
    test_reset();
    m->ram[0x10000] = 0xab;
    c->gpr[R_RSI] = 0x10000;
    c->gpr[R_RDI] = 0x20000;
    c->gpr[R_RCX] = 5;
    dinsn_t d = mk(8, 8, 0);
    assert_int_equal(run(op_movsb, &d, NULL), -1);
    assert_int_equal(m->ram[0x20000], 0xab);
    assert_int_equal(c->gpr[R_RSI], 0x10001);
    assert_int_equal(c->gpr[R_RDI], 0x20001);
    assert_int_equal(c->gpr[R_RCX], 5); /* no REP: the count is not used */
    cpu_set_rflags(c, 2 | F_DF);
    assert_int_equal(run(op_movsb, &d, NULL), -1);
    assert_int_equal(c->gpr[R_RSI], 0x10000);
    assert_int_equal(c->gpr[R_RDI], 0x20000);
}

static void test_rep_movs_count_0_and_1(void **state)
{
    mode64();
    test_reset();
    memset(m->ram + 0x20000, 0, 16);
    fill_pattern(0x10000, 16, 1);
    c->gpr[R_RSI] = 0x10000;
    c->gpr[R_RDI] = 0x20000;
    c->gpr[R_RCX] = 0;
    dinsn_t d = mk(4, 8, X86_PFX_REP);
    int calls;
    assert_int_equal(run(op_movs, &d, &calls), -1);
    assert_int_equal(calls, 1);
    assert_int_equal(c->gpr[R_RSI], 0x10000);
    assert_int_equal(c->gpr[R_RDI], 0x20000);
    assert_int_equal(m->ram[0x20000], 0);
    assert_int_equal(c->cycles, LAT);
    c->gpr[R_RCX] = 1;
    assert_int_equal(run(op_movs, &d, &calls), -1);
    assert_memory_equal(m->ram + 0x20000, m->ram + 0x10000, 4);
    assert_int_equal(m->ram[0x20004], 0);
    assert_int_equal(c->gpr[R_RCX], 0);
    assert_int_equal(c->gpr[R_RSI], 0x10004);
    assert_int_equal(c->gpr[R_RDI], 0x20004);
}

/* A long unaligned copy across pages: several handler calls, exact result,
 * LAT cycles per element. */
static void test_rep_movsb_long_runs_in_bounded_calls(void **state)
{
    mode64();
    test_reset();
    const size_t n = 10000;
    fill_pattern(0x100005, n, 3);
    memset(m->ram + 0x200000, 0xee, n + 16);
    c->gpr[R_RSI] = 0x100005;
    c->gpr[R_RDI] = 0x200003;
    c->gpr[R_RCX] = n;
    dinsn_t d = mk(4, 8, X86_PFX_REP);
    int calls;
    assert_int_equal(run(op_movsb, &d, &calls), -1);
    assert_true(calls >= 3); /* at most 4096 iterations per call */
    assert_memory_equal(m->ram + 0x200003, m->ram + 0x100005, n);
    assert_int_equal(m->ram[0x200002], 0xee);
    assert_int_equal(m->ram[0x200003 + n], 0xee);
    assert_int_equal(c->gpr[R_RCX], 0);
    assert_int_equal(c->gpr[R_RSI], 0x100005 + n);
    assert_int_equal(c->gpr[R_RDI], 0x200003 + n);
    assert_int_equal(c->cycles, n * LAT);
    assert_int_equal(c->rip, RIP0 + 2);
}

/* REP MOVSQ/MOVSW, also with F2 (REPNE acts as REP for MOVS). */
static void test_rep_movs_sizes(void **state)
{
    static const int sizes[] = { 2, 8 };
    mode64();
    for (int k = 0; k < 2; k++) {
        test_reset();
        int sz = sizes[k];
        size_t count = 3000;
        fill_pattern(0x100000, count * sz, (uint8_t)(9 + k));
        memset(m->ram + 0x300000, 0, count * sz + 8);
        c->gpr[R_RSI] = 0x100000;
        c->gpr[R_RDI] = 0x300000;
        c->gpr[R_RCX] = count;
        dinsn_t d = mk(sz, 8, k ? X86_PFX_REPNE : X86_PFX_REP);
        assert_int_equal(run(op_movs, &d, NULL), -1);
        assert_memory_equal(m->ram + 0x300000, m->ram + 0x100000, count * sz);
        assert_int_equal(m->ram[0x300000 + count * sz], 0);
        assert_int_equal(c->gpr[R_RDI], 0x300000 + count * sz);
        assert_int_equal(c->cycles, count * LAT);
    }
}

/* Element-by-element reference for an overlapping copy. */
static void ref_movs(uint8_t *mem, size_t src, size_t dst, int size, size_t count, int dir)
{
    for (size_t k = 0; k < count; k++) {
        uint8_t t[8];
        memcpy(t, mem + src, size);
        memcpy(mem + dst, t, size);
        src += dir * size;
        dst += dir * size;
    }
}

static void test_rep_movs_overlapping(void **state)
{
    static uint8_t ref[0x3000];
    static const struct { int size, delta, df; } cases[] = {
        { 1, 1, 0 }, { 4, 1, 0 }, { 4, 6, 0 }, { 8, 3, 0 }, { 2, -1, 0 }, { 4, -2, 1 }, { 1, 1, 1 },
    };
    mode64();
    for (unsigned k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        test_reset();
        int sz = cases[k].size;
        size_t count = 700, src = cases[k].df ? 0x101800 : 0x101000;
        size_t dst = src + cases[k].delta;
        fill_pattern(0x100000, 0x3000, (uint8_t)k);
        memcpy(ref, m->ram + 0x100000, sizeof ref);
        ref_movs(ref, src - 0x100000, dst - 0x100000, sz, count, cases[k].df ? -1 : 1);
        cpu_set_rflags(c, 2 | (cases[k].df ? F_DF : 0));
        c->gpr[R_RSI] = src;
        c->gpr[R_RDI] = dst;
        c->gpr[R_RCX] = count;
        dinsn_t d = mk(sz, 8, X86_PFX_REP);
        assert_int_equal(run(sz == 1 ? op_movsb : op_movs, &d, NULL), -1);
        assert_memory_equal(m->ram + 0x100000, ref, sizeof ref);
    }
}

/* 16-bit addressing in real mode: SI and DI wrap at 64 KiB, the upper halves stay. */
static void test_movs_16bit_address_wrap(void **state)
{
    mode_real();
    test_reset();
    c->seg[S_DS].base = 0x10000;
    c->seg[S_ES].base = 0x20000;
    m->ram[0x1fffe] = 1;
    m->ram[0x1ffff] = 2;
    m->ram[0x10000] = 3;
    m->ram[0x10001] = 4;
    c->gpr[R_RSI] = 0x5555fffe;
    c->gpr[R_RDI] = 0x0100;
    c->gpr[R_RCX] = 0x77770002;
    dinsn_t d = mk(2, 2, X86_PFX_REP);
    assert_int_equal(run(op_movs, &d, NULL), -1);
    assert_int_equal(c->gpr[R_RSI], 0x55550002);
    assert_int_equal(c->gpr[R_RDI], 0x0104);
    assert_int_equal(c->gpr[R_RCX], 0x77770000);
    assert_int_equal(m->ram[0x20100], 1);
    assert_int_equal(m->ram[0x20103], 4);
}

/* 67 in 64-bit mode: ESI/EDI/ECX, written zero-extended. */
static void test_movs_32bit_address_in_64(void **state)
{
    mode64();
    test_reset();
    m->ram[0x10000] = 0x5a;
    c->gpr[R_RSI] = 0xffffffff00010000ull;
    c->gpr[R_RDI] = 0x1234567800020000ull;
    c->gpr[R_RCX] = 0xabcdef0000000001ull;
    dinsn_t d = mk(4, 4, X86_PFX_REP);
    assert_int_equal(run(op_movsb, &d, NULL), -1);
    assert_int_equal(m->ram[0x20000], 0x5a);
    assert_int_equal(c->gpr[R_RSI], 0x10001);
    assert_int_equal(c->gpr[R_RDI], 0x20001);
    assert_int_equal(c->gpr[R_RCX], 0);
}

/* The source takes a segment override; the destination is always ES. */
static void test_movs_segment_override(void **state)
{
    mode64();
    test_reset();
    c->seg[S_FS].base = 0x30000;
    c->seg[S_ES].base = 0x70000; /* ignored in 64-bit mode */
    m->ram[0x30010] = 0x11;
    m->ram[0x10] = 0x22;
    c->gpr[R_RSI] = 0x10;
    c->gpr[R_RDI] = 0x40000;
    dinsn_t d = mk(4, 8, 0);
    d.i.pfx |= X86_PFX_SEGOVR;
    d.i.seg = X86_FS;
    assert_int_equal(run(op_movsb, &d, NULL), -1);
    assert_int_equal(m->ram[0x40000], 0x11);

    /* in protected mode ES's base applies, and an override of ES is the source only */
    mode32();
    c->seg[S_ES].base = 0x50000;
    c->seg[S_DS].base = 0x60000;
    m->ram[0x60020] = 0x33;
    c->gpr[R_RSI] = 0x20;
    c->gpr[R_RDI] = 0x8;
    d = mk(4, 4, 0);
    assert_int_equal(run(op_movsb, &d, NULL), -1);
    assert_int_equal(m->ram[0x50008], 0x33);
}

/* A REP MOVS that hits the ES limit part-way faults with the registers of the
 * failing element, and restarting it finishes the job. */
static void test_rep_movs_fault_midway_restarts(void **state)
{
    mode32();
    test_reset();
    c->seg[S_ES].limit = 0x2003;
    fill_pattern(0x1000, 10, 5);
    memset(m->ram + 0x2000, 0, 16);
    c->gpr[R_RSI] = 0x1000;
    c->gpr[R_RDI] = 0x2000;
    c->gpr[R_RCX] = 10;
    dinsn_t d = mk(4, 4, X86_PFX_REP);
    assert_int_equal(run(op_movsb, &d, NULL), EXC_GP);
    assert_int_equal(c->gpr[R_RCX], 6);
    assert_int_equal(c->gpr[R_RSI], 0x1004);
    assert_int_equal(c->gpr[R_RDI], 0x2004);
    assert_memory_equal(m->ram + 0x2000, m->ram + 0x1000, 4);
    assert_int_equal(m->ram[0x2004], 0);
    c->seg[S_ES].limit = 0xffffffff;
    assert_int_equal(run(op_movsb, &d, NULL), -1);
    assert_memory_equal(m->ram + 0x2000, m->ram + 0x1000, 10);
    assert_int_equal(c->gpr[R_RCX], 0);
}

/* The run stops at the cycle deadline with RIP on the instruction. */
static void test_rep_yields_at_deadline(void **state)
{
    mode64();
    test_reset();
    c->deadline = 100;
    c->gpr[R_RSI] = 0x100000;
    c->gpr[R_RDI] = 0x200000;
    c->gpr[R_RCX] = 1000;
    dinsn_t d = mk(8, 8, X86_PFX_REP);
    assert_int_equal(exec1(op_movs, &d), -1);
    assert_int_equal(c->rip, RIP0);
    assert_true(c->stop & STOP_YIELD);
    uint64_t done = 1000 - c->gpr[R_RCX];
    assert_true(done > 0 && done <= 50);
    assert_int_equal(c->cycles, done * LAT);
    assert_int_equal(c->gpr[R_RDI], 0x200000 + done * 8);
}

/* With TF set every iteration is its own step: RIP stays on the instruction
 * (for the run loop's single-step trap) until the count runs out. */
static void test_rep_single_steps_with_tf(void **state)
{
    mode64();
    test_reset();
    cpu_set_rflags(c, 2 | F_TF);
    memcpy(m->ram + 0x10000, "xyz", 3);
    c->gpr[R_RSI] = 0x10000;
    c->gpr[R_RDI] = 0x20000;
    c->gpr[R_RCX] = 3;
    dinsn_t d = mk(4, 8, X86_PFX_REP);
    for (int k = 1; k <= 3; k++) {
        assert_int_equal(exec1(op_movsb, &d), -1);
        assert_int_equal(c->gpr[R_RCX], 3 - k);
        assert_int_equal(c->rip, k < 3 ? RIP0 : RIP0 + 2);
        assert_false(c->stop & STOP_YIELD);
    }
    assert_memory_equal(m->ram + 0x20000, "xyz", 3);
    cpu_set_rflags(c, 2);
}

/* MMIO pages never take the host-pointer path: every element reaches the
 * device, in order. Paging is off, so the MMU fills the TLB itself. */
#define MMIO_BASE 0xfe000000u
static int mmio_nwrites;
static uint64_t mmio_last_addr, mmio_last_val;
static bool mmio_in_order;
static uint64_t mmio_rd(void *opaque, uint64_t addr, int size) { return (addr * 3) & size_mask(size); }
static void mmio_wr(void *opaque, uint64_t addr, int size, uint64_t val)
{
    if (mmio_nwrites > 0 && addr != mmio_last_addr + (uint64_t)size)
        mmio_in_order = false;
    mmio_nwrites++;
    mmio_last_addr = addr;
    mmio_last_val = val;
}

static void test_rep_movs_mmio_goes_element_by_element(void **state)
{
    mode32();
    test_reset();
    mmio_register(m, MMIO_BASE, 0x2000, mmio_rd, mmio_wr, NULL);
    mmio_in_order = true;
    fill_pattern(0x110000, 0x2000, 77);
    c->gpr[R_RSI] = 0x110000;
    c->gpr[R_RDI] = MMIO_BASE;
    c->gpr[R_RCX] = 0x2000 / 4;
    dinsn_t d = mk(4, 4, X86_PFX_REP);
    assert_int_equal(run(op_movs, &d, NULL), -1);
    assert_int_equal(mmio_nwrites, 0x2000 / 4);
    assert_true(mmio_in_order);
    assert_int_equal(mmio_last_addr, 0x1ffc); /* offsets within the region */
    assert_int_equal(mmio_last_val, phys_read(m, 0x111ffc, 4));
    /* and back: device reads land in RAM */
    c->gpr[R_RSI] = MMIO_BASE + 0x10;
    c->gpr[R_RDI] = 0x120000;
    c->gpr[R_RCX] = 0x100;
    assert_int_equal(run(op_movsb, &d, NULL), -1);
    for (int k = 0; k < 0x100; k++)
        assert_int_equal(m->ram[0x120000 + k], (uint8_t)(((0x10 + k) * 3)));
    /* the MMIO pages took TLB slots of identity-mapped low pages: give them back */
    fx_map_page(m, c, 0, 0);
    fx_map_page(m, c, 0x1000, 0x1000);
}

/* Source and destination pages 4 MiB apart share a TLB slot: each store
 * evicts the source's entry. Paging is off, so the MMU fills the slots. */
static void test_rep_movs_tlb_slot_collision(void **state)
{
    mode32();
    test_reset();
    const uint64_t src = 0x130000, dst = src + (TLB_SIZE << 12), n = 0x3000;
    fill_pattern(src, n, 21);
    memset(m->ram + dst, 0, n + 4);
    c->gpr[R_RSI] = src;
    c->gpr[R_RDI] = dst;
    c->gpr[R_RCX] = n / 4;
    dinsn_t d = mk(4, 4, X86_PFX_REP);
    assert_int_equal(run(op_movs, &d, NULL), -1);
    assert_memory_equal(m->ram + dst, m->ram + src, n);
    assert_int_equal(m->ram[dst + n], 0);
    assert_int_equal(c->cycles, n / 4 * LAT);
    /* give the identity-mapped slots back */
    for (uint64_t la = src; la < src + n; la += 4096)
        fx_map_page(m, c, la, la);
}

/* ---------------- STOS / LODS ---------------- */

static void test_rep_stos(void **state)
{
    mode64();
    test_reset();
    memset(m->ram + 0x100000, 0, 0x6000);
    c->gpr[R_RAX] = 0x1122334455667788ull;
    c->gpr[R_RDI] = 0x100008;
    c->gpr[R_RCX] = 0x1000;
    dinsn_t d = mk(8, 8, X86_PFX_REP);
    assert_int_equal(run(op_stos, &d, NULL), -1);
    for (int k = 0; k < 0x1000; k++)
        assert_int_equal(rd64(0x100008 + 8 * k), 0x1122334455667788ull);
    assert_int_equal(m->ram[0x100008 + 0x8000], 0);
    assert_int_equal(c->gpr[R_RDI], 0x100008 + 0x8000);
    /* STOSW, odd address, across a page boundary, then STOSB with DF=1 */
    test_reset();
    c->gpr[R_RDI] = 0x104ffb;
    c->gpr[R_RCX] = 5;
    d = mk(2, 8, X86_PFX_REP);
    assert_int_equal(run(op_stos, &d, NULL), -1);
    for (int k = 0; k < 5; k++)
        assert_int_equal(phys_read(m, 0x104ffb + 2 * k, 2), 0x7788);
    assert_int_equal(c->cycles, 5 * LAT);
    cpu_set_rflags(c, 2 | F_DF);
    memset(m->ram + 0x10a000, 0, 0x200);
    c->gpr[R_RDI] = 0x10a100;
    c->gpr[R_RCX] = 3;
    d = mk(4, 8, X86_PFX_REP);
    assert_int_equal(run(op_stosb, &d, NULL), -1);
    assert_int_equal(c->gpr[R_RDI], 0x10a0fd);
    assert_int_equal(m->ram[0x10a100], 0x88);
    assert_int_equal(m->ram[0x10a0fe], 0x88);
    assert_int_equal(m->ram[0x10a0fd], 0);
    assert_int_equal(m->ram[0x10a101], 0);
}

static void test_lods(void **state)
{
    mode64();
    test_reset();
    phys_write(m, 0x10000, 8, 0x8877665544332211ull);
    c->gpr[R_RSI] = 0x10000;
    c->gpr[R_RAX] = 0xffffffffffffffffull;
    dinsn_t d = mk(4, 8, 0);
    assert_int_equal(run(op_lods, &d, NULL), -1);
    assert_int_equal(c->gpr[R_RAX], 0x44332211); /* EAX zero-extends */
    d = mk(4, 8, 0);
    c->gpr[R_RAX] = 0xffffffffffffffffull;
    assert_int_equal(run(op_lodsb, &d, NULL), -1);
    assert_int_equal(c->gpr[R_RAX], 0xffffffffffffff55ull); /* AL merges */
    /* REP LODSW: the last element stays in AX */
    c->gpr[R_RSI] = 0x10000;
    c->gpr[R_RCX] = 3;
    d = mk(2, 8, X86_PFX_REP);
    assert_int_equal(run(op_lods, &d, NULL), -1);
    assert_int_equal(c->gpr[R_RAX], 0xffffffffffff6655ull);
    assert_int_equal(c->gpr[R_RSI], 0x10006);
}

/* ---------------- CMPS / SCAS ---------------- */

static void test_repe_cmpsb_stops_at_difference(void **state)
{
    mode64();
    test_reset();
    memcpy(m->ram + 0x10000, "abcdefgh", 8);
    memcpy(m->ram + 0x20000, "abcdXfgh", 8);
    c->gpr[R_RSI] = 0x10000;
    c->gpr[R_RDI] = 0x20000;
    c->gpr[R_RCX] = 8;
    dinsn_t d = mk(4, 8, X86_PFX_REP);
    assert_int_equal(run(op_cmpsb, &d, NULL), -1);
    assert_int_equal(c->gpr[R_RCX], 3);
    assert_int_equal(c->gpr[R_RSI], 0x10005);
    assert_int_equal(c->gpr[R_RDI], 0x20005);
    uint64_t f = cpu_get_rflags(c);
    assert_false(f & F_ZF);
    assert_false(f & F_CF); /* 'e' - 'X' = 0x65 - 0x58: no borrow */
}

static void test_cmps_flags_and_equal_run(void **state)
{
    mode64();
    test_reset();
    phys_write(m, 0x10000, 4, 1);
    phys_write(m, 0x20000, 4, 2);
    c->gpr[R_RSI] = 0x10000;
    c->gpr[R_RDI] = 0x20000;
    dinsn_t d = mk(4, 8, 0);
    assert_int_equal(run(op_cmps, &d, NULL), -1); /* 1 - 2: borrow, negative */
    uint64_t f = cpu_get_rflags(c);
    assert_true(f & F_CF);
    assert_true(f & F_SF);
    assert_false(f & F_ZF);
    /* REPE over equal data runs the count out with ZF = 1 */
    memset(m->ram + 0x30000, 0x42, 64);
    memset(m->ram + 0x40000, 0x42, 64);
    c->gpr[R_RSI] = 0x30000;
    c->gpr[R_RDI] = 0x40000;
    c->gpr[R_RCX] = 16;
    d = mk(4, 8, X86_PFX_REP);
    assert_int_equal(run(op_cmps, &d, NULL), -1);
    assert_int_equal(c->gpr[R_RCX], 0);
    assert_true(cpu_get_rflags(c) & F_ZF);
    /* REPNE over equal data stops after one element */
    c->gpr[R_RSI] = 0x30000;
    c->gpr[R_RDI] = 0x40000;
    c->gpr[R_RCX] = 16;
    d = mk(2, 8, X86_PFX_REPNE);
    assert_int_equal(run(op_cmps, &d, NULL), -1);
    assert_int_equal(c->gpr[R_RCX], 15);
    assert_int_equal(c->gpr[R_RSI], 0x30002);
}

/* Long REPE CMPS / REPNE SCAS runs across pages: the stopping element, the
 * registers, the flags of the last comparison and one LAT per element. */
static void test_rep_compare_long_runs(void **state)
{
    static const struct { int size; uint64_t diff_at; } cases[] = {
        { 1, 9000 }, { 2, 2047 }, { 4, 1024 }, { 8, 1500 }, { 1, 20000 },
    };
    mode64();
    for (unsigned k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int sz = cases[k].size;
        uint64_t count = 3000 + (sz == 1 ? 8000 : 0), src = 0x100003, dst = 0x180005;
        fill_pattern(src, count * sz, (uint8_t)k);
        memcpy(m->ram + dst, m->ram + src, count * sz);
        uint64_t stop = cases[k].diff_at < count ? cases[k].diff_at : count - 1;
        bool differs = cases[k].diff_at < count;
        if (differs)
            m->ram[dst + stop * sz + sz - 1] ^= 0x80; /* the top byte: src > dst */
        test_reset();
        c->gpr[R_RSI] = src;
        c->gpr[R_RDI] = dst;
        c->gpr[R_RCX] = count;
        dinsn_t d = mk(sz, 8, X86_PFX_REP);
        assert_int_equal(run(sz == 1 ? op_cmpsb : op_cmps, &d, NULL), -1);
        assert_int_equal(c->gpr[R_RCX], count - stop - 1);
        assert_int_equal(c->gpr[R_RSI], src + (stop + 1) * sz);
        assert_int_equal(c->gpr[R_RDI], dst + (stop + 1) * sz);
        assert_int_equal(c->cycles, (stop + 1) * LAT);
        uint64_t f = cpu_get_rflags(c);
        assert_int_equal(!!(f & F_ZF), !differs);
        if (differs) {
            /* [src] ^ [dst] = 0x80 in the top byte: CF = borrow, OF/SF from the signed view */
            uint64_t a = phys_read(m, src + stop * sz, sz), b = phys_read(m, dst + stop * sz, sz);
            assert_int_equal(!!(f & F_CF), a < b);
        }

        /* REPNE SCAS for the element that differs from its neighbours */
        test_reset();
        uint64_t want = phys_read(m, dst + stop * sz, sz);
        bool unique = true;
        for (uint64_t j = 0; j < stop; j++)
            if (phys_read(m, dst + j * sz, sz) == want)
                unique = false;
        if (!unique || !differs)
            continue;
        c->gpr[R_RDI] = dst;
        c->gpr[R_RCX] = count;
        c->gpr[R_RAX] = want | 0xaa00000000000000ull * (sz < 8);
        d = mk(sz, 8, X86_PFX_REPNE);
        assert_int_equal(run(sz == 1 ? op_scasb : op_scas, &d, NULL), -1);
        assert_int_equal(c->gpr[R_RDI], dst + (stop + 1) * sz);
        assert_int_equal(c->gpr[R_RCX], count - stop - 1);
        assert_true(cpu_get_rflags(c) & F_ZF);
        assert_int_equal(c->cycles, (stop + 1) * LAT);
    }
}

/* strlen idiom: REPNE SCASB with AL = 0, RCX = -1. */
static void test_repne_scasb_strlen(void **state)
{
    mode64();
    test_reset();
    memcpy(m->ram + 0x10000, "hello, world", 13);
    c->gpr[R_RDI] = 0x10000;
    c->gpr[R_RCX] = ~0ull;
    c->gpr[R_RAX] = 0x1234567800ull;
    dinsn_t d = mk(4, 8, X86_PFX_REPNE);
    assert_int_equal(run(op_scasb, &d, NULL), -1);
    assert_int_equal(~c->gpr[R_RCX] - 1, 12);
    assert_int_equal(c->gpr[R_RDI], 0x1000d);
    assert_true(cpu_get_rflags(c) & F_ZF);
    /* REPE SCASD stops at the first dword that differs from EAX */
    phys_write(m, 0x20000, 4, 7);
    phys_write(m, 0x20004, 4, 7);
    phys_write(m, 0x20008, 4, 9);
    c->gpr[R_RDI] = 0x20000;
    c->gpr[R_RCX] = 10;
    c->gpr[R_RAX] = 0xffffffff00000007ull;
    d = mk(4, 8, X86_PFX_REP);
    assert_int_equal(run(op_scas, &d, NULL), -1);
    assert_int_equal(c->gpr[R_RCX], 7);
    assert_int_equal(c->gpr[R_RDI], 0x2000c);
    assert_false(cpu_get_rflags(c) & F_ZF);
}

/* ---------------- INS / OUTS / IN / OUT ---------------- */

static void test_rep_outsb_insw(void **state)
{
    mode64();
    test_reset();
    port_reset();
    memcpy(m->ram + 0x10000, "vmx!", 4);
    c->gpr[R_RSI] = 0x10000;
    c->gpr[R_RDX] = PORT;
    c->gpr[R_RCX] = 4;
    dinsn_t d = mk(4, 8, X86_PFX_REP);
    assert_int_equal(run(op_outsb, &d, NULL), -1);
    assert_int_equal(port_nwrites, 4);
    for (int k = 0; k < 4; k++) {
        assert_int_equal(port_written[k], (uint8_t)"vmx!"[k]);
        assert_int_equal(port_wsize[k], 1);
    }
    c->gpr[R_RDI] = 0x20000;
    c->gpr[R_RCX] = 3;
    d = mk(2, 8, X86_PFX_REP);
    assert_int_equal(run(op_ins, &d, NULL), -1);
    assert_int_equal(port_nreads, 3);
    assert_int_equal(phys_read(m, 0x20000, 2), 0x4140);
    assert_int_equal(phys_read(m, 0x20004, 2), 0x4544);
    assert_int_equal(c->gpr[R_RDI], 0x20006);
    /* REX.W INS moves a dword */
    d = mk(8, 8, 0);
    assert_int_equal(run(op_ins, &d, NULL), -1);
    assert_int_equal(c->gpr[R_RDI], 0x2000a);
}

/* INS checks its destination before it reads the port. */
static void test_ins_faults_before_reading_port(void **state)
{
    mode32();
    test_reset();
    port_reset();
    c->seg[S_ES].limit = 0xfff;
    c->gpr[R_RDI] = 0x1000;
    c->gpr[R_RDX] = PORT;
    dinsn_t d = mk(4, 4, 0);
    assert_int_equal(run(op_insb, &d, NULL), EXC_GP);
    assert_int_equal(port_nreads, 0);
}

static void test_in_out(void **state)
{
    mode64();
    test_reset();
    port_reset();
    dinsn_t d = mk(4, 8, 0);
    c->gpr[R_RDX] = PORT;
    c->gpr[R_RAX] = 0xffffffffffffffffull;
    assert_int_equal(run(op_in_eax_dx, &d, NULL), -1);
    assert_int_equal(c->gpr[R_RAX], 0x43424140); /* zero-extended */
    d = mk(2, 8, 0);
    c->gpr[R_RAX] = 0xffffffffffffffffull;
    assert_int_equal(run(op_in_eax_dx, &d, NULL), -1);
    assert_int_equal(c->gpr[R_RAX], 0xffffffffffff4544ull);
    assert_int_equal(run(op_in_al_dx, &d, NULL), -1);
    assert_int_equal(c->gpr[R_RAX], 0xffffffffffff4546ull);
    d = mk(8, 8, 0); /* REX.W OUT: still 32 bits */
    c->gpr[R_RAX] = 0x1122334455667788ull;
    assert_int_equal(run(op_out_dx_eax, &d, NULL), -1);
    assert_int_equal(port_written[0], 0x55667788);
    assert_int_equal(port_wsize[0], 4);
    assert_int_equal(run(op_out_dx_al, &d, NULL), -1);
    assert_int_equal(port_written[1], 0x88);
    /* immediate port form: an unclaimed port reads as all ones */
    d = mk(4, 8, 0);
    d.i.imm = 0x7b;
    assert_int_equal(run(op_in_al_ib, &d, NULL), -1);
    assert_int_equal(c->gpr[R_RAX] & 0xff, 0xff);
}

/* A 32-bit TSS at linear 0x50000 with its I/O map at offset 0x68. */
#define TSS 0x50000
static void tss_setup(uint32_t limit, int type)
{
    memset(m->ram + TSS, 0, 0x68 + 0x2001);
    phys_write(m, TSS + 0x66, 2, 0x68);
    m->ram[TSS + 0x68 + PORT / 8] = 1u << (PORT & 7); /* deny PORT */
    m->ram[TSS + 0x68 + 0x400 / 8] = 0x80;            /* deny 0x407 */
    c->seg[S_TR] = (seg_t){ .base = TSS, .limit = limit, .ar = AR_P | (uint32_t)type, .sel = 0x28 };
}

static void test_io_permission_bitmap(void **state)
{
    mode32();
    tss_setup(0x68 + 0x2000, 11);
    /* CPL 0 <= IOPL 0: no map lookup */
    assert_true(io_allowed(c, PORT, 1));
    c->cpl = 3;
    assert_false(io_allowed(c, PORT, 1));
    assert_true(io_allowed(c, PORT + 1, 1));
    assert_false(io_allowed(c, PORT - 1, 2)); /* covers PORT */
    assert_true(io_allowed(c, PORT + 1, 4));
    assert_false(io_allowed(c, 0x404, 4));    /* 0x404..0x407 */
    assert_true(io_allowed(c, 0x403, 4));
    /* IOPL 3 lets CPL 3 through without the map */
    cpu_set_rflags(c, 2 | F_IOPL);
    assert_true(io_allowed(c, PORT, 1));
    cpu_set_rflags(c, 2);
    /* the map is read two bytes at a time: both must be inside the limit */
    tss_setup(0x68 + PORT / 8, 11);
    assert_false(io_allowed(c, PORT + 1, 1));
    tss_setup(0x68 + PORT / 8 + 1, 11);
    assert_true(io_allowed(c, PORT + 1, 1));
    /* a 16-bit TSS has no map */
    tss_setup(0x68 + 0x2000, 3);
    assert_false(io_allowed(c, PORT + 1, 1));
    /* virtual-8086 mode consults the map even with IOPL 3 */
    tss_setup(0x68 + 0x2000, 11);
    cpu_set_rflags(c, 2 | F_VM | F_IOPL);
    cpu_update_mode(c);
    assert_false(io_allowed(c, PORT, 1));
    assert_true(io_allowed(c, PORT + 1, 1));
    /* real mode: always allowed */
    mode_real();
    assert_true(io_allowed(c, PORT, 1));
}

static void test_in_denied_faults(void **state)
{
    mode32();
    test_reset();
    port_reset();
    tss_setup(0x68 + 0x2000, 11);
    c->cpl = 3;
    c->gpr[R_RDX] = PORT;
    c->gpr[R_RAX] = 0x1234;
    dinsn_t d = mk(4, 4, 0);
    assert_int_equal(run(op_in_al_dx, &d, NULL), EXC_GP);
    assert_int_equal(c->ev_err, 0);
    assert_int_equal(c->gpr[R_RAX], 0x1234);
    assert_int_equal(port_nreads, 0);
    assert_int_equal(run(op_outsb, &d, NULL), EXC_GP);
    assert_int_equal(port_nwrites, 0);
    c->cpl = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_movsb_single_both_directions),
        cmocka_unit_test(test_rep_movs_count_0_and_1),
        cmocka_unit_test(test_rep_movsb_long_runs_in_bounded_calls),
        cmocka_unit_test(test_rep_movs_sizes),
        cmocka_unit_test(test_rep_movs_overlapping),
        cmocka_unit_test(test_movs_16bit_address_wrap),
        cmocka_unit_test(test_movs_32bit_address_in_64),
        cmocka_unit_test(test_movs_segment_override),
        cmocka_unit_test(test_rep_movs_fault_midway_restarts),
        cmocka_unit_test(test_rep_yields_at_deadline),
        cmocka_unit_test(test_rep_single_steps_with_tf),
        cmocka_unit_test(test_rep_movs_mmio_goes_element_by_element),
        cmocka_unit_test(test_rep_movs_tlb_slot_collision),
        cmocka_unit_test(test_rep_stos),
        cmocka_unit_test(test_lods),
        cmocka_unit_test(test_repe_cmpsb_stops_at_difference),
        cmocka_unit_test(test_cmps_flags_and_equal_run),
        cmocka_unit_test(test_rep_compare_long_runs),
        cmocka_unit_test(test_repne_scasb_strlen),
        cmocka_unit_test(test_rep_outsb_insw),
        cmocka_unit_test(test_ins_faults_before_reading_port),
        cmocka_unit_test(test_in_out),
        cmocka_unit_test(test_io_permission_bitmap),
        cmocka_unit_test(test_in_denied_faults),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
