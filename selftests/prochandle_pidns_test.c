// SPDX-License-Identifier: GPL-2.0
/*
 * prochandle: PID reuse and namespaces.
 *
 *   pid_reuse_refused      SPEC §3 SIGNAL "whatever its pid now names",
 *                          ACQUIRE start-time rows (ns and ticks), inv. 7:
 *                          in a fresh pid namespace ns_last_pid (or clone3
 *                          set_tid) makes the reuse deterministic
 *   pidns_translation      INFO/event/fdinfo pids in the reader's namespace,
 *                          0 when not visible; ACQUIRE ESRCH for a number
 *                          not visible in the caller's namespace
 *   timens_start_time      start times in the caller's time namespace
 */
#include <sys/mount.h>

#include "ph_test.h"

/* In a new pid namespace's init: a private /proc for this namespace. */
static int own_proc(void)
{
	if (unshare(CLONE_NEWNS))
		return -errno;
	mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		return -errno;
	return 0;
}

static unsigned long long boot_ticks(void)
{
	return ph_now_ns(CLOCK_BOOTTIME) / (1000000000ull / sysconf(_SC_CLK_TCK));
}

/*
 * One round inside the namespace: A is acquired, killed through its
 * handle, waited and reaped; B is forked with A's number; the old handles
 * must refuse B and B must see nothing.
 */
