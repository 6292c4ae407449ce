/* raise-attention: finds dense causal attention in linalg/tensor/arith graphs and replaces
 * each with one `sparsek.dense_attention` (design.md "Pipeline" step 2), then erases the ops
 * of the subgraph that became dead. Rank 3 (B*H, N, D) or rank 4 (B, H, N, D), GQA included:
 *
 *   %s  = linalg.batch_matmul indexing_maps = [(b,i,j,d)->(b,i,d), (b,i,j,d)->(b,j,d), ...]
 *           ins(%q, %k) outs(%zero)                          // Q.K^T
 *   %sm = linalg.generic ins(%s) { select(cmpi ugt (index 2) (index 1), -inf, %in * 0.125) }
 *   %p  = linalg.softmax dimension(2) ins(%sm)
 *   %o  = linalg.batch_matmul ins(%p, %v) outs(%zero2)       // P.V
 * ->
 *   %o  = "sparsek.dense_attention"(%q, %k, %v) {causal = true, scale = 1.250000e-01 : f64}
 *
 * How: each contraction (init + a * b with one reduction loop, any linalg spelling) is tried
 * as P.V. Its result dims get labels (b.., i, dv), its reduction loop j. raise_match.c
 * evaluates "element [b.., i, j] of P" as an expression tree; the tree must be a softmax
 * along j (linalg.softmax over j, or exp(x - max_j x) / sum_j exp(...)) of x = a * S masked
 * to (effectively) -inf exactly where j > i, with a a positive constant and S a contraction
 * whose element [b.., i, j] is sum_dk Q[b.., i, dk] K[b.., j, dk]. Q, K and V are traced back
 * through transposes, broadcasts, reshapes and constant scalings (which multiply the scale)
 * to tensors in (B, H, N, D) order; K and V may be indexed by head h / g (GQA). Rank-3
 * attention on (B*H)-collapsed tensors whose output is expanded back is lifted to rank 4.
 * "Effectively -inf" is a masked logit <= -1e6 (f32, bf16) or <= -1e4 (f16). Anything else
 * (no mask, a mask argument, another mask shape, a finite mask value, a non-constant or
 * negative scale, a softmax along another dim, a nonzero P.V init, ...) is left alone. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dialect/sparsek.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "passes/passes.h"
#include "passes/raise_match.h"

#define ARENA_NODES 8192
#define MAX_TRACE_STEPS 32
/* A masked logit at or below this (after scaling) is -inf for softmax in f32 / bf16 (exp
 * underflows far earlier); f16 graphs commonly mask with -1e4 or -65504. */
#define MASK_LIMIT_F32 (-1e6)
#define MASK_LIMIT_F16 (-1e4)

/* The logical loop labels of one candidate: batch dims, query row i, key column j, the
 * head dim of V (dv) and of Q.K (dk). */
struct attn_labels {
  int rank;
  int b[2];
  int i, j, dv, dk;
};

struct operand {
  MlirValue value;
  double scale;
  int64_t g; /* GQA group size: K/V heads are indexed by h floordiv g */
};

struct match {
  MlirOperation pv;
  MlirValue out; /* the value the dense op replaces: P.V, or its expand_shape to rank 4 */
  struct attn_labels L;
  struct operand q, k, v;
  double scale;
};

struct raise {
  struct skc_eval e;
  void **erased;
  int nerased, caperased;
};

/* ---- abstract values of the score chain ------------------------------------------------- */

enum av_kind { AV_BAD, AV_CONST, AV_LIN, AV_PRED, AV_MASK, AV_SCORE };

struct av {
  int kind;
  double c;          /* CONST */
  int64_t ci, cj, k; /* LIN: ci * i + cj * j + k */
  bool le;           /* PRED: j - i <= t (le) or j - i >= t */
  int64_t t;
  double u, m;  /* MASK: u where j <= i, m where j > i */
  double a, mv; /* SCORE: a * S, masked by mv where j > i (when masked) */
  bool masked;
  const struct skc_node *s; /* SCORE: the contraction element (or the placeholder) */
};

static const struct av bad = {AV_BAD};

static struct av av_const(double c) { return (struct av){.kind = AV_CONST, .c = c}; }

static bool integral(double c) { return c == floor(c) && fabs(c) < 9e15; }

/* LIN view of a CONST or LIN value. */
static bool as_lin(struct av x, struct av *out) {
  if (x.kind == AV_LIN) {
    *out = x;
    return true;
  }
  if (x.kind != AV_CONST || !integral(x.c))
    return false;
  *out = (struct av){.kind = AV_LIN, .k = (int64_t)x.c};
  return true;
}

