/* trace.h - the --trace FILE writer: JSON Lines, one object per VMX event (VM entry,
 * VM exit, failed VM entry, VMfail). Each line starts with the cycle, the vCPU and
 * the event name, then the event's own fields in the order the caller adds them;
 * numbers are decimal, addresses and raw register values hexadecimal strings, so
 * the same run gives the same bytes. Off (no file) every hook is one test of
 * vmx_trace_out that the compiler marks unlikely; on, writing never changes
 * guest-visible state.
 *
 * Use:   if (vmx_tracing()) {
 *            vmx_trace_begin(c, "vmexit");
 *            vmx_trace_u64("reason", r); vmx_trace_str("reason_name", name);
 *            vmx_trace_obj_begin("qualification"); ...; vmx_trace_obj_end();
 *            vmx_trace_end();
 *        }
 */
#ifndef VMXEMU_VMX_TRACE_H
#define VMXEMU_VMX_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "emu/cpu.h"

extern FILE *vmx_trace_out;

/* Send the trace to f (NULL: tracing off). The caller owns and closes f. */
void vmx_trace_open(FILE *f);

static inline bool vmx_tracing(void)
{
    return __builtin_expect(vmx_trace_out != NULL, 0);
}

/* {"cycle":N,"cpu":N,"event":"<event>" */
void vmx_trace_begin(const cpu_t *c, const char *event);
void vmx_trace_u64(const char *key, uint64_t v);  /* "key":123 */
void vmx_trace_hex(const char *key, uint64_t v);  /* "key":"0x7b" */
void vmx_trace_str(const char *key, const char *v); /* "key":"escaped text", or null for NULL */
void vmx_trace_bool(const char *key, bool v);     /* "key":true */
void vmx_trace_obj_begin(const char *key);        /* "key":{ ... (nests) */
void vmx_trace_obj_end(void);
void vmx_trace_end(void);                          /* }\n */

#endif
