/* skc-opt: the testing driver lit drives. Parses a file, runs skc passes named by flag
 * (--skc-<pass>) and upstream pipelines (--pass-pipeline=...) in command-line order, and
 * prints the result. --split-input-file processes each `// -----` chunk on its own, keeping
 * the file's line numbers in diagnostics. Exits 1 when any chunk fails. */
#include <stdlib.h>
#include <string.h>

#include "compiler/driver.h"
#include "dialect/sparsek.h"
#include "mlir-c/Dialect/Linalg.h"
#include "mlir-c/Pass.h"
#include "mlir-c/Transforms.h"

/* One step of the command-line pipeline: an skc pass or an upstream pipeline string. */
struct step {
  const struct skc_pass_info *pass;
  const char *pipeline;
};

struct opt_args {
  const char *input, *output;
  bool split;
  struct step steps[64];
  int nsteps;
  struct skc_sparsek_options sk;
};

static void usage(FILE *out) {
  fputs("usage: skc-opt [options] <file.mlir>\n\n"
        "Runs skc passes and upstream pipelines over an MLIR file and prints the result.\n\n"
        "  --skc-<pass>               run an skc pass (in command-line order):\n",
        out);
  for (int i = 0; i < skc_pass_count; ++i)
    fprintf(out, "      --skc-%-20s %s\n", skc_passes[i].flag, skc_passes[i].summary);
  fputs("  --pass-pipeline=PIPELINE   run an upstream pipeline, e.g. 'canonicalize,cse'\n"
        "  --split-input-file         process each '// -----' chunk separately\n"
        "  -o FILE                    write the result to FILE (default stdout)\n"
        "  --help                     print this help\n\n",
        out);
  skc_print_sparsek_help(out);
}

static bool add_step(struct opt_args *a, struct step s) {
  if (a->nsteps == (int)(sizeof a->steps / sizeof *a->steps)) {
    skc_error("too many passes on the command line");
    return false;
  }
  a->steps[a->nsteps++] = s;
  return true;
}

/* Returns 0 to go on, 1 on error, 2 after --help. */
static int parse_args(int argc, char **argv, struct opt_args *a) {
  skc_sparsek_options_init(&a->sk);
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i];
    int r = skc_parse_sparsek_flag(arg, &a->sk);
    if (r < 0)
      return 1;
    if (r > 0)
      continue;
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      usage(stdout);
      return 2;
    } else if (strcmp(arg, "--split-input-file") == 0) {
      a->split = true;
    } else if (strncmp(arg, "--pass-pipeline=", 16) == 0) {
      if (!add_step(a, (struct step){NULL, arg + 16}))
        return 1;
    } else if (strncmp(arg, "--skc-", 6) == 0) {
      const struct skc_pass_info *p = skc_pass_find(arg + 6);
      if (!p) {
        skc_error("unknown pass '%s' (see skc-opt --help)", arg);
        return 1;
      }
      if (!add_step(a, (struct step){p, NULL}))
        return 1;
    } else if (skc_parse_common_arg(argc, argv, &i, "skc-opt", &a->input, &a->output) < 0) {
      return 1;
    }
  }
  return skc_require_input(a->input, "skc-opt") ? 0 : 1;
}

static void pipeline_error(MlirStringRef s, void *ud) {
  (void)ud;
  fprintf(stderr, "skc-opt: error: %.*s\n", (int)s.length, s.data);
}

static bool run_steps(MlirContext ctx, MlirOperation m, const struct opt_args *a) {
  MlirPassManager pm = mlirPassManagerCreateOnOperation(ctx, skc_str("builtin.module"));
  MlirOpPassManager opm = mlirPassManagerGetAsOpPassManager(pm);
  bool ok = true;
  for (int i = 0; i < a->nsteps && ok; ++i) {
    if (a->steps[i].pass)
      mlirOpPassManagerAddOwnedPass(opm, a->steps[i].pass->create(&a->sk));
    else
      ok = mlirLogicalResultIsSuccess(mlirOpPassManagerAddPipeline(
          opm, skc_str(a->steps[i].pipeline), pipeline_error, NULL));
  }
  ok = ok && mlirLogicalResultIsSuccess(mlirPassManagerRunOnOp(pm, m));
  mlirPassManagerDestroy(pm);
  return ok;
}

/* Parses and transforms one chunk; prints it to out on success. */
static bool process(MlirContext ctx, struct skc_diag *d, const char *text,
                    const struct opt_args *a, FILE *out) {
  int before = d->errors;
  MlirOperation m = skc_parse(ctx, d, a->input, text);
  if (mlirOperationIsNull(m))
    return false;
  bool ok = run_steps(ctx, m, a) && d->errors == before;
  if (ok)
    skc_print_op(m, out);
  mlirOperationDestroy(m);
  return ok;
}

/* Splits at lines `// -----`; each chunk is padded with newlines so that its line numbers
 * are the file's. Returns true when every chunk succeeded. */
static bool process_split(MlirContext ctx, struct skc_diag *d, char *text,
                          const struct opt_args *a, FILE *out) {
  bool ok = true;
  int line = 1;
  for (char *chunk = text; chunk;) {
    char *sep = strstr(chunk, "// -----");
    while (sep && sep != text && sep[-1] != '\n')
      sep = strstr(sep + 1, "// -----");
    if (sep)
      *sep = 0;
    size_t n = strlen(chunk);
    char *padded = malloc((size_t)line + n);
    SKC_ASSERT(padded);
    memset(padded, '\n', (size_t)line - 1);
    memcpy(padded + line - 1, chunk, n + 1);
    if (chunk != text)
      fputs("// -----\n", out);
    ok = process(ctx, d, padded, a, out) && ok;
    free(padded);
    for (char *p = chunk; *p; ++p)
      line += *p == '\n';
    if (!sep)
      break;
    chunk = strchr(sep + 1, '\n');
    if (chunk)
      ++chunk, ++line;
  }
  return ok;
}

int main(int argc, char **argv) {
  struct opt_args a = {0};
  int r = parse_args(argc, argv, &a);
  if (r)
    return r == 2 ? 0 : 1;
  char *text;
  struct skc_diag d;
  MlirContext ctx = skc_driver_start(a.input, &d, &text);
  if (mlirContextIsNull(ctx))
    return 1;
  struct skc_output out;
  bool ok = skc_output_open(&out, a.output);
  if (ok) {
    ok = a.split ? process_split(ctx, &d, text, &a, out.f) : process(ctx, &d, text, &a, out.f);
    ok = ok ? skc_output_commit(&out) : (skc_output_abort(&out), false);
  }
  mlirContextDestroy(ctx);
  free(text);
  return ok ? 0 : 1;
}
