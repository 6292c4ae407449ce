/* The fused CPU kernels as generated code instantiates them: this translation unit defines
 * the specialization macros (SKK_REAL float, SKK_HEAD_DIM 16, SKK_TILE_Q 16), includes the
 * kernel headers and calls skk_attention_forward / skk_attention_backward directly. Checked
 * against the double reference with rel_err = max|a - b| / max|b|: forward <= 1e-5,
 * backward <= 1e-4; also the checks that p matches the compiled D and tile. */
#define SKK_REAL float
#define SKK_HEAD_DIM 16
#define SKK_TILE_Q 16
#include "kernels/cpu_attention_bwd.h"
#include "kernels/cpu_attention_fwd.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "test_cpu_util.h"

static const struct tcase cases[] = {
    {"gqa", 2, 4, 2, 83, 16, 6, 5, 0, 0},
    {"strided_w0", 1, 2, 2, 50, 16, 4, 0, 0, 1},
    {"chunks", 1, 2, 1, 700, 16, 9, 7, 0, 0},
};

static void run_case(const struct tcase *c, int gate) {
  struct tprob p;
  t_prob_create(&p, c, gate, 21 + (uint64_t)(c - cases));
  struct skrt_ref_shape sh = t_shape(&p);
  struct skrt_ref_config cf = t_config(&p);
  int64_t nlse = p.nu * c->Hq / c->Hkv;
  double *o = calloc((size_t)p.nq, 8), *dq = calloc((size_t)p.nq, 8);
  double *dk = calloc((size_t)p.nkv, 8), *dv = calloc((size_t)p.nkv, 8);
  double *du = calloc((size_t)p.nu, 8);
  assert_int_equal(skrt_ref_attention_forward(&sh, &cf, p.q, p.k, p.v, p.u, o, NULL, NULL, NULL),
                   0);
  assert_int_equal(
      skrt_ref_attention_backward(&sh, &cf, p.q, p.k, p.v, p.u, p.dout, dq, dk, dv, du), 0);
  float *ko = calloc((size_t)p.nq, 4), *lse = calloc((size_t)nlse, 4);
  float *tau = calloc((size_t)p.nu, 4), *kdq = calloc((size_t)p.nq, 4);
  float *kdk = calloc((size_t)p.nkv, 4), *kdv = calloc((size_t)p.nkv, 4);
  float *kdu = calloc((size_t)p.nu, 4);
  int32_t *nfree = calloc((size_t)p.nu, 4);
  struct skrt_attn_params a = t_params(&p, 32, ko, lse, tau, nfree);
  struct skrt_attn_grads g = {p.doutf, kdq, kdk, kdv, kdu};
  struct skrt_context *ctx = t_ctx(2);
  assert_int_equal(skk_attention_forward(&a, ctx), SKRT_OK);
  assert_int_equal(skk_attention_backward(&a, &g, ctx), SKRT_OK);
  skrt_context_destroy(ctx);
  double e[5] = {t_rel_err(ko, 32, o, p.nq), t_rel_err(kdq, 32, dq, p.nq),
                 t_rel_err(kdk, 32, dk, p.nkv), t_rel_err(kdv, 32, dv, p.nkv),
                 t_rel_err(kdu, 32, du, p.nu)};
  printf("  %-10s gate=%d: o %.2e dq %.2e dk %.2e dv %.2e du %.2e\n", c->name, gate, e[0], e[1],
         e[2], e[3], e[4]);
  assert_true(e[0] <= 1e-5);
  for (int i = 1; i < 5; ++i)
    assert_true(e[i] <= 1e-4);
  free(o), free(dq), free(dk), free(dv), free(du), free(ko), free(lse), free(tau), free(kdq);
  free(kdk), free(kdv), free(kdu), free(nfree);
  t_prob_destroy(&p);
}

static void test_specialized_vs_reference(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i)
    for (int gate = 0; gate < 2; ++gate)
      run_case(&cases[i], gate);
}

static void test_specialization_checks(void **state) {
  (void)state;
  struct tprob p;
  struct tcase c = {"d20", 1, 1, 1, 20, 20, 2, 2, 0, 0};
  t_prob_create(&p, &c, SKRT_GATE_KV, 1);
  float *o = calloc((size_t)p.nq, 4);
  struct skrt_attn_params a = t_params(&p, 32, o, NULL, NULL, NULL);
  assert_int_equal(skk_attention_forward(&a, NULL), SKRT_ERR_SHAPE);
  assert_string_equal(skrt_last_error(), "attention: D is 20, this kernel is built for D = 16");
  a.D = 16, a.tile_q = 32;
  assert_int_equal(skk_attention_forward(&a, NULL), SKRT_ERR_ARG);
  assert_string_equal(skrt_last_error(), "attention: tile_q is 32, this kernel is built for 16");
  a.tile_q = 16, a.real_bits = 64;
  assert_int_equal(skk_attention_forward(&a, NULL), SKRT_ERR_DTYPE);
  free(o);
  t_prob_destroy(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_specialized_vs_reference),
      cmocka_unit_test(test_specialization_checks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
