/* cmd_regs.c - register commands (regs, sregs, cregs, dregs, msr) and the
 * register names every command accepts in place of a number. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "emu/flags.h"
#include "emu/msr.h"
#include "monitor/repl.h"

static const char *const gpr64[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                       "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15" };
static const char *const gpr32[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };
static const char *const seg_names[S_COUNT] = { "es", "cs", "ss", "ds", "fs", "gs", "ldtr", "tr" };

/* Registers beyond the general ones: R(name, expression over c). */
#define OTHER_REGS(R)                                                                                \
    R("rip", c->rip) R("eip", (uint32_t)c->rip) R("pc", c->rip) R("rflags", cpu_get_rflags(c))      \
    R("eflags", (uint32_t)cpu_get_rflags(c)) R("cr0", c->cr0) R("cr2", c->cr2) R("cr3", c->cr3)     \
    R("cr4", c->cr4) R("cr8", c->cr8) R("efer", c->efer) R("xcr0", c->xcr0) R("dr0", c->dr[0])       \
    R("dr1", c->dr[1]) R("dr2", c->dr[2]) R("dr3", c->dr[3]) R("dr6", c->dr[6]) R("dr7", c->dr[7])   \
    R("fs_base", c->seg[S_FS].base) R("gs_base", c->seg[S_GS].base) R("cpl", c->cpl)

bool mon_reg_value(const cpu_t *c, const char *name, uint64_t *v)
{
    for (int i = 0; i < 16; i++)
        if (strcasecmp(name, gpr64[i]) == 0) {
            *v = c->gpr[i];
            return true;
        }
    for (int i = 0; i < 8; i++)
        if (strcasecmp(name, gpr32[i]) == 0) {
            *v = (uint32_t)c->gpr[i];
            return true;
        }
    for (int s = 0; s < S_COUNT; s++)
        if (strcasecmp(name, seg_names[s]) == 0) {
            *v = c->seg[s].sel;
            return true;
        }
#define R(n, expr)                \
    if (strcasecmp(name, n) == 0) { \
        *v = (expr);              \
        return true;              \
    }
    OTHER_REGS(R)
#undef R
    return false;
}

bool mon_parse_u64(mon_t *mon, const char *s, uint64_t *v)
{
    char base[64];
    const char *op = strpbrk(s + 1, "+-"); /* s + 1: a leading sign is not an operator */
    size_t blen = op ? (size_t)(op - s) : strlen(s);
    if (blen == 0 || blen >= sizeof base)
        return mon_err(mon, "bad number '%s'", s);
    memcpy(base, s, blen);
    base[blen] = 0;
    const char *name = base[0] == '$' ? base + 1 : base;
    uint64_t val;
    if (!mon_reg_value(mon_cpu(mon), name, &val)) {
        char *end;
        errno = 0;
        val = strtoull(base, &end, 0);
        if (errno || *end || !isdigit((unsigned char)base[0]))
            return mon_err(mon, "bad number or register '%s'", base);
    }
    if (op) {
        char *end;
        errno = 0;
        uint64_t off = strtoull(op + 1, &end, 0);
        if (errno || *end || !isdigit((unsigned char)op[1]))
            return mon_err(mon, "bad offset '%s'", op);
        val = *op == '+' ? val + off : val - off;
    }
    *v = val;
    return true;
}

/* B(mask, name): named bits of a register, printed in brackets. */
typedef struct bitname { uint64_t mask; const char *name; } bitname_t;

static const bitname_t rflags_bits[] = {
    { F_CF, "CF" }, { F_PF, "PF" }, { F_AF, "AF" }, { F_ZF, "ZF" }, { F_SF, "SF" }, { F_TF, "TF" },
    { F_IF, "IF" }, { F_DF, "DF" }, { F_OF, "OF" }, { F_NT, "NT" }, { F_RF, "RF" }, { F_VM, "VM" },
    { F_AC, "AC" }, { F_VIF, "VIF" }, { F_VIP, "VIP" }, { F_ID, "ID" }, { 0, NULL } };
static const bitname_t cr0_bits[] = {
    { CR0_PE, "PE" }, { CR0_MP, "MP" }, { CR0_EM, "EM" }, { CR0_TS, "TS" }, { CR0_ET, "ET" }, { CR0_NE, "NE" },
    { CR0_WP, "WP" }, { CR0_AM, "AM" }, { CR0_NW, "NW" }, { CR0_CD, "CD" }, { CR0_PG, "PG" }, { 0, NULL } };
