/* skrt prefix thresholds: for one causal (b, h) sequence of scores, the gate threshold
 * tau_i and free count |F_i| of every query (S6-S7) and the selection interval of every
 * key (S8), in O(n log n) time (here O(n) after an O(n) radix sort) and O(n) memory.
 *
 * How (spec section 2 facts): candidates only arrive (j = i - w at query i) and tau_i only
 * rises. All scores are ranked once by (u desc, j desc). Two pointers over the ranks mark
 * the current classes: ranks < A saturated, [A, B) free, >= B zero (counts U and W of the
 * inserted candidates below A and B, and a compensated sum of the free ones). Raising tau
 * only moves A and B down, so each query walks them up the breakpoints until the linear
 * piece of g holds its root: O(1) amortized. The selected set is a size-k max-heap of
 * ranks (worst on top): an arrival evicts the worst for good or is rejected for good. */
#include "skrt/base.h"
#include "skrt/sparsek.h"
#include "sparsek_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One rank: its score and its position, the top bit of pos marking a candidate. */
struct skrt_thr_rec {
  float val;
  uint32_t pos;
};
#define SKRT_THR_IN 0x80000000u

struct skrt_thr {
  int64_t n, k;
  struct skrt_thr_rec *rec; /* by rank: scores descending, ties larger position first */
  int32_t *rank;            /* by position */
  int64_t A, B, U, W;       /* class pointers and inserted counts below them */
  double sum, comp;         /* Neumaier sum of the free candidates' scores */
  double tau;               /* current threshold (double) */
  int32_t *heap;            /* ranks of S_i, max-heap (worst on top) */
  int64_t hsize, cap;
  int64_t best_out; /* best rank ever rejected or evicted: the (k+1)-th largest */
  void *arena;      /* one block for everything (repeat calls reuse it without faults) */
};

/* ---- ranking: LSD radix sort on (u desc, j desc) ------------------------------------ */

/* Key whose ascending order is u descending; -0 and +0 map to one key. */
static uint32_t skrt_thr_key(float f) {
  f += 0.0f;
  uint32_t b;
  memcpy(&b, &f, sizeof(b));
  b = (b & 0x80000000u) ? ~b : (b | 0x80000000u);
  return ~b;
}

/* One stable counting pass of 11 key bits at `shift`, from src to dst. */
static void skrt_thr_radix_pass(const struct skrt_thr_rec *src, struct skrt_thr_rec *dst,
                                int64_t n, int shift) {
  int64_t count[2049] = {0};
  for (int64_t t = 0; t < n; t++)
    count[((skrt_thr_key(src[t].val) >> shift) & 2047u) + 1]++;
  for (int b = 0; b < 2048; b++)
    count[b + 1] += count[b];
  for (int64_t t = 0; t < n; t++)
    dst[count[(skrt_thr_key(src[t].val) >> shift) & 2047u]++] = src[t];
}

/* Fills rec (by rank) and rank (by position); tmp is n scratch records. Starting from
 * positions descending keeps ties larger-j first through the stable passes. */
static void skrt_thr_rank(struct skrt_thr *s, const float *u, struct skrt_thr_rec *tmp) {
  int64_t n = s->n;
  for (int64_t t = 0; t < n; t++)
    tmp[t] = (struct skrt_thr_rec){u[n - 1 - t], (uint32_t)(n - 1 - t)};
  skrt_thr_radix_pass(tmp, s->rec, n, 0);
  skrt_thr_radix_pass(s->rec, tmp, n, 11);
  skrt_thr_radix_pass(tmp, s->rec, n, 22);
  for (int64_t r = 0; r < n; r++)
    s->rank[s->rec[r].pos] = (int32_t)r;
}

/* ---- state -------------------------------------------------------------------------- */

static void skrt_thr_destroy(struct skrt_thr *s) { free(s->arena); }

