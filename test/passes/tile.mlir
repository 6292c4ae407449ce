// RUN: skc-opt --skc-tile --split-input-file %s | FileCheck %s
// RUN: skc-opt --skc-tile --target=cuda --split-input-file %s | FileCheck %s --check-prefix=CUDA

// CPU: the L1 working set (2 D + 3 x 64) x B x 4 bytes decides (D = 64: B = 32, the widest
// tile); on CUDA the union in shared memory decides: small k + w and D, the largest tile (128).
// CHECK-LABEL: func.func @small
// CHECK: "sparsek.attention"{{.*}}tile_q = 32 : i64
// CUDA-LABEL: func.func @small
// CUDA: tile_q = 128 : i64
func.func @small(%q: tensor<1x2x4096x64xf32>, %u: tensor<1x2x4096xf32>) -> tensor<1x2x4096x64xf32> {
  %0 = "sparsek.attention"(%q, %q, %q, %u) {k = 64 : i64, window = 64 : i64, gate = "kv", scale = 0.125 : f64, causal = true} : (tensor<1x2x4096x64xf32>, tensor<1x2x4096x64xf32>, tensor<1x2x4096x64xf32>, tensor<1x2x4096xf32>) -> tensor<1x2x4096x64xf32>
  return %0 : tensor<1x2x4096x64xf32>
}

// -----
// D = 128: the CPU working set fits L1 up to B = 16; on CUDA k + w = 1536 overflows shared
// memory for every tile: the minimum tile.
// CHECK-LABEL: func.func @big_union
// CHECK: tile_q = 16 : i64
// CUDA-LABEL: func.func @big_union
// CUDA: tile_q = 16 : i64
func.func @big_union(%q: tensor<1x2x65536x128xf32>, %u: tensor<1x2x65536xf32>) -> tensor<1x2x65536x128xf32> {
  %0 = "sparsek.attention"(%q, %q, %q, %u) {k = 1024 : i64, window = 512 : i64, gate = "kv", scale = 0.088 : f64, causal = true} : (tensor<1x2x65536x128xf32>, tensor<1x2x65536x128xf32>, tensor<1x2x65536x128xf32>, tensor<1x2x65536xf32>) -> tensor<1x2x65536x128xf32>
  return %0 : tensor<1x2x65536x128xf32>
}

// -----
// k = w = 256, D = 64 (the CPU benchmark): 32 queries on the CPU; on CUDA 64 (640 keys x 64 x
// 2 x 2 B = 160 KiB of shared memory).
// CHECK-LABEL: func.func @bench_shape
// CHECK: tile_q = 32 : i64
// CUDA-LABEL: func.func @bench_shape
// CUDA: tile_q = 64 : i64
func.func @bench_shape(%q: tensor<1x8x?x64xf32>, %u: tensor<1x8x?xf32>) -> tensor<1x8x?x64xf32> {
  %0 = "sparsek.attention"(%q, %q, %q, %u) {k = 256 : i64, window = 256 : i64, gate = "kv", scale = 0.125 : f64, causal = true} : (tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>, tensor<1x8x?xf32>) -> tensor<1x8x?x64xf32>
  return %0 : tensor<1x8x?x64xf32>
}

// -----
// Short sequences: no tile longer than N (beyond the minimum); an explicit
// sparsek.tile_q wins.
// CHECK-LABEL: func.func @short
// CHECK: tile_q = 16 : i64
// CHECK: sparsek.tile_q = 24 : i64, tile_q = 24 : i64
// CUDA-LABEL: func.func @short
// CUDA: tile_q = 16 : i64
func.func @short(%q: tensor<1x1x20x16xf32>, %u: tensor<1x1x20xf32>) -> tensor<1x1x20x16xf32> {
  %0 = "sparsek.attention"(%q, %q, %q, %u) {k = 4 : i64, window = 4 : i64, gate = "kv", scale = 0.25 : f64, causal = true} : (tensor<1x1x20x16xf32>, tensor<1x1x20x16xf32>, tensor<1x1x20x16xf32>, tensor<1x1x20xf32>) -> tensor<1x1x20x16xf32>
  %1 = "sparsek.attention"(%0, %q, %q, %u) {k = 4 : i64, window = 4 : i64, gate = "kv", scale = 0.25 : f64, causal = true, sparsek.tile_q = 24 : i64} : (tensor<1x1x20x16xf32>, tensor<1x1x20x16xf32>, tensor<1x1x20x16xf32>, tensor<1x1x20xf32>) -> tensor<1x1x20x16xf32>
  return %1 : tensor<1x1x20x16xf32>
}
