// Central finite differences in double through the generated library (issue 6): 24 f64
// entries, every score mode x gate x window {0, 3} x k {1, 4}, MHA and GQA alternating, small
// N = 13. The library is built with --grad (the forward saves lse, tau, |F_i|); each entry's
// backward must match central differences of sum(dout * o) for every input tensor within
// 1e-6 relative (test/e2e/Inputs/fd_grad.c). Double accumulation: the kernels run in f64.
// RUN: rm -rf %t && mkdir -p %t
// RUN: skc %s --grad --name=fd -o %t
// RUN: %cc -O2 -DENTRY=hidden_kv_w0_k1_mha -DMODE=0 -include %t/fd.h -I%skrt_include -I%dlpack_include %S/Inputs/fd_grad.c -L%t -lfd -Wl,-rpath,%t -lm -o %t/hidden_kv_w0_k1_mha
// RUN: %t/hidden_kv_w0_k1_mha 2 4 4 13 8 6 0 | FileCheck %s
// RUN: %cc -O2 -DENTRY=hidden_kv_w0_k4_gqa -DMODE=0 -include %t/fd.h -I%skrt_include -I%dlpack_include %S/Inputs/fd_grad.c -L%t -lfd -Wl,-rpath,%t -lm -o %t/hidden_kv_w0_k4_gqa
// RUN: %t/hidden_kv_w0_k4_gqa 2 4 2 13 8 6 1 | FileCheck %s
// RUN: %cc -O2 -DENTRY=hidden_kv_w3_k1_mha -DMODE=0 -include %t/fd.h -I%skrt_include -I%dlpack_include %S/Inputs/fd_grad.c -L%t -lfd -Wl,-rpath,%t -lm -o %t/hidden_kv_w3_k1_mha
// RUN: %t/hidden_kv_w3_k1_mha 2 4 4 13 8 6 2 | FileCheck %s
// RUN: %cc -O2 -DENTRY=hidden_kv_w3_k4_gqa -DMODE=0 -include %t/fd.h -I%skrt_include -I%dlpack_include %S/Inputs/fd_grad.c -L%t -lfd -Wl,-rpath,%t -lm -o %t/hidden_kv_w3_k4_gqa
// RUN: %t/hidden_kv_w3_k4_gqa 2 4 2 13 8 6 3 | FileCheck %s
// RUN: %cc -O2 -DENTRY=hidden_v_w0_k1_mha -DMODE=0 -include %t/fd.h -I%skrt_include -I%dlpack_include %S/Inputs/fd_grad.c -L%t -lfd -Wl,-rpath,%t -lm -o %t/hidden_v_w0_k1_mha
// RUN: %t/hidden_v_w0_k1_mha 2 4 4 13 8 6 4 | FileCheck %s
// RUN: %cc -O2 -DENTRY=hidden_v_w0_k4_gqa -DMODE=0 -include %t/fd.h -I%skrt_include -I%dlpack_include %S/Inputs/fd_grad.c -L%t -lfd -Wl,-rpath,%t -lm -o %t/hidden_v_w0_k4_gqa
// RUN: %t/hidden_v_w0_k4_gqa 2 4 2 13 8 6 5 | FileCheck %s
// RUN: %cc -O2 -DENTRY=hidden_v_w3_k1_mha -DMODE=0 -include %t/fd.h -I%skrt_include -I%dlpack_include %S/Inputs/fd_grad.c -L%t -lfd -Wl,-rpath,%t -lm -o %t/hidden_v_w3_k1_mha
// RUN: %t/hidden_v_w3_k1_mha 2 4 4 13 8 6 6 | FileCheck %s
// RUN: %cc -O2 -DENTRY=hidden_v_w3_k4_gqa -DMODE=0 -include %t/fd.h -I%skrt_include -I%dlpack_include %S/Inputs/fd_grad.c -L%t -lfd -Wl,-rpath,%t -lm -o %t/hidden_v_w3_k4_gqa
// RUN: %t/hidden_v_w3_k4_gqa 2 4 2 13 8 6 7 | FileCheck %s
// RUN: %cc -O2 -DENTRY=keys_kv_w0_k1_mha -DMODE=1 -include %t/fd.h -I%skrt_include -I%dlpack_include %S/Inputs/fd_grad.c -L%t -lfd -Wl,-rpath,%t -lm -o %t/keys_kv_w0_k1_mha
// RUN: %t/keys_kv_w0_k1_mha 2 4 4 13 8 6 8 | FileCheck %s
// RUN: %cc -O2 -DENTRY=keys_kv_w0_k4_gqa -DMODE=1 -include %t/fd.h -I%skrt_include -I%dlpack_include %S/Inputs/fd_grad.c -L%t -lfd -Wl,-rpath,%t -lm -o %t/keys_kv_w0_k4_gqa
// RUN: %t/keys_kv_w0_k4_gqa 2 4 2 13 8 6 9 | FileCheck %s
// RUN: %cc -O2 -DENTRY=keys_kv_w3_k1_mha -DMODE=1 -include %t/fd.h -I%skrt_include -I%dlpack_include %S/Inputs/fd_grad.c -L%t -lfd -Wl,-rpath,%t -lm -o %t/keys_kv_w3_k1_mha
// RUN: %t/keys_kv_w3_k1_mha 2 4 4 13 8 6 10 | FileCheck %s
// RUN: %cc -O2 -DENTRY=keys_kv_w3_k4_gqa -DMODE=1 -include %t/fd.h -I%skrt_include -I%dlpack_include %S/Inputs/fd_grad.c -L%t -lfd -Wl,-rpath,%t -lm -o %t/keys_kv_w3_k4_gqa
// RUN: %t/keys_kv_w3_k4_gqa 2 4 2 13 8 6 11 | FileCheck %s
// RUN: %cc -O2 -DENTRY=keys_v_w0_k1_mha -DMODE=1 -include %t/fd.h -I%skrt_include -I%dlpack_include %S/Inputs/fd_grad.c -L%t -lfd -Wl,-rpath,%t -lm -o %t/keys_v_w0_k1_mha
// RUN: %t/keys_v_w0_k1_mha 2 4 4 13 8 6 12 | FileCheck %s
// RUN: %cc -O2 -DENTRY=keys_v_w0_k4_gqa -DMODE=1 -include %t/fd.h -I%skrt_include -I%dlpack_include %S/Inputs/fd_grad.c -L%t -lfd -Wl,-rpath,%t -lm -o %t/keys_v_w0_k4_gqa
// RUN: %t/keys_v_w0_k4_gqa 2 4 2 13 8 6 13 | FileCheck %s
// RUN: %cc -O2 -DENTRY=keys_v_w3_k1_mha -DMODE=1 -include %t/fd.h -I%skrt_include -I%dlpack_include %S/Inputs/fd_grad.c -L%t -lfd -Wl,-rpath,%t -lm -o %t/keys_v_w3_k1_mha
// RUN: %t/keys_v_w3_k1_mha 2 4 4 13 8 6 14 | FileCheck %s
// RUN: %cc -O2 -DENTRY=keys_v_w3_k4_gqa -DMODE=1 -include %t/fd.h -I%skrt_include -I%dlpack_include %S/Inputs/fd_grad.c -L%t -lfd -Wl,-rpath,%t -lm -o %t/keys_v_w3_k4_gqa
// RUN: %t/keys_v_w3_k4_gqa 2 4 2 13 8 6 15 | FileCheck %s
// RUN: %cc -O2 -DENTRY=input_kv_w0_k1_mha -DMODE=2 -include %t/fd.h -I%skrt_include -I%dlpack_include %S/Inputs/fd_grad.c -L%t -lfd -Wl,-rpath,%t -lm -o %t/input_kv_w0_k1_mha
// RUN: %t/input_kv_w0_k1_mha 2 4 4 13 8 6 16 | FileCheck %s
// RUN: %cc -O2 -DENTRY=input_kv_w0_k4_gqa -DMODE=2 -include %t/fd.h -I%skrt_include -I%dlpack_include %S/Inputs/fd_grad.c -L%t -lfd -Wl,-rpath,%t -lm -o %t/input_kv_w0_k4_gqa
// RUN: %t/input_kv_w0_k4_gqa 2 4 2 13 8 6 17 | FileCheck %s
// RUN: %cc -O2 -DENTRY=input_kv_w3_k1_mha -DMODE=2 -include %t/fd.h -I%skrt_include -I%dlpack_include %S/Inputs/fd_grad.c -L%t -lfd -Wl,-rpath,%t -lm -o %t/input_kv_w3_k1_mha
// RUN: %t/input_kv_w3_k1_mha 2 4 4 13 8 6 18 | FileCheck %s
// RUN: %cc -O2 -DENTRY=input_kv_w3_k4_gqa -DMODE=2 -include %t/fd.h -I%skrt_include -I%dlpack_include %S/Inputs/fd_grad.c -L%t -lfd -Wl,-rpath,%t -lm -o %t/input_kv_w3_k4_gqa
// RUN: %t/input_kv_w3_k4_gqa 2 4 2 13 8 6 19 | FileCheck %s
// RUN: %cc -O2 -DENTRY=input_v_w0_k1_mha -DMODE=2 -include %t/fd.h -I%skrt_include -I%dlpack_include %S/Inputs/fd_grad.c -L%t -lfd -Wl,-rpath,%t -lm -o %t/input_v_w0_k1_mha
// RUN: %t/input_v_w0_k1_mha 2 4 4 13 8 6 20 | FileCheck %s
// RUN: %cc -O2 -DENTRY=input_v_w0_k4_gqa -DMODE=2 -include %t/fd.h -I%skrt_include -I%dlpack_include %S/Inputs/fd_grad.c -L%t -lfd -Wl,-rpath,%t -lm -o %t/input_v_w0_k4_gqa
// RUN: %t/input_v_w0_k4_gqa 2 4 2 13 8 6 21 | FileCheck %s
// RUN: %cc -O2 -DENTRY=input_v_w3_k1_mha -DMODE=2 -include %t/fd.h -I%skrt_include -I%dlpack_include %S/Inputs/fd_grad.c -L%t -lfd -Wl,-rpath,%t -lm -o %t/input_v_w3_k1_mha
// RUN: %t/input_v_w3_k1_mha 2 4 4 13 8 6 22 | FileCheck %s
// RUN: %cc -O2 -DENTRY=input_v_w3_k4_gqa -DMODE=2 -include %t/fd.h -I%skrt_include -I%dlpack_include %S/Inputs/fd_grad.c -L%t -lfd -Wl,-rpath,%t -lm -o %t/input_v_w3_k4_gqa
// RUN: %t/input_v_w3_k4_gqa 2 4 2 13 8 6 23 | FileCheck %s
// CHECK: fd_rel_err={{.*}} PASS

