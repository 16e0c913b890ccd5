# SPDX-License-Identifier: GPL-2.0
#
# The protocols, proved: a Promela model of the handle, exit-watch and
# event-queue protocols (model/prochandle.pml), checked exhaustively by
# spin, plus its seeded bugs, each of which must be caught with a trail;
# and the syzkaller description checked against the uapi header.
#
#   make model                  every config (model/check.sh), in CI
#   make model MODEL_CONFIGS='NAME:proof:-DNA=3 -DNOPS=2'   others

.PHONY: model
model:
	@model/check.sh $(MODEL_CONFIGS)

CI_TARGETS += model
