/* GPU suite of the CUDA KV cache (S12; runtime/cuda/kv_cache.cu, kernels/cuda_decode.cuh).
 *
 * Exactness: a random sequence (B 2, N 120) is fed to a device cache after a prefill of
 * P in {0, 1, 37, N} tokens, then decoded position by position; every output is compared with
 * the full forward of the double reference (skrt_ref_attention_forward) by the row error
 * max_d |o - ref| / max_d |ref|: <= 1e-5 for fp32, <= 2e-2 for bf16 / fp16 caches (the
 * reference then gets the same rounded q, k, v). Cases: MHA (Hq = Hkv = 4, D 32) and GQA
 * (Hq 8 over Hkv 2, D 64), gate kv and v, w in {0, 1, 64}, k in {1, 64}, continuous scores;
 * rows split over blocks (cooperative launch, the automatic choice for 8 streams) and, for
 * P = 37, one block per stream. Three API paths: skrt_kv_cache_forward on strided views
 * (prefill with outputs), skrt_kv_cache_forward_dl on kDLCUDA tensors (prefill without
 * outputs, rank-3 decode views), and the contiguous wrappers (P = 0 cases).
 * Bad input: NULL, other shapes / dtype / device in DLTensors, host pointers, position overflow,
 * non-finite scores (refused, cache unchanged), free-score heap overflow (broken until reset),
 * configs the device cannot take. Also: the device S5 helper against the CPU cache's, the
 * footprint (K/V bytes constant, bf16 half of fp32). Outputs are poisoned with NaN first.
 * Usage: test_decode [--quick] (a subset, for compute-sanitizer). Exit 0 iff all pass. */
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "dtype.h"
#include "skrt/cuda.h"
#include "skrt/kv_cache.h"
#include "skrt/sparsek.h"

static int g_fail = 0, g_runs = 0;
static double g_worst[3] = {0.0, 0.0, 0.0}; /* per dtype: f32, bf16, f16 */
static std::mt19937_64 rng(2026);

#define EXPECT(cond, ...)                                                                          \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::printf("FAIL %s:%d: ", __FILE__, __LINE__);                                             \
      std::printf(__VA_ARGS__);                                                                    \
      std::printf("\n");                                                                           \
      g_fail = 1;                                                                                  \
    }                                                                                              \
  } while (0)

/* ---- host data ------------------------------------------------------------------------------ */

static const int64_t BATCH = 2, NSEQ = 120;

struct dcase {
  int64_t Hq, Hkv, D, k, w;
  int gate, dtype;
};

static void *dev_upload(const void *p, size_t bytes) {
  void *d = nullptr;
  CK(cudaMalloc(&d, bytes));
  CK(cudaMemcpy(d, p, bytes, cudaMemcpyHostToDevice));
  return d;
}

/* One random sequence batch on host (double, rounded) and device, plus the reference. */
struct ddata {
  dcase c;
  int64_t nq, nk, nu;
  std::vector<double> q, k, v, u, ref;
  void *dq, *dk, *dv, *du, *dout;
};

static void ddata_make(ddata *t, const dcase &c) {
  t->c = c;
  t->nq = BATCH * c.Hq * NSEQ * c.D, t->nk = BATCH * c.Hkv * NSEQ * c.D,
  t->nu = BATCH * c.Hkv * NSEQ;
  std::normal_distribution<double> nd(0.0, 1.0);
  auto fill = [&](std::vector<double> &x, int64_t n, double amp) {
    x.resize((size_t)n);
    for (auto &e : x)
      e = amp * nd(rng);
  };
  fill(t->q, t->nq, 1.5), fill(t->k, t->nk, 1.0), fill(t->v, t->nk, 1.0), fill(t->u, t->nu, 1.5);
  auto bq = dtype_round_bytes(t->q, c.dtype), bk = dtype_round_bytes(t->k, c.dtype);
  auto bv = dtype_round_bytes(t->v, c.dtype);
  std::vector<float> uf(t->u.begin(), t->u.end());
  for (size_t i = 0; i < uf.size(); i++)
    t->u[i] = uf[i];
  t->dq = dev_upload(bq.data(), bq.size()), t->dk = dev_upload(bk.data(), bk.size());
  t->dv = dev_upload(bv.data(), bv.size()), t->du = dev_upload(uf.data(), uf.size() * 4);
  CK(cudaMalloc(&t->dout, (size_t)t->nq * dtype_size(c.dtype)));
  t->ref.resize((size_t)t->nq);
  struct skrt_ref_shape s = {BATCH, c.Hq, c.Hkv, NSEQ, c.D, 0};
  struct skrt_ref_config rc = {c.k, c.w, c.gate, SKRT_SCORE_INPUT, 1.0 / std::sqrt((double)c.D),
                               0.0};
  int st = skrt_ref_attention_forward(&s, &rc, t->q.data(), t->k.data(), t->v.data(), t->u.data(),
                                      t->ref.data(), NULL, NULL, NULL);
  EXPECT(st == SKRT_OK, "reference: %s", skrt_last_error());
}