static struct av lin_sum(struct av x, struct av y, int sign) {
  struct av a, b;
  if (!as_lin(x, &a) || !as_lin(y, &b))
    return bad;
  return (struct av){
      .kind = AV_LIN, .ci = a.ci + sign * b.ci, .cj = a.cj + sign * b.cj, .k = a.k + sign * b.k};
}

static struct av score_mask(struct av s, struct av mask) {
  if (mask.u != 0)
    return bad; /* a shift of the allowed logits: not the plain form */
  s.mv = s.masked ? s.mv + mask.m : mask.m;
  s.masked = true;
  return s;
}

static struct av av_mask(double u, double m) {
  return (struct av){.kind = AV_MASK, .u = u, .m = m};
}

static struct av av_add(struct av x, struct av y) {
  if (x.kind == AV_CONST && y.kind == AV_CONST)
    return av_const(x.c + y.c);
  if (x.kind == AV_MASK && y.kind == AV_CONST)
    return av_mask(x.u + y.c, x.m + y.c);
  if (x.kind == AV_CONST && y.kind == AV_MASK)
    return av_mask(x.c + y.u, x.c + y.m);
  if (x.kind == AV_MASK && y.kind == AV_SCORE)
    return score_mask(y, x);
  if (x.kind == AV_SCORE && y.kind == AV_MASK)
    return score_mask(x, y);
  if (x.kind == AV_MASK && y.kind == AV_MASK)
    return av_mask(x.u + y.u, x.m + y.m);
  return lin_sum(x, y, 1);
}

static struct av av_neg(struct av x) {
  if (x.kind == AV_CONST)
    return av_const(-x.c);
  return x.kind == AV_MASK ? av_mask(-x.u, -x.m) : bad;
}

static struct av av_sub(struct av x, struct av y) {
  if ((x.kind == AV_CONST || x.kind == AV_MASK || x.kind == AV_SCORE) &&
      (y.kind == AV_CONST || y.kind == AV_MASK))
    return av_add(x, av_neg(y));
  return lin_sum(x, y, -1);
}

/* x * c for c > 0 (a negative factor would turn -inf into +inf). */
static struct av av_scale(struct av x, double c) {
  if (!(c > 0) || !isfinite(c))
    return bad;
  if (x.kind == AV_SCORE) {
    x.a *= c;
    x.mv *= c;
    return x;
  }
  if (x.kind == AV_MASK) {
    x.u *= c;
    x.m *= c;
    return x;
  }
  return bad;
}

static struct av av_mul(struct av x, struct av y) {
  if (x.kind == AV_CONST && y.kind == AV_CONST)
    return av_const(x.c * y.c);
  if (x.kind == AV_CONST && y.kind == AV_MASK)
    return av_mask(x.c * y.u, x.c * y.m); /* a mask may be scaled by any sign */
  if (x.kind == AV_MASK && y.kind == AV_CONST)
    return av_mask(x.u * y.c, x.m * y.c);
  if (y.kind == AV_CONST)
    return av_scale(x, y.c);
  if (x.kind == AV_CONST)
    return av_scale(y, x.c);
  return bad;
}

static struct av av_div(struct av x, struct av y) {
  if (y.kind != AV_CONST || y.c == 0)
    return bad;
  if (x.kind == AV_MASK)
    return av_mask(x.u / y.c, x.m / y.c);
  return x.kind == AV_CONST ? av_const(x.c / y.c) : av_scale(x, 1.0 / y.c);
}

static struct av pred_le(bool le, int64_t t) {
  return (struct av){.kind = AV_PRED, .le = le, .t = t};
}

/* An index or a constant that is >= 0, so that unsigned compares read as signed ones. */
static bool nonneg_simple(struct av x) {
  if (x.kind == AV_CONST)
    return x.c >= 0;
  return x.kind == AV_LIN && x.k >= 0 && x.ci >= 0 && x.cj >= 0 && x.ci + x.cj <= 1;
}

/* cmpi(pred, x, y) with x - y = s * (j - i) + k, as a half-line of j - i. */
static struct av av_cmpi(int pred, struct av x, struct av y) {
  if (pred >= SKC_CMPI_ULT) {
    if (!nonneg_simple(x) || !nonneg_simple(y))
      return bad;
    pred -= SKC_CMPI_ULT - SKC_CMPI_SLT;
  }
  struct av d = lin_sum(x, y, -1);
  if (d.kind != AV_LIN || d.ci != -d.cj || (d.cj != 1 && d.cj != -1))
    return bad;
  int64_t s = d.cj;
  bool d_le = pred == SKC_CMPI_SLT || pred == SKC_CMPI_SLE;
  if (!d_le && pred != SKC_CMPI_SGT && pred != SKC_CMPI_SGE)
    return bad;
  int64_t t = pred == SKC_CMPI_SLT ? -1 : pred == SKC_CMPI_SGT ? 1 : 0;
  /* d <= t  <=>  s (j - i) <= t - k;  d >= t  <=>  s (j - i) >= t - k */
  return s == 1 ? pred_le(d_le, t - d.k) : pred_le(!d_le, d.k - t);
}

