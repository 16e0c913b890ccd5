// SPDX-License-Identifier: GPL-2.0
/*
 * prochandle: process lifecycle seen through a handle (SPEC §3 WAIT/INFO):
 * whole-thread-group exit and its status, no early "exited" while any
 * thread runs (leader exits first, a non-leader execs), status after the
 * parent reaped, waiting on processes that are not the caller's children
 * (a grandchild, a reparented orphan), many handles on one process.
 */
#include "ph_test.h"

/* re-exec helper: "--ph-helper exec READYFD CTLFD" */
static int helper_main(int argc, char **argv)
{
	unsigned char c = 'e';
	int ready, ctl;

	if (argc < 5 || strcmp(argv[2], "exec"))
		return 127;
	ready = atoi(argv[3]);
	ctl = atoi(argv[4]);
	if (write(ready, &c, 1) != 1)
		return 126;
	close(ready);
	if (ph_read_full(ctl, &c, 1) != 1)
		return 125;
	return c;
}

struct thr_arg {
	int go;		/* read end: wait for a byte */
	int mode;	/* what the thread does then */
	int code;
	int ready, ctl;	/* for exec */
};

enum { T_EXIT_GROUP, T_SIGNAL_GROUP, T_EXEC, T_EXIT_LAST };

static void *thr_fn(void *p)
{
	struct thr_arg *a = p;
	unsigned char c;
	char r[16], k[16];
	char *argv[] = { "ph-helper", "--ph-helper", "exec", r, k, NULL };

	if (ph_read_full(a->go, &c, 1) != 1)
		_exit(120);
	switch (a->mode) {
	case T_EXIT_GROUP:
	case T_EXIT_LAST:
		exit(a->code);			/* exit_group() from a non-leader */
	case T_SIGNAL_GROUP:
		raise(a->code);			/* tgkill(): a fatal signal */
		break;
	case T_EXEC:
		snprintf(r, sizeof(r), "%d", a->ready);
		snprintf(k, sizeof(k), "%d", a->ctl);
		execv("/proc/self/exe", argv);
		_exit(121);
	}
	_exit(122);
}

/*
 * Fork a child whose second thread waits for a byte on the returned pipe
 * and then does @mode.  With @leader_exits the leader pthread_exit()s at
 * once, else it blocks forever.
 */
static pid_t spawn_threaded(int mode, int code, bool leader_exits,
			    int ready, int ctl, int *go_w)
{
	int go[2];
	pid_t pid;

	if (pipe(go))
		return -1;
	pid = fork();
	if (pid == 0) {
		static struct thr_arg a;
		pthread_t t;

		close(go[1]);
		a.go = go[0];
		a.mode = mode;
		a.code = code;
		a.ready = ready;
		a.ctl = ctl;
		if (pthread_create(&t, NULL, thr_fn, &a))
			_exit(123);
		if (leader_exits)
			pthread_exit(NULL);
		for (;;)
			pause();
	}
	close(go[0]);
	*go_w = go[1];
	return pid;
}

static void go(int fd)
{
	if (write(fd, "g", 1) != 1)
		perror("go");
	close(fd);
}

TEST_F(ph, group_exit_from_nonleader_thread)
{
	static const struct { int mode, code; } c[] = {
		{ T_EXIT_GROUP, 13 }, { T_EXIT_GROUP, 0 },
		{ T_SIGNAL_GROUP, SIGTERM }, { T_SIGNAL_GROUP, SIGKILL },
	};
	unsigned int n;

	for (n = 0; n < 4; n++) {
		int gofd, st, wst;
		pid_t pid;
		__u64 h;

		pid = spawn_threaded(c[n].mode, c[n].code, false, -1, -1, &gofd);
		ASSERT_LT(0, pid);
		ph_track(self, pid);
		ASSERT_EQ(0, ioc_acquire(self->fd, pid, &h));
		go(gofd);
		ASSERT_EQ(0, ioc_wait(self->fd, h, 0, 0, &st));
		wst = ph_reap(pid);
		EXPECT_EQ(wst, st);
		if (c[n].mode == T_EXIT_GROUP) {
			EXPECT_TRUE(WIFEXITED(st));
			EXPECT_EQ(c[n].code, WEXITSTATUS(st));
		} else {
			EXPECT_TRUE(WIFSIGNALED(st));
			EXPECT_EQ(c[n].code, WTERMSIG(st));
		}
		EXPECT_EQ(0, ioc_release(self->fd, h));
	}
}