static void reuse_round(int fd, int round)
{
	unsigned long long ticks_a, ticks_b, tick_ns = 1000000000ull / sysconf(_SC_CLK_TCK);
	int actl[2], bctl[2], brep[2], st, st2, pend;
	struct ph_info ia, ib;
	__u64 ha1, ha2, hb, hb2;
	char c;
	pid_t a, b;

	CHILD_EQ(0, pipe(actl));
	a = fork();
	CHILD_CHECK(a >= 0);
	if (a == 0) {
		close(actl[1]);
		while (read(actl[0], &c, 1) < 0)
			;
		_exit(0);
	}
	close(actl[0]);
	CHILD_EQ(0, ioc_acquire(fd, a, &ha1));	/* stays EXITED */
	CHILD_EQ(0, ioc_acquire(fd, a, &ha2));	/* becomes DONE */
	CHILD_EQ(0, ioc_info(fd, ha1, &ia));
	CHILD_EQ(a, ia.pid);
	ticks_a = ph_stat_starttime("/proc", a);
	CHILD_EQ(ticks_a, ia.start_time / tick_ns);
	CHILD_EQ(0, ioc_signal(fd, ha2, SIGKILL));
	CHILD_EQ(0, ioc_wait(fd, ha2, 0, 0, &st));
	CHILD_CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	CHILD_EQ(st, ph_reap(a));
	close(actl[1]);
	/* B must start in a later clock tick than A, then take A's number */
	CHILD_CHECK(ph_until(boot_ticks() > ticks_a + 1, 5000));
	CHILD_EQ(0, pipe(bctl));
	CHILD_EQ(0, pipe(brep));
	b = ph_fork_as(a);
	CHILD_CHECK(b >= 0);
	if (b == 0) {
		sigset_t s, p;

		/* blocked, so anything sent stays pending and can be seen */
		sigemptyset(&s);
		sigaddset(&s, SIGUSR1);
		sigaddset(&s, SIGTERM);
		sigprocmask(SIG_BLOCK, &s, NULL);
		close(bctl[1]);
		close(brep[0]);
		CHILD_EQ(1, write(brep[1], "r", 1));
		CHILD_EQ(1, ph_read_full(bctl[0], &c, 1));
		sigpending(&p);
		pend = sigismember(&p, SIGUSR1) | sigismember(&p, SIGTERM) << 1;
		CHILD_EQ(sizeof(pend), write(brep[1], &pend, sizeof(pend)));
		_exit(0);
	}
	close(bctl[0]);
	close(brep[1]);
	CHILD_EQ(a, b);		/* the number was reused */
	CHILD_EQ(1, ph_read_full(brep[0], &c, 1));

	/* the old handles never reach B */
	CHILD_EQ(-ESRCH, ioc_signal(fd, ha1, SIGUSR1));
	CHILD_EQ(-ESRCH, ioc_signal(fd, ha1, SIGTERM));
	CHILD_EQ(-ESRCH, ioc_signal(fd, ha1, SIGKILL));
	CHILD_EQ(-ESRCH, ioc_signal(fd, ha1, 0));
	CHILD_EQ(-ESRCH, ioc_signal(fd, ha2, SIGUSR1));
	CHILD_EQ(-ESRCH, ioc_signal(fd, ha2, SIGKILL));
	CHILD_EQ(-ESRCH, ioc_signal(fd, ha2, 0));
	/* and report A's end, not B's life */
	CHILD_EQ(0, ioc_info(fd, ha1, &ia));
	CHILD_EQ(PH_STATE_EXITED, ia.state);
	CHILD_EQ(st, ia.status);
	CHILD_EQ(0, ioc_wait(fd, ha1, PH_WAIT_NOHANG, 0, &st2));
	CHILD_EQ(st, st2);
	CHILD_EQ(0, ioc_wait(fd, ha2, 0, 0, &st2));
	CHILD_EQ(st, st2);

	/* start-time pinning refuses the reused number, in ns and in ticks */
	ticks_b = ph_stat_starttime("/proc", b);
	CHILD_CHECK(ticks_b > ticks_a);
	CHILD_EQ(-ESRCH, ioc_acquire_st(fd, b, PH_ACQUIRE_STARTTIME, ia.start_time, NULL));
	CHILD_EQ(-ESRCH, ioc_acquire_st(fd, b, PH_ACQUIRE_STARTTIME_TICKS, ticks_a, NULL));
	CHILD_EQ(0, ioc_acquire_st(fd, b, PH_ACQUIRE_STARTTIME_TICKS, ticks_b, &hb));
	CHILD_EQ(0, ioc_info(fd, hb, &ib));
	CHILD_EQ(b, ib.pid);
	CHILD_EQ(PH_STATE_RUNNING, ib.state);
	CHILD_CHECK(ib.start_time > ia.start_time);
	CHILD_EQ(ticks_b, ib.start_time / tick_ns);
	CHILD_EQ(0, ioc_acquire_st(fd, b, PH_ACQUIRE_STARTTIME, ib.start_time, &hb2));
	CHILD_EQ(0, ioc_release(fd, hb2));

	/* B untouched: alive, nothing pending */
	CHILD_EQ(0, ioc_signal(fd, hb, 0));
	CHILD_EQ(-EAGAIN, ioc_wait(fd, hb, PH_WAIT_NOHANG, 0, NULL));
	CHILD_EQ(1, write(bctl[1], "x", 1));
	CHILD_EQ(sizeof(pend), ph_read_full(brep[0], &pend, sizeof(pend)));
	if (pend)
		fprintf(stderr, "# round %d: pid %d got a signal meant for its predecessor (%#x)\n",
			round, b, pend);
	CHILD_EQ(0, pend);
	CHILD_EQ(0, ioc_wait(fd, hb, 0, 0, &st2));
	CHILD_EQ(0, st2);
	CHILD_EQ(0, ph_reap(b));
	close(bctl[1]);
	close(brep[0]);
	CHILD_EQ(0, ioc_release(fd, ha1));
	CHILD_EQ(0, ioc_release(fd, ha2));
	CHILD_EQ(0, ioc_release(fd, hb));
}

TEST_F_TIMEOUT(ph, pid_reuse_refused, 90)
{
	pid_t init;

	if (unshare(CLONE_NEWPID))
		SKIP(return, "unshare(CLONE_NEWPID): %s", strerror(errno));
	init = fork();
	ASSERT_LE(0, init);
	if (init == 0) {
		int r;

		CHILD_EQ(1, getpid());
		CHILD_EQ(0, own_proc());
		for (r = 0; r < 20; r++)
			reuse_round(self->fd, r);
		_exit(0);
	}
	ph_track(self, init);
	EXPECT_EQ(0, ph_reap(init));
}

