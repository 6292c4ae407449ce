/* CUDA SparseK attention, tensor-core path: bf16/fp16 storage, fp32 accumulation
 * (mma.sync m16n8k16, FlashAttention-2 register layout). One block = one query tile
 * (SKRT_CUDA_QTILE rows, 8 warps x 16 rows; with GQA, hb heads of a group x QTILE / hb
 * queries). The tile's keys (its list of selected keys older than the window, then the
 * window range) are gathered a key block at a time (skrt_fwd_bn / skrt_bwd_bn keys) into
 * shared memory with cp.async, so the union of the tile's keys is read once. Each key block
 * is classified (all selected / all window / general) and the per-element code is
 * specialized for its kind and for the gate (template parameters); gates are recomputed
 * from the block's shared-memory meta (J, sel_end, u) where needed rather than held in
 * registers (S6-S9).
 *
 * Forward (S10): online softmax in the exp2 domain (ex2.approx), the accumulator rescaled
 * only when a row max of the warp moved; the PV product uses P * m (gated values).
 * Backward (S11): query-major, one pass per element from the raw q.k (mask, P, dS, the du
 * pieces); dq stays in registers (deterministic), dk/dv are accumulated through fp32 vector
 * atomics from per-block tile products dS^T Q and (P m)^T dO (bounded: one add per key,
 * query tile and head group). */
#ifndef SKRT_KERNELS_CUDA_ATTN_MMA_CUH
#define SKRT_KERNELS_CUDA_ATTN_MMA_CUH

#include <cuda_runtime.h>

#include <type_traits>

#include "kernels/cuda_attn_simple.cuh"

#define SKRT_MMA_BN 64 /* keys per shared-memory block */
#define SKRT_MMA_NT 256

/* ---- fragments ---------------------------------------------------------------------- */

__device__ __forceinline__ void skrt_mma(float c[4], const uint32_t a[4], uint32_t b0, uint32_t b1,
                                         __nv_bfloat16) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, "
               "{%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
               : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ void skrt_mma(float c[4], const uint32_t a[4], uint32_t b0, uint32_t b1,
                                         __half) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, "
               "{%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
               : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ uint32_t skrt_pack(float x, float y, __nv_bfloat16) {
  __nv_bfloat162 h = __floats2bfloat162_rn(x, y);
  return *(uint32_t *)&h;
}

__device__ __forceinline__ uint32_t skrt_pack(float x, float y, __half) {
  __half2 h = __floats2half2_rn(x, y);
  return *(uint32_t *)&h;
}

__device__ __forceinline__ uint32_t skrt_smem_addr(const void *p) {
  return (uint32_t)__cvta_generic_to_shared(p);
}

/* Four 8x8 b16 matrices, transposed; lane l addresses row (l & 15), column half (l >> 4). */
__device__ __forceinline__ void skrt_ldsm_x4_t(uint32_t r[4], const void *p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(skrt_smem_addr(p)));
}

__device__ __forceinline__ void skrt_cp16(void *dst, const void *src) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(skrt_smem_addr(dst)), "l"(src));
}
/* cp.async of 16 bytes marked evict_last in L2 (a fractional policy of 1.0): rows that many
 * blocks read (the gathered keys and values) then outlive the streaming traffic around them. */
__device__ __forceinline__ void skrt_cp16_keep(void *dst, const void *src) {
  uint64_t pol;
  asm volatile("createpolicy.fractional.L2::evict_last.b64 %0, 1.0;\n" : "=l"(pol));
  asm volatile(
      "cp.async.cg.shared.global.L2::cache_hint [%0], [%1], 16, %2;\n" ::"r"(skrt_smem_addr(dst)),
      "l"(src), "l"(pol));
}
__device__ __forceinline__ void skrt_cp_commit() { asm volatile("cp.async.commit_group;\n"); }
template <int N> __device__ __forceinline__ void skrt_cp_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}
/* Makes generic-proxy shared-memory writes (st.shared, cp.async) visible to the async proxy
 * (wgmma operands read through descriptors). */
__device__ __forceinline__ void skrt_fence_async_smem() {
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}

/* Accumulator-layout P (16 x 8 NT, NT n8 tiles) -> A fragment of k-step kk (16 keys). */
template <typename T, int NT = 8>
__device__ __forceinline__ void skrt_acc_to_a(uint32_t a[4], const float p[NT][4], int kk) {
  a[0] = skrt_pack(p[2 * kk][0], p[2 * kk][1], T());
  a[1] = skrt_pack(p[2 * kk][2], p[2 * kk][3], T());
  a[2] = skrt_pack(p[2 * kk + 1][0], p[2 * kk + 1][1], T());
  a[3] = skrt_pack(p[2 * kk + 1][2], p[2 * kk + 1][3], T());
}
/* The same from an already packed tile (p[nt][hr]: row half hr of n8 tile nt). */
template <typename T, int NT>
__device__ __forceinline__ void skrt_acc_to_a(uint32_t a[4], const uint32_t p[NT][2], int kk) {
  a[0] = p[2 * kk][0];
  a[1] = p[2 * kk][1];
  a[2] = p[2 * kk + 1][0];
  a[3] = p[2 * kk + 1][1];
}

/* ---- shared tile machinery ------------------------------------------------------------ */

/* Shared-memory layout of one block: row stride D + PAD elements (PAD 8 against ldmatrix bank
 * conflicts; PAD 0 for the core-matrix tiles of the wgmma kernels, cuda_attn_wgmma.cuh). */
template <typename T, int D, int BN_ = SKRT_MMA_BN, int PAD = 8> struct skrt_mma_smem {
  static constexpr int SD = D + PAD, BN = BN_, QT = SKRT_CUDA_QTILE;
  T *Q, *K, *V;   /* QT x SD, nb x BN x SD, nb x BN x SD (nb = 1 or 2 key buffers) */
  int32_t *J, *E; /* nb x BN: key position (-2^30 = padding), sel_end */
  float *U;       /* nb x BN: score */
  __device__ T *k(int buf) const { return K + buf * BN * SD; }
  __device__ T *v(int buf) const { return V + buf * BN * SD; }
  static constexpr size_t bytes(int extra_rows_t, int nb) {
    return sizeof(T) * (size_t)(QT * SD + 2 * nb * BN * SD + extra_rows_t) + nb * BN * 12;
  }
};

template <typename T, int D, int BN = SKRT_MMA_BN, int PAD = 8>
__device__ __forceinline__ skrt_mma_smem<T, D, BN, PAD> skrt_mma_smem_at(unsigned char *base,
                                                                         int extra_rows_t, int nb) {
  skrt_mma_smem<T, D, BN, PAD> m;
  using S = skrt_mma_smem<T, D, BN, PAD>;
  m.Q = (T *)base;
  m.K = m.Q + S::QT * S::SD + extra_rows_t;
  m.V = m.K + nb * S::BN * S::SD;
  m.J = (int32_t *)(m.V + nb * S::BN * S::SD);
  m.E = m.J + nb * S::BN;
  m.U = (float *)(m.E + nb * S::BN);
  return m;
}

/* Tuning knobs (compile-time): key buffers and minimum resident blocks per kernel. The
 * defaults were the fastest of bench/gpu/variants.sh on the H100 (2 blocks per SM beat the
 * register spills they cost; the backward trades its key double buffer for the 2nd block). */
