/* Fused CPU SparseK attention backward (S11). One task per (b, kv head) owns every
 * gradient row of that head (dk, dv, du, and dq of its g query heads), so there are no
 * data races and results are bitwise reproducible for any thread count. Inside a task the
 * query tiles run in order; each tile lists its key union once (as the forward does),
 * recomputes P from the saved log-sum-exp, and per block of union keys forms dP, dS, dm
 * and the four products (dv += (P m)^T dO, dk += dS^T q, dq += dS k) with register-blocked
 * loops. du gets dm on selected free keys, then minus c_i over every query for which the
 * key is free (selected or not), found as one interval by binary search on tau.
 *
 * Needs from the forward: o (p->o), lse, tau, nfree. Generated code defines SKK_REAL /
 * SKK_HEAD_DIM / SKK_TILE_Q, includes this header and calls skk_attention_backward. */
#ifndef SKK_CPU_ATTENTION_BWD_H
#define SKK_CPU_ATTENTION_BWD_H

#include "kernels/cpu_common.h"
#include "kernels/cpu_thresholds.h"
#include "kernels/cpu_tile.h"

/* Keys per register group and head-dim chunk of the key-row update kernel. */
#define SKK_RC 8
#define SKK_DC ((int)(128 / sizeof(SKK_REAL)))

/* out[c][d0 + d] += sum_t a[c][t] * x[t][d0 + d] for SKK_RC key rows, one chunk of SKK_DC
 * columns (dv += (P m)^T dO and dk += dS^T q), accumulators in registers. */
static inline void skk_rows_acc_group(const skk_real *a, const skk_real *x, int64_t D,
                                      int64_t d0, skk_real *const *out) {
  skk_real acc[SKK_RC][SKK_DC];
  for (int c = 0; c < SKK_RC; ++c)
    for (int d = 0; d < SKK_DC; ++d)
      acc[c][d] = 0;
  for (int t = 0; t < SKK_T; ++t) {
    const skk_real *xr = x + t * D + d0;
#pragma GCC unroll 8
    for (int c = 0; c < SKK_RC; ++c) {
      const skk_real av = a[c * SKK_T + t];
#pragma omp simd
      for (int d = 0; d < SKK_DC; ++d)
        acc[c][d] = SKK_FMA(av, xr[d], acc[c][d]);
    }
  }
  for (int c = 0; c < SKK_RC; ++c)
    for (int d = 0; d < SKK_DC; ++d)
      out[c][d0 + d] += acc[c][d];
}

/* out[c][:] += sum_t a[c][t] * x[t][:] for nc (a multiple of SKK_RC) key rows. */
static inline void skk_rows_acc(const skk_real *a, const skk_real *x, int64_t nc, int64_t D,
                                skk_real *const *out) {
  const int64_t dfull = D - D % SKK_DC;
  for (int64_t c0 = 0; c0 < nc; c0 += SKK_RC)
    for (int64_t d0 = 0; d0 < dfull; d0 += SKK_DC)
      skk_rows_acc_group(a + c0 * SKK_T, x, D, d0, out + c0);
  if (dfull == D)
    return;
  for (int64_t c = 0; c < nc; ++c)
    for (int t = 0; t < SKK_T; ++t) {
      const skk_real av = a[c * SKK_T + t];
      const skk_real *xr = x + t * D;
      skk_real *oc = out[c];
#pragma omp simd
      for (int64_t d = dfull; d < D; ++d)
        oc[d] = SKK_FMA(av, xr[d], oc[d]);
    }
}

/* Per-thread scratch of the backward. */
struct skk_bwd_scratch {
  skk_real *qt, *qs, *dot, *dor, *dqt; /* per query head: [D][T] or [T][D] */
  skk_real *lse_t, *dd_t;               /* per query head: [T] (lse, D_i = dO.o) */
  skk_real *st, *dpv, *pm, *dsg, *g, *dm; /* per key block: [KB][T] */
  skk_real *tau_t, *zero, *sink;        /* [T], [D], [D] */
  skk_real **dkp, **dvp;                /* union key rows of dk, dv */
  double *cq, *cs;                      /* per query: sum of dm over selected free keys */
  int32_t *sel_end;                     /* [N] */
  struct skk_union un;
  struct skk_sweep sw;
};

