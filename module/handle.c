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
 * and the status is ph_handle.state: PH_HS_RELEASED and PH_HS_DONE bits;
 * whether the process has exited (RUNNING vs EXITED) is read from the
 * process's exit watch.  The process reference is ph_handle.proc, a
 * counted reference on that watch (counted in the task_refs counter).
 *
 * Protocol:
 *  1. A new call takes its transient reference with ph_handle_get():
 *     RCU lookup, kref_get_unless_zero(), then the status check; a
 *     released handle is refused (EBADF) and its reference given back.
 *     Lookup, conditional get and check are the one safe step: the handle
 *     memory is freed only after an RCU grace period.
 *  2. RELEASE sets PH_HS_RELEASED with one atomic fetch_or: exactly one
 *     caller sees the bit clear and wins; the others get EBADF.  The winner
 *     erases the id, drops an unread event, then drops the table's
 *     reference.  From then on step 1 fails for every new call.
 *  3. A successful WAIT sets PH_HS_DONE (once) and drops the process
 *     reference, once the exit has been fanned out (so the handle's event
 *     is queued in exit order).  Nothing that runs after DONE needs it:
 *     state and status are then read from the handle itself.
 *  4. The process reference is dropped exactly once, by whoever moves
 *     ph_handle.proc to NULL with xchg(): the DONE transition, or the last
 *     kref put.  A released handle therefore keeps it until its last call
 *     in flight (for instance a blocked WAIT) has finished.
 *  5. The last kref put frees the handle: it is then in no table, on no
 *     list, and no call is in flight.
 *
 * Invariants: state bits are only ever set; RELEASED implies the id left
 * (or is leaving) the table; DONE implies the process has exited and
 * ph_handle.status holds its status; ph_handle.pid is valid for the whole
 * life of the handle.
 */
#include <linux/hrtimer.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>

#include <linux/prochandle.h>
#include "prochandle.h"

static struct kmem_cache *ph_handle_cache;

/**
 * ph_handle_new() - Create a handle on a process.
 * @t: the table it is for
 * @pid: the process (a thread-group leader)
 * @start_time: its start time, CLOCK_BOOTTIME ns of the init time namespace
 *
 * The handle holds the table's reference and a process reference; it is
 * not linked to the exit watch nor published yet.
 *
 * Return: the handle, ERR_PTR(-ENOMEM), or ERR_PTR(-ESRCH) if the process
 * was reaped meanwhile.
 */
struct ph_handle *ph_handle_new(struct ph_table *t, struct pid *pid,
				u64 start_time)
{
	struct ph_handle *h;
	struct ph_proc *p;

	h = kmem_cache_zalloc(ph_handle_cache, GFP_KERNEL_ACCOUNT);
	if (!h)
		return ERR_PTR(-ENOMEM);
	p = ph_proc_get(pid);
	if (IS_ERR(p)) {
		kmem_cache_free(ph_handle_cache, h);
		return ERR_CAST(p);
	}
	kref_init(&h->ref);
	h->table = t;
	RCU_INIT_POINTER(h->proc, p);
	h->pid = get_pid(pid);
	h->start_time = start_time;
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

	if (id > ULONG_MAX)
		return NULL;
	rcu_read_lock();
	h = xa_load(&t->handles, id);
	if (h && !kref_get_unless_zero(&h->ref))
		h = NULL;
	rcu_read_unlock();
	if (h && (atomic_read_acquire(&h->state) & PH_HS_RELEASED)) {
		ph_handle_put(h);
		h = NULL;
	}
	return h;
}

/* Step 4: called by the one who took ph_handle.proc. */
static void ph_handle_drop_proc(struct ph_handle *h, struct ph_proc *p)
{
	ph_proc_unlink(p, h);
	ph_proc_put(p);
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
	struct ph_proc *p = unrcu_pointer(xchg(&h->proc, RCU_INITIALIZER(NULL)));

	if (p)
		ph_handle_drop_proc(h, p);
	WARN_ON_ONCE(h->on_events || h->on_proc);
	put_pid(h->pid);
	percpu_counter_dec(&ph_nr_handles);
	call_rcu(&h->rcu, ph_handle_free_rcu);
}

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
	struct ph_proc *p;
	bool exited = false;

	*status = 0;
	if (!(atomic_read_acquire(&h->state) & PH_HS_DONE)) {
		rcu_read_lock();
		p = rcu_dereference(h->proc);
		if (p)
			exited = ph_proc_exited(p, status);
		rcu_read_unlock();
		if (p)
			return exited ? PH_STATE_EXITED : PH_STATE_RUNNING;
		/* ph_handle_set_done() cleared ->proc after caching. */
		smp_rmb();
	}
	*status = READ_ONCE(h->status);
	return PH_STATE_DONE;
}

