/* skc: the user-facing compiler driver.
 *
 *   skc [options] model.mlir
 *
 * Reads a tensor program, runs the pipeline (compiler/pipeline.c) and emits, by --emit:
 * mlir (after raise-attention), sparsek (after the sparsek pipeline), c / cuda (sources),
 * lib (the default: sources plus lib<name>.a and lib<name>.so). Every failure prints a clear
 * error and exits 1; no partial output files are left behind. */
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"
#include "compiler/driver.h"
#include "compiler/pipeline.h"
#include "mlir-c/Pass.h"
#include "mlir-c/Transforms.h"

#define SKC_EMIT_LIST(X)                                                                     \
  X(SKC_EMIT_MLIR, "mlir") X(SKC_EMIT_SPARSEK, "sparsek") X(SKC_EMIT_C, "c")                 \
      X(SKC_EMIT_CUDA, "cuda") X(SKC_EMIT_LIB, "lib")
#define SKC_X_ENUM(kind, name) kind,
enum skc_emit { SKC_EMIT_LIST(SKC_X_ENUM) SKC_EMIT_COUNT };
#undef SKC_X_ENUM
#define SKC_X_NAME(kind, name) name,
static const char *const emit_names[] = {SKC_EMIT_LIST(SKC_X_NAME)};
#undef SKC_X_NAME
_Static_assert(sizeof emit_names / sizeof *emit_names == SKC_EMIT_COUNT, "emit table");

struct skc_args {
  const char *input, *output, *name, *print_ir_after;
  int emit;
  struct skc_sparsek_options sk;
};

static void usage(FILE *out) {
  fputs("usage: skc [options] <model.mlir>\n\n"
        "Compiles the dense causal attention of a tensor program (MLIR func + linalg/tensor/\n"
        "arith) into SparseK attention kernels with a C ABI.\n\n"
        "Options:\n"
        "  --help                     print this help and exit\n"
        "  --version                  print the version and exit\n"
        "  -o PATH                    output file (--emit=mlir|sparsek; default stdout) or\n"
        "                             directory (--emit=c|cuda|lib; default .)\n"
        "  --emit=STAGE               mlir: IR after raise-attention; sparsek: IR after the\n"
        "                             sparsek pipeline; c or cuda: <name>.h and <name>.c/.cu;\n"
        "                             lib: sources plus lib<name>.a and lib<name>.so (default)\n"
        "  --name=NAME                library and entry-point prefix (default: input file stem)\n"
        "  --print-ir-after=PASS      print the IR to stderr after PASS (or all)\n\n",
        out);
  skc_print_sparsek_help(out);
  fputs("\nEnvironment (overrides of the paths baked in at build time):\n"
        "  SKC_CC, SKC_AR, SKC_NVCC   compilers and archiver used for --emit=lib\n"
        "  SKC_RUNTIME_INCLUDE, SKC_RUNTIME_DIR, SKC_DLPACK_INCLUDE\n"
        "                             runtime headers (skrt.h, kernels/) and dlpack/dlpack.h\n"
        "  SKC_SKRT_LIB, SKC_SKRT_CUDA_LIB\n"
        "                             libskrt.a / libskrt_cuda.a linked into lib<name>.so\n"
        "  SKC_CUDA_ARCH              nvcc architecture (default sm_90a)\n",
        out);
}

static int emit_parse(const char *v) {
  for (int i = 0; i < SKC_EMIT_COUNT; ++i)
    if (strcmp(emit_names[i], v) == 0)
      return i;
  return -1;
}

/* Parses one `--flag=value` driver option; 1 done, 0 not one, -1 error printed. */
static int parse_driver_flag(const char *arg, struct skc_args *a) {
  if (strncmp(arg, "--emit=", 7) == 0) {
    if ((a->emit = emit_parse(arg + 7)) >= 0)
      return 1;
    skc_error("invalid value '%s' for --emit: expected mlir, sparsek, c, cuda or lib", arg + 7);
    return -1;
  }
  if (strncmp(arg, "--print-ir-after=", 17) == 0) {
    a->print_ir_after = arg + 17;
    if (skc_pipeline_has_stage(a->print_ir_after))
      return 1;
    skc_error("invalid value '%s' for --print-ir-after: not a pass of the pipeline",
              a->print_ir_after);
    return -1;
  }
  if (strncmp(arg, "--name=", 7) == 0) {
    a->name = arg + 7;
    for (const char *p = a->name; *p; ++p)
      if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (p > a->name && *p >= '0' && *p <= '9')) ) {
        skc_error("invalid value '%s' for --name: expected a C identifier", a->name);
        return -1;
      }
    return *a->name ? 1 : (skc_error("--name needs a value"), -1);
  }
  return 0;
}

