/* Tests of the double reference layer (S5-S11): a hand-checkable forward, the backward
 * against central finite differences in double for every input (q, k, v, u and, through the
 * scoring network, x, w_score, b_score, slope) in MHA and GQA with both gates and all score
 * modes, the reference thresholds against skrt_prefix_thresholds, and every bad input. */
#include "test_core_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skrt/base.h"
#include "skrt/sparsek.h"

/* ---- hand case ------------------------------------------------------------------------ */

/* N = 3, D = 1, k = 1, w = 1, scale 1, gate kv. q = 1, keys (0, 1, 2), values (1, 2, 4),
 * u = (0, 0.5, 9). Query 0: window {0}. Query 1: C = {0} (|C| <= k, gate 1) + window {1}.
 * Query 2: C = {0, 1}: sparsemax (0, 0.5) gives tau = -0.25, gates (0.25, 0.75); S = {1};
 * keys {1 (gate 0.75), 2}: logits (0.75 * 1, 2). */
static void test_hand_forward(void **state) {
  (void)state;
  struct skrt_ref_shape s = {.B = 1, .Hq = 1, .Hkv = 1, .N = 3, .D = 1};
  struct skrt_ref_config c = {.topk = 1, .window = 1, .gate = SKRT_GATE_KV, .scale = 1.0};
  const double q[3] = {1, 1, 1}, k[3] = {0, 1, 2}, v[3] = {1, 2, 4}, u[3] = {0, 0.5, 9};
  double o[3], lse[3], tau[3];
  int64_t nfree[3];
  assert_int_equal(skrt_ref_attention_forward(&s, &c, q, k, v, u, o, lse, tau, nfree), SKRT_OK);
  double e1 = exp(1.0), e075 = exp(0.75), e2 = exp(2.0);
  assert_float_equal(o[0], 1.0, 1e-15);
  assert_float_equal(lse[0], 0.0, 1e-15);
  assert_float_equal(o[1], (1.0 + e1 * 2.0) / (1.0 + e1), 1e-14);
  assert_float_equal(lse[1], log(1.0 + e1), 1e-14);
  assert_float_equal(o[2], (e075 * 0.75 * 2.0 + e2 * 4.0) / (e075 + e2), 1e-14);
  assert_float_equal(lse[2], log(e075 + e2), 1e-14);
  assert_true(isinf(tau[0]) && isinf(tau[1]) && tau[2] == -0.25);
  assert_true(nfree[0] == 0 && nfree[1] == 0 && nfree[2] == 2);
  c.gate = SKRT_GATE_V; /* logits ungated: (1, 2); output still gated */
  assert_int_equal(skrt_ref_attention_forward(&s, &c, q, k, v, u, o, lse, NULL, NULL), SKRT_OK);
  assert_float_equal(o[2], (e1 * 0.75 * 2.0 + e2 * 4.0) / (e1 + e2), 1e-14);
}

/* ---- the full layer as one function of all its inputs ----------------------------------- */

struct layer {
  struct skrt_ref_shape s;
  struct skrt_ref_config c;
  double *in[8];  /* q, k, v, x, w_score, b_score, u_in, slope */
  int64_t len[8]; /* element counts */
  double *grad[8];
  double *r; /* loss weights: L = sum o * r */
};

enum { IN_Q, IN_K, IN_V, IN_X, IN_W, IN_B, IN_U, IN_SLOPE, IN_COUNT };
static const char *const in_names[IN_COUNT] = {"q", "k", "v", "x", "w_score", "b_score",
                                               "u_in", "slope"};

static int64_t nq(const struct layer *L) { return L->s.B * L->s.Hq * L->s.N * L->s.D; }
static int64_t nkv(const struct layer *L) { return L->s.B * L->s.Hkv * L->s.N; }

static double loss(struct layer *L) {
  double *u = malloc((size_t)nkv(L) * sizeof(double)), *o = malloc((size_t)nq(L) * 8), sum = 0;
  L->c.slope = *L->in[IN_SLOPE];
  assert_int_equal(skrt_ref_scores(&L->s, &L->c, L->in[IN_X], L->in[IN_K], L->in[IN_W],
                                   L->in[IN_B], L->in[IN_U], u),
                   SKRT_OK);
  assert_int_equal(skrt_ref_attention_forward(&L->s, &L->c, L->in[IN_Q], L->in[IN_K],
                                              L->in[IN_V], u, o, NULL, NULL, NULL),
                   SKRT_OK);
  for (int64_t t = 0; t < nq(L); t++)
    sum += o[t] * L->r[t];
  free(u), free(o);
  return sum;
}

