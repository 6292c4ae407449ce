/* Builds the code-generation plan (plan.h) of every public function from the IR that
 * lower-kernels left: ABI parameters with C names, dynamic extents found by unifying the
 * axes that the sparsek ops tie together (q, k, v, u and the score inputs share B and N),
 * where every value lives (a parameter or a workspace buffer) and the kernel steps.
 *
 *   func.func @attn(%q: tensor<?x4x?x16xf32>, ..., %w_score, %b_score) -> tensor<?x4x?x16xf32>
 *     %u = "sparsek.score"(%x, %w_score, %b_score) {buffer = 0, ...}
 *     %o = "sparsek.attention"(%q, %k, %v, %u) {head_dim = 16, tile_q = 32, ...}
 *     return %o
 *   -> params q [B,4,N,16] ... out [B,4,N,16]; syms B (q axis 0), N (q axis 2);
 *      steps: score 0 -> buffer 0; attention 0 (q, k, v, buffer 0) -> param out */
#include "codegen/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/aux_ops.h"
#include "compiler/diag.h"
#include "dialect/sparsek.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "passes/passes.h"

enum { MAX_VALUES = 4096 };

/* Per-function analysis state: the values (arguments first, then op results) and a
 * union-find over (value, axis). */
struct scan {
  MlirValue *vals;
  int nvals;
  int *parent;       /* [nvals * MAX_RANK] */
  const char **hint; /* a symbol name for the axis ("B", "N"), or NULL */
  const char *src;
  const char *input;
};

static int find(struct scan *s, int x) {
  while (s->parent[x] != x)
    x = s->parent[x] = s->parent[s->parent[x]];
  return x;
}

static int value_index(const struct scan *s, MlirValue v) {
  for (int i = 0; i < s->nvals; ++i)
    if (mlirValueEqual(s->vals[i], v))
      return i;
  return -1;
}

static int rank_of(MlirValue v) {
  MlirType t = mlirValueGetType(v);
  return mlirTypeIsARankedTensor(t) ? (int)mlirShapedTypeGetRank(t) : -1;
}

/* Ties axis a of value va to axis b of value vb (negative axes count from the end). */
static void tie(struct scan *s, MlirValue va, int a, MlirValue vb, int b, const char *hint) {
  int ia = value_index(s, va), ib = value_index(s, vb);
  int ra = rank_of(va), rb = rank_of(vb);
  a = a < 0 ? a + ra : a;
  b = b < 0 ? b + rb : b;
  if (ia < 0 || ib < 0 || a < 0 || b < 0 || a >= ra || b >= rb)
    return;
  int x = find(s, ia * SKC_CG_MAX_RANK + a), y = find(s, ib * SKC_CG_MAX_RANK + b);
  if (hint) {
    s->hint[ia * SKC_CG_MAX_RANK + a] = hint;
    s->hint[ib * SKC_CG_MAX_RANK + b] = hint;
  }
  s->parent[x] = y;
}

static MlirValue operand(MlirOperation op, int i) { return mlirOperationGetOperand(op, i); }
static MlirValue result0(MlirOperation op) { return mlirOperationGetResult(op, 0); }

static void tie_attention(struct scan *s, MlirOperation op) {
  MlirValue q = operand(op, 0), k = operand(op, 1), v = operand(op, 2), u = operand(op, 3);
  MlirValue o = result0(op);
  MlirValue qkvo[4] = {q, k, v, o};
  for (int i = 1; i < 4; ++i) {
    tie(s, qkvo[i], 0, q, 0, "B");
    tie(s, qkvo[i], -2, q, -2, "N");
    tie(s, qkvo[i], -1, q, -1, "D");
  }
  tie(s, u, 0, q, 0, "B");
  tie(s, u, 2, q, -2, "N");
  if (rank_of(q) == 4) {
    tie(s, o, 1, q, 1, "Hq");
    tie(s, v, 1, k, 1, "Hkv");
    tie(s, u, 1, k, 1, "Hkv");
  }
}

static void tie_score(struct scan *s, MlirOperation op, int mode) {
  MlirValue x = operand(op, 0), u = result0(op);
  if (mode == SKC_SCORE_INPUT) {
    for (int i = 0; i < 3; ++i)
      tie(s, x, i, u, i, i == 0 ? "B" : i == 2 ? "N" : NULL);
    return;
  }
  MlirValue w = operand(op, 1), b = operand(op, 2);
  tie(s, x, 0, u, 0, "B");
  tie(s, x, mode == SKC_SCORE_HIDDEN ? 1 : -2, u, 2, "N");
  if (mode == SKC_SCORE_KEYS && rank_of(x) == 4)
    tie(s, x, 1, u, 1, "Hkv");
  tie(s, w, 0, u, 1, NULL);
  tie(s, b, 0, u, 1, NULL);
  tie(s, w, 1, x, -1, "F");
}

