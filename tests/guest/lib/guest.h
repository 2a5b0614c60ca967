/* guest.h - the test kernels' library: serial output, printf-lite, checks,
 * exit through the debug-exit port, the IDT/TSS with per-vector handlers,
 * ring-3 trampolines, and small CPU helpers. Each test kernel defines
 * int test_main(const struct mb_info *mbi); its return value v ends the run
 * with exit status (v << 1) | 1 (so 0 -> status 1: pass). */
#ifndef GUEST_H
#define GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest_asm.h"

/* The first fields of the Multiboot information structure. */
struct mb_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
};

/* What isr_common saves: general registers, then vector, error code and the
 * CPU's interrupt frame. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vec, err, rip, cs, rflags, rsp, ss;
};

int test_main(const struct mb_info *mbi);

/* ---- output ---- */
void putc_serial(char c);
void puts_serial(const char *s);
void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void guest_exit(int v);

/* ---- checks: print and count failures; test_main returns check_result() ---- */
extern int checks_run, checks_failed;
void check_fail(const char *file, int line, const char *what, uint64_t a, uint64_t b);
#define CHECK(cond)                                                        \
    do {                                                                   \
        checks_run++;                                                      \
        if (!(cond))                                                       \
            check_fail(__FILE__, __LINE__, #cond, 0, 0);                   \
    } while (0)
#define CHECK_EQ(a, b)                                                     \
    do {                                                                   \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                   \
        checks_run++;                                                      \
        if (a_ != b_)                                                      \
            check_fail(__FILE__, __LINE__, #a " == " #b, a_, b_);          \
    } while (0)
/* 0 when every check passed; prints the tally. */
int check_result(void);

/* ---- interrupts and exceptions ---- */
typedef void (*trap_fn)(struct trap_frame *f);
void set_trap_handler(int vec, trap_fn fn);
/* Gate attributes of IDT entry vec: type (0xe interrupt, 0xf trap), DPL, IST, present. */
void idt_set_gate(int vec, int type, int dpl, int ist, bool present);
/* Catch exceptions of vector vec: record them in last_trap and resume at
 * trap_resume (set it with RESUME_AT(label) right before the faulting code). */
struct trap_record { uint64_t count, vec, err, rip, cs, cr2, rsp; };
extern volatile struct trap_record last_trap;
extern volatile uint64_t trap_resume;
void catch_trap(int vec);
/* Inline-asm fragment: make a caught trap resume at local label 1 ("1:" must follow). */
#define RESUME_AT_1F "leaq 1f(%%rip), %%r11\n\tmovq %%r11, trap_resume(%%rip)\n\t"

/* ---- TSS and privilege ---- */
/* Top of a stack: 0 RSP0 (TSS), 1 IST1 (#DF), 2 IST2 (free for tests), 3 the ring-3 stack. */
uint8_t *stack_top(int which);
uint64_t user_call(void (*fn)(void), uint64_t user_rsp);
_Noreturn void user_return(uint64_t value);
extern uint64_t sys_rcx, sys_r11, sys_rsp, sys_cs, sys_ss, sys_rflags;
void syscall_entry(void);
extern uint64_t gdt[];

/* ---- page tables (boot.S): identity map of 4 GiB with 2 MiB pages ---- */
extern uint64_t pml4[512], pdpt[512], pd[4 * 512];

/* ---- CPU helpers ---- */
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
#define READ_CR(n)                                                          \
    ({                                                                      \
        uint64_t v_;                                                        \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v_));                  \
        v_;                                                                 \
    })
#define WRITE_CR(n, v) __asm__ volatile("mov %0, %%cr" #n ::"r"((uint64_t)(v)) : "memory")
static inline void invlpg(const volatile void *p) { __asm__ volatile("invlpg (%0)" ::"r"(p) : "memory"); }
static inline uint64_t read_rflags(void)
{
    uint64_t f;
    __asm__ volatile("pushfq; popq %0" : "=r"(f));
    return f;
}
static inline uint16_t read_cs(void)
{
    uint16_t s;
    __asm__ volatile("mov %%cs, %0" : "=r"(s));
    return s;
}

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);
const char *strstr(const char *h, const char *n);

#endif
