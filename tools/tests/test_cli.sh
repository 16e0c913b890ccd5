#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Tests of the prochandle command-line tool, run as root inside a guest
# with the module loaded (POSIX sh; busybox ash is enough).  Checks the
# output and exit status of every command: waiting on children and on
# processes that are not, timeouts, bad pids, permission errors as an
# unprivileged user, kill by name and number, watch over many processes.
#
# Synchronisation is by fifos, never by sleeping: a target process blocks
# reading its own fifo until the test writes to it, and `prochandle -v`
# says on stderr (read through a fifo) when every pid is acquired.
#
# TAP on stdout.  Exit 0: all passed; 4: skipped (no device); 1: failures.
#
# PROCHANDLE=path selects the binary (default: prochandle on PATH, else
# helpers/prochandle.static beside this script).

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/tests/tap.sh
. "$here/tap.sh"
RUNAS=$here/helpers/ph-runas
tap_init ph-cli

# expect_file FILE TEXT: FILE holds exactly TEXT (one or more lines).
expect_file() {
	printf '%s\n' "$2" >"$T/want"
	cmp -s "$1" "$T/want" ||
		bad "$(basename "$1") is '$(head -c 300 "$1" | tr '\n' '|')', want '$(tr '\n' '|' <"$T/want")'"
}
expect_grep() {
	grep -q -e "$2" "$1" || bad "$(basename "$1") lacks '$2': '$(head -c 300 "$1" | tr '\n' '|')'"
}

# start_ph ARGS...: prochandle in the background (pid $phpid), stdout in
# $T/out, stderr through a fifo; returns once it printed "waiting for"
# (pass -v), that is, once every pid is acquired.  finish_ph collects it.
# With STREAM=1, stdout goes through a fifo too, read line by line from
# fd 6 (next_line) while prochandle runs.
start_ph() {
	rm -f "$T/ready" "$T/wout"
	mkfifo "$T/ready"
	if [ "${STREAM:-0}" = 1 ]; then
		mkfifo "$T/wout"
		"$PH" "$@" >"$T/wout" 2>"$T/ready" &
		phpid=$!
		exec 6<"$T/wout" 7<"$T/ready"
	else
		"$PH" "$@" >"$T/out" 2>"$T/ready" &
		phpid=$!
		exec 7<"$T/ready"
	fi
	# Error lines about single pids may come first; keep them.
	: >"$T/err.early"
	while IFS= read -r ready <&7; do
		case $ready in
		*"waiting for"*) return 0 ;;
		esac
		printf '%s\n' "$ready" >>"$T/err.early"
	done
	bad "prochandle not ready: '$(tr '\n' '|' <"$T/err.early")'"
	return 1
}
# -v also prints each exit record in words (test_record_cli.sh checks
# them): what these tests compare is the status before it.
no_record() {
	sed -e 's/; [0-9][0-9.]* s CPU, .*$//' \
	    -e 's/ from pid [0-9]* (uid [0-9]*)$//' \
	    -e 's/ from a process outside this pid namespace (uid [0-9]*)$//' \
	    -e 's/ (S[A-Z_]*)$//'
}
finish_ph() {
	wait "$phpid"
	rc=$?
	if [ "${STREAM:-0}" = 1 ]; then
		cat <&6 >"$T/out"
		exec 6<&-
	fi
	no_record <"$T/out" >"$T/out.status" && mv "$T/out.status" "$T/out"
	cat "$T/err.early" - <&7 >"$T/err"
	exec 7<&-
}
# next_line WANT: the next streamed stdout line is WANT.
next_line() {
	IFS= read -r line <&6 || line="(end of output)"
	line=$(printf '%s\n' "$line" | no_record)
	[ "$line" = "$1" ] || bad "got line '$line', want '$1'"
}

# Centiseconds since boot.
now_cs() {
	read -r up _ </proc/uptime
	echo "${up%.*}${up#*.}" | sed 's/^0*//;s/^$/0/'
}

