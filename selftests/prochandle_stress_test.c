// SPDX-License-Identifier: GPL-2.0
/*
 * prochandle: wake-up stress in the spirit of the kernel's pidfd poll
 * test, in its own binary so it gets the guest's whole per-binary time.
 *
 *   wake_stress    no lost wake-up over 2000 SIGKILL-through-handle + WAIT
 *                  rounds, two threads at once on one table
 */
#include "ph_test.h"

/*
 * Wake stress: fork, acquire, SIGKILL through the handle, WAIT; none may
 * be lost.  Two threads do it at once on one table, each WAIT bounded by
 * a timeout so a lost wake-up is a failure, not a hang.
 */
enum { WK_THREADS = 2, WK_ITER = 1000 };

struct wk {
	int fd;
	int lost, bad, done;
};

static void *wk_fn(void *p)
{
	struct wk *w = p;
	int i;

	for (i = 0; i < WK_ITER; i++) {
		pid_t pid = fork();
		int st, wst, r;
		__u64 h;

		if (pid < 0) {
			w->bad = -errno;
			return NULL;
		}
		if (pid == 0) {
			for (;;)
				pause();
		}
		r = ioc_acquire(w->fd, pid, &h);
		if (!r)
			r = ioc_signal(w->fd, h, SIGKILL);
		if (!r) {
			r = ioc_wait(w->fd, h, PH_WAIT_TIMEOUT, 10000000000ull, &st);
			if (r == -ETIMEDOUT)
				w->lost++;
		}
		if (r) {
			kill(pid, SIGKILL);
			ph_reap(pid);
			w->bad = r;
			return NULL;
		}
		wst = ph_reap(pid);
		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL || st != wst ||
		    ioc_release(w->fd, h)) {
			w->bad = 1000 + i;
			return NULL;
		}
		w->done++;
	}
	return NULL;
}

TEST_F_TIMEOUT(ph, wake_stress, 280)
{
	struct wk w[WK_THREADS];
	pthread_t t[WK_THREADS];
	int i;

	for (i = 0; i < WK_THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].fd = self->fd;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, wk_fn, &w[i]));
	}
	for (i = 0; i < WK_THREADS; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, w[i].lost);
		EXPECT_EQ(0, w[i].bad);
		EXPECT_EQ(WK_ITER, w[i].done);
	}
	EXPECT_COUNTERS(1, 0, 0);
}

TEST_HARNESS_MAIN
