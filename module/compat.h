/* SPDX-License-Identifier: GPL-2.0 */
/*
 * prochandle: kernel API differences between the kernels we support.
 *
 * One source tree builds against Debian's 6.1 (bookworm), 6.12 (trixie)
 * and 7.2 (sid) kernels.  Every difference between them lives here, behind
 * a LINUX_VERSION_CODE check, so the rest of module/ is written against
 * one API: the newest spelling where the kernel has one, a ph_ helper where
 * it does not.  Include this header after the kernel headers it adapts.
 *
 * Checked against the headers and Module.symvers of 6.1.0-x (gcc-12),
 * 6.12.107+deb13 (gcc-14) and 7.2.13+deb14 (gcc-16).  Unchanged across all
 * three, so deliberately absent here: struct pid's wait_pidfd, kill_pid
 * (EXPORT_SYMBOL), find_get_pid, find_vpid, get_pid_task, put_pid,
 * pid_nr_ns, pid_vnr, task_active_pid_ns, __put_task_struct,
 * timens_add_boottime_ns (inline), copy_struct_from_user (inline, uses the
 * exported check_zeroed_user), compat_ptr_ioctl, noop_llseek,
 * stream_open/nonseekable_open, miscdevice .groups, signal_struct's
 * group_exit_code and SIGNAL_GROUP_EXIT, task_struct start_time and
 * start_boottime, XArray (__xa_alloc_cyclic, xa_erase), rhashtable_init
 * and percpu_counter_init (macros over the *_noprof/_many symbols since
 * 6.10/6.6), kmem_cache_create (a _Generic macro since 6.12 that still
 * takes the old argument list), call_rcu, kfree_rcu, anon_inode_getfd,
 * timer_delete/timer_delete_sync (in 6.1.y too: use them, del_timer* is gone
 * in 7.2), strscpy (strlcpy is gone in 7.2), wait_event_*_hrtimeout.
 *
 * Also different, but not used by the module (so not wrapped here):
 * class_create() lost its owner argument and class callbacks take const
 * pointers (6.4); no_llseek is gone (6.12: stream_open() is used instead);
 * from_timer() became timer_container_of() (6.16).
 */
#ifndef _PROCHANDLE_COMPAT_H
#define _PROCHANDLE_COMPAT_H

#include <linux/version.h>
#include <linux/hrtimer.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>

/*
 * thread_group_exited(): exported up to 6.8, then removed when pidfd_poll()
 * stopped using it (neither declared nor exported in 6.12 or 7.2).  The
 * replacement is the same test, built from pid_task() (exported) and
 * thread_group_empty() (inline): the group has exited when its leader is
 * gone (reaped) or is a zombie with no live threads left.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 9, 0)
#define ph_thread_group_exited(pid)	thread_group_exited(pid)
#else
static inline bool ph_thread_group_exited(struct pid *pid)
{
	struct task_struct *task;
	bool exited;

	rcu_read_lock();
	task = pid_task(pid, PIDTYPE_PID);
	exited = !task ||
		 (READ_ONCE(task->exit_state) && thread_group_empty(task));
	rcu_read_unlock();
	return exited;
}
#endif

/*
 * hrtimer_init() gave way to hrtimer_setup(), which also sets the callback
 * (6.13; hrtimer_init() is gone in 7.2).
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
static inline void ph_hrtimer_setup(struct hrtimer *timer,
				    enum hrtimer_restart (*fn)(struct hrtimer *),
				    clockid_t clock, enum hrtimer_mode mode)
{
	hrtimer_init(timer, clock, mode);
	timer->function = fn;
}
#else
#define ph_hrtimer_setup(timer, fn, clock, mode) \
	hrtimer_setup(timer, fn, clock, mode)
#endif

#endif /* _PROCHANDLE_COMPAT_H */