func.func @hidden_kv_w0_k1_mha(%q: tensor<2x4x13x8xf64>, %k: tensor<2x4x13x8xf64>, %v: tensor<2x4x13x8xf64>, %x: tensor<2x13x6xf64>, %w: tensor<4x6xf64>, %b: tensor<4xf64>) -> tensor<2x4x13x8xf64> {
  %u = "sparsek.score"(%x, %w, %b) {mode = "hidden", slope = 0.05 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<2x13x6xf64>, tensor<4x6xf64>, tensor<4xf64>) -> tensor<2x4x13xf64>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 1 : i64, window = 0 : i64, gate = "kv", scale = 0.35 : f64, causal = true} : (tensor<2x4x13x8xf64>, tensor<2x4x13x8xf64>, tensor<2x4x13x8xf64>, tensor<2x4x13xf64>) -> tensor<2x4x13x8xf64>
  return %o : tensor<2x4x13x8xf64>
}

func.func @hidden_kv_w0_k4_gqa(%q: tensor<2x4x13x8xf64>, %k: tensor<2x2x13x8xf64>, %v: tensor<2x2x13x8xf64>, %x: tensor<2x13x6xf64>, %w: tensor<2x6xf64>, %b: tensor<2xf64>) -> tensor<2x4x13x8xf64> {
  %u = "sparsek.score"(%x, %w, %b) {mode = "hidden", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<2x13x6xf64>, tensor<2x6xf64>, tensor<2xf64>) -> tensor<2x2x13xf64>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 4 : i64, window = 0 : i64, gate = "kv", scale = 0.35 : f64, causal = true} : (tensor<2x4x13x8xf64>, tensor<2x2x13x8xf64>, tensor<2x2x13x8xf64>, tensor<2x2x13xf64>) -> tensor<2x4x13x8xf64>
  return %o : tensor<2x4x13x8xf64>
}

