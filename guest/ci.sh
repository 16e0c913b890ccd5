#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make ci`: run every make target named on the command line (the
# Makefile's CI_TARGETS), keep going after a failure, and add up their
# results.
#
#   guest/ci.sh TARGET...
#
# A target's result is the last line of its output of the form
# "NAME: N passed, N failed"; a target that prints no such line counts as
# 1 passed when it succeeds and 1 failed when it fails (and so does one
# whose exit status disagrees with a line saying nothing failed).  The last
# line is the grand total, "N passed, N failed"; the exit status is non-zero
# when anything failed.
set -uo pipefail

[ $# -ge 1 ] || { echo "usage: $0 TARGET..." >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
make=${MAKE:-make}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
total_pass=0 total_fail=0
summary=()
start=$(date +%s)
# CPU seconds (user + system) used so far by the targets run (the waited-for
# descendants of this shell): with the wall time, it tells a busy machine
# (wall far above CPU / CPUs) from a slow target.
cpu() {
	local stat
	stat=$(cat "/proc/$$/stat")
	# shellcheck disable=SC2086 # split into the fields of proc_pid_stat(5)
	set -- ${stat##*) }
	echo $(((${14} + ${15}) / $(getconf CLK_TCK)))
}

for target in "$@"; do
	echo "==== ci: make $target ($(date +%T), load average $(cut -d' ' -f1-3 /proc/loadavg))"
	t0=$(date +%s) c0=$(cpu)
	"$make" --no-print-directory -C "$top" "$target" </dev/null 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(tr -d '\r' <"$log" |
		grep -E '^[A-Za-z0-9_.-]+: [0-9]+ passed, [0-9]+ failed' | tail -n 1 || true)
	if [ -n "$line" ]; then
		pass=$(sed -E 's/^[^:]*: ([0-9]+) passed.*/\1/' <<<"$line")
		fail=$(sed -E 's/^[^:]*: [0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")
		[ "$rc" = 0 ] || [ "$fail" -gt 0 ] || fail=1
	elif [ "$rc" = 0 ]; then
		pass=1 fail=0
	else
		pass=0 fail=1
	fi
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	summary+=("$(printf '  %-6s %-24s %4d passed %4d failed  (exit %d, %ds, CPU %ds)' \
		"$([ "$fail" = 0 ] && echo ok || echo FAIL)" "$target" "$pass" "$fail" \
		"$rc" "$(($(date +%s) - t0))" "$(($(cpu) - c0))")")
done

echo "==== ci: summary"
printf '%s\n' "${summary[@]}"
elapsed=$(($(date +%s) - start))
printf '  total %dm%02ds, CPU %ds on %d CPUs; load average at the end %s\n' \
	$((elapsed / 60)) $((elapsed % 60)) "$(cpu)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
