#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check-dkms`: DKMS adds, builds and installs this tree against
# Debian's bookworm headers (dist/dkms-build.sh, nothing left on the
# machine), then the module *as DKMS installed it* is booted in Debian's
# kernel under QEMU with the whole test suite.
#
# Environment: KVER (default: newest installed *-amd64 headers), PH_CACHE,
# PH_BUILD (default build/ in the tree; output in $PH_BUILD/dkms).
# The last line is "check-dkms: N passed, N failed".
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
export PH_CACHE=${PH_CACHE:-$HOME/.cache/prochandle}
build=${PH_BUILD:-$top/build}/dkms
t0=$(date +%s)
say() { echo "check-dkms: $*"; }
bail() { say "$*"; say "0 passed, 1 failed"; exit 1; }

"$top/scripts/deps.sh" build guest source dist || bail "installing dependencies failed"
kver=${KVER:-$(find /usr/src -maxdepth 1 -name 'linux-headers-*-amd64' -printf '%f\n' |
	sed 's/^linux-headers-//' | sort -V | tail -n 1)}
[ -n "$kver" ] || bail "no Debian *-amd64 kernel headers installed"
mkdir -p "$build"
: >"$build/problems"

say "dkms add/build/install against $kver"
ko=$("$top/dist/dkms-build.sh" "$kver" "$build/ko") || bail "DKMS failed for $kver"
say "DKMS done ($(($(date +%s) - t0))s)"
kernel=$("$top/guest/fetch-kernel.sh" "$kver") || bail "cannot get the $kver kernel image"
"$top/dist/stage-tests.sh" "$build/stage" "$build/problems"
say "booting $kver with the DKMS-installed module ($(($(date +%s) - t0))s so far)"
"$top/dist/guest-check.sh" check-dkms "$kernel" "$ko" "$build/stage" "$build"
rc=$?
say "finished in $(($(date +%s) - t0))s"
exit $rc
