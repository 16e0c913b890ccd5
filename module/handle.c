// SPDX-License-Identifier: GPL-2.0
/*
 * Handles: the refcount and status protocol.
 *
 * A handle follows Go's os.Process handle: a reference count plus a status
 * flag.  Here the count is ph_handle.ref, a kref holding
 *
 *   - one persistent reference owned by the table (the xarray entry), and
 *   - one transient reference per call in flight on the handle,
 *
 * and the status is ph_handle.flags: PH_HF_RELEASED and PH_HF_DONE bits
 * (the other PH_HF_* bits say which list ph_handle.node is on: watch.c,
 * events.c).  Whether the process has exited (RUNNING vs EXITED) is read
 * from its exit watch (watch.c).  The process reference is ph_handle.watch,
 * a counted reference on that watch (counted in the task_refs counter).
 *
 * Protocol:
 *  0. ACQUIRE (and tracking, fork.c) creates the handle with PH_HF_NEW set
 *     and stores it in the table (ph_table_reserve(), the id's one xarray
 *     store), sets it up (lifetime, tracking, the exit watch's list), then
 *     publishes it (ph_table_publish()): PH_HF_NEW is cleared, ordered
 *     after the setup (pairs with step 1's acquire read), and never set
 *     again.  Every lookup refuses a handle with PH_HF_NEW as it refuses a
 *     released one, so a handle is visible only once it is fully set up
 *     (a peek, step 1a, reads only fields written before the store).  One
 *     whose setup fails is taken back out (ph_table_unreserve()) before
 *     its reference is put.
 *  1. A new call takes its transient reference with ph_handle_get():
 *     RCU lookup, kref_get_unless_zero(), then the status check; a
 *     released handle is refused (EBADF) and its reference given back.
 *     Lookup, conditional get and check are the one safe step: the handle
 *     memory is freed only after an RCU grace period.  (A PH_HF_NEW handle
 *     is refused the same way.)
 *  1a. A call that changes nothing (INFO, SIGNAL, a no-hang WAIT on a
 *     running process) takes no reference: ph_handle_peek() (inline in
 *     prochandle.h) looks the handle up, checks PH_HF_RELEASED (and
 *     PH_HF_NEW) and reads its state inside one RCU read-side section,
 *     which the caller holds until it is done with the handle.  The handle, its watch and its
 *     record (with the struct pids the record names) are freed only after
 *     a grace period, so what it reads stays valid.  It may be reading a handle that is being
 *     released and freed meanwhile: the free drops the process reference
 *     (step 4) of a handle that never became DONE, so a peek that finds
 *     ->watch NULL reads PH_HF_RELEASED again after it (ordered by the
 *     barrier that orders ph_handle.status) and fails EBADF if it is set:
 *     the call is then ordered after the RELEASE, as step 1 would have
 *     refused it; otherwise before it.  A peek never writes to the handle.
 *  2. RELEASE takes no transient reference: ph_table_take() finds the
 *     handle, sets PH_HF_RELEASED with one atomic fetch_or (exactly one
 *     caller sees the bit clear and wins; the others get EBADF) and erases
 *     the id, in one xarray walk under the table's lock, and hands the
 *     table's reference to the winner.  The winner drops an unread event
 *     (events.c), stops tracking (track.c), cancels a deadline and kills on
 *     release (lifetime.c), then drops that reference.  From then on
 *     step 1 fails for every new call.
 *  3. A WAIT that returns a status makes the handle DONE: it caches the
 *     status in the handle and drops the process reference, which delivers
 *     the handle's event if the exit's delivery has not reached it yet
 *     (ph_watch_unlink()), then sets PH_HF_DONE.  Of concurrent WAITs, the
 *     one that took the reference drops it; the others spin until
 *     PH_HF_DONE (a bounded, non-sleeping section), so that every WAIT
 *     returns only after the reference is gone (SIGNAL fails ESRCH and
 *     task_refs no longer counts it).  Nothing that runs after DONE needs
 *     the reference: state and status are then read from the handle.
 *  4. The process reference is dropped exactly once, by whoever moves
 *     ph_handle.watch to NULL with xchg(): a WAIT (step 3), or the last
 *     kref put.  A released handle therefore keeps it until its last call
 *     in flight (for instance a blocked WAIT) has finished.
 *  5. The last kref put frees the handle: it is then in no table, on no
 *     list, and no call is in flight.
 *
 * Invariants: RELEASED and DONE are only ever set; RELEASED implies the id
 * left (or is leaving) the table; a NULL ph_handle.watch on a live handle
 * implies the process has exited and ph_handle.status holds its status;
 * ph_handle.rec (the pid, start time and exit record) is valid for the
 * whole life of the handle, and until a grace period after it is freed.
 * Model-checked, with watch.c and events.c, in model/prochandle.pml.
 */
#include <linux/hrtimer.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include <linux/prochandle.h>
#include "prochandle.h"

