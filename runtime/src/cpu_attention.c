/* skrt CPU attention entry points (attention.h): dispatch on p->real_bits to the fp32 and
 * fp64 instances of the fused kernels (cpu_attention_f32.c, cpu_attention_f64.c). */
#include "skrt/attention.h"
#include "skrt/base.h"

int skrt_cpu_attention_forward_f32(const struct skrt_attn_params *p, struct skrt_context *ctx);
int skrt_cpu_attention_forward_f64(const struct skrt_attn_params *p, struct skrt_context *ctx);
int skrt_cpu_attention_backward_f32(const struct skrt_attn_params *p,
                                    const struct skrt_attn_grads *g, struct skrt_context *ctx);
int skrt_cpu_attention_backward_f64(const struct skrt_attn_params *p,
                                    const struct skrt_attn_grads *g, struct skrt_context *ctx);

int skrt_cpu_attention_forward(const struct skrt_attn_params *p, struct skrt_context *ctx) {
  if (!p)
    return skrt_error(SKRT_ERR_NULL, "attention forward: params is NULL");
  if (p->real_bits == 32)
    return skrt_cpu_attention_forward_f32(p, ctx);
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
    return skrt_cpu_attention_backward_f32(p, g, ctx);
  if (p->real_bits == 64)
    return skrt_cpu_attention_backward_f64(p, g, ctx);
  return skrt_error(SKRT_ERR_DTYPE, "attention backward: real_bits must be 32 or 64, got %d",
                    p->real_bits);
}
