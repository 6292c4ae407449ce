/* CUDA kernel helpers shared by every cuda_*.cuh: element conversions for the three
 * storage types (float, bf16, fp16), the per-sequence geometry of one SparseK layer and the
 * one mask/gate rule (S6-S9) that the forward and backward kernels evaluate per (i, j). */
#ifndef SKRT_KERNELS_CUDA_COMMON_CUH
#define SKRT_KERNELS_CUDA_COMMON_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

#define SKRT_CUDA_QTILE 128 /* queries per attention tile (tile lists are per tile) */
#ifndef SKRT_CUDA_CHUNK
/* queries per selection chunk (multiple of QTILE); 128 (shorter sequential sweeps) measured
 * slower on the H100: 4x the chunks' prep blocks (10.91 / 10.95 vs 10.37 / 10.32 ms fwd+bwd at
 * 16/16/64, 64k, one call) */
#define SKRT_CUDA_CHUNK 512
#endif

static_assert(SKRT_CUDA_CHUNK % SKRT_CUDA_QTILE == 0, "chunk must hold whole tiles");

__device__ __forceinline__ float skrt_to_f(float x) { return x; }
__device__ __forceinline__ float skrt_to_f(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ __forceinline__ float skrt_to_f(__half x) { return __half2float(x); }

template <typename T> __device__ __forceinline__ T skrt_from_f(float x);
template <> __device__ __forceinline__ float skrt_from_f<float>(float x) { return x; }
template <> __device__ __forceinline__ __nv_bfloat16 skrt_from_f<__nv_bfloat16>(float x) {
  return __float2bfloat16(x);
}
template <> __device__ __forceinline__ __half skrt_from_f<__half>(float x) {
  return __float2half(x);
}

/* Geometry and selection description of one layer, passed by value to every kernel.
 * Sequence s = b * Hkv + h. Per sequence: tau/nfree/sel_end/u have N entries; the tile
 * list of query tile t holds the selected keys j <= i0 - w with sel_end[j] > i0. */
struct skrt_cuda_sel {
  int64_t S, N, k, w;   /* sequences, length, budget, window */
  int ntile, nchunk;    /* ceil(N / QTILE), ceil(N / CHUNK) */
  int64_t tlcap, clcap; /* tile-list and chunk-list capacities */
  const float *u;       /* (S, N) */
  double *tau;          /* (S, N) thresholds in double (the free test of S4 is in double) */
  float *tauf;          /* (S, N) float copy (tensor-core path) */
  int32_t *nfree;       /* (S, N) */
  int32_t *sel_end;     /* (S, N) */
  int32_t *tlist;       /* (S, ntile, tlcap) */
  int32_t *tcount;      /* (S, ntile) */
};

/* ref: S6, S8. Is key j attended by query i, and is it a window key? sel_end as in
 * skrt_prefix_thresholds: j in S_i <=> j + w <= i < sel_end[j]. */
__device__ __forceinline__ bool skrt_attends(int64_t i, int64_t j, int64_t w, int32_t se,
                                             bool *window) {
  *window = j <= i && j > i - w;
  return *window || (j + w <= i && i < se);
}

/* ref: S7. Gate of a selected key: clip(u_j - tau_i, 0, 1), the difference in double. */
__device__ __forceinline__ float skrt_gate(float uj, double taui) {
  double d = (double)uj - taui;
  return (float)fmin(fmax(d, 0.0), 1.0);
}

/* ref: S4 free test exactly as the reference: 0 < u_j - tau_i < 1 in double. */
__device__ __forceinline__ bool skrt_is_free(float uj, double taui) {
  double d = (double)uj - taui;
  return d > 0.0 && d < 1.0;
}

#endif
