// SPDX-License-Identifier: GPL-2.0
/*
 * Lifetime control (SPEC 11): kill on release and deadlines.
 *
 * A handle acquired with PH_ACQUIRE_KILL_ON_RELEASE, or with a deadline
 * armed, has a struct ph_life in its table's @lives xarray, keyed by the
 * handle id; other handles cost nothing here.  A life holds the
 * credentials to judge its kills with: the acquirer's (kill on release,
 * taken at ACQUIRE) and the armer's (deadline, taken at arming).  A kill
 * runs in process context with those credentials in force
 * (override_creds() + kill_pid(), so kill(2)'s permission rule and LSM
 * hooks decide, CAP_KILL included), never with those of whoever releases
 * or closes: a target whose credentials changed so that the saved ones no
 * longer permit it (a set-user-ID exec) is not killed, and the refusal is
 * counted in kills_refused.  A process that has exited is never signalled;
 * the kill goes through the handle's struct pid, which never names another
 * process.
 *
 * Deadlines: all armed deadlines, of every table, are in one timerqueue
 * (a time-ordered rbtree) under ph_dl_lock, and one hrtimer is armed at
 * the earliest, with a little slack so that deadlines close together
 * share one timer interrupt.  The hrtimer only queues ph_dl_work, which in
 * process context fires every expired deadline (the signal, or SIGKILL if
 * it is the escalation) and queues the escalation (grace_ns later).
 * Armed deadlines therefore cost an rbtree node each and no timer of their
 * own: 100 000 of them cost the timer interrupts of their distinct firing
 * times, at most one per PH_DL_SLACK_NS.
 *
 * Protocol:
 *  - @lives entries are added and removed under ph_table.life_lock; an
 *    entry is added only to a handle not released (PH_HF_RELEASED checked
 *    under that lock), and the release of a handle removes its entry
 *    (ph_life_release()) after setting PH_HF_RELEASED, so no entry
 *    outlives its handle's table reference.
 *  - A life is refcounted: its @lives entry, its deadline while queued,
 *    and a firing in progress each hold a reference.
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
 */
#include <linux/cred.h>
#include <linux/hrtimer.h>
#include <linux/pid.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>
#include <linux/timerqueue.h>
#include <linux/workqueue.h>

#include <linux/prochandle.h>
#include "prochandle.h"

/* How late a deadline may fire to share a timer interrupt (<< 10 ms). */
#define PH_DL_SLACK_NS	(1 * NSEC_PER_MSEC)

struct ph_life {
	refcount_t ref;
	struct ph_handle *h;
	const struct cred *kor_cred;	/* kill on release: the acquirer's */
	/* the deadline, under ph_dl_lock */
	struct timerqueue_node node;
	const struct cred *dl_cred;	/* the armer's */
	u64 grace_ns;
	int sig;
	u32 gen;
	bool queued;
	bool escalate;			/* @node is the SIGKILL after grace */
	bool firing;			/* ph_dl_fire_one() holds @h */
	bool kor_sent;			/* killed on release early (track.c) */
};

static DEFINE_MUTEX(ph_dl_lock);
static struct timerqueue_head ph_deadlines = { .rb_root = RB_ROOT_CACHED };
static struct hrtimer ph_dl_timer;
static struct workqueue_struct *ph_dl_wq;
static void ph_dl_fire(struct work_struct *work);
static DECLARE_WORK(ph_dl_work, ph_dl_fire);

static void ph_life_put(struct ph_life *l)
{
	if (!refcount_dec_and_test(&l->ref))
		return;
	if (l->kor_cred)
		put_cred(l->kor_cred);
	if (l->dl_cred)
		put_cred(l->dl_cred);
	kfree(l);
}

/**
 * ph_life_kill() - Signal a handle's process with saved credentials.
 * @h: the handle
 * @cred: the credentials to judge the kill with
 * @sig: the signal
 *
 * Nothing is sent to a process that has exited.  Counts the kill in
 * kills, or a refusal in kills_refused.
 *
 * Return: 0, -ESRCH (exited), -EPERM (refused).
 */
static int ph_life_kill(struct ph_handle *h, const struct cred *cred, int sig)
{
	const struct cred *old;
	int status, err;

	if (ph_handle_state(h, &status) != PH_STATE_RUNNING)
		return -ESRCH;
	old = override_creds(cred);
	err = kill_pid(h->rec->pid, sig, 0);
	revert_creds(old);
	if (!err)
		atomic_long_inc(&ph_nr_kills);
	else if (err == -EPERM)
		atomic_long_inc(&ph_nr_kills_refused);
	return err;
}

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
	/* Pairs with wait_var_event() in ph_life_release(). */
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

/* Under t->life_lock: @h's life, created if @create; ERR_PTR on error. */
static struct ph_life *ph_life_of(struct ph_table *t, struct ph_handle *h,
				  bool create)
{
	struct ph_life *l;
	int err;

	lockdep_assert_held(&t->life_lock);
	if (atomic_read(&h->flags) & PH_HF_RELEASED)
		return ERR_PTR(-EBADF);
	l = xa_load(&t->lives, h->id);
	if (l || !create)
		return l;
	l = kzalloc(sizeof(*l), PH_GFP);
	if (!l)
		return ERR_PTR(-ENOMEM);
	refcount_set(&l->ref, 1);
	l->h = h;
	timerqueue_init(&l->node);
	err = xa_insert(&t->lives, h->id, l, PH_GFP);
	if (err) {
		kfree(l);
		return ERR_PTR(err);
	}
	return l;
}

/*
 * A life leaves @lives: wait for a firing in progress, which holds a handle
 * reference without holding the file, to drop it, so that the table's
 * reference stays the last (and the table outlives every use of it).
 */
