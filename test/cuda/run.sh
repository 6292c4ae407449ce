#!/usr/bin/env bash
# GPU correctness suite of the CUDA kernels (issue 5), for a machine with an sm_90 GPU.
# Builds libskrt_cuda's sources, the double CPU reference (runtime/src) and test_cuda.cu with
# nvcc/gcc directly (the GPU machine has no MLIR/cmocka, so no CMake), runs the full suite,
# then compute-sanitizer memcheck and racecheck on the quick cases.
#   test/cuda/run.sh [build-dir]        (default /tmp/skrt_cuda_test; logs under $OUT if set)
# dlpack.h comes from Debian's libdlpack-dev: scripts/fetch_device_debs.sh here, carry .deb.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-/tmp/skrt_cuda_test}
LOG=${OUT:-$B}
mkdir -p "$B" "$LOG"
export PATH=/usr/local/cuda/bin:$PATH
INC="-Iruntime/include -Iruntime $(test/cuda/dlpack_include.sh)"
NVFLAGS="-std=c++17 -O3 -lineinfo -gencode=arch=compute_90a,code=sm_90a -Werror all-warnings \
 -Xcompiler -Wall,-Wextra,-Werror $INC"
pids=()
for f in reference ref_scores thresholds sparsek_op status context; do
  gcc -std=c11 -O2 -fopenmp -Wall -Wextra -Werror $INC -c runtime/src/$f.c -o "$B/$f.o" &
  pids+=($!)
done
for f in runtime/cuda/attention.cu runtime/cuda/scores.cu test/cuda/test_cuda.cu; do
  nvcc $NVFLAGS -c $f -o "$B/$(basename $f .cu).cu.o" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
nvcc -o "$B/test_cuda" "$B"/*.o -Xcompiler -fopenmp
echo "== test_cuda (full suite)"
"$B/test_cuda" 2>&1 | tee "$LOG/test_cuda.log"
echo "== compute-sanitizer memcheck (quick cases)"
compute-sanitizer --tool memcheck --error-exitcode 3 "$B/test_cuda" --quick \
  >"$LOG/memcheck.log" 2>&1 && echo "memcheck: clean" || { tail -30 "$LOG/memcheck.log"; exit 3; }
echo "== compute-sanitizer racecheck (quick cases)"
compute-sanitizer --tool racecheck --racecheck-report all --error-exitcode 4 \
  "$B/test_cuda" --quick >"$LOG/racecheck.log" 2>&1 && echo "racecheck: clean" ||
  { tail -30 "$LOG/racecheck.log"; exit 4; }
tail -n 3 "$LOG/memcheck.log" "$LOG/racecheck.log"
