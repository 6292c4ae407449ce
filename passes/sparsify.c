/* sparsify: turns each dense causal attention into SparseK attention (spec S5-S10), with k,
 * window, gate, score mode and slope from the command line or from per-op attributes
 * (`sparsek.k`, `sparsek.window`, `sparsek.gate`, `sparsek.score`, `sparsek.slope` on the
 * dense op or on its function; the op's own win). It adds the score parameters to the
 * function, after its own arguments, per attention op in program order (design.md, ABI):
 *
 *   func.func @f(%x: tensor<2x128x512xf32>, ...) {
 *     %o = "sparsek.dense_attention"(%q, %k, %v) {causal = true, scale = 0.125 : f64}
 *   ->
 *   func.func @f(%x: tensor<2x128x512xf32>, ..., %w_score: tensor<8x512xf32>,
 *                %b_score: tensor<8xf32>) {
 *     %u = "sparsek.score"(%x, %w_score, %b_score) {mode = "hidden", slope = 0.0 : f64, ...}
 *     %o = "sparsek.attention"(%q, %k, %v, %u) {k = 64, window = 64, gate = "kv", ...}
 *
 * Score mode hidden reads the hidden states that the key projection reads (found by walking
 * k back through shape-only ops to its projection); keys reads k; input adds a parameter u
 * (B, Hkv, N) f32 that the caller supplies. */
#include <stdlib.h>

#include "compiler/diag.h"
#include "dialect/sparsek.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "passes/passes.h"

/* The per-op configuration after overrides. */
struct config {
  int64_t k, window;
  int gate, mode;
  double slope;
};

static bool read_override(MlirOperation op, struct config *c) {
  int64_t i;
  double f;
  MlirStringRef s;
  if (skc_attr_get_int(op, "sparsek.k", &i))
    c->k = i;
  if (skc_attr_get_int(op, "sparsek.window", &i))
    c->window = i;
  if (skc_attr_get_float(op, "sparsek.slope", &f))
    c->slope = f;
  if (skc_attr_get_str(op, "sparsek.gate", &s) &&
      (c->gate = skc_gate_parse(s.data, s.length)) < 0) {
    skc_error_at(mlirOperationGetLocation(op), "attribute 'sparsek.gate' must be \"kv\" or "
                 "\"v\", got \"%.*s\"", (int)s.length, s.data);
    return false;
  }
  if (skc_attr_get_str(op, "sparsek.score", &s) &&
      (c->mode = skc_score_mode_parse(s.data, s.length)) < 0) {
    skc_error_at(mlirOperationGetLocation(op), "attribute 'sparsek.score' must be \"hidden\", "
                 "\"keys\" or \"input\", got \"%.*s\"", (int)s.length, s.data);
    return false;
  }
  return true;
}

static bool get_config(MlirOperation op, MlirOperation func,
                       const struct skc_sparsek_options *o, struct config *c) {
  *c = (struct config){o->k, o->window, o->gate, o->score_mode, o->slope};
  if (!read_override(func, c) || !read_override(op, c))
    return false;
  if (c->k < 1 || c->window < 0) {
    skc_error_at(mlirOperationGetLocation(op), "sparsek.k must be >= 1 and sparsek.window >= 0, "
                 "got k = %lld, window = %lld", (long long)c->k, (long long)c->window);
    return false;
  }
  return true;
}

static bool is_shape_op(MlirOperation op) {
  static const char *const names[] = {"tensor.expand_shape", "tensor.collapse_shape",
                                      "tensor.reshape", "linalg.transpose", "tensor.cast",
                                      "linalg.broadcast"};
  MlirStringRef n = mlirIdentifierStr(mlirOperationGetName(op));
  for (size_t i = 0; i < sizeof names / sizeof *names; ++i)
    if (skc_str_eq(n, names[i]))
      return true;
  return false;
}

static bool is_projection(MlirOperation op) {
  MlirStringRef n = mlirIdentifierStr(mlirOperationGetName(op));
  return skc_str_eq(n, "linalg.matmul") || skc_str_eq(n, "linalg.batch_matmul") ||
         skc_str_eq(n, "linalg.generic");
}

/* Strips shape-only ops from v. */
static MlirValue through_shapes(MlirValue v) {
  while (mlirValueIsAOpResult(v) && is_shape_op(mlirOpResultGetOwner(v)))
    v = mlirOperationGetOperand(mlirOpResultGetOwner(v), 0);
  return v;
}

