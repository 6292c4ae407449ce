/* CUDA SparseK attention, Hopper path (sm_90a; the default for bf16/fp16 with D 64 or 128): the
 * kernels of cuda_attn_mma.cuh with the matrix products on the warpgroup MMA (wgmma.mma_async,
 * cuda_wgmma.cuh) instead of mma.sync. The forward block is the same (one query tile, 8 warps = 2
 * warpgroups of 64 rows; warp w holds rows 16 w .. 16 w + 15) and so is the per-element SparseK
 * code (mask, gates, online softmax, dS and the du pieces: S6-S11), because wgmma's accumulator
 * layout is the mma.sync one. What changes is the shared memory: Q, dO and the gathered key/value
 * rows, and the backward's dS and P m tiles, are stored as 8 x 16-byte core matrices (no swizzle),
 * which wgmma reads directly through descriptors - K-major for Q K^T and dO V^T, MN-major
 * (transposed) for P V, dS K, dS^T Q and (P m)^T dO - so no operand passes through registers
 * except P and dS, and there is no ldmatrix traffic.
 *
 * Forward: per key block (64 keys), S = Q K^T, the kind-specialized masks and online softmax, acc
 * += (P m) V; in blocks of 256 query rows (4 warpgroups, one block per SM, so that a GQA block of
 * 4 heads x 64 queries gathers each key block once; SKRT_WG_FWD_ROWS64_MHA = 320 gives 5
 * warpgroups for one head per block at D = 64), the key blocks handed from the loads to the
 * warps through mbarriers (skrt_kv_ring) rather than a block-wide barrier per key block.
 * Backward: blocks of 256 query rows (4 warpgroups, one block per SM; 128 rows and 2
 * warpgroups with SKRT_WG_BWD_ROWS*), per key block (64 keys at D = 64; 32 at D = 128) S and
 * dO V^T, the per-element pass, dq += dSg K in registers; per 64 keys, dk and dv as products
 * over all the block's rows (each warpgroup half of D of one of them), added with fp32 atomics:
 * 256 rows per product halve the atomics of 128 (at D = 64 issued in the next block, under its
 * dq product).
 * Block kinds (all selected / all window, which takes saturated selected keys too / masked
 * window / general / EMPTY) are decided per warpgroup. */
#ifndef SKRT_KERNELS_CUDA_ATTN_WGMMA_CUH
#define SKRT_KERNELS_CUDA_ATTN_WGMMA_CUH

#include "kernels/cuda_attn_mma.cuh"
#include "kernels/cuda_wgmma.cuh"

#ifndef SKRT_WGMMA
#define SKRT_WGMMA 1 /* 0: the mma.sync kernels of cuda_attn_mma.cuh (other GPUs, comparison) */
#endif
#if SKRT_WGMMA && defined(__CUDA_ARCH__) && !defined(__CUDA_ARCH_FEAT_SM90_ALL)
#error                                                                                             \
    "the warpgroup-MMA kernels need sm_90a (-arch=sm_90a); for plain sm_90 build with -DSKRT_WGMMA=0"
#endif
#ifndef SKRT_WG_FWD_BN64
#define SKRT_WG_FWD_BN64 64 /* keys per block in the wgmma forward, D <= 64 */
#endif
#ifndef SKRT_WG_FWD_BN128
#define SKRT_WG_FWD_BN128 64 /* D = 128 (32: 16% slower forward on the H100) */
#endif
#ifndef SKRT_WG_FWD_MINB
#define SKRT_WG_FWD_MINB 2
#endif
#ifndef SKRT_WG_FWD_ROWS64
/* query rows per forward block, D <= 64: 128 (2 blocks per SM) or 256 (4 warpgroups, one
 * block per SM: each gathered key block feeds twice the rows). With the block-wide barrier per
 * key block the two were the same at 16/16/64, 64k; with the mbarrier key ring 256 is a little
 * faster (fwd+bwd 9.73 / 9.81 / 9.81 / 9.80 vs 9.76 / 9.87 / 10.05 / 9.92 ms, two calls on the
 * H100). */
#define SKRT_WG_FWD_ROWS64 256
#endif
#ifndef SKRT_WG_FWD_ROWS128
/* D = 128: 256; at 32/8/128, 64k, the forward 8.76 / 8.82 / 8.88 ms vs 9.70 / 9.68 / 9.57
 * with 128 (one call): a GQA block of 4 heads x 64 queries gathers each key block once for
 * all 4 heads, where 128-row blocks (4 x 32) gather it twice per tile */
#define SKRT_WG_FWD_ROWS128 256
#endif
#ifndef SKRT_WG_FWD_MBAR
/* 1: the forward's warps hand key buffers over through mbarriers (full: the block's loads
 * landed; empty: every thread is done with it) in SKRT_WG_FWD_NB buffers, loads issued two
 * blocks ahead, so that warpgroups drift apart (one in its matrix products while another is
 * in its per-element pass) instead of meeting at a block-wide barrier per key block; 0: one
 * __syncthreads per key block, 2 buffers. */
#define SKRT_WG_FWD_MBAR 1
#endif
#ifndef SKRT_WG_FWD_NB
/* key buffers with mbarriers: 4 lets a warp run up to a block ahead of the slowest (the loads
 * two blocks ahead reuse the buffer of the block two behind) */
#define SKRT_WG_FWD_NB 4
#endif
#ifndef SKRT_WG_FWD_ROWS64_MHA
/* D <= 64 with one query head per block (MHA): 256 rows, like SKRT_WG_FWD_ROWS64, or 320
 * (5 warpgroups at 96 registers; blocks of several heads keep SKRT_WG_FWD_ROWS64: their 64-row
 * warpgroup spans must not cross heads). 320 was faster while every list block ran the gated
 * per-element code (session 15: forward with the selection 3.28 vs 3.42 ms at 16/16/64, 64k);
 * since saturated and masked-window blocks take the cheaper codes, 256 is: fwd+bwd 8.366 /
 * 8.411 / 8.404 vs 8.550 / 8.499 / 8.461 ms (one call on the H100). */
#define SKRT_WG_FWD_ROWS64_MHA 256
#endif
#ifndef SKRT_WG_FWD_KEEP128
/* 1: at D = 128 the forward gathers key and value rows evict_last in L2 (skrt_cp16_keep), so
 * that the keys many tiles select stay there (a KV head's keys and values, 32 MB at 64k, do
 * not fit beside the rest). 32/8/128 at 64k: forward 6.42 / 6.41 / 6.42 vs 6.65 / 6.51 / 6.48
 * ms, fwd+bwd 24.18 / 24.05 / 24.13 vs 24.30 / 24.22 / 24.21 (one call on the H100, rounds
 * interleaved). At D = 64 the same hint changed nothing (fwd+bwd 8.96 / 8.92 / 8.78 vs 8.88 /
 * 8.88 / 8.87), and in the backward's gathers it changed nothing at D = 128 (at D = 64 nvcc 13.0
 * put that backward's policy descriptor in an odd uniform register, desc[UR1], and the kernel
 * stopped with an illegal instruction; the D = 128 forward's is desc[UR20] and passes the
 * suite). */
