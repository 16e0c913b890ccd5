/*
 * SPDX-License-Identifier: GPL-2.0
 *
 * A Promela model of the prochandle protocols as module/ implements them,
 * step by atomic step: the handle (module/handle.c: lookup and transient
 * reference, RELEASE, WAIT to DONE, the process reference), the exit watch
 * (module/watch.c: recording an exit in the exit path, which delivers the
 * first batch of handles itself, its own delivery work item for the rest,
 * a WAIT delivering its own handle), the event queue
 * (module/events.c: queue, remove, take/untake; module/read.c: the read
 * around them) and the last
 * close of the file (module/table.c).  Every step names the function it
 * mirrors.  model/README.md says how to run it and what it found.
 *
 * The world: one process with one exit watch; one open file (one table)
 * holding handle 0 from the start; NA user threads ("actors") that each
 * make NOPS calls chosen nondeterministically among RELEASE, WAIT
 * (blocking, with a timeout; with ALL_CALLS also no-hang, and INFO, which
 * stands for SIGNAL too), read() (whose copy to user space may fault),
 * and, once in the whole run (unless NO_ACQUIRE), ACQUIRE of a second
 * handle (1) on the same process.  Beside them: the exiting process (its
 * exit path runs the watch's wake-up callback once, at any moment, which
 * delivers a batch of BATCH handles itself: one here, PH_DELIVER_BATCH in
 * the code, so that with both handles linked the work item serves the
 * other), the delivery work item it queues only for handles left, the RCU
 * grace periods that free memory, and the last close() of the file once
 * every call has returned.
 *
 * Checked in every interleaving (spin -a; pan, exhaustive, safety):
 *   P1 process references dropped exactly once (n_proc_drops), the watch
 *      never used after its last reference (freed after a grace period);
 *   P2 no use of a handle after its last reference (kref_get on zero,
 *      freed memory), no double free;
 *   P3 no new call succeeds after a RELEASE returned (rel_returned);
 *   P4 DONE and RELEASED each entered at most once;
 *   P5 each exit event queued and read at most once, never taken by a read
 *      after the handle's RELEASE returned, never left queued on a freed
 *      handle (the WARN_ON_ONCE in ph_handle_free());
 *   P6 no deadlock and no lost wake-up: every run ends with every actor
 *      finished (pan reports an "invalid end state" otherwise: a WAIT
 *      asleep on an exited process, a spin that never ends);
 *   P7 at the end everything is freed: handles, watch, every reference
 *      (the sysfs counters back at baseline);
 *   P8 a WAIT that returns a status returns after its handle's process
 *      reference is gone (SPEC 8: task_refs no longer counts it, SIGNAL
 *      fails ESRCH), for concurrent WAITs too.
 *   P9 a peek (step 1a: INFO, SIGNAL, the no-hang WAIT's first look)
 *      reads no freed handle or watch, takes and drops no reference, does
 *      not succeed after a RELEASE that returned before it started (P3),
 *      and never reports DONE for a handle no WAIT made DONE (a NULL
 *      ->watch left by the free of a released handle).
 *  P10 every handle linked when the exit is recorded is delivered once the
 *      exit path and the work item it queued (if any) have run: none is
 *      left on the watch's list (checked by the proctype delivered()).
 *
 * Seeded bugs (make model requires each to fail, with a trail):
 *   BUG_CHECK_THEN_INC   ph_handle_get() checks RELEASED, then takes its
 *                        reference with kref_get() (the race Go's
 *                        os.Process handle had).
 *   BUG_DELIVER_RELEASED ph_events_queue() queues the event without
 *                        looking at RELEASED under ev_lock.
 *   BUG_WAIT_EARLY       of concurrent WAITs, the one that did not take
 *                        ->watch returns before the other dropped it (the
 *                        code before #18: fails P8).
 *   BUG_LOST_WAKEUP      WAIT checks for the exit before it queues itself
 *                        on ->waiters (fails P6: asleep forever).
 *   BUG_WRONG_COUNTER    the watch is freed when its last *handle* lets go
 *                        (a count of handles), not when its refcount, which
 *                        also counts the queued delivery and waiting WAITs,
 *                        reaches zero ("last one frees" decided by the
 *                        wrong counter, as in Go's span set).
 *   BUG_PEEK_NO_RECHECK  ph_handle_peek() does not read PH_HF_RELEASED
 *                        again after it found ->watch NULL (fails P9:
 *                        DONE reported, with a status nobody wrote, for a
 *                        handle freed under the peek).
 *   BUG_PEEK_AFTER_UNLOCK INFO reads the handle's record after
 *                        rcu_read_unlock() (fails P2: freed memory).
 *   BUG_NO_REST          the exit path delivers its batch and never
 *                        queues the work item for the handles left
 *                        (fails P10).
 *
 * Granularity: each Promela step is one atomic access of the code, or one
 * whole critical section of a spinlock whose body reads at most one
 * variable that can change under it (w_exit and RELEASED only ever go one
 * way, so reading them inside or just outside is the same); such locks
 * (the watch's, ev_lock, the wait queues') are therefore not variables.
 * Not modelled: memory ordering (spin is sequentially consistent; the
 * barriers named in the code are what give the kernel that), lock order
 * and interrupts (watch.c states the order; lockdep checks it), the order
 * of events of several processes in one table (one process here), a
 * second watch for the same process (a dying watch replaced in the hash), ids
 * and the xarray beyond "in the table or not", signals other than a
 * timeout, the timed-WAIT memo (wait.c), fdinfo, pid namespaces.
 */