static struct kmem_cache *ph_handle_cache;

/**
 * ph_handle_new() - Create a handle on a process.
 * @t: the table it is for
 * @pid: the process (a thread-group leader)
 *
 * The handle holds the table's reference, a process reference (on the
 * watch) and, for its whole life, a reference on the process's record
 * (its pid, start time and exit record); it is not linked to the exit
 * watch nor stored in the table yet, and has PH_HF_NEW set (step 0).
 *
 * Return: the handle, ERR_PTR(-ENOMEM), or ERR_PTR(-ESRCH) if the process
 * was reaped meanwhile.
 */
struct ph_handle *ph_handle_new(struct ph_table *t, struct pid *pid)
{
	struct ph_handle *h;
	struct ph_watch *w;

	h = kmem_cache_zalloc(ph_handle_cache, PH_GFP);
	if (!h)
		return ERR_PTR(-ENOMEM);
	w = ph_watch_get(pid);
	if (IS_ERR(w)) {
		kmem_cache_free(ph_handle_cache, h);
		return ERR_CAST(w);
	}
	kref_init(&h->ref);
	atomic_set(&h->flags, PH_HF_NEW);
	h->table = t;
	RCU_INIT_POINTER(h->watch, w);
	h->rec = ph_record_get(w->rec);
	INIT_LIST_HEAD(&h->node);
	percpu_counter_inc(&ph_nr_handles);
	percpu_counter_inc(&ph_nr_task_refs);
	return h;
}

/**
 * ph_handle_get() - Take a transient reference for a new call (step 1).
 * @t: the table
 * @id: the handle id the caller named
 *
 * Return: the handle, to be given back with ph_handle_put(), or NULL if no
 * such handle exists or it was released (the caller's EBADF).
 */
struct ph_handle *ph_handle_get(struct ph_table *t, u64 id)
{
	struct ph_handle *h;

	rcu_read_lock();
	h = ph_handle_lookup(t, id);
	if (h && !kref_get_unless_zero(&h->ref))
		h = NULL;
	rcu_read_unlock();
	if (h && (atomic_read_acquire(&h->flags) &
		  (PH_HF_NEW | PH_HF_RELEASED))) {
		ph_handle_put(h);
		h = NULL;
	}
	return h;
}

/* Step 4: called by the one who took ph_handle.watch. */
static void ph_handle_drop_watch(struct ph_handle *h, struct ph_watch *w)
{
	ph_watch_unlink(w, h);
	ph_watch_put(w);
	percpu_counter_dec(&ph_nr_task_refs);
}

static void ph_handle_free_rcu(struct rcu_head *rcu)
{
	kmem_cache_free(ph_handle_cache, container_of(rcu, struct ph_handle, rcu));
}

/* Step 5. */
static void ph_handle_free(struct kref *ref)
{
	struct ph_handle *h = container_of(ref, struct ph_handle, ref);
	struct ph_watch *w = unrcu_pointer(xchg(&h->watch, RCU_INITIALIZER(NULL)));

	if (w)
		ph_handle_drop_watch(h, w);
	WARN_ON_ONCE(atomic_read(&h->flags) &
		     (PH_HF_ON_EVENTS | PH_HF_ON_WATCH));
	ph_record_put(h->rec);
	percpu_counter_dec(&ph_nr_handles);
	call_rcu(&h->rcu, ph_handle_free_rcu);
}

/**
 * ph_handle_put() - Give back a reference (step 5 at the last one).
 * @h: the handle
 */
void ph_handle_put(struct ph_handle *h)
{
	kref_put(&h->ref, ph_handle_free);
}

/**
 * ph_handle_state() - Read the state of a handle without blocking.
 * @h: the handle, referenced by the caller
 * @status: set to the wait status unless the state is PH_STATE_RUNNING,
 *	else to 0
 *
 * Return: PH_STATE_RUNNING, PH_STATE_EXITED or PH_STATE_DONE.
 */
u32 ph_handle_state(struct ph_handle *h, int *status)
{
	u32 state;

	rcu_read_lock();
	state = ph_handle_state_rcu(h, status);
	rcu_read_unlock();
	return state;
}

/**
 * ph_handle_signal() - Signal the process of a handle, if it may be.
 * @h: the handle, referenced or peeked by the caller
 * @state: its state
 * @sig: the signal, 0 for the permission check alone
 *
 * An exited process is never signalled, whatever its number names now;
 * nor is one the caller cannot see (as kill(2) could not).  Else the
 * signal is sent as kill(2) would (SEND_SIG_NOINFO: its permission rule
 * and LSM hook, current's credentials).  Never sleeps.
 *
 * Return: 0, -ESRCH, -EPERM, or what kill(2) returns.
 */
int ph_handle_signal(struct ph_handle *h, u32 state, int sig)
{
	if (state != PH_STATE_RUNNING || !pid_vnr(h->rec->pid))
		return -ESRCH;
	return kill_pid(h->rec->pid, sig, 0);
}