# A pid that names no process.
NOPID=2147483647

tap_header

# ---- basics ---------------------------------------------------------------

begin version
run --version
expect_rc 0
grep -Eq '^prochandle [0-9]+\.[0-9]+' "$T/out" || bad "version: $(cat "$T/out")"
end

begin help
run --help
expect_rc 0
for w in 'wait' 'kill' 'watch' 'info' '124' '125' '126' '127' 'Exit status'; do
	expect_grep "$T/out" "$w"
done
end

begin usage_errors
run
expect_rc 125
run frobnicate 1
expect_rc 125
expect_grep "$T/err" "'frobnicate': unknown command"
run wait
expect_rc 125
run wait abc
expect_rc 125
expect_grep "$T/err" "^prochandle: 'abc': not a process id"
run wait 0
expect_rc 125
run wait -- -5
expect_rc 125
run wait --timeout 1x 1
expect_rc 125
expect_grep "$T/err" "'1x': not a duration"
run wait --timeout -1 1
expect_rc 125
run kill -s BOGUS 1
expect_rc 125
expect_grep "$T/err" "'BOGUS': unknown signal"
run kill -s 99999 1
expect_rc 125
run info
expect_rc 125
for op in 1@ 1@x @5 0@5 1@5@6 1@-5; do
	run wait "$op"
	expect_rc 125
	expect_grep "$T/err" "'$op': not a process id (PID or PID@START)"
done
run info --bogus 1
expect_rc 125
end

# ---- wait -----------------------------------------------------------------

begin wait_child_exit_code
spawn a 3
pa=$spid
if start_ph wait -v -t 60 "$pa"; then
	release a
	finish_ph
	expect_rc 3
	expect_file "$T/out" "$pa: exited 3"
fi
end

begin wait_exit_zero
spawn a 0
pa=$spid
if start_ph wait -v -t 60 "$pa"; then
	release a
	finish_ph
	expect_rc 0
	expect_file "$T/out" "$pa: exited 0"
fi
end

begin wait_nonchild
rm -f "$T/g"
mkfifo "$T/g"
# The middle shell exits at once: the target is reparented away from us.
gpid=$(sh -c 'sh -c "read x <\"\$1\"; exit 42" sh "$1" </dev/null >/dev/null 2>&1 & echo $!' sh "$T/g")
ppid=$(sed -n 's/^PPid:[[:space:]]*//p' "/proc/$gpid/status" 2>/dev/null)
[ -n "$ppid" ] && [ "$ppid" != "$$" ] || bad "target $gpid has parent '$ppid' (we are $$)"
if start_ph wait -v -t 60 "$gpid"; then
	release g
	finish_ph
	expect_rc 42
	expect_file "$T/out" "$gpid: exited 42"
fi
end

begin wait_killed_by_signal
sleep 1000 </dev/null >/dev/null 2>&1 &
pk=$!
bgpids="$bgpids $pk"
if start_ph wait -v -t 60 "$pk"; then
	tmo "$PH" kill -s TERM "$pk" || bad "kill failed"
	finish_ph
	expect_rc 143
	expect_file "$T/out" "$pk: killed by SIGTERM"
fi
kill -KILL "$pk" 2>/dev/null
wait "$pk" 2>/dev/null
end

begin wait_core_dumped
pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null)
rm -f "$T/c"
mkfifo "$T/c"
(cd "$T" && ulimit -c unlimited 2>/dev/null
 exec sh -c 'read x <"$1"; kill -SEGV $$' sh "$T/c") </dev/null >/dev/null 2>&1 &
pc=$!
bgpids="$bgpids $pc"
if start_ph wait -v -t 60 "$pc"; then
	release c
	finish_ph
	expect_rc 139
	if [ "$pattern" = core ] && [ "$(ulimit -H -c)" = unlimited ]; then
		expect_file "$T/out" "$pc: killed by SIGSEGV (core dumped)"
	else
		diag "core_pattern '$pattern': not requiring a core dump"
		expect_grep "$T/out" "^$pc: killed by SIGSEGV"
	fi
