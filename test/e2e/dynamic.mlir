// End to end with dynamic B and N (read from the tensors, checked for consistency): GQA,
// keys scores, one library run on several (B, N) including N = 1 and N not a multiple of the
// tile, once with a strided q; --decode: the same sequences through gqa_decode (prefill chunk,
// then token by token) give the forward's outputs; then every bad input of the entry.
// RUN: rm -rf %t && mkdir -p %t
// RUN: skc %s -o %t --decode --sparsek-score=keys --sparsek-k=4 --sparsek-window=3
// RUN: %cc -O2 -DDECODE -DENTRY=gqa -DMODE=1 -DRANK=4 -include %t/dynamic.h -I%skrt_include -I%dlpack_include %S/Inputs/harness.c -L%t -ldynamic -Wl,-rpath,%t -lm -o %t/h
// RUN: %t/h 1 4 2 45 8 0 4 3 0 0 0.3 | FileCheck %s
// RUN: %t/h 3 4 2 8 8 0 4 3 0 0 0.3 | FileCheck %s
// RUN: %t/h 2 4 2 1 8 0 4 3 0 0 0.3 | FileCheck %s
// RUN: %t/h 1 4 2 70 8 0 4 3 0 0 0.3 7 | FileCheck %s
// RUN: %cc -O2 -DSTRIDED -DENTRY=gqa -DMODE=1 -DRANK=4 -include %t/dynamic.h -I%skrt_include -I%dlpack_include %S/Inputs/harness.c -L%t -ldynamic -Wl,-rpath,%t -lm -o %t/hs
// RUN: %t/hs 2 4 2 19 8 0 4 3 0 0 0.3 | FileCheck %s
// CHECK: max_rel_err={{.*}} PASS
//
// RUN: %cc -O2 -include %t/dynamic.h -I%skrt_include -I%dlpack_include %S/Inputs/bad_input.c -L%t -ldynamic -Wl,-rpath,%t -lm -o %t/bad
// RUN: %t/bad | FileCheck %s --check-prefix=BAD
// BAD: ok: status=0 (ok)
// BAD-NEXT: null_data: status=1 (null pointer) msg=argument 'q': data pointer is NULL
// BAD-NEXT: null_q: status=1 (null pointer) msg=argument 'q': tensor is NULL
// BAD-NEXT: rank: status=3 (shape mismatch) msg=argument 'k': expected rank 4, got 3
// BAD-NEXT: static_dim: status=3 (shape mismatch) msg=argument 'v': dimension 1 is 3, expected 2
// BAD-NEXT: dynamic_n: status=3 (shape mismatch) msg=argument 'k': dimension 2 (N) is 7, expected 8 (N of 'q')
// BAD-NEXT: dynamic_b: status=3 (shape mismatch) msg=argument 'out': dimension 0 (B) is 1, expected 2 (B of 'q')
// BAD-NEXT: dtype: status=4 (unsupported dtype) msg=argument 'v': expected dtype float32, got float64
// BAD-NEXT: device: status=5 (wrong device) msg=argument 'out': expected device cpu, got cuda (type 2)
// BAD-NEXT: strides: status=3 (shape mismatch) msg=argument 'out': stride of dimension 3 is 8, expected 1 (the last dimension must be contiguous)
// BAD-NEXT: nonfinite: status=6 (non-finite value) msg=gqa: score 0 (dynamic.mlir:{{[0-9]+}}:8): score u[b=0, h=1, j=0] is inf
// BAD-NEXT: nan_key: status=6 (non-finite value) msg=gqa: score 0 (dynamic.mlir:{{[0-9]+}}:8): score u[b=0, h=0, j=0] is nan
// BAD-NEXT: empty: status=0 (ok)
// BAD-NEXT: ctx: status=0 (ok)
// BAD-NEXT: decode_null: status=1 (null pointer) msg=gqa_decode: cache is NULL
// BAD-NEXT: decode_cache: status=2 (invalid argument) msg=gqa_decode: the cache (B 2, Hq 4, Hkv 2, D 8, k 9, window 3, gate 0, scale 0.3) was not made for this layer (B 2, Hq 4, Hkv 2, D 8, k 4, window 3, gate 0, scale 0.3); use gqa_kv_cache_create
// BAD-NEXT: decode_ok: status=0 (ok)

func.func @gqa(%q: tensor<?x4x?x8xf32>, %k: tensor<?x2x?x8xf32>, %v: tensor<?x2x?x8xf32>) -> tensor<?x4x?x8xf32> {
  %o = "sparsek.dense_attention"(%q, %k, %v) {scale = 0.3 : f64, causal = true} : (tensor<?x4x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>) -> tensor<?x4x?x8xf32>
  return %o : tensor<?x4x?x8xf32>
}
