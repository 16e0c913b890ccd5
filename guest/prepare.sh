#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Get everything a guest run needs: packages, Debian's kernel image, the
# module built against its headers, and a stage with the library, the CLI
# and (unless --no-tests) every area's tests plus the kernel's pidfd
# selftests; guest/demo-hold.c goes to /usr/bin.  Prints shell assignments for the caller to eval:
#
#   eval "$(guest/prepare.sh [--no-tests])"   -> kernel= module= stage= build=
#
# Environment: KVER, KDIR (default: newest installed *-amd64 headers),
# PH_CACHE (default ~/.cache/prochandle), PH_BUILD (default build/guest in
# the tree; outputs go to $PH_BUILD/$KVER), PH_SELFCHECK=0 skips the pidfd
# selftests.  Failures that should fail a check but not stop the run (a
# broken area) are listed in $build/problems, one a line.  Exit status
# non-zero when no guest can be run at all (its reason on stderr).
set -euo pipefail

tests=1
[ "${1:-}" != --no-tests ] || tests=0
top=$(cd "$(dirname "$0")/.." && pwd)
here=$top/guest
export PH_CACHE=${PH_CACHE:-$HOME/.cache/prochandle}

"$top/scripts/deps.sh" build guest source ||
	{ echo "prepare: installing dependencies failed" >&2; exit 1; }
if [ -z "${KVER:-}" ]; then
	KVER=$(find /usr/src -maxdepth 1 -name 'linux-headers-*-amd64' -printf '%f\n' |
		sed 's/^linux-headers-//' | sort -V | tail -n 1)
fi
[ -n "$KVER" ] || { echo "prepare: no Debian *-amd64 kernel headers installed" >&2; exit 1; }
if [ -z "${KDIR:-}" ] || [ ! -e "$KDIR/Makefile" ]; then
	KDIR=/usr/src/linux-headers-$KVER
fi
export KVER KDIR
build=${PH_BUILD:-$top/build/guest}/$KVER
mkdir -p "$build"
: >"$build/problems"

kernel=$("$here/fetch-kernel.sh" "$KVER") ||
	{ echo "prepare: cannot get the $KVER kernel image" >&2; exit 1; }
module=$("$here/build-module.sh" "$KDIR" "$build/module") ||
	{ echo "prepare: the module does not build against $KDIR" >&2; exit 1; }
stage=$build/stage
[ "$tests" = 1 ] || stage=$build/stage-notests
if [ "$tests" = 1 ]; then
	"$here/stage.sh" "$stage" >>"$build/problems" || true
	if [ "${PH_SELFCHECK:-1}" != 0 ] &&
		! "$here/build-pidfd-selftests.sh" "$stage/opt/prochandle/selfcheck/pidfd"; then
		echo "build: the kernel's pidfd selftests" >>"$build/problems"
	fi
else
	"$here/stage.sh" "$stage" --no-tests >>"$build/problems" || true
fi
# A small libprochandle program that keeps a handle across time (make demo).
if [ -f "$top/lib/Makefile" ] && make -s -C "$top/lib" >/dev/null 2>&1; then
	mkdir -p "$stage/usr/bin"
	gcc -O2 -Wall -static -I"$top/lib" -I"$top/uapi" -o "$stage/usr/bin/demo-hold" \
		"$here/demo-hold.c" "$top/lib/libprochandle.a" ||
		echo "build: guest/demo-hold.c" >>"$build/problems"
fi
sed -i 's/^FAIL  //' "$build/problems"
printf 'kernel=%q\nmodule=%q\nstage=%q\nbuild=%q\n' "$kernel" "$module" "$stage" "$build"
