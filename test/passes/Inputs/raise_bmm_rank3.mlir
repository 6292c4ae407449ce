// Dense causal attention, rank 3 (B*H, N, D) = (4, 64, 16): Q.K^T as linalg.batch_matmul with
// transposing indexing_maps, scores scaled by 0.25 = 1/sqrt(D) and masked (j > i -> -inf) in
// one linalg.generic, linalg.softmax, P.V as a plain linalg.batch_matmul.
// raise-attention: sparsek.dense_attention(q, k, v) {scale = 0.25, causal = true}.
func.func @attention(%q: tensor<4x64x16xf32>, %k: tensor<4x64x16xf32>, %v: tensor<4x64x16xf32>) -> tensor<4x64x16xf32> {
  %zero = arith.constant 0.0 : f32
  %scale = arith.constant 0.25 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %es = tensor.empty() : tensor<4x64x64xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<4x64x64xf32>) -> tensor<4x64x64xf32>
  %scores = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%q, %k : tensor<4x64x16xf32>, tensor<4x64x16xf32>) outs(%fs : tensor<4x64x64xf32>) -> tensor<4x64x64xf32>
  %masked = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                           iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%scores : tensor<4x64x64xf32>) outs(%es : tensor<4x64x64xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %y = arith.mulf %x, %scale : f32
    %future = arith.cmpi ugt, %j, %i : index
    %r = arith.select %future, %ninf, %y : f32
    linalg.yield %r : f32
  } -> tensor<4x64x64xf32>
  %p = linalg.softmax dimension(2) ins(%masked : tensor<4x64x64xf32>) outs(%es : tensor<4x64x64xf32>) -> tensor<4x64x64xf32>
  %eo = tensor.empty() : tensor<4x64x16xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<4x64x16xf32>) -> tensor<4x64x16xf32>
  %out = linalg.batch_matmul ins(%p, %v : tensor<4x64x64xf32>, tensor<4x64x16xf32>) outs(%fo : tensor<4x64x16xf32>) -> tensor<4x64x16xf32>
  return %out : tensor<4x64x16xf32>
}
