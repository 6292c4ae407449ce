// One case per rule of the verify pass (passes/verify.c), each checking the exact message
// and location. Generated cases share the prefix; every CHECK names its line.
// RUN: not skc-opt --skc-verify --split-input-file %s 2>&1 | FileCheck %s --implicit-check-not=error:

func.func @rank(%q: tensor<16x8xf32>, %k: tensor<16x8xf32>, %v: tensor<16x8xf32>) -> tensor<16x8xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.dense_attention: operand 'q' has rank 2, expected 3 or 4
  %0 = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.5 : f64, causal = true} : (tensor<16x8xf32>, tensor<16x8xf32>, tensor<16x8xf32>) -> tensor<16x8xf32>
  return %0 : tensor<16x8xf32>
}


// -----

func.func @rank_k(%q: tensor<1x4x16x8xf32>, %k: tensor<2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.dense_attention: operand 'k' has rank 3, expected 4 (the rank of 'q')
  %0 = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.5 : f64, causal = true} : (tensor<1x4x16x8xf32>, tensor<2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32>
  return %0 : tensor<1x4x16x8xf32>
}


// -----

func.func @elem_int(%q: tensor<1x4x16x8xi32>, %k: tensor<1x2x16x8xi32>, %v: tensor<1x2x16x8xi32>) -> tensor<1x4x16x8xi32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.dense_attention: operand 'q' has element type i32, expected f32, f64, f16 or bf16
  %0 = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.5 : f64, causal = true} : (tensor<1x4x16x8xi32>, tensor<1x2x16x8xi32>, tensor<1x2x16x8xi32>) -> tensor<1x4x16x8xi32>
  return %0 : tensor<1x4x16x8xi32>
}


// -----

func.func @elem_mismatch(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf16>, %v: tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.dense_attention: operand 'k' has element type f16, expected f32 (the element type of 'q')
  %0 = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.5 : f64, causal = true} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32>
  return %0 : tensor<1x4x16x8xf32>
}


// -----

func.func @batch(%q: tensor<1x4x16x8xf32>, %k: tensor<2x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.dense_attention: operand 'k' has B = 2, expected 1 (B of 'q')
  %0 = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.5 : f64, causal = true} : (tensor<1x4x16x8xf32>, tensor<2x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32>
  return %0 : tensor<1x4x16x8xf32>
}


// -----

func.func @seq(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x15x8xf32>) -> tensor<1x4x16x8xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.dense_attention: operand 'v' has N = 15, expected 16 (N of 'q')
  %0 = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.5 : f64, causal = true} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x15x8xf32>) -> tensor<1x4x16x8xf32>
  return %0 : tensor<1x4x16x8xf32>
}


// -----

func.func @headdim(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x4xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.dense_attention: operand 'k' has D = 4, expected 8 (D of 'q')
  %0 = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.5 : f64, causal = true} : (tensor<1x4x16x8xf32>, tensor<1x2x16x4xf32>, tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32>
  return %0 : tensor<1x4x16x8xf32>
}


// -----

func.func @kv_heads(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x1x16x8xf32>) -> tensor<1x4x16x8xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.dense_attention: operand 'v' has Hkv = 1, expected 2 (Hkv of 'k')
  %0 = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.5 : f64, causal = true} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x1x16x8xf32>) -> tensor<1x4x16x8xf32>
  return %0 : tensor<1x4x16x8xf32>
}


// -----

func.func @gqa(%q: tensor<1x4x16x8xf32>, %k: tensor<1x3x16x8xf32>, %v: tensor<1x3x16x8xf32>) -> tensor<1x4x16x8xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.dense_attention: query heads Hq = 4 of 'q' must be a multiple of key/value heads Hkv = 3 of 'k'
  %0 = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.5 : f64, causal = true} : (tensor<1x4x16x8xf32>, tensor<1x3x16x8xf32>, tensor<1x3x16x8xf32>) -> tensor<1x4x16x8xf32>
  return %0 : tensor<1x4x16x8xf32>
}


// -----

func.func @rank3_batch(%q: tensor<8x16x8xf32>, %k: tensor<4x16x8xf32>, %v: tensor<8x16x8xf32>) -> tensor<8x16x8xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.dense_attention: operand 'k' has B = 4, expected 8 (B of 'q')
  %0 = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.5 : f64, causal = true} : (tensor<8x16x8xf32>, tensor<4x16x8xf32>, tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  return %0 : tensor<8x16x8xf32>
}


// -----

