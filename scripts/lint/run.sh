#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make lint`: the static-analysis gates.  Every step prints its findings
# and fails on any; the last line is "lint: N passed, N failed" and the exit
# status is non-zero when a step failed.
#
#   scripts/lint/run.sh [STEP...]      default: every step, in this order
#
#   checkpatch   checkpatch.pl --strict on module/, uapi/, selftests/
#   w1           the module built with W=1: no compiler/modpost warning
#   sparse       sparse over the module (C=2)
#   kernel-doc   scripts/kernel-doc -none on the uapi header and module/
#   coccinelle   scripts/coccinelle/**/*.cocci over module/ (report mode)
#   gcc, clang   user space (lib, tools, selftests, tests, bench) built
#                with -Wall -Wextra -Werror by that compiler
#   clang-tidy   user space, configuration in .clang-tidy
#   bindings     the uapi constants and struct sizes of the Go and Python
#                bindings against the header (scripts/lint/uapi-bindings.py
#                says what is compared and what is only pending)
#   and step shellcheck: every shell script, that is *.sh and every file
#   whose first line names a shell (#!/bin/sh, #!/bin/bash, #!/usr/bin/env)
#
# Whoever adds or changes a shell script keeps the shellcheck step clean:
# fix the finding; for a false positive, put `# shellcheck disable=SCnnnn
# # why` on the line above it (shellcheck's own directive) or, in a file
# you do not own, an entry in scripts/lint/suppressions.
#
# The kernel tools come from Debian's linux-source-6.1, used in place
# (scripts/linux-source.sh); nothing is built in the source tree: the
# sources are staged into a temporary directory first.  False positives
# are listed in scripts/lint/suppressions, each with its reason.
#
# Environment: KDIR (kernel build dir, from the top Makefile), LINT_SRC
# (tree to lint, default this repository: point it at a scratch copy to
# try a gate), LINT_KEEP=1 (keep the temporary directory), LINT_JOBS.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
src=$(cd "${LINT_SRC:-$top}" && pwd)
supp=$here/suppressions
jobs=${LINT_JOBS:-$(nproc 2>/dev/null || echo 2)}
all_steps="checkpatch w1 sparse kernel-doc coccinelle gcc clang clang-tidy bindings shellcheck"

if [ -z "${KDIR:-}" ]; then
	kver=$(find /usr/src -maxdepth 1 -name 'linux-headers-*-amd64' -printf '%f\n' |
		sed 's|^linux-headers-||' | sort -V | tail -n 1)
	KDIR=/usr/src/linux-headers-$kver
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/prochandle-lint.XXXXXX")
if [ "${LINT_KEEP:-0}" = 1 ]; then
	echo "lint: keeping $work"
else
	trap 'rm -rf "$work"' EXIT
fi

# ---- helpers -------------------------------------------------------------

# Copy the sources (no build outputs) of $src into directory $1.
stage() {
	mkdir -p "$1"
	if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		(cd "$src" && git ls-files -z -co --exclude-standard |
			while IFS= read -r -d '' f; do
				[ -f "$f" ] && printf '%s\0' "$f"
			done | tar --null -T - -cf -) | tar -C "$1" -xf -
	else
		tar -C "$src" --exclude-vcs --exclude='*.o' --exclude='*.ko' \
			--exclude='.*.cmd' --exclude='*.mod' --exclude='*.mod.c' \
			--exclude='*.a' --exclude='*.so*' -cf - . | tar -C "$1" -xf -
	fi
}

