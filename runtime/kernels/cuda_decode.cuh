/* CUDA decode over the SparseK KV cache (S12): one launch per step for the whole batch and all
 * heads, over the device streams that runtime/cuda/kv_cache.cu allocates and wires.
 *
 * Layout: the CPU cache's streams (kernels/cpu_decode.h) with device pointers: per
 * (layer, b, KV head) K/V rows (topk selected slots, then the window ring) of element type T
 * (float, bf16 or fp16; s->k / s->v are declared float * and point at T rows), the
 * selected-set scalars and heap, the saturated heap, and a free-score heap of FIXED capacity
 * cap_free (the device cannot grow it; a step that could overflow it is refused with an error
 * flag). The state update is the CPU's own code (skrt_kv_stream_advance, __host__ __device__),
 * run by thread 0 of the stream's block, so the semantics are identical by construction; the
 * block then moves the K/V rows it returned.
 *
 * Kernel: a block per (stream, split), 256 threads (8 warps). With many streams
 * (B * Hkv >= the GPU's SMs) there is one split per stream and a plain launch; with few
 * streams the k + w rows of a stream are split over S blocks and the launch is cooperative
 * (grid-wide barriers, all blocks resident):
 *   0. every block checks every score of the step (B * Hkv floats): one non-finite score
 *      refuses the whole step (no block changes anything); N > 1 steps are checked by
 *      skrt_kvc_check_kernel beforehand (refuse[0]);
 *   1. split 0 appends the token(s): thread 0 updates the scalars (ref: S6-S8, S3), the block
 *      moves the K/V rows; barrier (grid-wide when split);
 *   2. gates m_r = clip(u_r - tau, 0, 1) of the selected rows, 1 for window rows (ref: S7),
 *      for the block's rows [r0, r0 + n);
 *   3. warps take rows r0 + warp, + 8, ...: lane l holds columns [4l, 4l + 4) of the K row
 *      (one vector load), each of the g <= 8 query heads of the group gets q . k by warp
 *      shuffles; s = scale * m * q . k for gate kv, scale * q . k for gate v (ref: S9);
 *   4. warp h: max, exp, sum for head h (ref: S10); weights e^(s - max) m_r;
 *   5. warps accumulate the weighted v rows in registers (fp32), summed over warps in shared
 *      memory;
 *   6. one split: o = acc / sum; S splits: (max, sum, acc) per split to global scratch, grid
 *      barrier, split 0 merges with the log-sum-exp rule (ref: S10).
 * Limits (asserted by the host side): D % 4 == 0, D <= 128, g <= 8. */
#ifndef SKRT_KERNELS_CUDA_DECODE_CUH
#define SKRT_KERNELS_CUDA_DECODE_CUH

#include <cooperative_groups.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

#include "kernels/cpu_decode.h"
#include "kernels/cuda_common.cuh"

#define SKRT_KVC_THREADS 256
#define SKRT_KVC_WARPS (SKRT_KVC_THREADS / 32)
#define SKRT_KVC_GMAX 8
#define SKRT_KVC_DMAX 128

enum { SKRT_KVC_ERR_NONFINITE = 1, SKRT_KVC_ERR_FULL = 2 };

/* Arguments of one step. Element strides of (b, h, n); the D axis is contiguous. */
template <typename T> struct skrt_kvc_step {
  struct skrt_kv_stream *streams; /* device array: the layer's B * Hkv streams */
  struct skrt_kv_dims dims;
  int64_t B, Hkv, N;        /* N tokens per sequence this launch (outputs only for N = 1) */
  const T *q, *k, *v;       /* q (B,Hq,D); k, v (B,Hkv,N,D); q may be NULL (append only) */
  const float *u;           /* (B,Hkv,N) */
  T *o;                     /* (B,Hq,D) */
  int64_t q_stride[2], k_stride[3], v_stride[3], u_stride[3], o_stride[2];
  int64_t splits;           /* blocks per stream (1: plain launch; > 1: cooperative launch) */
  float *part;              /* global scratch: streams x splits x g x (max, sum, acc[D]) */
  int *err;                 /* device words: [0] refused by the check kernel, [1] this step */
};

