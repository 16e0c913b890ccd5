/*
 * SPDX-License-Identifier: GPL-2.0
 *
 * A Promela model of tracking descendants (SPEC 12) as module/track.c
 * and module/fork.c implement it: the fork probe, the two task-work
 * callbacks of a fork (the child's and the forking thread's), the fork
 * work that makes the child's handle and its FORK record under the
 * parent's ph_track.mutex, the exec probe, and the table's last close
 * (ph_track_close(), then the handles).  Every step names the function it mirrors; model/README.md
 * says how to run it.  The handle protocol itself is model/prochandle.pml's:
 * here a handle is "published in the table" and "released".
 *
 * The world: one open file (table T) in format V2 with PH_EVENT_FORK and
 * PH_EVENT_EXEC in its mask, holding handle 0 on process P, acquired with
 * PH_ACQUIRE_TRACK (its tracker in T's @trackers and on P's
 * ph_track.trackers).  A chain of NP processes (default 3): P (process 0)
 * forks C (1), which forks G (2): each process may fork the next, may
 * execve (not P), and exits; a double fork (G of a C that exits at once)
 * is one of the runs.  The last close of T (its holder died) comes at any
 * moment.  Handle ids ascend down the chain, as ph_table_reserve() gives
 * them.
 * With FAULT, every allocation the code may fail does fail in some run:
 * the probe's struct ph_fork (GFP_ATOMIC), the FORK record, the child's
 * handle (ENOMEM, max_handles).
 *
 * The kernel's part: the probe (sched_process_fork) runs in the parent
 * after copy_process() and before wake_up_new_task(), so before the child
 * runs; task work runs before a task returns to user space and, in
 * do_exit(), before exit_notify(): a child runs its callback before its
 * first user instruction and before its exit is reported, a parent before
 * its own exit is reported.
 *
 * Checked in every interleaving:
 *  T1 no descendant escapes: every process of the chain has its handle in
 *     T before it runs a user instruction, or its loss, or an ancestor's,
 *     was reported (track_lost and, in V2, a FORK record with
 *     PH_EVENT_F_TRACK_LOST), or T's close had already stopped tracking
 *     its parent;
 *  T2 a child's FORK record is queued before any record of the child's
 *     own (EXEC, EXIT, its own FORK records);
 *  T3 a process's FORK record is queued before its EXIT record;
 *  T4 nothing is silently dropped: a tracked child has its FORK record; a
 *     fork the probe saw that gave no handle is counted in track_lost;
 *  T5 no tracker outlives its table (the exec probe and the fork work
 *     only reach a live T), the struct ph_fork is freed exactly once, by
 *     the last callback, after both ran; no deadlock.
 *
 * Seeded bugs (make model requires each to fail, with a trail):
 *  BUG_CHILD_RUNS_FIRST  the probe queues its work only on the forking
 *                        thread (no task work on the child): a child can
 *                        run, and fork, before its handle exists (fails
 *                        T1; with NP=3 a grandchild escapes untracked).
 *  BUG_EXIT_BEFORE_FORK  the forking thread's callback, when it comes
 *                        second, does not wait for the child's to finish
 *                        the work (no wait_for_completion()): a parent can
 *                        exit, and its EXIT be queued, before its FORK
 *                        record (fails T3).
 *  BUG_CLOSE_SNAPSHOT    ph_track_close() unlinks the trackers that were
 *                        in T when it started, missing the child's that a
 *                        fork work added meanwhile (fails T5: a tracker
 *                        left on a child's track points at the freed
 *                        table).
 *
 * Not modelled: more than one child per process (siblings take the same
 * steps under the same mutex, one after the other), several tables
 * tracking P, kill
 * on release of tracked handles (model/lifetime.pml; the early kill in
 * ph_track_release() and its known window, top of track.c), threads
 * (CLONE_THREAD is no fork) and kernel threads (never tracked), vfork
 * (the same callbacks, the parent asleep until the child execs or exits).
 */

#ifndef NP
#define NP	3	/* processes in the chain: P, C, G */
#endif

/* ---- each process of the chain, indexed 0 (P) .. NP-1 ---- */
bool tr_in_t[NP];		/* its tracker in T's @trackers */
bool tr_linked[NP];		/* ... on its ph_track.trackers */
bool unlinked[NP];		/* ... unlinked by T's close */
bool tk_mutex[NP];		/* its ph_track.mutex */
bool has_handle[NP];		/* its handle published in T */
bool released[NP];		/* PH_HF_RELEASED */
bool lost[NP];			/* its loss was reported */
bool excused[NP];		/* untracked, but its parent's tracking
				 * was stopped by the close or lost */

