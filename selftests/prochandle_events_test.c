// SPDX-License-Identifier: GPL-2.0
/*
 * prochandle: exit events through poll() and read() (SPEC §3 "Events").
 * 1000 processes, each event exactly once with the right pid and status;
 * poll readiness; short buffers; non-blocking reads; released handles'
 * events never delivered; exit order; blocked readers woken; epoll.
 */
#include <sys/epoll.h>

#include "ph_test.h"

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/*
 * Fork @n children; child i waits for one byte on its batch's pipe and
 * then exits with code i % 200, or, for i % 7 == 6, dies of SIGUSR2.
 */
static int expected_code(int i)
{
	return i % 7 == 6 ? -SIGUSR2 : i % 200;
}

static pid_t fork_exiter(int i, int go_r, int w1, int w2)
{
	pid_t pid = fork();

	if (pid == 0) {
		char c;

		close(w1);
		close(w2);

		while (read(go_r, &c, 1) < 0 && errno == EINTR)
			;
		if (expected_code(i) < 0) {
			signal(SIGUSR2, SIG_DFL);
			kill(getpid(), SIGUSR2);
		}
		_exit(expected_code(i));
	}
	return pid;
}

static int write_n(int fd, int n)
{
	char buf[256];

	memset(buf, 'g', sizeof(buf));
	while (n > 0) {
		int k = n < 256 ? n : 256;

		if (ph_write_full(fd, buf, k))
			return -1;
		n -= k;
	}
	return 0;
}

