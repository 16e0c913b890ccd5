#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build prochandle.ko for one kernel, out of the source tree, and print its
# path.
#
#   guest/build-module.sh KDIR OUTDIR
#
# Kbuild, module/ and uapi/ are copied into OUTDIR and built there with
# `make -C KDIR M=OUTDIR modules`, so builds for several kernels never
# collide and nothing is written into the source tree.  Unchanged files
# keep their timestamps, so a rebuild is incremental.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 KDIR OUTDIR" >&2; exit 2; }
kdir=$1
out=$2
src=$(cd "$(dirname "$0")/.." && pwd)

[ -e "$kdir/Makefile" ] ||
	{ echo "build-module.sh: $kdir is not a kernel build directory" >&2; exit 1; }
[ -n "$(ls "$src"/module/*.c 2>/dev/null)" ] ||
	{ echo "build-module.sh: no module sources in $src/module" >&2; exit 1; }

mkdir -p "$out"
out=$(cd "$out" && pwd)
# Mirror the sources (never build outputs of an in-tree build), keeping
# their timestamps so that make only rebuilds what changed.
for d in module uapi; do
	if [ -d "$out/$d" ]; then
		find "$out/$d" -type f ! -name '*.o' ! -name '.*.cmd' -delete
	fi
done
tar -C "$src" -cf - --exclude='*.o' --exclude='.*.cmd' --exclude='*.ko' \
	--exclude='*.mod' --exclude='*.mod.c' --exclude='*.mod.o' \
	module uapi | tar -C "$out" -xf -
cp -p "$src/Kbuild" "$src/dkms.conf" "$out/"

jobs=$(nproc 2>/dev/null || echo 2)
if ! make -s -C "$kdir" M="$out" -j"$jobs" modules >"$out/build.log" 2>&1; then
	cat "$out/build.log" >&2
	echo "build-module.sh: module build failed against $kdir" >&2
	exit 1
fi
# Show compiler warnings: they are bugs waiting to happen.
grep -E 'warning:|error:' "$out/build.log" >&2 || true
ko=$out/prochandle.ko
[ -f "$ko" ] || { echo "build-module.sh: $ko was not produced" >&2; exit 1; }
echo "$ko"
