/* cmd_info.c - `info break | cpu | devices`: the breakpoint list, the CPU
 * model with its CPUID leaves and VMX capabilities decoded, and what is
 * attached to the port and MMIO buses. */
#include <string.h>

#include "emu/cpumodel.h"
#include "emu/msr.h"
#include "monitor/repl.h"
#include "vmx/caps.h"

/* Where each feature word comes from: leaf, subleaf, output register (0-3 = EAX-EDX). */
static const struct { uint32_t leaf, sub; int reg; const char *name; } words[FW_COUNT] = {
    [FW_1_ECX] = { 1, 0, 2, "CPUID.01H:ECX" },     [FW_1_EDX] = { 1, 0, 3, "CPUID.01H:EDX" },
    [FW_6_EAX] = { 6, 0, 0, "CPUID.06H:EAX" },     [FW_7_EBX] = { 7, 0, 1, "CPUID.07H:EBX" },
    [FW_7_ECX] = { 7, 0, 2, "CPUID.07H:ECX" },     [FW_7_EDX] = { 7, 0, 3, "CPUID.07H:EDX" },
    [FW_D1_EAX] = { 0xd, 1, 0, "CPUID.0DH.1:EAX" }, [FW_E1_ECX] = { 0x80000001, 0, 2, "CPUID.80000001H:ECX" },
    [FW_E1_EDX] = { 0x80000001, 0, 3, "CPUID.80000001H:EDX" }, [FW_E7_EDX] = { 0x80000007, 0, 3, "CPUID.80000007H:EDX" },
};

static const struct { int word, bit; const char *name; } features[] = {
#define F(name, word, bit) { word, bit, #name },
    CPU_FEATURES(F)
#undef F
};

/* The VMX control words and the TRUE capability MSR (or the only one) that reports each. */
static const struct { enum vmx_ctl_word w; uint32_t msr; const char *name; } vmx_words[] = {
    { VMX_PIN, 0x48d, "pin-based" },   { VMX_PROC, 0x48e, "primary processor-based" },
    { VMX_PROC2, 0x48b, "secondary processor-based" }, { VMX_EXIT, 0x48f, "VM-exit" },
    { VMX_ENTRY, 0x490, "VM-entry" },
};

static void info_vmx(mon_t *mon, cpu_t *c)
{
    FILE *f = mon->out;
    if (!cpu_has(c, FEAT_VMX)) {
        fprintf(f, "VMX: not offered by this CPU model (CPUID.01H:ECX.VMX = 0)\n");
        return;
    }
    uint64_t basic;
    if (!msr_read(c, MSR_IA32_VMX_BASIC, &basic)) {
        fprintf(f, "VMX: CPUID reports VMX but IA32_VMX_BASIC cannot be read\n");
        return;
    }
    fprintf(f, "VMX: IA32_VMX_BASIC=%#llx (revision %#llx, VMCS region %llu bytes)\n", (unsigned long long)basic,
            (unsigned long long)(basic & 0x7fffffff), (unsigned long long)((basic >> 32) & 0x1fff));
    for (size_t k = 0; k < sizeof vmx_words / sizeof vmx_words[0]; k++) {
        uint64_t v;
        if (!msr_read(c, vmx_words[k].msr, &v)) {
            fprintf(f, "  %s controls: MSR %#x not readable\n", vmx_words[k].name, vmx_words[k].msr);
            continue;
        }
        fprintf(f, "  %s controls (MSR %#x = %#llx), may be 1 (=1: must be):", vmx_words[k].name, vmx_words[k].msr,
                (unsigned long long)v);
        /* unnamed bits that must be 1 are the reserved default1 ones: not worth a word */
        for (int bit = 0; bit < 32; bit++) {
            const char *n = vmx_control_name(vmx_words[k].w, bit);
            bool may1 = (v >> (32 + bit)) & 1, must1 = (v >> bit) & 1;
            if (n && may1)
                fprintf(f, " [%s]%s", n, must1 ? "=1" : "");
            else if (may1 && !must1)
                fprintf(f, " [bit %d]", bit);
        }
        fputc('\n', f);
    }
}

static void info_cpu(mon_t *mon)
{
    cpu_t *c = mon_cpu(mon);
    const struct cpu_model *md = c->model;
    FILE *f = mon->out;
    fprintf(f, "cpu%d: model %s (%s)\n  vendor %s, brand \"%s\", family %#x model %#x stepping %u\n", c->index,
            md->name, md->desc, md->vendor, md->brand, md->family, md->model, md->stepping);
    fprintf(f, "  MAXPHYADDR %u, linear %u bits, %u MHz core clock, TSC %u per cycle\n", md->maxphyaddr, md->linaddr,
            md->core_mhz, md->tsc_per_cycle);
    for (int w = 0; w < FW_COUNT; w++) {
        uint32_t r[4];
        cpuid_query(c, words[w].leaf, words[w].sub, r);
        uint32_t v = r[words[w].reg];
        fprintf(f, "  %-20s %08x:", words[w].name, v);
        for (size_t k = 0; k < sizeof features / sizeof features[0]; k++)
            if (features[k].word == w && (v >> features[k].bit) & 1)
                fprintf(f, " %s", features[k].name);
        fputc('\n', f);
    }
    uint32_t r[4];
    cpuid_query(c, 0, 0, r);
    uint32_t max = r[0];
    cpuid_query(c, 0x80000000, 0, r);
    uint32_t maxext = r[0];
    fprintf(f, "  raw leaves (subleaf 0):\n");
    for (uint32_t leaf = 0; leaf <= max && leaf < 0x40; leaf++) {
        cpuid_query(c, leaf, 0, r);
        fprintf(f, "    %08x: %08x %08x %08x %08x\n", leaf, r[0], r[1], r[2], r[3]);
    }
    for (uint32_t leaf = 0x80000000; leaf <= maxext && leaf < 0x80000040; leaf++) {
        cpuid_query(c, leaf, 0, r);
        fprintf(f, "    %08x: %08x %08x %08x %08x\n", leaf, r[0], r[1], r[2], r[3]);
    }
    info_vmx(mon, c);
}

