/* GPU correctness suite of libskrt_cuda: every case draws fresh random inputs, runs the CUDA
 * forward and backward (and the score network), and compares with the double-precision CPU
 * reference of runtime/src/reference.c by relative max-norm error
 * max|gpu - ref| / max|ref| over the output and each gradient. Tolerances: 1e-5 for fp32,
 * 2e-2 for bf16/fp16 (the reference then gets the same rounded inputs). Outputs are
 * poisoned with NaN before each run; any NaN fails. Exit status 0 iff every case passes.
 * Usage: test_cuda [--quick] (quick: the small cases only, for compute-sanitizer). */
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "dtype.h"
#include "skrt/cuda.h"
#include "skrt/sparsek.h"

enum { NOSLOPE = 1, NEGSCALE = 2, KINK = 4 };

struct tcase {
  const char *name;
  int64_t B, Hq, Hkv, N, D, k, w;
  int gate, mode, dtype;
  int64_t F;         /* hidden width (mode hidden) */
  int ties;          /* quantize u to force ties */
  int64_t cap;       /* selection shared-memory capacity override (0 = default) */
  double uscale;     /* spread of the scores */
  int flags;         /* NOSLOPE: slope 0 instead of 0.01 (the slope makes later keys score higher);
                      * NEGSCALE: softmax scale -1/sqrt(D) (the forward then runs the plain kernels:
                      * the tensor-core forward folds a positive scale into its exponent);
                      * KINK: the data must put some query's root on a saturated candidate's kink
                      * (u_j - tau_i = 1 exactly, with free candidates), where the selection's
                      * settle must stop (mutant tiezone); the case fails if it no longer does */
  int64_t group = 0; /* selection chunks per tier-1 group (0 = default: one group here) */
  uint64_t seed = 0; /* seed of the case's random stream (0: a hash of its name), so that
                      * a case's data does not depend on the cases before it */
};

static std::mt19937_64 g_rng(12345); /* the error-path checks */

/* FNV-1a of a case's name: its default seed */
static uint64_t seed_of(const char *name) {
  uint64_t h = 1469598103934665603ull;
  for (; *name; ++name)
    h = (h ^ (unsigned char)*name) * 1099511628211ull;
  return h;
}

static std::vector<double> randn(std::mt19937_64 &rng, int64_t n, double sd) {
  std::normal_distribution<double> d(0.0, sd);
  std::vector<double> x((size_t)n);
  for (auto &v : x)
    v = d(rng);
  return x;
}

/* Queries (of S sequences of N) whose root lies on a saturated candidate's kink: tau_i =
 * u_j - 1 exactly for a candidate j <= i - w, with free candidates (nf > 0). */
static int64_t kink_roots(const std::vector<double> &u, const std::vector<double> &tau,
                          const std::vector<int64_t> &nf, int64_t S, int64_t N, int64_t w) {
  int64_t n = 0;
  for (int64_t s = 0; s < S; ++s)
    for (int64_t i = 0; i < N; ++i) {
      int64_t at = s * N + i;
      bool on = false;
      for (int64_t j = 0; nf[at] > 0 && j <= i - w && !on; ++j)
        on = u[s * N + j] - 1.0 == tau[at];
      n += on;
    }
  return n;
}

/* Rounds to the storage type and back (what the GPU sees), returns bytes for the device. */
static std::vector<unsigned char> to_dev(std::vector<double> &x, int dtype) {
  return dtype_round_bytes(x, dtype);
}

static std::vector<double> from_dev(const void *d, int64_t n, int dtype) {
  std::vector<unsigned char> h((size_t)n * dtype_size(dtype));
  CK(cudaMemcpy(h.data(), d, h.size(), cudaMemcpyDeviceToHost));
  std::vector<double> x((size_t)n);
  for (int64_t i = 0; i < n; ++i)
    x[i] = dtype_read(&h[(size_t)i * dtype_size(dtype)], dtype);
  return x;
}

static void *dev_alloc(size_t bytes) { /* poisoned with NaN (all-ones bytes) */
  void *p;
  CK(cudaMalloc(&p, bytes ? bytes : 16));
  CK(cudaMemset(p, 0xff, bytes ? bytes : 16));
  return p;
}

