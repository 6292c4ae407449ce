/* CUDA decode over the SparseK KV cache (S12): a device-memory cache and one launch per step
 * for the whole batch. STAGING COPY: compiled here (nvcc, sm_90a) and driven by
 * bench_decode_cuda.cu; it belongs in runtime/kernels/cuda_decode.cuh + runtime/cuda/ behind
 * skrt_kv_cache_create(device = CUDA) once those paths are handed over. Not run on a GPU yet.
 *
 * Layout: the CPU cache's streams (kernels/cpu_decode.h) with device pointers: per
 * (layer, b, KV head) K/V rows (topk selected slots, then the window ring), the selected-set
 * scalars and heap, the saturated heap, and a free-score heap of FIXED capacity cap_free
 * (the device cannot grow it; a step that could overflow it is refused with an error flag).
 * The state update is the CPU's own code (skrt_kv_stream_append, __host__ __device__), run
 * by thread 0 of the stream's block, so the semantics are identical by construction.
 *
 * Kernel: one launch per step; a block per (stream, split), 256 threads (8 warps). With many
 * streams (B * Hkv >= the GPU's resident blocks) there is one split per stream and a plain
 * launch; with few streams the k + w rows of a stream are split over S blocks and the launch
 * is cooperative (grid-wide barriers, all blocks resident):
 *   1. thread 0 of split 0 checks the score and the heap room and appends the token
 *      (ref: S6-S8, S3); barrier (grid-wide when split);
 *   2. gates m_r = clip(u_r - tau, 0, 1) of the selected rows, 1 for window rows (ref: S7),
 *      for the block's rows [r0, r0 + n);
 *   3. warps take rows r0 + warp, + 8, ...: lanes read the K row (coalesced), each of the
 *      g <= 8 query heads of the group gets q . k by warp shuffles; s = scale * m * q . k
 *      for gate kv, scale * q . k for gate v (ref: S9), kept in shared memory;
 *   4. warp h: local max, exp, sum for head h (ref: S10); weights e^(s - max) m_r;
 *   5. warps accumulate the weighted v rows in registers, summed over warps in shared memory;
 *   6. one split: o = acc / sum; S splits: (max, sum, acc) per split to global scratch, grid
 *      barrier, split 0 merges with the log-sum-exp rule (ref: S10).
 * Limits: D <= 128, g <= 8 (checked by the host side). fp32 K/V (bf16 storage is next). */
#ifndef SKRT_BENCH_CUDA_DECODE_CUH
#define SKRT_BENCH_CUDA_DECODE_CUH

#include <cooperative_groups.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

#include "kernels/cpu_decode.h"

#define SKRT_KVC_THREADS 256
#define SKRT_KVC_WARPS (SKRT_KVC_THREADS / 32)
#define SKRT_KVC_GMAX 8
#define SKRT_KVC_DMAX 128

enum { SKRT_KVC_ERR_NONFINITE = 1, SKRT_KVC_ERR_FULL = 2 };

/* Arguments of one step. Element strides of (b, h); the D axis is contiguous. */
struct skrt_kvc_step {
  struct skrt_kv_stream *streams; /* device array: the layer's B * Hkv streams */
  struct skrt_kv_dims dims;
  int64_t Hkv, N;             /* N tokens per sequence this launch (outputs only N = 1) */
  const float *q, *k, *v, *u; /* q (B,Hq,D); k, v (B,Hkv,N,D); u (B,Hkv,N); q may be NULL */
  float *o;                   /* (B,Hq,D) */
  int64_t q_stride[2], k_stride[3], v_stride[3], u_stride[3], o_stride[2];
  int64_t splits; /* blocks per stream (1: plain launch; > 1: cooperative launch) */
  float *part;    /* global scratch: streams x splits x g x (max, sum, acc[D]) */
  int *err;       /* device flag: first error code of the launch */
};

/* Thread 0: appends the step's tokens to its stream unless a score is not finite or the
 * free-score heap could overflow (then the stream is left unchanged and *err is set). */