/* The PC's well-known port assignments, to name what the bus has attached. */
static const struct { uint16_t lo, hi; const char *name; } known_ports[] = {
    { 0x20, 0x21, "8259 PIC (master)" },  { 0xa0, 0xa1, "8259 PIC (slave)" },  { 0x40, 0x43, "8254 PIT" },
    { 0x61, 0x61, "system control port B" }, { 0x70, 0x71, "RTC/CMOS" },       { 0x92, 0x92, "system control port A" },
    { 0xe9, 0xe9, "debug console" },      { 0xf4, 0xf4, "debug exit" },         { 0x3f8, 0x3ff, "COM1 16550 UART" },
    { 0x2f8, 0x2ff, "COM2 16550 UART" },  { 0x510, 0x511, "fw_cfg" },           { 0x4d0, 0x4d1, "ELCR" },
    { 0x60, 0x60, "i8042 data" },         { 0x64, 0x64, "i8042 status/command" },
    { 0xcf9, 0xcf9, "reset control" },    { 0xcf8, 0xcff, "PCI configuration" }, { 0x600, 0x67f, "ACPI PM" },
};

/* The PC's usual MMIO windows, likewise. */
static const struct { uint64_t base; const char *name; } known_mmio[] = {
    { 0xfee00000, "local APIC" }, { 0xfec00000, "IOAPIC" }, { 0xfed00000, "HPET" },
};

/* The first matching row names a port: specific rows come before ranges. */
static const char *port_name(uint16_t p)
{
    for (size_t k = 0; k < sizeof known_ports / sizeof known_ports[0]; k++)
        if (p >= known_ports[k].lo && p <= known_ports[k].hi)
            return known_ports[k].name;
    return "(unnamed)";
}

static const char *mmio_name(uint64_t base)
{
    for (size_t k = 0; k < sizeof known_mmio / sizeof known_mmio[0]; k++)
        if (base == known_mmio[k].base)
            return known_mmio[k].name;
    return "(unnamed)";
}

static void info_devices(mon_t *mon)
{
    machine_t *m = mon->m;
    FILE *f = mon->out;
    fprintf(f, "I/O ports:\n");
    for (uint32_t p = 0; p < 65536;) {
        const io_port_t *e = &m->io[p];
        if (!e->rd && !e->wr) {
            p++;
            continue;
        }
        uint32_t q = p;
        while (q + 1 < 65536 && m->io[q + 1].rd == e->rd && m->io[q + 1].wr == e->wr && m->io[q + 1].opaque == e->opaque)
            q++;
        fprintf(f, "  %#06x-%#06x  %s\n", p, q, port_name((uint16_t)p));
        p = q + 1;
    }
    fprintf(f, "MMIO regions:%s\n", m->nmmio ? "" : " none");
    for (int i = 0; i < m->nmmio; i++)
        fprintf(f, "  %#014llx-%#014llx  %s\n", (unsigned long long)m->mmio[i].base,
                (unsigned long long)(m->mmio[i].base + m->mmio[i].size - 1), mmio_name(m->mmio[i].base));
    int armed = 0;
    for (int i = 0; i < MAX_EVENTS; i++)
        armed += m->events[i].armed;
    fprintf(f, "RAM: %llu MiB (below 4 GiB up to %#llx)\nevents armed: %d", (unsigned long long)(m->ram_size >> 20),
            (unsigned long long)m->lowmem_top, armed);
    if (armed)
        fprintf(f, ", next at cycle %llu", (unsigned long long)m->next_event);
    fprintf(f, "\nvCPUs: %d\n", m->ncpus);
}

/* I(word, what it shows) */
static const struct { const char *word; void (*fn)(mon_t *); } info_topics[] = {
    { "break", mon_info_break }, { "cpu", info_cpu }, { "devices", info_devices },
};

bool cmd_info(mon_t *mon, const mon_args_t *a)
{
    if (a->argc == 2)
        for (size_t k = 0; k < sizeof info_topics / sizeof info_topics[0]; k++)
            if (strcmp(a->argv[1], info_topics[k].word) == 0) {
                info_topics[k].fn(mon);
                return true;
            }
    return mon_err(mon, "usage: info break | cpu | devices");
}
