/* --decode: generation entries over the constant-memory KV cache (S12, skrt/kv_cache.h):
 *
 *   int name_kv_cache_create(int64_t layers, int64_t B, int64_t max_positions,
 *                            struct skrt_kv_cache **out);      a cache with the model's
 *                                                              Hq, Hkv, D, k, window, gate
 *   int name_decode(struct skrt_kv_cache *cache, int64_t layer, <the forward's tensors with
 *                   T new tokens on the sequence axis>, DLTensor *out, struct skrt_context *ctx);
 *
 * name_decode appends the T tokens to every sequence of `layer`, one at a time: their scores
 * (S5 at the cache's positions, skrt_kv_cache_scores), then skrt_kv_cache_forward, writing the
 * outputs of their queries. Feeding a sequence token by token (or in chunks) gives the outputs
 * of the full forward (spec section 4). Every tensor may be strided with a contiguous last
 * axis (chunks are views of a longer sequence). Supported for single-layer functions (as
 * --grad). On the cuda target (--target=cuda) the cache is a device cache
 * (skrt_cuda_kv_cache_create, K/V stored in the type of q), every tensor is a kDLCUDA tensor,
 * the scores go to a stream-ordered device buffer (skrt_kv_cache_scores_strided reads the
 * strided score input on the GPU) and each token's step runs on the stream of ctx. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/cgen.h"
#include "compiler/diag.h"
#include "dialect/sparsek.h"

/* The sequence axis of parameter p (by role), or -1. */
static int seq_axis(const struct skc_cg_param *p, int mode) {
  switch (p->role) {
  case SKC_ROLE_Q:
  case SKC_ROLE_K:
  case SKC_ROLE_V:
  case SKC_ROLE_OUT:
    return p->rank - 2;
  case SKC_ROLE_X:
    return mode == SKC_SCORE_HIDDEN ? 1 : p->rank - 2;
  case SKC_ROLE_UIN:
    return 2;
  default:
    return -1;
  }
}

bool skc_cg_decode_func_create(const struct skc_cg_func *f, struct skc_cg_func *d) {
  const char *why = f->real_bits == 64 ? "the KV cache holds float32 tensors; this function is f64"
                                       : skc_cg_single_layer(f);
  if (why) {
    skc_error("--decode: cannot emit %s_decode for @%s (%s): %s", f->name, f->name, f->loc, why);
    return false;
  }
  *d = *f;
  snprintf(d->name, sizeof d->name, "%.32s_decode", f->name);
  d->lead = "struct skrt_kv_cache *cache, int64_t layer";
  d->params = calloc((size_t)f->nparams, sizeof *d->params);
  d->syms = calloc((size_t)f->nsyms + 2, sizeof *d->syms);
  d->steps = calloc(2, sizeof *d->steps);
  d->buffers = NULL;
  d->nbuffers = 0;
  SKC_ASSERT(d->params && d->syms && d->steps);
  memcpy(d->params, f->params, sizeof *d->params * (size_t)f->nparams);
  memcpy(d->steps, f->steps, 2 * sizeof *d->steps);
  /* symbols: the model's, minus N, plus T (the new tokens) at the first sequence axis */
  int mode = f->steps[0].mode, nsyms = 0, t = -1;
  int *map = calloc((size_t)f->nsyms + 1, sizeof *map);
  SKC_ASSERT(map);
  for (int i = 0; i < f->nsyms; ++i) {
    int ax = seq_axis(&f->params[f->syms[i].param], mode);
    bool is_n = ax == f->syms[i].axis;
    map[i] = is_n ? -1 : nsyms;
    if (!is_n)
      d->syms[nsyms++] = f->syms[i];
  }
  for (int i = 0; i < d->nparams; ++i) {
    struct skc_cg_param *p = &d->params[i];
    int ax = seq_axis(p, mode);
    p->strided = p->role != SKC_ROLE_W && p->role != SKC_ROLE_B;
    for (int a = 0; a < p->rank; ++a) {
      if (a == ax) {
        if (t < 0) {
          t = nsyms++;
          d->syms[t] = (struct skc_cg_sym){"T", i, a};
        }
        p->dims[a] = (struct skc_cg_dim){0, t};
      } else if (p->dims[a].sym >= 0) {
        p->dims[a].sym = map[p->dims[a].sym];
        SKC_ASSERT(p->dims[a].sym >= 0);
      }
    }
  }
  d->nsyms = nsyms;
  free(map);
  for (int s = 0; s < 2; ++s)
    for (int j = 0; j < d->steps[s].nin; ++j)
      memcpy(d->steps[s].in[j].dims, d->params[d->steps[s].in[j].index].dims,
             sizeof d->steps[s].in[j].dims);
  return true;
}

