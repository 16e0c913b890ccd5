// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libprochandle: thin, stateless wrappers around the /dev/prochandle ioctls.
 * Reading the event queue is in events.c.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ph_private.h"
#include "ph_syscall.h"
#include "prochandle.h"

PH_API int ph_open(unsigned int flags)
{
	int saved = errno, oflags = O_RDWR | O_CLOEXEC, fd;

	if (flags & ~PH_OPEN_NONBLOCK)
		return -EINVAL;
	if (flags & PH_OPEN_NONBLOCK)
		oflags |= O_NONBLOCK;
	fd = open(PH_DEVICE_PATH, oflags);
	if (fd < 0) {
		fd = -errno;
		/* A device node without a driver behind it. */
		if (fd == -ENXIO || fd == -ENODEV)
			fd = -ENOENT;
	}
	errno = saved;
	return fd;
}

PH_API int ph_close(int fd)
{
	int saved = errno, ret = 0;

	if (close(fd) < 0)
		ret = -errno;
	errno = saved;
	return ret;
}

static int acquire(int fd, pid_t pid, __u32 flags, __u64 start, __u64 *handle)
{
	struct ph_acquire a;
	int ret;

	memset(&a, 0, sizeof(a));
	a.pid = pid;
	a.flags = flags;
	a.start_time = start;
	ret = ph_ioctl(fd, PH_IOC_ACQUIRE, &a);
	if (!ret && handle)
		*handle = a.handle;
	return ret;
}

PH_API int ph_acquire(int fd, pid_t pid, __u64 *handle)
{
	return acquire(fd, pid, 0, 0, handle);
}

PH_API int ph_acquire_ns(int fd, pid_t pid, __u64 start_ns, __u64 *handle)
{
	return acquire(fd, pid, PH_ACQUIRE_STARTTIME, start_ns, handle);
}

PH_API int ph_acquire_ticks(int fd, pid_t pid, __u64 ticks, __u64 *handle)
{
	return acquire(fd, pid, PH_ACQUIRE_STARTTIME_TICKS, ticks, handle);
}

/*
 * Field 22 of a /proc/PID/stat line.  Field 2 is "(comm)" and comm may hold
 * any byte but NUL, ')' and spaces included, so start after the last ')':
 * what follows is " S ppid ...", field 3 onwards.
 */
static int parse_start_ticks(const char *buf, __u64 *ticks)
{
	const char *p = strrchr(buf, ')');
	unsigned long long v = 0;
	int field = 2;

	if (!p)
		return -EIO;
	p++;
	while (field < 22) {
		if (*p != ' ')
			return -EIO;
		while (*p == ' ')
			p++;
		field++;
		if (field == 22)
			break;
		while (*p && *p != ' ')
			p++;
	}
	if (*p < '0' || *p > '9')
		return -EIO;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (~0ULL - 9) / 10)
			return -EIO;
		v = v * 10 + (unsigned long long)(*p - '0');
	}
	if (*p != ' ' && *p != '\n' && *p != '\0')
		return -EIO;
	*ticks = v;
	return 0;
}

PH_API int ph_start_ticks(pid_t pid, __u64 *ticks)
{
	/* comm is at most 64 bytes with the kernel's escaping; 52 fields of
	 * at most 20 digits follow: 2 KiB is plenty. */
	char path[32] = "/proc/", buf[2048], digits[12];
	int saved = errno, fd, i = 0, n, ret;
	size_t len = 0;
	ssize_t r;

	if (pid <= 0)
		return -EINVAL;
	/* Async-signal-safe formatting of "/proc/PID/stat". */
	for (n = pid; n; n /= 10)
		digits[i++] = (char)('0' + n % 10);
	len = strlen(path);
	while (i)
		path[len++] = digits[--i];
	memcpy(path + len, "/stat", sizeof("/stat"));

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = errno == ENOENT ? -ESRCH : -errno;
		errno = saved;
		return ret;
	}
	len = 0;
	for (;;) {
		r = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == sizeof(buf) - 1)
			break;
	}
	if (r < 0) {
		/* The process went away between open and read. */
		ret = errno == ESRCH ? -ESRCH : -errno;
	} else {
		buf[len] = '\0';
		ret = len ? parse_start_ticks(buf, ticks) : -ESRCH;
	}
	close(fd);
	errno = saved;
	return ret;
}

