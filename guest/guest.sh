#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Developer entry point: build what a guest needs (module, library, CLI,
# tests) and boot one guest with it, running a command or a shell.
#
#   guest/guest.sh [--no-tests] [RUN.SH OPTIONS] [--] [COMMAND...]
#   guest/guest.sh -i                      interactive shell (make guest-shell)
#
# Without COMMAND the guest runs every staged test and prints their raw
# output; --no-tests stages only the library and CLI (faster).  See guest/run.sh --help for the options; logs are kept in
# build/guest/$KVER/dev.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
# One guest run at a time per build tree (they share its outputs).
mkdir -p "${PH_BUILD:-$top/build/guest}"
exec 8>"${PH_BUILD:-$top/build/guest}/.lock"
flock -n 8 || { echo "waiting for another guest run in this tree" >&2; flock 8; }
kernel='' module='' stage='' build=''
prepare=()
[ "${1:-}" != --no-tests ] || { prepare=(--no-tests); shift; }
vars=$("$here/prepare.sh" ${prepare[@]+"${prepare[@]}"})
eval "$vars"
if [ -s "$build/problems" ]; then
	sed 's/^/guest: warning: /' "$build/problems" >&2
fi
exec "$here/run.sh" -k "$kernel" -m "$module" -s "$stage" -o "$build/dev" "$@"
