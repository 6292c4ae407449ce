/* examples/generate: constant-memory generation with the skrt KV cache (S12).
 *
 * A toy decoder with random weights: per layer, per-head projections of the hidden state to
 * q, k, v (D x D each), SparseK scores from the hidden state (score mode `hidden`, with a
 * position slope), SparseK attention through the cache, and a residual update. It prefills a
 * random prompt (outputs of the prompt from the cache's prefill, which equal the forward's),
 * then generates up to --positions positions, printing at every power of two and at the end:
 * per-token latency (whole step, and the cache's own work: scores and decode), K/V bytes
 * allocated and in use, scalar-state bytes (scores kept for the exact tau), and the process's
 * resident memory from /proc/self/statm, so that flat memory is visible.
 *
 *   generate [--positions N] [--prompt P] [--layers L] [--batch B] [--hq H] [--hkv H]
 *            [--d D] [--k K] [--w W] [--slope S] [--threads T] [--device cpu|cuda]
 * Default: a quick run (32k positions). A 1M-position run:
 *   generate --positions 1048576 --hq 4 --hkv 1 --d 32 --k 128 --w 64
 * --device cuda (builds with libskrt_cuda only): the cache lives in GPU memory
 * (skrt_cuda_kv_cache_create); the toy projections stay on the CPU, so every step copies the
 * new token's x, q, k, v to the device, computes its scores and decodes there, and copies the
 * outputs back (step_us includes the copies, decode_us is the cache's scores + decode). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "skrt.h"
#ifdef SKC_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

struct gen_opts {
  int64_t positions, prompt, layers, batch, hq, hkv, d, k, w, threads;
  double slope;
  int cuda; /* --device cuda */
};

/* Weights of one layer: Wq (Hq, D, D), Wk and Wv (Hkv, D, D), score w (Hkv, D), bias (Hkv). */
struct gen_layer {
  float *wq, *wk, *wv, *ws, *bs;
};

struct gen_model {
  struct gen_opts o;
  struct gen_layer *layer;
  float **dws, **dbs; /* --device cuda: per layer, device copies of ws and bs */
  float *embed;       /* 256 random token embeddings (256, D) */
  uint64_t rng;
};

/* ---- setup ----------------------------------------------------------------------------- */

static double gen_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double gen_uniform(uint64_t *s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(*s >> 11) * 0x1p-53;
}

static float *gen_random(uint64_t *rng, int64_t n, double amp) {
  float *p = malloc((size_t)n * sizeof(float));
  for (int64_t i = 0; p && i < n; i++)
    p[i] = (float)(amp * (2.0 * gen_uniform(rng) - 1.0));
  return p;
}

static const char gen_usage[] =
    "usage: generate [--positions N] [--prompt P] [--layers L] [--batch B] [--hq H] [--hkv H]\n"
    "                [--d D] [--k K] [--w W] [--slope S] [--threads T] [--device cpu|cuda]\n"
    "Prefills a random prompt of P tokens, then generates up to N positions with a toy\n"
    "decoder over the constant-memory KV cache, printing per-token latency, cache bytes and\n"
    "resident memory at every power of two (defaults: N 32768, P 256, L 1, B 1, Hq 8, Hkv 2,\n"
    "D 64, k 256, w 64, slope 1e-3, T all cores, device cpu).\n";

