/* examples/train: learns SparseK's scoring network on a long-range retrieval task.
 *
 * Each sequence of N tokens hides one marked key at least `window` tokens (usually
 * thousands) before the last Q queries; the value stored with it is one of C labels. Every
 * other token is a distractor with a random label. The queries look for the marker direction
 * (q = alpha e0, the marker has k[0] = 3, distractors k[0] = 0), so a query that sees the
 * marked token reads its label; a query that sees only its window guesses.
 *
 * The layer is examples/train/model.mlir, a plain dense causal attention that skc compiles
 * (CMakeLists.txt: --grad --sparsek-score=keys, k = TRAIN_K, window = TRAIN_WINDOW) into
 * libretrieval: retrieval() is the SparseK forward, saving lse, tau and |F_i|, and
 * retrieval_backward() returns every gradient. Only the score weights (w_score, b_score;
 * score mode "keys": u_j = k_j . w + b, spec S5) are trained, with Adam, through the SparseK
 * gradient (spec S11). At initialization every
 * score is equal, so the top-k are the most recent candidates (ties go to the larger j), and
 * distractors with random labels are neutral in expectation: the marker's score gets a
 * systematic push only while the marker is selected. A distance curriculum starts the marker
 * just beyond the window, where the tied top-k selects it, and moves it back to anywhere in
 * the sequence over the first half of training; accuracy is reported on the far markers.
 * The same model restricted to its window is evaluated on the same batches as the baseline:
 * it stays near chance (1/C).
 *
 *   train [--steps=N] [--seq=N] [--batch=N] [--seed=N] [--check]
 *
 * --check exits 1 unless SparseK accuracy >= 90% and window-only accuracy <= 30% at the end. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "retrieval.h"
#include "skrt.h"

enum { D = 16, C = 8, Q = 8 };

struct config {
  int steps, seq, batch, k, window;
  unsigned seed;
  int check;
};

/* One batch of data and the layer's buffers, row-major (B, N, D) / (B, N); nfree (B, N). */
struct batch {
  int64_t b, n;
  float *q, *k, *v, *o, *lse, *tau, *dout, *dq, *dk, *dv;
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
  *bt = (struct batch){b,         n,         alloc_f(t), alloc_f(t),
                       alloc_f(t), alloc_f(t), alloc_f(s), alloc_f(s),
                       alloc_f(t), alloc_f(t), alloc_f(t), alloc_f(t),
                       calloc(s, sizeof(int32_t)), calloc((size_t)b, sizeof(int))};
  return bt->q && bt->k && bt->v && bt->o && bt->lse && bt->tau && bt->dout && bt->dq &&
         bt->dk && bt->dv && bt->nfree && bt->label;
}

