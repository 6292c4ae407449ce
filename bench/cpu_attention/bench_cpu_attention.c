/* CPU attention benchmark driver (run by run_bench.py, which also times PyTorch on the same
 * inputs and prints the table): times the fused skc SparseK forward and backward kernels
 * (runtime/kernels/, built as generated code is: -O3 -march=native -fopenmp,
 * SKK_HEAD_DIM=64), two dense causal attention baselines in C (flash-style tiles with OpenBLAS
 * sgemm for the two products; and the kernels' own register-blocked loops over every key
 * j <= i), both with online softmax and OpenMP over (head, query block), and the machine's
 * OpenBLAS SGEMM rate. Inputs q, k, v, u (float32, (1, H, N, D) / (1, H, N)) are
 * read from files written by the script; outputs can be written back for its checks.
 *
 *   bench_cpu_attention sgemm THREADS
 *   bench_cpu_attention run DIR N H D K W THREADS REPS WHAT   (WHAT: skc,bwd,dense,own,save) */
#define SKK_REAL float
#ifndef SKK_HEAD_DIM
#define SKK_HEAD_DIM 64
#endif
#include "kernels/cpu_attention_bwd.h"
#include "kernels/cpu_attention_fwd.h"

#include <cblas.h>
#include <stdio.h>
#include <time.h>

void openblas_set_num_threads(int);

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof(double), cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ---- OpenBLAS SGEMM rate ------------------------------------------------------------- */

static int run_sgemm(int threads) {
  const int n = 4096;
  float *a = malloc(4L * n * n), *b = malloc(4L * n * n), *c = malloc(4L * n * n);
  for (long i = 0; i < (long)n * n; ++i)
    a[i] = 1e-3f * (float)(i % 7), b[i] = 1e-3f * (float)(i % 5);
  openblas_set_num_threads(threads);
  double t[5], flop = 2.0 * n * n * (double)n;
  for (int r = -1; r < 5; ++r) {
    double t0 = now_s();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    if (r >= 0)
      t[r] = now_s() - t0;
  }
  double med = median(t, 5); /* sorts t */
  printf("{\"sgemm_gflops\": %.2f, \"sgemm_gflops_median\": %.2f, \"sgemm_n\": %d}\n",
         flop / t[0] / 1e9, flop / med / 1e9, n);
  free(a), free(b), free(c);
  return 0;
}

/* ---- Dense causal attention baseline ------------------------------------------------- */

#define DQ 128 /* queries per block */
#define DK 256 /* keys per block */

/* Online softmax of one (DQ x DK) score block s (already scaled), rows q0.., keys k0..;
 * causal mask on the diagonal; rescales o (DQ x D) and leaves P in s. */
static void dense_softmax(float *s, int64_t nq, int64_t nk, int64_t q0, int64_t k0, float *m,
                          float *l, float *o, int64_t D) {
  for (int64_t r = 0; r < nq; ++r) {
    float *sr = s + r * DK;
    const int64_t lim = skk_min64(nk, q0 + r - k0 + 1); /* keys j <= i */
    float mx = m[r];
    for (int64_t c = 0; c < lim; ++c)
      mx = sr[c] > mx ? sr[c] : mx;
    const float alpha = skk_expf(m[r] - mx);
    float sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t c = 0; c < nk; ++c) {
      const float e = c < lim ? skk_expf(sr[c] - mx) : 0.0f;
      sr[c] = e;
      sum += e;
    }
    m[r] = mx;
    l[r] = l[r] * alpha + sum;
    for (int64_t d = 0; d < D; ++d)
      o[r * D + d] *= alpha;
  }
}

/* One query block of one head: all key blocks up to the diagonal. */
static void dense_block(const float *q, const float *k, const float *v, float *o, int64_t N,
                        int64_t D, int64_t q0, float scale, float *s, float *m, float *l) {
  const int64_t nq = skk_min64(DQ, N - q0);
  for (int64_t r = 0; r < nq; ++r)
    m[r] = -1e30f, l[r] = 0;
  memset(o + q0 * D, 0, (size_t)(nq * D) * sizeof(float));
  for (int64_t k0 = 0; k0 < q0 + nq; k0 += DK) {
    const int64_t nk = skk_min64(DK, N - k0);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nq, (int)nk, (int)D, scale,
                q + q0 * D, (int)D, k + k0 * D, (int)D, 0, s, DK);
    dense_softmax(s, nq, nk, q0, k0, m, l, o + q0 * D, D);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nq, (int)D, (int)nk, 1, s, DK,
                v + k0 * D, (int)D, 1, o + q0 * D, (int)D);
  }
  for (int64_t r = 0; r < nq; ++r)
    for (int64_t d = 0; d < D; ++d)
      o[(q0 + r) * D + d] /= l[r];
}

