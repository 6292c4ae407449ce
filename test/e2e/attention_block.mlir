// End to end, a whole GQA attention block: q, k, v projections of the hidden states, causal
// attention (becoming SparseK with scores from the same hidden states), the output
// projection, every reshape and transpose in between, the result a view of the last matmul.
// Against the reference block in double: max relative error <= 1e-5.
// RUN: rm -rf %t && mkdir -p %t
// RUN: skc %s -o %t --sparsek-k=6 --sparsek-window=5
// RUN: %cc -O2 -DBLOCK -DENTRY=block -DMODE=0 -DRANK=4 -include %t/attention_block.h -I%skrt_include -I%dlpack_include %S/Inputs/harness.c -L%t -lattention_block -Wl,-rpath,%t -lm -o %t/h
// RUN: %t/h 2 4 2 40 16 32 6 5 0 0 0.25 | FileCheck %s
// CHECK: max_rel_err={{.*}} PASS

func.func @block(%x: tensor<2x40x32xf32>, %wq: tensor<32x64xf32>, %wk: tensor<32x32xf32>,
                 %wv: tensor<32x32xf32>, %wo: tensor<64x32xf32>) -> tensor<2x40x32xf32> {
  %xf = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x40x32xf32> into tensor<80x32xf32>
  %eq = tensor.empty() : tensor<80x64xf32>
  %qf = linalg.matmul ins(%xf, %wq : tensor<80x32xf32>, tensor<32x64xf32>) outs(%eq : tensor<80x64xf32>) -> tensor<80x64xf32>
  %q4 = tensor.expand_shape %qf [[0, 1], [2, 3]] output_shape [2, 40, 4, 16] : tensor<80x64xf32> into tensor<2x40x4x16xf32>
  %eqt = tensor.empty() : tensor<2x4x40x16xf32>
  %q = linalg.transpose ins(%q4 : tensor<2x40x4x16xf32>) outs(%eqt : tensor<2x4x40x16xf32>) permutation = [0, 2, 1, 3]
  %ek = tensor.empty() : tensor<80x32xf32>
  %kf = linalg.matmul ins(%xf, %wk : tensor<80x32xf32>, tensor<32x32xf32>) outs(%ek : tensor<80x32xf32>) -> tensor<80x32xf32>
  %k4 = tensor.expand_shape %kf [[0, 1], [2, 3]] output_shape [2, 40, 2, 16] : tensor<80x32xf32> into tensor<2x40x2x16xf32>
  %ekt = tensor.empty() : tensor<2x2x40x16xf32>
  %k = linalg.transpose ins(%k4 : tensor<2x40x2x16xf32>) outs(%ekt : tensor<2x2x40x16xf32>) permutation = [0, 2, 1, 3]
  %vf = linalg.matmul ins(%xf, %wv : tensor<80x32xf32>, tensor<32x32xf32>) outs(%ek : tensor<80x32xf32>) -> tensor<80x32xf32>
  %v4 = tensor.expand_shape %vf [[0, 1], [2, 3]] output_shape [2, 40, 2, 16] : tensor<80x32xf32> into tensor<2x40x2x16xf32>
  %v = linalg.transpose ins(%v4 : tensor<2x40x2x16xf32>) outs(%ekt : tensor<2x2x40x16xf32>) permutation = [0, 2, 1, 3]
  %o = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.25 : f64, causal = true} : (tensor<2x4x40x16xf32>, tensor<2x2x40x16xf32>, tensor<2x2x40x16xf32>) -> tensor<2x4x40x16xf32>
  %eot = tensor.empty() : tensor<2x40x4x16xf32>
  %ot = linalg.transpose ins(%o : tensor<2x4x40x16xf32>) outs(%eot : tensor<2x40x4x16xf32>) permutation = [0, 2, 1, 3]
  %of = tensor.collapse_shape %ot [[0, 1], [2, 3]] : tensor<2x40x4x16xf32> into tensor<80x64xf32>
  %ey = tensor.empty() : tensor<80x32xf32>
  %y = linalg.matmul ins(%of, %wo : tensor<80x64xf32>, tensor<64x32xf32>) outs(%ey : tensor<80x32xf32>) -> tensor<80x32xf32>
  %out = tensor.expand_shape %y [[0, 1], [2]] output_shape [2, 40, 32] : tensor<80x32xf32> into tensor<2x40x32xf32>
  return %out : tensor<2x40x32xf32>
}