static void batch_destroy(struct batch *bt) {
  float *f[] = {bt->q, bt->k, bt->v, bt->o, bt->lse, bt->tau, bt->dout, bt->dq, bt->dk, bt->dv};
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

/* A float32 (or int32) DLTensor over data. */
static DLTensor tensor(void *data, int ndim, int64_t *shape, uint8_t code) {
  DLTensor t = {0};
  t.data = data;
  t.device.device_type = kDLCPU;
  t.ndim = ndim;
  t.dtype.code = code;
  t.dtype.bits = 32;
  t.dtype.lanes = 1;
  t.shape = shape;
  return t;
}

/* The DLTensors of one call of retrieval() / retrieval_backward() over a batch. */
struct layer_io {
  int64_t sx[3], sw[2], sb[1], sl[2], su[3];
  float dslope;
  DLTensor q, k, v, w, b, o, lse, tau, nfree, dout, dq, dk, dv, dw, db, ds;
};

/* Points io at the batch's buffers, the weights w (D, then the bias) and their gradient g. */
static void layer_io_init(struct layer_io *io, struct batch *bt, float *w, float *g) {
  int64_t sx[3] = {bt->b, bt->n, D}, sw[2] = {1, D}, sb[1] = {1}, sl[2] = {bt->b, bt->n};
  int64_t su[3] = {bt->b, 1, bt->n};
  memcpy(io->sx, sx, sizeof sx), memcpy(io->sw, sw, sizeof sw), memcpy(io->sb, sb, sizeof sb);
  memcpy(io->sl, sl, sizeof sl), memcpy(io->su, su, sizeof su);
  io->q = tensor(bt->q, 3, io->sx, kDLFloat), io->k = tensor(bt->k, 3, io->sx, kDLFloat);
  io->v = tensor(bt->v, 3, io->sx, kDLFloat), io->o = tensor(bt->o, 3, io->sx, kDLFloat);
  io->w = tensor(w, 2, io->sw, kDLFloat), io->b = tensor(w + D, 1, io->sb, kDLFloat);
  io->lse = tensor(bt->lse, 2, io->sl, kDLFloat), io->tau = tensor(bt->tau, 3, io->su, kDLFloat);
  io->nfree = tensor(bt->nfree, 3, io->su, kDLInt);
  io->dout = tensor(bt->dout, 3, io->sx, kDLFloat), io->dq = tensor(bt->dq, 3, io->sx, kDLFloat);
  io->dk = tensor(bt->dk, 3, io->sx, kDLFloat), io->dv = tensor(bt->dv, 3, io->sx, kDLFloat);
  io->dw = tensor(g, 2, io->sw, kDLFloat), io->db = tensor(g + D, 1, io->sb, kDLFloat);
  io->ds = tensor(&io->dslope, 1, io->sb, kDLFloat);
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

/* One Adam step on the score weights from their gradient g (retrieval_backward's dw_score
 * and db_score). */
static void adam_step(struct adam *a, const float *g, double lr) {
  a->t++;
  for (int i = 0; i <= D; ++i) {
    a->m[i] = (float)(0.9 * a->m[i] + 0.1 * g[i]);
    a->s[i] = (float)(0.999 * a->s[i] + 0.001 * g[i] * g[i]);
    double mh = a->m[i] / (1 - pow(0.9, a->t)), sh = a->s[i] / (1 - pow(0.999, a->t));
    a->w[i] -= (float)(lr * mh / (sqrt(sh) + 1e-8));
  }
}

static int parse(int argc, char **argv, struct config *c) {
  *c = (struct config){
      .steps = 200, .seq = 4096, .batch = 8, .k = TRAIN_K, .window = TRAIN_WINDOW, .seed = 1};
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
    else if (sscanf(argv[i], "--seed=%d", &v) == 1)
      c->seed = (unsigned)v;
    else {
      fprintf(stderr, "train: bad argument '%s'\nusage: train [--steps=N] [--seq=N] "
                      "[--batch=N] [--seed=N] [--check]\n", argv[i]);
      return 0;
    }
  }
  if (c->window + Q + 2 >= c->seq) {
    fprintf(stderr, "train: --seq must be > %d (the window plus the queries)\n", c->window + Q + 2);
    return 0;
  }
  return 1;
}

/* One training step; returns the loss and adds SparseK / window-only hits. */
static int step(struct batch *bt, struct adam *a, const struct config *c, int64_t reach,
                double *loss, int *hits, int *whits) {
  for (int64_t s = 0; s < bt->b; ++s)
    make_sequence(bt, s, c->window, reach);
  float g[D + 1];
  struct layer_io io;
  layer_io_init(&io, bt, a->w, g);
  if (retrieval(&io.q, &io.k, &io.v, &io.w, &io.b, &io.o, &io.lse, &io.tau, &io.nfree, NULL))
    return 0;
  *loss = loss_and_dout(bt, bt->o, hits);
  if (retrieval_backward(&io.q, &io.k, &io.v, &io.w, &io.b, &io.o, &io.lse, &io.tau, &io.nfree,
                         &io.dout, &io.dq, &io.dk, &io.dv, &io.dw, &io.db, &io.ds, NULL))
    return 0;
  adam_step(a, g, 0.05);
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
