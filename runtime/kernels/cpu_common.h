/* CPU kernel common part: the specialization macros every CPU kernel header reads
 * (SKK_REAL, SKK_HEAD_DIM, SKK_TILE_Q; see kernels/README.md), a vectorizable exp, and the
 * small helpers shared by the forward and backward kernels. Header-only, static inline,
 * plain C11 loops written so that gcc -O3 -march=native vectorizes them (no intrinsics).
 * Instantiate once per translation unit: one SKK_REAL per TU. */
#ifndef SKK_CPU_COMMON_H
#define SKK_CPU_COMMON_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "skrt/attention.h"
#include "skrt/base.h"
#include "skrt/sparsek.h"

#ifndef SKK_REAL
#define SKK_REAL float
#endif
#ifndef SKK_TILE_Q
#define SKK_TILE_Q 32
#endif
#if defined(SKK_HEAD_DIM) && SKK_HEAD_DIM > 0
#define SKK_DIM(runtime_d) ((int64_t)SKK_HEAD_DIM)
#else
#define SKK_DIM(runtime_d) ((int64_t)(runtime_d))
#endif

/* Queries per tile as the kernels run them, the lane dimension of every tile loop:
 * SKK_TILE_Q capped at 32. Wider tiles were measured slower (their per-tile blocks overflow
 * L1; kernels/README.md), so a larger SKK_TILE_Q (e.g. from a cost model written for a
 * gathered union) is accepted and run as 32-query tiles. */
#define SKK_T (SKK_TILE_Q > 32 ? 32 : SKK_TILE_Q)
_Static_assert(SKK_TILE_Q >= 8 && SKK_TILE_Q <= 256 && SKK_TILE_Q % 8 == 0,
               "SKK_TILE_Q must be a multiple of 8 in [8, 256]");
/* Keys per block of the online softmax. */
#ifndef SKK_KB
#define SKK_KB 64
#endif
/* Register blocks: keys per group of the logits kernel (SKK_KG) and head-dim columns per
 * group of the P.V kernel (SKK_DG), sized so that a group's accumulators fill 16 of the 32
 * AVX-512 registers (SKK_KG x SKK_T reals = 1 KiB): 8 for float at T = 32, fewer for wider
 * tiles or double (powers of two, so they divide the union padding SKK_KPAD). */
#define SKK_REG_GROUP(n) ((n) >= 8 ? 8 : (n) >= 4 ? 4 : (n) >= 2 ? 2 : 1)
#define SKK_KG SKK_REG_GROUP(1024 / ((int)sizeof(SKK_REAL) * SKK_T))
#define SKK_DG SKK_KG
/* The key union is padded to a multiple of this (every SKK_KG and the backward's SKK_RC). */
#define SKK_KPAD 8
_Static_assert(SKK_KB % SKK_KPAD == 0, "SKK_KB must be a multiple of 8");
/* Stand-in for -inf in the online softmax (keeps exp() arguments finite). */
#define SKK_NEG_BIG ((SKK_REAL)-1e30)

typedef SKK_REAL skk_real;

/* a * b + c in the kernel's real type: one FMA instruction when the target has FMA. The
 * kernels spell it out because ISO C mode (-std=c11) turns off gcc's contraction of
 * a * b + c; without hardware FMA (a generic -O2 build), fma() would be a libm call per
 * element, so the plain expression is used there instead. */
#if defined(__FMA__) || defined(__aarch64__)
#define SKK_FMA(a, b, c) _Generic((a), float: fmaf, double: fma)((a), (b), (c))
#else
#define SKK_FMA(a, b, c) ((a) * (b) + (c))
#endif

/* exp for float on [-87, 88]: Cody-Waite reduction and the Cephes degree-6 polynomial
 * (about 1 ulp). Vectorizes (no libm call). */
static inline float skk_expf_core(float x) {
  float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round(x/ln2) */
  float f = SKK_FMA(n, -0.693359375f, x);
  f = SKK_FMA(n, 2.12194440e-4f, f);
  float p = 1.9875691500e-4f;
  p = SKK_FMA(p, f, 1.3981999507e-3f);
  p = SKK_FMA(p, f, 8.3334519073e-3f);
  p = SKK_FMA(p, f, 4.1665795894e-2f);
  p = SKK_FMA(p, f, 1.6666665459e-1f);
  p = SKK_FMA(p, f, 5.0000001201e-1f);
  p = SKK_FMA(p * f, f, f + 1.0f);
  int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof(scale));
  return p * scale;
}

/* exp for float, arguments clamped to [-87, 88] (so exp(-huge) is ~1e-38, not 0). */
static inline float skk_expf(float x) {
  x = x < -87.0f ? -87.0f : x;
  return skk_expf_core(x > 88.0f ? 88.0f : x);
}

