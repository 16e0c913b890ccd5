/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libprochandle: a small C library over /dev/prochandle.
 *
 * A handle pins one process: signals sent and waits done through it can
 * never reach another process that later got the same pid.  Every open of
 * the device is an independent handle table; a handle is a __u64 id inside
 * that table.  See prochandle(4) for the device and libprochandle(3).
 *
 * Design
 * ------
 * The library is fd-based, like libbpf's low-level API (bpf_map_*(fd, ...))
 * and the kernel's own pidfd calls, not object-based like liburing's
 * struct io_uring: the device keeps all of the state, so the library keeps
 * none.  ph_open() returns a plain file descriptor, which is what you hand
 * to poll(2), epoll(7), select(2), dup(2), fork(2) or SCM_RIGHTS without
 * any accessor, and every other call takes that fd.  With no user-space
 * state, every call is thread-safe and async-signal-safe except
 * ph_strerror() (thread-safe, not async-signal-safe).
 *
 * Return values follow liburing and libbpf: 0 (or a count) on success, a
 * negative errno value on failure.  errno itself is left unchanged by a
 * successful call and may be clobbered by a failing one; rely on the
 * return value.  ph_strerror() turns such a value into a message in
 * prochandle's terms.
 *
 * Blocking calls (ph_wait(), ph_read_events() on a blocking fd) are not
 * restarted by the library: a signal delivered to the calling thread makes
 * them return -EINTR, so a program can use signals to interrupt them.
 *
 * Link with -lprochandle (pkg-config --libs libprochandle).
 */
#ifndef PROCHANDLE_H
#define PROCHANDLE_H

#include <sys/types.h>
#include <linux/types.h>
#include <linux/prochandle.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PH_DEVICE_PATH	"/dev/" PH_DEVICE_NAME

/* Flags for ph_open(). */
#define PH_OPEN_NONBLOCK	(1U << 0)	/* O_NONBLOCK: ph_read_events() never blocks */

/**
 * ph_open() - open a new, empty handle table on /dev/prochandle.
 * @flags: 0 or PH_OPEN_NONBLOCK.
 *
 * The fd is opened O_RDWR | O_CLOEXEC (plus O_NONBLOCK with
 * PH_OPEN_NONBLOCK).  It is readable (EPOLLIN) while an exit event is
 * queued, so it can go straight into poll/epoll.  Closing it (ph_close()
 * or close(2) on its last reference) releases every handle in it.
 *
 * Return: the file descriptor (>= 0), or -ENOENT when the device does not
 * exist (module not loaded), -EINVAL for an unknown flag, -EACCES, -EMFILE,
 * -ENFILE, -ENOMEM as open(2) reports them.
 */
int ph_open(unsigned int flags);

/**
 * ph_close() - close a handle table opened with ph_open().
 * @fd: the table.
 *
 * Exactly close(2): handles are released when the last reference to the
 * open file goes away (another process may share it after fork()).
 *
 * Return: 0, or -EBADF.  (-EINTR/-EIO are reported, but the fd is closed
 * regardless and must not be closed again.)
 */
int ph_close(int fd);

/**
 * ph_acquire() - create a handle for a process, by number.
 * @fd: the table.
 * @pid: a process id (thread-group leader) in the caller's pid namespace.
 * @handle: receives the new handle id (never 0) on success.
 *
 * The number is looked up once, now; from then on the handle names that
 * process only.  If the number may already have been reused since you
 * learnt it, use ph_acquire_pinned() instead.
 *
 * Return: 0, or -EINVAL (pid <= 0, or pid names a thread that is not a
 * thread-group leader), -ESRCH (no such process), -EPERM (you could not
 * send it signal 0), -EMFILE (the table holds max_handles handles),
 * -ENOMEM, -EBADF/-ENOTTY (@fd is not an open prochandle device).
 * A zombie (exited, not reaped) can be acquired; it is reported EXITED.
 */
int ph_acquire(int fd, pid_t pid, __u64 *handle);

