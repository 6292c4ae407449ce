#!/usr/bin/env bash
# GPU correctness suites of the CUDA kernels (issue 5) and of the CUDA KV cache (issue 7), for a
# machine with an sm_90 GPU. Builds libskrt_cuda's sources, the double CPU reference and the
# CPU KV cache (runtime/src), test_cuda.cu and test_decode.cu with nvcc/gcc directly (the GPU
# machine has no MLIR/cmocka, so no CMake), runs both full suites, then compute-sanitizer
# memcheck (both) and racecheck (test_cuda) on the quick cases.
#   test/cuda/run.sh [build-dir [suites]]   (default /tmp/skrt_cuda_test, suites "cuda decode";
#                                           logs under $OUT if set)
# SKRT_NVFLAGS adds nvcc flags, e.g. SKRT_NVFLAGS=-DSKRT_WGMMA=0 checks the mma.sync kernels.
# dlpack.h comes from Debian's libdlpack-dev: scripts/fetch_device_debs.sh here, carry .deb.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-/tmp/skrt_cuda_test}
SUITES=${2:-cuda decode}
has() { [[ " $SUITES " == *" $1 "* ]]; }
LOG=${OUT:-$B}
mkdir -p "$B" "$LOG"
export PATH=/usr/local/cuda/bin:$PATH
INC="-Iruntime/include -Iruntime $(test/cuda/dlpack_include.sh)"
NVFLAGS="-std=c++17 -O3 -lineinfo -gencode=arch=compute_90a,code=sm_90a -Werror all-warnings \
 -Xcompiler -Wall,-Wextra,-Werror $INC ${SKRT_NVFLAGS:-}"
pids=()
for f in reference ref_scores thresholds sparsek_op status context kv_cache kv_cache_dl; do
  gcc -std=c11 -O2 -fopenmp -Wall -Wextra -Werror $INC -c runtime/src/$f.c -o "$B/$f.o" &
  pids+=($!)
done
for f in runtime/cuda/attention.cu runtime/cuda/kv_cache.cu runtime/cuda/scores.cu; do
  nvcc $NVFLAGS -c $f -o "$B/$(basename $f .cu).cu.o" &
  pids+=($!)
done
mkdir -p "$B/main"
for f in test/cuda/test_cuda.cu test/cuda/test_decode.cu; do
  nvcc $NVFLAGS -c $f -o "$B/main/$(basename $f .cu).o" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
nvcc -o "$B/test_cuda" "$B/main/test_cuda.o" "$B"/*.o -Xcompiler -fopenmp
nvcc -o "$B/test_decode" "$B/main/test_decode.o" "$B"/*.o -Xcompiler -fopenmp
fail=0
if has cuda; then
  echo "== test_cuda (full suite)"
  "$B/test_cuda" 2>&1 | tee "$LOG/test_cuda.log" || fail=1
  echo "== compute-sanitizer memcheck and racecheck, test_cuda (quick cases)"
  compute-sanitizer --tool memcheck --error-exitcode 3 "$B/test_cuda" --quick \
    >"$LOG/memcheck.log" 2>&1 && echo "memcheck: clean" || { tail -30 "$LOG/memcheck.log"; fail=3; }
  compute-sanitizer --tool racecheck --racecheck-report all --error-exitcode 4 \
    "$B/test_cuda" --quick >"$LOG/racecheck.log" 2>&1 && echo "racecheck: clean" ||
    { tail -30 "$LOG/racecheck.log"; fail=4; }
  tail -n 3 "$LOG/memcheck.log" "$LOG/racecheck.log"
fi
if has decode; then
  echo "== test_decode (KV cache, full suite)"
  "$B/test_decode" 2>&1 | tee "$LOG/test_decode.log" || fail=1
  echo "== compute-sanitizer memcheck and racecheck, test_decode (quick cases)"
  compute-sanitizer --tool memcheck --error-exitcode 3 "$B/test_decode" --quick \
    >"$LOG/memcheck_decode.log" 2>&1 && echo "memcheck (decode): clean" ||
    { tail -30 "$LOG/memcheck_decode.log"; fail=3; }
  compute-sanitizer --tool racecheck --racecheck-report all --error-exitcode 4 \
    "$B/test_decode" --quick >"$LOG/racecheck_decode.log" 2>&1 && echo "racecheck (decode): clean" ||
    { tail -30 "$LOG/racecheck_decode.log"; fail=4; }
  tail -n 3 "$LOG/memcheck_decode.log" "$LOG/racecheck_decode.log"
fi
exit $fail
