/* exec_sse_feat.c - the per-form CPUID feature table of emu/sse_features.def, which the
 * MMX/SSE/x87 entry checks (emu/fpu.h) consult so that a form the model does not advertise
 * raises #UD. Stored as feature + 1 so that 0 means "no requirement". */
#include "emu/fpu.h"

const uint16_t sse_insn_feature[XI_COUNT] = {
#define SSE_FEAT(id, feat) [XI_##id] = FEAT_##feat + 1,
#include "emu/sse_features.def"
#undef SSE_FEAT
};