static void ddata_free(ddata *t) {
  cudaFree(t->dq), cudaFree(t->dk), cudaFree(t->dv), cudaFree(t->du), cudaFree(t->dout);
}

/* Worst row error over the outputs (B, Hq, NSEQ, D) on the device; NaN counts as infinite. */
static double ddata_error(const ddata *t) {
  std::vector<unsigned char> o((size_t)t->nq * dtype_size(t->c.dtype));
  CK(cudaMemcpy(o.data(), t->dout, o.size(), cudaMemcpyDeviceToHost));
  double worst = 0.0;
  for (int64_t r = 0; r < t->nq / t->c.D; r++) {
    double err = 0.0, scale = 1e-30;
    for (int64_t d = 0; d < t->c.D; d++) {
      int64_t i = r * t->c.D + d;
      double x = dtype_read(&o[(size_t)i * dtype_size(t->c.dtype)], t->c.dtype);
      err = std::isnan(x) ? INFINITY : std::fmax(err, std::fabs(x - t->ref[(size_t)i]));
      scale = std::fmax(scale, std::fabs(t->ref[(size_t)i]));
    }
    worst = std::fmax(worst, err / scale);
  }
  return worst;
}

static struct skrt_kv_cache *make_cache(const dcase &c, int64_t max_positions) {
  struct skrt_kv_cache_config cfg;
  std::memset(&cfg, 0, sizeof cfg);
  cfg.layers = 1, cfg.B = BATCH, cfg.Hq = c.Hq, cfg.Hkv = c.Hkv, cfg.D = c.D;
  cfg.topk = c.k, cfg.window = c.w, cfg.gate = c.gate, cfg.max_positions = max_positions;
  cfg.dtype = c.dtype, cfg.device = SKRT_KV_DEVICE_CUDA;
  struct skrt_kv_cache *cache = nullptr;
  int st = skrt_cuda_kv_cache_create(&cfg, NULL, &cache);
  EXPECT(st == SKRT_OK, "create: %s", skrt_last_error());
  return cache;
}

/* ---- the three API paths -------------------------------------------------------------------- */

/* io viewing positions [n, n + len) of the full device tensors. */
static struct skrt_kv_io view_io(const ddata *t, int64_t n, bool outputs) {
  const dcase &c = t->c;
  size_t es = dtype_size(c.dtype);
  struct skrt_kv_io io;
  std::memset(&io, 0, sizeof io);
  int64_t qs[3] = {c.Hq * NSEQ * c.D, NSEQ * c.D, c.D},
          ks[3] = {c.Hkv * NSEQ * c.D, NSEQ * c.D, c.D};
  io.k = (const char *)t->dk + (size_t)(n * c.D) * es;
  io.v = (const char *)t->dv + (size_t)(n * c.D) * es;
  io.u = (const float *)t->du + n;
  if (outputs) {
    io.q = (const char *)t->dq + (size_t)(n * c.D) * es;
    io.o = (char *)t->dout + (size_t)(n * c.D) * es;
  }
  for (int i = 0; i < 3; i++)
    io.q_stride[i] = io.o_stride[i] = qs[i], io.k_stride[i] = io.v_stride[i] = ks[i];
  io.u_stride[0] = c.Hkv * NSEQ, io.u_stride[1] = NSEQ, io.u_stride[2] = 1;
  return io;
}

/* Path A: prefill P with outputs (strided views), then one forward per token. */
static int run_views(const ddata *t, struct skrt_kv_cache *cache, int64_t P) {
  int st = SKRT_OK;
  if (P > 0) {
    struct skrt_kv_io io = view_io(t, 0, true);
    st = skrt_kv_cache_forward(cache, 0, P, &io, NULL);
  }
  for (int64_t n = P; n < NSEQ && st == SKRT_OK; n++) {
    struct skrt_kv_io io = view_io(t, n, true);
    st = skrt_kv_cache_forward(cache, 0, 1, &io, NULL);
  }
  return st;
}

