/* test_paging.c - the page walker and the software TLB (emu/paging.c, emu/mmu.c):
 * translations in every paging mode and page size, every #PF error-code bit,
 * accessed/dirty updates, WP/U-S/NX/SMEP/SMAP, reserved bits against
 * MAXPHYADDR, PDPTE loading, TLB invalidation (INVLPG, global pages, PCIDs),
 * page-crossing and MMIO accesses, and code-page write tags; and the
 * instructions that control paging (emu/exec_cr.c): MOV CR/DR, CLTS, LMSW,
 * SMSW, INVLPG, INVPCID, with their #GP/#UD/#DB checks.
 * Page tables are built in guest RAM of a real machine_new() machine. */
#include "emu/mmu.h"
#include "emu/msr.h"
#include "emu/paging.h"
#include "fixture.h"

#define P   (1ull << 0)
#define RW  (1ull << 1)
#define US  (1ull << 2)
#define A   (1ull << 5)
#define D   (1ull << 6)
#define PS  (1ull << 7)
#define G   (1ull << 8)
#define XD  (1ull << 63)
#define NOFAULT (-1)

static machine_t *m;
static cpu_t *c;
static uint64_t next_table;

/* ---- machine and CPU set-up ---- */

static void new_machine(const struct cpu_model *model)
{
    m = machine_new(64 << 20, model, 1);
    assert_non_null(m);
    c = m->cpu[0];
    next_table = 0x100000;
}

static int teardown(void **state)
{
    machine_free(m);
    m = NULL;
    return 0;
}

static void set_cpl(int cpl)
{
    c->cpl = (uint8_t)cpl;
    cpu_update_mode(c);
}

static uint64_t alloc_table(void)
{
    uint64_t p = next_table;
    next_table += 4096;
    for (int k = 0; k < 4096; k += 8)
        phys_write(m, p + k, 8, 0);
    return p;
}

static void enter_long_mode(void)
{
    c->cr3 = alloc_table();
    c->cr4 = CR4_PAE;
    c->efer = EFER_LME | EFER_LMA | EFER_NXE;
    c->cr0 = CR0_PE | CR0_PG | CR0_ET | CR0_WP;
    c->seg[S_CS].ar = AR_P | AR_S | AR_L | 0xb;
    set_cpl(0);
    tlb_flush_all(c);
}

static void enter_paging32(uint64_t cr4)
{
    c->cr3 = alloc_table();
    c->cr4 = cr4;
    c->efer = 0;
    c->cr0 = CR0_PE | CR0_PG | CR0_ET | CR0_WP;
    c->seg[S_CS].ar = AR_P | AR_S | AR_DB | 0xb;
    set_cpl(0);
    tlb_flush_all(c);
}

/* 4-level: map la to pa with the leaf at level (1: 4 KiB, 2: 2 MiB, 3: 1 GiB); returns the leaf's address. */
static uint64_t map64(uint64_t la, uint64_t pa, int level, uint64_t leaf_flags, uint64_t table_flags)
{
    uint64_t table = c->cr3 & ~0xfffull;
    for (int l = 4; l > level; l--) {
        uint64_t ea = table + ((la >> (12 + 9 * (l - 1))) & 511) * 8;
        uint64_t e = phys_read(m, ea, 8);
        if (!(e & P)) {
            e = alloc_table() | table_flags;
            phys_write(m, ea, 8, e);
        }
        table = e & 0x000ffffffffff000ull;
    }
    uint64_t ea = table + ((la >> (12 + 9 * (level - 1))) & 511) * 8;
    phys_write(m, ea, 8, pa | leaf_flags | (level > 1 ? PS : 0));
    return ea;
}

/* Address of the 4-level entry for la at level (4: PML4E .. 1: PTE). */
static uint64_t entry64(uint64_t la, int level)
{
    uint64_t table = c->cr3 & ~0xfffull;
    for (int l = 4; l > level; l--)
        table = phys_read(m, table + ((la >> (12 + 9 * (l - 1))) & 511) * 8, 8) & 0x000ffffffffff000ull;
    return table + ((la >> (12 + 9 * (level - 1))) & 511) * 8;
}

/* 32-bit paging: map la to pa (4 MiB page if large); returns the leaf's address. */
static uint64_t map32(uint32_t la, uint64_t pa_bits, bool large, uint32_t leaf_flags, uint32_t table_flags)
{
    uint64_t pde_a = (c->cr3 & 0xfffff000u) + (la >> 22) * 4;
    if (large) {
        phys_write(m, pde_a, 4, pa_bits | leaf_flags | PS);
        return pde_a;
    }
    uint32_t pde = (uint32_t)phys_read(m, pde_a, 4);
    if (!(pde & P)) {
        pde = (uint32_t)alloc_table() | table_flags;
        phys_write(m, pde_a, 4, pde);
    }
    uint64_t pte_a = (pde & 0xfffff000u) + ((la >> 12) & 1023) * 4;
    phys_write(m, pte_a, 4, pa_bits | leaf_flags);
    return pte_a;
}

/* ---- accesses that may fault: NOFAULT, the #PF error code, or 0x100 | vector ---- */

static int try_read(uint64_t la, int size, uint64_t *v)
{
    if (setjmp(c->fault_jmp))
        return c->ev_vec == EXC_PF ? (int)c->ev_err : 0x100 | c->ev_vec;
    *v = lin_read(c, la, size);
    return NOFAULT;
}

static int try_write(uint64_t la, int size, uint64_t v)
{
    if (setjmp(c->fault_jmp))
        return c->ev_vec == EXC_PF ? (int)c->ev_err : 0x100 | c->ev_vec;
    lin_write(c, la, size, v);
    return NOFAULT;
}

static int try_fetch(uint64_t la, uint64_t *pa)
{
    if (setjmp(c->fault_jmp))
        return c->ev_vec == EXC_PF ? (int)c->ev_err : 0x100 | c->ev_vec;
    *pa = mmu_translate_fetch(c, la);
    return NOFAULT;
}

static int try_read_sys(uint64_t la, uint64_t *v)
{
    if (setjmp(c->fault_jmp))
        return c->ev_vec == EXC_PF ? (int)c->ev_err : 0x100 | c->ev_vec;
    *v = lin_read_sys(c, la, 4);
    return NOFAULT;
}

static int rd_err(uint64_t la)
{
    uint64_t v;
    return try_read(la, 4, &v);
}

static int wr_err(uint64_t la)
{
    return try_write(la, 4, 0);
}

static int fetch_err(uint64_t la)
{
    uint64_t pa;
    return try_fetch(la, &pa);
}

/* ---- tests ---- */

