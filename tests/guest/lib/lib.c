/* lib.c - the test kernels' runtime (guest.h): COM1 driver and printf-lite,
 * checks, exit through port 0xf4, the TSS (RSP0, IST1 for #DF, IST2 for
 * tests), the IDT over isr.S's stubs, and the trap dispatcher that reports
 * any exception nobody expected and fails the run. */
#include <stdarg.h>

#include "guest.h"

#define COM1 0x3f8
#define EXIT_UNEXPECTED_TRAP 0x70 /* exit status 0xe1 */

int checks_run, checks_failed;
volatile struct trap_record last_trap;
volatile uint64_t trap_resume;

/* ---- serial ---- */

static void serial_init(void)
{
    outb(COM1 + 1, 0x00); /* no interrupts */
    outb(COM1 + 3, 0x80); /* DLAB */
    outb(COM1 + 0, 0x01); /* 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03); /* 8N1 */
    outb(COM1 + 2, 0xc7); /* FIFOs on and cleared */
    outb(COM1 + 4, 0x0b); /* DTR, RTS, OUT2 */
}

void putc_serial(char c)
{
    while (!(inb(COM1 + 5) & 0x20)) /* LSR.THRE */
        ;
    outb(COM1, (uint8_t)c);
}

void puts_serial(const char *s)
{
    while (*s)
        putc_serial(*s++);
}

static void put_num(uint64_t v, int base, int width, char pad, bool neg)
{
    char buf[24];
    int n = 0;
    do {
        buf[n++] = "0123456789abcdef"[v % (unsigned)base];
        v /= (unsigned)base;
    } while (v);
    if (neg)
        buf[n++] = '-';
    while (width-- > n)
        putc_serial(pad);
    while (n)
        putc_serial(buf[--n]);
}

void printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            putc_serial(*fmt);
            continue;
        }
        char pad = ' ';
        int width = 0, longs = 0;
        if (*++fmt == '0')
            pad = '0', fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l' || *fmt == 'z')
            longs++, fmt++;
        switch (*fmt) {
        case 'd': {
            int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
            put_num(v < 0 ? -(uint64_t)v : (uint64_t)v, 10, width, pad, v < 0);
            break;
        }
        case 'u': put_num(longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, width, pad, false); break;
        case 'x': put_num(longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, width, pad, false); break;
        case 'p': puts_serial("0x"); put_num((uint64_t)va_arg(ap, void *), 16, width, pad, false); break;
        case 's': puts_serial(va_arg(ap, const char *)); break;
        case 'c': putc_serial((char)va_arg(ap, int)); break;
        case '%': putc_serial('%'); break;
        default: putc_serial('?'); break;
        }
    }
    va_end(ap);
}

_Noreturn void guest_exit(int v)
{
    outb(0xf4, (uint8_t)v);
    /* Still running: no debug-exit device at 0xf4 (Bochs, which `make bench`
     * runs too). Bochs powers off when "Shutdown" is written to port 0x8900;
     * first let the UART send its last character (LSR.TEMT). */
    while (!(inb(0x3fd) & 0x40))
        ;
    for (const char *s = "Shutdown"; *s; s++)
        outb(0x8900, (uint8_t)*s);
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* ---- checks ---- */

void check_fail(const char *file, int line, const char *what, uint64_t a, uint64_t b)
{
    checks_failed++;
    printf("FAIL %s:%d: %s", file, line, what);
    if (a != b)
        printf(" (0x%lx vs 0x%lx)", a, b);
    printf("\n");
}

int check_result(void)
{
    printf("%d checks, %d failed\n", checks_run, checks_failed);
    return checks_failed ? 1 : 0;
}

/* ---- TSS ---- */

struct __attribute__((packed)) tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3, iomap_base;
};
static struct tss64 tss;
__attribute__((aligned(16))) static uint8_t ist1_stack[8192], ist2_stack[8192], rsp0_stack[16384],
    user_stack[16384];

static void tss_init(void)
{
    tss.rsp[0] = (uint64_t)(rsp0_stack + sizeof rsp0_stack);
    tss.ist[0] = (uint64_t)(ist1_stack + sizeof ist1_stack);
    tss.ist[1] = (uint64_t)(ist2_stack + sizeof ist2_stack);
    tss.iomap_base = sizeof tss; /* no I/O permission bitmap */
    uint64_t base = (uint64_t)&tss, limit = sizeof tss - 1;
    gdt[SEL_TSS / 8] = (limit & 0xffff) | (base & 0xffffff) << 16 | 0x89ull << 40 | ((limit >> 16) & 0xf) << 48 |
                       ((base >> 24) & 0xff) << 56;
    gdt[SEL_TSS / 8 + 1] = base >> 32;
    __asm__ volatile("ltr %w0" ::"r"(SEL_TSS));
}

