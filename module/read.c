// SPDX-License-Identifier: GPL-2.0
/*
 * read() and poll() of the device: the records of a table's event queue
 * (events.c, whose protocol read() follows to take them) in the table's
 * format, struct ph_event (V1) or struct ph_event2 (V2, with the exit
 * record).
 *
 * The format is the table's ph_table.ev_format when read() starts: a
 * queued event is only formatted when it is read, so PH_IOC_SET_EVENTS
 * applies to the events already queued and loses none.
 */
#include <linux/pid_namespace.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/time_namespace.h>
#include <linux/uaccess.h>

#include <linux/prochandle.h>
#include "prochandle.h"
#include "events.h"

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
	spin_lock_irq(&t->ev_lock);
	WRITE_ONCE(t->ev_format, format);
	WRITE_ONCE(t->ev_mask, mask);
	spin_unlock_irq(&t->ev_lock);
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
	/* On the queue, then look: pairs with ph_events_wake()'s barrier. */
	smp_mb();
	return ph_events_pending(t) ? EPOLLIN | EPOLLRDNORM : 0;
}
