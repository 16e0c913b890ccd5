// SPDX-License-Identifier: GPL-2.0-only
/*
 * Process trees (SPEC 12): the --tree option of wait, watch, kill and run.
 *
 * A tree is one table (format V2, FORK records on) holding a handle
 * acquired with PH_ACQUIRE_TRACK on each root and on each descendant the
 * roots had already when they were acquired (found in
 * /proc/PID/task/TID/children, walked after the parent's acquire, so that
 * a child forked meanwhile is either listed or tracked); every later
 * descendant gets its handle from the kernel, before it runs, and its FORK
 * record tells us.  The tree has ended when every handle's EXIT record
 * has been read: a FORK record always comes before its parent's EXIT and
 * before its child's, so the count of live handles never reaches 0 early.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "record.h"
#include "tree.h"

static int tree_push(struct tree *t, __u64 h, pid_t pid, int root)
{
	struct tree_node *n;

	if (t->nn == t->cap) {
		int cap = t->cap ? 2 * t->cap : 64;

		n = realloc(t->n, (size_t)cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		t->n = n;
		t->cap = cap;
	}
	n = &t->n[t->nn++];
	memset(n, 0, sizeof(*n));
	n->h = h;
	n->pid = pid;
	n->root = root;
	t->live++;
	return 0;
}

static struct tree_node *tree_find(struct tree *t, __u64 h)
{
	int i;

	for (i = t->nn - 1; i >= 0; i--)
		if (t->n[i].h == h)
			return &t->n[i];
	return NULL;
}

/* Is @pid the process of a live node (not acquired twice)? */
static int tree_has_pid(const struct tree *t, pid_t pid)
{
	int i;

	for (i = 0; i < t->nn; i++)
		if (t->n[i].pid == pid && !t->n[i].done)
			return 1;
	return 0;
}

int tree_open(struct tree *t, __u32 mask, __u32 flags)
{
	int ret;

	memset(t, 0, sizeof(*t));
	t->flags = PH_ACQUIRE_TRACK | flags;
	t->fd = open_device(PH_OPEN_NONBLOCK);
	if (t->fd < 0)
		return -1;
	ret = ph_set_events(t->fd, PH_EVENTS_V2, PH_EVENT_FORK | mask);
	if (ret) {
		msg("--tree: %s (a module without tracking?)", ph_strerror(ret));
		ph_close(t->fd);
		t->fd = -1;
		return -1;
	}
	return 0;
}

void tree_close(struct tree *t)
{
	if (t->fd >= 0)
		ph_close(t->fd);
	t->fd = -1;
	free(t->n);
	t->n = NULL;
}

/* Acquire the children @pid has now, and theirs, with tracking. */
static void tree_walk(struct tree *t, pid_t pid)
{
	char path[64], buf[4096], *p, *end;
	struct dirent *d;
	DIR *dir;
	FILE *f;
	long c;
	__u64 h;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/children",
			 (int)pid, d->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
		for (p = buf; (c = strtol(p, &end, 10)) > 0; p = end) {
			tree_drain(t, NULL, NULL);
			if (tree_has_pid(t, (pid_t)c) ||
			    ph_acquire_flags(t->fd, (pid_t)c, t->flags, 0, &h) ||
			    tree_push(t, h, (pid_t)c, 0))
				continue;
			tree_walk(t, (pid_t)c);
		}
	}
	closedir(dir);
}

int tree_acquire(struct tree *t, const struct target *tg, int root,
		 __u64 *handle)
{
	int ret;

	if (tg->pinned)
		ret = ph_acquire_flags(t->fd, tg->pid, t->flags |
				       PH_ACQUIRE_STARTTIME_TICKS, tg->ticks,
				       handle);
	else
		ret = ph_acquire_flags(t->fd, tg->pid, t->flags, 0, handle);
	if (!ret)
		ret = tree_push(t, *handle, tg->pid, root);
	if (!ret)
		tree_walk(t, tg->pid);
	return ret;
}