void skc_cg_decode_func_destroy(struct skc_cg_func *d) {
  free(d->params);
  free(d->syms);
  free(d->steps);
  memset(d, 0, sizeof *d);
}

/* Extent expressions of attention operand q / k of a decode plan. */
static void heads(const struct skc_cg_func *d, char *B, char *Hq, char *Hkv, char *D, size_t n) {
  const struct skc_cg_ref *q = &d->steps[1].in[0], *k = &d->steps[1].in[1];
  skc_cg_dim_str(d, q->dims[0], B, n);
  skc_cg_dim_str(d, q->dims[q->rank - 1], D, n);
  snprintf(Hq, n, "1");
  snprintf(Hkv, n, "1");
  if (q->rank == 4) {
    skc_cg_dim_str(d, q->dims[1], Hq, n);
    skc_cg_dim_str(d, k->dims[1], Hkv, n);
  }
}

/* enum skrt_kv_dtype of the decode's q (the cache stores K/V in it; cuda target). */
static const char *kv_dtype(const struct skc_cg_func *d) {
  const char *t = skc_cg_cuda_dtype(d, &d->steps[1].in[0]);
  return strcmp(t, "SKRT_CUDA_F32") == 0    ? "SKRT_KV_F32"
         : strcmp(t, "SKRT_CUDA_BF16") == 0 ? "SKRT_KV_BF16"
                                            : "SKRT_KV_F16";
}

/* C element type for pointer arithmetic on parameter i (16-bit types as uint16_t). */
static const char *elem_type(const struct skc_cg_func *d, int i) {
  return !d->cuda || d->params[i].dtype.bits == 32 ? "float" : "uint16_t";
}

static void emit_cache_create(struct skc_emitter *e, const struct skc_cg_func *d, int a) {
  char B[64], Hq[64], Hkv[64], D[64];
  heads(d, B, Hq, Hkv, D, sizeof B);
  skc_emit_open(e,
                "int %.*s_kv_cache_create(int64_t layers, int64_t B, int64_t max_positions,\n"
                "%*sstruct skrt_kv_cache **out)",
                (int)(strlen(d->name) - 7), d->name, (int)strlen(d->name) + 12, "");
  skc_emit_line(e, "struct skrt_kv_cache_config cfg;");
  skc_emit_line(e, "memset(&cfg, 0, sizeof cfg);");
  skc_emit_line(e, "cfg.layers = layers, cfg.B = B, cfg.Hq = %s, cfg.Hkv = %s, cfg.D = %s;", Hq,
                Hkv, D);
  skc_emit_line(e, "cfg.topk = SKC_A%d_TOPK, cfg.window = SKC_A%d_WINDOW, cfg.gate = SKC_A%d_GATE;",
                a, a, a);
  skc_emit_line(e, "cfg.scale = SKC_A%d_SCALE, cfg.max_positions = max_positions;", a);
  if (d->cuda) {
    skc_emit_line(e, "cfg.dtype = %s, cfg.device = SKRT_KV_DEVICE_CUDA;", kv_dtype(d));
    skc_emit_line(e, "return skrt_cuda_kv_cache_create(&cfg, NULL, out);");
  } else {
    skc_emit_line(e, "cfg.dtype = SKRT_KV_F32, cfg.device = SKRT_KV_DEVICE_CPU;");
    skc_emit_line(e, "return skrt_kv_cache_create(&cfg, out);");
  }
  skc_emit_close(e, NULL);
  skc_emit_blank(e);
}

