# SPDX-License-Identifier: GPL-2.0
#
# Distribution: DKMS, Debian packages and the kernel matrix (dist/, debian/).
#
#   make check-dkms           dkms add/build/install against the bookworm
#                             headers, then boot the DKMS-built module and
#                             run the whole suite
#   make deb                  the .debs in out/deb (lintian errors fail)
#   make check-deb            install the .debs into a clean bookworm chroot:
#                             DKMS builds the module there, the CLI runs
#   make check-matrix         whole suite on Debian's 6.1, 6.12 and 7.2
#                             kernels, each module built by its own gcc
#   make check-matrix-build   only build the module for the three kernels
#   make dist-chroots         only make the chroots check-deb and
#                             check-matrix-build use (make ci starts it in
#                             the background)
#
# Chroots and kernels are cached in $(PH_CACHE) (made on first use).
# MATRIX_SUITES=trixie limits the matrix to some of bookworm trixie sid.

DEB_OUT ?= $(CURDIR)/out/deb
MATRIX_SUITES ?=

.PHONY: check-dkms deb check-deb check-matrix check-matrix-build dist-chroots
check-dkms:
	@dist/check-dkms.sh

deb:
	@dist/deb.sh $(DEB_OUT)

check-deb:
	@dist/check-deb.sh $(DEB_OUT)

check-matrix:
	@dist/matrix.sh check $(MATRIX_SUITES)

check-matrix-build:
	@dist/matrix.sh build $(MATRIX_SUITES)

# The same package sets as check-deb.sh and matrix.sh ask for, so that
# their own calls find the chroots ready.
dist-chroots:
	@dist/check-deb.sh --prepare
	@dist/matrix.sh prepare $(MATRIX_SUITES)

# CI: the full matrix does not fit CI's 90 minutes cold next to check,
# check-debug and lint (two debootstraps, a distribution kernel and headers
# each, three guest runs); CI runs the matrix *builds* (each module built by
# its distribution's own gcc against its own headers), and the whole suite
# on 6.12 and 7.2 is `make check-matrix`, run by hand before a release.
CI_TARGETS += check-dkms check-deb check-matrix-build
# make ci: three debootstraps, mostly waiting on the network, made in the
# background from the start (guest/ci.sh).
CI_BACKGROUND_check-deb := dist-chroots
