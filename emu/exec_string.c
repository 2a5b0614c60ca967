/* exec_string.c - string instructions MOVS CMPS STOS LODS SCAS INS OUTS with
 * REP/REPE/REPNE (SDM Vol. 2 "MOVS", ..., "REP/REPE/REPZ/REPNE/REPNZ").
 *
 * The address size picks SI/ESI/RSI, DI/EDI/RDI and CX/ECX/RCX; the source
 * segment is DS or the override, the destination always ES. Registers are
 * written back after every element, so a fault part-way leaves a state the
 * instruction restarts from (SDM Vol. 1 "Fast-String Operation"). One handler
 * call runs at most STR_BUDGET iterations and stops before the cycle deadline;
 * if work remains it leaves RIP at the instruction and sets STOP_YIELD so the
 * run loop looks at events and re-executes it. The run loop charges d->lat for
 * the first iteration; each further iteration is charged here as it is done.
 *
 * REP MOVS/STOS/CMPS/SCAS with DF=0 work on the rest of a page at a time
 * through host pointers once a normal element access has filled the TLB
 * entries, when both pages are plain RAM (the TLB tags carry no slow-path
 * bits) and the segment limits provably allow the whole run.
 */
#include "emu/exec.h"
#include "emu/flags.h"
#include "emu/machine.h"
#include "emu/seg.h"

#define STR_BUDGET 4096 /* iterations per handler call, so long runs see events */

enum str_op { SO_MOVS, SO_CMPS, SO_STOS, SO_LODS, SO_SCAS, SO_INS, SO_OUTS };

typedef struct str_ctx {
    uint64_t amask; /* address-size mask */
    int64_t step;   /* +size, or -size with DF=1 */
    int sseg;       /* source segment (DS or the override) */
    /* MOVS/CMPS: the source page's read tag and addend as the last element's
     * read left them, before the ES access could evict them from a shared
     * TLB slot. */
    uint64_t src_tag;
    uintptr_t src_addend;
} str_ctx;

#define ALWAYS_INLINE inline __attribute__((always_inline))

/* Write an address-size register: 16 bits merge, 32 bits zero-extend. */
static ALWAYS_INLINE void areg_set(cpu_t *c, int r, uint64_t amask, uint64_t v)
{
    if (amask == 0xffff)
        c->gpr[r] = (c->gpr[r] & ~0xffffull) | (v & 0xffff);
    else
        c->gpr[r] = v & amask;
}

/* LODS destination: AL/AX merge, EAX zero-extends, RAX. */
static ALWAYS_INLINE void rax_set(cpu_t *c, int size, uint64_t v)
{
    if (size <= 2)
        c->gpr[R_RAX] = (c->gpr[R_RAX] & ~size_mask(size)) | (v & size_mask(size));
    else
        c->gpr[R_RAX] = v & size_mask(size);
}

static ALWAYS_INLINE void flags_cmp(cpu_t *c, int size, uint64_t a, uint64_t b)
{
    switch (size) {
    case 1: flags_sub8(c, (uint8_t)a, (uint8_t)b, (uint8_t)(a - b)); break;
    case 2: flags_sub16(c, (uint16_t)a, (uint16_t)b, (uint16_t)(a - b)); break;
    case 4: flags_sub32(c, (uint32_t)a, (uint32_t)b, (uint32_t)(a - b)); break;
    default: flags_sub64(c, a, b, a - b); break;
    }
}

static void io_check(cpu_t *c, uint16_t port, int size)
{
    if (!io_allowed(c, port, size))
        cpu_fault_err(c, EXC_GP, 0);
}

