/* Helpers shared by the runtime-core tests (test_sparsek_op.c, test_thresholds.c,
 * test_reference.c): a small deterministic random generator and cmocka include order. */
#ifndef TEST_CORE_UTIL_H
#define TEST_CORE_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

/* splitmix64: deterministic across platforms. */
static inline uint64_t tc_next(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static inline double tc_uniform(uint64_t *s) { return (double)(tc_next(s) >> 11) * 0x1p-53; }

/* Uniform integer in [lo, hi]. */
static inline int64_t tc_int(uint64_t *s, int64_t lo, int64_t hi) {
  return lo + (int64_t)(tc_next(s) % (uint64_t)(hi - lo + 1));
}

/* Standard normal (Box-Muller). */
static inline double tc_normal(uint64_t *s) {
  double a = tc_uniform(s), b = tc_uniform(s);
  return sqrt(-2.0 * log(a + 1e-300)) * cos(6.283185307179586 * b);
}

#endif