fi
rm -f "$T"/core*
end

begin wait_several_status_of_last
spawn a 1
pa=$spid
spawn b 2
pb=$spid
spawn c 6
pc=$spid
if STREAM=1 start_ph wait -v -t 60 "$pa" "$pb" "$pc"; then
	# Each reported as it ends, in that order; the status is the last
	# operand's, not the last to end.
	release b
	next_line "$pb: exited 2"
	release c
	next_line "$pc: exited 6"
	release a
	next_line "$pa: exited 1"
	STREAM=1 finish_ph
	expect_rc 6
	[ ! -s "$T/out" ] || bad "extra output '$(cat "$T/out")'"
else
	release a; release b; release c
fi
end

begin wait_any
spawn a 1
pa=$spid
spawn b 7
pb=$spid
spawn c 3
pc=$spid
if start_ph wait -v --any -t 60 "$pa" "$pb" "$pc"; then
	release b
	finish_ph
	expect_rc 7
	expect_file "$T/out" "$pb: exited 7"
	kill -0 "$pa" 2>/dev/null || bad "$pa ended too"
fi
release a
release c
end

begin wait_quiet
spawn a 5
pa=$spid
if start_ph wait -q -v -t 60 "$pa"; then
	release a
	finish_ph
	expect_rc 5
	[ ! -s "$T/out" ] || bad "-q printed '$(cat "$T/out")'"
fi
end

begin wait_timeout
spawn a 0
pa=$spid
t0=$(now_cs)
run wait --timeout 300ms "$pa"
t1=$(now_cs)
expect_rc 124
expect_file "$T/err" "prochandle: $pa: still running, timed out"
[ ! -s "$T/out" ] || bad "stdout '$(cat "$T/out")'"
[ $((t1 - t0)) -ge 29 ] || bad "returned after $((t1 - t0)) cs, before 300ms"
[ $((t1 - t0)) -lt 1000 ] || bad "returned after $((t1 - t0)) cs"
t0=$(now_cs)
run wait -t 1.5s "$pa"
t1=$(now_cs)
expect_rc 124
[ $((t1 - t0)) -ge 149 ] || bad "1.5s timeout returned after $((t1 - t0)) cs"
run wait -t 0 "$pa"
expect_rc 124
kill -0 "$pa" 2>/dev/null || bad "target died"
release a
end

begin wait_durations
# Long enough never to expire on a slow guest: only the parsing is tested
# here (wait_timeout checks that short ones expire on time).
for d in 30s 2m 45 10.5s 0.5m 1h 1d 90000ms 60000000us --timeout=20s; do
	spawn a 9
	pa=$spid
	case $d in
	--*) set -- "$d" ;;
	*) set -- -t "$d" ;;
	esac
	if start_ph wait -v "$@" "$pa"; then
		release a
		finish_ph
		[ "$rc" = 9 ] || bad "duration $d: exit $rc ($(cat "$T/err"))"
	fi
done
end

begin wait_no_such_process
run wait "$NOPID"
expect_rc 127
expect_file "$T/err" "prochandle: $NOPID: no such process"
# A recently used number: a child we reaped.
sh -c 'exit 0' &
dead=$!
wait "$dead"
run wait "$dead"
if [ "$rc" = 127 ]; then
	expect_file "$T/err" "prochandle: $dead: no such process"
else
	diag "pid $dead was reused already"
fi
end

begin wait_bad_pid_others_still_waited
spawn a 4
pa=$spid
if start_ph wait -v -t 60 "$NOPID" "$pa"; then
	release a
	finish_ph
	expect_rc 127
	expect_file "$T/out" "$pa: exited 4"
	expect_grep "$T/err" "^prochandle: $NOPID: no such process$"
