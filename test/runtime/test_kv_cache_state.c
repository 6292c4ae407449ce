/* Tests of the KV cache's per-stream state (kernels/cpu_decode.h, S3 and S6-S8) and of its
 * memory footprint (S12):
 *   - after every appended token, the gates clip(u_j - tau, 0, 1) of ALL candidates seen so
 *     far equal skrt_sparsek_forward over those candidates (tolerance 1e-5 absolute), and the
 *     selected set equals a brute-force top-k with ties to the larger position; scores drawn
 *     from a continuous law, from 4 levels (many ties) and with a position slope;
 *   - K/V bytes from skrt_kv_cache_footprint are identical at positions 4k, 64k and 1M,
 *     while the window and selected counts are full and the tau state stays bounded;
 *   - layers and batch items are independent streams (reset_item restarts one item);
 *   - a prefill leaves exactly the state of token-by-token appends (bitwise next outputs). */
#include "test_core_util.h"

#include <stdlib.h>
#include <string.h>

#include "kernels/cpu_decode.h"
#include "skrt/kv_cache.h"
#include "skrt/sparsek.h"

/* One stream with its own storage, D = 2. */
struct test_stream {
  struct skrt_kv_stream s;
  struct skrt_kv_dims d;
};

static void ts_init(struct test_stream *t, int64_t k, int64_t w) {
  memset(t, 0, sizeof(*t));
  t->d = (struct skrt_kv_dims){2, k, w, 1, SKRT_GATE_KV, 1.0f};
  t->s.k = calloc((size_t)(2 * (k + w)), sizeof(float));
  t->s.v = calloc((size_t)(2 * (k + w)), sizeof(float));
  t->s.sel_u = calloc((size_t)k, sizeof(float));
  t->s.sel_pos = calloc((size_t)k, sizeof(int32_t));
  t->s.heap = calloc((size_t)k, sizeof(int32_t));
  t->s.win_u = calloc((size_t)(w + 1), sizeof(float));
  t->s.tau.sat = calloc((size_t)(k + 1), sizeof(float));
  skrt_kv_tau_clear(&t->s.tau);
}

static void ts_free(struct test_stream *t) {
  free(t->s.k);
  free(t->s.v);
  free(t->s.sel_u);
  free(t->s.sel_pos);
  free(t->s.heap);
  free(t->s.win_u);
  free(t->s.tau.sat);
  free(t->s.tau.fr);
}

/* Brute-force S8: is candidate j among the k largest of u[0..nc) with ties to larger j? */
static int brute_selected(const float *u, int64_t nc, int64_t k, int64_t j) {
  int64_t above = 0;
  for (int64_t i = 0; i < nc; i++)
    above += u[i] > u[j] || (u[i] == u[j] && i > j);
  return above < k;
}

/* Checks gates and the selected set of a stream whose candidates are u[0..nc). */
static void check_stream(const struct test_stream *t, const float *u, int64_t nc, float *p) {
  int64_t k = t->d.topk, nsel = 0;
  float tau_ref;
  assert_int_equal(skrt_sparsek_forward(u, nc, (float)k, p, &tau_ref), SKRT_OK);
  for (int64_t j = 0; j < nc; j++) {
    float m = skrt_kv_gate(t->s.tau.tau, u[j]);
    if (fabsf(m - p[j]) > 1e-5f)
      fail_msg("candidate %lld of %lld (k %lld): gate %.9g, reference %.9g", (long long)j,
               (long long)nc, (long long)k, (double)m, (double)p[j]);
    nsel += brute_selected(u, nc, k, j);
  }
  assert_int_equal(t->s.n_sel, nsel);
  for (int64_t s = 0; s < t->s.n_sel; s++) {
    int64_t j = t->s.sel_pos[s];
    assert_true(j >= 0 && j < nc);
    assert_true(brute_selected(u, nc, k, j));
    assert_true(t->s.sel_u[s] == u[j]);
    assert_true(t->s.k[s * 2] == (float)j); /* the key row moved with its token */
  }
}

/* kind 0: normal; 1: four levels (ties); 2: normal plus slope 0.05 * position. */
static float draw(uint64_t *rng, int kind, int64_t j) {
  double z = tc_normal(rng);
  if (kind == 1)
    return (float)tc_int(rng, 0, 3) * 0.5f;
  return (float)(kind == 2 ? z + 0.05 * (double)j : z);
}

