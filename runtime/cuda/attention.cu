/* libskrt_cuda: the C entry points of skrt/cuda.h. Checks arguments, plans the scratch
 * memory of one call (stream-ordered allocations), runs the GPU selection of
 * kernels/cuda_select.cuh and dispatches the attention kernels on (dtype, D): the Hopper
 * tensor-core kernels of kernels/cuda_attn_wgmma.cuh (warpgroup MMA; the mma.sync kernels of
 * kernels/cuda_attn_mma.cuh with -DSKRT_WGMMA=0) for bf16/fp16 with D 64 or 128, the plain
 * kernels of kernels/cuda_attn_simple.cuh otherwise. */
#include <cuda_runtime.h>

#include <mutex>
#include <new>

#include <cub/device/device_radix_sort.cuh>

#include "kernels/cuda_attn_simple.cuh"
#include "kernels/cuda_attn_wgmma.cuh"
#include "kernels/cuda_grad.cuh"
#include "kernels/cuda_select.cuh"
#include "skrt/cuda.h"
#include "skrt/sparsek.h"

namespace {

constexpr int SEL_NT = 256;       /* threads of a selection block (prep, tiers 2 and 3) */
constexpr int SEL_SWEEP_NT = 128; /* tier-1 sweep block: one chunk per warp */
constexpr int SEL_GROUP_SM = 16;  /* tier-1 chunks in flight per SM (one scratch slot each) */
constexpr int CPRE_NT = 256, CPRE_IPT = 8; /* du's prefix sums: parts of 2048 queries */
int g_check_finite = 1;
int64_t g_select_cap = 0;
int64_t g_select_group = 0;
#ifndef SKRT_SEL_CAP
#define SKRT_SEL_CAP 6144 /* tier-1 selection candidates per chunk (50 KB of scratch a slot) */
#endif

#define SKRT_CU(...)                                                                               \
  do {                                                                                             \
    cudaError_t e_ = (__VA_ARGS__);                                                                \
    if (e_ != cudaSuccess)                                                                         \
      return skrt_error(SKRT_ERR_CUDA, "%s:%d: %s: %s", __FILE__, __LINE__, #__VA_ARGS__,          \
                        cudaGetErrorString(e_));                                                   \
  } while (0)

#ifndef SKRT_CUDA_POOL
/* 1: scratch comes from a memory pool of the library per device that keeps freed memory
 * (release threshold: unlimited) until skrt_cuda_trim; 0: from the device's default pool,
 * which returns it to the driver at every synchronisation, so that each call maps its scratch
 * (about 1 GB for a 64k training step) anew. */
#define SKRT_CUDA_POOL 1
#endif
constexpr int MAX_POOLS = 64;
std::mutex g_pool_mu;
cudaMemPool_t g_pool[MAX_POOLS] = {};

/* The scratch pool of the current device (created on first use). */
int pool_of(cudaMemPool_t *out) {
  int dev = 0;
  SKRT_CU(cudaGetDevice(&dev));
  if (!SKRT_CUDA_POOL || dev >= MAX_POOLS) {
    SKRT_CU(cudaDeviceGetDefaultMemPool(out, dev));
    return SKRT_OK;
  }
  std::lock_guard<std::mutex> lock(g_pool_mu);
  if (!g_pool[dev]) {
    cudaMemPoolProps props{};
    props.allocType = cudaMemAllocationTypePinned;
    props.location.type = cudaMemLocationTypeDevice;
    props.location.id = dev;
    cudaMemPool_t pool;
    SKRT_CU(cudaMemPoolCreate(&pool, &props));
    uint64_t keep = UINT64_MAX;
    cudaError_t e = cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep);
    if (e != cudaSuccess) {
      cudaMemPoolDestroy(pool);
      SKRT_CU(e);
    }
    g_pool[dev] = pool;
  }
  *out = g_pool[dev];
  return SKRT_OK;
}

} // namespace

/* Stream-ordered scratch: every allocation of one call, released together. */
struct scratch {
  cudaStream_t st;
  cudaMemPool_t pool;
  void *ptr[24];
  int n;
};

