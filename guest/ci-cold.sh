#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make ci-cold`: the whole of CI as a fresh machine runs it.  A fresh
# clone of this tree's committed HEAD runs .ci/run (scripts/deps.sh, then
# `make ci`) with an empty PH_CACHE: the guest kernel is downloaded,
# linux-source extracted, both debug kernels built, the bookworm, trixie
# and sid chroots debootstrapped, the KVM probe run; no PH_* variable of
# the caller's environment is passed on.  Prints each target's time and
# the load average as it goes (guest/ci.sh), then the total and the load
# average over the run, sampled every 30 s.  The normal cache
# (~/.cache/prochandle) is neither read nor written.
#
#   guest/ci-cold.sh [DIR]     work in DIR (default: a new directory under
#                              /var/tmp); it holds the clone, the cache
#                              (several GB) and ci.log and load.log
#
# Environment: CI_COLD_REV (what to clone, default HEAD), CI_COLD_TARGETS
# (only these make targets, via `make ci CI_TARGETS=...`), CI_COLD_KEEP=1
# keeps DIR after a passing run (a failing one is always kept).  Ends, as
# CI does, with "N passed, N failed"; the exit status is CI's.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
rev=$(git -C "$top" rev-parse --verify "${CI_COLD_REV:-HEAD}^{commit}") || exit 2
dir=${1:-$(mktemp -d /var/tmp/prochandle-ci-cold.XXXXXX)}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if [ -e "$dir/src" ] || [ -e "$dir/cache" ]; then
	echo "ci-cold: $dir is not empty (src/ or cache/ exists)" >&2
	exit 2
fi

echo "ci-cold: $(git -C "$top" log -1 --format='%h %s' "$rev")"
echo "ci-cold: cloning into $dir/src; PH_CACHE=$dir/cache (empty)"
if ! git clone -q --no-checkout "$top" "$dir/src" ||
   ! git -C "$dir/src" checkout -q "$rev"; then
	echo "ci-cold: cloning failed"
	echo "0 passed, 1 failed"
	exit 1
fi
mkdir -p "$dir/cache"

# The load average every 30 s while CI runs.
(while :; do
	echo "$(date +%T) $(cut -d' ' -f1-3 /proc/loadavg)"
	sleep 30
done) >"$dir/load.log" &
sampler=$!
trap 'kill "$sampler" 2>/dev/null' EXIT

# A clean environment: nothing from the caller's make (MAKEFLAGS, the
# exported KVER/KDIR/PH_CACHE/VERSION) nor any PH_* setting.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES KVER KDIR VERSION
while read -r var; do unset "$var"; done < <(compgen -v PH_)
t0=$(date +%s)
if [ -n "${CI_COLD_TARGETS:-}" ]; then
	run=(make --no-print-directory ci CI_TARGETS="$CI_COLD_TARGETS")
else
	run=(bash .ci/run)
fi
(cd "$dir/src" && PH_CACHE=$dir/cache "${run[@]}") </dev/null 2>&1 | tee "$dir/ci.log"
rc=${PIPESTATUS[0]}
elapsed=$(($(date +%s) - t0))
kill "$sampler" 2>/dev/null

echo "==== ci-cold: $(git -C "$top" log -1 --format=%h "$rev"), cold cache, $(nproc) CPUs"
sed -n '/^==== ci: summary/,$p' "$dir/ci.log" | sed '1d;$d'
printf 'ci-cold: total %dm%02ds (exit %d); load average (1 min) over the run: %s\n' \
	$((elapsed / 60)) $((elapsed % 60)) "$rc" \
	"$(awk '{ s += $2; if (min == "" || $2 < min) min = $2; if ($2 > max) max = $2; n++ }
		END { if (n) printf "min %.1f, mean %.1f, max %.1f (%d samples)", min, s / n, max, n }' \
		"$dir/load.log")"
last=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$dir/ci.log" | tail -n 1)
[ -n "$last" ] || last="0 passed, 1 failed"
if [ "$rc" = 0 ] && [ "${CI_COLD_KEEP:-0}" != 1 ]; then
	rm -rf "$dir"
	echo "ci-cold: removed $dir"
else
	echo "ci-cold: kept $dir (ci.log, load.log, cache/, src/)"
fi
echo "$last"
exit "$rc"