static void test_paging_off_is_identity(void **state)
{
    new_machine(cpu_model_default());
    phys_write(m, 0x5000, 4, 0xdeadbeef);
    uint64_t v = 0;
    assert_int_equal(try_read(0x5000, 4, &v), NOFAULT);
    assert_int_equal(v, 0xdeadbeef);
    assert_int_equal(try_write(0x5ffe, 4, 0x11223344), NOFAULT); /* crosses a page */
    assert_int_equal(phys_read(m, 0x5ffe, 4), 0x11223344);
    /* the TLB now serves the page on the fast path */
    assert_int_equal(lin_read32(c, 0x5000), 0xdeadbeef);
    assert_int_equal(c->tlb[5].tag_r, 0x5000);
    /* CR4.SMEP/SMAP mean nothing without paging: still fast */
    c->cr4 = CR4_SMEP | CR4_SMAP;
    tlb_flush_all(c);
    assert_int_equal(lin_read32(c, 0x5000), 0xdeadbeef);
    assert_int_equal(mmu_translate_fetch(c, 0x5000), 0x5000);
    assert_int_equal(c->tlb[5].tag_r, 0x5000);
    assert_int_equal(c->tlb[5].tag_x, 0x5000);
}

static void test_4level_4k_translation_and_accessed_bits(void **state)
{
    new_machine(cpu_model_default());
    enter_long_mode();
    uint64_t la = 0x00007f1234567000ull;
    uint64_t pte = map64(la, 0x300000, 1, P | RW, P | RW);
    phys_write(m, 0x300abc, 4, 0xcafef00d);
    uint64_t v;
    assert_int_equal(try_read(la + 0xabc, 4, &v), NOFAULT);
    assert_int_equal(v, 0xcafef00d);
    for (int l = 4; l >= 1; l--)
        assert_true(phys_read(m, entry64(la, l), 8) & A);
    assert_false(phys_read(m, pte, 8) & D); /* a read does not dirty */
    /* the first write through the cached entry sets D (TLB_SLOW_DIRTY) */
    assert_true(c->tlb[(la >> 12) & (TLB_SIZE - 1)].tag_w & TLB_SLOW_DIRTY);
    assert_int_equal(try_write(la + 8, 4, 1), NOFAULT);
    assert_true(phys_read(m, pte, 8) & D);
    assert_false(phys_read(m, entry64(la, 2), 8) & D); /* only the leaf gets D */
    assert_int_equal(c->tlb[(la >> 12) & (TLB_SIZE - 1)].tag_w, la);
}

static void test_4level_large_pages(void **state)
{
    new_machine(cpu_model_default());
    enter_long_mode();
    uint64_t la2m = 0x40200000ull, la1g = 0x8000000000ull;
    uint64_t pde = map64(la2m, 0x800000, 2, P | RW, P | RW);
    uint64_t pdpte = map64(la1g, 0x0, 3, P | RW, P | RW);
    phys_write(m, 0x812345, 4, 0x2a2a);
    phys_write(m, 0x3456780, 4, 0x1616);
    uint64_t v, pa;
    assert_int_equal(try_read(la2m + 0x12345, 4, &v), NOFAULT);
    assert_int_equal(v, 0x2a2a);
    assert_int_equal(try_read(la1g + 0x3456780, 4, &v), NOFAULT);
    assert_int_equal(v, 0x1616);
    assert_int_equal(try_write(la1g + 0x3456780, 4, 7), NOFAULT);
    assert_true(phys_read(m, pdpte, 8) & D);
    assert_false(phys_read(m, pde, 8) & D);
    assert_int_equal(mmu_probe(c, la1g + 0x3fffffff, ACC_READ, 0, &pa), 0);
    assert_int_equal(pa, 0x3fffffff);
}

static void test_4level_not_present_error_codes(void **state)
{
    new_machine(cpu_model_default());
    enter_long_mode();
    uint64_t la = 0x1000000;
    assert_int_equal(rd_err(la), 0);
    assert_int_equal(c->pf_addr, la); /* CR2 itself is written when the #PF is delivered */
    assert_int_equal(wr_err(la), PF_W);
    set_cpl(3);
    assert_int_equal(rd_err(la), PF_U);
    assert_int_equal(wr_err(la), PF_W | PF_U);
    assert_int_equal(fetch_err(la), PF_U | PF_I); /* I/D: PAE-type paging with NXE = 1 */
    set_cpl(0);
    c->efer &= ~EFER_NXE;
    tlb_flush_all(c);
    assert_int_equal(fetch_err(la), 0); /* no I/D without NXE or SMEP */
    c->cr4 |= CR4_SMEP;
    assert_int_equal(fetch_err(la), PF_I);
}

static void test_4level_reserved_bits(void **state)
{
    new_machine(cpu_model_default()); /* MAXPHYADDR 46 */
    enter_long_mode();
    uint64_t la = 0x2000000;
    uint64_t pte = map64(la, 0x300000, 1, P | RW, P | RW);
    uint64_t pa;
    assert_int_equal(mmu_probe(c, la, ACC_READ, 0, &pa), 0);
    /* bit 46 (= MAXPHYADDR) in the PTE is reserved; bit 52 (ignored) is not */
    phys_write(m, pte, 8, 0x300000 | P | RW | (1ull << 46));
    assert_int_equal(rd_err(la), PF_P | PF_RSVD);
    assert_int_equal(wr_err(la), PF_P | PF_RSVD | PF_W);
    phys_write(m, pte, 8, 0x300000 | P | RW | (1ull << 52));
    tlb_flush_all(c);
    assert_int_equal(rd_err(la), NOFAULT);
    /* XD with EFER.NXE = 0 is reserved */
    phys_write(m, pte, 8, 0x300000 | P | RW | XD);
    c->efer &= ~EFER_NXE;
    tlb_flush_all(c);
    assert_int_equal(rd_err(la), PF_P | PF_RSVD);
    c->efer |= EFER_NXE;
    assert_int_equal(rd_err(la), NOFAULT);
    /* PS in a PML4E is reserved */
    uint64_t pml4e = entry64(la, 4);
    uint64_t old = phys_read(m, pml4e, 8);
    phys_write(m, pml4e, 8, old | PS);
    tlb_flush_all(c);
    assert_int_equal(rd_err(la), PF_P | PF_RSVD);
    phys_write(m, pml4e, 8, old);
    /* a 2 MiB PDE with bits 20:13 set */
    uint64_t la2 = 0x40000000;
    uint64_t pde = map64(la2, 0x600000 | (1ull << 13), 2, P | RW, P | RW);
    assert_int_equal(rd_err(la2), PF_P | PF_RSVD);
    /* bit 12 of a large-page entry is PAT, not reserved */
    phys_write(m, pde, 8, 0x600000 | (1ull << 12) | P | RW | PS);
    assert_int_equal(rd_err(la2), NOFAULT);
    /* a reserved bit in a not-present entry does not matter */
    phys_write(m, pte, 8, (1ull << 46));
    tlb_flush_all(c);
    assert_int_equal(rd_err(la), 0);
}