/**
 * ph_acquire_ns() - create a handle only if the process started at @start_ns.
 * @fd: the table.
 * @pid: the process id.
 * @start_ns: expected start time in ns of CLOCK_BOOTTIME (the caller's time
 *            namespace), as ph_info() reports it in ph_info.start_time.
 * @handle: receives the new handle id.
 *
 * Use this to re-acquire, in another table or another process, exactly the
 * process you saw through a handle earlier.
 *
 * Return: as ph_acquire(); -ESRCH also when the process now numbered @pid
 * started at another time (the number was reused).
 */
int ph_acquire_ns(int fd, pid_t pid, __u64 start_ns, __u64 *handle);

/**
 * ph_acquire_ticks() - create a handle only if the process started at @ticks.
 * @fd: the table.
 * @pid: the process id.
 * @ticks: expected start time in clock ticks since boot, as field 22
 *         (starttime) of /proc/PID/stat and ph_start_ticks() report it.
 * @handle: receives the new handle id.
 *
 * Return: as ph_acquire_ns().
 */
int ph_acquire_ticks(int fd, pid_t pid, __u64 ticks, __u64 *handle);

/**
 * ph_acquire_pinned() - acquire a pid race-free: read its start time, then
 *                       acquire pinned to it.
 * @fd: the table.
 * @pid: the process id.
 * @handle: receives the new handle id.
 *
 * Reads the start time from /proc/PID/stat (ph_start_ticks()) and calls
 * ph_acquire_ticks() with it, so a number that is reused between the two
 * steps is refused with -ESRCH instead of naming the newcomer.  Use this
 * whenever the pid comes from outside (a command line, a pid file).  The
 * remaining window is the one in which you obtained @pid in the first
 * place; close that too by reading the start time when you read the pid.
 *
 * Return: as ph_acquire_ticks(); -ESRCH also when /proc/PID/stat is gone.
 */
int ph_acquire_pinned(int fd, pid_t pid, __u64 *handle);

/**
 * ph_start_ticks() - read a process's start time from /proc/PID/stat.
 * @pid: the process id (> 0).
 * @ticks: receives field 22 (starttime), in clock ticks since boot.
 *
 * Parses robustly: the command name (field 2) may contain spaces and ')',
 * so fields are counted from the last ')' in the line.
 *
 * Return: 0, -EINVAL (pid <= 0), -ESRCH (no such process), -EIO (the
 * line could not be parsed), or another -errno from open/read.
 */
int ph_start_ticks(pid_t pid, __u64 *ticks);

/**
 * ph_release() - drop a handle.
 * @fd: the table.
 * @handle: the handle id.
 *
 * From the moment this returns, new calls naming @handle fail with -EBADF;
 * calls already in flight on it (a thread blocked in ph_wait()) finish
 * normally.  Its exit event, if still unread, is dropped.
 *
 * Return: 0, or -EBADF (unknown or already released handle; of several
 * concurrent releases of one handle exactly one returns 0).
 */
int ph_release(int fd, __u64 handle);

/**
 * ph_signal() - send a signal to the process behind a handle.
 * @fd: the table.
 * @handle: the handle id.
 * @sig: signal number; 0 only checks existence and permission.
 *
 * Permission is checked against the calling thread's credentials now, as
 * kill(2) does.  The signal can never reach a process that reused the pid.
 *
 * Return: 0, or -EBADF (unknown or released handle), -ESRCH (the process
 * has exited, whether or not it was waited for), -EINVAL (invalid signal
 * number), -EPERM (not permitted).
 */
int ph_signal(int fd, __u64 handle, int sig);

/**
 * ph_wait() - wait for a process to exit and get its wait status.
 * @fd: the table.
 * @handle: the handle id.
 * @status: receives the waitpid(2)-encoded status (WIFEXITED(),
 *          WEXITSTATUS(), WIFSIGNALED(), WTERMSIG(), WCOREDUMP() apply);
 *          may be NULL.
 *
 * Blocks until the whole thread group has exited.  Works for any process
 * you acquired, child or not, and does not reap it (its parent still
 * does).  Any number of threads may wait on one handle.  Afterwards the
 * handle is DONE: it keeps the status, ph_signal() fails with -ESRCH and
 * further waits return the same status at once.
 *
 * Return: 0, or -EBADF (unknown or released handle), -EINTR (a signal
 * arrived; not restarted by the library).
 */
