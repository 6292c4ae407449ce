/* Fused CPU SparseK attention forward (runtime/kernels/cpu_attention_fwd.h through
 * skrt_cpu_attention_forward) against the double reference skrt_ref_attention_forward.
 * Error metric: rel_err = max|kernel - ref| / max|ref| over a whole tensor; bounds: fp32
 * instance <= 1e-5, fp64 instance <= 1e-10 (o and lse), saved tau likewise where the query
 * has free keys (tau is unique there), |F_i| exactly. Shapes: MHA and GQA, both gates,
 * k >= N, w = 0, w >= N, N = 1, N not a multiple of the tile, D not a multiple of 8, ties in
 * u, strided q / padded k, v, several tile chunks. Also bad inputs (status and message). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "test_cpu_util.h"

static const struct tcase cases[] = {
    {"mha", 2, 2, 2, 100, 16, 8, 8, 0, 0},
    {"gqa_d20", 1, 4, 2, 77, 20, 5, 3, 0, 0},
    {"k_ge_n", 1, 2, 1, 40, 8, 64, 4, 0, 0},
    {"w0", 1, 2, 2, 70, 12, 6, 0, 0, 0},
    {"w_ge_n", 1, 1, 1, 50, 8, 4, 60, 0, 0},
    {"n1_w0", 2, 2, 1, 1, 8, 1, 0, 0, 0},
    {"n1_w1", 1, 3, 3, 1, 5, 2, 1, 0, 0},
    {"k1", 1, 2, 2, 65, 8, 1, 2, 0, 0},
    {"ties", 1, 2, 1, 90, 16, 7, 5, 1, 0},
    {"strided", 2, 4, 2, 45, 24, 6, 4, 0, 1},
    {"chunks_d64", 1, 2, 1, 1100, 64, 16, 16, 0, 0},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* The two fp32 instances inside libskrt (cpu_attention.c picks one per CPU); the test runs
 * both where the CPU allows. */
int skrt_cpu_attention_forward_f32(const struct skrt_attn_params *p, struct skrt_context *ctx);
int skrt_cpu_attention_forward_f32_avx512(const struct skrt_attn_params *p,
                                          struct skrt_context *ctx);
typedef int (*forward_fn)(const struct skrt_attn_params *p, struct skrt_context *ctx);
static forward_fn g_forward = skrt_cpu_attention_forward;

/* Runs one case at one real type and gate, checks o, lse, tau, nfree. */
static void run_case(const struct tcase *c, int gate, int bits) {
  struct tprob p;
  t_prob_create(&p, c, gate, 7 + (uint64_t)(c - cases));
  struct skrt_ref_shape sh = t_shape(&p);
  struct skrt_ref_config cf = t_config(&p);
  double *o = calloc((size_t)p.nq, 8), *lse = calloc((size_t)(p.nu * c->Hq / c->Hkv), 8);
  double *tau = calloc((size_t)p.nu, 8);
  int64_t *nfree = calloc((size_t)p.nu, 8);
  assert_int_equal(skrt_ref_attention_forward(&sh, &cf, p.q, p.k, p.v, p.u, o, lse, tau, nfree),
                   0);
  size_t es = (size_t)bits / 8;
  void *ko = calloc((size_t)p.nq, es), *klse = calloc((size_t)(p.nu * c->Hq / c->Hkv), es);
  void *ktau = calloc((size_t)p.nu, es);
  int32_t *knfree = calloc((size_t)p.nu, 4);
  struct skrt_attn_params a = t_params(&p, bits, ko, klse, ktau, knfree);
  struct skrt_context *ctx = t_ctx(2);
  int st = g_forward(&a, ctx);
  if (st)
    fprintf(stderr, "%s: %s\n", c->name, skrt_last_error());
  assert_int_equal(st, SKRT_OK);
  double tol = bits == 32 ? 1e-5 : 1e-10;
  double e_o = t_rel_err(ko, bits, o, p.nq);
  double e_l = t_rel_err(klse, bits, lse, p.nu * c->Hq / c->Hkv);
  int64_t bad_nfree = 0;
  double e_tau = 0, tau_max = 0;
  for (int64_t i = 0; i < p.nu; ++i) {
    bad_nfree += knfree[i] != nfree[i];
    if (knfree[i] != nfree[i] && getenv("TDEBUG"))
      fprintf(stderr, "i=%lld nfree %d ref %lld tau ref %.17g\n", (long long)i, knfree[i],
              (long long)nfree[i], tau[i]);
    if (nfree[i] == 0)
      continue;
    double kt = bits == 32 ? (double)((float *)ktau)[i] : ((double *)ktau)[i];
    e_tau = fmax(e_tau, fabs(kt - tau[i]));
    tau_max = fmax(tau_max, fabs(tau[i]));
  }
  e_tau = tau_max > 0 ? e_tau / tau_max : e_tau;
  printf("  %-11s gate=%s f%d: o %.2e lse %.2e tau %.2e nfree mismatches %lld\n", c->name,
         gate == SKRT_GATE_KV ? "kv" : "v ", bits, e_o, e_l, e_tau, (long long)bad_nfree);
  assert_true(e_o <= tol);
  assert_true(e_l <= tol);
  assert_true(e_tau <= (bits == 32 ? 1e-6 : 1e-12));
  if (!c->ties) /* with exact ties a gate can sit exactly on 0 or 1: |F| is then ambiguous */
    assert_int_equal(bad_nfree, 0);
  skrt_context_destroy(ctx);
  free(o), free(lse), free(tau), free(nfree), free(ko), free(klse), free(ktau), free(knfree);
  t_prob_destroy(&p);
}

