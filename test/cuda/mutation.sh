#!/usr/bin/env bash
# Mutation check of the GPU correctness suite (test/cuda/run.sh), for a machine with an sm_90
# GPU: builds the suite against deliberately broken copies of the kernels (copied to /tmp) and
# requires the suite to catch each (a suite that passes a broken kernel proves nothing).
# Kernel mutants (runtime/kernels/cuda_attn_wgmma.cuh) must fail every bf16/fp16 case with D 64
# or 128 (the ones those kernels run; for the forward's mutant, all but the negative-scale case,
# whose forward runs the plain kernels); selection mutants (runtime/kernels/cuda_select.cuh),
# satgate and winsel must fail at least one case (the cases that never reach the broken step,
# e.g. k >= N or no block of saturated keys, pass). A case fails when it prints FAIL, its GPU
# call fails or CUDA reports an error (a mutant may also make a kernel fault: selrank does since
# the scratch pool keeps memory between calls).
#   pv       the forward's P V takes the first 16 keys' V rows for every k-step
#   xty      the backward's dk / dv products take the first 16 query rows for every k-step
#   selrank  the tier-1 bitmap prep does not advance the old keys' rank (chunk list, k-th best;
#            built with -DSKRT_SEL_BITMAP=2 so that every chunk takes the bitmap)
#   selzone  the selection sweep skips the settle for entrants in the free zone
#   satgate  key blocks count as saturated (gate 1) from u_j - tau_i >= 0.25 instead of 1, so
#            blocks holding free keys take the all-window code (must fail at least one case)
#   winsel   range blocks that some row reaches through the selection count as masked-window
#            blocks (those keys lose their selection part)
#   winmask  the masked-window blocks' mask lets a key at distance w through (<= w for < w)
#   wmsign   the backward's masked-window mask sets unattended logits to -inf whatever the
#            scale's sign (with a negative scale they become +inf after it: the negative-scale
#            cases must catch it)
#   selpart  a part of a split chunk's sweep (skrt_sel_parts) starts from zone counts that leave
#            out its newest old key
#   tiezone  the selection's settle walks on past a root that lies exactly on a saturated entry's
#            kink (that entry then counts as free: |F_i| one too many where scores tie)
#   test/cuda/mutation.sh [mutant...]     (default: all; logs under $OUT if set)
set -uo pipefail
cd "$(dirname "$0")/../.."
LOG=${OUT:-/tmp}
mkdir -p "$LOG"
declare -A SED=(
  [pv]='s|dv + kk \* skrt_desc_rows16<D>()|dv + 0 * kk * skrt_desc_rows16<D>() /* MUTANT */|'
  [xty]='s|dx + kq \* skrt_desc_rows16<TW>()|dx + 0 * kq * skrt_desc_rows16<TW>() /* MUTANT */|'
  [selrank]='s|p < d.Lb ? orank++ : -1|p < d.Lb ? orank : -1 /* MUTANT */|'
  [selzone]='s|(inf \|\| t < st.W)|(inf \|\| t < st.U) /* MUTANT */|'
  [satgate]='s|u - tk.tmax >= 1.0f|u - tk.tmax >= 0.25f /* MUTANT */|'
  [winsel]='s|if (__any_sync(0xffffffffu, sel))|if (false \&\& __any_sync(0xffffffffu, sel)) /* MUTANT */|'
  [winmask]='s|x = (unsigned)(rw.im\[hr\] - j) < (unsigned)w ? x : off;|x = (unsigned)(rw.im[hr] - j) <= (unsigned)w ? x : off; /* MUTANT */|'
  [wmsign]='s|copysignf(INFINITY, -L.scale)|-INFINITY /* MUTANT */|'
  [selpart]='s|skrt_sel_start<NT>(v, pos, n, L, k,|skrt_sel_start<NT>(v, pos, n, L - 1, k, /* MUTANT */|'
  [tiezone]='s|if (lhs == rhs \&\& eU <= eW) {|if (false \&\& lhs == rhs \&\& eU <= eW) { /* MUTANT */|'
)
declare -A FILE=([pv]=cuda_attn_wgmma.cuh [xty]=cuda_attn_wgmma.cuh [selrank]=cuda_select.cuh
  [selzone]=cuda_select.cuh [satgate]=cuda_attn_mma.cuh [winsel]=cuda_attn_mma.cuh
  [winmask]=cuda_attn_mma.cuh [wmsign]=cuda_attn_wgmma.cuh [selpart]=cuda_select.cuh
  [tiezone]=cuda_select.cuh)
