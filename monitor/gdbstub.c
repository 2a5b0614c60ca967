/* gdbstub.c - GDB remote protocol server (gdbstub.h).
 *
 * One thread: while the guest runs, the debug hook's poll callback looks at
 * the socket every few thousand instructions for gdb's Ctrl-C byte (0x03) or
 * a new connection, so no locking is needed. Packets are dispatched through a
 * table of prefixes; registers through a table that also generates the
 * target.xml, so the layout gdb reads and the one g/G/p/P use are one.
 */
#include "monitor/gdbstub.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "emu/flags.h"
#include "emu/paging.h"
#include "monitor/guestmem.h"
#include "monitor/repl.h"

#define PKT_MAX 0x4000

/* ---- registers ---- */

enum reg_kind { RK_GPR, RK_RIP, RK_EFLAGS, RK_SEG, RK_ST, RK_FPU, RK_XMM, RK_MXCSR, RK_BASE, RK_CR, RK_EFER };
enum { FP_FCTRL, FP_FSTAT, FP_FTAG, FP_FISEG, FP_FIOFF, FP_FOSEG, FP_FOOFF, FP_FOP };

/* R(name, bits, type, feature index, kind, index), in gdb's amd64 order:
 * org.gnu.gdb.i386.core, .sse, .segments, then our system registers. */
#define GDB_REGS(R)                                                                                          \
    R("rax", 64, "int64", 0, RK_GPR, R_RAX) R("rbx", 64, "int64", 0, RK_GPR, R_RBX)                          \
    R("rcx", 64, "int64", 0, RK_GPR, R_RCX) R("rdx", 64, "int64", 0, RK_GPR, R_RDX)                          \
    R("rsi", 64, "int64", 0, RK_GPR, R_RSI) R("rdi", 64, "int64", 0, RK_GPR, R_RDI)                          \
    R("rbp", 64, "data_ptr", 0, RK_GPR, R_RBP) R("rsp", 64, "data_ptr", 0, RK_GPR, R_RSP)                    \
    R("r8", 64, "int64", 0, RK_GPR, R_R8) R("r9", 64, "int64", 0, RK_GPR, R_R9)                              \
    R("r10", 64, "int64", 0, RK_GPR, R_R10) R("r11", 64, "int64", 0, RK_GPR, R_R11)                          \
    R("r12", 64, "int64", 0, RK_GPR, R_R12) R("r13", 64, "int64", 0, RK_GPR, R_R13)                          \
    R("r14", 64, "int64", 0, RK_GPR, R_R14) R("r15", 64, "int64", 0, RK_GPR, R_R15)                          \
    R("rip", 64, "code_ptr", 0, RK_RIP, 0) R("eflags", 32, "i386_eflags", 0, RK_EFLAGS, 0)                   \
    R("cs", 32, "int32", 0, RK_SEG, S_CS) R("ss", 32, "int32", 0, RK_SEG, S_SS)                              \
    R("ds", 32, "int32", 0, RK_SEG, S_DS) R("es", 32, "int32", 0, RK_SEG, S_ES)                              \
    R("fs", 32, "int32", 0, RK_SEG, S_FS) R("gs", 32, "int32", 0, RK_SEG, S_GS)                              \
    R("st0", 80, "i387_ext", 0, RK_ST, 0) R("st1", 80, "i387_ext", 0, RK_ST, 1)                              \
    R("st2", 80, "i387_ext", 0, RK_ST, 2) R("st3", 80, "i387_ext", 0, RK_ST, 3)                              \
    R("st4", 80, "i387_ext", 0, RK_ST, 4) R("st5", 80, "i387_ext", 0, RK_ST, 5)                              \
    R("st6", 80, "i387_ext", 0, RK_ST, 6) R("st7", 80, "i387_ext", 0, RK_ST, 7)                              \
    R("fctrl", 32, "int", 0, RK_FPU, FP_FCTRL) R("fstat", 32, "int", 0, RK_FPU, FP_FSTAT)                    \
    R("ftag", 32, "int", 0, RK_FPU, FP_FTAG) R("fiseg", 32, "int", 0, RK_FPU, FP_FISEG)                      \
    R("fioff", 32, "int", 0, RK_FPU, FP_FIOFF) R("foseg", 32, "int", 0, RK_FPU, FP_FOSEG)                    \
    R("fooff", 32, "int", 0, RK_FPU, FP_FOOFF) R("fop", 32, "int", 0, RK_FPU, FP_FOP)                        \
    R("xmm0", 128, "vec128", 1, RK_XMM, 0) R("xmm1", 128, "vec128", 1, RK_XMM, 1)                            \
    R("xmm2", 128, "vec128", 1, RK_XMM, 2) R("xmm3", 128, "vec128", 1, RK_XMM, 3)                            \
    R("xmm4", 128, "vec128", 1, RK_XMM, 4) R("xmm5", 128, "vec128", 1, RK_XMM, 5)                            \
    R("xmm6", 128, "vec128", 1, RK_XMM, 6) R("xmm7", 128, "vec128", 1, RK_XMM, 7)                            \
    R("xmm8", 128, "vec128", 1, RK_XMM, 8) R("xmm9", 128, "vec128", 1, RK_XMM, 9)                            \
    R("xmm10", 128, "vec128", 1, RK_XMM, 10) R("xmm11", 128, "vec128", 1, RK_XMM, 11)                        \
    R("xmm12", 128, "vec128", 1, RK_XMM, 12) R("xmm13", 128, "vec128", 1, RK_XMM, 13)                        \
    R("xmm14", 128, "vec128", 1, RK_XMM, 14) R("xmm15", 128, "vec128", 1, RK_XMM, 15)                        \
    R("mxcsr", 32, "int", 1, RK_MXCSR, 0)                                                                    \
    R("fs_base", 64, "int", 2, RK_BASE, S_FS) R("gs_base", 64, "int", 2, RK_BASE, S_GS)                      \
    R("cr0", 64, "int", 3, RK_CR, 0) R("cr2", 64, "int", 3, RK_CR, 2) R("cr3", 64, "int", 3, RK_CR, 3)       \
    R("cr4", 64, "int", 3, RK_CR, 4) R("cr8", 64, "int", 3, RK_CR, 8) R("efer", 64, "int", 3, RK_EFER, 0)

