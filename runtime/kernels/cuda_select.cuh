/* CUDA selection kernels (S6-S8, S2/S3): per (b, kv-head) sequence, the gate threshold
 * tau_i and |F_i| of every query, the selection interval end sel_end[j] of every key, and per
 * query tile the list of selected keys older than the tile's window. No N x N mask, no host
 * round trip.
 *
 * Method. One global sort per sequence by (u desc, j desc) (the selection order of S8).
 * Queries are cut into chunks of SKRT_CUDA_CHUNK. Because tau_i and the top-k cutoff are
 * non-decreasing in i, a candidate with u_j <= z_(k)(chunk start) - 1 (z_(k) = k-th largest
 * candidate score) has gate 0 and is never selected for the whole chunk. A block collects
 * the other candidates, in sorted order (R_c), finds tau at the chunk start by a parallel
 * bisection, then one thread sweeps the chunk's queries: each query exposes one candidate,
 * and tau only moves up, so the S2 breakpoint pointers (saturated / free / zero boundaries)
 * and the k-th-best pointer only move left: O(|R_c| + CHUNK) per chunk. An evicted key gets
 * sel_end = the evicting query. The sweep is sequential, so tier 1 splits a chunk in two
 * kernels over groups of chunks: a prep block per chunk writes R_c, the entrant map and the
 * start state to a slot of global scratch; then one warp per chunk sweeps it (many sweeps
 * per SM; the costly early chunks in up to SKRT_SEL_PARTS parts side by side, each from a start
 * state of its own that the prep computes like the chunk's). A chunk whose R_c does not fit its
 * slot is flagged and redone with R_c in shared memory of a larger capacity (one block per SM), and
 * if it still does not fit, on global scratch of N entries. Tier 1 runs the chunks chunk-major, so
 * that the costly early chunks (few candidates, so a low bound and long scans of the sorted list)
 * of all sequences share the first group. For those chunks the prep block collects R_c from a
 * shared bitmap over the selection-order ranks of the candidates instead of scanning the sorted
 * list (same R_c). */
#ifndef SKRT_KERNELS_CUDA_SELECT_CUH
#define SKRT_KERNELS_CUDA_SELECT_CUH

#include <cub/block/block_reduce.cuh>
#include <cub/block/block_scan.cuh>
#include <cuda/functional>
#include <math.h>

#include "kernels/cuda_common.cuh"

#ifndef SKRT_SEL_BITMAP
#define SKRT_SEL_BITMAP 1 /* tier-1 R_c from a rank bitmap: 0 never, 1 where cheaper, 2 always */
#endif
#define SKRT_SEL_BITMAP_MAXN (1 << 17) /* longest sequence with a bitmap (16 KB of shared) */

/* Everything the chunk sweep reads and writes (device pointers, per-sequence slices are
 * found through s). */
struct skrt_sel_chunk_io {
  const float *sval;   /* (S, N) scores in selection order */
  const int32_t *spos; /* (S, N) positions in selection order */
  const int32_t *rank; /* (S, N) selection-order index of each key (NULL: no bitmap) */
  double *tau;
  int32_t *nfree, *sel_end;
  int32_t *clist;  /* (S, nchunk, clcap) keys selected somewhere in the chunk */
  int32_t *ccount; /* (S, nchunk) */
  int32_t *oflag;  /* (S, nchunk) tier that must (re)do the chunk: 0 done, 1 big smem, 2 global */
  int64_t N, k, w, clcap;
  int nchunk;
};

/* Order-preserving 64-bit sort key of (sequence ascending, u descending) and its value j,
 * stored at j's mirror position N - 1 - j of the sequence: the radix sort is stable, so ties
 * in u come out with j descending (the selection order of S8) and the key needs no bits for j
 * (5 radix passes instead of 7 at N = 64k). */
static __global__ void skrt_sel_key_kernel(const float *u, int64_t S, int64_t N,
                                           unsigned long long *keys, int32_t *vals, int32_t *bad) {
  int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (e >= S * N)
    return;
  int64_t s = e / N, j = e % N, m = s * N + (N - 1 - j);
  float x = u[e];
  if (!isfinite(x))
    atomicExch(bad, 1);
  unsigned int b = x == 0.0f ? 0u : __float_as_uint(x); /* -0 ties with +0 */
  unsigned int ord = (b & 0x80000000u) ? ~b : (b | 0x80000000u);
  keys[m] = ((unsigned long long)s << 32) | (unsigned long long)(~ord);
  vals[m] = (int32_t)j;
}

/* Sorted positions (spos, the sort's values) -> their scores and, if rank is not NULL, the
 * inverse permutation; resets sel_end to N (never evicted). */
static __global__ void skrt_sel_unpack_kernel(const float *u, int64_t S, int64_t N,
                                              const int32_t *spos, float *sval, int32_t *rank,
                                              int32_t *sel_end) {
  int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (e >= S * N)
    return;
  int64_t s = e / N;
  int32_t j = spos[e];
  sval[e] = u[s * N + j];
  if (rank)
    rank[s * N + j] = (int32_t)(e - s * N);
  sel_end[e] = (int32_t)N;
}

/* Pointer state of the S2 sweep over R_c (indices into v/pos, sorted like the global
 * order). Zones: [0, U) saturated, [U, W) free, [W, n) zero; counts are of candidates. */
struct skrt_sel_state {
  double tau, sum;
  int32_t U, W, nsat, nfr;
};

/* ref: S2. The root of the free zone's linear piece: (sum + nsat - k) / nfr. */
__device__ inline double skrt_sel_root(double sum, int32_t nsat, int32_t nfr, int32_t k) {
  return (sum + (double)nsat - (double)k) / (double)nfr;
}

/* An entry of R_c as a pointer walk holds it: score and position. Each walk holds its edge's
 * entry and the one after it, loaded a move ahead, so that no move waits on a load (H100, 64k:
 * the sweep 0.407 -> 0.383 ms at 16/16/64, 0.382 -> 0.367 at 32/8/128). */
struct skrt_sel_ent {
  float v;
  int32_t p;
};
__device__ __forceinline__ skrt_sel_ent skrt_sel_ent_at(const float *v, const int32_t *pos,
                                                        int32_t i) {
  return i >= 0 ? skrt_sel_ent{v[i], pos[i]} : skrt_sel_ent{0.0f, 0};
}

