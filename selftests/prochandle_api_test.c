// SPDX-License-Identifier: GPL-2.0
/*
 * prochandle: the ioctl contract, row by row (SPEC §2, §3 tables), the open
 * file (sharing, close, fdinfo, max_handles, unprivileged callers) and the
 * basic event read path.  Also built with -m32 (prochandle_api_test_32) to
 * run every core call through the compat ioctl path.  See README for the
 * test -> SPEC row map.
 */
#include "ph_test.h"

/* ==================================================================== */
/* ACQUIRE                                                               */

TEST_F(ph, acquire_self_info)
{
	struct ph_info i;
	unsigned long long ticks;
	long hz = sysconf(_SC_CLK_TCK);
	__u64 h;

	ASSERT_EQ(0, ioc_acquire(self->fd, getpid(), &h));
	EXPECT_NE(0, h);
	EXPECT_COUNTERS(1, 1, 1);
	ASSERT_EQ(0, ioc_info(self->fd, h, &i));
	EXPECT_EQ(h, i.handle);
	EXPECT_EQ(getpid(), i.pid);
	EXPECT_EQ(PH_STATE_RUNNING, i.state);
	EXPECT_EQ(0, i.status);
	EXPECT_EQ(0, i.pad);
	EXPECT_EQ(0, i.reserved[0]);
	EXPECT_EQ(0, i.reserved[1]);
	/* start_time is CLOCK_BOOTTIME ns, /proc/PID/stat field 22 in ticks */
	ticks = ph_stat_starttime("/proc", getpid());
	EXPECT_EQ(ticks, i.start_time / (1000000000ull / hz));
	EXPECT_GE(ph_now_ns(CLOCK_BOOTTIME), i.start_time);
	ASSERT_EQ(0, ioc_release(self->fd, h));
	EXPECT_COUNTERS(1, 0, 0);
}

TEST_F(ph, acquire_pid_not_positive)
{
	__u64 h = 0;

	EXPECT_EQ(-EINVAL, ioc_acquire(self->fd, 0, &h));
	EXPECT_EQ(-EINVAL, ioc_acquire(self->fd, -1, &h));
	EXPECT_EQ(-EINVAL, ioc_acquire(self->fd, INT_MIN, &h));
	EXPECT_COUNTERS(1, 0, 0);
}

TEST_F(ph, acquire_unknown_flags)
{
	/* The flags v2 defined since: each has its own tests. */
	const __u32 v2 = 0
#ifdef PH_ACQUIRE_KILL_ON_RELEASE
		| PH_ACQUIRE_KILL_ON_RELEASE
#endif
#ifdef PH_ACQUIRE_TRACK
		| PH_ACQUIRE_TRACK
#endif
#ifdef PH_ACQUIRE_PIDFD
		| PH_ACQUIRE_PIDFD
#endif
		;
	unsigned int bit;

	for (bit = 2; bit < 32; bit++)
		if (!(v2 & (1U << bit)))
			EXPECT_EQ(-EINVAL, ioc_acquire_st(self->fd, getpid(),
							  1U << bit, 0, NULL));
	/* both start-time flags at once */
	EXPECT_EQ(-EINVAL, ioc_acquire_st(self->fd, getpid(),
					  PH_ACQUIRE_STARTTIME |
					 PH_ACQUIRE_STARTTIME_TICKS, 0, NULL));
	EXPECT_COUNTERS(1, 0, 0);
}

TEST_F(ph, acquire_reserved_nonzero)
{
	struct ph_acquire a;
	int k;

	for (k = 0; k < 2; k++) {
		memset(&a, 0, sizeof(a));
		a.pid = getpid();
		a.reserved[k] = 1ull << 63;
		EXPECT_EQ(-EINVAL, ioc_call(self->fd, PH_IOC_ACQUIRE, &a));
	}
	EXPECT_COUNTERS(1, 0, 0);
}

TEST_F(ph, acquire_no_such_process)
{
	struct ph_kid k;
	int st;

	EXPECT_EQ(-ESRCH, ioc_acquire(self->fd, INT_MAX, NULL));
	/* a reaped child's number */
	ASSERT_EQ(0, ph_spawn(&k));
	ph_kid_exit(&k, 0);
	st = ph_reap(k.pid);
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(-ESRCH, ioc_acquire(self->fd, k.pid, NULL));
	EXPECT_COUNTERS(1, 0, 0);
}

static void *park_thread(void *arg)
{
	int fd = *(int *)arg;
	char c;

	*(int *)arg = ph_gettid();
	/* until the pipe is closed */
	while (read(fd, &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

TEST_F(ph, acquire_non_leader_thread)
{
	pthread_t t;
	int p[2], arg;

	ASSERT_EQ(0, pipe(p));
	arg = p[0];
	ASSERT_EQ(0, pthread_create(&t, NULL, park_thread, &arg));
	ASSERT_TRUE(ph_until(__atomic_load_n(&arg, __ATOMIC_SEQ_CST) != p[0], 5000));
	EXPECT_NE(getpid(), arg);
	EXPECT_EQ(-EINVAL, ioc_acquire(self->fd, arg, NULL));
	close(p[1]);
	pthread_join(t, NULL);
	close(p[0]);
	EXPECT_COUNTERS(1, 0, 0);
}

static int st_pid_check(int fd, pid_t pid, __u64 st_ns, unsigned long long ticks)
{
	__u64 h;

	/* wrong ns start time: refused as if the number had been reused */
	if (ioc_acquire_st(fd, pid, PH_ACQUIRE_STARTTIME, st_ns + 1, NULL) != -ESRCH)
		return 1;
	if (ioc_acquire_st(fd, pid, PH_ACQUIRE_STARTTIME, st_ns - 1, NULL) != -ESRCH)
		return 2;
	if (ioc_acquire_st(fd, pid, PH_ACQUIRE_STARTTIME_TICKS, ticks + 1, NULL) != -ESRCH)
		return 3;
	if (ioc_acquire_st(fd, pid, PH_ACQUIRE_STARTTIME, st_ns, &h) || ioc_release(fd, h))
		return 4;
	if (ioc_acquire_st(fd, pid, PH_ACQUIRE_STARTTIME_TICKS, ticks, &h) || ioc_release(fd, h))
		return 5;
	return 0;
}

TEST_F(ph, acquire_starttime_pinning)
{
	struct ph_info i;
	struct ph_kid k;
	__u64 h;
	unsigned long long ticks;

	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &h));
	ASSERT_EQ(0, ioc_info(self->fd, h, &i));
	ticks = ph_stat_starttime("/proc", k.pid);
	ASSERT_NE(0, ticks);
	EXPECT_EQ(0, st_pid_check(self->fd, k.pid, i.start_time, ticks));
	EXPECT_EQ(0, ioc_release(self->fd, h));
	EXPECT_COUNTERS(1, 0, 0);
	ph_kid_exit(&k, 0);
	EXPECT_EQ(0, ph_reap(k.pid));
}

TEST_F(ph, acquire_zombie)
{
	struct ph_info i;
	struct ph_kid k;
	__u64 h;
	int st, wst;

	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	ph_kid_exit(&k, 23);
	ASSERT_EQ(0, ph_wait_zombie(k.pid));
	ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &h));
	ASSERT_EQ(0, ioc_info(self->fd, h, &i));
	EXPECT_EQ(PH_STATE_EXITED, i.state);
	EXPECT_EQ(k.pid, i.pid);
	EXPECT_TRUE(WIFEXITED(i.status));
	EXPECT_EQ(23, WEXITSTATUS(i.status));
	EXPECT_EQ(-ESRCH, ioc_signal(self->fd, h, 0));
	EXPECT_EQ(0, ioc_wait(self->fd, h, PH_WAIT_NOHANG, 0, &st));
	wst = ph_reap(k.pid);
	EXPECT_EQ(wst, st);
	EXPECT_EQ(PH_STATE_DONE, ioc_state(self->fd, h));
	EXPECT_COUNTERS(1, 1, 0);
}

