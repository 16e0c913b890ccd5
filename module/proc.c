// SPDX-License-Identifier: GPL-2.0
/*
 * The exit watch: one struct ph_proc per process that any handle names,
 * shared by all handles in all tables, found through a hash keyed by the
 * process's struct pid.
 *
 * The watch queues one entry on pid->wait_pidfd, the queue the kernel wakes
 * (do_notify_pidfd) when it reports the thread-group leader exited.  The
 * entry's callback runs in the exiting process's exit path, under
 * tasklist_lock and the queue's spinlock with interrupts off, so it does a
 * bounded amount of work however many handles name the process: it records
 * the group's wait status in ph_proc.exit (captured now, so it survives the
 * reap) and queues the watch on a lock-free list.  A work item then, in
 * process context and in exit order, delivers the exit to each handle on
 * ph_proc.handles: queues its event in its table and wakes its waiters.
 *
 * Invariants:
 *  - ph_proc.exit goes from 0 to PH_PROC_EXITED | status once, and the
 *    status is that of the whole thread group, as wait(2) reports it.
 *  - Each handle linked on ph_proc.handles is delivered exactly once, by
 *    the fan-out or by ph_proc_unlink(), and then leaves the list.
 *  - Once ph_proc.fanned is set (under ph_proc.lock) no handle is linked
 *    any more: new handles are delivered at once.  A recorded exit is
 *    always fanned out: its recorder queued the watch while a handle held
 *    it, so ph_proc_wait_fanned() returns.
 *  - The entry leaves the wait queue before the struct pid is put; a
 *    queued fan-out holds a reference to the watch.
 */
#include <linux/err.h>
#include <linux/rhashtable.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "prochandle.h"

static struct rhashtable ph_procs;
static struct kmem_cache *ph_proc_cache;

static const struct rhashtable_params ph_proc_params = {
	.key_len = sizeof(struct pid *),
	.key_offset = offsetof(struct ph_proc, pid),
	.head_offset = offsetof(struct ph_proc, node),
	.automatic_shrinking = true,
};

static LLIST_HEAD(ph_exits);
static void ph_fanout(struct work_struct *work);
static DECLARE_WORK(ph_fanout_work, ph_fanout);

bool ph_proc_exited(struct ph_proc *p, int *status)
{
	s64 v = atomic64_read_acquire(&p->exit);

	if (!v)
		return false;
	if (status)
		*status = (int)(u32)v;
	return true;
}

/* The thread group's exit status, computed as wait_task_zombie() does. */
static int ph_group_status(struct task_struct *task)
{
	struct signal_struct *sig = task->signal;

	if (READ_ONCE(sig->flags) & SIGNAL_GROUP_EXIT)
		return READ_ONCE(sig->group_exit_code);
	return READ_ONCE(task->exit_code);
}

/*
 * Record the exit of @p's thread group, which ph_thread_group_exited() said
 * has happened.  Returns false only if the process is already gone and its
 * status was never recorded (it was reaped before the watch existed).
 */
static bool ph_proc_record_exit(struct ph_proc *p)
{
	struct task_struct *task;
	int status = 0;

	rcu_read_lock();
	task = pid_task(p->pid, PIDTYPE_TGID);
	if (task)
		status = ph_group_status(task);
	rcu_read_unlock();
	if (!task)
		return ph_proc_exited(p, NULL);

	if (atomic64_cmpxchg(&p->exit, 0, PH_PROC_EXITED | (u32)status))
		return true;
	/* A watch nobody holds any more has nobody to deliver to. */
	if (refcount_inc_not_zero(&p->ref) &&
	    llist_add(&p->exit_node, &ph_exits))
		queue_work(system_unbound_wq, &ph_fanout_work);
	return true;
}

/* Runs in the exit path: see the comment at the top. */
static int ph_proc_wake(struct wait_queue_entry *wqe, unsigned int mode,
			int sync, void *key)
{
	struct ph_proc *p = container_of(wqe, struct ph_proc, wqe);

	if (!ph_proc_exited(p, NULL) && ph_thread_group_exited(p->pid))
		ph_proc_record_exit(p);
	return 0;
}

static struct ph_proc *ph_proc_create(struct pid *pid)
{
	struct ph_proc *p;

	p = kmem_cache_zalloc(ph_proc_cache, GFP_KERNEL_ACCOUNT);
	if (!p)
		return ERR_PTR(-ENOMEM);
	p->pid = get_pid(pid);
	refcount_set(&p->ref, 1);
	mutex_init(&p->lock);
	INIT_LIST_HEAD(&p->handles);
	init_waitqueue_func_entry(&p->wqe, ph_proc_wake);
	add_wait_queue(&pid->wait_pidfd, &p->wqe);

	/* An exit reported before the entry was queued is caught here. */
	if (ph_thread_group_exited(pid) && !ph_proc_record_exit(p)) {
		ph_proc_put(p);
		return ERR_PTR(-ESRCH);
	}
	return p;
}