static const struct gdb_reg {
    const char *name, *type;
    int bits, feature;
    enum reg_kind kind;
    int idx;
} regs[] = {
#define R(name, bits, type, feat, kind, idx) { name, type, bits, feat, kind, idx },
    GDB_REGS(R)
#undef R
};
#define NREGS ((int)(sizeof regs / sizeof regs[0]))

static const char *const features[] = { "org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse",
                                        "org.gnu.gdb.i386.segments", "org.vmxemu.x86.sys" };

int gdb_reg_count(void)
{
    return NREGS;
}

const char *gdb_reg_name(int n, int *bytes)
{
    if (n < 0 || n >= NREGS)
        return NULL;
    *bytes = regs[n].bits / 8;
    return regs[n].name;
}

/* The full two-bit x87 tag word from the abridged one: empty (11) or valid
 * (00); the zero and special classes are not distinguished. */
static uint16_t full_ftw(const fpu_state_t *f)
{
    uint16_t t = 0;
    for (int i = 0; i < 8; i++)
        if (!((f->ftw >> i) & 1))
            t |= (uint16_t)(3u << (2 * i));
    return t;
}

static uint64_t fpu_value(const cpu_t *c, int which)
{
    const fpu_state_t *f = &c->fpu;
    const uint64_t v[] = { [FP_FCTRL] = f->fcw, [FP_FSTAT] = (f->fsw & ~0x3800u) | ((unsigned)f->top << 11),
                           [FP_FTAG] = full_ftw(f), [FP_FISEG] = f->fcs, [FP_FIOFF] = (uint32_t)f->fip,
                           [FP_FOSEG] = f->fds, [FP_FOOFF] = (uint32_t)f->fdp, [FP_FOP] = f->fop };
    return v[which];
}

