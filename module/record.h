/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The exit record of a process: how it ended and what it used (record.c).
 */
#ifndef _PROCHANDLE_RECORD_H
#define _PROCHANDLE_RECORD_H

#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uidgid.h>

struct pid;
struct ph_exit;
struct task_struct;

/* Distinct fatal signals remembered per process, most recent first. */
#define PH_KILLER_SLOTS	4

struct ph_killer {
	struct pid *pid;	/* the sender's thread group, or NULL */
	kuid_t uid;		/* its real uid */
	int code;		/* si_code */
};

/*
 * What every handle on a process needs for its whole life, the process's
 * exit included, once per process: made with its exit watch, referenced
 * by the watch and by each handle.  @pid and @start_time never change;
 * the rest is record.c's (see the protocol there).
 */
struct ph_record {
	refcount_t ref;			/* the watch's + one per handle */
	spinlock_t lock;		/* @sig, @slot, @captured */
	struct pid *pid;		/* the process, for its numbers */
	u64 start_time;			/* CLOCK_BOOTTIME ns, init time ns */
	bool captured;			/* the exit record is filled in */
	u8 sig[PH_KILLER_SLOTS];	/* signal of each slot, 0 if free */
	u8 killer;			/* with PH_EXIT_F_KILLER: the slot */
	u32 flags;			/* PH_EXIT_F_* */
	struct ph_killer slot[PH_KILLER_SLOTS];
	u64 exit_time;			/* CLOCK_BOOTTIME ns, init time ns */
	u64 utime, stime;		/* ns */
	u64 maxrss_kb;
	struct rcu_head rcu;
};

int ph_record_init(void);
void ph_record_teardown(void);

struct ph_record *ph_record_new(struct pid *pid, gfp_t gfp);
struct ph_record *ph_record_get(struct ph_record *r);
void ph_record_put(struct ph_record *r);
void ph_record_capture(struct ph_record *r, struct task_struct *leader,
		       int status);
void ph_record_fill(const struct ph_record *r, struct ph_exit *e);

/*
 * Provided by the exit watch: the record of the process whose thread-group
 * pid is @tgid, if it is watched, else NULL.  Called under rcu_read_lock()
 * from any context; returns no reference (the record is freed only after
 * an RCU grace period).
 */
struct ph_record *ph_watch_record(struct pid *tgid);

#endif /* _PROCHANDLE_RECORD_H */