/* ref: S2/S3. Raises tau from a point where g(tau) >= k to the smallest root of
 * g(tau) = sum clip(v - tau, 0, 1) - k, moving the breakpoint pointers left. Entries with
 * pos >= L are not candidates yet and only move the pointers. The zone edges eU/eW are kept
 * across steps. Whether the free zone's root lies before the next edge te is decided without
 * dividing, (sum + nsat - k) < te * nfr for nfr > 0, and the root is divided out only where
 * the walk stops: the division on every zone change was the sweep's longest stall (H100,
 * 64k: the sweep 0.509 -> 0.407 ms at 16/16/64, 0.482 -> 0.384 at 32/8/128). The two tests
 * can differ only when the root is within rounding of a breakpoint, where either side is a
 * valid state (an entry at its own gate's kink). A root exactly on a breakpoint (ties: scores
 * on a grid) ends the walk with the zones of S2 that the CPU reference counts |F_i| by: an
 * entry with u - tau = 1 saturated, one with u - tau = 0 zero. */
__device__ inline void skrt_sel_settle(skrt_sel_state *st, const float *v, const int32_t *pos,
                                       int32_t L, int32_t k) {
  skrt_sel_state s = *st;
  /* the edges' entries (U - 1, W - 1) and the ones after them (U - 2, W - 2) */
  skrt_sel_ent aU = skrt_sel_ent_at(v, pos, s.U - 1), aW = skrt_sel_ent_at(v, pos, s.W - 1);
  skrt_sel_ent bU = skrt_sel_ent_at(v, pos, s.U - 2), bW = skrt_sel_ent_at(v, pos, s.W - 2);
  double dU = (double)aU.v, eU = s.U > 0 ? dU - 1.0 : INFINITY;
  double eW = s.W > 0 ? (double)aW.v : INFINITY;
  auto pop_w = [&] { /* entry W - 1 (score eW) leaves the free zone */
                     --s.W;
                     if (aW.p < L) {
                       s.nfr--;
                       s.sum -= eW;
                     }
                     aW = bW;
                     bW = skrt_sel_ent_at(v, pos, s.W - 2);
                     eW = s.W > 0 ? (double)aW.v : INFINITY;
  };
  for (;;) {
    double te = fmin(eW, eU);
    if (s.nfr > 0) {
      double lhs = s.sum + (double)s.nsat - (double)k, rhs = te * (double)s.nfr;
      if (lhs < rhs) {
        s.tau = fmax(s.tau, skrt_sel_root(s.sum, s.nsat, s.nfr, k));
        break;
      }
      /* the root on a saturated entry's kink (u - tau = 1: still saturated, S2): tau is the
       * kink, and entries scoring exactly tau leave the free zone (they lower the root's
       * numerator and count by tau and 1, so it stays on the kink) */
      if (lhs == rhs && eU <= eW) {
        s.tau = te;
        while (eW == te)
          pop_w();
        break;
      }
    } else if (s.nsat <= k) {
      break; /* flat: no free entry, tau is the left end of the root interval */
    }
    if (te == INFINITY)
      break;
    s.tau = te;
    if (eU <= eW) {
      --s.U;
      if (aU.p < L) {
        s.nsat--;
        s.nfr++;
        s.sum += dU;
      }
      aU = bU;
      bU = skrt_sel_ent_at(v, pos, s.U - 2);
      dU = (double)aU.v;
      eU = s.U > 0 ? dU - 1.0 : INFINITY;
    } else {
      pop_w();
    }
  }
  *st = s;
}

/* Block-wide sum of a double. */
template <int NT> __device__ inline double skrt_block_sum(double x) {
  typedef cub::BlockReduce<double, NT> R;
  __shared__ typename R::TempStorage tmp;
  __shared__ double out;
  double t = R(tmp).Sum(x);
  if (threadIdx.x == 0)
    out = t;
  __syncthreads();
  double r = out;
  __syncthreads();
  return r;
}

#ifndef SKRT_SEL_SCAN_IPT
/* Entries per thread in each block-wide step of the scans of the sorted list (skrt_sel_kth,
 * skrt_sel_gather): each step is a chain of a load, a block scan and a barrier, so the scans
 * of a late chunk's prep (down to rank k N / Lb, then down to the bound) cost their number of
 * steps. */
#define SKRT_SEL_SCAN_IPT 4
#endif

/* Rank in selection order of the k-th candidate (pos < Lb) of sequence slice spos. */
template <int NT, int IPT = SKRT_SEL_SCAN_IPT>
__device__ inline int64_t skrt_sel_kth(const int32_t *spos, int64_t N, int64_t Lb, int64_t k) {
  typedef cub::BlockScan<int, NT> Scan;
  __shared__ typename Scan::TempStorage tmp;
  __shared__ int64_t found;
  if (threadIdx.x == 0)
    found = -1;
  __syncthreads();
  int64_t seen = 0;
  for (int64_t base = 0; base < N; base += NT * IPT) {
    int64_t r0 = base + (int64_t)threadIdx.x * IPT; /* this thread's IPT consecutive ranks */
    int f[IPT], ex[IPT], tot;
#pragma unroll
    for (int e = 0; e < IPT; ++e)
      f[e] = r0 + e < N && spos[r0 + e] < Lb;
    Scan(tmp).ExclusiveSum(f, ex, tot);
#pragma unroll
    for (int e = 0; e < IPT; ++e)
      if (f[e] && seen + ex[e] + 1 == k)
        found = r0 + e;
    seen += tot;
    __syncthreads();
    if (seen >= k)
      break;
  }
  return found;
}

/* Scalars of one chunk's collection step (indices into R_c; all < N). */
struct skrt_sel_collect {
  int32_t nkept, nold, T0, maxold;
};

/* Where one chunk's R_c goes. Old keys: pos < Lb; entrants: Lb <= pos < L1. */
struct skrt_sel_rc {
  float *v;       /* scores, cap entries */
  int32_t *pos;   /* positions, cap entries */
  int32_t *imap;  /* entrant p -> its index in R_c at p - Lb (-1: not in R_c) */
  int32_t *clist; /* the chunk list: the first k old keys of R_c */
  int64_t cap, Lb, L1, k;
};

/* Stores entry idx of R_c (score x, position p; orank: its index among the old keys). */
__device__ inline void skrt_sel_put(const skrt_sel_rc &d, int64_t idx, int64_t orank, float x,
                                    int32_t p, skrt_sel_collect *col) {
  if (idx < d.cap) {
    d.v[idx] = x;
    d.pos[idx] = p;
    if (p >= d.Lb)
      d.imap[p - d.Lb] = (int32_t)idx;
  }
  if (p < d.Lb) {
    if (orank < d.k)
      d.clist[orank] = p;
    if (orank == d.k - 1)
      col->T0 = (int32_t)idx;
    atomicMax(&col->maxold, (int32_t)idx);
  }
}

/* Collects R_c: candidates (pos < L1) in selection order with score > lb, into d (v/pos up to
 * cap entries), and nkept/nold into *col. */