static DLTensor dl_view(void *base, int64_t *shape, int64_t *strides, int ndim, int dtype,
                        uint64_t off_elems) {
  DLTensor x;
  std::memset(&x, 0, sizeof x);
  x.data = base, x.ndim = ndim, x.shape = shape, x.strides = strides;
  x.device.device_type = kDLCUDA, x.device.device_id = 0;
  x.dtype.code = dtype == SKRT_KV_BF16 ? kDLBfloat : kDLFloat;
  x.dtype.bits = (uint8_t)(dtype_size(dtype) * 8), x.dtype.lanes = 1;
  x.byte_offset = off_elems * dtype_size(dtype);
  return x;
}

/* Path B: DLPack; prefill P without outputs (4-D views), then rank-3 decode views. The
 * prefill's outputs are the reference's (written by copying), so the error covers decode. */
static int run_dl(const ddata *t, struct skrt_kv_cache *cache, int64_t P) {
  const dcase &c = t->c;
  int64_t ks4[4] = {BATCH, c.Hkv, P, c.D}, kst4[4] = {c.Hkv * NSEQ * c.D, NSEQ * c.D, c.D, 1};
  int64_t us3[3] = {BATCH, c.Hkv, P}, ust3[3] = {c.Hkv * NSEQ, NSEQ, 1};
  int st = SKRT_OK;
  if (P > 0) {
    DLTensor k = dl_view(t->dk, ks4, kst4, 4, c.dtype, 0),
             v = dl_view(t->dv, ks4, kst4, 4, c.dtype, 0);
    DLTensor u = dl_view(t->du, us3, ust3, 3, SKRT_KV_F32, 0);
    st = skrt_kv_cache_forward_dl(cache, 0, NULL, &k, &v, &u, NULL, NULL);
    std::vector<double> ref = t->ref; /* rows < P: the reference's (rounded) */
    auto bytes = dtype_round_bytes(ref, c.dtype);
    CK(cudaMemcpy(t->dout, bytes.data(), bytes.size(), cudaMemcpyHostToDevice));
    size_t es = dtype_size(c.dtype); /* positions >= P poisoned again: decode must write them */
    if (P < NSEQ)
      CK(cudaMemset2D((char *)t->dout + P * c.D * es, NSEQ * c.D * es, 0xff, (NSEQ - P) * c.D * es,
                      BATCH * c.Hq));
  }
  int64_t qs3[3] = {BATCH, c.Hq, c.D}, qst3[3] = {c.Hq * NSEQ * c.D, NSEQ * c.D, 1};
  int64_t ks3[3] = {BATCH, c.Hkv, c.D}, us2[2] = {BATCH, c.Hkv}, ust2[2] = {c.Hkv * NSEQ, NSEQ};
  for (int64_t n = P; n < NSEQ && st == SKRT_OK; n++) {
    DLTensor q = dl_view(t->dq, qs3, qst3, 3, c.dtype, (uint64_t)(n * c.D));
    DLTensor o = dl_view(t->dout, qs3, qst3, 3, c.dtype, (uint64_t)(n * c.D));
    int64_t kst3[3] = {c.Hkv * NSEQ * c.D, NSEQ * c.D, 1};
    DLTensor k = dl_view(t->dk, ks3, kst3, 3, c.dtype, (uint64_t)(n * c.D));
    DLTensor v = dl_view(t->dv, ks3, kst3, 3, c.dtype, (uint64_t)(n * c.D));
    DLTensor u = dl_view(t->du, us2, ust2, 2, SKRT_KV_F32, (uint64_t)n);
    st = skrt_kv_cache_forward_dl(cache, 0, &q, &k, &v, &u, &o, NULL);
  }
  return st;
}

