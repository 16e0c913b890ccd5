// SPDX-License-Identifier: GPL-2.0
/*
 * Forks and execs of tracked processes (SPEC 12): the sched_process_fork
 * and sched_process_exec probes, the child's handles, FORK and EXEC
 * records.  The trackers these walk, and the locking a fork work follows,
 * are track.c's.  A struct ph_fork, one per fork of a tracked process,
 * lives from the fork probe until the child's handles exist.
 *
 * The child's handle exists before the child runs a user instruction.
 * The sched_process_fork tracepoint runs in the parent, in kernel_clone()
 * after copy_process() and before wake_up_new_task(): the child has never
 * run, but the probe runs with preemption disabled, so it cannot make
 * handles (sleeping allocations, mutexes).  It only allocates a struct
 * ph_fork (GFP_ATOMIC) and queues it with task_work_add(TWA_RESUME), which
 * modules may use (EXPORT_SYMBOL_GPL in 6.1, 6.12 and 7.2), twice: on the
 * child and on the forking thread.  Task work runs before a task next
 * returns to user space (exit_to_user_mode, also from ret_from_fork), in
 * get_signal() and in do_exit() before exit_notify(), so on every path:
 *  - the child runs its callback before its first user instruction and
 *    before its exit is reported: its handle precedes anything it does,
 *    and its FORK record precedes its own records;
 *  - the forking thread runs its callback before it returns from the
 *    fork and before it exits: the parent's FORK record precedes its EXIT.
 * Whichever callback runs first creates the handles (ph_fork.state), the
 * other waits for it (ph_fork.done), so both orders hold.  vfork: the
 * parent sleeps in kernel_clone() until the child execs or exits, so the
 * child does the work.  A thread (CLONE_THREAD) is not a new process: no
 * fork is seen (thread_group_leader(child) is false).  Kernel threads are
 * never tracked (a kthreadd acquired with TRACK makes no handles): their
 * children never return to user space and kthreadd never exits, so task
 * work queued on them would never run.
 *
 * Cost for everyone else: both probes start with a static branch, enabled
 * only while some table has a tracker; then one RCU hash lookup for the
 * forking process.  Nothing is allocated for an untracked fork.
 *
 * Nothing is silently dropped.  A child whose handle cannot be made in a
 * table (max_handles, ENOMEM) is counted in track_lost and reported in
 * that table, in format V2, by a FORK record with PH_EVENT_F_TRACK_LOST.
 * When that record cannot be allocated either, or the probe's ph_fork
 * could not be, the table's preallocated record (ph_table.lost, events.c)
 * is queued instead: it coalesces such losses until it is read.  An EXEC
 * record is allocated in the exec tracepoint (GFP_ATOMIC); one that cannot
 * be is counted in track_lost too.  FORK records are allocated before the
 * child's handle is made, so a child is never tracked without its record.
 *
 * The probes hold a module reference for each ph_fork until its last
 * callback has run (task work outlives the files).
 *
 * Model-checked, with track.c's protocol and the close, in model/track.pml.
 */
#include <linux/binfmts.h>
#include <linux/completion.h>
#include <linux/jump_label.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/task_work.h>
#include <linux/timekeeping.h>
#include <linux/tracepoint.h>
#include <trace/events/sched.h>

#include <linux/prochandle.h>
#include "prochandle.h"
#include "track.h"

struct ph_fork {
	struct callback_head child_cb;
	struct callback_head parent_cb;
	refcount_t ref;			/* one per queued callback */
	atomic_t state;			/* 0, then 1 once a callback runs */
	struct completion done;		/* the handles are made */
	struct ph_watch *w;		/* referenced: the parent's watch */
	struct pid *child;
};

static struct tracepoint *ph_tp_fork, *ph_tp_exec;

atomic_long_t ph_nr_track_lost;

/* Under RCU: the tracked process's track, if it has trackers. */
static struct ph_track *ph_track_find(struct pid *tgid, struct ph_watch **wp)
{
	struct ph_watch *w = ph_watch_lookup(tgid);
	struct ph_track *tk = w ? rcu_dereference(w->track) : NULL;

	if (!tk || list_empty(&tk->trackers))
		return NULL;
	*wp = w;
	return tk;
}

/* A fork of @w's process not tracked anywhere: report it in each table. */
static void ph_track_lost_all(struct ph_watch *w, struct ph_track *tk,
			      struct pid *child)
{
	struct ph_tracker *tr;

