/* End-to-end harness: calls a generated SparseK entry on random inputs and compares its
 * output with the double-precision reference of the runtime (skrt_ref_scores +
 * skrt_ref_attention_forward). Prints the max relative error
 *   max_i |o_i - ref_i| / max_i |ref_i|
 * and exits 1 when it exceeds 1e-5 (fp32 tolerance of the e2e suite) or the call fails.
 *
 * Build: cc -DENTRY=<entry> -DMODE=<0 hidden|1 keys|2 input> -DRANK=<3|4> [-DSTRIDED]
 *        -include <name>.h harness.c -l<name>
 * Run:   harness B Hq Hkv N D F k w gate(0 kv|1 v) slope scale [seed]
 * Rank 3 runs B*H sequences of one head: pass Hq = Hkv = 1 and B = B*H. STRIDED passes q
 * with a padded N stride (the entry must honour strides with a contiguous last axis).
 * PROJ (mode hidden): the entry is (x, wk, q, v, w_score, b_score, out) and computes
 * k = transpose(reshape(x wk)) itself (linalg.matmul / expand_shape / transpose in the graph);
 * the reference gets the same k in double.
 * BLOCK (mode hidden): a whole block (x, wq, wk, wv, wo, w_score, b_score, out): q, k, v
 * are projections of x (B, N, F), out (B, N, F) = o (as B, N, Hq*D) wo; same in double.
 * SKC_CUDA: the tensors are copied to the GPU (kDLCUDA) for the call and o back after it
 * (test/e2e/cuda/run.sh). With BF16 too, q, k, v, o (and x) are bfloat16 on the device, the
 * reference reads the same rounded inputs and the tolerance is 2e-2.
 * LAYERS=2 (keys scores, Hq = Hkv): two chained layers, the second reading the first's output
 * as q, k and v with its own score weights and the scale given as a 13th argument.
 * GRAD (one layer; the library built with --grad): the forward also fills the saved state
 * (lse, tau, |F_i|), then <ENTRY>_backward reads the forward's output and that state with a
 * random dout; every gradient is compared with skrt_ref_attention_backward +
 * skrt_ref_scores_backward: max normalized error per gradient <= 1e-5, like the forward.
 * SAVED_STATE: only pass the saved-state tensors (a forward of a --grad library, no backward).
 * DECODE also feeds the same sequence through <ENTRY>_decode over a fresh KV cache (a prefill
 * chunk of N/3 tokens, then one token per call, all as strided views) and compares the outputs
 * with the forward's: max relative error <= 1e-5. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dlpack/dlpack.h>

#include "skrt.h"

#ifdef SKC_CUDA
#include <cuda_runtime_api.h>

/* Moves t's data (bytes) to the device; the host copy stays where it was. */
static void to_device(DLTensor *t, size_t bytes) {
  void *d = NULL;
  if (cudaMalloc(&d, bytes ? bytes : 4) != cudaSuccess ||
      cudaMemcpy(d, t->data, bytes, cudaMemcpyHostToDevice) != cudaSuccess) {
    fprintf(stderr, "cuda: cannot copy a tensor to the device\n");
    exit(2);
  }
  t->data = d;
  t->device.device_type = kDLCUDA;
}

