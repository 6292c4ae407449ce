// End to end from dense attention (sparsek.dense_attention, what raise-attention produces)
// through sparsify with the command-line flags: k >= N, w = 0, w >= N, gate v with caller
// scores (mode input), for MHA (N = 33, not a multiple of the tile), GQA (D = 8, so the
// module's kernel takes D at run time) and N = 1. Max relative error <= 1e-5 vs the reference.
// RUN: rm -rf %t && mkdir -p %t/kbig %t/w0 %t/wbig %t/input
// RUN: skc %s --name=kbig -o %t/kbig --sparsek-score=keys --sparsek-k=64 --sparsek-window=4
// RUN: %cc -O2 -DENTRY=mha -DMODE=1 -DRANK=4 -include %t/kbig/kbig.h -I%skrt_include -I%dlpack_include %S/Inputs/harness.c -L%t/kbig -lkbig -Wl,-rpath,%t/kbig -lm -o %t/kbig/mha
// RUN: %t/kbig/mha 2 2 2 33 16 0 64 4 0 0 0.25 | FileCheck %s
// RUN: %cc -O2 -DENTRY=gqa -DMODE=1 -DRANK=4 -include %t/kbig/kbig.h -I%skrt_include -I%dlpack_include %S/Inputs/harness.c -L%t/kbig -lkbig -Wl,-rpath,%t/kbig -lm -o %t/kbig/gqa
// RUN: %t/kbig/gqa 1 4 2 20 8 0 64 4 0 0 0.35 | FileCheck %s
// RUN: %cc -O2 -DENTRY=one -DMODE=1 -DRANK=4 -include %t/kbig/kbig.h -I%skrt_include -I%dlpack_include %S/Inputs/harness.c -L%t/kbig -lkbig -Wl,-rpath,%t/kbig -lm -o %t/kbig/one
// RUN: %t/kbig/one 1 2 2 1 16 0 64 4 0 0 0.25 | FileCheck %s
//
// RUN: skc %s --name=w0 -o %t/w0 --sparsek-score=keys --sparsek-k=5 --sparsek-window=0 --sparsek-slope=0.02
// RUN: %cc -O2 -DENTRY=mha -DMODE=1 -DRANK=4 -include %t/w0/w0.h -I%skrt_include -I%dlpack_include %S/Inputs/harness.c -L%t/w0 -lw0 -Wl,-rpath,%t/w0 -lm -o %t/w0/mha
// RUN: %t/w0/mha 2 2 2 33 16 0 5 0 0 0.02 0.25 | FileCheck %s
// RUN: %cc -O2 -DENTRY=gqa -DMODE=1 -DRANK=4 -include %t/w0/w0.h -I%skrt_include -I%dlpack_include %S/Inputs/harness.c -L%t/w0 -lw0 -Wl,-rpath,%t/w0 -lm -o %t/w0/gqa
// RUN: %t/w0/gqa 1 4 2 20 8 0 5 0 0 0.02 0.35 | FileCheck %s
// RUN: %cc -O2 -DENTRY=one -DMODE=1 -DRANK=4 -include %t/w0/w0.h -I%skrt_include -I%dlpack_include %S/Inputs/harness.c -L%t/w0 -lw0 -Wl,-rpath,%t/w0 -lm -o %t/w0/one
// RUN: %t/w0/one 1 2 2 1 16 0 5 0 0 0.02 0.25 | FileCheck %s
//
// RUN: skc %s --name=wbig -o %t/wbig --sparsek-score=keys --sparsek-k=3 --sparsek-window=40 --sparsek-gate=v
// RUN: %cc -O2 -DENTRY=mha -DMODE=1 -DRANK=4 -include %t/wbig/wbig.h -I%skrt_include -I%dlpack_include %S/Inputs/harness.c -L%t/wbig -lwbig -Wl,-rpath,%t/wbig -lm -o %t/wbig/mha
// RUN: %t/wbig/mha 2 2 2 33 16 0 3 40 1 0 0.25 | FileCheck %s
// RUN: %cc -O2 -DENTRY=gqa -DMODE=1 -DRANK=4 -include %t/wbig/wbig.h -I%skrt_include -I%dlpack_include %S/Inputs/harness.c -L%t/wbig -lwbig -Wl,-rpath,%t/wbig -lm -o %t/wbig/gqa
// RUN: %t/wbig/gqa 1 4 2 20 8 0 3 40 1 0 0.35 | FileCheck %s
//
// RUN: skc %s --name=input -o %t/input --sparsek-score=input --sparsek-k=3 --sparsek-window=2 --sparsek-gate=v --sparsek-slope=-0.05
// RUN: %cc -O2 -DENTRY=mha -DMODE=2 -DRANK=4 -include %t/input/input.h -I%skrt_include -I%dlpack_include %S/Inputs/harness.c -L%t/input -linput -Wl,-rpath,%t/input -lm -o %t/input/mha
// RUN: %t/input/mha 2 2 2 33 16 0 3 2 1 -0.05 0.25 | FileCheck %s
// RUN: %cc -O2 -DENTRY=gqa -DMODE=2 -DRANK=4 -include %t/input/input.h -I%skrt_include -I%dlpack_include %S/Inputs/harness.c -L%t/input -linput -Wl,-rpath,%t/input -lm -o %t/input/gqa
// RUN: %t/input/gqa 1 4 2 20 8 0 3 2 1 -0.05 0.35 | FileCheck %s
// RUN: %cc -O2 -DENTRY=one -DMODE=2 -DRANK=4 -include %t/input/input.h -I%skrt_include -I%dlpack_include %S/Inputs/harness.c -L%t/input -linput -Wl,-rpath,%t/input -lm -o %t/input/one
// RUN: %t/input/one 1 2 2 1 16 0 3 2 1 -0.05 0.25 | FileCheck %s
// CHECK: max_rel_err={{.*}} PASS

func.func @mha(%q: tensor<2x2x33x16xf32>, %k: tensor<2x2x33x16xf32>, %v: tensor<2x2x33x16xf32>) -> tensor<2x2x33x16xf32> {
  %o = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.25 : f64, causal = true} : (tensor<2x2x33x16xf32>, tensor<2x2x33x16xf32>, tensor<2x2x33x16xf32>) -> tensor<2x2x33x16xf32>
  return %o : tensor<2x2x33x16xf32>
}

func.func @gqa(%q: tensor<1x4x20x8xf32>, %k: tensor<1x2x20x8xf32>, %v: tensor<1x2x20x8xf32>) -> tensor<1x4x20x8xf32> {
  %o = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.35 : f64, causal = true} : (tensor<1x4x20x8xf32>, tensor<1x2x20x8xf32>, tensor<1x2x20x8xf32>) -> tensor<1x4x20x8xf32>
  return %o : tensor<1x4x20x8xf32>
}

func.func @one(%q: tensor<1x2x1x16xf32>, %k: tensor<1x2x1x16xf32>, %v: tensor<1x2x1x16xf32>) -> tensor<1x2x1x16xf32> {
  %o = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.25 : f64, causal = true} : (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>) -> tensor<1x2x1x16xf32>
  return %o : tensor<1x2x1x16xf32>
}
