#!/usr/bin/env bash
# Compiler launcher of the CUDA build (CMAKE_CUDA_COMPILER_LAUNCHER, runtime/cuda/CMakeLists.txt):
# runs the nvcc command given as arguments and fails it when ptxas reports that it serialized
# the warpgroup MMA of a kernel - info C7512 (not enough registers) or C7520 (accumulators used
# on a path it cannot prove warp-uniform). ptxas prints these as info lines, not warnings, so
# -Werror does not catch them, and a serialized kernel is correct but much slower. The output
# file (-o) is removed on failure, so that no half-checked object is left behind.
#   scripts/nvcc_guard.sh nvcc ARGS...
set -uo pipefail
err=$(mktemp)
trap 'rm -f "$err"' EXIT
"$@" 2>"$err"
rc=$?
cat "$err" >&2
if [ $rc -eq 0 ] && grep -qE '\((C7512|C7520)\)' "$err"; then
  echo "nvcc_guard: error: ptxas serialized warpgroup MMA (C7512/C7520 above); fix the kernel" \
    "(registers, uniform accumulator use) before building" >&2
  out=""
  prev=""
  for a in "$@"; do
    [ "$prev" = "-o" ] && out=$a
    prev=$a
  done
  [ -n "$out" ] && rm -f "$out"
  rc=1
fi
exit $rc