TEST_F_TIMEOUT(ph, thousand_exits, 150)
{
	enum { N = 1000 };
	pid_t *pid = calloc(N, sizeof(pid_t));
	__u64 *h = calloc(N, sizeof(__u64));
	int *seen = calloc(N, sizeof(int)), *wst = calloc(N, sizeof(int));
	struct ph_event *ev = calloc(N + 8, sizeof(*ev));
	int go1[2], go2[2], i, got = 0, want = 0, chunk = 1;
	unsigned int seed = 1;

	ASSERT_TRUE(pid && h && seen && wst && ev);
	ASSERT_EQ(0, pipe(go1));
	ASSERT_EQ(0, pipe(go2));
	/* batch 1: i % 10 == 5, batch 2: the rest */
	for (i = 0; i < N; i++) {
		pid[i] = fork_exiter(i, i % 10 == 5 ? go1[0] : go2[0],
				     go1[1], go2[1]);
		ASSERT_LT(0, pid[i]);
		ASSERT_EQ(0, ioc_acquire(self->fd, pid[i], &h[i]));
	}
	close(go1[0]);
	close(go2[0]);
	EXPECT_COUNTERS(1, N, N);
	EXPECT_FALSE(readable(self->fd));

	/* batch 1 exits; their handles are released before the events are read */
	ASSERT_EQ(0, write_n(go1[1], N / 10));
	for (i = 5; i < N; i += 10)
		ASSERT_EQ(0, ph_wait_zombie(pid[i]));
	ASSERT_TRUE(ph_until(readable(self->fd), 10000));
	for (i = 5; i < N; i += 10)
		ASSERT_EQ(0, ioc_release(self->fd, h[i]));
	/* nothing left to read */
	EXPECT_FALSE(readable(self->fd));
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(-1, read(self->fd, ev, N * sizeof(*ev)));
	EXPECT_EQ(EAGAIN, errno);

	/* batch 2: every 10th (i % 10 == 3) released while still running */
	for (i = 3; i < N; i += 10)
		ASSERT_EQ(0, ioc_release(self->fd, h[i]));
	ASSERT_EQ(0, write_n(go2[1], N - N / 10));
	for (i = 0; i < N; i++)
		if (i % 10 != 3 && i % 10 != 5)
			want++;
	/* read in chunks of varying size, with a little slack each time */
	while (got < want) {
		struct pollfd p = { .fd = self->fd, .events = POLLIN };
		ssize_t n;

		ASSERT_EQ(1, poll(&p, 1, 20000)) {
			TH_LOG("%d of %d events, then nothing", got, want);
		}
		n = read(self->fd, ev + got,
			 chunk * sizeof(*ev) + (chunk % sizeof(*ev)));
		if (n < 0 && errno == EAGAIN)
			continue;
		ASSERT_LT(0, n);
		ASSERT_EQ(0, n % (ssize_t)sizeof(*ev));
		ASSERT_GE(chunk, n / (ssize_t)sizeof(*ev));
		got += n / sizeof(*ev);
		ASSERT_GE(want, got);
		chunk = 1 + rand_r(&seed) % 37;
	}
	/* no more, ever: not even a little later */
	EXPECT_EQ(-1, read(self->fd, ev, sizeof(*ev)));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, dev_read_events(self->fd, ev + got, 8, 1, 200));
	for (i = 0; i < N; i++)
		wst[i] = ph_reap(pid[i]);
	for (int e = 0; e < got; e++) {
		for (i = 0; i < N && h[i] != ev[e].handle; i++)
			;
		ASSERT_GT(N, i) {
			TH_LOG("event for unknown handle %llu",
			       (unsigned long long)ev[e].handle);
		}
		EXPECT_NE(3, i % 10);
		EXPECT_NE(5, i % 10);
		EXPECT_EQ(0, seen[i]++);
		EXPECT_EQ(pid[i], ev[e].pid);
		EXPECT_EQ(wst[i], ev[e].status);
		if (expected_code(i) >= 0) {
			EXPECT_TRUE(WIFEXITED(ev[e].status));
			EXPECT_EQ(expected_code(i), WEXITSTATUS(ev[e].status));
		} else {
			EXPECT_TRUE(WIFSIGNALED(ev[e].status));
			EXPECT_EQ(SIGUSR2, WTERMSIG(ev[e].status));
		}
		if (PH_FAILED())
			break;
	}
	/* reading events does not change the handles' state */
	for (i = 0; i < N; i++) {
		if (i % 10 == 3 || i % 10 == 5)
			continue;
		ASSERT_EQ(PH_STATE_EXITED, ioc_state(self->fd, h[i]));
	}
	EXPECT_COUNTERS(1, want, want);
	close(go1[1]);
	close(go2[1]);
	free(pid);
	free(h);
	free(seen);
	free(wst);
	free(ev);
}

/* Several readers at once: every event goes to exactly one of them. */
struct creader {
	pthread_t t;
	int fd, idx, n, err, want;
	int *total;
	struct ph_event ev[256];
};

static void *creader_fn(void *p)
{
	struct creader *r = p;
	uint64_t dl = ph_now_ns(CLOCK_MONOTONIC) + 60 * 1000000000ull;

	while (__atomic_load_n(r->total, __ATOMIC_SEQ_CST) < r->want &&
	       ph_now_ns(CLOCK_MONOTONIC) < dl && r->n < 256) {
		struct pollfd pf = { .fd = r->fd, .events = POLLIN };
		int room = 256 - r->n, k = 1 + r->idx * 3;
		ssize_t n;

		if (poll(&pf, 1, 50) <= 0)
			continue;
		n = read(r->fd, r->ev + r->n, (k < room ? k : room) * sizeof(struct ph_event));
		if (n < 0 && errno == EAGAIN)
			continue;	/* another reader took it */
		if (n <= 0 || n % sizeof(struct ph_event)) {
			r->err = n < 0 ? errno : -1;
			return NULL;
		}
		r->n += n / sizeof(struct ph_event);
		__atomic_fetch_add(r->total, n / sizeof(struct ph_event), __ATOMIC_SEQ_CST);
	}
	return NULL;
}

