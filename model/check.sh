#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make model`: check the Promela models of the protocols (model/*.pml)
# exhaustively with spin, require each seeded bug to be caught with a
# counter-example trail, and check the syzkaller description against the
# uapi header (dist/syzkaller/syzcheck.py).
#
#   model/check.sh [CONFIG...]      (default: every config below)
#
# Each config is NAME:EXPECT:[MODEL.pml:]SPIN-DEFINES (the model defaults to
# prochandle.pml).  EXPECT "proof" passes when pan explored the whole state
# space with no error; "bug" passes when pan found an error and left a
# trail, which is replayed (spin -t) into $out/NAME/trail.txt.  Outputs go
# to ${PH_BUILD:-build}/model.  The last line is "model: N passed, N failed".
# pan is built with -O0: it runs as fast as with -O2 here (memory bound)
# and builds in a fifth of the time; its hash table has 2^22 slots (the
# largest config stores 2M states; 2^26 slots cost 5 s to clear per run).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${PH_BUILD:-$top/build}/model
mkdir -p "$out"

configs=(
	"three-releases:proof:-DNA=3 -DROLES_RELEASE"
	"three-waits:proof:-DNA=3 -DROLES_WAIT"
	"wait-release-read:proof:-DNA=3 -DROLES_MIXED"
	"two-actors-any-call:proof:-DNA=2 -DNOPS=1 -DALL_CALLS"
	"check-then-increment:bug:-DNA=2 -DNOPS=1 -DBUG_CHECK_THEN_INC"
	"deliver-after-release:bug:-DNA=2 -DNOPS=1 -DBUG_DELIVER_RELEASED"
	"wrong-counter-frees:bug:-DNA=2 -DNOPS=1 -DBUG_WRONG_COUNTER"
	"wait-returns-early:bug:-DNA=2 -DROLES_WAIT -DBUG_WAIT_EARLY"
	"lost-wakeup:bug:-DNA=2 -DROLES_WAIT -DBUG_LOST_WAKEUP"
	"peek-release-wait:proof:-DNA=3 -DROLES_PEEK"
	"peek-without-recheck:bug:-DNA=2 -DROLES_PEEK -DBUG_PEEK_NO_RECHECK"
	"peek-after-unlock:bug:-DNA=2 -DROLES_PEEK -DBUG_PEEK_AFTER_UNLOCK"
	"exit-path-only:bug:-DNA=2 -DNOPS=1 -DBUG_NO_REST"
	"kill-on-release:proof:lifetime.pml:-DNA=2"
	"kill-on-release-tracked:proof:lifetime.pml:-DNA=2 -DTRACKED"
	"kill-by-number:bug:lifetime.pml:-DNA=2 -DBUG_KILL_BY_NUMBER"
	"kill-on-release-twice:bug:lifetime.pml:-DNA=2 -DTRACKED -DBUG_KOR_TWICE"
	"release-while-firing:bug:lifetime.pml:-DNA=2 -DBUG_NO_WAIT_FIRING"
	"track-fork:proof:track.pml:-DFAULT"
	"child-runs-first:bug:track.pml:-DBUG_CHILD_RUNS_FIRST"
	"exit-before-fork:bug:track.pml:-DBUG_EXIT_BEFORE_FORK"
	"close-snapshot:bug:track.pml:-DBUG_CLOSE_SNAPSHOT"
)
[ $# -eq 0 ] || configs=("$@")

if ! command -v spin >/dev/null; then
	"$top/scripts/deps.sh" model >&2 ||
		{ echo "model: cannot install spin"; echo "model: 0 passed, 1 failed"; exit 1; }
fi

pass=0 fail=0
result() {
	if [ "$1" = ok ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
	printf '%-5s %s\n' "$1" "$2"
}

for cfg in "${configs[@]}"; do
	name=${cfg%%:*} rest=${cfg#*:}
	expect=${rest%%:*} defines=${rest#*:} pml=prochandle.pml
	case $defines in
	*.pml:*) pml=${defines%%:*} defines=${defines#*:} ;;
	esac
	dir=$out/$name
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$top/model/$pml" "$dir/"
	# shellcheck disable=SC2086 # the defines are words
	if ! (cd "$dir" && spin $defines -a "$pml" >spin.log 2>&1 &&
		gcc -O0 -w -DSAFETY -DCOLLAPSE -o pan pan.c >>spin.log 2>&1); then
		result FAIL "$name: the model does not compile ($dir/spin.log)"
		sed 's/^/  | /' "$dir/spin.log" | tail -n 10
		continue
	fi
	t0=$(date +%s)
	(cd "$dir" && nice ./pan -m200000 -w22 >pan.out 2>&1)
	secs=$(($(date +%s) - t0))
	errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$dir/pan.out" | head -n 1)
	states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' "$dir/pan.out" | head -n 1)
	what="$name ($pml $defines): ${states:-?} states, ${secs}s"
	if [ "$expect" = proof ]; then
		if [ "${errors:-1}" = 0 ] && ! grep -q 'Search not completed\|max search depth too small' "$dir/pan.out"; then
			result ok "$what, no error"
		else
			result FAIL "$what, errors: ${errors:-?} (trail: $dir)"
			# shellcheck disable=SC2086
			(cd "$dir" && spin $defines -t -p "$pml" 2>&1 | tail -n 25 | sed 's/^/  | /')
		fi
		continue
	fi
	if [ "${errors:-0}" -gt 0 ] && [ -s "$dir/$pml.trail" ]; then
		# shellcheck disable=SC2086
		(cd "$dir" && spin $defines -t -p -g "$pml" >trail.txt 2>&1)
		why=$(sed -n 's/^pan:1: \(.*\) (at depth.*/\1/p' "$dir/pan.out" | head -n 1)
		steps=$(grep -cE '^ *[0-9]+:' "$dir/trail.txt")
		result ok "$what, caught: ${why:-error} after $steps steps ($dir/trail.txt)"
	else
		result FAIL "$what: the seeded bug was NOT caught"
	fi
done

if syz=$("$top/dist/syzkaller/syzcheck.py" 2>&1); then
	result ok "syzkaller description agrees with the uapi header ($(tail -n 1 <<<"$syz" | sed 's/^syzcheck: //'))"
else
	printf '%s\n' "$syz" | grep -v '^ok ' | sed 's/^/  | /'
	result FAIL "syzkaller description disagrees with the uapi header"
fi

echo "model: $pass passed, $fail failed"
[ "$fail" = 0 ]
