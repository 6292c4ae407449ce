/* libskrt_cuda: the CUDA KV cache (S12) behind the one skrt_kv_cache API of skrt/kv_cache.h.
 *
 * skrt_cuda_kv_cache_create allocates every stream of the cache in device memory once (K/V rows
 * of the cache's dtype, the scalars, a fixed-capacity free-score heap per stream), wires the
 * streams exactly as the CPU cache does (runtime/src/kv_cache.c) with device pointers, and
 * installs the ops table that libskrt's public functions dispatch to. A step is one launch of
 * kernels/cuda_decode.cuh for the whole batch (plus a score-check launch when N > 1); the host
 * mirrors the positions (a step advances every sequence of the layer or none), so position
 * queries and the max_positions check need no device round trip. Each forward ends with one
 * stream synchronisation to read the step's status word. */
#include <cuda_runtime.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cuda_decode.cuh"
#include "skrt/cuda.h"
#include "skrt/kv_cache.h"
#include "skrt/sparsek.h"

#define SKRT_KVC_CU(...)                                                                           \
  do {                                                                                             \
    cudaError_t e_ = (__VA_ARGS__);                                                                \
    if (e_ != cudaSuccess)                                                                         \
      return skrt_error(SKRT_ERR_CUDA, "kv cache (cuda): %s:%d: %s: %s", __FILE__, __LINE__,       \
                        #__VA_ARGS__, cudaGetErrorString(e_));                                     \
  } while (0)

namespace {

int64_t g_max_active = 0; /* skrt_cuda_kv_set_max_active; 0: the default */
int64_t g_splits = 0;     /* skrt_cuda_kv_set_splits; 0: automatic */

/* The device cache. Starts with the head, as every skrt_kv_cache does. */
struct kvc_cache {
  struct skrt_kv_cache_head head;
  struct skrt_kv_dims dims;
  size_t elem;                      /* bytes of one K/V element */
  int64_t streams, fper, iper, cap; /* cap: free-score heap capacity per stream */
  int64_t splits;                   /* blocks per stream of a decode step */
  cudaStream_t stream;              /* for reset and footprint */
  char *d_kv;
  float *d_sf, *d_fr, *d_part;
  int32_t *d_si;
  struct skrt_kv_stream *d_st;
  int *d_err;                    /* 2 words, see skrt_kvc_step::err */
  int *h_err;                    /* pinned copy */
  struct skrt_kv_stream *h_init; /* the empty, wired streams (reset copies them) */
  int64_t *pos;                  /* layers x B positions */
  int broken;                    /* a free-score heap overflowed: only reset helps */
};

kvc_cache *kvc(struct skrt_kv_cache *c) { return reinterpret_cast<kvc_cache *>(c); }
const kvc_cache *kvc(const struct skrt_kv_cache *c) {
  return reinterpret_cast<const kvc_cache *>(c);
}

/* ---- create / destroy ---------------------------------------------------------------------- */

int check_device_config(const struct skrt_kv_cache_config *g) {
  if (g->device != SKRT_KV_DEVICE_CUDA)
    return skrt_error(SKRT_ERR_DEVICE,
                      "kv cache: skrt_cuda_kv_cache_create makes device caches (device %d); "
                      "use skrt_kv_cache_create for the CPU",
                      g->device);
  if (g->dtype != SKRT_KV_F32 && g->dtype != SKRT_KV_BF16 && g->dtype != SKRT_KV_F16)
    return skrt_error(SKRT_ERR_DTYPE, "kv cache: dtype %d is not fp32 (0), bf16 (1) or fp16 (2)",
                      g->dtype);
  if (g->D % 4 || g->D > SKRT_KVC_DMAX)
    return skrt_error(SKRT_ERR_ARG, "kv cache (cuda): D = %lld, expected a multiple of 4 <= %d",
                      (long long)g->D, SKRT_KVC_DMAX);
  if (g->Hq / g->Hkv > SKRT_KVC_GMAX)
    return skrt_error(SKRT_ERR_ARG, "kv cache (cuda): Hq / Hkv = %lld, expected <= %d",
                      (long long)(g->Hq / g->Hkv), SKRT_KVC_GMAX);
  return SKRT_OK;
}

/* The CPU cache's stream layout with device pointers (K/V rows of elem bytes). */
void kvc_wire(kvc_cache *c) {
  int64_t k = c->dims.topk, w = c->dims.window, rows = k + w, D = c->dims.D;
  for (int64_t i = 0; i < c->streams; i++)
    skrt_kv_stream_wire(
        &c->h_init[i], k, w,
        reinterpret_cast<float *>(c->d_kv + (size_t)(i * 2 * rows * D) * c->elem),
        reinterpret_cast<float *>(c->d_kv + (size_t)((i * 2 + 1) * rows * D) * c->elem),
        c->d_sf + i * c->fper, c->d_si + i * c->iper, c->d_fr + i * c->cap, c->cap);
}

template <typename T> int kvc_set_smem(size_t smem) {
  SKRT_KVC_CU(cudaFuncSetAttribute(skrt_kvc_step_kernel<T, false>,
                                   cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
  SKRT_KVC_CU(cudaFuncSetAttribute(skrt_kvc_step_kernel<T, true>,
                                   cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
  return SKRT_OK;
}

/* Blocks per stream for decode steps: 1 when the streams alone fill the GPU, else the largest
 * S in {16, 8, 4, 2} whose streams * S blocks are all resident (a cooperative launch). */
template <typename T> int kvc_pick_splits(kvc_cache *c, int64_t per_layer) {
  int dev = 0, sms = 0, coop = 0;
  SKRT_KVC_CU(cudaGetDevice(&dev));
  SKRT_KVC_CU(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  SKRT_KVC_CU(cudaDeviceGetAttribute(&coop, cudaDevAttrCooperativeLaunch, dev));
  c->splits = 1;
  if (g_splits > 0) {
    c->splits = g_splits;
    return SKRT_OK;
  }
  if (!coop || per_layer >= sms)
    return SKRT_OK;
  for (int64_t S = 16; S > 1; S /= 2) {
    int bps = 0;
    SKRT_KVC_CU(cudaOccupancyMaxActiveBlocksPerMultiprocessor(
        &bps, skrt_kvc_step_kernel<T, true>, SKRT_KVC_THREADS, skrt_kvc_smem_bytes(&c->dims, S)));
    if (per_layer * S <= (int64_t)sms * bps) {
      c->splits = S;
      return SKRT_OK;
    }
  }
  return SKRT_OK;
}

template <typename T> int kvc_prepare_kernels(kvc_cache *c) {
  int dev = 0, max_smem = 0;
  size_t smem = skrt_kvc_smem_bytes(&c->dims, 1); /* the largest */
  SKRT_KVC_CU(cudaGetDevice(&dev));
  SKRT_KVC_CU(cudaDeviceGetAttribute(&max_smem, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
  if (smem > (size_t)max_smem)
    return skrt_error(SKRT_ERR_ARG,
                      "kv cache (cuda): topk + window = %lld rows need %zu bytes of shared "
                      "memory per block, the device has %d",
                      (long long)(c->dims.topk + c->dims.window), smem, max_smem);
  int st = kvc_set_smem<T>(smem);
  return st ? st : kvc_pick_splits<T>(c, c->head.cfg.B * c->head.cfg.Hkv);
}

int kvc_prepare(kvc_cache *c) {
  switch (c->head.cfg.dtype) {
  case SKRT_KV_BF16:
    return kvc_prepare_kernels<__nv_bfloat16>(c);
  case SKRT_KV_F16:
    return kvc_prepare_kernels<__half>(c);
  default:
    return kvc_prepare_kernels<float>(c);
  }
}

/* n * size bytes, or 0 when it overflows. */
size_t kvc_bytes(int64_t n, size_t size) {
  if (n <= 0 || (uint64_t)n > (uint64_t)(SIZE_MAX / 4) / size)
    return 0;
  return (size_t)n * size;
}

int kvc_alloc(kvc_cache *c) {
  const struct skrt_kv_cache_config *g = &c->head.cfg;
  int64_t rows = g->topk + g->window, lstreams = g->B * g->Hkv;
  size_t nkv = c->streams <= INT64_MAX / (2 * rows) / g->D
                   ? kvc_bytes(c->streams * 2 * rows * g->D, c->elem)
                   : 0;
  size_t nsf = kvc_bytes(c->streams * c->fper, sizeof(float));
  size_t nfr = kvc_bytes(c->streams * c->cap, sizeof(float));
  size_t nsi = kvc_bytes(c->streams * c->iper, sizeof(int32_t));
  size_t npart = kvc_bytes(lstreams * c->splits * skrt_kvc_part_floats(&c->dims), sizeof(float));
  size_t nst = kvc_bytes(c->streams, sizeof(struct skrt_kv_stream));
  if (!nkv || !nsf || !nfr || !nsi || !npart || !nst)
    return skrt_error(SKRT_ERR_NOMEM, "kv cache (cuda): size overflows (streams %lld, rows %lld)",
                      (long long)c->streams, (long long)rows);
  c->h_init = (struct skrt_kv_stream *)calloc((size_t)c->streams, sizeof(struct skrt_kv_stream));
  c->pos = (int64_t *)calloc((size_t)(g->layers * g->B), sizeof(int64_t));
  if (!c->h_init || !c->pos)
    return skrt_error(SKRT_ERR_NOMEM, "kv cache (cuda): out of host memory");
  SKRT_KVC_CU(cudaMalloc(&c->d_kv, nkv));
  SKRT_KVC_CU(cudaMalloc(&c->d_sf, nsf));
  SKRT_KVC_CU(cudaMalloc(&c->d_fr, nfr));
  SKRT_KVC_CU(cudaMalloc(&c->d_si, nsi));
  SKRT_KVC_CU(cudaMalloc(&c->d_part, npart));
  SKRT_KVC_CU(cudaMalloc(&c->d_st, nst));
  SKRT_KVC_CU(cudaMalloc(&c->d_err, 2 * sizeof(int)));
  SKRT_KVC_CU(cudaMallocHost(&c->h_err, 2 * sizeof(int)));
  SKRT_KVC_CU(cudaMemsetAsync(c->d_kv, 0, nkv, c->stream));
  SKRT_KVC_CU(cudaMemsetAsync(c->d_sf, 0, nsf, c->stream));
  SKRT_KVC_CU(cudaMemsetAsync(c->d_si, 0, nsi, c->stream));
  SKRT_KVC_CU(cudaMemsetAsync(c->d_err, 0, 2 * sizeof(int), c->stream));
  kvc_wire(c);
  SKRT_KVC_CU(cudaMemcpyAsync(c->d_st, c->h_init, nst, cudaMemcpyHostToDevice, c->stream));
  SKRT_KVC_CU(cudaStreamSynchronize(c->stream));
  return SKRT_OK;
}

void kvc_destroy(struct skrt_kv_cache *cache) {
  kvc_cache *c = kvc(cache);
  cudaFree(c->d_kv);
  cudaFree(c->d_sf);
  cudaFree(c->d_fr);
  cudaFree(c->d_si);
  cudaFree(c->d_part);
  cudaFree(c->d_st);
  cudaFree(c->d_err);
  cudaFreeHost(c->h_err);
  free(c->h_init);
  free(c->pos);
  free(c);
}

/* ---- state queries and resets ------------------------------------------------------------ */

int kvc_reset(struct skrt_kv_cache *cache, int64_t b) {
  kvc_cache *c = kvc(cache);
  const struct skrt_kv_cache_config *g = &c->head.cfg;
  for (int64_t l = 0; l < g->layers; l++)
    for (int64_t i = b < 0 ? 0 : b; i < (b < 0 ? g->B : b + 1); i++) {
      int64_t s0 = (l * g->B + i) * g->Hkv;
      SKRT_KVC_CU(cudaMemcpyAsync(c->d_st + s0, c->h_init + s0,
                                  sizeof(struct skrt_kv_stream) * (size_t)g->Hkv,
                                  cudaMemcpyHostToDevice, c->stream));
      c->pos[l * g->B + i] = 0;
    }
  SKRT_KVC_CU(cudaMemsetAsync(c->d_err, 0, 2 * sizeof(int), c->stream));
  SKRT_KVC_CU(cudaStreamSynchronize(c->stream));
  if (b < 0)
    c->broken = 0;
  return SKRT_OK;
}

int kvc_position(const struct skrt_kv_cache *cache, int64_t layer, int64_t b, int64_t *pos) {
  const kvc_cache *c = kvc(cache);
  *pos = c->pos[layer * c->head.cfg.B + b];
  return SKRT_OK;
}

int kvc_footprint(const struct skrt_kv_cache *cache, struct skrt_kv_footprint *out) {
  const kvc_cache *c = kvc(cache);
  const struct skrt_kv_cache_config *g = &c->head.cfg;
  int64_t row_bytes = 2 * c->dims.D * (int64_t)c->elem;
  struct skrt_kv_stream *st =
      (struct skrt_kv_stream *)malloc(sizeof(struct skrt_kv_stream) * (size_t)c->streams);
  if (!st)
    return skrt_error(SKRT_ERR_NOMEM, "kv cache footprint: out of host memory");
  cudaError_t e = cudaMemcpyAsync(st, c->d_st, sizeof(*st) * (size_t)c->streams,
                                  cudaMemcpyDeviceToHost, c->stream);
  e = e == cudaSuccess ? cudaStreamSynchronize(c->stream) : e;
  if (e != cudaSuccess) {
    free(st);
    return skrt_error(SKRT_ERR_CUDA, "kv cache footprint: %s", cudaGetErrorString(e));
  }
  out->streams = c->streams;
  out->kv_bytes = c->streams * (c->dims.topk + c->dims.window) * row_bytes;
  out->scratch_bytes =
      g->B * g->Hkv * c->splits * skrt_kvc_part_floats(&c->dims) * (int64_t)sizeof(float);
  out->scalar_bytes =
      c->streams * ((c->fper + c->cap) * (int64_t)sizeof(float) +
                    c->iper * (int64_t)sizeof(int32_t) + (int64_t)sizeof(struct skrt_kv_stream));
  for (int64_t i = 0; i < c->streams; i++) {
    int64_t live = skrt_kv_stream_rows(&st[i], &c->dims), act = st[i].tau.n_sat + st[i].tau.n_free;
    out->kv_used_bytes += live * row_bytes;
    out->selected_tokens += st[i].n_sel;
    out->window_tokens += live - st[i].n_sel;
    out->active_scalars += act;
    out->max_active_scalars = act > out->max_active_scalars ? act : out->max_active_scalars;
  }
  free(st);
  return SKRT_OK;
}

/* ---- one step ------------------------------------------------------------------------------ */

/* A pointer the GPU can read: device or managed memory (a host pointer is a user error). */
int kvc_check_ptr(const void *p, const char *name, const char *fn) {
  if (!p)
    return SKRT_OK;
  cudaPointerAttributes a;
  cudaError_t e = cudaPointerGetAttributes(&a, p);
  if (e != cudaSuccess) {
    cudaGetLastError(); /* clear the sticky-free error of an unknown pointer */
    return skrt_error(SKRT_ERR_DEVICE, "kv cache %s: %s (%p) is not CUDA memory: %s", fn, name, p,
                      cudaGetErrorString(e));
  }
  if (a.type != cudaMemoryTypeDevice && a.type != cudaMemoryTypeManaged)
    return skrt_error(SKRT_ERR_DEVICE,
                      "kv cache %s: %s (%p) is a host pointer; a CUDA cache takes device "
                      "pointers",
                      fn, name, p);
  return SKRT_OK;
}

int kvc_check_call(const kvc_cache *c, int64_t layer, int64_t N, const struct skrt_kv_io *io) {
  if (c->broken)
    return skrt_error(SKRT_ERR_STATE,
                      "kv cache forward: the cache is broken (a free-score heap overflowed its "
                      "capacity of %lld scores); skrt_kv_cache_reset it",
                      (long long)c->cap);
  const struct skrt_kv_cache_config *g = &c->head.cfg;
  for (int64_t b = 0; b < g->B; b++) {
    int64_t pos = c->pos[layer * g->B + b];
    if (N > g->max_positions - pos)
      return skrt_error(SKRT_ERR_STATE,
                        "kv cache forward: sequence b = %lld of layer %lld holds %lld tokens; "
                        "%lld more exceed max_positions = %lld",
                        (long long)b, (long long)layer, (long long)pos, (long long)N,
                        (long long)g->max_positions);
  }
  int st = kvc_check_ptr(io->q, "q", "forward");
  st = st ? st : kvc_check_ptr(io->k, "k", "forward");
  st = st ? st : kvc_check_ptr(io->v, "v", "forward");
  st = st ? st : kvc_check_ptr(io->u, "u", "forward");
  return st ? st : kvc_check_ptr(io->o, "o", "forward");
}

/* One launch: N tokens (outputs only with N = 1), the io pointers offset to token n. */
template <typename T>
int kvc_launch(kvc_cache *c, int64_t layer, int64_t N, int64_t n, const struct skrt_kv_io *io,
               cudaStream_t stream) {
  const struct skrt_kv_cache_config *g = &c->head.cfg;
  struct skrt_kvc_step<T> p;
  memset(&p, 0, sizeof(p));
  p.streams = c->d_st + layer * g->B * g->Hkv, p.dims = c->dims;
  p.B = g->B, p.Hkv = g->Hkv, p.N = N;
  p.k = (const T *)io->k + n * io->k_stride[2], p.v = (const T *)io->v + n * io->v_stride[2];
  p.u = io->u + n * io->u_stride[2];
  p.q = io->q ? (const T *)io->q + n * io->q_stride[2] : NULL;
  p.o = io->o ? (T *)io->o + n * io->o_stride[2] : NULL;
  for (int i = 0; i < 3; i++)
    p.k_stride[i] = io->k_stride[i], p.v_stride[i] = io->v_stride[i],
    p.u_stride[i] = io->u_stride[i];
  for (int i = 0; i < 2; i++)
    p.q_stride[i] = io->q_stride[i], p.o_stride[i] = io->o_stride[i];
  p.splits = p.q ? c->splits : 1, p.part = c->d_part, p.err = c->d_err;
  size_t smem = p.q ? skrt_kvc_smem_bytes(&c->dims, p.splits) : 0;
  unsigned blocks = (unsigned)(g->B * g->Hkv * p.splits);
  if (p.splits > 1) {
    void *args[] = {&p};
    SKRT_KVC_CU(cudaLaunchCooperativeKernel((const void *)skrt_kvc_step_kernel<T, true>,
                                            dim3(blocks), dim3(SKRT_KVC_THREADS), args, smem,
                                            stream));
  } else {
    skrt_kvc_step_kernel<T, false><<<blocks, SKRT_KVC_THREADS, smem, stream>>>(p);
    SKRT_KVC_CU(cudaGetLastError());
  }
  return SKRT_OK;
}

/* The whole call: score check (N > 1), then one launch with N tokens (append only) or N
 * decode launches; then the status word. */
template <typename T>
int kvc_run(kvc_cache *c, int64_t layer, int64_t N, const struct skrt_kv_io *io,
            cudaStream_t stream) {
  const struct skrt_kv_cache_config *g = &c->head.cfg;
  if (N > 1) {
    int64_t total = g->B * g->Hkv * N;
    skrt_kvc_check_kernel<<<(unsigned)((total + 255) / 256), 256, 0, stream>>>(
        io->u, g->B, g->Hkv, N, io->u_stride[0], io->u_stride[1], io->u_stride[2], c->d_err);
    SKRT_KVC_CU(cudaGetLastError());
  }
  int st = SKRT_OK;
  if (!io->q)
    st = kvc_launch<T>(c, layer, N, 0, io, stream);
  for (int64_t n = 0; io->q && n < N && st == SKRT_OK; n++)
    st = kvc_launch<T>(c, layer, 1, n, io, stream);
  return st;
}

/* Reads the status word of the call (one synchronisation) and turns it into a status. */
int kvc_finish(kvc_cache *c, int64_t layer, int64_t N, cudaStream_t stream) {
  SKRT_KVC_CU(cudaMemcpyAsync(c->h_err, c->d_err, 2 * sizeof(int), cudaMemcpyDeviceToHost, stream));
  SKRT_KVC_CU(cudaStreamSynchronize(stream));
  int refused = c->h_err[0] | c->h_err[1];
  if (refused) {
    SKRT_KVC_CU(cudaMemsetAsync(c->d_err, 0, 2 * sizeof(int), stream));
    SKRT_KVC_CU(cudaStreamSynchronize(stream));
  }
  if (c->h_err[1] == SKRT_KVC_ERR_FULL) {
    c->broken = 1;
    return skrt_error(SKRT_ERR_STATE,
                      "kv cache forward: a free-score heap of layer %lld would exceed its "
                      "capacity of %lld scores (skrt_cuda_kv_set_max_active); the cache is "
                      "broken until skrt_kv_cache_reset",
                      (long long)layer, (long long)c->cap);
  }
  if (refused)
    return skrt_error(SKRT_ERR_NONFINITE,
                      "kv cache forward: a score u of layer %lld is not finite; the step was "
                      "refused (the cache is unchanged)",
                      (long long)layer);
  for (int64_t b = 0; b < c->head.cfg.B; b++)
    c->pos[layer * c->head.cfg.B + b] += N;
  return SKRT_OK;
}

int kvc_forward(struct skrt_kv_cache *cache, int64_t layer, int64_t N, const struct skrt_kv_io *io,
                struct skrt_context *ctx) {
  kvc_cache *c = kvc(cache);
  int st = kvc_check_call(c, layer, N, io);
  if (st)
    return st;
  cudaStream_t stream = (cudaStream_t)skrt_context_cuda_stream(ctx);
  switch (c->head.cfg.dtype) {
  case SKRT_KV_BF16:
    st = kvc_run<__nv_bfloat16>(c, layer, N, io, stream);
    break;
  case SKRT_KV_F16:
    st = kvc_run<__half>(c, layer, N, io, stream);
    break;
  default:
    st = kvc_run<float>(c, layer, N, io, stream);
  }
  if (st) { /* a launch failed: whatever ran is unknown; the cache cannot be trusted */
    c->broken = 1;
    return st;
  }
  return kvc_finish(c, layer, N, stream);
}

/* ---- S5 ------------------------------------------------------------------------------------ */

template <typename T>
int kvc_scores_launch(const kvc_cache *c, int64_t layer, const struct skrt_kv_score_args *a,
                      cudaStream_t stream) {
  const struct skrt_kv_cache_config *g = &c->head.cfg;
  struct skrt_kvc_scores<T> s;
  memset(&s, 0, sizeof(s));
  s.streams = c->d_st + layer * g->B * g->Hkv;
  s.B = g->B, s.Hkv = g->Hkv, s.F = a->F, s.xs0 = a->x_stride[0], s.xs1 = a->x_stride[1];
  s.mode = a->mode, s.slope = a->slope, s.u = a->u, s.w = a->w_score, s.bias = a->b_score;
  if (a->mode == SKRT_SCORE_INPUT)
    s.u_in = (const float *)a->x;
  else
    s.x = (const T *)a->x;
  int64_t warps = g->B * g->Hkv;
  skrt_kvc_scores_kernel<T><<<(unsigned)((warps + 7) / 8), 256, 0, stream>>>(s);
  SKRT_KVC_CU(cudaGetLastError());
  return SKRT_OK;
}

int kvc_scores(const struct skrt_kv_cache *cache, int64_t layer, const struct skrt_kv_score_args *a,
               struct skrt_context *ctx) {
  const kvc_cache *c = kvc(cache);
  int st = kvc_check_ptr(a->x, "x", "scores");
  st = st ? st : kvc_check_ptr(a->w_score, "w_score", "scores");
  st = st ? st : kvc_check_ptr(a->b_score, "b_score", "scores");
  st = st ? st : kvc_check_ptr(a->u, "u", "scores");
  if (st)
    return st;
  cudaStream_t stream = (cudaStream_t)skrt_context_cuda_stream(ctx);
  switch (a->mode == SKRT_SCORE_INPUT ? SKRT_KV_F32 : c->head.cfg.dtype) {
  case SKRT_KV_BF16:
    return kvc_scores_launch<__nv_bfloat16>(c, layer, a, stream);
  case SKRT_KV_F16:
    return kvc_scores_launch<__half>(c, layer, a, stream);
  default:
    return kvc_scores_launch<float>(c, layer, a, stream);
  }
}

const struct skrt_kv_cache_ops kvc_ops = {
    kvc_destroy, kvc_reset, kvc_position, kvc_footprint, kvc_forward, kvc_scores,
};

int kvc_create(kvc_cache *c, struct skrt_context *ctx) {
  const struct skrt_kv_cache_config *g = &c->head.cfg;
  c->head.ops = &kvc_ops;
  c->dims = skrt_kv_dims{g->D, g->topk, g->window, g->Hq / g->Hkv, g->gate, (float)g->scale};
  c->elem = g->dtype == SKRT_KV_F32 ? 4 : 2;
  c->streams = g->layers * g->B * g->Hkv;
  c->fper = skrt_kv_stream_floats(g->topk, g->window);
  c->iper = skrt_kv_stream_ints(g->topk);
  int64_t cap = g_max_active > 0 ? g_max_active : 65536 + 4 * g->topk;
  c->cap = g->max_positions < cap ? g->max_positions : cap;
  c->stream = (cudaStream_t)skrt_context_cuda_stream(ctx);
  int st = kvc_prepare(c);
  return st ? st : kvc_alloc(c);
}

} // namespace

extern "C" int skrt_cuda_kv_cache_create(const struct skrt_kv_cache_config *cfg,
                                         struct skrt_context *ctx, struct skrt_kv_cache **out) {
  if (!out)
    return skrt_error(SKRT_ERR_NULL, "kv cache create: out is NULL");
  *out = NULL;
  struct skrt_kv_cache_config n;
  int st = skrt_kv_cache_config_normalize(cfg, &n);
  st = st ? st : check_device_config(&n);
  if (st)
    return st;
  kvc_cache *c = (kvc_cache *)calloc(1, sizeof(kvc_cache));
  if (!c)
    return skrt_error(SKRT_ERR_NOMEM, "kv cache create: out of memory");
  c->head.cfg = n;
  st = kvc_create(c, ctx);
  if (st) {
    kvc_destroy(reinterpret_cast<struct skrt_kv_cache *>(c));
    return st;
  }
  *out = reinterpret_cast<struct skrt_kv_cache *>(c);
  return SKRT_OK;
}

extern "C" int64_t skrt_cuda_kv_set_max_active(int64_t cap) {
  int64_t old = g_max_active;
  g_max_active = cap > 0 ? cap : 0;
  return old;
}

extern "C" int64_t skrt_cuda_kv_set_splits(int64_t splits) {
  int64_t old = g_splits;
  g_splits = splits > 0 ? splits : 0;
  return old;
}
