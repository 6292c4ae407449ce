/* GPU end to end of `skc --target=cuda --decode`: the generated <ENTRY>_decode over a device KV
 * cache (<ENTRY>_kv_cache_create) against the double reference of the layer (skrt_ref_scores +
 * skrt_ref_attention_forward on the same rounded inputs) and against the generated full forward
 * <ENTRY> on the same device tensors. The sequence goes through the cache as strided views of
 * the full tensors: a prefill chunk of N/3 tokens, then one token per call. Prints the max
 * relative errors max_i |a_i - b_i| / max_i |b_i| and exits 1 when decode vs reference exceeds
 * 1e-5 (fp32) or 2e-2 (BF16: q, k, v, out bfloat16; the score input too in keys mode), when a
 * call fails, or when a cache of another entry's shapes is not refused with a status. Decode
 * vs forward is printed next to it (forward vs reference too), so a difference is located.
 *
 * Build: cc -DENTRY=<entry> -DMODE=<0 hidden|1 keys|2 input> -DRANK=<3|4> [-DBF16]
 *        -include <name>.h decode_harness.c (link with the generated .cu and libskrt_cuda)
 * Run:   decode_harness B Hq Hkv N D F k w gate slope scale   (the entry's static shapes and
 *        constants; rank 3: Hq = Hkv = 1) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cuda_runtime_api.h>
#include <dlpack/dlpack.h>

#include "skrt.h"

#define SKC_DCAT2(a, b) a##b
#define SKC_DCAT(a, b) SKC_DCAT2(a, b)
#define SKC_DSTR2(a) #a
#define SKC_DSTR(a) SKC_DSTR2(a)

#ifdef BF16
#define ES 2
#else
#define ES 4
#endif

static uint64_t rng = 12345;
static float frand(void) {
  rng = rng * 6364136223846793005ull + 1442695040888963407ull;
  return (float)((double)(rng >> 11) * 0x1p-52 - 1.0);
}

static uint16_t to_bf16(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

static float elem(const unsigned char *p, int es) {
  float f;
  if (es == 4) {
    memcpy(&f, p, 4);
    return f;
  }
  uint32_t u = (uint32_t)(p[0] | (p[1] << 8)) << 16;
  memcpy(&f, &u, 4);
  return f;
}

/* A contiguous device tensor of random values (element size es: 4 float, 2 bfloat16); *ref gets
 * the values as the device holds them, in double (NULL: not wanted). */
static DLTensor dev_tensor(int ndim, const int64_t *shape, int es, double amp, double **ref) {
  int64_t n = 1;
  for (int i = 0; i < ndim; ++i)
    n *= shape[i];
  unsigned char *h = malloc((size_t)n * (size_t)es);
  double *r = malloc(sizeof(double) * (size_t)n);
  for (int64_t i = 0; i < n; ++i) {
    float f = (float)amp * frand();
    if (es == 4) {
      memcpy(h + i * 4, &f, 4);
    } else {
      uint16_t b = to_bf16(f);
      memcpy(h + i * 2, &b, 2);
    }
    r[i] = elem(h + i * es, es);
  }
  if (ref)
    *ref = r;
  else
    free(r);
  DLTensor t;
  memset(&t, 0, sizeof t);
  int64_t *sh = malloc(sizeof(int64_t) * (size_t)ndim);
  memcpy(sh, shape, sizeof(int64_t) * (size_t)ndim);
  t.ndim = ndim, t.shape = sh, t.device.device_type = kDLCUDA;
  t.dtype.code = es == 4 ? kDLFloat : kDLBfloat, t.dtype.bits = (uint8_t)(8 * es), t.dtype.lanes = 1;
  if (cudaMalloc(&t.data, (size_t)n * (size_t)es) != cudaSuccess ||
      cudaMemcpy(t.data, h, (size_t)n * (size_t)es, cudaMemcpyHostToDevice) != cudaSuccess) {
    fprintf(stderr, "cuda: cannot allocate a tensor\n");
    exit(2);
  }
  free(h);
  return t;
}

