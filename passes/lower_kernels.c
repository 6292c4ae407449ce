/* lower-kernels: turns every sparsek op into a kernel instance with its specialization
 * constants fixed as attributes, and plans the buffers of intermediates in one workspace
 * arena per function (design.md, pipeline step 6).
 *
 *   %u = "sparsek.score"(%x, %w, %b) {mode = "hidden", slope = 0.0 : f64, ...}
 *   %o = "sparsek.attention"(%q, %k, %v, %u) {k = 256, window = 256, gate = "kv",
 *                                             scale = 0.125, causal = true, tile_q = 64}
 *   return %o
 * ->
 *   func.func @f(...) attributes {sparsek.workspace_buffers = 1, sparsek.workspace_align = 64}
 *   %u = "sparsek.score"(...) {..., kernel = "skc_scores_hidden", dtype = "f32",
 *                             feature_dim = 512, buffer = 0}
 *   %o = "sparsek.attention"(...) {..., kernel = "skk_attention_forward", dtype = "f32",
 *          head_dim = 64, q_heads = 8, kv_heads = 8, score_mode = "hidden", tile_q = 64,
 *          instance = 0}
 *
 * Buffer rule: every op result that the function does not return directly gets the next
 * buffer index (program order); returned results are written into the caller's result
 * tensor. The projection kernels around attention (linalg.matmul, linalg.transpose) get
 * buffers by the same rule. Buffer i starts at byte offset sum_{j < i} round_up(bytes(j), align),
 * with bytes from the run-time extents (B, N are dynamic). All ops of a module share one SKK_TILE_Q
 * (one kernel instance per translation unit): the first attention op's tile wins.
 *
 * Errors, at the op's location: a dynamic head dim D, head counts or score feature width
 * (kernels are specialized on them), an element type the target's kernels lack (CPU: f32),
 * a tile the kernels cannot take, scores u not produced by sparsek.score. */
#include <stdio.h>
#include <stdlib.h>

#include "compiler/diag.h"
#include "dialect/sparsek.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "passes/passes.h"

enum { DEFAULT_TILE_Q = 32, WORKSPACE_ALIGN = 64 };

struct lowering {
  const struct skc_sparsek_options *o;
  int errors;
  int attention;  /* instances so far (module-wide) */
  int64_t tile_q; /* the module's tile, 0 until the first attention op */
};

static MlirType operand_type(MlirOperation op, int i) {
  return mlirValueGetType(mlirOperationGetOperand(op, i));
}

/* The extent of axis `axis` (negative: from the end) of operand `i`; -1 with an error when
 * it is dynamic. */
static int64_t static_dim(struct lowering *l, MlirOperation op, int i, const char *operand,
                          int axis, const char *what) {
  MlirType t = operand_type(op, i);
  int rank = (int)mlirShapedTypeGetRank(t);
  int a = axis < 0 ? axis + rank : axis;
  int64_t d = mlirShapedTypeGetDimSize(t, a);
  if (!mlirShapedTypeIsDynamicSize(d))
    return d;
  skc_error_at(mlirOperationGetLocation(op),
               "%s: %s of operand '%s' (dimension %d) is dynamic; "
               "the kernels are specialized on a static %s",
               skc_op_name(skc_op_kind_of(op)), what, operand, a, what);
  l->errors++;
  return -1;
}

/* The element type of operand i must be one the target's kernels take (CPU: f32, and f64
 * for double-precision test builds; CUDA: f32, bf16, f16). */
static bool check_dtype(struct lowering *l, MlirOperation op, int i, const char *operand) {
  MlirType e = mlirShapedTypeGetElementType(operand_type(op, i));
  bool cuda = l->o->target == SKC_TARGET_CUDA;
  if (mlirTypeIsAF32(e) || (!cuda && mlirTypeIsAF64(e)) ||
      (cuda && (mlirTypeIsABF16(e) || mlirTypeIsAF16(e))))
    return true;
  skc_error_at(mlirOperationGetLocation(op),
               "%s: operand '%s' has an element type the %s "
               "kernels do not support (expected f32%s)",
               skc_op_name(skc_op_kind_of(op)), operand, cuda ? "cuda" : "cpu",
               cuda ? ", bf16 or f16" : " or f64");
  l->errors++;
  return false;
}

/* The dtype attribute of an op: its operand 0's element type. */
static const char *dtype_name(MlirOperation op) {
  MlirType e = mlirShapedTypeGetElementType(operand_type(op, 0));
  return mlirTypeIsAF64(e) ? "f64" : mlirTypeIsABF16(e) ? "bf16" : mlirTypeIsAF16(e) ? "f16" : "f32";
}

static bool returned(MlirOperation op) {
  MlirValue r = mlirOperationGetResult(op, 0);
  for (MlirOpOperand u = mlirValueGetFirstUse(r); !mlirOpOperandIsNull(u);
       u = mlirOpOperandGetNextUse(u))
    if (skc_str_eq(mlirIdentifierStr(mlirOperationGetName(mlirOpOperandGetOwner(u))),
                   "func.return"))
      return true;
  return false;
}

static void lower_score(struct lowering *l, MlirOperation op, int64_t *buffers) {
  MlirStringRef m;
  SKC_ASSERT(skc_attr_get_str(op, "mode", &m)); /* verify ran */
  int mode = skc_score_mode_parse(m.data, m.length);
  static const char *const kernels[] = {"skc_scores_hidden", "skc_scores_keys", "skc_scores_input"};
  bool ok = check_dtype(l, op, 0, mode == SKC_SCORE_INPUT ? "u_in" : "x");
  if (mode != SKC_SCORE_INPUT) {
    ok = check_dtype(l, op, 1, "w_score") && check_dtype(l, op, 2, "b_score") && ok;
    int64_t f = static_dim(l, op, 1, "w_score", 1, "feature width F");
    int64_t h = static_dim(l, op, 1, "w_score", 0, "head count Hkv");
    if (f < 0 || h < 0 || !ok)
      return;
    skc_attr_set_int(op, "feature_dim", f);
  }
  skc_attr_set_str(op, "kernel", kernels[mode]);
  skc_attr_set_str(op, "dtype", dtype_name(op));
  if (!returned(op))
    skc_attr_set_int(op, "buffer", (*buffers)++);
}

