/* bench/decode: per-token decode latency of the skrt KV cache (S12) on the CPU, in one run:
 *
 *   1. correctness first: with k >= N and w = 0 every gate is 1 and SparseK decode must equal
 *      dense causal decode; the two kernels below are compared on a small case;
 *   2. flat latency: decode latency at 4k and at 1M positions (median of --reps steps after
 *      warm-up), and their ratio (goal <= 1.2), batch 1 and 16 (or only --long-batch B);
 *   3. speed-up: at 128k positions, skc decode vs a dense decode baseline in C over a full KV
 *      cache (one query per head over all cached keys, OpenMP over (b, KV head), GQA-aware,
 *      `omp simd` dot products and axpys like the skc kernel, same compiler flags), batch 1
 *      and 16 (goal >= 10x); skc and dense steps are interleaved (reps/5 skc steps, then one
 *      dense step, 5 rounds after a warm-up round) so both see the same machine load.
 * Shapes: Hq 32, Hkv 8, D 128, k 1024, w 512, gate kv, fp32. Caches are filled cheaply with
 * append-only prefill calls (no outputs); positions are then those of real decode steps.
 *
 * Memory: a dense fp32 cache at 128k positions is 1 GiB per batch item (K and V, 8 heads x
 * 128); batch 16 would be 16 GiB, more than this shared machine has. The dense baseline keeps
 * two distinct 1 GiB caches and batch items b < B/2 read the first, the others the second
 * (each OpenMP thread streams its own); every batch item still streams 1 GiB per step from
 * DRAM (1 GiB >> last-level cache), so per-step traffic and time are those of 16 caches.
 *
 *   bench_decode [--long N] [--long-batch B] [--dense-n N] [--reps R] [--quick] */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "skrt.h"

enum { HQ = 32, HKV = 8, DIM = 128, TOPK = 1024, WIN = 512, GQ = HQ / HKV };

struct bench_opts {
  int64_t long_n, long_batch, dense_n, reps;
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng_state = 42;
static float frand(void) { /* uniform in [-1, 1) */
  rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
  return (float)((double)(rng_state >> 11) * 0x1p-52 - 1.0);
}

static float *alloc_random(int64_t n) {
  float *p = malloc((size_t)n * sizeof(float));
  for (int64_t i = 0; p && i < n; i++)
    p[i] = frand();
  return p;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int64_t n) {
  qsort(v, (size_t)n, sizeof(double), cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double minimum(const double *v, int64_t n) {
  double m = v[0];
  for (int64_t i = 1; i < n; i++)
    m = v[i] < m ? v[i] : m;
  return m;
}

static int check(int st, const char *what) {
  if (st)
    fprintf(stderr, "bench_decode: %s: %s (%s)\n", what, skrt_status_string(st), skrt_last_error());
  return st;
}

/* ---- dense decode baseline over a full KV cache ---------------------------------------- */

struct dense_cache {
  float *k[2], *v[2]; /* two distinct caches (Hkv, nmax, D); batch item b reads b * 2 / B */
  int64_t B, nmax, pos;
  float *scratch; /* per (b, h) task: GQ * nmax logits */
};

static int dense_create(struct dense_cache *d, int64_t B, int64_t nmax) {
  memset(d, 0, sizeof(*d));
  d->B = B, d->nmax = nmax;
  for (int i = 0; i < 2; i++) {
    d->k[i] = alloc_random(HKV * nmax * DIM);
    d->v[i] = alloc_random(HKV * nmax * DIM);
  }
  d->scratch = malloc((size_t)(B * HKV * GQ * nmax) * sizeof(float));
  return !d->k[0] || !d->k[1] || !d->v[0] || !d->v[1] || !d->scratch;
}

static void dense_destroy(struct dense_cache *d) {
  for (int i = 0; i < 2; i++)
    free(d->k[i]), free(d->v[i]);
  free(d->scratch);
}

static float dense_dot(const float *a, const float *b) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int i = 0; i < DIM; i++)
    s += a[i] * b[i];
  return s;
}

/* One query head group over keys [0, n) of one (b, h): softmax(scale q.K) V. */
static void dense_attend(const float *K, const float *V, int64_t n, const float *q, float *o,
                         float *logit) {
  const float scale = 1.0f / sqrtf((float)DIM);
  for (int64_t j = 0; j < n; j++)
    for (int h = 0; h < GQ; h++)
      logit[h * n + j] = scale * dense_dot(q + h * DIM, K + j * DIM);
  float inv[GQ];
  for (int h = 0; h < GQ; h++) {
    float mx = -INFINITY, sum = 0.0f, *x = logit + h * n;
    for (int64_t j = 0; j < n; j++)
      mx = x[j] > mx ? x[j] : mx;
    for (int64_t j = 0; j < n; j++)
      sum += (x[j] = expf(x[j] - mx));
    inv[h] = 1.0f / sum;
  }
  memset(o, 0, GQ * DIM * sizeof(float));
  for (int64_t j = 0; j < n; j++)
    for (int h = 0; h < GQ; h++) {
      float p = logit[h * n + j] * inv[h];
      float *oh = o + h * DIM;
      const float *vj = V + j * DIM;
#pragma omp simd
      for (int i = 0; i < DIM; i++)
        oh[i] += p * vj[i];
    }
}

/* Decode step: append token pos (k, v (B, Hkv, D)), attend q (B, Hq, D) over pos + 1 keys. */
static void dense_step(struct dense_cache *d, const float *q, const float *k, const float *v,
                       float *o) {
  int64_t n = d->pos + 1;
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < d->B * HKV; t++) {
    int64_t b = t / HKV, h = t % HKV, c = b * 2 / d->B;
    float *K = d->k[c] + h * d->nmax * DIM, *V = d->v[c] + h * d->nmax * DIM;
    memcpy(K + d->pos * DIM, k + t * DIM, DIM * sizeof(float));
    memcpy(V + d->pos * DIM, v + t * DIM, DIM * sizeof(float));
    dense_attend(K, V, n, q + (b * HQ + h * GQ) * DIM, o + (b * HQ + h * GQ) * DIM,
                 d->scratch + t * GQ * d->nmax);
  }
  d->pos = n;
}

