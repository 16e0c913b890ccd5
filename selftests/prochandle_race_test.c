// SPDX-License-Identifier: GPL-2.0
/*
 * prochandle: the SPEC §4 invariants under concurrency, each over many
 * bounded iterations (a round budget: all rounds on a fast kernel, at
 * least the minimum on a slow one; see ph_budget()).
 *
 *   release_race           inv. 4 (and 1: counters exact each round)
 *   wait_blocked_release   inv. 1, 2 (task_refs drops only after the waiter)
 *   signal_spam_churn      inv. 2, 5, 7-like (no signal reaches another process)
 *   wait_race_release      inv. 1, 2, 3 on an exiting child
 *   wait_race_signal       inv. 3 (SIGNAL after a status is ESRCH)
 */
#include "ph_test.h"

/* ==================================================================== */
/* Invariant 4: of N concurrent RELEASEs exactly one returns 0.          */

enum { RR_THREADS = 4, RR_ROUNDS = 1500 };

struct rr {
	pthread_barrier_t start, done;
	int fd;
	__u64 h;
	int res[RR_THREADS];
	int stop;			/* __atomic */
};

struct rr_arg {
	struct rr *rr;
	int idx;
};

static void *rr_fn(void *p)
{
	struct rr_arg *a = p;
	struct rr *rr = a->rr;

	for (;;) {
		pthread_barrier_wait(&rr->start);
		if (__atomic_load_n(&rr->stop, __ATOMIC_RELAXED))
			return NULL;
		rr->res[a->idx] = ioc_release(rr->fd, rr->h);
		pthread_barrier_wait(&rr->done);
	}
}

TEST_F_TIMEOUT(ph, release_race, 90)
{
	struct rr rr = { .fd = self->fd };
	struct rr_arg args[RR_THREADS];
	pthread_t t[RR_THREADS];
	struct ph_budget b = ph_budget(300, RR_ROUNDS, 30000);
	struct ph_kid k;
	int i, round, bad = 0;

	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	pthread_barrier_init(&rr.start, NULL, RR_THREADS + 1);
	pthread_barrier_init(&rr.done, NULL, RR_THREADS + 1);
	for (i = 0; i < RR_THREADS; i++) {
		args[i].rr = &rr;
		args[i].idx = i;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, rr_fn, &args[i]));
	}
	for (round = 0; ph_budget_more(&b, round) && !bad; round++) {
		int wins = 0;

		/* alternate a live process and ourselves as the target */
		ASSERT_EQ(0, ioc_acquire(self->fd, round & 1 ? k.pid : getpid(),
					 &rr.h));
		pthread_barrier_wait(&rr.start);
		pthread_barrier_wait(&rr.done);
		for (i = 0; i < RR_THREADS; i++) {
			if (rr.res[i] == 0)
				wins++;
			else if (rr.res[i] != -EBADF)
				bad = 1;
		}
		if (wins != 1)
			bad = 1;
		EXPECT_EQ(1, wins) {
			TH_LOG("round %d: %d releases won", round, wins);
		}
		EXPECT_EQ(-EBADF, ioc_info(self->fd, rr.h, &(struct ph_info){}));
		if (round % 100 == 0)
			EXPECT_COUNTERS(1, 0, 0);
	}
	TH_LOG("%d rounds", round);
	__atomic_store_n(&rr.stop, 1, __ATOMIC_SEQ_CST);
	pthread_barrier_wait(&rr.start);
	for (i = 0; i < RR_THREADS; i++)
		pthread_join(t[i], NULL);
	EXPECT_EQ(0, bad);
	EXPECT_COUNTERS(1, 0, 0);
	ph_kid_exit(&k, 0);
	EXPECT_EQ(0, ph_reap(k.pid));
}

/* ==================================================================== */
/* A blocked WAIT while another thread releases the handle.              */

