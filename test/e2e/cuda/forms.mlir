// GPU end to end (run by test/e2e/cuda/run.sh on a machine with an H100; lit skips cuda/):
// skc --emit=cuda output for every score mode, MHA and GQA, both gates, rank 3 and 4, a slope,
// N not a multiple of any tile, k >= N; each entry (and its --grad backward) on random device
// tensors against the double CPU reference, max relative error <= 1e-5 (fp32).
func.func @hidden_mha(%q: tensor<2x4x100x64xf32>, %k: tensor<2x4x100x64xf32>, %v: tensor<2x4x100x64xf32>, %x: tensor<2x100x48xf32>, %w_score: tensor<4x48xf32>, %b_score: tensor<4xf32>) -> tensor<2x4x100x64xf32> {
  %u = "sparsek.score"(%x, %w_score, %b_score) {mode = "hidden", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<2x100x48xf32>, tensor<4x48xf32>, tensor<4xf32>) -> tensor<2x4x100xf32>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 16 : i64, window = 8 : i64, gate = "kv", scale = 0.125 : f64, causal = true} : (tensor<2x4x100x64xf32>, tensor<2x4x100x64xf32>, tensor<2x4x100x64xf32>, tensor<2x4x100xf32>) -> tensor<2x4x100x64xf32>
  return %o : tensor<2x4x100x64xf32>
}

func.func @keys_gqa(%q: tensor<2x8x129x64xf32>, %k: tensor<2x2x129x64xf32>, %v: tensor<2x2x129x64xf32>, %w_score: tensor<2x64xf32>, %b_score: tensor<2xf32>) -> tensor<2x8x129x64xf32> {
  %u = "sparsek.score"(%k, %w_score, %b_score) {mode = "keys", slope = 0.02 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<2x2x129x64xf32>, tensor<2x64xf32>, tensor<2xf32>) -> tensor<2x2x129xf32>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 20 : i64, window = 12 : i64, gate = "v", scale = 0.125 : f64, causal = true} : (tensor<2x8x129x64xf32>, tensor<2x2x129x64xf32>, tensor<2x2x129x64xf32>, tensor<2x2x129xf32>) -> tensor<2x8x129x64xf32>
  return %o : tensor<2x8x129x64xf32>
}

func.func @input_gqa(%q: tensor<1x4x90x32xf32>, %k: tensor<1x2x90x32xf32>, %v: tensor<1x2x90x32xf32>, %u_in: tensor<1x2x90xf32>) -> tensor<1x4x90x32xf32> {
  %u = "sparsek.score"(%u_in) {mode = "input", slope = -0.05 : f64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<1x2x90xf32>) -> tensor<1x2x90xf32>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 7 : i64, window = 0 : i64, gate = "kv", scale = 0.17 : f64, causal = true} : (tensor<1x4x90x32xf32>, tensor<1x2x90x32xf32>, tensor<1x2x90x32xf32>, tensor<1x2x90xf32>) -> tensor<1x4x90x32xf32>
  return %o : tensor<1x4x90x32xf32>
}

func.func @rank3_kbig(%q: tensor<6x77x64xf32>, %k: tensor<6x77x64xf32>, %v: tensor<6x77x64xf32>, %w_score: tensor<1x64xf32>, %b_score: tensor<1xf32>) -> tensor<6x77x64xf32> {
  %u = "sparsek.score"(%k, %w_score, %b_score) {mode = "keys", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<6x77x64xf32>, tensor<1x64xf32>, tensor<1xf32>) -> tensor<6x1x77xf32>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 100 : i64, window = 4 : i64, gate = "kv", scale = 0.125 : f64, causal = true} : (tensor<6x77x64xf32>, tensor<6x77x64xf32>, tensor<6x77x64xf32>, tensor<6x1x77xf32>) -> tensor<6x77x64xf32>
  return %o : tensor<6x77x64xf32>
}

// bfloat16 q, k, v, out (scores and statistics in fp32); tolerance 2e-2.
func.func @keys_gqa_bf16(%q: tensor<2x8x129x64xbf16>, %k: tensor<2x2x129x64xbf16>, %v: tensor<2x2x129x64xbf16>, %w_score: tensor<2x64xf32>, %b_score: tensor<2xf32>) -> tensor<2x8x129x64xbf16> {
  %u = "sparsek.score"(%k, %w_score, %b_score) {mode = "keys", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<2x2x129x64xbf16>, tensor<2x64xf32>, tensor<2xf32>) -> tensor<2x2x129xf32>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 20 : i64, window = 12 : i64, gate = "kv", scale = 0.125 : f64, causal = true} : (tensor<2x8x129x64xbf16>, tensor<2x2x129x64xbf16>, tensor<2x2x129x64xbf16>, tensor<2x2x129xf32>) -> tensor<2x8x129x64xbf16>
  return %o : tensor<2x8x129x64xbf16>
}
