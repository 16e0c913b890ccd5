#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check-accel`: guest/accel.sh's choice, tested without a KVM.  A fake
# device (a regular file) and guest/kvm-fake.c preloaded into the probe act
# as a KVM that works, hangs in KVM_RUN, spins there, or runs the wrong
# way; no guest is booted (a few seconds).  Last line "accel: N passed, N
# failed".
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ph-test-accel.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
gcc -O2 -Wall -Wextra -shared -fPIC -o "$tmp/kvm-fake.so" "$here/kvm-fake.c" -ldl ||
	{ echo "accel: 0 passed, 1 failed"; exit 1; }
touch "$tmp/kvm"
export PH_CACHE=$tmp/cache PH_KVM_DEV=$tmp/kvm PH_FAKE_KVM_DEV=$tmp/kvm
export PH_KVM_PROBE_TIMEOUT=2 PH_KVM_PROBE_PRELOAD=$tmp/kvm-fake.so
unset PH_ACCEL

# expect NAME WORD PATTERN MAXSECS [ACCEL.SH ARGS]: accel.sh prints WORD,
# its stderr matches PATTERN (empty: says nothing), within MAXSECS (loose
# bounds: the machine may be busy; a probe that is waited for forever is
# what they catch, and a hard 60 s stops the test then).
expect() {
	local name=$1 word=$2 pattern=$3 max=$4 got t0 secs ok=1
	shift 4
	t0=$(date +%s%N)
	got=$(timeout -k 5 60 "$here/accel.sh" "$@" 2>"$tmp/err")
	secs=$((($(date +%s%N) - t0) / 1000000000))
	[ "$got" = "$word" ] || ok=0
	if [ -z "$pattern" ]; then
		[ ! -s "$tmp/err" ] || ok=0
	else
		[ "$(wc -l <"$tmp/err")" = 1 ] && grep -qE -- "$pattern" "$tmp/err" || ok=0
	fi
	[ "$secs" -le "$max" ] || ok=0
	if [ "$ok" = 1 ]; then
		pass=$((pass + 1))
		echo "ok   $name"
	else
		fail=$((fail + 1))
		echo "FAIL $name: printed '$got' in ${secs}s (at most ${max}s), said:"
		sed 's/^/     | /' "$tmp/err"
	fi
}

for a in kvm tcg icount; do
	PH_ACCEL=$a expect "PH_ACCEL=$a forces $a" "$a" '' 10
done
PH_ACCEL=fast expect "PH_ACCEL=fast is refused" '' "not 'fast'" 10
PH_KVM_DEV=$tmp/none expect "no device: tcg" tcg "TCG.*: no $tmp/none\$" 10
PH_KVM_PROBE_PRELOAD='' expect "not a KVM device: tcg" tcg \
	"KVM cannot run a guest \(KVM_GET_API_VERSION failed" 15
PH_FAKE_KVM=hang expect "the cached verdict is used" tcg "\(cached in $tmp/cache/accel/" 10
PH_FAKE_KVM=ok expect "a working KVM: kvm" kvm '' 15 --probe
PH_FAKE_KVM=hang expect "kvm cached for this boot" kvm '' 10
PH_FAKE_KVM=hang expect "a KVM that hangs in KVM_RUN: tcg" tcg \
	"did not run a probe guest within 2s \(stuck in KVM_RUN\)" 20 --probe
PH_FAKE_KVM=spin expect "a KVM that spins in KVM_RUN: tcg" tcg \
	"did not run a probe guest within 2s \(stuck in KVM_RUN\)" 20 --probe
# 5 is KVM_EXIT_HLT.
PH_FAKE_KVM=other expect "a KVM that halts instead: tcg" tcg \
	"came back with exit reason 5, not the port write" 15 --probe
# The hung probes were killed, not left behind.
if pgrep -f "$tmp/" >/dev/null; then
	fail=$((fail + 1))
	echo "FAIL a probe was left running:"
	pgrep -af "$tmp/" | sed 's/^/     | /'
else
	pass=$((pass + 1))
	echo "ok   no probe left running"
fi
echo "accel: $pass passed, $fail failed"
[ "$fail" = 0 ]
