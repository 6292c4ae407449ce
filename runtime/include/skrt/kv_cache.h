/* skrt KV cache: constant-memory generation for SparseK attention (S12).
 *
 * One cache serves a model: `layers` layers, a batch of B independent sequences, Hkv KV heads
 * (Hq query heads read them in groups of g = Hq / Hkv). Per (layer, batch item, KV head) a
 * "stream" holds
 *   - the window ring: the last w tokens (k, v, u), always attended with gate 1 (S6);
 *   - the selected set: at most k candidates (k, v, u, position) in fixed slots, with a
 *     min-heap of slot indices on (u, position) (ties: the larger position wins, S8); an
 *     evicted slot is reused in place for the token that beat it (O(1) slot reuse);
 *   - the exact-tau state: the scores of candidates whose gate can still become nonzero, in
 *     two min-heaps (saturated u >= tau + 1, free tau < u < tau + 1) with the free sum, so
 *     tau = (sum_free u + #saturated - k) / #free (S3) moves forward in O(log) amortized per
 *     token. A candidate whose gate reaches 0 is dropped for good (tau is non-decreasing).
 * K/V storage is allocated once, (k + w) * D per stream, whatever the position; only the
 * free-score heap is dynamic (scalars, reported by skrt_kv_cache_footprint).
 *
 * Step semantics at position t of a sequence (skrt_kv_cache_forward and its wrappers):
 * token t enters the window; the token leaving it (t - w; with w = 0 token t itself) becomes a
 * candidate: it joins the selected set if that has room or if it beats the heap minimum (then
 * evicted for good), otherwise it is dropped for good; tau_t is updated; then, when queries are
 * given, o_t is computed over S_t u W_t exactly per S9-S10 for the g query heads of the group.
 * Feeding a prompt through one call with N tokens (prefill) leaves the cache exactly as N calls
 * with one token, and its outputs are those of the full forward for the prompt.
 *
 * Bad input never aborts: NULL, a layer or batch index out of range, tensors of other shapes
 * than the cache was built for (DLPack entry points), positions beyond max_positions or the
 * int32 range, and non-finite scores return a nonzero skrt_status with a message from
 * skrt_last_error(); the cache is left unchanged by a failed call.
 *
 * Threads: one call may run OpenMP over (batch item, KV head); calls on one cache must not
 * overlap. Different caches are independent.
 *
 * CUDA variant (device = SKRT_KV_DEVICE_CUDA, libskrt_cuda: skrt_cuda_kv_cache_create below;
 * runtime/cuda/kv_cache.cu, runtime/kernels/cuda_decode.cuh): the same streams in device
 * memory, K/V rows stored in cfg.dtype (fp32, bf16 or fp16; scores, tau, softmax and
 * accumulators fp32), the free-score heap with a fixed capacity per stream
 * (min(max_positions, 65536 + 4 k) scores; skrt_cuda_kv_set_max_active). Every
 * tensor pointer of a call (skrt_kv_io, the wrappers, DLTensors of device type kDLCUDA) is a
 * DEVICE pointer of element type cfg.dtype (u: float). The work goes on the stream of the
 * call's ctx (skrt_context_cuda_stream), one launch per step for the whole batch and all
 * heads: a block per (b, KV head) whose thread 0 runs the state update above (the same code,
 * __host__ __device__), then all warps compute the g query heads over the k + w rows, split
 * across blocks with a log-sum-exp merge when B * Hkv is too small to fill the GPU. A step is
 * all or nothing: a non-finite score anywhere in the batch refuses the whole step. A call
 * returns once its step finished (one stream synchronisation, so that the call that made a
 * bad step reports it). A free-score heap that would overflow its capacity breaks the cache
 * (SKRT_ERR_STATE from then on, until skrt_kv_cache_reset). libskrt itself links no CUDA:
 * skrt_kv_cache_create with device = CUDA returns SKRT_ERR_DEVICE naming
 * skrt_cuda_kv_cache_create; every other function dispatches on the cache. */
#ifndef SKRT_KV_CACHE_H
#define SKRT_KV_CACHE_H

#include "skrt/base.h"
#include <dlpack/dlpack.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct skrt_context;
struct skrt_kv_cache;

enum skrt_kv_device { SKRT_KV_DEVICE_CPU = 0, SKRT_KV_DEVICE_CUDA = 1 };
enum skrt_kv_dtype { SKRT_KV_F32 = 0, SKRT_KV_BF16 = 1, SKRT_KV_F16 = 2 };

/* Largest position count a sequence may reach (positions are int32). */
#define SKRT_KV_MAX_POSITIONS ((int64_t)INT32_MAX)

