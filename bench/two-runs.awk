# SPDX-License-Identifier: GPL-2.0
#
# Two instruction-mode runs side by side, row by row (bench/README.md,
# "Two runs"): prochandle, baseline and ratio of each PH-ROW line of two
# phbench outputs, "(differs)" where any of them does.  The fastest-batch
# figures only; `cmp` the two files to compare everything (means, notes).
#
#   awk -f bench/two-runs.awk run1/results-icount.txt run2/results-icount.txt

function fig(ph, base, q) {
	return sprintf("%12.1f %12.1f %7.4f", ph, base, q)
}

BEGIN { FS = "\t"; n = 0 }
FNR == 1 { file++ }
$1 == "PH-ROW" && file == 1 { key[++n] = $2; one[$2] = fig($5, $6, $7) }
$1 == "PH-ROW" && file == 2 { two[$2] = fig($5, $6, $7) }
END {
	printf "%-20s %-34s | %s\n", "row", "run 1", "run 2"
	for (i = 1; i <= n; i++) {
		k = key[i]
		printf "%-20s %s | %s%s\n", k, one[k], two[k],
		       one[k] == two[k] ? "" : "  (differs)"
	}
}