#define SKRT_WG_FWD_KEEP128 1
#endif
template <int D> __host__ __device__ constexpr bool skrt_wg_fwd_keep() {
  return SKRT_WG_FWD_KEEP128 && D > 64;
}
template <int D> __host__ __device__ constexpr int skrt_wg_fwd_bn() {
  return D <= 64 ? SKRT_WG_FWD_BN64 : SKRT_WG_FWD_BN128;
}
template <int D> __host__ __device__ constexpr int skrt_wg_fwd_rows() {
  return D <= 64 ? SKRT_WG_FWD_ROWS64 : SKRT_WG_FWD_ROWS128;
}

/* Element offset of 16-byte chunk c of row r in a core-matrix tile of C chunks per row:
 * [r / 8][c][r % 8][8 elements]. */
template <int C> __device__ __forceinline__ int skrt_ilv(int r, int c) {
  return ((r >> 3) * C + c) * 64 + (r & 7) * 8;
}

/* Descriptors of the core-matrix tiles (byte strides: K-adjacent core matrices, then M/N). */
template <int D> __device__ __forceinline__ uint64_t skrt_desc_kmajor(const void *p) {
  return skrt_wgmma_desc(p, 128, D * 16); /* rows x D, K = D (Q, K of Q K^T) */
}
template <int D> __device__ __forceinline__ uint64_t skrt_desc_mnmajor(const void *p) {
  return skrt_wgmma_desc(p, D * 16, 128); /* keys x D, K = keys (V of P V) */
}

/* Thread x -> (row, chunk) with 8 consecutive threads on 8 rows of one core matrix, so that a
 * warp's 16-byte shared-memory writes fill 512 contiguous bytes (no bank conflict). */
template <int C> __device__ __forceinline__ void skrt_ilv_rc(int x, int &r, int &c) {
  r = (x / (8 * C)) * 8 + (x & 7);
  c = (x >> 3) % C;
}

/* cp.async of the block's R rows (2 R threads) of a (B,H,N,D) tensor (element strides st) into
 * a core-matrix tile (queries past N repeat query N-1; they are never stored). */
template <typename T, int D, int R = SKRT_CUDA_QTILE>
__device__ __forceinline__ void skrt_wg_load_rows(T *dst, const T *src, const int64_t st[3],
                                                  const skrt_mma_geo &g, int64_t N) {
  constexpr int C = D / 8;
  for (int x = threadIdx.x; x < R * C; x += 2 * R) {
    int r, c;
    skrt_ilv_rc<C>(x, r, c);
    int64_t i = min(g.query(r), N - 1);
    skrt_cp16(dst + skrt_ilv<C>(r, c), src + g.b * st[0] + g.head(r) * st[1] + i * st[2] + c * 8);
  }
}

/* cp.async of 4 bytes; ok false writes zeros (src-size 0). */
__device__ __forceinline__ void skrt_cp4(void *dst, const void *src, bool ok) {
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(skrt_smem_addr(dst)),
               "l"(src), "r"(ok ? 4 : 0));
}

/* Loads of key block kb (keys, values: core-matrix tiles; meta) into buffer buf, all through
 * cp.async. The key positions (jr: the list entries, a global load that the row addresses
 * depend on) were fetched a block ahead by skrt_wg_keys_j, so no thread waits on a global
 * load here. 32-bit positions: N < 2^30. */
template <int D, int BN, int NTH = SKRT_MMA_NT>
__host__ __device__ constexpr int skrt_wg_load_iters() {
  return (BN * (D / 8) + NTH - 1) / NTH; /* the last round partial (fewer slots than threads) */
}

/* Key position of load slot it of block kb (-2^30: padding past the tile's keys). */
template <int D, int BN, int NTH = SKRT_MMA_NT>
__device__ __forceinline__ int skrt_wg_key_j(int kb, int it, const skrt_tile_keys &tk) {
  int r, c;
  skrt_ilv_rc<D / 8>(threadIdx.x + it * NTH, r, c);
  int kx = kb * BN + r;
  return kx < tk.nA ? tk.list[kx] : (kx < tk.n ? tk.rs + kx - tk.nA : -(1 << 30));
}

template <int D, int BN, int NTH = SKRT_MMA_NT>
__device__ __forceinline__ void skrt_wg_keys_j(int kb, const skrt_tile_keys &tk,
                                               int (&jr)[skrt_wg_load_iters<D, BN, NTH>()]) {
#pragma unroll
  for (int it = 0; it < skrt_wg_load_iters<D, BN, NTH>(); ++it)
    jr[it] = skrt_wg_key_j<D, BN, NTH>(kb, it, tk);
}

/* (INLINE: the key positions are looked up here, slot by slot, instead of taken from jr.
 * KEEP: the key and value rows are loaded evict_last, skrt_cp16_keep.) */
template <typename T, int D, int BN, bool INLINE, int NTH = SKRT_MMA_NT, bool KEEP = false>
__device__ __forceinline__ void
skrt_wg_load_keys(const skrt_mma_smem<T, D, BN, 0> &m, int buf, int kb, const skrt_tile_keys &tk,
                  const skrt_block_seq<T> &q, const skrt_cuda_layer &L,
                  const int (&jr)[skrt_wg_load_iters<D, BN, NTH>()]) {
  constexpr int C = D / 8;
  constexpr bool PARTIAL = BN * C % NTH != 0; /* e.g. 512 slots, 640 threads */
  /* unrolled it holds every slot's addresses at once: only when the slots are few */
#pragma unroll(INLINE ? 1 : skrt_wg_load_iters <D, BN, NTH>())
  for (int it = 0; it < skrt_wg_load_iters<D, BN, NTH>(); ++it) {
    if (PARTIAL && threadIdx.x + it * NTH >= BN * C)
      break;
    int r, c;
    skrt_ilv_rc<C>(threadIdx.x + it * NTH, r, c);
    int o = skrt_ilv<C>(r, c), jx = INLINE ? skrt_wg_key_j<D, BN, NTH>(kb, it, tk) : jr[it];
    bool real = jx >= 0;
    int j = real ? jx : 0;
    /* 32-bit element offsets within the sequence (skrt_mma_aligned: N row strides < 2^31) */
    const T *ks = q.K + ((uint32_t)j * (uint32_t)L.ks[2] + c * 8),
            *vs = q.V + ((uint32_t)j * (uint32_t)L.vs[2] + c * 8);
    if constexpr (KEEP) {
      skrt_cp16_keep(m.k(buf) + o, ks);
      skrt_cp16_keep(m.v(buf) + o, vs);
    } else {
      skrt_cp16(m.k(buf) + o, ks);
      skrt_cp16(m.v(buf) + o, vs);
    }
    if (c == 0) {
      m.J[buf * BN + r] = jx;
      skrt_cp4(&m.E[buf * BN + r], q.se + j, real);
      skrt_cp4(&m.U[buf * BN + r], q.u + j, true);
    }
  }
}