func.func @hidden_kv_w3_k1_mha(%q: tensor<2x4x13x8xf64>, %k: tensor<2x4x13x8xf64>, %v: tensor<2x4x13x8xf64>, %x: tensor<2x13x6xf64>, %w: tensor<4x6xf64>, %b: tensor<4xf64>) -> tensor<2x4x13x8xf64> {
  %u = "sparsek.score"(%x, %w, %b) {mode = "hidden", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<2x13x6xf64>, tensor<4x6xf64>, tensor<4xf64>) -> tensor<2x4x13xf64>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 1 : i64, window = 3 : i64, gate = "kv", scale = 0.35 : f64, causal = true} : (tensor<2x4x13x8xf64>, tensor<2x4x13x8xf64>, tensor<2x4x13x8xf64>, tensor<2x4x13xf64>) -> tensor<2x4x13x8xf64>
  return %o : tensor<2x4x13x8xf64>
}

func.func @hidden_kv_w3_k4_gqa(%q: tensor<2x4x13x8xf64>, %k: tensor<2x2x13x8xf64>, %v: tensor<2x2x13x8xf64>, %x: tensor<2x13x6xf64>, %w: tensor<2x6xf64>, %b: tensor<2xf64>) -> tensor<2x4x13x8xf64> {
  %u = "sparsek.score"(%x, %w, %b) {mode = "hidden", slope = 0.05 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<2x13x6xf64>, tensor<2x6xf64>, tensor<2xf64>) -> tensor<2x2x13xf64>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 4 : i64, window = 3 : i64, gate = "kv", scale = 0.35 : f64, causal = true} : (tensor<2x4x13x8xf64>, tensor<2x2x13x8xf64>, tensor<2x2x13x8xf64>, tensor<2x2x13xf64>) -> tensor<2x4x13x8xf64>
  return %o : tensor<2x4x13x8xf64>
}

