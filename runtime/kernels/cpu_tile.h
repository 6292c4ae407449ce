/* CPU query-tile machinery shared by the fused forward and backward kernels: the key union
 * of a tile (spec section 2: at most k + T - 1 selected plus w + T - 1 window keys for T
 * consecutive queries, loaded once per tile), the gate matrix of a key block (S6-S9), and
 * the register-blocked GEMM-like loops. Every tile loop runs over the T queries of the tile
 * as its vector lanes ("transposed" layout: Qt[d][t], St[c][t]), so K and V rows are read
 * straight from the tensors as broadcast scalars: no gather or K^T packing is needed. */
#ifndef SKK_CPU_TILE_H
#define SKK_CPU_TILE_H

#include "kernels/cpu_common.h"

/* The keys of one query tile [i0, i0 + T): pointers to their K and V rows and, per key, the
 * lane offsets that decide inclusion (key j is attended by query i iff j <= i < hi_j with
 * hi_j = max(j + w, sel_end[j]); as a window key iff i < j + w) and its score. */
struct skk_union {
  const skk_real **kp, **vp;
  int32_t *lo, *wend, *hend; /* j - i0, j + w - i0, hi_j - i0, clamped to [-1, T + 1] */
  int64_t *pos;              /* j */
  skk_real *u;
  int64_t n, nreal, cap; /* keys listed, of which the first nreal are real (rest padding) */
  int32_t *old; /* S_{i0}: keys j <= i0 - w still selected at i0, ascending */
  int64_t nold;
};

/* Capacity for sequences of n keys, budget k, window w (plus one padded key block). */
static inline int skk_union_create(struct skk_union *un, int64_t n, int64_t k, int64_t w) {
  memset(un, 0, sizeof(*un));
  int64_t cap = skk_min64(k, n) + skk_min64(w + SKK_T, n + SKK_T) + SKK_KB;
  un->cap = cap;
  un->kp = (const skk_real **)malloc((size_t)cap * sizeof(*un->kp));
  un->vp = (const skk_real **)malloc((size_t)cap * sizeof(*un->vp));
  un->lo = (int32_t *)malloc((size_t)cap * sizeof(int32_t));
  un->wend = (int32_t *)malloc((size_t)cap * sizeof(int32_t));
  un->hend = (int32_t *)malloc((size_t)cap * sizeof(int32_t));
  un->pos = (int64_t *)malloc((size_t)cap * sizeof(int64_t));
  un->u = (skk_real *)malloc((size_t)cap * sizeof(skk_real));
  un->old = (int32_t *)malloc((size_t)(skk_min64(k, n) + 1) * sizeof(int32_t));
  return un->kp && un->vp && un->lo && un->wend && un->hend && un->pos && un->u && un->old
             ? SKRT_OK
             : SKRT_ERR_NOMEM;
}

static inline void skk_union_destroy(struct skk_union *un) {
  free(un->kp);
  free(un->vp);
  free(un->lo);
  free(un->wend);
  free(un->hend);
  free(un->pos);
  free(un->u);
  free(un->old);
  memset(un, 0, sizeof(*un));
}

/* S_{i0} from scratch: keys j <= i0 - w with sel_end[j] > i0. O(i0). ref: S8 */
static inline void skk_union_start(struct skk_union *un, const int32_t *sel_end, int64_t w,
                                   int64_t i0) {
  un->nold = 0;
  for (int64_t j = 0; j <= i0 - w; ++j)
    if (sel_end[j] > i0)
      un->old[un->nold++] = (int32_t)j;
}

/* S_{i0} -> S_{i1} (i1 > i0): drop evicted keys, append the candidates exposed in between
 * that are still selected at i1. O(k + i1 - i0). */
static inline void skk_union_advance(struct skk_union *un, const int32_t *sel_end, int64_t w,
                                     int64_t i0, int64_t i1) {
  int64_t m = 0;
  for (int64_t a = 0; a < un->nold; ++a)
    if (sel_end[un->old[a]] > i1)
      un->old[m++] = un->old[a];
  for (int64_t j = skk_max64(0, i0 - w + 1); j <= i1 - w; ++j)
    if (sel_end[j] > i1)
      un->old[m++] = (int32_t)j;
  un->nold = m;
}

