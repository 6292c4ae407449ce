/* skrt SparseK operator on its own (S1-S4): p = clip(z - tau, 0, 1) with the exact
 * threshold tau, and the vector-Jacobian product computed from p alone. Work is done in
 * double; inputs and outputs are float. The sorted-threshold core here is also the one the
 * reference (reference.c) calls per query. */
#include "skrt/base.h"
#include "skrt/sparsek.h"
#include "sparsek_internal.h"

#include <math.h>
#include <stdlib.h>

static int skrt_cmp_double_desc(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x < y) - (x > y);
}

void skrt_sparsek_sort_desc(double *v, int64_t n) {
  qsort(v, (size_t)n, sizeof(double), skrt_cmp_double_desc);
}

/* ref: S3 exact recompute on the interval with U saturated and s[U..W) free. */
static double skrt_sparsek_tau_free(const double *s, int64_t U, int64_t W, double k) {
  double base = s[U], sum = 0.0;
  for (int64_t r = U; r < W; r++)
    sum += s[r] - base;
  return base + (sum + (double)U - k) / (double)(W - U);
}

/* Clamps t into [lo, hi] and snaps it onto an endpoint it is within rounding of. */
static double skrt_sparsek_settle(double t, double lo, double hi) {
  if (t >= hi || skrt_sparsek_near(t, hi))
    return hi;
  if (t <= lo || skrt_sparsek_near(t, lo))
    return lo;
  return t;
}

/* ref: S2. Sweeps the breakpoints {s_r} and {s_r - 1} downwards; on each interval
 * (lo, hi) with U saturated and W nonzero, g is linear; the first interval whose lower end
 * has g >= 0 holds the root. */
double skrt_sparsek_tau_sorted(const double *s, int64_t n, double k) {
  if (k >= (double)n)
    return -INFINITY;
  int64_t K = (int64_t)k;
  if ((double)K == k && s[K - 1] - 1.0 >= s[K])
    return s[K]; /* no free entry: smallest root */
  int64_t U = 0, W = 0;
  double sum = 0.0, hi = INFINITY;
  for (;;) {
    double va = W < n ? s[W] : -INFINITY, vb = U < n ? s[U] - 1.0 : -INFINITY;
    double lo = va >= vb ? va : vb;
    if (W > U && (lo == -INFINITY || U + sum - (double)(W - U) * lo - k >= 0.0))
      return skrt_sparsek_settle(skrt_sparsek_tau_free(s, U, W, k), lo, hi);
    if (va >= vb)
      sum += s[W++];
    else
      sum -= s[U++];
    hi = lo;
  }
}

static int skrt_sparsek_check(const float *z, int64_t n, float k) {
  if (isnan(k) || !(k > 0.0f))
    return skrt_error(SKRT_ERR_ARG, "skrt_sparsek_forward: k must be > 0, got %g", (double)k);
  for (int64_t i = 0; i < n; i++)
    if (!isfinite(z[i]))
      return skrt_error(SKRT_ERR_NONFINITE, "skrt_sparsek_forward: z[%lld] is %g",
                        (long long)i, (double)z[i]);
  return SKRT_OK;
}

int skrt_sparsek_forward(const float *z, int64_t n, float k, float *p, float *tau) {
  if (!z || !p)
    return skrt_error(SKRT_ERR_NULL, "skrt_sparsek_forward: %s is NULL", !z ? "z" : "p");
  if (n < 1)
    return skrt_error(SKRT_ERR_ARG, "skrt_sparsek_forward: n must be >= 1, got %lld",
                      (long long)n);
  int st = skrt_sparsek_check(z, n, k);
  if (st)
    return st;
  double t = -INFINITY;
  if ((double)k < (double)n) {
    double *s = malloc((size_t)n * sizeof(double));
    if (!s)
      return skrt_error(SKRT_ERR_NOMEM, "skrt_sparsek_forward: out of memory (n = %lld)",
                        (long long)n);
    for (int64_t i = 0; i < n; i++)
      s[i] = z[i];
    skrt_sparsek_sort_desc(s, n);
    t = skrt_sparsek_tau_sorted(s, n, k); // ref: S2
    free(s);
  }
  for (int64_t i = 0; i < n; i++) // ref: S1 closed form
    p[i] = (float)fmin(fmax((double)z[i] - t, 0.0), 1.0);
  if (tau)
    *tau = (float)t;
  return SKRT_OK;
}

int skrt_sparsek_backward(const float *p, const float *dp, int64_t n, float *dz) {
  if (!p || !dp || !dz)
    return skrt_error(SKRT_ERR_NULL, "skrt_sparsek_backward: %s is NULL",
                      !p ? "p" : !dp ? "dp" : "dz");
  if (n < 1)
    return skrt_error(SKRT_ERR_ARG, "skrt_sparsek_backward: n must be >= 1, got %lld",
                      (long long)n);
  double sum = 0.0; // ref: S4, s . dp and |s|
  int64_t nfree = 0;
  for (int64_t i = 0; i < n; i++)
    if (p[i] > 0.0f && p[i] < 1.0f) {
      sum += dp[i];
      nfree++;
    }
  double mean = nfree ? sum / (double)nfree : 0.0;
  for (int64_t i = 0; i < n; i++)
    dz[i] = p[i] > 0.0f && p[i] < 1.0f ? (float)((double)dp[i] - mean) : 0.0f;
  return SKRT_OK;
}
