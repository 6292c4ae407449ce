// RUN: skc-opt --skc-fuse --split-input-file %s | FileCheck %s

// Two identical scores merge into one; the survivor feeds both attention ops.
// CHECK-LABEL: func.func @duplicate
// CHECK: %[[U:.*]] = "sparsek.score"(%arg1, %arg3, %arg4) {mode = "keys"
// CHECK-NOT: "sparsek.score"
// CHECK: "sparsek.attention"(%arg0, %arg1, %arg2, %[[U]])
// CHECK: "sparsek.attention"(%arg2, %arg1, %arg2, %[[U]])
func.func @duplicate(%q: tensor<1x1x8x4xf32>, %k: tensor<1x1x8x4xf32>, %v: tensor<1x1x8x4xf32>, %w: tensor<1x4xf32>, %b: tensor<1xf32>) -> (tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>) {
  %u0 = "sparsek.score"(%k, %w, %b) {mode = "keys", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<1x1x8x4xf32>, tensor<1x4xf32>, tensor<1xf32>) -> tensor<1x1x8xf32>
  %u1 = "sparsek.score"(%k, %w, %b) {mode = "keys", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<1x1x8x4xf32>, tensor<1x4xf32>, tensor<1xf32>) -> tensor<1x1x8xf32>
  %0 = "sparsek.attention"(%q, %k, %v, %u0) {k = 2 : i64, window = 1 : i64, gate = "kv", scale = 0.5 : f64, causal = true} : (tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8xf32>) -> tensor<1x1x8x4xf32>
  %1 = "sparsek.attention"(%v, %k, %v, %u1) {k = 2 : i64, window = 1 : i64, gate = "kv", scale = 0.5 : f64, causal = true} : (tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8xf32>) -> tensor<1x1x8x4xf32>
  return %0, %1 : tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>
}

// -----
// Different slopes are different scores: both stay.
// CHECK-LABEL: func.func @distinct
// CHECK: %[[U0:.*]] = "sparsek.score"{{.*}}slope = 0.000000e+00
// CHECK: %[[U1:.*]] = "sparsek.score"{{.*}}slope = 5.000000e-01
// CHECK: "sparsek.attention"({{.*}}, %[[U0]])
// CHECK: "sparsek.attention"({{.*}}, %[[U1]])
func.func @distinct(%q: tensor<1x1x8x4xf32>, %uin: tensor<1x1x8xf32>) -> (tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>) {
  %u0 = "sparsek.score"(%uin) {mode = "input", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<1x1x8xf32>) -> tensor<1x1x8xf32>
  %u1 = "sparsek.score"(%uin) {mode = "input", slope = 0.5 : f64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<1x1x8xf32>) -> tensor<1x1x8xf32>
  %0 = "sparsek.attention"(%q, %q, %q, %u0) {k = 2 : i64, window = 1 : i64, gate = "kv", scale = 0.5 : f64, causal = true} : (tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8xf32>) -> tensor<1x1x8x4xf32>
  %1 = "sparsek.attention"(%q, %q, %q, %u1) {k = 2 : i64, window = 1 : i64, gate = "kv", scale = 0.5 : f64, causal = true} : (tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8xf32>) -> tensor<1x1x8x4xf32>
  return %0, %1 : tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>
}

// -----
// Same operands in different blocks stay apart (the first does not dominate the second).
// CHECK-LABEL: func.func @blocks
// CHECK-COUNT-2: "sparsek.score"
func.func @blocks(%uin: tensor<1x1x8xf32>, %c: i1) -> tensor<1x1x8xf32> {
  %r = scf.if %c -> tensor<1x1x8xf32> {
    %u0 = "sparsek.score"(%uin) {mode = "input", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<1x1x8xf32>) -> tensor<1x1x8xf32>
    scf.yield %u0 : tensor<1x1x8xf32>
  } else {
    %u1 = "sparsek.score"(%uin) {mode = "input", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<1x1x8xf32>) -> tensor<1x1x8xf32>
    scf.yield %u1 : tensor<1x1x8xf32>
  }
  return %r : tensor<1x1x8xf32>
}
