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
 * Kernel: grid = B * Hkv blocks of 256 threads (8 warps), one block per stream of the layer.
 *   1. thread 0 checks the score and the heap room, then appends the token (ref: S6-S8, S3);
 *   2. gates m_r = clip(u_r - tau, 0, 1) of the selected rows, 1 for window rows (ref: S7);
 *   3. warps take rows r = warp, warp + 8, ...: lanes read the K row (coalesced), each of the
 *      g <= 8 query heads of the group gets q . k by warp shuffles; s = scale * m * q . k
 *      for gate kv, scale * q . k for gate v (ref: S9), kept in shared memory;
 *   4. warp h normalizes head h: max, exp, sum (ref: S10), weights P_hr m_r;
 *   5. warps accumulate P m v over their rows in registers; a shared-memory sum over warps
 *      gives o (ref: S10).
 * Limits: D <= 128, g <= 8 (asserted by the host side). fp32 K/V (bf16 storage and a
 * split over blocks for small batches are the next steps). */
#ifndef SKRT_BENCH_CUDA_DECODE_CUH
#define SKRT_BENCH_CUDA_DECODE_CUH

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
  int *err; /* device flag: first error code of the launch */
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

/* Step 3: logits of the group's heads for this warp's rows (ref: S9). */
__device__ static void skrt_kvc_logits(const struct skrt_kv_stream *s, const struct skrt_kv_dims *d,
                                       const float (*qr)[4], const float *gate, float *logit,
                                       int64_t nr, int64_t ld, int warp, int lane) {
  for (int64_t r = warp; r < nr; r += SKRT_KVC_WARPS) {
    const float *kr = s->k + skrt_kv_row(s, d, r) * d->D;
    float kv[4];
#pragma unroll
    for (int i = 0; i < 4; i++)
      kv[i] = lane + 32 * i < d->D ? kr[lane + 32 * i] : 0.0f;
    float gs = d->gate == SKRT_GATE_KV ? d->scale * gate[r] : d->scale;
#pragma unroll
    for (int h = 0; h < SKRT_KVC_GMAX; h++) /* unrolled: registers, not stack */
      if (h < d->g) {
        float a = qr[h][0] * kv[0] + qr[h][1] * kv[1] + qr[h][2] * kv[2] + qr[h][3] * kv[3];
        a = skrt_kvc_warp_sum(a);
        if (lane == 0)
          logit[h * ld + r] = gs * a;
      }
  }
}

/* Step 4: warp h turns head h's logits into weights P_hr m_r (ref: S10). */
__device__ static void skrt_kvc_softmax(const float *gate, float *logit, int64_t nr, int64_t ld,
                                        int g, int warp, int lane) {
  for (int h = warp; h < g; h += SKRT_KVC_WARPS) {
    float *x = logit + h * ld, mx = -INFINITY, sum = 0.0f;
    for (int64_t r = lane; r < nr; r += 32)
      mx = fmaxf(mx, x[r]);
    mx = skrt_kvc_warp_max(mx);
    for (int64_t r = lane; r < nr; r += 32) {
      x[r] = expf(x[r] - mx);
      sum += x[r];
    }
    float inv = 1.0f / skrt_kvc_warp_sum(sum);
    for (int64_t r = lane; r < nr; r += 32)
      x[r] *= inv * gate[r];
  }
}

/* Step 5: o_h = sum_r w_hr v_r; registers per warp, then a sum over warps (ref: S10). */
__device__ static void skrt_kvc_accumulate(const struct skrt_kv_stream *s,
                                           const struct skrt_kv_dims *d, const float *w, int64_t nr,
                                           int64_t ld, float *red, int warp, int lane) {
  float acc[SKRT_KVC_GMAX][4] = {{0.0f}};
  for (int64_t r = warp; r < nr; r += SKRT_KVC_WARPS) {
    const float *vr = s->v + skrt_kv_row(s, d, r) * d->D;
    float vv[4];
#pragma unroll
    for (int i = 0; i < 4; i++)
      vv[i] = lane + 32 * i < d->D ? vr[lane + 32 * i] : 0.0f;
#pragma unroll
    for (int h = 0; h < SKRT_KVC_GMAX; h++) /* unrolled: registers, not stack */
      if (h < d->g) {
#pragma unroll
        for (int i = 0; i < 4; i++)
          acc[h][i] += w[h * ld + r] * vv[i];
      }
  }
#pragma unroll
  for (int h = 0; h < SKRT_KVC_GMAX; h++) { /* unrolled: registers, not stack */
    if (h < d->g) {
#pragma unroll
      for (int i = 0; i < 4; i++)
        if (lane + 32 * i < d->D)
          red[(warp * d->g + h) * d->D + lane + 32 * i] = acc[h][i];
    }
  }
}

/* Dynamic shared memory of the step kernel: gates and logits (g + 1) x (topk + window), the
 * warp partial outputs WARPS x g x D. */
static inline size_t skrt_kvc_smem_bytes(const struct skrt_kv_dims *d) {
  return sizeof(float) *
         (size_t)((d->g + 1) * (d->topk + d->window) + SKRT_KVC_WARPS * d->g * d->D);
}

__global__ static void __launch_bounds__(SKRT_KVC_THREADS)
    skrt_kvc_step_kernel(struct skrt_kvc_step p) {
  extern __shared__ float smem[];
  const struct skrt_kv_dims *d = &p.dims;
  int64_t b = blockIdx.x / p.Hkv, h = blockIdx.x % p.Hkv;
  int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  struct skrt_kv_stream *s = &p.streams[blockIdx.x];
  if (threadIdx.x == 0)
    skrt_kvc_update(&p, s, b, h);
  __syncthreads();
  if (!p.q || s->pos == 0)
    return;
  int64_t ld = d->topk + d->window, nr = skrt_kv_stream_rows(s, d);
  float *gate = smem, *logit = smem + ld, *red = logit + d->g * ld;
  for (int64_t r = threadIdx.x; r < nr; r += SKRT_KVC_THREADS) /* ref: S6, S7 */
    gate[r] = r < s->n_sel ? skrt_kv_gate(s->tau.tau, s->sel_u[r]) : 1.0f;
  float qr[SKRT_KVC_GMAX][4];
  const float *q = p.q + b * p.q_stride[0] + h * d->g * p.q_stride[1];
#pragma unroll
  for (int j = 0; j < SKRT_KVC_GMAX; j++) {
#pragma unroll
    for (int i = 0; i < 4; i++)
      qr[j][i] = j < d->g && lane + 32 * i < d->D ? q[j * p.q_stride[1] + lane + 32 * i] : 0.0f;
  }
  __syncthreads();
  skrt_kvc_logits(s, d, qr, gate, logit, nr, ld, warp, lane);
  __syncthreads();
  skrt_kvc_softmax(gate, logit, nr, ld, (int)d->g, warp, lane);
  __syncthreads();
  skrt_kvc_accumulate(s, d, logit, nr, ld, red, warp, lane);
  __syncthreads();
  float *o = p.o + b * p.o_stride[0] + h * d->g * p.o_stride[1];
  for (int64_t t = threadIdx.x; t < d->g * d->D; t += SKRT_KVC_THREADS) {
    float sum = 0.0f;
    for (int w = 0; w < SKRT_KVC_WARPS; w++)
      sum += red[w * d->g * d->D + t];
    o[(t / d->D) * p.o_stride[1] + t % d->D] = sum;
  }
}

#endif
