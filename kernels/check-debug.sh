#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check-debug`: the whole test suite on the debug guest kernels.
#
#   kernels/check-debug.sh [VARIANT...]      (default: debug kcsan)
#
# For each variant: build the kernel (kernels/build.sh; cached, a warm run
# builds nothing), build prochandle.ko against it (guest/build-module.sh),
# boot it under QEMU with every area's tests (guest/stage.sh, plus the
# kernel's pidfd selftests as in `make check`) and, on the debug variant,
# tests/faultinject; the guest's init then unloads the module and runs the
# kmemleak scan.  Any failed test, kernel report (KASAN, lockdep, KCSAN,
# UBSAN, debugobjects, hung task, ...) or leak fails the run.
#
# Environment: PH_CACHE, PH_BUILD (default build/ in the tree; output in
# $PH_BUILD/debug/VARIANT), PH_GUEST_TIMEOUT (whole guest, default 3000 s),
# PH_TEST_TIMEOUT (each test executable, default 900 s), PH_GUEST_MEM
# (default 1G), PH_SELFCHECK=0 skips the kernel's pidfd selftests.
#
# The last line is "check-debug: N passed, N failed".
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
export PH_CACHE=${PH_CACHE:-$HOME/.cache/prochandle}
build=${PH_BUILD:-$top/build}/debug
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(debug kcsan)
t0=$(date +%s)
total_pass=0 total_fail=0
lines=()

say() { echo "check-debug: $*"; }
since() { echo "$(($(date +%s) - t0))s"; }

mkdir -p "$build"
problems=$build/problems
: >"$problems"

if ! "$top/scripts/deps.sh" build guest source kernel; then
	say "installing dependencies failed"
	say "0 passed, 1 failed"
	exit 1
fi

# The stage (library, CLI, every area's tests) does not depend on the
# kernel: build it once.
say "staging the tests ($(since))"
stage=$build/stage
"$top/guest/stage.sh" "$stage" >>"$problems" || true
if [ "${PH_SELFCHECK:-1}" != 0 ] &&
	! "$top/guest/build-pidfd-selftests.sh" "$stage/opt/prochandle/selfcheck/pidfd"; then
	echo "build: the kernel's pidfd selftests" >>"$problems"
fi
fistage=$build/stage-faultinject
rm -rf "$fistage"
if ! make -s -C "$top/tests/faultinject" OUT="$fistage/opt/prochandle/tests/faultinject" \
	>"$build/faultinject-build.log" 2>&1; then
	cat "$build/faultinject-build.log" >&2
	echo "build: tests/faultinject" >>"$problems"
fi
sed -i 's/^FAIL  //' "$problems"

for v in "${variants[@]}"; do
	out=$build/$v
	rm -rf "$out/run"
	mkdir -p "$out"
	vproblems=$out/problems
	cp "$problems" "$vproblems"

	say "$v: kernel ($(since))"
	if ! kdir=$("$top/kernels/build.sh" "$v"); then
		echo "$v: building the kernel failed" >>"$vproblems"
	elif ! ko=$("$top/guest/build-module.sh" "$kdir" "$out/module"); then
		echo "$v: the module does not build against the $v kernel" >>"$vproblems"
	else
		stages=(-s "$stage")
		[ "$v" != debug ] || stages+=(-s "$fistage")
		say "$v: booting $kdir ($(since), kernel built in $(cat "$kdir/build-seconds" 2>/dev/null || echo ?)s)"
		rc=0
		PH_TEST_TIMEOUT=${PH_TEST_TIMEOUT:-900} PH_GUEST_MEM=${PH_GUEST_MEM:-1G} \
			"$top/guest/run.sh" -k "$kdir/arch/x86/boot/bzImage" -m "$ko" \
			"${stages[@]}" -o "$out/run" -t "${PH_GUEST_TIMEOUT:-3000}" \
			--show progress || rc=$?
		case $rc in
		0|1) ;;
		3) echo "$v: the run failed: kernel report, leak or no verdict (logs in $out/run)" >>"$vproblems" ;;
		*) echo "$v: guest/run.sh exited $rc" >>"$vproblems" ;;
		esac
		say "$v: guest took $(cat "$out/run/elapsed" 2>/dev/null || echo ?)s"
	fi

	mkdir -p "$out/run"
	touch "$out/run/payload.txt"
	report=$(awk -v problems="$vproblems" -f "$top/guest/ktap-report.awk" "$out/run/payload.txt")
	echo "== $v"
	printf '%s\n' "$report" | sed '$d'
	last=$(printf '%s\n' "$report" | tail -n 1)
	pass=$(sed -nE 's/^check: ([0-9]+) passed, ([0-9]+) failed.*/\1/p' <<<"$last")
	fail=$(sed -nE 's/^check: ([0-9]+) passed, ([0-9]+) failed.*/\2/p' <<<"$last")
	[ -n "$pass" ] || { pass=0; fail=1; }
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	lines+=("$(printf '  %-6s %-6s %4d passed %4d failed' \
		"$([ "$fail" = 0 ] && echo ok || echo FAIL)" "$v" "$pass" "$fail")")
	echo
done

say "finished in $(since); logs in $build"
printf '%s\n' "${lines[@]}"
echo "check-debug: $total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
