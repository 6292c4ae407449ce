/* skrt reference scoring network (S5) and its gradients (S11 tail), in double:
 *   u[b,h,j] = x_j . w_score[h] + b_score[h] + slope * j
 * where x_j is the hidden state x[b,j,:] (mode hidden, width F), the key k[b,h,j,:]
 * (mode keys, width D), or absent (mode input: u = u_in + slope * j). */
#include "skrt/base.h"
#include "skrt/sparsek.h"

#include <stdlib.h>
#include <string.h>

/* The feature row x_j of (b, h, j) and its width, per score mode (NULL for input). */
static const double *skrt_ref_feature(const struct skrt_ref_shape *s, int mode,
                                      const double *x, const double *k, int64_t b, int64_t h,
                                      int64_t j) {
  if (mode == SKRT_SCORE_HIDDEN)
    return x + (b * s->N + j) * s->F;
  if (mode == SKRT_SCORE_KEYS)
    return k + ((b * s->Hkv + h) * s->N + j) * s->D;
  return NULL;
}

static int64_t skrt_ref_width(const struct skrt_ref_shape *s, int mode) {
  return mode == SKRT_SCORE_HIDDEN ? s->F : s->D;
}

/* Shared checks; ptrs[t] are the pointers the mode requires, named by the NULL-terminated
 * list names. */
static int skrt_ref_scores_check(const char *fn, const struct skrt_ref_shape *s,
                                 const struct skrt_ref_config *c, const void *const *ptrs,
                                 const char *const *names) {
  if (!s || !c)
    return skrt_error(SKRT_ERR_NULL, "%s: %s is NULL", fn, !s ? "shape" : "config");
  if (c->score_mode < SKRT_SCORE_HIDDEN || c->score_mode > SKRT_SCORE_INPUT)
    return skrt_error(SKRT_ERR_ARG, "%s: score_mode must be 0 (hidden), 1 (keys) or 2 (input), "
                      "got %d", fn, c->score_mode);
  if (s->B < 1 || s->Hkv < 1 || s->N < 1 || s->D < 1 ||
      (c->score_mode == SKRT_SCORE_HIDDEN && s->F < 1))
    return skrt_error(SKRT_ERR_SHAPE, "%s: B, Hkv, N, D (and F for mode hidden) must be >= 1, "
                      "got %lld, %lld, %lld, %lld, %lld", fn, (long long)s->B,
                      (long long)s->Hkv, (long long)s->N, (long long)s->D, (long long)s->F);
  for (int t = 0; names[t]; t++)
    if (!ptrs[t])
      return skrt_error(SKRT_ERR_NULL, "%s: %s is NULL (score mode %s)", fn, names[t],
                        c->score_mode == SKRT_SCORE_HIDDEN ? "hidden"
                        : c->score_mode == SKRT_SCORE_KEYS ? "keys"
                                                           : "input");
  return SKRT_OK;
}

int skrt_ref_scores(const struct skrt_ref_shape *s, const struct skrt_ref_config *c,
                    const double *x, const double *k, const double *w_score,
                    const double *b_score, const double *u_in, double *u) {
  static const char *fn = "skrt_ref_scores";
  int mode = c ? c->score_mode : 0;
  const void *net[] = {mode == SKRT_SCORE_HIDDEN ? x : k, w_score, b_score, u};
  const void *inp[] = {u_in, u};
  static const char *const net_names[] = {"x or k", "w_score", "b_score", "u", NULL};
  static const char *const inp_names[] = {"u_in", "u", NULL};
  int st = skrt_ref_scores_check(fn, s, c, mode == SKRT_SCORE_INPUT ? inp : net,
                                 mode == SKRT_SCORE_INPUT ? inp_names : net_names);
  if (st)
    return st;
  int64_t width = skrt_ref_width(s, mode);
  for (int64_t b = 0; b < s->B; b++)
    for (int64_t h = 0; h < s->Hkv; h++)
      for (int64_t j = 0; j < s->N; j++) { // ref: S5
        int64_t at = (b * s->Hkv + h) * s->N + j;
        const double *xj = skrt_ref_feature(s, mode, x, k, b, h, j);
        double acc = xj ? b_score[h] : u_in[at];
        for (int64_t f = 0; xj && f < width; f++)
          acc += xj[f] * w_score[h * width + f];
        u[at] = acc + c->slope * (double)j;
      }
  return SKRT_OK;
}

/* Zeroes the optional outputs of the score backward. */
static void skrt_ref_scores_zero(const struct skrt_ref_shape *s, int mode, double *dx,
                                 double *dw_score, double *db_score, double *dslope) {
  int64_t width = skrt_ref_width(s, mode);
  if (dx && mode == SKRT_SCORE_HIDDEN)
    memset(dx, 0, (size_t)(s->B * s->N * s->F) * sizeof(double));
  if (dw_score && mode != SKRT_SCORE_INPUT)
    memset(dw_score, 0, (size_t)(s->Hkv * width) * sizeof(double));
  if (db_score && mode != SKRT_SCORE_INPUT)
    memset(db_score, 0, (size_t)s->Hkv * sizeof(double));
  if (dslope)
    *dslope = 0.0;
}

int skrt_ref_scores_backward(const struct skrt_ref_shape *s, const struct skrt_ref_config *c,
                             const double *x, const double *k, const double *w_score,
                             const double *du, double *dx, double *dk, double *dw_score,
                             double *db_score, double *dslope) {
  static const char *fn = "skrt_ref_scores_backward";
  int mode = c ? c->score_mode : 0;
  const void *net[] = {du, mode == SKRT_SCORE_HIDDEN ? x : k, w_score};
  static const char *const net_names[] = {"du", "x or k", "w_score", NULL};
  static const char *const inp_names[] = {"du", NULL};
  int st = skrt_ref_scores_check(fn, s, c, net, mode == SKRT_SCORE_INPUT ? inp_names : net_names);
  if (st)
    return st;
  skrt_ref_scores_zero(s, mode, dx, dw_score, db_score, dslope);
  int64_t width = skrt_ref_width(s, mode);
  double *dfeat = mode == SKRT_SCORE_HIDDEN ? dx : dk;
  for (int64_t b = 0; b < s->B; b++)
    for (int64_t h = 0; h < s->Hkv; h++)
      for (int64_t j = 0; j < s->N; j++) { // ref: S11 scoring network
        double g = du[(b * s->Hkv + h) * s->N + j];
        const double *xj = skrt_ref_feature(s, mode, x, k, b, h, j);
        if (dslope)
          *dslope += g * (double)j;
        if (!xj)
          continue;
        if (db_score)
          db_score[h] += g;
        /* the gradient row sits at x_j's offset within its own tensor */
        double *dxj = dfeat ? dfeat + (xj - (mode == SKRT_SCORE_HIDDEN ? x : k)) : NULL;
        for (int64_t f = 0; f < width; f++) {
          if (dw_score)
            dw_score[h * width + f] += g * xj[f];
          if (dxj)
            dxj[f] += g * w_score[h * width + f];
        }
      }
  return SKRT_OK;
}
