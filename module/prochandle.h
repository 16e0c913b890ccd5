/* SPDX-License-Identifier: GPL-2.0 */
/*
 * prochandle internals: the objects shared by the module's files.
 *
 * A table (one per open file) maps 64-bit ids to handles.  A handle pins
 * one process through a per-process exit watch (struct ph_proc) shared by
 * every handle on that process, in every table.  The handle protocol is
 * described in handle.c, the exit watch in proc.c.
 */
#ifndef _PROCHANDLE_H
#define _PROCHANDLE_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/mutex.h>
#include <linux/percpu_counter.h>
#include <linux/rcupdate.h>
#include <linux/rhashtable-types.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include "compat.h"

struct pid;

/* One open /dev/prochandle file. */
struct ph_table {
	struct xarray handles;		/* id -> handle; stores under xa_lock */
	u64 last_id;			/* under xa_lock; ids are never reused */
	unsigned int nr;		/* under xa_lock: live + reserved ids */
	spinlock_t ev_lock;		/* protects @events, handle->on_events */
	struct list_head events;	/* exited handles whose event is unread */
	wait_queue_head_t wq;		/* read() and poll() */
	struct mutex read_lock;		/* one reader at a time */
};

/* The exit watch of one process (thread group). */
struct ph_proc {
	struct rhash_head node;		/* in ph_procs, keyed by @pid */
	struct pid *pid;
	refcount_t ref;			/* handles' process refs + fan-out */
	atomic64_t exit;		/* 0, or PH_PROC_EXITED | (u32)status */
	struct wait_queue_entry wqe;	/* on pid->wait_pidfd */
	struct llist_node exit_node;	/* on the fan-out list, once */
	struct mutex lock;		/* protects @handles, @fanned */
	struct list_head handles;	/* handles whose exit is undelivered */
	bool fanned;			/* exit delivered to @handles */
	struct rcu_head rcu;
};

#define PH_PROC_EXITED	BIT_ULL(32)

/* struct ph_handle.state bits (the status flag of handle.c) */
#define PH_HS_DONE	BIT(0)	/* a WAIT returned the status */
#define PH_HS_RELEASED	BIT(1)	/* RELEASE won; new calls get EBADF */

struct ph_handle {
	struct kref ref;		/* table's reference + calls in flight */
	atomic_t state;			/* PH_HS_* */
	u64 id;
	struct ph_table *table;
	struct ph_proc __rcu *proc;	/* process reference, until dropped */
	struct pid *pid;		/* for pid numbers, whole lifetime */
	u64 start_time;			/* CLOCK_BOOTTIME ns, init time ns */
	union {
		struct list_head node;	/* proc->handles, then table->events */
		struct rcu_head rcu;	/* once freed */
	};
	int status;			/* cached wait status once delivered */
	bool on_proc;			/* under proc->lock */
	bool on_events;			/* under table->ev_lock */
};

/* main.c */
extern unsigned int ph_max_handles;
extern struct percpu_counter ph_nr_handles;
extern struct percpu_counter ph_nr_task_refs;
extern atomic_long_t ph_nr_files;

/* proc.c */
int ph_proc_init(void);
void ph_proc_exit(void);
struct ph_proc *ph_proc_get(struct pid *pid);
void ph_proc_put(struct ph_proc *p);
bool ph_proc_exited(struct ph_proc *p, int *status);
void ph_proc_link(struct ph_proc *p, struct ph_handle *h);
void ph_proc_unlink(struct ph_proc *p, struct ph_handle *h);
void ph_proc_wait_fanned(struct ph_proc *p);

/* handle.c */
int ph_handle_init(void);
void ph_handle_exit(void);
struct ph_handle *ph_handle_new(struct ph_table *t, struct pid *pid,
				u64 start_time);
struct ph_handle *ph_handle_get(struct ph_table *t, u64 id);
void ph_handle_put(struct ph_handle *h);
u32 ph_handle_state(struct ph_handle *h, int *status);
int ph_handle_wait(struct ph_handle *h, u32 flags, u64 timeout_ns,
		   int *status);
void ph_handle_set_done(struct ph_handle *h, int status);
int ph_handle_release(struct ph_table *t, u64 id);
void ph_handle_deliver(struct ph_handle *h, int status);

/* table.c */
extern const struct file_operations ph_fops;
int ph_table_reserve(struct ph_table *t, u64 *id);
void ph_table_unreserve(struct ph_table *t, u64 id);
void ph_table_publish(struct ph_table *t, struct ph_handle *h);
void ph_table_erase(struct ph_table *t, u64 id);
void ph_events_remove(struct ph_table *t, struct ph_handle *h);

/* ioctl.c */
long ph_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

#endif /* _PROCHANDLE_H */