static bool proc_is_zombie(pid_t pid)
{
	return ph_proc_state(pid) == 'Z';
}

static bool proc_task_count(pid_t pid, int want)
{
	return ph_status_field(pid, "Threads:\t") == want;
}

/* Running means "some thread of the group still runs". */
static void expect_still_running(struct __test_metadata *_metadata, int fd,
				 __u64 h, pid_t pid)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct ph_info i;
	__u64 h2;

	EXPECT_EQ(-EAGAIN, ioc_wait(fd, h, PH_WAIT_NOHANG, 0, NULL));
	EXPECT_EQ(-ETIMEDOUT, ioc_wait(fd, h, PH_WAIT_TIMEOUT, 20000000, NULL));
	ASSERT_EQ(0, ioc_info(fd, h, &i));
	EXPECT_EQ(PH_STATE_RUNNING, i.state);
	EXPECT_EQ(pid, i.pid);
	EXPECT_EQ(0, i.status);
	EXPECT_EQ(0, ioc_signal(fd, h, 0));
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	/* a new handle sees a running process too */
	ASSERT_EQ(0, ioc_acquire(fd, pid, &h2));
	EXPECT_EQ(PH_STATE_RUNNING, ioc_state(fd, h2));
	EXPECT_EQ(0, ioc_release(fd, h2));
}

TEST_F(ph, leader_exits_first_not_exited)
{
	struct ph_event ev;
	int gofd, st, wst;
	pid_t pid;
	__u64 h;

	pid = spawn_threaded(T_EXIT_LAST, 5, true, -1, -1, &gofd);
	ASSERT_LT(0, pid);
	ph_track(self, pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, pid, &h));
	/*
	 * The leader is a zombie ("Threads:" still counts it until the group
	 * is released); the other thread waits for our byte.
	 */
	ASSERT_TRUE(ph_until(proc_is_zombie(pid), 10000));
	expect_still_running(_metadata, self->fd, h, pid);
	go(gofd);
	ASSERT_EQ(0, ioc_wait(self->fd, h, 0, 0, &st));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(5, WEXITSTATUS(st));
	wst = ph_reap(pid);
	EXPECT_EQ(wst, st);
	/* exactly one event */
	ASSERT_EQ(1, dev_read_events(self->fd, &ev, 1, 1, 10000));
	EXPECT_EQ(h, ev.handle);
	EXPECT_EQ(pid, ev.pid);
	EXPECT_EQ(st, ev.status);
	EXPECT_EQ(0, dev_read_events(self->fd, &ev, 1, 1, 0));
}

TEST_F(ph, nonleader_exec_not_exited)
{
	int ready[2], ctl[2], gofd, st, wst;
	struct ph_event ev;
	unsigned char c;
	pid_t pid;
	__u64 h;

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(ctl));
	pid = spawn_threaded(T_EXEC, 0, false, ready[1], ctl[0], &gofd);
	ASSERT_LT(0, pid);
	ph_track(self, pid);
	close(ready[1]);
	close(ctl[0]);
	ASSERT_EQ(0, ioc_acquire(self->fd, pid, &h));
	go(gofd);
	/* the exec'd image (now the leader, same pid) says hello */
	ASSERT_EQ(1, ph_read_timeout(ready[0], &c, 1, 20000));
	ASSERT_EQ('e', c);
	ASSERT_TRUE(ph_until(proc_task_count(pid, 1), 10000));
	expect_still_running(_metadata, self->fd, h, pid);
	c = 9;
	ASSERT_EQ(1, write(ctl[1], &c, 1));
	ASSERT_EQ(0, ioc_wait(self->fd, h, 0, 0, &st));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(9, WEXITSTATUS(st));
	wst = ph_reap(pid);
	EXPECT_EQ(wst, st);
	ASSERT_EQ(1, dev_read_events(self->fd, &ev, 1, 1, 10000));
	EXPECT_EQ(h, ev.handle);
	EXPECT_EQ(st, ev.status);
	EXPECT_EQ(0, dev_read_events(self->fd, &ev, 1, 1, 0));
	close(ready[0]);
	close(ctl[1]);
}

