// SPDX-License-Identifier: GPL-2.0
/*
 * phbench: the exit rows (SPEC section 14).
 *
 *  - exit latency: from a process calling _exit() to a blocked WAIT on a
 *    handle to it returning, or to poll() on a table holding its handle
 *    returning, against poll() on a pidfd.  The exiting child waits until
 *    we sleep in the call, takes the time and exits; we take the time when
 *    the call returns.
 *  - collecting exits: N processes killed at once (one process group),
 *    then their statuses collected through read() batches of a table,
 *    against epoll over N pidfds plus a waitid() each: syscalls and time.
 *  - fairness: as the WAIT latency, but a process holding fair_n handles
 *    is killed just before the child exits, against one holding 1.
 */
#include "phbench.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static volatile uint64_t *shared;	/* the exiting child's clock */

static void map_shared(void)
{
	if (shared)
		return;
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		die("mmap");
}

/*
 * Fork a child that, once @go is written, waits for us to sleep, runs
 * @before (may be NULL), stores its clock in *shared and exits.
 */
static pid_t spawn_exiter(int go[2], void (*before)(pid_t), pid_t arg)
{
	pid_t pid;
	char c;

	if (pipe(go))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		wait_until_sleeping(getppid());
		if (before)
			before(arg);
		*shared = now_ns();
		_exit(0);
	}
	close(go[0]);
	return pid;
}

static void go_ahead(int go[2])
{
	if (write(go[1], "x", 1) != 1)
		die("write");
	close(go[1]);
}

static void ph_wait_blocking(int fd, uint64_t h)
{
	struct ph_wait w = { .handle = h };

	if (ioctl(fd, PH_IOC_WAIT, &w))
		die("WAIT");
}

static void poll_in(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (poll(&p, 1, -1) != 1)
		if (errno != EINTR)
			die("poll");
}

enum { EX_WAIT, EX_EVENT, EX_PIDFD, EX_KINDS };

/* One exit, seen by @kind; returns the latency. */
static double exit_latency(int kind, int evfd)
{
	struct ph_event ev[4];
	uint64_t h = 0, t1;
	int go[2], pfd = -1;
	pid_t pid;

	pid = spawn_exiter(go, NULL, 0);
	if (kind == EX_WAIT)
		h = ph_acquire(phfd, pid);
	else if (kind == EX_EVENT)
		h = ph_acquire(evfd, pid);
	else if ((pfd = syscall(SYS_pidfd_open, pid, 0)) < 0)
		die("pidfd_open");
	go_ahead(go);
	if (kind == EX_WAIT)
		ph_wait_blocking(phfd, h);
	else
		poll_in(kind == EX_EVENT ? evfd : pfd);
	t1 = now_ns();
	if (kind == EX_WAIT) {
		ph_release(phfd, h);
	} else if (kind == EX_EVENT) {
		if (read(evfd, ev, sizeof(ev)) != sizeof(ev[0]))
			die("read one event");
		ph_release(evfd, h);
	} else {
		close(pfd);
	}
	reap(pid);
	return (double)(t1 - *shared);
}

void exit_rows(void)
{
	static const char * const names[EX_KINDS] = {
		"exit -> blocked WAIT returns", "exit -> table poll() returns",
		"exit -> pidfd poll() returns",
	};
	static double lat[EX_KINDS][MAXREPS];
	double v[EX_KINDS], mean[EX_KINDS];
	int n = icount ? 21 : reps < 51 ? reps : 51;
	int evfd = ph_open();

	map_shared();
	for (int r = 0; r < n; r++)
		for (int k = 0; k < EX_KINDS; k++) {
			int kind = (k + r) % EX_KINDS;	/* rotate the order */

			settle_deferred();
			lat[kind][r] = exit_latency(kind, evfd);
		}
	for (int k = 0; k < EX_KINDS; k++)
		v[k] = summarize(names[k], lat[k], n, &mean[k]);
	close(evfd);
	add_row("exit-wait", "exit -> blocked WAIT vs pidfd poll()", U_NS,
		v[EX_WAIT], v[EX_PIDFD], v[EX_WAIT] / v[EX_PIDFD], LE, 1.0);
	set_row_means(mean[EX_WAIT], mean[EX_PIDFD]);
	add_row("exit-event", "exit -> event readable vs pidfd poll()", U_NS,
		v[EX_EVENT], v[EX_PIDFD], v[EX_EVENT] / v[EX_PIDFD], LE, 1.0);
	set_row_means(mean[EX_EVENT], mean[EX_PIDFD]);
}

