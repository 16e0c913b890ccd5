// SPDX-License-Identifier: GPL-2.0
/*
 * The exit watch: one struct ph_watch per process that any handle names,
 * shared by all handles in all tables, found through a hash keyed by the
 * process's struct pid.  A handle's reference on its watch is its process
 * reference (the task_refs counter); the handle protocol is in handle.c,
 * the event queue in events.c.
 *
 * The watch queues one entry on pid->wait_pidfd, the queue the kernel wakes
 * (do_notify_pidfd) when it reports the thread-group leader exited.  The
 * entry's callback, ph_watch_wake(), runs in the exiting process's exit
 * path, under write_lock_irq(tasklist_lock) and the queue's spinlock with
 * interrupts off, so it does a bounded amount of work however many handles
 * name the process: it records the group's wait status and the exit's
 * place in the global exit order (ph_watch.exit, ph_watch.seq) and
 * captures the exit record (record.c: CPU times, peak RSS, the killer),
 * now, so that they survive the reap; wakes the threads blocked in WAIT on
 * the watch's handles, if any; and delivers the exit to the first
 * PH_DELIVER_BATCH handles on ph_watch.handles itself.  Only if handles
 * are left does it queue the watch's own work item, on an unbound
 * workqueue, which delivers the rest in process context, a batch per hold
 * of ph_watch.lock.  So the event of a process with few handles (the
 * common case: one) is readable when its exit is reported, with no
 * kworker to wake and switch to, and nothing is woken or queued that has
 * nobody to serve.
 *
 * To deliver a handle is: it leaves ph_watch.handles and its event is
 * queued in its table (ph_events_queue(), which keeps each table's events
 * in exit order, whoever delivers them and when).  A watch delivers only
 * its own handles, at most one batch in the exit path, and each watch has
 * its own work item, so one process's exit never waits for the delivery of
 * another's, however many handles that one has.  And the state of a handle
 * (INFO, SIGNAL, WAIT) is read from ph_watch.exit, not from the delivery,
 * so a WAIT never waits for a delivery at all: a WAIT that returns a
 * status delivers its own handle, if no delivery has reached it yet, when
 * it drops its process reference (ph_watch_unlink()).
 *
 * Locks.  The exit path holds tasklist_lock (which interrupts may take for
 * reading: kill_fasync()) and pid->wait_pidfd.lock, and under them takes
 * ph_watch.lock, then the table's ev_lock, then wait queue locks (the
 * WAITers', the table's pollers' and, through epoll, an eventpoll's), as
 * the kernel's own pidfd wake-up does.  Hence: ph_watch.lock and ev_lock
 * are taken with interrupts off on every path, nothing that holds them
 * takes tasklist_lock or a wait_pidfd lock (ph_watch_put() takes the
 * latter only after ph_watch_unlink() let go of ph_watch.lock) or sleeps,
 * and the order is always ph_watch.lock -> ev_lock -> wait queue locks
 * (track.c's ph_track.lock may be held when ev_lock is taken, never
 * under it).
 *
 * Invariants:
 *  - ph_watch.exit goes 0 -> PH_EXIT_RECORDING -> PH_EXIT_RECORDED | status
 *    once; ph_watch.seq and the exit record are written in between, so a
 *    handle that sees the exit recorded sees its record.  The status is that of the
 *    whole thread group, as wait(2) reports it.
 *  - A handle is on ph_watch.handles (PH_HF_ON_WATCH) from ph_watch_link()
 *    until its exit is delivered or it drops its process reference, which
 *    ever comes first; both happen under ph_watch.lock.  Once the exit is
 *    recorded, a newly linked handle is delivered at once.
 *  - Each handle is delivered exactly once (or never, if it dropped its
 *    process reference before its process exited).  Every handle linked
 *    when the exit is recorded is delivered: by the recorder (the first
 *    batch, when the exit path records it) or by the work item, which the
 *    recorder queues, holding a reference, when handles are left after
 *    its batch.
 *  - ph_watch.lock is a spinlock held for at most one batch: no WAIT
 *    sleeps on it (PH_WAIT_NOHANG never sleeps).
 *  - The entry leaves the wait queue before the struct pid is put.
 * Model-checked, with handle.c and events.c, in model/prochandle.pml.
 */
