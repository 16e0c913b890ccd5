// SPDX-License-Identifier: GPL-2.0
/*
 * prochandle: tracking descendants (SPEC 12), PH_ACQUIRE_TRACK, FORK and
 * EXEC records in format V2, PH_EVENT_F_TRACK_LOST and the sysfs counter
 * track_lost.
 *
 *   fork_chain_10000        a tracked process's child forks and exits in a
 *                           tight loop 10 000 times: every process of the
 *                           chain has a handle, a FORK and an EXIT record,
 *                           FORK before the parent's and the child's EXIT
 *   double_fork_daemon      a daemon that double-forks and calls setsid is
 *                           still tracked; closing the file (kill on
 *                           release) kills it
 *   release_kills_tree      RELEASE of a KILL_ON_RELEASE|TRACK handle kills
 *                           that process only; closing kills the rest
 *   threads_are_not_forks   pthread_create: no FORK; a fork after: one
 *   vfork_and_clone3        vfork and clone3 without CLONE_THREAD are forks
 *   exec_record             execve gives an EXEC record before the EXIT
 *   grandchildren_tracked   children of tracked children are tracked, with
 *                           their own handles as FORK parents
 *   untracked_forks_nothing a handle without TRACK makes no handles
 *   release_stops_tracking  after RELEASE, forks make no handles
 *   v1_exits_only           in format V1 tracked children give exits only
 *   mask_without_fork       V2 without PH_EVENT_FORK: children tracked, no
 *                           FORK record (EXIT records only)
 *   track_lost_max_handles  max_handles reached: FORK with child 0 and
 *                           TRACK_LOST, also without FORK in the mask,
 *                           counted in track_lost
 *   two_tables              two tables track one process: each gets its
 *                           own handles and records
 *   track_errors            EBADF (read-only file), ESRCH, EPERM, EINVAL
 *   track_lost_failslab     (debug kernels) every allocation of a tracked
 *                           fork failed in turn: the fork fails, or the
 *                           child is tracked, or TRACK_LOST is reported
 */
#include <sys/prctl.h>

#include "ph_test.h"

#define MAXEV		65536
#define CHAIN		10000

static int ioc_set_events(int fd, __u32 format, __u32 mask)
{
	struct ph_events e = { .format = format, .mask = mask };

	return ioc_call(fd, PH_IOC_SET_EVENTS, &e);
}

static long track_lost(void)
{
	return ph_read_long(PH_SYSFS "track_lost");
}

/* The records read so far. */
struct evlog {
	struct ph_event2 *ev;
	int n, exits, forks, execs, lost;
};

static void evlog_init(struct evlog *l)
{
	memset(l, 0, sizeof(*l));
	l->ev = calloc(MAXEV, sizeof(*l->ev));
}

static bool reaping;

/* As a subreaper: reap whatever has exited among our children. */
static void reap_any(void)
{
	while (reaping && waitpid(-1, NULL, WNOHANG | __WALL) > 0)
		;
}

/*
 * Read records until @exits EXIT records have come in all, or none for
 * @ms.  Returns the number of EXIT records so far.
 */
static int evlog_read(int fd, struct evlog *l, int exits, int ms)
{
	while (l->exits < exits && l->n < MAXEV) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;
		int i, k;

		reap_any();
		r = poll(&p, 1, ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		k = MAXEV - l->n < 64 ? MAXEV - l->n : 64;
		r = read(fd, l->ev + l->n, k * sizeof(*l->ev));
		if (r < 0 && errno == EAGAIN)
			continue;
		if (r <= 0 || r % sizeof(*l->ev))
			break;
		for (i = l->n; i < l->n + r / (int)sizeof(*l->ev); i++) {
			l->exits += l->ev[i].type == PH_EVENT_EXIT;
			l->forks += l->ev[i].type == PH_EVENT_FORK;
			l->execs += l->ev[i].type == PH_EVENT_EXEC;
			l->lost += !!(l->ev[i].flags & PH_EVENT_F_TRACK_LOST);
		}
		l->n += r / sizeof(*l->ev);
	}
	reap_any();
	return l->exits;
}