static inline void skk_bwd_scratch_destroy(struct skk_bwd_scratch *s) {
  void *bufs[] = {s->qt, s->qs,  s->dot, s->dor, s->dqt,  s->lse_t, s->dd_t, s->st,
                  s->dpv, s->pm, s->dsg, s->g,   s->dm,   s->tau_t, s->zero, s->sink,
                  s->dkp, s->dvp, s->cq, s->cs,  s->sel_end};
  for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); ++i)
    free(bufs[i]);
  skk_union_destroy(&s->un);
  skk_sweep_destroy(&s->sw);
}

static inline skk_real *skk_reals(int64_t n) {
  return (skk_real *)malloc((size_t)n * sizeof(skk_real));
}

static inline int skk_bwd_scratch_create(struct skk_bwd_scratch *s,
                                         const struct skrt_attn_params *p) {
  const int64_t g = p->Hq / p->Hkv, D = SKK_DIM(p->D), T = SKK_T, KT = SKK_KB * SKK_T;
  memset(s, 0, sizeof(*s));
  s->qt = skk_reals(g * D * T), s->qs = skk_reals(g * D * T), s->dot = skk_reals(g * D * T);
  s->dor = skk_reals(g * D * T), s->dqt = skk_reals(g * D * T);
  s->lse_t = skk_reals(g * T), s->dd_t = skk_reals(g * T);
  s->st = skk_reals(skk_max64(SKK_KB, D) * T), s->dpv = skk_reals(KT), s->pm = skk_reals(KT);
  s->dsg = skk_reals(KT), s->g = skk_reals(KT), s->dm = skk_reals(KT);
  s->tau_t = skk_reals(T), s->zero = (skk_real *)calloc((size_t)D, sizeof(skk_real));
  s->sink = skk_reals(D);
  s->cq = (double *)malloc((size_t)p->N * sizeof(double));
  s->cs = (double *)malloc((size_t)(p->N + 1) * sizeof(double));
  s->sel_end = (int32_t *)malloc((size_t)p->N * sizeof(int32_t));
  int st = skk_union_create(&s->un, p->N, p->topk, p->window);
  if (st == SKRT_OK) {
    s->dkp = (skk_real **)malloc((size_t)s->un.cap * sizeof(skk_real *));
    s->dvp = (skk_real **)malloc((size_t)s->un.cap * sizeof(skk_real *));
    st = skk_sweep_create(&s->sw, p->N, p->topk);
  }
  if (st == SKRT_OK &&
      !(s->qt && s->qs && s->dot && s->dor && s->dqt && s->lse_t && s->dd_t && s->st &&
        s->dpv && s->pm && s->dsg && s->g && s->dm && s->tau_t && s->zero && s->sink &&
        s->dkp && s->dvp && s->cq && s->cs && s->sel_end))
    st = SKRT_ERR_NOMEM;
  if (st != SKRT_OK)
    skk_bwd_scratch_destroy(s);
  return st;
}

/* Loads the tile's per-query-head inputs: q (scaled, both layouts), dO (both layouts),
 * lse, D_i = dO_i . o_i; clears the dq accumulator. */
