func.func @f(%q: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %0 = arith.addf %q, %q : tensor<4x4xf32>
  return %0 tensor<4x4xf32>
}