func.func @hidden_v_w0_k1_mha(%q: tensor<2x4x13x8xf64>, %k: tensor<2x4x13x8xf64>, %v: tensor<2x4x13x8xf64>, %x: tensor<2x13x6xf64>, %w: tensor<4x6xf64>, %b: tensor<4xf64>) -> tensor<2x4x13x8xf64> {
  %u = "sparsek.score"(%x, %w, %b) {mode = "hidden", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<2x13x6xf64>, tensor<4x6xf64>, tensor<4xf64>) -> tensor<2x4x13xf64>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 1 : i64, window = 0 : i64, gate = "v", scale = 0.35 : f64, causal = true} : (tensor<2x4x13x8xf64>, tensor<2x4x13x8xf64>, tensor<2x4x13x8xf64>, tensor<2x4x13xf64>) -> tensor<2x4x13x8xf64>
  return %o : tensor<2x4x13x8xf64>
}

func.func @hidden_v_w0_k4_gqa(%q: tensor<2x4x13x8xf64>, %k: tensor<2x2x13x8xf64>, %v: tensor<2x2x13x8xf64>, %x: tensor<2x13x6xf64>, %w: tensor<2x6xf64>, %b: tensor<2xf64>) -> tensor<2x4x13x8xf64> {
  %u = "sparsek.score"(%x, %w, %b) {mode = "hidden", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<2x13x6xf64>, tensor<2x6xf64>, tensor<2xf64>) -> tensor<2x2x13xf64>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 4 : i64, window = 0 : i64, gate = "v", scale = 0.35 : f64, causal = true} : (tensor<2x4x13x8xf64>, tensor<2x2x13x8xf64>, tensor<2x2x13x8xf64>, tensor<2x2x13xf64>) -> tensor<2x4x13x8xf64>
  return %o : tensor<2x4x13x8xf64>
}

