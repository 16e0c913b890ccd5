/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * What the library's source files share and do not export: the symbol
 * visibility of the API (everything else is hidden, -fvisibility=hidden)
 * and ioctl(2) in the library's error convention.
 */
#ifndef PH_PRIVATE_H
#define PH_PRIVATE_H

#include <errno.h>
#include <sys/ioctl.h>

#define PH_API __attribute__((visibility("default")))

/* ioctl() returning 0 or -errno; errno is restored. */
static inline int ph_ioctl(int fd, unsigned long cmd, void *arg)
{
	int saved = errno, ret = 0;

	if (ioctl(fd, cmd, arg) < 0)
		ret = -errno;
	errno = saved;
	return ret;
}

#endif /* PH_PRIVATE_H */
