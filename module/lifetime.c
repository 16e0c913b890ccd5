// SPDX-License-Identifier: GPL-2.0
/*
 * Lifetime control (SPEC 11): kill on release, and the life that a
 * deadline (deadline.c) belongs to.
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
 * Protocol:
 *  - @lives entries are added and removed under ph_table.life_lock; an
 *    entry is added only to a handle not released (PH_HF_RELEASED checked
 *    under that lock), and the release of a handle removes its entry
 *    (ph_life_release()) after setting PH_HF_RELEASED, so no entry
 *    outlives its handle's table reference.
 *  - A life is refcounted: its @lives entry, its deadline while queued,
 *    and a firing in progress each hold a reference.
 *  - The deadline's fields, and the firing that whoever takes a life out
 *    of @lives waits for, follow deadline.c's protocol.
 * Model-checked, with deadline.c and the releases (handle.c, table.c,
 * track.c's early kill), in model/lifetime.pml: the kill on release is
 * sent once at most and never reaches another process (the state check
 * may be stale: kill_pid() then finds the group exiting and drops the
 * signal, or reaped: ESRCH), and a release returns with the process no
 * longer running.
 */
#include <linux/cred.h>
#include <linux/pid.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>

#include <linux/prochandle.h>
#include "prochandle.h"
#include "lifetime.h"

/**
 * ph_life_put() - Drop a reference on a life; the last frees it.
 * @l: the life
 */
void ph_life_put(struct ph_life *l)
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
int ph_life_kill(struct ph_handle *h, const struct cred *cred, int sig)
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
	ph_dl_cancel(l);
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
	int err = 0;

	mutex_lock(&t->life_lock);
	l = ph_life_of(t, h, d->timeout_ns);
	if (IS_ERR_OR_NULL(l)) {
		err = PTR_ERR_OR_ZERO(l);
		goto out;
	}
	ph_dl_set(l, d);
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