#ifndef NA
#define NA	3	/* concurrent user threads */
#endif
#ifndef NOPS
#define NOPS	1	/* calls per thread */
#endif
#define NH	2	/* handle 0 exists at start; 1 may be acquired */
#define BATCH	1	/* handles the exit path delivers (PH_DELIVER_BATCH) */

/* ---- the handles (struct ph_handle), indexed by handle ---- */
byte h_ref[NH];			/* kref: the table's + one per call */
bool h_released[NH];		/* PH_HF_RELEASED */
bool h_done[NH];		/* PH_HF_DONE */
bool h_watch[NH];		/* ->watch is not NULL (process reference) */
bool h_in_table[NH];		/* the xarray maps the id to it */
bool h_exists[NH];		/* allocated (ph_handle_new() ran) */
bool h_dead[NH];		/* ph_handle_free() ran */
bool h_mem_freed[NH];		/* its RCU callback freed the memory */
bool h_on_watch[NH];		/* PH_HF_ON_WATCH */
bool h_on_events[NH];		/* PH_HF_ON_EVENTS */
bool h_status[NH];		/* ->status written by a WAIT (set_done) */
byte n_released[NH];		/* times RELEASED was entered */
byte n_done[NH];		/* times DONE was entered */
byte n_proc_drops[NH];		/* process references dropped */
byte n_queued[NH];		/* events queued */
byte n_read[NH];		/* events returned by read() */
bool rel_returned[NH];		/* a RELEASE of it has returned 0 */
bool acquired;			/* the one ACQUIRE was made */

/* ---- the exit watch (struct ph_watch) ---- */
#define RECORDING	1
#define RECORDED	2
byte w_ref = 1;			/* refcount: handle 0's process reference */
byte w_users = 1;		/* handles holding it (BUG_WRONG_COUNTER) */
byte w_exit;			/* ->exit: 0, PH_EXIT_RECORDING, _RECORDED */
bool w_on_wq = true;		/* ->wqe is on pid->wait_pidfd */
bool wq_locked;			/* pid->wait_pidfd.lock, held by the exit path */
bool w_dead;			/* its refcount hit zero, teardown ran */
bool w_mem_freed;		/* its RCU callback freed the memory */
bool exit_done;			/* the exit path's callback has returned */
byte n_work;			/* delivery work items queued, not finished */

/* ---- the table (struct ph_table) ---- */
byte actors_done;		/* calls finished: the file can be closed */
bool closed;			/* ph_release() finished */

/* An actor sleeping in WAIT on the watch's ->waiters. */
bool waiting[NA + 1];		/* on the queue (prepare_to_wait) */
bool asleep[NA + 1];		/* not woken since */

/* RCU: who is inside rcu_read_lock(), and how many sections each left. */
bool rcu_in[NA + 1];
byte rcu_gen[NA + 1];

/*
 * call_rcu(): wait for a grace period (every actor that was inside a
 * read-side section when it was called has left it), then free.
 */
