/* The sparsek dialect from C: the op/gate/mode name tables (expanded from the X-macro lists
 * in sparsek.h), loading the IRDL definition embedded at build time (skc_sparsek_irdl, made by
 * cmake/embed.cmake from dialect/sparsek.irdl.mlir), and attribute accessors. */
#include "dialect/sparsek.h"

#include <string.h>

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Dialect/Arith.h"
#include "mlir-c/Dialect/Func.h"
#include "mlir-c/Dialect/IRDL.h"
#include "mlir-c/Dialect/Linalg.h"
#include "mlir-c/Dialect/Math.h"
#include "mlir-c/Dialect/SCF.h"
#include "mlir-c/Dialect/Tensor.h"

extern const char skc_sparsek_irdl[];

#define SKC_X_NAME(kind, name) name,
static const char *const op_names[] = {SKC_OP_LIST(SKC_X_NAME)};
static const char *const gate_names[] = {SKC_GATE_LIST(SKC_X_NAME)};
static const char *const mode_names[] = {SKC_SCORE_LIST(SKC_X_NAME)};
#undef SKC_X_NAME
_Static_assert(sizeof op_names / sizeof *op_names == SKC_OP_COUNT, "op table");
_Static_assert(sizeof gate_names / sizeof *gate_names == SKC_GATE_COUNT, "gate table");
_Static_assert(sizeof mode_names / sizeof *mode_names == SKC_SCORE_COUNT, "mode table");

MlirStringRef skc_str(const char *s) { return mlirStringRefCreateFromCString(s); }

bool skc_str_eq(MlirStringRef a, const char *b) {
  size_t n = strlen(b);
  return a.length == n && memcmp(a.data, b, n) == 0;
}

const char *skc_op_name(enum skc_op_kind kind) {
  return kind >= 0 && kind < SKC_OP_COUNT ? op_names[kind] : "?";
}

enum skc_op_kind skc_op_kind_of(MlirOperation op) {
  MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(op));
  for (int i = 0; i < SKC_OP_COUNT; ++i)
    if (skc_str_eq(name, op_names[i]))
      return (enum skc_op_kind)i;
  return SKC_OP_NONE;
}

static int lookup(const char *const *names, int count, const char *s, size_t len) {
  for (int i = 0; i < count; ++i)
    if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
      return i;
  return -1;
}

const char *skc_gate_name(int g) { return g >= 0 && g < SKC_GATE_COUNT ? gate_names[g] : "?"; }
const char *skc_score_mode_name(int m) {
  return m >= 0 && m < SKC_SCORE_COUNT ? mode_names[m] : "?";
}
int skc_gate_parse(const char *s, size_t len) { return lookup(gate_names, SKC_GATE_COUNT, s, len); }
int skc_score_mode_parse(const char *s, size_t len) {
  return lookup(mode_names, SKC_SCORE_COUNT, s, len);
}

bool skc_dialects_load(MlirContext ctx) {
  MlirDialectHandle handles[] = {
      mlirGetDialectHandle__func__(),   mlirGetDialectHandle__arith__(),
      mlirGetDialectHandle__linalg__(), mlirGetDialectHandle__tensor__(),
      mlirGetDialectHandle__math__(),   mlirGetDialectHandle__scf__(),
      mlirGetDialectHandle__irdl__(),
  };
  for (size_t i = 0; i < sizeof handles / sizeof *handles; ++i)
    mlirDialectHandleLoadDialect(handles[i], ctx);
  MlirModule irdl = mlirModuleCreateParse(ctx, skc_str(skc_sparsek_irdl));
  if (mlirModuleIsNull(irdl))
    return false;
  bool ok = mlirLogicalResultIsSuccess(mlirLoadIRDLDialects(irdl));
  mlirModuleDestroy(irdl);
  return ok;
}

/* ---- attributes --------------------------------------------------------------------- */

static MlirAttribute attr(MlirOperation op, const char *name) {
  return mlirOperationGetAttributeByName(op, skc_str(name));
}

bool skc_attr_get_int(MlirOperation op, const char *name, int64_t *out) {
  MlirAttribute a = attr(op, name);
  if (mlirAttributeIsNull(a) || !mlirAttributeIsAInteger(a))
    return false;
  *out = mlirIntegerAttrGetValueInt(a);
  return true;
}

bool skc_attr_get_float(MlirOperation op, const char *name, double *out) {
  MlirAttribute a = attr(op, name);
  if (mlirAttributeIsNull(a))
    return false;
  if (mlirAttributeIsAFloat(a))
    *out = mlirFloatAttrGetValueDouble(a);
  else if (mlirAttributeIsAInteger(a))
    *out = (double)mlirIntegerAttrGetValueInt(a);
  else
    return false;
  return true;
}

bool skc_attr_get_str(MlirOperation op, const char *name, MlirStringRef *out) {
  MlirAttribute a = attr(op, name);
  if (mlirAttributeIsNull(a) || !mlirAttributeIsAString(a))
    return false;
  *out = mlirStringAttrGetValue(a);
  return true;
}

static void set(MlirOperation op, const char *name, MlirAttribute a) {
  mlirOperationSetAttributeByName(op, skc_str(name), a);
}

void skc_attr_set_int(MlirOperation op, const char *name, int64_t v) {
  MlirContext ctx = mlirOperationGetContext(op);
  set(op, name, mlirIntegerAttrGet(mlirIntegerTypeGet(ctx, 64), v));
}

void skc_attr_set_float(MlirOperation op, const char *name, double v) {
  MlirContext ctx = mlirOperationGetContext(op);
  set(op, name, mlirFloatAttrDoubleGet(ctx, mlirF64TypeGet(ctx), v));
}

void skc_attr_set_str(MlirOperation op, const char *name, const char *v) {
  set(op, name, mlirStringAttrGet(mlirOperationGetContext(op), skc_str(v)));
}

void skc_attr_set_bool(MlirOperation op, const char *name, bool v) {
  set(op, name, mlirBoolAttrGet(mlirOperationGetContext(op), v));
}
