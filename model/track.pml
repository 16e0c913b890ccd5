/*
 * SPDX-License-Identifier: GPL-2.0
 *
 * A Promela model of tracking descendants (SPEC 12) as module/track.c
 * implements it: the fork probe, the two task-work callbacks of a fork
 * (the child's and the forking thread's), the fork work that makes the
 * child's handle and its FORK record under the parent's ph_track.mutex,
 * the exec probe, and the table's last close (ph_track_close(), then the
 * handles).  Every step names the function it mirrors; model/README.md
 * says how to run it.  The handle protocol itself is model/prochandle.pml's:
 * here a handle is "published in the table" and "released".
 *
 * The world: one open file (table T) in format V2 with PH_EVENT_FORK and
 * PH_EVENT_EXEC in its mask, holding handle 0 on process P, acquired with
 * PH_ACQUIRE_TRACK (its tracker in T's @trackers and on P's
 * ph_track.trackers).  P forks once, making C, then exits.  C may execve,
 * then exits.  The last close of T (its holder died) comes at any moment.
 * With FAULT, every allocation the code may fail does fail in some run:
 * the probe's struct ph_fork (GFP_ATOMIC), the FORK record, the child's
 * handle (ENOMEM, max_handles).
 *
 * The kernel's part: the probe (sched_process_fork) runs in P after
 * copy_process() and before wake_up_new_task(), so before C runs; task
 * work runs before a task returns to user space and, in do_exit(), before
 * exit_notify(): C runs its callback before its first user instruction and
 * before its exit is reported, P before its own exit is reported.
 *
 * Checked in every interleaving:
 *  T1 a child of a tracked process has its handle in T before it runs a
 *     user instruction, or its loss was reported (track_lost and, in V2, a
 *     FORK record with PH_EVENT_F_TRACK_LOST), or T's close had already
 *     stopped the tracking;
 *  T2 C's FORK record is queued before any record of C's own (EXEC, EXIT);
 *  T3 P's FORK record is queued before P's EXIT record;
 *  T4 nothing is silently dropped: a tracked child has its FORK record; a
 *     fork the probe saw that gave no handle is counted in track_lost;
 *  T5 no tracker outlives its table (the exec probe and the fork work
 *     only reach a live T), the struct ph_fork is freed exactly once, by
 *     the last callback, after both ran; no deadlock.
 *
 * Seeded bugs (make model requires each to fail, with a trail):
 *  BUG_CHILD_RUNS_FIRST  the probe queues its work only on the forking
 *                        thread (no task work on the child): C can run
 *                        before its handle exists (fails T1).
 *  BUG_EXIT_BEFORE_FORK  the forking thread's callback, when it comes
 *                        second, does not wait for the child's to finish
 *                        the work (no wait_for_completion()): P can exit,
 *                        and its EXIT be queued, before its FORK record
 *                        (fails T3).
 *  BUG_CLOSE_SNAPSHOT    ph_track_close() unlinks the trackers that were
 *                        in T when it started, missing the child's that a
 *                        fork work added meanwhile (fails T5: a tracker
 *                        left on C's track points at the freed table).
 *
 * Not modelled: grandchildren (C forking: the same steps one level down,
 * nested under C's mutex in tree order), several tables tracking P, kill
 * on release of tracked handles (model/lifetime.pml; the early kill in
 * ph_track_release() and its known window, top of track.c), threads
 * (CLONE_THREAD is no fork) and kernel threads (never tracked), vfork
 * (the same callbacks, P asleep until C execs or exits).
 */

/* ---- P, handle 0, its tracker ---- */
bool trp_in_t = true;		/* in T's @trackers */
bool trp_linked = true;		/* on P's ph_track.trackers */
bool h0_released;		/* PH_HF_RELEASED */
bool tkp_mutex;			/* P's ph_track.mutex */

/* ---- the fork: struct ph_fork ---- */
bool probe_found;		/* the probe found P tracked */
bool f_made;			/* the probe allocated it */
byte f_ref;			/* one per queued callback */
bool f_state;			/* atomic_xchg()ed by the first callback */
bool f_done;			/* complete_all(): the handles are made */
bool f_freed;
bool cb_child, cb_parent;	/* task work queued on C, on P */
bool walk_missed;		/* ph_fork_run() found no tracker of P */

