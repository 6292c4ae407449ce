/* Pattern-matching utilities for raise-attention: linalg ops seen as loops over indexing
 * maps, relabelling of tensor dimensions through maps and reshapes, and the element
 * evaluator (see raise_match.h). Example: with labels (b, i, j) for the result of
 *
 *   %m = linalg.generic {maps = [id, id]} ins(%s) outs(%e) {
 *     %r = arith.select (cmpi ugt, index 2, index 1), -inf, (mulf %in, 0.125)
 *   }
 *
 * skc_eval_tensor(%m) gives select(cmpi(ugt, j, i), -inf, mul(S[b, i, j], 0.125)) where
 * S[b, i, j] is a CONTRACT node when %s comes from a batch_matmul. Nothing here mutates IR. */
#include "passes/raise_match.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dialect/sparsek.h"
#include "mlir-c/AffineExpr.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"

#define MAX_DEPTH 96

static bool name_is(MlirOperation op, const char *s) {
  return skc_str_eq(mlirIdentifierStr(mlirOperationGetName(op)), s);
}

static MlirOperation producer(MlirValue v) {
  return mlirValueIsAOpResult(v) ? mlirOpResultGetOwner(v) : (MlirOperation){NULL};
}

static MlirAttribute attr(MlirOperation op, const char *name) {
  return mlirOperationGetAttributeByName(op, skc_str(name));
}

static int ranked_rank(MlirType t) {
  return mlirTypeIsARankedTensor(t) ? (int)mlirShapedTypeGetRank(t) : -1;
}

/* ---- index expressions ------------------------------------------------------------------ */

struct skc_ix skc_ix_dim(int label) {
  return (struct skc_ix){SKC_IX_DIM, label, 0};
}

bool skc_ix_eq(struct skc_ix a, struct skc_ix b) {
  if (a.kind != b.kind)
    return false;
  if (a.kind == SKC_IX_ZERO)
    return true;
  return a.label == b.label && (a.kind == SKC_IX_DIM || a.g == b.g);
}

bool skc_labels_eq(const struct skc_labels *a, const struct skc_labels *b) {
  if (a->rank != b->rank)
    return false;
  for (int i = 0; i < a->rank; ++i)
    if (!skc_ix_eq(a->ix[i], b->ix[i]))
      return false;
  return true;
}

/* ---- linalg views ----------------------------------------------------------------------- */

static const char *const elementwise_ops[] = {
    "linalg.map",        "linalg.copy", "linalg.add",  "linalg.sub", "linalg.mul",
    "linalg.div",        "linalg.exp",  "linalg.max",  "linalg.min", "linalg.negf",
    "linalg.reciprocal", "linalg.sqrt", "linalg.rsqrt"};

static bool is_elementwise_named(MlirOperation op) {
  for (size_t i = 0; i < sizeof elementwise_ops / sizeof *elementwise_ops; ++i)
    if (name_is(op, elementwise_ops[i]))
      return true;
  return false;
}

static MlirContext ctx_of(const struct skc_linalg *v) { return mlirOperationGetContext(v->op); }

/* A map over nloops dims whose results are the loop dims listed in `dims`. */
static MlirAffineMap dims_map(MlirContext ctx, int nloops, const int *dims, int n) {
  MlirAffineExpr e[SKC_MATCH_MAX_RANK];
  for (int i = 0; i < n; ++i)
    e[i] = mlirAffineDimExprGet(ctx, dims[i]);
  return mlirAffineMapGet(ctx, nloops, 0, n, e);
}

static int operand_rank(const struct skc_linalg *v, int k) {
  return ranked_rank(mlirValueGetType(v->operand[k]));
}

/* Every operand indexed by the identity over the result's loops (scalars by ()). */
static bool view_identity(struct skc_linalg *v) {
  int n = operand_rank(v, v->nin);
  if (n < 0 || n > SKC_MATCH_MAX_RANK)
    return false;
  v->nloops = n;
  int dims[SKC_MATCH_MAX_RANK];
  for (int i = 0; i < n; ++i)
    dims[i] = i;
  for (int k = 0; k < v->nin + v->nout; ++k) {
    int r = operand_rank(v, k);
    if (r != n && r != -1)
      return false;
    v->map[k] = dims_map(ctx_of(v), n, dims, r < 0 ? 0 : n);
  }
  return true;
}

static bool dense_i64(MlirOperation op, const char *name, int64_t *out, int *n, int cap) {
  MlirAttribute a = attr(op, name);
  if (mlirAttributeIsNull(a) || !mlirAttributeIsADenseI64Array(a))
    return false;
  *n = (int)mlirDenseArrayGetNumElements(a);
  if (*n > cap)
    return false;
  for (int i = 0; i < *n; ++i)
    out[i] = mlirDenseI64ArrayGetElement(a, i);
  return true;
}

