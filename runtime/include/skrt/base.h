/* skrt base: status codes, thread-local error messages and the execution context. */
#ifndef SKRT_BASE_H
#define SKRT_BASE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SKRT_VERSION_STRING "0.1.0"

/* X-macro: every status once; the name table is expanded from it. */
#define SKRT_STATUS_LIST(X)                                                                  \
  X(SKRT_OK, "ok")                                                                           \
  X(SKRT_ERR_NULL, "null pointer")                                                           \
  X(SKRT_ERR_ARG, "invalid argument")                                                        \
  X(SKRT_ERR_SHAPE, "shape mismatch")                                                        \
  X(SKRT_ERR_DTYPE, "unsupported dtype")                                                     \
  X(SKRT_ERR_DEVICE, "wrong device")                                                         \
  X(SKRT_ERR_NONFINITE, "non-finite value")                                                  \
  X(SKRT_ERR_NOMEM, "out of memory")                                                         \
  X(SKRT_ERR_CUDA, "cuda error")                                                             \
  X(SKRT_ERR_STATE, "invalid state")

typedef enum skrt_status {
#define SKRT_X_ENUM(name, text) name,
  SKRT_STATUS_LIST(SKRT_X_ENUM)
#undef SKRT_X_ENUM
  SKRT_STATUS_COUNT
} skrt_status;

/* Short name of a status ("shape mismatch"); "unknown status" for out-of-range values. */
const char *skrt_status_string(int status);

/* Message of the last failure on this thread; "" when none. Never NULL. */
const char *skrt_last_error(void);

/* Records a printf-style message for this thread and returns `status` (for `return
 * skrt_error(SKRT_ERR_ARG, "k must be > 0, got %g", k);`). Used by generated code too. */
int skrt_error(int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

void skrt_clear_error(void);

/* Execution context: thread count for CPU kernels, stream for CUDA kernels. Every kernel
 * entry point accepts ctx == NULL, meaning CPU with the default OpenMP thread count. */
struct skrt_context;

struct skrt_context_options {
  int num_threads;   /* <= 0: OpenMP default */
  void *cuda_stream; /* cudaStream_t; NULL: default stream */
};

int skrt_context_create(const struct skrt_context_options *opts, struct skrt_context **out);
void skrt_context_destroy(struct skrt_context *ctx);
/* Thread count kernels should use; ctx may be NULL. */
int skrt_context_num_threads(const struct skrt_context *ctx);
/* Stream for CUDA kernels; NULL for ctx == NULL. */
void *skrt_context_cuda_stream(const struct skrt_context *ctx);

#ifdef __cplusplus
}
#endif
#endif