static void run_stream(int64_t k, int64_t w, int kind, int64_t n, uint64_t seed) {
  struct test_stream t;
  ts_init(&t, k, w);
  float *u = malloc((size_t)n * sizeof(float)), *p = malloc((size_t)n * sizeof(float));
  for (int64_t j = 0; j < n; j++) {
    u[j] = draw(&seed, kind, j);
    float kr[2] = {(float)j, 0.0f}, vr[2] = {0.0f, (float)j};
    assert_int_equal(skrt_kv_tau_reserve(&t.s.tau, 1), 0);
    skrt_kv_stream_append(&t.s, &t.d, kr, vr, u[j]);
    int64_t nc = j + 1 - w; /* candidates are positions <= j - w */
    if (nc > 0)
      check_stream(&t, u, nc, p);
    else
      assert_int_equal(t.s.n_sel, 0);
  }
  free(u);
  free(p);
  ts_free(&t);
}

static void test_stream_gates_and_selection(void **state) {
  (void)state;
  const int64_t ks[] = {1, 3, 16}, ws[] = {0, 1, 5};
  uint64_t seed = 7;
  for (int kind = 0; kind < 3; kind++)
    for (int a = 0; a < 3; a++)
      for (int b = 0; b < 3; b++)
        run_stream(ks[a], ws[b], kind, 600, seed++);
}

/* Appends cheaply (no queries) until `pos` tokens, in chunks. */
static void fill_to(struct skrt_kv_cache *c, int64_t pos, float *k, float *u, int64_t chunk,
                    uint64_t *rng) {
  int64_t now;
  assert_int_equal(skrt_kv_cache_position(c, 0, 0, &now), SKRT_OK);
  while (now < pos) {
    int64_t n = pos - now < chunk ? pos - now : chunk;
    for (int64_t i = 0; i < n; i++)
      u[i] = (float)(tc_normal(rng) + 0.01 * (double)(now + i));
    assert_int_equal(skrt_kv_cache_prefill(c, 0, n, NULL, k, k, u, NULL, NULL), SKRT_OK);
    now += n;
  }
}

static void test_footprint_constant(void **state) {
  (void)state;
  struct skrt_kv_cache_config cfg = {
      1, 1, 1, 1, 4, 64, 32, SKRT_GATE_KV, 0.0, 0, SKRT_KV_F32, SKRT_KV_DEVICE_CPU};
  struct skrt_kv_cache *c = NULL;
  assert_int_equal(skrt_kv_cache_create(&cfg, &c), SKRT_OK);
  const int64_t chunk = 4096, at[] = {4096, 65536, 1048576};
  float *k = calloc((size_t)chunk * 4, sizeof(float)), *u = malloc((size_t)chunk * 4);
  struct skrt_kv_footprint f[3];
  uint64_t rng = 3;
  for (int i = 0; i < 3; i++) {
    fill_to(c, at[i], k, u, chunk, &rng);
    assert_int_equal(skrt_kv_cache_footprint(c, &f[i]), SKRT_OK);
    assert_int_equal(f[i].kv_bytes, (64 + 32) * 4 * 2 * 4);
    assert_int_equal(f[i].kv_used_bytes, f[i].kv_bytes);
    assert_int_equal(f[i].selected_tokens, 64);
    assert_int_equal(f[i].window_tokens, 32);
    assert_true(f[i].max_active_scalars < 4096); /* slope: old candidates fall out */
    assert_true(f[i].scalar_bytes < 64 * 1024);
  }
  assert_int_equal(f[0].kv_bytes, f[1].kv_bytes);
  assert_int_equal(f[1].kv_bytes, f[2].kv_bytes);
  int64_t pos;
  assert_int_equal(skrt_kv_cache_position(c, 0, 0, &pos), SKRT_OK);
  assert_int_equal(pos, 1048576);
  free(k);
  free(u);
  skrt_kv_cache_destroy(c);
}