TEST_F_TIMEOUT(ph, wait_blocked_release, 120)
{
	struct ph_budget b = ph_budget(50, 150, 40000);
	int round;

	for (round = 0; ph_budget_more(&b, round); round++) {
		struct ph_info i;
		struct waiter w;
		struct ph_kid k;
		int st, wst;
		__u64 h;

		ASSERT_EQ(0, ph_spawn(&k));
		ph_track(self, k.pid);
		ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &h));
		ASSERT_EQ(0, start_waiter(&w, self->fd, h));
		ASSERT_EQ(0, ioc_release(self->fd, h));
		/* new calls fail at once ... */
		EXPECT_EQ(-EBADF, ioc_info(self->fd, h, &i));
		EXPECT_EQ(-EBADF, ioc_signal(self->fd, h, SIGKILL));
		EXPECT_EQ(-EBADF, ioc_wait(self->fd, h, PH_WAIT_NOHANG, 0, &st));
		EXPECT_EQ(-EBADF, ioc_release(self->fd, h));
		/* ... while the in-flight WAIT keeps handle and task */
		EXPECT_COUNTERS(1, 1, 1);
		EXPECT_EQ(0, kill(k.pid, 0));
		if (round & 1) {
			ph_kid_exit(&k, round & 0x7f);
		} else {
			ASSERT_EQ(0, kill(k.pid, SIGKILL));
			ph_kid_close(&k);
		}
		ASSERT_EQ(0, pthread_join(w.t, NULL));
		/* the wait completes normally, with the status */
		EXPECT_EQ(0, w.ret);
		wst = ph_reap(k.pid);
		EXPECT_EQ(wst, w.status);
		EXPECT_COUNTERS(1, 0, 0);
		EXPECT_EQ(-EBADF, ioc_info(self->fd, h, &i));
		self->nkids = 0;
		if (PH_FAILED())
			break;
	}
	TH_LOG("%d rounds", round);
}

/* ==================================================================== */
/*
 * Signal spam racing release, while other threads acquire and release
 * handles on other processes so ids churn.  Every SIGNAL returns 0 or
 * EBADF; the other processes never receive a signal (they count them in
 * a handler and report at the end); stale ids never name a new handle.
 */

enum {
	SP_OTHERS = 3, SP_SPAMMERS = 3, SP_CHURNERS = 2, SP_ROUNDS = 1500,
	SP_STALE = 64,
};

struct spam {
	int fd;
	pid_t victim, others[SP_OTHERS];
	__u64 cur;			/* current handle on the victim */
	__u64 stale[SP_STALE];		/* released handles on the victim */
	int stop;			/* __atomic */
	int bad_sig, bad_churn;		/* unexpected results, the first seen */
	long sent;
	int bad_stale;			/* a released id answered */
};

struct spam_arg {
	struct spam *s;
	int idx;
};

/*
 * Even spammers signal the current handle (0, or EBADF when it was just
 * released); odd ones only ids whose RELEASE has returned, which must
 * fail EBADF whatever has been acquired since (a reused id would not).
 */