/* Path C: contiguous wrappers (P = 0): each token gathered into (B, H, D) buffers. */
static int run_wrappers(const ddata *t, struct skrt_kv_cache *cache) {
  const dcase &c = t->c;
  size_t es = dtype_size(c.dtype);
  void *q, *k, *v, *u, *o;
  CK(cudaMalloc(&q, (size_t)(BATCH * c.Hq * c.D) * es));
  CK(cudaMalloc(&o, (size_t)(BATCH * c.Hq * c.D) * es));
  CK(cudaMalloc(&k, (size_t)(BATCH * c.Hkv * c.D) * es));
  CK(cudaMalloc(&v, (size_t)(BATCH * c.Hkv * c.D) * es));
  CK(cudaMalloc(&u, (size_t)(BATCH * c.Hkv) * 4));
  int st = SKRT_OK;
  for (int64_t n = 0; n < NSEQ && st == SKRT_OK; n++) {
    CK(cudaMemcpy2D(q, c.D * es, (const char *)t->dq + n * c.D * es, NSEQ * c.D * es, c.D * es,
                    BATCH * c.Hq, cudaMemcpyDeviceToDevice));
    CK(cudaMemcpy2D(k, c.D * es, (const char *)t->dk + n * c.D * es, NSEQ * c.D * es, c.D * es,
                    BATCH * c.Hkv, cudaMemcpyDeviceToDevice));
    CK(cudaMemcpy2D(v, c.D * es, (const char *)t->dv + n * c.D * es, NSEQ * c.D * es, c.D * es,
                    BATCH * c.Hkv, cudaMemcpyDeviceToDevice));
    CK(cudaMemcpy2D(u, 4, (const float *)t->du + n, NSEQ * 4, 4, BATCH * c.Hkv,
                    cudaMemcpyDeviceToDevice));
    st = skrt_kv_cache_decode(cache, 0, q, k, v, (const float *)u, o, NULL);
    CK(cudaMemcpy2D((char *)t->dout + n * c.D * es, NSEQ * c.D * es, o, c.D * es, c.D * es,
                    BATCH * c.Hq, cudaMemcpyDeviceToDevice));
  }
  cudaFree(q), cudaFree(k), cudaFree(v), cudaFree(u), cudaFree(o);
  return st;
}

/* ---- exactness ------------------------------------------------------------------------------ */

static const char *dtype_name(int d) {
  return d == SKRT_KV_F32 ? "f32" : d == SKRT_KV_BF16 ? "bf16" : "f16";
}

/* One (case, P, path, splits) run; path 0 views, 1 dlpack, 2 wrappers. */
static void run_case(ddata *t, int64_t P, int path, int64_t splits) {
  const dcase &c = t->c;
  skrt_cuda_kv_set_splits(splits);
  struct skrt_kv_cache *cache = make_cache(c, 0);
  skrt_cuda_kv_set_splits(0);
  if (!cache)
    return;
  CK(cudaMemset(t->dout, 0xff, (size_t)t->nq * dtype_size(c.dtype))); /* NaN poison */
  int st = path == 0   ? run_views(t, cache, P)
           : path == 1 ? run_dl(t, cache, P)
                       : run_wrappers(t, cache);
  double err = st == SKRT_OK ? ddata_error(t) : INFINITY,
         tol = c.dtype == SKRT_KV_F32 ? 1e-5 : 2e-2;
  int64_t pos = -1;
  skrt_kv_cache_position(cache, 0, 1, &pos);
  EXPECT(st == SKRT_OK && err <= tol && pos == NSEQ,
         "Hq %lld Hkv %lld D %lld k %lld w %lld gate %d %s P %lld path %d splits %lld: status %d "
         "(%s), err %.3e > %.0e or position %lld",
         (long long)c.Hq, (long long)c.Hkv, (long long)c.D, (long long)c.k, (long long)c.w, c.gate,
         dtype_name(c.dtype), (long long)P, path, (long long)splits, st,
         st == SKRT_OK ? "ok" : skrt_last_error(), err, tol, (long long)pos);
  g_worst[c.dtype] = std::fmax(g_worst[c.dtype], err);
  if (++g_runs % 64 == 0)
    std::printf("  %d runs, worst error so far f32 %.2e bf16 %.2e f16 %.2e\n", g_runs, g_worst[0],
                g_worst[1], g_worst[2]);
  skrt_kv_cache_destroy(cache);
}