static struct av av_not(struct av p, struct av c) {
  if (p.kind != AV_PRED || c.kind != AV_CONST)
    return bad;
  if (c.c == 0)
    return p;
  return p.le ? pred_le(false, p.t + 1) : pred_le(true, p.t - 1);
}

/* select(p, x, y): p must be "j > i" (or "j <= i" with x and y swapped). */
static struct av av_select(struct av p, struct av x, struct av y) {
  if (p.kind != AV_PRED)
    return bad;
  if (p.le && p.t == 0) {
    struct av tmp = x;
    x = y;
    y = tmp;
  } else if (p.le || p.t != 1) {
    return bad; /* anti-causal or shifted */
  }
  if (x.kind != AV_CONST)
    return bad;
  if (y.kind == AV_CONST)
    return (struct av){.kind = AV_MASK, .u = y.c, .m = x.c};
  if (y.kind != AV_SCORE)
    return bad;
  y.masked = true;
  y.mv = x.c;
  return y;
}

static struct av interp(const struct skc_node *n, const struct attn_labels *L);

/* A boolean j > i (or j <= i) as a number: `one` where it holds, 0 elsewhere. */
static struct av av_to_float(struct av x, double one) {
  if (x.kind == AV_CONST || x.kind == AV_MASK)
    return x;
  if (x.kind != AV_PRED || !((x.le && x.t == 0) || (!x.le && x.t == 1)))
    return bad;
  return x.le ? av_mask(one, 0) : av_mask(0, one);
}

static struct av av_unary(int op, struct av x) {
  if (op == SKC_EOP_NEG)
    return av_neg(x);
  if (op == SKC_EOP_UITOFP || op == SKC_EOP_SITOFP)
    return av_to_float(x, op == SKC_EOP_UITOFP ? 1 : -1);
  if (x.kind != AV_CONST)
    return bad;
  if (x.c < 0)
    return bad;
  return av_const(op == SKC_EOP_SQRT ? sqrt(x.c) : op == SKC_EOP_RSQRT ? 1 / sqrt(x.c) : NAN);
}

static struct av interp_op(const struct skc_node *n, const struct attn_labels *L) {
  struct av x = interp(n->a[0], L);
  struct av y = n->a[1] ? interp(n->a[1], L) : bad;
  switch (n->op) {
  case SKC_EOP_ADD:
    return av_add(x, y);
  case SKC_EOP_SUB:
    return av_sub(x, y);
  case SKC_EOP_MUL:
    return av_mul(x, y);
  case SKC_EOP_DIV:
    return av_div(x, y);
  case SKC_EOP_NEG:
  case SKC_EOP_UITOFP:
  case SKC_EOP_SITOFP:
  case SKC_EOP_SQRT:
  case SKC_EOP_RSQRT:
    return av_unary(n->op, x);
  case SKC_EOP_CMPI:
    return av_cmpi(n->pred, x, y);
  case SKC_EOP_XOR:
    return x.kind == AV_PRED ? av_not(x, y) : av_not(y, x);
  case SKC_EOP_SELECT:
    return av_select(x, y, interp(n->a[2], L));
  default:
    return bad;
  }
}

static struct av interp(const struct skc_node *n, const struct attn_labels *L) {
  if (!n)
    return bad;
  switch (n->kind) {
  case SKC_N_CONST:
    return av_const(n->c);
  case SKC_N_IDX:
    if (n->ix.kind != SKC_IX_DIM || (n->ix.label != L->i && n->ix.label != L->j))
      return bad;
    return (struct av){.kind = AV_LIN, .ci = n->ix.label == L->i, .cj = n->ix.label == L->j};
  case SKC_N_CONTRACT:
  case SKC_N_PH:
    return (struct av){.kind = AV_SCORE, .a = 1, .s = n};
  case SKC_N_OP:
    return interp_op(n, L);
  default:
    return bad;
  }
}

/* ---- softmax ------------------------------------------------------------------------------ */

static bool is_const(const struct skc_node *n, double c) {
  return n && n->kind == SKC_N_CONST && n->c == c;
}

/* r = reduce_j(x) (x compared up to renaming r's label to j): a sum from 0, or a max from
 * -inf or a value at most MASK_LIMIT_F16 (a larger start could exceed every logit of a row
 * and underflow all of its exponentials). */
static bool reduces(const struct skc_node *r, int kind, const struct skc_node *x, int j) {
  if (!r || r->kind != SKC_N_RED || r->op != kind || !r->a[1] || r->a[1]->kind != SKC_N_CONST)
    return false;
  double init = r->a[1]->c;
  if (kind == SKC_RED_SUM ? init != 0 : !(init <= MASK_LIMIT_F16))
    return false;
  return !skc_node_uses_label(r->a[0], j) && skc_node_eq(x, r->a[0], r->red_label, j);
}

