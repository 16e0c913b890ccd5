#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Tests of `prochandle run` and `prochandle deadline` (SPEC 11), run as
# root inside a guest with the module loaded (POSIX sh; busybox ash is
# enough): timeout(1)'s exit statuses, the signal and the escalation,
# --kill-on-exit when prochandle itself is SIGKILLed, deadlines on running
# processes.  A command that must be found running reports its pid through
# a fifo; nothing here synchronises by sleeping.
#
# TAP on stdout.  Exit 0: all passed; 4: skipped (no device); 1: failures.
# PROCHANDLE=path selects the binary (default: prochandle on PATH, else
# helpers/prochandle.static beside this script).

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/tests/tap.sh
. "$here/tap.sh"
tap_init ph-run

# Centiseconds since boot.
now_cs() {
	read -r up _ </proc/uptime
	echo "${up%.*}${up#*.}" | sed 's/^0*//;s/^$/0/'
}

tap_header

begin run_exit_status
run run -- sh -c 'exit 3'
expect_rc 3
run run -t 60 -- true
expect_rc 0
end

# The upper bound only tells "ended by the timeout" from "ran to the end":
# half the command's own length (a KCSAN guest at host load 20 took 34 s).
begin run_timeout_124
t0=$(now_cs)
run run -t 0.3 -- sleep 120
expect_rc 124
[ $(($(now_cs) - t0)) -ge 30 ] || bad "ended before the timeout"
[ $(($(now_cs) - t0)) -lt 6000 ] || bad "took $(($(now_cs) - t0)) cs"
end

begin run_signal_kill_137
run run -t 0.2 -s KILL -- sleep 30
expect_rc 137
end

# The command must have ignored TERM before the deadline fires: a 0.2 s
# deadline once beat sh's start on a loaded 6.12 guest (status 124: TERM
# killed it).  2 s leaves the start that margin; the test still fails if
# the KILL does not follow the ignored TERM.
begin run_kill_after_escalates
t0=$(now_cs)
run run -t 2 -k 0.3 -- sh -c 'trap "" TERM; sleep 30; exit 0'
expect_rc 137
[ $(($(now_cs) - t0)) -ge 230 ] || bad "SIGKILL before the grace"
end

begin run_command_not_found_127
run run -- /nonexistent/prochandle-command
expect_rc 127
grep -q "nonexistent" "$T/err" || bad "no error line"
end

begin run_not_executable_126
: >"$T/noexec"
run run -- "$T/noexec"
expect_rc 126
end

begin run_usage_125
run run -t nonsense -- true
expect_rc 125
run run
expect_rc 125
end

# run_kill_on_exit K: prochandle run [-K] whose command reports its pid;
# prochandle is then SIGKILLed.  Sets $cpid.
start_run() {
	rm -f "$T/pid"
	mkfifo "$T/pid"
	# shellcheck disable=SC2016 # expanded by the inner sh
	"$PH" run "$@" -- sh -c 'echo $$ >"$1"; exec sleep 60' sh "$T/pid" &
	phpid=$!
	bgpids="$bgpids $phpid"
	read -r cpid <"$T/pid"
	bgpids="$bgpids $cpid"
}

begin run_kill_on_exit_survives_sigkill
start_run -K
kill -KILL "$phpid"
wait "$phpid" 2>/dev/null
# The command is an orphan now: gone, or a zombie killed by SIGKILL.
run wait -t 10 "$cpid"
case $rc in
137|127) ;;
*) bad "the command outlived prochandle: wait says $rc ($(cat "$T/out" "$T/err"))" ;;
esac
end

begin run_without_kill_on_exit_lives_on
start_run -t 60
kill -KILL "$phpid"
wait "$phpid" 2>/dev/null
run wait -t 0.3 "$cpid"
expect_rc 124
kill -KILL "$cpid" 2>/dev/null
end

begin deadline_passes_124
sleep 30 &
spid=$!
bgpids="$bgpids $spid"
run deadline 0.3 "$spid"
expect_rc 124
grep -q "deadline passed" "$T/err" || bad "no line about the deadline"
wait "$spid"
st=$?
[ "$st" = 143 ] || bad "sleep ended with $st, want 143 (SIGTERM)"
end

begin deadline_not_reached_0
# A process that ends, when told, long before its deadline: told once
# prochandle's table lists its handle (fdinfo), a state, not a sleep.
mkfifo "$T/go"
sh -c 'read -r x <"$1"' sh "$T/go" &
lpid=$!
bgpids="$bgpids $lpid"
"$PH" deadline -s KILL 20 "$lpid" >"$T/out" 2>"$T/err" &
dpid=$!
i=0
until grep -qs "^handle:" /proc/"$dpid"/fdinfo/* || [ $i -ge 400 ]; do
	sleep 0.05
	i=$((i + 1))
done
[ $i -lt 400 ] || bad "prochandle deadline never acquired $lpid"
echo go >"$T/go"
wait "$dpid"
rc=$?
expect_rc 0
end

begin deadline_no_such_process_127
run deadline 1 999999
expect_rc 127
end

tap_finish counts
