/* Fused CPU SparseK attention backward (runtime/kernels/cpu_attention_bwd.h through
 * skrt_cpu_attention_backward, from the kernel forward's saved lse, tau, nfree) against the
 * double reference skrt_ref_attention_backward. Error metric: rel_err = max|kernel - ref| /
 * max|ref| per gradient tensor (dq, dk, dv, du); bounds: fp32 instance <= 1e-4, fp64
 * instance <= 1e-9. Shapes as the forward test (MHA, GQA, both gates, k >= N, w = 0,
 * w >= N, N = 1, N not a multiple of the tile, D not a multiple of 8, ties, strided q).
 * Also: the f64 backward against central finite differences of the f64 forward (<= 1e-6),
 * bitwise-equal results for 1 and 2 threads and for repeated runs, bad inputs. */
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
    {"gqa_d64", 1, 4, 1, 400, 64, 16, 16, 0, 0},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* Kernel outputs of one forward + backward run at one real type. */
struct kgrads {
  void *o, *lse, *tau, *dq, *dk, *dv, *du;
  int32_t *nfree;
};

static void kgrads_destroy(struct kgrads *g) {
  free(g->o), free(g->lse), free(g->tau), free(g->dq), free(g->dk), free(g->dv), free(g->du);
  free(g->nfree);
}

/* libskrt's portable fp32 instance (skrt_cpu_attention_backward may pick the AVX-512 one). */
int skrt_cpu_attention_backward_f32(const struct skrt_attn_params *p,
                                    const struct skrt_attn_grads *g, struct skrt_context *ctx);
typedef int (*backward_fn)(const struct skrt_attn_params *p, const struct skrt_attn_grads *g,
                           struct skrt_context *ctx);
static backward_fn g_backward = skrt_cpu_attention_backward;

/* Forward with saved state, then backward, on `threads` threads; returns the status. */
static int run_kernel(const struct tprob *p, int bits, int threads, struct kgrads *g) {
  size_t es = (size_t)bits / 8, nlse = (size_t)(p->nu * p->c.Hq / p->c.Hkv);
  g->o = calloc((size_t)p->nq, es), g->lse = calloc(nlse, es), g->tau = calloc((size_t)p->nu, es);
  g->dq = calloc((size_t)p->nq, es), g->dk = calloc((size_t)p->nkv, es);
  g->dv = calloc((size_t)p->nkv, es), g->du = calloc((size_t)p->nu, es);
  g->nfree = calloc((size_t)p->nu, 4);
  struct skrt_attn_params a = t_params(p, bits, g->o, g->lse, g->tau, g->nfree);
  struct skrt_attn_grads gr = {bits == 32 ? (const void *)p->doutf : (const void *)p->dout,
                               g->dq, g->dk, g->dv, g->du};
  struct skrt_context *ctx = t_ctx(threads);
  int st = skrt_cpu_attention_forward(&a, ctx);
  if (st == SKRT_OK)
    st = g_backward(&a, &gr, ctx);
  if (st)
    fprintf(stderr, "%s: %s\n", p->c.name, skrt_last_error());
  skrt_context_destroy(ctx);
  return st;
}