/* The softmax argument y when p = softmax_j(y); NULL otherwise. */
static const struct skc_node *softmax_arg(const struct skc_node *p, int j) {
  if (!p)
    return NULL;
  if (p->kind == SKC_N_SOFTMAX)
    return p->red_label == j ? p->a[0] : NULL;
  if (p->kind != SKC_N_OP)
    return NULL;
  const struct skc_node *num = p->a[0], *den = p->a[1];
  if (p->op == SKC_EOP_MUL) { /* e * (1 / sum) */
    const struct skc_node *r = p->a[1];
    if (r->kind != SKC_N_OP || r->op != SKC_EOP_DIV)
      num = p->a[1], r = p->a[0];
    if (r->kind != SKC_N_OP || r->op != SKC_EOP_DIV || !is_const(r->a[0], 1))
      return NULL;
    den = r->a[1];
  } else if (p->op != SKC_EOP_DIV) {
    return NULL;
  }
  if (!reduces(den, SKC_RED_SUM, num, j) || num->kind != SKC_N_OP || num->op != SKC_EOP_EXP)
    return NULL;
  const struct skc_node *z = num->a[0];
  if (z->kind == SKC_N_OP && z->op == SKC_EOP_SUB && reduces(z->a[1], SKC_RED_MAX, z->a[0], j))
    return z->a[0];
  return z; /* exp(y) / sum exp(y): softmax without the max shift */
}

/* ---- operands ----------------------------------------------------------------------------- */

/* What an operand may look like: (b.., row, col), K/V heads possibly h floordiv g. */
struct role {
  const struct attn_labels *L;
  int row, col;
  bool kv;
};

static bool accept(const struct skc_labels *l, struct role r, int64_t *g) {
  const struct attn_labels *L = r.L;
  if (l->rank != L->rank)
    return false;
  *g = 1;
  for (int i = 0; i < L->rank - 2; ++i) {
    struct skc_ix x = l->ix[i];
    if (x.label != L->b[i] || (x.kind != SKC_IX_DIM && x.kind != SKC_IX_DIV))
      return false;
    if (x.kind == SKC_IX_DIV) {
      if (!r.kv || i != 1)
        return false;
      *g = x.g;
    }
  }
  return skc_ix_eq(l->ix[L->rank - 2], skc_ix_dim(r.row)) &&
         skc_ix_eq(l->ix[L->rank - 1], skc_ix_dim(r.col));
}

static bool name_is(MlirOperation op, const char *s) {
  return skc_str_eq(mlirIdentifierStr(mlirOperationGetName(op)), s);
}

static MlirOperation producer(MlirValue v) {
  return mlirValueIsAOpResult(v) ? mlirOpResultGetOwner(v) : (MlirOperation){NULL};
}

/* A splat constant tensor or a fill of a constant: *c. */
static bool const_tensor(MlirValue t, double *c) {
  MlirOperation op = producer(t);
  if (skc_value_const(t, c))
    return true;
  return !mlirOperationIsNull(op) && name_is(op, "linalg.fill") &&
         mlirOperationGetNumOperands(op) == 2 && skc_value_const(mlirOperationGetOperand(op, 0), c);
}

/* The factor f when n is f * placeholder. */
static bool placeholder_factor(const struct skc_node *n, const struct attn_labels *L, double *f) {
  struct av a = interp(n, L);
  if (a.kind != AV_SCORE || a.masked || a.s->kind != SKC_N_PH)
    return false;
  *f = a.a;
  return true;
}

/* Steps from an elementwise linalg op's result to its one non-constant input. */
static bool step_linalg(struct raise *R, const struct skc_linalg *v, MlirValue *x,
                        struct skc_labels *l, const struct attn_labels *L, double *f) {
  struct skc_ix loops[SKC_MATCH_MAX_RANK];
  int through = -1;
  if (skc_linalg_is_contraction(v) ||
      !skc_linalg_loop_labels(v, (int)mlirOpResultGetResultNumber(*x), l, &R->e.next_label, loops))
    return false;
  for (int i = 0; i < v->nloops; ++i)
    if (v->reduction[i])
      return false;
  for (int k = 0; k < v->nin; ++k) {
    MlirType t = mlirValueGetType(v->operand[k]);
    double c;
    if (!mlirTypeIsARankedTensor(t) || const_tensor(v->operand[k], &c))
      continue;
    if (through >= 0)
      return false;
    through = k;
  }
  if (through < 0 || mlirOperationGetNumResults(v->op) != 1)
    return false;
  struct skc_node *n = skc_eval_op_with_placeholder(&R->e, v, loops, through);
  if (!n || !placeholder_factor(n, L, f) || !skc_linalg_operand_labels(v, through, loops, l))
    return false;
  *x = v->operand[through];
  return true;
}