#ifndef SKRT_FWD_BN64
#define SKRT_FWD_BN64 64 /* keys per block in the forward, D <= 64 */
#endif
#ifndef SKRT_FWD_BN128
#define SKRT_FWD_BN128 32 /* keys per block in the forward, D > 64 (fewer spills) */
#endif
#ifndef SKRT_FWD_NB
#define SKRT_FWD_NB 2
#endif
#ifndef SKRT_BWD_NB64
#define SKRT_BWD_NB64 1 /* backward key buffers, D <= 64 */
#endif
#ifndef SKRT_BWD_NB128
#define SKRT_BWD_NB128 1
#endif
#ifndef SKRT_FWD_MINB64
#define SKRT_FWD_MINB64 2
#endif
#ifndef SKRT_FWD_MINB128
#define SKRT_FWD_MINB128 2
#endif
#ifndef SKRT_BWD_MINB64
#define SKRT_BWD_MINB64 2
#endif
#ifndef SKRT_BWD_MINB128
#define SKRT_BWD_MINB128 2
#endif
#ifndef SKRT_FWD_MAX_SLACK
/* The running max of a row moves only when a block's max exceeds it by more than this (log2
 * units); otherwise the stale max stays subtracted, P <= 2^SLACK, and o = acc / l and lse =
 * max + log l are unchanged, while the rescale of acc is skipped (FlashAttention-4's
 * conditional rescale). 0: every increase moves it. 64k, one call on the H100: forward kernel
 * (torch.profiler) 2.136 / 2.118 vs 2.140 / 2.124 ms at 16/16/64 and 5.477 / 5.538 vs 5.562 /
 * 5.594 at 32/8/128; fwd+bwd 8.82 / 8.79 / 8.81 vs 8.87 / 8.85 / 8.81 and 23.99 / 24.03 /
 * 23.98 vs 24.05 / 24.06 / 24.02. */
#define SKRT_FWD_MAX_SLACK 8.0f
#endif
#ifndef SKRT_FWD_LAZY
#define SKRT_FWD_LAZY 1 /* skip the forward's acc rescale when no row max of the warp moved */
#endif
#ifndef SKRT_FWD_KINDS64
#define SKRT_FWD_KINDS64 1 /* specialized forward code for all-selected / all-window blocks */
#endif
#ifndef SKRT_FWD_KINDS128
#define SKRT_FWD_KINDS128 1
#endif
template <int D> __host__ __device__ constexpr int skrt_fwd_bn() {
  return D <= 64 ? SKRT_FWD_BN64 : SKRT_FWD_BN128;
}
template <int D> __host__ __device__ constexpr bool skrt_fwd_kinds() {
  return D <= 64 ? SKRT_FWD_KINDS64 : SKRT_FWD_KINDS128;
}

/* Waits for key block kb in buffer kb % NB, prefetching block kb + 1 when NB == 2. PROXY:
 * also make the cp.async data visible to the async proxy (wgmma operands). */
template <int NB, bool PROXY = false, typename F>
__device__ __forceinline__ int skrt_key_pipeline(int kb, int nblk, F load) {
  if (NB == 2) {
    if (kb + 1 < nblk)
      load((kb + 1) & 1, kb + 1);
    skrt_cp_commit();
    skrt_cp_wait<1>();
  } else {
    if (kb > 0)
      load(0, kb);
    skrt_cp_commit();
    skrt_cp_wait<0>();
  }
  if (PROXY)
    skrt_fence_async_smem();
  __syncthreads();
  return NB == 2 ? (kb & 1) : 0;
}

/* Rows of a tensor-core block: hb query heads of one KV group x qb = QT / hb queries of one
 * query tile each, so that the heads of a GQA group share the gathered K/V blocks (and, in
 * the backward, sum their dk/dv in the tile products). Grid (ceil(N / qb), Hq / hb, B).
 * Row r is head h0 + r / qb, query ib + r % qb; a warp's 16 rows share one head. */
struct skrt_mma_geo {
  int t, qb;
  int64_t b, h0, ib, il; /* batch, first head, first and last query of the block */
  __device__ int64_t head(int r) const { return h0 + r / qb; }
  __device__ int64_t query(int r) const { return ib + r % qb; }
};

/* (R rows per block, QT by default; with R = 2 QT a block of hb = 1 spans two query tiles
 * and t is the first. Grid (ceil(N / qb), Hq / hb, B).) */
template <int R = SKRT_CUDA_QTILE> __device__ __forceinline__ skrt_mma_geo skrt_mma_geo_of(int hb) {
  skrt_mma_geo g;
  g.qb = R / hb;
  g.b = blockIdx.z;
  g.h0 = (int64_t)blockIdx.y * hb;
  g.ib = (int64_t)blockIdx.x * g.qb;
  g.t = (int)(g.ib / SKRT_CUDA_QTILE);
  g.il = g.ib + g.qb - 1;
  return g;
}

/* The KV sequence of a block (all its heads are in one group). */
template <typename T>
__device__ __forceinline__ skrt_block_seq<T>
skrt_mma_seq(const skrt_cuda_layer &L, const skrt_cuda_sel &sel, const skrt_mma_geo &g) {
  skrt_block_seq<T> r;
  r.h = g.h0;
  r.b = g.b;
  int64_t hk = g.h0 / (L.Hq / L.Hkv);
  r.s = r.b * L.Hkv + hk;
  r.K = (const T *)L.k + r.b * L.ks[0] + hk * L.ks[1];
  r.V = (const T *)L.v + r.b * L.vs[0] + hk * L.vs[1];
  r.u = sel.u + r.s * sel.N;
  r.se = sel.sel_end + r.s * sel.N;
  return r;
}

/* Issues the cp.async loads of the block's QT rows of a (B,H,N,D) tensor with element strides
 * st into dst (queries past N repeat query N-1; they are never stored). */
template <typename T, int D>
__device__ __forceinline__ void skrt_load_rows(T *dst, const T *src, const int64_t st[3],
                                               const skrt_mma_geo &g, int64_t N) {
  constexpr int C = D / 8, SD = D + 8;
  for (int x = threadIdx.x; x < SKRT_CUDA_QTILE * C; x += SKRT_MMA_NT) {
    int r = x / C, c = x % C;
    int64_t i = min(g.query(r), N - 1);
    skrt_cp16(dst + r * SD + c * 8, src + g.b * st[0] + g.head(r) * st[1] + i * st[2] + c * 8);
  }
}

/* Issues the loads of key block kb (keys, values, meta) into buffer buf. */
template <typename T, int D, int BN>
__device__ __forceinline__ void skrt_load_keys(const skrt_mma_smem<T, D, BN> &m, int buf, int kb,
                                               const skrt_tile_keys &tk, const skrt_block_seq<T> &q,
                                               const skrt_cuda_layer &L) {
  constexpr int C = D / 8, SD = D + 8;
  for (int x = threadIdx.x; x < BN * C; x += SKRT_MMA_NT) {
    int r = x / C, c = x % C;
    int64_t kx = (int64_t)kb * BN + r;
    int64_t j = kx < tk.n ? skrt_tile_key(tk.list, tk.nA, tk.rs, kx) : 0;
    skrt_cp16(m.k(buf) + r * SD + c * 8, q.K + j * L.ks[2] + c * 8);
    skrt_cp16(m.v(buf) + r * SD + c * 8, q.V + j * L.vs[2] + c * 8);
    if (c == 0) {
      bool real = kx < tk.n;
      m.J[buf * BN + r] = real ? (int32_t)j : -(1 << 30);
      m.E[buf * BN + r] = real ? q.se[j] : 0;
      m.U[buf * BN + r] = q.u[j];
    }
  }
}