/* Index of the first record of @type about handle @h, from @from; or -1. */
static int evlog_find(const struct evlog *l, __u32 type, __u64 h, int from)
{
	int i;

	for (i = from; i < l->n; i++)
		if (l->ev[i].type == type && l->ev[i].handle == h)
			return i;
	return -1;
}

/*
 * A process that waits for a byte on a pipe, then runs @fn and exits with
 * its result.  The test acquires it first, then lets it go.
 */
struct scen {
	pid_t pid;
	int go;
};

/* The table the scenario must not hold (its last close kills). */
static int scen_table = -1;

static int scen_start(struct scen *s, int (*fn)(void))
{
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return -1;
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (!s->pid) {
		char c;

		close(p[1]);
		if (scen_table >= 0)
			close(scen_table);
		if (read(p[0], &c, 1) != 1)
			_exit(100);
		close(p[0]);
		_exit(fn());
	}
	close(p[0]);
	s->go = p[1];
	return 0;
}

static void scen_go(struct scen *s)
{
	if (write(s->go, "g", 1) != 1)
		perror("write");
	close(s->go);
}

/*
 * Format V2 with @mask, start @fn tracked (@flags besides TRACK), let it
 * go and read records until @exits EXITs came.  Returns the number of
 * EXITs read, or -1 if the setup failed.
 */
static int run_tracked(FIXTURE_DATA(ph) *self, int (*fn)(void), __u32 mask,
		       __u32 flags, int exits, struct evlog *l, struct scen *s,
		       __u64 *h)
{
	evlog_init(l);
	if (!l->ev || ioc_set_events(self->fd, PH_EVENTS_V2, mask) ||
	    scen_start(s, fn))
		return -1;
	ph_track(self, s->pid);
	if (ioc_acquire_st(self->fd, s->pid, PH_ACQUIRE_TRACK | flags, 0, h))
		return -1;
	scen_go(s);
	return evlog_read(self->fd, l, exits, 10000);
}

static void subreaper(void)
{
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	reaping = true;
}

/*
 * Every FORK or EXEC record precedes the EXIT of its process, and a FORK
 * the EXIT of its child; every child handle has an EXIT.  Handle ids are
 * small here: an index by id.
 */
static void check_order(struct __test_metadata *_metadata,
			const struct evlog *l)
{
	int *pos = malloc(MAXEV * sizeof(*pos));
	int i, bad = 0;

	ASSERT_NE(NULL, pos);
	for (i = 0; i < MAXEV; i++)
		pos[i] = -1;
	for (i = 0; i < l->n; i++)
		if (l->ev[i].type == PH_EVENT_EXIT && l->ev[i].handle < MAXEV)
			pos[l->ev[i].handle] = i;
	for (i = 0; i < l->n && bad < 5; i++) {
		const struct ph_event2 *e = &l->ev[i];

		if (e->type == PH_EVENT_EXIT)
			continue;
		if (e->handle >= MAXEV || pos[e->handle] < i) {
			TH_LOG("record %d (type %u) of handle %llu after its EXIT",
			       i, e->type, (unsigned long long)e->handle);
			bad++;
		}
		if (e->child && (e->child >= MAXEV || pos[e->child] < i)) {
			TH_LOG("FORK %d after its child %llu's EXIT (or none)",
			       i, (unsigned long long)e->child);
			bad++;
		}
	}
	free(pos);
	EXPECT_EQ(0, bad);
}

/* ---------------------------------------------------------------- */

static int chain(void)
{
	int i;

	for (i = 0; i < CHAIN; i++) {
		pid_t p = fork();

		if (p < 0)
			return 1;
		if (p)
			_exit(0);	/* the child carries on */
	}
	return 0;
}

static int fork_chain(void)
{
	pid_t p = fork();

	if (p < 0)
		return 1;
	if (!p)
		_exit(chain());
	return 0;
}

