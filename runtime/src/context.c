/* skrt context: what a kernel launch needs besides its tensors, namely the CPU thread count
 * and the CUDA stream. ctx == NULL everywhere means CPU with the OpenMP default. */
#include "skrt/base.h"

#include <omp.h>
#include <stdlib.h>

struct skrt_context {
  int num_threads;   /* > 0 */
  void *cuda_stream; /* cudaStream_t or NULL */
};

int skrt_context_create(const struct skrt_context_options *opts, struct skrt_context **out) {
  if (!out)
    return skrt_error(SKRT_ERR_NULL, "skrt_context_create: out is NULL");
  *out = NULL;
  struct skrt_context *ctx = malloc(sizeof(*ctx));
  if (!ctx)
    return skrt_error(SKRT_ERR_NOMEM, "skrt_context_create: out of memory");
  ctx->num_threads = opts && opts->num_threads > 0 ? opts->num_threads : omp_get_max_threads();
  ctx->cuda_stream = opts ? opts->cuda_stream : NULL;
  *out = ctx;
  return SKRT_OK;
}

void skrt_context_destroy(struct skrt_context *ctx) { free(ctx); }

int skrt_context_num_threads(const struct skrt_context *ctx) {
  return ctx ? ctx->num_threads : omp_get_max_threads();
}

void *skrt_context_cuda_stream(const struct skrt_context *ctx) {
  return ctx ? ctx->cuda_stream : NULL;
}