static void test_1g_pages_need_the_feature(void **state)
{
    new_machine(cpu_model_find("core2")); /* no 1 GiB pages, MAXPHYADDR 36 */
    enter_long_mode();
    uint64_t la = 0x8000000000ull;
    map64(la, 0, 3, P | RW, P | RW);
    assert_int_equal(rd_err(la), PF_P | PF_RSVD);
    /* MAXPHYADDR 36: bit 36 is reserved */
    uint64_t la2 = 0x200000;
    map64(la2, 1ull << 36, 1, P | RW, P | RW);
    assert_int_equal(rd_err(la2), PF_P | PF_RSVD);
}

static void test_user_supervisor_and_write_protect(void **state)
{
    new_machine(cpu_model_default());
    enter_long_mode();
    uint64_t sup = 0x10000000, ro = 0x10001000, user_rw = 0x10002000, ro_dir = 0x40000000;
    map64(sup, 0x300000, 1, P | RW, P | RW | US);
    map64(ro, 0x301000, 1, P | US, P | RW | US);
    map64(user_rw, 0x302000, 1, P | RW | US, P | RW | US);
    map64(ro_dir, 0x303000, 1, P | RW | US, P | US); /* R/W = 0 in the upper levels */
    set_cpl(3);
    assert_int_equal(rd_err(sup), PF_P | PF_U);
    assert_int_equal(wr_err(sup), PF_P | PF_W | PF_U);
    assert_int_equal(rd_err(ro), NOFAULT);
    assert_int_equal(wr_err(ro), PF_P | PF_W | PF_U);
    assert_int_equal(wr_err(user_rw), NOFAULT);
    assert_int_equal(wr_err(ro_dir), PF_P | PF_W | PF_U);
    set_cpl(0);
    assert_int_equal(wr_err(ro), PF_P | PF_W); /* CR0.WP = 1 */
    assert_int_equal(wr_err(ro_dir), PF_P | PF_W);
    c->cr0 &= ~CR0_WP;
    tlb_flush_all(c);
    assert_int_equal(wr_err(ro), NOFAULT);
    assert_int_equal(wr_err(ro_dir), NOFAULT);
    /* a U/S = 0 upper level makes the page supervisor */
    uint64_t sup_dir = 0x80000000ull;
    map64(sup_dir, 0x304000, 1, P | RW | US, P | RW);
    set_cpl(3);
    assert_int_equal(rd_err(sup_dir), PF_P | PF_U);
}

static void test_supervisor_translations_do_not_leak_to_cpl3(void **state)
{
    new_machine(cpu_model_default());
    enter_long_mode();
    uint64_t sup = 0x10000000, ro = 0x10001000;
    map64(sup, 0x300000, 1, P | RW | D, P | RW | US);
    map64(ro, 0x301000, 1, P | D, P | RW | US);
    lin_write32(c, sup, 1); /* CPL 0 fills the supervisor TLB with a fast write tag */
    set_cpl(3);
    assert_int_equal(rd_err(sup), PF_P | PF_U);
    /* implicit supervisor accesses at CPL 3 may use supervisor pages; WP still applies to their writes */
    uint64_t v;
    assert_int_equal(try_read_sys(sup, &v), NOFAULT);
    assert_int_equal(v, 1);
    if (!setjmp(c->fault_jmp)) {
        lin_write_sys(c, ro, 4, 0);
        fail();
    }
    assert_int_equal(c->ev_err, PF_P | PF_W);
    set_cpl(0);
    assert_int_equal(lin_read32(c, sup), 1);
}

static void test_nx_and_smep(void **state)
{
    new_machine(cpu_model_default());
    enter_long_mode();
    uint64_t nx_page = 0x10000000, user_page = 0x10001000, nx_dir = 0x40000000;
    map64(nx_page, 0x300000, 1, P | RW | XD, P | RW | US);
    map64(user_page, 0x301000, 1, P | RW | US, P | RW | US);
    map64(nx_dir, 0x302000, 1, P | RW, P | RW | XD);
    assert_int_equal(fetch_err(nx_page), PF_P | PF_I);
    assert_int_equal(rd_err(nx_page), NOFAULT);
    assert_int_equal(fetch_err(nx_dir), PF_P | PF_I);
    uint64_t pa;
    assert_int_equal(try_fetch(user_page + 5, &pa), NOFAULT); /* SMEP off */
    assert_int_equal(pa, 0x301005);
    c->cr4 |= CR4_SMEP;
    tlb_flush_all(c);
    assert_int_equal(fetch_err(user_page), PF_P | PF_I);
    assert_int_equal(rd_err(user_page), NOFAULT);
    set_cpl(3);
    assert_int_equal(fetch_err(user_page), NOFAULT);
    assert_int_equal(fetch_err(nx_page), PF_P | PF_U | PF_I);
}

static void test_smap(void **state)
{
    new_machine(cpu_model_default());
    enter_long_mode();
    uint64_t user_page = 0x10001000, sup_page = 0x10002000;
    map64(user_page, 0x301000, 1, P | RW | US, P | RW | US);
    map64(sup_page, 0x302000, 1, P | RW, P | RW | US);
    c->cr4 |= CR4_SMAP;
    tlb_flush_all(c);
    c->rflags &= ~(uint64_t)F_AC;
    assert_int_equal(rd_err(user_page), PF_P);
    assert_int_equal(wr_err(user_page), PF_P | PF_W);
    assert_int_equal(rd_err(sup_page), NOFAULT);
    c->rflags |= F_AC; /* STAC: no TLB flush in between */
    assert_int_equal(rd_err(user_page), NOFAULT);
    assert_int_equal(wr_err(user_page), NOFAULT);
    c->rflags &= ~(uint64_t)F_AC;
    assert_int_equal(rd_err(user_page), PF_P);
    /* implicit supervisor accesses ignore AC, also at CPL 3 (and the error code says supervisor) */
    uint64_t v;
    c->rflags |= F_AC;
    assert_int_equal(try_read_sys(user_page, &v), PF_P);
    set_cpl(3);
    assert_int_equal(rd_err(user_page), NOFAULT);
    assert_int_equal(try_read_sys(user_page, &v), PF_P);
    assert_int_equal(try_read_sys(sup_page, &v), NOFAULT);
    /* without SMAP, implicit accesses at CPL 3 may read supervisor and user pages */
    c->cr4 &= ~CR4_SMAP;
    tlb_flush_all(c);
    assert_int_equal(try_read_sys(user_page, &v), NOFAULT);
}

