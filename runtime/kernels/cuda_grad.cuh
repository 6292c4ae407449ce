/* CUDA small kernels around the attention: the tail of S11 (du from the per-key and
 * per-query dm sums through the SparseK Jacobian S4, using that the queries where key j is
 * free form one interval), the fp32 -> storage casts of dk/dv, and the scoring network S5
 * forward and backward (small reductions, deterministic). */
#ifndef SKRT_KERNELS_CUDA_GRAD_CUH
#define SKRT_KERNELS_CUDA_GRAD_CUH

#include <cub/block/block_reduce.cuh>
#include <cub/block/block_scan.cuh>

#include "kernels/cuda_common.cuh"

/* c_i = cnum_i / |F_i| (0 when |F_i| = 0), in double. */
__device__ __forceinline__ double skrt_cpre_c(const float *cn, const int32_t *nf, int64_t i,
                                              int64_t N) {
  int32_t f = i < N ? nf[i] : 0;
  return f > 0 ? (double)cn[i] / (double)f : 0.0;
}

/* The scan of skrt_cpre_kernel in parts of NT * IPT queries: part[s][p] = sum of c_i over
 * part p. Grid (ceil(N / (NT * IPT)), S). */
template <int NT, int IPT>
__global__ void __launch_bounds__(NT)
    skrt_cpre_part_kernel(const float *cnum, const int32_t *nfree, int64_t N, double *part) {
  typedef cub::BlockReduce<double, NT> Reduce;
  __shared__ typename Reduce::TempStorage tmp;
  int64_t s = blockIdx.y, i0 = ((int64_t)blockIdx.x * NT + threadIdx.x) * IPT;
  double loc = 0.0;
#pragma unroll
  for (int e = 0; e < IPT; ++e)
    loc += skrt_cpre_c(cnum + s * N, nfree + s * N, i0 + e, N);
  double tot = Reduce(tmp).Sum(loc);
  if (threadIdx.x == 0)
    part[s * gridDim.x + blockIdx.x] = tot;
}

/* Cpre[s][i] = sum_{i' < i} c_i'. Grid (ceil(N / (NT * IPT)), S), one part of NT * IPT
 * queries per block (each thread IPT consecutive ones), starting from the sum of the earlier
 * parts' totals (skrt_cpre_part_kernel), added in part order: deterministic. */
template <int NT, int IPT>
__global__ void __launch_bounds__(NT)
    skrt_cpre_kernel(const float *cnum, const int32_t *nfree, int64_t N, const double *part,
                     double *cpre) {
  typedef cub::BlockScan<double, NT> Scan;
  __shared__ typename Scan::TempStorage tmp;
  __shared__ double base;
  int64_t s = blockIdx.y, i0 = ((int64_t)blockIdx.x * NT + threadIdx.x) * IPT;
  const float *cn = cnum + s * N;
  const int32_t *nf = nfree + s * N;
  double *out = cpre + s * (N + 1);
  if (threadIdx.x == 0) {
    double b = 0.0;
    for (unsigned p = 0; p < blockIdx.x; ++p)
      b += part[s * gridDim.x + p];
    base = b;
    if (blockIdx.x == 0)
      out[0] = 0.0;
  }
  double c[IPT], loc = 0.0;
#pragma unroll
  for (int e = 0; e < IPT; ++e) {
    c[e] = skrt_cpre_c(cn, nf, i0 + e, N);
    loc += c[e];
  }
  double ex;
  Scan(tmp).ExclusiveSum(loc, ex);
  __syncthreads(); /* base */
  double r = base + ex;
#pragma unroll
  for (int e = 0; e < IPT; ++e) {
    r += c[e];
    if (i0 + e < N)
      out[i0 + e + 1] = r;
  }
}

/* First i in [lo, N) with pred(i) true for a predicate that is monotone (false..true). */
template <typename P>
__device__ __forceinline__ int64_t skrt_lower_bound(int64_t lo, int64_t N, P pred) {
  int64_t hi = N;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (pred(mid))
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

/* ref: S11 (SparseK part). du_j = sum_{i: j in F_i, S_i} dm_ij - sum_{i: j in F_i} c_i; the
 * second sum runs over one interval of queries found by binary search on tau (non-
 * decreasing). The free test must be the attention kernel's: in double on tau, or in float
 * on tauf when tauf is set (tensor-core path). Grid (ceil(N/256), S). */
static __global__ void skrt_du_kernel(const float *u, const double *tau, const float *tauf,
                                      const float *dmacc, const double *cpre, int64_t N, int64_t w,
                                      float *du) {
  int64_t j = (int64_t)blockIdx.x * blockDim.x + threadIdx.x, s = blockIdx.y;
  if (j >= N)
    return;
  const double *ts = tau + s * N;
  const float *tf = tauf ? tauf + s * N : nullptr;
  float uf = u[s * N + j];
  double uj = uf;
  auto below1 = [&](int64_t i) { return tf ? uf - tf[i] < 1.0f : uj - ts[i] < 1.0; };
  auto nonpos = [&](int64_t i) { return tf ? !(uf - tf[i] > 0.0f) : !(uj - ts[i] > 0.0); };
  int64_t lo = min(N, j + w);
  int64_t fs = skrt_lower_bound(lo, N, below1);
  int64_t fe = skrt_lower_bound(fs, N, nonpos);
  const double *cp = cpre + s * (N + 1);
  double d = (double)dmacc[s * N + j] - (cp[fe] - cp[fs]);
  du[s * N + j] = (float)d;
}

/* Saved-state copy of the thresholds (double -> float). */
static __global__ void skrt_d2f_kernel(const double *x, int64_t n, float *y) {
  int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (e < n)
    y[e] = (float)x[e];
}

/* y = x in storage type T, 4 elements per thread (vector loads/stores when y is 8-byte
 * aligned for 16-bit T; x comes from our own fp32 scratch). Grid ceil(n / 4 / NT). */
template <typename T> __global__ void skrt_cast_kernel(const float *x, int64_t n, T *y) {
  int64_t e = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) * 4;
  if (sizeof(T) == 2 && e + 4 <= n && (uintptr_t)(y + e) % 8 == 0) {
    float4 v = *(const float4 *)(x + e);
    T h[4] = {skrt_from_f<T>(v.x), skrt_from_f<T>(v.y), skrt_from_f<T>(v.z), skrt_from_f<T>(v.w)};
    *(uint2 *)(y + e) = *(const uint2 *)h;
    return;
  }
  for (int64_t k = e; k < min(n, e + 4); ++k)
    y[k] = skrt_from_f<T>(x[k]);
}