/* Per-row facts of the two rows (lane/4 and lane/4 + 8) a thread holds. */
struct skrt_rows {
  int im[2];    /* positions i (N < 2^30), or -2^30 - 1 for padded rows (i >= N: they attend
                 * nothing, no key is within reach, and are never stored) */
  float tau[2]; /* float copy of tau_i (the mma path gates and tests freeness in float) */
};

/* Four 8x8 b16 matrices; lane l addresses the row of matrix l / 8. */
__device__ __forceinline__ void skrt_ldsm_x4(uint32_t r[4], const void *p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(skrt_smem_addr(p)));
}

/* S = Q K^T for this warp's 16 rows and the 8 NT keys of Ks (ldmatrix fragments). */
template <typename T, int D, int NT = 8>
__device__ __forceinline__ void skrt_qk(float s[NT][4], const T *Qs, const T *Ks, int r0) {
  constexpr int SD = D + 8;
  int lane = threadIdx.x % 32, mi = lane / 8, rr = lane % 8;
#pragma unroll
  for (int nt = 0; nt < NT; ++nt)
#pragma unroll
    for (int e = 0; e < 4; ++e)
      s[nt][e] = 0.0f;
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) {
    uint32_t a[4];
    skrt_ldsm_x4(a, Qs + (r0 + rr + (mi % 2) * 8) * SD + kk * 16 + (mi / 2) * 8);
#pragma unroll
    for (int nt = 0; nt < NT; nt += 2) {
      uint32_t b[4];
      skrt_ldsm_x4(b, Ks + (nt * 8 + rr + (mi / 2) * 8) * SD + kk * 16 + (mi % 2) * 8);
      skrt_mma(s[nt], a, b[0], b[1], T());
      skrt_mma(s[nt + 1], a, b[2], b[3], T());
    }
  }
}

#ifndef SKRT_BLOCK_SAT
#define SKRT_BLOCK_SAT 1 /* blocks of saturated selected keys take the all-window code */
#endif

#ifndef SKRT_BLOCK_WINMASK
#define SKRT_BLOCK_WINMASK 1 /* range blocks that no row reaches through the selection */
#endif

/* Key-block kinds: the general per-(i, j) mask, two common cases that need none, range keys
 * that the block's rows attend only through the window (a causal / window mask, gate 1, no dm),
 * and range keys that no row attends. */
enum {
  SKRT_KB_GENERAL = 0,
  SKRT_KB_ALLSEL = 1,
  SKRT_KB_ALLWIN = 2,
  SKRT_KB_EMPTY = 3,
  SKRT_KB_WINMASK = 4
};

/* Kind of key block kb for a block whose rows are queries [i0, il], all < N: ALLSEL when it
 * holds only list keys (j + w <= tile start) that every row still selects (sel_end > il),
 * ALLWIN when it holds only range keys inside every row's window, or only such list keys that
 * are saturated for every row (u_j - tau_i >= 1 in float, so gate exactly 1 and not free:
 * the all-window arithmetic is theirs bit for bit). Block-uniform. */
template <typename T, int D, int BN, int PAD = 8>
__device__ __forceinline__ int skrt_block_kind(const skrt_mma_smem<T, D, BN, PAD> &m, int buf,
                                               int kb, const skrt_tile_keys &tk, int64_t i0,
                                               int64_t il, int64_t N, int w) {
  int x0 = kb * BN, x1 = x0 + BN;
  if (il >= N || x1 > tk.n)
    return SKRT_KB_GENERAL;
  if (x1 <= tk.nA) {
    int lane = threadIdx.x % 32;
    int e = m.E[buf * BN + lane];
    float u = m.U[buf * BN + lane];
    for (int x = lane + 32; x < BN; x += 32) {
      e = min(e, m.E[buf * BN + x]);
      u = fminf(u, m.U[buf * BN + x]);
    }
    for (int o = 16; o > 0; o >>= 1) {
      e = min(e, __shfl_xor_sync(0xffffffffu, e, o));
      u = fminf(u, __shfl_xor_sync(0xffffffffu, u, o));
    }
    if (e <= (int)il)
      return SKRT_KB_GENERAL;
    /* tau of rows [i0, il] <= tmax; float rounding is monotone */
    return SKRT_BLOCK_SAT && u - tk.tmax >= 1.0f ? SKRT_KB_ALLWIN : SKRT_KB_ALLSEL;
  }
  if (x0 >= tk.nA) {
    int j0 = m.J[buf * BN], j1 = m.J[buf * BN + BN - 1];
    if (j1 <= (int)i0 && j0 > (int)il - w)
      return SKRT_KB_ALLWIN;
    if (!SKRT_BLOCK_WINMASK)
      return SKRT_KB_GENERAL;
    /* row i attends key j iff j <= i < max(j + w, sel_end_j) (skrt_reach): through the
     * selection for some row of [i0, il] iff sel_end_j > max(j + w, i0) and j + w <= il,
     * through the window iff w > 0, j <= il and j + w > i0 (padding keys: neither) */
    bool sel = false, win = false;
    for (int x = threadIdx.x % 32; x < BN; x += 32) {
      int j = m.J[buf * BN + x], e = m.E[buf * BN + x];
      sel = sel || (e > max(j + w, (int)i0) && j + w <= (int)il);
      win = win || (w > 0 && j <= (int)il && j + w > (int)i0);
    }
    if (__any_sync(0xffffffffu, sel))
      return SKRT_KB_GENERAL;
    return __any_sync(0xffffffffu, win) ? SKRT_KB_WINMASK : SKRT_KB_EMPTY;
  }
  return SKRT_KB_GENERAL;
}

/* 2^x on the special-function unit (ex2.approx.ftz: ~2 ulp, -inf -> 0); the softmax inputs
 * are logits minus their running max, so flushing denormal results changes nothing. */
__device__ __forceinline__ float skrt_ex2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

/* ref: S7, S6. Gate m_ij of an attended (i, j) for a key block of kind KIND: 1 for window
 * keys, clip(u_j - tau_i, 0, 1) for selected ones (saturating add). Recomputed from the
 * block's shared-memory meta where needed instead of being held in registers. */
template <int KIND>
__device__ __forceinline__ float skrt_gate_of(int j, float uj, int hr, const skrt_rows &rw, int w) {
  if (KIND == SKRT_KB_ALLWIN || KIND == SKRT_KB_WINMASK)
    return 1.0f;
  float gt = __saturatef(uj - rw.tau[hr]);
  if (KIND == SKRT_KB_ALLSEL)
    return gt;
  return (unsigned)(rw.im[hr] - j) < (unsigned)w ? 1.0f : gt;
}

/* Meta of the two keys (columns) this lane holds in n8 tile nt of buffer buf. */
struct skrt_cols {
  int2 j, se;
  float2 u;
};
template <typename T, int D, int BN, int PAD = 8>
__device__ __forceinline__ skrt_cols skrt_cols_of(const skrt_mma_smem<T, D, BN, PAD> &m, int buf,
                                                  int nt) {
  int c = buf * BN + nt * 8 + (threadIdx.x % 4) * 2;
  skrt_cols k;
  k.j = *(const int2 *)&m.J[c];
  k.se = *(const int2 *)&m.E[c];
  k.u = *(const float2 *)&m.U[c];
  return k;
}

