/* CPU decode kernel of the SparseK KV cache (S12): the per-stream state of one
 * (layer, batch item, KV head) and the two things a step does to it.
 *
 *   skrt_kv_stream_append  token t enters the window ring; the token leaving it becomes a
 *                          candidate (selected-set min-heap + exact-tau heaps, S6-S8, S3)
 *   skrt_kv_stream_attend  the g query heads of the group over S_t u W_t (S9-S10)
 *
 * Everything here works on memory the caller owns (runtime/src/kv_cache.c allocates it once
 * per cache); the only allocation is the growth of the free-score heap, which the caller
 * reserves ahead of a call (skrt_kv_tau_reserve) so that a step itself never fails.
 * Scores, tau and gates are double/fp32 exactly as the spec's precision section asks:
 * tau and the free sum in double, gates and logits in fp32. */
#ifndef SKRT_KERNELS_CPU_DECODE_H
#define SKRT_KERNELS_CPU_DECODE_H

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "skrt/sparsek.h"

/* The state updates (heaps, tau, window, selected set) are shared with a CUDA decode: under
 * nvcc they are __host__ __device__; the attention part below is CPU-only. */
#if defined(__CUDACC__)
#define SKRT_KV_FN static inline __host__ __device__
#else
#define SKRT_KV_FN static inline
#endif
#if defined(_OPENMP)
#define SKRT_KV_PRAGMA(x) _Pragma(#x)
#else
#define SKRT_KV_PRAGMA(x)
#endif

/* ---- min-heap of floats ---------------------------------------------------------------- */

SKRT_KV_FN void skrt_kv_fheap_push(float *h, int64_t *n, float x) {
  int64_t i = (*n)++;
  while (i > 0) {
    int64_t p = (i - 1) / 2;
    if (h[p] <= x)
      break;
    h[i] = h[p];
    i = p;
  }
  h[i] = x;
}

SKRT_KV_FN float skrt_kv_fheap_pop(float *h, int64_t *n) {
  float top = h[0], x = h[--(*n)];
  int64_t i = 0, m = *n;
  for (;;) {
    int64_t c = 2 * i + 1;
    if (c >= m)
      break;
    if (c + 1 < m && h[c + 1] < h[c])
      c++;
    if (x <= h[c])
      break;
    h[i] = h[c];
    i = c;
  }
  if (m > 0)
    h[i] = x;
  return top;
}

/* ---- exact tau of the candidates (S1-S3), incremental --------------------------------- */

/* Candidates with gate 0 are gone for good (tau never decreases); the others are saturated
 * (u >= tau + 1, gate 1) or free (tau < u < tau + 1, gate u - tau). While at most `topk`
 * candidates were seen, tau = -inf and every candidate is saturated. */
struct skrt_kv_tau {
  float *sat; /* min-heap, capacity topk + 1 (fixed) */
  float *fr;  /* min-heap, capacity cap_free (grown by skrt_kv_tau_reserve) */
  int64_t n_sat, n_free, cap_free;
  int64_t n_cand;      /* candidates seen */
  int64_t since_resum; /* free-sum updates since it was last summed from scratch */
  double tau, sum_free;
};

SKRT_KV_FN void skrt_kv_tau_clear(struct skrt_kv_tau *t) {
  t->n_sat = t->n_free = t->n_cand = t->since_resum = 0;
  t->tau = -INFINITY;
  t->sum_free = 0.0;
}

/* Room for `extra` more insertions: saturated scores may all turn free. 0 or -1 (NOMEM).
 * Also shrinks a heap that is less than a quarter full. */
static inline int skrt_kv_tau_reserve(struct skrt_kv_tau *t, int64_t extra) {
  int64_t need = t->n_free + t->n_sat + extra;
  int64_t cap = t->cap_free;
  if (need <= cap && (cap <= 64 || need * 4 > cap))
    return 0;
  int64_t ncap = need < 64 ? 64 : need + need / 2;
  float *p = (float *)realloc(t->fr, (size_t)ncap * sizeof(float));
  if (!p)
    return need <= cap ? 0 : -1;
  t->fr = p;
  t->cap_free = ncap;
  return 0;
}

SKRT_KV_FN void skrt_kv_tau_resum(struct skrt_kv_tau *t) {
  double s = 0.0;
  for (int64_t i = 0; i < t->n_free; i++)
    s += t->fr[i];
  t->sum_free = s;
  t->since_resum = 0;
}