static void analytic(struct layer *L) {
  double *u = malloc((size_t)nkv(L) * sizeof(double));
  L->c.slope = *L->in[IN_SLOPE];
  skrt_ref_scores(&L->s, &L->c, L->in[IN_X], L->in[IN_K], L->in[IN_W], L->in[IN_B],
                  L->in[IN_U], u);
  double *du = L->grad[IN_U]; /* du is the gradient of u_in in mode input */
  assert_int_equal(skrt_ref_attention_backward(&L->s, &L->c, L->in[IN_Q], L->in[IN_K],
                                               L->in[IN_V], u, L->r, L->grad[IN_Q],
                                               L->grad[IN_K], L->grad[IN_V], du),
                   SKRT_OK);
  assert_int_equal(skrt_ref_scores_backward(&L->s, &L->c, L->in[IN_X], L->in[IN_K],
                                            L->in[IN_W], du, L->grad[IN_X], L->grad[IN_K],
                                            L->grad[IN_W], L->grad[IN_B], L->grad[IN_SLOPE]),
                   SKRT_OK);
  free(u);
}

static void layer_create(struct layer *L, uint64_t *rng, int64_t Hq, int64_t Hkv, int gate,
                         int mode, int64_t topk, int64_t window) {
  memset(L, 0, sizeof(*L));
  L->s = (struct skrt_ref_shape){.B = 2, .Hq = Hq, .Hkv = Hkv, .N = 9, .D = 3, .F = 4};
  L->c = (struct skrt_ref_config){.topk = topk, .window = window, .gate = gate,
                                  .score_mode = mode, .scale = 1.0 / sqrt(3.0)};
  int64_t width = mode == SKRT_SCORE_HIDDEN ? L->s.F : L->s.D;
  const int64_t len[IN_COUNT] = {nq(L), nkv(L) * 3, nkv(L) * 3, 2 * 9 * 4, Hkv * width, Hkv,
                                 nkv(L), 1};
  for (int t = 0; t < IN_COUNT; t++) {
    L->len[t] = len[t];
    L->in[t] = malloc((size_t)len[t] * sizeof(double));
    L->grad[t] = calloc((size_t)len[t], sizeof(double));
    for (int64_t e = 0; e < len[t]; e++)
      L->in[t][e] = (t == IN_W ? 0.4 : t == IN_SLOPE ? 0.05 : 1.0) * tc_normal(rng);
  }
  L->r = malloc((size_t)nq(L) * sizeof(double));
  for (int64_t e = 0; e < nq(L); e++)
    L->r[e] = tc_normal(rng);
}

static void layer_destroy(struct layer *L) {
  for (int t = 0; t < IN_COUNT; t++)
    free(L->in[t]), free(L->grad[t]);
  free(L->r);
}

/* Inputs that the mode actually reads. */
static int in_used(int t, int mode) {
  if (mode == SKRT_SCORE_INPUT)
    return t != IN_X && t != IN_W && t != IN_B;
  return t != IN_U && (t != IN_X || mode == SKRT_SCORE_HIDDEN);
}

static void check_fd(struct layer *L) {
  analytic(L);
  for (int t = 0; t < IN_COUNT; t++) {
    if (!in_used(t, L->c.score_mode))
      continue;
    for (int64_t e = 0; e < L->len[t]; e++) {
      double save = L->in[t][e], h = 1e-5;
      L->in[t][e] = save + h;
      double fp = loss(L);
      L->in[t][e] = save - h;
      double fm = loss(L);
      L->in[t][e] = save;
      double fd = (fp - fm) / (2 * h), an = L->grad[t][e];
      if (fabs(fd - an) > 1e-6 * (1.0 + fabs(fd)))
        fail_msg("Hq=%lld Hkv=%lld gate=%d mode=%d k=%lld w=%lld: d%s[%lld] analytic %.10g "
                 "fd %.10g", (long long)L->s.Hq, (long long)L->s.Hkv, L->c.gate,
                 L->c.score_mode, (long long)L->c.topk, (long long)L->c.window, in_names[t],
                 (long long)e, an, fd);
    }
  }
}