/* Register n of c in target byte order (little endian); returns its size. */
static int reg_read(const cpu_t *c, int n, uint8_t *out)
{
    const struct gdb_reg *r = &regs[n];
    uint64_t v = 0;
    switch (r->kind) {
    case RK_GPR: v = c->gpr[r->idx]; break;
    case RK_RIP: v = c->rip; break;
    case RK_EFLAGS: v = cpu_get_rflags(c); break;
    case RK_SEG: v = c->seg[r->idx].sel; break;
    case RK_ST: {
        const fpreg_t *st = &c->fpu.st[(c->fpu.top + r->idx) & 7];
        memcpy(out, &st->sig, 8);
        memcpy(out + 8, &st->se, 2);
        return 10;
    }
    case RK_FPU: v = fpu_value(c, r->idx); break;
    case RK_XMM: memcpy(out, &c->fpu.xmm[r->idx], 16); return 16;
    case RK_MXCSR: v = c->fpu.mxcsr; break;
    case RK_BASE: v = c->seg[r->idx].base; break;
    case RK_CR: v = r->idx == 0 ? c->cr0 : r->idx == 2 ? c->cr2 : r->idx == 3 ? c->cr3 : r->idx == 4 ? c->cr4 : c->cr8; break;
    case RK_EFER: v = c->efer; break;
    }
    memcpy(out, &v, (size_t)r->bits / 8);
    return r->bits / 8;
}

/* Write register n; registers whose write would need more than storing a
 * value (selectors, CRs other than through the CPU's own checks, EFER) accept
 * only their current value, so gdb's G of unchanged registers succeeds. */
static bool reg_write(cpu_t *c, int n, const uint8_t *in)
{
    const struct gdb_reg *r = &regs[n];
    uint8_t cur[16];
    int size = reg_read(c, n, cur);
    if (memcmp(cur, in, (size_t)size) == 0)
        return true;
    uint64_t v = 0;
    memcpy(&v, in, size < 8 ? (size_t)size : 8);
    switch (r->kind) {
    case RK_GPR: c->gpr[r->idx] = v; return true;
    case RK_RIP: c->rip = v; return true;
    case RK_EFLAGS: cpu_set_rflags(c, (cpu_get_rflags(c) & ~0xffffffffull) | (uint32_t)v | 2); return true;
    case RK_ST: {
        fpreg_t *st = &c->fpu.st[(c->fpu.top + r->idx) & 7];
        memcpy(&st->sig, in, 8);
        memcpy(&st->se, in + 8, 2);
        return true;
    }
    case RK_XMM: memcpy(&c->fpu.xmm[r->idx], in, 16); return true;
    case RK_MXCSR: c->fpu.mxcsr = (uint32_t)v; return true;
    case RK_BASE: c->seg[r->idx].base = v; return true;
    case RK_CR:
        if (r->idx == 2) {
            c->cr2 = v;
            return true;
        }
        /* CR0, CR3, CR4 with the CPU's checks and side effects; CR8 belongs to the APIC */
        return r->idx == 0 ? cpu_write_cr0(c, v) : r->idx == 3 ? cpu_write_cr3(c, v) : r->idx == 4 && cpu_write_cr4(c, v);
    default: return false;
    }
}

/* ---- the connection ---- */

typedef struct gdb {
    mon_t mon;          /* the breakpoint table and the command table for qRcmd */
    int lfd, fd;
    int gcpu, ccpu;     /* Hg (registers, memory) and Hc (step/continue) vCPUs; -1: any */
    uint8_t rbuf[4096];
    int rpos, rlen;
    char last_stop[64];
    bool detach, kill;
    char xml[16384];
    size_t xml_len;
} gdb_t;

static int get_byte(gdb_t *g)
{
    if (g->rpos == g->rlen) {
        ssize_t n;
        do
            n = read(g->fd, g->rbuf, sizeof g->rbuf);
        while (n < 0 && errno == EINTR);
        if (n <= 0)
            return -1;
        g->rpos = 0;
        g->rlen = (int)n;
    }
    return g->rbuf[g->rpos++];
}

/* MSG_NOSIGNAL: a debugger that went away is a failed write, not SIGPIPE. */
static bool write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static const char hexd[] = "0123456789abcdef";

