#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#
# In the guest: the Go package's tests (built with -race) and the README
# example, as TAP.  Exit 0: all passed; 4: skipped (no device); 1: failures.
here=$(cd "$(dirname "$0")" && pwd)
H=$here/helpers
T=$(mktemp -d /tmp/ph-go.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT

echo "TAP version 13"
if [ ! -e /dev/prochandle ]; then
	echo "1..0 # SKIP /dev/prochandle missing (module not loaded)"
	exit 4
fi

# go test -v: "--- PASS: TestX (0.01s)" and the like become TAP lines;
# everything else is a diagnostic.  The limits sit inside the harness's
# per-binary limit (PH_TEST_TIMEOUT: 300 s, 900 s on the debug kernels,
# where the race-enabled tests took over 200 s under load), so Go's own
# timeout reports the stuck goroutines before the harness kills us.
lim=${PH_TEST_TIMEOUT:-300}
(cd "$T" && timeout $((lim - 30)) "$H/prochandle.test" -test.v -test.count=1 \
	-test.timeout $((lim - 50))s) >"$T/log" 2>&1
rc=$?
awk '
	/^--- (PASS|FAIL|SKIP): / {
		n++
		name = $3
		if ($2 == "PASS:") print "ok " n " " name
		else if ($2 == "SKIP:") print "ok " n " " name " # SKIP"
		else { print "not ok " n " " name; bad++ }
		next
	}
	/^=== / { next }
	{ print "# " $0 }
	END { print n > "/dev/stderr" }
' "$T/log" 2>"$T/count"
n=$(cat "$T/count")
fail=0
grep -q '^--- FAIL' "$T/log" && fail=1
if [ "$rc" != 0 ] && [ "$fail" = 0 ]; then
	n=$((n + 1))
	echo "not ok $n go_test_binary # exit status $rc"
	fail=1
fi

# The README example, against a child that exits 3 when told.
n=$((n + 1))
mkfifo "$T/go"
sh -c 'read x <"$1"; exit 3' sh "$T/go" &
kid=$!
mkfifo "$T/pipe"
"$H/readme-example" "$kid" >"$T/pipe" 2>&1 &
ex=$!
# Its first line says it holds the handle: only then let the child exit.
exec 3<"$T/pipe"
IFS= read -r first <&3
echo go >"$T/go"
{ printf '%s\n' "$first"; cat <&3; } >"$T/out"
exec 3<&-
wait "$ex"
erc=$?
wait "$kid"
if [ "$erc" = 0 ] && grep -q "^$kid exit status 3$" "$T/out"; then
	echo "ok $n readme_example"
else
	sed 's/^/# /' "$T/out"
	echo "not ok $n readme_example # exit status $erc"
	fail=1
fi
echo "1..$n"
[ "$fail" = 0 ] || exit 1
exit 0
