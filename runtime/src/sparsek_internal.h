/* skrt SparseK internals shared by the operator (sparsek_op.c), the prefix thresholds
 * (thresholds.c) and the reference (reference.c): the exact threshold of a sorted score
 * vector (S2/S3), the one free/saturated test everybody uses, and the snapping rule that
 * makes a root lying on a breakpoint come out bit-identical from every implementation.
 *
 * Precision contract: thresholds are computed in double. An entry u is free when
 * 0 < u - tau < 1 evaluated in double with the double tau (strict on both sides); it is
 * saturated when u - tau >= 1 and zero when u - tau <= 0. */
#ifndef SKRT_SPARSEK_INTERNAL_H
#define SKRT_SPARSEK_INTERNAL_H

#include <math.h>
#include <stdint.h>

/* Relative distance under which a computed root is snapped onto a breakpoint b. Rounding
 * of the threshold formula stays far below it; float inputs cannot resolve finer. */
static inline int skrt_sparsek_near(double t, double b) {
  return isfinite(b) && fabs(t - b) <= 1e-11 * (1.0 + fabs(b));
}

/* ref: S4 (s_i = 1 when 0 < p_i < 1): the free test on scores, in double. */
static inline int skrt_sparsek_is_free(double u, double tau) {
  double d = u - tau;
  return d > 0.0 && d < 1.0;
}

/* Sorts v[0..n) descending (plain comparison sort). */
void skrt_sparsek_sort_desc(double *v, int64_t n);

/* ref: S2/S3. Threshold of SparseK(s, k) for s sorted descending, n >= 1, k > 0:
 * -INFINITY when k >= n. When no entry is free (integer k and s[k-1] - 1 >= s[k]) the
 * root is not unique; the smallest root s[k] is returned (gates then come out exactly 0/1
 * even in float). */
double skrt_sparsek_tau_sorted(const double *s, int64_t n, double k);

#endif
