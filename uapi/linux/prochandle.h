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
 *	Since v2 struct ph_info ends with @exit, the exit record (struct
 *	ph_exit): all zero while the process runs, filled in once it has
 *	exited.  A v1-sized INFO (PH_INFO_SIZE_VER0) keeps working.
 *
 * PH_IOC_DEADLINE (struct ph_deadline)				(v2)
 *	Arm, re-arm, or with @timeout_ns 0 cancel, the handle's one deadline:
 *	@timeout_ns from now, if the process still runs, @sig (0: SIGKILL) is
 *	sent to it; if @grace_ns is not 0 and it still runs that much later,
 *	SIGKILL.  Permission is checked now with the caller's credentials,
 *	which are kept and judge the kills when they fire.  Releasing the
 *	handle cancels its deadline.  EBADF: unknown or released handle, or
 *	the file is not open for writing.  ESRCH: arming on a process that
 *	has exited.  EPERM: the caller may not signal it.  EINVAL: bad signal
 *	number, flags or reserved not zero.  ENOMEM.
 *
 * PH_ACQUIRE_KILL_ON_RELEASE						(v2)
 *	The handle sends SIGKILL to its process's thread group when it is
 *	released (RELEASE, or the last close of the file, also when every
 *	holder died), unless the process has exited.  The kill is judged
 *	with the acquirer's credentials kept at ACQUIRE; if they no longer
 *	permit it (the target executed a set-user-ID program) it is skipped
 *	and counted in the sysfs counter kills_refused.  RELEASE returns
 *	after the signal was sent.
 *
 * PH_ACQUIRE_TRACK							(v2)
 *	The process is tracked: every new process (fork, vfork, clone or
 *	clone3 without CLONE_THREAD) that a tracked process creates after
 *	ACQUIRE returned gets a handle in the same table, itself tracked, and
 *	kill on release if its parent's handle has it.  The child's handle
 *	exists before the child runs a user-space instruction.  In format V2,
 *	PH_EVENT_FORK in the event mask queues a FORK record per child
 *	(@handle the parent's handle, @child the child's, @child_pid) and
 *	PH_EVENT_EXEC an EXEC record per successful execve of a tracked
 *	process.  A child whose handle cannot be made (ENOMEM, max_handles)
 *	is not tracked: its FORK record has @child 0 and PH_EVENT_F_TRACK_LOST
 *	and is queued in V2 even without PH_EVENT_FORK in the mask; the sysfs
 *	counter track_lost counts these.  Per process, FORK and EXEC records
 *	come before its EXIT; a child's FORK before the child's own records.
 *
 * The open mode is a right: ACQUIRE, RELEASE, SIGNAL and DEADLINE fail
 * with EBADF on a file not opened for writing.
 *
 * read() returns whole struct ph_event records, one per exited process per
 * handle, in exit order; EINVAL if the buffer cannot hold one; EAGAIN
 * under O_NONBLOCK when none is queued.  poll() reports EPOLLIN while an
 * event is queued.  The event of a released handle is dropped.
 *
 * PH_IOC_SET_EVENTS (struct ph_events)
 *	Choose the record format read() returns on this open file (shared by
 *	every descriptor of it): PH_EVENTS_V1 (struct ph_event, the default)
 *	or PH_EVENTS_V2 (struct ph_event2, which carries the exit record).
 *	In V2 @mask may add PH_EVENT_FORK and PH_EVENT_EXEC records of
 *	tracked processes; exits are always queued.  The switch applies to
 *	every record read afterwards, those already queued included; nothing
 *	queued is lost.  Readers sharing a file must agree on its format.
 *	EINVAL: @format not 0 or 2, a @mask bit in V1, an unknown @mask bit,
 *	reserved not zero.  Allowed on a file opened read-only (it only
 *	chooses how that file's events are read).
 *
 * The exit record (struct ph_exit) tells how a process ended and what it
 * used: its CPU times and peak RSS as its parent's wait4() reports them,
 * the exit time, and, when it died of a signal, who sent that signal
 * (PH_EXIT_F_KILLER) and whether the OOM killer chose it (PH_EXIT_F_OOM).
 * It is captured once per process, when the kernel reports the exit, and
 * survives the reap.  Pids and uids in it are translated into the
 * reader's pid and user namespaces, times into its time namespace.
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
#define PH_ACQUIRE_KILL_ON_RELEASE	(1U << 2)	/* SIGKILL when released */
#define PH_ACQUIRE_TRACK		(1U << 3)	/* track its descendants */
#define PH_ACQUIRE_PIDFD		(1U << 4)	/* pid holds a pidfd */

/**
 * struct ph_acquire - argument of PH_IOC_ACQUIRE
 * @pid: in: process id, in the caller's pid namespace, of a thread-group
 *	leader; with PH_ACQUIRE_PIDFD, a pidfd for one
 * @flags: in: PH_ACQUIRE_STARTTIME or PH_ACQUIRE_STARTTIME_TICKS, or
 *	PH_ACQUIRE_PIDFD, or 0; with PH_ACQUIRE_KILL_ON_RELEASE and
 *	PH_ACQUIRE_TRACK in any combination
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

/* struct ph_exit.exit_flags */
#define PH_EXIT_F_VALID		(1U << 0)	/* the record is filled in */
#define PH_EXIT_F_KILLER	(1U << 1)	/* killer_pid/_uid, kill_code known */
#define PH_EXIT_F_OOM		(1U << 2)	/* the OOM killer chose it */
#define PH_EXIT_F_CORE		(1U << 3)	/* it dumped core (WCOREDUMP) */

/**
 * struct ph_exit - the exit record of a process (v2)
 * @exit_time: CLOCK_BOOTTIME ns, in the reader's time namespace, when the
 *	kernel reported the exit of the whole thread group
 * @utime_ns: user CPU time, as the parent's wait4() reports ru_utime: every
 *	thread of the group plus the children it waited for
 * @stime_ns: system CPU time, the same way (ru_stime)
 * @maxrss_kb: peak resident set size in KiB, as wait4()'s ru_maxrss
 * @killer_pid: when the signal that killed it was sent by a process
 *	(@kill_code SI_USER, SI_QUEUE or SI_TKILL): the sender's pid in the
 *	reader's pid namespace, 0 if not visible there; else 0
 * @killer_uid: that sender's real uid in the reader's user namespace
 *	(the overflow uid if unmapped); else 0
 * @kill_code: the si_code of the signal that killed it (SI_USER,
 *	SI_KERNEL, SEGV_MAPERR, ...), as its own siginfo would have shown;
 *	0 if it was not killed by a signal (note that SI_USER is 0 too:
 *	PH_EXIT_F_KILLER tells them apart)
 * @exit_flags: PH_EXIT_F_*
 *
 * The killer is the sender of the signal numbered WTERMSIG(status), at the
 * last generation of that signal to the thread group (or any of its
 * threads) that the kernel queued before the exit.  PH_EXIT_F_KILLER is
 * set only when that generation was observed (for instance not when the
 * signal was sent before the process was first acquired, nor on a kernel
 * without the signal_generate tracepoint); @killer_pid, @killer_uid and
 * @kill_code are 0 without it.  All zero while the process runs.
 */
struct ph_exit {
	__u64 exit_time;
	__u64 utime_ns;
	__u64 stime_ns;
	__u64 maxrss_kb;
	__s32 killer_pid;
	__u32 killer_uid;
	__s32 kill_code;
	__u32 exit_flags;
};

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
 * @exit: out (v2): the exit record once @state is not PH_STATE_RUNNING,
 *	else all zero; its input value is ignored
 */
struct ph_info {
	__u64 handle;
	__s32 pid;
	__u32 state;
	__s32 status;
	__u32 pad;
	__u64 start_time;
	__u64 reserved[2];
	struct ph_exit exit;
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

/* struct ph_events.format */
#define PH_EVENTS_V1	0	/* struct ph_event records (the default) */
#define PH_EVENTS_V2	2	/* struct ph_event2 records */

/* struct ph_event2.type, and bits of struct ph_events.mask */
#define PH_EVENT_EXIT	(1U << 0)	/* always queued, in both formats */
#define PH_EVENT_FORK	(1U << 1)	/* a tracked process made a child */
#define PH_EVENT_EXEC	(1U << 2)	/* a tracked process executed */

/**
 * struct ph_events - argument of PH_IOC_SET_EVENTS
 * @format: PH_EVENTS_V1 or PH_EVENTS_V2
 * @mask: V2 only: the record types to queue besides exits, PH_EVENT_FORK
 *	and PH_EVENT_EXEC (PH_EVENT_EXIT is accepted and always implied);
 *	must be 0 in V1
 * @reserved: must be zero
 */
struct ph_events {
	__u32 format;
	__u32 mask;
	__u64 reserved[2];
};

/* struct ph_event2.flags */
#define PH_EVENT_F_TRACK_LOST	(1U << 0)	/* FORK: the child is NOT tracked */

/**
 * struct ph_event2 - an event in format V2, as read() returns it
 * @size: bytes of this record, sizeof(struct ph_event2) of the module that
 *	wrote it; a reader steps from record to record by @size and reads
 *	only the fields it knows (a newer module may append fields)
 * @type: PH_EVENT_EXIT, PH_EVENT_FORK or PH_EVENT_EXEC
 * @handle: the handle the event is about
 * @pid: its pid as the reader sees it, 0 if not visible
 * @status: EXIT: the thread group's wait(2) status; else 0
 * @time: CLOCK_BOOTTIME ns (reader's time namespace) of the event; for an
 *	EXIT, @exit.exit_time
 * @child: FORK: the new child's handle, 0 if none was made
 * @child_pid: FORK: the child's pid as the reader sees it; else 0
 * @flags: PH_EVENT_F_*
 * @exit: EXIT: the exit record; else all zero
 */
struct ph_event2 {
	__u32 size;
	__u32 type;
	__u64 handle;
	__s32 pid;
	__s32 status;
	__u64 time;
	__u64 child;
	__s32 child_pid;
	__u32 flags;
	struct ph_exit exit;
};

/**
 * struct ph_deadline - argument of PH_IOC_DEADLINE
 * @handle: the handle
 * @timeout_ns: relative to now; 0 cancels the handle's deadline
 * @sig: sent at the deadline if the process still runs; 0 means SIGKILL
 * @flags: must be zero
 * @grace_ns: then SIGKILL this much later if it still runs; 0: none
 * @reserved: must be zero
 */
struct ph_deadline {
	__u64 handle;
	__u64 timeout_ns;
	__s32 sig;
	__u32 flags;
	__u64 grace_ns;
	__u64 reserved;
};

/* First published size of each struct, for extensible-struct checks. */
#define PH_ACQUIRE_SIZE_VER0	40
#define PH_SIGNAL_SIZE_VER0	24
#define PH_WAIT_SIZE_VER0	32
#define PH_INFO_SIZE_VER0	48
#define PH_RELEASE_SIZE_VER0	8
#define PH_INFO_SIZE_VER1	96	/* v2: with struct ph_exit */
#define PH_EVENTS_SIZE_VER0	24
#define PH_EVENT2_SIZE_VER0	96
#define PH_DEADLINE_SIZE_VER0	40

#define PH_IOC_ACQUIRE	_IOWR(PH_IOC_MAGIC, 0x01, struct ph_acquire)
#define PH_IOC_RELEASE	_IOW(PH_IOC_MAGIC, 0x02, __u64)
#define PH_IOC_SIGNAL	_IOW(PH_IOC_MAGIC, 0x03, struct ph_signal)
#define PH_IOC_WAIT	_IOWR(PH_IOC_MAGIC, 0x04, struct ph_wait)
#define PH_IOC_INFO	_IOWR(PH_IOC_MAGIC, 0x05, struct ph_info)
#define PH_IOC_SET_EVENTS _IOW(PH_IOC_MAGIC, 0x06, struct ph_events)
#define PH_IOC_DEADLINE	_IOW(PH_IOC_MAGIC, 0x07, struct ph_deadline)

#endif /* _UAPI_LINUX_PROCHANDLE_H */