static void test_paging32_4k_and_4m(void **state)
{
    new_machine(cpu_model_default());
    enter_paging32(CR4_PSE);
    uint64_t pte = map32(0x00401000, 0x300000, false, P | RW | US, P | RW | US);
    uint64_t pde4m = map32(0x80000000u, 0x00c00000, true, P | RW, 0);
    phys_write(m, 0x300010, 4, 0x32323232);
    phys_write(m, 0xc12344, 4, 0x44444444);
    uint64_t v;
    assert_int_equal(try_read(0x00401010, 4, &v), NOFAULT);
    assert_int_equal(v, 0x32323232);
    assert_true(phys_read(m, pte, 4) & A);
    assert_true(phys_read(m, (c->cr3 & ~0xfffull) + 1 * 4, 4) & A);
    assert_int_equal(try_read(0x80012344, 4, &v), NOFAULT);
    assert_int_equal(v, 0x44444444);
    assert_int_equal(try_write(0x80012344, 4, 1), NOFAULT);
    assert_true(phys_read(m, pde4m, 4) & D);
    /* no XD bit in 32-bit paging: a fetch from a not-present page has no I/D unless SMEP */
    assert_int_equal(fetch_err(0x00800000), 0);
    /* CR4.PSE = 0: PS is ignored and the PDE points to a page table */
    c->cr4 = 0;
    tlb_flush_all(c);
    uint64_t pa;
    phys_write(m, 0x00c00000 + 0x12 * 4, 4, 0x00555000 | P);
    assert_int_equal(mmu_probe(c, 0x80012344, ACC_READ, 0, &pa), 0);
    assert_int_equal(pa, 0x00555344);
}

static void test_paging32_pse36(void **state)
{
    new_machine(cpu_model_default());
    enter_paging32(CR4_PSE);
    uint64_t pa;
    /* PDE bits 20:13 hold physical address bits 39:32; bit 21 is reserved */
    map32(0x40000000, 0x00400000 | (0x5ull << 13), true, P | RW, 0);
    assert_int_equal(mmu_probe(c, 0x40000123, ACC_READ, 0, &pa), 0);
    assert_int_equal(pa, 0x500400123ull);
    map32(0x40000000, 0x00400000 | (1ull << 21), true, P | RW, 0);
    assert_int_equal(mmu_probe(c, 0x40000123, ACC_READ, 0, &pa), (1ull << 31) | PF_P | PF_RSVD);
}

static void test_pae_paging(void **state)
{
    new_machine(cpu_model_default());
    uint64_t pdpt = 0x200020; /* 32-byte aligned */
    uint64_t pd = alloc_table(), pt = alloc_table();
    phys_write(m, pdpt + 8 * 1, 8, pd | P);
    phys_write(m, pd + 8 * 2, 8, pt | P | RW | US);
    phys_write(m, pt + 8 * 3, 8, 0x345000 | P | RW | US);
    phys_write(m, pd + 8 * 5, 8, 0xa00000 | P | RW | PS);
    c->cr4 = CR4_PAE;
    c->cr0 = CR0_PE | CR0_PG | CR0_ET;
    c->cr3 = pdpt;
    assert_true(cpu_load_pdptes(c, c->cr0, c->cr3, c->cr4));
    assert_int_equal(c->pdpte[1], pd | P);
    tlb_flush_all(c);
    uint64_t la = (1u << 30) | (2u << 21) | (3u << 12) | 0x67;
    uint64_t pa;
    assert_int_equal(mmu_probe(c, la, ACC_READ, 1, &pa), 0);
    assert_int_equal(pa, 0x345067);
    uint64_t la2m = (1u << 30) | (5u << 21) | 0x1234;
    assert_int_equal(mmu_probe(c, la2m, ACC_READ, 0, &pa), 0);
    assert_int_equal(pa, 0xa01234);
    assert_int_equal(rd_err(la), NOFAULT);
    assert_true(phys_read(m, pd + 8 * 2, 8) & A);
    assert_false(phys_read(m, pdpt + 8, 8) & A); /* PDPTEs are registers: no A bit */
    /* a not-present PDPTE register faults with P = 0 */
    assert_int_equal(rd_err(0), 0);
    /* PAE PTE bits 62:MAXPHYADDR are reserved (no ignored bits 62:52 as in 4-level) */
    phys_write(m, pt + 8 * 3, 8, 0x345000 | P | RW | US | (1ull << 55));
    tlb_flush_all(c);
    assert_int_equal(rd_err(la), PF_P | PF_RSVD);
    /* XD without NXE is reserved; with NXE it is execute-disable */
    phys_write(m, pt + 8 * 3, 8, 0x345000 | P | RW | US | XD);
    assert_int_equal(rd_err(la), PF_P | PF_RSVD);
    c->efer |= EFER_NXE;
    assert_int_equal(rd_err(la), NOFAULT);
    assert_int_equal(fetch_err(la), PF_P | PF_I);
    /* reserved bits in a present PDPTE make the load fail and leave the registers alone */
    phys_write(m, pdpt + 8 * 2, 8, 0x300000 | P | (1ull << 1));
    assert_false(cpu_load_pdptes(c, c->cr0, c->cr3, c->cr4));
    assert_int_equal(c->pdpte[2], 0);
    phys_write(m, pdpt + 8 * 2, 8, 0x300000 | (1ull << 1)); /* not present: fine */
    assert_true(cpu_load_pdptes(c, c->cr0, c->cr3, c->cr4));
    phys_write(m, pdpt + 8 * 2, 8, 0x300000 | P | (1ull << 46));
    assert_false(cpu_load_pdptes(c, c->cr0, c->cr3, c->cr4));
}

static void test_tlb_caches_until_invlpg(void **state)
{
    new_machine(cpu_model_default());
    enter_long_mode();
    uint64_t la = 0x10000000;
    uint64_t pte = map64(la, 0x300000, 1, P | RW, P | RW);
    phys_write(m, 0x300000, 4, 1);
    phys_write(m, 0x301000, 4, 2);
    assert_int_equal(lin_read32(c, la), 1);
    phys_write(m, pte, 8, 0x301000 | P | RW | A);
    assert_int_equal(lin_read32(c, la), 1); /* stale until invalidated */
    tlb_flush_page(c, la);
    assert_int_equal(lin_read32(c, la), 2);
    /* INVLPG of any address in a 2 MiB page drops all of its 4 KiB pieces */
    uint64_t big = 0x40000000;
    uint64_t pde = map64(big, 0x600000, 2, P | RW, P | RW);
    phys_write(m, 0x600000 + 0x5000, 4, 5);
    phys_write(m, 0x800000 + 0x5000, 4, 6);
    assert_int_equal(lin_read32(c, big + 0x5000), 5);
    phys_write(m, pde, 8, 0x800000 | P | RW | PS | A);
    tlb_flush_page(c, big + 0x1ff000);
    assert_int_equal(lin_read32(c, big + 0x5000), 6);
}

