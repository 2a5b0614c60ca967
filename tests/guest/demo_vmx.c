/* demo_vmx.c - the demo of `make run` (docs/demo.md): the smallest complete
 * hypervisor, to be read top to bottom as a walkthrough of Intel VMX (SDM Vol.
 * 3C, chapters 24-28). It boots as a test kernel (tests/guest/lib), turns VMX
 * on, describes a tiny 64-bit guest in a VMCS, launches it once with a
 * mistake on purpose (the entry fails, exit reason 33), fixes the mistake,
 * launches it again and handles the guest's three VM exits: CPUID, an OUT to
 * port 80H and HLT. Run it with --cpu skylake-server-vmx --trace FILE to see
 * the same story from the emulator's side, one JSON line per entry and exit. */
#include "guest.h"
#include "vmxlib.h"

/* ---- The guest ----
 * Six instructions, in this image, sharing the kernel's page tables and
 * segments (vmcs_setup_guest64 copies them). It asks CPUID whether it runs
 * under a hypervisor (leaf 1, ECX bit 31), reports the answer on port 80H
 * and halts. CPUID always exits in VMX non-root operation; the OUT and the
 * HLT exit because the hypervisor asks for it below. */
extern char guest_main[];
__asm__(".text\n"
        "guest_main:\n"
        "    mov $1, %eax\n"
        "    cpuid\n"            /* exit 10: the hypervisor answers for the CPU */
        "    mov %ecx, %eax\n"
        "    shr $31, %eax\n"    /* AL = CPUID.1:ECX[31], "hypervisor present" */
        "    out %al, $0x80\n"   /* exit 30: port 80H is set in the I/O bitmap */
        "    hlt\n");            /* exit 12: "HLT exiting" is on */
static uint8_t guest_stack[4096] __attribute__((aligned(16)));

/* ---- Entering the guest and coming back ----
 * VMLAUNCH/VMRESUME load the guest state from the VMCS but leave the general
 * registers alone; a VM exit loads the host state (RSP and RIP among it) and
 * again leaves the general registers as the guest had them. So vm_enter
 * points HOST_RSP and HOST_RIP at itself, loads the guest's RAX-RDX (all this
 * guest uses; a real hypervisor keeps all fifteen), and at the exit saves them
 * back: the exit looks like a return from vm_enter. It returns 0 after a VM
 * exit or a VM-entry failure, 1 when the instruction itself failed (VMfail:
 * nothing entered, the reason is in the VM-instruction error field). */
struct guest_regs { uint64_t rax, rbx, rcx, rdx; };
int vm_enter(struct guest_regs *g, int launch);
__asm__(".text\n"
        "vm_enter:\n"
        "    push %rbp\n push %rbx\n push %r12\n push %r13\n push %r14\n push %r15\n"
        "    push %rdi\n"                                        /* g, for the way back */
        "    mov $0x6c14, %eax\n vmwrite %rsp, %rax\n"           /* HOST_RSP = this stack */
        "    lea vm_exit_point(%rip), %rdx\n"
        "    mov $0x6c16, %eax\n vmwrite %rdx, %rax\n"           /* HOST_RIP = vm_exit_point */
        "    mov 8(%rdi), %rbx\n mov 16(%rdi), %rcx\n mov 24(%rdi), %rdx\n mov (%rdi), %rax\n"
        "    test %esi, %esi\n jz 1f\n"
        "    vmlaunch\n jmp 2f\n"
        "1:  vmresume\n"
        "2:  pop %rdi\n mov $1, %eax\n jmp 3f\n"                 /* still here: VMfail */
        "vm_exit_point:\n"                                       /* every VM exit lands here */
        "    xchg %rdi, (%rsp)\n"                                /* RDI = g */
        "    mov %rax, (%rdi)\n mov %rbx, 8(%rdi)\n mov %rcx, 16(%rdi)\n mov %rdx, 24(%rdi)\n"
        "    add $8, %rsp\n xor %eax, %eax\n"
        "3:  pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbx\n pop %rbp\n ret\n");

