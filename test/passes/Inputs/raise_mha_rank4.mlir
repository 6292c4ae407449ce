// Dense causal multi-head attention, rank 4 (B, H, N, D) = (1, 4, 80, 64): both contractions as
// linalg.generic, scores divided by 8 = sqrt(D) (arith.divf by a splat tensor), the causal mask
// built in-graph as an (N, N) tensor of 0 / -inf and added to the scores, linalg.softmax.
// raise-attention: sparsek.dense_attention(q, k, v) {scale = 0.125, causal = true}.
func.func @attention(%q: tensor<1x4x80x64xf32>, %k: tensor<1x4x80x64xf32>, %v: tensor<1x4x80x64xf32>) -> tensor<1x4x80x64xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %sqrt_d = arith.constant dense<8.0> : tensor<1x4x80x80xf32>
  %es = tensor.empty() : tensor<1x4x80x80xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<1x4x80x80xf32>) -> tensor<1x4x80x80xf32>
  %scores = linalg.generic {indexing_maps = [affine_map<(b, h, i, j, d) -> (b, h, i, d)>, affine_map<(b, h, i, j, d) -> (b, h, j, d)>, affine_map<(b, h, i, j, d) -> (b, h, i, j)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<1x4x80x64xf32>, tensor<1x4x80x64xf32>) outs(%fs : tensor<1x4x80x80xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x4x80x80xf32>
  %scaled = arith.divf %scores, %sqrt_d : tensor<1x4x80x80xf32>
  %em = tensor.empty() : tensor<80x80xf32>
  %mask = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      outs(%em : tensor<80x80xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %future = arith.cmpi ugt, %j, %i : index
    %r = arith.select %future, %ninf, %zero : f32
    linalg.yield %r : f32
  } -> tensor<80x80xf32>
  %masked = linalg.generic {indexing_maps = [affine_map<(b, h, i, j) -> (b, h, i, j)>, affine_map<(b, h, i, j) -> (i, j)>, affine_map<(b, h, i, j) -> (b, h, i, j)>],
                           iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scaled, %mask : tensor<1x4x80x80xf32>, tensor<80x80xf32>) outs(%es : tensor<1x4x80x80xf32>) {
  ^bb0(%x: f32, %mk: f32, %o: f32):
    %r = arith.addf %x, %mk : f32
    linalg.yield %r : f32
  } -> tensor<1x4x80x80xf32>
  %p = linalg.softmax dimension(3) ins(%masked : tensor<1x4x80x80xf32>) outs(%es : tensor<1x4x80x80xf32>) -> tensor<1x4x80x80xf32>
  %eo = tensor.empty() : tensor<1x4x80x64xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<1x4x80x64xf32>) -> tensor<1x4x80x64xf32>
  %out = linalg.generic {indexing_maps = [affine_map<(b, h, i, d, j) -> (b, h, i, j)>, affine_map<(b, h, i, d, j) -> (b, h, j, d)>, affine_map<(b, h, i, d, j) -> (b, h, i, d)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<1x4x80x80xf32>, tensor<1x4x80x64xf32>) outs(%fo : tensor<1x4x80x64xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x4x80x64xf32>
  return %out : tensor<1x4x80x64xf32>
}