/* Send one packet and wait for gdb's '+'. */
static bool put_packet(gdb_t *g, const char *data)
{
    size_t n = strlen(data);
    char *buf = malloc(n + 5);
    if (!buf)
        return false;
    uint8_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum = (uint8_t)(sum + (uint8_t)data[i]);
    buf[0] = '$';
    memcpy(buf + 1, data, n);
    buf[n + 1] = '#';
    buf[n + 2] = hexd[sum >> 4];
    buf[n + 3] = hexd[sum & 15];
    bool ok = false;
    for (int tries = 0; tries < 5; tries++) {
        if (!write_all(g->fd, buf, n + 4))
            break;
        int c = get_byte(g);
        if (c == '+') {
            ok = true;
            break;
        }
        if (c != '-')
            break;
    }
    free(buf);
    return ok;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Receive one packet into buf (NUL-terminated); false when the connection is gone. */
static bool get_packet(gdb_t *g, char *buf, size_t cap)
{
    for (;;) {
        int c;
        do
            c = get_byte(g);
        while (c >= 0 && c != '$');
        if (c < 0)
            return false;
        size_t n = 0;
        uint8_t sum = 0;
        while ((c = get_byte(g)) >= 0 && c != '#') {
            if (n + 1 < cap)
                buf[n++] = (char)c;
            sum = (uint8_t)(sum + c);
        }
        int h = get_byte(g), l = get_byte(g);
        if (c < 0 || h < 0 || l < 0)
            return false;
        buf[n] = 0;
        if (hexval(h) * 16 + hexval(l) == sum) {
            write_all(g->fd, "+", 1);
            return true;
        }
        write_all(g->fd, "-", 1);
    }
}

static void to_hex(char *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexd[p[i] >> 4];
        out[2 * i + 1] = hexd[p[i] & 15];
    }
    out[2 * n] = 0;
}

/* Hex text to bytes; returns how many, or -1 on a bad digit. */
static long from_hex(uint8_t *out, size_t cap, const char *s)
{
    size_t n = 0;
    for (; s[0] && s[1] && n < cap; s += 2) {
        int h = hexval(s[0]), l = hexval(s[1]);
        if (h < 0 || l < 0)
            return -1;
        out[n++] = (uint8_t)(h * 16 + l);
    }
    return (long)n;
}

/* ---- running ---- */

/* While the guest runs: a 0x03 from gdb stops it. */
static bool poll_ctrl_c(void *opaque)
{
    gdb_t *g = opaque;
    struct pollfd p = { .fd = g->fd, .events = POLLIN };
    while (poll(&p, 1, 0) > 0) {
        int c = get_byte(g);
        if (c < 0 || c == 0x03)
            return true; /* Ctrl-C, or gdb went away */
    }
    return false;
}

static cpu_t *gcpu(gdb_t *g)
{
    return g->mon.m->cpu[g->gcpu < 0 ? 0 : g->gcpu];
}

/* Run and describe the stop as gdb wants it (T or W packet) in g->last_stop. */
static void run(gdb_t *g, uint64_t steps)
{
    dbg_t *d = &g->mon.dbg;
    int cpu = g->ccpu >= 0 ? g->ccpu : g->gcpu >= 0 ? g->gcpu : 0;
    d->poll = poll_ctrl_c;
    d->poll_opaque = g;
    enum machine_exit why = dbg_run(d, cpu, steps, false);
    machine_t *m = g->mon.m;
    if (why != MEXIT_DEBUG) {
        g->mon.finished = true;
        int status = why == MEXIT_DEBUG_EXIT ? ((m->exit_value << 1) | 1) & 0xff : 0;
        snprintf(g->last_stop, sizeof g->last_stop, "W%02x", status);
        return;
    }
    g->gcpu = d->stop_cpu;
    const bp_t *b = dbg_get(d, d->stop_bp);
    const char *sig = !strncmp(d->why, "interrupted", 11) ? "02" : "05";
    char extra[40] = "";
    if (b && b->origin == BPO_GDB_SW)
        snprintf(extra, sizeof extra, "swbreak:;");
    else if (b && b->origin == BPO_GDB_HW)
        snprintf(extra, sizeof extra, "hwbreak:;");
    else if (b && (b->kind == BPK_WATCH || b->kind == BPK_RWATCH || b->kind == BPK_AWATCH))
        snprintf(extra, sizeof extra, "%s:%llx;", b->kind == BPK_WATCH ? "watch" : b->kind == BPK_RWATCH ? "rwatch" : "awatch",
                 (unsigned long long)b->lo);
    snprintf(g->last_stop, sizeof g->last_stop, "T%sthread:%02x;%s", sig, d->stop_cpu + 1, extra);
}

