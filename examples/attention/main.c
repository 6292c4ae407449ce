/* examples/attention: calls the entry that skc generated from model.mlir,
 *
 *   int attention(const DLTensor *q, const DLTensor *k, const DLTensor *v,
 *                 const DLTensor *w_score, const DLTensor *b_score, DLTensor *out,
 *                 struct skrt_context *ctx);
 *
 * on random inputs (B = 1, N = 2048 as in the model), prints a few outputs,
 * the time of a call, and the max relative error against the runtime's double-precision
 * reference of the same SparseK layer (skrt_ref_scores + skrt_ref_attention_forward). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attention.h"
#include "skrt.h"

enum { HQ = 8, HKV = 2, D = 64, TOPK = 64, WINDOW = 32 };

static uint64_t rng = 12345;
static float uniform(void) { /* [-1, 1) */
  rng = rng * 6364136223846793005ull + 1442695040888963407ull;
  return (float)((double)(rng >> 11) / (double)(1ull << 52) - 1.0);
}

static float *random_floats(int64_t n, float amp) {
  float *p = malloc((size_t)n * sizeof *p);
  for (int64_t i = 0; p && i < n; ++i)
    p[i] = amp * uniform();
  return p;
}

static double *to_double(const float *x, int64_t n) {
  double *d = malloc((size_t)n * sizeof *d);
  for (int64_t i = 0; d && i < n; ++i)
    d[i] = x[i];
  return d;
}

static DLTensor tensor(float *data, int ndim, int64_t *shape) {
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

/* Max |o - ref| / max |ref| against the double reference. */
static double reference_error(int64_t N, const float *q, const float *k, const float *v,
                              const float *w, const float *b, const float *o) {
  struct skrt_ref_shape s = {1, HQ, HKV, N, D, 0};
  struct skrt_ref_config c = {TOPK, WINDOW, SKRT_GATE_KV, SKRT_SCORE_KEYS, 0.125, 0.0};
  int64_t nq = HQ * N * D, nk = HKV * N * D;
  double *dq = to_double(q, nq), *dk = to_double(k, nk), *dv = to_double(v, nk);
  double *dw = to_double(w, HKV * D), *db = to_double(b, HKV);
  double *u = malloc((size_t)(HKV * N) * sizeof *u), *ref = malloc((size_t)nq * sizeof *ref);
  double err = -1, mag = 0;
  if (skrt_ref_scores(&s, &c, NULL, dk, dw, db, NULL, u) == 0 &&
      skrt_ref_attention_forward(&s, &c, dq, dk, dv, u, ref, NULL, NULL, NULL) == 0) {
    err = 0;
    for (int64_t i = 0; i < nq; ++i) {
      err = fmax(err, fabs(o[i] - ref[i]));
      mag = fmax(mag, fabs(ref[i]));
    }
    err /= mag > 0 ? mag : 1;
  }
  free(dq), free(dk), free(dv), free(dw), free(db), free(u), free(ref);
  return err;
}

int main(void) {
  const int64_t N = 2048;
  int64_t sq[4] = {1, HQ, N, D}, sk[4] = {1, HKV, N, D}, sw[2] = {HKV, D}, sb[1] = {HKV};
  float *q = random_floats(HQ * N * D, 1), *k = random_floats(HKV * N * D, 1);
  float *v = random_floats(HKV * N * D, 1), *w = random_floats(HKV * D, 0.4f);
  float *b = random_floats(HKV, 1), *o = calloc((size_t)(HQ * N * D), sizeof *o);
  DLTensor tq = tensor(q, 4, sq), tk = tensor(k, 4, sk), tv = tensor(v, 4, sk);
  DLTensor tw = tensor(w, 2, sw), tb = tensor(b, 1, sb), to = tensor(o, 4, sq);

  struct timespec t0, t1;
  int st = attention(&tq, &tk, &tv, &tw, &tb, &to, NULL); /* warm-up: starts the threads */
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (st == 0)
    st = attention(&tq, &tk, &tv, &tw, &tb, &to, NULL);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (st != 0) {
    fprintf(stderr, "attention failed: %s: %s\n", skrt_status_string(st), skrt_last_error());
    return 1;
  }
  double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) * 1e-6;
  printf("SparseK attention, B = 1, Hq = %d, Hkv = %d, N = %lld, D = %d, k = %d, window = %d\n", HQ,
         HKV, (long long)N, D, TOPK, WINDOW);
  printf("out[0, 0, 0, 0:4]     = %+.5f %+.5f %+.5f %+.5f\n", o[0], o[1], o[2], o[3]);
  int64_t last = ((int64_t)(HQ - 1) * N + N - 1) * D;
  printf("out[0, %d, %lld, 0:4] = %+.5f %+.5f %+.5f %+.5f\n", HQ - 1, (long long)N - 1, o[last],
         o[last + 1], o[last + 2], o[last + 3]);
  printf("time of one call (after a warm-up call): %.2f ms\n", ms);
  double err = reference_error(N, q, k, v, w, b, o);
  printf("max relative error vs the double reference: %.2e (%s)\n", err,
         err >= 0 && err <= 1e-5 ? "ok" : "TOO LARGE");
  free(q), free(k), free(v), free(w), free(b), free(o);
  return err >= 0 && err <= 1e-5 ? 0 : 1;
}
