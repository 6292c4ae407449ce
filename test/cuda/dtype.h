/* Shared by the GPU suites (test_cuda.cu, test_decode.cu): the CUDA error check and the
 * storage types of the runtime's device data - enum skrt_cuda_dtype and enum skrt_kv_dtype
 * have the same values (0 fp32, 1 bf16, 2 fp16): element size, rounding a host vector to the
 * storage type (in place, what the GPU then sees) with its bytes, and reading one element. */
#ifndef SKRT_TEST_CUDA_DTYPE_H
#define SKRT_TEST_CUDA_DTYPE_H

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "skrt/cuda.h"
#include "skrt/kv_cache.h"

static_assert(SKRT_CUDA_F32 == (int)SKRT_KV_F32 && SKRT_CUDA_BF16 == (int)SKRT_KV_BF16 &&
                  SKRT_CUDA_F16 == (int)SKRT_KV_F16,
              "the suites share one storage-type encoding");

#define CK(x)                                                                                      \
  do {                                                                                             \
    cudaError_t e_ = (x);                                                                          \
    if (e_ != cudaSuccess) {                                                                       \
      std::printf("cuda error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__);         \
      std::exit(2);                                                                                \
    }                                                                                              \
  } while (0)

static inline size_t dtype_size(int dtype) { return dtype == SKRT_CUDA_F32 ? 4 : 2; }

/* x rounded to the storage type (in place) and its bytes. */
static inline std::vector<unsigned char> dtype_round_bytes(std::vector<double> &x, int dtype) {
  std::vector<unsigned char> out(x.size() * dtype_size(dtype));
  for (size_t i = 0; i < x.size(); ++i) {
    if (dtype == SKRT_CUDA_F32) {
      float f = (float)x[i];
      x[i] = f;
      std::memcpy(&out[i * 4], &f, 4);
    } else if (dtype == SKRT_CUDA_BF16) {
      __nv_bfloat16 h = __float2bfloat16((float)x[i]);
      x[i] = __bfloat162float(h);
      std::memcpy(&out[i * 2], &h, 2);
    } else {
      __half h = __float2half((float)x[i]);
      x[i] = __half2float(h);
      std::memcpy(&out[i * 2], &h, 2);
    }
  }
  return out;
}

/* The element at p (host bytes of the storage type) as a double. */
static inline double dtype_read(const unsigned char *p, int dtype) {
  if (dtype == SKRT_CUDA_F32) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  if (dtype == SKRT_CUDA_BF16) {
    __nv_bfloat16 h;
    std::memcpy(&h, p, 2);
    return __bfloat162float(h);
  }
  __half h;
  std::memcpy(&h, p, 2);
  return __half2float(h);
}

#endif