static void test_exact(bool quick) {
  const int64_t ks[2] = {1, 64}, ws[3] = {0, 1, 64}, Ps[4] = {0, 1, 37, NSEQ};
  const int64_t shapes[2][3] = {{4, 4, 32}, {8, 2, 64}};
  int dtypes[3] = {SKRT_KV_F32, SKRT_KV_BF16, SKRT_KV_F16};
  int ncase = 0;
  for (int dt = 0; dt < (quick ? 2 : 3); dt++)
    for (int sh = 0; sh < 2; sh++)
      for (int gate = 0; gate < 2; gate++)
        for (int ki = 0; ki < 2; ki++)
          for (int wi = 0; wi < 3; wi++) {
            if (dtypes[dt] == SKRT_KV_F16 && (gate || wi != 2)) /* fp16: a subset */
              continue;
            if (quick && (gate != sh || wi != 2))
              continue;
            dcase c = {shapes[sh][0], shapes[sh][1], shapes[sh][2], ks[ki],
                       ws[wi],        gate,          dtypes[dt]};
            ddata t;
            ddata_make(&t, c);
            for (int pi = 0; pi < 4; pi++) {
              if (quick && pi != 2)
                continue;
              run_case(&t, Ps[pi], 0, 0);
              run_case(&t, Ps[pi], 1, 0);
              if (Ps[pi] == 37)
                run_case(&t, Ps[pi], 0, 1);
            }
            if (!quick && (ki + wi) % 2 == 0)
              run_case(&t, 0, 2, 0);
            ddata_free(&t);
            ncase++;
          }
  std::printf("exact: %d cases, %d runs; worst row error f32 %.2e (tol 1e-5), bf16 %.2e, f16 "
              "%.2e (tol 2e-2)\n",
              ncase, g_runs, g_worst[0], g_worst[1], g_worst[2]);
}

/* ---- bad input ------------------------------------------------------------------------------ */

static void expect_status(int got, int want, const char *needle, const char *what) {
  const char *msg = skrt_last_error();
  EXPECT(got == want && std::strstr(msg, needle),
         "%s: status %d (want %d), message \"%s\" lacks \"%s\"", what, got, want, msg, needle);
}

static void test_create_errors(void) {
  struct skrt_kv_cache_config cfg;
  std::memset(&cfg, 0, sizeof cfg);
  cfg.layers = 1, cfg.B = 1, cfg.Hq = 4, cfg.Hkv = 1, cfg.D = 32, cfg.topk = 4, cfg.window = 2;
  cfg.device = SKRT_KV_DEVICE_CUDA;
  struct skrt_kv_cache *c = (struct skrt_kv_cache *)&cfg;
  expect_status(skrt_kv_cache_create(&cfg, &c), SKRT_ERR_DEVICE, "skrt_cuda_kv_cache_create",
                "libskrt create of a CUDA cache");
  EXPECT(c == nullptr, "out not cleared");
  expect_status(skrt_cuda_kv_cache_create(NULL, NULL, &c), SKRT_ERR_NULL, "cfg is NULL",
                "NULL cfg");
  expect_status(skrt_cuda_kv_cache_create(&cfg, NULL, NULL), SKRT_ERR_NULL, "out is NULL",
                "NULL out");
  cfg.device = SKRT_KV_DEVICE_CPU;
  expect_status(skrt_cuda_kv_cache_create(&cfg, NULL, &c), SKRT_ERR_DEVICE, "skrt_kv_cache_create",
                "CPU config");
  cfg.device = SKRT_KV_DEVICE_CUDA, cfg.D = 130;
  expect_status(skrt_cuda_kv_cache_create(&cfg, NULL, &c), SKRT_ERR_ARG, "D = 130", "D 130");
  cfg.D = 32, cfg.Hq = 16;
  expect_status(skrt_cuda_kv_cache_create(&cfg, NULL, &c), SKRT_ERR_ARG, "Hq / Hkv = 16", "g 16");
  cfg.Hq = 4, cfg.dtype = 7;
  expect_status(skrt_cuda_kv_cache_create(&cfg, NULL, &c), SKRT_ERR_DTYPE, "dtype 7", "dtype 7");
  cfg.dtype = 0, cfg.topk = 0;
  expect_status(skrt_cuda_kv_cache_create(&cfg, NULL, &c), SKRT_ERR_ARG, "topk = 0", "topk 0");
  EXPECT(c == nullptr, "out not cleared after failures");
}

/* One step's buffers of a small cache (B 2, Hq 4, Hkv 2, D 32) on the device, all finite. */
struct small {
  float h[2 * 4 * 32];
  float *q, *k, *v, *u, *o;
};

static void small_make(small *s) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (auto &x : s->h)
    x = nd(rng);
  s->q = (float *)dev_upload(s->h, sizeof s->h), s->o = (float *)dev_upload(s->h, sizeof s->h);
  s->k = (float *)dev_upload(s->h, sizeof s->h / 2),
  s->v = (float *)dev_upload(s->h, sizeof s->h / 2);
  s->u = (float *)dev_upload(s->h, 4 * sizeof(float));
}

