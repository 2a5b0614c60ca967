/* cmd_ept.c - `ept GPA`: walk a guest-physical address through the EPT paging
 * structures of the current VMCS's EPTP (SDM Vol. 3C "EPT Translation
 * Mechanism"), from root or non-root operation, and show every level's entry
 * the way `walk` shows the guest's own page tables. The walk is vmx/ept.c's
 * pure one: no accessed/dirty flag changes, no VM exit; entries are read from
 * RAM only (anything else reads as 0). */
#include "emu/cpumodel.h"
#include "monitor/guestmem.h"
#include "monitor/repl.h"
#include "emu/msr.h" /* before vmx/: caps.h names MSR_IA32_VMX_BASIC as a macro */
#include "vmx/entry_checks.h"
#include "vmx/ept.h"
#include "vmx/vmx.h"

static const char *const type_names[8] = { "UC", "WC", "2?", "3?", "WT", "WP", "WB", "7?" };

static const char *const level_names[] = { "", "PTE", "PDE", "PDPTE", "PML4E", "PML5E" };

static void print_entry(mon_t *mon, int level, uint64_t pa, uint64_t e, bool leaf)
{
    fprintf(mon->out, "  %-6s[%3llu] @%#014llx = %016llx [%s%s%s", level_names[level],
            (unsigned long long)((pa & 0xfff) >> 3), (unsigned long long)pa, (unsigned long long)e,
            e & EPT_R ? "R" : "-", e & EPT_W ? "W" : "-", e & EPT_X ? "X" : "-");
    if (leaf && (e & 7))
        fprintf(mon->out, " %s%s%s", level > 1 ? "PS " : "", type_names[(e >> 3) & 7], e & EPT_IPAT ? " IPAT" : "");
    fprintf(mon->out, "%s%s]\n", e & EPT_A ? " A" : "", leaf && (e & EPT_D) ? " D" : "");
}

bool cmd_ept(mon_t *mon, const mon_args_t *a)
{
    cpu_t *c = mon_cpu(mon);
    if (!vmx_model_of(c))
        return mon_err(mon, "ept: %s", MON_NO_VMX);
    uint64_t gpa;
    if (a->argc != 2)
        return mon_err(mon, "usage: ept GPA");
    if (!mon_parse_u64(mon, a->argv[1], &gpa))
        return false;
    if (!c->vmx || c->vmx->vmcs_ptr == VMCS_NONE)
        return mon_err(mon, "ept: no current VMCS");
    uint64_t eptp = vmcs_get(c, VMCS_EPT_POINTER);
    bool on = (vmcs_get(c, VMCS_CPU_BASED_VM_EXEC_CONTROL) & VMX_CTL(PROC, SECONDARY_CONTROLS)) &&
              (vmcs_get(c, VMCS_SECONDARY_VM_EXEC_CONTROL) & VMX_CTL(PROC2, ENABLE_EPT));
    int bad = vmx_check_eptp(vmx_model_of(c), c->model->maxphyaddr, eptp);
    if (bad != CHK_PASS)
        return mon_err(mon, "ept: EPTP %#llx is not valid (%s: %s)", (unsigned long long)eptp,
                       entry_check_info(bad)->ident, entry_check_info(bad)->desc);
    struct ept_caps caps;
    vmx_ept_caps(c, &caps);
    struct ept_walk w;
    ept_walk(&caps, eptp, gpa, gm_ept_read, c->m, &w);
    fprintf(mon->out, "guest-physical %#llx, EPTP=%#llx (%d-level, %s, A/D %s)%s\n", (unsigned long long)gpa,
            (unsigned long long)eptp, w.levels, type_names[eptp & 7], eptp & EPTP_AD ? "on" : "off",
            on ? "" : ", \"enable EPT\" is 0 in the current VMCS");
    for (int k = 0; k < w.n; k++) {
        int level = w.levels - k;
        bool leaf = k == w.n - 1 && w.outcome == EPT_OK;
        print_entry(mon, level, w.ent_pa[k], w.ent[k], leaf || (k == w.n - 1 && w.outcome == EPT_MISCONFIG));
    }
    int last = w.levels - (w.n - 1);
    if (w.outcome == EPT_NOT_PRESENT) {
        fprintf(mon->out, "EPT violation: %s not present\n", level_names[last]);
        return true;
    }
    if (w.outcome == EPT_MISCONFIG) {
        fprintf(mon->out, "EPT misconfiguration: %s: %s\n", level_names[last], w.why);
        return true;
    }
    fprintf(mon->out, "-> host-physical %#llx, %s page, %s%s%s, memory type %s%s\n", (unsigned long long)w.hpa,
            w.page_shift == 30 ? "1 GiB" : w.page_shift == 21 ? "2 MiB" : "4 KiB", w.rights & EPT_R ? "R" : "-",
            w.rights & EPT_W ? "W" : "-", w.rights & EPT_X ? "X" : "-", type_names[w.memtype],
            w.ipat ? " (ignore PAT)" : "");
    return true;
}