	spin_lock(&tk->lock);
	list_for_each_entry(tr, &tk->trackers, node) {
		atomic_long_inc(&ph_nr_track_lost);
		ph_events_lost(tr->table, tr->h->id, w->pid, child);
	}
	spin_unlock(&tk->lock);
}

/*
 * Make @tr's table's handle on the child @pid: tracked, kill on release
 * as its parent's.  Under the parent's ph_track.mutex.
 */
static int ph_track_new_child(struct ph_tracker *tr, struct pid *pid,
			      u64 *child)
{
	struct ph_table *t = tr->table;
	struct ph_handle *h;
	int err;

	h = ph_handle_new(t, pid);
	if (IS_ERR(h))
		return PTR_ERR(h);
	err = ph_table_reserve(t, h);	/* stored, hidden (PH_HF_NEW) */
	if (err) {
		ph_handle_put(h);
		return err;
	}
	if (atomic_read(&tr->h->flags) & PH_HF_KILL_ON_RELEASE)
		err = ph_life_inherit(t, h, tr->h);
	if (!err)
		err = ph_track_attach(t, h);
	if (err) {
		atomic_or(PH_HF_RELEASED, &h->flags);
		ph_life_release(t, h, false);
		ph_table_unreserve(t, h);
		ph_handle_put(h);
		return err;
	}
	ph_watch_link(rcu_dereference_protected(h->watch, true), h);
	ph_table_publish(t, h);
	*child = h->id;
	return 0;
}

static struct ph_tev *ph_tev_new(u32 type, u64 handle, struct pid *pid,
				 gfp_t gfp)
{
	struct ph_tev *e = kzalloc(sizeof(*e), gfp);

	if (!e)
		return NULL;
	e->type = type;
	e->handle = handle;
	e->pid = get_pid(pid);
	e->time = ktime_get_boottime_ns();
	return e;
}

/* One table's part of a fork: the child's handle and the FORK record. */
static void ph_track_child(struct ph_tracker *tr, struct ph_fork *f)
{
	struct ph_table *t = tr->table;
	struct ph_tev *e = NULL;
	u64 child = 0;
	int err = -ENOMEM;

	/* The record first: a tracked child always has its FORK record. */
	if (ph_events_want(t, PH_EVENT_FORK)) {
		e = ph_tev_new(PH_EVENT_FORK, tr->h->id, f->w->pid, PH_GFP);
		if (!e)
			goto lost;
	}
	err = ph_track_new_child(tr, f->child, &child);
	if (err == -ESRCH) {	/* reaped: cannot be, it waits for us */
		if (e)
			ph_tev_free(e);
		return;
	}
	if (err) {
		if (!e && READ_ONCE(t->ev_format) == PH_EVENTS_V2)
			e = ph_tev_new(PH_EVENT_FORK, tr->h->id, f->w->pid,
				       PH_GFP);
		if (!e)
			goto lost;
		atomic_long_inc(&ph_nr_track_lost);
		e->flags = PH_EVENT_F_TRACK_LOST;
	}
	if (!e)
		return;
	e->child = child;
	e->child_pid = get_pid(f->child);
	ph_events_queue_tev(t, e);
	return;
lost:
	atomic_long_inc(&ph_nr_track_lost);
	ph_events_lost(t, tr->h->id, f->w->pid, f->child);
}

/* Make the child's handles, in every table tracking the parent. */
static void ph_fork_run(struct ph_fork *f)
{
	struct ph_track *tk = rcu_dereference_protected(f->w->track, true);
	struct ph_tracker *tr;

	mutex_lock(&tk->mutex);
	list_for_each_entry(tr, &tk->trackers, node)
		ph_track_child(tr, f);
	mutex_unlock(&tk->mutex);
}

static void ph_fork_put(struct ph_fork *f)
{
	if (!refcount_dec_and_test(&f->ref))
		return;
	ph_watch_put(f->w);
	put_pid(f->child);
	kfree(f);
	module_put(THIS_MODULE);
}

/* Either callback: the first does the work, the other waits for it. */
static void ph_fork_callback(struct ph_fork *f)
{
	if (!atomic_xchg(&f->state, 1)) {
		ph_fork_run(f);
		complete_all(&f->done);
	} else {
		wait_for_completion(&f->done);
	}
	ph_fork_put(f);
}

static void ph_fork_child_cb(struct callback_head *cb)
{
	ph_fork_callback(container_of(cb, struct ph_fork, child_cb));
}

static void ph_fork_parent_cb(struct callback_head *cb)
{
	ph_fork_callback(container_of(cb, struct ph_fork, parent_cb));
}