static void *spammer(void *p)
{
	struct spam *s = ((struct spam_arg *)p)->s;
	bool stale_only = ((struct spam_arg *)p)->idx & 1;
	unsigned int seed = ph_gettid();

	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		__u64 h;
		int r;

		if (!stale_only)
			h = __atomic_load_n(&s->cur, __ATOMIC_SEQ_CST);
		else
			h = __atomic_load_n(&s->stale[rand_r(&seed) % SP_STALE],
					    __ATOMIC_SEQ_CST);
		if (!h)
			continue;
		r = ioc_signal(s->fd, h, SIGUSR1);
		if (stale_only && r != -EBADF)
			__atomic_compare_exchange_n(&s->bad_stale, &(int){0}, r ? r : 1,
						    false, __ATOMIC_SEQ_CST,
						    __ATOMIC_SEQ_CST);
		if (r && r != -EBADF)
			__atomic_compare_exchange_n(&s->bad_sig, &(int){0}, r,
						    false, __ATOMIC_SEQ_CST,
						    __ATOMIC_SEQ_CST);
		if (!r)
			__atomic_fetch_add(&s->sent, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *churner(void *p)
{
	struct spam *s = p;
	unsigned int seed = ph_gettid();

	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		__u64 h[4];
		int i, r;

		for (i = 0; i < 4; i++) {
			r = ioc_acquire(s->fd, s->others[rand_r(&seed) % SP_OTHERS], &h[i]);
			if (r)
				goto bad;
		}
		for (i = 0; i < 4; i++) {
			/* probing our own handles is allowed, and sends nothing */
			r = ioc_signal(s->fd, h[i], 0);
			if (r)
				goto bad;
			r = ioc_release(s->fd, h[i]);
			if (r)
				goto bad;
		}
		continue;
bad:
		__atomic_compare_exchange_n(&s->bad_churn, &(int){0}, r ? r : -1,
					    false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		return NULL;
	}
	return NULL;
}

TEST_F_TIMEOUT(ph, signal_spam_churn, 120)
{
	struct spam s = { .fd = self->fd };
	pthread_t sp[SP_SPAMMERS], ch[SP_CHURNERS];
	struct spam_arg sa[SP_SPAMMERS];
	struct ph_budget bud;
	int vctl, vrep, octl[SP_OTHERS], orep[SP_OTHERS], i, n, round;
	char b;

	s.victim = ph_spawn_counter(SIGUSR1, false, &vctl, &vrep);
	ASSERT_LT(0, s.victim);
	ph_track(self, s.victim);
	ASSERT_EQ(1, ph_read_timeout(vrep, &b, 1, 10000));
	for (i = 0; i < SP_OTHERS; i++) {
		s.others[i] = ph_spawn_counter(SIGUSR1, false, &octl[i], &orep[i]);
		ASSERT_LT(0, s.others[i]);
		ph_track(self, s.others[i]);
		ASSERT_EQ(1, ph_read_timeout(orep[i], &b, 1, 10000));
	}
	ASSERT_EQ(0, ioc_acquire(self->fd, s.victim, &s.cur));
	bud = ph_budget(300, SP_ROUNDS, 30000);
	for (i = 0; i < SP_SPAMMERS; i++) {
		sa[i].s = &s;
		sa[i].idx = i;
		ASSERT_EQ(0, pthread_create(&sp[i], NULL, spammer, &sa[i]));
	}
	for (i = 0; i < SP_CHURNERS; i++)
		ASSERT_EQ(0, pthread_create(&ch[i], NULL, churner, &s));
	for (round = 0; ph_budget_more(&bud, round); round++) {
		__u64 old = s.cur, nw;

		ASSERT_EQ(0, ioc_acquire(self->fd, s.victim, &nw));
		__atomic_store_n(&s.cur, nw, __ATOMIC_SEQ_CST);
		ASSERT_EQ(0, ioc_release(self->fd, old));
		__atomic_store_n(&s.stale[round % SP_STALE], old, __ATOMIC_RELAXED);
		if (s.bad_sig || s.bad_churn || s.bad_stale)
			break;
	}
	TH_LOG("%d rounds, %ld signals delivered", round, s.sent);
	__atomic_store_n(&s.stop, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < SP_SPAMMERS; i++)
		pthread_join(sp[i], NULL);
	for (i = 0; i < SP_CHURNERS; i++)
		pthread_join(ch[i], NULL);
	EXPECT_EQ(0, s.bad_sig);
	EXPECT_EQ(0, s.bad_churn);
	EXPECT_EQ(0, s.bad_stale) {
		TH_LOG("a released id answered SIGNAL with %d", s.bad_stale);
	}
	EXPECT_LT(0, s.sent);
	EXPECT_EQ(0, ioc_release(self->fd, s.cur));
	EXPECT_COUNTERS(1, 0, 0);
	/* the other processes got nothing */
	for (i = 0; i < SP_OTHERS; i++) {
		ASSERT_EQ(1, write(octl[i], "q", 1));
		close(octl[i]);
		ASSERT_EQ(sizeof(n), ph_read_timeout(orep[i], &n, sizeof(n), 10000));
		EXPECT_EQ(0, n) {
			TH_LOG("process %d got %d stray signals", s.others[i], n);
		}
		EXPECT_EQ(0, ph_reap(s.others[i]));
		close(orep[i]);
	}
	/* and the victim got some (they coalesce: at least one) */
	ASSERT_EQ(1, write(vctl, "q", 1));
	close(vctl);
	ASSERT_EQ(sizeof(n), ph_read_timeout(vrep, &n, sizeof(n), 10000));
	EXPECT_LT(0, n);
	EXPECT_GE(s.sent, n);
	EXPECT_EQ(0, ph_reap(s.victim));
	close(vrep);
	self->nkids = 0;
}

/* ==================================================================== */
/*
 * WAIT racing RELEASE (and INFO, SIGNAL) on a child that is exiting.
 * Each round: the WAIT returns the status or EBADF (released first); the
 * states an observer sees go RUNNING -> EXITED -> DONE, never back, then
 * EBADF for good; a status, once seen, never changes.
 */

struct wr {
	pthread_barrier_t b;
	int fd;
	__u64 h;
	pid_t pid;
	int wret, wstatus;
	int obs_bad;		/* observer saw an inconsistency */
	int obs_status;		/* a status the observer saw, or -1 */
	int sig_bad;
	int jitter;
};

static void *wr_waiter(void *p)
{
	struct wr *w = p;

	pthread_barrier_wait(&w->b);
	w->wret = ioc_wait(w->fd, w->h, 0, 0, &w->wstatus);
	return NULL;
}

static void *wr_releaser(void *p)
{
	struct wr *w = p;
	int spin;

	pthread_barrier_wait(&w->b);
	/* vary where the release lands relative to the WAIT and the exit */
	for (spin = 0; spin < w->jitter; spin++)
		__asm__ __volatile__("" ::: "memory");	/* kept by the compiler */
	if (ioc_release(w->fd, w->h))
		w->obs_bad |= 8;
	return NULL;
}

static void *wr_observer(void *p)
{
	struct wr *w = p;
	int last = PH_STATE_RUNNING, i;

	w->obs_status = -1;
	pthread_barrier_wait(&w->b);
	for (i = 0; i < 100000; i++) {
		struct ph_info inf;
		int r = ioc_info(w->fd, w->h, &inf), s;

		if (r == -EBADF) {
			/* released: EBADF from now on, for every call */
			if (ioc_info(w->fd, w->h, &inf) != -EBADF ||
			    ioc_signal(w->fd, w->h, 0) != -EBADF)
				w->obs_bad |= 1;
			return NULL;
		}
		if (r || (int)inf.state < last || inf.state > PH_STATE_DONE) {
			w->obs_bad |= 2;
			return NULL;
		}
		last = inf.state;
		if (inf.state != PH_STATE_RUNNING) {
			if (w->obs_status != -1 && w->obs_status != inf.status)
				w->obs_bad |= 4;
			w->obs_status = inf.status;
			/* exited: signalling is refused (or released meanwhile) */
			s = ioc_signal(w->fd, w->h, 0);
			if (s != -ESRCH && s != -EBADF)
				w->sig_bad = s ? s : 1;
		}
	}
	return NULL;
}

TEST_F_TIMEOUT(ph, wait_race_release, 180)
{
	struct ph_budget b = ph_budget(100, 300, 45000);
	int round, waited = 0, released_first = 0;

	for (round = 0; ph_budget_more(&b, round); round++) {
		struct wr w = { .fd = self->fd, .jitter = (round * 7919) % 200000 };
		pthread_t t[3];
		struct ph_kid k;
		int wst;

		ASSERT_EQ(0, ph_spawn(&k));
		ph_track(self, k.pid);
		ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &w.h));
		pthread_barrier_init(&w.b, NULL, 4);
		ASSERT_EQ(0, pthread_create(&t[0], NULL, wr_waiter, &w));
		ASSERT_EQ(0, pthread_create(&t[1], NULL, wr_releaser, &w));
		ASSERT_EQ(0, pthread_create(&t[2], NULL, wr_observer, &w));
		/* the child exits as the three start */
		if (round % 3 == 0)
			kill(k.pid, SIGKILL);
		pthread_barrier_wait(&w.b);
		if (round % 3 == 1)
			ph_kid_exit(&k, 3);
		else if (round % 3 == 2)
			kill(k.pid, SIGTERM);
		pthread_join(t[0], NULL);
		pthread_join(t[1], NULL);
		pthread_join(t[2], NULL);
		pthread_barrier_destroy(&w.b);
		if (w.wret == -EBADF) {
			/* released before the WAIT started */
			released_first++;
		} else {
			EXPECT_EQ(0, w.wret);
			waited++;
		}
		ph_kid_close(&k);
		kill(k.pid, SIGKILL);
		wst = ph_reap(k.pid);
		if (w.wret == 0)
			EXPECT_EQ(wst, w.wstatus);
		if (w.obs_status != -1)
			EXPECT_EQ(wst, w.obs_status);
		EXPECT_EQ(0, w.obs_bad) {
			TH_LOG("round %d: observer flags %#x", round, w.obs_bad);
		}
		EXPECT_EQ(0, w.sig_bad);
		EXPECT_COUNTERS(1, 0, 0);
		self->nkids = 0;
		if (PH_FAILED())
			break;
	}
	TH_LOG("%d rounds: %d waits completed, %d released first", round,
	       waited, released_first);
}

