/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * Numbers of the pidfd syscalls, for C libraries whose <sys/syscall.h> does
 * not name them yet (glibc before 2.31).  Since Linux 5.1 new syscalls have
 * the same number on every architecture but alpha (which adds 110), 32- and
 * 64-bit alike.
 *
 * The one copy in the repository, for all of its C user space: libprochandle
 * (lib/prochandle.c), its tests (lib/tests/), the kselftests (through
 * selftests/ph_test.h) and the benchmark (bench/phbench.h).  It lives in
 * lib/ because the library is the bottom layer of that user space; it is
 * private to the repository: `make install` installs only the public
 * prochandle.h, which does not include it, and nothing here is uapi.
 * selftests/Makefile puts lib/ on the include path when it builds inside
 * the repository; copied alone into a kernel tree, the kselftests build
 * against that tree's headers (KHDR_INCLUDES) and a C library that names
 * these syscalls, as it names clone3, which they already need.
 */
#ifndef PH_SYSCALL_H
#define PH_SYSCALL_H

#include <sys/syscall.h>

#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal	424
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open		434
#endif

#endif /* PH_SYSCALL_H */
