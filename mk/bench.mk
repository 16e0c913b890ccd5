# SPDX-License-Identifier: GPL-2.0
#
# make bench: prochandle against its pidfd equivalents (SPEC sections 7
# and 14), in two modes from one command, printed as ONE table:
#
#   icount  a guest whose clock counts instructions (guest/run.sh --accel
#           icount: QEMU -icount shift=0,sleep=off, one vCPU).  Exact and
#           the same on every run and host: targets are judged on it.
#   time    the usual guest (KVM if it works, else TCG, 2 vCPUs): wall
#           time, noisy on a shared host; also the rows that need 2 CPUs.
#
# Builds prochandle.ko out of tree and phbench (bench/Makefile), boots one
# guest per mode, keeps each payload in $(BENCH_DIR)/results-MODE.txt and
# the merged table (bench/table.awk) in $(BENCH_DIR)/table.txt.  Targets
# are reported, not asserted: this fails only when a run itself broke.
# bench/README.md explains the rows and holds the latest figures.
#
#   BENCH_MODES    which runs, in order (default: icount time)
#   BENCH_ARGS     extra phbench options for both modes (-x SECTIONS ...)
#   BENCH_MEM      guest memory (default 1G: 1M handles + 100k pidfds)
#   BENCH_KERNEL   guest kernel image (default: guest/run.sh's)
#   BENCH_TIMEOUT  hard limit for each guest, seconds
#
# make bench-twice: the instruction mode on two boots of the same build,
# row by row (bench/two-runs.awk); fails unless the two outputs are the
# same byte for byte (bench/README.md, "Two runs").

BENCH_DIR     ?= $(CURDIR)/build/bench
BENCH_MODES   ?= icount time
BENCH_MEM     ?= 1G
BENCH_TIMEOUT ?= 1500
BENCH_ARGS    ?=
BENCH_KERNEL  ?=
BENCH_STAGE   := $(BENCH_DIR)/stage
BENCH_BIN     := $(BENCH_STAGE)/opt/prochandle/bench/phbench

.PHONY: bench bench-build bench-twice $(BENCH_BIN)
bench-build: $(BENCH_BIN)

$(BENCH_BIN):
	@$(MAKE) -s -C bench OUT=$(@D)

# One guest per mode; a mode's figures are kept even if the other fails.
bench: $(BENCH_BIN)
	@ko=$$(nice guest/build-module.sh $(KDIR) $(BENCH_DIR)/module) || exit 1; \
	rc=0; files=''; \
	for mode in $(BENCH_MODES); do \
		case $$mode in \
		icount) accel='--accel icount'; flag=-I ;; \
		time) accel=''; flag='' ;; \
		*) echo "bench: unknown mode $$mode (icount, time)" >&2; exit 2 ;; \
		esac; \
		echo "bench: $$mode mode: booting the guest (several minutes under emulation)"; \
		nice guest/run.sh $$accel -m "$$ko" -s $(BENCH_STAGE) \
			--mem $(BENCH_MEM) -t $(BENCH_TIMEOUT) \
			-o $(BENCH_DIR)/guest-$$mode \
			$(if $(BENCH_KERNEL),-k $(BENCH_KERNEL)) \
			-- "/opt/prochandle/bench/phbench $$flag $(BENCH_ARGS)" \
			>$(BENCH_DIR)/log-$$mode.txt 2>&1 || \
			{ rc=$$?; echo "bench: the $$mode run failed ($$rc):"; \
			  tail -n 30 $(BENCH_DIR)/log-$$mode.txt; }; \
		cp $(BENCH_DIR)/guest-$$mode/payload.txt \
			$(BENCH_DIR)/results-$$mode.txt 2>/dev/null && \
			files="$$files $(BENCH_DIR)/results-$$mode.txt"; \
	done; \
	[ -n "$$files" ] || exit 1; \
	awk -f bench/table.awk \
		-v head="prochandle bench, $$(date -u '+%Y-%m-%d %H:%M UTC'), commit $$(git describe --always --dirty 2>/dev/null || echo '?')" \
		$$files | tee $(BENCH_DIR)/table.txt; \
	echo "bench: table in $(BENCH_DIR)/table.txt, runs in $(BENCH_DIR)/results-*.txt"; \
	exit $$rc

bench-twice:
	@$(MAKE) --no-print-directory bench BENCH_MODES=icount
	@cp $(BENCH_DIR)/results-icount.txt $(BENCH_DIR)/results-icount-1.txt
	@$(MAKE) --no-print-directory bench BENCH_MODES=icount
	@awk -f bench/two-runs.awk $(BENCH_DIR)/results-icount-1.txt \
		$(BENCH_DIR)/results-icount.txt
	@cmp $(BENCH_DIR)/results-icount-1.txt $(BENCH_DIR)/results-icount.txt && \
		echo "bench-twice: the two runs are identical"