int ph_wait(int fd, __u64 handle, int *status);

/**
 * ph_wait_nohang() - get the wait status if the process has exited.
 * @fd: the table.
 * @handle: the handle id.
 * @status: receives the status, as for ph_wait(); may be NULL.
 *
 * Return: 0 (exited; the handle is now DONE), -EAGAIN (still running),
 * -EBADF.
 */
int ph_wait_nohang(int fd, __u64 handle, int *status);

/**
 * ph_wait_timeout() - wait for a process to exit, for at most @timeout_ns.
 * @fd: the table.
 * @handle: the handle id.
 * @timeout_ns: relative timeout in nanoseconds.
 * @status: receives the status, as for ph_wait(); may be NULL.
 *
 * Return: 0, -ETIMEDOUT (still running when the timeout passed), -EINTR,
 * -EBADF.  On -EINTR the caller recomputes the remaining time itself.
 */
int ph_wait_timeout(int fd, __u64 handle, __u64 timeout_ns, int *status);

/**
 * ph_info() - describe a handle, without blocking.
 * @fd: the table.
 * @handle: the handle id.
 * @info: filled in: pid (in the caller's pid namespace, 0 if not visible
 *        there), state (PH_STATE_RUNNING, _EXITED or _DONE), status (the
 *        wait status once not RUNNING, else 0), start_time (ns of
 *        CLOCK_BOOTTIME).  info->handle is set to @handle.
 *
 * Return: 0, or -EBADF (unknown or released handle).
 */
int ph_info(int fd, __u64 handle, struct ph_info *info);

/**
 * ph_read_events() - read queued exit events.
 * @fd: the table.
 * @events: array to fill.
 * @max: its length in records (>= 1).
 *
 * Every handle yields exactly one event, when its process's thread group
 * has exited, in the order of exits.  Blocks while none is queued unless
 * the fd is non-blocking (PH_OPEN_NONBLOCK, or O_NONBLOCK set later);
 * poll for POLLIN/EPOLLIN to wait for several sources at once.
 *
 * Return: the number of records read (>= 1), or -EAGAIN (non-blocking
 * and none queued), -EINTR, -EINVAL (@max is 0).
 */
int ph_read_events(int fd, struct ph_event *events, unsigned int max);

/**
 * ph_strerror() - describe an error returned by this library.
 * @err: a negative errno value as returned (the sign is ignored).
 *
 * Messages speak prochandle's terms: -ESRCH is "no such process", -EBADF
 * "no such handle", -ENOENT from ph_open() "module not loaded: run
 * 'modprobe prochandle'", -EMFILE "handle table full".  Unknown values
 * fall back to strerror(3).
 *
 * Return: a string that stays valid until the next ph_strerror() call in
 * the same thread (static for all known values).
 */
const char *ph_strerror(int err);

/* ---- pidfds (libprochandle 2, SPEC §13) ------------------------------ */

/**
 * ph_acquire_pidfd() - create a handle for the process a pidfd refers to.
 * @fd: the table.
 * @pidfd: a pidfd (pidfd_open(2), clone3(2) CLONE_PIDFD, SO_PEERPIDFD...).
 * @handle: receives the new handle id.
 *
 * No number is involved: the handle is for exactly the pidfd's process,
 * even if its pid was reused or is not visible in your pid namespace.
 * @pidfd stays yours (the handle holds its own reference).
 *
 * Return: 0, or -EBADF (@pidfd is not an open pidfd), -ESRCH (its process
 * was already reaped), -EINVAL (a pidfd for a thread that is not a
 * thread-group leader, or a module without PH_ACQUIRE_PIDFD), -EPERM,
 * -EMFILE, -ENOMEM as ph_acquire().  A zombie is acquired EXITED.
 */
int ph_acquire_pidfd(int fd, int pidfd, __u64 *handle);