/* VMREAD of a field that exists (w(), from vmxlib, is the VMWRITE that must work). */
static uint64_t rd(uint32_t field)
{
    uint64_t v = 0;
    CHECK_EQ(vmx_read(field, &v), VMX_OK);
    return v;
}

/* VMLAUNCH or VMRESUME; a VMfail ends the demo with the SDM's error number. */
static void enter(struct guest_regs *g, int launch)
{
    if (vm_enter(g, launch) != 0) {
        printf("%s failed: VM-instruction error %lu\n", launch ? "VMLAUNCH" : "VMRESUME", vmx_error());
        guest_exit(2);
    }
}

/* ---- The exit handlers ----
 * Each exit leaves the guest's RIP at the instruction that caused it; the
 * handler does that instruction's work for the guest, and main moves RIP past
 * it by the VM-exit instruction length before the next VMRESUME. */

/* CPUID (exit reason 10): run the real CPUID, then edit the answer as a
 * hypervisor does: set "hypervisor present" and hide VMX from the guest. */
static void handle_cpuid(struct guest_regs *g)
{
    uint32_t r[4];
    cpuid((uint32_t)g->rax, (uint32_t)g->rcx, r);
    if (g->rax == 1)
        r[2] = (r[2] | 1u << 31) & ~(1u << 5);
    printf("    CPUID leaf %lu: ECX 0x%x, with bit 31 (hypervisor) set and bit 5 (VMX) clear\n", g->rax, r[2]);
    g->rax = r[0], g->rbx = r[1], g->rcx = r[2], g->rdx = r[3];
}

/* I/O instruction (exit reason 30): the qualification says what the guest
 * tried (SDM "Exit Qualification for I/O Instructions"); this hypervisor plays
 * a POST-code display at port 80H and takes the byte. */
static uint64_t post_code = ~0ull;
static void handle_io(struct guest_regs *g, uint64_t qual)
{
    unsigned size = (qual & 7) + 1, in = (qual >> 3) & 1, port = qual >> 16;
    printf("    %s port 0x%x, %u byte(s)", in ? "IN from" : "OUT to", port, size);
    if (!in && port == 0x80 && size == 1) {
        post_code = g->rax & 0xff;
        printf(": POST code %lu (the guest saw the hypervisor bit)\n", post_code);
    } else {
        printf(": no device there\n");
    }
}

static const char *reason_name(uint32_t basic)
{
    switch (basic) {
    case 10: return "CPUID";
    case 12: return "HLT";
    case 30: return "I/O instruction";
    case 33: return "VM-entry failure due to invalid guest state";
    default: return "unexpected";
    }
}