/* Before the cache fills, used bytes track the tokens held; reset empties it. */
static void test_footprint_counts(void **state) {
  (void)state;
  struct skrt_kv_cache_config cfg = {2, 3,           4,   2, 8,           5,
                                     3, SKRT_GATE_V, 0.0, 0, SKRT_KV_F32, SKRT_KV_DEVICE_CPU};
  struct skrt_kv_cache *c = NULL;
  assert_int_equal(skrt_kv_cache_create(&cfg, &c), SKRT_OK);
  float k[3 * 2 * 8] = {0}, u[3 * 2] = {0};
  struct skrt_kv_footprint f;
  for (int t = 0; t < 6; t++) {
    assert_int_equal(skrt_kv_cache_append(c, 1, k, k, u, NULL), SKRT_OK);
    assert_int_equal(skrt_kv_cache_footprint(c, &f), SKRT_OK);
    int64_t win = t + 1 < 3 ? t + 1 : 3, sel = t + 1 - win;
    assert_int_equal(f.streams, 2 * 3 * 2);
    assert_int_equal(f.window_tokens, 3 * 2 * win);
    assert_int_equal(f.selected_tokens, 3 * 2 * sel);
    assert_int_equal(f.kv_used_bytes, 3 * 2 * (win + sel) * 8 * 2 * 4);
    assert_int_equal(f.kv_bytes, 12 * (5 + 3) * 8 * 2 * 4);
  }
  int64_t pos;
  assert_int_equal(skrt_kv_cache_position(c, 0, 2, &pos), SKRT_OK);
  assert_int_equal(pos, 0);
  assert_int_equal(skrt_kv_cache_reset_item(c, 1), SKRT_OK);
  assert_int_equal(skrt_kv_cache_position(c, 1, 1, &pos), SKRT_OK);
  assert_int_equal(pos, 0);
  assert_int_equal(skrt_kv_cache_position(c, 1, 2, &pos), SKRT_OK);
  assert_int_equal(pos, 6);
  assert_int_equal(skrt_kv_cache_reset(c), SKRT_OK);
  assert_int_equal(skrt_kv_cache_footprint(c, &f), SKRT_OK);
  assert_int_equal(f.kv_used_bytes, 0);
  assert_int_equal(f.active_scalars, 0);
  skrt_kv_cache_destroy(c);
}

/* Streams are independent: a 2-layer, 2-item cache (item 1 reset halfway) gives bit for bit
 * the outputs of one single-item, single-layer cache per (layer, item), re-created at the
 * reset; positions read back per item. */
enum { IL = 2, IB = 2, IHQ = 4, IHKV = 2, ID = 16, ISTEPS = 60, IRESET = 30 };

static struct skrt_kv_cache *indep_cache(int64_t layers, int64_t B) {
  struct skrt_kv_cache_config cfg = {
      layers, B, IHQ, IHKV, ID, 4, 3, SKRT_GATE_KV, 0.0, 0, SKRT_KV_F32, SKRT_KV_DEVICE_CPU};
  struct skrt_kv_cache *c = NULL;
  assert_int_equal(skrt_kv_cache_create(&cfg, &c), SKRT_OK);
  return c;
}

static void test_layers_and_items_independent(void **state) {
  (void)state;
  struct skrt_kv_cache *all = indep_cache(IL, IB), *one[IL][IB];
  for (int l = 0; l < IL; l++)
    for (int b = 0; b < IB; b++)
      one[l][b] = indep_cache(1, 1);
  uint64_t rng = 5;
  float q[IB * IHQ * ID], k[IB * IHKV * ID], v[IB * IHKV * ID], u[IB * IHKV];
  float o[IB * IHQ * ID], o1[IHQ * ID];
  for (int t = 0; t < ISTEPS; t++) {
    if (t == IRESET) {
      assert_int_equal(skrt_kv_cache_reset_item(all, 1), SKRT_OK);
      for (int l = 0; l < IL; l++) {
        skrt_kv_cache_destroy(one[l][1]);
        one[l][1] = indep_cache(1, 1);
      }
    }
    for (int l = 0; l < IL; l++) {
      for (int i = 0; i < IB * IHQ * ID; i++)
        q[i] = (float)tc_normal(&rng);
      for (int i = 0; i < IB * IHKV * ID; i++)
        k[i] = (float)tc_normal(&rng), v[i] = (float)tc_normal(&rng);
      for (int i = 0; i < IB * IHKV; i++)
        u[i] = (float)tc_normal(&rng);
      assert_int_equal(skrt_kv_cache_decode(all, l, q, k, v, u, o, NULL), SKRT_OK);
      for (int b = 0; b < IB; b++) {
        assert_int_equal(skrt_kv_cache_decode(one[l][b], 0, q + b * IHQ * ID, k + b * IHKV * ID,
                                              v + b * IHKV * ID, u + b * IHKV, o1, NULL),
                         SKRT_OK);
        assert_memory_equal(o + b * IHQ * ID, o1, sizeof(o1));
      }
    }
  }
  int64_t pos;
  assert_int_equal(skrt_kv_cache_position(all, 1, 0, &pos), SKRT_OK);
  assert_int_equal(pos, ISTEPS);
  assert_int_equal(skrt_kv_cache_position(all, 1, 1, &pos), SKRT_OK);
  assert_int_equal(pos, ISTEPS - IRESET);
  skrt_kv_cache_destroy(all);
  for (int l = 0; l < IL; l++)
    for (int b = 0; b < IB; b++)
      skrt_kv_cache_destroy(one[l][b]);
}

