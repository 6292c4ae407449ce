/* The scoring-network kernel tests of test_cpu_scores.c on the float instance (bound 1e-5,
 * rel_err = max|a - b| / max|b| against the double reference). */
#define SKK_REAL float
#define T_TOL 1e-5
#include "test_cpu_scores.c"
