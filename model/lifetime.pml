/*
 * SPDX-License-Identifier: GPL-2.0
 *
 * A Promela model of kill on release and deadlines (SPEC 11) as
 * module/lifetime.c and module/deadline.c implement them, with the
 * release paths of module/handle.c (RELEASE), module/table.c (the last
 * close, also when every holder died) and module/track.c (a tracked
 * handle is killed before it stops tracking).  Every step names the function it mirrors;
 * model/README.md says how to run it.  The handle refcount protocol itself
 * (lookup, transient references, WAIT) is model/prochandle.pml's: here a
 * handle is its refcount, its RELEASED bit and its table entry.
 *
 * The world: one process P and one open file holding handle 0 on it,
 * acquired with PH_ACQUIRE_KILL_ON_RELEASE (its struct ph_life in @lives
 * with the acquirer's credentials) and with a deadline armed (queued in
 * the deadline timerqueue, sig a catchable signal, grace_ns set: SIGKILL
 * later).  With TRACKED the handle was also acquired with
 * PH_ACQUIRE_TRACK.  Beside the actors:
 *  - P itself: it runs until it exits by itself or a fatal signal takes
 *    effect; its exit is then reported, it is reaped by its parent, and
 *    its pid *number* may be given to a new process Q;
 *  - the deadline work (ph_dl_fire()), which may run whenever the deadline
 *    is queued (its time is any moment), fire it, queue the escalation;
 *  - the last close() of the file once every call has returned.
 * NA actors (1 or 2) each make one call: RELEASE of handle 0, DEADLINE
 * re-arming or cancelling it, or nothing (then only the close releases).
 *
 * The kernel's part, as kill_pid() on a struct pid does it: a pid that no
 * longer has a task (reaped) gives ESRCH; a thread group whose exit has
 * begun (SIGNAL_GROUP_EXIT) drops the signal (prepare_signal()); a struct
 * pid never names another process.  The saved credentials always permit
 * the kill here (kills_refused is not modelled).
 *
 * Checked in every interleaving:
 *  L1 kill on release sends its SIGKILL at most once per handle (RELEASE,
 *     the close and tracking's early kill together), and the kills counter
 *     never counts it twice;
 *  L2 no signal ever reaches another process (Q, which reused P's number);
 *  L3 a RELEASE, or the close, of a kill-on-release handle returns with P
 *     no longer running: killed, or it had exited;
 *  L4 a deadline firing takes its handle reference on a live handle, and
 *     that reference is never the last (the table's is): the firing never
 *     outlives the table;
 *  L5 at the end: the handle and its life freed, nothing queued, no
 *     firing in progress, every reference given back; no deadlock.
 *
 * Seeded bugs (make model requires each to fail, with a trail):
 *  BUG_KILL_BY_NUMBER ph_life_kill() decides "still running" from the
 *                     handle's state, then signals the pid *number* (a
 *                     find_vpid() + kill at that moment) rather than the
 *                     struct pid: P exits, is reaped, Q gets the number
 *                     in between, and Q is killed (fails L2).
 *  BUG_KOR_TWICE      ph_life_kill_now() (tracking's early kill) does not
 *                     mark kor_sent: the release kills again (fails L1).
 *  BUG_NO_WAIT_FIRING ph_life_release() does not wait for a firing in
 *                     progress (ph_life_wait_firing()): the firing's
 *                     handle reference can be the last (fails L4).
 *
 * Granularity as in prochandle.pml: one step per atomic access or per
 * critical section of a spinlock; the mutexes (ph_table.life_lock,
 * ph_dl_lock) are variables, held across steps.  Not modelled: the
 * hrtimer and its slack (the work runs whenever something is queued),
 * credentials and kills_refused, several handles or tables (each handle's
 * life is its own; they share only ph_dl_lock and the queue).
 */

#ifndef NA
#define NA	2
#endif

/* ---- the process P ---- */
#define RUNNING	0	/* has not begun to exit */
#define EXITING	1	/* do_group_exit(): SIGNAL_GROUP_EXIT set */
#define EXITED	2	/* exit_notify(): the exit is reported */
#define REAPED	3	/* release_task(): the pid has no task */
byte pstate;
bool q_exists;			/* Q has P's old number */
bool q_signalled;		/* L2 */
byte n_sigkill_taken;		/* fatal signals that took effect on P */

/* ---- handle 0 ---- */
byte h_ref = 1;			/* the table's reference */
bool h_released;		/* PH_HF_RELEASED */
bool h_in_table = true;		/* the xarray maps its id */
bool h_freed;			/* ph_handle_free() ran */
bool h_track = true;		/* PH_HF_TRACK (with TRACKED) */
bool rel_done;			/* a release (RELEASE or close) returned */

/* ---- its struct ph_life ---- */
byte l_ref = 2;			/* @lives' entry + the queued deadline */
bool l_in_lives = true;		/* in ph_table.lives */
bool l_kor = true;		/* ->kor_cred: kill on release */
bool l_kor_sent;		/* ->kor_sent */
bool l_queued = true;		/* ->queued: in the timerqueue */
bool l_escalate;		/* ->escalate: the queued one is the SIGKILL */
bool l_firing;			/* ->firing */
byte l_gen;			/* ->gen */
bool l_dl;			/* ->dl_cred: a deadline is armed */
bool l_freed;
byte n_kor_kills;		/* L1: kill_pid() calls by kill on release */
byte n_kills;			/* the sysfs counter kills */