/* ==================================================================== */

/* "NSpid:\tX\tN" for host pid X: returns N (the innermost), or -1. */
static int ns_pid_of(pid_t host)
{
	char buf[4096], *p;
	int a, b;

	if (ph_slurp(buf, sizeof(buf), "/proc/%d/status", host) < 0)
		return -1;
	p = strstr(buf, "\nNSpid:\t");
	if (!p || sscanf(p + 8, "%d\t%d", &a, &b) != 2 || a != host)
		return -1;
	return b;
}

static bool fdinfo_line(int fd, __u64 h, pid_t pid)
{
	return ph_fdinfo_count(fd, h, pid, NULL) == 1;
}

struct from_host {
	__u64 hp, ht;
	pid_t tpid;
};

struct from_ns {
	__u64 hd, hd2, hc;
};

static void send_b(int fd, char c)
{
	CHILD_EQ(1, write(fd, &c, 1));
}

static char recv_b(int fd)
{
	char c;

	CHILD_EQ(1, ph_read_timeout(fd, &c, 1, 20000));
	return c;
}

static void ns_side(int fd, int rd, int wr)
{
	int dctl[2], d2ctl[2];
	struct from_host fh;
	struct from_ns fn;
	struct ph_event ev[2];
	struct ph_info i;
	pid_t d, d2;
	char c;

	CHILD_EQ(1, getpid());
	CHILD_EQ(0, own_proc());
	CHILD_EQ(0, pipe(dctl));
	CHILD_EQ(0, pipe(d2ctl));
	d = fork();
	if (d == 0) {
		CHILD_EQ(1, ph_read_full(dctl[0], &c, 1));
		_exit(5);
	}
	d2 = fork();
	if (d2 == 0) {
		CHILD_EQ(1, ph_read_full(d2ctl[0], &c, 1));
		_exit(6);
	}
	CHILD_EQ(2, d);
	CHILD_EQ(3, d2);
	CHILD_EQ(0, ioc_acquire(fd, d, &fn.hd));
	CHILD_EQ(0, ioc_acquire(fd, d2, &fn.hd2));
	CHILD_EQ(0, ioc_acquire(fd, 1, &fn.hc));
	CHILD_EQ(sizeof(fh), ph_read_timeout(rd, &fh, sizeof(fh), 20000));

	/* pids as this namespace sees them; 0 for the invisible */
	CHILD_EQ(0, ioc_info(fd, fn.hd, &i));
	CHILD_EQ(2, i.pid);
	CHILD_EQ(0, ioc_info(fd, fn.hd2, &i));
	CHILD_EQ(3, i.pid);
	CHILD_EQ(0, ioc_info(fd, fn.hc, &i));
	CHILD_EQ(1, i.pid);
	CHILD_EQ(0, ioc_info(fd, fh.hp, &i));
	CHILD_EQ(0, i.pid);
	CHILD_EQ(PH_STATE_RUNNING, i.state);
	CHILD_EQ(0, ioc_info(fd, fh.ht, &i));
	CHILD_EQ(0, i.pid);
	CHILD_CHECK(fdinfo_line(fd, fn.hd, 2));
	CHILD_CHECK(fdinfo_line(fd, fh.hp, 0));
	/* the parent namespace's numbers mean nothing here */
	CHILD_CHECK(fh.tpid > 3);
	CHILD_EQ(-ESRCH, ioc_acquire(fd, fh.tpid, NULL));
	CHILD_EQ(sizeof(fn), write(wr, &fn, sizeof(fn)));
	CHILD_EQ('k', recv_b(rd));		/* host checked its view */

	/* D exits: its event, read here, carries 2 */
	send_b(dctl[1], 'x');
	CHILD_EQ(0, ph_wait_zombie(d));
	CHILD_EQ(1, dev_read_events(fd, ev, 2, 1, 10000));
	CHILD_EQ(fn.hd, ev[0].handle);
	CHILD_EQ(2, ev[0].pid);
	CHILD_CHECK(WIFEXITED(ev[0].status) && WEXITSTATUS(ev[0].status) == 5);
	/* P (host only) dies: its event, read here, carries 0 */
	send_b(wr, 'p');
	CHILD_EQ('P', recv_b(rd));
	CHILD_EQ(1, dev_read_events(fd, ev, 2, 1, 10000));
	CHILD_EQ(fh.hp, ev[0].handle);
	CHILD_EQ(0, ev[0].pid);
	CHILD_CHECK(WIFSIGNALED(ev[0].status) && WTERMSIG(ev[0].status) == SIGKILL);
	CHILD_EQ(0, ioc_info(fd, fh.hp, &i));
	CHILD_EQ(0, i.pid);
	CHILD_EQ(PH_STATE_EXITED, i.state);
	/* D2 exits: the host reads that one */
	send_b(d2ctl[1], 'x');
	CHILD_EQ(0, ph_wait_zombie(d2));
	send_b(wr, '2');
	CHILD_EQ('d', recv_b(rd));
	ph_reap(d);
	ph_reap(d2);
	_exit(0);
}

