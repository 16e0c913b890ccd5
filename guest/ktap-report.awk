# SPDX-License-Identifier: GPL-2.0
#
# Summarise a guest test run: the payload output of guest/run-tests.sh
# (PH-TEST-BEGIN/END around each executable's KTAP/TAP output).
#
#   awk -f guest/ktap-report.awk [-v problems=FILE] payload.txt
#
# FILE lists, one a line, failures found outside the tests (a build that
# failed, a kernel report, a run that did not finish): each counts as one
# failed test.
#
# Each top-level "ok"/"not ok" line is one test ("# SKIP" = skipped,
# "# XFAIL"/"# TODO" on a "not ok" = expected failure, counted as passed);
# nested (indented) results are left to their parent.  An executable that
# printed no result counts as one test by its exit status (0 pass, 4 skip,
# else fail), unless a "# Totals:" line says more.  An executable also
# fails when it exits with another status than 0 or 4 without a failed
# result, runs out of time, prints fewer results than its plan, or never
# finishes.  Tests under selfcheck/ (the kernel's own selftests) are
# summarised separately and not counted.  The last line is
# "check: N passed, N failed"; the exit status is 1 when anything failed or nothing ran.

function reset() {
	npass = nfail = nskip = nres = plan = 0
	tot = 0; tpass = tfail = tskip = 0
	failed_names = ""; skipped_names = ""
}

function result_name(line,   s) {
	s = line
	sub(/^(not )?ok +[0-9]* *-? */, "", s)
	sub(/ *#.*$/, "", s)
	return s
}

function add_fail(what) {
	fail_list[++nfail_list] = what
}

function finish(rc, secs, finished,   label, why, p, f, k) {
	if (nres == 0 && tot) {
		npass = tpass; nfail = tfail; nskip = tskip; nres = tpass + tfail + tskip
	}
	if (nres == 0) {
		if (!finished) nfail = 1
		else if (rc == 0) npass = 1
		else if (rc == 4) nskip = 1
		else nfail = 1
	}
	why = ""
	if (!finished) why = "did not finish (the guest died or was stopped)"
	else if (rc == 124) why = "killed by the per-test time limit"
	else if (rc != 0 && rc != 4 && nfail == 0) why = "exited with status " rc
	else if (plan > nres && nres > 0) why = "planned " plan " results, printed " nres
	if (why != "" && (nfail == 0 || !finished || rc == 124)) nfail++

	label = name; sub(/^(tests|selfcheck)\//, "", label)
	if (kind == "selfcheck") {
		sc_pass += npass; sc_fail += nfail; sc_skip += nskip
		if (nfail) {
			f = substr(failed_names, 2); gsub(/\034/, ", ", f)
			sc_failed = sc_failed sprintf("    not passing: %s: %s%s\n", label, f,
				(why != "" ? (f != "" ? "; " : "") why : ""))
		}
		return
	}
	pass += npass; fail += nfail; skip += nskip; ran++
	printf "  %-4s  %-40s %3d passed %3d failed %3d skipped %5ss\n",
		(nfail ? "FAIL" : "ok"), label, npass, nfail, nskip, (secs == "" ? "?" : secs)
	if (failed_names != "") {
		k = split(substr(failed_names, 2), p, "\034")
		for (f = 1; f <= k; f++) add_fail(label ": " p[f])
	}
	if (why != "") add_fail(label ": " why)
	if (skipped_names != "") skip_list = skip_list "    " label ": " substr(skipped_names, 3) "\n"
}

BEGIN { reset(); inside = 0 }

{ sub(/\r$/, "") }

/^PH-TEST-BEGIN / {
	if (inside) finish(0, "", 0)
	reset(); inside = 1
	name = $2
	kind = (name ~ /^selfcheck\//) ? "selfcheck" : "tests"
	next
}

/^PH-TEST-END / {
	rc = ""; secs = ""
	for (i = 3; i <= NF; i++) {
		if ($i ~ /^rc=/) rc = substr($i, 4) + 0
		if ($i ~ /^secs=/) secs = substr($i, 6)
	}
	if (inside) finish(rc, secs, 1)
	inside = 0
	next
}

!inside { next }

/^1\.\.[0-9]+/ { p = $0; sub(/^1\.\./, "", p); plan += p + 0; next }

/^(not )?ok( |$)/ {
	nres++
	n = result_name($0)
	if ($0 ~ /#[ \t]*[Ss][Kk][Ii][Pp]/) {
		# The 6.1 harness prints "ok N # SKIP reason", without the name.
		if (n == "") { n = $0; sub(/^[^#]*#[ \t]*[Ss][Kk][Ii][Pp][ \t]*/, "", n) }
		nskip++; skipped_names = skipped_names ", " n
	} else if ($0 ~ /^not ok/ && $0 !~ /#[ \t]*(XFAIL|TODO)/) {
		nfail++; failed_names = failed_names "\034" n
	} else {
		npass++
	}
	next
}

/^# Totals: / {
	tot = 1
	for (i = 3; i <= NF; i++) {
		split($i, kv, ":")
		if (kv[1] == "pass" || kv[1] == "xfail") tpass += kv[2]
		else if (kv[1] == "fail" || kv[1] == "error" || kv[1] == "xpass") tfail += kv[2]
		else if (kv[1] == "skip") tskip += kv[2]
	}
	next
}

END {
	if (inside) finish(0, "", 0)
	if (problems != "") {
		while ((getline line < problems) > 0) {
			if (line == "") continue
			add_fail(line); fail++
		}
		close(problems)
	}
	if (nfail_list) {
		print ""
		print "failed:"
		for (i = 1; i <= nfail_list; i++) print "    " fail_list[i]
	}
	if (skip_list != "") {
		print ""
		printf "skipped: %d\n%s", skip, skip_list
	}
	if (sc_pass + sc_fail + sc_skip) {
		print ""
		printf "kernel self-check, pidfd selftests of linux-source (informational, not counted): pass %d, fail %d, skip %d\n",
			sc_pass, sc_fail, sc_skip
		printf "%s", sc_failed
	}
	if (pass + fail == 0) {
		print ""
		print "no test ran"
		fail = 1
	}
	printf "check: %d passed, %d failed\n", pass, fail
	exit (fail ? 1 : 0)
}
