/* SPDX-License-Identifier: GPL-2.0 */
/*
 * prochandle internals: the objects shared by the module's files.
 *
 *   handle.c  the handle and its refcount/status protocol
 *   table.c   the table of one open file: ids, lookup, open/close, fdinfo
 *   watch.c   the exit watch of one process and the delivery of its exit
 *   events.c  the event queue of a table: queue, remove, take
 *   read.c    read() and poll(): the queued records in the table's format
 *   ioctl.c   the ioctls
 *   wait.c    PH_IOC_WAIT and the deadline of a restarted timed WAIT
 *   lifetime.c  kill on release, the life of a handle (SPEC 11)
 *   deadline.c  the deadlines of handles (SPEC 11)
 *   track.c   tracking descendants: the trackers (SPEC 12)
 *   fork.c    forks and execs of tracked processes, FORK and EXEC records
 *   main.c    module setup and teardown, counters, parameters
 *
 * A table (one per open file) maps 64-bit ids to handles.  A handle holds
 * a reference on the exit watch (struct ph_watch) of its process, shared
 * by every handle on that process in every table.  When the process exits
 * its watch delivers the exit to each of its handles: the handle's event
 * is queued in the handle's table.
 */
#ifndef _PROCHANDLE_H
#define _PROCHANDLE_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/percpu_counter.h>
#include <linux/poll.h>
#include <linux/rcupdate.h>
#include <linux/rhashtable-types.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include <linux/prochandle.h>
#include "compat.h"
#include "record.h"

struct pid;

/*
 * Allocations on behalf of a caller: charged to its memory cgroup, and
 * failing with ENOMEM at the cgroup's limit instead of invoking the OOM
 * killer on the caller (SPEC 3: ACQUIRE returns ENOMEM).
 */
#define PH_GFP	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)

/* Hint slots of the event queue's ordered insert (events.c). */
#define PH_EV_HINTS	4

/*
 * A FORK or EXEC record (fork.c), on ph_table.tevents under ev_lock.
 * It holds a reference on each struct pid it names.
 */
struct ph_tev {
	struct list_head node;
	u32 seq;			/* place in the event order */
	u32 type;			/* PH_EVENT_FORK or PH_EVENT_EXEC */
	u32 flags;			/* PH_EVENT_F_* */
	u64 handle;			/* the tracked process's handle */
	u64 child;			/* FORK: the child's handle, or 0 */
	struct pid *pid;		/* the tracked process */
	struct pid *child_pid;		/* FORK: the child, or NULL */
	u64 time;			/* CLOCK_BOOTTIME ns */
};

/* One open /dev/prochandle file. */
struct ph_table {
	struct xarray handles;		/* id -> handle; stores under xa_lock */
	u64 last_id;			/* under xa_lock; ids are never reused */
	unsigned int nr;		/* written under xa_lock: stored handles */
	atomic_t nr_live;		/* published handles (fdinfo) */
	spinlock_t ev_lock;		/* @events, @ev_hint, PH_HF_ON_EVENTS */
	struct list_head events;	/* delivered handles, in exit order */
	struct ph_handle *ev_hint[PH_EV_HINTS]; /* last queued, by seq */
	wait_queue_head_t wq;		/* read() and poll() */
	struct xarray wait_memos;	/* thread id -> timed WAIT memo (wait.c) */
	u32 ev_format;			/* PH_EVENTS_V1 or _V2 (read.c) */
	u32 ev_mask;			/* PH_EVENT_* queued in V2 */
	struct mutex life_lock;		/* adds and removes in @lives */
	struct xarray lives;		/* id -> struct ph_life (lifetime.c) */
	struct list_head tevents;	/* FORK/EXEC records (ev_lock), by seq */
	struct ph_tev lost;		/* the coalesced TRACK_LOST (events.c) */
	bool lost_queued;		/* @lost is on @tevents (ev_lock) */
	struct xarray trackers;		/* id -> struct ph_tracker (track.c) */
	atomic_t nr_trackers;		/* entries in @trackers */
};

