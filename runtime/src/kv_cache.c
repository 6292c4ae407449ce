/* skrt KV cache (S12): the public entry points (argument checks, then the cache's ops table:
 * the CPU cache here, the CUDA cache in libskrt_cuda, runtime/cuda/kv_cache.cu) and the CPU
 * cache itself: ownership and the step driver.
 *
 * The cache owns three fixed blocks allocated at create (K/V rows, per-stream scalars, per-call
 * scratch) plus one growable free-score heap per stream; the per-stream algorithms live in
 * kernels/cpu_decode.h. A call first validates everything it will read (shapes are the
 * caller's contract here; kv_cache_dl.c checks DLTensors), reserves heap room, and only then
 * mutates, so a failed call leaves the cache as it was. Streams are indexed
 * ((layer * B) + b) * Hkv + h; OpenMP runs over (b, h) of one layer. */
#include "skrt/kv_cache.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu_decode.h"
#include "skrt/sparsek.h"

struct skrt_kv_cache {
  struct skrt_kv_cache_head head; /* ops (kv_cpu_ops) and the normalized config */
  struct skrt_kv_dims dims;
  int64_t streams;    /* layers * B * Hkv */
  int64_t fper, iper; /* fixed float / int32 scalars per stream */
  float *kv;          /* streams x 2 x (topk + window) x D */
  float *sf;          /* streams x fper: sel_u, win_u, sat */
  int32_t *si;        /* streams x iper: sel_pos, heap */
  struct skrt_kv_stream *st;
  float *scratch; /* B * Hkv tasks x task_floats */
  int64_t task_floats;
};

/* ---- create / destroy ---------------------------------------------------------------- */

static int kv_check_range(const char *name, int64_t v, int64_t lo, int64_t hi) {
  if (v < lo || v > hi)
    return skrt_error(SKRT_ERR_ARG, "kv cache: %s = %lld is out of range [%lld, %lld]", name,
                      (long long)v, (long long)lo, (long long)hi);
  return SKRT_OK;
}

static int kv_check_config(const struct skrt_kv_cache_config *c) {
  const int64_t big = (int64_t)1 << 24;
  int st = kv_check_range("layers", c->layers, 1, big);
  st = st ? st : kv_check_range("B", c->B, 1, big);
  st = st ? st : kv_check_range("Hkv", c->Hkv, 1, big);
  st = st ? st : kv_check_range("Hq", c->Hq, 1, big);
  st = st ? st : kv_check_range("D", c->D, 1, big);
  st = st ? st : kv_check_range("topk", c->topk, 1, INT32_MAX / 2);
  st = st ? st : kv_check_range("window", c->window, 0, INT32_MAX / 2);
  st = st ? st : kv_check_range("max_positions", c->max_positions, 0, SKRT_KV_MAX_POSITIONS);
  if (st)
    return st;
  if (c->Hq % c->Hkv)
    return skrt_error(SKRT_ERR_ARG, "kv cache: Hq = %lld is not a multiple of Hkv = %lld",
                      (long long)c->Hq, (long long)c->Hkv);
  if (c->gate != SKRT_GATE_KV && c->gate != SKRT_GATE_V)
    return skrt_error(SKRT_ERR_ARG, "kv cache: gate = %d is neither kv (0) nor v (1)", c->gate);
  if (!isfinite(c->scale))
    return skrt_error(SKRT_ERR_ARG, "kv cache: scale = %g is not finite", c->scale);
  return SKRT_OK;
}

int skrt_kv_cache_config_normalize(const struct skrt_kv_cache_config *in,
                                   struct skrt_kv_cache_config *out) {
  if (!in || !out)
    return skrt_error(SKRT_ERR_NULL, "kv cache create: cfg is NULL");
  int st = kv_check_config(in);
  if (st)
    return st;
  *out = *in;
  if (out->scale == 0.0)
    out->scale = 1.0 / sqrt((double)in->D);
  if (out->max_positions == 0)
    out->max_positions = SKRT_KV_MAX_POSITIONS;
  return SKRT_OK;
}