PH_API int ph_acquire_pinned(int fd, pid_t pid, __u64 *handle)
{
	__u64 ticks = 0;	/* clang's analyzer cannot see open() set errno */
	int ret = ph_start_ticks(pid, &ticks);

	if (ret)
		return ret;
	return ph_acquire_ticks(fd, pid, ticks, handle);
}

PH_API int ph_release(int fd, __u64 handle)
{
	return ph_ioctl(fd, PH_IOC_RELEASE, &handle);
}

PH_API int ph_signal(int fd, __u64 handle, int sig)
{
	struct ph_signal s;

	memset(&s, 0, sizeof(s));
	s.handle = handle;
	s.sig = sig;
	return ph_ioctl(fd, PH_IOC_SIGNAL, &s);
}

static int do_wait(int fd, __u64 handle, __u32 flags, __u64 timeout_ns,
		   int *status)
{
	struct ph_wait w;
	int ret;

	memset(&w, 0, sizeof(w));
	w.handle = handle;
	w.flags = flags;
	w.timeout_ns = timeout_ns;
	ret = ph_ioctl(fd, PH_IOC_WAIT, &w);
	if (!ret && status)
		*status = w.status;
	return ret;
}

PH_API int ph_wait(int fd, __u64 handle, int *status)
{
	return do_wait(fd, handle, 0, 0, status);
}

PH_API int ph_wait_nohang(int fd, __u64 handle, int *status)
{
	return do_wait(fd, handle, PH_WAIT_NOHANG, 0, status);
}

PH_API int ph_wait_timeout(int fd, __u64 handle, __u64 timeout_ns, int *status)
{
	return do_wait(fd, handle, PH_WAIT_TIMEOUT, timeout_ns, status);
}

/* PH_IOC_INFO for the first @size bytes of struct ph_info. */
static int info_sized(int fd, __u64 handle, struct ph_info *i, size_t size)
{
	memset(i, 0, sizeof(*i));
	i->handle = handle;
	return ph_ioctl(fd, _IOC(_IOC_READ | _IOC_WRITE, PH_IOC_MAGIC,
				 _IOC_NR(PH_IOC_INFO), size), i);
}

/* v1: exactly the PH_INFO_SIZE_VER0 bytes it always filled. */
PH_API int ph_info(int fd, __u64 handle, struct ph_info *info)
{
	struct ph_info i;
	int ret = info_sized(fd, handle, &i, PH_INFO_SIZE_VER0);

	if (!ret)
		memcpy(info, &i, PH_INFO_SIZE_VER0);
	return ret;
}

PH_API int ph_info2(int fd, __u64 handle, struct ph_info *info, size_t size)
{
	size_t n = size < sizeof(struct ph_info) ? size : sizeof(struct ph_info);
	struct ph_info i;
	int ret;

	if (size < PH_INFO_SIZE_VER0)
		return -EINVAL;
	ret = info_sized(fd, handle, &i, n);
	if (ret)
		return ret;
	memcpy(info, &i, n);
	memset((char *)info + n, 0, size - n);
	return 0;
}

PH_API int ph_acquire_pidfd(int fd, int pidfd, __u64 *handle)
{
	if (pidfd < 0)
		return -EBADF;
	return acquire(fd, pidfd, PH_ACQUIRE_PIDFD, 0, handle);
}

/*
 * ph_pidfd() opens the pidfd by number, and the number could have been
 * reused.  Why the pidfd returned is still always the handle's process P:
 *
 * 1. P had its number N from before the handle existed (ACQUIRE found it
 *    alive), and keeps N until it is reaped: no other process can have N
 *    in between.
 * 2. The module records a process's exit (INFO state != RUNNING) from
 *    the exit notification, do_notify_parent(), which always runs before
 *    the process can be reaped and N freed (ph_watch_wake() in
 *    module/watch.c).  So "RUNNING" read at time T2 means P still held N
 *    at T2.
 * 3. pidfd_open(N) at T1 < T2 refers to whoever held N at T1.  By 1 and
 *    2, P held N over all of [T1, T2]: the pidfd refers to P.
 *
 * If INFO afterwards says P has exited, the pidfd may name a newcomer (P
 * may have been reaped before T1): it is closed and -ESRCH returned.  So
 * the order is: INFO (for N), pidfd_open, INFO again.
 */