/* Counts rows where some free candidate is not selected (|F_i| > |S_i n F_i|). */
static int64_t free_unselected_rows(struct layer *L) {
  double *u = malloc((size_t)nkv(L) * 8), *o = malloc((size_t)nq(L) * 8);
  double *tau = malloc((size_t)nkv(L) * 8);
  int64_t *nfree = malloc((size_t)nkv(L) * 8), rows = 0;
  L->c.slope = *L->in[IN_SLOPE];
  skrt_ref_scores(&L->s, &L->c, L->in[IN_X], L->in[IN_K], L->in[IN_W], L->in[IN_B],
                  L->in[IN_U], u);
  skrt_ref_attention_forward(&L->s, &L->c, L->in[IN_Q], L->in[IN_K], L->in[IN_V], u, o, NULL,
                             tau, nfree);
  for (int64_t t = 0; t < nkv(L); t++)
    rows += nfree[t] > L->c.topk;
  free(u), free(o), free(tau), free(nfree);
  return rows;
}

static void test_backward_fd(void **state) {
  (void)state;
  static const int64_t heads[2][2] = {{2, 2}, {4, 2}}; /* MHA, GQA */
  static const int64_t ks[] = {1, 2, 3}, ws[] = {0, 1, 3};
  uint64_t rng = 11;
  int64_t free_rows = 0;
  for (int hv = 0; hv < 2; hv++)
    for (int gate = 0; gate < 2; gate++)
      for (int mode = 0; mode < 3; mode++) {
        struct layer L;
        int combo = hv * 6 + gate * 3 + mode;
        layer_create(&L, &rng, heads[hv][0], heads[hv][1], gate, mode, ks[combo % 3],
                     ws[(combo / 3) % 3]);
        check_fd(&L);
        free_rows += free_unselected_rows(&L);
        layer_destroy(&L);
      }
  assert_true(free_rows > 0); /* the free-but-unselected term of S11 was exercised */
}

/* ---- reference thresholds vs skrt_prefix_thresholds ------------------------------------ */

static void test_thresholds_agree(void **state) {
  (void)state;
  uint64_t rng = 3;
  enum { N = 200 };
  struct skrt_ref_shape s = {.B = 1, .Hq = 1, .Hkv = 1, .N = N, .D = 2};
  double q[2 * N], kv[2 * N], u[N], o[2 * N], tau[N];
  int64_t nfree[N];
  float uf[N], tf[N];
  int32_t nf[N];
  for (int64_t t = 0; t < 2 * N; t++)
    q[t] = kv[t] = tc_normal(&rng);
  for (int kind = 0; kind < 2; kind++) {
    for (int64_t j = 0; j < N; j++) {
      uf[j] = kind ? (float)(0.5 * (double)tc_int(&rng, 0, 6)) : (float)tc_normal(&rng);
      u[j] = uf[j];
    }
    struct skrt_ref_config c = {.topk = 3 + 5 * kind, .window = 7 * kind, .scale = 1.0};
    assert_int_equal(skrt_ref_attention_forward(&s, &c, q, kv, kv, u, o, NULL, tau, nfree),
                     SKRT_OK);
    assert_int_equal(skrt_prefix_thresholds(uf, N, c.topk, c.window, tf, nf, NULL), SKRT_OK);
    for (int64_t i = 0; i < N; i++) {
      assert_true(tf[i] == (float)tau[i]);
      assert_int_equal(nf[i], nfree[i]);
    }
  }
}

/* ---- bad inputs --------------------------------------------------------------------------- */

static void expect_error(int st, int want, const char *msg) {
  assert_int_equal(st, want);
  assert_string_equal(skrt_last_error(), msg);
}