template <int NT, int IPT = SKRT_SEL_SCAN_IPT>
__device__ inline void skrt_sel_gather(const float *sval, const int32_t *spos, int64_t N, double lb,
                                       const skrt_sel_rc &d, skrt_sel_collect *col) {
  typedef cub::BlockScan<int, NT> Scan;
  static_assert(NT * IPT < (1 << 16), "a step's counts must fit 16 bits");
  __shared__ typename Scan::TempStorage tmp;
  int64_t nkept = 0, nold = 0;
  for (int64_t base = 0; base < N; base += NT * IPT) {
    int64_t r0 = base + (int64_t)threadIdx.x * IPT; /* this thread's IPT consecutive ranks */
    float x[IPT];
    int32_t p[IPT];
    int f[IPT], ex[IPT], tot;
    bool dead = false;
#pragma unroll
    for (int e = 0; e < IPT; ++e) {
      x[e] = r0 + e < N ? sval[r0 + e] : 0.0f;
      bool alive = r0 + e < N && (double)x[e] > lb;
      p[e] = alive ? spos[r0 + e] : 0;
      int keep = alive && p[e] < d.L1, old = keep && p[e] < d.Lb;
      f[e] = keep | (old << 16);
      dead |= !alive;
    }
    Scan(tmp).ExclusiveSum(f, ex, tot);
#pragma unroll
    for (int e = 0; e < IPT; ++e)
      if (f[e] & 1)
        skrt_sel_put(d, nkept + (ex[e] & 0xffff), nold + (ex[e] >> 16), x[e], p[e], col);
    nkept += tot & 0xffff;
    nold += tot >> 16;
    if (__syncthreads_or(dead))
      break;
  }
  if (threadIdx.x == 0) {
    col->nkept = (int32_t)nkept;
    col->nold = (int32_t)nold;
  }
  __syncthreads();
}

/* ref: S8. R_c by scans of the sorted list: down to the k-th old key (its score - 1 is the
 * bound lb), then down to the first entry not above lb. Returns lb. */
template <int NT>
__device__ inline double skrt_sel_collect_scan(const float *sval, const int32_t *spos, int64_t N,
                                               const skrt_sel_rc &d, skrt_sel_collect *col) {
  __shared__ int64_t rk;
  int64_t r = d.Lb > d.k ? skrt_sel_kth<NT>(spos, N, d.Lb, d.k) : -1;
  if (threadIdx.x == 0)
    rk = r;
  __syncthreads();
  double lb = rk >= 0 ? (double)sval[rk] - 1.0 : -INFINITY;
  skrt_sel_gather<NT>(sval, spos, N, lb, d, col);
  return lb;
}

/* Words of the tier-1 rank bitmap per thread (each owns a contiguous run of ranks), 0 when the
 * bitmap is off or too large. */
__host__ __device__ inline int skrt_sel_bitmap_nwt(int64_t N, int NT) {
  return SKRT_SEL_BITMAP != 0 && N <= SKRT_SEL_BITMAP_MAXN ? (int)((N + 32 * NT - 1) / (32 * NT))
                                                           : 0;
}

/* Is the bitmap cheaper than the scans for a chunk with Lb old keys? With positions unrelated
 * to scores, the k-th old key lies near rank k N / Lb, so the scans walk at least that many
 * entries of the sorted list, in dependent block steps of NT; the bitmap reads the Lb + CHUNK
 * ranks of the candidates in independent coalesced loads (4 in flight per thread) plus its
 * N / 32 words. Equal at about k N / Lb = Lb / 4 (the scan's gather, which walks on to the
 * bound, is left out: the rule errs towards the scans). */
#ifndef SKRT_SEL_BITMAP_FACTOR
#define SKRT_SEL_BITMAP_FACTOR 4.0 /* the bitmap where Lb^2 < FACTOR k N */
#endif
__device__ inline bool skrt_sel_bitmap_pays(int64_t N, int64_t k, int64_t Lb) {
  return SKRT_SEL_BITMAP == 2 ||
         (double)Lb * (double)Lb < SKRT_SEL_BITMAP_FACTOR * (double)k * (double)N;
}

/* Sets bit rank[j] for j in [j0, j1), all threads; returns this thread's count of the ranks
 * below lim. */
template <int NT>
__device__ inline int skrt_sel_bm_mark(uint32_t *bits, const int32_t *rank, int64_t j0, int64_t j1,
                                       int64_t lim) {
  int n = 0;
  for (int64_t j = j0 + threadIdx.x; j < j1; j += 4 * NT) {
    int32_t r[4];
#pragma unroll
    for (int u = 0; u < 4; ++u)
      r[u] = j + u * NT < j1 ? rank[j + u * NT] : -1;
#pragma unroll
    for (int u = 0; u < 4; ++u)
      if (r[u] >= 0) {
        atomicOr(&bits[r[u] >> 5], 1u << (r[u] & 31));
        n += r[u] < lim;
      }
  }
  return n;
}

/* The bits below bit n (n > 0) of a word. */
__device__ inline uint32_t skrt_sel_bm_below(int64_t n) { return n >= 32 ? ~0u : (1u << n) - 1u; }

/* Set bits of the words w[0, nw) below bit lim. */
__device__ inline int skrt_sel_bm_count(const uint32_t *w, int nw, int64_t lim) {
  int n = 0;
  for (int x = 0; x < nw && 32 * (int64_t)x < lim; ++x)
    n += __popc(w[x] & skrt_sel_bm_below(lim - 32 * (int64_t)x));
  return n;
}

/* Bit index of the n-th (from 0) set bit of the words w, which must exist. */
__device__ inline int64_t skrt_sel_bm_nth(const uint32_t *w, int n) {
  for (int x = 0;; ++x) {
    uint32_t m = w[x];
    int c = __popc(m);
    if (n < c) {
      for (; n > 0; --n)
        m &= m - 1u;
      return 32 * (int64_t)x + __ffs(m) - 1;
    }
    n -= c;
  }
}

/* First rank whose score is not above lb (scores descend), all threads: an NT-ary search,
 * one probe per thread a round. */
template <int NT>
__device__ inline int64_t skrt_sel_alive_end(const float *sval, int64_t N, double lb) {
  int64_t lo = 0, hi = N; /* above lb before lo, not from hi on */
  while (lo < hi) {
    int64_t step = (hi - lo + NT - 1) / NT, r = lo + (threadIdx.x + 1) * step - 1;
    int n = __syncthreads_count(r < hi && (double)sval[r] > lb);
    hi = min(hi, lo + (n + 1) * step - 1);
    lo += n * step;
  }
  return lo;
}

