// SPDX-License-Identifier: GPL-2.0
/*
 * phbench: the rows about scale (SPEC sections 7 and 14).
 *
 *  - acquire with 1M live handles in one file against 1k;
 *  - lookups of distinct handles from two CPUs against a null ioctl
 *    (time mode only: it needs two vCPUs, and is indicative even then).
 * Deadlines at scale are in deadline.c.
 */
#include "phbench.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

static void fill(int fd, long n)
{
	uint64_t t0 = now_ns();

	for (long i = 0; i < n; i++)
		ph_acquire(fd, child_w);
	note("filled a table with %ld handles in %.1f s", n,
	     (now_ns() - t0) / 1e9);
}

static double acquire_batch(int fd, uint64_t *ids, int k)
{
	uint64_t t0 = now_ns(), t;

	for (int i = 0; i < k; i++)
		ids[i] = ph_acquire(fd, child_w);
	t = now_ns() - t0;
	for (int i = 0; i < k; i++)
		ph_release(fd, ids[i]);
	return (double)t / k;
}

void big_row(void)
{
	enum { K = 16 };
	static double small[MAXREPS], big[MAXREPS];
	const int BREPS = icount ? 101 : smoke ? 3 : reps;
	uint64_t ids[K];
	int fa, fb;
	char name[64];

	fa = ph_open();
	fb = ph_open();
	fill(fa, 1000);
	fill(fb, big_n);
	for (int i = 0; i < 64; i++) {	/* warm up */
		acquire_batch(fa, ids, K);
		acquire_batch(fb, ids, K);
	}
	for (int r = 0; r < BREPS; r++) {
		if (r % 2) {
			big[r] = acquire_batch(fb, ids, K);
			small[r] = acquire_batch(fa, ids, K);
		} else {
			small[r] = acquire_batch(fa, ids, K);
			big[r] = acquire_batch(fb, ids, K);
		}
	}
	double mean_s, mean_b;
	double ms = summarize("acquire, 1k live", small, BREPS, &mean_s);
	double mb = summarize("acquire, many live", big, BREPS, &mean_b);

	note("acquire with 1k live: %.0f ns; with %ld live: %.0f ns (batches of %d, %d each)",
	     ms, big_n, mb, K, BREPS);
	snprintf(name, sizeof(name), "acquire, %ldk live vs 1k live", big_n / 1000);
	add_row("acquire-1m", name, U_NS, mb, ms, mb / ms, LE, 1.5);
	set_row_means(mean_b, mean_s);
	uint64_t t0 = now_ns();

	close(fb);
	close(fa);
	note("closed the %ld-handle table in %.2f s", big_n, (now_ns() - t0) / 1e9);
}

/* ---- scaling: distinct handles from different CPUs ---------------------- */

struct worker {
	volatile uint64_t ops;
	int cpu;
	int kind;			/* 0 INFO, 1 null ioctl */
	uint64_t handle;
	char pad[64];
};

struct scale_shared {
	volatile int go, stop;
	struct worker w[2];
};

static struct scale_shared *sc;

static void worker_loop(struct worker *w)
{
	struct ph_info i;
	uint64_t n = 0;

	pin(w->cpu);
	while (!sc->go)
		;
	while (!sc->stop) {
		for (int k = 0; k < 64; k++) {
			memset(&i, 0, sizeof(i));
			i.handle = w->handle;
			if (w->kind == 0) {
				if (ioctl(phfd, PH_IOC_INFO, &i))
					die("INFO (worker)");
			} else if (ioctl(phfd, PH_IOC_NULL, &i) != -1) {
				die("null ioctl (worker)");
			}
		}
		n += 64;
	}
	w->ops = n;
}

static void *thread_main(void *arg)
{
	worker_loop(arg);
	return NULL;
}

/* Ops per second of @nw workers (threads or processes) over 50 ms. */
static double scale_run(int nw, bool procs, int kind, const uint64_t *handles)
{
	pthread_t th[2];
	pid_t pids[2];
	uint64_t t0, t;
	double total = 0;

	memset(sc, 0, sizeof(*sc));
	for (int i = 0; i < nw; i++) {
		sc->w[i].cpu = i;
		sc->w[i].kind = kind;
		sc->w[i].handle = handles[i];
		if (procs) {
			pids[i] = fork();
			if (pids[i] < 0)
				die("fork");
			if (!pids[i]) {
				worker_loop(&sc->w[i]);
				_exit(0);
			}
		} else if (pthread_create(&th[i], NULL, thread_main, &sc->w[i])) {
			die("pthread_create");
		}
	}
	usleep(20000);
	__atomic_store_n(&sc->go, 1, __ATOMIC_SEQ_CST);
	t0 = now_ns();
	usleep(50000);
	__atomic_store_n(&sc->stop, 1, __ATOMIC_SEQ_CST);
	t = now_ns() - t0;
	for (int i = 0; i < nw; i++) {
		if (procs)
			waitpid(pids[i], NULL, 0);
		else
			pthread_join(th[i], NULL);
		total += sc->w[i].ops;
	}
	return total * 1e9 / t;
}

void scale_rows(void)
{
	const int sreps = reps < 7 ? reps : 7;
	uint64_t handles[2];
	const char *how[2] = { "threads", "processes" };

	if (ncpus < 2) {
		for (int procs = 0; procs < 2; procs++)
			add_skipped_row(procs ? "scale-procs" : "scale-threads",
					procs ? "INFO scaling 1->2 processes (vs null ioctl)*" :
					"INFO scaling 1->2 threads (vs null ioctl)*",
					"one CPU");
		return;
	}
	sc = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		  -1, 0);
	if (sc == MAP_FAILED)
		die("mmap");
	/* distinct handles, not neighbours in memory */
	handles[0] = ph_acquire(phfd, child_w);
	for (int i = 0; i < 64; i++)
		ph_acquire(phfd, child_w);
	handles[1] = ph_acquire(phfd, child_w);
	for (int procs = 0; procs < 2; procs++) {
		double s[2][2][8];		/* kind, workers-1, rep */
		double sc_info, sc_null;
		char name[64];

		for (int r = 0; r < sreps; r++)
			for (int kind = 0; kind < 2; kind++)
				for (int nw = 1; nw <= 2; nw++) {
					int k = r % 2 ? 1 - kind : kind;
					int w = r % 2 ? 3 - nw : nw;

					s[k][w - 1][r] = scale_run(w, procs, k, handles);
				}
		double i1 = median(s[0][0], sreps), i2 = median(s[0][1], sreps);
		double n1 = median(s[1][0], sreps), n2 = median(s[1][1], sreps);

		sc_info = i2 / i1;
		sc_null = n2 / n1;
		note("scaling, 2 %s sharing one file: INFO %.0f -> %.0f ops/s (x%.2f); null ioctl %.0f -> %.0f ops/s (x%.2f)",
		     how[procs], i1, i2, sc_info, n1, n2, sc_null);
		snprintf(name, sizeof(name), "INFO scaling 1->2 %s (vs null ioctl)*",
			 how[procs]);
		/* indicative only: in parentheses */
		add_row(procs ? "scale-procs" : "scale-threads", name, U_SCALE,
			sc_info, sc_null, sc_info / sc_null, GE, 0.9);
	}
}
