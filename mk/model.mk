# SPDX-License-Identifier: GPL-2.0
#
# The protocols, proved: Promela models of the handle, exit-watch and
# event-queue protocols (model/prochandle.pml), kill on release and
# deadlines (model/lifetime.pml) and tracking (model/track.pml), checked
# exhaustively by spin, plus their seeded bugs, each of which must be
# caught with a trail; and the syzkaller description checked against the
# uapi header.
#
#   make model                  every config (model/check.sh), in CI
#   make model MODEL_CONFIGS='NAME:proof:-DNA=3 -DNOPS=2'   others
#   make model MODEL_CONFIGS='NAME:proof:lifetime.pml:-DNA=2'  (another model)

.PHONY: model
model:
	@model/check.sh $(MODEL_CONFIGS)

CI_TARGETS += model
