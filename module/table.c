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
 * XA_CHUNK_SIZE ids.  An anchor, a reserved entry at the block's first
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
		err = __xa_insert(&t->handles, next, NULL, PH_GFP);
	if (err)
		t->nr--;
	*id = next;
out:
	xa_unlock(&t->handles);
	return err;
}

/**
 * ph_table_unreserve() - Give back an id that ph_table_reserve() reserved.
 * @t: the table
 * @id: the id, never published
 */
void ph_table_unreserve(struct ph_table *t, u64 id)
{
	xa_lock(&t->handles);
	__xa_cmpxchg(&t->handles, id, XA_ZERO_ENTRY, NULL, 0);
	t->nr--;
	xa_unlock(&t->handles);
}

/**
 * ph_table_publish() - Make a handle visible to lookups under its id.
 * @t: the table
 * @h: the handle; h->id is reserved, so this cannot fail
 */
void ph_table_publish(struct ph_table *t, struct ph_handle *h)
{
	xa_lock(&t->handles);
	__xa_store(&t->handles, h->id, h, 0);
	t->nr_live++;
	xa_unlock(&t->handles);
}

/**
 * ph_table_erase() - Take a released handle's id out of the table.
 * @t: the table
 * @id: the id of a published handle
 */
void ph_table_erase(struct ph_table *t, u64 id)
{
	xa_lock(&t->handles);
	__xa_erase(&t->handles, id);
	t->nr--;
	t->nr_live--;
	xa_unlock(&t->handles);
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
	live = t->nr_live;
	xas_for_each(&xas, h, ULONG_MAX) {
		if (xa_is_zero(h))	/* reserved or anchor */
			continue;
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