/* --emit=cuda implies --target=cuda (tile and lower-kernels read the target); an explicit
 * --target=cpu with it is a contradiction. Returns 0 or 1 after an error. */
static int target_for_emit(int argc, char **argv, struct skc_args *a) {
  if (a->emit != SKC_EMIT_CUDA || a->sk.target == SKC_TARGET_CUDA)
    return 0;
  for (int i = 1; i < argc; ++i)
    if (strcmp(argv[i], "--target=cpu") == 0) {
      skc_error("--emit=cuda contradicts --target=cpu");
      return 1;
    }
  a->sk.target = SKC_TARGET_CUDA;
  return 0;
}

/* Returns 0 to go on, 1 on error, 2 after --help/--version. */
static int parse_args(int argc, char **argv, struct skc_args *a) {
  skc_sparsek_options_init(&a->sk);
  a->emit = SKC_EMIT_LIB;
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i];
    int r = skc_parse_sparsek_flag(arg, &a->sk);
    if (!r)
      r = parse_driver_flag(arg, a);
    if (r < 0)
      return 1;
    if (r > 0)
      continue;
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      usage(stdout);
      return 2;
    } else if (strcmp(arg, "--version") == 0) {
      printf("skc %s (SparseK attention compiler; MLIR 22)\n", SKC_VERSION);
      return 2;
    } else if (skc_parse_common_arg(argc, argv, &i, "skc", &a->input, &a->output) < 0) {
      return 1;
    }
  }
  if (!skc_require_input(a->input, "skc"))
    return 1;
  return target_for_emit(argc, argv, a);
}

/* Prints the module to -o (or stdout), atomically. */
static bool write_ir(MlirOperation m, const char *path) {
  struct skc_output out;
  if (!skc_output_open(&out, path))
    return false;
  skc_print_op(m, out.f);
  return skc_output_commit(&out);
}

static bool compile(MlirContext ctx, MlirOperation m, const struct skc_args *a) {
  struct skc_pipeline_options po = {
      .sk = &a->sk,
      .stop = a->emit == SKC_EMIT_MLIR ? SKC_STOP_RAISED : SKC_STOP_LOWERED,
      .print_ir_after = a->print_ir_after,
      .ir_out = stderr,
  };
  if (!skc_pipeline_run(ctx, m, &po))
    return false;
  if (a->emit == SKC_EMIT_MLIR || a->emit == SKC_EMIT_SPARSEK)
    return write_ir(m, a->output);
  struct skc_codegen_options co = {
      .input = a->input,
      .out_dir = a->output ? a->output : ".",
      .name = a->name,
      .emit = a->emit == SKC_EMIT_C      ? SKC_CODEGEN_C
              : a->emit == SKC_EMIT_CUDA ? SKC_CODEGEN_CUDA
                                         : SKC_CODEGEN_LIB,
      .sk = &a->sk,
  };
  return skc_codegen_run(m, &co);
}

int main(int argc, char **argv) {
  struct skc_args a = {0};
  int r = parse_args(argc, argv, &a);
  if (r)
    return r == 2 ? 0 : 1;
  char *text;
  struct skc_diag d;
  MlirContext ctx = skc_driver_start(a.input, &d, &text);
  if (mlirContextIsNull(ctx))
    return 1;
  MlirOperation m = skc_parse(ctx, &d, a.input, text);
  bool ok = !mlirOperationIsNull(m) && compile(ctx, m, &a) && d.errors == 0;
  if (!mlirOperationIsNull(m))
    mlirOperationDestroy(m);
  mlirContextDestroy(ctx);
  free(text);
  return ok ? 0 : 1;
}