# Findings come one a line as "PATH:LINE: TYPE: message".  Drop those
# scripts/lint/suppressions lists for TOOL ($1): same tool, PATH matching
# the glob, TYPE equal (or one of a comma-separated TYPE list), and, when
# the entry has a pattern, the source line PATH:LINE matching it (ERE).
# Source lines are read from directory $2.  Prints the rest; counts the
# dropped ones in $work/suppressed.
filter() {
	local tool=$1 dir=$2 line path lno type t e_tool e_glob e_type e_re
	local -a ents=()
	while IFS= read -r line; do
		case $line in '#'* | '') continue ;; esac
		ents+=("$line")
	done <"$supp"
	while IFS= read -r line; do
		path=${line%%:*}
		lno=$(sed -E 's/^[^:]*:([0-9]+):.*/\1/' <<<"$line")
		type=$(sed -E 's/^[^:]*:[0-9]+: ([^:]*):.*/\1/' <<<"$line")
		local hit=
		for e in "${ents[@]}"; do
			read -r e_tool e_glob e_type e_re <<<"$e"
			[ "$e_tool" = "$tool" ] || continue
			# shellcheck disable=SC2053 # glob match on purpose
			[[ $path == $e_glob ]] || continue
			for t in ${type//,/ }; do
				[ "$t" = "$e_type" ] && hit=y
			done
			[ -n "$hit" ] || continue
			if [ -n "$e_re" ] && [[ $lno =~ ^[0-9]+$ ]] &&
			   ! sed -n "${lno}p" "$dir/$path" 2>/dev/null | grep -Eq -- "$e_re"; then
				hit=
				continue
			fi
			break
		done
		if [ -n "$hit" ]; then
			echo "$tool $line" >>"$work/suppressed"
		else
			echo "$line"
		fi
	done
}

linux_source() {
	"$top/scripts/linux-source.sh" "$@" 2>/dev/null ||
		{ echo "lint: cannot extract linux-source" >&2; return 1; }
}

# Print the output in $1 (if any) and fail when it is not empty.
report() {
	if [ -s "$1" ]; then
		sed 's/^/  /' "$1"
		echo "  $(wc -l <"$1") finding(s)"
		return 1
	fi
	return 0
}

# ---- steps ---------------------------------------------------------------

