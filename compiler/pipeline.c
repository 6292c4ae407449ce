/* The skc pipeline, on one screen (design.md, "Pipeline"): each line runs one pass over the
 * module and, when asked, prints the IR after it. Upstream cleanups run as pipeline strings. */
#include "compiler/pipeline.h"

#include <string.h>

#include "compiler/driver.h"
#include "dialect/sparsek.h"
#include "mlir-c/Pass.h"

static void pipeline_error(MlirStringRef s, void *ud) {
  (void)ud;
  fprintf(stderr, "skc: error: %.*s\n", (int)s.length, s.data);
}

/* Runs one skc pass (or an upstream pipeline when pass is NULL) and prints the IR after it
 * when po->print_ir_after names it. */
static bool stage(MlirContext ctx, MlirOperation m, const struct skc_pipeline_options *po,
                  const char *flag, MlirPass pass, const char *upstream) {
  MlirPassManager pm = mlirPassManagerCreateOnOperation(ctx, skc_str("builtin.module"));
  MlirOpPassManager opm = mlirPassManagerGetAsOpPassManager(pm);
  bool ok = true;
  if (pass.ptr)
    mlirOpPassManagerAddOwnedPass(opm, pass);
  else
    ok = mlirLogicalResultIsSuccess(
        mlirOpPassManagerAddPipeline(opm, skc_str(upstream), pipeline_error, NULL));
  ok = ok && mlirLogicalResultIsSuccess(mlirPassManagerRunOnOp(pm, m));
  mlirPassManagerDestroy(pm);
  const char *want = po->print_ir_after;
  if (ok && want && (strcmp(want, "all") == 0 || strcmp(want, flag) == 0)) {
    fprintf(po->ir_out, "// -----// IR after %s //----- //\n", flag);
    skc_print_op(m, po->ir_out);
  }
  return ok;
}

static const char *const stages[] = {"verify", "raise-attention", "sparsify", "canonicalize",
                                     "fuse",   "tile",            "lower-kernels"};

bool skc_pipeline_has_stage(const char *flag) {
  for (size_t i = 0; i < sizeof stages / sizeof *stages; ++i)
    if (strcmp(stages[i], flag) == 0)
      return true;
  return strcmp(flag, "all") == 0;
}

bool skc_pipeline_run(MlirContext ctx, MlirOperation m, const struct skc_pipeline_options *po) {
  const struct skc_sparsek_options *o = po->sk;
  MlirPass none = {NULL};
  if (!stage(ctx, m, po, "verify", skc_verify_pass_create(o), NULL))
    return false;
  if (!stage(ctx, m, po, "raise-attention", skc_raise_attention_pass_create(o), NULL))
    return false;
  if (po->stop == SKC_STOP_RAISED)
    return true;
  return stage(ctx, m, po, "sparsify", skc_sparsify_pass_create(o), NULL) &&
         stage(ctx, m, po, "verify", skc_verify_pass_create(o), NULL) &&
         stage(ctx, m, po, "canonicalize", none, "canonicalize,cse") &&
         stage(ctx, m, po, "fuse", skc_fuse_pass_create(o), NULL) &&
         stage(ctx, m, po, "tile", skc_tile_pass_create(o), NULL) &&
         stage(ctx, m, po, "lower-kernels", skc_lower_kernels_pass_create(o), NULL);
}
