/* skrt: the SparseK attention runtime. Public C ABI, one umbrella header.
 *
 * Semantics follow shared/spec/sparsek.md (equation tags S1..S12). Every entry point returns
 * 0 (SKRT_OK) on success or a nonzero skrt_status with a message readable through
 * skrt_last_error() on the calling thread. Nothing here aborts or exits on bad input. */
#ifndef SKRT_H
#define SKRT_H

#include "skrt/base.h"      /* status codes, errors, contexts */
#include "skrt/sparsek.h"   /* SparseK operator, prefix thresholds, plain reference */
#include "skrt/attention.h" /* kernel parameter struct, CPU kernels, DLPack checks */
#include "skrt/kv_cache.h"  /* constant-memory KV cache for generation (S12) */

#endif