static const bitname_t cr4_bits[] = {
    { CR4_VME, "VME" }, { CR4_PVI, "PVI" }, { CR4_TSD, "TSD" }, { CR4_DE, "DE" }, { CR4_PSE, "PSE" },
    { CR4_PAE, "PAE" }, { CR4_MCE, "MCE" }, { CR4_PGE, "PGE" }, { CR4_PCE, "PCE" }, { CR4_OSFXSR, "OSFXSR" },
    { CR4_OSXMMEXCPT, "OSXMMEXCPT" }, { CR4_UMIP, "UMIP" }, { CR4_LA57, "LA57" }, { CR4_VMXE, "VMXE" },
    { CR4_SMXE, "SMXE" }, { CR4_FSGSBASE, "FSGSBASE" }, { CR4_PCIDE, "PCIDE" }, { CR4_OSXSAVE, "OSXSAVE" },
    { CR4_SMEP, "SMEP" }, { CR4_SMAP, "SMAP" }, { CR4_PKE, "PKE" }, { 0, NULL } };
static const bitname_t efer_bits[] = {
    { EFER_SCE, "SCE" }, { EFER_LME, "LME" }, { EFER_LMA, "LMA" }, { EFER_NXE, "NXE" }, { 0, NULL } };
static const bitname_t dr7_bits[] = {
    { 1 << 0, "L0" }, { 1 << 1, "G0" }, { 1 << 2, "L1" }, { 1 << 3, "G1" }, { 1 << 4, "L2" }, { 1 << 5, "G2" },
    { 1 << 6, "L3" }, { 1 << 7, "G3" }, { 1 << 8, "LE" }, { 1 << 9, "GE" }, { 1 << 13, "GD" }, { 0, NULL } };

static void print_bits(FILE *f, uint64_t v, const bitname_t *t)
{
    fputs(" [", f);
    const char *sep = "";
    for (; t->name; t++)
        if (v & t->mask) {
            fprintf(f, "%s%s", sep, t->name);
            sep = " ";
        }
    fputs("]\n", f);
}

void mon_print_reg_bits(FILE *f, const char *reg, uint64_t v)
{
    static const struct { const char *reg; const bitname_t *t; } regs[] = {
        { "rflags", rflags_bits }, { "cr0", cr0_bits }, { "cr4", cr4_bits }, { "efer", efer_bits }, { "dr7", dr7_bits },
    };
    for (size_t k = 0; k < sizeof regs / sizeof regs[0]; k++)
        if (strcmp(regs[k].reg, reg) == 0)
            print_bits(f, v, regs[k].t);
}

bool cmd_regs(mon_t *mon, const mon_args_t *a)
{
    const cpu_t *c = mon_cpu(mon);
    static const char *const up[16] = { "RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "RSP",
                                        "R8",  "R9",  "R10", "R11", "R12", "R13", "R14", "R15" };
    static const int order[16] = { R_RAX, R_RBX, R_RCX, R_RDX, R_RSI, R_RDI, R_RBP, R_RSP,
                                   R_R8,  R_R9,  R_R10, R_R11, R_R12, R_R13, R_R14, R_R15 };
    for (int i = 0; i < 16; i++)
        fprintf(mon->out, "%-3s=%016llx%s", up[i], (unsigned long long)c->gpr[order[i]], i % 4 == 3 ? "\n" : " ");
    uint64_t fl = cpu_get_rflags(c);
    fprintf(mon->out, "RIP=%016llx RFLAGS=%016llx IOPL=%llu CPL=%u", (unsigned long long)c->rip,
            (unsigned long long)fl, (unsigned long long)((fl >> 12) & 3), c->cpl);
    print_bits(mon->out, fl, rflags_bits);
    return true;
}