/* ---- C, its handle and tracker ---- */
bool c_handle;			/* published in T */
bool c_released;
bool trc_in_t;			/* its tracker in T's @trackers */
bool trc_linked;		/* on C's ph_track.trackers */
bool tkc_mutex;			/* C's ph_track.mutex */
bool c_lost;			/* its loss was reported */
bool c_ran;			/* it ran a user instruction */

/* ---- T's event queue (records of V2) and counters ---- */
bool rec_fork;			/* P's FORK record naming C's handle */
bool rec_lost;			/* a FORK record with TRACK_LOST */
bool rec_exec_c, rec_exit_c, rec_exit_p;
byte track_lost;		/* the sysfs counter */
bool t_freed;			/* kfree(t) in ph_release() */

#define lock(m)		atomic { !m -> m = true }
#define unlock(m)	m = false

#ifdef FAULT
#define MAY_FAIL	:: fail = true
#else
#define MAY_FAIL
#endif

/*
 * ph_events_lost(): T's preallocated TRACK_LOST record (never fails),
 * counted in track_lost by the caller.
 */
inline report_lost()
{
	atomic {
		assert(!t_freed);
		track_lost++; c_lost = true; rec_lost = true
	}
}

/*
 * ph_track_new_child(): reserve an id, ph_handle_new(),
 * ph_track_attach() (the tracker into T's @trackers, then onto C's track
 * under C's mutex, nested in P's: tree order), ph_watch_link(),
 * ph_table_publish().  Sets fail on ENOMEM/EMFILE.
 */
inline new_child()
{
	if
	:: skip
	MAY_FAIL
	fi;
	if
	:: !fail ->
		trc_in_t = true;			/* xa_insert() */
		lock(tkc_mutex);			/* mutex_lock_nested() */
		trc_linked = true;			/* under tk->lock */
		unlock(tkc_mutex);
		atomic { assert(!t_freed); c_handle = true }	/* publish */
	:: else
	fi
}

/* ph_events_queue_tev() of the FORK record (T2, T3 at this moment). */
inline queue_fork(lost)
{
	atomic {
		assert(!t_freed);
		assert(!rec_exit_p);				/* T3 */
		assert(!rec_exec_c && !rec_exit_c);		/* T2 */
		if
		:: lost -> rec_lost = true
		:: else -> rec_fork = true
		fi
	}
}

/*
 * ph_fork_run(): under P's ph_track.mutex, for each tracker of P (T's, if
 * still linked): ph_track_child(): the FORK record first (a tracked child
 * always has one), then the child's handle; on failure a TRACK_LOST
 * record (its own, or T's preallocated one) and track_lost.
 */
inline fork_run()
{
	lock(tkp_mutex);
	if
	:: trp_linked ->
		assert(!t_freed);				/* T5 */
		if					/* ph_tev_new() */
		:: skip
		MAY_FAIL
		fi;
		if
		:: fail -> fail = false; report_lost()		/* goto lost */
		:: else ->
			new_child();
			if
			:: fail -> fail = false;
				atomic { track_lost++; c_lost = true };
				queue_fork(true)	/* e->flags = TRACK_LOST */
			:: else -> queue_fork(false)
			fi
		fi
	:: else -> walk_missed = true		/* the close stopped it */
	fi;
	unlock(tkp_mutex)
}

/* ph_fork_callback(): the first does the work, the other waits for it. */
inline fork_callback(is_parent)
{
	atomic { first = !f_state; f_state = true }	/* atomic_xchg() */
	if
	:: first -> first = false; fork_run(); f_done = true	/* complete_all() */
#ifndef BUG_EXIT_BEFORE_FORK
	:: else -> f_done				/* wait_for_completion() */
#else
	:: else -> (f_done || is_parent)
#endif
	fi;
	atomic {					/* ph_fork_put() */
		assert(f_ref > 0 && !f_freed);
		f_ref--;
		if
		:: f_ref == 0 -> f_freed = true
		:: else
		fi
	}
}