__device__ static void skrt_kvc_update(const struct skrt_kvc_step *p, struct skrt_kv_stream *s,
                                       int64_t b, int64_t h) {
  const float *u = p->u + b * p->u_stride[0] + h * p->u_stride[1];
  for (int64_t n = 0; n < p->N; n++)
    if (!isfinite(u[n * p->u_stride[2]])) {
      atomicCAS(p->err, 0, SKRT_KVC_ERR_NONFINITE);
      return;
    }
  if (s->tau.n_free + s->tau.n_sat + p->N > s->tau.cap_free) {
    atomicCAS(p->err, 0, SKRT_KVC_ERR_FULL);
    return;
  }
  const float *k = p->k + b * p->k_stride[0] + h * p->k_stride[1];
  const float *v = p->v + b * p->v_stride[0] + h * p->v_stride[1];
  for (int64_t n = 0; n < p->N; n++)
    skrt_kv_stream_append(s, &p->dims, k + n * p->k_stride[2], v + n * p->v_stride[2],
                          u[n * p->u_stride[2]]);
}

__device__ static float skrt_kvc_warp_sum(float x) {
  for (int off = 16; off > 0; off >>= 1)
    x += __shfl_xor_sync(0xffffffffu, x, off);
  return x;
}

__device__ static float skrt_kvc_warp_max(float x) {
  for (int off = 16; off > 0; off >>= 1)
    x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, off));
  return x;
}

/* Step 3: logits of the group's heads for rows [r0, r0 + n) (ref: S9). */
__device__ static void skrt_kvc_logits(const struct skrt_kv_stream *s, const struct skrt_kv_dims *d,
                                       const float (*qr)[4], const float *gate, float *logit,
                                       int64_t r0, int64_t n, int64_t ldl, int warp, int lane) {
  for (int64_t j = warp; j < n; j += SKRT_KVC_WARPS) {
    const float *kr = s->k + skrt_kv_row(s, d, r0 + j) * d->D;
    float kv[4];
#pragma unroll
    for (int i = 0; i < 4; i++)
      kv[i] = lane + 32 * i < d->D ? kr[lane + 32 * i] : 0.0f;
    float gs = d->gate == SKRT_GATE_KV ? d->scale * gate[j] : d->scale;
#pragma unroll
    for (int h = 0; h < SKRT_KVC_GMAX; h++) /* unrolled: registers, not stack */
      if (h < d->g) {
        float a = qr[h][0] * kv[0] + qr[h][1] * kv[1] + qr[h][2] * kv[2] + qr[h][3] * kv[3];
        a = skrt_kvc_warp_sum(a);
        if (lane == 0)
          logit[h * ldl + j] = gs * a;
      }
  }
}

/* Step 4: warp h turns head h's logits into weights e^(s - max) m_r; stat[h] = (max, sum of
 * e^(s - max)) over the block's rows; (-inf, 0) when it has none (ref: S10). */
__device__ static void skrt_kvc_softmax(const float *gate, float *logit, int64_t n, int64_t ldl,
                                        int g, float *stat, int warp, int lane) {
  for (int h = warp; h < g; h += SKRT_KVC_WARPS) {
    float *x = logit + h * ldl, mx = -INFINITY, sum = 0.0f;
    for (int64_t j = lane; j < n; j += 32)
      mx = fmaxf(mx, x[j]);
    mx = skrt_kvc_warp_max(mx);
    for (int64_t j = lane; j < n; j += 32) {
      x[j] = expf(x[j] - mx);
      sum += x[j];
      x[j] *= gate[j];
    }
    sum = skrt_kvc_warp_sum(sum);
    if (lane == 0)
      stat[2 * h] = mx, stat[2 * h + 1] = sum;
  }
}