namespace {

int scratch_init(scratch *w, struct skrt_context *ctx) {
  *w = scratch{};
  w->st = (cudaStream_t)skrt_context_cuda_stream(ctx);
  return pool_of(&w->pool);
}

int scratch_alloc(scratch *w, size_t bytes, void **out) {
  if (w->n >= 24)
    return skrt_error(SKRT_ERR_STATE, "skrt_cuda: too many scratch buffers");
  SKRT_CU(cudaMallocFromPoolAsync(out, bytes ? bytes : 16, w->pool, w->st));
  w->ptr[w->n++] = *out;
  return SKRT_OK;
}

void scratch_free(scratch *w) {
  for (int i = 0; i < w->n; ++i)
    cudaFreeAsync(w->ptr[i], w->st);
  w->n = 0;
}

#define SKRT_TRY(...)                                                                              \
  do {                                                                                             \
    int r_ = (__VA_ARGS__);                                                                        \
    if (r_ != SKRT_OK)                                                                             \
      return r_;                                                                                   \
  } while (0)

template <typename P> int alloc_n(scratch *w, P **out, int64_t n) {
  return scratch_alloc(w, (size_t)n * sizeof(P), (void **)out);
}

int bits_for(int64_t n) { /* bits to hold 0..n-1, at least 1 */
  int b = 1;
  while (((int64_t)1 << b) < n)
    ++b;
  return b;
}

int check_params(const struct skrt_attn_params *p, int dtype, const char *fn) {
  if (!p || !p->q || !p->k || !p->v || !p->o || !p->u)
    return skrt_error(SKRT_ERR_NULL, "%s: params or a tensor pointer is NULL", fn);
  if (p->B < 1 || p->Hq < 1 || p->Hkv < 1 || p->N < 1 || p->Hq % p->Hkv)
    return skrt_error(SKRT_ERR_SHAPE, "%s: bad shape B=%lld Hq=%lld Hkv=%lld N=%lld", fn,
                      (long long)p->B, (long long)p->Hq, (long long)p->Hkv, (long long)p->N);
  if (p->D != 32 && p->D != 64 && p->D != 96 && p->D != 128)
    return skrt_error(SKRT_ERR_SHAPE, "%s: D must be 32, 64, 96 or 128, got %lld", fn,
                      (long long)p->D);
  if (p->topk < 1 || p->window < 0)
    return skrt_error(SKRT_ERR_ARG, "%s: need k >= 1 and w >= 0, got k=%lld w=%lld", fn,
                      (long long)p->topk, (long long)p->window);
  if (p->real_bits != 32)
    return skrt_error(SKRT_ERR_DTYPE, "%s: real_bits must be 32 (float u/lse/tau)", fn);
  if (dtype < SKRT_CUDA_F32 || dtype > SKRT_CUDA_F16)
    return skrt_error(SKRT_ERR_DTYPE, "%s: unknown dtype %d", fn, dtype);
  if (p->gate != SKRT_GATE_KV && p->gate != SKRT_GATE_V)
    return skrt_error(SKRT_ERR_ARG, "%s: unknown gate %d", fn, p->gate);
  /* the selection's radix sort counts its B*Hkv*N items in an int */
  if (p->N > (1 << 30) || p->B > INT32_MAX / p->N / p->Hkv)
    return skrt_error(SKRT_ERR_SHAPE,
                      "%s: B*Hkv*N = %lld*%lld*%lld exceeds the selection sort's 2^31 - 1 items "
                      "(or N exceeds 2^30)",
                      fn, (long long)p->B, (long long)p->Hkv, (long long)p->N);
  return SKRT_OK;
}

int64_t blocks(int64_t n, int64_t t) { return (n + t - 1) / t; }

/* ref: S6-S8. Fills sel (tau, nfree, sel_end, tile lists) on the stream. */
int run_select(const struct skrt_attn_params *p, scratch *w, skrt_cuda_sel *sel) {
  int64_t S = p->B * p->Hkv, N = p->N, k = p->topk;
  cudaStream_t st = w->st;
  *sel = skrt_cuda_sel{};
  sel->S = S;
  sel->N = N;
  sel->k = k;
  sel->w = p->window;
  sel->ntile = (int)blocks(N, SKRT_CUDA_QTILE);
  sel->nchunk = (int)blocks(N, SKRT_CUDA_CHUNK);
  sel->tlcap = std::min(k, N);
  sel->clcap = std::min(k, N) + SKRT_CUDA_CHUNK;
  sel->u = (const float *)p->u;
  unsigned long long *kin, *kout;
  int32_t *vin, *spos, *bad, *clist, *ccount, *oflag;
  float *sval;
  SKRT_TRY(alloc_n(w, &kin, S * N));
  SKRT_TRY(alloc_n(w, &kout, S * N));
  SKRT_TRY(alloc_n(w, &vin, S * N));
  SKRT_TRY(alloc_n(w, &spos, S * N));
  SKRT_TRY(alloc_n(w, &sval, S * N));
  SKRT_TRY(alloc_n(w, &bad, 1));
  SKRT_TRY(alloc_n(w, &sel->nfree, S * N));
  SKRT_TRY(alloc_n(w, &sel->sel_end, S * N));
  SKRT_TRY(alloc_n(w, &sel->tau, S * N));
  SKRT_TRY(alloc_n(w, &sel->tauf, S * N));
  SKRT_TRY(alloc_n(w, &clist, S * sel->nchunk * sel->clcap));
  SKRT_TRY(alloc_n(w, &ccount, S * sel->nchunk));
  SKRT_TRY(alloc_n(w, &oflag, S * sel->nchunk));
  SKRT_TRY(alloc_n(w, &sel->tlist, S * sel->ntile * sel->tlcap));
  SKRT_TRY(alloc_n(w, &sel->tcount, S * sel->ntile));
  SKRT_CU(cudaMemsetAsync(bad, 0, sizeof(int32_t), st));
  SKRT_CU(cudaMemsetAsync(oflag, 0, sizeof(int32_t) * S * sel->nchunk, st));
  skrt_sel_key_kernel<<<blocks(S * N, 256), 256, 0, st>>>(sel->u, S, N, kin, vin, bad);
  SKRT_CU(cudaGetLastError());
  if (g_check_finite) {
    int32_t hbad = 0;
    SKRT_CU(cudaMemcpyAsync(&hbad, bad, sizeof(hbad), cudaMemcpyDeviceToHost, st));
    SKRT_CU(cudaStreamSynchronize(st));
    if (hbad)
      return skrt_error(SKRT_ERR_NONFINITE, "skrt_cuda: the scores u contain NaN or inf");
  }
  size_t tbytes = 0;
  int endbit = bits_for(S) + 32; /* stable: ties keep the key kernel's j-descending order */
  SKRT_CU(cub::DeviceRadixSort::SortPairs(nullptr, tbytes, kin, kout, vin, spos, (int)(S * N), 0,
                                          endbit, st));
  void *tsort;
  SKRT_TRY(scratch_alloc(w, tbytes, &tsort));
  SKRT_CU(cub::DeviceRadixSort::SortPairs(tsort, tbytes, kin, kout, vin, spos, (int)(S * N), 0,
                                          endbit, st));
  /* the ranks of tier 1's bitmap (kin is free after the sort) */
  int32_t *rank = skrt_sel_bitmap_nwt(N, SEL_NT) > 0 ? (int32_t *)kin : nullptr;
  skrt_sel_unpack_kernel<<<blocks(S * N, 256), 256, 0, st>>>(sel->u, S, N, spos, sval, rank,
                                                             sel->sel_end);
  SKRT_CU(cudaGetLastError());
  skrt_sel_chunk_io io{sval,   spos,  rank, sel->tau, sel->nfree, sel->sel_end, clist,
                       ccount, oflag, N,    k,        p->window,  sel->clcap,   sel->nchunk};
  /* tier 1: every chunk, chunk-major, global scratch slots of cap entries (prep block, then
   * one warp a sweep); tier 2: overflowing chunks, shared memory of 4x the capacity (one
   * block per SM); tier 3: global scratch of N entries */
  int64_t cap = g_select_cap > 0 ? g_select_cap : SKRT_SEL_CAP, cap2 = 4 * cap;
  int dev = 0, nsm = 0;
  SKRT_CU(cudaGetDevice(&dev));
  SKRT_CU(cudaDeviceGetAttribute(&nsm, cudaDevAttrMultiProcessorCount, dev));
  int64_t gmax = g_select_group > 0 ? g_select_group : (int64_t)nsm * SEL_GROUP_SM;
  SKRT_CU(skrt_sel_tier1_launch<SEL_NT, SEL_SWEEP_NT>(io, S, cap, gmax, w->pool, st));
  int64_t nall = S * sel->nchunk;
  size_t smem2 = (size_t)cap2 * 8 + SKRT_CUDA_CHUNK * 4;
  SKRT_CU(cudaFuncSetAttribute(skrt_sel_bigsmem_kernel<SEL_NT>,
                               cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem2));
  skrt_sel_bigsmem_kernel<SEL_NT>
      <<<(unsigned)std::min<int64_t>(nsm, nall), SEL_NT, smem2, st>>>(io, S, cap2);
  SKRT_CU(cudaGetLastError());
  int64_t nfb = std::min<int64_t>(64, nall);
  float *fscratch;
  SKRT_TRY(alloc_n(w, &fscratch, nfb * 3 * N));
  skrt_sel_overflow_kernel<SEL_NT><<<(unsigned)nfb, SEL_NT, 0, st>>>(io, S, fscratch);
  SKRT_CU(cudaGetLastError());
  skrt_sel_tiles_kernel<128>
      <<<dim3(sel->nchunk, (unsigned)S), 128, 0, st>>>(*sel, clist, ccount, sel->clcap);
  SKRT_CU(cudaGetLastError());
  skrt_d2f_kernel<<<blocks(S * N, 256), 256, 0, st>>>(sel->tau, S * N, sel->tauf);
  if (p->tau)
    SKRT_CU(
        cudaMemcpyAsync(p->tau, sel->tauf, sizeof(float) * S * N, cudaMemcpyDeviceToDevice, st));
  if (p->nfree)
    SKRT_CU(cudaMemcpyAsync(p->nfree, sel->nfree, sizeof(int32_t) * S * N, cudaMemcpyDeviceToDevice,
                            st));
  return SKRT_OK;
}

skrt_cuda_layer layer_of(const struct skrt_attn_params *p, float *lse) {
  skrt_cuda_layer L{};
  L.B = p->B;
  L.Hq = p->Hq;
  L.Hkv = p->Hkv;
  L.N = p->N;
  L.gate = p->gate;
  L.scale = (float)p->scale;
  L.q = p->q;
  L.k = p->k;
  L.v = p->v;
  L.o = p->o;
  for (int i = 0; i < 3; ++i) {
    L.qs[i] = p->q_stride[i];
    L.ks[i] = p->k_stride[i];
    L.vs[i] = p->v_stride[i];
    L.os[i] = p->o_stride[i];
  }
  L.lse = lse;
  return L;
}

template <typename T, int D>
int launch_fwd(const skrt_cuda_layer &L, const skrt_cuda_sel &sel, cudaStream_t st) {
  dim3 grid(sel.ntile, (unsigned)L.Hq, (unsigned)L.B);
  if constexpr (skrt_mma_supported<T, D>()) {
    /* the tensor-core forward folds the softmax scale into its exponent: positive scales */
    if (skrt_mma_aligned(L) && L.scale > 0.0f) {
      SKRT_CU(skrt_attn_fwd_tc_launch<T, D>(L, sel, st));
      return SKRT_OK;
    }
  }
  skrt_attn_fwd_simple<T, D><<<grid, 256, 0, st>>>(L, sel);
  SKRT_CU(cudaGetLastError());
  return SKRT_OK;
}

template <typename T, int D>
int launch_bwd(const skrt_cuda_layer &L, const skrt_cuda_sel &sel, const skrt_cuda_grads &G,
               cudaStream_t st) {
  dim3 grid(sel.ntile, (unsigned)L.Hq, (unsigned)L.B);
  if constexpr (skrt_mma_supported<T, D>()) {
    if (skrt_mma_aligned(L)) {
      SKRT_CU(skrt_attn_bwd_tc_launch<T, D>(L, sel, G, st));
      return SKRT_OK;
    }
  }
  skrt_attn_bwd_simple<T, D><<<grid, 256, 0, st>>>(L, sel, G);
  SKRT_CU(cudaGetLastError());
  return SKRT_OK;
}

template <typename T>
int dispatch_fwd(int64_t D, const skrt_cuda_layer &L, const skrt_cuda_sel &sel, cudaStream_t st) {
  switch (D) {
  case 32:
    return launch_fwd<T, 32>(L, sel, st);
  case 64:
    return launch_fwd<T, 64>(L, sel, st);
  case 96:
    return launch_fwd<T, 96>(L, sel, st);
  default:
    return launch_fwd<T, 128>(L, sel, st);
  }
}

template <typename T>
int dispatch_bwd(int64_t D, const skrt_cuda_layer &L, const skrt_cuda_sel &sel,
                 const skrt_cuda_grads &G, cudaStream_t st) {
  switch (D) {
  case 32:
    return launch_bwd<T, 32>(L, sel, G, st);
  case 64:
    return launch_bwd<T, 64>(L, sel, G, st);
  case 96:
    return launch_bwd<T, 96>(L, sel, G, st);
  default:
    return launch_bwd<T, 128>(L, sel, G, st);
  }
}

int forward_sel(const skrt_cuda_sel &sel, const struct skrt_attn_params *p, int dtype, scratch *w) {
  skrt_cuda_layer L = layer_of(p, (float *)p->lse);
  if (!L.lse)
    SKRT_TRY(alloc_n(w, &L.lse, p->B * p->Hq * p->N));
  switch (dtype) {
  case SKRT_CUDA_F32:
    return dispatch_fwd<float>(p->D, L, sel, w->st);
  case SKRT_CUDA_BF16:
    return dispatch_fwd<__nv_bfloat16>(p->D, L, sel, w->st);
  default:
    return dispatch_fwd<__half>(p->D, L, sel, w->st);
  }
}

template <typename T>
int backward_typed(const struct skrt_attn_params *p, const struct skrt_attn_grads *g, scratch *w,
                   const skrt_cuda_sel &sel) {
  int64_t S = sel.S, N = sel.N, D = p->D, nkv = S * N * D;
  skrt_cuda_layer L = layer_of(p, (float *)p->lse);
  skrt_cuda_grads G{g->dout, g->dq, nullptr, nullptr, nullptr, nullptr};
  double *cpre, *cpart;
  SKRT_TRY(alloc_n(w, &G.dk32, nkv));
  SKRT_TRY(alloc_n(w, &G.dv32, nkv));
  SKRT_TRY(alloc_n(w, &G.dmacc, S * N));
  SKRT_TRY(alloc_n(w, &G.cnum, S * N));
  SKRT_TRY(alloc_n(w, &cpre, S * (N + 1)));
  SKRT_TRY(alloc_n(w, &cpart, S * blocks(N, CPRE_NT * CPRE_IPT)));
  SKRT_CU(cudaMemsetAsync(G.dk32, 0, sizeof(float) * nkv, w->st));
  SKRT_CU(cudaMemsetAsync(G.dv32, 0, sizeof(float) * nkv, w->st));
  SKRT_CU(cudaMemsetAsync(G.dmacc, 0, sizeof(float) * S * N, w->st));
  SKRT_CU(cudaMemsetAsync(G.cnum, 0, sizeof(float) * S * N, w->st));
  SKRT_TRY(dispatch_bwd<T>(D, L, sel, G, w->st));
  dim3 cgrid((unsigned)blocks(N, CPRE_NT * CPRE_IPT), (unsigned)S);
  skrt_cpre_part_kernel<CPRE_NT, CPRE_IPT>
      <<<cgrid, CPRE_NT, 0, w->st>>>(G.cnum, sel.nfree, N, cpart);
  skrt_cpre_kernel<CPRE_NT, CPRE_IPT>
      <<<cgrid, CPRE_NT, 0, w->st>>>(G.cnum, sel.nfree, N, cpart, cpre);
  bool mma = !std::is_same<T, float>::value && (D == 64 || D == 128) && skrt_mma_aligned(L);
  skrt_du_kernel<<<dim3((unsigned)blocks(N, 256), (unsigned)S), 256, 0, w->st>>>(
      sel.u, sel.tau, mma ? sel.tauf : nullptr, G.dmacc, cpre, N, sel.w, (float *)g->du);
  skrt_cast_kernel<T><<<blocks((nkv + 3) / 4, 256), 256, 0, w->st>>>(G.dk32, nkv, (T *)g->dk);
  skrt_cast_kernel<T><<<blocks((nkv + 3) / 4, 256), 256, 0, w->st>>>(G.dv32, nkv, (T *)g->dv);
  SKRT_CU(cudaGetLastError());
  return SKRT_OK;
}

int backward_sel(const skrt_cuda_sel &sel, const struct skrt_attn_params *p,
                 const struct skrt_attn_grads *g, int dtype, scratch *w) {
  switch (dtype) {
  case SKRT_CUDA_F32:
    return backward_typed<float>(p, g, w, sel);
  case SKRT_CUDA_BF16:
    return backward_typed<__nv_bfloat16>(p, g, w, sel);
  default:
    return backward_typed<__half>(p, g, w, sel);
  }
}

int check_grads(const struct skrt_attn_params *p, const struct skrt_attn_grads *g, const char *fn) {
  if (!g || !g->dout || !g->dq || !g->dk || !g->dv || !g->du || !p->lse)
    return skrt_error(SKRT_ERR_NULL, "%s: a gradient or lse is NULL", fn);
  return SKRT_OK;
}

} // namespace