struct skrt_kv_cache_config {
  int64_t layers;        /* >= 1 */
  int64_t B, Hq, Hkv, D; /* batch, query heads, KV heads (Hq % Hkv == 0), head dim */
  int64_t topk;          /* k >= 1: capacity of the selected set (S8) */
  int64_t window;        /* w >= 0 (S6) */
  int gate;              /* enum skrt_gate (S9): SKRT_GATE_KV or SKRT_GATE_V */
  double scale;          /* S9 logit scale; 0 means 1/sqrt(D) */
  int64_t max_positions; /* tokens a sequence may hold; 0: SKRT_KV_MAX_POSITIONS */
  int dtype;             /* enum skrt_kv_dtype; the CPU cache is SKRT_KV_F32 */
  int device;            /* enum skrt_kv_device */
};

/* Creates an empty CPU cache (every sequence at position 0). All memory except the dynamic
 * free-score heaps is allocated here. Errors: NULL, out-of-range fields (message names the
 * field), SKRT_ERR_DEVICE for device = CUDA (use skrt_cuda_kv_cache_create of libskrt_cuda),
 * SKRT_ERR_DTYPE for non-fp32 CPU caches, SKRT_ERR_NOMEM. *out is NULL on failure. */
int skrt_kv_cache_create(const struct skrt_kv_cache_config *cfg, struct skrt_kv_cache **out);
/* libskrt_cuda: creates a device cache (cfg->device must be SKRT_KV_DEVICE_CUDA) on the current
 * CUDA device; ctx's stream (may be NULL) is used for reset and footprint. D must be a
 * multiple of 4 and <= 128, Hq / Hkv <= 8. Same errors, plus SKRT_ERR_CUDA. Destroy it with
 * skrt_kv_cache_destroy (which then lives in libskrt_cuda's code). */
int skrt_cuda_kv_cache_create(const struct skrt_kv_cache_config *cfg, struct skrt_context *ctx,
                              struct skrt_kv_cache **out);
void skrt_kv_cache_destroy(struct skrt_kv_cache *cache); /* NULL is a no-op */

/* Empties every sequence (position 0) and releases the dynamic heaps; keeps K/V storage. */
int skrt_kv_cache_reset(struct skrt_kv_cache *cache);
/* Empties batch item b in every layer (a finished sequence makes room for a new one). */
int skrt_kv_cache_reset_item(struct skrt_kv_cache *cache, int64_t b);

/* The (normalized) configuration: scale and max_positions filled in. */
int skrt_kv_cache_get_config(const struct skrt_kv_cache *cache, struct skrt_kv_cache_config *out);
/* Number of tokens sequence b holds in `layer` = the position its next token gets. */
int skrt_kv_cache_position(const struct skrt_kv_cache *cache, int64_t layer, int64_t b,
                           int64_t *pos);

/* Memory of the cache. Bytes are allocated capacities; counts are live entries summed over
 * all streams (layers x B x Hkv). */
struct skrt_kv_footprint {
  int64_t kv_bytes;           /* K and V storage: streams * (k + w) * D * 2 * sizeof(elem) */
  int64_t kv_used_bytes;      /* of which rows currently holding a token */
  int64_t scalar_bytes;       /* u, positions, slot heap, saturated heap, free heap, state */
  int64_t scratch_bytes;      /* per-call work buffers (logits, accumulators) */
  int64_t streams;            /* layers * B * Hkv */
  int64_t selected_tokens;    /* tokens in selected sets */
  int64_t window_tokens;      /* tokens in window rings */
  int64_t active_scalars;     /* candidate scores kept for tau (saturated + free) */
  int64_t max_active_scalars; /* largest per stream */
};
int skrt_kv_cache_footprint(const struct skrt_kv_cache *cache, struct skrt_kv_footprint *out);

/* Tensors of one call: q, k, v, o of element type cfg.dtype (fp32 on the CPU), u float.
 * Element strides of the (b, h, n) axes; the D axis is contiguous.
 * q, o: (B, Hq, N, D); k, v: (B, Hkv, N, D); u: (B, Hkv, N). q and o are both NULL (append
 * only) or both set. For N = 1 the n stride is never read. Device pointers for a CUDA cache. */
struct skrt_kv_io {
  const void *q, *k, *v;
  const float *u;
  void *o;
  int64_t q_stride[3], k_stride[3], v_stride[3], u_stride[3], o_stride[3];
};

/* Appends N >= 1 tokens to every sequence of `layer` and, when io->q is set, writes their
 * outputs (S9-S10; query n of sequence b sits at position pos_b + n). The core entry point:
 * the wrappers below and generated `<name>_decode` code fill a skrt_kv_io and call it.
 * OpenMP over (b, KV head); ctx may be NULL. */
int skrt_kv_cache_forward(struct skrt_kv_cache *cache, int64_t layer, int64_t N,
                          const struct skrt_kv_io *io, struct skrt_context *ctx);

/* Contiguous wrappers. Prefill: k, v (B,Hkv,N,D), u (B,Hkv,N), q, o (B,Hq,N,D) or both NULL
 * (then only the cache is filled, e.g. when the forward kernel already produced the outputs).
 * Append: one token, no outputs: k, v (B,Hkv,D), u (B,Hkv).
 * Decode: one token with outputs: q, o (B,Hq,D), k, v (B,Hkv,D), u (B,Hkv). */