/* ref: S6, S8. Whether query i attends key j, from dj = i - j and dse = sel_end_j - j: the
 * queries attending j are one interval, its window [j, j + w) followed by its selection
 * interval [j + w, sel_end_j) (empty when j was never selected), so one unsigned compare
 * against the interval's length decides. Padding keys (j = -2^30, sel_end 0) and padded rows
 * (i = -2^30 - 1) fall outside. */
__device__ __forceinline__ bool skrt_reach(int dj, int dse, int w) {
  return (unsigned)dj < (unsigned)max(w, dse);
}

/* ref: S6-S9. Turns raw q.k into gated logits (gate kv: m_ij q.k; the softmax scale is applied
 * in skrt_softmax_max / skrt_softmax_exp), or -inf when (i, j) is not attended, for the keys of
 * buffer buf; nothing to do for an all-window block (gate 1, all attended). Padding keys have
 * J = -2^30, E = 0. w is clamped to N by the launcher, so i - j < w never holds for padding. */
template <typename T, int D, int KIND, int BN, int GATE, int PAD = 8>
__device__ __forceinline__ void
skrt_mask_logits(float s[BN / 8][4], const skrt_mma_smem<T, D, BN, PAD> &m, int buf,
                 const skrt_rows &rw, int w, float off = -INFINITY) {
  /* (off: the value of unattended pairs) */
  if constexpr (KIND != SKRT_KB_ALLWIN) {
#pragma unroll
    for (int nt = 0; nt < BN / 8; ++nt) {
      skrt_cols k = skrt_cols_of<T, D, BN>(m, buf, nt);
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        int hr = e >> 1, j = (e & 1) ? k.j.y : k.j.x, se = (e & 1) ? k.se.y : k.se.x;
        float a = s[nt][e];
        float x = GATE == 0 ? skrt_gate_of<KIND>(j, (e & 1) ? k.u.y : k.u.x, hr, rw, w) * a : a;
        if (KIND == SKRT_KB_GENERAL)
          x = skrt_reach(rw.im[hr] - j, se - j, w) ? x : off;
        if (KIND == SKRT_KB_WINMASK)
          x = (unsigned)(rw.im[hr] - j) < (unsigned)w ? x : off;
        s[nt][e] = x;
      }
    }
  }
}

/* The forward's log2-domain softmax scale: scale * log2(e). The tensor-core forward needs it
 * positive (the launcher sends other scales to the plain kernels): the row max of the gated
 * logits then scales into the max of the scaled ones, and -inf stays -inf. */
__device__ __forceinline__ float skrt_sc2(const skrt_cuda_layer &L) {
  return L.scale * 1.4426950408889634f;
}

__device__ __forceinline__ float skrt_quad_max(float x) {
  x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 1));
  return fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 2));
}
__device__ __forceinline__ float skrt_quad_sum(float x) {
  x += __shfl_xor_sync(0xffffffffu, x, 1);
  return x + __shfl_xor_sync(0xffffffffu, x, 2);
}

template <typename T, int D>
__device__ __forceinline__ skrt_rows skrt_rows_of(const skrt_cuda_sel &sel, int64_t s,
                                                  const skrt_mma_geo &g, int r0) {
  int lane = threadIdx.x % 32;
  skrt_rows rw;
  for (int hr = 0; hr < 2; ++hr) {
    int i = (int)g.query(r0 + lane / 4 + 8 * hr);
    bool ok = i < sel.N;
    rw.im[hr] = ok ? i : -(1 << 30) - 1;
    rw.tau[hr] = ok ? sel.tauf[s * sel.N + i] : 0.0f;
  }
  return rw;
}

/* ---- forward ---------------------------------------------------------------------------- */

/* Online-softmax bookkeeping of one key block (any kind) of gated logits s (sc2: the positive
 * log2-domain scale): new running max mx of the scaled logits (ms: the max subtracted, 0
 * while a row has seen nothing), corr = 2^(old max - new max), l rescaled. */
template <int BN>
__device__ __forceinline__ void skrt_softmax_max(const float s[BN / 8][4], float sc2, float mx[2],
                                                 float l[2], float ms[2], float corr[2]) {
#pragma unroll
  for (int hr = 0; hr < 2; ++hr) {
    float bm = -INFINITY;
#pragma unroll
    for (int nt = 0; nt < BN / 8; ++nt)
      bm = fmaxf(bm, fmaxf(s[nt][2 * hr], s[nt][2 * hr + 1]));
    float mn = fmaxf(mx[hr], sc2 * skrt_quad_max(bm));
    if (!(mn > mx[hr] + SKRT_FWD_MAX_SLACK)) /* (-inf + slack: a first finite max moves it) */
      mn = mx[hr];
    ms[hr] = mn == -INFINITY ? 0.0f : mn;
    corr[hr] = skrt_ex2(mx[hr] - ms[hr]);
    mx[hr] = mn;
    l[hr] *= corr[hr];
  }
}

/* acc *= corr per row. The running max rarely moves after the first blocks: with
 * SKRT_FWD_LAZY the rescale is skipped when no row of the warp needs it (warp-uniform branch;
 * it holds no wgmma, so the warpgroup-MMA forward may take it as well). */
template <int D>
__device__ __forceinline__ void skrt_rescale(float acc[D / 8][4], const float corr[2]) {
  if (SKRT_FWD_LAZY && !__any_sync(0xffffffffu, corr[0] != 1.0f || corr[1] != 1.0f))
    return;
#pragma unroll
  for (int dt = 0; dt < D / 8; ++dt)
#pragma unroll
    for (int e = 0; e < 4; ++e)
      acc[dt][e] *= corr[e >> 1];
}

/* P = 2^(sc2 s - ms) summed into l; returns P * m in s (gates recomputed from the block's
 * meta). */
template <typename T, int D, int KIND, int BN, int PAD = 8>
__device__ __forceinline__ void
skrt_softmax_exp(float s[BN / 8][4], const skrt_mma_smem<T, D, BN, PAD> &m, int buf,
                 const skrt_rows &rw, int w, float sc2, const float ms[2], float l[2]) {
  float rs[2] = {0.0f, 0.0f};
#pragma unroll
  for (int nt = 0; nt < BN / 8; ++nt) {
    skrt_cols k = skrt_cols_of<T, D, BN>(m, buf, nt);
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      int hr = e >> 1;
      float p = skrt_ex2(fmaf(s[nt][e], sc2, -ms[hr]));
      rs[hr] += p;
      s[nt][e] =
          p * skrt_gate_of<KIND>((e & 1) ? k.j.y : k.j.x, (e & 1) ? k.u.y : k.u.x, hr, rw, w);
    }
  }
  l[0] += rs[0];
  l[1] += rs[1];
}

/* Online-softmax update of one key block of kind KIND: rescales acc/l, returns P * m in s. */
template <typename T, int D, int KIND, int BN>
__device__ __forceinline__ void skrt_softmax_step(float s[BN / 8][4],
                                                  const skrt_mma_smem<T, D, BN> &m, int buf,
                                                  const skrt_rows &rw, int w, float sc2,
                                                  float mx[2], float l[2], float acc[D / 8][4]) {
  float ms[2], corr[2];
  skrt_softmax_max<BN>(s, sc2, mx, l, ms, corr);
  skrt_rescale<D>(acc, corr);
  skrt_softmax_exp<T, D, KIND, BN>(s, m, buf, rw, w, sc2, ms, l);
}

