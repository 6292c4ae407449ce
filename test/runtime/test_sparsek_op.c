/* Tests of the SparseK operator (S1-S4): forward against brute-force bisection on random
 * cases, k = 1 against a textbook sparsemax, the VJP against central finite differences in
 * double, and every bad input (status and message). */
#include "test_core_util.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "skrt/base.h"
#include "skrt/sparsek.h"
#include "src/sparsek_internal.h"

#define MAXN 256

/* g(tau) = sum clip(z - tau, 0, 1) - k (S1), in double. */
static double brute_g(const float *z, int64_t n, double k, double tau) {
  double g = -k;
  for (int64_t i = 0; i < n; i++)
    g += fmin(fmax((double)z[i] - tau, 0.0), 1.0);
  return g;
}

/* Brute force: bisection on g over [min z - 1, max z], 300 halvings. */
static void brute_sparsek(const float *z, int64_t n, double k, double *p) {
  double lo = INFINITY, hi = -INFINITY;
  for (int64_t i = 0; i < n; i++) {
    lo = fmin(lo, (double)z[i] - 1.0);
    hi = fmax(hi, (double)z[i]);
  }
  for (int it = 0; it < 300 && k < (double)n; it++) {
    double mid = 0.5 * (lo + hi);
    if (brute_g(z, n, k, mid) > 0.0)
      lo = mid;
    else
      hi = mid;
  }
  for (int64_t i = 0; i < n; i++)
    p[i] = k >= (double)n ? 1.0 : fmin(fmax((double)z[i] - 0.5 * (lo + hi), 0.0), 1.0);
}

/* Scores of one random case; `kind` picks the distribution. */
static void random_scores(uint64_t *rng, int kind, float *z, int64_t n) {
  static const double spreads[] = {1e-6, 1e-3, 0.3, 1.0, 10.0, 1e3, 1e5};
  double spread = spreads[tc_int(rng, 0, 6)], shift = 100.0 * tc_normal(rng);
  for (int64_t i = 0; i < n; i++) {
    if (kind == 0)
      z[i] = (float)(shift + spread * tc_normal(rng));
    else if (kind == 1) /* ties on a half-integer grid */
      z[i] = (float)(0.5 * (double)tc_int(rng, -4, 4));
    else if (kind == 2) /* all equal */
      z[i] = 1.25f;
    else /* a few heavy ties plus noise */
      z[i] = (float)(tc_int(rng, 0, 2) + (tc_int(rng, 0, 3) == 0 ? 0.0 : 0.1 * tc_normal(rng)));
  }
}

static float random_k(uint64_t *rng, int64_t n) {
  switch (tc_int(rng, 0, 3)) {
  case 0:
    return (float)tc_int(rng, 1, n + 2); /* integer, sometimes >= n */
  case 1:
    return 1.0f;
  default:
    return (float)((double)(n + 1) * tc_uniform(rng) + 1e-3); /* fractional */
  }
}

static void check_case(const float *z, int64_t n, float k) {
  float p[MAXN], tau;
  double pref[MAXN], sum = 0.0;
  assert_int_equal(skrt_sparsek_forward(z, n, k, p, &tau), SKRT_OK);
  brute_sparsek(z, n, (double)k, pref);
  for (int64_t i = 0; i < n; i++) {
    if (fabs(p[i] - pref[i]) > 2e-6)
      fail_msg("n=%lld k=%g i=%lld p=%.9g brute=%.9g", (long long)n, (double)k,
               (long long)i, (double)p[i], pref[i]);
    sum += p[i];
  }
  double want = fmin((double)k, (double)n);
  if (fabs(sum - want) > 1e-5 * want)
    fail_msg("sum(p)=%.9g want %.9g (n=%lld)", sum, want, (long long)n);
  if ((double)k >= (double)n)
    assert_true(isinf(tau) && tau < 0);
}

static void test_forward_vs_bisection(void **state) {
  (void)state;
  uint64_t rng = 42;
  float z[MAXN];
  for (int c = 0; c < 12000; c++) {
    int64_t n = tc_int(&rng, 1, c % 10 == 0 ? 200 : 24);
    random_scores(&rng, (int)tc_int(&rng, 0, 3), z, n);
    check_case(z, n, random_k(&rng, n));
  }
}