static void dense_attention(const float *q, const float *k, const float *v, float *o, int64_t H,
                            int64_t N, int64_t D, int threads) {
  const int64_t nb = (N + DQ - 1) / DQ;
  const float scale = 1.0f / sqrtf((float)D);
  openblas_set_num_threads(1);
#pragma omp parallel num_threads(threads)
  {
    float *s = malloc(sizeof(float) * DQ * DK), *m = malloc(sizeof(float) * DQ);
    float *l = malloc(sizeof(float) * DQ);
#pragma omp for schedule(dynamic, 1)
    for (int64_t task = 0; task < H * nb; ++task) {
      const int64_t h = task % H, blk = nb - 1 - task / H; /* longest blocks first */
      dense_block(q + h * N * D, k + h * N * D, v + h * N * D, o + h * N * D, N, D, blk * DQ,
                  scale, s, m, l);
    }
    free(s), free(m), free(l);
  }
}

/* ---- Dense causal attention with the kernels' own register-blocked loops ------------- */

/* Same tile machinery as skc (queries as vector lanes, K/V rows as broadcasts, online
 * softmax over 64-key blocks) over every key j <= i, with DG_TILES query tiles sharing each
 * K/V block while it is in L1 (the strongest dense loop we have). */
#define DG_TILES 4

struct dense_scratch {
  float *qt, *ot, *st, *pt, *g, *ones, *m, *l; /* qt, ot, m, l: per tile of the group */
  const float **kp, **vp;
};

/* Pointers of key block [k0, k0 + nk) padded to whole key groups; returns the padded count. */
static int64_t dense_block_ptrs(const float *k, const float *v, int64_t D, int64_t k0,
                                int64_t nk, const float *zero, struct dense_scratch *s) {
  const int64_t nc = (nk + SKK_KG - 1) / SKK_KG * SKK_KG;
  for (int64_t c = 0; c < nc; ++c) {
    s->kp[c] = c < nk ? k + (k0 + c) * D : zero;
    s->vp[c] = c < nk ? v + (k0 + c) * D : zero;
  }
  return nc;
}

/* One key block for tile i0 (x = tile index in the group): mask on the diagonal only. */
static void dense_tile_block(int64_t D, int64_t i0, int64_t k0, int64_t nk, int64_t nc,
                             struct dense_scratch *s, int64_t x) {
  const float *g = s->ones;
  if (k0 + nc > i0) { /* causal mask: key j attended by query i iff j <= i */
    for (int64_t c = 0; c < nc; ++c)
      for (int t = 0; t < SKK_T; ++t)
        s->g[c * SKK_T + t] = (c < nk && k0 + c <= i0 + t) ? 1.0f : -1.0f;
    g = s->g;
  }
  float *qt = s->qt + x * D * SKK_T, *ot = s->ot + x * D * SKK_T;
  for (int64_t cg = 0; cg < nc; cg += SKK_KG)
    skk_rows_dot_t(s->kp + cg, qt, D, s->st + cg * SKK_T);
  skk_softmax_block(s->st, g, nc, 0, s->m + x * SKK_T, s->l + x * SKK_T, ot, D, s->pt);
  skk_acc_t(s->pt, s->vp, nc, D, ot);
}

/* Query tiles [t0, t1) of one head. */
static void dense_own_group(const float *q, const float *k, const float *v, float *o, int64_t N,
                            int64_t D, int64_t t0, int64_t t1, struct dense_scratch *s,
                            const float *zero) {
  const int64_t iend = skk_min64(N, t1 * SKK_T);
  for (int64_t x = 0; x < t1 - t0; ++x) {
    const int64_t i0 = (t0 + x) * SKK_T, nq = skk_min64(SKK_T, N - i0);
    skk_load_rows_t(q + i0 * D, D, nq, D, 1.0f / sqrtf((float)D), s->pt,
                    s->qt + x * D * SKK_T);
    memset(s->ot + x * D * SKK_T, 0, sizeof(float) * (size_t)(D * SKK_T));
    for (int t = 0; t < SKK_T; ++t)
      s->m[x * SKK_T + t] = -1e30f, s->l[x * SKK_T + t] = 0;
  }
  for (int64_t k0 = 0; k0 < iend; k0 += SKK_KB) {
    const int64_t nk = skk_min64(SKK_KB, iend - k0);
    const int64_t nc = dense_block_ptrs(k, v, D, k0, nk, zero, s);
    for (int64_t x = 0; x < t1 - t0; ++x) {
      const int64_t i0 = (t0 + x) * SKK_T, i1 = skk_min64(N, i0 + SKK_T);
      if (k0 < i1)
        dense_tile_block(D, i0, k0, skk_min64(nk, i1 - k0), nc, s, x);
    }
  }
  for (int64_t x = 0; x < t1 - t0; ++x) {
    const int64_t i0 = (t0 + x) * SKK_T, nq = skk_min64(SKK_T, N - i0);
    float inv[SKK_T];
    for (int t = 0; t < SKK_T; ++t)
      inv[t] = 1.0f / s->l[x * SKK_T + t];
    skk_store_rows_t(s->ot + x * D * SKK_T, inv, nq, D, s->pt, o + i0 * D, D);
  }
}