TEST_F(ph, acquire_emfile_max_handles)
{
	struct stat st;
	__u64 h[9];
	int fd2, i;

	self->saved_max = ph_read_long(PH_MAX_HANDLES);
	ASSERT_LT(0, self->saved_max);
	/* writable by root only */
	ASSERT_EQ(0, stat(PH_MAX_HANDLES, &st));
	EXPECT_EQ(0, st.st_uid);
	EXPECT_TRUE(st.st_mode & 0200);		/* root may write */
	EXPECT_EQ(0, st.st_mode & 0022);	/* nobody else */
	ASSERT_EQ(0, ph_write_long(PH_MAX_HANDLES, 8));
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, ioc_acquire(self->fd, getpid(), &h[i]));
	EXPECT_EQ(-EMFILE, ioc_acquire(self->fd, getpid(), &h[8]));
	EXPECT_EQ(-EMFILE, ioc_acquire_st(self->fd, getpid(),
					  PH_ACQUIRE_STARTTIME_TICKS,
					 ph_stat_starttime("/proc", getpid()), NULL));
	EXPECT_COUNTERS(1, 8, 8);
	/* the limit is per table */
	fd2 = ioc_open();
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, ioc_acquire(fd2, getpid(), &h[8]));
	close(fd2);
	/* a released slot can be used again; DONE handles count until released */
	EXPECT_EQ(0, ioc_release(self->fd, h[0]));
	EXPECT_EQ(0, ioc_acquire(self->fd, getpid(), &h[0]));
	EXPECT_EQ(-EMFILE, ioc_acquire(self->fd, getpid(), NULL));
	EXPECT_COUNTERS(1, 8, 8);
}

/*
 * ENOMEM through fault injection (failslab, debug kernels only): each
 * failable slab allocation of ACQUIRE fails in turn (ph_failslab_start()).
 */
TEST_F(ph, acquire_enomem)
{
	int n, r, left, enomem = 0, ok = 0;
	struct ph_failslab f;
	__u64 h;

	PH_FAILSLAB_START(&f);
	for (n = 1; n <= 8; n++) {
		ASSERT_EQ(0, ph_fail_nth(&f, n));
		r = ioc_acquire(self->fd, getpid(), &h);
		left = ph_fail_nth_end(&f);
		ASSERT_LE(0, left);
		if (r == 0) {
			ok++;
			EXPECT_EQ(0, ioc_release(self->fd, h));
		} else {
			EXPECT_EQ(-ENOMEM, r);
			/* an injected failure: nothing of the call is left */
			EXPECT_EQ(0, left);
			enomem++;
		}
		EXPECT_COUNTERS(1, 0, 0);
	}
	EXPECT_EQ(0, ph_failslab_stop(&f));
	EXPECT_LT(0, enomem);
	EXPECT_LT(0, ok);	/* past the last allocation it succeeds */
}

/* Invariant 5: ids are never 0 and never reused within a file. */
TEST_F(ph, handle_ids_never_reused)
{
	enum { N = 3000 };
	__u64 *ids = calloc(N, sizeof(*ids));
	struct ph_info i;
	int k;

	ASSERT_NE(NULL, ids);
	for (k = 0; k < N; k++) {
		ASSERT_EQ(0, ioc_acquire(self->fd, getpid(), &ids[k]));
		EXPECT_NE(0, ids[k]);
		/* release most at once, keep every 10th live for a while */
		if (k % 10)
			ASSERT_EQ(0, ioc_release(self->fd, ids[k]));
		if (k % 10 == 0 && k >= 500)
			ASSERT_EQ(0, ioc_release(self->fd, ids[k - 500]));
	}
	/* stale ids never name a newer handle */
	for (k = 0; k < N; k++) {
		if (k % 10 == 0 && k >= N - 500) {
			EXPECT_EQ(0, ioc_info(self->fd, ids[k], &i));
			continue;
		}
		EXPECT_EQ(-EBADF, ioc_info(self->fd, ids[k], &i));
	}
	qsort(ids, N, sizeof(*ids), ph_cmp_u64);
	for (k = 1; k < N; k++)
		ASSERT_NE(ids[k - 1], ids[k]);
	free(ids);
}

/* ==================================================================== */
/* RELEASE                                                               */

TEST_F(ph, release_unknown)
{
	__u64 h;
	int fd2;

	EXPECT_EQ(-EBADF, ioc_release(self->fd, 0));
	EXPECT_EQ(-EBADF, ioc_release(self->fd, ~0ull));
	ASSERT_EQ(0, ioc_acquire(self->fd, getpid(), &h));
	EXPECT_EQ(-EBADF, ioc_release(self->fd, h + 1000000));
	EXPECT_EQ(-EBADF, ioc_release(self->fd, h ^ (1ull << 63)));
	/* another table's ids mean nothing here */
	fd2 = ioc_open();
	ASSERT_LE(0, fd2);
	EXPECT_EQ(-EBADF, ioc_release(fd2, h));
	close(fd2);
	EXPECT_EQ(0, ioc_release(self->fd, h));
}

