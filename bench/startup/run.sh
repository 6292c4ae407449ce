#!/usr/bin/env bash
# Startup time of the skc driver (issue 2: `skc --version` under 150 ms wall, process start
# included). Runs each command 30 times and prints the median and the max wall time in ms.
set -euo pipefail
skc=${1:?usage: run.sh path/to/skc}
small=$(dirname "$0")/../../test/driver/Inputs/ok.mlir

measure() {
  local label=$1; shift
  local times=()
  for _ in $(seq 30); do
    local t0 t1
    t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v l="$label" \
    '{a[NR]=$1} END {printf "%-40s median %6.1f ms   max %6.1f ms\n", l, a[int((NR+1)/2)]/1000, a[NR]/1000}'
}

measure "skc --version" "$skc" --version
measure "skc --version $(basename "$small")" "$skc" --version "$small"
measure "skc --emit=mlir $(basename "$small")" "$skc" --emit=mlir "$small"
measure "skc --emit=sparsek --sparsek-score=keys" "$skc" --emit=sparsek --sparsek-score=keys "$small"
