// PENDING (the .pending suffix keeps lit from collecting it): passes once codegen/emit_cuda.c
// writes the --decode entries and codegen.c stops refusing cuda + --decode; then rename it to
// decode_cuda.mlir (and decode_cuda_nvcc.test.pending to decode_cuda_nvcc.test).
// Golden text of `skc --target=cuda --emit=cuda --decode` (emit_decode.c on the cuda target):
// <name>_kv_cache_create makes a device cache of the layer's dtype (skrt_cuda_kv_cache_create),
// <name>_decode checks kDLCUDA tensors and the cache's device and dtype, computes each token's
// scores on the GPU from the strided score input (skrt_kv_cache_scores_strided into a
// stream-ordered buffer) and steps the cache; 16-bit tensors are addressed as uint16_t. The
// output is deterministic, and the CPU target's --decode text is unchanged (emit_c.mlir).
// decode_cuda_nvcc.test compiles it with nvcc -Werror; test/e2e/cuda/decode_run.sh runs it.
// RUN: rm -rf %t && mkdir -p %t/a %t/b
// RUN: skc --target=cuda --emit=cuda --decode --sparsek-score=keys --sparsek-k=16 --sparsek-window=8 %s -o %t/a
// RUN: skc --target=cuda --emit=cuda --decode --sparsek-score=keys --sparsek-k=16 --sparsek-window=8 %s -o %t/b
// RUN: cmp %t/a/decode_cuda.cu %t/b/decode_cuda.cu
// RUN: FileCheck %s --check-prefix=H < %t/a/decode_cuda.h
// RUN: FileCheck %s --check-prefix=CU < %t/a/decode_cuda.cu

// H: #include "skrt/kv_cache.h"
// H-LABEL: /* layer_kv_cache_create: a KV cache (skrt/kv_cache.h) for `layers` layers like @layer and
// H-NEXT: * B sequences; max_positions 0 means SKRT_KV_MAX_POSITIONS. Free it with skrt_kv_cache_destroy.
// H-NEXT: * CUDA: a device cache on the current device (skrt_cuda_kv_cache_create). */
// H-NEXT: int layer_kv_cache_create(int64_t layers, int64_t B, int64_t max_positions,
// H: * CUDA: the cache is a device cache (skrt_cuda_kv_cache_create, K/V stored in q's type);
// H-NEXT: * every tensor is a kDLCUDA tensor and the work runs on the stream of ctx; each token's
// H: int layer_decode(struct skrt_kv_cache *cache, int64_t layer, const DLTensor *q,
// H-LABEL: int bf16_input_kv_cache_create(
// H: int bf16_input_decode(struct skrt_kv_cache *cache, int64_t layer, const DLTensor *q,

// CU-LABEL: int layer_kv_cache_create(int64_t layers, int64_t B, int64_t max_positions,
// CU: cfg.layers = layers, cfg.B = B, cfg.Hq = 8, cfg.Hkv = 2, cfg.D = 32;
// CU: cfg.dtype = SKRT_KV_F32, cfg.device = SKRT_KV_DEVICE_CUDA;
// CU-NEXT: return skrt_cuda_kv_cache_create(&cfg, NULL, out);
// CU-LABEL: int layer_decode(struct skrt_kv_cache *cache, int64_t layer, const DLTensor *q,
// CU: if ((st = skrt_dl_check(q, "q", 4, shape, kDLFloat, 32, kDLCUDA, 1)) != SKRT_OK)
// CU: T = q->shape[2];
// CU: if (cfg.device != SKRT_KV_DEVICE_CUDA || cfg.dtype != SKRT_KV_F32)
// CU-NEXT: return skrt_error(SKRT_ERR_DEVICE, "layer_decode: the cache (device %d, dtype %d) is not a CUDA cache of this layer's dtype (%d); use layer_kv_cache_create",
// CU: cudaStream_t stream = (cudaStream_t)skrt_context_cuda_stream(ctx);
// CU: if (cudaMallocAsync((void **)&ut, (size_t)(cfg.B * 2) * sizeof(float), stream) != cudaSuccess)
// CU: for (int64_t t = 0; t < T && st == SKRT_OK; ++t) {
// CU-NEXT: const void *xt = (const float *)skrt_dl_data(k) + t * st_k[2];
// CU-NEXT: int64_t xst[2] = {st_k[0], st_k[1]};
// CU-NEXT: st = skrt_kv_cache_scores_strided(cache, layer, SKRT_SCORE_KEYS, xt, xst, SKC_S0_F, (const float *)skrt_dl_data(w_score),
// CU-NEXT: (const float *)skrt_dl_data(b_score), SKC_S0_SLOPE, ut, ctx);
// CU: io.q = (const float *)skrt_dl_data(q) + t * st_q[2];
// CU: io.o = (float *)skrt_dl_data(out) + t * st_out[2];
// CU: io.u = ut;
// CU-NEXT: io.u_stride[0] = 2, io.u_stride[1] = 1, io.u_stride[2] = 0;
// CU-NEXT: st = skrt_kv_cache_forward(cache, layer, 1, &io, ctx);
// CU: cudaFreeAsync(ut, stream);
// CU-LABEL: int bf16_input_kv_cache_create(
// CU: cfg.dtype = SKRT_KV_BF16, cfg.device = SKRT_KV_DEVICE_CUDA;
// CU-LABEL: int bf16_input_decode(
// CU: if ((st = skrt_dl_check(q, "q", 4, shape, kDLBfloat, 16, kDLCUDA, 1)) != SKRT_OK)
// CU: if (cfg.device != SKRT_KV_DEVICE_CUDA || cfg.dtype != SKRT_KV_BF16)
// CU: const void *xt = (const float *)skrt_dl_data(u_in) + t * st_u_in[2];
// CU-NEXT: int64_t xst[2] = {st_u_in[0], st_u_in[1]};
// CU-NEXT: st = skrt_kv_cache_scores_strided(cache, layer, SKRT_SCORE_INPUT, xt, xst, 0, NULL,
// CU: io.q = (const uint16_t *)skrt_dl_data(q) + t * st_q[2];
// CU: io.o = (uint16_t *)skrt_dl_data(out) + t * st_out[2];

func.func @layer(%q: tensor<?x8x?x32xf32>, %k: tensor<?x2x?x32xf32>, %v: tensor<?x2x?x32xf32>) -> tensor<?x8x?x32xf32> {
  %o = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.17 : f64, causal = true} : (tensor<?x8x?x32xf32>, tensor<?x2x?x32xf32>, tensor<?x2x?x32xf32>) -> tensor<?x8x?x32xf32>
  return %o : tensor<?x8x?x32xf32>
}

func.func @bf16_input(%q: tensor<2x4x40x64xbf16>, %k: tensor<2x2x40x64xbf16>, %v: tensor<2x2x40x64xbf16>, %u_in: tensor<2x2x40xf32>) -> tensor<2x4x40x64xbf16> {
  %u = "sparsek.score"(%u_in) {mode = "input", slope = 0.01 : f64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<2x2x40xf32>) -> tensor<2x2x40xf32>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 6 : i64, window = 3 : i64, gate = "v", scale = 0.125 : f64, causal = true} : (tensor<2x4x40x64xbf16>, tensor<2x2x40x64xbf16>, tensor<2x2x40x64xbf16>, tensor<2x2x40xf32>) -> tensor<2x4x40x64xbf16>
  return %o : tensor<2x4x40x64xbf16>
}
