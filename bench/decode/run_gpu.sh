#!/usr/bin/env bash
# GPU side of bench/decode on a machine with an sm_90 GPU and torch (no CMake/MLIR needed):
# builds libskrt's C sources, libskrt_cuda's KV cache (runtime/cuda/kv_cache.cu) and
# bench_decode_cuda.cu with gcc/nvcc directly, then runs sdpa_decode.py, which runs
# bench_decode_cuda (correctness checks against the CPU cache, then the skc decode timings at
# 4k / 128k / 1M, fp32 and bf16 caches) and times torch SDPA over a full cache.
#   bench/decode/run_gpu.sh [sdpa_decode.py options]   (build dir: $SKC_BUILD, default /tmp)
# dlpack.h comes from Debian's libdlpack-dev: scripts/fetch_device_debs.sh here, carry .deb.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${SKC_BUILD:-/tmp/skc_decode_gpu}
mkdir -p "$B"
export PATH=/usr/local/cuda/bin:$PATH
INC="-Iruntime/include -Iruntime $(test/cuda/dlpack_include.sh)"
pids=()
for f in runtime/src/*.c; do
  gcc -std=c11 -O2 -fopenmp -Wall -Wextra -Werror $INC -c "$f" -o "$B/$(basename "$f" .c).o" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
NVFLAGS="-std=c++17 -O3 -lineinfo -gencode=arch=compute_90a,code=sm_90a -Werror all-warnings \
  -Xcompiler -Wall,-Wextra,-Werror $INC"
nvcc $NVFLAGS -c runtime/cuda/kv_cache.cu -o "$B/kv_cache.cu.o"
nvcc $NVFLAGS bench/decode/bench_decode_cuda.cu "$B"/*.o -Xcompiler -fopenmp \
  -o "$B/bench_decode_cuda"
python3 bench/decode/sdpa_decode.py --bin "$B/bench_decode_cuda" "$@"
