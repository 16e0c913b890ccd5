// SPDX-License-Identifier: GPL-2.0
/*
 * The event queue of a table: the handles whose process's exit has been
 * delivered to them (watch.c) and whose event nobody has read yet.  The
 * record lives in the handle (ph_handle.node, .status, .seq), so queuing
 * an event allocates nothing and an exit is never lost to memory pressure.
 *
 * Protocol (all under ph_table.ev_lock, which is taken with interrupts
 * off: an exit's first deliveries run in the exit path, under
 * tasklist_lock and the pidfd wait queue's lock, watch.c says why and in
 * which lock order; nothing under ev_lock sleeps or takes another lock
 * but a wait queue's):
 *  - ph_events_queue() links a delivered handle, unless it was released,
 *    and sets PH_HF_ON_EVENTS.  The queue is kept in exit order
 *    (ph_watch.seq, assigned when the kernel reported the exit): exits are
 *    delivered independently of each other (watch.c), so a handle may be
 *    delivered after a later exit's; it is then inserted before it.  The
 *    common case (no later exit queued) appends; a per-table hint per seq
 *    slot makes a delivery's following inserts O(1) too.
 *  - ph_events_remove() unlinks the event of a handle being released.
 *  - read() (read.c) dequeues a batch (ph_events_take()), takes a
 *    reference on each handle, and copies the records out with no lock
 *    held (a reader stalled in a page fault stalls no other reader).  If
 *    the copy fails the batch goes back at the head, in order, minus the
 *    handles released meanwhile (ph_events_untake()).
 * A handle is on the queue only while the table holds its reference, so
 * a handle found on the queue under ev_lock is alive.
 *
 * FORK and EXEC records of tracked processes (track.c) are separate
 * objects (struct ph_tev) on a second list, ph_table.tevents, in the same
 * order (their seq is taken from the exit order's counter when they are
 * queued, under ev_lock, so the list is sorted).  read() merges the two
 * lists by seq.  A dequeued record belongs to the reader (freed after the
 * copy, put back on a failed copy).  They are V2 records: a V1 read()
 * drops them.  ph_table.lost is the one record that needs no allocation:
 * a fork whose child could not be tracked and whose own record could not
 * be allocated either queues it (TRACK_LOST, coalescing such losses until
 * it is read), so that the loss is never silent; the reader takes a copy.
 * Model-checked, with handle.c and watch.c, in model/prochandle.pml.
 */
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>

#include <linux/prochandle.h>
#include "prochandle.h"
#include "events.h"

/**
 * ph_events_init() - Set up the event queue of a new table.
 * @t: the table
 */
void ph_events_init(struct ph_table *t)
{
	spin_lock_init(&t->ev_lock);
	INIT_LIST_HEAD(&t->events);
	INIT_LIST_HEAD(&t->tevents);
	init_waitqueue_head(&t->wq);
}

/**
 * ph_tev_free() - Free a FORK/EXEC record that is on no list.
 * @e: the record
 */
void ph_tev_free(struct ph_tev *e)
{
	put_pid(e->pid);
	put_pid(e->child_pid);
	kfree(e);
}

/**
 * ph_events_want() - Does a table queue records of a type now?
 * @t: the table
 * @type: PH_EVENT_FORK or PH_EVENT_EXEC
 *
 * Return: true in format V2 with @type in the mask.
 */
bool ph_events_want(struct ph_table *t, u32 type)
{
	return READ_ONCE(t->ev_format) == PH_EVENTS_V2 &&
	       (READ_ONCE(t->ev_mask) & type);
}

/*
 * Wake readers and pollers, if any: the full barrier of wq_has_sleeper()
 * orders the queued record before the look at the wait queue; it pairs
 * with the one after poll_wait() in ph_events_poll() and with
 * prepare_to_wait_event()'s in read().
 */
static void ph_events_wake(struct ph_table *t)
{
	if (wq_has_sleeper(&t->wq))
		wake_up_interruptible_poll(&t->wq, EPOLLIN | EPOLLRDNORM);
}

/**
 * ph_events_queue_tev() - Queue a FORK or EXEC record.
 * @t: the table
 * @e: the record, filled in but for its place; the queue owns it now
 *
 * Any context.
 */
void ph_events_queue_tev(struct ph_table *t, struct ph_tev *e)
{
	unsigned long flags;

	spin_lock_irqsave(&t->ev_lock, flags);
	e->seq = ph_event_seq_next();
	list_add_tail(&e->node, &t->tevents);
	spin_unlock_irqrestore(&t->ev_lock, flags);
	ph_events_wake(t);
}

