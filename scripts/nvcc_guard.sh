#!/usr/bin/env bash
# Compiler launcher of the CUDA build (CMAKE_CUDA_COMPILER_LAUNCHER, runtime/cuda/CMakeLists.txt):
# runs the nvcc command given as arguments and fails it when ptxas reports that it serialized
# the warpgroup MMA of a kernel - info C7512 (not enough registers), C7514 (accumulators read
# between a wgmma and the wait that completes it, as ptxas sees it: e.g. waits it cannot match
# statically) or C7520 (accumulators used on a path it cannot prove warp-uniform), or any other
# "instructions are serialized" line. ptxas prints these as info lines, not warnings, so
# -Werror does not catch them, and a serialized kernel is correct but much slower. The output
# file (-o) is removed on failure, so that no half-checked object is left behind.
#   scripts/nvcc_guard.sh nvcc ARGS...
set -uo pipefail
err=$(mktemp)
trap 'rm -f "$err"' EXIT
"$@" 2>"$err"
rc=$?
cat "$err" >&2
if [ $rc -eq 0 ] && grep -qE '\((C7512|C7514|C7520)\)|instructions are serialized' "$err"; then
  echo "nvcc_guard: error: ptxas serialized warpgroup MMA (see above); fix the kernel" \
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
