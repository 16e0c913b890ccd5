// SPDX-License-Identifier: GPL-2.0
/*
 * PH_IOC_WAIT, and how a timed WAIT keeps its deadline across restarts.
 *
 * A WAIT interrupted by a signal returns -ERESTARTNOHAND: EINTR if a
 * handler runs, else (a stop and continue, ptrace, the freezer) the same
 * ioctl is issued again, with the same arguments.  A relative timeout
 * would then start over (SPEC 8 forbids it), so a timed WAIT that is
 * interrupted
 *
 *   - writes the time left back into the caller's ph_wait.timeout_ns, as
 *     select(2) does (a caller that retries after EINTR with the same
 *     struct keeps its deadline too), and
 *   - leaves a memo in the table, keyed by the thread: its absolute
 *     deadline, with the call's argument pointer, handle and the time left
 *     it wrote.  The next timed WAIT of that thread on that table takes
 *     the memo; if it names the same struct, handle and time left (so it
 *     is the restart, or a retry of the same struct) it waits until the
 *     memo's deadline, which does not move while the thread is stopped.
 *
 * A memo costs one small allocation per interrupted thread and table; the
 * next timed WAIT of the thread or the table's release frees it.  If the
 * memo cannot be allocated the call degrades to select(2)'s behaviour; if
 * the time left cannot be written the call returns EINTR.
 */
#include <linux/ktime.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <linux/prochandle.h>
#include "prochandle.h"

#define PH_WAIT_FLAGS	(PH_WAIT_NOHANG | PH_WAIT_TIMEOUT)

struct ph_wait_memo {
	struct task_struct *task;	/* compared only, never dereferenced */
	void __user *uarg;
	u64 handle;
	u64 left;			/* what was written to timeout_ns */
	ktime_t deadline;		/* CLOCK_MONOTONIC */
};

/* The deadline of a timed WAIT: its memo's, if this call restarts it. */
static ktime_t ph_wait_deadline(struct ph_table *t, const struct ph_wait *w,
				void __user *uarg)
{
	struct ph_wait_memo *m = NULL;
	ktime_t deadline;

	if (!xa_empty(&t->wait_memos))
		m = xa_erase(&t->wait_memos, task_pid_nr(current));
	if (m && m->task == current && m->uarg == uarg &&
	    m->handle == w->handle && m->left == w->timeout_ns)
		deadline = m->deadline;
	else
		deadline = ktime_add_safe(ktime_get(),
					  ns_to_ktime(min_t(u64, w->timeout_ns,
							    KTIME_MAX)));
	kfree(m);
	return deadline;
}

/* A timed WAIT was interrupted: see the comment at the top. */
static long ph_wait_interrupted(struct ph_table *t, const struct ph_wait *w,
				void __user *uarg, ktime_t deadline)
{
	s64 left = ktime_to_ns(ktime_sub(deadline, ktime_get()));
	u64 __user *tmo = uarg + offsetof(struct ph_wait, timeout_ns);
	struct ph_wait_memo *m;

	left = max_t(s64, left, 0);
	if (put_user((u64)left, tmo))
		return -EINTR;
	m = kmalloc(sizeof(*m), PH_GFP);
	if (m) {
		m->task = current;
		m->uarg = uarg;
		m->handle = w->handle;
		m->left = left;
		m->deadline = deadline;
		kfree(xa_store(&t->wait_memos, task_pid_nr(current), m, PH_GFP));
	}
	return -ERESTARTNOHAND;
}

/**
 * ph_wait_memos_free() - Free the WAIT memos of a table being released.
 * @t: the table
 */
void ph_wait_memos_free(struct ph_table *t)
{
	struct ph_wait_memo *m;
	unsigned long tid;

	xa_for_each(&t->wait_memos, tid, m)
		kfree(m);
	xa_destroy(&t->wait_memos);
}

/**
 * ph_ioc_wait() - PH_IOC_WAIT.
 * @t: the table
 * @uarg: the caller's struct ph_wait
 * @usize: its size
 *
 * A no-hang WAIT on a running process changes nothing: it only peeks at
 * the handle (handle.c, step 1a).
 *
 * Return: 0 with the status written back, or a negative errno.
 */
long ph_ioc_wait(struct ph_table *t, void __user *uarg, size_t usize)
{
	struct ph_wait __user *uw = uarg;
	struct ph_handle *h;
	ktime_t deadline = 0;
	struct ph_wait w;
	int status;
	u32 state;
	long err;

	err = ph_get_arg(&w, sizeof(w), sizeof(w), uarg, usize);
	if (err)
		return err;
	if (w.flags & ~PH_WAIT_FLAGS || w.flags == PH_WAIT_FLAGS ||
	    w.reserved || (!(w.flags & PH_WAIT_TIMEOUT) && w.timeout_ns))
		return -EINVAL;
	if (w.flags & PH_WAIT_NOHANG) {
		rcu_read_lock();
		h = ph_handle_peek(t, w.handle, &state, &status);
		rcu_read_unlock();
		if (!h)
			return -EBADF;
		if (state == PH_STATE_RUNNING)
			return -EAGAIN;
	}
	h = ph_handle_get(t, w.handle);
	if (!h)
		return -EBADF;
	if (w.flags & PH_WAIT_TIMEOUT)
		deadline = ph_wait_deadline(t, &w, uarg);
	err = ph_handle_wait(h, w.flags, deadline, &status);
	if (err == -ERESTARTNOHAND && (w.flags & PH_WAIT_TIMEOUT))
		err = ph_wait_interrupted(t, &w, uarg, deadline);
	if (!err) {
		if (put_user(status, &uw->status))
			err = -EFAULT;
		else
			ph_handle_set_done(h, status);
	}
	ph_handle_put(h);
	return err;
}