#ifdef BF16
/* float -> bfloat16 (round to nearest even) and back. */
static uint16_t to_bf16(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
static float from_bf16(uint16_t h) {
  uint32_t u = (uint32_t)h << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

/* Makes t (n floats, exact copy in `copy`) a bfloat16 tensor; copy gets the rounded values. */
static void bf16_tensor(DLTensor *t, double *copy, int64_t n) {
  uint16_t *h = malloc((size_t)(n ? n : 1) * 2);
  for (int64_t i = 0; i < n; ++i) {
    h[i] = to_bf16(((float *)t->data)[i]);
    if (copy)
      copy[i] = from_bf16(h[i]);
  }
  t->data = h;
  t->dtype.code = kDLBfloat;
  t->dtype.bits = 16;
}
#endif
#endif
#if defined(BF16)
#define TOL 2e-2
#define EB 2 /* bytes of a q/k/v/o/x element */
#else
#define TOL 1e-5
#define EB 4
#endif

#ifndef LAYERS
#define LAYERS 1
#endif

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static double uniform(void) { /* in [-1, 1) */
  rng = rng * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(rng >> 11) / (double)(1ull << 52) - 1.0;
}

/* A random fp32 tensor and its exact double copy. */
static float *rand_tensor(int64_t n, double amp, double **copy) {
  float *f = malloc((size_t)(n ? n : 1) * sizeof *f);
  *copy = malloc((size_t)(n ? n : 1) * sizeof **copy);
  for (int64_t i = 0; i < n; ++i)
    (*copy)[i] = f[i] = (float)(amp * uniform());
  return f;
}

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

#ifdef GRAD
#define SKC_CAT2(a, b) a##b
#define SKC_CAT(a, b) SKC_CAT2(a, b)
#define BACKWARD SKC_CAT(ENTRY, _backward)

/* max |a - ref| / max(max |ref|, floor) over n entries, printed under `name`. */
static double grad_error(const char *name, const float *a, const double *ref, int64_t n,
                         double floor) {
  double err = 0, mag = floor;
  for (int64_t i = 0; i < n; ++i) {
    err = fmax(err, fabs((double)a[i] - ref[i]));
    mag = fmax(mag, fabs(ref[i]));
  }
  double rel = err / (mag > 0 ? mag : 1);
  printf("  %-8s max_rel_err=%.3g\n", name, rel);
  return rel;
}

/* Runs the backward entry and compares it with the reference gradients. */
static int check_grads(const struct skrt_ref_shape *s, const struct skrt_ref_config *c,
                       const double *dq, const double *dk, const double *dv, const double *dx,
                       const double *dw, const double *db, const double *du_in, const double *u,
                       DLTensor *tq, DLTensor *tk, DLTensor *tv, DLTensor *tx, DLTensor *tw,
                       DLTensor *tb, DLTensor *tu, DLTensor *to, DLTensor *tsl, DLTensor *tst,
                       DLTensor *tsn) {
  int64_t nq = s->B * s->Hq * s->N * s->D, nk = s->B * s->Hkv * s->N * s->D;
  int64_t nu = s->B * s->Hkv * s->N, F = c->score_mode == 1 ? s->D : s->F;
  int64_t nx = s->B * s->N * (s->F ? s->F : 1);
  double *ddout, *gq = calloc((size_t)nq, 8), *gk = calloc((size_t)nk, 8);
  double *gv = calloc((size_t)nk, 8), *gu = calloc((size_t)nu, 8), *gx = calloc((size_t)nx, 8);
  double *gw = calloc((size_t)(s->Hkv * F), 8), *gb = calloc((size_t)s->Hkv, 8), gslope = 0;
  float *dout = rand_tensor(nq, 1.0, &ddout);
  float *fq = calloc((size_t)nq, 4), *fk = calloc((size_t)nk, 4), *fv = calloc((size_t)nk, 4);
  float *fx = calloc((size_t)nx, 4), *fw = calloc((size_t)(s->Hkv * F), 4);
  float *fb = calloc((size_t)s->Hkv, 4), *fu = calloc((size_t)nu, 4), fds[1] = {0};
  int64_t one[1] = {1};
  DLTensor tds = tensor(fds, 1, one);
  DLTensor tdo = tensor(dout, tq->ndim, tq->shape), tdq = tensor(fq, tq->ndim, tq->shape);
  DLTensor tdk = tensor(fk, tk->ndim, tk->shape), tdv = tensor(fv, tv->ndim, tv->shape);
  DLTensor tdx = tensor(fx, 3, tx->shape), tdw = tensor(fw, 2, tw->shape);
  DLTensor tdb = tensor(fb, 1, tb->shape), tdu = tensor(fu, 3, tu->shape);
  (void)tdx, (void)tdw, (void)tdb, (void)tdu, (void)du_in, (void)db;
#ifdef SKC_CUDA
  DLTensor *dev[9] = {&tdo, &tdq, &tdk, &tdv, &tdx, &tdw, &tdb, &tdu, &tds};
  float *host[9] = {dout, fq, fk, fv, fx, fw, fb, fu, fds};
  size_t bytes[9] = {(size_t)nq * 4, (size_t)nq * 4,           (size_t)nk * 4,     (size_t)nk * 4,
                     (size_t)nx * 4, (size_t)(s->Hkv * F) * 4, (size_t)s->Hkv * 4, (size_t)nu * 4,
                     4};
  for (int i = 0; i < 9; ++i)
    to_device(dev[i], bytes[i]);
#endif
#if MODE == 0
  int st = BACKWARD(tq, tk, tv, tx, tw, tb, to, tsl, tst, tsn, &tdo, &tdq, &tdk, &tdv, &tdx,
                    &tdw, &tdb, &tds, NULL);
#elif MODE == 1
  int st = BACKWARD(tq, tk, tv, tw, tb, to, tsl, tst, tsn, &tdo, &tdq, &tdk, &tdv, &tdw, &tdb,
                    &tds, NULL);
#else
  int st = BACKWARD(tq, tk, tv, tu, to, tsl, tst, tsn, &tdo, &tdq, &tdk, &tdv, &tdu, &tds, NULL);
#endif
  if (st != 0) {
    printf("backward failed: status %d: %s\n", st, skrt_last_error());
    return 1;
  }
#ifdef SKC_CUDA
  for (int i = 1; i < 9; ++i)
    if (cudaMemcpy(host[i], dev[i]->data, bytes[i], cudaMemcpyDeviceToHost) != cudaSuccess) {
      printf("cuda: copying gradient %d back failed\n", i);
      return 1;
    }
#endif
  if (skrt_ref_attention_backward(s, c, dq, dk, dv, u, ddout, gq, gk, gv, gu) != 0 ||
      skrt_ref_scores_backward(s, c, dx, dk, dw, gu, gx, gk, gw, gb, &gslope) != 0) {
    printf("reference backward failed: %s\n", skrt_last_error());
    return 1;
  }
  /* db_score = sum_j du_j is 0 up to rounding (SparseK is translation equivariant, spec
   * section 1): its error is measured against the scale of the sum, sum_j |du_j|. */
  double du_l1 = 0, dj_l1 = 0; /* dslope = sum_j du_j j: the same, against sum_j |du_j| j */
  for (int64_t i = 0; i < nu; ++i)
    du_l1 += fabs(gu[i]), dj_l1 += fabs(gu[i]) * (double)(i % s->N);
  double worst = grad_error("dq", fq, gq, nq, 0);
  worst = fmax(worst, grad_error("dk", fk, gk, nk, 0));
  worst = fmax(worst, grad_error("dv", fv, gv, nk, 0));
#if MODE == 0
  worst = fmax(worst, grad_error("dx", fx, gx, nx, 0));
#endif
#if MODE != 2
  worst = fmax(worst, grad_error("dw_score", fw, gw, s->Hkv * F, 0));
  worst = fmax(worst, grad_error("db_score", fb, gb, s->Hkv, du_l1 / (double)s->Hkv));
#else
  worst = fmax(worst, grad_error("du_in", fu, gu, nu, 0));
#endif
  worst = fmax(worst, grad_error("dslope", fds, &gslope, 1, dj_l1));
  printf("gradients: max_rel_err=%.3g %s\n", worst, worst <= 1e-5 ? "PASS" : "FAIL");
  return worst <= 1e-5 ? 0 : 1;
}
#endif

#ifdef DECODE
#define SKC_DCAT2(a, b) a##b
#define SKC_DCAT(a, b) SKC_DCAT2(a, b)

/* Tokens [t0, t0 + len) along axis ax of a contiguous tensor, as a strided view. */
static DLTensor view(const DLTensor *full, int ax, int64_t t0, int64_t len, int64_t *shape,
                     int64_t *strides) {
  DLTensor v = *full;
  int64_t st = 1;
  for (int i = full->ndim - 1; i >= 0; --i) {
    strides[i] = st;
    st *= full->shape[i];
    shape[i] = full->shape[i];
  }
  shape[ax] = len;
  v.shape = shape;
  v.strides = strides;
  v.byte_offset = (uint64_t)(t0 * strides[ax]) * sizeof(float);
  return v;
}

static int check_decode(const struct skrt_ref_shape *s, DLTensor *tq, DLTensor *tk, DLTensor *tv,
                        DLTensor *tx, DLTensor *tw, DLTensor *tb, DLTensor *tu,
                        const float *o_full) {
  struct skrt_kv_cache *cache = NULL;
  int64_t nq = s->B * s->Hq * s->N * s->D;
  float *o = calloc((size_t)nq, sizeof *o);
  int64_t so[4] = {0}, sh[6][4], st[6][4], ax = RANK - 2;
  DLTensor to = *tq;
  to.data = o;
  int rc = SKC_DCAT(ENTRY, _kv_cache_create)(1, s->B, 0, &cache);
  (void)so, (void)tx, (void)tw, (void)tb, (void)tu;
  for (int64_t t0 = 0, len = s->N / 3 > 0 ? s->N / 3 : 1; rc == 0 && t0 < s->N;
       t0 += len, len = 1) {
    DLTensor vq = view(tq, (int)ax, t0, len, sh[0], st[0]);
    DLTensor vk = view(tk, (int)ax, t0, len, sh[1], st[1]);
    DLTensor vv = view(tv, (int)ax, t0, len, sh[2], st[2]);
    DLTensor vo = view(&to, (int)ax, t0, len, sh[3], st[3]);
#if MODE == 0
    DLTensor vx = view(tx, 1, t0, len, sh[4], st[4]);
    rc = SKC_DCAT(ENTRY, _decode)(cache, 0, &vq, &vk, &vv, &vx, tw, tb, &vo, NULL);
#elif MODE == 1
    rc = SKC_DCAT(ENTRY, _decode)(cache, 0, &vq, &vk, &vv, tw, tb, &vo, NULL);
#else
    DLTensor vu = view(tu, 2, t0, len, sh[5], st[5]);
    rc = SKC_DCAT(ENTRY, _decode)(cache, 0, &vq, &vk, &vv, &vu, &vo, NULL);
#endif
  }
  skrt_kv_cache_destroy(cache);
  if (rc != 0) {
    printf("decode failed: status %d: %s\n", rc, skrt_last_error());
    return 1;
  }
  double err = 0, mag = 0;
  for (int64_t i = 0; i < nq; ++i) {
    err = fmax(err, fabs((double)o[i] - o_full[i]));
    mag = fmax(mag, fabs((double)o_full[i]));
  }
  double rel = err / (mag > 0 ? mag : 1);
  printf("decode: max_rel_err=%.3g %s\n", rel, rel <= 1e-5 ? "PASS" : "FAIL");
  free(o);
  return rel <= 1e-5 ? 0 : 1;
}
#endif

#if defined(BLOCK) || defined(PROJ)
/* out (B, H, N, D) = transpose(reshape(x w)) for x (B, N, F), w (F, H * D), in double. */
static void project(const struct skrt_ref_shape *s, const double *x, const double *w, int64_t H,
                    double *out) {
  for (int64_t b = 0; b < s->B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t n = 0; n < s->N; ++n)
        for (int64_t d = 0; d < s->D; ++d) {
          double acc = 0;
          for (int64_t f = 0; f < s->F; ++f)
            acc += x[(b * s->N + n) * s->F + f] * w[f * H * s->D + h * s->D + d];
          out[((b * H + h) * s->N + n) * s->D + d] = acc;
        }
}
#endif

int main(int argc, char **argv) {
  if (argc < 12) {
    fprintf(stderr, "usage: harness B Hq Hkv N D F k w gate slope scale [seed]\n");
    return 2;
  }
  struct skrt_ref_shape s = {atoll(argv[1]), atoll(argv[2]), atoll(argv[3]),
                             atoll(argv[4]), atoll(argv[5]), atoll(argv[6])};
  struct skrt_ref_config c = {atoll(argv[7]), atoll(argv[8]), atoi(argv[9]),
                              MODE,           atof(argv[11]), atof(argv[10])};
  rng += argc > 12 ? (uint64_t)atoll(argv[12]) : 0;
  int64_t nq = s.B * s.Hq * s.N * s.D, nk = s.B * s.Hkv * s.N * s.D, nu = s.B * s.Hkv * s.N;
  double *dq, *dk, *dv, *dx, *dw, *db, *du;
  float *q = rand_tensor(nq, 1.0, &dq), *k = rand_tensor(nk, 1.0, &dk);
  float *v = rand_tensor(nk, 1.0, &dv);
  int64_t F = MODE == 1 ? s.D : s.F;
  /* scores spread over a few units so that gates take every value in [0, 1] */
  float *x = rand_tensor(s.B * s.N * (s.F ? s.F : 1), 1.0, &dx);
  float *w = rand_tensor(s.Hkv * F, 3.0 / sqrt((double)F), &dw);
  float *b = rand_tensor(s.Hkv, 1.0, &db);
  float *u_in = rand_tensor(nu, 3.0, &du);
  float *o = calloc((size_t)nq, sizeof *o);
  double *ref = malloc((size_t)nq * sizeof *ref), *u = malloc((size_t)nu * sizeof *u);

#if RANK == 4
  int64_t sq[4] = {s.B, s.Hq, s.N, s.D}, sk[4] = {s.B, s.Hkv, s.N, s.D};
#else
  int64_t sq[3] = {s.B, s.N, s.D}, sk[3] = {s.B, s.N, s.D};
#endif
  int64_t sx[3] = {s.B, s.N, s.F}, sw[2] = {s.Hkv, F}, sb[1] = {s.Hkv}, su[3] = {s.B, s.Hkv, s.N};
  DLTensor tq = tensor(q, RANK, sq), tk = tensor(k, RANK, sk), tv = tensor(v, RANK, sk);
  DLTensor to = tensor(o, RANK, sq);
  DLTensor tx = tensor(x, 3, sx), tw = tensor(w, 2, sw), tb = tensor(b, 1, sb);
  DLTensor tu = tensor(u_in, 3, su);
  (void)tx, (void)tw, (void)tb, (void)tu;
#ifdef STRIDED
  /* q with every (b, h) row block padded by 3 rows: strides (Hq*(N+3)*D, (N+3)*D, D, 1) */
  float *qpad = calloc((size_t)(s.B * s.Hq * (s.N + 3) * s.D), sizeof *qpad);
  int64_t qst[4] = {s.Hq * (s.N + 3) * s.D, (s.N + 3) * s.D, s.D, 1};
  for (int64_t r = 0; r < s.B * s.Hq; ++r)
    memcpy(qpad + r * (s.N + 3) * s.D, q + r * s.N * s.D, (size_t)(s.N * s.D) * sizeof(float));
  tq.data = qpad;
  tq.strides = qst;
#endif

#ifdef SKC_CUDA
#ifdef BF16
  bf16_tensor(&tq, dq, nq), bf16_tensor(&tk, dk, nk), bf16_tensor(&tv, dv, nk);
  bf16_tensor(&to, NULL, nq), bf16_tensor(&tx, dx, s.B * s.N * (s.F ? s.F : 1));
#endif
  to_device(&tq, (size_t)nq * EB), to_device(&tk, (size_t)nk * EB), to_device(&tv, (size_t)nk * EB);
  to_device(&to, (size_t)nq * EB), to_device(&tu, (size_t)nu * 4);
  to_device(&tx, (size_t)(s.B * s.N * (s.F ? s.F : 1)) * EB);
  to_device(&tw, (size_t)(s.Hkv * F) * 4), to_device(&tb, (size_t)s.Hkv * 4);
#endif
#if defined(GRAD) || defined(SAVED_STATE)
  /* the state the forward built with --grad saves for the backward: lse (B, Hq, N) or
   * (B*H, N), tau and |F_i| (B, Hkv, N) */
#if RANK == 4
  int64_t sl[3] = {s.B, s.Hq, s.N};
#else
  int64_t sl[2] = {s.B, s.N};
#endif
  DLTensor tsl = tensor(calloc((size_t)(nq / s.D), 4), RANK - 1, sl);
  DLTensor tst = tensor(calloc((size_t)nu, 4), 3, su), tsn = tensor(calloc((size_t)nu, 4), 3, su);
  tsn.dtype.code = kDLInt;
#ifdef SKC_CUDA
  to_device(&tsl, (size_t)(nq / s.D) * 4), to_device(&tst, (size_t)nu * 4);
  to_device(&tsn, (size_t)nu * 4);
#endif
#define SAVED , &tsl, &tst, &tsn
#else
#define SAVED
#endif
#if defined(BLOCK)
  double *dwq, *dwk, *dwv, *dwo;
  float *wq = rand_tensor(s.F * s.Hq * s.D, 1.0 / sqrt((double)s.F), &dwq);
  float *wk = rand_tensor(s.F * s.Hkv * s.D, 1.0 / sqrt((double)s.F), &dwk);
  float *wv = rand_tensor(s.F * s.Hkv * s.D, 1.0 / sqrt((double)s.F), &dwv);
  float *wo = rand_tensor(s.Hq * s.D * s.F, 1.0 / sqrt((double)(s.Hq * s.D)), &dwo);
  int64_t swq[2] = {s.F, s.Hq * s.D}, swk[2] = {s.F, s.Hkv * s.D}, swo[2] = {s.Hq * s.D, s.F};
  int64_t sy[3] = {s.B, s.N, s.F};
  DLTensor twq = tensor(wq, 2, swq), twk = tensor(wk, 2, swk), twv = tensor(wv, 2, swk);
  DLTensor two = tensor(wo, 2, swo);
  project(&s, dx, dwq, s.Hq, dq);
  project(&s, dx, dwk, s.Hkv, dk);
  project(&s, dx, dwv, s.Hkv, dv);
  float *y = calloc((size_t)(s.B * s.N * s.F), sizeof *y);
  DLTensor ty = tensor(y, 3, sy);
  int st = ENTRY(&tx, &twq, &twk, &twv, &two, &tw, &tb, &ty, NULL);
#elif defined(PROJ)
  double *dwk;
  float *wk = rand_tensor(s.F * s.Hkv * s.D, 1.0 / sqrt((double)s.F), &dwk);
  int64_t swk[2] = {s.F, s.Hkv * s.D};
  DLTensor twk = tensor(wk, 2, swk);
  project(&s, dx, dwk, s.Hkv, dk);
  int st = ENTRY(&tx, &twk, &tq, &tv, &tw, &tb, &to, NULL);
#elif LAYERS == 2
  double *dw2, *db2;
  float *w2 = rand_tensor(s.Hkv * F, 3.0 / sqrt((double)F), &dw2),
        *b2 = rand_tensor(s.Hkv, 1.0, &db2);
  DLTensor tw2 = tensor(w2, 2, sw), tb2 = tensor(b2, 1, sb);
  int st = ENTRY(&tq, &tk, &tv, &tw, &tb, &tw2, &tb2, &to, NULL);
#elif MODE == 0
  int st = ENTRY(&tq, &tk, &tv, &tx, &tw, &tb, &to SAVED, NULL);
#elif MODE == 1
  int st = ENTRY(&tq, &tk, &tv, &tw, &tb, &to SAVED, NULL);
#else
  int st = ENTRY(&tq, &tk, &tv, &tu, &to SAVED, NULL);
#endif
  if (st != 0) {
    printf("entry failed: status %d (%s): %s\n", st, skrt_status_string(st), skrt_last_error());
    return 1;
  }
#ifdef SKC_CUDA
  if (cudaDeviceSynchronize() != cudaSuccess ||
      cudaMemcpy(o, to.data, (size_t)nq * EB, cudaMemcpyDeviceToHost) != cudaSuccess) {
    printf("cuda: the call or the copy back failed\n");
    return 1;
  }
#ifdef BF16
  for (int64_t i = nq - 1; i >= 0; --i) /* in place: o holds nq bfloat16 values */
    o[i] = from_bf16(((uint16_t *)o)[i]);
#endif
#endif
  if (skrt_ref_scores(&s, &c, dx, dk, dw, db, du, u) != 0 ||
      skrt_ref_attention_forward(&s, &c, dq, dk, dv, u, ref, NULL, NULL, NULL) != 0) {
    printf("reference failed: %s\n", skrt_last_error());
    return 1;
  }
#if LAYERS == 2
  struct skrt_ref_config c2 = c;
  c2.scale = argc > 13 ? atof(argv[13]) : c.scale;
  double *o1 = ref;
  ref = malloc((size_t)nq * sizeof *ref);
  if (skrt_ref_scores(&s, &c2, NULL, o1, dw2, db2, NULL, u) != 0 ||
      skrt_ref_attention_forward(&s, &c2, o1, o1, o1, u, ref, NULL, NULL, NULL) != 0) {
    printf("reference failed: %s\n", skrt_last_error());
    return 1;
  }
#endif
#ifdef BLOCK
  /* out[b, n, :] = sum_{h, d} o[b, h, n, d] wo[h * D + d, :]; compared instead of o */
  int64_t ny = s.B * s.N * s.F;
  double *yref = calloc((size_t)ny, sizeof *yref);
  for (int64_t bb = 0; bb < s.B; ++bb)
    for (int64_t h = 0; h < s.Hq; ++h)
      for (int64_t n = 0; n < s.N; ++n)
        for (int64_t d = 0; d < s.D; ++d)
          for (int64_t f = 0; f < s.F; ++f)
            yref[(bb * s.N + n) * s.F + f] +=
                ref[((bb * s.Hq + h) * s.N + n) * s.D + d] * dwo[(h * s.D + d) * s.F + f];
  free(ref), free(o);
  ref = yref, o = y, nq = ny;
#endif
  double err = 0, mag = 0;
  for (int64_t i = 0; i < nq; ++i) {
    err = fmax(err, fabs((double)o[i] - ref[i]));
    mag = fmax(mag, fabs(ref[i]));
  }
  double rel = err / (mag > 0 ? mag : 1);
#ifdef DECODE
  if (check_decode(&s, &tq, &tk, &tv, &tx, &tw, &tb, &tu, o) != 0)
    return 1;
#endif
#ifdef GRAD
  if (check_grads(&s, &c, dq, dk, dv, dx, dw, db, du, u, &tq, &tk, &tv, &tx, &tw, &tb, &tu, &to,
                  &tsl, &tst, &tsn) != 0)
    return 1;
#endif
  printf("B=%lld Hq=%lld Hkv=%lld N=%lld D=%lld k=%lld w=%lld gate=%d mode=%d: max_rel_err=%.3g "
         "%s\n",
         (long long)s.B, (long long)s.Hq, (long long)s.Hkv, (long long)s.N, (long long)s.D,
         (long long)c.topk, (long long)c.window, c.gate, c.score_mode, rel,
         rel <= TOL ? "PASS" : "FAIL");
  return rel <= TOL ? 0 : 1;
}
