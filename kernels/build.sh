#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or find in the cache) a guest kernel variant from Debian's
# linux-source-6.1 and print its build directory on stdout.
#
#   kernels/build.sh VARIANT        VARIANT = debug | kcsan (kernels/VARIANT.config)
#
# The kernel is `make allnoconfig` + kernels/base.config +
# kernels/VARIANT.config (scripts/kconfig/merge_config.sh -n), then
# olddefconfig; every option the fragments ask for is checked against the
# final .config and the build fails loudly if one was dropped.  It builds
# bzImage and modules_prepare + Module.symvers, so an out-of-tree module
# builds against the directory printed:
#
#   make -C "$(kernels/build.sh debug)" M=$PWD modules
#   "$dir"/arch/x86/boot/bzImage
#
# Result: $PH_CACHE/kernels/VARIANT-SRCVERSION-CONFIGHASH/ (an O= build
# tree; the source tree stays in $PH_CACHE/src).  The hash covers the
# fragments, the compiler and BUILD_REV below, so a warm run never
# rebuilds and a changed fragment never reuses a stale kernel.  An
# interrupted build resumes incrementally in the same directory.  A new
# configuration of a variant starts from a copy of that variant's newest
# build of the same source (complete or not), so Kbuild's per-option
# dependency tracking rebuilds only what the changed options touch: a
# fragment tweak costs minutes, not a cold build (PH_KERNEL_SEED=0: start
# from scratch).
#
# Environment: PH_CACHE, JOBS (default: nproc), NICE (niceness of the
# build, default 10; never lowers the caller's),
# PH_KERNEL_SEED.
set -euo pipefail

# Bump when the way a kernel is built changes (not its configuration).
BUILD_REV=1

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
cache=${PH_CACHE:-$HOME/.cache/prochandle}
jobs=${JOBS:-$(nproc)}
# NICE is the niceness the compilers run at, not an increment: under an
# already niced caller (nice make ci-cold) it stays 10 instead of 19, where
# a busy machine starves the build for hours.
nice=$((${NICE:-10} - $(nice)))
[ "$nice" -ge 0 ] || nice=0

die() { echo "kernels/build.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: kernels/build.sh VARIANT"
variant=$1
frags=("$here/base.config" "$here/$variant.config")
[ -f "${frags[1]}" ] || die "no such variant '$variant' (no kernels/$variant.config)"

srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || true)
cc=${CC:-gcc}
hash=$( { echo "rev=$BUILD_REV"; "$cc" --version | head -n 1; cat "${frags[@]}"; } |
	sha256sum | cut -c1-12)

# Warm path: nothing to install, extract or build.
if [ -n "$srcver" ]; then
	out=$cache/kernels/$variant-$srcver-$hash
	if [ -e "$out/.complete" ]; then
		echo "$out"
		exit 0
	fi
fi

"$top/scripts/deps.sh" build kernel >&2
src=$("$top/scripts/linux-source.sh")
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
out=$cache/kernels/$variant-$srcver-$hash
mkdir -p "$cache/kernels"

# One builder per variant; a second caller waits and then finds it done.
exec 9>"$out.lock"
flock 9
if [ -e "$out/.complete" ]; then
	echo "$out"
	exit 0
fi

# Seed a new configuration from the newest other build of this variant.
if [ ! -e "$out" ] && [ "${PH_KERNEL_SEED:-1}" != 0 ]; then
	# The newest by modification time; sed reads all (no SIGPIPE under
	# pipefail) and nothing found is an empty seed, not an exit.
	seed=$(find "$cache/kernels" -mindepth 1 -maxdepth 1 -type d \
		-name "$variant-$srcver-*" ! -name '*.tmp' -printf '%T@ %p\n' |
		sort -rn | sed -n '1s/^[^ ]* //p' || true)
	if [ -n "$seed" ] && [ -e "$seed/.config" ]; then
		exec 8>"$seed.lock"
		if flock -n 8; then
			echo "kernels: seeding $out from $seed" >&2
			cp -a "$seed" "$out.tmp"
			rm -f "$out.tmp/.complete" "$out.tmp/build-seconds"
			mv "$out.tmp" "$out"
		fi
		exec 8>&-
	fi
fi
mkdir -p "$out"

log=$out/build.log
echo "kernels: building '$variant' kernel in $out (log: $log)" >&2
start=$(date +%s)
{
	echo "variant=$variant source=$srcver hash=$hash jobs=$jobs"
	cd "$src"
	scripts/kconfig/merge_config.sh -n -O "$out" "${frags[@]}"
	make O="$out" olddefconfig
} >"$log" 2>&1 || { tail -n 30 "$log" >&2; die "configuring '$variant' failed"; }

# Every requested value must have survived (a dependency we missed makes
# Kconfig drop an option silently).
bad=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=*)
		grep -qxF -- "$line" "$out/.config" && continue
		got=$(grep -E "^(# )?${line%%=*}[= ]" "$out/.config" || echo "absent")
		echo "kernels: $variant: wanted '$line', got '$got'" >&2
		bad=1 ;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }; opt=${opt%% *}
		grep -qE "^$opt=" "$out/.config" || continue
		echo "kernels: $variant: wanted '$line', got '$(grep -E "^$opt=" "$out/.config")'" >&2
		bad=1 ;;
	esac
done < <(cat "${frags[@]}")
[ $bad -eq 0 ] || die "$variant: requested options did not survive olddefconfig (see above)"

# bzImage for the guest; `modules` writes Module.symvers and
# modules_prepare the rest an out-of-tree module build needs.
(cd "$src" && nice -n "$nice" make O="$out" -j"$jobs" bzImage modules modules_prepare) \
	>>"$log" 2>&1 || { tail -n 40 "$log" >&2; die "building '$variant' failed (log: $log)"; }
for f in arch/x86/boot/bzImage Module.symvers .config; do
	[ -s "$out/$f" ] || { [ "$f" = Module.symvers ] && [ -e "$out/$f" ]; } ||
		die "$variant: build produced no $f"
done

end=$(date +%s)
echo "$((end - start))" >"$out/build-seconds"
touch "$out/.complete"
echo "kernels: '$variant' kernel built in $((end - start)) s" >&2
echo "$out"