/* ---- locks (mutexes) ---- */
bool life_lock;			/* ph_table.life_lock */
bool dl_lock;			/* ph_dl_lock */

byte actors_done;
bool closed;
bool dl_ended;			/* the deadline work has nothing more to do */

#define lock(m)		atomic { !m -> m = true }
#define unlock(m)	m = false

/*
 * P: runs until it exits by itself or SIGKILL takes effect (end_running:
 * it may also run on forever, a valid end), then its exit is reported,
 * it is reaped, and its number may go to Q.
 */
proctype process()
{
end_running:
	if
	:: atomic { pstate == RUNNING -> pstate = EXITING }	/* exit(2) */
	:: pstate == EXITING		/* a fatal signal took effect */
	fi;
	pstate = EXITED;		/* exit_notify(): ph_watch_wake() */
	pstate = REAPED;		/* its parent's wait(): release_task() */
	q_exists = true			/* fork() hands out the number again */
}

/*
 * kill_pid(h->rec->pid, sig, 0): the kernel's side of a kill through the
 * handle's struct pid; sets err (0 or ESRCH = 1).  A fatal signal to a
 * running group starts its exit; any signal to a group already exiting is
 * dropped (prepare_signal()).  The catchable deadline signal may or may
 * not end P (a handler).
 */
inline kill_pid(fatal)
{
	atomic {
		if
		:: pstate == REAPED -> err = 1
		:: pstate != REAPED -> err = 0;
			if
			:: pstate == RUNNING && fatal ->
				pstate = EXITING; n_sigkill_taken++
			:: pstate == RUNNING && !fatal -> pstate = EXITING
			:: pstate == RUNNING && !fatal	/* handled */
			:: else				/* dropped */
			fi
		fi
	}
}

/*
 * ph_life_kill(): ph_handle_state() says RUNNING (a step of its own: the
 * answer may be stale when the kill happens), then kill_pid() under the
 * saved credentials; counts kills.  sets err.
 */
inline life_kill(fatal)
{
	if
	:: pstate >= EXITED -> err = 1		/* ph_watch_exited(): -ESRCH */
	:: else ->
#ifndef BUG_KILL_BY_NUMBER
		kill_pid(fatal);
#else
		atomic {		/* the number names whoever has it now */
			if
			:: q_exists -> q_signalled = true; err = 0
			:: else -> kill_pid(fatal)
			fi
		}
#endif
		atomic {
			assert(!q_signalled);			/* L2 */
			if
			:: err == 0 -> n_kills++
			:: else
			fi
		}
	fi
}

/* ph_handle_put(): kref_put(); the last frees the handle. */
inline handle_put()
{
	atomic {
		assert(h_ref > 0 && !h_freed);
		h_ref--;
		if
		:: h_ref == 0 ->			/* ph_handle_free() */
			assert(!h_in_table && h_released);
			h_freed = true
		:: else
		fi
	}
}

/* ph_life_put(): the last reference frees the life and its creds. */
inline life_put()
{
	atomic {
		assert(l_ref > 0 && !l_freed);
		l_ref--;
		if
		:: l_ref == 0 -> assert(!l_queued && !l_in_lives); l_freed = true
		:: else
		fi
	}
}

/* ph_dl_dequeue() under ph_dl_lock: gen++, out of the queue; sets got. */
inline dl_dequeue()
{
	l_gen++;
	got = l_queued;
	l_queued = false
}

/* The kill on release a handle owes, with the life's kor_sent check. */
inline kor_kill()
{
	if
	:: l_kor && !l_kor_sent ->
		life_kill(true);
		n_kor_kills++;
		assert(n_kor_kills == 1)			/* L1 */
	:: else
	fi
}

/*
 * ph_life_kill_now() (track.c's ph_track_release(), before it unlinks
 * the tracker): under life_lock, claim the kill (kor_sent), then kill.
 */
inline life_kill_now()
{
	lock(life_lock);
	got = (l_in_lives && l_kor && !l_kor_sent);
#ifndef BUG_KOR_TWICE
	l_kor_sent = l_kor_sent || got;
#endif
	unlock(life_lock);
	if
	:: got -> got = false;
		life_kill(true);
		n_kor_kills++;
		assert(n_kor_kills == 1)			/* L1 */
	:: else
	fi
}

/*
 * ph_life_release(t, h, true): out of @lives under life_lock; its deadline
 * dequeued under ph_dl_lock (the queue's reference dropped, never the
 * last); wait for a firing in progress; kill on release unless sent.
 */
inline life_release()
{
	lock(life_lock);
	mine = l_in_lives;			/* xa_erase() */
	l_in_lives = false;
	unlock(life_lock);
	if
	:: mine ->
		mine = false;
		lock(dl_lock);
		dl_dequeue();
		if
		:: got -> got = false;
			atomic { assert(l_ref > 1); l_ref-- }	/* refcount_dec() */
		:: else
		fi;
		unlock(dl_lock);
#ifndef BUG_NO_WAIT_FIRING
		!l_firing;				/* ph_life_wait_firing() */
#endif
		kor_kill();
		life_put()
	:: else
	fi
}