/* A selection computed once and shared by a forward and its backward. */
struct skrt_cuda_plan {
  scratch w;
  skrt_cuda_sel sel;
  int64_t B, Hkv, N, k, win;
  const void *u;
};

namespace {

int check_plan(const skrt_cuda_plan *pl, const struct skrt_attn_params *p, const char *fn) {
  if (!pl)
    return skrt_error(SKRT_ERR_NULL, "%s: plan is NULL", fn);
  if (pl->B != p->B || pl->Hkv != p->Hkv || pl->N != p->N || pl->k != p->topk ||
      pl->win != p->window || pl->u != p->u)
    return skrt_error(SKRT_ERR_ARG, "%s: params do not match the plan (B, Hkv, N, k, w, u)", fn);
  return SKRT_OK;
}

} // namespace

extern "C" int skrt_cuda_plan_create(const struct skrt_attn_params *p, struct skrt_context *ctx,
                                     struct skrt_cuda_plan **out) {
  if (!out)
    return skrt_error(SKRT_ERR_NULL, "skrt_cuda_plan_create: out is NULL");
  *out = nullptr;
  SKRT_TRY(check_params(p, SKRT_CUDA_F32, "skrt_cuda_plan_create"));
  skrt_cuda_plan *pl = new (std::nothrow) skrt_cuda_plan{};
  if (!pl)
    return skrt_error(SKRT_ERR_NOMEM, "skrt_cuda_plan_create: out of memory");
  int r = scratch_init(&pl->w, ctx);
  if (r == SKRT_OK)
    r = run_select(p, &pl->w, &pl->sel);
  if (r != SKRT_OK) {
    scratch_free(&pl->w);
    delete pl;
    return r;
  }
  pl->B = p->B;
  pl->Hkv = p->Hkv;
  pl->N = p->N;
  pl->k = p->topk;
  pl->win = p->window;
  pl->u = p->u;
  *out = pl;
  return SKRT_OK;
}