/* reduce: input identity, init drops `dimensions`; broadcast: input drops `dimensions`. */
static bool view_drop(struct skc_linalg *v, bool reduce) {
  int64_t dims[SKC_MATCH_MAX_RANK];
  int nd, n = operand_rank(v, reduce ? 0 : v->nin);
  if (n < 0 || n > SKC_MATCH_MAX_RANK || !dense_i64(v->op, "dimensions", dims, &nd, n))
    return false;
  int all[SKC_MATCH_MAX_RANK], kept[SKC_MATCH_MAX_RANK], nk = 0;
  for (int i = 0; i < n; ++i) {
    all[i] = i;
    bool drop = false;
    for (int j = 0; j < nd; ++j)
      drop |= dims[j] == i;
    if (!drop)
      kept[nk++] = i;
    v->reduction[i] = reduce && drop;
  }
  v->nloops = n;
  for (int k = 0; k < v->nin + v->nout; ++k) {
    bool full = reduce ? k < v->nin : k >= v->nin;
    v->map[k] = full ? dims_map(ctx_of(v), n, all, n) : dims_map(ctx_of(v), n, kept, nk);
  }
  return true;
}

/* transpose: result dim i is input dim permutation[i]. */
static bool view_transpose(struct skc_linalg *v) {
  int64_t p[SKC_MATCH_MAX_RANK];
  int n, np;
  n = operand_rank(v, v->nin);
  if (v->nin != 1 || n < 0 || n > SKC_MATCH_MAX_RANK ||
      !dense_i64(v->op, "permutation", p, &np, n) || np != n)
    return false;
  int in[SKC_MATCH_MAX_RANK], out[SKC_MATCH_MAX_RANK];
  for (int i = 0; i < n; ++i) {
    if (p[i] < 0 || p[i] >= n)
      return false;
    in[p[i]] = i;
    out[i] = i;
  }
  v->nloops = n;
  v->map[0] = dims_map(ctx_of(v), n, in, n);
  v->map[1] = dims_map(ctx_of(v), n, out, n);
  return true;
}

static bool read_maps(struct skc_linalg *v) {
  MlirAttribute a = attr(v->op, "indexing_maps");
  if (mlirAttributeIsNull(a) || !mlirAttributeIsAArray(a) ||
      mlirArrayAttrGetNumElements(a) != v->nin + v->nout)
    return false;
  for (int k = 0; k < v->nin + v->nout; ++k) {
    MlirAttribute m = mlirArrayAttrGetElement(a, k);
    if (!mlirAttributeIsAAffineMap(m))
      return false;
    v->map[k] = mlirAffineMapAttrGetValue(m);
  }
  v->nloops = (int)mlirAffineMapGetNumDims(v->map[0]);
  if (v->nloops > SKC_MATCH_MAX_RANK)
    return false;
  for (int k = 0; k < v->nin + v->nout; ++k)
    if (mlirAffineMapGetNumDims(v->map[k]) != v->nloops ||
        mlirAffineMapGetNumSymbols(v->map[k]) != 0)
      return false;
  return true;
}

struct sink {
  char buf[128];
  size_t len;
};
static void sink_cb(MlirStringRef s, void *ud) {
  struct sink *k = ud;
  for (size_t i = 0; i < s.length && k->len + 1 < sizeof k->buf; ++i)
    k->buf[k->len++] = s.data[i];
  k->buf[k->len] = 0;
}

/* Loops not indexed by any output are reductions (named ops); linalg.generic says so in
 * iterator_types, printed as #linalg.iterator_type<reduction>. */
static bool read_loop_kinds(struct skc_linalg *v) {
  MlirAttribute it = attr(v->op, "iterator_types");
  if (mlirAttributeIsNull(it)) {
    for (int l = 0; l < v->nloops; ++l) {
      v->reduction[l] = true;
      for (int k = v->nin; k < v->nin + v->nout; ++k)
        for (intptr_t r = 0; r < mlirAffineMapGetNumResults(v->map[k]); ++r)
          if (mlirAffineExprIsFunctionOfDim(mlirAffineMapGetResult(v->map[k], r), l))
            v->reduction[l] = false;
    }
    return true;
  }
  if (!mlirAttributeIsAArray(it) || mlirArrayAttrGetNumElements(it) != v->nloops)
    return false;
  for (int l = 0; l < v->nloops; ++l) {
    struct sink s = {{0}, 0};
    mlirAttributePrint(mlirArrayAttrGetElement(it, l), sink_cb, &s);
    v->reduction[l] = strstr(s.buf, "reduction") != NULL;
    if (!v->reduction[l] && !strstr(s.buf, "parallel"))
      return false;
  }
  return true;
}

static bool view_operands(MlirOperation op, struct skc_linalg *v) {
  int nres = (int)mlirOperationGetNumResults(op), nops = (int)mlirOperationGetNumOperands(op);
  if (nres < 1 || nops < nres || nops > SKC_MATCH_MAX_OPERANDS)
    return false;
  *v = (struct skc_linalg){.op = op, .nin = nops - nres, .nout = nres};
  for (int k = 0; k < nops; ++k)
    v->operand[k] = mlirOperationGetOperand(op, k);
  for (int r = 0; r < nres; ++r)
    if (ranked_rank(mlirValueGetType(mlirOperationGetResult(op, r))) < 0 ||
        !mlirTypeEqual(mlirValueGetType(mlirOperationGetResult(op, r)),
                       mlirValueGetType(v->operand[v->nin + r])))
      return false;
  if (mlirOperationGetNumRegions(op) != 1)
    return false;
  v->body = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0));
  return !mlirBlockIsNull(v->body) &&
         mlirBlockGetNumArguments(v->body) == (intptr_t)(v->nin + v->nout);
}

