/* Pattern-matching utilities for raise-attention (passes/raise_attention.c): a uniform view
 * of linalg ops on tensors (operands, indexing maps, loop kinds, payload block), and an
 * evaluator that turns "element [labels] of tensor %t" into a small expression tree by
 * inlining elementwise producers, turning reductions into RED nodes and stopping at
 * contractions (CONTRACT) and at anything it does not know (LEAF / OPAQUE).
 *
 * Tensor dimensions are indexed by skc_ix: a logical loop label (the matcher's i, j, b, h,
 * d...), that label floordiv g, that label mod g, or 0. Labels are small integers the caller
 * allocates with skc_eval_label(). */
#ifndef SKC_RAISE_MATCH_H
#define SKC_RAISE_MATCH_H

#include "mlir-c/AffineMap.h"
#include "mlir-c/IR.h"
#include <stdbool.h>
#include <stdint.h>

#define SKC_MATCH_MAX_RANK 8
#define SKC_MATCH_MAX_OPERANDS 8

/* ---- index expressions and relabelling ------------------------------------------------- */

enum skc_ix_kind { SKC_IX_DIM, SKC_IX_DIV, SKC_IX_MOD, SKC_IX_ZERO };

struct skc_ix {
  int kind;  /* enum skc_ix_kind */
  int label; /* the logical loop label (unused for SKC_IX_ZERO) */
  int64_t g; /* divisor / modulus for SKC_IX_DIV and SKC_IX_MOD */
};

struct skc_labels {
  int rank;
  struct skc_ix ix[SKC_MATCH_MAX_RANK];
};

struct skc_ix skc_ix_dim(int label);
bool skc_ix_eq(struct skc_ix a, struct skc_ix b);
bool skc_labels_eq(const struct skc_labels *a, const struct skc_labels *b);

/* ---- linalg ops as loops over indexing maps ------------------------------------------- */

/* A linalg op on tensors: operand[0..nin) are ins, [nin, nin+nout) outs (inits), one map
 * per operand over nloops loop dims; body is the payload block (null for softmax). */
struct skc_linalg {
  MlirOperation op;
  int nin, nout, nloops;
  MlirValue operand[SKC_MATCH_MAX_OPERANDS];
  MlirAffineMap map[SKC_MATCH_MAX_OPERANDS];
  bool reduction[SKC_MATCH_MAX_RANK]; /* per loop */
  MlirBlock body;
};

/* Fills v for linalg.generic, named ops with indexing_maps (batch_matmul, matmul, contract,
 * elementwise), named elementwise ops (map, add, sub, mul, div, exp, max, ...), reduce,
 * broadcast, transpose, fill and copy. False for anything else or over the limits. */
bool skc_linalg_view(MlirOperation op, struct skc_linalg *v);

/* Labels of operand `k` given labels of the op's loops; false when a map result is not
 * d, d floordiv c, d mod c or a constant 0. */
bool skc_linalg_operand_labels(const struct skc_linalg *v, int k, const struct skc_ix *loops,
                               struct skc_labels *out);

/* Loop labels from the labels of result r (out map must be a projected permutation); loops
 * the result does not index (reductions) get fresh labels from *next_label. */
bool skc_linalg_loop_labels(const struct skc_linalg *v, int r, const struct skc_labels *res,
                            int *next_label, struct skc_ix *loops);

/* Source labels of a tensor.collapse_shape / tensor.expand_shape given its result labels. */
bool skc_reshape_source_labels(MlirOperation op, const struct skc_labels *res,
                               struct skc_labels *src);

/* A 2-input, 1-init contraction: yield = init + in0 * in1 (any order) with exactly one
 * reduction loop. */
bool skc_linalg_is_contraction(const struct skc_linalg *v);

/* ---- element expressions --------------------------------------------------------------- */

