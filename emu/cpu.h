/* cpu.h - architectural state of one vCPU and the emulator's bookkeeping around it.
 *
 * One struct holds everything an instruction handler may touch. Segment
 * descriptor caches keep their attributes in the VMX access-rights layout
 * (SDM Vol. 3C "Guest Register State": type[3:0] S[4] DPL[6:5] P[7] AVL[12]
 * L[13] D/B[14] G[15] unusable[16]) so the VMX code can save and load them
 * without conversion.
 */
#ifndef VMXEMU_CPU_H
#define VMXEMU_CPU_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "decoder/decode.h"

struct machine;
struct cpu_model;
struct dblock;

enum { R_RAX, R_RCX, R_RDX, R_RBX, R_RSP, R_RBP, R_RSI, R_RDI,
       R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14, R_R15 };

/* Segment registers: the six of x86_seg, then the system ones. */
enum { S_ES = X86_ES, S_CS = X86_CS, S_SS = X86_SS, S_DS = X86_DS, S_FS = X86_FS,
       S_GS = X86_GS, S_LDTR, S_TR, S_COUNT };

/* Access-rights bits (VMX layout). */
#define AR_TYPE(a)   ((a) & 0xf)
#define AR_S         (1u << 4)
#define AR_DPL(a)    (((a) >> 5) & 3)
#define AR_P         (1u << 7)
#define AR_AVL       (1u << 12)
#define AR_L         (1u << 13)
#define AR_DB        (1u << 14)
#define AR_G         (1u << 15)
#define AR_UNUSABLE  (1u << 16)

typedef struct seg {
    uint64_t base;
    uint32_t limit; /* expanded byte limit (G applied) */
    uint32_t ar;    /* access rights, AR_* */
    uint16_t sel;
} seg_t;

typedef struct dtr {
    uint64_t base;
    uint16_t limit;
} dtr_t;

/* RFLAGS bits. */
#define F_CF   (1u << 0)
#define F_PF   (1u << 2)
#define F_AF   (1u << 4)
#define F_ZF   (1u << 6)
#define F_SF   (1u << 7)
#define F_TF   (1u << 8)
#define F_IF   (1u << 9)
#define F_DF   (1u << 10)
#define F_OF   (1u << 11)
#define F_IOPL (3u << 12)
#define F_NT   (1u << 14)
#define F_RF   (1u << 16)
#define F_VM   (1u << 17)
#define F_AC   (1u << 18)
#define F_VIF  (1u << 19)
#define F_VIP  (1u << 20)
#define F_ID   (1u << 21)
#define F_ARITH (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

/* Control register bits. */
#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_AM (1ull << 18)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)

#define CR4_VME        (1ull << 0)
#define CR4_PVI        (1ull << 1)
#define CR4_TSD        (1ull << 2)
#define CR4_DE         (1ull << 3)
#define CR4_PSE        (1ull << 4)
#define CR4_PAE        (1ull << 5)
#define CR4_MCE        (1ull << 6)
#define CR4_PGE        (1ull << 7)
#define CR4_PCE        (1ull << 8)
#define CR4_OSFXSR     (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_UMIP       (1ull << 11)
#define CR4_LA57       (1ull << 12)
#define CR4_VMXE       (1ull << 13)
#define CR4_SMXE       (1ull << 14)
#define CR4_FSGSBASE   (1ull << 16)
#define CR4_PCIDE      (1ull << 17)
#define CR4_OSXSAVE    (1ull << 18)
#define CR4_SMEP       (1ull << 20)
#define CR4_SMAP       (1ull << 21)
#define CR4_PKE        (1ull << 22)

#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

/* Exception vectors. */
enum { EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5, EXC_UD = 6,
       EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12, EXC_GP = 13,
       EXC_PF = 14, EXC_MF = 16, EXC_AC = 17, EXC_MC = 18, EXC_XM = 19, EXC_VE = 20,
       EXC_CP = 21 };

/* Page-fault error code bits. */
#define PF_P    (1u << 0)
#define PF_W    (1u << 1)
#define PF_U    (1u << 2)
#define PF_RSVD (1u << 3)
#define PF_I    (1u << 4)
#define PF_PK   (1u << 5)

