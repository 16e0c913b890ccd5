/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The trackers of a tracked process (track.c), which the fork and exec
 * probes (fork.c) walk.  The protocol is stated in track.c.
 */
#ifndef _PROCHANDLE_TRACK_H
#define _PROCHANDLE_TRACK_H

#include <linux/jump_label.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>

struct ph_handle;
struct ph_table;
struct ph_watch;

struct ph_track {
	struct mutex mutex;		/* fork works; unlinking trackers */
	spinlock_t lock;		/* @trackers, for the probes */
	struct list_head trackers;
	struct rcu_head rcu;
};

struct ph_tracker {
	struct list_head node;		/* on ph_track.trackers */
	struct ph_handle *h;		/* the tracking handle */
	struct ph_table *table;
	struct ph_watch *w;		/* referenced: its process's watch */
};

/* Enabled while some table has a tracker: the probes' first test. */
DECLARE_STATIC_KEY_FALSE(ph_tracking);

#endif /* _PROCHANDLE_TRACK_H */