/* One element. Returns "equal" for CMPS/SCAS (the REPE/REPNE condition). */
static ALWAYS_INLINE bool str_elem(cpu_t *c, str_ctx *s, int size, enum str_op op)
{
    uint64_t si = c->gpr[R_RSI] & s->amask, di = c->gpr[R_RDI] & s->amask;
    uint64_t a, b, la;
    uint16_t port = (uint16_t)c->gpr[R_RDX];
    switch (op) {
    case SO_MOVS: {
        la = seg_lin(c, s->sseg, si, size, ACC_READ);
        a = lin_read(c, la, size);
        const tlb_entry_t *e = &c->tlb[(la >> 12) & (TLB_SIZE - 1)];
        s->src_tag = e->tag_r;
        s->src_addend = e->addend;
        lin_write(c, seg_lin(c, S_ES, di, size, ACC_WRITE), size, a);
        areg_set(c, R_RSI, s->amask, si + s->step);
        areg_set(c, R_RDI, s->amask, di + s->step);
        return false;
    }
    case SO_STOS:
        lin_write(c, seg_lin(c, S_ES, di, size, ACC_WRITE), size, c->gpr[R_RAX]);
        areg_set(c, R_RDI, s->amask, di + s->step);
        return false;
    case SO_LODS:
        a = lin_read(c, seg_lin(c, s->sseg, si, size, ACC_READ), size);
        rax_set(c, size, a);
        areg_set(c, R_RSI, s->amask, si + s->step);
        return false;
    case SO_CMPS: { /* [rSI] - ES:[rDI] */
        la = seg_lin(c, s->sseg, si, size, ACC_READ);
        a = lin_read(c, la, size);
        const tlb_entry_t *e = &c->tlb[(la >> 12) & (TLB_SIZE - 1)];
        s->src_tag = e->tag_r;
        s->src_addend = e->addend;
        b = lin_read(c, seg_lin(c, S_ES, di, size, ACC_READ), size);
        flags_cmp(c, size, a, b);
        areg_set(c, R_RSI, s->amask, si + s->step);
        areg_set(c, R_RDI, s->amask, di + s->step);
        return a == b;
    }
    case SO_SCAS: /* rAX - ES:[rDI] */
        a = c->gpr[R_RAX] & size_mask(size);
        b = lin_read(c, seg_lin(c, S_ES, di, size, ACC_READ), size);
        flags_cmp(c, size, a, b);
        areg_set(c, R_RDI, s->amask, di + s->step);
        return a == b;
    case SO_INS:
        /* Fault on the destination before the port is read, so a restart
         * does not read the port twice. */
        io_check(c, port, size);
        la = seg_lin(c, S_ES, di, size, ACC_WRITE);
        lin_probe_write(c, la, size);
        lin_write(c, la, size, io_read(c->m, port, size));
        areg_set(c, R_RDI, s->amask, di + s->step);
        return false;
    case SO_OUTS:
        io_check(c, port, size);
        a = lin_read(c, seg_lin(c, s->sseg, si, size, ACC_READ), size);
        io_write(c->m, port, size, a);
        areg_set(c, R_RSI, s->amask, si + s->step);
        return false;
    }
    return false;
}

/* ---- page-sized fast path (REP MOVS/STOS, DF=0) ---- */

/* How many whole size-byte elements from offset off on are certainly inside
 * the segment and the address size, with no further check: outside 64-bit
 * mode, only expand-up segments qualify (their valid offsets are 0..limit);
 * expand-down ones go element by element. */
static inline uint64_t seg_room(const cpu_t *c, int seg, uint64_t off, int size, uint64_t amask)
{
    uint64_t end = amask;
    if (c->mode != MODE_LONG64) {
        const seg_t *s = &c->seg[seg];
        if ((s->ar & (AR_S | SEG_CODE | SEG_EXPDN)) == (AR_S | SEG_EXPDN))
            return 0;
        if (s->limit < end)
            end = s->limit;
    }
    if (off > end || end - off < (uint64_t)size - 1)
        return 0;
    return (end - off - (size - 1)) / size + 1;
}

static inline uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* Host pointer for la when its TLB entry allows fast access of this kind, else NULL. */
static inline uint8_t *tlb_host(cpu_t *c, uint64_t la, bool write)
{
    const tlb_entry_t *e = &c->tlb[(la >> 12) & (TLB_SIZE - 1)];
    uint64_t tag = write ? e->tag_w : e->tag_r;
    return tag == (la & ~0xfffull) ? (uint8_t *)(uintptr_t)(la + e->addend) : NULL;
}

/* Host pointer for a chunk's source: its TLB entry, or the translation the
 * last element's read used when a store of the same element evicted it. */
static inline const uint8_t *src_host(cpu_t *c, const str_ctx *s, uint64_t sla)
{
    const uint8_t *sp = tlb_host(c, sla, false);
    if (!sp && s->src_tag == (sla & ~0xfffull))
        sp = (const uint8_t *)(uintptr_t)(sla + s->src_addend);
    return sp;
}

