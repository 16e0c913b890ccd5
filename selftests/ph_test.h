/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers for the prochandle selftests: ioctl wrappers that return
 * 0 or -errno, the sysfs counters, the `ph` fixture whose teardown proves
 * that every test leaves files/handles/task_refs at their baseline, child
 * process helpers, and bounded condition waits.
 *
 * Synchronisation between test threads and processes only ever goes through
 * pipes, barriers and wait calls.  Where the kernel offers no notification
 * (a thread being asleep inside an ioctl, a leader thread having become a
 * zombie) ph_until() polls the observable kernel state with a 1 ms back-off
 * under a hard deadline; the poll never decides a test's outcome by timing,
 * it only waits for a state the test then checks.
 */
#ifndef PH_TEST_H
#define PH_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/prochandle.h>

/*
 * Syscall numbers an older C library does not name: lib/ph_syscall.h, on
 * the include path inside the repository (see there for a kernel tree).
 */
#if __has_include("ph_syscall.h")
#include "ph_syscall.h"
#endif

#include "kselftest_harness.h"

#define PH_DEV		"/dev/prochandle"
#define PH_SYSFS	"/sys/class/misc/prochandle/"
#define PH_MAX_HANDLES	"/sys/module/prochandle/parameters/max_handles"
#define PH_NOBODY	65534

/* Layout is part of the ABI: identical for 32-bit and 64-bit user space. */
_Static_assert(sizeof(struct ph_acquire) == PH_ACQUIRE_SIZE_VER0, "acquire");
_Static_assert(sizeof(struct ph_signal) == PH_SIGNAL_SIZE_VER0, "signal");
_Static_assert(sizeof(struct ph_wait) == PH_WAIT_SIZE_VER0, "wait");
_Static_assert(sizeof(struct ph_info) == PH_INFO_SIZE_VER1, "info");
_Static_assert(sizeof(struct ph_event) == 16, "event");
_Static_assert(offsetof(struct ph_acquire, handle) == 16, "acquire.handle");
_Static_assert(offsetof(struct ph_wait, timeout_ns) == 16, "wait.timeout");
_Static_assert(offsetof(struct ph_info, start_time) == 24, "info.start");

/* ------------------------------------------------------------------ */
/* ioctl wrappers: 0 (or a count) on success, -errno on failure.        */

static inline int ioc_open(void)
{
	return open(PH_DEV, O_RDWR | O_CLOEXEC);
}

static inline int ioc_call(int fd, unsigned long cmd, void *arg)
{
	int r = ioctl(fd, cmd, arg);

	return r < 0 ? -errno : r;
}

static inline int ioc_acquire_st(int fd, pid_t pid, __u32 flags, __u64 st,
				 __u64 *h)
{
	struct ph_acquire a = { .pid = pid, .flags = flags, .start_time = st };
	int r = ioc_call(fd, PH_IOC_ACQUIRE, &a);

	if (!r && h)
		*h = a.handle;
	return r;
}

static inline int ioc_acquire(int fd, pid_t pid, __u64 *h)
{
	return ioc_acquire_st(fd, pid, 0, 0, h);
}

static inline int ioc_release(int fd, __u64 h)
{
	return ioc_call(fd, PH_IOC_RELEASE, &h);
}

static inline int ioc_signal(int fd, __u64 h, int sig)
{
	struct ph_signal s = { .handle = h, .sig = sig };

	return ioc_call(fd, PH_IOC_SIGNAL, &s);
}

static inline int ioc_wait(int fd, __u64 h, __u32 flags, __u64 tmo, int *status)
{
	struct ph_wait w = { .handle = h, .flags = flags, .timeout_ns = tmo,
			     .status = 0x5a5a5a5a };
	int r = ioc_call(fd, PH_IOC_WAIT, &w);

	if (!r && status)
		*status = w.status;
	return r;
}

static inline int ioc_info(int fd, __u64 h, struct ph_info *i)
{
	memset(i, 0xa5, sizeof(*i));
	i->handle = h;
	i->reserved[0] = 0;
	i->reserved[1] = 0;
	i->pad = 0;
	return ioc_call(fd, PH_IOC_INFO, i);
}

