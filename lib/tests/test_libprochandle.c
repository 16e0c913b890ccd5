// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Tests of libprochandle against the real module: every call, its
 * successes and the errors of SPEC §3 that it surfaces, with real
 * processes (children, non-children, zombies, threads, other users).
 *
 * Output is KTAP/TAP on stdout.  Exit: 0 all passed, 4 all skipped (no
 * device), 1 otherwise.  Each test runs in its own forked process with an
 * alarm, so a hang or crash fails that test only.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ph_syscall.h"
#include "prochandle.h"

#define KSFT_PASS 0
#define KSFT_FAIL 1
#define KSFT_SKIP 4

#define SYSFS	"/sys/class/misc/prochandle/"
#define PARAM	"/sys/module/prochandle/parameters/max_handles"

static int failed;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		printf("# %s:%d: CHECK(%s) failed: ", __func__, __LINE__, #cond); \
		printf(__VA_ARGS__);					\
		printf("\n");						\
		fflush(stdout);						\
		failed = 1;						\
	}								\
} while (0)

/* A call expected to return @want (0 or -E...). */
#define EXPECT(call, want) do {						\
	int _r = (call), _w = (want);					\
	CHECK(_r == _w, "%s = %d (%s), want %d (%s)", #call, _r,	\
	      _r < 0 ? strerror(-_r) : "ok", _w, _w < 0 ? strerror(-_w) : "ok"); \
} while (0)

#define SKIP(...) do {							\
	printf("# SKIP: " __VA_ARGS__);					\
	printf("\n");							\
	fflush(stdout);							\
	exit(KSFT_SKIP);						\
} while (0)

#define REQUIRE(cond, ...) do {						\
	CHECK(cond, __VA_ARGS__);					\
	if (failed)							\
		exit(KSFT_FAIL);					\
} while (0)

static void die(const char *what)
{
	printf("# %s: %s\n", what, strerror(errno));
	fflush(stdout);
	exit(KSFT_FAIL);
}

static int open_dev(unsigned int flags)
{
	int fd = ph_open(flags);

	REQUIRE(fd >= 0, "ph_open: %s", ph_strerror(fd));
	return fd;
}

/* ---- processes the tests act on --------------------------------------- */

struct kid {
	pid_t pid;
	int ctl;	/* write a byte N: the kid exits with code N */
};

static pid_t fork_as(pid_t want);

/*
 * A child that blocks until told to exit (or until we go away), numbered
 * @want if not 0 (k.pid is -1 if that number could not be had).
 */
static struct kid spawn_as(pid_t want)
{
	struct kid k;
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		die("pipe");
	k.pid = want ? fork_as(want) : fork();
	if (k.pid < 0 && !want)
		die("fork");
	if (!k.pid) {
		unsigned char c = 0;

		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(0);
		_exit(c);
	}
	close(p[0]);
	k.ctl = p[1];
	return k;
}

static struct kid spawn(void)
{
	return spawn_as(0);
}

static void tell_exit(struct kid *k, unsigned char code)
{
	if (write(k->ctl, &code, 1) != 1)
		die("write ctl");
}

/* Block until @pid has exited, without reaping it (it stays a zombie). */
static void until_zombie(pid_t pid)
{
	siginfo_t si;

	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT))
		die("waitid");
}

static int reap(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		die("waitpid");
	return st;
}

/*
 * A process that is not our child: a grandchild whose parent has exited,
 * so it is reparented (to init or a subreaper that is not us).
 */
static struct kid spawn_grandchild(void)
{
	int p[2], r[2];
	struct kid k;
	pid_t mid;

	if (pipe2(p, O_CLOEXEC) || pipe2(r, O_CLOEXEC))
		die("pipe");
	mid = fork();
	if (mid < 0)
		die("fork");
	if (!mid) {
		pid_t g = fork();

		if (g < 0)
			_exit(1);
		if (!g) {
			unsigned char c = 0;

			close(p[1]);
			close(r[0]);
			close(r[1]);
			if (read(p[0], &c, 1) != 1)
				_exit(0);
			_exit(c);
		}
		if (write(r[1], &g, sizeof(g)) != sizeof(g))
			_exit(1);
		_exit(0);
	}
	close(p[0]);
	close(r[1]);
	if (read(r[0], &k.pid, sizeof(k.pid)) != sizeof(k.pid))
		die("read grandchild pid");
	close(r[0]);
	reap(mid);
	k.ctl = p[1];
	return k;
}

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/*
 * Wait (bounded) until thread @tid of this process is blocked in ioctl(2),
 * read from /proc/self/task/TID/syscall.  Returns 0 when seen, -1 if the
 * file is unavailable (then a short grace period is all we can do).
 */
static int until_in_ioctl(pid_t tid)
{
	char path[64], buf[128];
	int i;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	for (i = 0; i < 5000; i++) {
		FILE *f = fopen(path, "re");
		long nr;

		if (!f) {
			usleep(200000);
			return -1;
		}
		if (fgets(buf, sizeof(buf), f) && sscanf(buf, "%ld", &nr) == 1 &&
		    nr == SYS_ioctl) {
			fclose(f);
			/* Entered the syscall: give it time to reach the sleep. */
			usleep(20000);
			return 0;
		}
		fclose(f);
		usleep(1000);
	}
	return -1;
}

static long read_counter(const char *name)
{
	char path[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), SYSFS "%s", name);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* ---- the tests -------------------------------------------------------- */

static void test_open_close(void)
{
	int fd, fl;

	fd = ph_open(0);
	REQUIRE(fd >= 0, "ph_open(0) = %d", fd);
	fl = fcntl(fd, F_GETFD);
	CHECK(fl & FD_CLOEXEC, "not O_CLOEXEC");
	fl = fcntl(fd, F_GETFL);
	CHECK(!(fl & O_NONBLOCK), "blocking open is O_NONBLOCK");
	CHECK((fl & O_ACCMODE) == O_RDWR, "not O_RDWR");
	EXPECT(ph_close(fd), 0);
	EXPECT(ph_close(fd), -EBADF);

	fd = ph_open(PH_OPEN_NONBLOCK);
	REQUIRE(fd >= 0, "ph_open(NONBLOCK) = %d", fd);
	CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK, "not O_NONBLOCK");
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC, "not O_CLOEXEC");
	EXPECT(ph_close(fd), 0);

	EXPECT(ph_open(1U << 7), -EINVAL);
	EXPECT(ph_open(~0U), -EINVAL);
}

static void test_strerror(void)
{
	const char *s;

	CHECK(!strcmp(ph_strerror(-ESRCH), "no such process"), "%s", ph_strerror(-ESRCH));
	CHECK(ph_strerror(ESRCH) == ph_strerror(-ESRCH), "sign matters");
	CHECK(strstr(ph_strerror(-ENOENT), "modprobe prochandle"), "%s", ph_strerror(-ENOENT));
	CHECK(strstr(ph_strerror(-EBADF), "handle"), "%s", ph_strerror(-EBADF));
	CHECK(strstr(ph_strerror(-EMFILE), "max_handles"), "%s", ph_strerror(-EMFILE));
	s = ph_strerror(-EHOSTDOWN);
	CHECK(s && *s, "fallback empty");
	s = ph_strerror(-4000);
	CHECK(s && *s, "unknown empty");
	s = ph_strerror(0);
	CHECK(s && *s, "zero empty");
}

/* Field 22 of /proc/PID/stat the naive way: only for a plain comm. */
static unsigned long long naive_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long v = 0;
	int i;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f || !fgets(buf, sizeof(buf), f))
		die("read stat");
	fclose(f);
	p = buf;
	for (i = 1; i < 22; i++)
		p = strchr(p, ' ') + 1;
	sscanf(p, "%llu", &v);
	return v;
}

