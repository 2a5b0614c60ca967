/* run.c - the run loop: fetch through the exec TLB, look up or fill a decoded
 * block, run its handlers, charge cycles, and stop at the deadline (next device
 * event, cycle limit, end of the SMP quantum) or when the stop word says so.
 *
 * vCPUs interleave in fixed quanta of cycles, so an SMP run is as reproducible
 * as a single-CPU one: the order of everything depends only on cycle counts.
 */
#include <string.h>

#include "emu/dcache.h"
#include "emu/exec.h"
#include "emu/machine.h"
#include "emu/virt.h"

#define SMP_QUANTUM 2000 /* cycles a vCPU runs before the next one gets its turn */

/* Linear address of RIP, with the CS limit check outside 64-bit mode. Returns
 * the number of bytes that may be fetched before the limit (or 15). */
static uint64_t fetch_lin(cpu_t *c, unsigned *limit_room)
{
    if (c->mode == MODE_LONG64) {
        *limit_room = 15;
        return c->rip;
    }
    const seg_t *cs = &c->seg[S_CS];
    uint64_t ip = c->rip;
    if (ip > cs->limit)
        cpu_fault_err(c, EXC_GP, 0);
    uint64_t room = (uint64_t)cs->limit - ip + 1;
    *limit_room = room < 15 ? (unsigned)room : 15;
    return (uint32_t)(cs->base + ip);
}

static uint64_t fetch_pa(cpu_t *c, uint64_t la)
{
    tlb_entry_t *e = &c->tlb[(la >> 12) & (TLB_SIZE - 1)];
    if (likely(e->tag_x == (la & ~0xfffull)))
        return e->paddr | (la & 0xfff);
    return mmu_translate_fetch(c, la);
}

static void exec_one(cpu_t *c, const dinsn_t *d)
{
    c->insn_rip = c->rip;
    c->rip += d->i.len;
    d->fn(c, d);
    c->cycles += d->lat;
}

/* An instruction that crosses a page boundary, or code outside RAM: decode it
 * from bytes gathered through the MMU and run it without caching. */
static void run_uncached(cpu_t *c, uint64_t la, uint64_t pa, unsigned limit_room)
{
    uint8_t buf[15];
    unsigned n = 0;
    while (n < limit_room) {
        unsigned on_page = 4096 - (unsigned)((la + n) & 0xfff);
        if (n > 0)
            pa = fetch_pa(c, c->mode == MODE_LONG64 ? la + n : (uint32_t)(la + n));
        for (unsigned k = 0; k < on_page && n < limit_room; k++, n++)
            buf[n] = (uint8_t)phys_read(c->m, pa + k, 1);
        if (n >= limit_room)
            break;
        /* Stop fetching as soon as the bytes we have decode: the next page may
         * legitimately be unmapped. */
        x86_insn probe;
        if (x86_decode(&probe, buf, n, (enum x86_mode)c->dmode) != X86_ERR_SHORT)
            break;
    }
    x86_insn i;
    int len = x86_decode(&i, buf, n, (enum x86_mode)c->dmode);
    if (len == X86_ERR_SHORT) /* ran into the CS limit */
        cpu_fault_err(c, EXC_GP, 0);
    if (len == X86_ERR_LONG)
        cpu_fault_err(c, EXC_GP, 0);
    if (len < 0)
        cpu_fault(c, EXC_UD);
    dinsn_t d;
    dinsn_bind(&d, &i);
    if (c->nonroot && c->m->virt) {
        insn_fn f = c->m->virt->nonroot_handler(&i);
        if (f)
            d.fn = f;
    }
    c->blk = NULL;
    exec_one(c, &d);
    c->insn_count++;
}

/* Run one block (or only its first instruction when single-stepping). near:
 * the deadline is within DBLOCK_LAT_MAX cycles, so the block may cross it. */