/* arith.mulf / arith.divf of a tensor by a constant tensor. */
static bool step_arith(MlirOperation op, MlirValue *x, double *f) {
  bool mul = name_is(op, "arith.mulf");
  if ((!mul && !name_is(op, "arith.divf")) || mlirOperationGetNumOperands(op) != 2)
    return false;
  MlirValue a = mlirOperationGetOperand(op, 0), b = mlirOperationGetOperand(op, 1);
  double c;
  if (const_tensor(b, &c)) {
    *f = mul ? c : 1.0 / c;
    *x = a;
  } else if (mul && const_tensor(a, &c)) {
    *f = c;
    *x = b;
  } else {
    return false;
  }
  return mlirTypeIsARankedTensor(mlirValueGetType(*x)) && isfinite(*f) && *f != 0;
}

/* One step back from x through a reshape, a relabelling or a constant scaling. */
static bool trace_step(struct raise *R, MlirValue *x, struct skc_labels *l,
                       const struct attn_labels *L, double *f) {
  MlirOperation op = producer(*x);
  struct skc_linalg v;
  struct skc_labels src;
  *f = 1;
  if (mlirOperationIsNull(op))
    return false;
  if (skc_reshape_source_labels(op, l, &src)) {
    *l = src;
    *x = mlirOperationGetOperand(op, 0);
    return true;
  }
  if (skc_linalg_view(op, &v))
    return step_linalg(R, &v, x, l, L, f);
  return step_arith(op, x, f);
}

/* The deepest value on the chain of reshapes, relabellings and scalings above x whose
 * labels the role accepts, with the product of the scalings between it and x. */
static bool trace(struct raise *R, MlirValue x, struct skc_labels l, struct role r,
                  bool allow_scale, struct operand *out) {
  bool found = false;
  double s = 1, f;
  int64_t g;
  for (int step = 0; step < MAX_TRACE_STEPS; ++step) {
    if (accept(&l, r, &g)) {
      *out = (struct operand){x, s, g};
      found = true;
    }
    MlirOperation op = producer(x);
    if (!trace_step(R, &x, &l, r.L, &f) || (!allow_scale && f != 1))
      break;
    skc_eval_see(&R->e, op);
    s *= f;
  }
  return found;
}

/* ---- Q.K^T and P.V ------------------------------------------------------------------------ */

static bool has_dim(const struct skc_labels *l, int label) {
  for (int i = 0; i < l->rank; ++i)
    if (l->ix[i].kind == SKC_IX_DIM && l->ix[i].label == label)
      return true;
  return false;
}

/* A contraction with a zero init; *a is the input indexed by `label`, *b the other. */
static bool contraction(struct raise *R, MlirOperation op, const struct skc_labels *res, int label,
                        int *red, MlirValue *a, struct skc_labels *la, MlirValue *b,
                        struct skc_labels *lb) {
  struct skc_linalg v;
  struct skc_ix loops[SKC_MATCH_MAX_RANK];
  struct skc_labels l0, l1;
  if (!skc_linalg_view(op, &v) || !skc_linalg_is_contraction(&v) ||
      !skc_linalg_loop_labels(&v, 0, res, &R->e.next_label, loops) ||
      !skc_linalg_operand_labels(&v, 0, loops, &l0) ||
      !skc_linalg_operand_labels(&v, 1, loops, &l1))
    return false;
  for (int i = 0; i < v.nloops; ++i)
    if (v.reduction[i])
      *red = loops[i].label;
  if (!is_const(skc_eval_tensor(&R->e, v.operand[2], res), 0))
    return false;
  bool first = has_dim(&l0, label);
  if (first == has_dim(&l1, label))
    return false;
  *a = first ? v.operand[0] : v.operand[1];
  *la = first ? l0 : l1;
  *b = first ? v.operand[1] : v.operand[0];
  *lb = first ? l1 : l0;
  return true;
}

static struct skc_labels canonical(const struct attn_labels *L, int row, int col) {
  struct skc_labels l = {.rank = L->rank};
  for (int i = 0; i < L->rank - 2; ++i)
    l.ix[i] = skc_ix_dim(L->b[i]);
  l.ix[L->rank - 2] = skc_ix_dim(row);
  l.ix[L->rank - 1] = skc_ix_dim(col);
  return l;
}

