/* exec_misc.c - CPUID, the time-stamp counter (RDTSC, RDTSCP, RDPID), RDPMC,
 * RDRAND/RDSEED, cache and ordering instructions (WBINVD, INVD, CLFLUSH,
 * CLFLUSHOPT, LFENCE/MFENCE/SFENCE), MONITOR/MWAIT, XGETBV/XSETBV and the SMAP
 * instructions CLAC/STAC. SDM Vol. 2, one section per instruction.
 *
 * The emulator has no caches, no store buffer and one host thread, so the
 * cache and fence instructions only do their checks (privilege, segment and
 * page faults).
 */
#include <string.h>

#include "emu/cpumodel.h"
#include "emu/exec.h"
#include "emu/flags.h"
#include "emu/machine.h"
#include "emu/msr.h"
#include "emu/paging.h"

static _Noreturn void gp0(cpu_t *c)
{
    cpu_fault_err(c, EXC_GP, 0);
}

static inline void set_edx_eax(cpu_t *c, uint64_t v)
{
    c->gpr[R_RAX] = (uint32_t)v;
    c->gpr[R_RDX] = v >> 32;
}

void op_cpuid(cpu_t *c, const dinsn_t *d)
{
    uint32_t r[4];
    cpuid_query(c, (uint32_t)c->gpr[R_RAX], (uint32_t)c->gpr[R_RCX], r);
    c->gpr[R_RAX] = r[0];
    c->gpr[R_RBX] = r[1];
    c->gpr[R_RCX] = r[2];
    c->gpr[R_RDX] = r[3];
}

/* CR4.TSD restricts RDTSC/RDTSCP to CPL 0. */
static void tsc_allowed(cpu_t *c)
{
    if ((c->cr4 & CR4_TSD) && c->cpl != 0)
        gp0(c);
}

void op_rdtsc(cpu_t *c, const dinsn_t *d)
{
    tsc_allowed(c);
    set_edx_eax(c, cpu_tsc(c));
}

void op_rdtscp(cpu_t *c, const dinsn_t *d)
{
    if (!cpu_has(c, FEAT_RDTSCP))
        cpu_fault(c, EXC_UD);
    tsc_allowed(c);
    set_edx_eax(c, cpu_tsc(c));
    c->gpr[R_RCX] = (uint32_t)c->msr_tsc_aux;
}

void op_rdpid(cpu_t *c, const dinsn_t *d)
{
    if (!cpu_has(c, FEAT_RDPID))
        cpu_fault(c, EXC_UD);
    reg_set(c, &d->i, d->i.rm, c->mode == MODE_LONG64 ? 8 : 4, c->msr_tsc_aux);
}

/* No model has performance counters (CPUID.0AH is zero), so every ECX names an
 * unsupported counter: RDPMC raises #GP(0), the same fault as for CPL > 0 with
 * CR4.PCE = 0. */
void op_rdpmc(cpu_t *c, const dinsn_t *d)
{
    gp0(c);
}

