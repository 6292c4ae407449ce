#!/usr/bin/env bash
# Tuning sweep on the GPU machine: builds libskrt_cuda with each set of knob flags
# (kernels/cuda_attn_mma.cuh) in parallel and times skc alone at N = 65536.
#   bench/gpu/variants.sh "" "-DSKRT_BWD_NB64=2" ...
set -u
cd "$(dirname "$0")/../.."
V=("$@")
[ ${#V[@]} -gt 0 ] || V=("")
for i in "${!V[@]}"; do
  rm -rf "/tmp/skrt_v$i" # run.sh reuses a built library: never time a stale variant
  (BUILD=/tmp/skrt_v$i SKRT_NVFLAGS="${V[$i]}" bench/gpu/run.sh --help >/dev/null 2>&1) &
done
wait
for i in "${!V[@]}"; do
  echo "== variant $i: ${V[$i]}"
  BUILD=/tmp/skrt_v$i OUT=/tmp bench/gpu/run.sh --engines skc --n 65536 2>&1 | grep "| skc |"
done