/* ---- the fork that made process i (i >= 1): struct ph_fork ---- */
bool probe_found[NP];		/* the probe found its parent tracked */
bool f_made[NP];		/* the probe allocated it */
byte f_ref[NP];			/* one per queued callback */
bool f_state[NP];		/* atomic_xchg()ed by the first callback */
bool f_done[NP];		/* complete_all(): the handles are made */
bool f_freed[NP];
bool cb_child[NP], cb_parent[NP];	/* task work queued */

/* ---- T's event queue (records of V2) and counters ---- */
bool rec_fork[NP];		/* the FORK record naming i's handle */
bool rec_exec[NP], rec_exit[NP];
byte track_lost;		/* the sysfs counter */
bool t_freed;			/* kfree(t) in ph_release() */
byte n_done;			/* processes that have exited */

#define lock(m)		atomic { !m -> m = true }
#define unlock(m)	m = false

#ifdef FAULT
#define MAY_FAIL	:: fail = true
#else
#define MAY_FAIL
#endif

/*
 * ph_events_lost() (T's preallocated TRACK_LOST record, never fails), or
 * a TRACK_LOST record of its own; counted in track_lost.
 */
inline report_lost(c)
{
	atomic {
		assert(!t_freed);
		assert(!rec_exit[c - 1]);				/* T3 */
		track_lost++; lost[c] = true
	}
}

/*
 * ph_track_new_child(): reserve an id, ph_handle_new(),
 * ph_track_attach() (the tracker into T's @trackers, then onto the child's
 * track under its mutex, nested in the parent's: tree order),
 * ph_watch_link(), ph_table_publish().  Sets fail on ENOMEM/EMFILE.
 */
inline new_child(c)
{
	if
	:: skip
	MAY_FAIL
	fi;
	if
	:: !fail ->
		tr_in_t[c] = true;			/* xa_insert() */
		lock(tk_mutex[c]);			/* mutex_lock_nested() */
		tr_linked[c] = true;			/* under tk->lock */
		unlock(tk_mutex[c]);
		atomic { assert(!t_freed); has_handle[c] = true }	/* publish */
	:: else
	fi
}

/* ph_events_queue_tev() of the FORK record naming c (T2, T3 now). */
inline queue_fork(c)
{
	atomic {
		assert(!t_freed);
		assert(!rec_exit[c - 1]);				/* T3 */
		assert(!rec_exec[c] && !rec_exit[c]);			/* T2 */
		assert(c + 1 >= NP || !rec_fork[c + 1]);		/* T2 */
		rec_fork[c] = true
	}
}

/*
 * ph_fork_run() for child c: under its parent's ph_track.mutex, for each
 * tracker of the parent (T's, if still linked): ph_track_child(): the
 * FORK record first (a tracked child always has one), then the child's
 * handle; on failure a TRACK_LOST record and track_lost.
 */
inline fork_run(c)
{
	lock(tk_mutex[c - 1]);
	if
	:: tr_linked[c - 1] ->
		assert(!t_freed);				/* T5 */
		if					/* ph_tev_new() */
		:: skip
		MAY_FAIL
		fi;
		if
		:: fail -> fail = false; report_lost(c)		/* goto lost */
		:: else ->
			new_child(c);
			if
			:: fail -> fail = false; report_lost(c)	/* TRACK_LOST */
			:: else -> queue_fork(c)
			fi
		fi
	:: else -> excused[c] = unlinked[c - 1]	/* the close stopped it */
	fi;
	unlock(tk_mutex[c - 1])
}

/* ph_fork_callback(): the first does the work, the other waits for it. */
inline fork_callback(c, is_parent)
{
	atomic { first = !f_state[c]; f_state[c] = true }	/* atomic_xchg() */
	if
	:: first -> first = false; fork_run(c); f_done[c] = true	/* complete_all() */
#ifndef BUG_EXIT_BEFORE_FORK
	:: else -> f_done[c]				/* wait_for_completion() */
#else
	:: else -> (f_done[c] || is_parent)
#endif
	fi;
	atomic {					/* ph_fork_put() */
		assert(f_ref[c] > 0 && !f_freed[c]);
		f_ref[c]--;
		if
		:: f_ref[c] == 0 -> f_freed[c] = true
		:: else
		fi
	}
}