/*
 * Invariant 3: once a WAIT has returned, SIGNAL is ESRCH and the task
 * reference is gone, even with SIGNALs racing the WAIT.
 */
struct ws {
	pthread_barrier_t b;
	int fd;
	__u64 h;
	int waited;			/* __atomic */
	int bad;
};

static void *ws_signaller(void *p)
{
	struct ws *w = p;

	pthread_barrier_wait(&w->b);
	for (;;) {
		int done = __atomic_load_n(&w->waited, __ATOMIC_SEQ_CST);
		int r = ioc_signal(w->fd, w->h, 0);

		if (done && r != -ESRCH) {
			w->bad = r ? r : 1;
			return NULL;
		}
		if (r != 0 && r != -ESRCH) {
			w->bad = r;
			return NULL;
		}
		if (done)
			return NULL;
	}
}

TEST_F_TIMEOUT(ph, wait_race_signal, 120)
{
	struct ph_budget b = ph_budget(100, 300, 30000);
	int round;

	for (round = 0; ph_budget_more(&b, round); round++) {
		struct ws w = { .fd = self->fd };
		struct ph_kid k;
		pthread_t t;
		int st;

		ASSERT_EQ(0, ph_spawn(&k));
		ph_track(self, k.pid);
		ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &w.h));
		pthread_barrier_init(&w.b, NULL, 2);
		ASSERT_EQ(0, pthread_create(&t, NULL, ws_signaller, &w));
		pthread_barrier_wait(&w.b);
		ph_kid_exit(&k, 1);
		ASSERT_EQ(0, ioc_wait(self->fd, w.h, 0, 0, &st));
		__atomic_store_n(&w.waited, 1, __ATOMIC_SEQ_CST);
		/* DONE: no task reference any more, before the reap */
		EXPECT_COUNTERS(1, 1, 0);
		pthread_join(t, NULL);
		pthread_barrier_destroy(&w.b);
		EXPECT_EQ(0, w.bad);
		EXPECT_EQ(st, ph_reap(k.pid));
		EXPECT_EQ(-ESRCH, ioc_signal(self->fd, w.h, SIGKILL));
		EXPECT_EQ(0, ioc_release(self->fd, w.h));
		self->nkids = 0;
		if (PH_FAILED())
			break;
	}
	TH_LOG("%d rounds", round);
}

TEST_HARNESS_MAIN