/* ---- element access ------------------------------------------------------------------------ */

/* Columns [c, c + 4) of a row as floats (c % 4 == 0; rows are 4-element aligned). */
__device__ __forceinline__ void skrt_kvc_load4(const float *p, float *x) {
  float4 v = *reinterpret_cast<const float4 *>(p);
  x[0] = v.x, x[1] = v.y, x[2] = v.z, x[3] = v.w;
}
template <typename H2> __device__ __forceinline__ void skrt_kvc_load4_h(const void *p, float *x) {
  uint2 raw = *reinterpret_cast<const uint2 *>(p);
  H2 a = *reinterpret_cast<H2 *>(&raw.x), b = *reinterpret_cast<H2 *>(&raw.y);
  x[0] = skrt_to_f(a.x), x[1] = skrt_to_f(a.y), x[2] = skrt_to_f(b.x), x[3] = skrt_to_f(b.y);
}
__device__ __forceinline__ void skrt_kvc_load4(const __nv_bfloat16 *p, float *x) {
  skrt_kvc_load4_h<__nv_bfloat162>(p, x);
}
__device__ __forceinline__ void skrt_kvc_load4(const __half *p, float *x) {
  skrt_kvc_load4_h<__half2>(p, x);
}

/* Row r of a stream's K or V storage (declared float *, holding T). */
template <typename T>
__device__ __forceinline__ T *skrt_kvc_row(float *base, const struct skrt_kv_dims *d, int64_t r) {
  return reinterpret_cast<T *>(base) + r * d->D;
}

/* ---- 0. score check -------------------------------------------------------------------------- */

/* True (in every thread) when a score of the step is not finite. Block-wide. */
template <typename T> __device__ static bool skrt_kvc_refused(const struct skrt_kvc_step<T> &p) {
  int bad = 0;
  if (p.N == 1)
    for (int64_t i = threadIdx.x; i < p.B * p.Hkv; i += SKRT_KVC_THREADS)
      bad |= !isfinite(p.u[(i / p.Hkv) * p.u_stride[0] + (i % p.Hkv) * p.u_stride[1]]);
  else
    bad = *(volatile int *)p.err != 0;
  return __syncthreads_or(bad) != 0;
}

/* N > 1: one thread per score; any non-finite one sets err[0] (the step kernel reads it). */
__global__ static void skrt_kvc_check_kernel(const float *u, int64_t B, int64_t Hkv, int64_t N,
                                             int64_t s0, int64_t s1, int64_t s2, int *err) {
  int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= B * Hkv * N)
    return;
  int64_t n = i % N, h = (i / N) % Hkv, b = i / (N * Hkv);
  if (!isfinite(u[b * s0 + h * s1 + n * s2]))
    atomicCAS(err, 0, SKRT_KVC_ERR_NONFINITE);
}

/* ---- 1. the state update --------------------------------------------------------------------- */

/* The block appends the step's N tokens to its stream: thread 0 runs the scalar update
 * (ref: S6-S8, S3), all threads move the rows. Refused (stream unchanged, err[1] set) when the
 * free-score heap could overflow. */
