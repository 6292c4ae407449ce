/* Fused CPU SparseK attention forward (S6-S10). Per (b, kv head): one sweep computes the
 * thresholds tau_i and the selection intervals (kernels/cpu_thresholds.h). Then per
 * (b, kv head, chunk of query tiles), in parallel: for each tile of T queries, all g = Hq/Hkv
 * query heads of the group together (they share u, tau, S and the gates), the tile's key
 * union is listed once (kernels/cpu_tile.h), and every block of SKK_KB union keys goes
 * through logits (register-blocked loops), gates, an online softmax and the P.m.V product,
 * all accumulated in the real type (fp32 for float). Saves lse, tau, |F| when asked.
 *
 * Generated code defines SKK_REAL / SKK_HEAD_DIM / SKK_TILE_Q, includes this header and
 * calls skk_attention_forward(p, ctx); see kernels/README.md. */
#ifndef SKK_CPU_ATTENTION_FWD_H
#define SKK_CPU_ATTENTION_FWD_H

#include "kernels/cpu_common.h"
#include "kernels/cpu_thresholds.h"
#include "kernels/cpu_tile.h"

/* Per-thread scratch of the forward. */
struct skk_fwd_scratch {
  skk_real *qt, *ot, *m, *l; /* per query head of the group: [D][T], [D][T], [T], [T] */
  skk_real *st, *pt, *g;     /* per key block: [KB][T] */
  skk_real *tau_t, *zero;    /* [T], [D] */
  skk_real *rows;            /* [T][D] staging for transposes */
  int32_t *diff;             /* [N + 1] */
  struct skk_union un;
  struct skk_sweep sw;
};

static inline void skk_fwd_scratch_destroy(struct skk_fwd_scratch *s) {
  free(s->qt);
  free(s->ot);
  free(s->m);
  free(s->l);
  free(s->st);
  free(s->pt);
  free(s->g);
  free(s->tau_t);
  free(s->zero);
  free(s->rows);
  free(s->diff);
  skk_union_destroy(&s->un);
  skk_sweep_destroy(&s->sw);
}

static inline int skk_fwd_scratch_create(struct skk_fwd_scratch *s,
                                         const struct skrt_attn_params *p) {
  const int64_t g = p->Hq / p->Hkv, D = SKK_DIM(p->D), T = SKK_T;
  memset(s, 0, sizeof(*s));
  s->qt = (skk_real *)malloc((size_t)(g * D * T) * sizeof(skk_real));
  s->ot = (skk_real *)malloc((size_t)(g * D * T) * sizeof(skk_real));
  s->m = (skk_real *)malloc((size_t)(g * T) * sizeof(skk_real));
  s->l = (skk_real *)malloc((size_t)(g * T) * sizeof(skk_real));
  s->st = (skk_real *)malloc((size_t)(SKK_KB * T) * sizeof(skk_real));
  s->pt = (skk_real *)malloc((size_t)(SKK_KB * T) * sizeof(skk_real));
  s->g = (skk_real *)malloc((size_t)(SKK_KB * T) * sizeof(skk_real));
  s->tau_t = (skk_real *)malloc((size_t)T * sizeof(skk_real));
  s->zero = (skk_real *)calloc((size_t)D, sizeof(skk_real));
  s->rows = (skk_real *)malloc((size_t)(T * D) * sizeof(skk_real));
  s->diff = (int32_t *)malloc((size_t)(p->N + 1) * sizeof(int32_t));
  int st = skk_union_create(&s->un, p->N, p->topk, p->window);
  if (st == SKRT_OK)
    st = skk_sweep_create(&s->sw, p->N, p->topk);
  if (st == SKRT_OK && !(s->qt && s->ot && s->m && s->l && s->st && s->pt && s->g &&
                         s->tau_t && s->zero && s->rows && s->diff))
    st = SKRT_ERR_NOMEM;
  if (st != SKRT_OK)
    skk_fwd_scratch_destroy(s);
  return st;
}

/* Online softmax over one key block of one query head (S9, S10): turns logits a (st) into
 * s (gate kv: m * a), updates the running max m and sum l, rescales the output accumulator
 * and leaves P * m (the weights of V) in pt. Excluded pairs (g < 0) weigh 0. */
