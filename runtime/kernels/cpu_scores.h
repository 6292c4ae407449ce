/* CPU kernels of the SparseK scoring network (S5) and its gradients (S11 tail):
 *   u[b,h,j] = x_j . w_score[h] + b_score[h] + slope * j
 * with x_j the hidden state x[b,j,:] (mode hidden), the key k[b,h,j,:] (mode keys), or no
 * network at all (mode input: u = u_in + slope * j), computed in the kernel's real type,
 * plus the finiteness check of u that reports the first bad (b, h, j). The backward writes
 * dw_score, db_score, dslope and dx (hidden: overwritten, (B,N,F)) or adds du * w_score to
 * dk (keys), summing over the batch in a fixed order (deterministic for any thread count).
 * Semantics match skrt_ref_scores / skrt_ref_scores_backward (sparsek.h). */
#ifndef SKK_CPU_SCORES_H
#define SKK_CPU_SCORES_H

#include "kernels/cpu_common.h"

/* One scoring network. x rows are addressed as x + b*x_stride[0] + h*x_stride[1] +
 * j*x_stride[2] with a contiguous feature axis: mode hidden passes x (B,N,F) with
 * x_stride[1] = 0, mode keys passes k (B,Hkv,N,D) with its strides and F = D. */
struct skk_score_params {
  int mode; /* enum skrt_score_mode */
  int64_t B, Hkv, N, F;
  const void *x;
  int64_t x_stride[3];
  const void *w_score; /* (Hkv, F) */
  const void *b_score; /* (Hkv) */
  const void *u_in;    /* (B, Hkv, N), mode input */
  double slope;
  void *u; /* (B, Hkv, N) result */
};

/* Gradients of the scoring network; any pointer may be NULL (not computed). */
struct skk_score_grads {
  const void *du;  /* (B, Hkv, N) */
  void *dx;        /* hidden: (B, N, F), overwritten; keys: dk (B, Hkv, N, D), added to */
  void *dw_score;  /* (Hkv, F), overwritten */
  void *db_score;  /* (Hkv), overwritten */
  double *dslope;  /* scalar, overwritten */
};

static inline int skk_scores_check(const struct skk_score_params *sp) {
  if (!sp || !sp->u)
    return skrt_error(SKRT_ERR_NULL, "scores: %s is NULL", !sp ? "params" : "u");
  if (sp->mode < SKRT_SCORE_HIDDEN || sp->mode > SKRT_SCORE_INPUT)
    return skrt_error(SKRT_ERR_ARG, "scores: mode must be 0 (hidden), 1 (keys) or 2 (input), "
                      "got %d", sp->mode);
  if (sp->B < 1 || sp->Hkv < 1 || sp->N < 1 || (sp->mode != SKRT_SCORE_INPUT && sp->F < 1))
    return skrt_error(SKRT_ERR_SHAPE, "scores: B, Hkv, N (and F) must be >= 1, got %lld, %lld, "
                      "%lld, %lld", (long long)sp->B, (long long)sp->Hkv, (long long)sp->N,
                      (long long)sp->F);
  if (sp->mode == SKRT_SCORE_INPUT && !sp->u_in)
    return skrt_error(SKRT_ERR_NULL, "scores: u_in is NULL (score mode input)");
  if (sp->mode != SKRT_SCORE_INPUT && (!sp->x || !sp->w_score || !sp->b_score))
    return skrt_error(SKRT_ERR_NULL, "scores: %s is NULL (score mode %s)",
                      !sp->x ? "x" : !sp->w_score ? "w_score" : "b_score",
                      sp->mode == SKRT_SCORE_HIDDEN ? "hidden" : "keys");
  if (!isfinite(sp->slope))
    return skrt_error(SKRT_ERR_NONFINITE, "scores: slope is %g", sp->slope);
  return SKRT_OK;
}

/* Feature row x_j of (b, h, j). */
static inline const skk_real *skk_score_row(const struct skk_score_params *sp, int64_t b,
                                            int64_t h, int64_t j) {
  return (const skk_real *)sp->x + b * sp->x_stride[0] + h * sp->x_stride[1] +
         j * sp->x_stride[2];
}

/* u of sequence r = (b, h), positions [j0, j1). ref: S5 */
static inline void skk_scores_rows(const struct skk_score_params *sp, int64_t r, int64_t j0,
                                   int64_t j1) {
  const int64_t b = r / sp->Hkv, h = r % sp->Hkv, F = sp->F;
  skk_real *u = (skk_real *)sp->u + r * sp->N;
  const skk_real slope = (skk_real)sp->slope;
  if (sp->mode == SKRT_SCORE_INPUT) {
    const skk_real *ui = (const skk_real *)sp->u_in + r * sp->N;
    for (int64_t j = j0; j < j1; ++j)
      u[j] = ui[j] + slope * (skk_real)j;
    return;
  }
  const skk_real *w = (const skk_real *)sp->w_score + h * F;
  const skk_real bias = ((const skk_real *)sp->b_score)[h];
  for (int64_t j = j0; j < j1; ++j) {
    const skk_real *x = skk_score_row(sp, b, h, j);
    skk_real acc = 0;
#pragma omp simd reduction(+ : acc)
    for (int64_t f = 0; f < F; ++f)
      acc += x[f] * w[f];
    u[j] = acc + bias + slope * (skk_real)j;
  }
}