template <typename T>
__device__ static void skrt_kvc_update(const struct skrt_kvc_step<T> &p, struct skrt_kv_stream *s,
                                       int64_t b, int64_t h) {
  __shared__ struct skrt_kv_move mv;
  __shared__ int full;
  const struct skrt_kv_dims *d = &p.dims;
  if (threadIdx.x == 0) {
    full = s->tau.n_free + s->tau.n_sat + p.N > s->tau.cap_free;
    if (full)
      atomicCAS(p.err + 1, 0, SKRT_KVC_ERR_FULL);
  }
  __syncthreads();
  if (full)
    return;
  const float *u = p.u + b * p.u_stride[0] + h * p.u_stride[1];
  const T *k = p.k + b * p.k_stride[0] + h * p.k_stride[1];
  const T *v = p.v + b * p.v_stride[0] + h * p.v_stride[1];
  for (int64_t n = 0; n < p.N; n++) {
    if (threadIdx.x == 0)
      mv = skrt_kv_stream_advance(s, d, u[n * p.u_stride[2]]);
    __syncthreads();
    for (int64_t c = threadIdx.x; mv.to >= 0 && c < d->D; c += SKRT_KVC_THREADS) {
      skrt_kvc_row<T>(s->k, d, mv.to)[c] = skrt_kvc_row<T>(s->k, d, mv.from)[c];
      skrt_kvc_row<T>(s->v, d, mv.to)[c] = skrt_kvc_row<T>(s->v, d, mv.from)[c];
    }
    __syncthreads();
    for (int64_t c = threadIdx.x; mv.row >= 0 && c < d->D; c += SKRT_KVC_THREADS) {
      skrt_kvc_row<T>(s->k, d, mv.row)[c] = k[n * p.k_stride[2] + c];
      skrt_kvc_row<T>(s->v, d, mv.row)[c] = v[n * p.v_stride[2] + c];
    }
    __syncthreads();
  }
}

/* ---- 2.-5. attention over the block's rows --------------------------------------------------- */

__device__ __forceinline__ float skrt_kvc_warp_sum(float x) {
  for (int off = 16; off > 0; off >>= 1)
    x += __shfl_xor_sync(0xffffffffu, x, off);
  return x;
}

__device__ __forceinline__ float skrt_kvc_warp_max(float x) {
  for (int off = 16; off > 0; off >>= 1)
    x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, off));
  return x;
}