/* ---- skc cache helpers ------------------------------------------------------------------ */

static struct skrt_kv_cache *skc_create(int64_t B, int64_t topk, int64_t window) {
  struct skrt_kv_cache_config cfg = {
      1, B, HQ, HKV, DIM, topk, window, SKRT_GATE_KV, 0.0, 0, SKRT_KV_F32, SKRT_KV_DEVICE_CPU};
  struct skrt_kv_cache *c = NULL;
  return check(skrt_kv_cache_create(&cfg, &c), "cache create") ? NULL : c;
}

/* Appends random tokens (no outputs) until every sequence holds `pos`. */
static int skc_fill(struct skrt_kv_cache *c, int64_t B, int64_t pos) {
  enum { CHUNK = 1024 };
  float *kv = alloc_random(B * HKV * CHUNK * DIM);
  float *u = malloc((size_t)(B * HKV * CHUNK) * sizeof(float));
  int64_t now = 0;
  int st = !kv || !u ? SKRT_ERR_NOMEM : skrt_kv_cache_position(c, 0, 0, &now);
  while (!st && now < pos) {
    int64_t n = pos - now < CHUNK ? pos - now : CHUNK;
    for (int64_t i = 0; i < B * HKV * n; i++)
      u[i] = 2.0f * frand();
    st = check(skrt_kv_cache_prefill(c, 0, n, NULL, kv, kv, u, NULL, NULL), "fill");
    now += n;
  }
  free(u);
  free(kv);
  return st;
}

/* Step inputs of batch B: q (B, Hq, D), k, v (B, Hkv, D), u (B, Hkv), o (B, Hq, D). */
struct step_io {
  float *q, *k, *v, *u, *o;
};

static int io_create(struct step_io *s, int64_t B) {
  s->q = alloc_random(B * HQ * DIM), s->k = alloc_random(B * HKV * DIM);
  s->v = alloc_random(B * HKV * DIM), s->u = alloc_random(B * HKV);
  s->o = malloc((size_t)(B * HQ * DIM) * sizeof(float));
  return !s->q || !s->k || !s->v || !s->u || !s->o;
}

static void io_destroy(struct step_io *s) {
  free(s->q), free(s->k), free(s->v), free(s->u), free(s->o);
}

