// SPDX-License-Identifier: GPL-2.0
/*
 * prochandle fuzzer: random operations on /dev/prochandle from several
 * processes and threads at once, checked against the errors the uapi
 * allows, the kernel's own checkers (the guest fails the run on any
 * splat) and the sysfs counters (back at baseline at the end).
 *
 *   fuzz [-s SEED] [-n OPS] [-t SECONDS] [-p PROCS] [-T THREADS]
 *        [-m PID_MAX] [-v]
 *
 * PROCS worker processes (default 3) of THREADS threads (default 3) each
 * share device files inherited from the main process and open their own;
 * they ACQUIRE, RELEASE, SIGNAL, WAIT, INFO (and every v2 ioctl the
 * header defines) with valid, stale and garbage handles, random flags,
 * encoded sizes and signals, and arguments in bad memory (ops.c); read,
 * poll and fdinfo the files; replace, dup and pass them (SCM_RIGHTS) to
 * each other; fork short-lived copies of themselves; and spawn, kill and
 * reap children that exit, die, sleep, exec, or leave a zombie leader
 * (kids.c), with kernel.pid_max lowered (-m, default 1024 when root) so
 * that pids wrap.  Blocking calls are cut short by a per-thread timer
 * (EINTR).
 *
 * It stops after OPS operations in all (default 1000000) or SECONDS
 * (default 0: no limit), whichever comes first.  Each thread draws from
 * its own generator seeded from SEED (printed; default from the clock),
 * so a seed replays the same operations per thread; the interleaving of
 * threads is the scheduler's.  The summary counts each operation's
 * results by errno.  Output is TAP: no unexpected result, workers clean,
 * counters back at baseline.  Exits 4 (skip) without the device.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"


struct stats *stats;
int verbose;

const char *const op_names[NR_OPS] = {
	"ACQUIRE", "RELEASE", "SIGNAL", "WAIT", "INFO", "SET_EVENTS",
	"DEADLINE", "bad cmd", "read", "poll", "fdinfo", "reopen", "dup",
	"pass fd", "fork", "spawn", "kill", "reap",
};

/* Relative weights of the operations. */
static const unsigned int weight[NR_OPS] = {
	[OP_ACQUIRE] = 14, [OP_RELEASE] = 9, [OP_SIGNAL] = 8, [OP_WAIT] = 9,
	[OP_INFO] = 8, [OP_SET_EVENTS] = 3, [OP_DEADLINE] = 4, [OP_BADCMD] = 3,
	[OP_READ] = 7, [OP_POLL] = 4, [OP_FDINFO] = 1, [OP_REOPEN] = 2,
	[OP_DUP] = 2, [OP_PASS] = 2, [OP_FORK] = 1, [OP_SPAWN] = 6,
	[OP_KILL] = 4, [OP_REAP] = 5,
};

uint64_t seed, max_ops = 1000000;
unsigned int nprocs = 3, nthreads = 3;

/* splitmix64 */
uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t below(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

bool chance(struct rng *r, unsigned int percent)
{
	return below(r, 100) < percent;
}

/* Count a result; one outside @allowed (0-terminated) is unexpected. */
void count(enum op op, long ret, int err, const int *allowed)
{
	const int *a;

	atomic_fetch_add(&stats->ops, 1);
	if (ret >= 0) {
		atomic_fetch_add(&stats->count[op][0], 1);
		return;
	}
	atomic_fetch_add(&stats->count[op][err > 0 && err <= MAXERR ? err : MAXERR], 1);
	for (a = allowed; *a; a++)
		if (*a == err)
			return;
	atomic_fetch_add(&stats->unexpected, 1);
	printf("# unexpected: %s failed with %s (%d)\n", op_names[op], strerror(err), err);
	fflush(stdout);
}

void on_alarm(int sig)
{
	(void)sig;
}

/*
 * The thread's timer: a blocking call gets EINTR after 1-30 ms, and again
 * every 10 ms (the first signal may come before the call blocks).
 */
static void setup_timer(struct thread *t)
{
	struct sigevent sev = { 0 };

	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGRTMIN + 1;
	sev._sigev_un._tid = gettid();
	t->has_timer = !timer_create(CLOCK_MONOTONIC, &sev, &t->timer);
}

void arm_timer(struct thread *t)
{
	struct itimerspec its = { { 0, 10000000 }, { 0, 1000000 * (1 + below(&t->rng, 30)) } };

	if (t->has_timer)
		timer_settime(t->timer, 0, &its, NULL);
}

void disarm_timer(struct thread *t)
{
	struct itimerspec its = { 0 };

	if (t->has_timer)
		timer_settime(t->timer, 0, &its, NULL);
}

static int open_dev(struct rng *r)
{
	static const int modes[] = { O_RDWR, O_RDWR, O_RDWR, O_RDONLY, O_WRONLY };
	int flags = modes[below(r, 5)] | (chance(r, 50) ? O_NONBLOCK : 0);

	return open(DEV, flags | O_CLOEXEC);
}

/* Replace a slot's file with a new table (the old one may be last-closed). */
static void op_reopen(struct thread *t)
{
	struct slot *s = &t->w->slot[pick_slot(t, -1)];
	int fd = open_dev(&t->rng), ret = -1;

	if (fd >= 0) {
		ret = dup3(fd, s->fd, O_CLOEXEC);
		close(fd);
	}
	count(OP_REOPEN, ret < 0 ? -1 : 0, errno, (const int[]){ ENOMEM, EMFILE, 0 });
}

/* dup2 a file onto another slot of its kind, or use a dup and close it. */
static void op_dup(struct thread *t)
{
	struct slot *a = &t->w->slot[pick_slot(t, -1)];
	struct slot *b = &t->w->slot[pick_slot(t, a->kill)];
	int fd, ret;

	if (chance(&t->rng, 50) && a != b) {
		ret = dup3(a->fd, b->fd, O_CLOEXEC);
	} else {
		fd = ret = fcntl(a->fd, F_DUPFD_CLOEXEC, 100);
		if (fd >= 0) {
			int n;

			ioctl(fd, FIONREAD, &n);	/* not ours: ENOTTY */
			close(fd);
		}
	}
	count(OP_DUP, ret < 0 ? -1 : 0, errno, (const int[]){ EMFILE, 0 });
}

/* Send a file to the next worker (SCM_RIGHTS), take one from the last. */
static void op_pass(struct thread *t)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct slot *s = &t->w->slot[pick_slot(t, -1)];
	char kind = s->kill;
	struct iovec iov = { &kind, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	int fd, ret;

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &s->fd, sizeof(int));
	ret = sendmsg(t->w->sock_out, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	count(OP_PASS, ret < 0 ? -1 : 0, errno, (const int[]){ EAGAIN, ENOBUFS, 0 });

	msg.msg_controllen = sizeof(u.buf);
	if (recvmsg(t->w->sock_in, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) != 1)
		return;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	s = &t->w->slot[pick_slot(t, kind)];
	if (s->kill == kind)
		dup3(fd, s->fd, O_CLOEXEC);
	close(fd);
}

static void run_ops(struct thread *t, uint64_t n);

/* A short-lived copy of this worker using the same files, one thread. */
static void op_fork(struct thread *t)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		struct thread c = *t;

		pthread_mutex_init(&t->w->lock, NULL);	/* may have been held */
		t->w->forked_copy = true;
		c.rng.s ^= 0x5bd1e995;
		setup_timer(&c);
		run_ops(&c, 20 + below(&c.rng, 100));
		_exit(0);
	}
	count(OP_FORK, pid < 0 ? -1 : 0, errno, (const int[]){ EAGAIN, ENOMEM, 0 });
	while (pid > 0 && waitpid(pid, &st, __WALL) < 0 && errno == EINTR)
		;
}

