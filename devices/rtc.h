/* rtc.h - MC146818-compatible real-time clock and CMOS RAM at ports 0x70/0x71
 * (devices/rtc.c). Time starts at a fixed moment given on the command line and
 * advances with guest cycles, so runs are deterministic. */
#ifndef VMXEMU_RTC_H
#define VMXEMU_RTC_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/machine.h"

typedef struct rtc {
    machine_t *m;
    uint8_t cmos[128];     /* registers 0x0a-0x0d and CMOS RAM; time registers are computed */
    uint8_t index;         /* last index written to port 0x70 (bits 6:0) */
    bool nmi_masked;       /* port 0x70 bit 7 */
    int64_t base_time;     /* Unix time at cycle 0 */
    int64_t set_offset;    /* seconds added by the guest setting the clock */
    uint64_t set_cycle;    /* cycle at which the clock was last set (the divider restarted) */
    event_t *event;        /* next periodic, alarm or update interrupt */
    uint64_t flags_at;     /* cycle up to which register C's flags have been collected */
    void (*irq)(void *opaque, bool level);
    void *irq_opaque;
} rtc_t;

/* A clock that reads `unix_time` (seconds since 1970-01-01 UTC) at cycle 0. */
rtc_t *rtc_new(int64_t unix_time);
void rtc_free(rtc_t *rtc);
/* Claim ports 0x70-0x71; irq(opaque, level) drives IRQ 8. */
void rtc_attach(machine_t *m, rtc_t *rtc, void (*irq)(void *, bool), void *opaque);
/* Fill the CMOS memory-size bytes the way PC firmware does (base, extended,
 * above 16 MiB in 64 KiB units, above 4 GiB in 64 KiB units). */
void rtc_set_memory(rtc_t *rtc, uint64_t lowmem_bytes, uint64_t highmem_bytes);
/* Whether NMIs are masked through port 0x70 bit 7. */
bool rtc_nmi_masked(const rtc_t *rtc);
/* Parse "YYYY-MM-DDTHH:MM:SS" (UTC) into Unix time; false if malformed. */
bool rtc_parse_time(const char *s, int64_t *out);

#endif