/* ---- packets ---- */

typedef void (*pkt_fn)(gdb_t *g, const char *args, char *reply);

static void build_xml(gdb_t *g)
{
    char *p = g->xml, *end = g->xml + sizeof g->xml;
    p += snprintf(p, (size_t)(end - p), "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
                                        "<target version=\"1.0\">\n<architecture>i386:x86-64</architecture>\n");
    for (int f = 0; f < 4; f++) {
        p += snprintf(p, (size_t)(end - p), "<feature name=\"%s\">\n", features[f]);
        if (f == 0) {
            static const char *const fl[] = { "CF", "", "PF", "", "AF", "", "ZF", "SF", "TF", "IF", "DF", "OF" };
            p += snprintf(p, (size_t)(end - p), "<flags id=\"i386_eflags\" size=\"4\">\n");
            for (int b = 0; b < 12; b++)
                if (fl[b][0])
                    p += snprintf(p, (size_t)(end - p), "<field name=\"%s\" start=\"%d\" end=\"%d\"/>\n", fl[b], b, b);
            p += snprintf(p, (size_t)(end - p), "</flags>\n");
        }
        if (f == 1) {
            static const char *const vec[][3] = { { "v4f", "ieee_single", "4" }, { "v2d", "ieee_double", "2" },
                                                  { "v16i8", "int8", "16" },     { "v8i16", "int16", "8" },
                                                  { "v4i32", "int32", "4" },     { "v2i64", "int64", "2" } };
            for (int v = 0; v < 6; v++)
                p += snprintf(p, (size_t)(end - p), "<vector id=\"%s\" type=\"%s\" count=\"%s\"/>\n", vec[v][0],
                              vec[v][1], vec[v][2]);
            p += snprintf(p, (size_t)(end - p), "<union id=\"vec128\">\n");
            for (int v = 0; v < 6; v++)
                p += snprintf(p, (size_t)(end - p), "<field name=\"%s\" type=\"%s\"/>\n", vec[v][0], vec[v][0]);
            p += snprintf(p, (size_t)(end - p), "<field name=\"uint128\" type=\"uint128\"/>\n</union>\n");
        }
        for (int n = 0; n < NREGS; n++)
            if (regs[n].feature == f)
                p += snprintf(p, (size_t)(end - p), "<reg name=\"%s\" bitsize=\"%d\" type=\"%s\" regnum=\"%d\"/>\n",
                              regs[n].name, regs[n].bits, regs[n].type, n);
        p += snprintf(p, (size_t)(end - p), "</feature>\n");
    }
    p += snprintf(p, (size_t)(end - p), "</target>\n");
    g->xml_len = (size_t)(p - g->xml);
}

static void pkt_supported(gdb_t *g, const char *args, char *reply)
{
    sprintf(reply, "PacketSize=%x;qXfer:features:read+;swbreak+;hwbreak+", PKT_MAX);
}

/* qXfer:features:read:target.xml:OFF,LEN */
static void pkt_xfer(gdb_t *g, const char *args, char *reply)
{
    unsigned long off, len;
    if (strncmp(args, "target.xml:", 11) || sscanf(args + 11, "%lx,%lx", &off, &len) != 2) {
        strcpy(reply, "E00");
        return;
    }
    if (len > PKT_MAX / 2)
        len = PKT_MAX / 2;
    if (off >= g->xml_len) {
        strcpy(reply, "l");
        return;
    }
    size_t n = g->xml_len - off < len ? g->xml_len - off : len;
    reply[0] = off + n < g->xml_len ? 'm' : 'l';
    memcpy(reply + 1, g->xml + off, n);
    reply[n + 1] = 0;
}

static void pkt_stop_reason(gdb_t *g, const char *args, char *reply)
{
    strcpy(reply, g->last_stop);
}

static void pkt_read_regs(gdb_t *g, const char *args, char *reply)
{
    cpu_t *c = gcpu(g);
    char *p = reply;
    for (int n = 0; n < NREGS; n++) {
        uint8_t v[16];
        int size = reg_read(c, n, v);
        to_hex(p, v, (size_t)size);
        p += 2 * size;
    }
}