/* acc += Pw V for the 8 NT keys of buffer Vs (Pw in accumulator layout: float[NT][4], or
 * packed: uint32_t[NT][2]). */
template <typename T, int D, int NT = 8, typename P>
__device__ __forceinline__ void skrt_pv(float acc[D / 8][4], P p, const T *Vs) {
  constexpr int SD = D + 8;
  int lane = threadIdx.x % 32;
#pragma unroll
  for (int kk = 0; kk < NT / 2; ++kk) {
    uint32_t a[4];
    skrt_acc_to_a<T, NT>(a, p, kk);
#pragma unroll
    for (int dt = 0; dt < D / 8; dt += 2) {
      uint32_t b[4];
      skrt_ldsm_x4_t(b, Vs + (kk * 16 + (lane & 15)) * SD + dt * 8 + (lane >> 4) * 8);
      skrt_mma(acc[dt], a, b[0], b[1], T());
      skrt_mma(acc[dt + 1], a, b[2], b[3], T());
    }
  }
}

/* ref: S9, S10 for one key block of kind KIND: logits, online softmax, acc += (P m) V. */
template <typename T, int D, int KIND, int BN, int GATE>
__device__ __forceinline__ void
skrt_fwd_block(float s[BN / 8][4], const skrt_mma_smem<T, D, BN> &m, int buf, const skrt_rows &rw,
               const skrt_cuda_layer &L, int w, float mx[2], float l[2], float acc[D / 8][4]) {
  skrt_mask_logits<T, D, KIND, BN, GATE>(s, m, buf, rw, w);
  skrt_softmax_step<T, D, KIND, BN>(s, m, buf, rw, w, skrt_sc2(L), mx, l, acc);
  skrt_pv<T, D, BN / 8>(acc, s, m.v(buf));
}

/* ref: S10. Normalizes and stores this thread's two output rows (head hw) and their
 * log-sum-exp (natural log, for the backward). */
template <typename T, int D>
__device__ __forceinline__ void
skrt_fwd_store(const float acc[D / 8][4], const float mx[2], const float l[2], const skrt_rows &rw,
               const skrt_cuda_layer &L, const skrt_block_seq<T> &q, int64_t hw, int64_t N) {
  int lane = threadIdx.x % 32;
  T *o = (T *)L.o + q.b * L.os[0] + hw * L.os[1];
  for (int hr = 0; hr < 2; ++hr) {
    float lt = skrt_quad_sum(l[hr]), inv = 1.0f / lt;
    if (rw.im[hr] < 0)
      continue;
    T *orow = o + rw.im[hr] * L.os[2] + (lane % 4) * 2;
#pragma unroll
    for (int dt = 0; dt < D / 8; ++dt)
      *(uint32_t *)(orow + dt * 8) =
          skrt_pack(acc[dt][2 * hr] * inv, acc[dt][2 * hr + 1] * inv, T());
    if (lane % 4 == 0)
      L.lse[(q.b * L.Hq + hw) * N + rw.im[hr]] = mx[hr] * 0.6931471805599453f + logf(lt);
  }
}