/* The cache must match the model: shapes and the layer's k, window, gate and scale. */
static void emit_cache_check(struct skc_emitter *e, const struct skc_cg_func *d, int a) {
  char B[64], Hq[64], Hkv[64], D[64];
  heads(d, B, Hq, Hkv, D, sizeof B);
  skc_emit_line(e, "struct skrt_kv_cache_config cfg;");
  skc_emit_line(e, "if (!cache)");
  skc_emit_line(e, "  return skrt_error(SKRT_ERR_NULL, \"%s: cache is NULL\");", d->name);
  skc_emit_line(e, "if ((st = skrt_kv_cache_get_config(cache, &cfg)) != SKRT_OK)");
  skc_emit_line(e, "  return st;");
  skc_emit_line(e, "if (cfg.B != %s || cfg.Hq != %s || cfg.Hkv != %s || cfg.D != %s ||", B, Hq, Hkv,
                D);
  skc_emit_line(e,
                "    cfg.topk != SKC_A%d_TOPK || cfg.window != SKC_A%d_WINDOW || cfg.gate != "
                "SKC_A%d_GATE ||",
                a, a, a);
  skc_emit_line(e, "    cfg.scale != (double)SKC_A%d_SCALE)", a);
  skc_emit_line(e,
                "  return skrt_error(SKRT_ERR_ARG, \"%s: the cache (B %%lld, Hq %%lld, Hkv "
                "%%lld, D %%lld, k %%lld, window %%lld, gate %%d, scale %%g) was not made for "
                "this layer (B %%lld, Hq %%lld, Hkv %%lld, D %%lld, k %%lld, window %%lld, gate "
                "%%d, scale %%g); use %.*s_kv_cache_create\",",
                d->name, (int)(strlen(d->name) - 7), d->name);
  skc_emit_line(e, "                    (long long)cfg.B, (long long)cfg.Hq, (long long)cfg.Hkv, "
                   "(long long)cfg.D, (long long)cfg.topk,");
  skc_emit_line(e,
                "                    (long long)cfg.window, cfg.gate, cfg.scale, (long long)%s, "
                "(long long)%s, (long long)%s,",
                B, Hq, Hkv);
  skc_emit_line(e,
                "                    (long long)%s, (long long)SKC_A%d_TOPK, (long long)"
                "SKC_A%d_WINDOW, SKC_A%d_GATE, SKC_A%d_SCALE);",
                D, a, a, a, a);
  if (!d->cuda)
    return;
  skc_emit_line(e, "if (cfg.device != SKRT_KV_DEVICE_CUDA || cfg.dtype != %s)", kv_dtype(d));
  skc_emit_line(e,
                "  return skrt_error(SKRT_ERR_DEVICE, \"%s: the cache (device %%d, dtype %%d) is "
                "not a CUDA cache of this layer's dtype (%%d); use %.*s_kv_cache_create\",",
                d->name, (int)(strlen(d->name) - 7), d->name);
  skc_emit_line(e, "                    cfg.device, cfg.dtype, %s);", kv_dtype(d));
}

/* Element pointer of token t of parameter i: data + t * stride(seq axis). */
static void token_ptr(const struct skc_cg_func *d, int i, int mode, const char *type, char *buf,
                      size_t n) {
  const struct skc_cg_param *p = &d->params[i];
  snprintf(buf, n, "(%s%s *)skrt_dl_data(%s) + t * st_%s[%d]", p->result ? "" : "const ", type,
           p->name, p->name, seq_axis(p, mode));
}

