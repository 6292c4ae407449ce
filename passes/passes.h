/* The skc passes: options they read, the pass table and each pass's constructor.
 * One pass per file; stem, constructor (skc_<stem>_pass_create), skc-opt flag
 * (--skc-<flag>) and lit test (test/passes/<stem>.mlir) share one name. */
#ifndef SKC_PASSES_H
#define SKC_PASSES_H

#include <stdbool.h>
#include <stdint.h>
#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"

enum skc_target { SKC_TARGET_CPU = 0, SKC_TARGET_CUDA = 1 };

/* What the sparsek passes read from the command line. Per-op attributes (`sparsek.k`, ...)
 * on a dense attention op override these. */
struct skc_sparsek_options {
  int64_t k;        /* --sparsek-k (default 64) */
  int64_t window;   /* --sparsek-window (default 64) */
  int gate;         /* --sparsek-gate, enum skc_gate */
  int score_mode;   /* --sparsek-score, enum skc_score_mode */
  double slope;     /* --sparsek-slope */
  int target;       /* --target, enum skc_target */
  bool grad;        /* --grad: backward entry points */
  bool decode;      /* --decode: decode-step entry point */
};

void skc_sparsek_options_init(struct skc_sparsek_options *o);

/* X(stem, flag, summary): every pass once, in pipeline order. */
#define SKC_PASS_LIST(X)                                                                     \
  X(verify, "verify", "check ranks, shapes, element types and attributes of sparsek ops")     \
  X(raise_attention, "raise-attention", "replace dense causal attention by dense_attention")  \
  X(sparsify, "sparsify", "turn dense attention into SparseK score + attention ops")         \
  X(fuse, "fuse", "merge identical sparsek.score ops (CSE cannot: IRDL ops)")            \
  X(tile, "tile", "choose the query tile of each attention op (cost model)")                 \
  X(lower_kernels, "lower-kernels", "fix kernel instances and plan the workspace buffers")

#define SKC_X_DECL(stem, flag, summary)                                                      \
  MlirPass skc_##stem##_pass_create(const struct skc_sparsek_options *o);
SKC_PASS_LIST(SKC_X_DECL)
#undef SKC_X_DECL

struct skc_pass_info {
  const char *flag;
  const char *summary;
  MlirPass (*create)(const struct skc_sparsek_options *o);
};
extern const struct skc_pass_info skc_passes[];
extern const int skc_pass_count;
/* The entry of `flag` ("raise-attention"), or NULL. */
const struct skc_pass_info *skc_pass_find(const char *flag);

/* The query tile the cost model of passes/tile.c picks (n = 0: unknown length). */
int64_t skc_tile_choose(int target, int64_t k, int64_t w, int64_t d, int64_t n);

/* ---- helpers for writing a pass --------------------------------------------------------- */

typedef void (*skc_pass_run_fn)(MlirOperation module, MlirExternalPass pass,
                                const struct skc_sparsek_options *o);

/* An external pass on builtin.module that calls run(module, pass, o). `id` must be the
 * address of a static object unique to the pass (its TypeID). */
MlirPass skc_pass_make(void *id, const char *flag, const char *summary, skc_pass_run_fn run,
                       const struct skc_sparsek_options *o);

/* Creates op `name` (one result of type `result`) at `before`'s location, inserted before it. */
MlirOperation skc_op_create_before(MlirOperation before, const char *name, intptr_t nops,
                                   const MlirValue *ops, MlirType result, intptr_t nattrs,
                                   const MlirNamedAttribute *attrs);

/* The named attribute `name` = a. */
MlirNamedAttribute skc_named_attr(MlirContext ctx, const char *name, MlirAttribute a);

/* Collects every op of the given kind under `root` (pre-order) into a growable array the
 * caller frees with free(). */
MlirOperation *skc_collect_ops(MlirOperation root, const char *name, int *count);

#endif