TEST_F_TIMEOUT(ph, pidns_translation, 60)
{
	int to_ns[2], from_ns[2], st;
	struct from_host fh;
	struct from_ns fn;
	struct ph_event ev[2];
	struct ph_info i;
	struct ph_kid p;
	pid_t c, xd, xd2;
	char b;

	ASSERT_EQ(0, ph_spawn(&p));
	ph_track(self, p.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, p.pid, &fh.hp));
	ASSERT_EQ(0, ioc_acquire(self->fd, getpid(), &fh.ht));
	fh.tpid = getpid();
	ASSERT_EQ(0, pipe(to_ns));
	ASSERT_EQ(0, pipe(from_ns));
	if (unshare(CLONE_NEWPID))
		SKIP(return, "unshare(CLONE_NEWPID): %s", strerror(errno));
	c = fork();
	ASSERT_LE(0, c);
	if (c == 0) {
		close(to_ns[1]);
		close(from_ns[0]);
		ns_side(self->fd, to_ns[0], from_ns[1]);
	}
	ph_track(self, c);
	close(to_ns[0]);
	close(from_ns[1]);
	ASSERT_EQ(0, ph_write_full(to_ns[1], &fh, sizeof(fh)));
	ASSERT_EQ(sizeof(fn), ph_read_timeout(from_ns[0], &fn, sizeof(fn), 20000));

	/* the same handles, seen from here: our numbers */
	ASSERT_EQ(0, ioc_info(self->fd, fn.hc, &i));
	EXPECT_EQ(c, i.pid);
	ASSERT_EQ(0, ioc_info(self->fd, fn.hd, &i));
	xd = i.pid;
	EXPECT_EQ(2, ns_pid_of(xd));
	ASSERT_EQ(0, ioc_info(self->fd, fn.hd2, &i));
	xd2 = i.pid;
	EXPECT_EQ(3, ns_pid_of(xd2));
	EXPECT_TRUE(fdinfo_line(self->fd, fn.hd, xd));
	EXPECT_TRUE(fdinfo_line(self->fd, fh.hp, p.pid));
	ASSERT_EQ(1, write(to_ns[1], "k", 1));

	ASSERT_EQ(1, ph_read_timeout(from_ns[0], &b, 1, 20000));
	ASSERT_EQ('p', b);
	ASSERT_EQ(0, kill(p.pid, SIGKILL));
	ASSERT_EQ(0, ph_wait_zombie(p.pid));
	ASSERT_EQ(1, write(to_ns[1], "P", 1));

	ASSERT_EQ(1, ph_read_timeout(from_ns[0], &b, 1, 20000));
	ASSERT_EQ('2', b);
	ASSERT_EQ(1, dev_read_events(self->fd, ev, 2, 1, 10000));
	EXPECT_EQ(fn.hd2, ev[0].handle);
	EXPECT_EQ(xd2, ev[0].pid);
	EXPECT_TRUE(WIFEXITED(ev[0].status));
	EXPECT_EQ(6, WEXITSTATUS(ev[0].status));
	ASSERT_EQ(1, write(to_ns[1], "d", 1));
	st = ph_reap(c);
	EXPECT_EQ(0, st);
	ph_reap(p.pid);
	ph_kid_close(&p);
	close(to_ns[1]);
	close(from_ns[0]);
}

