/* fuse: merges work around the SparseK attention kernels.
 *
 * 1. Identical scores are computed once. Upstream CSE cannot do it: IRDL ops declare no
 *    memory effects, so CSE must assume they have some. Two sparsek.score ops with the same
 *    operands and attributes in one block are merged:
 *
 *      %u0 = "sparsek.score"(%k, %w, %b) {mode = "keys", slope = 0.0 : f64, ...}
 *      %u1 = "sparsek.score"(%k, %w, %b) {mode = "keys", slope = 0.0 : f64, ...}
 *    ->
 *      %u0 = "sparsek.score"(%k, %w, %b) {...}        (uses of %u1 now use %u0)
 *
 * 2. A score used only by one attention op is fused into that kernel: the kernel computes
 *    the scores of each (b, kv-head) sequence right before its threshold sweep, so the
 *    B x Hkv x N score tensor is never materialized:
 *
 *      %u = "sparsek.score"(...) {...}
 *      %o = "sparsek.attention"(%q, %k, %v, %u) {...}
 *    ->
 *      %u = "sparsek.score"(...) {..., fused = true}
 *      %o = "sparsek.attention"(%q, %k, %v, %u) {..., fused_score = true}
 *
 * Threshold selection is already part of sparsek.attention (it never exists as its own op),
 * which is the other fusion of design.md's pipeline step 4. */
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

/* The single attention op using score's result as its u, or a null op. */
static MlirOperation single_attention_user(MlirOperation score) {
  MlirOpOperand use = mlirValueGetFirstUse(mlirOperationGetResult(score, 0));
  if (mlirOpOperandIsNull(use) || !mlirOpOperandIsNull(mlirOpOperandGetNextUse(use)))
    return (MlirOperation){NULL};
  MlirOperation user = mlirOpOperandGetOwner(use);
  if (skc_op_kind_of(user) != SKC_OP_ATTENTION || mlirOpOperandGetOperandNumber(use) != 3)
    return (MlirOperation){NULL};
  return user;
}

static void fuse_run(MlirOperation module, MlirExternalPass pass,
                     const struct skc_sparsek_options *o) {
  (void)pass, (void)o;
  int n;
  MlirOperation *scores = skc_collect_ops(module, "sparsek.score", &n);
  for (int i = 0; i < n; ++i)
    if (merge_duplicate(scores, i))
      scores[i] = (MlirOperation){NULL};
  for (int i = 0; i < n; ++i) {
    if (mlirOperationIsNull(scores[i]))
      continue;
    MlirOperation att = single_attention_user(scores[i]);
    if (mlirOperationIsNull(att))
      continue;
    skc_attr_set_bool(scores[i], "fused", true);
    skc_attr_set_bool(att, "fused_score", true);
  }
  free(scores);
}

MlirPass skc_fuse_pass_create(const struct skc_sparsek_options *o) {
  static char id;
  return skc_pass_make(&id, "fuse", "merge duplicate scores; fuse scores into attention", fuse_run,
                       o);
}