#define GP_OVER(a)	(snap[a] == 0 || rcu_gen[a] != snap[a] - 1)
proctype rcu_free(byte what)	/* 0..NH-1: a handle; NH: the watch */
{
	byte snap[4];

	d_step {
		snap[1] = (rcu_in[1] -> rcu_gen[1] + 1 : 0);
#if NA > 1
		snap[2] = (rcu_in[2] -> rcu_gen[2] + 1 : 0);
#endif
#if NA > 2
		snap[3] = (rcu_in[3] -> rcu_gen[3] + 1 : 0);
#endif
	}
	atomic {
		GP_OVER(1) && GP_OVER(2) && GP_OVER(3) ->
		if
		:: what < NH -> h_mem_freed[what] = true	/* ph_handle_free_rcu() */
		:: else -> w_mem_freed = true			/* ph_watch_free_rcu() */
		fi
	}
}

/* ---------------- the exit watch: module/watch.c ---------------- */

/* The end of ph_watch_put(): out of the hash, off the pid's wait queue
 * (under its lock, so never while the exit path runs), call_rcu(). */
inline watch_teardown()
{
	assert(!w_dead);
	w_dead = true;
	atomic { !wq_locked -> w_on_wq = false };
	run rcu_free(NH)
}

/* ph_watch_put(). */
inline watch_put()
{
	atomic {				/* refcount_dec_and_test() */
		assert(w_ref > 0 && !w_mem_freed);
		w_ref--;
		last = (w_ref == 0)
	}
#ifdef BUG_WRONG_COUNTER
	last = false;	/* the handle count decides (drop_watch) */
#endif
	if
	:: last -> last = false; watch_teardown()
	:: else
	fi
}

/*
 * ph_watch_deliver() with ph_events_queue() (events.c), under the watch's
 * lock: the handle leaves the watch's list; if the exit is recorded its
 * event is queued under ev_lock, unless it was released.  (The wake-up of
 * readers that follows is not modelled: read() here never blocks.)
 */
inline watch_deliver(i)
{
	assert(!w_mem_freed && h_exists[i] && !h_mem_freed[i]);
	h_on_watch[i] = false;			/* list_del(), ON_WATCH off */
	if
	:: w_exit == RECORDED ->		/* ph_watch_exited() */
#ifndef BUG_DELIVER_RELEASED
		if
		:: !h_released[i] ->
#endif
			h_on_events[i] = true; n_queued[i]++;
			assert(n_queued[i] == 1)	/* P5 */
#ifndef BUG_DELIVER_RELEASED
		:: else
		fi
#endif
	:: else
	fi
}

/* ph_watch_unlink(): under the watch's lock, one step. */
inline watch_unlink(i)
{
	atomic {
		if
		:: h_on_watch[i] -> watch_deliver(i)
		:: else
		fi
	}
}

/* ph_watch_deliver_work(): the watch's own work item (one batch). */
proctype deliver_work()
{
	byte i;
	bool last;

	atomic {
		assert(!w_mem_freed);		/* P1: the work's reference */
		do
		:: i < NH && h_on_watch[i] -> watch_deliver(i); i++
		:: i < NH && !h_on_watch[i] -> i++
		:: i == NH -> break
		od;
		i = 0;
		n_work--
	}
	watch_put()
}

/* P10: once the exit path and its work item ran, nobody is left undelivered. */
proctype delivered()
{
	atomic {
		exit_done && n_work == 0 ->
		assert(!h_on_watch[0] && !h_on_watch[1])
	}
}

/*
 * The process exits: do_notify_pidfd() takes pid->wait_pidfd's lock and
 * runs ph_watch_wake(): if the exit is not recorded, record it
 * (ph_watch_record_exit(): cmpxchg 0 -> RECORDING, the sequence number,
 * then RECORDED), wake the WAITs on ->waiters, deliver the first BATCH
 * handles on the list under the watch's lock (ph_watch_deliver_batch()),
 * and only if handles are left queue the delivery work with a reference
 * (refcount_inc_not_zero(), queue_work()).
 */