func.func @hidden_v_w3_k1_mha(%q: tensor<2x4x13x8xf64>, %k: tensor<2x4x13x8xf64>, %v: tensor<2x4x13x8xf64>, %x: tensor<2x13x6xf64>, %w: tensor<4x6xf64>, %b: tensor<4xf64>) -> tensor<2x4x13x8xf64> {
  %u = "sparsek.score"(%x, %w, %b) {mode = "hidden", slope = 0.05 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<2x13x6xf64>, tensor<4x6xf64>, tensor<4xf64>) -> tensor<2x4x13xf64>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 1 : i64, window = 3 : i64, gate = "v", scale = 0.35 : f64, causal = true} : (tensor<2x4x13x8xf64>, tensor<2x4x13x8xf64>, tensor<2x4x13x8xf64>, tensor<2x4x13xf64>) -> tensor<2x4x13x8xf64>
  return %o : tensor<2x4x13x8xf64>
}

func.func @hidden_v_w3_k4_gqa(%q: tensor<2x4x13x8xf64>, %k: tensor<2x2x13x8xf64>, %v: tensor<2x2x13x8xf64>, %x: tensor<2x13x6xf64>, %w: tensor<2x6xf64>, %b: tensor<2xf64>) -> tensor<2x4x13x8xf64> {
  %u = "sparsek.score"(%x, %w, %b) {mode = "hidden", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<2x13x6xf64>, tensor<2x6xf64>, tensor<2xf64>) -> tensor<2x2x13xf64>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 4 : i64, window = 3 : i64, gate = "v", scale = 0.35 : f64, causal = true} : (tensor<2x4x13x8xf64>, tensor<2x2x13x8xf64>, tensor<2x2x13x8xf64>, tensor<2x2x13xf64>) -> tensor<2x4x13x8xf64>
  return %o : tensor<2x4x13x8xf64>
}

func.func @keys_kv_w0_k1_mha(%q: tensor<2x4x13x8xf64>, %k: tensor<2x4x13x8xf64>, %v: tensor<2x4x13x8xf64>, %w: tensor<4x8xf64>, %b: tensor<4xf64>) -> tensor<2x4x13x8xf64> {
  %u = "sparsek.score"(%k, %w, %b) {mode = "keys", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<2x4x13x8xf64>, tensor<4x8xf64>, tensor<4xf64>) -> tensor<2x4x13xf64>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 1 : i64, window = 0 : i64, gate = "kv", scale = 0.35 : f64, causal = true} : (tensor<2x4x13x8xf64>, tensor<2x4x13x8xf64>, tensor<2x4x13x8xf64>, tensor<2x4x13xf64>) -> tensor<2x4x13x8xf64>
  return %o : tensor<2x4x13x8xf64>
}

func.func @keys_kv_w0_k4_gqa(%q: tensor<2x4x13x8xf64>, %k: tensor<2x2x13x8xf64>, %v: tensor<2x2x13x8xf64>, %w: tensor<2x8xf64>, %b: tensor<2xf64>) -> tensor<2x4x13x8xf64> {
  %u = "sparsek.score"(%k, %w, %b) {mode = "keys", slope = 0.05 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<2x2x13x8xf64>, tensor<2x8xf64>, tensor<2xf64>) -> tensor<2x2x13xf64>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 4 : i64, window = 0 : i64, gate = "kv", scale = 0.35 : f64, causal = true} : (tensor<2x4x13x8xf64>, tensor<2x2x13x8xf64>, tensor<2x2x13x8xf64>, tensor<2x2x13xf64>) -> tensor<2x4x13x8xf64>
  return %o : tensor<2x4x13x8xf64>
}

