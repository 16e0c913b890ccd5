// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctls.  Dispatch is on the command's number: the size encoded in
 * the command may be larger than the struct this module knows (the extra
 * bytes must be zero: E2BIG) but not smaller than its first version
 * (EINVAL).  Every flag bit and reserved word is checked before anything
 * changes, so bad input changes nothing.  The open mode is a right: the
 * commands that create, release or signal need a file opened for writing
 * (EBADF otherwise, as write(2) would fail); INFO, WAIT and SET_EVENTS
 * (which only chooses how this file's events are read) do not.
 */
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/minmax.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/time_namespace.h>
#include <linux/uaccess.h>

#include <linux/prochandle.h>
#include "prochandle.h"

#define PH_ACQUIRE_START	(PH_ACQUIRE_STARTTIME | PH_ACQUIRE_STARTTIME_TICKS)
#define PH_ACQUIRE_FLAGS	(PH_ACQUIRE_START | PH_ACQUIRE_PIDFD | \
				 PH_ACQUIRE_KILL_ON_RELEASE | PH_ACQUIRE_TRACK)

/* Clock ticks as field 22 of /proc/PID/stat counts them. */
static u64 ph_ns_to_ticks(u64 ns)
{
	BUILD_BUG_ON(NSEC_PER_SEC % USER_HZ);
	return div_u64(ns, NSEC_PER_SEC / USER_HZ);
}

/*
 * Check that @pid names a thread-group leader the caller may signal and
 * that its start time, in the caller's time namespace, is the expected
 * one.  *@start gets the raw CLOCK_BOOTTIME start time.
 */
static int ph_check_target(struct pid *pid, const struct ph_acquire *a,
			   u64 *start)
{
	struct task_struct *task;
	u64 seen;
	int err = 0;

	rcu_read_lock();
	task = pid_task(pid, PIDTYPE_PID);
	if (!task)
		err = -ESRCH;
	else if (!pid_has_task(pid, PIDTYPE_TGID))
		err = -EINVAL;
	else
		*start = task->start_boottime;
	rcu_read_unlock();
	if (!err)	/* kill(pid, 0): the same permission rule and LSM hook */
		err = kill_pid(pid, 0, 0);
	if (err)	/* before comparing: no start times for the unpermitted */
		return err;

	seen = timens_add_boottime_ns(*start);
	if (a->flags & PH_ACQUIRE_STARTTIME_TICKS)
		seen = ph_ns_to_ticks(seen);
	if ((a->flags & PH_ACQUIRE_START) && seen != a->start_time)
		return -ESRCH;
	return 0;
}

static long ph_ioc_acquire(struct ph_table *t, void __user *uarg,
			   size_t usize)
{
	struct ph_acquire __user *ua = uarg;
	struct ph_acquire a;
	struct ph_handle *h;
	struct pid *pid;
	u64 start;
	int err;

	err = ph_get_arg(&a, sizeof(a), sizeof(a), uarg, usize);
	if (err)
		return err;
	/* One way to name the process: a number (pinned or not) or a pidfd. */
	if (a.flags & ~PH_ACQUIRE_FLAGS ||
	    (a.flags & PH_ACQUIRE_START) == PH_ACQUIRE_START ||
	    ((a.flags & PH_ACQUIRE_PIDFD) && (a.flags & PH_ACQUIRE_START)) ||
	    a.reserved[0] || a.reserved[1] ||
	    (a.start_time && !(a.flags & PH_ACQUIRE_START)) ||
	    (a.pid <= 0 && !(a.flags & PH_ACQUIRE_PIDFD)))
		return -EINVAL;

	if (a.flags & PH_ACQUIRE_PIDFD) {
		pid = ph_pidfd_get_pid(a.pid);	/* EBADF: not a pidfd */
		if (IS_ERR(pid))
			return PTR_ERR(pid);
	} else {
		pid = find_get_pid(a.pid);
		if (!pid)
			return -ESRCH;
	}
	err = ph_check_target(pid, &a, &start);
	if (err)
		goto out;

	/* EMFILE before allocating; exact under the table's lock below. */
	if (READ_ONCE(t->nr) >= READ_ONCE(ph_max_handles)) {
		err = -EMFILE;
		goto out;
	}
	h = ph_handle_new(t, pid);
	if (IS_ERR(h)) {
		err = PTR_ERR(h);
		goto out;
	}
	err = ph_table_reserve(t, h);	/* stored, hidden (PH_HF_NEW) */
	if (err)
		goto put;
	if (put_user(h->id, &ua->handle)) {
		err = -EFAULT;
		goto unreserve;
	}
	if (a.flags & PH_ACQUIRE_KILL_ON_RELEASE) {
		err = ph_life_acquire(t, h);	/* the caller's credentials */
		if (err)
			goto unreserve;
	}
	if (a.flags & PH_ACQUIRE_TRACK) {
		err = ph_track_attach(t, h);	/* the last that can fail */
		if (err) {
			atomic_or(PH_HF_RELEASED, &h->flags);
			ph_life_release(t, h, false);
			goto unreserve;
		}
	}
	/* Nothing can fail from here: link to the exit watch, then publish. */
	ph_watch_link(rcu_dereference_protected(h->watch, true), h);
	ph_table_publish(t, h);
	goto out;
unreserve:
	ph_table_unreserve(t, h);
put:
	ph_handle_put(h);
out:
	put_pid(pid);
	return err;
}