/* Returns the state, or -errno. */
static inline int ioc_state(int fd, __u64 h)
{
	struct ph_info i;
	int r = ioc_info(fd, h, &i);

	return r ? r : (int)i.state;
}

/* ------------------------------------------------------------------ */
/* sysfs counters and the module parameter                              */

struct ph_counters {
	long files, handles, task_refs;
};

/*
 * Read a (small, proc or sysfs) file into @buf, NUL-terminated; returns the
 * length or -1.  @fmt/... build the path.
 */
static inline __attribute__((format(printf, 3, 4)))
ssize_t ph_slurp(char *buf, size_t size, const char *fmt, ...)
{
	char path[256];
	size_t len = 0;
	va_list ap;
	ssize_t n;
	int fd;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = 0;
	return len ? (ssize_t)len : -1;
}

static inline int ph_write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -errno;
	close(fd);
	return r;
}

static inline long ph_read_long(const char *path)
{
	char buf[64];

	return ph_slurp(buf, sizeof(buf), "%s", path) < 0 ? -1 : strtol(buf, NULL, 10);
}

static inline int ph_write_long(const char *path, long v)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%ld\n", v);
	return ph_write_str(path, buf);
}

static inline int ph_counters(struct ph_counters *c)
{
	c->files = ph_read_long(PH_SYSFS "files");
	c->handles = ph_read_long(PH_SYSFS "handles");
	c->task_refs = ph_read_long(PH_SYSFS "task_refs");
	return (c->files < 0 || c->handles < 0 || c->task_refs < 0) ? -1 : 0;
}

static inline long ph_handles(void)
{
	return ph_read_long(PH_SYSFS "handles");
}

static inline long ph_task_refs(void)
{
	return ph_read_long(PH_SYSFS "task_refs");
}

/* ------------------------------------------------------------------ */
/* ENOMEM by fault injection (failslab: debug kernels only)             */

/*
 * ph_failslab_start() sets failslab so that nothing fails at random and
 * only a thread that asks is failed: ph_fail_nth(f, n) fails the n-th
 * failable slab allocation of this thread's next call, ph_fail_nth_end()
 * disarms it.  ph_failslab_stop() puts the knobs back as they were.  In a
 * test, PH_FAILSLAB_START(f) starts it or skips the test.
 */
#define PH_FAILSLAB	"/sys/kernel/debug/failslab/"
#define PH_FAIL_NTH	"/proc/thread-self/fail-nth"

struct ph_failslab {
	char saved[4][32];
	int fnth;		/* PH_FAIL_NTH, open */
};

/* Set the knobs, saving them first, or with @restore put them back. */
static inline int ph_failslab_knobs(struct ph_failslab *f, bool restore)
{
	static const char *const knobs[4] = { "probability", "verbose",
		"ignore-gfp-wait", "task-filter" };
	static const char *const vals[4] = { "0", "0", "N", "Y" };
	char path[128];
	unsigned int k;
	int r = 0;

	for (k = 0; k < 4; k++) {
		snprintf(path, sizeof(path), PH_FAILSLAB "%s", knobs[k]);
		if (restore)
			r |= ph_write_str(path, f->saved[k]) ? -1 : 0;
		else if (ph_slurp(f->saved[k], sizeof(f->saved[k]), "%s", path) <= 0 ||
			 ph_write_str(path, vals[k]))
			return -1;
	}
	return r;
}

/* Returns 0, 1 (no failslab in this kernel: skip) or -1. */
static inline int ph_failslab_start(struct ph_failslab *f)
{
	if (access(PH_FAILSLAB "probability", W_OK) || access(PH_FAIL_NTH, W_OK))
		return 1;
	if (ph_failslab_knobs(f, false))
		return -1;
	f->fnth = open(PH_FAIL_NTH, O_RDWR | O_CLOEXEC);
	return f->fnth < 0 ? -1 : 0;
}

#define PH_FAILSLAB_START(f) do {					\
	int fs_ = ph_failslab_start(f);					\
									\
	if (fs_ > 0)							\
		SKIP(return, "no failslab fault injection in this kernel"); \
	ASSERT_EQ(0, fs_);						\
} while (0)

/* Returns 0 or -1. */
static inline int ph_fail_nth(struct ph_failslab *f, int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", n);

	return pwrite(f->fnth, buf, len, 0) == len ? 0 : -1;
}

