/* CUDA selection kernels (S6-S8, S2/S3): per (b, kv-head) sequence, the gate threshold
 * tau_i and |F_i| of every query, the selection interval end sel_end[j] of every key, and per
 * query tile the list of selected keys older than the tile's window. No N x N mask, no host
 * round trip.
 *
 * Method. One global sort per sequence by (u desc, j desc) (the selection order of S8).
 * Queries are cut into chunks of SKRT_CUDA_CHUNK. Because tau_i and the top-k cutoff are
 * non-decreasing in i, a candidate with u_j <= z_(k)(chunk start) - 1 (z_(k) = k-th largest
 * candidate score) has gate 0 and is never selected for the whole chunk. A block collects
 * the other candidates, in sorted order, into shared memory (R_c), finds tau at the chunk
 * start by a parallel bisection, then one thread sweeps the chunk's queries: each query
 * exposes one candidate, and tau only moves up, so the S2 breakpoint pointers (saturated /
 * free / zero boundaries) and the k-th-best pointer only move left: O(|R_c| + CHUNK) per
 * chunk. An evicted key gets sel_end = the evicting query. R_c lives in shared memory; a
 * chunk whose R_c does not fit is flagged and redone by a pass with a larger shared-memory
 * capacity (one block per SM), and if it still does not fit, by a pass on global scratch. */
#ifndef SKRT_KERNELS_CUDA_SELECT_CUH
#define SKRT_KERNELS_CUDA_SELECT_CUH

#include <cub/block/block_reduce.cuh>
#include <cub/block/block_scan.cuh>
#include <math.h>

#include "kernels/cuda_common.cuh"

/* Everything the chunk sweep reads and writes (device pointers, per-sequence slices are
 * found through s). */
struct skrt_sel_chunk_io {
  const float *sval;   /* (S, N) scores in selection order */
  const int32_t *spos; /* (S, N) positions in selection order */
  double *tau;
  int32_t *nfree, *sel_end;
  int32_t *clist;  /* (S, nchunk, clcap) keys selected somewhere in the chunk */
  int32_t *ccount; /* (S, nchunk) */
  int32_t *oflag;  /* (S, nchunk) tier that must (re)do the chunk: 0 done, 1 big smem, 2 global */
  int64_t N, k, w, clcap;
  int nchunk;
};

/* Order-preserving 64-bit sort key: sequence ascending, u descending, j descending. */
static __global__ void skrt_sel_key_kernel(const float *u, int64_t S, int64_t N, int jbits,
                                           unsigned long long *keys, int32_t *bad) {
  int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (e >= S * N)
    return;
  int64_t s = e / N, j = e % N;
  float x = u[e];
  if (!isfinite(x))
    atomicExch(bad, 1);
  unsigned int b = x == 0.0f ? 0u : __float_as_uint(x); /* -0 ties with +0 */
  unsigned int ord = (b & 0x80000000u) ? ~b : (b | 0x80000000u);
  unsigned long long jm = (1ull << jbits) - 1ull;
  keys[e] = ((unsigned long long)s << (32 + jbits)) | ((unsigned long long)(~ord) << jbits) |
            (jm - (unsigned long long)j);
}

/* Sorted keys -> (position, score) in selection order; resets sel_end to N (never
 * evicted) and the overflow flags. */
static __global__ void skrt_sel_unpack_kernel(const unsigned long long *keys, const float *u,
                                              int64_t S, int64_t N, int jbits, int32_t *spos,
                                              float *sval, int32_t *sel_end) {
  int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (e >= S * N)
    return;
  unsigned long long jm = (1ull << jbits) - 1ull;
  int64_t s = e / N;
  int32_t j = (int32_t)(jm - (keys[e] & jm));
  spos[e] = j;
  sval[e] = u[s * N + j];
  sel_end[e] = (int32_t)N;
}

/* Pointer state of the S2 sweep over R_c (indices into v/pos, sorted like the global
 * order). Zones: [0, U) saturated, [U, W) free, [W, n) zero; counts are of candidates. */
struct skrt_sel_state {
  double tau, sum;
  int64_t U, W, nsat, nfr;
};

/* ref: S2/S3. Raises tau from a point where g(tau) >= k to the smallest root of
 * g(tau) = sum clip(v - tau, 0, 1) - k, moving the breakpoint pointers left. Entries with
 * pos >= L are not candidates yet and only move the pointers. */
