#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`: boot a guest with the module, the library and the prochandle
# CLI installed, and run guest/demo-guest.sh in it: a process that is not
# our child looked at, signalled and waited for, an exit code, and the
# PID-reuse case.
#
#   guest/demo.sh
#
# Environment: as guest/prepare.sh.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
echo "demo: building the module, library and CLI and booting a guest (about a minute)"
echo
exec "$here/guest.sh" --no-tests --out "${PH_BUILD:-$here/../build/guest}/demo" \
	--timeout 600 --show payload /usr/libexec/prochandle/demo
