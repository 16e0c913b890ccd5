#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel matrix: Debian's 6.1 (bookworm), 6.12 (trixie) and 7.2 (sid).
#
#   dist/matrix.sh check [SUITE...]   build, boot, run the whole suite
#   dist/matrix.sh build [SUITE...]   only build the module for each
#   dist/matrix.sh prepare [SUITE...] only make the chroots `build` needs
#                                     (make ci does it in the background)
#
# SUITE is bookworm, trixie or sid (default: all three).  bookworm is this
# machine: its headers and gcc-12 (guest/build-module.sh) and its kernel
# image (guest/fetch-kernel.sh).  trixie and sid each get a cached chroot
# (dist/chroot.sh) with that distribution's own gcc, linux-headers-amd64 and
# linux-image-amd64; the module is built inside it with guest/build-module.sh
# and the guest boots that distribution's /boot/vmlinuz.  Everything else
# (library, CLI, tests: static binaries) is staged once, on this machine.
#
# Environment: PH_CACHE, PH_BUILD (default build/ in the tree; output in
# $PH_BUILD/matrix/SUITE), PH_SELFCHECK=0 skips the kernel's pidfd
# selftests.  The last line is "check-matrix: N passed, N failed" (or
# check-matrix-build).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
export PH_CACHE=${PH_CACHE:-$HOME/.cache/prochandle}
mode=${1:-}
case $mode in check|build|prepare) shift ;; *) echo "usage: $0 check|build|prepare [SUITE...]" >&2; exit 2 ;; esac
name=check-matrix
[ "$mode" = check ] || name=check-matrix-$mode
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(bookworm trixie sid)
build=${PH_BUILD:-$top/build}/matrix
t0=$(date +%s)
since() { echo "$(($(date +%s) - t0))s"; }
say() { echo "$name: $*"; }
total_pass=0 total_fail=0
lines=()

groups=(build dist)
[ "$mode" = check ] && groups+=(guest source)
if ! "$top/scripts/deps.sh" "${groups[@]}"; then
	say "installing dependencies failed"
	say "0 passed, 1 failed"
	exit 1
fi
mkdir -p "$build"

# The packages each chroot needs: that distribution's compiler (pulled in
# by its headers), its headers and, to boot it, its kernel (trixie's
# headers pull it in anyway; sid's do not, which keeps a cold `build` fast).
chroot_pkgs=(make gcc libc6-dev kmod linux-headers-amd64)
[ "$mode" = check ] && chroot_pkgs+=(linux-image-amd64)

if [ "$mode" = prepare ]; then
	for suite in "${suites[@]}"; do
		[ "$suite" = bookworm ] ||
			"$top/dist/chroot.sh" create "$suite" "${chroot_pkgs[@]}" >/dev/null || exit 1
	done
	exit 0
fi

# build_suite SUITE OUT: build prochandle.ko; sets ko, kernel, kver.
build_suite() {
	local suite=$1 out=$2 root csrc
	ko='' kernel='' kver=''
	if [ "$suite" = bookworm ]; then
		kver=${KVER:-$(find /usr/src -maxdepth 1 -name 'linux-headers-*-amd64' -printf '%f\n' |
			sed 's/^linux-headers-//' | sort -V | tail -n 1)}
		[ -n "$kver" ] || { echo "$suite: no linux-headers-*-amd64 installed" >&2; return 1; }
		ko=$("$top/guest/build-module.sh" "/usr/src/linux-headers-$kver" "$out/module") || return 1
		[ "$mode" = build ] || kernel=$("$top/guest/fetch-kernel.sh" "$kver") || return 1
		return 0
	fi
	root=$("$top/dist/chroot.sh" create "$suite" "${chroot_pkgs[@]}") || return 1
	kver=$(find "$root/usr/src" -maxdepth 1 -name 'linux-headers-*-amd64' -printf '%f\n' |
		sed 's/^linux-headers-//' | sort -V | tail -n 1)
	[ -n "$kver" ] || { echo "$suite: no linux-headers-*-amd64 in the chroot" >&2; return 1; }
	# The sources and the build script go into the chroot; the build runs
	# there, with the distribution's own gcc and kbuild.
	csrc=/var/tmp/prochandle/src
	rm -rf "$root$csrc" "$root/var/tmp/prochandle/out"
	mkdir -p "$root$csrc/guest"
	(cd "$top" && tar -cf - --exclude='*.o' --exclude='.*.cmd' \
		--exclude='*.ko' --exclude='*.mod*' Kbuild dkms.conf module uapi) | tar -C "$root$csrc" -xf -
	cp "$top/guest/build-module.sh" "$root$csrc/guest/"
	"$top/dist/chroot.sh" run "$suite" "$csrc/guest/build-module.sh" \
		"/usr/src/linux-headers-$kver" /var/tmp/prochandle/out >/dev/null || return 1
	"$top/dist/chroot.sh" run "$suite" gcc --version | head -n 1 >"$out/gcc-version"
	mkdir -p "$out/module"
	cp "$root/var/tmp/prochandle/out/prochandle.ko" "$root/var/tmp/prochandle/out/build.log" "$out/module/"
	ko=$out/module/prochandle.ko
	kernel=$root/boot/vmlinuz-$kver
	[ "$mode" = build ] || [ -f "$kernel" ] ||
		{ echo "$suite: no $kernel in the chroot" >&2; return 1; }
}

stage=$build/stage
if [ "$mode" = check ]; then
	say "staging the tests ($(since))"
	: >"$build/problems"
	"$top/dist/stage-tests.sh" "$stage" "$build/problems"
fi

for suite in "${suites[@]}"; do
	out=$build/$suite
	rm -rf "$out"
	mkdir -p "$out"
	cp "$build/problems" "$out/problems" 2>/dev/null || : >"$out/problems"
	s0=$(date +%s)
	say "$suite: building the module ($(since))"
	if ! build_suite "$suite" "$out"; then
		echo "$suite: the module does not build${kver:+ against $kver}" >>"$out/problems"
		pass=0 fail=1
	elif [ "$mode" = build ]; then
		say "$suite: built for $kver ($(cat "$out/gcc-version" 2>/dev/null || gcc --version | head -n 1))"
		grep -E 'warning:|error:' "$out/module/build.log" 2>/dev/null | sed 's/^/  | /'
		pass=1 fail=0
	else
		say "$suite: booting $kver ($(since))"
		"$top/dist/guest-check.sh" "$suite" "$kernel" "$ko" "$stage" "$out" >"$out/check.log" 2>&1
		sed '/^  *\[ *[0-9]*s\]/d' "$out/check.log"
		last=$(tail -n 1 "$out/report.txt" 2>/dev/null)
		pass=$(sed -nE 's/^[^:]+: ([0-9]+) passed, ([0-9]+) failed.*/\1/p' <<<"$last")
		fail=$(sed -nE 's/^[^:]+: ([0-9]+) passed, ([0-9]+) failed.*/\2/p' <<<"$last")
		[ -n "$pass" ] || { pass=0; fail=1; }
	fi
	[ "$fail" = 0 ] || cat "$out/problems"
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	lines+=("$(printf '  %-4s %-9s %-24s %4d passed %4d failed  %4ds' \
		"$([ "$fail" = 0 ] && echo ok || echo FAIL)" "$suite" "${kver:-?}" \
		"$pass" "$fail" "$(($(date +%s) - s0))")")
done

say "finished in $(since); logs in $build"
printf '%s\n' "${lines[@]}"
echo "$name: $total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
