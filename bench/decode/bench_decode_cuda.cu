/* bench/decode on the GPU (issue 7; needs an NVIDIA GPU, compiled everywhere nvcc exists). The
 * device cache is the runtime's: skrt_cuda_kv_cache_create + skrt_kv_cache_* of libskrt_cuda
 * (runtime/cuda/kv_cache.cu, runtime/kernels/cuda_decode.cuh).
 *
 *   1. correctness first: a device cache and the CPU cache (libskrt) get the same random fp32
 *      tokens; every step's outputs must agree within 1e-5 relative (max |gpu - cpu| over
 *      max |cpu|), MHA and GQA, both gates, w in {0, 16}, k in {1, 64}, rows split over
 *      blocks (cooperative launch) and not (test/cuda/test_decode.cu is the full suite);
 *   2. flat latency: decode step time at 4k and at 1M positions (median of 31 steps, CUDA
 *      events around skrt_kv_cache_decode, which includes its status read-back), batch 1 and
 *      16, Hq 32, Hkv 8, D 128, k 1024, w 512, gate kv, fp32 and bf16 K/V;
 *   3. the step time at 128k positions for batch 1 and 16 (the dense side, torch SDPA over a
 *      full KV cache, is timed by sdpa_decode.py, which runs this binary for the skc side).
 *
 *   bench_decode_cuda [--check-only] [--long N] [--mid N] */
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skrt.h"
#include "skrt/cuda.h"

#define CK(x)                                                                                      \
  do {                                                                                             \
    cudaError_t e_ = (x);                                                                          \
    if (e_ != cudaSuccess) {                                                                       \
      fprintf(stderr, "bench_decode_cuda: %s: %s (%s:%d)\n", #x, cudaGetErrorString(e_), __FILE__, \
              __LINE__);                                                                           \
      exit(1);                                                                                     \
    }                                                                                              \
  } while (0)

#define SK(x)                                                                                      \
  do {                                                                                             \
    int s_ = (x);                                                                                  \
    if (s_ != SKRT_OK) {                                                                           \
      fprintf(stderr, "bench_decode_cuda: %s: %s (%s:%d)\n", #x, skrt_last_error(), __FILE__,     \
              __LINE__);                                                                           \
      exit(1);                                                                                     \
    }                                                                                              \
  } while (0)

static struct skrt_kv_cache *cache_create(int64_t B, int64_t Hq, int64_t Hkv, int64_t D,
                                          int64_t topk, int64_t window, int gate, int dtype,
                                          int device) {
  struct skrt_kv_cache_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.layers = 1, cfg.B = B, cfg.Hq = Hq, cfg.Hkv = Hkv, cfg.D = D, cfg.topk = topk;
  cfg.window = window, cfg.gate = gate, cfg.dtype = dtype, cfg.device = device;
  struct skrt_kv_cache *c = NULL;
  if (device == SKRT_KV_DEVICE_CUDA)
    SK(skrt_cuda_kv_cache_create(&cfg, NULL, &c));
  else
    SK(skrt_kv_cache_create(&cfg, &c));
  return c;
}

/* ---- helpers ------------------------------------------------------------------------------- */

static uint64_t rng = 7;
static float frand(void) {
  rng = rng * 6364136223846793005ull + 1442695040888963407ull;
  return (float)((double)(rng >> 11) * 0x1p-52 - 1.0);
}

/* n random values in [-1, 1) (host copy in `host`) uploaded as fp32 or bf16. */
static void *dev_random(int64_t n, float *host, int dtype) {
  void *d = NULL;
  for (int64_t i = 0; i < n; i++)
    host[i] = frand();
  size_t es = dtype == SKRT_KV_F32 ? 4 : 2;
  CK(cudaMalloc(&d, es * (size_t)n));
  if (dtype == SKRT_KV_F32) {
    CK(cudaMemcpy(d, host, sizeof(float) * (size_t)n, cudaMemcpyHostToDevice));
    return d;
  }
  __nv_bfloat16 *b = (__nv_bfloat16 *)malloc(es * (size_t)n);
  for (int64_t i = 0; i < n; i++)
    b[i] = __float2bfloat16(host[i]);
  CK(cudaMemcpy(d, b, es * (size_t)n, cudaMemcpyHostToDevice));
  free(b);
  return d;
}

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* ---- 1. correctness against the CPU cache -------------------------------------------------- */

static int check_case(int64_t Hq, int64_t Hkv, int64_t k, int64_t w, int gate, int64_t splits) {
  const int64_t B = 2, D = 128, steps = 300;
  struct skrt_kv_cache *cpu = cache_create(B, Hq, Hkv, D, k, w, gate, SKRT_KV_F32, 0);
  skrt_cuda_kv_set_splits(splits);
  struct skrt_kv_cache *gpu = cache_create(B, Hq, Hkv, D, k, w, gate, SKRT_KV_F32, 1);
  skrt_cuda_kv_set_splits(0);
  int64_t nq = B * Hq * D, nk = B * Hkv * D, nu = B * Hkv;
  float *h = (float *)malloc(sizeof(float) * (nq + 2 * nk + nu)), *hq = h, *hk = h + nq,
        *hv = hk + nk, *hu = hv + nk, *oc = (float *)malloc(sizeof(float) * nq),
        *og = (float *)malloc(sizeof(float) * nq), *dout;
  CK(cudaMalloc(&dout, sizeof(float) * nq));
  double worst = 0.0;
  for (int64_t t = 0; t < steps; t++) {
    void *dq = dev_random(nq, hq, 0), *dk = dev_random(nk, hk, 0), *dv = dev_random(nk, hv, 0);
    void *du = dev_random(nu, hu, 0);
    for (int64_t i = 0; t % 7 == 3 && i < nu; i++) /* ties */
      hu[i] = 0.5f;
    CK(cudaMemcpy(du, hu, sizeof(float) * nu, cudaMemcpyHostToDevice));
    SK(skrt_kv_cache_decode(gpu, 0, dq, dk, dv, (const float *)du, dout, NULL));
    SK(skrt_kv_cache_decode(cpu, 0, hq, hk, hv, hu, oc, NULL));
    CK(cudaMemcpy(og, dout, sizeof(float) * nq, cudaMemcpyDeviceToHost));
    double err = 0.0, scale = 1e-30;
    for (int64_t i = 0; i < nq; i++) {
      err = fmax(err, fabs((double)og[i] - oc[i]));
      scale = fmax(scale, fabs((double)oc[i]));
    }
    worst = fmax(worst, err / scale);
    cudaFree(dq), cudaFree(dk), cudaFree(dv), cudaFree(du);
  }
  printf("check: Hq %lld Hkv %lld k %lld w %lld gate %d splits %lld: %lld steps, max rel "
         "|gpu - cpu| %.2e\n",
         (long long)Hq, (long long)Hkv, (long long)k, (long long)w, gate, (long long)splits,
         (long long)steps, worst);
  free(h), free(oc), free(og);
  cudaFree(dout);
  skrt_kv_cache_destroy(gpu);
  skrt_kv_cache_destroy(cpu);
  return worst > 1e-5;
}

