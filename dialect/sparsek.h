/* The sparsek dialect from C: loading the embedded IRDL definition (no run-time file
 * lookup), the op table every per-op table is expanded from, and typed attribute access.
 * Op structure lives in dialect/sparsek.irdl.mlir; semantics in shared/spec/sparsek.md. */
#ifndef SKC_SPARSEK_H
#define SKC_SPARSEK_H

#include <stdbool.h>
#include <stdint.h>
#include "mlir-c/IR.h"

/* X(kind, op name): every sparsek op once. Tables expanded from this list end with a
 * _Static_assert on SKC_OP_COUNT. */
#define SKC_OP_LIST(X)                                                                       \
  X(SKC_OP_DENSE_ATTENTION, "sparsek.dense_attention")                                       \
  X(SKC_OP_SCORE, "sparsek.score")                                                           \
  X(SKC_OP_ATTENTION, "sparsek.attention")

enum skc_op_kind {
  SKC_OP_NONE = -1,
#define SKC_X_ENUM(kind, name) kind,
  SKC_OP_LIST(SKC_X_ENUM)
#undef SKC_X_ENUM
      SKC_OP_COUNT
};

/* Gate and score-mode spellings, shared by the verifier, the CLI and codegen. */
#define SKC_GATE_LIST(X) X(SKC_GATE_KV, "kv") X(SKC_GATE_V, "v")
#define SKC_SCORE_LIST(X)                                                                    \
  X(SKC_SCORE_HIDDEN, "hidden") X(SKC_SCORE_KEYS, "keys") X(SKC_SCORE_INPUT, "input")

enum skc_gate {
#define SKC_X_ENUM(kind, name) kind,
  SKC_GATE_LIST(SKC_X_ENUM) SKC_GATE_COUNT
};
enum skc_score_mode { SKC_SCORE_LIST(SKC_X_ENUM) SKC_SCORE_COUNT };
#undef SKC_X_ENUM

const char *skc_op_name(enum skc_op_kind kind);
enum skc_op_kind skc_op_kind_of(MlirOperation op);
const char *skc_gate_name(int gate);
const char *skc_score_mode_name(int mode);
/* Index of `s` in the gate / score-mode list, or -1. */
int skc_gate_parse(const char *s, size_t len);
int skc_score_mode_parse(const char *s, size_t len);

/* Registers the dialects skc reads (func, arith, linalg, tensor, math, scf) and the
 * embedded sparsek IRDL definition. Returns false (after a diagnostic) on failure. */
bool skc_dialects_load(MlirContext ctx);

/* ---- attribute helpers ---------------------------------------------------------------- */
MlirStringRef skc_str(const char *s);
bool skc_str_eq(MlirStringRef a, const char *b);
/* Reads an integer / float / string attribute; returns false when absent or of another kind. */
bool skc_attr_get_int(MlirOperation op, const char *name, int64_t *out);
bool skc_attr_get_float(MlirOperation op, const char *name, double *out);
bool skc_attr_get_str(MlirOperation op, const char *name, MlirStringRef *out);
void skc_attr_set_int(MlirOperation op, const char *name, int64_t v);
void skc_attr_set_float(MlirOperation op, const char *name, double v);
void skc_attr_set_str(MlirOperation op, const char *name, const char *v);
void skc_attr_set_bool(MlirOperation op, const char *name, bool v);

#endif
