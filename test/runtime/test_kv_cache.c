/* Exactness of the KV cache (S12): decoding a random sequence position by position, after a
 * prefill of any length (0, 1, 37, N), gives the outputs of the full layer (S5-S10) computed
 * by the double reference skrt_ref_attention_forward, within 1e-5 relative per output row
 * (max_d |o - ref| <= 1e-5 * max_d |ref|), for MHA (D = 20) and GQA (6 query heads per KV
 * head, D = 16), both gates, w in {0, 1, 64}, k in {1, 64}, continuous and tied scores, N 240.
 * Every case runs three ways through the API: A  contiguous wrappers (prefill with outputs, then
 * skrt_kv_cache_decode per token); B  skrt_kv_cache_forward on strided views of the full tensors,
 * in random chunks, the prompt appended without outputs; C  skrt_kv_cache_forward_dl on (B, N, H,
 * D) tensors (non-contiguous head axis). Also: skrt_kv_cache_scores against skrt_ref_scores (S5) at
 * the cache's positions. */
#include "test_core_util.h"

#include <stdlib.h>
#include <string.h>

#include "skrt/kv_cache.h"
#include "skrt/sparsek.h"

#define NSEQ 240
#define SDIM 8 /* head dim of the score-helper test */

/* Head dim of the current case (kvt_run_case sets it): 20 exercises the kernel's 16-wide
 * blocks plus a tail, 16 the blocks alone. */
static int64_t kvt_dim = 16;
#define DIM kvt_dim
#define BATCH 2

struct kvt_case {
  int64_t Hq, Hkv, D, topk, window;
  int gate, tied;
};

/* Inputs in double (reference) and float (cache), plus reference outputs. */
struct kvt_data {
  struct kvt_case c;
  int64_t nq, nk, nu; /* element counts of q/o, k/v, u */
  double *qd, *kd, *vd, *ud, *od;
  float *q, *k, *v, *u;
};

static double *kvt_fill(uint64_t *rng, int64_t n, double amp, float *f) {
  double *d = malloc((size_t)n * sizeof(double));
  for (int64_t i = 0; i < n; i++) {
    f[i] = (float)(amp * tc_normal(rng));
    d[i] = f[i];
  }
  return d;
}

static void kvt_make(struct kvt_data *t, const struct kvt_case *c, uint64_t seed) {
  t->c = *c;
  t->nq = BATCH * c->Hq * NSEQ * DIM;
  t->nk = BATCH * c->Hkv * NSEQ * DIM;
  t->nu = BATCH * c->Hkv * NSEQ;
  t->q = malloc((size_t)t->nq * sizeof(float));
  t->k = malloc((size_t)t->nk * sizeof(float));
  t->v = malloc((size_t)t->nk * sizeof(float));
  t->u = malloc((size_t)t->nu * sizeof(float));
  t->qd = kvt_fill(&seed, t->nq, 1.5, t->q);
  t->kd = kvt_fill(&seed, t->nk, 1.0, t->k);
  t->vd = kvt_fill(&seed, t->nk, 1.0, t->v);
  t->ud = kvt_fill(&seed, t->nu, 1.5, t->u);
  for (int64_t i = 0; c->tied && i < t->nu; i++) /* 5 levels half a gate apart: many ties */
    t->ud[i] = t->u[i] = (float)tc_int(&seed, 0, 4) * 0.5f;
  t->od = malloc((size_t)t->nq * sizeof(double));
  struct skrt_ref_shape s = {BATCH, c->Hq, c->Hkv, NSEQ, DIM, 0};
  struct skrt_ref_config rc = {
      c->topk, c->window, c->gate, SKRT_SCORE_INPUT, 1.0 / sqrt((double)DIM), 0.0};
  assert_int_equal(
      skrt_ref_attention_forward(&s, &rc, t->qd, t->kd, t->vd, t->ud, t->od, NULL, NULL, NULL),
      SKRT_OK);
}

static void kvt_free(struct kvt_data *t) {
  free(t->q), free(t->k), free(t->v), free(t->u);
  free(t->qd), free(t->kd), free(t->vd), free(t->ud), free(t->od);
}

static struct skrt_kv_cache *kvt_cache(const struct kvt_case *c) {
  struct skrt_kv_cache_config cfg = {1,   BATCH,   c->Hq,       c->Hkv,
                                     DIM, c->topk, c->window,   c->gate,
                                     0.0, 0,       SKRT_KV_F32, SKRT_KV_DEVICE_CPU};
  struct skrt_kv_cache *cache = NULL;
  assert_int_equal(skrt_kv_cache_create(&cfg, &cache), SKRT_OK);
  return cache;
}