static void test_global_pages_and_pcid(void **state)
{
    new_machine(cpu_model_default());
    enter_long_mode();
    c->cr4 |= CR4_PGE | CR4_PCIDE;
    c->cr3 |= 5; /* PCID 5 */
    uint64_t glob = 0x10000000, loc = 0x10001000;
    uint64_t gpte = map64(glob, 0x300000, 1, P | RW | G, P | RW);
    uint64_t lpte = map64(loc, 0x301000, 1, P | RW, P | RW);
    phys_write(m, 0x300000, 4, 1);
    phys_write(m, 0x301000, 4, 2);
    phys_write(m, 0x302000, 4, 3);
    assert_int_equal(lin_read32(c, glob), 1);
    assert_int_equal(lin_read32(c, loc), 2);
    phys_write(m, gpte, 8, 0x302000 | P | RW | G | A);
    phys_write(m, lpte, 8, 0x302000 | P | RW | A);
    /* MOV CR3 with bit 63 (no flush) and the same PCID keeps everything */
    tlb_flush_cr3(c, 5, true);
    assert_int_equal(lin_read32(c, glob), 1);
    assert_int_equal(lin_read32(c, loc), 2);
    /* switching PCID keeps only global translations */
    tlb_flush_cr3(c, 6, true);
    assert_int_equal(lin_read32(c, glob), 1);
    assert_int_equal(lin_read32(c, loc), 3);
    phys_write(m, lpte, 8, 0x301000 | P | RW | A);
    /* INVPCID single-context keeps globals; all-context drops them */
    tlb_flush_pcid(c, 5, 1);
    assert_int_equal(lin_read32(c, glob), 1);
    assert_int_equal(lin_read32(c, loc), 2);
    tlb_flush_page_pcid(c, loc, 5);
    phys_write(m, lpte, 8, 0x302000 | P | RW | A);
    assert_int_equal(lin_read32(c, loc), 3);
    tlb_flush_all(c);
    assert_int_equal(lin_read32(c, glob), 3);
    /* without CR4.PGE, G is ignored: a CR3 load drops the page */
    c->cr4 &= ~CR4_PGE;
    phys_write(m, gpte, 8, 0x300000 | P | RW | G | A);
    tlb_flush_all(c);
    assert_int_equal(lin_read32(c, glob), 1);
    phys_write(m, gpte, 8, 0x302000 | P | RW | G | A);
    tlb_flush_nonglobal(c);
    assert_int_equal(lin_read32(c, glob), 3);
}

static void test_page_crossing_write_checks_both_pages_first(void **state)
{
    new_machine(cpu_model_default());
    enter_long_mode();
    uint64_t la = 0x10000000;
    map64(la, 0x300000, 1, P | RW, P | RW);
    map64(la + 0x1000, 0x301000, 1, P, P | RW); /* read-only */
    phys_write(m, 0x300ffc, 4, 0x11111111);
    phys_write(m, 0x301000, 4, 0x22222222);
    uint64_t v;
    assert_int_equal(try_read(la + 0xffe, 4, &v), NOFAULT);
    assert_int_equal(v, 0x22221111);
    assert_int_equal(wr_err(la + 0xffe), PF_P | PF_W);
    assert_int_equal(c->pf_addr, la + 0x1000);
    assert_int_equal(phys_read(m, 0x300ffc, 4), 0x11111111); /* nothing written */
    uint8_t blk[16];
    for (int k = 0; k < 16; k++)
        blk[k] = (uint8_t)k;
    if (!setjmp(c->fault_jmp)) {
        lin_write_bytes(c, la + 0xff8, blk, 16);
        fail();
    }
    assert_int_equal(phys_read(m, 0x300ff8, 8), 0x1111111100000000ull);
    /* a block spanning three pages, the last one read-only: nothing is written */
    static uint8_t big[9000];
    memset(big, 0xee, sizeof big);
    map64(la + 0x1000, 0x301000, 1, P | RW, P | RW);
    map64(la + 0x2000, 0x302000, 1, P | RW, P | RW);
    map64(la + 0x3000, 0x303000, 1, P, P | RW);
    tlb_flush_all(c);
    if (!setjmp(c->fault_jmp)) {
        lin_write_bytes(c, la + 0x1100, big, (int)sizeof big);
        fail();
    }
    assert_int_equal(c->pf_addr, la + 0x3000);
    assert_int_equal(phys_read(m, 0x302000, 8), 0);
    map64(la + 0x3000, 0x303000, 1, P | RW, P | RW);
    tlb_flush_all(c);
    lin_write_bytes(c, la + 0x1100, big, (int)sizeof big);
    uint8_t back[9000];
    lin_read_bytes(c, la + 0x1100, back, (int)sizeof back);
    assert_memory_equal(back, big, sizeof big);
    assert_int_equal(phys_read(m, 0x303000 + (0x1100 + 9000 - 0x3000) - 1, 1), 0xee);
    /* a 64-bit access running off the canonical range raises #GP(0) */
    uint64_t top = 0x00007ffffffff000ull;
    map64(top, 0x302000, 1, P | RW, P | RW);
    assert_int_equal(try_read(top + 0xffc, 8, &v), 0x100 | EXC_GP);
}

static uint64_t mmio_last_addr;
static int mmio_last_size, mmio_reads;
static uint64_t mmio_rd(void *opaque, uint64_t addr, int size)
{
    mmio_last_addr = addr;
    mmio_last_size = size;
    mmio_reads++;
    return 0xabcd1234;
}
static void mmio_wr(void *opaque, uint64_t addr, int size, uint64_t val)
{
    mmio_last_addr = addr;
    mmio_last_size = size;
    *(uint64_t *)opaque = val;
}

static void test_mmio_goes_through_the_bus(void **state)
{
    new_machine(cpu_model_default());
    uint64_t written = 0;
    mmio_register(m, 0xfee00000, 0x1000, mmio_rd, mmio_wr, &written);
    enter_long_mode();
    uint64_t la = 0x20000000;
    map64(la, 0xfee00000, 1, P | RW, P | RW);
    assert_int_equal(lin_read32(c, la + 0x20), 0xabcd1234);
    assert_int_equal(mmio_last_addr, 0x20);
    assert_int_equal(mmio_last_size, 4);
    assert_true(c->tlb[(la >> 12) & (TLB_SIZE - 1)].tag_r & TLB_SLOW_MMIO);
    lin_read32(c, la + 0x20);
    assert_int_equal(mmio_reads, 2); /* never cached */
    lin_write16(c, la + 0x30, 0x5555);
    assert_int_equal(written, 0x5555);
    assert_int_equal(mmio_last_size, 2);
}