bool skc_linalg_view(MlirOperation op, struct skc_linalg *v) {
  MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(op));
  if (name.length < 7 || memcmp(name.data, "linalg.", 7) != 0 || !view_operands(op, v))
    return false;
  bool ok;
  if (!mlirAttributeIsNull(attr(op, "indexing_maps")))
    ok = read_maps(v) && read_loop_kinds(v);
  else if (name_is(op, "linalg.reduce"))
    ok = view_drop(v, true);
  else if (name_is(op, "linalg.broadcast"))
    ok = v->nin == 1 && view_drop(v, false);
  else if (name_is(op, "linalg.transpose"))
    ok = view_transpose(v);
  else if (name_is(op, "linalg.fill") || is_elementwise_named(op))
    ok = view_identity(v);
  else
    ok = false;
  if (!ok)
    return false;
  for (int k = 0; k < v->nin + v->nout; ++k) {
    int r = operand_rank(v, k);
    if (mlirAffineMapGetNumResults(v->map[k]) != (r < 0 ? 0 : r))
      return false;
  }
  return true;
}

/* ---- relabelling -------------------------------------------------------------------------- */

static bool expr_ix(MlirAffineExpr e, const struct skc_ix *loops, int nloops, struct skc_ix *out) {
  if (mlirAffineExprIsAConstant(e) && mlirAffineConstantExprGetValue(e) == 0) {
    *out = (struct skc_ix){SKC_IX_ZERO, 0, 0};
    return true;
  }
  if (mlirAffineExprIsADim(e)) {
    intptr_t p = mlirAffineDimExprGetPosition(e);
    if (p < 0 || p >= nloops)
      return false;
    *out = loops[p];
    return true;
  }
  if (!mlirAffineExprIsAFloorDiv(e) && !mlirAffineExprIsAMod(e))
    return false;
  MlirAffineExpr l = mlirAffineBinaryOpExprGetLHS(e), r = mlirAffineBinaryOpExprGetRHS(e);
  if (!mlirAffineExprIsADim(l) || !mlirAffineExprIsAConstant(r))
    return false;
  intptr_t p = mlirAffineDimExprGetPosition(l);
  int64_t g = mlirAffineConstantExprGetValue(r);
  if (p < 0 || p >= nloops || loops[p].kind != SKC_IX_DIM || g < 1)
    return false;
  int kind = mlirAffineExprIsAFloorDiv(e) ? SKC_IX_DIV : SKC_IX_MOD;
  *out = (struct skc_ix){kind, loops[p].label, g};
  return true;
}

bool skc_linalg_operand_labels(const struct skc_linalg *v, int k, const struct skc_ix *loops,
                               struct skc_labels *out) {
  MlirAffineMap m = v->map[k];
  out->rank = (int)mlirAffineMapGetNumResults(m);
  if (out->rank > SKC_MATCH_MAX_RANK)
    return false;
  for (int i = 0; i < out->rank; ++i)
    if (!expr_ix(mlirAffineMapGetResult(m, i), loops, v->nloops, &out->ix[i]))
      return false;
  return true;
}

bool skc_linalg_loop_labels(const struct skc_linalg *v, int r, const struct skc_labels *res,
                            int *next_label, struct skc_ix *loops) {
  MlirAffineMap m = v->map[v->nin + r];
  bool set[SKC_MATCH_MAX_RANK] = {false};
  if (mlirAffineMapGetNumResults(m) != res->rank)
    return false;
  for (int i = 0; i < res->rank; ++i) {
    MlirAffineExpr e = mlirAffineMapGetResult(m, i);
    if (!mlirAffineExprIsADim(e))
      return false;
    intptr_t p = mlirAffineDimExprGetPosition(e);
    if (p < 0 || p >= v->nloops || (set[p] && !skc_ix_eq(loops[p], res->ix[i])))
      return false;
    loops[p] = res->ix[i];
    set[p] = true;
  }
  for (int l = 0; l < v->nloops; ++l) {
    if (set[l])
      continue;
    if (!v->reduction[l])
      return false;
    loops[l] = skc_ix_dim((*next_label)++);
  }
  return true;
}

/* Groups of a reshape's reassociation attribute. */
static int reassoc_group(MlirAttribute ra, int g, int *dims, int cap) {
  MlirAttribute grp = mlirArrayAttrGetElement(ra, g);
  if (!mlirAttributeIsAArray(grp) || mlirArrayAttrGetNumElements(grp) > cap)
    return -1;
  int n = (int)mlirArrayAttrGetNumElements(grp);
  for (int i = 0; i < n; ++i) {
    MlirAttribute d = mlirArrayAttrGetElement(grp, i);
    if (!mlirAttributeIsAInteger(d))
      return -1;
    dims[i] = (int)mlirIntegerAttrGetValueInt(d);
  }
  return n;
}

