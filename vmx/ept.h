/* ept.h - the EPT paging structures (SDM Vol. 3C chapter "VMX Support for
 * Address Translation", sections "EPT Overview", "EPT Translation Mechanism",
 * "EPT Misconfigurations", "Accessed and Dirty Flags for EPT", "EPT and Memory
 * Typing"): the EPT capabilities a model reports, the pure walk of a
 * guest-physical address (every level's entry, no side effects, used by the
 * CPU through vmx/ept_access.c and by the monitor's `ept` command), and the
 * effective memory type.
 */
#ifndef VMXEMU_VMX_EPT_H
#define VMXEMU_VMX_EPT_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx/caps.h"

/* IA32_VMX_EPT_VPID_CAP bits (SDM Vol. 3D Appendix A.10 "VPID and EPT Capabilities"). */
enum {
    EPTCAP_EXEC_ONLY = 1ull << 0,
    EPTCAP_PWL4 = 1ull << 6,
    EPTCAP_PWL5 = 1ull << 7,
    EPTCAP_UC = 1ull << 8,
    EPTCAP_WB = 1ull << 14,
    EPTCAP_2M = 1ull << 16,
    EPTCAP_1G = 1ull << 17,
    EPTCAP_INVEPT = 1ull << 20,
    EPTCAP_AD = 1ull << 21,
    EPTCAP_ADV_INFO = 1ull << 22,
    EPTCAP_INVEPT_SINGLE = 1ull << 25,
    EPTCAP_INVEPT_ALL = 1ull << 26,
};

/* EPT entry bits: read, write, execute (bits 2:0), memory type (5:3), ignore PAT,
 * page size, accessed, dirty. */
enum {
    EPT_R = 1, EPT_W = 2, EPT_X = 4,
    EPT_IPAT = 1 << 6, EPT_PS = 1 << 7, EPT_A = 1 << 8, EPT_D = 1 << 9,
};
#define EPTP_AD (1ull << 6) /* EPTP bit 6: accessed and dirty flags for EPT */

/* What the walk depends on besides memory: the model's EPT capabilities. */
struct ept_caps {
    uint64_t cap;           /* IA32_VMX_EPT_VPID_CAP */
    uint8_t maxphyaddr;
};

enum ept_outcome { EPT_OK, EPT_NOT_PRESENT, EPT_MISCONFIG };

struct ept_walk {
    enum ept_outcome outcome;
    int levels;             /* 4 or 5 (EPTP bits 5:3 + 1) */
    int n;                  /* entries read, root first (the last is the leaf or the failing one) */
    uint64_t ent[5], ent_pa[5];
    uint8_t rights;         /* AND of bits 2:0 of the entries read (0 when one is not present) */
    uint64_t hpa;           /* EPT_OK: the host-physical address */
    uint8_t page_shift;     /* EPT_OK: 12, 21 or 30 */
    uint8_t memtype;        /* EPT_OK: the leaf's EPT memory type (bits 5:3) */
    bool ipat;              /* EPT_OK: the leaf's ignore-PAT bit */
    const char *why;        /* EPT_MISCONFIG: which rule the failing entry breaks */
};

/* Reads 8 bytes of host-physical memory. */
typedef uint64_t (*ept_read_fn)(void *opaque, uint64_t pa);

/* Walk gpa through the structures of eptp (already valid: the VM-entry checks
 * passed). No side effects: A/D updates are the caller's (vmx/ept_access.c). */
void ept_walk(const struct ept_caps *caps, uint64_t eptp, uint64_t gpa, ept_read_fn rd, void *opaque,
              struct ept_walk *w);

/* The memory type of an access through a leaf of type ept_mt with ignore-PAT
 * ipat when guest paging selects PAT type pat_type (SDM "Memory Type Used for
 * Translated Guest-Physical Addresses": the EPT type takes the place of the
 * MTRR type in the PAT/MTRR combination; WB for the PAT type when CR0.PG = 0). */
uint8_t ept_effective_type(uint8_t ept_mt, bool ipat, uint8_t pat_type);

#endif
