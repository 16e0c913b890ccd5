#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the kernel's own pidfd selftests (tools/testing/selftests/pidfd of
# Debian's linux-source-6.1, used in place in the cache) as static
# binaries, and copy them into a guest stage.  They run next to ours as a
# self-check of the harness; their results are informational.
#
#   guest/build-pidfd-selftests.sh DESTDIR
#
# The binaries are cached in $PH_CACHE/selfcheck/pidfd-<source version>.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 DESTDIR" >&2; exit 2; }
dest=$1
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${PH_CACHE:-$HOME/.cache/prochandle}

sel=tools/testing/selftests
src=$("$top/scripts/linux-source.sh" "$sel/pidfd" "$sel/kselftest.h" \
	"$sel/kselftest_harness.h" "$sel/lib.mk" "$sel/clone3/clone3_selftests.h")
ver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
bin=$cache/selfcheck/pidfd-$ver

# One builder at a time (a second caller waits, then finds it done).
mkdir -p "$cache/selfcheck"
exec 9>"$bin.lock"
flock 9
if [ ! -e "$bin/.complete" ]; then
	rm -rf "$bin"
	mkdir -p "$bin"
	if ! nice make -s -C "$src/$sel/pidfd" OUTPUT="$bin" LDFLAGS=-static \
		-j"$(nproc 2>/dev/null || echo 2)" >"$bin/build.log" 2>&1; then
		cat "$bin/build.log" >&2
		echo "build-pidfd-selftests.sh: build failed" >&2
		exit 1
	fi
	touch "$bin/.complete"
fi
exec 9>&-
mkdir -p "$dest"
find "$bin" -maxdepth 1 -type f -perm -u+x -exec cp -p {} "$dest/" \;
# Its default of 10000 fork-poll-exit rounds takes minutes under emulation.
echo 1000 >"$dest/pidfd_poll_test.args"
