// SPDX-License-Identifier: GPL-2.0
/*
 * The event queue of a table: the handles whose process's exit has been
 * delivered to them (watch.c) and whose event nobody has read yet.  The
 * record lives in the handle (ph_handle.node, .status, .seq), so queuing
 * an event allocates nothing and an exit is never lost to memory pressure.
 *
 * Protocol (all under ph_table.ev_lock):
 *  - ph_events_queue() links a delivered handle, unless it was released,
 *    and sets PH_HF_ON_EVENTS.  The queue is kept in exit order
 *    (ph_watch.seq, assigned when the kernel reported the exit): exits are
 *    delivered independently of each other (watch.c), so a handle may be
 *    delivered after a later exit's; it is then inserted before it.  The
 *    common case (no later exit queued) appends; a per-table hint per seq
 *    slot makes a delivery's following inserts O(1) too.
 *  - ph_events_remove() unlinks the event of a handle being released.
 *  - read() dequeues a batch, takes a reference on each handle, and copies
 *    the records out with no lock held (a reader stalled in a page fault
 *    stalls no other reader).  If the copy fails the batch goes back at
 *    the head, in order, minus the handles released meanwhile.
 *  - The record format (struct ph_event, or struct ph_event2 with the exit
 *    record) is the table's ph_table.ev_format when read() starts: a
 *    queued event is only formatted when it is read, so PH_IOC_SET_EVENTS
 *    applies to the events already queued and loses none.
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
#include <linux/pid_namespace.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/time_namespace.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include <linux/prochandle.h>
#include "prochandle.h"

/* Records dequeued per pass of read(), V1 and V2; fits on the stack. */
#define PH_READ_BATCH		16
#define PH_READ_BATCH_V2	2

/* The PH_EVENT_* types a V2 reader may ask for (exits always come). */
#define PH_EVENT_TYPES	(PH_EVENT_EXIT | PH_EVENT_FORK | PH_EVENT_EXEC)

/* One dequeued record: an exit (a referenced handle) or a FORK/EXEC. */
struct ph_ev_item {
	struct ph_handle *h;
	struct ph_tev *e;
};

/* One pass of read(): the records of a batch, in the reader's format. */
union ph_event_batch {
	struct ph_event v1[PH_READ_BATCH];
	struct ph_event2 v2[PH_READ_BATCH_V2];
};

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

static void ph_events_wake(struct ph_table *t)
{
	wake_up_interruptible_poll(&t->wq, EPOLLIN | EPOLLRDNORM);
}

/**
 * ph_events_queue_tev() - Queue a FORK or EXEC record.
 * @t: the table
 * @e: the record, filled in but for its place; the queue owns it now
 *
 * Any context (ev_lock is never taken in interrupts).
 */
void ph_events_queue_tev(struct ph_table *t, struct ph_tev *e)
{
	spin_lock(&t->ev_lock);
	e->seq = ph_event_seq_next();
	list_add_tail(&e->node, &t->tevents);
	spin_unlock(&t->ev_lock);
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

	if (READ_ONCE(t->ev_format) != PH_EVENTS_V2)
		return;
	spin_lock(&t->ev_lock);
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
	spin_unlock(&t->ev_lock);
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
 * @h: the handle, just taken off its watch's list (under its lock)
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
	spin_lock(&t->ev_lock);
	if (atomic_read(&h->flags) & PH_HF_ON_EVENTS)
		ph_events_unlink(t, h);
	spin_unlock(&t->ev_lock);
}

/* Lockless: used in wait conditions; read() rechecks under the lock. */
static bool ph_events_pending(struct ph_table *t)
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

/*
 * Dequeue up to @n of the oldest records into @it, each handle referenced.
 * FORK/EXEC records are dropped unless @v2.
 */
static int ph_events_take(struct ph_table *t, struct ph_ev_item *it, int n,
			  bool v2, struct ph_tev *lost)
{
	struct ph_handle *h;
	struct ph_tev *e;
	int i = 0;

	spin_lock(&t->ev_lock);
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
	spin_unlock(&t->ev_lock);
	return i;
}

/* Put back at the head, in order, the records of @it not released since. */
static void ph_events_untake(struct ph_table *t, struct ph_ev_item *it, int n,
			     struct ph_tev *lost)
{
	struct ph_tev *e;
	int i;

	spin_lock(&t->ev_lock);
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
	spin_unlock(&t->ev_lock);
}