/* Moves tau right until g(tau) = sum clip(u - tau, 0, 1) = k again (S3). g is piecewise
 * linear; its breakpoints are u - 1 (saturated -> free) and u (free -> gone). On each piece
 * the root candidate is (sum_free + #sat - k) / #free; past the next breakpoint, cross it. */
SKRT_KV_FN void skrt_kv_tau_solve(struct skrt_kv_tau *t, int64_t k) {
  double lo = t->tau;
  for (;;) {
    double ev_sat = t->n_sat ? (double)t->sat[0] - 1.0 : INFINITY;
    double ev_free = t->n_free ? (double)t->fr[0] : INFINITY;
    double ev = ev_sat <= ev_free ? ev_sat : ev_free;
    if (t->n_free > 0) {
      double c = (t->sum_free + (double)(t->n_sat - k)) / (double)t->n_free;
      if (c <= ev) {
        t->tau = c > lo ? c : lo;
        return;
      }
    } else if (t->n_sat <= k) { /* flat piece: any tau in it gives the same gates */
      t->tau = lo;
      return;
    }
    if (ev_sat <= ev_free) {
      float z = skrt_kv_fheap_pop(t->sat, &t->n_sat);
      skrt_kv_fheap_push(t->fr, &t->n_free, z);
      t->sum_free += z;
    } else {
      t->sum_free -= skrt_kv_fheap_pop(t->fr, &t->n_free);
    }
    t->since_resum++;
    lo = ev;
  }
}

/* A new candidate score z (S7). Needs one reserved slot. */
SKRT_KV_FN void skrt_kv_tau_insert(struct skrt_kv_tau *t, float z, int64_t k) {
  t->n_cand++;
  if ((double)z <= t->tau)
    return; /* gate 0 now and forever */
  if ((double)z >= t->tau + 1.0) {
    skrt_kv_fheap_push(t->sat, &t->n_sat, z);
  } else {
    skrt_kv_fheap_push(t->fr, &t->n_free, z);
    t->sum_free += z;
    t->since_resum++;
  }
  if (t->n_cand > k)
    skrt_kv_tau_solve(t, k);
  if (t->since_resum > 4 * t->n_free + 256)
    skrt_kv_tau_resum(t);
}

/* Gate of a candidate with score u (S7); 1 while tau = -inf. */
SKRT_KV_FN float skrt_kv_gate(double tau, float u) {
  double m = (double)u - tau;
  return m <= 0.0 ? 0.0f : m >= 1.0 ? 1.0f : (float)m;
}

/* ---- one stream ------------------------------------------------------------------------ */

/* Fixed dimensions of every stream of a cache. */
struct skrt_kv_dims {
  int64_t D, topk, window;
  int64_t g; /* query heads per KV head */
  int gate;  /* enum skrt_gate */
  float scale;
};

/* Rows [0, topk) of k and v are the selected slots (the first n_sel are live), rows
 * [topk, topk + window) the window ring (position t in row topk + t % window). */
struct skrt_kv_stream {
  float *k, *v;     /* (topk + window) x D */
  float *sel_u;     /* topk: score of the token in each slot */
  int32_t *sel_pos; /* topk: its position */
  int32_t *heap;    /* n_sel slot indices, min-heap on (sel_u, sel_pos) */
  float *win_u;     /* window: score of the token in each ring row */
  struct skrt_kv_tau tau;
  int64_t n_sel;
  int64_t pos; /* tokens appended so far */
};

/* Scalars a stream owns besides its K/V rows: floats (sel_u: topk, win_u: window, the
 * saturated heap: topk + 1) and int32 (sel_pos: topk, heap: topk). */
static inline int64_t skrt_kv_stream_floats(int64_t topk, int64_t window) {
  return 2 * topk + window + 1;
}
static inline int64_t skrt_kv_stream_ints(int64_t topk) { return 2 * topk; }

/* Points an empty stream at its storage (host code; the pointers may be device memory): K and
 * V rows k, v ((topk + window) rows each, of the cache's element type behind the float
 * pointers), f and n (the scalars counted above), and the free-score heap fr of capacity cap
 * (NULL, 0: grown on demand by the CPU cache). */