/* ---- names ------------------------------------------------------------------------------ */

static const char *const reserved[] = {
    "auto",     "break",  "case",   "char",     "const",    "continue", "default",  "do",
    "double",   "else",   "enum",   "extern",   "float",    "for",      "goto",     "if",
    "inline",   "int",    "long",   "register", "restrict", "return",   "short",    "signed",
    "sizeof",   "static", "struct", "switch",   "typedef",  "union",    "unsigned", "void",
    "volatile", "while",  "ctx",    "st",       "ws",       "ws_size",  "p",        "B",
    "N",        "D",      "F"};

static bool is_reserved(const char *s) {
  for (size_t i = 0; i < sizeof reserved / sizeof *reserved; ++i)
    if (strcmp(reserved[i], s) == 0)
      return true;
  return strncmp(s, "skc_", 4) == 0 || strncmp(s, "skk_", 4) == 0 || strncmp(s, "skrt_", 5) == 0 ||
         strncmp(s, "SKC_", 4) == 0;
}

/* The `%name:` of an argument declaration at (line, col) of src, as a C identifier. */
static bool source_name(const char *src, int line, int col, char *out, size_t n) {
  const char *p = src;
  for (int l = 1; l < line && p; ++l)
    p = (p = strchr(p, '\n')) ? p + 1 : NULL;
  if (!p || (int)strcspn(p, "\n") < col || p[col - 1] != '%')
    return false;
  p += col;
  size_t len = 0;
  char buf[SKC_CG_NAME];
  if (*p >= '0' && *p <= '9')
    buf[len++] = 't';
  for (; (*p == '_' || *p == '$' || *p == '.' || *p == '-' || (*p >= '0' && *p <= '9') ||
          (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) &&
         len + 2 < sizeof buf;
       ++p)
    buf[len++] = (*p == '$' || *p == '.' || *p == '-') ? '_' : *p;
  buf[len] = 0;
  while (*p == ' ')
    ++p;
  if (*p != ':' || len == 0)
    return false;
  snprintf(out, n, "%s", buf);
  return true;
}

static bool arg_source_name(const struct scan *s, MlirValue arg, char *out, size_t n) {
  MlirLocation loc = mlirValueGetLocation(arg);
  if (!s->src || !mlirLocationIsAFileLineColRange(loc))
    return false;
  return source_name(s->src, mlirLocationFileLineColRangeGetStartLine(loc),
                     mlirLocationFileLineColRangeGetStartColumn(loc), out, n);
}

/* Makes names unique and non-reserved by appending _<index>. */
static void dedup_names(struct skc_cg_func *f) {
  for (int i = 0; i < f->nparams; ++i) {
    bool clash = is_reserved(f->params[i].name) || strcmp(f->params[i].name, f->name) == 0;
    for (int j = 0; j < i && !clash; ++j)
      clash = strcmp(f->params[i].name, f->params[j].name) == 0;
    if (clash) {
      char buf[SKC_CG_NAME];
      snprintf(buf, sizeof buf, "%.30s_%d", f->params[i].name, i);
      memcpy(f->params[i].name, buf, sizeof buf);
    }
  }
}

/* ---- dtypes, locations -------------------------------------------------------------------- */

static bool dtype_of(MlirType e, struct skc_cg_dtype *d) {
  if (mlirTypeIsAF32(e))
    *d = (struct skc_cg_dtype){"float", "kDLFloat", "float32", 32};
  else if (mlirTypeIsAF64(e))
    *d = (struct skc_cg_dtype){"double", "kDLFloat", "float64", 64};
  else if (mlirTypeIsAF16(e))
    *d = (struct skc_cg_dtype){"uint16_t", "kDLFloat", "float16", 16};
  else if (mlirTypeIsABF16(e))
    *d = (struct skc_cg_dtype){"uint16_t", "kDLBfloat", "bfloat16", 16};
  else if (mlirTypeIsAInteger(e) && mlirIntegerTypeGetWidth(e) >= 8 &&
           mlirIntegerTypeGetWidth(e) <= 64 && (mlirIntegerTypeGetWidth(e) & 7) == 0) {
    static const char *const ints[] = {"int8_t", "int16_t", "int32_t", "int64_t"};
    static const char *const names[] = {"int8", "int16", "int32", "int64"};
    unsigned w = mlirIntegerTypeGetWidth(e), i = w == 8 ? 0 : w == 16 ? 1 : w == 32 ? 2 : 3;
    if (w != 8 && w != 16 && w != 32 && w != 64)
      return false;
    *d = (struct skc_cg_dtype){ints[i], "kDLInt", names[i], (int)w};
  } else
    return false;
  return true;
}

static void loc_str(MlirLocation loc, char *buf, size_t n) {
  snprintf(buf, n, "?");
  if (!mlirLocationIsAFileLineColRange(loc))
    return;
  MlirStringRef f = mlirIdentifierStr(mlirLocationFileLineColRangeGetFilename(loc));
  const char *base = f.data;
  for (size_t i = 0; i < f.length; ++i)
    if (f.data[i] == '/')
      base = f.data + i + 1;
  snprintf(buf, n, "%.*s:%d:%d", (int)(f.length - (size_t)(base - f.data)), base,
           mlirLocationFileLineColRangeGetStartLine(loc),
           mlirLocationFileLineColRangeGetStartColumn(loc));
}

static const char *op_name(MlirOperation op, char *buf, size_t n) {
  MlirStringRef s = mlirIdentifierStr(mlirOperationGetName(op));
  snprintf(buf, n, "%.*s", (int)s.length, s.data);
  return buf;
}

/* ---- parameters and symbols --------------------------------------------------------------- */

/* Fills the extents of p from the classes of value index vi. */
static void param_dims(struct scan *s, struct skc_cg_func *f, struct skc_cg_param *p, int vi,
                       bool allow_new) {
  MlirType t = mlirValueGetType(p->value);
  for (int a = 0; a < p->rank; ++a) {
    int root = find(s, vi * SKC_CG_MAX_RANK + a);
    int64_t v = mlirShapedTypeGetDimSize(t, a);
    p->dims[a] = (struct skc_cg_dim){v, -1};
    for (int x = 0; x < s->nvals * SKC_CG_MAX_RANK && mlirShapedTypeIsDynamicSize(v); ++x) {
      int xv = x / SKC_CG_MAX_RANK, xa = x % SKC_CG_MAX_RANK;
      if (xa >= rank_of(s->vals[xv]) || find(s, x) != root)
        continue;
      int64_t e = mlirShapedTypeGetDimSize(mlirValueGetType(s->vals[xv]), xa);
      if (!mlirShapedTypeIsDynamicSize(e))
        p->dims[a].value = v = e;
    }
    if (!mlirShapedTypeIsDynamicSize(v))
      continue;
    /* dynamic: the class's symbol, created at its first parameter */
    int sym = -1;
    for (int k = 0; k < f->nsyms && sym < 0; ++k) {
      struct skc_cg_param *d = &f->params[f->syms[k].param];
      int dv = value_index(s, d->value);
      if (find(s, dv * SKC_CG_MAX_RANK + f->syms[k].axis) == root)
        sym = k;
    }
    if (sym < 0) {
      SKC_ASSERT(allow_new); /* every extent of an op result is tied to a parameter's */
      sym = f->nsyms++;
      const char *hint = NULL;
      for (int x = 0; x < s->nvals * SKC_CG_MAX_RANK && !hint; ++x)
        if (find(s, x) == root)
          hint = s->hint[x];
      struct skc_cg_sym *y = &f->syms[sym];
      y->param = (int)(p - f->params);
      y->axis = a;
      if (hint)
        snprintf(y->name, sizeof y->name, "%s", hint);
      else
        snprintf(y->name, sizeof y->name, "%.24s_dim%d", p->name, a);
      for (int k = 0; k < sym; ++k)
        if (strcmp(f->syms[k].name, y->name) == 0) {
          char base[SKC_CG_NAME];
          memcpy(base, y->name, sizeof base);
          snprintf(y->name, sizeof y->name, "%.30s%d", base, sym % 1000);
        }
    }
    p->dims[a].sym = sym;
  }
}

/* The role of argument value v in the sparsek ops that read it. */
static void arg_role(MlirOperation *ops, int nops, MlirValue v, struct skc_cg_param *p) {
  static const enum skc_cg_role att_roles[] = {SKC_ROLE_Q, SKC_ROLE_K, SKC_ROLE_V, SKC_ROLE_OTHER};
  int att = 0, sc = 0;
  p->role = SKC_ROLE_OTHER;
  p->role_op = -1;
  bool strided = true, used = false;
  for (int i = 0; i < nops; ++i) {
    enum skc_op_kind kind = skc_op_kind_of(ops[i]);
    int n = (int)mlirOperationGetNumOperands(ops[i]);
    for (int j = 0; j < n; ++j) {
      if (!mlirValueEqual(operand(ops[i], j), v))
        continue;
      used = true;
      if (kind == SKC_OP_ATTENTION && j < 3) {
        if (p->role == SKC_ROLE_OTHER || p->role == SKC_ROLE_X) /* keys over score input */
          p->role = att_roles[j], p->role_op = att;
        continue;
      }
      MlirStringRef m;
      bool has_mode = kind == SKC_OP_SCORE && skc_attr_get_str(ops[i], "mode", &m);
      bool input = has_mode && skc_str_eq(m, "input");
      strided = strided && has_mode && j == 0 && skc_str_eq(m, "keys"); /* keys x: strides ok */
      if (kind == SKC_OP_SCORE && p->role == SKC_ROLE_OTHER) {
        p->role = j == 0 ? (input ? SKC_ROLE_UIN : SKC_ROLE_X) : j == 1 ? SKC_ROLE_W : SKC_ROLE_B;
        p->role_op = sc;
      }
    }
    att += kind == SKC_OP_ATTENTION;
    sc += kind == SKC_OP_SCORE;
  }
  p->strided = strided && used;
}

static const char *role_name(enum skc_cg_role r) {
  static const char *const names[] = {"arg",     "q",       "k",    "v",   "x",
                                      "w_score", "b_score", "u_in", "out", "u"};
  return names[r];
}

/* ---- the function -------------------------------------------------------------------------- */

static bool unsupported(MlirOperation op) {
  char name[96];
  skc_error_at(mlirOperationGetLocation(op), "unsupported op '%s'", op_name(op, name, sizeof name));
  return false;
}

/* Results may not return an init (it has no storage; a returned view is copied). */
static bool check_returned(MlirOperation *ops, int nops) {
  MlirOperation ret = ops[nops - 1];
  for (intptr_t i = 0; i < mlirOperationGetNumOperands(ret); ++i) {
    MlirValue v = operand(ret, (int)i);
    if (!mlirValueIsAOpResult(v))
      continue;
    MlirOperation op = mlirOpResultGetOwner(v);
    enum skc_aux_kind k = skc_aux_kind_of(op);
    if (skc_aux_is_init(k)) {
      char name[96];
      skc_error_at(mlirOperationGetLocation(op),
                   "unsupported op '%s': its result is returned; "
                   "codegen returns only results computed by a kernel, views of them, or "
                   "arguments",
                   op_name(op, name, sizeof name));
      return false;
    }
  }
  return true;
}

/* Collects the entry block's ops; false after an error on an unsupported op. */
static bool collect_ops(MlirOperation func, MlirOperation **ops, int *nops, MlirBlock *body) {
  *body = mlirRegionGetFirstBlock(mlirOperationGetRegion(func, 0));
  int cap = 16;
  *ops = malloc(sizeof(MlirOperation) * (size_t)cap);
  *nops = 0;
  SKC_ASSERT(*ops);
  for (MlirOperation op = mlirBlockGetFirstOperation(*body); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op)) {
    bool ret = skc_str_eq(mlirIdentifierStr(mlirOperationGetName(op)), "func.return");
    enum skc_op_kind kind = skc_op_kind_of(op);
    enum skc_aux_kind aux = skc_aux_kind_of(op);
    bool ok = ret || kind == SKC_OP_SCORE || kind == SKC_OP_ATTENTION;
    if (!ok && (aux == SKC_AUX_NONE || !skc_aux_check(op))) {
      free(*ops);
      return aux == SKC_AUX_NONE ? unsupported(op) : false;
    }
    if (*nops == cap) {
      MlirOperation *g = realloc(*ops, sizeof(MlirOperation) * (size_t)(cap *= 2));
      SKC_ASSERT(g);
      *ops = g;
    }
    (*ops)[(*nops)++] = op;
  }
  return check_returned(*ops, *nops) || (free(*ops), false);
}