#include <linux/err.h>
#include <linux/rhashtable.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "prochandle.h"

/*
 * Handles delivered per hold of ph_watch.lock, with interrupts off: by the
 * exit path itself, then by the work item per batch.
 */
#define PH_DELIVER_BATCH	16

static struct rhashtable ph_watches;
static struct kmem_cache *ph_watch_cache;
static struct workqueue_struct *ph_deliver_wq;
static atomic_t ph_exit_seq = ATOMIC_INIT(0);

static const struct rhashtable_params ph_watch_params = {
	.key_len = sizeof(struct pid *),
	.key_offset = offsetof(struct ph_watch, pid),
	.head_offset = offsetof(struct ph_watch, node),
	.automatic_shrinking = true,
};

/* The thread group's exit status, computed as wait_task_zombie() does. */
static int ph_group_status(struct task_struct *task)
{
	struct signal_struct *sig = task->signal;

	if (READ_ONCE(sig->flags) & SIGNAL_GROUP_EXIT)
		return READ_ONCE(sig->group_exit_code);
	return READ_ONCE(task->exit_code);
}

/*
 * Record the exit of @w's thread group, which ph_thread_group_exited() said
 * has happened.  Returns 1 if this call recorded it, 0 if it is recorded
 * (or being recorded) already, -ESRCH if the process is already gone
 * (reaped before the watch existed: its status is lost).
 */
static int ph_watch_record_exit(struct ph_watch *w)
{
	struct task_struct *task;
	int status, ret = 0;

	rcu_read_lock();
	task = pid_task(w->pid, PIDTYPE_TGID);
	if (!task) {
		ret = atomic64_read(&w->exit) ? 0 : -ESRCH;
	} else if (!atomic64_cmpxchg(&w->exit, 0, PH_EXIT_RECORDING)) {
		status = ph_group_status(task);
		ph_record_capture(w->rec, task, status);
		w->seq = ph_event_seq_next();
		/* Release: @seq and the record before the exit is seen. */
		atomic64_set_release(&w->exit, PH_EXIT_RECORDED | (u32)status);
		ret = 1;
	}
	rcu_read_unlock();
	return ret;
}

/* Deliver @w's exit to @h, which leaves @w's list.  Under w->lock. */
static void ph_watch_deliver(struct ph_watch *w, struct ph_handle *h)
{
	int status;

	lockdep_assert_held(&w->lock);
	list_del(&h->node);
	atomic_andnot(PH_HF_ON_WATCH, &h->flags);
	if (ph_watch_exited(w, &status))
		ph_events_queue(h, status, w->seq);
}

/*
 * Deliver @w's exit to the first PH_DELIVER_BATCH handles on its list.
 * Any context.  Return: true if handles are left.
 */
static bool ph_watch_deliver_batch(struct ph_watch *w)
{
	struct ph_handle *h;
	unsigned long flags;
	bool more;
	int n;

	spin_lock_irqsave(&w->lock, flags);
	for (n = 0; n < PH_DELIVER_BATCH; n++) {
		h = list_first_entry_or_null(&w->handles, struct ph_handle, node);
		if (!h)
			break;
		ph_watch_deliver(w, h);
	}
	more = !list_empty(&w->handles);
	spin_unlock_irqrestore(&w->lock, flags);
	return more;
}

static void ph_watch_deliver_work(struct work_struct *work)
{
	struct ph_watch *w = container_of(work, struct ph_watch, work);

	while (ph_watch_deliver_batch(w))
		cond_resched();
	ph_watch_put(w);
}