TEST_F_TIMEOUT(ph, fork_chain_10000, 900)
{
	struct evlog l;
	struct scen s;
	__u64 h;
	uint64_t t0;

	subreaper();
	evlog_init(&l);
	ASSERT_NE(NULL, l.ev);
	ASSERT_EQ(0, ioc_set_events(self->fd, PH_EVENTS_V2, PH_EVENT_FORK));
	ASSERT_EQ(0, scen_start(&s, fork_chain));
	ph_track(self, s.pid);
	ASSERT_EQ(0, ioc_acquire_st(self->fd, s.pid, PH_ACQUIRE_TRACK, 0, &h));
	t0 = ph_now_ns(CLOCK_MONOTONIC);
	scen_go(&s);
	/* A, its child and the CHAIN processes it forked in turn. */
	EXPECT_EQ(CHAIN + 2, evlog_read(self->fd, &l, CHAIN + 2, 60000));
	TH_LOG("%d processes forked and exited in %llu ms", CHAIN + 2,
	       (unsigned long long)((ph_now_ns(CLOCK_MONOTONIC) - t0) / 1000000));
	EXPECT_EQ(CHAIN + 1, l.forks);
	EXPECT_EQ(0, l.lost);
	check_order(_metadata, &l);
	/* One handle per process. */
	EXPECT_EQ(CHAIN + 2, ph_handles() - self->base.handles);
	free(l.ev);
}

static int daemon_fd = -1;

/* Double fork and setsid; the daemon reports its pid and sleeps. */
static int daemonize(void)
{
	pid_t p = fork(), d;

	if (p < 0)
		return 1;
	if (!p) {
		setsid();
		p = fork();
		if (p)
			_exit(p < 0);
		d = getpid();
		if (write(daemon_fd, &d, sizeof(d)) != sizeof(d))
			_exit(1);
		for (;;)
			pause();
	}
	return 0;
}

TEST_F(ph, double_fork_daemon)
{
	long k0 = ph_read_long(PH_SYSFS "kills");
	struct evlog l;
	struct scen s;
	int p[2], st;
	pid_t d = 0;
	__u64 h;

	subreaper();
	scen_table = self->fd;
	evlog_init(&l);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	daemon_fd = p[1];
	ASSERT_EQ(0, ioc_set_events(self->fd, PH_EVENTS_V2, PH_EVENT_FORK));
	ASSERT_EQ(0, scen_start(&s, daemonize));
	ph_track(self, s.pid);
	ASSERT_EQ(0, ioc_acquire_st(self->fd, s.pid, PH_ACQUIRE_TRACK |
				    PH_ACQUIRE_KILL_ON_RELEASE, 0, &h));
	scen_go(&s);
	close(p[1]);
	ASSERT_EQ(sizeof(d), read(p[0], &d, sizeof(d)));
	close(p[0]);
	/* A and the middle process exited; the daemon (our orphan) runs. */
	EXPECT_EQ(2, evlog_read(self->fd, &l, 2, 10000));
	EXPECT_EQ(2, l.forks);
	EXPECT_EQ(0, waitpid(d, &st, WNOHANG));
	EXPECT_EQ(3, ph_handles() - self->base.handles);
	/* The last close kills the whole tree that is left: the daemon. */
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(d, waitpid(d, &st, 0));
	EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	/* A and the middle one had exited: only the daemon was signalled. */
	EXPECT_EQ(k0 + 1, ph_read_long(PH_SYSFS "kills"));
	reap_any();
	free(l.ev);
}

static int fork_and_pause(void)
{
	pid_t p = fork();

	if (p < 0)
		return 1;
	if (!p)
		for (;;)
			pause();
	for (;;)
		pause();
}

TEST_F(ph, release_kills_tree)
{
	struct evlog l;
	struct scen s;
	int st;
	__u64 h;

	subreaper();
	scen_table = self->fd;
	evlog_init(&l);
	ASSERT_EQ(0, ioc_set_events(self->fd, PH_EVENTS_V2, PH_EVENT_FORK));
	ASSERT_EQ(0, scen_start(&s, fork_and_pause));
	ph_track(self, s.pid);
	ASSERT_EQ(0, ioc_acquire_st(self->fd, s.pid, PH_ACQUIRE_TRACK |
				    PH_ACQUIRE_KILL_ON_RELEASE, 0, &h));
	scen_go(&s);
	ASSERT_TRUE(ph_until(!evlog_read(self->fd, &l, 1, 0) && l.forks == 1,
			     10000));
	EXPECT_EQ(2, ph_handles() - self->base.handles);
	/* RELEASE kills the parent only: the child has its own handle. */
	EXPECT_EQ(0, ioc_release(self->fd, h));
	EXPECT_EQ(s.pid, waitpid(s.pid, &st, 0));
	EXPECT_EQ(SIGKILL, WTERMSIG(st));
	EXPECT_EQ(0, ioc_signal(self->fd, l.ev[0].child, 0));
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(l.ev[0].child_pid, waitpid(l.ev[0].child_pid, &st, 0));
	EXPECT_EQ(SIGKILL, WTERMSIG(st));
	free(l.ev);
}

