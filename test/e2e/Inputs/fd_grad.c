/* Central finite differences in double through a generated library (issue 6): builds the
 * entry's inputs in float64, runs the forward built with --grad (saving lse, tau, |F_i|) and
 * <ENTRY>_backward for a random dout, then checks every gradient of every input tensor
 * (q, k, v, and x, w_score, b_score, or u_in) against
 *   (L(theta + h e_i) - L(theta - h e_i)) / (2 h),  L = sum(dout * o),  h = 1e-5,
 * on up to 48 elements per tensor spread over it. Error per tensor: max_i |fd_i - g_i| /
 * max(max_i |g_i|, 1e-3 G), G the largest gradient entry over all tensors (a gradient that
 * is exactly 0, such as dq when every query sees one key, or db_score by translation
 * equivariance, is checked against that scale); it must be <= 1e-6. dslope is not a tensor input (the slope is a compile-time
 * constant); the lit suite checks it against the double reference.
 *
 * Build: cc -DENTRY=<entry> -DMODE=<0 hidden|1 keys|2 input> -include <name>.h fd_grad.c
 *        -l<name>   (rank-4 entries of a library built from f64 tensors with --grad)
 * Run:   fd_grad B Hq Hkv N D F [seed] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dlpack/dlpack.h>

#include "skrt.h"

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define BACKWARD CAT(ENTRY, _backward)

static unsigned long long rng = 88172645463325252ULL;
static double uniform(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (double)(rng >> 11) / 9007199254740992.0;
}

static double *rand_vec(int64_t n, double scale) {
  double *p = malloc((size_t)n * sizeof *p);
  for (int64_t i = 0; i < n; ++i)
    p[i] = scale * (2 * uniform() - 1);
  return p;
}

static DLTensor tensor(void *data, int ndim, int64_t *shape, uint8_t code) {
  DLTensor t;
  memset(&t, 0, sizeof t);
  t.data = data;
  t.device.device_type = kDLCPU;
  t.ndim = ndim;
  t.dtype.code = code;
  t.dtype.bits = code == kDLInt ? 32 : 64;
  t.dtype.lanes = 1;
  t.shape = shape;
  return t;
}

/* The model's tensors and the forward's outputs. */
struct model {
  int64_t nq, nk, nx, nw, nu, nl;
  DLTensor q, k, v, x, w, b, u, o, lse, tau, nfree;
};

static int forward(struct model *m) {
#if MODE == 0
  return ENTRY(&m->q, &m->k, &m->v, &m->x, &m->w, &m->b, &m->o, &m->lse, &m->tau, &m->nfree,
               NULL);
#elif MODE == 1
  return ENTRY(&m->q, &m->k, &m->v, &m->w, &m->b, &m->o, &m->lse, &m->tau, &m->nfree, NULL);
#else
  return ENTRY(&m->q, &m->k, &m->v, &m->u, &m->o, &m->lse, &m->tau, &m->nfree, NULL);
#endif
}

static double loss(struct model *m, const double *dout) {
  if (forward(m) != 0) {
    printf("forward failed: %s\n", skrt_last_error());
    exit(1);
  }
  double l = 0;
  for (int64_t i = 0; i < m->nq; ++i)
    l += dout[i] * ((double *)m->o.data)[i];
  return l;
}