static void test_start_ticks(void)
{
	__u64 t = 0;

	EXPECT(ph_start_ticks(getpid(), &t), 0);
	CHECK(t == naive_ticks(getpid()), "%llu vs %llu",
	      (unsigned long long)t, naive_ticks(getpid()));
	EXPECT(ph_start_ticks(0, &t), -EINVAL);
	EXPECT(ph_start_ticks(-5, &t), -EINVAL);
	EXPECT(ph_start_ticks(INT_MAX, &t), -ESRCH);
}

/* comm with spaces, parentheses and digits must not confuse the parser. */
static void test_start_ticks_weird_comm(void)
{
	int fd = open_dev(0);
	struct ph_info info;
	__u64 t = 0, h;
	long hz = sysconf(_SC_CLK_TCK);
	struct kid k = spawn();

	/* Rename the kid through its own /proc comm file. */
	{
		char path[64];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/comm", k.pid);
		f = fopen(path, "we");
		REQUIRE(f, "open %s: %s", path, strerror(errno));
		fputs(") ) 1 2 (3) x", f);
		fclose(f);
	}
	EXPECT(ph_start_ticks(k.pid, &t), 0);
	EXPECT(ph_acquire(fd, k.pid, &h), 0);
	EXPECT(ph_info(fd, h, &info), 0);
	CHECK(t == info.start_time / (1000000000ULL / (unsigned long long)hz),
	      "ticks %llu, info %llu ns, HZ %ld", (unsigned long long)t,
	      (unsigned long long)info.start_time, hz);
	EXPECT(ph_acquire_pinned(fd, k.pid, &h), 0);
	EXPECT(ph_acquire_ticks(fd, k.pid, t, &h), 0);
	EXPECT(ph_acquire_ticks(fd, k.pid, t + 1, &h), -ESRCH);
	tell_exit(&k, 0);
	reap(k.pid);
}

static void test_acquire_info(void)
{
	int fd = open_dev(0);
	struct kid k = spawn();
	struct ph_info info;
	__u64 h = 0, h2 = 0, t;
	long hz = sysconf(_SC_CLK_TCK);

	EXPECT(ph_acquire(fd, k.pid, &h), 0);
	CHECK(h != 0, "handle 0");
	memset(&info, 0xa5, sizeof(info));
	EXPECT(ph_info(fd, h, &info), 0);
	CHECK(info.handle == h, "info.handle %llu", (unsigned long long)info.handle);
	CHECK(info.pid == k.pid, "info.pid %d want %d", info.pid, k.pid);
	CHECK(info.state == PH_STATE_RUNNING, "state %u", info.state);
	CHECK(info.status == 0, "status %d", info.status);
	CHECK(info.pad == 0 && info.reserved[0] == 0 && info.reserved[1] == 0,
	      "pad/reserved not zero");
	CHECK(info.start_time > 0, "start_time 0");
	EXPECT(ph_start_ticks(k.pid, &t), 0);
	CHECK(t == info.start_time / (1000000000ULL / (unsigned long long)hz),
	      "ticks %llu vs ns %llu", (unsigned long long)t,
	      (unsigned long long)info.start_time);

	/* Pinned by ns: the exact start time, and not another. */
	EXPECT(ph_acquire_ns(fd, k.pid, info.start_time, &h2), 0);
	CHECK(h2 != h && h2, "second handle %llu", (unsigned long long)h2);
	EXPECT(ph_acquire_ns(fd, k.pid, info.start_time + 1000000000ULL, &h2), -ESRCH);
	EXPECT(ph_acquire_ns(fd, k.pid, info.start_time + 1, &h2), -ESRCH);
	EXPECT(ph_acquire_ns(fd, k.pid, info.start_time - 1, &h2), -ESRCH);
	EXPECT(ph_acquire_ns(fd, k.pid, 0, &h2), -ESRCH);

	/* Pinned by ticks. */
	EXPECT(ph_acquire_ticks(fd, k.pid, t, &h2), 0);
	EXPECT(ph_acquire_ticks(fd, k.pid, t + 1, &h2), -ESRCH);
	EXPECT(ph_acquire_ticks(fd, k.pid, t ? t - 1 : 1, &h2), -ESRCH);
	EXPECT(ph_acquire_pinned(fd, k.pid, &h2), 0);

	/* Ourselves. */
	EXPECT(ph_acquire_pinned(fd, getpid(), &h2), 0);
	EXPECT(ph_info(fd, h2, &info), 0);
	CHECK(info.pid == getpid() && info.state == PH_STATE_RUNNING, "self info");

	tell_exit(&k, 0);
	reap(k.pid);
	ph_close(fd);
}

static void *thread_park(void *arg)
{
	int *p = arg;
	pid_t tid = gettid_();
	char c;

	if (write(p[1], &tid, sizeof(tid)) != sizeof(tid))
		return NULL;
	if (read(p[0], &c, 1) < 0)
		return NULL;
	return NULL;
}

static void test_acquire_errors(void)
{
	int fd = open_dev(0), nul, tp[2], rp[2];
	pthread_t th;
	pid_t tid, gone;
	__u64 h = 0;
	char c = 0;

	EXPECT(ph_acquire(fd, 0, &h), -EINVAL);
	EXPECT(ph_acquire(fd, -1, &h), -EINVAL);
	EXPECT(ph_acquire(fd, INT_MIN, &h), -EINVAL);
	EXPECT(ph_acquire_ns(fd, 0, 1, &h), -EINVAL);
	EXPECT(ph_acquire_ticks(fd, -1, 1, &h), -EINVAL);
	EXPECT(ph_acquire_pinned(fd, 0, &h), -EINVAL);
	EXPECT(ph_acquire(fd, INT_MAX, &h), -ESRCH);
	EXPECT(ph_acquire_pinned(fd, INT_MAX, &h), -ESRCH);

	/* A reaped child: nobody has that number (unless reused at once). */
	gone = fork();
	if (!gone)
		_exit(0);
	reap(gone);
	{
		int r = ph_acquire(fd, gone, &h);

		CHECK(r == -ESRCH || r == 0, "reaped pid: %d", r);
		r = ph_acquire_pinned(fd, gone, &h);
		CHECK(r == -ESRCH || r == 0, "reaped pid pinned: %d", r);
	}

	/* A thread that is not a thread-group leader. */
	if (pipe(tp) || pipe(rp))
		die("pipe");
	{
		int fds[2] = { rp[0], tp[1] };

		if (pthread_create(&th, NULL, thread_park, fds))
			die("pthread_create");
		if (read(tp[0], &tid, sizeof(tid)) != sizeof(tid))
			die("read tid");
		EXPECT(ph_acquire(fd, tid, &h), -EINVAL);
		EXPECT(ph_acquire_pinned(fd, tid, &h), -EINVAL);
		if (write(rp[1], &c, 1) != 1)
			die("write");
		pthread_join(th, NULL);
	}

	/* Not a prochandle fd. */
	EXPECT(ph_acquire(-1, getpid(), &h), -EBADF);
	nul = open("/dev/null", O_RDWR);
	EXPECT(ph_acquire(nul, getpid(), &h), -ENOTTY);
	EXPECT(ph_release(nul, 1), -ENOTTY);
	close(nul);
	ph_close(fd);
}

/* Run @fn in a child that has dropped to uid/gid 65534; its verdict. */
static void as_nobody(void (*fn)(void *), void *arg)
{
	pid_t p;
	int st;

	if (getuid() != 0)
		SKIP("needs root to switch to uid 65534");
	fflush(stdout);
	p = fork();
	if (p < 0)
		die("fork");
	if (!p) {
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			die("setuid");
		fn(arg);
		fflush(stdout);
		_exit(failed ? KSFT_FAIL : KSFT_PASS);
	}
	st = reap(p);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "unprivileged part failed (%#x)", st);
}

