# SPDX-License-Identifier: GPL-2.0
#
# Debug guest kernels (kernels/): the whole suite under KASAN, lockdep,
# kmemleak, debugobjects, UBSAN and slab fault injection, and under KCSAN.
#
#   make check-debug            both variants (kernels built once, cached)
#   make check-debug DEBUG_VARIANTS=debug
#   make debug-kernels          only build (or find cached) both kernels

DEBUG_VARIANTS ?= debug kcsan

.PHONY: check-debug debug-kernels
check-debug:
	@kernels/check-debug.sh $(DEBUG_VARIANTS)

debug-kernels:
	@set -e; for v in $(DEBUG_VARIANTS); do kernels/build.sh $$v; done

CI_TARGETS += check-debug
# make ci: the two kernels build in the background from the start, at
# nice 19, and check-debug runs last (mk/guest.mk, guest/ci.sh).
CI_BACKGROUND_check-debug := debug-kernels
CI_LAST += check-debug
