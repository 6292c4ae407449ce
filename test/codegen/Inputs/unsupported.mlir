func.func @f(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %o = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.5 : f64, causal = true} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %e = math.exp %o : tensor<1x2x8x4xf32>
  return %e : tensor<1x2x8x4xf32>
}