static int gen_parse(int argc, char **argv, struct gen_opts *o) {
  *o = (struct gen_opts){32768, 256, 1, 1, 8, 2, 64, 256, 64, 0, 1e-3, 0};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h"))
      return fputs(gen_usage, stdout), -1;
    if (i + 1 >= argc)
      return fprintf(stderr, "generate: %s needs a value\n", a), 1;
    if (!strcmp(a, "--device")) {
      const char *d = argv[++i];
      if (strcmp(d, "cpu") && strcmp(d, "cuda"))
        return fprintf(stderr, "generate: --device must be cpu or cuda, got %s\n", d), 1;
      o->cuda = !strcmp(d, "cuda");
      continue;
    }
    double v = atof(argv[++i]);
    if (!strcmp(a, "--positions"))
      o->positions = (int64_t)v;
    else if (!strcmp(a, "--prompt"))
      o->prompt = (int64_t)v;
    else if (!strcmp(a, "--layers"))
      o->layers = (int64_t)v;
    else if (!strcmp(a, "--batch"))
      o->batch = (int64_t)v;
    else if (!strcmp(a, "--hq"))
      o->hq = (int64_t)v;
    else if (!strcmp(a, "--hkv"))
      o->hkv = (int64_t)v;
    else if (!strcmp(a, "--d"))
      o->d = (int64_t)v;
    else if (!strcmp(a, "--k"))
      o->k = (int64_t)v;
    else if (!strcmp(a, "--w"))
      o->w = (int64_t)v;
    else if (!strcmp(a, "--slope"))
      o->slope = v;
    else if (!strcmp(a, "--threads"))
      o->threads = (int64_t)v;
    else
      return fprintf(stderr, "generate: unknown option %s (see --help)\n", a), 1;
  }
  if (o->prompt < 0 || o->prompt > o->positions)
    return fprintf(stderr, "generate: need 0 <= --prompt <= --positions\n"), 1;
#ifndef SKC_HAVE_CUDA
  if (o->cuda)
    return fprintf(stderr, "generate: --device cuda: this build has no libskrt_cuda\n"), 1;
#endif
  return 0;
}

static int gen_model_init(struct gen_model *m, const struct gen_opts *o) {
  int64_t D = o->d;
  double a = 1.0 / sqrt((double)D);
  m->o = *o;
  m->rng = 12345;
  m->layer = calloc((size_t)o->layers, sizeof(struct gen_layer));
  m->embed = gen_random(&m->rng, 256 * D, 1.0);
  if (!m->layer || !m->embed)
    return 1;
  for (int64_t l = 0; l < o->layers; l++) {
    struct gen_layer *L = &m->layer[l];
    L->wq = gen_random(&m->rng, o->hq * D * D, 2.0 * a);
    L->wk = gen_random(&m->rng, o->hkv * D * D, 2.0 * a);
    L->wv = gen_random(&m->rng, o->hkv * D * D, a);
    L->ws = gen_random(&m->rng, o->hkv * D, a);
    L->bs = gen_random(&m->rng, o->hkv, 0.5);
    if (!L->wq || !L->wk || !L->wv || !L->ws || !L->bs)
      return 1;
  }
  return 0;
}

static void gen_model_free(struct gen_model *m) {
  for (int64_t l = 0; m->layer && l < m->o.layers; l++) {
    free(m->layer[l].wq), free(m->layer[l].wk), free(m->layer[l].wv);
    free(m->layer[l].ws), free(m->layer[l].bs);
#ifdef SKC_HAVE_CUDA
    if (m->dws)
      cudaFree(m->dws[l]), cudaFree(m->dbs[l]);
#endif
  }
  free(m->dws), free(m->dbs);
  free(m->layer);
  free(m->embed);
}

/* ---- one layer over N positions -------------------------------------------------------- */

/* y (rows, D) = x (rows, D) W^T for one head's D x D matrix. */
static void gen_matvec(float *y, const float *W, const float *x, int64_t D) {
  for (int64_t i = 0; i < D; i++) {
    float s = 0.0f;
    for (int64_t j = 0; j < D; j++)
      s += W[i * D + j] * x[j];
    y[i] = s;
  }
}

/* Buffers of one layer call for N positions of every sequence (layouts of skrt_kv_io). */
struct gen_bufs {
  float *x;     /* (B, N, D) hidden states, updated in place */
  float *q, *o; /* (B, Hq, N, D) */
  float *k, *v; /* (B, Hkv, N, D) */
  float *u;     /* (B, Hkv, N) */
};

static void gen_project(const struct gen_model *m, const struct gen_layer *L, struct gen_bufs *b,
                        int64_t N) {
  const struct gen_opts *o = &m->o;
  int64_t D = o->d;
  for (int64_t s = 0; s < o->batch; s++)
    for (int64_t n = 0; n < N; n++) {
      const float *x = b->x + (s * N + n) * D;
      for (int64_t h = 0; h < o->hq; h++)
        gen_matvec(b->q + ((s * o->hq + h) * N + n) * D, L->wq + h * D * D, x, D);
      for (int64_t h = 0; h < o->hkv; h++) {
        gen_matvec(b->k + ((s * o->hkv + h) * N + n) * D, L->wk + h * D * D, x, D);
        gen_matvec(b->v + ((s * o->hkv + h) * N + n) * D, L->wv + h * D * D, x, D);
      }
    }
}

