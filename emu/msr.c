/* msr.c - RDMSR/WRMSR and the semantics of every MSR in emu/msr.def: existence
 * (the CPUID feature that enumerates it), reserved bits, canonical addresses,
 * memory-type encodings, and side effects (EFER and the paging mode, the TSC
 * offset, the TLB). SDM Vol. 4 "Architectural MSRs", Vol. 2 "RDMSR", "WRMSR".
 */
#include "emu/msr.h"

#include "emu/machine.h"

#include <stddef.h>

#include "emu/cpumodel.h"
#include "emu/exec.h"

typedef struct msr_desc msr_desc_t;
typedef bool (*msr_rd_fn)(cpu_t *c, const msr_desc_t *m, uint64_t *v);
typedef bool (*msr_wr_fn)(cpu_t *c, const msr_desc_t *m, uint64_t v);

struct msr_desc {
    uint32_t num;
    int gate; /* enum cpu_feature, or GATE_ANY */
    const char *name;
    msr_rd_fn rd;
    msr_wr_fn wr;
    size_t off; /* offset of the cpu_t member holding the value */
};

enum {
#define F(name, word, bit) GATE_##name = FEAT_##name,
    CPU_FEATURES(F)
#undef F
    GATE_ANY = -1
};

static inline uint64_t *field(cpu_t *c, const msr_desc_t *m)
{
    return (uint64_t *)((char *)c + m->off);
}

/* Bits lo..hi inclusive. */
static inline uint64_t bits(int hi, int lo)
{
    return (~0ull >> (63 - hi)) & ~((1ull << lo) - 1);
}

/* Physical-address bits above MAXPHYADDR, reserved in every address-holding MSR. */
static inline uint64_t above_maxphy(const cpu_t *c)
{
    return bits(63, c->model->maxphyaddr);
}

/* Memory types valid in MTRRs (UC, WC, WT, WP, WB) and in the PAT (those and UC-). */
static bool mtrr_type_ok(uint64_t t)
{
    return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
}

static bool bytes_are_types(uint64_t v, bool pat)
{
    for (int k = 0; k < 8; k++) {
        uint64_t t = (v >> (8 * k)) & 0xff;
        if (!mtrr_type_ok(t) && !(pat && t == 7))
            return false;
    }
    return true;
}

/* ---- readers ---- */

static bool rd_field(cpu_t *c, const msr_desc_t *m, uint64_t *v)
{
    *v = *field(c, m);
    return true;
}

static bool rd_tsc(cpu_t *c, const msr_desc_t *m, uint64_t *v)
{
    *v = cpu_tsc(c);
    return true;
}

static bool rd_platform_id(cpu_t *c, const msr_desc_t *m, uint64_t *v)
{
    *v = c->model->platform_id;
    return true;
}

static bool rd_wo(cpu_t *c, const msr_desc_t *m, uint64_t *v)
{
    return false; /* write-only MSR */
}

static bool rd_bios_sign_id(cpu_t *c, const msr_desc_t *m, uint64_t *v)
{
    *v = (uint64_t)c->model->ucode_rev << 32;
    return true;
}

/* IA32_MTRRCAP: VCNT[7:0], FIX[8] fixed ranges, WC[10] write-combining type. */
static bool rd_mtrrcap(cpu_t *c, const msr_desc_t *m, uint64_t *v)
{
    *v = c->model->mtrr_vcnt | 1u << 8 | 1u << 10;
    return true;
}

static bool rd_arch_capabilities(cpu_t *c, const msr_desc_t *m, uint64_t *v)
{
    *v = c->model->arch_capabilities;
    return true;
}

/* Variable-range pairs beyond IA32_MTRRCAP.VCNT do not exist. */
static bool var_mtrr_exists(const cpu_t *c, const msr_desc_t *m)
{
    return (m->num - MSR_IA32_MTRR_PHYSBASE0) / 2 < c->model->mtrr_vcnt;
}

static bool rd_mtrr_var(cpu_t *c, const msr_desc_t *m, uint64_t *v)
{
    return var_mtrr_exists(c, m) && rd_field(c, m, v);
}

static bool rd_efer(cpu_t *c, const msr_desc_t *m, uint64_t *v)
{
    *v = c->efer;
    return true;
}

/* ---- writers ---- */

static bool wr_ro(cpu_t *c, const msr_desc_t *m, uint64_t v)
{
    return false;
}

static bool wr_any(cpu_t *c, const msr_desc_t *m, uint64_t v)
{
    *field(c, m) = v;
    return true;
}

static bool wr_canonical(cpu_t *c, const msr_desc_t *m, uint64_t v)
{
    if ((uint64_t)(((int64_t)v >> (c->model->linaddr - 1)) + 1) > 1)
        return false;
    return wr_any(c, m, v);
}

static bool wr_low32(cpu_t *c, const msr_desc_t *m, uint64_t v)
{
    return !(v >> 32) && wr_any(c, m, v);
}

/* A TSC write moves the offset; the SDM has IA32_TSC_ADJUST follow by the same amount
 * (Vol. 3B "Time-Stamp Counter Adjustment"). */
