#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Tests of the --tree option of `prochandle run`, `wait`, `watch` and
# `kill` (SPEC 12), run as root inside a guest with the module loaded
# (POSIX sh; busybox ash is enough): a double-forking daemon is waited for
# and killed.  A process that must be found running reports its pid
# through a fifo; nothing here synchronises by sleeping (the sleeps are
# the workload).
#
# TAP on stdout.  Exit 0: all passed; 4: skipped (no device); 1: failures.
# PROCHANDLE=path selects the binary (default: prochandle on PATH, else
# helpers/prochandle.static beside this script).

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/tests/tap.sh
. "$here/tap.sh"
tap_init ph-tree

tap_header

# A daemon command: forks a subshell that starts "$@" in a new session
# and exits at once, so the daemon is nobody's child but init's.
# shellcheck disable=SC2016 # expanded by the inner sh
DAEMON='( setsid sh -c "echo \$\$ >\"$1\"; $2" & ); exit 0'

mkfifo "$T/d"
# read_d: the pid the daemon writes to the fifo $T/d, into $dpid (opening
# the fifo is retried: a SIGCHLD may interrupt it).
read_d() {
	dpid=
	i=0
	while [ -z "$dpid" ] && [ $i -lt 100 ]; do
		read -r dpid 2>/dev/null <"$T/d"
		i=$((i + 1))
	done
	[ -n "$dpid" ] || bad "no pid from the daemon"
}

begin run_tree_waits_for_daemon
"$PH" run --tree -- sh -c "$DAEMON" sh "$T/d" "sleep 0.3; echo done >$T/m" \
	>"$T/out" 2>"$T/err" &
phpid=$!
bgpids="$bgpids $phpid"
read_d
wait "$phpid"
rc=$?
expect_rc 0
[ -s "$T/m" ] || bad "run returned before the daemon ended"
rm -f "$T/m"
end

begin run_tree_timeout_kills_daemon
"$PH" run --tree -t 0.5 -- sh -c "$DAEMON" sh "$T/d" "exec sleep 100" \
	>"$T/out" 2>"$T/err" &
phpid=$!
bgpids="$bgpids $phpid"
read_d
bgpids="$bgpids $dpid"
wait "$phpid"
rc=$?
expect_rc 124
run wait -t 10 "$dpid"
case $rc in
143|127) ;;
*) bad "the daemon outlived the deadline: wait says $rc" ;;
esac
end

begin run_tree_kill_on_exit
"$PH" run --tree -K -- sh -c "$DAEMON" sh "$T/d" "exec sleep 100" \
	>"$T/out" 2>"$T/err" &
phpid=$!
bgpids="$bgpids $phpid"
read_d
bgpids="$bgpids $dpid"
kill -KILL "$phpid"
wait "$phpid" 2>/dev/null
run wait -t 10 "$dpid"
case $rc in
137|127) ;;
*) bad "the daemon outlived prochandle: wait says $rc" ;;
esac
end

# A process that waits for a line on $T/go, then starts the daemon.
mkfifo "$T/go"
send_go() {
	i=0
	until echo go 2>/dev/null >"$T/go" || [ $i -ge 100 ]; do
		i=$((i + 1))
	done
}
start_held() {
	sh -c 'read -r _ <"$1"; shift; sh -c "$@"' sh "$T/go" "$DAEMON" sh \
		"$T/d" "$1" &
	hpid=$!
	bgpids="$bgpids $hpid"
}

# acquired PH PID: prochandle PH holds a handle on PID (its fdinfo says so).
acquired() {
	i=0
	while [ $i -lt 100000 ]; do
		grep -qs "pid:	$2	" /proc/"$1"/fdinfo/* && return 0
		i=$((i + 1))
	done
	return 1
}

begin wait_tree_waits_for_daemon
start_held "sleep 0.3; echo done >$T/m"
"$PH" wait --tree "$hpid" >"$T/out" 2>"$T/err" &
phpid=$!
acquired "$phpid" "$hpid" || bad "not acquired"
send_go
read_d
wait "$phpid"
rc=$?
expect_rc 0
[ -s "$T/m" ] || bad "wait --tree returned before the daemon ended"
grep -q "^$hpid: exited 0" "$T/out" || bad "no line for $hpid: $(cat "$T/out")"
rm -f "$T/m"
end

begin watch_tree_lines
start_held "exec true"
"$PH" watch --tree "$hpid" >"$T/out" 2>"$T/err" &
phpid=$!
acquired "$phpid" "$hpid" || bad "not acquired"
send_go
read_d
wait "$phpid"
rc=$?
expect_rc 0
grep -q "^$hpid: forked " "$T/out" || bad "no fork line: $(cat "$T/out")"
grep -q "^$dpid: exec" "$T/out" || bad "no exec line for the daemon $dpid"
grep -q "^$dpid: exited 0" "$T/out" || bad "no exit line for the daemon"
[ "$(grep -c ': exited' "$T/out")" -ge 3 ] || bad "want 3 exits or more: $(cat "$T/out")"
end

begin kill_tree_kills_descendants
sh -c 'sleep 100 & echo $! >"$1"; sleep 100 & wait' sh "$T/d" &
spid=$!
bgpids="$bgpids $spid"
read_d
bgpids="$bgpids $dpid"
run kill --tree -s KILL "$spid"
expect_rc 0
wait "$spid"
st=$?
[ "$st" = 137 ] || bad "the parent ended with $st, want 137"
run wait -t 10 "$dpid"
case $rc in
137|127) ;;
*) bad "a child survived kill --tree: wait says $rc" ;;
esac
end

begin tree_usage
run wait --tree --any 1
expect_rc 125
end

tap_finish counts