/* ref: S8. The R_c of skrt_sel_collect_scan (same entries, order and scalars) from a shared
 * bitmap over selection-order ranks, nwt words per thread: set the bits of the old keys'
 * ranks; the k-th set bit is the k-th old key, so lb; add the entrants' bits; the set bits
 * below the first rank not above lb, in rank order, are R_c. Reads the L1 candidates' ranks
 * instead of the sorted list down to lb. Returns lb; stores nothing of R_c when it exceeds
 * cap. */
template <int NT>
__device__ inline double skrt_sel_collect_bitmap(const skrt_sel_chunk_io &io, int64_t s,
                                                 const skrt_sel_rc &d, uint32_t *bits, int nwt,
                                                 skrt_sel_collect *col) {
  typedef cub::BlockScan<int, NT> Scan;
  __shared__ typename Scan::TempStorage tmp;
  __shared__ int64_t rk;
  const int64_t N = io.N;
  const float *sval = io.sval + s * N;
  const int32_t *spos = io.spos + s * N, *rank = io.rank + s * N;
  const uint32_t *mine = bits + threadIdx.x * nwt;
  const int64_t r0 = 32 * (int64_t)threadIdx.x * nwt; /* first rank of this thread's words */
  for (int x = threadIdx.x; x < nwt * NT; x += NT)
    bits[x] = 0;
  if (threadIdx.x == 0)
    rk = -1;
  __syncthreads();
  skrt_sel_bm_mark<NT>(bits, rank, 0, d.Lb, 0);
  __syncthreads();
  int nb = skrt_sel_bm_count(mine, nwt, 32 * (int64_t)nwt), obase, nall;
  Scan(tmp).ExclusiveSum(nb, obase, nall);
  if (d.Lb > d.k && obase < d.k && d.k <= obase + nb)
    rk = r0 + skrt_sel_bm_nth(mine, (int)(d.k - 1 - obase));
  __syncthreads();
  double lb = rk >= 0 ? (double)sval[rk] - 1.0 : -INFINITY;
  int64_t nlb = skrt_sel_alive_end<NT>(sval, N, lb);
  int nnew = (int)skrt_block_sum<NT>(skrt_sel_bm_mark<NT>(bits, rank, d.Lb, d.L1, nlb));
  int nc = skrt_sel_bm_count(mine, nwt, nlb - r0), cbase, nkept;
  Scan(tmp).ExclusiveSum(nc, cbase, nkept);
  if (threadIdx.x == 0) {
    col->nkept = nkept;
    col->nold = nkept - nnew;
  }
  if (nkept <= d.cap) { /* obase counts the old keys of the ranks before this thread's */
    int64_t idx = cbase, orank = obase;
    for (int x = 0; x < nwt && r0 + 32 * x < nlb; ++x)
      for (uint32_t m = mine[x] & skrt_sel_bm_below(nlb - r0 - 32 * x); m; m &= m - 1u) {
        int64_t r = r0 + 32 * x + __ffs(m) - 1;
        int32_t p = spos[r];
        skrt_sel_put(d, idx++, p < d.Lb ? orank++ : -1, sval[r], p, col);
      }
  }
  __syncthreads();
  return lb;
}

#ifndef SKRT_SEL_BISECT
/* Bisection steps of a chunk's start state. H100, 64k, the prep kernel at 16/16/64 and
 * 32/8/128: 10 steps 0.216 / 0.112 ms, 14 0.246 / 0.128, 18 0.277 / 0.144; 24 from the top
 * score (before) 0.326 / 0.171; 4 from the top score 0.447 / 0.323 (long settle walks). */
#define SKRT_SEL_BISECT 10
#endif

/* Parallel start state at the chunk's first query: tau at Lb candidates (bisection to a
 * point with g >= k), then the pointers and counts for that tau, from which the prep's settle
 * walks to the root. The root lies in [lb, lb + 1] (lb + 1 is the k-th best candidate's
 * score: g >= k at lb, g < k there), so SKRT_SEL_BISECT steps leave an interval of 2^-10,
 * across which the settle moves past a few breakpoints: cheaper than more block-wide passes.
 * The settle is exact from any start with g >= k; the steps trade passes for walk. */
template <int NT>
__device__ inline void skrt_sel_start(const float *v, const int32_t *pos, int64_t n, int64_t Lb,
                                      int64_t k, double lb, skrt_sel_state *st, float *sv,
                                      int64_t svcap) {
  double lo = lb, hi = n > 0 ? fmin((double)v[0], lb + 1.0) : lb;
  /* the bisection's passes read the candidates' scores from shared memory (sv, svcap
   * entries) where they fit: -inf for the entrants, which add 0 to g */
  const bool staged = sv && n <= svcap;
  if (staged) {
    for (int64_t x = threadIdx.x; x < n; x += NT)
      sv[x] = pos[x] < Lb ? v[x] : -INFINITY;
    __syncthreads();
  }
  for (int it = 0; it < SKRT_SEL_BISECT && hi - lo > 1e-9 * (1.0 + fabs(hi)); ++it) {
    double mid = 0.5 * (lo + hi), g = 0.0;
    if (staged)
      for (int64_t x = threadIdx.x; x < n; x += NT)
        g += fmin(fmax((double)sv[x] - mid, 0.0), 1.0);
    else
      for (int64_t x = threadIdx.x; x < n; x += NT)
        if (pos[x] < Lb)
          g += fmin(fmax((double)v[x] - mid, 0.0), 1.0);
    if (skrt_block_sum<NT>(g) >= (double)k)
      lo = mid;
    else
      hi = mid;
  }
  double cU = 0, cW = 0, cs = 0, cf = 0, sm = 0;
  for (int64_t x = threadIdx.x; x < n; x += NT) {
    double d = (double)v[x] - lo;
    bool cand = pos[x] < Lb;
    /* the zones of S2 at lo: saturated u - lo >= 1, free 0 < u - lo < 1 */
    cU += d >= 1.0;
    cW += d > 0.0;
    cs += cand && d >= 1.0;
    cf += cand && d > 0.0 && d < 1.0;
    sm += (cand && d > 0.0 && d < 1.0) ? (double)v[x] : 0.0;
  }
  cU = skrt_block_sum<NT>(cU);
  cW = skrt_block_sum<NT>(cW);
  cs = skrt_block_sum<NT>(cs);
  cf = skrt_block_sum<NT>(cf);
  sm = skrt_block_sum<NT>(sm);
  st->tau = lo;
  st->U = (int32_t)cU;
  st->W = (int32_t)cW;
  st->nsat = (int32_t)cs;
  st->nfr = (int32_t)cf;
  st->sum = sm;
}