static bool wr_tsc(cpu_t *c, const msr_desc_t *m, uint64_t v)
{
    uint64_t old = cpu_tsc(c);
    c->tsc_offset += v - old;
    c->msr_tsc_adjust += v - old;
    return true;
}

static bool wr_tsc_adjust(cpu_t *c, const msr_desc_t *m, uint64_t v)
{
    c->tsc_offset += v - c->msr_tsc_adjust;
    c->msr_tsc_adjust = v;
    return true;
}

/* IA32_APIC_BASE: BSP[8] (read-only here), global enable[11], base[MAXPHYADDR-1:12];
 * x2APIC enable[10] is reserved because x2APIC is not offered. */
static bool wr_apic_base(cpu_t *c, const msr_desc_t *m, uint64_t v)
{
    if (v & ~((1ull << 8) | (1ull << 11) | bits(c->model->maxphyaddr - 1, 12)))
        return false;
    c->msr_apic_base = (v & ~(1ull << 8)) | (c->msr_apic_base & (1ull << 8));
    return true;
}

/* IA32_FEATURE_CONTROL: only the lock bit exists without VMX/SMX; locked means read-only. */
static bool wr_feature_control(cpu_t *c, const msr_desc_t *m, uint64_t v)
{
    if ((c->msr_feature_control & 1) || (v & ~1ull))
        return false;
    c->msr_feature_control = v;
    return true;
}

/* IA32_SPEC_CTRL: IBRS[0], STIBP[1], SSBD[2] as enumerated; no effect on an interpreter. */
static bool wr_spec_ctrl(cpu_t *c, const msr_desc_t *m, uint64_t v)
{
    uint64_t ok = (cpu_has(c, FEAT_IBRS_IBPB) ? 1u : 0) | (cpu_has(c, FEAT_STIBP) ? 2u : 0) |
                  (cpu_has(c, FEAT_SSBD) ? 4u : 0);
    if (v & ~ok)
        return false;
    c->msr_spec_ctrl = v;
    return true;
}

/* IA32_PRED_CMD: IBPB[0] is the only command (there are no predictors to flush). */
static bool wr_pred_cmd(cpu_t *c, const msr_desc_t *m, uint64_t v)
{
    return v <= 1;
}

/* IA32_BIOS_SIGN_ID: software writes 0 before CPUID to sample the revision; the
 * revision is the model's constant, so the write has nothing to change. */
static bool wr_bios_sign_id(cpu_t *c, const msr_desc_t *m, uint64_t v)
{
    return true;
}

/* IA32_MISC_ENABLE: writable are fast strings[0], MONITOR FSM[18] (with MONITOR),
 * limit CPUID maxval[22] and XD disable[34] (with NX). The model's other bits
 * (BTS/PEBS unavailable, ...) are read-only and keep their value; any other bit
 * is reserved. */
static bool wr_misc_enable(cpu_t *c, const msr_desc_t *m, uint64_t v)
{
    uint64_t rw = MISC_ENABLE_FAST_STRINGS | MISC_ENABLE_LIMIT_CPUID |
                  (cpu_has(c, FEAT_MONITOR) ? MISC_ENABLE_MONITOR : 0) |
                  (cpu_has(c, FEAT_NX) ? MISC_ENABLE_XD_DISABLE : 0);
    uint64_t ro = c->model->misc_enable & ~rw;
    if (v & ~(rw | ro))
        return false;
    c->msr_misc_enable = (v & rw) | ro;
    return true;
}

/* IA32_DEBUGCTL: none of its facilities (LBR, BTF, BTS, ...) is emulated, so every bit is reserved. */
static bool wr_debugctl(cpu_t *c, const msr_desc_t *m, uint64_t v)
{
    return v == 0 && wr_any(c, m, v);
}

/* Variable-range MTRRs (SDM Vol. 3A 11.11.2.3): PHYSBASE type[7:0], base[MAXPHYADDR-1:12];
 * PHYSMASK valid[11], mask[MAXPHYADDR-1:12]. */
static bool wr_mtrr_physbase(cpu_t *c, const msr_desc_t *m, uint64_t v)
{
    if (!var_mtrr_exists(c, m) || (v & (bits(11, 8) | above_maxphy(c))) || !mtrr_type_ok(v & 0xff))
        return false;
    return wr_any(c, m, v);
}

static bool wr_mtrr_physmask(cpu_t *c, const msr_desc_t *m, uint64_t v)
{
    if (!var_mtrr_exists(c, m) || (v & (bits(10, 0) | above_maxphy(c))))
        return false;
    return wr_any(c, m, v);
}

static bool wr_mtrr_fixed(cpu_t *c, const msr_desc_t *m, uint64_t v)
{
    return bytes_are_types(v, false) && wr_any(c, m, v);
}

/* IA32_MTRR_DEF_TYPE: type[7:0], FE[10], E[11]. */
static bool wr_mtrr_def_type(cpu_t *c, const msr_desc_t *m, uint64_t v)
{
    if ((v & ~(0xffull | 1u << 10 | 1u << 11)) || !mtrr_type_ok(v & 0xff))
        return false;
    return wr_any(c, m, v);
}

