/* exec_xsave.c - FXSAVE/FXRSTOR, XSAVE/XRSTOR/XSAVEOPT (standard format,
 * state components 0 = x87 and 1 = SSE) and LDMXCSR/STMXCSR.
 *
 * Layouts: SDM Vol. 1 "FXSAVE Area" (the legacy region) and "XSAVE Area"
 * (header at byte 512). Components beyond SSE are not implemented: XCR0 may
 * hold only bits 0 and 1 (CPUID leaf 0xD advertises no more), so RFBM never
 * names another component.
 *
 * With CR4.OSFXSR clear the SDM leaves it implementation-dependent whether
 * FXSAVE/FXRSTOR touch the XMM registers and MXCSR; this CPU behaves as Intel
 * parts do: MXCSR is saved and restored, the XMM registers are not.
 */
#include <string.h>

#include "emu/fpu.h"

#define FX_SIZE 512
#define XSAVE_HDR 512
#define XSAVE_SIZE 576     /* legacy region + header: x87 and SSE only */
#define XCOMP_FORMAT (1ull << 63)

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* How many XMM registers the legacy region holds: 16 in 64-bit mode, else 8. */
static int fx_nxmm(cpu_t *c)
{
    return c->mode == MODE_LONG64 ? 16 : 8;
}
/* FXSAVE/FXRSTOR: none without CR4.OSFXSR (see the file comment). */
static int fx_nxmm_fx(cpu_t *c)
{
    return (c->cr4 & CR4_OSFXSR) ? fx_nxmm(c) : 0;
}

/* x87 part of the legacy region: bytes 23:0 and 159:32. REX.W selects the
 * 64-bit instruction/data pointer format (FXSAVE64). */
static void fx_put_x87(const fpu_state_t *f, uint8_t *img, bool w64)
{
    put16(img + 0, f->fcw);
    put16(img + 2, fpu_get_fsw(f));
    img[4] = f->ftw;
    img[5] = 0;
    put16(img + 6, f->fop);
    if (w64) {
        put64(img + 8, f->fip);
        put64(img + 16, f->fdp);
    } else {
        put32(img + 8, (uint32_t)f->fip);
        put16(img + 12, f->fcs);
        put16(img + 14, 0);
        put32(img + 16, (uint32_t)f->fdp);
        put16(img + 20, f->fds);
        put16(img + 22, 0);
    }
    /* ST(i) in stack order, each in a 16-byte slot */
    for (int i = 0; i < 8; i++) {
        const fpreg_t *r = &f->st[(f->top + i) & 7];
        memset(img + 32 + 16 * i, 0, 16);
        put64(img + 32 + 16 * i, r->sig);
        put16(img + 40 + 16 * i, r->se);
    }
}

static void fx_get_x87(fpu_state_t *f, const uint8_t *img, bool w64)
{
    f->fcw = get16(img + 0);
    fpu_set_fsw(f, get16(img + 2)); /* recomputes ES against the new masks */
    f->ftw = img[4];
    f->fop = get16(img + 6) & 0x7ff;
    if (w64) {
        f->fip = get64(img + 8);
        f->fdp = get64(img + 16);
    } else {
        f->fip = get32(img + 8);
        f->fcs = get16(img + 12);
        f->fdp = get32(img + 16);
        f->fds = get16(img + 20);
    }
    for (int i = 0; i < 8; i++) {
        fpreg_t *r = &f->st[(f->top + i) & 7];
        r->sig = get64(img + 32 + 16 * i);
        r->se = get16(img + 40 + 16 * i);
    }
}

static void fx_put_mxcsr(const fpu_state_t *f, uint8_t *img)
{
    put32(img + 24, f->mxcsr);
    put32(img + 28, MXCSR_MASK_VALUE);
}

static void fx_put_xmm(const fpu_state_t *f, uint8_t *img, int n)
{
    memcpy(img + 160, f->xmm, 16 * (size_t)n);
}