TEST_F(ph, release_then_every_call_ebadf)
{
	struct ph_info i;
	struct ph_kid k;
	__u64 h;
	int st;

	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &h));
	EXPECT_COUNTERS(1, 1, 1);
	ASSERT_EQ(0, ioc_release(self->fd, h));
	EXPECT_COUNTERS(1, 0, 0);
	EXPECT_EQ(-EBADF, ioc_release(self->fd, h));
	EXPECT_EQ(-EBADF, ioc_info(self->fd, h, &i));
	EXPECT_EQ(-EBADF, ioc_signal(self->fd, h, 0));
	EXPECT_EQ(-EBADF, ioc_signal(self->fd, h, SIGKILL));
	EXPECT_EQ(-EBADF, ioc_wait(self->fd, h, 0, 0, &st));
	EXPECT_EQ(-EBADF, ioc_wait(self->fd, h, PH_WAIT_NOHANG, 0, &st));
	EXPECT_EQ(-EBADF, ioc_wait(self->fd, h, PH_WAIT_TIMEOUT, 1000, &st));
	/* the process was not touched */
	EXPECT_EQ(0, kill(k.pid, 0));
	ph_kid_exit(&k, 3);
	st = ph_reap(k.pid);
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(3, WEXITSTATUS(st));
}

/* DONE is not RELEASED: DONE keeps answering, released answers EBADF. */
TEST_F(ph, release_done_vs_released)
{
	struct ph_info i;
	struct ph_kid k;
	__u64 h;
	int st, st2;

	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &h));
	ph_kid_exit(&k, 9);
	ASSERT_EQ(0, ioc_wait(self->fd, h, 0, 0, &st));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(9, WEXITSTATUS(st));
	/* DONE: still in the table, no task reference */
	EXPECT_COUNTERS(1, 1, 0);
	ASSERT_EQ(0, ioc_info(self->fd, h, &i));
	EXPECT_EQ(PH_STATE_DONE, i.state);
	EXPECT_EQ(st, i.status);
	EXPECT_EQ(k.pid, i.pid);
	EXPECT_EQ(-ESRCH, ioc_signal(self->fd, h, 0));
	EXPECT_EQ(0, ioc_wait(self->fd, h, 0, 0, &st2));
	EXPECT_EQ(st, st2);
	EXPECT_EQ(0, ioc_wait(self->fd, h, PH_WAIT_NOHANG, 0, &st2));
	EXPECT_EQ(st, st2);
	EXPECT_EQ(0, ioc_wait(self->fd, h, PH_WAIT_TIMEOUT, 1, &st2));
	EXPECT_EQ(st, st2);
	EXPECT_EQ(st, ph_reap(k.pid));
	/* RELEASED */
	ASSERT_EQ(0, ioc_release(self->fd, h));
	EXPECT_COUNTERS(1, 0, 0);
	EXPECT_EQ(-EBADF, ioc_info(self->fd, h, &i));
	EXPECT_EQ(-EBADF, ioc_signal(self->fd, h, 0));
	EXPECT_EQ(-EBADF, ioc_wait(self->fd, h, 0, 0, &st2));
	EXPECT_EQ(-EBADF, ioc_release(self->fd, h));
}

/* ==================================================================== */
/* SIGNAL                                                                */

TEST_F(ph, signal_delivers)
{
	int ctl, rep, st;
	char b;
	pid_t pid;
	__u64 h;

	pid = ph_spawn_counter(SIGUSR1, true, &ctl, &rep);
	ASSERT_LT(0, pid);
	ph_track(self, pid);
	ASSERT_EQ(1, ph_read_timeout(rep, &b, 1, 10000));
	ASSERT_EQ('r', b);
	ASSERT_EQ(0, ioc_acquire(self->fd, pid, &h));
	EXPECT_EQ(0, ioc_signal(self->fd, h, 0));
	ASSERT_EQ(0, ioc_signal(self->fd, h, SIGUSR1));
	ASSERT_EQ(1, ph_read_timeout(rep, &b, 1, 10000));
	EXPECT_EQ('s', b);
	/* a terminating signal ends it: the status says so */
	ASSERT_EQ(0, ioc_signal(self->fd, h, SIGTERM));
	ASSERT_EQ(0, ioc_wait(self->fd, h, 0, 0, &st));
	EXPECT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGTERM, WTERMSIG(st));
	EXPECT_EQ(st, ph_reap(pid));
	close(ctl);
	close(rep);
	EXPECT_EQ(0, ioc_release(self->fd, h));
}

TEST_F(ph, signal_bad_handle)
{
	__u64 h;

	EXPECT_EQ(-EBADF, ioc_signal(self->fd, 0, 0));
	EXPECT_EQ(-EBADF, ioc_signal(self->fd, 12345678, SIGUSR1));
	ASSERT_EQ(0, ioc_acquire(self->fd, getpid(), &h));
	ASSERT_EQ(0, ioc_release(self->fd, h));
	EXPECT_EQ(-EBADF, ioc_signal(self->fd, h, 0));
}

TEST_F(ph, signal_exited_esrch)
{
	struct ph_kid k;
	__u64 h;
	int st;

	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &h));
	ph_kid_exit(&k, 1);
	/* zombie: exited, not yet reaped */
	ASSERT_EQ(0, ph_wait_zombie(k.pid));
	EXPECT_EQ(PH_STATE_EXITED, ioc_state(self->fd, h));
	EXPECT_EQ(-ESRCH, ioc_signal(self->fd, h, 0));
	EXPECT_EQ(-ESRCH, ioc_signal(self->fd, h, SIGKILL));
	/* reaped, still EXITED through the handle */
	st = ph_reap(k.pid);
	EXPECT_EQ(PH_STATE_EXITED, ioc_state(self->fd, h));
	EXPECT_EQ(-ESRCH, ioc_signal(self->fd, h, 0));
	EXPECT_COUNTERS(1, 1, 1);
	/* DONE */
	EXPECT_EQ(0, ioc_wait(self->fd, h, 0, 0, &st));
	EXPECT_EQ(-ESRCH, ioc_signal(self->fd, h, 0));
	EXPECT_EQ(-ESRCH, ioc_signal(self->fd, h, SIGUSR1));
	EXPECT_COUNTERS(1, 1, 0);
}

