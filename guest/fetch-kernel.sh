#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Download Debian's kernel image for a release and print its vmlinuz path.
#
#   guest/fetch-kernel.sh [KVER]      (default: $KVER, else the newest
#                                     installed *-amd64 headers)
#
# The package (linux-image-$KVER) is fetched with `apt-get download` and
# unpacked with `dpkg-deb -x` into $PH_CACHE/kernels/$KVER; nothing is
# installed on the host and no initramfs is generated.  A second call finds
# the cached image and downloads nothing.
set -euo pipefail

kver=${1:-${KVER:-}}
# As the top-level Makefile: the newest Debian *-amd64 headers installed.
[ -n "$kver" ] || kver=$(find /usr/src -maxdepth 1 -name 'linux-headers-*-amd64' -printf '%f\n' |
	sed 's|^linux-headers-||' | sort -V | tail -n 1)
[ -n "$kver" ] || { echo "fetch-kernel.sh: no KVER given" >&2; exit 2; }
cache=${PH_CACHE:-$HOME/.cache/prochandle}
dir=$cache/kernels/$kver
vmlinuz=$dir/boot/vmlinuz-$kver

if [ -e "$dir/.complete" ] && [ -f "$vmlinuz" ]; then
	echo "$vmlinuz"
	exit 0
fi

mkdir -p "$cache/kernels"
exec 9>"$dir.lock"
flock 9
if [ ! -e "$dir/.complete" ]; then
	tmp=$(mktemp -d "$cache/kernels/.dl.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	pkg=linux-image-$kver
	# An old package list may not know the package yet: refresh once.
	if ! apt-cache show "$pkg" >/dev/null 2>&1; then
		echo "fetch-kernel: refreshing package lists" >&2
		SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
		$SUDO apt-get update -qq >/dev/null || true
	fi
	echo "fetch-kernel: downloading $pkg" >&2
	(cd "$tmp" && apt-get download -qq -o APT::Sandbox::User="$(id -un)" "$pkg") ||
		{ echo "fetch-kernel.sh: cannot download $pkg (is it still in the archive?" \
			"install the matching linux-headers-amd64 and retry)" >&2; exit 1; }
	rm -rf "$dir"
	mkdir -p "$tmp/root"
	dpkg-deb -x "$tmp"/"$pkg"_*.deb "$tmp/root"
	[ -f "$tmp/root/boot/vmlinuz-$kver" ] ||
		{ echo "fetch-kernel.sh: $pkg has no /boot/vmlinuz-$kver" >&2; exit 1; }
	mv "$tmp/root" "$dir"
	touch "$dir/.complete"
fi
echo "$vmlinuz"