static void run_ops(struct thread *t, uint64_t n)
{
	unsigned int total = 0, i, k;

	for (i = 0; i < NR_OPS; i++)
		total += weight[i];
	while (n-- && !atomic_load(&stats->stop)) {
		if (atomic_load(&stats->ops) >= max_ops) {
			atomic_store(&stats->stop, true);
			break;
		}
		k = below(&t->rng, total);
		for (i = 0; k >= weight[i]; i++)
			k -= weight[i];
		if (t->w->forked_copy && (i == OP_FORK || i == OP_SPAWN ||
					  i == OP_REAP || i == OP_KILL))
			i = OP_INFO;
		switch (i) {
		case OP_READ: op_read(t); break;
		case OP_POLL: op_poll(t); break;
		case OP_FDINFO: op_fdinfo(t); break;
		case OP_REOPEN: op_reopen(t); break;
		case OP_DUP: op_dup(t); break;
		case OP_PASS: op_pass(t); break;
		case OP_FORK: op_fork(t); break;
		case OP_SPAWN: op_spawn(t); break;
		case OP_KILL: op_kill(t); break;
		case OP_REAP: op_reap(t); break;
		default: op_ioctl(t, i); break;
		}
	}
}

static void *thread_main(void *arg)
{
	struct thread *t = arg;

	t->buf = mmap(NULL, BUFPAGES * 4096, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	t->ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t->buf == MAP_FAILED || t->ro == MAP_FAILED) {
		printf("# mmap: %s\n", strerror(errno));
		atomic_fetch_add(&stats->unexpected, 1);
		return NULL;
	}
	mprotect(t->buf + (BUFPAGES - 1) * 4096, 4096, PROT_NONE);
	setup_timer(t);
	run_ops(t, ~0ULL);
	return NULL;
}

/* One worker process: threads over shared files, then a clean end. */
int worker_main(struct worker *w, const int *shared, int nshared)
{
	struct thread th[MAXTHREADS] = { 0 };
	pthread_t tid[MAXTHREADS];
	struct rng r = { seed ^ ((uint64_t)w->index << 40) };
	unsigned int i;
	int rc = 0;

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	pthread_mutex_init(&w->lock, NULL);
	for (i = 0; i < NSLOTS; i++) {
		w->slot[i].kill = i % 2 == 0;
		w->slot[i].fd = (int)i < nshared ? shared[i] : open_dev(&r);
		if (w->slot[i].fd < 0)
			w->slot[i].fd = open(DEV, O_RDWR | O_CLOEXEC);
	}
	for (i = 0; i < nthreads; i++) {
		th[i].w = w;
		th[i].rng.s = seed ^ ((uint64_t)w->index << 40) ^ ((uint64_t)i << 20);
		if (i && pthread_create(&tid[i], NULL, thread_main, &th[i]))
			th[i].w = NULL;
	}
	thread_main(&th[0]);
	for (i = 1; i < nthreads; i++)
		if (th[i].w)
			pthread_join(tid[i], NULL);
	if (kids_end(w))
		rc = 1;
	for (i = 0; i < NSLOTS; i++)
		close(w->slot[i].fd);
	return rc;
}
