#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The test stage every dist/ guest run boots with, as `make check` builds
# it: guest/stage.sh (library, CLI, every area's tests) plus the kernel's
# pidfd selftests (unless PH_SELFCHECK=0).  Build failures are appended to
# PROBLEMS, one a line, and count as failed tests in the report.
#
#   dist/stage-tests.sh STAGE PROBLEMS
set -uo pipefail

[ $# -eq 2 ] || { echo "usage: $0 STAGE PROBLEMS" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
stage=$1 problems=$2
"$top/guest/stage.sh" "$stage" | sed 's/^FAIL  //' >>"$problems"
if [ "${PH_SELFCHECK:-1}" != 0 ] &&
	! "$top/guest/build-pidfd-selftests.sh" "$stage/opt/prochandle/selfcheck/pidfd"; then
	echo "build: the kernel's pidfd selftests" >>"$problems"
fi
exit 0
