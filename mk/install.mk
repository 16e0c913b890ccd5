# SPDX-License-Identifier: GPL-2.0
#
# User space install and man page check.
#
#   make install     library (.so.1, .a, libprochandle.pc), headers
#                    (<prochandle.h>, <linux/prochandle.h>), the prochandle
#                    CLI and the man pages.  PREFIX (default /usr/local),
#                    LIBDIR (default PREFIX/lib), INCLUDEDIR, BINDIR,
#                    MANDIR and DESTDIR are passed on to lib/, tools/, man/.
#   make check-man   render every man page with man -l, failing on warnings

.PHONY: install check-man
install:
	$(MAKE) -C lib install
	$(MAKE) -C tools install
	$(MAKE) -C man install

check-man:
	$(MAKE) -C man check
