func.func @f(%q: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  // a comment naming sparsek.attention is fine
  %0 = sparsek.dense_attention %q, %q, %q : tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}