/* n * size as a size_t, or 0 when it does not fit (callers treat 0 as out of memory). */
static size_t kv_bytes(int64_t n, size_t size) {
  if (n <= 0 || (uint64_t)n > (uint64_t)(SIZE_MAX / 2) / size)
    return 0;
  return (size_t)n * size;
}

static void kv_wire_streams(struct skrt_kv_cache *c) {
  int64_t rows = c->dims.topk + c->dims.window;
  for (int64_t i = 0; i < c->streams; i++) {
    float *kv = c->kv + i * 2 * rows * c->dims.D;
    skrt_kv_stream_wire(&c->st[i], c->dims.topk, c->dims.window, kv, kv + rows * c->dims.D,
                        c->sf + i * c->fper, c->si + i * c->iper, NULL, 0);
  }
}

static int kv_alloc(struct skrt_kv_cache *c) {
  const struct skrt_kv_cache_config *g = &c->head.cfg;
  int64_t rows = g->topk + g->window;
  c->streams = g->layers * g->B * g->Hkv;
  c->fper = skrt_kv_stream_floats(g->topk, g->window);
  c->iper = skrt_kv_stream_ints(g->topk);
  c->task_floats = skrt_kv_scratch_floats(&c->dims);
  size_t nkv = rows > 0 && c->streams <= INT64_MAX / (2 * rows) / g->D
                   ? kv_bytes(c->streams * 2 * rows * g->D, sizeof(float))
                   : 0;
  size_t nsf = kv_bytes(c->streams * c->fper, sizeof(float));
  size_t nsi = kv_bytes(c->streams * c->iper, sizeof(int32_t));
  size_t nst = kv_bytes(c->streams, sizeof(struct skrt_kv_stream));
  size_t nsc = kv_bytes(g->B * g->Hkv * c->task_floats, sizeof(float));
  if (!nkv || !nsf || !nsi || !nst || !nsc)
    return skrt_error(SKRT_ERR_NOMEM,
                      "kv cache: size overflows (streams %lld, rows %lld, D "
                      "%lld)",
                      (long long)c->streams, (long long)rows, (long long)g->D);
  c->kv = (float *)malloc(nkv);
  c->sf = (float *)calloc(1, nsf);
  c->si = (int32_t *)calloc(1, nsi);
  c->st = (struct skrt_kv_stream *)calloc(1, nst);
  c->scratch = (float *)malloc(nsc);
  if (!c->kv || !c->sf || !c->si || !c->st || !c->scratch)
    return skrt_error(SKRT_ERR_NOMEM, "kv cache: cannot allocate %.3g MiB of K/V storage",
                      (double)nkv / 1048576.0);
  memset(c->kv, 0, nkv); /* touch every page now: resident memory is flat from the start */
  kv_wire_streams(c);
  return SKRT_OK;
}

static const struct skrt_kv_cache_ops kv_cpu_ops;

static const struct skrt_kv_cache_head *kv_head(const struct skrt_kv_cache *c) {
  return (const struct skrt_kv_cache_head *)(const void *)c; /* every cache starts with one */
}

int skrt_kv_cache_create(const struct skrt_kv_cache_config *cfg, struct skrt_kv_cache **out) {
  if (!out)
    return skrt_error(SKRT_ERR_NULL, "kv cache create: out is NULL");
  *out = NULL;
  struct skrt_kv_cache_config n;
  int st = skrt_kv_cache_config_normalize(cfg, &n);
  if (st)
    return st;
  if (n.device != SKRT_KV_DEVICE_CPU)
    return skrt_error(SKRT_ERR_DEVICE,
                      "kv cache: device %d is not created by skrt_kv_cache_create (CPU "
                      "only); create a CUDA cache with skrt_cuda_kv_cache_create (libskrt_cuda)",
                      n.device);
  if (n.dtype != SKRT_KV_F32)
    return skrt_error(SKRT_ERR_DTYPE,
                      "kv cache: dtype %d is not supported on the CPU (fp32 "
                      "only)",
                      n.dtype);
  struct skrt_kv_cache *c = (struct skrt_kv_cache *)calloc(1, sizeof(*c));
  if (!c)
    return skrt_error(SKRT_ERR_NOMEM, "kv cache create: out of memory");
  c->head = (struct skrt_kv_cache_head){&kv_cpu_ops, n};
  c->dims = (struct skrt_kv_dims){n.D, n.topk, n.window, n.Hq / n.Hkv, n.gate, (float)n.scale};
  st = kv_alloc(c);
  if (st) {
    skrt_kv_cache_destroy(c);
    return st;
  }
  *out = c;
  return SKRT_OK;
}

