// RUN: skc-opt --skc-lower-kernels --split-input-file %s | FileCheck %s

// Hidden scores, MHA: the score result is an intermediate (buffer 0); the attention result
// is returned (no buffer). Every specialization constant is fixed.
// CHECK-LABEL: func.func @hidden
// CHECK-SAME: attributes {sparsek.workspace_align = 64 : i64, sparsek.workspace_buffers = 1 : i64}
// CHECK: "sparsek.score"({{.*}}) {buffer = 0 : i64, dtype = "f32", feature_dim = 24 : i64, kernel = "skc_scores_hidden", mode = "hidden"
// CHECK: "sparsek.attention"({{.*}}) {causal = true, dtype = "f32", gate = "kv", head_dim = 16 : i64, instance = 0 : i64, k = 8 : i64, kernel = "skk_attention_forward", kv_heads = 2 : i64, q_heads = 4 : i64, scale = 2.500000e-01 : f64, score_mode = "hidden", tile_q = 64 : i64, window = 4 : i64}
// CHECK-NOT: buffer
// CHECK: return
func.func @hidden(%q: tensor<2x4x37x16xf32>, %k: tensor<2x2x37x16xf32>, %v: tensor<2x2x37x16xf32>, %x: tensor<2x37x24xf32>, %w_score: tensor<2x24xf32>, %b_score: tensor<2xf32>) -> tensor<2x4x37x16xf32> {
  %u = "sparsek.score"(%x, %w_score, %b_score) {mode = "hidden", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<2x37x24xf32>, tensor<2x24xf32>, tensor<2xf32>) -> tensor<2x2x37xf32>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 8 : i64, window = 4 : i64, gate = "kv", scale = 0.25 : f64, causal = true, tile_q = 64 : i64} : (tensor<2x4x37x16xf32>, tensor<2x2x37x16xf32>, tensor<2x2x37x16xf32>, tensor<2x2x37xf32>) -> tensor<2x4x37x16xf32>
  return %o : tensor<2x4x37x16xf32>
}

// -----
// Rank 3, dynamic B*H and N, scores given by the caller; no tile_q yet: the default 32.
// CHECK-LABEL: func.func @rank3_input
// CHECK: "sparsek.score"({{.*}}) {buffer = 0 : i64, dtype = "f32", kernel = "skc_scores_input", mode = "input"
// CHECK: "sparsek.attention"({{.*}}) {{{.*}}head_dim = 8 : i64, instance = 0 : i64, {{.*}}kv_heads = 1 : i64, q_heads = 1 : i64, {{.*}}score_mode = "input", tile_q = 32 : i64
func.func @rank3_input(%q: tensor<?x?x8xf32>, %k: tensor<?x?x8xf32>, %v: tensor<?x?x8xf32>, %u_in: tensor<?x1x?xf32>) -> tensor<?x?x8xf32> {
  %u = "sparsek.score"(%u_in) {mode = "input", slope = 0.5 : f64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<?x1x?xf32>) -> tensor<?x1x?xf32>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 2 : i64, window = 0 : i64, gate = "v", scale = 0.5 : f64, causal = true} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x1x?xf32>) -> tensor<?x?x8xf32>
  return %o : tensor<?x?x8xf32>
}

// -----
// Two layers: the first output and both scores are intermediates (buffers 0, 1, 2 in program
// order); instances count up; the module shares the first op's tile (16).
// CHECK-LABEL: func.func @two_layers
// CHECK-SAME: sparsek.workspace_buffers = 3 : i64
// CHECK: "sparsek.score"({{.*}}) {buffer = 0 : i64, {{.*}}kernel = "skc_scores_keys"
// CHECK: "sparsek.attention"({{.*}}) {buffer = 1 : i64, {{.*}}instance = 0 : i64, {{.*}}tile_q = 16 : i64
// CHECK: "sparsek.score"({{.*}}) {buffer = 2 : i64,
// CHECK: "sparsek.attention"({{.*}}) {causal = true, {{.*}}instance = 1 : i64, {{.*}}tile_q = 16 : i64
func.func @two_layers(%a: tensor<1x2x8x4xf32>, %w0: tensor<2x4xf32>, %b0: tensor<2xf32>, %w1: tensor<2x4xf32>, %b1: tensor<2xf32>) -> tensor<1x2x8x4xf32> {
  %u0 = "sparsek.score"(%a, %w0, %b0) {mode = "keys", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<1x2x8x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<1x2x8xf32>
  %o0 = "sparsek.attention"(%a, %a, %a, %u0) {k = 2 : i64, window = 2 : i64, gate = "kv", scale = 0.5 : f64, causal = true, tile_q = 16 : i64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>) -> tensor<1x2x8x4xf32>
  %u1 = "sparsek.score"(%o0, %w1, %b1) {mode = "keys", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<1x2x8x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<1x2x8xf32>
  %o1 = "sparsek.attention"(%o0, %o0, %o0, %u1) {k = 2 : i64, window = 2 : i64, gate = "kv", scale = 0.5 : f64, causal = true, tile_q = 64 : i64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>) -> tensor<1x2x8x4xf32>
  return %o1 : tensor<1x2x8x4xf32>
}

// -----
// Projection kernels around the attention get buffers by the same rule; views and inits none.
// CHECK-LABEL: func.func @projection
// CHECK-SAME: sparsek.workspace_buffers = 3 : i64
// CHECK: tensor.collapse_shape
// CHECK-NOT: buffer
// CHECK: linalg.matmul {buffer = 0 : i64, kernel = "skc_matmul"}
// CHECK: linalg.transpose {{.*}} {buffer = 1 : i64, kernel = "skc_transpose"}
// CHECK: "sparsek.score"({{.*}}) {buffer = 2 : i64,
func.func @projection(%x: tensor<2x8x4xf32>, %wk: tensor<4x8xf32>, %q: tensor<2x2x8x4xf32>, %w: tensor<2x4xf32>, %b: tensor<2xf32>) -> tensor<2x2x8x4xf32> {
  %xf = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x8x4xf32> into tensor<16x4xf32>
  %e = tensor.empty() : tensor<16x8xf32>
  %kf = linalg.matmul ins(%xf, %wk : tensor<16x4xf32>, tensor<4x8xf32>) outs(%e : tensor<16x8xf32>) -> tensor<16x8xf32>
  %k4 = tensor.expand_shape %kf [[0, 1], [2, 3]] output_shape [2, 8, 2, 4] : tensor<16x8xf32> into tensor<2x8x2x4xf32>
  %ke = tensor.empty() : tensor<2x2x8x4xf32>
  %k = linalg.transpose ins(%k4 : tensor<2x8x2x4xf32>) outs(%ke : tensor<2x2x8x4xf32>) permutation = [0, 2, 1, 3]
  %u = "sparsek.score"(%x, %w, %b) {mode = "hidden", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<2x8x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<2x2x8xf32>
  %o = "sparsek.attention"(%q, %k, %q, %u) {k = 2 : i64, window = 2 : i64, gate = "kv", scale = 0.5 : f64, causal = true} : (tensor<2x2x8x4xf32>, tensor<2x2x8x4xf32>, tensor<2x2x8x4xf32>, tensor<2x2x8xf32>) -> tensor<2x2x8x4xf32>
  return %o : tensor<2x2x8x4xf32>
}