static long ph_ioc_release(struct ph_table *t, void __user *uarg,
			   size_t usize)
{
	u64 id;
	int err;

	err = ph_get_arg(&id, sizeof(id), sizeof(id), uarg, usize);
	return err ?: ph_handle_release(t, id);
}

/* SIGNAL and INFO change nothing: they peek (handle.c, step 1a). */
static long ph_ioc_signal(struct ph_table *t, void __user *uarg,
			  size_t usize)
{
	struct ph_signal s;
	struct ph_handle *h;
	int status;
	u32 state;
	long err;

	err = ph_get_arg(&s, sizeof(s), sizeof(s), uarg, usize);
	if (err)
		return err;
	if (s.flags || s.reserved || !valid_signal(s.sig) || s.sig < 0)
		return -EINVAL;
	rcu_read_lock();
	h = ph_handle_peek(t, s.handle, &state, &status);
	err = h ? ph_handle_signal(h, state, s.sig) : -EBADF;
	rcu_read_unlock();
	return err;
}

static long ph_ioc_info(struct ph_table *t, void __user *uarg,
			size_t usize)
{
	/* Wholly written before it is read: the input part, then the rest. */
	struct ph_info i __uninitialized;
	struct ph_handle *h;
	int err;

	/* Only the first version's part holds input: @exit is output only. */
	BUILD_BUG_ON(offsetof(struct ph_info, exit) != PH_INFO_SIZE_VER0);
	err = ph_get_arg(&i, PH_INFO_SIZE_VER0, sizeof(i), uarg, usize);
	if (err)
		return err;
	if (i.pad || i.reserved[0] || i.reserved[1])
		return -EINVAL;
	rcu_read_lock();
	h = ph_handle_peek(t, i.handle, &i.state, &i.status);
	if (!h) {
		rcu_read_unlock();
		return -EBADF;
	}
	i.pid = pid_vnr(h->rec->pid);
	i.start_time = timens_add_boottime_ns(h->rec->start_time);
	/* Captured before the exit was recorded: all zero while running. */
	if (i.state == PH_STATE_RUNNING)
		memset(&i.exit, 0, sizeof(i.exit));
	else
		ph_record_fill(h->rec, &i.exit);
	rcu_read_unlock();
	if (usize >= sizeof(i))
		return ph_put_words(uarg, &i, sizeof(i));
	/* An earlier, smaller version: a v1 caller's ends before @exit. */
	if (usize == PH_INFO_SIZE_VER0)
		return ph_put_words(uarg, &i, PH_INFO_SIZE_VER0);
	return copy_to_user(uarg, &i, usize) ? -EFAULT : 0;
}

static long ph_ioc_set_events(struct ph_table *t, void __user *uarg,
			      size_t usize)
{
	struct ph_events e;
	int err;

	err = ph_get_arg(&e, sizeof(e), sizeof(e), uarg, usize);
	if (err)
		return err;
	if (e.reserved[0] || e.reserved[1])
		return -EINVAL;
	return ph_events_set_format(t, e.format, e.mask);
}

/* PH_IOC_INFO as v1 programs encode it: the size of its first version. */
#define PH_IOC_INFO_VER0 \
	_IOC(_IOC_READ | _IOC_WRITE, PH_IOC_MAGIC, 0x05, PH_INFO_SIZE_VER0)

#define PH_DEADLINE_FLAGS	0