/* ---- 2./3. timing ---------------------------------------------------------------------------- */

enum { HQ = 32, HKV = 8, DIM = 128, TOPK = 1024, WIN = 512, CHUNK = 4096 };

/* Appends random tokens (no outputs) until position `pos`. */
static void fill_to(struct skrt_kv_cache *c, int64_t B, int64_t *now, int64_t pos, const void *dkv,
                    float *du, float *hu) {
  for (; *now < pos; *now += CHUNK) {
    int64_t n = pos - *now < (int64_t)CHUNK ? pos - *now : (int64_t)CHUNK;
    for (int64_t i = 0; i < B * HKV * n; i++)
      hu[i] = 2.0f * frand();
    CK(cudaMemcpy(du, hu, sizeof(float) * B * HKV * n, cudaMemcpyHostToDevice));
    SK(skrt_kv_cache_prefill(c, 0, n, NULL, dkv, dkv, du, NULL, NULL));
  }
}

/* Median milliseconds of 31 decode steps (CUDA events) after 3 warm-up steps. */
static float time_steps(struct skrt_kv_cache *c, const void *dq, const void *dk, const float *du,
                        void *dout, int64_t *now) {
  float t[31];
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  for (int r = -3; r < 31; r++) {
    CK(cudaEventRecord(a));
    SK(skrt_kv_cache_decode(c, 0, dq, dk, dk, du, dout, NULL));
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

static int time_batch(int64_t B, int dtype, int64_t mid, int64_t lng) {
  const char *name = dtype == SKRT_KV_F32 ? "fp32" : "bf16";
  struct skrt_kv_cache *c = cache_create(B, HQ, HKV, DIM, TOPK, WIN, SKRT_GATE_KV, dtype, 1);
  float *h = (float *)malloc(sizeof(float) * B * HKV * CHUNK * DIM), *du;
  void *dkv = dev_random(B * HKV * CHUNK * DIM, h, dtype), *dq = dev_random(B * HQ * DIM, h, dtype);
  void *dout;
  CK(cudaMalloc(&du, sizeof(float) * B * HKV * CHUNK));
  CK(cudaMalloc(&dout, 4 * B * HQ * DIM));
  int64_t now = 0, at[3] = {4096, mid, lng};
  float ms[3];
  struct skrt_kv_footprint fp[3];
  for (int i = 0; i < 3; i++) {
    fill_to(c, B, &now, at[i], dkv, du, h);
    ms[i] = time_steps(c, dq, dkv, du, dout, &now);
    SK(skrt_kv_cache_footprint(c, &fp[i]));
    printf("gpu %s: batch %2lld, position %8lld: skc decode %.4f ms/step, K/V %lld B, scalar "
           "state %lld B (max %lld scores per head)\n",
           name, (long long)B, (long long)at[i], ms[i], (long long)fp[i].kv_bytes,
           (long long)fp[i].scalar_bytes, (long long)fp[i].max_active_scalars);
  }
  printf("gpu %s: batch %2lld: latency ratio %lld / 4096 = %.3f (goal <= 1.2); K/V bytes "
         "constant: %s\n",
         name, (long long)B, (long long)lng, ms[2] / ms[0],
         fp[0].kv_bytes == fp[2].kv_bytes && fp[1].kv_bytes == fp[2].kv_bytes ? "yes" : "NO");
  printf("SKC_MS dtype=%s batch=%lld pos=%lld ms=%.5f\n", name, (long long)B, (long long)mid, ms[1]);
  free(h);
  cudaFree(dkv), cudaFree(du), cudaFree(dq), cudaFree(dout);
  skrt_kv_cache_destroy(c);
  return 0;
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
  int bad = 0;
  const int64_t ks[2] = {1, 64}, ws[2] = {0, 16};
  for (int g = 0; g < 2; g++)
    for (int a = 0; a < 2; a++)
      for (int b = 0; b < 2; b++)
        for (int64_t sp = 0; sp <= 1; sp++) { /* automatic (split on a big GPU) and plain */
          bad |= check_case(8, 8, ks[a], ws[b], g, sp);
          bad |= check_case(32, 8, ks[a], ws[b], g, sp);
        }
  if (bad || check_only)
    return bad;
  for (int dt = 0; dt < 2; dt++)
    bad |= time_batch(1, dt, mid, lng) | time_batch(16, dt, mid, lng);
  return bad;
}
