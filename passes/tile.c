/* tile: chooses the query tile of every sparsek.attention op and records it as `tile_q`
 * (a `sparsek.tile_q` attribute on the op overrides the choice).
 *
 *   "sparsek.attention"(%q, %k, %v, %u) {k = 256, window = 256, ...}
 *   -> "sparsek.attention"(%q, %k, %v, %u) {k = 256, window = 256, ..., tile_q = 64 : i64}
 *
 * Cost model. B consecutive queries need at most k + B - 1 selected keys and w + B - 1
 * window keys (spec section 2), loaded once per tile, so the tile's arithmetic intensity is
 * B (k + w) / (k + w + 2B - 2) key reuses. Larger B reuses more but the gathered K and V of
 * the union, (k + w + 2B) * D * 2 * elem bytes, must stay cache resident (CPU: within half
 * of a 1 MiB L2; CUDA: within ~160 KiB of shared memory at bf16), and B must not exceed N
 * (no padding work). The largest power of two in [16, 128] that fits wins. */
#include "compiler/diag.h"
#include "dialect/sparsek.h"
#include "mlir-c/BuiltinTypes.h"
#include "passes/passes.h"

#include <stdlib.h>

enum { TILE_MIN = 16, TILE_MAX = 128 };

/* Bytes of the gathered K and V of a tile of b queries. */
static int64_t union_bytes(int64_t b, int64_t k, int64_t w, int64_t d, int64_t elem) {
  return (k + w + 2 * b) * d * 2 * elem;
}

int64_t skc_tile_choose(int target, int64_t k, int64_t w, int64_t d, int64_t n) {
  int64_t budget = target == SKC_TARGET_CUDA ? 160 * 1024 : 512 * 1024;
  int64_t elem = target == SKC_TARGET_CUDA ? 2 : 4;
  int64_t best = TILE_MIN;
  for (int64_t b = TILE_MIN; b <= TILE_MAX; b *= 2) {
    if (union_bytes(b, k, w, d, elem) > budget && b > TILE_MIN)
      break;
    if (n > 0 && b > n && b > TILE_MIN)
      break;
    best = b;
  }
  return best;
}

static void tile_one(MlirOperation op, const struct skc_sparsek_options *o) {
  int64_t tile, k = 0, w = 0;
  if (skc_attr_get_int(op, "sparsek.tile_q", &tile) && tile >= 1) {
    skc_attr_set_int(op, "tile_q", tile);
    return;
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
}

static void tile_run(MlirOperation module, MlirExternalPass pass,
                     const struct skc_sparsek_options *o) {
  (void)pass;
  int n;
  MlirOperation *ops = skc_collect_ops(module, "sparsek.attention", &n);
  for (int i = 0; i < n; ++i)
    tile_one(ops[i], o);
  free(ops);
}

MlirPass skc_tile_pass_create(const struct skc_sparsek_options *o) {
  static char id;
  return skc_pass_make(&id, "tile", "choose query tiles", tile_run, o);
}