/* Worst row error / row scale over positions [from, NSEQ) of o (B, Hq, NSEQ, D). */
static double kvt_error(const struct kvt_data *t, const float *o, int64_t from) {
  double worst = 0.0;
  for (int64_t r = 0; r < BATCH * t->c.Hq * NSEQ; r++) {
    if (r % NSEQ < from)
      continue;
    double err = 0.0, scale = 1e-30;
    for (int64_t d = 0; d < DIM; d++) {
      err = fmax(err, fabs((double)o[r * DIM + d] - t->od[r * DIM + d]));
      scale = fmax(scale, fabs(t->od[r * DIM + d]));
    }
    worst = fmax(worst, err / scale);
  }
  return worst;
}

/* Copies position n of x (B, H, NSEQ, D) into y (B, H, D) (D = 1 for u). */
static void kvt_gather(float *y, const float *x, int64_t H, int64_t n0, int64_t len, int64_t D) {
  for (int64_t bh = 0; bh < BATCH * H; bh++)
    memcpy(y + bh * len * D, x + (bh * NSEQ + n0) * D, (size_t)(len * D) * sizeof(float));
}

static void kvt_scatter(float *x, const float *y, int64_t H, int64_t n0, int64_t len) {
  for (int64_t bh = 0; bh < BATCH * H; bh++)
    memcpy(x + (bh * NSEQ + n0) * DIM, y + bh * len * DIM, (size_t)(len * DIM) * sizeof(float));
}

/* A: contiguous prefill with outputs, then one decode call per token. */
static double kvt_run_a(const struct kvt_data *t, int64_t P) {
  const struct kvt_case *c = &t->c;
  struct skrt_kv_cache *cache = kvt_cache(c);
  float *o = calloc((size_t)t->nq, sizeof(float));
  int64_t L = P > 0 ? P : 1;
  float *q = malloc((size_t)(BATCH * c->Hq * L * DIM) * sizeof(float));
  float *k = malloc((size_t)(BATCH * c->Hkv * L * DIM) * sizeof(float));
  float *v = malloc((size_t)(BATCH * c->Hkv * L * DIM) * sizeof(float));
  float *u = malloc((size_t)(BATCH * c->Hkv * L) * sizeof(float));
  float *ob = malloc((size_t)(BATCH * c->Hq * L * DIM) * sizeof(float));
  for (int64_t n = 0; n < NSEQ; n += L, L = 1) {
    kvt_gather(q, t->q, c->Hq, n, L, DIM);
    kvt_gather(k, t->k, c->Hkv, n, L, DIM);
    kvt_gather(v, t->v, c->Hkv, n, L, DIM);
    kvt_gather(u, t->u, c->Hkv, n, L, 1);
    int st = n == 0 && P > 0 ? skrt_kv_cache_prefill(cache, 0, L, q, k, v, u, ob, NULL)
                             : skrt_kv_cache_decode(cache, 0, q, k, v, u, ob, NULL);
    assert_int_equal(st, SKRT_OK);
    kvt_scatter(o, ob, c->Hq, n, L);
  }
  double e = kvt_error(t, o, 0);
  free(q), free(k), free(v), free(u), free(ob), free(o);
  skrt_kv_cache_destroy(cache);
  return e;
}

static void kvt_view(int64_t *s, const struct kvt_data *t, int64_t H, int64_t D) {
  (void)t;
  s[0] = H * NSEQ * D;
  s[1] = NSEQ * D;
  s[2] = D;
}

/* B: strided views of the full tensors; prompt without outputs; then random chunks. */
static double kvt_run_b(const struct kvt_data *t, int64_t P, uint64_t *rng) {
  const struct kvt_case *c = &t->c;
  struct skrt_kv_cache *cache = kvt_cache(c);
  float *o = calloc((size_t)t->nq, sizeof(float));
  struct skrt_kv_io io;
  kvt_view(io.q_stride, t, c->Hq, DIM);
  kvt_view(io.o_stride, t, c->Hq, DIM);
  kvt_view(io.k_stride, t, c->Hkv, DIM);
  kvt_view(io.v_stride, t, c->Hkv, DIM);
  kvt_view(io.u_stride, t, c->Hkv, 1);
  for (int64_t n = 0, len = P; n < NSEQ; n += len, len = tc_int(rng, 1, 17)) {
    len = len < NSEQ - n ? len : NSEQ - n;
    if (len == 0)
      continue;
    io.q = n < P ? NULL : t->q + n * DIM;
    io.o = n < P ? NULL : o + n * DIM;
    io.k = t->k + n * DIM;
    io.v = t->v + n * DIM;
    io.u = t->u + n;
    assert_int_equal(skrt_kv_cache_forward(cache, 0, len, &io, NULL), SKRT_OK);
  }
  int64_t pos;
  assert_int_equal(skrt_kv_cache_position(cache, 0, BATCH - 1, &pos), SKRT_OK);
  assert_int_equal(pos, NSEQ);
  double e = kvt_error(t, o, P);
  free(o);
  skrt_kv_cache_destroy(cache);
  return e;
}

