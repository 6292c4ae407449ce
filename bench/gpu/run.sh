#!/usr/bin/env bash
# GPU benchmark (shared/design.md GPU protocol) on a machine with an sm_90 GPU and PyTorch:
# builds libskrt_cuda.so with nvcc directly (no CMake/MLIR there), then runs bench.py, which
# checks correctness first and times skc vs torch SDPA vs FlexAttention (bf16, k=1024,
# w=512). Extra arguments go to bench.py (e.g. --n 65536 --engines skc,sdpa).
#   bench/gpu/run.sh [bench.py args]     (results: $OUT/bench_gpu.json, or ./bench_gpu.json)
# SKRT_NVFLAGS adds nvcc flags (the tuning knobs of kernels/cuda_attn_mma.cuh, e.g.
# -DSKRT_BWD_NB64=2); give each variant its own BUILD directory (a library already built in
# BUILD is reused as is).
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${BUILD:-/tmp/skrt_cuda_bench}
mkdir -p "$B"
export PATH=/usr/local/cuda/bin:$PATH
INC="-Iruntime/include -Iruntime $(test/cuda/dlpack_include.sh)"
if [ ! -f "$B/libskrt_cuda.so" ]; then
  for f in status context; do
    gcc -std=c11 -O2 -fPIC -fopenmp $INC -c runtime/src/$f.c -o "$B/$f.o"
  done
  nvcc -std=c++17 -O3 -lineinfo -gencode=arch=compute_90a,code=sm_90a -Xcompiler -fPIC \
    ${SKRT_NVFLAGS:-} \
    -shared $INC runtime/cuda/attention.cu runtime/cuda/scores.cu "$B/status.o" \
    "$B/context.o" -o "$B/libskrt_cuda.so" -lgomp
fi
PYTHONUNBUFFERED=1 python3 bench/gpu/bench.py --lib "$B/libskrt_cuda.so" \
  --out "${OUT:-.}/bench_gpu.json" "$@"
