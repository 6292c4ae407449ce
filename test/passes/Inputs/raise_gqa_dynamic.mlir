// Multi-query causal attention with a dynamic sequence length: q (1, 4, N, 16), k and v
// (1, 1, N, 16) read by every query head through generics indexing head h floordiv 4; scores
// divided by 4 = sqrt(D) and masked with the lowest f32 where i < j; softmax fully decomposed
// into linalg.generic ops (max, exp(x - max), sum, reciprocal, multiply).
// raise-attention: sparsek.dense_attention(q, k, v) {scale = 0.25, causal = true}.
func.func @attention(%q: tensor<1x4x?x16xf32>, %k: tensor<1x1x?x16xf32>, %v: tensor<1x1x?x16xf32>) -> tensor<1x4x?x16xf32> {
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %sqrt_d = arith.constant 4.0 : f32
  %lowest = arith.constant -3.40282347e+38 : f32
  %n = tensor.dim %q, %c2 : tensor<1x4x?x16xf32>
  %eh = tensor.empty(%n) : tensor<1x4x?x16xf32>
  %kh = linalg.generic {indexing_maps = [affine_map<(b, h, n, d) -> (b, h floordiv 4, n, d)>, affine_map<(b, h, n, d) -> (b, h, n, d)>],
                        iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%k : tensor<1x1x?x16xf32>) outs(%eh : tensor<1x4x?x16xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  } -> tensor<1x4x?x16xf32>
  %vh = linalg.generic {indexing_maps = [affine_map<(b, h, n, d) -> (b, h floordiv 4, n, d)>, affine_map<(b, h, n, d) -> (b, h, n, d)>],
                        iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%v : tensor<1x1x?x16xf32>) outs(%eh : tensor<1x4x?x16xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  } -> tensor<1x4x?x16xf32>
  %es = tensor.empty(%n, %n) : tensor<1x4x?x?xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<1x4x?x?xf32>) -> tensor<1x4x?x?xf32>
  %scores = linalg.generic {indexing_maps = [affine_map<(b, h, i, j, d) -> (b, h, i, d)>, affine_map<(b, h, i, j, d) -> (b, h, j, d)>, affine_map<(b, h, i, j, d) -> (b, h, i, j)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %kh : tensor<1x4x?x16xf32>, tensor<1x4x?x16xf32>) outs(%fs : tensor<1x4x?x?xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x4x?x?xf32>
  %masked = linalg.generic {indexing_maps = [affine_map<(b, h, i, j) -> (b, h, i, j)>, affine_map<(b, h, i, j) -> (b, h, i, j)>],
                           iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scores : tensor<1x4x?x?xf32>) outs(%es : tensor<1x4x?x?xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %y = arith.divf %x, %sqrt_d : f32
    %future = arith.cmpi slt, %i, %j : index
    %r = arith.select %future, %lowest, %y : f32
    linalg.yield %r : f32
  } -> tensor<1x4x?x?xf32>
  %er = tensor.empty(%n) : tensor<1x4x?xf32>
  %fm = linalg.fill ins(%lowest : f32) outs(%er : tensor<1x4x?xf32>) -> tensor<1x4x?xf32>
  %max = linalg.generic {indexing_maps = [affine_map<(b, h, i, j) -> (b, h, i, j)>, affine_map<(b, h, i, j) -> (b, h, i)>],
                        iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%masked : tensor<1x4x?x?xf32>) outs(%fm : tensor<1x4x?xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %m = arith.maxnumf %x, %acc : f32
    linalg.yield %m : f32
  } -> tensor<1x4x?xf32>
  %e = linalg.generic {indexing_maps = [affine_map<(b, h, i, j) -> (b, h, i, j)>, affine_map<(b, h, i, j) -> (b, h, i)>, affine_map<(b, h, i, j) -> (b, h, i, j)>],
                      iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%masked, %max : tensor<1x4x?x?xf32>, tensor<1x4x?xf32>) outs(%es : tensor<1x4x?x?xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %d = arith.subf %x, %m : f32
    %y = math.exp %d : f32
    linalg.yield %y : f32
  } -> tensor<1x4x?x?xf32>
  %fz = linalg.fill ins(%zero : f32) outs(%er : tensor<1x4x?xf32>) -> tensor<1x4x?xf32>
  %sum = linalg.generic {indexing_maps = [affine_map<(b, h, i, j) -> (b, h, i, j)>, affine_map<(b, h, i, j) -> (b, h, i)>],
                        iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%e : tensor<1x4x?x?xf32>) outs(%fz : tensor<1x4x?xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %a = arith.addf %x, %acc : f32
    linalg.yield %a : f32
  } -> tensor<1x4x?xf32>
  %inv = linalg.generic {indexing_maps = [affine_map<(b, h, i) -> (b, h, i)>, affine_map<(b, h, i) -> (b, h, i)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%sum : tensor<1x4x?xf32>) outs(%er : tensor<1x4x?xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.divf %one, %x : f32
    linalg.yield %y : f32
  } -> tensor<1x4x?xf32>
  %p = linalg.generic {indexing_maps = [affine_map<(b, h, i, j) -> (b, h, i, j)>, affine_map<(b, h, i, j) -> (b, h, i)>, affine_map<(b, h, i, j) -> (b, h, i, j)>],
                      iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%e, %inv : tensor<1x4x?x?xf32>, tensor<1x4x?xf32>) outs(%es : tensor<1x4x?x?xf32>) {
  ^bb0(%x: f32, %w: f32, %o: f32):
    %y = arith.mulf %x, %w : f32
    linalg.yield %y : f32
  } -> tensor<1x4x?x?xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eh : tensor<1x4x?x16xf32>) -> tensor<1x4x?x16xf32>
  %out = linalg.generic {indexing_maps = [affine_map<(b, h, i, d, j) -> (b, h, i, j)>, affine_map<(b, h, i, d, j) -> (b, h, j, d)>, affine_map<(b, h, i, d, j) -> (b, h, i, d)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %vh : tensor<1x4x?x?xf32>, tensor<1x4x?x16xf32>) outs(%fo : tensor<1x4x?x16xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x4x?x16xf32>
  return %out : tensor<1x4x?x16xf32>
}