/*
 * The exit watch of one process (thread group): the protocol is in
 * watch.c.  task_refs counts the handles' references on watches.
 */
struct ph_watch {
	struct rhash_head node;		/* in the hash, keyed by @pid */
	struct pid *pid;
	struct ph_record *rec;		/* the process's record (record.c) */
	refcount_t ref;			/* handles' references + delivery */
	atomic64_t exit;		/* 0, RECORDING, RECORDED | status */
	u32 seq;			/* exit order, once recorded */
	struct wait_queue_entry wqe;	/* on pid->wait_pidfd */
	wait_queue_head_t waiters;	/* blocked WAITs on its handles */
	struct work_struct work;	/* delivers the exit to @handles */
	spinlock_t lock;		/* @handles, PH_HF_ON_WATCH */
	struct list_head handles;	/* handles the exit is not delivered to */
	struct ph_track __rcu *track;	/* its trackers, once tracked (track.c) */
	struct rcu_head rcu;
};

#define PH_EXIT_RECORDED	BIT_ULL(32)
#define PH_EXIT_RECORDING	BIT_ULL(33)

/* struct ph_handle.flags: the status flag of handle.c, and list places */
#define PH_HF_DONE		BIT(0)	/* a WAIT returned; watch ref dropped */
#define PH_HF_RELEASED		BIT(1)	/* RELEASE won; new calls get EBADF */
#define PH_HF_ON_WATCH		BIT(2)	/* on watch->handles (watch->lock) */
#define PH_HF_ON_EVENTS		BIT(3)	/* on table->events (table->ev_lock) */
#define PH_HF_KILL_ON_RELEASE	BIT(4)	/* acquired so; inherited by tracking */
#define PH_HF_TRACK		BIT(5)	/* has a tracker (track.c) */
#define PH_HF_NEW		BIT(6)	/* stored, not published: lookups fail */

struct ph_handle {
	struct kref ref;		/* table's reference + calls in flight */
	atomic_t flags;			/* PH_HF_* */
	u64 id;
	struct ph_table *table;
	struct ph_watch __rcu *watch;	/* process reference, until dropped */
	struct ph_record *rec;		/* pid, start time, exit record: always */
	union {
		struct list_head node;	/* watch->handles, then table->events */
		struct rcu_head rcu;	/* once freed */
	};
	int status;			/* wait status once delivered or DONE */
	u32 seq;			/* its watch's exit order, once delivered */
};

/* main.c */
extern unsigned int ph_max_handles;
extern struct percpu_counter ph_nr_handles;
extern struct percpu_counter ph_nr_task_refs;
extern atomic_long_t ph_nr_files;
extern atomic_long_t ph_nr_kills;
extern atomic_long_t ph_nr_kills_refused;
extern atomic_long_t ph_nr_track_lost;

/* watch.c */
int ph_watch_init(void);
void ph_watch_teardown(void);
struct ph_watch *ph_watch_get(struct pid *pid);
void ph_watch_put(struct ph_watch *w);
void ph_watch_link(struct ph_watch *w, struct ph_handle *h);
void ph_watch_unlink(struct ph_watch *w, struct ph_handle *h);
struct ph_watch *ph_watch_lookup(struct pid *tgid);
u32 ph_event_seq_next(void);

/**
 * ph_watch_exited() - Has the exit of a watch's process been recorded?
 * @w: the watch
 * @status: if not NULL and it has, set to the group's wait status
 *
 * Return: true once the exit is recorded (then also ph_watch.seq is set).
 */
static inline bool ph_watch_exited(struct ph_watch *w, int *status)
{
	s64 v = atomic64_read_acquire(&w->exit);

	if (!(v & PH_EXIT_RECORDED))
		return false;
	if (status)
		*status = (int)(u32)v;
	return true;
}

