/* bench/decode on the GPU (issue 7; needs an NVIDIA GPU, compiled everywhere nvcc exists):
 *
 *   1. correctness first: a device cache (cuda_decode.cuh) and the CPU cache (libskrt) get the
 *      same random tokens; every step's outputs must agree within 1e-4 absolute (fp32), for
 *      MHA and GQA, both gates, w in {0, 16}, k in {1, 64}, with the rows of a stream split
 *      over blocks (cooperative launch) and not; a non-finite score must be refused;
 *   2. flat latency: decode step time at 4k and at 1M positions (median of 31 steps, CUDA
 *      events), batch 1 and 16, Hq 32, Hkv 8, D 128, k 1024, w 512, gate kv, fp32 K/V;
 *   3. the step time at 128k positions for batch 1 and 16 (the dense side, torch SDPA over a
 *      full KV cache, is timed by sdpa_decode.py, which runs this binary for the skc side).
 *
 *   bench_decode_cuda [--check-only] [--long N] [--mid N] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_decode.cuh"
#include "skrt.h"

#define CK(x)                                                                                      \
  do {                                                                                             \
    cudaError_t e_ = (x);                                                                          \
    if (e_ != cudaSuccess) {                                                                       \
      fprintf(stderr, "bench_decode_cuda: %s: %s (%s:%d)\n", #x, cudaGetErrorString(e_), __FILE__, \
              __LINE__);                                                                           \
      exit(1);                                                                                     \
    }                                                                                              \
  } while (0)

/* ---- a device cache of one layer --------------------------------------------------------- */

struct kvc_cache {
  struct skrt_kv_dims dims;
  int64_t B, Hq, Hkv, streams, cap_free, splits;
  struct skrt_kv_stream *d_st;
  float *d_kv, *d_sf, *d_fr, *d_part;
  int32_t *d_si;
  int *d_err;
};

/* The CPU cache's stream layout (runtime/src/kv_cache.c) with device pointers. */
static void kvc_wire(struct kvc_cache *c, struct skrt_kv_stream *st) {
  int64_t k = c->dims.topk, w = c->dims.window, rows = k + w, D = c->dims.D;
  for (int64_t i = 0; i < c->streams; i++) {
    struct skrt_kv_stream *s = &st[i];
    memset(s, 0, sizeof(*s));
    s->k = c->d_kv + i * 2 * rows * D;
    s->v = s->k + rows * D;
    s->sel_u = c->d_sf + i * (2 * k + w + 1);
    s->win_u = s->sel_u + k;
    s->tau.sat = s->sel_u + k + w;
    s->sel_pos = c->d_si + i * 2 * k;
    s->heap = s->sel_pos + k;
    s->tau.fr = c->d_fr + i * c->cap_free;
    s->tau.cap_free = c->cap_free;
    skrt_kv_tau_clear(&s->tau);
  }
}

/* Blocks per stream for decode steps: 1 when the streams alone fill the GPU, else the largest
 * S in {16, 8, 4, 2} whose streams * S blocks are all resident (a cooperative launch). */
static int64_t kvc_pick_splits(const struct kvc_cache *c) {
  int dev = 0, sms = 0, coop = 0;
  CK(cudaGetDevice(&dev));
  CK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  CK(cudaDeviceGetAttribute(&coop, cudaDevAttrCooperativeLaunch, dev));
  if (!coop || c->streams >= sms)
    return 1;
  for (int64_t S = 16; S > 1; S /= 2) {
    int bps = 0;
    CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(
        &bps, skrt_kvc_step_kernel<true>, SKRT_KVC_THREADS, skrt_kvc_smem_bytes(&c->dims, S)));
    if (c->streams * S <= (int64_t)sms * bps)
      return S;
  }
  return 1;
}

