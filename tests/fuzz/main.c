// SPDX-License-Identifier: GPL-2.0
/*
 * The fuzzer's main process: options, kernel.pid_max, the worker
 * processes, the sysfs counters before and after, and the report (usage
 * in fuzz.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

#define KSFT_SKIP	4
#define PID_MAX		"/proc/sys/kernel/pid_max"

struct counters {
	long v[3];
};

static const char *const counter_names[3] = { "files", "handles", "task_refs" };

static int read_long(const char *path, long *v)
{
	char buf[64];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	*v = strtol(buf, NULL, 10);
	return 0;
}

static int write_long(const char *path, long v)
{
	char buf[32];
	int fd = open(path, O_WRONLY | O_CLOEXEC), n, ok;

	if (fd < 0)
		return -1;
	n = snprintf(buf, sizeof(buf), "%ld\n", v);
	ok = write(fd, buf, n) == n;
	close(fd);
	return ok ? 0 : -1;
}

static int get_counters(struct counters *c)
{
	char path[128];
	int i;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), SYSDIR "%s", counter_names[i]);
		if (read_long(path, &c->v[i]))
			return -1;
	}
	return 0;
}

/* Counters drain asynchronously (RCU, work items): wait up to 10 s. */
static bool counters_back(const struct counters *base, struct counters *now)
{
	int i;

	for (i = 0; i < 1000; i++) {
		if (get_counters(now))
			return false;
		if (!memcmp(base, now, sizeof(*now)))
			return true;
		usleep(10000);
	}
	return false;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report(double elapsed)
{
	unsigned long ops = atomic_load(&stats->ops), n;
	int op, e;

	printf("# %lu operations in %.1f s: %.0f ops/s\n", ops, elapsed,
	       elapsed > 0 ? ops / elapsed : 0.0);
	printf("# results per operation (ok, then errno:count):\n");
	for (op = 0; op < NR_OPS; op++) {
		printf("#   %-10s ok:%lu", op_names[op],
		       atomic_load(&stats->count[op][0]));
		for (e = 1; e <= MAXERR; e++) {
			n = atomic_load(&stats->count[op][e]);
			if (n)
				printf(" %s:%lu", e < MAXERR ? strerrorname_np(e) : "other", n);
		}
		printf("\n");
	}
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-s SEED] [-n OPS] [-t SECONDS] [-p PROCS] "
		"[-T THREADS] [-m PID_MAX] [-v]\n", prog);
	exit(2);
}

int main(int argc, char **argv)
{
	struct counters base, after = { { -1, -1, -1 } };
	struct rlimit nocore = { 0, 0 };
	struct sigaction sa = { 0 };
	long pid_max = -1, old_pid_max = -1;
	pid_t pids[MAXPROCS];
	int shared[2], sv[MAXPROCS][2], fails = 0, st, c, i;
	unsigned int limit = 0;
	double t0;

	if (argc > 1 && !strcmp(argv[1], "--child"))
		child_main(argc, argv);
	seed = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid();
	while ((c = getopt(argc, argv, "s:n:t:p:T:m:v")) != -1) {
		switch (c) {
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'n': max_ops = strtoull(optarg, NULL, 0); break;
		case 't': limit = atoi(optarg); break;
		case 'p': nprocs = atoi(optarg); break;
		case 'T': nthreads = atoi(optarg); break;
		case 'm': pid_max = atol(optarg); break;
		case 'v': verbose = 1; break;
		default: usage(argv[0]);
		}
	}
	if (!nprocs || nprocs > MAXPROCS || !nthreads || nthreads > MAXTHREADS)
		usage(argv[0]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	if (access(DEV, R_OK | W_OK) || get_counters(&base)) {
		printf("1..0 # SKIP %s or its counters missing (module not loaded?)\n", DEV);
		return KSFT_SKIP;
	}
	printf("1..3\n");
	printf("# seed %llu: %s -s %llu -n %llu -t %u -p %u -T %u -m %ld\n",
	       (unsigned long long)seed, argv[0], (unsigned long long)seed,
	       (unsigned long long)max_ops, limit, nprocs, nthreads, pid_max);

	setrlimit(RLIMIT_CORE, &nocore);
	sa.sa_handler = on_alarm;	/* no SA_RESTART: EINTR */
	sigaction(SIGRTMIN + 1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (pid_max > 0 && !read_long(PID_MAX, &old_pid_max) &&
	    write_long(PID_MAX, pid_max))
		printf("# cannot lower %s to %ld: pids wrap late\n", PID_MAX, pid_max);
	stats = mmap(NULL, sizeof(*stats), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (stats == MAP_FAILED) {
		printf("Bail out! mmap: %s\n", strerror(errno));
		return 1;
	}
	shared[0] = open(DEV, O_RDWR | O_CLOEXEC);	/* a kill table */
	shared[1] = open(DEV, O_RDWR | O_CLOEXEC);	/* a probe table */
	for (i = 0; i < (int)nprocs; i++)
		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv[i])) {
			printf("Bail out! socketpair: %s\n", strerror(errno));
			return 1;
		}

	t0 = now_s();
	for (i = 0; i < (int)nprocs; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			struct worker w = { .index = i, .self = "/proc/self/exe" };

			/* Send to the next worker, receive from the previous. */
			w.sock_out = sv[i][0];
			w.sock_in = sv[(i + nprocs - 1) % nprocs][1];
			_exit(worker_main(&w, shared, 2));
		}
	}
	while (!atomic_load(&stats->stop)) {
		usleep(50000);
		if (limit && now_s() - t0 >= limit)
			atomic_store(&stats->stop, true);
		if (waitpid(-1, &st, WNOHANG) > 0) {	/* a worker ended early */
			atomic_store(&stats->stop, true);
			if (!WIFEXITED(st) || WEXITSTATUS(st))
				fails++;
		}
	}
	for (i = 0; i < (int)nprocs; i++)
		while (waitpid(pids[i], &st, 0) > 0)
			if (!WIFEXITED(st) || WEXITSTATUS(st)) {
				printf("# worker %d ended with status 0x%x\n", i, st);
				fails++;
			}
	report(now_s() - t0);
	close(shared[0]);
	close(shared[1]);
	for (i = 0; i < (int)nprocs; i++) {
		close(sv[i][0]);
		close(sv[i][1]);
	}
	if (old_pid_max > 0)
		write_long(PID_MAX, old_pid_max);

	printf("%sok 1 - no unexpected result (%lu)\n",
	       atomic_load(&stats->unexpected) ? "not " : "",
	       atomic_load(&stats->unexpected));
	printf("%sok 2 - every worker ended cleanly\n", fails ? "not " : "");
	i = counters_back(&base, &after);
	printf("%sok 3 - counters back at baseline (files %ld->%ld handles %ld->%ld task_refs %ld->%ld)\n",
	       i ? "" : "not ", base.v[0], after.v[0], base.v[1], after.v[1],
	       base.v[2], after.v[2]);
	printf("# seed %llu\n", (unsigned long long)seed);
	return atomic_load(&stats->unexpected) || fails || !i;
}
