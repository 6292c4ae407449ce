/* Target records: one row per code-generation target, expanded from one X-macro list. The
 * C/OpenMP writer is emit_c.c; the CUDA writer is not part of this build yet. */
#include <stddef.h>

#include "codegen/cgen.h"
#include "passes/passes.h"

/* X(target enum, name, description, source extension, kernel header, score header,
 *   available) */
#define SKC_TARGET_LIST(X)                                                                         \
  X(SKC_TARGET_CPU, "cpu", "C11 + OpenMP", ".c", "kernels/cpu_attention_fwd.h",                    \
    "kernels/cpu_scores.h", true)                                                                  \
  X(SKC_TARGET_CUDA, "cuda", "CUDA", ".cu", "skrt/cuda.h", "", true)

#define SKC_X_ROW(kind, name, desc, ext, header, scores, avail)                                    \
  [kind] = {name, desc, ext, header, scores, avail},
static const struct skc_target_info targets[] = {SKC_TARGET_LIST(SKC_X_ROW)};
#undef SKC_X_ROW
#define SKC_X_ONE(...) +1
_Static_assert(sizeof targets / sizeof *targets == 0 SKC_TARGET_LIST(SKC_X_ONE), "targets");
#undef SKC_X_ONE

const struct skc_target_info *skc_target_get(int target) {
  if (target < 0 || target >= (int)(sizeof targets / sizeof *targets))
    return NULL;
  return &targets[target];
}