static void pkt_write_regs(gdb_t *g, const char *args, char *reply)
{
    cpu_t *c = gcpu(g);
    bool ok = true;
    for (int n = 0; n < NREGS && *args; n++) {
        uint8_t v[16];
        int size = regs[n].bits / 8;
        if ((long)strlen(args) < 2 * size || from_hex(v, (size_t)size, args) != size)
            break;
        ok &= reg_write(c, n, v);
        args += 2 * size;
    }
    strcpy(reply, ok ? "OK" : "E01");
}

static void pkt_read_reg(gdb_t *g, const char *args, char *reply)
{
    unsigned long n = strtoul(args, NULL, 16);
    if (n >= (unsigned long)NREGS) {
        strcpy(reply, "E00");
        return;
    }
    uint8_t v[16];
    to_hex(reply, v, (size_t)reg_read(gcpu(g), (int)n, v));
}

static void pkt_write_reg(gdb_t *g, const char *args, char *reply)
{
    char *eq;
    unsigned long n = strtoul(args, &eq, 16);
    uint8_t v[16];
    if (*eq != '=' || n >= (unsigned long)NREGS || from_hex(v, sizeof v, eq + 1) != regs[n].bits / 8) {
        strcpy(reply, "E00");
        return;
    }
    strcpy(reply, reg_write(gcpu(g), (int)n, v) ? "OK" : "E01");
}

static void pkt_read_mem(gdb_t *g, const char *args, char *reply)
{
    unsigned long long addr;
    unsigned long len;
    if (sscanf(args, "%llx,%lx", &addr, &len) != 2) {
        strcpy(reply, "E00");
        return;
    }
    if (len > PKT_MAX / 2 - 8)
        len = PKT_MAX / 2 - 8;
    uint8_t buf[PKT_MAX / 2];
    size_t got = gm_read_lin(gcpu(g), addr, buf, len);
    if (got == 0 && len)
        strcpy(reply, "E14");
    else
        to_hex(reply, buf, got);
}

static void pkt_write_mem(gdb_t *g, const char *args, char *reply)
{
    unsigned long long addr;
    unsigned long len;
    int pos = 0;
    uint8_t buf[PKT_MAX / 2];
    if (sscanf(args, "%llx,%lx:%n", &addr, &len, &pos) != 2 || !pos || len > sizeof buf ||
        from_hex(buf, len, args + pos) != (long)len) {
        strcpy(reply, "E00");
        return;
    }
    strcpy(reply, gm_write_lin(gcpu(g), addr, buf, len) ? "OK" : "E14");
}

/* c [ADDR], s [ADDR] */
static void resume(gdb_t *g, const char *args, char *reply, uint64_t steps)
{
    if (*args) {
        cpu_t *c = g->mon.m->cpu[g->ccpu >= 0 ? g->ccpu : g->gcpu >= 0 ? g->gcpu : 0];
        c->rip = strtoull(args, NULL, 16);
    }
    run(g, steps);
    strcpy(reply, g->last_stop);
}

static void pkt_continue(gdb_t *g, const char *args, char *reply)
{
    resume(g, args, reply, 0);
}

static void pkt_step(gdb_t *g, const char *args, char *reply)
{
    resume(g, args, reply, 1);
}

/* Z/z TYPE,ADDR,KIND: 0 software, 1 hardware (both emulator breakpoints), 2 write, 3 read,
 * 4 access watchpoint (monitor/break.c); KIND is the watched length for 2-4. */
static void breakpoint(gdb_t *g, const char *args, char *reply, bool insert)
{
    static const struct { enum bp_kind kind; enum bp_origin origin; } types[] = {
        { BPK_LIN, BPO_GDB_SW }, { BPK_LIN, BPO_GDB_HW }, { BPK_WATCH, BPO_GDB_WATCH },
        { BPK_RWATCH, BPO_GDB_WATCH }, { BPK_AWATCH, BPO_GDB_WATCH } };
    unsigned type;
    unsigned long long addr;
    unsigned long kind;
    if (sscanf(args, "%u,%llx,%lx", &type, &addr, &kind) != 3) {
        strcpy(reply, "E00");
        return;
    }
    if (type > 4)
        return;
    bool watch = types[type].kind != BPK_LIN;
    int len = watch ? (int)kind : 0;
    if (watch && (kind < 1 || kind > 8)) {
        strcpy(reply, "E00");
        return;
    }
    dbg_t *d = &g->mon.dbg;
    int id = dbg_find(d, types[type].kind, addr, len, types[type].origin);
    if (insert && !id)
        id = dbg_add(d, types[type].kind, addr, addr + (len ? len - 1 : 0), len, types[type].origin);
    else if (!insert && id)
        dbg_delete(d, id);
    strcpy(reply, id > 0 || !insert ? "OK" : "E0e");
}

