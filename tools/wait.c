// SPDX-License-Identifier: GPL-2.0-only
/*
 * prochandle wait and prochandle watch: acquire every operand, then read
 * the table's exit events until all of them (or, with --any, one) ended;
 * with --tree, every descendant too (tree.c).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "record.h"
#include "tree.h"

struct wait_opts {
	int watch;		/* watch: exit 0 once all ended */
	int any, quiet, verbose, has_timeout;
	int json;		/* --json */
	int v2;			/* events read in format V2 (exit records) */
	int tree;		/* --tree */
	uint64_t deadline;	/* now_ns() when the timeout passes */
};

/* One operand being waited for. */
struct waited {
	struct target t;
	__u64 handle;
	int acquired, done, status;
	__u64 start_time;	/* CLOCK_BOOTTIME ns, from INFO */
};

/* The state of one wait/watch run. */
struct waitset {
	struct waited *w;
	int n;
	int *by_handle;		/* indices of acquired operands, by handle id */
	int acquired, remaining;
	int first;		/* the first operand to end, -1 before */
	int fail;		/* exit code of the last operand that failed */
};

static int parse_wait_opts(int argc, char **argv, struct wait_opts *o)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "any", no_argument, NULL, 'a' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "tree", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t timeout = 0;
	int c;

	while ((c = getopt_long(argc, argv, o->watch ? "+t:vjTh" : "+t:aqvjTh",
				opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (parse_duration(optarg, &timeout))
				return usage_error("'%s': not a duration (e.g. 200ms, 1.5s, 2m)",
						   optarg);
			o->has_timeout = 1;
			break;
		case 'a':
			o->any = 1;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'T':
			o->tree = 1;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			return usage_error("bad option");
		}
	}
	if (o->has_timeout)
		o->deadline = now_ns() + timeout;
	if (o->tree && o->any)
		return usage_error("--any and --tree: wait for one tree at a time");
	return 0;
}

static struct waitset *sort_ctx;

static int cmp_handle(const void *a, const void *b)
{
	__u64 x = sort_ctx->w[*(const int *)a].handle;
	__u64 y = sort_ctx->w[*(const int *)b].handle;

	return x < y ? -1 : x > y;
}

static int find_waited(const struct waitset *s, __u64 handle)
{
	int lo = 0, hi = s->acquired - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		__u64 h = s->w[s->by_handle[mid]].handle;

		if (h == handle)
			return s->by_handle[mid];
		if (h < handle)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* Acquire every operand; 0, or an exit code when none could be. */
static int acquire_all(int fd, struct waitset *s)
{
	int i, ret;

	for (i = 0; i < s->n; i++) {
		struct waited *w = &s->w[i];

		ret = acquire_target(fd, &w->t, &w->handle);
		if (ret) {
			s->fail = target_error(&w->t, ret);
			if (s->fail == EX_FAILURE)
				return EX_FAILURE;
			continue;
		}
		w->acquired = 1;
		s->by_handle[s->acquired++] = i;
	}
	if (!s->acquired)
		return s->fail;
	sort_ctx = s;
	qsort(s->by_handle, (size_t)s->acquired, sizeof(int), cmp_handle);
	return 0;
}

/* Operand @i ended with @status: record it and print it if due. */
static void ended(struct waitset *s, const struct wait_opts *o, int i,
		  int status, const struct ph_exit *e)
{
	struct waited *w = &s->w[i];

	w->done = 1;
	w->status = status;
	if ((s->first < 0 || !o->any) && !o->quiet)
		print_end(w->t.name, status, e, w->start_time, o->verbose, o->json);
	if (s->first < 0)
		s->first = i;
}

/* Those already exited (zombies) are reported now, in argument order. */
static void report_exited(int fd, struct waitset *s, const struct wait_opts *o)
{
	struct ph_info info;
	int i;

	for (i = 0; i < s->n; i++) {
		if (!s->w[i].acquired)
			continue;
		if (ph_info2(fd, s->w[i].handle, &info, sizeof(info)) == 0) {
			s->w[i].start_time = info.start_time;
			if (info.state != PH_STATE_RUNNING) {
				ended(s, o, i, info.status, &info.exit);
				continue;
			}
		}
		s->remaining++;
	}
}

struct drain_ctx {
	struct waitset *s;
	const struct wait_opts *o;
};

/* An event_fn: an operand's exit ends it; with --any, the first stops. */
static int waited_event(const struct ph_event2 *e, void *arg)
{
	const struct drain_ctx *c = arg;
	int k = find_waited(c->s, e->handle);

	if (k >= 0 && !c->s->w[k].done) {
		c->s->remaining--;
		ended(c->s, c->o, k, e->status, &e->exit);
	}
	return c->o->any && c->s->first >= 0;
}

/* Read every queued event; 0 or an exit code. */
static int drain_events(int fd, struct waitset *s, const struct wait_opts *o)
{
	struct drain_ctx c = { .s = s, .o = o };

	return read_each_event(fd, o->v2, waited_event, &c) < 0 ? EX_FAILURE : 0;
}

/* Poll the table until every operand (or, with --any, one) has ended. */
static int event_loop(int fd, struct waitset *s, const struct wait_opts *o)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct timespec ts, *tsp = NULL;
	uint64_t now, left;
	int i, r;

	while (s->remaining && !(o->any && s->first >= 0)) {
		if (o->has_timeout) {
			now = now_ns();
			left = now < o->deadline ? o->deadline - now : 0;
			ts.tv_sec = (time_t)(left / 1000000000ULL);
			ts.tv_nsec = (long)(left % 1000000000ULL);
			tsp = &ts;
		}
		r = ppoll(&pfd, 1, tsp, NULL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			msg("poll: %s", strerror(errno));
			return EX_FAILURE;
		}
		if (r == 0) {
			for (i = 0; i < s->n; i++)
				if (s->w[i].acquired && !s->w[i].done)
					msg("%s: still running, timed out", s->w[i].t.name);
			return EX_TIMEOUT;
		}
		r = drain_events(fd, s, o);
		if (r)
			return r;
	}
	return 0;
}