/* handle.c */
int ph_handle_init(void);
void ph_handle_teardown(void);
struct ph_handle *ph_handle_new(struct ph_table *t, struct pid *pid);
struct ph_handle *ph_handle_get(struct ph_table *t, u64 id);
int ph_handle_signal(struct ph_handle *h, u32 state, int sig);
void ph_handle_put(struct ph_handle *h);
u32 ph_handle_state(struct ph_handle *h, int *status);
int ph_handle_wait(struct ph_handle *h, u32 flags, ktime_t deadline,
		   int *status);
void ph_handle_set_done(struct ph_handle *h, int status);
int ph_handle_release(struct ph_table *t, u64 id);

/* handle.c's protocol, step 1a: inline in the calls that peek. */
/* The handle published under @id, if any.  Under rcu_read_lock(). */
static __always_inline struct ph_handle *
ph_handle_lookup(struct ph_table *t, u64 id)
{
	XA_STATE(xas, &t->handles, id);
	struct ph_handle *h;

	if ((unsigned long)id != id)	/* 32-bit: beyond the xarray's index */
		return NULL;
	/* xa_load() without its own RCU section; an anchor is NULL. */
	do {
		h = xas_load(&xas);
		if (xa_is_zero(h))
			h = NULL;
	} while (xas_retry(&xas, h));
	return h;
}

/* ph_handle_state() under rcu_read_lock() or a reference. */
static __always_inline u32 ph_handle_state_rcu(struct ph_handle *h,
					       int *status)
{
	struct ph_watch *w = rcu_dereference(h->watch);

	*status = 0;
	if (w)
		return ph_watch_exited(w, status) ? PH_STATE_EXITED :
						    PH_STATE_RUNNING;
	/* ph_handle_set_done() cached the status before clearing ->watch. */
	smp_rmb();
	*status = READ_ONCE(h->status);
	return PH_STATE_DONE;
}

/**
 * ph_handle_peek() - Find a handle for a call that changes nothing (1a).
 * @t: the table
 * @id: the handle id the caller named
 * @state: set to its PH_STATE_*
 * @status: set to its wait status unless @state is PH_STATE_RUNNING, else 0
 *
 * Called under rcu_read_lock(), held until the caller is done with the
 * handle; takes no reference and writes nothing to the handle.  Always
 * inline (GCC left INFO's copy out of line): it is most of INFO, SIGNAL
 * and a no-hang WAIT (bench/README.md).
 *
 * Return: the handle, or NULL if no such handle exists or it was released
 * (the caller's EBADF).
 */
static __always_inline struct ph_handle *
ph_handle_peek(struct ph_table *t, u64 id, u32 *state, int *status)
{
	struct ph_handle *h = ph_handle_lookup(t, id);

	if (!h || (atomic_read(&h->flags) & (PH_HF_NEW | PH_HF_RELEASED)))
		return NULL;
	*state = ph_handle_state_rcu(h, status);
	/* No watch: DONE, or freed after a RELEASE (read after the smp_rmb). */
	if (*state == PH_STATE_DONE &&
	    (atomic_read(&h->flags) & PH_HF_RELEASED))
		return NULL;
	return h;
}

/* table.c */
extern const struct file_operations ph_fops;
int ph_table_reserve(struct ph_table *t, struct ph_handle *h);
void ph_table_unreserve(struct ph_table *t, struct ph_handle *h);
void ph_table_publish(struct ph_table *t, struct ph_handle *h);
struct ph_handle *ph_table_take(struct ph_table *t, u64 id);

/* events.c */
void ph_events_init(struct ph_table *t);
void ph_events_queue(struct ph_handle *h, int status, u32 seq);
void ph_events_remove(struct ph_table *t, struct ph_handle *h);
bool ph_events_want(struct ph_table *t, u32 type);
void ph_events_queue_tev(struct ph_table *t, struct ph_tev *e);
void ph_events_lost(struct ph_table *t, u64 handle, struct pid *pid,
		    struct pid *child);
void ph_tev_free(struct ph_tev *e);
void ph_events_flush(struct ph_table *t);

/* read.c */
int ph_events_set_format(struct ph_table *t, u32 format, u32 mask);
ssize_t ph_events_read(struct file *file, char __user *buf, size_t count,
		       loff_t *ppos);