/* The hidden states (B, N, F) that the projection producing k reads, or a null value. */
static MlirValue find_hidden(MlirValue k, int64_t batch, int64_t n) {
  MlirValue p = through_shapes(k);
  if (!mlirValueIsAOpResult(p) || !is_projection(mlirOpResultGetOwner(p)))
    return (MlirValue){NULL};
  MlirValue x = mlirOperationGetOperand(mlirOpResultGetOwner(p), 0);
  for (;;) {
    MlirType t = mlirValueGetType(x);
    if (mlirTypeIsARankedTensor(t) && mlirShapedTypeGetRank(t) == 3 &&
        mlirShapedTypeGetDimSize(t, 0) == batch && mlirShapedTypeGetDimSize(t, 1) == n)
      return x;
    if (!mlirValueIsAOpResult(x) || !is_shape_op(mlirOpResultGetOwner(x)))
      return (MlirValue){NULL};
    x = mlirOperationGetOperand(mlirOpResultGetOwner(x), 0);
  }
}

/* Appends a function argument of type t (keeping function_type and arg_attrs in sync). */
static MlirValue add_func_arg(MlirOperation func, MlirType t, MlirLocation loc) {
  MlirContext ctx = mlirOperationGetContext(func);
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(func, 0));
  MlirValue arg = mlirBlockAddArgument(body, t, loc);
  MlirAttribute fta = mlirOperationGetAttributeByName(func, skc_str("function_type"));
  MlirType ft = mlirTypeAttrGetValue(fta);
  intptr_t ni = mlirFunctionTypeGetNumInputs(ft), nr = mlirFunctionTypeGetNumResults(ft);
  MlirType *types = malloc(sizeof(MlirType) * (size_t)(ni + 1 + nr));
  SKC_ASSERT(types);
  for (intptr_t i = 0; i < ni; ++i)
    types[i] = mlirFunctionTypeGetInput(ft, i);
  types[ni] = t;
  for (intptr_t i = 0; i < nr; ++i)
    types[ni + 1 + i] = mlirFunctionTypeGetResult(ft, i);
  MlirType nft = mlirFunctionTypeGet(ctx, ni + 1, types, nr, types + ni + 1);
  mlirOperationSetAttributeByName(func, skc_str("function_type"), mlirTypeAttrGet(nft));
  free(types);
  MlirAttribute aa = mlirOperationGetAttributeByName(func, skc_str("arg_attrs"));
  if (!mlirAttributeIsNull(aa)) {
    intptr_t n = mlirArrayAttrGetNumElements(aa);
    MlirAttribute *elts = malloc(sizeof(MlirAttribute) * (size_t)(n + 1));
    SKC_ASSERT(elts);
    for (intptr_t i = 0; i < n; ++i)
      elts[i] = mlirArrayAttrGetElement(aa, i);
    elts[n] = mlirDictionaryAttrGet(ctx, 0, NULL);
    mlirOperationSetAttributeByName(func, skc_str("arg_attrs"), mlirArrayAttrGet(ctx, n + 1, elts));
    free(elts);
  }
  return arg;
}

/* Scores and score weights are f32 (spec section 5); f64 when q is (double test builds). */
static MlirType score_tensor(MlirOperation dense, int rank, const int64_t *shape) {
  MlirContext ctx = mlirOperationGetContext(dense);
  MlirType qe = mlirShapedTypeGetElementType(mlirValueGetType(mlirOperationGetOperand(dense, 0)));
  MlirType e = mlirTypeIsAF64(qe) ? qe : mlirF32TypeGet(ctx);
  return mlirRankedTensorTypeGet(rank, shape, e, mlirAttributeGetNull());
}

