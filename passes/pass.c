/* Pass plumbing shared by every skc pass: the external-pass wrapper (MLIR C API passes cannot
 * be registered by name, so skc keeps its own table), the pass table expanded from
 * SKC_PASS_LIST, option defaults and an op collector (collect first, mutate after). */
#include "passes/passes.h"

#include <stdlib.h>
#include <string.h>

#include "dialect/sparsek.h"

void skc_sparsek_options_init(struct skc_sparsek_options *o) {
  *o = (struct skc_sparsek_options){
      .k = 64, .window = 64, .gate = SKC_GATE_KV, .score_mode = SKC_SCORE_HIDDEN,
      .slope = 0.0, .target = SKC_TARGET_CPU};
}

#define SKC_X_ENTRY(stem, flag, summary) {flag, summary, skc_##stem##_pass_create},
const struct skc_pass_info skc_passes[] = {SKC_PASS_LIST(SKC_X_ENTRY)};
#undef SKC_X_ENTRY
#define SKC_X_ONE(stem, flag, summary) +1
enum { SKC_PASS_COUNT = 0 SKC_PASS_LIST(SKC_X_ONE) };
#undef SKC_X_ONE
_Static_assert(sizeof skc_passes / sizeof *skc_passes == SKC_PASS_COUNT, "pass table");
const int skc_pass_count = SKC_PASS_COUNT;

const struct skc_pass_info *skc_pass_find(const char *flag) {
  for (int i = 0; i < skc_pass_count; ++i)
    if (strcmp(skc_passes[i].flag, flag) == 0)
      return &skc_passes[i];
  return NULL;
}

struct pass_state {
  skc_pass_run_fn run;
  const struct skc_sparsek_options *opts;
};

static void noop(void *ud) { (void)ud; }
static void destruct(void *ud) { free(ud); }

static void *clone(void *ud) {
  struct pass_state *c = malloc(sizeof *c);
  if (c)
    *c = *(struct pass_state *)ud;
  return c;
}

static void run(MlirOperation op, MlirExternalPass pass, void *ud) {
  struct pass_state *s = ud;
  s->run(op, pass, s->opts);
}

MlirPass skc_pass_make(void *id, const char *flag, const char *summary, skc_pass_run_fn fn,
                       const struct skc_sparsek_options *o) {
  struct pass_state *s = malloc(sizeof *s);
  if (!s)
    return (MlirPass){NULL};
  *s = (struct pass_state){fn, o};
  MlirExternalPassCallbacks cb = {noop, destruct, NULL, clone, run};
  return mlirCreateExternalPass(mlirTypeIDCreate(id), skc_str(flag), skc_str(flag),
                                skc_str(summary), skc_str("builtin.module"), 0, NULL, cb, s);
}

MlirOperation skc_op_create_before(MlirOperation before, const char *name, intptr_t nops,
                                   const MlirValue *ops, MlirType result, intptr_t nattrs,
                                   const MlirNamedAttribute *attrs) {
  MlirOperationState st = mlirOperationStateGet(skc_str(name), mlirOperationGetLocation(before));
  mlirOperationStateAddOperands(&st, nops, ops);
  mlirOperationStateAddResults(&st, 1, &result);
  mlirOperationStateAddAttributes(&st, nattrs, attrs);
  MlirOperation op = mlirOperationCreate(&st);
  mlirBlockInsertOwnedOperationBefore(mlirOperationGetBlock(before), before, op);
  return op;
}

MlirNamedAttribute skc_named_attr(MlirContext ctx, const char *name, MlirAttribute a) {
  return mlirNamedAttributeGet(mlirIdentifierGet(ctx, skc_str(name)), a);
}

struct collect {
  const char *name;
  MlirOperation *ops;
  int n, cap;
};

static MlirWalkResult collect_one(MlirOperation op, void *ud) {
  struct collect *c = ud;
  if (!skc_str_eq(mlirIdentifierStr(mlirOperationGetName(op)), c->name))
    return MlirWalkResultAdvance;
  if (c->n == c->cap) {
    int cap = c->cap ? 2 * c->cap : 16;
    MlirOperation *p = realloc(c->ops, (size_t)cap * sizeof *p);
    if (!p)
      return MlirWalkResultInterrupt;
    c->ops = p;
    c->cap = cap;
  }
  c->ops[c->n++] = op;
  return MlirWalkResultAdvance;
}

MlirOperation *skc_collect_ops(MlirOperation root, const char *name, int *count) {
  struct collect c = {name, NULL, 0, 0};
  mlirOperationWalk(root, collect_one, &c, MlirWalkPreOrder);
  *count = c.n;
  return c.ops;
}
