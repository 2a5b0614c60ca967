/* ept_access.c - guest-physical accesses in VMX non-root operation with EPT
 * (virt_ops.gpa, emu/virt.h): the walk of vmx/ept.c, the permission check,
 * the accessed and dirty flags for EPT, and the EPT-induced VM exits (SDM Vol.
 * 3C "EPT-Induced VM Exits": EPT misconfiguration, basic exit reason 49, and
 * EPT violation, 48, with the exit qualification of "Exit Qualification for
 * EPT Violations", the guest-physical and guest-linear address fields).
 *
 * What the access is decides the permission it needs: a data read R, a write
 * W, a fetch X; reads of guest paging-structure entries are reads and the
 * updates of their accessed/dirty flags writes ("EPT Violations"), but with
 * accessed and dirty flags for EPT enabled (EPTP[6]) every access to a guest
 * paging-structure entry counts as a write, for the permission check (both
 * bits 0 and 1 of the qualification) and for the EPT dirty flag ("Accessed and
 * Dirty Flags for EPT"); PDPTE loads by MOV to CR stay reads.
 *
 * With --tlb=strict a successful walk is remembered as a guest-physical mapping
 * (vmx/gpa_cache.h) and later accesses use it instead of the current EPT until
 * INVEPT, as hardware may. A cached mapping is not used where hardware would
 * have to go to the EPT entries: for an access its rights do not allow (the
 * violation comes from a real walk) and, with EPT A/D flags, for a write to a
 * page whose dirty flag was 0. --tlb=permissive neither fills nor uses it. */
#include "emu/cpumodel.h"
#include "emu/fault.h"
#include "emu/machine.h"
#include "emu/mmu.h"
#include "emu/virt.h"
#include "vmx/ept.h"
#include "vmx/exit.h"
#include "vmx/vmx.h"

#define G(name) vmcs_get(c, VMCS_##name)

/* Exit-qualification bits of an EPT violation. */
enum {
    Q_READ = 1u << 0, Q_WRITE = 1u << 1, Q_FETCH = 1u << 2, /* the access; bits 5:3 the EPT rights */
    Q_GLA_VALID = 1u << 7, Q_FINAL = 1u << 8,
    Q_USER = 1u << 9, Q_WRITABLE = 1u << 10, Q_NX = 1u << 11, /* advanced information (EPT_VPID_CAP[22]) */
    Q_NMI_UNBLOCKED = 1u << 12,
};

static uint64_t host_read(void *opaque, uint64_t pa)
{
    return phys_read(opaque, pa, 8);
}

void vmx_ept_caps(const cpu_t *c, struct ept_caps *caps)
{
    caps->cap = c->model->vmx->ept_vpid_cap;
    caps->maxphyaddr = c->model->maxphyaddr;
}

/* The access bits (qualification bits 2:0, EPT_R/W/X alike) an access needs. */
static unsigned needs(enum gpa_kind kind, bool ad)
{
    switch (kind) {
    case GPA_READ: return Q_READ;
    case GPA_WRITE: return Q_WRITE;
    case GPA_FETCH: return Q_FETCH;
    case GPA_PT_READ: return ad ? Q_READ | Q_WRITE : Q_READ;
    case GPA_PT_WRITE: return ad ? Q_READ | Q_WRITE : Q_WRITE;
    default: return Q_READ; /* GPA_PDPTE */
    }
}

/* Linear addresses are 32 bits wide outside 64-bit mode (the guest-linear
 * address field clears bits 63:32 then). */
static uint64_t gla(const cpu_t *c, uint64_t la)
{
    return c->mode == MODE_LONG64 ? la : (uint32_t)la;
}

/* An EPT-induced VM exit: fault-like, the guest RIP is the instruction's (or,
 * during event delivery, the one emu/except.c recorded in insn_rip). */
static _Noreturn void ept_exit(cpu_t *c, uint32_t reason, const struct gpa_access *a, uint64_t qual)
{
    struct vmx_cpu *v = vmx_state(c);
    vmcs_set(c, VMCS_GUEST_PHYSICAL_ADDRESS, a->gpa);
    if (qual & Q_GLA_VALID)
        vmcs_set(c, VMCS_GUEST_LINEAR_ADDRESS, gla(c, a->la));
    /* during delivery of a software interrupt or exception the VMM needs its length to re-inject it */
    unsigned vtype = (v->vectoring_info >> 8) & 7;
    bool soft = c->exc_depth && (v->vectoring_info >> 31) &&
                (vtype == EV_SWINT || vtype == EV_SWEXC || vtype == EV_PRIVSW);
    vmx_exit_insn(c, soft ? (uint32_t)(c->rip - c->insn_rip) : 0, 0);
    vmcs_set(c, VMCS_VM_EXIT_INTR_INFO, 0);
    c->rip = c->insn_rip;
    vmx_vmexit(c, reason, qual);
    cpu_abort_insn(c);
}

