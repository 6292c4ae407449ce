/* The skc pipeline (compiler/pipeline.c): one stage per pass, in order. */
#ifndef SKC_PIPELINE_H
#define SKC_PIPELINE_H

#include <stdbool.h>
#include <stdio.h>
#include "mlir-c/IR.h"
#include "passes/passes.h"

/* Where the pipeline stops: after raise-attention (--emit=mlir) or after the whole sparsek
 * pipeline (--emit=sparsek and every code-emitting stage). */
enum skc_stop { SKC_STOP_RAISED, SKC_STOP_LOWERED };

struct skc_pipeline_options {
  const struct skc_sparsek_options *sk;
  enum skc_stop stop;
  const char *print_ir_after; /* a pass flag, "all", or NULL */
  FILE *ir_out;               /* where --print-ir-after prints (stderr) */
};

/* Runs the pipeline over module m. False after a diagnostic when a pass fails. */
bool skc_pipeline_run(MlirContext ctx, MlirOperation m, const struct skc_pipeline_options *po);

/* True when `flag` names a pipeline stage (for validating --print-ir-after). */
bool skc_pipeline_has_stage(const char *flag);

#endif
