/* skrt CPU attention entry points (attention.h): dispatch on p->real_bits to the fp32 and
 * fp64 instances of the fused kernels (cpu_attention_f32.c, cpu_attention_f64.c), and for
 * fp32 on the CPU: the AVX-512 instance (cpu_attention_f32_avx512.c) when it is supported. */
#include "skrt/attention.h"
#include "skrt/base.h"

int skrt_cpu_attention_forward_f32(const struct skrt_attn_params *p, struct skrt_context *ctx);
int skrt_cpu_attention_forward_f64(const struct skrt_attn_params *p, struct skrt_context *ctx);
int skrt_cpu_attention_backward_f32(const struct skrt_attn_params *p,
                                    const struct skrt_attn_grads *g, struct skrt_context *ctx);
int skrt_cpu_attention_backward_f64(const struct skrt_attn_params *p,
                                    const struct skrt_attn_grads *g, struct skrt_context *ctx);

int skrt_cpu_attention_forward_f32_avx512(const struct skrt_attn_params *p,
                                          struct skrt_context *ctx);
int skrt_cpu_attention_backward_f32_avx512(const struct skrt_attn_params *p,
                                           const struct skrt_attn_grads *g,
                                           struct skrt_context *ctx);

/* Whether this CPU runs the AVX-512 instance (x86-64 with gcc only). */
static int skrt_cpu_avx512(void) {
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx2");
#else
  return 0;
#endif
}

int skrt_cpu_attention_forward(const struct skrt_attn_params *p, struct skrt_context *ctx) {
  if (!p)
    return skrt_error(SKRT_ERR_NULL, "attention forward: params is NULL");
  if (p->real_bits == 32)
    return skrt_cpu_avx512() ? skrt_cpu_attention_forward_f32_avx512(p, ctx)
                             : skrt_cpu_attention_forward_f32(p, ctx);
  if (p->real_bits == 64)
    return skrt_cpu_attention_forward_f64(p, ctx);
  return skrt_error(SKRT_ERR_DTYPE, "attention forward: real_bits must be 32 or 64, got %d",
                    p->real_bits);
}

int skrt_cpu_attention_backward(const struct skrt_attn_params *p,
                                const struct skrt_attn_grads *g, struct skrt_context *ctx) {
  if (!p)
    return skrt_error(SKRT_ERR_NULL, "attention backward: params is NULL");
  if (p->real_bits == 32)
    return skrt_cpu_avx512() ? skrt_cpu_attention_backward_f32_avx512(p, g, ctx)
                             : skrt_cpu_attention_backward_f32(p, g, ctx);
  if (p->real_bits == 64)
    return skrt_cpu_attention_backward_f64(p, g, ctx);
  return skrt_error(SKRT_ERR_DTYPE, "attention backward: real_bits must be 32 or 64, got %d",
                    p->real_bits);
}