static void test_code_page_makes_write_tags_slow(void **state)
{
    new_machine(cpu_model_default());
    enter_long_mode();
    uint64_t la = 0x10000000;
    map64(la, 0x300000, 1, P | RW | D, P | RW);
    lin_write32(c, la, 1);
    tlb_entry_t *e = &c->tlb[(la >> 12) & (TLB_SIZE - 1)];
    assert_int_equal(e->tag_w, la);
    m->code_pages[0x300] = 1;
    tlb_code_page_added(m, 0x300000);
    assert_true(e->tag_w & TLB_SLOW_CODE);
    assert_int_equal(e->tag_r, la); /* reads stay fast */
}

static void test_probe_has_no_side_effects(void **state)
{
    new_machine(cpu_model_default());
    enter_long_mode();
    uint64_t la = 0x10000000;
    uint64_t pte = map64(la, 0x300000, 1, P, P | RW);
    uint64_t pa;
    assert_int_equal(mmu_probe(c, la + 4, ACC_READ, 0, &pa), 0);
    assert_int_equal(pa, 0x300004);
    assert_int_equal(mmu_probe(c, la, ACC_WRITE, 1, &pa), (1ull << 31) | PF_P | PF_W | PF_U);
    assert_false(phys_read(m, pte, 8) & A);
    assert_int_not_equal(c->tlb[(la >> 12) & (TLB_SIZE - 1)].tag_r, la); /* nothing cached */
}

/* ---- the instructions (emu/exec_cr.c) ---- */

static int exec(const uint8_t *bytes, int n)
{
    static dinsn_t d;
    int len = fx_bind(&d, bytes, (size_t)n, (enum x86_mode)c->dmode);
    if (len == X86_ERR_UD)
        return 0x100 | EXC_UD;
    assert_true(len > 0);
    int v = fx_exec_at(c, d.fn, &d, c->rip);
    return v < 0 ? NOFAULT : 0x100 | v;
}
#define EXEC(...) exec(FX_BYTES(__VA_ARGS__))
#define GP (0x100 | EXC_GP)
#define UD (0x100 | EXC_UD)
#define MOV_CR0_RAX 0x0f, 0x22, 0xc0
#define MOV_CR3_RAX 0x0f, 0x22, 0xd8
#define MOV_CR4_RAX 0x0f, 0x22, 0xe0
#define MOV_RAX_CR0 0x0f, 0x20, 0xc0

static void test_mov_cr0_checks(void **state)
{
    new_machine(cpu_model_default());
    /* real mode: MOV CR0 enters protected mode */
    c->gpr[R_RAX] = CR0_PE | (1u << 6); /* bit 6 is reserved: ignored, reads 0 */
    assert_int_equal(EXEC(MOV_CR0_RAX), NOFAULT);
    assert_int_equal(c->cr0, CR0_PE | CR0_ET); /* ET is hardwired */
    assert_int_equal(c->mode, MODE_PROT16);
    assert_true(c->stop & STOP_MODE);
    c->gpr[R_RAX] = CR0_PG;
    assert_int_equal(EXEC(MOV_CR0_RAX), GP); /* PG without PE */
    c->gpr[R_RAX] = CR0_PE | CR0_NW;
    assert_int_equal(EXEC(MOV_CR0_RAX), GP); /* NW without CD */
    c->gpr[R_RAX] = CR0_PE | CR0_NW | CR0_CD;
    assert_int_equal(EXEC(MOV_CR0_RAX), NOFAULT);
    /* LME with PAE off: enabling paging is #GP */
    c->efer = EFER_LME;
    c->gpr[R_RAX] = CR0_PE | CR0_PG;
    assert_int_equal(EXEC(MOV_CR0_RAX), GP);
    assert_false(c->cr0 & CR0_PG);
    c->cpl = 3;
    assert_int_equal(EXEC(MOV_RAX_CR0), GP);
    assert_int_equal(EXEC(0x0f, 0x22, 0xc8), UD); /* CR1 (the decoder or the handler) */
}

static void test_entering_and_leaving_long_mode(void **state)
{
    new_machine(cpu_model_default());
    uint64_t pml4 = alloc_table();
    c->cr0 = CR0_PE | CR0_ET;
    c->seg[S_CS].ar = AR_P | AR_S | AR_DB | 0xb;
    cpu_update_mode(c);
    c->gpr[R_RAX] = pml4;
    assert_int_equal(EXEC(MOV_CR3_RAX), NOFAULT);
    c->gpr[R_RAX] = CR4_PAE;
    assert_int_equal(EXEC(MOV_CR4_RAX), NOFAULT);
    assert_true(msr_write(c, MSR_IA32_EFER, EFER_LME));
    c->gpr[R_RAX] = CR0_PE | CR0_PG;
    assert_int_equal(EXEC(MOV_CR0_RAX), NOFAULT);
    assert_true(c->efer & EFER_LMA);
    assert_int_equal(c->mode, MODE_COMPAT32);
    /* clearing PAE in IA-32e mode is #GP */
    c->gpr[R_RAX] = 0;
    assert_int_equal(EXEC(MOV_CR4_RAX), GP);
    /* in 64-bit mode paging cannot be turned off */
    c->seg[S_CS].ar = AR_P | AR_S | AR_L | 0xb;
    cpu_update_mode(c);
    c->gpr[R_RAX] = CR0_PE;
    assert_int_equal(EXEC(MOV_CR0_RAX), GP);
    /* from compatibility mode it can: IA-32e mode ends */
    c->seg[S_CS].ar = AR_P | AR_S | AR_DB | 0xb;
    cpu_update_mode(c);
    assert_int_equal(EXEC(MOV_CR0_RAX), NOFAULT);
    assert_false(c->efer & EFER_LMA);
    assert_int_equal(c->mode, MODE_PROT32);
}