/* S = Q.K^T: element [b.., i, j] of contraction s is sum_dk Q[b.., i, dk] K[b.., j, dk]. */
static bool match_qk(struct raise *R, const struct skc_node *s, struct match *m) {
  struct attn_labels *L = &m->L;
  struct skc_labels want = canonical(L, L->i, L->j), lq, lk;
  MlirValue q, k;
  if (s->kind != SKC_N_CONTRACT || !skc_labels_eq(&s->labels, &want) ||
      !contraction(R, s->contract, &s->labels, L->i, &L->dk, &q, &lq, &k, &lk))
    return false;
  struct role rq = {L, L->i, L->dk, false}, rk = {L, L->j, L->dk, true};
  return has_dim(&lk, L->j) && trace(R, q, lq, rq, true, &m->q) &&
         trace(R, k, lk, rk, true, &m->k) && m->q.g == 1;
}

static double mask_limit(MlirType elem) {
  return mlirTypeIsAF16(elem) ? MASK_LIMIT_F16 : MASK_LIMIT_F32;
}

/* P = softmax_j(a * S masked where j > i) and S = Q.K^T. */
static bool match_scores(struct raise *R, const struct skc_node *p, struct match *m,
                         MlirType elem) {
  const struct skc_node *y = softmax_arg(p, m->L.j);
  struct av sc = interp(y, &m->L);
  if (sc.kind != AV_SCORE || !sc.masked || !(sc.a > 0) || !isfinite(sc.a) ||
      !(sc.mv <= mask_limit(elem)))
    return false;
  if (!match_qk(R, sc.s, m))
    return false;
  m->scale = sc.a * m->q.scale * m->k.scale;
  return m->scale > 0 && isfinite(m->scale);
}

static MlirType elem_of(MlirValue v) { return mlirShapedTypeGetElementType(mlirValueGetType(v)); }

static void labels_init(struct raise *R, struct attn_labels *L, int rank) {
  L->rank = rank;
  for (int i = 0; i < rank - 2; ++i)
    L->b[i] = skc_eval_label(&R->e);
  L->i = skc_eval_label(&R->e);
  L->dv = skc_eval_label(&R->e);
}

/* The candidate root: O[b.., i, dv] = sum_j P[b.., i, j] V[b.., j, dv]. */
static bool match_pv(struct raise *R, MlirOperation op, struct match *m) {
  if (mlirOperationGetNumResults(op) != 1)
    return false;
  MlirType t = mlirValueGetType(mlirOperationGetResult(op, 0));
  int rank = mlirTypeIsARankedTensor(t) ? (int)mlirShapedTypeGetRank(t) : 0;
  if (rank != 3 && rank != 4)
    return false;
  struct attn_labels *L = &m->L;
  labels_init(R, L, rank);
  struct skc_labels res = canonical(L, L->i, L->dv), lp, lv;
  MlirValue p, v;
  if (!contraction(R, op, &res, L->i, &L->j, &p, &lp, &v, &lv))
    return false;
  struct skc_labels want = canonical(L, L->i, L->j);
  struct role rv = {L, L->j, L->dv, true};
  if (!skc_labels_eq(&lp, &want) || !trace(R, v, lv, rv, false, &m->v))
    return false;
  m->pv = op;
  m->out = mlirOperationGetResult(op, 0);
  struct skc_node *pn = skc_eval_tensor(&R->e, p, &lp);
  return match_scores(R, pn, m, mlirShapedTypeGetElementType(t));
}

/* ---- rank 3 on (B*H)-collapsed tensors -> rank 4 ----------------------------------------- */

/* A reshape between (B, H, N, D) and (B*H, N, D): reassociation [[0, 1], [2], [3]]. */
static bool merges_batch_heads(MlirOperation op, const char *name) {
  if (mlirOperationIsNull(op) || !name_is(op, name))
    return false;
  MlirAttribute ra = mlirOperationGetAttributeByName(op, skc_str("reassociation"));
  static const int want[3][2] = {{0, 1}, {2, -1}, {3, -1}};
  if (mlirAttributeIsNull(ra) || !mlirAttributeIsAArray(ra) || mlirArrayAttrGetNumElements(ra) != 3)
    return false;
  for (int g = 0; g < 3; ++g) {
    MlirAttribute grp = mlirArrayAttrGetElement(ra, g);
    int n = g == 0 ? 2 : 1;
    if (!mlirAttributeIsAArray(grp) || mlirArrayAttrGetNumElements(grp) != n)
      return false;
    for (int i = 0; i < n; ++i) {
      MlirAttribute d = mlirArrayAttrGetElement(grp, i);
      if (!mlirAttributeIsAInteger(d) || mlirIntegerAttrGetValueInt(d) != want[g][i])
        return false;
    }
  }
  return true;
}

/* The rank-4 tensor x was collapsed from, or a null value. */
static MlirValue collapsed_from(MlirValue x) {
  MlirOperation op = producer(x);
  return merges_batch_heads(op, "tensor.collapse_shape") ? mlirOperationGetOperand(op, 0)
                                                         : (MlirValue){NULL};
}