/* ref: S5. u[b,h,j] = x . w_score[h] + b_score[h] + slope * j (mode 0 hidden, 1 keys) or
 * u_in + slope * j (mode 2 input). One thread per output. */
template <typename T>
__global__ void skrt_scores_fwd_kernel(int64_t B, int64_t H, int64_t N, int64_t F, int mode,
                                       float slope, const T *x, const float *wsc, const float *bsc,
                                       const float *uin, float *u) {
  int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (e >= B * H * N)
    return;
  int64_t j = e % N, h = (e / N) % H, b = e / (N * H);
  float acc;
  if (mode == 2) {
    acc = uin[e];
  } else {
    const T *xr = mode == 0 ? x + (b * N + j) * F : x + e * F;
    acc = bsc[h];
    for (int64_t f = 0; f < F; ++f)
      acc += skrt_to_f(xr[f]) * wsc[h * F + f];
  }
  u[e] = acc + slope * (float)j;
}

/* ref: S11 scoring tail. dw[h,f] (f < F) or db[h] (f == F): sum over b, j. Grid (F+1, H). */
template <typename T, int NT>
__global__ void __launch_bounds__(NT)
    skrt_scores_dw_kernel(int64_t B, int64_t H, int64_t N, int64_t F, int mode, const T *x,
                          const float *du, float *dw, float *db) {
  typedef cub::BlockReduce<double, NT> R;
  __shared__ typename R::TempStorage tmp;
  int64_t f = blockIdx.x, h = blockIdx.y;
  double acc = 0.0;
  for (int64_t e = threadIdx.x; e < B * N; e += NT) {
    int64_t b = e / N, j = e % N;
    float g = du[(b * H + h) * N + j];
    if (f == F)
      acc += g;
    else if (mode == 0)
      acc += (double)g * skrt_to_f(x[(b * N + j) * F + f]);
    else
      acc += (double)g * skrt_to_f(x[((b * H + h) * N + j) * F + f]);
  }
  double t = R(tmp).Sum(acc);
  if (threadIdx.x == 0) {
    if (f == F && db)
      db[h] = (float)t;
    else if (f < F && dw)
      dw[h * F + f] = (float)t;
  }
}

/* dslope = sum du * j over everything. One block. */
template <int NT>
__global__ void __launch_bounds__(NT)
    skrt_scores_dslope_kernel(int64_t n, int64_t N, const float *du, float *out) {
  typedef cub::BlockReduce<double, NT> R;
  __shared__ typename R::TempStorage tmp;
  double acc = 0.0;
  for (int64_t e = threadIdx.x; e < n; e += NT)
    acc += (double)du[e] * (double)(e % N);
  double t = R(tmp).Sum(acc);
  if (threadIdx.x == 0)
    *out = (float)t;
}

/* dx: hidden (B,N,F) = sum_h du[b,h,j] w[h,:] (overwrite); keys (B,H,N,D) += du w[h,:]. */
template <typename T>
__global__ void skrt_scores_dx_kernel(int64_t B, int64_t H, int64_t N, int64_t F, int mode,
                                      const float *du, const float *wsc, T *dx) {
  int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (mode == 0) {
    if (e >= B * N * F)
      return;
    int64_t f = e % F, j = (e / F) % N, b = e / (F * N);
    float acc = 0.0f;
    for (int64_t h = 0; h < H; ++h)
      acc += du[(b * H + h) * N + j] * wsc[h * F + f];
    dx[e] = skrt_from_f<T>(acc);
  } else {
    if (e >= B * H * N * F)
      return;
    int64_t f = e % F, r = e / F, h = (r / N) % H;
    dx[e] = skrt_from_f<T>(skrt_to_f(dx[e]) + du[r] * wsc[h * F + f]);
  }
}

#endif
