// RUN: skc-opt --skc-sparsify --sparsek-score=keys --sparsek-k=32 --sparsek-window=16 --split-input-file %s | FileCheck %s
// RUN: skc-opt --skc-sparsify --sparsek-score=input --sparsek-gate=v --sparsek-slope=0.25 --split-input-file %s | FileCheck %s --check-prefix=INPUT

// Keys mode, MHA: the score reads k; w_score (Hkv, D) and b_score (Hkv) are appended.
// CHECK-LABEL: func.func @mha
// CHECK-SAME: (%[[Q:.*]]: tensor<2x4x64x16xf32>, %[[K:.*]]: tensor<2x4x64x16xf32>, %[[V:.*]]: tensor<2x4x64x16xf32>, %[[W:.*]]: tensor<4x16xf32>, %[[B:.*]]: tensor<4xf32>) -> tensor<2x4x64x16xf32>
// CHECK: %[[U:.*]] = "sparsek.score"(%[[K]], %[[W]], %[[B]]) {mode = "keys", operandSegmentSizes = array<i32: 1, 1, 1>, slope = 0.000000e+00 : f64} : (tensor<2x4x64x16xf32>, tensor<4x16xf32>, tensor<4xf32>) -> tensor<2x4x64xf32>
// CHECK: %[[O:.*]] = "sparsek.attention"(%[[Q]], %[[K]], %[[V]], %[[U]]) {causal = true, gate = "kv", k = 32 : i64, scale = 2.500000e-01 : f64, window = 16 : i64}
// CHECK-NOT: sparsek.dense_attention
// CHECK: return %[[O]]
// INPUT-LABEL: func.func @mha
// INPUT-SAME: %[[UIN:[a-z0-9]+]]: tensor<2x4x64xf32>) -> tensor<2x4x64x16xf32>
// INPUT: %[[U:.*]] = "sparsek.score"(%[[UIN]]) {mode = "input", operandSegmentSizes = array<i32: 1, 0, 0>, slope = 2.500000e-01 : f64}
// INPUT: "sparsek.attention"(%{{.*}}, %{{.*}}, %{{.*}}, %[[U]]) {causal = true, gate = "v", k = 64 : i64
func.func @mha(%q: tensor<2x4x64x16xf32>, %k: tensor<2x4x64x16xf32>, %v: tensor<2x4x64x16xf32>) -> tensor<2x4x64x16xf32> {
  %0 = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.25 : f64, causal = true} : (tensor<2x4x64x16xf32>, tensor<2x4x64x16xf32>, tensor<2x4x64x16xf32>) -> tensor<2x4x64x16xf32>
  return %0 : tensor<2x4x64x16xf32>
}

// -----
// GQA with dynamic B and N: u is (B, Hkv, N) with the dynamic extents; per-op and per-function
// overrides win over the flags (the op's own over the function's).
// CHECK-LABEL: func.func @gqa_overrides
// CHECK-SAME: tensor<2x16xf32>, %{{.*}}: tensor<2xf32>)
// CHECK: "sparsek.score"({{.*}}) {{.*}}: (tensor<?x2x?x16xf32>, tensor<2x16xf32>, tensor<2xf32>) -> tensor<?x2x?xf32>
// CHECK: "sparsek.attention"({{.*}}) {causal = true, gate = "v", k = 8 : i64, scale = 2.500000e-01 : f64, window = 3 : i64}
func.func @gqa_overrides(%q: tensor<?x8x?x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<?x2x?x16xf32>) -> tensor<?x8x?x16xf32> attributes {sparsek.window = 3 : i64, sparsek.k = 100 : i64} {
  %0 = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.25 : f64, causal = true, sparsek.k = 8 : i64, sparsek.gate = "v", sparsek.score = "keys"} : (tensor<?x8x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>) -> tensor<?x8x?x16xf32>
  return %0 : tensor<?x8x?x16xf32>
}

