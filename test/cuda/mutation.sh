#!/usr/bin/env bash
# Mutation check of the GPU correctness suite (test/cuda/run.sh), for a machine with an sm_90
# GPU: builds the suite against deliberately broken copies of the warpgroup-MMA kernels and
# requires every bf16/fp16 case with D 64 or 128 (the ones those kernels run) to fail on each of
# them (a suite that passes a broken kernel proves nothing). Mutants (runtime/kernels/cuda_attn_wgmma.cuh, copied to /tmp):
#   pv   the forward's P V takes the first 16 keys' V rows for every k-step
#   xty  the backward's dk / dv products take the first 16 query rows for every k-step
#   test/cuda/mutation.sh [mutant...]     (default: all; logs under $OUT if set)
set -uo pipefail
cd "$(dirname "$0")/../.."
LOG=${OUT:-/tmp}
declare -A SED=(
  [pv]='s|dv + kk \* skrt_desc_rows16<D>()|dv + 0 * kk * skrt_desc_rows16<D>() /* MUTANT */|'
  [xty]='s|dx + kq \* skrt_desc_rows16<TW>()|dx + 0 * kq * skrt_desc_rows16<TW>() /* MUTANT */|'
)
MUTS=("$@")
[ ${#MUTS[@]} -gt 0 ] || MUTS=(pv xty)
fail=0
for m in "${MUTS[@]}"; do
  [ -n "${SED[$m]:-}" ] || { echo "mutation.sh: unknown mutant '$m' (known: ${!SED[*]})" >&2; exit 2; }
  d=/tmp/skrt_mutant_$m
  rm -rf "$d" && mkdir -p "$d" && cp -r runtime test "$d"/ && { [ ! -d .deb ] || cp -r .deb "$d"/; }
  sed -i "${SED[$m]}" "$d/runtime/kernels/cuda_attn_wgmma.cuh"
  if ! grep -q MUTANT "$d/runtime/kernels/cuda_attn_wgmma.cuh"; then
    echo "mutation.sh: mutant '$m' no longer applies: update its pattern" >&2
    exit 2
  fi
  (cd "$d" && OUT=$d/log test/cuda/run.sh "$d/build" cuda >"$LOG/mutant_$m.log" 2>&1)
  # the bf16/fp16 cases with D 64 or 128 (the shapes the warpgroup-MMA kernels take)
  cases=$(grep -E '^case (bf16|f16)_.* D=(64|128) ' "$LOG/mutant_$m.log" | awk '{print $2}' |
    tr -d ':' | sort -u)
  caught=0 missed=""
  for c in $cases; do
    if grep -qE "^  $c .*FAIL" "$LOG/mutant_$m.log"; then caught=$((caught + 1)); else missed="$missed $c"; fi
  done
  if [ -z "$cases" ]; then
    echo "mutant $m: the suite did not build or run (see $LOG/mutant_$m.log)"
    fail=1
  elif [ -n "$missed" ]; then
    echo "mutant $m: NOT caught by:$missed"
    fail=1
  else
    echo "mutant $m: caught by all $caught bf16/fp16 cases with D 64 or 128"
  fi
done
exit $fail
