# SPDX-License-Identifier: GPL-2.0
#
# The booted-kernel test loop (guest/): the module is only ever loaded into
# a Debian kernel booted under QEMU, never into the build machine's own.
#
#   make check                 build everything, boot, run every test, report
#   make demo                  boot a guest and show the prochandle CLI at work
#   make guest-run CMD='...'   run a shell command in a guest (default: the
#                              tests, raw output)
#   make guest-shell           interactive shell in a guest (Ctrl-A X quits)
#   make check-accel           test the accelerator choice (guest/accel.sh)
#                              against a fake KVM that works, hangs or spins
#   make ci                    every target in CI_TARGETS, with a grand total
#   make ci-cold               make ci as on a fresh machine: a fresh clone
#                              of HEAD, an empty PH_CACHE (guest/ci-cold.sh)

.PHONY: check demo guest-run guest-shell ci check-accel ci-cold

check:
	@guest/check.sh

demo:
	@guest/demo.sh

guest-run:
	@guest/guest.sh $(if $(CMD),-- "$$CMD")

guest-shell:
	@guest/guest.sh --interactive

check-accel:
	@guest/test-accel.sh

CI_TARGETS += check-accel

# A target with long preparation names it in CI_BACKGROUND_<target> and
# itself in CI_LAST: the preparation starts at once in the background and
# the target runs after the others (guest/ci.sh).
ci:
	@guest/ci.sh $(foreach t,$(CI_TARGETS),$(addprefix --background $(t):,$(CI_BACKGROUND_$(t)))) \
		$(filter-out $(CI_LAST),$(CI_TARGETS)) $(filter $(CI_LAST),$(CI_TARGETS))

ci-cold:
	@guest/ci-cold.sh $(CI_COLD_DIR)
