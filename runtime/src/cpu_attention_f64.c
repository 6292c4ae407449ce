/* skrt CPU attention, fp64 instance: the fused kernels of runtime/kernels/ compiled with
 * SKK_REAL = double (for finite-difference and reference tests), runtime head dim and the
 * default query tile. Reached through the real_bits dispatch of cpu_attention.c. */
#define SKK_REAL double
#include "kernels/cpu_attention_fwd.h"
#include "kernels/cpu_attention_bwd.h"

int skrt_cpu_attention_forward_f64(const struct skrt_attn_params *p, struct skrt_context *ctx);
int skrt_cpu_attention_backward_f64(const struct skrt_attn_params *p,
                                    const struct skrt_attn_grads *g, struct skrt_context *ctx);

int skrt_cpu_attention_forward_f64(const struct skrt_attn_params *p, struct skrt_context *ctx) {
  return skk_attention_forward(p, ctx);
}

int skrt_cpu_attention_backward_f64(const struct skrt_attn_params *p,
                                    const struct skrt_attn_grads *g, struct skrt_context *ctx) {
  return skk_attention_backward(p, g, ctx);
}
