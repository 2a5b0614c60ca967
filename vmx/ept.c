/* ept.c - the pure EPT walk (SDM Vol. 3C "EPT Translation Mechanism") with the
 * EPT misconfiguration rules ("EPT Misconfigurations") as the model's
 * IA32_VMX_EPT_VPID_CAP shapes them, and the effective memory type ("EPT and
 * Memory Typing"). Nothing here changes state: vmx/ept_access.c turns the
 * outcome into rights, A/D updates and VM exits. */
#include "vmx/ept.h"

/* Bits lo..hi inclusive. */
static inline uint64_t bits(int hi, int lo)
{
    return (~0ull >> (63 - hi)) & ~((1ull << lo) - 1);
}

/* Why a present entry at `level` (1 = PTE ... 5 = PML5E) is misconfigured, or
 * NULL ("EPT Misconfigurations", and the entry formats of "EPT Translation
 * Mechanism"). *leaf says whether it maps a page. */
static const char *misconfig(const struct ept_caps *caps, int level, uint64_t e, bool *leaf)
{
    unsigned rwx = e & 7;
    *leaf = level == 1 || (e & EPT_PS);
    if ((rwx & 3) == EPT_W)
        return "write access without read access";
    if (rwx == EPT_X && !(caps->cap & EPTCAP_EXEC_ONLY))
        return "execute-only, which IA32_VMX_EPT_VPID_CAP[0] does not allow";
    if (e & bits(51, caps->maxphyaddr))
        return "address bits beyond the physical-address width";
    if (level >= 4 && (e & bits(7, 3)))
        return "reserved bits 7:3 set";
    if (level == 3 && (e & EPT_PS) && !(caps->cap & EPTCAP_1G))
        return "1-GByte page, which IA32_VMX_EPT_VPID_CAP[17] does not allow";
    if (level == 2 && (e & EPT_PS) && !(caps->cap & EPTCAP_2M))
        return "2-MByte page, which IA32_VMX_EPT_VPID_CAP[16] does not allow";
    if (!*leaf && level >= 2 && (e & bits(6, 3)))
        return "reserved bits 6:3 set in an entry that references a table";
    if (*leaf && level > 1 && (e & bits(12 + 9 * (level - 1) - 1, 12)))
        return "reserved address bits below the page frame of a large page";
    if (*leaf) {
        unsigned mt = (e >> 3) & 7;
        if (mt == 2 || mt == 3 || mt == 7)
            return "reserved EPT memory type (2, 3 or 7)";
    }
    return 0;
}

void ept_walk(const struct ept_caps *caps, uint64_t eptp, uint64_t gpa, ept_read_fn rd, void *opaque,
              struct ept_walk *w)
{
    uint64_t addr = bits(caps->maxphyaddr - 1, 12);
    w->levels = (int)((eptp >> 3) & 7) + 1;
    w->n = 0;
    w->rights = 7;
    w->why = 0;
    uint64_t table = eptp & addr;
    for (int level = w->levels; level >= 1; level--) {
        int shift = 12 + 9 * (level - 1);
        uint64_t pa = table | (((gpa >> shift) & 0x1ff) << 3);
        uint64_t e = rd(opaque, pa);
        w->ent[w->n] = e;
        w->ent_pa[w->n++] = pa;
        w->rights &= e & 7;
        if (!(e & 7)) {
            w->outcome = EPT_NOT_PRESENT;
            return;
        }
        bool leaf;
        w->why = misconfig(caps, level, e, &leaf);
        if (w->why) {
            w->outcome = EPT_MISCONFIG;
            return;
        }
        if (leaf) {
            uint64_t mask = (1ull << shift) - 1;
            w->hpa = (e & addr & ~mask) | (gpa & mask);
            w->page_shift = (uint8_t)shift;
            w->memtype = (e >> 3) & 7;
            w->ipat = (e & EPT_IPAT) != 0;
            w->outcome = EPT_OK;
            return;
        }
        table = e & addr;
    }
}

/* Memory types: UC 0, WC 1, WT 4, WP 5, WB 6; UC- 7 exists only as a PAT type. */
uint8_t ept_effective_type(uint8_t ept_mt, bool ipat, uint8_t pat_type)
{
    enum { UC = 0, WC = 1, WT = 4, WP = 5, WB = 6, UCM = 7 };
    if (ipat)
        return ept_mt;
    /* the PAT/MTRR combination (Vol. 3A "Selecting Memory Types for Pentium III
     * and More Recent Processor Families"), EPT type in the MTRR's place */
    switch (pat_type) {
    case UC: return UC;
    case UCM: return ept_mt == WC ? WC : UC;
    case WC: return WC;
    case WT: return ept_mt == WT || ept_mt == WB ? WT : UC;
    case WP: return ept_mt == WP || ept_mt == WB ? WP : UC;
    default: return ept_mt; /* WB */
    }
}