static inline void skrt_kv_stream_wire(struct skrt_kv_stream *s, int64_t topk, int64_t window,
                                       float *k, float *v, float *f, int32_t *n, float *fr,
                                       int64_t cap) {
  memset(s, 0, sizeof(*s));
  s->k = k;
  s->v = v;
  s->sel_u = f;
  s->win_u = f + topk;
  s->tau.sat = f + topk + window;
  s->sel_pos = n;
  s->heap = n + topk;
  s->tau.fr = fr;
  s->tau.cap_free = cap;
  skrt_kv_tau_clear(&s->tau);
}

SKRT_KV_FN int skrt_kv_sel_less(const struct skrt_kv_stream *s, int32_t a, int32_t b) {
  return s->sel_u[a] < s->sel_u[b] || (s->sel_u[a] == s->sel_u[b] && s->sel_pos[a] < s->sel_pos[b]);
}

SKRT_KV_FN void skrt_kv_sel_sift_up(struct skrt_kv_stream *s, int64_t i) {
  int32_t x = s->heap[i];
  while (i > 0) {
    int64_t p = (i - 1) / 2;
    if (!skrt_kv_sel_less(s, x, s->heap[p]))
      break;
    s->heap[i] = s->heap[p];
    i = p;
  }
  s->heap[i] = x;
}

SKRT_KV_FN void skrt_kv_sel_sift_down(struct skrt_kv_stream *s, int64_t i) {
  int32_t x = s->heap[i];
  for (;;) {
    int64_t c = 2 * i + 1;
    if (c >= s->n_sel)
      break;
    if (c + 1 < s->n_sel && skrt_kv_sel_less(s, s->heap[c + 1], s->heap[c]))
      c++;
    if (!skrt_kv_sel_less(s, s->heap[c], x))
      break;
    s->heap[i] = s->heap[c];
    i = c;
  }
  s->heap[i] = x;
}

/* Token `pos` becomes a candidate (S6-S8): tau state, then the selected set. Candidates
 * arrive in position order, so a newcomer equal to the minimum wins the tie. Scalars only:
 * returns the selected slot whose K/V row the caller fills with the token, or -1 (dropped). */
SKRT_KV_FN int64_t skrt_kv_stream_candidate(struct skrt_kv_stream *s, const struct skrt_kv_dims *d,
                                            float u, int64_t pos) {
  skrt_kv_tau_insert(&s->tau, u, d->topk);
  int32_t slot;
  if (s->n_sel < d->topk) {
    slot = (int32_t)s->n_sel;
    s->sel_u[slot] = u;
    s->sel_pos[slot] = (int32_t)pos;
    s->heap[s->n_sel++] = slot;
    skrt_kv_sel_sift_up(s, s->n_sel - 1);
  } else if (u >= s->sel_u[s->heap[0]]) {
    slot = s->heap[0]; /* evicted for good, slot reused */
    s->sel_u[slot] = u;
    s->sel_pos[slot] = (int32_t)pos;
    skrt_kv_sel_sift_down(s, 0);
  } else {
    slot = -1;
  }
  return slot;
}

/* Where the K/V rows of one append go: first window row `from` is copied into selected slot
 * `to` (the token leaving the window joins the selected set; -1: nothing to copy), then the
 * new token's k/v are written to row `row` (-1: dropped, only with w = 0). */
struct skrt_kv_move {
  int64_t from, to, row;
};

/* Scalar part of appending token t = s->pos (ref: S6, S12); the caller reserved one tau slot
 * and moves the rows as returned. */
SKRT_KV_FN struct skrt_kv_move skrt_kv_stream_advance(struct skrt_kv_stream *s,
                                                      const struct skrt_kv_dims *d, float u) {
  struct skrt_kv_move mv = {-1, -1, -1};
  int64_t t = s->pos;
  if (d->window == 0) {
    mv.row = skrt_kv_stream_candidate(s, d, u, t);
  } else {
    int64_t slot = t % d->window;
    mv.row = d->topk + slot;
    if (t >= d->window) {
      mv.to = skrt_kv_stream_candidate(s, d, s->win_u[slot], t - d->window);
      mv.from = mv.to >= 0 ? mv.row : -1;
    }
    s->win_u[slot] = u;
  }
  s->pos = t + 1;
  return mv;
}