TEST_F_TIMEOUT(ph, events_concurrent_readers, 90)
{
	enum { N = 200, R = 4 };
	struct creader *r = calloc(R, sizeof(*r));
	int go[2], i, j, total = 0, seen[N] = { 0 };
	pid_t pid[N];
	__u64 h[N];

	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, pipe(go));
	for (i = 0; i < N; i++) {
		pid[i] = fork_exiter(i, go[0], go[1], go[1]);
		ASSERT_LT(0, pid[i]);
		ASSERT_EQ(0, ioc_acquire(self->fd, pid[i], &h[i]));
	}
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, O_NONBLOCK));
	for (i = 0; i < R; i++) {
		r[i].fd = self->fd;
		r[i].idx = i;
		r[i].want = N;
		r[i].total = &total;
		ASSERT_EQ(0, pthread_create(&r[i].t, NULL, creader_fn, &r[i]));
	}
	ASSERT_EQ(0, write_n(go[1], N));
	for (i = 0; i < R; i++) {
		pthread_join(r[i].t, NULL);
		EXPECT_EQ(0, r[i].err);
		for (j = 0; j < r[i].n; j++) {
			int k;

			for (k = 0; k < N && h[k] != r[i].ev[j].handle; k++)
				;
			ASSERT_GT(N, k);
			EXPECT_EQ(0, seen[k]++);
			EXPECT_EQ(pid[k], r[i].ev[j].pid);
		}
	}
	EXPECT_EQ(N, total);
	for (i = 0; i < N; i++) {
		int st = ph_reap(pid[i]);

		EXPECT_EQ(1, seen[i]);
		EXPECT_TRUE(WIFSIGNALED(st) || WIFEXITED(st));
	}
	close(go[0]);
	close(go[1]);
	free(r);
}

TEST_F(ph, events_released_before_exit_dropped)
{
	struct ph_event ev[2];
	struct ph_kid a, b;
	__u64 ha, hb;

	ASSERT_EQ(0, ph_spawn(&a));
	ph_track(self, a.pid);
	ASSERT_EQ(0, ph_spawn(&b));
	ph_track(self, b.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, a.pid, &ha));
	ASSERT_EQ(0, ioc_acquire(self->fd, b.pid, &hb));
	ASSERT_EQ(0, ioc_release(self->fd, ha));
	ph_kid_exit(&a, 1);
	ASSERT_EQ(0, ph_wait_zombie(a.pid));
	ph_kid_exit(&b, 2);
	/* b's event comes; a's never does */
	ASSERT_EQ(1, dev_read_events(self->fd, ev, 2, 1, 10000));
	EXPECT_EQ(hb, ev[0].handle);
	EXPECT_EQ(0, dev_read_events(self->fd, ev, 2, 1, 100));
	ph_reap(a.pid);
	ph_reap(b.pid);
}

TEST_F(ph, events_released_after_exit_dropped)
{
	struct ph_event ev[2];
	struct ph_kid a;
	__u64 ha, ha2;

	ASSERT_EQ(0, ph_spawn(&a));
	ph_track(self, a.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, a.pid, &ha));
	ASSERT_EQ(0, ioc_acquire(self->fd, a.pid, &ha2));
	ph_kid_exit(&a, 1);
	ASSERT_EQ(0, ph_wait_zombie(a.pid));
	ASSERT_TRUE(ph_until(readable(self->fd), 10000));
	ASSERT_EQ(0, ioc_release(self->fd, ha));
	/* ha2's event is still there, ha's is gone */
	ASSERT_EQ(1, dev_read_events(self->fd, ev, 2, 2, 200));
	EXPECT_EQ(ha2, ev[0].handle);
	EXPECT_FALSE(readable(self->fd));
	ph_reap(a.pid);
}