/**
 * ph_handle_set_done() - Make a handle DONE (step 3).
 * @h: the handle, referenced by the caller
 * @status: the status a WAIT has just returned to user space
 *
 * The first call drops the process reference, after the exit has been
 * delivered to every handle on the process; later calls do nothing.
 */
void ph_handle_set_done(struct ph_handle *h, int status)
{
	struct ph_proc *p;

	WRITE_ONCE(h->status, status);
	if (atomic_fetch_or(PH_HS_DONE, &h->state) & PH_HS_DONE)
		return;
	p = unrcu_pointer(xchg(&h->proc, RCU_INITIALIZER(NULL)));
	if (p) {
		/* The event goes out with the others, in exit order. */
		ph_proc_wait_fanned(p);
		ph_handle_drop_proc(h, p);
	}
}

/**
 * ph_handle_wait() - Wait for the process of a handle to exit.
 * @h: the handle, referenced by the caller
 * @flags: PH_WAIT_NOHANG, PH_WAIT_TIMEOUT or 0
 * @timeout_ns: relative timeout, with PH_WAIT_TIMEOUT
 * @status: set to the thread group's wait status on success
 *
 * Woken by ph_handle_deliver(), which every handle linked to an exit watch
 * goes through exactly once.
 *
 * Return: 0, -EAGAIN (no-hang, still running), -ETIMEDOUT, or
 * -ERESTARTNOHAND when a signal is pending (EINTR if a handler runs).
 */
int ph_handle_wait(struct ph_handle *h, u32 flags, u64 timeout_ns,
		   int *status)
{
	struct wait_bit_queue_entry wbq;
	struct wait_queue_head *wq;
	ktime_t expires = 0;
	int err = 0;

	if (ph_handle_state(h, status) != PH_STATE_RUNNING)
		return 0;
	if (flags & PH_WAIT_NOHANG)
		return -EAGAIN;
	if (flags & PH_WAIT_TIMEOUT)
		expires = ktime_add_safe(ktime_get(),
					 ns_to_ktime(min_t(u64, timeout_ns, KTIME_MAX)));

	wq = __var_waitqueue(h);
	init_wait_var_entry(&wbq, h, 0);
	for (;;) {
		prepare_to_wait(wq, &wbq.wq_entry, TASK_INTERRUPTIBLE);
		if (ph_handle_state(h, status) != PH_STATE_RUNNING)
			break;
		if (signal_pending(current)) {
			/* EINTR if a handler ran, else restart (SIGSTOP...) */
			err = -ERESTARTNOHAND;
			break;
		}
		if (!(flags & PH_WAIT_TIMEOUT)) {
			schedule();
		} else if (!schedule_hrtimeout_range(&expires,
						      current->timer_slack_ns,
						      HRTIMER_MODE_ABS)) {
			if (ph_handle_state(h, status) == PH_STATE_RUNNING)
				err = -ETIMEDOUT;
			break;
		}
	}
	finish_wait(wq, &wbq.wq_entry);
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
	struct ph_handle *h = ph_handle_get(t, id);

	if (!h)
		return -EBADF;
	if (atomic_fetch_or(PH_HS_RELEASED, &h->state) & PH_HS_RELEASED) {
		ph_handle_put(h);
		return -EBADF;
	}
	ph_table_erase(t, id);
	ph_events_remove(t, h);
	ph_handle_put(h);	/* ours */
	ph_handle_put(h);	/* the table's */
	return 0;
}

/**
 * ph_handle_deliver() - Deliver the exit of a handle's process.
 * @h: the handle
 * @status: the thread group's wait status
 *
 * Queues the handle's event (unless it was released) and wakes its
 * waiters.  Called once per handle, in process context, under its exit
 * watch's lock.
 */
void ph_handle_deliver(struct ph_handle *h, int status)
{
	struct ph_table *t = h->table;

	WRITE_ONCE(h->status, status);
	spin_lock(&t->ev_lock);
	if (!(atomic_read(&h->state) & PH_HS_RELEASED)) {
		list_add_tail(&h->node, &t->events);
		h->on_events = true;
	}
	spin_unlock(&t->ev_lock);
	wake_up_interruptible_poll(&t->wq, EPOLLIN | EPOLLRDNORM);
	/* Pairs with prepare_to_wait() in ph_handle_wait(). */
	smp_mb();
	wake_up_var(h);
}

int ph_handle_init(void)
{
	ph_handle_cache = KMEM_CACHE(ph_handle, SLAB_ACCOUNT);
	return ph_handle_cache ? 0 : -ENOMEM;
}

/* Every handle is freed: wait for the RCU callbacks that free them. */
void ph_handle_exit(void)
{
	rcu_barrier();
	kmem_cache_destroy(ph_handle_cache);
}