/* Appends token t = s->pos with its k/v rows (fp32 storage). The caller reserved one tau slot. */
SKRT_KV_FN void skrt_kv_stream_append(struct skrt_kv_stream *s, const struct skrt_kv_dims *d,
                                      const float *kr, const float *vr, float u) {
  struct skrt_kv_move mv = skrt_kv_stream_advance(s, d, u);
  size_t bytes = (size_t)d->D * sizeof(float);
  if (mv.to >= 0) {
    memcpy(s->k + mv.to * d->D, s->k + mv.from * d->D, bytes);
    memcpy(s->v + mv.to * d->D, s->v + mv.from * d->D, bytes);
  }
  if (mv.row >= 0) {
    memcpy(s->k + mv.row * d->D, kr, bytes);
    memcpy(s->v + mv.row * d->D, vr, bytes);
  }
}

/* Number of live rows and the row index of live row r (selected slots, then the window). */
SKRT_KV_FN int64_t skrt_kv_stream_rows(const struct skrt_kv_stream *s,
                                       const struct skrt_kv_dims *d) {
  return s->n_sel + (s->pos < d->window ? s->pos : d->window);
}
SKRT_KV_FN int64_t skrt_kv_row(const struct skrt_kv_stream *s, const struct skrt_kv_dims *d,
                               int64_t r) {
  return r < s->n_sel ? r : d->topk + (r - s->n_sel);
}

#if !defined(__CUDACC__) /* the CPU attention; a CUDA decode has its own */

/* ---- attention of the group's query heads over S_t u W_t (S9-S10) ---------------------- */

static inline float skrt_kv_dot(const float *a, const float *b, int64_t D) {
  float s = 0.0f;
  SKRT_KV_PRAGMA(omp simd reduction(+ : s))
  for (int64_t i = 0; i < D; i++)
    s += a[i] * b[i];
  return s;
}

static inline void skrt_kv_axpy(float *y, float a, const float *x, int64_t D) {
  SKRT_KV_PRAGMA(omp simd)
  for (int64_t i = 0; i < D; i++)
    y[i] += a * x[i];
}

/* Scratch the caller provides per call: gates (topk + window), logits g * (topk + window),
 * accumulators g * D floats. */
static inline int64_t skrt_kv_scratch_floats(const struct skrt_kv_dims *d) {
  return (d->g + 1) * (d->topk + d->window) + d->g * d->D;
}

/* Four query heads (qs floats apart) against one key row: the row is read once. */
static inline void skrt_kv_dot4(const float *q, int64_t qs, const float *k, int64_t D, float *out) {
  float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
  const float *q1 = q + qs, *q2 = q1 + qs, *q3 = q2 + qs;
  SKRT_KV_PRAGMA(omp simd reduction(+ : s0, s1, s2, s3))
  for (int64_t i = 0; i < D; i++) {
    s0 += q[i] * k[i];
    s1 += q1[i] * k[i];
    s2 += q2[i] * k[i];
    s3 += q3[i] * k[i];
  }
  out[0] = s0, out[1] = s1, out[2] = s2, out[3] = s3;
}

/* Logits s_hr = scale * q_h . k_r, times the gate m_r for gate kv (S9). */
static inline void skrt_kv_logits(const struct skrt_kv_stream *s, const struct skrt_kv_dims *d,
                                  const float *q, int64_t q_head_stride, const float *gate,
                                  float *logit, int64_t nr, int64_t ld) {
  for (int64_t r = 0; r < nr; r++) {
    const float *kr = s->k + skrt_kv_row(s, d, r) * d->D;
    float gs = d->gate == SKRT_GATE_KV ? d->scale * gate[r] : d->scale, a[4];
    int64_t h = 0;
    for (; h + 4 <= d->g; h += 4) {
      skrt_kv_dot4(q + h * q_head_stride, q_head_stride, kr, d->D, a);
      for (int j = 0; j < 4; j++)
        logit[(h + j) * ld + r] = gs * a[j];
    }
    for (; h < d->g; h++)
      logit[h * ld + r] = gs * skrt_kv_dot(q + h * q_head_stride, kr, d->D);
  }
}

/* Softmax of one head's logits in place (S10); returns the normalizer. */
static inline float skrt_kv_softmax(float *x, int64_t n) {
  float mx = -INFINITY, sum = 0.0f;
  SKRT_KV_PRAGMA(omp simd reduction(max : mx))
  for (int64_t r = 0; r < n; r++)
    mx = x[r] > mx ? x[r] : mx;
  for (int64_t r = 0; r < n; r++)
    x[r] = expf(x[r] - mx);
  SKRT_KV_PRAGMA(omp simd reduction(+ : sum))
  for (int64_t r = 0; r < n; r++)
    sum += x[r];
  return sum;
}