/**
 * ph_events_lost() - Report, without allocating, a child not tracked.
 * @t: the table, in format V2 (nothing is queued in V1)
 * @handle: the parent's handle
 * @pid: the parent
 * @child: the child
 *
 * Queues ph_table.lost, a FORK record with PH_EVENT_F_TRACK_LOST, unless
 * it is queued already: losses coalesce into it until it is read (it
 * names the first).  Any context.
 */
void ph_events_lost(struct ph_table *t, u64 handle, struct pid *pid,
		    struct pid *child)
{
	struct ph_tev *e = &t->lost;
	unsigned long flags;

	if (READ_ONCE(t->ev_format) != PH_EVENTS_V2)
		return;
	spin_lock_irqsave(&t->ev_lock, flags);
	if (!t->lost_queued) {
		e->type = PH_EVENT_FORK;
		e->flags = PH_EVENT_F_TRACK_LOST;
		e->handle = handle;
		e->child = 0;
		e->pid = get_pid(pid);
		e->child_pid = get_pid(child);
		e->time = ktime_get_boottime_ns();
		e->seq = ph_event_seq_next();
		list_add_tail(&e->node, &t->tevents);
		t->lost_queued = true;
	}
	spin_unlock_irqrestore(&t->ev_lock, flags);
	ph_events_wake(t);
}

/**
 * ph_events_flush() - Free the FORK/EXEC records of a table being freed.
 * @t: the table
 */
void ph_events_flush(struct ph_table *t)
{
	struct ph_tev *e, *tmp;

	list_for_each_entry_safe(e, tmp, &t->tevents, node) {
		list_del(&e->node);
		if (e == &t->lost) {
			put_pid(e->pid);
			put_pid(e->child_pid);
		} else {
			ph_tev_free(e);
		}
	}
}

/* Is exit order @a after @b?  (u32 sequence numbers wrap.) */
static bool ph_seq_after(u32 a, u32 b)
{
	return (s32)(a - b) > 0;
}

/* Under ev_lock: where to insert an event of exit order @seq. */
static struct list_head *ph_events_pos(struct ph_table *t, u32 seq)
{
	struct ph_handle *hint = t->ev_hint[seq % PH_EV_HINTS];
	struct list_head *pos = t->events.prev;

	if (hint && hint->seq == seq)
		return &hint->node;
	while (pos != &t->events &&
	       ph_seq_after(list_entry(pos, struct ph_handle, node)->seq, seq))
		pos = pos->prev;
	return pos;
}

/* Under ev_lock: @h leaves the queue. */
static void ph_events_unlink(struct ph_table *t, struct ph_handle *h)
{
	struct ph_handle **hint = &t->ev_hint[h->seq % PH_EV_HINTS];

	if (*hint == h)
		*hint = NULL;
	list_del(&h->node);
	atomic_andnot(PH_HF_ON_EVENTS, &h->flags);
}

/**
 * ph_events_queue() - Queue the exit event of a handle.
 * @h: the handle, just taken off its watch's list (under its lock, so
 *	with interrupts off)
 * @status: the wait status of its process
 * @seq: the exit's place in the exit order
 *
 * Nothing is queued for a released handle.  Wakes readers and pollers.
 */
void ph_events_queue(struct ph_handle *h, int status, u32 seq)
{
	struct ph_table *t = h->table;

	WRITE_ONCE(h->status, status);
	h->seq = seq;
	/* A released handle's table may be gone (its last close): no event. */
	if (atomic_read(&h->flags) & PH_HF_RELEASED)
		return;
	lockdep_assert_irqs_disabled();
	spin_lock(&t->ev_lock);
	if (!(atomic_read(&h->flags) & PH_HF_RELEASED)) {
		list_add(&h->node, ph_events_pos(t, seq));
		atomic_or(PH_HF_ON_EVENTS, &h->flags);
		t->ev_hint[seq % PH_EV_HINTS] = h;
	}
	spin_unlock(&t->ev_lock);
	ph_events_wake(t);
}

/**
 * ph_events_remove() - Drop the unread event of a handle, if any.
 * @t: the table
 * @h: the handle, released (PH_HF_RELEASED set)
 */
void ph_events_remove(struct ph_table *t, struct ph_handle *h)
{
	spin_lock_irq(&t->ev_lock);
	if (atomic_read(&h->flags) & PH_HF_ON_EVENTS)
		ph_events_unlink(t, h);
	spin_unlock_irq(&t->ev_lock);
}

