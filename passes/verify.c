/* verify: checks what IRDL cannot (shared/notes/mlir-c-api.md): ranks, element types,
 * agreeing B/N/D, Hq a multiple of Hkv, k >= 1, window >= 0, gate in {kv, v}, score mode and
 * its operand shapes, finite scale and slope. Each violation is reported at the op's location
 * naming the op, the operand and expected vs actual:
 *
 *   %0 = "sparsek.attention"(%q, %k, %v, %u) {k = 0 : i64, ...}
 *   -> model.mlir:3:8: error: sparsek.attention: attribute 'k' must be >= 1, got 0
 *
 * The pass changes nothing; it fails when any op is invalid. Dynamic extents (?) match any. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "compiler/diag.h"
#include "dialect/sparsek.h"
#include "mlir-c/BuiltinTypes.h"
#include "passes/passes.h"

/* One tensor operand or result under check. */
struct tensor {
  const char *name;
  MlirType type;
  int rank; /* -1 when not a ranked tensor */
};

struct checker {
  MlirOperation op;
  const char *opname;
  int errors;
};

static void fail(struct checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct checker *c, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  skc_error_at(mlirOperationGetLocation(c->op), "%s: %s", c->opname, msg);
  c->errors++;
}

static struct tensor operand(struct checker *c, int i, const char *name) {
  MlirType t = mlirValueGetType(mlirOperationGetOperand(c->op, i));
  int rank = mlirTypeIsARankedTensor(t) ? (int)mlirShapedTypeGetRank(t) : -1;
  return (struct tensor){name, t, rank};
}

static struct tensor result(struct checker *c, const char *name) {
  MlirType t = mlirValueGetType(mlirOperationGetResult(c->op, 0));
  int rank = mlirTypeIsARankedTensor(t) ? (int)mlirShapedTypeGetRank(t) : -1;
  return (struct tensor){name, t, rank};
}

static int64_t dim(struct tensor t, int i) {
  if (i < 0)
    i += t.rank;
  return mlirShapedTypeGetDimSize(t.type, i);
}

static bool rank_in(struct checker *c, struct tensor t, int lo, int hi) {
  if (t.rank >= lo && t.rank <= hi)
    return true;
  if (lo == hi)
    fail(c, "operand '%s' has rank %d, expected %d", t.name, t.rank, lo);
  else
    fail(c, "operand '%s' has rank %d, expected %d or %d", t.name, t.rank, lo, hi);
  return false;
}

static bool same_rank(struct checker *c, struct tensor t, struct tensor ref) {
  if (t.rank == ref.rank)
    return true;
  fail(c, "operand '%s' has rank %d, expected %d (the rank of '%s')", t.name, t.rank, ref.rank,
       ref.name);
  return false;
}

/* Prints a type into buf. */
static void type_str(MlirType t, char *buf, size_t n);
struct sink {
  char *buf;
  size_t n, len;
};
static void sink_cb(MlirStringRef s, void *ud) {
  struct sink *k = ud;
  for (size_t i = 0; i < s.length && k->len + 1 < k->n; ++i)
    k->buf[k->len++] = s.data[i];
  k->buf[k->len] = 0;
}
static void type_str(MlirType t, char *buf, size_t n) {
  struct sink k = {buf, n, 0};
  buf[0] = 0;
  mlirTypePrint(t, sink_cb, &k);
}

static bool float_elem(struct checker *c, struct tensor t) {
  MlirType e = mlirShapedTypeGetElementType(t.type);
  if (mlirTypeIsAF32(e) || mlirTypeIsAF64(e) || mlirTypeIsAF16(e) || mlirTypeIsABF16(e))
    return true;
  char got[64];
  type_str(e, got, sizeof got);
  fail(c, "operand '%s' has element type %s, expected f32, f64, f16 or bf16", t.name, got);
  return false;
}

/* Scores and score weights: f32 (spec section 5), or f64 in double-precision test builds. */
static bool f32_elem(struct checker *c, struct tensor t) {
  MlirType e = mlirShapedTypeGetElementType(t.type);
  if (mlirTypeIsAF32(e) || mlirTypeIsAF64(e))
    return true;
  char got[64];
  type_str(e, got, sizeof got);
  fail(c, "operand '%s' has element type %s, expected f32 (or f64)", t.name, got);
  return false;
}

static bool same_elem(struct checker *c, struct tensor t, struct tensor ref) {
  MlirType a = mlirShapedTypeGetElementType(t.type), b = mlirShapedTypeGetElementType(ref.type);
  if (mlirTypeEqual(a, b))
    return true;
  char got[64], want[64];
  type_str(a, got, sizeof got);
  type_str(b, want, sizeof want);
  fail(c, "operand '%s' has element type %s, expected %s (the element type of '%s')", t.name,
       got, want, ref.name);
  return false;
}

