/* examples/train: learns SparseK's scoring network on a long-range retrieval task.
 *
 * Each sequence of N tokens hides one marked key at least `window` tokens (usually
 * thousands) before the last Q queries; the value stored with it is one of C labels. Every
 * other token is a distractor with a random label. The queries look for the marker direction
 * (q = alpha e0, the marker has k[0] = 3, distractors k[0] = 0), so a query that sees the
 * marked token reads its label; a query that sees only its window guesses.
 *
 * Only the score weights (w_score, b_score; score mode "keys": u_j = k_j . w + b, spec S5)
 * are trained, with Adam, through the SparseK gradient (spec S11). At initialization every
 * score is equal, so the top-k are the most recent candidates (ties go to the larger j), and
 * distractors with random labels are neutral in expectation: the marker's score gets a
 * systematic push only while the marker is selected. A distance curriculum starts the marker
 * just beyond the window, where the tied top-k selects it, and moves it back to anywhere in
 * the sequence over the first half of training; accuracy is reported on the far markers.
 * The same model restricted to its window is evaluated on the same batches as the baseline:
 * it stays near chance (1/C).
 *
 *   train [--steps=N] [--seq=N] [--batch=N] [--k=N] [--window=N] [--seed=N] [--check]
 *
 * --check exits 1 unless SparseK accuracy >= 90% and window-only accuracy <= 30% at the end. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "skrt.h"

enum { D = 16, C = 8, Q = 8 };

struct config {
  int steps, seq, batch, k, window;
  unsigned seed;
  int check;
};

/* One batch of data and the model's buffers, row-major (B, 1, N, D) / (B, 1, N). */
struct batch {
  int64_t b, n;
  float *q, *k, *v, *u, *o, *lse, *tau, *dout, *dq, *dk, *dv, *du;
  int32_t *nfree;
  int *label; /* per sequence */
};

/* Adam state of the score weights. */
struct adam {
  float w[D + 1], m[D + 1], s[D + 1];
  int t;
};

