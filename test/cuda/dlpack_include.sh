#!/usr/bin/env bash
# Prints the -I flag that makes <dlpack/dlpack.h> visible to the GPU scripts: nothing when the
# system has it (Debian's libdlpack-dev, as on the dev machines), else the include dir of the
# same Debian package unpacked from .deb/ at the repository root. The GPU machine has no
# package registry: fetch the package here first, then carry `.deb` to the device:
#   scripts/fetch_device_debs.sh          (here)      run(..., carry: [".deb"])   (device)
set -euo pipefail
[ -f /usr/include/dlpack/dlpack.h ] && exit 0
root=$(cd "$(dirname "$0")/../.." && pwd)
deb=$(ls "$root"/.deb/libdlpack-dev_*.deb 2>/dev/null | head -n 1)
if [ -z "$deb" ]; then
  echo "dlpack_include.sh: no dlpack/dlpack.h and no .deb/libdlpack-dev_*.deb;" \
       "run scripts/fetch_device_debs.sh and carry .deb" >&2
  exit 1
fi
dest=${TMPDIR:-/tmp}/skc-dlpack
if [ ! -f "$dest/usr/include/dlpack/dlpack.h" ]; then
  # unpack into a private directory and move it into place, so that scripts running this at
  # the same time (parallel builds) never unpack over each other
  tmp=$(mktemp -d "$dest.XXXXXX")
  dpkg-deb -x "$deb" "$tmp"
  mv -T "$tmp" "$dest" 2>/dev/null || rm -rf "$tmp"
fi
echo "-I$dest/usr/include"