/* Step 5: acc_h = sum_j w_hj v_j over the block's rows; registers per warp, then red[warp]. */
__device__ static void skrt_kvc_accumulate(const struct skrt_kv_stream *s,
                                           const struct skrt_kv_dims *d, const float *w, int64_t r0,
                                           int64_t n, int64_t ldl, float *red, int warp, int lane) {
  float acc[SKRT_KVC_GMAX][4] = {{0.0f}};
  for (int64_t j = warp; j < n; j += SKRT_KVC_WARPS) {
    const float *vr = s->v + skrt_kv_row(s, d, r0 + j) * d->D;
    float vv[4];
#pragma unroll
    for (int i = 0; i < 4; i++)
      vv[i] = lane + 32 * i < d->D ? vr[lane + 32 * i] : 0.0f;
#pragma unroll
    for (int h = 0; h < SKRT_KVC_GMAX; h++) /* unrolled: registers, not stack */
      if (h < d->g) {
#pragma unroll
        for (int i = 0; i < 4; i++)
          acc[h][i] += w[h * ldl + j] * vv[i];
      }
  }
#pragma unroll
  for (int h = 0; h < SKRT_KVC_GMAX; h++) {
    if (h < d->g) {
#pragma unroll
      for (int i = 0; i < 4; i++)
        if (lane + 32 * i < d->D)
          red[(warp * d->g + h) * d->D + lane + 32 * i] = acc[h][i];
    }
  }
}

/* Rows of one split: ceil(rows / splits). */
static inline __host__ __device__ int64_t skrt_kvc_chunk(int64_t rows, int64_t splits) {
  return (rows + splits - 1) / splits;
}

/* Dynamic shared memory: gates and logits (g + 1) x chunk, warp partials WARPS x g x D, and
 * the per-head (max, sum). */
static inline size_t skrt_kvc_smem_bytes(const struct skrt_kv_dims *d, int64_t splits) {
  int64_t chunk = skrt_kvc_chunk(d->topk + d->window, splits);
  return sizeof(float) * (size_t)((d->g + 1) * chunk + SKRT_KVC_WARPS * d->g * d->D + 2 * d->g);
}

/* Floats of global scratch per (stream, split): g x (max, sum, acc[D]). */
static inline __host__ __device__ int64_t skrt_kvc_part_floats(const struct skrt_kv_dims *d) {
  return d->g * (d->D + 2);
}

/* Steps 2-5 for this block's rows; leaves red (summed by the caller) and stat. */
__device__ static void skrt_kvc_attend_rows(const struct skrt_kvc_step *p,
                                            const struct skrt_kv_stream *s, int64_t b, int64_t h,
                                            int64_t split, float *smem) {
  const struct skrt_kv_dims *d = &p->dims;
  int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  int64_t nr = skrt_kv_stream_rows(s, d), ldl = skrt_kvc_chunk(d->topk + d->window, p->splits);
  int64_t chunk = skrt_kvc_chunk(nr, p->splits), r0 = split * chunk;
  int64_t n = r0 >= nr ? 0 : (nr - r0 < chunk ? nr - r0 : chunk);
  float *gate = smem, *logit = gate + ldl, *red = logit + d->g * ldl;
  float *stat = red + SKRT_KVC_WARPS * d->g * d->D;
  for (int64_t j = threadIdx.x; j < n; j += SKRT_KVC_THREADS) /* ref: S6, S7 */
    gate[j] = r0 + j < s->n_sel ? skrt_kv_gate(s->tau.tau, s->sel_u[r0 + j]) : 1.0f;
  float qr[SKRT_KVC_GMAX][4];
  const float *q = p->q + b * p->q_stride[0] + h * d->g * p->q_stride[1];
#pragma unroll
  for (int j = 0; j < SKRT_KVC_GMAX; j++) {
#pragma unroll
    for (int i = 0; i < 4; i++)
      qr[j][i] = j < d->g && lane + 32 * i < d->D ? q[j * p->q_stride[1] + lane + 32 * i] : 0.0f;
  }
  __syncthreads();
  skrt_kvc_logits(s, d, qr, gate, logit, r0, n, ldl, warp, lane);
  __syncthreads();
  skrt_kvc_softmax(gate, logit, n, ldl, (int)d->g, stat, warp, lane);
  __syncthreads();
  skrt_kvc_accumulate(s, d, logit, r0, n, ldl, red, warp, lane);
  __syncthreads();
}