func.func @keys_kv_w3_k1_mha(%q: tensor<2x4x13x8xf64>, %k: tensor<2x4x13x8xf64>, %v: tensor<2x4x13x8xf64>, %w: tensor<4x8xf64>, %b: tensor<4xf64>) -> tensor<2x4x13x8xf64> {
  %u = "sparsek.score"(%k, %w, %b) {mode = "keys", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<2x4x13x8xf64>, tensor<4x8xf64>, tensor<4xf64>) -> tensor<2x4x13xf64>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 1 : i64, window = 3 : i64, gate = "kv", scale = 0.35 : f64, causal = true} : (tensor<2x4x13x8xf64>, tensor<2x4x13x8xf64>, tensor<2x4x13x8xf64>, tensor<2x4x13xf64>) -> tensor<2x4x13x8xf64>
  return %o : tensor<2x4x13x8xf64>
}

func.func @keys_kv_w3_k4_gqa(%q: tensor<2x4x13x8xf64>, %k: tensor<2x2x13x8xf64>, %v: tensor<2x2x13x8xf64>, %w: tensor<2x8xf64>, %b: tensor<2xf64>) -> tensor<2x4x13x8xf64> {
  %u = "sparsek.score"(%k, %w, %b) {mode = "keys", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<2x2x13x8xf64>, tensor<2x8xf64>, tensor<2xf64>) -> tensor<2x2x13xf64>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 4 : i64, window = 3 : i64, gate = "kv", scale = 0.35 : f64, causal = true} : (tensor<2x4x13x8xf64>, tensor<2x2x13x8xf64>, tensor<2x2x13x8xf64>, tensor<2x2x13xf64>) -> tensor<2x4x13x8xf64>
  return %o : tensor<2x4x13x8xf64>
}

func.func @keys_v_w0_k1_mha(%q: tensor<2x4x13x8xf64>, %k: tensor<2x4x13x8xf64>, %v: tensor<2x4x13x8xf64>, %w: tensor<4x8xf64>, %b: tensor<4xf64>) -> tensor<2x4x13x8xf64> {
  %u = "sparsek.score"(%k, %w, %b) {mode = "keys", slope = 0.05 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<2x4x13x8xf64>, tensor<4x8xf64>, tensor<4xf64>) -> tensor<2x4x13xf64>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 1 : i64, window = 0 : i64, gate = "v", scale = 0.35 : f64, causal = true} : (tensor<2x4x13x8xf64>, tensor<2x4x13x8xf64>, tensor<2x4x13x8xf64>, tensor<2x4x13xf64>) -> tensor<2x4x13x8xf64>
  return %o : tensor<2x4x13x8xf64>
}

func.func @keys_v_w0_k4_gqa(%q: tensor<2x4x13x8xf64>, %k: tensor<2x2x13x8xf64>, %v: tensor<2x2x13x8xf64>, %w: tensor<2x8xf64>, %b: tensor<2xf64>) -> tensor<2x4x13x8xf64> {
  %u = "sparsek.score"(%k, %w, %b) {mode = "keys", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<2x2x13x8xf64>, tensor<2x8xf64>, tensor<2xf64>) -> tensor<2x2x13xf64>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 4 : i64, window = 0 : i64, gate = "v", scale = 0.35 : f64, causal = true} : (tensor<2x4x13x8xf64>, tensor<2x2x13x8xf64>, tensor<2x2x13x8xf64>, tensor<2x2x13xf64>) -> tensor<2x4x13x8xf64>
  return %o : tensor<2x4x13x8xf64>
}