static inline __attribute__((always_inline)) void run_block(cpu_t *c, bool single, bool near)
{
    machine_t *m = c->m;
    dblock_t *b, *prev = c->last_blk;
    /* Chained: the block that followed last time, if nothing it depends on changed. */
    if (likely(prev && prev->succ && prev->succ_rip == c->rip && prev->succ_epoch == c->fetch_epoch &&
               prev->succ_cpu == c->index && prev->succ->serial == prev->succ_serial &&
               prev->succ->gen == m->dcache->page_gen[prev->succ->pa >> 12])) {
        b = prev->succ;
    } else {
        unsigned limit_room;
        c->insn_rip = c->rip; /* a fetch fault is reported at the instruction being fetched */
        uint64_t la = fetch_lin(c, &limit_room);
        uint64_t pa = fetch_pa(c, la);
        uint32_t key = c->dmode | (uint32_t)c->nonroot << 2; /* non-root code binds VMX's handlers */
        b = dcache_lookup(m->dcache, pa, key);
        if (unlikely(!b)) {
            const uint8_t *host = phys_ram_ptr(m, pa);
            if (!host) {
                c->last_blk = NULL;
                run_uncached(c, la, pa, limit_room);
                return;
            }
            unsigned avail = 4096 - (unsigned)(pa & 0xfff);
            if (c->mode != MODE_LONG64) {
                uint64_t room = (uint64_t)c->seg[S_CS].limit - c->rip + 1;
                if (room < avail)
                    avail = (unsigned)room;
            }
            b = dcache_fill(m->dcache, m, pa, key, host, avail);
        }
        if (unlikely(b->n == 0)) {
            /* the first instruction continues on the next page */
            c->last_blk = NULL;
            run_uncached(c, la, pa, limit_room);
            return;
        }
        if (prev) {
            prev->succ = b;
            prev->succ_rip = c->rip;
            prev->succ_epoch = c->fetch_epoch;
            prev->succ_serial = b->serial;
            prev->succ_cpu = c->index;
        }
    }
    /* The landing pad counts the instructions a faulting block retired from
     * these two (see retired_before_fault). */
    c->blk = b;
    c->blk_rip = c->rip;
    const dinsn_t *d = b->insns, *end = single ? d + 1 : d + b->n;
    /* Near the deadline, a block that could run past it goes one instruction
     * at a time, so the run loop stops at the first instruction boundary at or
     * after the deadline. */
    if (near && c->cycles + b->lat > c->deadline)
        end = d + 1;
    do {
        exec_one(c, d);
    } while (++d < end && !c->stop);
    c->insn_count += (uint64_t)(d - b->insns);
    c->stop &= ~STOP_BRANCH;
    c->blk = NULL;
    c->last_blk = b;
}

static __attribute__((noinline)) void run_block_near(cpu_t *c)
{
    run_block(c, false, true);
}

/* A handler faulted in block c->blk: the instructions before the faulting one
 * (at c->insn_rip) retired. Blocks are straight-line code from c->blk_rip. */
static uint64_t retired_before_fault(const cpu_t *c)
{
    if (!c->blk)
        return 0;
    uint64_t off = c->insn_rip - c->blk_rip, n = 0;
    for (uint32_t k = 0; k < c->blk->n && off; k++, n++)
        off -= c->blk->insns[k].i.len;
    return n;
}

void cpu_abort_insn(cpu_t *c)
{
    longjmp(c->fault_jmp, 2);
}

/* Single-step trap after an instruction executed with RFLAGS.TF = 1 (SDM Vol. 3A
 * "Single-Step Exception Condition"): DR6.BS, then #DB as a trap. In VMX
 * non-root operation it is a pending debug exception that the boundary
 * delivers in its priority (a monitor-trap-flag exit comes first). */
static void single_step_trap(cpu_t *c)
{
    c->db_pending |= DR6_BS;
    if (c->nonroot) {
        c->stop |= STOP_VMX;
        return;
    }
    cpu_deliver(c, EV_HWEXC, EXC_DB, 0, 0);
}