/* A prefill of P tokens leaves exactly the state of P single-token appends: the next decode
 * steps agree bit for bit and so do the footprints. */
static void test_prefill_equals_appends(void **state) {
  (void)state;
  enum { P = 100, S = 50, TOK = IB * IHKV * ID };
  struct skrt_kv_cache *a = indep_cache(1, IB), *b = indep_cache(1, IB);
  uint64_t rng = 9;
  float *k = malloc(sizeof(float) * IB * IHKV * P * ID),
        *v = malloc(sizeof(float) * IB * IHKV * P * ID);
  float *u = malloc(sizeof(float) * IB * IHKV * P), kt[TOK], vt[TOK], ut[IB * IHKV];
  for (int i = 0; i < IB * IHKV * P * ID; i++)
    k[i] = (float)tc_normal(&rng), v[i] = (float)tc_normal(&rng);
  for (int i = 0; i < IB * IHKV * P; i++)
    u[i] = (float)tc_int(&rng, 0, 6) * 0.25f; /* ties too */
  assert_int_equal(skrt_kv_cache_prefill(a, 0, P, NULL, k, v, u, NULL, NULL), SKRT_OK);
  for (int n = 0; n < P; n++) {
    for (int bh = 0; bh < IB * IHKV; bh++) {
      memcpy(kt + bh * ID, k + (bh * P + n) * ID, sizeof(float) * ID);
      memcpy(vt + bh * ID, v + (bh * P + n) * ID, sizeof(float) * ID);
      ut[bh] = u[bh * P + n];
    }
    assert_int_equal(skrt_kv_cache_append(b, 0, kt, vt, ut, NULL), SKRT_OK);
  }
  float q[IB * IHQ * ID], oa[IB * IHQ * ID], ob[IB * IHQ * ID];
  struct skrt_kv_footprint fa, fb;
  for (int t = 0; t < S; t++) {
    for (int i = 0; i < IB * IHQ * ID; i++)
      q[i] = (float)tc_normal(&rng);
    for (int i = 0; i < TOK; i++)
      kt[i] = (float)tc_normal(&rng), vt[i] = (float)tc_normal(&rng);
    for (int i = 0; i < IB * IHKV; i++)
      ut[i] = (float)tc_int(&rng, 0, 6) * 0.25f;
    assert_int_equal(skrt_kv_cache_decode(a, 0, q, kt, vt, ut, oa, NULL), SKRT_OK);
    assert_int_equal(skrt_kv_cache_decode(b, 0, q, kt, vt, ut, ob, NULL), SKRT_OK);
    assert_memory_equal(oa, ob, sizeof(oa));
  }
  assert_int_equal(skrt_kv_cache_footprint(a, &fa), SKRT_OK);
  assert_int_equal(skrt_kv_cache_footprint(b, &fb), SKRT_OK);
  assert_int_equal(fa.active_scalars, fb.active_scalars);
  assert_int_equal(fa.selected_tokens, fb.selected_tokens);
  assert_int_equal(fa.kv_used_bytes, fb.kv_used_bytes);
  free(k), free(v), free(u);
  skrt_kv_cache_destroy(a);
  skrt_kv_cache_destroy(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stream_gates_and_selection),
      cmocka_unit_test(test_footprint_constant),
      cmocka_unit_test(test_footprint_counts),
      cmocka_unit_test(test_layers_and_items_independent),
      cmocka_unit_test(test_prefill_equals_appends),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