/**
 * ph_pidfd() - open a pidfd for the process behind a handle.
 * @fd: the table.
 * @handle: the handle id.
 *
 * For handing the process to APIs that speak pidfd (poll, waitid(P_PIDFD),
 * pidfd_send_signal, pidfd_getfd, SCM_RIGHTS).  The pidfd is never one for
 * another process that reused the number: it is opened by number, and
 * returned only if the handle still reports the process RUNNING after the
 * open (see the argument in prochandle.c).  The pidfd is O_CLOEXEC; the
 * caller closes it.
 *
 * Return: the pidfd (>= 0), or -ESRCH (the process has exited, or is not
 * visible in your pid namespace), -EBADF (unknown or released handle),
 * -EMFILE/-ENFILE/-ENOMEM as pidfd_open(2), -ENOSYS (no pidfd_open).
 */
int ph_pidfd(int fd, __u64 handle);

/*
 * v2 (LIBPROCHANDLE_2): the exit record and event records in format V2.
 *
 * The structs of <linux/prochandle.h> may grow again; these calls take the
 * size of the struct the caller was compiled with, so that a program keeps
 * working with a newer library and with an older or newer module: fields
 * the module does not know are returned as zero, fields the caller does
 * not know are left out.
 */

/**
 * ph_info2() - describe a handle, with its exit record.
 * @fd: the table.
 * @handle: the handle id.
 * @info: filled in as by ph_info(), and info->exit with the exit record
 *        (struct ph_exit): all zero while the process runs; once it has
 *        exited, exit_flags has PH_EXIT_F_VALID and the CPU times, peak
 *        RSS, exit time and, with PH_EXIT_F_KILLER, the killer's pid, uid
 *        and si_code, in the caller's namespaces.  On a module without
 *        exit records info->exit stays all zero.
 * @size: sizeof(*info), at least PH_INFO_SIZE_VER0.
 *
 * ph_info() itself still fills only the first PH_INFO_SIZE_VER0 bytes, as
 * it always did: use ph_info2() to get info->exit.
 *
 * Return: 0, or -EBADF (unknown or released handle), -EINVAL (@size too
 * small).
 */
int ph_info2(int fd, __u64 handle, struct ph_info *info, size_t size);

/**
 * ph_set_events() - choose the format of the events read on a table.
 * @fd: the table.
 * @format: PH_EVENTS_V1 (struct ph_event, what ph_read_events() reads;
 *          the default) or PH_EVENTS_V2 (struct ph_event2, what
 *          ph_read_events2() reads).
 * @mask: in V2, extra event types: PH_EVENT_FORK, PH_EVENT_EXEC (of
 *        tracked processes); 0 in V1.  Exits are always reported.
 *
 * The format belongs to the open file, so every descriptor and process
 * sharing it (dup, fork, SCM_RIGHTS) reads in it; events already queued
 * are read in the new format, none is lost.  Allowed on a read-only fd.
 *
 * Return: 0, or -EINVAL (unknown format or mask bit, a mask in V1),
 * -ENOTTY (a module without event formats).
 */
int ph_set_events(int fd, __u32 format, __u32 mask);

/**
 * ph_read_events2() - read queued events in format V2.
 * @fd: the table, switched to PH_EVENTS_V2 with ph_set_events().
 * @events: array of @max records.
 * @max: its length in records (>= 1).
 * @size: sizeof(*events), at least PH_EVENT2_SIZE_VER0.
 *
 * Like ph_read_events(), but every record is a struct ph_event2: its type
 * (PH_EVENT_EXIT, _FORK, _EXEC), the handle and pid, the event time, and
 * for an exit the wait status and the exit record.  The module's records
 * are stepped through by their own size and stored here @size bytes
 * apart, cut or zero-filled to @size; events[i].size tells how many bytes
 * of each came from the module.  Reading a table still in format V1 this
 * way consumes its events and fails with -EPROTO.
 *
 * Return: the number of records read (>= 1), or -EAGAIN (non-blocking and
 * none queued), -EINTR, -EINVAL (@max is 0 or @size too small), -EPROTO
 * (not V2 records).
 */
int ph_read_events2(int fd, struct ph_event2 *events, unsigned int max,
		    size_t size);

/* ---- v2: lifetime control (SPEC 11; version node LIBPROCHANDLE_2) ---- */

