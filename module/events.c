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
 * Model-checked, with handle.c and watch.c, in model/prochandle.pml.
 */
#include <linux/pid_namespace.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>

#include <linux/prochandle.h>
#include "prochandle.h"

/* Records dequeued per pass of read(), V1 and V2; fits on the stack. */
#define PH_READ_BATCH		16
#define PH_READ_BATCH_V2	2

/* The PH_EVENT_* types a V2 reader may ask for (exits always come). */
#define PH_EVENT_TYPES	(PH_EVENT_EXIT | PH_EVENT_FORK | PH_EVENT_EXEC)

/* One pass of read(): the records of a batch, in the reader's format. */
union ph_event_batch {
	struct ph_event v1[PH_READ_BATCH];
	struct ph_event2 v2[PH_READ_BATCH_V2];
};

void ph_events_init(struct ph_table *t)
{
	spin_lock_init(&t->ev_lock);
	INIT_LIST_HEAD(&t->events);
	init_waitqueue_head(&t->wq);
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
	wake_up_interruptible_poll(&t->wq, EPOLLIN | EPOLLRDNORM);
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
	return !list_empty_careful(&t->events);
}

/* Dequeue up to @n of the oldest events into @hs, each referenced. */
static int ph_events_take(struct ph_table *t, struct ph_handle **hs, int n)
{
	struct ph_handle *h;
	int i;

	spin_lock(&t->ev_lock);
	for (i = 0; i < n; i++) {
		h = list_first_entry_or_null(&t->events, struct ph_handle, node);
		if (!h)
			break;
		ph_events_unlink(t, h);
		kref_get(&h->ref);
		hs[i] = h;
	}
	spin_unlock(&t->ev_lock);
	return i;
}

/* Put back at the head, in order, the events of @hs not released since. */
static void ph_events_untake(struct ph_table *t, struct ph_handle **hs, int n)
{
	int i;

	spin_lock(&t->ev_lock);
	for (i = n - 1; i >= 0; i--) {
		if (atomic_read(&hs[i]->flags) & PH_HF_RELEASED)
			continue;
		list_add(&hs[i]->node, &t->events);
		atomic_or(PH_HF_ON_EVENTS, &hs[i]->flags);
	}
	spin_unlock(&t->ev_lock);
}

static void ph_events_put(struct ph_handle **hs, int n)
{
	int i;

	for (i = 0; i < n; i++)
		ph_handle_put(hs[i]);
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
	struct ph_handle *hs[PH_READ_BATCH];
	union ph_event_batch ev;
	size_t want = count / size;
	ssize_t done = 0;
	int i, n;

	if (!want)
		return -EINVAL;
	while (want) {
		n = ph_events_take(t, hs, min(want, batch));
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
			if (v2) {
				ph_event2_fill(&ev.v2[i], hs[i], ns);
				continue;
			}
			ev.v1[i].handle = hs[i]->id;
			ev.v1[i].pid = pid_nr_ns(hs[i]->rec->pid, ns);
			ev.v1[i].status = READ_ONCE(hs[i]->status);
		}
		if (copy_to_user(buf + done, &ev, n * size)) {
			ph_events_untake(t, hs, n);
			ph_events_put(hs, n);
			return done ? done : -EFAULT;
		}
		ph_events_put(hs, n);
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
