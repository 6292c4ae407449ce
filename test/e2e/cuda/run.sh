#!/usr/bin/env bash
# GPU end to end of the cuda target (skc --emit=cuda --grad): builds the generated forms.cu with nvcc,
# libskrt_cuda's sources and the CPU reference, and runs test/e2e/Inputs/harness.c (built with
# -DSKC_CUDA -DGRAD: device tensors) for every entry and its backward against the double
# reference (forward and every gradient <= 1e-5). The GPU machine
# has no MLIR, so the sources are generated beforehand:
#   skc --target=cuda --emit=cuda --grad --name=forms test/e2e/cuda/forms.mlir -o GEN   (here)
#   test/e2e/cuda/run.sh GEN [build-dir]                           (on the GPU machine)
# SKC_RT=<dir> takes the runtime sources from <dir> (e.g. `git archive HEAD runtime` output).
set -euo pipefail
cd "$(dirname "$0")/../../.."
GEN=$1
B=${2:-/tmp/skc_cuda_e2e}
RT=${SKC_RT:-runtime} # the runtime sources (e.g. a clean export: git archive HEAD runtime)
mkdir -p "$B"
export PATH=/usr/local/cuda/bin:$PATH
INC="-I$RT/include -I$RT $(test/cuda/dlpack_include.sh) -I$GEN"
NVFLAGS="-std=c++17 -O3 -gencode=arch=compute_90a,code=sm_90a -Werror all-warnings \
 -Xcompiler -Wall,-Wextra,-Werror $INC"
pids=()
for f in reference ref_scores thresholds sparsek_op status context dlpack; do
  gcc -std=c11 -O2 -fopenmp -Wall -Wextra -Werror $INC -c $RT/src/$f.c -o "$B/$f.o" &
  pids+=($!)
done
for f in $RT/cuda/attention.cu $RT/cuda/scores.cu "$GEN/forms.cu"; do
  nvcc $NVFLAGS -c "$f" -o "$B/$(basename "$f" .cu).cu.o" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
run() { # entry mode rank flags args...
  local e=$1 mode=$2 rank=$3 flags=$4; shift 4
  gcc -std=c11 -O2 -Wall -Wextra -Werror -DSKC_CUDA $flags -DENTRY=$e -DMODE=$mode -DRANK=$rank \
    -include "$GEN/forms.h" $INC -I/usr/local/cuda/include test/e2e/Inputs/harness.c \
    -c -o "$B/h_$e.o"
  nvcc -o "$B/h_$e" "$B/h_$e.o" "$B"/*.cu.o "$B"/{reference,ref_scores,thresholds,sparsek_op,status,context,dlpack}.o \
    -Xcompiler -fopenmp -lcudart
  "$B/h_$e" "$@"
}
fail=0
run hidden_mha 0 4 -DGRAD 2 4 4 100 64 48 16 8 0 0 0.125 || fail=1
run keys_gqa 1 4 -DGRAD 2 8 2 129 64 0 20 12 1 0.02 0.125 || fail=1
run input_gqa 2 4 -DGRAD 1 4 2 90 32 0 7 0 0 -0.05 0.17 || fail=1
run rank3_kbig 1 3 -DGRAD 6 1 1 77 64 0 100 4 0 0 0.125 || fail=1
run keys_gqa_bf16 1 4 "-DBF16 -DSAVED_STATE" 2 8 2 129 64 0 20 12 0 0 0.125 || fail=1
exit $fail
