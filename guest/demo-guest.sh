#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In the guest, for `make demo`: prochandle at work, as a person would use
# it.  Synchronisation is by fifos and by waiting for processes, never by
# sleeping.  Exit status 0 when every step came out as expected.
set -u
T=$(mktemp -d /tmp/demo.XXXXXX) || exit 1
export T
status=0

step() { printf '\n== %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; }
expect() { [ "$1" = "$2" ] || { echo "demo: expected $3, got $1" >&2; status=1; }; }
# orphan CMD...: start CMD reparented to init (not our child); print its pid.
orphan() { sh -c '"$@" </dev/null >/dev/null 2>&1 & echo $!' sh "$@"; }
# wait_in_bg PID: `prochandle wait` in the background, returning once it
# holds its handle ("-v" says so on stderr, read through a fifo).
wait_in_bg() {
	show "prochandle wait $1 &"
	rm -f "$T/acq"
	mkfifo "$T/acq"
	exec 5<>"$T/acq"
	prochandle wait -v "$1" 2>"$T/acq" &
	waiter=$!
	read -r line <&5
	case $line in *"waiting for"*) ;; *) echo "$line" ;; esac
}

if ! command -v prochandle >/dev/null || ! command -v demo-hold >/dev/null; then
	echo "demo: the prochandle CLI or demo-hold is not installed in this guest" >&2
	exit 1
fi
echo "prochandle demo: Linux $(uname -r), $(prochandle --version)"

step "1. Look at a process that is not our child"
pid=$(orphan sleep 1000)
echo "started 'sleep 1000' as pid $pid; its parent is pid" \
	"$(awk '{print $4}' "/proc/$pid/stat") (init), not this shell"
show "prochandle info $pid"
prochandle info "$pid"

step "2. Signal it, and wait for it although we are not its parent"
wait_in_bg "$pid"
show "prochandle kill -s TERM $pid"
prochandle kill -s TERM "$pid"
wait "$waiter"
rc=$?
echo "(prochandle wait exited $rc: 128 + SIGTERM, like the shell's wait)"
expect "$rc" 143 "wait to exit 143"

step "3. See how a process ended: its exit code"
mkfifo "$T/go"
# shellcheck disable=SC2016 # expanded by the inner sh
pid=$(orphan sh -c 'read x <"$0"; exit 3' "$T/go")
echo "pid $pid will exit with code 3 when told to"
wait_in_bg "$pid"
echo go >"$T/go"
wait "$waiter"
rc=$?
echo "(prochandle wait exited $rc)"
expect "$rc" 3 "wait to exit 3"

step "4. PID reuse: an old handle never reaches the new owner of the number"
echo "In a fresh pid namespace, where we choose the numbers (ns_last_pid):"
mkfifo "$T/hold"
unshare -p -f --mount-proc sh -s <<'NS'
status=0
show() { printf '$ %s\n' "$*"; }
ticks() { awk '{print $22}' "/proc/$1/stat"; }

echo 99 >/proc/sys/kernel/ns_last_pid
sleep 1000 &
old=$!
echo "'sleep 1000' started as pid $old, start time $(ticks "$old") ticks"
show "demo-hold $old &       # a program holding a handle to pid $old"
demo-hold "$old" "$T/hold" &
holder=$!
exec 4>"$T/hold"        # opens once the holder has its handle
show "kill $old; wait $old"
kill "$old"
wait "$old" 2>/dev/null     # (no "Terminated" job notice)
echo "pid $old is gone (reaped); now we make the next process get $old again"
echo 99 >/proc/sys/kernel/ns_last_pid
sleep 1000 &
new=$!
echo "a new 'sleep 1000' started as pid $new, start time $(ticks "$new") ticks"
[ "$new" = "$old" ] || { echo "demo: pid $old was not reused" >&2; status=1; }
echo "the holder now sends SIGTERM through its old handle:"
echo TERM >&4
exec 4>&-
wait "$holder"
[ $? = 1 ] || { echo "demo: the old handle was not refused" >&2; status=1; }
show "kill -0 $new"
if kill -0 "$new"; then
	echo "pid $new, the new process, is untouched"
