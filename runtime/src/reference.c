/* skrt reference attention: the plain, double-precision definition of one SparseK
 * attention layer, forward (S6-S10) and backward (S11), that every kernel and the compiler
 * are tested against. Written for clarity, O(N^2 log N) per head: each query rebuilds its
 * candidate set, solves SparseK on it from scratch with the operator's sorted-threshold
 * core (never the prefix machinery of thresholds.c, which this checks), picks S_i by
 * sorting, and evaluates the formulas literally.
 *
 * Saved statistics: lse_i = log sum_{j in S_i u W_i} exp(s_ij), the log-sum-exp of the
 * logits s_ij of S9 (after gating for gate kv). Free candidates are those with
 * 0 < u_j - tau_i < 1 in double (sparsek_internal.h). */
#include "skrt/base.h"
#include "skrt/sparsek.h"
#include "sparsek_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The keys query i attends to (S_i u W_i) with their gates, shared by a KV group. */
struct skrt_ref_row {
  double tau;
  int64_t ncand, nfree, nsel, nkeys; /* |C_i|, |F_i|, |S_i|, |S_i u W_i| */
  int64_t *key;                      /* selected keys first, then the window */
  double *gate;                      /* m_ij per key (1 for window keys) */
};

struct skrt_ref_cand {
  double u;
  int64_t j;
};

/* Scratch of one (b, h) sequence, N entries each. */
struct skrt_ref_work {
  struct skrt_ref_row row;
  struct skrt_ref_cand *cand;
  double *sorted, *logit, *prob, *dm; /* N each */
  double *oi;                           /* D */
};

static void skrt_ref_work_destroy(struct skrt_ref_work *w) {
  free(w->row.key);
  free(w->row.gate);
  free(w->cand);
  free(w->sorted);
  free(w->logit);
  free(w->prob);
  free(w->dm);
  free(w->oi);
}

static int skrt_ref_work_create(struct skrt_ref_work *w, int64_t n, int64_t D) {
  size_t d = (size_t)n * sizeof(double);
  memset(w, 0, sizeof(*w));
  w->row.key = malloc((size_t)n * sizeof(int64_t));
  w->row.gate = malloc(d);
  w->cand = malloc((size_t)n * sizeof(struct skrt_ref_cand));
  w->sorted = malloc(d);
  w->logit = malloc(d);
  w->prob = malloc(d);
  w->dm = calloc((size_t)n, sizeof(double));
  w->oi = malloc((size_t)D * sizeof(double));
  if (w->row.key && w->row.gate && w->cand && w->sorted && w->logit && w->prob && w->dm &&
      w->oi)
    return SKRT_OK;
  skrt_ref_work_destroy(w);
  return SKRT_ERR_NOMEM;
}

static int skrt_ref_cand_cmp(const void *a, const void *b) { /* u desc, then j desc */
  const struct skrt_ref_cand *x = a, *y = b;
  if (x->u != y->u)
    return x->u < y->u ? 1 : -1;
  return (x->j < y->j) - (x->j > y->j);
}

/* ref: S6-S8. Candidates, threshold, free count and selected + window keys of query i;
 * u is the (b, h) sequence. */
static void skrt_ref_row_build(struct skrt_ref_work *w, const double *u, int64_t i,
                               int64_t topk, int64_t window) {
  struct skrt_ref_row *r = &w->row;
  r->ncand = i - window + 1 > 0 ? i - window + 1 : 0; /* C_i = [0, i - w] */
  for (int64_t j = 0; j < r->ncand; j++) {
    w->sorted[j] = u[j];
    w->cand[j] = (struct skrt_ref_cand){u[j], j};
  }
  skrt_sparsek_sort_desc(w->sorted, r->ncand);
  r->tau = r->ncand > 0 ? skrt_sparsek_tau_sorted(w->sorted, r->ncand, (double)topk) : -INFINITY;
  r->nfree = 0;
  for (int64_t j = 0; j < r->ncand; j++)
    r->nfree += skrt_sparsek_is_free(u[j], r->tau);
  qsort(w->cand, (size_t)r->ncand, sizeof(*w->cand), skrt_ref_cand_cmp); // ref: S8
  r->nsel = r->ncand < topk ? r->ncand : topk;
  r->nkeys = 0;
  for (int64_t t = 0; t < r->nsel; t++, r->nkeys++) { // ref: S7 gates
    r->key[r->nkeys] = w->cand[t].j;
    r->gate[r->nkeys] = fmin(fmax(w->cand[t].u - r->tau, 0.0), 1.0);
  }
  for (int64_t j = r->ncand; j <= i; j++, r->nkeys++) { /* W_i = (i - w, i] */
    r->key[r->nkeys] = j;
    r->gate[r->nkeys] = 1.0;
  }
}

