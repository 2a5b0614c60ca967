/* vmx_tables.h - enums and lookups generated from the VMX tables: VMCS fields
 * (vmx/vmcs_fields.def), basic exit reasons (vmx/exit_reasons.def) and
 * VM-instruction errors (vmx/vm_errors.def). Traces, the monitor and the VMX
 * instructions all name things through these. */
#ifndef VMXEMU_VMX_TABLES_H
#define VMXEMU_VMX_TABLES_H

#include <stdint.h>

/* Row numbers of VMCS fields: also their slot in our VMCS region layout. */
enum vmcs_field {
#define F(ident, enc, name, req) VMCS_##ident,
#include "vmx/vmcs_fields.def"
#undef F
    VMCS_FIELD_COUNT
};

/* Encodings (SDM "Encodings of VMCS Fields"). */
enum vmcs_encoding {
#define F(ident, enc, name, req) VMCS_ENC_##ident = enc,
#include "vmx/vmcs_fields.def"
#undef F
};

/* Width (bits 14:13) and type (bits 11:10) of an encoding. */
enum vmcs_width { VMCS_W16 = 0, VMCS_W64 = 1, VMCS_W32 = 2, VMCS_WNAT = 3 };
enum vmcs_type { VMCS_T_CONTROL = 0, VMCS_T_RODATA = 1, VMCS_T_GUEST = 2, VMCS_T_HOST = 3 };
static inline enum vmcs_width vmcs_enc_width(uint32_t enc) { return (enum vmcs_width)((enc >> 13) & 3); }
static inline enum vmcs_type vmcs_enc_type(uint32_t enc) { return (enum vmcs_type)((enc >> 10) & 3); }
static inline unsigned vmcs_enc_index(uint32_t enc) { return (enc >> 1) & 0x1ff; }

/* The field an encoding names (the "high" encoding of a 64-bit field names the
 * field too; *high is set), or -1 if no field has this encoding (bits 31:15 set,
 * bit 12 set, or an unknown index). Existence on a given CPU model is checked
 * by the caller against the field's requirement. */
int vmcs_field_by_encoding(uint32_t enc, int *high);
uint32_t vmcs_field_encoding(enum vmcs_field f);
const char *vmcs_field_name(enum vmcs_field f);    /* "Guest CS selector" */
const char *vmcs_field_ident(enum vmcs_field f);   /* "GUEST_CS_SELECTOR" */
/* The field by its identifier, case-insensitively (for the monitor), or -1. */
int vmcs_field_by_ident(const char *ident);

enum vmx_exit_reason {
#define E(ident, num, name) EXIT_REASON_##ident = num,
#include "vmx/exit_reasons.def"
#undef E
};
const char *vmx_exit_reason_name(unsigned reason);  /* SDM name, or NULL if unused */
const char *vmx_exit_reason_ident(unsigned reason); /* "CPUID", "EPT_VIOLATION", or NULL */

enum vm_instruction_error {
#define V(ident, num, text) VMERR_##ident = num,
#include "vmx/vm_errors.def"
#undef V
};
const char *vm_instruction_error_text(unsigned err); /* NULL for numbers the SDM does not define */

#endif