/* The leader itself execs: not an exit either. */
TEST_F(ph, leader_exec_not_exited)
{
	int ready[2], ctl[2], go_p[2], st;
	unsigned char c;
	pid_t pid;
	__u64 h;

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(ctl));
	ASSERT_EQ(0, pipe(go_p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char r[16], k[16];
		char *argv[] = { "ph-helper", "--ph-helper", "exec", r, k, NULL };

		close(go_p[1]);
		snprintf(r, sizeof(r), "%d", ready[1]);
		snprintf(k, sizeof(k), "%d", ctl[0]);
		if (ph_read_full(go_p[0], &c, 1) != 1)
			_exit(120);
		execv("/proc/self/exe", argv);
		_exit(121);
	}
	ph_track(self, pid);
	close(ready[1]);
	close(ctl[0]);
	close(go_p[0]);
	ASSERT_EQ(0, ioc_acquire(self->fd, pid, &h));
	go(go_p[1]);
	ASSERT_EQ(1, ph_read_timeout(ready[0], &c, 1, 20000));
	expect_still_running(_metadata, self->fd, h, pid);
	c = 0;
	ASSERT_EQ(1, write(ctl[1], &c, 1));
	ASSERT_EQ(0, ioc_wait(self->fd, h, 0, 0, &st));
	EXPECT_EQ(0, st);
	EXPECT_EQ(st, ph_reap(pid));
	close(ready[0]);
	close(ctl[1]);
}

/* A stopped (and continued) process has not exited. */
TEST_F(ph, stopped_is_running)
{
	struct waiter w;
	struct ph_kid k;
	siginfo_t si;
	__u64 h;

	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &h));
	ASSERT_EQ(0, start_waiter(&w, self->fd, h));
	ASSERT_EQ(0, ioc_signal(self->fd, h, SIGSTOP));
	ASSERT_EQ(0, waitid(P_PID, k.pid, &si, WSTOPPED));
	ASSERT_EQ(CLD_STOPPED, si.si_code);
	expect_still_running(_metadata, self->fd, h, k.pid);
	ASSERT_TRUE(ph_until(ph_in_ioctl(w.tid, self->fd, PH_IOC_WAIT), 5000));
	EXPECT_EQ(1, __atomic_load_n(&w.ret, __ATOMIC_SEQ_CST));
	ASSERT_EQ(0, ioc_signal(self->fd, h, SIGCONT));
	ASSERT_EQ(0, waitid(P_PID, k.pid, &si, WCONTINUED));
	ASSERT_EQ(CLD_CONTINUED, si.si_code);
	expect_still_running(_metadata, self->fd, h, k.pid);
	ASSERT_TRUE(ph_until(ph_in_ioctl(w.tid, self->fd, PH_IOC_WAIT), 5000));
	EXPECT_EQ(1, __atomic_load_n(&w.ret, __ATOMIC_SEQ_CST));
	ph_kid_exit(&k, 3);
	ASSERT_EQ(0, pthread_join(w.t, NULL));
	EXPECT_EQ(0, w.ret);
	EXPECT_TRUE(WIFEXITED(w.status));
	EXPECT_EQ(3, WEXITSTATUS(w.status));
	EXPECT_EQ(w.status, ph_reap(k.pid));
}

TEST_F(ph, status_after_parent_reaped)
{
	struct ph_info i;
	struct ph_kid k;
	int st, wst;
	__u64 h;

	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &h));
	ph_kid_exit(&k, 77);
	wst = ph_reap(k.pid);
	ASSERT_TRUE(WIFEXITED(wst));
	/* reaped by pid: the handle still knows how it ended */
	ASSERT_EQ(0, ioc_info(self->fd, h, &i));
	EXPECT_EQ(PH_STATE_EXITED, i.state);
	EXPECT_EQ(wst, i.status);
	EXPECT_EQ(-ESRCH, ioc_signal(self->fd, h, 0));
	ASSERT_EQ(0, ioc_wait(self->fd, h, 0, 0, &st));
	EXPECT_EQ(wst, st);
	EXPECT_EQ(-ESRCH, ioc_acquire(self->fd, k.pid, NULL));
	EXPECT_COUNTERS(1, 1, 0);
	/* and after a signal death */
	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &h));
	ASSERT_EQ(0, kill(k.pid, SIGQUIT));
	wst = ph_reap(k.pid);
	ASSERT_EQ(0, ioc_wait(self->fd, h, 0, 0, &st));
	EXPECT_EQ(wst, st);
	EXPECT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGQUIT, WTERMSIG(st));
	ph_kid_close(&k);
	unlink("/tmp/core");
}

