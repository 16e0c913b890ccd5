#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make ci`: run every make target named on the command line (the
# Makefile's CI_TARGETS), keep going after a failure, and add up their
# results.
#
#   guest/ci.sh [--background FOR:TARGET]... TARGET...
#
# A --background target (the Makefile's CI_BACKGROUND_<FOR>, e.g. the
# debug kernels that check-debug boots) starts at once, at nice 19, as a
# process group of its own in this session, while the targets run in the
# foreground.  On a cold machine it then fills the CPU time the guests
# and the package downloads leave idle instead of adding its whole length
# to the run; on a warm one it finds its cache and ends at once.  When
# target FOR starts, which waits for it, a background target still running
# is on the critical path: it is reniced to this script's own priority
# (root only; otherwise it stays at 19).  A background target that fails
# only costs time: FOR builds again and fails with the reason.  Its log is
# shown at the end when it failed, and it is killed if it is still running
# then.
#
# A target's result is the last line of its output of the form
# "NAME: N passed, N failed"; a target that prints no such line counts as
# 1 passed when it succeeds and 1 failed when it fails (and so does one
# whose exit status disagrees with a line saying nothing failed).  The last
# line is the grand total, "N passed, N failed"; the exit status is non-zero
# when anything failed.
set -uo pipefail

usage() { echo "usage: $0 [--background FOR:TARGET]... TARGET..." >&2; exit 2; }
background=() bgfor=()
while [ "${1:-}" = --background ]; do
	if [ $# -lt 2 ] || [ "${2#*:}" = "$2" ]; then
		usage
	fi
	bgfor+=("${2%%:*}")
	background+=("${2#*:}")
	shift 2
done
[ $# -ge 1 ] || usage
top=$(cd "$(dirname "$0")/.." && pwd)
make=${MAKE:-make}
log=$(mktemp)
bgdir=$(mktemp -d)
bgpids=()
cleanup() {
	# Each job's whole process group: make, the scripts, the compilers.
	local pid
	for pid in ${bgpids[@]+"${bgpids[@]}"}; do
		kill -- "-$pid" 2>/dev/null
	done
	rm -rf "$log" "$bgdir"
}
trap cleanup EXIT
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

# Job control gives each job a process group of its own, in this
# session: a new session (setsid) would be a new autogroup, which the
# scheduler shares out equally with this one whatever the nice value.
set -m
for bg in ${background[@]+"${background[@]}"}; do
	echo "==== ci: background: make $bg (nice 19)"
	(
		# Without job control here, or make gets a process group of its own.
		set +m
		t=$(date +%s)
		NICE=19 nice -n 19 "$make" --no-print-directory -C "$top" "$bg"
		rc=$?
		echo "exit $rc after $(($(date +%s) - t)) s"
		exit $rc
	) </dev/null >"$bgdir/$bg.log" 2>&1 &
	bgpids+=($!)
done
set +m

for target in "$@"; do
	echo "==== ci: make $target ($(date +%T), load average $(cut -d' ' -f1-3 /proc/loadavg))"
	t0=$(date +%s) c0=$(cpu)
	for i in "${!bgfor[@]}"; do
		if [ "${bgfor[$i]}" = "$target" ] && kill -0 "${bgpids[$i]}" 2>/dev/null &&
			renice -n "$(nice)" -g "${bgpids[$i]}" >/dev/null 2>&1; then
			echo "==== ci: background: make ${background[$i]}, which $target waits for, now at nice $(nice)"
		fi
	done
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

for i in "${!background[@]}"; do
	bg=${background[$i]} pid=${bgpids[$i]}
	if kill -0 "$pid" 2>/dev/null; then
		echo "==== ci: background: make $bg still running; stopped"
		continue
	fi
	wait "$pid"
	rc=$?
	echo "==== ci: background: make $bg: $(tail -n 1 "$bgdir/$bg.log")"
	[ "$rc" = 0 ] || tail -n 20 "$bgdir/$bg.log"
done

echo "==== ci: summary"
printf '%s\n' "${summary[@]}"
elapsed=$(($(date +%s) - start))
printf '  total %dm%02ds, CPU %ds on %d CPUs; load average at the end %s\n' \
	$((elapsed / 60)) $((elapsed % 60)) "$(cpu)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