#ifndef SKRT_SEL_PARTS
/* Most parts a tier-1 chunk's sweep is split into (1, 2 or 4). The sweep is sequential per
 * chunk and its cost is the serial steps of the queries whose candidate can change the state
 * (one per query while |C_i| <= k, about k / i of them later), so the early chunks are the
 * whole kernel's critical path: at 16/16/64, 64k, chunk 3 (the first past k + w) took 394 us,
 * chunk 6 232, chunk 12 135, chunk 23 83. A chunk with Lb = i0 - w old keys is swept in
 * parts(c) parts of CHUNK / parts(c) queries side by side, each from its own start state
 * (bisection and settle in the prep, like the chunk's), the smallest power of 2 with
 * parts * Lb >= SKRT_SEL_PART_K * k. */
#define SKRT_SEL_PARTS 4
#endif
#ifndef SKRT_SEL_PART_K
#define SKRT_SEL_PART_K 8
#endif
static_assert(SKRT_SEL_PARTS == 1 || SKRT_SEL_PARTS == 2 || SKRT_SEL_PARTS == 4,
              "SKRT_SEL_PARTS must be 1, 2 or 4");

/* Parts of chunk c's tier-1 sweep: 1 for the first chunks (no old key, or every exposure below
 * k: nothing but appends) and the partial last one; from the first split chunk on,
 * non-increasing in c (skrt_sel_sweep_of relies on the ones past Lb >= SKRT_SEL_PART_K k). */
__host__ __device__ inline int skrt_sel_parts(int64_t c, int64_t N, int64_t k, int64_t w) {
  int64_t i0 = c * SKRT_CUDA_CHUNK, Lb = i0 - w;
  if (Lb <= 0 || i0 + SKRT_CUDA_CHUNK > N || Lb + SKRT_CUDA_CHUNK <= k)
    return 1;
  int p = 1;
  while (p < SKRT_SEL_PARTS && (int64_t)p * Lb < (int64_t)SKRT_SEL_PART_K * k)
    p *= 2;
  return p;
}

/* A sweep's start besides R_c and imap: the state settled at its first query, whether
 * |C_i| <= k there (inf), the index in R_c of the k-th best candidate (T, -1 while fewer) and
 * the largest index of a candidate (maxinc, -1: none). */
struct skrt_sel_start_pt {
  skrt_sel_state st;
  int32_t inf, T, maxinc;
};

/* What the sweep of one chunk starts from, besides R_c and imap: the collection scalars, the
 * state settled at the chunk's first query, and whether |C_i| <= k there (inf); with parts,
 * the starts of parts 1 .. parts - 1. */
struct skrt_sel_slot {
  skrt_sel_collect col;
  skrt_sel_state st;
  int32_t inf;
  skrt_sel_start_pt part[SKRT_SEL_PARTS > 1 ? SKRT_SEL_PARTS - 1 : 1];
};

/* The sweep's state between queries. */
struct skrt_sel_sweeper {
  skrt_sel_state st;
  bool inf;
  int32_t nc, T, maxinc;
};

/* ref: S8. Query i >= w of a chunk's sweep: candidate p = i - w is exposed, with rank t in the
 * chunk's sorted R_c (t < 0: below the chunk's bound, never selected). Before query i the
 * candidates are the keys before p, so their count is p itself. Every lane of the calling warp
 * runs it with the same arguments (the state stays warp-uniform); the writer lane stores. */
__device__ inline void skrt_sel_step(skrt_sel_sweeper &z, int32_t i, int32_t p, int32_t t,
                                     bool writer, const float *v, const int32_t *pos, int32_t k,
                                     int32_t nkept, int32_t *sel_end, int32_t *clist) {
  if (t < 0) {
    if (writer)
      sel_end[p] = i;
    return;
  }
  z.maxinc = max(z.maxinc, t);
  if (p < k) { /* ref: S8, |C_i| <= k: every candidate selected */
    if (writer)
      clist[z.nc] = p;
    z.nc++;
    if (p + 1 == k)
      z.T = z.maxinc;
  } else if (t < z.T) { /* enters, evicts the current k-th best */
    if (writer) {
      clist[z.nc] = p;
      sel_end[pos[z.T]] = i;
    }
    z.nc++;
    for (--z.T; pos[z.T] > p; --z.T) {
    }
  } else if (writer) {
    sel_end[p] = i;
  }
  /* an entrant in the zero zone changes no count: the settled state stays settled */
  skrt_sel_state &st = z.st;
  bool &inf = z.inf;
  if (p >= k && (inf || t < st.W)) {
    if (inf) { /* first query with |C_i| > k: all candidates saturated just below the lowest
                * one; entries after it that score above that tau (keys not exposed yet) start
                * in the free zone, not the zero zone */
      st.tau = (double)v[z.maxinc] - 1.0;
      st.U = st.W = z.maxinc + 1;
      while (st.W < nkept && (double)v[st.W] > st.tau)
        ++st.W;
      st.nsat = p + 1;
      st.nfr = 0;
      st.sum = 0.0;
      inf = false;
    } else if (t < st.U) {
      st.nsat++;
    } else {
      st.nfr++;
      st.sum += v[t];
    }
    skrt_sel_settle(&st, v, pos, p + 1, k);
  }
}

/* ref: S8. The sweep of one chunk by one warp (all 32 lanes), 32 queries at a time. A query
 * whose candidate cannot change the state - none exposed, below the chunk's bound, or (past the
 * first k and the all-saturated start) ranked at or after both the k-th best (T) and the free
 * zone's end (W) - is a lane's own work: T and W only move left during a chunk, so what holds
 * at the batch's start holds at its query. The other queries run skrt_sel_step in order on the
 * whole warp; each lane takes the state after the last of them before (or at) its query for
 * its tau and |F_i|. The stores of a batch are coalesced. */
/* (part of parts: the part's CHUNK / parts queries, from its start in sl.part; its entrants go
 * to its own CHUNK / parts slots of clist after the old keys, and it fills the slots it leaves
 * with N, a key that no tile keeps, except the last part, which counts the list.) */
