# SPDX-License-Identifier: GPL-2.0
#
# Merge the PH-ROW lines of phbench runs (bench/phbench.c, print_table())
# into one table: each row with its figures in instruction mode and in time
# mode side by side, the target, and the verdict.  Targets are judged on
# instructions; a row measured only in time mode (it needs two CPUs) is
# judged on time, marked "(time)".  Instruction figures of the per-call and
# event rows are the fastest batch or event; "means" is the ratio of the
# means beside it (deferred work included).  Two runs of one build are
# identical; from one build to another the fastest batch stays put where
# the means and single events can move (bench/README.md, "Two runs").
#
#   awk -f bench/table.awk [-v head=TEXT] results-icount.txt results-time.txt

function fmt(unit, mode, v) {
	if (v == "nan" || v == "-nan" || v == "") return "-"
	if (unit == "B") return sprintf("%.1f B", v)
	if (unit == "calls") return sprintf("%d", v)
	if (unit == "x") return sprintf("x%.2f", v)
	if (mode == "icount" && v < 100000) return sprintf("%.1f", v)
	if (mode == "icount") return sprintf("%d", v + 0.5)
	if (v >= 100000) return sprintf("%.0f us", v / 1000)
	if (v >= 10000) return sprintf("%.1f us", v / 1000)
	return sprintf("%.2f us", v / 1000)
}

function ratio(v) {
	return (v == "nan" || v == "-nan" || v == "") ? "-" : sprintf("%.3f", v)
}

BEGIN { FS = "\t"; n = 0 }

/^prochandle bench \(/ {
	k = $0
	sub(/.*kernel /, "", k)
	sub(/,.*/, "", k)
	kernel = k
}

$1 == "PH-ROW" {
	key = $2; mode = $3
	if (!(key in seen)) { seen[key] = 1; order[++n] = key }
	name[key] = $10; unit[key] = $4; target[key] = $8
	ph[key, mode] = fmt($4, mode, $5)
	base[key, mode] = fmt($4, mode, $6)
	q[key, mode] = ratio($7)
	verdict[key, mode] = $9
	mq[key, mode] = ($11 == "" || $11 == "nan" || $11 == "-nan" || $12 + 0 == 0) ? "-" : sprintf("%.3f", $11 / $12)
	got[key, mode] = 1
}

END {
	if (!n) { print "table.awk: no PH-ROW lines" > "/dev/stderr"; exit 1 }
	if (head != "") print head
	printf "guest kernel %s; figures: instructions (QEMU -icount: the verdict;\n", kernel
	printf "per-call and event rows: the fastest batch, the same on every run and\n"
	printf "host; \"means\": ratio of the means, deferred work included) and time\n"
	printf "(noisy, indicative only)\n\n"
	printf "%-46s | %-38s | %-30s | %-9s %s\n", "", "instructions (judged)",
	       "time (noisy)", "", ""
	printf "%-46s | %10s %10s %7s %7s  | %10s %10s %7s  | %-9s %s\n", "row",
	       "prochandle", "baseline", "ratio", "means", "prochandle", "baseline",
	       "ratio", "target", "verdict"
	for (i = 1; i <= n; i++) {
		key = order[i]
		v = ""
		if (got[key, "icount"] && verdict[key, "icount"] != "skip")
			v = verdict[key, "icount"]
		else if (got[key, "time"] && verdict[key, "time"] != "skip" &&
			 verdict[key, "time"] != "-")
			v = verdict[key, "time"] " (time)"
		else if (got[key, "icount"] || got[key, "time"])
			v = got[key, "icount"] ? verdict[key, "icount"] : verdict[key, "time"]
		printf "%-46s | %10s %10s %7s %7s  | %10s %10s %7s  | %-9s %s\n",
		       name[key],
		       got[key, "icount"] ? ph[key, "icount"] : "",
		       got[key, "icount"] ? base[key, "icount"] : "",
		       got[key, "icount"] ? q[key, "icount"] : "",
		       got[key, "icount"] ? mq[key, "icount"] : "",
		       got[key, "time"] ? ph[key, "time"] : "",
		       got[key, "time"] ? base[key, "time"] : "",
		       got[key, "time"] ? q[key, "time"] : "",
		       target[key], v
	}
}