TEST_F(ph, signal_invalid)
{
	struct ph_signal s;
	struct ph_kid k;
	__u64 h;
	int sig, p[2], ready[2], wst;

	/* a child with every signal blocked: valid numbers are accepted */
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, pipe(ready));
	k.pid = fork();
	ASSERT_LE(0, k.pid);
	if (k.pid == 0) {
		unsigned long long all = ~0ull;
		char c;

		close(p[1]);
		syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, NULL, 8);
		CHILD_EQ(1, write(ready[1], "r", 1));
		while (read(p[0], &c, 1) < 0)
			;
		_exit(0);
	}
	ph_track(self, k.pid);
	close(p[0]);
	close(ready[1]);
	k.ctl = p[1];
	/* only once it has blocked them (a fatal signal before would stick) */
	ASSERT_EQ(1, ph_read_timeout(ready[0], &sig, 1, 10000));
	close(ready[0]);
	ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &h));
	EXPECT_EQ(-EINVAL, ioc_signal(self->fd, h, -1));
	EXPECT_EQ(-EINVAL, ioc_signal(self->fd, h, 65));
	EXPECT_EQ(-EINVAL, ioc_signal(self->fd, h, 1000));
	EXPECT_EQ(-EINVAL, ioc_signal(self->fd, h, INT_MIN));
	for (sig = 1; sig <= 64; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		EXPECT_EQ(0, ioc_signal(self->fd, h, sig)) {
			TH_LOG("signal %d", sig);
		}
	}
	memset(&s, 0, sizeof(s));
	s.handle = h;
	s.flags = 1;
	EXPECT_EQ(-EINVAL, ioc_call(self->fd, PH_IOC_SIGNAL, &s));
	s.flags = 1U << 31;
	EXPECT_EQ(-EINVAL, ioc_call(self->fd, PH_IOC_SIGNAL, &s));
	s.flags = 0;
	s.reserved = 1;
	EXPECT_EQ(-EINVAL, ioc_call(self->fd, PH_IOC_SIGNAL, &s));
	/* still running: nothing was sent by the rejected calls */
	EXPECT_EQ(-EAGAIN, ioc_wait(self->fd, h, PH_WAIT_NOHANG, 0, NULL));
	EXPECT_EQ(0, ioc_signal(self->fd, h, SIGKILL));
	EXPECT_EQ(0, ioc_wait(self->fd, h, 0, 0, &sig));
	wst = ph_reap(k.pid);
	EXPECT_EQ(wst, sig) {
		TH_LOG("handle status %#x, waitpid status %#x", sig, wst);
	}
	EXPECT_TRUE(WIFSIGNALED(sig));
	EXPECT_EQ(SIGKILL, WTERMSIG(sig));
	ph_kid_close(&k);
}

/*
 * Permission is checked against the *calling thread's* credentials at
 * call time: one thread drops its uid with the raw syscall (glibc would
 * change every thread), the other keeps root.
 */
struct eperm_arg {
	int fd;
	__u64 h;
	int r_sig, r_probe, r_acq;
	pid_t target;
};

static void *eperm_thread(void *p)
{
	struct eperm_arg *a = p;
#ifdef SYS_setresuid32
	long nr = SYS_setresuid32;
#else
	long nr = SYS_setresuid;
#endif

	if (syscall(nr, PH_NOBODY, PH_NOBODY, PH_NOBODY)) {
		a->r_sig = -1000;
		a->r_probe = -1000;
		a->r_acq = -1000;
		return NULL;
	}
	a->r_probe = ioc_signal(a->fd, a->h, 0);
	a->r_sig = ioc_signal(a->fd, a->h, SIGUSR1);
	a->r_acq = ioc_acquire(a->fd, a->target, NULL);
	return NULL;
}

TEST_F(ph, signal_eperm_calling_thread)
{
	struct eperm_arg a = { .fd = self->fd };
	struct ph_kid k;
	pthread_t t;
	sigset_t s;
	pid_t pid;
	int st;

	/* target: a root child that ignores SIGUSR1 */
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &s, NULL));
	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	ASSERT_EQ(0, sigprocmask(SIG_UNBLOCK, &s, NULL));
	ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &a.h));
	a.target = k.pid;
	/* in a forked process, so the uid change cannot leak into the test */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_EQ(0, pthread_create(&t, NULL, eperm_thread, &a));
		CHILD_EQ(0, pthread_join(t, NULL));
		CHILD_EQ(-EPERM, a.r_probe);
		CHILD_EQ(-EPERM, a.r_sig);
		CHILD_EQ(-EPERM, a.r_acq);
		/* this thread is still root */
		CHILD_EQ(0, ioc_signal(a.fd, a.h, 0));
		CHILD_EQ(0, ioc_signal(a.fd, a.h, SIGUSR1));
		_exit(0);
	}
	EXPECT_EQ(0, ph_reap(pid));
	EXPECT_EQ(0, ioc_signal(self->fd, a.h, 0));
	ph_kid_exit(&k, 0);
	EXPECT_EQ(0, ioc_wait(self->fd, a.h, 0, 0, &st));
	EXPECT_EQ(0, st);
	EXPECT_EQ(0, ph_reap(k.pid));
}

/* An unprivileged user: EPERM on others' processes, success on its own. */
TEST_F(ph, unprivileged_user)
{
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct ph_info i;
		struct ph_kid k;
		__u64 h, hroot;
		int fd, st;

		/* a handle on a root process, acquired while still root */
		CHILD_EQ(0, ioc_acquire(self->fd, getppid(), &hroot));
		CHILD_EQ(0, setgid(PH_NOBODY));
		CHILD_EQ(0, setuid(PH_NOBODY));
		/* the device is 0666 */
		fd = ioc_open();
		CHILD_CHECK(fd >= 0);
		CHILD_EQ(-EPERM, ioc_acquire(fd, getppid(), NULL));
		CHILD_EQ(-EPERM, ioc_acquire(fd, 1, NULL));
		CHILD_EQ(-EPERM, ioc_signal(self->fd, hroot, 0));
		CHILD_EQ(-EPERM, ioc_signal(self->fd, hroot, SIGKILL));
		/* INFO and WAIT only need the handle */
		CHILD_EQ(0, ioc_info(self->fd, hroot, &i));
		CHILD_EQ(getppid(), i.pid);
		CHILD_EQ(-EAGAIN, ioc_wait(self->fd, hroot, PH_WAIT_NOHANG, 0, NULL));
		CHILD_EQ(0, ioc_release(self->fd, hroot));
		/* its own processes */
		CHILD_EQ(0, ioc_acquire(fd, getpid(), &h));
		CHILD_EQ(0, ioc_signal(fd, h, 0));
		CHILD_EQ(0, ioc_release(fd, h));
		CHILD_EQ(0, ph_spawn(&k));
		CHILD_EQ(0, ioc_acquire(fd, k.pid, &h));
		CHILD_EQ(0, ioc_signal(fd, h, SIGTERM));
		CHILD_EQ(0, ioc_wait(fd, h, 0, 0, &st));
		CHILD_CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
		CHILD_EQ(st, ph_reap(k.pid));
		close(fd);
		_exit(0);
	}
	EXPECT_EQ(0, ph_reap(pid));
}

/* ==================================================================== */
/* WAIT                                                                  */

struct exit_case {
	const char *name;
	int code;	/* >= 0: exit code; < 0: -signal */
};

static void die_as(int code)
{
	struct rlimit rl = { 1 << 20, 1 << 20 };

	if (code >= 0)
		_exit(code);
	setrlimit(RLIMIT_CORE, &rl);
	signal(-code, SIG_DFL);
	kill(getpid(), -code);
	_exit(200);
}