proctype process_exit()
{
	byte a, n;
	bool go, more;

	atomic {
		if
		:: w_on_wq && w_exit == 0 ->
			assert(!w_mem_freed);
			wq_locked = true; go = true;
			w_exit = RECORDING
		:: else			/* no watch on the queue any more */
		fi
	}
	if
	:: go ->
		d_step {
			w_exit = RECORDED;	/* atomic64_set_release() */
			a = 1;			/* wake_up_all(&w->waiters) */
			do
			:: a <= NA -> if
				      :: waiting[a] -> asleep[a] = false
				      :: else
				      fi; a++
			:: else -> break
			od;
			a = 0
		}
		atomic {		/* ph_watch_deliver_batch() */
			assert(!w_mem_freed);
			do
			:: a < NH && n < BATCH && h_on_watch[a] ->
				watch_deliver(a); n++; a++
			:: a < NH && (n == BATCH || !h_on_watch[a]) ->
				more = more || h_on_watch[a]; a++
			:: a == NH -> break
			od;
			a = 0; n = 0
		}
		atomic {
			if
#ifndef BUG_NO_REST
			:: more && w_ref > 0 -> w_ref++; n_work++; run deliver_work()
#endif
			:: else		/* nobody left, or nobody holds it */
			fi;
			wq_locked = false; go = false; more = false
		}
	:: else
	fi;
	exit_done = true
}

/* ---------------- the handle: module/handle.c ---------------- */

/* ph_handle_drop_watch(): by whoever took ->watch (step 4). */
inline drop_watch(i)
{
	watch_unlink(i);
#ifndef BUG_WRONG_COUNTER
	watch_put();
#else
	atomic {	/* a reference given back, but the handles decide */
		assert(w_ref > 0 && !w_mem_freed);
		w_ref--; w_users--;
		last = (w_users == 0)
	}
	if
	:: last -> last = false; watch_teardown()
	:: else
	fi;
#endif
	n_proc_drops[i]++;			/* percpu_counter_dec(task_refs) */
	assert(n_proc_drops[i] == 1)		/* P1 */
}

/* ph_handle_free(): the last kref put (step 5). */
inline handle_free(i)
{
	assert(!h_dead[i]);			/* P2: freed once */
	h_dead[i] = true;
	atomic { got = h_watch[i]; h_watch[i] = false };	/* xchg() */
	if
	:: got -> got = false; drop_watch(i)
	:: else
	fi;
	assert(!h_on_events[i] && !h_on_watch[i]);	/* the WARN_ON_ONCE */
	run rcu_free(i)				/* call_rcu() */
}

/* ph_handle_put(): kref_put(). */
inline handle_put(i)
{
	atomic {
		assert(h_ref[i] > 0 && !h_mem_freed[i]);	/* P2 */
		h_ref[i]--;
		last = (h_ref[i] == 0)
	}
	if
	:: last -> last = false; handle_free(i)
	:: else
	fi
}

/*
 * ph_handle_get(): a new call's transient reference (step 1); sets ok.
 * xa_load() under RCU, kref_get_unless_zero(), rcu_read_unlock(), then
 * the RELEASED check.
 */
inline handle_get(i, me)
{
	atomic {
		after = rel_returned[i];
		rcu_in[me] = true;			/* rcu_read_lock() */
		ok = h_in_table[i]			/* xa_load() */
	}
#ifndef BUG_CHECK_THEN_INC
	atomic {
		if
		:: ok ->				/* kref_get_unless_zero() */
			assert(!h_mem_freed[i]);
			if
			:: h_ref[i] > 0 -> h_ref[i]++
			:: else -> ok = false
			fi
		:: else
		fi;
		rcu_in[me] = false; rcu_gen[me]++	/* rcu_read_unlock() */
	}
	if
	:: ok && h_released[i] -> handle_put(i); ok = false
	:: else
	fi;
#else
	if					/* check first ... */
	:: ok && h_released[i] -> ok = false
	:: else
	fi;
	atomic {
		if				/* ... then kref_get() */
		:: ok ->
			assert(!h_mem_freed[i]);
			assert(h_ref[i] > 0);	/* refcount: addition on 0 */
			h_ref[i]++
		:: else
		fi;
		rcu_in[me] = false; rcu_gen[me]++
	}
#endif
	atomic { assert(!ok || !after); after = false }	/* P3 */
}

/*
 * ph_handle_state(): sets st (0 RUNNING, 1 EXITED, 2 DONE):
 * rcu_dereference(h->watch), then ph_watch_exited() on it under RCU.
 */
inline handle_state(i, me)
{
	atomic {
		assert(h_ref[i] > 0 && !h_dead[i]);	/* the caller's ref */
		rcu_in[me] = true;
		got = h_watch[i];
		st = 2
	}
	atomic {
		if
		:: got -> assert(!w_mem_freed);
			  st = (w_exit == RECORDED -> 1 : 0)
		:: else
		fi;
		got = false;
		rcu_in[me] = false; rcu_gen[me]++
	}
}