/* Appends key j to the tile union of tile i0. */
static inline void skk_union_push(struct skk_union *un, const skk_real *kbase,
                                  const skk_real *vbase, int64_t ks, int64_t vs,
                                  const skk_real *u, const int32_t *sel_end, int64_t w,
                                  int64_t i0, int64_t j) {
  int64_t c = un->n++;
  un->kp[c] = kbase + j * ks;
  un->vp[c] = vbase + j * vs;
  un->pos[c] = j;
  un->u[c] = u[j];
  un->lo[c] = skk_lane_clamp(j - i0);
  un->wend[c] = skk_lane_clamp(j + w - i0);
  un->hend[c] = skk_lane_clamp(skk_max64(j + w, (int64_t)sel_end[j]) - i0);
}

/* Union of tile [i0, i0 + T) of a sequence of n keys: S_{i0} (un->old) then the contiguous
 * range [i0 - w + 1, min(i0 + T, n) - 1] (window keys of the tile and the candidates exposed
 * inside it), padded to a whole number of key groups with never-attended zero rows. */
static inline void skk_union_build(struct skk_union *un, const skk_real *kbase,
                                   const skk_real *vbase, int64_t ks, int64_t vs,
                                   const skk_real *u, const int32_t *sel_end, int64_t n,
                                   int64_t w, int64_t i0, const skk_real *zero_row) {
  un->n = 0;
  for (int64_t a = 0; a < un->nold; ++a)
    skk_union_push(un, kbase, vbase, ks, vs, u, sel_end, w, i0, un->old[a]);
  int64_t r1 = skk_min64(i0 + SKK_T, n);
  for (int64_t j = skk_max64(0, i0 - w + 1); j < r1; ++j)
    skk_union_push(un, kbase, vbase, ks, vs, u, sel_end, w, i0, j);
  un->nreal = un->n;
  while (un->n % SKK_KPAD != 0) {
    int64_t c = un->n++;
    un->kp[c] = un->vp[c] = zero_row;
    un->pos[c] = 0;
    un->u[c] = 0;
    un->lo[c] = un->wend[c] = un->hend[c] = 0; /* empty [0, 0): never attended */
  }
}

/* Gate matrix of keys [c0, c0 + nc) of the union for the tile's queries (tau_t[t] =
 * tau_{i0+t}): g[c][t] = 1 for a window key, clip(u_j - tau_i, 0, 1) for a selected key,
 * -1 when query i does not attend key j. ref: S6, S7, S8 */
static inline void skk_gates(const struct skk_union *un, int64_t c0, int64_t nc,
                             const skk_real *tau_t, skk_real *g) {
  for (int64_t c = 0; c < nc; ++c) {
    const int32_t lo = un->lo[c0 + c], we = un->wend[c0 + c], he = un->hend[c0 + c];
    const skk_real uj = un->u[c0 + c];
    skk_real *gc = g + c * SKK_T;
#pragma omp simd
    for (int32_t t = 0; t < SKK_T; ++t) {
      skk_real d = uj - tau_t[t];
      skk_real m = d > 0 ? (d < 1 ? d : (skk_real)1) : (skk_real)0;
      skk_real gw = t < we ? (skk_real)1 : m;
      gc[t] = (t >= lo && t < he) ? gw : (skk_real)-1;
    }
  }
}

/* out[c][t] = sum_d rows[c][d] * xt[d][t] for SKK_KG rows (logits K.Q^T, and V.dO^T in the
 * backward). Accumulators stay in registers (KG x T). */
static inline void skk_rows_dot_t(const skk_real *const *rows, const skk_real *xt, int64_t D,
                                  skk_real *restrict out) {
  skk_real acc[SKK_KG][SKK_T];
  for (int c = 0; c < SKK_KG; ++c)
    for (int t = 0; t < SKK_T; ++t)
      acc[c][t] = 0;
  for (int64_t d = 0; d < D; ++d) {
    const skk_real *xd = xt + d * SKK_T;
#pragma GCC unroll 8
    for (int c = 0; c < SKK_KG; ++c) {
      const skk_real r = rows[c][d];
#pragma omp simd
      for (int t = 0; t < SKK_T; ++t)
        acc[c][t] = SKK_FMA(r, xd[t], acc[c][t]);
    }
  }
  for (int c = 0; c < SKK_KG; ++c)
    for (int t = 0; t < SKK_T; ++t)
      out[c * SKK_T + t] = acc[c][t];
}