/*
 * @fn, tracked, makes @forks processes (each exits 0) by some flavour of
 * fork, and exits 0: one FORK record each, in order.
 */
static void forks_recorded(struct __test_metadata *_metadata,
			   FIXTURE_DATA(ph) *self, int (*fn)(void), int forks)
{
	struct evlog l;
	struct scen s;
	__u64 h;

	EXPECT_EQ(forks + 1, run_tracked(self, fn, PH_EVENT_FORK, 0, forks + 1,
					 &l, &s, &h));
	EXPECT_EQ(forks, l.forks);
	EXPECT_EQ(0, WEXITSTATUS(ph_reap(s.pid)));
	check_order(_metadata, &l);
	free(l.ev);
}

static void *thread_fn(void *arg)
{
	return arg;
}

static int thread_then_fork(void)
{
	pthread_t t;
	pid_t p;

	if (pthread_create(&t, NULL, thread_fn, NULL) || pthread_join(t, NULL))
		return 1;
	p = fork();
	if (p < 0)
		return 1;
	if (!p)
		_exit(0);
	return waitpid(p, NULL, 0) != p;
}

TEST_F(ph, threads_are_not_forks)
{
	forks_recorded(_metadata, self, thread_then_fork, 1);
}

static int vfork_clone3(void)
{
	struct ph_clone_args ca = { .exit_signal = SIGCHLD };
	pid_t p = vfork();

	if (p < 0)
		return 1;
	if (!p)
		_exit(0);
	if (waitpid(p, NULL, 0) != p)
		return 1;
	p = syscall(SYS_clone3, &ca, sizeof(ca));
	if (p < 0)
		return 1;
	if (!p)
		_exit(0);
	return waitpid(p, NULL, 0) != p;
}

TEST_F(ph, vfork_and_clone3)
{
	forks_recorded(_metadata, self, vfork_clone3, 2);
}

static int exec_true(void)
{
	execl("/proc/self/exe", "exe", "--ph-helper", NULL);
	return 1;
}

TEST_F(ph, exec_record)
{
	struct evlog l;
	struct scen s;
	int i;
	__u64 h;

	EXPECT_EQ(1, run_tracked(self, exec_true, PH_EVENT_FORK | PH_EVENT_EXEC, 0, 1,
				 &l, &s, &h));
	EXPECT_EQ(7, WEXITSTATUS(ph_reap(s.pid)));
	ASSERT_EQ(2, l.n);
	EXPECT_EQ(PH_EVENT_EXEC, l.ev[0].type);
	EXPECT_EQ(h, l.ev[0].handle);
	EXPECT_EQ(s.pid, l.ev[0].pid);
	EXPECT_EQ(0, l.ev[0].status);
	EXPECT_EQ(0, l.ev[0].child);
	EXPECT_NE(0, l.ev[0].time);
	EXPECT_LE(l.ev[0].time, l.ev[1].time);
	for (i = 0; i < (int)sizeof(l.ev[0].exit); i++)
		EXPECT_EQ(0, ((char *)&l.ev[0].exit)[i]);
	EXPECT_EQ(PH_EVENT_EXIT, l.ev[1].type);
	free(l.ev);
}

static int two_generations(void)
{
	pid_t p = fork();

	if (p < 0)
		return 1;
	if (!p) {
		p = fork();
		if (!p)
			_exit(0);
		_exit(p < 0 || waitpid(p, NULL, 0) != p);
	}
	return waitpid(p, NULL, 0) != p;
}