fi
end

# ---- kill -------------------------------------------------------------------

# kill_case STATUS ARGS...: kill a fresh sleep with ARGS, expect sh's wait
# to report STATUS.  (Background jobs of a non-interactive shell ignore
# SIGINT and SIGQUIT: not usable here.)
kill_case() {
	want=$1
	shift
	sleep 1000 </dev/null >/dev/null 2>&1 &
	kp=$!
	bgpids="$bgpids $kp"
	run kill "$@" "$kp"
	[ "$rc" = 0 ] || bad "kill $*: exit $rc ($(cat "$T/err"))"
	[ ! -s "$T/out" ] && [ ! -s "$T/err" ] || bad "kill $*: printed something"
	# Whatever went wrong, never wait forever; a fatal signal that was
	# already sent decides the status.
	# (Already reaped by the shell is fine: "no such process".)
	tmo "$PH" wait -q -t 20 "$kp" 2>/dev/null || kill -KILL "$kp" 2>/dev/null
	wait "$kp" 2>/dev/null
	got=$?
	[ "$got" = "$want" ] || bad "kill $*: target status $got, want $want"
}

begin kill_names_and_numbers
kill_case 143
kill_case 137 -9
kill_case 137 -KILL
kill_case 137 -SIGKILL
kill_case 137 -s KILL
kill_case 138 -s SIGUSR1
kill_case 140 -s usr2
kill_case 143 -s 15
kill_case 129 -HUP
kill_case 137 --signal=kill
kill_case 138 -n 10
end

begin kill_probe
sleep 1000 </dev/null >/dev/null 2>&1 &
kp=$!
bgpids="$bgpids $kp"
run kill -0 "$kp"
expect_rc 0
run kill -s 0 "$kp"
expect_rc 0
kill -0 "$kp" 2>/dev/null || bad "probe killed it"
kill -KILL "$kp"
wait "$kp" 2>/dev/null
end

begin kill_list
run kill -l
expect_rc 0
expect_grep "$T/out" "^ 9 KILL$"
expect_grep "$T/out" "^15 TERM$"
expect_grep "$T/out" "RTMIN"
end

begin kill_errors
run kill "$NOPID"
expect_rc 127
expect_file "$T/err" "prochandle: $NOPID: no such process"
sleep 1000 </dev/null >/dev/null 2>&1 &
k1=$!
sleep 1000 </dev/null >/dev/null 2>&1 &
k2=$!
bgpids="$bgpids $k1 $k2"
run kill -s TERM "$k1" "$NOPID" "$k2"
expect_rc 127
expect_file "$T/err" "prochandle: $NOPID: no such process"
kill -KILL "$k1" "$k2" 2>/dev/null
wait "$k1" 2>/dev/null
[ $? = 143 ] || bad "$k1 not killed"
wait "$k2" 2>/dev/null
[ $? = 143 ] || bad "$k2 not killed"
end

# ---- permissions -------------------------------------------------------------

if [ "$(id -u)" != 0 ] || [ ! -x "$RUNAS" ]; then
	skipped permission_denied "needs root and $RUNAS"
	skipped unprivileged_own_process "needs root and $RUNAS"
