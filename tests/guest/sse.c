/* sse.c - SSE through SSE4.2 as gcc -O2 -msse4.2 emits it: vectorised
 * integer loops, packed and scalar float/double arithmetic, conversions,
 * SSE4.2 CRC32C and PCMPISTRI, PSHUFB, MXCSR. Expected values are closed
 * forms or well-known constants, not recomputed with the same instructions. */
#include "guest.h"

typedef int v4si __attribute__((vector_size(16)));
typedef float v4sf __attribute__((vector_size(16)));
typedef char v16qi __attribute__((vector_size(16)));
typedef long long v2di __attribute__((vector_size(16)));

#define N 1024
static int a[N], b[N], c[N];

__attribute__((noinline, optimize("tree-vectorize"))) static void madd(int n)
{
    for (int i = 0; i < n; i++)
        c[i] = a[i] * b[i] + c[i];
}

__attribute__((noinline, optimize("tree-vectorize"))) static long sum(const int *p, int n)
{
    long s = 0;
    for (int i = 0; i < n; i++)
        s += p[i];
    return s;
}

static uint64_t bits_of(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

int test_main(const struct mb_info *mbi)
{
    uint32_t mx;
    __asm__ volatile("stmxcsr %0" : "=m"(mx));
    CHECK_EQ(mx, 0x1f80);

    for (int i = 0; i < N; i++) {
        a[i] = i;
        b[i] = i;
        c[i] = 1;
    }
    madd(N);
    /* sum of i*i + 1 for i < N = (N-1)N(2N-1)/6 + N */
    CHECK_EQ(sum(c, N), (long)(N - 1) * N * (2 * N - 1) / 6 + N);

    v4sf x = { 1.5f, 2.0f, -3.0f, 0.25f }, y = { 2.0f, 4.0f, 0.5f, 8.0f };
    volatile v4sf z = x * y + x;
    CHECK_EQ((int)(z[0] * 4), 18); /* 4.5 */
    CHECK_EQ((int)z[1], 10);
    CHECK_EQ((int)(z[2] * 2), -9); /* -4.5 */
    CHECK_EQ((int)(z[3] * 4), 9);  /* 2.25 */

    volatile double two = 2.0, three_75 = 3.75, zero = 0.0;
    CHECK_EQ(bits_of(__builtin_sqrt(two)), 0x3ff6a09e667f3bcdull);
    CHECK_EQ((int)(three_75 * 4), 15);
    CHECK_EQ((long)(three_75 * -2), -7);
    CHECK_EQ(bits_of(1.0 / zero), 0x7ff0000000000000ull); /* masked: infinity, no #XM */
    volatile int k = -7;
    CHECK_EQ(bits_of((double)k), 0xc01c000000000000ull);

    /* CRC32C of "123456789" is 0xe3069283 */
    const char *s = "123456789";
    uint32_t crc = 0xffffffffu;
    for (int i = 0; s[i]; i++)
        crc = __builtin_ia32_crc32qi(crc, (uint8_t)s[i]);
    CHECK_EQ(crc ^ 0xffffffffu, 0xe3069283u);

    /* PCMPISTRI, equal-any: index of the first byte of b found in a */
    v16qi set = { 'x', 'd', 0 }, str = { 'a', 'b', 'c', 'd', 'e', 'x', 0 };
    CHECK_EQ(__builtin_ia32_pcmpistri128(set, str, 0), 3);

    /* PSHUFB reverses bytes */
    v16qi bytes = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
    v16qi rev = { 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0 };
    volatile v16qi out = __builtin_ia32_pshufb128(bytes, rev);
    CHECK_EQ(out[0], 15);
    CHECK_EQ(out[15], 0);

    /* PMULLD (SSE4.1) and PCMPGTQ (SSE4.2) */
    v4si p = { 3, -4, 100000, 7 }, q = { 5, 6, 100000, -1 };
    volatile v4si pq = p * q;
    CHECK_EQ(pq[1], -24);
    CHECK_EQ(pq[2], 1410065408); /* 10^10 mod 2^32 */
    v2di g1 = { 5, -3 }, g2 = { 4, 2 };
    volatile v2di gt = __builtin_ia32_pcmpgtq(g1, g2);
    CHECK_EQ(gt[0], -1);
    CHECK_EQ(gt[1], 0);
    printf("SSE: mxcsr 0x%x crc32c 0x%x\n", mx, crc ^ 0xffffffffu);
    return check_result();
}
