# SPDX-License-Identifier: GPL-2.0
#
# make bench: prochandle against its pidfd equivalents (SPEC section 7).
#
# Builds prochandle.ko out of tree and bench/phbench (static), boots ONE
# guest (guest/run.sh) and prints the table; the payload is kept in
# $(BENCH_DIR)/results.txt.  Targets are reported, not asserted: this fails
# only when the run itself broke.  bench/README.md explains the rows.
#
#   BENCH_ARGS     extra phbench options (-r REPS -s SAMPLE_MS -n MEM_N -N BIG_N)
#   BENCH_MEM      guest memory (default 1G: 1M handles + 100k pidfds)
#   BENCH_KERNEL   guest kernel image (default: guest/run.sh's)
#   BENCH_TIMEOUT  hard limit for the guest, seconds

BENCH_DIR     ?= $(CURDIR)/build/bench
BENCH_MEM     ?= 1G
BENCH_TIMEOUT ?= 600
BENCH_ARGS    ?=
BENCH_KERNEL  ?=
BENCH_CFLAGS  ?= -O2 -Wall -Wextra
BENCH_BIN     := $(BENCH_DIR)/stage/opt/prochandle/bench/phbench

.PHONY: bench bench-build
bench-build: $(BENCH_BIN)

$(BENCH_BIN): bench/phbench.c uapi/linux/prochandle.h
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -static -pthread -I$(CURDIR)/uapi -o $@ $< -lm

bench: $(BENCH_BIN)
	@ko=$$(nice guest/build-module.sh $(KDIR) $(BENCH_DIR)/module) && \
	echo "bench: booting the guest (about 2-4 minutes under emulation)" && \
	nice guest/run.sh -m "$$ko" -s $(BENCH_DIR)/stage --mem $(BENCH_MEM) \
		-t $(BENCH_TIMEOUT) -o $(BENCH_DIR)/guest \
		$(if $(BENCH_KERNEL),-k $(BENCH_KERNEL)) \
		-- '/opt/prochandle/bench/phbench $(BENCH_ARGS)'; \
	rc=$$?; \
	cp $(BENCH_DIR)/guest/payload.txt $(BENCH_DIR)/results.txt 2>/dev/null; \
	[ $$rc -eq 0 ] && echo "bench: table kept in $(BENCH_DIR)/results.txt"; \
	exit $$rc
