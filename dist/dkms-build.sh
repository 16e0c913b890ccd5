#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `dkms add`, `build` and `install` this tree for one kernel, with nothing
# left behind on the machine, and copy the installed module to OUTDIR.
#
#   dist/dkms-build.sh KVER OUTDIR      prints OUTDIR/prochandle.ko
#
# DKMS runs on a staged copy of the sources (dist/stage-src.sh) with a
# temporary --dkmstree and --sourcetree.  `dkms install` writes into
# /lib/modules/KVER, /etc/modules-load.d and /var/lib/dkms (its signing
# key): all three are overlaid with temporary layers in a private mount
# namespace, so the real ones are untouched.  Checked on the way: dkms
# status says "installed", the module sits in updates/dkms, depmod knows
# it, the modules-load.d file is written by install and removed by remove.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 KVER OUTDIR" >&2; exit 2; }
kver=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$src/dkms.conf")

[ "$(id -u)" -eq 0 ] || { echo "dkms-build.sh: needs root (dkms, mounts)" >&2; exit 1; }
command -v dkms >/dev/null || "$src/scripts/deps.sh" dist
[ -e "/lib/modules/$kver/build/Makefile" ] ||
	{ echo "dkms-build.sh: no headers for $kver in /lib/modules/$kver/build" >&2; exit 1; }

mkdir -p "$out"
out=$(cd "$out" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ph-dkms.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$here/stage-src.sh" "$tmp/src/prochandle-$version"
mkdir -p "$tmp/dkms" "$tmp/layers"

# shellcheck disable=SC2016 # the inner script expands its own variables
unshare --mount --propagation private /bin/bash -euo pipefail -c '
	kver=$1 version=$2 tmp=$3 out=$4
	overlay() {	# overlay DIR NAME: writes to DIR go to a temporary layer
		mkdir -p "$1" "$tmp/layers/$2/u" "$tmp/layers/$2/w"
		mount -t overlay overlay -o "lowerdir=$1,upperdir=$tmp/layers/$2/u,workdir=$tmp/layers/$2/w" "$1"
	}
	overlay "/lib/modules/$kver" modules
	overlay /etc/modules-load.d modules-load
	overlay /var/lib/dkms dkms
	d=(--dkmstree "$tmp/dkms" --sourcetree "$tmp/src")
	step() { echo "+ $*" >&2; "$@" >>"$tmp/dkms.log" 2>&1 || { cat "$tmp/dkms.log" >&2; exit 1; }; }
	step dkms add -m prochandle -v "$version" "${d[@]}"
	step dkms build -m prochandle -v "$version" -k "$kver" "${d[@]}"
	step dkms install -m prochandle -v "$version" -k "$kver" "${d[@]}"
	dkms status -m prochandle "${d[@]}" | tee "$out/dkms-status.txt" >&2
	grep -q "prochandle/$version, $kver, .*: installed" "$out/dkms-status.txt" ||
		{ echo "dkms-build.sh: dkms status does not say installed" >&2; exit 1; }
	ko=$(ls "/lib/modules/$kver/updates/dkms/prochandle.ko"* | head -n 1)
	grep -q "updates/dkms/prochandle.ko" "/lib/modules/$kver/modules.dep" ||
		{ echo "dkms-build.sh: depmod does not list the module" >&2; exit 1; }
	grep -qx prochandle /etc/modules-load.d/prochandle.conf ||
		{ echo "dkms-build.sh: no /etc/modules-load.d/prochandle.conf" >&2; exit 1; }
	case $ko in
	*.xz)  xz -dc "$ko" >"$out/prochandle.ko" ;;
	*.zst) zstd -qdc "$ko" >"$out/prochandle.ko" ;;
	*.gz)  gzip -dc "$ko" >"$out/prochandle.ko" ;;
	*)     cp "$ko" "$out/prochandle.ko" ;;
	esac
	modinfo "$out/prochandle.ko" | grep -E "^(version|vermagic|signer|sig_key):" >&2 || true
	step dkms remove -m prochandle -v "$version" --all "${d[@]}"
	[ ! -e /etc/modules-load.d/prochandle.conf ] ||
		{ echo "dkms-build.sh: dkms remove left modules-load.d/prochandle.conf" >&2; exit 1; }
	[ -z "$(ls "/lib/modules/$kver/updates/dkms/" 2>/dev/null)" ] ||
		{ echo "dkms-build.sh: dkms remove left the module" >&2; exit 1; }
' _ "$kver" "$version" "$tmp" "$out"
echo "dkms-build.sh: add, build, install, status, remove: ok for $kver" >&2
echo "$out/prochandle.ko"
