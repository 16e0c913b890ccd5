#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: build the module, library, CLI and tests, boot Debian's
# kernel under QEMU with them, run every test, and report.
#
#   guest/check.sh
#
# Environment: as guest/prepare.sh, plus PH_GUEST_TIMEOUT (whole guest,
# default 1500 s) and PH_TEST_TIMEOUT (each test executable, default 300 s).
#
# Fails on any failed test and on any kernel report in the guest's log; the
# last line is "check: N passed, N failed".
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
t0=$(date +%s)
# One guest run at a time per build tree (they share its outputs).
mkdir -p "${PH_BUILD:-$top/build/guest}"
exec 8>"${PH_BUILD:-$top/build/guest}/.lock"
flock -n 8 || { echo "waiting for another guest run in this tree" >&2; flock 8; }

echo "check: preparing kernel, module, library, tool and tests"
kernel='' module='' stage='' build=''
if ! vars=$("$here/prepare.sh"); then
	echo "check: 0 passed, 1 failed"
	exit 1
fi
eval "$vars"
if [ -z "$(find "$stage/opt/prochandle/tests" -mindepth 2 -type f 2>/dev/null)" ]; then
	echo "check: warning: no test executable was staged" >&2
fi

echo "check: booting $(basename "$kernel") ($(($(date +%s) - t0))s so far)"
rc=0
PH_TEST_TIMEOUT=${PH_TEST_TIMEOUT:-300} \
	"$here/run.sh" -k "$kernel" -m "$module" -s "$stage" -o "$build/run" \
	-t "${PH_GUEST_TIMEOUT:-1500}" --show progress || rc=$?
case $rc in
0|1) ;;
3) echo "guest: the run failed (see above; logs in $build/run)" >>"$build/problems" ;;
*) echo "guest: run.sh exited $rc" >>"$build/problems" ;;
esac

echo "check: finished in $(($(date +%s) - t0))s, guest $(cat "$build/run/elapsed" 2>/dev/null || echo ?)s; logs in $build/run"
echo
touch "$build/run/payload.txt"
awk -v problems="$build/problems" -f "$here/ktap-report.awk" "$build/run/payload.txt"