/* Splits index X of a collapsed group over the expanded dims (outer, inner). */
static bool split_ix(MlirType expanded, const int *dims, int n, struct skc_ix x,
                     struct skc_ix *out) {
  int big[2], nb = 0;
  for (int i = 0; i < n; ++i) {
    out[dims[i]] = (struct skc_ix){SKC_IX_ZERO, 0, 0};
    if (mlirShapedTypeGetDimSize(expanded, dims[i]) != 1) {
      if (nb == 2)
        return false;
      big[nb++] = dims[i];
    }
  }
  if (nb <= 1 || x.kind == SKC_IX_ZERO) { /* all unit dims: x is 0 there anyway */
    if (x.kind != SKC_IX_ZERO)
      out[nb ? big[0] : dims[n - 1]] = x;
    return nb <= 1;
  }
  int64_t g = mlirShapedTypeGetDimSize(expanded, big[1]);
  if (x.kind != SKC_IX_DIM || mlirShapedTypeIsDynamicSize(g) || g < 1)
    return false;
  out[big[0]] = (struct skc_ix){SKC_IX_DIV, x.label, g};
  out[big[1]] = (struct skc_ix){SKC_IX_MOD, x.label, g};
  return true;
}

/* Joins indices (outer, inner) of an expanded group back into one: (X div g, X mod g) -> X. */
static bool join_ix(MlirType expanded, const int *dims, int n, const struct skc_ix *in,
                    struct skc_ix *out) {
  int big[2], nb = 0;
  for (int i = 0; i < n; ++i)
    if (mlirShapedTypeGetDimSize(expanded, dims[i]) != 1) {
      if (nb == 2)
        return false;
      big[nb++] = dims[i];
    }
  if (nb <= 1) {
    *out = in[nb ? big[0] : dims[n - 1]];
    return true;
  }
  struct skc_ix a = in[big[0]], b = in[big[1]];
  int64_t g = mlirShapedTypeGetDimSize(expanded, big[1]);
  if (a.kind != SKC_IX_DIV || b.kind != SKC_IX_MOD || a.label != b.label || a.g != g || b.g != g)
    return false;
  *out = skc_ix_dim(a.label);
  return true;
}

bool skc_reshape_source_labels(MlirOperation op, const struct skc_labels *res,
                               struct skc_labels *src) {
  bool collapse = name_is(op, "tensor.collapse_shape");
  if (!collapse && !name_is(op, "tensor.expand_shape"))
    return false;
  MlirType st = mlirValueGetType(mlirOperationGetOperand(op, 0));
  MlirType rt = mlirValueGetType(mlirOperationGetResult(op, 0));
  MlirAttribute ra = attr(op, "reassociation");
  int sr = ranked_rank(st), rr = ranked_rank(rt);
  if (sr < 0 || rr != res->rank || sr > SKC_MATCH_MAX_RANK || mlirAttributeIsNull(ra) ||
      !mlirAttributeIsAArray(ra) || mlirArrayAttrGetNumElements(ra) != (collapse ? rr : sr))
    return false;
  src->rank = sr;
  int dims[SKC_MATCH_MAX_RANK];
  for (int g = 0; g < (collapse ? rr : sr); ++g) {
    int n = reassoc_group(ra, g, dims, SKC_MATCH_MAX_RANK);
    for (int i = 0; i < n; ++i)
      if (dims[i] < 0 || dims[i] >= (collapse ? sr : rr))
        return false;
    if (n < 0 || (collapse && !split_ix(st, dims, n, res->ix[g], src->ix)) ||
        (!collapse && !join_ix(rt, dims, n, res->ix, &src->ix[g])))
      return false;
  }
  return true;
}

/* ---- contractions ------------------------------------------------------------------------ */

static bool is_arg(MlirValue v, MlirBlock b, int n) {
  return mlirValueIsABlockArgument(v) && mlirBlockEqual(mlirBlockArgumentGetOwner(v), b) &&
         mlirBlockArgumentGetArgNumber(v) == n;
}

static bool is_op_of(MlirValue v, const char *name, MlirOperation *op) {
  *op = producer(v);
  return !mlirOperationIsNull(*op) && name_is(*op, name) && mlirOperationGetNumOperands(*op) == 2;
}

bool skc_linalg_is_contraction(const struct skc_linalg *v) {
  int nred = 0;
  for (int l = 0; l < v->nloops; ++l)
    nred += v->reduction[l];
  if (v->nin != 2 || v->nout != 1 || nred != 1)
    return false;
  MlirOperation y = mlirBlockGetTerminator(v->body), add, mul;
  if (mlirOperationIsNull(y) || mlirOperationGetNumOperands(y) != 1 ||
      !is_op_of(mlirOperationGetOperand(y, 0), "arith.addf", &add))
    return false;
  MlirValue a0 = mlirOperationGetOperand(add, 0), a1 = mlirOperationGetOperand(add, 1);
  bool acc0 = is_arg(a0, v->body, 2), acc1 = is_arg(a1, v->body, 2);
  if (acc0 == acc1 || !is_op_of(acc0 ? a1 : a0, "arith.mulf", &mul))
    return false;
  MlirValue m0 = mlirOperationGetOperand(mul, 0), m1 = mlirOperationGetOperand(mul, 1);
  return (is_arg(m0, v->body, 0) && is_arg(m1, v->body, 1)) ||
         (is_arg(m0, v->body, 1) && is_arg(m1, v->body, 0));
}

