// Dense causal attention, rank 3 (B*H, N, D) = (6, 50, 16) the way a framework exports it
// op by op: Q scaled by 0.25 first, K transposed by linalg.transpose, a plain batch_matmul,
// the causal mask as select(j <= i, s, -inf), softmax decomposed into linalg.reduce (max),
// linalg.broadcast, linalg.sub, linalg.exp, linalg.reduce (sum) and a dividing generic.
// raise-attention: sparsek.dense_attention(q, k, v) {scale = 0.25, causal = true}.
func.func @attention(%q: tensor<6x50x16xf32>, %k: tensor<6x50x16xf32>, %v: tensor<6x50x16xf32>) -> tensor<6x50x16xf32> {
  %zero = arith.constant 0.0 : f32
  %scale = arith.constant 0.25 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %eq = tensor.empty() : tensor<6x50x16xf32>
  %qs = linalg.generic {indexing_maps = [affine_map<(b, n, d) -> (b, n, d)>, affine_map<(b, n, d) -> (b, n, d)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%q : tensor<6x50x16xf32>) outs(%eq : tensor<6x50x16xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.mulf %x, %scale : f32
    linalg.yield %y : f32
  } -> tensor<6x50x16xf32>
  %ekt = tensor.empty() : tensor<6x16x50xf32>
  %kt = linalg.transpose ins(%k : tensor<6x50x16xf32>) outs(%ekt : tensor<6x16x50xf32>) permutation = [0, 2, 1]
  %es = tensor.empty() : tensor<6x50x50xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<6x50x50xf32>) -> tensor<6x50x50xf32>
  %scores = linalg.batch_matmul ins(%qs, %kt : tensor<6x50x16xf32>, tensor<6x16x50xf32>) outs(%fs : tensor<6x50x50xf32>) -> tensor<6x50x50xf32>
  %masked = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                           iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%scores : tensor<6x50x50xf32>) outs(%es : tensor<6x50x50xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %past = arith.cmpi ule, %j, %i : index
    %r = arith.select %past, %x, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<6x50x50xf32>
  %er = tensor.empty() : tensor<6x50xf32>
  %fm = linalg.fill ins(%ninf : f32) outs(%er : tensor<6x50xf32>) -> tensor<6x50xf32>
  %max = linalg.reduce ins(%masked : tensor<6x50x50xf32>) outs(%fm : tensor<6x50xf32>) dimensions = [2]
    (%in: f32, %acc: f32) {
      %m = arith.maximumf %in, %acc : f32
      linalg.yield %m : f32
    }
  %maxb = linalg.broadcast ins(%max : tensor<6x50xf32>) outs(%es : tensor<6x50x50xf32>) dimensions = [2]
  %shifted = linalg.sub ins(%masked, %maxb : tensor<6x50x50xf32>, tensor<6x50x50xf32>) outs(%es : tensor<6x50x50xf32>) -> tensor<6x50x50xf32>
  %e = linalg.exp ins(%shifted : tensor<6x50x50xf32>) outs(%es : tensor<6x50x50xf32>) -> tensor<6x50x50xf32>
  %fz = linalg.fill ins(%zero : f32) outs(%er : tensor<6x50xf32>) -> tensor<6x50xf32>
  %sum = linalg.reduce ins(%e : tensor<6x50x50xf32>) outs(%fz : tensor<6x50xf32>) dimensions = [2]
    (%in: f32, %acc: f32) {
      %a = arith.addf %in, %acc : f32
      linalg.yield %a : f32
    }
  %p = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i)>, affine_map<(b, i, j) -> (b, i, j)>],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%e, %sum : tensor<6x50x50xf32>, tensor<6x50xf32>) outs(%es : tensor<6x50x50xf32>) {
  ^bb0(%x: f32, %d: f32, %o: f32):
    %y = arith.divf %x, %d : f32
    linalg.yield %y : f32
  } -> tensor<6x50x50xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eq : tensor<6x50x16xf32>) -> tensor<6x50x16xf32>
  %out = linalg.batch_matmul ins(%p, %v : tensor<6x50x50xf32>, tensor<6x50x16xf32>) outs(%fo : tensor<6x50x16xf32>) -> tensor<6x50x16xf32>
  return %out : tensor<6x50x16xf32>
}