/* Prompt scores (S5) for position p0 + n, written like skrt_kv_cache_scores does for one. */
static void gen_prompt_scores(const struct gen_model *m, const struct gen_layer *L,
                              struct gen_bufs *b, int64_t N) {
  const struct gen_opts *o = &m->o;
  for (int64_t s = 0; s < o->batch; s++)
    for (int64_t h = 0; h < o->hkv; h++)
      for (int64_t n = 0; n < N; n++) {
        const float *x = b->x + (s * N + n) * o->d;
        float a = 0.0f;
        for (int64_t j = 0; j < o->d; j++)
          a += x[j] * L->ws[h * o->d + j];
        b->u[(s * o->hkv + h) * N + n] = (float)((double)(a + L->bs[h]) + o->slope * (double)n);
      }
}

/* x += mean over query heads of o, then a soft normalization: bounded hidden states. */
static void gen_residual(const struct gen_opts *o, struct gen_bufs *b, int64_t N) {
  for (int64_t s = 0; s < o->batch; s++)
    for (int64_t n = 0; n < N; n++) {
      float *x = b->x + (s * N + n) * o->d;
      double ss = 0.0;
      for (int64_t j = 0; j < o->d; j++) {
        float a = 0.0f;
        for (int64_t h = 0; h < o->hq; h++)
          a += b->o[((s * o->hq + h) * N + n) * o->d + j];
        x[j] += a / (float)o->hq;
        ss += (double)x[j] * x[j];
      }
      float inv = (float)(1.0 / sqrt(ss / (double)o->d + 1e-6));
      for (int64_t j = 0; j < o->d; j++)
        x[j] *= inv;
    }
}

static int gen_bufs_init(struct gen_bufs *b, const struct gen_opts *o, int64_t N) {
  b->x = malloc((size_t)(o->batch * N * o->d) * sizeof(float));
  b->q = malloc((size_t)(o->batch * o->hq * N * o->d) * sizeof(float));
  b->o = malloc((size_t)(o->batch * o->hq * N * o->d) * sizeof(float));
  b->k = malloc((size_t)(o->batch * o->hkv * N * o->d) * sizeof(float));
  b->v = malloc((size_t)(o->batch * o->hkv * N * o->d) * sizeof(float));
  b->u = malloc((size_t)(o->batch * o->hkv * N) * sizeof(float));
  return !b->x || !b->q || !b->o || !b->k || !b->v || !b->u;
}

static void gen_bufs_free(struct gen_bufs *b) {
  free(b->x), free(b->q), free(b->o), free(b->k), free(b->v), free(b->u);
}

/* ---- --device cuda: device mirrors of the buffers -------------------------------------- */

/* Device buffers of one call (the layouts of gen_bufs), and their sizes in floats. */
struct gen_dbufs {
  float *x, *q, *o, *k, *v, *u;
  int64_t nx, nq, nkv, nu;
};

#ifdef SKC_HAVE_CUDA
static float *gen_dev_alloc(const float *h, int64_t n) { /* h may be NULL: no copy */
  float *d = NULL;
  if (cudaMalloc((void **)&d, (size_t)n * sizeof(float)) != cudaSuccess)
    return NULL;
  if (h && cudaMemcpy(d, h, (size_t)n * sizeof(float), cudaMemcpyHostToDevice) != cudaSuccess) {
    cudaFree(d);
    return NULL;
  }
  return d;
}

static int gen_copy(float *dst, const float *src, int64_t n, enum cudaMemcpyKind kind) {
  cudaError_t e = cudaMemcpy(dst, src, (size_t)n * sizeof(float), kind);
  if (e != cudaSuccess)
    fprintf(stderr, "generate: cudaMemcpy: %s\n", cudaGetErrorString(e));
  return e == cudaSuccess ? SKRT_OK : SKRT_ERR_CUDA;
}