TEST_F(ph, grandchildren_tracked)
{
	struct evlog l;
	struct scen s;
	int c, g;
	__u64 h;

	EXPECT_EQ(3, run_tracked(self, two_generations, PH_EVENT_FORK, 0, 3,
				 &l, &s, &h));
	EXPECT_EQ(0, WEXITSTATUS(ph_reap(s.pid)));
	ASSERT_EQ(2, l.forks);
	c = evlog_find(&l, PH_EVENT_FORK, h, 0);
	ASSERT_LE(0, c);
	g = evlog_find(&l, PH_EVENT_FORK, l.ev[c].child, 0);
	ASSERT_LT(c, g);
	EXPECT_EQ(l.ev[c].child_pid, l.ev[g].pid);
	EXPECT_NE(0, l.ev[g].child);
	EXPECT_NE(0, l.ev[g].child_pid);
	check_order(_metadata, &l);
	free(l.ev);
}

TEST_F(ph, untracked_forks_nothing)
{
	struct evlog l;
	struct scen s;
	__u64 h;

	evlog_init(&l);
	ASSERT_EQ(0, ioc_set_events(self->fd, PH_EVENTS_V2, PH_EVENT_FORK));
	ASSERT_EQ(0, scen_start(&s, two_generations));
	ph_track(self, s.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, s.pid, &h));
	scen_go(&s);
	EXPECT_EQ(1, evlog_read(self->fd, &l, 1, 10000));
	EXPECT_EQ(0, WEXITSTATUS(ph_reap(s.pid)));
	EXPECT_EQ(1, l.n);
	EXPECT_EQ(1, ph_handles() - self->base.handles);
	free(l.ev);
}

TEST_F(ph, release_stops_tracking)
{
	struct evlog l;
	struct scen s;
	__u64 h, h2;

	evlog_init(&l);
	ASSERT_EQ(0, ioc_set_events(self->fd, PH_EVENTS_V2, PH_EVENT_FORK));
	ASSERT_EQ(0, scen_start(&s, two_generations));
	ph_track(self, s.pid);
	ASSERT_EQ(0, ioc_acquire_st(self->fd, s.pid, PH_ACQUIRE_TRACK, 0, &h));
	ASSERT_EQ(0, ioc_acquire(self->fd, s.pid, &h2));
	ASSERT_EQ(0, ioc_release(self->fd, h));
	scen_go(&s);
	EXPECT_EQ(1, evlog_read(self->fd, &l, 1, 10000));
	EXPECT_EQ(0, WEXITSTATUS(ph_reap(s.pid)));
	EXPECT_EQ(1, l.n);
	EXPECT_EQ(h2, l.ev[0].handle);
	EXPECT_EQ(1, ph_handles() - self->base.handles);
	free(l.ev);
}

TEST_F(ph, v1_exits_only)
{
	struct ph_event ev[8];
	struct scen s;
	__u64 h;

	ASSERT_EQ(0, scen_start(&s, two_generations));
	ph_track(self, s.pid);
	ASSERT_EQ(0, ioc_acquire_st(self->fd, s.pid, PH_ACQUIRE_TRACK, 0, &h));
	scen_go(&s);
	EXPECT_EQ(3, dev_read_events(self->fd, ev, 8, 3, 10000));
	EXPECT_EQ(0, WEXITSTATUS(ph_reap(s.pid)));
	EXPECT_EQ(0, dev_read_events(self->fd, ev, 8, 8, 0));
}

TEST_F(ph, mask_without_fork)
{
	struct evlog l;
	struct scen s;
	__u64 h;

	EXPECT_EQ(3, run_tracked(self, two_generations, PH_EVENT_EXEC, 0, 3,
				 &l, &s, &h));
	EXPECT_EQ(0, WEXITSTATUS(ph_reap(s.pid)));
	EXPECT_EQ(3, l.n);
	EXPECT_EQ(0, l.forks);
	free(l.ev);
}

static int three_children(void)
{
	int i, bad = 0;

	for (i = 0; i < 3; i++) {
		pid_t p = fork();

		if (!p)
			_exit(0);
		bad |= p < 0 || waitpid(p, NULL, 0) != p;
	}
	return bad;
}