static void test_mov_cr3_and_cr4_checks(void **state)
{
    new_machine(cpu_model_default());
    enter_long_mode();
    uint64_t root = c->cr3;
    c->gpr[R_RAX] = root | (1ull << 46); /* above MAXPHYADDR */
    assert_int_equal(EXEC(MOV_CR3_RAX), GP);
    c->gpr[R_RAX] = root | (1ull << 63); /* no-flush bit without PCIDE: reserved */
    assert_int_equal(EXEC(MOV_CR3_RAX), GP);
    assert_int_equal(c->cr3, root);
    c->gpr[R_RAX] = c->cr4 | CR4_SMXE; /* SMX is not offered */
    assert_int_equal(EXEC(MOV_CR4_RAX), GP);
    c->gpr[R_RAX] = c->cr4 | (1ull << 32);
    assert_int_equal(EXEC(MOV_CR4_RAX), GP);
    /* PCIDE needs CR3[11:0] = 0 */
    c->cr3 = root | 1;
    c->gpr[R_RAX] = c->cr4 | CR4_PCIDE;
    assert_int_equal(EXEC(MOV_CR4_RAX), GP);
    c->cr3 = root;
    assert_int_equal(EXEC(MOV_CR4_RAX), NOFAULT);
    /* with PCIDE, bit 63 selects no-flush and is not stored */
    uint64_t la = 0x10000000;
    map64(la, 0x300000, 1, P | RW, P | RW);
    lin_read32(c, la);
    c->gpr[R_RAX] = root | (1ull << 63);
    assert_int_equal(EXEC(MOV_CR3_RAX), NOFAULT);
    assert_int_equal(c->cr3, root);
    assert_int_equal(c->tlb[(la >> 12) & (TLB_SIZE - 1)].tag_r, la); /* kept */
    c->gpr[R_RAX] = root;
    assert_int_equal(EXEC(MOV_CR3_RAX), NOFAULT);
    assert_int_not_equal(c->tlb[(la >> 12) & (TLB_SIZE - 1)].tag_r, la); /* flushed */
    /* paging cannot be turned off with PCIDE set, even from compatibility mode */
    c->seg[S_CS].ar = AR_P | AR_S | AR_DB | 0xb;
    cpu_update_mode(c);
    c->gpr[R_RAX] = CR0_PE;
    assert_int_equal(EXEC(MOV_CR0_RAX), GP);
    /* CR8: bits 63:4 reserved */
    c->seg[S_CS].ar = AR_P | AR_S | AR_L | 0xb;
    cpu_update_mode(c);
    c->gpr[R_RAX] = 9;
    assert_int_equal(EXEC(0x44, 0x0f, 0x22, 0xc0), NOFAULT);
    assert_int_equal(c->cr8, 9);
    c->gpr[R_RAX] = 16;
    assert_int_equal(EXEC(0x44, 0x0f, 0x22, 0xc0), GP);
    assert_int_equal(EXEC(0x44, 0x0f, 0x20, 0xc1), NOFAULT); /* mov rcx, cr8 */
    assert_int_equal(c->gpr[R_RCX], 9);
}

static void test_cr4_bits_follow_the_model(void **state)
{
    new_machine(cpu_model_find("core2"));
    c->cr0 = CR0_PE | CR0_ET;
    cpu_update_mode(c);
    c->gpr[R_RAX] = CR4_SMEP;
    assert_int_equal(EXEC(MOV_CR4_RAX), GP);
    c->gpr[R_RAX] = CR4_OSXSAVE;
    assert_int_equal(EXEC(MOV_CR4_RAX), GP);
    c->gpr[R_RAX] = CR4_PAE | CR4_PGE | CR4_PSE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_DE | CR4_TSD;
    assert_int_equal(EXEC(MOV_CR4_RAX), NOFAULT);
    /* PCIDE outside IA-32e mode is #GP even on a model that has it */
    machine_free(m);
    new_machine(cpu_model_default());
    c->cr0 = CR0_PE | CR0_ET;
    cpu_update_mode(c);
    c->gpr[R_RAX] = CR4_PAE | CR4_PCIDE;
    assert_int_equal(EXEC(MOV_CR4_RAX), GP);
}

static void test_pae_pdptes_loaded_by_mov_cr(void **state)
{
    new_machine(cpu_model_default());
    uint64_t pdpt = 0x200000, pd = alloc_table();
    phys_write(m, pdpt, 8, pd | P);
    c->cr0 = CR0_PE | CR0_ET;
    c->seg[S_CS].ar = AR_P | AR_S | AR_DB | 0xb;
    cpu_update_mode(c);
    c->gpr[R_RAX] = pdpt;
    assert_int_equal(EXEC(MOV_CR3_RAX), NOFAULT);
    c->gpr[R_RAX] = CR4_PAE;
    assert_int_equal(EXEC(MOV_CR4_RAX), NOFAULT);
    c->gpr[R_RAX] = CR0_PE | CR0_PG;
    assert_int_equal(EXEC(MOV_CR0_RAX), NOFAULT);
    assert_int_equal(c->pdpte[0], pd | P);
    /* MOV CR3 to a table with a reserved bit in a present PDPTE: #GP, CR3 unchanged */
    uint64_t bad = 0x201000;
    phys_write(m, bad + 8, 8, pd | P | (1ull << 5));
    c->gpr[R_RAX] = bad;
    assert_int_equal(EXEC(MOV_CR3_RAX), GP);
    assert_int_equal(c->cr3, pdpt);
    /* the PDPTE registers are not reread until the next load */
    phys_write(m, pdpt, 8, 0);
    assert_int_equal(c->pdpte[0], pd | P);
    c->gpr[R_RAX] = pdpt;
    assert_int_equal(EXEC(MOV_CR3_RAX), NOFAULT);
    assert_int_equal(c->pdpte[0], 0);
}

static void test_mov_dr(void **state)
{
    new_machine(cpu_model_default());
    enter_long_mode();
    c->gpr[R_RAX] = 0;
    assert_int_equal(EXEC(0x0f, 0x23, 0xf0), NOFAULT); /* mov dr6, rax */
    assert_int_equal(c->dr[6], 0xffff0ff0);
    assert_int_equal(EXEC(0x0f, 0x23, 0xe0), NOFAULT); /* mov dr4, rax: DR6 alias */
    c->gpr[R_RAX] = 1ull << 32;
    assert_int_equal(EXEC(0x0f, 0x23, 0xf8), GP); /* DR7 upper half */
    c->gpr[R_RAX] = 0x1dfff; /* all but GD: bits 11, 12, 14, 15 read 0, bit 10 reads 1 */
    assert_int_equal(EXEC(0x0f, 0x23, 0xf8), NOFAULT);
    assert_int_equal(c->dr[7], 0x107ff);
    c->gpr[R_RAX] = 0xffff800000001000ull;
    assert_int_equal(EXEC(0x0f, 0x23, 0xc0), NOFAULT); /* DR0 takes 64 bits */
    assert_int_equal(c->dr[0], 0xffff800000001000ull);
    c->cr4 |= CR4_DE;
    assert_int_equal(EXEC(0x0f, 0x21, 0xe0), UD); /* mov rax, dr4 */
    c->cpl = 3;
    assert_int_equal(EXEC(0x0f, 0x21, 0xf0), GP);
    c->cpl = 0;
    /* DR7.GD: any access is a #DB fault; DR6.BD is set and GD cleared when the
     * #DB is delivered (emu/except.c), not when a VM exit replaces it */
    c->dr[7] |= 1u << 13;
    assert_int_equal(EXEC(0x0f, 0x21, 0xc0), 0x100 | EXC_DB);
    assert_int_equal(c->db_pending, DR6_BD);
    assert_int_equal(c->dr[6], 0xffff0ff0);
}

