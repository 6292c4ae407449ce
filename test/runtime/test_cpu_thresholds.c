/* The kernels' prefix sweep (runtime/kernels/cpu_thresholds.h, float instance) against the
 * runtime's skrt_prefix_thresholds (sparsek.h) on random score sequences, with and without
 * ties, for k in {1, 3, 10, >= n} and w in {0, 2, 7, >= n}: the selection intervals sel_end
 * must be identical; tau must agree to 1e-6 (absolute over scores of size ~3) where the
 * query has free keys (tau is unique only there); |F_i| must agree where there are no exact
 * ties (with ties a gate can sit exactly on 0 or 1). Also the free intervals against a
 * direct count of 0 < u_j - tau_i < 1. */
#define SKK_REAL float
#include "kernels/cpu_thresholds.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

static uint64_t rng = 0x2545F4914F6CDD1Dull;

static float frand(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (float)((double)(rng >> 11) / 4503599627370496.0 - 1.0);
}

/* One sequence: our sweep vs skrt_prefix_thresholds. */
static void check_one(int64_t n, int64_t k, int64_t w, int ties) {
  float *u = malloc((size_t)n * 4), *tau = malloc((size_t)n * 4), *rtau = malloc((size_t)n * 4);
  int32_t *sel = malloc((size_t)n * 4), *rsel = malloc((size_t)n * 4);
  int32_t *nf = malloc((size_t)n * 4), *rnf = malloc((size_t)n * 4);
  int32_t *diff = malloc((size_t)(n + 1) * 4);
  for (int64_t j = 0; j < n; ++j)
    u[j] = ties ? 0.5f * (float)(int)(4.0f * frand()) : 3.0f * frand();
  struct skk_sweep sw;
  assert_int_equal(skk_sweep_create(&sw, n, k), SKRT_OK);
  skk_sweep_run(&sw, u, n, k, w, tau, sel);
  skk_free_counts(tau, u, n, w, diff, nf);
  assert_int_equal(skrt_prefix_thresholds(u, n, k, w, rtau, rnf, rsel), SKRT_OK);
  for (int64_t i = 0; i < n; ++i) {
    assert_int_equal(sel[i], rsel[i]);
    if (!ties)
      assert_int_equal(nf[i], rnf[i]);
    if (nf[i] > 0 && rnf[i] > 0)
      assert_true(fabsf(tau[i] - rtau[i]) <= 1e-6f);
    if (rnf[i] == 0 && i - w + 1 <= k) /* |C_i| <= k: tau = -inf for both */
      assert_true(isinf(tau[i]) && isinf(rtau[i]));
    int32_t direct = 0; /* |F_i| by its definition, with our tau */
    for (int64_t j = 0; j <= i - w; ++j)
      direct += (u[j] - tau[i] > 0) && (u[j] - tau[i] < 1);
    assert_int_equal(nf[i], direct);
  }
  skk_sweep_destroy(&sw);
  free(u), free(tau), free(rtau), free(sel), free(rsel), free(nf), free(rnf), free(diff);
}

static void test_sweep_vs_runtime(void **state) {
  (void)state;
  const int64_t ns[] = {1, 5, 37, 300}, ks[] = {1, 3, 10, 400}, ws[] = {0, 2, 7, 500};
  for (int a = 0; a < 4; ++a)
    for (int b = 0; b < 4; ++b)
      for (int c = 0; c < 4; ++c)
        for (int ties = 0; ties < 2; ++ties)
          check_one(ns[a], ks[b], ws[c], ties);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_sweep_vs_runtime)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
