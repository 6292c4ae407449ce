/* Support checks of the non-sparsek ops codegen accepts (aux_ops.h). */
#include "codegen/aux_ops.h"

#include <string.h>

#include "compiler/diag.h"
#include "dialect/sparsek.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"

/* X(kind, op name) */
#define SKC_AUX_LIST(X)                                                                            \
  X(SKC_AUX_CONST, "arith.constant")                                                               \
  X(SKC_AUX_EMPTY, "tensor.empty")                                                                 \
  X(SKC_AUX_FILL, "linalg.fill")                                                                   \
  X(SKC_AUX_MATMUL, "linalg.matmul")                                                               \
  X(SKC_AUX_TRANSPOSE, "linalg.transpose") X(SKC_AUX_EXPAND, "tensor.expand_shape")                \
      X(SKC_AUX_COLLAPSE, "tensor.collapse_shape")

static const struct {
  enum skc_aux_kind kind;
  const char *name;
} table[] = {
#define SKC_X_ROW(kind, name) {kind, name},
    SKC_AUX_LIST(SKC_X_ROW)
#undef SKC_X_ROW
};
_Static_assert(sizeof table / sizeof *table == SKC_AUX_COLLAPSE, "aux op table");

enum skc_aux_kind skc_aux_kind_of(MlirOperation op) {
  MlirStringRef n = mlirIdentifierStr(mlirOperationGetName(op));
  for (size_t i = 0; i < sizeof table / sizeof *table; ++i)
    if (skc_str_eq(n, table[i].name))
      return table[i].kind;
  return SKC_AUX_NONE;
}

bool skc_aux_is_view(enum skc_aux_kind k) { return k == SKC_AUX_EXPAND || k == SKC_AUX_COLLAPSE; }
bool skc_aux_is_init(enum skc_aux_kind k) {
  return k == SKC_AUX_CONST || k == SKC_AUX_EMPTY || k == SKC_AUX_FILL;
}
bool skc_aux_is_kernel(enum skc_aux_kind k) {
  return k == SKC_AUX_MATMUL || k == SKC_AUX_TRANSPOSE;
}

static bool fail(MlirOperation op, const char *why) {
  MlirStringRef n = mlirIdentifierStr(mlirOperationGetName(op));
  skc_error_at(mlirOperationGetLocation(op), "unsupported op '%.*s': %s", (int)n.length, n.data,
               why);
  return false;
}

static bool static_f32(MlirValue v) {
  MlirType t = mlirValueGetType(v);
  return mlirTypeIsARankedTensor(t) && mlirShapedTypeHasStaticShape(t) &&
         mlirTypeIsAF32(mlirShapedTypeGetElementType(t));
}

/* Every use of op's result is operand `fill_operand` of a linalg.fill, or the init (last
 * operand) of an op of kind a or b. */
static bool only_init_of(MlirOperation op, int fill_operand, enum skc_aux_kind a,
                         enum skc_aux_kind b) {
  MlirValue r = mlirOperationGetResult(op, 0);
  for (MlirOpOperand u = mlirValueGetFirstUse(r); !mlirOpOperandIsNull(u);
       u = mlirOpOperandGetNextUse(u)) {
    MlirOperation user = mlirOpOperandGetOwner(u);
    enum skc_aux_kind k = skc_aux_kind_of(user);
    intptr_t i = mlirOpOperandGetOperandNumber(u);
    bool ok = k == SKC_AUX_FILL ? i == fill_operand
                                : (k == a || k == b) && i == mlirOperationGetNumOperands(user) - 1;
    if (!ok)
      return false;
  }
  return true;
}

static bool check_const(MlirOperation op) {
  MlirAttribute v = mlirOperationGetAttributeByName(op, skc_str("value"));
  if (mlirAttributeIsNull(v) || !mlirAttributeIsAFloat(v) || mlirFloatAttrGetValueDouble(v) != 0)
    return fail(op, "only a scalar 0.0 filling an init tensor is supported");
  if (!only_init_of(op, 0, SKC_AUX_NONE, SKC_AUX_NONE))
    return fail(op, "a constant is supported only as the value of a linalg.fill");
  return true;
}

static void append_cb(MlirStringRef s, void *ud) {
  char *buf = ud;
  size_t n = strlen(buf);
  for (size_t i = 0; i < s.length && n + 1 < 256; ++i)
    buf[n++] = s.data[i];
  buf[n] = 0;
}

/* A linalg.matmul without indexing maps or with the default ones (no transposes). */
static bool plain_matmul(MlirOperation op) {
  static const char plain[] = "[affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) "
                              "-> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>]";
  MlirAttribute maps = mlirOperationGetAttributeByName(op, skc_str("indexing_maps"));
  if (mlirAttributeIsNull(maps))
    return true;
  char buf[256] = "";
  mlirAttributePrint(maps, append_cb, buf);
  return strcmp(buf, plain) == 0;
}

/* The init operand of matmul / transpose: tensor.empty or a fill of 0.0. */
static bool zero_init(MlirValue v) {
  if (!mlirValueIsAOpResult(v))
    return false;
  enum skc_aux_kind k = skc_aux_kind_of(mlirOpResultGetOwner(v));
  return k == SKC_AUX_EMPTY || k == SKC_AUX_FILL;
}

bool skc_aux_check(MlirOperation op) {
  enum skc_aux_kind k = skc_aux_kind_of(op);
  int n = (int)mlirOperationGetNumOperands(op);
  for (int i = 0; i < n && k != SKC_AUX_FILL && k != SKC_AUX_CONST; ++i)
    if (!static_f32(mlirOperationGetOperand(op, i)))
      return fail(op, "codegen supports it on static-shape f32 tensors only");
  switch (k) {
  case SKC_AUX_CONST:
    return check_const(op);
  case SKC_AUX_EMPTY:
    return only_init_of(op, 1, SKC_AUX_MATMUL, SKC_AUX_TRANSPOSE) ||
           fail(op, "an empty tensor is supported only as the init of linalg.fill, "
                    "linalg.matmul or linalg.transpose");
  case SKC_AUX_FILL:
    return only_init_of(op, -1, SKC_AUX_MATMUL, SKC_AUX_NONE) ||
           fail(op, "a fill is supported only as the zero init of linalg.matmul");
  case SKC_AUX_MATMUL:
    if (n != 3 || !zero_init(mlirOperationGetOperand(op, 2)) || !plain_matmul(op))
      return fail(op, "only the plain form C = A B with a zero (or empty) init is supported");
    return true;
  case SKC_AUX_TRANSPOSE:
    return zero_init(mlirOperationGetOperand(op, 1)) || fail(op, "the init must be a tensor.empty");
  default:
    return true;
  }
}

void skc_aux_permutation(MlirOperation op, int64_t *perm, int rank) {
  MlirAttribute p = mlirOperationGetAttributeByName(op, skc_str("permutation"));
  SKC_ASSERT(!mlirAttributeIsNull(p) && mlirAttributeIsADenseI64Array(p));
  SKC_ASSERT(mlirDenseArrayGetNumElements(p) == rank);
  for (int i = 0; i < rank; ++i)
    perm[i] = mlirDenseI64ArrayGetElement(p, i);
}