/* ph_track_release(): the early kill (the unlinking is track.pml's). */
inline track_release()
{
#ifdef TRACKED
	if
	:: h_track -> h_track = false; life_kill_now()
	:: else
	fi
#else
	skip
#endif
}

/*
 * PH_IOC_RELEASE: ph_handle_release().  ph_table_take(), one walk under
 * xa_lock: a published handle not yet released gets RELEASED (fetch_or:
 * one winner) and leaves the table, whose reference passes to the winner;
 * it stops tracking, cancels and kills, then puts that reference.
 */
inline ioc_release()
{
	atomic {
		ok = h_in_table && !h_released;
		if
		:: ok ->
			assert(h_ref > 0);
			h_released = true;
			h_in_table = false		/* xas_store(NULL) */
		:: else				/* EBADF */
		fi
	}
	if
	:: ok ->
		ok = false;
		track_release();
		life_release();
		assert(pstate != RUNNING);		/* L3 */
		rel_done = true;
		handle_put()		/* the table's */
	:: else
	fi
}

/*
 * PH_IOC_DEADLINE: ph_life_arm() on handle 0 (ph_handle_get() as above):
 * re-arm (cancel false) or cancel.  The life has kill on release, so a
 * cancel leaves it in @lives.
 */
inline ioc_deadline(cancel)
{
	atomic {
		ok = h_in_table && h_ref > 0 && !h_released;
		if
		:: ok -> h_ref++
		:: else
		fi
	}
	if
	:: ok ->
		ok = false;
		lock(life_lock);
		if
		:: l_in_lives && !h_released ->		/* ph_life_of() */
			lock(dl_lock);
			dl_dequeue();
			l_dl = !cancel;
			if
			:: !cancel ->			/* ph_dl_queue() */
				l_escalate = false;
				atomic { assert(l_ref > 0); l_ref++; l_queued = true }
			:: else
			fi;
			unlock(dl_lock);
			if
			:: got -> got = false;		/* @lives holds one */
				atomic { assert(l_ref > 1); l_ref-- }
			:: else
			fi
		:: else					/* EBADF */
		fi;
		unlock(life_lock);
		handle_put()
	:: else
	fi
}

/*
 * ph_dl_fire(): while a deadline is queued (and expired: any moment), take
 * it out with the queue's reference and ph_dl_fire_one() it.  Ends when
 * nothing is queued (the hrtimer is not re-armed) or at any moment (the
 * deadline lies beyond the end).
 */
proctype dl_work()
{
	bool esc, err, last;
	byte gen;

	do
	:: lock(dl_lock);
		if
		:: l_queued ->
			l_queued = false;		/* timerqueue_del() */
			/* ph_dl_fire_one(): alive, queued until just now */
			atomic { assert(h_ref > 0 && !h_freed); h_ref++ };
			l_firing = true;
			esc = l_escalate;
			gen = l_gen;
			unlock(dl_lock);
			life_kill(esc);			/* SIGKILL or ->sig */
			lock(dl_lock);
			if
			:: l_gen == gen && !esc && !h_released &&
			   pstate < EXITED ->		/* still running */
				l_escalate = true;
				atomic { l_ref++; l_queued = true }
			:: else
			fi;
			unlock(dl_lock);
			atomic {			/* never the last: L4 */
				assert(h_ref > 1 && !h_freed);
				h_ref--
			}
			lock(dl_lock);
			l_firing = false;
			unlock(dl_lock);
			life_put()			/* the queue's */
		:: else -> unlock(dl_lock); break
		fi
	:: break
	od;
	dl_ended = true
}

/*
 * The last close(): ph_release() once no call is in flight:
 * ph_track_close() (RELEASED, the early kill), then for each handle still
 * in the table: RELEASED, ph_life_release(kill), the table's put.
 */
proctype file_close()
{
	bool ok, got, mine, err, last;

	actors_done == NA;
	if
	:: h_in_table ->
		h_released = true;
		track_release();
		h_in_table = false;
		life_release();
		assert(pstate != RUNNING);			/* L3 */
		rel_done = true;
		handle_put()
	:: else
	fi;
	closed = true
}

proctype actor(byte me)
{
	bool ok, got, mine, err, last;

	if
	:: ioc_release()
	:: ioc_deadline(false)
	:: ioc_deadline(true)
	:: skip
	fi;
	actors_done++
}

init {
	byte a;

	atomic {
		l_dl = true;
		a = 1;
		do
		:: a <= NA -> run actor(a); a++
		:: else -> break
		od;
		run process();
		run dl_work();
		run file_close()
	}
	/* L5: once the file is closed and the deadline work done. */
	(closed && dl_ended);
	assert(h_freed && l_freed && rel_done && !l_queued && !l_firing &&
	       h_ref == 0 && l_ref == 0 && n_kor_kills <= 1 && !q_signalled)
}
