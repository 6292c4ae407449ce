// The attention layer that examples/train trains, written as a plain dense causal attention
// over a batch of single-head sequences (B, N, D = 16) with dynamic B and N:
//   out = softmax(q k^T / 4 + causal mask) v
// skc raises it (raise-attention), turns it into SparseK attention with scores computed from
// the keys (--sparsek-score=keys adds w_score (1, 16) and b_score (1)), and with --grad emits
// retrieval_backward, whose w_score / b_score gradients train the scoring network.
func.func @retrieval(%q: tensor<?x?x16xf32>, %k: tensor<?x?x16xf32>, %v: tensor<?x?x16xf32>) -> tensor<?x?x16xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %quarter = arith.constant 0.25 : f32           // 1 / sqrt(16)
  %ninf = arith.constant 0xFF800000 : f32        // -inf
  %b = tensor.dim %q, %c0 : tensor<?x?x16xf32>
  %n = tensor.dim %q, %c1 : tensor<?x?x16xf32>

  // s = q k^T, with k transposed by linalg.transpose
  %kte = tensor.empty(%b, %n) : tensor<?x16x?xf32>
  %kt = linalg.transpose ins(%k : tensor<?x?x16xf32>) outs(%kte : tensor<?x16x?xf32>) permutation = [0, 2, 1]
  %se = tensor.empty(%b, %n, %n) : tensor<?x?x?xf32>
  %s0 = linalg.fill ins(%zero : f32) outs(%se : tensor<?x?x?xf32>) -> tensor<?x?x?xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<?x?x16xf32>, tensor<?x16x?xf32>) outs(%s0 : tensor<?x?x?xf32>) -> tensor<?x?x?xf32>

  // scale, then the causal mask: -inf where key j is after query i
  %masked = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                            iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<?x?x?xf32>) outs(%se : tensor<?x?x?xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %y = arith.mulf %x, %quarter : f32
    %future = arith.cmpi ugt, %j, %i : index
    %r = arith.select %future, %ninf, %y : f32
    linalg.yield %r : f32
  } -> tensor<?x?x?xf32>
  %p = linalg.softmax dimension(2) ins(%masked : tensor<?x?x?xf32>) outs(%se : tensor<?x?x?xf32>) -> tensor<?x?x?xf32>

  // out = p v
  %oe = tensor.empty(%b, %n) : tensor<?x?x16xf32>
  %o0 = linalg.fill ins(%zero : f32) outs(%oe : tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<?x?x?xf32>, tensor<?x?x16xf32>) outs(%o0 : tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  return %o : tensor<?x?x16xf32>
}