static double skrt_ref_dot(const double *a, const double *b, int64_t d) {
  double s = 0.0;
  for (int64_t t = 0; t < d; t++)
    s += a[t] * b[t];
  return s;
}

/* ref: S9-S10 for one query row qi against the keys of w->row; writes the logits a_ij
 * (w->logit), the probabilities P_ij (w->prob) and, when oi is set, the output. Returns
 * the row log-sum-exp of s_ij. */
static double skrt_ref_softmax(struct skrt_ref_work *w, const struct skrt_ref_config *c,
                               int64_t D, const double *qi, const double *kh, const double *vh,
                               double *oi) {
  const struct skrt_ref_row *r = &w->row;
  double mx = -INFINITY, sum = 0.0;
  for (int64_t t = 0; t < r->nkeys; t++) {
    w->logit[t] = c->scale * skrt_ref_dot(qi, kh + r->key[t] * D, D);
    double s = c->gate == SKRT_GATE_KV ? r->gate[t] * w->logit[t] : w->logit[t];
    w->prob[t] = s;
    mx = fmax(mx, s);
  }
  for (int64_t t = 0; t < r->nkeys; t++)
    sum += exp(w->prob[t] - mx);
  double lse = mx + log(sum);
  for (int64_t t = 0; t < r->nkeys; t++)
    w->prob[t] = exp(w->prob[t] - lse);
  for (int64_t d = 0; oi && d < D; d++) {
    oi[d] = 0.0;
    for (int64_t t = 0; t < r->nkeys; t++)
      oi[d] += w->prob[t] * r->gate[t] * vh[r->key[t] * D + d];
  }
  return lse;
}

/* ---- argument checks ----------------------------------------------------------------- */

static int skrt_ref_check_config(const char *fn, const struct skrt_ref_shape *s,
                                 const struct skrt_ref_config *c) {
  if (!s || !c)
    return skrt_error(SKRT_ERR_NULL, "%s: %s is NULL", fn, !s ? "shape" : "config");
  if (s->B < 1 || s->Hq < 1 || s->Hkv < 1 || s->N < 1 || s->D < 1)
    return skrt_error(SKRT_ERR_SHAPE,
                      "%s: B, Hq, Hkv, N, D must be >= 1, got %lld, %lld, %lld, %lld, %lld", fn,
                      (long long)s->B, (long long)s->Hq, (long long)s->Hkv, (long long)s->N,
                      (long long)s->D);
  if (s->Hq % s->Hkv)
    return skrt_error(SKRT_ERR_SHAPE, "%s: Hq (%lld) must be a multiple of Hkv (%lld)", fn,
                      (long long)s->Hq, (long long)s->Hkv);
  if (c->topk < 1)
    return skrt_error(SKRT_ERR_ARG, "%s: topk must be >= 1, got %lld", fn, (long long)c->topk);
  if (c->window < 0)
    return skrt_error(SKRT_ERR_ARG, "%s: window must be >= 0, got %lld", fn,
                      (long long)c->window);
  if (c->gate != SKRT_GATE_KV && c->gate != SKRT_GATE_V)
    return skrt_error(SKRT_ERR_ARG, "%s: gate must be 0 (kv) or 1 (v), got %d", fn, c->gate);
  return SKRT_OK;
}

static int skrt_ref_check_u(const char *fn, const struct skrt_ref_shape *s, const double *u) {
  for (int64_t b = 0; b < s->B; b++)
    for (int64_t h = 0; h < s->Hkv; h++)
      for (int64_t j = 0; j < s->N; j++) {
        double x = u[(b * s->Hkv + h) * s->N + j];
        if (!isfinite(x))
          return skrt_error(SKRT_ERR_NONFINITE, "%s: u[%lld, %lld, %lld] is %g", fn,
                            (long long)b, (long long)h, (long long)j, x);
      }
  return SKRT_OK;
}