func.func @scale(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.dense_attention: attribute 'scale' must be > 0, got -1
  %0 = "sparsek.dense_attention"(%q, %k, %v) {scale = -1.0 : f64, causal = true} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32>
  return %0 : tensor<1x4x16x8xf32>
}


// -----

func.func @causal(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.dense_attention: attribute 'causal' must be true: only causal attention is supported
  %0 = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.5 : f64, causal = false} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32>
  return %0 : tensor<1x4x16x8xf32>
}


// -----

func.func @topk(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %u: tensor<1x2x16xf32>) -> tensor<1x4x16x8xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.attention: attribute 'k' must be >= 1, got 0
  %0 = "sparsek.attention"(%q, %k, %v, %u) {k = 0 : i64, window = 1 : i64, gate = "kv", scale = 0.5 : f64, causal = true} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16xf32>) -> tensor<1x4x16x8xf32>
  return %0 : tensor<1x4x16x8xf32>
}


// -----

func.func @window(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %u: tensor<1x2x16xf32>) -> tensor<1x4x16x8xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.attention: attribute 'window' must be >= 0, got -3
  %0 = "sparsek.attention"(%q, %k, %v, %u) {k = 2 : i64, window = -3 : i64, gate = "kv", scale = 0.5 : f64, causal = true} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16xf32>) -> tensor<1x4x16x8xf32>
  return %0 : tensor<1x4x16x8xf32>
}


// -----

func.func @gate(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %u: tensor<1x2x16xf32>) -> tensor<1x4x16x8xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.attention: attribute 'gate' must be "kv" or "v", got "qk"
  %0 = "sparsek.attention"(%q, %k, %v, %u) {k = 2 : i64, window = 1 : i64, gate = "qk", scale = 0.5 : f64, causal = true} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16xf32>) -> tensor<1x4x16x8xf32>
  return %0 : tensor<1x4x16x8xf32>
}


// -----

func.func @u_rank(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %u: tensor<2x16xf32>) -> tensor<1x4x16x8xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.attention: operand 'u' has rank 2, expected 3
  %0 = "sparsek.attention"(%q, %k, %v, %u) {k = 2 : i64, window = 1 : i64, gate = "kv", scale = 0.5 : f64, causal = true} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<2x16xf32>) -> tensor<1x4x16x8xf32>
  return %0 : tensor<1x4x16x8xf32>
}


// -----

func.func @u_elem(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %u: tensor<1x2x16xf16>) -> tensor<1x4x16x8xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.attention: operand 'u' has element type f16, expected f32 (or f64)
  %0 = "sparsek.attention"(%q, %k, %v, %u) {k = 2 : i64, window = 1 : i64, gate = "kv", scale = 0.5 : f64, causal = true} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16xf16>) -> tensor<1x4x16x8xf32>
  return %0 : tensor<1x4x16x8xf32>
}


// -----

func.func @u_heads(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %u: tensor<1x4x16xf32>) -> tensor<1x4x16x8xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.attention: operand 'u' has Hkv = 4, expected 2 (Hkv of 'k')
  %0 = "sparsek.attention"(%q, %k, %v, %u) {k = 2 : i64, window = 1 : i64, gate = "kv", scale = 0.5 : f64, causal = true} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x4x16xf32>) -> tensor<1x4x16x8xf32>
  return %0 : tensor<1x4x16x8xf32>
}


// -----

func.func @u_seq(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %u: tensor<1x2x8xf32>) -> tensor<1x4x16x8xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.attention: operand 'u' has N = 8, expected 16 (N of 'q')
  %0 = "sparsek.attention"(%q, %k, %v, %u) {k = 2 : i64, window = 1 : i64, gate = "kv", scale = 0.5 : f64, causal = true} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x8xf32>) -> tensor<1x4x16x8xf32>
  return %0 : tensor<1x4x16x8xf32>
}


// -----

func.func @u_rank3(%q: tensor<8x16x8xf32>, %k: tensor<8x16x8xf32>, %v: tensor<8x16x8xf32>, %u: tensor<8x2x16xf32>) -> tensor<8x16x8xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.attention: operand 'u' has Hkv = 2, expected 1 (rank-3 attention has one head per sequence)
  %0 = "sparsek.attention"(%q, %k, %v, %u) {k = 2 : i64, window = 1 : i64, gate = "kv", scale = 0.5 : f64, causal = true} : (tensor<8x16x8xf32>, tensor<8x16x8xf32>, tensor<8x16x8xf32>, tensor<8x2x16xf32>) -> tensor<8x16x8xf32>
  return %0 : tensor<8x16x8xf32>
}


// -----