int skrt_kv_cache_prefill(struct skrt_kv_cache *cache, int64_t layer, int64_t N, const void *q,
                          const void *k, const void *v, const float *u, void *o,
                          struct skrt_context *ctx);
int skrt_kv_cache_append(struct skrt_kv_cache *cache, int64_t layer, const void *k, const void *v,
                         const float *u, struct skrt_context *ctx);
int skrt_kv_cache_decode(struct skrt_kv_cache *cache, int64_t layer, const void *q, const void *k,
                         const void *v, const float *u, void *o, struct skrt_context *ctx);

/* DLPack entry for generated code: the whole argument check against the cache's shapes.
 * q, o (B, Hq, N, D); k, v (B, Hkv, N, D); u (B, Hkv, N); fp32 on the CPU, any strides with
 * a unit D stride (u: any strides); a CUDA cache takes kDLCUDA tensors of its dtype (bf16:
 * kDLBfloat 16, fp16: kDLFloat 16) and float32 u. Rank-3 forms without the N axis are accepted for N = 1
 * ((B, H, D) and (B, Hkv)). q and o may both be NULL. Messages name the tensor, the axis,
 * expected and actual ("kv cache: k shape[1] is 4, the cache has Hkv = 8"). */
int skrt_kv_cache_forward_dl(struct skrt_kv_cache *cache, int64_t layer, const DLTensor *q,
                             const DLTensor *k, const DLTensor *v, const DLTensor *u, DLTensor *o,
                             struct skrt_context *ctx);

/* S5 for the next token of every sequence of `layer` (it does not change the cache):
 *   u[b,h] = x[b,h,:] . w_score[h,:] + b_score[h] + slope * pos_b
 * mode SKRT_SCORE_HIDDEN: x is (B, F), shared by the heads; w_score (Hkv, F);
 * mode SKRT_SCORE_KEYS:   x is the new keys (B, Hkv, D), F must be D; w_score (Hkv, D);
 * mode SKRT_SCORE_INPUT:  x is u_in (B, Hkv); w_score, b_score unused (may be NULL), F ignored.
 * b_score may be NULL (zero). Dot products in fp32 with fp32 accumulation; u is (B, Hkv).
 * x has element type cfg.dtype in hidden and keys modes (float in input mode); w_score,
 * b_score, u are float. A CUDA cache takes device pointers and works on the stream of ctx.
 * Errors: NULL, bad mode or F, non-finite results (message names b and h; on a CUDA cache
 * they are reported by the forward that reads u). */
int skrt_kv_cache_scores(const struct skrt_kv_cache *cache, int64_t layer, int mode, const void *x,
                         int64_t F, const float *w_score, const float *b_score, double slope,
                         float *u);
/* The same with x strided: element strides of its b and h axes (h: keys and input modes),
 * the F axis contiguous (chunks of a longer sequence as views); ctx may be NULL. */
int skrt_kv_cache_scores_strided(const struct skrt_kv_cache *cache, int64_t layer, int mode,
                                 const void *x, const int64_t x_stride[2], int64_t F,
                                 const float *w_score, const float *b_score, double slope,
                                 float *u, struct skrt_context *ctx);

/* ---- backend interface: how libskrt_cuda plugs its device cache in (not for users) ------ */

/* Arguments of one S5 call (skrt_kv_cache_scores_strided), checked by libskrt. */
struct skrt_kv_score_args {
  int mode;
  const void *x;
  int64_t x_stride[2];
  int64_t F;
  const float *w_score, *b_score;
  double slope;
  float *u;
};

/* Every cache starts with a skrt_kv_cache_head; the public functions check their arguments
 * (NULL, layer / b ranges, N >= 1, q and o together) and call the cache's ops. */
struct skrt_kv_cache_ops {
  void (*destroy)(struct skrt_kv_cache *c);
  int (*reset)(struct skrt_kv_cache *c, int64_t b); /* b < 0: every batch item */
  int (*position)(const struct skrt_kv_cache *c, int64_t layer, int64_t b, int64_t *pos);
  int (*footprint)(const struct skrt_kv_cache *c, struct skrt_kv_footprint *out);
  int (*forward)(struct skrt_kv_cache *c, int64_t layer, int64_t N, const struct skrt_kv_io *io,
                 struct skrt_context *ctx);
  int (*scores)(const struct skrt_kv_cache *c, int64_t layer, const struct skrt_kv_score_args *a,
                struct skrt_context *ctx);
};
struct skrt_kv_cache_head {
  const struct skrt_kv_cache_ops *ops;
  struct skrt_kv_cache_config cfg; /* normalized */
};
/* Checks every field but device and dtype and fills scale and max_positions (messages name
 * the field). */
int skrt_kv_cache_config_normalize(const struct skrt_kv_cache_config *in,
                                   struct skrt_kv_cache_config *out);

#ifdef __cplusplus
}
#endif
#endif
