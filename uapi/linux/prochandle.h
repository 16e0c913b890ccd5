/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * prochandle: refcounted process handles.
 *
 * A process id is a number the kernel recycles; a handle pins the process
 * it was acquired for.  Open /dev/prochandle to get a handle table; every
 * open file is an independent table, shared by fork() and SCM_RIGHTS.
 *
 * PH_IOC_ACQUIRE (struct ph_acquire)
 *	Create a handle for the thread-group leader @pid (caller's pid
 *	namespace).  EINVAL: pid <= 0, unknown flag, both start-time flags,
 *	reserved not zero, or @pid names a non-leader thread.  ESRCH: no such
 *	process, or PH_ACQUIRE_STARTTIME[_TICKS] and its start time differs.
 *	EPERM: the caller may not send it signal 0 (kill(2) rules, LSM hooks
 *	included).  EMFILE: the table holds max_handles handles.  ENOMEM.
 *	A zombie can be acquired; its handle starts in PH_STATE_EXITED.
 *	Handle ids are never 0 and never reused within one open file.
 *	With PH_ACQUIRE_PIDFD, @pid holds a pidfd (pidfd_open(2), clone3(2)
 *	CLONE_PIDFD, SO_PEERPIDFD...) and the handle is for exactly its
 *	process, with no number involved (it need not be visible in the
 *	caller's pid namespace).  EBADF: @pid is not an open pidfd.  ESRCH:
 *	its process was already reaped.  EINVAL: with a start-time flag.
 *	EPERM as above: holding a pidfd grants nothing kill(2) would not.
 *
 * PH_IOC_RELEASE (__u64 handle)
 *	Drop the handle.  New calls naming it fail with EBADF from the moment
 *	this returns; calls already in flight finish normally.  Of concurrent
 *	releases of one handle exactly one returns 0, the others EBADF.
 *
 * PH_IOC_SIGNAL (struct ph_signal)
 *	Send @sig (0 probes) to the process, with the calling thread's
 *	credentials.  EBADF: unknown or released handle.  ESRCH: the process
 *	has exited (never reaches a process that reused its pid).  EINVAL:
 *	bad signal number, flags or reserved.  EPERM: not permitted.
 *
 * PH_IOC_WAIT (struct ph_wait)
 *	Wait until the whole thread group has exited; @status gets its wait(2)
 *	status.  Works for any acquired process, child or not, and does not
 *	reap.  EAGAIN: PH_WAIT_NOHANG and still running.  ETIMEDOUT:
 *	PH_WAIT_TIMEOUT and @timeout_ns (relative) passed.  EINTR: a signal
 *	arrived.  EINVAL: unknown flags, both NOHANG and TIMEOUT, @timeout_ns
 *	without PH_WAIT_TIMEOUT, reserved not zero.  After it returns a status
 *	the handle is PH_STATE_DONE: it keeps the status and pid, drops its
 *	process reference, SIGNAL fails ESRCH, and WAIT returns the same
 *	status at once.  A DONE handle stays in the table until RELEASE.
 *
 * PH_IOC_INFO (struct ph_info)
 *	Report pid (0 if not visible in the caller's pid namespace), state,
 *	status and start time (CLOCK_BOOTTIME ns, caller's time namespace).
 *
 * read() returns whole struct ph_event records, one per exited process per
 * handle, in exit order; EINVAL if the buffer cannot hold one; EAGAIN
 * under O_NONBLOCK when none is queued.  poll() reports EPOLLIN while an
 * event is queued.  The event of a released handle is dropped.
 *
 * Unknown commands fail with ENOTTY and bad pointers with EFAULT.  Every
 * struct may grow: a larger encoded size is accepted when the extra bytes
 * are zero (E2BIG otherwise); a size smaller than the first version is
 * EINVAL.  All layouts are identical for 32-bit and 64-bit user space.
 */
#ifndef _UAPI_LINUX_PROCHANDLE_H
#define _UAPI_LINUX_PROCHANDLE_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define PH_DEVICE_NAME	"prochandle"

/* ioctl magic: free in Documentation/userspace-api/ioctl/ioctl-number.rst */
#define PH_IOC_MAGIC	0xB9

/* struct ph_acquire.flags */
#define PH_ACQUIRE_STARTTIME		(1U << 0)	/* start_time in ns */
#define PH_ACQUIRE_STARTTIME_TICKS	(1U << 1)	/* start_time in ticks */
#define PH_ACQUIRE_PIDFD		(1U << 4)	/* pid holds a pidfd */

/**
 * struct ph_acquire - argument of PH_IOC_ACQUIRE
 * @pid: in: process id, in the caller's pid namespace, of a thread-group
 *	leader; with PH_ACQUIRE_PIDFD, a pidfd for one
 * @flags: in: PH_ACQUIRE_STARTTIME or PH_ACQUIRE_STARTTIME_TICKS, or
 *	PH_ACQUIRE_PIDFD, or 0
 * @start_time: in: the expected start time, with a flag: nanoseconds of
 *	CLOCK_BOOTTIME (PH_ACQUIRE_STARTTIME) or clock ticks as in field 22
 *	of /proc/PID/stat (PH_ACQUIRE_STARTTIME_TICKS), in the caller's time
 *	namespace
 * @handle: out: the new handle, never 0
 * @reserved: must be zero
 */
struct ph_acquire {
	__s32 pid;
	__u32 flags;
	__u64 start_time;
	__u64 handle;
	__u64 reserved[2];
};

/**
 * struct ph_signal - argument of PH_IOC_SIGNAL
 * @handle: the handle
 * @sig: the signal; 0 probes existence and permission
 * @flags: must be zero
 * @reserved: must be zero
 */
struct ph_signal {
	__u64 handle;
	__s32 sig;
	__u32 flags;
	__u64 reserved;
};

/* struct ph_wait.flags */
#define PH_WAIT_NOHANG	(1U << 0)
#define PH_WAIT_TIMEOUT	(1U << 1)

/**
 * struct ph_wait - argument of PH_IOC_WAIT
 * @handle: the handle
 * @flags: in: PH_WAIT_NOHANG or PH_WAIT_TIMEOUT, or 0 to block
 * @status: out: the thread group's wait(2)-encoded status
 * @timeout_ns: in: relative timeout with PH_WAIT_TIMEOUT, else zero
 * @reserved: must be zero
 */
struct ph_wait {
	__u64 handle;
	__u32 flags;
	__s32 status;
	__u64 timeout_ns;
	__u64 reserved;
};

/* struct ph_info.state */
#define PH_STATE_RUNNING	0	/* has not exited */
#define PH_STATE_EXITED		1	/* exited; not yet waited through the handle */
#define PH_STATE_DONE		2	/* a WAIT through this handle returned */

/**
 * struct ph_info - argument of PH_IOC_INFO
 * @handle: in: the handle
 * @pid: out: the process id in the caller's pid namespace, 0 if the
 *	process is not visible there
 * @state: out: PH_STATE_*
 * @status: out: the wait status once @state is not PH_STATE_RUNNING, else 0
 * @pad: must be zero
 * @start_time: out: start time, nanoseconds of CLOCK_BOOTTIME in the
 *	caller's time namespace
 * @reserved: must be zero
 */
struct ph_info {
	__u64 handle;
	__s32 pid;
	__u32 state;
	__s32 status;
	__u32 pad;
	__u64 start_time;
	__u64 reserved[2];
};

/**
 * struct ph_event - an exit, as read() returns it (an array of these)
 * @handle: the handle whose process exited
 * @pid: its process id in the reader's pid namespace, 0 if not visible
 * @status: the thread group's wait(2)-encoded status
 */
struct ph_event {
	__u64 handle;
	__s32 pid;
	__s32 status;
};

/* First published size of each struct, for extensible-struct checks. */
#define PH_ACQUIRE_SIZE_VER0	40
#define PH_SIGNAL_SIZE_VER0	24
#define PH_WAIT_SIZE_VER0	32
#define PH_INFO_SIZE_VER0	48
#define PH_RELEASE_SIZE_VER0	8

#define PH_IOC_ACQUIRE	_IOWR(PH_IOC_MAGIC, 0x01, struct ph_acquire)
#define PH_IOC_RELEASE	_IOW(PH_IOC_MAGIC, 0x02, __u64)
#define PH_IOC_SIGNAL	_IOW(PH_IOC_MAGIC, 0x03, struct ph_signal)
#define PH_IOC_WAIT	_IOWR(PH_IOC_MAGIC, 0x04, struct ph_wait)
#define PH_IOC_INFO	_IOWR(PH_IOC_MAGIC, 0x05, struct ph_info)

#endif /* _UAPI_LINUX_PROCHANDLE_H */