/* Whether the key positions of the next block are held in registers (2 per thread at most:
 * more spill at 2 blocks per SM) or fetched when the block is loaded. */
template <int D, int BN, int NTH = SKRT_MMA_NT>
__host__ __device__ constexpr bool skrt_wg_prefetch_j() {
  return skrt_wg_load_iters<D, BN, NTH>() <= 2;
}

/* Issues the loads of key block k into buffer b. With prefetching, jr holds block k's key
 * positions on entry and block k + 1's on return; without, it is not touched. */
template <typename T, int D, int BN, int NTH = SKRT_MMA_NT, bool KEEP = false>
__device__ __forceinline__ void
skrt_wg_load_block(const skrt_mma_smem<T, D, BN, 0> &m, int b, int k, const skrt_tile_keys &tk,
                   const skrt_block_seq<T> &q, const skrt_cuda_layer &L,
                   int (&jr)[skrt_wg_load_iters<D, BN, NTH>()]) {
  if constexpr (skrt_wg_prefetch_j<D, BN, NTH>()) {
    skrt_wg_load_keys<T, D, BN, false, NTH, KEEP>(m, b, k, tk, q, L, jr);
    skrt_wg_keys_j<D, BN, NTH>(k + 1, tk, jr);
  } else {
    int none[skrt_wg_load_iters<D, BN, NTH>()] = {};
    skrt_wg_load_keys<T, D, BN, true, NTH, KEEP>(m, b, k, tk, q, L, none);
  }
}

/* Starts the key pipeline: block 0's loads into buffer 0, committed (and, with prefetching,
 * block 1's key positions in jr). */
template <typename T, int D, int BN, int NTH = SKRT_MMA_NT, bool KEEP = false>
__device__ __forceinline__ void
skrt_wg_load_first(const skrt_mma_smem<T, D, BN, 0> &m, const skrt_tile_keys &tk,
                   const skrt_block_seq<T> &q, const skrt_cuda_layer &L,
                   int (&jr)[skrt_wg_load_iters<D, BN, NTH>()]) {
  if constexpr (skrt_wg_prefetch_j<D, BN, NTH>())
    skrt_wg_keys_j<D, BN, NTH>(0, tk, jr);
  skrt_wg_load_block<T, D, BN, NTH, KEEP>(m, 0, 0, tk, q, L, jr);
  skrt_cp_commit();
}

/* Descriptor steps (the address field counts 16 bytes; shared addresses < 2^18 never carry
 * out of it): one k-step (16 columns) of a K-major tile, and 16 rows of an MN-major one. */
constexpr uint64_t skrt_desc_kstep = 256 >> 4;
template <int D> __host__ __device__ constexpr uint64_t skrt_desc_rows16() {
  return (uint64_t)(16 * D * 2) >> 4;
}

/* s = Q K^T for this warpgroup's 64 rows (dq: descriptor of its Q rows) and the BN keys of the
 * tile with descriptor dk. */
template <typename T, int D, int BN>
__device__ __forceinline__ void skrt_wg_qk(float (&s)[BN / 8][4], uint64_t dq, uint64_t dk) {
  skrt_wgmma_fence();
#pragma unroll
  for (int ks = 0; ks < D / 16; ++ks) /* the first k-step overwrites s (scale-d 0) */
    skrt_wgmma_ss<BN, T, 0, 0>(s, dq + ks * skrt_desc_kstep, dk + ks * skrt_desc_kstep, ks > 0);
  skrt_wgmma_commit();
  skrt_wgmma_wait<0>();
}

/* acc += P V (P in accumulator layout, this warp's 16 rows; dv: MN-major descriptor of the BN
 * keys x D tile). */
template <typename T, int D, int BN>
__device__ __forceinline__ void skrt_wg_pv(float (&acc)[D / 8][4], const float p[BN / 8][4],
                                           uint64_t dv) {
  skrt_wgmma_fence();
#pragma unroll
  for (int kk = 0; kk < BN / 16; ++kk) {
    uint32_t a[4];
    skrt_acc_to_a<T, BN / 8>(a, p, kk);
    skrt_wgmma_rs<D, T, 1>(acc, a, dv + kk * skrt_desc_rows16<D>(), 1);
  }
  skrt_wgmma_commit();
  skrt_wgmma_wait<0>();
}

/* The warpgroup index, broadcast from lane 0 so that the compiler knows it is warp-uniform:
 * the descriptors built from it then stay in uniform registers (no per-wgmma moves), and
 * branches on per-warpgroup block kinds are not divergent. */
__device__ __forceinline__ int skrt_wg_index() {
  return __shfl_sync(0xffffffffu, (int)threadIdx.x / 128, 0);
}

/* Queries [i0, il] of this warpgroup's 64 rows: 64 consecutive queries of one head when the
 * block has qb >= 64 queries per head (its part of them), else all the block's queries (its
 * rows span 64 / qb heads). Block kinds are decided per warpgroup, so that each part of a
 * block gets the cheap kinds where they hold for its own rows. */
struct skrt_wg_span {
  int i0, il;
};
__device__ __forceinline__ skrt_wg_span skrt_wg_span_of(const skrt_mma_geo &g, int wg) {
  skrt_wg_span r;
  r.i0 = (int)g.ib + (g.qb > 64 ? 64 * wg % g.qb : 0);
  r.il = r.i0 + min(g.qb, 64) - 1;
  return r;
}

/* skrt_block_kind for the warpgroup's queries, plus EMPTY: a block of range keys all newer
 * than the warpgroup's last query (attended by none of its rows). Warpgroup-uniform. */
template <typename T, int D, int BN>
__device__ __forceinline__ int skrt_wg_block_kind(const skrt_mma_smem<T, D, BN, 0> &m, int buf,
                                                  int kb, const skrt_tile_keys &tk, skrt_wg_span r,
                                                  int64_t N, int w) {
  if (kb * BN >= tk.nA && m.J[buf * BN] > r.il)
    return SKRT_KB_EMPTY;
  return skrt_block_kind<T, D, BN>(m, buf, kb, tk, r.i0, r.il, N, w);
}

/* Shared memory of the forward with R rows: skrt_mma_smem's layout with the Q rows past the
 * first QT as extra rows. */
template <int D, int R> __host__ __device__ constexpr int skrt_wg_fwd_extra() {
  return (R - SKRT_CUDA_QTILE) * D;
}
__host__ __device__ constexpr int skrt_wg_fwd_nb() {
  return SKRT_WG_FWD_MBAR ? SKRT_WG_FWD_NB : SKRT_FWD_NB;
}
template <typename T, int D, int R> constexpr size_t skrt_wg_fwd_bytes() {
  return skrt_mma_smem<T, D, skrt_wg_fwd_bn<D>(), 0>::bytes(skrt_wg_fwd_extra<D, R>(),
                                                            skrt_wg_fwd_nb());
}