/* accT[d][t] += sum_c pt[c][t] * rows[c][d] over nc keys for SKK_DG columns d0.. (the
 * P.V product of the forward, dS.K of the backward). */
static inline void skk_acc_t_group(const skk_real *pt, const skk_real *const *rows, int64_t nc,
                                   int64_t d0, skk_real *restrict acct) {
  skk_real acc[SKK_DG][SKK_T];
  for (int d = 0; d < SKK_DG; ++d)
    for (int t = 0; t < SKK_T; ++t)
      acc[d][t] = 0;
  for (int64_t c = 0; c < nc; ++c) {
    const skk_real *pc = pt + c * SKK_T;
    const skk_real *row = rows[c] + d0;
#pragma GCC unroll 8
    for (int d = 0; d < SKK_DG; ++d) {
      const skk_real r = row[d];
#pragma omp simd
      for (int t = 0; t < SKK_T; ++t)
        acc[d][t] = SKK_FMA(r, pc[t], acc[d][t]);
    }
  }
  for (int d = 0; d < SKK_DG; ++d)
    for (int t = 0; t < SKK_T; ++t)
      acct[(d0 + d) * SKK_T + t] += acc[d][t];
}

/* accT[d][t] += sum_c pt[c][t] * rows[c][d] for all D columns. */
static inline void skk_acc_t(const skk_real *pt, const skk_real *const *rows, int64_t nc,
                             int64_t D, skk_real *restrict acct) {
  const int64_t dfull = D - D % SKK_DG; /* SKK_DG is a power of two */
  for (int64_t d0 = 0; d0 < dfull; d0 += SKK_DG)
    skk_acc_t_group(pt, rows, nc, d0, acct);
  if (dfull == D)
    return;
  for (int64_t c = 0; c < nc; ++c)
    for (int64_t d = dfull; d < D; ++d) {
      const skk_real r = rows[c][d];
      skk_real *ad = acct + d * SKK_T;
#pragma omp simd
      for (int t = 0; t < SKK_T; ++t)
        ad[t] = SKK_FMA(r, pt[c * SKK_T + t], ad[t]);
    }
}

/* Loads the tile's rows of a strided (B,H,N,D) tensor, scaled, in both layouts:
 * rows[t][d] = scale * x[i0 + t][d] and xt[d][t] = rows[t][d] (zero for t >= nq). The rows
 * are read with contiguous vector loads; the transpose then runs inside L1. */
static inline void skk_load_rows_t(const skk_real *x0, int64_t xs, int64_t nq, int64_t D,
                                   skk_real scale, skk_real *restrict rows,
                                   skk_real *restrict xt) {
  for (int64_t t = 0; t < nq; ++t)
#pragma omp simd
    for (int64_t d = 0; d < D; ++d)
      rows[t * D + d] = scale * x0[t * xs + d];
  memset(rows + nq * D, 0, (size_t)((SKK_T - nq) * D) * sizeof(skk_real));
  for (int64_t d = 0; d < D; ++d)
#pragma omp simd
    for (int64_t t = 0; t < SKK_T; ++t)
      xt[d * SKK_T + t] = rows[t * D + d];
}

/* Stores a transposed tile accumulator: dst row t = xt[.][t] * mul[t] for t < nq, through
 * rows[T][D] (transpose inside L1, then whole-row vector stores). */
static inline void skk_store_rows_t(const skk_real *xt, const skk_real *mul, int64_t nq,
                                    int64_t D, skk_real *restrict rows, skk_real *dst,
                                    int64_t ds) {
  for (int64_t t = 0; t < nq; ++t)
#pragma omp simd
    for (int64_t d = 0; d < D; ++d)
      rows[t * D + d] = xt[d * SKK_T + t] * mul[t];
  for (int64_t t = 0; t < nq; ++t)
#pragma omp simd
    for (int64_t d = 0; d < D; ++d)
      dst[t * ds + d] = rows[t * D + d];
}

#endif