static int gen_dbufs_init(struct gen_dbufs *d, const struct gen_opts *o, int64_t N) {
  d->nx = o->batch * N * o->d, d->nq = o->batch * o->hq * N * o->d;
  d->nkv = o->batch * o->hkv * N * o->d, d->nu = o->batch * o->hkv * N;
  d->x = gen_dev_alloc(NULL, d->nx), d->q = gen_dev_alloc(NULL, d->nq);
  d->o = gen_dev_alloc(NULL, d->nq), d->k = gen_dev_alloc(NULL, d->nkv);
  d->v = gen_dev_alloc(NULL, d->nkv), d->u = gen_dev_alloc(NULL, d->nu);
  return !d->x || !d->q || !d->o || !d->k || !d->v || !d->u;
}

static void gen_dbufs_free(struct gen_dbufs *d) {
  cudaFree(d->x), cudaFree(d->q), cudaFree(d->o), cudaFree(d->k), cudaFree(d->v), cudaFree(d->u);
}

/* Device copies of the score weights (the device cache computes the scores on the GPU). */
static int gen_model_to_dev(struct gen_model *m) {
  m->dws = calloc((size_t)m->o.layers, sizeof(float *));
  m->dbs = calloc((size_t)m->o.layers, sizeof(float *));
  for (int64_t l = 0; m->dws && m->dbs && l < m->o.layers; l++) {
    m->dws[l] = gen_dev_alloc(m->layer[l].ws, m->o.hkv * m->o.d);
    m->dbs[l] = gen_dev_alloc(m->layer[l].bs, m->o.hkv);
    if (!m->dws[l] || !m->dbs[l])
      return SKRT_ERR_NOMEM;
  }
  return m->dws && m->dbs ? SKRT_OK : SKRT_ERR_NOMEM;
}

/* The device cache's call for N tokens of layer l: host b in, device d in between, b->o out.
 * N = 1 with scores: the scores (S5) and the decode on the GPU (timed into *dec); otherwise a
 * prefill with the host scores of b->u. */
static int gen_cache_call_cuda(struct gen_model *m, struct skrt_kv_cache *c, int64_t l, int64_t N,
                               struct gen_bufs *b, struct gen_dbufs *d, int scores,
                               struct skrt_context *ctx, double *dec) {
  enum cudaMemcpyKind up = cudaMemcpyHostToDevice;
  int st = gen_copy(d->q, b->q, d->nq, up);
  st = st ? st : gen_copy(d->k, b->k, d->nkv, up);
  st = st ? st : gen_copy(d->v, b->v, d->nkv, up);
  st = st ? st : gen_copy(scores ? d->x : d->u, scores ? b->x : b->u, scores ? d->nx : d->nu, up);
  double t0 = gen_now();
  if (!st && scores)
    st = skrt_kv_cache_scores(c, l, SKRT_SCORE_HIDDEN, d->x, m->o.d, m->dws[l], m->dbs[l],
                              m->o.slope, d->u);
  if (!st)
    st = N == 1 && scores ? skrt_kv_cache_decode(c, l, d->q, d->k, d->v, d->u, d->o, ctx)
                          : skrt_kv_cache_prefill(c, l, N, d->q, d->k, d->v, d->u, d->o, ctx);
  *dec = gen_now() - t0;
  return st ? st : gen_copy(b->o, d->o, d->nq, cudaMemcpyDeviceToHost);
}
#endif

static int gen_dev_init(const struct gen_model *m, struct gen_dbufs *d, int64_t N) {
  memset(d, 0, sizeof *d);
#ifdef SKC_HAVE_CUDA
  if (m->o.cuda)
    return gen_dbufs_init(d, &m->o, N) ? SKRT_ERR_NOMEM : SKRT_OK;
#endif
  (void)m, (void)N;
  return SKRT_OK;
}

static void gen_dev_free(const struct gen_model *m, struct gen_dbufs *d) {
#ifdef SKC_HAVE_CUDA
  if (m->o.cuda)
    gen_dbufs_free(d);
#endif
  (void)m, (void)d;
}

/* The cache's call for N tokens of layer l: b's q, k, v in, b->o out. With scores (decode,
 * N = 1) the cache computes them at the sequences' positions first (S5); otherwise (prefill)
 * they are b->u. *dec: seconds in the cache's scores and step. */
