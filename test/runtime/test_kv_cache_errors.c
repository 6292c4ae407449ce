/* Bad input to the KV cache (S12, spec section 5): every rejected call returns the named
 * status with a message that says what was wrong (checked by substring), never aborts, and
 * leaves the cache as it was (positions, footprint and later outputs unchanged). */
#include "test_core_util.h"

#include <stdlib.h>
#include <string.h>

#include "skrt/kv_cache.h"
#include "skrt/sparsek.h"

#define NB 2
#define NHQ 4
#define NHKV 2
#define ND 4

static void expect(int got, int status, const char *needle) {
  assert_int_equal(got, status);
  if (!strstr(skrt_last_error(), needle))
    fail_msg("message \"%s\" lacks \"%s\"", skrt_last_error(), needle);
}

static struct skrt_kv_cache_config base_config(void) {
  return (struct skrt_kv_cache_config){1, NB,           NHQ, NHKV, ND,          3,
                                       2, SKRT_GATE_KV, 0.0, 0,    SKRT_KV_F32, SKRT_KV_DEVICE_CPU};
}

static struct skrt_kv_cache *make(int64_t max_positions) {
  struct skrt_kv_cache_config cfg = base_config();
  cfg.max_positions = max_positions;
  struct skrt_kv_cache *c = NULL;
  assert_int_equal(skrt_kv_cache_create(&cfg, &c), SKRT_OK);
  return c;
}

