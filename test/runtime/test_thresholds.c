/* Tests of skrt_prefix_thresholds against per-prefix recomputation: for every query i the
 * candidates C_i are rebuilt, sorted and solved from scratch with the operator's threshold
 * core (itself checked against bisection in test_sparsek_op), S_i is the top k of C_i by
 * (u desc, j desc), and the outputs must agree: tau to float rounding, |F_i| and the
 * selection intervals exactly. Plus edge cases and every bad input. */
#include "test_core_util.h"

#include <stdlib.h>
#include <string.h>

#include "skrt/base.h"
#include "skrt/sparsek.h"
#include "src/sparsek_internal.h"

struct cand {
  double u;
  int64_t j;
};

static int cand_cmp(const void *a, const void *b) { /* u desc, then j desc */
  const struct cand *x = a, *y = b;
  if (x->u != y->u)
    return x->u < y->u ? 1 : -1;
  return (x->j < y->j) - (x->j > y->j);
}

/* Per-query recomputation for query i; fills in_sel[j] (j in S_i). */
static void recompute(const float *u, int64_t i, int64_t k, int64_t w, double *tau,
                      int64_t *nfree, unsigned char *in_sel, struct cand *c, double *s) {
  int64_t m = i - w + 1 > 0 ? i - w + 1 : 0;
  for (int64_t j = 0; j < m; j++) {
    c[j] = (struct cand){u[j], j};
    s[j] = u[j];
  }
  skrt_sparsek_sort_desc(s, m);
  *tau = m > 0 ? skrt_sparsek_tau_sorted(s, m, (double)k) : -INFINITY;
  *nfree = 0;
  for (int64_t j = 0; j < m; j++)
    *nfree += skrt_sparsek_is_free(u[j], *tau);
  qsort(c, (size_t)m, sizeof(*c), cand_cmp);
  memset(in_sel, 0, (size_t)(i + 1));
  for (int64_t r = 0; r < m && r < k; r++)
    in_sel[c[r].j] = 1;
}

static void check_sequence(const float *u, int64_t n, int64_t k, int64_t w) {
  float *tau = malloc((size_t)n * sizeof(float));
  int32_t *nfree = malloc((size_t)n * sizeof(int32_t)), *sel_end = malloc((size_t)n * 4);
  struct cand *c = malloc((size_t)n * sizeof(*c));
  double *s = malloc((size_t)n * sizeof(double));
  unsigned char *in_sel = malloc((size_t)n);
  assert_int_equal(skrt_prefix_thresholds(u, n, k, w, tau, nfree, sel_end), SKRT_OK);
  for (int64_t i = 0; i < n; i++) {
    double tr;
    int64_t fr;
    recompute(u, i, k, w, &tr, &fr, in_sel, c, s);
    if (!((isinf(tr) && isinf(tau[i]) && tau[i] < 0) ||
          fabs((double)tau[i] - tr) <= 1e-6 * (1.0 + fabs(tr))))
      fail_msg("n=%lld k=%lld w=%lld i=%lld tau %.9g want %.9g", (long long)n, (long long)k,
               (long long)w, (long long)i, (double)tau[i], tr);
    if (nfree[i] != fr)
      fail_msg("n=%lld k=%lld w=%lld i=%lld nfree %d want %lld", (long long)n, (long long)k,
               (long long)w, (long long)i, nfree[i], (long long)fr);
    for (int64_t j = 0; j <= i; j++)
      if ((j + w <= i && i < sel_end[j]) != in_sel[j])
        fail_msg("n=%lld k=%lld w=%lld i=%lld j=%lld sel_end %d", (long long)n, (long long)k,
                 (long long)w, (long long)i, (long long)j, sel_end[j]);
  }
  for (int64_t j = 0; j < n; j++) /* documented range of sel_end */
    assert_true(sel_end[j] >= (j + w < n ? j + w : n) && sel_end[j] <= n);
  free(tau), free(nfree), free(sel_end), free(c), free(s), free(in_sel);
}

static void random_sequence(uint64_t *rng, int kind, float *u, int64_t n) {
  static const double spreads[] = {1e-6, 0.01, 0.3, 1.0, 3.0, 100.0, 1e4};
  double spread = spreads[tc_int(rng, 0, 6)], slope = tc_uniform(rng) * 0.05;
  for (int64_t j = 0; j < n; j++) {
    if (kind == 0)
      u[j] = (float)(spread * tc_normal(rng));
    else if (kind == 1) /* ties on a half-integer grid */
      u[j] = (float)(0.5 * (double)tc_int(rng, -3, 3));
    else if (kind == 2) /* growing with position (S5 slope) */
      u[j] = (float)(tc_normal(rng) + slope * (double)j);
    else if (kind == 3) /* integer ties: many flat (no free) prefixes */
      u[j] = (float)tc_int(rng, 0, 3) * 2.0f;
    else /* decreasing: every candidate arrives last */
      u[j] = (float)(-0.37 * (double)j);
  }
}