/* ---- constants ----------------------------------------------------------------------------- */

static bool attr_number(MlirAttribute a, double *out) {
  if (mlirAttributeIsNull(a))
    return false;
  if (mlirAttributeIsADenseElements(a)) {
    if (!mlirDenseElementsAttrIsSplat(a))
      return false;
    a = mlirDenseElementsAttrGetSplatValue(a);
  }
  if (mlirAttributeIsAFloat(a))
    *out = mlirFloatAttrGetValueDouble(a);
  else if (mlirAttributeIsABool(a))
    *out = mlirBoolAttrGetValue(a) ? 1.0 : 0.0;
  else if (mlirAttributeIsAInteger(a))
    *out = (double)mlirIntegerAttrGetValueInt(a);
  else
    return false;
  return true;
}

bool skc_value_const(MlirValue v, double *out) {
  MlirOperation op = producer(v);
  return !mlirOperationIsNull(op) && name_is(op, "arith.constant") &&
         attr_number(attr(op, "value"), out);
}

/* ---- the evaluator ------------------------------------------------------------------------ */

void skc_eval_create(struct skc_eval *e, int cap) {
  *e = (struct skc_eval){0};
  e->nodes = calloc((size_t)cap, sizeof *e->nodes);
  e->cap = e->nodes ? cap : 0;
}

void skc_eval_destroy(struct skc_eval *e) {
  free(e->nodes);
  free(e->seen);
  *e = (struct skc_eval){0};
}

void skc_eval_reset(struct skc_eval *e) {
  e->n = 0;
  e->nseen = 0;
  e->depth = 0;
}

int skc_eval_label(struct skc_eval *e) { return e->next_label++; }

void skc_eval_see(struct skc_eval *e, MlirOperation op) {
  for (int i = 0; i < e->nseen; ++i)
    if (mlirOperationEqual(e->seen[i], op))
      return;
  if (e->nseen == e->capseen) {
    int cap = e->capseen ? 2 * e->capseen : 64;
    MlirOperation *p = realloc(e->seen, (size_t)cap * sizeof *p);
    if (!p)
      return; /* cleanup then keeps a few dead ops: harmless */
    e->seen = p;
    e->capseen = cap;
  }
  e->seen[e->nseen++] = op;
}

static struct skc_node *node(struct skc_eval *e, int kind) {
  if (e->n == e->cap)
    return NULL;
  struct skc_node *n = &e->nodes[e->n++];
  *n = (struct skc_node){.kind = kind};
  return n;
}

static struct skc_node *opaque(struct skc_eval *e) { return node(e, SKC_N_OPAQUE); }

static struct skc_node *constant(struct skc_eval *e, double c) {
  struct skc_node *n = node(e, SKC_N_CONST);
  if (n)
    n->c = c;
  return n;
}

static struct skc_node *op_node(struct skc_eval *e, int op, int nargs, struct skc_node **a) {
  for (int i = 0; i < nargs; ++i)
    if (!a[i])
      return NULL;
  struct skc_node *n = node(e, SKC_N_OP);
  if (!n)
    return NULL;
  n->op = op;
  for (int i = 0; i < nargs; ++i)
    n->a[i] = a[i];
  return n;
}

/* Where a payload block argument or linalg.index reads from. */
struct frame {
  const struct skc_linalg *v;
  const struct skc_ix *loops;
  int result;    /* the result whose yield is evaluated */
  bool reducing; /* its accumulator reads as SKC_N_ACC */
  int ph;        /* the input read as SKC_N_PH, or -1 */
};

static struct skc_node *eval_value(struct skc_eval *e, const struct frame *f, MlirValue x);

static struct skc_node *eval_operand(struct skc_eval *e, const struct frame *f, int k) {
  MlirValue x = f->v->operand[k];
  if (ranked_rank(mlirValueGetType(x)) < 0)
    return eval_value(e, NULL, x);
  struct skc_labels l;
  if (!skc_linalg_operand_labels(f->v, k, f->loops, &l))
    return opaque(e);
  return skc_eval_tensor(e, x, &l);
}

static struct skc_node *eval_block_arg(struct skc_eval *e, const struct frame *f, MlirValue x) {
  if (!f || !mlirBlockEqual(mlirBlockArgumentGetOwner(x), f->v->body))
    return opaque(e);
  int n = (int)mlirBlockArgumentGetArgNumber(x);
  if (n == f->ph)
    return node(e, SKC_N_PH);
  if (n >= f->v->nin && f->reducing && n - f->v->nin == f->result)
    return node(e, SKC_N_ACC);
  return eval_operand(e, f, n);
}

struct scalar_op {
  const char *name;
  int op, nargs;
};