/* Drop the references of @it; free its FORK/EXEC records if @tevs. */
static void ph_events_put(struct ph_ev_item *it, int n, bool tevs,
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

/**
 * ph_events_set_format() - PH_IOC_SET_EVENTS: the format read() returns.
 * @t: the table
 * @format: PH_EVENTS_V1 or PH_EVENTS_V2
 * @mask: in V2, the PH_EVENT_* types to queue besides exits; 0 in V1
 *
 * Return: 0, or -EINVAL (unknown format or type, a mask in V1).
 */
int ph_events_set_format(struct ph_table *t, u32 format, u32 mask)
{
	if (format == PH_EVENTS_V1 ? mask :
	    format != PH_EVENTS_V2 || mask & ~PH_EVENT_TYPES)
		return -EINVAL;
	spin_lock(&t->ev_lock);
	WRITE_ONCE(t->ev_format, format);
	WRITE_ONCE(t->ev_mask, mask);
	spin_unlock(&t->ev_lock);
	return 0;
}

/* @h's exit event as a V2 record, as the current task sees it. */
static void ph_event2_fill(struct ph_event2 *e, struct ph_handle *h,
			   struct pid_namespace *ns)
{
	memset(e, 0, sizeof(*e));
	e->size = sizeof(*e);
	e->type = PH_EVENT_EXIT;
	e->handle = h->id;
	e->pid = pid_nr_ns(h->rec->pid, ns);
	e->status = READ_ONCE(h->status);
	/* Delivered, so recorded: the record is captured. */
	ph_record_fill(h->rec, &e->exit);
	e->time = e->exit.exit_time;
}

/* A FORK or EXEC record in V2, as the current task sees it. */
static void ph_tev_fill(struct ph_event2 *ev, const struct ph_tev *e,
			struct pid_namespace *ns)
{
	memset(ev, 0, sizeof(*ev));
	ev->size = sizeof(*ev);
	ev->type = e->type;
	ev->handle = e->handle;
	ev->pid = e->pid ? pid_nr_ns(e->pid, ns) : 0;
	ev->time = timens_add_boottime_ns(e->time);
	ev->child = e->child;
	ev->child_pid = e->child_pid ? pid_nr_ns(e->child_pid, ns) : 0;
	ev->flags = e->flags;
}

/**
 * ph_events_read() - read() of the device: whole records, V1 or V2.
 * @file: the file
 * @buf: user buffer
 * @count: its size
 * @ppos: unused (stream)
 *
 * Return: bytes read, -EINVAL (no room for one record), -EAGAIN, -EFAULT
 * or -ERESTARTSYS.
 */
ssize_t ph_events_read(struct file *file, char __user *buf, size_t count,
		       loff_t *ppos)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct ph_table *t = file->private_data;
	bool v2 = READ_ONCE(t->ev_format) == PH_EVENTS_V2;
	size_t size = v2 ? sizeof(struct ph_event2) : sizeof(struct ph_event);
	size_t batch = v2 ? PH_READ_BATCH_V2 : PH_READ_BATCH;
	struct ph_ev_item it[PH_READ_BATCH];
	union ph_event_batch ev;
	struct ph_tev lost;
	size_t want = count / size;
	ssize_t done = 0;
	int i, n;

	if (!want)
		return -EINVAL;
	while (want) {
		n = ph_events_take(t, it, min(want, batch), v2, &lost);
		if (!n) {
			if (done)
				break;
			if (file->f_flags & O_NONBLOCK)
				return -EAGAIN;
			if (wait_event_interruptible(t->wq, ph_events_pending(t)))
				return -ERESTARTSYS;
			continue;
		}
		for (i = 0; i < n; i++) {
			if (it[i].e) {
				ph_tev_fill(&ev.v2[i], it[i].e, ns);
			} else if (v2) {
				ph_event2_fill(&ev.v2[i], it[i].h, ns);
			} else {
				ev.v1[i].handle = it[i].h->id;
				ev.v1[i].pid = pid_nr_ns(it[i].h->rec->pid, ns);
				ev.v1[i].status = READ_ONCE(it[i].h->status);
			}
		}
		if (copy_to_user(buf + done, &ev, n * size)) {
			ph_events_untake(t, it, n, &lost);
			ph_events_put(it, n, false, &lost);
			return done ? done : -EFAULT;
		}
		ph_events_put(it, n, true, &lost);
		done += n * size;
		want -= n;
	}
	return done;
}

/**
 * ph_events_poll() - poll() of the device: EPOLLIN while an event is queued.
 * @file: the file
 * @pt: the poll table
 *
 * Return: the poll mask.
 */
__poll_t ph_events_poll(struct file *file, poll_table *pt)
{
	struct ph_table *t = file->private_data;

	poll_wait(file, &t->wq, pt);
	return ph_events_pending(t) ? EPOLLIN | EPOLLRDNORM : 0;
}