/* Max normalized error of the analytic gradient g of tensor t against central differences. */
static double check(struct model *m, const double *dout, const char *name, DLTensor *t,
                    int64_t n, const double *g, double floor) {
  const double h = 1e-5;
  double *p = t->data, err = 0, mag = floor;
  for (int64_t i = 0; i < n; ++i)
    mag = fmax(mag, fabs(g[i]));
  int64_t step = n > 48 ? n / 48 : 1;
  for (int64_t i = 0; i < n; i += step) {
    double keep = p[i];
    p[i] = keep + h;
    double lp = loss(m, dout);
    p[i] = keep - h;
    double lm = loss(m, dout);
    p[i] = keep;
    err = fmax(err, fabs((lp - lm) / (2 * h) - g[i]));
  }
  double rel = err / (mag > 0 ? mag : 1);
  printf("  %-8s fd_rel_err=%.3g (max |g| %.3g)\n", name, rel, mag);
  return rel;
}

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: fd_grad B Hq Hkv N D F [seed]\n");
    return 2;
  }
  int64_t B = atoll(argv[1]), Hq = atoll(argv[2]), Hkv = atoll(argv[3]), N = atoll(argv[4]);
  int64_t D = atoll(argv[5]), F = MODE == 0 ? atoll(argv[6]) : D;
  rng += argc > 7 ? (unsigned long long)atoll(argv[7]) : 0;
  static int64_t sq[4], sk[4], sx[3], sw[2], sb[1], su[3], sl[3], one[1] = {1};
  memcpy(sq, (int64_t[]){B, Hq, N, D}, sizeof sq);
  memcpy(sk, (int64_t[]){B, Hkv, N, D}, sizeof sk);
  memcpy(sx, (int64_t[]){B, N, F}, sizeof sx);
  memcpy(sw, (int64_t[]){Hkv, F}, sizeof sw);
  memcpy(sb, (int64_t[]){Hkv}, sizeof sb);
  memcpy(su, (int64_t[]){B, Hkv, N}, sizeof su);
  memcpy(sl, (int64_t[]){B, Hq, N}, sizeof sl);
  struct model m = {B * Hq * N * D, B * Hkv * N * D, B * N * F, Hkv * F, B * Hkv * N, B * Hq * N};
  /* scores spread over a few units so that gates take every value in [0, 1] */
  m.q = tensor(rand_vec(m.nq, 1), 4, sq, kDLFloat), m.k = tensor(rand_vec(m.nk, 1), 4, sk, kDLFloat);
  m.v = tensor(rand_vec(m.nk, 1), 4, sk, kDLFloat), m.x = tensor(rand_vec(m.nx, 1), 3, sx, kDLFloat);
  m.w = tensor(rand_vec(m.nw, 3 / sqrt((double)F)), 2, sw, kDLFloat);
  m.b = tensor(rand_vec(Hkv, 1), 1, sb, kDLFloat), m.u = tensor(rand_vec(m.nu, 3), 3, su, kDLFloat);
  m.o = tensor(calloc((size_t)m.nq, 8), 4, sq, kDLFloat);
  m.lse = tensor(calloc((size_t)m.nl, 8), 3, sl, kDLFloat);
  m.tau = tensor(calloc((size_t)m.nu, 8), 3, su, kDLFloat);
  m.nfree = tensor(calloc((size_t)m.nu, 4), 3, su, kDLInt);
  double *dout = rand_vec(m.nq, 1), dslope = 0;
  DLTensor tdo = tensor(dout, 4, sq, kDLFloat), tds = tensor(&dslope, 1, one, kDLFloat);
  double *g[7] = {calloc((size_t)m.nq, 8), calloc((size_t)m.nk, 8), calloc((size_t)m.nk, 8),
                  calloc((size_t)m.nx, 8), calloc((size_t)m.nw, 8), calloc((size_t)Hkv, 8),
                  calloc((size_t)m.nu, 8)};
  DLTensor tg[7] = {tensor(g[0], 4, sq, kDLFloat), tensor(g[1], 4, sk, kDLFloat),
                    tensor(g[2], 4, sk, kDLFloat), tensor(g[3], 3, sx, kDLFloat),
                    tensor(g[4], 2, sw, kDLFloat), tensor(g[5], 1, sb, kDLFloat),
                    tensor(g[6], 3, su, kDLFloat)};
  loss(&m, dout); /* the forward, saving lse, tau, |F_i| */
#if MODE == 0
  int st = BACKWARD(&m.q, &m.k, &m.v, &m.x, &m.w, &m.b, &m.o, &m.lse, &m.tau, &m.nfree, &tdo,
                    &tg[0], &tg[1], &tg[2], &tg[3], &tg[4], &tg[5], &tds, NULL);
#elif MODE == 1
  int st = BACKWARD(&m.q, &m.k, &m.v, &m.w, &m.b, &m.o, &m.lse, &m.tau, &m.nfree, &tdo, &tg[0],
                    &tg[1], &tg[2], &tg[4], &tg[5], &tds, NULL);
#else
  int st = BACKWARD(&m.q, &m.k, &m.v, &m.u, &m.o, &m.lse, &m.tau, &m.nfree, &tdo, &tg[0], &tg[1],
                    &tg[2], &tg[6], &tds, NULL);
#endif
  if (st != 0) {
    printf("backward failed: status %d: %s\n", st, skrt_last_error());
    return 1;
  }
  const int64_t len[7] = {m.nq, m.nk, m.nk, m.nx, m.nw, Hkv, m.nu};
  double scale = 0;
  for (int t = 0; t < 7; ++t)
    for (int64_t i = 0; i < len[t]; ++i)
      scale = fmax(scale, 1e-3 * fabs(g[t][i]));
  double worst = check(&m, dout, "q", &m.q, m.nq, g[0], scale);
  worst = fmax(worst, check(&m, dout, "k", &m.k, m.nk, g[1], scale));
  worst = fmax(worst, check(&m, dout, "v", &m.v, m.nk, g[2], scale));
#if MODE == 0
  worst = fmax(worst, check(&m, dout, "x", &m.x, m.nx, g[3], scale));
#endif
#if MODE != 2
  worst = fmax(worst, check(&m, dout, "w_score", &m.w, m.nw, g[4], scale));
  worst = fmax(worst, check(&m, dout, "b_score", &m.b, Hkv, g[5], scale));
#else
  worst = fmax(worst, check(&m, dout, "u_in", &m.u, m.nu, g[6], scale));
#endif
  printf("B=%lld Hq=%lld Hkv=%lld N=%lld D=%lld: fd_rel_err=%.3g %s\n", (long long)B,
         (long long)Hq, (long long)Hkv, (long long)N, (long long)D, worst,
         worst <= 1e-6 ? "PASS" : "FAIL");
  return worst <= 1e-6 ? 0 : 1;
}
