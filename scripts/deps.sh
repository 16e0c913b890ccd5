#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian packages a group of make targets needs, only those
# missing, without prompting.  Usage: scripts/deps.sh GROUP...
#
#   build     compilers, kernel headers, 32-bit multilib
#   guest     qemu, busybox, cpio (booting test guests)
#   source    linux-source-6.1 (kselftest harness, checkpatch, kernels)
#   kernel    what building a kernel from source needs
#   lint      sparse, coccinelle, clang, clang-tidy, cppcheck, shellcheck
#   dist      dkms, Debian packaging, debootstrap
#   model     spin (make model)
set -euo pipefail

# One variable per group, read as ${!var} below (groups added by other
# areas go here too).
# shellcheck disable=SC2034
{
pkgs_build="build-essential linux-headers-amd64 gcc-multilib pkg-config kmod"
pkgs_guest="qemu-system-x86 busybox-static cpio zstd"
pkgs_source="linux-source-6.1 xz-utils"
pkgs_kernel="flex bison bc libelf-dev libssl-dev dwarves python3 rsync"
pkgs_lint="sparse coccinelle clang clang-tidy cppcheck shellcheck"
pkgs_go="golang-go"	# go/ (the Go package and its tests)
pkgs_dist="dkms dh-dkms debhelper devscripts lintian debootstrap fakeroot man-db xz-utils"
pkgs_model="spin gcc python3"
}

missing() {
	want=()
	local group var p
	for group in "$@"; do
		var="pkgs_$group"
		[ -n "${!var+x}" ] || { echo "deps.sh: unknown group '$group'" >&2; exit 2; }
		for p in ${!var}; do
			dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
				want+=("$p")
		done
	done
}
missing "$@"
[ ${#want[@]} -eq 0 ] && exit 0

# One installer at a time: `make ci` builds the debug kernels in the
# background while the other targets run, and both may install at once
# (a second apt-get would fail on dpkg's lock).  Whoever waited looks
# again: the first may have installed what it needs.  flock works on a
# descriptor opened for reading, so a non-root caller can share the file.
lock=${TMPDIR:-/tmp}/prochandle-deps.lock
: >>"$lock" 2>/dev/null || true
exec 9<"$lock"
flock 9
missing "$@"
[ ${#want[@]} -eq 0 ] && exit 0

echo "deps: installing ${want[*]}" >&2
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# Other apt users (unattended upgrades) are waited for, not failed on.
apt=(apt-get -o DPkg::Lock::Timeout=600)
# A fresh machine has no package lists; an old list may lack the package.
$SUDO "${apt[@]}" update -qq >/dev/null || true
$SUDO "${apt[@]}" install -y -qq --no-install-recommends "${want[@]}" >/dev/null