static bool wr_pat(cpu_t *c, const msr_desc_t *m, uint64_t v)
{
    return bytes_are_types(v, true) && wr_any(c, m, v);
}

/* IA32_EFER: SCE[0], LME[8], LMA[10] (written by the processor only: writes are
 * ignored), NXE[11]. LME cannot change while paging is on (SDM Vol. 3A 10.8.5
 * "Initializing IA-32e Mode"). */
static bool wr_efer(cpu_t *c, const msr_desc_t *m, uint64_t v)
{
    uint64_t ok = EFER_LMA | (cpu_has(c, FEAT_SYSCALL) ? EFER_SCE : 0) | (cpu_has(c, FEAT_LM) ? EFER_LME : 0) |
                  (cpu_has(c, FEAT_NX) && !(c->msr_misc_enable & MISC_ENABLE_XD_DISABLE) ? EFER_NXE : 0);
    if (v & ~ok)
        return false;
    if (((v ^ c->efer) & EFER_LME) && (c->cr0 & CR0_PG))
        return false;
    v = (v & ~EFER_LMA) | (c->efer & EFER_LMA);
    if ((v ^ c->efer) & EFER_NXE)
        tlb_flush_all(c); /* the TLB caches execute rights and XD reserved-bit decisions */
    c->efer = v;
    cpu_update_mode(c);
    c->stop |= STOP_MODE;
    return true;
}

#define FLD(member) offsetof(cpu_t, member)
#define NOFIELD 0
static const msr_desc_t msrs[] = {
#define MSR(num, name, gate, rd, wr, fld) { num, GATE_##gate, #name, rd_##rd, wr_##wr, fld },
#include "emu/msr.def"
#undef MSR
};
#undef FLD
#undef NOFIELD

static const msr_desc_t *msr_find(uint32_t n)
{
    for (size_t k = 0; k < sizeof msrs / sizeof msrs[0]; k++)
        if (msrs[k].num == n)
            return &msrs[k];
    return NULL;
}

const char *msr_name(uint32_t n)
{
    const msr_desc_t *m = msr_find(n);
    return m ? m->name : NULL;
}

static const msr_desc_t *msr_lookup(const cpu_t *c, uint32_t n)
{
    const msr_desc_t *m = msr_find(n);
    if (m && m->gate != GATE_ANY && !cpu_has(c, (enum cpu_feature)m->gate))
        return NULL;
    return m;
}

bool msr_read(cpu_t *c, uint32_t n, uint64_t *val)
{
    const cpu_dev_hooks_t *h = c->m->cpu_dev;
    bool gp;
    if (h && h->msr_read(c, n, val, &gp)) /* the local APIC's MSRs */
        return !gp;
    const msr_desc_t *m = msr_lookup(c, n);
    return m && m->rd(c, m, val);
}

bool msr_write(cpu_t *c, uint32_t n, uint64_t val)
{
    const cpu_dev_hooks_t *h = c->m->cpu_dev;
    bool gp;
    if (h && h->msr_write(c, n, val, &gp))
        return !gp;
    const msr_desc_t *m = msr_lookup(c, n);
    return m && m->wr(c, m, val);
}

void msr_reset(cpu_t *c)
{
    c->msr_misc_enable = c->model->misc_enable;
    c->msr_pat = 0x0007040600070406ull;
    c->msr_apic_base = 0xfee00000ull | (1u << 11) | (c->index == 0 ? 1u << 8 : 0);
    c->msr_mtrr_def_type = 0;
    for (int k = 0; k < 11; k++)
        c->msr_mtrr_fixed[k] = 0;
    for (int k = 0; k < 20; k++)
        c->msr_mtrr_var[k] = 0;
    c->msr_feature_control = c->msr_spec_ctrl = c->msr_debugctl = 0;
    c->msr_tsc_aux = c->msr_tsc_adjust = c->tsc_offset = 0;
    c->msr_star = c->msr_lstar = c->msr_cstar = c->msr_fmask = c->msr_kernel_gs_base = 0;
    c->msr_sysenter_cs = c->msr_sysenter_esp = c->msr_sysenter_eip = 0;
}

void op_rdmsr(cpu_t *c, const dinsn_t *d)
{
    uint64_t v;
    if (c->cpl != 0 || !msr_read(c, (uint32_t)c->gpr[R_RCX], &v))
        cpu_fault_err(c, EXC_GP, 0);
    c->gpr[R_RAX] = (uint32_t)v;
    c->gpr[R_RDX] = v >> 32;
}

void op_wrmsr(cpu_t *c, const dinsn_t *d)
{
    uint64_t v = (uint32_t)c->gpr[R_RAX] | c->gpr[R_RDX] << 32;
    if (c->cpl != 0 || !msr_write(c, (uint32_t)c->gpr[R_RCX], v))
        cpu_fault_err(c, EXC_GP, 0);
}