static inline void skk_bwd_load(const struct skrt_attn_params *p,
                                const struct skrt_attn_grads *gr, int64_t b, int64_t qh,
                                int64_t i0, int64_t nq, struct skk_bwd_scratch *s, int64_t hh) {
  const int64_t D = SKK_DIM(p->D), N = p->N, DT = D * SKK_T;
  const int64_t dos[3] = {p->Hq * N * D, N * D, D};
  const skk_real *q0 = skk_row(p->q, p->q_stride, b, qh, i0);
  const skk_real *do0 = skk_row(gr->dout, dos, b, qh, i0);
  const skk_real *o0 = skk_row(p->o, p->o_stride, b, qh, i0);
  const skk_real sc = (skk_real)p->scale;
  skk_load_rows_t(q0, p->q_stride[2], nq, D, sc, s->qs + hh * DT, s->qt + hh * DT);
  skk_load_rows_t(do0, D, nq, D, 1, s->dor + hh * DT, s->dot + hh * DT);
  memset(s->dqt + hh * DT, 0, (size_t)DT * sizeof(skk_real));
  const skk_real *lse = (const skk_real *)p->lse + (b * p->Hq + qh) * N + i0;
  for (int64_t t = 0; t < SKK_T; ++t) {
    skk_real dd = 0;
    for (int64_t d = 0; t < nq && d < D; ++d)
      dd += do0[t * D + d] * o0[t * p->o_stride[2] + d];
    s->dd_t[hh * SKK_T + t] = dd;
    s->lse_t[hh * SKK_T + t] = t < nq ? lse[t] : (skk_real)1e30; /* pad rows: P = 0 */
  }
}

/* dP, dS, dm of one key block and query head from the logits (st) and dO.v (dpv):
 * pm = P m (weights for dv), dsg = dS gk (for dq, dk), dm accumulated on free keys.
 * ref: S11 */
static inline void skk_bwd_grads_block(const struct skk_bwd_scratch *s, int64_t nc,
                                       int gate_kv, const skk_real *lse_t, const skk_real *dd_t,
                                       skk_real *restrict pm, skk_real *restrict dsg,
                                       skk_real *restrict dm) {
  for (int64_t c = 0; c < nc; ++c) {
    const skk_real *gc = s->g + c * SKK_T, *ac = s->st + c * SKK_T, *vc = s->dpv + c * SKK_T;
#pragma omp simd
    for (int t = 0; t < SKK_T; ++t) {
      const skk_real gg = gc[t], a = ac[t], dov = vc[t];
      const skk_real gk = gate_kv ? gg : (skk_real)1;
      const skk_real e = SKK_EXP_NEG(gk * a - lse_t[t]);
      const skk_real pr = gg >= 0 ? e : (skk_real)0;
      const skk_real ds = pr * (gg * dov - dd_t[t]);
      const skk_real dmv = (gate_kv ? ds * a : (skk_real)0) + pr * dov;
      pm[c * SKK_T + t] = pr * gg;
      dsg[c * SKK_T + t] = ds * gk;
      dm[c * SKK_T + t] += (gg > 0 && gg < 1) ? dmv : (skk_real)0;
    }
  }
}

/* du[j] += sum over the tile's queries of dm (selected free pairs) and cq[i] += the same
 * per query. ref: S11 (first term of du, numerator of c_i) */
static inline void skk_bwd_du_block(const struct skk_bwd_scratch *s, int64_t c0, int64_t nc,
                                    int64_t i0, int64_t nq, skk_real *du, double *cq) {
  for (int64_t c = 0; c < nc && c0 + c < s->un.nreal; ++c) {
    skk_real acc = 0;
    for (int t = 0; t < SKK_T; ++t)
      acc += s->dm[c * SKK_T + t];
    du[s->un.pos[c0 + c]] += acc;
  }
  for (int64_t t = 0; t < nq; ++t) {
    double acc = 0;
    for (int64_t c = 0; c < nc; ++c)
      acc += (double)s->dm[c * SKK_T + t];
    cq[i0 + t] += acc;
  }
}