func.func @keys_v_w3_k1_mha(%q: tensor<2x4x13x8xf64>, %k: tensor<2x4x13x8xf64>, %v: tensor<2x4x13x8xf64>, %w: tensor<4x8xf64>, %b: tensor<4xf64>) -> tensor<2x4x13x8xf64> {
  %u = "sparsek.score"(%k, %w, %b) {mode = "keys", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<2x4x13x8xf64>, tensor<4x8xf64>, tensor<4xf64>) -> tensor<2x4x13xf64>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 1 : i64, window = 3 : i64, gate = "v", scale = 0.35 : f64, causal = true} : (tensor<2x4x13x8xf64>, tensor<2x4x13x8xf64>, tensor<2x4x13x8xf64>, tensor<2x4x13xf64>) -> tensor<2x4x13x8xf64>
  return %o : tensor<2x4x13x8xf64>
}

func.func @keys_v_w3_k4_gqa(%q: tensor<2x4x13x8xf64>, %k: tensor<2x2x13x8xf64>, %v: tensor<2x2x13x8xf64>, %w: tensor<2x8xf64>, %b: tensor<2xf64>) -> tensor<2x4x13x8xf64> {
  %u = "sparsek.score"(%k, %w, %b) {mode = "keys", slope = 0.05 : f64, operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<2x2x13x8xf64>, tensor<2x8xf64>, tensor<2xf64>) -> tensor<2x2x13xf64>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 4 : i64, window = 3 : i64, gate = "v", scale = 0.35 : f64, causal = true} : (tensor<2x4x13x8xf64>, tensor<2x2x13x8xf64>, tensor<2x2x13x8xf64>, tensor<2x2x13xf64>) -> tensor<2x4x13x8xf64>
  return %o : tensor<2x4x13x8xf64>
}

func.func @input_kv_w0_k1_mha(%q: tensor<2x4x13x8xf64>, %k: tensor<2x4x13x8xf64>, %v: tensor<2x4x13x8xf64>, %u_in: tensor<2x4x13xf64>) -> tensor<2x4x13x8xf64> {
  %u = "sparsek.score"(%u_in) {mode = "input", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<2x4x13xf64>) -> tensor<2x4x13xf64>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 1 : i64, window = 0 : i64, gate = "kv", scale = 0.35 : f64, causal = true} : (tensor<2x4x13x8xf64>, tensor<2x4x13x8xf64>, tensor<2x4x13x8xf64>, tensor<2x4x13xf64>) -> tensor<2x4x13x8xf64>
  return %o : tensor<2x4x13x8xf64>
}

func.func @input_kv_w0_k4_gqa(%q: tensor<2x4x13x8xf64>, %k: tensor<2x2x13x8xf64>, %v: tensor<2x2x13x8xf64>, %u_in: tensor<2x2x13xf64>) -> tensor<2x4x13x8xf64> {
  %u = "sparsek.score"(%u_in) {mode = "input", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<2x2x13xf64>) -> tensor<2x2x13xf64>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 4 : i64, window = 0 : i64, gate = "kv", scale = 0.35 : f64, causal = true} : (tensor<2x4x13x8xf64>, tensor<2x2x13x8xf64>, tensor<2x2x13x8xf64>, tensor<2x2x13xf64>) -> tensor<2x4x13x8xf64>
  return %o : tensor<2x4x13x8xf64>
}

func.func @input_kv_w3_k1_mha(%q: tensor<2x4x13x8xf64>, %k: tensor<2x4x13x8xf64>, %v: tensor<2x4x13x8xf64>, %u_in: tensor<2x4x13xf64>) -> tensor<2x4x13x8xf64> {
  %u = "sparsek.score"(%u_in) {mode = "input", slope = 0.05 : f64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<2x4x13xf64>) -> tensor<2x4x13xf64>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 1 : i64, window = 3 : i64, gate = "kv", scale = 0.35 : f64, causal = true} : (tensor<2x4x13x8xf64>, tensor<2x4x13x8xf64>, tensor<2x4x13x8xf64>, tensor<2x4x13xf64>) -> tensor<2x4x13x8xf64>
  return %o : tensor<2x4x13x8xf64>
}