/* ref: S9, S10. Grid (ntile, Hq, B), 256 threads, dynamic smem skrt_mma_smem::bytes(0). */
template <typename T, int D, int GATE>
__global__ void __launch_bounds__(SKRT_MMA_NT, D <= 64 ? SKRT_FWD_MINB64 : SKRT_FWD_MINB128)
    skrt_attn_fwd_mma(skrt_cuda_layer L, skrt_cuda_sel sel, int hb) {
  extern __shared__ __align__(16) unsigned char skrt_mma_sm[];
  constexpr int BN = skrt_fwd_bn<D>(), NT = BN / 8;
  skrt_mma_smem<T, D, BN> m = skrt_mma_smem_at<T, D, BN>(skrt_mma_sm, 0, SKRT_FWD_NB);
  int warp = threadIdx.x / 32, r0 = warp * 16;
  skrt_mma_geo geo = skrt_mma_geo_of(hb);
  skrt_block_seq<T> q = skrt_mma_seq<T>(L, sel, geo);
  skrt_tile_keys tk = skrt_tile_keys_of(sel, q.s, geo.t);
  skrt_load_rows<T, D>(m.Q, (const T *)L.q, L.qs, geo, sel.N);
  int nblk = (int)((tk.n + BN - 1) / BN);
  skrt_load_keys<T, D>(m, 0, 0, tk, q, L);
  skrt_cp_commit();
  skrt_rows rw = skrt_rows_of<T, D>(sel, q.s, geo, r0);
  float acc[D / 8][4] = {}, mx[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
  auto load = [&](int b, int k) { skrt_load_keys<T, D>(m, b, k, tk, q, L); };
  int wc = (int)min(sel.w, sel.N);
  for (int kb = 0; kb < nblk; ++kb) {
    int buf = skrt_key_pipeline<SKRT_FWD_NB>(kb, nblk, load);
    float s[NT][4];
    int kind = skrt_block_kind<T, D, BN>(m, buf, kb, tk, geo.ib, geo.il, sel.N, wc);
    skrt_qk<T, D, NT>(s, m.Q, m.k(buf), r0);
    if (skrt_fwd_kinds<D>() && kind == SKRT_KB_ALLSEL)
      skrt_fwd_block<T, D, SKRT_KB_ALLSEL, BN, GATE>(s, m, buf, rw, L, wc, mx, l, acc);
    else if (skrt_fwd_kinds<D>() && kind == SKRT_KB_ALLWIN)
      skrt_fwd_block<T, D, SKRT_KB_ALLWIN, BN, GATE>(s, m, buf, rw, L, wc, mx, l, acc);
    else
      skrt_fwd_block<T, D, SKRT_KB_GENERAL, BN, GATE>(s, m, buf, rw, L, wc, mx, l, acc);
    __syncthreads();
  }
  skrt_fwd_store<T, D>(acc, mx, l, rw, L, q, geo.head(r0), sel.N);
}

/* ---- backward --------------------------------------------------------------------------- */

/* Lane pairs (l, l^1) of a 16 x DH accumulator-layout tile trade halves, so that acc[dt]
 * becomes 4 consecutive floats of one row (skrt_key_rows_row, from column skrt_key_rows_col
 * of the 8 of dt). */
template <int DH> __device__ __forceinline__ void skrt_key_rows_pack(float acc[DH / 8][4]) {
  int lane = threadIdx.x % 32;
  bool odd = lane & 1;
#pragma unroll
  for (int dt = 0; dt < DH / 8; ++dt) {
    float v0 = __shfl_xor_sync(0xffffffffu, odd ? acc[dt][0] : acc[dt][2], 1);
    float v1 = __shfl_xor_sync(0xffffffffu, odd ? acc[dt][1] : acc[dt][3], 1);
    if (odd) {
      acc[dt][0] = v0;
      acc[dt][1] = v1;
    } else {
      acc[dt][2] = v0;
      acc[dt][3] = v1;
    }
  }
}

/* After skrt_key_rows_pack: the tile row (of 16, from k0) this lane holds, and its first
 * column within each 8. */
__device__ __forceinline__ int skrt_key_rows_row(int k0) {
  int lane = threadIdx.x % 32;
  return k0 + lane / 4 + (lane & 1 ? 8 : 0);
}
__device__ __forceinline__ int skrt_key_rows_col() {
  int lane = threadIdx.x % 32;
  return (lane % 4 - (lane & 1)) * 2;
}

/* Adds a 16 x DH accumulator-layout tile (rows: keys k0.. of the block, whose positions are
 * J; columns d0..) into the fp32 rows dst[J] (row length D) with vector atomics; padding keys
 * (J < 0) are skipped. */
template <int D, int DH>
__device__ __forceinline__ void skrt_add_key_rows(float acc[DH / 8][4], const int32_t *J,
                                                  float *dst, int k0, int d0) {
  /* first every exchange (acc[dt] becomes this lane's 4 consecutive floats), then the
   * atomics from one row pointer with constant offsets: no per-atomic address registers */
  skrt_key_rows_pack<DH>(acc);
  int32_t j = J[skrt_key_rows_row(k0)];
  if (j < 0) /* padding */
    return;
  float4 *row = (float4 *)(dst + (int64_t)j * D + d0 + skrt_key_rows_col());
#pragma unroll
  for (int dt = 0; dt < DH / 8; ++dt)
    atomicAdd(row + dt * 2, make_float4(acc[dt][0], acc[dt][1], acc[dt][2], acc[dt][3]));
}

/* Transposed tile product for dk or dv of the key block: out(BN x D) = X^T Y where X is the
 * (QT x BN) smem matrix xs ([row][key], stride BN + 8) and Y the (QT x D) smem rows ys; the
 * 8 warps split it into BN / 16 key groups x (8 / (BN / 16)) slices of D; adds into dst rows
 * J (fp32, atomics). */
template <typename T, int D, int BN>
__device__ __forceinline__ void skrt_tile_xty(const T *xs, const T *ys, const int32_t *J,
                                              float *dst) {
  constexpr int KG = BN / 16, SD = D + 8, XS = BN + 8, DH = D / (8 / KG);
  static_assert(DH % 16 == 0, "d slice must hold whole n8 pairs");
  int warp = threadIdx.x / 32, lane = threadIdx.x % 32, k0 = (warp % KG) * 16,
      d0 = (warp / KG) * DH;
  float acc[DH / 8][4] = {};
#pragma unroll 2
  for (int kk = 0; kk < SKRT_CUDA_QTILE / 16; ++kk) {
    uint32_t a[4];
    int mi = lane / 8, rr = lane % 8;
    skrt_ldsm_x4_t(a, xs + (kk * 16 + rr + (mi / 2) * 8) * XS + k0 + (mi % 2) * 8);
#pragma unroll
    for (int dt = 0; dt < DH / 8; dt += 2) {
      uint32_t b[4];
      skrt_ldsm_x4_t(b, ys + (kk * 16 + (lane & 15)) * SD + d0 + dt * 8 + (lane >> 4) * 8);
      skrt_mma(acc[dt], a, b[0], b[1], T());
      skrt_mma(acc[dt + 1], a, b[2], b[3], T());
    }
  }
  skrt_add_key_rows<D, DH>(acc, J, dst, k0, d0);
}

/* Element offset of (row r, key column c) in a QT x BN tile of the backward: [row][key] with
 * row stride BN + 8 (ILV false, ldmatrix operand) or core matrices (ILV true, wgmma
 * operand, skrt_ilv layout). c is even: the pair (c, c + 1) is contiguous in both. */
template <int BN, bool ILV> __device__ __forceinline__ int skrt_tile_off(int r, int c) {
  return ILV ? ((r >> 3) * (BN / 8) + (c >> 3)) * 64 + (r & 7) * 8 + (c & 7) : r * (BN + 8) + c;
}

/* Writes a 16 x BN accumulator-layout tile (this warp's rows) as T into xs ([row][key]). */
/* (TW: the tile's width in keys, BN by default; xs may point at a column block of a wider
 * core-matrix tile.) */
template <typename T, int BN, bool ILV = false, int TW = BN>
__device__ __forceinline__ void skrt_store_tile(T *xs, const float p[BN / 8][4], int r0) {
  int lane = threadIdx.x % 32;
#pragma unroll
  for (int nt = 0; nt < BN / 8; ++nt)
#pragma unroll
    for (int hr = 0; hr < 2; ++hr)
      *(uint32_t *)&xs[skrt_tile_off<TW, ILV>(r0 + lane / 4 + 8 * hr, nt * 8 + (lane % 4) * 2)] =
          skrt_pack(p[nt][2 * hr], p[nt][2 * hr + 1], T());
}

/* Row statistics of the backward: lse (log2 domain) and D_i = dO_i . o_i. */
template <typename T, int D>
__device__ __forceinline__ void skrt_bwd_rows(float lse2[2], float di[2], const skrt_rows &rw,
                                              const skrt_cuda_layer &L, const skrt_cuda_grads &G,
                                              const skrt_block_seq<T> &q, int64_t hw, int64_t N) {
  int lane = threadIdx.x % 32;
  for (int hr = 0; hr < 2; ++hr) {
    int64_t i = rw.im[hr] >= 0 ? rw.im[hr] : N - 1, row = (q.b * L.Hq + hw) * N + i;
    const T *o = (const T *)L.o + q.b * L.os[0] + hw * L.os[1] + i * L.os[2];
    const T *dO = (const T *)G.dout + row * D;
    float acc = 0.0f;
    for (int d = lane % 4; d < D; d += 4)
      acc += skrt_to_f(o[d]) * skrt_to_f(dO[d]);
    di[hr] = skrt_quad_sum(acc);
    lse2[hr] = L.lse[row] * 1.4426950408889634f;
  }
}

/* ref: S6-S9, S11 for one key block of kind KIND, in one pass per element: mask, logit,
 * P, dS and the du pieces (dm of free selected pairs summed per row into rowdm, and per key
 * over the warp's 16 rows into its row of colsum: a row of BN floats per warp, summed by
 * skrt_flush_colsum). s holds raw q.k and dov = dO_i . v_j; dSg = scale * dS * gk is returned
 * packed (dsp, the A operand of dq += dSg K) and, like P * m, stored straight into its smem tile
 * (ds, pm: [row][key]), so that s dies column block by column block. (SCALED false: dS * gk,
 * the caller scales dq and dk.) */
template <typename T, int D, int KIND, int BN, int GATE, int PAD = 8, bool ILV = false, int TW = BN,
          bool SCALED = true>
__device__ __forceinline__ void
skrt_bwd_scores(const float s[BN / 8][4], const float dov[BN / 8][4], const float lse2[2],
                const float di[2], float rowdm[2], float *colsum, uint32_t dsp[BN / 8][2], T *ds,
                T *pm, const skrt_mma_smem<T, D, BN, PAD> &m, int buf, const skrt_rows &rw,
                const skrt_cuda_layer &L, int w, int r0) {
  constexpr float LOG2E = 1.4426950408889634f;
  /* window keys have no dm (masked-window blocks come as ALLWIN after skrt_mask_logits) */
  static_assert(KIND != SKRT_KB_WINMASK, "masked-window blocks: mask, then the ALLWIN code");
  constexpr bool anysel = KIND != SKRT_KB_ALLWIN;
  int lane = threadIdx.x % 32;
  constexpr bool gkv = GATE == 0;
#pragma unroll
  for (int nt = 0; nt < BN / 8; ++nt) {
    float cs[2] = {0.0f, 0.0f}, pmv[4], dsv[4];
    skrt_cols k = skrt_cols_of<T, D, BN>(m, buf, nt);
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      int hr = e >> 1, j = (e & 1) ? k.j.y : k.j.x;
      float uj = (e & 1) ? k.u.y : k.u.x, a = L.scale * s[nt][e];
      float gt = skrt_gate_of<KIND>(j, uj, hr, rw, w);
      float x = (anysel && gkv) ? gt * a : a;
      bool on = true, sel = KIND == SKRT_KB_ALLSEL;
      if (KIND == SKRT_KB_GENERAL) {
        int dm = rw.im[hr] - j;
        on = skrt_reach(dm, ((e & 1) ? k.se.y : k.se.x) - j, w);
        sel = on && dm >= w;
      }
      float P = on ? skrt_ex2(x * LOG2E - lse2[hr]) : 0.0f;
      float dS = P * (gt * dov[nt][e] - di[hr]);
      /* selected and free: 0 < u_j - tau_i < 1, i.e. 0 < gt < 1 (gt is clip(u_j - tau_i, 0, 1)
       * for every selected key) */
      float dm = 0.0f;
      if (sel && on && gt > 0.0f && gt < 1.0f)
        dm = (gkv ? dS * a : 0.0f) + P * dov[nt][e]; /* ds/dm = a for gate kv */
      dsv[e] = SCALED ? dS * (gkv ? gt : 1.0f) * L.scale : (gkv ? dS * gt : dS);
      pmv[e] = P * gt;
      cs[e & 1] += dm;
      rowdm[hr] += dm;
    }
#pragma unroll
    for (int hr = 0; hr < 2; ++hr) {
      int off = skrt_tile_off<TW, ILV>(r0 + lane / 4 + 8 * hr, nt * 8 + (lane % 4) * 2);
      *(uint32_t *)&pm[off] = skrt_pack(pmv[2 * hr], pmv[2 * hr + 1], T());
      dsp[nt][hr] = skrt_pack(dsv[2 * hr], dsv[2 * hr + 1], T());
      *(uint32_t *)&ds[off] = dsp[nt][hr];
    }
    if constexpr (anysel) {
      /* reduce-scatter over the 8 row groups (lanes of equal lane % 4): three exchanges give
       * lanes 0-3 the sums of columns 2 (lane % 4) and lanes 16-19 those of 2 (lane % 4) + 1;
       * plain stores into this warp's row (no shared-memory atomics: they are CAS loops) */
      bool hi = lane & 16;
      float v = hi ? cs[1] : cs[0];
      v += __shfl_xor_sync(0xffffffffu, hi ? cs[0] : cs[1], 16);
      v += __shfl_xor_sync(0xffffffffu, v, 8);
      v += __shfl_xor_sync(0xffffffffu, v, 4);
      if ((lane & 12) == 0)
        colsum[(r0 / 16) * BN + nt * 8 + (lane % 4) * 2 + (hi ? 1 : 0)] = v;
    }
  }
}

