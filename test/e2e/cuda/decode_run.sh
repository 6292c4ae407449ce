#!/usr/bin/env bash
# GPU end to end of `skc --target=cuda --decode` (issue 7): builds the generated forms.cu (every
# entry with its <entry>_decode and <entry>_kv_cache_create), libskrt_cuda's sources (the device
# KV cache included) and libskrt's C sources, then runs test/e2e/cuda/decode_harness.c for every
# entry of test/e2e/cuda/forms.mlir: the decode over a device cache (a prefill chunk, then token
# by token, strided views) against the double reference, <= 1e-5 relative in fp32 and 2e-2 in
# bf16 (the error against the generated full forward on the same device tensors is printed
# too), and a foreign cache refused. SKC_RT=<dir> takes the runtime sources from <dir> (e.g. a
# clean `git archive HEAD runtime` export). The GPU machine has no
# MLIR, so the sources are generated beforehand:
#   skc --target=cuda --emit=cuda --decode --name=forms test/e2e/cuda/forms.mlir -o GEN   (here)
#   test/e2e/cuda/decode_run.sh GEN [build-dir]                            (on the GPU machine)
set -euo pipefail
cd "$(dirname "$0")/../../.."
GEN=$1
B=${2:-/tmp/skc_cuda_decode_e2e}
mkdir -p "$B/rt"
export PATH=/usr/local/cuda/bin:$PATH
RT=${SKC_RT:-runtime}
INC="-I$RT/include -I$RT $(test/cuda/dlpack_include.sh) -I$GEN"
NVFLAGS="-std=c++17 -O3 -gencode=arch=compute_90a,code=sm_90a -Werror all-warnings \
 -Xcompiler -Wall,-Wextra,-Werror $INC"
pids=()
for f in $RT/src/*.c; do
  gcc -std=c11 -O2 -fopenmp -Wall -Wextra -Werror $INC -c "$f" -o "$B/rt/$(basename "$f" .c).o" &
  pids+=($!)
done
for f in $RT/cuda/attention.cu $RT/cuda/scores.cu $RT/cuda/kv_cache.cu "$GEN/forms.cu"; do
  nvcc $NVFLAGS -c "$f" -o "$B/rt/$(basename "$f" .cu).cu.o" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
run() { # entry mode rank flags args...
  local e=$1 mode=$2 rank=$3 flags=$4; shift 4
  gcc -std=c11 -O2 -Wall -Wextra -Werror $flags -DENTRY=$e -DMODE=$mode -DRANK=$rank \
    -include "$GEN/forms.h" $INC -I/usr/local/cuda/include test/e2e/cuda/decode_harness.c \
    -c -o "$B/d_$e.o"
  nvcc -o "$B/d_$e" "$B/d_$e.o" "$B"/rt/*.o -Xcompiler -fopenmp -lcudart
  "$B/d_$e" "$@"
}
fail=0
run hidden_mha 0 4 "" 2 4 4 100 64 48 16 8 0 0 0.125 || fail=1
run keys_gqa 1 4 "" 2 8 2 129 64 0 20 12 1 0.02 0.125 || fail=1
run input_gqa 2 4 "" 1 4 2 90 32 0 7 0 0 -0.05 0.17 || fail=1
run rank3_kbig 1 3 "" 6 1 1 77 64 0 100 4 0 0 0.125 || fail=1
run keys_gqa_bf16 1 4 -DBF16 2 8 2 129 64 0 20 12 0 0 0.125 || fail=1
exit $fail