/* Deterministic random numbers: splitmix64 over a per-vCPU state seeded at reset. */
static uint64_t next_random(cpu_t *c)
{
    uint64_t z = (c->rdrand_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* RDRAND/RDSEED (#UD unless the model has feature f): a random value is
 * always available: CF = 1, OF/SF/ZF/AF/PF = 0. */
static void random_to_reg(cpu_t *c, const dinsn_t *d, enum cpu_feature f)
{
    if (!cpu_has(c, f))
        cpu_fault(c, EXC_UD);
    reg_set(c, &d->i, d->i.rm, d->i.osize, next_random(c));
    cpu_set_arith(c, F_CF);
}

void op_rdrand(cpu_t *c, const dinsn_t *d) { random_to_reg(c, d, FEAT_RDRAND); }
void op_rdseed(cpu_t *c, const dinsn_t *d) { random_to_reg(c, d, FEAT_RDSEED); }

/* WBINVD, INVD: privileged; there is no cache to write back or drop. */
void op_wbinvd(cpu_t *c, const dinsn_t *d)
{
    if (c->cpl != 0)
        gp0(c);
}

/* CLFLUSH/CLFLUSHOPT (#UD unless the model has feature f): the line's address
 * is checked like a byte read (segment, paging). */
static void flush_line(cpu_t *c, const dinsn_t *d, enum cpu_feature f)
{
    if (!cpu_has(c, f))
        cpu_fault(c, EXC_UD);
    mmu_translate(c, insn_lin(c, &d->i, 1, ACC_READ), ACC_READ);
}

void op_clflush(cpu_t *c, const dinsn_t *d) { flush_line(c, d, FEAT_CLFSH); }
void op_clflushopt(cpu_t *c, const dinsn_t *d) { flush_line(c, d, FEAT_CLFLUSHOPT); }

/* LFENCE/MFENCE/SFENCE: memory is sequentially consistent here. */
void op_fence(cpu_t *c, const dinsn_t *d)
{
}

/* MONITOR/MWAIT exist when CPUID.1:ECX.MONITOR is reported (which IA32_MISC_ENABLE can turn off). */
void monitor_check_ud(cpu_t *c)
{
    if (!cpu_has(c, FEAT_MONITOR) || !(c->msr_misc_enable & MISC_ENABLE_MONITOR) || c->cpl != 0)
        cpu_fault(c, EXC_UD);
}

/* The monitor (SDM Vol. 2 "MONITOR", "MWAIT"): a store to the armed line
 * triggers it. Stores are not watched (that would cost every store): the
 * line's bytes are kept when MONITOR arms it, and a line that differs counts
 * as triggered, so a store of the same bytes goes unnoticed (docs/deviations.md).
 * A line outside RAM stays armed until MWAIT. */
bool monitor_armed(cpu_t *c)
{
    const uint8_t *p = c->monitor_armed ? phys_ram_ptr(c->m, c->monitor_pa) : NULL;
    if (p && memcmp(p, c->monitor_line, sizeof c->monitor_line) != 0)
        c->monitor_armed = false;
    return c->monitor_armed;
}

/* MONITOR arms address monitoring on the 64-byte line of DS:rAX (segment
 * override allowed); ECX (extensions) must be 0, EDX (hints) is ignored. */
void op_monitor(cpu_t *c, const dinsn_t *d)
{
    monitor_check_ud(c);
    if ((uint32_t)c->gpr[R_RCX] != 0)
        gp0(c);
    uint64_t ea = c->gpr[R_RAX] & size_mask(d->i.asize);
    uint64_t pa = mmu_translate(c, seg_lin(c, d->i.seg, ea, 1, ACC_READ), ACC_READ) & ~63ull;
    const uint8_t *p = phys_ram_ptr(c->m, pa);
    if (p)
        memcpy(c->monitor_line, p, sizeof c->monitor_line);
    c->monitor_pa = pa;
    c->monitor_armed = true;
}

/* MWAIT: ECX bit 0 (interrupts as break events) is not offered (CPUID.05H:ECX[1] = 0).
 * The wait ends at once, one of the implementation-specific wake-ups the SDM allows
 * ("MWAIT-Monitor Wait"), and leaves the monitor disarmed; a guest that loops on
 * MWAIT spins instead of sleeping. */
void op_mwait(cpu_t *c, const dinsn_t *d)
{
    monitor_check_ud(c);
    if ((uint32_t)c->gpr[R_RCX] != 0)
        gp0(c);
    c->monitor_armed = false;
}

void op_xgetbv(cpu_t *c, const dinsn_t *d)
{
    if (!(c->cr4 & CR4_OSXSAVE))
        cpu_fault(c, EXC_UD);
    if ((uint32_t)c->gpr[R_RCX] != 0) /* XCR0 only: XGETBV with ECX = 1 is not offered */
        gp0(c);
    set_edx_eax(c, c->xcr0);
}

/* XSETBV: XCR0 must keep x87, name only supported components, and AVX needs SSE
 * (SDM Vol. 1 13.3 "Enabling the XSAVE Feature Set and XSAVE-Enabled Features"). */
void op_xsetbv(cpu_t *c, const dinsn_t *d)
{
    if (!(c->cr4 & CR4_OSXSAVE))
        cpu_fault(c, EXC_UD);
    if (c->cpl != 0 || (uint32_t)c->gpr[R_RCX] != 0)
        gp0(c);
    uint64_t v = (uint32_t)c->gpr[R_RAX] | c->gpr[R_RDX] << 32;
    if (!(v & XSTATE_X87) || (v & ~c->model->xcr0_mask) || ((v & XSTATE_AVX) && !(v & XSTATE_SSE)))
        gp0(c);
    c->xcr0 = v;
}

/* CLAC/STAC: set or clear EFLAGS.AC for SMAP; CPL 0 only. The TLB never caches
 * SMAP-governed translations, so no flush is needed. */
static void smap_insn_allowed(cpu_t *c)
{
    if (!cpu_has(c, FEAT_SMAP) || c->cpl != 0)
        cpu_fault(c, EXC_UD);
}

void op_clac(cpu_t *c, const dinsn_t *d)
{
    smap_insn_allowed(c);
    c->rflags &= ~(uint64_t)F_AC;
}

void op_stac(cpu_t *c, const dinsn_t *d)
{
    smap_insn_allowed(c);
    c->rflags |= F_AC;
}
