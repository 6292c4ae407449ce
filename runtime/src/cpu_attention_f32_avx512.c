/* skrt CPU attention, fp32 instance for x86-64 CPUs with AVX-512 and FMA: the same fused
 * kernels as cpu_attention_f32.c, compiled for that target (and -O3) inside libskrt's
 * portable -O2 build, so callers of skrt_cpu_attention_forward/_backward get vector code
 * close to what generated code gets with -march=native. cpu_attention.c picks it at run
 * time when the CPU has the features; on other targets this file is the generic instance. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#pragma GCC optimize("O3")
#pragma GCC target("avx2,fma,avx512f,avx512dq,avx512bw,avx512vl")
#endif
#define SKK_REAL float
#include "kernels/cpu_attention_fwd.h"
#include "kernels/cpu_attention_bwd.h"

int skrt_cpu_attention_forward_f32_avx512(const struct skrt_attn_params *p,
                                          struct skrt_context *ctx);
int skrt_cpu_attention_backward_f32_avx512(const struct skrt_attn_params *p,
                                           const struct skrt_attn_grads *g,
                                           struct skrt_context *ctx);

int skrt_cpu_attention_forward_f32_avx512(const struct skrt_attn_params *p,
                                          struct skrt_context *ctx) {
  return skk_attention_forward(p, ctx);
}

int skrt_cpu_attention_backward_f32_avx512(const struct skrt_attn_params *p,
                                           const struct skrt_attn_grads *g,
                                           struct skrt_context *ctx) {
  return skk_attention_backward(p, g, ctx);
}
