# SPDX-License-Identifier: GPL-2.0
#
# prochandle: refcounted process handles.
#
#   make            build the module (against KDIR), library, tool and tests
#   make demo       boot a guest kernel and show prochandle at work
#   make check      boot a guest kernel and run the whole test suite
#   make install    install library, tool, headers, man pages (PREFIX, DESTDIR)
#
# Each area keeps its targets in mk/<area>.mk; this file only wires them.

# The one place the version lives is dkms.conf.
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' $(dir $(lastword $(MAKEFILE_LIST)))dkms.conf)

# Default kernel: the newest Debian *-amd64 headers on this machine, never
# `uname -r` (the build host's own kernel is not the one we test on).
KVER ?= $(shell ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | \
	sed 's|.*/linux-headers-||' | sort -V | tail -n 1)
KDIR ?= $(firstword $(wildcard /lib/modules/$(KVER)/build) /usr/src/linux-headers-$(KVER))

# Where downloads and built artefacts are cached between runs.
PH_CACHE ?= $(HOME)/.cache/prochandle

export VERSION KVER KDIR PH_CACHE

# Aggregated by `make ci` (what .ci/run calls); areas append to it.
CI_TARGETS := check

.PHONY: all module lib tools selftests clean install ci
all: module lib tools selftests

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

lib:
	$(MAKE) -C lib

tools: lib
	$(MAKE) -C tools

selftests:
	$(MAKE) -C selftests

include $(sort $(wildcard mk/*.mk))

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	-$(MAKE) -C lib clean
	-$(MAKE) -C tools clean
	-$(MAKE) -C selftests clean