/* Seconds of one skc decode step (NAN on failure). */
static double skc_step_s(struct skrt_kv_cache *c, const struct step_io *s) {
  double t0 = now_s();
  if (check(skrt_kv_cache_decode(c, 0, s->q, s->k, s->v, s->u, s->o, NULL), "decode"))
    return NAN;
  return now_s() - t0;
}

static double dense_step_s(struct dense_cache *d, const struct step_io *s) {
  double t0 = now_s();
  dense_step(d, s->q, s->k, s->v, s->o);
  return now_s() - t0;
}

/* ---- the three parts ---------------------------------------------------------------------- */

/* With k >= N and w = 0 SparseK decode is dense decode: compare the two kernels. */
static int part_check(void) {
  const int64_t B = 2, N = 300;
  struct skrt_kv_cache *c = skc_create(B, N, 0);
  struct dense_cache d;
  struct step_io s;
  int st = !c || dense_create(&d, B, N) || io_create(&s, B) ? SKRT_ERR_NOMEM : SKRT_OK;
  double worst = 0.0;
  float *ref = malloc((size_t)(B * HQ * DIM) * sizeof(float));
  for (int64_t n = 0; !st && ref && n < N; n++) {
    for (int64_t i = 0; i < B * HKV * DIM; i++)
      s.k[i] = frand(), s.v[i] = frand();
    for (int64_t i = 0; i < B * HQ * DIM; i++)
      s.q[i] = 3.0f * frand();
    st = check(skrt_kv_cache_decode(c, 0, s.q, s.k, s.v, s.u, s.o, NULL), "decode");
    memcpy(ref, s.o, (size_t)(B * HQ * DIM) * sizeof(float));
    dense_step(&d, s.q, s.k, s.v, s.o);
    for (int64_t i = 0; i < B * HQ * DIM; i++)
      worst = fmax(worst, fabs((double)ref[i] - s.o[i]));
  }
  printf("check: skc decode (k >= N, w = 0) vs dense decode, %lld steps: max abs diff %.2e\n",
         (long long)N, worst);
  free(ref);
  io_destroy(&s);
  dense_destroy(&d);
  skrt_kv_cache_destroy(c);
  return st ? st : worst > 1e-4 ? (fprintf(stderr, "bench_decode: check failed\n"), 1) : 0;
}

/* Two caches, filled to 4096 and to long_n positions; their steps are timed interleaved
 * (ABAB...) so that both medians see the same machine load. */
static int part_flat(const struct bench_opts *o, int64_t B) {
  const int64_t at[2] = {4096, o->long_n};
  struct skrt_kv_cache *c[2] = {skc_create(B, TOPK, WIN), skc_create(B, TOPK, WIN)};
  struct step_io s;
  double t[2][64], t0 = now_s();
  int st = !c[0] || !c[1] || io_create(&s, B) ? SKRT_ERR_NOMEM : SKRT_OK;
  for (int i = 0; !st && i < 2; i++)
    st = skc_fill(c[i], B, at[i]);
  double fill_s = now_s() - t0;
  for (int64_t r = -2; !st && r < o->reps; r++)
    for (int i = 0; !st && i < 2; i++) {
      double t1 = now_s();
      st = check(skrt_kv_cache_decode(c[i], 0, s.q, s.k, s.v, s.u, s.o, NULL), "decode");
      if (r >= 0)
        t[i][r] = now_s() - t1;
    }
  for (int i = 0; !st && i < 2; i++) {
    struct skrt_kv_footprint f;
    int64_t pos = 0;
    skrt_kv_cache_footprint(c[i], &f);
    skrt_kv_cache_position(c[i], 0, 0, &pos);
    printf("flat: batch %lld, position %8lld: skc decode %8.3f ms/token (min %.3f), K/V %lld "
           "B, scalar state %lld B (max %lld scores per head)\n",
           (long long)B, (long long)pos, 1e3 * median(t[i], o->reps), 1e3 * minimum(t[i], o->reps),
           (long long)f.kv_bytes, (long long)f.scalar_bytes, (long long)f.max_active_scalars);
  }
  if (!st)
    printf("flat: latency ratio %lld / 4096 = %.3f (of minima %.3f) (goal <= 1.2), fill %.1f "
           "s\n",
           (long long)o->long_n, median(t[1], o->reps) / median(t[0], o->reps),
           minimum(t[1], o->reps) / minimum(t[0], o->reps), fill_s);
  if (!st)
    io_destroy(&s);
  skrt_kv_cache_destroy(c[0]);
  skrt_kv_cache_destroy(c[1]);
  return st;
}

