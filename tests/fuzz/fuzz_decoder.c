/* fuzz_decoder.c - libFuzzer target for decoder/decode.c.
 *
 * Decodes the input in all three code sizes and checks what must hold for any
 * byte string: the result is a length within 1..15 and within the input or one
 * of the error codes; fields are in range; decoding is deterministic and does
 * not depend on bytes past the instruction; a shortened input gives SHORT.
 * Built by tests/fuzz/fuzz.mk (`make -f tests/fuzz/fuzz.mk fuzz`).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decoder/decode.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static void check_fields(const x86_insn *d, int r, enum x86_mode m)
{
    CHECK(d->len == r);
    CHECK(d->id < XI_COUNT);
    CHECK(d->map <= X86_MAP_0F3A);
    CHECK(d->mod <= 3);
    CHECK(d->reg < 16 && d->rm < 16);
    CHECK(d->base < 16 || d->base == X86_NOREG || (d->base == X86_RIP && m == X86_M64));
    CHECK(d->index < 16 || d->index == X86_NOREG);
    CHECK(d->index != 4 || (d->rex & 2)); /* index 100b is "none" without REX.X */
    CHECK(d->scale <= 3);
    CHECK(d->seg <= X86_GS);
    CHECK(d->osize == 2 || d->osize == 4 || (d->osize == 8 && m == X86_M64));
    CHECK(d->asize == 2 || d->asize == 4 || (d->asize == 8 && m == X86_M64));
    CHECK(m != X86_M64 || d->asize != 2);
    CHECK(d->vex_v < 16 && d->vex_l <= 1);
    CHECK(!(d->pfx & X86_PFX_REX) || m == X86_M64);
    CHECK(x86_insn_name(d->id)[0] != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int m = X86_M16; m <= X86_M64; m++) {
        x86_insn a, b;
        int r = x86_decode(&a, data, size, (enum x86_mode)m);
        CHECK(r == X86_ERR_UD || r == X86_ERR_LONG || r == X86_ERR_SHORT || (r >= 1 && r <= 15));
        if (r <= 0)
            continue;
        CHECK((size_t)r <= size);
        check_fields(&a, r, (enum x86_mode)m);
        /* exactly the instruction's bytes decode the same; one fewer is SHORT */
        CHECK(x86_decode(&b, data, (size_t)r, (enum x86_mode)m) == r);
        CHECK(memcmp(&a, &b, sizeof a) == 0);
        CHECK(x86_decode(&b, data, (size_t)r - 1, (enum x86_mode)m) == X86_ERR_SHORT);
    }
    return 0;
}
