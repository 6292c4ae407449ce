/* The non-sparsek ops codegen supports around the attention (the projection path of a model:
 * hidden states -> collapse_shape -> matmul -> expand_shape -> transpose -> k):
 *   linalg.matmul, linalg.transpose           kernels writing a buffer or a result;
 *   tensor.expand_shape, tensor.collapse_shape views of their (contiguous) source, no code;
 *   tensor.empty, linalg.fill of 0.0, arith.constant  only as the init of the above, no code.
 * Every tensor they touch must have a static shape and f32 elements. */
#ifndef SKC_CODEGEN_AUX_OPS_H
#define SKC_CODEGEN_AUX_OPS_H

#include <stdbool.h>

#include "mlir-c/IR.h"

enum skc_aux_kind {
  SKC_AUX_NONE,
  SKC_AUX_CONST,
  SKC_AUX_EMPTY,
  SKC_AUX_FILL,
  SKC_AUX_MATMUL,
  SKC_AUX_TRANSPOSE,
  SKC_AUX_EXPAND,
  SKC_AUX_COLLAPSE,
};

enum skc_aux_kind skc_aux_kind_of(MlirOperation op);
/* Views alias their operand; inits produce nothing; kernels are steps. */
bool skc_aux_is_view(enum skc_aux_kind k);
bool skc_aux_is_init(enum skc_aux_kind k);
bool skc_aux_is_kernel(enum skc_aux_kind k);
/* Checks the op's shapes, element types and init rules; an error at its location when it is
 * used in a way codegen does not support. */
bool skc_aux_check(MlirOperation op);
/* The permutation of a linalg.transpose into perm[0..rank). */
void skc_aux_permutation(MlirOperation op, int64_t *perm, int rank);

#endif
