// End to end, sparsek form (what sparsify/tile produce): four entries in one library, one per
// score mode and rank, MHA and GQA, both gates, a slope, and D differing between entries (the
// kernel then takes D at run time). Each entry runs on random inputs against the double
// reference (skrt_ref_scores + skrt_ref_attention_forward): max relative error <= 1e-5.
// --grad: each <entry>_backward against skrt_ref_attention_backward + skrt_ref_scores_backward
// (every gradient: q, k, v, x, w_score, b_score or u_in), max relative error <= 1e-5.
// --decode: each <entry>_decode over a KV cache (prefill chunk, then token by token, strided
// views) reproduces the forward's outputs, max relative error <= 1e-5.
// N = 37, 50, 29 are not multiples of the query tile (32).
// RUN: rm -rf %t && mkdir -p %t
// RUN: skc %s --grad --decode --name=forms -o %t
// RUN: %cc -O2 -DGRAD -DDECODE -DENTRY=hidden_mha -DMODE=0 -DRANK=4 -include %t/forms.h -I%skrt_include -I%dlpack_include %S/Inputs/harness.c -L%t -lforms -Wl,-rpath,%t -lm -o %t/hidden_mha
// RUN: %t/hidden_mha 2 4 4 37 16 24 8 4 0 0 0.25 | FileCheck %s
// RUN: %cc -O2 -DGRAD -DDECODE -DENTRY=keys_gqa -DMODE=1 -DRANK=4 -include %t/forms.h -I%skrt_include -I%dlpack_include %S/Inputs/harness.c -L%t -lforms -Wl,-rpath,%t -lm -o %t/keys_gqa
// RUN: %t/keys_gqa 2 4 2 37 16 0 6 3 1 0.05 0.25 | FileCheck %s
// RUN: %cc -O2 -DGRAD -DDECODE -DENTRY=input_gqa -DMODE=2 -DRANK=4 -include %t/forms.h -I%skrt_include -I%dlpack_include %S/Inputs/harness.c -L%t -lforms -Wl,-rpath,%t -lm -o %t/input_gqa
// RUN: %t/input_gqa 1 6 2 50 8 0 5 7 0 -0.1 0.3 | FileCheck %s
// RUN: %cc -O2 -DGRAD -DDECODE -DENTRY=rank3 -DMODE=1 -DRANK=3 -include %t/forms.h -I%skrt_include -I%dlpack_include %S/Inputs/harness.c -L%t -lforms -Wl,-rpath,%t -lm -o %t/rank3
// RUN: %t/rank3 6 1 1 29 16 0 4 5 0 0 0.25 | FileCheck %s
// CHECK: decode: max_rel_err={{.*}} PASS
// CHECK: gradients: max_rel_err={{.*}} PASS
// CHECK: max_rel_err={{.*}} PASS

func.func @hidden_mha(%q: tensor<2x4x37x16xf32>, %k: tensor<2x4x37x16xf32>, %v: tensor<2x4x37x16xf32>, %x: tensor<2x37x24xf32>, %w_score: tensor<4x24xf32>, %b_score: tensor<4xf32>) -> tensor<2x4x37x16xf32> {
  %u = "sparsek.score"(%x, %w_score, %b_score) {mode = "hidden", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<2x37x24xf32>, tensor<4x24xf32>, tensor<4xf32>) -> tensor<2x4x37xf32>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 8 : i64, window = 4 : i64, gate = "kv", scale = 0.25 : f64, causal = true, tile_q = 32 : i64} : (tensor<2x4x37x16xf32>, tensor<2x4x37x16xf32>, tensor<2x4x37x16xf32>, tensor<2x4x37xf32>) -> tensor<2x4x37x16xf32>
  return %o : tensor<2x4x37x16xf32>
}

func.func @keys_gqa(%q: tensor<2x4x37x16xf32>, %k: tensor<2x2x37x16xf32>, %v: tensor<2x2x37x16xf32>, %w_score: tensor<2x16xf32>, %b_score: tensor<2xf32>) -> tensor<2x4x37x16xf32> {
  %u = "sparsek.score"(%k, %w_score, %b_score) {mode = "keys", slope = 0.05 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<2x2x37x16xf32>, tensor<2x16xf32>, tensor<2xf32>) -> tensor<2x2x37xf32>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 6 : i64, window = 3 : i64, gate = "v", scale = 0.25 : f64, causal = true, tile_q = 32 : i64} : (tensor<2x4x37x16xf32>, tensor<2x2x37x16xf32>, tensor<2x2x37x16xf32>, tensor<2x2x37xf32>) -> tensor<2x4x37x16xf32>
  return %o : tensor<2x4x37x16xf32>
}

func.func @input_gqa(%q: tensor<1x6x50x8xf32>, %k: tensor<1x2x50x8xf32>, %v: tensor<1x2x50x8xf32>, %u_in: tensor<1x2x50xf32>) -> tensor<1x6x50x8xf32> {
  %u = "sparsek.score"(%u_in) {mode = "input", slope = -0.1 : f64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<1x2x50xf32>) -> tensor<1x2x50xf32>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 5 : i64, window = 7 : i64, gate = "kv", scale = 0.3 : f64, causal = true, tile_q = 32 : i64} : (tensor<1x6x50x8xf32>, tensor<1x2x50x8xf32>, tensor<1x2x50x8xf32>, tensor<1x2x50xf32>) -> tensor<1x6x50x8xf32>
  return %o : tensor<1x6x50x8xf32>
}

func.func @rank3(%q: tensor<6x29x16xf32>, %k: tensor<6x29x16xf32>, %v: tensor<6x29x16xf32>, %w_score: tensor<1x16xf32>, %b_score: tensor<1xf32>) -> tensor<6x29x16xf32> {
  %u = "sparsek.score"(%k, %w_score, %b_score) {mode = "keys", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<6x29x16xf32>, tensor<1x16xf32>, tensor<1xf32>) -> tensor<6x1x29xf32>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 4 : i64, window = 5 : i64, gate = "kv", scale = 0.25 : f64, causal = true, tile_q = 32 : i64} : (tensor<6x29x16xf32>, tensor<6x29x16xf32>, tensor<6x29x16xf32>, tensor<6x1x29xf32>) -> tensor<6x29x16xf32>
  return %o : tensor<6x29x16xf32>
}