static void test_random_sequences(void **state) {
  (void)state;
  static const int64_t ks[] = {1, 3, 64}, ws[] = {0, 1, 7};
  uint64_t rng = 2024;
  float u[400];
  for (int c = 0; c < 600; c++) {
    int64_t n = tc_int(&rng, 1, c % 20 == 0 ? 400 : 90);
    random_sequence(&rng, (int)tc_int(&rng, 0, 4), u, n);
    check_sequence(u, n, ks[c % 3], ws[(c / 3) % 3]);
  }
}

static void test_long_sequence(void **state) {
  (void)state;
  uint64_t rng = 5;
  int64_t n = 1500;
  float *u = malloc((size_t)n * sizeof(float));
  random_sequence(&rng, 2, u, n);
  check_sequence(u, n, 64, 7);
  random_sequence(&rng, 1, u, n);
  check_sequence(u, n, 3, 1);
  free(u);
}

static void test_edges(void **state) {
  (void)state;
  const float one = 2.5f;
  float tau;
  int32_t nf, se;
  assert_int_equal(skrt_prefix_thresholds(&one, 1, 1, 0, &tau, &nf, &se), SKRT_OK); /* n=1 */
  assert_true(isinf(tau) && tau < 0 && nf == 0 && se == 1);
  float u[6] = {1, 2, 3, 4, 5, 6}, t6[6];
  int32_t n6[6], s6[6];
  assert_int_equal(skrt_prefix_thresholds(u, 6, 2, 6, t6, n6, s6), SKRT_OK); /* w >= n */
  for (int i = 0; i < 6; i++)
    assert_true(isinf(t6[i]) && n6[i] == 0 && s6[i] == 6);
  assert_int_equal(skrt_prefix_thresholds(u, 6, 2, 0, NULL, NULL, NULL), SKRT_OK);
  const float flat[4] = {5, 0, 0, 9}; /* k = 1, w = 0: gaps >= 1, tau = 2nd largest */
  int32_t sf[4];
  assert_int_equal(skrt_prefix_thresholds(flat, 4, 1, 0, t6, n6, sf), SKRT_OK);
  const float want_tau[4] = {-INFINITY, 0.0f, 0.0f, 5.0f};
  const int32_t want_end[4] = {3, 1, 2, 4};
  assert_memory_equal(t6, want_tau, sizeof(want_tau));
  assert_memory_equal(sf, want_end, sizeof(want_end));
  assert_true(n6[0] == 0 && n6[1] == 0 && n6[2] == 0 && n6[3] == 0);
}

static void expect_error(int st, int want, const char *msg) {
  assert_int_equal(st, want);
  assert_string_equal(skrt_last_error(), msg);
}

static void test_bad_inputs(void **state) {
  (void)state;
  float u[3] = {1, 2, 3}, tau[3];
  expect_error(skrt_prefix_thresholds(NULL, 3, 1, 0, tau, NULL, NULL), SKRT_ERR_NULL,
               "skrt_prefix_thresholds: u is NULL");
  expect_error(skrt_prefix_thresholds(u, 0, 1, 0, tau, NULL, NULL), SKRT_ERR_ARG,
               "skrt_prefix_thresholds: n must be in [1, 2147483647], got 0");
  expect_error(skrt_prefix_thresholds(u, 3, 0, 0, tau, NULL, NULL), SKRT_ERR_ARG,
               "skrt_prefix_thresholds: k must be >= 1, got 0");
  expect_error(skrt_prefix_thresholds(u, 3, 1, -1, tau, NULL, NULL), SKRT_ERR_ARG,
               "skrt_prefix_thresholds: w must be >= 0, got -1");
  u[2] = -INFINITY;
  expect_error(skrt_prefix_thresholds(u, 3, 1, 0, tau, NULL, NULL), SKRT_ERR_NONFINITE,
               "skrt_prefix_thresholds: u[2] is -inf");
  u[2] = NAN;
  expect_error(skrt_prefix_thresholds(u, 3, 1, 0, tau, NULL, NULL), SKRT_ERR_NONFINITE,
               "skrt_prefix_thresholds: u[2] is nan");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_sequences), cmocka_unit_test(test_long_sequence),
      cmocka_unit_test(test_edges),            cmocka_unit_test(test_bad_inputs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
