/* CPU scoring-network kernels (runtime/kernels/cpu_scores.h, S5 and the S11 tail) against
 * the double reference skrt_ref_scores / skrt_ref_scores_backward, for the three score
 * modes, with strided keys. Instantiated in double here (bound 1e-12) and in float by
 * test_cpu_scores_f32.c (bound 1e-5); error metric rel_err = max|a - b| / max|b|. Also the
 * non-finite check (status and the (b, h, j) in the message) and bad parameters. */
#ifndef SKK_REAL
#define SKK_REAL double
#define T_TOL 1e-12
#endif
#include "kernels/cpu_scores.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

enum { TB = 2, TH = 3, TN = 37, TD = 12, TF = 10, KROW = TD + 3 };

static uint64_t rng = 88172645463325252ull;

/* Uniform in [-1, 1), rounded to float (exact in both real types). */
static double urand(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (double)(float)((double)(rng >> 11) / 4503599627370496.0 - 1.0);
}

struct sdata {
  double x[TB * TN * TF], k[TB * TH * TN * TD], w[TH * TF], w_k[TH * TD], b[TH];
  double u_in[TB * TH * TN], du[TB * TH * TN];
  SKK_REAL xr[TB * TN * TF], kr[TB * TH * TN * KROW], wr[TH * TF], wkr[TH * TD], br[TH];
  SKK_REAL u_inr[TB * TH * TN], dur[TB * TH * TN];
};

static struct sdata S;

static void fill(double *d, SKK_REAL *r, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    d[i] = urand(), r[i] = (SKK_REAL)d[i];
}

static void setup_data(void) {
  fill(S.x, S.xr, TB * TN * TF);
  fill(S.w, S.wr, TH * TF);
  fill(S.w_k, S.wkr, TH * TD);
  fill(S.b, S.br, TH);
  fill(S.u_in, S.u_inr, TB * TH * TN);
  fill(S.du, S.dur, TB * TH * TN);
  for (int64_t r = 0; r < TB * TH * TN; ++r) /* keys rows padded to KROW (strided) */
    for (int64_t d = 0; d < TD; ++d) {
      S.k[r * TD + d] = urand();
      S.kr[r * KROW + d] = (SKK_REAL)S.k[r * TD + d];
    }
}

static double rel_err(const SKK_REAL *a, const double *b, int64_t n) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; ++i)
    num = fmax(num, fabs((double)a[i] - b[i])), den = fmax(den, fabs(b[i]));
  return den > 0 ? num / den : num;
}

static struct skk_score_params params(int mode, SKK_REAL *u) {
  struct skk_score_params sp;
  memset(&sp, 0, sizeof(sp));
  sp.mode = mode, sp.B = TB, sp.Hkv = TH, sp.N = TN, sp.slope = 0.125, sp.u = u;
  if (mode == SKRT_SCORE_HIDDEN) {
    sp.F = TF, sp.x = S.xr, sp.w_score = S.wr;
    sp.x_stride[0] = TN * TF, sp.x_stride[1] = 0, sp.x_stride[2] = TF;
  } else if (mode == SKRT_SCORE_KEYS) {
    sp.F = TD, sp.x = S.kr, sp.w_score = S.wkr;
    sp.x_stride[0] = TH * TN * KROW, sp.x_stride[1] = TN * KROW, sp.x_stride[2] = KROW;
  }
  sp.b_score = S.br, sp.u_in = S.u_inr;
  return sp;
}