int tree_add_root(struct tree *t, pid_t pid, __u64 *handle)
{
	int ret = ph_acquire_flags(t->fd, pid, t->flags, 0, handle);

	return ret ? ret : tree_push(t, *handle, pid, 1);
}

struct tree_drain_ctx {
	struct tree *t;
	tree_event_fn fn;
	void *arg;
};

/* An event_fn: a FORK adds a node, an EXIT ends one; never stops. */
static int tree_event(const struct ph_event2 *e, void *arg)
{
	const struct tree_drain_ctx *c = arg;
	struct tree *t = c->t;
	struct tree_node *n = NULL;

	if (e->type == PH_EVENT_FORK && e->child &&
	    !tree_push(t, e->child, e->child_pid, 0))
		n = &t->n[t->nn - 1];
	else if (e->type == PH_EVENT_FORK)
		t->lost++;
	if (e->type == PH_EVENT_EXIT) {
		n = tree_find(t, e->handle);
		if (n && !n->done) {
			n->done = 1;
			n->status = e->status;
			t->live--;
		}
	}
	if (c->fn)
		c->fn(t, n, e, c->arg);
	return 0;
}

int tree_drain(struct tree *t, tree_event_fn fn, void *arg)
{
	struct tree_drain_ctx c = { .t = t, .fn = fn, .arg = arg };

	return read_each_event(t->fd, 1, tree_event, &c);
}

int tree_signal(struct tree *t, int sig)
{
	int i, tried = 0;

	for (i = 0; i < t->nn; i++) {
		struct tree_node *n = &t->n[i];

		if (n->done || n->signalled == sig + 1)
			continue;
		n->signalled = sig + 1;
		n->err = ph_signal(t->fd, n->h, sig);
		tried++;
	}
	return tried;
}

int tree_wait(struct tree *t, uint64_t deadline, tree_event_fn fn, void *arg)
{
	struct pollfd pfd = { .fd = t->fd, .events = POLLIN };
	uint64_t now;
	int ms, r;

	r = tree_drain(t, fn, arg);
	while (!r && t->live > 0) {
		ms = -1;
		if (deadline) {
			now = now_ns();
			if (now >= deadline)
				return EX_TIMEOUT;
			ms = (int)((deadline - now + 999999) / 1000000);
		}
		r = poll(&pfd, 1, ms);
		if (r < 0 && errno == EINTR) {
			r = 0;
			continue;
		}
		if (r < 0) {
			msg("poll: %s", strerror(errno));
			return EX_FAILURE;
		}
		r = tree_drain(t, fn, arg);
	}
	return r ? EX_FAILURE : 0;
}

/* watch --tree: one line per record. */
void tree_print_event(struct tree *t, const struct tree_node *n,
		      const struct ph_event2 *e, void *arg)
{
	const struct tree_opts *o = arg;
	char name[16];

	(void)t;
	(void)n;
	snprintf(name, sizeof(name), "%d", e->pid);
	switch (e->type) {
	case PH_EVENT_FORK:
		if (o->json)
			printf("{\"pid\":%d,\"event\":\"fork\",\"child\":%d,\"tracked\":%s}\n",
			       e->pid, e->child_pid,
			       e->flags & PH_EVENT_F_TRACK_LOST ? "false" : "true");
		else if (e->flags & PH_EVENT_F_TRACK_LOST)
			printf("%d: forked %d (not tracked: out of handles)\n",
			       e->pid, e->child_pid);
		else
			printf("%d: forked %d\n", e->pid, e->child_pid);
		break;
	case PH_EVENT_EXEC:
		if (o->json)
			printf("{\"pid\":%d,\"event\":\"exec\"}\n", e->pid);
		else
			printf("%d: exec\n", e->pid);
		break;
	case PH_EVENT_EXIT:
		print_end(name, e->status, &e->exit, 0, o->verbose, o->json);
		break;
	}
	fflush(stdout);
}
