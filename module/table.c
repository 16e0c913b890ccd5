// SPDX-License-Identifier: GPL-2.0
/*
 * The handle table: one per open /dev/prochandle file.  Ids come from a
 * 64-bit counter and are never reused; the xarray maps them to handles
 * (RCU lookups, stores under its lock).  Exited handles whose event is
 * unread wait on a list, oldest first, for read() and poll().
 */
#include <linux/fs.h>
#include <linux/pid_namespace.h>
#include <linux/poll.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <linux/prochandle.h>
#include "prochandle.h"

/* Records copied to user space per locked pass; fits on the stack. */
#define PH_READ_BATCH	16

/*
 * Ids only grow, so handles come and go in the newest block of
 * XA_CHUNK_SIZE ids.  An anchor, a reserved entry at the block's first
 * index (an id never handed out), keeps that block's xarray leaf alive
 * while its handles are released, instead of freeing and allocating the
 * leaf again at every acquire and release of a lone handle.  Each new
 * block moves the anchor; anchors are not handles and do not count.
 */
static int ph_table_move_anchor(struct ph_table *t, unsigned long base)
{
	int err;

	err = __xa_insert(&t->handles, base, NULL, GFP_KERNEL_ACCOUNT);
	if (!err && base >= XA_CHUNK_SIZE)
		__xa_cmpxchg(&t->handles, base - XA_CHUNK_SIZE, XA_ZERO_ENTRY,
			     NULL, 0);
	return err;
}

/**
 * ph_table_reserve() - Reserve the next handle id of a table.
 * @t: the table
 * @id: set to the reserved id, not yet visible to lookups
 *
 * Return: 0, -EMFILE if the table holds max_handles handles (or ran out of
 * ids), or -ENOMEM.
 */
int ph_table_reserve(struct ph_table *t, u64 *id)
{
	unsigned int max = READ_ONCE(ph_max_handles);
	unsigned long next;
	int err = -EMFILE;

	xa_lock(&t->handles);
	if (t->nr >= max || t->last_id >= ULONG_MAX - 1)
		goto out;
	/* Claim ids and count first: __xa_insert() may drop the lock. */
	t->nr++;
	next = ++t->last_id;
	err = 0;
	if (!(next % XA_CHUNK_SIZE)) {
		err = ph_table_move_anchor(t, next);
		next = ++t->last_id;
	}
	if (!err)
		err = __xa_insert(&t->handles, next, NULL, GFP_KERNEL_ACCOUNT);
	if (err)
		t->nr--;
	*id = next;
out:
	xa_unlock(&t->handles);
	return err;
}

void ph_table_unreserve(struct ph_table *t, u64 id)
{
	xa_lock(&t->handles);
	__xa_cmpxchg(&t->handles, id, XA_ZERO_ENTRY, NULL, 0);
	t->nr--;
	xa_unlock(&t->handles);
}

/* Make @h visible; its id is reserved, so this cannot fail. */
void ph_table_publish(struct ph_table *t, struct ph_handle *h)
{
	xa_store(&t->handles, h->id, h, 0);
}

void ph_table_erase(struct ph_table *t, u64 id)
{
	xa_lock(&t->handles);
	__xa_erase(&t->handles, id);
	t->nr--;
	xa_unlock(&t->handles);
}

void ph_events_remove(struct ph_table *t, struct ph_handle *h)
{
	spin_lock(&t->ev_lock);
	if (h->on_events) {
		list_del(&h->node);
		h->on_events = false;
	}
	spin_unlock(&t->ev_lock);
}

/* Lockless: used in wait conditions; read() rechecks under the lock. */
static bool ph_events_pending(struct ph_table *t)
{
	return !list_empty_careful(&t->events);
}

/* Copy up to @n of the oldest events, leaving them queued. */
static int ph_events_peek(struct ph_table *t, struct ph_event *ev, int n,
			  struct pid_namespace *ns)
{
	struct ph_handle *h;
	int i = 0;

	spin_lock(&t->ev_lock);
	list_for_each_entry(h, &t->events, node) {
		if (i == n)
			break;
		ev[i].handle = h->id;
		ev[i].pid = pid_nr_ns(h->pid, ns);
		ev[i].status = READ_ONCE(h->status);
		i++;
	}
	spin_unlock(&t->ev_lock);
	return i;
}

/*
 * Dequeue the events ph_events_peek() copied.  Readers are serialised and
 * events are only appended, so those still queued are still at the head,
 * in order; ids are never reused, so an id names one handle.
 */
