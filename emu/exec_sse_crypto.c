/* exec_sse_crypto.c - AES-NI (AESENC, AESENCLAST, AESDEC, AESDECLAST, AESIMC,
 * AESKEYGENASSIST) and PCLMULQDQ, which the default CPU model advertises.
 *
 * Plain C from the definitions (SDM Vol. 2 "AESENC" etc. and FIPS-197): the
 * S-boxes are computed once from the GF(2^8) inverse and the affine map, not
 * typed in. The 128-bit state is column-major: byte i is row i % 4, column i / 4.
 */
#include <string.h>

#include "emu/exec_sse.h"

static uint8_t sbox[256], inv_sbox[256];

static uint8_t gf_mul(uint8_t a, uint8_t b)
{
    uint8_t r = 0;
    while (b) {
        if (b & 1)
            r ^= a;
        a = (uint8_t)((a << 1) ^ ((a & 0x80) ? 0x1b : 0));
        b >>= 1;
    }
    return r;
}

static uint8_t rotl8(uint8_t x, int n)
{
    return (uint8_t)((x << n) | (x >> (8 - n)));
}

static void sbox_init(void)
{
    if (sbox[0]) /* S(0) = 0x63, so a zero first entry means "not built yet" */
        return;
    for (int x = 0; x < 256; x++) {
        uint8_t inv = 0;
        for (int y = 1; y < 256 && x; y++)
            if (gf_mul((uint8_t)x, (uint8_t)y) == 1) {
                inv = (uint8_t)y;
                break;
            }
        uint8_t s = (uint8_t)(inv ^ rotl8(inv, 1) ^ rotl8(inv, 2) ^ rotl8(inv, 3) ^ rotl8(inv, 4) ^ 0x63);
        sbox[x] = s;
        inv_sbox[s] = (uint8_t)x;
    }
}

static void sub_bytes(xmm_t *s, const uint8_t *box)
{
    for (int i = 0; i < 16; i++)
        s->b[i] = box[s->b[i]];
}

/* Row r rotates left by r columns (right for the inverse). */
static void shift_rows(xmm_t *s, bool inverse)
{
    xmm_t t;
    for (int r = 0; r < 4; r++)
        for (int col = 0; col < 4; col++) {
            int from = inverse ? (col - r + 4) % 4 : (col + r) % 4;
            t.b[r + 4 * col] = s->b[r + 4 * from];
        }
    *s = t;
}

static void mix_columns(xmm_t *s, const uint8_t m[4])
{
    for (int col = 0; col < 4; col++) {
        uint8_t a[4];
        memcpy(a, s->b + 4 * col, 4);
        for (int r = 0; r < 4; r++)
            s->b[4 * col + r] = gf_mul(a[0], m[(4 - r) % 4]) ^ gf_mul(a[1], m[(5 - r) % 4]) ^
                                gf_mul(a[2], m[(6 - r) % 4]) ^ gf_mul(a[3], m[(7 - r) % 4]);
    }
}
/* First rows of the (circulant) MixColumns and InvMixColumns matrices. */
static const uint8_t mix_fwd[4] = { 2, 3, 1, 1 }, mix_inv[4] = { 0x0e, 0x0b, 0x0d, 0x09 };

enum { AES_ENC, AES_ENCLAST, AES_DEC, AES_DECLAST, AES_IMC };

static void aes_op(cpu_t *c, const dinsn_t *d, int op)
{
    sse_check(c, &d->i);
    xmm_t key;
    sse_read_w(c, &d->i, &key, true);
    sbox_init();
    xmm_t *x = xmm_reg(c, d->i.reg);
    if (op == AES_IMC) {
        *x = key;
        mix_columns(x, mix_inv);
        return;
    }
    bool dec = op == AES_DEC || op == AES_DECLAST;
    shift_rows(x, dec);
    sub_bytes(x, dec ? inv_sbox : sbox);
    if (op == AES_ENC)
        mix_columns(x, mix_fwd);
    else if (op == AES_DEC)
        mix_columns(x, mix_inv);
    x->q[0] ^= key.q[0];
    x->q[1] ^= key.q[1];
}
void op_aesenc(cpu_t *c, const dinsn_t *d) { aes_op(c, d, AES_ENC); }
void op_aesenclast(cpu_t *c, const dinsn_t *d) { aes_op(c, d, AES_ENCLAST); }
void op_aesdec(cpu_t *c, const dinsn_t *d) { aes_op(c, d, AES_DEC); }
void op_aesdeclast(cpu_t *c, const dinsn_t *d) { aes_op(c, d, AES_DECLAST); }
void op_aesimc(cpu_t *c, const dinsn_t *d) { aes_op(c, d, AES_IMC); }

static uint32_t sub_word(uint32_t w)
{
    return (uint32_t)sbox[w & 0xff] | (uint32_t)sbox[(w >> 8) & 0xff] << 8 |
           (uint32_t)sbox[(w >> 16) & 0xff] << 16 | (uint32_t)sbox[w >> 24] << 24;
}

/* AESKEYGENASSIST: SubWord and RotWord of dwords 1 and 3, RCON = imm8. */
void op_aeskeygenassist(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    xmm_t s;
    sse_read_w(c, &d->i, &s, true);
    sbox_init();
    uint32_t rcon = (uint32_t)d->i.imm & 0xff;
    uint32_t x1 = sub_word(s.d[1]), x3 = sub_word(s.d[3]);
    xmm_t *x = xmm_reg(c, d->i.reg);
    x->d[0] = x1;
    x->d[1] = ((x1 >> 8) | (x1 << 24)) ^ rcon;
    x->d[2] = x3;
    x->d[3] = ((x3 >> 8) | (x3 << 24)) ^ rcon;
}

/* PCLMULQDQ: carry-less product of the quadwords imm[0] (destination) and
 * imm[4] (source) select. */
void op_pclmulqdq(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    xmm_t s;
    sse_read_w(c, &d->i, &s, true);
    xmm_t *x = xmm_reg(c, d->i.reg);
    uint64_t a = x->q[d->i.imm & 1], b = s.q[(d->i.imm >> 4) & 1], lo = 0, hi = 0;
    for (int i = 0; i < 64; i++)
        if ((b >> i) & 1) {
            lo ^= a << i;
            hi ^= i ? a >> (64 - i) : 0;
        }
    x->q[0] = lo;
    x->q[1] = hi;
}