static void test_bad_attention(void **state) {
  (void)state;
  struct skrt_ref_shape s = {.B = 1, .Hq = 2, .Hkv = 1, .N = 2, .D = 1};
  struct skrt_ref_config c = {.topk = 1, .window = 0, .scale = 1.0};
  double a[4] = {0}, u[2] = {0, 0}, o[4];
  const char *F = "skrt_ref_attention_forward";
  char msg[256];
#define EXPECT_FWD(st_, sh_, cf_, q_, u_, o_, fmt_, ...)                                       \
  snprintf(msg, sizeof(msg), fmt_, __VA_ARGS__);                                             \
  expect_error(skrt_ref_attention_forward(sh_, cf_, q_, a, a, u_, o_, NULL, NULL, NULL), st_, msg)
  EXPECT_FWD(SKRT_ERR_NULL, NULL, &c, a, u, o, "%s: shape is NULL", F);
  EXPECT_FWD(SKRT_ERR_NULL, &s, NULL, a, u, o, "%s: config is NULL", F);
  EXPECT_FWD(SKRT_ERR_NULL, &s, &c, NULL, u, o, "%s: q is NULL", F);
  EXPECT_FWD(SKRT_ERR_NULL, &s, &c, a, NULL, o, "%s: u is NULL", F);
  EXPECT_FWD(SKRT_ERR_NULL, &s, &c, a, u, NULL, "%s: o is NULL", F);
  s.D = 0;
  EXPECT_FWD(SKRT_ERR_SHAPE, &s, &c, a, u, o,
             "%s: B, Hq, Hkv, N, D must be >= 1, got 1, 2, 1, 2, 0", F);
  s.D = 1, s.Hkv = 3;
  EXPECT_FWD(SKRT_ERR_SHAPE, &s, &c, a, u, o, "%s: Hq (2) must be a multiple of Hkv (3)", F);
  s.Hkv = 1, c.topk = 0;
  EXPECT_FWD(SKRT_ERR_ARG, &s, &c, a, u, o, "%s: topk must be >= 1, got 0", F);
  c.topk = 1, c.window = -2;
  EXPECT_FWD(SKRT_ERR_ARG, &s, &c, a, u, o, "%s: window must be >= 0, got -2", F);
  c.window = 0, c.gate = 7;
  EXPECT_FWD(SKRT_ERR_ARG, &s, &c, a, u, o, "%s: gate must be 0 (kv) or 1 (v), got 7", F);
  c.gate = SKRT_GATE_KV, u[1] = NAN;
  EXPECT_FWD(SKRT_ERR_NONFINITE, &s, &c, a, u, o, "%s: u[0, 0, 1] is nan", F);
#undef EXPECT_FWD
  u[1] = 0.0;
  expect_error(skrt_ref_attention_backward(&s, &c, a, a, a, u, a, o, o, NULL, o), SKRT_ERR_NULL,
               "skrt_ref_attention_backward: dv is NULL");
  u[0] = -INFINITY;
  expect_error(skrt_ref_attention_backward(&s, &c, a, a, a, u, a, o, o, o, o),
               SKRT_ERR_NONFINITE, "skrt_ref_attention_backward: u[0, 0, 0] is -inf");
}

static void test_bad_scores(void **state) {
  (void)state;
  struct skrt_ref_shape s = {.B = 1, .Hq = 1, .Hkv = 1, .N = 2, .D = 1, .F = 0};
  struct skrt_ref_config c = {.topk = 1, .score_mode = SKRT_SCORE_HIDDEN};
  double a[4] = {0}, u[2];
  expect_error(skrt_ref_scores(&s, &c, a, a, a, a, NULL, u), SKRT_ERR_SHAPE,
               "skrt_ref_scores: B, Hkv, N, D (and F for mode hidden) must be >= 1, got 1, 1, "
               "2, 1, 0");
  s.F = 1;
  expect_error(skrt_ref_scores(&s, &c, NULL, a, a, a, NULL, u), SKRT_ERR_NULL,
               "skrt_ref_scores: x or k is NULL (score mode hidden)");
  c.score_mode = SKRT_SCORE_KEYS;
  expect_error(skrt_ref_scores(&s, &c, NULL, a, NULL, a, NULL, u), SKRT_ERR_NULL,
               "skrt_ref_scores: w_score is NULL (score mode keys)");
  c.score_mode = SKRT_SCORE_INPUT;
  expect_error(skrt_ref_scores(&s, &c, NULL, NULL, NULL, NULL, NULL, u), SKRT_ERR_NULL,
               "skrt_ref_scores: u_in is NULL (score mode input)");
  c.score_mode = 5;
  expect_error(skrt_ref_scores(&s, &c, a, a, a, a, a, u), SKRT_ERR_ARG,
               "skrt_ref_scores: score_mode must be 0 (hidden), 1 (keys) or 2 (input), got 5");
  expect_error(skrt_ref_scores(&s, NULL, a, a, a, a, a, u), SKRT_ERR_NULL,
               "skrt_ref_scores: config is NULL");
  c.score_mode = SKRT_SCORE_HIDDEN;
  expect_error(skrt_ref_scores_backward(&s, &c, a, a, a, NULL, u, NULL, NULL, NULL, NULL),
               SKRT_ERR_NULL, "skrt_ref_scores_backward: du is NULL (score mode hidden)");
  expect_error(skrt_ref_scores_backward(&s, &c, a, a, NULL, a, u, NULL, NULL, NULL, NULL),
               SKRT_ERR_NULL, "skrt_ref_scores_backward: w_score is NULL (score mode hidden)");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hand_forward),     cmocka_unit_test(test_backward_fd),
      cmocka_unit_test(test_thresholds_agree), cmocka_unit_test(test_bad_attention),
      cmocka_unit_test(test_bad_scores),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
