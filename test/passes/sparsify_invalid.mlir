// Sparsify errors: hidden mode without a key projection, and bad per-op overrides.
// RUN: not skc-opt --skc-sparsify --split-input-file %s 2>&1 | FileCheck %s --implicit-check-not=error:

// CHECK: sparsify_invalid.mlir:[[@LINE+2]]:8: error: score mode "hidden" needs the hidden states that the key projection reads, but 'k' is not computed by a projection of a (B, N, F) tensor in this function; use --sparsek-score=keys or --sparsek-score=input
func.func @no_projection(%q: tensor<2x4x64x16xf32>, %k: tensor<2x4x64x16xf32>, %v: tensor<2x4x64x16xf32>) -> tensor<2x4x64x16xf32> {
  %0 = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.25 : f64, causal = true} : (tensor<2x4x64x16xf32>, tensor<2x4x64x16xf32>, tensor<2x4x64x16xf32>) -> tensor<2x4x64x16xf32>
  return %0 : tensor<2x4x64x16xf32>
}

// -----
// CHECK: sparsify_invalid.mlir:[[@LINE+2]]:8: error: attribute 'sparsek.gate' must be "kv" or "v", got "qk"
func.func @bad_gate(%a: tensor<1x1x8x4xf32>) -> tensor<1x1x8x4xf32> {
  %0 = "sparsek.dense_attention"(%a, %a, %a) {scale = 0.5 : f64, causal = true, sparsek.gate = "qk"} : (tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>) -> tensor<1x1x8x4xf32>
  return %0 : tensor<1x1x8x4xf32>
}

// -----
// CHECK: sparsify_invalid.mlir:[[@LINE+2]]:8: error: attribute 'sparsek.score' must be "hidden", "keys" or "input", got "queries"
func.func @bad_score(%a: tensor<1x1x8x4xf32>) -> tensor<1x1x8x4xf32> {
  %0 = "sparsek.dense_attention"(%a, %a, %a) {scale = 0.5 : f64, causal = true, sparsek.score = "queries"} : (tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>) -> tensor<1x1x8x4xf32>
  return %0 : tensor<1x1x8x4xf32>
}

// -----
// CHECK: sparsify_invalid.mlir:[[@LINE+2]]:8: error: sparsek.k must be >= 1 and sparsek.window >= 0, got k = 0, window = 64
func.func @bad_k(%a: tensor<1x1x8x4xf32>) -> tensor<1x1x8x4xf32> {
  %0 = "sparsek.dense_attention"(%a, %a, %a) {scale = 0.5 : f64, causal = true, sparsek.k = 0 : i64, sparsek.score = "keys"} : (tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>) -> tensor<1x1x8x4xf32>
  return %0 : tensor<1x1x8x4xf32>
}
