/* Shared harness of the CPU attention kernel tests (test_cpu_attention*.c): a problem
 * description, deterministic random inputs (rounded to float so the fp32 kernel, the fp64
 * kernel and the double reference see the same values), kernel parameter structs for both
 * real types with optional strided layouts, and the error metric
 *   rel_err(a, b) = max_i |a_i - b_i| / max_i |b_i|   (b: the double reference). */
#ifndef TEST_CPU_UTIL_H
#define TEST_CPU_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "skrt/attention.h"
#include "skrt/base.h"
#include "skrt/sparsek.h"

struct tcase {
  const char *name;
  int64_t B, Hq, Hkv, N, D, k, w;
  int ties;    /* u drawn from a few levels: many equal scores */
  int strided; /* q laid out (B, N, Hq, D); k, v rows padded */
};

/* All tensors of one problem: doubles (reference, f64 kernel), floats (f32 kernel). */
struct tprob {
  struct tcase c;
  int gate;
  int64_t nq, nkv, nu, qpad_len, kvpad_len, kv_row;
  double *q, *k, *v, *u, *dout;       /* dense row-major (reference) */
  double *qs, *ks, *vs;               /* kernel layout (maybe strided) */
  float *qf, *kf, *vf, *uf, *doutf;   /* kernel layout, float */
};

static uint64_t t_rng = 0x9E3779B97F4A7C15ull;

/* Uniform in [-1, 1), rounded to float. */
static double t_rand(void) {
  t_rng = t_rng * 6364136223846793005ull + 1442695040888963407ull;
  double x = (double)(t_rng >> 11) * (1.0 / 9007199254740992.0);
  return (double)(float)(2.0 * x - 1.0);
}

static void t_fill(double *x, int64_t n, double amp) {
  for (int64_t i = 0; i < n; ++i)
    x[i] = (double)(float)(amp * t_rand());
}

/* Index of element (b, h, n, d) in the kernel layout of q / of k, v. */
static int64_t t_qidx(const struct tprob *p, int64_t b, int64_t h, int64_t n, int64_t d) {
  const struct tcase *c = &p->c;
  if (c->strided)
    return ((b * c->N + n) * c->Hq + h) * c->D + d;
  return ((b * c->Hq + h) * c->N + n) * c->D + d;
}

static int64_t t_kvidx(const struct tprob *p, int64_t b, int64_t h, int64_t n, int64_t d) {
  return ((b * p->c.Hkv + h) * p->c.N + n) * p->kv_row + d;
}

static void t_prob_destroy(struct tprob *p) {
  void *bufs[] = {p->q, p->k, p->v, p->u, p->dout, p->qs, p->ks, p->vs,
                  p->qf, p->kf, p->vf, p->uf, p->doutf};
  for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); ++i)
    free(bufs[i]);
  memset(p, 0, sizeof(*p));
}

/* Copies the dense q, k, v into the kernel layouts (double and float). */
static void t_prob_layout(struct tprob *p) {
  const struct tcase *c = &p->c;
  for (int64_t b = 0; b < c->B; ++b)
    for (int64_t n = 0; n < c->N; ++n)
      for (int64_t d = 0; d < c->D; ++d) {
        for (int64_t h = 0; h < c->Hq; ++h) {
          double x = p->q[((b * c->Hq + h) * c->N + n) * c->D + d];
          p->qs[t_qidx(p, b, h, n, d)] = x;
          p->qf[t_qidx(p, b, h, n, d)] = (float)x;
        }
        for (int64_t h = 0; h < c->Hkv; ++h) {
          int64_t src = ((b * c->Hkv + h) * c->N + n) * c->D + d, dst = t_kvidx(p, b, h, n, d);
          p->ks[dst] = p->k[src], p->kf[dst] = (float)p->k[src];
          p->vs[dst] = p->v[src], p->vf[dst] = (float)p->v[src];
        }
      }
}