static inline void skk_softmax_block(skk_real *st, const skk_real *g, int64_t nc, int gate_kv,
                                     skk_real *mrow, skk_real *lrow, skk_real *ot, int64_t D,
                                     skk_real *restrict pt) {
  skk_real bm[SKK_T], alpha[SKK_T], sum[SKK_T];
  for (int t = 0; t < SKK_T; ++t) {
    bm[t] = mrow[t];
    sum[t] = 0;
  }
  for (int64_t c = 0; c < nc; ++c) {
#pragma omp simd
    for (int t = 0; t < SKK_T; ++t) {
      const skk_real gg = g[c * SKK_T + t];
      const skk_real gk = gate_kv ? gg : (skk_real)1; /* ref: S9 */
      const skk_real s = gg >= 0 ? gk * st[c * SKK_T + t] : SKK_NEG_BIG;
      st[c * SKK_T + t] = s;
      bm[t] = s > bm[t] ? s : bm[t];
    }
  }
  int rescale = 0;
#pragma omp simd reduction(| : rescale)
  for (int t = 0; t < SKK_T; ++t) {
    alpha[t] = SKK_EXP_NEG(mrow[t] - bm[t]);
    rescale |= bm[t] != mrow[t];
    mrow[t] = bm[t];
  }
  for (int64_t c = 0; c < nc; ++c) {
#pragma omp simd
    for (int t = 0; t < SKK_T; ++t) {
      const skk_real gg = g[c * SKK_T + t];
      const skk_real e = SKK_EXP_NEG(st[c * SKK_T + t] - bm[t]);
      const skk_real pe = gg >= 0 ? e : (skk_real)0;
      sum[t] += pe;
      pt[c * SKK_T + t] = gg >= 0 ? pe * gg : (skk_real)0; /* ref: S10 (P m) */
    }
  }
#pragma omp simd
  for (int t = 0; t < SKK_T; ++t)
    lrow[t] = lrow[t] * alpha[t] + sum[t];
  if (!rescale)
    return; /* the running max did not move: alpha = 1 */
  for (int64_t d = 0; d < D; ++d)
#pragma omp simd
    for (int t = 0; t < SKK_T; ++t)
      ot[d * SKK_T + t] *= alpha[t];
}

/* Writes o = acc / l and lse = m + log l for the tile's nq queries of query head qh. */
static inline void skk_fwd_store(const struct skrt_attn_params *p, int64_t b, int64_t qh,
                                 int64_t i0, int64_t nq, struct skk_fwd_scratch *s,
                                 int64_t hh) {
  const int64_t D = SKK_DIM(p->D);
  const skk_real *ot = s->ot + hh * D * SKK_T, *m = s->m + hh * SKK_T, *l = s->l + hh * SKK_T;
  skk_real *o0 = (skk_real *)p->o + b * p->o_stride[0] + qh * p->o_stride[1] +
                 i0 * p->o_stride[2];
  skk_real inv[SKK_T];
  for (int64_t t = 0; t < SKK_T; ++t)
    inv[t] = (skk_real)1 / l[t];
  skk_store_rows_t(ot, inv, nq, D, s->rows, o0, p->o_stride[2]);
  if (p->lse) {
    skk_real *lse = (skk_real *)p->lse + (b * p->Hq + qh) * p->N + i0;
    for (int64_t t = 0; t < nq; ++t)
      lse[t] = m[t] + log(l[t]);
  }
}

/* One query tile [i0, i0 + T) of kv head (b, h), its union already built in s->un. */
static inline void skk_fwd_tile(const struct skrt_attn_params *p, int64_t b, int64_t h,
                                int64_t i0, const skk_real *tau, struct skk_fwd_scratch *s) {
  const int64_t g = p->Hq / p->Hkv, D = SKK_DIM(p->D), N = p->N;
  const int64_t nq = skk_min64(SKK_T, N - i0);
  for (int64_t t = 0; t < SKK_T; ++t)
    s->tau_t[t] = tau[skk_min64(i0 + t, N - 1)];
  for (int64_t hh = 0; hh < g; ++hh) {
    skk_load_rows_t(skk_row(p->q, p->q_stride, b, h * g + hh, i0), p->q_stride[2], nq, D,
                    (skk_real)p->scale, s->rows, s->qt + hh * D * SKK_T);
    memset(s->ot + hh * D * SKK_T, 0, (size_t)(D * SKK_T) * sizeof(skk_real));
    for (int t = 0; t < SKK_T; ++t) {
      s->m[hh * SKK_T + t] = SKK_NEG_BIG;
      s->l[hh * SKK_T + t] = 0;
    }
  }
  for (int64_t c0 = 0; c0 < s->un.n; c0 += SKK_KB) {
    const int64_t nc = skk_min64(SKK_KB, s->un.n - c0);
    skk_gates(&s->un, c0, nc, s->tau_t, s->g);
    for (int64_t hh = 0; hh < g; ++hh) {
      skk_real *ot = s->ot + hh * D * SKK_T;
      for (int64_t cg = 0; cg < nc; cg += SKK_KG) /* ref: S9 a = scale q.k */
        skk_rows_dot_t(s->un.kp + c0 + cg, s->qt + hh * D * SKK_T, D, s->st + cg * SKK_T);
      skk_softmax_block(s->st, s->g, nc, p->gate == SKRT_GATE_KV, s->m + hh * SKK_T,
                        s->l + hh * SKK_T, ot, D, s->pt);
      skk_acc_t(s->pt, s->un.vp + c0, nc, D, ot); /* ref: S10 o = sum P m v */
    }
  }
  for (int64_t hh = 0; hh < g; ++hh)
    skk_fwd_store(p, b, h * g + hh, i0, nq, s, hh);
}