static int skrt_thr_create(struct skrt_thr *s, const float *u, int64_t n, int64_t k) {
  memset(s, 0, sizeof(*s));
  s->n = n;
  s->k = k;
  s->cap = k < n ? k : n;
  size_t nrec = (size_t)n * sizeof(struct skrt_thr_rec);
  s->arena = malloc(2 * nrec + (size_t)(n + s->cap) * sizeof(int32_t));
  if (!s->arena)
    return SKRT_ERR_NOMEM;
  s->rec = s->arena;
  s->rank = (int32_t *)((char *)s->arena + 2 * nrec);
  s->heap = s->rank + n;
  skrt_thr_rank(s, u, s->rec + n);
  s->A = s->B = n; /* tau = -inf: every candidate saturated */
  s->tau = -INFINITY;
  s->best_out = n;
  return SKRT_OK;
}

static int skrt_thr_is_in(const struct skrt_thr *s, int64_t r) {
  return (s->rec[r].pos & SKRT_THR_IN) != 0;
}

/* ---- threshold walk (ref: S2, S7) ---------------------------------------------------- */

static void skrt_thr_add(struct skrt_thr *s, double x) {
  double t = s->sum + x;
  s->comp += fabs(s->sum) >= fabs(x) ? (s->sum - t) + x : (x - t) + s->sum;
  s->sum = t;
  if (s->W == s->U)
    s->sum = s->comp = 0.0; /* empty free set: drop the rounding residue */
}

static void skrt_thr_insert(struct skrt_thr *s, int64_t r) {
  s->rec[r].pos |= SKRT_THR_IN;
  if (r < s->A) {
    s->U++;
    s->W++;
  } else if (r < s->B) {
    s->W++;
    skrt_thr_add(s, s->rec[r].val);
  }
}

/* Raises tau past the next breakpoint: the lower of val[A-1] - 1 and val[B-1]. */
static void skrt_thr_step(struct skrt_thr *s, double ha, double hb) {
  if (ha <= hb) {
    s->A--;
    if (skrt_thr_is_in(s, s->A)) {
      s->U--;
      skrt_thr_add(s, s->rec[s->A].val);
    }
  } else {
    s->B--;
    if (skrt_thr_is_in(s, s->B)) {
      s->W--;
      skrt_thr_add(s, -(double)s->rec[s->B].val);
    }
  }
}

/* Smallest root of g >= the previous tau; candidates > k. */
static double skrt_thr_solve(struct skrt_thr *s) {
  double k = (double)s->k;
  for (;;) {
    int64_t m = s->W - s->U;
    double ha = s->A > 0 ? (double)s->rec[s->A - 1].val - 1.0 : INFINITY;
    double hb = s->B > 0 ? (double)s->rec[s->B - 1].val : INFINITY;
    double hi = ha < hb ? ha : hb;
    if (m == 0 && s->U <= s->k) /* flat g = 0: smallest root is the (k+1)-th largest */
      return s->rec[s->best_out].val;
    if (m > 0) {
      double t = (s->sum + s->comp + (double)s->U - k) / (double)m; // ref: S3
      if (skrt_sparsek_near(t, hi))
        t = hi; /* root on the breakpoint: the exact value */
      if (t <= hi)
        return t > s->tau ? t : s->tau;
    }
    skrt_thr_step(s, ha, hb);
  }
}

/* Moves the pointers onto the classes of tau exactly as skrt_sparsek_is_free sees them. */
static void skrt_thr_settle(struct skrt_thr *s) {
  while (s->B > 0 && (double)s->rec[s->B - 1].val - s->tau <= 0.0)
    skrt_thr_step(s, INFINITY, 0.0);
  while (s->A > 0 && (double)s->rec[s->A - 1].val - s->tau < 1.0)
    skrt_thr_step(s, 0.0, INFINITY);
}

/* ---- selection heap (ref: S8) -------------------------------------------------------- */

static void skrt_thr_sift_down(int32_t *h, int64_t size, int64_t i) {
  for (;;) {
    int64_t c = 2 * i + 1;
    if (c >= size)
      return;
    if (c + 1 < size && h[c + 1] > h[c])
      c++;
    if (h[c] <= h[i])
      return;
    int32_t t = h[c];
    h[c] = h[i];
    h[i] = t;
    i = c;
  }
}