static void fx_get_xmm(fpu_state_t *f, const uint8_t *img, int n)
{
    memcpy(f->xmm, img + 160, 16 * (size_t)n);
}

/* MXCSR from an image: #GP(0) if it sets a reserved bit. */
static uint32_t fx_check_mxcsr(cpu_t *c, const uint8_t *img)
{
    uint32_t m = get32(img + 24);
    if (m & ~MXCSR_MASK_VALUE)
        cpu_fault_err(c, EXC_GP, 0);
    return m;
}

/* Memory operand of an FXSAVE-family instruction: linear address of an area of
 * `size` bytes that must be `align`-aligned (#GP(0) otherwise). */
static uint64_t area_lin(cpu_t *c, const x86_insn *i, int size, int align, enum mmu_access acc)
{
    uint64_t la = insn_lin(c, i, size, acc);
    if (la & (uint64_t)(align - 1))
        cpu_fault_err(c, EXC_GP, 0);
    return la;
}

static bool rex_w(const x86_insn *i)
{
    return (i->rex & 0x08) != 0;
}

/* FXSAVE/FXRSTOR: #NM if CR0.TS or CR0.EM (SDM Vol. 2 "FXSAVE"). They do not
 * check for pending x87 exceptions. */
static void fx_check(cpu_t *c)
{
    if (c->cr0 & (CR0_TS | CR0_EM))
        cpu_fault(c, EXC_NM);
}

void op_fxsave(cpu_t *c, const dinsn_t *d)
{
    fx_check(c);
    uint64_t la = area_lin(c, &d->i, FX_SIZE, 16, ACC_WRITE);
    uint8_t img[FX_SIZE];
    int n = fx_nxmm_fx(c);
    fx_put_x87(&c->fpu, img, rex_w(&d->i));
    fx_put_mxcsr(&c->fpu, img);
    fx_put_xmm(&c->fpu, img, n);
    /* Bytes past the last saved XMM register are reserved or for software:
     * the processor leaves them alone. */
    lin_write_bytes(c, la, img, 160 + 16 * n);
}

void op_fxrstor(cpu_t *c, const dinsn_t *d)
{
    fx_check(c);
    uint64_t la = area_lin(c, &d->i, FX_SIZE, 16, ACC_READ);
    uint8_t img[FX_SIZE];
    int n = fx_nxmm_fx(c);
    lin_read_bytes(c, la, img, 160 + 16 * n);
    uint32_t mx = fx_check_mxcsr(c, img);
    fx_get_x87(&c->fpu, img, rex_w(&d->i));
    c->fpu.mxcsr = mx;
    fx_get_xmm(&c->fpu, img, n);
}

void op_ldmxcsr(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    uint32_t m = lin_read32(c, insn_lin(c, &d->i, 4, ACC_READ));
    if (m & ~MXCSR_MASK_VALUE)
        cpu_fault_err(c, EXC_GP, 0);
    c->fpu.mxcsr = m;
}

void op_stmxcsr(cpu_t *c, const dinsn_t *d)
{
    sse_check(c, &d->i);
    lin_write32(c, insn_lin(c, &d->i, 4, ACC_WRITE), c->fpu.mxcsr);
}

/* ---- XSAVE feature set (SDM Vol. 1 "Managing State Using the XSAVE Feature Set") ---- */

/* #UD if the model lacks the instruction or CR4.OSXSAVE is clear, #NM with
 * CR0.TS (CR0.EM does not matter). */
static void xsave_check(cpu_t *c, const dinsn_t *d)
{
    insn_feature_check(c, &d->i);
    if (!(c->cr4 & CR4_OSXSAVE))
        cpu_fault(c, EXC_UD);
    if (c->cr0 & CR0_TS)
        cpu_fault(c, EXC_NM);
}

static uint64_t xsave_rfbm(cpu_t *c)
{
    uint64_t mask = ((c->gpr[R_RDX] & 0xffffffffull) << 32) | (uint32_t)c->gpr[R_RAX];
    return mask & c->xcr0;
}