/* Forward: u for every (b, h, j), then the finiteness check. */
static inline int skk_scores_forward(const struct skk_score_params *sp,
                                     struct skrt_context *ctx) {
  int st = skk_scores_check(sp);
  if (st != SKRT_OK)
    return st;
  const int64_t blk = 1024, nb = (sp->N + blk - 1) / blk, rows = sp->B * sp->Hkv;
#pragma omp parallel for schedule(static) num_threads(skrt_context_num_threads(ctx))
  for (int64_t task = 0; task < rows * nb; ++task) {
    const int64_t r = task / nb, j0 = (task % nb) * blk;
    skk_scores_rows(sp, r, j0, skk_min64(sp->N, j0 + blk));
  }
  return skk_check_scores((const skk_real *)sp->u, sp->B, sp->Hkv, sp->N);
}

/* dw_score[h] = sum_{b,j} du x_j and db_score[h] = sum du for one head h, in (b, j) order. */
static inline void skk_scores_dw(const struct skk_score_params *sp,
                                 const struct skk_score_grads *g, int64_t h) {
  const int64_t F = sp->F, N = sp->N;
  skk_real *dw = g->dw_score ? (skk_real *)g->dw_score + h * F : NULL;
  double db = 0;
  if (dw)
    memset(dw, 0, (size_t)F * sizeof(skk_real));
  for (int64_t b = 0; b < sp->B; ++b) {
    const skk_real *du = (const skk_real *)g->du + (b * sp->Hkv + h) * N;
    for (int64_t j = 0; j < N; ++j) {
      const skk_real gj = du[j];
      db += (double)gj;
      const skk_real *x = skk_score_row(sp, b, h, j);
      if (!dw)
        continue;
#pragma omp simd
      for (int64_t f = 0; f < F; ++f)
        dw[f] += gj * x[f];
    }
  }
  if (g->db_score)
    ((skk_real *)g->db_score)[h] = (skk_real)db;
}

/* dx of position (b, j): hidden sums du * w_score over the heads (overwrites); keys adds
 * du * w_score[h] to each head's dk row. ref: S11 (dx_j += du_j w_score[h]) */
static inline void skk_scores_dx(const struct skk_score_params *sp,
                                 const struct skk_score_grads *g, int64_t b, int64_t j) {
  const int64_t F = sp->F, N = sp->N, H = sp->Hkv;
  const skk_real *du = (const skk_real *)g->du;
  const skk_real *w = (const skk_real *)sp->w_score;
  if (sp->mode == SKRT_SCORE_HIDDEN) {
    skk_real *dx = (skk_real *)g->dx + (b * N + j) * F;
    memset(dx, 0, (size_t)F * sizeof(skk_real));
    for (int64_t h = 0; h < H; ++h) {
      const skk_real gj = du[(b * H + h) * N + j];
#pragma omp simd
      for (int64_t f = 0; f < F; ++f)
        dx[f] += gj * w[h * F + f];
    }
    return;
  }
  for (int64_t h = 0; h < H; ++h) {
    skk_real *dk = (skk_real *)g->dx + ((b * H + h) * N + j) * F;
    const skk_real gj = du[(b * H + h) * N + j];
#pragma omp simd
    for (int64_t f = 0; f < F; ++f)
      dk[f] += gj * w[h * F + f];
  }
}

/* Backward of the scoring network from du. ref: S11 (scoring network) */
static inline int skk_scores_backward(const struct skk_score_params *sp,
                                      const struct skk_score_grads *g,
                                      struct skrt_context *ctx) {
  int st = skk_scores_check(sp);
  if (st != SKRT_OK)
    return st;
  if (!g || !g->du)
    return skrt_error(SKRT_ERR_NULL, "scores backward: %s is NULL", !g ? "grads" : "du");
  if (g->dslope) {
    double s = 0;
    for (int64_t r = 0; r < sp->B * sp->Hkv; ++r)
      for (int64_t j = 0; j < sp->N; ++j)
        s += (double)((const skk_real *)g->du)[r * sp->N + j] * (double)j;
    *g->dslope = s;
  }
  if (sp->mode == SKRT_SCORE_INPUT)
    return SKRT_OK;
  const int nt = skrt_context_num_threads(ctx);
  if (g->dw_score || g->db_score) {
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t h = 0; h < sp->Hkv; ++h)
      skk_scores_dw(sp, g, h);
  }
  if (g->dx) {
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t r = 0; r < sp->B * sp->N; ++r)
      skk_scores_dx(sp, g, r / sp->N, r % sp->N);
  }
  return SKRT_OK;
}

#endif