__device__ inline void skrt_sel_sweep_warp(const skrt_sel_chunk_io &io, int64_t s, int c,
                                           const float *v, const int32_t *pos, const int32_t *imap,
                                           const skrt_sel_slot &sl, int part = 0, int parts = 1) {
  /* k and w clamped to N: every comparison below against them then reads the same */
  const int32_t N = (int32_t)io.N, k = (int32_t)min(io.k, io.N), w = (int32_t)min(io.w, io.N);
  const int32_t i0 = c * SKRT_CUDA_CHUNK, i1 = min(N, i0 + SKRT_CUDA_CHUNK), Lb = max(0, i0 - w);
  const int32_t pq = SKRT_CUDA_CHUNK / parts, ia = i0 + part * pq, ib = min(i1, ia + pq),
                k0 = min(k, sl.col.nold);
  const int lane = threadIdx.x % 32;
  double *tau = io.tau + s * io.N;
  int32_t *nfree = io.nfree + s * io.N, *sel_end = io.sel_end + s * io.N;
  int32_t *clist = io.clist + (s * io.nchunk + c) * io.clcap;
  skrt_sel_sweeper z{sl.st, sl.inf != 0, k0, Lb >= k ? sl.col.T0 : -1, sl.col.maxold};
  if (part > 0) {
    const skrt_sel_start_pt &pt = sl.part[part - 1];
    z = skrt_sel_sweeper{pt.st, pt.inf != 0, k0 + part * pq, pt.T, pt.maxinc};
  }
  for (int32_t base = ia; base < ib; base += 32) {
    int32_t i = base + lane, p = i - w;
    bool valid = i < ib;
    int32_t t = valid && p >= 0 ? imap[p - Lb] : -1;
    bool own = !valid || p < 0 || (!z.inf && p >= k && (t < 0 || (t >= z.T && t >= z.st.W)));
    unsigned ev = __ballot_sync(0xffffffffu, !own);
    double mtau = 0.0;
    int32_t mnfr = 0;
    int prev = -1;
    /* lanes (lo, hi] take the current state */
    auto take = [&](int lo, int hi) {
      if (lane > lo && lane <= hi) {
        mtau = z.inf ? -INFINITY : z.st.tau;
        mnfr = z.inf ? 0 : z.st.nfr;
      }
    };
    while (ev) {
      int e = __ffs(ev) - 1;
      ev &= ev - 1;
      take(prev, e - 1);
      skrt_sel_step(z, base + e, __shfl_sync(0xffffffffu, p, e), __shfl_sync(0xffffffffu, t, e),
                    lane == 0, v, pos, k, sl.col.nkept, sel_end, clist);
      take(e - 1, e);
      prev = e;
    }
    take(prev, 31);
    if (valid) {
      tau[i] = mtau;
      nfree[i] = mnfr;
      if (own && p >= 0)
        sel_end[p] = i;
    }
  }
  if (ib < i1) { /* not the last part */
    for (int32_t x = z.nc + lane; x < k0 + (part + 1) * pq; x += 32)
      clist[x] = N;
  } else if (lane == 0) {
    io.ccount[s * io.nchunk + c] = z.nc;
  }
}

/* Largest index in R_c (n entries) of a candidate older than L (pos < L), or -1. */
template <int NT>
__device__ inline int32_t skrt_sel_last_old(const int32_t *pos, int64_t n, int64_t L) {
  typedef cub::BlockReduce<int32_t, NT> R;
  __shared__ typename R::TempStorage tmp;
  __shared__ int32_t out;
  int32_t m = -1;
  for (int64_t x = threadIdx.x; x < n; x += NT)
    if (pos[x] < L)
      m = (int32_t)x;
  int32_t r = R(tmp).Reduce(m, cuda::maximum<int32_t>{});
  if (threadIdx.x == 0)
    out = r;
  __syncthreads();
  r = out;
  __syncthreads();
  return r;
}

/* The start of a part of a chunk's sweep whose first query has L old keys (L > 0), from the
 * chunk's R_c (all candidates of the part's queries with a gate above 0 are in it: its bound
 * is the chunk's): T and maxinc by block scans, the state (where L > k) by the chunk start's
 * bisection, from the k-th best candidate's score - 1 (g >= k there), then thread 0's settle.
 * Thread 0 writes *pt. */
template <int NT>
__device__ inline void skrt_sel_part_start(const float *v, const int32_t *pos, int64_t n, int64_t L,
                                           int64_t k, skrt_sel_start_pt *pt, float *sv,
                                           int64_t svcap) {
  int64_t T = L >= k ? skrt_sel_kth<NT>(pos, n, L, k) : -1;
  int32_t mx = skrt_sel_last_old<NT>(pos, n, L);
  skrt_sel_state st = {0, 0, 0, 0, 0, 0};
  bool inf = L <= k;
  if (!inf)
    skrt_sel_start<NT>(v, pos, n, L, k, (double)v[T] - 1.0, &st, sv, svcap);
  if (threadIdx.x == 0) {
    if (!inf)
      skrt_sel_settle(&st, v, pos, (int32_t)L, (int32_t)k);
    *pt = skrt_sel_start_pt{st, inf, (int32_t)T, mx};
  }
}

/* Everything before the sweep of one chunk, all threads of the block: R_c into v/pos, the
 * entrant map, the first k old keys into clist, and the start state into *sl (thread 0
 * only). R_c comes from the rank bitmap in bits (nwt words a thread) where that is cheaper,
 * from scans of the sorted list otherwise or when bits is NULL. Returns false (and writes
 * nothing but clist) when R_c exceeds cap. */
template <int NT>
__device__ inline bool skrt_sel_prep(const skrt_sel_chunk_io &io, int64_t s, int c, float *v,
                                     int32_t *pos, int32_t *imap, int64_t cap, uint32_t *bits,
                                     int nwt, skrt_sel_slot *sl, int parts = 1, float *sv = nullptr,
                                     int64_t svcap = 0) {
  const int64_t N = io.N, k = io.k, w = io.w;
  int64_t i0 = (int64_t)c * SKRT_CUDA_CHUNK, i1 = min(N, i0 + SKRT_CUDA_CHUNK);
  int64_t Lb = max((int64_t)0, i0 - w), L1 = max((int64_t)0, i1 - w);
  skrt_sel_rc d{v, pos, imap, io.clist + (s * io.nchunk + c) * io.clcap, cap, Lb, L1, k};
  __shared__ skrt_sel_collect col;
  for (int64_t x = threadIdx.x; x < L1 - Lb; x += NT)
    imap[x] = -1;
  if (threadIdx.x == 0) {
    col.T0 = -1;
    col.maxold = 0;
  }
  double lb = bits && skrt_sel_bitmap_pays(N, k, Lb)
                  ? skrt_sel_collect_bitmap<NT>(io, s, d, bits, nwt, &col)
                  : skrt_sel_collect_scan<NT>(io.sval + s * N, io.spos + s * N, N, d, &col);
  if (col.nkept > cap)
    return false;
  if (col.nold == 0 && threadIdx.x == 0)
    col.maxold = -1;
  __syncthreads();
  skrt_sel_state st = {0, 0, 0, 0, 0, 0};
  bool inf = Lb <= k;
  if (!inf)
    skrt_sel_start<NT>(v, pos, col.nkept, Lb, k, lb, &st, sv, svcap);
  if (threadIdx.x == 0) {
    if (!inf) /* Lb > k: both fit in 32 bits */
      skrt_sel_settle(&st, v, pos, (int32_t)Lb, (int32_t)k);
    sl->col = col;
    sl->st = st;
    sl->inf = inf;
  }
  for (int q = 1; q < parts; ++q)
    skrt_sel_part_start<NT>(v, pos, col.nkept, i0 + q * (SKRT_CUDA_CHUNK / parts) - w, k,
                            &sl->part[q - 1], sv, svcap);
  return true;
}

