#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check-deb`: build the .debs (dist/deb.sh) and install them into a
# clean debootstrapped bookworm that has only its kernel headers: the
# package's DKMS hook must build and install the module there, the module
# must be set to load at boot, the CLI must run and the -dev package must
# build a program; purging must remove the module again.
#
#   dist/check-deb.sh DEBDIR
#   dist/check-deb.sh --prepare   only make (or find) the cached chroot
#
# The cached chroot (dist/chroot.sh) is never changed: every step runs on a
# throw-away overlay of it.  The last line is "check-deb: N passed, N failed".
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: $0 DEBDIR | --prepare" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
export PH_CACHE=${PH_CACHE:-$HOME/.cache/prochandle}
# The chroot: bookworm with only its kernel headers (and what debootstrap
# puts there).
suite=bookworm
pkgs=(linux-headers-amd64)
if [ "$1" = --prepare ]; then
	"$top/scripts/deps.sh" dist && "$top/dist/chroot.sh" create $suite "${pkgs[@]}" >/dev/null
	exit
fi
debs=$1
t0=$(date +%s)
pass=0 fail=0
say() { echo "check-deb: $*"; }
ok() { say "ok   $*"; pass=$((pass + 1)); }
ko() { say "FAIL $*"; fail=$((fail + 1)); }
finish() {
	say "finished in $(($(date +%s) - t0))s"
	say "$pass passed, $fail failed"
	[ "$fail" = 0 ]; exit
}

"$top/scripts/deps.sh" dist || { ko "installing dependencies"; finish; }
if "$top/dist/deb.sh" "$debs"; then ok "make deb (lintian: no errors)"; else ko "make deb"; finish; fi
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")

say "$suite chroot with ${pkgs[*]} ($(($(date +%s) - t0))s)"
root=$("$top/dist/chroot.sh" create $suite "${pkgs[@]}") ||
	{ ko "creating the $suite chroot"; finish; }
ov=$(mktemp -d "${TMPDIR:-/tmp}/ph-deb.XXXXXX")
trap 'rm -rf "$ov"' EXIT
export PH_CHROOT_OVERLAY=$ov
inside() { "$top/dist/chroot.sh" run $suite "$@"; }
# The .debs go into the overlay only.
inside mkdir -p /var/tmp/debs
mkdir -p "$ov/upper/var/tmp/debs"
cp "$debs"/prochandle-dkms_"$version"_all.deb "$debs"/libprochandle1_"$version"_*.deb \
	"$debs"/libprochandle-dev_"$version"_*.deb "$debs"/prochandle_"$version"_*.deb \
	"$ov/upper/var/tmp/debs/"
kver=$(find "$root/usr/src" -maxdepth 1 -name 'linux-headers-*-amd64' -printf '%f\n' |
	sed 's/^linux-headers-//' | sort -V | tail -n 1)

say "apt-get install the four packages ($(($(date +%s) - t0))s)"
if inside sh -c 'apt-get install -y /var/tmp/debs/*.deb' >"$ov/install.log" 2>&1; then
	ok "apt-get install prochandle-dkms libprochandle1 libprochandle-dev prochandle"
else
	tail -n 30 "$ov/install.log" | sed 's/^/  | /'
	ko "apt-get install"; finish
fi
grep -E 'Building initial module|Installing to|dkms-hook|^prochandle' "$ov/install.log" | sed 's/^/  | /'

if inside dkms status prochandle | tee "$ov/status" | sed 's/^/  | /' &&
	grep -q "prochandle/$version, $kver, x86_64: installed" "$ov/status"; then
	ok "the package's DKMS hook built and installed the module for $kver"
else
	ko "dkms status does not show prochandle installed for $kver"
fi
if inside sh -c "ls /lib/modules/$kver/updates/dkms/prochandle.ko* && modinfo -F vermagic prochandle -k $kver" \
	>"$ov/modinfo" 2>&1; then
	sed 's/^/  | /' "$ov/modinfo"; ok "modinfo finds the installed module"
else
	sed 's/^/  | /' "$ov/modinfo"; ko "modinfo prochandle -k $kver"
fi
if inside sh -c 'grep -qx prochandle /usr/lib/modules-load.d/prochandle.conf &&
		! test -e /etc/modules-load.d/prochandle.conf'; then
	ok "loads at boot: /usr/lib/modules-load.d/prochandle.conf"
else
	ko "modules-load.d file missing (or duplicated in /etc)"
fi
if v=$(inside prochandle --version 2>&1) && grep -qF "$version" <<<"$v"; then
	say "  | prochandle --version: $v"; ok "the CLI runs"
else
	say "  | prochandle --version: $v"; ko "prochandle --version"
fi
cat >"$ov/upper/var/tmp/use-lib.c" <<'EOC'
#include <stdio.h>
#include <prochandle.h>
int main(void) { puts(ph_strerror(0) ? "linked" : "linked"); return 0; }
EOC
# What a developer installs next to the -dev package: a compiler (without
# its recommended libc6-dev, which the -dev package must pull in) and pkgconf.
inside apt-get install -y -qq gcc pkgconf >"$ov/dev.log" 2>&1 || true
# shellcheck disable=SC2016 # $(pkg-config) runs inside the chroot
if inside sh -c 'cd /var/tmp && gcc -Wall -o use-lib use-lib.c \
		$(pkg-config --cflags --libs libprochandle 2>/dev/null || echo -lprochandle) &&
		./use-lib && ldd ./use-lib | grep -q libprochandle.so.1' >>"$ov/dev.log" 2>&1; then
	ok "libprochandle-dev: a program builds and runs against libprochandle.so.1"
else
	sed 's/^/  | /' "$ov/dev.log"; ko "building against libprochandle-dev"
fi
if inside apt-get purge -y prochandle-dkms prochandle libprochandle-dev libprochandle1 \
		>"$ov/purge.log" 2>&1 &&
	inside sh -c "! ls /lib/modules/$kver/updates/dkms/prochandle.ko* 2>/dev/null &&
		! test -e /usr/lib/modules-load.d/prochandle.conf && ! test -d /usr/src/prochandle-$version"; then
	ok "purge removes the module, the modules-load.d file and the sources"
else
	tail -n 20 "$ov/purge.log" | sed 's/^/  | /'; ko "apt-get purge"
fi
finish