/*
 * C: woken after the probe.  Its task work runs on its way to user space
 * (or in do_exit() if it is killed first: the same order), then its first
 * user instruction, perhaps an execve (the exec probe), then its exit.
 */
proctype child()
{
	bool first, fail;

	if
	:: cb_child -> fork_callback(false)	/* ph_fork_child_cb() */
	:: else
	fi;
	atomic {
		c_ran = true;
		assert(!probe_found || c_handle || c_lost || walk_missed)	/* T1 */
	}
	if
	:: atomic {			/* ph_track_exec_probe(), tk->lock */
		if
		:: trc_linked ->
			assert(!t_freed);			/* T5 */
			assert(rec_fork);			/* T2 */
			rec_exec_c = true
		:: else
		fi
	   }
	:: skip
	fi;
	atomic {		/* exit_notify(): its exit delivered to T */
		if
		:: c_handle && !c_released ->
			assert(!t_freed && rec_fork);		/* T2 */
			rec_exit_c = true
		:: else
		fi
	}
}

/*
 * P: fork() (the probe, then wake_up_new_task()), its task work on the way
 * back to user space (or in do_exit()), then its exit.
 */
proctype parent()
{
	bool first, fail;

	atomic {		/* ph_track_fork_probe(): ph_track_find() */
		if
		:: trp_linked ->
			probe_found = true;
			if
			:: f_made = true; f_ref = 2;		/* kzalloc() */
#ifndef BUG_CHILD_RUNS_FIRST
				cb_child = true;		/* task_work_add(child) */
#else
				f_ref = 1;
#endif
				cb_parent = true		/* task_work_add(parent) */
#ifdef FAULT
			:: report_lost()		/* ph_track_lost_all() */
#endif
			fi
		:: else			/* untracked by now: nothing */
		fi
	}
	run child();					/* wake_up_new_task() */
	if
	:: cb_parent -> fork_callback(true)	/* ph_fork_parent_cb() */
	:: else
	fi;
	atomic {		/* exit_notify(): its exit delivered to T */
		if
		:: !h0_released -> assert(!t_freed); rec_exit_p = true
		:: else
		fi
	}
}

/*
 * The last close() of T (ph_release()), at any moment: ph_track_close()
 * walks @trackers by ascending id, so it also visits a tracker added
 * while it runs: each RELEASED, out of @trackers, unlinked under its
 * process's mutex (so after a fork work in progress: ph_track_release());
 * then every handle is released; then T is freed.
 */
proctype file_close()
{
#ifdef BUG_CLOSE_SNAPSHOT
	bool snap_c = trc_in_t;		/* the walk decided up front */
#endif
	if				/* handle 0's tracker (the lowest id) */
	:: trp_in_t ->
		h0_released = true;
		trp_in_t = false;			/* xa_erase() */
		lock(tkp_mutex);
		trp_linked = false;			/* list_del() */
		unlock(tkp_mutex)
	:: else
	fi;
#ifndef BUG_CLOSE_SNAPSHOT
	if				/* C's, if a fork work added it */
	:: trc_in_t ->
#else
	if
	:: snap_c && trc_in_t ->
#endif
		c_released = true;
		trc_in_t = false;
		lock(tkc_mutex);
		trc_linked = false;
		unlock(tkc_mutex)
	:: else
	fi;
	atomic {			/* xa_for_each(&t->handles) */
		h0_released = true;
		c_released = c_released || c_handle
	}
	atomic {			/* kfree(t): T5 */
		assert(!trp_linked && !trc_linked);
		t_freed = true
	}
}

init {
	atomic {
		run parent();
		run file_close()
	}
	(_nr_pr == 1);
	assert(t_freed && c_ran);
	assert(!f_made || f_freed);				/* T5 */
	assert(!c_handle || rec_fork);				/* T4 */
	assert(!probe_found || c_handle || walk_missed ||
	       (c_lost && track_lost > 0))			/* T4 */
}