static void nobody_acquire(void *arg)
{
	pid_t target = *(pid_t *)arg;
	int fd = ph_open(0);
	__u64 h;

	REQUIRE(fd >= 0, "ph_open as nobody: %s (device not 0666?)", ph_strerror(fd));
	EXPECT(ph_acquire(fd, target, &h), -EPERM);
	EXPECT(ph_acquire_pinned(fd, target, &h), -EPERM);
	EXPECT(ph_acquire(fd, 1, &h), -EPERM);
	EXPECT(ph_acquire_pinned(fd, getpid(), &h), 0);
	ph_close(fd);
}

static void test_acquire_eperm(void)
{
	struct kid k = spawn();

	as_nobody(nobody_acquire, &k.pid);
	tell_exit(&k, 0);
	reap(k.pid);
}

static int write_param(const char *path, long v)
{
	FILE *f = fopen(path, "we");
	int ok;

	if (!f)
		return -1;
	ok = fprintf(f, "%ld\n", v) > 0;
	ok = (fclose(f) == 0) && ok;
	return ok ? 0 : -1;
}

static void test_acquire_emfile(void)
{
	long old = -1;
	__u64 h[4];
	FILE *f;
	int fd, i;

	f = fopen(PARAM, "re");
	if (!f || fscanf(f, "%ld", &old) != 1)
		SKIP("%s not readable", PARAM);
	fclose(f);
	if (write_param(PARAM, 3))
		SKIP("%s not writable", PARAM);
	fd = ph_open(0);
	for (i = 0; i < 3 && fd >= 0; i++)
		EXPECT(ph_acquire(fd, getpid(), &h[i]), 0);
	if (fd >= 0) {
		EXPECT(ph_acquire(fd, getpid(), &h[3]), -EMFILE);
		EXPECT(ph_acquire_pinned(fd, getpid(), &h[3]), -EMFILE);
		EXPECT(ph_release(fd, h[0]), 0);
		EXPECT(ph_acquire(fd, getpid(), &h[3]), 0);
		EXPECT(ph_acquire(fd, getpid(), &h[0]), -EMFILE);
	}
	CHECK(write_param(PARAM, old) == 0, "restoring %s", PARAM);
	REQUIRE(fd >= 0, "ph_open: %s", ph_strerror(fd));
	ph_close(fd);
}

static void test_zombie(void)
{
	int fd = open_dev(0), st = -1;
	struct ph_info info;
	struct kid k = spawn();
	__u64 h;

	tell_exit(&k, 3);
	until_zombie(k.pid);
	EXPECT(ph_acquire_pinned(fd, k.pid, &h), 0);
	EXPECT(ph_info(fd, h, &info), 0);
	CHECK(info.state == PH_STATE_EXITED, "state %u", info.state);
	CHECK(WIFEXITED(info.status) && WEXITSTATUS(info.status) == 3,
	      "status %#x", info.status);
	EXPECT(ph_signal(fd, h, 0), -ESRCH);
	EXPECT(ph_wait_nohang(fd, h, &st), 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3, "status %#x", st);
	EXPECT(ph_info(fd, h, &info), 0);
	CHECK(info.state == PH_STATE_DONE, "state %u", info.state);
	CHECK(info.pid == k.pid, "pid %d", info.pid);
	/* Observed, not reaped: the parent still gets the status. */
	st = reap(k.pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3, "waitpid status %#x", st);
	/* And the handle still answers after the reap. */
	st = -1;
	EXPECT(ph_wait(fd, h, &st), 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3, "status %#x", st);
	ph_close(fd);
}

static void test_signal_wait(void)
{
	int fd = open_dev(0), st = -1, st2 = -1;
	struct ph_info info;
	struct kid k = spawn();
	__u64 h;

	EXPECT(ph_acquire_pinned(fd, k.pid, &h), 0);
	EXPECT(ph_signal(fd, h, 0), 0);
	EXPECT(ph_signal(fd, h, -1), -EINVAL);
	EXPECT(ph_signal(fd, h, 65), -EINVAL);
	EXPECT(ph_signal(fd, h, 1000), -EINVAL);
	EXPECT(ph_signal(fd, h, INT_MIN), -EINVAL);
	EXPECT(ph_signal(fd, h + 1000000, 0), -EBADF);
	EXPECT(ph_wait_nohang(fd, h, &st), -EAGAIN);
	EXPECT(ph_signal(fd, h, SIGTERM), 0);
	EXPECT(ph_wait(fd, h, &st), 0);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "status %#x", st);
	EXPECT(ph_info(fd, h, &info), 0);
	CHECK(info.state == PH_STATE_DONE, "state %u", info.state);
	CHECK(info.status == st, "info status %#x vs %#x", info.status, st);
	EXPECT(ph_signal(fd, h, 0), -ESRCH);
	EXPECT(ph_signal(fd, h, SIGKILL), -ESRCH);
	EXPECT(ph_wait(fd, h, &st2), 0);
	CHECK(st2 == st, "second wait %#x vs %#x", st2, st);
	st2 = -1;
	EXPECT(ph_wait_nohang(fd, h, &st2), 0);
	CHECK(st2 == st, "nohang after done %#x", st2);
	st2 = -1;
	EXPECT(ph_wait_timeout(fd, h, 1000, &st2), 0);
	CHECK(st2 == st, "timeout after done %#x", st2);
	EXPECT(ph_wait(fd, h, NULL), 0);
	st2 = reap(k.pid);
	CHECK(st2 == st, "waitpid %#x vs handle %#x", st2, st);
	ph_close(fd);
}

static void test_signal_after_exit(void)
{
	int fd = open_dev(0);
	struct kid k = spawn();
	__u64 h;

	EXPECT(ph_acquire(fd, k.pid, &h), 0);
	tell_exit(&k, 0);
	until_zombie(k.pid);
	EXPECT(ph_signal(fd, h, 0), -ESRCH);
	reap(k.pid);
	/* Whatever the number names now, the handle refuses. */
	EXPECT(ph_signal(fd, h, SIGKILL), -ESRCH);
	ph_close(fd);
}

struct sig_arg {
	int fd;
	__u64 h;
};

static void nobody_signal(void *arg)
{
	struct sig_arg *a = arg;
	struct ph_info info;

	EXPECT(ph_signal(a->fd, a->h, 0), -EPERM);
	EXPECT(ph_signal(a->fd, a->h, SIGKILL), -EPERM);
	EXPECT(ph_info(a->fd, a->h, &info), 0);
	EXPECT(ph_wait_nohang(a->fd, a->h, NULL), -EAGAIN);
}

static void test_signal_eperm(void)
{
	struct sig_arg a = { .fd = open_dev(0) };
	struct kid k = spawn();
	int st;

	EXPECT(ph_acquire_pinned(a.fd, k.pid, &a.h), 0);
	/* The table is shared across fork; credentials are the caller's. */
	as_nobody(nobody_signal, &a);
	EXPECT(ph_signal(a.fd, a.h, 0), 0);
	EXPECT(ph_signal(a.fd, a.h, SIGKILL), 0);
	EXPECT(ph_wait(a.fd, a.h, &st), 0);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status %#x", st);
	reap(k.pid);
	ph_close(a.fd);
}

static void test_wait_nohang_timeout(void)
{
	int fd = open_dev(0), st = -1;
	unsigned long long t0, dt;
	struct kid k = spawn();
	__u64 h;

	EXPECT(ph_acquire_pinned(fd, k.pid, &h), 0);
	EXPECT(ph_wait_nohang(fd, h, &st), -EAGAIN);
	t0 = now_ns();
	EXPECT(ph_wait_timeout(fd, h, 100000000ULL, &st), -ETIMEDOUT);
	dt = now_ns() - t0;
	CHECK(dt >= 100000000ULL && dt < 5000000000ULL, "waited %llu ns for 100 ms", dt);
	EXPECT(ph_wait_timeout(fd, h, 0, &st), -ETIMEDOUT);
	tell_exit(&k, 7);
	EXPECT(ph_wait_timeout(fd, h, 10000000000ULL, &st), 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7, "status %#x", st);
	reap(k.pid);
	ph_close(fd);
}

