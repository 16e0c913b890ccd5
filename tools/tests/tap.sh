# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=sh
#
# The scaffolding the tests of the prochandle tool (test_*.sh beside this
# file) share; each sources it (POSIX sh; busybox ash is enough):
#
#   here=$(cd "$(dirname "$0")" && pwd)
#   . "$here/tap.sh"
#   tap_init NAME        scratch directory $T (/tmp/NAME.XXXXXX), removed on
#                        exit, when the pids listed in $bgpids are killed too
#   tap_header           "TAP version 13"; without /dev/prochandle, a skip
#                        plan and exit 4
#   begin NAME ... end   one test, "ok N NAME" or "not ok N NAME"; a check
#                        that fails calls `bad MESSAGE` in between
#   skipped NAME WHY     "ok N NAME # SKIP WHY"
#   diag TEXT...         "# TEXT"
#   tmo CMD...           CMD, killed after 60 s where timeout(1) exists
#   run ARGS...          $PH ARGS (under tmo): stdout in $T/out, stderr in
#                        $T/err, exit status in $rc
#   expect_rc RC         a check: $rc is RC (else `bad`, with the stderr)
#   spawn NAME CODE      a child of ours (pid in $spid, killed at exit),
#                        blocked until `release NAME`, then exits with CODE
#   tap_finish STYLE     the plan "1..N", a summary by STYLE, and exit:
#       plain    no summary; exit 1 when a test failed, else 0;
#       counts   "# P passed, F failed"; exit as plain;
#       totals   kselftest's "# Totals: pass:P fail:F ... skip:S ..."; exit
#                1 when a test failed, 4 (skipped) when none passed, else 0.
#
# PH is the binary under test: $PROCHANDLE, else prochandle on PATH, else
# helpers/prochandle.static beside the test.  Counters: n (tests), pass,
# fail, skip.  Not executable: the guest runs every executable in the
# tests' directory as a test.

PH=${PROCHANDLE:-$(command -v prochandle)}
# shellcheck disable=SC2154 # here: the directory of the test sourcing this
[ -n "$PH" ] || PH=$here/helpers/prochandle.static

tap_init() {
	T=$(mktemp -d "/tmp/$1.XXXXXX") || exit 1
	n=0 pass=0 fail=0 skip=0 bgpids=
	trap tap_cleanup EXIT
	trap 'exit 1' INT TERM
}

tap_cleanup() {
	# shellcheck disable=SC2086 # a list of pids
	[ -z "$bgpids" ] || kill -KILL $bgpids 2>/dev/null
	rm -rf "$T"
}

tap_header() {
	echo "TAP version 13"
	if [ ! -e /dev/prochandle ]; then
		echo "1..0 # SKIP /dev/prochandle missing (module not loaded)"
		exit 4
	fi
	diag "testing $PH"
}

diag() { echo "# $*"; }

# begin NAME ... end: one TAP test; check helpers set bad=1.
begin() { name=$1; bad=0; }
end() {
	n=$((n + 1))
	if [ "$bad" = 0 ]; then
		pass=$((pass + 1))
		echo "ok $n $name"
	else
		fail=$((fail + 1))
		echo "not ok $n $name"
	fi
}
skipped() {
	n=$((n + 1)) skip=$((skip + 1))
	echo "ok $n $1 # SKIP $2"
}
bad() { diag "$name: $*"; bad=1; }

# Bounded runs: nothing here may hang the suite.
if command -v timeout >/dev/null 2>&1; then
	tmo() { timeout 60 "$@"; }
else
	tmo() { "$@"; }
fi

run() {
	tmo "$PH" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}

expect_rc() {
	[ "$rc" = "$1" ] || bad "exit status $rc, want $1 (stderr: $(head -c 300 "$T/err"))"
}

spawn() {
	rm -f "$T/$1"
	mkfifo "$T/$1"
	# shellcheck disable=SC2016 # expanded by the inner sh
	sh -c 'read x <"$1"; exit "$2"' sh "$T/$1" "$2" </dev/null >/dev/null 2>&1 &
	spid=$!
	bgpids="$bgpids $spid"
}
# shellcheck disable=SC2016 # expanded by the inner sh
release() { tmo sh -c 'echo go >"$1"' sh "$T/$1"; }

tap_finish() {
	echo "1..$n"
	case $1 in
	plain) ;;
	counts)
		diag "$pass passed, $fail failed" ;;
	totals)
		echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
		[ "$fail" = 0 ] || exit 1
		[ "$pass" -gt 0 ] || exit 4 ;;
	*)
		diag "tap_finish: unknown style '$1'"
		exit 1 ;;
	esac
	[ "$fail" = 0 ] || exit 1
	exit 0
}