static int gen_cache_call(struct gen_model *m, struct skrt_kv_cache *c, int64_t l, int64_t N,
                          struct gen_bufs *b, struct gen_dbufs *d, int scores,
                          struct skrt_context *ctx, double *dec) {
#ifdef SKC_HAVE_CUDA
  if (m->o.cuda)
    return gen_cache_call_cuda(m, c, l, N, b, d, scores, ctx, dec);
#endif
  (void)d;
  const struct gen_layer *L = &m->layer[l];
  double t0 = gen_now();
  int st = scores ? skrt_kv_cache_scores(c, l, SKRT_SCORE_HIDDEN, b->x, m->o.d, L->ws, L->bs,
                                         m->o.slope, b->u)
                  : SKRT_OK;
  if (!st)
    st = N == 1 && scores ? skrt_kv_cache_decode(c, l, b->q, b->k, b->v, b->u, b->o, ctx)
                          : skrt_kv_cache_prefill(c, l, N, b->q, b->k, b->v, b->u, b->o, ctx);
  *dec = gen_now() - t0;
  return st;
}

/* Embeddings of random tokens into x (B, N, D). */
static void gen_embed(struct gen_model *m, float *x, int64_t N) {
  for (int64_t r = 0; r < m->o.batch * N; r++)
    memcpy(x + r * m->o.d, m->embed + (int64_t)(gen_uniform(&m->rng) * 256) * m->o.d,
           (size_t)m->o.d * sizeof(float));
}

/* ---- prefill, then decode -------------------------------------------------------------- */

static int gen_check(int st, const char *what) {
  if (st)
    fprintf(stderr, "generate: %s failed: %s (%s)\n", what, skrt_status_string(st),
            skrt_last_error());
  return st;
}

static int gen_prefill(struct gen_model *m, struct skrt_kv_cache *c, struct skrt_context *ctx) {
  int64_t P = m->o.prompt;
  if (P == 0)
    return 0;
  struct gen_bufs b;
  struct gen_dbufs d = {0};
  double dec;
  int st = gen_bufs_init(&b, &m->o, P) ? SKRT_ERR_NOMEM : SKRT_OK;
  st = st ? st : gen_dev_init(m, &d, P);
  if (!st)
    gen_embed(m, b.x, P);
  for (int64_t l = 0; !st && l < m->o.layers; l++) {
    gen_project(m, &m->layer[l], &b, P);
    gen_prompt_scores(m, &m->layer[l], &b, P);
    st = gen_check(gen_cache_call(m, c, l, P, &b, &d, 0, ctx, &dec), "prefill");
    gen_residual(&m->o, &b, P);
  }
  gen_dev_free(m, &d);
  gen_bufs_free(&b);
  return st;
}

/* One generated position for every sequence; returns the cache's decode seconds in *dec. */
static int gen_step(struct gen_model *m, struct skrt_kv_cache *c, struct skrt_context *ctx,
                    struct gen_bufs *b, struct gen_dbufs *d, double *dec) {
  gen_embed(m, b->x, 1);
  *dec = 0.0;
  for (int64_t l = 0; l < m->o.layers; l++) {
    gen_project(m, &m->layer[l], b, 1);
    double t;
    int st = gen_cache_call(m, c, l, 1, b, d, 1, ctx, &t);
    *dec += t;
    if (gen_check(st, "decode"))
      return st;
    gen_residual(&m->o, b, 1);
  }
  return 0;
}

static double gen_rss_mib(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f || fscanf(f, "%ld %ld", &pages, &resident) != 2)
    resident = -1;
  if (f)
    fclose(f);
  return (double)resident * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
}

static void gen_report(const struct skrt_kv_cache *c, int64_t pos, int64_t steps, double step_s,
                       double dec_s) {
  struct skrt_kv_footprint f;
  if (skrt_kv_cache_footprint(c, &f))
    return;
  printf("%9lld %10.1f %10.1f %12lld %12lld %10lld %8lld %8.1f\n", (long long)pos,
         1e6 * step_s / (double)steps, 1e6 * dec_s / (double)steps, (long long)f.kv_bytes,
         (long long)f.kv_used_bytes, (long long)f.scalar_bytes, (long long)f.max_active_scalars,
         gen_rss_mib());
  fflush(stdout);
}