# mutants that only some cases reach (the others must fail every bf16/fp16 case with D 64 / 128)
declare -A SOME=([selrank]=1 [selzone]=1 [satgate]=1 [winsel]=1 [winmask]=1 [wmsign]=1 [selpart]=1
  [tiezone]=1)
declare -A FLAGS=([selrank]=-DSKRT_SEL_BITMAP=2)
MUTS=("$@")
[ ${#MUTS[@]} -gt 0 ] || MUTS=(pv xty selrank selzone satgate winsel winmask wmsign selpart tiezone)
for m in "${MUTS[@]}"; do
  [ -n "${SED[$m]:-}" ] || { echo "mutation.sh: unknown mutant '$m' (known: ${!SED[*]})" >&2; exit 2; }
done
# a suite that cannot reach a GPU fails its first case with a CUDA error, which would read as a
# catch: no GPU, no verdict
if ! nvidia-smi -L >/dev/null 2>&1; then
  echo "mutation.sh: no usable GPU (nvidia-smi -L fails): the mutants cannot be judged here" >&2
  exit 2
fi
fail=0
for m in "${MUTS[@]}"; do
  # a directory of its own (two runs of one mutant, e.g. from two trees, must not share one)
  d=$(mktemp -d "/tmp/skrt_mutant_$m.XXXXXX")
  cp -r runtime test "$d"/ && { [ ! -d .deb ] || cp -r .deb "$d"/; }
  f="$d/runtime/kernels/${FILE[$m]}"
  sed -i "${SED[$m]}" "$f"
  if ! grep -q MUTANT "$f"; then
    echo "mutation.sh: mutant '$m' no longer applies: update its pattern" >&2
    rm -rf "$d"
    exit 2
  fi
  (cd "$d" && OUT=$LOG/mutant_${m}_logs SKRT_NVFLAGS="${FLAGS[$m]:-}" test/cuda/run.sh "$d/build" cuda \
    >"$LOG/mutant_$m.log" 2>&1)
  # the cases that failed: a FAIL line, a failed GPU call or a CUDA error inside the case's block
  # (a run's summary line, "FAILED: n failure(s)", ends the block: it is not the last case's)
  failed=$(awk '/^case /{c = $2; sub(":", "", c)} /^(PASSED|FAILED): /{c = ""}
    c && /FAIL|GPU call failed|cuda error/{print c}' "$LOG/mutant_$m.log" | sort -u)
  rm -rf "$d" # (the suite's output: $LOG/mutant_$m.log and $LOG/mutant_${m}_logs)
  if grep -qE "no CUDA-capable device|driver version is insufficient|CUDA driver is a stub" \
    "$LOG/mutant_$m.log"; then
    echo "mutant $m: the suite found no usable GPU (see $LOG/mutant_$m.log): not judged"
    fail=1
    continue
  fi
  if [ -n "${SOME[$m]:-}" ]; then
    n=$(echo "$failed" | grep -c .)
    if [ "$n" -gt 0 ]; then
      echo "mutant $m: caught by $n case(s)"
    else
      echo "mutant $m: NOT caught (or the suite did not run: see $LOG/mutant_$m.log)"
      fail=1
    fi
    continue
  fi
  # the bf16/fp16 cases with D 64 or 128 (the shapes the warpgroup-MMA kernels take)
  cases=$(grep -E '^case (bf16|f16)_.* D=(64|128) ' "$LOG/mutant_$m.log" | awk '{print $2}' |
    tr -d ':' | sort -u)
  # (the negative-scale case runs the plain forward: forward mutants cannot reach it)
  [ "$m" != pv ] || cases=$(echo "$cases" | grep -v _negscale)
  caught=0 missed=""
  for c in $cases; do
    if echo "$failed" | grep -qx "$c"; then caught=$((caught + 1)); else missed="$missed $c"; fi
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