static void run_case(const struct tcase *c, int gate, int bits) {
  struct tprob p;
  t_prob_create(&p, c, gate, 11 + (uint64_t)(c - cases));
  struct skrt_ref_shape sh = t_shape(&p);
  struct skrt_ref_config cf = t_config(&p);
  double *dq = calloc((size_t)p.nq, 8), *dk = calloc((size_t)p.nkv, 8);
  double *dv = calloc((size_t)p.nkv, 8), *du = calloc((size_t)p.nu, 8);
  assert_int_equal(
      skrt_ref_attention_backward(&sh, &cf, p.q, p.k, p.v, p.u, p.dout, dq, dk, dv, du), 0);
  struct kgrads g;
  assert_int_equal(run_kernel(&p, bits, 2, &g), SKRT_OK);
  double tol = bits == 32 ? 1e-4 : 1e-9;
  double e_q = t_rel_err(g.dq, bits, dq, p.nq), e_k = t_rel_err(g.dk, bits, dk, p.nkv);
  double e_v = t_rel_err(g.dv, bits, dv, p.nkv), e_u = t_rel_err(g.du, bits, du, p.nu);
  printf("  %-9s gate=%s f%d: dq %.2e dk %.2e dv %.2e du %.2e\n", c->name,
         gate == SKRT_GATE_KV ? "kv" : "v ", bits, e_q, e_k, e_v, e_u);
  assert_true(e_q <= tol);
  assert_true(e_k <= tol);
  assert_true(e_v <= tol);
  assert_true(e_u <= tol);
  kgrads_destroy(&g);
  free(dq), free(dk), free(dv), free(du);
  t_prob_destroy(&p);
}

static void test_backward_f32(void **state) {
  (void)state;
  for (size_t i = 0; i < NCASES; ++i)
    for (int gate = 0; gate < 2; ++gate)
      run_case(&cases[i], gate, 32);
}

static void test_backward_f64(void **state) {
  (void)state;
  for (size_t i = 0; i < NCASES; ++i)
    for (int gate = 0; gate < 2; ++gate)
      run_case(&cases[i], gate, 64);
}

/* Two runs (1 and 2 threads, then 2 again) give bitwise equal gradients. */
static void test_backward_deterministic(void **state) {
  (void)state;
  struct tprob p;
  struct tcase c = {"det", 2, 4, 2, 300, 32, 12, 9, 0, 0};
  t_prob_create(&p, &c, SKRT_GATE_KV, 5);
  struct kgrads g1, g2, g3;
  assert_int_equal(run_kernel(&p, 32, 1, &g1), SKRT_OK);
  assert_int_equal(run_kernel(&p, 32, 2, &g2), SKRT_OK);
  assert_int_equal(run_kernel(&p, 32, 2, &g3), SKRT_OK);
  struct kgrads *o[2] = {&g2, &g3};
  for (int r = 0; r < 2; ++r) {
    assert_memory_equal(g1.dq, o[r]->dq, (size_t)p.nq * 4);
    assert_memory_equal(g1.dk, o[r]->dk, (size_t)p.nkv * 4);
    assert_memory_equal(g1.dv, o[r]->dv, (size_t)p.nkv * 4);
    assert_memory_equal(g1.du, o[r]->du, (size_t)p.nu * 4);
  }
  kgrads_destroy(&g1), kgrads_destroy(&g2), kgrads_destroy(&g3);
  t_prob_destroy(&p);
}

static void test_backward_f32_portable_instance(void **state) {
  (void)state;
  g_backward = skrt_cpu_attention_backward_f32;
  for (size_t i = 0; i < NCASES; i += 3)
    run_case(&cases[i], (int)(i / 3) % 2, 32);
  g_backward = skrt_cpu_attention_backward;
}

/* loss = sum(dout * o) through the f64 kernel forward. */
static double fd_loss(const struct tprob *p, double *o) {
  struct skrt_attn_params a = t_params(p, 64, o, NULL, NULL, NULL);
  assert_int_equal(skrt_cpu_attention_forward(&a, NULL), SKRT_OK);
  double l = 0;
  for (int64_t i = 0; i < p->nq; ++i)
    l += p->dout[i] * o[i];
  return l;
}

/* Central differences of loss in one kernel-layout tensor x (n entries) against grad g. */
static double fd_err(struct tprob *p, double *x, int64_t n, const double *g, double *o) {
  double num = 0, den = 0;
  const double h = 1e-6;
  for (int64_t i = 0; i < n; ++i) {
    double x0 = x[i];
    x[i] = x0 + h;
    double lp = fd_loss(p, o);
    x[i] = x0 - h;
    double lm = fd_loss(p, o);
    x[i] = x0;
    double fd = (lp - lm) / (2 * h);
    num = fmax(num, fabs(fd - g[i]));
    den = fmax(den, fabs(fd));
  }
  return num / den;
}