/* (B, NSEQ, H, D) copy of x (B, H, NSEQ, D) and a DLTensor over positions [n, n + len). */
static float *kvt_bnhd(const float *x, int64_t H, int64_t D) {
  float *y = malloc((size_t)(BATCH * H * NSEQ * D) * sizeof(float));
  for (int64_t b = 0; b < BATCH; b++)
    for (int64_t h = 0; h < H; h++)
      for (int64_t n = 0; n < NSEQ; n++)
        memcpy(y + ((b * NSEQ + n) * H + h) * D, x + ((b * H + h) * NSEQ + n) * D,
               (size_t)D * sizeof(float));
  return y;
}

struct kvt_dl {
  DLTensor t;
  int64_t shape[4], strides[4];
};

static DLTensor *kvt_dl(struct kvt_dl *d, float *base, int64_t H, int64_t D, int64_t n,
                        int64_t len) {
  int64_t shape[4] = {BATCH, H, len, D}, strides[4] = {NSEQ * H * D, D, H * D, 1};
  memcpy(d->shape, shape, sizeof(shape));
  memcpy(d->strides, strides, sizeof(strides));
  d->t = (DLTensor){
      base + n * H * D, {kDLCPU, 0}, D > 1 ? 4 : 3, {kDLFloat, 32, 1}, d->shape, d->strides, 0};
  return &d->t;
}

/* C: the DLPack entry over (B, N, H, D) tensors; prefill with outputs, then N = 1 steps. */
static double kvt_run_c(const struct kvt_data *t, int64_t P) {
  const struct kvt_case *c = &t->c;
  struct skrt_kv_cache *cache = kvt_cache(c);
  float *q = kvt_bnhd(t->q, c->Hq, DIM), *k = kvt_bnhd(t->k, c->Hkv, DIM);
  float *v = kvt_bnhd(t->v, c->Hkv, DIM), *u = kvt_bnhd(t->u, c->Hkv, 1);
  float *o = calloc((size_t)t->nq, sizeof(float));
  struct kvt_dl dq, dk, dv, du, dout;
  for (int64_t n = 0, len = P > 0 ? P : 1; n < NSEQ; n += len, len = 1)
    assert_int_equal(skrt_kv_cache_forward_dl(cache, 0, kvt_dl(&dq, q, c->Hq, DIM, n, len),
                                              kvt_dl(&dk, k, c->Hkv, DIM, n, len),
                                              kvt_dl(&dv, v, c->Hkv, DIM, n, len),
                                              kvt_dl(&du, u, c->Hkv, 1, n, len),
                                              kvt_dl(&dout, o, c->Hq, DIM, n, len), NULL),
                     SKRT_OK);
  float *oref = malloc((size_t)t->nq * sizeof(float)); /* back to (B, Hq, N, D) */
  for (int64_t b = 0; b < BATCH; b++)
    for (int64_t h = 0; h < c->Hq; h++)
      for (int64_t n = 0; n < NSEQ; n++)
        memcpy(oref + ((b * c->Hq + h) * NSEQ + n) * DIM, o + ((b * NSEQ + n) * c->Hq + h) * DIM,
               DIM * sizeof(float));
  double worst = kvt_error(t, oref, 0);
  free(q), free(k), free(v), free(u), free(o), free(oref);
  skrt_kv_cache_destroy(cache);
  return worst;
}

static void kvt_run_case(const struct kvt_case *c, uint64_t seed) {
  struct kvt_data t;
  kvt_dim = c->D;
  kvt_make(&t, c, seed);
  const int64_t prefill[] = {0, 1, 37, NSEQ};
  for (int i = 0; i < 4; i++) {
    double e[3] = {kvt_run_a(&t, prefill[i]), kvt_run_b(&t, prefill[i], &seed),
                   kvt_run_c(&t, prefill[i])};
    for (int m = 0; m < 3; m++)
      if (!(e[m] <= 1e-5))
        fail_msg("Hq %lld Hkv %lld k %lld w %lld gate %d tied %d prefill %lld way %c: "
                 "relative error %.3g",
                 (long long)c->Hq, (long long)c->Hkv, (long long)c->topk, (long long)c->window,
                 c->gate, c->tied, (long long)prefill[i], 'A' + m, e[m]);
  }
  kvt_free(&t);
}