/* ---- collecting many exits --------------------------------------------- */

struct group {
	pid_t *pids;
	int alive[2];		/* every member holds the write end */
	pid_t pg;
};

static void group_spawn(struct group *g, long n)
{
	if (pipe(g->alive))
		die("pipe");
	g->pids = calloc(n, sizeof(*g->pids));
	if (!g->pids)
		die("calloc");
	for (long i = 0; i < n; i++) {
		g->pids[i] = spawn_light();
		if (!i)
			g->pg = g->pids[0];
		if (setpgid(g->pids[i], g->pg))
			die("setpgid");
	}
	close(g->alive[1]);
}

/*
 * Kill the group; return once every member has closed its files (the
 * pipe hangs up) and a little later, so that all their exits have been
 * reported before the collection is timed.  Returns when it hung up.
 */
static uint64_t group_kill(struct group *g)
{
	uint64_t t;

	struct pollfd p = { .fd = g->alive[0], .events = POLLIN };

	if (kill(-g->pg, SIGKILL))
		die("kill group");
	while (poll(&p, 1, -1) != 1 || !(p.revents & POLLHUP))
		if (errno != EINTR)
			die("poll alive pipe");
	t = now_ns();
	usleep(50000);
	close(g->alive[0]);
	return t;
}

struct collected {
	double calls, ns, all_ns;	/* all_ns: from the kill, without the pause */
};

/* prochandle: handles in one table, statuses by read() batches. */
static void collect_ph(long n, struct collected *c)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	static struct ph_event ev[1024];
	long got = 0, calls = 0;
	uint64_t t, t0;
	struct group g;
	int fd = ph_open();

	/* Reaped by the kernel: the status comes from the table. */
	sigaction(SIGCHLD, &ign, &old);
	group_spawn(&g, n);
	for (long i = 0; i < n; i++)
		ph_acquire(fd, g.pids[i]);
	t = now_ns();
	t = group_kill(&g) - t;
	t0 = now_ns();
	while (got < n) {
		ssize_t r = read(fd, ev, sizeof(ev));

		if (r <= 0)
			die("read events");
		calls++;
		got += r / sizeof(ev[0]);
	}
	c->ns = now_ns() - t0;
	c->all_ns = c->ns + t;
	c->calls = calls;
	sigaction(SIGCHLD, &old, NULL);
	close(fd);
	free(g.pids);
}

/* pidfd: one per child in an epoll set, a waitid() for each. */
static void collect_pidfd(long n, struct collected *c)
{
	static struct epoll_event ev[1024];
	long got = 0, calls = 0;
	uint64_t t, t0;
	struct group g;
	int ep, *fds;

	ep = epoll_create1(EPOLL_CLOEXEC);
	fds = calloc(n, sizeof(*fds));
	if (ep < 0 || !fds)
		die("epoll_create1");
	group_spawn(&g, n);
	for (long i = 0; i < n; i++) {
		struct epoll_event e = { .events = EPOLLIN | EPOLLONESHOT };

		fds[i] = syscall(SYS_pidfd_open, g.pids[i], 0);
		e.data.fd = fds[i];
		if (fds[i] < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &e))
			die("pidfd_open/epoll_ctl %ld", i);
	}
	t = now_ns();
	t = group_kill(&g) - t;
	t0 = now_ns();
	while (got < n) {
		int k = epoll_wait(ep, ev, 1024, -1);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			die("epoll_wait");
		calls++;
		for (int i = 0; i < k; i++) {
			siginfo_t si;

			if (waitid(P_PIDFD, ev[i].data.fd, &si, WEXITED))
				die("waitid");
			calls++;
			got++;
		}
	}
	c->ns = now_ns() - t0;
	c->all_ns = c->ns + t;
	c->calls = calls;
	for (long i = 0; i < n; i++)
		close(fds[i]);
	close(ep);
	free(fds);
	free(g.pids);
}