static void run_mode(int mode) {
  struct skrt_ref_shape sh = {TB, TH, TH, TN, TD, TF};
  struct skrt_ref_config cf = {1, 0, SKRT_GATE_KV, mode, 1.0, 0.125};
  static double u[TB * TH * TN], dx[TB * TH * TN * TD], dw[TH * TD], db[TH];
  static SKK_REAL ku[TB * TH * TN], kdx[TB * TH * TN * TD], kdw[TH * TD], kdb[TH];
  const double *wref = mode == SKRT_SCORE_KEYS ? S.w_k : S.w;
  assert_int_equal(skrt_ref_scores(&sh, &cf, S.x, S.k, wref, S.b, S.u_in, u), 0);
  struct skk_score_params sp = params(mode, ku);
  assert_int_equal(skk_scores_forward(&sp, NULL), SKRT_OK);
  double e_u = rel_err(ku, u, TB * TH * TN);
  /* backward: keys mode adds to dk, so both start from the same nonzero dk */
  int64_t ndx = mode == SKRT_SCORE_HIDDEN ? TB * TN * TF : TB * TH * TN * TD;
  for (int64_t i = 0; i < ndx; ++i)
    dx[i] = mode == SKRT_SCORE_KEYS ? 0.5 : 0.0, kdx[i] = (SKK_REAL)dx[i];
  double dslope = 0, kdslope = 0;
  assert_int_equal(skrt_ref_scores_backward(&sh, &cf, S.x, S.k, wref, S.du,
                                            mode == SKRT_SCORE_HIDDEN ? dx : NULL,
                                            mode == SKRT_SCORE_KEYS ? dx : NULL, dw, db, &dslope),
                   0);
  struct skk_score_grads g = {S.dur, kdx, kdw, kdb, &kdslope};
  assert_int_equal(skk_scores_backward(&sp, &g, NULL), SKRT_OK);
  double e_s = fabs(kdslope - dslope) / fabs(dslope);
  printf("  mode %d: u %.2e dslope %.2e", mode, e_u, e_s);
  assert_true(e_u <= T_TOL && e_s <= T_TOL);
  if (mode != SKRT_SCORE_INPUT) {
    int64_t nw = mode == SKRT_SCORE_HIDDEN ? TH * TF : TH * TD;
    double e_x = rel_err(kdx, dx, ndx), e_w = rel_err(kdw, dw, nw), e_b = rel_err(kdb, db, TH);
    printf(" dx %.2e dw %.2e db %.2e", e_x, e_w, e_b);
    assert_true(e_x <= T_TOL && e_w <= T_TOL && e_b <= T_TOL);
  }
  printf("\n");
}

static void test_scores_hidden(void **state) {
  (void)state;
  run_mode(SKRT_SCORE_HIDDEN);
}

static void test_scores_keys(void **state) {
  (void)state;
  run_mode(SKRT_SCORE_KEYS);
}

static void test_scores_input(void **state) {
  (void)state;
  run_mode(SKRT_SCORE_INPUT);
}

static void test_scores_nonfinite_and_bad(void **state) {
  (void)state;
  static SKK_REAL ku[TB * TH * TN];
  struct skk_score_params sp = params(SKRT_SCORE_HIDDEN, ku);
  S.xr[(1 * TN + 4) * TF + 2] = (SKK_REAL)NAN; /* b = 1, j = 4: every head */
  assert_int_equal(skk_scores_forward(&sp, NULL), SKRT_ERR_NONFINITE);
  assert_string_equal(skrt_last_error(), "score u[b=1, h=0, j=4] is nan");
  S.xr[(1 * TN + 4) * TF + 2] = 0;
  sp = params(SKRT_SCORE_INPUT, ku);
  S.u_inr[(0 * TH + 2) * TN + 7] = (SKK_REAL)INFINITY;
  assert_int_equal(skk_scores_forward(&sp, NULL), SKRT_ERR_NONFINITE);
  assert_string_equal(skrt_last_error(), "score u[b=0, h=2, j=7] is inf");
  S.u_inr[(0 * TH + 2) * TN + 7] = 0;
  sp.mode = 7;
  assert_int_equal(skk_scores_forward(&sp, NULL), SKRT_ERR_ARG);
  sp = params(SKRT_SCORE_KEYS, ku);
  sp.w_score = NULL;
  assert_int_equal(skk_scores_forward(&sp, NULL), SKRT_ERR_NULL);
  assert_string_equal(skrt_last_error(), "scores: w_score is NULL (score mode keys)");
  sp = params(SKRT_SCORE_KEYS, ku);
  assert_int_equal(skk_scores_backward(&sp, NULL, NULL), SKRT_ERR_NULL);
}

int main(void) {
  setup_data();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scores_hidden),
      cmocka_unit_test(test_scores_keys),
      cmocka_unit_test(test_scores_input),
      cmocka_unit_test(test_scores_nonfinite_and_bad),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