/* One chunk with R_c in v/pos/imap (shared or global), all threads of the block: prep (by
 * scans), then warp 0 sweeps. Returns false (and writes nothing but clist) when R_c exceeds
 * cap. */
template <int NT>
__device__ inline bool skrt_sel_chunk(const skrt_sel_chunk_io &io, int64_t s, int c, float *v,
                                      int32_t *pos, int32_t *imap, int64_t cap) {
  skrt_sel_slot sl;
  __shared__ skrt_sel_slot
      ssl; /* the prep's start state is thread 0's; the sweep's warp reads it */
  if (!skrt_sel_prep<NT>(io, s, c, v, pos, imap, cap, nullptr, 0, &sl))
    return false;
  if (threadIdx.x == 0)
    ssl = sl;
  __syncthreads();
  if (threadIdx.x < 32)
    skrt_sel_sweep_warp(io, s, c, v, pos, imap, ssl);
  __syncthreads();
  return true;
}

/* Tier-1 order: chunk-major (e = c * S + s), so that the costly early chunks of every
 * sequence share the first group and later groups hold only cheap late chunks. Returns c. */
__device__ inline int skrt_sel_tier1_chunk(int64_t e, int64_t S, int64_t *s) {
  int64_t c = e / S;
  *s = e - c * S;
  return (int)c;
}

#ifndef SKRT_SEL_STAGE_MAX
/* Most candidates whose scores the tier-1 prep stages in shared memory for the bisection of
 * its start states (4 bytes each; 0: read them from the slot in global memory every pass) */
#define SKRT_SEL_STAGE_MAX 8192
#endif

/* Tier 1, prep: grid (g), NT threads, dynamic smem of max(nwt * NT, svcap) words: the rank
 * bitmap (nwt words a thread; 0: scans only), then the staged scores of the start states'
 * bisections (svcap entries; 0: none); block b preps chunk e0 + b (tier-1 order) into slot b
 * of the group's scratch (v/pos: cap entries per slot, imap: CHUNK), or flags it 1. */
template <int NT>
__global__ void __launch_bounds__(NT)
    skrt_sel_prep_kernel(skrt_sel_chunk_io io, int64_t S, int64_t e0, int64_t cap, int nwt,
                         int64_t svcap, float *v, int32_t *pos, int32_t *imap,
                         skrt_sel_slot *slot) {
  extern __shared__ uint32_t skrt_sel_bits[];
  int64_t b = blockIdx.x, s;
  int c = skrt_sel_tier1_chunk(e0 + b, S, &s);
  skrt_sel_slot sl;
  bool ok = skrt_sel_prep<NT>(io, s, c, v + b * cap, pos + b * cap, imap + b * SKRT_CUDA_CHUNK, cap,
                              nwt > 0 ? skrt_sel_bits : nullptr, nwt, &sl,
                              skrt_sel_parts(c, io.N, io.k, io.w),
                              svcap > 0 ? (float *)skrt_sel_bits : nullptr, svcap);
  if (threadIdx.x == 0) {
    if (ok)
      slot[b] = sl;
    else
      io.oflag[s * io.nchunk + c] = 1;
  }
}

/* The sweeps of a tier-1 group (entries [e0, e0 + g)): each entry's parts in tier-1 order.
 * With x >= 0, the entry's slot b, part and parts of sweep x (false past the last); with
 * x = -1, *b = the number of sweeps. From the first chunk with Lb >= SKRT_SEL_PART_K k on,
 * every chunk has one part. */
__host__ __device__ inline bool skrt_sel_sweep_of(int64_t x, const skrt_sel_chunk_io &io, int64_t S,
                                                  int64_t e0, int64_t g, int64_t *b, int *part,
                                                  int *parts) {
  int64_t e = e0, n = 0;
  while (e < e0 + g) {
    int64_t c = e / S, ec = ((c + 1) * S < e0 + g ? (c + 1) * S : e0 + g) - e;
    int P = skrt_sel_parts(c, io.N, io.k, io.w);
    if (P == 1 && c * SKRT_CUDA_CHUNK - io.w >= (int64_t)SKRT_SEL_PART_K * io.k)
      ec = e0 + g - e; /* the rest: one part each */
    if (x >= 0 && x < n + ec * P) {
      *b = e - e0 + (x - n) / P;
      *part = (int)((x - n) % P);
      *parts = P;
      return true;
    }
    n += ec * P;
    e += ec;
  }
  if (x < 0)
    *b = n;
  return x < 0;
}

/* Tier 1, sweep: grid (ceil(sweeps / (NT / 32))), NT threads; warp x (of the grid) takes sweep
 * x (skrt_sel_sweep_of) unless its chunk was flagged. The slots are read-only here. */
template <int NT>
__global__ void __launch_bounds__(NT)
    skrt_sel_sweep_kernel(skrt_sel_chunk_io io, int64_t S, int64_t e0, int64_t g, int64_t cap,
                          const float *__restrict__ v, const int32_t *__restrict__ pos,
                          const int32_t *__restrict__ imap,
                          const skrt_sel_slot *__restrict__ slot) {
  int64_t x = ((int64_t)blockIdx.x * NT + threadIdx.x) / 32, b, s;
  int part, parts;
  if (!skrt_sel_sweep_of(x, io, S, e0, g, &b, &part, &parts))
    return;
  int c = skrt_sel_tier1_chunk(e0 + b, S, &s);
  if (io.oflag[s * io.nchunk + c] == 0)
    skrt_sel_sweep_warp(io, s, c, v + b * cap, pos + b * cap, imap + b * SKRT_CUDA_CHUNK, slot[b],
                        part, parts);
}

/* Runs tier 1 on the stream: the S x nchunk chunks in tier-1 order in groups of
 * G = min(all, gmax), each group a prep then a sweep launch over one global scratch of G slots
 * (G x (cap x 8 + CHUNK x 4 + sizeof(skrt_sel_slot)) bytes from pool, released stream-ordered). */