void collect_rows(void)
{
	struct collected ph[3], pf[3];
	double a[3], b[3], e[2][3];
	int rounds = icount || smoke ? 1 : 3;
	char name[64];

	for (int r = 0; r < rounds; r++) {
		if (r % 2) {
			collect_pidfd(exits_n, &pf[r]);
			collect_ph(exits_n, &ph[r]);
		} else {
			collect_ph(exits_n, &ph[r]);
			collect_pidfd(exits_n, &pf[r]);
		}
		note("collect %ld exits: read() %.0f calls, %.0f ns (%.0f from the kill); epoll+waitid %.0f calls, %.0f ns (%.0f from the kill)",
		     exits_n, ph[r].calls, ph[r].ns, ph[r].all_ns, pf[r].calls,
		     pf[r].ns, pf[r].all_ns);
		a[r] = ph[r].ns;
		b[r] = pf[r].ns;
		e[0][r] = ph[r].all_ns;
		e[1][r] = pf[r].all_ns;
	}
	snprintf(name, sizeof(name), "collect %ld exits: syscalls", exits_n);
	add_row("collect-calls", name, U_CALLS, ph[0].calls, pf[0].calls,
		ph[0].calls / pf[0].calls, LE, 0.25);
	double ma = median(a, rounds), mb = median(b, rounds);

	snprintf(name, sizeof(name), "collect %ld exits: time", exits_n);
	add_row("collect-time", name, U_NS, ma, mb, ma / mb, LE, 0.5);
	ma = median(e[0], rounds);
	mb = median(e[1], rounds);
	snprintf(name, sizeof(name), "collect %ld exits: time from the kill", exits_n);
	add_row("collect-all", name, U_NS, ma, mb, ma / mb, NONE, 0);
}

/* ---- fairness: another process's many handles -------------------------- */

static void kill_first(pid_t a)
{
	kill(a, SIGKILL);
}

/* A holds @n handles (in their own table) and dies just before B exits. */
static double fair_latency(long n)
{
	uint64_t h, t1;
	int go[2], ta = ph_open();
	pid_t a, b;

	a = spawn_light();
	for (long i = 0; i < n; i++)
		ph_acquire(ta, a);
	b = spawn_exiter(go, kill_first, a);
	h = ph_acquire(phfd, b);
	go_ahead(go);
	ph_wait_blocking(phfd, h);
	t1 = now_ns();
	ph_release(phfd, h);
	reap(b);
	reap(a);
	close(ta);
	return (double)(t1 - *shared);
}

void fairness_rows(void)
{
	static double big[MAXREPS], one[MAXREPS];
	int n = icount || smoke ? 3 : 7;
	char name[64], what[64];
	double vb, vo, mb, mo;

	map_shared();
	for (int r = 0; r < n; r++) {
		settle_deferred();
		if (r % 2) {
			one[r] = fair_latency(1);
			big[r] = fair_latency(fair_n);
		} else {
			big[r] = fair_latency(fair_n);
			one[r] = fair_latency(1);
		}
	}
	snprintf(what, sizeof(what), "B's WAIT, A with %ld handles", fair_n);
	vb = summarize(what, big, n, &mb);
	vo = summarize("B's WAIT, A with 1 handle", one, n, &mo);
	snprintf(name, sizeof(name), "exit of A with %ldk handles -> B's WAIT",
		 fair_n / 1024);
	if (fair_n < 1024)
		snprintf(name, sizeof(name), "exit of A with %ld handles -> B's WAIT",
			 fair_n);
	add_row("fair-wait", name, U_NS, vb, vo, vb / vo, LE, 1.1);
	set_row_means(mb, mo);
}