/* Step 3: logits of the group's heads for rows [r0, r0 + n) (ref: S9). */
template <typename T>
__device__ static void skrt_kvc_logits(const struct skrt_kv_stream *s, const struct skrt_kv_dims *d,
                                       const float (*qr)[4], const float *gate, float *logit,
                                       int64_t r0, int64_t n, int64_t ldl, int warp, int lane) {
  for (int64_t j = warp; j < n; j += SKRT_KVC_WARPS) {
    float kv[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    if (4 * lane < d->D)
      skrt_kvc_load4(skrt_kvc_row<T>(s->k, d, skrt_kv_row(s, d, r0 + j)) + 4 * lane, kv);
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
template <typename T>
__device__ static void skrt_kvc_accumulate(const struct skrt_kv_stream *s,
                                           const struct skrt_kv_dims *d, const float *w, int64_t r0,
                                           int64_t n, int64_t ldl, float *red, int warp, int lane) {
  float acc[SKRT_KVC_GMAX][4] = {{0.0f}};
  for (int64_t j = warp; j < n; j += SKRT_KVC_WARPS) {
    float vv[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    if (4 * lane < d->D)
      skrt_kvc_load4(skrt_kvc_row<T>(s->v, d, skrt_kv_row(s, d, r0 + j)) + 4 * lane, vv);
#pragma unroll
    for (int h = 0; h < SKRT_KVC_GMAX; h++) /* unrolled: registers, not stack */
      if (h < d->g) {
#pragma unroll
        for (int i = 0; i < 4; i++)
          acc[h][i] += w[h * ldl + j] * vv[i];
      }
  }
#pragma unroll
  for (int h = 0; h < SKRT_KVC_GMAX; h++)
    if (h < d->g && 4 * lane < d->D) {
#pragma unroll
      for (int i = 0; i < 4; i++)
        red[(warp * d->g + h) * d->D + 4 * lane + i] = acc[h][i];
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
template <typename T>
__device__ static void skrt_kvc_attend_rows(const struct skrt_kvc_step<T> &p,
                                            const struct skrt_kv_stream *s, int64_t b, int64_t h,
                                            int64_t split, float *smem) {
  const struct skrt_kv_dims *d = &p.dims;
  int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  int64_t nr = skrt_kv_stream_rows(s, d), ldl = skrt_kvc_chunk(d->topk + d->window, p.splits);
  int64_t chunk = skrt_kvc_chunk(nr, p.splits), r0 = split * chunk;
  int64_t n = r0 >= nr ? 0 : (nr - r0 < chunk ? nr - r0 : chunk);
  float *gate = smem, *logit = gate + ldl, *red = logit + d->g * ldl;
  float *stat = red + SKRT_KVC_WARPS * d->g * d->D;
  for (int64_t j = threadIdx.x; j < n; j += SKRT_KVC_THREADS) /* ref: S6, S7 */
    gate[j] = r0 + j < s->n_sel ? skrt_kv_gate(s->tau.tau, s->sel_u[r0 + j]) : 1.0f;
  float qr[SKRT_KVC_GMAX][4];
  const T *q = p.q + b * p.q_stride[0] + h * d->g * p.q_stride[1];
#pragma unroll
  for (int j = 0; j < SKRT_KVC_GMAX; j++) {
#pragma unroll
    for (int i = 0; i < 4; i++)
      qr[j][i] = j < d->g && 4 * lane < d->D ? skrt_to_f(q[j * p.q_stride[1] + 4 * lane + i]) : 0.0f;
  }
  __syncthreads();
  skrt_kvc_logits<T>(s, d, qr, gate, logit, r0, n, ldl, warp, lane);
  __syncthreads();
  skrt_kvc_softmax(gate, logit, n, ldl, (int)d->g, stat, warp, lane);
  __syncthreads();
  skrt_kvc_accumulate<T>(s, d, logit, r0, n, ldl, red, warp, lane);
  __syncthreads();
}

/* Sum of the warp partials of element t (head t / D, column t % D). */
__device__ static float skrt_kvc_red(const struct skrt_kv_dims *d, const float *red, int64_t t) {
  float sum = 0.0f;
  for (int w = 0; w < SKRT_KVC_WARPS; w++)
    sum += red[w * d->g * d->D + t];
  return sum;
}

/* ---- 6. outputs ------------------------------------------------------------------------------ */

/* Split 0 of a split launch: merge the S partials of its stream (ref: S10). */
template <typename T>
__device__ static void skrt_kvc_merge(const struct skrt_kvc_step<T> &p, int64_t stream, T *o) {
  const struct skrt_kv_dims *d = &p.dims;
  const int64_t pf = skrt_kvc_part_floats(d);
  const float *part = p.part + stream * p.splits * pf;
  for (int64_t t = threadIdx.x; t < d->g * d->D; t += SKRT_KVC_THREADS) {
    int64_t hh = t / d->D, c = t % d->D;
    float M = -INFINITY, L = 0.0f, A = 0.0f;
    for (int64_t sp = 0; sp < p.splits; sp++)
      M = fmaxf(M, part[sp * pf + hh * (d->D + 2)]);
    for (int64_t sp = 0; sp < p.splits; sp++) {
      const float *x = part + sp * pf + hh * (d->D + 2);
      float e = x[1] > 0.0f ? expf(x[0] - M) : 0.0f;
      L += x[1] * e;
      A += x[2 + c] * e;
    }
    o[hh * p.o_stride[1] + c] = skrt_from_f<T>(L > 0.0f ? A / L : 0.0f);
  }
}

/* One split: o = acc / sum straight from shared memory. */
template <typename T>
__device__ static void skrt_kvc_write(const struct skrt_kvc_step<T> &p, const float *red,
                                      const float *stat, T *o) {
  const struct skrt_kv_dims *d = &p.dims;
  for (int64_t t = threadIdx.x; t < d->g * d->D; t += SKRT_KVC_THREADS) {
    float L = stat[2 * (t / d->D) + 1];
    o[(t / d->D) * p.o_stride[1] + t % d->D] =
        skrt_from_f<T>(L > 0.0f ? skrt_kvc_red(d, red, t) / L : 0.0f);
  }
}

/* Several splits: this block's (max, sum, acc) to global scratch. */
template <typename T>
__device__ static void skrt_kvc_write_part(const struct skrt_kvc_step<T> &p, int64_t stream,
                                           int64_t split, const float *red, const float *stat) {
  const struct skrt_kv_dims *d = &p.dims;
  float *part = p.part + (stream * p.splits + split) * skrt_kvc_part_floats(d);
  for (int64_t t = threadIdx.x; t < d->g * d->D; t += SKRT_KVC_THREADS)
    part[(t / d->D) * (d->D + 2) + 2 + t % d->D] = skrt_kvc_red(d, red, t);
  for (int64_t hh = threadIdx.x; hh < d->g; hh += SKRT_KVC_THREADS)
    part[hh * (d->D + 2)] = stat[2 * hh], part[hh * (d->D + 2) + 1] = stat[2 * hh + 1];
}

template <typename T, bool SPLIT>
__global__ static void __launch_bounds__(SKRT_KVC_THREADS)
    skrt_kvc_step_kernel(const struct skrt_kvc_step<T> p) {
  extern __shared__ float smem[];
  const struct skrt_kv_dims *d = &p.dims;
  int64_t stream = blockIdx.x / p.splits, split = blockIdx.x % p.splits;
  int64_t b = stream / p.Hkv, h = stream % p.Hkv;
  struct skrt_kv_stream *s = &p.streams[stream];
  if (skrt_kvc_refused(p)) { /* the same answer in every block: nobody changes anything */
    if (blockIdx.x == 0 && threadIdx.x == 0)
      atomicCAS(p.err + 1, 0, SKRT_KVC_ERR_NONFINITE);
    return;
  }
  if (split == 0)
    skrt_kvc_update(p, s, b, h);
  if (!p.q)
    return; /* append only: never a split launch */
  if (SPLIT)
    cooperative_groups::this_grid().sync();
  else
    __syncthreads();
  skrt_kvc_attend_rows(p, s, b, h, split, smem);
  float *red = smem + (d->g + 1) * skrt_kvc_chunk(d->topk + d->window, p.splits);
  float *stat = red + SKRT_KVC_WARPS * d->g * d->D;
  T *o = p.o + b * p.o_stride[0] + h * d->g * p.o_stride[1];
  if (!SPLIT) {
    skrt_kvc_write(p, red, stat, o);
    return;
  }
  skrt_kvc_write_part(p, stream, split, red, stat);
  cooperative_groups::this_grid().sync();
  if (split == 0)
    skrt_kvc_merge(p, stream, o);
}

/* ---- S5 for the next token of every sequence ------------------------------------------------- */

/* Arguments of the score kernel: u[b,h] = x . w[h] + b[h] + slope * pos_b (input mode:
 * x[b,h] + slope * pos_b). pos_b is read from the stream of (layer, b, head 0). */
template <typename T> struct skrt_kvc_scores {
  const struct skrt_kv_stream *streams; /* the layer's B * Hkv streams */
  int64_t B, Hkv, F, xs0, xs1;
  int mode; /* enum skrt_score_mode */
  const T *x;
  const float *u_in, *w, *bias;
  double slope;
  float *u;
};

/* One warp per (b, h); lanes stride over F, fp32 accumulation (ref: S5). */
template <typename T> __global__ static void skrt_kvc_scores_kernel(const struct skrt_kvc_scores<T> a) {
  int64_t i = (int64_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  int lane = threadIdx.x % 32;
  if (i >= a.B * a.Hkv)
    return;
  int64_t b = i / a.Hkv, h = i % a.Hkv;
  float s = 0.0f;
  if (a.mode == SKRT_SCORE_INPUT) {
    s = lane == 0 ? a.u_in[b * a.xs0 + h * a.xs1] : 0.0f;
  } else {
    const T *x = a.x + b * a.xs0 + (a.mode == SKRT_SCORE_KEYS ? h * a.xs1 : 0);
    for (int64_t f = lane; f < a.F; f += 32)
      s += skrt_to_f(x[f]) * a.w[h * a.F + f];
  }
  s = skrt_kvc_warp_sum(s);
  if (lane == 0) {
    float bias = a.mode != SKRT_SCORE_INPUT && a.bias ? a.bias[h] : 0.0f;
    int64_t pos = a.streams[b * a.Hkv].pos;
    a.u[b * a.Hkv + h] = (float)((double)(s + bias) + a.slope * (double)pos);
  }
}

#endif
