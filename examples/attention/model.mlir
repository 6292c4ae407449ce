// A causal self-attention layer, already raised to one dense attention op (what skc's
// raise-attention pass makes of the linalg matmul / mask / softmax / matmul graph):
//   out = softmax(q k^T / sqrt(D) + causal mask) v
// q: (B, 8 query heads, N, 64); k, v: (B, 2 KV heads, N, 64) (grouped-query attention).
// B and N are dynamic: the generated entry reads them from the tensors.
//
// skc turns it into SparseK attention: each query attends to its k best-scored earlier keys
// (scores from the keys: --sparsek-score=keys) plus the last `window` positions.
func.func @attention(%q: tensor<?x8x?x64xf32>, %k: tensor<?x2x?x64xf32>,
                     %v: tensor<?x2x?x64xf32>) -> tensor<?x8x?x64xf32> {
  %out = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.125 : f64, causal = true}
      : (tensor<?x8x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32>) -> tensor<?x8x?x64xf32>
  return %out : tensor<?x8x?x64xf32>
}