static unsigned long long rng_state;
static double uniform(void) {
  rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return ((rng_state >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}
static double normal(void) { return sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform()); }

static float *alloc_f(size_t n) { return calloc(n, sizeof(float)); }

static int batch_create(struct batch *bt, int64_t b, int64_t n) {
  size_t t = (size_t)(b * n * D), s = (size_t)(b * n);
  *bt = (struct batch){b, n, alloc_f(t), alloc_f(t), alloc_f(t), alloc_f(s), alloc_f(t),
                       alloc_f(s), alloc_f(s), alloc_f(t), alloc_f(t), alloc_f(t), alloc_f(t),
                       alloc_f(s), calloc(s, sizeof(int32_t)), calloc((size_t)b, sizeof(int))};
  return bt->q && bt->k && bt->v && bt->u && bt->o && bt->lse && bt->tau && bt->dout &&
         bt->dq && bt->dk && bt->dv && bt->du && bt->nfree && bt->label;
}

static void batch_destroy(struct batch *bt) {
  float *f[] = {bt->q, bt->k, bt->v, bt->u, bt->o, bt->lse, bt->tau,
                bt->dout, bt->dq, bt->dk, bt->dv, bt->du};
  for (size_t i = 0; i < sizeof f / sizeof *f; ++i)
    free(f[i]);
  free(bt->nfree);
  free(bt->label);
}

/* Fills one sequence: distractors, the marker at least `window` tokens before the first of
 * the last Q queries and at most `reach` further back, the queries. */
static void make_sequence(struct batch *bt, int64_t s, int window, int64_t reach) {
  int64_t n = bt->n;
  float *k = bt->k + s * n * D, *v = bt->v + s * n * D, *q = bt->q + s * n * D;
  for (int64_t j = 0; j < n; ++j) {
    k[j * D] = 0;
    for (int d = 1; d < D; ++d)
      k[j * D + d] = (float)normal();
    memset(v + j * D, 0, D * sizeof(float));
    v[j * D + (int)(uniform() * C)] = 1;
    memset(q + j * D, 0, D * sizeof(float));
    q[j * D] = 6; /* alpha: looks for the marker direction */
  }
  int64_t last = n - Q - window - 1; /* the marker is outside every query's window */
  int64_t m = last - (int64_t)(uniform() * (double)(reach < last ? reach : last + 1));
  int label = (int)(uniform() * C);
  k[m * D] = 3;
  memset(v + m * D, 0, D * sizeof(float));
  v[m * D + label] = 1;
  bt->label[s] = label;
}

/* S5, mode keys: u_j = k_j . w + b. */
static void scores(struct batch *bt, const float *w) {
  for (int64_t j = 0; j < bt->b * bt->n; ++j) {
    float acc = w[D];
    for (int d = 0; d < D; ++d)
      acc += bt->k[j * D + d] * w[d];
    bt->u[j] = acc;
  }
}

static struct skrt_attn_params params(const struct batch *bt, const struct config *c) {
  int64_t st[3] = {bt->n * D, bt->n * D, D};
  struct skrt_attn_params p = {
      .B = bt->b, .Hq = 1, .Hkv = 1, .N = bt->n, .D = D, .topk = c->k, .window = c->window,
      .gate = SKRT_GATE_KV, .real_bits = 32, .scale = 1.0 / sqrt((double)D),
      .q = bt->q, .k = bt->k, .v = bt->v, .o = bt->o, .u = bt->u,
      .lse = bt->lse, .tau = bt->tau, .nfree = bt->nfree};
  memcpy(p.q_stride, st, sizeof st);
  memcpy(p.k_stride, st, sizeof st);
  memcpy(p.v_stride, st, sizeof st);
  memcpy(p.o_stride, st, sizeof st);
  return p;
}

/* Cross-entropy of beta * o[0:C] over the last Q queries; fills dout; counts hits. */
static double loss_and_dout(struct batch *bt, const float *o, int *hits) {
  const double beta = 10;
  double loss = 0;
  memset(bt->dout, 0, (size_t)(bt->b * bt->n * D) * sizeof(float));
  for (int64_t s = 0; s < bt->b; ++s)
    for (int64_t i = bt->n - Q; i < bt->n; ++i) {
      const float *oi = o + (s * bt->n + i) * D;
      double z[C], mx = -INFINITY, sum = 0;
      int best = 0;
      for (int c = 0; c < C; ++c) {
        z[c] = beta * oi[c];
        mx = fmax(mx, z[c]);
        best = z[c] > z[best] ? c : best;
      }
      for (int c = 0; c < C; ++c)
        sum += exp(z[c] - mx);
      loss += log(sum) + mx - z[bt->label[s]];
      *hits += best == bt->label[s];
      for (int c = 0; c < C; ++c)
        bt->dout[(s * bt->n + i) * D + c] =
            (float)(beta * (exp(z[c] - mx) / sum - (c == bt->label[s])) / (double)(bt->b * Q));
    }
  return loss / (double)(bt->b * Q);
}

/* The baseline: the same attention restricted to each query's window (no candidates). */
static void window_only(const struct batch *bt, const struct config *c, float *o) {
  double scale = 1.0 / sqrt((double)D);
  for (int64_t s = 0; s < bt->b; ++s)
    for (int64_t i = bt->n - Q; i < bt->n; ++i) {
      const float *qi = bt->q + (s * bt->n + i) * D;
      double acc[D] = {0}, den = 0;
      for (int64_t j = i - c->window + 1 > 0 ? i - c->window + 1 : 0; j <= i; ++j) {
        const float *kj = bt->k + (s * bt->n + j) * D, *vj = bt->v + (s * bt->n + j) * D;
        double a = 0;
        for (int d = 0; d < D; ++d)
          a += qi[d] * kj[d];
        double e = exp(scale * a);
        den += e;
        for (int d = 0; d < D; ++d)
          acc[d] += e * vj[d];
      }
      for (int d = 0; d < D; ++d)
        o[(s * bt->n + i) * D + d] = (float)(acc[d] / den);
    }
}

/* S11 tail, mode keys: dw = sum du_j k_j, db = sum du_j; one Adam step. */
static void adam_step(struct adam *a, const struct batch *bt, double lr) {
  double g[D + 1] = {0};
  for (int64_t j = 0; j < bt->b * bt->n; ++j) {
    for (int d = 0; d < D; ++d)
      g[d] += (double)bt->du[j] * bt->k[j * D + d];
    g[D] += bt->du[j];
  }
  a->t++;
  for (int i = 0; i <= D; ++i) {
    a->m[i] = (float)(0.9 * a->m[i] + 0.1 * g[i]);
    a->s[i] = (float)(0.999 * a->s[i] + 0.001 * g[i] * g[i]);
    double mh = a->m[i] / (1 - pow(0.9, a->t)), sh = a->s[i] / (1 - pow(0.999, a->t));
    a->w[i] -= (float)(lr * mh / (sqrt(sh) + 1e-8));
  }
}

static int parse(int argc, char **argv, struct config *c) {
  *c = (struct config){.steps = 200, .seq = 4096, .batch = 8, .k = 8, .window = 32, .seed = 1};
  for (int i = 1; i < argc; ++i) {
    int v;
    if (strcmp(argv[i], "--check") == 0)
      c->check = 1;
    else if (sscanf(argv[i], "--steps=%d", &v) == 1 && v > 0)
      c->steps = v;
    else if (sscanf(argv[i], "--seq=%d", &v) == 1 && v > 2 * Q + 64)
      c->seq = v;
    else if (sscanf(argv[i], "--batch=%d", &v) == 1 && v > 0)
      c->batch = v;
    else if (sscanf(argv[i], "--k=%d", &v) == 1 && v > 0)
      c->k = v;
    else if (sscanf(argv[i], "--window=%d", &v) == 1 && v >= 0)
      c->window = v;
    else if (sscanf(argv[i], "--seed=%d", &v) == 1)
      c->seed = (unsigned)v;
    else {
      fprintf(stderr, "train: bad argument '%s'\nusage: train [--steps=N] [--seq=N] "
                      "[--batch=N] [--k=N] [--window=N] [--seed=N] [--check]\n", argv[i]);
      return 0;
    }
  }
  if (c->window + Q + 2 >= c->seq) {
    fprintf(stderr, "train: --window must be < --seq - %d\n", Q + 2);
    return 0;
  }
  return 1;
}

/* One training step; returns the loss and adds SparseK / window-only hits. */
static int step(struct batch *bt, struct adam *a, const struct config *c, int64_t reach,
                double *loss, int *hits, int *whits) {
  for (int64_t s = 0; s < bt->b; ++s)
    make_sequence(bt, s, c->window, reach);
  scores(bt, a->w);
  struct skrt_attn_params p = params(bt, c);
  struct skrt_attn_grads g = {bt->dout, bt->dq, bt->dk, bt->dv, bt->du};
  if (skrt_cpu_attention_forward(&p, NULL))
    return 0;
  *loss = loss_and_dout(bt, bt->o, hits);
  if (skrt_cpu_attention_backward(&p, &g, NULL))
    return 0;
  adam_step(a, bt, 0.05);
  window_only(bt, c, bt->dq); /* dq is free again: reuse it for the baseline output */
  loss_and_dout(bt, bt->dq, whits);
  return 1;
}

int main(int argc, char **argv) {
  struct config c;
  if (!parse(argc, argv, &c))
    return 2;
  rng_state = c.seed;
  struct batch bt;
  struct adam a = {{0}, {0}, {0}, 0};
  if (!batch_create(&bt, c.batch, c.seq)) {
    fprintf(stderr, "train: out of memory\n");
    batch_destroy(&bt);
    return 1;
  }
  printf("SparseK retrieval: N = %d, batch %d, k = %d, window = %d, %d classes, %d steps\n",
         c.seq, c.batch, c.k, c.window, C, c.steps);
  double acc = 0, wacc = 0, loss = 0;
  int hits = 0, whits = 0, seen = 0, ok = 1;
  clock_t t0 = clock();
  for (int s = 1; s <= c.steps && ok; ++s) {
    /* curriculum: the marker's reach grows from k/2 to the whole sequence by mid-training */
    double f = fmin(1.0, 2.0 * s / c.steps);
    int64_t reach = (int64_t)(c.k / 2 + f * f * (double)c.seq);
    ok = step(&bt, &a, &c, reach, &loss, &hits, &whits);
    seen += c.batch * Q;
    if (ok && (s % 10 == 0 || s == c.steps)) {
      acc = (double)hits / seen, wacc = (double)whits / seen;
      printf("step %4d  reach %6lld  loss %.4f  accuracy %5.1f%%  window-only %5.1f%%  "
             "w_marker %.3f\n", s, (long long)reach, loss, 100 * acc, 100 * wacc, a.w[0]);
      fflush(stdout);
      hits = whits = seen = 0;
    }
  }
  if (!ok)
    fprintf(stderr, "train: %s\n", skrt_last_error());
  printf("done in %.1f s (cpu time)\n", (double)(clock() - t0) / CLOCKS_PER_SEC);
  batch_destroy(&bt);
  if (!ok)
    return 1;
  if (c.check && (acc < 0.9 || wacc > 0.3)) {
    fprintf(stderr, "train: check failed: accuracy %.1f%% (need >= 90%%), window-only %.1f%% "
                    "(need <= 30%%)\n", 100 * acc, 100 * wacc);
    return 1;
  }
  return 0;
}