/* acc_h += sum over live rows [r0, r0 + n) of w_hr v_r. The rows of a tile stay in L1 while
 * every head walks them in 16-wide column blocks held in registers (one store per block and
 * tile instead of one per row). */
#define SKRT_KV_VTILE 64
typedef float skrt_kv_v4 __attribute__((vector_size(16))); /* GCC/Clang generic vector */

static inline skrt_kv_v4 skrt_kv_v4_load(const float *p) {
  skrt_kv_v4 v;
  memcpy(&v, p, sizeof(v));
  return v;
}

static inline void skrt_kv_accumulate_tile(const struct skrt_kv_stream *s,
                                           const struct skrt_kv_dims *d, const float *w, int64_t ld,
                                           int64_t r0, int64_t n, float *acc) {
  const float *vp[SKRT_KV_VTILE];
  int64_t D = d->D, D16 = D - D % 16;
  for (int64_t r = 0; r < n; r++)
    vp[r] = s->v + skrt_kv_row(s, d, r0 + r) * D;
  for (int64_t h = 0; h < d->g; h++) {
    const float *wh = w + h * ld + r0;
    float *a = acc + h * D;
    for (int64_t c = 0; c < D16; c += 16) {
      skrt_kv_v4 t0 = skrt_kv_v4_load(a + c), t1 = skrt_kv_v4_load(a + c + 4);
      skrt_kv_v4 t2 = skrt_kv_v4_load(a + c + 8), t3 = skrt_kv_v4_load(a + c + 12);
      for (int64_t r = 0; r < n; r++) {
        const float *v = vp[r] + c;
        skrt_kv_v4 x = {wh[r], wh[r], wh[r], wh[r]};
        t0 += x * skrt_kv_v4_load(v);
        t1 += x * skrt_kv_v4_load(v + 4);
        t2 += x * skrt_kv_v4_load(v + 8);
        t3 += x * skrt_kv_v4_load(v + 12);
      }
      memcpy(a + c, &t0, sizeof(t0));
      memcpy(a + c + 4, &t1, sizeof(t1));
      memcpy(a + c + 8, &t2, sizeof(t2));
      memcpy(a + c + 12, &t3, sizeof(t3));
    }
    for (int64_t r = 0; D16 < D && r < n; r++)
      for (int64_t c = D16; c < D; c++)
        a[c] += wh[r] * vp[r][c];
  }
}

/* o_h = sum_r P_hr m_r v_r for the g query heads of the stream's group (S9-S10). q and o point
 * at head 0 of the group; heads are q_head_stride / o_head_stride floats apart. */
static inline void skrt_kv_stream_attend(const struct skrt_kv_stream *s,
                                         const struct skrt_kv_dims *d, const float *q,
                                         int64_t q_head_stride, float *o, int64_t o_head_stride,
                                         float *scratch) {
  int64_t ld = d->topk + d->window, nr = skrt_kv_stream_rows(s, d);
  float *gate = scratch, *logit = scratch + ld, *acc = logit + d->g * ld;
  assert(nr >= 1 && nr <= ld);
  for (int64_t r = 0; r < nr; r++) /* ref: S7 (selected), S6 (window: gate 1) */
    gate[r] = r < s->n_sel ? skrt_kv_gate(s->tau.tau, s->sel_u[r]) : 1.0f;
  skrt_kv_logits(s, d, q, q_head_stride, gate, logit, nr, ld);
  for (int64_t h = 0; h < d->g; h++) {
    float inv = 1.0f / skrt_kv_softmax(logit + h * ld, nr);
    for (int64_t r = 0; r < nr; r++)
      logit[h * ld + r] *= inv * gate[r];
  }
  memset(acc, 0, (size_t)(d->g * d->D) * sizeof(float));
  for (int64_t r0 = 0; r0 < nr; r0 += SKRT_KV_VTILE)
    skrt_kv_accumulate_tile(s, d, logit, ld, r0, nr - r0 < SKRT_KV_VTILE ? nr - r0 : SKRT_KV_VTILE,
                            acc);
  for (int64_t h = 0; h < d->g; h++)
    memcpy(o + h * o_head_stride, acc + h * d->D, (size_t)d->D * sizeof(float));
}

#endif /* !__CUDACC__ */

#endif