/* Checks every value's type is a ranked tensor of a known dtype with rank <= MAX_RANK. */
static bool check_type(MlirValue v, MlirLocation loc, const char *what) {
  MlirType t = mlirValueGetType(v);
  struct skc_cg_dtype d;
  if (mlirTypeIsARankedTensor(t) && mlirShapedTypeGetRank(t) <= SKC_CG_MAX_RANK &&
      dtype_of(mlirShapedTypeGetElementType(t), &d))
    return true;
  skc_error_at(loc,
               "unsupported %s type: expected a ranked tensor of f32, f64, f16, bf16 or "
               "i8..i64 with rank <= %d",
               what, SKC_CG_MAX_RANK);
  return false;
}

static struct skc_cg_ref ref_of(struct skc_cg_func *f, MlirValue v, MlirOperation *ops, int nops);

static bool lowered_int(MlirOperation op, const char *attr, int64_t *v) {
  if (skc_attr_get_int(op, attr, v))
    return true;
  skc_error_at(mlirOperationGetLocation(op),
               "%s: attribute '%s' is missing; run lower-kernels "
               "before code generation",
               skc_op_name(skc_op_kind_of(op)), attr);
  return false;
}

static bool step_of(struct skc_cg_func *f, MlirOperation *ops, int nops, MlirOperation op, int inst,
                    struct skc_cg_step *st) {
  enum skc_op_kind kind = skc_op_kind_of(op);
  memset(st, 0, sizeof *st);
  st->kind = kind == SKC_OP_SCORE ? SKC_STEP_SCORE : SKC_STEP_ATTENTION;
  st->op = op;
  st->inst = inst;
  loc_str(mlirOperationGetLocation(op), st->loc, sizeof st->loc);
  st->nin = (int)mlirOperationGetNumOperands(op);
  for (int i = 0; i < st->nin; ++i)
    st->in[i] = ref_of(f, operand(op, i), ops, nops);
  st->out = ref_of(f, result0(op), ops, nops);
  MlirStringRef s;
  if (kind == SKC_OP_SCORE) {
    SKC_ASSERT(skc_attr_get_str(op, "mode", &s) && skc_attr_get_float(op, "slope", &st->slope));
    st->mode = skc_score_mode_parse(s.data, s.length);
    if (st->mode != SKC_SCORE_INPUT) {
      MlirType w = mlirValueGetType(operand(op, 1));
      st->feat = mlirShapedTypeGetDimSize(w, 1);
    }
    return true;
  }
  SKC_ASSERT(skc_attr_get_int(op, "k", &st->topk) && skc_attr_get_int(op, "window", &st->window));
  SKC_ASSERT(skc_attr_get_float(op, "scale", &st->scale) && skc_attr_get_str(op, "gate", &s));
  st->gate = skc_gate_parse(s.data, s.length);
  if (!lowered_int(op, "tile_q", &st->tile_q) || !lowered_int(op, "head_dim", &st->head_dim))
    return false;
  MlirOperation prod = mlirOpResultGetOwner(operand(op, 3));
  SKC_ASSERT(mlirValueIsAOpResult(operand(op, 3)) && skc_op_kind_of(prod) == SKC_OP_SCORE);
  SKC_ASSERT(skc_attr_get_str(prod, "mode", &s));
  st->mode = skc_score_mode_parse(s.data, s.length);
  SKC_ASSERT(skc_attr_get_float(prod, "slope", &st->slope));
  return true;
}

