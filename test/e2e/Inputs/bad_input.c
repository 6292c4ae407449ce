/* Bad-input harness for a generated entry with the signature of test/e2e/dynamic.mlir's @gqa
 * (q, k, v, w_score, b_score, out, ctx; q (B,4,N,8), k/v (B,2,N,8), scores from the keys):
 * every failure must return its skrt_status and a message that names the tensor and expected
 * vs actual, never abort, and leave a later good call working. Prints one line per case. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <dlpack/dlpack.h>

#include "skrt.h"

enum { B = 2, HQ = 4, HKV = 2, N = 8, D = 8 };
static float q[B * HQ * N * D], k[B * HKV * N * D], v[B * HKV * N * D], o[B * HQ * N * D];
static float w[HKV * D], bias[HKV];
static int64_t sq[4] = {B, HQ, N, D}, sk[4] = {B, HKV, N, D}, sw[2] = {HKV, D}, sb[1] = {HKV};

static DLTensor tensor(void *data, int ndim, int64_t *shape) {
  DLTensor t;
  memset(&t, 0, sizeof t);
  t.data = data;
  t.device.device_type = kDLCPU;
  t.ndim = ndim;
  t.dtype.code = kDLFloat;
  t.dtype.bits = 32;
  t.dtype.lanes = 1;
  t.shape = shape;
  return t;
}

struct args {
  DLTensor q, k, v, w, b, o;
  const DLTensor *pq;
  struct skrt_context *ctx;
};

static struct args good(void) {
  struct args a = {tensor(q, 4, sq),
                   tensor(k, 4, sk),
                   tensor(v, 4, sk),
                   tensor(w, 2, sw),
                   tensor(bias, 1, sb),
                   tensor(o, 4, sq),
                   NULL,
                   NULL};
  return a;
}

static void run(const char *name, struct args a) {
  int st = gqa(a.pq ? a.pq : &a.q, &a.k, &a.v, &a.w, &a.b, &a.o, a.ctx);
  printf("%s: status=%d (%s) msg=%s\n", name, st, skrt_status_string(st), skrt_last_error());
}

int main(void) {
  for (size_t i = 0; i < sizeof q / sizeof *q; ++i)
    q[i] = o[i] = (float)((i * 7919) % 13) / 13.0f;
  for (size_t i = 0; i < sizeof k / sizeof *k; ++i)
    k[i] = v[i] = (float)((i * 104729) % 17) / 17.0f;
  for (size_t i = 0; i < sizeof w / sizeof *w; ++i)
    w[i] = 0.5f;
  struct args a = good();
  run("ok", a);
  DLTensor null_data = tensor(NULL, 4, sq);
  a.pq = &null_data;
  run("null_data", a);
  a = good();
  int st = gqa(NULL, &a.k, &a.v, &a.w, &a.b, &a.o, NULL);
  printf("null_q: status=%d (%s) msg=%s\n", st, skrt_status_string(st), skrt_last_error());
  a.k.ndim = 3;
  run("rank", a);
  a = good();
  int64_t s3[4] = {B, 3, N, D};
  a.v.shape = s3;
  run("static_dim", a);
  a = good();
  int64_t sn[4] = {B, HKV, N - 1, D};
  a.k = tensor(k, 4, sn);
  run("dynamic_n", a);
  a = good();
  int64_t sbb[4] = {B - 1, HQ, N, D};
  a.o = tensor(o, 4, sbb);
  run("dynamic_b", a);
  a = good();
  a.v.dtype.bits = 64;
  run("dtype", a);
  a = good();
  a.o.device.device_type = kDLCUDA;
  run("device", a);
  a = good();
  int64_t bad_strides[4] = {HQ * N * D, N * D, 1, N};
  a.o.strides = bad_strides;
  run("strides", a);
  a = good();
  bias[1] = INFINITY;
  run("nonfinite", a);
  bias[1] = 0;
  k[3] = NAN;
  run("nan_key", a);
  k[3] = 0;
  int64_t s0[4] = {B, HQ, 0, D}, s0k[4] = {B, HKV, 0, D};
  a.q = tensor(q, 4, s0), a.k = tensor(k, 4, s0k), a.v = tensor(v, 4, s0k), a.o = tensor(o, 4, s0);
  run("empty", a);
  a = good();
  struct skrt_context_options opts = {1, NULL};
  skrt_context_create(&opts, &a.ctx);
  run("ctx", a);
  skrt_context_destroy(a.ctx);
  /* the decode entry: no cache, and a cache made for another layer */
  a = good();
  st = gqa_decode(NULL, 0, &a.q, &a.k, &a.v, &a.w, &a.b, &a.o, NULL);
  printf("decode_null: status=%d (%s) msg=%s\n", st, skrt_status_string(st), skrt_last_error());
  struct skrt_kv_cache_config cfg = {
      1, B, HQ, HKV, D, 9, 3, SKRT_GATE_KV, 0.3, 0, SKRT_KV_F32, SKRT_KV_DEVICE_CPU};
  struct skrt_kv_cache *cache = NULL;
  skrt_kv_cache_create(&cfg, &cache);
  st = gqa_decode(cache, 0, &a.q, &a.k, &a.v, &a.w, &a.b, &a.o, NULL);
  printf("decode_cache: status=%d (%s) msg=%s\n", st, skrt_status_string(st), skrt_last_error());
  skrt_kv_cache_destroy(cache);
  gqa_kv_cache_create(1, B, 0, &cache);
  st = gqa_decode(cache, 0, &a.q, &a.k, &a.v, &a.w, &a.b, &a.o, NULL);
  printf("decode_ok: status=%d (%s)\n", st, skrt_status_string(st));
  skrt_kv_cache_destroy(cache);
  return 0;
}
