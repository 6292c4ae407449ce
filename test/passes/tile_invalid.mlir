// RUN: not skc-opt --skc-tile %s 2>&1 | FileCheck %s --implicit-check-not=error:

// CHECK: tile_invalid.mlir:[[@LINE+2]]:8: error: attribute 'sparsek.tile_q' must be a multiple of 8 in [8, 256], got 7
func.func @bad_tile(%q: tensor<1x1x40x16xf32>, %u: tensor<1x1x40xf32>) -> tensor<1x1x40x16xf32> {
  %0 = "sparsek.attention"(%q, %q, %q, %u) {k = 4 : i64, window = 4 : i64, gate = "kv", scale = 0.25 : f64, causal = true, sparsek.tile_q = 7 : i64} : (tensor<1x1x40x16xf32>, tensor<1x1x40x16xf32>, tensor<1x1x40x16xf32>, tensor<1x1x40xf32>) -> tensor<1x1x40x16xf32>
  return %0 : tensor<1x1x40x16xf32>
}