void skrt_kv_cache_destroy(struct skrt_kv_cache *c) {
  if (c)
    kv_head(c)->ops->destroy(c);
}

static void kv_cpu_destroy(struct skrt_kv_cache *c) {
  for (int64_t i = 0; c->st && i < c->streams; i++)
    free(c->st[i].tau.fr);
  free(c->kv);
  free(c->sf);
  free(c->si);
  free(c->st);
  free(c->scratch);
  free(c);
}

/* ---- state queries and resets (public: checks, then the ops) -------------------------- */

static int kv_check_b(const struct skrt_kv_cache *c, const char *fn, int64_t b) {
  if (b < 0 || b >= kv_head(c)->cfg.B)
    return skrt_error(SKRT_ERR_ARG, "kv cache %s: b = %lld is out of range [0, %lld)", fn,
                      (long long)b, (long long)kv_head(c)->cfg.B);
  return SKRT_OK;
}

static int kv_check_layer(const struct skrt_kv_cache *c, const char *fn, int64_t layer) {
  if (layer < 0 || layer >= kv_head(c)->cfg.layers)
    return skrt_error(SKRT_ERR_ARG, "kv cache %s: layer = %lld is out of range [0, %lld)", fn,
                      (long long)layer, (long long)kv_head(c)->cfg.layers);
  return SKRT_OK;
}

int skrt_kv_cache_reset(struct skrt_kv_cache *c) {
  if (!c)
    return skrt_error(SKRT_ERR_NULL, "kv cache reset: cache is NULL");
  return kv_head(c)->ops->reset(c, -1);
}

int skrt_kv_cache_reset_item(struct skrt_kv_cache *c, int64_t b) {
  if (!c)
    return skrt_error(SKRT_ERR_NULL, "kv cache reset_item: cache is NULL");
  int st = kv_check_b(c, "reset_item", b);
  return st ? st : kv_head(c)->ops->reset(c, b);
}

int skrt_kv_cache_get_config(const struct skrt_kv_cache *c, struct skrt_kv_cache_config *out) {
  if (!c || !out)
    return skrt_error(SKRT_ERR_NULL, "kv cache get_config: %s is NULL", c ? "out" : "cache");
  *out = kv_head(c)->cfg;
  return SKRT_OK;
}

int skrt_kv_cache_position(const struct skrt_kv_cache *c, int64_t layer, int64_t b, int64_t *pos) {
  if (!c || !pos)
    return skrt_error(SKRT_ERR_NULL, "kv cache position: %s is NULL", c ? "pos" : "cache");
  int st = kv_check_layer(c, "position", layer);
  st = st ? st : kv_check_b(c, "position", b);
  return st ? st : kv_head(c)->ops->position(c, layer, b, pos);
}

int skrt_kv_cache_footprint(const struct skrt_kv_cache *c, struct skrt_kv_footprint *out) {
  if (!c || !out)
    return skrt_error(SKRT_ERR_NULL, "kv cache footprint: %s is NULL", c ? "out" : "cache");
  memset(out, 0, sizeof(*out));
  return kv_head(c)->ops->footprint(c, out);
}

/* ---- CPU: state queries and resets --------------------------------------------------- */