static void test_wait_nonchild(void)
{
	int fd = open_dev(0), st = -1;
	struct kid g = spawn_grandchild();
	struct ph_info info;
	__u64 h;

	CHECK(waitpid(g.pid, NULL, WNOHANG) < 0 && errno == ECHILD,
	      "grandchild %d is our child", g.pid);
	EXPECT(ph_acquire_pinned(fd, g.pid, &h), 0);
	EXPECT(ph_signal(fd, h, 0), 0);
	EXPECT(ph_wait_nohang(fd, h, &st), -EAGAIN);
	tell_exit(&g, 42);
	EXPECT(ph_wait(fd, h, &st), 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 42, "status %#x", st);
	EXPECT(ph_info(fd, h, &info), 0);
	CHECK(info.state == PH_STATE_DONE && info.status == st, "info %u %#x",
	      info.state, info.status);
	ph_close(fd);
}

/* Child for the thread-group test: the leader exits first, a thread later. */
static void *late_exit_thread(void *arg)
{
	int rfd = *(int *)arg;
	unsigned char c = 0;

	if (read(rfd, &c, 1) != 1)
		exit(99);
	exit(c);
}

static int leader_is_zombie(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	int z = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		z = p[2] == 'Z';
	fclose(f);
	return z;
}

static void test_wait_thread_group(void)
{
	int fd = open_dev(0), p[2], st = -1, i;
	struct ph_info info;
	pid_t pid;
	__u64 h;

	if (pipe(p))
		die("pipe");
	pid = fork();
	if (!pid) {
		static int rfd;
		pthread_t th;

		rfd = p[0];
		close(p[1]);
		if (pthread_create(&th, NULL, late_exit_thread, &rfd))
			_exit(98);
		pthread_exit(NULL);
	}
	close(p[0]);
	EXPECT(ph_acquire_pinned(fd, pid, &h), 0);
	for (i = 0; i < 5000 && !leader_is_zombie(pid); i++)
		usleep(1000);
	CHECK(leader_is_zombie(pid), "leader of %d never became a zombie", pid);
	/* The leader is gone, the group is not: still running. */
	EXPECT(ph_wait_nohang(fd, h, &st), -EAGAIN);
	EXPECT(ph_info(fd, h, &info), 0);
	CHECK(info.state == PH_STATE_RUNNING, "state %u with a live thread", info.state);
	EXPECT(ph_signal(fd, h, 0), 0);
	{
		unsigned char code = 5;

		if (write(p[1], &code, 1) != 1)
			die("write");
	}
	EXPECT(ph_wait(fd, h, &st), 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 5, "group status %#x", st);
	i = reap(pid);
	CHECK(i == st, "waitpid %#x vs %#x", i, st);
	ph_close(fd);
}

struct waiter {
	int fd;
	__u64 h;
	int ret, status;
	pid_t tid;
	pthread_t th;
};

static void *waiter_fn(void *arg)
{
	struct waiter *w = arg;

	w->tid = gettid_();
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	w->ret = ph_wait(w->fd, w->h, &w->status);
	return NULL;
}

static void start_waiter(struct waiter *w, int fd, __u64 h)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->h = h;
	w->ret = 1;
	if (pthread_create(&w->th, NULL, waiter_fn, w))
		die("pthread_create");
	while (!__atomic_load_n(&w->tid, __ATOMIC_SEQ_CST))
		usleep(100);
}

static void test_wait_many_threads(void)
{
	int fd = open_dev(0), i;
	struct waiter w[6];
	struct kid k = spawn();
	__u64 h;

	EXPECT(ph_acquire_pinned(fd, k.pid, &h), 0);
	for (i = 0; i < 6; i++)
		start_waiter(&w[i], fd, h);
	for (i = 0; i < 6; i++)
		until_in_ioctl(w[i].tid);
	EXPECT(ph_signal(fd, h, SIGUSR1), 0);
	for (i = 0; i < 6; i++) {
		pthread_join(w[i].th, NULL);
		CHECK(w[i].ret == 0, "waiter %d: %d", i, w[i].ret);
		CHECK(WIFSIGNALED(w[i].status) && WTERMSIG(w[i].status) == SIGUSR1,
		      "waiter %d: status %#x", i, w[i].status);
	}
	reap(k.pid);
	ph_close(fd);
}

static void on_usr2(int sig)
{
	(void)sig;
}

static void test_wait_eintr(void)
{
	int fd = open_dev(0), i;
	struct sigaction sa;
	struct waiter w;
	struct kid k = spawn();
	__u64 h;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr2;	/* no SA_RESTART */
	sigaction(SIGUSR2, &sa, NULL);
	EXPECT(ph_acquire_pinned(fd, k.pid, &h), 0);
	start_waiter(&w, fd, h);
	until_in_ioctl(w.tid);
	/* Repeat: a signal landing just before the ioctl would be lost. */
	for (i = 0; i < 500 && __atomic_load_n(&w.ret, __ATOMIC_SEQ_CST) == 1; i++) {
		pthread_kill(w.th, SIGUSR2);
		usleep(10000);
	}
	if (__atomic_load_n(&w.ret, __ATOMIC_SEQ_CST) == 1)
		tell_exit(&k, 0);
	pthread_join(w.th, NULL);
	CHECK(w.ret == -EINTR, "ph_wait = %d, want -EINTR", w.ret);
	/* The handle is intact: wait again, successfully. */
	tell_exit(&k, 9);
	EXPECT(ph_wait(fd, h, &w.status), 0);
	CHECK(WIFEXITED(w.status) && WEXITSTATUS(w.status) == 9, "status %#x", w.status);
	reap(k.pid);
	ph_close(fd);
}

static void test_release(void)
{
	int fd = open_dev(0), st;
	struct ph_info info;
	struct kid k = spawn();
	__u64 h, h2;

	EXPECT(ph_acquire_pinned(fd, k.pid, &h), 0);
	EXPECT(ph_acquire_pinned(fd, k.pid, &h2), 0);
	EXPECT(ph_release(fd, h), 0);
	EXPECT(ph_release(fd, h), -EBADF);
	EXPECT(ph_info(fd, h, &info), -EBADF);
	EXPECT(ph_signal(fd, h, 0), -EBADF);
	EXPECT(ph_signal(fd, h, SIGKILL), -EBADF);
	EXPECT(ph_wait(fd, h, &st), -EBADF);
	EXPECT(ph_wait_nohang(fd, h, &st), -EBADF);
	EXPECT(ph_wait_timeout(fd, h, 1000, &st), -EBADF);
	EXPECT(ph_release(fd, 0), -EBADF);
	EXPECT(ph_release(fd, 0xdeadbeefcafeULL), -EBADF);
	EXPECT(ph_info(fd, 0, &info), -EBADF);
	EXPECT(ph_wait(fd, ~0ULL, &st), -EBADF);
	/* The other handle on the same process is unaffected. */
	EXPECT(ph_signal(fd, h2, 0), 0);
	EXPECT(ph_info(fd, h2, &info), 0);
	CHECK(info.pid == k.pid, "pid %d", info.pid);
	/* A handle of one table means nothing in another. */
	{
		int fd2 = open_dev(0);

		EXPECT(ph_info(fd2, h2, &info), -EBADF);
		EXPECT(ph_release(fd2, h2), -EBADF);
		ph_close(fd2);
	}
	EXPECT(ph_release(fd, h2), 0);
	tell_exit(&k, 0);
	reap(k.pid);
	ph_close(fd);
}