/*
 * Disarm; returns the count fail-nth had left: 0 once the n-th allocation
 * was reached (and failed), more if the call made fewer; -1 on error.
 */
static inline int ph_fail_nth_end(struct ph_failslab *f)
{
	char buf[16];
	ssize_t got = pread(f->fnth, buf, sizeof(buf) - 1, 0);

	if (pwrite(f->fnth, "0", 1, 0) != 1 || got <= 0)
		return -1;
	buf[got] = 0;
	return atoi(buf);
}

/* Returns 0, or -1 if a knob could not be put back. */
static inline int ph_failslab_stop(struct ph_failslab *f)
{
	close(f->fnth);
	return ph_failslab_knobs(f, true);
}

/* ------------------------------------------------------------------ */
/* time and bounded condition waits                                     */

static inline uint64_t ph_now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Evaluate @cond until it holds or @ms pass; true if it held. */
#define ph_until(cond, ms) ({						\
	uint64_t __dl = ph_now_ns(CLOCK_MONOTONIC) + (uint64_t)(ms) * 1000000ull; \
	bool __ok;							\
	for (;;) {							\
		__ok = (cond);						\
		if (__ok)						\
			break;						\
		if (ph_now_ns(CLOCK_MONOTONIC) > __dl)			\
			break;						\
		poll(NULL, 0, 1);					\
	}								\
	__ok;								\
})

/*
 * Stress loop control: at least @min rounds, at most @max, and no new
 * round once @ms have passed after the first @min (so slow debug kernels
 * under emulation stay inside the time limits, fast ones do them all).
 */
struct ph_budget {
	uint64_t deadline;
	int min, max;
};

static inline struct ph_budget ph_budget(int min, int max, int ms)
{
	struct ph_budget b = {
		.deadline = ph_now_ns(CLOCK_MONOTONIC) + (uint64_t)ms * 1000000ull,
		.min = min, .max = max,
	};

	return b;
}

static inline bool ph_budget_more(const struct ph_budget *b, int round)
{
	return round < b->max &&
	       (round < b->min || ph_now_ns(CLOCK_MONOTONIC) < b->deadline);
}

/*
 * True when thread @tid of this process is asleep inside syscall @nr with
 * first argument @a0 (and, if @use_a1, second argument @a1), as
 * /proc/self/task/TID/syscall reports it ("running" while on a CPU).
 */
static inline bool ph_in_syscall(pid_t tid, long want_nr, int fd, bool use_a1,
				 unsigned long cmd)
{
	char buf[256];
	unsigned long long a0, a1 = 0;
	long nr;

	if (ph_slurp(buf, sizeof(buf), "/proc/self/task/%d/syscall", tid) < 0)
		return false;
	if (sscanf(buf, "%ld 0x%llx 0x%llx", &nr, &a0, &a1) < 2)
		return false;
	return nr == want_nr && (int)a0 == fd &&
	       (!use_a1 || (unsigned int)a1 == (unsigned int)cmd);
}

static inline bool ph_in_ioctl(pid_t tid, int fd, unsigned long cmd)
{
	return ph_in_syscall(tid, SYS_ioctl, fd, true, cmd);
}

static inline bool ph_in_read(pid_t tid, int fd)
{
	return ph_in_syscall(tid, SYS_read, fd, false, 0);
}

