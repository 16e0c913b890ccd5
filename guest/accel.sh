#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The one accelerator choice for every guest (guest/run.sh asks here):
# print "kvm" when KVM is proven to run a guest on this machine, else "tcg"
# (QEMU's software emulation), with one line on stderr saying why.
#
#   guest/accel.sh            the verdict (probed once per boot, then cached)
#   guest/accel.sh --probe    probe again, replacing the cached verdict
#
# A writable /dev/kvm is not proof: on some machines it exists and QEMU
# then spins in the host kernel without the guest ever printing a byte.  So
# guest/kvm-probe.c is built and run: one vCPU in real mode must write a
# port within $PH_KVM_PROBE_TIMEOUT seconds (default 5); a probe still
# running then is killed and not waited for (it may be stuck in the
# kernel).  The verdict is kept in $PH_CACHE/accel/, keyed by the machine's
# boot (/proc/sys/kernel/random/boot_id) and the device, so a reboot or a
# new kernel module probes again.
#
# Environment:
#   PH_ACCEL                kvm|tcg|icount: printed as is, nothing probed
#                           (auto or empty: probe)
#   PH_CACHE                cache directory (default ~/.cache/prochandle)
#   PH_KVM_DEV              the device to probe (default /dev/kvm; tests)
#   PH_KVM_PROBE_TIMEOUT    seconds the probe may take (default 5)
#   PH_KVM_PROBE_PRELOAD    a library preloaded into the probe only (tests:
#                           guest/test-accel.sh fakes a KVM that hangs)
set -euo pipefail

case ${PH_ACCEL:-auto} in
auto) ;;
kvm|tcg|icount) echo "$PH_ACCEL"; exit 0 ;;
*) echo "accel.sh: PH_ACCEL is auto, kvm, tcg or icount, not '$PH_ACCEL'" >&2; exit 2 ;;
esac
reprobe=0
[ "${1:-}" != --probe ] || reprobe=1

here=$(cd "$(dirname "$0")" && pwd)
dev=${PH_KVM_DEV:-/dev/kvm}
limit=${PH_KVM_PROBE_TIMEOUT:-5}

# tcg REASON: the fallback, with its one line.
tcg() {
	echo "guest: using TCG (software emulation, slow): $1" >&2
	echo tcg
	exit 0
}

[ -e "$dev" ] || tcg "no $dev"
if [ ! -r "$dev" ] || [ ! -w "$dev" ]; then
	tcg "$dev is not readable and writable by $(id -un)"
fi

cache=${PH_CACHE:-$HOME/.cache/prochandle}/accel
boot=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)
verdict=$cache/$boot$(printf '%s' "$dev" | tr -c 'A-Za-z0-9\n' _)
mkdir -p "$cache"
# Parallel guest runs wait for one probe.
exec 9>"$cache/.lock"
flock 9
# A verdict file: "kvm" or "tcg", then the reason on the second line.
if [ "$reprobe" = 0 ] && [ -s "$verdict" ]; then
	{ read -r word; read -r reason || true; } <"$verdict"
	case $word in
	kvm) echo kvm; exit 0 ;;
	tcg) tcg "$reason (cached in $verdict)" ;;
	esac
fi
# Verdicts of earlier boots mean nothing now.
find "$cache" -maxdepth 1 -type f ! -name .lock ! -name "$boot*" -delete 2>/dev/null || true

# decide WORD REASON: cache the verdict and act on it.
decide() {
	printf '%s\n%s\n' "$1" "$2" >"$verdict.tmp"
	mv "$verdict.tmp" "$verdict"
	[ "$1" = kvm ] || tcg "$2"
	echo kvm
	exit 0
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ph-kvm-probe.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
if ! gcc -O2 -Wall -o "$tmp/kvm-probe" "$here/kvm-probe.c" 2>"$tmp/cc.log"; then
	# Not cached: installing the compiler fixes it.
	tcg "cannot build the KVM probe ($(head -n 1 "$tmp/cc.log"))"
fi
# In the background, so that a probe stuck in KVM_RUN cannot stop us.
LD_PRELOAD=${PH_KVM_PROBE_PRELOAD:-${LD_PRELOAD:-}} \
	"$tmp/kvm-probe" "$dev" >"$tmp/out" 2>&1 </dev/null &
pid=$!
# Not our job any more: no "Killed" notice from bash, and no waiting.
disown "$pid"
ticks=$((limit * 10))
while kill -0 "$pid" 2>/dev/null && [ "$ticks" -gt 0 ]; do
	sleep 0.1
	ticks=$((ticks - 1))
done
if kill -0 "$pid" 2>/dev/null; then
	kill -KILL "$pid" 2>/dev/null || true
	decide tcg "$dev exists but KVM did not run a probe guest within ${limit}s (stuck in $(tail -n 1 "$tmp/out"))"
fi
if [ "$(tail -n 1 "$tmp/out")" = ok ]; then
	decide kvm "the probe guest ran"
fi
decide tcg "$dev exists but KVM cannot run a guest ($(tail -n 1 "$tmp/out"))"