/* Tiles [t0, t1) of kv head (b, h), in order, keeping S_{i0} incrementally. */
static inline void skk_fwd_chunk(const struct skrt_attn_params *p, int64_t b, int64_t h,
                                 int64_t t0, int64_t t1, const skk_real *tau,
                                 const int32_t *sel_end, struct skk_fwd_scratch *s) {
  const int64_t r = b * p->Hkv + h, w = p->window, N = p->N;
  const skk_real *u = (const skk_real *)p->u + r * N;
  const skk_real *kb = skk_row(p->k, p->k_stride, b, h, 0);
  const skk_real *vb = skk_row(p->v, p->v_stride, b, h, 0);
  skk_union_start(&s->un, sel_end, w, t0 * SKK_T);
  for (int64_t tile = t0; tile < t1; ++tile) {
    const int64_t i0 = tile * SKK_T;
    if (tile > t0)
      skk_union_advance(&s->un, sel_end, w, i0 - SKK_T, i0);
    skk_union_build(&s->un, kb, vb, p->k_stride[2], p->v_stride[2], u, sel_end, N, w, i0,
                    s->zero);
    skk_fwd_tile(p, b, h, i0, tau, s);
  }
}

/* Chunks of query tiles per kv head: enough tasks to balance the threads, each long enough
 * that the O(N) start of its selected set (skk_union_start) stays negligible. */
static inline int64_t skk_chunks_per_head(const struct skrt_attn_params *p, int nthreads) {
  const int64_t ntiles = (p->N + SKK_T - 1) / SKK_T, heads = p->B * p->Hkv;
  int64_t want = (4 * (int64_t)nthreads + heads - 1) / heads;
  want = skk_min64(want, (ntiles + 15) / 16);
  return skk_max64(1, want);
}

/* Phase 1 for sequence r: thresholds, selection intervals and (when asked) |F_i|. */
static inline void skk_fwd_sweep(const struct skrt_attn_params *p, int64_t r, skk_real *tau,
                                 int32_t *sel_end, struct skk_fwd_scratch *s) {
  const int64_t N = p->N;
  const skk_real *u = (const skk_real *)p->u + r * N;
  skk_sweep_run(&s->sw, u, N, p->topk, p->window, tau + r * N, sel_end + r * N);
  if (p->nfree)
    skk_free_counts(tau + r * N, u, N, p->window, s->diff, p->nfree + r * N);
}

/* Both phases on nthreads threads; tau/sel_end are (B*Hkv, N) buffers. */
static inline int skk_fwd_run(const struct skrt_attn_params *p, int nthreads, skk_real *tau,
                              int32_t *sel_end) {
  const int64_t heads = p->B * p->Hkv, ntiles = (p->N + SKK_T - 1) / SKK_T;
  const int64_t nch = skk_chunks_per_head(p, nthreads), per = (ntiles + nch - 1) / nch;
  int failed = 0;
#pragma omp parallel num_threads(nthreads)
  {
    struct skk_fwd_scratch s;
    int ok = skk_fwd_scratch_create(&s, p) == SKRT_OK;
    if (!ok) {
#pragma omp atomic write
      failed = 1;
    }
#pragma omp barrier
    int run;
#pragma omp atomic read
    run = failed;
    run = !run;
#pragma omp for schedule(dynamic, 1)
    for (int64_t r = 0; r < heads; ++r)
      if (run)
        skk_fwd_sweep(p, r, tau, sel_end, &s);
#pragma omp for schedule(dynamic, 1)
    for (int64_t task = 0; task < heads * nch; ++task) {
      const int64_t r = task / nch, c = task % nch;
      const int64_t t0 = c * per, t1 = skk_min64(ntiles, t0 + per);
      if (run && t0 < t1)
        skk_fwd_chunk(p, r / p->Hkv, r % p->Hkv, t0, t1, tau + r * p->N, sel_end + r * p->N,
                      &s);
    }
    if (ok)
      skk_fwd_scratch_destroy(&s);
  }
  return failed ? skrt_error(SKRT_ERR_NOMEM, "attention forward: out of memory for scratch")
                : SKRT_OK;
}

/* The entry: checks p, checks u is finite, runs the kernel. ref: S5-S10 */
static inline int skk_attention_forward(const struct skrt_attn_params *p,
                                        struct skrt_context *ctx) {
  int st = skk_check_params(p);
  if (st != SKRT_OK)
    return st;
  st = skk_check_scores((const skk_real *)p->u, p->B, p->Hkv, p->N);
  if (st != SKRT_OK)
    return st;
  const size_t n = (size_t)(p->B * p->Hkv * p->N);
  skk_real *tau = p->tau ? (skk_real *)p->tau : (skk_real *)malloc(n * sizeof(skk_real));
  int32_t *sel_end = (int32_t *)malloc(n * sizeof(int32_t));
  if (!tau || !sel_end)
    st = skrt_error(SKRT_ERR_NOMEM, "attention forward: out of memory (%zu scores)", n);
  else
    st = skk_fwd_run(p, skrt_context_num_threads(ctx), tau, sel_end);
  if (!p->tau)
    free(tau);
  free(sel_end);
  return st;
}

#endif