static const struct scalar_op scalar_ops[] = {
    {"arith.addf", SKC_EOP_ADD, 2},     {"arith.addi", SKC_EOP_ADD, 2},
    {"arith.subf", SKC_EOP_SUB, 2},     {"arith.subi", SKC_EOP_SUB, 2},
    {"arith.mulf", SKC_EOP_MUL, 2},     {"arith.muli", SKC_EOP_MUL, 2},
    {"arith.divf", SKC_EOP_DIV, 2},     {"arith.maximumf", SKC_EOP_MAX, 2},
    {"arith.maxnumf", SKC_EOP_MAX, 2},  {"arith.negf", SKC_EOP_NEG, 1},
    {"math.exp", SKC_EOP_EXP, 1},       {"math.sqrt", SKC_EOP_SQRT, 1},
    {"math.rsqrt", SKC_EOP_RSQRT, 1},   {"arith.select", SKC_EOP_SELECT, 3},
    {"arith.cmpi", SKC_EOP_CMPI, 2},    {"arith.cmpf", SKC_EOP_CMPF, 2},
    {"arith.xori", SKC_EOP_XOR, 2},     {"arith.uitofp", SKC_EOP_UITOFP, 1},
    {"arith.extui", SKC_EOP_UITOFP, 1}, {"arith.sitofp", SKC_EOP_SITOFP, 1},
};

static const struct scalar_op *find_scalar_op(MlirOperation op) {
  for (size_t i = 0; i < sizeof scalar_ops / sizeof *scalar_ops; ++i)
    if (name_is(op, scalar_ops[i].name))
      return &scalar_ops[i];
  return NULL;
}

/* select(cmpf(ogt, a, b), a, b) is max(a, b) (and the mirrored forms). */
static struct skc_node *fold_select_max(struct skc_eval *e, struct skc_node *n) {
  struct skc_node *c = n->a[0];
  if (c->kind != SKC_N_OP || c->op != SKC_EOP_CMPF)
    return n;
  bool gt = c->pred == 2 || c->pred == 3 || c->pred == 9 || c->pred == 10;
  bool lt = c->pred == 4 || c->pred == 5 || c->pred == 11 || c->pred == 12;
  struct skc_node *x = n->a[1], *y = n->a[2];
  bool same = skc_node_eq(c->a[0], x, -1, -1) && skc_node_eq(c->a[1], y, -1, -1);
  bool swapped = skc_node_eq(c->a[0], y, -1, -1) && skc_node_eq(c->a[1], x, -1, -1);
  if ((gt && same) || (lt && swapped)) {
    struct skc_node *a[2] = {x, y};
    return op_node(e, SKC_EOP_MAX, 2, a);
  }
  return n;
}

/* An arith/math op applied to already evaluated operands (scalars or tensor elements). */
static struct skc_node *apply(struct skc_eval *e, MlirOperation op, const struct scalar_op *s,
                              struct skc_node **a) {
  struct skc_node *n = op_node(e, s->op, s->nargs, a);
  if (!n)
    return NULL;
  if (s->op == SKC_EOP_CMPI || s->op == SKC_EOP_CMPF) {
    int64_t pred;
    if (!skc_attr_get_int(op, "predicate", &pred))
      return opaque(e);
    n->pred = (int)pred;
  }
  return s->op == SKC_EOP_SELECT ? fold_select_max(e, n) : n;
}

static struct skc_node *eval_scalar_op(struct skc_eval *e, const struct frame *f,
                                       MlirOperation op) {
  double c;
  if (name_is(op, "arith.constant"))
    return skc_value_const(mlirOperationGetResult(op, 0), &c) ? constant(e, c) : opaque(e);
  if (name_is(op, "linalg.index")) {
    int64_t d;
    if (!f || !skc_attr_get_int(op, "dim", &d) || d < 0 || d >= f->v->nloops)
      return opaque(e);
    struct skc_node *n = node(e, SKC_N_IDX);
    if (n)
      n->ix = f->loops[d];
    return n;
  }
  if (name_is(op, "arith.index_cast") || name_is(op, "arith.index_castui"))
    return eval_value(e, f, mlirOperationGetOperand(op, 0));
  const struct scalar_op *s = find_scalar_op(op);
  if (!s || mlirOperationGetNumOperands(op) != s->nargs)
    return opaque(e);
  struct skc_node *a[3];
  for (int i = 0; i < s->nargs; ++i)
    if (!(a[i] = eval_value(e, f, mlirOperationGetOperand(op, i))))
      return NULL;
  return apply(e, op, s, a);
}

/* A scalar inside a payload (f set) or outside any (f NULL: constants only). */
static struct skc_node *eval_value(struct skc_eval *e, const struct frame *f, MlirValue x) {
  if (mlirValueIsABlockArgument(x))
    return eval_block_arg(e, f, x);
  MlirOperation op = mlirOpResultGetOwner(x);
  if (f && !mlirBlockEqual(mlirOperationGetBlock(op), f->v->body))
    f = NULL; /* defined outside the payload: a captured scalar */
  if (!f)
    skc_eval_see(e, op);
  if (++e->depth > MAX_DEPTH) {
    --e->depth;
    return opaque(e);
  }
  struct skc_node *n = eval_scalar_op(e, f, op);
  --e->depth;
  return n;
}