/* How many of at most max elements from rDI (and rSI when has_src) a chunk
 * may cover: inside the segments, the address size and the current pages.
 * Sets the linear addresses of the first element. The segment checks of that
 * element may fault, exactly as the element path would. */
static ALWAYS_INLINE uint64_t chunk_span(cpu_t *c, const str_ctx *s, int size, bool has_src,
                                         enum mmu_access dacc, uint64_t max, uint64_t *sla,
                                         uint64_t *dla)
{
    uint64_t si = c->gpr[R_RSI] & s->amask, di = c->gpr[R_RDI] & s->amask;
    uint64_t n = min64(max, seg_room(c, S_ES, di, size, s->amask));
    if (has_src)
        n = min64(n, seg_room(c, s->sseg, si, size, s->amask));
    if (n == 0)
        return 0;
    *dla = seg_lin(c, S_ES, di, size, dacc);
    n = min64(n, (0x1000 - (*dla & 0xfff)) / size);
    if (has_src) {
        *sla = seg_lin(c, s->sseg, si, size, ACC_READ);
        n = min64(n, (0x1000 - (*sla & 0xfff)) / size);
    }
    return n;
}

/* Up to max elements of REP MOVS/STOS within the current pages. Returns how
 * many were done (0: take the element path); rSI/rDI are updated, rCX is the
 * caller's. */
static ALWAYS_INLINE uint64_t str_chunk(cpu_t *c, const str_ctx *s, int size, enum str_op op,
                                        uint64_t max)
{
    uint64_t si = c->gpr[R_RSI] & s->amask, di = c->gpr[R_RDI] & s->amask, sla = 0, dla = 0;
    uint64_t n = chunk_span(c, s, size, op == SO_MOVS, ACC_WRITE, max, &sla, &dla);
    if (n == 0)
        return 0;
    uint8_t *dp = tlb_host(c, dla, true);
    if (!dp)
        return 0;
    size_t len = (size_t)n * size;
    if (op == SO_MOVS) {
        const uint8_t *sp = src_host(c, s, sla);
        if (!sp)
            return 0;
        if (dp > sp && dp < sp + len) {
            /* The destination overlaps the source ahead of it: the result must
             * be that of element-by-element copying (which replicates). */
            for (size_t k = 0; k < len; k += size) {
                uint64_t v;
                memcpy(&v, sp + k, size);
                memcpy(dp + k, &v, size);
            }
        } else {
            memmove(dp, sp, len);
        }
        areg_set(c, R_RSI, s->amask, si + len);
    } else if (size == 1) {
        memset(dp, (uint8_t)c->gpr[R_RAX], len);
    } else {
        uint64_t v = c->gpr[R_RAX];
        for (size_t k = 0; k < len; k += size)
            memcpy(dp + k, &v, size);
    }
    areg_set(c, R_RDI, s->amask, di + len);
    return n;
}

/* Up to max elements of REPE/REPNE CMPS/SCAS within the current pages, stopping
 * after the first element whose comparison ends the repetition (*ended). The
 * flags are those of the last comparison, as after the element path. */
static ALWAYS_INLINE uint64_t cmp_chunk(cpu_t *c, const str_ctx *s, int size, enum str_op op,
                                        uint64_t max, bool repe, bool *ended)
{
    uint64_t si = c->gpr[R_RSI] & s->amask, di = c->gpr[R_RDI] & s->amask, sla = 0, dla = 0;
    uint64_t n = chunk_span(c, s, size, op == SO_CMPS, ACC_READ, max, &sla, &dla);
    if (n == 0)
        return 0;
    const uint8_t *dp = tlb_host(c, dla, false), *sp = NULL;
    if (!dp)
        return 0;
    if (op == SO_CMPS && !(sp = src_host(c, s, sla)))
        return 0;
    uint64_t a = c->gpr[R_RAX] & size_mask(size), b = 0, k = 0;
    bool eq;
    do {
        if (op == SO_CMPS) {
            a = 0;
            memcpy(&a, sp + k * size, size);
        }
        b = 0;
        memcpy(&b, dp + k * size, size);
        eq = a == b;
        k++;
    } while (eq == repe && k < n);
    flags_cmp(c, size, a, b);
    *ended = eq != repe;
    if (op == SO_CMPS)
        areg_set(c, R_RSI, s->amask, si + k * size);
    areg_set(c, R_RDI, s->amask, di + k * size);
    return k;
}

