/* fuse: merges work around the SparseK attention kernels.
 *
 * Identical scores are computed once. Upstream CSE cannot do it: IRDL ops declare no memory
 * effects, so CSE must assume they have some. Two sparsek.score ops with the same operands
 * and attributes in one block are merged:
 *
 *   %u0 = "sparsek.score"(%k, %w, %b) {mode = "keys", slope = 0.0 : f64, ...}
 *   %u1 = "sparsek.score"(%k, %w, %b) {mode = "keys", slope = 0.0 : f64, ...}
 * ->
 *   %u0 = "sparsek.score"(%k, %w, %b) {...}        (uses of %u1 now use %u0)
 *
 * Threshold selection never exists as an op of its own: it is part of sparsek.attention's
 * kernel (the other fusion of design.md's pipeline step 4). Not done yet: folding the score
 * projection of mode "hidden" into the key projection's matmul (one matmul producing k and
 * u) and fusing elementwise epilogues into the attention kernel. */
#include <stdlib.h>

#include "dialect/sparsek.h"
#include "passes/passes.h"

static bool same_operands(MlirOperation a, MlirOperation b) {
  intptr_t n = mlirOperationGetNumOperands(a);
  if (n != mlirOperationGetNumOperands(b))
    return false;
  for (intptr_t i = 0; i < n; ++i)
    if (!mlirValueEqual(mlirOperationGetOperand(a, i), mlirOperationGetOperand(b, i)))
      return false;
  return true;
}

static bool same_attrs(MlirOperation a, MlirOperation b) {
  static const char *const names[] = {"mode", "slope"};
  for (size_t i = 0; i < sizeof names / sizeof *names; ++i) {
    MlirAttribute x = mlirOperationGetAttributeByName(a, skc_str(names[i]));
    MlirAttribute y = mlirOperationGetAttributeByName(b, skc_str(names[i]));
    if (!mlirAttributeEqual(x, y))
      return false;
  }
  return true;
}

/* Merges scores[i] into an earlier identical score of the same block; true if erased. */
static bool merge_duplicate(MlirOperation *scores, int i) {
  for (int j = 0; j < i; ++j) {
    if (mlirOperationIsNull(scores[j]))
      continue;
    MlirOperation a = scores[j], b = scores[i];
    if (!mlirBlockEqual(mlirOperationGetBlock(a), mlirOperationGetBlock(b)) ||
        !same_operands(a, b) || !same_attrs(a, b))
      continue;
    mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(b, 0), mlirOperationGetResult(a, 0));
    mlirOperationDestroy(b);
    return true;
  }
  return false;
}

static void fuse_run(MlirOperation module, MlirExternalPass pass,
                     const struct skc_sparsek_options *o) {
  (void)pass, (void)o;
  int n;
  MlirOperation *scores = skc_collect_ops(module, "sparsek.score", &n);
  for (int i = 0; i < n; ++i)
    if (merge_duplicate(scores, i))
      scores[i] = (MlirOperation){NULL};
  free(scores);
}

MlirPass skc_fuse_pass_create(const struct skc_sparsek_options *o) {
  static char id;
  return skc_pass_make(&id, "fuse", "merge identical scores", fuse_run,
                       o);
}