template <int NT, int SNT>
cudaError_t skrt_sel_tier1_launch(const skrt_sel_chunk_io &io, int64_t S, int64_t cap, int64_t gmax,
                                  cudaMemPool_t pool, cudaStream_t st) {
  int64_t nall = S * io.nchunk, G = nall < gmax ? nall : gmax;
  int nwt = io.rank ? skrt_sel_bitmap_nwt(io.N, NT) : 0;
  size_t bslot = G * sizeof(skrt_sel_slot), bv = G * cap * sizeof(float);
  size_t bytes = bslot + 2 * bv + G * SKRT_CUDA_CHUNK * sizeof(int32_t);
  int64_t svcap = cap <= SKRT_SEL_STAGE_MAX ? cap : 0;
  size_t smem = (size_t)(nwt * NT > svcap ? nwt * NT : svcap) * 4; /* at most 32 KB */
  unsigned char *buf;
  cudaError_t e = cudaMallocFromPoolAsync((void **)&buf, bytes, pool, st);
  if (e != cudaSuccess)
    return e;
  skrt_sel_slot *slot = (skrt_sel_slot *)buf;
  float *v = (float *)(buf + bslot);
  int32_t *pos = (int32_t *)(buf + bslot + bv), *imap = (int32_t *)(buf + bslot + 2 * bv);
  for (int64_t e0 = 0; e0 < nall && e == cudaSuccess; e0 += G) {
    int64_t g = nall - e0 < G ? nall - e0 : G;
    skrt_sel_prep_kernel<NT>
        <<<(unsigned)g, NT, smem, st>>>(io, S, e0, cap, nwt, svcap, v, pos, imap, slot);
    int64_t nsw = 0;
    int part, parts;
    skrt_sel_sweep_of(-1, io, S, e0, g, &nsw, &part, &parts);
    skrt_sel_sweep_kernel<SNT><<<(unsigned)((nsw * 32 + SNT - 1) / SNT), SNT, 0, st>>>(
        io, S, e0, g, cap, v, pos, imap, slot);
    e = cudaGetLastError();
  }
  cudaError_t ef = cudaFreeAsync(buf, st);
  return e != cudaSuccess ? e : ef;
}

/* Second tier: grid (G <= SMs, so no register cap for occupancy), dynamic smem for cap
 * entries; redoes the chunks flagged 1 and flags those that still overflow for the global
 * pass. */
template <int NT>
__global__ void __launch_bounds__(NT, 1)
    skrt_sel_bigsmem_kernel(skrt_sel_chunk_io io, int64_t S, int64_t cap) {
  extern __shared__ __align__(16) unsigned char skrt_sel_smem[];
  float *v = (float *)skrt_sel_smem;
  int32_t *pos = (int32_t *)(v + cap);
  int32_t *imap = pos + cap;
  for (int64_t e = blockIdx.x; e < S * io.nchunk; e += gridDim.x) {
    if (io.oflag[e] != 1)
      continue;
    bool ok = skrt_sel_chunk<NT>(io, e / io.nchunk, (int)(e % io.nchunk), v, pos, imap, cap);
    if (!ok && threadIdx.x == 0)
      io.oflag[e] = 2;
  }
}

/* Last tier: grid (G <= SMs); each block owns scratch of N floats + 2N ints and redoes the
 * chunks flagged 2 (R_c never exceeds N). */
template <int NT>
__global__ void __launch_bounds__(NT, 1)
    skrt_sel_overflow_kernel(skrt_sel_chunk_io io, int64_t S, float *scratch) {
  int64_t N = io.N;
  float *v = scratch + (int64_t)blockIdx.x * 3 * N;
  int32_t *pos = (int32_t *)(v + N);
  int32_t *imap = pos + N;
  for (int64_t e = blockIdx.x; e < S * io.nchunk; e += gridDim.x) {
    if (io.oflag[e] != 2)
      continue;
    skrt_sel_chunk<NT>(io, e / io.nchunk, (int)(e % io.nchunk), v, pos, imap, N);
  }
}

/* Tile lists: grid (nchunk, S), NT threads; a block makes the lists of its chunk's CHUNK / QTILE
 * tiles in one pass over the chunk list (each entry and its sel_end read once, the tiles' keep
 * flags packed in the bytes of one scan value). Tile t keeps, in chunk-list order, the keys
 * j <= i0 - w with sel_end[j] > i0 (they are exactly S_{i0} minus window keys). H100, 64k:
 * 0.026 ms at 16/16/64 and 0.017 at 32/8/128, against 0.049 and 0.025 with a block per tile. */
template <int NT>
__global__ void __launch_bounds__(NT) skrt_sel_tiles_kernel(skrt_cuda_sel sel, const int32_t *clist,
                                                            const int32_t *ccount, int64_t clcap) {
  constexpr int TPC = SKRT_CUDA_CHUNK / SKRT_CUDA_QTILE;
  static_assert(TPC <= 4 && NT < 256, "a pass's flags and counts must fit a byte per tile");
  typedef cub::BlockScan<uint32_t, NT> Scan;
  __shared__ typename Scan::TempStorage tmp;
  int c = blockIdx.x, t0 = c * TPC, nt = min(TPC, sel.ntile - t0);
  int64_t s = blockIdx.y;
  const int32_t *cl = clist + (s * sel.nchunk + c) * clcap;
  const int32_t *se = sel.sel_end + s * sel.N;
  int32_t *out = sel.tlist + (s * sel.ntile + t0) * sel.tlcap;
  int64_t n = ccount[s * sel.nchunk + c], kept[TPC] = {};
  for (int64_t base = 0; base < n; base += NT) {
    int64_t x = base + threadIdx.x;
    int32_t j = x < n ? cl[x] : 0;
    uint32_t f = 0;
    /* (past the last tile's start no tile keeps j: padding, newer entrants) */
    if (x < n && j + sel.w <= (int64_t)(t0 + nt - 1) * SKRT_CUDA_QTILE) {
      int32_t e = se[j];
#pragma unroll
      for (int q = 0; q < TPC; ++q) {
        int64_t i0 = (int64_t)(t0 + q) * SKRT_CUDA_QTILE;
        if (q < nt && j + sel.w <= i0 && e > i0)
          f |= 1u << (8 * q);
      }
    }
    uint32_t ex, tot;
    Scan(tmp).ExclusiveSum(f, ex, tot);
#pragma unroll
    for (int q = 0; q < TPC; ++q) {
      if ((f >> (8 * q)) & 1u)
        out[q * sel.tlcap + kept[q] + ((ex >> (8 * q)) & 0xffu)] = j;
      kept[q] += (tot >> (8 * q)) & 0xffu;
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
#pragma unroll
    for (int q = 0; q < TPC; ++q)
      if (q < nt)
        sel.tcount[s * sel.ntile + t0 + q] = (int32_t)kept[q];
  }
}

#endif