TEST_F(ph, wait_status_encoding)
{
	static const struct exit_case cases[] = {
		{ "exit0", 0 }, { "exit42", 42 }, { "exit255", 255 },
		{ "sigterm", -SIGTERM }, { "sigkill", -SIGKILL },
		{ "sigabrt-core", -SIGABRT }, { "sigsegv-core", -SIGSEGV },
	};
	unsigned int c;

	ASSERT_EQ(0, chdir("/tmp"));
	for (c = 0; c < ARRAY_SIZE(cases); c++) {
		struct ph_info i;
		int p[2], st, wst;
		pid_t pid;
		char b;
		__u64 h;

		ASSERT_EQ(0, pipe(p));
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			close(p[1]);
			while (read(p[0], &b, 1) < 0 && errno == EINTR)
				;
			die_as(cases[c].code);
		}
		ph_track(self, pid);
		close(p[0]);
		ASSERT_EQ(0, ioc_acquire(self->fd, pid, &h));
		close(p[1]);
		ASSERT_EQ(0, ioc_wait(self->fd, h, 0, 0, &st));
		ASSERT_EQ(0, ioc_info(self->fd, h, &i));
		EXPECT_EQ(PH_STATE_DONE, i.state);
		EXPECT_EQ(st, i.status);
		wst = ph_reap(pid);
		{
			char core[64];

			snprintf(core, sizeof(core), "/tmp/core.%d", pid);
			unlink(core);
		}
		EXPECT_EQ(wst, st) {
			TH_LOG("%s: handle status 0x%x, waitpid 0x%x",
			       cases[c].name, st, wst);
		}
		if (cases[c].code >= 0) {
			EXPECT_TRUE(WIFEXITED(st));
			EXPECT_EQ(cases[c].code, WEXITSTATUS(st));
		} else {
			EXPECT_TRUE(WIFSIGNALED(st));
			EXPECT_EQ(-cases[c].code, WTERMSIG(st));
		}
		EXPECT_EQ(0, ioc_release(self->fd, h));
	}
	unlink("/tmp/core");
}

TEST_F(ph, wait_nohang_running)
{
	struct ph_kid k;
	__u64 h;
	int st = 77;

	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &h));
	EXPECT_EQ(-EAGAIN, ioc_wait(self->fd, h, PH_WAIT_NOHANG, 0, &st));
	EXPECT_EQ(PH_STATE_RUNNING, ioc_state(self->fd, h));
	ph_kid_exit(&k, 4);
	ASSERT_EQ(0, ph_wait_zombie(k.pid));
	/* it has exited: no longer EAGAIN */
	EXPECT_EQ(0, ioc_wait(self->fd, h, PH_WAIT_NOHANG, 0, &st));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(4, WEXITSTATUS(st));
	EXPECT_EQ(st, ph_reap(k.pid));
}

TEST_F(ph, wait_timeout)
{
	struct ph_kid k;
	uint64_t t0, t1;
	__u64 h;
	int st;

	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &h));
	t0 = ph_now_ns(CLOCK_MONOTONIC);
	EXPECT_EQ(-ETIMEDOUT, ioc_wait(self->fd, h, PH_WAIT_TIMEOUT,
				       50 * 1000000ull, &st));
	t1 = ph_now_ns(CLOCK_MONOTONIC);
	EXPECT_LE(50 * 1000000ull, t1 - t0);
	/* a zero timeout behaves like a poll */
	EXPECT_EQ(-ETIMEDOUT, ioc_wait(self->fd, h, PH_WAIT_TIMEOUT, 0, &st));
	EXPECT_EQ(PH_STATE_RUNNING, ioc_state(self->fd, h));
	ph_kid_exit(&k, 5);
	/* exits before the (long) timeout: 0 and the status */
	ASSERT_EQ(0, ioc_wait(self->fd, h, PH_WAIT_TIMEOUT,
			      20 * 1000000000ull, &st));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(5, WEXITSTATUS(st));
	EXPECT_EQ(st, ph_reap(k.pid));
}

TEST_F(ph, wait_eintr)
{
	struct sigaction sa = { .sa_handler = noop_handler }; /* no SA_RESTART */
	struct waiter w;
	struct ph_kid k;
	__u64 h;
	int st;

	ASSERT_EQ(0, sigaction(SIGUSR2, &sa, NULL));
	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &h));
	ASSERT_EQ(0, start_waiter(&w, self->fd, h));
	ASSERT_EQ(0, pthread_kill(w.t, SIGUSR2));
	ASSERT_EQ(0, pthread_join(w.t, NULL));
	EXPECT_EQ(-EINTR, w.ret);
	EXPECT_EQ(PH_STATE_RUNNING, ioc_state(self->fd, w.h));
	ph_kid_exit(&k, 0);
	EXPECT_EQ(0, ioc_wait(self->fd, w.h, 0, 0, &st));
	EXPECT_EQ(st, ph_reap(k.pid));
}

TEST_F(ph, wait_invalid)
{
	struct ph_wait w;
	struct ph_kid k;
	__u64 h;
	unsigned int bit;

	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &h));
	for (bit = 2; bit < 32; bit++)
		EXPECT_EQ(-EINVAL, ioc_wait(self->fd, h, 1U << bit, 0, NULL));
	EXPECT_EQ(-EINVAL, ioc_wait(self->fd, h, PH_WAIT_NOHANG | PH_WAIT_TIMEOUT,
				    1000, NULL));
	EXPECT_EQ(-EINVAL, ioc_wait(self->fd, h, PH_WAIT_NOHANG | PH_WAIT_TIMEOUT,
				    0, NULL));
	/* timeout_ns without PH_WAIT_TIMEOUT (would otherwise block) */
	EXPECT_EQ(-EINVAL, ioc_wait(self->fd, h, PH_WAIT_NOHANG, 1000, NULL));
	memset(&w, 0, sizeof(w));
	w.handle = h;
	w.flags = PH_WAIT_NOHANG;
	w.reserved = 1;
	EXPECT_EQ(-EINVAL, ioc_call(self->fd, PH_IOC_WAIT, &w));
	EXPECT_EQ(-EBADF, ioc_wait(self->fd, h + 999999, PH_WAIT_NOHANG, 0, NULL));
	EXPECT_EQ(-EBADF, ioc_wait(self->fd, 0, 0, 0, NULL));
	EXPECT_EQ(PH_STATE_RUNNING, ioc_state(self->fd, h));
	ph_kid_exit(&k, 0);
	EXPECT_EQ(0, ph_reap(k.pid));
}

/* Any number of threads may wait on one handle; all get the same status. */
TEST_F(ph, wait_many_waiters)
{
	enum { W = 6 };
	struct waiter w[W];
	struct ph_kid k;
	__u64 h;
	int i, st;

	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &h));
	for (i = 0; i < W; i++)
		ASSERT_EQ(0, start_waiter(&w[i], self->fd, h));
	EXPECT_COUNTERS(1, 1, 1);
	ph_kid_exit(&k, 66);
	for (i = 0; i < W; i++) {
		ASSERT_EQ(0, pthread_join(w[i].t, NULL));
		EXPECT_EQ(0, w[i].ret);
		EXPECT_TRUE(WIFEXITED(w[i].status));
		EXPECT_EQ(66, WEXITSTATUS(w[i].status));
	}
	st = ph_reap(k.pid);
	for (i = 0; i < W; i++)
		EXPECT_EQ(st, w[i].status);
	EXPECT_COUNTERS(1, 1, 0);
}