static void *dev_copy(const std::vector<unsigned char> &h) {
  void *p = dev_alloc(h.size());
  CK(cudaMemcpy(p, h.data(), h.size(), cudaMemcpyHostToDevice));
  return p;
}

static void *dev_floats(const std::vector<double> &x) {
  std::vector<unsigned char> h(x.size() * 4);
  for (size_t i = 0; i < x.size(); ++i) {
    float f = (float)x[i];
    std::memcpy(&h[i * 4], &f, 4);
  }
  return dev_copy(h);
}

static int g_fail = 0;

/* Relative max-norm error; prints one line; NaN counts as failure. */
static void compare(const tcase &c, const char *what, const std::vector<double> &gpu,
                    const std::vector<double> &ref, double tol) {
  double md = 0, mr = 0;
  bool nan = false;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(gpu[i]))
      nan = true;
    md = std::fmax(md, std::fabs(gpu[i] - ref[i]));
    mr = std::fmax(mr, std::fabs(ref[i]));
  }
  double rel = mr > 0 ? md / mr : md;
  bool ok = !nan && rel <= tol;
  std::printf("  %-26s %-8s rel_err %.3e (tol %.0e)%s\n", c.name, what, rel, tol,
              ok ? "" : (nan ? "  NaN  FAIL" : "  FAIL"));
  if (!ok)
    g_fail++;
}

static double tol_of(int dtype) { return dtype == SKRT_CUDA_F32 ? 1e-5 : 2e-2; }

/* Score network: GPU forward/backward vs the reference on the case's score inputs. x and k
 * hold the (rounded) values the GPU sees; xb is x (hidden) or k (keys) in storage bytes;
 * dkg is the GPU's attention dk, which mode keys adds du * w_score to. */
static void check_scores(const tcase &c, const skrt_ref_shape &sh, const skrt_ref_config &cf,
                         const std::vector<double> &x, const std::vector<double> &k,
                         const std::vector<unsigned char> &xb, const std::vector<double> &ws,
                         const std::vector<double> &bs, const std::vector<double> &uin,
                         const std::vector<double> &du, const std::vector<double> &dkg) {
  int64_t S = c.B * c.Hkv, N = c.N, F = c.mode == SKRT_SCORE_KEYS ? c.D : c.F;
  double tol = tol_of(c.dtype);
  std::vector<double> uref((size_t)(S * N));
  skrt_ref_scores(&sh, &cf, x.data(), k.data(), ws.data(), bs.data(), uin.data(), uref.data());
  skrt_cuda_scores sc{c.B,     c.Hkv,   N,       F,       c.mode, (float)cf.slope,
                      nullptr, nullptr, nullptr, nullptr, nullptr};
  sc.x = dev_copy(xb);
  sc.w_score = (const float *)dev_floats(ws);
  sc.b_score = (const float *)dev_floats(bs);
  sc.u_in = (const float *)dev_floats(uin);
  sc.u = (float *)dev_alloc(sizeof(float) * S * N);
  if (skrt_cuda_scores_forward(&sc, c.dtype, nullptr)) {
    std::printf("scores forward failed: %s\n", skrt_last_error());
    g_fail++;
    return;
  }
  CK(cudaDeviceSynchronize());
  compare(c, "u", from_dev(sc.u, S * N, SKRT_CUDA_F32), uref, tol);
  std::vector<double> duf = du;
  for (auto &v : duf)
    v = (float)v;
  int64_t nx = c.mode == SKRT_SCORE_HIDDEN ? c.B * N * F : S * N * F;
  std::vector<double> dx((size_t)nx, 0.0), dkr = dkg, dw((size_t)(c.Hkv * F)), db((size_t)c.Hkv),
                                           dsl(1);
  skrt_ref_scores_backward(&sh, &cf, x.data(), k.data(), ws.data(), duf.data(), dx.data(),
                           dkr.data(), dw.data(), db.data(), dsl.data());
  void *ddu = dev_floats(duf);
  std::vector<double> dkcopy = dkg;
  void *dxd = c.mode == SKRT_SCORE_KEYS ? dev_copy(to_dev(dkcopy, c.dtype))
                                        : dev_alloc((size_t)nx * (c.dtype ? 2 : 4));
  float *dwd = (float *)dev_alloc(sizeof(float) * c.Hkv * F);
  float *dbd = (float *)dev_alloc(sizeof(float) * c.Hkv);
  float *dsd = (float *)dev_alloc(sizeof(float));
  if (skrt_cuda_scores_backward(&sc, (const float *)ddu, dxd, dwd, dbd, dsd, c.dtype, nullptr)) {
    std::printf("scores backward failed: %s\n", skrt_last_error());
    g_fail++;
    return;
  }
  CK(cudaDeviceSynchronize());
  compare(c, "dslope", from_dev(dsd, 1, SKRT_CUDA_F32), dsl, tol);
  if (c.mode == SKRT_SCORE_INPUT)
    return;
  compare(c, "dw_score", from_dev(dwd, c.Hkv * F, SKRT_CUDA_F32), dw, tol);
  compare(c, "db_score", from_dev(dbd, c.Hkv, SKRT_CUDA_F32), db, tol);
  if (c.mode == SKRT_SCORE_HIDDEN)
    compare(c, "dx", from_dev(dxd, nx, c.dtype), dx, tol);
  else
    compare(c, "dk+du.w", from_dev(dxd, nx, c.dtype), dkr, tol);
}