/* Builds the sparsek.score op for `dense` per c->mode; null op after an error. */
static MlirOperation build_score(MlirOperation dense, MlirOperation func, const struct config *c) {
  MlirContext ctx = mlirOperationGetContext(dense);
  MlirLocation loc = mlirOperationGetLocation(dense);
  MlirValue k = mlirOperationGetOperand(dense, 1);
  MlirType kt = mlirValueGetType(k);
  int rank = (int)mlirShapedTypeGetRank(kt);
  int64_t batch = mlirShapedTypeGetDimSize(kt, 0), n = mlirShapedTypeGetDimSize(kt, rank - 2);
  int64_t hkv = rank == 4 ? mlirShapedTypeGetDimSize(kt, 1) : 1;
  int64_t ushape[3] = {batch, hkv, n};
  MlirType ut = score_tensor(dense, 3, ushape);
  MlirValue ops[3];
  int nops = 3;
  if (c->mode == SKC_SCORE_INPUT) {
    ops[0] = add_func_arg(func, ut, loc);
    nops = 1;
  } else {
    ops[0] = c->mode == SKC_SCORE_KEYS ? k : find_hidden(k, batch, n);
    if (mlirValueIsNull(ops[0])) {
      skc_error_at(loc, "score mode \"hidden\" needs the hidden states that the key projection "
                   "reads, but 'k' is not computed by a projection of a (B, N, F) tensor in "
                   "this function; use --sparsek-score=keys or --sparsek-score=input");
      return (MlirOperation){NULL};
    }
    MlirType xt = mlirValueGetType(ops[0]);
    int64_t wshape[2] = {hkv, mlirShapedTypeGetDimSize(xt, mlirShapedTypeGetRank(xt) - 1)};
    ops[1] = add_func_arg(func, score_tensor(dense, 2, wshape), loc);
    ops[2] = add_func_arg(func, score_tensor(dense, 1, &hkv), loc);
  }
  int32_t seg[3] = {1, nops == 3, nops == 3};
  MlirNamedAttribute attrs[3] = {
      skc_named_attr(ctx, "mode", mlirStringAttrGet(ctx, skc_str(skc_score_mode_name(c->mode)))),
      skc_named_attr(ctx, "slope", mlirFloatAttrDoubleGet(ctx, mlirF64TypeGet(ctx), c->slope)),
      skc_named_attr(ctx, "operandSegmentSizes", mlirDenseI32ArrayGet(ctx, 3, seg))};
  return skc_op_create_before(dense, "sparsek.score", nops, ops, ut, 3, attrs);
}

static bool sparsify_one(MlirOperation dense, MlirOperation func,
                         const struct skc_sparsek_options *o) {
  struct config c;
  if (!get_config(dense, func, o, &c))
    return false;
  MlirOperation score = build_score(dense, func, &c);
  if (mlirOperationIsNull(score))
    return false;
  MlirContext ctx = mlirOperationGetContext(dense);
  MlirType i64 = mlirIntegerTypeGet(ctx, 64);
  MlirValue ops[4] = {mlirOperationGetOperand(dense, 0), mlirOperationGetOperand(dense, 1),
                      mlirOperationGetOperand(dense, 2), mlirOperationGetResult(score, 0)};
  MlirNamedAttribute attrs[5] = {
      skc_named_attr(ctx, "k", mlirIntegerAttrGet(i64, c.k)),
      skc_named_attr(ctx, "window", mlirIntegerAttrGet(i64, c.window)),
      skc_named_attr(ctx, "gate", mlirStringAttrGet(ctx, skc_str(skc_gate_name(c.gate)))),
      skc_named_attr(ctx, "scale", mlirOperationGetAttributeByName(dense, skc_str("scale"))),
      skc_named_attr(ctx, "causal", mlirOperationGetAttributeByName(dense, skc_str("causal")))};
  MlirType rt = mlirValueGetType(mlirOperationGetResult(dense, 0));
  MlirOperation att = skc_op_create_before(dense, "sparsek.attention", 4, ops, rt, 5, attrs);
  mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(dense, 0), mlirOperationGetResult(att, 0));
  mlirOperationDestroy(dense);
  return true;
}

static void sparsify_run(MlirOperation module, MlirExternalPass pass,
                         const struct skc_sparsek_options *o) {
  int nfuncs;
  MlirOperation *funcs = skc_collect_ops(module, "func.func", &nfuncs);
  bool ok = true;
  for (int f = 0; f < nfuncs; ++f) {
    int n;
    MlirOperation *dense = skc_collect_ops(funcs[f], "sparsek.dense_attention", &n);
    for (int i = 0; i < n && ok; ++i)
      ok = sparsify_one(dense[i], funcs[f], o);
    free(dense);
  }
  free(funcs);
  if (!ok)
    mlirExternalPassSignalFailure(pass);
}

MlirPass skc_sparsify_pass_create(const struct skc_sparsek_options *o) {
  static char id;
  return skc_pass_make(&id, "sparsify", "dense attention to SparseK attention", sparsify_run, o);
}