/* The parameter index of result position r, or of the first result returning v. */
static int returned_as(struct skc_cg_func *f, MlirValue v) {
  for (int i = f->nargs; i < f->nparams; ++i)
    if (mlirValueEqual(f->params[i].value, v))
      return i;
  return -1;
}

static struct skc_cg_ref ref_of(struct skc_cg_func *f, MlirValue v, MlirOperation *ops, int nops) {
  struct skc_cg_ref r = {SKC_AT_PARAM, -1, false, rank_of(v), {{0, -1}}};
  if (mlirValueIsAOpResult(v) && skc_aux_is_view(skc_aux_kind_of(mlirOpResultGetOwner(v)))) {
    r = ref_of(f, operand(mlirOpResultGetOwner(v), 0), ops, nops);
    r.view = true;
    r.rank = rank_of(v);
    return r;
  }
  if (mlirValueIsABlockArgument(v))
    r.index = (int)mlirBlockArgumentGetArgNumber(v);
  else if ((r.index = returned_as(f, v)) < 0) {
    int64_t b = -1;
    SKC_ASSERT(skc_attr_get_int(mlirOpResultGetOwner(v), "buffer", &b) && b < f->nbuffers);
    r.where = SKC_AT_BUFFER;
    r.index = (int)b;
  }
  (void)ops, (void)nops;
  return r;
}