static void skrt_thr_push(int32_t *h, int64_t i, int32_t r) {
  h[i] = r;
  while (i > 0 && h[(i - 1) / 2] < h[i]) {
    int32_t t = h[(i - 1) / 2];
    h[(i - 1) / 2] = h[i];
    h[i] = t;
    i = (i - 1) / 2;
  }
}

static void skrt_thr_out(struct skrt_thr *s, int64_t r, int64_t i, int32_t *sel_end) {
  if (r < s->best_out)
    s->best_out = r;
  if (sel_end)
    sel_end[s->rec[r].pos & ~SKRT_THR_IN] = (int32_t)i;
}

/* Candidate of rank r arrives at query i: joins S_i, evicting the worst, or is rejected. */
static void skrt_thr_select(struct skrt_thr *s, int64_t r, int64_t i, int32_t *sel_end) {
  if (s->hsize < s->cap) {
    skrt_thr_push(s->heap, s->hsize++, (int32_t)r);
  } else if (r < s->heap[0]) {
    skrt_thr_out(s, s->heap[0], i, sel_end);
    s->heap[0] = (int32_t)r;
    skrt_thr_sift_down(s->heap, s->hsize, 0);
  } else {
    skrt_thr_out(s, r, i, sel_end);
  }
}

/* ---- entry point ---------------------------------------------------------------------- */

static int skrt_thr_check(const float *u, int64_t n, int64_t k, int64_t w) {
  if (!u)
    return skrt_error(SKRT_ERR_NULL, "skrt_prefix_thresholds: u is NULL");
  if (n < 1 || n > INT32_MAX)
    return skrt_error(SKRT_ERR_ARG, "skrt_prefix_thresholds: n must be in [1, %d], got %lld",
                      INT32_MAX, (long long)n);
  if (k < 1)
    return skrt_error(SKRT_ERR_ARG, "skrt_prefix_thresholds: k must be >= 1, got %lld",
                      (long long)k);
  if (w < 0)
    return skrt_error(SKRT_ERR_ARG, "skrt_prefix_thresholds: w must be >= 0, got %lld",
                      (long long)w);
  for (int64_t j = 0; j < n; j++)
    if (!isfinite(u[j]))
      return skrt_error(SKRT_ERR_NONFINITE, "skrt_prefix_thresholds: u[%lld] is %g",
                        (long long)j, (double)u[j]);
  return SKRT_OK;
}

/* Query i: candidate i - w arrives (ref: S6), then tau_i and |F_i| (ref: S7). */
static void skrt_thr_query(struct skrt_thr *s, int64_t i, int64_t w, int32_t *sel_end) {
#if defined(__GNUC__)
  if (i - w + 16 >= 0 && i - w + 16 < s->n) /* the rank of a later arrival is a cache miss */
    __builtin_prefetch(&s->rec[s->rank[i - w + 16]], 1);
#endif
  if (i >= w) {
    int64_t r = s->rank[i - w];
    skrt_thr_insert(s, r);
    skrt_thr_select(s, r, i, sel_end);
  }
  if (i - w + 1 > s->k) {
    s->tau = skrt_thr_solve(s);
    skrt_thr_settle(s);
  }
}

int skrt_prefix_thresholds(const float *u, int64_t n, int64_t k, int64_t w, float *tau,
                           int32_t *nfree, int32_t *sel_end) {
  int st = skrt_thr_check(u, n, k, w);
  if (st)
    return st;
  struct skrt_thr s;
  if (skrt_thr_create(&s, u, n, k))
    return skrt_error(SKRT_ERR_NOMEM, "skrt_prefix_thresholds: out of memory (n = %lld)",
                      (long long)n);
  for (int64_t j = 0; sel_end && j < n; j++)
    sel_end[j] = (int32_t)n; /* never evicted (or never a candidate) */
  for (int64_t i = 0; i < n; i++) {
    skrt_thr_query(&s, i, w, sel_end);
    if (tau)
      tau[i] = (float)s.tau;
    if (nfree)
      nfree[i] = (int32_t)(s.W - s.U);
  }
  skrt_thr_destroy(&s);
  return SKRT_OK;
}