static int64_t numel(const DLTensor *t) {
  int64_t n = 1;
  for (int i = 0; i < t->ndim; ++i)
    n *= t->shape[i];
  return n;
}

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
  v.byte_offset = (uint64_t)(t0 * strides[ax]) * (uint64_t)(full->dtype.bits / 8);
  return v;
}

struct inputs {
  DLTensor q, k, v, x, w, b, u, out, dout;
};

static int call_forward(struct inputs *in) {
#if MODE == 0
  return ENTRY(&in->q, &in->k, &in->v, &in->x, &in->w, &in->b, &in->out, NULL);
#elif MODE == 1
  return ENTRY(&in->q, &in->k, &in->v, &in->w, &in->b, &in->out, NULL);
#else
  return ENTRY(&in->q, &in->k, &in->v, &in->u, &in->out, NULL);
#endif
}

/* The sequence through the cache: N/3 tokens, then one per call. */
static int call_decode(struct inputs *in, struct skrt_kv_cache *cache, int64_t N) {
  int64_t sh[6][4], st[6][4], ax = RANK - 2;
  int rc = 0;
  for (int64_t t0 = 0, len = N / 3 > 0 ? N / 3 : 1; rc == 0 && t0 < N; t0 += len, len = 1) {
    DLTensor vq = view(&in->q, (int)ax, t0, len, sh[0], st[0]);
    DLTensor vk = view(&in->k, (int)ax, t0, len, sh[1], st[1]);
    DLTensor vv = view(&in->v, (int)ax, t0, len, sh[2], st[2]);
    DLTensor vo = view(&in->dout, (int)ax, t0, len, sh[3], st[3]);
#if MODE == 0
    DLTensor vx = view(&in->x, 1, t0, len, sh[4], st[4]);
    rc = SKC_DCAT(ENTRY, _decode)(cache, 0, &vq, &vk, &vv, &vx, &in->w, &in->b, &vo, NULL);
#elif MODE == 1
    rc = SKC_DCAT(ENTRY, _decode)(cache, 0, &vq, &vk, &vv, &in->w, &in->b, &vo, NULL);
#else
    DLTensor vu = view(&in->u, 2, t0, len, sh[5], st[5]);
    rc = SKC_DCAT(ENTRY, _decode)(cache, 0, &vq, &vk, &vv, &vu, &vo, NULL);
#endif
  }
  return rc;
}

/* A device output in double. */
static double *to_host(const DLTensor *a) {
  int64_t n = numel(a);
  unsigned char *h = malloc((size_t)n * ES);
  double *d = malloc(sizeof(double) * (size_t)n);
  cudaMemcpy(h, a->data, (size_t)n * ES, cudaMemcpyDeviceToHost);
  for (int64_t i = 0; i < n; ++i)
    d[i] = elem(h + i * ES, ES);
  free(h);
  return d;
}

/* max |x - y| / max |y|; a NaN in x counts as infinite. */
static double rel_err(const double *x, const double *y, int64_t n) {
  double err = 0, mag = 0;
  for (int64_t i = 0; i < n; ++i) {
    err = isnan(x[i]) ? INFINITY : fmax(err, fabs(x[i] - y[i]));
    mag = fmax(mag, fabs(y[i]));
  }
  return err / (mag > 0 ? mag : 1);
}

/* Host copies (double) of the inputs, for the reference. */
struct host {
  double *q, *k, *v, *x, *w, *b, *u;
};

static int reference(const struct host *h, const struct skrt_ref_shape *s,
                     const struct skrt_ref_config *c, double *o) {
  int64_t nu = s->B * s->Hkv * s->N;
  double *u = malloc(sizeof(double) * (size_t)nu);
  int st = skrt_ref_scores(s, c, h->x, h->k, h->w, h->b, h->u, u);
  st = st ? st : skrt_ref_attention_forward(s, c, h->q, h->k, h->v, u, o, NULL, NULL, NULL);
  free(u);
  return st;
}

