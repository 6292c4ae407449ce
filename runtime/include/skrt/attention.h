/* skrt attention kernels: the one parameter struct every kernel takes (every stride
 * spelled out, FlashAttention style), the CPU entry points, and the DLPack argument checks
 * that generated libraries call before launching a kernel.
 *
 * Kernel bodies live in runtime/kernels/ as headers of static inline functions; generated
 * code includes them with its specialization constants fixed (see kernels/README.md). The
 * entry points below are generic instances compiled into libskrt (runtime D and tiles). */
#ifndef SKRT_ATTENTION_H
#define SKRT_ATTENTION_H

#include <stdint.h>
#include <dlpack/dlpack.h>
#include "skrt/base.h"

#ifdef __cplusplus
extern "C" {
#endif

struct skrt_context;

/* One SparseK attention layer (S5-S11). Tensor pointers are typed by `real_bits`
 * (32: float, 64: double; double exists for finite-difference test builds). The head-dim
 * axis of q, k, v, o is contiguous; the other strides are element strides of (b, h, n).
 * u is (B, Hkv, N) contiguous. Saved state pointers may be NULL when not wanted. */
struct skrt_attn_params {
  int64_t B, Hq, Hkv, N, D;
  int64_t topk;   /* k >= 1 (S8) */
  int64_t window; /* w >= 0 (S6) */
  int gate;       /* enum skrt_gate */
  int real_bits;  /* 32 or 64 */
  double scale;   /* S9 logit scale */

  const void *q, *k, *v; /* (B,Hq,N,D), (B,Hkv,N,D), (B,Hkv,N,D) */
  void *o;               /* (B,Hq,N,D) */
  int64_t q_stride[3], k_stride[3], v_stride[3], o_stride[3];
  const void *u; /* (B,Hkv,N) scores, contiguous */

  /* saved state for the backward (S11), contiguous, optional in the forward */
  void *lse;      /* (B,Hq,N)  row log-sum-exp of the logits s_ij */
  void *tau;      /* (B,Hkv,N) gate thresholds */
  int32_t *nfree; /* (B,Hkv,N) |F_i| */

  int64_t tile_q; /* query tile; 0 = kernel default */
};

/* Gradients of one layer (S11); all contiguous like their primal, overwritten. */
struct skrt_attn_grads {
  const void *dout; /* (B,Hq,N,D) */
  void *dq, *dk, *dv; /* like q, k, v */
  void *du;           /* (B,Hkv,N) */
};

/* Forward: o (and the saved state when its pointers are set). Checks u is finite. */
int skrt_cpu_attention_forward(const struct skrt_attn_params *p, struct skrt_context *ctx);

/* Backward from the forward's output and saved state (p->o, lse, tau and nfree must be the
 * forward's) and dout. Deterministic for a fixed thread count. */
int skrt_cpu_attention_backward(const struct skrt_attn_params *p,
                                const struct skrt_attn_grads *g, struct skrt_context *ctx);

/* ---- DLPack argument checks used by generated entry points --------------------------- */

/* Checks that t is non-NULL, has data, lives on `device_type`, has dtype (code, bits, 1
 * lane), rank ndim and, for every shape[i] >= 0, that extent. shape[i] < 0 is dynamic.
 * Only row-major contiguous strides (or NULL) are accepted unless allow_strided is set;
 * with allow_strided the last dimension must still have unit stride (kernels need it).
 * The message names the tensor (`name`), the property, expected and actual. */
int skrt_dl_check(const DLTensor *t, const char *name, int ndim, const int64_t *shape,
                  uint8_t code, uint8_t bits, DLDeviceType device_type, int allow_strided);

/* Element strides of t (row-major when t->strides is NULL) into out[0..ndim). */
void skrt_dl_strides(const DLTensor *t, int64_t *out);

/* First byte of t's data (data + byte_offset). */
void *skrt_dl_data(const DLTensor *t);

#ifdef __cplusplus
}
#endif
#endif
