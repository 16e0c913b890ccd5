# SPDX-License-Identifier: GPL-2.0
#
# Static analysis (scripts/lint/run.sh says what each step runs).
#
#   make lint                    every step; ends "lint: N passed, N failed"
#   make lint LINT_STEPS="checkpatch sparse"     only these steps
#   make lint LINT_SRC=/tmp/copy                 lint another tree (a scratch
#                                                copy with a planted finding)
#
# Steps: checkpatch w1 sparse kernel-doc coccinelle gcc clang clang-tidy
# bindings shellcheck.
# Nothing is written into the source tree; kernel tools (checkpatch,
# kernel-doc, coccinelle scripts) are used in place from linux-source-6.1.

LINT_STEPS ?=
LINT_SRC   ?=

.PHONY: lint
lint:
	@scripts/deps.sh build source lint
	@LINT_SRC=$(LINT_SRC) scripts/lint/run.sh $(LINT_STEPS)

CI_TARGETS += lint