static inline pid_t ph_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* State letter of /proc/<pid>/stat, 0 if unreadable. */
static inline char ph_proc_state(pid_t pid)
{
	char buf[512], *p;

	if (ph_slurp(buf, sizeof(buf), "/proc/%d/stat", pid) < 0)
		return 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/* Value after "\n<key>" in /proc/<pid>/status (e.g. "Threads:\t"), or -1. */
static inline long ph_status_field(pid_t pid, const char *key)
{
	char buf[4096], k[64], *p;

	if (ph_slurp(buf, sizeof(buf), "/proc/%d/status", pid) < 0)
		return -1;
	snprintf(k, sizeof(k), "\n%s", key);
	p = strstr(buf, k);
	return p ? strtol(p + strlen(k), NULL, 10) : -1;
}

/* Field 22 of <procdir>/<pid>/stat (start time in clock ticks), 0 on error. */
static inline unsigned long long ph_stat_starttime(const char *procdir, pid_t pid)
{
	char buf[1024], *p;
	int i;

	if (ph_slurp(buf, sizeof(buf), "%s/%d/stat", procdir, pid) < 0)
		return 0;
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	p += 2;			/* field 3 */
	for (i = 3; i < 22 && p; i++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return p ? strtoull(p, NULL, 10) : 0;
}

/*
 * Count the lines "handle:\t<h>\tpid:\t<pid>\tstate:\t<state>" in
 * /proc/self/fdinfo/<fd> (any state if @state is NULL); -1 on error.
 */
static inline int ph_fdinfo_count(int fd, __u64 h, pid_t pid, const char *state)
{
	char want[160], *buf = malloc(1 << 16), *p;
	int hits = 0;

	if (!buf || ph_slurp(buf, 1 << 16, "/proc/self/fdinfo/%d", fd) < 0) {
		free(buf);
		return -1;
	}
	snprintf(want, sizeof(want), "handle:\t%llu\tpid:\t%d\tstate:\t%s%s",
		 (unsigned long long)h, pid, state ? state : "",
		 state ? "\n" : "");
	for (p = buf; (p = strstr(p, want)); p++)
		if (p == buf || p[-1] == '\n')
			hits++;
	free(buf);
	return hits;
}

/* ------------------------------------------------------------------ */
/* checks inside forked children (the harness macros must not be used   */
/* there: they would run the fixture teardown in the child)             */

#define CHILD_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "# %s:%d: child %d: check failed: %s (errno %d)\n", \
			__FILE__, __LINE__, getpid(), #cond, errno);	\
		_exit(100);						\
	}								\
} while (0)

#define CHILD_EQ(exp, got) do {						\
	long long __e = (long long)(exp), __g = (long long)(got);	\
	if (__e != __g) {						\
		fprintf(stderr, "# %s:%d: child %d: %s is %lld, expected %s (%lld)\n", \
			__FILE__, __LINE__, getpid(), #got, __g, #exp, __e); \
		_exit(100);						\
	}								\
} while (0)

/* ------------------------------------------------------------------ */
/* child processes                                                      */

static inline ssize_t ph_read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return done ? (ssize_t)done : n;
		done += n;
	}
	return done;
}

static inline int ph_write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

/* Read with a deadline; returns bytes read, 0 on EOF, -1 on timeout/error. */
static inline ssize_t ph_read_timeout(int fd, void *buf, size_t len, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return -1;
	return ph_read_full(fd, buf, len);
}

/*
 * A child that waits for one byte on a pipe and exits with it as its
 * status (0 on EOF, which comes only once every copy of the write end is
 * closed: children forked later hold copies, so send a byte or kill it).
 * Used wherever a running process is needed.
 */
struct ph_kid {
	pid_t pid;
	int ctl;	/* write end: ph_kid_exit() */
};

static inline int ph_spawn(struct ph_kid *k)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return -1;
	k->pid = fork();
	if (k->pid < 0)
		return -1;
	if (k->pid == 0) {
		unsigned char c = 0;
		ssize_t n;

		close(p[1]);
		do
			n = read(p[0], &c, 1);
		while (n < 0 && errno == EINTR);
		_exit(n == 1 ? c : 0);
	}
	close(p[0]);
	k->ctl = p[1];
	return 0;
}