else
	echo "demo: pid $new was hit" >&2
	status=1
fi
echo "(the prochandle command, given a number, acquires whoever has it now:)"
show "prochandle kill -s TERM $new"
prochandle kill -s TERM "$new"
wait "$new" 2>/dev/null
echo "(it ended with status $?: 128 + SIGTERM)"
exit $status
NS
expect "$?" 0 "the pid namespace part to succeed"

step "5. A timeout kept by the kernel, whose command dies with prochandle"
show "prochandle run --timeout 1 -- sleep 100"
t0=$(cut -d. -f1 /proc/uptime)
prochandle run --timeout 1 -- sleep 100
rc=$?
echo "(exit status $rc after about $(($(cut -d. -f1 /proc/uptime) - t0)) s: 124, as timeout(1))"
expect "$rc" 124 "run --timeout to exit 124"
mkfifo "$T/runpid"
show "prochandle run --kill-on-exit -- sleep 100 &   # then SIGKILL prochandle"
# shellcheck disable=SC2016 # expanded by the inner sh
prochandle run --kill-on-exit -- sh -c 'echo $$ >"$1"; exec sleep 100' sh "$T/runpid" &
runner=$!
read -r cmdpid <"$T/runpid"
kill -KILL "$runner"
wait "$runner" 2>/dev/null
show "prochandle wait $cmdpid"
prochandle wait "$cmdpid"
rc=$?
echo "(the command, pid $cmdpid, died with prochandle although that was SIGKILLed)"
case $rc in 137|127) ;; *) expect "$rc" 137 "the command to die with prochandle" ;; esac

step "6. A whole tree: a double-forking daemon cannot escape run --tree"
echo "The command starts a daemon the classic way (fork, setsid, fork again,"
echo "the middle process exits): the daemon is init's child, in its own session."
# shellcheck disable=SC2016 # expanded by the inner sh
daemon='( setsid sh -c "echo \$\$ >\"$1\"; exec sleep 100" & ); exit 0'
mkfifo "$T/daemon"
# read_pid FIFO: what a process writes there (opening the fifo is retried:
# a SIGCHLD may interrupt it).
read_pid() {
	_p='' _i=0
	while [ -z "$_p" ] && [ $_i -lt 100 ]; do
		read -r _p 2>/dev/null <"$1"
		_i=$((_i + 1))
	done
	echo "$_p"
}
show "prochandle run --timeout 1 -- sh -c '<start a daemon>'"
prochandle run --timeout 1 -- sh -c "$daemon" sh "$T/daemon" &
runner=$!
dpid=$(read_pid "$T/daemon")
wait "$runner"
echo "(exit status $?: the command itself ended at once; the daemon, pid $dpid, still runs:)"
show "prochandle info $dpid"
prochandle info "$dpid" | grep '^state:'
kill "$dpid"
show "prochandle run --tree --timeout 1 -- sh -c '<start a daemon>'"
t0=$(cut -d. -f1 /proc/uptime)
prochandle run --tree --timeout 1 -- sh -c "$daemon" sh "$T/daemon" &
runner=$!
dpid=$(read_pid "$T/daemon")
echo "the daemon is pid $dpid; run --tree tracked it from before the command ran,"
echo "waits for it, and at the deadline sends SIGTERM to every process of the tree:"
wait "$runner"
rc=$?
echo "(exit status $rc after about $(($(cut -d. -f1 /proc/uptime) - t0)) s: 124, the deadline passed)"
expect "$rc" 124 "run --tree --timeout to exit 124"
show "prochandle wait $dpid"
prochandle wait "$dpid"
rc=$?
echo "(the daemon is gone: killed by the deadline, then reaped by init)"
case $rc in 143|127) ;; *) expect "$rc" 143 "the daemon to die of SIGTERM" ;; esac

rm -rf "$T"
if [ "$status" = 0 ]; then
	printf '\ndemo: every step behaved as expected\n'
fi
exit $status