/* Sum of the warp partials of element t (head t / D, column t % D). */
__device__ static float skrt_kvc_red(const struct skrt_kv_dims *d, const float *red, int64_t t) {
  float sum = 0.0f;
  for (int w = 0; w < SKRT_KVC_WARPS; w++)
    sum += red[w * d->g * d->D + t];
  return sum;
}

/* Step 6, split 0 of a split launch: merge the S partials of its stream (ref: S10). */
__device__ static void skrt_kvc_merge(const struct skrt_kvc_step *p, int64_t stream, float *o) {
  const struct skrt_kv_dims *d = &p->dims;
  const float *part = p->part + stream * p->splits * skrt_kvc_part_floats(d);
  for (int64_t t = threadIdx.x; t < d->g * d->D; t += SKRT_KVC_THREADS) {
    int64_t hh = t / d->D, c = t % d->D;
    float M = -INFINITY, L = 0.0f, A = 0.0f;
    for (int64_t sp = 0; sp < p->splits; sp++)
      M = fmaxf(M, part[sp * skrt_kvc_part_floats(d) + hh * (d->D + 2)]);
    for (int64_t sp = 0; sp < p->splits; sp++) {
      const float *x = part + sp * skrt_kvc_part_floats(d) + hh * (d->D + 2);
      float e = x[1] > 0.0f ? expf(x[0] - M) : 0.0f;
      L += x[1] * e;
      A += x[2 + c] * e;
    }
    o[hh * p->o_stride[1] + c] = L > 0.0f ? A / L : 0.0f;
  }
}

template <bool SPLIT>
__global__ static void __launch_bounds__(SKRT_KVC_THREADS)
    skrt_kvc_step_kernel(struct skrt_kvc_step p) {
  extern __shared__ float smem[];
  const struct skrt_kv_dims *d = &p.dims;
  int64_t stream = blockIdx.x / p.splits, split = blockIdx.x % p.splits;
  int64_t b = stream / p.Hkv, h = stream % p.Hkv;
  struct skrt_kv_stream *s = &p.streams[stream];
  if (split == 0 && threadIdx.x == 0)
    skrt_kvc_update(&p, s, b, h);
  if (!p.q)
    return; /* append only: never a split launch */
  if (SPLIT)
    cooperative_groups::this_grid().sync();
  else
    __syncthreads();
  skrt_kvc_attend_rows(&p, s, b, h, split, smem);
  float *red = smem + (d->g + 1) * skrt_kvc_chunk(d->topk + d->window, p.splits);
  float *stat = red + SKRT_KVC_WARPS * d->g * d->D;
  float *o = p.o + b * p.o_stride[0] + h * d->g * p.o_stride[1];
  if (!SPLIT) {
    for (int64_t t = threadIdx.x; t < d->g * d->D; t += SKRT_KVC_THREADS) {
      float L = stat[2 * (t / d->D) + 1];
      o[(t / d->D) * p.o_stride[1] + t % d->D] = L > 0.0f ? skrt_kvc_red(d, red, t) / L : 0.0f;
    }
    return;
  }
  float *part = p.part + (stream * p.splits + split) * skrt_kvc_part_floats(d);
  for (int64_t t = threadIdx.x; t < d->g * d->D; t += SKRT_KVC_THREADS)
    part[(t / d->D) * (d->D + 2) + 2 + t % d->D] = skrt_kvc_red(d, red, t);
  for (int64_t hh = threadIdx.x; hh < d->g; hh += SKRT_KVC_THREADS)
    part[hh * (d->D + 2)] = stat[2 * hh], part[hh * (d->D + 2) + 1] = stat[2 * hh + 1];
  cooperative_groups::this_grid().sync();
  if (split == 0)
    skrt_kvc_merge(&p, stream, o);
}

#endif
