#!/usr/bin/env bash
# Installs the Debian 12 packages that building and testing skc need, when missing.
# Safe to run repeatedly: it asks apt only for what dpkg does not already have.
set -euo pipefail

pkgs=(
  build-essential cmake ninja-build pkg-config
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools lld-22
  libdlpack-dev libcmocka-dev libopenblas-dev libomp-dev
  python3 python3-numpy valgrind
)
# PyTorch is a peer in the benchmarks only; SKC_BENCH=1 asks for it too.
if [ "${SKC_BENCH:-0}" = 1 ]; then pkgs+=(python3-torch); fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "bootstrap: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