static void t_prob_create(struct tprob *p, const struct tcase *c, int gate, uint64_t seed) {
  memset(p, 0, sizeof(*p));
  p->c = *c;
  p->gate = gate;
  t_rng = seed * 2654435761ull + 12345;
  p->nq = c->B * c->Hq * c->N * c->D;
  p->nkv = c->B * c->Hkv * c->N * c->D;
  p->nu = c->B * c->Hkv * c->N;
  p->kv_row = c->strided ? c->D + 5 : c->D;
  int64_t nkvs = c->B * c->Hkv * c->N * p->kv_row;
  p->q = calloc((size_t)p->nq, 8), p->k = calloc((size_t)p->nkv, 8);
  p->v = calloc((size_t)p->nkv, 8), p->u = calloc((size_t)p->nu, 8);
  p->dout = calloc((size_t)p->nq, 8);
  p->qs = calloc((size_t)p->nq, 8), p->ks = calloc((size_t)nkvs, 8);
  p->vs = calloc((size_t)nkvs, 8);
  p->qf = calloc((size_t)p->nq, 4), p->kf = calloc((size_t)nkvs, 4);
  p->vf = calloc((size_t)nkvs, 4), p->uf = calloc((size_t)p->nu, 4);
  p->doutf = calloc((size_t)p->nq, 4);
  t_fill(p->q, p->nq, 1.5);
  t_fill(p->k, p->nkv, 1.5);
  t_fill(p->v, p->nkv, 1.0);
  t_fill(p->dout, p->nq, 1.0);
  t_fill(p->u, p->nu, 3.0);
  if (c->ties)
    for (int64_t i = 0; i < p->nu; ++i)
      p->u[i] = 0.75 * floor(p->u[i] + 0.5); /* 9 levels in [-3, 3]: many exact ties */
  for (int64_t i = 0; i < p->nu; ++i)
    p->uf[i] = (float)p->u[i];
  for (int64_t i = 0; i < p->nq; ++i)
    p->doutf[i] = (float)p->dout[i];
  t_prob_layout(p);
}

/* Kernel parameters over the problem's kernel-layout tensors of real_bits 32 or 64;
 * o and the saved state point into caller buffers (may be NULL). */
static struct skrt_attn_params t_params(const struct tprob *p, int real_bits, void *o,
                                        void *lse, void *tau, int32_t *nfree) {
  const struct tcase *c = &p->c;
  struct skrt_attn_params a;
  memset(&a, 0, sizeof(a));
  a.B = c->B, a.Hq = c->Hq, a.Hkv = c->Hkv, a.N = c->N, a.D = c->D;
  a.topk = c->k, a.window = c->w, a.gate = p->gate, a.real_bits = real_bits;
  a.scale = 1.0 / sqrt((double)c->D);
  int f = real_bits == 32;
  a.q = f ? (const void *)p->qf : (const void *)p->qs;
  a.k = f ? (const void *)p->kf : (const void *)p->ks;
  a.v = f ? (const void *)p->vf : (const void *)p->vs;
  a.u = f ? (const void *)p->uf : (const void *)p->u;
  a.o = o;
  if (c->strided) {
    a.q_stride[0] = c->N * c->Hq * c->D, a.q_stride[1] = c->D, a.q_stride[2] = c->Hq * c->D;
  } else {
    a.q_stride[0] = c->Hq * c->N * c->D, a.q_stride[1] = c->N * c->D, a.q_stride[2] = c->D;
  }
  a.k_stride[0] = c->Hkv * c->N * p->kv_row, a.k_stride[1] = c->N * p->kv_row;
  a.k_stride[2] = p->kv_row;
  memcpy(a.v_stride, a.k_stride, sizeof(a.k_stride));
  a.o_stride[0] = c->Hq * c->N * c->D, a.o_stride[1] = c->N * c->D, a.o_stride[2] = c->D;
  a.lse = lse, a.tau = tau, a.nfree = nfree;
  return a;
}

static struct skrt_ref_shape t_shape(const struct tprob *p) {
  struct skrt_ref_shape s = {p->c.B, p->c.Hq, p->c.Hkv, p->c.N, p->c.D, 0};
  return s;
}

static struct skrt_ref_config t_config(const struct tprob *p) {
  struct skrt_ref_config c = {p->c.k, p->c.w, p->gate, SKRT_SCORE_INPUT,
                              1.0 / sqrt((double)p->c.D), 0.0};
  return c;
}

/* max|a - b| / max|b| with a given as float (bits 32) or double. */
static double t_rel_err(const void *a, int bits, const double *b, int64_t n) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; ++i) {
    double x = bits == 32 ? (double)((const float *)a)[i] : ((const double *)a)[i];
    num = fmax(num, fabs(x - b[i]));
    den = fmax(den, fabs(b[i]));
  }
  return den > 0 ? num / den : num;
}

/* Worker-count-explicit context (caller destroys). */
static struct skrt_context *t_ctx(int threads) {
  struct skrt_context_options o = {threads, NULL};
  struct skrt_context *ctx = NULL;
  skrt_context_create(&o, &ctx);
  return ctx;
}

#endif