static void test_forward_f32(void **state) {
  (void)state;
  for (size_t i = 0; i < NCASES; ++i)
    for (int gate = 0; gate < 2; ++gate)
      run_case(&cases[i], gate, 32);
}

static void test_forward_f64(void **state) {
  (void)state;
  for (size_t i = 0; i < NCASES; ++i)
    for (int gate = 0; gate < 2; ++gate)
      run_case(&cases[i], gate, 64);
}

/* Each fp32 instance of libskrt explicitly (the portable one and the AVX-512 one). */
static void test_forward_f32_instances(void **state) {
  (void)state;
  forward_fn fns[2] = {skrt_cpu_attention_forward_f32, skrt_cpu_attention_forward_f32_avx512};
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
  int n = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                  __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
                  __builtin_cpu_supports("fma")
              ? 2
              : 1;
#else
  int n = 2; /* elsewhere the "avx512" file is a second generic instance */
#endif
  for (int f = 0; f < n; ++f) {
    g_forward = fns[f];
    for (size_t i = 0; i < NCASES; i += 3)
      run_case(&cases[i], (int)(i / 3) % 2, 32);
  }
  g_forward = skrt_cpu_attention_forward;
}

/* Same output for 1 and 2 threads and without saved-state pointers (bitwise). */
static void test_forward_threads_bitwise(void **state) {
  (void)state;
  struct tprob p;
  t_prob_create(&p, &cases[10], SKRT_GATE_KV, 3);
  float *o1 = calloc((size_t)p.nq, 4), *o2 = calloc((size_t)p.nq, 4);
  struct skrt_attn_params a = t_params(&p, 32, o1, NULL, NULL, NULL);
  struct skrt_context *c1 = t_ctx(1), *c2 = t_ctx(2);
  assert_int_equal(skrt_cpu_attention_forward(&a, c1), SKRT_OK);
  a.o = o2;
  assert_int_equal(skrt_cpu_attention_forward(&a, c2), SKRT_OK);
  assert_memory_equal(o1, o2, (size_t)p.nq * 4);
  assert_int_equal(skrt_cpu_attention_forward(&a, NULL), SKRT_OK);
  assert_memory_equal(o1, o2, (size_t)p.nq * 4);
  skrt_context_destroy(c1), skrt_context_destroy(c2);
  free(o1), free(o2);
  t_prob_destroy(&p);
}

/* Expects status st and a message containing `msg`. */
static void expect_error(const struct skrt_attn_params *a, int st, const char *msg) {
  assert_int_equal(skrt_cpu_attention_forward(a, NULL), st);
  if (!strstr(skrt_last_error(), msg)) {
    fprintf(stderr, "message '%s' lacks '%s'\n", skrt_last_error(), msg);
    fail();
  }
}

static void test_forward_bad_inputs(void **state) {
  (void)state;
  struct tprob p;
  t_prob_create(&p, &cases[0], SKRT_GATE_KV, 1);
  float *o = calloc((size_t)p.nq, 4);
  struct skrt_attn_params a0 = t_params(&p, 32, o, NULL, NULL, NULL), a;
  expect_error(NULL, SKRT_ERR_NULL, "params is NULL");
  a = a0, a.q = NULL;
  expect_error(&a, SKRT_ERR_NULL, "tensor pointer q is NULL");
  a = a0, a.Hkv = 3;
  expect_error(&a, SKRT_ERR_SHAPE, "Hq (2) is not a multiple of Hkv (3)");
  a = a0, a.N = 0;
  expect_error(&a, SKRT_ERR_SHAPE, "must be >= 1");
  a = a0, a.topk = 0;
  expect_error(&a, SKRT_ERR_ARG, "k must be >= 1, got 0");
  a = a0, a.window = -2;
  expect_error(&a, SKRT_ERR_ARG, "window must be >= 0, got -2");
  a = a0, a.gate = 5;
  expect_error(&a, SKRT_ERR_ARG, "gate must be 0 (kv) or 1 (v), got 5");
  a = a0, a.real_bits = 16;
  expect_error(&a, SKRT_ERR_DTYPE, "real_bits must be 32 or 64, got 16");
  a = a0, a.tile_q = 7;
  expect_error(&a, SKRT_ERR_ARG, "tile_q is 7");
  a = a0, a.scale = NAN;
  expect_error(&a, SKRT_ERR_ARG, "scale is not finite");
  p.uf[1 * p.c.N + 5] = NAN; /* b = 0, h = 1, j = 5 */
  expect_error(&a0, SKRT_ERR_NONFINITE, "score u[b=0, h=1, j=5] is nan");
  p.uf[1 * p.c.N + 5] = 0, p.uf[2 * p.c.N + 3] = INFINITY; /* b = 1, h = 0, j = 3 */
  expect_error(&a0, SKRT_ERR_NONFINITE, "score u[b=1, h=0, j=3] is inf");
  free(o);
  t_prob_destroy(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_forward_f32),
      cmocka_unit_test(test_forward_f64),
      cmocka_unit_test(test_forward_f32_instances),
      cmocka_unit_test(test_forward_threads_bitwise),
      cmocka_unit_test(test_forward_bad_inputs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