static void kv_stream_clear(struct skrt_kv_stream *s) {
  free(s->tau.fr);
  s->tau.fr = NULL;
  s->tau.cap_free = 0;
  skrt_kv_tau_clear(&s->tau);
  s->n_sel = s->pos = 0;
}

static int kv_cpu_reset(struct skrt_kv_cache *c, int64_t b) {
  const struct skrt_kv_cache_config *g = &c->head.cfg;
  for (int64_t l = 0; l < g->layers; l++)
    for (int64_t i = b < 0 ? 0 : b; i < (b < 0 ? g->B : b + 1); i++)
      for (int64_t h = 0; h < g->Hkv; h++)
        kv_stream_clear(&c->st[(l * g->B + i) * g->Hkv + h]);
  return SKRT_OK;
}

static int kv_cpu_position(const struct skrt_kv_cache *c, int64_t layer, int64_t b, int64_t *pos) {
  *pos = c->st[(layer * c->head.cfg.B + b) * c->head.cfg.Hkv].pos;
  return SKRT_OK;
}

static int kv_cpu_footprint(const struct skrt_kv_cache *c, struct skrt_kv_footprint *out) {
  int64_t row_bytes = 2 * c->dims.D * (int64_t)sizeof(float);
  out->streams = c->streams;
  out->kv_bytes = c->streams * (c->dims.topk + c->dims.window) * row_bytes;
  out->scratch_bytes = c->head.cfg.B * c->head.cfg.Hkv * c->task_floats * (int64_t)sizeof(float);
  out->scalar_bytes =
      c->streams * (c->fper * (int64_t)sizeof(float) + c->iper * (int64_t)sizeof(int32_t) +
                    (int64_t)sizeof(struct skrt_kv_stream));
  for (int64_t i = 0; i < c->streams; i++) {
    const struct skrt_kv_stream *s = &c->st[i];
    int64_t live = skrt_kv_stream_rows(s, &c->dims), act = s->tau.n_sat + s->tau.n_free;
    out->kv_used_bytes += live * row_bytes;
    out->selected_tokens += s->n_sel;
    out->window_tokens += live - s->n_sel;
    out->scalar_bytes += s->tau.cap_free * (int64_t)sizeof(float);
    out->active_scalars += act;
    out->max_active_scalars = act > out->max_active_scalars ? act : out->max_active_scalars;
  }
  return SKRT_OK;
}

/* ---- one call: validate, reserve, run ------------------------------------------------ */

static int kv_check_io(const struct skrt_kv_cache *c, int64_t layer, int64_t N,
                       const struct skrt_kv_io *io) {
  if (!c || !io)
    return skrt_error(SKRT_ERR_NULL, "kv cache forward: %s is NULL", c ? "io" : "cache");
  if (!io->k || !io->v || !io->u)
    return skrt_error(SKRT_ERR_NULL, "kv cache forward: %s is NULL",
                      !io->k   ? "k"
                      : !io->v ? "v"
                               : "u");
  if (!io->q != !io->o)
    return skrt_error(SKRT_ERR_NULL, "kv cache forward: %s is NULL but %s is not",
                      io->q ? "o" : "q", io->q ? "q" : "o");
  int st = kv_check_layer(c, "forward", layer);
  if (st)
    return st;
  if (N < 1)
    return skrt_error(SKRT_ERR_ARG, "kv cache forward: N = %lld, expected >= 1", (long long)N);
  return SKRT_OK;
}

int skrt_kv_cache_forward(struct skrt_kv_cache *c, int64_t layer, int64_t N,
                          const struct skrt_kv_io *io, struct skrt_context *ctx) {
  int st = kv_check_io(c, layer, N, io);
  return st ? st : kv_head(c)->ops->forward(c, layer, N, io, ctx);
}