/**
 * ph_proc_get() - Get the exit watch of a process.
 * @pid: the process
 *
 * Return: the watch in the hash, or a new one, with a reference for the
 * caller; ERR_PTR(-ESRCH) if the process was reaped meanwhile, or
 * ERR_PTR(-ENOMEM).
 */
struct ph_proc *ph_proc_get(struct pid *pid)
{
	struct ph_proc *p, *old;

	rcu_read_lock();
	p = rhashtable_lookup(&ph_procs, &pid, ph_proc_params);
	if (p && !refcount_inc_not_zero(&p->ref))
		p = NULL;
	rcu_read_unlock();
	if (p)
		return p;

	p = ph_proc_create(pid);
	if (IS_ERR(p))
		return p;
	for (;;) {
		rcu_read_lock();
		old = rhashtable_lookup_get_insert_fast(&ph_procs, &p->node,
							ph_proc_params);
		if (!old)
			break;
		if (IS_ERR(old) || refcount_inc_not_zero(&old->ref)) {
			rcu_read_unlock();
			ph_proc_put(p);
			return IS_ERR(old) ? ERR_PTR(-ENOMEM) : old;
		}
		/* @old is being freed: take its place in the hash. */
		if (!rhashtable_replace_fast(&ph_procs, &old->node, &p->node,
					     ph_proc_params))
			break;
		rcu_read_unlock();
	}
	rcu_read_unlock();
	return p;
}

static void ph_proc_free_rcu(struct rcu_head *rcu)
{
	kmem_cache_free(ph_proc_cache, container_of(rcu, struct ph_proc, rcu));
}

void ph_proc_put(struct ph_proc *p)
{
	if (!refcount_dec_and_test(&p->ref))
		return;
	/* -ENOENT when never inserted or already replaced: fine. */
	rhashtable_remove_fast(&ph_procs, &p->node, ph_proc_params);
	remove_wait_queue(&p->pid->wait_pidfd, &p->wqe);
	put_pid(p->pid);
	mutex_destroy(&p->lock);
	call_rcu(&p->rcu, ph_proc_free_rcu);
}

/**
 * ph_proc_wait_fanned() - Wait for an exit to reach every handle.
 * @p: an exit watch whose exit has been recorded
 *
 * Waits until the exit has been delivered to every handle linked to @p,
 * so that a handle leaving the watch after its process exited does not
 * get its event ahead of earlier exits.
 */
void ph_proc_wait_fanned(struct ph_proc *p)
{
	/* Acquire: pairs with the release store in ph_fanout(). */
	wait_var_event(&p->fanned, smp_load_acquire(&p->fanned));
}

/* Deliver @p's exit to @h, which leaves @p's list.  Under p->lock. */
static void ph_proc_deliver(struct ph_proc *p, struct ph_handle *h)
{
	int status;

	lockdep_assert_held(&p->lock);
	list_del(&h->node);
	h->on_proc = false;
	if (ph_proc_exited(p, &status))
		ph_handle_deliver(h, status);
}

/* Make @h (not yet published) watch @p. */
void ph_proc_link(struct ph_proc *p, struct ph_handle *h)
{
	mutex_lock(&p->lock);
	list_add_tail(&h->node, &p->handles);
	h->on_proc = true;
	if (p->fanned)
		ph_proc_deliver(p, h);
	mutex_unlock(&p->lock);
}

/* @h drops its process reference: deliver an exit it has not seen yet. */
void ph_proc_unlink(struct ph_proc *p, struct ph_handle *h)
{
	mutex_lock(&p->lock);
	if (h->on_proc)
		ph_proc_deliver(p, h);
	mutex_unlock(&p->lock);
}

static void ph_fanout(struct work_struct *work)
{
	struct llist_node *list = llist_del_all(&ph_exits);
	struct ph_proc *p, *next;
	struct ph_handle *h, *tmp;

	/* llist_add() pushes at the head: restore the order of exits. */
	list = llist_reverse_order(list);
	llist_for_each_entry_safe(p, next, list, exit_node) {
		mutex_lock(&p->lock);
		list_for_each_entry_safe(h, tmp, &p->handles, node) {
			ph_proc_deliver(p, h);
			cond_resched();
		}
		/* Release: the deliveries above before the flag. */
		smp_store_release(&p->fanned, true);
		mutex_unlock(&p->lock);
		/* Pairs with ph_proc_wait_fanned(). */
		smp_mb();
		wake_up_var(&p->fanned);
		ph_proc_put(p);
	}
}

int ph_proc_init(void)
{
	int err;

	ph_proc_cache = KMEM_CACHE(ph_proc, SLAB_ACCOUNT);
	if (!ph_proc_cache)
		return -ENOMEM;
	err = rhashtable_init(&ph_procs, &ph_proc_params);
	if (err)
		kmem_cache_destroy(ph_proc_cache);
	return err;
}

/* Every file is closed: wait for queued fan-outs, then nothing is left. */
void ph_proc_exit(void)
{
	flush_work(&ph_fanout_work);
	rhashtable_destroy(&ph_procs);
	rcu_barrier();		/* ph_proc_free_rcu() */
	kmem_cache_destroy(ph_proc_cache);
}
