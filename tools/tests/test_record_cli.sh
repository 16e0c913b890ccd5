#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Tests of the exit record in the prochandle tool (SPEC §10): `wait -v`,
# `watch -v`, `--json` and `info` on an exited process.  Run as root in a
# guest with the module loaded (POSIX sh; busybox ash is enough).  Targets
# block on a fifo until released; `-v` says on stderr (through a fifo)
# when every pid is acquired, so nothing here sleeps to synchronise.
#
# TAP on stdout.  Exit 0: all passed; 4: skipped (no device); 1: failures.
# PROCHANDLE=path selects the binary (default: prochandle on PATH, else
# helpers/prochandle.static beside this script).
# shellcheck disable=SC2016 # the sh -c scripts expand their own arguments

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/tests/tap.sh
. "$here/tap.sh"
tap_init ph-rec

# expect_re FILE ERE: FILE has a line matching ERE.
expect_re() {
	grep -Eq -e "$2" "$1" ||
		bad "$(basename "$1") lacks /$2/: '$(head -c 400 "$1" | tr '\n' '|')'"
}

# start_ph ARGS...: prochandle in the background, stdout in $T/out; returns
# once it said on stderr that every pid is acquired.  finish_ph waits.
start_ph() {
	rm -f "$T/ready"
	mkfifo "$T/ready"
	"$PH" "$@" >"$T/out" 2>"$T/ready" &
	phpid=$!
	exec 7<"$T/ready"
	while IFS= read -r line <&7; do
		case $line in *"waiting for"*) return 0 ;; esac
	done
	bad "prochandle not ready"
	return 1
}
finish_ph() {
	wait "$phpid"
	rc=$?
	cat - <&7 >"$T/err"
	exec 7<&-
}

tap_header

# Seconds with decimals, KiB/MiB/GiB: the words of the record.
USAGE='[0-9]+\.[0-9]+ s CPU, [0-9.]+ (KiB|MiB|GiB) peak, ran [0-9]+\.[0-9]+ s$'

begin wait_v_exited
spawn a 3
pa=$spid
if start_ph wait -v -t 60 "$pa"; then
	release a
	finish_ph
	[ "$rc" = 3 ] || bad "exit status $rc"
	expect_re "$T/out" "^$pa: exited 3; $USAGE"
fi
end

begin wait_v_killed_by_us
spawn b 0
pb=$spid
if start_ph wait -v -t 60 "$pb"; then
	kill -TERM "$pb"
	finish_ph
	[ "$rc" = 143 ] || bad "exit status $rc"
	# the shell's kill builtin: this shell sent it, as root
	expect_re "$T/out" "^$pb: killed by SIGTERM from pid $$ \\(uid 0\\); $USAGE"
fi
end

begin watch_v_two
spawn c 0
pc=$spid
spawn d 5
pd=$spid
if start_ph watch -v -t 60 "$pc" "$pd"; then
	kill -USR1 "$pc"
	release d
	finish_ph
	[ "$rc" = 0 ] || bad "exit status $rc"
	expect_re "$T/out" "^$pc: killed by SIGUSR1 from pid $$ \\(uid 0\\); $USAGE"
	expect_re "$T/out" "^$pd: exited 5; $USAGE"
fi
end

begin wait_json
spawn e 0
pe=$spid
if start_ph wait --json -v -t 60 "$pe"; then
	kill -KILL "$pe"
	finish_ph
	[ "$rc" = 137 ] || bad "exit status $rc"
	[ "$(wc -l <"$T/out")" = 1 ] || bad "not one line: $(cat "$T/out")"
	expect_re "$T/out" "^\\{\"process\":\"$pe\",\"status\":\"killed by SIGKILL\",\"wait_status\":9,\"exit\":\\{\"exit_time_ns\":[0-9]+,\"run_ns\":[0-9]+,\"utime_ns\":[0-9]+,\"stime_ns\":[0-9]+,\"maxrss_kb\":[0-9]+,\"oom\":false,\"core_dumped\":false,\"killer\":\\{\"si_code\":0,\"si_code_name\":\"SI_USER\",\"pid\":$$,\"uid\":0\\}\\}\\}$"
fi
end

# A zombie: its own child, which it does not reap, has exited.
begin info_exited_record
rm -f "$T/z"
mkfifo "$T/z"
sh -c 'sh -c "exit 9" & echo $! >"$1"; exec sleep 60' sh "$T/z" </dev/null >/dev/null 2>&1 &
bgpids="$bgpids $!"
read -r pz <"$T/z"
# the zombie exists once its state says so (no notification: bounded poll)
i=0
while [ $i -lt 500 ] && ! grep -q '^State:.*Z' "/proc/$pz/status" 2>/dev/null; do
	i=$((i + 1))
	tmo sleep 0.01 2>/dev/null || :
done
run info "$pz"
expect_rc 0
expect_re "$T/out" '^status: +exited 9$'
expect_re "$T/out" '^exit_time: +[0-9]+\.[0-9]{9} s after boot \(ran [0-9]+\.[0-9]{3} s\)$'
expect_re "$T/out" '^cpu: +[0-9]+\.[0-9]{3} s user, [0-9]+\.[0-9]{3} s system$'
expect_re "$T/out" '^peak_rss: +[0-9]+ KiB$'
run info --json "$pz"
expect_re "$T/out" '"wait_status":2304,.*"exit":\{"exit_time_ns":[0-9]+,.*"killer":null\}\}$'
end

begin info_running_no_record
spawn f 0
pf=$spid
run info --json "$pf"
expect_re "$T/out" '"exit":null\}$'
run info "$pf"
grep -q '^cpu:' "$T/out" && bad "a record for a running process"
release f
end

tap_finish plain