/* One query tile [i0, i0 + T) of kv head (b, h), union in s->un. */
static inline void skk_bwd_tile(const struct skrt_attn_params *p,
                                const struct skrt_attn_grads *gr, int64_t b, int64_t h,
                                int64_t i0, const skk_real *tau, skk_real *du,
                                struct skk_bwd_scratch *s) {
  const int64_t g = p->Hq / p->Hkv, D = SKK_DIM(p->D), N = p->N, DT = D * SKK_T;
  const int64_t nq = skk_min64(SKK_T, N - i0);
  const int gate_kv = p->gate == SKRT_GATE_KV;
  for (int64_t t = 0; t < SKK_T; ++t)
    s->tau_t[t] = tau[skk_min64(i0 + t, N - 1)];
  for (int64_t hh = 0; hh < g; ++hh)
    skk_bwd_load(p, gr, b, h * g + hh, i0, nq, s, hh);
  for (int64_t c0 = 0; c0 < s->un.n; c0 += SKK_KB) {
    const int64_t nc = skk_min64(SKK_KB, s->un.n - c0);
    skk_gates(&s->un, c0, nc, s->tau_t, s->g);
    memset(s->dm, 0, (size_t)(nc * SKK_T) * sizeof(skk_real));
    for (int64_t hh = 0; hh < g; ++hh) {
      for (int64_t cg = 0; cg < nc; cg += SKK_KG) {
        skk_rows_dot_t(s->un.kp + c0 + cg, s->qt + hh * DT, D, s->st + cg * SKK_T);
        skk_rows_dot_t(s->un.vp + c0 + cg, s->dot + hh * DT, D, s->dpv + cg * SKK_T);
      }
      skk_bwd_grads_block(s, nc, gate_kv, s->lse_t + hh * SKK_T, s->dd_t + hh * SKK_T, s->pm,
                          s->dsg, s->dm);
      skk_rows_acc(s->pm, s->dor + hh * DT, nc, D, s->dvp + c0);  /* dv += P m dO */
      skk_rows_acc(s->dsg, s->qs + hh * DT, nc, D, s->dkp + c0);  /* dk += scale dS gk q */
      skk_acc_t(s->dsg, s->un.kp + c0, nc, D, s->dqt + hh * DT); /* dq += dS gk k */
    }
    skk_bwd_du_block(s, c0, nc, i0, nq, du, s->cq);
  }
  skk_real sc[SKK_T];
  for (int t = 0; t < SKK_T; ++t)
    sc[t] = (skk_real)p->scale;
  for (int64_t hh = 0; hh < g; ++hh) {
    skk_real *dq0 = (skk_real *)gr->dq + ((b * p->Hq + h * g + hh) * N + i0) * D;
    skk_store_rows_t(s->dqt + hh * DT, sc, nq, D, s->st, dq0, D); /* st: >= T x D, free */
  }
}

/* du[j] -= sum of c_i = cq_i / |F_i| over the queries i where key j is free (one interval
 * [fs, fe), by binary search on the non-decreasing tau). ref: S11 (second term of du) */
static inline void skk_bwd_du_free(const struct skrt_attn_params *p, const skk_real *u,
                                   const skk_real *tau, const int32_t *nfree, skk_real *du,
                                   struct skk_bwd_scratch *s) {
  const int64_t N = p->N;
  s->cs[0] = 0;
  for (int64_t i = 0; i < N; ++i)
    s->cs[i + 1] = s->cs[i] + (nfree[i] > 0 ? s->cq[i] / (double)nfree[i] : 0.0);
  for (int64_t j = 0; j + p->window < N; ++j) {
    int64_t fs, fe;
    skk_free_interval(tau, u, N, p->window, j, &fs, &fe);
    du[j] -= (skk_real)(s->cs[fe] - s->cs[fs]);
  }
}

/* Points the union's dk/dv row pointers at head (b, h)'s gradient rows (padding: sink). */
static inline void skk_bwd_rows(struct skk_bwd_scratch *s, skk_real *dkb, skk_real *dvb,
                                int64_t D) {
  for (int64_t c = 0; c < s->un.n; ++c) {
    const int real = c < s->un.nreal;
    s->dkp[c] = real ? dkb + s->un.pos[c] * D : s->sink;
    s->dvp[c] = real ? dvb + s->un.pos[c] * D : s->sink;
  }
}

