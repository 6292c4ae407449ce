// raise-attention: one case per recognized form (and combinations), then one negative case
// per rejection rule, then inputs that must pass through untouched without crashing.
// RUN: skc-opt --skc-raise-attention --split-input-file %s | FileCheck %s
// The example models of Inputs/ (used end to end) raise completely, no linalg op left:
// RUN: skc-opt --skc-raise-attention %S/Inputs/raise_bmm_rank3.mlir | FileCheck %s --check-prefix=BMM3 --implicit-check-not=linalg.
// RUN: skc-opt --skc-raise-attention %S/Inputs/raise_decomposed_rank3.mlir | FileCheck %s --check-prefix=DEC3 --implicit-check-not=linalg.
// RUN: skc-opt --skc-raise-attention %S/Inputs/raise_mha_rank4.mlir | FileCheck %s --check-prefix=MHA4 --implicit-check-not=linalg.
// RUN: skc-opt --skc-raise-attention %S/Inputs/raise_gqa_broadcast.mlir | FileCheck %s --check-prefix=GQAB --implicit-check-not=linalg.
// RUN: skc-opt --skc-raise-attention %S/Inputs/raise_gqa_dynamic.mlir | FileCheck %s --check-prefix=GQAD --implicit-check-not=linalg.
// BMM3: "sparsek.dense_attention"(%arg0, %arg1, %arg2) {causal = true, scale = 2.500000e-01 : f64} : (tensor<4x64x16xf32>, tensor<4x64x16xf32>, tensor<4x64x16xf32>) -> tensor<4x64x16xf32>
// DEC3: "sparsek.dense_attention"(%arg0, %arg1, %arg2) {causal = true, scale = 2.500000e-01 : f64} : (tensor<6x50x16xf32>, tensor<6x50x16xf32>, tensor<6x50x16xf32>) -> tensor<6x50x16xf32>
// MHA4: "sparsek.dense_attention"(%arg0, %arg1, %arg2) {causal = true, scale = 1.250000e-01 : f64} : (tensor<1x4x80x64xf32>, tensor<1x4x80x64xf32>, tensor<1x4x80x64xf32>) -> tensor<1x4x80x64xf32>
// GQAB: "sparsek.dense_attention"(%arg0, %arg1, %arg2) {causal = true, scale = 1.250000e-01 : f64} : (tensor<1x8x64x64xf32>, tensor<1x2x64x64xf32>, tensor<1x2x64x64xf32>) -> tensor<1x8x64x64xf32>
// GQAD: "sparsek.dense_attention"(%arg0, %arg1, %arg2) {causal = true, scale = 2.500000e-01 : f64} : (tensor<1x4x?x16xf32>, tensor<1x1x?x16xf32>, tensor<1x1x?x16xf32>) -> tensor<1x4x?x16xf32>

// Rank 3, Q.K^T as batch_matmul with transposing indexing_maps, scale on the scores (mulf in
// the mask generic), causal select to -inf, linalg.softmax, plain batch_matmul for P.V.
// CHECK-LABEL: func.func @rank3_bmm_maps_select_softmax
// CHECK-SAME: (%[[Q:.*]]: tensor<4x16x8xf32>, %[[K:.*]]: tensor<4x16x8xf32>, %[[V:.*]]: tensor<4x16x8xf32>)
// CHECK-NEXT: %[[O:.*]] = "sparsek.dense_attention"(%[[Q]], %[[K]], %[[V]]) {causal = true, scale = 1.250000e-01 : f64}
// CHECK-NEXT: return %[[O]]
func.func @rank3_bmm_maps_select_softmax(%q: tensor<4x16x8xf32>, %k: tensor<4x16x8xf32>, %v: tensor<4x16x8xf32>) -> tensor<4x16x8xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x16x16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x16x16xf32>) -> tensor<4x16x16xf32>
  %s = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%q, %k : tensor<4x16x8xf32>, tensor<4x16x8xf32>) outs(%f : tensor<4x16x16xf32>) -> tensor<4x16x16xf32>
  %c = arith.constant 0.125 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %m = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<4x16x16xf32>) outs(%e : tensor<4x16x16xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %y = arith.mulf %x, %c : f32
    %gt = arith.cmpi ugt, %j, %i : index
    %r = arith.select %gt, %ninf, %y : f32
    linalg.yield %r : f32
  } -> tensor<4x16x16xf32>
  %p = linalg.softmax dimension(2) ins(%m : tensor<4x16x16xf32>) outs(%e : tensor<4x16x16xf32>) -> tensor<4x16x16xf32>
  %e3 = tensor.empty() : tensor<4x16x8xf32>
  %f3 = linalg.fill ins(%zero : f32) outs(%e3 : tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<4x16x16xf32>, tensor<4x16x8xf32>) outs(%f3 : tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  return %o : tensor<4x16x8xf32>
}

// -----