step_checkpatch() {
	local ls tree=$work/src f out=$work/checkpatch.out
	ls=$(linux_source scripts/checkpatch.pl scripts/spelling.txt \
		scripts/const_structs.checkpatch) || return 1
	: >"$out"
	(cd "$tree" && for f in module/*.[ch] uapi/linux/*.h selftests/*.[ch]; do
		[ -f "$f" ] || continue
		perl "$ls/scripts/checkpatch.pl" --no-tree --strict --terse \
			--show-types --no-summary -f "$f"
	done) 2>"$work/checkpatch.err" | sed -E 's/^([^:]+:[0-9]+): (ERROR|WARNING|CHECK):([A-Z0-9_]+): /\1: \3: \2: /' |
		filter checkpatch "$tree" >"$out"
	# With --no-tree and no .git, the CamelCase check looks for a kernel
	# include/ to seed from and complains that there is none: harmless.
	# shellcheck disable=SC2016 # a literal $root in checkpatch's message
	grep -Ev 'Use of uninitialized value \$root in concatenation|^find: .*/include.: No such file' \
		"$work/checkpatch.err" >>"$out"
	report "$out"
}

# The module, staged once, built with W=1 (then checked by sparse).
kbuild() {
	local d=$work/kbuild
	if [ ! -d "$d" ]; then
		mkdir -p "$d"
		cp -a "$work/src/Kbuild" "$work/src/module" "$work/src/uapi" "$d/"
	fi
	[ -e "$KDIR/Makefile" ] || { echo "  no kernel build dir: KDIR=$KDIR"; return 1; }
	nice make -C "$KDIR" M="$d" W=1 "$@" modules >"$work/kbuild.log" 2>&1
}

# Build the module with make arguments $3...; the log lines matching ERE
# $2 are the findings of step $1.
kbuild_step() {
	local name=$1 re=$2 out=$work/$1.out rc
	shift 2
	kbuild "$@"
	rc=$?
	grep -E "$re" "$work/kbuild.log" | sed "s|$work/kbuild/||g" >"$out"
	if [ $rc -ne 0 ] && [ ! -s "$out" ]; then
		sed 's/^/  /' "$work/kbuild.log"
		echo "  the $name build failed"
		return 1
	fi
	report "$out"
}

# Compiler and modpost warnings.
step_w1() { kbuild_step w1 'warning:|error:|WARNING:|ERROR:' -j"$jobs"; }

step_sparse() {
	command -v sparse >/dev/null || { echo "  sparse is not installed"; return 1; }
	# Same flags as the W=1 build, so only the checker runs again.  sparse
	# prints "file:line:col: warning|error: ...".
	kbuild_step sparse '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' C=2
}

step_kernel-doc() {
	local ls out=$work/kernel-doc.out n
	local -a files
	ls=$(linux_source scripts/kernel-doc) || return 1
	cd "$work/src" || return 1
	files=(uapi/linux/*.h module/*.[ch])
	n=$(cat "${files[@]}" | grep -c '^\s*/\*\*\s*$')
	echo "  $n kernel-doc comment(s) in ${#files[@]} files"
	perl "$ls/scripts/kernel-doc" -none "${files[@]}" >"$out" 2>&1
	cd - >/dev/null || return 1
	report "$out"
}

# One semantic patch: findings (stdout) to $1.out, errors to $1.err.
cocci_one() {
	local cocci=$1 o=$2 opt
	opt=$(grep "Options:" "$cocci" | cut -d: -f2)
	# shellcheck disable=SC2086 # options are words
	nice spatch -D report --no-show-diff --very-quiet --cocci-file "$cocci" \
		$opt --dir "$work/cocci" >"$o.out" 2>"$o.err"
	echo $? >"$o.rc"
}

step_coccinelle() {
	local ls out=$work/coccinelle.out c name o ver req n=0 skipped=()
	command -v spatch >/dev/null || { echo "  spatch is not installed"; return 1; }
	ls=$(linux_source scripts/coccinelle) || return 1
	mkdir -p "$work/cocci" "$work/cocci-out"
	cp "$work/src"/module/*.[ch] "$work/cocci/"
	ver=$(spatch --version | head -n 1 | awk '{print $3}')
	for c in $(find "$ls/scripts/coccinelle" -name '*.cocci' | sort); do
		name=${c#"$ls"/scripts/coccinelle/}
		# Scripts with OCaml rules need an OCaml toolchain at run time
		# (check_bq27xxx_data, badzero): not for this module's code.
		if grep -Eq '^@ *(script|initialize|finalize):ocaml' "$c"; then
			skipped+=("$name")
			continue
		fi
		req=$(grep "Requires:" "$c" | cut -d: -f2 | tr -d ' ')
		if [ -n "$req" ] && ! printf '%s\n%s\n' "$req" "$ver" | sort -CV; then
			skipped+=("$name")
			continue
		fi
		while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
		o=$work/cocci-out/${name//\//_}
		cocci_one "$c" "$o" &
		n=$((n + 1))
	done
	wait
	echo "  $n semantic patches run, skipped (OCaml or spatch version): ${skipped[*]:-none}"
	: >"$out"
	for o in "$work"/cocci-out/*.rc; do
		o=${o%.rc}
		name=$(basename "$o" .cocci)
		# Report mode: "PATH:LINE:COL-COL: message"; type = the script.
		sed -E "s|^$work/cocci/||; s|^([^:]+:[0-9]+):[^ ]* (.*)|module/\\1: $name: \\2|" \
			"$o.out" | filter coccinelle "$work/src" >>"$out"
		# Errors (a file spatch could not parse, a crash) count too; the
		# scripts' own "should X be a metavariable?" notes do not.
		grep -Ev '^warning: line [0-9]+: should .* be a metavariable\?$' "$o.err" |
			sed "s|^|$name: spatch: |" >>"$out"
		[ "$(cat "$o.rc")" = 0 ] || echo "$name: spatch exited $(cat "$o.rc")" >>"$out"
	done
	report "$out"
}

# Filter make -w output: name files relative to the top of tree $1 (the
# Makefiles compile relative paths, and call each other).
topnames() {
	awk -v top="$1/" '
	/: Entering directory / {
		s = $0; sub(/.*: Entering directory ./, "", s); sub(/.$/, "", s)
		if (index(s, top) == 1) s = substr(s, length(top) + 1)
		dir[++n] = s; next
	}
	/: Leaving directory / { n--; next }
	n > 0 && /^[^\/ :][^: ]*:[0-9]+:/ { print dir[n] "/" $0; next }
	{ print }'
}

# User space with compiler $1, in its own copy of the tree.
userspace_build() {
	local cc=$1 d=$work/cc-$1 ksft log=$work/$1.log rc=0
	command -v "$cc" >/dev/null || { echo "  $cc is not installed"; return 1; }
	ksft=$(linux_source tools/testing/selftests/kselftest_harness.h \
		tools/testing/selftests/kselftest.h)/tools/testing/selftests || return 1
	rm -rf "$d"
	cp -a "$work/src" "$d"
	local cflags="-O2 -g -Wall -Wextra -Werror"
	: >"$log"
	# Every Makefile appends its own flags to CFLAGS from the environment.
	# tools/ would rebuild a lib/ that failed (-o: it is reported once).
	for t in "lib all tests" \
		 "tools all tests -o $d/lib/libprochandle.so -o $d/lib/libprochandle.a" \
		 "tests/faultinject all" "bench all"; do
		# shellcheck disable=SC2086 # directory, then make arguments
		set -- $t
		[ -f "$d/$1/Makefile" ] || continue
		echo "  make -C $1 CC=$cc"
		CFLAGS=$cflags nice make -k -w -s -C "$d/$1" CC="$cc" "${@:2}" 2>&1 |
			topnames "$d" >>"$log"
		[ "${PIPESTATUS[0]}" = 0 ] || rc=1
	done
	# The kselftest harness is code we use, not ours: -isystem makes it a
	# system header, so -Wextra reports only our lines (the 6.1 harness
	# itself warns under -Wextra: unused parameter, sign-compare in its
	# EXPECT_*() expansions, clobbered by its setjmp()).
	if [ -f "$d/selftests/Makefile" ]; then
		echo "  make -C selftests CC=$cc (harness as -isystem)"
		CFLAGS="$cflags -isystem $ksft" nice make -k -s -C "$d/selftests" \
			CC="$cc" KSFT_DIR="$ksft" >>"$log" 2>&1 || rc=1
	fi
	grep -E 'warning:|error:' "$log" | sed "s|$d/||g; s|$ksft/|<kselftest>/|g" \
		>"$work/$cc.out"
	if [ $rc -ne 0 ] && [ ! -s "$work/$cc.out" ]; then
		sed 's/^/  /' "$log"
		echo "  a user-space build failed"
		return 1
	fi
	report "$work/$cc.out"
}

step_gcc() { userspace_build gcc; }
step_clang() { userspace_build clang; }

step_clang-tidy() {
	local d=$work/src ksft out=$work/clang-tidy.out raw=$work/clang-tidy.raw f
	local -a files flags
	command -v clang-tidy >/dev/null || { echo "  clang-tidy is not installed"; return 1; }
	ksft=$(linux_source tools/testing/selftests/kselftest_harness.h \
		tools/testing/selftests/kselftest.h)/tools/testing/selftests || return 1
	# The flags each area's Makefile compiles with (no compile database).
	for area in lib tools selftests tests bench; do
		mapfile -t files < <(cd "$d" && find "$area" -name '*.c' 2>/dev/null | sort)
		[ ${#files[@]} -gt 0 ] || continue
		flags=(-D_GNU_SOURCE -I"$d/uapi" -I"$d/lib" -pthread)
		case $area in
		tools) flags+=(-DPROCHANDLE_VERSION='"lint"') ;;
		selftests) flags+=(-isystem "$ksft") ;;
		tests) flags=(-I"$d/uapi") ;;	# faultinject.c sets _GNU_SOURCE
		esac
		echo "  clang-tidy $area: ${#files[@]} files"
		for f in "${files[@]}"; do
			while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
			(cd "$d" && nice clang-tidy --quiet --config-file="$src/.clang-tidy" \
				"$f" -- "${flags[@]}") >"$raw.${f//\//_}" 2>&1 &
		done
	done
	wait
	cat "$raw".* >"$raw" 2>/dev/null
	# "PATH:LINE:COL: warning: message [check,...]" -> "PATH:LINE: check,...: message"
	grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error): ' "$raw" |
		sed -E "s#^$d/##; s#^([^:]+:[0-9]+):[0-9]+: (warning|error): (.*) \[([^]]+)\]\$#\\1: \\4: \\3#" |
		sort -u | filter clang-tidy "$d" >"$out"
	report "$out"
}

# go/uapi.go and python/prochandle/_uapi.py against uapi/linux/prochandle.h:
# one "ok"/"not ok" line a value, "# pending:" for what a binding lacks yet.
step_bindings() {
	local out=$work/bindings.out
	command -v go >/dev/null || "$top/scripts/deps.sh" go >&2 ||
		{ echo "  go is not installed"; return 1; }
	command -v python3 >/dev/null || { echo "  python3 is not installed"; return 1; }
	nice "$here/uapi-bindings.py" "$work/src" >"$out" 2>&1
	local rc=$?
	sed 's/^/  /' "$out"
	return $rc
}

# Every shell script (see the top of this file for what to do with a
# finding).  "PATH:LINE:COL: LEVEL: message [SCnnnn]" -> "PATH:LINE: SCnnnn: ..."
step_shellcheck() {
	local d=$work/src out=$work/shellcheck.out f
	local -a files=()
	command -v shellcheck >/dev/null || { echo "  shellcheck is not installed"; return 1; }
	while IFS= read -r -d '' f; do
		case $f in
		*.sh) files+=("$f") ;;
		*) head -n 1 "$d/$f" | grep -Eq '^#! *(/usr)?/bin/(env +)?(ba|da)?sh( |$)' &&
			files+=("$f") ;;
		esac
	done < <(cd "$d" && find . -type f -printf '%P\0' | sort -z)
	echo "  shellcheck $(shellcheck --version | sed -n 's/^version: //p'): ${#files[@]} scripts"
	[ ${#files[@]} -gt 0 ] || return 0
	(cd "$d" && shellcheck -f gcc "${files[@]}") 2>&1 |
		sed -E 's/^([^:]+:[0-9]+):[0-9]+: ([a-z]+): (.*) \[(SC[0-9]+)\]$/\1: \4: \2: \3/' |
		filter shellcheck "$d" >"$out"
	report "$out"
}

# ---- main ----------------------------------------------------------------

steps=${*:-$all_steps}
for s in $steps; do
	declare -F "step_$s" >/dev/null || { echo "lint: unknown step '$s' (steps: $all_steps)" >&2; exit 2; }
done
stage "$work/src"
# Everything the steps use from linux-source, in one pass over the archive.
linux_source scripts/checkpatch.pl scripts/spelling.txt \
	scripts/const_structs.checkpatch scripts/kernel-doc scripts/coccinelle \
	tools/testing/selftests/kselftest_harness.h \
	tools/testing/selftests/kselftest.h >/dev/null || exit 1
: >"$work/suppressed"
pass=0 fail=0 failed=()
t_all=$(date +%s)
for s in $steps; do
	echo "==== lint: $s"
	t0=$(date +%s)
	before=$(wc -l <"$work/suppressed")
	if "step_$s"; then
		pass=$((pass + 1)) verdict=ok
	else
		fail=$((fail + 1)) verdict=FAILED
		failed+=("$s")
	fi
	sup=$(($(wc -l <"$work/suppressed") - before))
	[ "$sup" -gt 0 ] && sup=", $sup suppressed" || sup=
	echo "---- lint: $s $verdict ($(($(date +%s) - t0))s$sup)"
done
echo "lint: total $(($(date +%s) - t_all))s${failed:+, failed: ${failed[*]}}"
echo "lint: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