struct releaser {
	int fd;
	__u64 h;
	pthread_barrier_t *bar;
	int ret;
};

static void *release_fn(void *arg)
{
	struct releaser *r = arg;

	pthread_barrier_wait(r->bar);
	r->ret = ph_release(r->fd, r->h);
	return NULL;
}

static void test_release_concurrent(void)
{
	int fd = open_dev(0), round, i;
	enum { N = 6 };

	for (round = 0; round < 100 && !failed; round++) {
		struct releaser r[N];
		pthread_t th[N];
		pthread_barrier_t bar;
		__u64 h;
		int ok = 0, badf = 0;

		EXPECT(ph_acquire(fd, getpid(), &h), 0);
		pthread_barrier_init(&bar, NULL, N);
		for (i = 0; i < N; i++) {
			r[i] = (struct releaser){ .fd = fd, .h = h, .bar = &bar };
			if (pthread_create(&th[i], NULL, release_fn, &r[i]))
				die("pthread_create");
		}
		for (i = 0; i < N; i++) {
			pthread_join(th[i], NULL);
			ok += r[i].ret == 0;
			badf += r[i].ret == -EBADF;
		}
		pthread_barrier_destroy(&bar);
		CHECK(ok == 1 && badf == N - 1, "round %d: %d succeeded, %d EBADF",
		      round, ok, badf);
	}
	ph_close(fd);
}