/* Runs in the exit path: see the comment at the top. */
static int ph_watch_wake(struct wait_queue_entry *wqe, unsigned int mode,
			 int sync, void *key)
{
	struct ph_watch *w = container_of(wqe, struct ph_watch, wqe);

	if (atomic64_read(&w->exit) || !ph_thread_group_exited(w->pid) ||
	    ph_watch_record_exit(w) <= 0)
		return 0;
	/* Full barrier, then the list: pairs with prepare_to_wait(). */
	if (wq_has_sleeper(&w->waiters))
		wake_up_all(&w->waiters);
	/*
	 * The first batch now; the work item, only for handles left.  A
	 * handle on the list holds a reference: the increment cannot fail
	 * then, and a watch nobody holds has an empty list.
	 */
	if (ph_watch_deliver_batch(w) && refcount_inc_not_zero(&w->ref))
		queue_work(ph_deliver_wq, &w->work);
	return 0;
}

static struct ph_watch *ph_watch_create(struct pid *pid)
{
	struct ph_watch *w;

	w = kmem_cache_zalloc(ph_watch_cache, PH_GFP);
	if (!w)
		return ERR_PTR(-ENOMEM);
	w->rec = ph_record_new(pid, PH_GFP);
	if (!w->rec) {
		kmem_cache_free(ph_watch_cache, w);
		return ERR_PTR(-ENOMEM);
	}
	w->pid = get_pid(pid);
	refcount_set(&w->ref, 1);
	spin_lock_init(&w->lock);
	INIT_LIST_HEAD(&w->handles);
	init_waitqueue_head(&w->waiters);
	INIT_WORK(&w->work, ph_watch_deliver_work);
	init_waitqueue_func_entry(&w->wqe, ph_watch_wake);
	add_wait_queue(&pid->wait_pidfd, &w->wqe);

	/*
	 * An exit reported before the entry was queued is caught here.  No
	 * handle is linked yet: those linked later are delivered at once.
	 */
	if (ph_thread_group_exited(pid) && ph_watch_record_exit(w) < 0) {
		ph_watch_put(w);
		return ERR_PTR(-ESRCH);
	}
	return w;
}

/**
 * ph_watch_get() - Get the exit watch of a process.
 * @pid: the process
 *
 * Return: the watch in the hash, or a new one, with a reference for the
 * caller; ERR_PTR(-ESRCH) if the process was reaped meanwhile, or
 * ERR_PTR(-ENOMEM).
 */
struct ph_watch *ph_watch_get(struct pid *pid)
{
	struct ph_watch *w, *old;

	rcu_read_lock();
	w = rhashtable_lookup(&ph_watches, &pid, ph_watch_params);
	if (w && !refcount_inc_not_zero(&w->ref))
		w = NULL;
	rcu_read_unlock();
	if (w)
		return w;

	w = ph_watch_create(pid);
	if (IS_ERR(w))
		return w;
	for (;;) {
		rcu_read_lock();
		old = rhashtable_lookup_get_insert_fast(&ph_watches, &w->node,
							ph_watch_params);
		if (!old)
			break;
		if (IS_ERR(old) || refcount_inc_not_zero(&old->ref)) {
			rcu_read_unlock();
			ph_watch_put(w);
			return IS_ERR(old) ? ERR_PTR(-ENOMEM) : old;
		}
		/* @old is being freed: take its place in the hash. */
		if (!rhashtable_replace_fast(&ph_watches, &old->node, &w->node,
					     ph_watch_params))
			break;
		rcu_read_unlock();
	}
	rcu_read_unlock();
	return w;
}

static void ph_watch_free_rcu(struct rcu_head *rcu)
{
	kmem_cache_free(ph_watch_cache, container_of(rcu, struct ph_watch, rcu));
}

/**
 * ph_watch_put() - Drop a reference on an exit watch.
 * @w: the watch
 *
 * The last reference takes the watch out of the hash and off the pid's
 * wait queue; its memory is freed after an RCU grace period.
 */
void ph_watch_put(struct ph_watch *w)
{
	if (!refcount_dec_and_test(&w->ref))
		return;
	/* -ENOENT when never inserted or already replaced: fine. */
	rhashtable_remove_fast(&ph_watches, &w->node, ph_watch_params);
	remove_wait_queue(&w->pid->wait_pidfd, &w->wqe);
	ph_track_free(w);
	put_pid(w->pid);
	ph_record_put(w->rec);
	call_rcu(&w->rcu, ph_watch_free_rcu);
}