static void pkt_insert(gdb_t *g, const char *args, char *reply)
{
    breakpoint(g, args, reply, true);
}

static void pkt_remove(gdb_t *g, const char *args, char *reply)
{
    breakpoint(g, args, reply, false);
}

/* Hg/Hc THREAD: thread ids are vCPU numbers + 1; 0 and -1 mean any. */
static void pkt_thread(gdb_t *g, const char *args, char *reply)
{
    long t = strtol(args + 1, NULL, 16);
    if (t > g->mon.m->ncpus) {
        strcpy(reply, "E00");
        return;
    }
    int cpu = t <= 0 ? -1 : (int)t - 1;
    if (args[0] == 'g')
        g->gcpu = cpu < 0 ? 0 : cpu;
    else
        g->ccpu = cpu;
    strcpy(reply, "OK");
}

static void pkt_thread_alive(gdb_t *g, const char *args, char *reply)
{
    long t = strtol(args, NULL, 16);
    strcpy(reply, t >= 1 && t <= g->mon.m->ncpus ? "OK" : "E00");
}

static void pkt_threads_first(gdb_t *g, const char *args, char *reply)
{
    char *p = reply;
    *p++ = 'm';
    for (int i = 0; i < g->mon.m->ncpus; i++)
        p += sprintf(p, "%s%02x", i ? "," : "", i + 1);
}

static void pkt_threads_next(gdb_t *g, const char *args, char *reply)
{
    strcpy(reply, "l");
}

static void pkt_current_thread(gdb_t *g, const char *args, char *reply)
{
    sprintf(reply, "QC%02x", g->gcpu + 1);
}

static void pkt_thread_info(gdb_t *g, const char *args, char *reply)
{
    long t = strtol(args, NULL, 16);
    if (t < 1 || t > g->mon.m->ncpus) {
        strcpy(reply, "E00");
        return;
    }
    char text[64];
    const cpu_t *c = g->mon.m->cpu[t - 1];
    snprintf(text, sizeof text, "vCPU %ld, %s mode%s", t - 1, mon_mode_name(c), c->halted ? ", halted" : "");
    to_hex(reply, (const uint8_t *)text, strlen(text));
}

static void pkt_attached(gdb_t *g, const char *args, char *reply)
{
    strcpy(reply, "1");
}

static void pkt_ok(gdb_t *g, const char *args, char *reply)
{
    strcpy(reply, "OK");
}

/* qRcmd,HEX: run a monitor command; its output goes back as O packets. */
static void pkt_rcmd(gdb_t *g, const char *args, char *reply)
{
    char cmd[1024];
    long n = from_hex((uint8_t *)cmd, sizeof cmd - 1, args);
    if (n < 0) {
        strcpy(reply, "E00");
        return;
    }
    cmd[n] = 0;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out) {
        strcpy(reply, "E0c");
        return;
    }
    FILE *saved = g->mon.out;
    g->mon.out = out;
    g->mon.cpu = g->gcpu;
    g->mon.dbg.poll = poll_ctrl_c;
    g->mon.dbg.poll_opaque = g;
    mon_exec(&g->mon, cmd);
    fclose(out);
    g->mon.out = saved;
    g->gcpu = g->mon.cpu;
    /* O packets carry at most a few hundred bytes each */
    char pkt[2 + 2 * 256 + 1];
    for (size_t off = 0; off < len; off += 256) {
        size_t k = len - off < 256 ? len - off : 256;
        pkt[0] = 'O';
        to_hex(pkt + 1, (const uint8_t *)text + off, k);
        put_packet(g, pkt);
    }
    free(text);
    g->kill = g->mon.quit;
    strcpy(reply, "OK");
}