static void test_release_inflight_wait(void)
{
	int fd = open_dev(0);
	struct ph_info info;
	struct waiter w;
	struct kid k = spawn();
	__u64 h;

	EXPECT(ph_acquire_pinned(fd, k.pid, &h), 0);
	start_waiter(&w, fd, h);
	if (until_in_ioctl(w.tid))
		printf("# /proc/self/task/TID/syscall unavailable: timing only\n");
	EXPECT(ph_release(fd, h), 0);
	EXPECT(ph_info(fd, h, &info), -EBADF);
	EXPECT(ph_wait_nohang(fd, h, NULL), -EBADF);
	CHECK(__atomic_load_n(&w.ret, __ATOMIC_SEQ_CST) == 1,
	      "in-flight wait returned %d at release", w.ret);
	tell_exit(&k, 11);
	pthread_join(w.th, NULL);
	CHECK(w.ret == 0, "in-flight wait: %d, want 0", w.ret);
	CHECK(WIFEXITED(w.status) && WEXITSTATUS(w.status) == 11, "status %#x", w.status);
	reap(k.pid);
	ph_close(fd);
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static void test_handle_ids_unique(void)
{
	enum { N = 500 };
	__u64 ids[N];
	int fd = open_dev(0), i;

	for (i = 0; i < N; i++) {
		EXPECT(ph_acquire(fd, getpid(), &ids[i]), 0);
		CHECK(ids[i] != 0, "id 0");
		if (i % 3)
			EXPECT(ph_release(fd, ids[i]), 0);
	}
	qsort(ids, N, sizeof(ids[0]), cmp_u64);
	for (i = 1; i < N; i++)
		CHECK(ids[i] != ids[i - 1], "id %llu reused", (unsigned long long)ids[i]);
	ph_close(fd);
}

static void test_events(void)
{
	int fd = open_dev(PH_OPEN_NONBLOCK), i, got = 0, r;
	struct ph_event ev[8];
	struct kid k[3];
	__u64 h[3];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	for (i = 0; i < 3; i++) {
		k[i] = spawn();
		EXPECT(ph_acquire_pinned(fd, k[i].pid, &h[i]), 0);
	}
	EXPECT(ph_read_events(fd, ev, 8), -EAGAIN);
	CHECK(poll(&pfd, 1, 0) == 0, "POLLIN with nothing queued");
	EXPECT(ph_read_events(fd, ev, 0), -EINVAL);
	/* Exit one after the other: 2, 0, 1. */
	{
		static const int order[3] = { 2, 0, 1 };

		for (i = 0; i < 3; i++) {
			int st;

			tell_exit(&k[order[i]], (unsigned char)(10 + order[i]));
			EXPECT(ph_wait(fd, h[order[i]], &st), 0);
			reap(k[order[i]].pid);
		}
		CHECK(poll(&pfd, 1, 5000) == 1 && (pfd.revents & POLLIN),
		      "no POLLIN with events queued");
		while (got < 3) {
			r = ph_read_events(fd, ev + got, 8 - (unsigned int)got);
			if (r <= 0) {
				CHECK(r > 0, "ph_read_events: %d after %d", r, got);
				break;
			}
			got += r;
		}
		CHECK(got == 3, "%d events for 3 exits", got);
		for (i = 0; i < got && i < 3; i++) {
			int j = order[i];

			CHECK(ev[i].handle == h[j], "event %d: handle %llu want %llu", i,
			      (unsigned long long)ev[i].handle, (unsigned long long)h[j]);
			CHECK(ev[i].pid == k[j].pid, "event %d: pid %d want %d", i,
			      ev[i].pid, k[j].pid);
			CHECK(WIFEXITED(ev[i].status) && WEXITSTATUS(ev[i].status) == 10 + j,
			      "event %d: status %#x", i, ev[i].status);
		}
	}
	/* Exactly one event per handle. */
	EXPECT(ph_read_events(fd, ev, 8), -EAGAIN);
	pfd.revents = 0;
	CHECK(poll(&pfd, 1, 0) == 0, "POLLIN after draining");
	/* A buffer too small for one record. */
	{
		char small[sizeof(struct ph_event) - 1];
		ssize_t n = read(fd, small, sizeof(small));

		CHECK(n < 0 && errno == EINVAL, "short read: %zd %s", n, strerror(errno));
	}
	ph_close(fd);
}

static void test_events_blocking(void)
{
	int fd = open_dev(0), r;
	struct ph_event ev[4];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct kid a = spawn(), b = spawn();
	__u64 ha, hb;

	EXPECT(ph_acquire(fd, a.pid, &ha), 0);
	EXPECT(ph_acquire(fd, b.pid, &hb), 0);
	CHECK(poll(&pfd, 1, 0) == 0, "POLLIN before any exit");
	tell_exit(&a, 1);
	tell_exit(&b, 2);
	until_zombie(a.pid);
	until_zombie(b.pid);
	/* A blocking read of max 1 returns exactly one whole record. */
	r = ph_read_events(fd, ev, 1);
	CHECK(r == 1, "first read: %d", r);
	r = ph_read_events(fd, ev + 1, 1);
	CHECK(r == 1, "second read: %d", r);
	CHECK((ev[0].handle == ha && ev[1].handle == hb) ||
	      (ev[0].handle == hb && ev[1].handle == ha), "handles %llu %llu",
	      (unsigned long long)ev[0].handle, (unsigned long long)ev[1].handle);
	pfd.revents = 0;
	CHECK(poll(&pfd, 1, 0) == 0, "POLLIN after both read");
	reap(a.pid);
	reap(b.pid);
	ph_close(fd);
}

static void test_events_zombie_and_release(void)
{
	int fd = open_dev(PH_OPEN_NONBLOCK), r;
	struct ph_event ev[4];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct kid a = spawn(), z = spawn();
	__u64 ha, hz;

	EXPECT(ph_acquire(fd, a.pid, &ha), 0);
	tell_exit(&a, 0);
	until_zombie(a.pid);
	CHECK(poll(&pfd, 1, 5000) == 1, "no POLLIN after exit");
	/* Released before read: its event is dropped. */
	EXPECT(ph_release(fd, ha), 0);
	pfd.revents = 0;
	CHECK(poll(&pfd, 1, 0) == 0, "POLLIN after the only event's handle was released");
	EXPECT(ph_read_events(fd, ev, 4), -EAGAIN);
	/* A zombie acquired later still produces its one event. */
	tell_exit(&z, 6);
	until_zombie(z.pid);
	EXPECT(ph_acquire_pinned(fd, z.pid, &hz), 0);
	CHECK(poll(&pfd, 1, 5000) == 1, "no event for an acquired zombie");
	r = ph_read_events(fd, ev, 4);
	CHECK(r == 1 && ev[0].handle == hz && ev[0].pid == z.pid &&
	      WIFEXITED(ev[0].status) && WEXITSTATUS(ev[0].status) == 6,
	      "zombie event: r=%d handle %llu pid %d status %#x", r,
	      (unsigned long long)ev[0].handle, ev[0].pid, ev[0].status);
	reap(a.pid);
	reap(z.pid);
	ph_close(fd);
}

static void test_fork_shares_table(void)
{
	int fd = open_dev(0), st;
	struct kid k = spawn();
	pid_t p;
	__u64 h;

	EXPECT(ph_acquire_pinned(fd, k.pid, &h), 0);
	fflush(stdout);
	p = fork();
	if (!p) {
		struct ph_info info;

		EXPECT(ph_info(fd, h, &info), 0);
		CHECK(info.pid == k.pid, "child sees pid %d", info.pid);
		/* Released in the child: gone for the parent too. */
		EXPECT(ph_release(fd, h), 0);
		fflush(stdout);
		_exit(failed);
	}
	st = reap(p);
	CHECK(WIFEXITED(st) && !WEXITSTATUS(st), "forked child failed");
	EXPECT(ph_release(fd, h), -EBADF);
	tell_exit(&k, 0);
	reap(k.pid);
	ph_close(fd);
}

static int counters_at(const long *base)
{
	static const char *const names[3] = { "files", "handles", "task_refs" };
	int i, tries;

	for (tries = 0; tries < 200; tries++) {
		for (i = 0; i < 3; i++)
			if (read_counter(names[i]) != base[i])
				break;
		if (i == 3)
			return 1;
		usleep(10000);
	}
	for (i = 0; i < 3; i++)
		printf("# %s: %ld, baseline %ld\n", names[i], read_counter(names[i]), base[i]);
	return 0;
}

static void test_close_releases_all(void)
{
	long base[3] = { read_counter("files"), read_counter("handles"),
			 read_counter("task_refs") };
	struct kid k = spawn();
	int fd, i, st;
	__u64 h;

	if (base[0] < 0 || base[1] < 0 || base[2] < 0)
		SKIP("counters not found under " SYSFS);
	fd = open_dev(0);
	CHECK(read_counter("files") == base[0] + 1, "files %ld", read_counter("files"));
	for (i = 0; i < 100; i++)
		EXPECT(ph_acquire(fd, k.pid, &h), 0);
	CHECK(read_counter("handles") >= base[1] + 100, "handles %ld", read_counter("handles"));
	CHECK(read_counter("task_refs") > base[2], "task_refs %ld", read_counter("task_refs"));
	EXPECT(ph_wait_nohang(fd, h, &st), -EAGAIN);
	ph_close(fd);
	CHECK(counters_at(base), "counters not back to baseline after close");

	/* Same with exited and waited-for handles and unread events. */
	fd = open_dev(0);
	for (i = 0; i < 50; i++)
		EXPECT(ph_acquire(fd, k.pid, &h), 0);
	tell_exit(&k, 0);
	EXPECT(ph_wait(fd, h, &st), 0);
	reap(k.pid);
	ph_close(fd);
	CHECK(counters_at(base), "counters not back to baseline after exit + close");
}

static void test_compat_layout(void)
{
	/* The same binary built -m32 runs these tests through compat_ioctl. */
	CHECK(sizeof(struct ph_acquire) == PH_ACQUIRE_SIZE_VER0, "ph_acquire %zu",
	      sizeof(struct ph_acquire));
	CHECK(sizeof(struct ph_signal) == PH_SIGNAL_SIZE_VER0, "ph_signal");
	CHECK(sizeof(struct ph_wait) == PH_WAIT_SIZE_VER0, "ph_wait");
	CHECK(sizeof(struct ph_info) == PH_INFO_SIZE_VER1, "ph_info");
	CHECK(sizeof(struct ph_event) == 16, "ph_event %zu", sizeof(struct ph_event));
	CHECK(sizeof(struct ph_events) == PH_EVENTS_SIZE_VER0, "ph_events");
	CHECK(sizeof(struct ph_event2) == PH_EVENT2_SIZE_VER0, "ph_event2");
	CHECK(sizeof(struct ph_exit) == 48, "ph_exit %zu", sizeof(struct ph_exit));
	printf("# %d-bit user space\n", (int)sizeof(long) * 8);
}

/* ---- v2 calls (LIBPROCHANDLE_2) ---------------------------------------- */

/* Write @n fake V2 records of @rec bytes each into a pipe. */
static int fake_v2(unsigned int n, size_t rec)
{
	unsigned char buf[4096];
	unsigned int i;
	int p[2];

	if (pipe2(p, O_CLOEXEC) || n * rec > sizeof(buf))
		die("pipe");
	memset(buf, 0xee, sizeof(buf));
	for (i = 0; i < n; i++) {
		struct ph_event2 e;

		memset(&e, 0, sizeof(e));
		e.size = (__u32)rec;
		e.type = PH_EVENT_EXIT;
		e.handle = 100 + i;
		e.pid = (__s32)(1000 + i);
		e.exit.exit_flags = PH_EXIT_F_VALID;
		memcpy(buf + i * rec, &e, rec < sizeof(e) ? rec : sizeof(e));
	}
	if (write(p[1], buf, n * rec) != (ssize_t)(n * rec))
		die("write");
	close(p[1]);
	return p[0];
}

/* What a program built with a larger struct ph_event2 would pass. */
struct ev2_future {
	struct ph_event2 e;
	__u64 more[4];
};

static void test_read_events2_sizes(void)
{
	struct ev2_future big[4];
	struct ph_event2 ev[8];
	int fd, n, i;

	/* The module's records as ours: read as they are. */
	fd = fake_v2(3, sizeof(ev[0]));
	n = ph_read_events2(fd, ev, 8, sizeof(ev[0]));
	EXPECT(n, 3);
	for (i = 0; i < n; i++)
		CHECK(ev[i].size == sizeof(ev[0]) && ev[i].handle == 100u + i &&
		      ev[i].pid == 1000 + i && ev[i].exit.exit_flags == PH_EXIT_F_VALID,
		      "record %d: size %u handle %llu", i, ev[i].size,
		      (unsigned long long)ev[i].handle);
	close(fd);

	/* A newer module's larger records: cut to what we know. */
	fd = fake_v2(5, sizeof(ev[0]) + 32);
	n = ph_read_events2(fd, ev, 8, sizeof(ev[0]));
	CHECK(n >= 1 && n <= 5, "n = %d", n);
	for (i = 0; i < n; i++)
		CHECK(ev[i].size == sizeof(ev[0]) && ev[i].handle == 100u + i,
		      "newer record %d: size %u handle %llu", i, ev[i].size,
		      (unsigned long long)ev[i].handle);
	close(fd);

	/* A program that knows more than this module: zero-filled. */
	fd = fake_v2(4, sizeof(ev[0]));
	memset(big, 0xaa, sizeof(big));
	n = ph_read_events2(fd, &big[0].e, 4, sizeof(big[0]));
	EXPECT(n, 4);
	for (i = 0; i < n; i++)
		CHECK(big[i].e.size == sizeof(ev[0]) && big[i].e.handle == 100u + i &&
		      !big[i].more[0] && !big[i].more[3],
		      "future record %d: size %u handle %llu more %llx", i,
		      big[i].e.size, (unsigned long long)big[i].e.handle,
		      (unsigned long long)big[i].more[0]);
	close(fd);

	/* V1 records are not V2 records. */
	fd = fake_v2(1, 16);
	EXPECT(ph_read_events2(fd, ev, 8, sizeof(ev[0])), -EPROTO);
	close(fd);

	EXPECT(ph_read_events2(0, ev, 0, sizeof(ev[0])), -EINVAL);
	EXPECT(ph_read_events2(0, ev, 1, PH_EVENT2_SIZE_VER0 - 8), -EINVAL);
	EXPECT(ph_info2(0, 1, NULL, PH_INFO_SIZE_VER0 - 8), -EINVAL);
}

/* ph_info() fills exactly the v1 struct, whatever the header's size. */
static void test_info_v1_size(void)
{
	unsigned char buf[sizeof(struct ph_info) + 64];
	struct kid k = spawn();
	__u64 h;
	int fd = open_dev(0);
	size_t i;

	REQUIRE(ph_acquire(fd, k.pid, &h) == 0, "acquire");
	memset(buf, 0x5a, sizeof(buf));
	EXPECT(ph_info(fd, h, (struct ph_info *)(void *)buf), 0);
	for (i = PH_INFO_SIZE_VER0; i < sizeof(buf); i++)
		if (buf[i] != 0x5a)
			break;
	CHECK(i == sizeof(buf), "ph_info wrote byte %zu", i);
	memset(buf, 0x5a, sizeof(buf));
	EXPECT(ph_info2(fd, h, (struct ph_info *)(void *)buf, sizeof(buf) - 8), 0);
	CHECK(buf[sizeof(buf) - 9] == 0 && buf[sizeof(buf) - 8] == 0x5a,
	      "ph_info2 zero-fills exactly @size bytes");
	tell_exit(&k, 0);
	reap(k.pid);
	ph_close(fd);
}

/* ---- runner ------------------------------------------------------------ */

/* ---- pidfds (libprochandle 2) ------------------------------------------ */

/* The "Pid:" line of a pidfd's fdinfo: its pid, -1 once reaped; -2: none. */
static long pidfd_pid(int pidfd)
{
	char path[64], line[128];
	long v = -2;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	f = fopen(path, "re");
	if (!f)
		return -2;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Pid: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

static void test_pidfd(void)
{
	int fd = open_dev(0), pidfd, st;
	struct kid k = spawn(), z = spawn();
	__u64 h, hz;

	EXPECT(ph_acquire(fd, k.pid, &h), 0);
	pidfd = ph_pidfd(fd, h);
	REQUIRE(pidfd >= 0, "ph_pidfd: %s", ph_strerror(pidfd));
	CHECK(pidfd_pid(pidfd) == k.pid, "pidfd names %ld, want %d",
	      pidfd_pid(pidfd), k.pid);
	CHECK(fcntl(pidfd, F_GETFD) == FD_CLOEXEC, "pidfd not O_CLOEXEC");
	CHECK(syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0,
	      "pidfd_send_signal 0: %s", strerror(errno));
	/* Exited and waited: -ESRCH, while the old pidfd sees it reaped. */
	tell_exit(&k, 3);
	EXPECT(ph_wait(fd, h, &st), 0);
	EXPECT(ph_pidfd(fd, h), -ESRCH);
	reap(k.pid);
	CHECK(pidfd_pid(pidfd) == -1, "reaped, pidfd says %ld", pidfd_pid(pidfd));
	EXPECT(ph_pidfd(fd, h), -ESRCH);
	close(pidfd);
	/* A zombie (EXITED, not waited through the handle): -ESRCH. */
	EXPECT(ph_acquire(fd, z.pid, &hz), 0);
	tell_exit(&z, 0);
	until_zombie(z.pid);
	EXPECT(ph_pidfd(fd, hz), -ESRCH);
	reap(z.pid);
	/* Released and unknown handles. */
	EXPECT(ph_release(fd, h), 0);
	EXPECT(ph_pidfd(fd, h), -EBADF);
	EXPECT(ph_pidfd(fd, 0), -EBADF);
	EXPECT(ph_pidfd(fd, ~0ULL), -EBADF);
	ph_close(fd);
}

static void test_acquire_pidfd(void)
{
	int fd = open_dev(0), pidfd, nul, st;
	struct kid k = spawn();
	struct ph_info i;
	__u64 h;

	pidfd = (int)syscall(SYS_pidfd_open, k.pid, 0);
	REQUIRE(pidfd >= 0, "pidfd_open: %s", strerror(errno));
	EXPECT(ph_acquire_pidfd(fd, pidfd, &h), 0);
	EXPECT(ph_info(fd, h, &i), 0);
	CHECK(i.pid == k.pid && i.state == PH_STATE_RUNNING, "pid %d state %u",
	      i.pid, i.state);
	close(pidfd);		/* the handle holds its own reference */
	tell_exit(&k, 8);
	EXPECT(ph_wait(fd, h, &st), 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 8, "status %#x", st);
	/* DONE: no pidfd any more. */
	pidfd = ph_pidfd(fd, h);
	CHECK(pidfd == -ESRCH, "ph_pidfd of a DONE handle: %d", pidfd);
	nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	EXPECT(ph_acquire_pidfd(fd, nul, &h), -EBADF);
	EXPECT(ph_acquire_pidfd(fd, -1, &h), -EBADF);
	close(nul);
	reap(k.pid);
	ph_close(fd);
}

static void test_acquire_pidfd_reaped(void)
{
	int fd = open_dev(0), pidfd;
	struct kid k = spawn();
	__u64 h;

	pidfd = (int)syscall(SYS_pidfd_open, k.pid, 0);
	REQUIRE(pidfd >= 0, "pidfd_open: %s", strerror(errno));
	tell_exit(&k, 0);
	reap(k.pid);
	EXPECT(ph_acquire_pidfd(fd, pidfd, &h), -ESRCH);
	close(pidfd);
	ph_close(fd);
}

/*
 * fork() whose child gets the number @want: ns_last_pid when the kernel
 * has CONFIG_CHECKPOINT_RESTORE, else clone3() with set_tid.  Both need
 * CAP_SYS_ADMIN over the pid namespace.
 */
static pid_t fork_as(pid_t want)
{
	struct {
		__u64 flags, pidfd, child_tid, parent_tid, exit_signal;
		__u64 stack, stack_size, tls, set_tid, set_tid_size, cgroup;
	} ca = { .exit_signal = SIGCHLD, .set_tid_size = 1 };
	pid_t tid = want;
	char buf[32];
	int f, ok;

	snprintf(buf, sizeof(buf), "%d", want - 1);
	f = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
	if (f >= 0) {
		ok = write(f, buf, strlen(buf)) == (ssize_t)strlen(buf);
		close(f);
		if (ok)
			return fork();
	}
	ca.set_tid = (uintptr_t)&tid;
	return (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
}

/* First field of /proc/PID/syscall: the number of the syscall it is in. */
static long in_syscall(pid_t pid)
{
	char path[64];
	long nr = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &nr) != 1)
		nr = -1;
	fclose(f);
	return nr;
}

/*
 * Try to make ph_pidfd() return a pidfd for a process that reused the
 * number.  A traced child calls ph_pidfd() and is stopped as it enters
 * pidfd_open(2), after its INFO said RUNNING: the worst moment.  Meanwhile
 * the handle's process A is killed and reaped, and B is forked with A's
 * number.  The child then opens a pidfd for B; ph_pidfd() must see that A
 * has exited and return -ESRCH, never that pidfd.
 */
static void test_pidfd_reuse(void)
{
	int fd = open_dev(0), rep[2], st, stops;
	struct kid a = spawn(), b;
	long got[2] = { 0, 0 };
	pid_t racer;
	__u64 h;

	EXPECT(ph_acquire(fd, a.pid, &h), 0);
	if (pipe2(rep, O_CLOEXEC))
		die("pipe");
	racer = fork();
	if (racer < 0)
		die("fork");
	if (!racer) {
		long r[2];

		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
			_exit(2);
		raise(SIGSTOP);
		r[0] = ph_pidfd(fd, h);
		r[1] = r[0] >= 0 ? pidfd_pid((int)r[0]) : 0;
		_exit(write(rep[1], r, sizeof(r)) == sizeof(r) ? 0 : 3);
	}
	close(rep[1]);
	REQUIRE(waitpid(racer, &st, 0) == racer && WIFSTOPPED(st), "racer not stopped");
	for (stops = 0; stops < 100; stops++) {
		REQUIRE(!ptrace(PTRACE_SYSCALL, racer, NULL, NULL), "PTRACE_SYSCALL: %s",
			strerror(errno));
		REQUIRE(waitpid(racer, &st, 0) == racer && WIFSTOPPED(st),
			"racer ended early: %#x", st);
		if (in_syscall(racer) == SYS_pidfd_open)
			break;
	}
	REQUIRE(stops < 100, "racer never entered pidfd_open");
	/* The racer is about to open a pidfd by A's number: reuse it now. */
	EXPECT(ph_signal(fd, h, SIGKILL), 0);
	reap(a.pid);
	b = spawn_as(a.pid);
	if (b.pid != a.pid) {
		printf("# could not fork with pid %d\n", a.pid);
		kill(racer, SIGKILL);
		exit(KSFT_SKIP);
	}
	REQUIRE(!ptrace(PTRACE_DETACH, racer, NULL, NULL), "detach: %s", strerror(errno));
	REQUIRE(read(rep[0], got, sizeof(got)) == sizeof(got), "no report from the racer");
	CHECK(got[0] == -ESRCH, "ph_pidfd after reuse = %ld (pidfd names pid %ld, "
	      "B is %d), want -ESRCH", got[0], got[1], b.pid);
	CHECK(reap(racer) == 0, "racer failed");
	tell_exit(&b, 0);
	reap(b.pid);
	ph_close(fd);
}

/* ph_acquire_track(): a child of a tracked process has a handle (SPEC 12). */
static void test_acquire_track(void)
{
	int fd = open_dev(0), got = 0, r;
	struct ph_event2 ev[4];
	__u64 h;
	pid_t p;

	CHECK(!strcmp(ph_event_name(PH_EVENT_FORK), "fork"), "fork name");
	CHECK(!strcmp(ph_event_name(PH_EVENT_EXEC), "exec"), "exec name");
	CHECK(!strcmp(ph_event_name(PH_EVENT_EXIT), "exit"), "exit name");
	CHECK(!strcmp(ph_event_name(1U << 20), "unknown"), "unknown name");
	EXPECT(ph_set_events(fd, PH_EVENTS_V2, PH_EVENT_FORK), 0);
	EXPECT(ph_acquire_track(fd, getpid(), 0, &h), 0);
	EXPECT(ph_acquire_track(fd, 0, 0, &h), -EINVAL);
	p = fork();
	if (!p)
		_exit(5);
	CHECK(p > 0, "fork: %s", strerror(errno));
	reap(p);
	/* The FORK record, then the child's EXIT. */
	while (got < 2) {
		r = ph_read_events2(fd, ev + got, 4 - (unsigned int)got, sizeof(ev[0]));
		if (r <= 0) {
			CHECK(r > 0, "ph_read_events2: %d after %d", r, got);
			break;
		}
		got += r;
	}
	CHECK(got == 2, "%d records", got);
	CHECK(ev[0].type == PH_EVENT_FORK && ev[0].handle == h &&
	      ev[0].child && ev[0].child_pid == p && !ev[0].flags,
	      "FORK record: type %u handle %llu child %llu pid %d", ev[0].type,
	      (unsigned long long)ev[0].handle, (unsigned long long)ev[0].child,
	      ev[0].child_pid);
	CHECK(ev[1].type == PH_EVENT_EXIT && ev[1].handle == ev[0].child &&
	      WEXITSTATUS(ev[1].status) == 5, "EXIT record: type %u", ev[1].type);
	ph_close(fd);
}

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "compat_layout", test_compat_layout },
	{ "open_close", test_open_close },
	{ "strerror", test_strerror },
	{ "start_ticks", test_start_ticks },
	{ "start_ticks_weird_comm", test_start_ticks_weird_comm },
	{ "acquire_info", test_acquire_info },
	{ "acquire_errors", test_acquire_errors },
	{ "acquire_eperm", test_acquire_eperm },
	{ "acquire_emfile", test_acquire_emfile },
	{ "zombie", test_zombie },
	{ "signal_wait", test_signal_wait },
	{ "signal_after_exit", test_signal_after_exit },
	{ "signal_eperm", test_signal_eperm },
	{ "wait_nohang_timeout", test_wait_nohang_timeout },
	{ "wait_nonchild", test_wait_nonchild },
	{ "wait_thread_group", test_wait_thread_group },
	{ "wait_many_threads", test_wait_many_threads },
	{ "wait_eintr", test_wait_eintr },
	{ "release", test_release },
	{ "release_concurrent", test_release_concurrent },
	{ "release_inflight_wait", test_release_inflight_wait },
	{ "handle_ids_unique", test_handle_ids_unique },
	{ "events", test_events },
	{ "events_blocking", test_events_blocking },
	{ "events_zombie_and_release", test_events_zombie_and_release },
	{ "fork_shares_table", test_fork_shares_table },
	{ "close_releases_all", test_close_releases_all },
	{ "pidfd", test_pidfd },
	{ "pidfd_reuse", test_pidfd_reuse },
	{ "acquire_pidfd", test_acquire_pidfd },
	{ "acquire_pidfd_reaped", test_acquire_pidfd_reaped },
	{ "read_events2_sizes", test_read_events2_sizes },
	{ "info_v1_size", test_info_v1_size },
	{ "acquire_track", test_acquire_track },
};