/* Tensors a and b have the same static (B, H) in front. */
static bool same_batch_heads(MlirValue a, MlirValue b) {
  MlirType ta = mlirValueGetType(a), tb = mlirValueGetType(b);
  for (int d = 0; d < 2; ++d) {
    int64_t x = mlirShapedTypeGetDimSize(ta, d), y = mlirShapedTypeGetDimSize(tb, d);
    if (x != y || mlirShapedTypeIsDynamicSize(x))
      return false;
  }
  return true;
}

/* Rank-3 attention over collapsed q, k, v whose only use expands the output back to rank 4 is
 * rank-4 attention over the sources (K/V sources traced on, so GQA broadcasts are undone). */
static void lift_rank4(struct raise *R, struct match *m) {
  MlirOpOperand use = mlirValueGetFirstUse(m->out);
  if (m->L.rank != 3 || mlirOpOperandIsNull(use) ||
      !mlirOpOperandIsNull(mlirOpOperandGetNextUse(use)))
    return;
  MlirOperation x = mlirOpOperandGetOwner(use);
  MlirValue q = collapsed_from(m->q.value), k = collapsed_from(m->k.value);
  MlirValue v = collapsed_from(m->v.value);
  if (!merges_batch_heads(x, "tensor.expand_shape") || mlirValueIsNull(q) || mlirValueIsNull(k) ||
      mlirValueIsNull(v))
    return;
  MlirValue out4 = mlirOperationGetResult(x, 0);
  if (!same_batch_heads(q, out4) || !same_batch_heads(k, q) || !same_batch_heads(v, q))
    return; /* the split of B*H must be the same everywhere */
  struct match m4 = *m;
  struct attn_labels *L = &m4.L;
  labels_init(R, L, 4);
  L->j = skc_eval_label(&R->e);
  L->dk = skc_eval_label(&R->e);
  struct role rq = {L, L->i, L->dk, false}, rk = {L, L->j, L->dk, true};
  struct role rv = {L, L->j, L->dv, true};
  if (!trace(R, q, canonical(L, L->i, L->dk), rq, true, &m4.q) || m4.q.g != 1 ||
      !trace(R, k, canonical(L, L->j, L->dk), rk, true, &m4.k) ||
      !trace(R, v, canonical(L, L->j, L->dv), rv, false, &m4.v))
    return;
  m4.scale = m->scale * m4.q.scale * m4.k.scale;
  m4.out = out4;
  *m = m4;
}

/* ---- shapes ------------------------------------------------------------------------------- */

static bool compatible(int64_t a, int64_t b) {
  return a == b || mlirShapedTypeIsDynamicSize(a) || mlirShapedTypeIsDynamicSize(b);
}

static bool float_elem(MlirType e) {
  return mlirTypeIsAF32(e) || mlirTypeIsAF16(e) || mlirTypeIsABF16(e);
}

/* q, k, v and the output agree on element type, B, N and D; heads as GQA allows. */
static bool shapes_ok(const struct match *m) {
  MlirValue out = m->out;
  MlirType t[4] = {mlirValueGetType(m->q.value), mlirValueGetType(m->k.value),
                   mlirValueGetType(m->v.value), mlirValueGetType(out)};
  int r = m->L.rank;
  for (int i = 0; i < 4; ++i)
    if (!mlirTypeIsARankedTensor(t[i]) || mlirShapedTypeGetRank(t[i]) != r ||
        !mlirTypeEqual(mlirShapedTypeGetElementType(t[i]), elem_of(out)))
      return false;
  if (!float_elem(elem_of(out)) || m->k.g != m->v.g)
    return false;
  for (int i = 1; i < 4; ++i)
    for (int d = 0; d < r; ++d) {
      if (d == 1 && r == 4 && (i == 1 || i == 2))
        continue;
      if (!compatible(mlirShapedTypeGetDimSize(t[0], d), mlirShapedTypeGetDimSize(t[i], d)))
        return false;
    }
  if (r == 3)
    return true;
  int64_t hq = mlirShapedTypeGetDimSize(t[0], 1), hk = mlirShapedTypeGetDimSize(t[1], 1);
  if (!compatible(hk, mlirShapedTypeGetDimSize(t[2], 1)))
    return false;
  if (m->k.g == 1)
    return compatible(hq, hk);
  return !mlirShapedTypeIsDynamicSize(hq) && !mlirShapedTypeIsDynamicSize(hk) && hq == m->k.g * hk;
}

/* ---- rewrite ------------------------------------------------------------------------------ */

static void note_erased(struct raise *R, MlirOperation op) {
  if (R->nerased == R->caperased) {
    int cap = R->caperased ? 2 * R->caperased : 64;
    void **p = realloc(R->erased, (size_t)cap * sizeof *p);
    if (!p)
      return;
    R->erased = p;
    R->caperased = cap;
  }
  R->erased[R->nerased++] = op.ptr;
}

