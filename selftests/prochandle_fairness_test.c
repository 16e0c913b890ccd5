// SPDX-License-Identifier: GPL-2.0
/*
 * prochandle: fairness and isolation (SPEC 8), one test per finding of
 * the module review (issue 18); each failed on the module before the fix.
 *
 *   concurrent_waits_drop_ref      every WAIT that returned: task_refs no
 *                                  longer counts the handle, SIGNAL ESRCH
 *   start_time_without_flag        ACQUIRE: EINVAL
 *   reader_in_fault_blocks_nobody  a read() stalled in a userfaultfd page
 *                                  fault does not block another reader
 *   read_efault_keeps_events       EFAULT puts the batch back, in order
 *   events_in_exit_order           exits delivered independently still
 *                                  queue in exit order
 *   fdinfo_bounded                 1000 lines, then "more:<TAB>N"
 *   timed_wait_keeps_deadline      a stopped timed WAIT keeps its deadline
 *   rdonly_file_rights             O_RDONLY watches, cannot acquire,
 *                                  release or signal (also after
 *                                  SCM_RIGHTS to an unprivileged process)
 *   memcg_limit_gives_enomem       ACQUIRE at memory.max: ENOMEM, not OOM
 */
#include <linux/userfaultfd.h>
#include <sys/mount.h>

#include "ph_test.h"

/* ---------------------------------------------------------------- */

struct cw {
	pthread_t t;
	pthread_barrier_t *go;
	int fd;
	__u64 h;
	int ret, status;
	long refs_after;	/* task_refs right after its WAIT returned */
	int sig_after;		/* SIGNAL 0 right after */
};

static void *cw_fn(void *p)
{
	struct cw *c = p;

	pthread_barrier_wait(c->go);
	c->ret = ioc_wait(c->fd, c->h, 0, 0, &c->status);
	c->refs_after = ph_task_refs();
	c->sig_after = ioc_signal(c->fd, c->h, 0);
	return NULL;
}

/*
 * Two WAITs at once on a handle whose process has exited, while another
 * process's exit with many handles is being delivered.  Before the fix the
 * WAIT that made the handle DONE waited for that delivery before dropping
 * the reference, and the other WAIT returned at once, with the reference
 * still counted.
 */
TEST_F_TIMEOUT(ph, concurrent_waits_drop_ref, 200)
{
	enum { N = 60000, ROUNDS = 2 };
	int round, i;

	for (round = 0; round < ROUNDS && !PH_FAILED(); round++) {
		pthread_barrier_t go;
		struct ph_kid a, x;
		struct cw c[2];
		long base_refs;
		__u64 h, hx;
		int fa = ioc_open();

		ASSERT_LE(0, fa);
		ASSERT_EQ(0, ph_spawn(&a));
		ph_track(self, a.pid);
		ASSERT_EQ(0, ph_spawn(&x));
		ph_track(self, x.pid);
		for (i = 0; i < N; i++)
			ASSERT_EQ(0, ioc_acquire(fa, a.pid, &h));
		ASSERT_EQ(0, ioc_acquire(self->fd, x.pid, &hx));
		base_refs = ph_task_refs();
		ASSERT_EQ(0, pthread_barrier_init(&go, NULL, 2));
		ASSERT_EQ(0, kill(a.pid, SIGKILL));
		ASSERT_EQ(0, ph_wait_zombie(a.pid));
		ASSERT_EQ(0, kill(x.pid, SIGKILL));
		ASSERT_EQ(0, ph_wait_zombie(x.pid));
		for (i = 0; i < 2; i++) {
			memset(&c[i], 0, sizeof(c[i]));
			c[i].go = &go;
			c[i].fd = self->fd;
			c[i].h = hx;
			ASSERT_EQ(0, pthread_create(&c[i].t, NULL, cw_fn, &c[i]));
		}
		for (i = 0; i < 2; i++) {
			ASSERT_EQ(0, pthread_join(c[i].t, NULL));
			EXPECT_EQ(0, c[i].ret);
			EXPECT_EQ(base_refs - 1, c[i].refs_after) {
				TH_LOG("round %d: WAIT %d returned, reference still counted",
				       round, i);
			}
			EXPECT_EQ(-ESRCH, c[i].sig_after);
		}
		pthread_barrier_destroy(&go);
		EXPECT_EQ(PH_STATE_DONE, ioc_state(self->fd, hx));
		EXPECT_EQ(0, ioc_release(self->fd, hx));
		close(fa);
		ph_reap(a.pid);
		ph_reap(x.pid);
		ph_kid_close(&a);
		ph_kid_close(&x);
	}
	EXPECT_COUNTERS(1, 0, 0);
}