static void ph_events_commit(struct ph_table *t, const struct ph_event *ev,
			     int n)
{
	struct ph_handle *h;
	int i;

	spin_lock(&t->ev_lock);
	for (i = 0; i < n; i++) {
		h = list_first_entry_or_null(&t->events, struct ph_handle, node);
		if (h && h->id == ev[i].handle) {
			list_del(&h->node);
			h->on_events = false;
		}
	}
	spin_unlock(&t->ev_lock);
}

static ssize_t ph_read(struct file *file, char __user *buf, size_t count,
		       loff_t *ppos)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct ph_table *t = file->private_data;
	struct ph_event ev[PH_READ_BATCH];
	size_t want = count / sizeof(ev[0]);
	ssize_t done = 0;
	int n, err;

	if (!want)
		return -EINVAL;
	for (;;) {
		if (mutex_lock_interruptible(&t->read_lock))
			return -ERESTARTSYS;
		n = ph_events_peek(t, ev, min_t(size_t, want, PH_READ_BATCH), ns);
		if (n)
			break;
		mutex_unlock(&t->read_lock);
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		err = wait_event_interruptible(t->wq, ph_events_pending(t));
		if (err)
			return err;
	}
	while (n) {
		if (copy_to_user(buf + done, ev, n * sizeof(ev[0]))) {
			if (!done)
				done = -EFAULT;
			break;
		}
		ph_events_commit(t, ev, n);
		done += n * sizeof(ev[0]);
		want -= n;
		if (!want)
			break;
		n = ph_events_peek(t, ev, min_t(size_t, want, PH_READ_BATCH), ns);
	}
	mutex_unlock(&t->read_lock);
	return done;
}

static __poll_t ph_poll(struct file *file, poll_table *pt)
{
	struct ph_table *t = file->private_data;

	poll_wait(file, &t->wq, pt);
	return ph_events_pending(t) ? EPOLLIN | EPOLLRDNORM : 0;
}

static int ph_open(struct inode *inode, struct file *file)
{
	struct ph_table *t;

	t = kzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);
	if (!t)
		return -ENOMEM;
	xa_init(&t->handles);
	spin_lock_init(&t->ev_lock);
	INIT_LIST_HEAD(&t->events);
	init_waitqueue_head(&t->wq);
	mutex_init(&t->read_lock);
	file->private_data = t;
	atomic_long_inc(&ph_nr_files);
	return stream_open(inode, file);
}

/* The last reference to the file is gone: no call is in flight. */
static int ph_release(struct inode *inode, struct file *file)
{
	struct ph_table *t = file->private_data;
	struct ph_handle *h;
	unsigned long id;

	xa_for_each(&t->handles, id, h) {
		atomic_or(PH_HS_RELEASED, &h->state);
		ph_events_remove(t, h);
		ph_handle_put(h);
		cond_resched();
	}
	xa_destroy(&t->handles);
	mutex_destroy(&t->read_lock);
	kfree(t);
	atomic_long_dec(&ph_nr_files);
	return 0;
}

static const char * const ph_state_names[] = {
	[PH_STATE_RUNNING] = "running",
	[PH_STATE_EXITED] = "exited",
	[PH_STATE_DONE] = "done",
};

/* One line per handle; pids as seen from the reader's /proc. */
static void ph_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct pid_namespace *ns = proc_pid_ns(file_inode(m->file)->i_sb);
	struct ph_table *t = file->private_data;
	struct ph_handle *h;
	unsigned long id = 0;
	int status;
	u32 state;

	for (;;) {
		rcu_read_lock();
		h = xa_find(&t->handles, &id, ULONG_MAX, XA_PRESENT);
		if (h && !kref_get_unless_zero(&h->ref))
			h = ERR_PTR(-ENOENT);	/* being freed: skip */
		rcu_read_unlock();
		if (!h)
			break;
		if (!IS_ERR(h)) {
			state = ph_handle_state(h, &status);
			seq_printf(m, "handle:\t%llu\tpid:\t%d\tstate:\t%s\n",
				   h->id, pid_nr_ns(h->pid, ns),
				   ph_state_names[state]);
			ph_handle_put(h);
		}
		if (id == ULONG_MAX)
			break;
		id++;
	}
}

const struct file_operations ph_fops = {
	.owner = THIS_MODULE,
	.open = ph_open,
	.release = ph_release,
	.read = ph_read,
	.poll = ph_poll,
	.unlocked_ioctl = ph_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.show_fdinfo = ph_show_fdinfo,
};
