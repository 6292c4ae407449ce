/* skrt KV cache: the DLPack entry point that generated `<name>_decode` code calls.
 *
 * It checks every tensor against the shapes the cache was built for (messages name the tensor,
 * the axis, expected and actual), turns DLTensor strides into a skrt_kv_io and hands over to
 * skrt_kv_cache_forward. Accepted forms: q, o (B, Hq, N, D) and k, v (B, Hkv, N, D) with
 * u (B, Hkv, N); for N = 1 also (B, H, D) and (B, Hkv). The device type (kDLCPU or kDLCUDA) and
 * the element type of q/k/v/o (float32, bfloat16 or float16) follow the cache; u is float32. */
#include "skrt/kv_cache.h"

struct kv_dl_want {
  const char *name;
  int64_t B, H, N, D; /* N < 0: take it from the tensor; D == 0: scores (no D axis) */
  const struct skrt_kv_cache_config *cfg;
};

static const char *const kv_dl_type_names[] = {"float32", "bfloat16", "float16"};

/* Device and element type of a tensor: the cache's (scores u: float32). */
static int kv_dl_basic(const DLTensor *t, const char *name, const struct skrt_kv_cache_config *c,
                       int scores) {
  if (!t)
    return skrt_error(SKRT_ERR_NULL, "kv cache: %s is NULL", name);
  if (!t->data)
    return skrt_error(SKRT_ERR_NULL, "kv cache: %s has no data", name);
  int dev = c->device == SKRT_KV_DEVICE_CUDA ? kDLCUDA : kDLCPU;
  if ((int)t->device.device_type != dev)
    return skrt_error(SKRT_ERR_DEVICE,
                      "kv cache: %s lives on device type %d, the cache is on "
                      "the %s (%d)",
                      name, (int)t->device.device_type, dev == kDLCUDA ? "CUDA device" : "CPU",
                      dev);
  int dt = scores ? SKRT_KV_F32 : c->dtype;
  int code = dt == SKRT_KV_BF16 ? kDLBfloat : kDLFloat, bits = dt == SKRT_KV_F32 ? 32 : 16;
  if (t->dtype.code != code || t->dtype.bits != bits || t->dtype.lanes != 1)
    return skrt_error(SKRT_ERR_DTYPE,
                      "kv cache: %s has dtype (code %d, bits %d, lanes %d), "
                      "expected %s",
                      name, (int)t->dtype.code, (int)t->dtype.bits, (int)t->dtype.lanes,
                      kv_dl_type_names[dt]);
  return SKRT_OK;
}

static int kv_dl_axis(const DLTensor *t, const char *name, int axis, int64_t want,
                      const char *what) {
  if (t->shape[axis] != want)
    return skrt_error(SKRT_ERR_SHAPE, "kv cache: %s shape[%d] is %lld, the cache has %s = %lld",
                      name, axis, (long long)t->shape[axis], what, (long long)want);
  return SKRT_OK;
}

/* Checks rank, extents and a unit D stride; writes (b, h, n) element strides. */
static int kv_dl_check(const DLTensor *t, const struct kv_dl_want *w, const char *hname,
                       int64_t *stride) {
  int st = kv_dl_basic(t, w->name, w->cfg, w->D == 0);
  if (st)
    return st;
  int full = w->D ? 4 : 3; /* rank with the N axis */
  if (t->ndim != full && !(t->ndim == full - 1 && w->N == 1))
    return skrt_error(SKRT_ERR_SHAPE, "kv cache: %s has rank %d, expected %d%s", w->name, t->ndim,
                      full, w->N == 1 ? " (or one less without the N axis)" : "");
  int has_n = t->ndim == full;
  st = kv_dl_axis(t, w->name, 0, w->B, "B");
  st = st ? st : kv_dl_axis(t, w->name, 1, w->H, hname);
  st = st ? st : has_n ? kv_dl_axis(t, w->name, 2, w->N, "N (from k)") : SKRT_OK;
  st = st ? st : w->D ? kv_dl_axis(t, w->name, t->ndim - 1, w->D, "D") : SKRT_OK;
  if (st)
    return st;
  int64_t row[4], acc = 1;
  for (int i = t->ndim - 1; i >= 0; i--) {
    row[i] = t->strides ? t->strides[i] : acc;
    acc *= t->shape[i];
  }
  if (w->D && w->D > 1 && row[t->ndim - 1] != 1)
    return skrt_error(SKRT_ERR_SHAPE, "kv cache: %s has D stride %lld, expected 1", w->name,
                      (long long)row[t->ndim - 1]);
  stride[0] = row[0];
  stride[1] = row[1];
  stride[2] = has_n ? row[2] : 0;
  return SKRT_OK;
}

static void *kv_dl_ptr(const DLTensor *t) { return t ? (char *)t->data + t->byte_offset : NULL; }

static int kv_dl_n(const DLTensor *k, const struct skrt_kv_cache_config *c, int64_t *N) {
  int st = kv_dl_basic(k, "k", c, 0);
  if (st)
    return st;
  if (k->ndim != 4 && k->ndim != 3)
    return skrt_error(SKRT_ERR_SHAPE,
                      "kv cache: k has rank %d, expected 4 (B, Hkv, N, D) "
                      "or 3 (B, Hkv, D)",
                      k->ndim);
  *N = k->ndim == 4 ? k->shape[2] : 1;
  return SKRT_OK;
}

int skrt_kv_cache_forward_dl(struct skrt_kv_cache *cache, int64_t layer, const DLTensor *q,
                             const DLTensor *k, const DLTensor *v, const DLTensor *u, DLTensor *o,
                             struct skrt_context *ctx) {
  struct skrt_kv_cache_config c;
  int64_t N = 0;
  int st = skrt_kv_cache_get_config(cache, &c);
  st = st ? st : kv_dl_n(k, &c, &N);
  if (st)
    return st;
  if (!q != !o)
    return skrt_error(SKRT_ERR_NULL, "kv cache: %s is NULL but %s is not", q ? "o" : "q",
                      q ? "q" : "o");
  struct skrt_kv_io io = {0};
  st = kv_dl_check(k, &(struct kv_dl_want){"k", c.B, c.Hkv, N, c.D, &c}, "Hkv", io.k_stride);
  st = st ? st : kv_dl_check(v, &(struct kv_dl_want){"v", c.B, c.Hkv, N, c.D, &c}, "Hkv", io.v_stride);
  st = st ? st : kv_dl_check(u, &(struct kv_dl_want){"u", c.B, c.Hkv, N, 0, &c}, "Hkv", io.u_stride);
  if (!st && q) {
    st = kv_dl_check(q, &(struct kv_dl_want){"q", c.B, c.Hq, N, c.D, &c}, "Hq", io.q_stride);
    st = st ? st : kv_dl_check(o, &(struct kv_dl_want){"o", c.B, c.Hq, N, c.D, &c}, "Hq", io.o_stride);
  }
  if (st)
    return st;
  io.q = kv_dl_ptr(q);
  io.k = kv_dl_ptr(k);
  io.v = kv_dl_ptr(v);
  io.u = (const float *)kv_dl_ptr(u);
  io.o = kv_dl_ptr(o);
  return skrt_kv_cache_forward(cache, layer, N, &io, ctx);
}
