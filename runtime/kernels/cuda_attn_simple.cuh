/* CUDA SparseK attention, plain path (S9-S11): one warp per query row, lanes split the head
 * dimension, fp32 arithmetic for any storage type. It serves fp32 tensors (where tensor
 * cores would cost precision) and is the in-library cross-check of the tensor-core path.
 * Keys of a row come from its tile's list (selected keys older than the window) followed
 * by the tile's contiguous window range; skrt_attends() masks per (i, j). */
#ifndef SKRT_KERNELS_CUDA_ATTN_SIMPLE_CUH
#define SKRT_KERNELS_CUDA_ATTN_SIMPLE_CUH

#include "kernels/cuda_common.cuh"

/* Device-side view of one layer for the attention kernels. */
struct skrt_cuda_layer {
  int64_t B, Hq, Hkv, N;
  int gate;    /* enum skrt_gate */
  float scale; /* S9 */
  const void *q, *k, *v;
  void *o;
  int64_t qs[3], ks[3], vs[3], os[3];
  float *lse; /* (B, Hq, N) */
};

/* Gradient outputs and accumulators of the backward. */
struct skrt_cuda_grads {
  const void *dout;   /* (B,Hq,N,D) contiguous */
  void *dq;           /* (B,Hq,N,D) contiguous */
  float *dk32, *dv32; /* (B,Hkv,N,D) fp32 accumulators, zeroed */
  float *dmacc;       /* (S,N) sum of dm over free selected pairs, zeroed */
  float *cnum;        /* (S,N) per-query sum of dm over free selected keys, zeroed */
};

/* Key x of tile t's virtual list: list entries, then the window range. */
__device__ __forceinline__ int64_t skrt_tile_key(const int32_t *list, int64_t nA, int64_t rs,
                                                 int64_t x) {
  return x < nA ? (int64_t)list[x] : rs + (x - nA);
}

__device__ __forceinline__ float skrt_warp_sum(float x) {
  for (int o = 16; o > 0; o >>= 1)
    x += __shfl_xor_sync(0xffffffffu, x, o);
  return x;
}

/* Per-tile key range bookkeeping shared by both kernels (32-bit: N < 2^30 and the list holds
 * at most N entries). */
struct skrt_tile_keys {
  const int32_t *list;
  int nA, rs, n;
  float tmax; /* float tau of the block's last query: no row's tau is larger (S8: tau_i is
               * non-decreasing in i) */
};

/* (iend: a block of queries that starts in tile t and ends past it, at iend - 1, takes the
 * tile's list and a range reaching iend: every key selected by a later query either is in the
 * list or entered from the window after i0 - w.) */
__device__ __forceinline__ skrt_tile_keys skrt_tile_keys_of(const skrt_cuda_sel &sel, int64_t s,
                                                            int t, int64_t iend = 0) {
  skrt_tile_keys tk;
  int64_t i0 = (int64_t)t * SKRT_CUDA_QTILE;
  tk.list = sel.tlist + (s * sel.ntile + t) * sel.tlcap;
  tk.nA = sel.tcount[s * sel.ntile + t];
  tk.rs = (int)max((int64_t)0, i0 - sel.w + 1);
  int64_t re = min(sel.N, max(i0 + SKRT_CUDA_QTILE, iend));
  tk.n = tk.nA + (int)max((int64_t)0, re - tk.rs);
  tk.tmax = sel.tauf ? sel.tauf[s * sel.N + re - 1] : INFINITY;
  return tk;
}

/* The (b, query head, kv sequence) of a block of grid (ntile, Hq, B) and its K/V/u/sel_end
 * slices. */
template <typename T> struct skrt_block_seq {
  int64_t h, b, s;
  const T *K, *V;
  const float *u;
  const int32_t *se;
};

template <typename T>
__device__ __forceinline__ skrt_block_seq<T> skrt_block_seq_of(const skrt_cuda_layer &L,
                                                               const skrt_cuda_sel &sel) {
  skrt_block_seq<T> r;
  r.h = blockIdx.y;
  r.b = blockIdx.z;
  int64_t hk = r.h / (L.Hq / L.Hkv);
  r.s = r.b * L.Hkv + hk;
  r.K = (const T *)L.k + r.b * L.ks[0] + hk * L.ks[1];
  r.V = (const T *)L.v + r.b * L.vs[0] + hk * L.vs[1];
  r.u = sel.u + r.s * sel.N;
  r.se = sel.sel_end + r.s * sel.N;
  return r;
}

