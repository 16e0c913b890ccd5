#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the Debian packages from this tree and run lintian on them.
#
#   dist/deb.sh OUTDIR
#
# The tree's files (tracked and not ignored; never build outputs) are copied
# to OUTDIR/prochandle-VERSION, debian/changelog is written there from
# dkms.conf's PACKAGE_VERSION (the one place the version lives), and
# dpkg-buildpackage builds the source and the binary packages:
# prochandle-dkms (all), libprochandle1, libprochandle-dev, prochandle.
# Lintian errors fail the build; its warnings are printed.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
out=$1
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$src/dkms.conf")
[ -n "$version" ] || { echo "deb.sh: no PACKAGE_VERSION in dkms.conf" >&2; exit 1; }
"$src/scripts/deps.sh" dist

mkdir -p "$out"
out=$(cd "$out" && pwd)
tree=$out/prochandle-$version
rm -rf "$tree" "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo "$out"/*.dsc \
	"$out"/*.tar.*
mkdir -p "$tree"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$src" && git ls-files -z -co --exclude-standard |
		xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' |
		tar --null -T - -cf -) | tar -C "$tree" -xf -
else
	tar -C "$src" --exclude=./out --exclude=./build --exclude='*.o' \
		--exclude='*.ko' --exclude='*.so*' --exclude='*.a' -cf - . |
		tar -C "$tree" -xf -
fi

# The changelog's date: the last commit's, so rebuilds are reproducible.
epoch=$(git -C "$src" log -1 --format=%ct 2>/dev/null || date +%s)
sed -e "s/@VERSION@/$version/" -e "s/@DATE@/$(LC_ALL=C date -u -R -d "@$epoch")/" \
	"$tree/debian/changelog.in" >"$tree/debian/changelog"
export SOURCE_DATE_EPOCH=$epoch

echo "deb: dpkg-buildpackage in $tree" >&2
(cd "$tree" && nice dpkg-buildpackage -us -uc >"$out/build.log" 2>&1) ||
	{ tail -n 40 "$out/build.log" >&2; echo "deb.sh: dpkg-buildpackage failed ($out/build.log)" >&2; exit 1; }
changes=$(ls "$out"/prochandle_"$version"_*.changes)
ls -1 "$out"/*.deb >&2

echo "deb: lintian" >&2
lintian --fail-on error --display-info "$changes" >"$out/lintian.txt" 2>&1 &&
	lrc=0 || lrc=$?
grep -v "running with root privileges" "$out/lintian.txt" | sed "s/^/  lintian: /" >&2
printf 'deb: lintian: %d errors, %d warnings, %d info\n' \
	"$(grep -c '^E: ' "$out/lintian.txt" || true)" \
	"$(grep -c '^W: ' "$out/lintian.txt" || true)" \
	"$(grep -c '^I: ' "$out/lintian.txt" || true)" >&2
[ "$lrc" = 0 ] || { echo "deb.sh: lintian reported errors" >&2; exit 1; }
