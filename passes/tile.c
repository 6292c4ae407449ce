/* tile: chooses the query tile of every sparsek.attention op and records it as `tile_q`
 * (a `sparsek.tile_q` attribute on the op overrides the choice).
 *
 *   "sparsek.attention"(%q, %k, %v, %u) {k = 256, window = 256, ...}
 *   -> "sparsek.attention"(%q, %k, %v, %u) {k = 256, window = 256, ..., tile_q = 32 : i64}
 *
 * Cost model, per target:
 * - CPU (runtime/kernels/cpu_attention_fwd.h): the kernel reads the tile's key union (at most
 *   k + B - 1 selected and w + B - 1 window keys, spec section 2) in place, block by block, and
 *   keeps per query head Q^T, O^T and three KB x B blocks (KB = 64 keys) in L1. The largest
 *   power-of-two tile in [8, 32] whose working set (2 D + 3 KB) * B * 4 bytes fits a 48 KiB L1
 *   wins; 32 is the kernel's widest useful tile (measured at N = 16k, D = 64, k = w = 256:
 *   forward 0.19 / 0.15 / 0.21 / 0.28 s for B = 16 / 32 / 64 / 128, runtime/kernels/README.md).
 * - CUDA: the gathered K and V of the union, (k + w + 2B) * D * 2 * 2 bytes at bf16, should
 *   fit ~160 KiB of shared memory; the largest power of two in [16, 128] that fits wins.
 * In both, no tile is longer than N beyond the minimum (no padding work). */
#include "compiler/diag.h"
#include "dialect/sparsek.h"
#include "mlir-c/BuiltinTypes.h"
#include "passes/passes.h"

#include <stdlib.h>

enum { CPU_L1 = 48 * 1024, CPU_KB = 64, CUDA_SMEM = 160 * 1024 };

/* Bytes the tile of b queries keeps hot on each target. */
static int64_t tile_bytes(int target, int64_t b, int64_t k, int64_t w, int64_t d) {
  if (target == SKC_TARGET_CUDA)
    return (k + w + 2 * b) * d * 2 * 2;
  return (2 * d + 3 * CPU_KB) * b * 4;
}

int64_t skc_tile_choose(int target, int64_t k, int64_t w, int64_t d, int64_t n) {
  bool cuda = target == SKC_TARGET_CUDA;
  int64_t lo = cuda ? 16 : 8, hi = cuda ? 128 : 32, budget = cuda ? CUDA_SMEM : CPU_L1;
  int64_t best = lo;
  for (int64_t b = lo * 2; b <= hi; b *= 2) {
    if (tile_bytes(target, b, k, w, d) > budget || (n > 0 && b > n))
      break;
    best = b;
  }
  return best;
}

/* The kernels take tiles that are multiples of 8 in [8, 256]. */
static bool tile_ok(int64_t t) { return t >= 8 && t <= 256 && t % 8 == 0; }

static bool tile_one(MlirOperation op, const struct skc_sparsek_options *o) {
  int64_t tile, k = 0, w = 0;
  if (skc_attr_get_int(op, "sparsek.tile_q", &tile)) {
    if (!tile_ok(tile)) {
      skc_error_at(mlirOperationGetLocation(op), "attribute 'sparsek.tile_q' must be a multiple "
                   "of 8 in [8, 256], got %lld", (long long)tile);
      return false;
    }
    skc_attr_set_int(op, "tile_q", tile);
    return true;
  }
  skc_attr_get_int(op, "k", &k);
  skc_attr_get_int(op, "window", &w);
  MlirType qt = mlirValueGetType(mlirOperationGetOperand(op, 0));
  int rank = (int)mlirShapedTypeGetRank(qt);
  int64_t d = mlirShapedTypeGetDimSize(qt, rank - 1), n = mlirShapedTypeGetDimSize(qt, rank - 2);
  if (mlirShapedTypeIsDynamicSize(d))
    d = 128;
  if (mlirShapedTypeIsDynamicSize(n))
    n = 0;
  skc_attr_set_int(op, "tile_q", skc_tile_choose(o->target, k, w, d, n));
  return true;
}

static void tile_run(MlirOperation module, MlirExternalPass pass,
                     const struct skc_sparsek_options *o) {
  int n;
  bool ok = true;
  MlirOperation *ops = skc_collect_ops(module, "sparsek.attention", &n);
  for (int i = 0; i < n; ++i)
    ok = tile_one(ops[i], o) && ok;
  free(ops);
  if (!ok)
    mlirExternalPassSignalFailure(pass);
}

MlirPass skc_tile_pass_create(const struct skc_sparsek_options *o) {
  static char id;
  return skc_pass_make(&id, "tile", "choose query tiles", tile_run, o);
}