/* Dimension `ti` of t (named `what`) must equal dimension `ri` of ref. */
static bool same_dim(struct checker *c, struct tensor t, int ti, struct tensor ref, int ri,
                     const char *what) {
  int64_t a = dim(t, ti), b = dim(ref, ri);
  if (a == b || mlirShapedTypeIsDynamicSize(a) || mlirShapedTypeIsDynamicSize(b))
    return true;
  fail(c, "operand '%s' has %s = %lld, expected %lld (%s of '%s')", t.name, what, (long long)a,
       (long long)b, what, ref.name);
  return false;
}

static bool get_int_attr(struct checker *c, const char *name, int64_t *v) {
  if (skc_attr_get_int(c->op, name, v))
    return true;
  fail(c, "attribute '%s' must be an integer", name);
  return false;
}

static bool get_float_attr(struct checker *c, const char *name, double *v) {
  if (skc_attr_get_float(c->op, name, v) && isfinite(*v))
    return true;
  fail(c, "attribute '%s' must be a finite number", name);
  return false;
}

/* q, k, v (and the result): rank 3 or 4, one float element type, agreeing B, N, D, GQA. */
static bool check_qkv(struct checker *c) {
  struct tensor q = operand(c, 0, "q"), k = operand(c, 1, "k"), v = operand(c, 2, "v");
  struct tensor out = result(c, "out");
  if (!rank_in(c, q, 3, 4) || !same_rank(c, k, q) || !same_rank(c, v, q))
    return false;
  if (!float_elem(c, q) || !same_elem(c, k, q) || !same_elem(c, v, q))
    return false;
  bool ok = same_dim(c, k, 0, q, 0, "B") & same_dim(c, v, 0, q, 0, "B");
  ok &= same_dim(c, k, -2, q, -2, "N") & same_dim(c, v, -2, q, -2, "N");
  ok &= same_dim(c, k, -1, q, -1, "D") & same_dim(c, v, -1, q, -1, "D");
  if (q.rank == 4)
    ok &= same_dim(c, v, 1, k, 1, "Hkv");
  if (ok && q.rank == 4) {
    int64_t hq = dim(q, 1), hkv = dim(k, 1);
    if (!mlirShapedTypeIsDynamicSize(hq) && !mlirShapedTypeIsDynamicSize(hkv) &&
        (hkv == 0 || hq % hkv != 0)) {
      fail(c, "query heads Hq = %lld of 'q' must be a multiple of key/value heads Hkv = %lld of "
              "'k'", (long long)hq, (long long)hkv);
      ok = false;
    }
  }
  if (ok && !mlirTypeEqual(out.type, q.type)) {
    fail(c, "result 'out' must have the type of 'q'");
    ok = false;
  }
  return ok;
}

static bool check_scale_causal(struct checker *c) {
  double scale;
  int64_t causal;
  bool ok = get_float_attr(c, "scale", &scale);
  if (ok && !(scale > 0)) {
    fail(c, "attribute 'scale' must be > 0, got %g", scale);
    ok = false;
  }
  if (get_int_attr(c, "causal", &causal) && causal == 0) {
    fail(c, "attribute 'causal' must be true: only causal attention is supported");
    ok = false;
  }
  return ok;
}

static bool verify_dense_attention(struct checker *c) {
  bool ok = check_qkv(c);
  return check_scale_causal(c) && ok;
}

/* u (B, Hkv, N) f32, with Hkv = 1 for rank-3 (B*H, N, D) attention. */
static bool check_u(struct checker *c, struct tensor u, struct tensor q, struct tensor k) {
  if (!rank_in(c, u, 3, 3) || !f32_elem(c, u))
    return false;
  bool ok = same_dim(c, u, 0, q, 0, "B") & same_dim(c, u, 2, q, -2, "N");
  if (k.rank == 4)
    return same_dim(c, u, 1, k, 1, "Hkv") && ok;
  if (dim(u, 1) != 1) {
    fail(c, "operand '%s' has Hkv = %lld, expected 1 (rank-3 attention has one head per "
            "sequence)", u.name, (long long)dim(u, 1));
    return false;
  }
  return ok;
}