/* Why the run loop must leave its fast path; any non-zero value of cpu->stop. */
enum {
    STOP_SMC      = 1u << 0, /* a store hit decoded code: refetch */
    STOP_MODE     = 1u << 1, /* fetch mode changed (CS, CR0, EFER, ...): refetch */
    STOP_IRQ      = 1u << 2, /* an interrupt or NMI may be deliverable */
    STOP_HALT     = 1u << 3, /* HLT executed */
    STOP_EXIT     = 1u << 4, /* the machine is finished (debug exit, shutdown, cycle limit) */
    STOP_MONITOR  = 1u << 5, /* the monitor asked for control */
    STOP_YIELD    = 1u << 6, /* a handler left RIP at itself to be re-run (long REP string ops) */
    STOP_BRANCH   = 1u << 7, /* a conditional branch was taken: the rest of the block is not on the path */
    STOP_VMX      = 1u << 8, /* VMX wants the instruction boundary (virt_ops.boundary) */
};

/* DR6 and DR7 bits the emulator raises or tests. */
#define DR6_BD (1u << 13) /* debug-register access detected (general detect) */
#define DR6_BS (1u << 14) /* single step */
#define DR7_GD (1ull << 13)

/* Decoder mode bits folded into the decoded-block cache key (with CR0.PE etc.). */
enum cpu_mode { MODE_REAL, MODE_V86, MODE_PROT16, MODE_PROT32, MODE_COMPAT16, MODE_COMPAT32, MODE_LONG64 };

/* One software-TLB entry. A tag is the page's linear address with the low 12
 * bits clear when the access may take the fast path; any slow-path reason sets
 * low bits (TLB_SLOW_*), so the hit test is a single compare. */
#define TLB_SIZE 1024
#define TLB_SLOW_MMIO 0x1  /* not RAM: go through the bus */
#define TLB_SLOW_CODE 0x2  /* page holds decoded code: stores must invalidate */
#define TLB_SLOW_DIRTY 0x4 /* dirty bit not yet set in the PTE */
#define TLB_INVALID 0x8
typedef struct tlb_entry {
    uint64_t tag_r;   /* read tag */
    uint64_t tag_w;   /* write tag */
    uint64_t tag_x;   /* execute tag */
    uintptr_t addend; /* host address = linear + addend (RAM only) */
    uint64_t paddr;   /* physical address of the page */
    uint64_t pcid_g;  /* PCID (bits 0-11), page-size log2 (bits 56-61) and global (bit 63), for
                       * INVLPG/INVPCID and CR3 loads */
} tlb_entry_t;

/* One x87 data register in its 80-bit image (significand, then sign and
 * exponent), padded to the 16-byte slot FXSAVE gives it. MMX register MMi is
 * the significand of physical register Ri (SDM Vol. 1 "MMX Technology
 * Programming Environment"); an MMX write sets the sign/exponent to all ones. */
typedef struct fpreg {
    uint64_t sig;
    uint16_t se;     /* sign (bit 15) and biased exponent */
    uint16_t pad[3];
} fpreg_t;

typedef union xmm {
    uint8_t b[16]; int8_t sb[16]; uint16_t w[8]; int16_t sw[8];
    uint32_t d[4]; int32_t sd[4]; uint64_t q[2]; int64_t sq[2];
    float f[4]; double g[2];
} xmm_t;

/* x87/MMX/SSE state (emu/fpu.h has the helpers). The tag word is kept in the
 * abridged FXSAVE form (bit i set: physical register Ri is not empty); the full
 * two-bit form FNSTENV/FNSAVE store is computed from the register contents, as
 * the hardware does (SDM Vol. 1 "x87 FPU Tag Word"). */