enum skc_node_kind {
  SKC_N_OPAQUE,   /* unknown value */
  SKC_N_CONST,    /* c (floats, integers, booleans) */
  SKC_N_IDX,      /* a loop index: ix */
  SKC_N_LEAF,     /* element `labels` of tensor `value`, not inlined */
  SKC_N_CONTRACT, /* element `labels` of the result of contraction `op` */
  SKC_N_PH,       /* the placeholder block argument (skc_eval_op_with_placeholder) */
  SKC_N_ACC,      /* the accumulator of the enclosing reduction */
  SKC_N_RED,      /* red_kind over label red_label of a[0], initial value a[1] */
  SKC_N_SOFTMAX,  /* softmax of a[0] along red_label */
  SKC_N_OP,       /* op applied to a[0..2] */
};

enum skc_node_op {
  SKC_EOP_ADD,
  SKC_EOP_SUB,
  SKC_EOP_MUL,
  SKC_EOP_DIV,
  SKC_EOP_MAX,
  SKC_EOP_NEG,
  SKC_EOP_EXP,
  SKC_EOP_SQRT,
  SKC_EOP_RSQRT,
  SKC_EOP_SELECT,
  SKC_EOP_CMPI,
  SKC_EOP_CMPF,
  SKC_EOP_XOR,
  SKC_EOP_UITOFP, /* also extui: a boolean reads as 1 */
  SKC_EOP_SITOFP  /* a boolean (i1) reads as -1 */
};

enum skc_red_kind { SKC_RED_SUM, SKC_RED_MAX };

/* arith.cmpi predicates, in the order of the attribute's integer value. */
enum skc_cmpi {
  SKC_CMPI_EQ,
  SKC_CMPI_NE,
  SKC_CMPI_SLT,
  SKC_CMPI_SLE,
  SKC_CMPI_SGT,
  SKC_CMPI_SGE,
  SKC_CMPI_ULT,
  SKC_CMPI_ULE,
  SKC_CMPI_UGT,
  SKC_CMPI_UGE
};

struct skc_node {
  int kind; /* enum skc_node_kind */
  int op;   /* enum skc_node_op for SKC_N_OP; enum skc_red_kind for SKC_N_RED */
  int pred; /* enum skc_cmpi for SKC_EOP_CMPI; the arith.cmpf predicate for SKC_EOP_CMPF */
  double c;
  struct skc_ix ix;
  int red_label;
  struct skc_node *a[3];
  MlirValue value;          /* SKC_N_LEAF */
  MlirOperation contract;   /* SKC_N_CONTRACT */
  struct skc_labels labels; /* SKC_N_LEAF, SKC_N_CONTRACT */
};

/* The evaluator: a node arena (bounded; running out makes eval return NULL), a label
 * counter and the set of ops it looked at (the subgraph, for dead-op cleanup). */
struct skc_eval {
  struct skc_node *nodes;
  int n, cap;
  int next_label;
  MlirOperation *seen;
  int nseen, capseen;
  int depth;
};

void skc_eval_create(struct skc_eval *e, int cap);
void skc_eval_destroy(struct skc_eval *e);
/* Forgets the nodes and the seen set (labels keep counting). */
void skc_eval_reset(struct skc_eval *e);
int skc_eval_label(struct skc_eval *e);
void skc_eval_see(struct skc_eval *e, MlirOperation op);

/* Element `labels` of tensor t; NULL when the arena runs out. */
struct skc_node *skc_eval_tensor(struct skc_eval *e, MlirValue t, const struct skc_labels *l);

/* The yield of elementwise op v (result 0) with loop labels `loops`, input `ph` replaced by
 * SKC_N_PH. NULL when the arena runs out. */
struct skc_node *skc_eval_op_with_placeholder(struct skc_eval *e, const struct skc_linalg *v,
                                              const struct skc_ix *loops, int ph);

/* Structural equality, reading label `from` in b as `to`. */
bool skc_node_eq(const struct skc_node *a, const struct skc_node *b, int from, int to);
/* True when label `l` occurs in n. */
bool skc_node_uses_label(const struct skc_node *n, int l);

/* A constant scalar value defined by arith.constant (float, int, bool or splat). */
bool skc_value_const(MlirValue v, double *out);

#endif
