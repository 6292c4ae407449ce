/* skc code generation: from the module that lower-kernels produced to <name>.h (the ABI),
 * <name>.c (C/OpenMP) and, unless --emit stops at the sources, lib<name>.a and
 * lib<name>.so built with cc. Every output appears atomically in the output directory
 * (written in a temporary directory next to it and renamed); nothing is left on failure. */
#ifndef SKC_CODEGEN_H
#define SKC_CODEGEN_H

#include <stdbool.h>

#include "mlir-c/IR.h"
#include "passes/passes.h"

enum skc_codegen_emit { SKC_CODEGEN_C, SKC_CODEGEN_CUDA, SKC_CODEGEN_LIB };

struct skc_codegen_options {
  const char *input;   /* the model path as given (provenance, argument names) */
  const char *out_dir; /* NULL: "." */
  const char *name;    /* NULL: the input's stem, made a C identifier */
  int emit;            /* enum skc_codegen_emit */
  const struct skc_sparsek_options *sk;
};

/* Emits (and builds) the library. False after printing an error. */
bool skc_codegen_run(MlirOperation module, const struct skc_codegen_options *o);

/* Where the build finds cc, the runtime headers, DLPack and libskrt.a: baked in when skc was
 * built, each overridable by an environment variable (SKC_CC, SKC_AR, SKC_RUNTIME_INCLUDE,
 * SKC_RUNTIME_DIR, SKC_DLPACK_INCLUDE, SKC_SKRT_LIB; cuda: SKC_NVCC, SKC_SKRT_CUDA_LIB,
 * SKC_CUDA_ARCH). */
struct skc_build_paths {
  const char *cc, *ar, *runtime_include, *runtime_dir, *dlpack_include, *skrt_lib;
  const char *nvcc, *skrt_cuda_lib, *cuda_arch; /* SKC_NVCC, SKC_SKRT_CUDA_LIB, SKC_CUDA_ARCH */
};
void skc_build_paths_get(struct skc_build_paths *p);

/* Compiles dir/<name>.c into dir/lib<name>.a and dir/lib<name>.so. False after printing the
 * failing command and its output. */
bool skc_build_library(const struct skc_build_paths *p, const char *dir, const char *name);
/* The same for dir/<name>.cu with nvcc, linking libskrt_cuda.a, libskrt.a and cudart. */
bool skc_build_cuda_library(const struct skc_build_paths *p, const char *dir, const char *name);

#endif