static bool verify_attention(struct checker *c) {
  bool ok = check_qkv(c);
  ok = check_scale_causal(c) && ok;
  int64_t k, w;
  MlirStringRef gate;
  if (get_int_attr(c, "k", &k) && k < 1) {
    fail(c, "attribute 'k' must be >= 1, got %lld", (long long)k);
    ok = false;
  }
  if (get_int_attr(c, "window", &w) && w < 0) {
    fail(c, "attribute 'window' must be >= 0, got %lld", (long long)w);
    ok = false;
  }
  if (!skc_attr_get_str(c->op, "gate", &gate) || skc_gate_parse(gate.data, gate.length) < 0) {
    fail(c, "attribute 'gate' must be \"kv\" or \"v\", got \"%.*s\"", (int)gate.length,
         gate.data);
    ok = false;
  }
  if (!ok)
    return false;
  struct tensor q = operand(c, 0, "q"), kt = operand(c, 1, "k"), u = operand(c, 3, "u");
  return check_u(c, u, q, kt);
}

/* mode hidden: x (B, N, F); keys: x (B, Hkv, N, D) or (B*H, N, D); input: x like u. */
static bool check_score_x(struct checker *c, int mode, struct tensor x, struct tensor u) {
  if (mode == SKC_SCORE_INPUT)
    return rank_in(c, x, 3, 3) && f32_elem(c, x) && same_dim(c, x, 0, u, 0, "B") &&
           same_dim(c, x, 1, u, 1, "Hkv") && same_dim(c, x, 2, u, 2, "N");
  if (mode == SKC_SCORE_HIDDEN)
    return rank_in(c, x, 3, 3) && float_elem(c, x) && same_dim(c, x, 0, u, 0, "B") &&
           same_dim(c, x, 1, u, 2, "N");
  if (!rank_in(c, x, 3, 4) || !float_elem(c, x))
    return false;
  bool ok = same_dim(c, x, 0, u, 0, "B") & same_dim(c, x, -2, u, 2, "N");
  return x.rank == 4 ? same_dim(c, x, 1, u, 1, "Hkv") && ok : ok;
}

static bool check_score_params(struct checker *c, struct tensor x, struct tensor u) {
  struct tensor w = operand(c, 1, "w_score"), b = operand(c, 2, "b_score");
  if (!rank_in(c, w, 2, 2) || !rank_in(c, b, 1, 1) || !f32_elem(c, w) || !f32_elem(c, b))
    return false;
  return same_dim(c, w, 0, u, 1, "Hkv") & same_dim(c, b, 0, u, 1, "Hkv") &
         same_dim(c, w, 1, x, -1, "F");
}

static bool verify_score(struct checker *c) {
  MlirStringRef m;
  double slope;
  bool ok = get_float_attr(c, "slope", &slope);
  if (!skc_attr_get_str(c->op, "mode", &m) || skc_score_mode_parse(m.data, m.length) < 0) {
    fail(c, "attribute 'mode' must be \"hidden\", \"keys\" or \"input\", got \"%.*s\"",
         (int)m.length, m.data);
    return false;
  }
  int mode = skc_score_mode_parse(m.data, m.length);
  int nops = (int)mlirOperationGetNumOperands(c->op);
  int want = mode == SKC_SCORE_INPUT ? 1 : 3;
  if (nops != want) {
    fail(c, "mode \"%s\" takes %d operand(s), got %d", skc_score_mode_name(mode), want, nops);
    return false;
  }
  struct tensor u = result(c, "u"), x = operand(c, 0, "x");
  if (!rank_in(c, u, 3, 3) || !f32_elem(c, u) || !check_score_x(c, mode, x, u))
    return false;
  return (mode == SKC_SCORE_INPUT || check_score_params(c, x, u)) && ok;
}

typedef bool (*verify_fn)(struct checker *c);

static const verify_fn verifiers[] = {
    [SKC_OP_DENSE_ATTENTION] = verify_dense_attention,
    [SKC_OP_SCORE] = verify_score,
    [SKC_OP_ATTENTION] = verify_attention,
};

_Static_assert(sizeof verifiers / sizeof *verifiers == SKC_OP_COUNT, "one verifier per op");

static MlirWalkResult verify_one(MlirOperation op, void *ud) {
  int *errors = ud;
  enum skc_op_kind kind = skc_op_kind_of(op);
  if (kind == SKC_OP_NONE)
    return MlirWalkResultAdvance;
  struct checker c = {op, skc_op_name(kind), 0};
  verifiers[kind](&c);
  *errors += c.errors;
  return MlirWalkResultAdvance;
}

static void verify_run(MlirOperation module, MlirExternalPass pass,
                       const struct skc_sparsek_options *o) {
  (void)o;
  int errors = 0;
  mlirOperationWalk(module, verify_one, &errors, MlirWalkPreOrder);
  if (errors)
    mlirExternalPassSignalFailure(pass);
}

MlirPass skc_verify_pass_create(const struct skc_sparsek_options *o) {
  static char id;
  return skc_pass_make(&id, "verify", "check sparsek ops", verify_run, o);
}