static bool was_erased(const struct raise *R, MlirOperation op) {
  for (int i = 0; i < R->nerased; ++i)
    if (R->erased[i] == op.ptr)
      return true;
  return false;
}

static bool pure(MlirOperation op);

/* Erases op; the pure ops it reads (inits, constants, shapes) become cleanup candidates. */
static void erase(struct raise *R, MlirOperation op) {
  for (intptr_t i = 0; i < mlirOperationGetNumOperands(op); ++i) {
    MlirOperation p = producer(mlirOperationGetOperand(op, i));
    if (!mlirOperationIsNull(p) && pure(p))
      skc_eval_see(&R->e, p);
  }
  note_erased(R, op);
  mlirOperationDestroy(op);
}

static bool unused(MlirOperation op) {
  for (intptr_t r = 0; r < mlirOperationGetNumResults(op); ++r)
    if (!mlirOpOperandIsNull(mlirValueGetFirstUse(mlirOperationGetResult(op, r))))
      return false;
  return true;
}

static bool pure(MlirOperation op) {
  MlirStringRef n = mlirIdentifierStr(mlirOperationGetName(op));
  return (n.length > 7 && memcmp(n.data, "linalg.", 7) == 0) ||
         (n.length > 7 && memcmp(n.data, "tensor.", 7) == 0) ||
         (n.length > 6 && memcmp(n.data, "arith.", 6) == 0) ||
         (n.length > 5 && memcmp(n.data, "math.", 5) == 0);
}

/* Erases the ops the match looked at that are now unused, until none is left. */
static void erase_dead(struct raise *R) {
  struct skc_eval *e = &R->e;
  for (bool changed = true; changed;) {
    changed = false;
    for (int i = 0; i < e->nseen; ++i) {
      if (mlirOperationIsNull(e->seen[i]) || !pure(e->seen[i]) || !unused(e->seen[i]))
        continue;
      erase(R, e->seen[i]);
      e->seen[i] = (MlirOperation){NULL};
      changed = true;
    }
  }
}

static void rewrite(struct raise *R, const struct match *m) {
  MlirContext ctx = mlirOperationGetContext(m->pv);
  MlirOperation at = mlirOpResultGetOwner(m->out);
  MlirValue qkv[3] = {m->q.value, m->k.value, m->v.value};
  MlirNamedAttribute attrs[2] = {
      skc_named_attr(ctx, "scale", mlirFloatAttrDoubleGet(ctx, mlirF64TypeGet(ctx), m->scale)),
      skc_named_attr(ctx, "causal", mlirBoolAttrGet(ctx, 1))};
  MlirType qt = mlirValueGetType(m->q.value), ot = mlirValueGetType(m->out);
  MlirValue att = mlirOperationGetResult(
      skc_op_create_before(at, skc_op_name(SKC_OP_DENSE_ATTENTION), 3, qkv, qt, 2, attrs), 0);
  if (!mlirTypeEqual(qt, ot))
    att = mlirOperationGetResult(skc_op_create_before(at, "tensor.cast", 1, &att, ot, 0, NULL), 0);
  mlirValueReplaceAllUsesOfWith(m->out, att);
  skc_eval_see(&R->e, at);
  skc_eval_see(&R->e, m->pv);
  erase_dead(R);
}

/* ---- the pass ----------------------------------------------------------------------------- */

/* The ops that can compute P.V: contractions are spelled as these. */
static const char *const pv_ops[] = {"linalg.batch_matmul", "linalg.generic", "linalg.contract"};

static void raise_ops(struct raise *R, MlirOperation *ops, int n) {
  for (int i = 0; i < n; ++i) {
    if (was_erased(R, ops[i]))
      continue;
    struct match m = {0};
    skc_eval_reset(&R->e);
    if (!match_pv(R, ops[i], &m))
      continue;
    lift_rank4(R, &m);
    if (shapes_ok(&m))
      rewrite(R, &m);
  }
}

static void raise_run(MlirOperation module, MlirExternalPass pass,
                      const struct skc_sparsek_options *o) {
  (void)pass;
  (void)o;
  struct raise R = {0};
  skc_eval_create(&R.e, ARENA_NODES);
  for (size_t k = 0; k < sizeof pv_ops / sizeof *pv_ops && R.e.cap; ++k) {
    int n;
    MlirOperation *ops = skc_collect_ops(module, pv_ops[k], &n);
    raise_ops(&R, ops, n);
    free(ops);
  }
  skc_eval_destroy(&R.e);
  free(R.erased);
}

MlirPass skc_raise_attention_pass_create(const struct skc_sparsek_options *o) {
  static char id;
  return skc_pass_make(&id, "raise-attention", "raise dense causal attention", raise_run, o);
}