__poll_t ph_events_poll(struct file *file, poll_table *pt);

/* wait.c */
long ph_ioc_wait(struct ph_table *t, void __user *uarg, size_t usize);
void ph_wait_memos_free(struct ph_table *t);

/* pidfd.c */
struct pid *ph_pidfd_get_pid(int fd);

/* lifetime.c */
int ph_life_acquire(struct ph_table *t, struct ph_handle *h);
void ph_life_release(struct ph_table *t, struct ph_handle *h, bool kill);
struct ph_deadline;
int ph_life_arm(struct ph_table *t, struct ph_handle *h,
		const struct ph_deadline *d);
int ph_life_inherit(struct ph_table *t, struct ph_handle *h,
		    struct ph_handle *parent);
void ph_life_kill_now(struct ph_table *t, struct ph_handle *h);

/* deadline.c */
int ph_dl_init(void);
void ph_dl_teardown(void);

/* track.c */
int ph_track_attach(struct ph_table *t, struct ph_handle *h);
void ph_track_release(struct ph_table *t, struct ph_handle *h);
void ph_track_close(struct ph_table *t);
void ph_track_free(struct ph_watch *w);

/* fork.c */
int ph_track_init(void);
void ph_track_teardown(void);

/* ioctl.c */
long ph_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
int ph_arg_tail(const void __user *uarg, size_t ksize, size_t usize);

/*
 * Copy @n bytes between an ioctl argument and its kernel copy, a word at a
 * time: @n is a multiple of 8 known at compile time, so this is a handful
 * of moves between one access_ok() and one STAC/CLAC pair.  For structs
 * this small, copy_{from,to}_user() cost more than the copy: an
 * out-of-line call into copy_user_generic(), whose string move counts one
 * instruction per byte under QEMU's instruction count (bench/README.md).
 */
static __always_inline int ph_get_words(void *karg, const void __user *uarg,
					size_t n)
{
	const u64 __user *src = uarg;
	u64 *dst = karg;
	size_t i;

	BUILD_BUG_ON(n % sizeof(u64));
	if (!user_read_access_begin(uarg, n))
		return -EFAULT;
#pragma GCC unroll 16
	for (i = 0; i < n / sizeof(u64); i++)
		unsafe_get_user(dst[i], &src[i], efault);
	user_read_access_end();
	return 0;
efault:
	user_read_access_end();
	return -EFAULT;
}

static __always_inline int ph_put_words(void __user *uarg, const void *karg,
					size_t n)
{
	u64 __user *dst = uarg;
	const u64 *src = karg;
	size_t i;

	BUILD_BUG_ON(n % sizeof(u64));
	if (!user_write_access_begin(uarg, n))
		return -EFAULT;
#pragma GCC unroll 16
	for (i = 0; i < n / sizeof(u64); i++)
		unsafe_put_user(src[i], &dst[i], efault);
	user_write_access_end();
	return 0;
efault:
	user_write_access_end();
	return -EFAULT;
}

/**
 * ph_get_arg() - Copy an ioctl's argument in.
 * @karg: the kernel copy
 * @in: how many bytes to copy: the struct's input fields, never more
 *	than its first version's size, which ph_ioctl() checked the caller
 *	passes (every struct but ph_info: the whole struct)
 * @ksize: the size of the struct this module knows
 * @uarg: the caller's struct
 * @usize: its size, from the command
 *
 * A newer, larger struct than @ksize is accepted if the part this module
 * does not know is zero (E2BIG otherwise), as copy_struct_from_user() does.
 *
 * Return: 0, -EFAULT or -E2BIG.
 */
static __always_inline int ph_get_arg(void *karg, size_t in, size_t ksize,
				      const void __user *uarg, size_t usize)
{
	if (unlikely(usize > ksize)) {
		int err = ph_arg_tail(uarg, ksize, usize);

		if (err)
			return err;
	}
	return ph_get_words(karg, uarg, in);
}

#endif /* _PROCHANDLE_H */