static void run_case(const tcase &c) {
  std::printf("case %s: B=%lld Hq=%lld Hkv=%lld N=%lld D=%lld k=%lld w=%lld gate=%s mode=%d "
              "dtype=%s\n",
              c.name, (long long)c.B, (long long)c.Hq, (long long)c.Hkv, (long long)c.N,
              (long long)c.D, (long long)c.k, (long long)c.w, c.gate ? "v" : "kv", c.mode,
              c.dtype == 0   ? "f32"
              : c.dtype == 1 ? "bf16"
                             : "f16");
  int64_t B = c.B, Hq = c.Hq, Hkv = c.Hkv, N = c.N, D = c.D, S = B * Hkv;
  int64_t F = c.mode == SKRT_SCORE_KEYS ? D : c.F;
  skrt_ref_shape sh{B, Hq, Hkv, N, D, c.F > 0 ? c.F : 1};
  skrt_ref_config cf{c.k,
                     c.w,
                     c.gate,
                     c.mode,
                     (c.flags & NEGSCALE ? -1.0 : 1.0) / std::sqrt((double)D),
                     c.flags & NOSLOPE ? 0.0 : 0.01};
  std::mt19937_64 rng(c.seed ? c.seed : seed_of(c.name));
  std::vector<double> q = randn(rng, B * Hq * N * D, 1.0), k = randn(rng, S * N * D, 1.0),
                      v = randn(rng, S * N * D, 1.0), dout = randn(rng, B * Hq * N * D, 1.0);
  auto qb = to_dev(q, c.dtype), kb = to_dev(k, c.dtype), vb = to_dev(v, c.dtype),
       db = to_dev(dout, c.dtype);
  std::vector<double> x = randn(rng, B * N * (c.F > 0 ? c.F : 1), 1.0);
  std::vector<unsigned char> xb = c.mode == SKRT_SCORE_KEYS ? kb : to_dev(x, c.dtype);
  std::vector<double> ws = randn(rng, Hkv * std::max<int64_t>(F, 1),
                                 c.uscale / std::sqrt((double)F)),
                      bsc = randn(rng, Hkv, 0.1), uin = randn(rng, S * N, c.uscale);
  if (c.ties)
    for (auto &t : uin)
      t = std::round(t * 2.0) / 2.0;
  /* scores: the reference's u, rounded to float, feeds both sides */
  std::vector<double> u((size_t)(S * N));
  skrt_ref_scores(&sh, &cf, x.data(), k.data(), ws.data(), bsc.data(), uin.data(), u.data());
  for (auto &t : u)
    t = (float)t;
  /* reference forward/backward */
  std::vector<double> o((size_t)(B * Hq * N * D)), lse((size_t)(B * Hq * N)), tau((size_t)(S * N)),
      dq(q.size()), dk(k.size()), dv(v.size()), du(u.size());
  std::vector<int64_t> nf((size_t)(S * N));
  if (skrt_ref_attention_forward(&sh, &cf, q.data(), k.data(), v.data(), u.data(), o.data(),
                                 lse.data(), tau.data(), nf.data()) ||
      skrt_ref_attention_backward(&sh, &cf, q.data(), k.data(), v.data(), u.data(), dout.data(),
                                  dq.data(), dk.data(), dv.data(), du.data())) {
    std::printf("reference failed: %s\n", skrt_last_error());
    g_fail++;
    return;
  }
  if (c.flags & KINK) {
    int64_t nk = kink_roots(u, tau, nf, S, N, c.w);
    std::printf("  %-26s roots on a saturated kink: %lld queries%s\n", c.name, (long long)nk,
                nk ? "" : " (the data no longer covers the case)  FAIL");
    g_fail += nk == 0;
  }
  /* GPU */
  skrt_cuda_set_select_capacity(c.cap);
  skrt_cuda_set_select_group(c.group);
  size_t es = c.dtype == SKRT_CUDA_F32 ? 4 : 2;
  skrt_attn_params p{};
  p.B = B;
  p.Hq = Hq;
  p.Hkv = Hkv;
  p.N = N;
  p.D = D;
  p.topk = c.k;
  p.window = c.w;
  p.gate = c.gate;
  p.real_bits = 32;
  p.scale = cf.scale;
  p.q = dev_copy(qb);
  p.k = dev_copy(kb);
  p.v = dev_copy(vb);
  p.o = dev_alloc(es * B * Hq * N * D);
  int64_t qs[3] = {Hq * N * D, N * D, D}, ks[3] = {Hkv * N * D, N * D, D};
  std::memcpy(p.q_stride, qs, sizeof qs);
  std::memcpy(p.o_stride, qs, sizeof qs);
  std::memcpy(p.k_stride, ks, sizeof ks);
  std::memcpy(p.v_stride, ks, sizeof ks);
  p.u = dev_floats(u);
  p.lse = dev_alloc(4 * B * Hq * N);
  p.tau = dev_alloc(4 * S * N);
  p.nfree = (int32_t *)dev_alloc(4 * S * N);
  skrt_attn_grads g{};
  g.dout = dev_copy(db);
  g.dq = dev_alloc(es * B * Hq * N * D);
  g.dk = dev_alloc(es * S * N * D);
  g.dv = dev_alloc(es * S * N * D);
  g.du = dev_alloc(4 * S * N);
  if (skrt_cuda_attention_forward(&p, c.dtype, nullptr) ||
      skrt_cuda_attention_backward(&p, &g, c.dtype, nullptr)) {
    std::printf("  GPU call failed: %s\n", skrt_last_error());
    g_fail++;
    return;
  }
  CK(cudaDeviceSynchronize());
  double tol = tol_of(c.dtype);
  compare(c, "o", from_dev(p.o, B * Hq * N * D, c.dtype), o, tol);
  compare(c, "lse", from_dev(p.lse, B * Hq * N, SKRT_CUDA_F32), lse, tol);
  /* selection statistics: |F_i| exactly, tau where some entry is free */
  std::vector<int32_t> nfg((size_t)(S * N));
  CK(cudaMemcpy(nfg.data(), p.nfree, 4 * S * N, cudaMemcpyDeviceToHost));
  std::vector<double> tg = from_dev(p.tau, S * N, SKRT_CUDA_F32);
  int64_t bad_nf = 0;
  double tau_err = 0;
  for (int64_t i = 0; i < S * N; ++i) {
    bad_nf += nfg[i] != nf[i];
    if (nf[i] > 0)
      tau_err = std::fmax(tau_err, std::fabs(tg[i] - tau[i]) / (1.0 + std::fabs(tau[i])));
  }
  std::printf("  %-26s nfree mismatches %lld, tau max err %.2e%s\n", c.name, (long long)bad_nf,
              tau_err, bad_nf || tau_err > 1e-6 ? "  FAIL" : "");
  if (bad_nf || tau_err > 1e-6)
    g_fail++;
  compare(c, "dq", from_dev(g.dq, B * Hq * N * D, c.dtype), dq, tol);
  std::vector<double> dkg = from_dev(g.dk, S * N * D, c.dtype);
  compare(c, "dk", dkg, dk, tol);
  compare(c, "dv", from_dev(g.dv, S * N * D, c.dtype), dv, tol);
  compare(c, "du", from_dev(g.du, S * N, SKRT_CUDA_F32), du, tol);
  check_scores(c, sh, cf, x, k, xb, ws, bsc, uin, du, dkg);
}