static void pkt_detach(gdb_t *g, const char *args, char *reply)
{
    g->detach = true;
    strcpy(reply, "OK");
}

static void pkt_kill(gdb_t *g, const char *args, char *reply)
{
    g->kill = true;
}

/* P(prefix, handler): the first row whose prefix starts the packet handles it;
 * unknown packets get the empty reply ("not supported"). */
static const struct { const char *prefix; pkt_fn fn; } packets[] = {
    { "qSupported", pkt_supported },     { "qXfer:features:read:", pkt_xfer }, { "?", pkt_stop_reason },
    { "g", pkt_read_regs },              { "G", pkt_write_regs },              { "p", pkt_read_reg },
    { "P", pkt_write_reg },              { "m", pkt_read_mem },                { "M", pkt_write_mem },
    { "c", pkt_continue },               { "s", pkt_step },                    { "Z", pkt_insert },
    { "z", pkt_remove },                 { "H", pkt_thread },                  { "T", pkt_thread_alive },
    { "qfThreadInfo", pkt_threads_first }, { "qsThreadInfo", pkt_threads_next }, { "qC", pkt_current_thread },
    { "qThreadExtraInfo,", pkt_thread_info }, { "qAttached", pkt_attached }, { "qSymbol", pkt_ok },
    { "qRcmd,", pkt_rcmd },              { "D", pkt_detach },                  { "k", pkt_kill },
};

/* Serve one connection until gdb detaches, kills, disconnects or the guest ends. */
static void session(gdb_t *g)
{
    static char in[PKT_MAX + 1], reply[2 * PKT_MAX + 8];
    while (!g->detach && !g->kill && !g->mon.finished && get_packet(g, in, sizeof in)) {
        reply[0] = 0;
        for (size_t k = 0; k < sizeof packets / sizeof packets[0]; k++) {
            size_t n = strlen(packets[k].prefix);
            if (strncmp(in, packets[k].prefix, n) == 0) {
                /* one-letter packets take their arguments right after the letter */
                packets[k].fn(g, in + n, reply);
                break;
            }
        }
        if (!g->kill && !put_packet(g, reply))
            break;
    }
}

/* Before gdb connects (no -S): a connection attempt stops the guest. */
static bool poll_accept(void *opaque)
{
    gdb_t *g = opaque;
    struct pollfd p = { .fd = g->lfd, .events = POLLIN };
    return poll(&p, 1, 0) > 0;
}

static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 1) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

enum machine_exit gdb_serve(machine_t *m, int port, bool wait)
{
    static gdb_t g;
    memset(&g, 0, sizeof g);
    mon_init(&g.mon, m, stdout);
    build_xml(&g);
    g.fd = -1;
    g.lfd = listen_on(port);
    if (g.lfd < 0) {
        fprintf(stderr, "vmxemu: cannot listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
        return MEXIT_INTERNAL;
    }
    fprintf(stderr, "vmxemu: gdb server on 127.0.0.1:%d%s\n", port, wait ? ", waiting for gdb" : "");
    strcpy(g.last_stop, "T05thread:01;");
    if (!wait) {
        g.mon.dbg.poll = poll_accept;
        g.mon.dbg.poll_opaque = &g;
        if (dbg_run(&g.mon.dbg, 0, 0, false) != MEXIT_DEBUG) {
            close(g.lfd);
            return m->exit_reason;
        }
        strcpy(g.last_stop, "T02thread:01;");
    }
    g.fd = accept(g.lfd, NULL, NULL);
    close(g.lfd);
    if (g.fd < 0) {
        fprintf(stderr, "vmxemu: gdb connection failed: %s\n", strerror(errno));
        return MEXIT_INTERNAL;
    }
    int one = 1;
    setsockopt(g.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    session(&g);
    close(g.fd);
    if (g.mon.finished)
        return m->exit_reason;
    if (g.detach) {
        /* gdb is gone: its breakpoints go with it, and the guest runs to its end */
        for (int k = 0; k < MAX_BP; k++)
            if (g.mon.dbg.bp[k].origin != BPO_USER)
                g.mon.dbg.bp[k].id = 0;
        g.mon.dbg.poll = NULL;
        return dbg_run(&g.mon.dbg, 0, 0, false);
    }
    return MEXIT_DEBUG;
}