/* Dims of every ref: from the parameter, or from the op result's class. */
static void ref_dims(struct scan *s, struct skc_cg_func *f, MlirValue v, struct skc_cg_ref *r) {
  struct skc_cg_param tmp = {.rank = r->rank, .value = v};
  snprintf(tmp.name, sizeof tmp.name, "tmp");
  param_dims(s, f, &tmp, value_index(s, v), false);
  memcpy(r->dims, tmp.dims, sizeof r->dims);
}

static void plan_params(struct scan *s, struct skc_cg_func *f, MlirBlock body, MlirOperation *ops,
                        int nops) {
  MlirOperation ret = ops[nops - 1];
  int nres = (int)mlirOperationGetNumOperands(ret), natt = 0, nsc = 0;
  for (int i = 0; i < nops; ++i)
    natt += skc_op_kind_of(ops[i]) == SKC_OP_ATTENTION,
        nsc += skc_op_kind_of(ops[i]) == SKC_OP_SCORE;
  f->nparams = f->nargs + nres;
  for (int i = 0; i < f->nparams; ++i) {
    struct skc_cg_param *p = &f->params[i];
    p->result = i >= f->nargs;
    p->index = p->result ? i - f->nargs : i;
    p->value = p->result ? operand(ret, p->index) : mlirBlockGetArgument(body, i);
    p->rank = rank_of(p->value);
    dtype_of(mlirShapedTypeGetElementType(mlirValueGetType(p->value)), &p->dtype);
    if (!p->result) {
      arg_role(ops, nops - 1, p->value, p);
      if (arg_source_name(s, p->value, p->name, sizeof p->name))
        continue;
      int count = p->role >= SKC_ROLE_X ? nsc : natt;
      snprintf(p->name, sizeof p->name, "%s", role_name(p->role));
      if (p->role == SKC_ROLE_OTHER || count > 1)
        snprintf(p->name + strlen(p->name), 12, "%d", p->role == SKC_ROLE_OTHER ? i : p->role_op);
      continue;
    }
    /* results: attention outputs are "out", score outputs "u" */
    MlirValue v = p->value;
    p->role = SKC_ROLE_OTHER;
    p->role_op = -1;
    if (mlirValueIsAOpResult(v)) {
      enum skc_op_kind k = skc_op_kind_of(mlirOpResultGetOwner(v));
      p->role = k == SKC_OP_ATTENTION ? SKC_ROLE_OUT
                : k == SKC_OP_SCORE   ? SKC_ROLE_U
                                      : SKC_ROLE_OTHER;
      p->strided = k == SKC_OP_ATTENTION && returned_as(f, v) == i;
    }
    snprintf(p->name, sizeof p->name, "%s", p->role == SKC_ROLE_OTHER ? "res" : role_name(p->role));
    if (nres > 1)
      snprintf(p->name + strlen(p->name), 12, "%d", p->index);
  }
  dedup_names(f);
  for (int i = 0; i < f->nparams; ++i)
    param_dims(s, f, &f->params[i], value_index(s, f->params[i].value), true);
}