typedef struct fpu_state {
    uint16_t fcw, fsw;           /* fsw bits 13:11 (TOP) are stale: top holds TOP */
    uint8_t ftw;                 /* abridged tag word */
    uint8_t top;
    uint16_t fop;                /* last non-control x87 opcode (11 bits) */
    uint64_t fip, fdp;           /* last non-control x87 instruction / data offsets */
    uint16_t fcs, fds;
    uint64_t dp_cur;             /* this instruction's operand offset, for FDP_EXCPTN_ONLY */
    uint16_t ds_cur;
    bool dp_cur_valid;
    uint32_t mxcsr;
    fpreg_t st[8];               /* physical registers R0..R7 */
    xmm_t xmm[16];
} fpu_state_t;

typedef struct cpu {
    /* -- hot: touched by nearly every instruction -- */
    /* gpr[0..15] are RAX..R15; gpr[X86_RIP] is RIP and gpr[X86_NOREG] is always
     * zero, so effective addresses index the file without branches (exec.h). */
    union {
        uint64_t gpr[18];
        struct {
            uint64_t gpr_file_[16];
            uint64_t rip;    /* during a handler: the address of the next instruction */
            uint64_t zero_;  /* never written */
        };
    };
    uint64_t insn_rip;       /* address of the executing instruction (faults restart here) */
    uint64_t lf_res;         /* lazy flags: result of the last flag-setting operation */
    uint64_t lf_aux;         /* lazy flags: carry-out vector and size, see emu/flags.h */
    uint64_t rflags;         /* RFLAGS with the arithmetic bits held lazily in lf_* */
    uint64_t cycles;         /* the only clock */
    uint64_t deadline;       /* next cycle at which the run loop must look at events */
    volatile uint32_t stop;  /* STOP_* reasons */
    uint8_t cpl;
    uint8_t mode;            /* enum cpu_mode, derived from CR0, EFER, RFLAGS.VM and CS */
    uint8_t dmode;           /* enum x86_mode the decoder uses */
    uint8_t a20;             /* unused: A20 is always on (documented) */
    tlb_entry_t *tlb;        /* the TLB for the current privilege (user or supervisor) */

    seg_t seg[S_COUNT];
    dtr_t gdtr, idtr;

    uint64_t cr0, cr2, cr3, cr4, cr8, efer, xcr0;
    uint64_t pdpte[4];       /* PAE paging: the PDPTE registers, loaded by MOV CR0/CR3/CR4 (emu/paging.c) */
    uint64_t dr[8];          /* DR0-3, DR6 at [6], DR7 at [7] (4 and 5 alias them) */
    /* The DR6-form bits (B3-B0, BD, BS) of a debug exception on its way: DR6
     * receives them when the #DB is delivered, not when a VM exit replaces the
     * delivery (its exit qualification reports them instead, SDM Vol. 3C "Exit
     * Qualification for Debug Exceptions"); in VMX non-root operation a
     * single-step trap waits here for the instruction boundary (vmx/boundary.c). */
    uint32_t db_pending;

    /* MSRs without a home elsewhere */
    uint64_t msr_star, msr_lstar, msr_cstar, msr_fmask, msr_kernel_gs_base;
    uint64_t msr_sysenter_cs, msr_sysenter_esp, msr_sysenter_eip;
    uint64_t msr_pat, msr_tsc_aux, msr_apic_base, msr_misc_enable, msr_feature_control;
    uint64_t msr_tsc_adjust, msr_debugctl, msr_mtrr_def_type, msr_mtrr_fixed[11], msr_mtrr_var[20];
    uint64_t msr_spec_ctrl, msr_xss, msr_perf_global_ctrl;
    uint64_t tsc_offset;     /* IA32_TIME_STAMP_COUNTER writes: tsc = cycles * ratio + tsc_offset */

    fpu_state_t fpu;

    /* -- interrupt and run state -- */
    bool halted;
    bool shutdown;           /* triple fault */
    uint8_t intr_shadow;     /* 1: blocking by STI, 2: blocking by MOV SS/POP SS (for the next instruction) */
    bool nmi_pending, nmi_blocked;
    bool intr_line;          /* the INTR input is asserted: an external interrupt waits for IF */
    bool wait_for_sipi;      /* after INIT, an application processor waits for a SIPI */
    bool dormant;            /* the run loop found nothing but another vCPU can wake this one */
    /* MONITOR/MWAIT (emu/exec_misc.c): the armed line's physical address and its bytes when armed */
    bool monitor_armed;
    uint64_t monitor_pa;
    uint8_t monitor_line[64];

    /* -- VMX (vmx/ owns the state; emu/ only tests these) -- */
    bool vmx_operation;      /* in VMX operation (VMXON done): CR0/CR4 fixed bits, INIT blocked */
    bool init_pending;       /* an INIT arrived while blocked (VMX root operation); VMXOFF delivers it */
    bool nonroot;            /* VMX non-root operation: decoded blocks and events go through virt_ops */
    bool ept;                /* non-root with "enable EPT": guest-physical accesses go through virt_ops.gpa */
    bool nmi_iret_keep;      /* IRET leaves NMI blocking alone (VMX non-root with "NMI exiting") */
    /* The cycle at which virt_ops.boundary must look at the next instruction
     * boundary (VMX-preemption timer, monitor trap flag); UINT64_MAX: none.
     * The run loop folds it into its deadline and stops there exactly. */
    uint64_t virt_deadline;
    uint64_t apic_access;    /* non-root with "virtualize APIC accesses": the APIC-access page (virt_ops.apic_access) */
    struct vmx_cpu *vmx;     /* vmx/'s per-vCPU state, NULL until VMX is first used */
    uint8_t exc_depth;       /* nesting of exception delivery, for #DF and triple fault */
    uint8_t exc_first;       /* vector of the exception being delivered (class for #DF rules) */
    /* A #PF's linear address waits here until the #PF is delivered: CR2 is
     * written then, and not at all when the #PF causes a VM exit instead
     * (SDM Vol. 3C "VM Exits": exits caused by page faults leave CR2 alone). */
    uint64_t pf_addr;
    bool pf_addr_pending;
    /* the event cpu_fault*()/cpu_raise_soft() recorded for cpu_deliver_pending() (emu/except.c) */
    uint8_t ev_type, ev_vec; /* enum event_type, vector */
    bool ev_has_err;
    uint32_t ev_err;
    uint64_t rdrand_state;   /* deterministic RDRAND/RDSEED generator */

    /* -- fault unwinding -- */
    jmp_buf fault_jmp;       /* run loop's landing pad for cpu_exception() */

    /* -- bookkeeping -- */
    int index;               /* vCPU number */
    struct machine *m;
    const struct cpu_model *model;
    /* the current translation context's arrays (CPL 0-2, CPL 3) and the bank of contexts (emu/tlb.h) */
    tlb_entry_t *tlb_sup, *tlb_user;
    struct tlb_ctx *tlb_ctx;
    struct tlb_bank *tlb_bank;
    uint64_t insn_count;     /* instructions retired (for bench and the monitor) */
    const struct dblock *blk; /* the decoded block being run, and the RIP it started at */
    uint64_t blk_rip;
    struct dblock *last_blk; /* the block that completed last (it remembers its successor) */
    uint64_t fetch_epoch;    /* bumped whenever RIP -> physical may have changed: TLB flushes, mode changes */
} cpu_t;

/* Reset to the power-on state (SDM Vol. 3A "Initialization Overview"). */
void cpu_reset(cpu_t *c);

/* Recompute mode, dmode and the TLB pointer after CR0/EFER/CS/RFLAGS.VM changes. */
void cpu_update_mode(cpu_t *c);

/* The INIT signal (SDM Vol. 3A "Initialization Overview", Table "Processor State
 * Following Power-up, Reset, or INIT"): registers as after reset, while MSRs,
 * the x87/SSE state and the caches keep their contents. An application
 * processor then waits for a SIPI; the bootstrap processor has no firmware to
 * run here, so INIT on it ends the run as a reset request. */
void cpu_init_signal(cpu_t *c);
/* A start-up IPI with vector v: a vCPU waiting for SIPI starts in real mode at
 * v << 12 (CS = v << 8, IP = 0). Ignored otherwise. */
void cpu_sipi(cpu_t *c, uint8_t v);

#endif