TEST_F(ph, start_time_without_flag)
{
	struct ph_kid k;
	__u64 h = 0;

	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	EXPECT_EQ(-EINVAL, ioc_acquire_st(self->fd, k.pid, 0, 1, &h));
	EXPECT_EQ(-EINVAL, ioc_acquire_st(self->fd, k.pid, 0, ~0ull, &h));
	EXPECT_COUNTERS(1, 0, 0);
	EXPECT_EQ(0, ioc_acquire_st(self->fd, k.pid, 0, 0, &h));
	EXPECT_COUNTERS(1, 1, 1);
	ph_kid_exit(&k, 0);
	ph_reap(k.pid);
}

/* Two children exited, their events queued (WAIT returned on each). */
static void two_events(struct __test_metadata *_metadata,
		       FIXTURE_DATA(ph) *self, __u64 *h)
{
	struct ph_kid k[2];
	int i, st;

	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, ph_spawn(&k[i]));
		ph_track(self, k[i].pid);
		ASSERT_EQ(0, ioc_acquire(self->fd, k[i].pid, &h[i]));
	}
	for (i = 0; i < 2; i++) {
		ph_kid_exit(&k[i], 10 + i);
		ASSERT_EQ(0, ioc_wait(self->fd, h[i], 0, 0, &st));
		ASSERT_EQ(10 + i, WEXITSTATUS(st));
		ph_reap(k[i].pid);
	}
}

struct rd {
	pthread_t t;
	int fd;
	void *buf;
	ssize_t ret;
	int done;
};

static void *rd_fn(void *p)
{
	struct rd *r = p;

	r->ret = read(r->fd, r->buf, sizeof(struct ph_event));
	if (r->ret < 0)
		r->ret = -errno;
	__atomic_store_n(&r->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

TEST_F(ph, reader_in_fault_blocks_nobody)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffdio_zeropage zp = { 0 };
	struct ph_event ev2, *ev1;
	struct rd r1 = { 0 }, r2 = { 0 };
	struct pollfd pfd;
	long pg = sysconf(_SC_PAGESIZE);
	__u64 h[2];
	int uffd;

	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		SKIP(return, "userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	ev1 = mmap(NULL, pg, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ev1);
	reg.range.start = (unsigned long)ev1;
	reg.range.len = pg;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));

	two_events(_metadata, self, h);

	/* Reader 1 stalls in a page fault nobody resolves yet. */
	r1.fd = self->fd;
	r1.buf = ev1;
	ASSERT_EQ(0, pthread_create(&r1.t, NULL, rd_fn, &r1));
	pfd.fd = uffd;
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 10000));

	/* Reader 2 gets the other event meanwhile. */
	r2.fd = self->fd;
	r2.buf = &ev2;
	ASSERT_EQ(0, pthread_create(&r2.t, NULL, rd_fn, &r2));
	EXPECT_TRUE(ph_until(__atomic_load_n(&r2.done, __ATOMIC_SEQ_CST), 5000)) {
		TH_LOG("a reader stalled in a page fault blocks the other reader");
	}

	zp.range.start = (unsigned long)ev1;
	zp.range.len = pg;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_ZEROPAGE, &zp));
	ASSERT_EQ(0, pthread_join(r1.t, NULL));
	ASSERT_EQ(0, pthread_join(r2.t, NULL));
	ASSERT_EQ(sizeof(struct ph_event), r1.ret);
	ASSERT_EQ(sizeof(struct ph_event), r2.ret);
	/* Each got one event, exactly one each. */
	EXPECT_EQ(h[0] + h[1], ev1->handle + ev2.handle);
	EXPECT_NE(ev1->handle, ev2.handle);
	munmap(ev1, pg);
	close(uffd);
}

TEST_F(ph, read_efault_keeps_events)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct ph_event ev[4], *edge;
	char *m;
	__u64 h[2];

	two_events(_metadata, self, h);
	m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, munmap(m + pg, pg));
	/* Room for one record, the second crosses into nothing. */
	edge = (struct ph_event *)(m + pg - sizeof(*edge));
	EXPECT_EQ(-1, read(self->fd, edge, 2 * sizeof(*edge)));
	EXPECT_EQ(EFAULT, errno);
	/* Nothing lost, order kept. */
	ASSERT_EQ(2, dev_read_events(self->fd, ev, 4, 2, 0));
	EXPECT_EQ(h[0], ev[0].handle);
	EXPECT_EQ(h[1], ev[1].handle);
	munmap(m, pg);
}