/* A NaN in u: the forward returns SKRT_ERR_NONFINITE naming the scores and leaves o as it was
 * (poisoned: every byte 0xff). */
static void check_nonfinite_scores() {
  const int64_t N = 64, D = 64;
  std::vector<double> q = randn(g_rng, N * D, 1.0), k = randn(g_rng, N * D, 1.0),
                      v = randn(g_rng, N * D, 1.0), u = randn(g_rng, N, 1.0);
  u[N / 2] = NAN;
  skrt_attn_params p{};
  p.B = p.Hq = p.Hkv = 1;
  p.N = N;
  p.D = D;
  p.topk = 8;
  p.window = 4;
  p.gate = SKRT_GATE_KV;
  p.real_bits = 32;
  p.scale = 1.0 / std::sqrt((double)D);
  p.q = dev_copy(to_dev(q, SKRT_CUDA_BF16));
  p.k = dev_copy(to_dev(k, SKRT_CUDA_BF16));
  p.v = dev_copy(to_dev(v, SKRT_CUDA_BF16));
  p.o = dev_alloc(2 * N * D);
  int64_t st[3] = {N * D, N * D, D};
  std::memcpy(p.q_stride, st, sizeof st);
  std::memcpy(p.k_stride, st, sizeof st);
  std::memcpy(p.v_stride, st, sizeof st);
  std::memcpy(p.o_stride, st, sizeof st);
  p.u = dev_floats(u);
  p.lse = dev_alloc(4 * N);
  int r = skrt_cuda_attention_forward(&p, SKRT_CUDA_BF16, nullptr);
  std::vector<unsigned char> o((size_t)(2 * N * D));
  CK(cudaMemcpy(o.data(), p.o, o.size(), cudaMemcpyDeviceToHost));
  bool untouched = true;
  for (unsigned char b : o)
    untouched = untouched && b == 0xff;
  bool ok = r == SKRT_ERR_NONFINITE && std::strstr(skrt_last_error(), "NaN or inf") && untouched;
  std::printf("  non-finite scores: status %d (%s), o %s%s\n", r, skrt_last_error(),
              untouched ? "untouched" : "written", ok ? "" : "  FAIL");
  g_fail += !ok;
}