/* splits: 0 picks (kvc_pick_splits), >= 1 forces that many blocks per stream. */
static void kvc_create(struct kvc_cache *c, int64_t B, int64_t Hq, int64_t Hkv, int64_t D,
                       int64_t topk, int64_t window, int gate, int64_t cap_free, int64_t splits) {
  memset(c, 0, sizeof(*c));
  c->dims = (struct skrt_kv_dims){D, topk, window, Hq / Hkv, gate, 1.0f / sqrtf((float)D)};
  c->B = B, c->Hq = Hq, c->Hkv = Hkv, c->streams = B * Hkv, c->cap_free = cap_free;
  if (D > SKRT_KVC_DMAX || c->dims.g > SKRT_KVC_GMAX) {
    fprintf(stderr, "bench_decode_cuda: D %lld / g %lld beyond the kernel's limits\n", (long long)D,
            (long long)c->dims.g);
    exit(1);
  }
  size_t smem = skrt_kvc_smem_bytes(&c->dims, 1); /* the largest */
  CK(cudaFuncSetAttribute(skrt_kvc_step_kernel<false>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                          (int)smem));
  CK(cudaFuncSetAttribute(skrt_kvc_step_kernel<true>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                          (int)smem));
  c->splits = splits > 0 ? splits : kvc_pick_splits(c);
  int64_t rows = topk + window;
  CK(cudaMalloc(&c->d_kv, sizeof(float) * c->streams * 2 * rows * D));
  CK(cudaMemset(c->d_kv, 0, sizeof(float) * c->streams * 2 * rows * D));
  CK(cudaMalloc(&c->d_sf, sizeof(float) * c->streams * (2 * topk + window + 1)));
  CK(cudaMalloc(&c->d_si, sizeof(int32_t) * c->streams * 2 * topk));
  CK(cudaMalloc(&c->d_fr, sizeof(float) * c->streams * cap_free));
  CK(cudaMalloc(&c->d_part,
                sizeof(float) * c->streams * c->splits * skrt_kvc_part_floats(&c->dims)));
  CK(cudaMalloc(&c->d_st, sizeof(struct skrt_kv_stream) * c->streams));
  CK(cudaMalloc(&c->d_err, sizeof(int)));
  CK(cudaMemset(c->d_err, 0, sizeof(int)));
  struct skrt_kv_stream *st = (struct skrt_kv_stream *)calloc(c->streams, sizeof(*st));
  kvc_wire(c, st);
  CK(cudaMemcpy(c->d_st, st, sizeof(*st) * c->streams, cudaMemcpyHostToDevice));
  free(st);
}

static void kvc_destroy(struct kvc_cache *c) {
  cudaFree(c->d_kv), cudaFree(c->d_sf), cudaFree(c->d_si), cudaFree(c->d_fr);
  cudaFree(c->d_st), cudaFree(c->d_err), cudaFree(c->d_part);
}

/* One launch: N tokens per sequence (contiguous device tensors); outputs when q is set. */
static void kvc_step(struct kvc_cache *c, int64_t N, const float *q, const float *k, const float *v,
                     const float *u, float *o) {
  int64_t D = c->dims.D;
  struct skrt_kvc_step p;
  memset(&p, 0, sizeof(p));
  p.streams = c->d_st, p.dims = c->dims, p.Hkv = c->Hkv, p.N = N;
  p.q = q, p.k = k, p.v = v, p.u = u, p.o = o, p.err = c->d_err;
  p.q_stride[0] = p.o_stride[0] = c->Hq * D, p.q_stride[1] = p.o_stride[1] = D;
  p.k_stride[0] = p.v_stride[0] = c->Hkv * N * D, p.k_stride[1] = p.v_stride[1] = N * D;
  p.k_stride[2] = p.v_stride[2] = D;
  p.u_stride[0] = c->Hkv * N, p.u_stride[1] = N, p.u_stride[2] = 1;
  p.splits = q ? c->splits : 1, p.part = c->d_part;
  size_t smem = skrt_kvc_smem_bytes(&c->dims, p.splits);
  if (p.splits > 1) {
    void *args[] = {&p};
    CK(cudaLaunchCooperativeKernel((const void *)skrt_kvc_step_kernel<true>,
                                   dim3((unsigned)(c->streams * p.splits)), dim3(SKRT_KVC_THREADS),
                                   args, smem, 0));
  } else {
    skrt_kvc_step_kernel<false><<<(unsigned)c->streams, SKRT_KVC_THREADS, smem>>>(p);
  }
  CK(cudaGetLastError());
}

static int kvc_error(struct kvc_cache *c) {
  int e = 0;
  CK(cudaMemcpy(&e, c->d_err, sizeof(int), cudaMemcpyDeviceToHost));
  CK(cudaMemset(c->d_err, 0, sizeof(int)));
  return e;
}

/* ---- helpers ------------------------------------------------------------------------------- */

static uint64_t rng = 7;
static float frand(void) {
  rng = rng * 6364136223846793005ull + 1442695040888963407ull;
  return (float)((double)(rng >> 11) * 0x1p-52 - 1.0);
}