#define NTESTS ((int)(sizeof(tests) / sizeof(tests[0])))

int main(int argc, char **argv)
{
	int i, pass = 0, fail = 0, skip = 0, fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	fd = ph_open(0);
	if (fd == -ENOENT) {
		printf("1..0 # SKIP %s\n", ph_strerror(fd));
		return KSFT_SKIP;
	}
	if (fd >= 0)
		ph_close(fd);
	printf("1..%d\n", NTESTS);
	for (i = 0; i < NTESTS; i++) {
		int st;
		pid_t p;

		if (argc > 1 && !strstr(tests[i].name, argv[1])) {
			printf("ok %d %s # SKIP not selected\n", i + 1, tests[i].name);
			skip++;
			continue;
		}
		fflush(stdout);
		p = fork();
		if (p < 0)
			die("fork");
		if (!p) {
			alarm(60);
			tests[i].fn();
			fflush(stdout);
			_exit(failed ? KSFT_FAIL : KSFT_PASS);
		}
		if (waitpid(p, &st, 0) != p)
			die("waitpid");
		if (WIFEXITED(st) && WEXITSTATUS(st) == KSFT_PASS) {
			printf("ok %d %s\n", i + 1, tests[i].name);
			pass++;
		} else if (WIFEXITED(st) && WEXITSTATUS(st) == KSFT_SKIP) {
			printf("ok %d %s # SKIP\n", i + 1, tests[i].name);
			skip++;
		} else {
			if (WIFSIGNALED(st))
				printf("# %s: killed by signal %d%s\n", tests[i].name,
				       WTERMSIG(st), WTERMSIG(st) == SIGALRM ? " (timeout)" : "");
			printf("not ok %d %s\n", i + 1, tests[i].name);
			fail++;
		}
	}
	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n",
	       pass, fail, skip);
	if (fail)
		return KSFT_FAIL;
	return pass ? KSFT_PASS : KSFT_SKIP;
}