/* Gathers the score input of token t into xs (contiguous, as skrt_kv_cache_scores reads). */
static void emit_gather(struct skc_emitter *e, const struct skc_cg_func *d, int mode,
                        const char *Hkv, int s) {
  const struct skc_cg_step *sc = &d->steps[0];
  const struct skc_cg_param *x = &d->params[sc->in[0].index];
  char ptr[200];
  token_ptr(d, sc->in[0].index, mode, "float", ptr, sizeof ptr);
  skc_emit_line(e, "const float *xt = %s;", ptr);
  skc_emit_line(e, "for (int64_t b = 0; b < cfg.B; ++b)");
  if (mode == SKC_SCORE_HIDDEN) {
    skc_emit_line(e, "  memcpy(xs + b * SKC_S%d_F, xt + b * st_%s[0], SKC_S%d_F * sizeof(float));",
                  s, x->name, s);
    return;
  }
  skc_emit_line(e, "  for (int64_t h = 0; h < %s; ++h)", Hkv);
  const char *hs = x->rank == 4 || mode == SKC_SCORE_INPUT ? "1" : "";
  char hterm[64];
  snprintf(hterm, sizeof hterm, *hs ? " + h * st_%s[1]" : "", x->name);
  if (mode == SKC_SCORE_INPUT)
    skc_emit_line(e, "    xs[b * %s + h] = xt[b * st_%s[0]%s];", Hkv, x->name, hterm);
  else
    skc_emit_line(e,
                  "    memcpy(xs + (b * %s + h) * SKC_S%d_F, xt + b * st_%s[0]%s, SKC_S%d_F * "
                  "sizeof(float));",
                  Hkv, s, x->name, hterm, s);
}

/* The (b, h, n) element strides of a rank-4 or rank-3 tensor parameter into io.<field>. */
static void io_strides(struct skc_emitter *e, const struct skc_cg_param *p, const char *field) {
  if (p->rank == 4)
    skc_emit_line(e, "io.%s[0] = st_%s[0], io.%s[1] = st_%s[1], io.%s[2] = st_%s[2];", field,
                  p->name, field, p->name, field, p->name);
  else
    skc_emit_line(e, "io.%s[0] = st_%s[0], io.%s[1] = 0, io.%s[2] = st_%s[1];", field, p->name,
                  field, field, p->name);
}

/* The score step's w_score and b_score pointers (NULL in mode input) and its width F. */
static void score_args(const struct skc_cg_func *d, int mode, int s, char w[160], char b[160],
                       char F[32]) {
  const struct skc_cg_step *sc = &d->steps[0];
  snprintf(w, 160, "NULL");
  snprintf(b, 160, "NULL");
  if (mode != SKC_SCORE_INPUT) {
    skc_cg_ref_ptr(d, &sc->in[1], "float", w, 160);
    skc_cg_ref_ptr(d, &sc->in[2], "float", b, 160);
  }
  snprintf(F, 32, mode == SKC_SCORE_INPUT ? "0" : "SKC_S%d_F", s);
}

/* S5 of token t into ut on the CPU: the score input gathered into xs. */
static void emit_scores_cpu(struct skc_emitter *e, const struct skc_cg_func *d, int mode,
                            const char *Hkv, int s) {
  char w[160], b[160], F[32];
  emit_gather(e, d, mode, Hkv, s);
  score_args(d, mode, s, w, b, F);
  skc_emit_line(e, "st = skrt_kv_cache_scores(cache, layer, %s, xs, %s, %s,",
                skc_cg_score_mode_name(mode), F, w);
  skc_emit_line(e, "                          %s, SKC_S%d_SLOPE, ut);", b, s);
}

