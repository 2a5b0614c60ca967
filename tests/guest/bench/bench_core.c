/* bench_core.c - a fixed integer workload: table CRC-32, a sieve of
 * Eratosthenes, quicksort of pseudo-random data, a small bytecode
 * interpreter (switch dispatch), and call-heavy recursion. Each kernel's
 * result is reported, so a wrong instruction anywhere shows as a mismatch. */
#include "bench.h"

#define SIEVE_N 65536
#define SORT_N 8192
#define CRC_LEN 16384

static uint32_t crc_table[256];
static uint8_t crc_buf[CRC_LEN];
static uint8_t composite[SIEVE_N];
static uint32_t sort_buf[SORT_N];

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static uint64_t crc_kernel(uint32_t seed)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    for (int i = 0; i < CRC_LEN; i++)
        crc_buf[i] = (uint8_t)lcg(&seed);
    uint32_t crc = 0xffffffffu;
    for (int i = 0; i < CRC_LEN; i++)
        crc = crc_table[(crc ^ crc_buf[i]) & 0xff] ^ (crc >> 8);
    return crc ^ 0xffffffffu;
}

static uint64_t sieve_kernel(void)
{
    for (int i = 0; i < SIEVE_N; i++)
        composite[i] = 0;
    uint64_t count = 0, sum = 0;
    for (uint32_t i = 2; i < SIEVE_N; i++) {
        if (composite[i])
            continue;
        count++;
        sum += i;
        for (uint32_t j = i * 2; j < SIEVE_N; j += i)
            composite[j] = 1;
    }
    return count << 32 | (sum & 0xffffffffu);
}

static void quicksort(uint32_t *a, int lo, int hi)
{
    while (lo < hi) {
        uint32_t pivot = a[(lo + hi) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                uint32_t t = a[i];
                a[i++] = a[j];
                a[j--] = t;
            }
        }
        /* recurse into the smaller half, loop on the larger */
        if (j - lo < hi - i) {
            quicksort(a, lo, j);
            lo = i;
        } else {
            quicksort(a, i, hi);
            hi = j;
        }
    }
}

static uint64_t sort_kernel(uint32_t seed)
{
    for (int i = 0; i < SORT_N; i++)
        sort_buf[i] = lcg(&seed);
    quicksort(sort_buf, 0, SORT_N - 1);
    uint64_t h = 0;
    for (int i = 0; i < SORT_N; i++) {
        if (i && sort_buf[i - 1] > sort_buf[i])
            return ~0ull; /* not sorted */
        h = h * 31 + sort_buf[i];
    }
    return h;
}

/* A stack machine: each opcode one byte, operands inline. */
enum { OP_PUSH, OP_ADD, OP_SUB, OP_MUL, OP_DUP, OP_SWAP, OP_JNZ, OP_DEC, OP_XOR, OP_SHL, OP_HALT, OP_OVER, OP_DROP };

static uint64_t vm_run(const uint8_t *code, uint64_t arg)
{
    uint64_t st[16];
    int sp = 0;
    st[sp++] = arg;
    for (int pc = 0;;) {
        switch (code[pc++]) {
        case OP_PUSH: st[sp++] = code[pc++]; break;
        case OP_ADD: sp--; st[sp - 1] += st[sp]; break;
        case OP_SUB: sp--; st[sp - 1] -= st[sp]; break;
        case OP_MUL: sp--; st[sp - 1] *= st[sp]; break;
        case OP_XOR: sp--; st[sp - 1] ^= st[sp]; break;
        case OP_SHL: sp--; st[sp - 1] <<= (st[sp] & 63); break;
        case OP_DUP: st[sp] = st[sp - 1]; sp++; break;
        case OP_OVER: st[sp] = st[sp - 2]; sp++; break;
        case OP_DROP: sp--; break;
        case OP_SWAP: { uint64_t t = st[sp - 1]; st[sp - 1] = st[sp - 2]; st[sp - 2] = t; break; }
        case OP_DEC: st[sp - 1]--; break;
        case OP_JNZ: { int8_t off = (int8_t)code[pc++]; if (st[--sp]) pc += off; break; }
        case OP_HALT: default: return st[sp - 1];
        }
    }
}

static uint64_t vm_kernel(void)
{
    /* acc = 1; n = arg; do { acc = (acc * 3) ^ (n << 1) + 7; } while (--n) */
    static const uint8_t prog[] = {
        OP_PUSH, 1,                                         /* n acc */
        /* loop: */
        OP_PUSH, 3, OP_MUL,                                 /* n acc*3 */
        OP_OVER, OP_PUSH, 1, OP_SHL,                        /* n acc*3 n<<1 */
        OP_PUSH, 7, OP_ADD, OP_XOR,                         /* n acc' */
        OP_SWAP, OP_DEC, OP_DUP,                            /* acc' n-1 n-1 */
        OP_JNZ, 2, OP_DROP, OP_HALT,                        /* exit: acc' */
        OP_SWAP, OP_PUSH, 1, OP_JNZ, (uint8_t)-23,          /* n-1 acc' ; jump to loop */
    };
    return vm_run(prog, 20000);
}

static uint64_t fib(unsigned n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

uint64_t bench_run(unsigned iters, bench_report_fn report)
{
    uint64_t sum = 0, v;
    for (unsigned it = 0; it < iters; it++) {
        sum = sum * 7 + (v = crc_kernel(it + 1));
        if (it == 0)
            report("crc32", v);
        sum = sum * 7 + (v = sieve_kernel());
        if (it == 0)
            report("sieve", v);
        sum = sum * 7 + (v = sort_kernel(it + 1));
        if (it == 0)
            report("sort", v);
        sum = sum * 7 + (v = vm_kernel());
        if (it == 0)
            report("bytecode", v);
        sum = sum * 7 + (v = fib(20 + it % 3));
        if (it == 0)
            report("fib", v);
    }
    return sum;
}
