// Grouped-query causal attention, rank 4: q (1, 8, 64, 64), k and v (1, 2, 64, 64) shared by groups of
// 4 query heads through linalg.broadcast + tensor.collapse_shape (the repeat_interleave of
// K/V heads), K scaled by 0.125 = 1/sqrt(D), causal select to -inf, linalg.softmax.
// raise-attention: sparsek.dense_attention(q, k, v) {scale = 0.125, causal = true} on the
// un-broadcast k and v.
func.func @attention(%q: tensor<1x8x64x64xf32>, %k: tensor<1x2x64x64xf32>, %v: tensor<1x2x64x64xf32>) -> tensor<1x8x64x64xf32> {
  %zero = arith.constant 0.0 : f32
  %scale = arith.constant 0.125 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %eb = tensor.empty() : tensor<1x2x4x64x64xf32>
  %kb = linalg.broadcast ins(%k : tensor<1x2x64x64xf32>) outs(%eb : tensor<1x2x4x64x64xf32>) dimensions = [2]
  %kr = tensor.collapse_shape %kb [[0], [1, 2], [3], [4]] : tensor<1x2x4x64x64xf32> into tensor<1x8x64x64xf32>
  %vb = linalg.broadcast ins(%v : tensor<1x2x64x64xf32>) outs(%eb : tensor<1x2x4x64x64xf32>) dimensions = [2]
  %vr = tensor.collapse_shape %vb [[0], [1, 2], [3], [4]] : tensor<1x2x4x64x64xf32> into tensor<1x8x64x64xf32>
  %eq = tensor.empty() : tensor<1x8x64x64xf32>
  %ks = linalg.generic {indexing_maps = [affine_map<(b, h, i, j) -> (b, h, i, j)>, affine_map<(b, h, i, j) -> (b, h, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%kr : tensor<1x8x64x64xf32>) outs(%eq : tensor<1x8x64x64xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.mulf %x, %scale : f32
    linalg.yield %y : f32
  } -> tensor<1x8x64x64xf32>
  %es = tensor.empty() : tensor<1x8x64x64xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<1x8x64x64xf32>) -> tensor<1x8x64x64xf32>
  %scores = linalg.generic {indexing_maps = [affine_map<(b, h, i, j, d) -> (b, h, i, d)>, affine_map<(b, h, i, j, d) -> (b, h, j, d)>, affine_map<(b, h, i, j, d) -> (b, h, i, j)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %ks : tensor<1x8x64x64xf32>, tensor<1x8x64x64xf32>) outs(%fs : tensor<1x8x64x64xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x8x64x64xf32>
  %masked = linalg.generic {indexing_maps = [affine_map<(b, h, i, j) -> (b, h, i, j)>, affine_map<(b, h, i, j) -> (b, h, i, j)>],
                           iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scores : tensor<1x8x64x64xf32>) outs(%es : tensor<1x8x64x64xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %future = arith.cmpi ugt, %j, %i : index
    %r = arith.select %future, %ninf, %x : f32
    linalg.yield %r : f32
  } -> tensor<1x8x64x64xf32>
  %p = linalg.softmax dimension(3) ins(%masked : tensor<1x8x64x64xf32>) outs(%es : tensor<1x8x64x64xf32>) -> tensor<1x8x64x64xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eq : tensor<1x8x64x64xf32>) -> tensor<1x8x64x64xf32>
  %out = linalg.generic {indexing_maps = [affine_map<(b, h, i, d, j) -> (b, h, i, j)>, affine_map<(b, h, i, d, j) -> (b, h, j, d)>, affine_map<(b, h, i, d, j) -> (b, h, i, d)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %vr : tensor<1x8x64x64xf32>, tensor<1x8x64x64xf32>) outs(%fo : tensor<1x8x64x64xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x8x64x64xf32>
  return %out : tensor<1x8x64x64xf32>
}