static void small_free(small *s) {
  cudaFree(s->q), cudaFree(s->k), cudaFree(s->v), cudaFree(s->u), cudaFree(s->o);
}

static void test_step_errors(void) {
  dcase c = {4, 2, 32, 4, 2, SKRT_GATE_KV, SKRT_KV_F32};
  struct skrt_kv_cache *cache = make_cache(c, 3);
  small s;
  small_make(&s);
  expect_status(skrt_kv_cache_decode(NULL, 0, s.q, s.k, s.v, s.u, s.o, NULL), SKRT_ERR_NULL,
                "cache", "NULL cache");
  expect_status(skrt_kv_cache_decode(cache, 0, s.q, NULL, s.v, s.u, s.o, NULL), SKRT_ERR_NULL,
                "k is NULL", "NULL k");
  expect_status(skrt_kv_cache_decode(cache, 1, s.q, s.k, s.v, s.u, s.o, NULL), SKRT_ERR_ARG,
                "layer = 1", "layer 1");
  expect_status(skrt_kv_cache_decode(cache, 0, s.h, s.k, s.v, s.u, s.o, NULL), SKRT_ERR_DEVICE,
                "q (", "host q");
  expect_status(skrt_kv_cache_decode(cache, 0, s.q, s.k, s.v, s.h, s.o, NULL), SKRT_ERR_DEVICE,
                "host pointer", "host u");
  /* a NaN score: refused, nothing changes (the next good step equals a fresh cache's) */
  float nan_u[4] = {0.5f, NAN, 0.25f, 1.0f};
  float *du = (float *)dev_upload(nan_u, sizeof nan_u);
  expect_status(skrt_kv_cache_decode(cache, 0, s.q, s.k, s.v, du, s.o, NULL), SKRT_ERR_NONFINITE,
                "not finite", "NaN score");
  expect_status(skrt_kv_cache_prefill(cache, 0, 1, s.q, s.k, s.v, du, s.o, NULL),
                SKRT_ERR_NONFINITE, "not finite", "NaN score (prefill, N = 1)");
  int64_t pos = -1;
  skrt_kv_cache_position(cache, 0, 0, &pos);
  EXPECT(pos == 0, "position %lld after refused steps", (long long)pos);
  /* N = 2 append with a NaN in the second token: the check kernel refuses it */
  float nan2[8] = {0, 0, 0, 0, 0, NAN, 0, 0};
  float *du2 = (float *)dev_upload(nan2, sizeof nan2);
  expect_status(skrt_kv_cache_prefill(cache, 0, 2, NULL, s.q, s.q, du2, NULL, NULL),
                SKRT_ERR_NONFINITE, "not finite", "NaN score (N = 2)");
  skrt_kv_cache_position(cache, 0, 1, &pos);
  EXPECT(pos == 0, "position %lld after a refused prefill", (long long)pos);
  struct skrt_kv_cache *fresh = make_cache(c, 3);
  float *o2 = (float *)dev_upload(s.h, sizeof s.h);
  EXPECT(skrt_kv_cache_decode(cache, 0, s.q, s.k, s.v, s.u, s.o, NULL) == SKRT_OK, "good step");
  EXPECT(skrt_kv_cache_decode(fresh, 0, s.q, s.k, s.v, s.u, o2, NULL) == SKRT_OK, "fresh step");
  float a[2 * 4 * 32], b[2 * 4 * 32];
  CK(cudaMemcpy(a, s.o, sizeof a, cudaMemcpyDeviceToHost));
  CK(cudaMemcpy(b, o2, sizeof b, cudaMemcpyDeviceToHost));
  EXPECT(std::memcmp(a, b, sizeof a) == 0, "a refused step changed the cache");
  /* position overflow: max_positions 3 (one token in so far) */
  EXPECT(skrt_kv_cache_decode(cache, 0, s.q, s.k, s.v, s.u, s.o, NULL) == SKRT_OK, "2nd token");
  EXPECT(skrt_kv_cache_decode(cache, 0, s.q, s.k, s.v, s.u, s.o, NULL) == SKRT_OK, "3rd token");
  expect_status(skrt_kv_cache_decode(cache, 0, s.q, s.k, s.v, s.u, s.o, NULL), SKRT_ERR_STATE,
                "max_positions = 3", "position overflow");
  cudaFree(du), cudaFree(du2), cudaFree(o2);
  skrt_kv_cache_destroy(fresh);
  skrt_kv_cache_destroy(cache);
  small_free(&s);
}