/* ==================================================================== */
/* Start times are in the caller's time namespace, like /proc/PID/stat. */

TEST_F(ph, timens_start_time)
{
	const unsigned long long off = 1000, hz = sysconf(_SC_CLK_TCK);
	unsigned long long tick_ns = 1000000000ull / hz;
	int rep[2], go_p[2];
	struct ph_info i;
	__u64 s_ns, h;
	pid_t c;
	char b;

	if (unshare(CLONE_NEWTIME))
		SKIP(return, "unshare(CLONE_NEWTIME): %s", strerror(errno));
	if (ph_write_str("/proc/self/timens_offsets", "boottime 1000 0"))
		SKIP(return, "timens_offsets: %s", strerror(errno));
	ASSERT_EQ(0, pipe(rep));
	ASSERT_EQ(0, pipe(go_p));
	c = fork();
	ASSERT_LE(0, c);
	if (c == 0) {
		unsigned long long ticks;
		struct ph_info ci;
		__u64 ch;

		close(rep[0]);
		close(go_p[1]);
		CHILD_EQ(0, ioc_acquire(self->fd, getpid(), &ch));
		CHILD_EQ(0, ioc_info(self->fd, ch, &ci));
		ticks = ph_stat_starttime("/proc", getpid());
		CHILD_EQ(ticks, ci.start_time / tick_ns);
		CHILD_CHECK(ph_now_ns(CLOCK_BOOTTIME) >= ci.start_time);
		CHILD_EQ(0, ioc_acquire_st(self->fd, getpid(),
					   PH_ACQUIRE_STARTTIME_TICKS, ticks, NULL));
		CHILD_EQ(0, ioc_acquire_st(self->fd, getpid(),
					   PH_ACQUIRE_STARTTIME, ci.start_time, NULL));
		CHILD_EQ(-ESRCH, ioc_acquire_st(self->fd, getpid(),
						PH_ACQUIRE_STARTTIME_TICKS,
					       ticks - off * hz, NULL));
		CHILD_EQ(-ESRCH, ioc_acquire_st(self->fd, getpid(),
						PH_ACQUIRE_STARTTIME,
					       ci.start_time - off * 1000000000ull, NULL));
		CHILD_EQ(sizeof(ci.start_time),
			 write(rep[1], &ci.start_time, sizeof(ci.start_time)));
		CHILD_EQ(1, ph_read_full(go_p[0], &b, 1));
		_exit(0);
	}
	ph_track(self, c);
	close(rep[1]);
	close(go_p[0]);
	ASSERT_EQ(sizeof(s_ns), ph_read_timeout(rep[0], &s_ns, sizeof(s_ns), 20000));
	ASSERT_EQ(0, ioc_acquire(self->fd, c, &h));
	ASSERT_EQ(0, ioc_info(self->fd, h, &i));
	EXPECT_EQ(off * 1000000000ull, s_ns - i.start_time);
	EXPECT_EQ(ph_stat_starttime("/proc", c), i.start_time / tick_ns);
	ASSERT_EQ(1, write(go_p[1], "g", 1));
	EXPECT_EQ(0, ph_reap(c));
	close(rep[0]);
	close(go_p[1]);
}

TEST_HARNESS_MAIN