/* Copies for results that return an argument or a value already returned earlier. */
static void plan_copies(struct skc_cg_func *f, MlirOperation *ops, int nops) {
  for (int i = f->nargs; i < f->nparams; ++i) {
    MlirValue v = f->params[i].value;
    bool view =
        mlirValueIsAOpResult(v) && skc_aux_is_view(skc_aux_kind_of(mlirOpResultGetOwner(v)));
    struct skc_cg_ref src = {SKC_AT_PARAM, -1, false, f->params[i].rank, {{0, -1}}};
    if (view)
      src = ref_of(f, v, ops, nops); /* a reshaped kernel output or argument */
    else
      src.index =
          mlirValueIsABlockArgument(v) ? (int)mlirBlockArgumentGetArgNumber(v) : returned_as(f, v);
    if (src.where == SKC_AT_PARAM && src.index == i)
      continue;
    struct skc_cg_step *st = &f->steps[f->nsteps++];
    memset(st, 0, sizeof *st);
    st->kind = SKC_STEP_COPY;
    st->in[0] = src;
    st->nin = 1;
    st->out = (struct skc_cg_ref){SKC_AT_PARAM, i, false, f->params[i].rank, {{0, -1}}};
    f->params[i].strided = false;
    if (src.where == SKC_AT_PARAM)
      f->params[src.index].strided = false;
  }
}