static void test_dl_errors(void) {
  dcase c = {4, 2, 32, 4, 2, SKRT_GATE_KV, SKRT_KV_BF16};
  struct skrt_kv_cache *cache = make_cache(c, 0);
  void *buf;
  CK(cudaMalloc(&buf, 4096));
  int64_t qs[3] = {BATCH, 4, 32}, ks[3] = {BATCH, 2, 32}, us[2] = {BATCH, 2},
          bad[3] = {BATCH, 3, 32};
  DLTensor q = dl_view(buf, qs, NULL, 3, SKRT_KV_BF16, 0), o = q;
  DLTensor k = dl_view(buf, ks, NULL, 3, SKRT_KV_BF16, 0),
           u = dl_view(buf, us, NULL, 2, SKRT_KV_F32, 0);
  expect_status(skrt_kv_cache_forward_dl(cache, 0, &q, &k, &k, &u, &o, NULL), SKRT_OK, "",
                "good bf16 DLTensors");
  DLTensor kb = dl_view(buf, bad, NULL, 3, SKRT_KV_BF16, 0);
  expect_status(skrt_kv_cache_forward_dl(cache, 0, &q, &kb, &k, &u, &o, NULL), SKRT_ERR_SHAPE,
                "k shape[1] is 3, the cache has Hkv = 2", "wrong Hkv");
  DLTensor kf = dl_view(buf, ks, NULL, 3, SKRT_KV_F32, 0);
  expect_status(skrt_kv_cache_forward_dl(cache, 0, &q, &k, &kf, &u, &o, NULL), SKRT_ERR_DTYPE,
                "expected bfloat16", "f32 v into a bf16 cache");
  DLTensor kc = k;
  kc.device.device_type = kDLCPU;
  expect_status(skrt_kv_cache_forward_dl(cache, 0, &q, &kc, &k, &u, &o, NULL), SKRT_ERR_DEVICE,
                "CUDA device", "kDLCPU k");
  expect_status(skrt_kv_cache_forward_dl(cache, 0, &q, &k, &k, &u, NULL, NULL), SKRT_ERR_NULL,
                "o is NULL", "q without o");
  cudaFree(buf);
  skrt_kv_cache_destroy(cache);
}

/* The free-score heap at capacity 4: tied scores stay free, so it overflows; the cache is
 * broken (every call STATE) until reset. */
static void test_heap_full(void) {
  skrt_cuda_kv_set_max_active(4);
  dcase c = {4, 2, 32, 1, 0, SKRT_GATE_KV, SKRT_KV_F32};
  struct skrt_kv_cache *cache = make_cache(c, 0);
  skrt_cuda_kv_set_max_active(0);
  small s;
  small_make(&s);
  float half[4] = {0.5f, 0.5f, 0.5f, 0.5f};
  float *du = (float *)dev_upload(half, sizeof half);
  int st = SKRT_OK, n = 0;
  for (; n < 10 && st == SKRT_OK; n++)
    st = skrt_kv_cache_decode(cache, 0, s.q, s.k, s.v, du, s.o, NULL);
  expect_status(st, SKRT_ERR_STATE, "capacity of 4", "heap overflow");
  expect_status(skrt_kv_cache_decode(cache, 0, s.q, s.k, s.v, du, s.o, NULL), SKRT_ERR_STATE,
                "broken", "broken cache");
  EXPECT(skrt_kv_cache_reset(cache) == SKRT_OK, "reset");
  expect_status(skrt_kv_cache_decode(cache, 0, s.q, s.k, s.v, du, s.o, NULL), SKRT_OK, "",
                "after reset");
  cudaFree(du);
  small_free(&s);
  skrt_kv_cache_destroy(cache);
}

/* ---- S5 helper, footprint, reset_item ----------------------------------------------------- */