/* WAIT on a grandchild: observes, does not reap (the parent still can). */
TEST_F(ph, wait_nonchild_grandchild)
{
	int info[2], ctl[2], done[2], st, wst;
	pid_t mid, g;
	__u64 h;

	ASSERT_EQ(0, pipe(done));
	ASSERT_EQ(0, pipe(info));
	ASSERT_EQ(0, pipe(ctl));
	mid = fork();
	ASSERT_LE(0, mid);
	if (mid == 0) {
		unsigned char c;

		close(info[0]);
		close(ctl[1]);
		g = fork();
		CHILD_CHECK(g >= 0);
		if (g == 0) {
			CHILD_EQ(1, ph_read_full(ctl[0], &c, 1));
			_exit(c);
		}
		close(ctl[0]);
		close(done[1]);
		CHILD_EQ(0, ph_write_full(info[1], &g, sizeof(g)));
		/* the grandparent WAITs first; then we reap */
		CHILD_EQ(1, ph_read_full(done[0], &c, 1));
		wst = ph_reap(g);
		CHILD_EQ(0, ph_write_full(info[1], &wst, sizeof(wst)));
		_exit(0);
	}
	ph_track(self, mid);
	close(info[1]);
	close(ctl[0]);
	ASSERT_EQ(sizeof(g), ph_read_timeout(info[0], &g, sizeof(g), 10000));
	ASSERT_EQ(0, ioc_acquire(self->fd, g, &h));
	/* not our child: waitpid cannot see it */
	EXPECT_EQ(-1, waitpid(g, &st, WNOHANG));
	EXPECT_EQ(ECHILD, errno);
	ASSERT_EQ(1, write(ctl[1], "\x2a", 1));
	ASSERT_EQ(0, ioc_wait(self->fd, h, 0, 0, &st));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(42, WEXITSTATUS(st));
	ASSERT_EQ(1, write(done[1], "d", 1));
	/* the real parent reaped it after our WAIT and saw the same status */
	ASSERT_EQ(sizeof(wst), ph_read_timeout(info[0], &wst, sizeof(wst), 10000));
	EXPECT_EQ(wst, st);
	EXPECT_EQ(0, ph_reap(mid));
	close(info[0]);
	close(ctl[1]);
	close(done[0]);
	close(done[1]);
}

/*
 * An orphan reparented to a subreaper that is not us: acquire it after the
 * reparenting, wait for it; the subreaper reaps it and reports the status.
 */
TEST_F(ph, wait_reparented_orphan)
{
	int info[2], ctl[2], st, wst;
	pid_t sub, g;
	__u64 h;

	ASSERT_EQ(0, pipe(info));
	ASSERT_EQ(0, pipe(ctl));
	sub = fork();
	ASSERT_LE(0, sub);
	if (sub == 0) {
		pid_t mid;

		close(info[0]);
		CHILD_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
		mid = fork();
		CHILD_CHECK(mid >= 0);
		if (mid == 0) {
			g = fork();
			CHILD_CHECK(g >= 0);
			if (g == 0) {
				unsigned char c;

				close(ctl[1]);
				CHILD_EQ(1, ph_read_full(ctl[0], &c, 1));
				_exit(c);
			}
			CHILD_EQ(0, ph_write_full(info[1], &g, sizeof(g)));
			_exit(0);	/* orphan g */
		}
		close(ctl[0]);
		close(ctl[1]);
		CHILD_EQ(0, ph_reap(mid));
		/* g is ours now */
		CHILD_EQ(0, ph_write_full(info[1], "r", 1));
		do
			g = wait(&wst);
		while (g < 0 && errno == EINTR);
		CHILD_CHECK(g > 0);
		CHILD_EQ(0, ph_write_full(info[1], &wst, sizeof(wst)));
		_exit(0);
	}
	ph_track(self, sub);
	close(info[1]);
	close(ctl[0]);
	ASSERT_EQ(sizeof(g), ph_read_timeout(info[0], &g, sizeof(g), 10000));
	ASSERT_EQ(1, ph_read_timeout(info[0], &st, 1, 10000));
	ASSERT_EQ(0, ioc_acquire(self->fd, g, &h));
	EXPECT_EQ(-EAGAIN, ioc_wait(self->fd, h, PH_WAIT_NOHANG, 0, NULL));
	ASSERT_EQ(1, write(ctl[1], "\x15", 1));
	ASSERT_EQ(0, ioc_wait(self->fd, h, 0, 0, &st));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(21, WEXITSTATUS(st));
	ASSERT_EQ(sizeof(wst), ph_read_timeout(info[0], &wst, sizeof(wst), 10000));
	EXPECT_EQ(wst, st);
	EXPECT_EQ(0, ph_reap(sub));
	close(info[0]);
	close(ctl[1]);
}