static void test_clts_lmsw_smsw(void **state)
{
    new_machine(cpu_model_default());
    c->cr0 |= CR0_TS;
    assert_int_equal(EXEC(0x0f, 0x06), NOFAULT);
    assert_false(c->cr0 & CR0_TS);
    /* LMSW sets PE (entering protected mode) and MP; it cannot clear PE */
    c->gpr[R_RAX] = 0x3;
    assert_int_equal(EXEC(0x0f, 0x01, 0xf0), NOFAULT);
    assert_int_equal(c->cr0 & 0xf, 0x3);
    assert_int_equal(c->mode, MODE_PROT16);
    c->gpr[R_RAX] = 0x8;
    assert_int_equal(EXEC(0x0f, 0x01, 0xf0), NOFAULT);
    assert_int_equal(c->cr0 & 0xf, 0x9);
    /* SMSW is not privileged */
    c->cpl = 3;
    c->gpr[R_RCX] = ~0ull;
    assert_int_equal(EXEC(0x66, 0x0f, 0x01, 0xe1), NOFAULT); /* 32-bit operand in a 16-bit segment */
    assert_int_equal(c->gpr[R_RCX], (uint32_t)c->cr0);
    assert_int_equal(EXEC(0x0f, 0x06), GP);
    assert_int_equal(EXEC(0x0f, 0x01, 0xf0), GP);
}

static void test_invlpg_and_invpcid(void **state)
{
    new_machine(cpu_model_default());
    enter_long_mode();
    c->cr4 |= CR4_PGE;
    uint64_t la = 0x10000000;
    uint64_t pte = map64(la, 0x300000, 1, P | RW | G, P | RW);
    phys_write(m, 0x301000, 4, 0x77);
    lin_read32(c, la);
    phys_write(m, pte, 8, 0x301000 | P | RW | G | A);
    c->gpr[R_RAX] = la + 0x123;
    assert_int_equal(EXEC(0x0f, 0x01, 0x38), NOFAULT); /* invlpg [rax] */
    assert_int_equal(lin_read32(c, la), 0x77);
    c->gpr[R_RAX] = 0x0000800000000000ull;
    assert_int_equal(EXEC(0x0f, 0x01, 0x38), NOFAULT); /* non-canonical: no-op */
    /* INVPCID type 2 drops globals; type 3 keeps them */
    uint64_t desc = 0x5000;
    phys_write(m, 0x5000, 8, 0);
    phys_write(m, 0x5008, 8, 0);
    map64(desc, desc, 1, P | RW, P | RW);
    phys_write(m, pte, 8, 0x300000 | P | RW | G | A);
    c->gpr[R_RBX] = desc;
    c->gpr[R_RAX] = 3;
    assert_int_equal(EXEC(0x66, 0x0f, 0x38, 0x82, 0x03), NOFAULT);
    assert_int_equal(lin_read32(c, la), 0x77);
    c->gpr[R_RAX] = 2;
    assert_int_equal(EXEC(0x66, 0x0f, 0x38, 0x82, 0x03), NOFAULT);
    assert_int_not_equal(lin_read32(c, la), 0x77);
    c->gpr[R_RAX] = 4;
    assert_int_equal(EXEC(0x66, 0x0f, 0x38, 0x82, 0x03), GP);
    /* a non-zero PCID with CR4.PCIDE = 0, reserved descriptor bits, a non-canonical address */
    phys_write(m, 0x5000, 8, 1);
    c->gpr[R_RAX] = 1;
    assert_int_equal(EXEC(0x66, 0x0f, 0x38, 0x82, 0x03), GP);
    phys_write(m, 0x5000, 8, 1ull << 12);
    c->gpr[R_RAX] = 3;
    assert_int_equal(EXEC(0x66, 0x0f, 0x38, 0x82, 0x03), GP);
    phys_write(m, 0x5000, 8, 0);
    phys_write(m, 0x5008, 8, 0x0000800000000000ull);
    c->gpr[R_RAX] = 0;
    assert_int_equal(EXEC(0x66, 0x0f, 0x38, 0x82, 0x03), GP);
    c->cpl = 3;
    assert_int_equal(EXEC(0x0f, 0x01, 0x38), GP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_paging_off_is_identity, teardown),
        cmocka_unit_test_teardown(test_4level_4k_translation_and_accessed_bits, teardown),
        cmocka_unit_test_teardown(test_4level_large_pages, teardown),
        cmocka_unit_test_teardown(test_4level_not_present_error_codes, teardown),
        cmocka_unit_test_teardown(test_4level_reserved_bits, teardown),
        cmocka_unit_test_teardown(test_1g_pages_need_the_feature, teardown),
        cmocka_unit_test_teardown(test_user_supervisor_and_write_protect, teardown),
        cmocka_unit_test_teardown(test_supervisor_translations_do_not_leak_to_cpl3, teardown),
        cmocka_unit_test_teardown(test_nx_and_smep, teardown),
        cmocka_unit_test_teardown(test_smap, teardown),
        cmocka_unit_test_teardown(test_paging32_4k_and_4m, teardown),
        cmocka_unit_test_teardown(test_paging32_pse36, teardown),
        cmocka_unit_test_teardown(test_pae_paging, teardown),
        cmocka_unit_test_teardown(test_tlb_caches_until_invlpg, teardown),
        cmocka_unit_test_teardown(test_global_pages_and_pcid, teardown),
        cmocka_unit_test_teardown(test_page_crossing_write_checks_both_pages_first, teardown),
        cmocka_unit_test_teardown(test_mmio_goes_through_the_bus, teardown),
        cmocka_unit_test_teardown(test_code_page_makes_write_tags_slow, teardown),
        cmocka_unit_test_teardown(test_probe_has_no_side_effects, teardown),
        cmocka_unit_test_teardown(test_mov_cr0_checks, teardown),
        cmocka_unit_test_teardown(test_entering_and_leaving_long_mode, teardown),
        cmocka_unit_test_teardown(test_mov_cr3_and_cr4_checks, teardown),
        cmocka_unit_test_teardown(test_cr4_bits_follow_the_model, teardown),
        cmocka_unit_test_teardown(test_pae_pdptes_loaded_by_mov_cr, teardown),
        cmocka_unit_test_teardown(test_mov_dr, teardown),
        cmocka_unit_test_teardown(test_clts_lmsw_smsw, teardown),
        cmocka_unit_test_teardown(test_invlpg_and_invpcid, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