/* Textbook sparsemax (Martins & Astudillo 2016): support size by the sorted criterion. */
static void sparsemax(const float *z, int64_t n, double *p) {
  double s[MAXN], cum = 0.0, tau = 0.0;
  for (int64_t i = 0; i < n; i++)
    s[i] = z[i];
  skrt_sparsek_sort_desc(s, n);
  for (int64_t r = 0; r < n; r++) {
    cum += s[r];
    if (1.0 + (double)(r + 1) * s[r] > cum)
      tau = (cum - 1.0) / (double)(r + 1);
  }
  for (int64_t i = 0; i < n; i++)
    p[i] = fmax((double)z[i] - tau, 0.0);
}

static void test_k1_is_sparsemax(void **state) {
  (void)state;
  uint64_t rng = 7;
  float z[MAXN], p[MAXN], tau;
  double ref[MAXN];
  for (int c = 0; c < 2000; c++) {
    int64_t n = tc_int(&rng, 2, 40);
    random_scores(&rng, (int)tc_int(&rng, 0, 3), z, n);
    assert_int_equal(skrt_sparsek_forward(z, n, 1.0f, p, &tau), SKRT_OK);
    sparsemax(z, n, ref);
    for (int64_t i = 0; i < n; i++)
      assert_true(fabs(p[i] - ref[i]) <= 2e-6);
  }
}

static void test_hand_cases(void **state) {
  (void)state;
  float p[10], tau;
  const float ten[10] = {2, 2, 2, 2, 2, 2, 2, 2, 2, 2}; /* support exceeds k: ten of 0.3 */
  assert_int_equal(skrt_sparsek_forward(ten, 10, 3.0f, p, &tau), SKRT_OK);
  for (int i = 0; i < 10; i++)
    assert_float_equal(p[i], 0.3f, 1e-7f);
  const float gap[5] = {9, 0, 5, 7.5f, 1}; /* gap >= 1: hard top-2 mask, smallest root */
  assert_int_equal(skrt_sparsek_forward(gap, 5, 2.0f, p, &tau), SKRT_OK);
  const float mask[5] = {1, 0, 0, 1, 0};
  assert_memory_equal(p, mask, sizeof(mask));
  assert_float_equal(tau, 5.0f, 0.0f);
  const float three[3] = {1, 2, 3}; /* k >= n */
  assert_int_equal(skrt_sparsek_forward(three, 3, 3.0f, p, &tau), SKRT_OK);
  assert_true(p[0] == 1.0f && p[1] == 1.0f && p[2] == 1.0f && isinf(tau) && tau < 0);
  const float one = -3.0f; /* n = 1, k < 1 */
  assert_int_equal(skrt_sparsek_forward(&one, 1, 0.25f, p, &tau), SKRT_OK);
  assert_float_equal(p[0], 0.25f, 0.0f);
  assert_float_equal(tau, -3.25f, 0.0f);
}

/* Double forward through the internal core, for finite differences. */
static double forward_double(const double *z, int64_t n, double k, double *p) {
  double s[MAXN];
  memcpy(s, z, (size_t)n * sizeof(double));
  skrt_sparsek_sort_desc(s, n);
  double tau = skrt_sparsek_tau_sorted(s, n, k);
  for (int64_t i = 0; i < n; i++)
    p[i] = fmin(fmax(z[i] - tau, 0.0), 1.0);
  return tau;
}

static double dot_forward(const double *z, int64_t n, double k, const double *dp) {
  double p[MAXN], f = 0.0;
  forward_double(z, n, k, p);
  for (int64_t i = 0; i < n; i++)
    f += dp[i] * p[i];
  return f;
}

/* Central differences of f(z) = dp . p(z) in double, h = 1e-6; cases where an entry sits
 * within 1e-3 of a breakpoint are skipped (the Jacobian jumps there). */
static int check_vjp_case(uint64_t *rng) {
  int64_t n = tc_int(rng, 2, 40);
  double k = 0.5 + (double)n * 0.8 * tc_uniform(rng), zd[MAXN], dp[MAXN], pd[MAXN];
  float z[MAXN], p[MAXN], dpf[MAXN], dz[MAXN], tau;
  for (int64_t i = 0; i < n; i++) {
    z[i] = (float)(2.0 * tc_normal(rng));
    zd[i] = z[i];
    dpf[i] = (float)tc_normal(rng);
    dp[i] = dpf[i];
  }
  double t = forward_double(zd, n, k, pd);
  for (int64_t i = 0; i < n; i++)
    if (fabs(zd[i] - t) < 1e-3 || fabs(zd[i] - t - 1.0) < 1e-3)
      return 0;
  assert_int_equal(skrt_sparsek_forward(z, n, (float)k, p, &tau), SKRT_OK);
  assert_int_equal(skrt_sparsek_backward(p, dpf, n, dz), SKRT_OK);
  for (int64_t i = 0; i < n; i++) {
    double save = zd[i], h = 1e-6;
    zd[i] = save + h;
    double fp = dot_forward(zd, n, k, dp);
    zd[i] = save - h;
    double fm = dot_forward(zd, n, k, dp);
    zd[i] = save;
    double fd = (fp - fm) / (2 * h);
    if (fabs(fd - dz[i]) > 1e-4 * (1.0 + fabs(fd)))
      fail_msg("vjp i=%lld analytic %.9g fd %.9g", (long long)i, (double)dz[i], fd);
  }
  return 1;
}

