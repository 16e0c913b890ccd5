/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Process trees for wait, watch, kill and run --tree (tree.c).
 */
#ifndef PROCHANDLE_TREE_H
#define PROCHANDLE_TREE_H

#include <stdint.h>

#include "cli.h"

struct tree_node {
	__u64 h;
	pid_t pid;
	int root;		/* operand index + 1; 0 for a descendant */
	int done;		/* its EXIT record was read */
	int status;
	int signalled;		/* 1 + the last signal tree_signal() sent */
	int err;		/* what sending it returned */
};

struct tree {
	int fd;			/* the table: V2, FORK records on */
	__u32 flags;		/* PH_ACQUIRE_TRACK and the caller's */
	struct tree_node *n;
	int nn, cap;
	int live;		/* handles whose EXIT is not read yet */
	int lost;		/* children that could not be tracked */
};

struct tree_opts {
	int verbose, json;
};

/* Called with each record read; @n is the node it created or ended. */
typedef void (*tree_event_fn)(struct tree *t, const struct tree_node *n,
			      const struct ph_event2 *e, void *arg);

/* Open a table for a tree; @mask adds event types, @flags acquire flags. */
int tree_open(struct tree *t, __u32 mask, __u32 flags);
void tree_close(struct tree *t);
/* Acquire an operand and the descendants it has now, all tracked. */
int tree_acquire(struct tree *t, const struct target *tg, int root,
		 __u64 *handle);
/* Acquire a process not yet running anything (run's child) as a root. */
int tree_add_root(struct tree *t, pid_t pid, __u64 *handle);
/* Read the queued records; @fn (may be NULL) sees each. */
int tree_drain(struct tree *t, tree_event_fn fn, void *arg);
/*
 * Send @sig to every live process of the tree not sent it yet; returns
 * how many it tried (each node's @err says how it went).
 */
int tree_signal(struct tree *t, int sig);
/* Until every handle's EXIT is read: 0, EX_TIMEOUT at @deadline (0: none). */
int tree_wait(struct tree *t, uint64_t deadline, tree_event_fn fn, void *arg);
/* A tree_event_fn printing watch's lines; @arg is a struct tree_opts. */
void tree_print_event(struct tree *t, const struct tree_node *n,
		      const struct ph_event2 *e, void *arg);

#endif /* PROCHANDLE_TREE_H */