/* Run vCPU c until its cycle counter reaches `until` or the machine stops. */
static void cpu_run(cpu_t *c, uint64_t until)
{
    machine_t *m = c->m;
    c->deadline = until < m->next_event ? until : m->next_event;
    if (c->virt_deadline < c->deadline)
        c->deadline = c->virt_deadline;
    c->dormant = false;
    switch (setjmp(c->fault_jmp)) {
    case 0:
        break;
    case 1:
        /* A handler faulted: deliver the event (this may longjmp here again if
         * delivery itself faults; the exception code escalates to #DF and to
         * shutdown, so this terminates). */
        c->stop &= ~STOP_YIELD;
        c->insn_count += retired_before_fault(c);
        c->blk = NULL;
        c->last_blk = NULL;
        cpu_deliver_pending(c);
        c->cycles += lat_cycles[LAT_SYS];
        break;
    default:
        /* cpu_abort_insn(): a VM exit or entry replaced the instruction and set
         * the whole state; the instructions before it in the block retired. */
        c->insn_count += retired_before_fault(c);
        c->blk = NULL;
        c->last_blk = NULL;
        c->cycles += lat_cycles[LAT_SYS];
        break;
    }
    for (;;) {
        /* One test covers every reason to leave the fast path: the stop word
         * (machine exit, halt, mode change, ...) and a pending interrupt. */
        if (unlikely(c->stop | c->intr_line | c->nmi_pending)) {
            if (c->stop & STOP_EXIT)
                return;
            if (c->stop & STOP_MODE)
                c->fetch_epoch++; /* whatever changed, chained blocks must be looked up again */
            c->stop &= ~(STOP_SMC | STOP_MODE | STOP_YIELD | STOP_IRQ);
            /* VMX first: its boundary events (monitor trap flag, pending debug
             * exceptions, preemption timer, NMI window) outrank NMIs and
             * interrupts; it leaves STOP_VMX set while it needs to see the
             * next boundary too (vmx/boundary.c). */
            if (c->cycles >= c->virt_deadline)
                c->stop |= STOP_VMX;
            if (c->stop & STOP_VMX) {
                c->stop &= ~STOP_VMX;
                if (m->virt && m->virt->boundary(c))
                    continue; /* a VM exit or a delivered event: look again */
            }
            if (c->stop & STOP_MONITOR) {
                /* Without a hook this is Ctrl-C: stop here. With one, ask it
                 * before each instruction and run one at a time. */
                if (!m->debug || m->debug->before_insn(m->debug->opaque, c)) {
                    if (!m->debug)
                        c->stop &= ~STOP_MONITOR;
                    machine_stop(m, MEXIT_DEBUG, 0);
                    return;
                }
                if (!c->halted && !c->wait_for_sipi && !(c->rflags & F_TF) && !c->intr_shadow &&
                    !c->intr_line && !c->nmi_pending && c->cycles < c->deadline) {
                    run_block(c, true, false);
                    continue;
                }
            }
            if (c->wait_for_sipi) {
                c->dormant = true; /* only another vCPU's SIPI can start it */
                return;
            }
            /* NMI before INTR (SDM Vol. 3A "Priority Among Simultaneous
             * Exceptions and Interrupts"); blocked while an NMI handler runs
             * (until IRET) and by MOV SS/POP SS for one instruction. */
            if (c->nmi_pending && !c->nmi_blocked && c->intr_shadow != 2) {
                c->nmi_pending = false;
                cpu_deliver(c, EV_NMI, EXC_NMI, 0, 0);
                c->cycles += lat_cycles[LAT_SYS];
                continue;
            }
            /* In VMX non-root operation VMX sees a pending interrupt first
             * (external-interrupt exiting ignores RFLAGS.IF); vec -1: not yet
             * acknowledged at the controller. */
            if (c->intr_line && c->nonroot && m->virt && m->virt->event(c, EV_EXTINT, -1, 0, 0))
                continue;
            /* External interrupts are recognised between instructions when
             * IF = 1 and no STI/MOV SS shadow is in force (SDM Vol. 3A
             * "Interrupt Priorities", "Masking Maskable Hardware Interrupts"). */
            if (c->intr_line && (c->rflags & F_IF) && !c->intr_shadow) {
                int vec = m->intr_ack(m->intr_opaque, c->index);
                cpu_deliver(c, EV_EXTINT, vec, 0, 0);
                c->cycles += lat_cycles[LAT_SYS];
                continue;
            }
            if (c->halted) {
                /* With interrupts off, or with no device event to come, only
                 * another vCPU (an NMI, INIT or interrupt IPI) can wake it.
                 * Otherwise it sleeps to the deadline. */
                /* In VMX non-root operation an interrupt may end the HLT with
                 * a VM exit whatever RFLAGS.IF says (external-interrupt exiting). */
                /* The VMX-preemption timer counts in HLT and ends it exactly
                 * at its deadline (virt_deadline). */
                if ((!(c->rflags & F_IF) && !c->nonroot) ||
                    (m->next_event == UINT64_MAX && !c->intr_line && c->virt_deadline == UINT64_MAX)) {
                    c->dormant = true;
                    return;
                }
                if (c->cycles < c->deadline)
                    c->cycles = c->deadline;
                if (c->cycles >= c->virt_deadline)
                    continue;
                return;
            }
            c->stop &= ~STOP_HALT;
        }
        /* Deadlines are exact to the instruction (docs/deviations.md): no block
         * is longer than DBLOCK_LAT_MAX cycles, so only within that distance of
         * the deadline must a block be checked against it (run_block_near). */
        bool near = false;
        if (unlikely(c->cycles + DBLOCK_LAT_MAX > c->deadline)) {
            if (c->cycles >= c->deadline) {
                if (c->cycles < c->virt_deadline)
                    return;
                c->stop |= STOP_VMX; /* VMX's deadline: the boundary acts on it */
                continue;
            }
            near = true;
        }
        if (unlikely((c->rflags & (F_TF | F_RF)) | c->intr_shadow)) {
            /* One instruction at a time: the STI/MOV SS shadow covers exactly
             * one instruction, TF traps after each, and RF (set only by IRET
             * and task switches) lasts for one instruction (SDM Vol. 3B
             * "Resume Flag (RF) in EFLAGS Register"). RF's only effect is to
             * suppress instruction breakpoints, which vmxemu does not raise,
             * so it is cleared before the instruction: an IRET sets it anew. */
            c->rflags &= ~(uint64_t)F_RF;
            bool tf = (c->rflags & F_TF) != 0;
            run_block(c, true, false);
            c->intr_shadow = 0;
            if (c->nonroot) /* VMX: an interrupt window closed by the shadow may open now */
                c->stop |= STOP_VMX;
            if (tf && !(c->stop & STOP_EXIT))
                single_step_trap(c);
            continue;
        }
        if (unlikely(near))
            run_block_near(c);
        else
            run_block(c, false, false);
    }
}

