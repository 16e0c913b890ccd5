#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Cached Debian chroots for packaging tests and the kernel matrix.
#
#   dist/chroot.sh create SUITE [PKG...]   create (once) and print its path;
#                                           install PKGs (once per set)
#   dist/chroot.sh run SUITE CMD...         run CMD inside (proc, sys, dev,
#                                           tmpfs /tmp; private mounts)
#   dist/chroot.sh path SUITE               print the path (may not exist)
#
# With PH_CHROOT_OVERLAY=DIR, `run` works on an overlay of the chroot whose
# writable layer is DIR/upper: the cached chroot stays pristine, and several
# `run`s with the same DIR see each other's changes (a "clean machine" that
# is thrown away with DIR).
#
# Chroots live in $PH_CACHE/chroot/SUITE (a pristine debootstrap --variant=
# minbase).  Nothing requires the cache to exist: it is made on first use.
# All mounts are made in a private mount namespace, so they vanish with the
# command even when it is killed, and the cache never holds a bind mount of
# the host's /dev that a later `rm -rf` could walk into.
set -euo pipefail

cache=${PH_CACHE:-$HOME/.cache/prochandle}
mirror=${PH_MIRROR:-http://deb.debian.org/debian}

die() { echo "chroot.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot)"

cmd=${1:-}; suite=${2:-}
if [ -z "$cmd" ] || [ -z "$suite" ]; then
	die "usage: $0 create|run|path SUITE ..."
fi
shift 2
case $suite in bookworm|trixie|forky|sid) ;; *) die "unknown suite $suite" ;; esac
root=$cache/chroot/$suite

# Run "$@" inside the chroot with the usual pseudo file systems.
in_chroot() {
	# shellcheck disable=SC2016 # the inner script expands its own variables
	unshare --mount --propagation private /bin/bash -euc '
		root=$1; shift
		if [ -n "${PH_CHROOT_OVERLAY:-}" ]; then
			ov=$PH_CHROOT_OVERLAY
			mkdir -p "$ov/upper" "$ov/work" "$ov/merged"
			mount -t overlay overlay \
				-o "lowerdir=$root,upperdir=$ov/upper,workdir=$ov/work" "$ov/merged"
			root=$ov/merged
		fi
		mount -t proc proc "$root/proc"
		mount -t sysfs sys "$root/sys" 2>/dev/null || true
		mount -t tmpfs -o mode=1777 tmp "$root/tmp"
		mount -t tmpfs -o mode=755 dev "$root/dev"
		for d in null zero full random urandom tty; do
			touch "$root/dev/$d"
			mount --bind "/dev/$d" "$root/dev/$d"
		done
		mkdir -p "$root/dev/pts" "$root/dev/shm"
		ln -s /proc/self/fd "$root/dev/fd"
		cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
		exec chroot "$root" /usr/bin/env -i \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
			"$@"' _ "$root" "$@"
}

# Remove directory $1 left by an interrupted debootstrap.  debootstrap
# mounts proc and sys inside its target; a debootstrap killed before it
# unmounts them (a timeout, a stopped session) used to leave them mounted,
# and `rm -rf` then walked into the host's /proc and failed.  Unmount
# everything below $1 (deepest first, lazily if busy), then remove it
# without crossing into any file system that is still mounted.
scrub() {
	local dir=$1 m
	[ -e "$dir" ] || return 0
	dir=$(realpath "$dir")
	findmnt -rn -o TARGET | grep -F "$dir/" | sort -r | while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" ||
			echo "chroot.sh: cannot unmount $m" >&2
	done
	rm -rf --one-file-system "$dir" || die "cannot remove $dir"
}

create() {
	mkdir -p "$cache/chroot"
	exec 9>"$root.lock"
	flock 9
	if [ ! -e "$root/.complete" ]; then
		echo "chroot.sh: debootstrap $suite into $root (slow, once)" >&2
		scrub "$root.tmp"
		# minbase + what every use here needs; apt-get for the rest.  In
		# a private mount namespace: the proc and sys that debootstrap
		# mounts in the target vanish with it, even when it is killed.
		nice unshare --mount --propagation private \
			debootstrap --variant=minbase --include=ca-certificates \
			"$suite" "$root.tmp" "$mirror" >"$cache/chroot/$suite.log" 2>&1 ||
			{ tail -n 20 "$cache/chroot/$suite.log" >&2; die "debootstrap $suite failed"; }
		# Packages never start services in the chroot.
		printf '#!/bin/sh\nexit 101\n' >"$root.tmp/usr/sbin/policy-rc.d"
		chmod 755 "$root.tmp/usr/sbin/policy-rc.d"
		scrub "$root"
		mv "$root.tmp" "$root"
		date -u +%FT%TZ >"$root/.complete"
	fi
	# No recommends (small images); and take over the host's view of
	# Release file dates: a mirror snapshot older than the clock would
	# otherwise be refused as expired, as it is not on the host.
	{
		printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n'
		apt-config dump 2>/dev/null | grep -E '^Acquire::Check-(Valid-Until|Date) ' || true
	} >"$root/etc/apt/apt.conf.d/90prochandle"
	if [ $# -gt 0 ]; then
		local stamp
		stamp="$root/.pkgs-$(echo "$*" | tr ' ' '\n' | sort | md5sum | cut -c1-12)"
		# Refresh package lists at most once a day.
		if [ ! -e "$stamp" ] || [ -n "$(find "$root/.complete" -mtime +0)" ]; then
			echo "chroot.sh: $suite: installing $*" >&2
			in_chroot apt-get update -qq >&2
			# INITRD=No: the kernel's hooks (initramfs-tools, dracut) skip
			# the initramfs, which takes minutes and is never booted here.
			in_chroot env INITRD=No apt-get install -y -qq "$@" >"$stamp.log" 2>&1 ||
				{ tail -n 30 "$stamp.log" >&2; die "$suite: apt-get install $* failed"; }
			touch "$stamp" "$root/.complete"
		fi
	fi
	flock -u 9
	echo "$root"
}

main() {
	case $cmd in
	path)	echo "$root" ;;
	create)	create "$@" ;;
	run)	[ -e "$root/.complete" ] || die "no chroot $suite: run '$0 create $suite' first"
		in_chroot "$@" ;;
	*)	die "unknown command $cmd" ;;
	esac
}
main "$@"; exit
