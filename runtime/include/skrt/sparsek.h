/* skrt SparseK math: the operator (S1-S4), prefix thresholds of a causal sequence
 * (S6-S8 with the incremental facts of spec section 2), and the plain double-precision
 * reference of the whole layer (S5-S11) that kernels and the compiler are tested against. */
#ifndef SKRT_SPARSEK_H
#define SKRT_SPARSEK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- The operator ------------------------------------------------------------------ */

/* p = SparseK(z, k) (S1), exact (S2/S3), O(n log n), computed in double. *tau =
 * -INFINITY when k >= n; when no entry is free (integer k, gap >= 1) tau is the smallest
 * root, the (k+1)-th largest z, so the gates come out exactly 0/1. tau may be NULL.
 * Errors: NULL z or p, n < 1, k <= 0 or NaN, non-finite z. p may not alias z. */
int skrt_sparsek_forward(const float *z, int64_t n, float k, float *p, float *tau);

/* dz = J^T dp (S4) computed from p alone (free: 0 < p_i < 1); dz = 0 when no entry is
 * free. dz may alias dp. Errors: NULL pointers, n < 1. */
int skrt_sparsek_backward(const float *p, const float *dp, int64_t n, float *dz);

/* ---- Prefix thresholds of one causal (b, h) sequence -------------------------------- */

/* For scores u[0..n) with budget k >= 1 and window w >= 0, per query i (S6-S8):
 *   tau[i]     the gate threshold of SparseK(u[C_i], k), -INFINITY when |C_i| <= k
 *              (and when C_i is empty); when no candidate is free (integer k, gap >= 1)
 *              the smallest root, the (k+1)-th largest candidate score (gates exactly 0/1);
 *   nfree[i]   |F_i|, the number of candidates j in C_i with 0 < u_j - tau_i < 1, both
 *              comparisons evaluated in double against the double threshold that tau[i]
 *              is rounded from (the reference classifies the same way);
 * and per key j the selection interval (spec fact: the queries selecting j are contiguous
 * and start when j becomes a candidate):
 *   sel_end[j] first query at which j is no longer in S_i, so that
 *              j in S_i  <=>  j + w <= i < sel_end[j];
 *              sel_end[j] == min(j + w, n) when j is never selected, n when never evicted.
 * Any output pointer except u may be NULL (not computed). O(n log n) time, O(n) memory.
 * Errors: NULL u, n < 1 or n > INT32_MAX, k < 1, w < 0, non-finite u (message names the
 * index). */
int skrt_prefix_thresholds(const float *u, int64_t n, int64_t k, int64_t w, float *tau,
                           int32_t *nfree, int32_t *sel_end);

/* ---- Plain reference of the layer (double, written for clarity, O(N^2) per head) ---- */

enum skrt_gate { SKRT_GATE_KV = 0, SKRT_GATE_V = 1 };
enum skrt_score_mode { SKRT_SCORE_HIDDEN = 0, SKRT_SCORE_KEYS = 1, SKRT_SCORE_INPUT = 2 };

struct skrt_ref_shape {
  int64_t B, Hq, Hkv, N, D;
  int64_t F; /* feature width of x for score mode hidden (x is B x N x F) */
};

struct skrt_ref_config {
  int64_t topk;   /* k >= 1 */
  int64_t window; /* w >= 0 */
  int gate;       /* enum skrt_gate */
  int score_mode; /* enum skrt_score_mode */
  double scale;   /* logit scale, usually 1/sqrt(D) */
  double slope;   /* S5 position slope */
};

/* All tensors row-major contiguous: q, o (B,Hq,N,D); k, v (B,Hkv,N,D); u (B,Hkv,N);
 * x (B,N,F) for hidden, unused otherwise (keys reads k); w_score (Hkv,F or D);
 * b_score (Hkv). */

/* S5: u from the score inputs (mode hidden/keys); mode input copies u_in and adds slope*j. */
int skrt_ref_scores(const struct skrt_ref_shape *s, const struct skrt_ref_config *c,
                    const double *x, const double *k, const double *w_score,
                    const double *b_score, const double *u_in, double *u);

/* S6-S10 given u. Optional outputs (may be NULL): lse (B,Hq,N), the log-sum-exp of the
 * logits s_ij (S9, after gating for gate kv) over S_i u W_i; tau and nfree (B,Hkv,N), with
 * free meaning 0 < u_j - tau_i < 1 in double, as in skrt_prefix_thresholds. Thresholds are
 * recomputed per query from scratch (no prefix tricks) so the reference also checks
 * skrt_prefix_thresholds. Errors: NULL shape/config/q/k/v/u/o, sizes < 1, Hq not a
 * multiple of Hkv, topk < 1, window < 0, unknown gate, non-finite u (message names
 * [b, h, j]). */
int skrt_ref_attention_forward(const struct skrt_ref_shape *s, const struct skrt_ref_config *c,
                               const double *q, const double *k, const double *v,
                               const double *u, double *o, double *lse, double *tau,
                               int64_t *nfree);

/* S11 given u and dO: dq, dk, dv, du (all required, overwritten). */
int skrt_ref_attention_backward(const struct skrt_ref_shape *s,
                                const struct skrt_ref_config *c, const double *q,
                                const double *k, const double *v, const double *u,
                                const double *dout, double *dq, double *dk, double *dv,
                                double *du);

/* S11 tail: the scoring network's gradients from du. dx is (B,N,F) for hidden and is ADDED
 * to dk for keys (pass the dk from the attention backward); dslope is a scalar. For mode
 * input, du is the gradient of u_in and only dslope is written. Outputs may be NULL. */
int skrt_ref_scores_backward(const struct skrt_ref_shape *s, const struct skrt_ref_config *c,
                             const double *x, const double *k, const double *w_score,
                             const double *du, double *dx, double *dk, double *dw_score,
                             double *db_score, double *dslope);

#ifdef __cplusplus
}
#endif
#endif
