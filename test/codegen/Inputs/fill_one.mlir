func.func @attention(%x: tensor<90x32xf32>, %wk: tensor<32x64xf32>, %q: tensor<1x2x8x4xf32>) -> (tensor<1x2x8x4xf32>, tensor<90x64xf32>) {
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<90x64xf32>
  %init = linalg.fill ins(%one : f32) outs(%e : tensor<90x64xf32>) -> tensor<90x64xf32>
  %kf = linalg.matmul ins(%x, %wk : tensor<90x32xf32>, tensor<32x64xf32>) outs(%init : tensor<90x64xf32>) -> tensor<90x64xf32>
  %o = "sparsek.dense_attention"(%q, %q, %q) {scale = 0.5 : f64, causal = true} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %o, %kf : tensor<1x2x8x4xf32>, tensor<90x64xf32>
}