PH_API int ph_pidfd(int fd, __u64 handle)
{
	struct ph_info info;
	int saved = errno, pidfd, ret;

	ret = ph_info(fd, handle, &info);
	if (ret)
		return ret;
	if (info.state != PH_STATE_RUNNING || info.pid <= 0)
		return -ESRCH;
	pidfd = (int)syscall(SYS_pidfd_open, info.pid, 0);
	if (pidfd < 0) {
		ret = -errno;
		errno = saved;
		/* ESRCH: N was freed, so P was reaped; EINVAL cannot be ours. */
		return ret == -EINVAL ? -ESRCH : ret;
	}
	ret = ph_info(fd, handle, &info);
	if (!ret && info.state != PH_STATE_RUNNING)
		ret = -ESRCH;
	if (ret) {
		close(pidfd);
		errno = saved;
		return ret;
	}
	return pidfd;
}

static const char *const ph_messages[] = {
	[EPERM]		= "operation not permitted",
	[ENOENT]	= "module not loaded: run 'modprobe prochandle'",
	[ESRCH]		= "no such process",
	[EINTR]		= "interrupted by a signal",
	[EBADF]		= "no such handle (unknown or released)",
	[EAGAIN]	= "still running (nothing to report yet)",
	[ENOMEM]	= "out of memory",
	[EACCES]	= "permission denied",
	[EFAULT]	= "bad address",
	[EINVAL]	= "invalid argument",
	[EMFILE]	= "handle table full (max_handles reached) or too many open files",
	[ENOTTY]	= "not a prochandle device, or request unknown to this module version",
	[E2BIG]		= "request too new for this module version",
	[ETIMEDOUT]	= "timed out",
	[EPROTO]	= "events not in the expected format (see ph_set_events())",
};

PH_API const char *ph_strerror(int err)
{
	static __thread char buf[96];

	if (err < 0)
		err = -err;
	if ((size_t)err < sizeof(ph_messages) / sizeof(ph_messages[0]) &&
	    ph_messages[err])
		return ph_messages[err];
	/* Both strerror_r flavours: GNU returns a pointer, XSI fills buf. */
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
	return strerror_r(err, buf, sizeof(buf));
#else
	if (strerror_r(err, buf, sizeof(buf)))
		return "unknown error";
	return buf;
#endif
}

/* ---- v2: lifetime control ---------------------------------------------- */

PH_API int ph_acquire_flags(int fd, pid_t pid, __u32 flags, __u64 start_time,
			    __u64 *handle)
{
	return acquire(fd, pid, flags, start_time, handle);
}

PH_API int ph_deadline(int fd, __u64 handle, __u64 timeout_ns, int sig,
		       __u64 grace_ns)
{
	struct ph_deadline d;

	memset(&d, 0, sizeof(d));
	d.handle = handle;
	d.timeout_ns = timeout_ns;
	d.sig = sig;
	d.grace_ns = grace_ns;
	return ph_ioctl(fd, PH_IOC_DEADLINE, &d);
}

PH_API int ph_deadline_cancel(int fd, __u64 handle)
{
	return ph_deadline(fd, handle, 0, 0, 0);
}

PH_API int ph_acquire_track(int fd, pid_t pid, __u32 flags, __u64 *handle)
{
	__u64 ticks = 0;	/* clang's analyzer cannot see open() set errno */
	int ret = ph_start_ticks(pid, &ticks);

	if (ret)
		return ret;
	return acquire(fd, pid, PH_ACQUIRE_TRACK | PH_ACQUIRE_STARTTIME_TICKS |
		       flags, ticks, handle);
}