/**
 * ph_events_pending() - Is a record queued?
 * @t: the table
 *
 * Lockless: used in wait conditions; read() rechecks under the lock.
 *
 * Return: true if a record is queued.
 */
bool ph_events_pending(struct ph_table *t)
{
	return !list_empty_careful(&t->events) ||
	       !list_empty_careful(&t->tevents);
}

/*
 * Under ev_lock: dequeue the oldest FORK/EXEC record.  The lost record is
 * copied to @lost (the reader's) and freed for the next loss.
 */
static struct ph_tev *ph_events_take_tev(struct ph_table *t,
					 struct ph_tev *lost)
{
	struct ph_tev *e = list_first_entry(&t->tevents, struct ph_tev, node);

	list_del(&e->node);
	if (e != &t->lost)
		return e;
	*lost = t->lost;	/* the pid references move to the copy */
	t->lost.pid = NULL;
	t->lost.child_pid = NULL;
	t->lost_queued = false;
	return lost;
}

/* Free a dequeued FORK/EXEC record: @lost is the copy of the lost one. */
static void ph_events_free_tev(struct ph_tev *e, struct ph_tev *lost)
{
	if (e != lost) {
		ph_tev_free(e);
		return;
	}
	put_pid(e->pid);
	put_pid(e->child_pid);
}

/**
 * ph_events_take() - Dequeue the oldest records for read().
 * @t: the table
 * @it: where to put them
 * @n: room in @it
 * @v2: the reader's format is V2 (else FORK/EXEC records are dropped)
 * @lost: the reader's copy of the lost record, if it is taken
 *
 * Each handle taken is referenced; the FORK/EXEC records are the
 * reader's.
 *
 * Return: the number of records in @it.
 */
int ph_events_take(struct ph_table *t, struct ph_ev_item *it, int n,
		   bool v2, struct ph_tev *lost)
{
	struct ph_handle *h;
	struct ph_tev *e;
	int i = 0;

	spin_lock_irq(&t->ev_lock);
	while (i < n) {
		h = list_first_entry_or_null(&t->events, struct ph_handle, node);
		e = list_first_entry_or_null(&t->tevents, struct ph_tev, node);
		if (e && (!h || ph_seq_after(h->seq, e->seq))) {
			e = ph_events_take_tev(t, lost);
			if (!v2) {
				ph_events_free_tev(e, lost);
				continue;
			}
			it[i].h = NULL;
			it[i++].e = e;
			continue;
		}
		if (!h)
			break;
		ph_events_unlink(t, h);
		kref_get(&h->ref);
		it[i].e = NULL;
		it[i++].h = h;
	}
	spin_unlock_irq(&t->ev_lock);
	return i;
}

/**
 * ph_events_untake() - Put back taken records after a failed copy.
 * @t: the table
 * @it: the records, from ph_events_take()
 * @n: their number
 * @lost: the reader's copy of the lost record
 *
 * They go back at the head, in order, but for the handles released since.
 * The references are still the caller's (ph_events_put(), @tevs false).
 */
void ph_events_untake(struct ph_table *t, struct ph_ev_item *it, int n,
		      struct ph_tev *lost)
{
	struct ph_tev *e;
	int i;

	spin_lock_irq(&t->ev_lock);
	for (i = n - 1; i >= 0; i--) {
		e = it[i].e;
		if (e == lost && t->lost_queued) {
			ph_events_free_tev(e, lost);	/* a newer loss is queued */
		} else if (e == lost) {
			t->lost = *lost;
			list_add(&t->lost.node, &t->tevents);
			t->lost_queued = true;
		} else if (e) {
			list_add(&e->node, &t->tevents);
		} else if (!(atomic_read(&it[i].h->flags) & PH_HF_RELEASED)) {
			list_add(&it[i].h->node, &t->events);
			atomic_or(PH_HF_ON_EVENTS, &it[i].h->flags);
		}
	}
	spin_unlock_irq(&t->ev_lock);
}

/**
 * ph_events_put() - Drop the references of taken records.
 * @it: the records, from ph_events_take()
 * @n: their number
 * @tevs: free the FORK/EXEC records too (they were not put back)
 * @lost: the reader's copy of the lost record
 */
void ph_events_put(struct ph_ev_item *it, int n, bool tevs,
		   struct ph_tev *lost)
{
	int i;

	for (i = 0; i < n; i++) {
		if (it[i].h)
			ph_handle_put(it[i].h);
		else if (tevs)
			ph_events_free_tev(it[i].e, lost);
	}
}
