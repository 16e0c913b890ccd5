// SPDX-License-Identifier: GPL-2.0
/*
 * Deadlines (SPEC 11): the signal PH_IOC_DEADLINE arms on a handle, and
 * the SIGKILL that follows it after its grace.  A deadline is part of the
 * handle's struct ph_life (lifetime.c, which states how a life is found,
 * referenced and judged with saved credentials); this file queues and
 * fires it.
 *
 * All armed deadlines, of every table, are in one timerqueue (a
 * time-ordered rbtree) under ph_dl_lock, and one hrtimer is armed at the
 * earliest, with a little slack so that deadlines close together share
 * one timer interrupt.  The hrtimer only queues ph_dl_work, which in
 * process context fires every expired deadline (the signal, or SIGKILL if
 * it is the escalation) and queues the escalation (grace_ns later).
 * Armed deadlines therefore cost an rbtree node each and no timer of their
 * own: 100 000 of them cost the timer interrupts of their distinct firing
 * times, at most one per PH_DL_SLACK_NS.
 *
 * Protocol:
 *  - ph_life.node, .queued, .gen, .escalate, .firing, .sig, .grace_ns and
 *    .dl_cred change under ph_dl_lock.  While queued, the handle is alive
 *    (its release dequeues it under ph_dl_lock before dropping the
 *    table's reference), so the firing work takes a handle reference
 *    under the lock and sets .firing.  It holds no file, so whoever takes
 *    a life out of @lives (a release, a cancel) waits until .firing is
 *    clear, which the work clears after dropping that reference: the
 *    table's is always the last, and the table (freed at the last close)
 *    outlives every use of its handles.
 *    Re-arming or cancelling bumps .gen: a firing that finds .gen
 *    changed does not queue its escalation.
 * Model-checked, with lifetime.c, in model/lifetime.pml.
 */
#include <linux/cred.h>
#include <linux/hrtimer.h>
#include <linux/sched/signal.h>
#include <linux/timerqueue.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>

#include <linux/prochandle.h>
#include "prochandle.h"
#include "lifetime.h"

/* How late a deadline may fire to share a timer interrupt (<< 10 ms). */
#define PH_DL_SLACK_NS	(1 * NSEC_PER_MSEC)

static DEFINE_MUTEX(ph_dl_lock);
static struct timerqueue_head ph_deadlines = { .rb_root = RB_ROOT_CACHED };
static struct hrtimer ph_dl_timer;
static struct workqueue_struct *ph_dl_wq;
static void ph_dl_fire(struct work_struct *work);
static DECLARE_WORK(ph_dl_work, ph_dl_fire);
/* Under ph_dl_lock: (re)arm the hrtimer at the earliest deadline. */
static void ph_dl_rearm(void)
{
	struct timerqueue_node *next = timerqueue_getnext(&ph_deadlines);

	lockdep_assert_held(&ph_dl_lock);
	if (next)
		hrtimer_start_range_ns(&ph_dl_timer, next->expires,
				       PH_DL_SLACK_NS, HRTIMER_MODE_ABS);
	else
		hrtimer_try_to_cancel(&ph_dl_timer);
}

/* Under ph_dl_lock: queue @l's deadline at @expires. */
static void ph_dl_queue(struct ph_life *l, ktime_t expires)
{
	lockdep_assert_held(&ph_dl_lock);
	if (l->queued)
		timerqueue_del(&ph_deadlines, &l->node);
	else
		refcount_inc(&l->ref);
	l->node.expires = expires;
	l->queued = true;
	if (timerqueue_add(&ph_deadlines, &l->node))
		ph_dl_rearm();
}

/* Under ph_dl_lock: take @l's deadline out; true if it was queued. */
static bool ph_dl_dequeue(struct ph_life *l)
{
	lockdep_assert_held(&ph_dl_lock);
	l->gen++;
	if (!l->queued)
		return false;
	timerqueue_del(&ph_deadlines, &l->node);
	l->queued = false;
	return true;	/* the caller drops the queue's reference */
}

static enum hrtimer_restart ph_dl_expired(struct hrtimer *timer)
{
	queue_work(ph_dl_wq, &ph_dl_work);
	return HRTIMER_NORESTART;
}

/*
 * Fire one expired deadline that ph_dl_fire() took out of the queue (with
 * the queue's reference), under ph_dl_lock, which this drops and retakes.
 */