static float *dev_random(int64_t n, float *host) {
  float *d = NULL;
  for (int64_t i = 0; i < n; i++)
    host[i] = frand();
  CK(cudaMalloc(&d, sizeof(float) * n));
  CK(cudaMemcpy(d, host, sizeof(float) * n, cudaMemcpyHostToDevice));
  return d;
}

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* ---- 1. correctness against the CPU cache -------------------------------------------------- */

static int check_case(int64_t Hq, int64_t Hkv, int64_t k, int64_t w, int gate, int64_t splits) {
  const int64_t B = 2, D = 128, steps = 300;
  struct skrt_kv_cache_config cfg = {1, B,    Hq,  Hkv, D,           k,
                                     w, gate, 0.0, 0,   SKRT_KV_F32, SKRT_KV_DEVICE_CPU};
  struct skrt_kv_cache *cpu = NULL;
  if (skrt_kv_cache_create(&cfg, &cpu))
    return fprintf(stderr, "cpu cache: %s\n", skrt_last_error()), 1;
  struct kvc_cache gpu;
  kvc_create(&gpu, B, Hq, Hkv, D, k, w, gate, 4 * steps, splits);
  int64_t nq = B * Hq * D, nk = B * Hkv * D, nu = B * Hkv;
  float *h = (float *)malloc(sizeof(float) * (nq + 2 * nk + nu)), *hq = h, *hk = h + nq,
        *hv = hk + nk, *hu = hv + nk, *oc = (float *)malloc(sizeof(float) * nq),
        *og = (float *)malloc(sizeof(float) * nq), *dq, *dk, *dv, *du, *dout;
  CK(cudaMalloc(&dout, sizeof(float) * nq));
  double worst = 0.0;
  for (int64_t t = 0; t < steps; t++) {
    dq = dev_random(nq, hq), dk = dev_random(nk, hk), dv = dev_random(nk, hv);
    du = dev_random(nu, hu);
    for (int64_t i = 0; t % 7 == 3 && i < nu; i++) /* ties */
      hu[i] = 0.5f;
    CK(cudaMemcpy(du, hu, sizeof(float) * nu, cudaMemcpyHostToDevice));
    kvc_step(&gpu, 1, dq, dk, dv, du, dout);
    if (skrt_kv_cache_decode(cpu, 0, hq, hk, hv, hu, oc, NULL))
      return fprintf(stderr, "cpu decode: %s\n", skrt_last_error()), 1;
    CK(cudaMemcpy(og, dout, sizeof(float) * nq, cudaMemcpyDeviceToHost));
    for (int64_t i = 0; i < nq; i++)
      worst = fmax(worst, fabs((double)og[i] - oc[i]));
    cudaFree(dq), cudaFree(dk), cudaFree(dv), cudaFree(du);
  }
  int err = kvc_error(&gpu);
  printf("check: Hq %lld Hkv %lld k %lld w %lld gate %d: %lld steps, max |gpu - cpu| %.2e, "
         "error flag %d\n",
         (long long)Hq, (long long)Hkv, (long long)k, (long long)w, gate, (long long)steps, worst,
         err);
  free(h), free(oc), free(og);
  cudaFree(dout);
  kvc_destroy(&gpu);
  skrt_kv_cache_destroy(cpu);
  return worst > 1e-4 || err;
}

/* A NaN score is refused: the flag is set and the stream keeps its position. */
static int check_nonfinite(void) {
  struct kvc_cache c;
  kvc_create(&c, 1, 4, 1, 64, 4, 2, SKRT_GATE_KV, 16, 1);
  float hk[64], hu = NAN, *dk = dev_random(64, hk), *du = NULL;
  CK(cudaMalloc(&du, sizeof(float)));
  CK(cudaMemcpy(du, &hu, sizeof(float), cudaMemcpyHostToDevice));
  kvc_step(&c, 1, NULL, dk, dk, du, NULL);
  int err = kvc_error(&c);
  struct skrt_kv_stream s;
  CK(cudaMemcpy(&s, c.d_st, sizeof(s), cudaMemcpyDeviceToHost));
  printf("check: NaN score -> error flag %d (expect %d), position %lld (expect 0)\n", err,
         SKRT_KVC_ERR_NONFINITE, (long long)s.pos);
  cudaFree(dk), cudaFree(du);
  kvc_destroy(&c);
  return err != SKRT_KVC_ERR_NONFINITE || s.pos != 0;
}

/* ---- 2./3. timing ---------------------------------------------------------------------------- */