extern "C" void skrt_cuda_plan_destroy(struct skrt_cuda_plan *plan) {
  if (!plan)
    return;
  scratch_free(&plan->w);
  delete plan;
}

extern "C" int skrt_cuda_attention_forward_planned(const struct skrt_cuda_plan *plan,
                                                   const struct skrt_attn_params *p, int dtype,
                                                   struct skrt_context *ctx) {
  SKRT_TRY(check_params(p, dtype, "skrt_cuda_attention_forward_planned"));
  SKRT_TRY(check_plan(plan, p, "skrt_cuda_attention_forward_planned"));
  scratch w;
  SKRT_TRY(scratch_init(&w, ctx));
  int r = forward_sel(plan->sel, p, dtype, &w);
  scratch_free(&w);
  return r;
}

extern "C" int skrt_cuda_attention_backward_planned(const struct skrt_cuda_plan *plan,
                                                    const struct skrt_attn_params *p,
                                                    const struct skrt_attn_grads *g, int dtype,
                                                    struct skrt_context *ctx) {
  SKRT_TRY(check_params(p, dtype, "skrt_cuda_attention_backward_planned"));
  SKRT_TRY(check_plan(plan, p, "skrt_cuda_attention_backward_planned"));
  SKRT_TRY(check_grads(p, g, "skrt_cuda_attention_backward_planned"));
  scratch w;
  SKRT_TRY(scratch_init(&w, ctx));
  int r = backward_sel(plan->sel, p, g, dtype, &w);
  scratch_free(&w);
  return r;
}

