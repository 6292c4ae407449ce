// What IRDL itself rejects (structure): operand counts, base types, missing attributes,
// attribute kinds, result type tied to q. Checked with stock mlir-opt.
// RUN: mlir-opt --irdl-file=%irdl %s -split-input-file -verify-diagnostics

func.func @too_few(%q: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  // expected-error@+1 {{expects exactly 3 operands, but got 2}}
  %0 = "sparsek.dense_attention"(%q, %q) {scale = 0.5 : f64, causal = true} : (tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}

// -----
func.func @not_tensor(%q: tensor<1x1x4x4xf32>, %k: memref<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  // expected-error@+1 {{expected base type 'builtin.tensor' but got 'builtin.memref'}}
  %0 = "sparsek.dense_attention"(%q, %k, %q) {scale = 0.5 : f64, causal = true} : (tensor<1x1x4x4xf32>, memref<1x1x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}

// -----
func.func @missing_attr(%q: tensor<1x1x4x4xf32>, %u: tensor<1x1x4xf32>) -> tensor<1x1x4x4xf32> {
  // expected-error@+1 {{attribute "gate" is expected but not provided}}
  %0 = "sparsek.attention"(%q, %q, %q, %u) {k = 2 : i64, window = 1 : i64, scale = 0.5 : f64, causal = true} : (tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4xf32>) -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}

// -----
func.func @attr_kind(%q: tensor<1x1x4x4xf32>, %u: tensor<1x1x4xf32>) -> tensor<1x1x4x4xf32> {
  // expected-error@+1 {{expected base attribute 'builtin.integer' but got 'builtin.string'}}
  %0 = "sparsek.attention"(%q, %q, %q, %u) {k = "two", window = 1 : i64, gate = "kv", scale = 0.5 : f64, causal = true} : (tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4xf32>) -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}

// -----
func.func @result_type(%q: tensor<1x1x4x4xf32>) -> tensor<1x1x4x8xf32> {
  // expected-error@+1 {{expected 'tensor<1x1x4x4xf32>' but got 'tensor<1x1x4x8xf32>'}}
  %0 = "sparsek.dense_attention"(%q, %q, %q) {scale = 0.5 : f64, causal = true} : (tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<1x1x4x8xf32>
  return %0 : tensor<1x1x4x8xf32>
}
