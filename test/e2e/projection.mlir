// End to end with ops around the attention: the keys come from a projection of the hidden
// states in the graph (collapse_shape, linalg.matmul, expand_shape, transpose), which skc
// compiles too, and score mode hidden (the default) reads those hidden states. Against the
// reference with the same projection in double: max relative error <= 1e-5.
// RUN: rm -rf %t && mkdir -p %t
// RUN: skc %s -o %t --sparsek-k=8 --sparsek-window=4
// RUN: FileCheck %s --check-prefix=C < %t/projection.c
// RUN: %cc -O2 -DPROJ -DENTRY=attention -DMODE=0 -DRANK=4 -include %t/projection.h -I%skrt_include -I%dlpack_include %S/Inputs/harness.c -L%t -lprojection -Wl,-rpath,%t -lm -o %t/h
// RUN: %t/h 2 4 4 45 16 32 8 4 0 0 0.25 | FileCheck %s
// CHECK: max_rel_err={{.*}} PASS
// C: skc_matmul((const float *)skrt_dl_data(x), (const float *)skrt_dl_data(wk), (float *)(ws + ws_off[0]), 90, 64, 32,
// C: skc_transpose((float *)(ws + ws_off[0]), (float *)(ws + ws_off[1]), 4, shape, perm);
// C: p.k = (float *)(ws + ws_off[1]);

func.func @attention(%x: tensor<2x45x32xf32>, %wk: tensor<32x64xf32>, %q: tensor<2x4x45x16xf32>,
                     %v: tensor<2x4x45x16xf32>) -> tensor<2x4x45x16xf32> {
  %zero = arith.constant 0.0 : f32
  %xf = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x45x32xf32> into tensor<90x32xf32>
  %e = tensor.empty() : tensor<90x64xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<90x64xf32>) -> tensor<90x64xf32>
  %kf = linalg.matmul ins(%xf, %wk : tensor<90x32xf32>, tensor<32x64xf32>) outs(%init : tensor<90x64xf32>) -> tensor<90x64xf32>
  %k4 = tensor.expand_shape %kf [[0, 1], [2, 3]] output_shape [2, 45, 4, 16] : tensor<90x64xf32> into tensor<2x45x4x16xf32>
  %kinit = tensor.empty() : tensor<2x4x45x16xf32>
  %k = linalg.transpose ins(%k4 : tensor<2x45x4x16xf32>) outs(%kinit : tensor<2x4x45x16xf32>) permutation = [0, 2, 1, 3]
  %o = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.25 : f64, causal = true} : (tensor<2x4x45x16xf32>, tensor<2x4x45x16xf32>, tensor<2x4x45x16xf32>) -> tensor<2x4x45x16xf32>
  return %o : tensor<2x4x45x16xf32>
}
