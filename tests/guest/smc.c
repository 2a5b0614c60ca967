/* smc.c - self-modifying code: write an instruction, execute it, overwrite
 * it, execute again (the decoded-block cache must notice); patch the very
 * next instruction of the running code; and write code through a second
 * virtual mapping of the same physical page. */
#include "guest.h"

__attribute__((aligned(4096))) static uint8_t code[4096];
__attribute__((aligned(4096))) static uint64_t pt[512];

typedef uint32_t (*fn_t)(void);

static void emit_mov_eax(uint8_t *p, uint32_t imm) /* mov $imm, %eax; ret */
{
    p[0] = 0xb8;
    memcpy(p + 1, &imm, 4);
    p[5] = 0xc3;
}

static uint32_t patch_next(uint8_t v)
{
    uint32_t r;
    /* the store hits the immediate of the MOV that follows it */
    __asm__ volatile("movb %1, 2f+1(%%rip)\n2: movl $0, %0" : "=r"(r) : "r"(v) : "memory");
    return r;
}

int test_main(const struct mb_info *mbi)
{
    fn_t f = (fn_t)code;
    emit_mov_eax(code, 0x11111111);
    CHECK_EQ(f(), 0x11111111);
    emit_mov_eax(code, 0x22222222);
    CHECK_EQ(f(), 0x22222222);
    code[0] = 0x31; /* xor %eax, %eax; ret */
    code[1] = 0xc0;
    code[2] = 0xc3;
    CHECK_EQ(f(), 0);
    for (uint32_t i = 0; i < 100; i++) { /* executed between every write */
        emit_mov_eax(code + 64, i * 3);
        CHECK_EQ(((fn_t)(code + 64))(), i * 3);
    }

    /* patch_next writes a byte into its own instruction stream */
    uint32_t a = patch_next(0x41), b = patch_next(0x42);
    printf("patched next instruction: 0x%x 0x%x\n", a, b);
    CHECK_EQ(a, 0x41);
    CHECK_EQ(b, 0x42);

    /* an alias at 0x40000000 of the page holding code[] */
    pd[512] = (uint64_t)pt | PTE_P | PTE_W;
    pt[0] = (uint64_t)code | PTE_P | PTE_W;
    WRITE_CR(3, READ_CR(3));
    uint8_t *alias = (uint8_t *)0x40000000ull;
    emit_mov_eax(code + 128, 0x33333333);
    CHECK_EQ(((fn_t)(code + 128))(), 0x33333333);
    emit_mov_eax(alias + 128, 0x44444444);
    CHECK_EQ(((fn_t)(code + 128))(), 0x44444444);
    CHECK_EQ(((fn_t)(alias + 128))(), 0x44444444);
    emit_mov_eax(code + 128, 0x55555555);
    CHECK_EQ(((fn_t)(alias + 128))(), 0x55555555);
    return check_result();
}
