#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the fuzzer (tests/fuzz) in a guest.
#
#   tests/fuzz/run.sh short            `make fuzz`: a short run on Debian's
#                                      kernel (FUZZ_SECS, default 60 s)
#   tests/fuzz/run.sh long [VARIANT...] `make fuzz-long`: FUZZ_OPS (default
#                                      1000000) operations on each debug
#                                      kernel (default: debug kcsan)
#
# FUZZ_SEED fixes the seed (default: a new one, printed); FUZZ_ARGS adds
# fuzzer options (see tests/fuzz/fuzz.c).  Logs and each guest's output go
# to ${PH_BUILD:-build}/fuzz.  A run fails on an unexpected result, a
# worker that did not end cleanly, counters not back at baseline, or any
# kernel report (KASAN, lockdep, KCSAN, kmemleak, ...).  The last line is
# "fuzz: N passed, N failed".
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
mode=${1:-short}
shift || true
out=${PH_BUILD:-$top/build}/fuzz
stage=$out/stage
seed=${FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
mkdir -p "$out"
pass=0 fail=0

if ! make -s -C "$top/tests/fuzz" OUT="$stage/opt/prochandle/tests/fuzz" >"$out/build.log" 2>&1; then
	cat "$out/build.log"
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi

# judge NAME DIR RC: one guest run's verdict, with the fuzzer's summary.
judge() {
	local name=$1 dir=$2 rc=$3
	grep -E '^# (seed|[0-9]+ operations|results|  )|^(not )?ok ' "$dir/payload.txt" 2>/dev/null |
		sed "s/^/  $name: /"
	if [ "$rc" = 0 ]; then
		pass=$((pass + 1))
		echo "ok    $name (seed $seed, guest ${4:-?}s)"
	else
		fail=$((fail + 1))
		echo "FAIL  $name (seed $seed): guest/run.sh exited $rc; logs in $dir"
	fi
}

if [ "$mode" = short ]; then
	args="-s $seed -t ${FUZZ_SECS:-60} -n ${FUZZ_OPS:-1000000} -m 1024 ${FUZZ_ARGS:-}"
	rc=0
	"$top/guest/guest.sh" --no-tests -s "$stage" -o "$out/short" \
		--show none -- /opt/prochandle/tests/fuzz/fuzz "$args" || rc=$?
	judge short "$out/short" "$rc" "$(cat "$out/short/elapsed" 2>/dev/null)"
else
	variants=("$@")
	[ ${#variants[@]} -gt 0 ] || variants=(debug kcsan)
	args="-s $seed -n ${FUZZ_OPS:-1000000} -m 1024 ${FUZZ_ARGS:-}"
	"$top/scripts/deps.sh" build guest source kernel || exit 1
	for v in "${variants[@]}"; do
		rc=0
		if ! kdir=$("$top/kernels/build.sh" "$v"); then
			rc=2
		elif ! ko=$("$top/guest/build-module.sh" "$kdir" "$out/$v/module"); then
			rc=2
		else
			PH_GUEST_MEM=${PH_GUEST_MEM:-1G} "$top/guest/run.sh" \
				-k "$kdir/arch/x86/boot/bzImage" -m "$ko" -s "$stage" \
				-o "$out/$v/run" -t "${PH_GUEST_TIMEOUT:-7200}" --show none \
				-- /opt/prochandle/tests/fuzz/fuzz "$args" || rc=$?
		fi
		judge "$v" "$out/$v/run" "$rc" "$(cat "$out/$v/run/elapsed" 2>/dev/null)"
	done
fi
echo "fuzz: $pass passed, $fail failed"
[ "$fail" = 0 ]