static long ph_ioc_deadline(struct ph_table *t, void __user *uarg,
			    size_t usize)
{
	struct ph_deadline d;
	struct ph_handle *h;
	int status;
	long err;

	err = ph_get_arg(&d, sizeof(d), sizeof(d), uarg, usize);
	if (err)
		return err;
	if (d.flags & ~PH_DEADLINE_FLAGS || d.reserved || d.sig < 0 ||
	    !valid_signal(d.sig))
		return -EINVAL;
	h = ph_handle_get(t, d.handle);
	if (!h)
		return -EBADF;
	/* As SIGNAL 0, now: kill(2)'s permission rule and LSM hook. */
	if (d.timeout_ns)
		err = ph_handle_signal(h, ph_handle_state(h, &status), 0);
	if (!err)	/* kept with the caller's credentials (lifetime.c) */
		err = ph_life_arm(t, h, &d);
	ph_handle_put(h);
	return err;
}

struct ph_ioc {
	unsigned int cmd;	/* as published: direction, size of VER0 */
	long (*fn)(struct ph_table *t, void __user *uarg, size_t usize);
	bool write;		/* needs a file opened for writing */
};

static const struct ph_ioc ph_iocs[] = {
	[_IOC_NR(PH_IOC_ACQUIRE)] = { PH_IOC_ACQUIRE, ph_ioc_acquire, true },
	[_IOC_NR(PH_IOC_RELEASE)] = { PH_IOC_RELEASE, ph_ioc_release, true },
	[_IOC_NR(PH_IOC_SIGNAL)] = { PH_IOC_SIGNAL, ph_ioc_signal, true },
	[_IOC_NR(PH_IOC_WAIT)] = { PH_IOC_WAIT, ph_ioc_wait, false },
	[_IOC_NR(PH_IOC_INFO)] = { PH_IOC_INFO_VER0, ph_ioc_info, false },
	[_IOC_NR(PH_IOC_SET_EVENTS)] = {
		PH_IOC_SET_EVENTS, ph_ioc_set_events, false },
	[_IOC_NR(PH_IOC_DEADLINE)] = { PH_IOC_DEADLINE, ph_ioc_deadline, true },
};

/**
 * ph_arg_tail() - Check the part of a newer, larger struct that this
 *	module does not know: it must be zero (ph_get_arg()).
 * @uarg: the caller's struct
 * @ksize: the size of the struct this module knows
 * @usize: the caller's size, larger
 *
 * Return: 0, -E2BIG or -EFAULT.
 */
int ph_arg_tail(const void __user *uarg, size_t ksize, size_t usize)
{
	int err = check_zeroed_user(uarg + ksize, usize - ksize);

	if (err <= 0)
		return err ?: -E2BIG;
	return 0;
}

/*
 * Each command copies its own argument in, at its exact size known at
 * compile time (ph_get_arg()), and out; ph_ioctl() checked that the
 * caller's struct is at least the command's first version.  Every struct
 * but ph_info is still its first version; ph_info grew by output fields
 * only, so its input is always the first version's part.
 */
long ph_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	size_t usize = _IOC_SIZE(cmd);
	const struct ph_ioc *ioc;
	unsigned int nr;

	nr = _IOC_NR(cmd);
	if (_IOC_TYPE(cmd) != PH_IOC_MAGIC || nr >= ARRAY_SIZE(ph_iocs) ||
	    !ph_iocs[nr].fn)
		return -ENOTTY;
	ioc = &ph_iocs[nr];
	if (_IOC_DIR(cmd) != _IOC_DIR(ioc->cmd))
		return -ENOTTY;
	if (ioc->write && !(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (usize < _IOC_SIZE(ioc->cmd))
		return -EINVAL;

	BUILD_BUG_ON(sizeof(struct ph_acquire) != PH_ACQUIRE_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct ph_signal) != PH_SIGNAL_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct ph_wait) != PH_WAIT_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct ph_info) != PH_INFO_SIZE_VER1);
	BUILD_BUG_ON(sizeof(struct ph_events) != PH_EVENTS_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct ph_event2) != PH_EVENT2_SIZE_VER0);
	BUILD_BUG_ON(sizeof(__u64) != PH_RELEASE_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct ph_deadline) != PH_DEADLINE_SIZE_VER0);
	return ioc->fn(file->private_data, (void __user *)arg, usize);
}
