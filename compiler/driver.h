/* Driver support shared by skc and skc-opt: reading the input, creating a context with the
 * skc dialects, parsing with the checks MLIR leaves to the caller, command-line values, and
 * output files that appear only when complete (write to a temporary, rename on success). */
#ifndef SKC_DRIVER_H
#define SKC_DRIVER_H

#include <stdbool.h>
#include <stdio.h>
#include "compiler/diag.h"
#include "mlir-c/IR.h"
#include "passes/passes.h"

#define SKC_VERSION "0.1.0"

/* Reads a whole file into a NUL-terminated buffer (free() it). Prints the error. */
char *skc_read_file(const char *path, size_t *len);

/* A driver's start: reads `input` into *text (free() it), registers the upstream passes,
 * points d at the source and returns a context (see skc_context_create); a null context
 * after printing the error when the input cannot be read. */
MlirContext skc_driver_start(const char *input, struct skc_diag *d, char **text);

/* A context with threading off, diagnostics routed to d and the skc dialects loaded. */
MlirContext skc_context_create(struct skc_diag *d);

/* Parses `text` (named `name` in locations) into a module. On failure returns a null op
 * after making sure a diagnostic was printed (MLIR prints none for a sparsek op written in
 * custom syntax; this names the op and where). */
MlirOperation skc_parse(MlirContext ctx, struct skc_diag *d, const char *name, const char *text);

/* Parses one --sparsek-..., --target, --grad or --decode flag into o. Returns 1 when `arg` was such
 * a flag, 0 when it is not one of them, -1 after printing an error for a bad value. */
int skc_parse_sparsek_flag(const char *arg, struct skc_sparsek_options *o);
/* The arguments every driver shares, at argv[*i]: `-o PATH` (consumes the next argument
 * into *output) and the one input file. Returns 1 when taken, -1 after an error naming
 * `tool` ("skc"): an unknown option, a second input, `-o` without a path. */
int skc_parse_common_arg(int argc, char **argv, int *i, const char *tool, const char **input,
                         const char **output);

/* Errors unless an input was given; true when one was. */
bool skc_require_input(const char *input, const char *tool);

/* Help lines for those flags. */
void skc_print_sparsek_help(FILE *out);

/* An output that appears atomically: stdout when path is NULL or "-". */
struct skc_output {
  FILE *f;
  char *tmp, *path;
};
bool skc_output_open(struct skc_output *out, const char *path);
/* Renames the temporary into place; false (with an error) on any write failure. */
bool skc_output_commit(struct skc_output *out);
/* Removes the temporary. */
void skc_output_abort(struct skc_output *out);

/* Prints op (a module) to f. */
void skc_print_op(MlirOperation op, FILE *f);

#endif