/* Checks config, the required pointers ptrs[t] (named names[t]) and that u is finite. */
static int skrt_ref_check(const char *fn, const struct skrt_ref_shape *s,
                          const struct skrt_ref_config *c, const void *const *ptrs,
                          const char *const *names, int count, const double *u) {
  int st = skrt_ref_check_config(fn, s, c);
  if (st)
    return st;
  for (int t = 0; t < count; t++)
    if (!ptrs[t])
      return skrt_error(SKRT_ERR_NULL, "%s: %s is NULL", fn, names[t]);
  return skrt_ref_check_u(fn, s, u);
}

/* ---- forward (S6-S10) ------------------------------------------------------------------ */

/* Pointers of one (b, h) KV sequence and its query-head group. */
struct skrt_ref_seq {
  const double *u, *k, *v; /* (N), (N, D), (N, D) */
  int64_t q0, g;           /* first query head index (b * Hq + h * g) and group size */
};

static struct skrt_ref_seq skrt_ref_seq_at(const struct skrt_ref_shape *s, const double *u,
                                           const double *k, const double *v, int64_t b,
                                           int64_t h) {
  int64_t g = s->Hq / s->Hkv, bh = b * s->Hkv + h;
  return (struct skrt_ref_seq){u + bh * s->N, k + bh * s->N * s->D, v + bh * s->N * s->D,
                               b * s->Hq + h * g, g};
}

static void skrt_ref_forward_seq(struct skrt_ref_work *w, const struct skrt_ref_shape *s,
                                 const struct skrt_ref_config *c, struct skrt_ref_seq seq,
                                 const double *q, double *o, double *lse, double *tau,
                                 int64_t *nfree, int64_t bh) {
  int64_t N = s->N, D = s->D;
  for (int64_t i = 0; i < N; i++) {
    skrt_ref_row_build(w, seq.u, i, c->topk, c->window);
    if (tau)
      tau[bh * N + i] = w->row.tau;
    if (nfree)
      nfree[bh * N + i] = w->row.nfree;
    for (int64_t hq = seq.q0; hq < seq.q0 + seq.g; hq++) {
      int64_t row = hq * N + i;
      double l = skrt_ref_softmax(w, c, D, q + row * D, seq.k, seq.v, o + row * D);
      if (lse)
        lse[row] = l;
    }
  }
}

int skrt_ref_attention_forward(const struct skrt_ref_shape *s, const struct skrt_ref_config *c,
                               const double *q, const double *k, const double *v,
                               const double *u, double *o, double *lse, double *tau,
                               int64_t *nfree) {
  static const char *fn = "skrt_ref_attention_forward";
  const void *ptrs[] = {q, k, v, u, o};
  static const char *const names[] = {"q", "k", "v", "u", "o"};
  int st = skrt_ref_check(fn, s, c, ptrs, names, 5, u);
  if (st)
    return st;
  struct skrt_ref_work w;
  if (skrt_ref_work_create(&w, s->N, s->D))
    return skrt_error(SKRT_ERR_NOMEM, "%s: out of memory", fn);
  for (int64_t b = 0; b < s->B; b++)
    for (int64_t h = 0; h < s->Hkv; h++)
      skrt_ref_forward_seq(&w, s, c, skrt_ref_seq_at(s, u, k, v, b, h), q, o, lse, tau, nfree,
                           b * s->Hkv + h);
  skrt_ref_work_destroy(&w);
  return SKRT_OK;
}

/* ---- backward (S11) -------------------------------------------------------------------- */