/* ==================================================================== */
/* INFO, fdinfo                                                          */

TEST_F(ph, info_states)
{
	struct ph_info i;
	struct ph_kid k;
	__u64 h;
	int st;

	EXPECT_EQ(-EBADF, ioc_info(self->fd, 0, &i));
	EXPECT_EQ(-EBADF, ioc_info(self->fd, 424242, &i));
	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &h));
	ASSERT_EQ(0, ioc_info(self->fd, h, &i));
	EXPECT_EQ(PH_STATE_RUNNING, i.state);
	EXPECT_EQ(0, i.status);
	EXPECT_EQ(k.pid, i.pid);
	EXPECT_LT(0, i.start_time);
	ph_kid_exit(&k, 17);
	ASSERT_EQ(0, ph_wait_zombie(k.pid));
	ASSERT_EQ(0, ioc_info(self->fd, h, &i));
	EXPECT_EQ(PH_STATE_EXITED, i.state);
	EXPECT_TRUE(WIFEXITED(i.status));
	EXPECT_EQ(17, WEXITSTATUS(i.status));
	EXPECT_EQ(k.pid, i.pid);
	ASSERT_EQ(0, ioc_wait(self->fd, h, 0, 0, &st));
	ASSERT_EQ(0, ioc_info(self->fd, h, &i));
	EXPECT_EQ(PH_STATE_DONE, i.state);
	EXPECT_EQ(st, i.status);
	EXPECT_EQ(k.pid, i.pid);
	EXPECT_EQ(st, ph_reap(k.pid));
	ASSERT_EQ(0, ioc_info(self->fd, h, &i));
	EXPECT_EQ(PH_STATE_DONE, i.state);
	EXPECT_EQ(k.pid, i.pid);
	/* reserved input must be zero */
	i.handle = h;
	i.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, ioc_call(self->fd, PH_IOC_INFO, &i));
}

TEST_F(ph, fdinfo_lists_handles)
{
	struct ph_kid a, b;
	__u64 hs, ha, hb;
	int st;

	ASSERT_EQ(0, ph_spawn(&a));
	ph_track(self, a.pid);
	ASSERT_EQ(0, ph_spawn(&b));
	ph_track(self, b.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, getpid(), &hs));
	ASSERT_EQ(0, ioc_acquire(self->fd, a.pid, &ha));
	ASSERT_EQ(0, ioc_acquire(self->fd, b.pid, &hb));
	ph_kid_exit(&a, 0);
	ph_kid_exit(&b, 0);
	ASSERT_EQ(0, ph_wait_zombie(a.pid));
	ASSERT_EQ(0, ioc_wait(self->fd, hb, 0, 0, &st));
	EXPECT_EQ(1, ph_fdinfo_count(self->fd, hs, getpid(), "running"));
	EXPECT_EQ(1, ph_fdinfo_count(self->fd, ha, a.pid, "exited"));
	EXPECT_EQ(1, ph_fdinfo_count(self->fd, hb, b.pid, "done"));
	EXPECT_EQ(0, ioc_release(self->fd, hs));
	EXPECT_EQ(0, ph_fdinfo_count(self->fd, hs, getpid(), "running"));
	ph_reap(a.pid);
	ph_reap(b.pid);
}

/* ==================================================================== */
/* uapi: unknown commands, bad pointers, extensible sizes                */

TEST_F(ph, ioctl_unknown_enotty)
{
	char buf[256] = { 0 };
	unsigned int nr;

	EXPECT_EQ(-ENOTTY, ioc_call(self->fd, _IO(PH_IOC_MAGIC, 0), buf));
	for (nr = 6; nr < 256; nr += 7)
		EXPECT_EQ(-ENOTTY, ioc_call(self->fd,
					    _IOWR(PH_IOC_MAGIC, nr, struct ph_info), buf));
	/* another magic, same number and size */
	EXPECT_EQ(-ENOTTY, ioc_call(self->fd,
				    _IOWR(PH_IOC_MAGIC + 1, 0x05, struct ph_info), buf));
	EXPECT_EQ(-ENOTTY, ioc_call(self->fd, TCGETS, buf));
	EXPECT_COUNTERS(1, 0, 0);
}

TEST_F(ph, ioctl_efault)
{
	static const unsigned long cmds[] = { PH_IOC_ACQUIRE, PH_IOC_RELEASE,
		PH_IOC_SIGNAL, PH_IOC_WAIT, PH_IOC_INFO };
	struct ph_info *ro;
	unsigned int c;
	__u64 h;

	for (c = 0; c < 5; c++) {
		EXPECT_EQ(-EFAULT, ioc_call(self->fd, cmds[c], NULL));
		EXPECT_EQ(-EFAULT, ioc_call(self->fd, cmds[c], ph_bad_ptr));
	}
	/* output side: INFO and WAIT results into a read-only page */
	ASSERT_EQ(0, ioc_acquire(self->fd, getpid(), &h));
	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(ro != MAP_FAILED);
	memset(ro, 0, sizeof(*ro));
	ro->handle = h;
	ASSERT_EQ(0, mprotect(ro, 4096, PROT_READ));
	EXPECT_EQ(-EFAULT, ioc_call(self->fd, PH_IOC_INFO, ro));
	/* ACQUIRE whose output cannot be written must not leak a handle */
	ASSERT_EQ(0, mprotect(ro, 4096, PROT_READ | PROT_WRITE));
	memset(ro, 0, sizeof(struct ph_acquire));
	((struct ph_acquire *)ro)->pid = getpid();
	ASSERT_EQ(0, mprotect(ro, 4096, PROT_READ));
	EXPECT_EQ(-EFAULT, ioc_call(self->fd, PH_IOC_ACQUIRE, ro));
	munmap(ro, 4096);
	/* a struct straddling the end of a mapping */
	{
		char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct ph_info *edge;

		ASSERT_TRUE(two != MAP_FAILED);
		ASSERT_EQ(0, munmap(two + 4096, 4096));
		edge = (struct ph_info *)(two + 4096 - 8);
		memcpy(edge, &h, 8);
		EXPECT_EQ(-EFAULT, ioc_call(self->fd, PH_IOC_INFO, edge));
		munmap(two, 4096);
	}
	EXPECT_EQ(0, ioc_release(self->fd, h));
	EXPECT_COUNTERS(1, 0, 0);
}