/**
 * ph_watch_lookup() - The watch of a process, if it is watched.
 * @tgid: the process's thread-group pid
 *
 * Called under rcu_read_lock() from any context.
 *
 * Return: the watch, no reference taken, or NULL.
 */
struct ph_watch *ph_watch_lookup(struct pid *tgid)
{
	return rhashtable_lookup(&ph_watches, &tgid, ph_watch_params);
}

/**
 * ph_event_seq_next() - The next place in the order of events.
 *
 * Exits take theirs when they are recorded, FORK and EXEC records when
 * they are queued: one counter orders them all.
 *
 * Return: the place (u32, wraps; compared as a difference).
 */
u32 ph_event_seq_next(void)
{
	return (u32)atomic_inc_return(&ph_exit_seq);
}

/**
 * ph_watch_record() - The record of a watched process (see record.h).
 * @tgid: the process's thread-group pid
 *
 * Return: its record, or NULL if nothing watches it; no reference.
 */
struct ph_record *ph_watch_record(struct pid *tgid)
{
	struct ph_watch *w;

	w = ph_watch_lookup(tgid);
	return w ? w->rec : NULL;
}

/**
 * ph_watch_link() - Make a handle (not yet published) watch a process.
 * @w: the watch, on which @h holds its process reference
 * @h: the handle
 *
 * If the exit is already recorded the handle is delivered at once.
 */
void ph_watch_link(struct ph_watch *w, struct ph_handle *h)
{
	unsigned long flags;

	spin_lock_irqsave(&w->lock, flags);
	list_add_tail(&h->node, &w->handles);
	atomic_or(PH_HF_ON_WATCH, &h->flags);
	if (ph_watch_exited(w, NULL))
		ph_watch_deliver(w, h);
	spin_unlock_irqrestore(&w->lock, flags);
}

/**
 * ph_watch_unlink() - A handle drops its process reference.
 * @w: the watch
 * @h: the handle
 *
 * Delivers the exit to @h now if it is recorded and the work item has not
 * reached @h yet (a WAIT that returned a status, a handle freed), so that
 * every handle of an exited process gets its event exactly once.
 */
void ph_watch_unlink(struct ph_watch *w, struct ph_handle *h)
{
	unsigned long flags;

	spin_lock_irqsave(&w->lock, flags);
	if (atomic_read(&h->flags) & PH_HF_ON_WATCH)
		ph_watch_deliver(w, h);
	spin_unlock_irqrestore(&w->lock, flags);
}

/**
 * ph_watch_init() - Set up the hash, cache and workqueue of exit watches.
 *
 * Return: 0 or a negative errno.
 */
int __init ph_watch_init(void)
{
	int err = -ENOMEM;

	ph_watch_cache = KMEM_CACHE(ph_watch, SLAB_ACCOUNT);
	if (!ph_watch_cache)
		return err;
	/* Unbound: deliveries run on any CPU, each exit its own item. */
	ph_deliver_wq = alloc_workqueue("prochandle", WQ_UNBOUND, 0);
	if (!ph_deliver_wq)
		goto err_cache;
	err = rhashtable_init(&ph_watches, &ph_watch_params);
	if (err)
		goto err_wq;
	return 0;

err_wq:
	destroy_workqueue(ph_deliver_wq);
err_cache:
	kmem_cache_destroy(ph_watch_cache);
	return err;
}

/**
 * ph_watch_teardown() - Free what ph_watch_init() set up.
 *
 * Every file is closed, so no handle holds a watch; queued deliveries hold
 * references until they have run.
 */
void ph_watch_teardown(void)
{
	destroy_workqueue(ph_deliver_wq);	/* drains queued deliveries */
	rhashtable_destroy(&ph_watches);
	rcu_barrier();				/* ph_watch_free_rcu() */
	kmem_cache_destroy(ph_watch_cache);
}