static void gen_header(void) {
  printf("%9s %10s %10s %12s %12s %10s %8s %8s\n", "position", "step_us", "decode_us", "kv_bytes",
         "kv_used", "scalar_B", "act_max", "rss_MiB");
}

static int gen_decode_all(struct gen_model *m, struct skrt_kv_cache *c, struct skrt_context *ctx) {
  struct gen_bufs b;
  struct gen_dbufs d = {0};
  int st = gen_bufs_init(&b, &m->o, 1) ? SKRT_ERR_NOMEM : SKRT_OK;
  st = st ? st : gen_dev_init(m, &d, 1);
  int64_t steps = 0, next = 1024;
  double step_s = 0.0, dec_s = 0.0;
  for (int64_t pos = m->o.prompt; !st && pos < m->o.positions; pos++) {
    double dec, t0 = gen_now();
    st = gen_step(m, c, ctx, &b, &d, &dec);
    step_s += gen_now() - t0, dec_s += dec, steps++;
    if (pos + 1 == next || pos + 1 == m->o.positions) {
      gen_report(c, pos + 1, steps, step_s, dec_s);
      steps = 0, step_s = dec_s = 0.0;
      while (next <= pos + 1)
        next *= 2;
    }
  }
  gen_dev_free(m, &d);
  gen_bufs_free(&b);
  return st;
}

int main(int argc, char **argv) {
  struct gen_opts o;
  int pr = gen_parse(argc, argv, &o);
  if (pr)
    return pr < 0 ? 0 : 2;
  struct skrt_kv_cache_config cfg = {o.layers, o.batch,     o.hq,        o.hkv,
                                     o.d,      o.k,         o.w,         SKRT_GATE_KV,
                                     0.0,      o.positions, SKRT_KV_F32, SKRT_KV_DEVICE_CPU};
  cfg.device = o.cuda ? SKRT_KV_DEVICE_CUDA : SKRT_KV_DEVICE_CPU;
  struct skrt_context_options copt = {(int)o.threads, NULL};
  struct skrt_kv_cache *cache = NULL;
  struct skrt_context *ctx = NULL;
  struct gen_model m = {0};
  int st = gen_check(skrt_context_create(&copt, &ctx), "context");
#ifdef SKC_HAVE_CUDA
  if (!st && o.cuda)
    st = gen_check(skrt_cuda_kv_cache_create(&cfg, ctx, &cache), "cuda cache create");
#endif
  if (!st && !o.cuda)
    st = gen_check(skrt_kv_cache_create(&cfg, &cache), "cache create");
  st = st ? st : gen_model_init(&m, &o) ? SKRT_ERR_NOMEM : SKRT_OK;
#ifdef SKC_HAVE_CUDA
  st = st || !o.cuda ? st : gen_check(gen_model_to_dev(&m), "device weights");
#endif
  if (!st)
    printf("generate: %lld positions (prompt %lld), layers %lld, batch %lld, Hq %lld, Hkv %lld,"
           " D %lld, k %lld, w %lld, slope %g, threads %d, device %s\n",
           (long long)o.positions, (long long)o.prompt, (long long)o.layers, (long long)o.batch,
           (long long)o.hq, (long long)o.hkv, (long long)o.d, (long long)o.k, (long long)o.w,
           o.slope, skrt_context_num_threads(ctx), o.cuda ? "cuda" : "cpu");
  double t0 = gen_now();
  st = st ? st : gen_prefill(&m, cache, ctx);
  if (!st && o.prompt > 0) {
    printf("prefill of %lld tokens (per-token time, bytes after it):\n", (long long)o.prompt);
    gen_header();
    gen_report(cache, o.prompt, o.prompt, gen_now() - t0, gen_now() - t0);
  }
  if (!st && o.prompt < o.positions)
    gen_header();
  st = st ? st : gen_decode_all(&m, cache, ctx);
  gen_model_free(&m);
  skrt_kv_cache_destroy(cache);
  skrt_context_destroy(ctx);
  return st ? 1 : 0;
}