// Rank 3, K transposed by linalg.transpose then a plain batch_matmul, scale on Q (generic
// mulf by a captured constant), decomposed softmax as linalg.reduce + linalg.map/generic ops.
// CHECK-LABEL: func.func @rank3_transpose_decomposed_scale_q
// CHECK-SAME: (%[[Q:.*]]: tensor<2x8x4xf32>, %[[K:.*]]: tensor<2x8x4xf32>, %[[V:.*]]: tensor<2x8x4xf32>)
// CHECK-NEXT: %[[O:.*]] = "sparsek.dense_attention"(%[[Q]], %[[K]], %[[V]]) {causal = true, scale = 5.000000e-01 : f64}
// CHECK-NEXT: return %[[O]]
func.func @rank3_transpose_decomposed_scale_q(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %half = arith.constant 0.5 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %eq = tensor.empty() : tensor<2x8x4xf32>
  %qs = linalg.generic {indexing_maps = [affine_map<(b, n, d) -> (b, n, d)>, affine_map<(b, n, d) -> (b, n, d)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%q : tensor<2x8x4xf32>) outs(%eq : tensor<2x8x4xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.mulf %x, %half : f32
    linalg.yield %y : f32
  } -> tensor<2x8x4xf32>
  %ekt = tensor.empty() : tensor<2x4x8xf32>
  %kt = linalg.transpose ins(%k : tensor<2x8x4xf32>) outs(%ekt : tensor<2x4x8xf32>) permutation = [0, 2, 1]
  %es = tensor.empty() : tensor<2x8x8xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul ins(%qs, %kt : tensor<2x8x4xf32>, tensor<2x4x8xf32>) outs(%fs : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %ok = arith.cmpi ule, %j, %i : index
    %r = arith.select %ok, %x, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %er = tensor.empty() : tensor<2x8xf32>
  %fm = linalg.fill ins(%ninf : f32) outs(%er : tensor<2x8xf32>) -> tensor<2x8xf32>
  %mx = linalg.reduce ins(%m : tensor<2x8x8xf32>) outs(%fm : tensor<2x8xf32>) dimensions = [2]
    (%in: f32, %acc: f32) {
      %r = arith.maximumf %in, %acc : f32
      linalg.yield %r : f32
    }
  %mxb = linalg.broadcast ins(%mx : tensor<2x8xf32>) outs(%es : tensor<2x8x8xf32>) dimensions = [2]
  %sub = linalg.sub ins(%m, %mxb : tensor<2x8x8xf32>, tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %ex = linalg.exp ins(%sub : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %fz = linalg.fill ins(%zero : f32) outs(%er : tensor<2x8xf32>) -> tensor<2x8xf32>
  %sum = linalg.reduce ins(%ex : tensor<2x8x8xf32>) outs(%fz : tensor<2x8xf32>) dimensions = [2]
    (%in: f32, %acc: f32) {
      %r = arith.addf %in, %acc : f32
      linalg.yield %r : f32
    }
  %p = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i)>, affine_map<(b, i, j) -> (b, i, j)>],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%ex, %sum : tensor<2x8x8xf32>, tensor<2x8xf32>) outs(%es : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %d: f32, %o: f32):
    %r = arith.divf %x, %d : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eq : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%fo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

// Rank 3, scale on the scores by arith.divf with a dense splat tensor, causal mask as an
// in-graph (N, N) 0 / -inf tensor added to the scores (broadcast by the add's map).
// CHECK-LABEL: func.func @rank3_div_scores_mask_tensor
// CHECK-SAME: (%[[Q:.*]]: tensor<2x8x4xf32>, %[[K:.*]]: tensor<2x8x4xf32>, %[[V:.*]]: tensor<2x8x4xf32>)
// CHECK-NEXT: %[[O:.*]] = "sparsek.dense_attention"(%[[Q]], %[[K]], %[[V]]) {causal = true, scale = 5.000000e-01 : f64}
// CHECK-NEXT: return %[[O]]
func.func @rank3_div_scores_mask_tensor(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %two = arith.constant dense<2.0> : tensor<2x8x8xf32>
  %es = tensor.empty() : tensor<2x8x8xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%q, %k : tensor<2x8x4xf32>, tensor<2x8x4xf32>) outs(%fs : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %sd = arith.divf %s, %two : tensor<2x8x8xf32>
  %em = tensor.empty() : tensor<8x8xf32>
  %mask = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      outs(%em : tensor<8x8xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %gt = arith.cmpi ugt, %j, %i : index
    %r = arith.select %gt, %ninf, %zero : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%sd, %mask : tensor<2x8x8xf32>, tensor<8x8xf32>) outs(%es : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %r = arith.addf %x, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %eo = tensor.empty() : tensor<2x8x4xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%fo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

// Rank 4 MHA, both contractions as linalg.generic, scale on K (divf by a constant), causal
// select on "i >= j" keeping the scores and -1e9 elsewhere, linalg.softmax over dim 3.
// CHECK-LABEL: func.func @rank4_generic_scale_k
// CHECK-SAME: (%[[Q:.*]]: tensor<1x2x8x4xf32>, %[[K:.*]]: tensor<1x2x8x4xf32>, %[[V:.*]]: tensor<1x2x8x4xf32>)
// CHECK-NEXT: %[[O:.*]] = "sparsek.dense_attention"(%[[Q]], %[[K]], %[[V]]) {causal = true, scale = 2.500000e-01 : f64}
// CHECK-NEXT: return %[[O]]
func.func @rank4_generic_scale_k(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %four = arith.constant 4.0 : f32
  %neg = arith.constant -1.0e9 : f32
  %ek = tensor.empty() : tensor<1x2x8x4xf32>
  %ks = linalg.generic {indexing_maps = [affine_map<(b, h, n, d) -> (b, h, n, d)>, affine_map<(b, h, n, d) -> (b, h, n, d)>],
                        iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%k : tensor<1x2x8x4xf32>) outs(%ek : tensor<1x2x8x4xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.divf %x, %four : f32
    linalg.yield %y : f32
  } -> tensor<1x2x8x4xf32>
  %es = tensor.empty() : tensor<1x2x8x8xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(b, h, i, j, d) -> (b, h, i, d)>, affine_map<(b, h, i, j, d) -> (b, h, j, d)>, affine_map<(b, h, i, j, d) -> (b, h, i, j)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %ks : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) outs(%fs : tensor<1x2x8x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, h, i, j) -> (b, h, i, j)>, affine_map<(b, h, i, j) -> (b, h, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%s : tensor<1x2x8x8xf32>) outs(%es : tensor<1x2x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %ok = arith.cmpi sge, %i, %j : index
    %r = arith.select %ok, %x, %neg : f32
    linalg.yield %r : f32
  } -> tensor<1x2x8x8xf32>
  %p = linalg.softmax dimension(3) ins(%sm : tensor<1x2x8x8xf32>) outs(%es : tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %eo = tensor.empty() : tensor<1x2x8x4xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(b, h, i, d, j) -> (b, h, i, j)>, affine_map<(b, h, i, d, j) -> (b, h, j, d)>, affine_map<(b, h, i, d, j) -> (b, h, i, d)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<1x2x8x8xf32>, tensor<1x2x8x4xf32>) outs(%fo : tensor<1x2x8x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

// Rank 4 GQA (4 query heads, 2 key/value heads) through linalg.broadcast + collapse_shape,
// in-graph mask tensor added to the scores, linalg.softmax, scores divided by a filled
// tensor (linalg.div). The dense op reads the un-broadcast K and V.
// CHECK-LABEL: func.func @rank4_gqa_broadcast_mask_tensor_div
// CHECK-SAME: (%[[Q:.*]]: tensor<1x4x8x4xf32>, %[[K:.*]]: tensor<1x2x8x4xf32>, %[[V:.*]]: tensor<1x2x8x4xf32>)
// CHECK-NEXT: %[[O:.*]] = "sparsek.dense_attention"(%[[Q]], %[[K]], %[[V]]) {causal = true, scale = 1.250000e-01 : f64}
// CHECK-SAME: (tensor<1x4x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x4x8x4xf32>
// CHECK-NEXT: return %[[O]]
func.func @rank4_gqa_broadcast_mask_tensor_div(%q: tensor<1x4x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x4x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %eight = arith.constant 8.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %eb = tensor.empty() : tensor<1x2x2x8x4xf32>
  %kb = linalg.broadcast ins(%k : tensor<1x2x8x4xf32>) outs(%eb : tensor<1x2x2x8x4xf32>) dimensions = [2]
  %kc = tensor.collapse_shape %kb [[0], [1, 2], [3], [4]] : tensor<1x2x2x8x4xf32> into tensor<1x4x8x4xf32>
  %vb = linalg.broadcast ins(%v : tensor<1x2x8x4xf32>) outs(%eb : tensor<1x2x2x8x4xf32>) dimensions = [2]
  %vc = tensor.collapse_shape %vb [[0], [1, 2], [3], [4]] : tensor<1x2x2x8x4xf32> into tensor<1x4x8x4xf32>
  %es = tensor.empty() : tensor<1x4x8x8xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(b, h, i, j, d) -> (b, h, i, d)>, affine_map<(b, h, i, j, d) -> (b, h, j, d)>, affine_map<(b, h, i, j, d) -> (b, h, i, j)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %kc : tensor<1x4x8x4xf32>, tensor<1x4x8x4xf32>) outs(%fs : tensor<1x4x8x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x4x8x8xf32>
  %f8 = linalg.fill ins(%eight : f32) outs(%es : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %sd = linalg.div ins(%s, %f8 : tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) outs(%es : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %em = tensor.empty() : tensor<8x8xf32>
  %mask = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      outs(%em : tensor<8x8xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %le = arith.cmpi ule, %j, %i : index
    %r = arith.select %le, %zero, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, h, i, j) -> (i, j)>, affine_map<(b, h, i, j) -> (b, h, i, j)>, affine_map<(b, h, i, j) -> (b, h, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%mask, %sd : tensor<8x8xf32>, tensor<1x4x8x8xf32>) outs(%es : tensor<1x4x8x8xf32>) {
  ^bb0(%m: f32, %x: f32, %o: f32):
    %r = arith.addf %m, %x : f32
    linalg.yield %r : f32
  } -> tensor<1x4x8x8xf32>
  %p = linalg.softmax dimension(3) ins(%sm : tensor<1x4x8x8xf32>) outs(%es : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %eo = tensor.empty() : tensor<1x4x8x4xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<1x4x8x4xf32>) -> tensor<1x4x8x4xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(b, h, i, d, j) -> (b, h, i, j)>, affine_map<(b, h, i, d, j) -> (b, h, j, d)>, affine_map<(b, h, i, d, j) -> (b, h, i, d)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %vc : tensor<1x4x8x8xf32>, tensor<1x4x8x4xf32>) outs(%fo : tensor<1x4x8x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x4x8x4xf32>
  return %o : tensor<1x4x8x4xf32>
}

// -----

// Rank 4 GQA through generics that read head h floordiv 2; fully decomposed softmax in
// linalg.generic ops (max by cmpf + select, fused exp(x - max), sum, reciprocal, mul);
// mask "i < j" -> -inf; scale on the scores: x / sqrt(4.0) computed in the payload.
// CHECK-LABEL: func.func @rank4_gqa_floordiv_decomposed_generic
// CHECK-SAME: (%[[Q:.*]]: tensor<2x4x8x4xf32>, %[[K:.*]]: tensor<2x2x8x4xf32>, %[[V:.*]]: tensor<2x2x8x4xf32>)
// CHECK-NEXT: %[[O:.*]] = "sparsek.dense_attention"(%[[Q]], %[[K]], %[[V]]) {causal = true, scale = 5.000000e-01 : f64}
// CHECK-NEXT: return %[[O]]
func.func @rank4_gqa_floordiv_decomposed_generic(%q: tensor<2x4x8x4xf32>, %k: tensor<2x2x8x4xf32>, %v: tensor<2x2x8x4xf32>) -> tensor<2x4x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %four = arith.constant 4.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %eh = tensor.empty() : tensor<2x4x8x4xf32>
  %kr = linalg.generic {indexing_maps = [affine_map<(b, h, n, d) -> (b, h floordiv 2, n, d)>, affine_map<(b, h, n, d) -> (b, h, n, d)>],
                        iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%k : tensor<2x2x8x4xf32>) outs(%eh : tensor<2x4x8x4xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  } -> tensor<2x4x8x4xf32>
  %vr = linalg.generic {indexing_maps = [affine_map<(b, h, n, d) -> (b, h floordiv 2, n, d)>, affine_map<(b, h, n, d) -> (b, h, n, d)>],
                        iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%v : tensor<2x2x8x4xf32>) outs(%eh : tensor<2x4x8x4xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  } -> tensor<2x4x8x4xf32>
  %es = tensor.empty() : tensor<2x4x8x8xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(b, h, i, j, d) -> (b, h, i, d)>, affine_map<(b, h, i, j, d) -> (b, h, j, d)>, affine_map<(b, h, i, j, d) -> (b, h, i, j)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %kr : tensor<2x4x8x4xf32>, tensor<2x4x8x4xf32>) outs(%fs : tensor<2x4x8x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %m, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2x4x8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, h, i, j) -> (b, h, i, j)>, affine_map<(b, h, i, j) -> (b, h, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x4x8x8xf32>) outs(%es : tensor<2x4x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %sq = math.sqrt %four : f32
    %y = arith.divf %x, %sq : f32
    %lt = arith.cmpi slt, %i, %j : index
    %r = arith.select %lt, %ninf, %y : f32
    linalg.yield %r : f32
  } -> tensor<2x4x8x8xf32>
  %er = tensor.empty() : tensor<2x4x8xf32>
  %fm = linalg.fill ins(%ninf : f32) outs(%er : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %mx = linalg.generic {indexing_maps = [affine_map<(b, h, i, j) -> (b, h, i, j)>, affine_map<(b, h, i, j) -> (b, h, i)>],
                        iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%sm : tensor<2x4x8x8xf32>) outs(%fm : tensor<2x4x8xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %gt = arith.cmpf ogt, %x, %acc : f32
    %r = arith.select %gt, %x, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2x4x8xf32>
  %ex = linalg.generic {indexing_maps = [affine_map<(b, h, i, j) -> (b, h, i, j)>, affine_map<(b, h, i, j) -> (b, h, i)>, affine_map<(b, h, i, j) -> (b, h, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%sm, %mx : tensor<2x4x8x8xf32>, tensor<2x4x8xf32>) outs(%es : tensor<2x4x8x8xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %d = arith.subf %x, %m : f32
    %e = math.exp %d : f32
    linalg.yield %e : f32
  } -> tensor<2x4x8x8xf32>
  %fz = linalg.fill ins(%zero : f32) outs(%er : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %sum = linalg.generic {indexing_maps = [affine_map<(b, h, i, j) -> (b, h, i, j)>, affine_map<(b, h, i, j) -> (b, h, i)>],
                         iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%ex : tensor<2x4x8x8xf32>) outs(%fz : tensor<2x4x8xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %r = arith.addf %x, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2x4x8xf32>
  %rc = linalg.generic {indexing_maps = [affine_map<(b, h, i) -> (b, h, i)>, affine_map<(b, h, i) -> (b, h, i)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%sum : tensor<2x4x8xf32>) outs(%er : tensor<2x4x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %r = arith.divf %one, %x : f32
    linalg.yield %r : f32
  } -> tensor<2x4x8xf32>
  %p = linalg.generic {indexing_maps = [affine_map<(b, h, i, j) -> (b, h, i, j)>, affine_map<(b, h, i, j) -> (b, h, i)>, affine_map<(b, h, i, j) -> (b, h, i, j)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%ex, %rc : tensor<2x4x8x8xf32>, tensor<2x4x8xf32>) outs(%es : tensor<2x4x8x8xf32>) {
  ^bb0(%x: f32, %r: f32, %o: f32):
    %y = arith.mulf %x, %r : f32
    linalg.yield %y : f32
  } -> tensor<2x4x8x8xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eh : tensor<2x4x8x4xf32>) -> tensor<2x4x8x4xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(b, h, i, d, j) -> (b, h, i, j)>, affine_map<(b, h, i, d, j) -> (b, h, j, d)>, affine_map<(b, h, i, d, j) -> (b, h, i, d)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %vr : tensor<2x4x8x8xf32>, tensor<2x4x8x4xf32>) outs(%fo : tensor<2x4x8x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x4x8x4xf32>
  return %o : tensor<2x4x8x4xf32>
}

// -----

// Rank 3 with dynamic N: scale on both Q and K (arith.mulf by dense splat tensors, the scale
// is the product), softmax as exp / sum (no max shift) in linalg.map ops, P.V as a generic.
// CHECK-LABEL: func.func @rank3_dynamic_scale_qk_exp_sum
// CHECK-SAME: (%[[Q:.*]]: tensor<2x?x4xf32>, %[[K:.*]]: tensor<2x?x4xf32>, %[[V:.*]]: tensor<2x?x4xf32>)
// CHECK: %[[O:.*]] = "sparsek.dense_attention"(%[[Q]], %[[K]], %[[V]]) {causal = true, scale = 2.500000e-01 : f64}
// CHECK-NOT: linalg.
// CHECK: return %[[O]]
func.func @rank3_dynamic_scale_qk_exp_sum(%q: tensor<2x?x4xf32>, %k: tensor<2x?x4xf32>, %v: tensor<2x?x4xf32>) -> tensor<2x?x4xf32> {
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %n = tensor.dim %q, %c1 : tensor<2x?x4xf32>
  %h = arith.constant 0.5 : f32
  %eq = tensor.empty(%n) : tensor<2x?x4xf32>
  %half = linalg.fill ins(%h : f32) outs(%eq : tensor<2x?x4xf32>) -> tensor<2x?x4xf32>
  %qs = arith.mulf %q, %half : tensor<2x?x4xf32>
  %ks = arith.mulf %half, %k : tensor<2x?x4xf32>
  %es = tensor.empty(%n, %n) : tensor<2x?x?xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
  %s = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%qs, %ks : tensor<2x?x4xf32>, tensor<2x?x4xf32>) outs(%fs : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x?x?xf32>) outs(%es : tensor<2x?x?xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %ii = arith.index_cast %i : index to i64
    %jj = arith.index_cast %j : index to i64
    %gt = arith.cmpi sgt, %jj, %ii : i64
    %r = arith.select %gt, %ninf, %x : f32
    linalg.yield %r : f32
  } -> tensor<2x?x?xf32>
  %ex = linalg.map { math.exp } ins(%sm : tensor<2x?x?xf32>) outs(%es : tensor<2x?x?xf32>)
  %er = tensor.empty(%n) : tensor<2x?xf32>
  %fz = linalg.fill ins(%zero : f32) outs(%er : tensor<2x?xf32>) -> tensor<2x?xf32>
  %sum = linalg.reduce { arith.addf } ins(%ex : tensor<2x?x?xf32>) outs(%fz : tensor<2x?xf32>) dimensions = [2]
  %sb = linalg.broadcast ins(%sum : tensor<2x?xf32>) outs(%es : tensor<2x?x?xf32>) dimensions = [2]
  %p = linalg.map { arith.divf } ins(%ex, %sb : tensor<2x?x?xf32>, tensor<2x?x?xf32>) outs(%es : tensor<2x?x?xf32>)
  %eo = tensor.empty(%n) : tensor<2x?x4xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x?x4xf32>) -> tensor<2x?x4xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(b, i, d, j) -> (b, i, j)>, affine_map<(b, i, d, j) -> (b, j, d)>, affine_map<(b, i, d, j) -> (b, i, d)>],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<2x?x?xf32>, tensor<2x?x4xf32>) outs(%fo : tensor<2x?x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %b, %a : f32
    %r = arith.addf %m, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2x?x4xf32>
  return %o : tensor<2x?x4xf32>
}

// -----

// Rank 3, Q.K^T as a linalg.generic contraction, K scaled by linalg.map { mulf } with a
// dense splat tensor and Q divided by linalg.map { divf } (scale 0.5 / 2), causal select to
// the lowest f32, linalg.softmax.
// CHECK-LABEL: func.func @rank3_generic_map_scales
// CHECK-SAME: (%[[Q:.*]]: tensor<2x8x4xf32>, %[[K:.*]]: tensor<2x8x4xf32>, %[[V:.*]]: tensor<2x8x4xf32>)
// CHECK-NEXT: %[[O:.*]] = "sparsek.dense_attention"(%[[Q]], %[[K]], %[[V]]) {causal = true, scale = 2.500000e-01 : f64}
// CHECK-NEXT: return %[[O]]
func.func @rank3_generic_map_scales(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %lowest = arith.constant -3.40282347e+38 : f32
  %half = arith.constant dense<0.5> : tensor<2x8x4xf32>
  %two = arith.constant dense<2.0> : tensor<2x8x4xf32>
  %ed = tensor.empty() : tensor<2x8x4xf32>
  %ks = linalg.map { arith.mulf } ins(%k, %half : tensor<2x8x4xf32>, tensor<2x8x4xf32>) outs(%ed : tensor<2x8x4xf32>)
  %qs = linalg.map { arith.divf } ins(%q, %two : tensor<2x8x4xf32>, tensor<2x8x4xf32>) outs(%ed : tensor<2x8x4xf32>)
  %es = tensor.empty() : tensor<2x8x8xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(b, i, j, d) -> (b, i, d)>, affine_map<(b, i, j, d) -> (b, j, d)>, affine_map<(b, i, j, d) -> (b, i, j)>],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%qs, %ks : tensor<2x8x4xf32>, tensor<2x8x4xf32>) outs(%fs : tensor<2x8x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %gt = arith.cmpi ugt, %j, %i : index
    %r = arith.select %gt, %lowest, %x : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%ed : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%fo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

// Rank 3, the PyTorch tril pattern: a boolean (N, N) keep-mask built in-graph by comparing an
// arange with itself (i >= j), used by a select to -inf; scores scaled by arith.mulf on
// tensors with a dense splat.
// CHECK-LABEL: func.func @rank3_arange_bool_mask
// CHECK-NEXT: %[[O:.*]] = "sparsek.dense_attention"(%arg0, %arg1, %arg2) {causal = true, scale = 5.000000e-01 : f64}
// CHECK-NEXT: return %[[O]]
func.func @rank3_arange_bool_mask(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %scale = arith.constant dense<0.5> : tensor<2x8x8xf32>
  %es = tensor.empty() : tensor<2x8x8xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%q, %k : tensor<2x8x4xf32>, tensor<2x8x4xf32>) outs(%fs : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %ss = arith.mulf %s, %scale : tensor<2x8x8xf32>
  %ea = tensor.empty() : tensor<8xi64>
  %ar = linalg.generic {indexing_maps = [affine_map<(n) -> (n)>], iterator_types = ["parallel"]} outs(%ea : tensor<8xi64>) {
  ^bb0(%o: i64):
    %n = linalg.index 0 : index
    %c = arith.index_cast %n : index to i64
    linalg.yield %c : i64
  } -> tensor<8xi64>
  %eb = tensor.empty() : tensor<8x8xi1>
  %keep = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>],
                          iterator_types = ["parallel", "parallel"]}
      ins(%ar, %ar : tensor<8xi64>, tensor<8xi64>) outs(%eb : tensor<8x8xi1>) {
  ^bb0(%a: i64, %b: i64, %o: i1):
    %c = arith.cmpi sge, %a, %b : i64
    linalg.yield %c : i1
  } -> tensor<8x8xi1>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%ss, %keep : tensor<2x8x8xf32>, tensor<8x8xi1>) outs(%es : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %kp: i1, %o: f32):
    %r = arith.select %kp, %x, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %eo = tensor.empty() : tensor<2x8x4xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%fo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

// Rank 3, the BERT-style float mask: (1 - float(i >= j)) * lowest, added to the scores.
// CHECK-LABEL: func.func @rank3_bert_float_mask
// CHECK-NEXT: %[[O:.*]] = "sparsek.dense_attention"(%arg0, %arg1, %arg2) {causal = true, scale = 5.000000e-01 : f64}
// CHECK-NEXT: return %[[O]]
func.func @rank3_bert_float_mask(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %lowest = arith.constant -3.40282347e+38 : f32
  %two = arith.constant dense<2.0> : tensor<2x8x8xf32>
  %es = tensor.empty() : tensor<2x8x8xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%q, %k : tensor<2x8x4xf32>, tensor<2x8x4xf32>) outs(%fs : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %sd = arith.divf %s, %two : tensor<2x8x8xf32>
  %em = tensor.empty() : tensor<8x8xf32>
  %mask = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      outs(%em : tensor<8x8xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %keep = arith.cmpi uge, %i, %j : index
    %kf = arith.uitofp %keep : i1 to f32
    %drop = arith.subf %one, %kf : f32
    %r = arith.mulf %drop, %lowest : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%sd, %mask : tensor<2x8x8xf32>, tensor<8x8xf32>) outs(%es : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %r = arith.addf %x, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %eo = tensor.empty() : tensor<2x8x4xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%fo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

// The attention weights have a second use (returned): the dense op replaces P.V, the
// softmax chain stays for the other use.
// CHECK-LABEL: func.func @weights_also_returned
// CHECK: %[[P:.*]] = linalg.softmax
// CHECK: %[[O:.*]] = "sparsek.dense_attention"(%arg0, %arg1, %arg2) {causal = true, scale = 1.000000e+00 : f64}
// CHECK-NOT: linalg.batch_matmul ins(%[[P]]
// CHECK: return %[[O]], %[[P]]
func.func @weights_also_returned(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x4xf32>) -> (tensor<2x8x4xf32>, tensor<2x8x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %es = tensor.empty() : tensor<2x8x8xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%q, %k : tensor<2x8x4xf32>, tensor<2x8x4xf32>) outs(%fs : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %gt = arith.cmpi ugt, %j, %i : index
    %r = arith.select %gt, %ninf, %x : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %eo = tensor.empty() : tensor<2x8x4xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%fo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o, %p : tensor<2x8x4xf32>, tensor<2x8x8xf32>
}

// -----

// Two attention layers in one function, the second reading the first's output as Q, K, V.
// CHECK-LABEL: func.func @two_layers
// CHECK-NEXT: %[[A:.*]] = "sparsek.dense_attention"(%arg0, %arg1, %arg2) {causal = true, scale = 1.250000e-01 : f64}
// CHECK-NEXT: %[[B:.*]] = "sparsek.dense_attention"(%[[A]], %[[A]], %[[A]]) {causal = true, scale = 2.500000e-01 : f64}
// CHECK-NEXT: return %[[B]]
func.func @two_layers(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c1 = arith.constant 0.125 : f32
  %c2 = arith.constant 0.25 : f32
  %es = tensor.empty() : tensor<2x8x8xf32>
  %eo = tensor.empty() : tensor<2x8x4xf32>
  %afs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %as = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%q, %k : tensor<2x8x4xf32>, tensor<2x8x4xf32>) outs(%afs : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %asm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%as : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %y = arith.mulf %x, %c1 : f32
    %gt = arith.cmpi ugt, %j, %i : index
    %r = arith.select %gt, %ninf, %y : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %ap = linalg.softmax dimension(2) ins(%asm : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %afo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %ao = linalg.batch_matmul ins(%ap, %v : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%afo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %bfs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %bs = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%ao, %ao : tensor<2x8x4xf32>, tensor<2x8x4xf32>) outs(%bfs : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %bsm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%bs : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %y = arith.mulf %x, %c2 : f32
    %gt = arith.cmpi ugt, %j, %i : index
    %r = arith.select %gt, %ninf, %y : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %bp = linalg.softmax dimension(2) ins(%bsm : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %bfo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %bo = linalg.batch_matmul ins(%bp, %ao : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%bfo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %bo : tensor<2x8x4xf32>
}
// -----

// Rank 4 exported the PyTorch way: heads folded into the batch (collapse_shape to (B*H, N, D)),
// K/V heads repeated for GQA (broadcast + collapse), batch_matmul on rank 3, the output
// expanded back to (B, H, N, D): raised to rank-4 GQA attention on the original tensors.
// CHECK-LABEL: func.func @rank4_collapsed_bmm_gqa
// CHECK-SAME: (%[[Q:.*]]: tensor<1x4x8x4xf32>, %[[K:.*]]: tensor<1x2x8x4xf32>, %[[V:.*]]: tensor<1x2x8x4xf32>)
// CHECK-NEXT: %[[O:.*]] = "sparsek.dense_attention"(%[[Q]], %[[K]], %[[V]]) {causal = true, scale = 5.000000e-01 : f64}
// CHECK-SAME: -> tensor<1x4x8x4xf32>
// CHECK-NEXT: return %[[O]]
func.func @rank4_collapsed_bmm_gqa(%q: tensor<1x4x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x4x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.5 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %eb = tensor.empty() : tensor<1x2x2x8x4xf32>
  %kb = linalg.broadcast ins(%k : tensor<1x2x8x4xf32>) outs(%eb : tensor<1x2x2x8x4xf32>) dimensions = [2]
  %k4 = tensor.collapse_shape %kb [[0], [1, 2], [3], [4]] : tensor<1x2x2x8x4xf32> into tensor<1x4x8x4xf32>
  %vb = linalg.broadcast ins(%v : tensor<1x2x8x4xf32>) outs(%eb : tensor<1x2x2x8x4xf32>) dimensions = [2]
  %v4 = tensor.collapse_shape %vb [[0], [1, 2], [3], [4]] : tensor<1x2x2x8x4xf32> into tensor<1x4x8x4xf32>
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x8x4xf32> into tensor<4x8x4xf32>
  %k3 = tensor.collapse_shape %k4 [[0, 1], [2], [3]] : tensor<1x4x8x4xf32> into tensor<4x8x4xf32>
  %v3 = tensor.collapse_shape %v4 [[0, 1], [2], [3]] : tensor<1x4x8x4xf32> into tensor<4x8x4xf32>
  %es = tensor.empty() : tensor<4x8x8xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%q3, %k3 : tensor<4x8x4xf32>, tensor<4x8x4xf32>) outs(%fs : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<4x8x8xf32>) outs(%es : tensor<4x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %y = arith.mulf %x, %c : f32
    %gt = arith.cmpi ugt, %j, %i : index
    %r = arith.select %gt, %ninf, %y : f32
    linalg.yield %r : f32
  } -> tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<4x8x8xf32>) outs(%es : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %eo = tensor.empty() : tensor<4x8x4xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<4x8x4xf32>) -> tensor<4x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v3 : tensor<4x8x8xf32>, tensor<4x8x4xf32>) outs(%fo : tensor<4x8x4xf32>) -> tensor<4x8x4xf32>
  %o4 = tensor.expand_shape %o [[0, 1], [2], [3]] output_shape [1, 4, 8, 4] : tensor<4x8x4xf32> into tensor<1x4x8x4xf32>
  return %o4 : tensor<1x4x8x4xf32>
}

// -----

// The same graph whose output is split into (2, 2) heads instead of q's (1, 4): not the same
// rank-4 layout, so it stays rank-3 attention on the collapsed tensors.
// CHECK-LABEL: func.func @rank4_collapsed_bmm_other_split
// CHECK: %[[Q3:.*]] = tensor.collapse_shape %arg0
// CHECK: %[[K3:.*]] = tensor.collapse_shape %arg1
// CHECK: %[[V3:.*]] = tensor.collapse_shape %arg2
// CHECK: %[[O:.*]] = "sparsek.dense_attention"(%[[Q3]], %[[K3]], %[[V3]]) {causal = true, scale = 5.000000e-01 : f64}
// CHECK-SAME: -> tensor<4x8x4xf32>
// CHECK-NEXT: %[[O4:.*]] = tensor.expand_shape %[[O]]
// CHECK-NEXT: return %[[O4]]
func.func @rank4_collapsed_bmm_other_split(%q: tensor<1x4x8x4xf32>, %k: tensor<1x4x8x4xf32>, %v: tensor<1x4x8x4xf32>) -> tensor<2x2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.5 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x8x4xf32> into tensor<4x8x4xf32>
  %k3 = tensor.collapse_shape %k [[0, 1], [2], [3]] : tensor<1x4x8x4xf32> into tensor<4x8x4xf32>
  %v3 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x4x8x4xf32> into tensor<4x8x4xf32>
  %es = tensor.empty() : tensor<4x8x8xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%q3, %k3 : tensor<4x8x4xf32>, tensor<4x8x4xf32>) outs(%fs : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<4x8x8xf32>) outs(%es : tensor<4x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %y = arith.mulf %x, %c : f32
    %gt = arith.cmpi ugt, %j, %i : index
    %r = arith.select %gt, %ninf, %y : f32
    linalg.yield %r : f32
  } -> tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<4x8x8xf32>) outs(%es : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %eo = tensor.empty() : tensor<4x8x4xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<4x8x4xf32>) -> tensor<4x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v3 : tensor<4x8x8xf32>, tensor<4x8x4xf32>) outs(%fo : tensor<4x8x4xf32>) -> tensor<4x8x4xf32>
  %o4 = tensor.expand_shape %o [[0, 1], [2], [3]] output_shape [2, 2, 8, 4] : tensor<4x8x4xf32> into tensor<2x2x8x4xf32>
  return %o4 : tensor<2x2x8x4xf32>
}

// -----

// Not causal: no mask at all.
// CHECK-LABEL: func.func @neg_no_mask
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.softmax
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.batch_matmul ins(
// CHECK-NOT: sparsek.dense_attention
// CHECK: return
func.func @neg_no_mask(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.125 : f32
  %c1 = arith.constant 1 : index
  %es = tensor.empty() : tensor<2x8x8xf32>
  %eo = tensor.empty() : tensor<2x8x4xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%q, %k : tensor<2x8x4xf32>, tensor<2x8x4xf32>) outs(%fs : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %y = arith.mulf %x, %c : f32
    %r = arith.mulf %y, %one : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%fo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

// The mask is a function argument: not provably causal.
// CHECK-LABEL: func.func @neg_mask_argument
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.softmax
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.batch_matmul ins(
// CHECK-NOT: sparsek.dense_attention
// CHECK: return
func.func @neg_mask_argument(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x4xf32>, %mask: tensor<8x8xf32>) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.125 : f32
  %c1 = arith.constant 1 : index
  %es = tensor.empty() : tensor<2x8x8xf32>
  %eo = tensor.empty() : tensor<2x8x4xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%q, %k : tensor<2x8x4xf32>, tensor<2x8x4xf32>) outs(%fs : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s, %mask : tensor<2x8x8xf32>, tensor<8x8xf32>) outs(%es : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %y = arith.mulf %x, %c : f32
    %r = arith.addf %y, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%fo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

// Softmax over the query dimension.
// CHECK-LABEL: func.func @neg_softmax_wrong_dim
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.softmax
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.batch_matmul ins(
// CHECK-NOT: sparsek.dense_attention
// CHECK: return
func.func @neg_softmax_wrong_dim(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.125 : f32
  %c1 = arith.constant 1 : index
  %es = tensor.empty() : tensor<2x8x8xf32>
  %eo = tensor.empty() : tensor<2x8x4xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%q, %k : tensor<2x8x4xf32>, tensor<2x8x4xf32>) outs(%fs : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %y = arith.mulf %x, %c : f32
    %gt = arith.cmpi ugt, %j, %i : index
    %r = arith.select %gt, %ninf, %y : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %p = linalg.softmax dimension(1) ins(%sm : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%fo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

// The scale is a function argument, not a constant.
// CHECK-LABEL: func.func @neg_scale_argument
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.softmax
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.batch_matmul ins(
// CHECK-NOT: sparsek.dense_attention
// CHECK: return
func.func @neg_scale_argument(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x4xf32>, %sc: f32) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.125 : f32
  %c1 = arith.constant 1 : index
  %es = tensor.empty() : tensor<2x8x8xf32>
  %eo = tensor.empty() : tensor<2x8x4xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%q, %k : tensor<2x8x4xf32>, tensor<2x8x4xf32>) outs(%fs : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %y = arith.mulf %x, %c : f32
    %z = arith.mulf %y, %sc : f32
    %gt = arith.cmpi ugt, %j, %i : index
    %r = arith.select %gt, %ninf, %z : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%fo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

// Anti-causal: keys after the query are kept (j < i masked).
// CHECK-LABEL: func.func @neg_anti_causal
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.softmax
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.batch_matmul ins(
// CHECK-NOT: sparsek.dense_attention
// CHECK: return
func.func @neg_anti_causal(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.125 : f32
  %c1 = arith.constant 1 : index
  %es = tensor.empty() : tensor<2x8x8xf32>
  %eo = tensor.empty() : tensor<2x8x4xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%q, %k : tensor<2x8x4xf32>, tensor<2x8x4xf32>) outs(%fs : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %y = arith.mulf %x, %c : f32
    %lt = arith.cmpi ult, %j, %i : index
    %r = arith.select %lt, %ninf, %y : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%fo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

// Shifted: the diagonal is masked too (j >= i masked).
// CHECK-LABEL: func.func @neg_shifted_mask
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.softmax
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.batch_matmul ins(
// CHECK-NOT: sparsek.dense_attention
// CHECK: return
func.func @neg_shifted_mask(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.125 : f32
  %c1 = arith.constant 1 : index
  %es = tensor.empty() : tensor<2x8x8xf32>
  %eo = tensor.empty() : tensor<2x8x4xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%q, %k : tensor<2x8x4xf32>, tensor<2x8x4xf32>) outs(%fs : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %y = arith.mulf %x, %c : f32
    %ge = arith.cmpi uge, %j, %i : index
    %r = arith.select %ge, %ninf, %y : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%fo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

// Shifted: only j <= i - 1 is kept.
// CHECK-LABEL: func.func @neg_shifted_allowed
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.softmax
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.batch_matmul ins(
// CHECK-NOT: sparsek.dense_attention
// CHECK: return
func.func @neg_shifted_allowed(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.125 : f32
  %c1 = arith.constant 1 : index
  %es = tensor.empty() : tensor<2x8x8xf32>
  %eo = tensor.empty() : tensor<2x8x4xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%q, %k : tensor<2x8x4xf32>, tensor<2x8x4xf32>) outs(%fs : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %y = arith.mulf %x, %c : f32
    %im1 = arith.subi %i, %c1 : index
    %ok = arith.cmpi sle, %j, %im1 : index
    %r = arith.select %ok, %y, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%fo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

// Masked with -1e4: finite, not effectively -inf.
// CHECK-LABEL: func.func @neg_finite_mask
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.softmax
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.batch_matmul ins(
// CHECK-NOT: sparsek.dense_attention
// CHECK: return
func.func @neg_finite_mask(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.125 : f32
  %c1 = arith.constant 1 : index
  %es = tensor.empty() : tensor<2x8x8xf32>
  %eo = tensor.empty() : tensor<2x8x4xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%q, %k : tensor<2x8x4xf32>, tensor<2x8x4xf32>) outs(%fs : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %y = arith.mulf %x, %c : f32
    %m = arith.constant -1.0e4 : f32
    %gt = arith.cmpi ugt, %j, %i : index
    %r = arith.select %gt, %m, %y : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%fo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

// The select keeps the future and masks the past.
// CHECK-LABEL: func.func @neg_select_arms_swapped
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.softmax
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.batch_matmul ins(
// CHECK-NOT: sparsek.dense_attention
// CHECK: return
func.func @neg_select_arms_swapped(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.125 : f32
  %c1 = arith.constant 1 : index
  %es = tensor.empty() : tensor<2x8x8xf32>
  %eo = tensor.empty() : tensor<2x8x4xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%q, %k : tensor<2x8x4xf32>, tensor<2x8x4xf32>) outs(%fs : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %y = arith.mulf %x, %c : f32
    %gt = arith.cmpi ugt, %j, %i : index
    %r = arith.select %gt, %y, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%fo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

// An equality mask (only the diagonal masked) is not causal.
// CHECK-LABEL: func.func @neg_diagonal_mask
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.softmax
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.batch_matmul ins(
// CHECK-NOT: sparsek.dense_attention
// CHECK: return
func.func @neg_diagonal_mask(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.125 : f32
  %c1 = arith.constant 1 : index
  %es = tensor.empty() : tensor<2x8x8xf32>
  %eo = tensor.empty() : tensor<2x8x4xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%q, %k : tensor<2x8x4xf32>, tensor<2x8x4xf32>) outs(%fs : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %y = arith.mulf %x, %c : f32
    %eq = arith.cmpi eq, %j, %i : index
    %r = arith.select %eq, %ninf, %y : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%fo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

// The mask compares the key index with the batch index.
// CHECK-LABEL: func.func @neg_batch_dependent_mask
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.softmax
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.batch_matmul ins(
// CHECK-NOT: sparsek.dense_attention
// CHECK: return
func.func @neg_batch_dependent_mask(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.125 : f32
  %c1 = arith.constant 1 : index
  %es = tensor.empty() : tensor<2x8x8xf32>
  %eo = tensor.empty() : tensor<2x8x4xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%q, %k : tensor<2x8x4xf32>, tensor<2x8x4xf32>) outs(%fs : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %y = arith.mulf %x, %c : f32
    %b = linalg.index 0 : index
    %gt = arith.cmpi ugt, %j, %b : index
    %r = arith.select %gt, %ninf, %y : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%fo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

// P.V accumulates into ones: out = 1 + P.V, not attention.
// CHECK-LABEL: func.func @neg_pv_init_nonzero
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.softmax
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.batch_matmul ins(
// CHECK-NOT: sparsek.dense_attention
// CHECK: return
func.func @neg_pv_init_nonzero(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.125 : f32
  %c1 = arith.constant 1 : index
  %es = tensor.empty() : tensor<2x8x8xf32>
  %eo = tensor.empty() : tensor<2x8x4xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%q, %k : tensor<2x8x4xf32>, tensor<2x8x4xf32>) outs(%fs : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %y = arith.mulf %x, %c : f32
    %gt = arith.cmpi ugt, %j, %i : index
    %r = arith.select %gt, %ninf, %y : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %fo = linalg.fill ins(%one : f32) outs(%eo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%fo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

// A negative scale turns the -inf mask into +inf.
// CHECK-LABEL: func.func @neg_negative_scale
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.softmax
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.batch_matmul ins(
// CHECK-NOT: sparsek.dense_attention
// CHECK: return
func.func @neg_negative_scale(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant -0.125 : f32
  %c1 = arith.constant 1 : index
  %es = tensor.empty() : tensor<2x8x8xf32>
  %eo = tensor.empty() : tensor<2x8x4xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%q, %k : tensor<2x8x4xf32>, tensor<2x8x4xf32>) outs(%fs : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %y = arith.mulf %x, %c : f32
    %gt = arith.cmpi ugt, %j, %i : index
    %r = arith.select %gt, %ninf, %y : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%fo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

// V is computed (v + v) before P.V: attention reads that tensor as its V operand.
// CHECK-LABEL: func.func @v_computed_in_graph
// CHECK: %[[VS:.*]] = linalg.generic
// CHECK: arith.addf
// CHECK: %[[O:.*]] = "sparsek.dense_attention"(%arg0, %arg1, %[[VS]]) {causal = true, scale = 1.250000e-01 : f64}
// CHECK-NEXT: return %[[O]]
func.func @v_computed_in_graph(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.125 : f32
  %c1 = arith.constant 1 : index
  %es = tensor.empty() : tensor<2x8x8xf32>
  %eo = tensor.empty() : tensor<2x8x4xf32>
  %vs = linalg.generic {indexing_maps = [affine_map<(b, n, d) -> (b, n, d)>, affine_map<(b, n, d) -> (b, n, d)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%v : tensor<2x8x4xf32>) outs(%eo : tensor<2x8x4xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.addf %x, %x : f32
    linalg.yield %y : f32
  } -> tensor<2x8x4xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%q, %k : tensor<2x8x4xf32>, tensor<2x8x4xf32>) outs(%fs : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %y = arith.mulf %x, %c : f32
    %gt = arith.cmpi ugt, %j, %i : index
    %r = arith.select %gt, %ninf, %y : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %vs : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%fo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

// Decomposed softmax whose sum runs over the query dimension (dims = [1]).
// CHECK-LABEL: func.func @neg_decomposed_sum_wrong_dim
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.reduce
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.batch_matmul ins(
// CHECK-NOT: sparsek.dense_attention
// CHECK: return
func.func @neg_decomposed_sum_wrong_dim(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %es = tensor.empty() : tensor<2x8x8xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%q, %k : tensor<2x8x4xf32>, tensor<2x8x4xf32>) outs(%fs : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %gt = arith.cmpi ugt, %j, %i : index
    %r = arith.select %gt, %ninf, %x : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %ex = linalg.map { math.exp } ins(%m : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>)
  %er = tensor.empty() : tensor<2x8xf32>
  %fz = linalg.fill ins(%zero : f32) outs(%er : tensor<2x8xf32>) -> tensor<2x8xf32>
  %sum = linalg.reduce { arith.addf } ins(%ex : tensor<2x8x8xf32>) outs(%fz : tensor<2x8xf32>) dimensions = [1]
  %sb = linalg.broadcast ins(%sum : tensor<2x8xf32>) outs(%es : tensor<2x8x8xf32>) dimensions = [1]
  %p = linalg.map { arith.divf } ins(%ex, %sb : tensor<2x8x8xf32>, tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>)
  %eo = tensor.empty() : tensor<2x8x4xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%fo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

// Decomposed softmax whose running max starts at +inf: exp(x - inf) = 0 everywhere, 0 / 0.
// CHECK-LABEL: func.func @neg_max_from_plus_inf
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.reduce
// CHECK-NOT: sparsek.dense_attention
// CHECK: return
func.func @neg_max_from_plus_inf(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %half = arith.constant 0.5 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %pinf = arith.constant 0x7F800000 : f32
  %eq = tensor.empty() : tensor<2x8x4xf32>
  %qs = linalg.generic {indexing_maps = [affine_map<(b, n, d) -> (b, n, d)>, affine_map<(b, n, d) -> (b, n, d)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%q : tensor<2x8x4xf32>) outs(%eq : tensor<2x8x4xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.mulf %x, %half : f32
    linalg.yield %y : f32
  } -> tensor<2x8x4xf32>
  %ekt = tensor.empty() : tensor<2x4x8xf32>
  %kt = linalg.transpose ins(%k : tensor<2x8x4xf32>) outs(%ekt : tensor<2x4x8xf32>) permutation = [0, 2, 1]
  %es = tensor.empty() : tensor<2x8x8xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul ins(%qs, %kt : tensor<2x8x4xf32>, tensor<2x4x8xf32>) outs(%fs : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %ok = arith.cmpi ule, %j, %i : index
    %r = arith.select %ok, %x, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %er = tensor.empty() : tensor<2x8xf32>
  %fm = linalg.fill ins(%pinf : f32) outs(%er : tensor<2x8xf32>) -> tensor<2x8xf32>
  %mx = linalg.reduce ins(%m : tensor<2x8x8xf32>) outs(%fm : tensor<2x8xf32>) dimensions = [2]
    (%in: f32, %acc: f32) {
      %r = arith.maximumf %in, %acc : f32
      linalg.yield %r : f32
    }
  %mxb = linalg.broadcast ins(%mx : tensor<2x8xf32>) outs(%es : tensor<2x8x8xf32>) dimensions = [2]
  %sub = linalg.sub ins(%m, %mxb : tensor<2x8x8xf32>, tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %ex = linalg.exp ins(%sub : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %fz = linalg.fill ins(%zero : f32) outs(%er : tensor<2x8xf32>) -> tensor<2x8xf32>
  %sum = linalg.reduce ins(%ex : tensor<2x8x8xf32>) outs(%fz : tensor<2x8xf32>) dimensions = [2]
    (%in: f32, %acc: f32) {
      %r = arith.addf %in, %acc : f32
      linalg.yield %r : f32
    }
  %p = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i)>, affine_map<(b, i, j) -> (b, i, j)>],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%ex, %sum : tensor<2x8x8xf32>, tensor<2x8xf32>) outs(%es : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %d: f32, %o: f32):
    %r = arith.divf %x, %d : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eq : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%fo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

// Queries and keys of different lengths (4 vs 8): cross attention, not the causal self
// attention dense_attention computes.
// CHECK-LABEL: func.func @neg_query_key_lengths_differ
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.softmax
// CHECK-NOT: sparsek.dense_attention
// CHECK: return
func.func @neg_query_key_lengths_differ(%q: tensor<2x4x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x4xf32>) -> tensor<2x4x4xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %es = tensor.empty() : tensor<2x4x8xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %s = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%q, %k : tensor<2x4x4xf32>, tensor<2x8x4xf32>) outs(%fs : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x4x8xf32>) outs(%es : tensor<2x4x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %gt = arith.cmpi ugt, %j, %i : index
    %r = arith.select %gt, %ninf, %x : f32
    linalg.yield %r : f32
  } -> tensor<2x4x8xf32>
  %p = linalg.softmax dimension(2) ins(%m : tensor<2x4x8xf32>) outs(%es : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %eo = tensor.empty() : tensor<2x4x4xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x4x8xf32>, tensor<2x8x4xf32>) outs(%fo : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  return %o : tensor<2x4x4xf32>
}

// -----

// An in-graph mask tensor whose kept entries are 1.0, not 0: it shifts the logits (and is
// a different mask per row after softmax), so it is not the plain causal mask.
// CHECK-LABEL: func.func @neg_mask_tensor_nonzero_keep
// CHECK-NOT: sparsek.dense_attention
// CHECK: linalg.softmax
// CHECK-NOT: sparsek.dense_attention
// CHECK: return
func.func @neg_mask_tensor_nonzero_keep(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %es = tensor.empty() : tensor<2x8x8xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul indexing_maps = [
      affine_map<(b, i, j, d) -> (b, i, d)>,
      affine_map<(b, i, j, d) -> (b, j, d)>,
      affine_map<(b, i, j, d) -> (b, i, j)>]
      ins(%q, %k : tensor<2x8x4xf32>, tensor<2x8x4xf32>) outs(%fs : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %em = tensor.empty() : tensor<8x8xf32>
  %mask = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      outs(%em : tensor<8x8xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %gt = arith.cmpi ugt, %j, %i : index
    %r = arith.select %gt, %ninf, %one : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (i, j)>, affine_map<(b, i, j) -> (b, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s, %mask : tensor<2x8x8xf32>, tensor<8x8xf32>) outs(%es : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %r = arith.addf %x, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<2x8x8xf32>) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %eo = tensor.empty() : tensor<2x8x4xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%fo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

// Inputs with no attention: loops, memref linalg ops, reductions, ops with regions, block
// arguments everywhere. Nothing changes and nothing crashes.
// CHECK-LABEL: func.func @no_attention
// CHECK-NOT: sparsek.dense_attention
// CHECK: scf.for
// CHECK: linalg.batch_matmul
// CHECK: linalg.softmax
// CHECK: linalg.reduce
// CHECK: return
func.func @no_attention(%a: tensor<2x8x8xf32>, %b: tensor<2x8x8xf32>, %m: memref<2x8x8xf32>, %n: index) -> tensor<2x8x8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = scf.for %iv = %c0 to %n step %c1 iter_args(%acc = %a) -> (tensor<2x8x8xf32>) {
    %x = linalg.batch_matmul ins(%acc, %b : tensor<2x8x8xf32>, tensor<2x8x8xf32>) outs(%acc : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
    scf.yield %x : tensor<2x8x8xf32>
  }
  linalg.batch_matmul ins(%m, %m : memref<2x8x8xf32>, memref<2x8x8xf32>) outs(%m : memref<2x8x8xf32>)
  %s = linalg.softmax dimension(2) ins(%r : tensor<2x8x8xf32>) outs(%b : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %o = linalg.batch_matmul ins(%s, %b : tensor<2x8x8xf32>, tensor<2x8x8xf32>) outs(%a : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %e = tensor.empty() : tensor<2x8xf32>
  %red = linalg.reduce { arith.addf } ins(%o : tensor<2x8x8xf32>) outs(%e : tensor<2x8xf32>) dimensions = [2]
  %g = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i)>, affine_map<(b, i, j) -> (b, i, j)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%red : tensor<2x8xf32>) outs(%o : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %y: f32):
    %cond = arith.cmpf ogt, %x, %y : f32
    %t = scf.if %cond -> (f32) {
      scf.yield %x : f32
    } else {
      scf.yield %y : f32
    }
    linalg.yield %t : f32
  } -> tensor<2x8x8xf32>
  return %g : tensor<2x8x8xf32>
}