/* ref: S9, S10. Forward, grid (ntile, Hq, B), 256 threads. */
template <typename T, int D>
__global__ void __launch_bounds__(256) skrt_attn_fwd_simple(skrt_cuda_layer L, skrt_cuda_sel sel) {
  constexpr int E = D / 32;
  int t = blockIdx.x, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  skrt_block_seq<T> q_ = skrt_block_seq_of<T>(L, sel);
  int64_t h = q_.h, b = q_.b, s = q_.s;
  skrt_tile_keys tk = skrt_tile_keys_of(sel, s, t);
  const T *K = q_.K, *V = q_.V;
  const float *u = q_.u;
  const int32_t *se = q_.se;
  for (int64_t i = (int64_t)t * SKRT_CUDA_QTILE + warp;
       i < min(sel.N, (int64_t)(t + 1) * SKRT_CUDA_QTILE); i += 8) {
    const T *q = (const T *)L.q + b * L.qs[0] + h * L.qs[1] + i * L.qs[2];
    float qr[E], acc[E], mx = -INFINITY, l = 0.0f;
    double taui = sel.tau[s * sel.N + i];
    for (int e = 0; e < E; ++e) {
      qr[e] = skrt_to_f(q[lane + 32 * e]);
      acc[e] = 0.0f;
    }
    for (int64_t x = 0; x < tk.n; ++x) {
      int64_t j = skrt_tile_key(tk.list, tk.nA, tk.rs, x);
      bool win;
      if (!skrt_attends(i, j, sel.w, se[j], &win))
        continue;
      float dot = 0.0f;
      for (int e = 0; e < E; ++e)
        dot += qr[e] * skrt_to_f(K[j * L.ks[2] + lane + 32 * e]);
      float a = L.scale * skrt_warp_sum(dot);
      float m = win ? 1.0f : skrt_gate(u[j], taui);
      float sc = L.gate == 0 ? m * a : a;
      float mn = fmaxf(mx, sc), corr = expf(mx - mn), pe = expf(sc - mn);
      l = l * corr + pe;
      for (int e = 0; e < E; ++e)
        acc[e] = acc[e] * corr + pe * m * skrt_to_f(V[j * L.vs[2] + lane + 32 * e]);
      mx = mn;
    }
    T *o = (T *)L.o + b * L.os[0] + h * L.os[1] + i * L.os[2];
    for (int e = 0; e < E; ++e)
      o[lane + 32 * e] = skrt_from_f<T>(acc[e] / l);
    if (L.lse && lane == 0)
      L.lse[(b * L.Hq + h) * sel.N + i] = mx + logf(l);
  }
}

/* ref: S11. Backward, grid (ntile, Hq, B), 256 threads: dq per row (deterministic), dk/dv
 * and the du pieces through fp32 atomics (bounded: at most k + w + 2*QTILE adds per key
 * and query head). */
template <typename T, int D>
__global__ void __launch_bounds__(256)
    skrt_attn_bwd_simple(skrt_cuda_layer L, skrt_cuda_sel sel, skrt_cuda_grads G) {
  constexpr int E = D / 32;
  int t = blockIdx.x, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  skrt_block_seq<T> q_ = skrt_block_seq_of<T>(L, sel);
  int64_t h = q_.h, b = q_.b, s = q_.s;
  skrt_tile_keys tk = skrt_tile_keys_of(sel, s, t);
  const T *K = q_.K, *V = q_.V;
  const float *u = q_.u;
  const int32_t *se = q_.se;
  float *dk = G.dk32 + s * sel.N * D, *dv = G.dv32 + s * sel.N * D;
  for (int64_t i = (int64_t)t * SKRT_CUDA_QTILE + warp;
       i < min(sel.N, (int64_t)(t + 1) * SKRT_CUDA_QTILE); i += 8) {
    int64_t row = (b * L.Hq + h) * sel.N + i;
    const T *q = (const T *)L.q + b * L.qs[0] + h * L.qs[1] + i * L.qs[2];
    const T *o = (const T *)L.o + b * L.os[0] + h * L.os[1] + i * L.os[2];
    const T *dO = (const T *)G.dout + row * D;
    float qr[E], dor[E], dqa[E], di = 0.0f;
    for (int e = 0; e < E; ++e) {
      qr[e] = skrt_to_f(q[lane + 32 * e]);
      dor[e] = skrt_to_f(dO[lane + 32 * e]);
      di += dor[e] * skrt_to_f(o[lane + 32 * e]);
      dqa[e] = 0.0f;
    }
    di = skrt_warp_sum(di);
    float lse = L.lse[row], rowdm = 0.0f;
    double taui = sel.tau[s * sel.N + i];
    for (int64_t x = 0; x < tk.n; ++x) {
      int64_t j = skrt_tile_key(tk.list, tk.nA, tk.rs, x);
      bool win;
      if (!skrt_attends(i, j, sel.w, se[j], &win))
        continue;
      float dot = 0.0f, dov = 0.0f;
      for (int e = 0; e < E; ++e) {
        dot += qr[e] * skrt_to_f(K[j * L.ks[2] + lane + 32 * e]);
        dov += dor[e] * skrt_to_f(V[j * L.vs[2] + lane + 32 * e]);
      }
      float a = L.scale * skrt_warp_sum(dot);
      dov = skrt_warp_sum(dov);
      float m = win ? 1.0f : skrt_gate(u[j], taui);
      float sc = L.gate == 0 ? m * a : a;
      float P = expf(sc - lse), dS = P * (m * dov - di);
      float gk = L.gate == 0 ? m : 1.0f;
      for (int e = 0; e < E; ++e) {
        dqa[e] += L.scale * dS * gk * skrt_to_f(K[j * L.ks[2] + lane + 32 * e]);
        atomicAdd(dk + j * D + lane + 32 * e, L.scale * dS * gk * qr[e]);
        atomicAdd(dv + j * D + lane + 32 * e, P * m * dor[e]);
      }
      if (!win && skrt_is_free(u[j], taui)) { /* ref: S11 dm and the SparseK backward */
        float dm = (L.gate == 0 ? dS * a : 0.0f) + P * dov;
        rowdm += dm;
        if (lane == 0)
          atomicAdd(G.dmacc + s * sel.N + j, dm);
      }
    }
    T *dq = (T *)G.dq + row * D;
    for (int e = 0; e < E; ++e)
      dq[lane + 32 * e] = skrt_from_f<T>(dqa[e]);
    if (lane == 0)
      atomicAdd(G.cnum + s * sel.N + i, rowdm);
  }
}

#endif
