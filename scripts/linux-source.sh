#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the path of an extracted Debian linux-source-6.1 tree, extracting
# it into the cache on first use.  Nothing from it is ever copied into the
# repository: build steps use files from this tree in place.
#
#   scripts/linux-source.sh            whole tree
#   scripts/linux-source.sh PATH...    only these paths (fast), same root
set -euo pipefail

cache=${PH_CACHE:-$HOME/.cache/prochandle}
here=$(cd "$(dirname "$0")" && pwd)
"$here/deps.sh" source >&2

tarball=$(find /usr/src -maxdepth 1 -name 'linux-source-6.1*.tar.xz' | sort -V | tail -n 1)
[ -n "$tarball" ] || { echo "linux-source.sh: no linux-source tarball" >&2; exit 1; }
ver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
root=$cache/src/linux-source-$ver
top=$(basename "$tarball" .tar.xz)
mkdir -p "$root"

# One extraction at a time (several make targets may ask at once).
exec 9>"$root.lock"
flock 9
if [ $# -eq 0 ]; then
	if [ ! -e "$root/.complete" ]; then
		tar -C "$root" -xf "$tarball"
		touch "$root/.complete"
	fi
else
	# One pass over the archive for every missing path: each tar run
	# decompresses the whole .xz.
	missing=()
	for p in "$@"; do
		[ -e "$root/$top/$p" ] || missing+=("$top/$p")
	done
	[ ${#missing[@]} -eq 0 ] || tar -C "$root" -xf "$tarball" "${missing[@]}"
fi
echo "$root/$top"