static void dense_own(const float *q, const float *k, const float *v, float *o, int64_t H,
                      int64_t N, int64_t D, int threads) {
  const int64_t nt = (N + SKK_T - 1) / SKK_T, ng = (nt + DG_TILES - 1) / DG_TILES;
#pragma omp parallel num_threads(threads)
  {
    struct dense_scratch s;
    const size_t tile = sizeof(float) * (size_t)(D * SKK_T * DG_TILES);
    s.qt = malloc(tile), s.ot = malloc(tile);
    s.m = malloc(sizeof(float) * SKK_T * DG_TILES), s.l = malloc(sizeof(float) * SKK_T * DG_TILES);
    s.st = malloc(sizeof(float) * SKK_KB * SKK_T);
    s.pt = malloc(sizeof(float) * (size_t)(skk_max64(SKK_KB, D) * SKK_T));
    s.g = malloc(sizeof(float) * SKK_KB * SKK_T), s.ones = malloc(sizeof(float) * SKK_KB * SKK_T);
    s.kp = malloc(sizeof(float *) * SKK_KB), s.vp = malloc(sizeof(float *) * SKK_KB);
    float *zero = calloc((size_t)D, sizeof(float));
    for (int i = 0; i < SKK_KB * SKK_T; ++i)
      s.ones[i] = 1.0f;
#pragma omp for schedule(dynamic, 1)
    for (int64_t task = 0; task < H * ng; ++task) {
      const int64_t h = task % H, grp = ng - 1 - task / H; /* longest groups first */
      const int64_t t0 = grp * DG_TILES, t1 = skk_min64(nt, t0 + DG_TILES);
      dense_own_group(q + h * N * D, k + h * N * D, v + h * N * D, o + h * N * D, N, D, t0, t1,
                      &s, zero);
    }
    free(s.qt), free(s.ot), free(s.m), free(s.l), free(s.st), free(s.pt), free(s.g);
    free(s.ones), free(s.kp), free(s.vp), free(zero);
  }
}

/* ---- Input files and the timed runs -------------------------------------------------- */

static float *read_floats(const char *dir, const char *name, int64_t n) {
  char path[4096];
  snprintf(path, sizeof(path), "%s/%s.f32", dir, name);
  FILE *f = fopen(path, "rb");
  float *x = malloc((size_t)n * sizeof(float));
  if (!f || !x || fread(x, sizeof(float), (size_t)n, f) != (size_t)n) {
    fprintf(stderr, "cannot read %lld floats from %s\n", (long long)n, path);
    exit(2);
  }
  fclose(f);
  return x;
}

static void write_floats(const char *dir, const char *name, const float *x, int64_t n) {
  char path[4096];
  snprintf(path, sizeof(path), "%s/%s.f32", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(x, sizeof(float), (size_t)n, f) != (size_t)n)
    fprintf(stderr, "cannot write %s\n", path);
  if (f)
    fclose(f);
}

struct bench {
  const char *dir;
  int64_t N, H, D, K, W;
  int threads, reps;
  float *q, *k, *v, *u, *o, *lse, *tau, *dout, *dq, *dk, *dv, *du;
  int32_t *nfree;
};

static struct skrt_attn_params bench_params(struct bench *b) {
  struct skrt_attn_params p;
  memset(&p, 0, sizeof(p));
  p.B = 1, p.Hq = p.Hkv = b->H, p.N = b->N, p.D = b->D, p.topk = b->K, p.window = b->W;
  p.gate = SKRT_GATE_KV, p.real_bits = 32, p.scale = 1.0 / sqrt((double)b->D);
  p.q = b->q, p.k = b->k, p.v = b->v, p.o = b->o, p.u = b->u;
  int64_t st[3] = {b->H * b->N * b->D, b->N * b->D, b->D};
  memcpy(p.q_stride, st, sizeof(st)), memcpy(p.k_stride, st, sizeof(st));
  memcpy(p.v_stride, st, sizeof(st)), memcpy(p.o_stride, st, sizeof(st));
  p.lse = b->lse, p.tau = b->tau, p.nfree = b->nfree;
  return p;
}