/*
 * An orphan reparented to the init process (which may or may not reap
 * it): WAIT still reports its status.
 */
TEST_F(ph, wait_orphan_of_init)
{
	int info[2], ctl[2], st;
	pid_t mid, g;
	__u64 h;

	ASSERT_EQ(0, pipe(info));
	ASSERT_EQ(0, pipe(ctl));
	mid = fork();
	ASSERT_LE(0, mid);
	if (mid == 0) {
		close(info[0]);
		g = fork();
		CHILD_CHECK(g >= 0);
		if (g == 0) {
			unsigned char c;

			close(ctl[1]);
			CHILD_EQ(1, ph_read_full(ctl[0], &c, 1));
			_exit(c);
		}
		CHILD_EQ(0, ph_write_full(info[1], &g, sizeof(g)));
		_exit(0);
	}
	close(info[1]);
	close(ctl[0]);
	ASSERT_EQ(sizeof(g), ph_read_timeout(info[0], &g, sizeof(g), 10000));
	ASSERT_EQ(0, ioc_acquire(self->fd, g, &h));
	EXPECT_EQ(0, ph_reap(mid));
	ASSERT_EQ(1, write(ctl[1], "\x07", 1));
	ASSERT_EQ(0, ioc_wait(self->fd, h, PH_WAIT_TIMEOUT, 20000000000ull, &st));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(7, WEXITSTATUS(st));
	close(info[0]);
	close(ctl[1]);
}

/* Many handles on one process in several files: every one sees the exit. */
TEST_F_TIMEOUT(ph, many_handles_one_process, 90)
{
	enum { F = 3, H = 3000 };
	struct ph_event *ev;
	struct ph_kid k;
	int fds[F], f, i, st, wst;
	__u64 *h;

	h = calloc(F * H, sizeof(*h));
	ev = calloc(H, sizeof(*ev));
	ASSERT_TRUE(h && ev);
	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	for (f = 0; f < F; f++) {
		fds[f] = ioc_open();
		ASSERT_LE(0, fds[f]);
		for (i = 0; i < H; i++)
			ASSERT_EQ(0, ioc_acquire(fds[f], k.pid, &h[f * H + i]));
	}
	EXPECT_COUNTERS(1 + F, F * H, F * H);
	ph_kid_exit(&k, 8);
	ASSERT_EQ(0, ioc_wait(fds[0], h[0], 0, 0, &st));
	wst = ph_reap(k.pid);
	EXPECT_EQ(wst, st);
	for (f = 0; f < F; f++) {
		int got = dev_read_events(fds[f], ev, H, H, 20000);

		/* one event per handle, each handle exactly once */
		ASSERT_EQ(H, got);
		EXPECT_EQ(0, dev_read_events(fds[f], ev, H, 1, 0));
		qsort(ev, H, sizeof(*ev), ph_cmp_event);
		qsort(h + f * H, H, sizeof(*h), ph_cmp_u64);
		for (i = 0; i < H; i++) {
			ASSERT_EQ(h[f * H + i], ev[i].handle);
			EXPECT_EQ(st, ev[i].status);
			EXPECT_EQ(k.pid, ev[i].pid);
		}
		for (i = 0; i < H; i++) {
			struct ph_info inf;

			ASSERT_EQ(0, ioc_info(fds[f], h[f * H + i], &inf));
			ASSERT_NE(PH_STATE_RUNNING, inf.state);
			ASSERT_EQ(st, inf.status);
		}
		close(fds[f]);
	}
	free(h);
	free(ev);
	EXPECT_COUNTERS(1, 0, 0);
}

PH_HARNESS_MAIN_WITH_HELPER(helper_main)