enum machine_exit machine_run(machine_t *m)
{
    while (!m->exit_reason) {
        uint64_t now = m->cpu[0]->cycles;
        for (int i = 1; i < m->ncpus; i++)
            if (m->cpu[i]->cycles < now)
                now = m->cpu[i]->cycles;
        uint64_t until = m->ncpus > 1 ? now + SMP_QUANTUM : UINT64_MAX;
        if (m->max_cycles && until > m->max_cycles)
            until = m->max_cycles;
        if (m->max_cycles && now >= m->max_cycles) {
            machine_stop(m, MEXIT_CYCLES, 0);
            break;
        }
        bool all_dormant = true;
        for (int i = 0; i < m->ncpus && !m->exit_reason; i++) {
            cpu_t *c = m->cpu[i];
            m->cur = c;
            cpu_run(c, until);
            all_dormant &= c->dormant;
        }
        m->cur = NULL;
        if (all_dormant && !m->exit_reason) {
            /* Every vCPU is halted with nothing to wake it, or waits for a SIPI
             * nobody can send: the machine is halted for good. */
            machine_stop(m, MEXIT_HALTED, 0);
            break;
        }
        /* A dormant vCPU keeps time with the others (SMP quantum). */
        for (int i = 0; i < m->ncpus; i++)
            if (m->cpu[i]->dormant && until != UINT64_MAX && m->cpu[i]->cycles < until)
                m->cpu[i]->cycles = until;
        now = m->cpu[0]->cycles;
        for (int i = 1; i < m->ncpus; i++)
            if (m->cpu[i]->cycles < now)
                now = m->cpu[i]->cycles;
        events_fire(m, now);
    }
    return m->exit_reason;
}
