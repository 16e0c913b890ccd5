#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fill a guest stage directory with what the project's areas provide:
#
#   make -C lib   install DESTDIR=STAGE PREFIX=/usr   (library, headers)
#   make -C tools install DESTDIR=STAGE PREFIX=/usr   (the prochandle CLI)
#   make -C AREA  guest-install GUEST_DIR=STAGE/opt/prochandle
#                 for AREA in selftests lib tools go python tests/fuzz bench:
#                 tests into
#                 STAGE/opt/prochandle/tests/AREA/
#
#   guest/stage.sh STAGE [--no-tests]
#
# An area without a Makefile or without the target is reported and skipped
# (it may not exist yet); a target that exists and fails counts as a
# failure.  Build output goes to STAGE.logs/; it is shown only on failure.
# Exit status: the number of failed steps (0 = all good).
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 STAGE [--no-tests]" >&2; exit 2; }
stage=$1
tests=1
[ "${2:-}" != --no-tests ] || tests=0
top=$(cd "$(dirname "$0")/.." && pwd)
logs=$stage.logs
rm -rf "$stage" "$logs"
mkdir -p "$stage/opt/prochandle/tests" "$logs"
stage=$(cd "$stage" && pwd)
jobs=$(nproc 2>/dev/null || echo 2)
failed=0

# step AREA TARGET ARGS...: run one make target of an area, tolerating its
# absence.
step() {
	local area=$1 target=$2 log
	shift 2
	log=$logs/${area//\//-}-$target.log
	if [ ! -f "$top/$area/Makefile" ]; then
		echo "stage: $area/ has no Makefile yet: skipping $target" >&2
		return 0
	fi
	if nice make -C "$top/$area" -j"$jobs" "$target" "$@" >"$log" 2>&1; then
		return 0
	fi
	if grep -q "No rule to make target '$target'" "$log"; then
		echo "stage: $area/Makefile has no '$target' target yet: skipping" >&2
		return 0
	fi
	echo "stage: make -C $area $target failed:" >&2
	tail -n 40 "$log" | sed 's/^/  | /' >&2
	echo "FAIL  build: make -C $area $target"
	failed=$((failed + 1))
}

step lib install DESTDIR="$stage" PREFIX=/usr
step tools install DESTDIR="$stage" PREFIX=/usr
if [ "$tests" = 1 ]; then
	for area in selftests lib tools go python tests/fuzz bench; do
		step "$area" guest-install GUEST_DIR="$stage/opt/prochandle"
	done
fi
exit "$failed"
