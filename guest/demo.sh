#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`: boot a guest with the module, the library and the prochandle
# CLI installed, and run guest/demo-guest.sh in it: a process that is not
# our child looked at, signalled and waited for, an exit code, and the
# PID-reuse case.
#
#   guest/demo.sh
#
# Environment: as guest/prepare.sh.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
# One guest run at a time per build tree (they share its outputs).
mkdir -p "${PH_BUILD:-$top/build/guest}"
exec 8>"${PH_BUILD:-$top/build/guest}/.lock"
flock -n 8 || { echo "waiting for another guest run in this tree" >&2; flock 8; }

echo "demo: building the module, library and CLI and booting a guest (about a minute)"
kernel='' module='' stage='' build=''
vars=$("$here/prepare.sh" --no-tests)
eval "$vars"
if [ -s "$build/problems" ]; then
	sed 's/^/demo: /' "$build/problems" >&2
	exit 1
fi
[ -x "$stage/usr/bin/prochandle" ] ||
	{ echo "demo: the prochandle CLI was not installed into the stage" >&2; exit 1; }

# A small libprochandle program that keeps a handle across time.
mkdir -p "$stage/usr/bin"
make -s -C "$top/lib" >/dev/null
gcc -O2 -Wall -static -I"$top/lib" -I"$top/uapi" -o "$stage/usr/bin/demo-hold" \
	"$here/demo-hold.c" "$top/lib/libprochandle.a"

echo
"$here/run.sh" -k "$kernel" -m "$module" -s "$stage" -o "$build/demo" \
	-t 600 --show payload /usr/libexec/prochandle/demo