static void test_scores_and_footprint(void) {
  dcase c = {8, 2, 32, 4, 3, SKRT_GATE_KV, SKRT_KV_F32};
  struct skrt_kv_cache_config cfg;
  struct skrt_kv_cache *gpu = make_cache(c, 0), *cpu = nullptr;
  skrt_kv_cache_get_config(gpu, &cfg);
  cfg.device = SKRT_KV_DEVICE_CPU;
  EXPECT(skrt_kv_cache_create(&cfg, &cpu) == SKRT_OK, "cpu cache: %s", skrt_last_error());
  small s;
  small_make(&s);
  float hk[2 * 2 * 32], hu[4];
  CK(cudaMemcpy(hk, s.k, sizeof hk, cudaMemcpyDeviceToHost));
  CK(cudaMemcpy(hu, s.u, sizeof hu, cudaMemcpyDeviceToHost));
  for (int n = 0; n < 5; n++) {
    skrt_kv_cache_append(gpu, 0, s.k, s.v, s.u, NULL);
    skrt_kv_cache_append(cpu, 0, hk, hk, hu, NULL);
  }
  skrt_kv_cache_reset_item(gpu, 1), skrt_kv_cache_reset_item(cpu, 1);
  skrt_kv_cache_append(gpu, 0, s.k, s.v, s.u, NULL), skrt_kv_cache_append(cpu, 0, hk, hk, hu, NULL);
  float w[2 * 32], bias[2] = {0.25f, -0.5f}, ug[4], uc[4];
  for (int i = 0; i < 64; i++)
    w[i] = 0.01f * (float)(i % 17) - 0.05f;
  float *dw = (float *)dev_upload(w, sizeof w), *db = (float *)dev_upload(bias, sizeof bias), *du;
  CK(cudaMalloc(&du, sizeof ug));
  for (int mode = 0; mode < 3; mode++) {
    const float *xg = mode == SKRT_SCORE_INPUT ? s.u : s.k,
                *xc = mode == SKRT_SCORE_INPUT ? hu : hk;
    int64_t F = mode == SKRT_SCORE_INPUT ? 0 : 32;
    EXPECT(skrt_kv_cache_scores(gpu, 0, mode, xg, F, dw, db, 0.125, du) == SKRT_OK, "gpu scores");
    EXPECT(skrt_kv_cache_scores(cpu, 0, mode, xc, F, w, bias, 0.125, uc) == SKRT_OK, "cpu scores");
    CK(cudaMemcpy(ug, du, sizeof ug, cudaMemcpyDeviceToHost));
    for (int i = 0; i < 4; i++)
      EXPECT(std::fabs(ug[i] - uc[i]) <= 1e-5f * (1.0f + std::fabs(uc[i])),
             "scores mode %d [%d]: gpu %g cpu %g", mode, i, ug[i], uc[i]);
  }
  struct skrt_kv_footprint fg, fc;
  skrt_kv_cache_footprint(gpu, &fg), skrt_kv_cache_footprint(cpu, &fc);
  EXPECT(fg.kv_bytes == fc.kv_bytes && fg.kv_used_bytes == fc.kv_used_bytes &&
             fg.selected_tokens == fc.selected_tokens && fg.window_tokens == fc.window_tokens &&
             fg.active_scalars == fc.active_scalars,
         "footprint gpu (%lld %lld %lld %lld %lld) vs cpu (%lld %lld %lld %lld %lld)",
         (long long)fg.kv_bytes, (long long)fg.kv_used_bytes, (long long)fg.selected_tokens,
         (long long)fg.window_tokens, (long long)fg.active_scalars, (long long)fc.kv_bytes,
         (long long)fc.kv_used_bytes, (long long)fc.selected_tokens, (long long)fc.window_tokens,
         (long long)fc.active_scalars);
  c.dtype = SKRT_KV_BF16;
  struct skrt_kv_cache *half = make_cache(c, 0);
  struct skrt_kv_footprint fh;
  skrt_kv_cache_footprint(half, &fh);
  EXPECT(2 * fh.kv_bytes == fg.kv_bytes, "bf16 K/V bytes %lld, fp32 %lld", (long long)fh.kv_bytes,
         (long long)fg.kv_bytes);
  cudaFree(dw), cudaFree(db), cudaFree(du);
  small_free(&s);
  skrt_kv_cache_destroy(half), skrt_kv_cache_destroy(gpu), skrt_kv_cache_destroy(cpu);
}

int main(int argc, char **argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  test_create_errors();
  test_step_errors();
  test_dl_errors();
  test_heap_full();
  test_scores_and_footprint();
  std::printf("bad input, scores, footprint: %s\n", g_fail ? "FAILED" : "ok");
  test_exact(quick);
  std::printf("test_decode: %s\n", g_fail ? "FAILED" : "all passed");
  return g_fail;
}