static int kv_check_positions(const struct skrt_kv_cache *c, int64_t layer, int64_t N) {
  for (int64_t b = 0; b < c->head.cfg.B; b++) {
    int64_t pos = c->st[(layer * c->head.cfg.B + b) * c->head.cfg.Hkv].pos;
    if (N > c->head.cfg.max_positions - pos)
      return skrt_error(SKRT_ERR_STATE,
                        "kv cache forward: sequence b = %lld of layer %lld "
                        "holds %lld tokens; %lld more exceed max_positions = %lld",
                        (long long)b, (long long)layer, (long long)pos, (long long)N,
                        (long long)c->head.cfg.max_positions);
  }
  return SKRT_OK;
}

static int kv_check_scores(const struct skrt_kv_cache *c, int64_t N, const struct skrt_kv_io *io) {
  for (int64_t b = 0; b < c->head.cfg.B; b++)
    for (int64_t h = 0; h < c->head.cfg.Hkv; h++)
      for (int64_t n = 0; n < N; n++) {
        float u = io->u[b * io->u_stride[0] + h * io->u_stride[1] + n * io->u_stride[2]];
        if (!isfinite(u))
          return skrt_error(SKRT_ERR_NONFINITE,
                            "kv cache forward: score u[b=%lld, h=%lld, "
                            "n=%lld] = %g is not finite",
                            (long long)b, (long long)h, (long long)n, (double)u);
      }
  return SKRT_OK;
}

static int kv_reserve(struct skrt_kv_cache *c, int64_t layer, int64_t N) {
  struct skrt_kv_stream *s = c->st + layer * c->head.cfg.B * c->head.cfg.Hkv;
  for (int64_t i = 0; i < c->head.cfg.B * c->head.cfg.Hkv; i++)
    if (skrt_kv_tau_reserve(&s[i].tau, N))
      return skrt_error(SKRT_ERR_NOMEM,
                        "kv cache forward: cannot grow the score heap of "
                        "stream %lld to %lld entries",
                        (long long)i, (long long)(s[i].tau.n_free + s[i].tau.n_sat + N));
  return SKRT_OK;
}

/* N tokens of one (b, h) stream: append each, then attend when queries are given. */
static void kv_run_task(struct skrt_kv_cache *c, int64_t layer, int64_t b, int64_t h, int64_t N,
                        const struct skrt_kv_io *io) {
  const struct skrt_kv_dims *d = &c->dims;
  struct skrt_kv_stream *s = &c->st[(layer * c->head.cfg.B + b) * c->head.cfg.Hkv + h];
  float *scratch = c->scratch + (b * c->head.cfg.Hkv + h) * c->task_floats;
  const float *q = (const float *)io->q, *k = (const float *)io->k, *v = (const float *)io->v;
  float *o = (float *)io->o;
  int64_t hq = h * d->g;
  for (int64_t n = 0; n < N; n++) {
    skrt_kv_stream_append(s, d, k + b * io->k_stride[0] + h * io->k_stride[1] + n * io->k_stride[2],
                          v + b * io->v_stride[0] + h * io->v_stride[1] + n * io->v_stride[2],
                          io->u[b * io->u_stride[0] + h * io->u_stride[1] + n * io->u_stride[2]]);
    if (q)
      skrt_kv_stream_attend(
          s, d, q + b * io->q_stride[0] + hq * io->q_stride[1] + n * io->q_stride[2],
          io->q_stride[1], o + b * io->o_stride[0] + hq * io->o_stride[1] + n * io->o_stride[2],
          io->o_stride[1], scratch);
  }
}

/* Threads for one call: at most one per (b, h) task, and one when the call is too small to
 * pay for waking a team (about 64k multiply-adds; a team costs microseconds, and far more on
 * an oversubscribed machine). */
static int kv_threads(const struct skrt_kv_cache *c, int64_t N, int attend,
                      struct skrt_context *ctx) {
  int64_t tasks = c->head.cfg.B * c->head.cfg.Hkv, nt = skrt_context_num_threads(ctx);
  double work = (double)tasks * (double)N * (double)c->dims.D *
                (attend ? (double)(c->dims.topk + c->dims.window) * (double)(c->dims.g + 1) : 16.0);
  return work < 65536.0 ? 1 : (int)(nt < tasks ? nt : tasks);
}

