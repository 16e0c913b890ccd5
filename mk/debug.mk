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
