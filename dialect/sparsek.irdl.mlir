// The `sparsek` dialect (IRDL). Structure only: IRDL checks operand/result counts, base
// types and attribute kinds; the C verify pass (passes/verify.c) checks ranks, element types,
// agreeing B/N/D, Hq % Hkv, k >= 1, window >= 0, gate and mode values. Semantics: see
// shared/spec/sparsek.md. Ops use the generic syntax ("sparsek.attention"(...)).
//
// NOTE: reusing one constraint value unifies what it constrains (types AND attribute values),
// so every operand group and attribute below has its own constraint value.
irdl.dialect @sparsek {
  // Dense causal softmax attention found in the input graph by raise-attention:
  //   out = softmax(scale * q k^T + causal mask) v, with GQA when Hq > Hkv.
  // q, out: (B, Hq, N, D) or (B*H, N, D); k, v: (B, Hkv, N, D) or (B*H, N, D).
  irdl.operation @dense_attention {
    %q = irdl.base "!builtin.tensor"
    %k = irdl.base "!builtin.tensor"
    %v = irdl.base "!builtin.tensor"
    %scale = irdl.base "#builtin.float"
    %causal = irdl.base "#builtin.integer"
    irdl.operands(q: %q, k: %k, v: %v)
    irdl.attributes {"scale" = %scale, "causal" = %causal}
    irdl.results(out: %q)
  }

  // Per-key SparseK scores (S5): u[b,h,j] = x . w_score[h] + b_score[h] + slope * j.
  // mode "hidden": x (B, N, F), w_score (Hkv, F), b_score (Hkv);
  // mode "keys":   x = keys (B, Hkv, N, D), w_score (Hkv, D), b_score (Hkv);
  // mode "input":  x = u_in (B, Hkv, N) supplied by the caller, no w_score/b_score.
  // u: (B, Hkv, N) f32. Two optional operands: the generic form carries
  // operandSegmentSizes = array<i32: 1, 1, 1> (or 1, 0, 0 for mode input).
  irdl.operation @score {
    %x = irdl.base "!builtin.tensor"
    %w = irdl.base "!builtin.tensor"
    %b = irdl.base "!builtin.tensor"
    %u = irdl.base "!builtin.tensor"
    %mode = irdl.base "#builtin.string"
    %slope = irdl.base "#builtin.float"
    irdl.operands(x: %x, w_score: optional %w, b_score: optional %b)
    irdl.attributes {"mode" = %mode, "slope" = %slope}
    irdl.results(u: %u)
  }

  // SparseK attention (S6-S10): each query attends to its k best-scored candidates and the
  // last `window` positions, gated by SparseK(u). gate "kv" gates logits and values, "v"
  // values only. Shapes as dense_attention; u (B, Hkv, N) f32 (Hkv = 1 for rank 3).
  irdl.operation @attention {
    %q = irdl.base "!builtin.tensor"
    %k = irdl.base "!builtin.tensor"
    %v = irdl.base "!builtin.tensor"
    %u = irdl.base "!builtin.tensor"
    %topk = irdl.base "#builtin.integer"
    %window = irdl.base "#builtin.integer"
    %gate = irdl.base "#builtin.string"
    %scale = irdl.base "#builtin.float"
    %causal = irdl.base "#builtin.integer"
    irdl.operands(q: %q, k: %k, v: %v, u: %u)
    irdl.attributes {"k" = %topk, "window" = %window, "gate" = %gate, "scale" = %scale,
                     "causal" = %causal}
    irdl.results(out: %q)
  }
}
