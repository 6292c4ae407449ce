/* skrt CUDA kernels: the C entry points of libskrt_cuda (runtime/cuda/), which wrap the
 * kernel headers in runtime/kernels/cuda_*.cuh. Generated `skc --target=cuda` code and the
 * GPU tests call these; every pointer in the parameter structs is a DEVICE pointer and the
 * work is queued on the stream of the context (skrt_context_cuda_stream, NULL = default).
 *
 * Tensor types: q, k, v, o, dout, dq, dk, dv (and x of the score network) have the element
 * type `dtype` (enum skrt_cuda_dtype); u, lse, tau, du are float (p->real_bits must be 32);
 * nfree is int32. The head-dim axis is contiguous; q/k/v/o strides are honoured, the
 * gradients are contiguous. D must be one of 32, 64, 96, 128; N at most 2^30 and B * Hkv * N
 * below 2^31 (the selection's sort; larger shapes return SKRT_ERR_SHAPE). Speed: the tensor-core
 * kernels (kernels/cuda_attn_wgmma.cuh, warpgroup MMA; the library is built for sm_90a) serve
 * bf16/fp16 with D = 64 or 128, 16-byte aligned q/k/v/o, q/k/v row strides that are multiples
 * of 8 elements and k/v row strides below 2^31 / N elements (the forward also a positive scale);
 * every other case (fp32, D = 32 or 96, unaligned views, a forward with scale <= 0) runs the
 * plain kernels: the same results, several times slower.
 *
 * Selection (S6-S8) runs on the GPU: no host round trip and no N x N mask. The backward
 * recomputes the selection from u (deterministic, identical to the forward's). Scratch
 * memory is allocated stream-ordered on the context's stream from a memory pool of the
 * library (one per device) and released before return; the pool keeps the freed memory for
 * the next call (as PyTorch's caching allocator does) until skrt_cuda_trim.
 * Calls return 0 or a skrt_status with a message in skrt_last_error(). The only host
 * synchronisation is the optional finite check of u (skrt_cuda_set_check_finite). */
#ifndef SKRT_CUDA_H
#define SKRT_CUDA_H

#include "skrt/attention.h"
#include "skrt/base.h"
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum skrt_cuda_dtype { SKRT_CUDA_F32 = 0, SKRT_CUDA_BF16 = 1, SKRT_CUDA_F16 = 2 };

/* Forward S5-S10: o, and lse/tau/nfree when their pointers are set. */
int skrt_cuda_attention_forward(const struct skrt_attn_params *p, int dtype,
                                struct skrt_context *ctx);

/* Backward S11: dq, dk, dv (dtype) and du (float) from dout and the forward's lse and o.
 * p->lse must be set (as written by the forward); tau/nfree are recomputed. */
int skrt_cuda_attention_backward(const struct skrt_attn_params *p, const struct skrt_attn_grads *g,
                                 int dtype, struct skrt_context *ctx);

/* A plan holds the GPU selection of one layer call (tau, |F_i|, sel_end, tile lists) so that a
 * forward and its backward share it (a training step selects once). Create it with the
 * forward's params (tau/nfree outputs, if set, are written then); the planned calls check
 * that B, Hkv, N, k, w and the u pointer match. The plan's memory is stream-ordered on the
 * stream of the ctx it was created with; use the planned calls on that stream. */
struct skrt_cuda_plan;
int skrt_cuda_plan_create(const struct skrt_attn_params *p, struct skrt_context *ctx,
                          struct skrt_cuda_plan **out);
void skrt_cuda_plan_destroy(struct skrt_cuda_plan *plan);
int skrt_cuda_attention_forward_planned(const struct skrt_cuda_plan *plan,
                                        const struct skrt_attn_params *p, int dtype,
                                        struct skrt_context *ctx);
int skrt_cuda_attention_backward_planned(const struct skrt_cuda_plan *plan,
                                         const struct skrt_attn_params *p,
                                         const struct skrt_attn_grads *g, int dtype,
                                         struct skrt_context *ctx);

/* The selection alone (S6-S8), as the attention kernels see it: per (b, kv head, i) tau (float,
 * -inf when |C_i| <= k) and |F_i|, and per key sel_end (j in S_i <=> j + w <= i < sel_end[j],
 * as skrt_prefix_thresholds). All (B, Hkv, N) device arrays; any may be NULL. Only the shape,
 * k, w and u of p are read. Benchmarks use it to build the same mask for other engines. */
int skrt_cuda_select(const struct skrt_attn_params *p, float *tau, int32_t *nfree, int32_t *sel_end,
                     struct skrt_context *ctx);

/* Scoring network (S5). mode is enum skrt_score_mode. hidden: x (B,N,F) dtype; keys: x is
 * the key tensor (B,Hkv,N,D) contiguous, F = D; input: u_in (B,Hkv,N) float. w_score
 * (Hkv,F) and b_score (Hkv) float (unused for input). Writes u (B,Hkv,N) float. */
struct skrt_cuda_scores {
  int64_t B, Hkv, N, F;
  int mode;
  float slope;
  const void *x;
  const float *w_score, *b_score, *u_in;
  float *u;
};
int skrt_cuda_scores_forward(const struct skrt_cuda_scores *s, int dtype, struct skrt_context *ctx);

/* Score-network gradients from du (B,Hkv,N): dx (hidden: (B,N,F), overwritten; keys: ADDED
 * to dx, which is the dk of the attention backward), dw (Hkv,F), db (Hkv), dslope (one
 * float). For mode input only dslope is written. Any output may be NULL. */
int skrt_cuda_scores_backward(const struct skrt_cuda_scores *s, const float *du, void *dx,
                              float *dw, float *db, float *dslope, int dtype,
                              struct skrt_context *ctx);

/* Finite check of u before the selection (one host synchronisation per call); on by
 * default. Returns the previous setting. Process-wide. */
int skrt_cuda_set_check_finite(int on);

/* Hands the device memory that the library's scratch pools keep between calls back to the
 * driver (memory still in use by queued work is released once that work is done). Returns 0
 * or SKRT_ERR_CUDA. Process-wide. */
int skrt_cuda_trim(void);

/* Test hook: capacity (entries) of the in-shared-memory candidate set of a selection
 * chunk; 0 restores the default. Smaller values force the global-memory fallback path. */
void skrt_cuda_set_select_capacity(int64_t cap);

/* Test hook: selection chunks per tier-1 group (one prep and one sweep launch over a scratch
 * slot per chunk); 0 restores the default (16 per SM). Smaller values run tier 1 in several
 * groups at small shapes, as B*Hkv*N above 16 x 512 x SMs (1.08M on an H100) does. */
void skrt_cuda_set_select_group(int64_t chunks);

/* ---- KV cache (S12) on the device: skrt/kv_cache.h ----------------------------------------
 * skrt_cuda_kv_cache_create (declared in skrt/kv_cache.h) makes a device cache; every other
 * skrt_kv_cache_* function then runs its CUDA implementation (runtime/cuda/kv_cache.cu). */

/* Capacity (scores per stream) of the free-score heap of caches created from now on; 0
 * restores the default min(max_positions, 65536 + 4 * topk). Returns the previous setting.
 * Process-wide; tests use it to force the overflow path. */
int64_t skrt_cuda_kv_set_max_active(int64_t cap);

/* Blocks per stream of the decode steps of caches created from now on (> 1: a cooperative
 * launch, the rows of a stream split with a log-sum-exp merge); 0 restores the automatic
 * choice. Returns the previous setting. Test hook. */
int64_t skrt_cuda_kv_set_splits(int64_t splits);

#ifdef __cplusplus
}
#endif
#endif