/* Stack tops for tests that check which stack an event used. */
uint8_t *stack_top(int which)
{
    switch (which) {
    case 1: return ist1_stack + sizeof ist1_stack;
    case 2: return ist2_stack + sizeof ist2_stack;
    case 3: return user_stack + sizeof user_stack;
    default: return rsp0_stack + sizeof rsp0_stack;
    }
}

/* ---- IDT ---- */

struct __attribute__((packed)) gate {
    uint16_t off0, sel;
    uint8_t ist, attr;
    uint16_t off1;
    uint32_t off2, reserved;
};
__attribute__((aligned(16))) static struct gate idt[256];
extern char isr_stubs[];
static trap_fn handlers[256];

void idt_set_gate(int vec, int type, int dpl, int ist, bool present)
{
    uint64_t h = (uint64_t)(isr_stubs + 16 * vec);
    idt[vec] = (struct gate){ .off0 = (uint16_t)h, .sel = SEL_KCODE, .ist = (uint8_t)ist,
                              .attr = (uint8_t)((present ? 0x80 : 0) | dpl << 5 | type),
                              .off1 = (uint16_t)(h >> 16), .off2 = (uint32_t)(h >> 32) };
}

void set_trap_handler(int vec, trap_fn fn)
{
    handlers[vec] = fn;
}

static const char *const exc_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "15",
    "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31",
};

void trap_dispatch(struct trap_frame *f)
{
    if (handlers[f->vec]) {
        handlers[f->vec](f);
        return;
    }
    printf("UNEXPECTED %s (vector %lu) error 0x%lx at RIP 0x%lx CS 0x%lx RSP 0x%lx CR2 0x%lx\n",
           f->vec < 32 ? exc_names[f->vec] : "interrupt", f->vec, f->err, f->rip, f->cs, f->rsp, READ_CR(2));
    guest_exit(EXIT_UNEXPECTED_TRAP);
}

static void record_trap(struct trap_frame *f)
{
    last_trap.count++;
    last_trap.vec = f->vec;
    last_trap.err = f->err;
    last_trap.rip = f->rip;
    last_trap.cs = f->cs;
    last_trap.cr2 = READ_CR(2);
    last_trap.rsp = (uint64_t)f;
    if (trap_resume) {
        f->rip = trap_resume;
        trap_resume = 0;
    }
}

void catch_trap(int vec)
{
    set_trap_handler(vec, record_trap);
}

static void idt_init(void)
{
    for (int v = 0; v < 256; v++)
        idt_set_gate(v, 0xe, 0, 0, true);
    idt_set_gate(8, 0xe, 0, 1, true); /* #DF on its own stack */
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr = { sizeof idt - 1, (uint64_t)idt };
    __asm__ volatile("lidt %0" ::"m"(idtr));
}

/* ---- entry from boot.S ---- */

_Noreturn void guest_start(uint32_t mbi)
{
    /* mask both 8259s: no stray IRQ may arrive when a test sets IF */
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    serial_init();
    tss_init();
    idt_init();
    int v = test_main((const struct mb_info *)(uint64_t)mbi);
    guest_exit(v);
}

/* ---- what gcc may call even in freestanding code ---- */

void *memset(void *d, int c, size_t n)
{
    uint8_t *p = d;
    while (n--)
        *p++ = (uint8_t)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    uint8_t *p = d;
    const uint8_t *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

void *memmove(void *d, const void *s, size_t n)
{
    uint8_t *p = d;
    const uint8_t *q = s;
    if (p < q)
        return memcpy(d, s, n);
    while (n--)
        p[n] = q[n];
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *p = a, *q = b;
    for (; n; n--, p++, q++)
        if (*p != *q)
            return *p - *q;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++)
        if (*a != *b || !*a)
            return (unsigned char)*a - (unsigned char)*b;
    return 0;
}

const char *strstr(const char *h, const char *n)
{
    size_t ln = strlen(n);
    for (; *h; h++)
        if (!strncmp(h, n, ln))
            return h;
    return ln ? NULL : h;
}