func.func @mode(%x: tensor<1x2x16xf32>) -> tensor<1x2x16xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.score: attribute 'mode' must be "hidden", "keys" or "input", got "topk"
  %0 = "sparsek.score"(%x) {mode = "topk", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<1x2x16xf32>) -> tensor<1x2x16xf32>
  return %0 : tensor<1x2x16xf32>
}


// -----

func.func @mode_operands(%x: tensor<1x16x32xf32>) -> tensor<1x2x16xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.score: mode "hidden" takes 3 operand(s), got 1
  %0 = "sparsek.score"(%x) {mode = "hidden", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<1x16x32xf32>) -> tensor<1x2x16xf32>
  return %0 : tensor<1x2x16xf32>
}


// -----

func.func @u_result(%x: tensor<1x16x32xf32>, %p0: tensor<2x32xf32>, %p1: tensor<2xf32>) -> tensor<1x2x16xf16> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.score: operand 'u' has element type f16, expected f32 (or f64)
  %0 = "sparsek.score"(%x, %p0, %p1) {mode = "hidden", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<1x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>) -> tensor<1x2x16xf16>
  return %0 : tensor<1x2x16xf16>
}


// -----

func.func @hidden_seq(%x: tensor<1x12x32xf32>, %p0: tensor<2x32xf32>, %p1: tensor<2xf32>) -> tensor<1x2x16xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.score: operand 'x' has N = 12, expected 16 (N of 'u')
  %0 = "sparsek.score"(%x, %p0, %p1) {mode = "hidden", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<1x12x32xf32>, tensor<2x32xf32>, tensor<2xf32>) -> tensor<1x2x16xf32>
  return %0 : tensor<1x2x16xf32>
}


// -----

func.func @keys_heads(%x: tensor<1x3x16x8xf32>, %p0: tensor<2x8xf32>, %p1: tensor<2xf32>) -> tensor<1x2x16xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.score: operand 'x' has Hkv = 3, expected 2 (Hkv of 'u')
  %0 = "sparsek.score"(%x, %p0, %p1) {mode = "keys", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<1x3x16x8xf32>, tensor<2x8xf32>, tensor<2xf32>) -> tensor<1x2x16xf32>
  return %0 : tensor<1x2x16xf32>
}


// -----

func.func @input_shape(%x: tensor<1x2x17xf32>) -> tensor<1x2x16xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.score: operand 'x' has N = 17, expected 16 (N of 'u')
  %0 = "sparsek.score"(%x) {mode = "input", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<1x2x17xf32>) -> tensor<1x2x16xf32>
  return %0 : tensor<1x2x16xf32>
}


// -----

func.func @w_features(%x: tensor<1x16x32xf32>, %p0: tensor<2x31xf32>, %p1: tensor<2xf32>) -> tensor<1x2x16xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.score: operand 'w_score' has F = 31, expected 32 (F of 'x')
  %0 = "sparsek.score"(%x, %p0, %p1) {mode = "hidden", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<1x16x32xf32>, tensor<2x31xf32>, tensor<2xf32>) -> tensor<1x2x16xf32>
  return %0 : tensor<1x2x16xf32>
}


// -----

func.func @b_heads(%x: tensor<1x16x32xf32>, %p0: tensor<2x32xf32>, %p1: tensor<3xf32>) -> tensor<1x2x16xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.score: operand 'b_score' has Hkv = 3, expected 2 (Hkv of 'u')
  %0 = "sparsek.score"(%x, %p0, %p1) {mode = "hidden", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<1x16x32xf32>, tensor<2x32xf32>, tensor<3xf32>) -> tensor<1x2x16xf32>
  return %0 : tensor<1x2x16xf32>
}


// -----

func.func @w_elem(%x: tensor<1x16x32xf32>, %p0: tensor<2x32xbf16>, %p1: tensor<2xf32>) -> tensor<1x2x16xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.score: operand 'w_score' has element type bf16, expected f32 (or f64)
  %0 = "sparsek.score"(%x, %p0, %p1) {mode = "hidden", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<1x16x32xf32>, tensor<2x32xbf16>, tensor<2xf32>) -> tensor<1x2x16xf32>
  return %0 : tensor<1x2x16xf32>
}


// -----

func.func @slope(%x: tensor<1x2x16xf32>) -> tensor<1x2x16xf32> {
  // CHECK: verify.mlir:[[@LINE+1]]:8: error: sparsek.score: attribute 'slope' must be a finite number
  %0 = "sparsek.score"(%x) {mode = "input", slope = 0x7FF0000000000000 : f64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<1x2x16xf32>) -> tensor<1x2x16xf32>
  return %0 : tensor<1x2x16xf32>
}