/*
 * A's exit (many handles) is delivered while B's (one handle, later) is
 * delivered independently: once both are delivered, B's event comes after
 * all of A's.  A's handles in a second table are linked after those in
 * ours, so when that table has all its events, ours has too.
 */
TEST_F_TIMEOUT(ph, events_in_exit_order, 200)
{
	enum { N = 30000, M = 2000 };
	static struct ph_event ev[N + 8];
	struct ph_kid a, b;
	int i, n, t2;
	__u64 h, hb;

	ASSERT_EQ(0, ph_spawn(&a));
	ph_track(self, a.pid);
	ASSERT_EQ(0, ph_spawn(&b));
	ph_track(self, b.pid);
	t2 = ioc_open();
	ASSERT_LE(0, t2);
	for (i = 0; i < N; i++)
		ASSERT_EQ(0, ioc_acquire(self->fd, a.pid, &h));
	for (i = 0; i < M; i++)
		ASSERT_EQ(0, ioc_acquire(t2, a.pid, &h));
	ASSERT_EQ(0, ioc_acquire(self->fd, b.pid, &hb));
	ASSERT_EQ(0, kill(a.pid, SIGKILL));
	ASSERT_EQ(0, ph_wait_zombie(a.pid));
	ASSERT_EQ(0, kill(b.pid, SIGKILL));
	ASSERT_EQ(M, dev_read_events(t2, ev, N + 8, M, 20000));
	ASSERT_EQ(0, ph_wait_zombie(b.pid));
	ASSERT_EQ(0, ioc_wait(self->fd, hb, 0, 0, NULL));	/* B's queued */
	n = dev_read_events(self->fd, ev, N + 8, N + 1, 0);
	ASSERT_EQ(N + 1, n);
	EXPECT_EQ(hb, ev[N].handle);
	for (i = 0; i < N; i++)
		if (ev[i].pid != a.pid)
			break;
	EXPECT_EQ(N, i);
	close(t2);
	ph_reap(a.pid);
	ph_reap(b.pid);
	ph_kid_close(&a);
	ph_kid_close(&b);
}

TEST_F_TIMEOUT(ph, fdinfo_bounded, 120)
{
	enum { N = 1500, SHOWN = 1000 };
	char *buf = malloc(1 << 20), *p;
	struct ph_kid k;
	int i, lines = 0;
	__u64 h;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	for (i = 0; i < N; i++)
		ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &h));
	ASSERT_LT(0, ph_slurp(buf, 1 << 20, "/proc/self/fdinfo/%d", self->fd));
	for (p = buf; (p = strstr(p, "handle:\t")); p++)
		if (p == buf || p[-1] == '\n')
			lines++;
	EXPECT_EQ(SHOWN, lines);
	EXPECT_NE(NULL, strstr(buf, "\nmore:\t500\n"));
	free(buf);
	ph_kid_exit(&k, 0);
	ph_reap(k.pid);
}

/* Is process @pid asleep in ioctl(@fd, @cmd)? */
static bool in_ioctl_of(pid_t pid, int fd, unsigned long cmd)
{
	unsigned long long a0, a1;
	char buf[256];
	long nr;

	if (ph_slurp(buf, sizeof(buf), "/proc/%d/syscall", pid) < 0 ||
	    sscanf(buf, "%ld 0x%llx 0x%llx", &nr, &a0, &a1) < 3)
		return false;
	return nr == SYS_ioctl && (int)a0 == fd && (unsigned int)a1 == cmd;
}

/*
 * A 1000 ms WAIT stopped for 1500 ms, past its deadline: it times out as
 * soon as it continues (before the fix it started over at SIGCONT and
 * ran 1000 ms more).  Judged against the SIGCONT, not against a bound on
 * the whole call, so a slow guest cannot make either outcome look like
 * the other: kept ends within ~latency of the SIGCONT, started over ends
 * at least TMO_MS after it.
 */