func.func @input_kv_w3_k4_gqa(%q: tensor<2x4x13x8xf64>, %k: tensor<2x2x13x8xf64>, %v: tensor<2x2x13x8xf64>, %u_in: tensor<2x2x13xf64>) -> tensor<2x4x13x8xf64> {
  %u = "sparsek.score"(%u_in) {mode = "input", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<2x2x13xf64>) -> tensor<2x2x13xf64>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 4 : i64, window = 3 : i64, gate = "kv", scale = 0.35 : f64, causal = true} : (tensor<2x4x13x8xf64>, tensor<2x2x13x8xf64>, tensor<2x2x13x8xf64>, tensor<2x2x13xf64>) -> tensor<2x4x13x8xf64>
  return %o : tensor<2x4x13x8xf64>
}

func.func @input_v_w0_k1_mha(%q: tensor<2x4x13x8xf64>, %k: tensor<2x4x13x8xf64>, %v: tensor<2x4x13x8xf64>, %u_in: tensor<2x4x13xf64>) -> tensor<2x4x13x8xf64> {
  %u = "sparsek.score"(%u_in) {mode = "input", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<2x4x13xf64>) -> tensor<2x4x13xf64>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 1 : i64, window = 0 : i64, gate = "v", scale = 0.35 : f64, causal = true} : (tensor<2x4x13x8xf64>, tensor<2x4x13x8xf64>, tensor<2x4x13x8xf64>, tensor<2x4x13xf64>) -> tensor<2x4x13x8xf64>
  return %o : tensor<2x4x13x8xf64>
}

func.func @input_v_w0_k4_gqa(%q: tensor<2x4x13x8xf64>, %k: tensor<2x2x13x8xf64>, %v: tensor<2x2x13x8xf64>, %u_in: tensor<2x2x13xf64>) -> tensor<2x4x13x8xf64> {
  %u = "sparsek.score"(%u_in) {mode = "input", slope = 0.05 : f64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<2x2x13xf64>) -> tensor<2x2x13xf64>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 4 : i64, window = 0 : i64, gate = "v", scale = 0.35 : f64, causal = true} : (tensor<2x4x13x8xf64>, tensor<2x2x13x8xf64>, tensor<2x2x13x8xf64>, tensor<2x2x13xf64>) -> tensor<2x4x13x8xf64>
  return %o : tensor<2x4x13x8xf64>
}

func.func @input_v_w3_k1_mha(%q: tensor<2x4x13x8xf64>, %k: tensor<2x4x13x8xf64>, %v: tensor<2x4x13x8xf64>, %u_in: tensor<2x4x13xf64>) -> tensor<2x4x13x8xf64> {
  %u = "sparsek.score"(%u_in) {mode = "input", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<2x4x13xf64>) -> tensor<2x4x13xf64>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 1 : i64, window = 3 : i64, gate = "v", scale = 0.35 : f64, causal = true} : (tensor<2x4x13x8xf64>, tensor<2x4x13x8xf64>, tensor<2x4x13x8xf64>, tensor<2x4x13xf64>) -> tensor<2x4x13x8xf64>
  return %o : tensor<2x4x13x8xf64>
}

func.func @input_v_w3_k4_gqa(%q: tensor<2x4x13x8xf64>, %k: tensor<2x2x13x8xf64>, %v: tensor<2x2x13x8xf64>, %u_in: tensor<2x2x13xf64>) -> tensor<2x4x13x8xf64> {
  %u = "sparsek.score"(%u_in) {mode = "input", slope = 0.0 : f64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<2x2x13xf64>) -> tensor<2x2x13xf64>
  %o = "sparsek.attention"(%q, %k, %v, %u) {k = 4 : i64, window = 3 : i64, gate = "v", scale = 0.35 : f64, causal = true} : (tensor<2x4x13x8xf64>, tensor<2x2x13x8xf64>, tensor<2x2x13x8xf64>, tensor<2x2x13xf64>) -> tensor<2x4x13x8xf64>
  return %o : tensor<2x4x13x8xf64>
}