static void ph_dl_fire_one(struct ph_life *l)
{
	struct ph_handle *h = l->h;
	const struct cred *cred;
	bool escalate;
	ktime_t when;
	int sig;
	u32 gen;

	kref_get(&h->ref);	/* alive: queued until just now */
	WRITE_ONCE(l->firing, true);
	cred = get_cred(l->dl_cred);
	escalate = l->escalate;
	sig = escalate ? SIGKILL : l->sig;
	gen = l->gen;
	when = l->node.expires;
	mutex_unlock(&ph_dl_lock);

	ph_life_kill(h, cred, sig);
	put_cred(cred);

	mutex_lock(&ph_dl_lock);
	/* Not re-armed nor cancelled meanwhile: escalate if still running. */
	if (l->gen == gen && !escalate && l->grace_ns &&
	    !(atomic_read(&h->flags) & PH_HF_RELEASED)) {
		int status;

		if (ph_handle_state(h, &status) == PH_STATE_RUNNING) {
			l->escalate = true;
			ph_dl_queue(l, ktime_add_safe(when,
						      ns_to_ktime(l->grace_ns)));
		}
	}
	mutex_unlock(&ph_dl_lock);
	/* Never the last reference: a release waits for !firing. */
	ph_handle_put(h);
	mutex_lock(&ph_dl_lock);
	WRITE_ONCE(l->firing, false);
	mutex_unlock(&ph_dl_lock);
	/* Pairs with wait_var_event() in ph_life_wait_firing(). */
	smp_mb();
	wake_up_var(&l->firing);
	ph_life_put(l);
	mutex_lock(&ph_dl_lock);
}

static void ph_dl_fire(struct work_struct *work)
{
	struct timerqueue_node *next;
	struct ph_life *l;

	mutex_lock(&ph_dl_lock);
	while ((next = timerqueue_getnext(&ph_deadlines)) &&
	       ktime_compare(next->expires, ktime_get()) <= 0) {
		l = container_of(next, struct ph_life, node);
		timerqueue_del(&ph_deadlines, next);
		l->queued = false;
		ph_dl_fire_one(l);
		cond_resched();
	}
	ph_dl_rearm();
	mutex_unlock(&ph_dl_lock);
}

/**
 * ph_dl_set() - Arm, re-arm or cancel the deadline of a life.
 * @l: the life, in its table's @lives (under ph_table.life_lock)
 * @d: the validated request (timeout_ns 0 cancels)
 *
 * The kill is judged with the credentials of the caller, the armer.
 */
void ph_dl_set(struct ph_life *l, const struct ph_deadline *d)
{
	bool drop;

	mutex_lock(&ph_dl_lock);
	drop = ph_dl_dequeue(l);
	if (l->dl_cred)
		put_cred(l->dl_cred);
	l->dl_cred = NULL;
	if (d->timeout_ns) {
		l->dl_cred = get_current_cred();
		l->sig = d->sig ? d->sig : SIGKILL;
		l->grace_ns = d->grace_ns;
		l->escalate = false;
		ph_dl_queue(l, ktime_add_safe(ktime_get(),
					      ns_to_ktime(min_t(u64, d->timeout_ns,
								KTIME_MAX))));
	}
	mutex_unlock(&ph_dl_lock);
	if (drop)
		refcount_dec(&l->ref);	/* @lives holds one */
}

/**
 * ph_dl_cancel() - Take the deadline of a life out of the queue, if armed.
 * @l: the life, referenced by the caller
 */
void ph_dl_cancel(struct ph_life *l)
{
	bool drop;

	mutex_lock(&ph_dl_lock);
	drop = ph_dl_dequeue(l);
	mutex_unlock(&ph_dl_lock);
	if (drop)
		refcount_dec(&l->ref);	/* not the last: the caller holds one */
}

/**
 * ph_dl_init() - Set up the deadline timer and workqueue.
 *
 * Return: 0 or -ENOMEM.
 */
int __init ph_dl_init(void)
{
	/* High priority: deadlines keep their precision under load. */
	ph_dl_wq = alloc_workqueue("prochandle_deadline",
				   WQ_UNBOUND | WQ_HIGHPRI, 1);
	if (!ph_dl_wq)
		return -ENOMEM;
	ph_hrtimer_setup(&ph_dl_timer, ph_dl_expired, CLOCK_MONOTONIC,
			 HRTIMER_MODE_ABS);
	return 0;
}

/**
 * ph_dl_teardown() - Stop the deadline timer; every file is closed.
 */
void ph_dl_teardown(void)
{
	WARN_ON_ONCE(timerqueue_getnext(&ph_deadlines));
	hrtimer_cancel(&ph_dl_timer);
	destroy_workqueue(ph_dl_wq);
}
