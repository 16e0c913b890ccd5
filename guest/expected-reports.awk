# SPDX-License-Identifier: GPL-2.0
#
# Filter of a kernel log before it is scanned for reports (splat-patterns):
# blanks the kernel messages a test provokes on purpose and announces
# first, keeping the line count (the scan prints context by line number).
#
# An OOM kill prints a stack trace ("Call Trace") with its report.  A test
# that provokes one writes "prochandle-test: expect oom-kill ..." to
# /dev/kmsg first; the next OOM report after that line, from its "invoked
# oom-killer" line to its "Killed process" line, is blanked.  Any other
# OOM report, or a second one, is still scanned.
#
# Used on the host by guest/scan-log.sh and in the guest by guest/init.
/prochandle-test: expect oom-kill/ { expect = 1; print; next }
expect && /invoked oom-killer/ { skip = 1; expect = 0 }
skip { if (/Killed process/) skip = 0; print ""; next }
{ print }