/* sched_process_fork: see the top of this file.  Preemption disabled. */
static void ph_track_fork_probe(void *data, struct task_struct *parent,
				struct task_struct *child)
{
	struct ph_watch *w = NULL;
	struct ph_track *tk;
	struct ph_fork *f;

	if (!static_branch_unlikely(&ph_tracking))
		return;
	/*
	 * A thread is not a new process; a kernel thread's children never
	 * return to user space (nor may kthreadd ever run task work).
	 */
	if (!thread_group_leader(child) || (parent->flags & PF_KTHREAD) ||
	    (child->flags & PF_KTHREAD))
		return;
	rcu_read_lock();
	tk = ph_track_find(task_tgid(parent), &w);
	if (!tk || !refcount_inc_not_zero(&w->ref)) {
		rcu_read_unlock();
		return;
	}
	rcu_read_unlock();	/* our reference keeps @w and @tk */

	f = kzalloc(sizeof(*f), GFP_ATOMIC | __GFP_NOWARN);
	if (!f)
		goto lost;
	__module_get(THIS_MODULE);
	f->w = w;
	f->child = get_pid(task_pid(child));
	init_completion(&f->done);
	init_task_work(&f->child_cb, ph_fork_child_cb);
	init_task_work(&f->parent_cb, ph_fork_parent_cb);
	refcount_set(&f->ref, 2);
	/* The child has never run: it has no task work and is not exiting. */
	if (task_work_add(child, &f->child_cb, TWA_RESUME))
		refcount_dec(&f->ref);
	if (!task_work_add(parent, &f->parent_cb, TWA_RESUME) ||
	    !refcount_dec_and_test(&f->ref))
		return;
	/* Neither could be queued. */
	put_pid(f->child);
	kfree(f);
	module_put(THIS_MODULE);
lost:
	ph_track_lost_all(w, tk, task_pid(child));
	ph_watch_put(w);
}

/* sched_process_exec: EXEC records of a tracked process.  Atomic. */
static void ph_track_exec_probe(void *data, struct task_struct *p,
				pid_t old_pid, struct linux_binprm *bprm)
{
	struct ph_watch *w = NULL;
	struct ph_tracker *tr;
	struct ph_track *tk;
	struct ph_tev *e;

	if (!static_branch_unlikely(&ph_tracking))
		return;
	rcu_read_lock();
	tk = ph_track_find(task_tgid(p), &w);
	if (tk) {
		spin_lock(&tk->lock);
		list_for_each_entry(tr, &tk->trackers, node) {
			if (!ph_events_want(tr->table, PH_EVENT_EXEC))
				continue;
			e = ph_tev_new(PH_EVENT_EXEC, tr->h->id, w->pid,
				       GFP_ATOMIC | __GFP_NOWARN);
			if (e)
				ph_events_queue_tev(tr->table, e);
			else
				atomic_long_inc(&ph_nr_track_lost);
		}
		spin_unlock(&tk->lock);
	}
	rcu_read_unlock();
}

static void ph_track_find_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "sched_process_fork"))
		ph_tp_fork = tp;
	else if (!strcmp(tp->name, "sched_process_exec"))
		ph_tp_exec = tp;
}

/**
 * ph_track_init() - Attach to sched_process_fork and sched_process_exec.
 *
 * Return: 0, or a negative errno (tracking cannot work without them).
 */
int __init ph_track_init(void)
{
	int err;

	check_trace_callback_type_sched_process_fork(ph_track_fork_probe);
	check_trace_callback_type_sched_process_exec(ph_track_exec_probe);
	for_each_kernel_tracepoint(ph_track_find_tp, NULL);
	if (!ph_tp_fork || !ph_tp_exec) {
		pr_err("no sched_process_fork/exec tracepoints\n");
		return -ENOENT;
	}
	err = tracepoint_probe_register(ph_tp_fork, ph_track_fork_probe, NULL);
	if (err)
		return err;
	err = tracepoint_probe_register(ph_tp_exec, ph_track_exec_probe, NULL);
	if (err) {
		tracepoint_probe_unregister(ph_tp_fork, ph_track_fork_probe,
					    NULL);
		tracepoint_synchronize_unregister();
	}
	return err;
}

/**
 * ph_track_teardown() - Detach the probes; every file is closed.
 */
void ph_track_teardown(void)
{
	tracepoint_probe_unregister(ph_tp_exec, ph_track_exec_probe, NULL);
	tracepoint_probe_unregister(ph_tp_fork, ph_track_fork_probe, NULL);
	tracepoint_synchronize_unregister();
}