static int kv_cpu_forward(struct skrt_kv_cache *c, int64_t layer, int64_t N,
                          const struct skrt_kv_io *io, struct skrt_context *ctx) {
  int st = kv_check_positions(c, layer, N);
  st = st ? st : kv_check_scores(c, N, io);
  st = st ? st : kv_reserve(c, layer, N);
  if (st)
    return st;
  int64_t B = c->head.cfg.B, H = c->head.cfg.Hkv;
  int nt = kv_threads(c, N, io->q != NULL, ctx);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int64_t t = 0; t < B * H; t++)
    kv_run_task(c, layer, t / H, t % H, N, io);
  return SKRT_OK;
}

/* ---- contiguous wrappers ------------------------------------------------------------- */

static void kv_strides(int64_t *s, int64_t H, int64_t N, int64_t D) {
  s[0] = H * N * D;
  s[1] = N * D;
  s[2] = D;
}

static struct skrt_kv_io kv_io_contiguous(const struct skrt_kv_cache *c, int64_t N, const void *q,
                                          const void *k, const void *v, const float *u, void *o) {
  struct skrt_kv_io io = {q, k, v, u, o, {0}, {0}, {0}, {0}, {0}};
  const struct skrt_kv_cache_config *g = &kv_head(c)->cfg;
  kv_strides(io.q_stride, g->Hq, N, g->D);
  kv_strides(io.o_stride, g->Hq, N, g->D);
  kv_strides(io.k_stride, g->Hkv, N, g->D);
  kv_strides(io.v_stride, g->Hkv, N, g->D);
  kv_strides(io.u_stride, g->Hkv, N, 1);
  return io;
}

int skrt_kv_cache_prefill(struct skrt_kv_cache *c, int64_t layer, int64_t N, const void *q,
                          const void *k, const void *v, const float *u, void *o,
                          struct skrt_context *ctx) {
  if (!c)
    return skrt_error(SKRT_ERR_NULL, "kv cache prefill: cache is NULL");
  struct skrt_kv_io io = kv_io_contiguous(c, N, q, k, v, u, o);
  return skrt_kv_cache_forward(c, layer, N, &io, ctx);
}

int skrt_kv_cache_append(struct skrt_kv_cache *c, int64_t layer, const void *k, const void *v,
                         const float *u, struct skrt_context *ctx) {
  if (!c)
    return skrt_error(SKRT_ERR_NULL, "kv cache append: cache is NULL");
  struct skrt_kv_io io = kv_io_contiguous(c, 1, NULL, k, v, u, NULL);
  return skrt_kv_cache_forward(c, layer, 1, &io, ctx);
}

int skrt_kv_cache_decode(struct skrt_kv_cache *c, int64_t layer, const void *q, const void *k,
                         const void *v, const float *u, void *o, struct skrt_context *ctx) {
  if (!c || !q || !o)
    return skrt_error(SKRT_ERR_NULL, "kv cache decode: %s is NULL", !c ? "cache" : !q ? "q" : "o");
  struct skrt_kv_io io = kv_io_contiguous(c, 1, q, k, v, u, o);
  return skrt_kv_cache_forward(c, layer, 1, &io, ctx);
}

/* ---- S5 helper ----------------------------------------------------------------------- */

static int kv_check_scores_args(const struct skrt_kv_cache *c, int64_t layer,
                                const struct skrt_kv_score_args *a) {
  if (!c || !a->x || !a->u)
    return skrt_error(SKRT_ERR_NULL, "kv cache scores: %s is NULL",
                      !c      ? "cache"
                      : !a->x ? "x"
                              : "u");
  int st = kv_check_layer(c, "scores", layer);
  if (st)
    return st;
  if (a->mode != SKRT_SCORE_HIDDEN && a->mode != SKRT_SCORE_KEYS && a->mode != SKRT_SCORE_INPUT)
    return skrt_error(SKRT_ERR_ARG, "kv cache scores: mode = %d is not hidden, keys or input",
                      a->mode);
  if (a->mode != SKRT_SCORE_INPUT && !a->w_score)
    return skrt_error(SKRT_ERR_NULL, "kv cache scores: w_score is NULL");
  if (a->mode == SKRT_SCORE_HIDDEN && a->F < 1)
    return skrt_error(SKRT_ERR_ARG, "kv cache scores: F = %lld, expected >= 1", (long long)a->F);
  if (a->mode == SKRT_SCORE_KEYS && a->F != kv_head(c)->cfg.D)
    return skrt_error(SKRT_ERR_SHAPE, "kv cache scores: F = %lld, keys mode needs F = D = %lld",
                      (long long)a->F, (long long)kv_head(c)->cfg.D);
  return SKRT_OK;
}