// -----
// Rank 3 (B*H, N, D): one head per sequence, u (B*H, 1, N), w_score (1, D); arg_attrs grow.
// CHECK-LABEL: func.func @rank3
// CHECK-SAME: (%{{.*}}: tensor<8x32x16xf32> {test.q}, %{{.*}}: tensor<8x32x16xf32>, %{{.*}}: tensor<8x32x16xf32>, %{{.*}}: tensor<1x16xf32>, %{{.*}}: tensor<1xf32>)
// CHECK: "sparsek.score"({{.*}}) -> tensor<8x1x32xf32>
func.func @rank3(%q: tensor<8x32x16xf32> {test.q}, %k: tensor<8x32x16xf32>, %v: tensor<8x32x16xf32>) -> tensor<8x32x16xf32> {
  %0 = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.25 : f64, causal = true, sparsek.score = "keys"} : (tensor<8x32x16xf32>, tensor<8x32x16xf32>, tensor<8x32x16xf32>) -> tensor<8x32x16xf32>
  return %0 : tensor<8x32x16xf32>
}

// -----
// Two attention ops: their parameters follow the function's arguments in program order.
// CHECK-LABEL: func.func @two
// CHECK-SAME: (%[[A:.*]]: tensor<1x1x8x4xf32>, %[[W0:.*]]: tensor<1x4xf32>, %[[B0:.*]]: tensor<1xf32>, %[[W1:.*]]: tensor<1x4xf32>, %[[B1:.*]]: tensor<1xf32>)
// CHECK: "sparsek.score"(%[[A]], %[[W0]], %[[B0]])
// CHECK: %[[O0:.*]] = "sparsek.attention"
// CHECK: "sparsek.score"(%[[O0]], %[[W1]], %[[B1]])
func.func @two(%a: tensor<1x1x8x4xf32>) -> tensor<1x1x8x4xf32> {
  %0 = "sparsek.dense_attention"(%a, %a, %a) {scale = 0.5 : f64, causal = true, sparsek.score = "keys"} : (tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>) -> tensor<1x1x8x4xf32>
  %1 = "sparsek.dense_attention"(%0, %0, %0) {scale = 0.5 : f64, causal = true, sparsek.score = "keys"} : (tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>) -> tensor<1x1x8x4xf32>
  return %1 : tensor<1x1x8x4xf32>
}

// -----
// Hidden mode: the score reads the (B, N, F) hidden states of the key projection.
// CHECK-LABEL: func.func @hidden
// CHECK-SAME: (%[[X:.*]]: tensor<2x64x32xf32>, %{{.*}}: tensor<32x64xf32>, %{{.*}}: tensor<2x4x64x16xf32>, %{{.*}}: tensor<2x4x64x16xf32>, %[[W:.*]]: tensor<4x32xf32>, %[[B:.*]]: tensor<4xf32>)
// CHECK: "sparsek.score"(%[[X]], %[[W]], %[[B]]) {mode = "hidden"
func.func @hidden(%x: tensor<2x64x32xf32>, %wk: tensor<32x64xf32>, %q: tensor<2x4x64x16xf32>, %v: tensor<2x4x64x16xf32>) -> tensor<2x4x64x16xf32> {
  %xf = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x64x32xf32> into tensor<128x32xf32>
  %init = tensor.empty() : tensor<128x64xf32>
  %kf = linalg.matmul ins(%xf, %wk : tensor<128x32xf32>, tensor<32x64xf32>) outs(%init : tensor<128x64xf32>) -> tensor<128x64xf32>
  %k4 = tensor.expand_shape %kf [[0, 1], [2, 3]] output_shape [2, 64, 4, 16] : tensor<128x64xf32> into tensor<2x64x4x16xf32>
  %kinit = tensor.empty() : tensor<2x4x64x16xf32>
  %k = linalg.transpose ins(%k4 : tensor<2x64x4x16xf32>) outs(%kinit : tensor<2x4x64x16xf32>) permutation = [0, 2, 1, 3]
  %0 = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.25 : f64, causal = true, sparsek.score = "hidden"} : (tensor<2x4x64x16xf32>, tensor<2x4x64x16xf32>, tensor<2x4x64x16xf32>) -> tensor<2x4x64x16xf32>
  return %0 : tensor<2x4x64x16xf32>
}
