/* CPU prefix thresholds of one causal (b, h) score sequence, in the kernel's real type:
 * one left-to-right sweep that computes, per query i, the gate threshold tau_i of
 * SparseK(u[C_i], k) (S7, exact as S3: tau = (sum_free u + #saturated - k) / #free) and, per
 * key j, the end of its selection interval (S8: j in S_i <=> j + w <= i < sel_end[j]),
 * using the spec section 2 facts (tau non-decreasing, a key that leaves S or gets gate 0
 * never returns). Free-key intervals and |F_i| follow from tau by binary search.
 * Same contract as skrt_prefix_thresholds (sparsek.h), but in double for the double
 * instance and fused into the kernels. O(N log N) per sequence. */
#ifndef SKK_CPU_THRESHOLDS_H
#define SKK_CPU_THRESHOLDS_H

#include "kernels/cpu_common.h"

/* Binary min-heap of doubles (the free and the saturated scores of the sweep). */
struct skk_dheap {
  double *v;
  int64_t n;
};

static inline void skk_dheap_push(struct skk_dheap *h, double x) {
  int64_t i = h->n++;
  while (i > 0 && h->v[(i - 1) / 2] > x) {
    h->v[i] = h->v[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  h->v[i] = x;
}

static inline double skk_dheap_pop(struct skk_dheap *h) {
  double top = h->v[0], x = h->v[--h->n];
  int64_t i = 0;
  for (;;) {
    int64_t c = 2 * i + 1;
    if (c >= h->n)
      break;
    if (c + 1 < h->n && h->v[c + 1] < h->v[c])
      ++c;
    if (h->v[c] >= x)
      break;
    h->v[i] = h->v[c];
    i = c;
  }
  h->v[i] = x;
  return top;
}

/* Min-heap of selected keys ordered by (u, j): the root is the next key to evict. */
struct skk_sheap {
  skk_real *u;
  int32_t *j;
  int64_t n;
};

static inline int skk_sheap_less(skk_real ua, int32_t ja, skk_real ub, int32_t jb) {
  return ua < ub || (ua == ub && ja < jb);
}

static inline void skk_sheap_sift_down(struct skk_sheap *h, int64_t i, skk_real u, int32_t j) {
  for (;;) {
    int64_t c = 2 * i + 1;
    if (c >= h->n)
      break;
    if (c + 1 < h->n && skk_sheap_less(h->u[c + 1], h->j[c + 1], h->u[c], h->j[c]))
      ++c;
    if (!skk_sheap_less(h->u[c], h->j[c], u, j))
      break;
    h->u[i] = h->u[c];
    h->j[i] = h->j[c];
    i = c;
  }
  h->u[i] = u;
  h->j[i] = j;
}

static inline void skk_sheap_push(struct skk_sheap *h, skk_real u, int32_t j) {
  int64_t i = h->n++;
  while (i > 0 && skk_sheap_less(u, j, h->u[(i - 1) / 2], h->j[(i - 1) / 2])) {
    h->u[i] = h->u[(i - 1) / 2];
    h->j[i] = h->j[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  h->u[i] = u;
  h->j[i] = j;
}

/* Scratch of one sweep: capacity n for the two threshold heaps, k for the selection. */
struct skk_sweep {
  struct skk_dheap freeh, sath;
  struct skk_sheap sel;
  double sum_free, tau;
  int64_t nsat;
};

static inline int skk_sweep_create(struct skk_sweep *s, int64_t n, int64_t k) {
  int64_t ks = skk_min64(k, n);
  memset(s, 0, sizeof(*s));
  s->freeh.v = (double *)malloc((size_t)n * sizeof(double));
  s->sath.v = (double *)malloc((size_t)n * sizeof(double));
  s->sel.u = (skk_real *)malloc((size_t)ks * sizeof(skk_real));
  s->sel.j = (int32_t *)malloc((size_t)ks * sizeof(int32_t));
  return s->freeh.v && s->sath.v && s->sel.u && s->sel.j ? SKRT_OK : SKRT_ERR_NOMEM;
}

static inline void skk_sweep_destroy(struct skk_sweep *s) {
  free(s->freeh.v);
  free(s->sath.v);
  free(s->sel.u);
  free(s->sel.j);
  memset(s, 0, sizeof(*s));
}

/* Moves keys across breakpoints (saturated -> free -> zero) until the candidate
 * tau = (sum_free + #sat - k) / #free lies below the next breakpoint. ref: S2, S3 */
static inline void skk_sweep_settle(struct skk_sweep *s, int64_t k) {
  for (;;) {
    double t;
    if (s->freeh.n > 0)
      t = (s->sum_free + (double)(s->nsat - k)) / (double)s->freeh.n;
    else if (s->nsat > k)
      t = INFINITY;
    else
      return; /* |F| = 0, #sat <= k: tau stays at the last breakpoint (flat interval) */
    double bf = s->freeh.n > 0 ? s->freeh.v[0] : INFINITY;
    double bs = s->sath.n > 0 ? s->sath.v[0] - 1.0 : INFINITY;
    if (bf <= bs && t >= bf) {
      s->sum_free -= skk_dheap_pop(&s->freeh); /* gate reaches 0: gone for good */
      s->tau = bf > s->tau ? bf : s->tau;       /* the root lies at or above bf */
    } else if (bs < bf && t > bs) {
      double z = skk_dheap_pop(&s->sath); /* gate drops below 1: becomes free */
      s->tau = bs > s->tau ? bs : s->tau;
      --s->nsat;
      s->sum_free += z;
      skk_dheap_push(&s->freeh, z);
    } else {
      s->tau = t > s->tau ? t : s->tau; /* non-decreasing (spec section 2) */
      return;
    }
  }
}

/* Candidate j (score z) enters the selection at query i (= j + w). ref: S8 */
static inline void skk_sweep_select(struct skk_sweep *s, int64_t k, skk_real z, int32_t j,
                                    int32_t i, int32_t *sel_end) {
  if (s->sel.n < k) {
    skk_sheap_push(&s->sel, z, j);
  } else if (!skk_sheap_less(z, j, s->sel.u[0], s->sel.j[0])) {
    sel_end[s->sel.j[0]] = i; /* evicted for good; ties go to the larger j (the new one) */
    skk_sheap_sift_down(&s->sel, 0, z, j);
  } else {
    sel_end[j] = i; /* never selected: empty interval [j + w, j + w) */
  }
}

/* Candidate score z enters the threshold sets. ref: S7 */
static inline void skk_sweep_add(struct skk_sweep *s, int64_t k, double z) {
  if (z <= s->tau)
    return; /* below the threshold now, so forever (tau never decreases) */
  if (z >= s->tau + 1.0) {
    skk_dheap_push(&s->sath, z);
    ++s->nsat;
  } else {
    skk_dheap_push(&s->freeh, z);
    s->sum_free += z;
  }
  skk_sweep_settle(s, k);
}

/* The whole sweep over one sequence: tau[0..n) (may be NULL: selection only) and
 * sel_end[0..n). u is the sequence's scores (finite). */
static inline void skk_sweep_run(struct skk_sweep *s, const skk_real *u, int64_t n, int64_t k,
                                 int64_t w, skk_real *tau, int32_t *sel_end) {
  s->freeh.n = s->sath.n = s->sel.n = 0;
  s->sum_free = 0.0;
  s->nsat = 0;
  s->tau = -INFINITY;
  for (int64_t j = 0; j < n; ++j)
    sel_end[j] = (int32_t)n;
  for (int64_t i = 0; i < n; ++i) {
    int64_t j = i - w;
    if (j >= 0) {
      skk_sweep_select(s, k, u[j], (int32_t)j, (int32_t)i, sel_end);
      if (tau)
        skk_sweep_add(s, k, (double)u[j]);
    }
    if (tau)
      tau[i] = (j + 1 <= k) ? (skk_real)-INFINITY : (skk_real)s->tau; /* |C_i| = j + 1 */
  }
}

/* First query in [lo, n) whose gate for score uj is below `edge` (tau is non-decreasing,
 * so uj - tau_i is non-increasing). edge 1: gate leaves saturation; edge 0: gate is 0. */
static inline int64_t skk_first_below(const skk_real *tau, int64_t lo, int64_t n, skk_real uj,
                                      int edge_zero) {
  int64_t hi = n;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    skk_real d = uj - tau[mid];
    int below = edge_zero ? !(d > 0) : (d < 1);
    if (below)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

/* Free interval of key j: queries [*fs, *fe) where 0 < u_j - tau_i < 1 (spec section 2:
 * one interval). Same predicate as the kernels' gates. */
static inline void skk_free_interval(const skk_real *tau, const skk_real *u, int64_t n,
                                     int64_t w, int64_t j, int64_t *fs, int64_t *fe) {
  int64_t lo = j + w;
  if (lo >= n) {
    *fs = *fe = n;
    return;
  }
  *fs = skk_first_below(tau, lo, n, u[j], 0);
  *fe = skk_first_below(tau, *fs, n, u[j], 1);
}

/* |F_i| for every query from the free intervals (diff is n + 1 int32 scratch). */
static inline void skk_free_counts(const skk_real *tau, const skk_real *u, int64_t n, int64_t w,
                                   int32_t *diff, int32_t *nfree) {
  memset(diff, 0, (size_t)(n + 1) * sizeof(int32_t));
  for (int64_t j = 0; j + w < n; ++j) {
    int64_t fs, fe;
    skk_free_interval(tau, u, n, w, j, &fs, &fe);
    diff[fs] += 1;
    diff[fe] -= 1;
  }
  int32_t run = 0;
  for (int64_t i = 0; i < n; ++i) {
    run += diff[i];
    nfree[i] = run;
  }
}

#endif