/**
 * ph_handle_set_done() - Make a handle DONE (step 3).
 * @h: the handle, referenced by the caller
 * @status: the status a WAIT has just returned to user space
 *
 * Returns once the process reference is dropped, whoever dropped it.
 * Never sleeps.
 */
void ph_handle_set_done(struct ph_handle *h, int status)
{
	struct ph_watch *w;

	WRITE_ONCE(h->status, status);
	w = unrcu_pointer(xchg(&h->watch, RCU_INITIALIZER(NULL)));
	if (!w) {
		/* Another WAIT took it: wait for its bounded drop. */
		atomic_cond_read_acquire(&h->flags, VAL & PH_HF_DONE);
		return;
	}
	preempt_disable();	/* the others spin on us */
	ph_handle_drop_watch(h, w);
	/* The drop before DONE: pairs with atomic_cond_read_acquire(). */
	smp_mb__before_atomic();
	atomic_or(PH_HF_DONE, &h->flags);
	preempt_enable();
}

/*
 * The exit watch of @h with a reference of our own, so that it outlives a
 * concurrent DONE transition; NULL if the handle is DONE.
 */
static struct ph_watch *ph_handle_watch(struct ph_handle *h)
{
	struct ph_watch *w;

	rcu_read_lock();
	w = rcu_dereference(h->watch);
	if (w && !refcount_inc_not_zero(&w->ref))
		w = NULL;
	rcu_read_unlock();
	return w;
}

/**
 * ph_handle_wait() - Wait for the process of a handle to exit.
 * @h: the handle, referenced by the caller
 * @flags: PH_WAIT_NOHANG, PH_WAIT_TIMEOUT or 0
 * @deadline: with PH_WAIT_TIMEOUT, when to give up (CLOCK_MONOTONIC)
 * @status: set to the thread group's wait status on success
 *
 * Sleeps (interruptibly, so freezable) on the watch's wait queue, woken
 * when the exit is recorded: never waits for any delivery.  NOHANG never
 * sleeps.
 *
 * Return: 0, -EAGAIN (no-hang, still running), -ETIMEDOUT, or
 * -ERESTARTNOHAND when a signal is pending (EINTR if a handler runs).
 */
int ph_handle_wait(struct ph_handle *h, u32 flags, ktime_t deadline,
		   int *status)
{
	struct ph_watch *w;
	int err = 0;
	DEFINE_WAIT(wait);

	if (ph_handle_state(h, status) != PH_STATE_RUNNING)
		return 0;
	if (flags & PH_WAIT_NOHANG)
		return -EAGAIN;
	w = ph_handle_watch(h);
	if (!w) {	/* DONE meanwhile */
		ph_handle_state(h, status);
		return 0;
	}

	for (;;) {
		prepare_to_wait(&w->waiters, &wait, TASK_INTERRUPTIBLE);
		if (ph_watch_exited(w, status))
			break;
		if (signal_pending(current)) {
			/* EINTR if a handler ran, else restart (SIGSTOP...) */
			err = -ERESTARTNOHAND;
			break;
		}
		if (!(flags & PH_WAIT_TIMEOUT)) {
			schedule();
		} else if (!schedule_hrtimeout_range(&deadline,
						      current->timer_slack_ns,
						      HRTIMER_MODE_ABS)) {
			if (!ph_watch_exited(w, status))
				err = -ETIMEDOUT;
			break;
		}
	}
	finish_wait(&w->waiters, &wait);
	ph_watch_put(w);
	return err;
}

/**
 * ph_handle_release() - Release a handle (step 2).
 * @t: the table
 * @id: the handle id
 *
 * Return: 0 for the one caller that released it, -EBADF otherwise.
 */
int ph_handle_release(struct ph_table *t, u64 id)
{
	struct ph_handle *h = ph_table_take(t, id);	/* the table's ref */

	if (!h)
		return -EBADF;
	ph_events_remove(t, h);
	ph_track_release(t, h);		/* kills first if kill on release */
	ph_life_release(t, h, true);	/* cancel; kill on release */
	ph_handle_put(h);
	return 0;
}

/**
 * ph_handle_init() - Create the handle cache.
 *
 * Return: 0 or -ENOMEM.
 */
int __init ph_handle_init(void)
{
	/* SPEC 7: at most 96 bytes of kernel memory per live handle. */
	BUILD_BUG_ON(sizeof(struct ph_handle) > 96);
	ph_handle_cache = KMEM_CACHE(ph_handle, SLAB_ACCOUNT);
	return ph_handle_cache ? 0 : -ENOMEM;
}

/**
 * ph_handle_teardown() - Destroy the handle cache.
 *
 * Every handle is freed: waits for the RCU callbacks that free them.
 */
void ph_handle_teardown(void)
{
	rcu_barrier();
	kmem_cache_destroy(ph_handle_cache);
}