/* exp(x) for x <= 0 (softmax weights): only the lower clamp. */
static inline float skk_expf_neg(float x) { return skk_expf_core(x < -87.0f ? -87.0f : x); }


/* exp in the kernel's real type: the vectorizable float version, libm for double (the
 * double instance exists for finite-difference tests, not speed). */
#define SKK_EXP(x) _Generic((x), float: skk_expf, double: exp)(x)
#define SKK_EXP_NEG(x) _Generic((x), float: skk_expf_neg, double: exp)(x)

static inline int64_t skk_min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t skk_max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* Clamps a key/query offset into int32 tile-lane range [-1, T + 1]. */
static inline int32_t skk_lane_clamp(int64_t x) {
  return (int32_t)(x < -1 ? -1 : (x > SKK_T + 1 ? SKK_T + 1 : x));
}

/* Checks the parameter struct shared by the forward and backward kernels. */
static inline int skk_check_params(const struct skrt_attn_params *p) {
  if (!p)
    return skrt_error(SKRT_ERR_NULL, "attention: params is NULL");
  if (!p->q || !p->k || !p->v || !p->o || !p->u)
    return skrt_error(SKRT_ERR_NULL, "attention: tensor pointer %s is NULL",
                      !p->q ? "q" : !p->k ? "k" : !p->v ? "v" : !p->o ? "o" : "u");
  if (p->B < 1 || p->Hq < 1 || p->Hkv < 1 || p->N < 1 || p->D < 1)
    return skrt_error(SKRT_ERR_SHAPE,
                      "attention: B, Hq, Hkv, N, D must be >= 1, got %lld, %lld, %lld, %lld, "
                      "%lld",
                      (long long)p->B, (long long)p->Hq, (long long)p->Hkv, (long long)p->N,
                      (long long)p->D);
  if (p->Hq % p->Hkv != 0)
    return skrt_error(SKRT_ERR_SHAPE, "attention: Hq (%lld) is not a multiple of Hkv (%lld)",
                      (long long)p->Hq, (long long)p->Hkv);
  if (p->N > INT32_MAX - 2 * SKK_T)
    return skrt_error(SKRT_ERR_SHAPE, "attention: N = %lld is too large", (long long)p->N);
  if (p->topk < 1)
    return skrt_error(SKRT_ERR_ARG, "attention: k must be >= 1, got %lld", (long long)p->topk);
  if (p->window < 0)
    return skrt_error(SKRT_ERR_ARG, "attention: window must be >= 0, got %lld",
                      (long long)p->window);
  if (p->gate != SKRT_GATE_KV && p->gate != SKRT_GATE_V)
    return skrt_error(SKRT_ERR_ARG, "attention: gate must be 0 (kv) or 1 (v), got %d", p->gate);
  if (p->real_bits != (int)(8 * sizeof(SKK_REAL)))
    return skrt_error(SKRT_ERR_DTYPE, "attention: real_bits is %d, this kernel is built for %d",
                      p->real_bits, (int)(8 * sizeof(SKK_REAL)));
  if (SKK_DIM(p->D) != p->D)
    return skrt_error(SKRT_ERR_SHAPE, "attention: D is %lld, this kernel is built for D = %lld",
                      (long long)p->D, (long long)SKK_DIM(p->D));
  if (p->tile_q != 0 && p->tile_q != SKK_TILE_Q)
    return skrt_error(SKRT_ERR_ARG, "attention: tile_q is %lld, this kernel is built for %d",
                      (long long)p->tile_q, SKK_TILE_Q);
  if (!isfinite(p->scale))
    return skrt_error(SKRT_ERR_ARG, "attention: scale is not finite");
  return SKRT_OK;
}

/* Checks every score u[b,h,j] is finite; the message names the first bad one. */
static inline int skk_check_scores(const skk_real *u, int64_t B, int64_t H, int64_t N) {
  for (int64_t r = 0; r < B * H; ++r) {
    const skk_real *row = u + r * N;
    int bad = 0;
#pragma omp simd reduction(| : bad)
    for (int64_t j = 0; j < N; ++j)
      bad |= !isfinite(row[j]);
    if (!bad)
      continue;
    for (int64_t j = 0; j < N; ++j)
      if (!isfinite(row[j]))
        return skrt_error(SKRT_ERR_NONFINITE, "score u[b=%lld, h=%lld, j=%lld] is %g",
                          (long long)(r / H), (long long)(r % H), (long long)j,
                          (double)row[j]);
  }
  return SKRT_OK;
}

/* Element pointer of a (b, h, n) row of a strided (B, H, N, D) tensor. */
static inline const skk_real *skk_row(const void *base, const int64_t *stride, int64_t b,
                                      int64_t h, int64_t n) {
  return (const skk_real *)base + b * stride[0] + h * stride[1] + n * stride[2];
}

#endif
