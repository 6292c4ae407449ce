func.func @attention(%x: tensor<2x45x32xf32>, %wk: tensor<32x64xf32>, %q: tensor<2x4x45x16xf32>,
                     %v: tensor<2x4x45x16xf32>) -> (tensor<2x4x45x16xf32>, tensor<90x32xf32>) {
  %xf = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x45x32xf32> into tensor<90x32xf32>
  %e = tensor.empty() : tensor<90x64xf32>
  %kf = linalg.matmul ins(%xf, %wk : tensor<90x32xf32>, tensor<32x64xf32>) outs(%e : tensor<90x64xf32>) -> tensor<90x64xf32>
  %k4 = tensor.expand_shape %kf [[0, 1], [2, 3]] output_shape [2, 45, 4, 16] : tensor<90x64xf32> into tensor<2x45x4x16xf32>
  %kinit = tensor.empty() : tensor<2x4x45x16xf32>
  %k = linalg.transpose ins(%k4 : tensor<2x45x4x16xf32>) outs(%kinit : tensor<2x4x45x16xf32>) permutation = [0, 2, 1, 3]
  %o = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.25 : f64, causal = true} : (tensor<2x4x45x16xf32>, tensor<2x4x45x16xf32>, tensor<2x4x45x16xf32>) -> tensor<2x4x45x16xf32>
  return %o, %xf : tensor<2x4x45x16xf32>, tensor<90x32xf32>
}