static void test_create(void **state) {
  (void)state;
  struct skrt_kv_cache *c = (struct skrt_kv_cache *)&c;
  struct skrt_kv_cache_config cfg = base_config();
  expect(skrt_kv_cache_create(&cfg, NULL), SKRT_ERR_NULL, "out is NULL");
  expect(skrt_kv_cache_create(NULL, &c), SKRT_ERR_NULL, "cfg is NULL");
  assert_null(c);
  struct {
    int64_t *field, bad;
    int status;
    const char *msg;
  } cases[] = {
      {&cfg.Hq, 3, SKRT_ERR_ARG, "Hq = 3 is not a multiple of Hkv = 2"},
      {&cfg.topk, 0, SKRT_ERR_ARG, "topk = 0 is out of range"},
      {&cfg.window, -1, SKRT_ERR_ARG, "window = -1 is out of range"},
      {&cfg.D, 0, SKRT_ERR_ARG, "D = 0 is out of range"},
      {&cfg.layers, 0, SKRT_ERR_ARG, "layers = 0"},
      {&cfg.B, -2, SKRT_ERR_ARG, "B = -2"},
      {&cfg.max_positions, -1, SKRT_ERR_ARG, "max_positions = -1"},
      {&cfg.max_positions, (int64_t)INT32_MAX + 1, SKRT_ERR_ARG, "max_positions = 2147483648"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    cfg = base_config();
    *cases[i].field = cases[i].bad;
    expect(skrt_kv_cache_create(&cfg, &c), cases[i].status, cases[i].msg);
    assert_null(c);
  }
  cfg = base_config(), cfg.gate = 7;
  expect(skrt_kv_cache_create(&cfg, &c), SKRT_ERR_ARG, "gate = 7");
  cfg = base_config(), cfg.scale = NAN;
  expect(skrt_kv_cache_create(&cfg, &c), SKRT_ERR_ARG, "scale = nan is not finite");
  cfg = base_config(), cfg.device = SKRT_KV_DEVICE_CUDA;
  expect(skrt_kv_cache_create(&cfg, &c), SKRT_ERR_DEVICE, "skrt_cuda_kv_cache_create");
  cfg = base_config(), cfg.dtype = SKRT_KV_BF16;
  expect(skrt_kv_cache_create(&cfg, &c), SKRT_ERR_DTYPE, "fp32 only");
  skrt_kv_cache_destroy(NULL);
}

/* Buffers for one step of the base shape, all finite. */
struct step {
  float q[NB * NHQ * ND], o[NB * NHQ * ND], k[NB * NHKV * ND], v[NB * NHKV * ND], u[NB * NHKV];
};

static void step_fill(struct step *s, uint64_t seed) {
  for (int i = 0; i < NB * NHQ * ND; i++)
    s->q[i] = (float)tc_normal(&seed);
  for (int i = 0; i < NB * NHKV * ND; i++)
    s->k[i] = (float)tc_normal(&seed), s->v[i] = (float)tc_normal(&seed);
  for (int i = 0; i < NB * NHKV; i++)
    s->u[i] = (float)tc_normal(&seed);
}

static void test_null_and_ranges(void **state) {
  (void)state;
  struct skrt_kv_cache *c = make(0);
  struct step s;
  step_fill(&s, 1);
  struct skrt_kv_io io = {s.q, s.k, s.v, s.u, s.o, {0}, {0}, {0}, {0}, {0}};
  expect(skrt_kv_cache_forward(NULL, 0, 1, &io, NULL), SKRT_ERR_NULL, "cache is NULL");
  expect(skrt_kv_cache_forward(c, 0, 1, NULL, NULL), SKRT_ERR_NULL, "io is NULL");
  expect(skrt_kv_cache_decode(c, 0, s.q, NULL, s.v, s.u, s.o, NULL), SKRT_ERR_NULL, "k is NULL");
  expect(skrt_kv_cache_decode(c, 0, s.q, s.k, s.v, NULL, s.o, NULL), SKRT_ERR_NULL, "u is NULL");
  expect(skrt_kv_cache_decode(c, 0, s.q, s.k, s.v, s.u, NULL, NULL), SKRT_ERR_NULL, "o is NULL");
  expect(skrt_kv_cache_prefill(c, 0, 1, s.q, s.k, s.v, s.u, NULL, NULL), SKRT_ERR_NULL,
         "o is NULL but q is not");
  expect(skrt_kv_cache_decode(c, 1, s.q, s.k, s.v, s.u, s.o, NULL), SKRT_ERR_ARG,
         "layer = 1 is out of range [0, 1)");
  expect(skrt_kv_cache_prefill(c, 0, 0, NULL, s.k, s.v, s.u, NULL, NULL), SKRT_ERR_ARG, "N = 0");
  int64_t pos;
  expect(skrt_kv_cache_position(c, 0, NB, &pos), SKRT_ERR_ARG, "b = 2 is out of range");
  expect(skrt_kv_cache_position(c, -1, 0, &pos), SKRT_ERR_ARG, "layer = -1");
  expect(skrt_kv_cache_reset_item(c, -1), SKRT_ERR_ARG, "b = -1");
  expect(skrt_kv_cache_reset(NULL), SKRT_ERR_NULL, "cache is NULL");
  expect(skrt_kv_cache_footprint(c, NULL), SKRT_ERR_NULL, "out is NULL");
  expect(skrt_kv_cache_get_config(NULL, NULL), SKRT_ERR_NULL, "cache is NULL");
  skrt_kv_cache_destroy(c);
}

static int64_t position(const struct skrt_kv_cache *c, int64_t b) {
  int64_t pos = -1;
  assert_int_equal(skrt_kv_cache_position(c, 0, b, &pos), SKRT_OK);
  return pos;
}

static void test_position_overflow(void **state) {
  (void)state;
  struct skrt_kv_cache *c = make(5);
  struct step s;
  step_fill(&s, 2);
  float big[NB * NHKV * 8 * ND] = {0}, bu[NB * NHKV * 8] = {0};
  expect(skrt_kv_cache_prefill(c, 0, 6, NULL, big, big, bu, NULL, NULL), SKRT_ERR_STATE,
         "holds 0 tokens; 6 more exceed max_positions = 5");
  assert_int_equal(position(c, 0), 0);
  assert_int_equal(skrt_kv_cache_prefill(c, 0, 4, NULL, big, big, bu, NULL, NULL), SKRT_OK);
  assert_int_equal(skrt_kv_cache_decode(c, 0, s.q, s.k, s.v, s.u, s.o, NULL), SKRT_OK);
  expect(skrt_kv_cache_decode(c, 0, s.q, s.k, s.v, s.u, s.o, NULL), SKRT_ERR_STATE,
         "sequence b = 0 of layer 0 holds 5 tokens; 1 more exceed max_positions = 5");
  assert_int_equal(position(c, 1), 5);
  /* a reset sequence may start over while the other one stays full */
  assert_int_equal(skrt_kv_cache_reset_item(c, 0), SKRT_OK);
  expect(skrt_kv_cache_append(c, 0, s.k, s.v, s.u, NULL), SKRT_ERR_STATE, "sequence b = 1");
  assert_int_equal(position(c, 0), 0);
  skrt_kv_cache_destroy(c);
  /* without max_positions the int32 range is the limit: N itself may not exceed it */
  c = make(0);
  expect(skrt_kv_cache_prefill(c, 0, (int64_t)INT32_MAX + 1, NULL, big, big, bu, NULL, NULL),
         SKRT_ERR_STATE, "exceed max_positions = 2147483647");
  skrt_kv_cache_destroy(c);
}

/* A rejected step changes nothing: the next good step matches a fresh cache bit for bit. */
static void test_nonfinite_scores(void **state) {
  (void)state;
  struct skrt_kv_cache *c = make(0), *fresh = make(0);
  struct step s, ref;
  step_fill(&s, 3);
  ref = s;
  struct skrt_kv_footprint f0, f1;
  assert_int_equal(skrt_kv_cache_footprint(c, &f0), SKRT_OK);
  s.u[1 * NHKV + 1] = NAN;
  expect(skrt_kv_cache_decode(c, 0, s.q, s.k, s.v, s.u, s.o, NULL), SKRT_ERR_NONFINITE,
         "score u[b=1, h=1, n=0] = nan is not finite");
  s.u[1 * NHKV + 1] = -INFINITY;
  expect(skrt_kv_cache_append(c, 0, s.k, s.v, s.u, NULL), SKRT_ERR_NONFINITE, "= -inf");
  assert_int_equal(skrt_kv_cache_footprint(c, &f1), SKRT_OK);
  assert_memory_equal(&f0, &f1, sizeof(f0));
  assert_int_equal(position(c, 0), 0);
  assert_int_equal(position(c, 1), 0);
  assert_int_equal(skrt_kv_cache_decode(c, 0, ref.q, ref.k, ref.v, ref.u, s.o, NULL), SKRT_OK);
  assert_int_equal(skrt_kv_cache_decode(fresh, 0, ref.q, ref.k, ref.v, ref.u, ref.o, NULL),
                   SKRT_OK);
  assert_memory_equal(s.o, ref.o, sizeof(s.o));
  skrt_kv_cache_destroy(c);
  skrt_kv_cache_destroy(fresh);
}

/* DLTensor with shape dims (up to 4), contiguous, fp32 on the CPU. */
struct dl {
  DLTensor t;
  int64_t shape[4];
};

static DLTensor *dl(struct dl *d, float *data, int ndim, int64_t a, int64_t b, int64_t c,
                    int64_t e) {
  int64_t shape[4] = {a, b, c, e};
  memcpy(d->shape, shape, sizeof(shape));
  d->t = (DLTensor){data, {kDLCPU, 0}, ndim, {kDLFloat, 32, 1}, d->shape, NULL, 0};
  return &d->t;
}

static void test_dlpack_shapes(void **state) {
  (void)state;
  struct skrt_kv_cache *c = make(0);
  static float buf[4096];
  struct dl q, k, v, u, o;
  dl(&q, buf, 3, NB, NHQ, ND, 0), dl(&k, buf, 3, NB, NHKV, ND, 0), dl(&v, buf, 3, NB, NHKV, ND, 0);
  dl(&u, buf, 2, NB, NHKV, 0, 0), dl(&o, buf + 2048, 3, NB, NHQ, ND, 0);
  assert_int_equal(skrt_kv_cache_forward_dl(c, 0, &q.t, &k.t, &v.t, &u.t, &o.t, NULL), SKRT_OK);
  struct dl bad;
  expect(
      skrt_kv_cache_forward_dl(c, 0, &q.t, dl(&bad, buf, 3, NB, 3, ND, 0), &v.t, &u.t, &o.t, NULL),
      SKRT_ERR_SHAPE, "k shape[1] is 3, the cache has Hkv = 2");
  expect(skrt_kv_cache_forward_dl(c, 0, &q.t, &k.t, dl(&bad, buf, 3, NB, NHKV, 5, 0), &u.t, &o.t,
                                  NULL),
         SKRT_ERR_SHAPE, "v shape[2] is 5, the cache has D = 4");
  expect(skrt_kv_cache_forward_dl(c, 0, dl(&bad, buf, 3, NB + 1, NHQ, ND, 0), &k.t, &v.t, &u.t,
                                  &o.t, NULL),
         SKRT_ERR_SHAPE, "q shape[0] is 3, the cache has B = 2");
  expect(skrt_kv_cache_forward_dl(c, 0, &q.t, &k.t, &v.t, &u.t, dl(&bad, buf, 3, NB, NHKV, ND, 0),
                                  NULL),
         SKRT_ERR_SHAPE, "o shape[1] is 2, the cache has Hq = 4");
  expect(
      skrt_kv_cache_forward_dl(c, 0, &q.t, &k.t, &v.t, dl(&bad, buf, 1, NB, 0, 0, 0), &o.t, NULL),
      SKRT_ERR_SHAPE, "u has rank 1, expected 3");
  /* rank-4 k with N = 2 needs rank-4 everything with N = 2 */
  struct dl k4, v4, u3;
  dl(&k4, buf, 4, NB, NHKV, 2, ND), dl(&v4, buf, 4, NB, NHKV, 2, ND),
      dl(&u3, buf, 3, NB, NHKV, 2, 0);
  expect(skrt_kv_cache_forward_dl(c, 0, &q.t, &k4.t, &v4.t, &u3.t, &o.t, NULL), SKRT_ERR_SHAPE,
         "q has rank 3, expected 4");
  expect(skrt_kv_cache_forward_dl(c, 0, NULL, &k4.t, &v4.t, dl(&bad, buf, 3, NB, NHKV, 3, 0), NULL,
                                  NULL),
         SKRT_ERR_SHAPE, "u shape[2] is 3, the cache has N (from k) = 2");
  expect(skrt_kv_cache_forward_dl(c, 0, &q.t, &k.t, &v.t, &u.t, NULL, NULL), SKRT_ERR_NULL,
         "o is NULL but q is not");
  expect(skrt_kv_cache_forward_dl(c, 0, &q.t, NULL, &v.t, &u.t, &o.t, NULL), SKRT_ERR_NULL,
         "k is NULL");
  assert_int_equal(position(c, 0), 1);
  skrt_kv_cache_destroy(c);
}

static void test_dlpack_types(void **state) {
  (void)state;
  struct skrt_kv_cache *c = make(0);
  static float buf[4096];
  struct dl q, k, v, u, o;
  dl(&q, buf, 3, NB, NHQ, ND, 0), dl(&k, buf, 3, NB, NHKV, ND, 0), dl(&v, buf, 3, NB, NHKV, ND, 0);
  dl(&u, buf, 2, NB, NHKV, 0, 0), dl(&o, buf + 2048, 3, NB, NHQ, ND, 0);
  v.t.dtype.bits = 64;
  expect(skrt_kv_cache_forward_dl(c, 0, &q.t, &k.t, &v.t, &u.t, &o.t, NULL), SKRT_ERR_DTYPE,
         "v has dtype (code 2, bits 64, lanes 1), expected float32");
  v.t.dtype.bits = 32, q.t.device.device_type = kDLCUDA;
  expect(skrt_kv_cache_forward_dl(c, 0, &q.t, &k.t, &v.t, &u.t, &o.t, NULL), SKRT_ERR_DEVICE,
         "q lives on device type 2");
  q.t.device.device_type = kDLCPU, k.t.data = NULL;
  expect(skrt_kv_cache_forward_dl(c, 0, &q.t, &k.t, &v.t, &u.t, &o.t, NULL), SKRT_ERR_NULL,
         "k has no data");
  k.t.data = buf;
  int64_t strides[3] = {NHKV * ND * 2, ND * 2, 2};
  v.t.strides = strides;
  expect(skrt_kv_cache_forward_dl(c, 0, &q.t, &k.t, &v.t, &u.t, &o.t, NULL), SKRT_ERR_SHAPE,
         "v has D stride 2, expected 1");
  assert_int_equal(position(c, 0), 0);
  skrt_kv_cache_destroy(c);
}

static void test_scores_errors(void **state) {
  (void)state;
  struct skrt_kv_cache *c = make(0);
  float x[NB * NHKV * ND] = {0}, w[NHKV * ND] = {0}, u[NB * NHKV];
  expect(skrt_kv_cache_scores(c, 0, 9, x, ND, w, NULL, 0.0, u), SKRT_ERR_ARG, "mode = 9");
  expect(skrt_kv_cache_scores(c, 0, SKRT_SCORE_KEYS, x, ND + 1, w, NULL, 0.0, u), SKRT_ERR_SHAPE,
         "F = 5, keys mode needs F = D = 4");
  expect(skrt_kv_cache_scores(c, 0, SKRT_SCORE_HIDDEN, x, 0, w, NULL, 0.0, u), SKRT_ERR_ARG,
         "F = 0");
  expect(skrt_kv_cache_scores(c, 0, SKRT_SCORE_HIDDEN, x, ND, NULL, NULL, 0.0, u), SKRT_ERR_NULL,
         "w_score is NULL");
  expect(skrt_kv_cache_scores(c, 0, SKRT_SCORE_HIDDEN, x, ND, w, NULL, 0.0, NULL), SKRT_ERR_NULL,
         "u is NULL");
  w[ND + 1] = INFINITY, x[1] = 1.0f;
  expect(skrt_kv_cache_scores(c, 0, SKRT_SCORE_HIDDEN, x, ND, w, NULL, 0.0, u), SKRT_ERR_NONFINITE,
         "u[b=0, h=1] = inf is not finite");
  skrt_kv_cache_destroy(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create),
      cmocka_unit_test(test_null_and_ranges),
      cmocka_unit_test(test_position_overflow),
      cmocka_unit_test(test_nonfinite_scores),
      cmocka_unit_test(test_dlpack_shapes),
      cmocka_unit_test(test_dlpack_types),
      cmocka_unit_test(test_scores_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