/* What wait --tree prints: how each operand ended. */
struct wait_tree_ctx {
	const struct wait_opts *o;
	const struct target *t;
};

static void wait_tree_event(struct tree *tr, const struct tree_node *n,
			    const struct ph_event2 *e, void *arg)
{
	const struct wait_tree_ctx *c = arg;

	(void)tr;
	if (e->type == PH_EVENT_EXIT && n && n->root && !c->o->quiet)
		print_end(c->t[n->root - 1].name, e->status, &e->exit, 0,
			  c->o->verbose, c->o->json);
	if (e->type == PH_EVENT_FORK && (e->flags & PH_EVENT_F_TRACK_LOST))
		msg("%d: a child (%d) could not be tracked: not waited for",
		    e->pid, e->child_pid);
}

/* wait/watch --tree: the operands and every descendant (tree.c). */
static int wait_tree(const struct wait_opts *o, const struct target *t, int n)
{
	struct tree_opts to = { .verbose = o->verbose, .json = o->json };
	struct wait_tree_ctx c = { .o = o, .t = t };
	int i, ret, fail = 0, last = -1, rc;
	struct tree tr;
	__u64 h;

	if (tree_open(&tr, o->watch ? PH_EVENT_EXEC : 0, 0))
		return EX_FAILURE;
	for (i = 0; i < n; i++) {
		ret = tree_acquire(&tr, &t[i], i + 1, &h);
		if (ret)
			fail = target_error(&t[i], ret);
		else
			last = i;
	}
	rc = fail;
	if (last < 0)
		goto out;
	if (o->verbose)
		msg("waiting for %d process%s and what they start", tr.live,
		    tr.live == 1 ? "" : "es");
	if (o->watch)
		rc = tree_wait(&tr, o->deadline, tree_print_event, &to);
	else
		rc = tree_wait(&tr, o->deadline, wait_tree_event, &c);
	if (rc == EX_TIMEOUT)
		msg("%d process%s of the tree still running, timed out",
		    tr.live, tr.live == 1 ? "" : "es");
	if (rc)
		goto out;
	rc = fail;
	if (!rc && !o->watch)
		for (i = 0; i < tr.nn; i++)
			if (tr.n[i].root == n)
				rc = status_exit_code(tr.n[i].status);
out:
	tree_close(&tr);
	return rc;
}

static int wait_or_watch(int watch, int argc, char **argv)
{
	struct wait_opts o = { .watch = watch };
	struct waitset s = { .first = -1 };
	struct target *t = NULL;
	int fd = -1, rc, i;

	rc = parse_wait_opts(argc, argv, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	s.n = parse_targets(argc - optind, argv + optind, &t);
	if (s.n < 0)
		return EX_FAILURE;
	s.w = calloc((size_t)s.n, sizeof(*s.w));
	s.by_handle = calloc((size_t)s.n, sizeof(int));
	rc = EX_FAILURE;
	if (!s.w || !s.by_handle) {
		msg("out of memory");
		goto out;
	}
	for (i = 0; i < s.n; i++)
		s.w[i].t = t[i];
	if (o.tree) {
		rc = wait_tree(&o, t, s.n);
		goto out;
	}
	fd = open_device(PH_OPEN_NONBLOCK);
	if (fd < 0)
		goto out;
	/* Exit records for -v and --json (none from a module without them). */
	if ((o.verbose || o.json) && !ph_set_events(fd, PH_EVENTS_V2, 0))
		o.v2 = 1;
	rc = acquire_all(fd, &s);
	if (rc)
		goto out;
	report_exited(fd, &s, &o);
	if (o.verbose)
		msg("waiting for %d process%s", s.remaining,
		    s.remaining == 1 ? "" : "es");
	rc = event_loop(fd, &s, &o);
	if (rc)
		goto out;
	if (s.fail)
		rc = s.fail;
	else if (!watch)
		rc = status_exit_code(s.w[o.any ? s.first : s.n - 1].status);
out:
	/* Closing the table releases every handle. */
	if (fd >= 0)
		ph_close(fd);
	free(s.by_handle);
	free(s.w);
	free(t);
	return rc;
}

int cmd_wait(int argc, char **argv)
{
	return wait_or_watch(0, argc, argv);
}

int cmd_watch(int argc, char **argv)
{
	return wait_or_watch(1, argc, argv);
}
