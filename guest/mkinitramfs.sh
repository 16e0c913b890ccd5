#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Pack a guest initramfs: busybox, the host's glibc runtime, guest/init,
# /etc/passwd (root, nobody) and the contents of one or more staging
# directories (merged in order, later ones win).
#
#   guest/mkinitramfs.sh [--epoch SECONDS] OUT.cpio.gz STAGEDIR...
#
# --epoch makes the archive a function of its contents only: every file's
# time set to SECONDS, no host inode or device numbers, no time in the gzip
# header.  The instruction-counting guest needs it (guest/run.sh --accel
# icount): the kernel's KASLR seed hashes boot_params, which holds the
# initramfs size, and unpacking a different archive runs a different
# number of instructions (bench/README.md, "Two runs").
#
# Every dynamic ELF file in the stages gets the host libraries it needs,
# and an ld.so.cache covering /usr/lib and /usr/local/lib, so programs
# installed with PREFIX=/usr run in the guest as they do on the host.
set -euo pipefail

epoch=''
if [ "${1:-}" = --epoch ]; then
	epoch=$2
	shift 2
fi
[ $# -ge 1 ] || { echo "usage: $0 [--epoch SECONDS] OUT.cpio.gz STAGEDIR..." >&2; exit 2; }
out=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
busybox=/bin/busybox
# busybox-static (the dynamic busybox package has the same path).
if [ ! -x "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
	echo "mkinitramfs.sh: $busybox is missing or not static (install busybox-static)" >&2
	exit 1
fi

root=$(mktemp -d "${TMPDIR:-/tmp}/ph-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT

# Merged-/usr layout, as on Debian.
mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib/x86_64-linux-gnu,usr/lib32,usr/libexec}
mkdir -p "$root"/{dev,proc,sys,tmp,root,etc/prochandle,opt/prochandle,var/tmp}
for d in bin sbin lib lib32 lib64; do
	case $d in
	lib64) mkdir -p "$root/usr/lib64"; ln -s usr/lib64 "$root/lib64" ;;
	*) ln -s "usr/$d" "$root/$d" ;;
	esac
done
chmod 1777 "$root/tmp" "$root/var/tmp"

for stage in "$@"; do
	[ -d "$stage" ] || { echo "mkinitramfs.sh: no stage directory $stage" >&2; exit 1; }
	cp -a "$stage/." "$root/"
done

cp "$busybox" "$root/usr/bin/busybox"
# The init runs `busybox --install -s` (which never replaces a file); it
# only needs its interpreter here.
[ -e "$root/usr/bin/sh" ] || ln -s busybox "$root/usr/bin/sh"

cp "$here/init" "$root/init"
grep -Ev '^(#|$)' "$here/splat-patterns" >"$root/etc/prochandle/splat-patterns"
cp "$here/expected-reports.awk" "$root/etc/prochandle/"
cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
PASSWD
cat >"$root/etc/group" <<'GROUP'
root:x:0:
nogroup:x:65534:
GROUP
cat >"$root/etc/ld.so.conf" <<'LDCONF'
/usr/local/lib
/usr/local/lib/x86_64-linux-gnu
/usr/lib/x86_64-linux-gnu
/usr/lib
/usr/lib32
LDCONF
echo 'PS1="guest:\w# "' >"$root/etc/profile"

# The glibc runtime (64-bit, and 32-bit when multilib is installed).
copy_lib() {
	local f=$1
	[ -e "$f" ] || return 0
	local real dst
	real=$(readlink -f "$f")
	dst=$root/usr${f#/usr}
	mkdir -p "$(dirname "$dst")"
	[ -e "$dst" ] || cp -L "$real" "$dst"
}
for f in /usr/lib/x86_64-linux-gnu/{ld-linux-x86-64.so.2,libc.so.6,libm.so.6,libpthread.so.0,libdl.so.2,librt.so.1,libresolv.so.2,libgcc_s.so.1} \
	/usr/lib32/{ld-linux.so.2,libc.so.6,libm.so.6,libpthread.so.0,libdl.so.2,librt.so.1,libgcc_s.so.1}; do
	copy_lib "$f"
done
# The program interpreters' well-known paths.
ln -sf ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$root/usr/lib64/ld-linux-x86-64.so.2"
if [ -e "$root/usr/lib32/ld-linux.so.2" ]; then
	ln -sf ../lib32/ld-linux.so.2 "$root/usr/lib/ld-linux.so.2"
fi

# Whatever else the staged programs link against, from the host.
stagelibs=$root/usr/local/lib:$root/usr/lib/x86_64-linux-gnu:$root/usr/lib:$root/usr/lib64
for d in opt usr/local usr/bin usr/sbin usr/libexec; do
	[ -d "$root/$d" ] && find "$root/$d" -type f -perm -u+x
done | while read -r elf; do
	head -c 4 "$elf" | grep -q 'ELF' || continue
	{ LD_LIBRARY_PATH=$stagelibs ldd "$elf" 2>/dev/null || true; } |
		sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p' | while read -r lib; do
		case $lib in "$root"/*) continue ;; esac
		copy_lib "$lib"
	done
done

ldconfig -r "$root" 2>/dev/null || true

mkdir -p "$(dirname "$out")"
cpio=(cpio -o -H newc --quiet -R 0:0)
gzip=(gzip -1)
if [ -n "$epoch" ]; then
	find "$root" -exec touch -h -d "@$epoch" {} +
	cpio+=(--reproducible)
	gzip+=(-n)
fi
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | "${cpio[@]}") |
	"${gzip[@]}" >"$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
