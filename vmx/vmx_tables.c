/* vmx_tables.c - lookups over the VMX X-macro tables (see vmx_tables.h). */
#include "vmx/vmx_tables.h"

#include <stddef.h>
#include <strings.h>

static const uint32_t field_enc[VMCS_FIELD_COUNT] = {
#define F(ident, enc, name, req) enc,
#include "vmx/vmcs_fields.def"
#undef F
};
static const char *const field_name[VMCS_FIELD_COUNT] = {
#define F(ident, enc, name, req) name,
#include "vmx/vmcs_fields.def"
#undef F
};
static const char *const field_ident[VMCS_FIELD_COUNT] = {
#define F(ident, enc, name, req) #ident,
#include "vmx/vmcs_fields.def"
#undef F
};

int vmcs_field_by_encoding(uint32_t enc, int *high)
{
    if (enc & 0xffff9000u) /* bits 31:15 and 12 are reserved */
        return -1;
    int hi = (enc & 1) != 0;
    if (hi && vmcs_enc_width(enc) != VMCS_W64)
        return -1; /* only 64-bit fields have a high access type */
    for (int f = 0; f < VMCS_FIELD_COUNT; f++)
        if (field_enc[f] == (enc & ~1u)) {
            if (high)
                *high = hi;
            return f;
        }
    return -1;
}

uint32_t vmcs_field_encoding(enum vmcs_field f) { return field_enc[f]; }
const char *vmcs_field_name(enum vmcs_field f) { return field_name[f]; }
const char *vmcs_field_ident(enum vmcs_field f) { return field_ident[f]; }

int vmcs_field_by_ident(const char *ident)
{
    for (int f = 0; f < VMCS_FIELD_COUNT; f++)
        if (!strcasecmp(field_ident[f], ident))
            return f;
    return -1;
}

#define EXIT_REASON_MAX 64
static const char *const exit_name[EXIT_REASON_MAX + 1] = {
#define E(ident, num, name) [num] = name,
#include "vmx/exit_reasons.def"
#undef E
};
static const char *const exit_ident[EXIT_REASON_MAX + 1] = {
#define E(ident, num, name) [num] = #ident,
#include "vmx/exit_reasons.def"
#undef E
};

const char *vmx_exit_reason_name(unsigned reason)
{
    return reason <= EXIT_REASON_MAX ? exit_name[reason] : NULL;
}
const char *vmx_exit_reason_ident(unsigned reason)
{
    return reason <= EXIT_REASON_MAX ? exit_ident[reason] : NULL;
}

#define VMERR_MAX 28
static const char *const vmerr_text[VMERR_MAX + 1] = {
#define V(ident, num, text) [num] = text,
#include "vmx/vm_errors.def"
#undef V
};
const char *vm_instruction_error_text(unsigned err)
{
    return err <= VMERR_MAX ? vmerr_text[err] : NULL;
}