else
	begin permission_denied
	spawn a 0
	pa=$spid
	for cmd in "kill" "kill -0" "wait -t 10" "info" "watch -t 10"; do
		# shellcheck disable=SC2086
		tmo "$RUNAS" 65534 "$PH" $cmd "$pa" >"$T/out" 2>"$T/err"
		rc=$?
		[ "$rc" = 126 ] || bad "$cmd as nobody: exit $rc ($(cat "$T/err"))"
		expect_file "$T/err" "prochandle: $pa: operation not permitted"
	done
	kill -0 "$pa" 2>/dev/null || bad "target died"
	release a
	end

	begin unprivileged_own_process
	# As nobody: start a process, wait for it through prochandle, kill it.
	out=$(tmo "$RUNAS" 65534 sh -c '
		sleep 1000 </dev/null >/dev/null 2>&1 &
		p=$!
		"$1" info "$p" >/dev/null || exit 10
		"$1" kill -s TERM "$p" || exit 11
		wait "$p"
		echo "status $?"' sh "$PH" 2>"$T/err")
	# stderr apart: ash may print a job notice ("Terminated") when the
	# child dies before `wait` runs.
	[ "$out" = "status 143" ] || bad "as nobody: '$out' ($(cat "$T/err"))"
	end
fi

# ---- watch ------------------------------------------------------------------

begin watch_streams_each_exit
sleep 1000 </dev/null >/dev/null 2>&1 &
wa=$!
sleep 1000 </dev/null >/dev/null 2>&1 &
wb=$!
bgpids="$bgpids $wa $wb"
if STREAM=1 start_ph watch -v -t 60 "$wa" "$wb"; then
	case $ready in *"waiting for 2 processes"*) ;; *) bad "not ready: '$ready'" ;; esac
	"$PH" kill -s TERM "$wa"
	next_line "$wa: killed by SIGTERM"
	# Printed while the other one still runs: streamed, not at the end.
	kill -0 "$wb" 2>/dev/null || bad "$wb gone before its turn"
	"$PH" kill -s USR1 "$wb"
	next_line "$wb: killed by SIGUSR1"
	STREAM=1 finish_ph
	expect_rc 0
	[ ! -s "$T/out" ] || bad "extra output '$(cat "$T/out")'"
fi
kill -KILL "$wa" "$wb" 2>/dev/null
wait "$wa" "$wb" 2>/dev/null
end

begin watch_many
many=
i=0
while [ $i -lt 100 ]; do
	sleep 1000 </dev/null >/dev/null 2>&1 &
	many="$many $!"
	i=$((i + 1))
done
bgpids="$bgpids $many"
# shellcheck disable=SC2086
if start_ph watch -v -t 120 $many; then
	case $ready in *"waiting for 100 processes"*) ;; *) bad "ready: '$ready'" ;; esac
	# shellcheck disable=SC2086
	tmo "$PH" kill $many || bad "kill of 100 failed"
	finish_ph
	expect_rc 0
	lines=$(wc -l <"$T/out")
	[ "$lines" -eq 100 ] || bad "$lines lines, want 100"
	for p in $many; do
		c=$(grep -c "^$p: killed by SIGTERM$" "$T/out")
		[ "$c" = 1 ] || { bad "$p reported $c times"; break; }
	done
fi
# shellcheck disable=SC2086
kill -KILL $many 2>/dev/null
# shellcheck disable=SC2086
wait $many 2>/dev/null
end

begin wait_many_last_status
many=
i=0
while [ $i -lt 50 ]; do
	sleep 1000 </dev/null >/dev/null 2>&1 &
	many="$many $!"
	i=$((i + 1))