/* mbarriers in shared memory (sm_90; CTA scope). */
__device__ __forceinline__ void skrt_mbar_init(uint64_t *bar, int count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(skrt_smem_addr(bar)), "r"(count)
               : "memory");
}
__device__ __forceinline__ void skrt_mbar_arrive(uint64_t *bar) {
  asm volatile("mbarrier.arrive.release.cta.shared::cta.b64 _, [%0];\n" ::"r"(skrt_smem_addr(bar))
               : "memory");
}
/* Waits until the phase of parity ph of bar has completed. */
__device__ __forceinline__ void skrt_mbar_wait(uint64_t *bar, int ph) {
  asm volatile("{\n.reg .pred p;\nLAB_WAIT:\n"
               "mbarrier.try_wait.parity.acquire.cta.shared::cta.b64 p, [%0], %1;\n"
               "@!p bra LAB_WAIT;\n}\n" ::"r"(skrt_smem_addr(bar)),
               "r"(ph)
               : "memory");
}
/* The forward's key pipeline over NB buffers with mbarriers full[NB] and empty[NB], on which
 * every thread arrives (each releases its own copies and reads; one arrival per warp after a
 * __syncwarp would be as correct, but compute-sanitizer's racecheck reports it as a race).
 * Block kb lives in buffer kb % NB. Its loads are issued during block kb - 2, once every thread
 * has released the buffer's previous block (kb - NB); each thread waits for its own copies of a
 * block one block later, fences them for the async proxy and arrives on full. So a thread waits
 * only on blocks that the others finished well before, never on a block-wide barrier. */
template <int NB> struct skrt_kv_ring {
  uint64_t *full, *empty;
  /* before the loop (block 0 issued and committed): issue block 1, signal block 0 */
  template <typename F> __device__ __forceinline__ void start(int nblk, F load) const {
    if (nblk > 1)
      load(1 % NB, 1);
    skrt_cp_commit();
    skrt_cp_wait<1>();
    skrt_fence_async_smem();
    skrt_mbar_arrive(&full[0]);
  }
  /* at the top of block kb: issue kb + 2, signal kb + 1, wait for kb; returns its buffer */
  template <typename F> __device__ __forceinline__ int acquire(int kb, int nblk, F load) const {
    if (kb + 2 < nblk) {
      int b = (kb + 2) % NB;
      if (kb + 2 >= NB)
        skrt_mbar_wait(&empty[b], ((kb + 2) / NB - 1) & 1);
      load(b, kb + 2);
    }
    skrt_cp_commit();
    if (kb + 1 < nblk) {
      skrt_cp_wait<1>();
      skrt_fence_async_smem();
      skrt_mbar_arrive(&full[(kb + 1) % NB]);
    }
    skrt_mbar_wait(&full[kb % NB], (kb / NB) & 1);
    return kb % NB;
  }
  /* after this thread's last read of block kb's buffer */
  __device__ __forceinline__ void release(int kb) const { skrt_mbar_arrive(&empty[kb % NB]); }
};

/* ref: S9, S10. R query rows per block (skrt_wg_fwd_rows: 128, or 256 = 4 warpgroups, one
 * block per SM, a key block then feeds twice the rows); grid (ceil(N / qb), Hq / hb, B),
 * 2 R threads, smem skrt_wg_fwd_bytes<T, D, R>(). */