static bool uses_kind(const struct skc_node *n, int kind) {
  if (!n)
    return false;
  if (n->kind == kind)
    return true;
  for (int i = 0; i < 3; ++i)
    if (uses_kind(n->a[i], kind))
      return true;
  return false;
}

/* yield = combine(x, acc) with combine add (sum) or max. */
static struct skc_node *reduction(struct skc_eval *e, const struct frame *f, struct skc_node *y) {
  int nred = 0, red = -1;
  for (int l = 0; l < f->v->nloops; ++l)
    if (f->v->reduction[l])
      ++nred, red = l;
  if (nred != 1 || y->kind != SKC_N_OP || (y->op != SKC_EOP_ADD && y->op != SKC_EOP_MAX))
    return opaque(e);
  struct skc_node *x = y->a[0]->kind == SKC_N_ACC ? y->a[1] : y->a[0];
  struct skc_node *acc = y->a[0]->kind == SKC_N_ACC ? y->a[0] : y->a[1];
  if (acc->kind != SKC_N_ACC || uses_kind(x, SKC_N_ACC) || f->loops[red].kind != SKC_IX_DIM)
    return opaque(e);
  struct skc_node *n = node(e, SKC_N_RED);
  if (!n)
    return NULL;
  n->op = y->op == SKC_EOP_ADD ? SKC_RED_SUM : SKC_RED_MAX;
  n->red_label = f->loops[red].label;
  n->a[0] = x;
  n->a[1] = eval_operand(e, f, f->v->nin + f->result);
  return n->a[1] ? n : NULL;
}

static struct skc_node *eval_yield(struct skc_eval *e, const struct frame *f) {
  MlirOperation y = mlirBlockGetTerminator(f->v->body);
  if (mlirOperationIsNull(y) || mlirOperationGetNumOperands(y) != f->v->nout)
    return opaque(e);
  struct skc_node *n = eval_value(e, f, mlirOperationGetOperand(y, f->result));
  if (!n || !f->reducing)
    return n;
  return reduction(e, f, n);
}

struct skc_node *skc_eval_op_with_placeholder(struct skc_eval *e, const struct skc_linalg *v,
                                              const struct skc_ix *loops, int ph) {
  struct frame f = {v, loops, 0, false, ph};
  return eval_yield(e, &f);
}

static struct skc_node *leaf(struct skc_eval *e, int kind, MlirValue t,
                             const struct skc_labels *l) {
  struct skc_node *n = node(e, kind);
  if (!n)
    return NULL;
  n->value = t;
  n->contract = producer(t);
  n->labels = *l;
  return n;
}

static struct skc_node *eval_linalg(struct skc_eval *e, const struct skc_linalg *v, MlirValue t,
                                    const struct skc_labels *l) {
  if (skc_linalg_is_contraction(v))
    return leaf(e, SKC_N_CONTRACT, t, l);
  struct skc_ix loops[SKC_MATCH_MAX_RANK];
  int r = (int)mlirOpResultGetResultNumber(t);
  if (!skc_linalg_loop_labels(v, r, l, &e->next_label, loops))
    return opaque(e);
  bool reducing = false;
  for (int i = 0; i < v->nloops; ++i)
    reducing |= v->reduction[i];
  struct frame f = {v, loops, r, reducing, -1};
  return eval_yield(e, &f);
}

static struct skc_node *eval_softmax(struct skc_eval *e, MlirOperation op,
                                     const struct skc_labels *l) {
  int64_t d;
  if (mlirOperationGetNumOperands(op) != 2 || !skc_attr_get_int(op, "dimension", &d) || d < 0 ||
      d >= l->rank || l->ix[d].kind != SKC_IX_DIM)
    return opaque(e);
  struct skc_node *n = node(e, SKC_N_SOFTMAX);
  if (!n)
    return NULL;
  n->red_label = l->ix[d].label;
  n->a[0] = skc_eval_tensor(e, mlirOperationGetOperand(op, 0), l);
  return n->a[0] ? n : NULL;
}

/* arith/math ops applied to whole tensors, elementwise. */
static struct skc_node *eval_tensor_arith(struct skc_eval *e, MlirOperation op,
                                          const struct scalar_op *s, const struct skc_labels *l) {
  struct skc_node *a[3];
  for (int i = 0; i < s->nargs; ++i) {
    MlirValue x = mlirOperationGetOperand(op, i);
    a[i] = ranked_rank(mlirValueGetType(x)) == l->rank ? skc_eval_tensor(e, x, l)
                                                       : eval_value(e, NULL, x);
    if (!a[i])
      return NULL;
  }
  return apply(e, op, s, a);
}

