// SPDX-License-Identifier: GPL-2.0
/*
 * The processes the fuzzer targets: children that exit at once, die by a
 * signal, sleep until killed, exec this program again (which may fork a
 * grandchild), or end through a thread while the leader is already a
 * zombie.  Each worker is a child subreaper, so grandchildren come back to
 * it; it kills and reaps them all before it exits.
 *
 * A child's pid is only handed to ACQUIRE while the worker's lock is held,
 * and reaping takes the same lock: the number cannot name another process
 * then (see the safety rule in ops.c).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

#define E(...)		((const int[]){ __VA_ARGS__, 0 })

int sys_pidfd_open(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

static void nap_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

static void *exit_group_later(void *arg)
{
	uint64_t r = *(uint64_t *)arg;

	nap_us(1000 + (long)(r % 9000));
	syscall(SYS_exit_group, (int)(r & 0xff));
	return NULL;
}

/* What a child does; @r is its own random number. */
static void child_life(uint64_t r, const char *self)
{
	static const int fatal[] = { SIGKILL, SIGTERM, SIGUSR1, SIGSEGV, SIGABRT };
	static uint64_t later;
	char arg[32];
	pthread_t th;
	pid_t pid;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	alarm(3);			/* nothing outlives a lost worker */
	switch (r % 7) {
	case 0:
		_exit((r >> 8) & 0xff);
	case 1:
		kill(getpid(), fatal[(r >> 8) % 5]);
		_exit(1);
	case 2:
	case 3:
		for (;;)
			pause();
	case 4:
		snprintf(arg, sizeof(arg), "%llu", (unsigned long long)(r >> 3));
		execl(self, self, "--child", arg, (char *)NULL);
		_exit(127);
	case 5:		/* the leader exits first: a zombie with a live thread */
		later = r >> 8;
		if (!pthread_create(&th, NULL, exit_group_later, &later))
			syscall(SYS_exit, 0);
		_exit(2);
	default:
		pid = fork();
		if (pid == 0) {
			nap_us((r >> 8) % 20000);
			_exit(3);
		}
		_exit(pid < 0);
	}
}

/* argv: self --child N: the exec'd form of a child. */
void child_main(int argc, char **argv)
{
	uint64_t r = argc > 2 ? strtoull(argv[2], NULL, 0) : 0;

	nap_us(r % 5000);
	if (r & 1)
		child_life((r >> 1) % 7 == 4 ? 0 : r >> 1, argv[0]);
	_exit((r >> 4) & 0xff);
}

/* A child not yet reaped, or -1; the caller holds the worker's lock. */
pid_t pick_kid(struct thread *t)
{
	struct worker *w = t->w;

	return w->nkids ? w->kids[below(&t->rng, w->nkids)] : -1;
}

static void forget_kid(struct worker *w, pid_t pid)
{
	unsigned int i;

	for (i = 0; i < w->nkids; i++)
		if (w->kids[i] == pid) {
			w->kids[i] = w->kids[--w->nkids];
			return;
		}
}

void op_spawn(struct thread *t)
{
	struct worker *w = t->w;
	uint64_t r = rnd(&t->rng);
	pid_t pid = -1;
	int err = EAGAIN;

	if (w->forked_copy)
		return;
	pthread_mutex_lock(&w->lock);
	if (w->nkids < NKIDS) {
		pid = fork();
		err = errno;
		if (pid == 0)
			child_life(r, w->self);
		if (pid > 0)
			w->kids[w->nkids++] = pid;
	}
	pthread_mutex_unlock(&w->lock);
	count(OP_SPAWN, pid < 0 ? -1 : 0, err, E(EAGAIN, ENOMEM));
}

void op_kill(struct thread *t)
{
	static const int sigs[] = { SIGKILL, SIGTERM, SIGSTOP, SIGCONT, SIGUSR1, 0 };
	pid_t pid;
	int ret = 0;

	pthread_mutex_lock(&t->w->lock);
	pid = pick_kid(t);
	if (pid > 0)
		ret = kill(pid, sigs[below(&t->rng, 6)]);
	pthread_mutex_unlock(&t->w->lock);
	count(OP_KILL, ret, errno, E(ESRCH));
}

void op_reap(struct thread *t)
{
	pid_t pid;
	int st;

	if (t->w->forked_copy)
		return;
	pthread_mutex_lock(&t->w->lock);
	pid = waitpid(-1, &st, WNOHANG | __WALL);
	if (pid > 0)
		forget_kid(t->w, pid);
	pthread_mutex_unlock(&t->w->lock);
	count(OP_REAP, pid < 0 ? -1 : 0, errno, E(ECHILD, EINTR));
}

/* SIGKILL every child of ours (kids, adopted grandchildren). */
static void kill_children(void)
{
	char path[300], buf[512], *p;
	struct dirent *d;
	DIR *dir = opendir("/proc");
	FILE *f;
	long ppid;

	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", d->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		if (p && sscanf(p, ") %*c %ld", &ppid) == 1 && ppid == getpid())
			kill(atoi(d->d_name), SIGKILL);
	}
	closedir(dir);
}

/* The end of a worker: no child left, none unreaped.  0 or -1. */
int kids_end(struct worker *w)
{
	time_t end = time(NULL) + 20;
	int st;

	while (time(NULL) < end) {
		kill_children();
		while (waitpid(-1, &st, WNOHANG | __WALL) > 0)
			;
		if (waitpid(-1, &st, WNOHANG | __WALL) < 0 && errno == ECHILD) {
			w->nkids = 0;
			return 0;
		}
		nap_us(2000);
	}
	printf("# worker %d: children left after 20 s\n", w->index);
	return -1;
}