/* Median seconds of reps runs (after one warm-up) of the skc forward or backward. */
static double cpu_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Median wall seconds of reps runs (after one warm-up) of the skc forward or backward;
 * *cpu gets the mean process CPU seconds per run (robust to a shared machine). */
static double time_skc(struct bench *b, struct skrt_context *ctx, int backward, double *cpu) {
  struct skrt_attn_params p = bench_params(b);
  struct skrt_attn_grads g = {b->dout, b->dq, b->dk, b->dv, b->du};
  double t[64], c0 = 0;
  int n = b->reps < 64 ? b->reps : 64;
  for (int r = -1; r < n; ++r) {
    if (r == 0)
      c0 = cpu_s();
    double t0 = now_s();
    int st = backward ? skk_attention_backward(&p, &g, ctx) : skk_attention_forward(&p, ctx);
    if (st) {
      fprintf(stderr, "skc: %s\n", skrt_last_error());
      exit(3);
    }
    if (r >= 0)
      t[r] = now_s() - t0;
  }
  *cpu = (cpu_s() - c0) / n;
  return median(t, n);
}

static double time_dense(struct bench *b, int reps, int own) {
  double t[16];
  int n = reps < 16 ? reps : 16;
  for (int r = 0; r < n; ++r) {
    double t0 = now_s();
    if (own)
      dense_own(b->q, b->k, b->v, b->o, b->H, b->N, b->D, b->threads);
    else
      dense_attention(b->q, b->k, b->v, b->o, b->H, b->N, b->D, b->threads);
    t[r] = now_s() - t0;
  }
  return median(t, n);
}

static int run_bench(struct bench *b, const char *what) {
  const int64_t nq = b->H * b->N * b->D, nu = b->H * b->N;
  b->q = read_floats(b->dir, "q", nq), b->k = read_floats(b->dir, "k", nq);
  b->v = read_floats(b->dir, "v", nq), b->u = read_floats(b->dir, "u", nu);
  b->o = calloc((size_t)nq, 4), b->lse = calloc((size_t)nu, 4), b->tau = calloc((size_t)nu, 4);
  b->nfree = calloc((size_t)nu, 4), b->dout = malloc((size_t)nq * 4);
  b->dq = calloc((size_t)nq, 4), b->dk = calloc((size_t)nq, 4), b->dv = calloc((size_t)nq, 4);
  b->du = calloc((size_t)nu, 4);
  for (int64_t i = 0; i < nq; ++i)
    b->dout[i] = (float)((i * 2654435761u) % 1000) * 1e-3f - 0.5f;
  struct skrt_context_options opt = {b->threads, NULL};
  struct skrt_context *ctx = NULL;
  skrt_context_create(&opt, &ctx);
  printf("{\"N\": %lld", (long long)b->N);
  double cpu = 0;
  if (strstr(what, "skc")) {
    printf(", \"skc_fwd_s\": %.6f", time_skc(b, ctx, 0, &cpu));
    printf(", \"skc_fwd_cpu_s\": %.6f", cpu);
    if (strstr(what, "save"))
      write_floats(b->dir, "o_skc", b->o, nq);
  }
  if (strstr(what, "bwd")) {
    printf(", \"skc_bwd_s\": %.6f", time_skc(b, ctx, 1, &cpu));
    printf(", \"skc_bwd_cpu_s\": %.6f", cpu);
  }
  if (strstr(what, "dense")) {
    printf(", \"dense_c_s\": %.6f", time_dense(b, b->reps, 0));
    if (strstr(what, "save"))
      write_floats(b->dir, "o_dense", b->o, nq);
  }
  if (strstr(what, "own")) {
    printf(", \"dense_own_s\": %.6f", time_dense(b, b->reps, 1));
    if (strstr(what, "save"))
      write_floats(b->dir, "o_own", b->o, nq);
  }
  printf("}\n");
  skrt_context_destroy(ctx);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "sgemm"))
    return run_sgemm(atoi(argv[2]));
  if (argc != 11 || strcmp(argv[1], "run")) {
    fprintf(stderr, "usage: %s sgemm THREADS | run DIR N H D K W THREADS REPS WHAT\n", argv[0]);
    return 1;
  }
  struct bench b;
  memset(&b, 0, sizeof(b));
  b.dir = argv[2], b.N = atoll(argv[3]), b.H = atoll(argv[4]), b.D = atoll(argv[5]);
  b.K = atoll(argv[6]), b.W = atoll(argv[7]), b.threads = atoi(argv[8]), b.reps = atoi(argv[9]);
  if (b.D != SKK_HEAD_DIM) {
    fprintf(stderr, "built for D = %d\n", SKK_HEAD_DIM);
    return 1;
  }
  return run_bench(&b, argv[10]);
}
