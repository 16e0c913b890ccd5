#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Copy what DKMS needs to build prochandle (dkms.conf, Kbuild, module/,
# uapi/, the DKMS hook) into DEST, e.g. /usr/src/prochandle-VERSION.  The
# package and `make check-dkms` both use this, so they ship the same files.
#
#   dist/stage-src.sh DEST
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 DEST" >&2; exit 2; }
src=$(cd "$(dirname "$0")/.." && pwd)
dest=$1

[ -n "$(ls "$src"/module/*.c 2>/dev/null)" ] ||
	{ echo "stage-src.sh: no module sources in $src/module" >&2; exit 1; }
mkdir -p "$dest/module" "$dest/uapi/linux" "$dest/dist"
install -m 644 "$src/dkms.conf" "$src/Kbuild" "$dest/"
install -m 644 "$src"/module/*.[ch] "$dest/module/"
install -m 644 "$src/uapi/linux/prochandle.h" "$dest/uapi/linux/"
install -m 755 "$src/dist/dkms-hook" "$dest/dist/"
