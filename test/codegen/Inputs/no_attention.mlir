func.func @f(%a: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %e = math.exp %a : tensor<4x4xf32>
  return %e : tensor<4x4xf32>
}
