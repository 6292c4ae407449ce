#!/usr/bin/env bash
# Downloads the Debian packages the GPU scripts need but the GPU machine lacks (it reaches no
# registry) into .deb/ (git-ignored), to be carried there: today only libdlpack-dev, whose
# header test/cuda/dlpack_include.sh unpacks on the device.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .deb
cd .deb
ls libdlpack-dev_*.deb >/dev/null 2>&1 || apt-get download libdlpack-dev
ls -l
