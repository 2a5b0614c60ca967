/* vmx_run.h - entering the guest of a VMX guest test and getting back (used by
 * vmx_entry_exit.c and vmx_exit_bitmaps.c, after vmxlib.h): VMLAUNCH/VMRESUME
 * with the host RSP and RIP fields pointing just after the instruction, so a
 * VM exit (or a VM-entry failure) returns from vm_enter like a call. A VM exit
 * loads only RSP and RIP, so the callee-saved registers are pushed around the
 * entry, and the guest's RAX..RDX at the exit are kept in gregs. */
#ifndef VMX_RUN_H
#define VMX_RUN_H

struct { uint64_t rax, rbx, rcx, rdx; } gregs;

/* VMLAUNCH (launch != 0) or VMRESUME: VMX_OK after the next VM exit, else the VMfail outcome. */
static int vm_enter(int launch)
{
    uint64_t fl;
    __asm__ volatile("push %%rbp\n push %%rbx\n push %%r12\n push %%r13\n push %%r14\n push %%r15\n"
                     "mov $0x6c14, %%rdx\n vmwrite %%rsp, %%rdx\n"              /* HOST_RSP */
                     "lea 1f(%%rip), %%rax\n mov $0x6c16, %%rdx\n vmwrite %%rax, %%rdx\n" /* HOST_RIP */
                     "test %k1, %k1\n jz 2f\n vmlaunch\n jmp 3f\n"
                     "2: vmresume\n"
                     "3: pushf\n pop %%rax\n jmp 4f\n"
                     "1: mov %%rax, gregs(%%rip)\n mov %%rbx, gregs+8(%%rip)\n"
                     "   mov %%rcx, gregs+16(%%rip)\n mov %%rdx, gregs+24(%%rip)\n"
                     "   xor %%eax, %%eax\n"
                     "4: pop %%r15\n pop %%r14\n pop %%r13\n pop %%r12\n pop %%rbx\n pop %%rbp\n"
                     : "=&a"(fl)
                     : "r"(launch)
                     : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc");
    return fl == 0 ? VMX_OK : (fl & 1) ? VMX_FAIL_INVALID : (fl & 0x40) ? VMX_FAIL_VALID : -1;
}

/* VMREAD that must succeed. */
static uint64_t rd(uint32_t enc)
{
    uint64_t v = 0;
    CHECK_EQ(vmx_read(enc, &v), VMX_OK);
    return v;
}

#endif