static void lost_case(struct __test_metadata *_metadata,
		      FIXTURE_DATA(ph) *self, __u32 mask)
{
	long l0 = track_lost();
	struct evlog l;
	struct scen s;
	__u64 h;
	int i;

	self->saved_max = ph_read_long(PH_MAX_HANDLES);
	ASSERT_LT(0, self->saved_max);
	evlog_init(&l);
	ASSERT_EQ(0, ioc_set_events(self->fd, PH_EVENTS_V2, mask));
	ASSERT_EQ(0, scen_start(&s, three_children));
	ph_track(self, s.pid);
	ASSERT_EQ(0, ioc_acquire_st(self->fd, s.pid, PH_ACQUIRE_TRACK, 0, &h));
	/* Room for one child's handle in this table. */
	ASSERT_EQ(0, ph_write_long(PH_MAX_HANDLES, 2));
	scen_go(&s);
	EXPECT_EQ(2, evlog_read(self->fd, &l, 2, 10000));
	EXPECT_EQ(0, WEXITSTATUS(ph_reap(s.pid)));
	EXPECT_EQ(2, l.lost);
	EXPECT_EQ(l0 + 2, track_lost());
	for (i = 0; i < l.n; i++) {
		if (!(l.ev[i].flags & PH_EVENT_F_TRACK_LOST))
			continue;
		EXPECT_EQ(PH_EVENT_FORK, l.ev[i].type);
		EXPECT_EQ(h, l.ev[i].handle);
		EXPECT_EQ(0, l.ev[i].child);
		EXPECT_LT(0, l.ev[i].child_pid);
	}
	EXPECT_EQ(mask & PH_EVENT_FORK ? 3 : 2, l.forks);
	check_order(_metadata, &l);
	free(l.ev);
}

TEST_F(ph, track_lost_max_handles)
{
	lost_case(_metadata, self, PH_EVENT_FORK);
}

TEST_F(ph, track_lost_without_fork_mask)
{
	lost_case(_metadata, self, 0);
}

TEST_F(ph, two_tables)
{
	struct evlog l, l2;
	struct scen s;
	__u64 h, h2;
	int fd2;

	evlog_init(&l);
	evlog_init(&l2);
	fd2 = ioc_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, ioc_set_events(self->fd, PH_EVENTS_V2, PH_EVENT_FORK));
	ASSERT_EQ(0, ioc_set_events(fd2, PH_EVENTS_V2, PH_EVENT_FORK));
	ASSERT_EQ(0, scen_start(&s, two_generations));
	ph_track(self, s.pid);
	ASSERT_EQ(0, ioc_acquire_st(self->fd, s.pid, PH_ACQUIRE_TRACK, 0, &h));
	ASSERT_EQ(0, ioc_acquire_st(fd2, s.pid, PH_ACQUIRE_TRACK, 0, &h2));
	scen_go(&s);
	EXPECT_EQ(3, evlog_read(self->fd, &l, 3, 10000));
	EXPECT_EQ(3, evlog_read(fd2, &l2, 3, 10000));
	EXPECT_EQ(0, WEXITSTATUS(ph_reap(s.pid)));
	EXPECT_EQ(2, l.forks);
	EXPECT_EQ(2, l2.forks);
	EXPECT_EQ(6, ph_handles() - self->base.handles);
	close(fd2);
	free(l.ev);
	free(l2.ev);
}