/*
 * Extensible structs: a size below VER0 is EINVAL, a larger size with a
 * zero tail works, a non-zero tail is E2BIG.
 */
#define PH_IOC_SIZED(cmd, size) \
	_IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd), (size))

TEST_F(ph, ioctl_struct_sizes)
{
	/* v0: the first version; known: the latest (INFO grew in v2) */
	static const struct { unsigned long cmd; unsigned int v0, known; } c[] = {
		{ PH_IOC_ACQUIRE, PH_ACQUIRE_SIZE_VER0, PH_ACQUIRE_SIZE_VER0 },
		{ PH_IOC_RELEASE, PH_RELEASE_SIZE_VER0, PH_RELEASE_SIZE_VER0 },
		{ PH_IOC_SIGNAL, PH_SIGNAL_SIZE_VER0, PH_SIGNAL_SIZE_VER0 },
		{ PH_IOC_WAIT, PH_WAIT_SIZE_VER0, PH_WAIT_SIZE_VER0 },
		{ PH_IOC_INFO, PH_INFO_SIZE_VER0, PH_INFO_SIZE_VER1 },
	};
	union {
		struct ph_acquire a;
		struct ph_signal s;
		struct ph_wait w;
		struct ph_info i;
		__u64 h;
		unsigned char raw[256];
	} u;
	struct ph_kid k;
	unsigned int n;
	__u64 h, h2;

	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &h));
	for (n = 0; n < 5; n++) {
		unsigned long cmd = c[n].cmd;

		memset(&u, 0, sizeof(u));
		switch (n) {
		case 0:
			u.a.pid = k.pid;
			break;
		case 1:
			/* release a fresh handle */
			ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &h2));
			u.h = h2;
			break;
		case 2:
			u.s.handle = h;
			break;
		case 3:
			u.w.handle = h;
			u.w.flags = PH_WAIT_NOHANG;
			break;
		case 4:
			u.i.handle = h;
			break;
		}
		/* smaller than the first version */
		EXPECT_EQ(-EINVAL, ioc_call(self->fd, PH_IOC_SIZED(cmd, c[n].v0 - 8), &u));
		EXPECT_EQ(-EINVAL, ioc_call(self->fd, PH_IOC_SIZED(cmd, 0), &u));
		/* larger, non-zero tail */
		u.raw[c[n].known + 5] = 1;
		EXPECT_EQ(-E2BIG, ioc_call(self->fd, PH_IOC_SIZED(cmd, c[n].known + 16), &u)) {
			TH_LOG("cmd nr %u", (unsigned int)_IOC_NR(cmd));
		}
		u.raw[c[n].known + 5] = 0;
		u.raw[c[n].known + 64] = 1;	/* beyond the encoded size */
		/* larger, zero tail: accepted as the known version */
		if (n == 3) {
			EXPECT_EQ(-EAGAIN, ioc_call(self->fd,
						    PH_IOC_SIZED(cmd, c[n].known + 16), &u));
		} else {
			EXPECT_EQ(0, ioc_call(self->fd, PH_IOC_SIZED(cmd, c[n].known + 16), &u)) {
				TH_LOG("cmd nr %u", (unsigned int)_IOC_NR(cmd));
			}
		}
		if (n == 0) {
			EXPECT_NE(0, u.a.handle);
			EXPECT_EQ(0, ioc_release(self->fd, u.a.handle));
		}
		if (n == 1)
			EXPECT_EQ(-EBADF, ioc_release(self->fd, h2));
		if (n == 4) {
			EXPECT_EQ(k.pid, u.i.pid);
			EXPECT_EQ(PH_STATE_RUNNING, u.i.state);
		}
	}
	EXPECT_COUNTERS(1, 1, 1);
	ph_kid_exit(&k, 0);
	EXPECT_EQ(0, ph_reap(k.pid));
}

/* ==================================================================== */
/* the open file: close, sharing                                        */

TEST_F(ph, close_releases_everything)
{
	enum { K = 8 };
	struct ph_kid k[K];
	__u64 ha[K], hb[K], h;
	int fd, i, st;

	/* children first: a child forked later would share the new file */
	for (i = 0; i < K; i++) {
		ASSERT_EQ(0, ph_spawn(&k[i]));
		ph_track(self, k[i].pid);
	}
	fd = ioc_open();
	ASSERT_LE(0, fd);
	EXPECT_COUNTERS(2, 0, 0);
	for (i = 0; i < K; i++) {
		ASSERT_EQ(0, ioc_acquire(fd, k[i].pid, &ha[i]));
		ASSERT_EQ(0, ioc_acquire(fd, k[i].pid, &hb[i]));
	}
	for (i = 0; i < 100; i++)
		ASSERT_EQ(0, ioc_acquire(fd, getpid(), &h));
	/* some exited (zombies), some of those DONE through one handle */
	for (i = 0; i < K / 2; i++) {
		ph_kid_exit(&k[i], i);
		ASSERT_EQ(0, ph_wait_zombie(k[i].pid));
	}
	for (i = 0; i < K / 4; i++)
		ASSERT_EQ(0, ioc_wait(fd, ha[i], 0, 0, &st));
	EXPECT_COUNTERS(2, 2 * K + 100, 2 * K + 100 - K / 4);
	close(fd);
	EXPECT_COUNTERS(1, 0, 0);
	for (i = K / 2; i < K; i++)
		ph_kid_exit(&k[i], 0);
	for (i = 0; i < K; i++)
		ph_reap(k[i].pid);
}

/* A WAIT in flight keeps the file and its handle alive past close(). */
TEST_F(ph, close_with_wait_in_flight)
{
	struct waiter w;
	struct ph_kid k;
	int fd;
	__u64 h;

	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	fd = ioc_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioc_acquire(fd, k.pid, &h));
	ASSERT_EQ(0, start_waiter(&w, fd, h));
	ASSERT_EQ(0, close(fd));
	/* the in-flight call still holds the file, the handle, the process */
	EXPECT_COUNTERS(2, 1, 1);
	EXPECT_EQ(0, kill(k.pid, 0));
	ph_kid_exit(&k, 12);
	ASSERT_EQ(0, pthread_join(w.t, NULL));
	EXPECT_EQ(0, w.ret);
	EXPECT_TRUE(WIFEXITED(w.status));
	EXPECT_EQ(12, WEXITSTATUS(w.status));
	EXPECT_EQ(w.status, ph_reap(k.pid));
	EXPECT_COUNTERS(1, 0, 0);
}

