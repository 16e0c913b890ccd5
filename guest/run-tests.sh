#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In the guest: run every test executable under /opt/prochandle/tests/<area>/
# (ours) and /opt/prochandle/selfcheck/<suite>/ (the kernel's own selftests,
# informational), in sorted order, each as root in /tmp under a time limit.
#
#   PH-TEST-BEGIN <kind>/<area>/<name>
#   ... its stdout and stderr (KTAP) ...
#   PH-TEST-END <kind>/<area>/<name> rc=<exit status> secs=<wall time>
#
# rc 124 means the time limit killed it: $PH_TEST_TIMEOUT (default 300 s)
# for tests, $PH_SELFCHECK_TIMEOUT (default 120 s) for the self-check.  A
# file NAME.args beside a test holds arguments for it.  During the
# self-check kernel.pid_max is lowered to 2048, so that the kernel's PID
# recycling test (which wants pid 1000 again) wraps around in reasonable
# time under emulation.
# Exit status: 0 when every test under tests/ exited 0 or 4 (KSFT_SKIP),
# 1 otherwise.
root=/opt/prochandle
status=0

for kind in tests selfcheck; do
	limit=${PH_TEST_TIMEOUT:-300}
	pid_max=
	if [ "$kind" = selfcheck ]; then
		limit=${PH_SELFCHECK_TIMEOUT:-120}
		pid_max=$(cat /proc/sys/kernel/pid_max)
		echo 2048 >/proc/sys/kernel/pid_max
	fi
	for exe in "$root/$kind"/*/*; do
		if [ ! -f "$exe" ] || [ ! -x "$exe" ]; then
			continue
		fi
		name=${exe#"$root"/}
		args=
		[ ! -r "$exe.args" ] || args=$(cat "$exe.args")
		echo "PH-TEST-BEGIN $name"
		t0=$(date +%s)
		# Its own session, so that on timeout its children die too.
		# shellcheck disable=SC2086 # the arguments are words
		(cd /tmp && exec setsid "$exe" $args) </dev/null 2>&1 &
		pid=$!
		(
			trap 'kill "$nap" 2>/dev/null; exit 0' TERM
			sleep "$limit" &
			nap=$!
			wait "$nap" || exit 0
			kill -KILL -- "-$pid" "$pid" 2>/dev/null
			echo "# run-tests: $name killed after ${limit}s"
		) &
		watchdog=$!
		wait "$pid"
		rc=$?
		t1=$(date +%s)
		if kill "$watchdog" 2>/dev/null; then
			wait "$watchdog" 2>/dev/null
		else
			rc=124
		fi
		echo "PH-TEST-END $name rc=$rc secs=$((t1 - t0))"
		case $rc in 0|4) ;; *) [ "$kind" = selfcheck ] || status=1 ;; esac
	done
	[ -z "$pid_max" ] || echo "$pid_max" >/proc/sys/kernel/pid_max
done
exit $status