/* A matmul (C = A B; the init operand is not read) or transpose step. */
static void aux_step_of(struct skc_cg_func *f, MlirOperation *ops, int nops, MlirOperation op,
                        struct skc_cg_step *st) {
  bool mm = skc_aux_kind_of(op) == SKC_AUX_MATMUL;
  memset(st, 0, sizeof *st);
  st->kind = mm ? SKC_STEP_MATMUL : SKC_STEP_TRANSPOSE;
  st->op = op;
  loc_str(mlirOperationGetLocation(op), st->loc, sizeof st->loc);
  st->nin = mm ? 2 : 1;
  for (int i = 0; i < st->nin; ++i)
    st->in[i] = ref_of(f, operand(op, i), ops, nops);
  st->out = ref_of(f, result0(op), ops, nops);
  if (!mm)
    skc_aux_permutation(op, st->perm, rank_of(result0(op)));
}

static bool plan_steps(struct scan *s, struct skc_cg_func *f, MlirOperation *ops, int nops) {
  int natt = 0, nsc = 0;
  for (int i = 0; i + 1 < nops; ++i) {
    enum skc_aux_kind aux = skc_aux_kind_of(ops[i]);
    if (aux != SKC_AUX_NONE && !skc_aux_is_kernel(aux))
      continue; /* views and inits: no code */
    bool att = skc_op_kind_of(ops[i]) == SKC_OP_ATTENTION;
    struct skc_cg_step *st = &f->steps[f->nsteps];
    if (aux != SKC_AUX_NONE)
      aux_step_of(f, ops, nops, ops[i], st);
    else if (!step_of(f, ops, nops, ops[i], att ? natt : nsc, st))
      return false;
    for (int j = 0; j < st->nin; ++j)
      ref_dims(s, f, operand(ops[i], j), &st->in[j]);
    ref_dims(s, f, result0(ops[i]), &st->out);
    if (st->out.where == SKC_AT_BUFFER)
      f->buffers[st->out.index] = st->out;
    f->nsteps++;
    natt += att, nsc += aux == SKC_AUX_NONE && !att;
  }
  plan_copies(f, ops, nops);
  return true;
}

static bool scan_values(struct scan *s, MlirBlock body, int nargs, MlirOperation *ops, int nops,
                        MlirOperation func) {
  MlirLocation floc = mlirOperationGetLocation(func);
  for (int i = 0; i < nargs; ++i) {
    s->vals[s->nvals++] = mlirBlockGetArgument(body, i);
    if (!check_type(s->vals[i], floc, "argument"))
      return false;
  }
  for (int i = 0; i + 1 < nops; ++i) {
    SKC_ASSERT(s->nvals < MAX_VALUES);
    s->vals[s->nvals++] = result0(ops[i]);
  }
  MlirOperation ret = ops[nops - 1];
  for (intptr_t i = 0; i < mlirOperationGetNumOperands(ret); ++i)
    if (!check_type(operand(ret, (int)i), mlirOperationGetLocation(ret), "result"))
      return false;
  for (int i = 0; i < s->nvals * SKC_CG_MAX_RANK; ++i)
    s->parent[i] = i, s->hint[i] = NULL;
  for (int i = 0; i + 1 < nops; ++i) {
    MlirStringRef m;
    if (skc_op_kind_of(ops[i]) == SKC_OP_ATTENTION)
      tie_attention(s, ops[i]);
    else if (skc_attr_get_str(ops[i], "mode", &m))
      tie_score(s, ops[i], skc_score_mode_parse(m.data, m.length));
  }
  return true;
}