/* XINUSE: this implementation does not track the init optimisation; it
 * reports every enabled component as in use, which the SDM allows ("XINUSE[i]
 * may be 1 even when state component i is in its initial configuration"). */
static uint64_t xinuse(cpu_t *c)
{
    return c->xcr0;
}

/* XSAVEOPT may also skip unmodified components (the modified optimisation);
 * saving them is always correct, so both instructions share this path. */
void op_xsave(cpu_t *c, const dinsn_t *d)
{
    xsave_check(c, d);
    uint64_t la = area_lin(c, &d->i, XSAVE_SIZE, 64, ACC_WRITE);
    uint64_t rfbm = xsave_rfbm(c);
    bool w64 = rex_w(&d->i);
    int n = fx_nxmm(c);
    uint8_t img[FX_SIZE];

    /* Every byte we may write must be writable before any is written. */
    lin_probe_write(c, la, XSAVE_SIZE);
    uint64_t bv = lin_read64(c, la + XSAVE_HDR);
    if (rfbm & 1) {
        fx_put_x87(&c->fpu, img, w64);
        lin_write_bytes(c, la, img, 24);
        lin_write_bytes(c, la + 32, img + 32, 128);
    }
    if (rfbm & 6) {
        fx_put_mxcsr(&c->fpu, img);
        lin_write_bytes(c, la + 24, img + 24, 8);
    }
    if (rfbm & 2) {
        fx_put_xmm(&c->fpu, img, n);
        lin_write_bytes(c, la + 160, img + 160, 16 * n);
    }
    bv = (bv & ~rfbm) | (xinuse(c) & rfbm);
    lin_write64(c, la + XSAVE_HDR, bv);
}

void op_xsaveopt(cpu_t *c, const dinsn_t *d)
{
    op_xsave(c, d);
}

void op_xrstor(cpu_t *c, const dinsn_t *d)
{
    xsave_check(c, d);
    uint64_t la = area_lin(c, &d->i, XSAVE_SIZE, 64, ACC_READ);
    uint64_t rfbm = xsave_rfbm(c);
    bool w64 = rex_w(&d->i);
    int n = fx_nxmm(c);
    uint8_t img[XSAVE_SIZE];

    lin_read_bytes(c, la, img, XSAVE_SIZE);
    uint64_t xstate_bv = get64(img + XSAVE_HDR);
    uint64_t xcomp_bv = get64(img + XSAVE_HDR + 8);
    /* The compacted form (XCOMP_BV[63] = 1) needs XSAVEC, which this CPU does
     * not have: #GP. The standard form faults if XSTATE_BV names a component
     * XCR0 does not enable, or if header bytes 23:8 are not zero. */
    if ((xcomp_bv & XCOMP_FORMAT) || xcomp_bv || get64(img + XSAVE_HDR + 16) ||
        (xstate_bv & ~c->xcr0))
        cpu_fault_err(c, EXC_GP, 0);
    /* The standard form loads MXCSR whenever RFBM[1] or RFBM[2] is set,
     * whatever XSTATE_BV says; an illegal value is #GP before any change. */
    uint32_t mx = (rfbm & 6) ? fx_check_mxcsr(c, img) : c->fpu.mxcsr;

    if (rfbm & 1) {
        if (xstate_bv & 1)
            fx_get_x87(&c->fpu, img, w64);
        else {
            /* initial configuration: FNINIT's state with zeroed registers */
            fpu_x87_init(&c->fpu);
            memset(c->fpu.st, 0, sizeof c->fpu.st);
        }
    }
    if (rfbm & 2) {
        if (xstate_bv & 2)
            fx_get_xmm(&c->fpu, img, n);
        else
            memset(c->fpu.xmm, 0, 16 * (size_t)n);
    }
    c->fpu.mxcsr = mx;
}