TEST_F(ph, timed_wait_keeps_deadline)
{
	enum { TMO_MS = 1000, STOP_MS = 1500 };
	struct ph_kid k;
	uint64_t t[2], t_cont, took, after_cont;
	pid_t w;
	int p[2], st;
	__u64 h;

	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &h));
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	w = fork();
	ASSERT_LE(0, w);
	if (w == 0) {
		uint64_t r[2] = { ph_now_ns(CLOCK_MONOTONIC), 0 };

		if (ioc_wait(self->fd, h, PH_WAIT_TIMEOUT,
			     TMO_MS * 1000000ull, &st) == -ETIMEDOUT)
			r[1] = ph_now_ns(CLOCK_MONOTONIC);
		_exit(write(p[1], r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	close(p[1]);
	ASSERT_TRUE(ph_until(in_ioctl_of(w, self->fd, PH_IOC_WAIT), 10000));
	ASSERT_EQ(0, kill(w, SIGSTOP));
	usleep(STOP_MS * 1000);	/* the length of the stop, not a sync */
	t_cont = ph_now_ns(CLOCK_MONOTONIC);
	ASSERT_EQ(0, kill(w, SIGCONT));
	ASSERT_EQ(sizeof(t), read(p[0], t, sizeof(t)));
	close(p[0]);
	ASSERT_EQ(0, ph_reap(w));
	ASSERT_NE(0, t[1]) {
		TH_LOG("the WAIT did not time out");
	}
	took = t[1] - t[0];
	after_cont = t[1] > t_cont ? t[1] - t_cont : 0;
	TH_LOG("took %llu ms, %llu ms after SIGCONT",
	       (unsigned long long)took / 1000000,
	       (unsigned long long)after_cont / 1000000);
	EXPECT_LE((uint64_t)TMO_MS * 1000000, took) {
		TH_LOG("the WAIT timed out early");
	}
	EXPECT_GT((uint64_t)TMO_MS / 2 * 1000000, after_cont) {
		TH_LOG("the timeout started over after the stop");
	}
	ph_kid_exit(&k, 0);
	ph_reap(k.pid);
}

/* What an O_RDONLY table permits: 0 or -errno per call, in @r. */
static void ro_probe(int ro, pid_t pid, int r[7])
{
	struct pollfd pfd = { .fd = ro, .events = POLLIN };
	struct ph_event ev;
	struct ph_info i;
	__u64 h;
	int st;

	r[0] = ioc_acquire(ro, pid, &h);
	r[1] = ioc_release(ro, 1);
	r[2] = ioc_signal(ro, 1, 0);
	r[3] = ioc_info(ro, 1, &i);
	r[4] = ioc_wait(ro, 1, PH_WAIT_NOHANG, 0, &st);
	r[5] = read(ro, &ev, sizeof(ev)) < 0 ? -errno : 0;
	r[6] = poll(&pfd, 1, 0);
}

static void ro_expect(struct __test_metadata *_metadata, const int r[7])
{
	EXPECT_EQ(-EBADF, r[0]);	/* ACQUIRE: needs write */
	EXPECT_EQ(-EBADF, r[1]);	/* RELEASE: needs write */
	EXPECT_EQ(-EBADF, r[2]);	/* SIGNAL: needs write */
	EXPECT_EQ(-EBADF, r[3]);	/* INFO: permitted, no such handle */
	EXPECT_EQ(-EBADF, r[4]);	/* WAIT: permitted, no such handle */
	EXPECT_EQ(-EAGAIN, r[5]);	/* read(): permitted, nothing queued */
	EXPECT_EQ(0, r[6]);		/* poll(): permitted, nothing queued */
}

TEST_F(ph, rdonly_file_rights)
{
	struct ph_info info;
	struct ph_kid k;
	int ro, rw, sv[2], r[7], st;
	pid_t u;
	__u64 h;

	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	ro = open(PH_DEV, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	ASSERT_LE(0, ro);
	ro_probe(ro, k.pid, r);
	ro_expect(_metadata, r);
	/* Bad input is still checked after the right: write's rule first. */
	EXPECT_EQ(-EBADF, ioc_acquire(ro, -1, &h));
	EXPECT_COUNTERS(2, 0, 0);

	/* O_WRONLY may create (no read(), as write-only files go). */
	rw = open(PH_DEV, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, rw);
	EXPECT_EQ(0, ioc_acquire(rw, k.pid, &h));
	EXPECT_EQ(0, ioc_info(rw, h, &info));
	close(rw);

	/* Passed to an unprivileged process: it can watch, not create. */
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	u = fork();
	ASSERT_LE(0, u);
	if (u == 0) {
		char cbuf[CMSG_SPACE(sizeof(int))], b;
		struct iovec iov = { .iov_base = &b, .iov_len = 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c;
		int got, mine;

		close(sv[0]);
		CHILD_CHECK(!setgid(PH_NOBODY) && !setuid(PH_NOBODY));
		CHILD_CHECK(recvmsg(sv[1], &mh, 0) == 1);
		c = CMSG_FIRSTHDR(&mh);
		CHILD_CHECK(c && c->cmsg_type == SCM_RIGHTS);
		memcpy(&got, CMSG_DATA(c), sizeof(got));
		ro_probe(got, getpid(), r);
		/* What it could do with a table of its own, opened O_RDWR. */
		mine = ioc_open();
		CHILD_CHECK(mine >= 0);
		r[0] = r[0] == -EBADF && !ioc_acquire(mine, getpid(), &h) ? -EBADF : 1;
		_exit(write(sv[1], r, sizeof(int) * 7) == sizeof(int) * 7 ? 0 : 1);
	}
	close(sv[1]);
	{
		char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, b = 'f';
		struct iovec iov = { .iov_base = &b, .iov_len = 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &ro, sizeof(ro));
		ASSERT_EQ(1, sendmsg(sv[0], &mh, 0));
	}
	memset(r, 0x55, sizeof(r));
	ASSERT_EQ(sizeof(r), read(sv[0], r, sizeof(r)));
	close(sv[0]);
	st = ph_reap(u);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ro_expect(_metadata, r);
	close(ro);
	ph_kid_exit(&k, 0);
	ph_reap(k.pid);
}

#define CG	"/sys/fs/cgroup"
#define CG_T	CG "/prochandle_memcg_test"

/*
 * At a memory cgroup's memory.max, ACQUIRE fails with ENOMEM; before the
 * fix the caller was OOM-killed instead.
 */
TEST_F_TIMEOUT(ph, memcg_limit_gives_enomem, 200)
{
	char ctl[256];
	struct ph_kid k;
	int *rep, st;
	pid_t c;

	if (access(CG "/cgroup.controllers", F_OK)) {
		mkdir(CG, 0755);
		mount("cgroup2", CG, "cgroup2", 0, NULL);
	}
	if (ph_slurp(ctl, sizeof(ctl), CG "/cgroup.controllers") < 0 ||
	    !strstr(ctl, "memory"))
		SKIP(return, "no memory cgroup controller");
	ASSERT_EQ(0, ph_write_str(CG "/cgroup.subtree_control", "+memory"));
	rmdir(CG_T);
	ASSERT_EQ(0, mkdir(CG_T, 0755));
	ASSERT_EQ(0, ph_write_str(CG_T "/memory.max", "8M"));
	ph_write_str(CG_T "/memory.swap.max", "0");
	self->saved_max = ph_read_long(PH_MAX_HANDLES);
	ASSERT_EQ(0, ph_write_long(PH_MAX_HANDLES, 4000000));

	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	/* The report: memory charged already (a full cgroup can't write). */
	rep = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, rep);
	rep[0] = 1;
	rep[1] = 1;
	c = fork();
	ASSERT_LE(0, c);
	if (c == 0) {
		int fd, n = 0, err = 0;
		__u64 h;

		/*
		 * Break copy-on-write now (errno, stack, data), charged to
		 * the old cgroup: a page fault in a full cgroup cannot fail
		 * with ENOMEM, it OOM-kills.
		 */
		errno = 0;
		CHILD_CHECK(!mlockall(MCL_CURRENT));
		CHILD_CHECK(!ph_write_str(CG_T "/cgroup.procs", "0"));
		fd = ioc_open();
		CHILD_CHECK(fd >= 0);
		while (n < 3000000 && !(err = ioc_acquire(fd, k.pid, &h)))
			n++;
		rep[0] = err;
		rep[1] = n;
		_exit(0);
	}
	st = ph_reap(c);
	TH_LOG("acquired %d handles under memory.max=8M, then %s", rep[1],
	       strerror(-rep[0]));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		TH_LOG("the acquirer died: status %#x (OOM-killed?)", st);
	}
	EXPECT_EQ(-ENOMEM, rep[0]);
	EXPECT_LT(1000, rep[1]);
	munmap(rep, 4096);
	ph_kid_exit(&k, 0);
	ph_reap(k.pid);
	EXPECT_TRUE(ph_until(!rmdir(CG_T), 5000));
}

TEST_HARNESS_MAIN