/*
 * ph_handle_set_done() (step 3): take ->watch with xchg(); the taker
 * drops it (delivering the handle's event if the work item has not yet),
 * then sets DONE; a WAIT that found it taken spins until DONE.
 */
inline handle_set_done(i)
{
	atomic {	/* WRITE_ONCE(h->status), xchg(): a full barrier */
		h_status[i] = true;
		got = h_watch[i]; h_watch[i] = false
	};
	if
	:: got ->
		got = false;
		drop_watch(i);
		atomic {			/* atomic_or(PH_HF_DONE) */
			assert(!h_done[i] && w_exit == RECORDED);	/* P4 */
			h_done[i] = true; n_done[i]++
		}
#ifndef BUG_WAIT_EARLY
	:: else -> h_done[i]			/* atomic_cond_read_acquire() */
#else
	:: else		/* before #18: the loser returned at once */
#endif
	fi;
	assert(n_proc_drops[i] == 1)		/* P8 */
}

/*
 * PH_IOC_WAIT: ph_ioc_wait() -> ph_handle_wait() -> ph_handle_set_done().
 * mode 0 blocks, 1 is PH_WAIT_NOHANG, 2 PH_WAIT_TIMEOUT (its timer may
 * expire whenever it sleeps).  The WAIT sleeps on the watch's ->waiters
 * with a reference of its own on the watch (ph_handle_watch()).
 */
inline ioc_wait(i, mode, me)
{
	if			/* PH_WAIT_NOHANG: ph_handle_peek() first (1a) */
	:: mode == 1 ->
		handle_peek(i, me);
		peek_end(me);
		if
		:: ok && st != 0 -> ok = false; st = 0; handle_get(i, me)
		:: else -> ok = false; st = 0	/* EBADF, EAGAIN */
		fi
	:: mode != 1 -> handle_get(i, me)
	fi;
	if
	:: ok ->
		ok = false;
		handle_state(i, me);
		if
		:: st == 0 && mode != 1 ->
			atomic {			/* ph_handle_watch() */
				rcu_in[me] = true;
				got = h_watch[i]
			}
			atomic {
				if
				:: got -> assert(!w_mem_freed);
					  if
					  :: w_ref > 0 -> w_ref++
					  :: else -> got = false
					  fi
				:: else
				fi;
				rcu_in[me] = false; rcu_gen[me]++
			}
			if
			:: got ->
				do
#ifndef BUG_LOST_WAKEUP
				:: atomic {		/* prepare_to_wait() */
					waiting[me] = true; asleep[me] = true
				   };
				   if			/* ph_watch_exited() */
				   :: w_exit == RECORDED -> st = 1; break
				   :: else
				   fi;
#else
				:: if			/* checked first ... */
				   :: w_exit == RECORDED -> st = 1; break
				   :: else
				   fi;
				   atomic {		/* ... then queued */
					waiting[me] = true; asleep[me] = true
				   };
#endif
				   if
				   :: !asleep[me]	/* schedule(): woken */
				   :: mode == 2 ->	/* the timer expired */
					st = (w_exit == RECORDED -> 1 : 0);
					break
				   fi
				od;
				atomic { waiting[me] = false; asleep[me] = false };
				got = false;
				watch_put()
			:: else -> handle_state(i, me)	/* DONE meanwhile */
			fi
		:: else			/* not running, or EAGAIN */
		fi;
		if
		:: st != 0 -> st = 0; handle_set_done(i)
		:: else
		fi;
		handle_put(i)
	:: else						/* EBADF */
	fi
}

/*
 * Step 1a, ph_handle_peek() (inline in prochandle.h), called under rcu_read_lock()
 * (which the caller then holds until it is done with the handle): lookup,
 * the RELEASED check, ph_handle_state_rcu(), and if ->watch was NULL the
 * RELEASED check again.  No reference, no write to the handle (it never
 * touches h_ref).  Sets ok and st (0 RUNNING, 1 EXITED, 2 DONE); leaves
 * the RCU section open: the caller ends it with peek_end().
 */