static struct skc_node *eval_producer(struct skc_eval *e, MlirOperation op, MlirValue t,
                                      const struct skc_labels *l) {
  struct skc_linalg v;
  double c;
  const struct scalar_op *s;
  if (name_is(op, "arith.constant"))
    return skc_value_const(t, &c) ? constant(e, c) : leaf(e, SKC_N_LEAF, t, l);
  if (name_is(op, "linalg.softmax"))
    return eval_softmax(e, op, l);
  if (name_is(op, "tensor.collapse_shape") || name_is(op, "tensor.expand_shape")) {
    struct skc_labels src;
    if (!skc_reshape_source_labels(op, l, &src))
      return opaque(e);
    return skc_eval_tensor(e, mlirOperationGetOperand(op, 0), &src);
  }
  if ((s = find_scalar_op(op)) && mlirOperationGetNumOperands(op) == s->nargs)
    return eval_tensor_arith(e, op, s, l);
  if (skc_linalg_view(op, &v))
    return eval_linalg(e, &v, t, l);
  return leaf(e, SKC_N_LEAF, t, l);
}

struct skc_node *skc_eval_tensor(struct skc_eval *e, MlirValue t, const struct skc_labels *l) {
  if (ranked_rank(mlirValueGetType(t)) != l->rank)
    return opaque(e);
  MlirOperation op = producer(t);
  if (mlirOperationIsNull(op))
    return leaf(e, SKC_N_LEAF, t, l);
  if (++e->depth > MAX_DEPTH) {
    --e->depth;
    return opaque(e);
  }
  skc_eval_see(e, op);
  struct skc_node *n = eval_producer(e, op, t, l);
  --e->depth;
  return n;
}

/* ---- comparing trees ---------------------------------------------------------------------- */

/* Labels of b read as labels of a: the caller's pair plus one per enclosing RED/SOFTMAX
 * (bound labels compare up to renaming). */
struct renaming {
  int from[16], to[16];
  int n;
};

static int renamed(const struct renaming *r, int label) {
  for (int i = r->n - 1; i >= 0; --i)
    if (r->from[i] == label)
      return r->to[i];
  return label;
}

static struct skc_ix rename(struct skc_ix x, const struct renaming *r) {
  if (x.kind != SKC_IX_ZERO)
    x.label = renamed(r, x.label);
  return x;
}

static bool labels_eq_renamed(const struct skc_labels *a, const struct skc_labels *b,
                              const struct renaming *r) {
  if (a->rank != b->rank)
    return false;
  for (int i = 0; i < a->rank; ++i)
    if (!skc_ix_eq(a->ix[i], rename(b->ix[i], r)))
      return false;
  return true;
}

static bool node_eq(const struct skc_node *a, const struct skc_node *b, struct renaming *r);

static bool children_eq(const struct skc_node *a, const struct skc_node *b, struct renaming *r) {
  for (int i = 0; i < 3; ++i)
    if ((a->a[i] == NULL) != (b->a[i] == NULL) || (a->a[i] && !node_eq(a->a[i], b->a[i], r)))
      return false;
  return true;
}

/* RED and SOFTMAX bind their label: compare their bodies with b's label read as a's. */
static bool binder_eq(const struct skc_node *a, const struct skc_node *b, struct renaming *r) {
  if (a->op != b->op || r->n == 16)
    return false;
  r->from[r->n] = b->red_label;
  r->to[r->n] = a->red_label;
  r->n++;
  bool eq = node_eq(a->a[0], b->a[0], r);
  r->n--;
  return eq && (a->a[1] == NULL) == (b->a[1] == NULL) && (!a->a[1] || node_eq(a->a[1], b->a[1], r));
}

static bool node_eq(const struct skc_node *a, const struct skc_node *b, struct renaming *r) {
  if (!a || !b || a->kind != b->kind)
    return false;
  switch (a->kind) {
  case SKC_N_CONST:
    return a->c == b->c || (isnan(a->c) && isnan(b->c));
  case SKC_N_IDX:
    return skc_ix_eq(a->ix, rename(b->ix, r));
  case SKC_N_LEAF:
  case SKC_N_CONTRACT:
    return mlirValueEqual(a->value, b->value) && labels_eq_renamed(&a->labels, &b->labels, r);
  case SKC_N_PH:
  case SKC_N_ACC:
    return true;
  case SKC_N_RED:
  case SKC_N_SOFTMAX:
    return binder_eq(a, b, r);
  case SKC_N_OP:
    return a->op == b->op && a->pred == b->pred && children_eq(a, b, r);
  default:
    return false; /* OPAQUE equals nothing */
  }
}

bool skc_node_eq(const struct skc_node *a, const struct skc_node *b, int from, int to) {
  struct renaming r = {{from}, {to}, 1};
  return node_eq(a, b, &r);
}

bool skc_node_uses_label(const struct skc_node *n, int l) {
  if (!n)
    return false;
  if (n->kind == SKC_N_IDX && n->ix.kind != SKC_IX_ZERO && n->ix.label == l)
    return true;
  if ((n->kind == SKC_N_RED || n->kind == SKC_N_SOFTMAX) && n->red_label == l)
    return true;
  if (n->kind == SKC_N_LEAF || n->kind == SKC_N_CONTRACT)
    for (int i = 0; i < n->labels.rank; ++i)
      if (n->labels.ix[i].kind != SKC_IX_ZERO && n->labels.ix[i].label == l)
        return true;
  for (int i = 0; i < 3; ++i)
    if (skc_node_uses_label(n->a[i], l))
      return true;
  return false;
}