/*
 * Process me: a child runs its task work on its way to user space (or in
 * do_exit() if it is killed first: the same order), then its first user
 * instruction; it may fork the next process of the chain (the probe in
 * it, wake_up_new_task(), its own task work on the way back), may execve
 * (the exec probe), and exits (its exit delivered to its handle).
 */
proctype proc(byte me)
{
	bool first, fail;
	byte c = me + 1;

	if
	:: me > 0 && cb_child[me] -> fork_callback(me, false)	/* ph_fork_child_cb() */
	:: else
	fi;
	atomic {
		assert(me == 0 || has_handle[me] || lost[me] || excused[me]);	/* T1 */
	}
	if
	:: c < NP ->
		atomic {	/* ph_track_fork_probe(): ph_track_find() */
			if
			:: tr_linked[me] ->
				probe_found[c] = true;
				if
				:: f_made[c] = true; f_ref[c] = 2;	/* kzalloc() */
#ifndef BUG_CHILD_RUNS_FIRST
					cb_child[c] = true;	/* task_work_add(child) */
#else
					f_ref[c] = 1;
#endif
					cb_parent[c] = true	/* task_work_add(parent) */
#ifdef FAULT
				:: report_lost(c)	/* ph_track_lost_all() */
#endif
				fi
			:: else		/* its parent is not tracked (any more) */
				excused[c] = unlinked[me] || lost[me] || excused[me]
			fi
		}
		run proc(c);				/* wake_up_new_task() */
		if
		:: cb_parent[c] -> fork_callback(c, true)	/* ph_fork_parent_cb() */
		:: else
		fi
	:: skip
	fi;
	if
	:: me > 0 ->
		atomic {		/* ph_track_exec_probe(), tk->lock */
			if
			:: tr_linked[me] ->
				assert(!t_freed);		/* T5 */
				assert(rec_fork[me]);		/* T2 */
				rec_exec[me] = true
			:: else
			fi
		}
	:: skip
	fi;
	atomic {		/* exit_notify(): its exit delivered to T */
		if
		:: has_handle[me] && !released[me] ->
			assert(!t_freed);
			assert(me == 0 || rec_fork[me]);	/* T2 */
			rec_exit[me] = true
		:: else
		fi;
		n_done++
	}
}

/*
 * The last close() of T (ph_release()), at any moment: ph_track_close()
 * walks @trackers by ascending id (down the chain), so it also visits a
 * tracker added while it runs: each RELEASED, out of @trackers, unlinked
 * under its process's mutex (so after a fork work in progress:
 * ph_track_release()); then every handle is released; then T is freed.
 */
proctype file_close()
{
	byte i;
#ifdef BUG_CLOSE_SNAPSHOT
	bool snap[NP];

	atomic {	/* the walk decides up front */
		do
		:: i < NP -> snap[i] = tr_in_t[i]; i++
		:: else -> break
		od;
		i = 0
	}
#endif
	do
	:: i < NP ->
		if
#ifndef BUG_CLOSE_SNAPSHOT
		:: tr_in_t[i] ->
#else
		:: snap[i] && tr_in_t[i] ->
#endif
			released[i] = true;
			tr_in_t[i] = false;		/* xa_erase() */
			lock(tk_mutex[i]);
			atomic {			/* list_del() */
				tr_linked[i] = false; unlinked[i] = true
			};
			unlock(tk_mutex[i])
		:: else
		fi;
		i++
	:: else -> break
	od;
	atomic {			/* xa_for_each(&t->handles) */
		i = 0;
		do
		:: i < NP -> released[i] = released[i] || has_handle[i]; i++
		:: else -> break
		od
	}
	atomic {			/* kfree(t): T5 */
		i = 0;
		do
		:: i < NP -> assert(!tr_linked[i]); i++
		:: else -> break
		od;
		t_freed = true
	}
}

init {
	byte i;

	atomic {
		tr_in_t[0] = true; tr_linked[0] = true; has_handle[0] = true;
		run proc(0);
		run file_close()
	}
	(_nr_pr == 1);
	assert(t_freed);
	do
	:: i < NP ->
		assert(!f_made[i] || f_freed[i]);			/* T5 */
		assert(!has_handle[i] || i == 0 || rec_fork[i]);	/* T4 */
		assert(!probe_found[i] || has_handle[i] || lost[i] ||
		       excused[i]);					/* T4 */
		i++
	:: else -> break
	od;
	assert(track_lost == lost[1] + lost[NP - 1] * (NP > 2))	/* T4 */
}