static void test_backward_vs_fd(void **state) {
  (void)state;
  uint64_t rng = 99;
  int done = 0;
  for (int c = 0; c < 3000 && done < 500; c++)
    done += check_vjp_case(&rng);
  assert_true(done >= 500);
}

static void test_backward_hand(void **state) {
  (void)state;
  const float p[4] = {1.0f, 0.5f, 0.25f, 0.0f}, dp[4] = {5.0f, 1.0f, 3.0f, 7.0f};
  float dz[4];
  assert_int_equal(skrt_sparsek_backward(p, dp, 4, dz), SKRT_OK);
  const float want[4] = {0.0f, -1.0f, 1.0f, 0.0f};
  assert_memory_equal(dz, want, sizeof(want));
  const float hard[2] = {1.0f, 0.0f}; /* no free entry: dz = 0 */
  assert_int_equal(skrt_sparsek_backward(hard, dp, 2, dz), SKRT_OK);
  assert_true(dz[0] == 0.0f && dz[1] == 0.0f);
}

static void expect_error(int st, int want, const char *msg) {
  assert_int_equal(st, want);
  assert_string_equal(skrt_last_error(), msg);
}

static void test_bad_inputs(void **state) {
  (void)state;
  float z[4] = {1, 2, 3, 4}, p[4], tau;
  expect_error(skrt_sparsek_forward(NULL, 4, 1.0f, p, &tau), SKRT_ERR_NULL,
               "skrt_sparsek_forward: z is NULL");
  expect_error(skrt_sparsek_forward(z, 4, 1.0f, NULL, &tau), SKRT_ERR_NULL,
               "skrt_sparsek_forward: p is NULL");
  expect_error(skrt_sparsek_forward(z, 0, 1.0f, p, &tau), SKRT_ERR_ARG,
               "skrt_sparsek_forward: n must be >= 1, got 0");
  expect_error(skrt_sparsek_forward(z, 4, 0.0f, p, &tau), SKRT_ERR_ARG,
               "skrt_sparsek_forward: k must be > 0, got 0");
  expect_error(skrt_sparsek_forward(z, 4, -2.0f, p, &tau), SKRT_ERR_ARG,
               "skrt_sparsek_forward: k must be > 0, got -2");
  expect_error(skrt_sparsek_forward(z, 4, NAN, p, &tau), SKRT_ERR_ARG,
               "skrt_sparsek_forward: k must be > 0, got nan");
  z[3] = INFINITY;
  expect_error(skrt_sparsek_forward(z, 4, 1.0f, p, &tau), SKRT_ERR_NONFINITE,
               "skrt_sparsek_forward: z[3] is inf");
  z[3] = 4.0f;
  z[1] = NAN;
  expect_error(skrt_sparsek_forward(z, 4, 1.0f, p, &tau), SKRT_ERR_NONFINITE,
               "skrt_sparsek_forward: z[1] is nan");
  expect_error(skrt_sparsek_backward(NULL, p, 4, p), SKRT_ERR_NULL,
               "skrt_sparsek_backward: p is NULL");
  expect_error(skrt_sparsek_backward(p, NULL, 4, p), SKRT_ERR_NULL,
               "skrt_sparsek_backward: dp is NULL");
  expect_error(skrt_sparsek_backward(p, p, 4, NULL), SKRT_ERR_NULL,
               "skrt_sparsek_backward: dz is NULL");
  expect_error(skrt_sparsek_backward(p, p, -1, p), SKRT_ERR_ARG,
               "skrt_sparsek_backward: n must be >= 1, got -1");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_forward_vs_bisection), cmocka_unit_test(test_k1_is_sparsemax),
      cmocka_unit_test(test_hand_cases),           cmocka_unit_test(test_backward_vs_fd),
      cmocka_unit_test(test_backward_hand),        cmocka_unit_test(test_bad_inputs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