/* struct clone_args of clone3(2), up to set_tid (5.5) and cgroup (5.7). */
struct ph_clone_args {
	__u64 flags, pidfd, child_tid, parent_tid, exit_signal;
	__u64 stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

/*
 * fork() whose child gets the number @want in this pid namespace: write
 * ns_last_pid (CONFIG_CHECKPOINT_RESTORE), else clone3() with set_tid.
 * Like fork(): the child's pid to the parent, 0 in the child, -1 on error.
 */
static inline pid_t ph_fork_as(pid_t want)
{
	struct ph_clone_args ca = { .exit_signal = SIGCHLD, .set_tid_size = 1 };
	pid_t tid = want;
	char buf[32];
	int r;

	snprintf(buf, sizeof(buf), "%d", want - 1);
	r = ph_write_str("/proc/sys/kernel/ns_last_pid", buf);
	if (!r)
		return fork();
	if (r != -ENOENT)
		return -1;
	ca.set_tid = (uintptr_t)&tid;
	return syscall(SYS_clone3, &ca, sizeof(ca));
}

/*
 * A child counting @sig in a handler; after it reads one byte from its
 * control pipe it writes the count (an int) to its report pipe and exits
 * 0.  It writes 'r' when ready, and with @each, also a byte per signal.
 */
static volatile sig_atomic_t ph_sig_count;
static int ph_sig_report = -1;

static inline void ph_count_handler(int sig)
{
	(void)sig;
	ph_sig_count++;
	if (ph_sig_report >= 0 && write(ph_sig_report, "s", 1) != 1)
		_exit(99);
}

static inline pid_t ph_spawn_counter(int sig, bool each, int *ctl_w, int *rep_r)
{
	int c[2], r[2];
	pid_t pid;

	if (pipe2(c, O_CLOEXEC) || pipe2(r, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = ph_count_handler };
		int n;
		char b;

		close(c[1]);
		close(r[0]);
		if (each)
			ph_sig_report = r[1];
		sigaction(sig, &sa, NULL);
		if (write(r[1], "r", 1) != 1)
			_exit(98);
		/* a byte, not EOF: later children hold copies of the pipe */
		while (read(c[0], &b, 1) < 0 && errno == EINTR)
			;
		ph_sig_report = -1;
		n = ph_sig_count;
		if (write(r[1], &n, sizeof(n)) != sizeof(n))
			_exit(97);
		_exit(0);
	}
	close(c[0]);
	close(r[1]);
	*ctl_w = c[1];
	*rep_r = r[0];
	return pid;
}

static inline void ph_kid_exit(struct ph_kid *k, unsigned char code)
{
	if (k->ctl >= 0) {
		if (write(k->ctl, &code, 1) != 1)
			perror("ph_kid_exit");
		close(k->ctl);
		k->ctl = -1;
	}
}

static inline void ph_kid_close(struct ph_kid *k)
{
	if (k->ctl >= 0)
		close(k->ctl);
	k->ctl = -1;
}

/* Wait for @pid to exit without reaping it; -errno or 0. */
static inline int ph_wait_zombie(pid_t pid)
{
	siginfo_t si;
	int r;

	do
		r = waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

/* Reap @pid, returning its wait status, or INT_MIN on error. */
static inline int ph_reap(pid_t pid)
{
	int st, r;

	do
		r = waitpid(pid, &st, 0);
	while (r < 0 && errno == EINTR);
	return r == pid ? st : INT_MIN;
}

/*
 * Collect up to @max events into @ev, until @want have arrived or no new
 * one comes for @ms (0: only what is queued now).  Returns the count, or
 * -errno if a read fails otherwise than with EAGAIN.
 */
static inline int dev_read_events(int fd, struct ph_event *ev, int max,
				  int want, int ms)
{
	int got = 0;

	while (got < want && got < max) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int r = poll(&p, 1, ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n = read(fd, ev + got, (max - got) * sizeof(*ev));
		if (n < 0 && errno == EAGAIN)
			break;	/* poll said readable: the caller checks */
		if (n < 0)
			return -errno;
		if (n == 0 || n % sizeof(*ev))
			return -EIO;
		got += n / sizeof(*ev);
	}
	return got;
}

static inline int ph_cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static inline int ph_cmp_event(const void *a, const void *b)
{
	__u64 x = ((const struct ph_event *)a)->handle;
	__u64 y = ((const struct ph_event *)b)->handle;

	return x < y ? -1 : x > y;
}

/* An address no user buffer lives at (volatile: hide it from -Wstringop). */
static void *volatile ph_bad_ptr = (void *)16;

static inline void noop_handler(int sig)
{
	(void)sig;
}

/* A thread blocked in WAIT on one handle. */
struct waiter {
	pthread_t t;
	int fd;
	__u64 h;
	__u32 flags;
	__u64 tmo;
	pid_t tid;
	int ret, status;
};

static inline void *waiter_fn(void *p)
{
	struct waiter *w = p;

	__atomic_store_n(&w->tid, ph_gettid(), __ATOMIC_SEQ_CST);
	w->ret = ioc_wait(w->fd, w->h, w->flags, w->tmo, &w->status);
	return NULL;
}

static inline int start_waiter(struct waiter *w, int fd, __u64 h)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->h = h;
	w->ret = 1;
	if (pthread_create(&w->t, NULL, waiter_fn, w))
		return -1;
	/* wait until it sleeps inside the WAIT ioctl */
	if (!ph_until(__atomic_load_n(&w->tid, __ATOMIC_SEQ_CST) &&
		      ph_in_ioctl(w->tid, fd, PH_IOC_WAIT), 10000))
		return -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* fixture: one open table, counters checked at teardown               */

#define PH_MAX_KIDS 64

FIXTURE(ph) {
	int fd;
	struct ph_counters base;
	pid_t kids[PH_MAX_KIDS];
	int nkids;
	long saved_max;		/* max_handles to restore, -1 if untouched */
};

static inline void ph_track(FIXTURE_DATA(ph) *self, pid_t pid)
{
	if (self->nkids < PH_MAX_KIDS)
		self->kids[self->nkids++] = pid;
}

FIXTURE_SETUP(ph)
{
	sigset_t none;
	int sig;

	/*
	 * Whatever the runner left us (a shell ignores SIGINT and SIGQUIT in
	 * background commands; SIGCHLD ignored would auto-reap): default
	 * dispositions, nothing blocked, inherited by every child.
	 */
	for (sig = 1; sig < 32; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	self->fd = -1;
	self->saved_max = -1;
	if (access(PH_DEV, F_OK))
		SKIP(_exit(255), PH_DEV " missing: prochandle not loaded");
	ASSERT_EQ(0, ph_counters(&self->base)) {
		TH_LOG("cannot read the counters under " PH_SYSFS);
	}
	self->fd = ioc_open();
	ASSERT_LE(0, self->fd) {
		TH_LOG("open " PH_DEV ": %s", strerror(errno));
	}
}

static inline void ph_cleanup_kids(FIXTURE_DATA(ph) *self)
{
	int i;

	for (i = 0; i < self->nkids; i++) {
		siginfo_t si;

		/* Only kill what is still our unreaped child (no pid reuse). */
		si.si_pid = 0;
		if (waitid(P_PID, self->kids[i], &si,
			   WEXITED | WNOHANG | WNOWAIT))
			continue;
		kill(self->kids[i], SIGKILL);
		ph_reap(self->kids[i]);
	}
	self->nkids = 0;
}

FIXTURE_TEARDOWN(ph)
{
	struct ph_counters now;

	ph_cleanup_kids(self);
	if (self->fd >= 0)
		close(self->fd);
	self->fd = -1;
	if (self->saved_max >= 0)
		EXPECT_EQ(0, ph_write_long(PH_MAX_HANDLES, self->saved_max));
	/* Invariant 6: closing the file releases all; nothing leaks. */
	EXPECT_EQ(0, ph_counters(&now));
	EXPECT_EQ(self->base.files, now.files);
	EXPECT_EQ(self->base.handles, now.handles);
	EXPECT_EQ(self->base.task_refs, now.task_refs);
}

/* In a TEST_F body: has anything failed so far (stop looping)? */
#define PH_FAILED() (!_metadata->passed)

/* Checks the three counters against base + deltas. */
#define EXPECT_COUNTERS(df, dh, dt) do {				\
	struct ph_counters __c;						\
	EXPECT_EQ(0, ph_counters(&__c));				\
	EXPECT_EQ(self->base.files + (df), __c.files);			\
	EXPECT_EQ(self->base.handles + (dh), __c.handles);		\
	EXPECT_EQ(self->base.task_refs + (dt), __c.task_refs);		\
} while (0)

/*
 * Like TEST_HARNESS_MAIN, but lets a test binary re-exec itself as a
 * helper (argv[1] == "--ph-helper"), see ph_helper_main() in the test.
 */
#define PH_HARNESS_MAIN_WITH_HELPER(helper)				\
	static void __attribute__((constructor))			\
	__constructor_order_last(void)					\
	{								\
		if (!__constructor_order)				\
			__constructor_order = _CONSTRUCTOR_ORDER_BACKWARD; \
	}								\
	int main(int argc, char **argv)					\
	{								\
		if (argc > 1 && !strcmp(argv[1], "--ph-helper"))	\
			return helper(argc, argv);			\
		return test_harness_run(argc, argv);			\
	}

#endif /* PH_TEST_H */
