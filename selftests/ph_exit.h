/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the exit-record selftests (prochandle_exit_test.c,
 * prochandle_killer_test.c): children that burn CPU time, touch memory,
 * and start on a byte from a pipe.
 */
#ifndef PH_EXIT_H
#define PH_EXIT_H

#include "ph_test.h"

/* Where burn() leaves its sums, so that the compiler keeps the loop. */
static unsigned long ph_burn_sink;

/* Burn @user_ms of user time, then @sys_ms of system time, in this thread. */
static inline void burn(long user_ms, long sys_ms)
{
	uint64_t t0 = ph_now_ns(CLOCK_THREAD_CPUTIME_ID);
	static char zero[65536];
	unsigned long i, x = 0;
	int fd;

	while (ph_now_ns(CLOCK_THREAD_CPUTIME_ID) - t0 < user_ms * 1000000ull) {
		for (i = 0; i < 200000; i++)
			x += i ^ (x >> 3);
		__atomic_store_n(&ph_burn_sink, x, __ATOMIC_RELAXED);
	}
	fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	t0 = ph_now_ns(CLOCK_THREAD_CPUTIME_ID);
	while (fd >= 0 && ph_now_ns(CLOCK_THREAD_CPUTIME_ID) - t0 < sys_ms * 1000000ull)
		if (read(fd, zero, sizeof(zero)) < 0)
			break;
	if (fd >= 0)
		close(fd);
}

static inline void touch_mib(int mib)
{
	size_t len = (size_t)mib << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED)
		memset(p, 1, len);
}

/* A child that runs @fn once it reads a byte from *@go, then exits @code. */
static inline pid_t start(void (*fn)(void), int code, int *go)
{
	int p[2];
	pid_t pid;
	char b;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		if (read(p[0], &b, 1) != 1)
			_exit(99);
		fn();
		exit(code);
	}
	close(p[0]);
	*go = p[1];
	return pid;
}

#endif /* PH_EXIT_H */