/* tile_q from the tile pass (or the default) and the module-wide tile. */
static void lower_tile(struct lowering *l, MlirOperation op) {
  int64_t t = 0;
  if (!skc_attr_get_int(op, "tile_q", &t))
    t = DEFAULT_TILE_Q;
  if (t < 8 || t > 256 || t % 8 != 0) {
    skc_error_at(mlirOperationGetLocation(op),
                 "sparsek.attention: attribute 'tile_q' must be a "
                 "multiple of 8 in [8, 256], got %lld",
                 (long long)t);
    l->errors++;
    return;
  }
  if (!l->tile_q)
    l->tile_q = t;
  skc_attr_set_int(op, "tile_q", l->tile_q);
}

static void lower_attention(struct lowering *l, MlirOperation op, int64_t *buffers) {
  static const char *const names[] = {"q", "k", "v"};
  bool ok = true;
  for (int i = 0; i < 3 && ok; ++i)
    ok = check_dtype(l, op, i, names[i]);
  int rank = (int)mlirShapedTypeGetRank(operand_type(op, 0));
  int64_t d = static_dim(l, op, 0, "q", -1, "head dim D");
  int64_t hq = rank == 4 ? static_dim(l, op, 0, "q", 1, "head count Hq") : 1;
  int64_t hkv = rank == 4 ? static_dim(l, op, 1, "k", 1, "head count Hkv") : 1;
  MlirValue u = mlirOperationGetOperand(op, 3);
  if (!mlirValueIsAOpResult(u) || skc_op_kind_of(mlirOpResultGetOwner(u)) != SKC_OP_SCORE) {
    skc_error_at(mlirOperationGetLocation(op), "sparsek.attention: operand 'u' must be produced "
                                               "by sparsek.score");
    l->errors++;
    return;
  }
  if (!ok || d < 0 || hq < 0 || hkv < 0)
    return;
  MlirStringRef mode;
  SKC_ASSERT(skc_attr_get_str(mlirOpResultGetOwner(u), "mode", &mode));
  char mode_buf[16];
  snprintf(mode_buf, sizeof mode_buf, "%.*s", (int)mode.length, mode.data);
  lower_tile(l, op);
  skc_attr_set_str(op, "kernel", "skk_attention_forward");
  skc_attr_set_str(op, "dtype", dtype_name(op));
  skc_attr_set_int(op, "head_dim", d);
  skc_attr_set_int(op, "q_heads", hq);
  skc_attr_set_int(op, "kv_heads", hkv);
  skc_attr_set_str(op, "score_mode", mode_buf);
  skc_attr_set_int(op, "instance", l->attention++);
  if (!returned(op))
    skc_attr_set_int(op, "buffer", (*buffers)++);
}

/* The projection-path kernels codegen supports around attention (codegen/aux_ops.h):
 * linalg.matmul and linalg.transpose write a buffer unless their result is returned. */
static void lower_aux(MlirOperation op, int64_t *buffers) {
  MlirStringRef n = mlirIdentifierStr(mlirOperationGetName(op));
  bool mm = skc_str_eq(n, "linalg.matmul");
  if (!mm && !skc_str_eq(n, "linalg.transpose"))
    return;
  skc_attr_set_str(op, "kernel", mm ? "skc_matmul" : "skc_transpose");
  if (!returned(op))
    skc_attr_set_int(op, "buffer", (*buffers)++);
}

static void lower_func(struct lowering *l, MlirOperation func) {
  int64_t buffers = 0;
  MlirRegion r = mlirOperationGetRegion(func, 0);
  for (MlirBlock b = mlirRegionGetFirstBlock(r); !mlirBlockIsNull(b);
       b = mlirBlockGetNextInRegion(b))
    for (MlirOperation op = mlirBlockGetFirstOperation(b); !mlirOperationIsNull(op);
         op = mlirOperationGetNextInBlock(op)) {
      enum skc_op_kind kind = skc_op_kind_of(op);
      if (kind == SKC_OP_SCORE)
        lower_score(l, op, &buffers);
      else if (kind == SKC_OP_ATTENTION)
        lower_attention(l, op, &buffers);
      else
        lower_aux(op, &buffers);
    }
  skc_attr_set_int(func, "sparsek.workspace_buffers", buffers);
  skc_attr_set_int(func, "sparsek.workspace_align", WORKSPACE_ALIGN);
}

static void lower_kernels_run(MlirOperation module, MlirExternalPass pass,
                              const struct skc_sparsek_options *o) {
  struct lowering l = {o, 0, 0, 0};
  int n = 0;
  MlirOperation *funcs = skc_collect_ops(module, "func.func", &n);
  for (int i = 0; i < n; ++i)
    if (mlirRegionGetFirstBlock(mlirOperationGetRegion(funcs[i], 0)).ptr)
      lower_func(&l, funcs[i]);
  free(funcs);
  if (l.errors)
    mlirExternalPassSignalFailure(pass);
}

MlirPass skc_lower_kernels_pass_create(const struct skc_sparsek_options *o) {
  static char id;
  return skc_pass_make(&id, "lower-kernels",
                       "turn sparsek ops into kernel instances and plan "
                       "the workspace",
                       lower_kernels_run, o);
}
