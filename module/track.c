// SPDX-License-Identifier: GPL-2.0
/*
 * Tracking descendants (SPEC 12): PH_ACQUIRE_TRACK and the trackers.
 * What a fork or exec of a tracked process does (the probes, the child's
 * handles, FORK and EXEC records) is in fork.c.
 *
 * Objects:
 *  - struct ph_tracker, one per handle acquired with PH_ACQUIRE_TRACK (or
 *    made by tracking): in its table's @trackers xarray, keyed by handle
 *    id, and on its process's ph_track.trackers.  It holds a reference on
 *    the process's exit watch, so on the ph_track, until it is freed.
 *  - struct ph_track, one per tracked process, hangs off its exit watch
 *    (ph_watch.track, set once, freed with the watch): the trackers.
 *  - struct ph_fork (fork.c), one per fork of a tracked process.
 *
 * Protocol:
 *  - ph_track.mutex serialises the fork works of a process with the
 *    unlinking of its trackers; ph_track.lock (a spinlock) protects the
 *    list for the probes, which cannot sleep.  Trackers are added and
 *    removed under both.  A fork work holds its parent's mutex for the
 *    whole walk and takes the new child's inside it (tree order: parent
 *    before child, never the reverse, so no cycle).
 *  - A tracker is unlinked before its handle's table reference is put and
 *    before its table is freed: so a tracker found under either lock has
 *    a live handle and table.  The table's last close unlinks its
 *    trackers (ph_track_close()) before it releases its handles, and the
 *    fork works of @t then in progress finish first (the mutex): a handle
 *    tracking adds is never missed by the close.
 *  - Kill on release: a tracked process is killed before its tracker is
 *    unlinked (ph_life_kill_now()), so a child whose fork raced with the
 *    kill is still tracked, and killed in its turn.  Left open: a fork
 *    that passed copy_process()'s pending-signal check before the kill
 *    and reaches the probe only after the unlink (the thread preempted in
 *    between) yields an untracked child.
 * Model-checked, with fork.c, in model/track.pml.
 */
#include <linux/jump_label.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>

#include <linux/prochandle.h>
#include "prochandle.h"
#include "track.h"

DEFINE_STATIC_KEY_FALSE(ph_tracking);

/* The track of @w, made on first use; the watch is referenced. */
static struct ph_track *ph_track_of(struct ph_watch *w)
{
	struct ph_track *tk = rcu_dereference_protected(w->track, true);
	struct ph_track *old;

	if (tk)
		return tk;
	tk = kzalloc(sizeof(*tk), PH_GFP);
	if (!tk)
		return NULL;
	mutex_init(&tk->mutex);
	spin_lock_init(&tk->lock);
	INIT_LIST_HEAD(&tk->trackers);
	old = unrcu_pointer(cmpxchg(&w->track, NULL, RCU_INITIALIZER(tk)));
	if (old) {
		mutex_destroy(&tk->mutex);
		kfree(tk);
		return old;
	}
	return tk;
}

/**
 * ph_track_attach() - Make a handle's process tracked by its table.
 * @t: the table
 * @h: the handle, not yet published, holding its process reference
 *
 * Return: 0, or -ENOMEM.
 */
int ph_track_attach(struct ph_table *t, struct ph_handle *h)
{
	struct ph_watch *w = rcu_dereference_protected(h->watch, true);
	struct ph_tracker *tr;
	struct ph_track *tk;
	int err;

	tk = ph_track_of(w);
	if (!tk)
		return -ENOMEM;
	tr = kzalloc(sizeof(*tr), PH_GFP);
	if (!tr)
		return -ENOMEM;
	tr->h = h;
	tr->table = t;
	tr->w = w;
	err = xa_insert(&t->trackers, h->id, tr, PH_GFP);
	if (err) {
		kfree(tr);
		return err;
	}
	refcount_inc(&w->ref);
	/*
	 * The key counts tables with trackers: 0 -> 1 only in ACQUIRE (a
	 * fork work adds to a table that has its parent's tracker), so the
	 * key's locks are never taken under ph_track.mutex.
	 */
	if (atomic_inc_return(&t->nr_trackers) == 1)
		static_branch_inc(&ph_tracking);
	/* Nested in a fork work holding the parent's (tree order). */
	mutex_lock_nested(&tk->mutex, SINGLE_DEPTH_NESTING);
	spin_lock(&tk->lock);
	list_add_tail(&tr->node, &tk->trackers);
	spin_unlock(&tk->lock);
	mutex_unlock(&tk->mutex);
	atomic_or(PH_HF_TRACK, &h->flags);
	return 0;
}

/**
 * ph_track_release() - A handle is released: stop tracking through it.
 * @t: the table
 * @h: the handle, PH_HF_RELEASED set
 *
 * Kills it first if it has kill on release (see the top of this file),
 * then waits for a fork work in progress on its process to finish.
 */
void ph_track_release(struct ph_table *t, struct ph_handle *h)
{
	struct ph_tracker *tr;
	struct ph_track *tk;

	if (!(atomic_read(&h->flags) & PH_HF_TRACK))
		return;
	ph_life_kill_now(t, h);
	tr = xa_erase(&t->trackers, h->id);
	if (!tr)
		return;
	tk = rcu_dereference_protected(tr->w->track, true);
	mutex_lock(&tk->mutex);
	spin_lock(&tk->lock);
	list_del(&tr->node);
	spin_unlock(&tk->lock);
	mutex_unlock(&tk->mutex);
	ph_watch_put(tr->w);
	kfree(tr);
	if (atomic_dec_and_test(&t->nr_trackers))
		static_branch_dec(&ph_tracking);
}

/**
 * ph_track_close() - The table's last close: stop all its tracking.
 * @t: the table
 *
 * Before its handles are released, so that tracking adds none after
 * (ascending ids also visit trackers added meanwhile).
 */
void ph_track_close(struct ph_table *t)
{
	struct ph_tracker *tr;
	unsigned long id;

	xa_for_each(&t->trackers, id, tr) {
		atomic_or(PH_HF_RELEASED, &tr->h->flags);
		ph_track_release(t, tr->h);
		cond_resched();
	}
	xa_destroy(&t->trackers);
}

/**
 * ph_track_free() - Free the track of a watch being freed.
 * @w: the watch; no tracker is left (each held a reference)
 */
void ph_track_free(struct ph_watch *w)
{
	struct ph_track *tk = rcu_dereference_protected(w->track, true);

	if (!tk)
		return;
	WARN_ON_ONCE(!list_empty(&tk->trackers));
	kfree_rcu(tk, rcu);	/* a probe may still look at it (RCU) */
}