/* ref: S11 for one query head row: accumulates dq_i, dk, dv and dm of the selected keys. */
static void skrt_ref_backward_row(struct skrt_ref_work *w, const struct skrt_ref_config *c,
                                  int64_t D, const double *qi, const double *doi,
                                  struct skrt_ref_seq seq, double *dqi, double *dk,
                                  double *dv) {
  const struct skrt_ref_row *r = &w->row;
  skrt_ref_softmax(w, c, D, qi, seq.k, seq.v, w->oi);
  double Di = skrt_ref_dot(doi, w->oi, D);
  for (int64_t t = 0; t < r->nkeys; t++) {
    int64_t j = r->key[t];
    double m = r->gate[t], P = w->prob[t];
    double dov = skrt_ref_dot(doi, seq.v + j * D, D);
    double dS = P * (m * dov - Di);
    double gk = c->gate == SKRT_GATE_KV ? m : 1.0;
    for (int64_t d = 0; d < D; d++) {
      dv[j * D + d] += P * m * doi[d];
      dqi[d] += c->scale * dS * gk * seq.k[j * D + d];
      dk[j * D + d] += c->scale * dS * gk * qi[d];
    }
    if (t < r->nsel)
      w->dm[t] += (c->gate == SKRT_GATE_KV ? dS * w->logit[t] : 0.0) + P * dov;
  }
}

/* ref: S11 through SparseK: du_j += [j in F_i] ([j in S_i] dm_ij - c_i). */
static void skrt_ref_backward_gates(const struct skrt_ref_work *w, const double *u,
                                    double *du) {
  const struct skrt_ref_row *r = &w->row;
  if (r->nfree == 0)
    return;
  double csum = 0.0;
  for (int64_t t = 0; t < r->nsel; t++)
    if (skrt_sparsek_is_free(u[r->key[t]], r->tau))
      csum += w->dm[t];
  double ci = csum / (double)r->nfree;
  for (int64_t j = 0; j < r->ncand; j++)
    if (skrt_sparsek_is_free(u[j], r->tau))
      du[j] -= ci;
  for (int64_t t = 0; t < r->nsel; t++)
    if (skrt_sparsek_is_free(u[r->key[t]], r->tau))
      du[r->key[t]] += w->dm[t];
}

static void skrt_ref_backward_seq(struct skrt_ref_work *w, const struct skrt_ref_shape *s,
                                  const struct skrt_ref_config *c, struct skrt_ref_seq seq,
                                  const double *q, const double *dout, double *dq,
                                  double *dk_h, double *dv_h, double *du_h) {
  int64_t N = s->N, D = s->D;
  for (int64_t i = 0; i < N; i++) {
    skrt_ref_row_build(w, seq.u, i, c->topk, c->window);
    memset(w->dm, 0, (size_t)w->row.nsel * sizeof(double));
    for (int64_t hq = seq.q0; hq < seq.q0 + seq.g; hq++) {
      int64_t row = hq * N + i;
      skrt_ref_backward_row(w, c, D, q + row * D, dout + row * D, seq, dq + row * D, dk_h,
                            dv_h);
    }
    skrt_ref_backward_gates(w, seq.u, du_h);
  }
}

int skrt_ref_attention_backward(const struct skrt_ref_shape *s,
                                const struct skrt_ref_config *c, const double *q,
                                const double *k, const double *v, const double *u,
                                const double *dout, double *dq, double *dk, double *dv,
                                double *du) {
  static const char *fn = "skrt_ref_attention_backward";
  const void *ptrs[] = {q, k, v, u, dout, dq, dk, dv, du};
  static const char *const names[] = {"q", "k", "v", "u", "dout", "dq", "dk", "dv", "du"};
  int st = skrt_ref_check(fn, s, c, ptrs, names, 9, u);
  if (st)
    return st;
  struct skrt_ref_work w;
  if (skrt_ref_work_create(&w, s->N, s->D))
    return skrt_error(SKRT_ERR_NOMEM, "%s: out of memory", fn);
  int64_t nq = s->B * s->Hq * s->N * s->D, nkv = s->B * s->Hkv * s->N;
  memset(dq, 0, (size_t)nq * sizeof(double));
  memset(dk, 0, (size_t)(nkv * s->D) * sizeof(double));
  memset(dv, 0, (size_t)(nkv * s->D) * sizeof(double));
  memset(du, 0, (size_t)nkv * sizeof(double));
  for (int64_t b = 0; b < s->B; b++)
    for (int64_t h = 0; h < s->Hkv; h++) {
      int64_t bh = b * s->Hkv + h;
      skrt_ref_backward_seq(&w, s, c, skrt_ref_seq_at(s, u, k, v, b, h), q, dout, dq,
                            dk + bh * s->N * s->D, dv + bh * s->N * s->D, du + bh * s->N);
    }
  skrt_ref_work_destroy(&w);
  return SKRT_OK;
}