enum { HQ = 32, HKV = 8, DIM = 128, TOPK = 1024, WIN = 512, CHUNK = 4096 };

/* Appends random tokens (no outputs) until position `pos`. */
static void fill_to(struct kvc_cache *c, int64_t *now, int64_t pos, const float *dkv, float *du,
                    float *hu) {
  for (; *now < pos; *now += CHUNK) {
    int64_t n = pos - *now < (int64_t)CHUNK ? pos - *now : (int64_t)CHUNK;
    for (int64_t i = 0; i < c->B * HKV * n; i++)
      hu[i] = 2.0f * frand();
    CK(cudaMemcpy(du, hu, sizeof(float) * c->B * HKV * n, cudaMemcpyHostToDevice));
    kvc_step(c, n, NULL, dkv, dkv, du, NULL);
  }
  CK(cudaDeviceSynchronize());
}

/* Median milliseconds of 31 decode steps (CUDA events) after 3 warm-up steps. */
static float time_steps(struct kvc_cache *c, const float *dq, const float *dk, const float *du,
                        float *dout, int64_t *now) {
  float t[31];
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  for (int r = -3; r < 31; r++) {
    CK(cudaEventRecord(a));
    kvc_step(c, 1, dq, dk, dk, du, dout);
    CK(cudaEventRecord(b));
    CK(cudaEventSynchronize(b));
    if (r >= 0)
      CK(cudaEventElapsedTime(&t[r], a, b));
  }
  *now += 34;
  cudaEventDestroy(a), cudaEventDestroy(b);
  qsort(t, 31, sizeof(float), cmp_float);
  return t[15];
}

static int time_batch(int64_t B, int64_t mid, int64_t lng) {
  struct kvc_cache c;
  kvc_create(&c, B, HQ, HKV, DIM, TOPK, WIN, SKRT_GATE_KV, 1 << 17, 0);
  float *h = (float *)malloc(sizeof(float) * B * HKV * CHUNK * DIM), *dkv, *du, *dq, *dout;
  dkv = dev_random(B * HKV * CHUNK * DIM, h);
  dq = dev_random(B * HQ * DIM, h);
  CK(cudaMalloc(&du, sizeof(float) * B * HKV * CHUNK));
  CK(cudaMalloc(&dout, sizeof(float) * B * HQ * DIM));
  int64_t now = 0, at[3] = {4096, mid, lng};
  float ms[3];
  for (int i = 0; i < 3; i++) {
    fill_to(&c, &now, at[i], dkv, du, h);
    ms[i] = time_steps(&c, dq, dkv, du, dout, &now);
    printf("gpu: batch %2lld, position %8lld: skc decode %.4f ms/step (%lld blocks per stream)\n",
           (long long)B, (long long)at[i], ms[i], (long long)c.splits);
  }
  int err = kvc_error(&c);
  printf("gpu: batch %2lld: latency ratio %lld / 4096 = %.3f (goal <= 1.2), error flag %d\n",
         (long long)B, (long long)lng, ms[2] / ms[0], err);
  printf("SKC_MS batch=%lld pos=%lld ms=%.5f\n", (long long)B, (long long)mid, ms[1]);
  free(h);
  cudaFree(dkv), cudaFree(du), cudaFree(dq), cudaFree(dout);
  kvc_destroy(&c);
  return err;
}

int main(int argc, char **argv) {
  int check_only = 0;
  int64_t mid = 131072, lng = 1048576;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--check-only"))
      check_only = 1;
    else if (!strcmp(argv[i], "--long") && i + 1 < argc)
      lng = atoll(argv[++i]);
    else if (!strcmp(argv[i], "--mid") && i + 1 < argc)
      mid = atoll(argv[++i]);
    else
      return fprintf(stderr, "usage: bench_decode_cuda [--check-only] [--long N] [--mid N]\n"), 2;
  }
  int bad = check_nonfinite();
  const int64_t ks[2] = {1, 64}, ws[2] = {0, 16};
  for (int g = 0; g < 2; g++)
    for (int a = 0; a < 2; a++)
      for (int b = 0; b < 2; b++) {
        for (int64_t sp = 0; sp <= 1; sp++) { /* automatic (split on a big GPU) and plain */
          bad |= check_case(8, 8, ks[a], ws[b], g, sp);
          bad |= check_case(32, 8, ks[a], ws[b], g, sp);
        }
      }
  if (bad || check_only)
    return bad;
  return time_batch(1, mid, lng) | time_batch(16, mid, lng);
}