/* dO V^T for this warp's rows (A = dO rows in smem, B = V rows of the key block). */
template <typename T, int D, int NT>
__device__ __forceinline__ void skrt_dov(float dv[NT][4], const T *dOs, const T *Vs, int r0) {
  skrt_qk<T, D, NT>(dv, dOs, Vs, r0);
}

/* Zeroes the warps' per-key dm sums (before the first block; NTH threads). */
template <int BN, int NTH = SKRT_MMA_NT>
__device__ __forceinline__ void skrt_clear_colsum(float *colsum) {
  for (int x = threadIdx.x; x < NTH / 32 * BN; x += NTH)
    colsum[x] = 0.0f;
}

/* Adds the warps' per-key dm sums (colsum: SKRT_MMA_NT / 32 rows of BN) into dmacc and
 * clears them (a warp that skipped the block, EMPTY or all-window, leaves its row zero). */
template <int BN, int NTH = SKRT_MMA_NT>
__device__ __forceinline__ void skrt_flush_colsum(float *colsum, const int32_t *J, float *dmacc) {
  if (threadIdx.x < BN) {
    float c = 0.0f;
#pragma unroll
    for (int w = 0; w < NTH / 32; ++w) {
      c += colsum[w * BN + threadIdx.x];
      colsum[w * BN + threadIdx.x] = 0.0f;
    }
    if (c != 0.0f && J[threadIdx.x] >= 0)
      atomicAdd(dmacc + J[threadIdx.x], c);
  }
}

/* Keys per block in the backward: 32 for D > 64 (fewer registers: 2 blocks per SM). */
#ifndef SKRT_BWD_BN64
#define SKRT_BWD_BN64 64
#endif
#ifndef SKRT_BWD_BN128
#define SKRT_BWD_BN128 32
#endif
template <int D> __host__ __device__ constexpr int skrt_bwd_bn() {
  return D <= 64 ? SKRT_BWD_BN64 : SKRT_BWD_BN128;
}
template <int D> __host__ __device__ constexpr int skrt_bwd_nb() {
  return D <= 64 ? SKRT_BWD_NB64 : SKRT_BWD_NB128;
}

/* Stores this thread's two dq rows (head hw) and adds their free-dm row sums into cnum. */
template <typename T, int D>
__device__ __forceinline__ void skrt_bwd_store(const float dq[D / 8][4], const float rowdm[2],
                                               const skrt_rows &rw, const skrt_cuda_layer &L,
                                               const skrt_cuda_grads &G, const skrt_block_seq<T> &q,
                                               int64_t hw, int64_t N, float f = 1.0f) {
  /* (f: a factor on dq) */
  int lane = threadIdx.x % 32;
  for (int hr = 0; hr < 2; ++hr) {
    float rd = skrt_quad_sum(rowdm[hr]);
    if (rw.im[hr] < 0)
      continue;
    T *row = (T *)G.dq + ((q.b * L.Hq + hw) * N + rw.im[hr]) * D + (lane % 4) * 2;
#pragma unroll
    for (int dt = 0; dt < D / 8; ++dt)
      *(uint32_t *)(row + dt * 8) = skrt_pack(f * dq[dt][2 * hr], f * dq[dt][2 * hr + 1], T());
    if (lane % 4 == 0 && rd != 0.0f)
      atomicAdd(G.cnum + q.s * N + rw.im[hr], rd);
  }
}

/* ref: S11. Grid (ceil(N / qb), Hq / hb, B), 256 threads, smem skrt_mma_bwd_bytes<T, D>(). */
template <typename T, int D> constexpr size_t skrt_mma_bwd_bytes() {
  using S = skrt_mma_smem<T, D, skrt_bwd_bn<D>()>;
  return S::bytes(S::QT * S::SD + 2 * S::QT * (S::BN + 8), skrt_bwd_nb<D>()) +
         SKRT_MMA_NT / 32 * S::BN * 4;
}