inline handle_peek(i, me)
{
	atomic {
		after = rel_returned[i];
		rcu_in[me] = true;			/* rcu_read_lock() */
		ok = h_in_table[i]			/* ph_handle_lookup() */
	}
	atomic {				/* atomic_read(&h->flags) */
		if
		:: ok -> assert(!h_mem_freed[i]); ok = !h_released[i]
		:: else
		fi
	}
	atomic {				/* rcu_dereference(h->watch) */
		if
		:: ok -> assert(!h_mem_freed[i]); got = h_watch[i]; st = 2
		:: else
		fi
	}
	atomic {				/* ph_watch_exited() */
		if
		:: got -> assert(!w_mem_freed);
			  st = (w_exit == RECORDED -> 1 : 0)
		:: else
		fi;
		got = false
	}
#ifndef BUG_PEEK_NO_RECHECK
	atomic {			/* DONE: PH_HF_RELEASED read again */
		if
		:: ok && st == 2 -> assert(!h_mem_freed[i]);
				    ok = !h_released[i]
		:: else
		fi
	}
#endif
	atomic {
		assert(!ok || !after);			/* P3 */
		assert(!ok || st != 2 || h_status[i]);	/* P9 */
		after = false
	}
}

/* The caller's rcu_read_unlock() after a peek. */
inline peek_end(me)
{
	atomic { rcu_in[me] = false; rcu_gen[me]++ }
}

/*
 * PH_IOC_INFO (and SIGNAL: ph_handle_signal() on what the peek found):
 * ph_ioc_info() peeks, reads h->rec, then rcu_read_unlock().
 */
inline ioc_info(i, me)
{
	handle_peek(i, me);
#ifdef BUG_PEEK_AFTER_UNLOCK
	peek_end(me);
#endif
	atomic {				/* h->rec->pid, start_time */
		if
		:: ok -> assert(!h_mem_freed[i])	/* P2 */
		:: else
		fi
	}
#ifndef BUG_PEEK_AFTER_UNLOCK
	peek_end(me);
#endif
	ok = false; st = 0
}

/* The last close: the id leaves the table, then ph_events_remove(). */
inline table_remove(i)
{
	h_in_table[i] = false;
	atomic { assert(h_released[i]); h_on_events[i] = false }
}

/*
 * PH_IOC_RELEASE: ph_handle_release() (step 2).  ph_table_take(), one walk
 * under xa_lock: a published handle not yet released gets RELEASED
 * (fetch_or: one winner) and leaves the table; the table's reference
 * passes to the caller, which takes none of its own.
 */
inline ioc_release(i, me)
{
	atomic {
		ok = h_in_table[i] && !h_released[i];
		if
		:: ok ->
			assert(!h_mem_freed[i]);
			h_released[i] = true; n_released[i]++;
			assert(n_released[i] == 1);	/* P4 */
			h_in_table[i] = false		/* xas_store(NULL) */
		:: else				/* EBADF */
		fi
	}
	if
	:: ok ->
		ok = false;
		atomic { h_on_events[i] = false };	/* ph_events_remove() */
		handle_put(i);		/* the table's */
		rel_returned[i] = true
	:: else
	fi
}

/*
 * PH_IOC_ACQUIRE of handle 1 on the same process: ph_handle_new() (its
 * ph_watch_get() finds the watch in the hash: refcount_inc_not_zero()),
 * ph_watch_link() (delivered at once if the exit is recorded), then
 * ph_table_publish().
 */
inline ioc_acquire()
{
	atomic {
		if
		:: w_ref > 0 && !w_dead ->	/* still in the hash */
			assert(!w_mem_freed);
			w_ref++; w_users++;
			h_exists[1] = true; h_ref[1] = 1; h_watch[1] = true;
			ok = true
		:: else
		fi
	}
	if
	:: ok ->
		ok = false;
		atomic {			/* ph_watch_link() */
			h_on_watch[1] = true;
			if
			:: w_exit == RECORDED -> watch_deliver(1)
			:: else
			fi
		}
		h_in_table[1] = true		/* ph_table_publish() */
	:: else
	fi
}

/* ------------ the event queue: module/events.c, module/read.c ------------ */

/*
 * read() of up to both events: ph_events_take() dequeues them under
 * ev_lock, each with a kref_get(); copy_to_user() may fail, then
 * ph_events_untake() puts back those not released since; then
 * ph_events_put().
 */
