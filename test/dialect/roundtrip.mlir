// Every sparsek op parses, verifies and prints through stock mlir-opt with the IRDL file,
// and the printed form parses again.
// RUN: mlir-opt --irdl-file=%irdl %s | mlir-opt --irdl-file=%irdl | FileCheck %s
// RUN: skc-opt --skc-verify %s | FileCheck %s

// CHECK-LABEL: func.func @dense
// CHECK: %[[O:.*]] = "sparsek.dense_attention"(%arg0, %arg1, %arg2) {causal = true, scale = 1.250000e-01 : f64} : (tensor<2x8x128x64xf32>, tensor<2x2x128x64xf32>, tensor<2x2x128x64xf32>) -> tensor<2x8x128x64xf32>
// CHECK: return %[[O]]
func.func @dense(%q: tensor<2x8x128x64xf32>, %k: tensor<2x2x128x64xf32>, %v: tensor<2x2x128x64xf32>) -> tensor<2x8x128x64xf32> {
  %0 = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.125 : f64, causal = true} : (tensor<2x8x128x64xf32>, tensor<2x2x128x64xf32>, tensor<2x2x128x64xf32>) -> tensor<2x8x128x64xf32>
  return %0 : tensor<2x8x128x64xf32>
}

// CHECK-LABEL: func.func @sparse
// CHECK: %[[U:.*]] = "sparsek.score"(%arg3, %arg4, %arg5) {mode = "hidden", operandSegmentSizes = array<i32: 1, 1, 1>, slope = 0.000000e+00 : f64}
// CHECK: "sparsek.attention"(%arg0, %arg1, %arg2, %[[U]]) {causal = true, gate = "kv", k = 64 : i64, scale = 1.250000e-01 : f64, window = 32 : i64}
func.func @sparse(%q: tensor<?x8x?x64xf32>, %k: tensor<?x2x?x64xf32>, %v: tensor<?x2x?x64xf32>, %x: tensor<?x?x512xf32>, %w: tensor<2x512xf32>, %b: tensor<2xf32>) -> tensor<?x8x?x64xf32> {
  %u = "sparsek.score"(%x, %w, %b) {mode = "hidden", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<?x?x512xf32>, tensor<2x512xf32>, tensor<2xf32>) -> tensor<?x2x?xf32>
  %0 = "sparsek.attention"(%q, %k, %v, %u) {k = 64 : i64, window = 32 : i64, gate = "kv", scale = 0.125 : f64, causal = true} : (tensor<?x8x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?xf32>) -> tensor<?x8x?x64xf32>
  return %0 : tensor<?x8x?x64xf32>
}

// CHECK-LABEL: func.func @input_scores_rank3
// CHECK: "sparsek.score"(%arg3) {mode = "input", operandSegmentSizes = array<i32: 1, 0, 0>, slope = 5.000000e-01 : f64}
// CHECK: "sparsek.attention"
func.func @input_scores_rank3(%q: tensor<16x100x32xf32>, %k: tensor<16x100x32xf32>, %v: tensor<16x100x32xf32>, %uin: tensor<16x1x100xf32>) -> tensor<16x100x32xf32> {
  %u = "sparsek.score"(%uin) {mode = "input", slope = 0.5 : f64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<16x1x100xf32>) -> tensor<16x1x100xf32>
  %0 = "sparsek.attention"(%q, %k, %v, %u) {k = 4 : i64, window = 0 : i64, gate = "v", scale = 0.17 : f64, causal = true} : (tensor<16x100x32xf32>, tensor<16x100x32xf32>, tensor<16x100x32xf32>, tensor<16x1x100xf32>) -> tensor<16x100x32xf32>
  return %0 : tensor<16x100x32xf32>
}