static void kvt_sweep(int64_t Hq, int64_t Hkv, int64_t D, int gate) {
  const int64_t ks[] = {1, 64}, ws[] = {0, 1, 64};
  uint64_t seed = (uint64_t)(Hq * 131 + Hkv * 7 + gate);
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 3; b++)
      for (int tied = 0; tied < 2; tied++) {
        struct kvt_case c = {Hq, Hkv, D, ks[a], ws[b], gate, tied};
        kvt_run_case(&c, seed++);
      }
}

/* MHA with D = 20; GQA with 6 query heads per KV head (the kernel's 4-head block plus 2) and
 * D = 16. */
static void test_mha_gate_kv(void **state) { (void)state, kvt_sweep(2, 2, 20, SKRT_GATE_KV); }
static void test_mha_gate_v(void **state) { (void)state, kvt_sweep(2, 2, 20, SKRT_GATE_V); }
static void test_gqa_gate_kv(void **state) { (void)state, kvt_sweep(12, 2, 16, SKRT_GATE_KV); }
static void test_gqa_gate_v(void **state) { (void)state, kvt_sweep(12, 2, 16, SKRT_GATE_V); }

/* Window and budget larger than the sequence: plain causal attention over all keys. */
static void test_everything_fits(void **state) {
  (void)state;
  struct kvt_case c = {4, 1, 8, 300, 0, SKRT_GATE_KV, 0};
  kvt_run_case(&c, 99);
  c.window = 500;
  kvt_run_case(&c, 100);
}

/* S5 helper vs the reference scores, at cache positions 0 and 5 (slope matters). */
static void test_scores_helper(void **state) {
  (void)state;
  enum { F = 5 };
  struct kvt_case c = {4, 2, SDIM, 3, 2, SKRT_GATE_KV, 0};
  kvt_dim = SDIM;
  struct skrt_kv_cache *cache = kvt_cache(&c);
  uint64_t rng = 11;
  float x[BATCH * F], kk[BATCH * 2 * SDIM], w[2 * SDIM], bs[2], u[BATCH * 2],
      zero[BATCH * 2 * SDIM];
  double xd[BATCH * F], kd[BATCH * 2 * SDIM], wd[2 * SDIM], bd[2], ud[BATCH * 2];
  for (int i = 0; i < BATCH * F; i++)
    xd[i] = x[i] = (float)tc_normal(&rng);
  for (int i = 0; i < BATCH * 2 * SDIM; i++)
    kd[i] = kk[i] = (float)tc_normal(&rng), zero[i] = 0.0f;
  for (int i = 0; i < 2 * SDIM; i++)
    wd[i] = w[i] = (float)tc_normal(&rng);
  bd[0] = bs[0] = 0.25f, bd[1] = bs[1] = -1.5f;
  for (int step = 0; step < 2; step++) {
    int64_t pos = step * 5;
    for (int mode = SKRT_SCORE_HIDDEN; mode <= SKRT_SCORE_KEYS; mode++) {
      int64_t Fm = mode == SKRT_SCORE_HIDDEN ? F : SDIM;
      assert_int_equal(skrt_kv_cache_scores(cache, 0, mode, mode ? kk : x, Fm, w, bs, 0.125, u),
                       SKRT_OK);
      struct skrt_ref_shape s = {BATCH, 4, 2, 1, SDIM, F};
      struct skrt_ref_config rc = {3, 2, 0, mode, 1.0, 0.125};
      assert_int_equal(skrt_ref_scores(&s, &rc, xd, kd, wd, bd, NULL, ud), SKRT_OK);
      for (int i = 0; i < BATCH * 2; i++)
        assert_true(fabs((double)u[i] - (ud[i] + 0.125 * (double)pos)) <= 1e-5 * (1 + pos));
    }
    for (int i = 0; step == 0 && i < 5; i++)
      assert_int_equal(skrt_kv_cache_append(cache, 0, zero, zero, u, NULL), SKRT_OK);
  }
  float uin[BATCH * 2] = {1, 2, 3, 4};
  assert_int_equal(skrt_kv_cache_scores(cache, 0, SKRT_SCORE_INPUT, uin, 0, NULL, NULL, 1.0, u),
                   SKRT_OK);
  for (int i = 0; i < BATCH * 2; i++)
    assert_true(u[i] == uin[i] + 5.0f);
  skrt_kv_cache_destroy(cache);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mha_gate_kv),     cmocka_unit_test(test_mha_gate_v),
      cmocka_unit_test(test_gqa_gate_kv),     cmocka_unit_test(test_gqa_gate_v),
      cmocka_unit_test(test_everything_fits), cmocka_unit_test(test_scores_helper),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