/* S5 of token t into the device buffer ut: the strided score input read on the GPU. */
static void emit_scores_cuda(struct skc_emitter *e, const struct skc_cg_func *d, int mode, int s) {
  const struct skc_cg_step *sc = &d->steps[0];
  const struct skc_cg_param *x = &d->params[sc->in[0].index];
  char w[160], b[160], F[32], ptr[200];
  token_ptr(d, sc->in[0].index, mode,
            mode == SKC_SCORE_INPUT ? "float" : elem_type(d, sc->in[0].index), ptr, sizeof ptr);
  skc_emit_line(e, "const void *xt = %s;", ptr);
  if (mode != SKC_SCORE_HIDDEN && (x->rank == 4 || mode == SKC_SCORE_INPUT))
    skc_emit_line(e, "int64_t xst[2] = {st_%s[0], st_%s[1]};", x->name, x->name);
  else
    skc_emit_line(e, "int64_t xst[2] = {st_%s[0], 0};", x->name);
  score_args(d, mode, s, w, b, F);
  skc_emit_line(e, "st = skrt_kv_cache_scores_strided(cache, layer, %s, xt, xst, %s, %s,",
                skc_cg_score_mode_name(mode), F, w);
  skc_emit_line(e, "                                  %s, SKC_S%d_SLOPE, ut, ctx);", b, s);
}

static void emit_token(struct skc_emitter *e, const struct skc_cg_func *d, int mode, int s) {
  const struct skc_cg_step *at = &d->steps[1];
  char B[64], Hq[64], Hkv[64], D[64], ptr[200];
  heads(d, B, Hq, Hkv, D, sizeof B);
  skc_emit_open(e, "for (int64_t t = 0; t < T && st == SKRT_OK; ++t)");
  if (d->cuda)
    emit_scores_cuda(e, d, mode, s);
  else
    emit_scores_cpu(e, d, mode, Hkv, s);
  skc_emit_line(e, "if (st != SKRT_OK)");
  skc_emit_line(e, "  break;");
  skc_emit_line(e, "struct skrt_kv_io io;");
  skc_emit_line(e, "memset(&io, 0, sizeof io);");
  static const char *const fields[] = {"q", "k", "v"};
  for (int i = 0; i < 3; ++i) {
    token_ptr(d, at->in[i].index, mode, elem_type(d, at->in[i].index), ptr, sizeof ptr);
    skc_emit_line(e, "io.%s = %s;", fields[i], ptr);
    char f[16];
    snprintf(f, sizeof f, "%s_stride", fields[i]);
    io_strides(e, &d->params[at->in[i].index], f);
  }
  token_ptr(d, d->nargs, mode, elem_type(d, d->nargs), ptr, sizeof ptr);
  skc_emit_line(e, "io.o = %s;", ptr);
  io_strides(e, &d->params[d->nargs], "o_stride");
  skc_emit_line(e, "io.u = ut;");
  skc_emit_line(e, "io.u_stride[0] = %s, io.u_stride[1] = 1, io.u_stride[2] = 0;", Hkv);
  skc_emit_line(e, "st = skrt_kv_cache_forward(cache, layer, 1, &io, ctx);");
  skc_emit_close(e, NULL);
}

/* Host buffers xs (gathered score input) and ut (scores) of the CPU step. */
static void emit_buffers_cpu(struct skc_emitter *e, const struct skc_cg_func *d, int mode,
                             const char *Hkv, int s) {
  char xs[32];
  snprintf(xs, sizeof xs, mode == SKC_SCORE_INPUT ? "1" : "SKC_S%d_F", s);
  skc_emit_line(e, "float *xs = (float *)malloc((size_t)(cfg.B * %s * %s) * sizeof(float));",
                mode == SKC_SCORE_HIDDEN ? "1" : Hkv, xs);
  skc_emit_line(e, "float *ut = (float *)malloc((size_t)(cfg.B * %s) * sizeof(float));", Hkv);
  skc_emit_line(e, "if (!xs || !ut)");
  skc_emit_line(e, "  st = skrt_error(SKRT_ERR_NOMEM, \"%s: out of memory\");", d->name);
}

/* The device buffer ut of the scores, stream-ordered on ctx's stream. */
static void emit_buffers_cuda(struct skc_emitter *e, const struct skc_cg_func *d, const char *Hkv) {
  skc_emit_line(e, "cudaStream_t stream = (cudaStream_t)skrt_context_cuda_stream(ctx);");
  skc_emit_line(e, "float *ut = NULL;");
  skc_emit_line(e,
                "if (cudaMallocAsync((void **)&ut, (size_t)(cfg.B * %s) * sizeof(float), stream) "
                "!= cudaSuccess)",
                Hkv);
  skc_emit_line(e, "  return skrt_error(SKRT_ERR_CUDA, \"%s: cannot allocate the score buffer\");",
                d->name);
}