done
bgpids="$bgpids $many"
last=${many##* }
# shellcheck disable=SC2086
if start_ph wait -v -t 120 $many; then
	# shellcheck disable=SC2086
	tmo "$PH" kill -s HUP $many || bad "kill of 50 failed"
	finish_ph
	lines=$(wc -l <"$T/out")
	[ "$lines" -eq 50 ] || bad "$lines lines, want 50"
	expect_rc 129
	expect_grep "$T/out" "^$last: killed by SIGHUP$"
fi
# shellcheck disable=SC2086
kill -KILL $many 2>/dev/null
# shellcheck disable=SC2086
wait $many 2>/dev/null
end

begin watch_timeout
spawn a 0
pa=$spid
run watch -t 100ms "$pa"
expect_rc 124
expect_file "$T/err" "prochandle: $pa: still running, timed out"
release a
end

# ---- info ---------------------------------------------------------------------

begin info_running
spawn a 0
pa=$spid
run info "$pa"
expect_rc 0
expect_grep "$T/out" "^pid: *$pa$"
expect_grep "$T/out" "^state: *running$"
expect_grep "$T/out" "^status: *-$"
expect_grep "$T/out" "^name: *sh$"
expect_grep "$T/out" "^start_time: *[0-9][0-9]*\.[0-9]\{9\} s after boot ([0-9][0-9]* ticks)$"
ticks=$(sed -n 's/.*) [A-Z] //p' "/proc/$pa/stat" | awk '{print $19}')
expect_grep "$T/out" "($ticks ticks)"
run info "$pa" "$$"
expect_rc 0
expect_grep "$T/out" "^pid: *$$$"
release a
end

# ticks PID: field 22 of /proc/PID/stat (comm may hold spaces).
ticks_of() { sed -n 's/.*) [A-Z] //p' "/proc/$1/stat" | awk '{print $19}'; }

begin info_identity
spawn a 0
pa=$spid
ta=$(ticks_of "$pa")
run info "$pa"
expect_rc 0
expect_grep "$T/out" "^identity: *$pa@$ta$"
run info "$pa@$ta"
expect_rc 0
expect_grep "$T/out" "^identity: *$pa@$ta$"
run info --json "$pa" "$pa@$ta"
expect_rc 0
[ "$(wc -l <"$T/out")" = 2 ] || bad "--json: want one line per process: '$(cat "$T/out")'"
expect_grep "$T/out" "^{\"pid\":$pa,\"identity\":\"$pa@$ta\",\"name\":\"sh\",\"state\":\"running\",\"status\":null,\"wait_status\":null,\"start_time_ns\":[0-9]*,\"start_ticks\":$ta,\"exit\":null}$"
release a
end

begin identity_of_another_process
# PID@START whose START is not the process's: "now names another process".
spawn a 7
pa=$spid
ta=$(ticks_of "$pa")
wrong=$((ta + 1))
for cmd in "info" "kill -s KILL" "wait -t 10" "watch -t 10"; do
	# shellcheck disable=SC2086
	run $cmd "$pa@$wrong"
	[ "$rc" = 127 ] || bad "$cmd $pa@$wrong: exit $rc ($(cat "$T/err"))"
	expect_file "$T/err" "prochandle: $pa@$wrong: no such process"
done
kill -0 "$pa" 2>/dev/null || bad "$pa was signalled through a wrong identity"
# The right identity works for every command.
run kill -0 "$pa@$ta"
expect_rc 0
if start_ph wait -v -t 60 "$pa@$ta"; then
	release a
	finish_ph
	expect_rc 7
	expect_file "$T/out" "$pa@$ta: exited 7"
fi
# Once reaped, the identity names nothing, whoever gets the number.
wait "$pa" 2>/dev/null
run info "$pa@$ta"
expect_rc 127
expect_file "$T/err" "prochandle: $pa@$ta: no such process"
end

begin info_errors
run info "$NOPID"
expect_rc 127
expect_file "$T/err" "prochandle: $NOPID: no such process"
end

# ---- no device ----------------------------------------------------------------

# A private mount namespace whose /dev lacks the device.
rc=99
if command -v unshare >/dev/null 2>&1; then
	tmo unshare -m sh -c 'mount --make-rprivate / 2>/dev/null
		mount -t tmpfs none /dev || exit 99
		exec "$1" kill -0 1' sh "$PH" >"$T/out" 2>"$T/err"
	rc=$?
fi
if [ "$rc" != 99 ]; then
	begin device_missing_message
	expect_rc 125
	expect_file "$T/err" "prochandle: /dev/prochandle: module not loaded: run 'modprobe prochandle'"
	[ -e /dev/prochandle ] || bad "our namespace lost /dev/prochandle"
	end
else
	skipped device_missing_message "cannot unshare a mount namespace"
fi

tap_finish totals
