#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Scan a guest console log for kernel reports (guest/splat-patterns) and
# print each with some context.
#
#   guest/scan-log.sh CONSOLE.LOG
#
# Exit status: 0 clean, 1 reports found (printed), 2 usage.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 CONSOLE.LOG" >&2; exit 2; }
log=$1
here=$(cd "$(dirname "$0")" && pwd)
[ -s "$log" ] || exit 0

pats=$(mktemp)
trap 'rm -f "$pats"' EXIT
grep -Ev '^(#|$)' "$here/splat-patterns" >"$pats"

# Reports a test provoked on purpose are blanked, line numbers kept.
hits=$(tr -d '\r' <"$log" | awk -f "$here/expected-reports.awk" |
	grep -n -E -f "$pats" || true)
[ -n "$hits" ] || exit 0

echo "guest: kernel report in $log:"
# From the first report on, up to 60 lines: the splat with its trace.
first=${hits%%:*}
tr -d '\r' <"$log" | tail -n +"$((first > 3 ? first - 3 : 1))" | head -n 60 | sed 's/^/  | /'
n=$(printf '%s\n' "$hits" | wc -l)
[ "$n" -le 1 ] || echo "  ($n matching lines in all)"
exit 1