TEST_F(ph, track_errors)
{
	struct ph_kid k;
	int ro, st;
	pid_t p;

	/* The open mode is a right: tracking creates handles. */
	ro = open(PH_DEV, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ro);
	EXPECT_EQ(-EBADF, ioc_acquire_st(ro, getpid(), PH_ACQUIRE_TRACK, 0, NULL));
	close(ro);
	EXPECT_EQ(-EINVAL, ioc_acquire_st(self->fd, 0, PH_ACQUIRE_TRACK, 0, NULL));
	EXPECT_EQ(-EINVAL, ioc_acquire_st(self->fd, getpid(), PH_ACQUIRE_TRACK |
					  PH_ACQUIRE_STARTTIME |
					  PH_ACQUIRE_STARTTIME_TICKS, 0, NULL));
	ASSERT_EQ(0, ph_spawn(&k));
	ph_kid_exit(&k, 0);
	ph_reap(k.pid);
	EXPECT_EQ(-ESRCH, ioc_acquire_st(self->fd, k.pid, PH_ACQUIRE_TRACK, 0, NULL));
	/* Not permitted to signal it: EPERM, as without TRACK. */
	p = fork();
	ASSERT_LE(0, p);
	if (!p) {
		CHILD_CHECK(!setresgid(PH_NOBODY, PH_NOBODY, PH_NOBODY));
		CHILD_CHECK(!setresuid(PH_NOBODY, PH_NOBODY, PH_NOBODY));
		CHILD_EQ(-EPERM, ioc_acquire_st(self->fd, 1, PH_ACQUIRE_TRACK,
						0, NULL));
		_exit(0);
	}
	st = ph_reap(p);
	EXPECT_TRUE(WIFEXITED(st) && !WEXITSTATUS(st));
	EXPECT_COUNTERS(1, 0, 0);
}

/*
 * Fault injection (failslab, debug kernels): the n-th failable allocation
 * of the forking thread fails, for n = 1, 2, ... until the fork makes
 * fewer.  Each fork then fails, or its child is tracked (a FORK record
 * with a child handle) or not (a TRACK_LOST record, counted): never lost
 * silently, and counters consistent.
 *
 * The child's handle is made by whichever of parent and child runs its
 * task work first (fork.c), and only the parent's allocations are
 * failable here (fail-nth is per thread).  On one CPU the new child does
 * not run before the parent is back from fork(), so the parent makes the
 * handle and some n reaches each of its allocations; on two, a child
 * that won the race made the run see no lost child at all.
 */
TEST_F_TIMEOUT(ph, track_lost_failslab, 300)
{
	long l0 = track_lost();
	int n, failed = 0;
	struct ph_failslab f;
	cpu_set_t one;
	struct evlog l;
	__u64 h;

	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);	/* this test's process only */
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(one), &one));
	PH_FAILSLAB_START(&f);
	evlog_init(&l);
	ASSERT_EQ(0, ioc_set_events(self->fd, PH_EVENTS_V2, PH_EVENT_FORK));
	ASSERT_EQ(0, ioc_acquire_st(self->fd, getpid(), PH_ACQUIRE_TRACK, 0, &h));
	for (n = 1; n <= 400 && !PH_FAILED(); n++) {
		int e, left;
		pid_t p;

		ASSERT_EQ(0, ph_fail_nth(&f, n));
		p = fork();
		e = errno;
		if (!p)
			_exit(0);
		left = ph_fail_nth_end(&f);
		ASSERT_LE(0, left);
		if (p < 0) {
			EXPECT_TRUE(e == ENOMEM || e == EAGAIN) {
				TH_LOG("n=%d: fork: %s", n, strerror(e));
			}
			failed++;
		} else {
			EXPECT_EQ(p, waitpid(p, NULL, 0));
			/* Its FORK record, and its EXIT if it was tracked. */
			EXPECT_TRUE(ph_until(evlog_read(self->fd, &l, INT_MAX, 0) >= 0 &&
					     l.forks == n - failed &&
					     l.exits == l.forks - l.lost, 10000)) {
				TH_LOG("n=%d: %d forks, %d lost, %d exits", n,
				       l.forks, l.lost, l.exits);
			}
		}
		if (left)	/* not reached: the fork made fewer */
			break;
	}
	EXPECT_EQ(0, ph_failslab_stop(&f));
	TH_LOG("%d injections: %d forks failed, %d children lost, %d tracked",
	       n, failed, l.lost, l.forks - l.lost);
	EXPECT_LT(0, failed);
	EXPECT_LT(0, l.lost);
	EXPECT_EQ(l0 + l.lost, track_lost());
	EXPECT_EQ(1 + l.forks - l.lost, ph_handles() - self->base.handles);
	free(l.ev);
}

/* The program exec_record's process executes: exits 7. */
static int helper(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return 7;
}

PH_HARNESS_MAIN_WITH_HELPER(helper)