/**
 * ph_acquire_flags() - acquire with any PH_ACQUIRE_* flags.
 * @fd: the table.
 * @pid: the process (a thread-group leader, caller's pid namespace).
 * @flags: PH_ACQUIRE_* bits, for example PH_ACQUIRE_KILL_ON_RELEASE,
 *         optionally with one start-time flag.
 * @start_time: with a start-time flag, the expected start time (ns of
 *              CLOCK_BOOTTIME, or clock ticks with _TICKS); else 0.
 * @handle: set to the new handle.
 *
 * With PH_ACQUIRE_KILL_ON_RELEASE the process is sent SIGKILL when the
 * handle is released: by ph_release(), or when the last descriptor of the
 * table is closed, also when every holder died.  The kill is judged with
 * the credentials the caller has now.
 *
 * Return: 0, or -EINVAL, -ESRCH, -EPERM (may not kill it), -EMFILE,
 * -ENOMEM, -EBADF (table not open for writing).
 */
int ph_acquire_flags(int fd, pid_t pid, __u32 flags, __u64 start_time,
		     __u64 *handle);

/**
 * ph_deadline() - arm (or re-arm) a handle's deadline.
 * @fd: the table.
 * @handle: the handle id.
 * @timeout_ns: from now; 0 cancels the deadline.
 * @sig: sent at the deadline if the process still runs; 0 means SIGKILL.
 * @grace_ns: if not 0, SIGKILL this much later if it still runs.
 *
 * The deadline is kept by the kernel and judged with the caller's
 * credentials of now; releasing the handle (or closing the table) cancels
 * it, unless the handle kills on release, which then kills at once.
 *
 * Return: 0, or -EBADF (unknown or released handle), -ESRCH (already
 * exited), -EPERM (may not send @sig or SIGKILL), -EINVAL (bad signal),
 * -ENOMEM.
 */
int ph_deadline(int fd, __u64 handle, __u64 timeout_ns, int sig,
		__u64 grace_ns);

/**
 * ph_deadline_cancel() - cancel a handle's deadline, if armed.
 * @fd: the table.
 * @handle: the handle id.
 *
 * Return: 0, or -EBADF (unknown or released handle).
 */
int ph_deadline_cancel(int fd, __u64 handle);

/* ---- v2: tracking descendants (SPEC 12; version node LIBPROCHANDLE_2) -- */

/**
 * ph_acquire_track() - acquire a process and track its descendants.
 * @fd: the table.
 * @pid: the process (a thread-group leader, caller's pid namespace).
 * @flags: more PH_ACQUIRE_* bits: 0 or PH_ACQUIRE_KILL_ON_RELEASE.
 * @handle: set to the new handle.
 *
 * Acquires with PH_ACQUIRE_TRACK, pinned race-free to the process that
 * has @pid now as ph_acquire_pinned() does.  Every process it creates
 * from now on (fork, vfork, clone without CLONE_THREAD), and every one
 * those create, gets a handle in @fd before it runs, tracked too and
 * with kill on release if @flags has it.  Their handles are announced by
 * FORK records (struct ph_event2, type PH_EVENT_FORK: @handle the
 * parent's, @child and @child_pid the child's) when the table is in
 * format V2 with PH_EVENT_FORK in its mask (ph_set_events()); a child
 * that could not be tracked (out of memory, max_handles) has a FORK
 * record with @child 0 and PH_EVENT_F_TRACK_LOST, queued in V2 even
 * without PH_EVENT_FORK in the mask.  Processes the caller had before
 * are not acquired: walk /proc/PID/task/TID/children after this call if
 * they matter (a child forked meanwhile is then listed or tracked).
 *
 * Return: as ph_acquire_flags(); -EINVAL from a module without tracking.
 */
int ph_acquire_track(int fd, pid_t pid, __u32 flags, __u64 *handle);

/**
 * ph_event_name() - the name of a V2 record type.
 * @type: struct ph_event2.type.
 *
 * Return: "exit", "fork", "exec", or "unknown" (a newer module's type:
 * skip the record, stepping by its size).
 */
const char *ph_event_name(__u32 type);

#ifdef __cplusplus
}
#endif

#endif /* PROCHANDLE_H */
