/* CUDA SparseK attention, tensor-core path (bf16/fp16 storage, fp32 accumulation). */
#ifndef SKRT_KERNELS_CUDA_ATTN_MMA_CUH
#define SKRT_KERNELS_CUDA_ATTN_MMA_CUH

#include "kernels/cuda_attn_simple.cuh"

template <typename T, int D> constexpr bool skrt_mma_supported() { return false; }

template <typename T, int D>
int skrt_attn_fwd_mma_launch(const skrt_cuda_layer &, const skrt_cuda_sel &, cudaStream_t) {
  return 0;
}
template <typename T, int D>
int skrt_attn_bwd_mma_launch(const skrt_cuda_layer &, const skrt_cuda_sel &,
                             const skrt_cuda_grads &, cudaStream_t) {
  return 0;
}
#endif