template <typename T, int D, int GATE, int R>
__global__ void __launch_bounds__(2 * R, R == SKRT_CUDA_QTILE ? SKRT_WG_FWD_MINB : 1)
    skrt_attn_fwd_wg(skrt_cuda_layer L, skrt_cuda_sel sel, int hb) {
  extern __shared__ __align__(128) unsigned char skrt_wg_sm[];
  constexpr int BN = skrt_wg_fwd_bn<D>(), NT = BN / 8, NTH = 2 * R, NB = skrt_wg_fwd_nb();
  constexpr bool MBAR = SKRT_WG_FWD_MBAR;
  using S = skrt_mma_smem<T, D, BN, 0>;
  S m = skrt_mma_smem_at<T, D, BN, 0>(skrt_wg_sm, skrt_wg_fwd_extra<D, R>(), NB);
  __shared__ uint64_t bars[2 * NB];
  const skrt_kv_ring<NB> ring{bars, bars + NB};
  if (MBAR) {
    if (threadIdx.x < 2 * NB)
      skrt_mbar_init(&bars[threadIdx.x], NTH);
    __syncthreads();
  }
  int warp = threadIdx.x / 32, r0 = warp * 16, wg = skrt_wg_index();
  /* descriptors: this warpgroup's Q rows, key/value buffer 0 (buffer b: + b * kvstep) */
  const uint64_t dQ = skrt_desc_kmajor<D>(m.Q + wg * 64 * D), dK = skrt_desc_kmajor<D>(m.k(0)),
                 dV = skrt_desc_mnmajor<D>(m.v(0)), kvstep = (uint64_t)(BN * D * 2) >> 4;
  skrt_mma_geo geo = skrt_mma_geo_of<R>(hb);
  skrt_block_seq<T> q = skrt_mma_seq<T>(L, sel, geo);
  skrt_tile_keys tk = skrt_tile_keys_of(sel, q.s, geo.t, geo.il + 1);
  skrt_wg_load_rows<T, D, R>(m.Q, (const T *)L.q, L.qs, geo, sel.N);
  int nblk = (int)((tk.n + BN - 1) / BN);
  int jr[skrt_wg_load_iters<D, BN, NTH>()]; /* key positions of the next block to load */
  auto load = [&](int b, int k) {
    skrt_wg_load_block<T, D, BN, NTH, skrt_wg_fwd_keep<D>()>(m, b, k, tk, q, L, jr);
  };
  skrt_wg_load_first<T, D, BN, NTH, skrt_wg_fwd_keep<D>()>(m, tk, q, L, jr);
  if (MBAR)
    ring.start(nblk, load);
  skrt_rows rw = skrt_rows_of<T, D>(sel, q.s, geo, r0);
  float acc[D / 8][4] = {}, mx[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
  int wc = (int)min(sel.w, sel.N);
  const float sc2 = skrt_sc2(L);
  skrt_wg_span span = skrt_wg_span_of(geo, wg);
  for (int kb = 0; kb < nblk; ++kb) {
    int buf = MBAR ? ring.acquire(kb, nblk, load) : skrt_key_pipeline<NB, true>(kb, nblk, load);
    float s[NT][4];
    int kind = skrt_wg_block_kind<T, D, BN>(m, buf, kb, tk, span, sel.N, wc);
    if (kind == SKRT_KB_EMPTY) {
      if (MBAR)
        ring.release(kb);
      else
        __syncthreads();
      continue;
    }
    skrt_wg_qk<T, D, BN>(s, dQ, dK + buf * kvstep);
    /* the kind branches hold no accumulator update (that would serialize the wgmma) */
    if (kind == SKRT_KB_ALLSEL)
      skrt_mask_logits<T, D, SKRT_KB_ALLSEL, BN, GATE>(s, m, buf, rw, wc);
    else if (kind == SKRT_KB_ALLWIN)
      skrt_mask_logits<T, D, SKRT_KB_ALLWIN, BN, GATE>(s, m, buf, rw, wc);
    else if (kind == SKRT_KB_WINMASK)
      skrt_mask_logits<T, D, SKRT_KB_WINMASK, BN, GATE>(s, m, buf, rw, wc);
    else
      skrt_mask_logits<T, D, SKRT_KB_GENERAL, BN, GATE>(s, m, buf, rw, wc);
    float ms[2], corr[2];
    skrt_softmax_max<BN>(s, sc2, mx, l, ms, corr);
    skrt_rescale<D>(acc, corr);
    if (kind == SKRT_KB_ALLSEL)
      skrt_softmax_exp<T, D, SKRT_KB_ALLSEL, BN>(s, m, buf, rw, wc, sc2, ms, l);
    else if (kind == SKRT_KB_ALLWIN || kind == SKRT_KB_WINMASK) /* gate 1 */
      skrt_softmax_exp<T, D, SKRT_KB_ALLWIN, BN>(s, m, buf, rw, wc, sc2, ms, l);
    else
      skrt_softmax_exp<T, D, SKRT_KB_GENERAL, BN>(s, m, buf, rw, wc, sc2, ms, l);
    skrt_wg_pv<T, D, BN>(acc, s, dV + buf * kvstep);
    if (MBAR)
      ring.release(kb);
    else
      __syncthreads();
  }
  skrt_fwd_store<T, D>(acc, mx, l, rw, L, q, geo.head(r0), sel.N);
}

/* ---- backward ---------------------------------------------------------------------------- */

#ifndef SKRT_WG_BWD_NB64
/* key buffers of the wgmma backward, D <= 64: 2 (the next block's keys load during this one)
 * measured 2-4% faster fwd+bwd at 16/16/64 than 1 (10.54 / 10.44 vs 10.76 / 10.83 ms, one
 * call on the H100) */
#define SKRT_WG_BWD_NB64 2
#endif
#ifndef SKRT_WG_BWD_NB128
#define SKRT_WG_BWD_NB128 1 /* D = 128 (2 do not fit 256-row blocks) */
#endif
template <int D> __host__ __device__ constexpr int skrt_wg_bwd_nb() {
  return D <= 64 ? SKRT_WG_BWD_NB64 : SKRT_WG_BWD_NB128;
}
#ifndef SKRT_WG_BWD_EARLY
/* With one key buffer: 1 issues the next block's loads as soon as this block's last reader of
 * the buffer (dq's product) is done, so that they run under the dk / dv products and atomics;
 * 0 issues them at the top of the next block (the load latency then runs alone). */
#define SKRT_WG_BWD_EARLY 1
#endif
#ifndef SKRT_WG_BWD_MINB64
#define SKRT_WG_BWD_MINB64 2
#endif
#ifndef SKRT_WG_BWD_BN128
/* D = 128: keys per per-element block. 32: S and dO V^T take 32 accumulator registers next to
 * dq's 64 (64 keys were slower with 128-row blocks: 1 block per SM, 37.6 vs 33.9 ms). */
#define SKRT_WG_BWD_BN128 32
#endif
#define SKRT_WG_BWD_TW 64 /* keys of the dk / dv products: 64-row wgmma */
#ifndef SKRT_WG_XTY_DS128
/* D = 128: columns of D per dk / dv product slice. With 64 (32 accumulator registers next to
 * dq's 64) ptxas runs out of registers at 128 per thread and serializes every wgmma of the
 * kernel (info C7512: a wait after each one); 32 keeps them asynchronous. */
#define SKRT_WG_XTY_DS128 32
#endif
#ifndef SKRT_WG_BWD_ROWS64
/* Query rows per backward block, D <= 64: 256 (4 warpgroups, 1 block per SM: each dk / dv
 * product sums 256 rows, so half the fp32 atomics of 128; 4.7% faster fwd+bwd at 16/16/64,
 * 12.6% at 32/8/128 on the H100) or 128 (2 warpgroups, 2 blocks per SM; at D = 128 its
 * shared memory then leaves room for 1 block per SM only). */
#define SKRT_WG_BWD_ROWS64 256
#endif
#ifndef SKRT_WG_BWD_ROWS128
#define SKRT_WG_BWD_ROWS128 256 /* D = 128 */
#endif
template <int D> __host__ __device__ constexpr int skrt_wg_bwd_rows() {
  return D <= 64 ? SKRT_WG_BWD_ROWS64 : SKRT_WG_BWD_ROWS128;
}

/* Columns of D per warpgroup in the dk / dv products: R / 64 warpgroups share them (2: dk and
 * dv whole; 4: each half of D of one of them); DS per accumulator slice. */
template <int D, int R> __host__ __device__ constexpr int skrt_wg_xty_dp() {
  return D / (R / SKRT_CUDA_QTILE);
}
template <int D, int R> __host__ __device__ constexpr int skrt_wg_xty_ds() {
  return D <= 64 ? skrt_wg_xty_dp<D, R>()
                 : (skrt_wg_xty_dp<D, R>() < SKRT_WG_XTY_DS128 ? skrt_wg_xty_dp<D, R>()
                                                               : SKRT_WG_XTY_DS128);
}

#ifndef SKRT_WG_BWD_DEFER
/* 1: when a warpgroup's dk / dv product is one slice (D = 64), its float4 atomics wait in a
 * per-thread staging slot of shared memory and go out in the next key block, under that
 * block's dq product, instead of right after the product, where they run alone between two
 * block-wide barriers. 16/16/64 at 64k, fwd+bwd: 9.264 / 9.205 / 9.193 vs 9.279 / 9.255 /
 * 9.268 ms (one call on the H100, rounds interleaved). Issued under the next block's S and
 * dO V^T products instead, the staged values spill (96 / 76 B) and it is slower (9.62). */
#define SKRT_WG_BWD_DEFER 1
#endif
template <int D, int R> __host__ __device__ constexpr bool skrt_wg_defer() {
  return SKRT_WG_BWD_DEFER && skrt_wg_xty_ds<D, R>() == skrt_wg_xty_dp<D, R>();
}

/* Per-thread staging of deferred dk / dv atomics: DS / 8 float4 (this lane's 4 floats per 8
 * columns, after skrt_key_rows_pack) and the key position (-1: nothing staged) per thread,
 * thread-major so that the float4 accesses are conflict-free. Only the owning thread reads
 * its slot: no barrier orders them. */
template <int DS, int NTH> struct skrt_xty_stage {
  float4 *v;
  int32_t *j;
  static constexpr size_t bytes() { return (size_t)NTH * (DS / 8 * 16 + 4) + 16; /* + align */ }
  __device__ void put(const float acc[DS / 8][4], int32_t jr) const {
#pragma unroll
    for (int dt = 0; dt < DS / 8; ++dt)
      v[dt * NTH + threadIdx.x] = make_float4(acc[dt][0], acc[dt][1], acc[dt][2], acc[dt][3]);
    j[threadIdx.x] = jr;
  }
  /* issues the staged atomics into dst (rows of D floats, this warpgroup's columns from d0) */
  template <int D> __device__ __forceinline__ void flush(float *dst, int d0) const {
    int32_t jr = j[threadIdx.x];
    if (jr < 0)
      return;
    j[threadIdx.x] = -1;
    float4 *row = (float4 *)(dst + (int64_t)jr * D + d0 + skrt_key_rows_col());
#pragma unroll
    for (int dt = 0; dt < DS / 8; ++dt)
      atomicAdd(row + dt * 2, v[dt * NTH + threadIdx.x]);
  }
};

/* Keys per block of the backward's per-element pass; the dS and P m tiles hold TW keys, so
 * with 32-key blocks the dk / dv products run every second block. */
template <int D> __host__ __device__ constexpr int skrt_wg_bwd_bn() {
  return D <= 64 ? SKRT_WG_BWD_TW : SKRT_WG_BWD_BN128;
}
template <int D> __host__ __device__ constexpr int skrt_wg_bwd_minb() {
  return D <= 64 ? SKRT_WG_BWD_MINB64 : (SKRT_WG_BWD_BN128 < SKRT_WG_BWD_TW ? 2 : 1);
}

/* Shared memory (R rows): Q | dO | K, V x NB | meta | dS | Pm (R x TW core-matrix tiles) |
 * colsum (a row per warp) | the TW key positions of the tiles. extra: the rows between Q's
 * first QT and the keys (Q's rows past QT, dO). */
template <int D, int R> __host__ __device__ constexpr int skrt_wg_bwd_extra() {
  return (R - SKRT_CUDA_QTILE) * D + R * D;
}
template <typename T, int D, int R> constexpr size_t skrt_wg_bwd_bytes() {
  using S = skrt_mma_smem<T, D, skrt_wg_bwd_bn<D>(), 0>;
  return S::bytes(skrt_wg_bwd_extra<D, R>() + 2 * R * SKRT_WG_BWD_TW, skrt_wg_bwd_nb<D>()) +
         2 * R / 32 * S::BN * 4 + SKRT_WG_BWD_TW * 4 +
         (skrt_wg_defer<D, R>() ? skrt_xty_stage<skrt_wg_xty_ds<D, R>(), 2 * R>::bytes() : 0);
}

/* out (TW keys x DP columns of D from c0) = f X^T Y over the R rows: X an R x TW core-matrix
 * tile (dS or P m), Y the R x D rows (Q or dO), given by their MN-major descriptors dx, dy;
 * this warpgroup's accumulator, in slices of DS columns (registers), added into dst[J] with
 * float4 atomics. The k-step loop is not unrolled: unrolled, its R / 16 descriptor pairs
 * outgrow the uniform registers at R = 256 and the kernel spills 600 bytes per thread. */
template <typename T, int D, int R>
__device__ __forceinline__ void
skrt_wg_xty(uint64_t dx, uint64_t dy, const int32_t *J, float *dst, int c0, float f,
            const skrt_xty_stage<skrt_wg_xty_ds<D, R>(), 2 * R> &stg) {
  constexpr int TW = SKRT_WG_BWD_TW, DP = skrt_wg_xty_dp<D, R>(), DS = skrt_wg_xty_ds<D, R>();
#pragma unroll
  for (int d0 = c0; d0 < c0 + DP; d0 += DS) {
    float acc[DS / 8][4];
#pragma unroll
    for (int dt = 0; dt < DS / 8; ++dt)
#pragma unroll
      for (int e = 0; e < 4; ++e)
        acc[dt][e] = 0.0f;
    /* column slice d0 of the MN-major Y: d0 / 8 core matrices of 128 bytes further */
    uint64_t dys = dy + (uint64_t)(d0 / 8 * 128 >> 4);
    skrt_wgmma_fence();
#pragma unroll 1
    for (int kq = 0; kq < R / 16; ++kq)
      skrt_wgmma_ss<DS, T, 1, 1>(acc, dx + kq * skrt_desc_rows16<TW>(),
                                 dys + kq * skrt_desc_rows16<D>(), 1);
    skrt_wgmma_commit();
    skrt_wgmma_wait<0>();
#pragma unroll
    for (int dt = 0; dt < DS / 8; ++dt)
#pragma unroll
      for (int e = 0; e < 4; ++e)
        acc[dt][e] *= f;
    const int k0 = 16 * ((threadIdx.x / 32) % 4);
    if constexpr (skrt_wg_defer<D, R>()) {
      skrt_key_rows_pack<DS>(acc);
      stg.put(acc, J[skrt_key_rows_row(k0)]);
    } else {
      skrt_add_key_rows<D, DS>(acc, J, dst, k0, d0);
    }
  }
}

/* The backward's masked-window blocks take the window mask on the raw logits (unattended pairs
 * +-inf by the scale's sign, so that the scaled logit is -inf: P, dS and P m 0, no dm), then the
 * all-window per-element code; with scale 0 the general code. Their own per-element code
 * measured the same at D = 64 (8.46 / 8.51 / 8.47 vs 8.55 / 8.56 / 8.47 ms fwd+bwd at 16/16/64,
 * 64k) and raised the D = 128 spills to 60 / 68 B (23.76 - 23.90 against 23.38 - 23.55 at
 * 32/8/128); the general code was slower at D = 128 (23.51 / 23.42 / 23.54 against 23.30 /
 * 23.41 / 23.40). SKRT_WG_BWD_WINMASK 0 sends them to the general code. */
#ifndef SKRT_WG_BWD_WINMASK
#define SKRT_WG_BWD_WINMASK 1
#endif

/* ref: S11 for one key block (kind not EMPTY) of this warpgroup's rows: S = Q K^T and
 * dO V^T (wgmma), the per-element pass, the dS tile (dSs, Pms: this block's column block of
 * the TW-wide tiles), and dq += dSg K issued (committed, not waited for). */
template <typename T, int D, int GATE, int BN, typename F>
__device__ __forceinline__ void
skrt_wg_bwd_block(float (&s)[BN / 8][4], float (&dov)[BN / 8][4], float (&dq)[D / 8][4],
                  const float lse2[2], const float di[2], float rowdm[2], float *colsum, T *dSs,
                  T *Pms, const skrt_mma_smem<T, D, BN, 0> &m, int buf, int kind,
                  const skrt_rows &rw, const skrt_cuda_layer &L, int wc, int r0, uint64_t dQ,
                  uint64_t ddO, uint64_t kvstep, F &&under_dq) {
  constexpr int NT = BN / 8, TW = SKRT_WG_BWD_TW;
  const uint64_t dK = skrt_desc_kmajor<D>(m.k(0)) + buf * kvstep,
                 dV = skrt_desc_kmajor<D>(m.v(0)) + buf * kvstep;
  skrt_wgmma_fence();
#pragma unroll
  for (int ks = 0; ks < D / 16; ++ks) { /* the first k-step overwrites s and dov */
    skrt_wgmma_ss<BN, T, 0, 0>(s, dQ + ks * skrt_desc_kstep, dK + ks * skrt_desc_kstep, ks > 0);
    skrt_wgmma_ss<BN, T, 0, 0>(dov, ddO + ks * skrt_desc_kstep, dV + ks * skrt_desc_kstep, ks > 0);
  }
  skrt_wgmma_commit();
  skrt_wgmma_wait<0>();
  uint32_t dsp[NT][2];
  if (kind == SKRT_KB_ALLSEL)
    skrt_bwd_scores<T, D, SKRT_KB_ALLSEL, BN, GATE, 0, true, TW, false>(
        s, dov, lse2, di, rowdm, colsum, dsp, dSs, Pms, m, buf, rw, L, wc, r0);
  else if (kind == SKRT_KB_ALLWIN)
    skrt_bwd_scores<T, D, SKRT_KB_ALLWIN, BN, GATE, 0, true, TW, false>(
        s, dov, lse2, di, rowdm, colsum, dsp, dSs, Pms, m, buf, rw, L, wc, r0);
  else if (SKRT_WG_BWD_WINMASK && kind == SKRT_KB_WINMASK && L.scale != 0.0f) {
    skrt_mask_logits<T, D, SKRT_KB_WINMASK, BN, 1>(s, m, buf, rw, wc,
                                                   copysignf(INFINITY, -L.scale));
    skrt_bwd_scores<T, D, SKRT_KB_ALLWIN, BN, GATE, 0, true, TW, false>(
        s, dov, lse2, di, rowdm, colsum, dsp, dSs, Pms, m, buf, rw, L, wc, r0);
  } else
    skrt_bwd_scores<T, D, SKRT_KB_GENERAL, BN, GATE, 0, true, TW, false>(
        s, dov, lse2, di, rowdm, colsum, dsp, dSs, Pms, m, buf, rw, L, wc, r0);
  const uint64_t dKt = skrt_desc_mnmajor<D>(m.k(0)) + buf * kvstep;
  skrt_wgmma_fence(); /* dq += dSg K */
#pragma unroll
  for (int kk = 0; kk < BN / 16; ++kk) {
    uint32_t a[4];
    skrt_acc_to_a<T, NT>(a, dsp, kk);
    skrt_wgmma_rs<D, T, 1>(dq, a, dKt + kk * skrt_desc_rows16<D>(), 1);
  }
  skrt_wgmma_commit();
  under_dq(); /* runs under the dq product */
}

/* ref: S11. R query rows per block (skrt_wg_bwd_rows: 128 or 256), R / 64 warpgroups; grid
 * (ceil(N / qb), Hq / hb, B), 2 R threads, smem skrt_wg_bwd_bytes<T, D, R>(). Per key block
 * (BN keys): S = Q K^T and dO V^T (wgmma), the per-element pass of skrt_bwd_scores, dq += dSg K
 * (wgmma, registers); per TW = 64 keys (every block, or every second one) dk += dSg^T Q and
 * dv += (P m)^T dO over all R rows (wgmma from the shared tiles: with 2 warpgroups one product
 * each, with 4 each half of one), added with atomics. */
template <typename T, int D, int GATE, int R>
__global__ void __launch_bounds__(2 * R, R == SKRT_CUDA_QTILE ? skrt_wg_bwd_minb<D>() : 1)
    skrt_attn_bwd_wg(skrt_cuda_layer L, skrt_cuda_sel sel, skrt_cuda_grads G, int hb) {
  constexpr int BN = skrt_wg_bwd_bn<D>(), NT = BN / 8, NB = skrt_wg_bwd_nb<D>(),
                TW = SKRT_WG_BWD_TW, PAIR = TW / BN, NTH = 2 * R, NP = R / SKRT_CUDA_QTILE;
  constexpr bool EARLY = NB == 1 && SKRT_WG_BWD_EARLY;
  static_assert(TW % BN == 0, "key blocks must tile the product width");
  using S = skrt_mma_smem<T, D, BN, 0>;
  extern __shared__ __align__(128) unsigned char skrt_wg_sm[];
  S m = skrt_mma_smem_at<T, D, BN, 0>(skrt_wg_sm, skrt_wg_bwd_extra<D, R>(), NB);
  T *dOs = m.Q + R * D;
  T *dSs = (T *)(m.U + NB * BN), *Pms = dSs + R * TW;
  float *colsum = (float *)(Pms + R * TW);
  int32_t *Jt = (int32_t *)(colsum + NTH / 32 * BN); /* key positions of the tiles' columns */
  using Stage = skrt_xty_stage<skrt_wg_xty_ds<D, R>(), NTH>;
  float4 *stv = (float4 *)(((uintptr_t)(Jt + TW) + 15) & ~(uintptr_t)15);
  const Stage stg{stv, (int32_t *)(stv + skrt_wg_xty_ds<D, R>() / 8 * NTH)};
  int warp = threadIdx.x / 32, r0 = warp * 16, wg = skrt_wg_index();
  const uint64_t dQ = skrt_desc_kmajor<D>(m.Q + wg * 64 * D),
                 ddO = skrt_desc_kmajor<D>(dOs + wg * 64 * D), kvstep = (uint64_t)(BN * D * 2) >> 4;
  skrt_mma_geo geo = skrt_mma_geo_of<R>(hb);
  skrt_block_seq<T> q = skrt_mma_seq<T>(L, sel, geo);
  skrt_tile_keys tk = skrt_tile_keys_of(sel, q.s, geo.t, geo.il + 1);
  int64_t N = sel.N, hw = geo.head(r0);
  const int64_t dst[3] = {L.Hq * N * D, N * D, D};
  skrt_wg_load_rows<T, D, R>(m.Q, (const T *)L.q, L.qs, geo, N);
  skrt_wg_load_rows<T, D, R>(dOs, (const T *)G.dout, dst, geo, N);
  skrt_clear_colsum<BN, NTH>(colsum);
  int nblk = (int)((tk.n + BN - 1) / BN);
  int jr[skrt_wg_load_iters<D, BN, NTH>()]; /* key positions of the next block to load */
  auto load = [&](int b, int k) { skrt_wg_load_block<T, D, BN, NTH>(m, b, k, tk, q, L, jr); };
  skrt_wg_load_first<T, D, BN, NTH>(m, tk, q, L, jr);
  skrt_rows rw = skrt_rows_of<T, D>(sel, q.s, geo, r0);
  float lse2[2], di[2], rowdm[2] = {0.0f, 0.0f}, dq[D / 8][4] = {};
  skrt_bwd_rows<T, D>(lse2, di, rw, L, G, q, hw, N);
  /* the first NP warpgroups form dk from dS and Q, the others dv from P m and dO, each over
   * DP = D / NP columns from c0 */
  const int which = wg / NP, c0 = wg % NP * skrt_wg_xty_dp<D, R>();
  float *dkv = (which ? G.dv32 : G.dk32) + q.s * N * D;
  const uint64_t dX = skrt_desc_mnmajor<TW>(which ? Pms : dSs),
                 dY = skrt_desc_mnmajor<D>(which ? dOs : m.Q);
  /* deferred dk / dv atomics: those of block kb - 1 go out under block kb's dq product */
  if constexpr (skrt_wg_defer<D, R>())
    stg.j[threadIdx.x] = -1;
  auto flush = [&] {
    if constexpr (skrt_wg_defer<D, R>())
      stg.template flush<D>(dkv, c0);
  };
  int wc = (int)min(sel.w, sel.N);
  skrt_wg_span span = skrt_wg_span_of(geo, wg);
  for (int kb = 0; kb < nblk; ++kb) {
    int buf;
    if (EARLY) { /* block kb was issued during block kb - 1 (or by skrt_wg_load_first) */
      skrt_cp_wait<0>();
      skrt_fence_async_smem();
      __syncthreads();
      buf = 0;
    } else {
      buf = skrt_key_pipeline<NB, true>(kb, nblk, load);
    }
    int half = kb % PAIR; /* column block of the tiles */
    float s[NT][4], dov[NT][4];
    /* kinds per warpgroup; an EMPTY block (no row of this warpgroup attends) only zeroes
     * this warpgroup's rows of the dS and P m tiles, which feed the dk / dv products */
    int kind = skrt_wg_block_kind<T, D, BN>(m, buf, kb, tk, span, N, wc);
    T *dSh = dSs + half * BN / 8 * 64, *Pmh = Pms + half * BN / 8 * 64;
    if (kind == SKRT_KB_EMPTY) {
      const float zero[NT][4] = {};
      skrt_store_tile<T, BN, true, TW>(dSh, zero, r0);
      skrt_store_tile<T, BN, true, TW>(Pmh, zero, r0);
      flush();
    } else {
      skrt_wg_bwd_block<T, D, GATE, BN>(s, dov, dq, lse2, di, rowdm, colsum, dSh, Pmh, m, buf, kind,
                                        rw, L, wc, r0, dQ, ddO, kvstep, flush);
    }
    bool last = kb == nblk - 1;
    if (threadIdx.x < BN) { /* the tiles' key positions (padding past the last block) */
      Jt[half * BN + threadIdx.x] = m.J[buf * BN + threadIdx.x];
      if (PAIR == 2 && last && half == 0)
        Jt[BN + threadIdx.x] = -(1 << 30);
    }
    skrt_wgmma_wait<0>();    /* dq's product read the key buffer */
    skrt_fence_async_smem(); /* the dS and P m tiles are wgmma operands next */
    __syncthreads();
    if (EARLY && !last) { /* nothing reads the key buffer past the barrier: Jt holds J */
      load(0, kb + 1);
      skrt_cp_commit();
    }
    if (half == PAIR - 1 || last)
      skrt_wg_xty<T, D, R>(dX, dY, Jt, dkv, c0, which ? 1.0f : L.scale, stg);
    /* no barrier here: the next block's first one (before it touches the tiles, colsum or
     * Jt) follows, and its loads go to a buffer that every thread released before the barrier
     * above (the flush reads Jt, not the buffer's J) */
    skrt_flush_colsum<BN, NTH>(colsum, Jt + half * BN, G.dmacc + q.s * N);
  }
  flush();
  skrt_bwd_store<T, D>(dq, rowdm, rw, L, G, q, hw, N, L.scale); /* dS was left unscaled */
}

template <typename T, int D>
cudaError_t skrt_attn_bwd_wg_launch(const skrt_cuda_layer &L, const skrt_cuda_sel &sel,
                                    const skrt_cuda_grads &G, cudaStream_t st) {
  constexpr int R = skrt_wg_bwd_rows<D>();
  constexpr size_t smem = skrt_wg_bwd_bytes<T, D, R>();
  static_assert(smem <= 227 * 1024, "backward shared memory exceeds the sm_90 block limit");
  return L.gate == 0 ? skrt_mma_launch<R>(skrt_attn_bwd_wg<T, D, 0, R>, smem, L, sel, st, G)
                     : skrt_mma_launch<R>(skrt_attn_bwd_wg<T, D, 1, R>, smem, L, sel, st, G);
}

template <typename T, int D, int R>
cudaError_t skrt_attn_fwd_wg_launch_rows(const skrt_cuda_layer &L, const skrt_cuda_sel &sel,
                                         cudaStream_t st) {
  constexpr size_t smem = skrt_wg_fwd_bytes<T, D, R>();
  static_assert(smem <= 227 * 1024, "forward shared memory exceeds the sm_90 block limit");
  static_assert(R % 64 == 0, "whole warpgroups of 64 rows");
  return L.gate == 0 ? skrt_mma_launch<R>(skrt_attn_fwd_wg<T, D, 0, R>, smem, L, sel, st)
                     : skrt_mma_launch<R>(skrt_attn_fwd_wg<T, D, 1, R>, smem, L, sel, st);
}

template <typename T, int D>
cudaError_t skrt_attn_fwd_wg_launch(const skrt_cuda_layer &L, const skrt_cuda_sel &sel,
                                    cudaStream_t st) {
  constexpr int R = skrt_wg_fwd_rows<D>();
  if constexpr (D <= 64 && SKRT_WG_FWD_ROWS64_MHA != R)
    if (skrt_mma_heads_per_block(L) == 1)
      return skrt_attn_fwd_wg_launch_rows<T, D, SKRT_WG_FWD_ROWS64_MHA>(L, sel, st);
  return skrt_attn_fwd_wg_launch_rows<T, D, R>(L, sel, st);
}

/* The tensor-core kernels of this build: warpgroup MMA, or mma.sync with -DSKRT_WGMMA=0. */
template <typename T, int D>
cudaError_t skrt_attn_fwd_tc_launch(const skrt_cuda_layer &L, const skrt_cuda_sel &sel,
                                    cudaStream_t st) {
  if constexpr (SKRT_WGMMA)
    return skrt_attn_fwd_wg_launch<T, D>(L, sel, st);
  else
    return skrt_attn_fwd_mma_launch<T, D>(L, sel, st);
}

template <typename T, int D>
cudaError_t skrt_attn_bwd_tc_launch(const skrt_cuda_layer &L, const skrt_cuda_sel &sel,
                                    const skrt_cuda_grads &G, cudaStream_t st) {
  if constexpr (SKRT_WGMMA)
    return skrt_attn_bwd_wg_launch<T, D>(L, sel, G, st);
  else
    return skrt_attn_bwd_mma_launch<T, D>(L, sel, G, st);
}

#endif