static bool plan_func(MlirOperation func, struct scan *s, struct skc_cg_func *f) {
  MlirStringRef name =
      mlirStringAttrGetValue(mlirOperationGetAttributeByName(func, skc_str("sym_name")));
  snprintf(f->name, sizeof f->name, "%.*s", (int)name.length, name.data);
  loc_str(mlirOperationGetLocation(func), f->loc, sizeof f->loc);
  MlirOperation *ops;
  int nops;
  MlirBlock body;
  if (!collect_ops(func, &ops, &nops, &body))
    return false;
  f->nargs = (int)mlirBlockGetNumArguments(body);
  int64_t nb = 0, align = 64;
  skc_attr_get_int(func, "sparsek.workspace_buffers", &nb);
  skc_attr_get_int(func, "sparsek.workspace_align", &align);
  f->nbuffers = (int)nb;
  f->align = align;
  int nret = nops ? (int)mlirOperationGetNumOperands(ops[nops - 1]) : 0;
  s->nvals = 0;
  s->vals = malloc(sizeof(MlirValue) * (size_t)(f->nargs + nops + 1));
  s->parent = malloc(sizeof(int) * (size_t)(f->nargs + nops + 1) * SKC_CG_MAX_RANK);
  s->hint = malloc(sizeof(char *) * (size_t)(f->nargs + nops + 1) * SKC_CG_MAX_RANK);
  f->params = calloc((size_t)(f->nargs + nret + 1), sizeof *f->params);
  f->syms = calloc((size_t)(f->nargs + nret + 1) * SKC_CG_MAX_RANK, sizeof *f->syms);
  f->steps = calloc((size_t)(nops + nret + 1), sizeof *f->steps);
  f->buffers = calloc((size_t)(nb + 1), sizeof *f->buffers);
  SKC_ASSERT(s->vals && s->parent && s->hint && f->params && f->syms && f->steps && f->buffers);
  bool ok = scan_values(s, body, f->nargs, ops, nops, func);
  if (ok) {
    plan_params(s, f, body, ops, nops);
    ok = plan_steps(s, f, ops, nops);
  }
  free(ops), free(s->vals), free(s->parent), free(s->hint);
  return ok;
}

static bool is_public_func(MlirOperation op) {
  if (!skc_str_eq(mlirIdentifierStr(mlirOperationGetName(op)), "func.func"))
    return false;
  MlirAttribute vis = mlirOperationGetAttributeByName(op, skc_str("sym_visibility"));
  if (!mlirAttributeIsNull(vis) && skc_str_eq(mlirStringAttrGetValue(vis), "private"))
    return false;
  return !mlirBlockIsNull(mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0)));
}

/* Module-wide kernel constants: one SKK_HEAD_DIM / SKK_TILE_Q per translation unit. */
static void module_constants(struct skc_cg_module *m) {
  m->head_dim = -1;
  m->tile_q = 0;
  m->real = "float", m->real_bits = 32;
  for (int i = 0; i < m->nfuncs; ++i)
    for (int j = 0; j < m->funcs[i].nsteps; ++j) {
      const struct skc_cg_step *st = &m->funcs[i].steps[j];
      if (st->kind != SKC_STEP_ATTENTION)
        continue;
      if (st->in[0].where == SKC_AT_PARAM &&
          m->funcs[i].params[st->in[0].index].dtype.bits == 64)
        m->real = "double", m->real_bits = 64; /* f64 test builds: every tensor is f64 */
      m->nattention++;
      m->head_dim = m->head_dim < 0 || m->head_dim == st->head_dim ? st->head_dim : 0;
      if (!m->tile_q)
        m->tile_q = st->tile_q;
    }
  if (m->head_dim < 0)
    m->head_dim = 0;
  for (int i = 0; i < m->nfuncs; ++i)
    m->funcs[i].real = m->real, m->funcs[i].real_bits = m->real_bits;
}

bool skc_cg_plan_create(MlirOperation module, const char *input, const char *src,
                        struct skc_cg_module *out) {
  memset(out, 0, sizeof *out);
  int natt = 0;
  free(skc_collect_ops(module, "sparsek.attention", &natt));
  if (natt == 0) {
    skc_error("no attention found in '%s'", input);
    return false;
  }
  MlirBlock top = mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0));
  int n = 0;
  for (MlirOperation op = mlirBlockGetFirstOperation(top); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op))
    n += is_public_func(op);
  out->funcs = calloc((size_t)n + 1, sizeof *out->funcs);
  SKC_ASSERT(out->funcs);
  struct scan s = {.src = src, .input = input};
  for (MlirOperation op = mlirBlockGetFirstOperation(top); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op)) {
    if (!is_public_func(op))
      continue;
    if (!plan_func(op, &s, &out->funcs[out->nfuncs++]))
      return false;
  }
  module_constants(out);
  return true;
}

void skc_cg_plan_destroy(struct skc_cg_module *m) {
  for (int i = 0; i < m->nfuncs; ++i) {
    free(m->funcs[i].params);
    free(m->funcs[i].syms);
    free(m->funcs[i].steps);
    free(m->funcs[i].buffers);
  }
  free(m->funcs);
  memset(m, 0, sizeof *m);
}
