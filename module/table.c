// SPDX-License-Identifier: GPL-2.0
/*
 * The handle table: one per open /dev/prochandle file.  Ids come from a
 * 64-bit counter and are never reused; the xarray maps them to handles
 * (RCU lookups in handle.c, stores under its lock here).  Also the file's
 * open, last close and fdinfo; its event queue is in events.c.
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

/* Handles listed in fdinfo; then one line "more:<TAB>N". */
#define PH_FDINFO_MAX	1000

/*
 * Ids only grow, so handles come and go in the newest block of
 * XA_CHUNK_SIZE ids.  An anchor, a zero entry at the block's first
 * index (an id never handed out), keeps that block's xarray leaf alive
 * while its handles are released, instead of freeing and allocating the
 * leaf again at every acquire and release of a lone handle.  Each new
 * block moves the anchor; anchors are not handles and do not count.
 */
static int ph_table_move_anchor(struct ph_table *t, unsigned long base)
{
	int err;

	err = __xa_insert(&t->handles, base, NULL, PH_GFP);
	if (!err && base >= XA_CHUNK_SIZE)
		__xa_cmpxchg(&t->handles, base - XA_CHUNK_SIZE, XA_ZERO_ENTRY,
			     NULL, 0);
	return err;
}

/**
 * ph_table_reserve() - Give a new handle the next id and store it, hidden.
 * @t: the table
 * @h: the handle (ph_handle_new()), PH_HF_NEW set
 *
 * The one xarray store of an acquire: @h is in the table from here, but
 * lookups refuse it while PH_HF_NEW is set (handle.c, step 0), so it stays
 * invisible until ph_table_publish().  Sets @h->id.
 *
 * Return: 0, -EMFILE if the table holds max_handles handles (or ran out of
 * ids), or -ENOMEM.
 */
int ph_table_reserve(struct ph_table *t, struct ph_handle *h)
{
	unsigned int max = READ_ONCE(ph_max_handles);
	unsigned long next;
	int err = -EMFILE;

	xa_lock(&t->handles);
	if (t->nr >= max || t->last_id >= ULONG_MAX - 1)
		goto out;
	/* Claim ids and count first: __xa_insert() may drop the lock. */
	WRITE_ONCE(t->nr, t->nr + 1);
	next = ++t->last_id;
	err = 0;
	if (!(next % XA_CHUNK_SIZE)) {
		err = ph_table_move_anchor(t, next);
		next = ++t->last_id;
	}
	h->id = next;
	if (!err)
		err = __xa_insert(&t->handles, next, h, PH_GFP);
	if (err)
		WRITE_ONCE(t->nr, t->nr - 1);
out:
	xa_unlock(&t->handles);
	return err;
}

/**
 * ph_table_unreserve() - Take back a handle that was never published.
 * @t: the table
 * @h: the handle ph_table_reserve() stored; the caller then puts it
 */
void ph_table_unreserve(struct ph_table *t, struct ph_handle *h)
{
	xa_lock(&t->handles);
	__xa_erase(&t->handles, h->id);
	WRITE_ONCE(t->nr, t->nr - 1);
	xa_unlock(&t->handles);
}

/**
 * ph_table_publish() - Make a reserved handle visible to lookups.
 * @t: the table
 * @h: the handle, fully set up; nothing is stored, so this cannot fail
 */
void ph_table_publish(struct ph_table *t, struct ph_handle *h)
{
	atomic_inc(&t->nr_live);
	/* Its setup before the clear: pairs with ph_handle_get()'s acquire. */
	smp_mb__before_atomic();
	atomic_andnot(PH_HF_NEW, &h->flags);
}

/**
 * ph_table_take() - Release a handle and take it out of the table (step 2).
 * @t: the table
 * @id: the handle id the caller named
 *
 * One walk under the table's lock finds the handle, sets PH_HF_RELEASED
 * (one winner: atomic_fetch_or()) and erases the id.  The table's
 * reference passes to the caller.
 *
 * Return: the handle, or NULL if no published handle has that id or it is
 * released (the caller's EBADF).
 */
struct ph_handle *ph_table_take(struct ph_table *t, u64 id)
{
	XA_STATE(xas, &t->handles, id);
	struct ph_handle *h;

	if ((unsigned long)id != id)	/* 32-bit: beyond the xarray's index */
		return NULL;
	xas_lock(&xas);
	h = xas_load(&xas);
	if (!h || xa_is_zero(h) ||
	    (atomic_read(&h->flags) & PH_HF_NEW) ||
	    (atomic_fetch_or(PH_HF_RELEASED, &h->flags) & PH_HF_RELEASED)) {
		h = NULL;
		goto out;
	}
	xas_store(&xas, NULL);
	WRITE_ONCE(t->nr, t->nr - 1);
	atomic_dec(&t->nr_live);
out:
	xas_unlock(&xas);
	return h;
}

static int ph_open(struct inode *inode, struct file *file)
{
	struct ph_table *t;

	t = kzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);
	if (!t)
		return -ENOMEM;
	xa_init(&t->handles);
	xa_init(&t->wait_memos);
	mutex_init(&t->life_lock);
	xa_init(&t->lives);
	xa_init(&t->trackers);
	ph_events_init(t);
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

	ph_track_close(t);	/* first: tracking adds no handle after */
	xa_for_each(&t->handles, id, h) {
		atomic_or(PH_HF_RELEASED, &h->flags);
		ph_events_remove(t, h);
		ph_life_release(t, h, true);
		ph_handle_put(h);
		cond_resched();
	}
	xa_destroy(&t->handles);
	ph_events_flush(t);
	ph_wait_memos_free(t);
	xa_destroy(&t->lives);
	mutex_destroy(&t->life_lock);
	kfree(t);
	atomic_long_dec(&ph_nr_files);
	return 0;
}

static const char * const ph_state_names[] = {
	[PH_STATE_RUNNING] = "running",
	[PH_STATE_EXITED] = "exited",
	[PH_STATE_DONE] = "done",
};

/*
 * One line per handle, for the first PH_FDINFO_MAX handles, then a line
 * "more:<TAB>N" with the number of handles not listed: bounded work however
 * many handles the table holds.  Pids as seen from the reader's /proc.
 * Under xa_lock, where every handle present holds the table's reference:
 * the reader takes no reference, so it never frees a handle.
 */
static void ph_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct pid_namespace *ns = proc_pid_ns(file_inode(m->file)->i_sb);
	struct ph_table *t = file->private_data;
	XA_STATE(xas, &t->handles, 0);
	unsigned int shown = 0, live;
	struct ph_handle *h;
	int status;
	u32 state;

	xa_lock(&t->handles);
	live = atomic_read(&t->nr_live);
	xas_for_each(&xas, h, ULONG_MAX) {
		if (xa_is_zero(h) || (atomic_read(&h->flags) & PH_HF_NEW))
			continue;	/* an anchor, or not published yet */
		if (shown == PH_FDINFO_MAX)
			break;
		state = ph_handle_state(h, &status);
		seq_printf(m, "handle:\t%llu\tpid:\t%d\tstate:\t%s\n",
			   h->id, pid_nr_ns(h->rec->pid, ns), ph_state_names[state]);
		shown++;
	}
	xa_unlock(&t->handles);
	if (live > shown)
		seq_printf(m, "more:\t%u\n", live - shown);
}

const struct file_operations ph_fops = {
	.owner = THIS_MODULE,
	.open = ph_open,
	.release = ph_release,
	.read = ph_events_read,
	.poll = ph_events_poll,
	.unlocked_ioctl = ph_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.show_fdinfo = ph_show_fdinfo,
};