__device__ inline void skrt_sel_settle(skrt_sel_state *st, const float *v, const int32_t *pos,
                                       int64_t L, int64_t k) {
  for (;;) {
    double eW = st->W > 0 ? (double)v[st->W - 1] : INFINITY;
    double eU = st->U > 0 ? (double)v[st->U - 1] - 1.0 : INFINITY;
    double te = fmin(eW, eU);
    if (st->nfr > 0) {
      double ts = (st->sum + (double)st->nsat - (double)k) / (double)st->nfr;
      if (ts < te) {
        st->tau = fmax(st->tau, ts);
        return;
      }
    } else if (st->nsat <= k) {
      return; /* flat: no free entry, tau is the left end of the root interval */
    }
    if (te == INFINITY)
      return;
    st->tau = te;
    if (eU <= eW) {
      --st->U;
      if (pos[st->U] < L) {
        st->nsat--;
        st->nfr++;
        st->sum += v[st->U];
      }
    } else {
      --st->W;
      if (pos[st->W] < L) {
        st->nfr--;
        st->sum -= v[st->W];
      }
    }
  }
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

/* Rank in selection order of the k-th candidate (pos < Lb) of sequence slice spos. */
template <int NT>
__device__ inline int64_t skrt_sel_kth(const int32_t *spos, int64_t N, int64_t Lb, int64_t k) {
  typedef cub::BlockScan<int, NT> Scan;
  __shared__ typename Scan::TempStorage tmp;
  __shared__ int64_t found;
  if (threadIdx.x == 0)
    found = -1;
  __syncthreads();
  int64_t seen = 0;
  for (int64_t base = 0; base < N; base += NT) {
    int64_t r = base + threadIdx.x;
    int f = r < N && spos[r] < Lb;
    int ex, tot;
    Scan(tmp).ExclusiveSum(f, ex, tot);
    if (f && seen + ex + 1 == k)
      found = r;
    seen += tot;
    __syncthreads();
    if (seen >= k)
      break;
  }
  return found;
}

/* Shared scalars of one chunk's collection step. */
struct skrt_sel_collect {
  int64_t nkept, nold, T0, maxold;
};

/* Collects R_c: candidates (pos < L1) in selection order with score > lb, into v/pos
 * (up to cap entries), the entrant map imap, and the first k old ones into clist. */
template <int NT>
__device__ inline void skrt_sel_gather(const float *sval, const int32_t *spos, int64_t N, double lb,
                                       int64_t Lb, int64_t L1, int64_t k, float *v, int32_t *pos,
                                       int32_t *imap, int64_t cap, int32_t *clist,
                                       skrt_sel_collect *out) {
  typedef cub::BlockScan<int, NT> Scan;
  __shared__ typename Scan::TempStorage tmp;
  int64_t nkept = 0, nold = 0;
  for (int64_t base = 0; base < N; base += NT) {
    int64_t r = base + threadIdx.x;
    float x = r < N ? sval[r] : 0.0f;
    bool alive = r < N && (double)x > lb;
    int32_t p = alive ? spos[r] : 0;
    int keep = alive && p < L1, old = keep && p < Lb;
    int ex, tot;
    Scan(tmp).ExclusiveSum(keep | (old << 16), ex, tot);
    int64_t idx = nkept + (ex & 0xffff), orank = nold + (ex >> 16);
    if (keep && idx < cap) {
      v[idx] = x;
      pos[idx] = p;
      if (p >= Lb)
        imap[p - Lb] = (int32_t)idx;
    }
    if (old && orank < k)
      clist[orank] = p;
    if (old && orank == k - 1)
      out->T0 = idx;
    if (old)
      atomicMax((unsigned long long *)&out->maxold, (unsigned long long)idx);
    nkept += tot & 0xffff;
    nold += tot >> 16;
    if (__syncthreads_or(!alive))
      break;
  }
  if (threadIdx.x == 0) {
    out->nkept = nkept;
    out->nold = nold;
  }
  __syncthreads();
}

/* Parallel start state at the chunk's first query: tau at Lb candidates (bisection to a
 * point with g >= k), then the pointers and counts for that tau. */
template <int NT>
__device__ inline void skrt_sel_start(const float *v, const int32_t *pos, int64_t n, int64_t Lb,
                                      int64_t k, double lb, skrt_sel_state *st) {
  double lo = lb, hi = n > 0 ? (double)v[0] : lb;
  for (int it = 0; it < 24 && hi - lo > 1e-9 * (1.0 + fabs(hi)); ++it) {
    double mid = 0.5 * (lo + hi), g = 0.0;
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
    cU += d > 1.0;
    cW += d > 0.0;
    cs += cand && d > 1.0;
    cf += cand && d > 0.0 && d <= 1.0;
    sm += (cand && d > 0.0 && d <= 1.0) ? (double)v[x] : 0.0;
  }
  cU = skrt_block_sum<NT>(cU);
  cW = skrt_block_sum<NT>(cW);
  cs = skrt_block_sum<NT>(cs);
  cf = skrt_block_sum<NT>(cf);
  sm = skrt_block_sum<NT>(sm);
  st->tau = lo;
  st->U = (int64_t)cU;
  st->W = (int64_t)cW;
  st->nsat = (int64_t)cs;
  st->nfr = (int64_t)cf;
  st->sum = sm;
}

/* The sequential sweep of one chunk (thread 0). */
__device__ inline void skrt_sel_sweep(const skrt_sel_chunk_io &io, int64_t s, int c, const float *v,
                                      const int32_t *pos, const int32_t *imap,
                                      const skrt_sel_collect &col, skrt_sel_state st, bool inf) {
  const int64_t N = io.N, k = io.k, w = io.w;
  int64_t i0 = (int64_t)c * SKRT_CUDA_CHUNK, i1 = min(N, i0 + SKRT_CUDA_CHUNK);
  int64_t Lb = max((int64_t)0, i0 - w), cnt = Lb;
  double *tau = io.tau + s * N;
  int32_t *nfree = io.nfree + s * N, *sel_end = io.sel_end + s * N;
  int32_t *clist = io.clist + (s * io.nchunk + c) * io.clcap;
  int64_t nc = min(k, col.nold), T = cnt >= k ? col.T0 : -1, maxinc = col.maxold;
  for (int64_t i = i0; i < i1; ++i) {
    int64_t p = i - w;
    if (p >= 0) {
      int64_t t = imap[p - Lb], L = p + 1;
      if (t < 0) {
        sel_end[p] = (int32_t)i; /* below the chunk's bound: never selected */
      } else {
        maxinc = max(maxinc, t);
        if (cnt < k) { /* ref: S8, |C_i| <= k: every candidate selected */
          clist[nc++] = (int32_t)p;
          if (cnt + 1 == k)
            T = maxinc;
        } else if (t < T) { /* enters, evicts the current k-th best */
          clist[nc++] = (int32_t)p;
          sel_end[pos[T]] = (int32_t)i;
          for (--T; pos[T] >= L; --T) {
          }
        } else {
          sel_end[p] = (int32_t)i;
        }
        if (cnt + 1 > k) {
          if (inf) { /* first query with |C_i| > k: all candidates saturated just below the
                      * lowest one; entries after it that score above that tau (keys not
                      * exposed yet) start in the free zone, not the zero zone */
            st.tau = (double)v[maxinc] - 1.0;
            st.U = st.W = maxinc + 1;
            while (st.W < col.nkept && (double)v[st.W] > st.tau)
              ++st.W;
            st.nsat = cnt + 1;
            st.nfr = 0;
            st.sum = 0.0;
            inf = false;
          } else if (t < st.U) {
            st.nsat++;
          } else if (t < st.W) {
            st.nfr++;
            st.sum += v[t];
          }
          skrt_sel_settle(&st, v, pos, L, k);
        }
      }
      cnt++;
    }
    tau[i] = inf ? -INFINITY : st.tau;
    nfree[i] = inf ? 0 : (int32_t)st.nfr;
  }
  io.ccount[s * io.nchunk + c] = (int32_t)nc;
}

/* One chunk, all threads of the block. Returns false (and writes nothing but clist) when
 * R_c exceeds cap. */
template <int NT>
__device__ inline bool skrt_sel_chunk(const skrt_sel_chunk_io &io, int64_t s, int c, float *v,
                                      int32_t *pos, int32_t *imap, int64_t cap) {
  const int64_t N = io.N, k = io.k, w = io.w;
  int64_t i0 = (int64_t)c * SKRT_CUDA_CHUNK, i1 = min(N, i0 + SKRT_CUDA_CHUNK);
  int64_t Lb = max((int64_t)0, i0 - w), L1 = max((int64_t)0, i1 - w);
  const float *sval = io.sval + s * N;
  const int32_t *spos = io.spos + s * N;
  __shared__ skrt_sel_collect col;
  __shared__ int64_t rk;
  for (int64_t x = threadIdx.x; x < L1 - Lb; x += NT)
    imap[x] = -1;
  if (threadIdx.x == 0) {
    col.T0 = -1;
    col.maxold = 0;
  }
  int64_t r = Lb > k ? skrt_sel_kth<NT>(spos, N, Lb, k) : -1;
  if (threadIdx.x == 0)
    rk = r;
  __syncthreads();
  double lb = rk >= 0 ? (double)sval[rk] - 1.0 : -INFINITY;
  int32_t *clist = io.clist + (s * io.nchunk + c) * io.clcap;
  skrt_sel_gather<NT>(sval, spos, N, lb, Lb, L1, k, v, pos, imap, cap, clist, &col);
  if (col.nkept > cap)
    return false;
  if (col.nold == 0 && threadIdx.x == 0)
    col.maxold = -1;
  __syncthreads();
  skrt_sel_state st = {0, 0, 0, 0, 0, 0};
  bool inf = Lb <= k;
  if (!inf)
    skrt_sel_start<NT>(v, pos, col.nkept, Lb, k, lb, &st);
  if (threadIdx.x == 0) {
    if (!inf)
      skrt_sel_settle(&st, v, pos, Lb, k);
    skrt_sel_sweep(io, s, c, v, pos, imap, col, st, inf);
  }
  __syncthreads();
  return true;
}

/* Shared-memory pass: grid (nchunk, S); dynamic smem holds cap floats, cap ints and the
 * CHUNK-entry entrant map. */
template <int NT>
__global__ void __launch_bounds__(NT) skrt_sel_chunk_kernel(skrt_sel_chunk_io io, int64_t cap) {
  extern __shared__ __align__(16) unsigned char skrt_sel_smem[];
  float *v = (float *)skrt_sel_smem;
  int32_t *pos = (int32_t *)(v + cap);
  int32_t *imap = pos + cap;
  int c = blockIdx.x;
  int64_t s = blockIdx.y;
  if (!skrt_sel_chunk<NT>(io, s, c, v, pos, imap, cap) && threadIdx.x == 0)
    io.oflag[s * io.nchunk + c] = 1;
}

/* Second tier: grid (G), dynamic smem for cap entries; redoes the chunks flagged 1 and
 * flags those that still overflow for the global pass. */
template <int NT>
__global__ void __launch_bounds__(NT)
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

/* Last tier: grid (G); each block owns scratch of N floats + 2N ints and redoes the chunks
 * flagged 2 (R_c never exceeds N). */
template <int NT>
__global__ void __launch_bounds__(NT)
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

/* Tile lists: grid (ntile, S), NT threads. Keeps, in chunk-list order, the keys
 * j <= i0 - w with sel_end[j] > i0 (they are exactly S_{i0} minus window keys). */
template <int NT>
__global__ void __launch_bounds__(NT) skrt_sel_tiles_kernel(skrt_cuda_sel sel, const int32_t *clist,
                                                            const int32_t *ccount, int64_t clcap) {
  typedef cub::BlockScan<int, NT> Scan;
  __shared__ typename Scan::TempStorage tmp;
  int t = blockIdx.x;
  int64_t s = blockIdx.y, i0 = (int64_t)t * SKRT_CUDA_QTILE;
  int c = (int)(i0 / SKRT_CUDA_CHUNK);
  const int32_t *cl = clist + (s * sel.nchunk + c) * clcap;
  const int32_t *se = sel.sel_end + s * sel.N;
  int32_t *out = sel.tlist + (s * sel.ntile + t) * sel.tlcap;
  int64_t n = ccount[s * sel.nchunk + c], kept = 0;
  for (int64_t base = 0; base < n; base += NT) {
    int64_t x = base + threadIdx.x;
    int32_t j = x < n ? cl[x] : 0;
    int f = x < n && j + sel.w <= i0 && se[j] > i0;
    int ex, tot;
    Scan(tmp).ExclusiveSum(f, ex, tot);
    if (f)
      out[kept + ex] = j;
    kept += tot;
    __syncthreads();
  }
  if (threadIdx.x == 0)
    sel.tcount[s * sel.ntile + t] = (int32_t)kept;
}

#endif
