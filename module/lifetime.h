/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The life of a handle (lifetime.c), shared with its deadline
 * (deadline.c).  The protocols are stated in those two files.
 */
#ifndef _PROCHANDLE_LIFETIME_H
#define _PROCHANDLE_LIFETIME_H

#include <linux/refcount.h>
#include <linux/timerqueue.h>
#include <linux/types.h>

struct cred;
struct ph_deadline;
struct ph_handle;

struct ph_life {
	refcount_t ref;
	struct ph_handle *h;
	const struct cred *kor_cred;	/* kill on release: the acquirer's */
	/* the deadline, under ph_dl_lock */
	struct timerqueue_node node;
	const struct cred *dl_cred;	/* the armer's */
	u64 grace_ns;
	int sig;
	u32 gen;
	bool queued;
	bool escalate;			/* @node is the SIGKILL after grace */
	bool firing;			/* ph_dl_fire_one() holds @h */
	bool kor_sent;			/* killed on release early (track.c) */
};

/* lifetime.c */
void ph_life_put(struct ph_life *l);
int ph_life_kill(struct ph_handle *h, const struct cred *cred, int sig);

/* deadline.c */
void ph_dl_set(struct ph_life *l, const struct ph_deadline *d);
void ph_dl_cancel(struct ph_life *l);

#endif /* _PROCHANDLE_LIFETIME_H */
