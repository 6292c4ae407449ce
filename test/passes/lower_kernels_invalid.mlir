// RUN: not skc-opt --skc-lower-kernels --split-input-file %s 2>&1 | FileCheck %s --implicit-check-not=error:
// Negative cases of lower-kernels: each error is at the offending op's location and names
// the op, the operand and what is wrong.

// CHECK: lower_kernels_invalid.mlir:[[@LINE+3]]:8: error: sparsek.attention: head dim D of operand 'q' (dimension 3) is dynamic; the kernels are specialized on a static head dim D
func.func @dynamic_d(%q: tensor<1x2x8x?xf32>, %k: tensor<1x2x8x?xf32>, %v: tensor<1x2x8x?xf32>, %ui: tensor<1x2x8xf32>) -> tensor<1x2x8x?xf32> {
  %u = "sparsek.score"(%ui) {mode = "input", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<1x2x8xf32>) -> tensor<1x2x8xf32>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 2 : i64, window = 2 : i64, gate = "kv", scale = 0.5 : f64, causal = true} : (tensor<1x2x8x?xf32>, tensor<1x2x8x?xf32>, tensor<1x2x8x?xf32>, tensor<1x2x8xf32>) -> tensor<1x2x8x?xf32>
  return %o : tensor<1x2x8x?xf32>
}

// -----
// CHECK: lower_kernels_invalid.mlir:[[@LINE+3]]:8: error: sparsek.attention: head count Hkv of operand 'k' (dimension 1) is dynamic; the kernels are specialized on a static head count Hkv
func.func @dynamic_heads(%q: tensor<1x2x8x4xf32>, %k: tensor<1x?x8x4xf32>, %v: tensor<1x?x8x4xf32>, %ui: tensor<1x?x8xf32>) -> tensor<1x2x8x4xf32> {
  %u = "sparsek.score"(%ui) {mode = "input", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<1x?x8xf32>) -> tensor<1x?x8xf32>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 2 : i64, window = 2 : i64, gate = "kv", scale = 0.5 : f64, causal = true} : (tensor<1x2x8x4xf32>, tensor<1x?x8x4xf32>, tensor<1x?x8x4xf32>, tensor<1x?x8xf32>) -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----
// CHECK: lower_kernels_invalid.mlir:[[@LINE+3]]:8: error: sparsek.attention: operand 'q' has an element type the cpu kernels do not support (expected f32 or f64)
func.func @bf16(%q: tensor<1x2x8x4xbf16>, %ui: tensor<1x2x8xf32>) -> tensor<1x2x8x4xbf16> {
  %u = "sparsek.score"(%ui) {mode = "input", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<1x2x8xf32>) -> tensor<1x2x8xf32>
  %o = "sparsek.attention"(%q, %q, %q, %u) {k = 2 : i64, window = 2 : i64, gate = "kv", scale = 0.5 : f64, causal = true} : (tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<1x2x8xf32>) -> tensor<1x2x8x4xbf16>
  return %o : tensor<1x2x8x4xbf16>
}

// -----
// CHECK: lower_kernels_invalid.mlir:[[@LINE+2]]:8: error: sparsek.attention: operand 'u' must be produced by sparsek.score
func.func @raw_u(%q: tensor<1x2x8x4xf32>, %u: tensor<1x2x8xf32>) -> tensor<1x2x8x4xf32> {
  %o = "sparsek.attention"(%q, %q, %q, %u) {k = 2 : i64, window = 2 : i64, gate = "kv", scale = 0.5 : f64, causal = true} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>) -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----
// CHECK: lower_kernels_invalid.mlir:[[@LINE+3]]:8: error: sparsek.attention: attribute 'tile_q' must be a multiple of 8 in [8, 256], got 12
func.func @bad_tile(%q: tensor<1x2x8x4xf32>, %ui: tensor<1x2x8xf32>) -> tensor<1x2x8x4xf32> {
  %u = "sparsek.score"(%ui) {mode = "input", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<1x2x8xf32>) -> tensor<1x2x8xf32>
  %o = "sparsek.attention"(%q, %q, %q, %u) {k = 2 : i64, window = 2 : i64, gate = "kv", scale = 0.5 : f64, causal = true, tile_q = 12 : i64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>) -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----
// CHECK: lower_kernels_invalid.mlir:[[@LINE+2]]:8: error: sparsek.score: feature width F of operand 'w_score' (dimension 1) is dynamic; the kernels are specialized on a static feature width F
func.func @dynamic_f(%x: tensor<1x8x?xf32>, %w: tensor<2x?xf32>, %b: tensor<2xf32>) -> tensor<1x2x8xf32> {
  %u = "sparsek.score"(%x, %w, %b) {mode = "hidden", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<1x8x?xf32>, tensor<2x?xf32>, tensor<2xf32>) -> tensor<1x2x8xf32>
  return %u : tensor<1x2x8xf32>
}
