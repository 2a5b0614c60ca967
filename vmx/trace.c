/* trace.c - the JSON Lines writer of vmx/trace.h. Keys and strings are escaped
 * as JSON requires; a comma goes before every member but the first of each
 * object, tracked per nesting level. */
#include "vmx/trace.h"

#include <inttypes.h>

FILE *vmx_trace_out;

#define MAX_DEPTH 8
static bool first[MAX_DEPTH]; /* no member written yet at this depth */
static int depth;

void vmx_trace_open(FILE *f)
{
    vmx_trace_out = f;
}

static void put_string(const char *s)
{
    FILE *f = vmx_trace_out;
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void key(const char *k)
{
    if (!first[depth])
        fputc(',', vmx_trace_out);
    first[depth] = false;
    put_string(k);
    fputc(':', vmx_trace_out);
}

void vmx_trace_begin(const cpu_t *c, const char *event)
{
    depth = 0;
    first[0] = true;
    fputc('{', vmx_trace_out);
    vmx_trace_u64("cycle", c->cycles);
    vmx_trace_u64("cpu", (uint64_t)c->index);
    vmx_trace_str("event", event);
}

void vmx_trace_u64(const char *k, uint64_t v)
{
    key(k);
    fprintf(vmx_trace_out, "%" PRIu64, v);
}

void vmx_trace_hex(const char *k, uint64_t v)
{
    key(k);
    fprintf(vmx_trace_out, "\"0x%" PRIx64 "\"", v);
}

void vmx_trace_str(const char *k, const char *v)
{
    key(k);
    if (v)
        put_string(v);
    else
        fputs("null", vmx_trace_out);
}

void vmx_trace_bool(const char *k, bool v)
{
    key(k);
    fputs(v ? "true" : "false", vmx_trace_out);
}

void vmx_trace_obj_begin(const char *k)
{
    key(k);
    fputc('{', vmx_trace_out);
    if (depth + 1 < MAX_DEPTH)
        depth++;
    first[depth] = true;
}

void vmx_trace_obj_end(void)
{
    fputc('}', vmx_trace_out);
    if (depth > 0)
        depth--;
}

void vmx_trace_end(void)
{
    fputs("}\n", vmx_trace_out);
    depth = 0;
}
