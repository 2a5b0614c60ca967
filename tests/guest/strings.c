/* strings.c - string instructions: REP MOVS/STOS of each size, forward and
 * with DF=1 backward, byte-exact overlap semantics, REPE CMPS and REPNE SCAS
 * stopping where the SDM says with the right RCX/RSI/RDI and ZF, a zero count,
 * LODS, and 32-bit address size (ECX/ESI/EDI, upper halves zeroed). */
#include "guest.h"

static uint8_t src[512], dst[512];

struct regs { uint64_t rsi, rdi, rcx, rflags; };

#define STR_OP(op, si, di, cx, r)                                                             \
    __asm__ volatile(op "\n\tpushfq\n\tpopq %3\n\tcld"                                        \
                     : "=S"((r).rsi), "=D"((r).rdi), "=c"((r).rcx), "=r"((r).rflags)          \
                     : "0"(si), "1"(di), "2"(cx), "a"(0x5b)                                   \
                     : "memory")

static void fill(void)
{
    for (int i = 0; i < 512; i++) {
        src[i] = (uint8_t)(i * 7 + 1);
        dst[i] = 0;
    }
}

int test_main(const struct mb_info *mbi)
{
    struct regs r;
    int ok;

    fill();
    STR_OP("rep movsb", src, dst, 100ul, r);
    CHECK_EQ(memcmp(src, dst, 100), 0);
    CHECK_EQ(dst[100], 0);
    CHECK_EQ(r.rcx, 0);
    CHECK_EQ(r.rsi, (uint64_t)(src + 100));
    CHECK_EQ(r.rdi, (uint64_t)(dst + 100));

    fill();
    STR_OP("rep movsq", src, dst, 9ul, r);
    CHECK_EQ(memcmp(src, dst, 72), 0);
    CHECK_EQ(dst[72], 0);
    CHECK_EQ(r.rdi, (uint64_t)(dst + 72));
    fill();
    STR_OP("rep movsw", src, dst, 5ul, r);
    CHECK_EQ(memcmp(src, dst, 10), 0);
    CHECK_EQ(dst[10], 0);
    fill();
    STR_OP("rep movsl", src, dst, 3ul, r);
    CHECK_EQ(memcmp(src, dst, 12), 0);
    CHECK_EQ(r.rsi, (uint64_t)(src + 12));

    /* overlap, forward: byte by byte, so the first byte repeats */
    fill();
    STR_OP("rep movsb", src, src + 1, 50ul, r);
    ok = 1;
    for (int i = 0; i <= 50; i++)
        ok &= src[i] == 1;
    CHECK(ok);

    /* DF=1: backward from the last element */
    fill();
    STR_OP("std; rep movsb", src + 99, dst + 99, 100ul, r);
    CHECK_EQ(memcmp(src, dst, 100), 0);
    CHECK_EQ(r.rsi, (uint64_t)src - 1);
    CHECK_EQ(r.rdi, (uint64_t)dst - 1);
    CHECK_EQ(r.rflags & 0x400, 0x400);
    fill();
    STR_OP("std; rep movsq", src + 64, dst + 64, 4ul, r);
    CHECK_EQ(memcmp(src + 40, dst + 40, 32), 0);
    CHECK_EQ(dst[39], 0);
    CHECK_EQ(r.rdi, (uint64_t)(dst + 32));
    /* overlap, backward: memmove-like shift up */
    fill();
    STR_OP("std; rep movsb", src + 49, src + 59, 50ul, r);
    ok = 1;
    for (int i = 0; i < 50; i++)
        ok &= src[i + 10] == (uint8_t)(i * 7 + 1);
    CHECK(ok);

    /* STOS */
    fill();
    STR_OP("rep stosb", 0ul, dst + 3, 29ul, r);
    CHECK_EQ(dst[2], 0);
    CHECK_EQ(dst[3], 0x5b);
    CHECK_EQ(dst[31], 0x5b);
    CHECK_EQ(dst[32], 0);
    CHECK_EQ(r.rdi, (uint64_t)(dst + 32));
    STR_OP("std; rep stosq", 0ul, dst + 256, 4ul, r);
    CHECK_EQ(*(uint64_t *)(dst + 232), 0x5b);
    CHECK_EQ(*(uint64_t *)(dst + 256), 0x5b);
    CHECK_EQ(*(uint64_t *)(dst + 224), 0);
    CHECK_EQ(r.rdi, (uint64_t)(dst + 224));

    /* count zero: nothing moves, nothing changes */
    fill();
    STR_OP("rep movsb", src, dst, 0ul, r);
    CHECK_EQ(dst[0], 0);
    CHECK_EQ(r.rsi, (uint64_t)src);
    CHECK_EQ(r.rdi, (uint64_t)dst);

    /* REPE CMPSB stops after the first difference */
    fill();
    memcpy(dst, src, 64);
    dst[20] ^= 0xff;
    STR_OP("repe cmpsb", src, dst, 64ul, r);
    CHECK_EQ(r.rcx, 64 - 21);
    CHECK_EQ(r.rsi, (uint64_t)(src + 21));
    CHECK_EQ(r.rflags & 0x40, 0); /* ZF clear: unequal */
    STR_OP("repe cmpsb", src, src, 64ul, r);
    CHECK_EQ(r.rcx, 0);
    CHECK_EQ(r.rflags & 0x40, 0x40);

    /* REPNE SCASB finds AL */
    fill();
    dst[37] = 0x5b;
    STR_OP("repne scasb", 0ul, dst, 100ul, r);
    CHECK_EQ(r.rdi, (uint64_t)(dst + 38));
    CHECK_EQ(r.rcx, 100 - 38);
    CHECK_EQ(r.rflags & 0x40, 0x40);
    STR_OP("repne scasb", 0ul, dst, 30ul, r);
    CHECK_EQ(r.rcx, 0);
    CHECK_EQ(r.rflags & 0x40, 0);

    /* LODSQ */
    uint64_t v, si;
    __asm__ volatile("lodsq" : "=a"(v), "=S"(si) : "1"(src) : "memory");
    CHECK_EQ(v, *(uint64_t *)src);
    CHECK_EQ(si, (uint64_t)(src + 8));

    /* 32-bit address size: ECX counts, ESI/EDI advance, upper halves zeroed */
    fill();
    uint64_t cx = 0xabcd000000000003ull, so = (uint64_t)src | 0x1234000000000000ull,
             dd = (uint64_t)dst | 0x5678000000000000ull;
    __asm__ volatile("addr32 rep movsb" : "+c"(cx), "+S"(so), "+D"(dd)::"memory");
    CHECK_EQ(memcmp(src, dst, 3), 0);
    CHECK_EQ(dst[3], 0);
    CHECK_EQ(cx, 0);
    CHECK_EQ(so, (uint64_t)(src + 3));
    CHECK_EQ(dd, (uint64_t)(dst + 3));
    return check_result();
}