/* A WAIT does not consume the event; a DONE handle still delivers it. */
TEST_F(ph, events_independent_of_wait)
{
	struct ph_event ev[2];
	struct ph_kid a;
	__u64 h;
	int st;

	ASSERT_EQ(0, ph_spawn(&a));
	ph_track(self, a.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, a.pid, &h));
	ph_kid_exit(&a, 44);
	ASSERT_EQ(0, ioc_wait(self->fd, h, 0, 0, &st));
	ASSERT_EQ(1, dev_read_events(self->fd, ev, 2, 2, 200));
	EXPECT_EQ(h, ev[0].handle);
	EXPECT_EQ(st, ev[0].status);
	EXPECT_EQ(a.pid, ev[0].pid);
	EXPECT_EQ(PH_STATE_DONE, ioc_state(self->fd, h));
	EXPECT_EQ(st, ph_reap(a.pid));
}

/* A zombie acquired afterwards still produces its one event. */
TEST_F(ph, events_zombie_acquired)
{
	struct ph_event ev[2];
	struct ph_kid a;
	__u64 h;

	ASSERT_EQ(0, ph_spawn(&a));
	ph_track(self, a.pid);
	ph_kid_exit(&a, 45);
	ASSERT_EQ(0, ph_wait_zombie(a.pid));
	ASSERT_EQ(0, ioc_acquire(self->fd, a.pid, &h));
	ASSERT_EQ(1, dev_read_events(self->fd, ev, 2, 2, 1000));
	EXPECT_EQ(h, ev[0].handle);
	EXPECT_EQ(a.pid, ev[0].pid);
	EXPECT_EQ(45, WEXITSTATUS(ev[0].status));
	EXPECT_EQ(ev[0].status, ph_reap(a.pid));
}

/* Events come in the order the processes exited. */
TEST_F(ph, events_exit_order)
{
	enum { N = 40 };
	struct ph_event ev[N + 1];
	struct ph_kid k[N];
	__u64 h[N];
	int i;

	for (i = 0; i < N; i++) {
		ASSERT_EQ(0, ph_spawn(&k[i]));
		ph_track(self, k[i].pid);
	}
	/* acquire in a shuffled order, so ids do not follow exit order */
	for (i = 0; i < N; i++) {
		int j = (i * 17) % N;

		ASSERT_EQ(0, ioc_acquire(self->fd, k[j].pid, &h[j]));
	}
	for (i = N - 1; i >= 0; i--) {
		ph_kid_exit(&k[i], i);
		ASSERT_EQ(0, ph_wait_zombie(k[i].pid));
	}
	ASSERT_EQ(N, dev_read_events(self->fd, ev, N + 1, N + 1, 1000));
	for (i = 0; i < N; i++) {
		EXPECT_EQ(h[N - 1 - i], ev[i].handle) {
			TH_LOG("position %d", i);
		}
		EXPECT_EQ(N - 1 - i, WEXITSTATUS(ev[i].status));
	}
	for (i = 0; i < N; i++)
		ph_reap(k[i].pid);
}

/* Short buffers: EINVAL, nothing consumed; partial records never. */
TEST_F(ph, events_short_buffer)
{
	struct ph_event ev[3];
	struct ph_kid a, b;
	char buf[sizeof(ev)];
	size_t sz;
	__u64 ha, hb;

	ASSERT_EQ(0, ph_spawn(&a));
	ph_track(self, a.pid);
	ASSERT_EQ(0, ph_spawn(&b));
	ph_track(self, b.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, a.pid, &ha));
	ASSERT_EQ(0, ioc_acquire(self->fd, b.pid, &hb));
	ph_kid_exit(&a, 1);
	ASSERT_EQ(0, ph_wait_zombie(a.pid));
	ph_kid_exit(&b, 2);
	ASSERT_EQ(0, ph_wait_zombie(b.pid));
	ASSERT_TRUE(ph_until(readable(self->fd), 10000));
	for (sz = 1; sz < sizeof(struct ph_event); sz++) {
		EXPECT_EQ(-1, read(self->fd, buf, sz));
		EXPECT_EQ(EINVAL, errno);
	}
	/* room for one and a half: one record */
	ASSERT_EQ(sizeof(ev[0]), read(self->fd, buf, sizeof(ev[0]) * 3 / 2));
	memcpy(&ev[0], buf, sizeof(ev[0]));
	EXPECT_EQ(ha, ev[0].handle);
	/* the second is queued or about to be */
	ASSERT_EQ(1, dev_read_events(self->fd, &ev[1], 2, 2, 1000));
	EXPECT_EQ(hb, ev[1].handle);
	ph_reap(a.pid);
	ph_reap(b.pid);
}