int skrt_kv_cache_scores_strided(const struct skrt_kv_cache *c, int64_t layer, int mode,
                                 const void *x, const int64_t x_stride[2], int64_t F,
                                 const float *w_score, const float *b_score, double slope, float *u,
                                 struct skrt_context *ctx) {
  if (!x_stride)
    return skrt_error(SKRT_ERR_NULL, "kv cache scores: x_stride is NULL");
  struct skrt_kv_score_args a = {mode,  x, {x_stride[0], x_stride[1]}, F, w_score, b_score,
                                 slope, u};
  int st = kv_check_scores_args(c, layer, &a);
  return st ? st : kv_head(c)->ops->scores(c, layer, &a, ctx);
}

int skrt_kv_cache_scores(const struct skrt_kv_cache *c, int64_t layer, int mode, const void *x,
                         int64_t F, const float *w_score, const float *b_score, double slope,
                         float *u) {
  if (!c)
    return skrt_error(SKRT_ERR_NULL, "kv cache scores: cache is NULL");
  int64_t H = kv_head(c)->cfg.Hkv;
  int64_t xs[2] = {mode == SKRT_SCORE_HIDDEN ? F
                   : mode == SKRT_SCORE_KEYS ? H * F
                                             : H,
                   mode == SKRT_SCORE_KEYS ? F : 1};
  return skrt_kv_cache_scores_strided(c, layer, mode, x, xs, F, w_score, b_score, slope, u, NULL);
}

static float kv_score(int mode, const float *x, int64_t F, const float *w, float bias, double slope,
                      int64_t pos) {
  float s = mode == SKRT_SCORE_INPUT ? x[0] : skrt_kv_dot(x, w, F);
  return (float)((double)(s + bias) + slope * (double)pos); /* ref: S5 */
}

static int kv_cpu_scores(const struct skrt_kv_cache *c, int64_t layer,
                         const struct skrt_kv_score_args *a, struct skrt_context *ctx) {
  (void)ctx;
  int64_t H = c->head.cfg.Hkv;
  const float *x = (const float *)a->x;
  for (int64_t b = 0; b < c->head.cfg.B; b++) {
    int64_t pos = c->st[(layer * c->head.cfg.B + b) * H].pos;
    for (int64_t h = 0; h < H; h++) {
      const float *xr =
          x + b * a->x_stride[0] + (a->mode == SKRT_SCORE_HIDDEN ? 0 : h * a->x_stride[1]);
      float bias = (a->mode != SKRT_SCORE_INPUT && a->b_score) ? a->b_score[h] : 0.0f;
      float *u = &a->u[b * H + h];
      *u = kv_score(a->mode, xr, a->F, a->w_score ? a->w_score + h * a->F : NULL, bias, a->slope,
                    pos);
      if (!isfinite(*u))
        return skrt_error(SKRT_ERR_NONFINITE,
                          "kv cache scores: u[b=%lld, h=%lld] = %g is not "
                          "finite",
                          (long long)b, (long long)h, (double)*u);
    }
  }
  return SKRT_OK;
}

static const struct skrt_kv_cache_ops kv_cpu_ops = {
    kv_cpu_destroy, kv_cpu_reset, kv_cpu_position, kv_cpu_footprint, kv_cpu_forward, kv_cpu_scores,
};