/* The whole backward of kv head (b, h): clear its rows, all tiles in order, then du. */
static inline void skk_bwd_head(const struct skrt_attn_params *p,
                                const struct skrt_attn_grads *gr, int64_t b, int64_t h,
                                struct skk_bwd_scratch *s) {
  const int64_t r = b * p->Hkv + h, N = p->N, D = SKK_DIM(p->D), w = p->window;
  const skk_real *u = (const skk_real *)p->u + r * N;
  const skk_real *tau = (const skk_real *)p->tau + r * N;
  skk_real *dkb = (skk_real *)gr->dk + r * N * D, *dvb = (skk_real *)gr->dv + r * N * D;
  skk_real *du = (skk_real *)gr->du + r * N;
  memset(dkb, 0, (size_t)(N * D) * sizeof(skk_real));
  memset(dvb, 0, (size_t)(N * D) * sizeof(skk_real));
  memset(du, 0, (size_t)N * sizeof(skk_real));
  memset(s->cq, 0, (size_t)N * sizeof(double));
  skk_sweep_run(&s->sw, u, N, p->topk, w, NULL, s->sel_end);
  const skk_real *kb = skk_row(p->k, p->k_stride, b, h, 0);
  const skk_real *vb = skk_row(p->v, p->v_stride, b, h, 0);
  skk_union_start(&s->un, s->sel_end, w, 0);
  for (int64_t i0 = 0; i0 < N; i0 += SKK_T) {
    if (i0 > 0)
      skk_union_advance(&s->un, s->sel_end, w, i0 - SKK_T, i0);
    skk_union_build(&s->un, kb, vb, p->k_stride[2], p->v_stride[2], u, s->sel_end, N, w, i0,
                    s->zero);
    skk_bwd_rows(s, dkb, dvb, D);
    skk_bwd_tile(p, gr, b, h, i0, tau, du, s);
  }
  skk_bwd_du_free(p, u, tau, p->nfree + r * N, du, s);
}

static inline int skk_bwd_check(const struct skrt_attn_params *p,
                                const struct skrt_attn_grads *gr) {
  int st = skk_check_params(p);
  if (st != SKRT_OK)
    return st;
  if (!p->lse || !p->tau || !p->nfree)
    return skrt_error(SKRT_ERR_NULL, "attention backward: saved state %s is NULL (run the "
                      "forward with lse, tau and nfree set)",
                      !p->lse ? "lse" : !p->tau ? "tau" : "nfree");
  if (!gr)
    return skrt_error(SKRT_ERR_NULL, "attention backward: grads is NULL");
  if (!gr->dout || !gr->dq || !gr->dk || !gr->dv || !gr->du)
    return skrt_error(SKRT_ERR_NULL, "attention backward: gradient pointer %s is NULL",
                      !gr->dout ? "dout" : !gr->dq ? "dq" : !gr->dk ? "dk" : !gr->dv ? "dv"
                                                                                    : "du");
  return SKRT_OK;
}

/* The entry: checks, then one task per (b, kv head). ref: S11 */
static inline int skk_attention_backward(const struct skrt_attn_params *p,
                                         const struct skrt_attn_grads *gr,
                                         struct skrt_context *ctx) {
  int st = skk_bwd_check(p, gr);
  if (st != SKRT_OK)
    return st;
  const int64_t heads = p->B * p->Hkv;
  int failed = 0;
#pragma omp parallel num_threads(skrt_context_num_threads(ctx))
  {
    struct skk_bwd_scratch s;
    int ok = skk_bwd_scratch_create(&s, p) == SKRT_OK;
    if (!ok) {
#pragma omp atomic write
      failed = 1;
    }
#pragma omp barrier
    int stop;
#pragma omp atomic read
    stop = failed;
#pragma omp for schedule(dynamic, 1)
    for (int64_t r = 0; r < heads; ++r)
      if (!stop)
        skk_bwd_head(p, gr, r / p->Hkv, r % p->Hkv, &s);
    if (ok)
      skk_bwd_scratch_destroy(&s);
  }
  return failed ? skrt_error(SKRT_ERR_NOMEM, "attention backward: out of memory for scratch")
                : SKRT_OK;
}

#endif