/* A shape whose B*Hkv*N items exceed the selection sort's int count (here 4 * 2^30) is refused
 * with SKRT_ERR_SHAPE before anything runs (the tensors are never touched). */
static void check_sort_limit() {
  skrt_attn_params p{};
  p.B = 1;
  p.Hq = p.Hkv = 4;
  p.N = (int64_t)1 << 30;
  p.D = 64;
  p.topk = 8;
  p.window = 4;
  p.gate = SKRT_GATE_KV;
  p.real_bits = 32;
  p.scale = 0.125;
  static char dummy[16];
  p.q = p.k = p.v = p.u = dummy;
  p.o = dummy;
  int r = skrt_cuda_attention_forward(&p, SKRT_CUDA_BF16, nullptr);
  bool ok = r == SKRT_ERR_SHAPE && std::strstr(skrt_last_error(), "selection sort");
  std::printf("  B*Hkv*N over the sort's count: status %d (%s)%s\n", r, skrt_last_error(),
              ok ? "" : "  FAIL");
  g_fail += !ok;
}

int main(int argc, char **argv) {
  /* test_cuda [--quick | NAME]: the quick cases, or the one case NAME (with the full suite's
   * cases to choose from) */
  bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  std::string only = argc > 1 && !quick ? argv[1] : "";
  const int F32 = SKRT_CUDA_F32, BF = SKRT_CUDA_BF16, H = SKRT_CUDA_F16;
  const int KV = SKRT_GATE_KV, GV = SKRT_GATE_V;
  const int HID = SKRT_SCORE_HIDDEN, KEYS = SKRT_SCORE_KEYS, IN = SKRT_SCORE_INPUT;
  std::vector<tcase> cases = {
      /* name          B Hq Hkv  N    D    k    w  gate mode dt  F ties cap us flags [group seed] */
      {"mha_f32_input", 2, 2, 2, 200, 32, 16, 8, KV, IN, F32, 0, 0, 0, 1.0, 0},
      {"gqa_f32_hidden_gv", 1, 4, 2, 300, 64, 40, 16, GV, HID, F32, 24, 0, 0, 1.0, 0},
      {"mha_f32_keys_w0", 1, 2, 1, 130, 32, 20, 0, KV, KEYS, F32, 0, 0, 0, 1.0, 0},
      {"f32_k_ge_n", 1, 2, 1, 150, 32, 500, 5, KV, IN, F32, 0, 0, 0, 1.0, 0},
      {"f32_w_ge_n", 1, 1, 1, 90, 32, 4, 200, GV, IN, F32, 0, 0, 0, 1.0, 0},
      {"f32_ties", 1, 2, 2, 260, 32, 30, 4, KV, IN, F32, 0, 1, 0, 1.0, 0},
      {"f32_k1_n1", 1, 1, 1, 1, 32, 1, 0, KV, IN, F32, 0, 0, 0, 1.0, 0},
      {"bf16_mha_d64", 1, 2, 2, 333, 64, 50, 32, KV, IN, BF, 0, 0, 0, 1.0, 0},
      {"f16_gqa_d96_gv", 1, 4, 1, 250, 96, 30, 20, GV, HID, H, 16, 0, 0, 1.0, 0},
      /* no slope, narrow scores: keys exposed just after |C_i| first exceeds k often score
       * between the new tau and the lowest candidate (the transition's free zone) */
      {"f32_noslope_transition", 4, 4, 4, 160, 32, 16, 8, KV, IN, F32, 0, 0, 0, 0.3, NOSLOPE},
      {"f32_noslope_w0_hidden", 2, 4, 2, 120, 64, 5, 0, GV, HID, F32, 16, 0, 0, 0.5, NOSLOPE},
      /* GQA blocks of 4 heads x 64 queries with N % 256 = 44: the launch once had blocks past
       * the last query that read tile lists out of bounds (memcheck runs the quick cases) */
      {"bf16_gqa4_d64_tail", 1, 4, 1, 300, 64, 40, 32, KV, IN, BF, 0, 0, 0, 1.0, 0},
      /* the D = 128 warpgroup kernels (one key buffer, paired 32-key blocks) under racecheck */
      {"bf16_gqa_d128_small", 1, 4, 2, 200, 128, 30, 24, KV, IN, BF, 0, 0, 0, 1.0, 0},
      /* a negative softmax scale: plain forward, tensor-core backward */
      {"bf16_mha_d64_negscale", 1, 2, 2, 180, 64, 30, 16, KV, IN, BF, 0, 0, 0, 1.0, NEGSCALE},
      /* tier 1 in groups of 4 chunk-major entries (skrt_cuda_set_select_group) */
      {"f32_parts_groups", 1, 3, 3, 3000, 32, 300, 100, KV, IN, F32, 0, 0, 0, 1.0, 0, 4},
  };
  std::vector<tcase> more = {
      {"f32_chunks_w0", 1, 2, 1, 1300, 32, 64, 0, KV, IN, F32, 0, 0, 0, 1.0, 0},
      {"f32_chunks_fallback", 1, 2, 1, 1300, 32, 64, 40, GV, IN, F32, 0, 0, 96, 1.0, 0},
      {"f32_fallback_multiseq", 2, 4, 2, 900, 32, 50, 20, KV, IN, F32, 0, 0, 80, 1.0, 0},
      {"f32_chunks_smallspread", 1, 1, 1, 1200, 64, 100, 30, KV, IN, F32, 0, 0, 0, 0.05, 0},
      {"bf16_gqa_d128", 1, 4, 1, 1100, 128, 200, 64, KV, KEYS, BF, 0, 0, 0, 1.0, 0},
      {"bf16_gqa_d128_gv", 2, 4, 2, 700, 128, 100, 50, GV, IN, BF, 0, 0, 0, 2.0, 0},
      {"f16_mha_d64_w0", 1, 2, 2, 900, 64, 300, 0, KV, IN, H, 0, 0, 0, 1.0, 0},
      {"bf16_d32_k_ge_n", 1, 2, 1, 400, 32, 1000, 16, KV, HID, BF, 8, 0, 0, 1.0, 0},
      /* the warpgroup-MMA kernels: one head per block (per-warpgroup kinds, EMPTY blocks, the
       * D = 128 backward's paired 32-key blocks), GQA groups of 2 and 4, fp16, k >= N, w >= N */
      {"bf16_mha_d128_w_ge_n", 1, 2, 2, 600, 128, 60, 700, KV, IN, BF, 0, 0, 0, 1.0, 0},
      {"f16_mha_d128_noslope", 1, 2, 2, 777, 128, 90, 70, KV, KEYS, H, 0, 0, 0, 0.5, NOSLOPE},
      {"bf16_gqa_d64_k_ge_n_gv", 1, 4, 2, 450, 64, 500, 20, GV, HID, BF, 16, 0, 0, 1.0, 0},
      {"f16_gqa4_d64", 2, 8, 2, 640, 64, 40, 96, KV, IN, H, 0, 0, 0, 1.0, 0},
      /* wide scores: whole key blocks of saturated keys (gate 1, taking the all-window code)
       * next to blocks holding free ones */
      {"bf16_mha_d64_sat", 1, 2, 2, 1000, 64, 192, 64, KV, IN, BF, 0, 0, 0, 4.0, 0},
      {"bf16_gqa_d128_sat", 1, 4, 2, 1000, 128, 160, 48, KV, IN, BF, 0, 0, 0, 4.0, 0},
      /* D = 128: the backward's masked-window blocks set unattended logits to +inf before a
       * negative scale */
      {"bf16_gqa_d128_negscale", 1, 4, 2, 500, 128, 40, 96, KV, IN, BF, 0, 0, 0, 1.0, NEGSCALE},
      /* the selection's early chunks swept in 4 and 2 parts side by side (skrt_sel_parts):
       * chunks 1-2 in 4, 3-4 in 2, the partial last one whole; with ties (seed 30: two
       * queries' roots lie on a saturated candidate's kink), and with gate v */
      {"f32_parts", 1, 2, 1, 3000, 32, 300, 100, KV, IN, F32, 0, 0, 0, 1.0, 0},
      {"f32_parts_ties_gv", 1, 1, 1, 2600, 32, 256, 64, GV, IN, F32, 0, 1, 0, 1.0, KINK, 0, 30},
      {"bf16_mha_d64_parts", 1, 2, 2, 2600, 64, 256, 128, KV, IN, BF, 0, 0, 0, 1.0, 0},
      /* tier 1 in several groups (as at B*Hkv*N > 1.08M on an H100): groups of 4 or 5
       * chunk-major entries start inside a chunk row (f32_parts_groups, among the quick
       * cases for the sanitizers, inside rows swept in 4 parts); with the overflow tiers, and
       * a GQA d128 one */
      {"f32_fallback_groups", 2, 4, 2, 900, 32, 50, 20, GV, IN, F32, 0, 0, 80, 1.0, 0, 5},
      {"bf16_gqa_d128_groups", 1, 4, 2, 1100, 128, 200, 64, KV, IN, BF, 0, 0, 0, 1.0, 0, 3},
  };
  if (!quick)
    cases.insert(cases.end(), more.begin(), more.end());
  if (!only.empty()) {
    int found = 0;
    for (const tcase &c : cases)
      if (only == c.name) {
        run_case(c);
        found++;
      }
    if (!found) {
      std::printf("test_cuda: no case named '%s'\n", only.c_str());
      return 2;
    }
    std::printf("%s: %d failure(s)\n", g_fail ? "FAILED" : "PASSED", g_fail);
    return g_fail ? 1 : 0;
  }
  for (const tcase &c : cases)
    run_case(c);
  /* the scratch pool handed back to the driver (it kept the last case's scratch, so the
   * device's free memory grows); the next call allocates anew */
  size_t free0, free1, total;
  CK(cudaDeviceSynchronize());
  CK(cudaMemGetInfo(&free0, &total));
  int tr = skrt_cuda_trim();
  CK(cudaDeviceSynchronize());
  CK(cudaMemGetInfo(&free1, &total));
  bool trimmed = tr == 0 && free1 > free0;
  std::printf("  skrt_cuda_trim: status %d, free device memory %zu -> %zu bytes%s\n", tr, free0,
              free1, trimmed ? "" : "  FAIL");
  g_fail += !trimmed;
  run_case(cases[7]);
  /* error path: non-finite scores are reported, not computed */
  check_nonfinite_scores();
  check_sort_limit();
  std::printf("%s: %d failure(s)\n", g_fail ? "FAILED" : "PASSED", g_fail);
  return g_fail ? 1 : 0;
}
