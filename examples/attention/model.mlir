// A causal grouped-query self-attention layer as a plain tensor program (linalg on tensors):
//   out = softmax(q k^T / sqrt(D) + causal mask) v
// q: (1, 8 query heads, N = 2048, D = 64); k, v: (1, 2 KV heads, 2048, 64). Each KV head
// serves 4 query heads (broadcast + collapse_shape below).
//
// skc recognizes this dense causal attention (raise-attention) and compiles it into SparseK
// attention: each query attends to its k best-scored earlier keys (scores computed from the
// keys: --sparsek-score=keys, which adds w_score (2, 64) and b_score (2) parameters) plus the
// last `window` positions, with fused C/OpenMP kernels. See CMakeLists.txt for the flags.
func.func @attention(%q: tensor<1x8x2048x64xf32>, %k: tensor<1x2x2048x64xf32>,
                     %v: tensor<1x2x2048x64xf32>) -> tensor<1x8x2048x64xf32> {
  %zero = arith.constant 0.0 : f32
  %scale = arith.constant 0.125 : f32          // 1 / sqrt(64)
  %ninf = arith.constant 0xFF800000 : f32      // -inf

  // GQA: repeat each KV head for its 4 query heads.
  %e5 = tensor.empty() : tensor<1x2x4x2048x64xf32>
  %kb = linalg.broadcast ins(%k : tensor<1x2x2048x64xf32>) outs(%e5 : tensor<1x2x4x2048x64xf32>) dimensions = [2]
  %kr = tensor.collapse_shape %kb [[0], [1, 2], [3], [4]] : tensor<1x2x4x2048x64xf32> into tensor<1x8x2048x64xf32>
  %vb = linalg.broadcast ins(%v : tensor<1x2x2048x64xf32>) outs(%e5 : tensor<1x2x4x2048x64xf32>) dimensions = [2]
  %vr = tensor.collapse_shape %vb [[0], [1, 2], [3], [4]] : tensor<1x2x4x2048x64xf32> into tensor<1x8x2048x64xf32>

  // Scores s[b,h,i,j] = q[b,h,i,:] . k[b,h,j,:]
  %es = tensor.empty() : tensor<1x8x2048x2048xf32>
  %zs = linalg.fill ins(%zero : f32) outs(%es : tensor<1x8x2048x2048xf32>) -> tensor<1x8x2048x2048xf32>
  %s = linalg.generic {
      indexing_maps = [affine_map<(b, h, i, j, d) -> (b, h, i, d)>,
                       affine_map<(b, h, i, j, d) -> (b, h, j, d)>,
                       affine_map<(b, h, i, j, d) -> (b, h, i, j)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %kr : tensor<1x8x2048x64xf32>, tensor<1x8x2048x64xf32>) outs(%zs : tensor<1x8x2048x2048xf32>) {
  ^bb0(%qd: f32, %kd: f32, %acc: f32):
    %p = arith.mulf %qd, %kd : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  } -> tensor<1x8x2048x2048xf32>

  // Scale, and mask the future (j > i) to -inf.
  %m = linalg.generic {
      indexing_maps = [affine_map<(b, h, i, j) -> (b, h, i, j)>, affine_map<(b, h, i, j) -> (b, h, i, j)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%s : tensor<1x8x2048x2048xf32>) outs(%es : tensor<1x8x2048x2048xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %y = arith.mulf %x, %scale : f32
    %future = arith.cmpi ugt, %j, %i : index
    %r = arith.select %future, %ninf, %y : f32
    linalg.yield %r : f32
  } -> tensor<1x8x2048x2048xf32>

  // Softmax over the keys, then out[b,h,i,:] = sum_j p[b,h,i,j] v[b,h,j,:]
  %p = linalg.softmax dimension(3) ins(%m : tensor<1x8x2048x2048xf32>) outs(%es : tensor<1x8x2048x2048xf32>) -> tensor<1x8x2048x2048xf32>
  %eo = tensor.empty() : tensor<1x8x2048x64xf32>
  %zo = linalg.fill ins(%zero : f32) outs(%eo : tensor<1x8x2048x64xf32>) -> tensor<1x8x2048x64xf32>
  %out = linalg.generic {
      indexing_maps = [affine_map<(b, h, i, d, j) -> (b, h, i, j)>,
                       affine_map<(b, h, i, d, j) -> (b, h, j, d)>,
                       affine_map<(b, h, i, d, j) -> (b, h, i, d)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %vr : tensor<1x8x2048x2048xf32>, tensor<1x8x2048x64xf32>) outs(%zo : tensor<1x8x2048x64xf32>) {
  ^bb0(%pw: f32, %vd: f32, %acc: f32):
    %t = arith.mulf %pw, %vd : f32
    %r = arith.addf %acc, %t : f32
    linalg.yield %r : f32
  } -> tensor<1x8x2048x64xf32>
  return %out : tensor<1x8x2048x64xf32>
}