/* Bit 12 (Table "Exit Qualification for EPT Violations"): the access belongs to
 * an IRET that unblocked NMIs ("virtual NMIs" is 0 on vmxemu, so this is
 * blocking by NMI before the IRET); 0 when the exit interrupts event delivery. */
static bool nmi_unblocked_by_iret(cpu_t *c)
{
    struct vmx_cpu *v = vmx_state(c);
    return !c->exc_depth && v->iret_nmi && v->iret_cycle == c->cycles && v->iret_rip == c->insn_rip;
}

static _Noreturn void violation(cpu_t *c, const struct gpa_access *a, const struct ept_walk *w, unsigned need)
{
    uint64_t q = need | (uint64_t)w->rights << 3;
    if (a->kind != GPA_PDPTE) {
        q |= Q_GLA_VALID;
        if (a->kind == GPA_READ || a->kind == GPA_WRITE || a->kind == GPA_FETCH) {
            q |= Q_FINAL;
            if (c->model->vmx->ept_vpid_cap & EPTCAP_ADV_INFO)
                q |= (a->user ? Q_USER : 0) | (a->writable ? Q_WRITABLE : 0) | (a->nx ? Q_NX : 0);
        }
    }
    if (nmi_unblocked_by_iret(c))
        q |= Q_NMI_UNBLOCKED;
    /* the violation invalidates the combined mappings of that linear address (SDM Vol. 3C
     * "Operations that Invalidate Cached Mappings"): with VPID they would outlive the exit */
    if (q & Q_GLA_VALID)
        tlb_flush_page(c, a->la);
    ept_exit(c, EXIT_REASON_EPT_VIOLATION, a, q);
}

/* Set the accessed flag of every entry used, and the dirty flag of the leaf
 * for a write; an EPT entry is host-physical (phys_write also keeps decoded
 * code coherent). */
static void update_ad(cpu_t *c, struct ept_walk *w, bool write)
{
    for (int k = 0; k < w->n; k++) {
        uint64_t set = EPT_A | (write && k == w->n - 1 ? EPT_D : 0);
        if ((w->ent[k] & set) != set) {
            w->ent[k] |= set;
            phys_write(c->m, w->ent_pa[k], 8, w->ent[k]);
        }
    }
}

/* The translation from a cached guest-physical mapping, if one may serve the access. */
static bool cached(cpu_t *c, const struct gpa_access *a, uint64_t eptp, unsigned need, bool ad,
                   struct gpa_result *r)
{
    struct gpa_cache *gc = &vmx_state(c)->gpa;
    const struct gpa_map *m = gpa_cache_find(gc, eptp, a->gpa);
    if (!m)
        return false;
    if (!a->probe) {
        if ((need & m->rights) != need) {
            gpa_cache_drop(gc, eptp, a->gpa);
            return false;
        }
        if (ad && (need & Q_WRITE) && !m->dirty)
            return false;
    }
    r->hpa = m->hpa | (a->gpa & 0xfff);
    r->r = (m->rights & EPT_R) != 0;
    r->w = (m->rights & EPT_W) != 0;
    r->x = (m->rights & EPT_X) != 0;
    r->dirty = !ad || m->dirty;
    r->memtype = ept_effective_type(m->memtype, m->ipat, a->pat_type);
    return true;
}

bool vmx_gpa(cpu_t *c, const struct gpa_access *a, struct gpa_result *r)
{
    struct ept_caps caps;
    struct ept_walk w;
    uint64_t eptp = G(EPT_POINTER);
    bool ad = (eptp & EPTP_AD) != 0;
    bool strict = !c->m->tlb_permissive;
    if (strict && cached(c, a, eptp, needs(a->kind, ad), ad, r))
        return true;
    vmx_ept_caps(c, &caps);
    ept_walk(&caps, eptp, a->gpa, host_read, c->m, &w);
    if (w.outcome != EPT_OK && a->probe)
        return false;
    if (w.outcome == EPT_MISCONFIG)
        ept_exit(c, EXIT_REASON_EPT_MISCONFIG, a, 0);
    unsigned need = needs(a->kind, ad);
    if (!a->probe) {
        if (w.outcome == EPT_NOT_PRESENT || (need & w.rights) != need)
            violation(c, a, &w, need);
        if (ad)
            update_ad(c, &w, (need & Q_WRITE) != 0);
    }
    r->hpa = w.hpa;
    r->r = (w.rights & EPT_R) != 0;
    r->w = (w.rights & EPT_W) != 0;
    r->x = (w.rights & EPT_X) != 0;
    r->dirty = !ad || (w.ent[w.n - 1] & EPT_D);
    r->memtype = ept_effective_type(w.memtype, w.ipat, a->pat_type);
    if (strict && !a->probe) {
        struct gpa_map m = {.eptp = eptp, .gpn = a->gpa >> 12, .hpa = w.hpa & ~0xfffull, .rights = (uint8_t)w.rights,
                            .memtype = w.memtype, .ipat = w.ipat, .dirty = r->dirty};
        gpa_cache_fill(&vmx_state(c)->gpa, &m);
    }
    return true;
}