template <typename T, int D, int GATE>
__global__ void __launch_bounds__(SKRT_MMA_NT, D <= 64 ? SKRT_BWD_MINB64 : SKRT_BWD_MINB128)
    skrt_attn_bwd_mma(skrt_cuda_layer L, skrt_cuda_sel sel, skrt_cuda_grads G, int hb) {
  constexpr int BN = skrt_bwd_bn<D>(), NT = BN / 8;
  using S = skrt_mma_smem<T, D, BN>;
  constexpr int XS = BN + 8;
  extern __shared__ __align__(16) unsigned char skrt_mma_sm[];
  /* layout: Q | dO | K x2 | V x2 | meta | dS | Pm | colsum */
  constexpr int NB = skrt_bwd_nb<D>();
  S m = skrt_mma_smem_at<T, D, BN>(skrt_mma_sm, S::QT * S::SD, NB);
  T *dOs = m.Q + S::QT * S::SD;
  T *dSs = (T *)(m.U + NB * S::BN), *Pms = dSs + S::QT * XS;
  float *colsum = (float *)(Pms + S::QT * XS);
  int warp = threadIdx.x / 32, r0 = warp * 16;
  skrt_mma_geo geo = skrt_mma_geo_of(hb);
  skrt_block_seq<T> q = skrt_mma_seq<T>(L, sel, geo);
  skrt_tile_keys tk = skrt_tile_keys_of(sel, q.s, geo.t);
  int64_t N = sel.N, hw = geo.head(r0);
  const int64_t dst[3] = {L.Hq * N * D, N * D, D};
  skrt_load_rows<T, D>(m.Q, (const T *)L.q, L.qs, geo, N);
  skrt_load_rows<T, D>(dOs, (const T *)G.dout, dst, geo, N);
  skrt_clear_colsum<BN>(colsum);
  int nblk = (int)((tk.n + BN - 1) / BN);
  skrt_load_keys<T, D>(m, 0, 0, tk, q, L);
  skrt_cp_commit();
  skrt_rows rw = skrt_rows_of<T, D>(sel, q.s, geo, r0);
  float lse2[2], di[2], rowdm[2] = {0.0f, 0.0f}, dq[D / 8][4] = {};
  skrt_bwd_rows<T, D>(lse2, di, rw, L, G, q, hw, N);
  float *dk = G.dk32 + q.s * N * D, *dvg = G.dv32 + q.s * N * D;
  auto load = [&](int b, int k) { skrt_load_keys<T, D>(m, b, k, tk, q, L); };
  for (int kb = 0; kb < nblk; ++kb) {
    int buf = skrt_key_pipeline<NB>(kb, nblk, load);
    float s[NT][4], dov[NT][4];
    uint32_t dsp[NT][2];
    int wc = (int)min(sel.w, sel.N);
    int kind = skrt_block_kind<T, D, BN>(m, buf, kb, tk, geo.ib, geo.il, N, wc);
    skrt_qk<T, D, NT>(s, m.Q, m.k(buf), r0);
    skrt_dov<T, D, NT>(dov, dOs, m.v(buf), r0);
    if (kind == SKRT_KB_ALLSEL)
      skrt_bwd_scores<T, D, SKRT_KB_ALLSEL, BN, GATE>(s, dov, lse2, di, rowdm, colsum, dsp, dSs,
                                                      Pms, m, buf, rw, L, wc, r0);
    else if (kind == SKRT_KB_ALLWIN)
      skrt_bwd_scores<T, D, SKRT_KB_ALLWIN, BN, GATE>(s, dov, lse2, di, rowdm, colsum, dsp, dSs,
                                                      Pms, m, buf, rw, L, wc, r0);
    else
      skrt_bwd_scores<T, D, SKRT_KB_GENERAL, BN, GATE>(s, dov, lse2, di, rowdm, colsum, dsp, dSs,
                                                       Pms, m, buf, rw, L, wc, r0);
    skrt_pv<T, D, NT>(dq, dsp, m.k(buf)); /* dq += dSg K */
    __syncthreads();
    skrt_tile_xty<T, D, BN>(dSs, m.Q, m.J + buf * BN, dk);
    skrt_tile_xty<T, D, BN>(Pms, dOs, m.J + buf * BN, dvg);
    skrt_flush_colsum<BN>(colsum, m.J + buf * BN, G.dmacc + q.s * N);
    __syncthreads();
  }
  skrt_bwd_store<T, D>(dq, rowdm, rw, L, G, q, hw, N);
}

/* ---- launch ------------------------------------------------------------------------------- */

template <typename T, int D> constexpr bool skrt_mma_supported() {
  return !std::is_same<T, float>::value && (D == 64 || D == 128);
}

#ifndef SKRT_MMA_HB_MAX
#define SKRT_MMA_HB_MAX 4
#endif

/* Query heads per block: the largest of 4, 2, 1 (capped by SKRT_MMA_HB_MAX) dividing the
 * GQA group size. */
inline int skrt_mma_heads_per_block(const skrt_cuda_layer &L) {
  int64_t g = L.Hq / L.Hkv;
  for (int hb = SKRT_MMA_HB_MAX; hb > 1; hb /= 2)
    if (g % hb == 0)
      return hb;
  return 1;
}

/* Row strides and base pointers must allow 16-byte cp.async. */
inline bool skrt_mma_aligned(const skrt_cuda_layer &L) {
  const void *ptr[4] = {L.q, L.k, L.v, L.o};
  for (const void *p : ptr)
    if ((uintptr_t)p % 16)
      return false;
  for (int i = 0; i < 3; ++i)
    if (L.qs[i] % 8 || L.ks[i] % 8 || L.vs[i] % 8 || L.os[i] % 2)
      return false;
  /* the key / value rows of a sequence are addressed with 32-bit element offsets */
  const int64_t lim = (int64_t)1 << 31;
  return L.ks[2] >= 0 && L.vs[2] >= 0 && L.ks[2] + 128 <= lim / L.N && L.vs[2] + 128 <= lim / L.N;
}

/* Sets the kernel's dynamic shared memory and launches it on grid (ceil(N / qb), Hq / hb, B),
 * qb = R / hb queries per block, with R / 64 warpgroups (R rows per block: QT, or 2 QT for the
 * 4-warpgroup kernels). (ceil(N / R) * hb blocks, as before, gave blocks past the last query
 * when qb < R and N % R <= R - qb: they read tile lists past the end.) */
template <int R = SKRT_CUDA_QTILE, typename K, typename... A>
cudaError_t skrt_mma_launch(K kernel, size_t smem, const skrt_cuda_layer &L,
                            const skrt_cuda_sel &sel, cudaStream_t st, A... args) {
  cudaError_t e =
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
  if (e != cudaSuccess)
    return e;
  int hb = skrt_mma_heads_per_block(L);
  int64_t qb = R / hb;
  dim3 grid((unsigned)((sel.N + qb - 1) / qb), (unsigned)(L.Hq / hb), (unsigned)L.B);
  kernel<<<grid, R * 2, smem, st>>>(L, sel, args..., hb);
  return cudaGetLastError();
}

/* The gate (S9) is a template parameter of the kernels (no per-element select). */
template <typename T, int D>
cudaError_t skrt_attn_fwd_mma_launch(const skrt_cuda_layer &L, const skrt_cuda_sel &sel,
                                     cudaStream_t st) {
  size_t smem = skrt_mma_smem<T, D, skrt_fwd_bn<D>()>::bytes(0, SKRT_FWD_NB);
  return L.gate == 0 ? skrt_mma_launch(skrt_attn_fwd_mma<T, D, 0>, smem, L, sel, st)
                     : skrt_mma_launch(skrt_attn_fwd_mma<T, D, 1>, smem, L, sel, st);
}

template <typename T, int D>
cudaError_t skrt_attn_bwd_mma_launch(const skrt_cuda_layer &L, const skrt_cuda_sel &sel,
                                     const skrt_cuda_grads &G, cudaStream_t st) {
  size_t smem = skrt_mma_bwd_bytes<T, D>();
  return L.gate == 0 ? skrt_mma_launch(skrt_attn_bwd_mma<T, D, 0>, smem, L, sel, st, G)
                     : skrt_mma_launch(skrt_attn_bwd_mma<T, D, 1>, smem, L, sel, st, G);
}

#endif
