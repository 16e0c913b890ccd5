#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot one kernel with one prochandle.ko and the whole test stage under
# QEMU (guest/run.sh) and report like `make check`.
#
#   dist/guest-check.sh NAME KERNEL_IMAGE MODULE STAGE OUTDIR
#
# The report's last line is "NAME: N passed, N failed" (guest/ci.sh reads
# it); problems already listed in OUTDIR/problems count as failures.
# Environment: PH_GUEST_TIMEOUT (default 1500 s), PH_TEST_TIMEOUT (default
# 300 s), PH_GUEST_APPEND (extra kernel command line).
set -uo pipefail

[ $# -eq 5 ] || { echo "usage: $0 NAME KERNEL MODULE STAGE OUTDIR" >&2; exit 2; }
name=$1 kernel=$2 module=$3 stage=$4 out=$5
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
touch "$out/problems"
rm -rf "$out/run"

rc=0
PH_TEST_TIMEOUT=${PH_TEST_TIMEOUT:-300} \
	"$top/guest/run.sh" -k "$kernel" -m "$module" -s "$stage" -o "$out/run" \
	${PH_GUEST_APPEND:+-a "$PH_GUEST_APPEND"} \
	-t "${PH_GUEST_TIMEOUT:-1500}" --show progress || rc=$?
case $rc in
0|1) ;;
3) echo "$name: the run failed: kernel report or no verdict (logs in $out/run)" >>"$out/problems" ;;
*) echo "$name: guest/run.sh exited $rc" >>"$out/problems" ;;
esac
mkdir -p "$out/run"
touch "$out/run/payload.txt"
echo "$name: guest took $(cat "$out/run/elapsed" 2>/dev/null || echo ?)s; logs in $out/run"
awk -v problems="$out/problems" -f "$top/guest/ktap-report.awk" "$out/run/payload.txt" |
	sed "\$s/^check:/$name:/" | tee "$out/report.txt"
tail -n 1 "$out/report.txt" | grep -qE '^[^:]+: [0-9]+ passed, 0 failed'