int main(int argc, char **argv) {
  if (argc < 12) {
    fprintf(stderr, "usage: decode_harness B Hq Hkv N D F k w gate slope scale\n");
    return 2;
  }
  int64_t B = atoll(argv[1]), Hq = atoll(argv[2]), Hkv = atoll(argv[3]), N = atoll(argv[4]);
  int64_t D = atoll(argv[5]), F = atoll(argv[6]);
  struct skrt_ref_shape rs = {B, Hq, Hkv, N, D, F};
  struct skrt_ref_config cf = {atoll(argv[7]), atoll(argv[8]), atoi(argv[9]), MODE,
                               atof(argv[11]), atof(argv[10])};
  int64_t q4[4] = {B, Hq, N, D}, k4[4] = {B, Hkv, N, D}, q3[3] = {B, N, D};
  int64_t x3[3] = {B, N, F > 0 ? F : 1}, w2[2] = {Hkv, MODE == 0 ? F : D}, b1[1] = {Hkv};
  int64_t u3[3] = {B, Hkv, N};
  struct inputs in;
  struct host h;
  in.q = dev_tensor(RANK, RANK == 4 ? q4 : q3, ES, 1.5, &h.q);
  in.k = dev_tensor(RANK, RANK == 4 ? k4 : q3, ES, 1.0, &h.k);
  in.v = dev_tensor(RANK, RANK == 4 ? k4 : q3, ES, 1.0, &h.v);
  in.x = dev_tensor(3, x3, ES, 1.0, &h.x);
  in.w = dev_tensor(2, w2, 4, 0.5, &h.w);
  in.b = dev_tensor(1, b1, 4, 0.5, &h.b);
  in.u = dev_tensor(3, u3, 4, 1.5, &h.u);
  in.out = dev_tensor(RANK, RANK == 4 ? q4 : q3, ES, 0.0, NULL);
  in.dout = dev_tensor(RANK, RANK == 4 ? q4 : q3, ES, 0.0, NULL);
  cudaMemset(in.dout.data, 0xff, (size_t)numel(&in.dout) * ES); /* NaN poison */
  int64_t nq = numel(&in.out);
  double *ref = malloc(sizeof(double) * (size_t)nq);
  int rc0 = reference(&h, &rs, &cf, ref);
  if (rc0 != 0) {
    printf("reference failed: %s\n", skrt_last_error());
    return 1;
  }
  int rc = call_forward(&in);
  if (rc != 0) {
    printf("forward failed: status %d: %s\n", rc, skrt_last_error());
    return 1;
  }
  struct skrt_kv_cache *cache = NULL, *other = NULL;
  rc = SKC_DCAT(ENTRY, _kv_cache_create)(1, B, 0, &cache);
  rc = rc ? rc : call_decode(&in, cache, N);
  if (rc != 0) {
    printf("decode failed: status %d: %s\n", rc, skrt_last_error());
    return 1;
  }
  double *dec = to_host(&in.dout), *fwd = to_host(&in.out), tol = ES == 4 ? 1e-5 : 2e-2;
  double e_ref = rel_err(dec, ref, nq), e_fwd = rel_err(dec, fwd, nq), f_ref = rel_err(fwd, ref, nq);
  /* a cache for B + 1 sequences is not this entry's: a clear status, nothing written */
  int bad = SKC_DCAT(ENTRY, _kv_cache_create)(1, B + 1, 0, &other);
  bad = bad ? bad : call_decode(&in, other, N);
  int refused = bad == SKRT_ERR_ARG && strstr(skrt_last_error(), "was not made for this layer");
  printf("%s: B=%lld Hq=%lld Hkv=%lld N=%lld D=%lld mode=%d rank=%d %s: decode vs reference "
         "%.3g (tol %.0e), decode vs forward %.3g, forward vs reference %.3g; foreign cache %s\n",
         SKC_DSTR(ENTRY), (long long)B, (long long)Hq, (long long)Hkv, (long long)N, (long long)D,
         MODE, RANK, ES == 4 ? "f32" : "bf16", e_ref, tol, e_fwd, f_ref,
         refused ? "refused" : "NOT REFUSED");
  skrt_kv_cache_destroy(cache);
  skrt_kv_cache_destroy(other);
  int ok = e_ref <= tol && refused;
  printf("%s\n", ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