struct reader {
	pthread_t t;
	int fd;
	pid_t tid;
	ssize_t n;
	struct ph_event ev[4];
};

static void *reader_fn(void *p)
{
	struct reader *r = p;

	__atomic_store_n(&r->tid, ph_gettid(), __ATOMIC_SEQ_CST);
	r->n = read(r->fd, r->ev, sizeof(r->ev));
	return NULL;
}

/* A read() blocked with nothing queued is woken by the exit. */
TEST_F(ph, events_blocking_read_wakes)
{
	struct reader r = { .fd = self->fd };
	struct ph_kid a;
	__u64 h;

	ASSERT_EQ(0, ph_spawn(&a));
	ph_track(self, a.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, a.pid, &h));
	ASSERT_EQ(0, pthread_create(&r.t, NULL, reader_fn, &r));
	ASSERT_TRUE(ph_until(__atomic_load_n(&r.tid, __ATOMIC_SEQ_CST) &&
			     ph_in_read(r.tid, self->fd), 10000));
	ASSERT_EQ(0, ioc_signal(self->fd, h, SIGKILL));
	ASSERT_EQ(0, pthread_join(r.t, NULL));
	ASSERT_EQ(sizeof(struct ph_event), r.n);
	EXPECT_EQ(h, r.ev[0].handle);
	EXPECT_TRUE(WIFSIGNALED(r.ev[0].status));
	EXPECT_EQ(SIGKILL, WTERMSIG(r.ev[0].status));
	EXPECT_EQ(r.ev[0].status, ph_reap(a.pid));
}

/* A blocked read() is interrupted by a signal (no SA_RESTART). */
TEST_F(ph, events_blocking_read_eintr)
{
	struct sigaction sa = { .sa_handler = noop_handler };
	struct reader r = { .fd = self->fd };

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, pthread_create(&r.t, NULL, reader_fn, &r));
	ASSERT_TRUE(ph_until(__atomic_load_n(&r.tid, __ATOMIC_SEQ_CST) &&
			     ph_in_read(r.tid, self->fd), 10000));
	ASSERT_EQ(0, pthread_kill(r.t, SIGUSR1));
	ASSERT_EQ(0, pthread_join(r.t, NULL));
	EXPECT_EQ(-1, r.n);
}

TEST_F(ph, events_epoll)
{
	struct epoll_event ee = { .events = EPOLLIN }, out;
	struct ph_event ev;
	struct ph_kid a;
	int ep;
	__u64 h;

	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->fd, &ee));
	ASSERT_EQ(0, ph_spawn(&a));
	ph_track(self, a.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, a.pid, &h));
	EXPECT_EQ(0, epoll_wait(ep, &out, 1, 0));
	ph_kid_exit(&a, 6);
	ASSERT_EQ(1, epoll_wait(ep, &out, 1, 10000));
	EXPECT_TRUE(out.events & EPOLLIN);
	/* level-triggered: still ready until read */
	EXPECT_EQ(1, epoll_wait(ep, &out, 1, 0));
	ASSERT_EQ(sizeof(ev), read(self->fd, &ev, sizeof(ev)));
	EXPECT_EQ(h, ev.handle);
	EXPECT_EQ(0, epoll_wait(ep, &out, 1, 0));
	close(ep);
	ph_reap(a.pid);
}

TEST_HARNESS_MAIN