void skc_cg_write_decode(struct skc_emitter *e, const struct skc_cg_func *d, int a, int s) {
  int mode = d->steps[0].mode;
  char B[64], Hq[64], Hkv[64], D[64];
  heads(d, B, Hq, Hkv, D, sizeof B);
  emit_cache_create(e, d, a);
  skc_emit_line(e, "/* @%s decode step (%s): S12 over the KV cache */", d->name, d->loc);
  skc_cg_emit_entry_open(e, d);
  emit_cache_check(e, d, a);
  for (int i = 0; i < d->nparams; ++i)
    if (d->params[i].strided) {
      skc_emit_line(e, "int64_t st_%s[%d];", d->params[i].name, d->params[i].rank);
      skc_emit_line(e, "skrt_dl_strides(%s, st_%s);", d->params[i].name, d->params[i].name);
    }
  if (d->cuda)
    emit_buffers_cuda(e, d, Hkv);
  else
    emit_buffers_cpu(e, d, mode, Hkv, s);
  emit_token(e, d, mode, s);
  if (d->cuda) {
    skc_emit_line(e, "cudaFreeAsync(ut, stream);");
  } else {
    skc_emit_line(e, "free(xs);");
    skc_emit_line(e, "free(ut);");
  }
  skc_emit_line(e, "return st;");
  skc_emit_close(e, NULL);
  skc_emit_blank(e);
}

void skc_cg_document_decode(struct skc_emitter *e, const struct skc_cg_func *d) {
  int n = (int)(strlen(d->name) - 7);
  skc_emit_line(e,
                "/* %.*s_kv_cache_create: a KV cache (skrt/kv_cache.h) for `layers` layers "
                "like @%.*s and",
                n, d->name, n, d->name);
  skc_emit_line(e,
                " * B sequences; max_positions 0 means SKRT_KV_MAX_POSITIONS. Free it with "
                "skrt_kv_cache_destroy.%s",
                d->cuda ? "" : " */");
  if (d->cuda)
    skc_emit_line(e,
                  " * CUDA: a device cache on the current device (skrt_cuda_kv_cache_create). */");
  skc_emit_line(e, "int %.*s_kv_cache_create(int64_t layers, int64_t B, int64_t max_positions,", n,
                d->name);
  skc_emit_line(e, "%*sstruct skrt_kv_cache **out);", n + 22, "");
  skc_emit_blank(e);
  skc_emit_line(e,
                "/* %s: appends T new tokens to every sequence of `layer` of the cache "
                "(S12) and writes",
                d->name);
  skc_emit_line(e, " * the outputs of their queries: the forward's tensors with T in place of N "
                   "(any strides");
  skc_emit_line(e, " * with a contiguous last axis, so chunks of a longer sequence can be "
                   "passed as views).");
  skc_emit_line(e, " * Token by token or in chunks, the outputs equal the full forward's. The "
                   "cache must come");
  skc_emit_line(e,
                " * from %.*s_kv_cache_create (checked). Same status codes as the forward; "
                "ctx may be NULL.%s",
                n, d->name, d->cuda ? "" : " */");
  if (d->cuda) {
    skc_emit_line(e, " * CUDA: the cache is a device cache (skrt_cuda_kv_cache_create, K/V stored "
                     "in q's type);");
    skc_emit_line(e, " * every tensor is a kDLCUDA tensor and the work runs on the stream of ctx; "
                     "each token's");
    skc_emit_line(e, " * step ends with one synchronisation of that stream (its status is "
                     "returned). */");
  }
  skc_cg_prototype(e, d);
  skc_emit_raw(e, ";\n\n");
}
