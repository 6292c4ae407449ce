/* libskrt_cuda: the scoring network S5 on the GPU (forward and gradients), C entry points of
 * skrt/cuda.h over the kernels of kernels/cuda_grad.cuh. */
#include <cuda_runtime.h>

#include "kernels/cuda_grad.cuh"
#include "skrt/cuda.h"
#include "skrt/sparsek.h"

namespace {

int64_t nblk(int64_t n) { return (n + 255) / 256; }

int check_scores(const struct skrt_cuda_scores *s, int dtype, const char *fn) {
  if (!s || !s->u)
    return skrt_error(SKRT_ERR_NULL, "%s: scores or u is NULL", fn);
  if (s->B < 1 || s->Hkv < 1 || s->N < 1 || (s->mode != SKRT_SCORE_INPUT && s->F < 1))
    return skrt_error(SKRT_ERR_SHAPE, "%s: bad shape", fn);
  if (s->mode < SKRT_SCORE_HIDDEN || s->mode > SKRT_SCORE_INPUT)
    return skrt_error(SKRT_ERR_ARG, "%s: unknown score mode %d", fn, s->mode);
  if (s->mode == SKRT_SCORE_INPUT ? !s->u_in : (!s->x || !s->w_score || !s->b_score))
    return skrt_error(SKRT_ERR_NULL, "%s: a score input is NULL", fn);
  if (dtype < SKRT_CUDA_F32 || dtype > SKRT_CUDA_F16)
    return skrt_error(SKRT_ERR_DTYPE, "%s: unknown dtype %d", fn, dtype);
  return SKRT_OK;
}

template <typename T> void scores_fwd(const struct skrt_cuda_scores *s, cudaStream_t st) {
  int64_t n = s->B * s->Hkv * s->N;
  skrt_scores_fwd_kernel<T><<<nblk(n), 256, 0, st>>>(s->B, s->Hkv, s->N, s->F, s->mode, s->slope,
                                                     (const T *)s->x, s->w_score, s->b_score,
                                                     s->u_in, s->u);
}

template <typename T>
void scores_bwd(const struct skrt_cuda_scores *s, const float *du, void *dx, float *dw, float *db,
                float *dslope, cudaStream_t st) {
  int64_t B = s->B, H = s->Hkv, N = s->N, F = s->F;
  if (dslope)
    skrt_scores_dslope_kernel<256><<<1, 256, 0, st>>>(B * H * N, N, du, dslope);
  if (s->mode == SKRT_SCORE_INPUT)
    return;
  if (dw || db)
    skrt_scores_dw_kernel<T, 256><<<dim3((unsigned)F + 1, (unsigned)H), 256, 0, st>>>(
        B, H, N, F, s->mode, (const T *)s->x, du, dw, db);
  if (dx) {
    int64_t n = s->mode == SKRT_SCORE_HIDDEN ? B * N * F : B * H * N * F;
    skrt_scores_dx_kernel<T><<<nblk(n), 256, 0, st>>>(B, H, N, F, s->mode, du, s->w_score, (T *)dx);
  }
}

int last_error(const char *fn) {
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess)
    return skrt_error(SKRT_ERR_CUDA, "%s: %s", fn, cudaGetErrorString(e));
  return SKRT_OK;
}

} // namespace

extern "C" int skrt_cuda_scores_forward(const struct skrt_cuda_scores *s, int dtype,
                                        struct skrt_context *ctx) {
  int r = check_scores(s, dtype, "skrt_cuda_scores_forward");
  if (r)
    return r;
  cudaStream_t st = (cudaStream_t)skrt_context_cuda_stream(ctx);
  if (dtype == SKRT_CUDA_F32)
    scores_fwd<float>(s, st);
  else if (dtype == SKRT_CUDA_BF16)
    scores_fwd<__nv_bfloat16>(s, st);
  else
    scores_fwd<__half>(s, st);
  return last_error("skrt_cuda_scores_forward");
}

extern "C" int skrt_cuda_scores_backward(const struct skrt_cuda_scores *s, const float *du,
                                         void *dx, float *dw, float *db, float *dslope, int dtype,
                                         struct skrt_context *ctx) {
  int r = check_scores(s, dtype, "skrt_cuda_scores_backward");
  if (r)
    return r;
  if (!du)
    return skrt_error(SKRT_ERR_NULL, "skrt_cuda_scores_backward: du is NULL");
  cudaStream_t st = (cudaStream_t)skrt_context_cuda_stream(ctx);
  if (dtype == SKRT_CUDA_F32)
    scores_bwd<float>(s, du, dx, dw, db, dslope, st);
  else if (dtype == SKRT_CUDA_BF16)
    scores_bwd<__nv_bfloat16>(s, du, dx, dw, db, dslope, st);
  else
    scores_bwd<__half>(s, du, dx, dw, db, dslope, st);
  return last_error("skrt_cuda_scores_backward");
}