int test_main(const struct mb_info *mbi)
{
    printf("demo: a hypervisor (tests/guest/demo_vmx.c) runs a 64-bit guest under vmxemu\n");
    vmx_lib_init();

    /* 1. VMX operation. The CPU must offer VMX (CPUID.1:ECX.VMX, only the
     * skylake-server-vmx model does), CR0/CR4 must meet the fixed bits
     * (CR4.VMXE among them) and IA32_FEATURE_CONTROL must allow VMXON. */
    if (!vmx_cpuid()) {
        printf("no VMX on this CPU model: run with --cpu skylake-server-vmx\n");
        return 1;
    }
    vmx_prepare_cpu();
    uint64_t vmxon_region = (uint64_t)vmx_region();
    CHECK_EQ(vmx_on(vmxon_region), VMX_OK);
    printf("[1] VMXON: in VMX root operation (VMCS revision %u)\n", vmx_revision());

    /* 2. The VMCS: clear it, make it current, fill its four areas. Host
     * state: this kernel as it runs now. Guest state: a copy of it starting at
     * guest_main. Controls: exit on HLT, use I/O bitmaps (a set bit per port
     * means "exit"), 64-bit host after exits, 64-bit guest at entry. */
    uint64_t vmcs = (uint64_t)vmx_region();
    CHECK_EQ(vmx_clear(vmcs), VMX_OK);
    CHECK_EQ(vmx_ptrld(vmcs), VMX_OK);
    vmcs_setup_host(0, 0); /* RSP and RIP: vm_enter writes them */
    vmcs_setup_guest64((uint64_t)guest_main, (uint64_t)guest_stack + sizeof guest_stack);
    vmcs_setup_controls(0, 1u << 7 | 1u << 25, 0, 1u << 9, 1u << 9);
    uint8_t *io_a = vmx_page(), *io_b = vmx_page(); /* ports 0-7FFFH, 8000H-FFFFH */
    io_a[0x80 / 8] |= 1 << (0x80 % 8);
    w(VMCS_IO_BITMAP_A, (uint64_t)io_a);
    w(VMCS_IO_BITMAP_B, (uint64_t)io_b);
    printf("[2] VMCS at 0x%lx: guest at 0x%lx; exits on CPUID, HLT and port 0x80\n", vmcs, (uint64_t)guest_main);

    /* 3. A mistake on purpose: a 64-bit code segment has L = 1 and must have
     * D = 0 (SDM 27.3.1.2 "Checks on Guest Segment Registers"). The guest
     * state is checked only after VMLAUNCH has committed to the entry, so the
     * failure comes back as a VM exit with reason 33 and bit 31 set, and the
     * guest never runs. The trace names the check that failed. */
    struct guest_regs g = { 0 };
    uint64_t cs_ar = rd(VMCS_GUEST_CS_AR_BYTES);
    w(VMCS_GUEST_CS_AR_BYTES, cs_ar | 1u << 14); /* D = 1 */
    printf("[3] VMLAUNCH with guest CS access rights 0x%lx (L = 1 and D = 1)\n", cs_ar | 1u << 14);
    enter(&g, 1);
    uint32_t reason = (uint32_t)rd(VMCS_VM_EXIT_REASON);
    printf("    exit reason 0x%x: basic reason %u (%s), entry failure bit 31 = %u, qualification %lu\n", reason,
           reason & 0xffff, reason_name(reason & 0xffff), reason >> 31, rd(VMCS_EXIT_QUALIFICATION));
    CHECK_EQ(reason, 1u << 31 | 33);
    w(VMCS_GUEST_CS_AR_BYTES, cs_ar);
    printf("    fixed: CS access rights 0x%lx; the VMCS is still clear, so VMLAUNCH again\n", cs_ar);

    /* 4. The run loop: enter, read why the guest exited, handle it, step
     * over the instruction, resume. VMLAUNCH the first time (it marks the
     * VMCS launched), VMRESUME after. */
    int launch = 1, step = 4;
    for (;;) {
        enter(&g, launch);
        launch = 0;
        reason = (uint32_t)rd(VMCS_VM_EXIT_REASON);
        uint64_t rip = rd(VMCS_GUEST_RIP), len = rd(VMCS_VM_EXIT_INSTRUCTION_LEN);
        uint64_t qual = rd(VMCS_EXIT_QUALIFICATION);
        printf("[%d] VM exit %u (%s) at guest RIP 0x%lx, instruction length %lu, qualification 0x%lx\n", step++,
               reason, reason_name(reason), rip, len, qual);
        if (reason == 10)
            handle_cpuid(&g);
        else if (reason == 30)
            handle_io(&g, qual);
        else if (reason == 12) {
            printf("    the guest is done: no VMRESUME\n");
            break;
        }
        else {
            printf("    no handler for this exit\n");
            guest_exit(3);
        }
        w(VMCS_GUEST_RIP, rip + len);
    }
    CHECK_EQ(post_code, 1);

    /* 5. Leave VMX operation and end the run: status 0 on the debug-exit
     * port, which vmxemu reports as exit status (0 << 1) | 1 = 1. */
    CHECK_EQ(vmx_off(), VMX_OK);
    printf("[%d] VMXOFF: out of VMX operation; exit through the debug-exit port\n", step);
    return check_result();
}