static int part_dense(const struct bench_opts *o, int64_t B) {
  struct skrt_kv_cache *c = skc_create(B, TOPK, WIN);
  struct dense_cache d;
  struct step_io s;
  int st = !c || dense_create(&d, B, o->dense_n + o->reps + 2) || io_create(&s, B) ? SKRT_ERR_NOMEM
                                                                                   : SKRT_OK;
  st = st ? st : skc_fill(c, B, o->dense_n);
  if (st)
    return st;
  d.pos = o->dense_n; /* the dense cache holds dense_n random tokens */
  /* rounds of (reps / 5 skc steps, one dense step) share the machine's load; round 0 warms */
  enum { DENSE_REPS = 5 };
  int64_t per = o->reps / DENSE_REPS > 0 ? o->reps / DENSE_REPS : 1, n = 0;
  double tsk[64], tde[DENSE_REPS];
  for (int r = 0; r <= DENSE_REPS; r++) {
    for (int64_t i = 0; i < per; i++) {
      double t = skc_step_s(c, &s);
      if (r > 0)
        tsk[n++] = t;
    }
    double t = dense_step_s(&d, &s);
    if (r > 0)
      tde[r - 1] = t;
  }
  double ts = median(tsk, n), bs = minimum(tsk, n);
  double td = median(tde, DENSE_REPS), bd = minimum(tde, DENSE_REPS);
  printf("speed: batch %2lld, position %lld: skc %8.3f ms/token (min %.3f), dense %9.3f "
         "ms/token (min %.3f), speed-up %.1fx (of minima %.1fx) (goal >= 10)\n",
         (long long)B, (long long)o->dense_n, 1e3 * ts, 1e3 * bs, 1e3 * td, 1e3 * bd, td / ts,
         bd / bs);
  io_destroy(&s);
  dense_destroy(&d);
  skrt_kv_cache_destroy(c);
  return 0;
}

static int parse(int argc, char **argv, struct bench_opts *o) {
  *o = (struct bench_opts){1 << 20, 0, 1 << 17, 31};
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--quick")) {
      *o = (struct bench_opts){1 << 15, 0, 1 << 13, 5};
      continue;
    }
    if (i + 1 >= argc)
      return fprintf(stderr, "bench_decode: %s needs a value\n", argv[i]), 1;
    int64_t v = atoll(argv[i + 1]);
    if (!strcmp(argv[i], "--long"))
      o->long_n = v;
    else if (!strcmp(argv[i], "--long-batch"))
      o->long_batch = v;
    else if (!strcmp(argv[i], "--dense-n"))
      o->dense_n = v;
    else if (!strcmp(argv[i], "--reps"))
      o->reps = v;
    else
      return fprintf(stderr, "bench_decode: unknown option %s\n", argv[i]), 1;
    i++;
  }
  if (o->reps < 1 || o->reps > 60 || o->long_n < 4096 || o->long_batch < 0 || o->dense_n < 1)
    return fprintf(stderr, "bench_decode: bad option values\n"), 1;
  return 0;
}

int main(int argc, char **argv) {
  struct bench_opts o;
  if (parse(argc, argv, &o))
    return 2;
  printf("bench_decode: Hq %d, Hkv %d, D %d, k %d, w %d, gate kv, fp32, reps %lld, threads "
         "%d\n",
         HQ, HKV, DIM, TOPK, WIN, (long long)o.reps, skrt_context_num_threads(NULL));
  int st = part_check();
  const int64_t flat_batch[2] = {o.long_batch ? o.long_batch : 1, 16};
  for (int i = 0; !st && i < (o.long_batch ? 1 : 2); i++)
    st = part_flat(&o, flat_batch[i]);
  st = st ? st : part_dense(&o, 1);
  st = st ? st : part_dense(&o, 16);
  return st ? 1 : 0;
}