TEST_F(ph, share_by_fork)
{
	struct ph_info i;
	struct ph_kid k;
	int p[2], st;
	pid_t pid;
	__u64 h, hc;

	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &h));
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct ph_info ci;

		close(p[0]);
		CHILD_EQ(0, ioc_info(self->fd, h, &ci));
		CHILD_EQ(k.pid, ci.pid);
		/* same table: its acquire is visible to the parent */
		CHILD_EQ(0, ioc_acquire(self->fd, getppid(), &hc));
		CHILD_CHECK(write(p[1], &hc, sizeof(hc)) == sizeof(hc));
		/* and its release too */
		CHILD_EQ(0, ioc_release(self->fd, h));
		_exit(0);
	}
	close(p[1]);
	ASSERT_EQ(sizeof(hc), ph_read_timeout(p[0], &hc, sizeof(hc), 10000));
	close(p[0]);
	EXPECT_EQ(0, ph_reap(pid));
	/* one open file, one table */
	EXPECT_COUNTERS(1, 1, 1);
	EXPECT_EQ(-EBADF, ioc_info(self->fd, h, &i));
	ASSERT_EQ(0, ioc_info(self->fd, hc, &i));
	EXPECT_EQ(getpid(), i.pid);
	EXPECT_EQ(0, ioc_release(self->fd, hc));
	ph_kid_exit(&k, 0);
	st = ph_reap(k.pid);
	EXPECT_EQ(0, st);
}

static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char b = 'f';
	struct iovec iov = { .iov_base = &b, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &m, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	char b;
	struct iovec iov = { .iov_base = &b, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &m, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&m);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

TEST_F(ph, share_by_scm_rights)
{
	struct ph_info i;
	int sv[2], st;
	pid_t pid;
	__u64 h, hc;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct ph_info ci;
		int fd;
		char b;

		close(self->fd);	/* only the passed descriptor */
		close(sv[0]);
		fd = recv_fd(sv[1]);
		CHILD_CHECK(fd >= 0);
		CHILD_EQ(sizeof(h), ph_read_full(sv[1], &h, sizeof(h)));
		CHILD_EQ(0, ioc_info(fd, h, &ci));
		CHILD_EQ(getppid(), ci.pid);
		CHILD_EQ(0, ioc_acquire(fd, getpid(), &hc));
		CHILD_EQ(0, ph_write_full(sv[1], &hc, sizeof(hc)));
		/* parent closes its descriptor: the table lives on here */
		CHILD_EQ(1, ph_read_full(sv[1], &b, 1));
		CHILD_EQ(0, ioc_info(fd, h, &ci));
		CHILD_EQ(0, ioc_release(fd, h));
		CHILD_EQ(0, ph_write_full(sv[1], &b, 1));
		CHILD_EQ(1, ph_read_full(sv[1], &b, 1));
		close(fd);
		_exit(0);
	}
	ph_track(self, pid);
	close(sv[1]);
	ASSERT_EQ(0, ioc_acquire(self->fd, getpid(), &h));
	ASSERT_EQ(0, send_fd(sv[0], self->fd));
	ASSERT_EQ(0, ph_write_full(sv[0], &h, sizeof(h)));
	ASSERT_EQ(sizeof(hc), ph_read_timeout(sv[0], &hc, sizeof(hc), 10000));
	ASSERT_EQ(0, ioc_info(self->fd, hc, &i));
	EXPECT_EQ(pid, i.pid);
	EXPECT_COUNTERS(1, 2, 2);
	close(self->fd);
	self->fd = -1;
	EXPECT_COUNTERS(1, 2, 2);
	ASSERT_EQ(0, ph_write_full(sv[0], "x", 1));
	ASSERT_EQ(1, ph_read_timeout(sv[0], &st, 1, 10000));
	EXPECT_COUNTERS(1, 1, 1);
	/* the last reference goes: everything is released */
	ASSERT_EQ(0, ph_write_full(sv[0], "x", 1));
	EXPECT_EQ(0, ph_reap(pid));
	EXPECT_COUNTERS(0, 0, 0);
	close(sv[0]);
}

/* ==================================================================== */
/* events: the basic read path (the big ones are in events_test)         */

TEST_F(ph, events_read_basic)
{
	struct ph_event ev[4];
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };
	struct ph_kid k;
	char small[sizeof(struct ph_event) - 1];
	__u64 h;
	ssize_t n;
	int st;

	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &h));
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(-1, read(self->fd, ev, sizeof(ev)));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	ph_kid_exit(&k, 31);
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	EXPECT_TRUE(pfd.revents & POLLIN);
	/* too small for one record */
	EXPECT_EQ(-1, read(self->fd, small, sizeof(small)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, read(self->fd, small, 0));
	EXPECT_EQ(EINVAL, errno);
	/* a bad buffer: EFAULT, the event stays queued */
	EXPECT_EQ(-1, read(self->fd, ph_bad_ptr, sizeof(ev)));
	EXPECT_EQ(EFAULT, errno);
	n = read(self->fd, ev, sizeof(ev[0]) + 7);
	ASSERT_EQ(sizeof(ev[0]), n);
	EXPECT_EQ(h, ev[0].handle);
	EXPECT_EQ(k.pid, ev[0].pid);
	st = ph_reap(k.pid);
	EXPECT_EQ(st, ev[0].status);
	EXPECT_TRUE(WIFEXITED(ev[0].status));
	EXPECT_EQ(31, WEXITSTATUS(ev[0].status));
	/* exactly once */
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	EXPECT_EQ(-1, read(self->fd, ev, sizeof(ev)));
	EXPECT_EQ(EAGAIN, errno);
	/* reading the event does not make the handle DONE */
	EXPECT_EQ(PH_STATE_EXITED, ioc_state(self->fd, h));
}

/* ==================================================================== */
/* module: read-only counters, device mode, no unload while open         */

TEST_F(ph, module_files)
{
	static const char *const ctr[] = { "files", "handles", "task_refs",
					     "kills", "kills_refused" };
	struct stat st;
	unsigned int i;

	ASSERT_EQ(0, stat(PH_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0666, st.st_mode & 0777);
	for (i = 0; i < ARRAY_SIZE(ctr); i++) {
		char path[128];

		snprintf(path, sizeof(path), PH_SYSFS "%s", ctr[i]);
		ASSERT_EQ(0, stat(path, &st));
		EXPECT_EQ(0, st.st_mode & 0222) {
			TH_LOG("%s is writable", path);
		}
		EXPECT_EQ(-EACCES, ph_write_str(path, "0"));
	}
	EXPECT_COUNTERS(1, 0, 0);
}

/* rmmod while a file is open is refused (last: a bug here ends the run). */
TEST_F(ph, module_busy_while_open)
{
	EXPECT_EQ(-1, syscall(SYS_delete_module, "prochandle", O_NONBLOCK));
	EXPECT_TRUE(errno == EWOULDBLOCK || errno == EBUSY) {
		TH_LOG("delete_module: %s", strerror(errno));
	}
	ASSERT_EQ(0, access(PH_DEV, F_OK));
	EXPECT_EQ(0, ioc_acquire(self->fd, getpid(), NULL));
}

TEST_HARNESS_MAIN
