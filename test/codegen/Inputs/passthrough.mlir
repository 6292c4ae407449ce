func.func @attn(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>, %v: tensor<?x2x?x8xf32>, %pos: tensor<?xi64>) -> (tensor<?x2x?x8xf32>, tensor<?xi64>, tensor<?x2x?x8xf32>) {
  %o = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.5 : f64, causal = true} : (tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>) -> tensor<?x2x?x8xf32>
  return %o, %pos, %o : tensor<?x2x?x8xf32>, tensor<?xi64>, tensor<?x2x?x8xf32>
}
