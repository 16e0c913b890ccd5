# SPDX-License-Identifier: GPL-2.0
#
# The fuzzer (tests/fuzz): random operations on the device from several
# processes and threads, in a guest.  A 20 s run is part of `make check`
# (tests/fuzz installs itself with guest-install).
#
#   make fuzz                   a run on Debian's kernel (FUZZ_SECS=60)
#   make fuzz-long              1 000 000 operations on the debug kernel
#                               (KASAN, lockdep, kmemleak) and on KCSAN's
#   FUZZ_SEED=N                 replay a seed (printed by every run)
#   FUZZ_OPS=N FUZZ_ARGS='...'  more operations, other fuzzer options

.PHONY: fuzz fuzz-long
fuzz:
	@tests/fuzz/run.sh short

fuzz-long:
	@tests/fuzz/run.sh long $(FUZZ_VARIANTS)