/* The whole instruction, with or without a repeat prefix. */
static ALWAYS_INLINE void str_exec(cpu_t *c, const dinsn_t *d, int size, enum str_op op)
{
    str_ctx s = {
        .amask = size_mask(d->i.asize),
        .step = (c->rflags & F_DF) ? -(int64_t)size : size,
        .sseg = (d->i.pfx & X86_PFX_SEGOVR) ? d->i.seg : S_DS,
        .src_tag = TLB_INVALID,
    };
    /* F2 repeats MOVS/STOS/LODS/INS/OUTS like F3 does; only CMPS/SCAS tell them apart. */
    if (!(d->i.pfx & (X86_PFX_REP | X86_PFX_REPNE))) {
        str_elem(c, &s, size, op);
        return;
    }
    const bool cond = op == SO_CMPS || op == SO_SCAS;
    const bool repe = (d->i.pfx & X86_PFX_REP) != 0;
    const bool fast = op != SO_LODS && op != SO_INS && op != SO_OUTS && s.step > 0;
    const uint64_t lat = d->lat ? d->lat : 1;
    uint64_t cnt = c->gpr[R_RCX] & s.amask;
    uint64_t done = 0;
    if (cnt == 0)
        return;
    for (;;) {
        bool eq = str_elem(c, &s, size, op);
        areg_set(c, R_RCX, s.amask, --cnt);
        done++;
        if (cnt == 0 || (cond && eq != repe))
            return;
        if (unlikely(c->rflags & F_TF)) {
            /* Single-step traps after every iteration, with RIP still on the
             * instruction while iterations remain (NASM x86 reference, "TF -
             * Trace flag"). With TF set the run loop runs one instruction per
             * block and traps unless a stop bit is set: so no STOP_YIELD here. */
            c->rip = c->insn_rip;
            return;
        }
        if (fast) {
            /* Elements that may start before the deadline; the run loop has yet
             * to charge the first one. */
            uint64_t now = c->cycles + lat;
            uint64_t room = now < c->deadline ? (c->deadline - now + lat - 1) / lat : 0;
            uint64_t max = min64(min64(cnt, STR_BUDGET - done), room);
            bool ended = false;
            uint64_t k = cond ? cmp_chunk(c, &s, size, op, max, repe, &ended)
                              : str_chunk(c, &s, size, op, max);
            if (k) {
                areg_set(c, R_RCX, s.amask, cnt -= k);
                done += k;
                cpu_charge(c, k * lat);
                if (cnt == 0 || ended)
                    return;
            }
        }
        if (done >= STR_BUDGET || c->cycles + lat >= c->deadline ||
            (c->stop & (STOP_EXIT | STOP_MONITOR | STOP_IRQ))) {
            c->rip = c->insn_rip;
            c->stop |= STOP_YIELD;
            c->insn_count--; /* it retires only when its last element is done */
            return;
        }
        cpu_charge(c, lat); /* the next element */
    }
}

/* Operand size of the word forms; INS/OUTS stop at 32 bits (REX.W is ignored). */
#define STR_HANDLERS(name, op)                                                          \
    void op_##name##b(cpu_t *c, const dinsn_t *d) { str_exec(c, d, 1, op); }             \
    void op_##name(cpu_t *c, const dinsn_t *d)                                          \
    {                                                                                   \
        switch (d->i.osize) {                                                           \
        case 2: str_exec(c, d, 2, op); break;                                           \
        case 4: str_exec(c, d, 4, op); break;                                           \
        default:                                                                        \
            if (op == SO_INS || op == SO_OUTS)                                          \
                str_exec(c, d, 4, op);                                                  \
            else                                                                        \
                str_exec(c, d, 8, op);                                                  \
            break;                                                                      \
        }                                                                               \
    }
STR_HANDLERS(movs, SO_MOVS)
STR_HANDLERS(cmps, SO_CMPS)
STR_HANDLERS(stos, SO_STOS)
STR_HANDLERS(lods, SO_LODS)
STR_HANDLERS(scas, SO_SCAS)
STR_HANDLERS(ins, SO_INS)
STR_HANDLERS(outs, SO_OUTS)
#undef STR_HANDLERS