static void ph_life_wait_firing(struct ph_life *l)
{
	wait_var_event(&l->firing, !READ_ONCE(l->firing));
}

/* Give @h kill on release judged with @cred (a reference is taken). */
static int ph_life_kor(struct ph_table *t, struct ph_handle *h,
		       const struct cred *cred)
{
	struct ph_life *l;

	lockdep_assert_held(&t->life_lock);
	l = ph_life_of(t, h, true);
	if (IS_ERR(l))
		return PTR_ERR(l);
	l->kor_cred = get_cred(cred);
	atomic_or(PH_HF_KILL_ON_RELEASE, &h->flags);
	return 0;
}

/**
 * ph_life_acquire() - Give a new handle kill on release.
 * @t: the table
 * @h: the handle, not yet published
 *
 * Keeps the caller's credentials to judge the kill with.
 *
 * Return: 0 or -ENOMEM.
 */
int ph_life_acquire(struct ph_table *t, struct ph_handle *h)
{
	int err;

	mutex_lock(&t->life_lock);
	err = ph_life_kor(t, h, current_cred());
	mutex_unlock(&t->life_lock);
	return err;
}

/**
 * ph_life_inherit() - A tracked child's handle inherits kill on release.
 * @t: the table
 * @h: the child's handle, not yet published
 * @parent: its parent's handle in @t, which has PH_HF_KILL_ON_RELEASE
 *
 * The child's kill is judged with the very credentials saved for the
 * parent's (shared, referenced), those of whoever acquired the parent.
 * Nothing to inherit if the parent's handle was released meanwhile.
 *
 * Return: 0 or -ENOMEM.
 */
int ph_life_inherit(struct ph_table *t, struct ph_handle *h,
		    struct ph_handle *parent)
{
	struct ph_life *pl;
	int err = 0;

	mutex_lock(&t->life_lock);
	pl = xa_load(&t->lives, parent->id);
	if (pl && pl->kor_cred)
		err = ph_life_kor(t, h, pl->kor_cred);
	mutex_unlock(&t->life_lock);
	return err;
}

/**
 * ph_life_kill_now() - Kill on release now, ahead of the release.
 * @t: the table
 * @h: the handle, about to be released
 *
 * Tracking (track.c) kills a tracked process before it stops tracking
 * it, so that a child it forks meanwhile is still tracked, and killed in
 * its turn; the release then sends nothing more (nor counts it twice).
 */
void ph_life_kill_now(struct ph_table *t, struct ph_handle *h)
{
	const struct cred *cred = NULL;
	struct ph_life *l;

	if (!(atomic_read(&h->flags) & PH_HF_KILL_ON_RELEASE))
		return;
	mutex_lock(&t->life_lock);
	l = xa_load(&t->lives, h->id);
	if (l && l->kor_cred && !l->kor_sent) {
		l->kor_sent = true;
		cred = get_cred(l->kor_cred);
	}
	mutex_unlock(&t->life_lock);
	if (cred) {
		ph_life_kill(h, cred, SIGKILL);
		put_cred(cred);
	}
}

/**
 * ph_life_release() - A handle is released: cancel, and kill on release.
 * @t: the table
 * @h: the handle, PH_HF_RELEASED already set
 * @kill: false to undo a failed ACQUIRE (nothing is signalled)
 *
 * Cancels its deadline and, if it was acquired with kill on release and
 * its process still runs, sends SIGKILL judged with the acquirer's
 * credentials, before returning.
 */
void ph_life_release(struct ph_table *t, struct ph_handle *h, bool kill)
{
	struct ph_life *l;

	if (xa_empty(&t->lives))
		return;
	mutex_lock(&t->life_lock);
	l = xa_erase(&t->lives, h->id);
	mutex_unlock(&t->life_lock);
	if (!l)
		return;
	mutex_lock(&ph_dl_lock);
	if (ph_dl_dequeue(l))
		refcount_dec(&l->ref);	/* not the last: @lives held one */
	mutex_unlock(&ph_dl_lock);
	ph_life_wait_firing(l);
	if (kill && l->kor_cred && !l->kor_sent)
		ph_life_kill(h, l->kor_cred, SIGKILL);
	ph_life_put(l);
}

/**
 * ph_life_arm() - Arm, re-arm or cancel the deadline of a handle.
 * @t: the table
 * @h: the handle, referenced by the caller
 * @d: the validated request (timeout_ns 0 cancels)
 *
 * Return: 0, -EBADF (released meanwhile) or -ENOMEM.
 */
int ph_life_arm(struct ph_table *t, struct ph_handle *h,
		const struct ph_deadline *d)
{
	struct ph_life *l;
	bool drop = false;
	int err = 0;

	mutex_lock(&t->life_lock);
	l = ph_life_of(t, h, d->timeout_ns);
	if (IS_ERR_OR_NULL(l)) {
		err = PTR_ERR_OR_ZERO(l);
		goto out;
	}
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
	/* Cancelled and no kill on release: the handle costs nothing again. */
	if (!d->timeout_ns && !l->kor_cred) {
		xa_erase(&t->lives, h->id);
		ph_life_wait_firing(l);
		ph_life_put(l);
	}
out:
	mutex_unlock(&t->life_lock);
	return err;
}

/**
 * ph_life_init() - Set up the deadline timer and workqueue.
 *
 * Return: 0 or -ENOMEM.
 */
int __init ph_life_init(void)
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
 * ph_life_teardown() - Stop the deadline timer; every file is closed.
 */
void ph_life_teardown(void)
{
	WARN_ON_ONCE(timerqueue_getnext(&ph_deadlines));
	hrtimer_cancel(&ph_dl_timer);
	destroy_workqueue(ph_dl_wq);
}