inline do_read()
{
	atomic {
		i = 0;
		do
		:: i < NH ->
			if
			:: h_on_events[i] ->
				assert(!rel_returned[i]);	/* P5 */
				assert(h_ref[i] > 0 && !h_mem_freed[i]);	/* kref_get() */
				h_on_events[i] = false; h_ref[i]++;
				peek = peek | (1 << i)
			:: else
			fi;
			i++
		:: else -> break
		od;
		i = 0
	}
	if
	:: peek -> skip			/* the copy worked */
		atomic {
			n_read[0] = n_read[0] + (peek & 1);
			n_read[1] = n_read[1] + (peek >> 1);
			assert(n_read[0] <= 1 && n_read[1] <= 1)	/* P5 */
		}
	:: peek ->			/* EFAULT: ph_events_untake() */
		atomic {
			if
			:: (peek & 1) && !h_released[0] -> h_on_events[0] = true
			:: else
			fi;
			if
			:: (peek & 2) && !h_released[1] -> h_on_events[1] = true
			:: else
			fi
		}
	:: else
	fi;
	if
	:: peek & 1 -> handle_put(0)
	:: else
	fi;
	if
	:: peek & 2 -> handle_put(1)
	:: else
	fi;
	peek = 0
}

/* ---------------- the file: module/table.c ---------------- */

/* The last close(): ph_release(), once no call is in flight. */
proctype file_close()
{
	byte i;
	bool got, last;

	actors_done == NA;
	do
	:: i < NH && h_in_table[i] ->		/* xa_for_each() */
		atomic {			/* atomic_or(RELEASED) */
			if
			:: !h_released[i] -> h_released[i] = true; n_released[i]++
			:: else
			fi;
			assert(n_released[i] == 1)
		}
		table_remove(i);
		handle_put(i);
		i++
	:: i < NH && !h_in_table[i] -> i++
	:: i == NH -> break
	od;
	closed = true
}

proctype actor(byte me)
{
	byte n, i, st, peek;
	bool ok, got, after, last;

	do
	:: n < NOPS ->
#if defined(ROLES_RELEASE)	/* concurrent RELEASEs of handle 0 */
		ioc_release(0, me);
#elif defined(ROLES_WAIT)	/* concurrent WAITs on handle 0 */
		if
		:: me < 3 -> ioc_wait(0, 0, me)
		:: me == 3 -> ioc_wait(0, 2, me)
		fi;
#elif defined(ROLES_MIXED)	/* a WAIT, a RELEASE, a read() */
		if
		:: me == 1 -> ioc_wait(0, 0, me)
		:: me == 2 -> ioc_release(0, me)
		:: me == 3 -> do_read()
		fi;
#elif defined(ROLES_PEEK)	/* INFO, RELEASE, a blocking WAIT */
		if
		:: me == 1 -> ioc_info(0, me)
		:: me == 2 -> ioc_release(0, me)
		:: me == 3 -> ioc_wait(0, 0, me)
		fi;
#else
		if				/* which handle */
		:: i = 0
		:: acquired -> i = 1
		fi;
		if
		:: ioc_release(i, me)
		:: ioc_wait(i, 0, me)
		:: ioc_wait(i, 2, me)
#ifdef ALL_CALLS	/* the peeks (step 1a), then the others' paths */
		:: ioc_wait(i, 1, me)
		:: ioc_info(i, me)
#endif
		:: i == 0 -> do_read()
#ifndef NO_ACQUIRE
		:: atomic { i == 0 && !acquired -> acquired = true }; ioc_acquire()
#endif
		fi;
#endif
		i = 0;
		n++
	:: else -> break
	od;
	actors_done++
}

init {
	byte a;

	atomic {
		h_exists[0] = true; h_ref[0] = 1; h_watch[0] = true;
		h_in_table[0] = true; h_on_watch[0] = true;
		a = 1;
		do
		:: a <= NA -> run actor(a); a++
		:: else -> break
		od;
		run process_exit();
		run delivered();
		run file_close()
	}
	/* P7: once everything has run, everything is freed. */
	(_nr_pr == 1);
	assert(closed && w_dead && w_mem_freed && w_ref == 0);
	a = 0;
	do
	:: a < NH ->
		assert(!h_exists[a] ||
		       (h_dead[a] && h_mem_freed[a] && n_proc_drops[a] == 1 &&
			!h_on_events[a] && !h_on_watch[a]));
		a++
	:: else -> break
	od
}