bool cmd_sregs(mon_t *mon, const mon_args_t *a)
{
    const cpu_t *c = mon_cpu(mon);
    for (int s = 0; s < S_COUNT; s++) {
        const seg_t *g = &c->seg[s];
        char up[8] = "";
        for (int k = 0; seg_names[s][k]; k++)
            up[k] = (char)toupper((unsigned char)seg_names[s][k]);
        fprintf(mon->out, "%-4s sel=%04x base=%016llx limit=%08x ar=%05x", up, g->sel, (unsigned long long)g->base,
                g->limit, g->ar);
        if (g->ar & AR_UNUSABLE) {
            fputs(" unusable\n", mon->out);
            continue;
        }
        fprintf(mon->out, " type=%x %s dpl=%u%s%s%s%s%s\n", AR_TYPE(g->ar), g->ar & AR_S ? "S" : "sys", AR_DPL(g->ar),
                g->ar & AR_P ? " P" : " not-present", g->ar & AR_L ? " L" : "", g->ar & AR_DB ? " D/B" : "",
                g->ar & AR_G ? " G" : "", g->ar & AR_AVL ? " AVL" : "");
    }
    fprintf(mon->out, "GDTR base=%016llx limit=%04x\nIDTR base=%016llx limit=%04x\n", (unsigned long long)c->gdtr.base,
            c->gdtr.limit, (unsigned long long)c->idtr.base, c->idtr.limit);
    return true;
}

bool cmd_cregs(mon_t *mon, const mon_args_t *a)
{
    const cpu_t *c = mon_cpu(mon);
    FILE *f = mon->out;
    fprintf(f, "CR0=%016llx", (unsigned long long)c->cr0);
    print_bits(f, c->cr0, cr0_bits);
    fprintf(f, "CR2=%016llx\nCR3=%016llx [PCID %llu]\n", (unsigned long long)c->cr2, (unsigned long long)c->cr3,
            (unsigned long long)(c->cr4 & CR4_PCIDE ? c->cr3 & 0xfff : 0));
    fprintf(f, "CR4=%016llx", (unsigned long long)c->cr4);
    print_bits(f, c->cr4, cr4_bits);
    fprintf(f, "CR8=%016llx\nEFER=%016llx", (unsigned long long)c->cr8, (unsigned long long)c->efer);
    print_bits(f, c->efer, efer_bits);
    fprintf(f, "XCR0=%016llx\n", (unsigned long long)c->xcr0);
    return true;
}

bool cmd_dregs(mon_t *mon, const mon_args_t *a)
{
    const cpu_t *c = mon_cpu(mon);
    for (int i = 0; i < 4; i++)
        fprintf(mon->out, "DR%d=%016llx\n", i, (unsigned long long)c->dr[i]);
    fprintf(mon->out, "DR6=%016llx\nDR7=%016llx", (unsigned long long)c->dr[6], (unsigned long long)c->dr[7]);
    print_bits(mon->out, c->dr[7], dr7_bits);
    return true;
}

/* MSR numbers by name, from the emulator's MSR table. */
static const struct { uint32_t num; const char *name; } msr_table[] = {
#define MSR(num, name, gate, rd, wr, field) { num, #name },
#include "emu/msr.def"
#undef MSR
};

bool mon_msr_by_name(const char *s, uint32_t *num)
{
    for (size_t k = 0; k < sizeof msr_table / sizeof msr_table[0]; k++)
        if (strcasecmp(s, msr_table[k].name) == 0 || strcasecmp(s, msr_table[k].name + 5) == 0) {
            *num = msr_table[k].num;
            return true;
        }
    return false;
}

bool cmd_msr(mon_t *mon, const mon_args_t *a)
{
    if (a->argc != 2)
        return mon_err(mon, "usage: msr NAME | NUMBER");
    const char *s = a->argv[1];
    int64_t num = -1;
    uint32_t n;
    if (mon_msr_by_name(s, &n))
        num = n;
    else {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 0);
        if (errno || *end || !isdigit((unsigned char)*s) || v > 0xffffffffull)
            return mon_err(mon, "unknown MSR '%s' (a name such as IA32_EFER, or a number)", s);
        num = (int64_t)v;
    }
    uint64_t val;
    const char *name = msr_name((uint32_t)num);
    if (!msr_read(mon_cpu(mon), (uint32_t)num, &val))
        return mon_err(mon, "MSR %#llx%s%s: RDMSR would raise #GP(0)", (unsigned long long)num, name ? " " : "",
                       name ? name : "");
    fprintf(mon->out, "%s (%#llx) = %#018llx\n", name ? name : "MSR", (unsigned long long)num, (unsigned long long)val);
    return true;
}