/* The f64 kernel backward against central finite differences of the f64 kernel forward
 * (h = 1e-6), every input (q, k, v, u), MHA/GQA, both gates: rel err <= 1e-6. */
static void test_backward_f64_vs_finite_differences(void **state) {
  (void)state;
  const struct tcase fc[] = {{"fd_gqa", 1, 2, 1, 13, 4, 3, 2, 0, 0},
                             {"fd_w0", 1, 1, 1, 11, 3, 4, 0, 0, 0}};
  for (int ci = 0; ci < 2; ++ci)
    for (int gate = 0; gate < 2; ++gate) {
      struct tprob p;
      t_prob_create(&p, &fc[ci], gate, 31 + (uint64_t)ci);
      struct kgrads g;
      assert_int_equal(run_kernel(&p, 64, 1, &g), SKRT_OK);
      double *o = calloc((size_t)p.nq, 8);
      double e[4] = {fd_err(&p, p.qs, p.nq, g.dq, o), fd_err(&p, p.ks, p.nkv, g.dk, o),
                     fd_err(&p, p.vs, p.nkv, g.dv, o), fd_err(&p, p.u, p.nu, g.du, o)};
      printf("  %-6s gate=%d FD: dq %.2e dk %.2e dv %.2e du %.2e\n", fc[ci].name, gate, e[0],
             e[1], e[2], e[3]);
      for (int i = 0; i < 4; ++i)
        assert_true(e[i] <= 1e-6);
      free(o);
      kgrads_destroy(&g);
      t_prob_destroy(&p);
    }
}

static void test_backward_bad_inputs(void **state) {
  (void)state;
  struct tprob p;
  t_prob_create(&p, &cases[0], SKRT_GATE_KV, 1);
  struct kgrads g;
  assert_int_equal(run_kernel(&p, 32, 1, &g), SKRT_OK);
  struct skrt_attn_params a = t_params(&p, 32, g.o, g.lse, g.tau, g.nfree);
  struct skrt_attn_grads gr = {p.doutf, g.dq, g.dk, g.dv, g.du};
  a.lse = NULL;
  assert_int_equal(skrt_cpu_attention_backward(&a, &gr, NULL), SKRT_ERR_NULL);
  assert_non_null(strstr(skrt_last_error(), "saved state lse is NULL"));
  a.lse = g.lse, a.nfree = NULL;
  assert_int_equal(skrt_cpu_attention_backward(&a, &gr, NULL), SKRT_ERR_NULL);
  assert_non_null(strstr(skrt_last_error(), "saved state nfree is NULL"));
  a.nfree = g.nfree;
  assert_int_equal(skrt_cpu_attention_backward(&a, NULL, NULL), SKRT_ERR_NULL);
  assert_non_null(strstr(skrt_last_error(), "grads is NULL"));
  gr.dk = NULL;
  assert_int_equal(skrt_cpu_attention_backward(&a, &gr, NULL), SKRT_ERR_NULL);
  assert_non_null(strstr(skrt_last_error(), "gradient pointer dk is NULL"));
  gr.dk = g.dk, a.real_bits = 8;
  assert_int_equal(skrt_cpu_attention_backward(&a, &gr, NULL), SKRT_ERR_DTYPE);
  a.real_bits = 32, a.topk = 0;
  assert_int_equal(skrt_cpu_attention_backward(&a, &gr, NULL), SKRT_ERR_ARG);
  kgrads_destroy(&g);
  t_prob_destroy(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_backward_f32),
      cmocka_unit_test(test_backward_f64),
      cmocka_unit_test(test_backward_f32_portable_instance),
      cmocka_unit_test(test_backward_deterministic),
      cmocka_unit_test(test_backward_f64_vs_finite_differences),
      cmocka_unit_test(test_backward_bad_inputs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