extern "C" int skrt_cuda_attention_forward(const struct skrt_attn_params *p, int dtype,
                                           struct skrt_context *ctx) {
  struct skrt_cuda_plan *plan;
  SKRT_TRY(skrt_cuda_plan_create(p, ctx, &plan));
  int r = skrt_cuda_attention_forward_planned(plan, p, dtype, ctx);
  skrt_cuda_plan_destroy(plan);
  return r;
}

extern "C" int skrt_cuda_attention_backward(const struct skrt_attn_params *p,
                                            const struct skrt_attn_grads *g, int dtype,
                                            struct skrt_context *ctx) {
  SKRT_TRY(check_grads(p, g, "skrt_cuda_attention_backward"));
  struct skrt_attn_params q = *p;
  q.tau = nullptr; /* recomputed; the forward's saved copy is left as it is */
  q.nfree = nullptr;
  struct skrt_cuda_plan *plan;
  SKRT_TRY(skrt_cuda_plan_create(&q, ctx, &plan));
  int r = skrt_cuda_attention_backward_planned(plan, p, g, dtype, ctx);
  skrt_cuda_plan_destroy(plan);
  return r;
}

extern "C" int skrt_cuda_select(const struct skrt_attn_params *p, float *tau, int32_t *nfree,
                                int32_t *sel_end, struct skrt_context *ctx) {
  SKRT_TRY(check_params(p, SKRT_CUDA_F32, "skrt_cuda_select"));
  scratch w;
  SKRT_TRY(scratch_init(&w, ctx));
  struct skrt_attn_params q = *p;
  q.tau = tau;
  q.nfree = nfree;
  skrt_cuda_sel sel;
  int r = run_select(&q, &w, &sel);
  if (r == SKRT_OK && sel_end) {
    cudaError_t e = cudaMemcpyAsync(sel_end, sel.sel_end, sizeof(int32_t) * sel.S * sel.N,
                                    cudaMemcpyDeviceToDevice, w.st);
    if (e != cudaSuccess)
      r = skrt_error(SKRT_ERR_CUDA, "skrt_cuda_select: %s", cudaGetErrorString(e));
  }
  scratch_free(&w);
  return r;
}

extern "C" int skrt_cuda_set_check_finite(int on) {
  int old = g_check_finite;
  g_check_finite = on;
  return old;
}

extern "C" void skrt_cuda_set_select_capacity(int64_t cap) { g_select_cap = cap; }

extern "C" void skrt_cuda_set_select_group(int64_t chunks) { g_select_group = chunks; }

extern "C" int skrt_cuda_trim(void) {
  std::lock_guard<std::mutex> lock(g_pool_mu);
  for (int d = 0; d < MAX_POOLS; ++d)
    if (g_pool[d])
      SKRT_CU(cudaMemPoolTrimTo(g_pool[d], 0));
  return SKRT_OK;
}
